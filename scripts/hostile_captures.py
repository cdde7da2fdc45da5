#!/usr/bin/env python3
"""Writes hostile TCP captures for scripts/bench-hostile.sh (issue 15).

Every capture is classic pcap, Ethernet, IPv4, one packet per record, timestamps 1 ms apart
(so nothing reaches the 5-minute idle timeout unless asked). Kinds:

  open-N      N connections, each a SYN and one 100-byte data segment, never closed
  closed-N    N connections, each SYN, SYN-ACK, ACK, 100 bytes, FIN, FIN-ACK, ACK
  ooo1b-BYTES one connection: SYN, SYN-ACK, ACK, the first data byte missing, then BYTES-1
              1-byte segments after it (each one out of order until the hole fills)
  ooo-N       one connection whose N 100-byte data segments arrive pairwise swapped
  tftpopen-N  N TFTP reads at once, each a RRQ and a full DATA 1, never finished (UDP)
  tftpdone-N  N TFTP reads one after the other, each RRQ, DATA 1 (100 bytes), ACK 1 (UDP)
  http-N      one keep-alive HTTP connection with N transactions (request, then response)
  pipeline-N  one HTTP connection: N pipelined requests, then the N responses
  udp-N       N UDP conversations, each one 100-byte datagram from its own client address

  python3 scripts/hostile_captures.py DIR [--sizes 50000,200000,500000] [--ooo1b 4194304]
                                        [--kinds open,closed,ooo1b,ooo,http,pipeline,tftpopen,tftpdone,udp] [--keep]

--keep leaves a capture that already exists as it is (the captures are deterministic).
"""

import argparse
import os
import struct

ETH = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


def ip4(a):
    return struct.pack("!I", a)


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb", buffering=1 << 20)
        # pcap header: magic, v2.4, thiszone, sigfigs, snaplen, Ethernet
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.t_us = 1_700_000_000 * 1_000_000

    def tcp(self, src, sport, dst, dport, seq, ack, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0) + payload
        total = 20 + len(tcp)
        ip = struct.pack("!BBHHHBBH", 0x45, 0, total, 0, 0x4000, 64, 6, 0) + ip4(src) + ip4(dst)
        frame = ETH + ip + tcp
        self.t_us += 1000
        self.f.write(struct.pack("<IIII", self.t_us // 1_000_000, self.t_us % 1_000_000,
                                 len(frame), len(frame)))
        self.f.write(frame)

    def udp(self, src, sport, dst, dport, payload):
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        total = 20 + len(udp)
        ip = struct.pack("!BBHHHBBH", 0x45, 0, total, 0, 0x4000, 64, 17, 0) + ip4(src) + ip4(dst)
        frame = ETH + ip + udp
        self.t_us += 1000
        self.f.write(struct.pack("<IIII", self.t_us // 1_000_000, self.t_us % 1_000_000,
                                 len(frame), len(frame)))
        self.f.write(frame)

    def close(self):
        self.f.close()


CLIENT_BASE = 0x0A000000  # 10.0.0.0/8: many client addresses
SERVER = 0xC0000201  # 192.0.2.1
DATA = b"x" * 100


def client(i):
    # 64,000 ports per address: a new address every 64,000 connections.
    return CLIENT_BASE + 1 + i // 64000, 1024 + i % 64000


def open_conns(path, n):
    w = Writer(path)
    for i in range(n):
        c, port = client(i)
        isn = (i * 7919) & 0xFFFFFFFF
        w.tcp(c, port, SERVER, 80, isn, 0, SYN)
        w.tcp(c, port, SERVER, 80, isn + 1, 1, PSH | ACK, DATA)
    w.close()


def closed_conns(path, n):
    w = Writer(path)
    for i in range(n):
        c, port = client(i)
        a, b = (i * 7919) & 0xFFFFFFFF, (i * 104729) & 0xFFFFFFFF
        w.tcp(c, port, SERVER, 80, a, 0, SYN)
        w.tcp(SERVER, 80, c, port, b, a + 1, SYN | ACK)
        w.tcp(c, port, SERVER, 80, a + 1, b + 1, ACK)
        w.tcp(c, port, SERVER, 80, a + 1, b + 1, PSH | ACK, DATA)
        w.tcp(c, port, SERVER, 80, a + 101, b + 1, FIN | ACK)
        w.tcp(SERVER, 80, c, port, b + 1, a + 102, FIN | ACK)
        w.tcp(c, port, SERVER, 80, a + 102, b + 2, ACK)
    w.close()


def ooo_one_byte(path, nbytes):
    w = Writer(path)
    c, s = CLIENT_BASE + 1, SERVER
    a, b = 1000, 5000
    w.tcp(c, 40000, s, 80, a, 0, SYN)
    w.tcp(s, 80, c, 40000, b, a + 1, SYN | ACK)
    w.tcp(c, 40000, s, 80, a + 1, b + 1, ACK)
    # Byte 0 (seq a + 1) is never sent; bytes 1 .. nbytes-1 follow one per segment.
    for k in range(1, nbytes):
        w.tcp(c, 40000, s, 80, a + 1 + k, b + 1, ACK, b"y")
    w.close()


def ooo_pairs(path, n):
    w = Writer(path)
    c, s = CLIENT_BASE + 1, SERVER
    a, b = 1000, 5000
    w.tcp(c, 40000, s, 80, a, 0, SYN)
    w.tcp(s, 80, c, 40000, b, a + 1, SYN | ACK)
    w.tcp(c, 40000, s, 80, a + 1, b + 1, ACK)
    for k in range(0, n - 1, 2):
        w.tcp(c, 40000, s, 80, a + 1 + (k + 1) * 100, b + 1, ACK, DATA)
        w.tcp(c, 40000, s, 80, a + 1 + k * 100, b + 1, ACK, DATA)
    w.close()


def tftp_open(path, n):
    w = Writer(path)
    block = b"y" * 512
    for i in range(n):
        c, port = client(i)
        w.udp(c, port, SERVER, 69, b"\x00\x01" + b"f%d\x00octet\x00" % i)
        w.udp(SERVER, 20000 + i % 40000, c, port, b"\x00\x03\x00\x01" + block)
    w.close()


def tftp_done(path, n):
    w = Writer(path)
    for i in range(n):
        c, port = client(i)
        tid = 20000 + i % 40000
        w.udp(c, port, SERVER, 69, b"\x00\x01" + b"f%d\x00octet\x00" % i)
        w.udp(SERVER, tid, c, port, b"\x00\x03\x00\x01" + DATA)
        w.udp(c, port, SERVER, tid, b"\x00\x04\x00\x01")
    w.close()


def udp_convs(path, n):
    w = Writer(path)
    for i in range(n):
        w.udp(CLIENT_BASE + 1 + i, 1024 + i % 64000, SERVER, 7, DATA)
    w.close()


def http_request(i):
    return b"GET /item/%d HTTP/1.1\r\nHost: bench\r\n\r\n" % i


def http_response(i):
    body = b"item %d\n" % i
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def http_conn(path, n, pipelined):
    w = Writer(path)
    c, s = CLIENT_BASE + 1, SERVER
    a, b = 1000, 5000
    w.tcp(c, 40000, s, 80, a, 0, SYN)
    w.tcp(s, 80, c, 40000, b, a + 1, SYN | ACK)
    a, b = a + 1, b + 1
    w.tcp(c, 40000, s, 80, a, b, ACK)
    if pipelined:
        for i in range(n):
            req = http_request(i)
            w.tcp(c, 40000, s, 80, a, b, PSH | ACK, req)
            a += len(req)
        for i in range(n):
            resp = http_response(i)
            w.tcp(s, 80, c, 40000, b, a, PSH | ACK, resp)
            b += len(resp)
    else:
        for i in range(n):
            req, resp = http_request(i), http_response(i)
            w.tcp(c, 40000, s, 80, a, b, PSH | ACK, req)
            a += len(req)
            w.tcp(s, 80, c, 40000, b, a, PSH | ACK, resp)
            b += len(resp)
    w.tcp(c, 40000, s, 80, a, b, FIN | ACK)
    w.tcp(s, 80, c, 40000, b, a + 1, FIN | ACK)
    w.tcp(c, 40000, s, 80, a + 1, b + 1, ACK)
    w.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("dir")
    p.add_argument("--sizes", default="50000,200000,500000")
    p.add_argument("--ooo1b", default="1048576,4194304")
    p.add_argument("--kinds", default="open,closed,ooo1b,ooo")
    p.add_argument("--keep", action="store_true", help="do not rewrite existing captures")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    kinds = args.kinds.split(",")
    def make(writer, name, n):
        path = os.path.join(args.dir, name)
        if not (args.keep and os.path.exists(path)):
            writer(path, n)

    for n in sizes:
        if "open" in kinds:
            make(open_conns, f"open-{n}.pcap", n)
        if "closed" in kinds:
            make(closed_conns, f"closed-{n}.pcap", n)
        if "ooo" in kinds:
            make(ooo_pairs, f"ooo-{n}.pcap", n)
        if "tftpopen" in kinds:
            make(tftp_open, f"tftpopen-{n}.pcap", n)
        if "tftpdone" in kinds:
            make(tftp_done, f"tftpdone-{n}.pcap", n)
        if "http" in kinds:
            make(lambda p, k: http_conn(p, k, False), f"http-{n}.pcap", n)
        if "pipeline" in kinds:
            make(lambda p, k: http_conn(p, k, True), f"pipeline-{n}.pcap", n)
        if "udp" in kinds:
            make(udp_convs, f"udp-{n}.pcap", n)
    if "ooo1b" in kinds:
        for b in [int(x) for x in args.ooo1b.split(",") if x]:
            make(ooo_one_byte, f"ooo1b-{b}.pcap", b)


if __name__ == "__main__":
    main()

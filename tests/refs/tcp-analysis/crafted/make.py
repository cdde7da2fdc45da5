#!/usr/bin/env python3
"""Writes the crafted captures of tests/refs/tcp-analysis/crafted/ (one TCP connection each,
classic pcap, Ethernet, IPv4), each isolating one rule of Wireshark 4.0's per-packet TCP
analysis where a simpler reading of packet-tcp.c goes wrong. Their reference TSVs
(tests/refs/tcp-analysis/<name>.tsv) are tshark's output, written by
scripts/refs/tcp-analysis.sh like the others (it is run with these files as extra inputs:
  scripts/refs/tcp-analysis.sh tests/refs/tcp-analysis/crafted/*.pcap).

  python3 tests/refs/tcp-analysis/crafted/make.py
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ETH = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
FLAG = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}
CLIENT, SERVER = 0x0A000001, 0x0A000002


def write(name, segments):
    """segments: (microseconds since start, 'c' or 's', seq, ack, flags, payload length,
    window, TCP options bytes)."""
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t_us, side, seq, ack, flags, length, window, options in segments:
            if side == "c":
                src, dst, sport, dport = CLIENT, SERVER, 40000, 80
            else:
                src, dst, sport, dport = SERVER, CLIENT, 80, 40000
            options += b"\x00" * (-len(options) % 4)
            offset = (20 + len(options)) // 4
            bits = sum(FLAG[c] for c in flags)
            tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                              offset << 4, bits, window, 0, 0) + options + b"x" * length
            ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0)
            ip += struct.pack("!II", src, dst)
            frame = ETH + ip + tcp
            secs = 1_700_000_000 + t_us // 1_000_000
            f.write(struct.pack("<IIII", secs, t_us % 1_000_000, len(frame), len(frame)))
            f.write(frame)


def timeline(rows, step=1000):
    """Gives each row a time `step` us after the previous one (a row may carry its own gap as
    a leading number)."""
    out, t = [], 0
    for row in rows:
        if isinstance(row[0], int):
            t += row[0]
            row = row[1:]
        else:
            t += step
        side, seq, ack, flags, length, window = row[:6]
        options = row[6] if len(row) > 6 else b""
        out.append((t, side, seq, ack, flags, length, window, options))
    return out


HANDSHAKE = [
    ("c", 100, 0, "S", 0, 1000),
    ("s", 500, 101, "SA", 0, 2000),
    ("c", 101, 501, "A", 0, 1000),
    ("c", 101, 501, "PA", 10, 1000),
]

# The server acknowledges client bytes the capture never showed, three times, each time right
# after re-sending its FIN: the first two are "ACKed unseen segment"; all three are fast
# retransmissions although the client sent no duplicate ACK (Wireshark marks the client's
# duplicate-ACK counter -1, unsigned, which passes the ">= 2" test).
write("crafted-ack-unseen-fin.pcap", timeline(HANDSHAKE + [
    ("s", 501, 111, "A", 0, 2000),
    ("s", 501, 111, "FA", 0, 2000),
    ("c", 111, 501, "A", 20, 1000),
    (100, "s", 501, 139, "FA", 0, 2000),
    ("c", 139, 501, "A", 20, 1000),
    (100, "s", 501, 159, "FA", 0, 2000),
    ("c", 159, 501, "A", 20, 1000),
    (100, "s", 501, 179, "FA", 0, 2000),
    ("c", 179, 502, "A", 0, 1000),
]))

# Pure ACKs beyond unseen bytes: reported once until the client sends something new; a
# duplicate ACK of the client after that counts from 1 again.
write("crafted-ack-unseen-pure-acks.pcap", timeline(HANDSHAKE + [
    ("s", 501, 121, "A", 0, 2000),
    ("s", 501, 131, "A", 0, 2000),
    ("s", 501, 131, "A", 0, 2000),
    ("c", 131, 501, "PA", 10, 1000),
    ("s", 501, 161, "A", 0, 2000),
    ("c", 141, 501, "A", 0, 1000),
    ("c", 141, 501, "A", 0, 1000),
    ("s", 501, 171, "A", 0, 2000),
    ("c", 141, 501, "A", 0, 1000),
]))

# Spurious retransmissions (everything already acknowledged) are only that, also when they
# would otherwise be out-of-order (frame 6: soon after the highest sequence number) or plain
# retransmissions (frame 14); tshark shows them with a `retransmission` field too.
write("crafted-spurious.pcap", timeline(HANDSHAKE + [
    ("s", 501, 111, "A", 0, 2000),
    (100, "c", 101, 501, "PA", 5, 1000),
    ("c", 111, 501, "PA", 10, 1000),
    ("s", 501, 121, "A", 0, 2000),
    ("c", 121, 501, "PA", 10, 1000),
    ("c", 131, 501, "PA", 10, 1000),
    ("s", 501, 121, "A", 0, 2000),
    ("s", 501, 121, "A", 0, 2000),
    ("s", 501, 141, "A", 0, 2000),
    (100, "c", 121, 501, "PA", 10, 1000),
]))

# A retransmitted SYN (same sequence number) resets the client's highest sequence number to
# its highest acknowledgeable one, so the data that follows is in order, not a retransmission.
# The data carries the ACK flag with ACK number 0, so the server's base is guessed as 2^32 - 1;
# the SYN-ACK's own sequence number then becomes the base and the SYN-ACK is flagged as
# reusing the ports (same stream; Wireshark issue 16944).
write("crafted-syn-retransmission.pcap", timeline([
    ("c", 100, 0, "S", 0, 1000),
    ("c", 111, 0, "PA", 10, 1000),
    (5000, "c", 100, 0, "S", 0, 1000),
    ("c", 101, 0, "PA", 10, 1000),
    ("s", 500, 101, "SA", 0, 2000),
]))

WS7 = b"\x01\x03\x03\x07"
WS2 = b"\x01\x03\x03\x02"
# Window full against the server's SYN-ACK window: until the server sends its first ACK after
# the SYN-ACK, its window is not scaled (Wireshark's is_first_ack), so 2000 bytes fill it.
write("crafted-window-full-first-ack.pcap", timeline([
    ("c", 100, 0, "S", 0, 1000, WS7),
    ("s", 500, 101, "SA", 0, 2000, WS2),
    ("c", 101, 501, "A", 0, 1000),
    ("c", 101, 501, "PA", 1000, 1000),
    ("c", 1101, 501, "PA", 1000, 1000),
    ("s", 501, 2101, "A", 0, 1000),
    ("c", 2101, 501, "PA", 2000, 1000),
    ("c", 4101, 501, "PA", 2000, 1000),
]))

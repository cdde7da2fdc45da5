#!/usr/bin/env python3
"""Writes captures whose size or claimed sizes attack a reader's memory (issues 15 and 16).

usage: gen-capture-bombs.py OUT_DIR [--mb 100]

  idb-flood.pcapng           one pcapng section of tiny (20-byte) Interface Description Blocks,
                             MB megabytes in all, then one packet on interface 0
  idb-flood-sections.pcapng  MB megabytes of sections, each a Section Header Block, 3 IDBs and
                             one Enhanced Packet Block on interface 2
  claim-256mib.pcapng        28 bytes: a Section Header Block whose length field claims 256 MiB
  big-record-9mb.pcap        a classic pcap: a small record, one whole 9 MiB record, a small one

Measure a reader with e.g. `/usr/bin/time -v pcaplab packets OUT_DIR/idb-flood.pcapng`
("Maximum resident set size"). Formats: draft-ietf-opsawg-pcapng (little-endian sections),
draft-ietf-opsawg-pcap.
"""
import argparse
import os
import struct

SHB, IDB, EPB = 0x0A0D0D0A, 0x00000001, 0x00000006


def block(block_type: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def shb() -> bytes:
    # byte-order magic, version 1.0, section length -1 (unknown), no options
    return block(SHB, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(linktype: int = 1, snaplen: int = 0) -> bytes:
    return block(IDB, struct.pack("<HHI", linktype, 0, snaplen))


def udp_frame() -> bytes:
    payload = b"bomb"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), 1, 0, 64, 17, 0,
                     bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
    udp = struct.pack("!HHHH", 40000, 7, 8 + len(payload), 0)
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp + payload


def epb(interface: int, ticks: int, data: bytes) -> bytes:
    head = struct.pack("<IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data))
    return block(EPB, head + data)


def write_idb_flood(path: str, size: int) -> None:
    one = idb()
    with open(path, "wb") as f:
        f.write(shb())
        chunk = one * 65536
        written = len(shb())
        while written + len(chunk) <= size:
            f.write(chunk)
            written += len(chunk)
        while written + len(one) <= size:
            f.write(one)
            written += len(one)
        f.write(epb(0, 1_700_000_000_000_000, udp_frame()))


def write_section_flood(path: str, size: int) -> None:
    unit = shb() + idb() + idb() + idb(113) + epb(2, 1_700_000_000_000_000, udp_frame())
    repeat = max(1, size // len(unit))
    with open(path, "wb") as f:
        batch = unit * 4096
        n = 0
        while n + 4096 <= repeat:
            f.write(batch)
            n += 4096
        f.write(unit * (repeat - n))


def write_claim(path: str) -> None:
    data = bytearray(shb())
    struct.pack_into("<I", data, 4, 256 * 1024 * 1024)
    with open(path, "wb") as f:
        f.write(bytes(data))


def write_big_record(path: str) -> None:
    small = udp_frame()
    big = bytes(i % 251 for i in range(256)) * (9 * 1024 * 1024 // 256)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, data in ((1, small), (2, big), (3, small)):
            f.write(struct.pack("<IIII", ts, 0, len(data), len(data)) + data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--mb", type=int, default=100, help="size of the two floods in megabytes")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    size = args.mb * 1000 * 1000
    write_idb_flood(os.path.join(args.out_dir, "idb-flood.pcapng"), size)
    write_section_flood(os.path.join(args.out_dir, "idb-flood-sections.pcapng"), size)
    write_claim(os.path.join(args.out_dir, "claim-256mib.pcapng"))
    write_big_record(os.path.join(args.out_dir, "big-record-9mb.pcap"))


if __name__ == "__main__":
    main()

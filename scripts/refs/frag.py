#!/usr/bin/env python3
"""IP fragment reassembly references from tshark 4.0 (two passes, default preferences: IPv4 and
IPv6 reassembly on), one TSV per capture, for tests/it/network.rs.

  python3 scripts/refs/frag.py CAPTURE...   (writes tests/refs/frag/<capture file name>.tsv)

One row per frame. Columns (empty when tshark shows no such field):
  frame          frame.number
  version        4 or 6 when the frame is an IP fragment (IPv4 MF or offset; IPv6 Fragment header
                 with offset or M), else empty
  id             ip.id / ipv6.fraghdr.ident, decimal
  offset         fragment offset in bytes (ip.frag_offset / ipv6.fraghdr.offset × 8)
  more           ip.flags.mf / ipv6.fraghdr.more
  fragments      on the frame that completed a datagram: its fragments' frames in tshark's order
                 (fragment offset), from ip.fragment / ip.fragment.error (or ipv6.*), comma-separated
  reassembled_in ip.reassembled_in / ipv6.reassembled.in (on the other fragments)
  length         ip.reassembled.length / ipv6.reassembled.length
  overlap        1 when any fragment shows ip.fragment.overlap (ipv6.fragment.overlap)
  conflict       1 when any fragment shows ip.fragment.overlap.conflict
  transport      udp, tcp, icmp or icmpv6: the transport tshark decoded on this frame (top level)
  sport dport    UDP or TCP ports
  udp_length     udp.length
  tcp_len        tcp.len
  icmp_type      icmp.type / icmpv6.type
  tftp_opcode tftp_block   tftp.opcode, tftp.block
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

COLUMNS = ["frame", "version", "id", "offset", "more", "fragments", "reassembled_in", "length",
           "overlap", "conflict", "transport", "sport", "dport", "udp_length", "tcp_len",
           "icmp_type", "tftp_opcode", "tftp_block"]
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "refs", "frag")


def show(elem, name):
    if elem is None:
        return ""
    for f in elem.iter("field"):
        if f.get("name") == name:
            return f.get("show", "")
    return ""


def number(text):
    if not text:
        return ""
    return str(int(text, 16) if text.startswith("0x") else int(text))


def frag_fields(r, ip, p):
    """Reassembly fields of one IP layer (p = 'ip' or 'ipv6')."""
    lists = [f for f in ip.iter("field") if f.get("name") == p + ".fragments"]
    if lists:
        r["fragments"] = ",".join(
            f.get("show") for f in lists[0]
            if f.get("name") in (p + ".fragment", p + ".fragment.error"))
        r["overlap"] = "1" if any(f.get("name") == p + ".fragment.overlap" and f.get("show") == "1"
                                  for f in lists[0].iter("field")) else ""
        r["conflict"] = "1" if any(f.get("name") == p + ".fragment.overlap.conflict"
                                   and f.get("show") == "1" for f in lists[0].iter("field")) else ""
    r["reassembled_in"] = show(ip, p + ".reassembled_in" if p == "ip" else "ipv6.reassembled.in")
    r["length"] = show(ip, p + ".reassembled.length")


def row(pkt):
    r = dict.fromkeys(COLUMNS, "")
    top = {}
    for proto in pkt:
        top.setdefault(proto.get("name"), proto)
    r["frame"] = show(top.get("frame"), "frame.number")
    ip, ip6 = top.get("ip"), top.get("ipv6")
    if ip is not None:
        offset = int(show(ip, "ip.frag_offset") or 0) * 8
        more = show(ip, "ip.flags.mf")
        if offset or more == "1":
            r.update(version="4", id=number(show(ip, "ip.id")), offset=str(offset), more=more)
        frag_fields(r, ip, "ip")
    elif ip6 is not None:
        ident = show(ip6, "ipv6.fraghdr.ident")
        if ident:
            offset = int(show(ip6, "ipv6.fraghdr.offset") or 0) * 8
            more = show(ip6, "ipv6.fraghdr.more")
            if offset or more == "1":
                r.update(version="6", id=number(ident), offset=str(offset), more=more)
        frag_fields(r, ip6, "ipv6")
    if "udp" in top:
        u = top["udp"]
        r.update(transport="udp", sport=show(u, "udp.srcport"), dport=show(u, "udp.dstport"),
                 udp_length=show(u, "udp.length"))
    elif "tcp" in top:
        t = top["tcp"]
        r.update(transport="tcp", sport=show(t, "tcp.srcport"), dport=show(t, "tcp.dstport"),
                 tcp_len=show(t, "tcp.len"))
    elif "icmp" in top:
        r.update(transport="icmp", icmp_type=show(top["icmp"], "icmp.type"))
    elif "icmpv6" in top:
        r.update(transport="icmpv6", icmp_type=show(top["icmpv6"], "icmpv6.type"))
    if "tftp" in top:
        r.update(tftp_opcode=show(top["tftp"], "tftp.opcode"), tftp_block=show(top["tftp"], "tftp.block"))
    return r


def main():
    os.makedirs(OUT, exist_ok=True)
    for cap in sys.argv[1:]:
        xml = subprocess.run(["tshark", "-2", "-r", cap, "-T", "pdml"], check=True,
                             capture_output=True).stdout
        rows = [row(p) for p in ET.fromstring(xml).iter("packet")]
        path = os.path.join(OUT, os.path.basename(cap) + ".tsv")
        with open(path, "w") as out:
            out.write("\t".join(COLUMNS) + "\n")
            for r in rows:
                out.write("\t".join(r[c] for c in COLUMNS) + "\n")
        print("%s: %d frames, %d reassembled" % (path, len(rows), sum(1 for r in rows if r["fragments"])))


if __name__ == "__main__":
    main()

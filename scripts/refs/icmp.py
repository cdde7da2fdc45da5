#!/usr/bin/env python3
"""ICMP/ICMPv6 error references from tshark 4.0, one TSV per capture, for tests/it/network.rs.

  python3 scripts/refs/icmp.py CAPTURE... > (writes tests/refs/icmp/<capture file name>.tsv)

tshark decodes each capture (`-T pdml`); for every ICMP or ICMPv6 message this keeps the outer
type and code with tshark's names (the words in parentheses of `Type: 3 (Destination
unreachable)` / `Code: 3 (Port unreachable)`, or of `Type: Destination Unreachable (1)` for
ICMPv6), the MTU / pointer / gateway fields, and from the quoted datagram (the IP header nested
inside the ICMP layer): source, destination, upper-layer protocol (the last Next Header for IPv6),
and the UDP/TCP ports, TCP sequence number and quoted ICMP type when tshark decoded them. Empty
means tshark shows no such field.

Two more columns name the datagram each error answers, from tshark's fields only: `q_ip_id` is
the quoted IPv4 Identification (or IPv6 Fragment header identification), and `answers` the latest
earlier frame whose own (outer) IP header has the quoted source, destination, identification and
fragment offset — or, for an IPv6 datagram without a Fragment header (no identification), the
latest earlier frame with the quoted addresses, transport protocol and ports. Empty when no
earlier frame matches.
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

COLUMNS = ["frame", "version", "type", "code", "type_name", "code_name", "mtu", "pointer",
           "gateway", "q_src", "q_dst", "q_proto", "q_sport", "q_dport", "q_tcp_seq", "q_icmp_type",
           "q_ip_id", "answers"]
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "refs", "icmp")


def name_of(showname):
    """`Type: 3 (Destination unreachable)` → `Destination unreachable`;
    `Type: Destination Unreachable (1)` → `Destination Unreachable`."""
    _, _, rest = showname.partition(": ")
    m = re.match(r"^\d+ \((.*)\)$", rest)
    if m:
        return m.group(1)
    m = re.match(r"^(.*) \(\d+\)$", rest)
    if m:
        return m.group(1)
    return ""


def fields(elem, prefix):
    """Direct child fields of a proto element (not those of nested protos)."""
    return [f for f in elem if f.tag == "field" and f.get("name", "").startswith(prefix)]


def first(elem, name):
    for f in elem.iter("field"):
        if f.get("name") == name:
            return f
    return None


def row(frame, icmp, version):
    p = "icmp." if version == 4 else "icmpv6."
    r = dict.fromkeys(COLUMNS + ["_q_offset"], "")
    r["frame"], r["version"] = frame, str(version)
    for f in fields(icmp, p):
        n = f.get("name")
        if n == p + "type":
            r["type"], r["type_name"] = f.get("show"), name_of(f.get("showname", ""))
        elif n == p + "code":
            r["code"], r["code_name"] = f.get("show"), name_of(f.get("showname", ""))
        elif n == p + "mtu":
            r["mtu"] = f.get("show")
        elif n == p + "pointer":
            r["pointer"] = f.get("show")
        elif n == "icmp.redir_gw":
            r["gateway"] = f.get("show")
    inner = [c for c in icmp if c.tag == "proto"]
    for c in inner:
        name = c.get("name")
        if name == "ip":
            for key, field in (("q_src", "ip.src"), ("q_dst", "ip.dst"), ("q_proto", "ip.proto"),
                               ("q_ip_id", "ip.id"), ("_q_offset", "ip.frag_offset")):
                f = first(c, field)
                if f is not None:
                    r[key] = f.get("show")
        elif name == "ipv6":
            for key, field in (("q_src", "ipv6.src"), ("q_dst", "ipv6.dst")):
                f = first(c, field)
                if f is not None:
                    r[key] = f.get("show")
            nxt = [f.get("show") for f in c.iter("field") if f.get("name", "").endswith(".nxt")]
            if nxt:
                r["q_proto"] = nxt[-1]
            for key, field in (("q_ip_id", "ipv6.fraghdr.ident"), ("_q_offset", "ipv6.fraghdr.offset")):
                f = first(c, field)
                if f is not None:
                    r[key] = f.get("show")
        elif name in ("udp", "tcp"):
            for key, field in (("q_sport", name + ".srcport"), ("q_dport", name + ".dstport")):
                f = first(c, field)
                if f is not None:
                    r[key] = f.get("show")
            if name == "tcp":
                f = first(c, "tcp.seq_raw")
                if f is not None:
                    r["q_tcp_seq"] = f.get("show")
        elif name in ("icmp", "icmpv6"):
            f = first(c, name + ".type")
            if f is not None:
                r["q_icmp_type"] = f.get("show")
    return r


def outer(frame, pkt):
    """The frame's own IP identity and transport ports (not those quoted inside ICMP)."""
    o = {"frame": int(frame)}
    for proto in pkt:
        name = proto.get("name")
        if name == "ip":
            for key, field in (("src", "ip.src"), ("dst", "ip.dst"), ("id", "ip.id"),
                               ("offset", "ip.frag_offset"), ("proto", "ip.proto")):
                f = first(proto, field)
                if f is not None:
                    o[key] = f.get("show")
        elif name == "ipv6":
            for key, field in (("src", "ipv6.src"), ("dst", "ipv6.dst"),
                               ("id", "ipv6.fraghdr.ident"), ("offset", "ipv6.fraghdr.offset")):
                f = first(proto, field)
                if f is not None:
                    o[key] = f.get("show")
        elif name in ("udp", "tcp") and "transport" not in o:
            o["transport"] = "17" if name == "udp" else "6"
            for key, field in (("sport", name + ".srcport"), ("dport", name + ".dstport")):
                f = first(proto, field)
                if f is not None:
                    o[key] = f.get("show")
    return o


def answers(r, frames):
    """The latest frame before the error's whose own IP header is the quoted one's."""
    error = int(r["frame"])
    for o in reversed([o for o in frames if o["frame"] < error]):
        if o.get("src") != r["q_src"] or o.get("dst") != r["q_dst"] or not r["q_src"]:
            continue
        if r["q_ip_id"]:
            if o.get("id") == r["q_ip_id"] and o.get("offset", "0") == (r["_q_offset"] or "0"):
                return str(o["frame"])
        elif r["q_sport"] and o.get("transport") == r["q_proto"] \
                and (o.get("sport"), o.get("dport")) == (r["q_sport"], r["q_dport"]):
            return str(o["frame"])
    return ""


def main():
    os.makedirs(OUT, exist_ok=True)
    for cap in sys.argv[1:]:
        xml = subprocess.run(["tshark", "-r", cap, "-T", "pdml"], check=True,
                             capture_output=True).stdout
        rows = []
        frames = []
        for pkt in ET.fromstring(xml).iter("packet"):
            frame = None
            for proto in pkt:
                if proto.get("name") == "frame":
                    frame = first(proto, "frame.number").get("show")
                if proto.get("name") in ("icmp", "icmpv6"):
                    rows.append(row(frame, proto, 4 if proto.get("name") == "icmp" else 6))
            frames.append(outer(frame, pkt))
        for r in rows:
            r["answers"] = answers(r, frames)
        path = os.path.join(OUT, os.path.basename(cap) + ".tsv")
        with open(path, "w") as out:
            out.write("\t".join(COLUMNS) + "\n")
            for r in rows:
                out.write("\t".join(r[c] for c in COLUMNS) + "\n")
        print("%s: %d ICMP messages" % (path, len(rows)))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Writes tshark's per-packet TCP analysis of each capture as a TSV under
# tests/refs/tcp-analysis/ (the reference of tests/it/tcp_analysis.rs): frame number, stream,
# tcp.len, the calculated window, its scale factor, and one column per tcp.analysis.* flag
# (1 when set, empty otherwise), plus the duplicate-ACK number and frame.
#
#   scripts/refs/tcp-analysis.sh            # public corpus (../shared), fixtures/, crafted/
#
# Made with TShark 4.0 (`tshark --version` is written to VERSION.txt). Only TCP segments are kept
# (not the TCP headers that ICMP errors quote: tshark gives those a stream too).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/refs/tcp-analysis
mkdir -p "$out"
tshark --version | head -n 1 > "$out/VERSION.txt"
flags="retransmission fast_retransmission spurious_retransmission out_of_order lost_segment
ack_lost_segment duplicate_ack zero_window zero_window_probe zero_window_probe_ack window_full
window_update keep_alive keep_alive_ack reused_ports"
fields=(-e frame.number -e tcp.stream -e tcp.len -e tcp.window_size -e tcp.window_size_scalefactor)
for f in $flags; do fields+=(-e "tcp.analysis.$f"); done
fields+=(-e tcp.analysis.duplicate_ack_num -e tcp.analysis.duplicate_ack_frame)
header="frame.number	tcp.stream	tcp.len	tcp.window_size	tcp.window_size_scalefactor"
for f in $flags; do header+="	tcp.analysis.$f"; done
header+="	tcp.analysis.duplicate_ack_num	tcp.analysis.duplicate_ack_frame"
for cap in ../shared/captures/public/*.pcap ../shared/captures/public/*.pcapng fixtures/*.pcap fixtures/*.pcapng \
    tests/refs/tcp-analysis/crafted/*.pcap; do
  [ -f "$cap" ] || continue
  name=$(basename "$cap")
  rows=$(tshark -n -r "$cap" -Y "tcp && !icmp && !icmpv6" -T fields -E occurrence=f "${fields[@]}" 2>/dev/null || true)
  [ -n "$rows" ] || continue
  { echo "$header"; echo "$rows"; } > "$out/$name.tsv"
done
echo "wrote $(ls "$out"/*.tsv | wc -l) reference files to $out"

#!/usr/bin/env bash
# Runs the same capture through pcaplab and its tshark / tcpdump counterparts and prints wall time
# and peak memory of each (whole process, output discarded). Ratios are what matter: run both in
# the same session on the same machine.
#
#   scripts/bench-vs-tshark.sh [CAPTURE]
#
# Default capture: /tmp/bench/bench-300k.pcap, made by
#   python3 ../shared/bench/gen-bench.py /tmp/bench/bench-300k.pcap --packets 300000
set -euo pipefail
cd "$(dirname "$0")/.."
f=${1:-/tmp/bench/bench-300k.pcap}
if [ ! -f "$f" ]; then
  mkdir -p "$(dirname "$f")"
  python3 ../shared/bench/gen-bench.py "$f" --packets 300000
fi
cargo build --release --quiet
bin=target/release/pcaplab

measure() {
  local name=$1; shift
  local out
  out=$( { /usr/bin/time -f '%e %M' "$@" > /dev/null 2> /dev/null; } 2>&1 | tail -n 1 ) || true
  printf '%-34s %8s s %9s KiB\n' "$name" ${out}
}

echo "capture: $f ($(stat -c %s "$f") bytes)"
measure "pcaplab packets --format csv"     "$bin" packets "$f" --format csv
measure "pcaplab packets --format ndjson"  "$bin" packets "$f" --format ndjson
measure "pcaplab streams"                  "$bin" streams "$f" --format json
measure "pcaplab sticky --stream 0"        "$bin" sticky "$f" --stream 0 --format json
measure "pcaplab tftp"                     "$bin" tftp "$f" --format json
measure "pcaplab http"                     "$bin" http "$f" --format json
if command -v tshark > /dev/null; then
  measure "tshark (summary lines)"         tshark -n -r "$f"
  measure "tshark -T fields (9 fields)"    tshark -n -r "$f" -T fields -e frame.number -e ip.src -e ip.dst \
    -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport -e _ws.col.Protocol -e _ws.col.Info
  measure "tshark -z conv,tcp"             tshark -n -q -r "$f" -z conv,tcp
  measure "tshark -Y tftp"                 tshark -n -r "$f" -Y tftp
fi
if command -v tcpdump > /dev/null; then
  measure "tcpdump -nn -r"                 tcpdump -nn -r "$f"
fi

#!/usr/bin/env bash
# Runs the same capture through pcaplab and its tshark / tcpdump counterparts (one run each,
# whole process, output discarded) and prints a Markdown table: wall time and peak memory of
# each, and how many times faster pcaplab is. Ratios are what matter: both run in the same
# session on the same machine. The counterparts are those of ../shared/bench/README.md.
#
#   scripts/bench-vs-tshark.sh [CAPTURE] [--pcaplab-only]
#
# Default capture: /tmp/bench/bench-300k.pcap, made by
#   python3 ../shared/bench/gen-bench.py /tmp/bench/bench-300k.pcap --packets 300000
set -euo pipefail
cd "$(dirname "$0")/.."
f=/tmp/bench/bench-300k.pcap
only=no
for a in "$@"; do
  case "$a" in
    --pcaplab-only) only=yes ;;
    *) f=$a ;;
  esac
done
if [ ! -f "$f" ]; then
  mkdir -p "$(dirname "$f")"
  python3 ../shared/bench/gen-bench.py "$f" --packets 300000
fi
cargo build --release --quiet
bin=target/release/pcaplab

# measure CMD... → "seconds peak_MB" of one run, output discarded.
measure() {
  local tmp
  tmp=$(mktemp)
  /usr/bin/time -f '%e %M' -o "$tmp" "$@" > /dev/null 2>&1 || true
  awk '{ printf "%.2f %.0f", $1, $2 / 1024 }' "$tmp"
  rm -f "$tmp"
}

have() { [ "$only" = no ] && command -v "$1" > /dev/null; }

# row LABEL "PCAPLAB CMD" "COUNTERPART LABEL" "COUNTERPART CMD"
row() {
  local label=$1 ours=$2 theirs_label=$3 theirs=$4
  read -r t m <<< "$(measure $ours)"
  if [ -n "$theirs" ] && have "${theirs%% *}"; then
    read -r tt tm <<< "$(measure $theirs)"
    ratio=$(awk -v a="$t" -v b="$tt" 'BEGIN { if (a > 0) printf "%.0f×", b / a; else print "-" }')
    printf '| `%s` | %s s | %s MB | `%s` | %s s | %s MB | %s |\n' "$label" "$t" "$m" "$theirs_label" "$tt" "$tm" "$ratio"
  else
    printf '| `%s` | %s s | %s MB | %s | | | |\n' "$label" "$t" "$m" "${theirs_label:-}"
  fi
}

fields="-T fields -e frame.number -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport -e _ws.col.Protocol -e _ws.col.Info"
echo "capture: $f ($(stat -c %s "$f") bytes), $(nproc) cores, $(date -u +%F)"
echo
echo "| pcaplab | time | peak | counterpart | time | peak | pcaplab faster |"
echo "|---|---:|---:|---|---:|---:|---:|"
row "stats" "$bin stats $f --format json" "tshark -q -z io,phs" "tshark -n -q -r $f -z io,phs"
row "streams" "$bin streams $f --format json" "tshark -q -z conv,tcp" "tshark -n -q -r $f -z conv,tcp"
row "tftp" "$bin tftp $f --format json" "tshark -Y tftp" "tshark -n -r $f -Y tftp"
row "http" "$bin http $f --format json" "tshark -Y http.request -T fields" \
  "tshark -n -r $f -Y http.request -T fields -e http.request.method -e http.request.uri"
row "sticky" "$bin sticky $f --format json" "" ""
row "packets --format csv" "$bin packets $f --format csv" "tshark -T fields (9 fields)" "tshark -n -r $f $fields"
row "packets --format ndjson" "$bin packets $f --format ndjson" "tshark -T fields (9 fields)" "tshark -n -r $f $fields"
row "packets" "$bin packets $f" "tcpdump -nn -r" "tcpdump -nn -r $f"

#!/usr/bin/env bash
# Hostile-capture benchmark (issue 15): writes the captures of scripts/hostile_captures.py and
# runs the release binary's commands on each, printing wall time and peak RSS
# (/usr/bin/time -v) as a table. Ratios between sizes are what matter (4x input: at most 4.5x
# time).
#
#   scripts/bench-hostile.sh [DIR] [SIZES] [COMMANDS]
#   scripts/bench-hostile.sh /tmp/hostile 50000,200000,500000 "streams packets http"
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/hostile}
sizes=${2:-50000,200000,500000}
commands=${3:-streams packets http tftp sticky}
python3 scripts/hostile_captures.py "$dir" --sizes "$sizes" --ooo1b 1048576,4194304
cargo build --release --quiet
bin=$PWD/target/release/pcaplab

run() {
  local cmd=$1 file=$2 args=()
  case $cmd in
    streams) args=(streams "$file" --format csv) ;;
    packets) args=(packets "$file" --format csv) ;;
    sticky) args=(sticky "$file" --format json) ;;
    *) args=("$cmd" "$file" --format json) ;;
  esac
  local out
  out=$( { /usr/bin/time -v "$bin" "${args[@]}" > /dev/null 2> /dev/null; } 2>&1 ) || true
  local secs rss
  secs=$(echo "$out" | awk -F': ' '/Elapsed \(wall clock\)/ {print $2}')
  rss=$(echo "$out" | awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}')
  printf '| %-22s | %-8s | %10s | %8s MB |\n' "$(basename "$file" .pcap)" "$cmd" "$secs" "$rss"
}

printf '| %-22s | %-8s | %10s | %11s |\n' capture command time "peak RSS"
printf '|%s|%s|%s|%s|\n' "------------------------" "----------" "------------" "-------------"
IFS=, read -ra ns <<< "$sizes"
for kind in open closed ooo; do
  for n in "${ns[@]}"; do
    for cmd in $commands; do run "$cmd" "$dir/$kind-$n.pcap"; done
  done
done
for b in 1048576 4194304; do
  for cmd in $commands; do run "$cmd" "$dir/ooo1b-$b.pcap"; done
done

#!/usr/bin/env bash
# Hostile-capture benchmark (issue 15): writes the captures of scripts/hostile_captures.py (once:
# existing files are kept) and runs the release binary's commands on each, printing wall time
# and peak RSS (/usr/bin/time) as a table, then the time ratio between consecutive sizes of
# each kind next to the input ratio (the goal: 4x input, at most 4.5x time).
#
#   scripts/bench-hostile.sh [DIR] [SIZES] [COMMANDS] [KINDS]
#   scripts/bench-hostile.sh /tmp/hostile 50000,200000,500000 "packets tftp" open,closed
#
# KINDS: open, closed, ooo, http, pipeline, tftpopen, tftpdone, udp (sizes apply), ooo1b (sizes
# from $OOO1B, default 1048576,4194304).
# BIN=path/to/pcaplab skips the cargo build.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/hostile}
sizes=${2:-50000,200000,500000}
commands=${3:-streams packets http tftp sticky}
kinds=${4:-open,closed,ooo,ooo1b}
ooo1b=${OOO1B:-1048576,4194304}
python3 scripts/hostile_captures.py "$dir" --sizes "$sizes" --ooo1b "$ooo1b" --kinds "$kinds" --keep
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  bin=$PWD/target/release/pcaplab
else
  bin=$BIN
fi

declare -A took
run() {
  local kind=$1 n=$2 cmd=$3 file=$dir/$1-$2.pcap args=()
  case $cmd in
    streams | packets) args=("$cmd" "$file" --format csv) ;;
    *) args=("$cmd" "$file" --format json) ;;
  esac
  local secs kb
  /usr/bin/time -o "$dir/.time" -f '%e %M' "$bin" "${args[@]}" > /dev/null 2> /dev/null || true
  read -r secs kb < <(tail -n 1 "$dir/.time")
  took[$kind,$n,$cmd]=$secs
  printf '| %-22s | %-8s | %8s s | %8s MB |\n' "$kind-$n" "$cmd" "$secs" "$((kb / 1024))"
}

printf '| %-22s | %-8s | %10s | %11s |\n' capture command time "peak RSS"
printf '|%s|%s|%s|%s|\n' "------------------------" "----------" "------------" "-------------"
IFS=, read -ra ns <<< "$sizes"
IFS=, read -ra bs <<< "$ooo1b"
IFS=, read -ra ks <<< "$kinds"
for kind in "${ks[@]}"; do
  if [ "$kind" = ooo1b ]; then list=("${bs[@]}"); else list=("${ns[@]}"); fi
  for n in "${list[@]}"; do
    for cmd in $commands; do run "$kind" "$n" "$cmd"; done
  done
done

echo
printf '| %-8s | %-8s | %-18s | %11s | %10s |\n' kind command sizes "input ratio" "time ratio"
printf '|%s|%s|%s|%s|%s|\n' "----------" "----------" "--------------------" "-------------" "------------"
for kind in "${ks[@]}"; do
  if [ "$kind" = ooo1b ]; then list=("${bs[@]}"); else list=("${ns[@]}"); fi
  for cmd in $commands; do
    for ((i = 1; i < ${#list[@]}; i++)); do
      a=${list[i - 1]} b=${list[i]}
      ta=${took[$kind,$a,$cmd]} tb=${took[$kind,$b,$cmd]}
      printf '| %-8s | %-8s | %-18s | %10sx | %9sx |\n' "$kind" "$cmd" "$a -> $b" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')" \
        "$(awk -v a="$ta" -v b="$tb" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')"
    done
  done
done

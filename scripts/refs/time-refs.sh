#!/bin/sh
# References for the time formats of `packets -t` (tests/it/terminal.rs): tshark's Time column
# for every -t format on three captures (microsecond pcap, nanosecond pcap, pcapng), with and
# without a display filter (which is where `dd` differs from `d`). Local times use the POSIX
# time zone IST-5:30 (no zoneinfo needed, half-hour offset). Made with tshark 4.0.
set -eu
cd "$(dirname "$0")/../.."
out=tests/refs/time
mkdir -p "$out"
export TZ=IST-5:30
filter='frame.number in {2, 3, 5, 8, 13, 21}'
{
  printf '# capture\tformat\tfilter\tframe\ttime   (scripts/refs/time-refs.sh, %s, TZ=%s)\n' \
    "$(tshark --version | head -1)" "$TZ"
  for cap in fixtures/lo-ethernet.pcap fixtures/lo-nano.pcap fixtures/lo-dumpcap.pcapng; do
    for t in r a ad u ud e d dd; do
      tshark -n -r "$cap" -t "$t" -T fields -e frame.number -e _ws.col.Time 2>/dev/null |
        sed "s|^|$cap\t$t\t\t|"
      tshark -n -r "$cap" -t "$t" -Y "$filter" -T fields -e frame.number -e _ws.col.Time 2>/dev/null |
        sed "s|^|$cap\t$t\t$filter\t|"
    done
  done
} > "$out/tshark-t.tsv"

#!/bin/sh
# References for the Time column of `pcaplab http` with a pre-filter (tests/it/terminal.rs):
# tshark's frame.time_relative (seconds since the capture's first packet, whatever the display
# filter shows) of every HTTP request frame. Made with tshark 4.0.
set -eu
cd "$(dirname "$0")/../.."
out=tests/refs/time
mkdir -p "$out"
{
  printf '# capture\tframe\tframe.time_relative   (scripts/refs/http-time-refs.sh, %s)\n' \
    "$(tshark --version | head -1)"
  for cap in fixtures/http-keepalive.pcap fixtures/http-get.pcap fixtures/http-post.pcap; do
    tshark -n -r "$cap" -Y http.request -T fields -e frame.number -e frame.time_relative \
      2>/dev/null | sed "s|^|$cap\t|"
  done
} > "$out/tshark-http-relative.tsv"

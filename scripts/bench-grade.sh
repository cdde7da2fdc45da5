#!/usr/bin/env bash
# Grades 200 captures in one run and reports wall time and peak memory.
#   scripts/bench-grade.sh [CAPTURE] [RUBRIC]
# Defaults: fixtures/student-http-correct.pcap with examples/rubrics/http-server.toml; the 200 "students"
# are symlinks to the same file under /tmp. The exit status is grade's (1 when checks fail).
set -euo pipefail
cd "$(dirname "$0")/.."
capture=${1:-fixtures/student-http-correct.pcap}
rubric=${2:-examples/rubrics/http-server.toml}
dir=$(mktemp -d /tmp/pcaplab-grade-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
for i in $(seq -w 1 200); do ln -s "$PWD/$capture" "$dir/student-$i.pcap"; done
cargo build --release --quiet
/usr/bin/time -f 'wall %e s, peak RSS %M KiB, %P CPU' \
  target/release/pcaplab grade --rubric "$rubric" "$dir"/student-*.pcap --format json > /dev/null

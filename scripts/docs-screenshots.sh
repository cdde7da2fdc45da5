#!/usr/bin/env bash
# Makes the pictures of docs/: each golden ladder case drawn as SVG by pcaplab and rendered by
# headless Chromium (docs/ladder/CASE.png), and the HTML report of the sticky burst
# (docs/report-sticky-burst.png). Every request of the browser goes to a closed local port.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin=target/debug/pcaplab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p docs/ladder
shot() { # FILE WIDTH HEIGHT PNG
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run \
        --proxy-server=http://127.0.0.1:9 --host-resolver-rules='MAP * ~NOTFOUND' \
        --user-data-dir="$tmp/profile" --hide-scrollbars \
        --window-size="$2,$3" --screenshot="$4" "file://$1" 2>/dev/null
}
while read -r stem sel; do
    # shellcheck disable=SC2086
    "$bin" ladder "fixtures/ladder-$stem.pcap" $sel -f svg > "$tmp/$stem.svg"
    height=$(grep -o 'height="[0-9.]*"' "$tmp/$stem.svg" | head -1 | grep -o '[0-9]*' | head -1)
    shot "$tmp/$stem.svg" 760 "$height" "docs/ladder/$stem.png"
done <<'CASES'
handshake-close --stream 0
simultaneous-close --stream 0
reset --stream 0
refused --stream 0
tftp-retransmit --tftp 0
udp-echo --udp 127.0.0.1:9305
sticky-burst --stream 0
CASES
"$bin" report fixtures/ladder-sticky-burst.pcap -o "$tmp/report.html"
shot "$tmp/report.html" 1000 1700 docs/report-sticky-burst.png
ls -l docs/ladder docs/report-sticky-burst.png

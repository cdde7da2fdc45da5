#!/bin/sh
# Writes tests/refs/filter/tshark-Y.tsv: for every capture in tests/refs/filter/captures.txt and
# every display filter in tests/refs/filter/filters.txt, the frame numbers that
#   tshark -n -r CAPTURE -Y FILTER -T fields -e frame.number
# selects. tests/it/filter.rs compares pcaplab's display filter with this file, so the tests do
# not need tshark. Run from the repository root: scripts/refs/filter-refs.sh
# Needs tshark (4.0.17 made the committed file) and ../shared/captures/public for public/ names.
set -eu

refs=tests/refs/filter
out=$refs/tshark-Y.tsv
public=../shared/captures/public
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# An empty configuration folder: no personal preferences change what tshark dissects.
export WIRESHARK_CONFIG_DIR="$tmp/config"
mkdir -p "$WIRESHARK_CONFIG_DIR"
export LC_ALL=C

filters() { grep -v '^#' "$refs/filters.txt" | grep -v '^[[:space:]]*$'; }
# Frame numbers (one per line, ascending) → "1-5 8 10-12": runs of consecutive frames as ranges.
ranges() {
    awk 'function flush() { if (n) out = out (out == "" ? "" : " ") (a == b ? a : a "-" b) }
         { if (n && $1 == b + 1) { b = $1 } else { flush(); a = $1; b = $1; n = 1 } }
         END { flush(); print out }'
}
captures() { grep -v '^#' "$refs/captures.txt" | grep -v '^[[:space:]]*$'; }

# Every filter must be valid for tshark before anything is written.
filters | while IFS= read -r f; do
    if ! tshark -n -r fixtures/lo-ethernet.pcap -Y "$f" -T fields -e frame.number \
        >/dev/null 2>"$tmp/err"; then
        echo "tshark rejects filter: $f" >&2
        cat "$tmp/err" >&2
        exit 1
    fi
done

{
    printf '# %s\n' "$(tshark --version 2>/dev/null | head -n 1)"
    printf '# made by scripts/refs/filter-refs.sh; columns: capture, filter, frames (a-b is a run of frames)\n'
    captures | while IFS= read -r c; do
        case $c in
            public/*) path=$public/${c#public/} ;;
            *) path=$c ;;
        esac
        filters | while IFS= read -r f; do
            frames=$(tshark -n -r "$path" -Y "$f" -T fields -e frame.number 2>"$tmp/err" |
                ranges)
            if grep -v '^Running as user' "$tmp/err" | grep -q .; then
                echo "tshark failed on $c with filter: $f" >&2
                cat "$tmp/err" >&2
                exit 1
            fi
            printf '%s\t%s\t%s\n' "$c" "$f" "$frames"
        done
    done
} >"$out.new"
mv "$out.new" "$out"
echo "wrote $out ($(grep -vc '^#' "$out") rows)"

#!/usr/bin/env bash
# Installs Debian's Chromium where it is missing (root, apt-get), then runs the tests that load
# the HTML report in it (tests/it/ladder.rs; they skip with a note when Chromium is absent).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "chromium is missing and cannot be installed here (needs root and apt-get)" >&2
    fi
fi
cargo test --test it ladder::report_pages_load_in_chromium -- --nocapture

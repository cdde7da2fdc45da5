#!/usr/bin/env bash
# Rewrites the golden ladder diagrams in tests/refs/ladder/ from the current build
# (tests/it/ladder.rs writes them when PCAPLAB_BLESS is set). Review every changed file by eye
# before committing it: the test also reads each golden picture back and checks its arrows,
# columns and brackets against the fixtures' truth files.
set -euo pipefail
cd "$(dirname "$0")/../.."
PCAPLAB_BLESS=1 cargo test --test it ladder:: -- --test-threads=1
git status --short tests/refs/ladder

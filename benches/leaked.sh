#!/usr/bin/env bash
# `revoke --leaked` of 1.5 million distinct well-formed candidates, with and without --json, under
# GNU time: the peak resident memory must stay under 64 MiB (docs/RELIABILITY.md). Needs GNU time
# (Debian package time). The test suite runs the same test with 100,000 candidates.
#
#   bash benches/leaked.sh                               # 1,500,000 candidates, release build
#   TOKENS_LEAKED_CANDIDATES=1750000 bash benches/leaked.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "leaked.sh: GNU time is missing (apt-get install time)" >&2; exit 1; }
TOKENS_LEAKED_CANDIDATES=${TOKENS_LEAKED_CANDIDATES:-1500000} \
  cargo test --release --locked --test leaked many_distinct_candidates -- --nocapture

#!/usr/bin/env bash
# The pinned CometBFT runs from the cache directory and reports its version.
set -euo pipefail
bin=${WICAS_COMETBFT:?}
[ -x "$bin" ] || { echo "FAIL: $bin missing (run scripts/setup cometbft)"; exit 1; }
v=$("$bin" version)
echo "cometbft version: $v"
case "$v" in 0.38.*) ;; *) echo "FAIL: expected a 0.38.x CometBFT, got '$v'"; exit 1 ;; esac
# It can also initialise a home, proving the binary is functional, not just present.
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
"$bin" init --home "$home" >/dev/null 2>&1
[ -f "$home/config/genesis.json" ] || { echo "FAIL: cometbft init wrote no genesis"; exit 1; }
echo "1 passed, 0 failed"

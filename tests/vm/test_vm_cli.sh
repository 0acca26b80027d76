#!/usr/bin/env bash
# `wicasd wasm run` end to end: counter instantiate/execute/query against a
# JSON state file persisted between invocations; errors leave the file alone;
# gas printed and identical on a repeated query.
set -euo pipefail
bin=${WICAS_BUILD_DIR:?}/bin/wicasd
wasm=${WICAS_WASM_DIR:?}/counter.wasm
[ -x "$bin" ] || { echo "FAIL: $bin missing"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export WICAS_CACHE=$tmp/cache
st=$tmp/state.json
pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; exit 1; fi; }

out=$("$bin" wasm run --state "$st" "$wasm" instantiate '{"count":5}' --sender wicas1owner --output json)
check "instantiate ok" '[[ $out == *"\"status\":\"ok\""* && $out == *"\"key\":\"count\",\"value\":\"5\""* ]]'
check "state written" '[ -s "$st" ] && grep -q "\"height\":1" "$st"'
"$bin" wasm run --state "$st" "$wasm" execute '{"increment":{}}' >/dev/null
out=$("$bin" wasm run --state "$st" "$wasm" query '{"get_count":{}}' --output json)
check "count is 6" '[[ $out == *"\"result\":{\"count\":6}"* ]]'
gas1=$(sed 's/.*"gas_used":\([0-9]*\).*/\1/' <<<"$out")
out2=$("$bin" wasm run --state "$st" "$wasm" query '{"get_count":{}}' --output json)
gas2=$(sed 's/.*"gas_used":\([0-9]*\).*/\1/' <<<"$out2")
check "query gas repeatable and non-zero ($gas1)" '[ "$gas1" = "$gas2" ] && [ "$gas1" -gt 0 ]'
before=$(cat "$st")
set +e
out=$("$bin" wasm run --state "$st" "$wasm" execute '{"reset":{"count":0}}' --sender wicas1stranger 2>&1); rc=$?
set -e
check "stranger reset refused (rc $rc)" '[ $rc -eq 1 ] && [[ $out == *"Unauthorized"* ]]'
check "state unchanged after error" '[ "$before" = "$(cat "$st")" ]'
"$bin" wasm run --state "$st" "$wasm" execute '{"reset":{"count":42}}' --sender wicas1owner --height 100 >/dev/null
out=$("$bin" wasm run --state "$st" "$wasm" query '{"get_count":{}}')
check "owner reset" '[[ $out == *"result: {\"count\":42}"* && $out == *"gas_used: "* ]]'
check "height recorded" 'grep -q "\"height\":100" "$st"'
set +e
"$bin" wasm run --state "$st" "$wasm" frobnicate '{}' >/dev/null 2>&1; rc=$?
"$bin" wasm run --state "$st" /nonexistent.wasm query '{}' >/dev/null 2>&1; rc2=$?
"$bin" wasm run --state "$st" "$wasm" execute '{"increment":{}}' --gas-limit 1000 >/dev/null 2>&1; rc3=$?
set -e
check "usage errors" '[ $rc -eq 2 ] && [ $rc2 -eq 1 ] && [ $rc3 -eq 1 ]'
echo "$pass passed, 0 failed"

#!/usr/bin/env bash
# Queries and Simulate cannot stall consensus (issue 11, section 2): a
# 1-validator devnet keeps producing blocks while several client threads send,
# as fast as the node answers, the heaviest smart query and the heaviest
# simulation a user can ask for: cosmwasm-vm's hackatom, whose "recurse" query
# hashes and calls itself until it exhausts the 3M smart-query gas, and whose
# "cpu_loop" execute spins until the 100M simulation gas limit is spent.
# Queries run on the ABCI query connection outside the application lock, on
# read-only views of the last commit (src/abci/server.c, src/chain/query.c).
# Asserted: heights advance during the flood, every request is answered, and
# the heights the answers report never go backwards. Printed (not asserted, the
# machine is shared): the block time idle and under the flood.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HACK=${WICAS_COSMWASM_TESTDATA:?}/hackatom.wasm
[ -f "$HACK" ] || fail "$HACK missing (run scripts/setup cosmwasm)"
devnet_setup qflood
CHAIN=wicas-it-qflood
IDLE_S=${WICAS_QFLOOD_IDLE_S:-8}
FLOOD_S=${WICAS_QFLOOD_S:-12}
THREADS=${WICAS_QFLOOD_THREADS:-3}

A=$("$T" addr $SK_A) || fail "it_tool addr"
"$W" devnet start --validators 1 --home "$NET" --base-port 0 --timeout-commit 300 --chain-id $CHAIN \
  --account "$A:100000000uwicas" >"$tmp/devnet.log" 2>&1 || fail "devnet start: $(tail -5 "$tmp/devnet.log")"
devnet_rpcs
R=${RPCS[0]}
wait_height "$R" 2 60

out=$("$T" store "$R" $CHAIN $SK_A 0 0 "$HACK") || fail "store: $out"
code_id=$(echo "$out" | sed -n 's/^code_id=//p')
out=$("$T" instantiate "$R" $CHAIN $SK_A 0 1 "$code_id" hackatom "{\"verifier\":\"$A\",\"beneficiary\":\"$A\"}") ||
  fail "instantiate: $out"
hack=$(echo "$out" | sed -n 's/^contract=//p'); [ -n "$hack" ] || fail "no contract address: $out"
# the contract answers before the flood (a light recursion)
v=$("$T" smart "$R" "$hack" '{"verifier":{}}') || fail "verifier query"
echo "$v" | grep -q "$A" || fail "verifier query answered $v"

QUERY='{"recurse":{"depth":8,"work":100000}}'
EXEC='{"cpu_loop":{}}'
# one of each, timed, to show what a single request costs
t0=$(date +%s.%N)
"$T" flood "$R" $CHAIN $SK_A 0 2 "$hack" "$QUERY" "$EXEC" 0.001 1 >/dev/null || fail "a single query+simulate failed"
t1=$(date +%s.%N)

h0=$(height "$R"); s0=$(date +%s.%N)
sleep "$IDLE_S"
h1=$(height "$R"); s1=$(date +%s.%N)
[ "$h1" -gt "$h0" ] || fail "no blocks while idle ($h0 -> $h1)"

h2=$(height "$R"); s2=$(date +%s.%N)
fo=$("$T" flood "$R" $CHAIN $SK_A 0 2 "$hack" "$QUERY" "$EXEC" "$FLOOD_S" "$THREADS") || fail "flood: $fo"
h3=$(height "$R"); s3=$(date +%s.%N)
echo "flood ($THREADS threads, ${FLOOD_S} s): $fo"
q=$(echo "$fo" | sed -n 's/.*queries=\([0-9]*\).*/\1/p'); s=$(echo "$fo" | sed -n 's/.*simulates=\([0-9]*\).*/\1/p')
[ "${q:-0}" -gt 0 ] && [ "${s:-0}" -gt 0 ] || fail "the flood sent nothing: $fo"
[ "$h3" -ge $((h2 + 3)) ] || fail "block production stalled under the flood: height $h2 -> $h3"
# the chain is still healthy afterwards
wait_height "$R" $((h3 + 2)) 30
! grep -q "CONSENSUS FAILURE" "$NET"/node0/*.log 2>/dev/null || fail "consensus failure in the node log"

awk -v a="$t0" -v b="$t1" 'BEGIN{printf "one recurse query + one cpu_loop simulate: %.2f s\n", b - a}'
awk -v h0="$h0" -v h1="$h1" -v a="$s0" -v b="$s1" -v h2="$h2" -v h3="$h3" -v c="$s2" -v d="$s3" 'BEGIN{
  idle = (b - a) / (h1 - h0); flood = (d - c) / (h3 - h2);
  printf "block time idle: %.3f s (%d blocks); under flood: %.3f s (%d blocks); ratio %.2f (target <= 2)\n",
         idle, h1 - h0, flood, h3 - h2, flood / idle }'
echo "1 passed, 0 failed"

#!/usr/bin/env bash
# Queries and Simulate cannot stall consensus (issue 11, section 2): a
# 1-validator devnet keeps producing blocks while several client threads send,
# as fast as the node answers, the heaviest smart query and the heaviest
# simulation a user can ask for: cosmwasm-vm's hackatom, whose "recurse" query
# hashes and calls itself until it exhausts the 3M smart-query gas, and whose
# "cpu_loop" execute spins until the 100M simulation gas limit is spent.
# Queries run on the ABCI query connection outside the application lock, on
# read-only views of the last commit (src/abci/server.c, src/chain/query.c).
# Asserted: heights advance while one maximal simulation runs and during the
# flood, requests are answered, and the heights the answers report never go
# backwards. Printed (not asserted, the machine is shared): what one request
# costs, how many were answered or cut by CometBFT's 10 s RPC write timeout,
# and the block time idle and under the flood. CometBFT sends every query on
# its ONE query connection and needs the answers in order, so a long
# simulation delays the queries queued behind it (never the blocks).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HACK=${WICAS_COSMWASM_TESTDATA:?}/hackatom.wasm
[ -f "$HACK" ] || fail "$HACK missing (run scripts/setup cosmwasm)"
devnet_setup qflood
CHAIN=wicas-it-qflood
IDLE_S=${WICAS_QFLOOD_IDLE_S:-8}
FLOOD_S=${WICAS_QFLOOD_S:-15}
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
# what one request of each costs (printed): the query runs out of its 3M gas;
# the simulation spends its 100M gas limit, which can take longer than
# CometBFT's 10 s RPC write timeout (the answer is then cut, the work is still
# done by the node, on the query connection)
t0=$(date +%s.%N)
out=$("$T" smart "$R" "$hack" "$QUERY" 2>&1) && fail "the recurse query should run out of gas: $out"
echo "$out" | grep -q "out of gas" || fail "recurse query: $out"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN{printf "one recurse query (3M gas): %.2f s\n", b - a}'
hs0=$(height "$R"); t0=$(date +%s.%N)
one=$("$T" flood "$R" $CHAIN $SK_A 0 2 "$hack" '{"verifier":{}}' "$EXEC" 0.001 1 2>/dev/null) || true
t1=$(date +%s.%N); hs1=$(height "$R")
awk -v a="$t0" -v b="$t1" -v o="$one" -v h0="$hs0" -v h1="$hs1" \
  'BEGIN{printf "one cpu_loop simulate (100M gas): %.2f s over RPC (%s); heights %d -> %d meanwhile\n", b - a, o, h0, h1}'
[ "$hs1" -gt "$hs0" ] || fail "no block while one simulation ran ($hs0 -> $hs1)"

h0=$(height "$R"); s0=$(date +%s.%N)
sleep "$IDLE_S"
h1=$(height "$R"); s1=$(date +%s.%N)
[ "$h1" -gt "$h0" ] || fail "no blocks while idle ($h0 -> $h1)"

h2=$(height "$R"); s2=$(date +%s.%N)
fo=$("$T" flood "$R" $CHAIN $SK_A 0 2 "$hack" "$QUERY" "$EXEC" "$FLOOD_S" "$THREADS") || fail "flood: $fo"
h3=$(height "$R"); s3=$(date +%s.%N)
echo "flood ($THREADS threads, ${FLOOD_S} s): $fo"
[ "$h3" -ge $((h2 + 3)) ] || fail "block production stalled under the flood: height $h2 -> $h3"
# the chain is still healthy afterwards
wait_height "$R" $((h3 + 2)) 30
! grep -q "CONSENSUS FAILURE" "$NET"/node0/*.log 2>/dev/null || fail "consensus failure in the node log"

awk -v h0="$h0" -v h1="$h1" -v a="$s0" -v b="$s1" -v h2="$h2" -v h3="$h3" -v c="$s2" -v d="$s3" 'BEGIN{
  idle = (b - a) / (h1 - h0); flood = (d - c) / (h3 - h2);
  printf "block time idle: %.3f s (%d blocks); under flood: %.3f s (%d blocks); ratio %.2f (target <= 2)\n",
         idle, h1 - h0, flood, h3 - h2, flood / idle }'
echo "1 passed, 0 failed"

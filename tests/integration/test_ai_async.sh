#!/usr/bin/env bash
# The asynchronous AI path on a real 4-validator network: nameservice-ai's
# `describe_async` emits {"ai":{"request":...}}; every validator computes the
# answer in the background and reports it in its vote extension; the next
# proposer injects the signed extensions; the block resolves the request when
# more than 2/3 of the voting power signed one answer and calls the contract's
# sudo. node3 runs with --ai-wrong-answer:
#   1. 3 honest + 1 wrong: the request resolves "agreed", the stored text is the
#      one the synchronous path (inference inside the tx) produced for the same
#      prompt, and the wrong validator's differing hash is on record;
#   2. node2 turns wrong too (2 of 4): the request resolves "no_agreement" and
#      the contract records the failure.
# All four nodes keep identical app hashes throughout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
MODEL=${WICAS_DEFAULT_MODEL:?}
[ -f "$MODEL" ] || fail "default model $MODEL missing (run scripts/setup model)"
WASM=${WICAS_WASM_DIR:?}/nameservice-ai.wasm
[ -f "$WASM" ] || fail "$WASM not built"
devnet_setup async
export WICAS_MODELS_DIR=$(dirname "$MODEL")
CHAIN=wicas-it-async

A=$("$T" addr $SK_A) || fail "it_tool addr"
port_block || fail "no free ports"
"$W" devnet start --validators 4 --home "$NET" --base-port "$PORT_BASE" --timeout-commit 200 --chain-id $CHAIN \
  --account "$A:100000000uwicas" >"$tmp/devnet.log" 2>&1 || fail "devnet start: $(tail -5 "$tmp/devnet.log")"
devnet_rpcs

# request_record ID: the chain's record of an asynchronous request (JSON)
request_record() {
  local data; data=$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n')
  curl -s --max-time 5 "http://${RPCS[0]}/abci_query?path=%22/wicas.ai.v1.Query/Request%22&data=0x$data" |
    json_str value | base64 -d
}

# wait_mode MODE TIMEOUT_S: until the stored description of "wicas" has that mode
wait_mode() {
  local t=0 d
  while :; do
    d=$("$T" smart "${RPCS[1]}" "$ns" '{"description":{"name":"wicas"}}' 2>/dev/null || true)
    echo "$d" | grep -q "\"mode\":\"$1\"" && { echo "$d"; return 0; }
    t=$((t + 1)); [ $t -gt $(($2 * 2)) ] && fail "description never reached mode $1 (last: $d; request: $(request_record "$3"))"
    sleep 0.5
  done
}

restart_node 3 --ai-wrong-answer

out=$("$T" store "${RPCS[0]}" $CHAIN $SK_A 0 0 "$WASM") || fail "store: $out"
code_id=$(echo "$out" | sed -n 's/^code_id=//p')
out=$("$T" instantiate "${RPCS[1]}" $CHAIN $SK_A 0 1 "$code_id" names-ai \
  '{"purchase_price":null,"transfer_price":null,"model":"smollm2-135m","max_tokens":8}') || fail "instantiate: $out"
ns=$(echo "$out" | sed -n 's/^contract=//p'); [ -n "$ns" ] || fail "no contract address: $out"
out=$("$T" execute "${RPCS[2]}" $CHAIN $SK_A 0 2 "$ns" '{"register":{"name":"wicas"}}' -) || fail "register: $out"

# the synchronous answer for the same prompt (greedy decoding: seed-independent)
out=$("$T" execute "${RPCS[0]}" $CHAIN $SK_A 0 3 "$ns" '{"describe":{"name":"wicas"}}' -) || fail "describe: $out"
sync=$(wait_mode sync 30 0)
sync_text=$(echo "$sync" | json_str text)
[ -n "$sync_text" ] || fail "no synchronous text: $sync"

# 1. three honest validators, one wrong
t0=$(date +%s.%N)
out=$("$T" execute "${RPCS[1]}" $CHAIN $SK_A 0 4 "$ns" '{"describe_async":{"name":"wicas"}}' -) || fail "describe_async: $out"
h_req=${out#height=}; h_req=${h_req%% *}
d=$(wait_mode async 120 1)
t1=$(date +%s.%N)
rec=$(request_record 1)
echo "$rec" | grep -q '"status":"agreed"' || fail "request 1 not agreed: $rec"
[ "$(echo "$d" | json_str text)" = "$sync_text" ] || fail "async text differs from the sync text: $d vs $sync"
ap=$(echo "$rec" | json_str agreeing_power); tp=$(echo "$rec" | json_str total_power)
[ $((3 * ap)) -gt $((2 * tp)) ] || fail "agreeing power $ap of $tp is not above 2/3"
good=$(echo "$rec" | json_str result_hash)
wrong_votes=$(echo "$rec" | grep -o '"result_hash":"[0-9a-f]*"' | grep -vc "$good" || true)
[ "$wrong_votes" -le 1 ] || fail "more than one dissenting vote with 1 wrong validator: $rec"
h_res=$(echo "$rec" | json_str resolved_height)
echo "request 1: agreed at height $h_res (requested at $h_req), $ap of $tp power, dissenting votes on record: $wrong_votes"

# 2. two of four wrong: no answer can reach 2/3
restart_node 2 --ai-wrong-answer
out=$("$T" execute "${RPCS[0]}" $CHAIN $SK_A 0 5 "$ns" '{"describe_async":{"name":"wicas"}}' -) || fail "describe_async 2: $out"
wait_mode async-failed 120 2 >/dev/null
rec2=$(request_record 2)
echo "$rec2" | grep -q '"status":"no_agreement"' || fail "request 2 should end without agreement: $rec2"
n_hashes=$(echo "$rec2" | grep -o '"result_hash":"[0-9a-f]*"' | sort -u | wc -l)
[ "$n_hashes" -eq 2 ] || fail "request 2: expected 2 distinct answers on record: $rec2"
echo "request 2: $(echo "$rec2" | json_str status) ($(echo "$rec2" | json_str agreeing_power) of $(echo "$rec2" | json_str total_power) power for the best answer)"

# every node, every height: one app hash
top=$(height "${RPCS[0]}")
for i in 1 2 3; do wait_height "${RPCS[$i]}" "$top" 60; done
for ((k = 2; k <= top; k++)); do
  a0=$(app_hash "${RPCS[0]}" $k)
  for i in 1 2 3; do [ "$(app_hash "${RPCS[$i]}" $k)" = "$a0" ] || fail "height $k: node$i app hash differs"; done
done
grep -h 'async request' "$NET"/node0/node.log | tail -4
echo "describe_async: broadcast to resolved answer $(awk "BEGIN{print $t1 - $t0}") s"
echo "1 passed, 0 failed"

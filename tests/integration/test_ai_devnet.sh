#!/usr/bin/env bash
# The point of WICAS on a real network: 4 validators (one shared genesis in
# which `wicasd devnet` registered the default model; one validator on scalar
# kernels and 1 thread, one on 3 threads) run a contract that asks the language
# model for text inside a transaction (nameservice-ai `describe`, the synchronous
# {"ai":{"infer":...}} custom query). Every validator runs the inference
# itself; all four must store the same text and agree on every app hash.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
MODEL=${WICAS_DEFAULT_MODEL:?}
[ -f "$MODEL" ] || fail "default model $MODEL missing (run scripts/setup model)"
WASM=${WICAS_WASM_DIR:?}/nameservice-ai.wasm
[ -f "$WASM" ] || fail "$WASM not built"
devnet_setup ai
export WICAS_MODELS_DIR=$(dirname "$MODEL")

A=$("$T" addr $SK_A) || fail "it_tool addr"
# the devnet registers the default model in its genesis by itself
port_block || fail "no free ports"
"$W" devnet start --validators 4 --home "$NET" --base-port "$PORT_BASE" --timeout-commit 200 --chain-id wicas-it-ai \
  --account "$A:100000000uwicas" >"$tmp/devnet.log" 2>&1 || fail "devnet start: $(tail -5 "$tmp/devnet.log")"
grep -q "model 'smollm2-135m'" "$tmp/devnet.log" || fail "default model not registered: $(cat "$tmp/devnet.log")"
sha=${WICAS_DEFAULT_MODEL_SHA256:-$(sha256sum "$MODEL" | cut -d' ' -f1)}
grep -q "\"sha256\":[[:space:]]*\"$sha\"" "$NET/node2/config/genesis.json" || fail "genesis lacks the model's sha256"
devnet_rpcs

# Validators need not run the same code path: node2 restarts with the scalar
# kernels on 1 thread, node3 with 3 threads (the others: the best SIMD kernels,
# 4 threads). The answers must still be bit-identical.
WICAS_KERNELS=scalar restart_node 2 --ai-threads 1
restart_node 3 --ai-threads 3

out=$("$T" store "${RPCS[0]}" wicas-it-ai $SK_A 0 0 "$WASM") || fail "store: $out"
code_id=$(echo "$out" | sed -n 's/^code_id=//p')
out=$("$T" instantiate "${RPCS[1]}" wicas-it-ai $SK_A 0 1 "$code_id" names-ai \
  '{"purchase_price":null,"transfer_price":null,"model":"smollm2-135m","max_tokens":12}') || fail "instantiate: $out"
ns=$(echo "$out" | sed -n 's/^contract=//p'); [ -n "$ns" ] || fail "no contract address: $out"
out=$("$T" execute "${RPCS[2]}" wicas-it-ai $SK_A 0 2 "$ns" '{"register":{"name":"wicas"}}' -) || fail "register: $out"
t0=$(date +%s.%N)
out=$("$T" execute "${RPCS[3]}" wicas-it-ai $SK_A 0 3 "$ns" '{"describe":{"name":"wicas"}}' -) || fail "describe: $out"
t1=$(date +%s.%N)
h=${out#height=}; h=${h%% *}
first=""
for i in 0 1 2 3; do
  wait_height "${RPCS[$i]}" $((h + 1)) 60
  d=$("$T" smart "${RPCS[$i]}" "$ns" '{"description":{"name":"wicas"}}') || fail "node$i: description query"
  echo "$d" | grep -q '"text":"' || fail "node$i: no text stored: $d"
  [ -z "$first" ] && first=$d
  [ "$d" = "$first" ] || fail "node$i stored a different description: $d vs $first"
done
for ((k = 2; k <= h + 1; k++)); do
  a0=$(app_hash "${RPCS[0]}" $k)
  for i in 1 2 3; do [ "$(app_hash "${RPCS[$i]}" $k)" = "$a0" ] || fail "height $k: node$i app hash differs"; done
done
grep -q "kernels scalar, 1 threads" "$NET/node2/node.log" || fail "node2 did not run the scalar kernels: $(grep '\[ai\]' "$NET/node2/node.log")"
grep -q ", 3 threads)" "$NET/node3/node.log" || fail "node3 did not run 3 threads: $(grep '\[ai\]' "$NET/node3/node.log")"
grep -h '\[ai\]' "$NET"/node*/node.log
echo "description (same on 4 validators): $first"
echo "describe tx: broadcast to inclusion $(awk "BEGIN{print $t1 - $t0}") s"
echo "1 passed, 0 failed"

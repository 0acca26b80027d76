#!/usr/bin/env bash
# The point of WICAS on a real network: 4 validators (one shared genesis that
# registers the default model) run a contract that asks the language model for
# text inside a transaction (nameservice-ai `describe`, the synchronous
# {"ai":{"infer":...}} custom query). Every validator runs the inference
# itself; all four must store the same text and agree on every app hash.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
MODEL=${WICAS_DEFAULT_MODEL:?}
[ -f "$MODEL" ] || fail "default model $MODEL missing (run scripts/setup model)"
WASM=${WICAS_WASM_DIR:?}/nameservice-ai.wasm
[ -f "$WASM" ] || fail "$WASM not built"
tmp=$(mktemp -d /tmp/wicas-it-ai-XXXXXX)
NET=$tmp/net
cleanup() {
  "$W" devnet stop --home "$NET" >/dev/null 2>&1 || true
  for f in "$NET"/node*/wicasd.pid "$NET"/node*/cometbft.pid; do
    [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  if [ -n "${WICAS_KEEP_HOME:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
export WICAS_MODELS_DIR=$(dirname "$MODEL")

A=$("$T" addr $SK_A) || fail "it_tool addr"
"$W" devnet init --validators 4 --home "$NET" --base-port 0 --timeout-commit 200 --chain-id wicas-it-ai \
  --account "$A:100000000uwicas" >"$tmp/devnet.log" 2>&1 || fail "devnet init: $(tail -3 "$tmp/devnet.log")"
# register the default model in the (identical) genesis of every node
sha=${WICAS_DEFAULT_MODEL_SHA256:-$(sha256sum "$MODEL" | cut -d' ' -f1)}
size=$(stat -c %s "$MODEL")
python3 - "$sha" "$size" "$NET"/node*/config/genesis.json <<'PY'
import json, sys
sha, size, files = sys.argv[1], sys.argv[2], sys.argv[3:]
g = json.load(open(files[0]))
g["app_state"]["ai"] = {"models": [{"name": "smollm2-135m", "sha256": sha, "size": size,
                                    "arch": "llama", "params": "134515008"}]}
for f in files:
    json.dump(g, open(f, "w"), indent=1)
PY
"$W" devnet start --home "$NET" >>"$tmp/devnet.log" 2>&1 || fail "devnet start: $(tail -5 "$tmp/devnet.log")"
mapfile -t RPCS < <(grep -o '"rpc":[[:space:]]*[0-9]*' "$NET/devnet.json" | grep -o '[0-9]*$' | sed 's/^/127.0.0.1:/')

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
echo "description (same on 4 validators): $first"
echo "describe tx: broadcast to inclusion $(awk "BEGIN{print $t1 - $t0}") s"
echo "1 passed, 0 failed"

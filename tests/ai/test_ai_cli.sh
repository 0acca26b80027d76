#!/usr/bin/env bash
# test_ai_cli.sh — the AI module's CLI against a real single-validator node
# (wicasd init/start + CometBFT): a genesis with a registry authority, then
#   tx ai register-model by the authority (event, query ai models --output json),
#   by another key (code 4), the same name again (code 36);
#   tx ai store-program (checksum = sha256sum of the file), the same file again,
#   a module the sandbox refuses (code 18), query ai program.
# The node runs without the registered model's file: registration still
# commits and the node logs a warning (it would halt at the model's first use).
set -euo pipefail
W="$WICAS_BUILD_DIR/bin/wicasd"
MODEL="$WICAS_BUILD_DIR/tests/infer/models/q4_1.gguf"
T=$(mktemp -d /tmp/wicas_aicli_XXXXXX)
NODE_PID=""
cleanup() {
  if [ -n "$NODE_PID" ]; then kill -TERM "$NODE_PID" 2>/dev/null || true; wait "$NODE_PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/node.log" ] && tail -20 "$T/node.log" >&2; exit 1; }
export WICAS_KEYRING_PASSPHRASE=correct-horse
H="$T/home"
"$W" keys add alice --home "$H" >/dev/null
"$W" keys add bob --home "$H" >/dev/null
A=$("$W" keys show alice -a --home "$H"); B=$("$W" keys show bob -a --home "$H")
. "$(dirname "$0")/../ports.sh"
port_block || fail "no free ports"
PORT=$PORT_BASE
"$W" init node0 --home "$H" --chain-id wicas-aicli --fast --base-port "$PORT" --no-model >/dev/null
"$W" genesis add-account alice 1000000000uwicas --home "$H" >/dev/null
"$W" genesis add-account bob 1000000000uwicas --home "$H" >/dev/null
# the registry authority: app_state.ai.params.authority
G="$H/config/genesis.json"
jq --arg a "$A" '.app_state.ai = ((.app_state.ai // {}) | .params = ((.params // {}) + {authority: $a}))' "$G" > "$G.new"
mv "$G.new" "$G"
mkdir -p "$T/models"   # empty: this node lacks the model registered below
"$W" start --home "$H" --models-dir "$T/models" > "$T/node.log" 2>&1 &
NODE_PID=$!
N="tcp://127.0.0.1:$((PORT + 1))"
for i in $(seq 1 150); do
  HT=$("$W" status --node "$N" 2>/dev/null | sed -n 's/^latest height: *//p' || true)
  [ -n "$HT" ] && [ "$HT" -ge 2 ] && break
  sleep 0.2
done
[ -n "$HT" ] && [ "$HT" -ge 2 ] || fail "node did not produce blocks"
TX=(--home "$H" --node "$N" --gas 2000000 --fees 20000uwicas --wait)

# ---- register-model
"$W" query ai models --node "$N" --output json | tr -d ' \n' | grep -qx '\[\]' || fail "registry not empty"
"$W" tx ai register-model tiny "$MODEL" --from bob "${TX[@]}" > "$T/r0.txt" 2>&1 && fail "non-authority registered"
grep -q "^code: 4" "$T/r0.txt" || fail "non-authority code: $(cat "$T/r0.txt")"
"$W" tx ai register-model tiny "$MODEL" --from alice "${TX[@]}" > "$T/r1.txt" 2>&1 || fail "register: $(cat "$T/r1.txt")"
grep -q "^code: 0" "$T/r1.txt" || fail "register code"
SHA=$(sha256sum "$MODEL" | cut -d' ' -f1)
grep -q "sha256: $SHA" "$T/r1.txt" || fail "register_model event: $(cat "$T/r1.txt")"
"$W" query ai models --node "$N" --output json > "$T/models.json"
[ "$(jq -r '.[0].name' "$T/models.json")" = tiny ] || fail "models: $(cat "$T/models.json")"
[ "$(jq -r '.[0].sha256' "$T/models.json")" = "$SHA" ] || fail "models sha256"
[ "$(jq -r '.[0].size' "$T/models.json")" = "$(stat -c %s "$MODEL")" ] || fail "models size"
grep -q "WARN.*model 'tiny'.*cannot run it" "$T/node.log" || fail "no warning about the missing file"
"$W" tx ai register-model tiny "$MODEL" --from alice "${TX[@]}" > "$T/r2.txt" 2>&1 && fail "duplicate registered"
grep -q "^code: 36" "$T/r2.txt" || fail "duplicate code: $(cat "$T/r2.txt")"

# ---- store-program
P="$WICAS_WASM_DIR/wasinn_chat.wasm"
PSHA=$(sha256sum "$P" | cut -d' ' -f1)
for pass in 1 2; do
  "$W" tx ai store-program "$P" --from bob "${TX[@]}" > "$T/s$pass.txt" 2>&1 || fail "store $pass: $(cat "$T/s$pass.txt")"
  grep -q "checksum: $PSHA" "$T/s$pass.txt" || fail "store_program event: $(cat "$T/s$pass.txt")"
done
"$W" tx ai store-program "$WICAS_WASM_DIR/counter.wasm" --from bob "${TX[@]}" > "$T/s3.txt" 2>&1 && fail "contract stored as a program"
grep -q "^code: 18" "$T/s3.txt" || fail "bad program code: $(cat "$T/s3.txt")"
"$W" query ai program "$PSHA" --node "$N" --output json > "$T/prog.json" || fail "query program"
[ "$(jq -r .size "$T/prog.json")" = "$(stat -c %s "$P")" ] || fail "program size"
jq -r .wasm_byte_code "$T/prog.json" | base64 -d | cmp -s - "$P" || fail "program bytes"
"$W" query ai program "$(printf '%064d' 0)" --node "$N" > "$T/p0.txt" 2>&1 && fail "unknown program found"
grep -q "not found" "$T/p0.txt" || fail "unknown program message: $(cat "$T/p0.txt")"
echo "ai cli ok"

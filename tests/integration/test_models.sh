#!/usr/bin/env bash
# A node refuses to start when a model registered in the chain's state is not
# available locally (it must never answer an inference differently from the
# other validators): genesis registers a model no node has; the node exits 1
# naming the model, at InitChain or at the latest on the next start (which
# checks the committed registry before cometbft is started).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d /tmp/wicas-it-models-XXXXXX)
H=$tmp/home
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  [ -f "$H/cometbft.pid" ] && kill -9 "$(cat "$H/cometbft.pid")" 2>/dev/null || true
  if [ -n "${WICAS_KEEP_HOME:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

port_block || fail "no free ports"; P=$PORT_BASE
RPC=127.0.0.1:$((P + 1))
"$W" init node0 --home "$H" --chain-id wicas-it-models --base-port "$P" --fast >/dev/null || fail "init"
python3 - "$H/config/genesis.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
g["app_state"]["ai"] = {"models": [{"name": "ghost-model", "sha256": "ab" * 32, "size": "1234",
                                    "arch": "llama", "params": "1000000"}]}
json.dump(g, open(sys.argv[1], "w"), indent=1)
PY
mkdir -p "$tmp/models"
# a model file is there, just not the registered one (other hash and size)
printf 'GGUF not the registered model' >"$tmp/models/decoy.gguf"
# The chain may refuse as early as InitChain (the genesis registry is checked
# then) or at the next start (the committed registry): either way this node
# must stop with an error naming the model, never run blocks past the point
# where the model is known to be missing.
"$W" start --home "$H" --models-dir "$tmp/models" >"$tmp/node.log" 2>&1 &
pid=$!
refused_early=
for ((t = 0; t < 300; t++)); do
  if ! running "$pid"; then refused_early=1; break; fi
  [ "$(height "$RPC")" -ge 2 ] && break
  sleep 0.2
done
if [ -n "$refused_early" ]; then
  set +e; wait "$pid"; rc=$?; set -e
  pid=
  [ $rc -eq 1 ] || fail "refusal at InitChain exited $rc"
  grep -q "ghost-model" "$tmp/node.log" || fail "the refusal does not name the model: $(tail -5 "$tmp/node.log")"
  [ "$(height "$RPC")" -lt 1 ] || fail "blocks were produced"
  echo "refused at InitChain"
else
  [ "$(height "$RPC")" -ge 2 ] || fail "neither refused nor produced blocks in 60 s"
  kill -TERM "$pid"
  set +e; wait "$pid"; rc=$?; set -e
  pid=
  [ $rc -eq 0 ] || fail "first run exited $rc"
  set +e
  "$W" start --home "$H" --models-dir "$tmp/models" >"$tmp/node2.log" 2>&1; rc=$?
  set -e
  [ $rc -eq 1 ] || fail "start with a missing registered model exited $rc (log: $(tail -3 "$tmp/node2.log"))"
  grep -q "ghost-model" "$tmp/node2.log" || fail "the refusal does not name the model: $(cat "$tmp/node2.log")"
  grep -q "cometbft started" "$tmp/node2.log" && fail "cometbft was started although the model check failed"
  echo "refused at restart"
fi
echo "1 passed, 0 failed"

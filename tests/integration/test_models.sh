#!/usr/bin/env bash
# A node refuses to start when a model registered in the chain's state is not
# available locally (it must never answer an inference differently from the
# other validators): genesis registers a model no node has; the first start
# executes blocks (nothing asks for inference yet); a restart, which checks the
# committed registry, exits 1 naming the model and starts nothing.
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

P=$(free_base_port); [ -n "$P" ] || fail "no free ports"
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
"$W" start --home "$H" --models-dir "$tmp/models" >"$tmp/node.log" 2>&1 &
pid=$!
wait_height "$RPC" 2 60
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
echo "1 passed, 0 failed"

#!/usr/bin/env bash
# One node end to end with the real application: `wicasd init` (refuses to
# clobber, --overwrite works), `wicasd start` produces blocks with cometbft
# supervised, `wicasd status`, clean SIGTERM and SIGINT shutdowns (exit 0,
# cometbft gone), restart resumes at the committed height with the same app
# hashes, kill -9 of wicasd leaves no orphan cometbft, usage and address errors.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d /tmp/wicas-it-node-XXXXXX)
H=$tmp/home
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  [ -f "$H/cometbft.pid" ] && kill -9 "$(cat "$H/cometbft.pid")" 2>/dev/null || true
  if [ -n "${WICAS_KEEP_HOME:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
pass=0

port_block || fail "no free ports"; P=$PORT_BASE
RPC=127.0.0.1:$((P + 1))

"$W" init node0 --home "$H" --chain-id wicas-it-1 --base-port "$P" --fast >/dev/null || fail "init"
grep -q "proxy_app = \"tcp://127.0.0.1:$((P + 2))\"" "$H/config/config.toml" || fail "proxy_app not set"
grep -q '"vote_extensions_enable_height":[[:space:]]*"1"' "$H/config/genesis.json" || fail "vote extensions not enabled"
grep -q '"chain_id":[[:space:]]*"wicas-it-1"' "$H/config/genesis.json" || fail "chain id not set"
if "$W" init node0 --home "$H" --chain-id wicas-it-1 2>/dev/null; then fail "init over an existing home succeeded"; fi
"$W" init node0 --home "$H" --chain-id wicas-it-1 --base-port "$P" --fast --overwrite >/dev/null || fail "init --overwrite"
# fund a test account in genesis (what `wicasd genesis add-account` does)
A=$("$T" addr $SK_A) || fail "it_tool addr"
B=$("$T" addr $SK_B) || fail "it_tool addr"
python3 - "$H/config/genesis.json" "$A" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
g["app_state"]["auth"]["accounts"].append({"address": sys.argv[2]})
g["app_state"]["bank"]["balances"].append({"address": sys.argv[2], "coins": [{"denom": "uwicas", "amount": "500000"}]})
json.dump(g, open(sys.argv[1], "w"), indent=1)
PY
pass=$((pass + 1))

# usage errors exit 2
set +e
"$W" start >/dev/null 2>&1; [ $? -eq 2 ] || fail "start without --home should exit 2"
"$W" abci --home "$H" --address bogus://x >/dev/null 2>&1; [ $? -eq 1 ] || fail "abci with a bad address should exit 1"
# start and abci share one flag parser (node_setup.c): common flags checked
# the same way, each command's own flags refused by the other
"$W" abci >/dev/null 2>&1; [ $? -eq 2 ] || fail "abci without --home should exit 2"
"$W" abci --home "$H" --ai-threads 0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "abci --ai-threads 0 should exit 2"
"$W" start --home "$H" --ai-threads 4x >/dev/null 2>&1; [ $? -eq 2 ] || fail "start --ai-threads 4x should exit 2"
"$W" abci --home "$H" --abci-only >/dev/null 2>&1; [ $? -eq 2 ] || fail "abci accepted start's --abci-only"
"$W" start --home "$H" --address tcp://127.0.0.1:1 >/dev/null 2>&1; [ $? -eq 2 ] || fail "start accepted abci's --address"
"$W" start --home "$H" --snapshot-interval -1 >/dev/null 2>&1; [ $? -eq 2 ] || fail "start --snapshot-interval -1 should exit 2"
"$W" abci --home "$H" --snapshot-keep 0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "abci --snapshot-keep 0 should exit 2"
"$W" start --help | grep -q -- '--cometbft-log' || fail "start --help"
"$W" abci --help | grep -q -- '--address' || fail "abci --help"
set -e
pass=$((pass + 1))

# start, blocks, status
"$W" start --home "$H" >"$tmp/node.log" 2>&1 &
pid=$!
wait_height "$RPC" 3 60
"$W" status --node "tcp://$RPC" | grep -q "catching up:    no" || fail "status text"
"$W" status --node "http://$RPC" --output json | grep -q '"network":"wicas-it-1"' || fail "status json"
grep -q '^\[cometbft\]' "$tmp/node.log" || fail "cometbft log lines not forwarded with a prefix"
# a second node on the same home fails cleanly (ABCI port taken), exit 1
set +e
"$W" start --home "$H" >"$tmp/second.log" 2>&1; rc=$?
set -e
[ $rc -eq 1 ] || fail "second start on the same home exited $rc"
grep -q "already running" "$tmp/second.log" || fail "second start: unclear error: $(cat "$tmp/second.log")"
kill -0 "$pid" || fail "the running node died when a second one was tried"
out=$("$T" send "$RPC" wicas-it-1 $SK_A 0 0 "$B" 1234uwicas) || fail "send: $out"
[ "$("$T" balance "$RPC" "$B" uwicas)" = 1234 ] || fail "balance of B after the transfer"
# a replayed transaction (same sequence) is rejected and changes nothing
if "$T" send "$RPC" wicas-it-1 $SK_A 0 0 "$B" 1234uwicas >/dev/null 2>&1; then fail "replayed sequence accepted"; fi
[ "$("$T" balance "$RPC" "$B" uwicas)" = 1234 ] || fail "balance changed by a rejected tx"
pass=$((pass + 1))

# SIGTERM: exit 0, cometbft stopped first
cb=$(cat "$H/cometbft.pid")
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
pid=
[ $rc -eq 0 ] || fail "wicasd start exited $rc after SIGTERM (log: $(tail -5 "$tmp/node.log"))"
running "$cb" && fail "cometbft (pid $cb) still running after shutdown"
grep -q "cometbft stopped" "$tmp/node.log" || fail "no ordered shutdown in the log"
pass=$((pass + 1))

# restart resumes: same hashes for old heights, new blocks on top
set +e
"$W" start --home "$H" --minimum-gas-prices 1.5 >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "a malformed --minimum-gas-prices should exit 2, got $rc"
"$W" start --home "$H" --minimum-gas-prices 0.5uwicas >"$tmp/node2.log" 2>&1 &
pid=$!
wait_height "$RPC" 2 60
top=$(height "$RPC")
grep -q "chain state .*height [1-9]" "$tmp/node2.log" || fail "restart did not reopen the committed state (log: $(head -3 "$tmp/node2.log"))"
wait_height "$RPC" $((top + 2)) 30
a=$(app_hash "$RPC" 2); [ -n "$a" ] || fail "no app hash at height 2"
[ "$("$T" balance "$RPC" "$B" uwicas)" = 1234 ] || fail "balance lost across the restart"
# the minimum gas price is enforced by CheckTx: 2000uwicas < 200000 gas x 0.5
out=$("$T" send "$RPC" wicas-it-1 $SK_A 0 1 "$B" 1uwicas 2>/dev/null) && fail "fee below the minimum accepted"
echo "$out" | grep -q "code=13" || fail "low fee: expected code 13 (insufficient fee), got $out"
pass=$((pass + 1))

# SIGINT is a clean shutdown too
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
pid=
[ $rc -eq 0 ] || fail "wicasd start exited $rc after SIGINT"
pass=$((pass + 1))
# kill -9 of wicasd: its cometbft goes too (parent-death signal), the lock is
# released, and the next start resumes from the committed state
"$W" start --home "$H" >"$tmp/node3.log" 2>&1 &
pid=$!
h=$(height "$RPC"); [ "$h" -ge 0 ] || h=0
wait_height "$RPC" $((h + 2)) 30
cb=$(cat "$H/cometbft.pid")
kill -9 "$pid"
set +e; wait "$pid" 2>/dev/null; set -e
pid=
wait_dead "$cb" 10 || fail "cometbft (pid $cb) survived kill -9 of its wicasd"
"$W" start --home "$H" >"$tmp/node4.log" 2>&1 &
pid=$!
h=$(height "$RPC"); wait_height "$RPC" $((h + 2)) 60
[ "$("$T" balance "$RPC" "$B" uwicas)" = 1234 ] || fail "balance lost after kill -9"
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
pid=
[ $rc -eq 0 ] || fail "exit $rc after SIGTERM"
pass=$((pass + 1))
echo "$pass passed, 0 failed"

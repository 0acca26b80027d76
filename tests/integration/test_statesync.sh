#!/usr/bin/env bash
# State sync end to end: a 2-validator devnet takes snapshots every 20 blocks
# (`--snapshot-interval 20`); a new non-validator node with CometBFT's
# [statesync] enabled (rpc_servers = the two devnet RPCs, trust height/hash
# from a devnet block) restores the app state from a snapshot instead of
# replaying blocks (its block store starts at the snapshot, the app logs the
# verified restore), then follows the chain with the same app hashes and the
# same balances as the validators.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d /tmp/wicas-it-statesync-XXXXXX)
NET=$tmp/net
H=$tmp/joiner
pid=
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait_dead "$pid" 15 || true
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  [ -f "$H/cometbft.pid" ] && kill -9 "$(cat "$H/cometbft.pid")" 2>/dev/null || true
  "$W" devnet stop --home "$NET" >/dev/null 2>&1 || true
  for f in "$NET"/node*/wicasd.pid "$NET"/node*/cometbft.pid; do
    [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  if [ -n "${WICAS_KEEP_HOME:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
pass=0

A=$("$T" addr $SK_A) || fail "it_tool addr"
B=$("$T" addr $SK_B) || fail "it_tool addr"
port_block || fail "no free ports"
"$W" devnet start --validators 2 --home "$NET" --base-port "$PORT_BASE" --timeout-commit 200 --chain-id wicas-it-ss \
  --no-model --snapshot-interval 20 --account "$A:1000000uwicas" >"$tmp/devnet.log" 2>&1 ||
  fail "devnet start: $(tail -5 "$tmp/devnet.log")"
mapfile -t RPCS < <(grep -o '"rpc":[[:space:]]*[0-9]*' "$NET/devnet.json" | grep -o '[0-9]*$' | sed 's/^/127.0.0.1:/')
# some state worth syncing
for seq in 0 1; do
  out=$("$T" send "${RPCS[$seq]}" wicas-it-ss $SK_A 0 $seq "$B" 100uwicas) || fail "send $seq: $out"
done
wait_height "${RPCS[0]}" 22 60
ls "$NET/node0/data/wicas/snapshots" | grep -q "^0*20$" || fail "no snapshot at height 20 on node0: $(ls "$NET/node0/data/wicas/snapshots" 2>&1)"
[ "$(ls "$NET/node0/data/wicas/snapshots" | grep -c '^[0-9]*$')" -le 2 ] || fail "more than 2 snapshots kept"
pass=$((pass + 1))

# the joining node: same genesis, peers = the validators, state sync on
P=$((PORT_BASE + 30)) # the devnet uses PORT_BASE+0..12 of the block
RPC=127.0.0.1:$((P + 1))
"$W" init joiner --home "$H" --chain-id wicas-it-ss --base-port "$P" --fast --no-model >/dev/null || fail "init joiner"
cp "$NET/node0/config/genesis.json" "$H/config/genesis.json"
peers=$(for i in 0 1; do sed -n 's/^persistent_peers = "\(.*\)"/\1/p' "$NET/node$((1 - i))/config/config.toml"; done | paste -sd,)
trust_h=3
trust_hash=$(curl -s "http://${RPCS[0]}/block?height=$trust_h" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["block_id"]["hash"])')
[ -n "$trust_hash" ] || fail "no hash for block $trust_h"
python3 - "$H/config/config.toml" "$peers" "${RPCS[0]},${RPCS[1]}" "$trust_h" "$trust_hash" <<'PY'
import re, sys
path, peers, rpcs, th, thash = sys.argv[1:]
text = open(path).read()
def setkey(text, section, key, value):
    m = re.search(r'^\[%s\]\s*$' % re.escape(section), text, re.M)
    assert m, section
    end = re.search(r'^\[', text[m.end():], re.M)
    body_end = m.end() + (end.start() if end else len(text) - m.end())
    body = text[m.end():body_end]
    new, n = re.subn(r'^%s\s*=.*$' % re.escape(key), '%s = %s' % (key, value), body, count=1, flags=re.M)
    assert n == 1, key
    return text[:m.end()] + new + text[body_end:]
for sec, key, val in [("p2p", "persistent_peers", '"%s"' % peers), ("p2p", "addr_book_strict", "false"),
                      ("p2p", "allow_duplicate_ip", "true"), ("statesync", "enable", "true"),
                      ("statesync", "rpc_servers", '"%s"' % rpcs), ("statesync", "trust_height", th),
                      ("statesync", "trust_hash", '"%s"' % thash), ("statesync", "trust_period", '"168h0m0s"'),
                      ("statesync", "discovery_time", '"5s"')]:
    text = setkey(text, sec, key, val)
open(path, "w").write(text)
PY
"$W" start --home "$H" >"$tmp/joiner.log" 2>&1 &
pid=$!
target=$(height "${RPCS[0]}")
wait_height "$RPC" "$target" 120
grep -q "state restored from a snapshot; app hash verified" "$tmp/joiner.log" ||
  fail "joiner did not restore a snapshot: $(grep -i 'snapshot\|statesync\|state sync' "$tmp/joiner.log" | tail -5)"
snap_h=$(sed -n 's/.*restoring snapshot at height \([0-9]*\).*/\1/p' "$tmp/joiner.log" | tail -1)
[ -n "$snap_h" ] && [ "$snap_h" -ge 20 ] || fail "restored height '$snap_h'"
# no block history before the snapshot: it did not replay from genesis
curl -s "http://$RPC/block?height=2" | grep -q '"error"' || fail "joiner has block 2: it replayed instead of state-syncing"
pass=$((pass + 1))

# it follows the chain: same app hashes after the snapshot, same balances,
# also for a transfer made after it joined
out=$("$T" send "${RPCS[1]}" wicas-it-ss $SK_A 0 2 "$B" 50uwicas) || fail "send after join: $out"
txh=${out#height=}; txh=${txh%% *}
wait_height "$RPC" $((txh + 1)) 60
for ((h = snap_h + 1; h <= txh + 1; h++)); do
  a=$(app_hash "${RPCS[0]}" "$h"); j=$(app_hash "$RPC" "$h")
  [ -n "$a" ] && [ "$a" = "$j" ] || fail "height $h: joiner app hash '$j' != validator '$a'"
done
[ "$("$T" balance "$RPC" "$B" uwicas)" = 250 ] || fail "joiner: balance of B is not 250"
[ "$("$T" balance "$RPC" "$A" uwicas)" = "$("$T" balance "${RPCS[0]}" "$A" uwicas)" ] || fail "joiner: balance of A differs"
pass=$((pass + 1))
echo "$pass passed, 0 failed"

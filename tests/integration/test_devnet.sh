#!/usr/bin/env bash
# `wicasd devnet` with 4 validators of the real application on loopback:
# bank transfers and the nameservice contract (store, instantiate, register,
# resolve) go through different nodes; every node reports the same balances,
# the same contract answers and the same app hash at every height; with one validator
# stopped the chain keeps producing blocks; restarted, it catches up to the
# same hashes; `devnet stop` stops everything (wicasd and cometbft).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
devnet_setup devnet
pass=0

A=$("$T" addr $SK_A) || fail "it_tool addr"
B=$("$T" addr $SK_B) || fail "it_tool addr"
port_block || fail "no free ports"
"$W" devnet start --validators 4 --home "$NET" --base-port "$PORT_BASE" --timeout-commit 200 --chain-id wicas-it-net \
  --account "$A:1000000uwicas" >"$tmp/devnet.log" 2>&1 || fail "devnet start: $(tail -5 "$tmp/devnet.log")"
devnet_rpcs
[ ${#RPCS[@]} -eq 4 ] || fail "devnet.json lists ${#RPCS[@]} nodes"
cmp -s "$NET/node0/config/genesis.json" "$NET/node3/config/genesis.json" || fail "genesis differs between nodes"
[ "$(grep -c '"power":' "$NET/node0/config/genesis.json")" -eq 4 ] || fail "genesis does not hold 4 validators"
for r in "${RPCS[@]}"; do wait_height "$r" 5 60; done
pass=$((pass + 1))

same_hashes() { # same_hashes FROM TO NODES...
  local from=$1 to=$2; shift 2
  for ((h = from; h <= to; h++)); do
    local first=""
    for i in "$@"; do
      local a; a=$(app_hash "${RPCS[$i]}" "$h")
      [ -n "$a" ] || fail "node$i: no block $h"
      [ -z "$first" ] && first=$a
      [ "$a" = "$first" ] || fail "height $h: node$i app hash $a != $first"
    done
  done
}
same_hashes 1 5 0 1 2 3
pass=$((pass + 1))

# real transfers through different nodes; every node sees the same balances
for seq in 0 1 2; do
  out=$("$T" send "${RPCS[$((seq + 1))]}" wicas-it-net $SK_A 0 $seq "$B" 100uwicas) || fail "send $seq: $out"
done
txh=${out#height=}; txh=${txh%% *}
for i in 0 1 2 3; do
  wait_height "${RPCS[$i]}" $((txh + 1)) 30
  [ "$("$T" balance "${RPCS[$i]}" "$B" uwicas)" = 300 ] || fail "node$i: balance of B is not 300"
  [ "$("$T" balance "${RPCS[$i]}" "$A" uwicas)" = $((1000000 - 300 - 3 * 2000)) ] || fail "node$i: balance of A"
done
same_hashes 1 $((txh + 1)) 0 1 2 3
[ "$(app_hash "${RPCS[0]}" $((txh + 1)))" != "$(app_hash "${RPCS[0]}" 2)" ] || fail "app hash did not change with the transfers"
pass=$((pass + 1))

# the nameservice contract: store, instantiate, register a name (through
# different nodes); every node resolves it and agrees on every app hash
WASM=${WICAS_WASM_DIR:?}/nameservice.wasm
[ -f "$WASM" ] || fail "$WASM not built"
out=$("$T" store "${RPCS[0]}" wicas-it-net $SK_A 0 3 "$WASM") || fail "store: $out"
code_id=$(echo "$out" | sed -n 's/^code_id=//p'); [ -n "$code_id" ] || fail "no code_id event: $out"
out=$("$T" instantiate "${RPCS[1]}" wicas-it-net $SK_A 0 4 "$code_id" names \
  '{"purchase_price":{"denom":"uwicas","amount":"100"},"transfer_price":null}') || fail "instantiate: $out"
ns=$(echo "$out" | sed -n 's/^contract=//p'); [ -n "$ns" ] || fail "no _contract_address event: $out"
out=$("$T" execute "${RPCS[2]}" wicas-it-net $SK_A 0 5 "$ns" '{"register":{"name":"alice"}}' 100uwicas) ||
  fail "register: $out"
regh=${out#height=}; regh=${regh%% *}
# paying too little is rejected by the contract, with a clear log, and changes nothing
if "$T" execute "${RPCS[3]}" wicas-it-net $SK_A 0 6 "$ns" '{"register":{"name":"bob"}}' 1uwicas 2>"$tmp/bob.err"; then
  fail "underpaid register accepted"
fi
grep -q "Insufficient funds" "$tmp/bob.err" || fail "underpaid register: unclear error: $(cat "$tmp/bob.err")"
for i in 0 1 2 3; do
  wait_height "${RPCS[$i]}" $((regh + 1)) 30
  r=$("$T" smart "${RPCS[$i]}" "$ns" '{"resolve_record":{"name":"alice"}}') || fail "node$i: resolve"
  [ "$r" = "{\"address\":\"$A\"}" ] || fail "node$i: resolve_record gave $r"
  r=$("$T" smart "${RPCS[$i]}" "$ns" '{"resolve_record":{"name":"bob"}}') || fail "node$i: resolve bob"
  [ "$r" = '{"address":null}' ] || fail "node$i: bob resolved to $r"
done
same_hashes $((txh + 1)) $((regh + 1)) 0 1 2 3
pass=$((pass + 1))

# one validator down: 3 of 4 keep going
p3=$(cat "$NET/node3/wicasd.pid")
kill -TERM "$p3"
wait_dead "$p3" 20 || fail "node3 did not stop on SIGTERM"
h=$(height "${RPCS[0]}")
wait_height "${RPCS[0]}" $((h + 3)) 30
wait_height "${RPCS[1]}" $((h + 3)) 30
seq=7  # 0-2 transfers, 3-5 contract, 6 the failed register (a failed tx still uses its sequence)
out=$("$T" send "${RPCS[0]}" wicas-it-net $SK_A 0 $seq "$B" 50uwicas) || fail "send while node3 is down: $out"
pass=$((pass + 1))

# restart it: catches up with the same hashes
"$W" devnet start --home "$NET" >>"$tmp/devnet.log" 2>&1 || fail "devnet restart: $(tail -5 "$tmp/devnet.log")"
target=$(height "${RPCS[0]}")
wait_height "${RPCS[3]}" "$target" 60
same_hashes 2 "$target" 0 1 2 3
[ "$("$T" balance "${RPCS[3]}" "$B" uwicas)" = 350 ] || fail "node3 missed the transfer made while it was down"
r=$("$T" smart "${RPCS[3]}" "$ns" '{"resolve_record":{"name":"alice"}}') || fail "node3: resolve after restart"
[ "$r" = "{\"address\":\"$A\"}" ] || fail "node3 after restart: resolve_record gave $r"
pass=$((pass + 1))

# devnet stop: nothing left running
pids=$(cat "$NET"/node*/wicasd.pid)
cbs=$(cat "$NET"/node*/cometbft.pid 2>/dev/null || true)
"$W" devnet stop --home "$NET" >/dev/null || fail "devnet stop"
for p in $pids $cbs; do running "$p" && fail "pid $p still running after devnet stop"; done
pass=$((pass + 1))
echo "$pass passed, 0 failed"

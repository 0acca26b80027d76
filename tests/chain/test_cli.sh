#!/usr/bin/env bash
# test_cli.sh — the chain's CLI end to end against a real single-validator
# node (wicasd init/start + CometBFT): keys add/list/show/delete with an
# encrypted keyring (wrong passphrase refused), genesis add-account (bad coin
# strings refused with the chain's coin rules, the file untouched), tx bank
# send --gas auto --wait, query bank/auth, an overspending send failing with
# code 5, wasm store/instantiate/execute of the counter contract, smart/raw
# queries, and store queries whose inclusion/exclusion proofs the CLI verifies
# against the app hash in the next block header.
set -euo pipefail
W="$WICAS_BUILD_DIR/bin/wicasd"
T=$(mktemp -d /tmp/wicas_cli_XXXXXX)
NODE_PID=""
cleanup() {
  if [ -n "$NODE_PID" ]; then kill -TERM "$NODE_PID" 2>/dev/null || true; wait "$NODE_PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/node.log" ] && tail -20 "$T/node.log" >&2; exit 1; }
export WICAS_KEYRING_PASSPHRASE=correct-horse
H="$T/home"

# ---- keyring, offline
"$W" keys add alice --home "$H" >/dev/null
"$W" keys add bob --home "$H" --output json > "$T/bob.json"
grep -q '"address"' "$T/bob.json" || fail "keys add --output json"
"$W" keys add alice --home "$H" >/dev/null 2>&1 && fail "duplicate key accepted"
[ "$("$W" keys list --home "$H" --output json | grep -c '"name"')" = 2 ] || fail "keys list"
A=$("$W" keys show alice -a --home "$H"); B=$("$W" keys show bob -a --home "$H")
case "$A" in wicas1*) ;; *) fail "address $A";; esac
grep -q "$A" "$H/keyring-file/alice.key" || fail "key file"
! grep -qi "secret" "$H/keyring-file/alice.key" || fail "secret in clear"
"$W" keys add tmp --home "$H" >/dev/null && "$W" keys delete tmp -y --home "$H" >/dev/null
"$W" keys show tmp --home "$H" >/dev/null 2>&1 && fail "deleted key still shown"

# ---- node
. "$(dirname "$0")/../ports.sh"
port_block || { echo "FAIL: no free ports" >&2; exit 1; }
PORT=$PORT_BASE
"$W" init node0 --home "$H" --chain-id wicas-cli --fast --base-port "$PORT" >/dev/null
"$W" genesis add-account alice 1000000000uwicas --home "$H" >/dev/null
"$W" genesis add-account "$B" 5uwicas --home "$H" >/dev/null
"$W" genesis add-account "$B" 5uwicas --home "$H" >/dev/null 2>&1 && fail "duplicate genesis account accepted"
"$W" genesis add-account "$B" 5uwicas --append --home "$H" >/dev/null
"$W" genesis add-account "$B" 3ufoo,2ubar --append --home "$H" >/dev/null || fail "add-account of two denoms"
# bad coin strings (the chain's own coin rules): a clear error, genesis.json untouched
G="$H/config/genesis.json"
G0=$(sha256sum < "$G")
for bad in "0uwicas|amount 0" "5uwicas,3uwicas|duplicate denomination uwicas" \
           "99999999999999999999uwicas|amount does not fit in 64 bits" "5u|denom must match" \
           "5uw!cas|denom must match" ",5uwicas|want <amount><denom>" "5|want <amount><denom>"; do
  coins=${bad%%|*} want=${bad#*|}
  "$W" genesis add-account "$B" "$coins" --append --home "$H" > "$T/bad.txt" 2>&1 && fail "coins '$coins' accepted"
  grep -qF "$want" "$T/bad.txt" || fail "coins '$coins': want '$want', got: $(cat "$T/bad.txt")"
done
[ "$(sha256sum < "$G")" = "$G0" ] || fail "a refused add-account changed $G"
# devnet --account uses the same rules, and a refused one creates nothing
"$W" devnet init --home "$T/dn" --account "$B:0uwicas" --no-model > "$T/bad.txt" 2>&1 && fail "devnet zero coin accepted"
grep -qF "amount 0" "$T/bad.txt" || fail "devnet zero coin: $(cat "$T/bad.txt")"
[ ! -e "$T/dn" ] || fail "a refused devnet init created $T/dn"
"$W" start --home "$H" > "$T/node.log" 2>&1 &
NODE_PID=$!
N="tcp://127.0.0.1:$((PORT + 1))"
# wait for the first committed block (genesis state is committed with it)
for i in $(seq 1 150); do
  HT=$("$W" status --node "$N" 2>/dev/null | sed -n 's/^latest height: *//p' || true)
  [ -n "$HT" ] && [ "$HT" -ge 2 ] && break
  sleep 0.2
done
[ -n "$HT" ] && [ "$HT" -ge 2 ] || fail "node did not produce blocks"

# wrong passphrase: refused before anything is sent
WICAS_KEYRING_PASSPHRASE=wrong "$W" tx bank send alice "$B" 1uwicas --home "$H" --node "$N" > "$T/wp.txt" 2>&1 && fail "wrong passphrase accepted"
grep -q "wrong passphrase" "$T/wp.txt" || fail "wrong passphrase message: $(cat "$T/wp.txt")"

"$W" tx bank send alice "$B" 12345uwicas --home "$H" --node "$N" --gas auto --fees 2000uwicas --wait > "$T/send.txt" 2>&1 || fail "send: $(cat "$T/send.txt")"
grep -q "^code: 0" "$T/send.txt" || fail "send code"
grep -q "recipient: $B" "$T/send.txt" || fail "transfer event"
"$W" query bank balances "$B" --node "$N" --output json > "$T/bal.json"
grep -q '"12355"' "$T/bal.json" || fail "bob balance"
tr -d ' \t\n' < "$T/bal.json" | grep -q '{"denom":"ubar","amount":"2"}' || fail "bob ubar from genesis: $(cat "$T/bal.json")"
"$W" query auth account alice --home "$H" --node "$N" | grep -q "sequence: 1" || fail "alice sequence"
# overspend: included, fails with code 5, exit 1
"$W" tx bank send bob "$A" 999999uwicas --home "$H" --node "$N" --fees 1000uwicas --wait > "$T/over.txt" && fail "overspend succeeded"
grep -q "^code: 5" "$T/over.txt" || fail "overspend code: $(cat "$T/over.txt")"

# ---- wasm
if [ -f "$WICAS_WASM_DIR/counter.wasm" ]; then
  "$W" tx wasm store "$WICAS_WASM_DIR/counter.wasm" --from alice --home "$H" --node "$N" --gas auto --fees 20000uwicas --wait > "$T/store.txt" || fail "store: $(cat "$T/store.txt")"
  grep -q "code_id: 1" "$T/store.txt" || fail "code id"
  "$W" tx wasm instantiate 1 '{"count":41}' --label counter --admin "$A" --from alice --home "$H" --node "$N" --gas auto --fees 5000uwicas --wait > "$T/inst.txt" || fail "instantiate: $(cat "$T/inst.txt")"
  C=$(sed -n 's/^ *_contract_address: //p' "$T/inst.txt" | head -1)
  # wasmd's classic address of (code 1, instance 1): same bytes as wasm14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s0phg4d
  [ "$C" = "wicas14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9s7y2r3w" ] || fail "contract address $C"
  "$W" tx wasm execute "$C" '{"increment":{}}' --from alice --home "$H" --node "$N" --gas auto --gas-prices 0.01uwicas --wait > "$T/exec.txt" || fail "execute: $(cat "$T/exec.txt")"
  "$W" query wasm contract-state smart "$C" '{"get_count":{}}' --node "$N" --output json | grep -q '"count":[[:space:]]*42' || fail "count"
  "$W" query wasm contract-state raw "$C" state --node "$N" >/dev/null || fail "raw"
  "$W" query wasm list-contract-by-code 1 --node "$N" | grep -q "$C" || fail "list-contract-by-code"
  "$W" query wasm contract "$C" --node "$N" | grep -q "label: counter" || fail "contract info"
fi

# ---- proofs checked against the next header's app hash
K=$(printf 'auth/next_account_number' | od -An -tx1 | tr -d ' \n')
"$W" query store "$K" --prove --node "$N" | grep -q "proof: verified" || fail "inclusion proof"
"$W" query store 6e6f2d737563682d6b6579 --prove --node "$N" | grep -q "proof: verified" || fail "exclusion proof"
echo "cli ok"

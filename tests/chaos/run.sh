#!/usr/bin/env bash
# The chaos suite (`make chaos`): real CometBFT devnets of the real node under
# faults, with a load of bank, contract and AI transactions, then ONE table of
# figures. Nothing here asserts a timing: only that no accepted tx is lost or
# duplicated, that every node has the same block and app hash at every height,
# that the chain moves (or, with 2 of 4 validators paused, does not), and that
# byzantine data is rejected. Timings (catch-up, stall) are measured and printed.
#
#   tests/chaos/run.sh [--profile short|long] [--seed N] [--only statesync]
#     short (CI): 10 kills, 15 s pauses; long (default of `make chaos`): 50
#     kills, 30 s pauses, more byzantine rounds. The seed (printed) fixes which
#     validator each kill hits and which ones are paused.
#
# Scenarios (each in the table):
#  1. kill -9: a seeded-random validator of 4 (wicasd and its cometbft) is
#     killed while chaos_load sends txs; the 3 others must keep producing
#     blocks; it is restarted and must catch up (time measured, max printed).
#  2. pause: one validator SIGSTOPped for PAUSE_S (its view: a partition): the
#     chain goes on with 3 of 4; then 2 of 4 paused: no new height (at most the
#     one in flight); resumed, the chain goes on. The load runs throughout;
#     after 1 and 2 `chaos_load check` proves every accepted tx is in exactly
#     one block and all nodes agree on every block and app hash.
#  3. byzantine: node3 restarted with `--byzantine MODE` (a test-only fault
#     injector, see chain.h) while async AI requests flow: omit (well formed,
#     accepted), reorder / duplicate / forge (every such proposal rejected by
#     all honest nodes' ProcessProposal; the round moves on), unknown-id (its
#     vote extensions rejected by VerifyVoteExtension). Every request resolves
#     "agreed" with the text the synchronous path gives.
#  4. state sync: a second devnet whose node1..3 serve forged snapshots
#     (`--byzantine-snapshots forge-chain-id|bad-chunk|oversized-chunk`); a
#     joining node peered with only one of them must not restore (and stay
#     up, empty); one peered with all four restores from the honest data and
#     follows with the same app hashes.
#  5. fuzzing: rows of build-fuzz/fuzz-summary.tsv when `make fuzz-smoke` /
#     `make fuzz` wrote it ("not run" otherwise); never runs fuzzing itself.
#
# Environment: WICAS_BUILD_DIR, WICAS_COMETBFT, WICAS_WASM_DIR,
# WICAS_DEFAULT_MODEL (as ctest sets them; the Makefile target sets them too).
# Every process started here is killed on exit (trap), loopback only.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib.sh"
L=${WICAS_BUILD_DIR}/tests/chaos/chaos_load
[ -x "$L" ] || fail "$L not built"
[ -x "$T" ] || T=${WICAS_BUILD_DIR}/tests/integration/it_tool
[ -x "$T" ] || fail "it_tool not built"
MODEL=${WICAS_DEFAULT_MODEL:?}
[ -f "$MODEL" ] || fail "default model $MODEL missing (run scripts/setup model)"
export WICAS_MODELS_DIR=$(dirname "$MODEL")

PROFILE=long
ONLY=
SEED=${CHAOS_SEED:-}
while [ $# -gt 0 ]; do
  case $1 in
  --profile) PROFILE=$2; shift 2 ;;
  --seed) SEED=$2; shift 2 ;;
  --only) ONLY=$2; shift 2 ;;
  *) fail "usage: run.sh [--profile short|long] [--seed N] [--only statesync]" ;;
  esac
done
[ -n "$SEED" ] || SEED=$(( $(date +%s) % 100000 ))
case $PROFILE in
short) KILLS=6 PAUSE_S=15 STALL_S=10 BYZ_MAX=20 ;;
long) KILLS=50 PAUSE_S=30 STALL_S=30 BYZ_MAX=30 ;;
*) fail "profile must be short or long" ;;
esac
RANDOM=$SEED
echo "[chaos] profile $PROFILE, seed $SEED (rerun: tests/chaos/run.sh --profile $PROFILE --seed $SEED)"
T_START=$(date +%s)

# ---- bookkeeping --------------------------------------------------------------------------
FAILS=0
ROWS=()
row() { ROWS+=("$1|$2|$3"); } # row SCENARIO FIGURES OUTCOME
bad() { echo "[chaos] FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
now() { date +%s.%N; }
since() { awk "BEGIN{printf \"%.1f\", $(now) - $1}"; }
# await_height RPC H TIMEOUT_S: 0 when reached, 1 otherwise (no exit)
await_height() {
  local t=0
  while [ "$(height "$1")" -lt "$2" ]; do
    t=$((t + 1)); [ $t -gt $(($3 * 5)) ] && return 1
    sleep 0.2
  done
}
max_height() { # max_height NODE_INDEX... (of $RPCS)
  local m=-1 i h
  for i in "$@"; do h=$(height "${RPCS[$i]}"); [ "$h" -gt "$m" ] && m=$h; done
  echo "$m"
}

# ---- processes and cleanup ----------------------------------------------------------------
tmp=$(mktemp -d /tmp/wicas-chaos-XXXXXX)
NET=$tmp/net
NET2=$tmp/ssnet
LOAD_PID=
JOINERS=()
N_JOINERS=0
cleanup() {
  [ -n "$LOAD_PID" ] && kill -9 "$LOAD_PID" 2>/dev/null
  for net in "$NET" "$NET2"; do
    [ -d "$net" ] || continue
    for f in "$net"/node*/wicasd.pid "$net"/node*/cometbft.pid; do
      [ -f "$f" ] && kill -CONT "$(cat "$f")" 2>/dev/null
    done
    "$W" devnet stop --home "$net" >/dev/null 2>&1 || true
    for f in "$net"/node*/wicasd.pid "$net"/node*/cometbft.pid; do
      [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
  done
  for j in "${JOINERS[@]}"; do
    [ -f "$j/wicasd.pid" ] && kill -9 "$(cat "$j/wicasd.pid")" 2>/dev/null
    [ -f "$j/cometbft.pid" ] && kill -9 "$(cat "$j/cometbft.pid")" 2>/dev/null
  done
  if [ -n "${WICAS_KEEP_HOME:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports: a held block of 40 (tests/ports.sh port_block) when lib.sh provides
# it: both devnets use base PB (one after the other: P+10i+{0,1,2}), the
# joiners PB+3+10k; otherwise any free ports (--base-port 0, free_base_port).
PB=
if declare -F port_block >/dev/null; then port_block || fail "no free block of ports"; PB=$PORT_BASE; fi
DEVNET_BASE=${PB:-0}

pid_of() { cat "$1/node$2/$3.pid" 2>/dev/null; } # pid_of NET I wicasd|cometbft
# start_node NET I [flags]: wicasd start in the background (output to its node.log)
start_node() {
  local net=$1 i=$2; shift 2
  "$W" start --home "$net/node$i" "$@" >>"$net/node$i/node.log" 2>&1 &
  echo $! >"$net/node$i/wicasd.pid"
  disown $! # no job-control chatter when we kill it
}
# kill9_node NET I: SIGKILL to wicasd and its cometbft, waits until both are gone
kill9_node() {
  local p c; p=$(pid_of "$1" "$2" wicasd); c=$(pid_of "$1" "$2" cometbft)
  kill -9 "$p" 2>/dev/null; [ -n "$c" ] && kill -9 "$c" 2>/dev/null
  wait_dead "$p" 20 || return 1
  [ -z "$c" ] || wait_dead "$c" 20 || return 1
  rm -f "$1/node$2/cometbft.pid"
}
# term_node NET I: SIGTERM (clean stop)
term_node() {
  local p; p=$(pid_of "$1" "$2" wicasd)
  kill -TERM "$p" 2>/dev/null; wait_dead "$p" 30 || { kill -9 "$p"; local c; c=$(pid_of "$1" "$2" cometbft); [ -n "$c" ] && kill -9 "$c"; }
  true
}
signal_node() { # signal_node SIG NET I (wicasd and cometbft)
  kill -"$1" "$(pid_of "$2" "$3" wicasd)" 2>/dev/null
  local c; c=$(pid_of "$2" "$3" cometbft); [ -n "$c" ] && kill -"$1" "$c" 2>/dev/null
  true
}

A=$("$T" addr $SK_A) || fail "it_tool addr"
if [ "$ONLY" != statesync ]; then # (one compound command: bash parses it whole)
# ============================================================================================
# devnet 1: 4 validators with the default model; contracts; load accounts
# ============================================================================================
CHAIN=wicas-chaos
NACC=8
A=$("$T" addr $SK_A) || fail "it_tool addr"
accs=(--account "$A:1000000000uwicas")
for a in $("$L" addrs $NACC); do accs+=(--account "$a:1000000000uwicas"); done
"$W" devnet start --validators 4 --home "$NET" --base-port $DEVNET_BASE --timeout-commit 200 --chain-id $CHAIN \
  "${accs[@]}" >"$tmp/devnet.log" 2>&1 || fail "devnet start: $(tail -5 "$tmp/devnet.log")"
devnet_rpcs
ALL_RPCS=$(IFS=,; echo "${RPCS[*]}")
read -r ANUM _ < <("$L" account "${RPCS[0]}" "$A") || fail "account of A"
ASEQ=0
a_tx() { # a_tx KIND ARGS...: it_tool KIND with A's next sequence; its output in $out
  local kind=$1; shift
  local node=${RPCS[0]} # one node: it has the last one committed when it_tool returns
  if ! out=$("$T" "$kind" "$node" $CHAIN $SK_A "$ANUM" $ASEQ "$@" 2>&1); then
    read -r ANUM ASEQ < <("$L" account "$node" "$A") # a tx that failed in its block still used its sequence
    return 1
  fi
  ASEQ=$((ASEQ + 1))
}
a_tx store "$WICAS_WASM_DIR/counter.wasm" || fail "store counter: $out"
cid=$(echo "$out" | sed -n 's/^code_id=//p')
a_tx instantiate "$cid" counter '{"count":0}' || fail "instantiate counter: $out"
COUNTER=$(echo "$out" | sed -n 's/^contract=//p')
a_tx store "$WICAS_WASM_DIR/nameservice-ai.wasm" || fail "store nameservice-ai: $out"
cid=$(echo "$out" | sed -n 's/^code_id=//p')
a_tx instantiate "$cid" names-ai \
  '{"purchase_price":null,"transfer_price":null,"model":"smollm2-135m","max_tokens":4}' || fail "instantiate: $out"
NSAI=$(echo "$out" | sed -n 's/^contract=//p')
a_tx execute "$NSAI" '{"register":{"name":"chaos"}}' - || fail "register: $out"
# the synchronous answer: what every agreed asynchronous request must give too
a_tx execute "$NSAI" '{"describe":{"name":"chaos"}}' - || fail "describe: $out"
# (the node queried may not have applied that block yet: wait for it, bounded)
SYNC_TEXT=""
for _ in $(seq 60); do
  d=$("$T" smart "${RPCS[1]}" "$NSAI" '{"description":{"name":"chaos"}}' 2>/dev/null || true)
  if echo "$d" | jq -e '.text | type == "string"' >/dev/null 2>&1; then SYNC_TEXT=$(echo "$d" | jq -r .text); break; fi
  sleep 1
done
[ -n "$SYNC_TEXT" ] || fail "no synchronous description on node1 within 60 s"
echo "[chaos] devnet up (4 validators), counter $COUNTER, nameservice-ai $NSAI, sync text '$SYNC_TEXT'"

# ---- the load -----------------------------------------------------------------------------
ACCEPTED=$tmp/accepted.txt
: >"$ACCEPTED"
"$L" run --rpc "$ALL_RPCS" --chain-id $CHAIN --accounts $NACC --out "$ACCEPTED" --stop "$tmp/stop" \
  --counter "$COUNTER" --ai "$NSAI" >"$tmp/load.out" 2>"$tmp/load.err" &
LOAD_PID=$!
sleep 3

# ============================================================================================
# 1. kill -9 of a random validator, KILLS times
# ============================================================================================
survived=0 max_cu=0 sum_cu=0 stalls=0
for ((k = 1; k <= KILLS; k++)); do
  i=$((RANDOM % 4))
  live=(); for j in 0 1 2 3; do [ $j -ne $i ] && live+=($j); done
  kill9_node "$NET" $i || { bad "kill $k: node$i did not die"; break; }
  h=$(max_height "${live[@]}")
  # the 3 others keep producing blocks
  if ! await_height "${RPCS[${live[0]}]}" $((h + 2)) 120; then
    bad "kill $k (node$i): the 3 others did not advance from $h in 120 s"; stalls=$((stalls + 1))
  fi
  start_node "$NET" $i
  t0=$(now)
  target=$(max_height "${live[@]}")
  if await_height "${RPCS[$i]}" "$target" 180; then
    cu=$(since "$t0"); survived=$((survived + 1))
    max_cu=$(awk "BEGIN{print ($cu > $max_cu) ? $cu : $max_cu}")
    sum_cu=$(awk "BEGIN{print $sum_cu + $cu}")
    echo "[chaos] kill $k/$KILLS: node$i killed at height $h, restarted, caught up to $target in $cu s"
  else
    bad "kill $k: node$i did not catch up to $target in 180 s (at $(height "${RPCS[$i]}"))"
  fi
done
mean_cu=$(awk "BEGIN{printf \"%.1f\", $survived ? $sum_cu / $survived : 0}")
row "kill -9 random validator of 4 (seed $SEED)" "$survived/$KILLS kills survived, catch-up max ${max_cu} s mean ${mean_cu} s" \
  "$([ $survived -eq $KILLS ] && [ $stalls -eq 0 ] && echo ok || echo FAIL)"

# ============================================================================================
# 2. pauses: 1 of 4 (chain goes on), then 2 of 4 (chain stops), resumed
# ============================================================================================
i=$((RANDOM % 4))
live=(); for j in 0 1 2 3; do [ $j -ne $i ] && live+=($j); done
signal_node STOP "$NET" $i
tp=$(now)
h0=$(max_height "${live[@]}")
sleep "$PAUSE_S"
# still paused: the 3 others go on (at least 3 new heights; waited for, not timed)
p1=ok
await_height "${RPCS[${live[0]}]}" $((h0 + 3)) 180 || { bad "1 of 4 paused: the chain did not get past $h0 + 3"; p1=FAIL; }
h1=$(max_height "${live[@]}")
paused_for=$(since "$tp")
signal_node CONT "$NET" $i
t0=$(now)
if await_height "${RPCS[$i]}" "$h1" 120; then cu1=$(since "$t0"); else bad "paused node$i did not catch up"; p1=FAIL; cu1=-; fi
row "SIGSTOP 1 of 4 (node$i, ${paused_for} s)" "heights $h0 -> $h1 while paused (3 of 4 go on); caught up in $cu1 s after SIGCONT" "$p1"
echo "[chaos] pause 1 of 4: node$i paused ${paused_for} s, chain $h0 -> $h1, caught up in $cu1 s"

i=$((RANDOM % 4)); j=$(( (i + 1 + RANDOM % 3) % 4 ))
live=(); for x in 0 1 2 3; do [ $x -ne $i ] && [ $x -ne $j ] && live+=($x); done
signal_node STOP "$NET" $i; signal_node STOP "$NET" $j
sleep 5 # a height already decided may still finish
s0=$(max_height "${live[@]}")
sleep "$STALL_S"
s1=$(max_height "${live[@]}")
signal_node CONT "$NET" $i; signal_node CONT "$NET" $j
p2=ok
[ "$s1" -le $((s0 + 1)) ] || { bad "2 of 4 paused: chain still advanced $s0 -> $s1"; p2=FAIL; }
for x in 0 1 2 3; do
  await_height "${RPCS[$x]}" $((s1 + 3)) 180 || { bad "after resuming 2 of 4: node$x did not reach $((s1 + 3))"; p2=FAIL; }
done
row "SIGSTOP 2 of 4 for ${STALL_S} s (node$i, node$j)" "heights $s0 -> $s1 while paused (stopped); all reached $((s1 + 3)) after SIGCONT" "$p2"
echo "[chaos] pause 2 of 4: node$i+node$j, chain $s0 -> $s1 in ${STALL_S} s; resumed"

# ---- the ledger after 1 and 2 -------------------------------------------------------------
touch "$tmp/stop"
wait "$LOAD_PID"; LOAD_PID=
LOAD_FIGS=$(cat "$tmp/load.out")
echo "[chaos] load: $LOAD_FIGS"
top=$(max_height 0 1 2 3)
for x in 0 1 2 3; do await_height "${RPCS[$x]}" "$top" 120 || bad "node$x did not reach $top"; done
CHECK=$("$L" check --rpc "$ALL_RPCS" --accepted "$ACCEPTED" 2>"$tmp/check.err"); crc=$?
echo "[chaos] ledger: $CHECK"
[ $crc -eq 0 ] || { bad "ledger check: $(head -5 "$tmp/check.err")"; }
kinds=$(awk '{print $2}' "$ACCEPTED" | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')
row "load during 1+2 (8 accounts, every node)" "$LOAD_FIGS ($kinds)" "$([ "$(echo "$LOAD_FIGS" | sed 's/.*accepted=\([0-9]*\).*/\1/')" -gt 0 ] && echo ok || echo FAIL)"
row "ledger after 1+2: each accepted tx once, same hashes" "$CHECK" "$([ $crc -eq 0 ] && echo ok || echo FAIL)"

# ============================================================================================
# 3. byzantine node3
# ============================================================================================
request_record() { # the chain's record of asynchronous request $1 (JSON), empty if none
  local data; data=$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n')
  curl -s --max-time 5 "http://${RPCS[0]}/abci_query?path=%22/wicas.ai.v1.Query/Request%22&data=0x$data" |
    json_str value | base64 -d 2>/dev/null
}
# the async AI requests the load made during 1 and 2: all resolve "agreed", with the synchronous text
next_req=1 ag=0 other=""
while rec=$(request_record $next_req); [ -n "$rec" ]; do
  t=0
  while [ "$(echo "$rec" | jq -r .status 2>/dev/null)" = pending ] && [ $t -lt 240 ]; do
    t=$((t + 1)); sleep 0.5; rec=$(request_record $next_req)
  done
  if [ "$(echo "$rec" | jq -r .status)" = agreed ] && [ "$(echo "$rec" | jq -r .text)" = "$SYNC_TEXT" ]; then ag=$((ag + 1))
  else other="$other $next_req:$(echo "$rec" | jq -r .status)"; bad "async request $next_req: $rec"; fi
  next_req=$((next_req + 1))
done
row "async AI requests during 1+2" "$ag/$((next_req - 1)) agreed with the synchronous text${other:+; others:$other}" \
  "$([ -z "$other" ] && [ $ag -gt 0 ] && echo ok || echo FAIL)"
byz_ok=0 byz_total=0
V3=$(curl -s --max-time 5 "http://${RPCS[3]}/status" | json_str address)
[ -n "$V3" ] || fail "no validator address of node3"
# honest_rejections: how many times honest nodes 0..2 rejected node3's
# tampering since this round began (ProcessProposal, or VerifyVoteExtension
# for unknown-id)
honest_rejections() {
  local x c pat h=0
  if [ $mode = unknown-id ]; then pat='rejecting a vote extension at height [0-9]*: .*not pending'
  else pat='rejecting the proposal for height'; fi
  for x in 0 1 2; do
    c=$(tail -n +$((${off[$x]} + 1)) "$NET/node$x/node.log" | grep -c "$pat")
    h=$((h + c))
  done
  echo $h
}
for mode in omit reorder duplicate forge unknown-id; do
  term_node "$NET" 3
  log3=$NET/node3/node.log
  off3=$(wc -l <"$log3")
  declare -A off=()
  for x in 0 1 2; do off[$x]=$(wc -l <"$NET/node$x/node.log"); done
  start_node "$NET" 3 --byzantine $mode
  await_height "${RPCS[3]}" "$(max_height 0 1 2)" 120 || bad "byzantine $mode: node3 did not catch up"
  first=$next_req n=0 tampered=0
  while [ $n -lt $BYZ_MAX ]; do
    a_tx execute "$NSAI" '{"describe_async":{"name":"chaos"}}' - || { bad "byzantine $mode: describe_async: $out"; break; }
    n=$((n + 1)); next_req=$((next_req + 1))
    tampered=$(tail -n +$((off3 + 1)) "$log3" | grep -c 'byzantine (test fault injector)')
    # the precondition of this round's checks: node3 misbehaved and (for a
    # forged proposal) an honest node got it in time to judge it; on a loaded
    # machine a late proposal times out unseen, so keep making requests
    # (bounded by BYZ_MAX) until that has happened at least once
    [ $n -ge 2 ] && [ "$tampered" -ge 1 ] && { [ $mode = omit ] || [ "$(honest_rejections)" -ge 1 ]; } && break
  done
  # every request of this round resolves, agreed, with the synchronous text
  res_ok=1
  for ((r = first; r < next_req; r++)); do
    t=0
    while rec=$(request_record $r); [ "$(echo "$rec" | jq -r .status 2>/dev/null)" = pending ]; do
      t=$((t + 1)); [ $t -gt 240 ] && break; sleep 0.5
    done
    if [ "$(echo "$rec" | jq -r .status 2>/dev/null)" != agreed ] || [ "$(echo "$rec" | jq -r .text)" != "$SYNC_TEXT" ]; then
      bad "byzantine $mode: request $r: $rec"; res_ok=0
    fi
  done
  sleep 2
  tampered=$(tail -n +$((off3 + 1)) "$log3" | grep -c 'byzantine (test fault injector)')
  # what became of it: a tampered proposal must never be the committed block
  # of its height (reorder/duplicate/forge: ProcessProposal rejects it on the
  # honest nodes, the round moves on to another proposer); omit is well formed
  hs=$(tail -n +$((off3 + 1)) "$log3" | sed -n 's/.*byzantine (test fault injector).* height \([0-9]*\).*/\1/p' | sort -un)
  committed_byz=0 kept_out=0
  for hh in $hs; do
    await_height "${RPCS[0]}" "$hh" 60 || true
    pa=$(curl -s --max-time 5 "http://${RPCS[0]}/block?height=$hh" | json_str proposer_address)
    [ "$pa" = "$V3" ] && committed_byz=$((committed_byz + 1)) || kept_out=$((kept_out + 1))
  done
  hrej=$(honest_rejections)
  ok=1
  [ "$tampered" -ge 1 ] || { bad "byzantine $mode: node3 never got to misbehave in $n requests"; ok=0; }
  [ $res_ok -eq 1 ] || ok=0
  case $mode in
  omit)
    verdict="$tampered proposals with a vote left out; $committed_byz committed (well formed)" ;;
  unknown-id)
    [ $hrej -ge 1 ] || { bad "byzantine unknown-id: no honest node rejected an extension"; ok=0; }
    verdict="$tampered extensions with an unknown id; $hrej rejections by honest VerifyVoteExtension" ;;
  *)
    [ $committed_byz -eq 0 ] || { bad "byzantine $mode: $committed_byz forged proposals were committed"; ok=0; }
    [ $hrej -ge 1 ] || { bad "byzantine $mode: no honest ProcessProposal rejection logged"; ok=0; }
    verdict="$tampered forged proposals, $kept_out/$tampered kept out of the chain, $hrej honest ProcessProposal rejections" ;;
  esac
  byz_total=$((byz_total + 1)); [ $ok -eq 1 ] && byz_ok=$((byz_ok + 1))
  row "byzantine node3: $mode" "$verdict; $n async requests all agreed, text unchanged" "$([ $ok -eq 1 ] && echo ok || echo FAIL)"
  echo "[chaos] byzantine $mode: $verdict; requests $first..$((next_req - 1))"
done
term_node "$NET" 3
start_node "$NET" 3
top=$(max_height 0 1 2)
await_height "${RPCS[3]}" $((top + 2)) 120 || bad "honest node3 did not catch up after the byzantine rounds"
CHECK2=$("$L" check --rpc "$ALL_RPCS" --accepted "$ACCEPTED" 2>"$tmp/check2.err"); crc=$?
[ $crc -eq 0 ] || bad "final ledger check: $(head -5 "$tmp/check2.err")"
HEIGHTS=$(echo "$CHECK2" | sed -n 's/^heights=\([0-9.]*\).*/\1/p')
row "ledger at the end (all heights, all nodes)" "$CHECK2" "$([ $crc -eq 0 ] && echo ok || echo FAIL)"
"$W" devnet stop --home "$NET" >/dev/null 2>&1
for f in "$NET"/node*/wicasd.pid "$NET"/node*/cometbft.pid; do wait_dead "$(cat "$f" 2>/dev/null)" 20 || true; done
fi

# ============================================================================================
# 4. malicious state-sync peers
# ============================================================================================
SS=wicas-chaos-ss
"$W" devnet init --validators 4 --home "$NET2" --base-port $DEVNET_BASE --timeout-commit 200 --chain-id $SS \
  --no-model --account "$A:1000000uwicas" >"$tmp/devnet2.log" 2>&1 ||
  fail "devnet 2 init: $(tail -5 "$tmp/devnet2.log")"
NET_SAVE=$NET; NET=$NET2; devnet_rpcs; NET=$NET_SAVE
# node0 honest, node1..3 each serving one kind of forged snapshot; every
# snapshot kept (no pruning while joiners fetch)
SMODES=(honest forge-chain-id bad-chunk oversized-chunk)
start_node "$NET2" 0 --snapshot-interval 10 --snapshot-keep 100
for x in 1 2 3; do
  start_node "$NET2" $x --snapshot-interval 10 --snapshot-keep 100 --byzantine-snapshots "${SMODES[$x]}"
done
for x in 0 1 2 3; do await_height "${RPCS[$x]}" 2 120 || fail "state sync devnet: node$x did not start"; done
B=$("$T" addr $SK_B)
"$T" send "${RPCS[0]}" $SS $SK_A 0 0 "$B" 100uwicas >/dev/null || bad "state sync devnet: send"
await_height "${RPCS[0]}" 22 120 || fail "state sync devnet did not reach 22"
for x in 0 1 2 3; do await_height "${RPCS[$x]}" 22 120 || fail "state sync devnet node$x did not reach 22"; done
trust_hash=$(curl -s "http://${RPCS[0]}/block?height=3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["block_id"]["hash"])')
# nodeid I: "ID@127.0.0.1:P2P" of devnet-2 node I (from another node's persistent_peers)
nodeid() {
  local port; port=$(grep -o '"p2p":[[:space:]]*[0-9]*' "$NET2/devnet.json" | sed -n "$(($1 + 1))p" | grep -o '[0-9]*$')
  sed -n 's/^persistent_peers = "\(.*\)"/\1/p' "$NET2/node$(( ($1 + 1) % 4 ))/config/config.toml" | tr ',' '\n' | grep -E ":$port\$"
}
# joiner NAME PEER_INDEXES...: a new node that state-syncs from those peers only
joiner() {
  local name=$1; shift
  local H=$tmp/$name P peers="" x
  if [ -n "$PB" ]; then P=$((PB + 3 + 10 * N_JOINERS)); else P=$(free_base_port); fi
  N_JOINERS=$((N_JOINERS + 1))
  "$W" init "$name" --home "$H" --chain-id $SS --base-port "$P" --fast --no-model >/dev/null || fail "init $name"
  cp "$NET2/node0/config/genesis.json" "$H/config/genesis.json"
  for x in "$@"; do peers="${peers:+$peers,}$(nodeid "$x")"; done
  python3 - "$H/config/config.toml" "$peers" "${RPCS[0]},${RPCS[1]}" 3 "$trust_hash" <<'PY'
import re, sys
path, peers, rpcs, th, thash = sys.argv[1:]
text = open(path).read()
def setkey(text, section, key, value):
    m = re.search(r'^\[%s\]\s*$' % re.escape(section), text, re.M)
    end = re.search(r'^\[', text[m.end():], re.M)
    body_end = m.end() + (end.start() if end else len(text) - m.end())
    body = text[m.end():body_end]
    new, n = re.subn(r'^%s\s*=.*$' % re.escape(key), '%s = %s' % (key, value), body, count=1, flags=re.M)
    assert n == 1, key
    return text[:m.end()] + new + text[body_end:]
for sec, key, val in [("p2p", "persistent_peers", '"%s"' % peers), ("p2p", "pex", "false"),
                      ("p2p", "addr_book_strict", "false"), ("p2p", "allow_duplicate_ip", "true"),
                      ("statesync", "enable", "true"), ("statesync", "rpc_servers", '"%s"' % rpcs),
                      ("statesync", "trust_height", th), ("statesync", "trust_hash", '"%s"' % thash),
                      ("statesync", "trust_period", '"168h0m0s"'), ("statesync", "discovery_time", '"5s"')]:
    text = setkey(text, sec, key, val)
open(path, "w").write(text)
PY
  "$W" start --home "$H" >"$H/node.log" 2>&1 &
  echo $! >"$H/wicasd.pid"
  disown $!
  JOINERS+=("$H")
  JRPC=127.0.0.1:$((P + 1))
}
joiner j-all 0 1 2 3; J_HONEST=$JRPC
declare -A JR=()
for x in 1 2 3; do joiner "j-${SMODES[$x]}" $x; JR[$x]=$JRPC; done
target=$(height "${RPCS[0]}")
ss_ok=0
# the one with an honest peer: restores and follows with the same app hashes
if await_height "$J_HONEST" "$target" 180 && grep -q "state restored from a snapshot; app hash verified" "$tmp/j-all/node.log"; then
  snap_h=$(sed -n 's/.*restoring snapshot at height \([0-9]*\).*/\1/p' "$tmp/j-all/node.log" | tail -1)
  # compare at least three heights after the snapshot (the chain may have been
  # below the snapshot height when target was read)
  [ "$target" -ge $((snap_h + 3)) ] || target=$((snap_h + 3))
  await_height "${RPCS[0]}" "$target" 120 || bad "state sync devnet did not reach $target"
  await_height "$J_HONEST" "$target" 120 || bad "joiner (all peers) did not reach $target"
  same=1
  for ((hh = snap_h + 1; hh <= target; hh++)); do
    [ "$(app_hash "${RPCS[0]}" $hh)" = "$(app_hash "$J_HONEST" $hh)" ] || { same=0; bad "joiner (all peers): app hash differs at $hh"; }
  done
  [ "$("$T" balance "$J_HONEST" "$B" uwicas)" = 100 ] || { same=0; bad "joiner (all peers): wrong balance"; }
  retried=$(grep -c 'fetching it again\|refused\|snapshot rejected' "$tmp/j-all/node.log")
  [ $same -eq 1 ] && ss_ok=$((ss_ok + 1))
  row "state sync, 1 honest + 3 malicious peers" "restored at $snap_h, same app hashes $((snap_h + 1))..$target; $retried forged items refused on the way" "$([ $same -eq 1 ] && echo ok || echo FAIL)"
else
  bad "joiner with an honest peer did not state-sync: $(grep -i 'snapshot\|chunk' "$tmp/j-all/node.log" | tail -3)"
  row "state sync, 1 honest + 3 malicious peers" "did not restore" FAIL
fi
# the ones with only a malicious peer: refuse, stay up, write nothing
for x in 1 2 3; do
  m=${SMODES[$x]} H=$tmp/j-${SMODES[$x]} t=0
  pat='OfferSnapshot at height .* refused\|does not match its hash\|snapshot rejected\|too large\|exceeds'
  while ! grep -q "$pat" "$H/node.log" && [ $t -lt 120 ]; do t=$((t + 1)); sleep 1; done
  why=$(grep -o "$pat" "$H/node.log" | head -1)
  ok=1
  [ -n "$why" ] || { bad "state sync $m: no refusal logged in 120 s: $(grep -i 'snapshot\|chunk' "$H/node.log" | tail -3)"; ok=0; }
  ! grep -q "state restored from a snapshot" "$H/node.log" || { bad "state sync $m: the joiner RESTORED the forged snapshot"; ok=0; }
  up=$(running "$(cat "$H/wicasd.pid")" && echo "node up" || echo "node exited")
  mon=$(curl -s --max-time 5 "http://${JR[$x]}/status" | json_str moniker)
  ah=$(curl -s --max-time 5 "http://${JR[$x]}/abci_info" | json_str last_block_height)
  if [ "$mon" != "j-$m" ]; then
    up="$up, RPC not answering as j-$m (answered '$mon')"
  else
    [ -z "$ah" ] || [ "$ah" = 0 ] || { bad "state sync $m: joiner app at height $ah"; ok=0; }
  fi
  [ $ok -eq 1 ] && ss_ok=$((ss_ok + 1))
  row "state sync, only a $m peer" "$([ -n "$why" ] && echo "refused (\"$why\")" || echo "NOT refused"), app height ${ah:-0}, $up" "$([ $ok -eq 1 ] && echo ok || echo FAIL)"
done
"$W" devnet stop --home "$NET2" >/dev/null 2>&1

# ============================================================================================
# 5. fuzzing figures (from make fuzz-smoke / make fuzz; not run here)
# ============================================================================================
FZ=${WICAS_FUZZ_SUMMARY:-${WICAS_SOURCE_DIR:-$HERE/../..}/build-fuzz/fuzz-summary.tsv}
if [ -f "$FZ" ]; then
  while IFS=$'\t' read -r tgt secs execs cov crashes; do
    [ "$tgt" = target ] && continue
    row "fuzz $tgt" "$execs execs in $secs s, $cov edges, $crashes crashes" "$([ "$crashes" = 0 ] && echo ok || echo FAIL)"
  done <"$FZ"
else
  row "fuzz targets" "not run (no $FZ; make fuzz-smoke writes it)" "-"
fi

# ============================================================================================
# the table
# ============================================================================================
ELAPSED=$(( $(date +%s) - T_START ))
{
  echo
  echo "WICAS chaos — profile $PROFILE, seed $SEED, $(nproc) cores, $ELAPSED s, heights ${HEIGHTS:-?}"
  printf '%-52s | %-7s | %s\n' "scenario" "outcome" "figures"
  printf '%s\n' "$(printf -- '-%.0s' {1..140})"
  for r in "${ROWS[@]}"; do
    IFS='|' read -r a b c <<<"$r"
    printf '%-52s | %-7s | %s\n' "$a" "$c" "$b"
  done
  echo "failures: $FAILS"
} | tee "$tmp/table.txt"
[ -n "${CHAOS_TABLE:-}" ] && cp "$tmp/table.txt" "$CHAOS_TABLE"
[ $FAILS -eq 0 ]

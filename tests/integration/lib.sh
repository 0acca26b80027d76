# lib.sh — helpers for the node integration tests (sourced): free ports, JSON
# field extraction without jq, waiting for heights, killing what we started.
W=${WICAS_BUILD_DIR:?}/bin/wicasd
export WICAS_COMETBFT=${WICAS_COMETBFT:?}

T=${WICAS_IT_TOOL:-${WICAS_BUILD_DIR}/tests/integration/it_tool}
# Two fixed test keys (secp256k1 secrets) and their addresses.
SK_A=0101010101010101010101010101010101010101010101010101010101010101
SK_B=0202020202020202020202020202020202020202020202020202020202020202

fail() { echo "FAIL: $*" >&2; exit 1; }

# Ports: each test holds a block of 40 (tests/ports.sh); call port_block in
# the test's own shell, then use $PORT_BASE .. $PORT_BASE+39.
. "$(dirname "${BASH_SOURCE[0]}")/../ports.sh"

# First "key":"value" string of a JSON text on stdin.
json_str() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | sed 's/.*:"\(.*\)"/\1/'; }

# Latest height of the node whose RPC is at $1 (127.0.0.1:PORT), or -1.
height() {
  local h
  h=$(curl -s --max-time 2 "http://$1/status" | json_str latest_block_height) || true
  echo "${h:--1}"
}

# Header app hash of block $2 on node $1.
app_hash() { curl -s --max-time 5 "http://$1/block?height=$2" | json_str app_hash; }

# wait_height RPC H TIMEOUT_S
wait_height() {
  local t=0
  while [ "$(height "$1")" -lt "$2" ]; do
    t=$((t + 1))
    [ $t -gt $(($3 * 5)) ] && fail "node $1 did not reach height $2 in $3 s (at $(height "$1"))"
    sleep 0.2
  done
}

# Is PID running? (a zombie waiting to be reaped by init is not)
running() {
  kill -0 "$1" 2>/dev/null || return 1
  local st
  st=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$st" != Z ]
}

# wait_dead PID TIMEOUT_S — returns 1 if still alive.
wait_dead() {
  local t=0
  while running "$1"; do
    t=$((t + 1)); [ $t -gt $(($2 * 10)) ] && return 1; sleep 0.1
  done
  return 0
}

# ---- devnets -----------------------------------------------------------------
# devnet_setup NAME: $tmp (a fresh folder) and $NET (its devnet home), and an
# EXIT trap that stops the devnet, kills whatever it left and removes $tmp
# (kept when WICAS_KEEP_HOME is set).
devnet_setup() {
  tmp=$(mktemp -d "/tmp/wicas-it-$1-XXXXXX")
  NET=$tmp/net
  trap devnet_cleanup EXIT
}
devnet_cleanup() {
  "$W" devnet stop --home "$NET" >/dev/null 2>&1 || true
  for f in "$NET"/node*/wicasd.pid "$NET"/node*/cometbft.pid; do
    [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  if [ -n "${WICAS_KEEP_HOME:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
# devnet_rpcs: RPCS=(127.0.0.1:PORT ...) of the nodes in $NET/devnet.json
devnet_rpcs() {
  mapfile -t RPCS < <(grep -o '"rpc":[[:space:]]*[0-9]*' "$NET/devnet.json" | grep -o '[0-9]*$' | sed 's/^/127.0.0.1:/')
}
# restart_node I [wicasd start flags...]: stops node I of $NET and starts it
# again with the flags (environment given to the call reaches wicasd), then
# waits until it has caught up with node0.
restart_node() {
  local i=$1; shift
  local p; p=$(cat "$NET/node$i/wicasd.pid")
  kill -TERM "$p"; wait_dead "$p" 20 || fail "node$i did not stop"
  "$W" start --home "$NET/node$i" "$@" >>"$NET/node$i/node.log" 2>&1 &
  echo $! >"$NET/node$i/wicasd.pid"
  wait_height "${RPCS[$i]}" "$(height "${RPCS[0]}")" 60
}

# ports.sh — loopback ports for the tests that start nodes (sourced).
#
# Why not "bind port 0, read it, close": the port is free again the moment it
# is closed, so two tests running in parallel (ctest -j) can be handed the same
# one, and a port in the kernel's ephemeral range can be taken by any outgoing
# connection before the node listens on it. Instead each test holds a BLOCK of
# WICAS_PORT_BLOCK ports for its whole life: block b is ports
# WICAS_PORT_LO + b*WICAS_PORT_BLOCK .. +WICAS_PORT_BLOCK-1, in 10000..19999:
# below the ephemeral range (32768+ on Linux) and apart from the ports that
# CometBFT and wicasd use by default (26656..26658), owned by whoever holds an flock on
# $TMPDIR/wicas-test-ports/block-b.lock. The lock lives on file descriptor 9 of
# the calling shell (so call port_block in the test's own shell, never in a
# $(...) subshell) and goes away when the test exits, however it exits. A
# block whose ports are not all bindable (something outside this scheme uses
# one) is passed over. tests/test_ports.h is the same scheme for C tests.
WICAS_PORT_LO=10000
WICAS_PORT_BLOCK=40
WICAS_PORT_BLOCKS=250 # 10000..19999

# port_block: sets PORT_BASE to the first port of a block held by this shell.
port_block() {
  local dir=${TMPDIR:-/tmp}/wicas-test-ports i b base start
  mkdir -p "$dir"
  start=$(( ($$ * 7 + RANDOM) % WICAS_PORT_BLOCKS ))
  for ((i = 0; i < WICAS_PORT_BLOCKS; i++)); do
    b=$(( (start + i) % WICAS_PORT_BLOCKS ))
    exec 9>>"$dir/block-$b.lock"
    if flock -n 9; then
      base=$(( WICAS_PORT_LO + b * WICAS_PORT_BLOCK ))
      if python3 - "$base" "$WICAS_PORT_BLOCK" <<'PY'
import socket, sys
base, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
try:
    for p in range(base, base + n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the nodes' listeners do
        socks.append(s)
        s.bind(("127.0.0.1", p))
except OSError:
    sys.exit(1)
PY
      then
        PORT_BASE=$base
        return 0
      fi
    fi
    exec 9>&-
  done
  echo "port_block: no free block of $WICAS_PORT_BLOCK ports in $WICAS_PORT_LO.." >&2
  return 1
}

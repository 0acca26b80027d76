#!/usr/bin/env bash
# test_cross_aarch64.sh — AArch64 (scalar and NEON kernels, run under
# qemu-user) gives the same logits hashes as this x86-64 build. Needs Debian's
# gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user, which
# scripts/setup installs: without them the test fails (no silent skip). Arguments: native logits_hash, model folder,
# output folder.
set -euo pipefail
NATIVE=$1 DIR=$2 OUT=$3
CC=$(command -v aarch64-linux-gnu-gcc || true)
QEMU=$(command -v qemu-aarch64 || true)
if [ -z "$CC" ] || [ -z "$QEMU" ] || [ ! -d /usr/aarch64-linux-gnu ]; then
  echo "FAIL: aarch64-linux-gnu-gcc / qemu-aarch64 not installed (scripts/setup installs them)"; exit 1
fi
SRC=${WICAS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
mkdir -p "$OUT"
BIN=$OUT/cross_check_aarch64
"$CC" -std=c17 -O2 -Wall -Wextra -Werror -ffp-contract=off -fno-math-errno -D_GNU_SOURCE -DWICAS_HAVE_NEON=1 \
  -I"$SRC/src/infer" -I"$SRC/src/common" $(ls "$SRC"/src/infer/*.c | grep -v 'kernels_avx') \
  "$SRC/src/common/errf.c" "$SRC/tests/infer/cross_check.c" -o "$BIN" -lpthread -lm
fail=0 n=0
for m in "$DIR"/q4_1.gguf "$DIR"/q4_0_untied.gguf "$DIR"/q8_0_mha.gguf "$DIR"/f16.gguf "$DIR"/bf16.gguf \
         "$DIR"/q4_k_m.gguf "$DIR"/q5_0_q5_1.gguf "$DIR"/q2_k_q3_k.gguf "$DIR"/q5_k_q8_k.gguf "$DIR"/iq4.gguf \
         "$DIR"/qwen2.gguf "$DIR"/qwen3.gguf "$DIR"/gemma3.gguf "$DIR"/gemma3_pat.gguf "$DIR"/phi3.gguf \
         ${WICAS_DEFAULT_MODEL:+"$WICAS_DEFAULT_MODEL"}; do
  [ -f "$m" ] || continue
  ntok=12; case $m in *SmolLM2*) ntok=3;; esac
  want=$("$NATIVE" "$m" scalar 2 $ntok)
  kinds="scalar neon"; case $m in *SmolLM2*) kinds=neon;; esac  # keep the test short
  for k in $kinds; do
    got=$("$QEMU" -L /usr/aarch64-linux-gnu "$BIN" "$m" $k 2 $ntok)
    n=$((n + 1))
    if [ "$got" != "$want" ]; then echo "MISMATCH $(basename "$m") aarch64-$k $got vs x86-64 $want"; fail=1
    else echo "ok $(basename "$m") aarch64-$k $got"; fi
  done
done
[ $n -ge 27 ] || { echo "too few comparisons"; exit 1; }
exit $fail

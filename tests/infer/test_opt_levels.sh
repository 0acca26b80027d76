#!/usr/bin/env bash
# test_opt_levels.sh — the engine built at -O0 and at the build's level (-O2
# in Release) gives the same logits hash for generated models of every tensor
# type and for the default model, on every kernel set. Arguments: the two
# logits_hash binaries and the generated-model folder.
set -euo pipefail
HI=$1 LO=$2 DIR=$3
fail=0 n=0
check() { # model kernels threads ntok
  local a b
  a=$("$HI" "$1" "$2" "$3" "$4")
  b=$("$LO" "$1" "$2" 1 "$4")
  [ "$a" = unavailable ] && return 0
  n=$((n + 1))
  if [ "$a" != "$b" ]; then
    echo "MISMATCH $(basename "$1") $2: optimised $a, -O0 $b"; fail=1
  else
    echo "ok $(basename "$1") $2 $a"
  fi
}
for m in q4_1 q4_0_untied q8_0_mha f16 f32_untied bf16 q4_k_m q5_0_q5_1 q2_k_q3_k q5_k_q8_k iq4 \
         qwen2 qwen3 qwen3_linear gemma3 gemma3_pat phi3 llama3_freqs; do
  for k in scalar avx2 avx512; do check "$DIR/$m.gguf" $k 2 12; done
done
if [ -f "${WICAS_DEFAULT_MODEL:-/nonexistent}" ]; then
  check "$WICAS_DEFAULT_MODEL" avx512 2 3
  check "$WICAS_DEFAULT_MODEL" avx2 2 3
fi
[ $n -ge 12 ] || { echo "too few comparisons ($n)"; exit 1; }
exit $fail

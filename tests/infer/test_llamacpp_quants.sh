#!/usr/bin/env bash
# test_llamacpp_quants.sh — the engine against llama.cpp on SmolLM2-135M
# re-quantised by llama-quantize to each type (the files of `scripts/setup
# quants`; the test is only registered when they exist at configure time).
# Per file:
#   - every tensor dequantised by the engine is bit-identical to llama.cpp's own
#     dequantisation (llama-quantize ... F32), for every tensor type in it;
#   - perplexity on the first two 512-token chunks of
#     tests/data/us_founding_documents.txt next to llama-perplexity's: printed,
#     and required within PPL_TOL (default 5%: the two engines round differently,
#     llama.cpp quantising activations per 256 elements for k-quants, and these
#     doubly quantised files amplify that to up to ~3.5%; a format error gives
#     perplexities in the hundreds);
#   - greedy text of 32 tokens on 3 prompts next to llama-simple's: the length
#     of the common prefix is printed (not required: on this small model near
#     ties flip early even for the Q4_1 file the engine has always run);
#   - logits hash identical for every kernel set this CPU runs at 1/2/3 threads.
# Arguments: wicas_perplexity wicas_greedy logits_hash dequant_compare QUANT_DIR LLAMA_BIN TMP_DIR
set -euo pipefail
PPL=$1 GREEDY=$2 HASH=$3 DQ=$4 QDIR=$5 LBIN=$6 TMP=$7
TOL=${PPL_TOL:-0.05}
TEXT=${WICAS_SOURCE_DIR:?}/tests/data/us_founding_documents.txt
PROMPTS=("The capital of France is" "Once upon a time, there was a little robot who" "1, 2, 3, 4, 5, 6, 7, 8,")
mkdir -p "$TMP"
fail=0 n=0
for f in "$QDIR"/*.gguf; do
  q=$(basename "$f" .gguf); q=${q##*.}
  n=$((n + 1))
  "$LBIN/llama-quantize" --allow-requantize "$f" "$TMP/f32.gguf" F32 >/dev/null 2>&1 || { echo "FAIL $q: llama-quantize F32"; fail=1; }
  if r=$("$DQ" "$f" "$TMP/f32.gguf" | tail -n 1); then echo "ok $q dequantisation = llama.cpp's: $r"
  else echo "FAIL $q dequantisation: $r"; fail=1; fi
  rm -f "$TMP/f32.gguf"
  w=$("$PPL" "$f" "$TEXT" 512 2 2 2>/dev/null | sed -n 's/^ppl=\([0-9.]*\).*/\1/p')
  l=$("$LBIN/llama-perplexity" -m "$f" -f "$TEXT" -c 512 -b 512 --chunks 2 -t 2 2>&1 |
      sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p')
  rel=$(python3 -c "print(f'{100*($w-$l)/$l:+.3f}')")
  if python3 -c "import sys; sys.exit(0 if abs($w-$l)/$l <= $TOL else 1)"; then
    echo "ok $q perplexity WICAS $w llama.cpp $l ($rel%)"
  else
    echo "FAIL $q perplexity WICAS $w llama.cpp $l ($rel%)"; fail=1
  fi
  for p in "${PROMPTS[@]}"; do
    a="$p$("$GREEDY" "$f" 32 2 "$p")"
    b=$("$LBIN/llama-simple" -m "$f" -n 32 "$p" 2>/dev/null)
    common=$(python3 -c 'import os,sys; a,b=sys.argv[1],sys.argv[2]; print(len(os.path.commonprefix([a,b])), len(a), len(b))' "$a" "$b")
    echo "   $q greedy '$p': common prefix / WICAS / llama.cpp characters: $common"
  done
  ref=""
  for k in scalar avx2 avx512; do
    for t in 1 2 3; do
      h=$("$HASH" "$f" $k $t 3)
      [ "$h" = unavailable ] && continue
      [ -n "$ref" ] || ref=$h
      [ "$h" = "$ref" ] || { echo "FAIL $q logits hash $k/$t threads $h vs $ref"; fail=1; }
    done
  done
  echo "ok $q logits hash $ref"
done
[ $n -ge 1 ] || { echo "no quantised files in $QDIR"; exit 1; }
exit $fail

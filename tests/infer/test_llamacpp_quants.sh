#!/usr/bin/env bash
# test_llamacpp_quants.sh — the engine against llama.cpp on SmolLM2-135M
# re-quantised by llama-quantize to each type (the files of `scripts/setup
# quants`; the test is only registered when they exist at configure time):
#   - perplexity on the first two 512-token chunks of
#     tests/data/us_founding_documents.txt within 1% of llama-perplexity's;
#   - greedy text of 32 tokens on 3 prompts equal to llama-simple's (both
#     print the prompt's tokens, then the continuation);
#   - logits hash identical for every kernel set this CPU runs at 1/2/3 threads.
# Arguments: wicas_perplexity wicas_greedy logits_hash QUANT_DIR LLAMA_BIN
set -euo pipefail
PPL=$1 GREEDY=$2 HASH=$3 QDIR=$4 LBIN=$5
TEXT=${WICAS_SOURCE_DIR:?}/tests/data/us_founding_documents.txt
PROMPTS=("The capital of France is" "Once upon a time, there was a little robot who"
         "def fibonacci(n):")
fail=0 n=0
for f in "$QDIR"/*.gguf; do
  q=$(basename "$f" .gguf); q=${q##*.}
  w=$("$PPL" "$f" "$TEXT" 512 2 2 2>/dev/null | sed -n 's/^ppl=\([0-9.]*\).*/\1/p')
  l=$("$LBIN/llama-perplexity" -m "$f" -f "$TEXT" -c 512 -b 512 --chunks 2 -t 2 2>&1 |
      sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p')
  rel=$(python3 -c "print(f'{100*abs($w-$l)/$l:.3f}')")
  if python3 -c "import sys; sys.exit(0 if abs($w-$l)/$l <= 0.01 else 1)"; then
    echo "ok $q perplexity WICAS $w llama.cpp $l ($rel%)"
  else
    echo "FAIL $q perplexity WICAS $w llama.cpp $l ($rel% > 1%)"; fail=1
  fi
  for p in "${PROMPTS[@]}"; do
    a="$p$("$GREEDY" "$f" 32 2 "$p")"
    b=$("$LBIN/llama-simple" -m "$f" -n 32 "$p" 2>/dev/null)
    n=$((n + 1))
    if [ "$a" == "$b" ]; then echo "ok $q greedy: $(printf %q "$a")"
    else echo "FAIL $q greedy differs:"; echo "  WICAS:     $(printf %q "$a")"; echo "  llama.cpp: $(printf %q "$b")"; fail=1; fi
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
[ $n -ge 3 ] || { echo "no quantised files in $QDIR"; exit 1; }
exit $fail

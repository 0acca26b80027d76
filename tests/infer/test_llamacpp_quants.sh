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
# Then the other architectures (qwen2, qwen3, gemma3, phi3, and llama with
# llama3 RoPE factors) on tiny random models of gen_model: llamacpp_logits.c, compiled here against the static libraries of
# the same llama.cpp build, and logits_dump evaluate the same 40 token ids and
# greedily decode 16 more. Per model the largest |logit difference| over all
# 40 x vocab logits is printed; for the F32 variants (made here: no
# quantisation on either side, so only the maths differs) it must be within
# ARCH_TOL (default 2e-3; llama.cpp's GELU reads an F16 table, about 2.5e-4 on
# gemma3) and the 16 greedy tokens must be equal; for the quantised ones of
# the build's model folder both are printed (the engines quantise activations
# differently).
# Arguments: wicas_perplexity wicas_greedy logits_hash dequant_compare QUANT_DIR LLAMA_BIN TMP_DIR
#            logits_dump gen_model MODEL_DIR
# LLAMACPP_PART=arch runs only the architecture part.
set -euo pipefail
PPL=$1 GREEDY=$2 HASH=$3 DQ=$4 QDIR=$5 LBIN=$6 TMP=$7 DUMP=$8 GEN=$9 MDIR=${10}
ATOL=${ARCH_TOL:-0.002}
TOL=${PPL_TOL:-0.05}
TEXT=${WICAS_SOURCE_DIR:?}/tests/data/us_founding_documents.txt
PROMPTS=("The capital of France is" "Once upon a time, there was a little robot who" "1, 2, 3, 4, 5, 6, 7, 8,")
mkdir -p "$TMP"
fail=0 n=0
quant_files=("$QDIR"/*.gguf)
[ "${LLAMACPP_PART:-all}" = arch ] && quant_files=()
for f in "${quant_files[@]}"; do
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
[ "${LLAMACPP_PART:-all}" = arch ] || [ $n -ge 1 ] || { echo "no quantised files in $QDIR"; exit 1; }

# ---- architectures ----------------------------------------------------------------
L=$(ls -d "$LBIN"/../src/llama_cpp_python-*/vendor/llama.cpp 2>/dev/null | head -n 1)
LB=$L/build
for a in src/libllama.a ggml/src/libggml.a ggml/src/libggml-cpu.a ggml/src/libggml-base.a; do
  [ -f "$LB/$a" ] || { echo "FAIL: $LB/$a missing (scripts/setup llamacpp builds it)"; exit 1; }
done
LC=$TMP/llamacpp_logits
g++ -O1 -x c "${WICAS_SOURCE_DIR}/tests/infer/llamacpp_logits.c" -x none -I"$L/include" -I"$L/ggml/include" \
  "$LB/src/libllama.a" "$LB/ggml/src/libggml.a" "$LB/ggml/src/libggml-cpu.a" "$LB/ggml/src/libggml-base.a" \
  -lgomp -lpthread -lm -o "$LC"
F32="--type f32 --embd-type f32 --untied"
"$GEN" "$TMP/qwen2_f32.gguf" --arch qwen2 $F32 --seed 21
"$GEN" "$TMP/qwen3_f32.gguf" --arch qwen3 $F32 --dim 256 --ff 512 --heads 4 --kv-heads 2 --head-dim 128 --seed 22
"$GEN" "$TMP/qwen3_linear_f32.gguf" --arch qwen3 $F32 --rope-scaling linear --seed 25
"$GEN" "$TMP/gemma3_f32.gguf" --arch gemma3 $F32 --dim 256 --ff 512 --heads 4 --kv-heads 1 --head-dim 64 \
  --layers 7 --swa 8 --softcap 30 --seed 23
"$GEN" "$TMP/phi3_f32.gguf" --arch phi3 $F32 --kv-heads 2 --seed 26
"$GEN" "$TMP/llama3_freqs_f32.gguf" $F32 --rope-freqs --seed 28
"$GEN" "$TMP/gemma3_pat_f32.gguf" --arch gemma3 $F32 --dim 256 --ff 512 --heads 4 --kv-heads 2 --head-dim 64 \
  --layers 4 --swa 5 --swa-pattern 2 --rope-base-swa 20000 --seed 24
na=0
for f in "$TMP"/qwen2_f32.gguf "$TMP"/qwen3_f32.gguf "$TMP"/qwen3_linear_f32.gguf "$TMP"/gemma3_f32.gguf \
         "$TMP"/gemma3_pat_f32.gguf "$TMP"/phi3_f32.gguf "$TMP"/llama3_freqs_f32.gguf "$MDIR"/qwen2.gguf \
         "$MDIR"/qwen3.gguf "$MDIR"/qwen3_linear.gguf "$MDIR"/gemma3.gguf "$MDIR"/gemma3_pat.gguf \
         "$MDIR"/phi3.gguf "$MDIR"/llama3_freqs.gguf; do
  q=$(basename "$f" .gguf)
  na=$((na + 1))
  if ! lt=$("$LC" "$f" 40 16 "$TMP/lc.bin"); then echo "FAIL $q: llama.cpp could not run it"; fail=1; continue; fi
  wt=$("$DUMP" "$f" 40 16 "$TMP/w.bin")
  d=$(python3 -c 'import struct,sys
a=open(sys.argv[1],"rb").read(); b=open(sys.argv[2],"rb").read()
assert len(a)==len(b) and len(a)>0, "logit counts differ"
n=len(a)//4; A=struct.unpack("<%df"%n,a); B=struct.unpack("<%df"%n,b)
print("%.3g %.3g" % (max(abs(x-y) for x,y in zip(A,B)), max(abs(y) for y in B)))' "$TMP/w.bin" "$TMP/lc.bin")
  same=$(python3 -c 'import sys; a,b=sys.argv[1].split(),sys.argv[2].split(); n=0
while n<min(len(a),len(b)) and a[n]==b[n]: n+=1
print(n)' "$wt" "$lt")
  msg="$q: max |logit diff| ${d% *} (largest |logit| ${d#* }), greedy tokens equal for $same of 16"
  case $q in
    *_f32)
      if python3 -c "import sys; sys.exit(0 if ${d% *} <= $ATOL else 1)" && [ "$same" = 16 ]; then echo "ok $msg"
      else echo "FAIL $msg (tolerance $ATOL, all 16 tokens)"; echo "   WICAS $wt"; echo "   llama.cpp $lt"; fail=1; fi ;;
    *) echo "   $msg" ;;
  esac
done
[ $na -eq 14 ] || { echo "architecture models missing"; exit 1; }
exit $fail

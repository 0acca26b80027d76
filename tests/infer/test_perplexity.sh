#!/usr/bin/env bash
# test_perplexity.sh — WICAS's perplexity of the default model on the first
# two 512-token chunks of tests/data/us_founding_documents.txt is within 2% of
# llama.cpp's on the same file and chunks.
#
# Reference figure: llama.cpp's llama-perplexity (vendored in the PyPI sdist
# llama-cpp-python 0.3.36, built with GGML_NATIVE on this project's x86-64
# AVX-512 machine), run as
#   llama-perplexity -m SmolLM2-135M-Instruct.Q4_1.gguf -f us_founding_documents.txt -c 512 -b 512 --chunks 2
# which printed "Final estimate: PPL = 24.2276 +/- 3.60648" on 2026-11-24 (WICAS: 24.0517, -0.73%). bench/infer/run
# measures both on the whole file.
set -euo pipefail
PPL_TOOL=$1
LLAMA_PPL=24.2276
MODEL=${WICAS_DEFAULT_MODEL:?}
[ -f "$MODEL" ] || { echo "FAIL: default model $MODEL missing (scripts/setup provides it)"; exit 1; }
got=$("$PPL_TOOL" "$MODEL" "$WICAS_SOURCE_DIR/tests/data/us_founding_documents.txt" 512 2 2 2>/dev/null | sed -n 's/^ppl=\([0-9.]*\).*/\1/p')
echo "WICAS ppl $got, llama.cpp ppl $LLAMA_PPL"
python3 - "$got" "$LLAMA_PPL" <<'PY'
import sys
w, l = float(sys.argv[1]), float(sys.argv[2])
rel = abs(w - l) / l
print(f"relative difference {100*rel:.3f}%")
sys.exit(0 if rel <= 0.02 else 1)
PY

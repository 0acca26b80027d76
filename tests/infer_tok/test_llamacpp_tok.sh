#!/usr/bin/env bash
# test_llamacpp_tok.sh — the engine's tokenizer against llama.cpp's
# (`llama-tokenize --ids`, vocabulary only) on the real model files: Gemma 3
# 270M (SentencePiece, tokenizer.ggml.model "llama", add_space_prefix false,
# 6414 special tokens; `scripts/setup gemma`) and SmolLM2 (GPT-2 byte-level
# BPE). Token ids must be identical on every case: lines of
# tests/data/us_founding_documents.txt and the whole file, accented and
# non-Latin scripts, emoji with ZWJ and flags, runs of spaces/tabs/newlines,
# digits, code, HTML tags, special-token texts (parsed, and with
# --no-parse-special read as text), the empty text, seeded random mixtures.
# All cases are valid UTF-8 (on invalid bytes the two differ by design, see
# spm_text in src/infer/tokenizer.c).
#
# A third vocabulary checks Qwen2's pre-tokenizer pattern: SmolLM2's
# metadata with tokenizer.ggml.pre = "qwen2" (written here, no tensors:
# llama-tokenize loads the vocabulary only), since no Qwen file is reachable.
#
# Opt-in (make test-quants): a missing model file or llama-tokenize is a
# failure, never a skip.
# Arguments: wicas_tok_dump LLAMA_BIN MODELS_DIR TMP_DIR
set -euo pipefail
DUMP=$1 LBIN=$2 MDIR=$3 TMP=$4
SRC=${WICAS_SOURCE_DIR:?}
MODELS=("$MDIR/gemma-3-270m-q4_k_m.gguf" "$MDIR/SmolLM2-135M-Instruct.Q4_1.gguf")
fail=0
[ -x "$LBIN/llama-tokenize" ] || { echo "FAIL: $LBIN/llama-tokenize missing (scripts/setup llamacpp)"; exit 1; }
for m in "${MODELS[@]}"; do
  [ -f "$m" ] || { echo "FAIL: $m missing (scripts/setup gemma / scripts/setup model)"; fail=1; }
done
[ $fail -eq 0 ] || exit 1

rm -rf "$TMP"; mkdir -p "$TMP/cases"
python3 - "$SRC/tests/data/us_founding_documents.txt" "$TMP/cases" <<'PY'
import random, sys
text = open(sys.argv[1], encoding="utf-8").read()
out = sys.argv[2]
lines = [l for l in text.split("\n") if l.strip()]
cases = {
    "empty": "", "space": " ", "spaces3": "   ", "hello": "Hello world", "lead_space": " Hello",
    "lead_spaces": "   Hello  world   ", "trailing_nl": "Hello\n", "newlines": "a\n\nb\n\n\n\nc\n",
    "newlines40": "x" + "\n" * 40 + "y", "spaces40": "x" + " " * 40 + "y",
    "tabs": "\tx\t\ty\t\t\t", "digits": "1234567890 3.14159 1,000,000 2026-12-03 42nd",
    "unicode": "Café naïve façade — “quotes” ünïcödé Ελληνικά русский 日本語のテキスト 中文 한국어 ﬁ é",
    "emoji": "I ❤️ 🦙 and 👩‍👩‍👧‍👦 🇫🇷 🤖!",
    "rare": "ꙮ 𓀀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u200b\u00a0 \u2028 \u3000x",
    "code": "def f(x):\n    return x**2  # square\n\nint main() { return 0; }",
    "html": "<table><tr><td>a</td></tr></table> <div>x</div>",
    "special": "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    "special_glued": "x<bos>y<eos><unk><pad><mask>",
    "chatml": "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<|endoftext|>",
    "bytes_lit": "<0x41> <0x0A> \u2581 \u2581\u2581 _",
    "punct": "Hello, world! It's a test... (really?) [yes] {no} #1 @me $5 % I'M YOU'LL",
    "mixed_ws": " \n \t \r\n  \n\n   x",
    "long_word": "a" * 300 + " " + "ab" * 150,
    "contractions": "it's IT'S we'Ll THEY'RE you've I'M he'd 'S 'x '",
    "crlf": "line1\r\nline2\r\n\r\n  indented\n\t\tx \n  \n",
    "punct_nl": "Hi!!\n\nOk?\r\n...\n x;\n",
    "numbers": "12345 6789012 x1y22z333 ١٢٣ Ⅻ ½",
    "nbsp": "a\u00a0b \u00a0 c\u2003d  \u3000 e",
    "trailing": "end   ",
    "founding_all": text,
}
for i in range(12):
    cases[f"founding_line{i:02d}"] = lines[i * 7 % len(lines)]
r = random.Random(7)
alpha = list("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,;:!?'\"()[]{}<>/\\-_=+*&^%$#@~`|\n\t  ") + [
    "é", "ß", "ж", "中", "文", "🦙", "❤️", "—", "\u2581", "<start_of_turn>", "<end_of_turn>", "<eos>",
    "<|im_start|>", "<td>", "</td>", "  ", "\n\n", "\t\t", "<unused3>", "<0x41>", "ﬁ", "\u0301", "\r"]
words = text.split()
for i in range(8):
    n = r.randint(1, 300)
    cases[f"random{i}"] = "".join(r.choice(alpha) if r.random() < 0.6 else " " + r.choice(words) for _ in range(n))
for k, v in cases.items():
    open(f"{out}/{k}.txt", "w", encoding="utf-8", newline="").write(v)
PY

# SmolLM2's metadata, tokenizer.ggml.pre replaced by "qwen2", no tensors
python3 - "$MDIR/SmolLM2-135M-Instruct.Q4_1.gguf" "$TMP/smollm2-pre-qwen2.gguf" qwen2 <<'PY'
import struct, sys
src, dst, pre = sys.argv[1], sys.argv[2], sys.argv[3].encode()
f = open(src, "rb")
def rd(fmt):
    return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))[0]
SC = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
def raw(t):
    if t == 8:
        n = rd("Q"); return struct.pack("<Q", n) + f.read(n)
    if t == 9:
        et = rd("I"); n = rd("Q"); return struct.pack("<IQ", et, n) + b"".join(raw(et) for _ in range(n))
    return struct.pack("<" + SC[t], rd(SC[t]))
assert f.read(4) == b"GGUF"
ver = rd("I"); rd("Q"); nkv = rd("Q")
out, seen = [b"GGUF", struct.pack("<IQQ", ver, 0, nkv)], False
for _ in range(nkv):
    kl = rd("Q"); key = f.read(kl); t = rd("I"); v = raw(t)
    if key == b"tokenizer.ggml.pre":
        v, seen = struct.pack("<Q", len(pre)) + pre, True
    out.append(struct.pack("<Q", kl) + key + struct.pack("<I", t) + v)
assert seen, "no tokenizer.ggml.pre in " + src
open(dst, "wb").write(b"".join(out))
PY
MODELS+=("$TMP/smollm2-pre-qwen2.gguf")

NOSPECIAL=(special special_glued chatml bytes_lit html random0 random1)
for m in "${MODELS[@]}"; do
  name=$(basename "$m" .gguf)
  n=0 bad=0
  run() { # label, then options, then files
    local label=$1 opts=$2; shift 2
    local f want got
    # shellcheck disable=SC2086
    "$DUMP" "$m" $opts "$@" > "$TMP/wicas.out" || { echo "FAIL $name: wicas_tok_dump $opts"; bad=$((bad + 1)); return; }
    local i=0
    for f in "$@"; do
      i=$((i + 1)); n=$((n + 1))
      # shellcheck disable=SC2086
      want=$("$LBIN/llama-tokenize" -m "$m" -f "$f" --ids --log-disable --no-escape $opts 2>/dev/null | tail -n 1)
      got=$(sed -n "${i}p" "$TMP/wicas.out")
      if [ "$got" != "$want" ] || [ -z "$want" ]; then
        echo "FAIL $name $label $(basename "$f"):"; echo "  wicas     $got" | cut -c1-400; echo "  llama.cpp $want" | cut -c1-400
        bad=$((bad + 1))
      fi
    done
  }
  run parse-special "" "$TMP"/cases/*.txt
  files=(); for c in "${NOSPECIAL[@]}"; do files+=("$TMP/cases/$c.txt"); done
  run no-parse-special --no-parse-special "${files[@]}"
  run no-bos --no-bos "$TMP/cases/hello.txt" "$TMP/cases/founding_line03.txt"
  if [ $bad -eq 0 ]; then echo "ok $name: $n tokenizations identical to llama-tokenize"
  else echo "FAIL $name: $bad of $n tokenizations differ"; fail=1; fi
done
exit $fail

#!/usr/bin/env bash
# `wicasd run-wasm`: args after --, stdin from a file, seed and block time
# reach the program; its exit code becomes ours; the sandbox's refusals are
# exit 1 with a message; bad flags are usage errors (exit 2); --output json
# carries the result fields; WASI-NN models preload with either syntax.
set -uo pipefail
B=${WICAS_BUILD_DIR:?}
W=${WICAS_WASM_DIR:?}
bin=$B/bin/wicasd
pass=0
fail=0
check() { # name, condition-result
  if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'from a file' > "$tmp/in.txt"
seed=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

out=$("$bin" run-wasm "$W/wasi_test_hello.wasm" --stdin "$tmp/in.txt" --seed $seed --block-time 5000000000 -- a "b c" 2>"$tmp/err")
rc=$?
check "hello exit 0" $([ $rc = 0 ]; echo $?)
check "hello args" $(grep -qxF 'argc=3 [wasi_test_hello.wasm] [a] [b c]' <<<"$out"; echo $?)
check "hello stdin" $(grep -qxF 'stdin=from a file' <<<"$out"; echo $?)
check "hello time" $(grep -qxF 'realtime=5.000000000' <<<"$out"; echo $?)
check "hello stderr" $(grep -qxF 'this goes to stderr' "$tmp/err"; echo $?)
out2=$("$bin" run-wasm "$W/wasi_test_hello.wasm" --stdin "$tmp/in.txt" --seed $seed --block-time 5000000000 -- a "b c" 2>/dev/null)
check "same seed same output" $([ "$out" = "$out2" ]; echo $?)
out3=$("$bin" run-wasm "$W/wasi_test_hello.wasm" --stdin "$tmp/in.txt" --block-time 5000000000 -- a "b c" 2>/dev/null)
check "other seed other random" $([ "$out" != "$out3" ]; echo $?)

"$bin" run-wasm "$W/wasi_test_hostile.wasm" -- exit >/dev/null 2>&1
check "exit code passes through" $([ $? = 7 ]; echo $?)
"$bin" run-wasm "$W/wasi_test_hostile.wasm" --fuel 1000000 -- spin >/dev/null 2>"$tmp/err"
rc=$?
check "out of fuel is exit 1" $([ $rc = 1 ]; echo $?)
check "out of fuel message" $(grep -q 'out of fuel' "$tmp/err"; echo $?)
"$bin" run-wasm "$W/wasi_test_badimport.wasm" >/dev/null 2>"$tmp/err"
check "bad import refused" $([ $? = 1 ] && grep -q '"env"."host_shell"' "$tmp/err"; echo $?)

json=$("$bin" run-wasm "$W/wasi_test_hostile.wasm" --output json -- exit)
check "json exit" $(grep -qF '"status":"ok"' <<<"$json" && grep -qF '"exit_code":7' <<<"$json" && grep -qF '"stdout":"bye\n"' <<<"$json"; echo $?)
json=$("$bin" run-wasm "$W/wasi_test_hostile.wasm" --output json --stdout-cap 1000 -- flood)
check "json flood" $(grep -qF '"status":"stdout limit exceeded"' <<<"$json" && grep -qF '"fuel_used":' <<<"$json"; echo $?)

# WASI-NN through the CLI, both preload syntaxes (text checked against `wicasd infer`)
model=${WICAS_DEFAULT_MODEL:?}
out=$("$bin" run-wasm "$W/wasinn_chat.wasm" --nn-preload "default:GGML:AUTO:$model" -- --raw --n-predict 3 --temp 0 "The sky is")
check "wasinn_chat via --nn-preload" $([ "$out" = " a canvas of" ]; echo $?)
json=$("$bin" run-wasm "$W/wasinn_chat.wasm" --model "m=$model" -t 2 --output json -- --model m --raw --n-predict 3 --temp 0 "The sky is")
check "wasinn_chat via --model, json" $(grep -qF '"stdout":" a canvas of"' <<<"$json" && grep -qF '"nn_prompt_tokens":3,"nn_generated_tokens":3' <<<"$json"; echo $?)
json=$("$bin" run-wasm "$W/wasinn_chat.wasm" --model "default=$model" --nn-max-tokens 2 --output json -- --raw --n-predict 3 --temp 0 "The sky is")
check "--nn-max-tokens caps generation" $(grep -qF '"stdout":" a canvas"' <<<"$json" && grep -qF '"nn_generated_tokens":2' <<<"$json"; echo $?)

"$bin" run-wasm >/dev/null 2>&1
check "no program is usage" $([ $? = 2 ]; echo $?)
"$bin" run-wasm "$W/wasi_test_hello.wasm" --seed 12 >/dev/null 2>&1
check "bad seed is usage" $([ $? = 2 ]; echo $?)
"$bin" run-wasm "$W/wasi_test_hello.wasm" --memory 5000 >/dev/null 2>&1
check "bad memory is usage" $([ $? = 2 ]; echo $?)
"$bin" run-wasm "$W/wasi_test_hello.wasm" --nn-preload default:ONNX:AUTO:x >/dev/null 2>&1
check "non-GGML preload is usage" $([ $? = 2 ]; echo $?)
"$bin" run-wasm "$tmp/missing.wasm" >/dev/null 2>&1
check "missing program is exit 1" $([ $? = 1 ]; echo $?)

echo "$pass passed, $fail failed"
[ $fail = 0 ]

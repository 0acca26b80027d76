#!/usr/bin/env bash
# WasmEdge's own WASI-NN GGML examples under `wicasd run-wasm`, unchanged:
#
#   test_wasi_wasmedge.sh LLAMA.wasm BASIC.wasm
#
# ctest passes the C stand-ins (progs/ggml_llama.c, progs/ggml_basic.c: the
# same wasi_ephemeral_nn calls in the same order as the Rust examples); the
# published wasmedge-ggml-llama.wasm and wasmedge-ggml-basic.wasm from
# second-state/WasmEdge-WASINN-examples can be passed instead and must pass
# the same checks. Checked, each against `wicasd infer` on the same model,
# prompt and sampling parameters (byte for byte):
#   - llama with the prompt in argv reads the metadata right after set_input
#     (input token count before compute) and prints the trimmed answer and
#     the counts; its settings come from --env (n_predict);
#   - basic sets "stream-stdout" and prints nothing itself: the completion
#     must reach stdout during compute, exactly the final text;
#   - both over stdin (interactive mode: llama's growing Llama-2 history,
#     basic's one completion per line);
#   - stream-stdout past the stdout cap stops the run with the bytes that fit;
#   - --env: a key given twice keeps its last value; malformed is a usage error;
#   - `wicasd infer --parse-special` (used for the comparisons) changes the
#     prompt's tokens.
set -uo pipefail
LLAMA=${1:?usage: $0 LLAMA.wasm BASIC.wasm}
BASIC=${2:?usage: $0 LLAMA.wasm BASIC.wasm}
B=${WICAS_BUILD_DIR:?}
export WICASD=$B/bin/wicasd MODEL=${WICAS_DEFAULT_MODEL:?} LLAMA BASIC
for f in "$WICASD" "$MODEL" "$LLAMA" "$BASIC"; do
  [ -e "$f" ] || { echo "FAIL: $f missing"; exit 1; }
done
exec python3 - <<'PY'
import json, os, subprocess, sys

wicasd, model, llama, basic = (os.environ[k] for k in ("WICASD", "MODEL", "LLAMA", "BASIC"))
preload = "default:GGML:AUTO:" + model
failed = 0

def check(name, cond, detail=""):
    global failed
    if cond:
        print("ok:   " + name)
    else:
        failed += 1
        print("FAIL: " + name + ("\n      " + detail if detail else ""))

def run_wasm(prog, args, env=(), stdin=None, extra=()):
    cmd = [wicasd, "run-wasm", prog, "--nn-preload", preload, "--output", "json", *extra]
    for e in env:
        cmd += ["--env", e]
    if stdin is not None:
        cmd += ["--stdin", "-"]
    p = subprocess.run(cmd + ["--", *args], input=stdin, capture_output=True, text=True)
    try:  # one JSON object, also when the sandbox stopped the run (exit 1)
        o = json.loads(p.stdout)
    except ValueError:
        raise SystemExit("FAIL: %s exited %d: %s" % (cmd, p.returncode, p.stderr[-400:]))
    if p.returncode != (0 if o["status"] == "ok" else 1):
        raise SystemExit("FAIL: %s exited %d with status %s" % (cmd, p.returncode, o["status"]))
    return o

def infer(prompt, n, temp):
    # WASI-NN's defaults (top-p 0.95, repeat penalty 1.1 over 64), the
    # request seed (zeros), and special-token text read as tokens as
    # WasmEdge's GGML backend always does
    p = subprocess.run([wicasd, "infer", "-m", model, "-p", prompt, "-n", str(n), "--temp", temp, "--top-p", "0.95",
                        "--repeat-penalty", "1.1", "--parse-special", "--output", "json"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("FAIL: wicasd infer: " + p.stderr[-400:])
    o = json.loads(p.stdout)
    return o["text"], o["prompt_tokens"], o["generated_tokens"]

chatml = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
story = "<|im_start|>user\nTell me a story about a cat.<|im_end|>\n<|im_start|>assistant\n"

# llama, prompt in argv: metadata before compute, then after
for n in (16, 5):
    text, n_in, n_out = infer(chatml, n, "0.8")
    r = run_wasm(llama, ["default", chatml], env=["n_predict=%d" % n])
    want = ("Prompt:\n%s\nResponse:\n[INFO] llama_commit: null\n[INFO] llama_build_number: null\n"
            "[INFO] Number of input tokens: %d\n%s\n[INFO] Number of input tokens: %d\n"
            "[INFO] Number of output tokens: %d\n") % (chatml, n_in, text.strip(), n_in, n_out)
    check("llama argv n_predict=%d equals wicasd infer" % n, r["stdout"] == want and r["exit_code"] == 0,
          "got %r\n      want %r (stderr %r)" % (r["stdout"], want, r["stderr"][-300:]))
    check("llama argv n_predict=%d token counts" % n,
          r["nn_prompt_tokens"] == n_in and r["nn_generated_tokens"] == n_out and n_out == n and n_in == 16)

# basic, prompt in argv: stream-stdout is the only way its answer gets out
text, n_in, n_out = infer(story, 24, "0.1")
r = run_wasm(basic, ["default", story], env=["n_predict=24"])
want = "Prompt:\n%s\nResponse:\n%s\n" % (story, text)
check("basic argv: streamed stdout equals wicasd infer", r["stdout"] == want and r["exit_code"] == 0,
      "got %r\n      want %r (stderr %r)" % (r["stdout"], want, r["stderr"][-300:]))
check("basic argv: 24 tokens generated", r["nn_generated_tokens"] == 24 == n_out)
# a key given twice: the last value wins
r2 = run_wasm(basic, ["default", story], env=["n_predict=3", "n_predict=24"])
check("--env last value wins", r2["stdout"] == want)
# stream-stdout over the cap: stopped, with the bytes that fit
head = len("Prompt:\n%s\nResponse:\n" % story)
rc = run_wasm(basic, ["default", story], env=["n_predict=24"], extra=["--stdout-cap", str(head + 10)])
check("stream-stdout past the stdout cap stops the run",
      rc["status"] == "stdout limit exceeded" and want.startswith(rc["stdout"]) and head < len(rc["stdout"]) <= head + 10,
      repr(rc))

# interactive llama over stdin: the Llama 2 history grows by the trimmed answer
sysp = "You are a helpful, respectful and honest assistant. Always answer as short as possible, while being safe."
q1, q2 = "What is the capital of France?", "And of Italy?"
p1 = "[INST] <<SYS>> %s <</SYS>> %s [/INST]" % (sysp, q1)
a1 = infer(p1, 12, "0.8")[0]
p2 = "%s %s [INST] %s [/INST]" % (p1, a1.strip(), q2)
a2 = infer(p2, 12, "0.8")[0]
r = run_wasm(llama, ["default"], env=["n_predict=12"], stdin=q1 + "\n\n" + q2 + "\n")
want = "USER:\nASSISTANT:\n%s\nUSER:\nASSISTANT:\n%s\nUSER:\n" % (a1.strip(), a2.strip())
# the published program spins on a closed stdin until its fuel runs out; the
# C stand-in returns: compare what both print before that
check("llama interactive equals wicasd infer", r["stdout"] == want or
      (r["status"] == "out of fuel" and r["stdout"] == want), "got %r\n      want %r" % (r["stdout"], want))

# interactive basic: one streamed completion per line
b1 = infer(q1, 10, "0.1")[0]
b2 = infer(q2, 10, "0.1")[0]
r = run_wasm(basic, ["default"], env=["n_predict=10"], stdin=q1 + "\n" + q2 + "\n",
             extra=["--fuel", "20000000000"])
want = "USER:\nASSISTANT:\n%s\nUSER:\nASSISTANT:\n%s\nUSER:\n" % (b1, b2)
check("basic interactive streams equal wicasd infer", r["stdout"] == want, "got %r\n      want %r" % (r["stdout"], want))

# wicasd infer reads special-token text as text unless --parse-special
p = subprocess.run([wicasd, "infer", "-m", model, "-p", chatml, "-n", "1", "--output", "json"], capture_output=True,
                   text=True)
check("infer without --parse-special reads <|im_start|> as text",
      p.returncode == 0 and json.loads(p.stdout)["prompt_tokens"] > infer(chatml, 1, "0")[1], p.stderr[-300:])

# malformed --env is a usage error, before anything runs
for bad in ("=1", "n_predict"):
    p = subprocess.run([wicasd, "run-wasm", llama, "--env", bad, "--", "default", "x"], capture_output=True, text=True)
    check("--env %r is a usage error" % bad, p.returncode == 2 and "--env wants KEY=VALUE" in p.stderr, p.stderr)

print("%s" % ("all passed" if not failed else "%d failed" % failed))
sys.exit(1 if failed else 0)
PY

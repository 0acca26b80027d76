/*
 * fuzz_wasi.c — libFuzzer target for the WASI sandbox's host calls
 * (src/wasi: preview1.c and nn.c). A fixed small guest program
 * (progs/fuzz_calls.c, wasm32-wasi) copies the input (its stdin) into its
 * memory and reads the same bytes as a list of host calls with their
 * arguments, so every call sees fuzzed pointers and lengths against a fuzzed
 * linear memory: iovecs, paths under the read-only /models preopen, poll
 * subscriptions, WASI-NN names, JSON configs (load_by_name_with_config,
 * set_input index 1), tensor structs, output buffers. The sandbox has one
 * preloaded model ("default": a small generated GGUF) and tight limits.
 * Invariants: the run ends in a program-visible outcome (OK, trap, fuel,
 * output cap), never EARG/EENGINE/EMODEL (this node's faults), and every
 * failure names its cause; the same input gives the same exit code, output
 * and fuel (determinism; checked on inputs of even length); nothing leaks.
 * Seeds: call lists built from the guest's real buffer address (the guest
 * prints it when run without input): a write to stdout, WASI-NN
 * load-with-config / set_input / compute / get_output, a file read and a
 * directory listing under /models, and out-of-bounds pointers.
 */
#include "fuzz_main.h"

#include "common.h"
#include "wasi.h"

static uint8_t *wasm;
static size_t wasm_len;
static wicas_wasi_config cfg;
static wicas_wasi_model model;
static uint32_t base; /* the guest's buffer address */

static int run(const uint8_t *in, size_t n, wicas_wasi_result *res) {
    static const char *const args[2] = {"fuzz", "x"};
    wicas_wasi_request rq = {.stdin_data = in, .stdin_len = n, .block_time_ns = 1700000000000000000LL};
    rq.args = args, rq.n_args = 2;
    memset(rq.seed, 7, 32);
    return wicas_wasi_run(&cfg, wasm, wasm_len, &rq, res);
}

static void fuzz_setup(void) {
    wasm = wicas_read_file(WICAS_FUZZ_WASI_PROGRAM, 1u << 20, &wasm_len);
    FUZZ_CHECK(wasm != NULL, "cannot read %s", WICAS_FUZZ_WASI_PROGRAM);
    wicas_wasi_config_default(&cfg);
    model = (wicas_wasi_model){.name = "default", .path = WICAS_FUZZ_MODELS_DIR "/q4_1.gguf", .sha256 = NULL};
    cfg.models_dir = WICAS_FUZZ_MODELS_DIR;
    cfg.models = &model;
    cfg.n_models = 1;
    cfg.memory_limit = 16u << 20;
    cfg.fuel_limit = 200000000;
    cfg.stdout_cap = 4096;
    cfg.stderr_cap = 1024;
    cfg.nn_max_tokens = 8;
    cfg.nn_max_computes = 4;
    wicas_wasi_result res;
    int rc = run(NULL, 0, &res);
    FUZZ_CHECK(rc == WICAS_WASI_OK && res.out, "guest did not start: %s", res.error);
    base = (uint32_t)strtoul((const char *)res.out, NULL, 10);
    wicas_wasi_result_free(&res);
    FUZZ_CHECK(base != 0, "no buffer address");
}

/* ---- seeds: an op list at the front, data from offset 1024 --------------------------- */
static uint8_t sb[4096];
static size_t so;

static void op(uint8_t o) {
    sb[so++] = o;
}
static void u8(uint8_t v) {
    sb[so++] = v;
}
static void u32v(uint32_t v) {
    for (int i = 0; i < 4; i++)
        sb[so++] = (uint8_t)(v >> (8 * i));
}
static void u64v(uint64_t v) {
    u32v((uint32_t)v), u32v((uint32_t)(v >> 32));
}
static void off(uint32_t o) {
    u32v(o);
} /* a pointer as an offset into the buffer */
static void at(uint32_t o, const void *p, size_t n) {
    memcpy(sb + o, p, n);
}
static void at32(uint32_t o, uint32_t v) {
    for (int i = 0; i < 4; i++)
        sb[o + i] = (uint8_t)(v >> (8 * i));
}
/* Writes the seed after running it once: the fixture works (the seeds reach
 * what they are meant to: `computes` WASI-NN generations, stdout bytes). */
static void seed(const char *name, uint32_t computes, size_t min_out) {
    wicas_wasi_result r;
    int rc = run(sb, 1500, &r);
    FUZZ_CHECK(rc == WICAS_WASI_OK && r.nn_computes == computes && r.out_len >= min_out,
               "seed %s: rc %d, %u computes, %zu bytes out: %s", name, rc, r.nn_computes, r.out_len, r.error);
    wicas_wasi_result_free(&r);
    fuzz_seed(name, sb, 1500);
    memset(sb, 0, sizeof sb);
    so = 0;
}

static void fuzz_seeds(void) {
    /* fd_write(1, iov@1024 -> "hello\n", 1, &n@1100) */
    at32(1024, base + 1040), at32(1028, 6), at(1040, "hello\n", 6);
    op(0), u8(1), off(1024), u8(1), off(1100);
    /* random_get, clock_time_get, args/environ sizes */
    op(21), off(1200), u32v(16);
    op(6), u8(0), u64v(1), off(1300);
    op(3), off(1310), off(1314);
    op(2), off(1320), off(1340);
    seed("write", 0, 6);
    /* WASI-NN: load_by_name_with_config("default", cfg) -> g@1100; init -> c@1104;
     * set_input(c, 0, tensor@1120 -> prompt); compute; get_output(0) and (1) */
    const char *conf = "{\"n-predict\":3,\"temp\":0.5,\"seed\":4,\"ctx-size\":64}";
    at(1024, "default", 7), at(1040, conf, strlen(conf));
    at(1200, "The sky is", 10);
    at32(1120, 0), at32(1124, 0), at32(1128, 3), at32(1132, base + 1200), at32(1136, 10);
    op(24), off(1024), u32v(7), off(1040), u32v((uint32_t)strlen(conf)), off(1100);
    op(26), u8(0), off(1104);
    op(28), u8(0), u8(0), off(1120);
    op(29), u8(0);
    op(30), u8(0), u8(0), off(1300), u32v(200), off(1296);
    op(30), u8(0), u8(1), off(1300), u32v(200), off(1296);
    op(31), u8(0);
    op(32), u8(0), u8(0), off(1300), u32v(200), off(1296);
    op(33), u8(0);
    op(27), u8(0);
    op(25), u8(0);
    seed("nn", 2, 0);
    /* options as set_input index 1 and the "load" builders form */
    const char *opts = "{\"n-predict\":2,\"top-p\":0.9,\"repeat-penalty\":1.1}";
    at(1024, "preload:default", 15), at(1040, opts, strlen(opts));
    at32(1180, base + 1024), at32(1184, 15), at32(1188, base + 1040), at32(1192, (uint32_t)strlen(opts));
    at32(1120, 0), at32(1124, 0), at32(1128, 3), at32(1132, base + 1040), at32(1136, (uint32_t)strlen(opts));
    at32(1140, 0), at32(1144, 0), at32(1148, 3), at32(1152, base + 1250), at32(1156, 5), at(1250, "Hello", 5);
    op(22), off(1180), u8(2), u8(6), u8(0), off(1100);
    op(26), u8(0), off(1104);
    op(28), u8(0), u8(1), off(1120);
    op(28), u8(0), u8(0), off(1140);
    op(29), u8(0);
    op(30), u8(0), u8(0), off(1300), u32v(200), off(1296);
    seed("nn-load", 1, 0);
    /* /models: prestat, open q4_1.gguf, pread, seek, tell, filestat, readdir, close */
    at(1024, "q4_1.gguf", 9);
    at32(1060, base + 1400), at32(1064, 64);
    op(11), u8(3), off(1200);
    op(12), u8(3), off(1210), u32v(16);
    op(19), u8(3), u8(0), off(1024), u32v(9), u8(0), u64v(0x2), u64v(0), u8(0), off(1100);
    op(1), u8(4), off(1060), u8(1), off(1104);
    op(10), u8(4), off(1060), u8(1), u64v(8), off(1108);
    op(14), u8(4), u64v(0), u8(2), off(1112);
    op(15), u8(4), off(1120);
    op(9), u8(4), off(1130);
    op(18), u8(3), u8(0), off(1024), u32v(9), off(1200);
    op(13), u8(3), off(1500), u32v(512), u64v(0), off(1116);
    op(16), u8(4);
    seed("files", 0, 0);
    /* pointers past the end of memory, lengths near 4 GiB */
    op(0), u8(1), u32v(0xfffffff0u), u8(255), u32v(0xfffffffcu);
    op(23), u32v(0xffffff00u), u32v(0x7fffffffu), off(1100);
    op(21), u32v(0xfffff000u), u32v(4095);
    op(24), off(1024), u32v(0xffffffffu), off(1040), u32v(0xffffffffu), off(1100);
    op(20), off(1024), off(1100), u8(200), off(1200);
    seed("oob", 0, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    wicas_wasi_result a, b;
    int ra = run(data, size, &a);
    FUZZ_CHECK(ra != WICAS_WASI_EARG && ra != WICAS_WASI_EENGINE && ra != WICAS_WASI_EMODEL,
               "node fault %d on a program's input: %s", ra, a.error);
    if (ra != WICAS_WASI_OK) FUZZ_CHECK(a.error[0], "failure %d without a cause", ra);
    /* every run compiles the module afresh (about 0.2 s): the determinism
     * check runs on the inputs of even length only, half the cost */
    if (size % 2) {
        wicas_wasi_result_free(&a);
        return 0;
    }
    int rb = run(data, size, &b);
    FUZZ_CHECK(ra == rb && a.exit_code == b.exit_code && a.fuel_used == b.fuel_used &&
                   a.out_len == b.out_len && (a.out_len == 0 || memcmp(a.out, b.out, a.out_len) == 0) &&
                   a.nn_generated_tokens == b.nn_generated_tokens,
               "two runs of one input differ (rc %d/%d, fuel %llu/%llu)", ra, rb,
               (unsigned long long)a.fuel_used, (unsigned long long)b.fuel_used);
    wicas_wasi_result_free(&a);
    wicas_wasi_result_free(&b);
    return 0;
}

/* test_wasi_preview1.c — the preview1 half of the sandbox: a hello-world
 * command sees exactly the request's args/stdin/env/clock/seed; the /models
 * preopen is readable and nothing else is (../, absolute paths, symlinks,
 * writes); hostile programs (unknown imports, endless loops, output floods,
 * memory hogs, traps, bad pointers) end with clear errors while this process
 * carries on; the random stream is RFC 8439 ChaCha20. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <wasmtime.h>

#include "common.h"
#include "wasi.h"
#include "../../src/wasi/wasi_internal.h"

static uint8_t *load_prog(const char *name, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/wasi_test_%s.wasm", getenv("WICAS_WASM_DIR"), name);
    uint8_t *buf = wicas_read_file(path, 16 << 20, len);
    assert_non_null(buf);
    return buf;
}

/* Runs program `name` with argv {name, a1, a2} (NULLs dropped). */
static int run(const char *name, const wicas_wasi_config *cfg, const char *a1, const char *a2,
               const char *stdin_s, const uint8_t seed[32], wicas_wasi_result *res) {
    size_t len;
    uint8_t *wasm = load_prog(name, &len);
    const char *argv[3] = {name, a1, a2};
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    req.args = argv;
    req.n_args = a2 ? 3 : a1 ? 2 : 1;
    req.stdin_data = (const uint8_t *)stdin_s;
    req.stdin_len = stdin_s ? strlen(stdin_s) : 0;
    if (seed) memcpy(req.seed, seed, 32);
    req.block_time_ns = 1700000000123456789LL;
    int rc = wicas_wasi_run(cfg, wasm, len, &req, res);
    free(wasm);
    return rc;
}

/* cmocka installs its own SIGILL/SIGSEGV/SIGFPE/SIGBUS handlers around each
 * test, hiding wasmtime's (which turn a guest fault into a trap). Tests that
 * make the guest fault put wasmtime's handlers back first; main() records
 * them after a first run has made wasmtime install them. */
static const int TRAP_SIGNALS[] = {SIGILL, SIGSEGV, SIGFPE, SIGBUS};
static struct sigaction wasmtime_sa[4];

static void restore_wasmtime_signals(void) {
    for (int i = 0; i < 4; i++)
        sigaction(TRAP_SIGNALS[i], &wasmtime_sa[i], NULL);
}

/* ---- hello world ----------------------------------------------------------------- */
static void hello_sees_the_request(void **state) {
    (void)state;
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    size_t len;
    uint8_t *wasm = load_prog("hello", &len);
    const char *argv[] = {"hello", "one", "two words"};
    const char *env[] = {"GREETING=hi there"};
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    req.args = argv;
    req.n_args = 3;
    req.env = env;
    req.n_env = 1;
    req.stdin_data = (const uint8_t *)"piped input";
    req.stdin_len = 11;
    for (int i = 0; i < 32; i++)
        req.seed[i] = (uint8_t)i;
    req.block_time_ns = 1700000000123456789LL;
    wicas_wasi_result r1, r2;
    assert_int_equal(wicas_wasi_run(&cfg, wasm, len, &req, &r1), WICAS_WASI_OK);
    assert_int_equal(r1.exit_code, 0);
    assert_string_equal(r1.error, "");
    const char *want_prefix = "argc=3 [hello] [one] [two words]\nstdin=piped input\nrandom=";
    assert_memory_equal(r1.out, want_prefix, strlen(want_prefix));
    assert_non_null(
        strstr((char *)r1.out, "\nrealtime=1700000000.123456789\nmonotonic_step=1000\nenv=hi there\n"));
    assert_string_equal((char *)r1.err, "this goes to stderr\n");
    assert_true(r1.fuel_used > 1000);

    /* The random bytes are the first 16 bytes of ChaCha20(key = seed,
     * nonce = "wasi-random\0", counter 0). */
    wasi_chacha c;
    static const uint8_t nonce[12] = {'w', 'a', 's', 'i', '-', 'r', 'a', 'n', 'd', 'o', 'm', 0};
    wicas_wasi_chacha_init(&c, req.seed, nonce);
    uint8_t want[16];
    char hex[33];
    wicas_wasi_chacha_fill(&c, want, 16);
    wicas_hex_encode(want, 16, hex);
    assert_memory_equal(r1.out + strlen(want_prefix), hex, 32);

    /* Same request, same bytes and fuel; another seed, other random bytes only. */
    assert_int_equal(wicas_wasi_run(&cfg, wasm, len, &req, &r2), WICAS_WASI_OK);
    assert_int_equal(r1.out_len, r2.out_len);
    assert_memory_equal(r1.out, r2.out, r1.out_len);
    assert_true(r1.fuel_used == r2.fuel_used);
    wicas_wasi_result_free(&r2);
    req.seed[0] ^= 1;
    assert_int_equal(wicas_wasi_run(&cfg, wasm, len, &req, &r2), WICAS_WASI_OK);
    assert_int_equal(r1.out_len, r2.out_len);
    assert_memory_not_equal(r1.out, r2.out, r1.out_len);
    assert_memory_equal(r1.out, r2.out, strlen(want_prefix));
    wicas_wasi_result_free(&r1);
    wicas_wasi_result_free(&r2);
    free(wasm);
}

/* RFC 8439 section 2.3.2: key 00..1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00, counter 1. */
static void chacha_matches_rfc8439(void **state) {
    (void)state;
    uint8_t key[32], nonce[12] = {0, 0, 0, 9, 0, 0, 0, 0x4a, 0, 0, 0, 0}, out[64];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    wasi_chacha c;
    wicas_wasi_chacha_init(&c, key, nonce);
    c.counter = 1;
    wicas_wasi_chacha_fill(&c, out, 64);
    static const uint8_t want[64] = {
        0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20, 0x71, 0xc4,
        0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22, 0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e,
        0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa, 0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2,
        0xb5, 0x12, 0x9c, 0xd1, 0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e};
    assert_memory_equal(out, want, 64);
    /* Split reads give the same stream as one read. */
    uint8_t a[100], b[100];
    wicas_wasi_chacha_init(&c, key, nonce);
    wicas_wasi_chacha_fill(&c, a, 100);
    wicas_wasi_chacha_init(&c, key, nonce);
    wicas_wasi_chacha_fill(&c, b, 7);
    wicas_wasi_chacha_fill(&c, b + 7, 60);
    wicas_wasi_chacha_fill(&c, b + 67, 33);
    assert_memory_equal(a, b, 100);
}

/* ---- the /models preopen ----------------------------------------------------------- */
static char models[300], outside[256];

static void write_file(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

static int fs_setup(void **state) {
    (void)state;
    snprintf(outside, sizeof outside, "/tmp/wicas-wasi-XXXXXX");
    if (!mkdtemp(outside)) return -1;
    snprintf(models, sizeof models, "%s/models", outside);
    mkdir(models, 0755);
    char p[512], q[512];
    snprintf(p, sizeof p, "%s/hello.txt", models);
    write_file(p, "hello from the models dir\n");
    snprintf(p, sizeof p, "%s/sub", models);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sub/inner.txt", models);
    write_file(p, "inner\n");
    snprintf(p, sizeof p, "%s/secret.txt", outside);
    write_file(p, "TOP SECRET\n");
    snprintf(q, sizeof q, "%s/link", models);
    if (symlink(p, q) != 0) return -1; /* file symlink pointing outside */
    snprintf(q, sizeof q, "%s/dirlink", models);
    if (symlink(outside, q) != 0) return -1; /* directory symlink pointing outside */
    snprintf(q, sizeof q, "%s/inlink", models);
    if (symlink("hello.txt", q) != 0) return -1; /* even an inside symlink is refused */
    return 0;
}

static int fs_teardown(void **state) {
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", outside);
    return system(cmd) == 0 ? 0 : -1;
}

static void fs_cfg(wicas_wasi_config *cfg) {
    wicas_wasi_config_default(cfg);
    cfg->models_dir = models;
}

static void expect_out(const char *mode, const char *path, int want_rc, const char *want_out) {
    wicas_wasi_config cfg;
    fs_cfg(&cfg);
    wicas_wasi_result r;
    int rc = run("files", &cfg, mode, path, NULL, NULL, &r);
    if (rc != want_rc || strcmp((char *)r.out, want_out) != 0)
        fail_msg("files %s %s: rc %d (%s) out \"%s\" err \"%s\", wanted rc %d out \"%s\"", mode, path, rc,
                 r.error, (char *)r.out, (char *)r.err, want_rc, want_out);
    wicas_wasi_result_free(&r);
}

static void models_dir_is_readable(void **state) {
    (void)state;
    expect_out("cat", "/models/hello.txt", 0, "hello from the models dir\n");
    expect_out("cat", "/models/sub/inner.txt", 0, "inner\n");
    expect_out("cat", "/models/./sub//inner.txt", 0, "inner\n");
    expect_out("raw", "hello.txt", 0,
               "read 26 bytes: hello from the models dir\n\nwrite errno=69\nerrno=0\n");
    expect_out("ls", "", 0, "dirlink\nhello.txt\ninlink\nlink\nsub\n");
    expect_out("seek", "/models/hello.txt", 0, "size=26 pread=4 [llo ] tell=26\n");
}

static void nothing_outside_the_preopen(void **state) {
    (void)state;
    /* 76 = ENOTCAPABLE, 69 = EROFS, 44 = ENOENT */
    expect_out("raw", "../secret.txt", 0, "errno=76\n");
    expect_out("raw", "sub/../../secret.txt", 0, "errno=76\n");
    expect_out("raw", "sub/../hello.txt", 0, "errno=76\n");
    expect_out("raw", "/etc/passwd", 0, "errno=76\n");
    expect_out("raw", "link", 0, "errno=76\n");
    expect_out("raw", "dirlink/secret.txt", 0, "errno=76\n");
    expect_out("raw", "inlink", 0, "errno=76\n");
    expect_out("raw", "missing.txt", 0, "errno=44\n");
    expect_out("create", "new.txt", 0, "errno=69\n");
    expect_out("create", "hello.txt", 0, "errno=69\n");
    expect_out("wronly", "hello.txt", 0, "errno=69\n");
    /* libc-level: wasi-libc finds no preopen for /etc, fopen fails, exit 3 */
    expect_out("cat", "/etc/passwd", 0, "");
    /* nothing was created or changed */
    char p[512];
    snprintf(p, sizeof p, "%s/new.txt", models);
    assert_int_not_equal(access(p, F_OK), 0);
    size_t n;
    snprintf(p, sizeof p, "%s/hello.txt", models);
    uint8_t *b = wicas_read_file(p, 1024, &n);
    assert_non_null(b);
    assert_string_equal((char *)b, "hello from the models dir\n");
    free(b);
}

static void no_preopen_without_models_dir(void **state) {
    (void)state;
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    wicas_wasi_result r;
    assert_int_equal(run("files", &cfg, "raw", "hello.txt", NULL, NULL, &r), WICAS_WASI_OK);
    assert_string_equal((char *)r.out, "errno=8\n"); /* EBADF: there is no fd 3 */
    wicas_wasi_result_free(&r);
    cfg.models_dir = "/nonexistent/wicas-models";
    assert_int_equal(run("files", &cfg, "ls", NULL, NULL, NULL, &r), WICAS_WASI_EARG);
    assert_non_null(strstr(r.error, "/nonexistent/wicas-models"));
    wicas_wasi_result_free(&r);
}

/* ---- hostile programs ------------------------------------------------------------------ */
static void unknown_imports_are_refused_by_name(void **state) {
    (void)state;
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    wicas_wasi_result r;
    assert_int_equal(run("badimport", &cfg, NULL, NULL, NULL, NULL, &r), WICAS_WASI_EIMPORT);
    assert_non_null(strstr(r.error, "\"env\".\"host_shell\""));
    assert_true(r.fuel_used == 0);
    wicas_wasi_result_free(&r);
    assert_int_equal(run("badwasi", &cfg, NULL, NULL, NULL, NULL, &r), WICAS_WASI_EIMPORT);
    assert_non_null(strstr(r.error, "\"wasi_snapshot_preview1\".\"path_make_world_writable\""));
    wicas_wasi_result_free(&r);
}

static int run_wat(const char *wat, const wicas_wasi_config *cfg, wicas_wasi_result *res) {
    wasm_byte_vec_t bin;
    wasmtime_error_t *e = wasmtime_wat2wasm(wat, strlen(wat), &bin);
    assert_null(e);
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    int rc = wicas_wasi_run(cfg, (const uint8_t *)bin.data, bin.size, &req, res);
    wasm_byte_vec_delete(&bin);
    return rc;
}

static void bad_modules_fail_cleanly(void **state) {
    (void)state;
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    wicas_wasi_result r;
    /* not wasm at all */
    wicas_wasi_request req;
    memset(&req, 0, sizeof req);
    const uint8_t junk[] = "\0asm\x01\0\0\0garbage";
    assert_int_equal(wicas_wasi_run(&cfg, junk, sizeof junk, &req, &r), WICAS_WASI_EMODULE);
    assert_non_null(strstr(r.error, "invalid wasm module"));
    wicas_wasi_result_free(&r);
    /* a reactor/library without _start */
    assert_int_equal(run_wat("(module (memory (export \"memory\") 1) (func (export \"f\")))", &cfg, &r),
                     WICAS_WASI_EMODULE);
    assert_non_null(strstr(r.error, "_start"));
    wicas_wasi_result_free(&r);
    /* an imported memory is not something the sandbox offers */
    assert_int_equal(run_wat("(module (import \"wasi_snapshot_preview1\" \"memory\" (memory 1)) "
                             "(func (export \"_start\")))",
                             &cfg, &r),
                     WICAS_WASI_EIMPORT);
    wicas_wasi_result_free(&r);
    /* right name, wrong type: refused at link time */
    assert_int_equal(run_wat("(module (import \"wasi_snapshot_preview1\" \"fd_write\" (func (param i64))) "
                             "(memory (export \"memory\") 1) (func (export \"_start\")))",
                             &cfg, &r),
                     WICAS_WASI_EINSTANTIATE);
    wicas_wasi_result_free(&r);
    /* initial memory (64 MiB) above the limit (16 MiB) */
    cfg.memory_limit = 16 << 20;
    assert_int_equal(
        run_wat("(module (memory (export \"memory\") 1024) (func (export \"_start\")))", &cfg, &r),
        WICAS_WASI_EINSTANTIATE);
    assert_non_null(strstr(r.error, "memory limit"));
    wicas_wasi_result_free(&r);
    /* NULL arguments */
    assert_int_equal(wicas_wasi_run(NULL, junk, sizeof junk, &req, &r), WICAS_WASI_EARG);
    wicas_wasi_result_free(&r);
    assert_int_equal(wicas_wasi_run(&cfg, junk, sizeof junk, NULL, &r), WICAS_WASI_EARG);
    wicas_wasi_result_free(&r);
    cfg.memory_limit = 8ull << 30;
    assert_int_equal(wicas_wasi_run(&cfg, junk, sizeof junk, &req, &r), WICAS_WASI_EARG);
    wicas_wasi_result_free(&r);
}

static void endless_loop_runs_out_of_fuel(void **state) {
    (void)state;
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    cfg.fuel_limit = 20 * 1000 * 1000;
    wicas_wasi_result r;
    assert_int_equal(run("hostile", &cfg, "spin", NULL, NULL, NULL, &r), WICAS_WASI_EFUEL);
    assert_non_null(strstr(r.error, "out of fuel"));
    assert_true(r.fuel_used == cfg.fuel_limit);
    wicas_wasi_result_free(&r);
}

static void stdout_flood_is_cut(void **state) {
    (void)state;
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    cfg.stdout_cap = 10000;
    wicas_wasi_result r;
    assert_int_equal(run("hostile", &cfg, "flood", NULL, NULL, NULL, &r), WICAS_WASI_EOUTPUT);
    assert_non_null(strstr(r.error, "more than 10000 bytes"));
    assert_true(r.out_len <= 10000 && r.out_len > 5000);
    assert_memory_equal(r.out, "0123456789abcdef", 16);
    wicas_wasi_result_free(&r);
}

static void memory_growth_stops_at_the_limit(void **state) {
    (void)state;
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    cfg.memory_limit = 16 << 20;
    wicas_wasi_result r;
    assert_int_equal(run("hostile", &cfg, "grow", NULL, NULL, NULL, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 3);
    unsigned n = 0;
    assert_int_equal(sscanf((char *)r.out, "allocated %u MiB", &n), 1);
    assert_true(n >= 12 && n < 16);
    wicas_wasi_result_free(&r);
}

static void traps_and_exits_are_reported(void **state) {
    (void)state;
    restore_wasmtime_signals();
    wicas_wasi_config cfg;
    wicas_wasi_config_default(&cfg);
    wicas_wasi_result r;
    assert_int_equal(run("hostile", &cfg, "trap", NULL, NULL, NULL, &r), WICAS_WASI_ETRAP);
    assert_non_null(strstr(r.error, "program trapped"));
    assert_string_equal((char *)r.out, "before the trap\n");
    wicas_wasi_result_free(&r);
    assert_int_equal(run("hostile", &cfg, "exit", NULL, NULL, NULL, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 7);
    assert_string_equal((char *)r.out, "bye\n");
    wicas_wasi_result_free(&r);
    assert_int_equal(run("hostile", &cfg, "deep", NULL, NULL, NULL, &r), WICAS_WASI_ETRAP);
    wicas_wasi_result_free(&r);
    assert_int_equal(run("hostile", &cfg, "oob", NULL, NULL, NULL, &r), WICAS_WASI_ETRAP);
    assert_non_null(strstr(r.error, "out of bounds"));
    wicas_wasi_result_free(&r);
    assert_int_equal(run("hostile", &cfg, "badptr", NULL, NULL, NULL, &r), WICAS_WASI_OK);
    assert_string_equal((char *)r.out, "fd_write=21 random_get=21\n");
    wicas_wasi_result_free(&r);
    assert_int_equal(run("hostile", &cfg, "nonsense", NULL, NULL, NULL, &r), WICAS_WASI_OK);
    assert_int_equal(r.exit_code, 2);
    wicas_wasi_result_free(&r);
}

int main(void) {
    {
        wicas_wasi_config cfg;
        wicas_wasi_config_default(&cfg);
        wicas_wasi_result r;
        static const uint8_t empty_cmd[] = {
            0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                        /* magic, version */
            0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                                    /* type: () -> () */
            0x03, 0x02, 0x01, 0x00,                                                /* func 0 : type 0 */
            0x05, 0x03, 0x01, 0x00, 0x01,                                          /* memory 1 page */
            0x07, 0x13, 0x02, 0x06, '_',  's',  't',  'a',  'r',  't', 0x00, 0x00, /* export _start */
            0x06, 'm',  'e',  'm',  'o',  'r',  'y',  0x02, 0x00,                  /* export memory */
            0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};                                   /* code: empty body */
        wicas_wasi_request req;
        memset(&req, 0, sizeof req);
        int rc = wicas_wasi_run(&cfg, empty_cmd, sizeof empty_cmd, &req, &r);
        if (rc != 0) {
            fprintf(stderr, "empty command failed: %s\n", r.error);
            return 1;
        }
        wicas_wasi_result_free(&r);
        for (int i = 0; i < 4; i++)
            sigaction(TRAP_SIGNALS[i], NULL, &wasmtime_sa[i]);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hello_sees_the_request),
        cmocka_unit_test(chacha_matches_rfc8439),
        cmocka_unit_test_setup_teardown(models_dir_is_readable, fs_setup, fs_teardown),
        cmocka_unit_test_setup_teardown(nothing_outside_the_preopen, fs_setup, fs_teardown),
        cmocka_unit_test(no_preopen_without_models_dir),
        cmocka_unit_test(unknown_imports_are_refused_by_name),
        cmocka_unit_test(bad_modules_fail_cleanly),
        cmocka_unit_test(endless_loop_runs_out_of_fuel),
        cmocka_unit_test(stdout_flood_is_cut),
        cmocka_unit_test(memory_growth_stops_at_the_limit),
        cmocka_unit_test(traps_and_exits_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

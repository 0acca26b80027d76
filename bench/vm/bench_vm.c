/*
 * bench_vm.c — VM benchmark: compile time vs cached-load time of a contract
 * module (the anchor is the compile; the ratio says what the disk cache
 * saves), executes per second of `counter` increment, and the gas used.
 * Usage: bench_vm WASM_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "vm.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bench_module(const char *dir, const char *name) {
    char path[4096], cache[] = "/tmp/wicas-bench-vm-XXXXXX";
    snprintf(path, sizeof path, "%s/%s.wasm", dir, name);
    size_t len;
    uint8_t *w = wicas_read_file(path, 4u << 20, &len);
    if (!w || !mkdtemp(cache)) {
        fprintf(stderr, "bench_vm: cannot read %s\n", path);
        return -1;
    }
    wicas_vm_config cfg;
    wicas_vm_config_default(&cfg);
    const int reps = 5;
    double t_compile = 0, t_load = 0;
    for (int i = 0; i < reps; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'/*", cache);
        if (system(cmd)) return -1;
        cfg.cache_dir = cache;
        wicas_vm *vm = wicas_vm_new(&cfg, NULL, 0);
        double t0 = now();
        if (wicas_vm_store_code(vm, w, len, NULL, NULL, 0)) return -1;
        t_compile += now() - t0;
        wicas_vm_free(vm);
        vm = wicas_vm_new(&cfg, NULL, 0); /* fresh memory: the next store_code loads from disk */
        t0 = now();
        if (wicas_vm_store_code(vm, w, len, NULL, NULL, 0)) return -1;
        t_load += now() - t0;
        wicas_vm_cache_stats st;
        wicas_vm_get_cache_stats(vm, &st);
        if (st.disk_hits != 1) return -1;
        wicas_vm_free(vm);
    }
    t_compile /= reps, t_load /= reps;
    printf(
        "%-12s %7zu bytes  compile %8.2f ms  cached load %7.3f ms  ratio load/compile %.4f (%.0fx faster)\n",
        name, len, t_compile * 1e3, t_load * 1e3, t_load / t_compile, t_compile / t_load);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache);
    if (system(cmd)) return -1;
    free(w);
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : getenv("WICAS_WASM_DIR");
    if (!dir) {
        fprintf(stderr, "usage: bench_vm WASM_DIR\n");
        return 2;
    }
    wicas_log_set_level(WICAS_LOG_ERROR);
    if (bench_module(dir, "counter") || bench_module(dir, "nameservice")) return 1;

    /* executes per second: counter increment in a fresh instance each time */
    char path[4096];
    snprintf(path, sizeof path, "%s/counter.wasm", dir);
    size_t len;
    uint8_t *w = wicas_read_file(path, 4u << 20, &len);
    wicas_vm *vm = wicas_vm_new(NULL, NULL, 0);
    uint8_t sum[32];
    if (!w || !vm || wicas_vm_store_code(vm, w, len, sum, NULL, 0)) return 1;
    wicas_vm_memstore *ms = wicas_vm_memstore_new();
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    char *env = wicas_vm_env_json(1, 0, "bench", 0, "wicas1contract");
    char *info = wicas_vm_info_json("wicas1owner", NULL, 0);
    wicas_vm_result r;
    wicas_vm_call_params p = {.env_json = env,
                              .info_json = info,
                              .msg = (const uint8_t *)"{\"count\":0}",
                              .msg_len = 11,
                              .storage = &st,
                              .gas_limit = 100000000000000ULL};
    if (wicas_vm_call(vm, sum, WICAS_VM_INSTANTIATE, &p, &r)) return 1;
    uint64_t gas_inst = r.gas_used;
    wicas_vm_result_free(&r);
    p.msg = (const uint8_t *)"{\"increment\":{}}";
    p.msg_len = strlen((const char *)p.msg);
    const int n = 2000;
    uint64_t gas_exec = 0;
    double t0 = now();
    for (int i = 0; i < n; i++) {
        if (wicas_vm_call(vm, sum, WICAS_VM_EXECUTE, &p, &r)) return 1;
        gas_exec = r.gas_used;
        wicas_vm_result_free(&r);
    }
    double dt = now() - t0;
    p.msg = (const uint8_t *)"{\"get_count\":{}}";
    p.msg_len = 16;
    if (wicas_vm_call(vm, sum, WICAS_VM_QUERY, &p, &r) || r.query_len < 10) return 1;
    printf("counter      %d increments in %.3f s: %.0f executes/s (%.1f us each); final %.*s\n", n, dt,
           n / dt, dt / n * 1e6, (int)r.query_len, r.query_data);
    printf("counter gas  instantiate %llu, increment %llu CosmWasm gas (= %.2f / %.2f SDK gas at multiplier "
           "%llu)\n",
           (unsigned long long)gas_inst, (unsigned long long)gas_exec,
           (double)gas_inst / WICAS_VM_GAS_MULTIPLIER, (double)gas_exec / WICAS_VM_GAS_MULTIPLIER,
           WICAS_VM_GAS_MULTIPLIER);
    wicas_vm_result_free(&r);
    free(env);
    free(info);
    free(w);
    wicas_vm_memstore_free(ms);
    wicas_vm_free(vm);
    return 0;
}

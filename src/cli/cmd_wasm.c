/*
 * cmd_wasm.c — `wicasd wasm run`: a contract developer's simulator (in the
 * spirit of cosmwasm-simulate). It runs one entry point of a contract
 * against a local state kept in a JSON file between invocations, and prints
 * the result and the gas used:
 *
 *   wicasd wasm run --state FILE.json CONTRACT.wasm instantiate|execute|query|migrate|sudo 'JSON'
 *                   [--sender ADDR] [--funds 100uwicas[,5uatom]] [--height N] [--gas-limit N]
 *                   [--output text|json]
 *
 * State file: {"checksum":"<hex>","height":N,"storage":[{"key":"<hex>","value":"<base64>"},...]}
 * (keys ascending). The state is rewritten only when the call succeeds and is
 * not a query. Env: chain_id "wicas-local", block time = 1.7e18 ns + 5 s per
 * height, contract address = bech32("wicas", first 32 bytes of SHA-256 of
 * "contract" + code checksum). Default sender = bech32 of 20 bytes 0x01.
 * Compiled modules are cached under <cache dir>/vm-modules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "common.h"
#include "flags.h"
#include "vm.h"

#define MAX_FUNDS 8

static void usage(FILE *f) {
    fprintf(f,
            "Usage: wicasd wasm run --state FILE.json CONTRACT.wasm instantiate|execute|query|migrate|sudo "
            "'JSON'\n"
            "         [--sender ADDR] [--funds 100uwicas[,5uatom]] [--height N] [--gas-limit N] [--output "
            "text|json]\n"
            "Runs a contract entry point on a local state persisted in FILE.json; prints result and gas.\n"
            "Gas is CosmWasm gas (SDK gas = CosmWasm gas / %llu). Default gas limit: 3e14 (~2.1M SDK gas).\n",
            WICAS_VM_GAS_MULTIPLIER);
}

static bool wicas_parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* "100uwicas,5uatom" -> coins (amount strings and denoms point into buf). */
static int parse_funds(char *buf, wicas_vm_coin *coins, size_t *n) {
    *n = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        size_t d = 0;
        while (tok[d] >= '0' && tok[d] <= '9')
            d++;
        if (d == 0 || d > 39 || !tok[d] || *n == MAX_FUNDS) return -1;
        for (const char *c = tok + d; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  *c == '/'))
                return -1;
        static char amounts[MAX_FUNDS][40];
        memcpy(amounts[*n], tok, d);
        amounts[*n][d] = 0;
        coins[*n].amount = amounts[*n];
        coins[*n].denom = tok + d;
        (*n)++;
    }
    return 0;
}

/* Loads the state file into ms; a missing file is an empty state. */
static int load_state(const char *path, wicas_vm_memstore *ms, uint64_t *height, char checksum_hex[65]) {
    size_t len;
    uint8_t *buf = wicas_read_file(path, 256u << 20, &len);
    if (!buf) {
        if (errno == ENOENT) return 0;
        fprintf(stderr, "wicasd wasm run: cannot read state %s: %s\n", path, strerror(errno));
        return -1;
    }
    cJSON *j = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "storage");
    if (!cJSON_IsObject(j) || !cJSON_IsArray(st)) {
        fprintf(stderr, "wicasd wasm run: state %s is not a state file (want {\"storage\":[...]})\n", path);
        cJSON_Delete(j);
        return -1;
    }
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "height");
    if (cJSON_IsNumber(h) && h->valuedouble >= 0) *height = (uint64_t)h->valuedouble;
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(j, "checksum");
    if (cJSON_IsString(cs) && strlen(cs->valuestring) == 64) memcpy(checksum_hex, cs->valuestring, 65);
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, st) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key"),
                    *v = cJSON_GetObjectItemCaseSensitive(e, "value");
        if (!cJSON_IsString(k) || !cJSON_IsString(v) || strlen(k->valuestring) % 2) goto bad;
        size_t kl = strlen(k->valuestring) / 2, vl = strlen(v->valuestring);
        uint8_t *kb = malloc(kl + 1), *vb = malloc(vl / 4 * 3 + 3);
        long n = -1;
        if (kb && vb && wicas_hex_decode(k->valuestring, kb, kl) == 0)
            n = wicas_base64_decode(v->valuestring, vl, vb, vl / 4 * 3 + 3);
        if (n < 0 || wicas_vm_memstore_set(ms, kb, kl, vb, (size_t)n)) {
            free(kb);
            free(vb);
            goto bad;
        }
        free(kb);
        free(vb);
        i++;
    }
    cJSON_Delete(j);
    return 0;
bad:
    fprintf(stderr, "wicasd wasm run: state %s: entry %d is malformed (want hex key, base64 value)\n", path,
            i);
    cJSON_Delete(j);
    return -1;
}

static int save_state(const char *path, const wicas_vm_memstore *ms, uint64_t height,
                      const char *checksum_hex) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "wicasd wasm run: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "{\"checksum\":\"%s\",\"height\":%llu,\"storage\":[", checksum_hex,
            (unsigned long long)height);
    size_t n = wicas_vm_memstore_count(ms);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *k, *v;
        size_t kl, vl;
        wicas_vm_memstore_entry(ms, i, &k, &kl, &v, &vl);
        char *kh = malloc(2 * kl + 1), *vb = malloc(wicas_base64_encoded_len(vl));
        if (!kh || !vb) {
            free(kh);
            free(vb);
            fclose(f);
            return -1;
        }
        wicas_hex_encode(k, kl, kh);
        wicas_base64_encode(v, vl, vb);
        fprintf(f, "%s\n  {\"key\":\"%s\",\"value\":\"%s\"}", i ? "," : "", kh, vb);
        free(kh);
        free(vb);
    }
    fprintf(f, "\n]}\n");
    if (fclose(f) || rename(tmp, path)) {
        fprintf(stderr, "wicasd wasm run: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int run(int argc, char **argv) {
    const char *state = NULL, *sender = NULL, *output = "text", *pos[3] = {0};
    char *funds = NULL;
    uint64_t height = 0, gas_limit = 300000000000000ULL;
    bool height_set = false;
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if ((v = wicas_flag_take(argc, argv, &i, "--state")))
            state = v;
        else if ((v = wicas_flag_take(argc, argv, &i, "--sender")))
            sender = v;
        else if ((v = wicas_flag_take(argc, argv, &i, "--funds")))
            funds = (char *)v;
        else if ((v = wicas_flag_take(argc, argv, &i, "--output")))
            output = v;
        else if ((v = wicas_flag_take(argc, argv, &i, "--height"))) {
            if (!wicas_parse_u64(v, &height)) {
                fprintf(stderr, "wicasd wasm run: --height wants an unsigned integer, got '%s'\n", v);
                return 2;
            }
            height_set = true;
        } else if ((v = wicas_flag_take(argc, argv, &i, "--gas-limit"))) {
            if (!wicas_parse_u64(v, &gas_limit)) {
                fprintf(stderr, "wicasd wasm run: --gas-limit wants an unsigned integer, got '%s'\n", v);
                return 2;
            }
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "wicasd wasm run: unknown flag or missing value: '%s'\n", a);
            return 2;
        } else if (npos < 3)
            pos[npos++] = a;
        else {
            fprintf(stderr, "wicasd wasm run: unexpected argument '%s'\n", a);
            return 2;
        }
    }
    if (!state || npos != 3) {
        usage(stderr);
        return 2;
    }
    if (strcmp(output, "text") && strcmp(output, "json")) {
        fprintf(stderr, "wicasd wasm run: --output wants text or json, got '%s'\n", output);
        return 2;
    }
    static const char *const ENTRIES[] = {"instantiate", "execute", "query", "migrate", "sudo"};
    int entry = -1;
    for (int k = 0; k < 5; k++)
        if (!strcmp(pos[1], ENTRIES[k])) entry = k;
    if (entry < 0) {
        fprintf(
            stderr,
            "wicasd wasm run: entry point must be instantiate, execute, query, migrate or sudo; got '%s'\n",
            pos[1]);
        return 2;
    }
    wicas_vm_coin coins[MAX_FUNDS];
    size_t n_coins = 0;
    if (funds && parse_funds(funds, coins, &n_coins)) {
        fprintf(stderr, "wicasd wasm run: --funds wants AMOUNTdenom[,AMOUNTdenom...] (e.g. 100uwicas)\n");
        return 2;
    }

    int rc = 1;
    size_t wasm_len = 0;
    uint8_t *wasm = wicas_read_file(pos[0], 64u << 20, &wasm_len);
    if (!wasm) {
        fprintf(stderr, "wicasd wasm run: cannot read %s: %s\n", pos[0], strerror(errno));
        return 1;
    }
    char cache[4096], err[512] = "";
    wicas_vm_config cfg;
    wicas_vm_config_default(&cfg);
    if (wicas_cache_dir(cache, sizeof cache - 16) == 0) {
        strcat(cache, "/vm-modules");
        cfg.cache_dir = cache;
    }
    wicas_vm *vm = wicas_vm_new(&cfg, err, sizeof err);
    if (!vm) {
        cfg.cache_dir = NULL; /* an unwritable cache is not fatal */
        vm = wicas_vm_new(&cfg, err, sizeof err);
    }
    wicas_vm_api *api = wicas_vm_api_bech32("wicas");
    wicas_vm_memstore *ms = wicas_vm_memstore_new();
    char *env = NULL, *info = NULL;
    wicas_vm_result r = {0};
    uint8_t sum[32];
    if (!vm || !api || !ms) {
        fprintf(stderr, "wicasd wasm run: cannot create the VM: %s\n", err);
        goto out;
    }
    if (wicas_vm_store_code(vm, wasm, wasm_len, sum, err, sizeof err)) {
        fprintf(stderr, "wicasd wasm run: %s: %s\n", pos[0], err);
        goto out;
    }
    char hex[65], old_hex[65] = "";
    wicas_hex_encode(sum, 32, hex);
    uint64_t file_height = 0;
    if (load_state(state, ms, &file_height, old_hex)) goto out;
    if (old_hex[0] && strcmp(old_hex, hex) && entry != WICAS_VM_MIGRATE)
        fprintf(stderr, "wicasd wasm run: note: state was made by code %s, running code %s\n", old_hex, hex);
    if (!height_set) height = file_height + 1;

    /* addresses */
    char contract[128], def_sender[128], aerr[128];
    uint8_t seed[36 + 32], caddr[32];
    memcpy(seed, "contract", 8);
    memcpy(seed + 8, sum, 32);
    wicas_sha256(seed, 40, caddr);
    uint8_t ones[20];
    memset(ones, 1, sizeof ones);
    if (api->humanize(api->ctx, caddr, 32, contract, sizeof contract, aerr, sizeof aerr) ||
        api->humanize(api->ctx, ones, 20, def_sender, sizeof def_sender, aerr, sizeof aerr))
        goto out;
    env = wicas_vm_env_json(height, 1700000000000000000ULL + height * 5000000000ULL, "wicas-local", 0,
                            contract);
    if (entry == WICAS_VM_INSTANTIATE || entry == WICAS_VM_EXECUTE)
        info = wicas_vm_info_json(sender ? sender : def_sender, coins, n_coins);
    else if (entry ==
             WICAS_VM_MIGRATE) /* MigrateInfo; the state file does not record the old code's version */
        info = wicas_vm_migrate_info_json(sender ? sender : def_sender, false, 0);
    wicas_vm_storage st = wicas_vm_memstore_storage(ms);
    wicas_vm_call_params p = {.env_json = env,
                              .info_json = info,
                              .msg = (const uint8_t *)pos[2],
                              .msg_len = strlen(pos[2]),
                              .storage = &st,
                              .api = api,
                              .gas_limit = gas_limit};
    wicas_vm_status s = wicas_vm_call(vm, sum, (wicas_vm_entry)entry, &p, &r);

    /* the result */
    if (!strcmp(output, "json")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", s == WICAS_VM_OK ? "ok" : wicas_vm_strerror(s));
        cJSON_AddStringToObject(o, "contract", contract);
        cJSON_AddNumberToObject(o, "height", (double)height);
        char g[32];
        snprintf(g, sizeof g, "%llu", (unsigned long long)r.gas_used);
        cJSON_AddRawToObject(o, "gas_used", g);
        snprintf(g, sizeof g, "%llu",
                 (unsigned long long)((r.gas_used + WICAS_VM_GAS_MULTIPLIER - 1) / WICAS_VM_GAS_MULTIPLIER));
        cJSON_AddRawToObject(o, "sdk_gas_used", g);
        if (s == WICAS_VM_OK && entry == WICAS_VM_QUERY) {
            cJSON *q = cJSON_ParseWithLength((const char *)r.query_data, r.query_len);
            if (q)
                cJSON_AddItemToObject(o, "result", q);
            else {
                char *b = malloc(wicas_base64_encoded_len(r.query_len));
                wicas_base64_encode(r.query_data, r.query_len, b);
                cJSON_AddStringToObject(o, "result_base64", b);
                free(b);
            }
        } else if (s == WICAS_VM_OK) {
            cJSON_AddItemToObject(o, "result", cJSON_Parse(r.ok_json));
        } else {
            cJSON_AddStringToObject(o, "error", r.error ? r.error : "");
        }
        char *out = cJSON_PrintUnformatted(o);
        printf("%s\n", out);
        free(out);
        cJSON_Delete(o);
    } else {
        printf("contract: %s\nheight: %llu\n", contract, (unsigned long long)height);
        if (s == WICAS_VM_OK && entry == WICAS_VM_QUERY)
            printf("result: %.*s\n", (int)r.query_len, r.query_data);
        else if (s == WICAS_VM_OK)
            printf("result: %s\n", r.ok_json);
        else
            printf("error: %s: %s\n", wicas_vm_strerror(s), r.error ? r.error : "");
        printf("gas_used: %llu (SDK gas %llu)\n", (unsigned long long)r.gas_used,
               (unsigned long long)((r.gas_used + WICAS_VM_GAS_MULTIPLIER - 1) / WICAS_VM_GAS_MULTIPLIER));
    }
    if (s == WICAS_VM_OK) {
        rc = 0;
        if (entry != WICAS_VM_QUERY && save_state(state, ms, height, hex)) rc = 1;
    }
out:
    wicas_vm_result_free(&r);
    free(env);
    free(info);
    wicas_vm_memstore_free(ms);
    wicas_vm_api_free(api);
    wicas_vm_free(vm);
    free(wasm);
    return rc;
}

int wicas_cmd_wasm(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "run")) return run(argc - 1, argv + 1);
    fprintf(stderr, "wicasd wasm: unknown sub-command '%s' (want: run)\n", argv[1]);
    return 2;
}

/*
 * node_setup.c — node home creation for `init` and `devnet` (see
 * node_setup.h). Keys come from cometbft itself (`cometbft init`), so their
 * formats are always the ones the pinned binary expects; we only edit the
 * two text files around them.
 */
#include "node_setup.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain.h"
#include "common.h"
#include "flags.h"

#if defined(__has_include)
#if __has_include("ai.h") && __has_include("infer.h")
#include "ai.h"
#include "infer.h"
#define NODE_HAVE_AI 1
#endif
#endif

bool wicas_node_valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 48) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return false;
    }
    return true;
}

int wicas_node_setup_home(const wicas_node_setup *s, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config/genesis.json", s->home);
    if (access(path, F_OK) == 0) {
        if (!s->overwrite) {
            wicas_errf(err, errlen, "%s already exists (use --overwrite to replace config and genesis)",
                       path);
            return -1;
        }
        unlink(path);
        snprintf(path, sizeof path, "%s/config/config.toml", s->home);
        unlink(path);
    }
    if (mkdir(s->home, 0755) != 0 && errno != EEXIST) {
        wicas_errf(err, errlen, "cannot create %s: %s", s->home, strerror(errno));
        return -1;
    }
    if (wicas_node_cometbft_init(s->home, err, errlen) != 0) return -1;
    wicas_node_config cfg = s->config;
    cfg.moniker = s->moniker;
    return wicas_node_configure(s->home, &cfg, err, errlen);
}

cJSON *wicas_node_default_app_state(void) {
    /* The chain's genesis sections, empty: no accounts, no balances, no
     * codes; params take the chain's defaults. `wicasd genesis add-account`
     * fills them in. */
    return cJSON_Parse("{\"auth\":{\"accounts\":[]},\"bank\":{\"balances\":[]},\"wasm\":{\"codes\":[]}}");
}

cJSON *wicas_node_coins_json(const char *coins, char *err, size_t errlen) {
    wicas_chain_coin *c;
    size_t n;
    if (wicas_chain_coins_parse(coins, &c, &n, err, errlen) != 0) return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        char amount[24];
        snprintf(amount, sizeof amount, "%" PRIu64, c[i].amount);
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            arr = NULL;
        } else if (!cJSON_AddStringToObject(o, "denom", c[i].denom) ||
                   !cJSON_AddStringToObject(o, "amount", amount)) {
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    free(c);
    if (!arr) wicas_errf(err, errlen, "out of memory");
    return arr;
}

int wicas_node_app_state_add_account(cJSON *app_state, const char *spec, char *err, size_t errlen) {
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= 128) {
        wicas_errf(err, errlen, "account '%s': want ADDRESS:COINS (e.g. wicas1...:1000uwicas)", spec);
        return -1;
    }
    char addr[128];
    memcpy(addr, spec, (size_t)(colon - spec));
    addr[colon - spec] = '\0';
    if (strncmp(addr, "wicas1", 6) != 0) {
        wicas_errf(err, errlen, "account '%s': address must start with wicas1", spec);
        return -1;
    }
    char cerr[256];
    cJSON *coins = wicas_node_coins_json(colon + 1, cerr, sizeof cerr);
    if (!coins) {
        wicas_errf(err, errlen, "account '%s': %s", spec, cerr);
        return -1;
    }
    cJSON *auth = cJSON_GetObjectItemCaseSensitive(app_state, "auth");
    cJSON *bank = cJSON_GetObjectItemCaseSensitive(app_state, "bank");
    cJSON *accs = cJSON_GetObjectItemCaseSensitive(auth, "accounts");
    cJSON *bals = cJSON_GetObjectItemCaseSensitive(bank, "balances");
    if (!cJSON_IsArray(accs) || !cJSON_IsArray(bals)) {
        cJSON_Delete(coins);
        wicas_errf(err, errlen, "app_state lacks auth.accounts or bank.balances");
        return -1;
    }
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "address", addr);
    cJSON_AddItemToArray(accs, a);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "address", addr);
    cJSON_AddItemToObject(b, "coins", coins);
    cJSON_AddItemToArray(bals, b);
    return 0;
}

int wicas_node_write_genesis(const char *home, const char *chain_id, const cJSON *app_state,
                             const cJSON *validators, char *err, size_t errlen) {
    cJSON *def = app_state ? NULL : wicas_node_default_app_state();
    if (!app_state && !def) {
        wicas_errf(err, errlen, "out of memory");
        return -1;
    }
    int rc = wicas_node_genesis_edit(home, chain_id, app_state ? app_state : def, WICAS_NODE_VOTE_EXT_HEIGHT,
                                     validators, err, errlen);
    cJSON_Delete(def);
    return rc;
}

cJSON *wicas_node_validator_entry(const char *home, const char *name, long power, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config/priv_validator_key.json", home);
    size_t len;
    char *text = (char *)wicas_read_file(path, 1 << 16, &len);
    if (!text) {
        wicas_errf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    cJSON *k = cJSON_Parse(text);
    free(text);
    cJSON *addr = cJSON_GetObjectItemCaseSensitive(k, "address");
    cJSON *pk = cJSON_GetObjectItemCaseSensitive(k, "pub_key");
    if (!cJSON_IsString(addr) || !cJSON_IsObject(pk)) {
        cJSON_Delete(k);
        wicas_errf(err, errlen, "%s: missing address or pub_key", path);
        return NULL;
    }
    cJSON *v = cJSON_CreateObject();
    char pw[32];
    snprintf(pw, sizeof pw, "%ld", power);
    cJSON_AddStringToObject(v, "address", addr->valuestring);
    cJSON_AddItemToObject(v, "pub_key", cJSON_Duplicate(pk, 1));
    cJSON_AddStringToObject(v, "power", pw);
    cJSON_AddStringToObject(v, "name", name);
    cJSON_Delete(k);
    return v;
}

const char *wicas_node_default_model(void) {
#ifdef WICAS_DEFAULT_MODEL_PATH
    if (access(WICAS_DEFAULT_MODEL_PATH, R_OK) == 0) return WICAS_DEFAULT_MODEL_PATH;
#endif
    return NULL;
}

char *wicas_node_model_entry(const char *path, const char *name, const uint64_t gas[3], char *err,
                             size_t errlen) {
#ifndef NODE_HAVE_AI
    (void)path, (void)name, (void)gas;
    wicas_errf(err, errlen, "this build has no AI module");
    return NULL;
#else
    wicas_ai_model m;
    memset(&m, 0, sizeof m);
    if (strlen(name) > WICAS_AI_NAME_MAX) {
        wicas_errf(err, errlen, "model name '%s' is too long", name);
        return NULL;
    }
    wicas_infer_model *model = NULL;
    char ierr[256] = "";
    int rc = wicas_infer_model_load(path, NULL, NULL, &model, ierr, sizeof ierr);
    if (rc != 0) {
        wicas_errf(err, errlen, "cannot use model %s: %s", path, ierr[0] ? ierr : wicas_infer_strerror(rc));
        return NULL;
    }
    wicas_infer_model_info info;
    wicas_infer_model_get_info(model, &info);
    wicas_infer_model_release(model);
    snprintf(m.name, sizeof m.name, "%s", name);
    memcpy(m.sha256, info.sha256, 32);
    m.size_bytes = info.file_size;
    snprintf(m.arch, sizeof m.arch, "%s", info.arch);
    m.n_params = info.n_params;
    m.gas = wicas_ai_default_gas();
    if (gas && gas[0] != UINT64_MAX) m.gas.base = gas[0];
    if (gas && gas[1] != UINT64_MAX) m.gas.per_prompt_token = gas[1];
    if (gas && gas[2] != UINT64_MAX) m.gas.per_gen_token = gas[2];
    char *js = wicas_ai_model_to_json(&m);
    /* Round trip through the registry parser: what we write must be what the
     * chain accepts. */
    wicas_ai_model back;
    char aerr[256] = "";
    if (!js || wicas_ai_model_from_json(js, strlen(js), &back, aerr, sizeof aerr) != 0) {
        wicas_errf(err, errlen, "model %s: registry entry rejected: %s", path, aerr);
        free(js);
        return NULL;
    }
    return js;
#endif
}

int wicas_node_app_state_add_model(cJSON *app_state, const char *path, const char *name, char *err,
                                   size_t errlen) {
#ifndef NODE_HAVE_AI
    (void)app_state, (void)path, (void)name;
    wicas_errf(err, errlen, "this build has no AI module");
    return -1;
#else
    char *js = wicas_node_model_entry(path, name, NULL, err, errlen);
    if (!js) return -1;
    cJSON *entry = cJSON_Parse(js);
    free(js);
    cJSON *ai = cJSON_GetObjectItemCaseSensitive(app_state, "ai");
    if (!ai) ai = cJSON_AddObjectToObject(app_state, "ai");
    cJSON *models = cJSON_GetObjectItemCaseSensitive(ai, "models");
    if (!models) models = cJSON_AddArrayToObject(ai, "models");
    if (!entry || !cJSON_IsArray(models)) {
        cJSON_Delete(entry);
        wicas_errf(err, errlen, "app_state.ai.models is not an array");
        return -1;
    }
    cJSON_AddItemToArray(models, entry);
    return 0;
#endif
}

int wicas_node_parse_run_args(bool start, int argc, char **argv, wicas_node_run_opts *o,
                              void (*usage)(FILE *)) {
    const char *cmd = start ? "start" : "abci";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else if ((v = wicas_flag_take(argc, argv, &i, "--home"))) {
            o->home = v;
        } else if ((v = wicas_flag_take(argc, argv, &i, "--models-dir"))) {
            o->models_dir = v;
        } else if (strcmp(a, "--ai-wrong-answer") == 0) {
            o->ai_wrong_answer = true;
        } else if ((v = wicas_flag_take(argc, argv, &i, "--byzantine")) ||
                   (v = wicas_flag_take(argc, argv, &i, "--byzantine-snapshots"))) {
            /* test-only fault injectors (tests/chaos); the names' positions + 1
             * are chain.h's WICAS_BYZ_* and abci.h's WICAS_ABCI_BYZ_SNAP_* */
            static const char *const votes[] = {"omit", "reorder", "duplicate", "forge", "unknown-id", NULL};
            static const char *const snaps[] = {"forge-chain-id", "bad-chunk", "oversized-chunk", NULL};
            bool snap = strcmp(a, "--byzantine-snapshots") == 0;
            const char *const *names = snap ? snaps : votes;
            const char *m = v;
            int k = 0;
            while (names[k] && strcmp(names[k], m) != 0)
                k++;
            if (!names[k]) {
                fprintf(stderr, "wicasd %s: %s '%s': want %s\n", cmd, a, m,
                        snap ? "forge-chain-id|bad-chunk|oversized-chunk"
                             : "omit|reorder|duplicate|forge|unknown-id");
                return 2;
            }
            if (snap)
                o->byzantine_snapshots = k + 1;
            else
                o->byzantine = k + 1;
        } else if ((v = wicas_flag_take(argc, argv, &i, "--ai-threads"))) {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || end == v || t < 1 || t > 256) {
                fprintf(stderr, "wicasd %s: --ai-threads must be 1..256\n", cmd);
                return 2;
            }
            o->ai_threads = (unsigned)t;
        } else if ((v = wicas_flag_take(argc, argv, &i, "--ai-query-max-tokens"))) {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || end == v || t < 0 || t > WICAS_NODE_AI_QUERY_MAX_TOKENS) {
                fprintf(stderr, "wicasd %s: --ai-query-max-tokens must be 0 (no inference in queries)..%d\n",
                        cmd, WICAS_NODE_AI_QUERY_MAX_TOKENS);
                return 2;
            }
            o->ai_query_max_tokens = (unsigned)t;
        } else if ((v = wicas_flag_take(argc, argv, &i, "--minimum-gas-prices"))) {
            const char *g = v;
            if (wicas_node_parse_gas_price(g, &o->min_gas_price_num, &o->min_gas_price_den) != 0) {
                fprintf(stderr, "wicasd %s: --minimum-gas-prices '%s': want e.g. 0.025uwicas\n", cmd, g);
                return 2;
            }
        } else if ((v = wicas_flag_take(argc, argv, &i, "--snapshot-interval")) ||
                   (v = wicas_flag_take(argc, argv, &i, "--snapshot-keep"))) {
            char *end;
            long long n = strtoll(v, &end, 10);
            bool keep = strcmp(a, "--snapshot-keep") == 0;
            if (*end || end == v || n < (keep ? 1 : 0) || n > (keep ? 1000 : 1000000000LL)) {
                fprintf(stderr, "wicasd %s: %s must be %s\n", cmd, a,
                        keep ? "1..1000" : "0 (off)..1000000000 blocks");
                return 2;
            }
            if (keep)
                o->snapshot_keep = (unsigned)n;
            else
                o->snapshot_interval = (int64_t)n;
        } else if (start && strcmp(a, "--abci-only") == 0) {
            o->with_cometbft = false;
        } else if (start && (v = wicas_flag_take(argc, argv, &i, "--cometbft-log"))) {
            o->cometbft_log = v;
        } else if (!start && (v = wicas_flag_take(argc, argv, &i, "--address"))) {
            o->abci_address = v;
        } else {
            fprintf(stderr, "wicasd %s: unexpected argument '%s'\n", cmd, a);
            usage(stderr);
            return 2;
        }
    }
    if (!o->home) {
        fprintf(stderr, "wicasd %s: --home DIR is required\n", cmd);
        usage(stderr);
        return 2;
    }
    return 0;
}

/*
 * cmd_genesis.c — `wicasd genesis add-account ADDRESS|KEYNAME COINS --home DIR
 * [--append] [--keyring-dir DIR]`: adds a funded account to
 * DIR/config/genesis.json, in the app_state sections the chain reads at
 * InitChain (auth.accounts and bank.balances, as the Cosmos SDK names them).
 * COINS is "1000uwicas" or "1000uwicas,5ufoo", checked by the chain's own coin
 * parser (wicas_chain_coins_parse: a list a transaction could carry, written
 * sorted by denom). An address already present is
 * an error unless --append, which adds the coins to its balance. The file is
 * rewritten through a temporary file and rename, so it is never half-written.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ai.h"
#include "chain.h"
#include "client.h"
#include "cli.h"
#include "common.h"
#include "flags.h"
#include "infer.h"
#include "node_setup.h"

int wicas_keys_dir(int argc, char **argv, char *out, size_t cap);

static void usage(FILE *f) {
    fprintf(
        f,
        "Usage: wicasd genesis add-account ADDRESS|KEYNAME COINS --home DIR [--append] [--keyring-dir DIR]\n"
        "       wicasd genesis add-model NAME FILE.gguf --home DIR [--gas-base N] [--gas-per-prompt-token "
        "N]\n"
        "                                [--gas-per-gen-token N] [--output json]\n\n"
        "  COINS        e.g. 1000000uwicas or 1000uwicas,5ufoo\n"
        "  --home DIR   node home whose config/genesis.json is edited\n"
        "  --append     add to the balance of an address already in genesis\n");
}

static cJSON *section(cJSON *parent, const char *name, const char *list) {
    cJSON *s = cJSON_GetObjectItemCaseSensitive(parent, name);
    if (!cJSON_IsObject(s)) {
        cJSON_DeleteItemFromObjectCaseSensitive(parent, name);
        s = cJSON_AddObjectToObject(parent, name);
    }
    cJSON *l = cJSON_GetObjectItemCaseSensitive(s, list);
    if (!cJSON_IsArray(l)) {
        cJSON_DeleteItemFromObjectCaseSensitive(s, list);
        l = cJSON_AddArrayToObject(s, list);
    }
    return l;
}

static int add_account(int argc, char **argv) {
    if (argc < 4 || argv[2][0] == '-' || argv[3][0] == '-') {
        usage(stderr);
        return 2;
    }
    const char *who = argv[2], *coins_s = argv[3];
    const char *home = wicas_flag(argc, argv, "--home");
    bool append = wicas_flag_has(argc, argv, "--append");
    if (!home) {
        fprintf(stderr, "wicasd genesis add-account: --home DIR is required\n");
        return 2;
    }
    char err[512];
    char address[100];
    uint8_t raw[32];
    size_t rl;
    if (wicas_chain_addr_decode(who, raw, &rl) == 0) {
        snprintf(address, sizeof address, "%s", who);
    } else {
        char dir[1024];
        wicas_chain_key_info k;
        if (wicas_keys_dir(argc, argv, dir, sizeof dir) ||
            wicas_chain_keyring_info(dir, who, &k, err, sizeof err)) {
            fprintf(stderr, "wicasd genesis add-account: '%s' is neither a wicas1 address nor a key: %s\n",
                    who, err);
            return 1;
        }
        snprintf(address, sizeof address, "%s", k.address);
    }
    cJSON *coins = wicas_node_coins_json(coins_s, err, sizeof err);
    if (!coins || cJSON_GetArraySize(coins) == 0) {
        fprintf(stderr, "wicasd genesis add-account: %s\n", coins ? "no coins given" : err);
        cJSON_Delete(coins);
        return 1;
    }
    char path[1024], tmp[1100];
    snprintf(path, sizeof path, "%s/config/genesis.json", home);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    size_t n;
    char *text = (char *)wicas_read_file(path, 64u << 20, &n);
    if (!text) {
        fprintf(stderr, "wicasd genesis add-account: cannot read %s (run 'wicasd init' first)\n", path);
        cJSON_Delete(coins);
        return 1;
    }
    cJSON *g = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(g)) {
        fprintf(stderr, "wicasd genesis add-account: %s is not a JSON object\n", path);
        cJSON_Delete(g);
        cJSON_Delete(coins);
        return 1;
    }
    cJSON *app = cJSON_GetObjectItemCaseSensitive(g, "app_state");
    if (!cJSON_IsObject(app)) {
        cJSON_DeleteItemFromObjectCaseSensitive(g, "app_state");
        app = cJSON_AddObjectToObject(g, "app_state");
    }
    cJSON *accs = section(app, "auth", "accounts");
    cJSON *bals = section(app, "bank", "balances");
    cJSON *existing = NULL, *it;
    cJSON_ArrayForEach(it, bals) {
        cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "address");
        if (cJSON_IsString(a) && strcmp(a->valuestring, address) == 0) existing = it;
    }
    if (existing && !append) {
        fprintf(stderr, "wicasd genesis add-account: %s is already in genesis (use --append to add coins)\n",
                address);
        cJSON_Delete(g);
        cJSON_Delete(coins);
        return 1;
    }
    if (existing) {
        cJSON *have = cJSON_GetObjectItemCaseSensitive(existing, "coins");
        cJSON *c;
        cJSON_ArrayForEach(c, coins) {
            const char *d = cJSON_GetObjectItem(c, "denom")->valuestring;
            uint64_t add = strtoull(cJSON_GetObjectItem(c, "amount")->valuestring, NULL, 10);
            cJSON *h = NULL, *x;
            cJSON_ArrayForEach(x, have) {
                cJSON *xd = cJSON_GetObjectItemCaseSensitive(x, "denom");
                if (cJSON_IsString(xd) && strcmp(xd->valuestring, d) == 0) h = x;
            }
            if (h) {
                cJSON *ha = cJSON_GetObjectItemCaseSensitive(h, "amount");
                uint64_t cur = cJSON_IsString(ha) ? strtoull(ha->valuestring, NULL, 10) : 0;
                if (cur > UINT64_MAX - add) {
                    fprintf(stderr, "wicasd genesis add-account: balance of %s overflows\n", d);
                    cJSON_Delete(g);
                    cJSON_Delete(coins);
                    return 1;
                }
                char s[24];
                snprintf(s, sizeof s, "%" PRIu64, cur + add);
                cJSON_ReplaceItemInObjectCaseSensitive(h, "amount", cJSON_CreateString(s));
            } else {
                cJSON_AddItemToArray(have, cJSON_Duplicate(c, 1));
            }
        }
        cJSON_Delete(coins);
    } else {
        cJSON *acc = cJSON_CreateObject();
        cJSON_AddStringToObject(acc, "@type", "/cosmos.auth.v1beta1.BaseAccount");
        cJSON_AddStringToObject(acc, "address", address);
        cJSON_AddItemToArray(accs, acc);
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "address", address);
        cJSON_AddItemToObject(b, "coins", coins);
        cJSON_AddItemToArray(bals, b);
    }
    char *out = cJSON_Print(g);
    cJSON_Delete(g);
    FILE *f = out ? fopen(tmp, "w") : NULL;
    bool ok = f && fputs(out, f) >= 0 && fputc('\n', f) != EOF;
    if (f) ok = (fflush(f) == 0) && (fsync(fileno(f)) == 0) && ok, ok = (fclose(f) == 0) && ok;
    free(out);
    if (!ok || rename(tmp, path)) {
        fprintf(stderr, "wicasd genesis add-account: cannot write %s\n", path);
        unlink(tmp);
        return 1;
    }
    printf("Added %s with %s to %s\n", address, coins_s, path);
    return 0;
}

/* `genesis add-model NAME FILE.gguf --home DIR`: registers a model in
 * app_state.ai.models. The engine loads the file (so a malformed or
 * unsupported model is refused here, not at the first block) and gives its
 * SHA-256, size, architecture and parameter count; gas parameters are the
 * defaults of docs/GAS.md unless given. */
static int add_model(int argc, char **argv) {
    if (argc < 4 || argv[2][0] == '-' || argv[3][0] == '-') {
        usage(stderr);
        return 2;
    }
    const char *name = argv[2], *file = argv[3];
    const char *home = wicas_flag(argc, argv, "--home");
    if (!home) {
        fprintf(stderr, "wicasd genesis add-model: --home DIR is required\n");
        return 2;
    }
    char err[512] = "";
    if (strlen(name) > WICAS_AI_NAME_MAX) {
        fprintf(stderr, "wicasd genesis add-model: name longer than %d characters\n", WICAS_AI_NAME_MAX);
        return 2;
    }
    const char *g1 = wicas_flag(argc, argv, "--gas-base"),
               *g2 = wicas_flag(argc, argv, "--gas-per-prompt-token"),
               *g3 = wicas_flag(argc, argv, "--gas-per-gen-token");
    uint64_t gas[3] = {g1 ? strtoull(g1, NULL, 10) : UINT64_MAX, g2 ? strtoull(g2, NULL, 10) : UINT64_MAX,
                       g3 ? strtoull(g3, NULL, 10) : UINT64_MAX};
    /* the engine reads the file; the entry has passed the registry's parser
     * (what genesis gets is what InitChain accepts) */
    char *mj = wicas_node_model_entry(file, name, gas, err, sizeof err);
    wicas_ai_model am;
    if (!mj || wicas_ai_model_from_json(mj, strlen(mj), &am, err, sizeof err) != WICAS_AI_OK) {
        fprintf(stderr, "wicasd genesis add-model: %s\n", err[0] ? err : "out of memory");
        free(mj);
        return 1;
    }
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/config/genesis.json", home);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    size_t len;
    char *text = (char *)wicas_read_file(path, 64u << 20, &len);
    cJSON *g = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!cJSON_IsObject(g)) {
        fprintf(stderr, "wicasd genesis add-model: cannot read %s (run 'wicasd init' first)\n", path);
        cJSON_Delete(g);
        free(mj);
        return 1;
    }
    cJSON *app = cJSON_GetObjectItemCaseSensitive(g, "app_state");
    if (!cJSON_IsObject(app)) {
        cJSON_DeleteItemFromObjectCaseSensitive(g, "app_state");
        app = cJSON_AddObjectToObject(g, "app_state");
    }
    cJSON *models = section(app, "ai", "models");
    cJSON *it;
    cJSON_ArrayForEach(it, models) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) {
            fprintf(stderr, "wicasd genesis add-model: model '%s' is already in %s\n", name, path);
            cJSON_Delete(g);
            free(mj);
            return 1;
        }
    }
    cJSON_AddItemToArray(models, cJSON_Parse(mj));
    char *out = cJSON_Print(g);
    cJSON_Delete(g);
    FILE *f = out ? fopen(tmp, "w") : NULL;
    bool ok = f && fputs(out, f) >= 0 && fputc('\n', f) != EOF;
    if (f) ok = (fflush(f) == 0) && (fsync(fileno(f)) == 0) && ok, ok = (fclose(f) == 0) && ok;
    free(out);
    if (!ok || rename(tmp, path)) {
        fprintf(stderr, "wicasd genesis add-model: cannot write %s\n", path);
        unlink(tmp);
        free(mj);
        return 1;
    }
    if (wicas_flag(argc, argv, "--output") && strcmp(wicas_flag(argc, argv, "--output"), "json") == 0)
        printf("%s\n", mj);
    else
        printf("Registered model %s (%s, %llu parameters, %llu bytes) in %s\n", name, am.arch,
               (unsigned long long)am.n_params, (unsigned long long)am.size_bytes, path);
    free(mj);
    return 0;
}

int wicas_cmd_genesis(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "add-account") == 0 || strcmp(argv[1], "add-genesis-account") == 0)
        return add_account(argc, argv);
    if (strcmp(argv[1], "add-model") == 0) return add_model(argc, argv);
    fprintf(stderr, "wicasd genesis: unknown sub-command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}

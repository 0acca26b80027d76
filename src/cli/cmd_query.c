/*
 * cmd_query.c — `wicasd query ...`: reads chain state through CometBFT's
 * abci_query (src/cli/rpc.h) with the gRPC-style paths the chain serves, and
 * prints the decoded response (YAML-ish text, or JSON with --output json).
 *
 *   query bank balances ADDR [--denom D]
 *   query auth account ADDR
 *   query wasm contract-state smart CONTRACT QUERY_JSON
 *   query wasm contract-state raw CONTRACT KEY [--hex|--b64]   (KEY ascii by default)
 *   query wasm contract CONTRACT
 *   query wasm code-info CODE_ID
 *   query wasm list-code
 *   query wasm list-contract-by-code CODE_ID
 *   query store KEY_HEX [--prove]       raw store key, with a verified proof
 *   query ai models                     the AI model registry
 *   query ai program SHA256             a stored program (base64 bytes, size)
 *   query ai request ID                 an asynchronous inference request and its outcome
 * Flags: --node URL (default tcp://127.0.0.1:26657), --height H, --output json.
 * Addresses may be key names from the keyring (--keyring-dir / --home).
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "client.h"
#include "cli.h"
#include "common.h"
#include "flags.h"
#include "rpc.h"

int wicas_keys_dir(int argc, char **argv, char *out, size_t cap);

/* Flags that take a value; any other "--x" stands alone (--prove, --hex...). */
static const char *const WITH_VALUE[] = {"--node",        "--height", "--output", "--denom",
                                         "--keyring-dir", "--home",   "-o",       NULL};
static const wicas_flag_spec FLAGS = {.with_value = WITH_VALUE};

static void usage(FILE *f) {
    fprintf(f, "Usage:\n"
               "  wicasd query bank balances ADDR [--denom D]\n"
               "  wicasd query auth account ADDR\n"
               "  wicasd query wasm contract-state smart CONTRACT QUERY_JSON\n"
               "  wicasd query wasm contract-state raw CONTRACT KEY [--hex|--b64]\n"
               "  wicasd query wasm contract CONTRACT\n"
               "  wicasd query wasm code-info CODE_ID\n"
               "  wicasd query wasm list-code\n"
               "  wicasd query wasm list-contract-by-code CODE_ID\n"
               "  wicasd query store KEY_HEX [--prove]\n"
               "  wicasd query ai models\n"
               "  wicasd query ai program SHA256\n"
               "  wicasd query ai request ID        (an asynchronous inference request and its outcome)\n\n"
               "Flags: --node URL (default tcp://127.0.0.1:26657)  --height H  --output json|text\n"
               "ADDR may be a key name from the keyring (--keyring-dir DIR or --home DIR).\n");
}

/* key name -> address when it is not an address already */
static const char *resolve(int argc, char **argv, const char *who, char *buf, size_t cap) {
    uint8_t raw[32];
    size_t rl;
    if (wicas_chain_addr_decode(who, raw, &rl) == 0) return who;
    char dir[1024];
    wicas_chain_key_info k;
    if (wicas_keys_dir(argc, argv, dir, sizeof dir) == 0 &&
        wicas_chain_keyring_info(dir, who, &k, NULL, 0) == 0) {
        snprintf(buf, cap, "%s", k.address);
        return buf;
    }
    return who; /* the chain reports the bad address */
}

/* Prints cJSON as indented JSON or as simple "key: value" text. */
static void print_text(const cJSON *o, int indent) {
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            if (it->string)
                printf("%*s%s:\n", indent, "", it->string);
            else
                printf("%*s-\n", indent, "");
            print_text(it, indent + 2);
        } else {
            char *v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
            if (it->string)
                printf("%*s%s: %s\n", indent, "", it->string, v ? v : it->valuestring);
            else
                printf("%*s- %s\n", indent, "", v ? v : it->valuestring);
            free(v);
        }
    }
}

static int run(int argc, char **argv, const char *path, const wicas_chain_query_args *a, bool prove,
               bool json, const char *store_key_hex) {
    const char *node = wicas_flag(argc, argv, "--node");
    const char *hs = wicas_flag(argc, argv, "--height");
    int64_t height = hs ? strtoll(hs, NULL, 10) : 0;
    char err[512];
    uint8_t *data = NULL;
    size_t dl = 0;
    if (store_key_hex) {
        dl = strlen(store_key_hex) / 2;
        data = malloc(dl + 1);
        if (!data || strlen(store_key_hex) % 2 || wicas_hex_decode(store_key_hex, data, dl)) {
            fprintf(stderr, "wicasd query store: KEY must be hex\n");
            free(data);
            return 2;
        }
    } else if (wicas_chain_query_request(path, a, &data, &dl, err, sizeof err)) {
        fprintf(stderr, "wicasd query: %s\n", err);
        return 2;
    }
    cJSON *res = NULL;
    int rc = wicas_rpc_abci_query(node, path, data, dl, height, prove, &res, err, sizeof err);
    if (rc) {
        fprintf(stderr, "wicasd query: %s\n", err);
        free(data);
        return 1;
    }
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(resp, "code");
    if (cJSON_IsNumber(code) && code->valueint != 0) {
        const cJSON *log = cJSON_GetObjectItemCaseSensitive(resp, "log");
        const cJSON *cs = cJSON_GetObjectItemCaseSensitive(resp, "codespace");
        fprintf(stderr, "wicasd query: code %d (%s): %s\n", code->valueint,
                cJSON_IsString(cs) ? cs->valuestring : "", cJSON_IsString(log) ? log->valuestring : "");
        cJSON_Delete(res);
        free(data);
        return 1;
    }
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(resp, "value");
    size_t vl = 0;
    uint8_t *value = NULL;
    if (cJSON_IsString(val) && *val->valuestring) {
        size_t l = strlen(val->valuestring);
        value = malloc(l);
        long n = value ? wicas_base64_decode(val->valuestring, l, value, l) : -1;
        if (n < 0) {
            fprintf(stderr, "wicasd query: the node returned a value that is not base64\n");
            cJSON_Delete(res);
            free(value);
            free(data);
            return 1;
        }
        vl = (size_t)n;
    }
    cJSON *out = NULL;
    if (store_key_hex) {
        out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "key", store_key_hex);
        if (value) {
            char *hex = malloc(2 * vl + 1);
            wicas_hex_encode(value, vl, hex);
            cJSON_AddStringToObject(out, "value_hex", hex);
            free(hex);
        } else {
            cJSON_AddNullToObject(out, "value_hex");
        }
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(resp, "height");
        if (h) cJSON_AddItemToObject(out, "height", cJSON_Duplicate(h, 1));
        if (prove) {
            /* verify the proof against the app hash of the block AFTER the
             * queried height (a header carries its parent state's app hash) */
            const cJSON *ops =
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(resp, "proofOps"), "ops");
            const cJSON *op = cJSON_GetArrayItem(ops, 0);
            const cJSON *pd = cJSON_GetObjectItemCaseSensitive(op, "data");
            long long qh = cJSON_IsString(h) ? atoll(h->valuestring) : 0;
            char q[64];
            snprintf(q, sizeof q, "height=%lld", qh + 1);
            cJSON *blk = NULL;
            const char *verdict = "no proof returned";
            /* the next block may still be in the making: poll for up to 10 s */
            int got = -1;
            for (int tries = 0; cJSON_IsString(pd) && tries < 50 && got != 0; tries++) {
                got = wicas_rpc_get(node, "block", q, &blk, err, sizeof err);
                if (got != 0) {
                    struct timespec ts = {0, 200000000L};
                    nanosleep(&ts, NULL);
                }
            }
            if (cJSON_IsString(pd) && got == 0) {
                const cJSON *ah = cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(blk, "block"),
                                                     "header"),
                    "app_hash");
                uint8_t app[32], proof[4096];
                long pl = wicas_base64_decode(pd->valuestring, strlen(pd->valuestring), proof, sizeof proof);
                if (cJSON_IsString(ah) && strlen(ah->valuestring) == 64 &&
                    wicas_hex_decode(ah->valuestring, app, 32) == 0 && pl > 0)
                    verdict = wicas_chain_verify_proof(app, data, dl, value, vl, proof, (size_t)pl) == 0
                                  ? "verified"
                                  : "FAILED";
                else
                    verdict = "could not check";
            } else if (cJSON_IsString(pd)) {
                verdict = "not yet checkable (next block not produced)";
            }
            cJSON_Delete(blk);
            cJSON_AddStringToObject(out, "proof", verdict);
            cJSON_AddStringToObject(out, "proof_kind", value ? "inclusion" : "exclusion");
        }
    } else {
        char *js = wicas_chain_query_response_json(path, value, vl);
        out = js ? cJSON_Parse(js) : NULL;
        free(js);
        if (!out) {
            fprintf(stderr, "wicasd query: cannot decode the response of %s\n", path);
            cJSON_Delete(res);
            free(value);
            free(data);
            return 1;
        }
    }
    if (json) {
        char *s = cJSON_Print(out);
        printf("%s\n", s ? s : "null");
        free(s);
    } else {
        print_text(out, 0);
    }
    cJSON_Delete(out);
    cJSON_Delete(res);
    free(value);
    free(data);
    return 0;
}

int wicas_cmd_query(int argc, char **argv) {
    if (argc < 2 || wicas_flag_has(argc, argv, "-h") || wicas_flag_has(argc, argv, "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *out = wicas_flag(argc, argv, "--output");
    if (!out) out = wicas_flag(argc, argv, "-o");
    bool json = out && strcmp(out, "json") == 0;
    const char *p[8] = {0};
    int n = wicas_flag_positional(argc, argv, &FLAGS, p, 8);
    char abuf[100];
    wicas_chain_query_args a = {0};
    if (n >= 3 && strcmp(p[0], "bank") == 0 &&
        (strcmp(p[1], "balances") == 0 || strcmp(p[1], "balance") == 0)) {
        a.address = resolve(argc, argv, p[2], abuf, sizeof abuf);
        a.denom = wicas_flag(argc, argv, "--denom");
        return run(argc, argv,
                   a.denom ? "/cosmos.bank.v1beta1.Query/Balance" : "/cosmos.bank.v1beta1.Query/AllBalances",
                   &a, false, json, NULL);
    }
    if (n >= 3 && strcmp(p[0], "auth") == 0 && strcmp(p[1], "account") == 0) {
        a.address = resolve(argc, argv, p[2], abuf, sizeof abuf);
        return run(argc, argv, "/cosmos.auth.v1beta1.Query/Account", &a, false, json, NULL);
    }
    if (n >= 2 && strcmp(p[0], "store") == 0)
        return run(argc, argv, "store/main/key", &a, wicas_flag_has(argc, argv, "--prove"), json, p[1]);
    if (n >= 2 && strcmp(p[0], "ai") == 0) {
        if (strcmp(p[1], "models") == 0)
            return run(argc, argv, "/wicas.ai.v1.Query/Models", &a, false, json, NULL);
        if (strcmp(p[1], "program") == 0 && n >= 3) {
            a.bytes = (const uint8_t *)p[2];
            a.bytes_len = strlen(p[2]);
            if (a.bytes_len != 64) {
                fprintf(stderr, "wicasd query ai program: SHA256 must be 64 hex digits\n");
                return 2;
            }
            return run(argc, argv, "/wicas.ai.v1.Query/Program", &a, false, json, NULL);
        }
        if (strcmp(p[1], "request") == 0 && n >= 3) {
            char *end;
            a.id = strtoull(p[2], &end, 10);
            if (*end || a.id == 0) {
                fprintf(stderr, "wicasd query ai request: ID must be a positive integer\n");
                return 2;
            }
            return run(argc, argv, "/wicas.ai.v1.Query/Request", &a, false, json, NULL);
        }
    }
    if (n >= 2 && strcmp(p[0], "wasm") == 0) {
        if (strcmp(p[1], "contract-state") == 0 && n >= 5 && strcmp(p[2], "smart") == 0) {
            a.address = p[3];
            a.bytes = (const uint8_t *)p[4];
            a.bytes_len = strlen(p[4]);
            return run(argc, argv, "/cosmwasm.wasm.v1.Query/SmartContractState", &a, false, json, NULL);
        }
        if (strcmp(p[1], "contract-state") == 0 && n >= 5 && strcmp(p[2], "raw") == 0) {
            a.address = p[3];
            uint8_t key[512];
            size_t kl = strlen(p[4]);
            if (wicas_flag_has(argc, argv, "--hex")) {
                if (kl % 2 || kl / 2 > sizeof key || wicas_hex_decode(p[4], key, kl / 2)) {
                    fprintf(stderr, "wicasd query: KEY is not hex\n");
                    return 2;
                }
                kl /= 2;
            } else if (wicas_flag_has(argc, argv, "--b64")) {
                long r = wicas_base64_decode(p[4], kl, key, sizeof key);
                if (r < 0) {
                    fprintf(stderr, "wicasd query: KEY is not base64\n");
                    return 2;
                }
                kl = (size_t)r;
            } else {
                if (kl > sizeof key) kl = sizeof key;
                memcpy(key, p[4], kl);
            }
            a.bytes = key;
            a.bytes_len = kl;
            return run(argc, argv, "/cosmwasm.wasm.v1.Query/RawContractState", &a, false, json, NULL);
        }
        if (strcmp(p[1], "contract") == 0 && n >= 3) {
            a.address = p[2];
            return run(argc, argv, "/cosmwasm.wasm.v1.Query/ContractInfo", &a, false, json, NULL);
        }
        if (strcmp(p[1], "list-code") == 0)
            return run(argc, argv, "/cosmwasm.wasm.v1.Query/Codes", &a, false, json, NULL);
        if ((strcmp(p[1], "list-contract-by-code") == 0 || strcmp(p[1], "code-info") == 0) && n >= 3) {
            a.id = strtoull(p[2], NULL, 10);
            if (a.id == 0) {
                fprintf(stderr, "wicasd query: CODE_ID must be a positive integer\n");
                return 2;
            }
            return run(argc, argv,
                       strcmp(p[1], "code-info") == 0 ? "/cosmwasm.wasm.v1.Query/Code"
                                                      : "/cosmwasm.wasm.v1.Query/ContractsByCode",
                       &a, false, json, NULL);
        }
    }
    fprintf(stderr, "wicasd query: unknown or incomplete query\n\n");
    usage(stderr);
    return 2;
}

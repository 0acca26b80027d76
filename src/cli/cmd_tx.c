/*
 * cmd_tx.c — `wicasd tx ...`: build, sign (SIGN_MODE_DIRECT, key from the
 * file keyring) and broadcast Cosmos SDK transactions through CometBFT's RPC.
 *
 *   tx bank send FROM TO AMOUNT
 *   tx wasm store FILE.wasm --from KEY
 *   tx wasm instantiate CODE_ID JSON --label L --from KEY [--admin ADDR | --no-admin] [--amount COINS]
 *   tx wasm execute CONTRACT JSON --from KEY [--amount COINS]
 *   tx wasm migrate CONTRACT NEW_CODE_ID JSON --from KEY
 *   tx ai register-model NAME FILE.gguf --from KEY [--gas-base N] [--gas-per-prompt-token N]
 * [--gas-per-gen-token N] tx ai store-program FILE.wasm --from KEY Flags: --chain-id ID (default: the
 * node's), --node URL, --gas N|auto (default 200000; auto = simulate x --gas-adjustment, default 1.3),
 * --fees COINS | --gas-prices 0.01uwicas, --memo TEXT, --wait (until
 * included: prints height, code, gas, events), --output json,
 * --account-number N --sequence N (skip the account lookup),
 * --keyring-dir DIR / --home DIR, --keyring-passphrase P.
 * Exit status: 0 when the tx was accepted (and, with --wait, succeeded in
 * its block), 1 otherwise, 2 for usage errors.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "client.h"
#include "cli.h"
#include "common.h"
#include "flags.h"
#include "node_setup.h"
#include "rpc.h"

int wicas_keys_dir(int argc, char **argv, char *out, size_t cap);
const char *wicas_keys_passphrase(int argc, char **argv, bool confirm);

/* Every flag takes a value except these switches. */
static const char *const SWITCHES[] = {"--wait", "--no-admin", "--yes", "-y", "--help", "-h", NULL};
static const wicas_flag_spec FLAGS = {.switches = SWITCHES, .unlisted_take_value = true};

static void usage(FILE *f) {
    fprintf(
        f,
        "Usage:\n"
        "  wicasd tx bank send FROM TO AMOUNT\n"
        "  wicasd tx wasm store FILE.wasm --from KEY\n"
        "  wicasd tx wasm instantiate CODE_ID JSON --label L --from KEY [--admin ADDR|--no-admin] [--amount "
        "COINS]\n"
        "  wicasd tx wasm execute CONTRACT JSON --from KEY [--amount COINS]\n"
        "  wicasd tx ai register-model NAME FILE.gguf --from KEY [--gas-base N] [--gas-per-prompt-token N]\n"
        "                              [--gas-per-gen-token N]   (KEY must be the chain's registry "
        "authority)\n"
        "  wicasd tx ai store-program FILE.wasm --from KEY\n"
        "  wicasd tx wasm migrate CONTRACT NEW_CODE_ID JSON --from KEY\n\n"
        "Flags:\n"
        "  --chain-id ID          chain id (default: asked from the node)\n"
        "  --node URL             CometBFT RPC (default tcp://127.0.0.1:26657)\n"
        "  --gas N|auto           gas limit (default 200000; auto = simulate x --gas-adjustment)\n"
        "  --gas-adjustment X     default 1.3\n"
        "  --fees COINS           fee, e.g. 5000uwicas\n"
        "  --gas-prices P         fee = ceil(gas x P), e.g. 0.01uwicas\n"
        "  --memo TEXT            tx memo\n"
        "  --wait                 wait until the tx is in a block and print its result\n"
        "  --output json          machine-readable output\n"
        "  --account-number N --sequence N   offline: skip the account lookup\n"
        "  --keyring-dir DIR | --home DIR, --keyring-passphrase P\n");
}

/* Loads the signing key: FROM is a key name (or the address of one in the keyring). */
static int load_signer(int argc, char **argv, const char *from, uint8_t sk[32], wicas_chain_key_info *k) {
    char dir[1024], err[512];
    if (wicas_keys_dir(argc, argv, dir, sizeof dir)) return -1;
    const char *name = from;
    wicas_chain_key_info *all = NULL;
    size_t n = 0;
    uint8_t raw[32];
    size_t rl;
    if (wicas_chain_addr_decode(from, raw, &rl) == 0 &&
        wicas_chain_keyring_list(dir, &all, &n, NULL, 0) == 0) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(all[i].address, from) == 0) name = all[i].name;
    }
    char namebuf[64];
    snprintf(namebuf, sizeof namebuf, "%s", name);
    free(all);
    wicas_chain_key_info info;
    if (wicas_chain_keyring_info(dir, namebuf, &info, err, sizeof err)) {
        fprintf(stderr, "wicasd tx: signer '%s': %s\n", from, err);
        return -1;
    }
    const char *pass = wicas_keys_passphrase(argc, argv, false);
    if (!pass || wicas_chain_keyring_load(dir, namebuf, pass, sk, k, err, sizeof err)) {
        fprintf(stderr, "wicasd tx: %s\n", pass ? err : "a keyring passphrase is required");
        return -1;
    }
    return 0;
}

static int fetch_account(const char *node, const char *addr, uint64_t *num, uint64_t *seq) {
    wicas_chain_query_args a = {.address = addr};
    uint8_t *req;
    size_t rl;
    char err[512];
    const char *path = "/cosmos.auth.v1beta1.Query/Account";
    if (wicas_chain_query_request(path, &a, &req, &rl, err, sizeof err)) return -1;
    cJSON *res = NULL;
    int rc = wicas_rpc_abci_query(node, path, req, rl, 0, false, &res, err, sizeof err);
    free(req);
    if (rc) {
        fprintf(stderr, "wicasd tx: account lookup: %s\n", err);
        return -1;
    }
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(resp, "code");
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(resp, "value");
    if ((cJSON_IsNumber(code) && code->valueint) || !cJSON_IsString(val)) {
        fprintf(stderr, "wicasd tx: account %s not found on chain (fund it first)\n", addr);
        cJSON_Delete(res);
        return -1;
    }
    size_t l = strlen(val->valuestring);
    uint8_t *v = malloc(l + 1);
    long n = v ? wicas_base64_decode(val->valuestring, l, v, l + 1) : -1;
    char *js = n >= 0 ? wicas_chain_query_response_json(path, v, (size_t)n) : NULL;
    free(v);
    cJSON_Delete(res);
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    free(js);
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(j, "account");
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(acc, "account_number");
    const cJSON *sq = cJSON_GetObjectItemCaseSensitive(acc, "sequence");
    if (!cJSON_IsString(an) || !cJSON_IsString(sq)) {
        fprintf(stderr, "wicasd tx: cannot decode the account of %s\n", addr);
        cJSON_Delete(j);
        return -1;
    }
    *num = strtoull(an->valuestring, NULL, 10);
    *seq = strtoull(sq->valuestring, NULL, 10);
    cJSON_Delete(j);
    return 0;
}

static int simulate_gas(const char *node, const uint8_t pub[33], const wicas_chain_tx_params *p0,
                        const wicas_chain_any *m, uint64_t *gas) {
    wicas_chain_tx_params p = *p0;
    p.gas_limit = 100000000; /* the largest limit a tx may name */
    uint8_t *tx;
    size_t tl;
    char err[512];
    if (wicas_chain_tx_build_sign(NULL, pub, &p, m, 1, &tx, &tl, err, sizeof err)) {
        fprintf(stderr, "wicasd tx: %s\n", err);
        return -1;
    }
    wicas_chain_query_args a = {.bytes = tx, .bytes_len = tl};
    uint8_t *req;
    size_t rl;
    const char *path = "/cosmos.tx.v1beta1.Service/Simulate";
    int rc = wicas_chain_query_request(path, &a, &req, &rl, err, sizeof err);
    free(tx);
    if (rc) return -1;
    cJSON *res = NULL;
    rc = wicas_rpc_abci_query(node, path, req, rl, 0, false, &res, err, sizeof err);
    free(req);
    if (rc) {
        fprintf(stderr, "wicasd tx: simulate: %s\n", err);
        return -1;
    }
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(resp, "code");
    if (cJSON_IsNumber(code) && code->valueint) {
        const cJSON *log = cJSON_GetObjectItemCaseSensitive(resp, "log");
        fprintf(stderr, "wicasd tx: simulation failed (code %d): %s\n", code->valueint,
                cJSON_IsString(log) ? log->valuestring : "");
        cJSON_Delete(res);
        return -1;
    }
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(resp, "value");
    size_t l = cJSON_IsString(val) ? strlen(val->valuestring) : 0;
    uint8_t *v = malloc(l + 1);
    long n = v && l ? wicas_base64_decode(val->valuestring, l, v, l + 1) : -1;
    char *js = n >= 0 ? wicas_chain_query_response_json(path, v, (size_t)n) : NULL;
    free(v);
    cJSON_Delete(res);
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    free(js);
    const cJSON *gu =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "gas_info"), "gas_used");
    rc = cJSON_IsString(gu) ? 0 : -1;
    if (!rc) *gas = strtoull(gu->valuestring, NULL, 10);
    cJSON_Delete(j);
    return rc;
}

/* Text summary of a broadcast or /tx result. */
static void print_result(const cJSON *r) {
    const cJSON *txr = cJSON_GetObjectItemCaseSensitive(r, "tx_result");
    const cJSON *src = txr ? txr : r;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(src, "code");
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(r, "hash");
    const cJSON *height = cJSON_GetObjectItemCaseSensitive(r, "height");
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(src, "log");
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(src, "codespace");
    printf("txhash: %s\n", cJSON_IsString(hash) ? hash->valuestring : "");
    if (height) printf("height: %s\n", cJSON_IsString(height) ? height->valuestring : "");
    printf("code: %d\n", cJSON_IsNumber(code) ? code->valueint : 0);
    if (cJSON_IsString(cs) && *cs->valuestring) printf("codespace: %s\n", cs->valuestring);
    if (cJSON_IsString(log) && *log->valuestring) printf("raw_log: %s\n", log->valuestring);
    if (txr) {
        const cJSON *gw = cJSON_GetObjectItemCaseSensitive(txr, "gas_wanted");
        const cJSON *gu = cJSON_GetObjectItemCaseSensitive(txr, "gas_used");
        printf("gas_wanted: %s\ngas_used: %s\nevents:\n", cJSON_IsString(gw) ? gw->valuestring : "",
               cJSON_IsString(gu) ? gu->valuestring : "");
        const cJSON *ev;
        cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(txr, "events")) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "type");
            printf("- type: %s\n", cJSON_IsString(t) ? t->valuestring : "");
            const cJSON *at;
            cJSON_ArrayForEach(at, cJSON_GetObjectItemCaseSensitive(ev, "attributes")) {
                const cJSON *k = cJSON_GetObjectItemCaseSensitive(at, "key");
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(at, "value");
                printf("    %s: %s\n", cJSON_IsString(k) ? k->valuestring : "",
                       cJSON_IsString(v) ? v->valuestring : "");
            }
        }
    }
}

static int parse_u64s(const char *s, uint64_t *v) {
    char *end;
    if (!s || !*s) return -1;
    *v = strtoull(s, &end, 10);
    return *end ? -1 : 0;
}

int wicas_cmd_tx(int argc, char **argv) {
    if (argc < 2 || wicas_flag_has(argc, argv, "-h") || wicas_flag_has(argc, argv, "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *p[8] = {0};
    int n = wicas_flag_positional(argc, argv, &FLAGS, p, 8);
    const char *node = wicas_flag(argc, argv, "--node");
    const char *out = wicas_flag(argc, argv, "--output");
    bool json = out && strcmp(out, "json") == 0;
    bool wait = wicas_flag_has(argc, argv, "--wait");
    char err[512];
    const char *from = wicas_flag(argc, argv, "--from");
    if (n >= 5 && strcmp(p[0], "bank") == 0 && strcmp(p[1], "send") == 0) from = p[2];
    if (!from) {
        fprintf(stderr, "wicasd tx: --from KEY is required\n");
        return 2;
    }
    uint8_t sk[32];
    wicas_chain_key_info k;
    if (load_signer(argc, argv, from, sk, &k)) return 1;

    /* the message */
    wicas_chain_any m;
    int rc;
    uint8_t *wasm = NULL;
    if (n >= 5 && strcmp(p[0], "bank") == 0 && strcmp(p[1], "send") == 0) {
        rc = wicas_chain_msg_send(k.address, p[3], p[4], &m, err, sizeof err);
    } else if (n >= 3 && strcmp(p[0], "wasm") == 0 && strcmp(p[1], "store") == 0) {
        size_t wl;
        wasm = wicas_read_file(p[2], 8u << 20, &wl);
        if (!wasm) {
            fprintf(stderr, "wicasd tx wasm store: cannot read %s\n", p[2]);
            return 1;
        }
        rc = wicas_chain_msg_store_code(k.address, wasm, wl, &m, err, sizeof err);
    } else if (n >= 4 && strcmp(p[0], "wasm") == 0 && strcmp(p[1], "instantiate") == 0) {
        uint64_t id;
        const char *label = wicas_flag(argc, argv, "--label");
        const char *admin = wicas_flag(argc, argv, "--admin");
        if (parse_u64s(p[2], &id) || !label || (!admin && !wicas_flag_has(argc, argv, "--no-admin"))) {
            fprintf(
                stderr,
                "wicasd tx wasm instantiate: need CODE_ID JSON --label L and --admin ADDR or --no-admin\n");
            return 2;
        }
        rc = wicas_chain_msg_instantiate(k.address, admin, id, label, p[3],
                                         wicas_flag(argc, argv, "--amount"), &m, err, sizeof err);
    } else if (n >= 4 && strcmp(p[0], "wasm") == 0 && strcmp(p[1], "execute") == 0) {
        rc = wicas_chain_msg_execute(k.address, p[2], p[3], wicas_flag(argc, argv, "--amount"), &m, err,
                                     sizeof err);
    } else if (n >= 5 && strcmp(p[0], "wasm") == 0 && strcmp(p[1], "migrate") == 0) {
        uint64_t id;
        if (parse_u64s(p[3], &id)) {
            fprintf(stderr, "wicasd tx wasm migrate: NEW_CODE_ID must be a number\n");
            return 2;
        }
        rc = wicas_chain_msg_migrate(k.address, p[2], id, p[4], &m, err, sizeof err);
    } else if (n >= 4 && strcmp(p[0], "ai") == 0 && strcmp(p[1], "register-model") == 0) {
        /* the engine reads the file, exactly as `genesis add-model` does */
        const char *g1 = wicas_flag(argc, argv, "--gas-base"),
                   *g2 = wicas_flag(argc, argv, "--gas-per-prompt-token"),
                   *g3 = wicas_flag(argc, argv, "--gas-per-gen-token");
        uint64_t gas[3] = {UINT64_MAX, UINT64_MAX, UINT64_MAX};
        if ((g1 && parse_u64s(g1, &gas[0])) || (g2 && parse_u64s(g2, &gas[1])) ||
            (g3 && parse_u64s(g3, &gas[2]))) {
            fprintf(stderr, "wicasd tx ai register-model: --gas-* values must be numbers\n");
            return 2;
        }
        char *mj = wicas_node_model_entry(p[3], p[2], gas, err, sizeof err);
        if (!mj) {
            fprintf(stderr, "wicasd tx ai register-model: %s\n", err);
            return 1;
        }
        rc = wicas_chain_msg_register_model(k.address, mj, &m, err, sizeof err);
        free(mj);
    } else if (n >= 3 && strcmp(p[0], "ai") == 0 && strcmp(p[1], "store-program") == 0) {
        size_t wl;
        wasm = wicas_read_file(p[2], 8u << 20, &wl);
        if (!wasm) {
            fprintf(stderr, "wicasd tx ai store-program: cannot read %s\n", p[2]);
            return 1;
        }
        rc = wicas_chain_msg_store_program(k.address, wasm, wl, &m, err, sizeof err);
    } else {
        fprintf(stderr, "wicasd tx: unknown or incomplete command\n\n");
        usage(stderr);
        return 2;
    }
    free(wasm);
    if (rc) {
        fprintf(stderr, "wicasd tx: %s\n", err);
        return 1;
    }

    /* chain id, account number, sequence */
    char chain_id[128];
    const char *cid = wicas_flag(argc, argv, "--chain-id");
    if (cid) {
        snprintf(chain_id, sizeof chain_id, "%s", cid);
    } else {
        cJSON *st = NULL;
        if (wicas_rpc_status(node, &st, err, sizeof err)) {
            fprintf(stderr, "wicasd tx: %s (or pass --chain-id)\n", err);
            wicas_chain_any_free(&m);
            return 1;
        }
        const cJSON *net =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "node_info"), "network");
        snprintf(chain_id, sizeof chain_id, "%s", cJSON_IsString(net) ? net->valuestring : "");
        cJSON_Delete(st);
    }
    wicas_chain_tx_params tp = {.chain_id = chain_id, .memo = wicas_flag(argc, argv, "--memo")};
    const char *an = wicas_flag(argc, argv, "--account-number"), *sq = wicas_flag(argc, argv, "--sequence");
    if (an || sq) {
        if (parse_u64s(an, &tp.account_number) || parse_u64s(sq, &tp.sequence)) {
            fprintf(stderr, "wicasd tx: --account-number and --sequence go together, as numbers\n");
            wicas_chain_any_free(&m);
            return 2;
        }
    } else if (fetch_account(node, k.address, &tp.account_number, &tp.sequence)) {
        wicas_chain_any_free(&m);
        return 1;
    }

    /* gas and fee (the simulation carries the fee too: paying it costs gas) */
    tp.fee = wicas_flag(argc, argv, "--fees");
    const char *gp = wicas_flag(argc, argv, "--gas-prices");
    char simfee[64];
    if (!tp.fee && gp) {
        const char *d = gp;
        while (*d && ((*d >= '0' && *d <= '9') || *d == '.'))
            d++;
        snprintf(simfee, sizeof simfee, "1000%s", d);
        tp.fee = simfee;
    }
    const char *gs = wicas_flag(argc, argv, "--gas");
    uint64_t gas = 200000;
    if (gs && strcmp(gs, "auto") == 0) {
        const char *adj_s = wicas_flag(argc, argv, "--gas-adjustment");
        double adj = adj_s ? strtod(adj_s, NULL) : 1.3;
        uint64_t used;
        if (adj < 1.0 || adj > 10.0) {
            fprintf(stderr, "wicasd tx: --gas-adjustment must be in 1..10\n");
            wicas_chain_any_free(&m);
            return 2;
        }
        if (simulate_gas(node, k.pubkey, &tp, &m, &used)) {
            wicas_chain_any_free(&m);
            return 1;
        }
        gas = (uint64_t)ceil((double)used * adj);
        if (!json) fprintf(stderr, "gas estimate: %" PRIu64 " (simulated %" PRIu64 ")\n", gas, used);
    } else if (gs && parse_u64s(gs, &gas)) {
        fprintf(stderr, "wicasd tx: --gas must be a number or auto\n");
        wicas_chain_any_free(&m);
        return 2;
    }
    tp.gas_limit = gas;
    char feebuf[64];
    tp.fee = wicas_flag(argc, argv, "--fees");
    if (!tp.fee && gp) {
        char *denom;
        double price = strtod(gp, &denom);
        if (price < 0 || !*denom) {
            fprintf(stderr, "wicasd tx: --gas-prices like 0.01uwicas\n");
            wicas_chain_any_free(&m);
            return 2;
        }
        snprintf(feebuf, sizeof feebuf, "%.0f%s", ceil(price * (double)gas), denom);
        tp.fee = feebuf;
    }

    uint8_t *tx;
    size_t tl;
    rc = wicas_chain_tx_build_sign(sk, NULL, &tp, &m, 1, &tx, &tl, err, sizeof err);
    memset(sk, 0, sizeof sk);
    wicas_chain_any_free(&m);
    if (rc) {
        fprintf(stderr, "wicasd tx: %s\n", err);
        return 1;
    }
    cJSON *res = NULL;
    rc = wicas_rpc_broadcast_tx(node, tx, tl, wait, &res, err, sizeof err);
    free(tx);
    if (rc) {
        fprintf(stderr, "wicasd tx: %s\n", err);
        return 1;
    }
    if (json) {
        char *s = cJSON_Print(res);
        printf("%s\n", s ? s : "null");
        free(s);
    } else {
        print_result(res);
    }
    const cJSON *txr = cJSON_GetObjectItemCaseSensitive(res, "tx_result");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(txr ? txr : res, "code");
    int status = cJSON_IsNumber(code) && code->valueint != 0 ? 1 : 0;
    cJSON_Delete(res);
    return status;
}

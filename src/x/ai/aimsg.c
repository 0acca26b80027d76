/*
 * aimsg.c — the AI module's transaction messages:
 *
 *   /wicas.ai.v1.MsgRegisterModel  an authority adds a model to the registry
 *                                  (the same entry genesis writes, aimod.c)
 *   /wicas.ai.v1.MsgStoreProgram   anyone stores a WASI inference program
 *                                  under its SHA-256 (run by aiprog.c)
 *
 * Shaped like the chain's other modules: a stateless check of each message
 * with its signer (wicas_aimsg_signer, the SDK's ValidateBasic + GetSigners, used by
 * the tx decoder so a malformed message never reaches a block), and a handler
 * (wicas_aimsg_dispatch) that runs inside the message's context: every write goes
 * to that context's overlay, so a failing message changes nothing.
 *
 * The registry authority is a genesis parameter (app_state.ai.params.authority);
 * with none, models are registered only in genesis. A node that lacks the file
 * of a model registered by a tx still executes the registration (it is only a
 * state write, the same on every node) and logs a warning; it halts later at
 * the first block that needs the model, as for a genesis model.
 *
 * Also here: the client-side builders of these messages (chain.h).
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai.h"
#include "chain_internal.h"
#include "xai.h"
#include "common.h"
#include "wasi.h"

#define URL_REGISTER "/wicas.ai.v1.MsgRegisterModel"
#define URL_STORE_PROGRAM "/wicas.ai.v1.MsgStoreProgram"
#define CODE_CONFLICT 36 /* the SDK's ErrConflict */

static int bad(uint32_t *code, uint32_t c, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int bad(uint32_t *code, uint32_t c, char *err, size_t errlen, const char *fmt, ...) {
    *code = c;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static bool lower_hex64(const char *s) {
    if (!s || strlen(s) != 64) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

static bool arch_ok(const char *s) {
    if (!s || !*s || strlen(s) >= sizeof(((wicas_ai_model *)0)->arch)) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

/* The registry entry a MsgRegisterModel describes, checked by the registry's
 * own parser (one set of rules for genesis and transactions). 0 or -1. */
static int model_of(const Wchain__MsgRegisterModel *m, wicas_ai_model *out, char *err, size_t errlen) {
    if (!lower_hex64(m->sha256)) return snprintf(err, errlen, "sha256 must be 64 lowercase hex digits"), -1;
    if (!arch_ok(m->arch)) return snprintf(err, errlen, "arch must be 1-31 characters of [A-Za-z0-9._-]"), -1;
    wicas_ai_gas_params g = wicas_ai_default_gas();
    if (m->gas) {
        g.base = m->gas->base_gas;
        g.per_prompt_token = m->gas->per_prompt_token;
        g.per_gen_token = m->gas->per_gen_token;
    }
    cJSON *o = cJSON_CreateObject();
    char n[24];
    cJSON_AddStringToObject(o, "name", m->name);
    cJSON_AddStringToObject(o, "sha256", m->sha256);
    snprintf(n, sizeof n, "%" PRIu64, m->size);
    cJSON_AddStringToObject(o, "size", n);
    cJSON_AddStringToObject(o, "arch", m->arch);
    snprintf(n, sizeof n, "%" PRIu64, m->params);
    cJSON_AddStringToObject(o, "params", n);
    cJSON *gj = cJSON_AddObjectToObject(o, "gas");
    snprintf(n, sizeof n, "%" PRIu64, g.base);
    cJSON_AddStringToObject(gj, "base", n);
    snprintf(n, sizeof n, "%" PRIu64, g.per_prompt_token);
    cJSON_AddStringToObject(gj, "per_prompt_token", n);
    snprintf(n, sizeof n, "%" PRIu64, g.per_gen_token);
    cJSON_AddStringToObject(gj, "per_gen_token", n);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return snprintf(err, errlen, "out of memory"), -1;
    int rc = wicas_ai_model_from_json(s, strlen(s), out, err, errlen) == WICAS_AI_OK ? 0 : -1;
    free(s);
    return rc;
}

int wicas_aimsg_signer(const char *url, const uint8_t *val, size_t len, char **signer, uint32_t *code,
                       char *err, size_t errlen) {
    *signer = NULL;
    uint8_t a[32];
    size_t al;
    if (strcmp(url, URL_REGISTER) == 0) {
        Wchain__MsgRegisterModel *m = wchain__msg_register_model__unpack(NULL, len, val);
        if (!m) return bad(code, WICAS_CODE_TX_DECODE, err, errlen, "cannot decode %s: tx parse error", url);
        int rc = 0;
        wicas_ai_model mod;
        char e[256] = "";
        if (wicas_chain_addr_decode(m->authority, a, &al))
            rc = bad(code, WICAS_CODE_INVALID_ADDRESS, err, errlen,
                     "invalid authority address '%s': invalid address", m->authority);
        else if (model_of(m, &mod, e, sizeof e))
            rc = bad(code, WICAS_CODE_INVALID_REQUEST, err, errlen, "%s: %s: invalid request", url, e);
        else if (!(*signer = wicas_xstrdup(m->authority)))
            rc = bad(code, WICAS_CODE_INTERNAL, err, errlen, "out of memory");
        wchain__msg_register_model__free_unpacked(m, NULL);
        return rc;
    }
    if (strcmp(url, URL_STORE_PROGRAM) == 0) {
        Wchain__MsgStoreProgram *m = wchain__msg_store_program__unpack(NULL, len, val);
        if (!m) return bad(code, WICAS_CODE_TX_DECODE, err, errlen, "cannot decode %s: tx parse error", url);
        int rc = 0;
        if (wicas_chain_addr_decode(m->sender, a, &al))
            rc = bad(code, WICAS_CODE_INVALID_ADDRESS, err, errlen,
                     "invalid sender address '%s': invalid address", m->sender);
        else if (m->wasm_byte_code.len == 0)
            rc = bad(code, WICAS_CODE_INVALID_REQUEST, err, errlen, "empty program: invalid request");
        else if (m->wasm_byte_code.len > AIPROG_MAX_BYTES)
            rc = bad(code, WICAS_CODE_INVALID_REQUEST, err, errlen,
                     "program of %zu bytes is over the limit of %u bytes: invalid request",
                     m->wasm_byte_code.len, AIPROG_MAX_BYTES);
        else if (!(*signer = wicas_xstrdup(m->sender)))
            rc = bad(code, WICAS_CODE_INTERNAL, err, errlen, "out of memory");
        wchain__msg_store_program__free_unpacked(m, NULL);
        return rc;
    }
    return bad(code, WICAS_CODE_UNKNOWN_REQUEST, err, errlen,
               "unrecognized message type '%s': unknown request", url);
}

/* ---- MsgRegisterModel --------------------------------------------------------------- */

static int register_model(wctx *x, const Wchain__MsgRegisterModel *m) {
    wicas_chain *c = x->c;
    char auth[100];
    if (!wicas_aimod_authority(x, auth))
        return wicas_ctx_fail(
            x, WICAS_CODE_UNAUTHORIZED, WICAS_CHAIN_CODESPACE_SDK,
            "no registry authority is set (app_state.ai.params.authority): models can be registered "
            "only in genesis: unauthorized");
    uint8_t want[32], got[32];
    size_t wl, gl;
    if (wicas_chain_addr_decode(auth, want, &wl) || wicas_chain_addr_decode(m->authority, got, &gl) ||
        wl != gl || memcmp(want, got, wl) != 0)
        return wicas_ctx_fail(x, WICAS_CODE_UNAUTHORIZED, WICAS_CHAIN_CODESPACE_SDK,
                              "invalid authority; expected %s, got %s: unauthorized", auth, m->authority);
    wicas_ai_model mod;
    char e[256] = "";
    if (model_of(m, &mod, e, sizeof e))
        return wicas_ctx_fail(x, WICAS_CODE_INVALID_REQUEST, WICAS_CHAIN_CODESPACE_SDK, "%s: invalid request",
                              e);
    wicas_ai_model old;
    int f = wicas_aimod_get_model(x, mod.name, &old);
    if (f < 0) return -1;
    if (f == 1) {
        char hex[65];
        wicas_hex_encode(old.sha256, 32, hex);
        return wicas_ctx_fail(
            x, CODE_CONFLICT, WICAS_CHAIN_CODESPACE_SDK,
            "model '%s' is already registered (sha256 %s); registered models cannot be replaced: conflict",
            mod.name, hex);
    }
    if (wicas_aimod_set_model(x, &mod)) return -1;
    char size[24], params[24];
    snprintf(size, sizeof size, "%" PRIu64, mod.size_bytes);
    snprintf(params, sizeof params, "%" PRIu64, mod.n_params);
    if (!wicas_ev_add(&x->ev, "register_model", "name", mod.name, "sha256", m->sha256, "size", size, "arch",
                      mod.arch, "params", params, NULL))
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "out of memory");
    /* Not a consensus matter: every node records the entry. A node that
     * cannot run the model says so now, and halts at its first use. */
    if (!x->simulate && !x->check) {
        char why[512] = "";
        if (!c->opts.ai_host)
            snprintf(why, sizeof why, "this node runs without a models directory");
        else if (wicas_ai_host_check_model(c->opts.ai_host, &mod, NULL, 0, why, sizeof why) == WICAS_AI_OK)
            why[0] = 0;
        if (why[0])
            WICAS_WARN(
                "ai",
                "model '%s' (sha256 %s) registered at height %lld but this node cannot run it (%s); it will "
                "halt at the first block that uses it: add the file to the models directory",
                mod.name, m->sha256, (long long)c->blk_height, why);
    }
    return 0;
}

/* ---- MsgStoreProgram ---------------------------------------------------------------- */

int wicas_aiprog_key(const uint8_t checksum[32], uint8_t *k, size_t cap, size_t *kl) {
    char hex[65];
    wicas_hex_encode(checksum, 32, hex);
    int n = snprintf((char *)k, cap, K_AI_PROGRAM "%s", hex);
    if (n < 0 || (size_t)n >= cap) return -1;
    *kl = (size_t)n;
    return 0;
}

static int store_program(wctx *x, const Wchain__MsgStoreProgram *m, uint8_t **resp, size_t *resp_len) {
    wicas_chain *c = x->c;
    const uint8_t *wasm = m->wasm_byte_code.data;
    size_t len = m->wasm_byte_code.len;
    if (len == 0 || len > AIPROG_MAX_BYTES)
        return wicas_ctx_fail(x, WICAS_CODE_INVALID_REQUEST, WICAS_CHAIN_CODESPACE_SDK,
                              "program must be 1..%u bytes: invalid request", AIPROG_MAX_BYTES);
    /* like wasmd's store: compiling is paid per byte before it is done */
    if (wicas_gas_use(x, GAS_WASM_COMPILE_PER_BYTE * (uint64_t)len, "store program: compile")) return -1;
    uint8_t sum[32];
    wicas_sha256(wasm, len, sum);
    char hex[65];
    wicas_hex_encode(sum, 32, hex);
    uint8_t k[128];
    size_t kl;
    if (wicas_aiprog_key(sum, k, sizeof k, &kl))
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "program key too long");
    int f = wicas_st_get(x, k, kl, NULL, NULL);
    if (f < 0) return -1;
    if (f == 0) {
        char e[512] = "";
        int rc = wicas_wasi_validate(wasm, len, e, sizeof e);
        if (rc == WICAS_WASI_ENOMEM || rc == WICAS_WASI_EENGINE) {
            /* this node could not check it; others may have: do not diverge */
            snprintf(c->halt, sizeof c->halt, "store program: the wasm engine failed on this node: %.400s",
                     e);
            return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "%s", c->halt);
        }
        if (rc != WICAS_WASI_OK)
            return wicas_ctx_fail(x, WICAS_CODE_INVALID_REQUEST, WICAS_CHAIN_CODESPACE_SDK,
                                  "program is not a WASI command the sandbox accepts: %s: invalid request",
                                  e);
        if (wicas_st_set(x, k, kl, wasm, len)) return -1;
    }
    char size[24];
    snprintf(size, sizeof size, "%zu", len);
    if (!wicas_ev_add(&x->ev, "store_program", "checksum", hex, "size", size, "new",
                      f == 0 ? "true" : "false", NULL))
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "out of memory");
    Wchain__MsgStoreProgramResponse r = WCHAIN__MSG_STORE_PROGRAM_RESPONSE__INIT;
    r.checksum.data = sum;
    r.checksum.len = 32;
    *resp_len = wchain__msg_store_program_response__get_packed_size(&r);
    *resp = malloc(*resp_len);
    if (!*resp) return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "out of memory");
    wchain__msg_store_program_response__pack(&r, *resp);
    return 0;
}

int wicas_aimsg_dispatch(wctx *x, const char *url, const uint8_t *val, size_t len, uint8_t **resp,
                         size_t *resp_len) {
    *resp = NULL;
    *resp_len = 0;
    if (strcmp(url, URL_REGISTER) == 0) {
        Wchain__MsgRegisterModel *m = wchain__msg_register_model__unpack(NULL, len, val);
        if (!m)
            return wicas_ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "cannot decode %s",
                                  url);
        int rc = register_model(x, m);
        wchain__msg_register_model__free_unpacked(m, NULL);
        return rc;
    }
    if (strcmp(url, URL_STORE_PROGRAM) == 0) {
        Wchain__MsgStoreProgram *m = wchain__msg_store_program__unpack(NULL, len, val);
        if (!m)
            return wicas_ctx_fail(x, WICAS_CODE_TX_DECODE, WICAS_CHAIN_CODESPACE_SDK, "cannot decode %s",
                                  url);
        int rc = store_program(x, m, resp, resp_len);
        wchain__msg_store_program__free_unpacked(m, NULL);
        return rc;
    }
    return wicas_ctx_fail(x, WICAS_CODE_UNKNOWN_REQUEST, WICAS_CHAIN_CODESPACE_SDK,
                          "unrecognized message type '%s': unknown request", url);
}

/* ---- /wicas.ai.v1.Query/Program ---------------------------------------------------------- */

char *wicas_aiprog_program_json(wctx *x, const uint8_t *data, size_t len, uint32_t *code, char *err,
                                size_t errlen) {
    uint8_t sum[32];
    char hex[65];
    if (len == 64) {
        memcpy(hex, data, 64);
        hex[64] = 0;
        if (wicas_hex_decode(hex, sum, 32) != 0) len = 0;
    } else if (len == 32) {
        memcpy(sum, data, 32);
    } else {
        len = 0;
    }
    if (len == 0) {
        *code = WICAS_CODE_INVALID_REQUEST;
        snprintf(err, errlen, "a program query takes a SHA-256 checksum (64 hex digits): invalid request");
        return NULL;
    }
    wicas_hex_encode(sum, 32, hex);
    uint8_t k[128];
    size_t kl;
    wicas_aiprog_key(sum, k, sizeof k, &kl);
    uint8_t *v = NULL;
    size_t vl = 0;
    int f = wicas_kv_get(&x->ov, k, kl, &v, &vl);
    if (f != 1) {
        *code = f < 0 ? WICAS_CODE_INTERNAL : WICAS_CODE_NOT_FOUND;
        snprintf(err, errlen, f < 0 ? "store read failed" : "no program with checksum %s: not found", hex);
        return NULL;
    }
    char *b64 = malloc(wicas_base64_encoded_len(vl));
    char *out = b64 ? wicas_xprintf("{\"checksum\":\"%s\",\"size\":\"%zu\",\"wasm_byte_code\":\"%s\"}", hex,
                                    vl, (wicas_base64_encode(v, vl, b64), b64))
                    : NULL;
    free(b64);
    free(v);
    if (!out) {
        *code = WICAS_CODE_INTERNAL;
        snprintf(err, errlen, "out of memory");
    }
    return out;
}

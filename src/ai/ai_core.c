/*
 * ai_core.c — the pure parts of the AI module: error strings, the gas formula,
 * seed derivation and registry entries. Nothing here touches the engine, so
 * every validator computes these identically and tests need no model.
 */
#include "ai.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai_internal.h"
#include "common.h"

const char *wicas_ai_strerror(int code) {
    switch (code) {
    case WICAS_AI_OK:
        return "ok";
    case WICAS_AI_EINVAL:
        return "invalid AI request or model entry";
    case WICAS_AI_ENOMODEL:
        return "model not registered";
    case WICAS_AI_EMODELFILE:
        return "local model file missing or its SHA-256 differs from the registry";
    case WICAS_AI_EOUTOFGAS:
        return "out of gas: the cost of max_tokens exceeds the gas available";
    case WICAS_AI_ETOOLARGE:
        return "request over the limits";
    case WICAS_AI_EENGINE:
        return "inference engine error";
    case WICAS_AI_ENOMEM:
        return "out of memory";
    case WICAS_AI_EBUDGET:
        return "the block's inference budget is spent";
    case WICAS_AI_ECONTEXT:
        return "prompt tokens + max_tokens exceed the model's context";
    case WICAS_AI_EPROMPT:
        return "the model cannot tokenise the prompt";
    case WICAS_AI_EQUERY:
        return "inference from a query is over this node's limit";
    default:
        return "unknown AI error";
    }
}

wicas_ai_class wicas_ai_err_class(int code) {
    switch (code) {
    case WICAS_AI_OK:
        return WICAS_AI_CLASS_NONE;
    case WICAS_AI_EINVAL:
    case WICAS_AI_ENOMODEL:
    case WICAS_AI_EOUTOFGAS:
    case WICAS_AI_ETOOLARGE:
    case WICAS_AI_EBUDGET:
    case WICAS_AI_ECONTEXT:
    case WICAS_AI_EPROMPT:
    case WICAS_AI_EQUERY:
        return WICAS_AI_CLASS_REQUEST;
    default:
        return WICAS_AI_CLASS_NODE; /* EMODELFILE, EENGINE, ENOMEM, unknown */
    }
}

int wicas_ai_fail(char *err, size_t errlen, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wicas_verrf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- gas ---------------------------------------------------------------------- */

wicas_ai_gas_params wicas_ai_default_gas(void) {
    return (wicas_ai_gas_params){.base = 50000, .per_prompt_token = 20, .per_gen_token = 100};
}

static uint64_t sat_mul(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}
static uint64_t sat_add(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint64_t wicas_ai_gas_cost(const wicas_ai_model *m, uint64_t prompt_tokens, uint64_t gen_tokens) {
    uint64_t mparams = m->n_params / 1000000 + (m->n_params % 1000000 != 0);
    uint64_t per =
        sat_add(sat_mul(m->gas.per_prompt_token, prompt_tokens), sat_mul(m->gas.per_gen_token, gen_tokens));
    return sat_add(m->gas.base, sat_mul(mparams, per));
}

/* ---- seeds -------------------------------------------------------------------- */

static void put_u32be(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void wicas_ai_derive_seed(const wicas_ai_seed_input *in, uint8_t seed[32]) {
    static const char DOMAIN[] = "wicas/ai/seed/v1";
    uint8_t b[8];
    wicas_sha256_ctx *c = wicas_sha256_begin();
    wicas_sha256_update(c, DOMAIN, sizeof DOMAIN - 1);
    size_t n = in->chain_id ? strlen(in->chain_id) : 0;
    put_u32be(b, (uint32_t)n);
    wicas_sha256_update(c, b, 4);
    wicas_sha256_update(c, in->chain_id, n);
    uint64_t h = (uint64_t)in->height;
    put_u32be(b, (uint32_t)(h >> 32));
    put_u32be(b + 4, (uint32_t)h);
    wicas_sha256_update(c, b, 8);
    wicas_sha256_update(c, in->last_block_hash, 32);
    wicas_sha256_update(c, in->tx_hash, 32);
    put_u32be(b, in->call_index);
    wicas_sha256_update(c, b, 4);
    put_u32be(b, (uint32_t)in->user_seed_len);
    wicas_sha256_update(c, b, 4);
    wicas_sha256_update(c, in->user_seed, in->user_seed_len);
    wicas_sha256_final(c, seed);
}

/* ---- JSON helpers shared with ai_request.c ------------------------------------- */

int wicas_ai_json_u64(const cJSON *v, uint64_t *out) {
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        if (!*s || strlen(s) > 20) return -1;
        for (const char *p = s; *p; p++)
            if (*p < '0' || *p > '9') return -1;
        if (s[0] == '0' && s[1]) return -1; /* no leading zeros: one spelling per value */
        errno = 0;
        unsigned long long x = strtoull(s, NULL, 10);
        if (errno) return -1;
        *out = x;
        return 0;
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!(d >= 0) || d > 9007199254740992.0 || d != (double)(uint64_t)d) return -1;
        *out = (uint64_t)d;
        return 0;
    }
    return -1;
}

/* ---- registry ------------------------------------------------------------------- */

static bool valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > WICAS_AI_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int wicas_ai_model_from_json(const char *json, size_t len, wicas_ai_model *out, char *err, size_t errlen) {
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return wicas_ai_fail(err, errlen, WICAS_AI_EINVAL, "model entry: not a JSON object");
    }
    int rc = WICAS_AI_EINVAL;
    wicas_ai_model m;
    memset(&m, 0, sizeof m);
    m.gas = wicas_ai_default_gas();
    const cJSON *f;
    cJSON_ArrayForEach(f, root) {
        const char *k = f->string;
        if (strcmp(k, "name") == 0) {
            if (!cJSON_IsString(f) || !valid_name(f->valuestring)) {
                wicas_ai_fail(err, errlen, rc, "model entry: name must be 1-%d chars of [a-z0-9._-]",
                              WICAS_AI_NAME_MAX);
                goto out;
            }
            strcpy(m.name, f->valuestring);
        } else if (strcmp(k, "sha256") == 0) {
            if (!cJSON_IsString(f) || wicas_hex_decode(f->valuestring, m.sha256, 32) != 0) {
                wicas_ai_fail(err, errlen, rc, "model entry: sha256 must be 64 hex digits");
                goto out;
            }
        } else if (strcmp(k, "size") == 0) {
            if (wicas_ai_json_u64(f, &m.size_bytes) != 0 || m.size_bytes == 0) {
                wicas_ai_fail(err, errlen, rc, "model entry: size must be a positive integer");
                goto out;
            }
        } else if (strcmp(k, "arch") == 0) {
            bool ok = cJSON_IsString(f) && f->valuestring[0] && strlen(f->valuestring) < sizeof m.arch;
            for (const char *q = ok ? f->valuestring : ""; *q && ok; q++)
                ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
                     strchr("._-", *q);
            if (!ok) {
                /* the canonical JSON writes arch verbatim: only safe characters */
                wicas_ai_fail(err, errlen, rc,
                              "model entry: arch must be 1..31 characters of [A-Za-z0-9._-]");
                goto out;
            }
            strcpy(m.arch, f->valuestring);
        } else if (strcmp(k, "params") == 0) {
            if (wicas_ai_json_u64(f, &m.n_params) != 0 || m.n_params == 0) {
                wicas_ai_fail(err, errlen, rc, "model entry: params must be a positive integer");
                goto out;
            }
        } else if (strcmp(k, "gas") == 0) {
            if (!cJSON_IsObject(f)) {
                wicas_ai_fail(err, errlen, rc, "model entry: gas must be an object");
                goto out;
            }
            const cJSON *g;
            cJSON_ArrayForEach(g, f) {
                uint64_t *dst = strcmp(g->string, "base") == 0               ? &m.gas.base
                                : strcmp(g->string, "per_prompt_token") == 0 ? &m.gas.per_prompt_token
                                : strcmp(g->string, "per_gen_token") == 0    ? &m.gas.per_gen_token
                                                                             : NULL;
                if (!dst || wicas_ai_json_u64(g, dst) != 0) {
                    wicas_ai_fail(err, errlen, rc, "model entry: bad gas field '%s'", g->string);
                    goto out;
                }
            }
        } else {
            wicas_ai_fail(err, errlen, rc, "model entry: unknown field '%s'", k);
            goto out;
        }
    }
    if (!m.name[0] || !m.arch[0] || !m.size_bytes || !m.n_params ||
        !cJSON_GetObjectItemCaseSensitive(root, "sha256")) {
        wicas_ai_fail(err, errlen, rc, "model entry: name, sha256, size, arch and params are required");
        goto out;
    }
    *out = m;
    rc = WICAS_AI_OK;
out:
    cJSON_Delete(root);
    return rc;
}

char *wicas_ai_model_to_json(const wicas_ai_model *m) {
    char hex[65];
    wicas_hex_encode(m->sha256, 32, hex);
    size_t cap = 512 + strlen(m->name) + strlen(m->arch);
    char *s = malloc(cap);
    if (!s) return NULL;
    snprintf(s, cap,
             "{\"name\":\"%s\",\"sha256\":\"%s\",\"size\":\"%" PRIu64
             "\",\"arch\":\"%s\",\"params\":\"%" PRIu64 "\",\"gas\":{\"base\":\"%" PRIu64
             "\",\"per_prompt_token\":\"%" PRIu64 "\",\"per_gen_token\":\"%" PRIu64 "\"}}",
             m->name, hex, m->size_bytes, m->arch, m->n_params, m->gas.base, m->gas.per_prompt_token,
             m->gas.per_gen_token);
    return s;
}

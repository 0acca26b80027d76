/*
 * ai_request.c — parsing and checking an inference request from a contract.
 * Strict on purpose: unknown fields, out-of-range values and invalid UTF-8 are
 * errors, because a silently ignored typo would change what every validator
 * computes and what the contract pays for.
 *
 * Two doors, one reader: wicas_ai_request_from_json reads the request a
 * caller already parsed (the chain hands over the contract's `custom` object
 * as the wasm querier parsed it: no second parse, no re-print), and
 * wicas_ai_request_parse is the text door (the asynchronous worker's stored
 * requests, the CLI, tests) over it.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ai.h"
#include "ai_internal.h"
#include "common.h"

char *wicas_ai_utf8_repair(const char *in, size_t n, size_t *out_len) {
    return wicas_utf8_repair(in, n, out_len); /* one repair for the chain and the CLI */
}

/* A number given as JSON number or decimal string, within [lo, hi]. */
static int json_float(const cJSON *v, double lo, double hi, float *out) {
    double d;
    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (cJSON_IsString(v)) {
        char *end = NULL;
        d = strtod(v->valuestring, &end);
        if (!v->valuestring[0] || *end) return -1;
    } else {
        return -1;
    }
    if (!(d >= lo && d <= hi)) return -1; /* also rejects NaN */
    *out = (float)d;
    return 0;
}

void wicas_ai_request_free(wicas_ai_request *r) {
    free(r->prompt);
    free(r->user_seed);
    r->prompt = r->user_seed = NULL;
}

static int read_request(const cJSON *root, bool overflow_null, wicas_ai_request *out, char *err,
                        size_t errlen);

int wicas_ai_request_parse(const char *json, size_t len, wicas_ai_request *out, char *err, size_t errlen) {
    if (wicas_json_has_nul_escape(json, len))
        return wicas_ai_fail(err, errlen, WICAS_AI_EINVAL, "ai request: strings must not contain \\u0000");
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return wicas_ai_fail(err, errlen, WICAS_AI_EINVAL, "ai request: malformed JSON");
    int rc = read_request(root, false, out, err, errlen);
    cJSON_Delete(root);
    return rc;
}

int wicas_ai_request_from_json(const cJSON *root, wicas_ai_request *out, char *err, size_t errlen) {
    return read_request(root, true, out, err, errlen);
}

/* A JSON null; with overflow_null also a number that overflowed a double
 * while parsing (1e999). The parsed door reads such a number as null because
 * the chain used to hand this parser the object re-printed, and cJSON prints
 * it as null: only "seed" (where null means none) can tell. */
static bool null_like(const cJSON *v, bool overflow_null) {
    return cJSON_IsNull(v) || (overflow_null && cJSON_IsNumber(v) && !isfinite(v->valuedouble));
}

static int read_request(const cJSON *root, bool overflow_null, wicas_ai_request *out, char *err,
                        size_t errlen) {
    const cJSON *body = root;
    const cJSON *ai = cJSON_GetObjectItemCaseSensitive(root, "ai");
    if (ai && cJSON_GetArraySize(root) == 1) body = ai;
    const cJSON *inf = cJSON_GetObjectItemCaseSensitive(body, "infer");
    int rc = WICAS_AI_EINVAL;
    wicas_ai_request r = {.max_tokens = 64,
                          .temperature = 0.0f,
                          .top_p = 1.0f,
                          .top_k = 40,
                          .repeat_penalty = 1.0f,
                          .chat = true};
    if (!cJSON_IsObject(inf) || cJSON_GetArraySize(body) != 1) {
        wicas_ai_fail(err, errlen, rc, "ai request: expected {\"ai\":{\"infer\":{...}}}");
        goto fail;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, inf) {
        const char *k = f->string;
        if (strcmp(k, "model") == 0) {
            if (!cJSON_IsString(f) || !f->valuestring[0] || strlen(f->valuestring) > WICAS_AI_NAME_MAX) {
                wicas_ai_fail(err, errlen, rc, "ai request: model must be a registered model name");
                goto fail;
            }
            strcpy(r.model, f->valuestring);
        } else if (strcmp(k, "prompt") == 0) {
            if (!cJSON_IsString(f)) {
                wicas_ai_fail(err, errlen, rc, "ai request: prompt must be a string");
                goto fail;
            }
            size_t n = strlen(f->valuestring);
            if (n == 0 || n > WICAS_AI_PROMPT_MAX) {
                rc = WICAS_AI_ETOOLARGE;
                wicas_ai_fail(err, errlen, rc, "ai request: prompt must be 1..%d bytes (got %zu)",
                              WICAS_AI_PROMPT_MAX, n);
                goto fail;
            }
            if (!wicas_utf8_valid(f->valuestring, n)) {
                wicas_ai_fail(err, errlen, rc, "ai request: prompt is not valid UTF-8");
                goto fail;
            }
            free(r.prompt);
            r.prompt = strdup(f->valuestring);
            r.prompt_len = n;
        } else if (strcmp(k, "max_tokens") == 0) {
            uint64_t v;
            if (wicas_ai_json_u64(f, &v) != 0 || v == 0 || v > WICAS_AI_MAX_TOKENS_MAX) {
                rc = WICAS_AI_ETOOLARGE;
                wicas_ai_fail(err, errlen, rc, "ai request: max_tokens must be 1..%d",
                              WICAS_AI_MAX_TOKENS_MAX);
                goto fail;
            }
            r.max_tokens = (uint32_t)v;
        } else if (strcmp(k, "temperature") == 0) {
            if (json_float(f, 0.0, 2.0, &r.temperature) != 0) {
                wicas_ai_fail(err, errlen, rc, "ai request: temperature must be in [0, 2]");
                goto fail;
            }
        } else if (strcmp(k, "top_p") == 0) {
            if (json_float(f, 0.0, 1.0, &r.top_p) != 0 || r.top_p <= 0.0f) {
                wicas_ai_fail(err, errlen, rc, "ai request: top_p must be in (0, 1]");
                goto fail;
            }
        } else if (strcmp(k, "top_k") == 0) {
            uint64_t v;
            if (wicas_ai_json_u64(f, &v) != 0 || v > 100000) {
                wicas_ai_fail(err, errlen, rc, "ai request: top_k must be 0..100000");
                goto fail;
            }
            r.top_k = (uint32_t)v;
        } else if (strcmp(k, "repeat_penalty") == 0) {
            if (json_float(f, 0.5, 2.0, &r.repeat_penalty) != 0) {
                wicas_ai_fail(err, errlen, rc, "ai request: repeat_penalty must be in [0.5, 2]");
                goto fail;
            }
        } else if (strcmp(k, "seed") == 0) {
            if (null_like(f, overflow_null)) continue;
            if (!cJSON_IsString(f) || strlen(f->valuestring) > 256) {
                wicas_ai_fail(err, errlen, rc, "ai request: seed must be a string of at most 256 bytes");
                goto fail;
            }
            free(r.user_seed);
            r.user_seed = strdup(f->valuestring);
        } else if (strcmp(k, "chat") == 0) {
            if (!cJSON_IsBool(f)) {
                wicas_ai_fail(err, errlen, rc, "ai request: chat must be true or false");
                goto fail;
            }
            r.chat = cJSON_IsTrue(f);
        } else {
            wicas_ai_fail(err, errlen, rc, "ai request: unknown field '%s'", k);
            goto fail;
        }
    }
    if (!r.model[0] || !r.prompt) {
        wicas_ai_fail(err, errlen, rc, "ai request: model and prompt are required");
        goto fail;
    }
    *out = r;
    return WICAS_AI_OK;
fail:
    wicas_ai_request_free(&r);
    return rc;
}

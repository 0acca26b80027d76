/*
 * api.c — the default address Api: bech32 (BIP-173) with a fixed
 * human-readable prefix, as Cosmos chains use. Canonical address = the raw
 * bytes (1..64); human address = prefix "1" data checksum, lowercase.
 *
 * The bech32 arithmetic is common's (wicas_bech32_encode/decode); this file
 * adds the CosmWasm Api shape and precise error messages. Kept behind the
 * wicas_vm_api function table so that the chain can substitute its own.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "vm_internal.h"

static const char CHARSET[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

typedef struct {
    char prefix[32];
} bech32_ctx;

#define MAX_CANON 64

static int b32_humanize(void *ctx, const uint8_t *canon, size_t len, char *out, size_t cap, char *err,
                        size_t errcap) {
    const bech32_ctx *c = ctx;
    if (len < 1 || len > MAX_CANON) {
        snprintf(err, errcap, "Invalid canonical address length %zu (want 1..%d)", len, MAX_CANON);
        return -1;
    }
    if (wicas_bech32_encode(c->prefix, canon, len, out, cap)) {
        snprintf(err, errcap, "cannot encode a %zu-byte address as bech32", len);
        return -1;
    }
    return 0;
}

/* The checks are spelled out first so that the contract gets a precise
 * reason; the decoding itself (checksum, 5-to-8-bit conversion, padding) is
 * common's wicas_bech32_decode. */
static int b32_canonicalize(void *ctx, const char *human, size_t len, uint8_t *out, size_t *out_len,
                            char *err, size_t errcap) {
    const bech32_ctx *c = ctx;
    size_t hl = strlen(c->prefix);
    if (len < hl + 1 + 6 + 1 || len > 90) {
        snprintf(err, errcap, "Invalid input: human address too short or too long");
        return -1;
    }
    bool lower = false, upper = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)human[i];
        if (ch < 33 || ch > 126) {
            snprintf(err, errcap, "Invalid input: invalid character in address");
            return -1;
        }
        lower |= islower(ch) != 0;
        upper |= isupper(ch) != 0;
    }
    if (lower && upper) {
        snprintf(err, errcap, "Invalid input: mixed-case address");
        return -1;
    }
    if (human[hl] != '1' || strncasecmp(human, c->prefix, hl) != 0) {
        snprintf(err, errcap, "Invalid input: wrong address prefix (want %s)", c->prefix);
        return -1;
    }
    for (size_t i = hl + 1; i < len; i++)
        if (!strchr(CHARSET, tolower((unsigned char)human[i]))) {
            snprintf(err, errcap, "Invalid input: invalid bech32 character");
            return -1;
        }
    char s[91], hrp[32];
    memcpy(s, human, len);
    s[len] = 0;
    if (wicas_bech32_decode(s, hrp, sizeof hrp, out, MAX_CANON, out_len)) {
        snprintf(err, errcap, "Invalid input: bech32 checksum mismatch");
        return -1;
    }
    if (*out_len < 1) {
        snprintf(err, errcap, "Invalid input: empty canonical address");
        return -1;
    }
    return 0;
}

wicas_vm_api *wicas_vm_api_bech32(const char *prefix) {
    if (!prefix) return NULL;
    size_t l = strlen(prefix);
    if (l < 1 || l > 31) return NULL;
    for (size_t i = 0; i < l; i++)
        if (prefix[i] < 33 || prefix[i] > 126 || isupper((unsigned char)prefix[i]) || prefix[i] == '1')
            return NULL;
    wicas_vm_api *api = calloc(1, sizeof *api);
    bech32_ctx *c = calloc(1, sizeof *c);
    if (!api || !c) {
        free(api);
        free(c);
        return NULL;
    }
    memcpy(c->prefix, prefix, l);
    api->ctx = c;
    api->canonicalize = b32_canonicalize;
    api->humanize = b32_humanize;
    return api;
}

void wicas_vm_api_free(wicas_vm_api *api) {
    if (!api) return;
    free(api->ctx);
    free(api);
}

/*
 * api.c — the default address Api: bech32 (BIP-173) with a fixed
 * human-readable prefix, as Cosmos chains use. Canonical address = the raw
 * bytes (1..64); human address = prefix "1" data checksum, lowercase.
 *
 * Kept inside the VM behind the wicas_vm_api function table so that the chain
 * can substitute its own (e.g. when src/common grows a shared bech32).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_internal.h"

static const char CHARSET[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* BCH checksum over the expanded prefix and data (BIP-173 "polymod"). */
static uint32_t polymod(const uint8_t *v, size_t n) {
    static const uint32_t G[5] = {0x3b6a57b2u, 0x26508e6du, 0x1ea119fau, 0x3d4233ddu, 0x2a1462b3u};
    uint32_t chk = 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t top = (uint8_t)(chk >> 25);
        chk = ((chk & 0x1ffffffu) << 5) ^ v[i];
        for (int b = 0; b < 5; b++)
            if ((top >> b) & 1) chk ^= G[b];
    }
    return chk;
}

/* prefix expansion: high bits of each char, 0, low bits of each char. */
static size_t hrp_expand(const char *hrp, size_t hl, uint8_t *out) {
    for (size_t i = 0; i < hl; i++) out[i] = (uint8_t)hrp[i] >> 5;
    out[hl] = 0;
    for (size_t i = 0; i < hl; i++) out[hl + 1 + i] = (uint8_t)hrp[i] & 31;
    return 2 * hl + 1;
}

typedef struct {
    char prefix[32];
} bech32_ctx;

#define MAX_CANON 64
#define MAX_DATA5 ((MAX_CANON * 8 + 4) / 5)

static int b32_humanize(void *ctx, const uint8_t *canon, size_t len, char *out, size_t cap, char *err, size_t errcap) {
    const bech32_ctx *c = ctx;
    if (len < 1 || len > MAX_CANON) {
        snprintf(err, errcap, "Invalid canonical address length %zu (want 1..%d)", len, MAX_CANON);
        return -1;
    }
    uint8_t d5[MAX_DATA5 + 6];
    size_t n5 = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | canon[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            d5[n5++] = (acc >> bits) & 31;
        }
    }
    if (bits) d5[n5++] = (acc << (5 - bits)) & 31;
    size_t hl = strlen(c->prefix);
    uint8_t buf[2 * 32 + 1 + MAX_DATA5 + 6];
    size_t n = hrp_expand(c->prefix, hl, buf);
    memcpy(buf + n, d5, n5);
    memset(buf + n + n5, 0, 6);
    uint32_t pm = polymod(buf, n + n5 + 6) ^ 1;
    for (int i = 0; i < 6; i++) d5[n5 + i] = (pm >> (5 * (5 - i))) & 31;
    if (hl + 1 + n5 + 6 + 1 > cap) {
        snprintf(err, errcap, "output buffer too small for a human address");
        return -1;
    }
    memcpy(out, c->prefix, hl);
    out[hl] = '1';
    for (size_t i = 0; i < n5 + 6; i++) out[hl + 1 + i] = CHARSET[d5[i]];
    out[hl + 1 + n5 + 6] = 0;
    return 0;
}

static int b32_canonicalize(void *ctx, const char *human, size_t len, uint8_t *out, size_t *out_len, char *err,
                            size_t errcap) {
    const bech32_ctx *c = ctx;
    size_t hl = strlen(c->prefix);
    if (len < hl + 1 + 6 + 1 || len > 256) {
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
    size_t n5 = len - hl - 1;
    uint8_t buf[2 * 32 + 1 + 256];
    size_t n = hrp_expand(c->prefix, hl, buf);
    for (size_t i = 0; i < n5; i++) {
        const char *p = strchr(CHARSET, tolower((unsigned char)human[hl + 1 + i]));
        if (!p || !*p) {
            snprintf(err, errcap, "Invalid input: invalid bech32 character");
            return -1;
        }
        buf[n + i] = (uint8_t)(p - CHARSET);
    }
    if (polymod(buf, n + n5) != 1) {
        snprintf(err, errcap, "Invalid input: bech32 checksum mismatch");
        return -1;
    }
    size_t nd = n5 - 6, o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < nd; i++) {
        acc = (acc << 5) | buf[n + i];
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (o >= MAX_CANON) {
                snprintf(err, errcap, "Invalid input: canonical address longer than %d bytes", MAX_CANON);
                return -1;
            }
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits >= 5 || (acc & ((1u << bits) - 1))) {
        snprintf(err, errcap, "Invalid input: non-zero bech32 padding");
        return -1;
    }
    if (o < 1) {
        snprintf(err, errcap, "Invalid input: empty canonical address");
        return -1;
    }
    *out_len = o;
    return 0;
}

wicas_vm_api *wicas_vm_api_bech32(const char *prefix) {
    if (!prefix) return NULL;
    size_t l = strlen(prefix);
    if (l < 1 || l > 31) return NULL;
    for (size_t i = 0; i < l; i++)
        if (prefix[i] < 33 || prefix[i] > 126 || isupper((unsigned char)prefix[i]) || prefix[i] == '1') return NULL;
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

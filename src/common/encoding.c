/*
 * encoding.c — hex and base64. Written here rather than borrowed because both
 * are a few lines and must be strict: CosmWasm's Binary is canonical padded
 * base64, and a lenient decoder would let two encodings of one value through.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>

void wicas_hex_encode(const uint8_t *in, size_t len, char *out) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * len] = 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int wicas_hex_decode(const char *in, uint8_t *out, size_t out_len) {
    if (strlen(in) != 2 * out_len) return -1;
    for (size_t i = 0; i < out_len; i++) {
        int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t wicas_base64_encoded_len(size_t len) {
    return (len + 2) / 3 * 4 + 1;
}

void wicas_base64_encode(const uint8_t *in, size_t len, char *out) {
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = B64[(v >> 6) & 63];
        out[o++] = B64[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = B64[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = 0;
}

static int b64val(char c) {
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

long wicas_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap) {
    if (n % 4) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int pad = 0;
        int v[4];
        for (int k = 0; k < 4; k++) {
            char c = in[i + k];
            if (c == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else {
                if (pad) return -1; /* data after '=' */
                v[k] = b64val(c);
                if (v[k] < 0) return -1;
            }
        }
        if (pad == 1 && in[i + 2] == '=') return -1;
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        /* canonical: unused low bits must be zero */
        if (pad == 2 && (w & 0xffff)) return -1;
        if (pad == 1 && (w & 0xff)) return -1;
        size_t take = 3 - (size_t)pad;
        if (o + take > cap) return -1;
        out[o++] = (uint8_t)(w >> 16);
        if (take > 1) out[o++] = (uint8_t)(w >> 8);
        if (take > 2) out[o++] = (uint8_t)w;
    }
    return (long)o;
}

/* ---- UTF-8 ------------------------------------------------------------------- */

size_t wicas_utf8_seq(const uint8_t *s, size_t n, size_t i) {
    uint8_t c = s[i];
    size_t k;
    uint32_t cp;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0)
        k = 1, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
        k = 2, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
        k = 3, cp = c & 0x07;
    else
        return 0;
    if (i + k >= n) return 0; /* truncated sequence */
    for (size_t j = 1; j <= k; j++) {
        if ((s[i + j] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i + j] & 0x3f);
    }
    if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return k + 1;
}

bool wicas_utf8_valid(const void *p, size_t n) {
    const uint8_t *s = p;
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = wicas_utf8_seq(s, n, i))) return false;
    return true;
}

bool wicas_json_has_nul_escape(const void *p, size_t n) {
    const char *s = p;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        if (!in_str) {
            if (s[i] == '"') in_str = true;
            continue;
        }
        if (s[i] == '"') {
            in_str = false;
        } else if (s[i] == '\\' && i + 1 < n) {
            if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0) return true;
            i++; /* the escaped character (a quote or backslash does not end the escape) */
        }
    }
    return false;
}

char *wicas_utf8_repair(const void *in, size_t n, size_t *out_len) {
    const uint8_t *s = in;
    char *out = malloc(3 * n + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = wicas_utf8_seq(s, n, i);
        if (k) {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD for each invalid byte */
            o += 3;
            i++;
        }
    }
    out[o] = 0;
    if (out_len) *out_len = o;
    return out;
}

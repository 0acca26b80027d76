/*
 * errf.c — the one way WICAS code writes an error message into a caller's
 * buffer, and the protobuf varint, both used by several layers.
 */
#include <stdarg.h>
#include <stdio.h>

#include "common.h"

int wicas_errf(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int wicas_verrf(char *err, size_t errlen, const char *fmt, va_list ap) {
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    return -1;
}

/* Base-128, little-endian groups of 7 bits; the high bit of each byte says
 * another byte follows. A 64-bit value needs at most 10 bytes, and the 10th
 * byte may only carry the single top bit (value 0 or 1). */
size_t wicas_uvarint_put(uint64_t v, uint8_t out[WICAS_UVARINT_MAX]) {
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

int wicas_uvarint_get(const uint8_t *in, size_t len, uint64_t *v) {
    uint64_t x = 0;
    for (size_t i = 0; i < WICAS_UVARINT_MAX; i++) {
        if (i >= len) return 0;
        uint8_t b = in[i];
        if (i == 9 && b > 1) return -1; /* overflows 64 bits */
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return (int)(i + 1);
        }
    }
    return -1; /* 10 bytes and still "more follows" */
}

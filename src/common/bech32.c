/*
 * bech32.c — BIP-173 bech32 encoding of addresses (Cosmos uses the original
 * bech32 checksum, not bech32m). Shared by the VM (addr_* host functions) and
 * the chain (accounts, contracts), so it lives at the bottom of the graph.
 */
#include "common.h"

#include <string.h>

static const char CHARSET[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, uint8_t v) {
    static const uint32_t GEN[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    uint32_t top = chk >> 25;
    chk = (chk & 0x1ffffff) << 5 ^ v;
    for (int i = 0; i < 5; i++)
        if ((top >> i) & 1) chk ^= GEN[i];
    return chk;
}

static uint32_t hrp_checksum_seed(const char *hrp, size_t n) {
    uint32_t chk = 1;
    for (size_t i = 0; i < n; i++)
        chk = polymod_step(chk, (uint8_t)hrp[i] >> 5);
    chk = polymod_step(chk, 0);
    for (size_t i = 0; i < n; i++)
        chk = polymod_step(chk, (uint8_t)hrp[i] & 31);
    return chk;
}

/* Regroups bits: from 8-bit bytes to 5-bit groups (pad) or back (no pad). */
static int convert_bits(uint8_t *out, size_t *outlen, size_t cap, int outbits, const uint8_t *in,
                        size_t inlen, int inbits, int pad) {
    uint32_t val = 0;
    int bits = 0;
    uint32_t maxv = (1u << outbits) - 1;
    *outlen = 0;
    for (size_t i = 0; i < inlen; i++) {
        val = (val << inbits) | in[i];
        bits += inbits;
        while (bits >= outbits) {
            bits -= outbits;
            if (*outlen >= cap) return -1;
            out[(*outlen)++] = (uint8_t)((val >> bits) & maxv);
        }
    }
    if (pad) {
        if (bits) {
            if (*outlen >= cap) return -1;
            out[(*outlen)++] = (uint8_t)((val << (outbits - bits)) & maxv);
        }
    } else if (bits >= inbits || ((val << (outbits - bits)) & maxv)) {
        return -1;
    }
    return 0;
}

int wicas_bech32_encode(const char *hrp, const uint8_t *data, size_t len, char *out, size_t cap) {
    size_t hn = strlen(hrp);
    if (hn < 1 || hn > 83) return -1;
    for (size_t i = 0; i < hn; i++)
        if (hrp[i] < 33 || hrp[i] > 126 || (hrp[i] >= 'A' && hrp[i] <= 'Z')) return -1;
    uint8_t five[WICAS_BECH32_MAX_DATA * 8 / 5 + 2];
    size_t fn;
    if (len > WICAS_BECH32_MAX_DATA || convert_bits(five, &fn, sizeof five, 5, data, len, 8, 1) != 0)
        return -1;
    if (hn + 1 + fn + 6 + 1 > cap) return -1;
    uint32_t chk = hrp_checksum_seed(hrp, hn);
    for (size_t i = 0; i < fn; i++)
        chk = polymod_step(chk, five[i]);
    for (int i = 0; i < 6; i++)
        chk = polymod_step(chk, 0);
    chk ^= 1;
    size_t o = 0;
    memcpy(out, hrp, hn);
    o = hn;
    out[o++] = '1';
    for (size_t i = 0; i < fn; i++)
        out[o++] = CHARSET[five[i]];
    for (int i = 0; i < 6; i++)
        out[o++] = CHARSET[(chk >> (5 * (5 - i))) & 31];
    out[o] = 0;
    return 0;
}

int wicas_bech32_decode(const char *s, char *hrp, size_t hrp_cap, uint8_t *data, size_t data_cap,
                        size_t *len) {
    size_t n = strlen(s);
    if (n < 8 || n > 90) return -1;
    int lower = 0, upper = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 33 || s[i] > 126) return -1;
        if (s[i] >= 'a' && s[i] <= 'z') lower = 1;
        if (s[i] >= 'A' && s[i] <= 'Z') upper = 1;
    }
    if (lower && upper) return -1; /* mixed case is invalid */
    const char *sep = strrchr(s, '1');
    if (!sep) return -1;
    size_t hn = (size_t)(sep - s), dn = n - hn - 1;
    if (hn < 1 || dn < 6 || hn + 1 > hrp_cap) return -1;
    char h[84];
    for (size_t i = 0; i < hn; i++)
        h[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    h[hn] = 0;
    uint8_t five[90];
    uint32_t chk = hrp_checksum_seed(h, hn);
    for (size_t i = 0; i < dn; i++) {
        char c = sep[1 + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        const char *p = strchr(CHARSET, c);
        if (!p || !c) return -1;
        five[i] = (uint8_t)(p - CHARSET);
        chk = polymod_step(chk, five[i]);
    }
    if (chk != 1) return -1;
    if (convert_bits(data, len, data_cap, 8, five, dn - 6, 5, 0) != 0) return -1;
    memcpy(hrp, h, hn + 1);
    return 0;
}

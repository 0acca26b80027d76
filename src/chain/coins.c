/*
 * coins.c — coin lists, the one parser for them. A coin list is what the
 * Cosmos SDK's sdk.Coins is: (denom, amount) pairs sorted by denom, each denom
 * at most once, every amount positive. Text form "10uwicas,5ufoo"; protobuf
 * form a repeated cosmos.base.v1beta1.Coin. Both enter through here, so a fee,
 * a transfer, contract funds, `wicasd genesis add-account` and `wicasd devnet
 * --account` all accept and refuse the same strings (the public API is in
 * chain.h, wicas_chain_coins_*; chain_internal.h keeps short aliases).
 *
 * The denom rule is the SDK's default regex [a-zA-Z][a-zA-Z0-9/:._-]{2,127}.
 * A parsed coin stores its denom in WICAS_CHAIN_COIN_DENOM_MAX + 1 bytes, so a
 * list whose denom has the regex's full 128 characters is refused by the
 * parsers (denom_valid alone says yes): the chain has always done so, and
 * changing it would change which transactions are valid.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"
#include "common.h"

bool wicas_chain_denom_valid(const char *d) {
    size_t n = strlen(d);
    if (n < 3 || n > 128 || !isalpha((unsigned char)d[0])) return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char ch = (unsigned char)d[i];
        if (!isalnum(ch) && !strchr("/:._-", ch)) return false;
    }
    return true;
}

static int coin_cmp(const void *a, const void *b) {
    return strcmp(((const coin *)a)->denom, ((const coin *)b)->denom);
}

/* Sorts c[0..n) by denom; refuses a zero amount or a denom given twice. */
static int coins_finish(coin *c, size_t n, char *err, size_t errlen) {
    qsort(c, n, sizeof *c, coin_cmp);
    for (size_t i = 0; i < n; i++) {
        if (c[i].amount == 0)
            return wicas_errf(err, errlen, "coin %s has amount 0: coins must be positive", c[i].denom);
        if (i && strcmp(c[i].denom, c[i - 1].denom) == 0)
            return wicas_errf(err, errlen, "duplicate denomination %s", c[i].denom);
    }
    return 0;
}

int wicas_chain_coins_parse(const char *s, wicas_chain_coin **out, size_t *n, char *err, size_t errlen) {
    *out = NULL;
    *n = 0;
    if (!s || !*s) return 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    coin *c = calloc(cap, sizeof *c);
    if (!c) {
        wicas_errf(err, errlen, "out of memory");
        return WICAS_CHAIN_ERR_NOMEM;
    }
    size_t k = 0;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        size_t d = 0;
        while (d < len && p[d] >= '0' && p[d] <= '9')
            d++;
        char num[32];
        const char *why = NULL;
        if (d == 0 || len - d == 0)
            why = "want <amount><denom>, e.g. 10uwicas";
        else if (d >= sizeof num)
            why = "amount does not fit in 64 bits";
        else if (len - d >= sizeof c[k].denom)
            why = "denom longer than 127 characters";
        if (!why) {
            memcpy(num, p, d);
            num[d] = 0;
            memcpy(c[k].denom, p + d, len - d);
            c[k].denom[len - d] = 0;
            if (wicas_parse_u64(num, &c[k].amount))
                why = "amount does not fit in 64 bits";
            else if (!denom_valid(c[k].denom))
                why = "denom must match [a-zA-Z][a-zA-Z0-9/:._-]{2,127}";
        }
        if (why) {
            wicas_errf(err, errlen, "invalid coin '%.*s': %s", (int)len, p, why);
            free(c);
            return WICAS_CHAIN_ERR_INVALID;
        }
        k++;
        p += len;
        if (*p == ',') p++;
    }
    if (coins_finish(c, k, err, errlen)) {
        free(c);
        return WICAS_CHAIN_ERR_INVALID;
    }
    *out = c;
    *n = k;
    return 0;
}

int wicas_coins_from_pb(Wchain__Coin **pb, size_t n_pb, coin **out, size_t *n, char *err, size_t errlen) {
    *out = NULL;
    *n = 0;
    if (n_pb == 0) return 0;
    coin *c = calloc(n_pb, sizeof *c);
    if (!c) return -1;
    for (size_t i = 0; i < n_pb; i++) {
        const char *d = pb[i]->denom ? pb[i]->denom : "";
        if (!denom_valid(d) || strlen(d) >= sizeof c[i].denom ||
            wicas_parse_u64(pb[i]->amount, &c[i].amount)) {
            wicas_errf(err, errlen,
                       "invalid coin %s%s: amount must be a decimal fitting 64 bits, denom valid",
                       pb[i]->amount ? pb[i]->amount : "", d);
            free(c);
            return -1;
        }
        strcpy(c[i].denom, d);
    }
    if (coins_finish(c, n_pb, err, errlen)) {
        free(c);
        return -1;
    }
    *out = c;
    *n = n_pb;
    return 0;
}

char *wicas_chain_coins_str(const wicas_chain_coin *c, size_t n) {
    size_t cap = 1 + n * 160;
    char *s = malloc(cap);
    if (!s) return NULL;
    size_t o = 0;
    s[0] = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, cap - o, "%s%" PRIu64 "%s", i ? "," : "", c[i].amount, c[i].denom);
    return s;
}

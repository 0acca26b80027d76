/*
 * ctx.c — execution contexts (layered state + gas meter + events) and the
 * event helpers shared by the modules. Kept separate from the handlers so that
 * every store access in the chain goes through the same metered functions:
 * gas is then a function of the keys and values touched, never of caches.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"
#include "common.h"

char *wicas_xstrdup(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

char *wicas_xprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

void wicas_be64_put(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

uint64_t wicas_be64_get(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int wicas_parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s) return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* ---- events ---------------------------------------------------------------------- */

int wicas_ev_attr(wicas_chain_event *e, const char *key, const char *value) {
    wicas_chain_attr *na = realloc(e->attrs, (e->n_attrs + 1) * sizeof *na);
    if (!na) return -1;
    e->attrs = na;
    na[e->n_attrs].key = wicas_xstrdup(key);
    na[e->n_attrs].value = wicas_xstrdup(value);
    na[e->n_attrs].index = true;
    if (!na[e->n_attrs].key || !na[e->n_attrs].value) {
        free(na[e->n_attrs].key);
        free(na[e->n_attrs].value);
        return -1;
    }
    e->n_attrs++;
    return 0;
}

wicas_chain_event *wicas_ev_add(evlist *l, const char *type, ...) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 8;
        wicas_chain_event *ne = realloc(l->ev, nc * sizeof *ne);
        if (!ne) return NULL;
        l->ev = ne;
        l->cap = nc;
    }
    wicas_chain_event *e = &l->ev[l->n];
    memset(e, 0, sizeof *e);
    if (!(e->type = wicas_xstrdup(type))) return NULL;
    l->n++;
    va_list ap;
    va_start(ap, type);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k) break;
        const char *v = va_arg(ap, const char *);
        if (wicas_ev_attr(e, k, v)) {
            va_end(ap);
            return NULL;
        }
    }
    va_end(ap);
    return e;
}

int wicas_ev_move(evlist *dst, evlist *src) {
    if (src->n == 0) return 0;
    if (dst->n + src->n > dst->cap) {
        size_t nc = dst->n + src->n + 8;
        wicas_chain_event *ne = realloc(dst->ev, nc * sizeof *ne);
        if (!ne) return -1;
        dst->ev = ne;
        dst->cap = nc;
    }
    memcpy(dst->ev + dst->n, src->ev, src->n * sizeof *src->ev);
    dst->n += src->n;
    free(src->ev);
    src->ev = NULL;
    src->n = src->cap = 0;
    return 0;
}

void wicas_chain_events_free(wicas_chain_event *ev, size_t n) {
    if (!ev) return;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < ev[i].n_attrs; j++) {
            free(ev[i].attrs[j].key);
            free(ev[i].attrs[j].value);
        }
        free(ev[i].attrs);
        free(ev[i].type);
    }
    free(ev);
}

void wicas_ev_free(evlist *l) {
    wicas_chain_events_free(l->ev, l->n);
    l->ev = NULL;
    l->n = l->cap = 0;
}

/* ---- contexts ---------------------------------------------------------------------- */

void wicas_ctx_init(wctx *x, wicas_chain *c, kv *parent, uint64_t gas_limit) {
    memset(x, 0, sizeof *x);
    x->c = c;
    x->parent = parent;
    wicas_kv_init_overlay(&x->ov, parent);
    x->gas_limit = gas_limit;
}

void wicas_ctx_child(wctx *child, wctx *x) {
    wicas_ctx_init(child, x->c, &x->ov, x->gas_limit);
    child->gas_used = x->gas_used;
    child->simulate = x->simulate;
    child->check = x->check;
    child->query = x->query;
    child->depth = x->depth;
}

int wicas_ctx_end(wctx *child, wctx *x, bool ok) {
    int rc = 0;
    x->gas_used = child->gas_used;
    if (child->out_of_gas) x->out_of_gas = true;
    if (ok) {
        /* merge writes (the parent's overlay is the child's parent) */
        for (size_t i = 0; i < child->ov.n && !rc; i++) {
            kv_entry *e = &child->ov.e[i];
            rc = e->del ? wicas_kv_del(&x->ov, e->k, e->kl) : wicas_kv_set(&x->ov, e->k, e->kl, e->v, e->vl);
        }
        if (!rc) rc = wicas_ev_move(&x->ev, &child->ev);
    } else if (!x->code && child->code) {
        x->code = child->code;
        x->codespace = child->codespace;
        memcpy(x->err, child->err, sizeof x->err);
    }
    wicas_ctx_free(child);
    return rc ? -1 : 0;
}

void wicas_ctx_free(wctx *x) {
    wicas_kv_clear(&x->ov);
    wicas_ev_free(&x->ev);
}

int wicas_ctx_fail(wctx *x, uint32_t code, const char *codespace, const char *fmt, ...) {
    if (x->code == 0) {
        x->code = code;
        x->codespace = codespace;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->err, sizeof x->err, fmt, ap);
        va_end(ap);
    }
    /* an internal failure (storage, memory) is local to this node: recording
     * it as the tx's outcome could diverge from the other validators */
    if (code == WICAS_CODE_INTERNAL && x->c && !x->c->halt[0]) {
        static const char pre[] = "internal failure: ";
        size_t n = strlen(x->err), room = sizeof x->c->halt - sizeof pre;
        memcpy(x->c->halt, pre, sizeof pre - 1);
        if (n > room) n = room;
        memcpy(x->c->halt + sizeof pre - 1, x->err, n);
        x->c->halt[sizeof pre - 1 + n] = 0;
    }
    return -1;
}

int wicas_gas_use(wctx *x, uint64_t amount, const char *what) {
    if (x->out_of_gas) return -1;
    if (amount > x->gas_limit - (x->gas_used < x->gas_limit ? x->gas_used : x->gas_limit) ||
        x->gas_used > x->gas_limit) {
        x->out_of_gas = true;
        uint64_t want = x->gas_used + amount;
        x->gas_used = x->gas_limit;
        /* the out-of-gas failure replaces an earlier softer error */
        x->code = 0;
        return wicas_ctx_fail(x, WICAS_CODE_OUT_OF_GAS, WICAS_CHAIN_CODESPACE_SDK,
                              "out of gas in location: %s; gasWanted: %" PRIu64 ", gasUsed: %" PRIu64
                              ": out of gas",
                              what, x->gas_limit, want);
    }
    x->gas_used += amount;
    return 0;
}

int wicas_st_get(wctx *x, const uint8_t *k, size_t kl, uint8_t **v, size_t *vl) {
    if (wicas_gas_use(x, GAS_READ_FLAT + GAS_READ_PER_BYTE * (uint64_t)kl, "ReadFlat")) return -1;
    uint8_t *tmp = NULL;
    size_t tl = 0;
    int rc = wicas_kv_get(&x->ov, k, kl, &tmp, &tl);
    if (rc < 0)
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "store read failed: %s",
                              wicas_chain_strerror(rc));
    if (rc == 1 && wicas_gas_use(x, GAS_READ_PER_BYTE * (uint64_t)tl, "ReadPerByte")) {
        free(tmp);
        return -1;
    }
    if (rc == 1 && v) {
        *v = tmp;
        *vl = tl;
    } else {
        free(tmp);
    }
    return rc;
}

int wicas_st_set(wctx *x, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
    if (wicas_gas_use(x, GAS_WRITE_FLAT + GAS_WRITE_PER_BYTE * ((uint64_t)kl + vl), "WriteFlat")) return -1;
    if (kl == 0 || kl > 500)
        return wicas_ctx_fail(x, WICAS_CODE_INVALID_REQUEST, WICAS_CHAIN_CODESPACE_SDK,
                              "store key of %zu bytes: keys must be 1..500 bytes", kl);
    int rc = wicas_kv_set(&x->ov, k, kl, v, vl);
    return rc ? wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "store write failed: %s",
                               wicas_chain_strerror(rc))
              : 0;
}

int wicas_st_del(wctx *x, const uint8_t *k, size_t kl) {
    if (wicas_gas_use(x, GAS_DELETE, "Delete")) return -1;
    if (kl == 0 || kl > 500) return 0;
    int rc = wicas_kv_del(&x->ov, k, kl);
    return rc ? wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "store delete failed: %s",
                               wicas_chain_strerror(rc))
              : 0;
}

static int st_iter(wctx *x, bool fwd, const uint8_t *b, size_t bl, bool incl, uint8_t **k, size_t *kl,
                   uint8_t **v, size_t *vl) {
    if (wicas_gas_use(x, GAS_ITER_NEXT, "IterNextFlat")) return -1;
    int rc = fwd ? wicas_kv_next(&x->ov, b, bl, incl, k, kl, v, vl)
                 : wicas_kv_prev(&x->ov, b, bl, incl, k, kl, v, vl);
    if (rc < 0)
        return wicas_ctx_fail(x, WICAS_CODE_INTERNAL, WICAS_CHAIN_CODESPACE_SDK, "store iteration failed");
    if (rc == 1 && wicas_gas_use(x, GAS_READ_PER_BYTE * ((uint64_t)*kl + *vl), "ValuePerByte")) {
        free(*k);
        free(*v);
        return -1;
    }
    return rc;
}

int wicas_st_next(wctx *x, const uint8_t *lo, size_t lol, bool incl, uint8_t **k, size_t *kl, uint8_t **v,
                  size_t *vl) {
    return st_iter(x, true, lo, lol, incl, k, kl, v, vl);
}

int wicas_st_prev(wctx *x, const uint8_t *hi, size_t hil, bool incl, uint8_t **k, size_t *kl, uint8_t **v,
                  size_t *vl) {
    return st_iter(x, false, hi, hil, incl, k, kl, v, vl);
}

void wicas_addr_str(const uint8_t *a, size_t al, char out[100]) {
    if (wicas_chain_addr_encode(a, al, out, 100)) snprintf(out, 100, "<invalid address>");
}

void wicas_module_addr(const char *name, uint8_t out[20]) {
    uint8_t h[32];
    wicas_sha256(name, strlen(name), h);
    memcpy(out, h, 20);
}

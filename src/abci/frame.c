/*
 * frame.c — the ABCI socket framing (unsigned varint length prefix), error
 * strings, and the small allocation helpers applications use to fill
 * responses. Kept apart from the server so tests can exercise the framing
 * without sockets.
 */
#include <stdlib.h>
#include <string.h>

#include "abci.h"
#include "common.h"

const char *wicas_abci_strerror(int code) {
    switch (code) {
    case WICAS_ABCI_OK:
        return "ok";
    case WICAS_ABCI_ERR_ARG:
        return "invalid argument";
    case WICAS_ABCI_ERR_IO:
        return "socket I/O error";
    case WICAS_ABCI_ERR_FRAME:
        return "malformed frame (bad varint or length over the cap)";
    case WICAS_ABCI_ERR_DECODE:
        return "frame is not a valid ABCI Request";
    case WICAS_ABCI_ERR_APP:
        return "the application failed";
    case WICAS_ABCI_ERR_NOMEM:
        return "out of memory";
    case WICAS_ABCI_ERR_TRUNCATED:
        return "truncated input";
    default:
        return "unknown error";
    }
}

/* ---- varint (common.h's protobuf uvarint, with this layer's error codes) ----- */
size_t wicas_abci_varint_put(uint64_t v, uint8_t out[WICAS_ABCI_VARINT_MAX]) {
    return wicas_uvarint_put(v, out);
}

int wicas_abci_varint_get(const uint8_t *in, size_t len, uint64_t *v) {
    int n = wicas_uvarint_get(in, len, v);
    return n > 0 ? n : n == 0 ? WICAS_ABCI_ERR_TRUNCATED : WICAS_ABCI_ERR_FRAME;
}

/* ---- response helpers ---------------------------------------------------------- */
char *wicas_abci_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int wicas_abci_buf_set(wicas_abci_buf *b, const void *data, size_t len) {
    uint8_t *d = malloc(len ? len : 1);
    if (!d) return WICAS_ABCI_ERR_NOMEM;
    if (len) memcpy(d, data, len);
    free(b->data);
    b->data = d;
    b->len = len;
    return 0;
}

int wicas_abci_event_add(wicas_abci_event **events, size_t *n, const char *type, wicas_abci_event **out) {
    char *t = wicas_abci_strdup(type ? type : "");
    if (!t) return WICAS_ABCI_ERR_NOMEM;
    wicas_abci_event *ne = realloc(*events, (*n + 1) * sizeof **events);
    if (!ne) {
        free(t);
        return WICAS_ABCI_ERR_NOMEM;
    }
    *events = ne;
    ne[*n] = (wicas_abci_event){.type = t};
    if (out) *out = &ne[*n];
    (*n)++;
    return 0;
}

int wicas_abci_event_attr(wicas_abci_event *ev, const char *key, const char *value, bool index) {
    char *k = wicas_abci_strdup(key ? key : ""), *v = wicas_abci_strdup(value ? value : "");
    wicas_abci_attr *na = (k && v) ? realloc(ev->attrs, (ev->n_attrs + 1) * sizeof *ev->attrs) : NULL;
    if (!na) {
        free(k);
        free(v);
        return WICAS_ABCI_ERR_NOMEM;
    }
    ev->attrs = na;
    na[ev->n_attrs++] = (wicas_abci_attr){.key = k, .value = v, .index = index};
    return 0;
}

int wicas_abci_default_prepare(const wicas_abci_block_req *req, wicas_abci_prepare_resp *resp) {
    resp->txs = NULL;
    resp->n_txs = 0;
    if (req->n_txs == 0) return 0;
    wicas_abci_buf *txs = calloc(req->n_txs, sizeof *txs);
    if (!txs) return WICAS_ABCI_ERR_NOMEM;
    int64_t total = 0;
    size_t n = 0;
    for (size_t i = 0; i < req->n_txs; i++) {
        total += (int64_t)req->txs[i].len;
        if (total > req->max_tx_bytes) break;
        if (wicas_abci_buf_set(&txs[n], req->txs[i].data, req->txs[i].len) != 0) {
            for (size_t j = 0; j < n; j++)
                free(txs[j].data);
            free(txs);
            return WICAS_ABCI_ERR_NOMEM;
        }
        n++;
    }
    resp->txs = txs;
    resp->n_txs = n;
    return 0;
}

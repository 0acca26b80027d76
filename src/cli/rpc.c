/*
 * rpc.c — CometBFT JSON-RPC client over libcurl (see rpc.h for the contract).
 *
 * Shape: one helper turns a node URL + endpoint + query string into a GET,
 * collects the body in a growing buffer (capped, so a misbehaving server
 * cannot exhaust memory), parses it with cJSON and detaches "result". The
 * three public calls only build query strings. Waiting for inclusion is a
 * plain poll of /tx by hash with a short sleep: simple, and it needs no
 * websocket subscription.
 */
#include "rpc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

/* Largest body accepted from the node (a /block with big txs fits easily). */
#define RPC_MAX_BODY (64u << 20)

/* curl_global_init is not thread-safe: do it exactly once. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- URL normalisation ---------------------------------------------------------
 * "tcp://h:p" -> "http://h:p"; "h:p" -> "http://h:p"; trailing '/' dropped. */
static int rpc_base_url(const char *node, char *out, size_t cap, char *err, size_t errlen) {
    if (!node || !*node) node = WICAS_RPC_DEFAULT_NODE;
    const char *rest = node;
    const char *scheme = "http://";
    if (strncmp(node, "tcp://", 6) == 0)
        rest = node + 6;
    else if (strncmp(node, "http://", 7) == 0)
        rest = node + 7;
    else if (strncmp(node, "https://", 8) == 0)
        rest = node + 8, scheme = "https://";
    else if (strstr(node, "://")) {
        wicas_errf(err, errlen, "node URL '%s': unsupported scheme (want tcp:// or http://)", node);
        return -1;
    }
    if (!*rest) {
        wicas_errf(err, errlen, "node URL '%s': missing host", node);
        return -1;
    }
    for (const char *p = rest; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '?' || *p == '#' || *p == '"') {
            wicas_errf(err, errlen, "node URL '%s': invalid character", node);
            return -1;
        }
    int n = snprintf(out, cap, "%s%s", scheme, rest);
    if (n < 0 || (size_t)n >= cap) {
        wicas_errf(err, errlen, "node URL too long");
        return -1;
    }
    while (n > 0 && out[n - 1] == '/')
        out[--n] = '\0';
    return 0;
}

/* ---- HTTP GET ---------------------------------------------------------------- */
typedef struct {
    char *data;
    size_t len, cap;
    bool too_big;
} rpc_body;

static size_t rpc_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
    rpc_body *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n + 1 > RPC_MAX_BODY) {
        b->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *nd = realloc(b->data, nc);
        if (!nd) return 0;
        b->data = nd;
        b->cap = nc;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

int wicas_rpc_get(const char *node, const char *endpoint, const char *query, cJSON **result, char *err,
                  size_t errlen) {
    if (result) *result = NULL;
    if (!endpoint || !result) {
        wicas_errf(err, errlen, "rpc: endpoint and result are required");
        return -1;
    }
    char base[512];
    if (rpc_base_url(node, base, sizeof base, err, errlen) != 0) return -1;
    size_t ulen = strlen(base) + strlen(endpoint) + (query ? strlen(query) : 0) + 3;
    char *url = malloc(ulen);
    if (!url) {
        wicas_errf(err, errlen, "rpc: out of memory");
        return -1;
    }
    snprintf(url, ulen, "%s/%s%s%s", base, endpoint, query && *query ? "?" : "",
             query && *query ? query : "");

    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    if (!c) {
        free(url);
        wicas_errf(err, errlen, "rpc: curl_easy_init failed");
        return -1;
    }
    rpc_body body = {0};
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rpc_write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);

    int ret = -1;
    if (rc != CURLE_OK) {
        if (body.too_big)
            wicas_errf(err, errlen, "rpc %s: response larger than %u bytes", url, RPC_MAX_BODY);
        else
            wicas_errf(err, errlen, "rpc %s: %s", url, cerr[0] ? cerr : curl_easy_strerror(rc));
        goto out;
    }
    cJSON *doc = body.data ? cJSON_Parse(body.data) : NULL;
    if (!doc) {
        wicas_errf(err, errlen, "rpc %s: HTTP %ld with a body that is not JSON", url, status);
        goto out;
    }
    cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
    if (e && !cJSON_IsNull(e)) {
        cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        cJSON *data = cJSON_GetObjectItemCaseSensitive(e, "data");
        wicas_errf(err, errlen, "rpc %s: %s%s%s", endpoint, cJSON_IsString(msg) ? msg->valuestring : "error",
                   cJSON_IsString(data) ? ": " : "", cJSON_IsString(data) ? data->valuestring : "");
        cJSON_Delete(doc);
        goto out;
    }
    cJSON *r = cJSON_DetachItemFromObjectCaseSensitive(doc, "result");
    cJSON_Delete(doc);
    if (!r) {
        wicas_errf(err, errlen, "rpc %s: HTTP %ld, JSON-RPC answer has no result", url, status);
        goto out;
    }
    *result = r;
    ret = 0;
out:
    free(body.data);
    free(url);
    return ret;
}

/* "0x" + upper-case hex of data, NUL-terminated, malloc'd. */
static char *rpc_hex_param(const uint8_t *data, size_t len) {
    char *s = malloc(2 * len + 3);
    if (!s) return NULL;
    s[0] = '0', s[1] = 'x';
    wicas_hex_encode(data, len, s + 2);
    return s;
}

int wicas_rpc_status(const char *node, cJSON **result, char *err, size_t errlen) {
    return wicas_rpc_get(node, "status", NULL, result, err, errlen);
}

static void rpc_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long rpc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wicas_rpc_broadcast_tx(const char *node, const uint8_t *tx, size_t len, bool wait, cJSON **result,
                           char *err, size_t errlen) {
    if (result) *result = NULL;
    if (!tx || len == 0 || !result) {
        wicas_errf(err, errlen, "broadcast_tx: empty transaction");
        return -1;
    }
    char *hex = rpc_hex_param(tx, len);
    if (!hex) {
        wicas_errf(err, errlen, "broadcast_tx: out of memory");
        return -1;
    }
    size_t qlen = strlen(hex) + 8;
    char *q = malloc(qlen);
    if (!q) {
        free(hex);
        wicas_errf(err, errlen, "broadcast_tx: out of memory");
        return -1;
    }
    snprintf(q, qlen, "tx=%s", hex);
    free(hex);
    cJSON *br = NULL;
    int rc = wicas_rpc_get(node, "broadcast_tx_sync", q, &br, err, errlen);
    free(q);
    if (rc != 0) return -1;
    cJSON *code = cJSON_GetObjectItemCaseSensitive(br, "code");
    if (!wait || !cJSON_IsNumber(code) || code->valuedouble != 0) {
        *result = br;
        return 0;
    }
    /* Wait: poll /tx?hash=0x<sha256(tx)> until indexed. */
    uint8_t h[WICAS_SHA256_LEN];
    wicas_sha256(tx, len, h);
    char hq[2 * WICAS_SHA256_LEN + 16];
    char hh[2 * WICAS_SHA256_LEN + 1];
    wicas_hex_encode(h, sizeof h, hh);
    for (char *p = hh; *p; p++)
        if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
    snprintf(hq, sizeof hq, "hash=0x%s", hh);
    /* a block that runs inference can take a while on a busy machine */
    long wait_ms = WICAS_RPC_WAIT_TIMEOUT_MS;
    const char *env = getenv("WICAS_WAIT_TIMEOUT_MS");
    if (env && atol(env) > 0) wait_ms = atol(env);
    long deadline = rpc_now_ms() + wait_ms;
    char lasterr[256] = "";
    for (;;) {
        cJSON *tr = NULL;
        if (wicas_rpc_get(node, "tx", hq, &tr, lasterr, sizeof lasterr) == 0) {
            cJSON_Delete(br);
            *result = tr;
            return 0;
        }
        if (rpc_now_ms() > deadline) break;
        rpc_sleep_ms(200);
    }
    cJSON_Delete(br);
    wicas_errf(err, errlen,
               "broadcast_tx: tx %s accepted by CheckTx but not in a block after %ld ms (%s; set "
               "WICAS_WAIT_TIMEOUT_MS to wait longer)",
               hh, wait_ms, lasterr);
    return -1;
}

int wicas_rpc_abci_query(const char *node, const char *path, const uint8_t *data, size_t len, int64_t height,
                         bool prove, cJSON **result, char *err, size_t errlen) {
    if (result) *result = NULL;
    if (!path || !*path || !result) {
        wicas_errf(err, errlen, "abci_query: empty path");
        return -1;
    }
    if (height < 0) {
        wicas_errf(err, errlen, "abci_query: negative height %lld", (long long)height);
        return -1;
    }
    /* The path travels as a JSON string in the URI: percent-encode everything
     * that is not unreserved so '/' and '.' pass and nothing else surprises. */
    size_t plen = strlen(path);
    char *pe = malloc(3 * plen + 1);
    if (!pe) {
        wicas_errf(err, errlen, "abci_query: out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < plen; i++) {
        unsigned char ch = (unsigned char)path[i];
        if (ch < 0x20 || ch == '"' || ch == '\\' || ch >= 0x7f) {
            free(pe);
            wicas_errf(err, errlen, "abci_query: path contains a quote, backslash or control character");
            return -1;
        }
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '/' ||
            ch == '.' || ch == '_' || ch == '-' || ch == '~')
            pe[k++] = (char)ch;
        else
            k += (size_t)sprintf(pe + k, "%%%02X", ch);
    }
    pe[k] = '\0';
    char *hex = rpc_hex_param(data ? data : (const uint8_t *)"", data ? len : 0);
    size_t qlen = k + (hex ? strlen(hex) : 0) + 96;
    char *q = hex ? malloc(qlen) : NULL;
    if (!q) {
        free(pe);
        free(hex);
        wicas_errf(err, errlen, "abci_query: out of memory");
        return -1;
    }
    snprintf(q, qlen, "path=%%22%s%%22&data=%s&height=%lld&prove=%s", pe, hex, (long long)height,
             prove ? "true" : "false");
    free(pe);
    free(hex);
    int rc = wicas_rpc_get(node, "abci_query", q, result, err, errlen);
    free(q);
    return rc;
}

/*
 * server.c — the ABCI socket server: listen on TCP or a Unix socket, one
 * thread per connection (CometBFT opens four), read varint-framed Requests,
 * answer each with a Response in order.
 *
 * Why it is shaped so: CometBFT's socket client pipelines requests and
 * expects responses in the same order, so a single reader/writer thread per
 * connection is the simplest correct design. Every application call goes
 * through wicas_abci_dispatch under one server-wide mutex, which gives the
 * application the same serialised view CometBFT's in-process client gives —
 * except Query when the application sets concurrent_query (the chain does):
 * then the query connection's thread runs it without the mutex, so a slow
 * smart query or Simulate never delays FinalizeBlock/Commit on the consensus
 * connection or CheckTx on the mempool connection. CometBFT multiplexes all
 * RPC queries (abci_query, and through it Simulate) onto its ONE query
 * connection and expects answers in order, so from CometBFT queries are
 * served one at a time; the application bounds how many run at once over
 * all connections (the chain: CHAIN_QUERY_WORKERS slots, extra ones wait).
 * Responses are written as soon as they are built (a Flush is answered after
 * everything before it, trivially). A malformed frame is answered with a
 * Response.exception and the connection is closed; the other connections
 * carry on. Shutdown uses shutdown(2) on every socket to wake the blocked
 * reads, then joins the threads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "abci.h"
#include "common.h"

#define LOGMOD "abci"

typedef struct conn {
    struct conn *next;
    struct wicas_abci_server *srv;
    int fd;
    int id;
    pthread_t thread;
    atomic_bool done;
} conn;

struct wicas_abci_server {
    wicas_abci_app app;
    pthread_mutex_t app_mu;  /* serialises application calls */
    pthread_mutex_t list_mu; /* protects conns, n_open */
    int listen_fd;
    char address[300];
    char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    pthread_t accept_thread;
    bool started;
    atomic_bool stopping;
    atomic_bool app_failed;
    conn *conns;
    int n_open;
    int next_id;
};

/* ---- I/O helpers ------------------------------------------------------------------ */
static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Buffered reader over one socket. */
typedef struct {
    int fd;
    uint8_t buf[64 * 1024];
    size_t pos, len;
} reader;

/* Returns 1 byte read, 0 clean EOF, -1 error. */
static int rd_fill(reader *r) {
    for (;;) {
        ssize_t n = recv(r->fd, r->buf, sizeof r->buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        r->pos = 0;
        r->len = (size_t)n;
        return n > 0;
    }
}

/* Reads one frame. Returns 1 with *msg (malloc'd) / *len, 0 on clean EOF
 * before a frame, or a negative wicas_abci_status. The buffer grows as data
 * arrives, so an announced length near the cap costs memory only if the peer
 * really sends that much. */
static int read_frame(reader *r, uint8_t **msg, size_t *len) {
    *msg = NULL;
    uint8_t vb[WICAS_ABCI_VARINT_MAX];
    size_t vn = 0;
    uint64_t flen = 0;
    for (;;) {
        if (r->pos == r->len) {
            int f = rd_fill(r);
            if (f < 0) return WICAS_ABCI_ERR_IO;
            if (f == 0) return vn == 0 ? 0 : WICAS_ABCI_ERR_TRUNCATED;
        }
        vb[vn++] = r->buf[r->pos++];
        int g = wicas_abci_varint_get(vb, vn, &flen);
        if (g > 0) break;
        if (g != WICAS_ABCI_ERR_TRUNCATED || vn == WICAS_ABCI_VARINT_MAX) return WICAS_ABCI_ERR_FRAME;
    }
    if (flen > WICAS_ABCI_MAX_FRAME) return WICAS_ABCI_ERR_FRAME;
    size_t cap = flen < 65536 ? (size_t)flen : 65536, have = 0;
    uint8_t *m = malloc(cap ? cap : 1);
    if (!m) return WICAS_ABCI_ERR_NOMEM;
    while (have < flen) {
        if (r->pos == r->len) {
            int f = rd_fill(r);
            if (f <= 0) {
                free(m);
                return f < 0 ? WICAS_ABCI_ERR_IO : WICAS_ABCI_ERR_TRUNCATED;
            }
        }
        size_t take = r->len - r->pos;
        if (take > flen - have) take = (size_t)flen - have;
        if (have + take > cap) {
            size_t nc = cap;
            while (nc < have + take)
                nc *= 2;
            if (nc > flen) nc = (size_t)flen;
            uint8_t *nm = realloc(m, nc);
            if (!nm) {
                free(m);
                return WICAS_ABCI_ERR_NOMEM;
            }
            m = nm;
            cap = nc;
        }
        memcpy(m + have, r->buf + r->pos, take);
        have += take;
        r->pos += take;
    }
    *msg = m;
    *len = (size_t)flen;
    return 1;
}

/* Length prefix and message in one sendmsg (one syscall per response in the
 * common case); partial writes are finished with write_all. */
static int write_frame(int fd, const uint8_t *msg, size_t len) {
    uint8_t vb[WICAS_ABCI_VARINT_MAX];
    size_t vn = wicas_abci_varint_put(len, vb);
    struct iovec iov[2] = {{vb, vn}, {(void *)msg, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t w;
    do
        w = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w < 0) return -1;
    size_t done = (size_t)w;
    if (done < vn) {
        if (write_all(fd, vb + done, vn - done) != 0) return -1;
        done = vn;
    }
    return write_all(fd, msg + (done - vn), len - (done - vn));
}

/* An exception Response: field 1 (exception, length-delimited) holding a
 * ResponseException whose field 1 (error, string) is the text. Encoded by
 * hand because it is sent when framing itself failed. */
static void send_exception(int fd, const char *text) {
    size_t tl = strlen(text);
    if (tl > 1000) tl = 1000;
    uint8_t inner[1 + WICAS_ABCI_VARINT_MAX + 1000];
    size_t n = 0;
    inner[n++] = 0x0a;
    n += wicas_abci_varint_put(tl, inner + n);
    memcpy(inner + n, text, tl);
    n += tl;
    uint8_t outer[1 + WICAS_ABCI_VARINT_MAX + sizeof inner];
    size_t m = 0;
    outer[m++] = 0x0a;
    m += wicas_abci_varint_put(n, outer + m);
    memcpy(outer + m, inner, n);
    m += n;
    (void)write_frame(fd, outer, m);
}

/* ---- connection thread --------------------------------------------------------------- */
static void *conn_main(void *arg) {
    conn *c = arg;
    wicas_abci_server *s = c->srv;
    reader *r = malloc(sizeof *r);
    if (!r) goto out;
    r->fd = c->fd;
    r->pos = r->len = 0;
    WICAS_DEBUG(LOGMOD, "connection %d opened", c->id);
    for (;;) {
        uint8_t *msg = NULL;
        size_t len = 0;
        int f = read_frame(r, &msg, &len);
        if (f == 0) break;
        if (f < 0) {
            if (!atomic_load(&s->stopping)) {
                if (f == WICAS_ABCI_ERR_IO || f == WICAS_ABCI_ERR_TRUNCATED) {
                    WICAS_DEBUG(LOGMOD, "connection %d: %s", c->id, wicas_abci_strerror(f));
                } else {
                    char t[160];
                    snprintf(t, sizeof t, "abci connection %d: %s", c->id, wicas_abci_strerror(f));
                    WICAS_WARN(LOGMOD, "%s; closing it", t);
                    send_exception(c->fd, t);
                }
            }
            break;
        }
        uint8_t *out = NULL;
        size_t out_len = 0;
        bool flush = false;
        int st = wicas_abci_dispatch(&s->app, &s->app_mu, msg, len, &out, &out_len, &flush);
        free(msg);
        int w = out ? write_frame(c->fd, out, out_len) : -1;
        free(out);
        if (st == WICAS_ABCI_ERR_APP) {
            atomic_store(&s->app_failed, true);
            WICAS_ERROR(LOGMOD, "connection %d: the application failed; answered with an exception", c->id);
        }
        if (st == WICAS_ABCI_ERR_DECODE || st == WICAS_ABCI_ERR_NOMEM) {
            WICAS_WARN(LOGMOD, "connection %d: %s; closing it", c->id, wicas_abci_strerror(st));
            break;
        }
        if (w != 0) break;
    }
    free(r);
out:
    shutdown(c->fd, SHUT_RDWR);
    WICAS_DEBUG(LOGMOD, "connection %d closed", c->id);
    pthread_mutex_lock(&s->list_mu);
    s->n_open--;
    pthread_mutex_unlock(&s->list_mu);
    atomic_store(&c->done, true);
    return NULL;
}

/* Joins and frees finished connections (called by the accept loop). */
static void reap(wicas_abci_server *s, bool all) {
    pthread_mutex_lock(&s->list_mu);
    conn **pp = &s->conns;
    conn *dead = NULL;
    while (*pp) {
        conn *c = *pp;
        if (all || atomic_load(&c->done)) {
            *pp = c->next;
            c->next = dead;
            dead = c;
        } else {
            pp = &c->next;
        }
    }
    pthread_mutex_unlock(&s->list_mu);
    while (dead) {
        conn *n = dead->next;
        pthread_join(dead->thread, NULL);
        close(dead->fd);
        free(dead);
        dead = n;
    }
}

static void *accept_main(void *arg) {
    wicas_abci_server *s = arg;
    while (!atomic_load(&s->stopping)) {
        struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
        int pr = poll(&p, 1, 200);
        reap(s, false);
        if (pr <= 0) continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
            if (atomic_load(&s->stopping)) break;
            WICAS_WARN(LOGMOD, "accept on %s: %s", s->address, strerror(errno));
            continue;
        }
        if (!s->unix_path[0]) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->srv = s;
        c->fd = fd;
        pthread_mutex_lock(&s->list_mu);
        c->id = ++s->next_id;
        if (atomic_load(&s->stopping) || pthread_create(&c->thread, NULL, conn_main, c) != 0) {
            pthread_mutex_unlock(&s->list_mu);
            close(fd);
            free(c);
            continue;
        }
        s->n_open++;
        c->next = s->conns;
        s->conns = c;
        pthread_mutex_unlock(&s->list_mu);
    }
    return NULL;
}

/* ---- public API ----------------------------------------------------------------------- */
wicas_abci_server *wicas_abci_server_new(const char *address, const wicas_abci_app *app, char *err,
                                         size_t errlen) {
    if (!address || !app) {
        wicas_errf(err, errlen, "abci server: address and app are required");
        return NULL;
    }
    wicas_abci_server *s = calloc(1, sizeof *s);
    if (!s) {
        wicas_errf(err, errlen, "abci server: out of memory");
        return NULL;
    }
    s->app = *app;
    s->listen_fd = -1;
    pthread_mutex_init(&s->app_mu, NULL);
    pthread_mutex_init(&s->list_mu, NULL);

    if (strncmp(address, "unix://", 7) == 0) {
        const char *path = address + 7;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (!*path || strlen(path) >= sizeof sa.sun_path) {
            wicas_errf(err, errlen, "abci server: unix socket path '%s' is empty or too long", path);
            goto fail;
        }
        strcpy(sa.sun_path, path);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
        s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
            listen(s->listen_fd, 16) != 0) {
            wicas_errf(err, errlen, "abci server: cannot listen on %s: %s", address, strerror(errno));
            goto fail;
        }
        strcpy(s->unix_path, path);
        snprintf(s->address, sizeof s->address, "unix://%s", path);
        return s;
    }
    const char *hp = address;
    if (strncmp(hp, "tcp://", 6) == 0)
        hp += 6;
    else if (strstr(hp, "://")) {
        wicas_errf(err, errlen, "abci server: address '%s': want tcp://HOST:PORT or unix://PATH", address);
        goto fail;
    }
    const char *colon = strrchr(hp, ':');
    if (!colon || colon == hp || (size_t)(colon - hp) >= 256) {
        wicas_errf(err, errlen, "abci server: address '%s': want tcp://HOST:PORT", address);
        goto fail;
    }
    char host[256];
    memcpy(host, hp, (size_t)(colon - hp));
    host[colon - hp] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535) {
        wicas_errf(err, errlen, "abci server: address '%s': bad port", address);
        goto fail;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        wicas_errf(err, errlen, "abci server: address '%s': host must be an IPv4 address", address);
        goto fail;
    }
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s->listen_fd >= 0) setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(s->listen_fd, 16) != 0) {
        wicas_errf(err, errlen, "abci server: cannot listen on %s: %s", address, strerror(errno));
        goto fail;
    }
    socklen_t sl = sizeof sa;
    getsockname(s->listen_fd, (struct sockaddr *)&sa, &sl);
    snprintf(s->address, sizeof s->address, "tcp://%s:%u", host, (unsigned)ntohs(sa.sin_port));
    return s;
fail:
    if (s->listen_fd >= 0) close(s->listen_fd);
    pthread_mutex_destroy(&s->app_mu);
    pthread_mutex_destroy(&s->list_mu);
    free(s);
    return NULL;
}

const char *wicas_abci_server_address(const wicas_abci_server *srv) {
    return srv ? srv->address : "";
}

int wicas_abci_server_start(wicas_abci_server *srv) {
    if (!srv || srv->started) return WICAS_ABCI_ERR_ARG;
    if (pthread_create(&srv->accept_thread, NULL, accept_main, srv) != 0) return WICAS_ABCI_ERR_IO;
    srv->started = true;
    WICAS_INFO(LOGMOD, "ABCI server listening on %s", srv->address);
    return 0;
}

int wicas_abci_server_connections(wicas_abci_server *srv) {
    pthread_mutex_lock(&srv->list_mu);
    int n = srv->n_open;
    pthread_mutex_unlock(&srv->list_mu);
    return n;
}

bool wicas_abci_server_app_failed(wicas_abci_server *srv) {
    return srv && atomic_load(&srv->app_failed);
}

void wicas_abci_server_stop(wicas_abci_server *srv) {
    if (!srv || atomic_exchange(&srv->stopping, true)) return;
    if (srv->started) pthread_join(srv->accept_thread, NULL);
    pthread_mutex_lock(&srv->list_mu);
    for (conn *c = srv->conns; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR);
    pthread_mutex_unlock(&srv->list_mu);
    reap(srv, true);
    if (srv->listen_fd >= 0) close(srv->listen_fd);
    srv->listen_fd = -1;
    if (srv->unix_path[0]) unlink(srv->unix_path);
}

void wicas_abci_server_free(wicas_abci_server *srv) {
    if (!srv) return;
    wicas_abci_server_stop(srv);
    pthread_mutex_destroy(&srv->app_mu);
    pthread_mutex_destroy(&srv->list_mu);
    free(srv);
}

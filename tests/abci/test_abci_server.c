/*
 * test_abci_server.c — the socket server with hand-made clients: pipelined
 * requests answered in order over TCP and a Unix socket, and hostile input
 * (random bytes, an oversized length, a truncated frame, an unknown request)
 * that must get an exception or a closed connection, never a crash, while a
 * well-behaved connection opened before keeps working.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "abci.h"
#include "kvapp.h"
#include "tendermint/abci/types.pb-c.h"

static int connect_addr(const char *address) {
    int fd;
    if (strncmp(address, "unix://", 7) == 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", address + 7);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
    } else {
        const char *c = strrchr(address, ':');
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(c + 1))};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_raw(int fd, const void *p, size_t n) {
    assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void send_request(int fd, Tendermint__Abci__Request *rq) {
    size_t n = tendermint__abci__request__get_packed_size(rq);
    uint8_t *buf = malloc(n + 10);
    size_t h = wicas_abci_varint_put(n, buf);
    tendermint__abci__request__pack(rq, buf + h);
    send_raw(fd, buf, n + h);
    free(buf);
}

static int read_exact(int fd, uint8_t *p, size_t n) {
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Reads one Response, or NULL on EOF/timeout. */
static Tendermint__Abci__Response *read_response(int fd) {
    uint8_t vb[10];
    size_t vn = 0;
    uint64_t len = 0;
    for (;;) {
        if (vn == 10 || read_exact(fd, &vb[vn], 1) != 0) return NULL;
        vn++;
        int g = wicas_abci_varint_get(vb, vn, &len);
        if (g > 0) break;
        if (g != WICAS_ABCI_ERR_TRUNCATED) return NULL;
    }
    uint8_t *buf = malloc(len + 1);
    if (read_exact(fd, buf, len) != 0) {
        free(buf);
        return NULL;
    }
    Tendermint__Abci__Response *r = tendermint__abci__response__unpack(NULL, len, buf);
    free(buf);
    return r;
}

/* Is the connection closed by the server (EOF) within the timeout? */
static bool closed_by_peer(int fd) {
    uint8_t b[256];
    for (;;) {
        ssize_t r = recv(fd, b, sizeof b, 0);
        if (r == 0) return true;
        if (r < 0) return errno == ECONNRESET;
    }
}

static void echo_roundtrip(int fd, const char *msg) {
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestEcho e = TENDERMINT__ABCI__REQUEST_ECHO__INIT;
    e.message = (char *)msg;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_ECHO;
    rq.echo = &e;
    send_request(fd, &rq);
    Tendermint__Abci__Response *r = read_response(fd);
    assert_non_null(r);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_ECHO);
    assert_string_equal(r->echo->message, msg);
    tendermint__abci__response__free_unpacked(r, NULL);
}

/* Pipelines CheckTx, CheckTx, Info, Flush and expects the answers in order. */
static void pipeline(int fd, kvapp *kv) {
    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestCheckTx ct = TENDERMINT__ABCI__REQUEST_CHECK_TX__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_CHECK_TX;
    rq.check_tx = &ct;
    ct.tx = (ProtobufCBinaryData){3, (uint8_t *)"k=v"};
    send_request(fd, &rq);
    ct.tx = (ProtobufCBinaryData){3, (uint8_t *)"kv!"};
    send_request(fd, &rq);
    Tendermint__Abci__RequestInfo in = TENDERMINT__ABCI__REQUEST_INFO__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_INFO;
    rq.info = &in;
    send_request(fd, &rq);
    Tendermint__Abci__RequestFlush fl = TENDERMINT__ABCI__REQUEST_FLUSH__INIT;
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_FLUSH;
    rq.flush = &fl;
    send_request(fd, &rq);
    int expect[] = {TENDERMINT__ABCI__RESPONSE__VALUE_CHECK_TX, TENDERMINT__ABCI__RESPONSE__VALUE_CHECK_TX,
                    TENDERMINT__ABCI__RESPONSE__VALUE_INFO, TENDERMINT__ABCI__RESPONSE__VALUE_FLUSH};
    for (int i = 0; i < 4; i++) {
        Tendermint__Abci__Response *r = read_response(fd);
        assert_non_null(r);
        assert_int_equal(r->value_case, expect[i]);
        if (i == 0) assert_int_equal(r->check_tx->code, 0);
        if (i == 1) assert_int_equal(r->check_tx->code, 1);
        if (i == 2) assert_string_equal(r->info->data, "kvapp");
        tendermint__abci__response__free_unpacked(r, NULL);
    }
    (void)kv;
}

static void run_server_suite(const char *address) {
    kvapp *kv = malloc(sizeof *kv);
    wicas_abci_app app;
    kvapp_init(kv, &app);
    char err[256];
    wicas_abci_server *srv = wicas_abci_server_new(address, &app, err, sizeof err);
    assert_non_null(srv);
    assert_int_equal(wicas_abci_server_start(srv), 0);
    const char *addr = wicas_abci_server_address(srv);

    int good = connect_addr(addr);
    assert_true(good >= 0);
    echo_roundtrip(good, "first");
    pipeline(good, kv);

    /* An oversized length: exception then close. */
    int bad = connect_addr(addr);
    uint8_t big[10];
    size_t bn = wicas_abci_varint_put(WICAS_ABCI_MAX_FRAME + 1, big);
    send_raw(bad, big, bn);
    Tendermint__Abci__Response *r = read_response(bad);
    assert_non_null(r);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION);
    assert_non_null(strstr(r->exception->error, "cap"));
    tendermint__abci__response__free_unpacked(r, NULL);
    assert_true(closed_by_peer(bad));
    close(bad);

    /* A varint that never ends. */
    bad = connect_addr(addr);
    uint8_t ff[12];
    memset(ff, 0xff, sizeof ff);
    send_raw(bad, ff, sizeof ff);
    r = read_response(bad);
    assert_non_null(r);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION);
    tendermint__abci__response__free_unpacked(r, NULL);
    close(bad);

    /* A well-framed request of an unknown kind (field 9, DeliverTx of old). */
    bad = connect_addr(addr);
    const uint8_t unk[] = {0x02, 0x4a, 0x00};
    send_raw(bad, unk, sizeof unk);
    r = read_response(bad);
    assert_non_null(r);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_EXCEPTION);
    tendermint__abci__response__free_unpacked(r, NULL);
    assert_true(closed_by_peer(bad));
    close(bad);

    /* A truncated frame (announces 100 bytes, sends 3, hangs up). */
    bad = connect_addr(addr);
    const uint8_t tr[] = {100, 1, 2, 3};
    send_raw(bad, tr, sizeof tr);
    close(bad);

    /* Random bytes, many connections: whatever they parse as, no crash. */
    srand(12345);
    for (int i = 0; i < 40; i++) {
        bad = connect_addr(addr);
        assert_true(bad >= 0);
        uint8_t junk[600];
        size_t n = 1 + (size_t)(rand() % (int)sizeof junk);
        for (size_t k = 0; k < n; k++)
            junk[k] = (uint8_t)rand();
        if (i % 2) junk[0] = (uint8_t)(n - 1 < 127 ? n - 1 : 127); /* plausible length */
        send_raw(bad, junk, n);
        shutdown(bad, SHUT_WR);
        while (1) { /* drain until the server closes */
            uint8_t b[512];
            ssize_t k = recv(bad, b, sizeof b, 0);
            if (k <= 0) break;
        }
        close(bad);
    }

    /* The first connection is unaffected and state is intact. */
    echo_roundtrip(good, "still here");
    pipeline(good, kv);
    assert_int_equal(kv->n_check, 4);
    close(good);

    /* Stop while a client is connected and idle: must return. */
    int idle = connect_addr(addr);
    echo_roundtrip(idle, "idle");
    wicas_abci_server_stop(srv);
    assert_true(closed_by_peer(idle));
    close(idle);
    wicas_abci_server_free(srv);
    free(kv);
}

static void test_tcp(void **state) {
    (void)state;
    run_server_suite("tcp://127.0.0.1:0");
}

static void test_unix(void **state) {
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/wicas-abci-test-%d.sock", (int)getpid());
    char addr[80];
    snprintf(addr, sizeof addr, "unix://%s", path);
    run_server_suite(addr);
    assert_int_equal(access(path, F_OK), -1); /* socket file removed on stop */
}

static void test_bad_addresses(void **state) {
    (void)state;
    kvapp kv;
    wicas_abci_app app;
    kvapp_init(&kv, &app);
    char err[256];
    const char *bad[] = {"tcp://127.0.0.1", "tcp://127.0.0.1:99999",
                         "http://x:1",      "tcp://not-an-ip:5",
                         "unix://",         "tcp://:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_null(wicas_abci_server_new(bad[i], &app, err, sizeof err));
        assert_true(strlen(err) > 0);
    }
    /* A port in use is a clear error too. */
    wicas_abci_server *a = wicas_abci_server_new("tcp://127.0.0.1:0", &app, err, sizeof err);
    assert_non_null(a);
    assert_null(wicas_abci_server_new(wicas_abci_server_address(a), &app, err, sizeof err));
    assert_non_null(strstr(err, "cannot listen"));
    wicas_abci_server_free(a);
}

/* ---- queries outside the application mutex (concurrent_query) ---------------------- */
static pthread_mutex_t gq_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gq_cv = PTHREAD_COND_INITIALIZER;
static bool gq_entered, gq_open, gq_left;
static int gq_finalized;

static int gq_query(void *ctx, const wicas_abci_query_req *req, wicas_abci_query_resp *resp, char *err,
                    size_t errlen) {
    (void)ctx, (void)req, (void)err, (void)errlen;
    pthread_mutex_lock(&gq_mu);
    gq_entered = true;
    pthread_cond_broadcast(&gq_cv);
    while (!gq_open)
        pthread_cond_wait(&gq_cv, &gq_mu);
    gq_left = true;
    resp->height = gq_finalized;
    pthread_mutex_unlock(&gq_mu);
    return 0;
}

static int gq_finalize(void *ctx, const wicas_abci_block_req *req, wicas_abci_finalize_resp *resp, char *err,
                       size_t errlen) {
    (void)ctx, (void)req, (void)resp, (void)err, (void)errlen;
    pthread_mutex_lock(&gq_mu);
    gq_finalized++;
    pthread_mutex_unlock(&gq_mu);
    return 0;
}

/* A query parked in the application on one connection does not delay
 * FinalizeBlock (or CheckTx) on the others when the application declares
 * concurrent_query. */
static void test_concurrent_query(void **state) {
    (void)state;
    wicas_abci_app app;
    memset(&app, 0, sizeof app);
    app.query = gq_query;
    app.finalize_block = gq_finalize;
    app.concurrent_query = true;
    char err[256];
    wicas_abci_server *srv = wicas_abci_server_new("tcp://127.0.0.1:0", &app, err, sizeof err);
    assert_non_null(srv);
    assert_int_equal(wicas_abci_server_start(srv), 0);
    int qfd = connect_addr(wicas_abci_server_address(srv));
    int cfd = connect_addr(wicas_abci_server_address(srv));
    assert_true(qfd >= 0 && cfd >= 0);

    Tendermint__Abci__Request rq = TENDERMINT__ABCI__REQUEST__INIT;
    Tendermint__Abci__RequestQuery q = TENDERMINT__ABCI__REQUEST_QUERY__INIT;
    q.path = (char *)"/slow";
    rq.value_case = TENDERMINT__ABCI__REQUEST__VALUE_QUERY;
    rq.query = &q;
    send_request(qfd, &rq);
    pthread_mutex_lock(&gq_mu);
    while (!gq_entered)
        pthread_cond_wait(&gq_cv, &gq_mu);
    pthread_mutex_unlock(&gq_mu);

    /* the consensus connection is answered while the query is parked (the
     * socket's 5 s receive timeout makes a wait a failure, not a hang) */
    for (int h = 1; h <= 3; h++) {
        Tendermint__Abci__Request fr = TENDERMINT__ABCI__REQUEST__INIT;
        Tendermint__Abci__RequestFinalizeBlock fb = TENDERMINT__ABCI__REQUEST_FINALIZE_BLOCK__INIT;
        fb.height = h;
        fr.value_case = TENDERMINT__ABCI__REQUEST__VALUE_FINALIZE_BLOCK;
        fr.finalize_block = &fb;
        send_request(cfd, &fr);
        Tendermint__Abci__Response *r = read_response(cfd);
        assert_non_null(r);
        assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_FINALIZE_BLOCK);
        tendermint__abci__response__free_unpacked(r, NULL);
    }
    echo_roundtrip(cfd, "still answering");
    pthread_mutex_lock(&gq_mu);
    bool parked = !gq_left;
    int finalized = gq_finalized;
    gq_open = true;
    pthread_cond_broadcast(&gq_cv);
    pthread_mutex_unlock(&gq_mu);
    assert_true(parked);
    assert_int_equal(finalized, 3);

    Tendermint__Abci__Response *r = read_response(qfd);
    assert_non_null(r);
    assert_int_equal(r->value_case, TENDERMINT__ABCI__RESPONSE__VALUE_QUERY);
    assert_int_equal(r->query->height, 3);
    tendermint__abci__response__free_unpacked(r, NULL);
    close(qfd);
    close(cfd);
    wicas_abci_server_free(srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_concurrent_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * node_run.c — the body of `wicasd start` and `wicasd abci`: open the chain
 * state under HOME/data/wicas, serve it over ABCI, optionally spawn and
 * supervise cometbft, and shut down in order on SIGINT/SIGTERM.
 *
 * Why it is shaped so: SIGINT/SIGTERM are blocked in every thread and
 * collected by the main thread with sigtimedwait, so no signal handler runs
 * inside the application; the same loop polls the child and the server's
 * health every 200 ms. Shutdown order matters: cometbft first (so it stops
 * sending blocks and flushes its stores), then the ABCI server (no callback
 * runs after it returns), then the chain (closing LMDB; an uncommitted block
 * is discarded, which is exactly what a restart replays).
 *
 * Exit status: 0 after a clean signal-driven shutdown, 1 on any failure
 * (cannot open state or listen, cometbft exited on its own, the application
 * failed), 2 for usage errors (reported by the callers).
 */
#include "node_run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "abci.h"
#include "common.h"
#include "node.h"
#ifdef WICAS_ABCI_HAVE_CHAIN
#include "chain.h"
#endif
#ifdef WICAS_ABCI_HAVE_AI_HOST
#include "ai.h"
#endif

#define LOGMOD "node"

#ifdef WICAS_ABCI_HAVE_CHAIN
static int mkdir_p(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return (mkdir(tmp, 0755) != 0 && errno != EEXIST) ? -1 : 0;
}

/* CometBFT knows debug, info, error (and none): map ours onto it. */
static const char *cometbft_level(void) {
    switch (wicas_log_get_level()) {
    case WICAS_LOG_DEBUG:
        return "debug";
    case WICAS_LOG_INFO:
        return "info";
    default:
        return "error";
    }
}

#endif

int wicas_node_parse_gas_price(const char *s, uint64_t *num, uint64_t *den) {
    uint64_t n = 0, d = 1;
    int int_digits = 0, frac_digits = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++, int_digits++) {
        if (int_digits >= 18) return -1;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, frac_digits++) {
            if (frac_digits >= 18 || int_digits + frac_digits >= 19) return -1;
            n = n * 10 + (uint64_t)(*p - '0');
            d *= 10;
        }
        if (frac_digits == 0) return -1;
    }
    if (int_digits + frac_digits == 0 || strcmp(p, "uwicas") != 0) return -1;
    *num = n;
    *den = d;
    return 0;
}

/* The chain id and initial height of HOME/config/genesis.json, which a
 * state-synced snapshot must match (CometBFT does not send InitChain to a
 * node that state-syncs). Left empty / 0 when unreadable: offers are then
 * refused. JSON integers are read from their text, never through a double. */
static void read_genesis_id(const char *home, char *chain_id, size_t cap, int64_t *initial_height) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config/genesis.json", home);
    chain_id[0] = 0;
    *initial_height = 0;
    size_t len;
    char *txt = (char *)wicas_read_file(path, 256u << 20, &len);
    cJSON *g = txt ? cJSON_ParseWithLength(txt, len) : NULL;
    free(txt);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(g, "chain_id");
    const cJSON *ih = cJSON_GetObjectItemCaseSensitive(g, "initial_height");
    if (cJSON_IsString(id) && strlen(id->valuestring) < cap) snprintf(chain_id, cap, "%s", id->valuestring);
    if (cJSON_IsString(ih)) {
        char *end;
        errno = 0;
        long long v = strtoll(ih->valuestring, &end, 10);
        if (!errno && *end == 0 && end != ih->valuestring && v >= 0) *initial_height = v;
    }
    /* CometBFT writes initial_height as a string; 0 or absent means 1 */
    if (*initial_height == 0) *initial_height = 1;
    cJSON_Delete(g);
}

int wicas_node_run(const wicas_node_run_opts *o) {
#ifndef WICAS_ABCI_HAVE_CHAIN
    (void)o;
    fprintf(stderr, "wicasd: this build has no chain module (src/chain); cannot run a node\n");
    return 1;
#else
    char err[1024] = "";
    char addr[300];
    if (o->abci_address) {
        snprintf(addr, sizeof addr, "%s", o->abci_address);
    } else {
        wicas_node_ports ports = {0};
        if (wicas_node_read_ports(o->home, &ports, err, sizeof err) != 0) {
            fprintf(stderr, "wicasd: %s (run 'wicasd init' first)\n", err);
            return 1;
        }
        if (ports.abci <= 0) {
            fprintf(stderr, "wicasd: no proxy_app port in %s/config/config.toml\n", o->home);
            return 1;
        }
        snprintf(addr, sizeof addr, "tcp://127.0.0.1:%d", ports.abci);
    }
    char data_dir[4096];
    snprintf(data_dir, sizeof data_dir, "%s/data/wicas", o->home);
    if (mkdir_p(data_dir) != 0) {
        fprintf(stderr, "wicasd: cannot create %s: %s\n", data_dir, strerror(errno));
        return 1;
    }

    /* One process per home: an exclusive lock held for the life of the node,
     * taken before the state is opened so a second `start` touches nothing. */
    char lock_path[4200];
    snprintf(lock_path, sizeof lock_path, "%s/wicasd.lock", data_dir);
    int lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0) {
        fprintf(stderr, "wicasd: cannot open %s: %s\n", lock_path, strerror(errno));
        return 1;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "wicasd: another wicasd is already running on %s (lock %s held)\n", o->home,
                lock_path);
        close(lock_fd);
        return 1;
    }

    /* Block the stop signals before any thread exists, so every thread
     * inherits the mask and only sigtimedwait below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    wicas_chain_options copts;
    memset(&copts, 0, sizeof copts);
    copts.min_gas_price_num = o->min_gas_price_num;
    copts.min_gas_price_den = o->min_gas_price_den;
#ifdef WICAS_ABCI_HAVE_AI_HOST
    /* The AI engine host: models indexed by SHA-256 from the models
     * directory. Without it the node still runs, but a block that needs
     * inference fails instead of producing a different answer. */
    char models_dir[4096] = "";
    if (o->models_dir)
        snprintf(models_dir, sizeof models_dir, "%s", o->models_dir);
    else if (getenv("WICAS_MODELS_DIR"))
        snprintf(models_dir, sizeof models_dir, "%s", getenv("WICAS_MODELS_DIR"));
#ifdef WICAS_DEFAULT_MODEL_PATH
    else {
        snprintf(models_dir, sizeof models_dir, "%s", WICAS_DEFAULT_MODEL_PATH);
        char *slash = strrchr(models_dir, '/');
        if (slash) *slash = '\0';
    }
#endif
    wicas_ai_host *ai = NULL;
    if (models_dir[0]) {
        wicas_ai_host_config acfg = {.models_dir = models_dir,
                                     .n_threads = o->ai_threads ? o->ai_threads : 4};
        char aerr[512] = "";
        if (wicas_ai_host_new(&acfg, &ai, aerr, sizeof aerr) != 0) {
            WICAS_WARN(LOGMOD, "no AI engine (models in %s): %s; blocks needing inference will fail",
                       models_dir, aerr);
            ai = NULL;
        } else {
            WICAS_INFO(LOGMOD, "AI engine: models from %s", models_dir);
        }
    }
    copts.ai_host = ai;
    copts.ai_wrong_answer = o->ai_wrong_answer;
    copts.ai_query_max_tokens = o->ai_query_max_tokens;
    if (o->ai_query_max_tokens)
        WICAS_INFO(LOGMOD,
                   "smart queries may run inference of up to %u generated tokens (--ai-query-max-tokens)",
                   o->ai_query_max_tokens);
    if (o->ai_wrong_answer)
        WICAS_WARN(LOGMOD,
                   "--ai-wrong-answer: this validator will report wrong answers to asynchronous AI requests");
    copts.byzantine = o->byzantine;
    if (o->byzantine)
        WICAS_WARN(
            LOGMOD,
            "--byzantine: TEST FAULT INJECTOR ON: this validator misbehaves with vote extensions (mode %d)",
            o->byzantine);
#define AI_FREE() wicas_ai_host_free(ai)
#else
#define AI_FREE() ((void)0)
#endif
    wicas_chain *chain = NULL;
    int rc = wicas_chain_open(data_dir, &copts, &chain, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "wicasd: cannot open the chain state in %s: %s\n", data_dir,
                err[0] ? err : wicas_chain_strerror(rc));
        AI_FREE();
        close(lock_fd);
        return 1;
    }
#ifdef WICAS_ABCI_HAVE_CHECK_MODELS
    /* Every registered model must be here, byte for byte, before this node
     * may execute blocks: refusing to start beats answering differently. */
    rc = wicas_chain_check_models(chain, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "wicasd: %s\n", err[0] ? err : wicas_chain_strerror(rc));
        fprintf(stderr, "wicasd: put the registered model files in %s (or pass --models-dir)\n",
                models_dir[0] ? models_dir : "a models directory");
        wicas_chain_close(chain);
        AI_FREE();
        close(lock_fd);
        return 1;
    }
#endif
    int64_t h = 0;
    uint8_t hash[32];
    char hex[65];
    wicas_chain_info(chain, &h, hash);
    wicas_hex_encode(hash, 32, hex);
    WICAS_INFO(LOGMOD, "chain state %s: height %lld, app hash %s", data_dir, (long long)h, hex);

    wicas_abci_app app;
    wicas_abci_chain_ctx actx;
    wicas_abci_chain_app(&actx, chain, &app);
    actx.snapshot_interval = o->snapshot_interval;
    actx.snapshot_keep = o->snapshot_keep;
    read_genesis_id(o->home, actx.genesis_chain_id, sizeof actx.genesis_chain_id,
                    &actx.genesis_initial_height);
    actx.byzantine_snapshots = o->byzantine_snapshots;
    if (o->byzantine_snapshots)
        WICAS_WARN(
            LOGMOD,
            "--byzantine-snapshots: TEST FAULT INJECTOR ON: this node serves forged snapshots (mode %d)",
            o->byzantine_snapshots);
    if (o->snapshot_interval > 0)
        WICAS_INFO(LOGMOD, "state-sync snapshots every %lld blocks (keeping %u) in %s/snapshots",
                   (long long)o->snapshot_interval, o->snapshot_keep ? o->snapshot_keep : 2, data_dir);
    wicas_abci_server *srv = wicas_abci_server_new(addr, &app, err, sizeof err);
    if (!srv || wicas_abci_server_start(srv) != 0) {
        fprintf(stderr, "wicasd: %s\n", srv ? "cannot start the ABCI server" : err);
        wicas_abci_server_free(srv);
        wicas_chain_close(chain);
        AI_FREE();
        close(lock_fd);
        return 1;
    }

    wicas_node_child *child = NULL;
    char pidfile[4200] = "";
    if (o->with_cometbft) {
        child = wicas_node_cometbft_start(o->home, cometbft_level(), "cometbft", o->cometbft_log, err,
                                          sizeof err);
        if (!child) {
            fprintf(stderr, "wicasd: cannot start cometbft: %s\n", err);
            wicas_abci_server_free(srv);
            wicas_chain_close(chain);
            AI_FREE();
            close(lock_fd);
            return 1;
        }
        WICAS_INFO(LOGMOD, "cometbft started (pid %d, home %s)", (int)wicas_node_child_pid(child), o->home);
        /* Recorded so `devnet stop` can clean up should this process be killed. */
        snprintf(pidfile, sizeof pidfile, "%s/cometbft.pid", o->home);
        FILE *pf = fopen(pidfile, "w");
        if (pf) {
            fprintf(pf, "%d\n", (int)wicas_node_child_pid(child));
            fclose(pf);
        }
    }

    int status = 0;
    for (;;) {
        struct timespec to = {0, 200 * 1000000L};
        int sig = sigtimedwait(&stop, NULL, &to);
        if (sig > 0) {
            WICAS_INFO(LOGMOD, "received %s, shutting down",
                       sig == SIGINT    ? "SIGINT"
                       : sig == SIGTERM ? "SIGTERM"
                                        : "SIGHUP");
            break;
        }
        int cs = 0;
        if (child && wicas_node_child_exited(child, &cs)) {
            WICAS_ERROR(LOGMOD, "cometbft exited on its own (status %d); stopping", cs);
            status = 1;
            break;
        }
        if (wicas_abci_server_app_failed(srv)) {
            WICAS_ERROR(LOGMOD, "the application failed (see above); stopping the node");
            status = 1;
            break;
        }
    }
    if (child) {
        int cs = wicas_node_child_stop(child, 10000);
        WICAS_INFO(LOGMOD, "cometbft stopped (status %d)", cs);
        unlink(pidfile);
    }
    wicas_abci_server_free(srv);
    wicas_chain_restore_free(actx.restore);
    wicas_chain_close(chain);
    AI_FREE();
    WICAS_INFO(LOGMOD, "stopped");
    close(lock_fd);
    return status;
#endif
}

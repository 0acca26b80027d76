/*
 * cmd_devnet.c — `wicasd devnet [init|start|stop|status] --validators N
 * [--home DIR] [--base-port P] [--chain-id ID] [--timeout-commit MS] [--snapshot-interval K]
 * [--account ADDR:COINS]... [--model PATH[:NAME] | --no-model]`:
 * N validators on loopback, each a full `wicasd start` in the background.
 *
 * Layout: DIR/node0 .. DIR/node{N-1}, each a normal node home (so
 * `wicasd start --home DIR/node2` runs one by hand), plus DIR/devnet.json
 * recording N, the chain id and every node's ports. Each node gets its own
 * P2P, RPC and ABCI port: P+10i, P+10i+1, P+10i+2 (P = --base-port, default
 * 26600; 0 = any free ports). Every home gets the SAME genesis.json (node0's
 * genesis with all N validators, power 10 each), and persistent_peers lists
 * the other N-1 nodes.
 *
 * start: creates the homes when DIR/devnet.json is missing, starts every
 * node not already running (pid in DIR/nodeI/wicasd.pid, log in
 * DIR/nodeI/node.log) and waits until every RPC reports a block (60 s).
 * stop: SIGTERM to every node (each stops its cometbft, then its state),
 * SIGKILL after 15 s. status: one line per node.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "common.h"
#include "flags.h"
#include "node.h"
#include "node_setup.h"
#include "rpc.h"

#define MAX_VALIDATORS 32

typedef struct {
    char dir[1024];
    int n;
    char chain_id[64];
    wicas_node_ports ports[MAX_VALIDATORS];
} devnet;

static void usage(FILE *f) {
    fprintf(
        f,
        "Usage: wicasd devnet [init|start|stop|status] [--validators N] [--home DIR]\n"
        "                     [--base-port P] [--chain-id ID] [--timeout-commit MS] [--account "
        "ADDR:COINS]...\n\n"
        "  init     create N validator homes sharing one genesis (no start)\n"
        "  start    (default) create the homes if needed and start every node in the background\n"
        "  stop     stop every node (SIGTERM, then SIGKILL after 15 s)\n"
        "  status   height and app hash of every node\n"
        "  --validators N      number of validators (default 1, at most %d)\n"
        "  --home DIR          devnet directory (default ./devnet)\n"
        "  --base-port P       node i uses P+10i (p2p), +1 (rpc), +2 (abci); 0 = any free ports\n"
        "  --chain-id ID       default wicas-devnet\n"
        "  --timeout-commit MS default 300\n"
        "  --snapshot-interval K  nodes started now take a state-sync snapshot every K blocks (0 = none)\n"
        "  --ai-query-max-tokens N  nodes started now let smart queries run inference of up to N tokens\n"
        "                       (default 0: none)\n"
        "  --account ADDR:COINS  genesis account and balance, e.g. wicas1...:1000000uwicas (repeatable)\n",
        MAX_VALIDATORS);
}

static void node_home(const devnet *d, int i, char *out, size_t cap) {
    snprintf(out, cap, "%s/node%d", d->dir, i);
}

static int save_devnet(const devnet *d) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "validators", d->n);
    cJSON_AddStringToObject(j, "chain_id", d->chain_id);
    cJSON *arr = cJSON_AddArrayToObject(j, "nodes");
    for (int i = 0; i < d->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "p2p", d->ports[i].p2p);
        cJSON_AddNumberToObject(o, "rpc", d->ports[i].rpc);
        cJSON_AddNumberToObject(o, "abci", d->ports[i].abci);
        cJSON_AddItemToArray(arr, o);
    }
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    char path[1100];
    snprintf(path, sizeof path, "%s/devnet.json", d->dir);
    FILE *f = fopen(path, "w");
    int rc = (f && s && fputs(s, f) >= 0) ? 0 : -1;
    if (f && fclose(f) != 0) rc = -1;
    cJSON_free(s);
    return rc;
}

/* Returns 1 loaded, 0 no devnet.json, -1 malformed. */
static int load_devnet(devnet *d) {
    char path[1100];
    snprintf(path, sizeof path, "%s/devnet.json", d->dir);
    size_t len;
    char *text = (char *)wicas_read_file(path, 1 << 20, &len);
    if (!text) return errno == ENOENT ? 0 : -1;
    cJSON *j = cJSON_Parse(text);
    free(text);
    cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "validators");
    cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "chain_id");
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "nodes");
    if (!cJSON_IsNumber(n) || !cJSON_IsString(c) || !cJSON_IsArray(arr) || n->valueint < 1 ||
        n->valueint > MAX_VALIDATORS || cJSON_GetArraySize(arr) != n->valueint) {
        cJSON_Delete(j);
        return -1;
    }
    d->n = n->valueint;
    snprintf(d->chain_id, sizeof d->chain_id, "%s", c->valuestring);
    for (int i = 0; i < d->n; i++) {
        cJSON *o = cJSON_GetArrayItem(arr, i);
        d->ports[i].p2p = cJSON_GetObjectItemCaseSensitive(o, "p2p")->valueint;
        d->ports[i].rpc = cJSON_GetObjectItemCaseSensitive(o, "rpc")->valueint;
        d->ports[i].abci = cJSON_GetObjectItemCaseSensitive(o, "abci")->valueint;
    }
    cJSON_Delete(j);
    return 1;
}

static int devnet_init(devnet *d, long base, int timeout_commit_ms, const cJSON *app_state) {
    char err[1024];
    if (mkdir(d->dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "wicasd devnet: cannot create %s: %s\n", d->dir, strerror(errno));
        return 1;
    }
    for (int i = 0; i < d->n; i++) {
        if (base == 0) {
            d->ports[i].p2p = wicas_node_free_port();
            d->ports[i].rpc = wicas_node_free_port();
            d->ports[i].abci = wicas_node_free_port();
            /* free_port may hand out the same port twice in a row: keep them distinct */
            for (int j = 0; j <= i; j++) {
                int *a[] = {&d->ports[i].p2p, &d->ports[i].rpc, &d->ports[i].abci};
                for (int k = 0; k < 3; k++)
                    while (*a[k] <= 0 ||
                           (j < i && (*a[k] == d->ports[j].p2p || *a[k] == d->ports[j].rpc ||
                                      *a[k] == d->ports[j].abci)) ||
                           (k > 0 && *a[k] == *a[0]) || (k > 1 && *a[k] == *a[1]))
                        *a[k] = wicas_node_free_port();
            }
        } else {
            d->ports[i] =
                (wicas_node_ports){(int)base + 10 * i, (int)base + 10 * i + 1, (int)base + 10 * i + 2};
        }
    }
    /* Homes and keys. */
    char ids[MAX_VALIDATORS][64];
    for (int i = 0; i < d->n; i++) {
        char home[1100], moniker[32];
        node_home(d, i, home, sizeof home);
        snprintf(moniker, sizeof moniker, "node%d", i);
        wicas_node_setup s = {.home = home, .moniker = moniker, .chain_id = d->chain_id, .overwrite = true};
        s.config.ports = d->ports[i];
        s.config.timeout_commit_ms = timeout_commit_ms;
        s.config.fast = true;
        s.config.loopback_peers = true;
        if (wicas_node_setup_home(&s, err, sizeof err) != 0 ||
            wicas_node_show_id(home, ids[i], sizeof ids[i], err, sizeof err) != 0) {
            fprintf(stderr, "wicasd devnet: node%d: %s\n", i, err);
            return 1;
        }
    }
    /* One genesis with every validator, written to node0 and copied. */
    cJSON *vals = cJSON_CreateArray();
    for (int i = 0; i < d->n; i++) {
        char home[1100], name[32];
        node_home(d, i, home, sizeof home);
        snprintf(name, sizeof name, "node%d", i);
        cJSON *v = wicas_node_validator_entry(home, name, 10, err, sizeof err);
        if (!v) {
            cJSON_Delete(vals);
            fprintf(stderr, "wicasd devnet: %s\n", err);
            return 1;
        }
        cJSON_AddItemToArray(vals, v);
    }
    char home0[1100], g0[1200];
    node_home(d, 0, home0, sizeof home0);
    int rc = wicas_node_write_genesis(home0, d->chain_id, app_state, vals, err, sizeof err);
    cJSON_Delete(vals);
    if (rc != 0) {
        fprintf(stderr, "wicasd devnet: %s\n", err);
        return 1;
    }
    snprintf(g0, sizeof g0, "%s/config/genesis.json", home0);
    size_t glen;
    uint8_t *genesis = wicas_read_file(g0, 64 << 20, &glen);
    if (!genesis) {
        fprintf(stderr, "wicasd devnet: cannot read %s\n", g0);
        return 1;
    }
    for (int i = 0; i < d->n; i++) {
        char home[1100], gp[1200];
        node_home(d, i, home, sizeof home);
        if (i > 0) {
            snprintf(gp, sizeof gp, "%s/config/genesis.json", home);
            FILE *f = fopen(gp, "wb");
            bool ok = f && fwrite(genesis, 1, glen, f) == glen;
            if (f && fclose(f) != 0) ok = false;
            if (!ok) {
                free(genesis);
                fprintf(stderr, "wicasd devnet: cannot write %s\n", gp);
                return 1;
            }
        }
        /* persistent_peers: everyone else. */
        char peers[MAX_VALIDATORS * 80] = "";
        for (int j = 0; j < d->n; j++) {
            if (j == i) continue;
            size_t l = strlen(peers);
            snprintf(peers + l, sizeof peers - l, "%s%s@127.0.0.1:%d", l ? "," : "", ids[j], d->ports[j].p2p);
        }
        wicas_node_config cfg = {.ports = d->ports[i],
                                 .persistent_peers = peers,
                                 .timeout_commit_ms = timeout_commit_ms,
                                 .fast = true,
                                 .loopback_peers = true};
        if (wicas_node_configure(home, &cfg, err, sizeof err) != 0) {
            free(genesis);
            fprintf(stderr, "wicasd devnet: node%d: %s\n", i, err);
            return 1;
        }
    }
    free(genesis);
    if (save_devnet(d) != 0) {
        fprintf(stderr, "wicasd devnet: cannot write %s/devnet.json\n", d->dir);
        return 1;
    }
    printf("devnet: %d validator(s) for chain '%s' in %s\n", d->n, d->chain_id, d->dir);
    for (int i = 0; i < d->n; i++)
        printf("  node%d  p2p %d  rpc tcp://127.0.0.1:%d  abci %d\n", i, d->ports[i].p2p, d->ports[i].rpc,
               d->ports[i].abci);
    return 0;
}

static pid_t read_pid(const char *home, const char *name) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", home, name);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long p = 0;
    if (fscanf(f, "%ld", &p) != 1) p = 0;
    fclose(f);
    return (pid_t)p;
}

/* Running (a zombie nobody has reaped yet counts as stopped). */
static bool alive(pid_t p) {
    if (p <= 0 || kill(p, 0) != 0) return false;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)p);
    FILE *f = fopen(path, "r");
    if (!f) return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')'); /* "pid (comm) S ..." */
    return !(rp && rp[1] == ' ' && rp[2] == 'Z');
}

/* Starts `wicasd start --home HOME` detached, output to HOME/node.log. */
static pid_t spawn_node(const char *home, long snapshot_interval, long ai_query_max_tokens) {
    char log[1200], pidf[1200];
    snprintf(log, sizeof log, "%s/node.log", home);
    snprintf(pidf, sizeof pidf, "%s/wicasd.pid", home);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = '\0';
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setsid();
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int dn = open("/dev/null", O_RDONLY);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
        if (dn >= 0) dup2(dn, 0);
        const char *lv = wicas_log_get_level() == WICAS_LOG_DEBUG  ? "debug"
                         : wicas_log_get_level() == WICAS_LOG_INFO ? "info"
                         : wicas_log_get_level() == WICAS_LOG_WARN ? "warn"
                                                                   : "error";
        char si[32], qt[32];
        snprintf(si, sizeof si, "%ld", snapshot_interval);
        snprintf(qt, sizeof qt, "%ld", ai_query_max_tokens);
        char *av[12];
        int ac = 0;
        av[ac++] = self, av[ac++] = (char *)"start", av[ac++] = (char *)"--home", av[ac++] = (char *)home;
        av[ac++] = (char *)"--log_level", av[ac++] = (char *)lv;
        if (snapshot_interval > 0) av[ac++] = (char *)"--snapshot-interval", av[ac++] = si;
        if (ai_query_max_tokens > 0) av[ac++] = (char *)"--ai-query-max-tokens", av[ac++] = qt;
        av[ac] = NULL;
        execv(self, av);
        _exit(127);
    }
    FILE *f = fopen(pidf, "w");
    if (f) {
        fprintf(f, "%d\n", (int)pid);
        fclose(f);
    }
    return pid;
}

static int64_t node_height(int rpc_port) {
    char url[64], err[256];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", rpc_port);
    cJSON *st = NULL;
    if (wicas_rpc_status(url, &st, err, sizeof err) != 0) return -1;
    cJSON *h = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "sync_info"),
                                                "latest_block_height");
    int64_t v = cJSON_IsString(h) ? atoll(h->valuestring) : -1;
    cJSON_Delete(st);
    return v;
}

static int devnet_stop(const devnet *d) {
    pid_t pids[MAX_VALIDATORS] = {0};
    for (int i = 0; i < d->n; i++) {
        char home[1100];
        node_home(d, i, home, sizeof home);
        pids[i] = read_pid(home, "wicasd.pid");
        if (alive(pids[i])) kill(pids[i], SIGTERM);
    }
    int stopped = 0;
    for (int t = 0; t < 150; t++) {
        bool any = false;
        for (int i = 0; i < d->n; i++) {
            if (pids[i] > 0) waitpid(pids[i], NULL, WNOHANG); /* our own children (start in this process) */
            if (alive(pids[i])) any = true;
        }
        if (!any) break;
        wicas_node_sleep_ms(100);
    }
    for (int i = 0; i < d->n; i++) {
        char home[1100], pf[1200];
        node_home(d, i, home, sizeof home);
        if (alive(pids[i])) {
            fprintf(stderr, "wicasd devnet: node%d (pid %d) did not stop in 15 s; killing it\n", i,
                    (int)pids[i]);
            kill(pids[i], SIGKILL);
        }
        pid_t cb = read_pid(home, "cometbft.pid");
        if (alive(cb)) kill(cb, SIGKILL);
        if (pids[i] > 0) stopped++;
        snprintf(pf, sizeof pf, "%s/wicasd.pid", home);
        unlink(pf);
    }
    printf("devnet: stopped %d node(s)\n", stopped);
    return 0;
}

static int devnet_start(devnet *d, long snapshot_interval, long ai_query_max_tokens) {
    for (int i = 0; i < d->n; i++) {
        char home[1100];
        node_home(d, i, home, sizeof home);
        pid_t old = read_pid(home, "wicasd.pid");
        if (alive(old)) {
            printf("  node%d already running (pid %d)\n", i, (int)old);
            continue;
        }
        pid_t p = spawn_node(home, snapshot_interval, ai_query_max_tokens);
        if (p < 0) {
            fprintf(stderr, "wicasd devnet: cannot start node%d: %s\n", i, strerror(errno));
            devnet_stop(d);
            return 1;
        }
        printf("  node%d started (pid %d, log %s/node.log)\n", i, (int)p, home);
    }
    /* Wait for every node to report a block. */
    for (int t = 0; t < 600; t++) {
        int ready = 0;
        for (int i = 0; i < d->n; i++) {
            char home[1100];
            node_home(d, i, home, sizeof home);
            pid_t p = read_pid(home, "wicasd.pid");
            int st;
            if (p > 0 && waitpid(p, &st, WNOHANG) == p) {
                fprintf(stderr, "wicasd devnet: node%d exited early (see %s/node.log)\n", i, home);
                devnet_stop(d);
                return 1;
            }
            if (node_height(d->ports[i].rpc) >= 1) ready++;
        }
        if (ready == d->n) {
            printf("devnet: %d node(s) producing blocks\n", d->n);
            return 0;
        }
        wicas_node_sleep_ms(100);
    }
    fprintf(stderr,
            "wicasd devnet: not every node produced a block within 60 s (see node*/node.log); stopping\n");
    devnet_stop(d);
    return 1;
}

static int devnet_status(const devnet *d) {
    int down = 0;
    for (int i = 0; i < d->n; i++) {
        char url[64], err[256];
        snprintf(url, sizeof url, "tcp://127.0.0.1:%d", d->ports[i].rpc);
        cJSON *st = NULL;
        if (wicas_rpc_status(url, &st, err, sizeof err) != 0) {
            printf("node%d  %s  down\n", i, url);
            down++;
            continue;
        }
        cJSON *si = cJSON_GetObjectItemCaseSensitive(st, "sync_info");
        cJSON *h = cJSON_GetObjectItemCaseSensitive(si, "latest_block_height");
        cJSON *a = cJSON_GetObjectItemCaseSensitive(si, "latest_app_hash");
        printf("node%d  %s  height %s  app_hash %s\n", i, url, cJSON_IsString(h) ? h->valuestring : "?",
               cJSON_IsString(a) ? a->valuestring : "?");
        cJSON_Delete(st);
    }
    return down ? 1 : 0;
}

static int devnet_main(int argc, char **argv, cJSON *app_state) {
    devnet d;
    memset(&d, 0, sizeof d);
    const char *action = "start", *dir = "devnet", *chain_id = "wicas-devnet";
    long n = 1, base = 26600, tc = 300, snap = 0, aiq = 0;
    bool n_given = false;
    int n_accounts = 0;
    const char *model = NULL;
    bool no_model = false;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        const char *v;
        if ((v = wicas_flag_take(argc, argv, &i, "--validators"))) {
            n = strtol(v, &end, 10);
            n_given = true;
            if (*end || n < 1 || n > MAX_VALIDATORS) {
                fprintf(stderr, "wicasd devnet: --validators must be 1..%d\n", MAX_VALIDATORS);
                return 2;
            }
        } else if ((v = wicas_flag_take(argc, argv, &i, "--account"))) {
            char err[512];
            if (wicas_node_app_state_add_account(app_state, v, err, sizeof err) != 0) {
                fprintf(stderr, "wicasd devnet: %s\n", err);
                return 2;
            }
            n_accounts++;
        } else if ((v = wicas_flag_take(argc, argv, &i, "--model"))) {
            model = v;
        } else if (strcmp(argv[i], "--no-model") == 0) {
            no_model = true;
        } else if ((v = wicas_flag_take(argc, argv, &i, "--home")))
            dir = v;
        else if ((v = wicas_flag_take(argc, argv, &i, "--chain-id")))
            chain_id = v;
        else if ((v = wicas_flag_take(argc, argv, &i, "--base-port"))) {
            base = strtol(v, &end, 10);
            if (*end || base < 0 || base > 65000) {
                fprintf(stderr, "wicasd devnet: --base-port must be 0 (any) or 1..65000\n");
                return 2;
            }
        } else if ((v = wicas_flag_take(argc, argv, &i, "--snapshot-interval"))) {
            snap = strtol(v, &end, 10);
            if (*end || snap < 0 || snap > 1000000000L) {
                fprintf(stderr, "wicasd devnet: --snapshot-interval must be 0 (off)..1000000000 blocks\n");
                return 2;
            }
        } else if ((v = wicas_flag_take(argc, argv, &i, "--ai-query-max-tokens"))) {
            aiq = strtol(v, &end, 10);
            if (*end || aiq < 0 || aiq > WICAS_NODE_AI_QUERY_MAX_TOKENS) {
                fprintf(stderr,
                        "wicasd devnet: --ai-query-max-tokens must be 0 (no inference in queries)..%d\n",
                        WICAS_NODE_AI_QUERY_MAX_TOKENS);
                return 2;
            }
        } else if ((v = wicas_flag_take(argc, argv, &i, "--timeout-commit"))) {
            tc = strtol(v, &end, 10);
            if (*end || tc < 10 || tc > 60000) {
                fprintf(stderr, "wicasd devnet: --timeout-commit must be 10..60000 ms\n");
                return 2;
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "init") || !strcmp(argv[i], "start") || !strcmp(argv[i], "stop") ||
                   !strcmp(argv[i], "status"))
            action = argv[i];
        else {
            fprintf(stderr, "wicasd devnet: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!wicas_node_valid_name(chain_id)) {
        fprintf(stderr, "wicasd devnet: invalid chain id '%s'\n", chain_id);
        return 2;
    }
    if (dir[0] == '/')
        snprintf(d.dir, sizeof d.dir, "%s", dir);
    else {
        char cwd[800];
        if (!getcwd(cwd, sizeof cwd)) return 1;
        snprintf(d.dir, sizeof d.dir, "%s/%s", cwd, dir);
    }
    int have = load_devnet(&d);
    if (have < 0) {
        fprintf(stderr, "wicasd devnet: %s/devnet.json is malformed\n", d.dir);
        return 1;
    }
    if (have && n_given && n != d.n) {
        fprintf(stderr, "wicasd devnet: %s already holds a %d-validator devnet (remove it to change N)\n",
                d.dir, d.n);
        return 1;
    }
    if (!strcmp(action, "stop") || !strcmp(action, "status")) {
        if (!have) {
            fprintf(stderr, "wicasd devnet: no devnet in %s\n", d.dir);
            return 1;
        }
        return !strcmp(action, "stop") ? devnet_stop(&d) : devnet_status(&d);
    }
    if (have && n_accounts) {
        fprintf(stderr, "wicasd devnet: --account applies only when the devnet is created (%s exists)\n",
                d.dir);
        return 1;
    }
    if (!strcmp(action, "init") && have) {
        fprintf(stderr, "wicasd devnet: %s already holds a devnet\n", d.dir);
        return 1;
    }
    if (have && model) {
        fprintf(stderr, "wicasd devnet: --model applies only when the devnet is created (%s exists)\n",
                d.dir);
        return 1;
    }
    if (!have && !no_model) {
        /* Register the model (default: the pinned default model, when its
         * file is here) so contracts can ask for inference on this devnet. */
        const char *mp = model ? model : wicas_node_default_model();
        if (mp) {
            char path[4096], err[512];
            snprintf(path, sizeof path, "%s", mp);
            const char *name = WICAS_NODE_DEFAULT_MODEL_NAME;
            char *colon = strrchr(path, ':');
            if (colon && model) {
                *colon = '\0';
                name = colon + 1;
            }
            if (wicas_node_app_state_add_model(app_state, path, name, err, sizeof err) != 0) {
                fprintf(stderr, "wicasd devnet: %s\n", err);
                return 1;
            }
            printf("devnet: model '%s' (%s) registered in genesis\n", name, path);
        }
    }
    if (!have) {
        d.n = (int)n;
        snprintf(d.chain_id, sizeof d.chain_id, "%s", chain_id);
        int rc = devnet_init(&d, base, (int)tc, app_state);
        if (rc != 0 || !strcmp(action, "init")) return rc;
    }
    return devnet_start(&d, snap, aiq);
}

int wicas_cmd_devnet(int argc, char **argv) {
    cJSON *app_state = wicas_node_default_app_state();
    if (!app_state) {
        fprintf(stderr, "wicasd devnet: out of memory\n");
        return 1;
    }
    int rc = devnet_main(argc, argv, app_state);
    cJSON_Delete(app_state);
    return rc;
}

/*
 * node_util.c — config.toml / genesis.json editing, free ports, and the
 * cometbft child process (see node.h).
 *
 * Shape: TOML is edited as text, line by line, section-aware, because the
 * file is CometBFT's own template (comments included) and we change a dozen
 * scalar keys; a full TOML library would be overkill. genesis.json goes
 * through cJSON. The child is started with fork/exec, its output read from
 * a pipe by one thread that prefixes each line, so the operator sees one
 * interleaved log.
 */
#include "node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

const char *wicas_node_cometbft_path(void) {
    const char *e = getenv("WICAS_COMETBFT");
    if (e && *e) return e;
#ifdef WICAS_COMETBFT_PATH
    return WICAS_COMETBFT_PATH;
#else
    return "cometbft";
#endif
}

void wicas_node_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int wicas_node_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* ---- TOML text editing ------------------------------------------------------------ */

/* Is line (not NUL-terminated, n chars) "[name]" (ignoring spaces)? Returns
 * 1 and the name span when it is a table header. */
static int toml_header(const char *l, size_t n, const char **name, size_t *nlen) {
    size_t i = 0;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    if (i >= n || l[i] != '[') return 0;
    size_t s = i + 1, e = s;
    while (e < n && l[e] != ']')
        e++;
    if (e >= n) return 0;
    *name = l + s;
    *nlen = e - s;
    return 1;
}

/* Does line define key? ("key" then spaces then '='). */
static int toml_is_key(const char *l, size_t n, const char *key) {
    size_t i = 0, kl = strlen(key);
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    if (n - i < kl || strncmp(l + i, key, kl) != 0) return 0;
    i += kl;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    return i < n && l[i] == '=';
}

int wicas_node_toml_set(char **text, const char *section, const char *key, const char *value) {
    const char *t = *text;
    size_t tl = strlen(t);
    const char *cur_sec = "";
    size_t cur_len = 0;
    bool in_target = section[0] == '\0';
    size_t repl_start = SIZE_MAX, repl_end = 0; /* line to replace */
    size_t insert_at = SIZE_MAX;                /* end of target section */
    size_t pos = 0;
    while (pos < tl) {
        const char *l = t + pos;
        const char *nl = memchr(l, '\n', tl - pos);
        size_t n = nl ? (size_t)(nl - l) : tl - pos;
        size_t next = pos + n + (nl ? 1 : 0);
        const char *nm;
        size_t nml;
        if (toml_header(l, n, &nm, &nml)) {
            if (in_target && insert_at == SIZE_MAX) insert_at = pos;
            cur_sec = nm;
            cur_len = nml;
            in_target = strlen(section) == cur_len && strncmp(cur_sec, section, cur_len) == 0;
        } else if (in_target && repl_start == SIZE_MAX && toml_is_key(l, n, key)) {
            repl_start = pos;
            repl_end = pos + n;
        }
        pos = next;
    }
    if (in_target && insert_at == SIZE_MAX) insert_at = tl;
    if (repl_start == SIZE_MAX && insert_at == SIZE_MAX) {
        /* Section absent: append it. */
        insert_at = tl;
    }
    size_t kvl = strlen(key) + strlen(value) + 4;
    char *kv = malloc(kvl + strlen(section) + 8);
    if (!kv) return -1;
    size_t need;
    char *out;
    if (repl_start != SIZE_MAX) {
        snprintf(kv, kvl, "%s = %s", key, value);
        need = tl - (repl_end - repl_start) + strlen(kv) + 1;
        out = malloc(need);
        if (!out) {
            free(kv);
            return -1;
        }
        memcpy(out, t, repl_start);
        strcpy(out + repl_start, kv);
        strcat(out, t + repl_end);
    } else {
        bool sec_missing = true;
        /* Is the section present at all? */
        if (section[0] == '\0')
            sec_missing = false;
        else {
            char hdr[128];
            snprintf(hdr, sizeof hdr, "[%s]", section);
            sec_missing = strstr(t, hdr) == NULL;
        }
        if (sec_missing)
            snprintf(kv, kvl + strlen(section) + 8, "\n[%s]\n%s = %s\n", section, key, value);
        else
            snprintf(kv, kvl, "%s = %s\n", key, value);
        need = tl + strlen(kv) + 2;
        out = malloc(need);
        if (!out) {
            free(kv);
            return -1;
        }
        memcpy(out, t, insert_at);
        size_t o = insert_at;
        if (o > 0 && out[o - 1] != '\n') out[o++] = '\n';
        strcpy(out + o, kv);
        strcat(out, t + insert_at);
    }
    free(kv);
    free(*text);
    *text = out;
    return 0;
}

static int write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        wicas_errf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    bool ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        wicas_errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int wicas_node_configure(const char *home, const wicas_node_config *cfg, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config/config.toml", home);
    size_t len = 0;
    char *text = (char *)wicas_read_file(path, 1 << 20, &len);
    if (!text) {
        wicas_errf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char v[512];
    int rc = 0;
#define SET(sec, key, ...)                                                                                   \
    do {                                                                                                     \
        snprintf(v, sizeof v, __VA_ARGS__);                                                                  \
        rc |= wicas_node_toml_set(&text, sec, key, v);                                                       \
    } while (0)
    if (cfg->moniker) SET("", "moniker", "\"%s\"", cfg->moniker);
    SET("", "proxy_app", "\"tcp://127.0.0.1:%d\"", cfg->ports.abci);
    SET("", "abci", "\"socket\"");
    SET("rpc", "laddr", "\"tcp://127.0.0.1:%d\"", cfg->ports.rpc);
    SET("p2p", "laddr", "\"tcp://127.0.0.1:%d\"", cfg->ports.p2p);
    if (cfg->persistent_peers) SET("p2p", "persistent_peers", "\"%s\"", cfg->persistent_peers);
    if (cfg->loopback_peers) {
        SET("p2p", "addr_book_strict", "false");
        SET("p2p", "allow_duplicate_ip", "true");
        SET("p2p", "pex", "false");
        SET("p2p", "persistent_peers_max_dial_period", "\"1s\"");
        SET("p2p", "handshake_timeout", "\"5s\"");
        SET("p2p", "dial_timeout", "\"1s\"");
    }
    if (cfg->timeout_commit_ms > 0) SET("consensus", "timeout_commit", "\"%dms\"", cfg->timeout_commit_ms);
    if (cfg->fast) {
        SET("consensus", "timeout_propose", "\"500ms\"");
        SET("consensus", "timeout_propose_delta", "\"100ms\"");
        SET("consensus", "timeout_prevote", "\"200ms\"");
        SET("consensus", "timeout_prevote_delta", "\"100ms\"");
        SET("consensus", "timeout_precommit", "\"200ms\"");
        SET("consensus", "timeout_precommit_delta", "\"100ms\"");
        SET("p2p", "flush_throttle_timeout", "\"10ms\"");
        SET("mempool", "recheck", "true");
    }
#undef SET
    if (rc != 0) {
        free(text);
        wicas_errf(err, errlen, "out of memory editing %s", path);
        return -1;
    }
    rc = write_file_atomic(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

/* Finds `key = "tcp://host:PORT"` in [section] and returns PORT, or 0. */
static int toml_port(const char *text, const char *section, const char *key) {
    const char *p = text;
    bool in = section[0] == '\0';
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *nm;
        size_t nml;
        if (toml_header(p, n, &nm, &nml))
            in = strlen(section) == nml && strncmp(nm, section, nml) == 0;
        else if (in && toml_is_key(p, n, key)) {
            const char *q = memchr(p, '"', n);
            const char *q2 = q ? memchr(q + 1, '"', n - (size_t)(q + 1 - p)) : NULL;
            if (q && q2) {
                const char *c = q2;
                while (c > q && *c != ':')
                    c--;
                if (*c == ':') return atoi(c + 1);
            }
            return 0;
        }
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

int wicas_node_read_ports(const char *home, wicas_node_ports *ports, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config/config.toml", home);
    size_t len;
    char *text = (char *)wicas_read_file(path, 1 << 20, &len);
    if (!text) {
        wicas_errf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    ports->rpc = toml_port(text, "rpc", "laddr");
    ports->p2p = toml_port(text, "p2p", "laddr");
    ports->abci = toml_port(text, "", "proxy_app");
    free(text);
    return 0;
}

/* ---- genesis.json ------------------------------------------------------------------- */
static cJSON *obj_child(cJSON *o, const char *name) {
    cJSON *c = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsObject(c)) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, name);
        c = cJSON_AddObjectToObject(o, name);
    }
    return c;
}

static void set_item(cJSON *o, const char *name, cJSON *v) {
    if (!v) return;
    if (cJSON_GetObjectItemCaseSensitive(o, name))
        cJSON_ReplaceItemInObjectCaseSensitive(o, name, v);
    else
        cJSON_AddItemToObject(o, name, v);
}

int wicas_node_genesis_edit(const char *home, const char *chain_id, const cJSON *app_state, long ve_height,
                            const cJSON *validators, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config/genesis.json", home);
    size_t len;
    char *text = (char *)wicas_read_file(path, 64 << 20, &len);
    if (!text) {
        wicas_errf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    cJSON *g = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(g)) {
        cJSON_Delete(g);
        wicas_errf(err, errlen, "%s is not a JSON object", path);
        return -1;
    }
    if (chain_id) set_item(g, "chain_id", cJSON_CreateString(chain_id));
    if (app_state) set_item(g, "app_state", cJSON_Duplicate(app_state, 1));
    if (ve_height >= 0) {
        cJSON *abci = obj_child(obj_child(g, "consensus_params"), "abci");
        char num[32];
        snprintf(num, sizeof num, "%ld", ve_height);
        set_item(abci, "vote_extensions_enable_height", cJSON_CreateString(num));
    }
    if (validators) set_item(g, "validators", cJSON_Duplicate(validators, 1));
    char *out = cJSON_Print(g);
    cJSON_Delete(g);
    if (!out) {
        wicas_errf(err, errlen, "out of memory writing %s", path);
        return -1;
    }
    int rc = write_file_atomic(path, out, strlen(out), err, errlen);
    cJSON_free(out);
    return rc;
}

/* ---- running cometbft --------------------------------------------------------------- */

/* Runs cometbft with args, capturing up to cap-1 bytes of stdout into out
 * (may be NULL); stderr is discarded. Returns the exit status or -1. */
static int run_capture(char *const argv[], char *out, size_t cap) {
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        int dn = open("/dev/null", O_RDWR);
        dup2(pfd[1], 1);
        if (dn >= 0) dup2(dn, 2), dup2(dn, 0);
        execv(argv[0], argv);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    size_t have = 0;
    char buf[4096];
    for (;;) {
        ssize_t n = read(pfd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (out && have + 1 < cap) {
            size_t take = (size_t)n < cap - 1 - have ? (size_t)n : cap - 1 - have;
            memcpy(out + have, buf, take);
            have += take;
        }
    }
    if (out && cap) out[have] = '\0';
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int wicas_node_cometbft_init(const char *home, char *err, size_t errlen) {
    const char *bin = wicas_node_cometbft_path();
    char *argv[] = {(char *)bin, "init", "--home", (char *)home, NULL};
    int rc = run_capture(argv, NULL, 0);
    if (rc != 0) {
        wicas_errf(err, errlen, "'%s init --home %s' failed (exit %d)", bin, home, rc);
        return -1;
    }
    return 0;
}

int wicas_node_show_id(const char *home, char *id, size_t cap, char *err, size_t errlen) {
    const char *bin = wicas_node_cometbft_path();
    char *argv[] = {(char *)bin, "show-node-id", "--home", (char *)home, NULL};
    char out[256];
    int rc = run_capture(argv, out, sizeof out);
    size_t n = strcspn(out, "\r\n");
    out[n] = '\0';
    if (rc != 0 || n != 40) {
        wicas_errf(err, errlen, "'%s show-node-id --home %s' failed (exit %d)", bin, home, rc);
        return -1;
    }
    snprintf(id, cap, "%s", out);
    return 0;
}

struct wicas_node_child {
    pid_t pid;
    int out_fd;
    pthread_t thread;
    bool has_thread;
    bool exited;
    int status;
    char prefix[64];
};

static void *forward_main(void *arg) {
    wicas_node_child *c = arg;
    FILE *in = fdopen(c->out_fd, "r");
    if (!in) return NULL;
    char line[8192];
    while (fgets(line, sizeof line, in)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n') line[--n] = '\0';
        fprintf(stderr, "[%s] %s\n", c->prefix, line);
    }
    fclose(in);
    return NULL;
}

wicas_node_child *wicas_node_cometbft_start(const char *home, const char *level, const char *prefix,
                                            const char *log_path, char *err, size_t errlen) {
    const char *bin = wicas_node_cometbft_path();
    if (access(bin, X_OK) != 0 && strchr(bin, '/')) {
        wicas_errf(err, errlen, "cometbft binary %s is not executable: %s", bin, strerror(errno));
        return NULL;
    }
    wicas_node_child *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    snprintf(c->prefix, sizeof c->prefix, "%s", prefix ? prefix : "cometbft");
    int pfd[2] = {-1, -1};
    int logfd = -1;
    if (log_path) {
        logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (logfd < 0) {
            wicas_errf(err, errlen, "cannot open log %s: %s", log_path, strerror(errno));
            free(c);
            return NULL;
        }
    } else if (pipe2(pfd, O_CLOEXEC) != 0) {
        wicas_errf(err, errlen, "pipe: %s", strerror(errno));
        free(c);
        return NULL;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        wicas_errf(err, errlen, "fork: %s", strerror(errno));
        if (logfd >= 0) close(logfd);
        if (pfd[0] >= 0) close(pfd[0]), close(pfd[1]);
        free(c);
        return NULL;
    }
    if (pid == 0) {
        int o = log_path ? logfd : pfd[1];
        dup2(o, 1);
        dup2(o, 2);
        int dn = open("/dev/null", O_RDONLY);
        if (dn >= 0) dup2(dn, 0);
        /* Own process group: a Ctrl-C on the terminal reaches wicasd, which
         * then stops cometbft in order. And if wicasd dies without stopping
         * it (kill -9), the kernel sends SIGTERM so no orphan keeps the
         * node's ports and stores. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1); /* parent already gone */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl(bin, bin, "start", "--home", home, "--log_level", level ? level : "info", (char *)NULL);
        execlp(bin, bin, "start", "--home", home, "--log_level", level ? level : "info", (char *)NULL);
        _exit(127);
    }
    c->pid = pid;
    if (log_path) {
        close(logfd);
        c->out_fd = -1;
    } else {
        close(pfd[1]);
        c->out_fd = pfd[0];
        if (pthread_create(&c->thread, NULL, forward_main, c) == 0)
            c->has_thread = true;
        else
            close(pfd[0]);
    }
    return c;
}

pid_t wicas_node_child_pid(const wicas_node_child *c) {
    return c ? c->pid : -1;
}

static int decode_status(int st) {
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

bool wicas_node_child_exited(wicas_node_child *c, int *status) {
    if (!c->exited) {
        int st;
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid) {
            c->exited = true;
            c->status = decode_status(st);
        }
    }
    if (c->exited && status) *status = c->status;
    return c->exited;
}

int wicas_node_child_stop(wicas_node_child *c, int grace_ms) {
    if (!c) return 0;
    if (!wicas_node_child_exited(c, NULL)) {
        kill(c->pid, SIGTERM);
        for (int waited = 0; waited < grace_ms; waited += 20) {
            if (wicas_node_child_exited(c, NULL)) break;
            wicas_node_sleep_ms(20);
        }
        if (!wicas_node_child_exited(c, NULL)) {
            kill(c->pid, SIGKILL);
            int st;
            while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR) {
            }
            c->exited = true;
            c->status = decode_status(st);
        }
    }
    if (c->has_thread) pthread_join(c->thread, NULL);
    int s = c->status;
    free(c);
    return s;
}

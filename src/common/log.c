/*
 * log.c — leveled logging to stderr, shared by every module.
 *
 * Logs never feed consensus, so they may carry wall-clock time; nothing else in
 * the node does. Thread-safe: each line is formatted on the stack and written
 * with one fprintf.
 */
#include "common.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* atomic: queries log from their own threads (src/abci/server.c), and the
 * first call on any thread may set it from WICAS_LOG */
static _Atomic int g_level = -1;

bool wicas_log_parse_level(const char *s, wicas_log_level *out) {
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (wicas_log_level)i;
            return true;
        }
    }
    return false;
}

wicas_log_level wicas_log_get_level(void) {
    int g = g_level;
    if (g < 0) {
        wicas_log_level lv = WICAS_LOG_INFO;
        const char *env = getenv("WICAS_LOG");
        if (env && !wicas_log_parse_level(env, &lv)) lv = WICAS_LOG_INFO;
        g = (int)lv;
        int expect = -1;
        if (!atomic_compare_exchange_strong(&g_level, &expect, g)) g = expect;
    }
    return (wicas_log_level)g;
}

void wicas_log_set_level(wicas_log_level level) {
    g_level = (int)level;
}

void wicas_log(wicas_log_level level, const char *module, const char *fmt, ...) {
    if ((int)level > (int)wicas_log_get_level()) return;
    static const char *tag[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%02d:%02d:%02d.%03ld %s [%s] %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, tag[level], module ? module : "-", msg);
}

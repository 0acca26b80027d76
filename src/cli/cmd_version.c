/*
 * cmd_version.c — `wicasd version [--output json]`: the node's version and the
 * pinned versions of the dependencies it was built against.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "flags.h"

#ifndef WICAS_VERSION
#define WICAS_VERSION "dev"
#endif
#ifndef WICAS_WASMTIME_VERSION
#define WICAS_WASMTIME_VERSION "?"
#endif
#ifndef WICAS_COMETBFT_VERSION
#define WICAS_COMETBFT_VERSION "?"
#endif

int wicas_cmd_version(int argc, char **argv) {
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = wicas_flag_take(argc, argv, &i, "--output"))) {
            json = strcmp(v, "json") == 0;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("Usage: wicasd version [--output text|json]\n");
            return 0;
        } else {
            fprintf(stderr, "wicasd version: unknown flag '%s'\n", argv[i]);
            return 2;
        }
    }
    if (json)
        printf("{\"wicasd\":\"%s\",\"wasmtime\":\"%s\",\"cometbft\":\"%s\"}\n", WICAS_VERSION,
               WICAS_WASMTIME_VERSION, WICAS_COMETBFT_VERSION);
    else
        printf("wicasd %s (wasmtime %s, cometbft %s)\n", WICAS_VERSION, WICAS_WASMTIME_VERSION,
               WICAS_COMETBFT_VERSION);
    return 0;
}

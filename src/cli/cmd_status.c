/*
 * cmd_status.c — `wicasd status [--node URL] [--output text|json]`: the
 * node's /status (network, moniker, latest height, app hash, catching up,
 * validator address and voting power). JSON output is CometBFT's "result"
 * object as is, so scripts can pick any field.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "flags.h"
#include "rpc.h"

static const char *jstr(const cJSON *o, const char *a, const char *b) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsString(x) ? x->valuestring : "";
}

static void usage(FILE *f) {
    fprintf(f, "Usage: wicasd status [--node tcp://127.0.0.1:26657] [--output text|json]\n");
}

int wicas_cmd_status(int argc, char **argv) {
    const char *node = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *o;
        if ((o = wicas_flag_take(argc, argv, &i, "--node")))
            node = o;
        else if ((o = wicas_flag_take(argc, argv, &i, "--output")) ||
                 (o = wicas_flag_take(argc, argv, &i, "-o"))) {
            if (strcmp(o, "json") == 0)
                json = true;
            else if (strcmp(o, "text") == 0)
                json = false;
            else {
                fprintf(stderr, "wicasd status: --output must be text or json, not '%s'\n", o);
                return 2;
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "wicasd status: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    cJSON *st = NULL;
    char err[512];
    if (wicas_rpc_status(node, &st, err, sizeof err) != 0) {
        fprintf(stderr, "wicasd status: %s\n", err);
        return 1;
    }
    if (json) {
        char *s = cJSON_PrintUnformatted(st);
        printf("%s\n", s ? s : "null");
        cJSON_free(s);
    } else {
        const cJSON *ni = cJSON_GetObjectItemCaseSensitive(st, "node_info");
        const cJSON *si = cJSON_GetObjectItemCaseSensitive(st, "sync_info");
        const cJSON *vi = cJSON_GetObjectItemCaseSensitive(st, "validator_info");
        const cJSON *cu = cJSON_GetObjectItemCaseSensitive(si, "catching_up");
        printf("network:        %s\n", jstr(ni, "network", NULL));
        printf("moniker:        %s\n", jstr(ni, "moniker", NULL));
        printf("node id:        %s\n", jstr(ni, "id", NULL));
        printf("cometbft:       %s\n", jstr(ni, "version", NULL));
        printf("latest height:  %s\n", jstr(si, "latest_block_height", NULL));
        printf("latest time:    %s\n", jstr(si, "latest_block_time", NULL));
        printf("app hash:       %s\n", jstr(si, "latest_app_hash", NULL));
        printf("catching up:    %s\n", cJSON_IsTrue(cu) ? "yes" : "no");
        printf("validator:      %s (power %s)\n", jstr(vi, "address", NULL), jstr(vi, "voting_power", NULL));
    }
    cJSON_Delete(st);
    return 0;
}

/*
 * cmd_init.c — `wicasd init MONIKER --home DIR --chain-id ID [--overwrite]
 * [--base-port P] [--fast]`: create a node home.
 *
 * Steps: `cometbft init --home DIR` makes the node key, the validator key and
 * a one-validator genesis; then config.toml gets our ABCI address and ports
 * (P2P = P, RPC = P+1, ABCI = P+2; default P = 26656, i.e. CometBFT's usual
 * 26656/26657/26658) and genesis.json gets the chain id, the default
 * app_state and vote extensions enabled from height 1
 * (consensus_params.abci.vote_extensions_enable_height, CometBFT 0.38's
 * field); the default model (or --model PATH[:NAME]) is registered in the
 * app_state's AI registry unless --no-model. --fast sets short consensus timeouts (timeout_commit 300ms) for
 * local work. An existing genesis is kept unless --overwrite is given (keys
 * are always kept: cometbft init never overwrites them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "flags.h"
#include "node.h"
#include "node_setup.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: wicasd init MONIKER --home DIR --chain-id ID [--overwrite] [--base-port P] [--fast]\n"
               "                   [--model PATH[:NAME] | --no-model]\n\n"
               "  --home DIR       node home to create (config/, data/)\n"
               "  --chain-id ID    chain identifier written into genesis.json\n"
               "  --overwrite      replace an existing config.toml and genesis.json (keys are kept)\n"
               "  --base-port P    P2P on P, RPC on P+1, ABCI on P+2 (default 26656)\n"
               "  --fast           short consensus timeouts (timeout_commit 300ms) for local use\n");
}

int wicas_cmd_init(int argc, char **argv) {
    const char *moniker = NULL, *home = NULL, *chain_id = NULL;
    bool overwrite = false, fast = false, no_model = false;
    const char *model = NULL;
    long base = 26656;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = wicas_flag_take(argc, argv, &i, "--home")))
            home = v;
        else if ((v = wicas_flag_take(argc, argv, &i, "--chain-id")))
            chain_id = v;
        else if (strcmp(argv[i], "--overwrite") == 0)
            overwrite = true;
        else if ((v = wicas_flag_take(argc, argv, &i, "--model")))
            model = v;
        else if (strcmp(argv[i], "--no-model") == 0)
            no_model = true;
        else if (strcmp(argv[i], "--fast") == 0)
            fast = true;
        else if ((v = wicas_flag_take(argc, argv, &i, "--base-port"))) {
            char *end;
            base = strtol(v, &end, 10);
            if (*end || base < 1 || base > 65533) {
                fprintf(stderr, "wicasd init: --base-port '%s' is not a port in 1..65533\n", v);
                return 2;
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] != '-' && !moniker)
            moniker = argv[i];
        else {
            fprintf(stderr, "wicasd init: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!moniker || !home || !chain_id) {
        fprintf(stderr, "wicasd init: MONIKER, --home and --chain-id are required\n");
        usage(stderr);
        return 2;
    }
    if (!wicas_node_valid_name(moniker) || !wicas_node_valid_name(chain_id)) {
        fprintf(stderr, "wicasd init: moniker and chain id may use only letters, digits, '-', '_' and '.' "
                        "(1-48 chars)\n");
        return 2;
    }
    wicas_node_setup s = {.home = home,
                          .moniker = moniker,
                          .chain_id = chain_id,
                          .overwrite = overwrite,
                          .config = {.ports = {(int)base, (int)base + 1, (int)base + 2}}};
    if (fast) {
        s.config.timeout_commit_ms = 300;
        s.config.fast = true;
    }
    char err[1024];
    if (wicas_node_setup_home(&s, err, sizeof err) != 0) {
        fprintf(stderr, "wicasd init: %s\n", err);
        return 1;
    }
    cJSON *app_state = wicas_node_default_app_state();
    if (!app_state) {
        fprintf(stderr, "wicasd init: out of memory\n");
        return 1;
    }
    const char *mp = no_model ? NULL : model ? model : wicas_node_default_model();
    char mpath[4096] = "";
    const char *mname = WICAS_NODE_DEFAULT_MODEL_NAME;
    if (mp) {
        snprintf(mpath, sizeof mpath, "%s", mp);
        char *colon = strrchr(mpath, ':');
        if (colon && model) {
            *colon = '\0';
            mname = colon + 1;
        }
        if (wicas_node_app_state_add_model(app_state, mpath, mname, err, sizeof err) != 0) {
            fprintf(stderr, "wicasd init: %s\n", err);
            cJSON_Delete(app_state);
            return 1;
        }
    }
    int grc = wicas_node_write_genesis(home, chain_id, app_state, NULL, err, sizeof err);
    cJSON_Delete(app_state);
    if (grc != 0) {
        fprintf(stderr, "wicasd init: %s\n", err);
        return 1;
    }
    if (mp) printf("registered model '%s' (%s) in genesis\n", mname, mpath);
    printf("initialised node '%s' for chain '%s' in %s\n  p2p 127.0.0.1:%ld  rpc 127.0.0.1:%ld  abci "
           "127.0.0.1:%ld\n",
           moniker, chain_id, home, base, base + 1, base + 2);
    return 0;
}

/*
 * main.c — the `wicasd` command: a table of sub-commands in the style of wasmd
 * and llama.cpp's tools. Each sub-command lives in its own cmd_*.c file and is
 * found through this table; a sub-command whose module is not built yet is a
 * weak stub that says so and exits 2.
 *
 * Global flags (before or after the sub-command): --log_level LEVEL, --home DIR.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "common.h"

#define STUB(fn)                                                                                             \
    __attribute__((weak)) int fn(int argc, char **argv) {                                                    \
        (void)argc;                                                                                          \
        fprintf(stderr, "wicasd %s: this command is not built in this version\n", argv[0]);                  \
        return 2;                                                                                            \
    }
STUB(wicas_cmd_version)
STUB(wicas_cmd_infer)
STUB(wicas_cmd_wasm)
STUB(wicas_cmd_run_wasm)
STUB(wicas_cmd_init)
STUB(wicas_cmd_keys)
STUB(wicas_cmd_genesis)
STUB(wicas_cmd_start)
STUB(wicas_cmd_tx)
STUB(wicas_cmd_query)
STUB(wicas_cmd_status)
STUB(wicas_cmd_devnet)
STUB(wicas_cmd_abci)

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} COMMANDS[] = {
    {"version", wicas_cmd_version, "print versions of wicasd and its pinned dependencies"},
    {"infer", wicas_cmd_infer, "run the inference engine on a GGUF model"},
    {"wasm", wicas_cmd_wasm, "contract developer tools (run a contract on a local state)"},
    {"run-wasm", wicas_cmd_run_wasm, "run a WASI / WASI-NN inference program"},
    {"init", wicas_cmd_init, "initialise a node home (config, genesis, validator key)"},
    {"keys", wicas_cmd_keys, "manage the file keyring (add, list, show, delete)"},
    {"genesis", wicas_cmd_genesis, "edit the genesis file (add-account, ...)"},
    {"start", wicas_cmd_start, "run the node: ABCI application + CometBFT"},
    {"abci", wicas_cmd_abci, "run only the ABCI application socket server"},
    {"tx", wicas_cmd_tx, "build, sign and broadcast transactions"},
    {"query", wicas_cmd_query, "query chain state"},
    {"status", wicas_cmd_status, "show the node's status"},
    {"devnet", wicas_cmd_devnet, "create and run N validators on loopback"},
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f) {
    fprintf(f, "wicasd — WICAS node: CosmWasm contracts with deterministic LLM inference\n\n"
               "Usage: wicasd <command> [flags]\n\nCommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].help);
    fprintf(f, "\nGlobal flags:\n  --log_level LEVEL   error|warn|info|debug (default info; env WICAS_LOG)\n"
               "  -h, --help          help for a command\n\nRun 'wicasd <command> --help' for details.\n");
}

int main(int argc, char **argv) {
    /* Strip global --log_level wherever it stands. */
    int w = 1;
    for (int r = 1; r < argc; r++) {
        if (strcmp(argv[r], "--log_level") == 0 && r + 1 < argc) {
            wicas_log_level lv;
            if (!wicas_log_parse_level(argv[r + 1], &lv)) {
                fprintf(stderr, "wicasd: invalid --log_level '%s' (want error|warn|info|debug)\n",
                        argv[r + 1]);
                return 2;
            }
            wicas_log_set_level(lv);
            r++;
            continue;
        }
        argv[w++] = argv[r];
    }
    argc = w;
    argv[argc] = NULL;
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) return wicas_cmd_version(1, (char *[]){"version", NULL});
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0) return COMMANDS[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "wicasd: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}

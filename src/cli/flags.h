/*
 * flags.h — the one flag parser of wicasd's sub-commands (src/cli/cmd_*.c).
 *
 * A flag is written `--name VALUE`, or `--name` alone for a switch; a few
 * have a one-dash short form (-o, -y, -a, -h). `--name=VALUE` is not a form
 * wicasd accepts: no command ever did, and adding it now would change how
 * existing command lines split. All functions look at argv[1..argc) (argv[0]
 * is the sub-command's name) and never modify argv.
 *
 * Two styles of command use it:
 *   - "look up" commands (query, tx, keys, genesis) ask for a flag by name
 *     wherever it is (wicas_flag, wicas_flag_has) and take the rest as
 *     positional arguments (wicas_flag_positional);
 *   - "walk" commands (init, devnet, status, version, wasm run, and start /
 *     abci through node_setup.c) step through argv themselves and take a
 *     flag's value with wicas_flag_take, reporting an unknown argument or a
 *     flag without its value in their own words.
 * `infer` and `run-wasm` keep their own loops: they answer a flag given
 * without its value with "needs a value" rather than "unexpected argument",
 * and their flags mirror llama.cpp's and WasmEdge's tools.
 */
#ifndef WICAS_CLI_FLAGS_H
#define WICAS_CLI_FLAGS_H

#include <stdbool.h>

/* The argument after the first `name` in argv, or NULL when name is absent
 * or is the last argument. */
const char *wicas_flag(int argc, char **argv, const char *name);

/* Whether argv holds `name` as a whole argument, anywhere. */
bool wicas_flag_has(int argc, char **argv, const char *name);

/* For walking loops: when argv[*i] is `name` and an argument follows it,
 * advances *i to that argument and returns it; otherwise returns NULL and
 * leaves *i alone (the loop then tries its next flag, and finally reports the
 * argument as unexpected). */
const char *wicas_flag_take(int argc, char **argv, int *i, const char *name);

/* Which arguments of a "look up" command are flags, and which flags take the
 * next argument as their value. */
typedef struct {
    const char *const *with_value; /* NULL-terminated: flags followed by a value */
    const char *const *switches;   /* NULL-terminated: flags standing alone */
    /* false: an unlisted argument is a flag only when it starts with "--",
     *        and it stands alone (query: an unknown "--x" never swallows an
     *        address, and "-x" is an ordinary argument);
     * true:  any unlisted "-x" or "--x" is a flag and takes a value (tx: every
     *        flag takes one unless it is a listed switch). */
    bool unlisted_take_value;
} wicas_flag_spec;

/* Collects the positional arguments: argv minus the flags and their values
 * as spec classifies them ("-" and "-5" are always positional, so negative
 * numbers are). Stores the first max of them in pos and returns how many
 * there are (which may exceed max). */
int wicas_flag_positional(int argc, char **argv, const wicas_flag_spec *spec, const char **pos, int max);

#endif

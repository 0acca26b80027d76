/*
 * flags.c — wicasd's flag parser (see flags.h). Linear scans: a command line
 * has a few dozen arguments at most.
 */
#include "flags.h"

#include <string.h>

static bool listed(const char *const *list, const char *a) {
    for (int k = 0; list && list[k]; k++)
        if (strcmp(list[k], a) == 0) return true;
    return false;
}

const char *wicas_flag(int argc, char **argv, const char *name) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return NULL;
}

bool wicas_flag_has(int argc, char **argv, const char *name) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return true;
    return false;
}

const char *wicas_flag_take(int argc, char **argv, int *i, const char *name) {
    if (*i + 1 >= argc || strcmp(argv[*i], name) != 0) return NULL;
    return argv[++*i];
}

int wicas_flag_positional(int argc, char **argv, const wicas_flag_spec *spec, const char **pos, int max) {
    int n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool dash = a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9');
        bool value = listed(spec->with_value, a);
        bool known = value || listed(spec->switches, a);
        if (dash && (known || a[1] == '-' || spec->unlisted_take_value)) {
            if (value || (!known && spec->unlisted_take_value)) i++;
            continue;
        }
        if (n < max) pos[n] = a;
        n++;
    }
    return n;
}

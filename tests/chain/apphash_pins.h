/*
 * apphash_pins.h — pins the app hashes a test's chain goes through.
 *
 * The tests that drive a chain in-process (fixed block heights, times and
 * hashes, deterministic signatures) produce the same sequence of app hashes
 * on every machine. Each block helper calls pins_add with its app hash; the
 * last test of the group calls pins_check(name), which compares the whole
 * sequence with tests/data/apphash/<name>.txt (one "N <hex>" line per
 * hash). A refactor that changes no state layout must leave every file
 * matching; a change of the state layout on purpose regenerates them with
 * WICAS_APPHASH_WRITE=1 (the test then writes the file and passes) and the
 * diff goes into that change's commit.
 *
 * Header-only (static); include after cmocka.h. WICAS_APPHASH_DIR is set by
 * the test's CMake target.
 */
#ifndef WICAS_APPHASH_PINS_H
#define WICAS_APPHASH_PINS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PINS_MAX 4096

static char *pins_seq[PINS_MAX];
static size_t pins_n;

static inline void pins_add(const uint8_t hash[32]) {
    if (pins_n >= PINS_MAX) fail_msg("more than %d pinned app hashes", PINS_MAX);
    char *s = malloc(80);
    assert_non_null(s);
    int o = snprintf(s, 80, "%zu ", pins_n);
    for (int i = 0; i < 32; i++)
        o += snprintf(s + o, (size_t)(80 - o), "%02x", hash[i]);
    pins_seq[pins_n++] = s;
}

static inline void pins_check(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.txt", WICAS_APPHASH_DIR, name);
    const char *w = getenv("WICAS_APPHASH_WRITE");
    assert_true(pins_n > 0);
    if (w && strcmp(w, "1") == 0) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (size_t i = 0; i < pins_n; i++)
            fprintf(f, "%s\n", pins_seq[i]);
        assert_int_equal(fclose(f), 0);
        fprintf(stderr, "wrote %zu app hashes to %s\n", pins_n, path);
    } else {
        FILE *f = fopen(path, "r");
        if (!f) fail_msg("no pinned app hashes at %s (WICAS_APPHASH_WRITE=1 writes them)", path);
        char line[128];
        size_t i = 0;
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = 0;
            if (!line[0]) continue;
            if (i >= pins_n) fail_msg("%s: the run made %zu app hashes, the pins have more", name, pins_n);
            if (strcmp(line, pins_seq[i]) != 0)
                fail_msg("%s: app hash #%zu differs from the pin:\n  pinned %s\n  now    %s", name, i, line,
                         pins_seq[i]);
            i++;
        }
        fclose(f);
        if (i != pins_n) fail_msg("%s: %zu pinned app hashes, the run made %zu", name, i, pins_n);
        fprintf(stderr, "%s: all %zu app hashes equal the pins\n", name, pins_n);
    }
    for (size_t i = 0; i < pins_n; i++)
        free(pins_seq[i]);
    pins_n = 0;
}

#endif

/*
 * file.c — whole-file reads with a size cap, and the cache directory rule that
 * scripts/setup also follows.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

uint8_t *wicas_read_file(const char *path, size_t max_len, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return NULL;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max_len) {
        fclose(f);
        errno = EFBIG;
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        errno = ENOMEM;
        return NULL;
    }
    if (fread(buf, 1, n, f) != n) {
        free(buf);
        fclose(f);
        errno = EIO;
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int wicas_cache_dir(char *out, size_t cap) {
    const char *c = getenv("WICAS_CACHE");
    int n;
    if (c && *c) {
        n = snprintf(out, cap, "%s", c);
    } else if ((c = getenv("XDG_CACHE_HOME")) && *c) {
        n = snprintf(out, cap, "%s/wicas", c);
    } else if ((c = getenv("HOME")) && *c) {
        n = snprintf(out, cap, "%s/.cache/wicas", c);
    } else {
        return -1;
    }
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

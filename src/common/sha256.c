/*
 * sha256.c — SHA-256 through OpenSSL's EVP interface (a well-kept library does
 * the hashing; this file only adapts it to the project's small API).
 */
#include "common.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

struct wicas_sha256_ctx {
    EVP_MD_CTX *md;
};

void wicas_sha256(const void *data, size_t len, uint8_t out[WICAS_SHA256_LEN]) {
    unsigned int n = 0;
    EVP_Digest(len ? data : "", len, out, &n, EVP_sha256(), NULL);
}

wicas_sha256_ctx *wicas_sha256_begin(void) {
    wicas_sha256_ctx *c = malloc(sizeof *c);
    if (!c) return NULL;
    c->md = EVP_MD_CTX_new();
    if (!c->md || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c->md);
        free(c);
        return NULL;
    }
    return c;
}

void wicas_sha256_update(wicas_sha256_ctx *c, const void *data, size_t len) {
    if (len) EVP_DigestUpdate(c->md, data, len);
}

void wicas_sha256_final(wicas_sha256_ctx *c, uint8_t out[WICAS_SHA256_LEN]) {
    unsigned int n = 0;
    EVP_DigestFinal_ex(c->md, out, &n);
    EVP_MD_CTX_free(c->md);
    free(c);
}

int wicas_sha256_file(const char *path, uint8_t out[WICAS_SHA256_LEN]) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    wicas_sha256_ctx *c = wicas_sha256_begin();
    if (!c) {
        fclose(f);
        errno = ENOMEM;
        return -1;
    }
    static _Thread_local uint8_t buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        wicas_sha256_update(c, buf, n);
    int err = ferror(f);
    fclose(f);
    wicas_sha256_final(c, out);
    if (err) {
        errno = EIO;
        return -1;
    }
    return 0;
}

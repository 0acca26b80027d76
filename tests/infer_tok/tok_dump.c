/*
 * tok_dump.c — prints the token ids the engine's tokenizer gives for files,
 * in the form `llama-tokenize --ids` prints them ("[2, 9259, 1902]"), one
 * line per file, so a script can compare the two tokenizers on the same
 * model file (tests/infer_tok/test_llamacpp_tok.sh).
 *
 * Usage: wicas_tok_dump MODEL.gguf [--no-bos] [--no-parse-special] FILE...
 * Each FILE is read whole, as bytes (no escape processing, no newline
 * stripped). BOS is added when the model asks for it (tokenizer.ggml.
 * add_bos_token) unless --no-bos; special-token texts are parsed unless
 * --no-parse-special (llama-tokenize's defaults). The vocabulary comes from
 * the test GGUF reader (tok_gguf.c), not from the engine's model loader, so
 * this runs on any architecture's file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_gguf.h"
#include "tokenizer.h"

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    for (;;) {
        if (!b) break;
        size_t k = fread(b + len, 1, cap - len, f);
        len += k;
        if (len < cap) break;
        char *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    fclose(f);
    *n = len;
    return b;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.gguf [--no-bos] [--no-parse-special] FILE...\n", argv[0]);
        return 2;
    }
    tok_gguf g;
    if (tok_gguf_load(argv[1], &g) != 0) return 1;
    wicas_tokenizer *t;
    char err[256];
    int rc = wicas_tok_new(&g.cfg, &t, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err);
        tok_gguf_free(&g);
        return 1;
    }
    bool bos = wicas_tok_add_bos_default(t), special = true;
    int status = 0;
    for (int a = 2; a < argc; a++) {
        if (!strcmp(argv[a], "--no-bos")) {
            bos = false;
            continue;
        }
        if (!strcmp(argv[a], "--no-parse-special")) {
            special = false;
            continue;
        }
        size_t len;
        char *text = slurp(argv[a], &len);
        if (!text) {
            fprintf(stderr, "cannot read %s\n", argv[a]);
            status = 1;
            continue;
        }
        size_t n = 0;
        rc = wicas_tok_encode(t, text, len, bos, special, NULL, 0, &n);
        int32_t *ids = (rc == 0 || rc == WICAS_TOK_ENOSPC) ? malloc(sizeof *ids * (n ? n : 1)) : NULL;
        if (ids) rc = wicas_tok_encode(t, text, len, bos, special, ids, n, &n);
        if (!ids || rc != 0) {
            fprintf(stderr, "%s: %s\n", argv[a], wicas_tok_strerror(rc));
            status = 1;
        } else {
            putchar('[');
            for (size_t i = 0; i < n; i++)
                printf(i ? ", %d" : "%d", ids[i]);
            puts("]");
        }
        free(ids);
        free(text);
    }
    wicas_tok_free(t);
    tok_gguf_free(&g);
    return status;
}

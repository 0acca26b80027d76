/*
 * tok_gguf.h — test-only GGUF metadata reader: just enough to pull the
 * tokenizer.* keys out of a model file so the tokenizer tests can run on the
 * real SmolLM2 vocabulary independently of the engine's own GGUF reader.
 * Not hardened (the engine's reader is); used only on the known model file.
 */
#ifndef WICAS_TESTS_TOK_GGUF_H
#define WICAS_TESTS_TOK_GGUF_H

#include "tokenizer.h"

typedef struct {
    uint8_t *buf; /* the first bytes of the file (metadata) */
    size_t size;
    wicas_tok_str *tokens;
    wicas_tok_str *merges;
    float *scores;
    int32_t *types;
    wicas_tok_config cfg; /* ready for wicas_tok_new */
} tok_gguf;

/* Reads path's metadata; returns 0, or -1 with a message on stderr. */
int tok_gguf_load(const char *path, tok_gguf *g);
void tok_gguf_free(tok_gguf *g);

#endif

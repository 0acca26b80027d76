/*
 * tok_gguf.c — see tok_gguf.h. Reads the GGUF header and key/value section
 * (v2/v3 layout: magic, version, tensor count, kv count, then kvs) from the
 * first 64 MiB of the file and fills a wicas_tok_config with views into it.
 */
#include "tok_gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t n, o;
    int bad;
} rd;

static int need(rd *r, size_t k) {
    if (r->bad || k > r->n - r->o) {
        r->bad = 1;
        return 0;
    }
    return 1;
}
static uint64_t u(rd *r, size_t k) {
    if (!need(r, k)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++)
        v |= (uint64_t)r->p[r->o + i] << (8 * i);
    r->o += k;
    return v;
}
static wicas_tok_str str(rd *r) {
    wicas_tok_str s = {NULL, 0};
    uint64_t l = u(r, 8);
    if (!need(r, (size_t)l)) return s;
    s.ptr = (const char *)r->p + r->o;
    s.len = (uint32_t)l;
    r->o += (size_t)l;
    return s;
}
static const size_t SCALAR[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static void skip(rd *r, uint32_t t) {
    if (t == 8) {
        str(r);
        return;
    }
    if (t == 9) {
        uint32_t et = (uint32_t)u(r, 4);
        uint64_t n = u(r, 8);
        for (uint64_t i = 0; i < n && !r->bad; i++)
            skip(r, et);
        return;
    }
    if (t > 12) {
        r->bad = 1;
        return;
    }
    u(r, SCALAR[t]);
}

static int64_t int_val(rd *r, uint32_t t) {
    switch (t) {
    case 0:
        return (int64_t)u(r, 1);
    case 1:
        return (int8_t)u(r, 1);
    case 2:
        return (int64_t)u(r, 2);
    case 3:
        return (int16_t)u(r, 2);
    case 4:
        return (int64_t)u(r, 4);
    case 5:
        return (int32_t)u(r, 4);
    case 10:
        return (int64_t)u(r, 8);
    case 11:
        return (int64_t)u(r, 8);
    default:
        skip(r, t);
        return -1;
    }
}

static int eq(wicas_tok_str s, const char *c) {
    return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0;
}

int tok_gguf_load(const char *path, tok_gguf *g) {
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tok_gguf: cannot open %s\n", path);
        return -1;
    }
    g->buf = malloc(64u << 20);
    g->size = g->buf ? fread(g->buf, 1, 64u << 20, f) : 0;
    fclose(f);
    rd r = {g->buf, g->size, 0, 0};
    if (u(&r, 4) != 0x46554747u) {
        fprintf(stderr, "tok_gguf: not GGUF\n");
        return -1;
    }
    u(&r, 4);
    u(&r, 8);
    uint64_t nkv = u(&r, 8);
    wicas_tok_config *c = &g->cfg;
    c->bos_id = c->eos_id = c->unk_id = c->pad_id = c->eot_id = -1;
    for (uint64_t k = 0; k < nkv && !r.bad; k++) {
        wicas_tok_str key = str(&r);
        uint32_t t = (uint32_t)u(&r, 4);
        if (eq(key, "tokenizer.ggml.model") && t == 8) {
            wicas_tok_str v = str(&r);
            c->kind = eq(v, "llama") ? WICAS_TOK_LLAMA : WICAS_TOK_GPT2;
        } else if (eq(key, "tokenizer.ggml.pre") && t == 8) {
            c->pre = str(&r);
        } else if (eq(key, "tokenizer.chat_template") && t == 8) {
            c->chat_template = str(&r);
        } else if ((eq(key, "tokenizer.ggml.tokens") || eq(key, "tokenizer.ggml.merges")) && t == 9) {
            int is_tok = eq(key, "tokenizer.ggml.tokens");
            uint32_t et = (uint32_t)u(&r, 4);
            uint64_t n = u(&r, 8);
            if (et != 8 || n > 10000000) {
                r.bad = 1;
                break;
            }
            wicas_tok_str *a = calloc(n ? n : 1, sizeof *a);
            for (uint64_t i = 0; i < n; i++)
                a[i] = str(&r);
            if (is_tok) {
                g->tokens = a;
                c->tokens = a;
                c->n_vocab = (uint32_t)n;
            } else {
                g->merges = a;
                c->merges = a;
                c->n_merges = (uint32_t)n;
            }
        } else if ((eq(key, "tokenizer.ggml.scores") || eq(key, "tokenizer.ggml.token_type")) && t == 9) {
            int is_sc = eq(key, "tokenizer.ggml.scores");
            uint32_t et = (uint32_t)u(&r, 4);
            uint64_t n = u(&r, 8);
            if ((is_sc && et != 6) || (!is_sc && et != 5) || n > 10000000) {
                r.bad = 1;
                break;
            }
            if (is_sc) {
                g->scores = malloc(n * 4 + 4);
                for (uint64_t i = 0; i < n; i++) {
                    uint32_t b = (uint32_t)u(&r, 4);
                    memcpy(&g->scores[i], &b, 4);
                }
                c->scores = g->scores;
            } else {
                g->types = malloc(n * 4 + 4);
                for (uint64_t i = 0; i < n; i++)
                    g->types[i] = (int32_t)u(&r, 4);
                c->token_types = g->types;
            }
        } else if (eq(key, "tokenizer.ggml.bos_token_id"))
            c->bos_id = (int32_t)int_val(&r, t);
        else if (eq(key, "tokenizer.ggml.eos_token_id"))
            c->eos_id = (int32_t)int_val(&r, t);
        else if (eq(key, "tokenizer.ggml.unknown_token_id"))
            c->unk_id = (int32_t)int_val(&r, t);
        else if (eq(key, "tokenizer.ggml.padding_token_id"))
            c->pad_id = (int32_t)int_val(&r, t);
        else if (eq(key, "tokenizer.ggml.eot_token_id"))
            c->eot_id = (int32_t)int_val(&r, t);
        else if (eq(key, "tokenizer.ggml.add_bos_token") && t == 7)
            c->add_bos = u(&r, 1) != 0;
        else if (eq(key, "tokenizer.ggml.add_eos_token") && t == 7)
            c->add_eos = u(&r, 1) != 0;
        else if (eq(key, "tokenizer.ggml.add_space_prefix") && t == 7)
            c->no_space_prefix = u(&r, 1) == 0;
        else
            skip(&r, t);
    }
    if (r.bad || !c->tokens) {
        fprintf(stderr, "tok_gguf: truncated or unsupported metadata\n");
        return -1;
    }
    return 0;
}

void tok_gguf_free(tok_gguf *g) {
    free(g->buf);
    free(g->tokens);
    free(g->merges);
    free(g->scores);
    free(g->types);
    memset(g, 0, sizeof *g);
}

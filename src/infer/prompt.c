/*
 * prompt.c — turning a request's prompt into the exact token sequence the
 * engine will run, without running it.
 *
 * The chain prices an inference before it starts (a request that cannot pay
 * must cost validators nothing), so it needs the prompt's token count with
 * the same chat formatting and BOS rule that wicas_infer_generate applies;
 * it then hands these tokens to wicas_infer_generate_tokens, so a request is
 * tokenised once (and in one encoding pass: see wicas_infer_prompt_tokens_ex).
 */
#include <stdlib.h>
#include <string.h>

#include "infer.h"
#include "model.h"
#include "tokenizer.h"

/* A tokenizer error as the engine's code: out of memory stays a node fault
 * (ENOMEM), everything else is the request's (ETOKEN). */
static int tok_err(int rc) {
    return rc == WICAS_TOK_ENOMEM ? WICAS_INFER_ENOMEM : WICAS_INFER_ETOKEN;
}

int wicas_infer_prompt_tokens(const wicas_infer_model *m, const char *prompt, bool chat, int32_t **tokens,
                              size_t *n) {
    return wicas_infer_prompt_tokens_ex(m, prompt, chat, chat, tokens, n);
}

/* The chat template's text of prompt (malloc'd, NUL-terminated, length in
 * *len): written into a buffer sized from the prompt (the template adds a
 * few markers and maybe a default system turn), so one pass in practice; a
 * longer template output is written again into the size it reported. */
static int chat_text(const wicas_infer_model *m, const char *prompt, size_t plen, char **out, size_t *len) {
    wicas_chat_msg msg = {"user", prompt};
    size_t cap = plen + 512, need = 0;
    for (int pass = 0; pass < 2; pass++) {
        char *text = malloc(cap + 1);
        if (!text) return WICAS_INFER_ENOMEM;
        int rc = wicas_tok_apply_chat(m->tok, &msg, 1, true, text, cap, &need);
        if (rc == 0) {
            text[need] = 0;
            *out = text;
            *len = need;
            return WICAS_INFER_OK;
        }
        free(text);
        if (rc != WICAS_TOK_ENOSPC) return tok_err(rc);
        cap = need;
    }
    return WICAS_INFER_ETOKEN; /* the template's length changed between passes: cannot happen */
}

int wicas_infer_prompt_tokens_ex(const wicas_infer_model *m, const char *prompt, bool chat,
                                 bool parse_special, int32_t **tokens, size_t *n) {
    if (!m || !prompt || !tokens || !n) return WICAS_INFER_EARG;
    *tokens = NULL;
    *n = 0;
    char *text = NULL;
    const char *src = prompt;
    size_t len = strlen(prompt);
    if (chat) {
        int rc = chat_text(m, prompt, len, &text, &len);
        if (rc != WICAS_INFER_OK) return rc;
        src = text;
    }
    /* the chat template writes its markers as special-token text, so it needs them read as ids */
    bool special = chat || parse_special;
    bool bos = wicas_tok_add_bos_default(m->tok);
    /* One encoding pass: the buffer has room for more tokens than text of
     * this length gives in practice (merges only shrink the byte count; BOS,
     * EOS and the prefix spaces of a SentencePiece model are a few more).
     * Only text that byte-falls-back nearly everywhere needs more: then the
     * encoder reports the count and the text is encoded again into that. */
    size_t cap = len + len / 2 + 8, cnt = 0;
    int32_t *t = NULL;
    int rc = WICAS_TOK_ENOSPC;
    for (int pass = 0; pass < 2 && rc == WICAS_TOK_ENOSPC; pass++) {
        free(t);
        t = malloc(sizeof *t * (cap ? cap : 1));
        if (!t) {
            free(text);
            return WICAS_INFER_ENOMEM;
        }
        rc = wicas_tok_encode(m->tok, src, len, bos, special, t, cap, &cnt);
        if (rc == WICAS_TOK_ENOSPC) cap = cnt; /* the exact count, for the second pass */
    }
    free(text);
    if (rc != 0) {
        free(t);
        return tok_err(rc);
    }
    if (cnt + 64 < cap) { /* callers may keep the tokens (priced requests): give the slack back */
        int32_t *shrunk = realloc(t, sizeof *t * (cnt ? cnt : 1));
        if (shrunk) t = shrunk;
    }
    *tokens = t;
    *n = cnt;
    return WICAS_INFER_OK;
}

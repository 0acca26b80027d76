/*
 * prompt.c — turning a request's prompt into the exact token sequence the
 * engine will run, without running it.
 *
 * The chain prices an inference before it starts (a request that cannot pay
 * must cost validators nothing), so it needs the prompt's token count with
 * the same chat formatting and BOS rule that wicas_infer_generate applies.
 */
#include <stdlib.h>
#include <string.h>

#include "infer.h"
#include "model.h"
#include "tokenizer.h"

/* A tokenizer error as the engine's code: out of memory stays a node fault
 * (ENOMEM), everything else is the request's (ETOKEN). */
static int tok_err(int rc) { return rc == WICAS_TOK_ENOMEM ? WICAS_INFER_ENOMEM : WICAS_INFER_ETOKEN; }

int wicas_infer_prompt_tokens(const wicas_infer_model *m, const char *prompt, bool chat, int32_t **tokens,
                              size_t *n) {
    return wicas_infer_prompt_tokens_ex(m, prompt, chat, chat, tokens, n);
}

int wicas_infer_prompt_tokens_ex(const wicas_infer_model *m, const char *prompt, bool chat, bool parse_special,
                                 int32_t **tokens, size_t *n) {
    if (!m || !prompt || !tokens || !n) return WICAS_INFER_EARG;
    *tokens = NULL;
    *n = 0;
    char *text = NULL;
    const char *src = prompt;
    size_t len = strlen(prompt);
    if (chat) {
        wicas_chat_msg msg = {"user", prompt};
        size_t need = 0;
        int rc = wicas_tok_apply_chat(m->tok, &msg, 1, true, NULL, 0, &need);
        if (rc != 0 && rc != WICAS_TOK_ENOSPC) return tok_err(rc);
        text = malloc(need + 1);
        if (!text) return WICAS_INFER_ENOMEM;
        if ((rc = wicas_tok_apply_chat(m->tok, &msg, 1, true, text, need, &need)) != 0) {
            free(text);
            return tok_err(rc);
        }
        text[need] = 0;
        src = text;
        len = need;
    }
    /* the chat template writes its markers as special-token text, so it needs them read as ids */
    bool special = chat || parse_special;
    bool bos = wicas_tok_add_bos_default(m->tok);
    size_t cnt = 0;
    int rc = wicas_tok_encode(m->tok, src, len, bos, special, NULL, 0, &cnt);
    if (rc != 0 && rc != WICAS_TOK_ENOSPC) {
        free(text);
        return tok_err(rc);
    }
    int32_t *t = malloc(sizeof *t * (cnt ? cnt : 1));
    if (!t) {
        free(text);
        return WICAS_INFER_ENOMEM;
    }
    rc = wicas_tok_encode(m->tok, src, len, bos, special, t, cnt, &cnt);
    free(text);
    if (rc != 0) {
        free(t);
        return tok_err(rc);
    }
    *tokens = t;
    *n = cnt;
    return WICAS_INFER_OK;
}

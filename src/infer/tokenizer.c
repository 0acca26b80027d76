/*
 * tokenizer.c — placeholder while the implementation lands (minutes).
 */
#include "tokenizer.h"
#include <stdlib.h>
const char *wicas_tok_strerror(int err) { (void)err; return "not implemented"; }
int wicas_tok_new(const wicas_tok_config *cfg, wicas_tokenizer **out, char *err, size_t errlen) {
    (void)cfg; (void)err; (void)errlen; if (out) *out = NULL; return WICAS_TOK_EINVAL; }
void wicas_tok_free(wicas_tokenizer *t) { (void)t; }

/* ai_internal.h — helpers shared by the AI module's files; not part of ai.h. */
#ifndef WICAS_AI_INTERNAL_H
#define WICAS_AI_INTERNAL_H
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Formats a message into err (if any) and returns code. */
int wicas_ai_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reads a non-negative integer given as a decimal string (canonical: no
 * leading zeros) or an exact JSON number; 0 or -1. */
int wicas_ai_json_u64(const cJSON *v, uint64_t *out);
/* A copy of in[0..n) that is valid UTF-8: every byte that does not start a
 * valid sequence becomes U+FFFD. malloc'd, NUL-terminated; NULL on OOM.
 * Generated text can end inside a multi-byte character (max_tokens cuts
 * anywhere), and contracts must receive a valid JSON string. */
char *wicas_ai_utf8_repair(const char *in, size_t n, size_t *out_len);
#endif

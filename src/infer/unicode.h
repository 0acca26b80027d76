/*
 * unicode.h — the little Unicode the tokenizers need: UTF-8 decoding that
 * never fails, and the character classes of the GPT-2 pre-tokenizer pattern
 * (\p{L} letters, \p{N} numbers, \s white space).
 *
 * Internal to src/infer. A compact range table instead of a dependency on ICU:
 * the classes must be the same on every validator, so they are compiled in.
 */
#ifndef WICAS_INFER_UNICODE_H
#define WICAS_INFER_UNICODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Character classes (exclusive). */
enum {
    WICAS_UCLASS_OTHER = 0,  /* anything else (punctuation, symbols, marks, ...) */
    WICAS_UCLASS_LETTER = 1, /* general category L* (Lu Ll Lt Lm Lo) */
    WICAS_UCLASS_NUMBER = 2, /* general category N* (Nd Nl No) */
    WICAS_UCLASS_SPACE = 3   /* Unicode White_Space: 9-13, 32, 0x85, 0xA0, 0x1680,
                                0x2000-0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 */
};

/* Class of code point cp (values above 0x10FFFF are OTHER). */
int wicas_unicode_class(uint32_t cp);

/* Sentinel added to a byte value for a byte that does not start a valid
 * UTF-8 sequence; such "code points" are class OTHER. */
#define WICAS_UTF8_INVALID 0x80000000u

/* Decodes one code point from s[0..len) (len >= 1). Returns the number of
 * bytes consumed (1..4) and stores the code point in *cp. Invalid, overlong,
 * surrogate or truncated sequences consume exactly one byte and give
 * WICAS_UTF8_INVALID | byte. Never reads past s[len-1]. */
size_t wicas_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);

/* Encodes cp (<= 0x10FFFF) as UTF-8 into out (4 bytes room); returns the
 * length, or 0 for values above 0x10FFFF. Surrogates are encoded as-is. */
size_t wicas_utf8_encode(uint32_t cp, uint8_t out[4]);

/* Length of the UTF-8 sequence a lead byte announces (1..4), or 1 for bytes
 * that cannot start a sequence. */
size_t wicas_utf8_len(uint8_t lead);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_INFER_UNICODE_H */

/* test_gguf_dup.c — duplicate metadata keys and tensor names are refused at
 * every count. The check used to be skipped above 4096 entries; GGUF images
 * are generated here in memory with 5000 keys and 5000 tensors: all distinct
 * they parse; one repeated key (entries far apart, and the last two) or one
 * repeated tensor name is refused with a message naming it and both
 * positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gguf.h"
#include "infer.h"

#define N 5000

typedef struct {
    uint8_t *b;
    size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->b = realloc(b->b, b->cap);
        assert_non_null(b->b);
    }
    memcpy(b->b + b->n, p, n);
    b->n += n;
}
static void put32(buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}
static void put64(buf *b, uint64_t v) {
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}
static void putstr(buf *b, const char *s) {
    put64(b, strlen(s));
    put(b, s, strlen(s));
}

/* n_kv uint32 keys "k.<i>" and n_t one-element F32 tensors "t.<i>"; key
 * kdup_b is renamed like kdup_a (and tensor tdup_b like tdup_a) when >= 0. */
static buf image(int n_kv, int n_t, int kdup_a, int kdup_b, int tdup_a, int tdup_b) {
    buf b = {0};
    put32(&b, 0x46554747u);
    put32(&b, 3);
    put64(&b, (uint64_t)n_t);
    put64(&b, (uint64_t)n_kv);
    char name[32];
    for (int i = 0; i < n_kv; i++) {
        snprintf(name, sizeof name, "k.%d", i == kdup_b ? kdup_a : i);
        putstr(&b, name);
        put32(&b, GGUF_T_UINT32);
        put32(&b, (uint32_t)i);
    }
    for (int i = 0; i < n_t; i++) {
        snprintf(name, sizeof name, "t.%d", i == tdup_b ? tdup_a : i);
        putstr(&b, name);
        put32(&b, 1);                /* dims */
        put64(&b, 1);                /* ne[0] */
        put32(&b, 0);                /* F32 */
        put64(&b, (uint64_t)i * 32); /* offsets aligned to 32 */
    }
    while (b.n % 32)
        put(&b, "", 1);
    for (int i = 0; i < n_t; i++) {
        float v = (float)i;
        put(&b, &v, 4);
        for (int k = 0; k < 28; k++)
            put(&b, "", 1);
    }
    return b;
}

static int parse(buf *b, char *err, size_t errlen) {
    gguf_file f;
    int rc = wicas_gguf_parse(b->b, b->n, &f, err, errlen);
    if (rc == 0) wicas_gguf_close(&f);
    free(b->b);
    return rc;
}

static void test_duplicates_at_any_count(void **st) {
    (void)st;
    char err[400];
    buf b = image(N, N, -1, -1, -1, -1);
    assert_int_equal(parse(&b, err, sizeof err), 0);

    b = image(N, N, 3, 4321, -1, -1);
    assert_int_equal(parse(&b, err, sizeof err), WICAS_INFER_EFORMAT);
    printf("%s\n", err);
    assert_non_null(strstr(err, "duplicate metadata key 'k.3' (entries 3 and 4321)"));

    b = image(N, N, N - 2, N - 1, -1, -1);
    assert_int_equal(parse(&b, err, sizeof err), WICAS_INFER_EFORMAT);
    assert_non_null(strstr(err, "duplicate metadata key"));

    b = image(N, N, -1, -1, 17, N - 1);
    assert_int_equal(parse(&b, err, sizeof err), WICAS_INFER_EFORMAT);
    printf("%s\n", err);
    assert_non_null(strstr(err, "duplicate tensor name 't.17' (descriptors 17 and 4999)"));

    /* small files still checked the same way */
    b = image(3, 2, 0, 2, -1, -1);
    assert_int_equal(parse(&b, err, sizeof err), WICAS_INFER_EFORMAT);
    b = image(3, 2, -1, -1, 0, 1);
    assert_int_equal(parse(&b, err, sizeof err), WICAS_INFER_EFORMAT);
    b = image(3, 2, -1, -1, -1, -1);
    assert_int_equal(parse(&b, err, sizeof err), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_duplicates_at_any_count)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

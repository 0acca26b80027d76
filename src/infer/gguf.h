/*
 * gguf.h — internal: a validating reader for GGUF v2/v3 model files over mmap.
 *
 * GGUF is a little-endian container: a header (magic "GGUF", version, tensor
 * count, key/value count), the key/value metadata, the tensor descriptors
 * (name, dims, type, offset), padding to general.alignment, then the tensor
 * data. wicas_gguf_open() maps the file and checks every length, count, type,
 * offset and size against the file before anything else may touch it, so the
 * rest of the engine can trust the parsed structure: a malformed file gives an
 * error message naming what is wrong and where (byte offset, key or tensor
 * name), never a crash. Strings point into the mapping (not NUL-terminated).
 */
#ifndef WICAS_GGUF_H
#define WICAS_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Metadata value types (GGUF spec numbering). */
typedef enum {
    GGUF_T_UINT8 = 0,
    GGUF_T_INT8 = 1,
    GGUF_T_UINT16 = 2,
    GGUF_T_INT16 = 3,
    GGUF_T_UINT32 = 4,
    GGUF_T_INT32 = 5,
    GGUF_T_FLOAT32 = 6,
    GGUF_T_BOOL = 7,
    GGUF_T_STRING = 8,
    GGUF_T_ARRAY = 9,
    GGUF_T_UINT64 = 10,
    GGUF_T_INT64 = 11,
    GGUF_T_FLOAT64 = 12,
    GGUF_T_COUNT = 13
} gguf_vtype;

/* Tensor element types (ggml numbering). Only the ones the engine knows how
 * to size are accepted by the reader; the rest are rejected with their number. */
typedef enum {
    GGML_F32 = 0,
    GGML_F16 = 1,
    GGML_Q4_0 = 2,
    GGML_Q4_1 = 3,
    GGML_Q5_0 = 6,
    GGML_Q5_1 = 7,
    GGML_Q8_0 = 8,
    GGML_Q8_1 = 9,
    GGML_Q2_K = 10,
    GGML_Q3_K = 11,
    GGML_Q4_K = 12,
    GGML_Q5_K = 13,
    GGML_Q6_K = 14,
    GGML_Q8_K = 15,
    GGML_IQ4_NL = 20,
    GGML_IQ4_XS = 23,
    GGML_BF16 = 30
} ggml_type;

typedef struct {
    const char *ptr;
    uint32_t len;
} gguf_str;

typedef struct {
    gguf_str key;
    gguf_vtype type;
    /* scalars */
    union {
        uint64_t u;
        int64_t i;
        double f;
        bool b;
        gguf_str s;
    } v;
    /* arrays: element type, count, and the raw element bytes in the file */
    gguf_vtype arr_type;
    uint64_t arr_n;
    const uint8_t *arr_data;
    gguf_str *arr_strs; /* string arrays: one entry per element (malloc'd) */
} gguf_kv;

#define GGUF_MAX_DIMS 4
typedef struct {
    gguf_str name;
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS]; /* ne[0] is the row length (innermost) */
    ggml_type type;
    uint64_t offset; /* relative to the data section */
    uint64_t n_elems;
    uint64_t n_bytes;
    const uint8_t *data;
} gguf_tensor;

typedef struct {
    int fd;
    const uint8_t *map;
    size_t size;
    uint32_t version;
    uint32_t alignment;
    uint64_t n_kv, n_tensors;
    gguf_kv *kv;
    gguf_tensor *tensors;
    uint64_t data_offset;
} gguf_file;

/* Block geometry of a tensor type: elements per block and bytes per block.
 * Returns false for a type this engine does not size. */
bool wicas_gguf_type_size(uint32_t type, uint32_t *block_elems, uint32_t *block_bytes);
const char *wicas_gguf_type_name(uint32_t type);

/* Opens and validates path. On success returns 0 and fills *f (free with
 * wicas_gguf_close). On failure returns a negative WICAS_INFER_E* code, writes a
 * message to err (errlen bytes, NUL-terminated) and leaves *f closed. */
int wicas_gguf_open(const char *path, gguf_file *f, char *err, size_t errlen);

/* Parses an in-memory image (no copy; buf must outlive f). Same checks. */
int wicas_gguf_parse(const uint8_t *buf, size_t size, gguf_file *f, char *err, size_t errlen);

void wicas_gguf_close(gguf_file *f);

/* Look-ups by key / tensor name (linear; files hold a few hundred entries). */
const gguf_kv *wicas_gguf_find(const gguf_file *f, const char *key);
const gguf_tensor *wicas_gguf_find_tensor(const gguf_file *f, const char *name);

/* Typed getters: return false when the key is absent or has a type that
 * cannot be converted exactly (e.g. a negative value asked as unsigned). */
bool wicas_gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out);
bool wicas_gguf_get_f64(const gguf_file *f, const char *key, double *out);
bool wicas_gguf_get_bool(const gguf_file *f, const char *key, bool *out);
bool wicas_gguf_get_str(const gguf_file *f, const char *key, gguf_str *out);
bool wicas_gguf_str_eq(gguf_str s, const char *c);

/* Array helpers: an array of the given element type, or NULL. */
const gguf_kv *wicas_gguf_find_array(const gguf_file *f, const char *key, gguf_vtype elem);

#endif

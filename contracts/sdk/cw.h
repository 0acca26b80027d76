/*
 * cw.h — a small C SDK for CosmWasm contracts (interface_version_8), compiled
 * with clang --target=wasm32 -nostdlib. No libc: the SDK brings its own
 * memcpy/memset, a bump allocator over memory.grow, the Region ABI, a JSON
 * reader (slices into the input, no tree) and writer, base64, storage
 * helpers over the db_* imports, and a Response builder.
 *
 * A contract defines its own exports, e.g.
 *   CW_EXPORT("execute") uint32_t execute(uint32_t env, uint32_t info, uint32_t msg) {
 *       cw_call c; cw_begin(&c, env, info, msg);
 *       ... return cw_ok(&resp) or cw_error("Unauthorized");
 *   }
 * Each call runs in a fresh instance, so the bump allocator never needs to
 * free: memory is reclaimed when the instance is dropped.
 */
#ifndef CW_H
#define CW_H

typedef unsigned char uint8_t;
typedef unsigned int uint32_t;
typedef int int32_t;
typedef unsigned long long uint64_t;
typedef long long int64_t;
typedef unsigned long size_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

#define CW_EXPORT(name) __attribute__((export_name(name), visibility("default")))
#define CW_IMPORT(name) __attribute__((import_module("env"), import_name(name)))

/* ---- Region ABI -------------------------------------------------------------- */
typedef struct {
    uint32_t offset, capacity, length;
} cw_region;

void *cw_alloc(size_t n);             /* bump allocation, 8-byte aligned; traps when memory is exhausted */
cw_region *cw_region_new(size_t cap); /* a Region with fresh data of capacity cap */
cw_region *cw_region_from(const void *data, size_t len); /* a Region describing existing bytes (no copy) */
uint32_t cw_rptr(const cw_region *r);

/* ---- libc bits ----------------------------------------------------------------- */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t cw_strlen(const char *s);
bool cw_eq(const char *a, size_t al, const char *b); /* a[0..al) == NUL-terminated b */

/* ---- JSON reading: slices ------------------------------------------------------------ */
typedef struct {
    const char *p;
    size_t n;
} cw_slice;

/* value of key in object obj; .p == NULL when absent or obj is not an object */
cw_slice cw_json_get(cw_slice obj, const char *key);
/* the single key of a {"variant":{...}} enum object; value in *val */
cw_slice cw_json_variant(cw_slice obj, cw_slice *val);
bool cw_json_is_null(cw_slice v);
/* decodes a JSON string (escapes handled; \u to UTF-8) into a fresh NUL-terminated buffer; NULL if not a
 * string */
char *cw_json_str(cw_slice v, size_t *len);
/* unsigned integer, either a JSON number or a decimal string ("123"); false on anything else or overflow */
bool cw_json_u64(cw_slice v, uint64_t *out);
bool cw_json_i64(cw_slice v, int64_t *out);
/* arrays: *it starts as {0}; returns false at the end */
bool cw_json_array_next(cw_slice arr, size_t *pos, cw_slice *item);
/* skips whitespace at both ends */
cw_slice cw_trim(cw_slice s);
/* true when s is one complete, well-formed JSON value */
bool cw_json_valid(cw_slice s);

/* ---- JSON / byte writing -------------------------------------------------------------- */
typedef struct {
    char *p;
    size_t n, cap;
} cw_buf;
void cw_put(cw_buf *b, const void *s, size_t n);
void cw_puts(cw_buf *b, const char *s);
void cw_put_jstr(cw_buf *b, const char *s, size_t n); /* quoted, escaped JSON string */
void cw_put_u64(cw_buf *b, uint64_t v);
void cw_put_i64(cw_buf *b, int64_t v);
void cw_put_b64(cw_buf *b, const uint8_t *d, size_t n); /* quoted base64 */
/* base64 decode; returns length or -1 */
long cw_b64_decode(const char *s, size_t n, uint8_t *out);

/* ---- imports wrappers ----------------------------------------------------------------- */
/* storage: cw_get returns false when absent */
bool cw_get(const void *key, size_t kl, uint8_t **val, size_t *vl);
void cw_set(const void *key, size_t kl, const void *val, size_t vl);
void cw_remove(const void *key, size_t kl);
/* iteration: start/end may be NULL; order 1 asc, 2 desc */
uint32_t cw_scan(const void *start, size_t sl, const void *end, size_t el, int order);
bool cw_next(uint32_t it, uint8_t **key, size_t *kl, uint8_t **val, size_t *vl);
/* address validation: NULL when valid, else the error message */
const char *cw_addr_validate(const char *addr, size_t len);
void cw_debug(const char *msg);
_Noreturn void cw_abort(const char *msg);
/* query_chain: raw SystemResult JSON bytes */
cw_slice cw_query_raw(const char *req, size_t len);

/* ---- a call --------------------------------------------------------------------------------- */
typedef struct {
    cw_slice env, info, msg;
} cw_call;
void cw_begin(cw_call *c, uint32_t env, uint32_t info, uint32_t msg); /* info may be 0 */
char *cw_sender(const cw_call *c, size_t *len);
char *cw_contract_addr(const cw_call *c, size_t *len);
uint64_t cw_block_height(const cw_call *c);
/* total amount of denom in info.funds (0 when absent); false on malformed funds */
bool cw_funds_amount(const cw_call *c, const char *denom, size_t dl, uint64_t *amount);

/* ---- responses ---------------------------------------------------------------------------------- */
typedef struct {
    cw_buf msgs, attrs, events;
    int n_msgs, n_attrs, n_events;
    const uint8_t *data;
    size_t data_len;
    bool has_data;
} cw_response;
void cw_resp_init(cw_response *r);
void cw_resp_attr(cw_response *r, const char *key, const char *val, size_t vl);
/* an event with n key/value pairs given as alternating strings */
void cw_resp_event(cw_response *r, const char *type, int n, const char *const *kv);
/* a SubMsg: msg_json is the CosmosMsg object; reply_on "never"/"success"/"error"/"always" */
void cw_resp_submsg(cw_response *r, uint64_t id, const char *msg_json, size_t ml, const char *reply_on);
void cw_resp_msg(cw_response *r, const char *msg_json, size_t ml); /* reply never, id 0 */
/* {"bank":{"send":{"to_address":to,"amount":[{"denom":d,"amount":a}]}}} */
void cw_resp_bank_send(cw_response *r, const char *to, const char *denom, uint64_t amount);
/* {"wasm":{"execute":{"contract_addr":c,"msg":base64(msg),"funds":[]}}} */
void cw_resp_wasm_execute(cw_response *r, const char *contract, const char *msg, size_t ml);
void cw_resp_data(cw_response *r, const uint8_t *d, size_t n);
/* {"ok":Response} as a Region pointer */
uint32_t cw_ok(cw_response *r);
/* {"ok":"base64(json)"} for queries */
uint32_t cw_query_ok(const char *json, size_t n);
/* {"error":"msg"} */
uint32_t cw_error(const char *msg);
uint32_t cw_errorn(const char *msg, size_t n);

#endif

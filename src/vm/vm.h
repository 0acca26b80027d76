/*
 * vm.h — the WICAS contract VM: CosmWasm-compatible contracts (interface_version_8)
 * run on wasmtime, metered, sandboxed and deterministic.
 *
 * Shape, and why:
 *   - One `wicas_vm` owns one wasmtime engine whose configuration is fixed for
 *     consensus (fuel metering on, NaN canonicalisation on, SIMD/threads off, a
 *     bounded wasm stack, explicit bounds checks instead of signal handlers, a
 *     memory limit per instance). Code is validated and compiled once by
 *     wicas_vm_store_code(); compiled modules live in an in-memory LRU and in an
 *     on-disk cache keyed by checksum AND engine fingerprint, every cache file
 *     carrying a SHA-256 of its payload that is checked BEFORE wasmtime is asked
 *     to deserialise it (deserialising untrusted bytes is unsafe).
 *   - The embedder (the chain) provides three small interfaces, each a struct of
 *     function pointers plus a ctx pointer, so the VM knows nothing about LMDB,
 *     bank balances or bech32 prefixes:
 *       wicas_vm_storage  an ordered key-value store (get/set/remove/seek)
 *       wicas_vm_querier  answers QueryRequest JSON (bank, wasm, custom: AI)
 *       wicas_vm_api      address validation / canonicalisation
 *   - Writes made by a contract during a call are buffered by the VM in a
 *     sorted write cache layered over the storage (reads and iterators see
 *     them) and flushed to the storage, in ascending key order, ONLY when the
 *     call returns {"ok":...}. A trap, out-of-gas, bad result or contract error
 *     leaves the storage untouched. The embedder still wraps a transaction
 *     around whole messages (sub-message rollback is the chain's business).
 *   - Gas is counted in CosmWasm gas (the unit wasmvm takes): one unit of
 *     wasmtime fuel (~one wasm instruction) = WICAS_VM_GAS_PER_FUEL gas, host
 *     calls have fixed + per-byte costs, SDK gas = CosmWasm gas /
 *     WICAS_VM_GAS_MULTIPLIER. See docs/VM-GAS.md. Gas is a function of the
 *     code and the inputs only: identical on every run, cold or warm cache.
 *
 * Thread safety: a wicas_vm may be used from one thread at a time. Several
 * wicas_vm in one process (the chain keeps one for blocks and one per query
 * slot) may run at once and share one cache_dir: disk-cache entries are
 * written to unique temporary names and renamed into place.
 */
#ifndef WICAS_VM_H
#define WICAS_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ------------------------------------------------------------ */
typedef enum {
    WICAS_VM_OK = 0,
    WICAS_VM_ERR_ARG = 1,          /* a NULL or out-of-range argument from the embedder */
    WICAS_VM_ERR_NOMEM = 2,        /* allocation failed */
    WICAS_VM_ERR_VALIDATION = 3,   /* store_code: module rejected by static checks */
    WICAS_VM_ERR_COMPILE = 4,      /* store_code: wasmtime could not compile it */
    WICAS_VM_ERR_NO_CODE = 5,      /* call: checksum unknown (store_code it first) */
    WICAS_VM_ERR_NO_ENTRY = 6,     /* call: the module does not export this entry point */
    WICAS_VM_ERR_OUT_OF_GAS = 7,   /* gas limit reached (wasm fuel or host-call gas) */
    WICAS_VM_ERR_TRAP = 8,         /* wasm trapped: unreachable, OOB access, stack exhausted, abort() ... */
    WICAS_VM_ERR_REGION = 9,       /* contract passed an invalid Region (bounds, overlap, too long) */
    WICAS_VM_ERR_RESULT = 10,      /* result is not valid UTF-8 / JSON / ContractResult */
    WICAS_VM_ERR_CONTRACT = 11,    /* contract returned {"error":"..."} */
    WICAS_VM_ERR_STORAGE = 12,     /* the embedder's storage reported a failure */
    WICAS_VM_ERR_INSTANTIATE = 13, /* linking/instantiation failed (memory limit at start, ...) */
    WICAS_VM_ERR_CACHE = 14,       /* disk cache I/O problem (never fatal for a call) */
    WICAS_VM_ERR_DEPTH = 15,       /* calls nested (through a querier) deeper than WICAS_VM_MAX_DEPTH */
} wicas_vm_status;

/* Nested wicas_vm_call()s (a querier answering a wasm smart query calls the
 * VM again, on the same native stack) deeper than this are refused (wasmd's
 * default query stack size is 10 too). Each level may use up to
 * max_wasm_stack of native stack: 10 x 256 KiB fits well in an 8 MiB thread. */
#define WICAS_VM_MAX_DEPTH 10

/* Static English text for a status code ("out of gas", ...). Never NULL. */
const char *wicas_vm_strerror(wicas_vm_status status);

/* true when a call ending with this status ended so on every node for the same
 * code and inputs (OK, validation/compile errors, no entry, out of gas, trap,
 * region, result, contract error, depth, instantiation limits): the chain may
 * record it as the transaction's outcome. false for node-local conditions
 * (NOMEM, STORAGE, CACHE, NO_CODE, ARG): the node must not commit a result
 * from such a call (retry after store_code, or halt) or it would diverge. */
bool wicas_vm_status_is_deterministic(wicas_vm_status status);

/* ---- gas ------------------------------------------------------------------------
 * CosmWasm gas per unit of wasmtime fuel (cosmwasm-vm 1.x+ charges 150,000 gas
 * per wasm operation; wasmtime charges 1 fuel for most operators). */
#define WICAS_VM_GAS_PER_FUEL 150000ULL
/* CosmWasm gas per Cosmos SDK gas (wasmd's DefaultGasMultiplier). */
#define WICAS_VM_GAS_MULTIPLIER 140000000ULL

/* ---- configuration --------------------------------------------------------------- */
typedef struct {
    const char *cache_dir; /* on-disk module cache directory, created if needed; NULL = none */
    uint64_t memory_limit; /* max linear memory per instance, bytes (default 32 MiB, wasmd's
                              ContractMemoryLimit) */
    size_t max_wasm_stack; /* native stack for wasm frames, bytes (default 256 KiB; see WICAS_VM_MAX_DEPTH) */
    size_t max_code_size;  /* max wasm size at store_code (default 800 KiB, wasmd's MaxWasmSize) */
    size_t lru_capacity;   /* compiled modules kept in memory (default 64) */
    uint32_t max_iterators;   /* db_scan iterators per call (default 32) */
    const char *capabilities; /* comma-separated capabilities this chain offers (copied); NULL =
                               * WICAS_VM_DEFAULT_CAPABILITIES. store_code refuses a contract that
                               * exports requires_<X> for an X not in this list, like wasmd. */
} wicas_vm_config;

/* What WICAS offers contracts: the iterator imports and the API levels of
 * cosmwasm-std 1.1 .. 2.2 (contracts built with cosmwasm-std 2.2 declare
 * requires_cosmwasm_2_2). Not offered: staking, stargate, ibc2 and chain
 * specific capabilities — there are no such modules. A request of an offered
 * API level that the chain has no module for (a distribution query, say)
 * gets a SystemError at run time, as on a wasmd chain without that module. */
#define WICAS_VM_DEFAULT_CAPABILITIES                                                                        \
    "iterator,cosmwasm_1_1,cosmwasm_1_2,cosmwasm_1_3,cosmwasm_1_4,cosmwasm_2_0,cosmwasm_2_1,cosmwasm_2_2"

/* Fills *cfg with the defaults above (cache_dir NULL). */
void wicas_vm_config_default(wicas_vm_config *cfg);

typedef struct wicas_vm wicas_vm;

/* Creates a VM. cfg may be NULL for defaults. Returns NULL on failure, with a
 * message in err (err may be NULL; errcap bytes including the NUL). */
wicas_vm *wicas_vm_new(const wicas_vm_config *cfg, char *err, size_t errcap);
void wicas_vm_free(wicas_vm *vm);

/* 32-byte engine fingerprint: SHA-256 of the wasmtime version, every consensus
 * relevant engine setting and the VM's host-interface version. Disk cache
 * entries are filed under its hex. */
void wicas_vm_engine_fingerprint(const wicas_vm *vm, uint8_t out[32]);

/* ---- code ---------------------------------------------------------------------
 * wicas_vm_store_code: validates wasm[0..len) (size limit, exactly one memory
 * exported as "memory", required exports allocate, deallocate,
 * interface_version_8 (as cosmwasm-vm: a contract without instantiate can be
 * stored, instantiating it fails with ERR_NO_ENTRY); optional instantiate,
 * execute, query, migrate (2 params, or 3 with MigrateInfo as cosmwasm-std 2.2
 * builds it), sudo, reply; every one of these with the signature the VM calls;
 * every requires_<X> marker naming a capability in cfg.capabilities; other
 * exports (ibc_*, linker symbols) are ignored; imports only
 * functions of module "env" from the CosmWasm host interface with the right
 * signatures; no start function; limits on functions (20000), globals (256),
 * tables (1 with <= 2500 elements), exports (100), imports (100), function
 * params (100)), then compiles it (or loads it from the disk cache) and keeps
 * it in memory. Idempotent. checksum_out (may be
 * NULL) receives SHA-256(wasm). On error, err (may be NULL) holds a message. */
wicas_vm_status wicas_vm_store_code(wicas_vm *vm, const uint8_t *wasm, size_t len, uint8_t checksum_out[32],
                                    char *err, size_t errcap);

/* true when code with this checksum is compiled and ready: in memory, or in
 * the disk cache, from which it is loaded and verified now (a corrupt entry is
 * removed and answers false, so the embedder calls store_code again). */
bool wicas_vm_has_code(wicas_vm *vm, const uint8_t checksum[32]);

/* Cache statistics since wicas_vm_new: compilations, disk loads, memory hits,
 * corrupt disk entries found and removed. */
typedef struct {
    uint64_t compiled, disk_hits, memory_hits, corrupt_entries;
} wicas_vm_cache_stats;
void wicas_vm_get_cache_stats(const wicas_vm *vm, wicas_vm_cache_stats *out);

/* Drops every compiled module kept in memory (the next call loads from disk). */
void wicas_vm_clear_memory_cache(wicas_vm *vm);

/* ---- embedder interfaces ------------------------------------------------------------ */

/* An ordered byte-string key-value store. Keys compare as unsigned bytes,
 * shorter-is-smaller on a common prefix (memcmp order). Every function returns
 * 0 on success, -1 on a storage failure (the call then fails with
 * WICAS_VM_ERR_STORAGE). Buffers returned through out-pointers are malloc'd
 * and owned by the caller (the VM frees them).
 *
 *   get:    *found = whether key exists; if so *val, *val_len = its value.
 *   set:    key := val (val_len may be 0).
 *   remove: deletes key (no error if absent).
 *   seek:   the first key k with start <= k < end that is strictly after
 *           `after` in the direction of `order` (1 ascending, 2 descending);
 *           after == NULL means from the beginning (ascending) or from the end
 *           (descending). start == NULL: unbounded below; end == NULL:
 *           unbounded above. *found = 0 when there is none; else *key, *key_len
 *           and *val, *val_len. A stateless seek keeps the interface trivial to
 *           implement on LMDB cursors or a sorted array, and lets the VM merge
 *           its write cache into iteration. */
typedef struct {
    void *ctx;
    int (*get)(void *ctx, const uint8_t *key, size_t key_len, int *found, uint8_t **val, size_t *val_len);
    int (*set)(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len);
    int (*remove)(void *ctx, const uint8_t *key, size_t key_len);
    int (*seek)(void *ctx, const uint8_t *start, size_t start_len, const uint8_t *end, size_t end_len,
                int order, const uint8_t *after, size_t after_len, int *found, uint8_t **key, size_t *key_len,
                uint8_t **val, size_t *val_len);
} wicas_vm_storage;

#define WICAS_VM_ORDER_ASCENDING 1
#define WICAS_VM_ORDER_DESCENDING 2

/* Answers a contract's query_chain(). request is the QueryRequest JSON the
 * contract sent (e.g. {"bank":{"balance":{...}}}, {"wasm":{"smart":{...}}},
 * {"custom":{"ai":{...}}}), not NUL terminated. The querier must set *response
 * to a malloc'd SystemResult<ContractResult<Binary>> JSON:
 *   {"ok":{"ok":"<base64 of the answer JSON>"}}   success
 *   {"ok":{"error":"msg"}}                        the queried contract/module refused
 *   {"error":{"unsupported_request":{"kind":"x"}}} system error (see cosmwasm-std SystemError)
 * (wicas_vm_query_ok / wicas_vm_query_error build the first two), and
 * *gas_used to the CosmWasm gas it consumed (<= gas_limit, else the call runs
 * out of gas). Returns 0, or -1 for an internal failure (the call fails). */
typedef struct {
    void *ctx;
    int (*query)(void *ctx, const char *request, size_t request_len, uint64_t gas_limit, char **response,
                 size_t *response_len, uint64_t *gas_used);
} wicas_vm_querier;

/* Builds {"ok":{"ok":"<base64(data)>"}} / {"ok":{"error":"<msg>"}}; malloc'd, NULL on OOM. */
char *wicas_vm_query_ok(const uint8_t *data, size_t len);
char *wicas_vm_query_error(const char *msg);

/* Address handling. canonicalize: human[0..len) -> canonical bytes (<= 64 in
 * out, *out_len set); humanize: canonical bytes -> NUL terminated human text in
 * out (cap bytes). Return 0, or -1 with a message in err (errcap bytes) for an
 * invalid address — that error goes back to the contract, it is not fatal.
 * addr_validate is canonicalize + humanize + compare (must round-trip). */
typedef struct {
    void *ctx;
    int (*canonicalize)(void *ctx, const char *human, size_t len, uint8_t *out, size_t *out_len, char *err,
                        size_t errcap);
    int (*humanize)(void *ctx, const uint8_t *canon, size_t len, char *out, size_t cap, char *err,
                    size_t errcap);
} wicas_vm_api;

/* A bech32 (BIP-173) Api with the given human-readable prefix (copied, <= 31
 * chars, lowercase), canonical addresses 1..64 bytes. Free with
 * wicas_vm_api_free. Returns NULL on a bad prefix or OOM. */
wicas_vm_api *wicas_vm_api_bech32(const char *prefix);
void wicas_vm_api_free(wicas_vm_api *api);

/* ---- in-memory storage (sorted array) for tests and `wicasd wasm run` ---------- */
typedef struct wicas_vm_memstore wicas_vm_memstore;
wicas_vm_memstore *wicas_vm_memstore_new(void);
void wicas_vm_memstore_free(wicas_vm_memstore *ms);
/* A storage view of ms (valid while ms lives). */
wicas_vm_storage wicas_vm_memstore_storage(wicas_vm_memstore *ms);
size_t wicas_vm_memstore_count(const wicas_vm_memstore *ms);
/* i-th entry in key order (i < count); pointers valid until the next write. */
void wicas_vm_memstore_entry(const wicas_vm_memstore *ms, size_t i, const uint8_t **key, size_t *key_len,
                             const uint8_t **val, size_t *val_len);
/* Direct access for embedders/tests; 0 or -1 (OOM). */
int wicas_vm_memstore_set(wicas_vm_memstore *ms, const uint8_t *key, size_t key_len, const uint8_t *val,
                          size_t val_len);
/* SHA-256 over all entries (len-prefixed key, len-prefixed value, in order): a
 * cheap way for tests to prove "state unchanged". */
void wicas_vm_memstore_digest(const wicas_vm_memstore *ms, uint8_t out[32]);

/* ---- calling a contract ---------------------------------------------------------- */
typedef enum {
    WICAS_VM_INSTANTIATE = 0, /* instantiate(env, info, msg) -> ContractResult<Response> */
    WICAS_VM_EXECUTE = 1,     /* execute(env, info, msg)     -> ContractResult<Response> */
    WICAS_VM_QUERY = 2,       /* query(env, msg)             -> ContractResult<Binary> */
    WICAS_VM_MIGRATE = 3,     /* migrate(env, msg)           -> ContractResult<Response> */
    WICAS_VM_SUDO = 4,        /* sudo(env, msg)              -> ContractResult<Response> */
    WICAS_VM_REPLY = 5,       /* reply(env, msg=Reply)       -> ContractResult<Response> */
} wicas_vm_entry;

/* Export name of an entry ("instantiate", ...), NULL for an invalid value. */
const char *wicas_vm_entry_name(wicas_vm_entry entry);

/* Env JSON as cosmwasm-std expects:
 * {"block":{"height":H,"time":"<nanos>","chain_id":"C"},
 *  "transaction":{"index":I} (omitted -> null when tx_index < 0),
 *  "contract":{"address":"A"}}. malloc'd; NULL on OOM or a NULL string. */
char *wicas_vm_env_json(uint64_t height, uint64_t time_nanos, const char *chain_id, int64_t tx_index,
                        const char *contract_addr);

/* One coin of funds: amount is a decimal Uint128 string ("100"). */
typedef struct {
    const char *denom;
    const char *amount;
} wicas_vm_coin;

/* MessageInfo JSON {"sender":"S","funds":[{"denom":"d","amount":"a"},...]}. */
char *wicas_vm_info_json(const char *sender, const wicas_vm_coin *funds, size_t n_funds);

/* MigrateInfo JSON (cosmwasm-std 2.2) {"sender":"S","old_migrate_version":N}
 * or ..."old_migrate_version":null when !has_old_version. sender is the
 * account that sent the migration; the version is that of the code the
 * contract is migrating FROM (see wicas_vm_code_migrate_version). */
char *wicas_vm_migrate_info_json(const char *sender, bool has_old_version, uint64_t old_version);

/* The contract's migrate version: the decimal u64 in the custom section
 * "cw_migrate_version" that cosmwasm-std 2.2's #[migrate_version(N)] emits.
 * Returns 1 and sets *version when present and a valid u64; 0 when absent or
 * not a decimal u64 (cosmwasm-vm reads such a section as "no version"); -1
 * for a malformed module. Reads only the section framing, no compilation. */
int wicas_vm_code_migrate_version(const uint8_t *wasm, size_t len, uint64_t *version);

/* The outcome of a call. Every pointer is malloc'd and released by
 * wicas_vm_result_free. */
typedef struct {
    wicas_vm_status status; /* WICAS_VM_OK or why it failed */
    char *error; /* NUL terminated message when status != OK (contract's own text for ERR_CONTRACT) */
    char *raw;   /* the exact result bytes the contract returned (NUL added), or NULL */
    size_t raw_len;
    char *ok_json;       /* the JSON text of the "ok" value (Response object, or "base64" string for query) */
    uint8_t *query_data; /* query only: base64-decoded Binary */
    size_t query_len;
    uint64_t gas_used;       /* CosmWasm gas, also on failure (= gas_limit when out of gas) */
    uint32_t storage_writes; /* writes+removes flushed to storage (0 unless OK) */
} wicas_vm_result;

void wicas_vm_result_free(wicas_vm_result *r);

/* Everything a call needs besides the code. info_json: MessageInfo JSON for
 * instantiate and execute; for migrate the MigrateInfo JSON, required only
 * when the contract's migrate takes it (3 parameters; a 2-parameter migrate
 * gets env and msg, as cosmwasm-vm's call_migrate_with_info does); NULL
 * otherwise. msg is JSON bytes (not necessarily NUL terminated).
 * querier and api may be NULL: query_chain then returns a SystemError and
 * address functions return an error to the contract. */
typedef struct {
    const char *env_json;
    const char *info_json;
    const uint8_t *msg;
    size_t msg_len;
    const wicas_vm_storage *storage;
    const wicas_vm_querier *querier;
    const wicas_vm_api *api;
    uint64_t gas_limit; /* CosmWasm gas */
    bool read_only;     /* queries: db_write/db_remove trap (set automatically for WICAS_VM_QUERY) */
    void (*debug)(void *ctx, const char *msg, size_t len); /* receives debug() output; NULL = dropped */
    void *debug_ctx;
} wicas_vm_call_params;

/* Runs one entry point of the code `checksum` in a fresh instance. Always
 * fills *result (free it with wicas_vm_result_free) and returns
 * result->status. The storage is written only when the status is OK. Errors
 * from the contract (ERR_CONTRACT) carry the contract's message; everything
 * else carries where and why it went wrong. The process is never at risk:
 * traps, out-of-gas, bad regions and bad results are contained. */
wicas_vm_status wicas_vm_call(wicas_vm *vm, const uint8_t checksum[32], wicas_vm_entry entry,
                              const wicas_vm_call_params *params, wicas_vm_result *result);

/* ---- parsed Response --------------------------------------------------------------- */
typedef struct {
    char *key, *value;
} wicas_vm_attr;

typedef struct {
    char *type;
    wicas_vm_attr *attrs;
    size_t n_attrs;
} wicas_vm_event;

typedef enum {
    WICAS_VM_REPLY_NEVER = 0,
    WICAS_VM_REPLY_SUCCESS = 1,
    WICAS_VM_REPLY_ERROR = 2,
    WICAS_VM_REPLY_ALWAYS = 3,
} wicas_vm_reply_on;

typedef struct {
    uint64_t id;
    char *msg_json; /* the CosmosMsg JSON ({"bank":{"send":...}}, {"wasm":{"execute":...}}, ...) */
    bool has_gas_limit;
    uint64_t gas_limit;
    wicas_vm_reply_on reply_on;
    char *payload_b64; /* cosmwasm-std 2.x SubMsg.payload, "" when absent */
} wicas_vm_submsg;

typedef struct {
    wicas_vm_submsg *messages; /* Response.messages (SubMsg list; plain messages have reply_on never) */
    size_t n_messages;
    wicas_vm_attr *attributes;
    size_t n_attributes;
    wicas_vm_event *events;
    size_t n_events;
    bool has_data;
    uint8_t *data; /* Response.data decoded from base64 */
    size_t data_len;
} wicas_vm_response;

/* Parses a Response JSON (result->ok_json of a non-query call). Checks field
 * types, reply_on values, base64 of data, u64 ids. Returns WICAS_VM_OK, or
 * WICAS_VM_ERR_RESULT with a message in err. Free with wicas_vm_response_free. */
wicas_vm_status wicas_vm_parse_response(const char *json, wicas_vm_response *out, char *err, size_t errcap);
void wicas_vm_response_free(wicas_vm_response *r);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_VM_H */

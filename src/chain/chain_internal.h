/*
 * chain_internal.h — shared by the files of src/chain: the chain handle, the
 * execution context every handler runs in (a layered state view plus a gas
 * meter plus the events it emitted), the state key layout, and the small
 * helpers for coins and events.
 *
 * An execution context (wctx) is what the Cosmos SDK calls a Context with a
 * cache-wrapped multistore: writes go to an overlay that is merged into the
 * parent on success or dropped on failure, and every store access is charged
 * to the gas meter with the SDK's KVGasConfig prices.
 */
#ifndef WICAS_CHAIN_INTERNAL_H
#define WICAS_CHAIN_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "chain.h"
#include "store.h"
#include "wchain.pb-c.h"

/* ---- gas prices (Cosmos SDK v0.50 defaults: store.KVGasConfig, x/auth Params) --- */
#define GAS_HAS 1000
#define GAS_DELETE 1000
#define GAS_READ_FLAT 1000
#define GAS_READ_PER_BYTE 3
#define GAS_WRITE_FLAT 2000
#define GAS_WRITE_PER_BYTE 30
#define GAS_ITER_NEXT 30
#define GAS_TX_SIZE_PER_BYTE 10
#define GAS_SIG_SECP256K1 1000
#define MAX_MEMO_CHARS 256
#define MAX_TX_BYTES (4u << 20)
#define SIMULATE_GAS_LIMIT 100000000ULL
#define MAX_BLOCK_TX_GAS 100000000ULL /* largest gas limit a tx may ask for */

/* ---- the chain handle -------------------------------------------------------------- */
/* Queries (and simulations) that may run at once; more wait for a slot.
 * CometBFT sends all its queries on one ABCI connection, answered in order,
 * so it uses one slot; the others serve extra ABCI connections and
 * in-process callers. */
#define CHAIN_QUERY_WORKERS 2
/* Most modules a chain may register (module.h). */
#define WICAS_MODULES_MAX 16

struct wicas_chain {
    wstore st;
    wicas_chain_options opts;
    char data_dir[512];
    char chain_id[128];
    int64_t initial_height;
    int64_t last_height;   /* last committed */
    uint8_t last_hash[32]; /* its app hash = tree root */
    int64_t last_time_ns;  /* its block time (meta, for queries' env.block.time) */

    /* pending block (between init_chain/finalize_block and commit) */
    bool pending;
    int64_t pending_height;
    uint8_t pending_root[32];
    kv wbase; /* base layer on st.wtxn */

    /* check state: overlay over a read snapshot of the last commit */
    MDB_txn *check_txn;
    kv check_base, check_ov;

    /* current block info for handlers */
    int64_t blk_height;
    int64_t blk_time_ns;
    int64_t tx_index;
    /* non-empty: this node hit a failure the others may not have (storage,
     * memory, VM cache, a registered model it cannot run: aimod.c); the
     * block must fail rather than commit a result
     * that could diverge. Reset by finalize_block, set by wicas_ctx_fail/wasm.c. */
    char halt[512];

    /* the block and tx being executed (any module may derive data from them,
     * e.g. the AI module's seeds) */
    uint8_t blk_hash[32]; /* hash of the block being executed */
    uint8_t tx_hash[32];  /* SHA-256 of the tx being executed */

    /* modules (module.h): shared state of each (NULL in views: a view reads
     * its chain's), and this handle's execution scratch; index = position in
     * the module table */
    void *mstate[WICAS_MODULES_MAX];
    void *mexec[WICAS_MODULES_MAX];
    const struct wicas_chain *view_of; /* views: the shared chain; NULL on it */
    int view_slot;                     /* views: the query slot */

    /* query slots (chain.c qview_*): queries and simulations run on views of
     * the last commit, at most CHAIN_QUERY_WORKERS at once (modules may keep
     * per-slot resources, e.g. the wasm module a contract VM per slot) */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    bool q_busy[CHAIN_QUERY_WORKERS];
};

/* ---- read-only views of the last commit (chain.c) ------------------------------------
 * wicas_qview_open waits for a free query slot, opens an LMDB read transaction and
 * fills q->v, a private chain handle whose height/app hash/chain id are those
 * of that transaction's commit and whose VM is the slot's. Run queries and
 * simulations on (q->v, q->txn), never on the shared chain; wicas_qview_close
 * aborts the transaction and frees the slot. Thread-safe (any thread). */
typedef struct {
    wicas_chain *c; /* the shared chain */
    wicas_chain *v; /* the view */
    MDB_txn *txn;   /* read transaction of the last commit */
    int slot;
} qview;
int wicas_qview_open(wicas_chain *c, qview *q, char *err, size_t errlen);
void wicas_qview_close(qview *q);
/* Simulates tx on view v (read transaction t), writes nothing. */
void wicas_chain_simulate_view(wicas_chain *v, MDB_txn *t, const uint8_t *tx, size_t len,
                               wicas_chain_tx_result *res);

/* ---- snapshot restore (chain.c, used by snapshot.c) ------------------------------- */
/* Puts the meta of a restored state at `height` (app hash = root) into write
 * transaction t; the caller commits t, then calls wicas_chain_reload. */
int wicas_chain_restore_install(wicas_chain *c, MDB_txn *t, int64_t height, const uint8_t root[32],
                                const char *chain_id, int64_t initial_height);
/* Re-reads height, app hash, chain id from the store and resets the check state. */
int wicas_chain_reload(wicas_chain *c);

/* ---- events ----------------------------------------------------------------------- */
typedef struct {
    wicas_chain_event *ev;
    size_t n, cap;
} evlist;

/* Adds an event with NULL-terminated key/value string pairs. Returns the event
 * (to add more attributes) or NULL on OOM. */
wicas_chain_event *wicas_ev_add(evlist *l, const char *type, ...);
int wicas_ev_attr(wicas_chain_event *e, const char *key, const char *value);
/* Appends (moves) all events of src to dst. */
int wicas_ev_move(evlist *dst, evlist *src);
void wicas_ev_free(evlist *l);

/* ---- execution context ------------------------------------------------------------ */
typedef struct wctx {
    wicas_chain *c;
    kv ov;      /* this context's writes */
    kv *parent; /* the view it reads through */
    uint64_t gas_limit, gas_used;
    bool out_of_gas;
    bool simulate; /* no signature check */
    bool check;    /* CheckTx (ante only) */
    bool query;    /* an ABCI query (smart queries: the node's AI query cap applies) */
    evlist ev;
    char err[512]; /* message of the first failure */
    uint32_t code; /* its ABCI code */
    const char *codespace;
    int depth; /* nested contract calls */
} wctx;

void wicas_ctx_init(wctx *x, wicas_chain *c, kv *parent, uint64_t gas_limit);
/* A child context sharing the gas meter with x (gas is copied back by wicas_ctx_end). */
void wicas_ctx_child(wctx *child, wctx *x);
/* Ends a child: on ok merges writes and events into the parent, else drops
 * them; gas always flows back. Returns 0 or an error. */
int wicas_ctx_end(wctx *child, wctx *x, bool ok);
void wicas_ctx_free(wctx *x);

/* Sets the failure code/message (first one wins); returns -1. */
int wicas_ctx_fail(wctx *x, uint32_t code, const char *codespace, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Charges gas; returns -1 (and fails with out of gas) when the limit is passed. */
int wicas_gas_use(wctx *x, uint64_t amount, const char *what);

/* Metered store access. get: 1 found (*v malloc'd), 0 absent, -1 failure (set). */
int wicas_st_get(wctx *x, const uint8_t *k, size_t kl, uint8_t **v, size_t *vl);
int wicas_st_set(wctx *x, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl);
int wicas_st_del(wctx *x, const uint8_t *k, size_t kl);
/* Iteration: next key >= lo (incl) or > lo within prefix; 1, 0 done, -1 failure */
int wicas_st_next(wctx *x, const uint8_t *lo, size_t lol, bool incl, uint8_t **k, size_t *kl, uint8_t **v,
                  size_t *vl);
int wicas_st_prev(wctx *x, const uint8_t *hi, size_t hil, bool incl, uint8_t **k, size_t *kl, uint8_t **v,
                  size_t *vl);

/* ---- helpers ------------------------------------------------------------------------ */
void wicas_be64_put(uint8_t *p, uint64_t v);
uint64_t wicas_be64_get(const uint8_t *p);
/* Parses a decimal u64 (no sign, no leading junk); returns 0 or -1. */
int wicas_parse_u64(const char *s, uint64_t *out);

/* Coins (coins.c): a sorted (by denom) list of (denom, amount) with amounts
 * > 0; the rules are chain.h's wicas_chain_coins_*, these are short names. */
typedef wicas_chain_coin coin;
static inline int coins_parse(const char *s, coin **out, size_t *n, char *err, size_t errlen) {
    return wicas_chain_coins_parse(s, out, n, err, errlen);
}
/* From protobuf Coin list, same checks; 0 or -1 with a message in err. */
int wicas_coins_from_pb(Wchain__Coin **pb, size_t n_pb, coin **out, size_t *n, char *err, size_t errlen);
static inline char *coins_str(const coin *c, size_t n) {
    return wicas_chain_coins_str(c, n);
}
static inline bool denom_valid(const char *d) {
    return wicas_chain_denom_valid(d);
}

/* Address as bech32 string (20 or 32 bytes). */
void wicas_addr_str(const uint8_t *a, size_t al, char out[100]);
/* Module account address: SHA-256(name)[0..20] (SDK address.Module without keys). */
void wicas_module_addr(const char *name, uint8_t out[20]);

/* Rewrites dst (cap bytes) as pre + dst + post, truncating (chain.c). */
void wicas_err_wrap(char *dst, size_t cap, const char *pre, const char *post);

/* ---- tx codec (tx.c) ---------------------------------------------------------------- */
typedef struct {
    Wchain__TxRaw *raw;
    Wchain__TxBody *body;
    Wchain__AuthInfo *auth;
    uint8_t pubkey[33];
    bool has_pubkey;
    uint8_t signer[20]; /* from the messages */
    coin *fee;
    size_t n_fee;
    uint64_t gas_limit;
    uint64_t sequence;
} wtx;

/* Decodes and validates a tx without state: parse errors (code 2), message
 * types (6), signer consistency (4), memo (12), fee coins (10), gas limit (41).
 * simulate: what the SDK accepts when simulating — no fee or gas 0, and
 * SIGN_MODE_UNSPECIFIED (the ante skips an empty signature).
 * On failure fills code/err. */
int wicas_wtx_decode(const uint8_t *tx, size_t len, bool simulate, wtx *t, uint32_t *code, char *err,
                     size_t errlen);
void wicas_wtx_free(wtx *t);
/* Verifies the signature over SignDoc(body, auth_info, chain_id, acc_num). */
bool wicas_wtx_verify(const wtx *t, const char *chain_id, uint64_t account_number);
/* The signer of a message given as Any; 0 ok (signer malloc'd) or -1. */
int wicas_msg_signer(const char *type_url, const uint8_t *val, size_t len, char **signer, uint32_t *code,
                     char *err, size_t errlen);

/* genesis.c */
int wicas_genesis_apply(wctx *x, const char *json, size_t len, char *err, size_t errlen);

/* query.c */
void wicas_chain_query_view(wicas_chain *c, const char *path, const uint8_t *data, size_t len, int64_t height,
                            bool prove, wicas_chain_query_result *res);
/* Runs a tx (ante + msgs) in ctx; used by finalize, check and simulate. */
void wicas_run_tx(wicas_chain *c, kv *parent, const uint8_t *tx, size_t len, int mode,
                  wicas_chain_tx_result *res);
enum { MODE_CHECK = 0, MODE_RECHECK = 1, MODE_DELIVER = 2, MODE_SIMULATE = 3 };

char *wicas_xstrdup(const char *s);
char *wicas_xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

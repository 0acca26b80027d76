/*
 * abci.h — the ABCI 2.0 socket server that CometBFT v0.38 drives, with an
 * application interface made of plain C structs.
 *
 * CometBFT opens four connections to the application (consensus, mempool,
 * query, snapshot). On each, every message is an unsigned varint length
 * followed by a protobuf tendermint.abci.Request; the application answers
 * each request with a Response, in order. This module hides all of that: an
 * application fills a wicas_abci_app vtable (info, init_chain, check_tx,
 * prepare/process_proposal, extend_vote, verify_vote_extension,
 * finalize_block, commit, query, snapshots) with functions that take and fill
 * the structs below, never protobuf types. The server calls the application
 * under ONE mutex whatever the connection (CometBFT's local-client
 * semantics), so the application needs no locking of its own — except that
 * an application setting concurrent_query gets its query callback called
 * WITHOUT the mutex, concurrently with everything else (the chain adapter
 * does: queries and Simulate never hold up the consensus connection).
 *
 * Memory rules (the same for every call):
 *   - Request structs are borrowed views, valid only during the call.
 *   - Response structs arrive zeroed. Every pointer the application stores in
 *     a response must come from malloc (or the wicas_abci_*_dup/add helpers);
 *     the server frees it with free() after encoding. Leave NULL/0 to omit.
 *   - A callback returns 0 on success. Any other value makes the server
 *     answer ResponseException with the text left in err (CometBFT then
 *     stops: an application failure must never be turned into a result).
 *
 * A NULL callback gets a documented default (see wicas_abci_app), so a tiny
 * test application needs only the calls it cares about.
 *
 * Also here: the varint framing primitives (exported for tests and tools).
 */
#ifndef WICAS_ABCI_H
#define WICAS_ABCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors --------------------------------------------------------------------- */
typedef enum {
    WICAS_ABCI_OK = 0,
    WICAS_ABCI_ERR_ARG = -1,      /* bad argument (NULL, malformed address) */
    WICAS_ABCI_ERR_IO = -2,       /* socket error, peer closed mid-frame */
    WICAS_ABCI_ERR_FRAME = -3,    /* bad varint, frame longer than the cap */
    WICAS_ABCI_ERR_DECODE = -4,   /* frame is not a valid Request */
    WICAS_ABCI_ERR_APP = -5,      /* the application's callback failed */
    WICAS_ABCI_ERR_NOMEM = -6,    /* out of memory */
    WICAS_ABCI_ERR_TRUNCATED = -7 /* varint/frame incomplete (need more bytes) */
} wicas_abci_status;

/* A static English description of a wicas_abci_status value. */
const char *wicas_abci_strerror(int code);

/* ---- framing ---------------------------------------------------------------------
 * A frame is uvarint(len) || len bytes. Protobuf's unsigned base-128 varint:
 * 7 bits per byte, least significant group first, high bit = "more follows". */

/* Largest frame accepted (bytes of protobuf after the length): 100 MiB, as
 * CometBFT's own socket code. A larger announced length is an error. */
#define WICAS_ABCI_MAX_FRAME ((uint64_t)100 * 1024 * 1024)
#define WICAS_ABCI_VARINT_MAX 10

/* Writes v as an unsigned varint to out (at least 10 bytes); returns the
 * number of bytes written (1..10). */
size_t wicas_abci_varint_put(uint64_t v, uint8_t out[WICAS_ABCI_VARINT_MAX]);

/* Reads an unsigned varint from in[0..len). Returns the bytes consumed (>0)
 * and sets *v; WICAS_ABCI_ERR_TRUNCATED when in ends before the last byte;
 * WICAS_ABCI_ERR_FRAME when it runs past 10 bytes or overflows 64 bits. */
int wicas_abci_varint_get(const uint8_t *in, size_t len, uint64_t *v);

/* ---- common value types ----------------------------------------------------------- */
typedef struct {
    const uint8_t *data; /* borrowed; may be NULL when len is 0 */
    size_t len;
} wicas_abci_slice;

typedef struct {
    uint8_t *data; /* malloc'd, owned by whoever holds the response */
    size_t len;
} wicas_abci_buf;

typedef struct {
    int64_t seconds; /* since the Unix epoch (block time from the header) */
    int32_t nanos;
} wicas_abci_time;

typedef struct {
    char *key;   /* malloc'd */
    char *value; /* malloc'd */
    bool index;
} wicas_abci_attr;

typedef struct {
    char *type; /* malloc'd */
    wicas_abci_attr *attrs;
    size_t n_attrs;
} wicas_abci_event;

/* A validator set change (InitChain / FinalizeBlock). key_type is "ed25519"
 * (32-byte key) or "secp256k1" (33-byte compressed key); power 0 removes. */
typedef struct {
    char key_type[16];
    uint8_t pub_key[33];
    size_t pub_key_len;
    int64_t power;
} wicas_abci_validator_update;

/* BlockIDFlag of a vote in a commit. */
enum {
    WICAS_ABCI_VOTE_UNKNOWN = 0,
    WICAS_ABCI_VOTE_ABSENT = 1,
    WICAS_ABCI_VOTE_COMMIT = 2,
    WICAS_ABCI_VOTE_NIL = 3
};

/* One validator's vote in the last commit. The vote extension and its
 * signature are present only in PrepareProposal (local_last_commit). */
typedef struct {
    wicas_abci_slice address; /* 20 bytes: SHA-256(pubkey)[0..20) */
    int64_t power;
    int block_id_flag;
    wicas_abci_slice vote_extension;
    wicas_abci_slice extension_signature;
} wicas_abci_vote;

/* Evidence of misbehaviour reported in a block. */
typedef struct {
    int type; /* 1 duplicate vote, 2 light client attack */
    wicas_abci_slice address;
    int64_t power;
    int64_t height;
    wicas_abci_time time;
    int64_t total_voting_power;
} wicas_abci_misbehavior;

/* ---- requests and responses ------------------------------------------------------- */
typedef struct {
    const char *version; /* CometBFT version */
    uint64_t block_version, p2p_version;
    const char *abci_version;
} wicas_abci_info_req;

typedef struct {
    char *data;    /* malloc'd free text (app name) */
    char *version; /* malloc'd application version string */
    uint64_t app_version;
    int64_t last_block_height; /* 0 before the first block */
    wicas_abci_buf last_block_app_hash;
} wicas_abci_info_resp;

typedef struct {
    wicas_abci_time time;
    const char *chain_id;
    int64_t initial_height;
    const wicas_abci_validator_update *validators;
    size_t n_validators;
    wicas_abci_slice app_state_bytes; /* genesis.json "app_state", raw JSON */
    /* Selected consensus parameters (0 when absent). */
    int64_t block_max_bytes, block_max_gas, vote_extensions_enable_height;
} wicas_abci_init_chain_req;

typedef struct {
    /* Leave n_validators 0 to accept the genesis validators as they are. */
    wicas_abci_validator_update *validators; /* malloc'd array */
    size_t n_validators;
    wicas_abci_buf app_hash;
} wicas_abci_init_chain_resp;

typedef struct {
    wicas_abci_slice tx;
    bool recheck; /* CheckTxType RECHECK (re-validation after a block) */
} wicas_abci_check_tx_req;

/* The result of one transaction (CheckTx, and each tx of FinalizeBlock). */
typedef struct {
    uint32_t code; /* 0 = ok */
    wicas_abci_buf data;
    char *log, *info, *codespace; /* malloc'd or NULL */
    int64_t gas_wanted, gas_used;
    wicas_abci_event *events; /* malloc'd array */
    size_t n_events;
} wicas_abci_tx_result;

typedef struct {
    wicas_abci_slice data;
    const char *path;
    int64_t height; /* 0 = latest */
    bool prove;
} wicas_abci_query_req;

typedef struct {
    char *type; /* malloc'd */
    wicas_abci_buf key, data;
} wicas_abci_proof_op;

typedef struct {
    uint32_t code;
    char *log, *info, *codespace;
    int64_t index;
    wicas_abci_buf key, value;
    wicas_abci_proof_op *proof_ops; /* malloc'd array */
    size_t n_proof_ops;
    int64_t height;
} wicas_abci_query_resp;

/*
 * The block-shaped requests: PrepareProposal, ProcessProposal, ExtendVote and
 * FinalizeBlock carry (nearly) the same fields, so they share one view.
 * Fields a request does not carry are zero: max_tx_bytes is set only for
 * PrepareProposal, where votes = local_last_commit (with extensions); for
 * ProcessProposal / ExtendVote votes = proposed_last_commit; for FinalizeBlock
 * votes = decided_last_commit. hash is empty in PrepareProposal.
 */
typedef struct {
    int64_t height;
    wicas_abci_time time;
    const wicas_abci_slice *txs;
    size_t n_txs;
    int64_t max_tx_bytes;
    wicas_abci_slice hash;
    wicas_abci_slice proposer_address;
    wicas_abci_slice next_validators_hash;
    int32_t round; /* round of the last commit */
    const wicas_abci_vote *votes;
    size_t n_votes;
    const wicas_abci_misbehavior *misbehavior;
    size_t n_misbehavior;
} wicas_abci_block_req;

typedef struct {
    wicas_abci_buf *txs; /* malloc'd array of malloc'd txs, in block order */
    size_t n_txs;
} wicas_abci_prepare_resp;

typedef struct {
    wicas_abci_slice hash;
    wicas_abci_slice validator_address;
    int64_t height;
    wicas_abci_slice vote_extension;
} wicas_abci_verify_vote_ext_req;

typedef struct {
    wicas_abci_event *events; /* block-level events; malloc'd array */
    size_t n_events;
    wicas_abci_tx_result *tx_results; /* malloc'd, exactly one per request tx */
    size_t n_tx_results;
    wicas_abci_validator_update *validator_updates;
    size_t n_validator_updates;
    wicas_abci_buf app_hash; /* the state root after this block */
} wicas_abci_finalize_resp;

typedef struct {
    int64_t retain_height; /* blocks below may be pruned; 0 keeps all */
} wicas_abci_commit_resp;

typedef struct {
    uint64_t height;
    uint32_t format, chunks;
    wicas_abci_buf hash, metadata;
} wicas_abci_snapshot;

/* OfferSnapshot / ApplySnapshotChunk results (CometBFT's enum values). */
enum { WICAS_ABCI_SNAPSHOT_UNKNOWN = 0, WICAS_ABCI_SNAPSHOT_ACCEPT = 1, WICAS_ABCI_SNAPSHOT_ABORT = 2 };
/* OfferSnapshot only */
enum { WICAS_ABCI_OFFER_REJECT = 3, WICAS_ABCI_OFFER_REJECT_FORMAT = 4, WICAS_ABCI_OFFER_REJECT_SENDER = 5 };
/* ApplySnapshotChunk only. RETRY means "this chunk was bad": the server
 * answers it with refetch_chunks = [index] and reject_senders = [sender]. */
enum {
    WICAS_ABCI_CHUNK_RETRY = 3,
    WICAS_ABCI_CHUNK_RETRY_SNAPSHOT = 4,
    WICAS_ABCI_CHUNK_REJECT_SNAPSHOT = 5
};

/* ---- the application vtable --------------------------------------------------------
 * ctx is passed back as the first argument of every call. err (errlen bytes)
 * receives a message when a call returns non-zero. */
typedef struct {
    void *ctx;
    /* NULL: answers empty data/version, height 0, no app hash. */
    int (*info)(void *ctx, const wicas_abci_info_req *req, wicas_abci_info_resp *resp, char *err,
                size_t errlen);
    /* NULL: accepts the genesis validators, empty app hash. */
    int (*init_chain)(void *ctx, const wicas_abci_init_chain_req *req, wicas_abci_init_chain_resp *resp,
                      char *err, size_t errlen);
    /* NULL: accepts every tx (code 0). */
    int (*check_tx)(void *ctx, const wicas_abci_check_tx_req *req, wicas_abci_tx_result *resp, char *err,
                    size_t errlen);
    /* NULL: code 1 "no query handler". */
    int (*query)(void *ctx, const wicas_abci_query_req *req, wicas_abci_query_resp *resp, char *err,
                 size_t errlen);
    /* NULL: wicas_abci_default_prepare (txs in order up to max_tx_bytes).
     * This is the hook where vote-extension contents are injected into the
     * proposal by the next proposer. */
    int (*prepare_proposal)(void *ctx, const wicas_abci_block_req *req, wicas_abci_prepare_resp *resp,
                            char *err, size_t errlen);
    /* NULL: accept. Set *accept = false to reject the proposal. */
    int (*process_proposal)(void *ctx, const wicas_abci_block_req *req, bool *accept, char *err,
                            size_t errlen);
    /* NULL: empty extension. */
    int (*extend_vote)(void *ctx, const wicas_abci_block_req *req, wicas_abci_buf *vote_extension, char *err,
                       size_t errlen);
    /* NULL: accept. */
    int (*verify_vote_extension)(void *ctx, const wicas_abci_verify_vote_ext_req *req, bool *accept,
                                 char *err, size_t errlen);
    /* Required for a real chain; NULL: every tx code 0, app hash unchanged (empty). */
    int (*finalize_block)(void *ctx, const wicas_abci_block_req *req, wicas_abci_finalize_resp *resp,
                          char *err, size_t errlen);
    /* Persists the state FinalizeBlock computed. NULL: nothing to do. */
    int (*commit)(void *ctx, wicas_abci_commit_resp *resp, char *err, size_t errlen);
    /* Snapshots. NULL: none offered; offers and chunks answered ABORT. */
    int (*list_snapshots)(void *ctx, wicas_abci_snapshot **snapshots, size_t *n, char *err, size_t errlen);
    int (*offer_snapshot)(void *ctx, const wicas_abci_snapshot *snapshot, wicas_abci_slice app_hash,
                          int *result, char *err, size_t errlen);
    int (*load_snapshot_chunk)(void *ctx, uint64_t height, uint32_t format, uint32_t chunk,
                               wicas_abci_buf *out, char *err, size_t errlen);
    int (*apply_snapshot_chunk)(void *ctx, uint32_t index, wicas_abci_slice chunk, const char *sender,
                                int *result, char *err, size_t errlen);
    /* false (default): query runs under the server's one mutex like every
     * other call. true: the application promises that query is thread-safe
     * and may run concurrently with every other callback (the chain adapter
     * answers queries from a read-only view of the last commit); the server
     * then calls it WITHOUT the mutex, so a slow query or simulation never
     * delays FinalizeBlock/Commit or CheckTx. */
    bool concurrent_query;
} wicas_abci_app;

/* The default PrepareProposal: copies req->txs in order while their summed
 * length stays <= req->max_tx_bytes (the first tx that would exceed it and
 * all after it are left out). Returns 0, or WICAS_ABCI_ERR_NOMEM. */
int wicas_abci_default_prepare(const wicas_abci_block_req *req, wicas_abci_prepare_resp *resp);

/* ---- response-building helpers (all allocate with malloc) ---------------------------
 * Each returns 0, or WICAS_ABCI_ERR_NOMEM leaving its target unchanged. */
char *wicas_abci_strdup(const char *s);                                  /* NULL on NULL or OOM */
int wicas_abci_buf_set(wicas_abci_buf *b, const void *data, size_t len); /* frees the old content */
/* Appends an event with no attributes to (*events, *n); returns it via *out. */
int wicas_abci_event_add(wicas_abci_event **events, size_t *n, const char *type, wicas_abci_event **out);
int wicas_abci_event_attr(wicas_abci_event *ev, const char *key, const char *value, bool index);

/* ---- one-shot dispatch ----------------------------------------------------------------
 * Decodes one Request (req[0..len), without the length prefix), calls app
 * under lock (a pthread_mutex_t*, may be NULL) and encodes the Response into
 * a fresh malloc'd *out / *out_len (no length prefix). Undecodable input or an
 * unknown/empty oneof yields a Response.exception and the return value
 * WICAS_ABCI_ERR_DECODE (the server then closes the connection); a failing
 * callback yields an exception and WICAS_ABCI_ERR_APP. *is_flush is set when
 * the request was Flush. Returns WICAS_ABCI_ERR_NOMEM with *out NULL only
 * when even the exception could not be built. */
int wicas_abci_dispatch(const wicas_abci_app *app, void *lock, const uint8_t *req, size_t len, uint8_t **out,
                        size_t *out_len, bool *is_flush);

/* ---- the server ---------------------------------------------------------------------- */
typedef struct wicas_abci_server wicas_abci_server;

/*
 * Creates a server bound and listening on address: "tcp://HOST:PORT" (HOST an
 * IPv4 address or "localhost"; PORT 0 picks a free port) or "unix://PATH" (an
 * existing socket file at PATH is replaced). app is copied; app->ctx must stay
 * valid until wicas_abci_server_free. No thread runs until _start.
 * Returns NULL with a message in err on a malformed address or a bind error.
 */
wicas_abci_server *wicas_abci_server_new(const char *address, const wicas_abci_app *app, char *err,
                                         size_t errlen);

/* The address actually listened on, with the real port ("tcp://127.0.0.1:41234"). */
const char *wicas_abci_server_address(const wicas_abci_server *srv);

/* Starts the accept thread: one thread per accepted connection. Returns 0 or
 * WICAS_ABCI_ERR_IO. */
int wicas_abci_server_start(wicas_abci_server *srv);

/* Number of connections currently open (for tests and logs). */
int wicas_abci_server_connections(wicas_abci_server *srv);

/* True once any connection failed with an application error (the node must
 * then stop: CometBFT will not continue either). */
bool wicas_abci_server_app_failed(wicas_abci_server *srv);

/* Stops accepting, shuts every connection down, joins all threads. Safe to
 * call twice. After it returns no callback is running or will run. */
void wicas_abci_server_stop(wicas_abci_server *srv);

/* Stops (if needed) and frees. NULL is ignored. */
void wicas_abci_server_free(wicas_abci_server *srv);

/* ---- the chain adapter (app_chain.c) ---------------------------------------------------
 * Available when wicas_abci is built together with the chain module (the
 * macro WICAS_ABCI_HAVE_CHAIN is then defined for users of this library).
 *
 * Fills *app with callbacks that run the WICAS state machine (chain.h) on the
 * already opened chain: info, init_chain (idempotent for the same chain id,
 * so a crash between InitChain and block 1 restarts cleanly), check_tx,
 * query, finalize_block, commit, the four snapshot calls, and the vote-extension calls of the
 * asynchronous AI path: extend_vote / verify_vote_extension (answers of
 * pending requests), prepare_proposal (the last commit's signed extensions
 * injected as the first tx, then the mempool's txs while they fit) and
 * process_proposal (that injection verified). query is concurrent
 * (concurrent_query = true): wicas_chain_query is thread-safe and answers
 * from the last commit. The chain
 * stays owned by the caller; close it after the server is stopped.
 * ctx is caller-owned storage for the adapter (it must outlive the server);
 * app->ctx points to it. Returns 0, or WICAS_ABCI_ERR_ARG on NULL input. */
typedef struct wicas_chain wicas_chain;
typedef struct wicas_chain_restore wicas_chain_restore;
typedef struct {
    wicas_chain *chain;
    uint8_t genesis_hash[32]; /* answered again if InitChain is repeated in-process */
    bool have_genesis;
    /* State-sync snapshots (set by the caller after wicas_abci_chain_app):
     * Commit takes one every snapshot_interval heights (0 = never), keeping
     * the newest snapshot_keep (0 = 2); ListSnapshots / LoadSnapshotChunk
     * serve them, OfferSnapshot / ApplySnapshotChunk restore one into an
     * empty state. restore is the restore in progress (free it with
     * wicas_chain_restore_free after the server stops). */
    int64_t snapshot_interval;
    unsigned snapshot_keep;
    wicas_chain_restore *restore;
    /* This node's genesis chain id and initial height (from genesis.json;
     * CometBFT does not call InitChain before state sync): a snapshot must
     * match them. Empty = unknown, and every offer is aborted. */
    char genesis_chain_id[128];
    int64_t genesis_initial_height;
    /* Test-only fault injector (`wicasd start --byzantine-snapshots MODE`,
     * tests/chaos): serve forged snapshots. WICAS_ABCI_BYZ_SNAP_NONE = honest. */
    int byzantine_snapshots;
} wicas_abci_chain_ctx;
/* byzantine_snapshots modes: FORGE_CHAIN_ID lists every snapshot with another
 * chain id in its metadata and the snapshot hash recomputed over it; BAD_CHUNK
 * serves chunks with one byte flipped; OVERSIZED_CHUNK serves each chunk
 * followed by 2 MiB of zeros (over WICAS_CHAIN_SNAPSHOT_CHUNK_BYTES). */
enum {
    WICAS_ABCI_BYZ_SNAP_NONE,
    WICAS_ABCI_BYZ_SNAP_FORGE_CHAIN_ID,
    WICAS_ABCI_BYZ_SNAP_BAD_CHUNK,
    WICAS_ABCI_BYZ_SNAP_OVERSIZED_CHUNK
};
int wicas_abci_chain_app(wicas_abci_chain_ctx *ctx, wicas_chain *chain, wicas_abci_app *app);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_ABCI_H */

/*
 * chain.h — the WICAS state machine: everything between "CometBFT delivered
 * these bytes" and "this is the new app hash". It is the boundary between the
 * ABCI socket layer (src/abci, which speaks protobuf to CometBFT) and the
 * application: accounts, bank, wasm, fees, gas and the authenticated store.
 *
 * Shape of the interface, and why:
 *   - The ABCI layer calls these functions in CometBFT's order:
 *       open -> info -> [init_chain] -> { check_tx* , finalize_block, commit }*
 *     and query at any time. All calls on one wicas_chain must be serialised
 *     by the caller (one mutex in the ABCI layer), EXCEPT wicas_chain_query
 *     and wicas_chain_simulate: those are thread-safe and may run on any
 *     thread concurrently with every other call (each runs on a private
 *     read-only view of the last commit; see query.c), which is how the ABCI
 *     layer keeps queries off the consensus connection. The custom_query hook
 *     may therefore be called from several threads at once.
 *   - Results are plain C structs owned by the caller and released with the
 *     matching *_free function, so the ABCI layer can copy them into its own
 *     protobuf messages without knowing our internals.
 *   - State lives in LMDB. A block's writes go into ONE LMDB write transaction,
 *     opened by finalize_block and committed by commit, together with the
 *     height and app hash: a process killed at any instant restarts at the last
 *     committed height with the same hash.
 *   - The app hash is the root of a sparse Merkle tree over SHA-256(key) with
 *     shortcut leaves (see store.h). Queries with prove=true return a proof
 *     op of type WICAS_CHAIN_PROOF_OP_TYPE that wicas_chain_verify_proof checks
 *     (inclusion or exclusion).
 *   - Transactions use the Cosmos SDK wire format (TxRaw, SIGN_MODE_DIRECT,
 *     secp256k1) so CosmJS and other Cosmos clients can sign for this chain.
 *     Helper functions to build and sign them are exported for the CLI.
 */
#ifndef WICAS_CHAIN_H
#define WICAS_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants ----------------------------------------------------------------- */
#define WICAS_CHAIN_DENOM "uwicas"        /* native fee / staking denomination */
#define WICAS_CHAIN_BECH32_PREFIX "wicas" /* account address prefix */
#define WICAS_CHAIN_PROOF_OP_TYPE "wicas:smt"
#define WICAS_CHAIN_STORE_NAME "main" /* the one store name in "store/main/key" */

/* ---- library error codes (returned by the int functions below) --------------- */
typedef enum {
    WICAS_CHAIN_OK = 0,
    WICAS_CHAIN_ERR_INVALID = -1, /* bad argument or malformed input */
    WICAS_CHAIN_ERR_IO = -2,      /* LMDB / file system failure */
    WICAS_CHAIN_ERR_CORRUPT = -3, /* stored data inconsistent (bad node, bad meta) */
    WICAS_CHAIN_ERR_STATE = -4,   /* call out of order (commit without finalize...) */
    WICAS_CHAIN_ERR_NOMEM = -5,
    WICAS_CHAIN_ERR_NOT_FOUND = -6,
    WICAS_CHAIN_ERR_PROOF = -7,  /* proof does not verify */
    WICAS_CHAIN_ERR_CRYPTO = -8, /* key / signature failure */
} wicas_chain_err;

/* Static English text for a wicas_chain_err value; never NULL. */
const char *wicas_chain_strerror(int err);

/* ---- tx result codes (ABCI code + codespace "sdk", as the Cosmos SDK uses) --- */
#define WICAS_CHAIN_CODESPACE_SDK "sdk"
#define WICAS_CHAIN_CODESPACE_WASM "wasm"
enum {
    WICAS_CODE_OK = 0,
    WICAS_CODE_INTERNAL = 1,     /* storage failure while running the tx */
    WICAS_CODE_TX_DECODE = 2,    /* malformed tx bytes */
    WICAS_CODE_UNAUTHORIZED = 4, /* bad signature / wrong signer / wrong account number */
    WICAS_CODE_INSUFFICIENT_FUNDS = 5,
    WICAS_CODE_UNKNOWN_REQUEST = 6, /* unknown message type or query path */
    WICAS_CODE_INVALID_ADDRESS = 7,
    WICAS_CODE_INVALID_PUBKEY = 8,
    WICAS_CODE_UNKNOWN_ADDRESS = 9, /* signer account does not exist */
    WICAS_CODE_INVALID_COINS = 10,
    WICAS_CODE_OUT_OF_GAS = 11,
    WICAS_CODE_MEMO_TOO_LARGE = 12,
    WICAS_CODE_INSUFFICIENT_FEE = 13,
    WICAS_CODE_TOO_MANY_SIGNATURES = 14,
    WICAS_CODE_NO_SIGNATURES = 15,
    WICAS_CODE_INVALID_REQUEST = 18,
    WICAS_CODE_TX_TOO_LARGE = 21,
    WICAS_CODE_KEY_NOT_FOUND = 22, /* query: account / contract / code not found */
    WICAS_CODE_INVALID_CHAIN_ID = 28,
    WICAS_CODE_WRONG_SEQUENCE = 32,
    WICAS_CODE_NOT_FOUND = 38,
    WICAS_CODE_INVALID_GAS_LIMIT = 41,
};
/* Codes in codespace "wasm" (wasmd's x/wasm/types/errors.go) */
enum {
    WICAS_WASM_CODE_CREATE_FAILED = 2,
    WICAS_WASM_CODE_INSTANTIATE_FAILED = 4,
    WICAS_WASM_CODE_EXECUTE_FAILED = 5,
    WICAS_WASM_CODE_GAS_LIMIT = 6,
    WICAS_WASM_CODE_INVALID_GENESIS = 7,
    WICAS_WASM_CODE_NOT_FOUND = 8,
    WICAS_WASM_CODE_QUERY_FAILED = 9,
    WICAS_WASM_CODE_INVALID_MSG = 10,
    WICAS_WASM_CODE_MIGRATION_FAILED = 11,
    WICAS_WASM_CODE_EMPTY = 12,
    WICAS_WASM_CODE_LIMIT = 13,
    WICAS_WASM_CODE_INVALID = 14,
    WICAS_WASM_CODE_DUPLICATE = 15,
    WICAS_WASM_CODE_MAX_IBC_CHANNELS = 16,
    WICAS_WASM_CODE_UNSUPPORTED_FOR_CONTRACT = 17,
    WICAS_WASM_CODE_UNKNOWN_MSG = 20,
    WICAS_WASM_CODE_INVALID_EVENT = 21,
    WICAS_WASM_CODE_NO_SUCH_CONTRACT = 22,
    WICAS_WASM_CODE_NO_SUCH_CODE = 28,
};

/* ---- hooks for modules above/beside the chain (AI module, vote extensions) ---- */
typedef struct wicas_chain wicas_chain;
typedef struct wicas_chain_block wicas_chain_block;

typedef struct {
    void *ctx; /* passed back to every hook */
    /* Answers a contract's `custom` query (QueryRequest::Custom JSON). On
     * success writes a malloc'd JSON response and returns 0; else returns
     * non-zero with a message in err. NULL = custom queries are unsupported. */
    int (*custom_query)(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *resp_len,
                        char *err, size_t errlen);
    /* Called at the start of finalize_block before any tx, e.g. to apply data
     * agreed in vote extensions. Non-zero return fails the block. NULL = none. */
    int (*begin_block)(void *ctx, wicas_chain *c, const wicas_chain_block *b, char *err, size_t errlen);
    void *reserved[8]; /* zero; room for vote-extension hooks */
} wicas_chain_hooks;

/* Options for wicas_chain_open. Zero-initialise, then set what you need. */
typedef struct {
    /* Minimum gas price enforced by CheckTx (not by FinalizeBlock, as in the
     * SDK): fee >= ceil(gas_limit * min_gas_price_num / min_gas_price_den)
     * uwicas. den 0 = no minimum. */
    uint64_t min_gas_price_num, min_gas_price_den;
    size_t map_size; /* LMDB map size in bytes; 0 = 4 GiB */
    bool no_sync;    /* MDB_NOSYNC: survives process kills, not power loss (tests) */
    wicas_chain_hooks hooks;
    /* The AI module's engine host (src/ai): runs {"ai":{"infer":...}} custom
     * queries of contracts on registered models. NULL = this node cannot run
     * inference; a block that needs it then fails (never a divergent answer). */
    struct wicas_ai_host *ai_host;
    /* Test option: this validator reports a wrong (but self-consistent)
     * answer for asynchronous requests in its vote extensions. */
    bool ai_wrong_answer;
    /* Inference reached from ABCI smart queries (a contract's query entry
     * point asking {"ai":{"infer"}} or a run_program with models): at most
     * this many generated tokens per request; 0 = none (the querier gets a
     * clear error). Like wasmd's --wasm.query_gas_limit, a node's own policy:
     * queries never feed consensus. Transactions and simulate ignore it. */
    uint32_t ai_query_max_tokens;
    /* Test-only fault injector (`wicasd start --byzantine MODE`, used by
     * tests/chaos): a WICAS_BYZ_* mode; WICAS_BYZ_NONE (0) is an honest node. */
    int byzantine;
} wicas_chain_options;

/* Byzantine behaviours of wicas_chain_options.byzantine (tests only):
 *   OMIT, REORDER, DUPLICATE, FORGE: as proposer, the injected vote-extension
 *     transaction drops the last vote / swaps the first two / repeats the
 *     first / carries the first extension with one byte changed after signing;
 *   UNKNOWN_ID: every vote extension also answers a request id that does not
 *     exist (validly hashed, signed by CometBFT as usual).
 * Honest validators must reject each (ProcessProposal / VerifyVoteExtension)
 * except OMIT, which is well formed and only weakens that block's tally. */
enum {
    WICAS_BYZ_NONE,
    WICAS_BYZ_OMIT,
    WICAS_BYZ_REORDER,
    WICAS_BYZ_DUPLICATE,
    WICAS_BYZ_FORGE,
    WICAS_BYZ_UNKNOWN_ID
};

/* ---- results ---------------------------------------------------------------------- */
typedef struct {
    char *key;
    char *value;
    bool index;
} wicas_chain_attr;

typedef struct {
    char *type;
    wicas_chain_attr *attrs;
    size_t n_attrs;
} wicas_chain_event;

/* Result of check_tx / one tx of finalize_block / simulate. code 0 = ok;
 * otherwise codespace + log say why. Release with wicas_chain_tx_result_free. */
typedef struct {
    uint32_t code;
    char *codespace; /* NULL when code is 0 */
    char *log;       /* human-readable; never NULL after a call */
    uint8_t *data;   /* TxMsgData protobuf (msg responses), may be NULL */
    size_t data_len;
    int64_t gas_wanted, gas_used;
    wicas_chain_event *events;
    size_t n_events;
} wicas_chain_tx_result;

/* A block as finalize_block sees it. The txs are borrowed for the call. */
struct wicas_chain_block {
    int64_t height;
    int64_t time_seconds; /* block time (consensus time, never the wall clock) */
    int32_t time_nanos;
    uint8_t hash[32];
    uint8_t proposer[20];
    const uint8_t *const *txs;
    const size_t *tx_lens;
    size_t n_txs;
};

typedef struct {
    char *type;
    uint8_t *key;
    size_t key_len;
    uint8_t *data;
    size_t data_len;
} wicas_chain_proof_op;

/* Result of a query. code 0 = found/answered (for store queries a missing key
 * is code 0 with value NULL and, with prove, an exclusion proof). */
typedef struct {
    uint32_t code;
    char *log;
    char *codespace;
    uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
    int64_t height; /* height the answer is for */
    wicas_chain_proof_op *ops;
    size_t n_ops;
} wicas_chain_query_result;

/* ---- lifecycle --------------------------------------------------------------------- */

/* Opens (creating if needed) the state in directory data_dir (LMDB files
 * data.mdb/lock.mdb). opts may be NULL for defaults. On success *out is a new
 * handle and 0 is returned; on failure returns a wicas_chain_err and writes a
 * message to err (errlen may be 0). */
int wicas_chain_open(const char *data_dir, const wicas_chain_options *opts, wicas_chain **out, char *err,
                     size_t errlen);

/* Checks every model registered in the committed state against this node's
 * model files (opts.ai_host): present, same SHA-256 and size, loadable.
 * Returns 0, or WICAS_CHAIN_ERR_NOT_FOUND with a message naming the model and
 * what is wrong. A node runs this at start-up and refuses to start on failure:
 * it must never answer an inference differently from the other validators. */
int wicas_chain_check_models(wicas_chain *c, char *err, size_t errlen);

/* Closes the handle. An uncommitted block (finalize without commit) is
 * discarded. NULL is allowed. */
void wicas_chain_close(wicas_chain *c);

/* Last committed height (0 before the first block) and its app hash. After a
 * restart this is where CometBFT replays from. */
void wicas_chain_info(wicas_chain *c, int64_t *last_height, uint8_t app_hash[32]);

/* Chain id stored by init_chain ("" before). */
const char *wicas_chain_id(wicas_chain *c);

/* InitChain: stores chain_id and the genesis app_state (JSON; see genesis.c for
 * the schema: bank.balances, auth.accounts, params, wasm.codes) and returns the
 * genesis app hash. The genesis state is committed immediately (height 0 with
 * initial_height remembered). Fails with ERR_STATE when already initialised,
 * ERR_INVALID (message in err) when the JSON is malformed; nothing changes on
 * failure. */
int wicas_chain_init_chain(wicas_chain *c, const char *chain_id, int64_t initial_height,
                           const char *app_state_json, size_t len, uint8_t app_hash[32], char *err,
                           size_t errlen);

/* The genesis validator set, as InitChain delivers it: ed25519 keys (the
 * address is SHA-256(pub_key)[0..20), as CometBFT derives it) and powers. */
typedef struct {
    uint8_t pub_key[32];
    int64_t power;
} wicas_chain_validator;

/* Like wicas_chain_init_chain, and also stores the validator set in state
 * (key "val/set", part of the app hash): the asynchronous AI path verifies
 * vote-extension signatures and tallies voting power against it. Fails
 * (ERR_INVALID) on a non-positive power, a duplicate key or more than 256
 * validators. n = 0 stores no set (asynchronous requests then never resolve
 * by votes, only by timeout). */
int wicas_chain_init_chain_validators(wicas_chain *c, const char *chain_id, int64_t initial_height,
                                      const char *app_state_json, size_t len,
                                      const wicas_chain_validator *vals, size_t n_vals, uint8_t app_hash[32],
                                      char *err, size_t errlen);

/* CheckTx: decodes and verifies tx against the check state (signature,
 * account number, sequence, fee >= min gas price, gas limit, balance) and, on
 * success, applies the ante effects (fee deduction, sequence+1) to the check
 * state only, so several txs of one sender can wait in the mempool. recheck
 * is CometBFT's re-check after a block. Never touches committed state.
 * res is overwritten (free it afterwards). */
void wicas_chain_check_tx(wicas_chain *c, const uint8_t *tx, size_t len, bool recheck,
                          wicas_chain_tx_result *res);

/* FinalizeBlock: runs b's txs in order. results must have b->n_txs entries
 * (each is overwritten). *events/n_events get the block-level events
 * (malloc'd; may be NULL/0). app_hash gets the new root. A failing tx does not
 * fail the block (its code is in results); a non-zero return means the block
 * could not be executed at all (storage failure, wrong height) and nothing was
 * applied. A failure local to this node while running a tx (storage, memory,
 * a non-deterministic VM status, a missing AI model) also fails the block
 * (ERR_IO / ERR_STATE, message in err) instead of recording an outcome the
 * other validators may not share: the node must stop. */
int wicas_chain_finalize_block(wicas_chain *c, const wicas_chain_block *b, wicas_chain_tx_result *results,
                               wicas_chain_event **events, size_t *n_events, uint8_t app_hash[32], char *err,
                               size_t errlen);

/* ---- asynchronous inference through vote extensions (aiasync.c) -----------------
 * Contracts ask with the custom message {"ai":{"request":{...,"callback":..}}};
 * every validator computes the pending requests in the background (an AI
 * worker thread owned by the chain when opts.ai_host is set) and reports its
 * answers in its vote extension; the next proposer injects the signed
 * extensions of the last commit as the block's first transaction; the block
 * resolves each request whose answer has more than 2/3 of the voting power
 * (or that can no longer reach it, or whose deadline passed) and calls the
 * contract's sudo {"ai_result":{...}}. docs/ARCHITECTURE.md has the details. */

/* One vote of the last commit, as PrepareProposal sees it (borrowed views). */
typedef struct {
    const uint8_t *address; /* 20 bytes */
    int64_t power;
    int block_id_flag; /* 2 = COMMIT: only those carry extensions */
    const uint8_t *extension;
    size_t extension_len;
    const uint8_t *signature; /* ed25519 over CometBFT's vote-extension sign bytes */
    size_t signature_len;
} wicas_chain_vote;

/* ExtendVote for `height`: the answers this node has for requests pending in
 * the committed state, as the extension (malloc'd; NULL/0 when it has none).
 * Also hands new pending requests to the worker. Returns 0 or an error. */
int wicas_chain_extend_vote(wicas_chain *c, int64_t height, uint8_t **ext, size_t *ext_len);

/* VerifyVoteExtension: true when `ext` from `validator` (20 bytes) is empty
 * or well formed — JSON of the documented shape, ids ascending and pending,
 * hashes matching the texts, sizes within limits. Otherwise false with the
 * reason in why. */
bool wicas_chain_verify_vote_extension(wicas_chain *c, int64_t height, const uint8_t *validator,
                                       size_t validator_len, const uint8_t *ext, size_t len, char *why,
                                       size_t whylen);

/* PrepareProposal for block `height`: the transaction that carries the
 * non-empty extensions of votes[0..n) (the local last commit, round `round`)
 * into the block; it must be the block's first tx. *tx NULL when there is
 * nothing to inject. Returns 0 or ERR_NOMEM. */
int wicas_chain_vote_injection(wicas_chain *c, int64_t height, int32_t round, const wicas_chain_vote *votes,
                               size_t n, uint8_t **tx, size_t *len);

/* True when tx is an injected vote-extension transaction (by its magic). */
bool wicas_chain_is_vote_injection(const uint8_t *tx, size_t len);

/* ProcessProposal: false (reason in why) when a vote-extension transaction
 * stands anywhere but first, or the first one does not verify: wrong height,
 * unknown validator or power, bad signature, malformed extension. */
bool wicas_chain_process_proposal(wicas_chain *c, int64_t height, const uint8_t *const *txs,
                                  const size_t *lens, size_t n, char *why, size_t whylen);

/* Commit: makes the finalized block durable (one LMDB commit holding state,
 * tree nodes, height and hash) and resets the check state to it.
 * *retain_height gets 0 (keep all blocks). Returns 0 or an error (ERR_STATE
 * when no block is pending). */
int wicas_chain_commit(wicas_chain *c, int64_t *retain_height);

/* Query: path is one of
 *   "/cosmos.auth.v1beta1.Query/Account", "/cosmos.bank.v1beta1.Query/Balance",
 *   "/cosmos.bank.v1beta1.Query/AllBalances", "/cosmwasm.wasm.v1.Query/<X>" for X
 *   in SmartContractState RawContractState ContractInfo Code Codes ContractsByCode,
 *   "/cosmos.tx.v1beta1.Service/Simulate" (data = protobuf request, value =
 *   protobuf response), "/wicas.ai.v1.Query/Models" (no data; value = JSON
 *   array of registry entries), "/wicas.ai.v1.Query/Program" (data = 64 hex
 *   digits of a program's SHA-256; value = JSON), or "store/main/key" (data = raw store key; with prove
 *   the result has one WICAS_CHAIN_PROOF_OP_TYPE op).
 * height 0 = latest committed; a past height is answered from the versioned
 * tree for store queries (others answer at the latest height only and fail
 * for other heights with code WICAS_CODE_INVALID_REQUEST).
 * Thread-safe, also against finalize_block/commit on another thread: the
 * answer comes from the state of ONE commit, and res->height is its height
 * (a block finalized but not committed is never seen). At most
 * CHAIN_QUERY_WORKERS (2) queries/simulations run at once; more wait. */
void wicas_chain_query(wicas_chain *c, const char *path, const uint8_t *data, size_t len, int64_t height,
                       bool prove, wicas_chain_query_result *res);

/* Simulate: runs tx_bytes (signature check skipped when the tx carries no
 * signatures or empty ones) on a throw-away copy of the latest state and
 * reports gas used and events. Thread-safe like wicas_chain_query. */
void wicas_chain_simulate(wicas_chain *c, const uint8_t *tx, size_t len, wicas_chain_tx_result *res);

void wicas_chain_tx_result_free(wicas_chain_tx_result *r);
void wicas_chain_events_free(wicas_chain_event *ev, size_t n);
void wicas_chain_query_result_free(wicas_chain_query_result *r);

/* ---- proofs -------------------------------------------------------------------------- */

/* Verifies that `proof` (the data of a WICAS_CHAIN_PROOF_OP_TYPE op) shows
 * key -> value under root app_hash (value != NULL), or that key is absent
 * (value == NULL). Returns 0 when it verifies, WICAS_CHAIN_ERR_PROOF when it
 * does not, WICAS_CHAIN_ERR_INVALID when the proof bytes are malformed. */
int wicas_chain_verify_proof(const uint8_t app_hash[32], const uint8_t *key, size_t key_len,
                             const uint8_t *value, size_t value_len, const uint8_t *proof, size_t proof_len);

/* ---- state-sync snapshots (snapshot.c) ---------------------------------------------
 * A snapshot is the committed key/value state at one height, exported from
 * the LMDB "state" database in key order and cut into chunks of about
 * chunk_bytes: each chunk is records [u32 BE key length][key][u32 BE value
 * length][value]. Its metadata (format WICAS_CHAIN_SNAPSHOT_FORMAT) holds
 * "WSS1", the height, the number of keys, the initial height, the chain id and the
 * SHA-256 of every chunk; the snapshot hash is SHA-256(metadata). Files:
 * DATA_DIR/snapshots/<height, 20 digits>/{metadata,chunk-NNNNNN}, written
 * under a temporary name and renamed into place when complete.
 * Restoring rebuilds the sparse Merkle tree from the chunks in ONE LMDB write
 * transaction that commits only when the rebuilt root equals the app hash the
 * caller trusts (CometBFT's light client gives it): a bad snapshot leaves
 * nothing on disk. Chunks are checked against their hash as they arrive and
 * written into that transaction at once, so the restore holds no chunk data
 * (at most WICAS_CHAIN_RESTORE_HELD_MAX bytes besides the metadata, whatever
 * the snapshot's size). The metadata's chain id and initial height must equal
 * the joining node's genesis. */
#define WICAS_CHAIN_SNAPSHOT_FORMAT 1u
#define WICAS_CHAIN_SNAPSHOT_CHUNK_BYTES (1u << 20)

typedef struct {
    int64_t height;
    uint32_t format, chunks;
    uint8_t hash[32];
    uint8_t *metadata; /* malloc'd */
    size_t metadata_len;
} wicas_chain_snapshot;
void wicas_chain_snapshots_free(wicas_chain_snapshot *s, size_t n);

/* Snapshots the last committed state (call right after commit, with no block
 * pending) and keeps only the newest `keep` (>= 1) snapshots. chunk_bytes 0 =
 * WICAS_CHAIN_SNAPSHOT_CHUNK_BYTES. Returns 0 (also when that height is
 * already there), or an error with a message. */
int wicas_chain_snapshot_take(wicas_chain *c, unsigned keep, size_t chunk_bytes, char *err, size_t errlen);
/* The snapshots on disk, newest first (*out malloc'd, free with
 * wicas_chain_snapshots_free; *n may be 0). Incomplete ones are skipped. */
int wicas_chain_snapshot_list(wicas_chain *c, wicas_chain_snapshot **out, size_t *n);
/* Chunk `index` of the snapshot at height/format: 0 with *out malloc'd, or
 * WICAS_CHAIN_ERR_NOT_FOUND. */
int wicas_chain_snapshot_chunk(wicas_chain *c, int64_t height, uint32_t format, uint32_t index, uint8_t **out,
                               size_t *len);

/* Outcomes of a restore step (the ABCI layer maps them to CometBFT's). */
typedef enum {
    WICAS_CHAIN_RESTORE_ACCEPT = 0,        /* offer taken / chunk taken (restore done after the last) */
    WICAS_CHAIN_RESTORE_REJECT = 1,        /* this snapshot is bad or does not match the trusted hash */
    WICAS_CHAIN_RESTORE_REJECT_FORMAT = 2, /* offer in a format we do not know */
    WICAS_CHAIN_RESTORE_RETRY_CHUNK = 3,   /* chunk does not match its hash: fetch it again elsewhere */
    WICAS_CHAIN_RESTORE_ABORT = 4,         /* cannot restore here (state not empty, storage failure) */
} wicas_chain_restore_result;

typedef struct wicas_chain_restore wicas_chain_restore;
/* Starts restoring snapshot s into c, whose state must be empty (no height,
 * no genesis). app_hash is the trusted app hash of s->height; chain_id and
 * initial_height are this node's genesis (from its genesis.json: CometBFT
 * does not call InitChain on a node that state-syncs), and a snapshot of
 * another chain is REJECTed (ABORT when chain_id is NULL/empty). On ACCEPT *out
 * is the restore in progress; otherwise *out is NULL and err says why. */
wicas_chain_restore_result wicas_chain_restore_begin(wicas_chain *c, const wicas_chain_snapshot *s,
                                                     const uint8_t app_hash[32], const char *chain_id,
                                                     int64_t initial_height, wicas_chain_restore **out,
                                                     char *err, size_t errlen);
/* Chunk `index` (chunks come in order 0..chunks-1). After the last one is
 * accepted the state is installed (height, app hash, chain id) and *done is
 * set; REJECT then means the rebuilt root differed and nothing was written.
 * Keep calling with the same r after RETRY_CHUNK; free r after REJECT/ABORT
 * or when done. */
wicas_chain_restore_result wicas_chain_restore_chunk(wicas_chain_restore *r, uint32_t index,
                                                     const uint8_t *chunk, size_t len, bool *done, char *err,
                                                     size_t errlen);
void wicas_chain_restore_free(wicas_chain_restore *r);
/* The most bytes r has held at once (its state and the metadata copy; chunks
 * are not kept): <= WICAS_CHAIN_RESTORE_HELD_MAX + metadata length. */
#define WICAS_CHAIN_RESTORE_HELD_MAX 4096u
size_t wicas_chain_restore_held_peak(const wicas_chain_restore *r);

/* ---- coin lists (coins.c; the one parser, for the chain and the CLI) ---------------
 * Text form "AMOUNTdenom[,AMOUNTdenom...]", e.g. "10uwicas,5ufoo", with the
 * Cosmos SDK's rules: AMOUNT decimal digits, > 0, fitting 64 bits; denom
 * [a-zA-Z][a-zA-Z0-9/:._-]{2,127}, but at most WICAS_CHAIN_COIN_DENOM_MAX
 * characters in a parsed coin; no denom twice. A parsed list is sorted by
 * denom (sdk.Coins order). */
#define WICAS_CHAIN_COIN_DENOM_MAX 127
typedef struct {
    char denom[WICAS_CHAIN_COIN_DENOM_MAX + 1];
    uint64_t amount;
} wicas_chain_coin;
/* Parses s into a malloc'd sorted array (*out, *n; free with free()); "" or
 * NULL is the empty list (*out NULL, *n 0). Returns 0, ERR_INVALID with the
 * offending coin named in err, or ERR_NOMEM; on error *out is NULL. */
int wicas_chain_coins_parse(const char *s, wicas_chain_coin **out, size_t *n, char *err, size_t errlen);
/* c[0..n) as text ("10uwicas,5ufoo"; "" when n is 0), malloc'd; NULL when
 * out of memory. */
char *wicas_chain_coins_str(const wicas_chain_coin *c, size_t n);
/* Whether d matches the SDK denom regex [a-zA-Z][a-zA-Z0-9/:._-]{2,127}. */
bool wicas_chain_denom_valid(const char *d);

/* ---- addresses and keys (client side; no consensus state) -------------------------- */

/* addr20 = RIPEMD-160(SHA-256(pubkey33)), the Cosmos secp256k1 address. */
void wicas_chain_pubkey_address(const uint8_t pubkey33[33], uint8_t addr20[20]);
/* Compressed public key of a 32-byte secret key; returns 0 or ERR_CRYPTO. */
int wicas_chain_pubkey_from_secret(const uint8_t secret[32], uint8_t pubkey33[33]);
/* Bech32 with prefix "wicas" of a 20-byte (account) or 32-byte (contract)
 * address into out (>= 80 bytes). Returns 0 or ERR_INVALID. */
int wicas_chain_addr_encode(const uint8_t *addr, size_t len, char *out, size_t cap);
/* Decodes a "wicas1..." address; *len gets 20 or 32. Returns 0 or ERR_INVALID
 * (bad checksum, wrong prefix, other length). */
int wicas_chain_addr_decode(const char *s, uint8_t addr[32], size_t *len);
/* RIPEMD-160 (exposed for the test vectors). */
void wicas_chain_ripemd160(const void *data, size_t len, uint8_t out[20]);

/* ---- signing (the client's half of signature verification) ------------------------
 * wicas_chain_sign_doc_hash: SHA-256 of SignDoc{body, auth_info, chain_id,
 * account_number}, the digest SIGN_MODE_DIRECT signs. wicas_chain_sign_hash:
 * a low-S compact secp256k1 signature (RFC 6979 nonce) of a 32-byte digest.
 * Both return 0 or a WICAS_CHAIN_ERR_* code. The builders and the keyring
 * are the client's (src/client/client.h). */
int wicas_chain_sign_doc_hash(const uint8_t *body, size_t body_len, const uint8_t *auth_info, size_t auth_len,
                              const char *chain_id, uint64_t account_number, uint8_t hash[32]);
int wicas_chain_sign_hash(const uint8_t secret[32], const uint8_t hash[32], uint8_t sig64[64]);

/* ValidateBasic of one message (an Any's type URL and value) by the module
 * that routes it, as CheckTx would run it: 0, or WICAS_CHAIN_ERR_INVALID with
 * the chain's message in err (an unknown type included). */
int wicas_chain_msg_check(const char *type_url, const uint8_t *val, size_t len, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_CHAIN_H */

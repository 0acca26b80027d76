/*
 * client.h — the client side of the chain, for `wicasd` commands, tests and
 * benchmarks: building and signing transactions, the encrypted file keyring,
 * and the codecs between CLI arguments / JSON and the chain's protobuf
 * queries. Nothing here touches chain state; the node never calls it.
 * Layering: above src/chain (it uses chain.h's wire types, addresses and
 * signing), below src/cli.
 */
#ifndef WICAS_CLIENT_H
#define WICAS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- building and signing transactions (for the CLI and tests) ---------------------- */

/* A message packed as google.protobuf.Any. */
typedef struct {
    char *type_url; /* e.g. "/cosmos.bank.v1beta1.MsgSend" */
    uint8_t *value; /* protobuf bytes of the message */
    size_t value_len;
} wicas_chain_any;
void wicas_chain_any_free(wicas_chain_any *a);

/* Message builders. Addresses are bech32 strings; amounts like "10uwicas" or
 * "10uwicas,5foo"; JSON messages are passed through verbatim. Each returns 0
 * and fills *out (free with wicas_chain_any_free), or ERR_INVALID with a
 * message in err. */
int wicas_chain_msg_send(const char *from, const char *to, const char *amount, wicas_chain_any *out, char *err,
                         size_t errlen);
int wicas_chain_msg_store_code(const char *sender, const uint8_t *wasm, size_t wasm_len, wicas_chain_any *out,
                               char *err, size_t errlen);
int wicas_chain_msg_instantiate(const char *sender, const char *admin /* NULL or "" = none */, uint64_t code_id,
                                const char *label, const char *json_msg, const char *funds /* NULL = none */,
                                wicas_chain_any *out, char *err, size_t errlen);
int wicas_chain_msg_execute(const char *sender, const char *contract, const char *json_msg,
                            const char *funds /* NULL = none */, wicas_chain_any *out, char *err, size_t errlen);
/* The AI module's messages (src/chain/aimsg.c):
 *   register_model: authority = the signer (must be the chain's registry
 *     authority); model_json = a registry entry as wicas_ai_model_to_json
 *     writes it (name, sha256, size, arch, params, gas);
 *   store_program: a wasm32-wasi command module (<= 1 MiB). */
int wicas_chain_msg_register_model(const char *authority, const char *model_json, wicas_chain_any *out, char *err,
                                   size_t errlen);
int wicas_chain_msg_store_program(const char *sender, const uint8_t *wasm, size_t wasm_len, wicas_chain_any *out,
                                  char *err, size_t errlen);
int wicas_chain_msg_migrate(const char *sender, const char *contract, uint64_t code_id, const char *json_msg,
                            wicas_chain_any *out, char *err, size_t errlen);

/* Parameters of a transaction to sign. */
typedef struct {
    const char *chain_id;
    uint64_t account_number;
    uint64_t sequence;
    uint64_t gas_limit;
    const char *fee;  /* e.g. "2000uwicas"; NULL or "" = no fee */
    const char *memo; /* NULL = "" */
} wicas_chain_tx_params;

/* Builds TxBody(msgs, memo) + AuthInfo(SignerInfo(pubkey, SIGN_MODE_DIRECT,
 * sequence), Fee(fee, gas_limit)), signs SHA-256(SignDoc) with secret (RFC6979,
 * low-S compact 64 bytes) and writes the TxRaw bytes (malloc'd) to *tx.
 * With secret NULL, pubkey33 is used and the signature is left empty (for
 * simulation). Returns 0 or an error with a message. */
int wicas_chain_tx_build_sign(const uint8_t *secret, const uint8_t *pubkey33, const wicas_chain_tx_params *p,
                              const wicas_chain_any *msgs, size_t n_msgs, uint8_t **tx, size_t *tx_len, char *err,
                              size_t errlen);

/* SHA-256 of a tx's bytes (CometBFT's tx hash) as 64 uppercase hex + NUL. */
void wicas_chain_tx_hash_hex(const uint8_t *tx, size_t len, char out[65]);

/* ---- file keyring (client side: `wicasd keys`) -------------------------------------
 * One file per key, DIR/NAME.key (mode 0600), JSON holding the name, address
 * and public key in clear and the 32-byte secp256k1 secret encrypted with
 * AES-256-GCM under a key derived from the passphrase by scrypt (N=2^15, r=8,
 * p=1; random 16-byte salt, 12-byte nonce; name and address are authenticated
 * data, so a file cannot be renamed into another key). Names: 1..63 of
 * [A-Za-z0-9_.-], not starting with '.'. */
typedef struct {
    char name[64];
    char address[100];
    uint8_t pubkey[33];
} wicas_chain_key_info;

/* Creates DIR (0700) if needed and stores a new key: `secret` or, when NULL,
 * 32 random bytes from /dev/urandom. Fails (ERR_INVALID) when the name is
 * taken or invalid, the passphrase is empty or the secret is not a valid
 * secp256k1 key. *out (may be NULL) gets the key's info. */
int wicas_chain_keyring_add(const char *dir, const char *name, const char *passphrase, const uint8_t *secret,
                            wicas_chain_key_info *out, char *err, size_t errlen);
/* Decrypts key NAME: secret (may be NULL to only check) and info. Wrong
 * passphrase or a modified file: ERR_CRYPTO; missing: ERR_NOT_FOUND. */
int wicas_chain_keyring_load(const char *dir, const char *name, const char *passphrase, uint8_t secret[32],
                             wicas_chain_key_info *out, char *err, size_t errlen);
/* Public info of NAME (no passphrase needed). */
int wicas_chain_keyring_info(const char *dir, const char *name, wicas_chain_key_info *out, char *err, size_t errlen);
/* All keys, sorted by name (malloc'd array; *n may be 0). A missing DIR is an
 * empty keyring. */
int wicas_chain_keyring_list(const char *dir, wicas_chain_key_info **out, size_t *n, char *err, size_t errlen);
int wicas_chain_keyring_delete(const char *dir, const char *name, char *err, size_t errlen);

/* ---- client-side query codecs (for the CLI; no chain state) ------------------------
 * Builds the protobuf request for a query path from simple arguments:
 *   /cosmos.auth.v1beta1.Query/Account          address
 *   /cosmos.bank.v1beta1.Query/Balance          address, denom
 *   /cosmos.bank.v1beta1.Query/AllBalances      address
 *   /cosmwasm.wasm.v1.Query/SmartContractState  address, bytes (JSON query)
 *   /cosmwasm.wasm.v1.Query/RawContractState    address, bytes (raw key)
 *   /cosmwasm.wasm.v1.Query/ContractInfo        address
 *   /cosmwasm.wasm.v1.Query/Code                id
 *   /cosmwasm.wasm.v1.Query/Codes               (none)
 *   /cosmwasm.wasm.v1.Query/ContractsByCode     id
 *   /cosmos.tx.v1beta1.Service/Simulate         bytes (tx)
 *   /wicas.ai.v1.Query/Request                  id (the value rendered is the chain's JSON record)
 * Returns 0 with a malloc'd *out, or ERR_INVALID with a message. */
typedef struct {
    const char *address;
    const char *denom;
    const uint8_t *bytes;
    size_t bytes_len;
    uint64_t id;
} wicas_chain_query_args;
int wicas_chain_query_request(const char *path, const wicas_chain_query_args *a, uint8_t **out, size_t *out_len,
                              char *err, size_t errlen);
/* Renders a query response (protobuf value of `path`) as JSON text in the
 * shape the Cosmos SDK's CLI prints (numbers as strings, bytes as base64, a
 * smart query's data as the contract's JSON). malloc'd; NULL if malformed. */
char *wicas_chain_query_response_json(const char *path, const uint8_t *value, size_t len);

#ifdef __cplusplus
}
#endif
#endif

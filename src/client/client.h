/*
 * client.h — the client side of the chain, for `wicasd` commands, tests and
 * benchmarks: building and signing transactions, the encrypted file keyring,
 * BIP-39 mnemonics and BIP-32 key derivation,
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
int wicas_chain_msg_send(const char *from, const char *to, const char *amount, wicas_chain_any *out,
                         char *err, size_t errlen);
int wicas_chain_msg_store_code(const char *sender, const uint8_t *wasm, size_t wasm_len, wicas_chain_any *out,
                               char *err, size_t errlen);
int wicas_chain_msg_instantiate(const char *sender, const char *admin /* NULL or "" = none */,
                                uint64_t code_id, const char *label, const char *json_msg,
                                const char *funds /* NULL = none */, wicas_chain_any *out, char *err,
                                size_t errlen);
int wicas_chain_msg_execute(const char *sender, const char *contract, const char *json_msg,
                            const char *funds /* NULL = none */, wicas_chain_any *out, char *err,
                            size_t errlen);
/* The AI module's messages (src/chain/aimsg.c):
 *   register_model: authority = the signer (must be the chain's registry
 *     authority); model_json = a registry entry as wicas_ai_model_to_json
 *     writes it (name, sha256, size, arch, params, gas);
 *   store_program: a wasm32-wasi command module (<= 1 MiB). */
int wicas_chain_msg_register_model(const char *authority, const char *model_json, wicas_chain_any *out,
                                   char *err, size_t errlen);
int wicas_chain_msg_store_program(const char *sender, const uint8_t *wasm, size_t wasm_len,
                                  wicas_chain_any *out, char *err, size_t errlen);
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
                              const wicas_chain_any *msgs, size_t n_msgs, uint8_t **tx, size_t *tx_len,
                              char *err, size_t errlen);

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
int wicas_chain_keyring_info(const char *dir, const char *name, wicas_chain_key_info *out, char *err,
                             size_t errlen);
/* All keys, sorted by name (malloc'd array; *n may be 0). A missing DIR is an
 * empty keyring. */
int wicas_chain_keyring_list(const char *dir, wicas_chain_key_info **out, size_t *n, char *err,
                             size_t errlen);
int wicas_chain_keyring_delete(const char *dir, const char *name, char *err, size_t errlen);
/* Export / import of one secret (`keys export` / `keys import`): ASCII
 * armor "-----BEGIN WICAS PRIVATE KEY-----", header lines (kdf: scrypt,
 * scrypt-n/r/p, salt and nonce in hex, cipher: aes-256-gcm, type:
 * secp256k1), a blank line, base64 of the 32-byte ciphertext + 16-byte tag,
 * "-----END WICAS PRIVATE KEY-----". The secret is encrypted like a key file
 * but under the export passphrase, with the headers as authenticated data.
 * (The Cosmos SDK's armor uses bcrypt + xsalsa20-poly1305, which OpenSSL
 * lacks: move keys between the two by mnemonic or `--unarmored-hex`.)
 * armor: *out malloc'd text. unarmor: malformed -> ERR_INVALID, wrong
 * passphrase or altered text -> ERR_CRYPTO. */
int wicas_chain_key_armor(const uint8_t secret[32], const char *passphrase, char **out, char *err,
                          size_t errlen);
int wicas_chain_key_unarmor(const char *text, const char *passphrase, uint8_t secret[32], char *err,
                            size_t errlen);

/* ---- BIP-39 mnemonics and BIP-32 HD keys (hd.c; client side only) ------------------
 * So a key from Keplr, CosmJS or a Cosmos SDK chain recovers to the same
 * secret and 20-byte address: mnemonic -> seed (BIP-39) -> m/44'/118'/0'/0/0
 * (BIP-32). Input must be ASCII: mnemonics are canonicalised (ASCII
 * whitespace split, upper case lowered, one space between words) and the
 * checksum checked; non-ASCII words or passphrases are refused (no NFKD
 * table here; for ASCII, NFKD is the identity). Errors are ERR_INVALID (bad
 * input) or ERR_CRYPTO, with a message. */
#define WICAS_HD_PATH_COSMOS "m/44'/118'/0'/0/0"
#define WICAS_HD_HARDENED 0x80000000u
#define WICAS_HD_MAX_DEPTH 32
#define WICAS_BIP39_MAX_LEN 256 /* a canonical 24-word mnemonic + NUL fits */

/* The BIP-39 English wordlist, sorted; index = the 11-bit value of the word. */
extern const char *const wicas_bip39_english[2048];

/* Checks a mnemonic (word count 12/15/18/21/24, every word in the list,
 * checksum) and writes its canonical form to out (may be NULL; cap >=
 * WICAS_BIP39_MAX_LEN is always enough) and its entropy (16..32 bytes; may
 * be NULL) with its length. */
int wicas_bip39_normalize(const char *mnemonic, char *out, size_t cap, uint8_t entropy[32],
                          size_t *entropy_len, char *err, size_t errlen);
/* The mnemonic of 16/20/24/28/32 bytes of entropy (12..24 words). */
int wicas_bip39_from_entropy(const uint8_t *entropy, size_t len, char *out, size_t cap, char *err,
                             size_t errlen);
/* A new mnemonic of `words` words (12, 15, 18, 21, 24) from RAND_bytes. */
int wicas_bip39_generate(size_t words, char *out, size_t cap, char *err, size_t errlen);
/* seed = PBKDF2-HMAC-SHA512(canonical mnemonic, "mnemonic" || passphrase
 * (NULL = ""), 2048, 64 bytes), after the checks of wicas_bip39_normalize. */
int wicas_bip39_seed(const char *mnemonic, const char *passphrase, uint8_t seed[64], char *err,
                     size_t errlen);

/* A BIP-32 extended private key (the fields of an xprv). */
typedef struct {
    uint8_t secret[32];
    uint8_t chain_code[32];
    uint8_t depth;
    uint8_t parent_fingerprint[4]; /* first 4 bytes of HASH160(parent pubkey); 0 for the master */
    uint32_t child_number;         /* with WICAS_HD_HARDENED set for hardened children */
} wicas_hd_key;
/* Master key of a 16..64-byte seed (HMAC-SHA512 keyed "Bitcoin seed"). */
int wicas_hd_master(const uint8_t *seed, size_t seed_len, wicas_hd_key *out, char *err, size_t errlen);
/* Child `index` (>= WICAS_HD_HARDENED: hardened) of parent; out may be parent. */
int wicas_hd_child(const wicas_hd_key *parent, uint32_t index, wicas_hd_key *out, char *err, size_t errlen);
/* Parses "m", "m/44'/118'/0'/0/0" ("'", "h" or "H" = hardened; each level <
 * 2^31; at most WICAS_HD_MAX_DEPTH and cap levels) into out[0..*n). */
int wicas_hd_parse_path(const char *path, uint32_t *out, size_t cap, size_t *n, char *err, size_t errlen);
/* The key at `path` below the master key of seed. */
int wicas_hd_derive(const uint8_t *seed, size_t seed_len, const char *path, wicas_hd_key *out, char *err,
                    size_t errlen);
/* mnemonic (+ BIP-39 passphrase, NULL = "") -> secp256k1 secret at path
 * (NULL = WICAS_HD_PATH_COSMOS): what `keys add --recover` stores. */
int wicas_hd_secret_from_mnemonic(const char *mnemonic, const char *passphrase, const char *path,
                                  uint8_t secret[32], char *err, size_t errlen);

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
int wicas_chain_query_request(const char *path, const wicas_chain_query_args *a, uint8_t **out,
                              size_t *out_len, char *err, size_t errlen);
/* Renders a query response (protobuf value of `path`) as JSON text in the
 * shape the Cosmos SDK's CLI prints (numbers as strings, bytes as base64, a
 * smart query's data as the contract's JSON). malloc'd; NULL if malformed. */
char *wicas_chain_query_response_json(const char *path, const uint8_t *value, size_t len);

#ifdef __cplusplus
}
#endif
#endif

/*
 * xwasm.h — the wasm module's interface to the modules above it (the AI
 * module delivers asynchronous answers through wicas_wasm_sudo).
 *
 * State: wasm/seq/{code,inst} (next ids, u64 BE, start at 1 like wasmd),
 * wasm/code/<id BE8> (StoredCode), wasm/bytecode/<checksum> (the wasm bytes),
 * wasm/contract/<addr32> (ContractInfo), wasm/bycode/<id><h><tx><addr32> (the
 * ContractsByCode index), wasm/store/<addr32><key> (contract storage).
 */
#ifndef WICAS_X_WASM_H
#define WICAS_X_WASM_H

#include "chain_internal.h"

#define K_CODE_SEQ "wasm/seq/code"
#define K_INST_SEQ "wasm/seq/inst"
#define K_CODE "wasm/code/"
#define K_BYTECODE "wasm/bytecode/"
#define K_CONTRACT "wasm/contract/"
#define K_BYCODE "wasm/bycode/"
#define K_CSTORE "wasm/store/"

/* wasmd gas register defaults */
#define GAS_WASM_INSTANCE 60000
#define GAS_WASM_COMPILE_PER_BYTE 3

/* Runs contract's `sudo` entry point with msg (JSON) in x, with its
 * messages and sub-messages (the AI module delivers asynchronous answers
 * this way). 0, or -1 with the failure in x. */
int wicas_wasm_sudo(wctx *x, const uint8_t contract[32], const uint8_t *msg, size_t len);

#endif

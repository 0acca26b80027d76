/*
 * params.h — internal to src/chain: chain-wide parameters set in genesis
 * (app_state "params"), stored in the state under "params/chain" so every
 * node enforces the same rules:
 *   {"min_gas_price": "0.001uwicas", "max_tx_gas": "50000000"}
 * min_gas_price is a consensus rule (CheckTx and FinalizeBlock), unlike the
 * node-local wicas_chain_options minimum, which only filters the mempool.
 * Both fields are optional; absent means no minimum / the built-in cap.
 */
#ifndef WICAS_CHAIN_PARAMS_H
#define WICAS_CHAIN_PARAMS_H

#include <stdint.h>

#include "store.h"

struct wctx;
struct cJSON;

#define K_PARAMS "params/chain"

typedef struct {
    uint64_t min_gas_price_num, min_gas_price_den; /* den 0 = none */
    uint64_t max_tx_gas;                           /* 0 = built-in cap */
} chain_params;

/* Validates the genesis "params" object and stores it (canonical JSON).
 * Returns 0, or -1 with a message in err. */
int wicas_params_genesis(struct wctx *x, const struct cJSON *p, char *err, size_t errlen);
/* Reads the parameters through view without gas (defaults when absent). */
void wicas_params_load(kv *view, chain_params *out);
/* Parses a decimal price like "0.0025uwicas" (denom must be the native one)
 * into num/den; returns 0 or -1. */
int wicas_params_parse_price(const char *s, uint64_t *num, uint64_t *den);

#endif

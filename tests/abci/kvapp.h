/*
 * kvapp.h — a tiny key/value ABCI application used only by the ABCI tests:
 * txs are "key=value", the state is a sorted list of pairs, the app hash is
 * SHA-256(height || pairs). Small enough to check by eye, real enough that
 * CometBFT drives every call of the vtable against it.
 */
#ifndef WICAS_TEST_KVAPP_H
#define WICAS_TEST_KVAPP_H

#include <pthread.h>

#include "abci.h"

typedef struct {
    char key[64], value[128];
} kv_pair;

typedef struct {
    kv_pair pairs[256];
    size_t n;
    /* staged by FinalizeBlock, made durable by Commit */
    kv_pair staged[256];
    size_t n_staged;
    int64_t height, staged_height;
    uint8_t hash[32], staged_hash[32];
    /* counters the tests look at */
    int n_info, n_init, n_check, n_prepare, n_process, n_extend, n_verify, n_finalize, n_commit, n_query;
    char chain_id[64];
    /* app hash committed at each height (index = height, < 4096) */
    uint8_t hash_at[4096][32];
    /* PrepareProposal calls that saw our own vote extension of height-1 */
    int n_prepare_ext_seen;
} kvapp;

/* Fills app's vtable for kv (ctx = kv). */
void kvapp_init(kvapp *kv, wicas_abci_app *app);

#endif

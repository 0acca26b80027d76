/*
 * xauth.h — the auth module's interface to the other modules and the ante
 * handler: account records (number, sequence, public key).
 *
 * State: acc/<addr> (BaseAccount protobuf), auth/next_account_number (u64 BE).
 */
#ifndef WICAS_X_AUTH_H
#define WICAS_X_AUTH_H

#include "chain_internal.h"

#define K_ACC "acc/"
#define K_NEXT_ACC "auth/next_account_number"

/* ---- auth (auth.c) ------------------------------------------------------------- */
struct cJSON;
/* Genesis: decodes the address in addr and makes sure it has an account
 * (numbered now if new); where names the entry in messages. 0 or -1 with err. */
int wicas_auth_genesis_account(wctx *x, const struct cJSON *addr, const char *where, uint8_t a[32],
                               size_t *al, char *err, size_t errlen);
/* Loads the account record; returns 1 found, 0 absent, -1 failure. */
int wicas_acc_get(wctx *x, const uint8_t *addr, size_t al, Wchain__BaseAccount **out);
int wicas_acc_set(wctx *x, const uint8_t *addr, size_t al, const Wchain__BaseAccount *a);
/* Creates the account record if missing (new account number). 0 or -1. */
int wicas_acc_ensure(wctx *x, const uint8_t *addr, size_t al);

#endif

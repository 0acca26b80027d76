/*
 * xbank.h — the bank module's interface to the other modules and the ante
 * handler: balances and coin transfers with the SDK's events.
 *
 * State: bank/bal/<len><addr><denom> (decimal amount).
 */
#ifndef WICAS_X_BANK_H
#define WICAS_X_BANK_H

#include "chain_internal.h"

#define K_BAL "bank/bal/"

/* ---- bank ------------------------------------------------------------------------- */
int wicas_bank_balance(wctx *x, const uint8_t *addr, size_t al, const char *denom, uint64_t *amount);
int wicas_bank_set_balance(wctx *x, const uint8_t *addr, size_t al, const char *denom, uint64_t amount);
/* Moves coins and emits coin_spent/coin_received/transfer/message events like
 * the SDK's SendCoins. Fails with code 5 when funds are short. */
int wicas_bank_send(wctx *x, const uint8_t *from, size_t fl, const uint8_t *to, size_t tl, const coin *c,
                    size_t n);
/* All balances of addr, sorted by denom; malloc'd list. */
int wicas_bank_all(wctx *x, const uint8_t *addr, size_t al, coin **out, size_t *n);
/* Handles MsgSend; writes the MsgSendResponse Any into *resp. */
int wicas_bank_msg_send(wctx *x, const Wchain__MsgSend *m);

#endif

/* test_tx_malleability.c — unknown protobuf fields in a transaction (the
 * Cosmos SDK's codec/unknownproto rule): real signed MsgSend txs are mutated
 * and given to CheckTx.
 *   - TxRaw is strict: an extra field (9, or non-critical 1025) appended to
 *     a validly signed tx — same content, a new hash, the signature still
 *     valid — is refused with ErrTxDecode (code 2, codespace sdk);
 *   - TxBody, AuthInfo and everything in them (Fee, SignerInfo, ModeInfo,
 *     Coin, the MsgSend inside its Any) refuse critical unknown fields (field
 *     number without bit 0x400), re-signed so that only the rule can refuse;
 *   - a non-critical unknown field (1025) in TxBody / Fee is allowed, as in
 *     the SDK; extension_options are refused (code 31), a
 *     non_critical_extension_option of an unregistered type is undecodable;
 *   - the unmutated tx is accepted (the mutations are what is refused).
 * protobuf-c keeps unknown fields when re-packing, which is how the mutated
 * messages are built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <secp256k1.h>

#include "chain.h"
#include "client.h"
#include "common.h"
#include "wchain.pb-c.h"
#include "chain_test_util.h"

#define CHAIN_ID "mall-test"
static char dir[64];
static wicas_chain *C;
static uint8_t alice_sk[32], bob_sk[32];
static char alice[100], bob[100];

static int setup(void **st) {
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/wicas_mall_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    memset(alice_sk, 0x11, 32);
    memset(bob_sk, 0x22, 32);
    ctu_addr_of(alice_sk, alice);
    ctu_addr_of(bob_sk, bob);
    wicas_chain_options o = {.no_sync = true, .map_size = 64u << 20};
    char err[256];
    if (wicas_chain_open(dir, &o, &C, err, sizeof err)) return -1;
    char g[600];
    snprintf(g, sizeof g,
             "{\"bank\":{\"balances\":[{\"address\":\"%s\",\"coins\":[{\"denom\":\"uwicas\",\"amount\":"
             "\"1000000\"}]}]}}",
             alice);
    uint8_t h[32];
    return wicas_chain_init_chain(C, CHAIN_ID, 1, g, strlen(g), h, err, sizeof err) ? -1 : 0;
}

static int teardown(void **st) {
    (void)st;
    wicas_chain_close(C);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static uint8_t *send_tx(uint64_t seq, size_t *len) {
    wicas_chain_any m;
    char err[256];
    assert_int_equal(wicas_chain_msg_send(alice, bob, "1uwicas", &m, err, sizeof err), 0);
    wicas_chain_tx_params p = {
        .chain_id = CHAIN_ID, .account_number = 0, .sequence = seq, .gas_limit = 200000, .fee = "2000uwicas"};
    uint8_t *tx;
    assert_int_equal(wicas_chain_tx_build_sign(alice_sk, NULL, &p, &m, 1, &tx, len, err, sizeof err), 0);
    wicas_chain_any_free(&m);
    return tx;
}

/* Adds one varint field (number, value 1) to m's unknown fields. */
static void add_unknown(ProtobufCMessage *m, uint32_t number) {
    ProtobufCMessageUnknownField *u = realloc(m->unknown_fields, (m->n_unknown_fields + 1) * sizeof *u);
    assert_non_null(u);
    m->unknown_fields = u;
    u += m->n_unknown_fields++;
    u->tag = number;
    u->wire_type = PROTOBUF_C_WIRE_TYPE_VARINT;
    u->len = 1;
    u->data = malloc(1); /* freed by free_unpacked */
    u->data[0] = 1;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len ? *len : 1);
    assert_non_null(b);
    assert_int_equal(protobuf_c_message_pack(m, b), *len);
    return b;
}

/* Re-signs (SIGN_MODE_DIRECT) raw with its current body / auth_info bytes. */
static void resign(Wchain__TxRaw *raw) {
    Wchain__SignDoc sd = WCHAIN__SIGN_DOC__INIT;
    sd.body_bytes = raw->body_bytes;
    sd.auth_info_bytes = raw->auth_info_bytes;
    sd.chain_id = (char *)CHAIN_ID;
    sd.account_number = 0;
    size_t n;
    uint8_t *b = pack(&sd.base, &n), h[32];
    wicas_sha256(b, n, h);
    free(b);
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN);
    secp256k1_ecdsa_signature sig;
    assert_int_equal(secp256k1_ecdsa_sign(ctx, &sig, h, alice_sk, NULL, NULL), 1);
    assert_int_equal(raw->signatures[0].len, 64);
    secp256k1_ecdsa_signature_serialize_compact(ctx, raw->signatures[0].data, &sig);
    secp256k1_context_destroy(ctx);
}

typedef enum { M_BODY, M_BODY_NC, M_MSG, M_FEE, M_FEE_NC, M_COIN, M_SIGNER, M_MODE, M_EXT, M_NCEXT } mutation;

/* A tx of sequence seq whose body or auth info is mutated, then re-signed. */
static uint8_t *mutated(uint64_t seq, mutation what, size_t *len) {
    size_t l;
    uint8_t *tx = send_tx(seq, &l);
    Wchain__TxRaw *raw = wchain__tx_raw__unpack(NULL, l, tx);
    free(tx);
    assert_non_null(raw);
    Wchain__TxBody *body = wchain__tx_body__unpack(NULL, raw->body_bytes.len, raw->body_bytes.data);
    Wchain__AuthInfo *ai =
        wchain__auth_info__unpack(NULL, raw->auth_info_bytes.len, raw->auth_info_bytes.data);
    assert_non_null(body);
    assert_non_null(ai);
    Wchain__Any ext = WCHAIN__ANY__INIT, *extp = &ext;
    ext.type_url = (char *)"/example.v1.Extension";
    switch (what) {
    case M_BODY:
        add_unknown(&body->base, 9);
        break;
    case M_BODY_NC:
        add_unknown(&body->base, 1025);
        break;
    case M_MSG: {
        Wchain__MsgSend *ms =
            wchain__msg_send__unpack(NULL, body->messages[0]->value.len, body->messages[0]->value.data);
        assert_non_null(ms);
        add_unknown(&ms->base, 9);
        size_t ml;
        uint8_t *mb = pack(&ms->base, &ml);
        wchain__msg_send__free_unpacked(ms, NULL);
        free(body->messages[0]->value.data);
        body->messages[0]->value.data = mb;
        body->messages[0]->value.len = ml;
        break;
    }
    case M_FEE:
        add_unknown(&ai->fee->base, 9);
        break;
    case M_FEE_NC:
        add_unknown(&ai->fee->base, 1025);
        break;
    case M_COIN:
        add_unknown(&ai->fee->amount[0]->base, 3);
        break;
    case M_SIGNER:
        add_unknown(&ai->signer_infos[0]->base, 9);
        break;
    case M_MODE:
        add_unknown(&ai->signer_infos[0]->mode_info->single->base, 9);
        break;
    case M_EXT:
        body->n_extension_options = 1;
        body->extension_options = &extp;
        break;
    case M_NCEXT:
        body->n_non_critical_extension_options = 1;
        body->non_critical_extension_options = &extp;
        break;
    }
    free(raw->body_bytes.data);
    free(raw->auth_info_bytes.data);
    raw->body_bytes.data = pack(&body->base, &raw->body_bytes.len);
    raw->auth_info_bytes.data = pack(&ai->base, &raw->auth_info_bytes.len);
    if (what == M_EXT) body->n_extension_options = 0, body->extension_options = NULL;
    if (what == M_NCEXT)
        body->n_non_critical_extension_options = 0, body->non_critical_extension_options = NULL;
    wchain__tx_body__free_unpacked(body, NULL);
    wchain__auth_info__free_unpacked(ai, NULL);
    resign(raw);
    uint8_t *out = pack(&raw->base, len);
    wchain__tx_raw__free_unpacked(raw, NULL);
    return out;
}

static uint32_t check(const uint8_t *tx, size_t len, char *log, size_t cap) {
    wicas_chain_tx_result r;
    wicas_chain_check_tx(C, tx, len, false, &r);
    uint32_t code = r.code;
    snprintf(log, cap, "%s", r.log ? r.log : "");
    if (code == WICAS_CODE_TX_DECODE) assert_string_equal(r.codespace, "sdk");
    wicas_chain_tx_result_free(&r);
    return code;
}

static void test_unknown_fields(void **st) {
    (void)st;
    char log[512];
    size_t l;
    uint8_t *tx = send_tx(0, &l);

    /* TxRaw strict: field 9 (critical) and 1025 (non-critical) appended */
    static const uint8_t f9[] = {0x48, 0x01};          /* field 9, varint 1 */
    static const uint8_t f1025[] = {0x88, 0x40, 0x01}; /* field 1025, varint 1 */
    const uint8_t *app[] = {f9, f1025};
    size_t appl[] = {sizeof f9, sizeof f1025};
    for (int i = 0; i < 2; i++) {
        uint8_t *m = malloc(l + appl[i]);
        memcpy(m, tx, l);
        memcpy(m + l, app[i], appl[i]);
        /* protobuf decodes it (unknown fields are skipped): only the rule refuses it */
        Wchain__TxRaw *raw = wchain__tx_raw__unpack(NULL, l + appl[i], m);
        assert_non_null(raw);
        wchain__tx_raw__free_unpacked(raw, NULL);
        assert_int_equal(check(m, l + appl[i], log, sizeof log), WICAS_CODE_TX_DECODE);
        printf("TxRaw + field %s: code 2: %s\n", i ? "1025" : "9", log);
        assert_non_null(strstr(log, "unknown"));
        free(m);
    }

    /* critical unknown fields inside TxBody / AuthInfo, re-signed */
    static const struct {
        mutation m;
        const char *name;
        uint32_t want;
    } cases[] = {
        {M_BODY, "TxBody field 9", WICAS_CODE_TX_DECODE},
        {M_MSG, "MsgSend (in its Any) field 9", WICAS_CODE_TX_DECODE},
        {M_FEE, "Fee field 9", WICAS_CODE_TX_DECODE},
        {M_COIN, "Fee.amount Coin field 3", WICAS_CODE_TX_DECODE},
        {M_SIGNER, "SignerInfo field 9", WICAS_CODE_TX_DECODE},
        {M_MODE, "ModeInfo.Single field 9", WICAS_CODE_TX_DECODE},
        {M_NCEXT, "non_critical_extension_options of an unregistered type", WICAS_CODE_TX_DECODE},
        {M_EXT, "extension_options", 31},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t ml;
        uint8_t *m = mutated(0, cases[i].m, &ml);
        uint32_t code = check(m, ml, log, sizeof log);
        printf("%s: code %u: %s\n", cases[i].name, code, log);
        assert_int_equal(code, cases[i].want);
        free(m);
    }

    /* the unmutated tx is fine; then non-critical unknown fields in TxBody
     * and Fee (allowed by the SDK's rule) with the next sequences */
    assert_int_equal(check(tx, l, log, sizeof log), 0);
    free(tx);
    size_t ml;
    uint8_t *m = mutated(1, M_BODY_NC, &ml);
    assert_int_equal(check(m, ml, log, sizeof log), 0);
    free(m);
    m = mutated(2, M_FEE_NC, &ml);
    assert_int_equal(check(m, ml, log, sizeof log), 0);
    free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test_setup_teardown(test_unknown_fields, setup, teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

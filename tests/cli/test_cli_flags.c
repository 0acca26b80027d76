/* test_cli_flags.c — src/cli/flags.c (the look-up and walking styles, the two
 * positional rules of query and tx) and the coin-list parser shared by the
 * chain and the CLI (wicas_chain_coins_parse / _str / denom_valid). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "chain.h"
#include "flags.h"

#define ARGV(...)                                                                                            \
    (char *[]) {                                                                                             \
        __VA_ARGS__, NULL                                                                                    \
    }

static void lookup(void **state) {
    (void)state;
    char **v =
        ARGV("send", "a", "--node", "tcp://x", "--wait", "--fees", "5uwicas", "--node", "second", "--memo");
    int c = 10;
    assert_string_equal(wicas_flag(c, v, "--node"), "tcp://x"); /* the first occurrence */
    assert_string_equal(wicas_flag(c, v, "--fees"), "5uwicas");
    assert_null(wicas_flag(c, v, "--memo")); /* last argument: no value */
    assert_null(wicas_flag(c, v, "--from"));
    assert_null(wicas_flag(c, v, "send")); /* argv[0] is the command, never a flag */
    assert_null(wicas_flag(c, v, "--node=tcp://x"));
    assert_true(wicas_flag_has(c, v, "--wait"));
    assert_true(wicas_flag_has(c, v, "--memo"));
    assert_false(wicas_flag_has(c, v, "--wai"));
    assert_false(wicas_flag_has(c, v, "send"));
}

static void take(void **state) {
    (void)state;
    char **v = ARGV("init", "--home", "/h", "--fast", "--chain-id");
    int c = 5, i = 1;
    assert_null(wicas_flag_take(c, v, &i, "--chain-id")); /* other name: i unchanged */
    assert_int_equal(i, 1);
    assert_string_equal(wicas_flag_take(c, v, &i, "--home"), "/h");
    assert_int_equal(i, 2);
    i = 3;
    assert_null(wicas_flag_take(c, v, &i, "--home")); /* "--fast" is not "--home" */
    assert_int_equal(i, 3);
    i = 4;
    assert_null(wicas_flag_take(c, v, &i, "--chain-id")); /* no value follows */
    assert_int_equal(i, 4);
}

/* query's rule: listed flags take a value, any other "--x" stands alone,
 * "-x" is an ordinary argument. */
static void positional_query(void **state) {
    (void)state;
    static const char *const with_value[] = {"--node", "--height", "-o", NULL};
    const wicas_flag_spec spec = {.with_value = with_value};
    char **v = ARGV("query", "--node", "n", "wasm", "--prove", "raw", "-o", "json", "-x", "--height", "-5",
                    "-", "K");
    const char *pos[8];
    int n = wicas_flag_positional(13, v, &spec, pos, 8);
    assert_int_equal(n, 5);
    const char *want[] = {"wasm", "raw", "-x", "-", "K"};
    for (int k = 0; k < 5; k++)
        assert_string_equal(pos[k], want[k]);
}

/* tx's rule: every flag ("-x" or "--x", not "-5") takes a value unless it is a
 * listed switch. */
static void positional_tx(void **state) {
    (void)state;
    static const char *const switches[] = {"--wait", "-y", NULL};
    const wicas_flag_spec spec = {.switches = switches, .unlisted_take_value = true};
    char **v =
        ARGV("tx", "bank", "--from", "k", "send", "-y", "a", "--wait", "-5", "-q", "eaten", "b", "--fees");
    const char *pos[3];
    int n = wicas_flag_positional(13, v, &spec, pos, 3);
    assert_int_equal(n, 5); /* bank send a -5 b: counted beyond max */
    assert_string_equal(pos[0], "bank");
    assert_string_equal(pos[1], "send");
    assert_string_equal(pos[2], "a");
}

static void coins_ok(void **state) {
    (void)state;
    wicas_chain_coin *c;
    size_t n;
    char err[256];
    assert_int_equal(
        wicas_chain_coins_parse("7uwicas,3ibc/AB:c.d_e-f,18446744073709551615ufoo", &c, &n, err, sizeof err),
        0);
    assert_int_equal(n, 3);
    assert_string_equal(c[0].denom, "ibc/AB:c.d_e-f"); /* sorted by denom */
    assert_true(c[1].amount == UINT64_MAX);
    char *s = wicas_chain_coins_str(c, n);
    assert_string_equal(s, "3ibc/AB:c.d_e-f,18446744073709551615ufoo,7uwicas");
    free(s);
    free(c);
    assert_int_equal(wicas_chain_coins_parse("", &c, &n, err, sizeof err), 0);
    assert_null(c);
    assert_int_equal(n, 0);
    assert_int_equal(wicas_chain_coins_parse("007uwicas,", &c, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_true(c[0].amount == 7);
    free(c);
    char big[200] = "1a";
    memset(big + 2, 'b', WICAS_CHAIN_COIN_DENOM_MAX - 1); /* denom of exactly 127 characters */
    assert_int_equal(wicas_chain_coins_parse(big, &c, &n, err, sizeof err), 0);
    assert_int_equal(strlen(c[0].denom), WICAS_CHAIN_COIN_DENOM_MAX);
    free(c);
    big[2 + WICAS_CHAIN_COIN_DENOM_MAX - 1] = 'b'; /* 128: the regex allows it, a coin cannot hold it */
    assert_true(wicas_chain_denom_valid(big + 1));
    assert_int_equal(wicas_chain_coins_parse(big, &c, &n, err, sizeof err), WICAS_CHAIN_ERR_INVALID);
    assert_non_null(strstr(err, "longer than 127"));
}

static void coins_bad(void **state) {
    (void)state;
    static const struct {
        const char *in, *why;
    } cases[] = {
        {"0uwicas", "amount 0"},
        {"5uwicas,3ufoo,1uwicas", "duplicate denomination uwicas"},
        {"18446744073709551616uwicas", "does not fit in 64 bits"},
        {"1234567890123456789012345678901234uwicas", "does not fit in 64 bits"},
        {"5u", "denom must match"},
        {"5uw!cas", "denom must match"},
        {"5 uwicas", "denom must match"},
        {"5_uwicas", "denom must match"},
        {"uwicas", "want <amount><denom>"},
        {"5", "want <amount><denom>"},
        {",5uwicas", "want <amount><denom>"},
        {"5uwicas,,1ufoo", "want <amount><denom>"},
        {"-5uwicas", "want <amount><denom>"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        wicas_chain_coin *c = (wicas_chain_coin *)1;
        size_t n = 99;
        char err[256] = "";
        assert_int_equal(wicas_chain_coins_parse(cases[k].in, &c, &n, err, sizeof err),
                         WICAS_CHAIN_ERR_INVALID);
        assert_null(c);
        assert_int_equal(n, 0);
        if (!strstr(err, cases[k].why)) fail_msg("'%s': got '%s', want '%s'", cases[k].in, err, cases[k].why);
    }
    assert_false(wicas_chain_denom_valid("ab"));
    assert_false(wicas_chain_denom_valid("1bc"));
    assert_true(wicas_chain_denom_valid("abc"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lookup),        cmocka_unit_test(take),     cmocka_unit_test(positional_query),
        cmocka_unit_test(positional_tx), cmocka_unit_test(coins_ok), cmocka_unit_test(coins_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

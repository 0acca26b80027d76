/*
 * control_symbols.c — a library that breaks the symbol rule on purpose:
 * check_symbols.sh must flag arch_control_unprefixed (and accept the
 * prefixed and the static ones), which shows the check can fail.
 */
int arch_control_unprefixed(int x);
int wicas_arch_control_prefixed(int x);

static int twice(int x) {
    return 2 * x;
}

int arch_control_unprefixed(int x) {
    return twice(x) + 1;
}

int wicas_arch_control_prefixed(int x) {
    return twice(x);
}

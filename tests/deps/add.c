/* add.c — compiled by clang to wasm32 in the build; test_deps_wasmtime calls it. */
__attribute__((export_name("add"))) int add(int a, int b) {
    return a + b;
}

__attribute__((export_name("fib"))) long long fib(int n) {
    long long a = 0, b = 1;
    for (int i = 0; i < n; i++) {
        long long t = a + b;
        a = b;
        b = t;
    }
    return a;
}

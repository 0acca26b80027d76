/* hello.c — a WASI command that reports what the sandbox gives it: argv,
 * stdin, 16 random bytes, the realtime clock, two monotonic readings and the
 * environment. test_wasi checks every line. */
#define _GNU_SOURCE /* clock_gettime, pread under -std=c17 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wasi/api.h>

int main(int argc, char **argv) {
    printf("argc=%d", argc);
    for (int i = 0; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\nstdin=");
    int ch;
    while ((ch = getchar()) != EOF)
        putchar(ch);
    uint8_t rnd[16];
    if (__wasi_random_get(rnd, sizeof rnd) != 0) return 10;
    printf("\nrandom=");
    for (int i = 0; i < 16; i++)
        printf("%02x", rnd[i]);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("\nrealtime=%lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
    __wasi_timestamp_t a = 0, b = 0;
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &a) != 0) return 11;
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &b) != 0) return 11;
    printf("monotonic_step=%llu\n", (unsigned long long)(b - a));
    const char *v = getenv("GREETING");
    printf("env=%s\n", v ? v : "(none)");
    fprintf(stderr, "this goes to stderr\n");
    return 0;
}

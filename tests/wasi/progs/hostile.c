/* hostile.c — programs that misbehave on purpose; each must end cleanly with
 * the right error while the host carries on. Mode in argv[1]:
 *   spin   loop forever                      -> out of fuel
 *   flood  write to stdout forever           -> stdout limit
 *   grow   allocate 1 MiB blocks until malloc fails, print the count, exit 3
 *   trap   execute `unreachable`             -> trap
 *   exit   proc_exit(7) after some output    -> exit code 7
 *   deep   unbounded recursion               -> trap (stack overflow)
 *   oob    read far outside linear memory    -> trap
 *   badptr hand the host a pointer past memory -> EFAULT (21), no crash */
#define _GNU_SOURCE /* clock_gettime, pread under -std=c17 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static volatile unsigned sink;

static unsigned deep(unsigned n) {
    volatile char pad[256];
    pad[0] = (char)n;
    if (sink == 12345u) return n; /* never true; keeps the compiler from seeing endless recursion */
    return deep(n + 1) + pad[0];
}

int main(int argc, char **argv) {
    const char *m = argc > 1 ? argv[1] : "";
    if (strcmp(m, "spin") == 0) {
        for (;;)
            sink++;
    }
    if (strcmp(m, "flood") == 0) {
        for (;;)
            fputs("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", stdout);
    }
    if (strcmp(m, "grow") == 0) {
        unsigned n = 0;
        static void *volatile keep; /* the blocks must really be allocated */
        while ((keep = malloc(1 << 20)) != NULL)
            n++;
        printf("allocated %u MiB\n", n);
        return 3;
    }
    if (strcmp(m, "trap") == 0) {
        puts("before the trap");
        fflush(stdout);
        __builtin_trap();
    }
    if (strcmp(m, "exit") == 0) {
        puts("bye");
        fflush(stdout);
        __wasi_proc_exit(7);
    }
    if (strcmp(m, "deep") == 0) return (int)deep(0);
    if (strcmp(m, "oob") == 0) {
        volatile unsigned *p = (unsigned *)(uintptr_t)0xfffffff0u;
        return (int)*p;
    }
    if (strcmp(m, "badptr") == 0) {
        __wasi_ciovec_t iov = {(const uint8_t *)(uintptr_t)0xfffff000u, 4096};
        __wasi_size_t n = 0;
        int e1 = __wasi_fd_write(1, &iov, 1, &n);
        int e2 = __wasi_random_get((uint8_t *)(uintptr_t)0xfffffff0u, 64);
        printf("fd_write=%d random_get=%d\n", e1, e2);
        return 0;
    }
    return 2;
}

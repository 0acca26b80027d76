/* test_ports.h — loopback ports for C tests that start nodes: the scheme of
 * tests/ports.sh (read it for why). wicas_test_port_block() returns the first
 * port of a block of WICAS_TEST_PORT_BLOCK ports that this process holds (an
 * flock on $TMPDIR/wicas-test-ports/block-N.lock, kept until the process
 * exits), or -1. Blocks lie below the kernel's ephemeral range, so neither
 * another test nor an outgoing connection can be handed the same port. */
#ifndef WICAS_TEST_PORTS_H
#define WICAS_TEST_PORTS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define WICAS_TEST_PORT_LO 10000
#define WICAS_TEST_PORT_BLOCK 40
#define WICAS_TEST_PORT_BLOCKS 250

static inline int wicas_test_ports_bindable(int base) {
    int ok = 1, fds[WICAS_TEST_PORT_BLOCK], n = 0;
    for (int p = base; p < base + WICAS_TEST_PORT_BLOCK && ok; p++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (fd < 0) return 0;
        fds[n++] = fd;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) ok = 0;
    }
    while (n)
        close(fds[--n]);
    return ok;
}

static inline int wicas_test_port_block(void) {
    const char *tmp = getenv("TMPDIR");
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/wicas-test-ports", tmp && *tmp ? tmp : "/tmp");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return -1;
    int start = (int)(((unsigned)getpid() * 7u) % WICAS_TEST_PORT_BLOCKS);
    for (int i = 0; i < WICAS_TEST_PORT_BLOCKS; i++) {
        int b = (start + i) % WICAS_TEST_PORT_BLOCKS;
        snprintf(path, sizeof path, "%s/block-%d.lock", dir, b);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            int base = WICAS_TEST_PORT_LO + b * WICAS_TEST_PORT_BLOCK;
            if (wicas_test_ports_bindable(base)) return base; /* fd stays open: the block is ours */
        }
        close(fd);
    }
    return -1;
}

#endif

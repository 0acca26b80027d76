/* files.c — exercises the read-only /models preopen. Modes (argv[1]):
 *   cat PATH      print the file at PATH (a normal libc path such as /models/x)
 *   raw PATH      __wasi_path_open(3, PATH) directly, read-only; print the errno
 *   create PATH   __wasi_path_open(3, PATH) with O_CREAT; print the errno
 *   wronly PATH   __wasi_path_open(3, PATH) with write rights; print the errno
 *   ls            list /models (sorted by the host)
 *   seek PATH     size via lseek(SEEK_END), then pread of 4 bytes at offset 2 */
#define _GNU_SOURCE /* clock_gettime, pread under -std=c17 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static int raw_open(const char *path, __wasi_oflags_t of, __wasi_rights_t rights) {
    __wasi_fd_t fd = 0;
    __wasi_errno_t e = __wasi_path_open(3, 0, path, of, rights, 0, 0, &fd);
    if (e == 0) {
        char buf[64];
        __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
        __wasi_size_t n = 0;
        if (__wasi_fd_read(fd, &iov, 1, &n) == 0) {
            buf[n] = 0;
            printf("read %u bytes: %s\n", (unsigned)n, buf);
        }
        /* A write to a file opened read-only must fail too. */
        __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
        printf("write errno=%d\n", (int)__wasi_fd_write(fd, &ciov, 1, &n));
    }
    printf("errno=%d\n", (int)e);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *mode = argv[1], *path = argc > 2 ? argv[2] : "";
    if (strcmp(mode, "cat") == 0) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            perror("fopen");
            return 3;
        }
        int ch;
        while ((ch = fgetc(f)) != EOF)
            putchar(ch);
        fclose(f);
        return 0;
    }
    if (strcmp(mode, "raw") == 0) return raw_open(path, 0, __WASI_RIGHTS_FD_READ);
    if (strcmp(mode, "create") == 0) return raw_open(path, __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ);
    if (strcmp(mode, "wronly") == 0) return raw_open(path, 0, __WASI_RIGHTS_FD_WRITE);
    if (strcmp(mode, "ls") == 0) {
        DIR *d = opendir("/models");
        if (!d) return 4;
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            printf("%s\n", de->d_name);
        closedir(d);
        return 0;
    }
    if (strcmp(mode, "seek") == 0) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) return 5;
        off_t end = lseek(fd, 0, SEEK_END);
        char b[5] = {0};
        ssize_t n = pread(fd, b, 4, 2);
        printf("size=%lld pread=%zd [%s] tell=%lld\n", (long long)end, n, b,
               (long long)lseek(fd, 0, SEEK_CUR));
        close(fd);
        return 0;
    }
    return 2;
}

/* badwasi.c — imports a name that wasi_snapshot_preview1 does not have. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_make_world_writable"))) int
bad(int);

int main(void) {
    return bad(3);
}

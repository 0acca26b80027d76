/* test_deps_lmdb.c — an LMDB environment is opened, written, committed, and
 * what was committed survives a reopen while an aborted write does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <lmdb.h>

static char dir[256];

static MDB_env *open_env(void) {
    MDB_env *env;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_mapsize(env, 16u << 20), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0644), 0);
    return env;
}

static void put(MDB_env *env, const char *k, const char *v, int commit) {
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    MDB_val key = {strlen(k), (void *)k}, val = {strlen(v), (void *)v};
    assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
    if (commit)
        assert_int_equal(mdb_txn_commit(txn), 0);
    else
        mdb_txn_abort(txn);
}

static int get(MDB_env *env, const char *k, char *out, size_t cap) {
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    MDB_val key = {strlen(k), (void *)k}, val;
    int rc = mdb_get(txn, dbi, &key, &val);
    if (rc == 0) snprintf(out, cap, "%.*s", (int)val.mv_size, (const char *)val.mv_data);
    mdb_txn_abort(txn);
    return rc;
}

static void commit_survives_reopen(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/wicas-lmdb-XXXXXX");
    assert_non_null(mkdtemp(dir));
    MDB_env *env = open_env();
    put(env, "height", "7", 1);
    put(env, "height", "8", 0); /* aborted */
    mdb_env_close(env);

    env = open_env();
    char v[32];
    assert_int_equal(get(env, "height", v, sizeof v), 0);
    assert_string_equal(v, "7");
    assert_int_equal(get(env, "missing", v, sizeof v), MDB_NOTFOUND);
    assert_string_equal(mdb_strerror(MDB_NOTFOUND), "MDB_NOTFOUND: No matching key/data pair found");
    mdb_env_close(env);
    char p[300];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(commit_survives_reopen)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

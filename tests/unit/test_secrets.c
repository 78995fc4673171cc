/*
 * test_secrets.c: sealed secrets (server/secrets.c): a round trip, the
 * additional data that ties a row to its user and name, rotation, and the
 * key file's checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "server/secrets.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

typedef struct seen {
    int n;
    char fields[4][256];
    char names[4][64];
} seen;

static void on_reveal(void *ctx, const char *name, const char *type, const char *fields) {
    seen *s = ctx;
    snprintf(s->names[s->n], sizeof s->names[0], "%s", name);
    snprintf(s->fields[s->n++], sizeof s->fields[0], "%s", fields);
}

static void on_row(void *ctx, const md_secret_row *row) {
    seen *s = ctx;
    snprintf(s->fields[s->n], sizeof s->fields[0], "%s", row->shown);
    snprintf(s->names[s->n++], sizeof s->names[0], "%s", row->name);
}

static void sql(const char *dir, const char *text) {
    char *path = md_asprintf("%s/meta.sqlite3", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, text, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    md_free(path);
}

static void sealed_round_trip_and_rotation(void **state) {
    char dir[] = "/tmp/md-test-secrets-XXXXXX";
    assert_non_null(mkdtemp(dir));
    md_secrets *s = NULL;
    char *err = NULL;
    assert_int_equal(md_secrets_open(dir, NULL, 0, &s, &err), MD_ENOT_FOUND);
    md_free(err);
    err = NULL;
    assert_int_equal(md_secrets_open(dir, NULL, 1, &s, &err), MD_OK);
    const char *fields = "{\"TYPE\":\"s3\",\"KEY_ID\":\"'AKIA1'\",\"SECRET\":\"'hunter2'\"}";
    assert_int_equal(md_secrets_put(s, "alice", "lake", "s3", NULL, fields, 0), MD_OK);
    assert_int_equal(md_secrets_put(s, "alice", "LAKE", "s3", NULL, fields, 0), MD_EEXISTS);
    assert_int_equal(md_secrets_put(s, "alice", "bad", "s3", NULL, "[1]", 0), MD_EINVAL);
    assert_int_equal(md_secrets_put(s, "alice", "other", "http", NULL, "{\"TYPE\":\"http\"}", 0), MD_OK);
    seen r = {0};
    assert_int_equal(md_secrets_list(s, "alice", on_row, &r), MD_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.names[0], "lake");
    assert_string_equal(r.fields[0], "key_id=AKIA1;secret=redacted");
    memset(&r, 0, sizeof r);
    assert_int_equal(md_secrets_reveal(s, "alice", on_reveal, &r), MD_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.fields[0], fields);
    md_secrets_close(&s);

    /* a row moved to another user, or renamed, does not open */
    sql(dir, "UPDATE secrets SET user = 'bob' WHERE name = 'lake'; UPDATE secrets SET name = 'renamed' WHERE "
             "name = 'other'");
    assert_int_equal(md_secrets_open(dir, NULL, 0, &s, &err), MD_OK);
    memset(&r, 0, sizeof r);
    assert_int_equal(md_secrets_reveal(s, "bob", on_reveal, &r), MD_OK);
    assert_int_equal(r.n, 0);
    memset(&r, 0, sizeof r);
    assert_int_equal(md_secrets_reveal(s, "alice", on_reveal, &r), MD_OK);
    assert_int_equal(r.n, 0);
    md_secrets_close(&s);
    sql(dir, "UPDATE secrets SET user = 'alice' WHERE name = 'lake'; UPDATE secrets SET name = 'other' WHERE "
             "name = 'renamed'");

    /* rotation: a new key file, every row sealed again */
    char *key = md_asprintf("%s/master.key", dir);
    FILE *f = fopen(key, "r");
    char before[80] = {0}, after[80] = {0};
    assert_non_null(fgets(before, sizeof before, f));
    fclose(f);
    long n = 0;
    assert_int_equal(md_secrets_rotate(dir, NULL, &n, &err), MD_OK);
    assert_int_equal(n, 2);
    f = fopen(key, "r");
    assert_non_null(fgets(after, sizeof after, f));
    fclose(f);
    assert_string_not_equal(before, after);
    assert_int_equal(md_secrets_open(dir, NULL, 0, &s, &err), MD_OK);
    memset(&r, 0, sizeof r);
    assert_int_equal(md_secrets_reveal(s, "alice", on_reveal, &r), MD_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.fields[0], fields);
    md_secrets_close(&s);

    /* the old key opens nothing; a key file others may read is refused */
    f = fopen(key, "w");
    fputs(before, f);
    fclose(f);
    chmod(key, 0600);
    assert_int_equal(md_secrets_open(dir, NULL, 0, &s, &err), MD_OK);
    memset(&r, 0, sizeof r);
    assert_int_equal(md_secrets_reveal(s, "alice", on_reveal, &r), MD_OK);
    assert_int_equal(r.n, 0);
    md_secrets_close(&s);
    chmod(key, 0644);
    assert_int_equal(md_secrets_open(dir, NULL, 0, &s, &err), MD_EPERMISSION);
    md_free(err);
    md_free(key);
    char *cmd = md_asprintf("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    md_free(cmd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sealed_round_trip_and_rotation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_path_guard.c: user SQL kept away from the server's database files
 * (server/duckling/path_guard.c), with a real directory tree and a symbolic link.
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

#include "server/duckling/path_guard.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

static char root[64];
static char *user, *dbs;

static int setup(void **state) {
    strcpy(root, "/tmp/md-test-path-XXXXXX");
    if (!mkdtemp(root)) return -1;
    char *real = realpath(root, NULL);
    user = md_asprintf("%s/users/alice", real);
    dbs = md_asprintf("%s/databases", user);
    free(real);
    char *cmd = md_asprintf("mkdir -p '%s' '%s/files/export' && ln -s '%s' '%s/files/link'", dbs, user, dbs, user);
    int rc = system(cmd);
    md_free(cmd);
    return rc == 0 ? 0 : -1;
}

static int teardown(void **state) {
    char *cmd = md_asprintf("rm -rf '%s'", root);
    int rc = system(cmd);
    md_free(cmd);
    md_free(user);
    md_free(dbs);
    return rc == 0 ? 0 : -1;
}

static void resolve_follows_the_file_system(void **state) {
    char *p = md_path_resolve(user, "databases//./v3.duckdb");
    char *want = md_asprintf("%s/v3.duckdb", dbs);
    assert_string_equal(p, want);
    md_free(p);
    p = md_path_resolve(user, "files/link/v3.duckdb"); /* through the symbolic link */
    assert_string_equal(p, want);
    md_free(p);
    char *abs = md_asprintf("file://%s/files/../databases/v3.duckdb", user);
    p = md_path_resolve("/", abs);
    assert_string_equal(p, want);
    md_free(p);
    md_free(abs);
    p = md_path_resolve(user, "../../../../../../../..");
    assert_string_equal(p, "/");
    md_free(p);
    md_free(want);
}

static void refused(const char *sql, const char *part) {
    md_sql_error e;
    int rc = md_path_guard_check(sql, strlen(sql), user, dbs, &e);
    if (rc != MD_EPERMISSION) fail_msg("<%s> was not refused", sql);
    if (!strstr(e.message, part)) fail_msg("<%s>: '%s' lacks '%s'", sql, e.message, part);
}

static void allowed(const char *sql) {
    md_sql_error e;
    if (md_path_guard_check(sql, strlen(sql), user, dbs, &e) != MD_OK) fail_msg("<%s>: %s", sql, e.message);
}

static void the_database_folder_is_out_of_reach(void **state) {
    refused("ATTACH 'databases/my_db.duckdb' AS x", "server's own database files");
    refused("ATTACH DATABASE IF NOT EXISTS './databases//v3.duckdb'", "ATTACH may not");
    refused("ATTACH OR REPLACE 'files/link/new.duckdb' AS y", "ATTACH may not");
    refused("SELECT 1; COPY (SELECT 1) TO 'databases/my_db.duckdb.wal'", "COPY may not");
    refused("EXPLAIN ANALYZE COPY t TO 'files/../databases/x.csv' (HEADER)", "COPY may not");
    refused("EXPORT DATABASE 'databases'", "EXPORT DATABASE may not");
    refused("EXPORT DATABASE my_db TO 'files/link'", "EXPORT DATABASE may not");
    refused("ATTACH getenv('X') AS z", "string literal");
    char *abs = md_asprintf("ATTACH '%s/v3.duckdb' AS w", dbs);
    refused(abs, "ATTACH may not");
    md_free(abs);
    /* what stays allowed */
    allowed("ATTACH 'md:v3' AS v");
    allowed("ATTACH 'files/mine.duckdb' AS mine");
    allowed("COPY t FROM 'databases/x.csv'"); /* reading: DuckDB's own checks apply */
    allowed("COPY (SELECT 1 AS to_col) TO 'files/out.csv'");
    allowed("COPY t TO STDOUT");
    allowed("EXPORT DATABASE 'files/export'");
    allowed("SELECT 'ATTACH ''databases/x''' AS text");
}

static void imported_scripts_are_read_too(void **state) {
    char *dir = md_asprintf("%s/files/export", user);
    char *load = md_asprintf("%s/load.sql", dir);
    FILE *fp = fopen(load, "w");
    fputs("COPY t FROM 'files/export/t.csv';\nCOPY t TO 'databases/my_db.duckdb';\n", fp);
    fclose(fp);
    refused("IMPORT DATABASE 'files/export'", "imported scripts: COPY may not");
    fp = fopen(load, "w");
    fputs("COPY t FROM 'files/export/t.csv';\n", fp);
    fclose(fp);
    allowed("IMPORT DATABASE 'files/export'");
    md_free(load);
    md_free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resolve_follows_the_file_system),
        cmocka_unit_test(the_database_folder_is_out_of_reach),
        cmocka_unit_test(imported_scripts_are_read_too),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

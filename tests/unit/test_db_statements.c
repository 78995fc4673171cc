/*
 * test_db_statements.c: the parser of the server's database statements
 * (server/storage/db_statements.c): every form, what is left to DuckDB, and
 * the position of what is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/storage/db_statements.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

/* Parse one statement; the return code, *st filled on MD_OK. */
static int parse(const char *sql, md_dbstmt *st, md_sql_error *err) {
    md_dbscript *scr = NULL;
    int rc = md_dbscript_parse(sql, strlen(sql), &scr, err);
    if (rc != MD_OK) return rc;
    assert_non_null(scr);
    assert_int_equal(scr->n, 1);
    *st = scr->stmts[0].st;
    memset(&scr->stmts[0].st, 0, sizeof scr->stmts[0].st); /* moved out */
    md_dbscript_free(&scr);
    return MD_OK;
}

static void create_database_forms(void **state) {
    md_dbstmt st;
    md_sql_error err;
    assert_int_equal(parse("create database sales", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_CREATE_DATABASE);
    assert_string_equal(st.db, "sales");
    assert_false(st.if_not_exists);
    md_dbstmt_free(&st);

    assert_int_equal(parse("CREATE DATABASE IF NOT EXISTS \"Mixed Case\"", &st, &err), MD_OK);
    assert_string_equal(st.db, "Mixed Case");
    assert_true(st.if_not_exists);
    md_dbstmt_free(&st);

    assert_int_equal(parse("CREATE DATABASE c FROM 'md:orig' (SNAPSHOT 42)", &st, &err), MD_OK);
    assert_string_equal(st.from, "orig");
    assert_int_equal(st.snapshot, 42);
    md_dbstmt_free(&st);

    assert_int_equal(parse("CREATE DATABASE c FROM orig (SNAPSHOT_TIME '2026-01-02 03:04:05')", &st, &err), MD_OK);
    assert_string_equal(st.from, "orig");
    assert_string_equal(st.snapshot_time, "2026-01-02 03:04:05");
    md_dbstmt_free(&st);

    const char *bad = "CREATE DATABASE c FROM orig (SNAPSHOT 0)";
    assert_int_equal(parse(bad, &st, &err), MD_ESQL);
    assert_int_equal(err.position, strlen("CREATE DATABASE c FROM orig (SNAPSHOT "));
    bad = "CREATE DATABASE c FROM orig (SNAPSHOT 1, SNAPSHOT 2)";
    assert_int_equal(parse(bad, &st, &err), MD_ESQL);
    assert_non_null(strstr(err.message, "one snapshot option"));
    bad = "CREATE DATABASE c d";
    assert_int_equal(parse(bad, &st, &err), MD_ESQL);
    assert_int_equal(err.position, strlen("CREATE DATABASE c "));
    assert_int_equal(parse("CREATE OR REPLACE DATABASE x", &st, &err), MD_ESQL);
    assert_int_equal(parse("CREATE DATABASE select", &st, &err), MD_ESQL); /* reserved word */
}

static void other_forms(void **state) {
    md_dbstmt st;
    md_sql_error err;
    assert_int_equal(parse("DROP DATABASE IF EXISTS old CASCADE", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_DROP_DATABASE);
    assert_true(st.if_exists);
    assert_string_equal(st.db, "old");
    md_dbstmt_free(&st);

    assert_int_equal(parse("undrop database old", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_UNDROP_DATABASE);
    md_dbstmt_free(&st);

    assert_int_equal(parse("ALTER DATABASE d SET SNAPSHOT_RETENTION_DAYS = 30", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_ALTER_DATABASE);
    assert_int_equal(st.retention_days, 30);
    md_dbstmt_free(&st);
    assert_int_equal(parse("ALTER DATABASE d SET SNAPSHOT_RETENTION_DAYS TO 0", &st, &err), MD_OK);
    assert_int_equal(st.retention_days, 0);
    md_dbstmt_free(&st);
    assert_int_equal(parse("ALTER DATABASE d SET SNAPSHOT_RETENTION_DAYS = 99999", &st, &err), MD_ESQL);
    assert_int_equal(parse("ALTER DATABASE d RENAME TO e", &st, &err), MD_OK); /* DuckDB's, unless d is ours */
    assert_int_equal(st.kind, MD_DBSTMT_ALTER_OTHER);
    assert_string_equal(st.db, "d");
    md_dbstmt_free(&st);
    assert_int_equal(parse("ALTER DATABASE IF EXISTS my_db RENAME TO e", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_ALTER_OTHER);
    assert_string_equal(st.db, "my_db"); /* not "IF" */
    md_dbstmt_free(&st);

    assert_int_equal(parse("CREATE SNAPSHOT OF d", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_CREATE_SNAPSHOT);
    assert_null(st.snapshot_name);
    assert_string_equal(st.db, "d");
    md_dbstmt_free(&st);
    assert_int_equal(parse("CREATE SNAPSHOT nightly OF 'md:d'", &st, &err), MD_OK);
    assert_string_equal(st.snapshot_name, "nightly");
    assert_string_equal(st.db, "d");
    md_dbstmt_free(&st);

    assert_int_equal(parse("SHOW ALL DATABASES", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_SHOW_DATABASES);
    assert_true(st.all);
    md_dbstmt_free(&st);
    assert_int_equal(parse("REFRESH DATABASES", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_REFRESH);
    assert_null(st.db);
    md_dbstmt_free(&st);
    assert_int_equal(parse("REFRESH DATABASE r", &st, &err), MD_OK);
    assert_string_equal(st.db, "r");
    md_dbstmt_free(&st);
}

static void attach_and_detach(void **state) {
    md_dbstmt st;
    md_sql_error err;
    assert_int_equal(parse("ATTACH 'md:'", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_ATTACH);
    assert_null(st.db);
    md_dbstmt_free(&st);
    assert_int_equal(parse("ATTACH DATABASE IF NOT EXISTS 'md:sales' AS s", &st, &err), MD_OK);
    assert_string_equal(st.db, "sales");
    assert_string_equal(st.alias, "s");
    assert_true(st.if_not_exists);
    md_dbstmt_free(&st);
    assert_int_equal(parse("ATTACH 'MD:sales' AS past (SNAPSHOT 7)", &st, &err), MD_OK);
    assert_int_equal(st.snapshot, 7);
    md_dbstmt_free(&st);
    assert_int_equal(parse("ATTACH 'md:sales' (READ_ONLY)", &st, &err), MD_OK);
    assert_true(st.read_only);
    md_dbstmt_free(&st);
    assert_int_equal(parse("ATTACH 'md:' AS everything", &st, &err), MD_ESQL);
    assert_int_equal(parse("ATTACH 'md:x' (TYPE sqlite)", &st, &err), MD_ESQL);

    /* OR REPLACE: never for md:, and a file's target name is checked */
    assert_int_equal(parse("ATTACH OR REPLACE 'md:x'", &st, &err), MD_ESQL);
    assert_int_equal(parse("ATTACH OR REPLACE DATABASE 'dir/my_db.v2.duckdb'", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_ATTACH_FILE);
    assert_string_equal(st.alias, "my_db");
    md_dbstmt_free(&st);
    assert_int_equal(parse("ATTACH OR REPLACE 'f.duckdb' AS \"Sales\"", &st, &err), MD_OK);
    assert_string_equal(st.alias, "Sales");
    md_dbstmt_free(&st);

    /* a file, or anything DuckDB knows better, is left to DuckDB */
    assert_int_equal(parse("ATTACH 'file.duckdb' AS f", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_NONE);
    assert_int_equal(parse("DETACH DATABASE IF EXISTS f", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_DETACH);
    assert_true(st.if_exists);
    md_dbstmt_free(&st);
    assert_int_equal(parse("SELECT 'CREATE DATABASE x'", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_NONE);
    assert_int_equal(parse("SHOW TABLES", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_NONE);
    assert_int_equal(parse("DROP TABLE t", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_NONE);
}

static void scripts_keep_spans(void **state) {
    const char *sql = "SELECT 1; -- note\n CREATE DATABASE a ;;SELECT 'x;y'";
    md_dbscript *scr = NULL;
    md_sql_error err;
    assert_int_equal(md_dbscript_parse(sql, strlen(sql), &scr, &err), MD_OK);
    assert_int_equal(scr->n, 3);
    assert_int_equal(scr->ours, 1);
    assert_int_equal(scr->stmts[1].st.kind, MD_DBSTMT_CREATE_DATABASE);
    assert_int_equal(scr->stmts[1].start, strstr(sql, "CREATE") - sql);
    assert_int_equal(scr->stmts[1].end, strstr(sql, " ;;") - sql);
    assert_int_equal(scr->stmts[2].start, strstr(sql, "SELECT 'x") - sql);
    assert_int_equal(scr->stmts[2].end, strlen(sql));
    md_dbscript_free(&scr);
    /* text that does not lex: no script, DuckDB reports it */
    assert_int_equal(md_dbscript_parse("SELECT 'open", 12, &scr, &err), MD_OK);
    assert_null(scr);
    /* a malformed statement of ours anywhere fails the whole script */
    sql = "SELECT 1; DROP DATABASE; SELECT 2";
    assert_int_equal(md_dbscript_parse(sql, strlen(sql), &scr, &err), MD_ESQL);
    assert_null(scr);
    assert_int_equal(err.position, strlen("SELECT 1; DROP DATABASE"));
}

static void share_forms(void **state) {
    md_dbstmt st;
    md_sql_error err;
    assert_int_equal(parse("create share", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_CREATE_SHARE);
    assert_null(st.share);
    assert_null(st.db);
    assert_int_equal(st.access, -1);
    assert_int_equal(st.discoverable, -1);
    assert_int_equal(st.automatic, -1);
    md_dbstmt_free(&st);

    assert_int_equal(parse("CREATE OR REPLACE SHARE IF NOT EXISTS s FROM 'md:db' (ACCESS RESTRICTED, VISIBILITY "
                           "HIDDEN, UPDATE AUTOMATIC)",
                           &st, &err),
                     MD_OK);
    assert_true(st.or_replace);
    assert_true(st.if_not_exists);
    assert_string_equal(st.share, "s");
    assert_string_equal(st.db, "db");
    assert_int_equal(st.access, 2);
    assert_int_equal(st.discoverable, 0);
    assert_int_equal(st.automatic, 1);
    md_dbstmt_free(&st);

    const char *bad = "CREATE SHARE s FROM db (ACCESS PUBLIC)";
    assert_int_equal(parse(bad, &st, &err), MD_ESQL);
    assert_int_equal(err.position, strlen("CREATE SHARE s FROM db (ACCESS "));

    assert_int_equal(parse("GRANT READ ON SHARE s TO alice, USER \"bob-2\"", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_GRANT_SHARE);
    assert_int_equal(st.nusers, 2);
    assert_string_equal(st.users[0], "alice");
    assert_string_equal(st.users[1], "bob-2");
    md_dbstmt_free(&st);
    assert_int_equal(parse("REVOKE READ ON SHARE s FROM alice", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_REVOKE_SHARE);
    md_dbstmt_free(&st);
    assert_int_equal(parse("REVOKE READ ON SHARE s TO alice", &st, &err), MD_ESQL);

    assert_int_equal(parse("update share s", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_UPDATE_SHARE);
    md_dbstmt_free(&st);
    /* a table named share is DuckDB's */
    assert_int_equal(parse("UPDATE share SET v = 1", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_NONE);
    md_dbstmt_free(&st);

    assert_int_equal(parse("DROP SHARE IF EXISTS s", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_DROP_SHARE);
    assert_true(st.if_exists);
    md_dbstmt_free(&st);
    assert_int_equal(parse("LIST SHARES", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_LIST_SHARES);
    md_dbstmt_free(&st);
    assert_int_equal(parse("SHOW GRANTS ON SHARE s", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_SHOW_GRANTS);
    assert_string_equal(st.share, "s");
    md_dbstmt_free(&st);

    assert_int_equal(parse("ATTACH 'md:_share/sales/0b5e6f3a-1111-4222-8333-444455556666' AS s", &st, &err), MD_OK);
    assert_int_equal(st.kind, MD_DBSTMT_ATTACH_SHARE);
    assert_string_equal(st.db, "sales");
    assert_string_equal(st.url_id, "0b5e6f3a-1111-4222-8333-444455556666");
    assert_string_equal(st.alias, "s");
    md_dbstmt_free(&st);
    assert_int_equal(parse("ATTACH 'md:_share/sales'", &st, &err), MD_ESQL);
    assert_int_equal(parse("ATTACH 'md:_share/sales/x/y'", &st, &err), MD_ESQL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_database_forms),
        cmocka_unit_test(other_forms),
        cmocka_unit_test(attach_and_detach),
        cmocka_unit_test(scripts_keep_spans),
        cmocka_unit_test(share_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_session_option.c: the server's session-option allowlist and the
 * reader of SET, RESET, PRAGMA name = value and EXPLAIN
 * (shared/session_option.c): what is rewritten, what is refused, and that
 * the statement to run is built only from what was checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "shared/session_option.h"

/* Read `sql` as a SET-typed statement that must be allowed; check the
 * statement written and the option found. */
static void allowed(const char *sql, const char *want_sql, const char *want_option) {
    md_session_set s;
    md_sql_error e;
    int rc = md_session_set_read(sql, strlen(sql), &s, &e);
    if (rc != MD_OK) fail_msg("<%s> refused: %s", sql, e.message);
    if (strcmp(s.sql, want_sql) != 0) fail_msg("<%s> became <%s>, want <%s>", sql, s.sql, want_sql);
    if (want_option) {
        assert_true(s.option >= 0);
        assert_string_equal(md_session_option_name(s.option), want_option);
    } else {
        assert_int_equal(s.option, -1);
    }
    md_free(s.sql);
}

/* Read `sql` and expect refusal with `code` and a message containing `part`. */
static void refused(const char *sql, int code, const char *part) {
    md_session_set s;
    md_sql_error e;
    int rc = md_session_set_read(sql, strlen(sql), &s, &e);
    if (rc == MD_OK) fail_msg("<%s> allowed as <%s>", sql, s.sql);
    assert_int_equal(rc, code);
    assert_null(s.sql);
    if (!strstr(e.message, part)) fail_msg("<%s>: message <%s> lacks <%s>", sql, e.message, part);
}

static void session_options_run_with_session_scope(void **state) {
    (void)state;
    allowed("SET default_null_order = 'nulls_first'", "SET SESSION default_null_order = 'nulls_first'",
            "default_null_order");
    allowed("set DEFAULT_NULL_ORDER to 'nulls_first'", "SET SESSION default_null_order = 'nulls_first'",
            "default_null_order");
    allowed("SET SESSION TimeZone='Asia/Tokyo'", "SET SESSION TimeZone = 'Asia/Tokyo'", "TimeZone");
    allowed("SET \"timezone\" = 'UTC'", "SET SESSION TimeZone = 'UTC'", "TimeZone");
    allowed("SET TIME ZONE 'UTC'", "SET SESSION TimeZone = 'UTC'", "TimeZone");
    allowed("SET /* c */ explain_output -- x\n = 'all'", "SET SESSION explain_output = 'all'", "explain_output");
    allowed("PRAGMA default_order='DESC'", "SET SESSION default_order = 'DESC'", "default_order");
    allowed("SET LOCAL integer_division = true", "SET LOCAL integer_division = true", "integer_division");
    allowed("RESET default_null_order", "RESET SESSION default_null_order", "default_null_order");
    allowed("RESET SESSION merge_join_threshold", "RESET SESSION merge_join_threshold", "merge_join_threshold");
}

static void the_global_option_stays_global(void **state) {
    (void)state;
    allowed("SET disabled_optimizers = 'filter_pushdown'", "SET GLOBAL disabled_optimizers = 'filter_pushdown'",
            "disabled_optimizers");
    allowed("SET GLOBAL disabled_optimizers TO ''", "SET GLOBAL disabled_optimizers = ''", "disabled_optimizers");
    allowed("RESET disabled_optimizers", "RESET GLOBAL disabled_optimizers", "disabled_optimizers");
    md_session_set s;
    assert_int_equal(md_session_set_read("SET disabled_optimizers=''", 26, &s, NULL), MD_OK);
    assert_true(s.global);
    md_free(s.sql);
}

static void variables_and_use_run_as_written(void **state) {
    (void)state;
    allowed("SET VARIABLE x = 42", "SET VARIABLE x = 42", NULL);
    allowed("RESET VARIABLE x", "RESET VARIABLE x", NULL);
    allowed("USE my_db.main", "USE my_db.main", NULL);
}

static void server_options_are_refused(void **state) {
    (void)state;
    refused("SET memory_limit = '100GB'", MD_EPERMISSION, "\"memory_limit\"");
    refused("SET threads TO 64", MD_EPERMISSION, "\"threads\"");
    refused("SET GLOBAL lock_configuration = false", MD_EPERMISSION, "\"lock_configuration\"");
    refused("SET enable_external_access = true", MD_EPERMISSION, "enable_external_access");
    refused("SET \"temp_directory\" = '/'", MD_EPERMISSION, "temp_directory");
    refused("PRAGMA secret_directory = '/'", MD_EPERMISSION, "secret_directory");
    refused("RESET allowed_directories", MD_EPERMISSION, "allowed_directories");
    refused("SET checkpoint_threshold = '1MB'", MD_EPERMISSION, "checkpoint_threshold");
    refused("SET wal_autocheckpoint = '1MB'", MD_EPERMISSION, "wal_autocheckpoint");
    refused("SET errors_as_json = false", MD_EPERMISSION, "errors_as_json");
    refused("SET arrow_lossless_conversion = true", MD_EPERMISSION, "arrow_lossless_conversion");
    refused("SET profiling_output = '/tmp/x'", MD_EPERMISSION, "profiling_output");
    refused("SET VARIABLE = 3", MD_EPERMISSION, "VARIABLE");
    refused("RESET ALL", MD_EPERMISSION, "ALL");
    refused("SET GLOBAL default_null_order = 'nulls_first'", MD_EPERMISSION, "use SET default_null_order");
    refused("SET a.default_null_order = 1", MD_EPERMISSION, "\"a\"");
}

static void text_not_read_is_refused(void **state) {
    (void)state;
    /* DuckDB typed it SET, but the text is not a SET: a file IMPORT DATABASE read */
    refused("IMPORT DATABASE 'dir'", MD_EPERMISSION, "IMPORT DATABASE");
    refused("SET", MD_ESQL, "option name");
    refused("SET default_null_order", MD_ESQL, "needs '=' or TO");
    refused("SET default_null_order =", MD_ESQL, "needs '=' or TO");
    refused("RESET default_null_order extra", MD_ESQL, "nothing after");
    refused("PRAGMA threads", MD_ESQL, "cannot read");
    refused("SET 'x' = 1", MD_ESQL, "option name");
    refused("SET x = 'unterminated", MD_ESQL, "");
}

static void explain_of_a_setting_is_refused(void **state) {
    (void)state;
    md_sql_error e;
    const char *ok[] = {"EXPLAIN SELECT 1", "EXPLAIN ANALYZE SELECT 1", "explain (format json) analyze select 1",
                        "EXPLAIN ANALYZE INSERT INTO t VALUES (1)"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (md_session_explain_check(ok[i], strlen(ok[i]), &e) != MD_OK) fail_msg("<%s>: %s", ok[i], e.message);
    const char *no[] = {"EXPLAIN ANALYZE SET threads = 1", "EXPLAIN SET memory_limit='1GB'",
                        "EXPLAIN (FORMAT json) ANALYZE RESET threads", "EXPLAIN ANALYZE PRAGMA threads=1",
                        "EXPLAIN ANALYZE VERBOSE USE x", "SELECT 1", "IMPORT DATABASE 'd'"};
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        assert_int_equal(md_session_explain_check(no[i], strlen(no[i]), &e), MD_EPERMISSION);
}

static void capped_options_and_the_statement_timeout(void **state) {
    (void)state;
    allowed("SET max_expression_depth = 1000", "SET SESSION max_expression_depth = 1000", "max_expression_depth");
    refused("SET max_expression_depth = 100000000", MD_EPERMISSION, "from 0 to 1000");
    refused("SET max_expression_depth = 10 + 1", MD_EPERMISSION, "whole number");
    refused("PRAGMA max_expression_depth = 1e9", MD_EPERMISSION, "whole number");
    const struct {
        const char *sql;
        int64_t ms;
    } ok[] = {{"SET statement_timeout = 1500", 1500}, {"SET statement_timeout TO '30s'", 30000},
              {"set session statement_timeout = '5 min'", 300000}, {"SET statement_timeout = '250ms'", 250},
              {"SET statement_timeout = '1.5h'", 5400000}, {"RESET statement_timeout", 0}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        md_session_set set;
        md_sql_error e;
        if (md_session_set_read(ok[i].sql, strlen(ok[i].sql), &set, &e) != MD_OK) fail_msg("<%s>: %s", ok[i].sql, e.message);
        assert_true(set.server_setting);
        assert_null(set.sql);
        assert_int_equal(set.timeout_ms, ok[i].ms);
    }
    refused("SET statement_timeout = 'soon'", MD_ESQL, "milliseconds or a string with a unit");
    refused("SET statement_timeout = '-5s'", MD_ESQL, "a unit");
    refused("SET GLOBAL statement_timeout = 5", MD_EPERMISSION, "without GLOBAL");
}

static void pragma_calls_are_allow_listed(void **state) {
    (void)state;
    md_sql_error e;
    const char *ok[] = {"PRAGMA enable_optimizer", "pragma DISABLE_OPTIMIZER", "PRAGMA disable_optimizer;"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (md_session_pragma_check(ok[i], strlen(ok[i]), &e) != MD_OK) fail_msg("<%s>: %s", ok[i], e.message);
    const char *no[] = {"PRAGMA enable_profiling", "PRAGMA disable_checkpoint_on_shutdown",
                        "PRAGMA enable_verification", "pragma verify_external", "SELECT 1", "PRAGMA"};
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        assert_int_equal(md_session_pragma_check(no[i], strlen(no[i]), &e), MD_EPERMISSION);
    assert_int_equal(md_session_pragma_check("PRAGMA enable_profiling", 23, &e), MD_EPERMISSION);
    assert_int_equal(e.position, 7);
    assert_non_null(strstr(e.message, "does not let a session change \"enable_profiling\""));
}

static void logging_functions_are_refused_wherever_named(void **state) {
    (void)state;
    md_sql_error e;
    const char *ok[] = {"SELECT 1", "SELECT 'enable_logging' AS s", "SELECT * FROM duckdb_logs",
                        "-- enable_logging\nSELECT 1", "SELECT enable_logging_x FROM t", "SELECT 'unterminated"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (md_session_calls_check(ok[i], strlen(ok[i]), &e) != MD_OK) fail_msg("<%s>: %s", ok[i], e.message);
    const char *no[] = {"CALL enable_logging(storage_path := '/x')", "SELECT 1; SELECT * FROM Disable_Logging()",
                        "select * from \"ENABLE_LOGGING\"()", "CALL truncate_duckdb_logs()",
                        "CREATE VIEW v AS SELECT * FROM enable_logging()", "PREPARE p AS CALL enable_logging()"};
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        assert_int_equal(md_session_calls_check(no[i], strlen(no[i]), &e), MD_EPERMISSION);
        assert_non_null(strstr(e.message, "logging belongs to the server"));
    }
    assert_int_equal(md_session_calls_check(no[1], strlen(no[1]), &e), MD_EPERMISSION);
    assert_int_equal(e.position, 24); /* the name's byte */
}

static void the_list_is_consistent(void **state) {
    (void)state;
    int n = md_session_option_count();
    assert_true(n > 10 && n < 64); /* a session keeps the options it set in a 64-bit mask */
    for (int i = 0; i < n; i++) {
        const char *name = md_session_option_name(i);
        assert_int_equal(md_session_option_find(name, strlen(name)), i);
    }
    assert_null(md_session_option_name(n));
    assert_int_equal(md_session_option_find("threads", 7), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(session_options_run_with_session_scope),
        cmocka_unit_test(the_global_option_stays_global),
        cmocka_unit_test(variables_and_use_run_as_written),
        cmocka_unit_test(server_options_are_refused),
        cmocka_unit_test(text_not_read_is_refused),
        cmocka_unit_test(explain_of_a_setting_is_refused),
        cmocka_unit_test(capped_options_and_the_statement_timeout),
        cmocka_unit_test(pragma_calls_are_allow_listed),
        cmocka_unit_test(logging_functions_are_refused_wherever_named),
        cmocka_unit_test(the_list_is_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

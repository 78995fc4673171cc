/*
 * test_driver.c: the dual-execution driver (wasm/driver.c) driven by a
 * scripted host.  The host keeps a log of the actions it was given and
 * carries them out on one in-memory DuckDB: the local site is a connection
 * whose current database is "memory" (table l), the remote site one whose
 * current database is "my_db" (table r); PARSE and DEPARSE go through
 * server/duckdb/ast_json.c as the server's do.  A bridge is made with CREATE TEMP
 * TABLE on the receiving connection (both see both databases here, which is
 * the host's shortcut, not the driver's business).  A test can make any
 * action fail with the error it chooses, to walk every error path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <duckdb.h>

#include "server/duckdb/ast_json.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "wasm/driver.h"
#include "wasm/router.h"
#include "wasm/splitter.h"

/* The local site answers with the rows of catalog_rows.h's query. */
static const char LOCAL_CATALOG[] =
    "[[0,\"memory\",null,null,null,null,false,null,null,0],[1,\"memory\",\"main\",null,null,null,null,null,null,0],"
    "[2,\"memory\",\"main\",\"l\",null,null,null,false,3,0],[3,\"memory\",\"main\",\"l\",\"k\",\"INTEGER\",null,null,null,0],"
    "[3,\"memory\",\"main\",\"l\",\"a\",\"VARCHAR\",null,null,null,1]]";
static const char REMOTE_CATALOG[] =
    "{\"databases\":[{\"name\":\"my_db\",\"schemas\":[{\"name\":\"main\",\"tables\":[{\"name\":\"r\",\"rows\":100000,"
    "\"columns\":[{\"name\":\"k\",\"type\":\"INTEGER\"},{\"name\":\"b\",\"type\":\"VARCHAR\"}]}]}]}]}";

/* A failure the host plays instead of carrying an action out. */
typedef struct injected {
    int nth_of_kind;       /* the n-th action (1-based) of this kind and sink ... */
    md_drv_kind kind;
    md_drv_sink sink;      /* (RUN only; 0: any) */
    int code;
    const char *message;
    uint64_t bytes;
    int local_reset;       /* the error says the local connection was replaced */
} injected;

typedef struct host {
    duckdb_database db;
    duckdb_connection local, remote;
    md_driver *driver;
    char log[64][160];     /* one line per action: "RUN local SHOW ..." */
    int nlog;
    injected inject[4];
    int ninject;
    int seen[8][5];        /* actions seen per kind and sink */
    int64_t shown_rows;    /* rows of SHOW runs */
    char last_local_none[128]; /* the SQL of the last RUN local NONE */
    uint32_t detached_ids[8];
    int ndetached;
    int wrong_id;          /* answer the next action with another id */
} host;

static int setup(void **state) {
    host *h = md_calloc(1, sizeof *h);
    if (duckdb_open(NULL, &h->db) == DuckDBError) return -1;
    duckdb_connect(h->db, &h->local);
    duckdb_connect(h->db, &h->remote);
    duckdb_result r;
    const char *setup_sql[] = {
        "CREATE TABLE memory.main.l AS SELECT * FROM (VALUES (1, 'x'), (2, 'y'), (3, 'z')) t(k, a)",
        "ATTACH ':memory:' AS my_db",
        "ATTACH ':memory:' AS xfer", /* the host's way between the sites */
        "CREATE TABLE my_db.main.r AS SELECT i AS k, 'b' || i AS b FROM range(1, 100001) t(i)",
    };
    for (size_t i = 0; i < sizeof setup_sql / sizeof *setup_sql; i++) {
        if (duckdb_query(h->local, setup_sql[i], &r) == DuckDBError) return -1;
        duckdb_destroy_result(&r);
    }
    duckdb_query(h->remote, "USE my_db", &r);
    duckdb_destroy_result(&r);
    md_driver_config cfg = {"memory", "my_db", 0};
    h->driver = md_driver_create(&cfg);
    *state = h;
    return 0;
}

static int teardown(void **state) {
    host *h = *state;
    md_driver_destroy(&h->driver);
    duckdb_disconnect(&h->local);
    duckdb_disconnect(&h->remote);
    duckdb_close(&h->db);
    md_free(h);
    return 0;
}

static const char *kind_name(md_drv_kind k) {
    static const char *names[] = {"?", "RUN", "PARSE", "DEPARSE", "CATALOG", "WAIT", "DONE", "FAIL"};
    return k <= MD_DRV_FAIL ? names[k] : "?";
}

static const char *sink_name(md_drv_sink s) {
    static const char *names[] = {"", "SHOW", "NONE", "BRIDGE", "TEXT"};
    return s <= MD_SINK_TEXT ? names[s] : "?";
}

static int sql_on(duckdb_connection c, const char *sql, int64_t *rows, char **text, char **err) {
    duckdb_result r;
    if (duckdb_query(c, sql, &r) == DuckDBError) {
        *err = md_strdup(duckdb_result_error(&r));
        duckdb_destroy_result(&r);
        return MD_ESQL;
    }
    *rows = (int64_t)duckdb_row_count(&r);
    if (text && duckdb_row_count(&r) > 0 && duckdb_column_count(&r) > 1) {
        char *v = duckdb_value_varchar(&r, 1, 0);
        *text = md_strdup(v ? v : "");
        duckdb_free(v);
    }
    duckdb_destroy_result(&r);
    return MD_OK;
}

/* Carry out `a`: *ev and its text (md_malloc'd in *text). */
static void carry_out(host *h, const md_drv_action *a, md_drv_event *ev, char **text) {
    memset(ev, 0, sizeof *ev);
    ev->id = a->kind == MD_DRV_WAIT ? a->wait_id : a->id;
    ev->position = -1;
    if (h->wrong_id) ev->id += 1000;
    *text = NULL;
    assert_true(h->nlog < 64);
    snprintf(h->log[h->nlog++], sizeof h->log[0], "%s %s %s%s", kind_name(a->kind),
             a->kind == MD_DRV_RUN || a->kind == MD_DRV_CATALOG ? md_site_name(a->site) : "",
             a->kind == MD_DRV_RUN ? sink_name(a->sink) : "", a->detach ? " detached" : "");
    int n = ++h->seen[a->kind][a->kind == MD_DRV_RUN ? a->sink : 0];
    for (int i = 0; i < h->ninject; i++) {
        const injected *f = &h->inject[i];
        if (f->kind == a->kind && (!f->sink || f->sink == a->sink) && f->nth_of_kind == n) {
            ev->kind = MD_EV_ERROR;
            ev->code = f->code;
            ev->message = f->message;
            ev->bytes = f->bytes;
            ev->local_reset = f->local_reset;
            return;
        }
    }
    char *err = NULL;
    int rc = MD_OK;
    switch (a->kind) {
    case MD_DRV_CATALOG:
        /* the local site is read with the catalog query; the server answers CATALOG */
        if (a->site == MD_SITE_LOCAL) assert_non_null(strstr(a->sql, "duckdb_columns()"));
        else assert_null(a->sql);
        *text = md_strdup(a->site == MD_SITE_LOCAL ? LOCAL_CATALOG : REMOTE_CATALOG);
        break;
    case MD_DRV_PARSE: {
        md_ast_error e = {0, -1, NULL};
        rc = md_ast_parse(h->remote, a->sql, text, &e);
        err = e.message;
        break;
    }
    case MD_DRV_DEPARSE: {
        md_ast_error e = {0, -1, NULL};
        char *sql = NULL;
        rc = md_ast_deparse(h->remote, a->sql, strlen(a->sql), &sql, &e);
        err = e.message;
        if (rc == MD_OK) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "sql", sql);
            char *t = cJSON_PrintUnformatted(o);
            *text = md_strdup(t);
            cJSON_free(t);
            cJSON_Delete(o);
            md_free(sql);
        }
        break;
    }
    case MD_DRV_WAIT: break; /* the detached action already ran */
    case MD_DRV_RUN: {
        duckdb_connection c = a->site == MD_SITE_LOCAL ? h->local : h->remote;
        if (a->sink == MD_SINK_BRIDGE) { /* run at its site, then into the other site's temp table */
            duckdb_connection to = a->site == MD_SITE_LOCAL ? h->remote : h->local;
            char *q = md_asprintf("CREATE OR REPLACE TABLE xfer.main.\"%s\" AS %s", a->table, a->sql);
            rc = sql_on(c, q, &ev->rows, NULL, &err);
            md_free(q);
            q = md_asprintf("CREATE TEMP TABLE \"%s\" AS FROM xfer.main.\"%s\"", a->table, a->table);
            int64_t moved;
            if (rc == MD_OK) rc = sql_on(to, q, &moved, NULL, &err);
            md_free(q);
            ev->bytes = 100;
        } else {
            if (a->site == MD_SITE_LOCAL && a->sink == MD_SINK_NONE)
                snprintf(h->last_local_none, sizeof h->last_local_none, "%s", a->sql);
            rc = sql_on(c, a->sql, &ev->rows, a->sink == MD_SINK_TEXT ? text : NULL, &err);
            if (a->sink == MD_SINK_SHOW) h->shown_rows += ev->rows;
        }
        if (rc == MD_OK && a->detach) h->detached_ids[h->ndetached++] = a->id;
        break;
    }
    default: fail_msg("the host was given %s", kind_name(a->kind));
    }
    if (rc != MD_OK) {
        ev->kind = MD_EV_ERROR;
        ev->code = rc;
        ev->message = err;
        *text = err;
        return;
    }
    md_free(err);
    ev->kind = a->kind == MD_DRV_RUN && a->detach ? MD_EV_STARTED : MD_EV_OK;
    ev->text = *text;
    ev->text_len = *text ? strlen(*text) : 0;
}

/* Run `sql` to its end: the last action (DONE or FAIL). */
static md_drv_action drive(host *h, const char *sql) {
    h->nlog = 0;
    memset(h->seen, 0, sizeof h->seen);
    h->shown_rows = 0;
    assert_int_equal(md_driver_begin(h->driver, sql, strlen(sql)), MD_OK);
    const md_drv_action *a = md_driver_next(h->driver, NULL);
    for (int steps = 0; a->kind != MD_DRV_DONE && a->kind != MD_DRV_FAIL; steps++) {
        assert_true(steps < 60);
        md_drv_event ev;
        char *text;
        carry_out(h, a, &ev, &text);
        a = md_driver_next(h->driver, &ev);
        md_free(text);
    }
    md_drv_action last = *a;
    snprintf(h->log[h->nlog++], sizeof h->log[0], "%s %.100s", kind_name(a->kind), a->kind == MD_DRV_FAIL ? a->message : "");
    return last;
}

static int logged(const host *h, const char *line) {
    for (int i = 0; i < h->nlog; i++)
        if (strcmp(h->log[i], line) == 0) return 1;
    return 0;
}

static void print_log(const host *h) {
    for (int i = 0; i < h->nlog; i++) fprintf(stderr, "  %s\n", h->log[i]);
}

static cJSON *summary(host *h) {
    char *s = md_driver_summary_json(h->driver);
    cJSON *j = cJSON_Parse(s);
    md_free(s);
    return j;
}

static const char *statement_field(cJSON *sum, int i, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(sum, "statements"), i), key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *hybrid_field(cJSON *sum, int i, const char *key) {
    const cJSON *h = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(sum, "statements"), i), "hybrid");
    const cJSON *v = cJSON_GetObjectItem(h, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_catalogs_first_then_each_statement_at_its_site(void **state) {
    host *h = *state;
    md_drv_action last = drive(h, "SELECT * FROM l; SELECT count(*) FROM r");
    print_log(h);
    assert_int_equal(last.kind, MD_DRV_DONE);
    assert_string_equal(h->log[0], "CATALOG local ");
    assert_string_equal(h->log[1], "CATALOG remote ");
    assert_string_equal(h->log[2], "RUN local SHOW");
    assert_string_equal(h->log[3], "RUN remote SHOW");
    assert_int_equal(h->nlog, 5);
    cJSON *s = summary(h);
    assert_string_equal(statement_field(s, 0, "where"), "local");
    assert_string_equal(statement_field(s, 1, "where"), "remote");
    cJSON_Delete(s);
    /* a second script reads no catalog again */
    last = drive(h, "SELECT 1");
    assert_int_equal(last.kind, MD_DRV_DONE);
    assert_string_equal(h->log[0], "RUN remote SHOW"); /* the active site: the server's my_db */
}

static void test_a_statement_that_cannot_run_stops_the_script_before_anything_runs(void **state) {
    host *h = *state;
    const char *sql = "SELECT * FROM l; UPDATE l SET a = r.b FROM r WHERE l.k = r.k";
    md_drv_action last = drive(h, sql);
    print_log(h);
    assert_int_equal(last.kind, MD_DRV_FAIL);
    assert_int_equal(last.code, MD_EUNSUPPORTED);
    assert_false(logged(h, "RUN local SHOW"));
    assert_true(last.position >= (int64_t)strlen("SELECT * FROM l; "));
}

static void test_a_hybrid_join_moves_the_small_side_and_drops_its_bridge(void **state) {
    host *h = *state;
    md_drv_action last = drive(h, "SELECT l.k, l.a, r.b FROM l JOIN r ON l.k = r.k ORDER BY l.k");
    print_log(h);
    assert_int_equal(last.kind, MD_DRV_DONE);
    assert_true(logged(h, "PARSE  "));
    assert_true(logged(h, "DEPARSE  "));
    /* r is big, l small: l goes up, the join runs at the server, pipelined */
    assert_true(logged(h, "RUN local BRIDGE detached"));
    assert_true(logged(h, "RUN remote SHOW detached"));
    assert_true(logged(h, "WAIT  "));
    assert_true(logged(h, "RUN remote NONE detached")); /* the drop, not awaited */
    assert_int_equal(h->shown_rows, 3);
    cJSON *s = summary(h);
    assert_string_equal(statement_field(s, 0, "where"), "hybrid");
    assert_string_equal(hybrid_field(s, 0, "root"), "remote");
    assert_string_equal(hybrid_field(s, 0, "mode"), "split");
    cJSON_Delete(s);
}

static void test_a_final_query_that_does_not_bind_runs_again_as_the_fallback(void **state) {
    host *h = *state;
    h->inject[h->ninject++] = (injected){1, MD_DRV_RUN, MD_SINK_SHOW, MD_ESQL,
                                         "Binder Error: Referenced column \"zz\" not found in FROM clause!", 0, 0};
    md_drv_action last = drive(h, "SELECT l.k, r.b FROM l JOIN r ON l.k = r.k");
    print_log(h);
    assert_int_equal(last.kind, MD_DRV_DONE);
    assert_int_equal(h->seen[MD_DRV_PARSE][0], 2);
    cJSON *s = summary(h);
    assert_string_equal(hybrid_field(s, 0, "mode"), "fallback");
    assert_string_equal(hybrid_field(s, 0, "root"), "local");
    cJSON_Delete(s);
    /* any other error type is the statement's: no second plan */
    h->ninject = 0;
    h->inject[h->ninject++] = (injected){1, MD_DRV_RUN, MD_SINK_SHOW, MD_ESQL, "Conversion Error: no", 0, 0};
    last = drive(h, "SELECT l.k, r.b FROM l JOIN r ON l.k = r.k");
    assert_int_equal(last.kind, MD_DRV_FAIL);
    assert_string_equal(last.message, "Conversion Error: no");
    assert_int_equal(h->seen[MD_DRV_PARSE][0], 1);
    assert_int_equal(last.position, -1); /* it points into a fragment, not the user's text */
}

static void test_the_bridge_cap_fails_the_statement_with_its_own_code(void **state) {
    host *h = *state;
    md_driver_set_cap(h->driver, 1000);
    h->inject[h->ninject++] = (injected){1, MD_DRV_RUN, MD_SINK_BRIDGE, MD_ETOO_LARGE, "over", 5000, 0};
    md_drv_action last = drive(h, "SELECT l.k, r.b FROM l JOIN r ON l.k = r.k");
    print_log(h);
    assert_int_equal(last.kind, MD_DRV_FAIL);
    assert_int_equal(last.code, MD_EBRIDGE_TOO_LARGE);
    assert_non_null(strstr(last.message, "would pass the cap of 1.0 KiB (at least 4.9 KiB)"));
    assert_non_null(strstr(last.message, "memory.main.l"));
    /* the bridges were dropped, and both catalogs read again before FAIL */
    assert_string_equal(h->log[h->nlog - 3], "CATALOG local ");
    assert_string_equal(h->log[h->nlog - 2], "CATALOG remote ");
}

static void test_a_lost_local_session_gets_its_database_back_before_fail(void **state) {
    host *h = *state;
    h->inject[h->ninject++] = (injected){1, MD_DRV_RUN, MD_SINK_SHOW, MD_ECANCELLED, "the query was cancelled", 0, 1};
    md_drv_action last = drive(h, "SELECT * FROM l");
    print_log(h);
    assert_int_equal(last.kind, MD_DRV_FAIL);
    assert_int_equal(last.code, MD_ECANCELLED);
    /* USE again on the new connection, then both catalogs read again, then FAIL */
    assert_string_equal(h->log[h->nlog - 4], "RUN local NONE");
    assert_string_equal(h->last_local_none, "USE \"memory\".\"main\"");
    assert_string_equal(h->log[h->nlog - 3], "CATALOG local ");
    assert_string_equal(h->log[h->nlog - 2], "CATALOG remote ");
    /* an error without the flag puts nothing back */
    h->ninject = 0;
    h->last_local_none[0] = 0;
    h->inject[h->ninject++] = (injected){1, MD_DRV_RUN, MD_SINK_SHOW, MD_ECANCELLED, "the query was cancelled", 0, 0};
    last = drive(h, "SELECT * FROM l");
    assert_int_equal(last.kind, MD_DRV_FAIL);
    assert_string_equal(h->last_local_none, "");
}

static void test_a_failed_upload_is_named_and_nothing_waits_for_the_final_query(void **state) {
    host *h = *state;
    h->inject[h->ninject++] = (injected){1, MD_DRV_WAIT, 0, MD_EIO, "disk full", 0, 0};
    md_drv_action last = drive(h, "SELECT l.k, r.b FROM l JOIN r ON l.k = r.k");
    print_log(h);
    assert_int_equal(last.kind, MD_DRV_FAIL);
    assert_non_null(strstr(last.message, "moving memory.main.l"));
    assert_non_null(strstr(last.message, "to the server failed: disk full"));
    assert_int_equal(h->seen[MD_DRV_WAIT][0], 1);
}

static void test_a_failing_statement_puts_the_state_back_and_points_into_the_script(void **state) {
    host *h = *state;
    h->inject[h->ninject++] = (injected){1, MD_DRV_RUN, MD_SINK_SHOW, MD_ESQL, "x", 0, 0};
    md_drv_action last = drive(h, "USE memory; SELECT 1");
    print_log(h);
    /* the USE itself failed: the active site is the server's again */
    assert_int_equal(last.kind, MD_DRV_FAIL);
    char *st = NULL;
    md_router_state_json(md_driver_router(h->driver), &st);
    assert_non_null(strstr(st, "\"active\":\"remote\""));
    md_free(st);
    /* a DuckDB error position maps into the script, past the earlier statements */
    h->ninject = 0;
    last = drive(h, "SELECT 1; SELECT * FROM l WHERE nope = 1");
    assert_int_equal(last.kind, MD_DRV_FAIL);
    assert_int_equal(last.code, MD_ESQL);
    assert_true(last.position == -1 || last.position >= 10);
}

static void test_explain_answers_the_dual_plan_and_explain_analyze_runs_it(void **state) {
    host *h = *state;
    md_drv_action last = drive(h, "EXPLAIN SELECT l.k, r.b FROM l JOIN r ON l.k = r.k");
    print_log(h);
    assert_int_equal(last.kind, MD_DRV_DONE);
    assert_true(logged(h, "RUN local SHOW"));
    assert_false(logged(h, "RUN local BRIDGE detached"));
    assert_int_equal(h->shown_rows, 1);
    last = drive(h, "EXPLAIN ANALYZE SELECT l.k, r.b FROM l JOIN r ON l.k = r.k");
    print_log(h);
    assert_int_equal(last.kind, MD_DRV_DONE);
    assert_true(logged(h, "RUN remote TEXT"));
    assert_true(logged(h, "RUN local BRIDGE")); /* timed one by one: not pipelined */
    assert_true(logged(h, "RUN local SHOW"));
}

static void test_a_session_option_runs_at_both_sites_and_a_refusal_is_a_notice(void **state) {
    host *h = *state;
    md_drv_action last = drive(h, "SET default_null_order = 'nulls_first'");
    print_log(h);
    assert_int_equal(last.kind, MD_DRV_DONE);
    assert_true(logged(h, "RUN remote SHOW"));
    assert_true(logged(h, "RUN local NONE"));
    h->inject[h->ninject++] = (injected){1, MD_DRV_RUN, MD_SINK_NONE, MD_ESQL, "no ICU here", 0, 0};
    last = drive(h, "SET default_null_order = 'nulls_last'");
    assert_int_equal(last.kind, MD_DRV_DONE);
    cJSON *s = summary(h);
    assert_non_null(strstr(statement_field(s, 0, "notice"), "refused it: no ICU here"));
    cJSON_Delete(s);
    /* the optimizer pragmas a session may use are session options too */
    h->ninject = 0;
    last = drive(h, "PRAGMA disable_optimizer");
    assert_int_equal(last.kind, MD_DRV_DONE);
    assert_true(logged(h, "RUN local NONE"));
    drive(h, "PRAGMA enable_optimizer");
}

static void test_an_event_for_another_action_ends_the_script(void **state) {
    host *h = *state;
    h->wrong_id = 1;
    md_drv_action last = drive(h, "SELECT * FROM l");
    assert_int_equal(last.kind, MD_DRV_FAIL);
    assert_int_equal(last.code, MD_EPROTOCOL);
    h->wrong_id = 0;
    last = drive(h, "SELECT * FROM l"); /* the driver takes the next script */
    assert_int_equal(last.kind, MD_DRV_DONE);
    /* next without begin */
    const md_drv_action *a = md_driver_next(h->driver, NULL);
    assert_int_equal(a->kind, MD_DRV_FAIL);
    assert_int_equal(a->code, MD_EINVAL);
}

static void test_ddl_reads_its_sites_catalog_again(void **state) {
    host *h = *state;
    md_drv_action last = drive(h, "CREATE TABLE memory.main.l2 (x INTEGER)");
    print_log(h);
    assert_int_equal(last.kind, MD_DRV_DONE);
    assert_string_equal(h->log[h->nlog - 2], "CATALOG local ");
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_catalogs_first_then_each_statement_at_its_site),
        T(test_a_statement_that_cannot_run_stops_the_script_before_anything_runs),
        T(test_a_hybrid_join_moves_the_small_side_and_drops_its_bridge),
        T(test_a_final_query_that_does_not_bind_runs_again_as_the_fallback),
        T(test_the_bridge_cap_fails_the_statement_with_its_own_code),
        T(test_a_failed_upload_is_named_and_nothing_waits_for_the_final_query),
        T(test_a_failing_statement_puts_the_state_back_and_points_into_the_script),
        T(test_explain_answers_the_dual_plan_and_explain_analyze_runs_it),
        T(test_a_session_option_runs_at_both_sites_and_a_refusal_is_a_notice),
        T(test_an_event_for_another_action_ends_the_script),
        T(test_ddl_reads_its_sites_catalog_again),
        T(test_a_lost_local_session_gets_its_database_back_before_fail),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

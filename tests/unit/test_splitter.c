/*
 * test_splitter.c: the plan splitter (wasm/splitter.c) and its exact JSON
 * reader (wasm/json_exact.c) on DuckDB's real parse trees: an in-process
 * DuckDB plays the server's PARSE (json_serialize_sql) and DEPARSE
 * (json_deserialize_sql).  Checked: which side moves, what a bridge holds
 * (pushed filters, pruned columns, a subquery whole), the fallback,
 * correlated subqueries, writes, tables named by value,
 * numbers beyond 2^53, and the SQL each part gets.
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
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "wasm/catalog.h"
#include "wasm/json_exact.h"
#include "wasm/router.h"
#include "wasm/splitter.h"

static const char *LOCAL_JSON =
    "{\"databases\": [{\"name\": \"memory\", \"schemas\": [{\"name\": \"main\", \"tables\": ["
    " {\"name\": \"dim\", \"rows\": 1000, \"columns\": [{\"name\": \"k\", \"type\": \"INTEGER\"},"
    "   {\"name\": \"label\", \"type\": \"VARCHAR\"}, {\"name\": \"grp\", \"type\": \"INTEGER\"},"
    "   {\"name\": \"unused\", \"type\": \"VARCHAR\"}]},"
    " {\"name\": \"big\", \"rows\": 50000000, \"columns\": [{\"name\": \"k\", \"type\": \"INTEGER\"},"
    "   {\"name\": \"w\", \"type\": \"DOUBLE\"}]}]}]}]}";

static const char *REMOTE_JSON =
    "{\"databases\": [{\"name\": \"my_db\", \"schemas\": [{\"name\": \"main\", \"tables\": ["
    " {\"name\": \"fact\", \"rows\": 10000000, \"columns\": [{\"name\": \"id\", \"type\": \"BIGINT\"},"
    "   {\"name\": \"k\", \"type\": \"INTEGER\"}, {\"name\": \"v\", \"type\": \"DOUBLE\"}]},"
    " {\"name\": \"small\", \"rows\": 10, \"columns\": [{\"name\": \"k\", \"type\": \"INTEGER\"},"
    "   {\"name\": \"name\", \"type\": \"VARCHAR\"}]}]}]}]}";

typedef struct fx {
    md_router *r;
    duckdb_database db;
    duckdb_connection c;
} fx;

static int setup(void **state) {
    fx *f = md_calloc(1, sizeof *f);
    f->r = md_router_create(NULL, NULL);
    assert_int_equal(md_catalog_set_json(md_router_catalog(f->r), MD_SITE_LOCAL, LOCAL_JSON, strlen(LOCAL_JSON), NULL),
                     MD_OK);
    assert_int_equal(
        md_catalog_set_json(md_router_catalog(f->r), MD_SITE_REMOTE, REMOTE_JSON, strlen(REMOTE_JSON), NULL), MD_OK);
    assert_int_equal(duckdb_open(NULL, &f->db), DuckDBSuccess);
    assert_int_equal(duckdb_connect(f->db, &f->c), DuckDBSuccess);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    md_router_destroy(&f->r);
    duckdb_disconnect(&f->c);
    duckdb_close(&f->db);
    md_free(f);
    return 0;
}

/* fn('arg') through DuckDB: the first cell, md_malloc'd. */
static char *duck(fx *f, const char *fn, const char *arg) {
    md_buf q = MD_BUF_INIT;
    char *head = md_asprintf("SELECT %s(", fn);
    md_buf_append(&q, head, strlen(head));
    md_free(head);
    md_buf_put_quoted(&q, arg, '\'');
    md_buf_append(&q, "::VARCHAR)::VARCHAR", 19);
    md_buf_put_u8(&q, 0);
    duckdb_result r;
    if (duckdb_query(f->c, (const char *)q.data, &r) == DuckDBError) fail_msg("%s: %s", fn, duckdb_result_error(&r));
    char *v = duckdb_value_varchar(&r, 0, 0);
    char *out = md_strdup(v);
    duckdb_free(v);
    duckdb_destroy_result(&r);
    md_buf_free(&q);
    return out;
}

/* The finished plan of `sql` (PARSE, plan, DEPARSE, finish), as cJSON. */
static cJSON *plan(fx *f, const char *sql, unsigned flags) {
    md_split_text tx;
    md_sql_error e;
    if (md_split_prepare(sql, strlen(sql), &tx, &e) != MD_OK) fail_msg("prepare <%s>: %s", sql, e.message);
    char *ast = duck(f, "json_serialize_sql", tx.query);
    md_split_text_free(&tx);
    char *p = NULL;
    if (md_split_plan(f->r, sql, strlen(sql), ast, strlen(ast), flags, 7, &p, &e) != MD_OK)
        fail_msg("plan <%s>: %s", sql, e.message);
    md_free(ast);
    cJSON *pj = cJSON_Parse(p);
    char *text = duck(f, "json_deserialize_sql", cJSON_GetObjectItem(pj, "deparse")->valuestring);
    cJSON_Delete(pj);
    char *full = NULL;
    if (md_split_finish(p, strlen(p), text, strlen(text), &full, &e) != MD_OK) fail_msg("finish: %s", e.message);
    md_free(p);
    md_free(text);
    if (getenv("SPLIT_DEBUG")) fprintf(stderr, "%s\n", full);
    cJSON *out = cJSON_Parse(full);
    md_free(full);
    return out;
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const cJSON *bridge(const cJSON *p, int i) { return cJSON_GetArrayItem(cJSON_GetObjectItem(p, "bridges"), i); }

static int nbridges(const cJSON *p) { return cJSON_GetArraySize(cJSON_GetObjectItem(p, "bridges")); }

static void the_smaller_side_moves_filtered_and_pruned(void **state) {
    fx *f = *state;
    cJSON *p = plan(f, "SELECT d.label, sum(f.v) FROM fact f JOIN dim d ON f.k = d.k WHERE d.grp = 3 GROUP BY d.label", 0);
    assert_string_equal(str(p, "mode"), "split");
    assert_string_equal(str(p, "root"), "remote");
    assert_int_equal(nbridges(p), 1);
    const cJSON *b = bridge(p, 0);
    assert_string_equal(str(b, "from"), "local");
    assert_string_equal(str(b, "relation"), "memory.main.dim");
    assert_int_equal(cJSON_GetObjectItem(b, "filters")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(b, "columns")->valueint, 3); /* k, label, grp: not unused */
    assert_non_null(strstr(str(b, "sql"), "(d.grp = 3)"));
    assert_null(strstr(str(b, "sql"), "unused"));
    const char *fin = str(cJSON_GetObjectItem(p, "final"), "sql");
    assert_non_null(strstr(fin, "\"temp\".main.__md_b7_0 AS d"));
    assert_non_null(strstr(fin, "fact AS f"));
    cJSON_Delete(p);
    /* the other way round: the server's side is the small one */
    p = plan(f, "SELECT b.w, s.name FROM big b JOIN small s ON b.k = s.k", 0);
    assert_string_equal(str(p, "root"), "local");
    assert_string_equal(str(bridge(p, 0), "from"), "remote");
    assert_string_equal(str(bridge(p, 0), "relation"), "my_db.main.small");
    cJSON_Delete(p);
}

static void a_subquery_at_one_site_moves_whole(void **state) {
    fx *f = *state;
    cJSON *p = plan(f, "SELECT label FROM dim WHERE k IN (SELECT k FROM small WHERE name <> 'x' GROUP BY k HAVING count(*) > 0)", 0);
    assert_string_equal(str(p, "root"), "local");
    assert_int_equal(nbridges(p), 1);
    assert_string_equal(str(bridge(p, 0), "relation"), "subquery");
    const char *sql = str(bridge(p, 0), "sql");
    assert_non_null(strstr(sql, "GROUP BY k"));
    assert_non_null(strstr(sql, "HAVING"));
    cJSON_Delete(p);
    /* a big one does not: the small side moves instead */
    p = plan(f, "SELECT label FROM dim WHERE k IN (SELECT k FROM fact WHERE v > 10)", 0);
    assert_string_equal(str(p, "root"), "remote");
    assert_string_equal(str(bridge(p, 0), "relation"), "memory.main.dim");
    cJSON_Delete(p);
}

static void correlated_subqueries_move_their_tables(void **state) {
    fx *f = *state;
    cJSON *p = plan(f, "SELECT label FROM dim d WHERE EXISTS (SELECT 1 FROM small s WHERE s.k = d.k)", 0);
    assert_string_equal(str(p, "root"), "local");
    assert_string_equal(str(bridge(p, 0), "relation"), "my_db.main.small");
    assert_non_null(strstr(str(p, "reason"), "correlated"));
    assert_non_null(strstr(str(cJSON_GetObjectItem(p, "final"), "sql"), "EXISTS"));
    cJSON_Delete(p);
}

static void a_fallback_moves_remote_tables_whole(void **state) {
    fx *f = *state;
    cJSON *p;
    p = plan(f, "SELECT d.label, f.v FROM fact f JOIN dim d ON f.k = d.k WHERE d.grp = 3", MD_SPLIT_FALLBACK);
    assert_string_equal(str(p, "mode"), "fallback");
    assert_string_equal(str(bridge(p, 0), "relation"), "my_db.main.fact");
    assert_non_null(strstr(str(bridge(p, 0), "sql"), "SELECT *"));
    assert_int_equal(cJSON_GetObjectItem(bridge(p, 0), "columns")->valueint, -1);
    assert_string_equal(str(p, "root"), "local");
    cJSON_Delete(p);
}

static void writes_have_their_root_at_the_target(void **state) {
    fx *f = *state;
    cJSON *p = plan(f, "CREATE TABLE memory.main.copy AS SELECT * FROM fact WHERE id < 5", 0);
    assert_string_equal(str(p, "root"), "local");
    assert_string_equal(str(p, "prefix"), "CREATE TABLE memory.main.copy AS ");
    assert_string_equal(str(bridge(p, 0), "relation"), "subquery");
    assert_non_null(strstr(str(cJSON_GetObjectItem(p, "final"), "sql"), "CREATE TABLE memory.main.copy AS SELECT"));
    cJSON_Delete(p);
    /* AS( with no blank: the query deparses without its parentheses */
    p = plan(f, "CREATE TABLE memory.main.copy AS(SELECT * FROM fact WHERE id < 5)", 0);
    assert_non_null(strstr(str(cJSON_GetObjectItem(p, "final"), "sql"), "CREATE TABLE memory.main.copy AS SELECT"));
    cJSON_Delete(p);
    p = plan(f, "INSERT INTO fact SELECT k, k, 1.5 FROM dim", 0);
    assert_string_equal(str(p, "root"), "remote");
    assert_string_equal(str(bridge(p, 0), "from"), "local");
    cJSON_Delete(p);
    p = plan(f, "EXPLAIN SELECT * FROM fact JOIN dim USING (k)", 0);
    assert_string_equal(str(p, "explain"), "plan");
    const cJSON *lines = cJSON_GetObjectItem(p, "plan_text");
    int bridged = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, lines) bridged |= strstr(l->valuestring, "BRIDGE __md_b7_0") != NULL;
    assert_true(bridged);
    cJSON_Delete(p);
}

static void numbers_stay_exact(void **state) {
    fx *f = *state;
    cJSON *p = plan(f, "SELECT id FROM fact JOIN dim USING (k) WHERE id = 9007199254740993", 0);
    assert_non_null(strstr(str(cJSON_GetObjectItem(p, "final"), "sql"), "9007199254740993"));
    cJSON_Delete(p);
    const char *json = "{\"a\": [18446744073709551615, -0.5e-3, 1E+2], \"s\": \"\\u00e9\\ud83d\\ude00\\n\"}";
    cJSON *j = NULL;
    assert_int_equal(md_json_exact_parse(json, strlen(json), &j, NULL), MD_OK);
    char *out = cJSON_PrintUnformatted(j);
    assert_string_equal(out, "{\"a\":[18446744073709551615,-0.5e-3,1E+2],\"s\":\"\xc3\xa9\xf0\x9f\x98\x80\\n\"}");
    cJSON_free(out);
    cJSON_Delete(j);
    size_t pos = 0;
    const char *bad[] = {"{\"a\": 01}", "[1,]", "\"\\ud800\"", "{\"a\" 1}", "[\"\\u0000\"]", "1 2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(md_json_exact_parse(bad[i], strlen(bad[i]), &j, &pos), MD_EINVAL);
}

static void statements_that_cannot_split_say_why(void **state) {
    fx *f = *state;
    md_split_text tx;
    md_sql_error e;
    assert_int_equal(md_split_prepare("UPDATE fact SET v = 1", 21, &tx, &e), MD_EUNSUPPORTED);
    assert_non_null(strstr(e.message, "UPDATE cannot combine"));
    const char *one = "SELECT * FROM fact";
    char *ast = duck(f, "json_serialize_sql", one);
    char *p = NULL;
    assert_int_equal(md_split_plan(f->r, one, strlen(one), ast, strlen(ast), 0, 1, &p, &e), MD_EUNSUPPORTED);
    assert_non_null(strstr(e.message, "needs no split"));
    md_free(ast);
}

static void what_would_change_an_answer_stays_put(void **state) {
    fx *f = *state;
    /* rowid is the moved table's own: carried as a column */
    cJSON *p = plan(f, "SELECT d.rowid, s.name FROM dim d JOIN small s ON d.k = s.k WHERE d.grp = 1", 0);
    assert_string_equal(str(p, "root"), "local");
    cJSON_Delete(p);
    p = plan(f, "SELECT f.rowid, d.label FROM fact f JOIN dim d ON f.k = d.k", 0);
    assert_non_null(strstr(str(bridge(p, 0), "sql"), "rowid"));
    cJSON_Delete(p);
    /* nothing is pushed under a query-level sample (DuckDB samples before WHERE) */
    p = plan(f, "SELECT d.label FROM fact f JOIN dim d ON f.k = d.k WHERE d.grp = 3 USING SAMPLE 50 PERCENT (bernoulli, 7)", 0);
    assert_int_equal(cJSON_GetObjectItem(bridge(p, 0), "filters")->valueint, 0);
    cJSON_Delete(p);
    /* session functions are evaluated at the root, never pushed */
    p = plan(f, "SELECT d.label FROM fact f JOIN dim d ON f.k = d.k WHERE d.grp = getvariable('g')", 0);
    assert_int_equal(cJSON_GetObjectItem(bridge(p, 0), "filters")->valueint, 0);
    cJSON_Delete(p);
    /* VALUES reading the server moves whole */
    p = plan(f, "SELECT * FROM dim, (VALUES ((SELECT max(k) FROM small))) v(x) WHERE dim.k = v.x", 0);
    assert_string_equal(str(bridge(p, 0), "relation"), "subquery");
    assert_non_null(strstr(str(bridge(p, 0), "sql"), "VALUES"));
    cJSON_Delete(p);
    /* a recursive CTE's reference to itself never moves (its recursion would never end) */
    p = plan(f, "WITH RECURSIVE t(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM t, small WHERE x < 3 AND small.k = x) "
                "SELECT * FROM t JOIN dim ON t.x = dim.k", 0);
    for (int i = 0; i < nbridges(p); i++) assert_null(strstr(str(bridge(p, i), "sql"), "FROM t"));
    assert_non_null(strstr(str(cJSON_GetObjectItem(p, "final"), "sql"), "FROM t"));
    cJSON_Delete(p);
    /* a set operation's ORDER BY may bind a name in any branch: the branches stay whole */
    p = plan(f, "(SELECT k FROM dim UNION ALL SELECT grp FROM dim) UNION ALL BY NAME "
                "(SELECT name FROM small UNION ALL SELECT k FROM small) ORDER BY grp, name", 0);
    assert_string_equal(str(p, "mode"), "fallback");
    assert_non_null(strstr(str(p, "reason"), "ORDER BY of a set operation"));
    cJSON_Delete(p);
    p = plan(f, "SELECT k FROM dim UNION ALL SELECT k FROM small ORDER BY 1", 0); /* by position: splits */
    assert_string_equal(str(p, "mode"), "split");
    cJSON_Delete(p);
    /* EXPLAIN ANALYZE CREATE VIEW over both sites is no CREATE TABLE ... AS */
    md_split_text tx;
    md_sql_error e;
    const char *v = "EXPLAIN ANALYZE CREATE VIEW vv AS SELECT * FROM fact JOIN dim USING (k)";
    assert_int_equal(md_split_prepare(v, strlen(v), &tx, &e), MD_EUNSUPPORTED);
}

/* How many lines of the dual plan's text hold `needle`. */
static int plan_lines_with(const cJSON *p, const char *needle) {
    int n = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(p, "plan_text")) n += strstr(l->valuestring, needle) != NULL;
    return n;
}

/* query_table('t'), a macro handed t: the table moves whole into the root
 * under its own name, and the call stays at the root. */
static void a_table_named_by_value_moves_under_its_name(void **state) {
    fx *f = *state;
    cJSON *p = plan(f, "SELECT * FROM query_table('small') JOIN dim USING (k)", 0);
    assert_string_equal(str(p, "root"), "local");
    assert_int_equal(nbridges(p), 1);
    const cJSON *b = bridge(p, 0);
    assert_string_equal(str(b, "name"), "small"); /* temp.main.small: found first */
    assert_string_equal(str(b, "alias"), "small");
    assert_string_equal(str(b, "relation"), "my_db.main.small");
    assert_non_null(strstr(str(b, "sql"), "my_db.main.small"));
    assert_non_null(strstr(str(cJSON_GetObjectItem(p, "final"), "sql"), "query_table('small')"));
    assert_int_equal(plan_lines_with(p, "as small, named by value"), 1);
    cJSON_Delete(p);
    /* named twice: one bridge, shown once */
    p = plan(f, "SELECT * FROM query('SELECT * FROM small a JOIN small b USING (k)') JOIN dim USING (k)", 0);
    assert_int_equal(nbridges(p), 1);
    assert_int_equal(plan_lines_with(p, "as small, named by value"), 1);
    cJSON_Delete(p);
    /* the page keeps bridges in md_cache: a bridge of its own name, shown under the value's */
    p = plan(f, "SELECT * FROM query_table('small') JOIN dim USING (k)", MD_SPLIT_LOCAL_CACHE);
    assert_string_equal(str(bridge(p, 0), "name"), "__md_b7_0");
    assert_string_equal(str(bridge(p, 0), "alias"), "small");
    cJSON_Delete(p);
    /* a write: the root is the target's site; the macro's call runs there whole */
    p = plan(f, "CREATE TABLE w AS SELECT * FROM top_k(dim, grp, 2)", 0);
    assert_string_equal(str(p, "root"), "remote");
    assert_string_equal(str(bridge(p, 0), "from"), "local");
    assert_string_equal(str(bridge(p, 0), "name"), "dim");
    assert_non_null(strstr(str(cJSON_GetObjectItem(p, "final"), "sql"), "top_k(dim, grp, 2)"));
    cJSON_Delete(p);
    /* refused: a qualified name cannot be given to a temporary table */
    md_sql_error e;
    const char *q = "INSERT INTO fact SELECT * FROM query_table('memory.main.dim')";
    md_split_text tx;
    assert_int_equal(md_split_prepare(q, strlen(q), &tx, &e), MD_OK);
    char *ast = duck(f, "json_serialize_sql", tx.query);
    md_split_text_free(&tx);
    char *out = NULL;
    assert_int_equal(md_split_plan(f->r, q, strlen(q), ast, strlen(ast), 0, 1, &out, &e), MD_EUNSUPPORTED);
    assert_non_null(strstr(e.message, "named by value with its schema or database"));
    md_free(ast);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(the_smaller_side_moves_filtered_and_pruned),
        T(a_subquery_at_one_site_moves_whole),
        T(correlated_subqueries_move_their_tables),
        T(a_fallback_moves_remote_tables_whole),
        T(writes_have_their_root_at_the_target),
        T(numbers_stay_exact),
        T(statements_that_cannot_split_say_why),
        T(what_would_change_an_answer_stays_put),
        T(a_table_named_by_value_moves_under_its_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_sql_classify.c: statement kinds and relation references
 * (shared/sql_classify.c).
 *
 * Most cases are one line: the SQL and the expected description of its one
 * statement, "<kind> <VERB> | <relation>; <relation>" where a relation reads
 * "<r|w|rw> <type> <name parts joined by '.'>" followed by (path), !run,
 * +create / -drop, temp and byvalue (a table named by value) when they apply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/sql_classify.h"

static void put(md_buf *b, const char *s) { md_buf_append(b, s, strlen(s)); }

static char *describe_stmt(const md_sql_stmt *st) {
    md_buf b = MD_BUF_INIT;
    put(&b, md_sql_kind_name(st->kind));
    put(&b, " ");
    put(&b, st->verb);
    for (size_t k = 0; k < st->nrels; k++) {
        const md_sql_rel *r = &st->rels[k];
        put(&b, k ? "; " : " | ");
        put(&b, r->access == (MD_SQL_READ | MD_SQL_WRITE) ? "rw " : r->access == MD_SQL_WRITE ? "w " : "r ");
        put(&b, md_sql_rel_type_name(r->type));
        for (int p = 0; p < r->nparts; p++) {
            put(&b, p ? "." : " ");
            put(&b, r->parts[p]);
        }
        if (r->path) {
            put(&b, r->nparts ? "(" : " ");
            put(&b, r->path);
            if (r->nparts) put(&b, ")");
        }
        if (r->run == MD_SQL_RUN_LOCAL) put(&b, " !local");
        if (r->run == MD_SQL_RUN_REMOTE) put(&b, " !remote");
        if (r->effect == MD_SQL_EFFECT_CREATE) put(&b, " +create");
        if (r->effect == MD_SQL_EFFECT_DROP) put(&b, " -drop");
        if (r->temporary) put(&b, " temp");
        if (r->dynamic) put(&b, " byvalue");
    }
    md_buf_put_u8(&b, 0);
    size_t len;
    return (char *)md_buf_detach(&b, &len);
}

static md_sql_script *classify(const char *sql) {
    md_sql_script *s = NULL;
    md_sql_error e;
    int rc = md_sql_classify(sql, strlen(sql), &s, &e);
    if (rc != MD_OK) fail_msg("classify failed for <%s>: %s at %u", sql, e.message, e.position);
    return s;
}

typedef struct tcase {
    const char *sql;
    const char *want;
} tcase;

static void run_cases(const tcase *cases, size_t n) {
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        md_sql_script *s = classify(cases[i].sql);
        char *got = s->nstmts == 1 ? describe_stmt(&s->stmts[0]) : md_asprintf("%zu statements", s->nstmts);
        if (strcmp(got, cases[i].want) != 0) {
            print_error("SQL:  %s\nwant: %s\ngot:  %s\n", cases[i].sql, cases[i].want, got);
            bad++;
        }
        if (s->nstmts == 1 && s->stmts[0].error.code != MD_OK) {
            print_error("SQL:  %s\nunexpected error: %s\n", cases[i].sql, s->stmts[0].error.message);
            bad++;
        }
        md_free(got);
        md_sql_script_free(&s);
    }
    assert_int_equal(bad, 0);
}

#define RUN(cases) run_cases(cases, sizeof cases / sizeof *cases)

static void queries_and_from_first(void **state) {
    static const tcase cases[] = {
        {"SELECT * FROM t", "query SELECT | r table t"},
        {"FROM t", "query FROM | r table t"},
        {"from t select a, b where a > 1", "query FROM | r table t"},
        {"FROM t1, t2 SELECT *", "query FROM | r table t1; r table t2"},
        {"SELECT 1", "query SELECT"},
        {"VALUES (1), (2)", "query VALUES"},
        {"TABLE t", "query TABLE | r table t"},
        {"SELECT 1 UNION TABLE t", "query SELECT | r table t"},
        {"SELECT * FROM t1 x, t2 AS y (a, b) WHERE x.id = y.a", "query SELECT | r table t1; r table t2"},
        {"SELECT t.a FROM t GROUP BY ALL ORDER BY 1, 2 LIMIT 10", "query SELECT | r table t"},
    };
    RUN(cases);
}

static void files_and_table_functions(void **state) {
    static const tcase cases[] = {
        {"SELECT * FROM 'data/x.csv'", "query SELECT | r file data/x.csv"},
        {"FROM 'a.csv' JOIN 'https://h/b.parquet' USING (id)", "query FROM | r file a.csv; r file https://h/b.parquet"},
        {"FROM read_csv('x.csv', header = true)", "query FROM | r function read_csv(x.csv)"},
        {"FROM read_csv(['a.csv', 'b.csv'], union_by_name => true)", "query FROM | r function read_csv(a.csv)"},
        {"SELECT * FROM read_csv('x.csv', md_run => 'local')", "query SELECT | r function read_csv(x.csv) !local"},
        {"FROM read_parquet(md_run := 'REMOTE', 's3://b/k.parquet')",
         "query FROM | r function read_parquet(s3://b/k.parquet) !remote"},
        {"FROM range(10) r(i)", "query FROM | r function range"},
        {"FROM range(10, md_run => 'remote')", "query FROM | r function range !remote"},
        {"SELECT * FROM query_table('t')", "query SELECT | r function query_table; r table t byvalue"},
        {"FROM parquet_scan('p.parquet')", "query FROM | r function parquet_scan(p.parquet)"},
        {"FROM main.my_func(1)", "query FROM | r function main.my_func"},
        {"FROM read_json(s.path)", "query FROM | r function read_json"},
        {"FROM read_csv((SELECT min(f) FROM files))", "query FROM | r function read_csv; r table files"},
    };
    RUN(cases);
}

/* Tables a table function may read by a name given as a value: whether a
 * value names a table is the catalog's business (router.c), not this pass's. */
static void tables_named_by_value(void **state) {
    static const tcase cases[] = {
        {"FROM query_table(['a', 'db.s.b'], true)", "query FROM | r function query_table; r table a byvalue; "
                                                    "r table db.s.b byvalue"},
        {"FROM query_table(t)", "query FROM | r function query_table; r table t byvalue"},
        {"FROM query('SELECT * FROM x JOIN y.z USING (i)')",
         "query FROM | r function query; r table x byvalue; r table y.z byvalue"},
        {"FROM query('WITH c AS (FROM a) SELECT * FROM c')", "query FROM | r function query; r table a byvalue"},
        {"FROM pragma_table_info('main.t')", "query FROM | r function pragma_table_info; r table main.t byvalue"},
        {"FROM top_k(tbl, grp, 2) AS r(g, v)",
         "query FROM | r function top_k; r table tbl byvalue; r table grp byvalue"},
        /* not names: expressions, named arguments, too many parts, empty parts,
         * a CTE in scope, a file function's arguments */
        {"FROM range(n + 1)", "query FROM | r function range"},
        {"FROM unnest(['a', 'b']), repeat_row('a', num_rows = 2), f(['a'])",
         "query FROM | r function unnest; r function repeat_row; r function f"},
        {"FROM f(x := 't', 'a.b.c.d', 'a..b', t::VARCHAR)", "query FROM | r function f"},
        {"CREATE MACRO m(t) AS TABLE FROM query_table(t)", "ddl CREATE MACRO | w object m +create; r function query_table"},
        {"WITH c AS (SELECT 1) FROM query_table('c')", "query SELECT | r function query_table"},
        {"FROM read_csv('x.csv', names = ['a'])", "query FROM | r function read_csv(x.csv)"},
    };
    RUN(cases);
}

static void qualified_and_quoted_names(void **state) {
    static const tcase cases[] = {
        {"SELECT * FROM \"My DB\".\"my \"\"schema\"\"\".\"T 1\"", "query SELECT | r table My DB.my \"schema\".T 1"},
        {"FROM db.s.t AS x JOIN s2.u ON true", "query FROM | r table db.s.t; r table s2.u"},
        {"FROM Memory.Main.T", "query FROM | r table Memory.Main.T"},
        {"SELECT * FROM data", "query SELECT | r table data"}, /* an unreserved keyword as a name */
        {"FROM \"select\"", "query FROM | r table select"},
    };
    RUN(cases);
}

static void ctes_and_subqueries(void **state) {
    static const tcase cases[] = {
        {"WITH a AS (SELECT * FROM s) SELECT * FROM a, b", "query SELECT | r table s; r table b"},
        {"WITH a AS (FROM s), b AS (FROM a) FROM b", "query SELECT | r table s"},
        {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r", "query SELECT"},
        {"WITH a AS MATERIALIZED (FROM s) FROM a", "query SELECT | r table s"},
        {"WITH \"A\" AS (SELECT 1) FROM a", "query SELECT"}, /* CTE names match case-insensitively */
        /* a CTE is visible only inside its WITH's query */
        {"SELECT * FROM (WITH a AS (SELECT 1) SELECT * FROM a) x, a", "query SELECT | r table a"},
        {"SELECT (SELECT max(x) FROM s), * FROM t WHERE id IN (SELECT id FROM u) AND EXISTS (FROM v)",
         "query SELECT | r table s; r table t; r table u; r table v"},
        {"SELECT * FROM ((SELECT * FROM a)) x", "query SELECT | r table a"},
        {"WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a", "dml INSERT | w table t"},
    };
    RUN(cases);
}

static void joins_and_set_operations(void **state) {
    static const tcase cases[] = {
        {"SELECT * FROM a LEFT JOIN b ON a.id = b.id, c NATURAL JOIN d ASOF JOIN e USING (ts) POSITIONAL JOIN f",
         "query SELECT | r table a; r table b; r table c; r table d; r table e; r table f"},
        {"FROM (a JOIN b ON true) JOIN c ON (a.x = c.x)", "query FROM | r table a; r table b; r table c"},
        {"FROM a, LATERAL (SELECT * FROM b WHERE b.x = a.x) l", "query FROM | r table a; r table b"},
        {"FROM a CROSS JOIN LATERAL unnest(a.l) u", "query FROM | r table a; r function unnest"},
        /* a VALUES list in FROM is no table; its rows may hold subqueries */
        {"FROM VALUES ('A', 1), ('B', (SELECT max(x) FROM u)) t(a, b), w", "query FROM | r table u; r table w"},
        {"SELECT * FROM a UNION SELECT * FROM b EXCEPT FROM c INTERSECT (SELECT 1 FROM d)",
         "query SELECT | r table a; r table b; r table c; r table d"},
        {"(SELECT 1 FROM a) UNION ALL BY NAME (SELECT 2 FROM b)", "query SELECT | r table a; r table b"},
        {"SELECT * FROM t USING SAMPLE 10% (bernoulli)", "query SELECT | r table t"},
        {"PIVOT t ON a, b USING sum(c) GROUP BY d", "query PIVOT | r table t"},
        {"FROM t PIVOT (sum(v) FOR k IN ('a', 'b'))", "query FROM | r table t"},
    };
    RUN(cases);
}

static void from_that_is_not_a_table(void **state) {
    static const tcase cases[] = {
        {"SELECT extract(year FROM d), trim(both 'x' FROM s), substring(s FROM 2 FOR 3) FROM t", "query SELECT | r table t"},
        {"SELECT a IS DISTINCT FROM b, a IS NOT DISTINCT FROM c FROM t", "query SELECT | r table t"},
        {"SELECT 'FROM x', \"FROM\" FROM t -- FROM y", "query SELECT | r table t"},
        {"SELECT [x FOR x IN l IF x > 0] FROM t", "query SELECT | r table t"},
    };
    RUN(cases);
}

static void dml_targets(void **state) {
    static const tcase cases[] = {
        {"INSERT INTO t SELECT * FROM s", "dml INSERT | w table t; r table s"},
        {"INSERT OR REPLACE INTO db.main.t BY NAME (SELECT * FROM s)", "dml INSERT | w table db.main.t; r table s"},
        {"INSERT INTO t (a, b) VALUES (1, 'FROM x')", "dml INSERT | w table t"},
        {"INSERT INTO t FROM s", "dml INSERT | w table t; r table s"},
        {"INSERT INTO t SELECT 1 ON CONFLICT (a) DO UPDATE SET b = excluded.b, c = 2 RETURNING *", "dml INSERT | w table t"},
        {"UPDATE t SET a = s.a, b = (SELECT 1 FROM u) FROM s WHERE t.id = s.id",
         "dml UPDATE | rw table t; r table u; r table s"},
        {"DELETE FROM t AS x USING a, b WHERE x.id = a.id", "dml DELETE | rw table t; r table a; r table b"},
        {"DELETE FROM t WHERE id IN (SELECT id FROM s)", "dml DELETE | rw table t; r table s"},
        {"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT "
         "VALUES (s.id, s.v)",
         "dml MERGE | rw table t; r table s"},
        {"TRUNCATE TABLE t", "dml TRUNCATE | w table t"},
        {"COPY t FROM 'x.csv' (HEADER)", "dml COPY | w table t"},
        {"COPY t (a, b) FROM 'x.csv'", "dml COPY | w table t"},
        {"COPY t TO 'x.parquet' (FORMAT parquet)", "dml COPY | r table t"},
        {"COPY (FROM s WHERE x > 1) TO 'y.csv'", "dml COPY | r table s"},
        {"COPY FROM DATABASE a TO b", "dml COPY FROM DATABASE | r database a; w database b"},
        {"UPDATE share SET a = 1", "dml UPDATE | rw table share"},
    };
    RUN(cases);
}

static void ddl_targets(void **state) {
    static const tcase cases[] = {
        {"CREATE TABLE x AS SELECT * FROM s", "ddl CREATE TABLE | w table x +create; r table s"},
        {"CREATE OR REPLACE TEMP TABLE x AS FROM 'a.csv'", "ddl CREATE TABLE | w table x +create temp; r file a.csv"},
        {"CREATE TABLE IF NOT EXISTS d.s.x (id INT REFERENCES p(id), v VARCHAR DEFAULT 'FROM q')",
         "ddl CREATE TABLE | w table d.s.x +create; r table p"},
        {"CREATE VIEW v (a) AS SELECT * FROM s", "ddl CREATE VIEW | w table v +create; r table s"},
        {"CREATE SCHEMA IF NOT EXISTS db.s2", "ddl CREATE SCHEMA | w schema db.s2 +create"},
        {"DROP TABLE IF EXISTS a, b.c CASCADE", "ddl DROP TABLE | w table a -drop; w table b.c -drop"},
        {"DROP VIEW v", "ddl DROP VIEW | w table v -drop"},
        {"DROP SCHEMA s", "ddl DROP SCHEMA | w schema s -drop"},
        {"ALTER TABLE t RENAME TO u", "ddl ALTER TABLE | w table t"},
        {"ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES p (id)", "ddl ALTER TABLE | w table t; r table p"},
        {"CREATE UNIQUE INDEX i ON t (a)", "ddl CREATE INDEX | w table t"},
        {"CREATE MACRO m(x) AS TABLE SELECT * FROM s", "ddl CREATE MACRO | w object m +create; r table s"},
        {"CREATE SEQUENCE seq START 1", "ddl CREATE SEQUENCE | w object seq +create"},
        {"DROP SEQUENCE IF EXISTS seq", "ddl DROP SEQUENCE | w object seq"},
        {"COMMENT ON COLUMN s.t.c IS 'x'", "ddl COMMENT ON | w table s.t"},
        {"COMMENT ON TABLE t IS 'x'", "ddl COMMENT ON | w table t"},
    };
    RUN(cases);
}

static void management_transactions_and_others(void **state) {
    static const tcase cases[] = {
        {"CREATE DATABASE d", "server CREATE DATABASE | w database d +create"},
        {"CREATE DATABASE IF NOT EXISTS d FROM e", "server CREATE DATABASE | w database d +create; r database e"},
        {"DROP DATABASE d", "server DROP DATABASE | w database d -drop"},
        {"UNDROP DATABASE d", "server UNDROP DATABASE"},
        {"CREATE SNAPSHOT s1 OF d", "server CREATE SNAPSHOT | r database d"},
        {"CREATE SNAPSHOT OF d", "server CREATE SNAPSHOT | r database d"},
        {"CREATE SHARE sh FROM d (ACCESS RESTRICTED, VISIBILITY HIDDEN)", "server CREATE SHARE | r database d"},
        {"DROP SHARE sh", "server DROP SHARE"},
        {"UPDATE SHARE sh", "server UPDATE SHARE"},
        {"GRANT READ ON SHARE sh TO bob", "server GRANT"},
        {"REVOKE READ ON SHARE sh FROM bob", "server REVOKE"},
        {"LIST SHARES", "server LIST SHARES"},
        {"REFRESH DATABASE d", "server REFRESH DATABASE"},
        {"CREATE SECRET s IN MOTHERDUCK (TYPE s3, KEY_ID 'x')", "server CREATE SECRET"},
        {"CREATE OR REPLACE SECRET s IN md (TYPE s3)", "server CREATE SECRET"},
        {"CREATE PERSISTENT SECRET (TYPE s3)", "server CREATE PERSISTENT SECRET"},
        {"DROP SECRET s", "server DROP SECRET"},
        {"CREATE SECRET (TYPE s3, KEY_ID 'x')", "other CREATE SECRET"},
        {"BEGIN", "transaction BEGIN"},
        {"BEGIN TRANSACTION", "transaction BEGIN"},
        {"START TRANSACTION", "transaction BEGIN"},
        {"COMMIT", "transaction COMMIT"},
        {"END", "transaction COMMIT"},
        {"ROLLBACK", "transaction ROLLBACK"},
        {"ABORT", "transaction ROLLBACK"},
        {"ATTACH 'md:my_db2' AS m", "attach ATTACH"},
        {"DETACH DATABASE IF EXISTS x", "detach DETACH"},
        {"USE d.s", "use USE"},
        {"SET threads = 4", "other SET"},
        {"PRAGMA version", "other PRAGMA"},
        {"CALL pragma_version()", "other CALL | r function pragma_version"},
        {"INSTALL httpfs FROM 'repo'", "other INSTALL"},
        {"CHECKPOINT d", "other CHECKPOINT | w database d"},
        {"SUMMARIZE t", "query SUMMARIZE | r table t"},
        {"DESCRIBE SELECT * FROM t", "query DESCRIBE | r table t"},
        {"DESCRIBE d.s.t", "query DESCRIBE | r table d.s.t"},
        {"SHOW TABLES FROM db", "query SHOW TABLES | r schema db"},
        {"SHOW DATABASES", "server SHOW DATABASES"},
        {"SHOW ALL DATABASES", "server SHOW ALL DATABASES"},
        {"SHOW ALL TABLES", "query SHOW ALL TABLES"},
        {"EXPLAIN ANALYZE SELECT * FROM t", "query EXPLAIN ANALYZE | r table t"},
        {"EXPLAIN CREATE TABLE x AS FROM s", "ddl EXPLAIN | w table x; r table s"},
        {"EXPLAIN ANALYZE CREATE TABLE x AS FROM s", "ddl EXPLAIN ANALYZE | w table x +create; r table s"},
        {"PREPARE p AS SELECT * FROM t WHERE id = $1", "query PREPARE SELECT | r table t"},
        {"PREPARE p AS DROP TABLE t", "ddl PREPARE DROP TABLE | w table t"},
        {"EXECUTE p(1)", "other EXECUTE"},
        {"frobnicate the thing", "other "},
    };
    RUN(cases);
}

static void details_of_use_attach_detach_transactions(void **state) {
    md_sql_script *s = classify("USE \"My DB\".main; ATTACH IF NOT EXISTS 'dir/x.db' AS x (READ_ONLY); "
                                "DETACH x; ATTACH 'md:'; BEGIN; ROLLBACK");
    assert_int_equal(s->nstmts, 6);
    assert_int_equal(s->stmts[0].target_nparts, 2);
    assert_string_equal(s->stmts[0].target[0], "My DB");
    assert_string_equal(s->stmts[0].target[1], "main");
    assert_string_equal(s->stmts[1].attach_path, "dir/x.db");
    assert_string_equal(s->stmts[1].attach_alias, "x");
    assert_int_equal(s->stmts[2].target_nparts, 1);
    assert_string_equal(s->stmts[2].target[0], "x");
    assert_string_equal(s->stmts[3].attach_path, "md:");
    assert_null(s->stmts[3].attach_alias);
    assert_int_equal(s->stmts[4].txn, MD_SQL_TXN_BEGIN);
    assert_int_equal(s->stmts[5].txn, MD_SQL_TXN_ROLLBACK);
    md_sql_script_free(&s);
    assert_null(s);
}

static void spans_and_multi_statement_scripts(void **state) {
    const char *sql = "  -- lead\n SELECT * FROM a;;\n/* c */ INSERT INTO \"b\" SELECT 1 ; FROM 'é.csv' x";
    md_sql_script *s = classify(sql);
    assert_int_equal(s->nstmts, 3);
    const md_sql_stmt *st = &s->stmts[0];
    assert_int_equal(st->kind, MD_SQL_QUERY);
    assert_int_equal(st->start, 11);
    assert_int_equal(st->end, 26);
    assert_int_equal(st->rels[0].start, 25);
    assert_int_equal(st->rels[0].end, 26);
    st = &s->stmts[1];
    assert_int_equal(st->kind, MD_SQL_DML);
    assert_memory_equal(sql + st->start, "INSERT INTO \"b\" SELECT 1", st->end - st->start);
    assert_memory_equal(sql + st->rels[0].start, "\"b\"", st->rels[0].end - st->rels[0].start);
    st = &s->stmts[2];
    assert_memory_equal(sql + st->rels[0].start, "'é.csv'", 8); /* bytes: é is two */
    assert_int_equal(st->rels[0].end - st->rels[0].start, 8);
    assert_int_equal(st->end, strlen(sql));
    size_t len;
    char *text = md_sql_stmt_text(sql, st, &len);
    assert_string_equal(text, "FROM 'é.csv' x");
    assert_int_equal(len, strlen(text));
    md_free(text);
    md_sql_script_free(&s);

    s = classify("  ;  -- only a comment\n ; ");
    assert_int_equal(s->nstmts, 0);
    md_sql_script_free(&s);
}

static void md_run_is_cut_from_the_text(void **state) {
    struct { const char *sql, *text; } cases[] = {
        {"FROM read_csv('x.csv', md_run => 'local')", "FROM read_csv('x.csv')"},
        {"FROM read_csv(md_run => 'local', 'x.csv')", "FROM read_csv('x.csv')"},
        {"FROM read_csv('x.csv', md_run => 'remote', header = true)", "FROM read_csv('x.csv', header = true)"},
        {"FROM range(3, md_run := 'auto') a, range(md_run='local')", "FROM range(3) a, range()"},
        {"FROM read_csv('x.csv')", "FROM read_csv('x.csv')"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        md_sql_script *s = classify(cases[i].sql);
        char *text = md_sql_stmt_text(cases[i].sql, &s->stmts[0], NULL);
        if (strcmp(text, cases[i].text) != 0) fail_msg("<%s> ran as <%s>", cases[i].sql, text);
        md_free(text);
        md_sql_script_free(&s);
    }
}

static void statement_errors(void **state) {
    struct { const char *sql; int code; uint32_t pos; const char *says; } cases[] = {
        {"FROM read_csv('x', md_run => 'nowhere')", MD_EINVAL, 29, "md_run must be"},
        {"FROM read_csv('x', md_run => local)", MD_EINVAL, 29, "md_run must be"},
        {"SELECT * FROM a.b.c.d", MD_ESQL, 20, "at most 3 parts"},
        {"USE a.b.c", MD_ESQL, 8, "at most 2 parts"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        md_sql_script *s = classify(cases[i].sql);
        const md_sql_error *e = &s->stmts[0].error;
        if (e->code != cases[i].code || e->position != cases[i].pos || !strstr(e->message, cases[i].says))
            fail_msg("<%s>: got %d \"%s\" at %u", cases[i].sql, e->code, e->message, e->position);
        md_sql_script_free(&s);
    }
    /* Nesting deeper than the limit is an error, not a stack overflow. */
    md_buf b = MD_BUF_INIT;
    put(&b, "SELECT ");
    for (int k = 0; k < 5000; k++) put(&b, "(");
    put(&b, "1");
    for (int k = 0; k < 5000; k++) put(&b, ")");
    put(&b, "; SELECT 2");
    md_sql_script *s = NULL;
    md_sql_error e;
    assert_int_equal(md_sql_classify((const char *)b.data, b.len, &s, &e), MD_OK);
    assert_int_equal(s->nstmts, 2);
    assert_int_equal(s->stmts[0].error.code, MD_ESQL);
    assert_non_null(strstr(s->stmts[0].error.message, "nests"));
    assert_int_equal(s->stmts[1].error.code, MD_OK);
    md_sql_script_free(&s);
    md_buf_free(&b);
    /* A text that cannot be lexed fails the whole call, with the position. */
    s = (md_sql_script *)1;
    assert_int_equal(md_sql_classify("SELECT 1; SELECT 'x", 19, &s, &e), MD_ESQL);
    assert_int_equal(e.position, 17);
    assert_ptr_equal(s, (md_sql_script *)1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queries_and_from_first),
        cmocka_unit_test(files_and_table_functions),
        cmocka_unit_test(tables_named_by_value),
        cmocka_unit_test(qualified_and_quoted_names),
        cmocka_unit_test(ctes_and_subqueries),
        cmocka_unit_test(joins_and_set_operations),
        cmocka_unit_test(from_that_is_not_a_table),
        cmocka_unit_test(dml_targets),
        cmocka_unit_test(ddl_targets),
        cmocka_unit_test(management_transactions_and_others),
        cmocka_unit_test(details_of_use_attach_detach_transactions),
        cmocka_unit_test(spans_and_multi_statement_scripts),
        cmocka_unit_test(md_run_is_cut_from_the_text),
        cmocka_unit_test(statement_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

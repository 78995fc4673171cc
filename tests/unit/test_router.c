/*
 * test_router.c: name resolution and routing (wasm/router.c) against a
 * catalog cache with both sites: DuckDB's rules for t, x.t and d.s.t, the
 * fallback to the other site, USE, the effects of routed DDL / ATTACH /
 * DETACH, MIXED refusals, the documented defaults, transactions, dry runs,
 * and the JSON the engine hands to the page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "wasm/catalog.h"
#include "wasm/router.h"

static const char *LOCAL_JSON =
    "{\"databases\": ["
    " {\"name\": \"memory\", \"schemas\": [{\"name\": \"main\", \"tables\": [{\"name\": \"lt\"}, {\"name\": \"dual\"}]}]},"
    " {\"name\": \"temp\", \"schemas\": [{\"name\": \"main\", \"tables\": [{\"name\": \"tmp1\"}]}]},"
    " {\"name\": \"localdb\", \"schemas\": [{\"name\": \"main\", \"tables\": [{\"name\": \"x\"}]}]},"
    " {\"name\": \"dup\"}"
    "]}";

static const char *REMOTE_JSON =
    "{\"databases\": ["
    " {\"name\": \"my_db\", \"schemas\": ["
    "   {\"name\": \"main\", \"tables\": [{\"name\": \"orders\", \"rows\": 10}, {\"name\": \"dual\"}]},"
    "   {\"name\": \"staging\", \"tables\": [{\"name\": \"raw\"}]},"
    "   {\"name\": \"other_db\", \"tables\": [{\"name\": \"t2\"}]}]},"
    " {\"name\": \"other_db\", \"schemas\": [{\"name\": \"main\", \"tables\": [{\"name\": \"t2\"}]}]},"
    " {\"name\": \"dup\"}"
    "]}";

static int setup(void **state) {
    md_router *r = md_router_create(NULL, NULL);
    assert_int_equal(md_catalog_set_json(md_router_catalog(r), MD_SITE_LOCAL, LOCAL_JSON, strlen(LOCAL_JSON), NULL), MD_OK);
    assert_int_equal(md_catalog_set_json(md_router_catalog(r), MD_SITE_REMOTE, REMOTE_JSON, strlen(REMOTE_JSON), NULL),
                     MD_OK);
    *state = r;
    return 0;
}

static int teardown(void **state) {
    md_router *r = *state;
    md_router_destroy(&r);
    return 0;
}

static md_route_plan *plan_of(md_router *r, const char *sql, unsigned flags) {
    md_route_plan *p = NULL;
    md_sql_error e;
    int rc = md_router_route(r, sql, strlen(sql), flags, &p, &e);
    if (rc != MD_OK) fail_msg("route failed for <%s>: %s", sql, e.message);
    return p;
}

/* Route one statement and check its route and its first relation's site,
 * resolution, found flag and resolved name ("db.schema.table", NULL to skip). */
static void expect_rel(md_router *r, const char *sql, md_route route, md_site site, const char *how, int found,
                       const char *resolved) {
    md_route_plan *p = plan_of(r, sql, 0);
    const md_route_stmt *rs = &p->stmts[p->script->nstmts - 1];
    if (p->script->stmts[p->script->nstmts - 1].nrels == 0) fail_msg("<%s>: no relation found", sql);
    const md_route_rel *rr = &rs->rels[0];
    char name[200];
    snprintf(name, sizeof name, "%s.%s.%s", rr->database ? rr->database : "?", rr->schema ? rr->schema : "?",
             rr->table ? rr->table : "?");
    if (rs->route != route || rr->site != site || strcmp(rr->resolution, how) != 0 || (found >= 0 && rr->found != found) ||
        (resolved && strcmp(name, resolved) != 0))
        fail_msg("<%s>: route %s site %s how %s found %d name %s; error \"%s\"", sql, md_route_name(rs->route),
                 md_site_name(rr->site), rr->resolution, rr->found, name, rs->error.message);
    md_route_plan_free(&p);
}

static void expect_route(md_router *r, const char *sql, md_route route) {
    md_route_plan *p = plan_of(r, sql, 0);
    const md_route_stmt *rs = &p->stmts[p->script->nstmts - 1];
    if (rs->route != route)
        fail_msg("<%s>: route %s, want %s (%s)", sql, md_route_name(rs->route), md_route_name(route), rs->error.message);
    md_route_plan_free(&p);
}

/* Route and expect an error (MIXED or ERROR) whose message holds `says`. */
static void expect_refused(md_router *r, const char *sql, md_route route, int code, const char *says, uint32_t pos) {
    md_route_plan *p = plan_of(r, sql, 0);
    const md_route_stmt *rs = &p->stmts[p->script->nstmts - 1];
    if (rs->route != route || rs->error.code != code || !strstr(rs->error.message, says) ||
        (pos != UINT32_MAX && rs->error.position != pos))
        fail_msg("<%s>: route %s code %d at %u \"%s\"", sql, md_route_name(rs->route), rs->error.code,
                 rs->error.position, rs->error.message);
    md_route_plan_free(&p);
}

static void run(md_router *r, const char *sql) {
    md_route_plan *p = plan_of(r, sql, 0);
    for (size_t k = 0; k < p->script->nstmts; k++)
        if (p->stmts[k].error.code != MD_OK) fail_msg("<%s>: statement %zu: %s", sql, k, p->stmts[k].error.message);
    md_route_plan_free(&p);
}

static void unqualified_names(void **state) {
    md_router *r = *state;
    expect_rel(r, "FROM orders", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "current", 1, "my_db.main.orders");
    expect_rel(r, "FROM ORDERS", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "current", 1, "my_db.main.orders");
    expect_rel(r, "FROM lt", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "fallback", 1, "memory.main.lt");
    expect_rel(r, "FROM dual", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "current", 1, "my_db.main.dual"); /* shadows */
    expect_rel(r, "FROM tmp1", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "temp", 1, "temp.main.tmp1");
    expect_rel(r, "FROM nowhere", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "default", 0, "my_db.main.nowhere");
    run(r, "USE memory");
    expect_rel(r, "FROM dual", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "current", 1, "memory.main.dual");
    expect_rel(r, "FROM orders", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "fallback", 1, "my_db.main.orders");
    expect_rel(r, "FROM nowhere", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "default", 0, "memory.main.nowhere");
}

static void database_or_schema_qualified_names(void **state) {
    md_router *r = *state;
    expect_rel(r, "FROM localdb.x", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "qualified", 1, "localdb.main.x");
    expect_rel(r, "FROM memory.lt", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "qualified", 1, "memory.main.lt");
    expect_rel(r, "FROM staging.raw", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "current", 1, "my_db.staging.raw");
    expect_rel(r, "FROM information_schema.tables", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "current", -1, NULL);
    expect_rel(r, "FROM nodb.t", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "unknown_database", 0, NULL);
    /* other_db is a database and a schema of my_db: DuckDB calls that ambiguous */
    expect_refused(r, "SELECT * FROM other_db.t2", MD_ROUTE_ERROR, MD_ESQL, "ambiguous reference to database or schema",
                   14);
    expect_refused(r, "FROM other_db.t2", MD_ROUTE_ERROR, MD_ESQL, "other_db.main.t2 for the database", UINT32_MAX);
    expect_rel(r, "FROM other_db.main.t2", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "qualified", 1, "other_db.main.t2");
    expect_rel(r, "FROM my_db.other_db.t2", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "qualified", 1, "my_db.other_db.t2");
    /* once the current database is local, staging is found on the other site */
    run(r, "USE memory");
    expect_rel(r, "FROM staging.raw", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "fallback", 1, "my_db.staging.raw");
    expect_rel(r, "FROM information_schema.tables", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "current", -1, NULL);
    expect_rel(r, "FROM other_db.t2", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "qualified", 1, "other_db.main.t2");
}

static void three_part_and_quoted_names(void **state) {
    md_router *r = *state;
    expect_rel(r, "FROM \"MEMORY\".\"MAIN\".\"LT\"", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "qualified", 1, "memory.main.lt");
    expect_rel(r, "FROM my_db.staging.raw", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "qualified", 1, "my_db.staging.raw");
    expect_rel(r, "FROM my_db.main.missing", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "qualified", 0, "my_db.main.missing");
    expect_rel(r, "FROM newdb.main.t", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "unknown_database", 0, "newdb.main.t");
    expect_rel(r, "FROM temp.main.tmp1", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "qualified", 1, "temp.main.tmp1");
    expect_refused(r, "FROM dup.main.t", MD_ROUTE_ERROR, MD_ESQL,
                   "the name dup is used by a database in the browser and by one on the server", 5);
}

static void use_switches_database_schema_and_site(void **state) {
    md_router *r = *state;
    md_route_plan *p = plan_of(r, "USE memory; FROM lt; USE my_db.staging; FROM raw; USE main; FROM orders; USE localdb",
                             0);
    assert_int_equal(p->script->nstmts, 7);
    assert_int_equal(p->stmts[0].route, MD_ROUTE_LOCAL);
    assert_string_equal(p->stmts[0].use_database, "memory");
    assert_string_equal(p->stmts[0].use_schema, "main");
    assert_string_equal(p->stmts[1].rels[0].resolution, "current");
    assert_int_equal(p->stmts[2].route, MD_ROUTE_REMOTE);
    assert_string_equal(p->stmts[2].use_schema, "staging");
    assert_string_equal(p->stmts[3].rels[0].resolution, "current"); /* raw is in my_db.staging */
    assert_int_equal(p->stmts[4].route, MD_ROUTE_REMOTE);           /* USE main: a schema of my_db */
    assert_string_equal(p->stmts[4].use_database, "my_db");
    assert_string_equal(p->stmts[5].rels[0].resolution, "current");
    assert_int_equal(p->stmts[6].route, MD_ROUTE_LOCAL);
    /* The plan and the router end in the same state; the remote site kept its own. */
    assert_int_equal(p->state.active, MD_SITE_LOCAL);
    assert_string_equal(p->state.database[MD_SITE_LOCAL], "localdb");
    assert_string_equal(p->state.database[MD_SITE_REMOTE], "my_db");
    assert_string_equal(p->state.schema[MD_SITE_REMOTE], "main");
    md_route_plan_free(&p);
    expect_rel(r, "FROM x", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "current", 1, "localdb.main.x");
    /* An unknown database goes to the server, which may know it. */
    expect_route(r, "USE brand_new", MD_ROUTE_REMOTE);
    char *json;
    assert_int_equal(md_router_state_json(r, &json), MD_OK);
    assert_non_null(strstr(json, "\"active\":\"remote\""));
    assert_non_null(strstr(json, "\"remote\":{\"database\":\"brand_new\",\"schema\":\"main\"}"));
    assert_non_null(strstr(json, "\"local\":{\"database\":\"localdb\""));
    md_free(json);
}

static void dry_runs_change_nothing(void **state) {
    md_router *r = *state;
    md_route_plan *p = plan_of(r, "USE memory; ATTACH 'f.db' AS f; CREATE TABLE f.t1 AS SELECT 1; FROM f.t1; BEGIN",
                             MD_ROUTER_DRY_RUN);
    assert_int_equal(p->stmts[1].route, MD_ROUTE_LOCAL);
    assert_string_equal(p->stmts[1].attach_alias, "f");
    assert_int_equal(p->stmts[2].route, MD_ROUTE_LOCAL);
    assert_int_equal(p->stmts[3].route, MD_ROUTE_LOCAL); /* sees the attach and the create */
    assert_true(p->stmts[3].rels[0].found);
    assert_int_equal(p->state.active, MD_SITE_LOCAL);
    assert_int_equal(p->state.transaction, MD_SITE_LOCAL);
    md_route_plan_free(&p);
    /* ... but the router kept none of it */
    expect_rel(r, "FROM f.t1", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "unknown_database", 0, NULL);
    expect_rel(r, "FROM dual", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "current", 1, NULL);
    expect_route(r, "SELECT 1", MD_ROUTE_REMOTE);
}

static void routed_ddl_attach_detach_update_the_cache(void **state) {
    md_router *r = *state;
    run(r, "ATTACH 'dir/f.db' AS f; CREATE SCHEMA f.s; CREATE TABLE f.s.t1 (a INT)");
    expect_rel(r, "FROM f.s.t1", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "qualified", 1, "f.s.t1");
    run(r, "ATTACH 'sqlite:data/g.sqlite'");
    expect_rel(r, "FROM g.x", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "qualified", 0, "g.main.x");
    expect_route(r, "DETACH f", MD_ROUTE_LOCAL);
    expect_rel(r, "FROM f.s.t1", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "unknown_database", 0, NULL);
    expect_route(r, "ATTACH 'md:_share/owner_db/0a1b'", MD_ROUTE_SERVER);
    expect_rel(r, "FROM owner_db.t", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "qualified", 0, NULL);
    expect_route(r, "DETACH owner_db", MD_ROUTE_SERVER);
    expect_route(r, "CREATE DATABASE nd", MD_ROUTE_SERVER);
    expect_rel(r, "FROM nd.main.t", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "qualified", 0, NULL);
    run(r, "CREATE TABLE newt AS SELECT 1");
    expect_rel(r, "FROM newt", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "current", 1, "my_db.main.newt");
    run(r, "DROP TABLE newt; DROP DATABASE nd");
    expect_rel(r, "FROM newt", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "default", 0, NULL);
    expect_rel(r, "FROM nd.main.t", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "unknown_database", 0, NULL);
    run(r, "EXPLAIN CREATE TABLE e1 AS SELECT 1; PREPARE p AS CREATE TABLE e2 AS SELECT 1");
    expect_rel(r, "FROM e1", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "default", 0, NULL); /* only planned */
    expect_rel(r, "FROM e2", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "default", 0, NULL);
    run(r, "CREATE TEMP TABLE tt AS FROM memory.lt");
    expect_rel(r, "FROM tt", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "temp", 1, "temp.main.tt");
    /* A new CATALOG message for the site replaces what the router guessed. */
    assert_int_equal(md_catalog_set_json(md_router_catalog(r), MD_SITE_LOCAL, LOCAL_JSON, strlen(LOCAL_JSON), NULL),
                     MD_OK);
    expect_rel(r, "FROM tt", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "default", 0, NULL);
}

static void expect_hybrid(md_router *r, const char *sql, md_site site) {
    md_route_plan *p = plan_of(r, sql, 0);
    const md_route_stmt *rs = &p->stmts[0];
    if (rs->route != MD_ROUTE_HYBRID || rs->site != site)
        fail_msg("<%s>: route %s site %d (%s)", sql, md_route_name(rs->route), rs->site, rs->error.message);
    md_route_plan_free(&p);
}

static void statements_reading_both_sites(void **state) {
    md_router *r = *state;
    /* queries and the writes dual execution can split */
    expect_hybrid(r, "SELECT * FROM memory.lt JOIN orders USING (id)", MD_SITE_NONE);
    expect_hybrid(r, "FROM lt, memory.lt, 'a.csv', orders, 's3://b/x.parquet'", MD_SITE_NONE);
    expect_hybrid(r, "INSERT INTO orders SELECT * FROM lt", MD_SITE_REMOTE);
    expect_hybrid(r, "EXPLAIN SELECT * FROM lt JOIN orders ON true", MD_SITE_NONE);
    expect_hybrid(r, "CREATE TABLE memory.c AS FROM orders", MD_SITE_LOCAL);
    expect_rel(r, "FROM memory.c", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "qualified", 1, "memory.main.c");
    expect_hybrid(r, "CREATE TEMP TABLE tboth AS FROM lt JOIN orders ON true", MD_SITE_LOCAL);
    /* the rest is refused, naming both sides */
    expect_refused(r, "DELETE FROM orders USING memory.lt WHERE orders.id = lt.id", MD_ROUTE_MIXED, MD_EUNSUPPORTED,
                   "DELETE cannot combine data in the browser with data on the server", UINT32_MAX);
    expect_refused(r, "UPDATE orders SET id = 1 FROM lt, 'a.csv', 's3://b/x.parquet'", MD_ROUTE_MIXED,
                   MD_EUNSUPPORTED,
                   "memory.main.lt and 'a.csv' are in the browser and my_db.main.orders and 's3://b/x.parquet' are "
                   "on the server", UINT32_MAX);
    expect_refused(r, "UPDATE \"Odd Name\".main.t SET a = 1 FROM read_csv('x.csv')", MD_ROUTE_MIXED, MD_EUNSUPPORTED,
                   "read_csv('x.csv') is in the browser and \"Odd Name\".main.t is on the server", UINT32_MAX);
    /* a transaction keeps statements at its site */
    run(r, "BEGIN");
    expect_refused(r, "SELECT * FROM lt JOIN orders ON true", MD_ROUTE_ERROR, MD_EUNSUPPORTED, "inside a transaction",
                   0);
    run(r, "ROLLBACK");
    /* the plan's other statements are still routed */
    md_route_plan *p = plan_of(r, "FROM lt; DELETE FROM orders USING lt; FROM orders", 0);
    assert_int_equal(p->stmts[0].route, MD_ROUTE_LOCAL);
    assert_int_equal(p->stmts[1].route, MD_ROUTE_MIXED);
    assert_int_equal(p->stmts[2].route, MD_ROUTE_REMOTE);
    md_route_plan_free(&p);
}

static void routing_defaults(void **state) {
    md_router *r = *state;
    expect_route(r, "SELECT 1", MD_ROUTE_REMOTE);
    expect_route(r, "SET threads = 1", MD_ROUTE_REMOTE);
    expect_route(r, "FROM range(10)", MD_ROUTE_REMOTE);
    expect_route(r, "FROM range(10) JOIN lt ON true", MD_ROUTE_LOCAL); /* range places nothing */
    expect_rel(r, "FROM 'x.csv'", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "path", -1, NULL);
    expect_rel(r, "FROM 'https://example.com/x.csv'", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "path", -1, NULL);
    expect_rel(r, "FROM 'http://localhost:8080/x.csv'", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "path", -1, NULL);
    expect_rel(r, "FROM 'http://user@127.0.0.1/x.csv'", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "path", -1, NULL);
    expect_rel(r, "FROM 'http://[::1]:9/x.csv'", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "path", -1, NULL);
    expect_rel(r, "FROM 'https://localhost.example.com/x.csv'", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "path", -1, NULL);
    expect_rel(r, "FROM read_parquet('s3://bucket/k.parquet')", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "path", -1, NULL);
    expect_rel(r, "FROM read_csv('hf://datasets/x/y.csv')", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "path", -1, NULL);
    expect_rel(r, "FROM read_csv('file:///tmp/x.csv')", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "path", -1, NULL);
    expect_rel(r, "FROM read_csv('x.csv', md_run => 'remote')", MD_ROUTE_REMOTE, MD_SITE_REMOTE, "md_run", -1, NULL);
    expect_rel(r, "FROM read_csv('s3://b/x.csv', md_run => 'local')", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "md_run", -1, NULL);
    expect_rel(r, "FROM range(3, md_run => 'local')", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "md_run", -1, NULL);
    expect_refused(r, "FROM range(3, md_run => 'elsewhere')", MD_ROUTE_ERROR, MD_EINVAL, "md_run must be", 24);
    /* a table named by value is placed where it is; a value naming none places nothing */
    expect_route(r, "FROM pragma_table_info('lt')", MD_ROUTE_LOCAL);
    expect_route(r, "FROM query_table(lt)", MD_ROUTE_LOCAL);
    expect_route(r, "FROM query('SELECT * FROM memory.lt')", MD_ROUTE_LOCAL);
    expect_route(r, "FROM query_table('no_such', 'no.such.db.x')", MD_ROUTE_REMOTE);
    expect_route(r, "FROM top_k(lt, 2) JOIN orders ON true", MD_ROUTE_HYBRID);
    expect_route(r, "CREATE MACRO memory.main.m(lt) AS TABLE FROM query_table(lt)", MD_ROUTE_LOCAL);
    expect_route(r, "CREATE MACRO memory.main.m(orders) AS TABLE FROM query_table(orders)", MD_ROUTE_LOCAL);
    expect_route(r, "CREATE SECRET (TYPE s3)", MD_ROUTE_REMOTE);
    expect_route(r, "CREATE SECRET s IN MD (TYPE s3)", MD_ROUTE_SERVER);
    expect_route(r, "CREATE SNAPSHOT OF my_db", MD_ROUTE_SERVER);
    expect_route(r, "COPY orders TO 'out.csv'", MD_ROUTE_REMOTE);
    expect_route(r, "COPY memory.lt FROM 'in.csv'", MD_ROUTE_LOCAL);
    expect_route(r, "CREATE TABLE t9 (a INT)", MD_ROUTE_REMOTE);
    expect_route(r, "CREATE TEMP TABLE t10 AS SELECT 1", MD_ROUTE_REMOTE);
    expect_route(r, "SHOW TABLES FROM localdb", MD_ROUTE_LOCAL);
    expect_route(r, "SHOW TABLES FROM staging", MD_ROUTE_REMOTE);
    expect_route(r, "DESCRIBE lt", MD_ROUTE_LOCAL);
    expect_route(r, "CHECKPOINT memory", MD_ROUTE_LOCAL);
    run(r, "USE memory");
    expect_route(r, "SELECT 1", MD_ROUTE_LOCAL);
    expect_route(r, "CREATE SECRET (TYPE s3)", MD_ROUTE_REMOTE);
    expect_route(r, "CREATE TABLE t11 AS SELECT 42", MD_ROUTE_LOCAL);
    expect_route(r, "CREATE TEMP TABLE t12 AS FROM orders", MD_ROUTE_REMOTE);
}

static void transactions_stay_at_one_site(void **state) {
    md_router *r = *state;
    md_route_plan *p = plan_of(r, "BEGIN; INSERT INTO orders VALUES (1); SELECT * FROM memory.lt; CREATE DATABASE z", 0);
    assert_int_equal(p->stmts[0].route, MD_ROUTE_REMOTE);
    assert_int_equal(p->stmts[1].route, MD_ROUTE_REMOTE);
    assert_int_equal(p->stmts[2].route, MD_ROUTE_ERROR);
    assert_non_null(strstr(p->stmts[2].error.message, "a transaction is open on the server"));
    assert_int_equal(p->stmts[3].route, MD_ROUTE_SERVER);
    assert_int_equal(p->state.transaction, MD_SITE_REMOTE);
    md_route_plan_free(&p);
    expect_refused(r, "USE memory", MD_ROUTE_ERROR, MD_EUNSUPPORTED, "COMMIT or ROLLBACK first", 0);
    expect_route(r, "COMMIT", MD_ROUTE_REMOTE);
    expect_route(r, "SELECT * FROM memory.lt", MD_ROUTE_LOCAL);
    run(r, "USE memory; BEGIN");
    expect_refused(r, "UPDATE orders SET a = 1", MD_ROUTE_ERROR, MD_EUNSUPPORTED, "open in the browser", 0);
    expect_route(r, "ROLLBACK", MD_ROUTE_LOCAL);
    expect_route(r, "UPDATE orders SET a = 1", MD_ROUTE_REMOTE);
}

static void plan_json_for_the_page(void **state) {
    md_router *r = *state;
    const char *sql = "FROM read_csv('x.csv', md_run => 'remote'); DELETE FROM orders USING lt; USE memory";
    md_route_plan *p = plan_of(r, sql, 0);
    char *json;
    assert_int_equal(md_route_plan_to_json(p, &json), MD_OK);
    md_route_plan_free(&p);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    cJSON *stmts = cJSON_GetObjectItem(root, "statements");
    assert_int_equal(cJSON_GetArraySize(stmts), 3);
    cJSON *s0 = cJSON_GetArrayItem(stmts, 0);
    assert_string_equal(cJSON_GetObjectItem(s0, "route")->valuestring, "remote");
    assert_string_equal(cJSON_GetObjectItem(s0, "sql")->valuestring, "FROM read_csv('x.csv')");
    assert_string_equal(cJSON_GetObjectItem(s0, "kind")->valuestring, "query");
    assert_int_equal(cJSON_GetObjectItem(s0, "start")->valueint, 0);
    cJSON *rel = cJSON_GetArrayItem(cJSON_GetObjectItem(s0, "relations"), 0);
    assert_string_equal(cJSON_GetObjectItem(rel, "type")->valuestring, "function");
    assert_string_equal(cJSON_GetObjectItem(rel, "path")->valuestring, "x.csv");
    assert_string_equal(cJSON_GetObjectItem(rel, "md_run")->valuestring, "remote");
    assert_string_equal(cJSON_GetObjectItem(rel, "site")->valuestring, "remote");
    cJSON *s1 = cJSON_GetArrayItem(stmts, 1);
    assert_string_equal(cJSON_GetObjectItem(s1, "route")->valuestring, "mixed");
    cJSON *err = cJSON_GetObjectItem(s1, "error");
    assert_string_equal(cJSON_GetObjectItem(err, "code")->valuestring, "UNSUPPORTED");
    assert_int_equal(cJSON_GetObjectItem(err, "position")->valueint, 69);
    cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(s1, "relations"), 1);
    assert_string_equal(cJSON_GetObjectItem(t, "database")->valuestring, "memory");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(t, "found")));
    assert_string_equal(cJSON_GetObjectItem(t, "resolution")->valuestring, "fallback");
    cJSON *use = cJSON_GetObjectItem(cJSON_GetArrayItem(stmts, 2), "use");
    assert_string_equal(cJSON_GetObjectItem(use, "site")->valuestring, "local");
    cJSON *top = cJSON_GetObjectItem(root, "error");
    assert_int_equal(cJSON_GetObjectItem(top, "statement")->valueint, 1);
    cJSON *st = cJSON_GetObjectItem(root, "state");
    assert_string_equal(cJSON_GetObjectItem(st, "active")->valuestring, "local");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "transaction")));
    cJSON_Delete(root);
    md_free(json);

    /* classify: the same statements without routing fields */
    md_sql_error e;
    assert_int_equal(md_router_classify_json(sql, strlen(sql), &json, &e), MD_OK);
    root = cJSON_Parse(json);
    s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "statements"), 0);
    assert_null(cJSON_GetObjectItem(s0, "route"));
    rel = cJSON_GetArrayItem(cJSON_GetObjectItem(s0, "relations"), 0);
    assert_null(cJSON_GetObjectItem(rel, "site"));
    assert_string_equal(cJSON_GetObjectItem(rel, "md_run")->valuestring, "remote");
    cJSON_Delete(root);
    md_free(json);
}

static void state_json_round_trip_and_validation(void **state) {
    md_router *r = *state;
    char *err = NULL;
    const char *good = "{\"active\": \"local\", \"local\": {\"database\": \"localdb\"}, \"transaction\": null}";
    assert_int_equal(md_router_set_state_json(r, good, strlen(good), &err), MD_OK);
    expect_rel(r, "FROM x", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "current", 1, "localdb.main.x");
    const char *bad[] = {"{\"active\": \"mars\"}", "[]", "{\"local\": {\"database\": 5}}",
                         "{\"transaction\": \"dual\"}", "{\"active\": \"remote\", \"remote\": 1}"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        err = NULL;
        assert_int_equal(md_router_set_state_json(r, bad[k], strlen(bad[k]), &err), MD_EINVAL);
        assert_non_null(err);
        assert_non_null(strstr(err, "engine state"));
        md_free(err);
    }
    /* unchanged by the failures (the last one would have switched site first) */
    expect_rel(r, "FROM x", MD_ROUTE_LOCAL, MD_SITE_LOCAL, "current", 1, NULL);
}

static void unlexable_text_fails_and_changes_nothing(void **state) {
    md_router *r = *state;
    md_route_plan *p = (md_route_plan *)1;
    md_sql_error e;
    const char *sql = "USE memory; SELECT 'oops";
    assert_int_equal(md_router_route(r, sql, strlen(sql), 0, &p, &e), MD_ESQL);
    assert_int_equal(e.position, 19);
    assert_ptr_equal(p, (md_route_plan *)1);
    expect_route(r, "SELECT 1", MD_ROUTE_REMOTE); /* the USE was not kept */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(unqualified_names),
        T(database_or_schema_qualified_names),
        T(three_part_and_quoted_names),
        T(use_switches_database_schema_and_site),
        T(dry_runs_change_nothing),
        T(routed_ddl_attach_detach_update_the_cache),
        T(statements_reading_both_sites),
        T(routing_defaults),
        T(transactions_stay_at_one_site),
        T(plan_json_for_the_page),
        T(state_json_round_trip_and_validation),
        T(unlexable_text_fails_and_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

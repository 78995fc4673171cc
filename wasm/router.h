/*
 * router.h: where each statement of a SQL script runs.
 *
 * The router owns the engine's session state: the catalog cache
 * (catalog.h), the current database and schema of each site, which site's
 * current database is the user's current database (the "active" site), and
 * the site of an open transaction.  md_router_route() classifies a script
 * (shared/sql_classify.h), resolves every relation against the cache and
 * decides one route per statement:
 *
 *   LOCAL   run it in duckdb-wasm
 *   REMOTE  send it to the server whole (a DuckDB statement for the user's
 *           session there)
 *   SERVER  send it to the server, which answers it itself (management:
 *           databases, snapshots, shares, persistent secrets, ATTACH 'md:')
 *   HYBRID  a query, CREATE TABLE ... AS or INSERT ... SELECT that reads
 *           relations at both sites: dual execution (splitter.h) splits it;
 *           its site is the write target's site (NONE for a query)
 *   MIXED   any other statement that touches both sites (UPDATE ... FROM,
 *           DELETE ... USING, COPY, ...): refused with an error naming both
 *           sides
 *   ERROR   it cannot be routed (an ambiguous name, a bad md_run, a
 *           statement for the other site inside an open transaction)
 *
 * ---- State ---------------------------------------------------------------
 *
 * A page session starts with the remote database (default "my_db", schema
 * main) current and active, and duckdb-wasm's "memory" (schema main) as the
 * local site's current database.  USE switches the active site to the site
 * of its database and sets that site's current database/schema; the other
 * site keeps its own (that is what its engine will use for unqualified
 * names).  BEGIN pins the transaction to the site it runs at until COMMIT or
 * ROLLBACK.  Routing a script updates the state statement by statement, so
 * later statements of the same script see the effect of earlier ones; a dry
 * run (MD_ROUTER_DRY_RUN) leaves the router's state and cache unchanged.
 * The state describes what will be true if the statements succeed: when one
 * fails, the page puts back the state it saved (md_router_state_json /
 * md_router_set_state_json) and re-sends the catalog of the site concerned.
 *
 * ---- Name resolution (DuckDB's rules, plus one fallback) -----------------
 *
 * A = active site, C = its current database, S = its current schema;
 * O = the other site with its current database C' and schema S'.  Names
 * compare case-insensitively.
 *
 *   t        temp.main.t at either site (local first: DuckDB searches the
 *            temporary catalog first); else C.S.t if it exists ("current");
 *            else C'.S'.t if it exists ("fallback": the other engine would
 *            find it under the same unqualified name); else C.S.t, not found
 *            ("default": it runs at A, whose engine reports the missing table
 *            with DuckDB's own message).  CREATE t always means C.S.t.
 *   x.t      as DuckDB binds it: if a database x exists, x.main.t
 *            ("qualified") -- unless C also has a schema x, which is an
 *            error, as in DuckDB ("ambiguous reference to database or
 *            schema"); else the schema x of C ("current"), else of C'
 *            ("fallback"); information_schema and pg_catalog belong to C;
 *            else unknown ("unknown_database", routed REMOTE).
 *   d.s.t    database d's site ("qualified"); an unknown d routes REMOTE.
 *
 * Unknown databases route to the server because its part of the cache can
 * be older than its catalog (another session may just have created a
 * database), while the page's part is always current (the page sets it and
 * the router tracks the local DDL it routes).  A database name present at
 * both sites (other than temp) is an error naming both.
 *
 * ---- Routing defaults ----------------------------------------------------
 *
 *   - table functions and quoted file names: md_run => 'local'|'remote'
 *     decides; otherwise (auto) a URL runs REMOTE (http, https, s3, gcs, gs,
 *     r2, az, azure, abfss, hf, any other scheme) unless its host is
 *     localhost / 127.0.0.1 / [::1], and a plain path or file:// is a browser
 *     file (dropped or picked, registered in duckdb-wasm) and runs LOCAL;
 *     functions that read no file (range, generate_series, duckdb_tables())
 *     place nothing;
 *   - a table named by value (query_table('t'), query('... t'), a macro
 *     handed t: sql_classify.h) is placed like a table reference when the
 *     catalog knows it, and places nothing otherwise (never an error: the
 *     value may be no table name at all), so pragma_table_info('t') runs
 *     where t is, and a statement that also reads the other site is HYBRID;
 *   - a statement whose relations place nothing (SELECT 1, SET, PRAGMA,
 *     SHOW DATABASES, CALL, INSTALL) runs at the active site: the site of the
 *     current database, so current_database(), settings and catalog
 *     functions answer for the database the user is in;
 *   - CREATE TABLE/VIEW/SCHEMA/SEQUENCE/MACRO with an unqualified name:
 *     the current database's site; CREATE TEMP TABLE x AS SELECT ...: the
 *     site of what it reads, else the active site;
 *   - CREATE SECRET (temporary): REMOTE (remote URLs run on the server, so
 *     that is where a secret is useful); CREATE PERSISTENT SECRET, CREATE
 *     SECRET ... IN MD|MOTHERDUCK, DROP SECRET: SERVER;
 *   - COPY: the site of its table or query; its file is read or written at
 *     that same site;
 *   - ATTACH 'md:...': SERVER (adds the remote database under its name or
 *     alias); any other ATTACH: LOCAL (a browser file in duckdb-wasm);
 *     DETACH x: LOCAL for a local x, SERVER otherwise;
 *   - USE x / USE x.s: the site of database x (a schema x of C: A); an
 *     unknown x routes REMOTE;
 *   - BEGIN: the active site; COMMIT/ROLLBACK: the transaction's site;
 *     inside a transaction, a statement for the other site is an ERROR.
 *
 * ---- Route JSON (md_route_plan_to_json) -------------------------------------
 *
 *   {
 *     "statements": [
 *       {
 *         "index": 0, "start": 0, "end": 25,     bytes of the statement in the text
 *         "sql": "SELECT ...",                   the text to run (md_run arguments cut out)
 *         "kind": "query", "verb": "SELECT",     sql_classify.h's kinds
 *         "route": "local"|"remote"|"server"|"hybrid"|"mixed"|"error",
 *         "transaction": "begin"|"commit"|"rollback",        (transaction statements)
 *         "use": {"database": "d", "schema": "s", "site": "local"},   (USE)
 *         "attach": {"path": "md:d", "alias": "d", "site": "remote"},  (ATTACH)
 *         "detach": "d",                                               (DETACH)
 *         "relations": [
 *           {
 *             "type": "table"|"function"|"file"|"schema"|"database"|"object",
 *             "access": "read"|"write"|"read_write",
 *             "start": 14, "end": 20,            bytes of the reference
 *             "name": ["db", "s", "t"],          parts as written (unquoted)
 *             "path": "x.csv",                   (file, file-reading function)
 *             "md_run": "local"|"remote",        (when given)
 *             "effect": "create"|"drop", "temporary": true,   (when so)
 *             "site": "local"|"remote"|null,
 *             "resolution": "temp"|"current"|"fallback"|"default"|"qualified"|
 *                           "unknown_database"|"md_run"|"path"|"none",
 *             "found": true,                     (table, schema, database)
 *             "database": "my_db", "schema": "main", "table": "t"   (resolved; null when unknown)
 *           }
 *         ],
 *         "error": {"code": "UNSUPPORTED", "message": "...", "position": 14}   (mixed, error)
 *       }
 *     ],
 *     "state": {"active": "remote", "local": {"database": "memory", "schema": "main"},
 *               "remote": {"database": "my_db", "schema": "main"}, "transaction": null},
 *     "error": {"statement": 1, "code": ..., "message": ..., "position": ...}   (first, if any)
 *   }
 *
 * All offsets are bytes of the UTF-8 text.  md_router_classify_json() writes
 * the same statement objects without the routing fields (no catalog).
 */
#ifndef MD_ROUTER_H
#define MD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"
#include "shared/sql_classify.h"

/*   ROUTE(name,  wire name) */
#define MD_ROUTES(ROUTE)      \
    ROUTE(LOCAL,  "local")    \
    ROUTE(REMOTE, "remote")   \
    ROUTE(SERVER, "server")   \
    ROUTE(HYBRID, "hybrid")   \
    ROUTE(MIXED,  "mixed")    \
    ROUTE(ERROR,  "error")

typedef enum md_route {
#define MD__ROUTE_ENUM(name, wire) MD_ROUTE_##name,
    MD_ROUTES(MD__ROUTE_ENUM)
#undef MD__ROUTE_ENUM
} md_route;

/* "local", "remote", ... ("" for an unknown value). */
const char *md_route_name(md_route route);

/* Where one relation of a statement resolved (parallel to md_sql_stmt.rels). */
typedef struct md_route_rel {
    md_site site;           /* NONE: places nothing (a function reading no file) */
    const char *resolution; /* static: "current", "fallback", ... (see above) */
    bool found;             /* the table / schema / database is in the cache */
    char *database;         /* resolved names, owned; NULL when unknown or not applicable */
    char *schema;
    char *table;
} md_route_rel;

typedef struct md_route_stmt {
    md_route route;
    md_site site;           /* LOCAL or REMOTE for those routes, REMOTE for SERVER, NONE otherwise */
    md_route_rel *rels;     /* script->stmts[i].nrels entries */
    char *text;             /* the statement to run (md_run arguments cut out), owned */
    md_sql_error error;     /* code MD_OK unless route is MIXED or ERROR */
    char *use_database;     /* USE: the new current database and schema, owned */
    char *use_schema;
    char *attach_alias;     /* ATTACH: the name the database gets, owned (NULL for 'md:') */
    bool mirror;            /* a session option or variable (shared/session_option.h): run it
                               at the other site too, so a split query sees it at both; the
                               statement's answer is its own site's */
} md_route_stmt;

typedef struct md_router_state {
    md_site active;         /* the site of the user's current database */
    char *database[3];      /* per site (indexed by md_site): its current database, owned */
    char *schema[3];        /* and schema, owned */
    md_site transaction;    /* the site of an open transaction, NONE when none */
} md_router_state;

typedef struct md_route_plan {
    md_sql_script *script;  /* the classified statements, owned */
    md_route_stmt *stmts;   /* script->nstmts entries */
    md_router_state state;  /* the state after the last statement */
} md_route_plan;

typedef struct md_router md_router;

/* A router for a new page session: `remote_db` (NULL: "my_db") current and
 * active, `local_db` (NULL: "memory") the local site's current database, both
 * with schema main, both in the catalog cache.  Destroy with md_router_destroy. */
md_router *md_router_create(const char *local_db, const char *remote_db);

/* Free the router and its catalog; sets *r to NULL.  NULL is fine. */
void md_router_destroy(md_router **r);

/* The router's catalog cache (owned by the router): give it a site's
 * CATALOG JSON with md_catalog_set_json(). */
md_catalog *md_router_catalog(md_router *r);

#define MD_ROUTER_DRY_RUN 1u /* do not keep the state and catalog changes */

/*
 * Classify and route sql[0..len).  On MD_OK *out_plan is a new plan (free
 * with md_route_plan_free); statements that cannot run say so in their
 * route and error.  Unless MD_ROUTER_DRY_RUN is given, the router keeps the
 * state and catalog changes of the routed statements.  On failure (the text
 * cannot be lexed: MD_ESQL, MD_ETOO_LARGE) nothing changes, nothing is
 * written to *out_plan, and *out_err says what and where.
 */
int md_router_route(md_router *r, const char *sql, size_t len, unsigned flags, md_route_plan **out_plan,
                    md_sql_error *out_err);

/* Free a plan; sets *plan to NULL.  NULL is fine. */
void md_route_plan_free(md_route_plan **plan);

/* The plan as JSON (shape above); *out_json md_malloc'd, caller frees.
 * Returns MD_OK or MD_ENOMEM. */
int md_route_plan_to_json(const md_route_plan *plan, char **out_json);

/*
 * Classify sql[0..len) without a catalog and write the statements as JSON:
 * {"statements": [...]} with the statement and relation fields above that do
 * not depend on routing.  *out_json md_malloc'd, caller frees.  Errors as
 * md_sql_classify().
 */
int md_router_classify_json(const char *sql, size_t len, char **out_json, md_sql_error *out_err);

/* The current state as JSON: {"active", "local": {"database", "schema"},
 * "remote": {...}, "transaction"} (as in the route JSON).  *out_json
 * md_malloc'd, caller frees.  Returns MD_OK or MD_ENOMEM. */
int md_router_state_json(const md_router *r, char **out_json);

/*
 * Set the state from JSON of that shape; every member is optional and an
 * absent one keeps its value.  All or nothing: MD_EINVAL with *out_err
 * (md_malloc'd, caller frees) when the JSON or a value is not valid.
 */
int md_router_set_state_json(md_router *r, const char *json, size_t len, char **out_err);

#endif

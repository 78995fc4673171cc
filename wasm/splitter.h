/*
 * splitter.h: the plan splitter of dual execution.  One statement reads
 * relations in the browser (LOCAL) and on the server (REMOTE); the splitter
 * decides which parts run where and what moves between the sites.
 *
 * The splitter works on DuckDB's own parse tree (json_serialize_sql, asked
 * of the server with a PARSE message) and hands rewritten trees back to the
 * server to be printed as SQL (DEPARSE).  Two round trips, then data flows:
 *
 *   md_split_prepare   the text to PARSE (the statement's query, md_run
 *                      arguments cut out) and, for a write, the text before it
 *   md_split_plan      the PARSE answer -> a plan: bridges, the final query,
 *                      the dual EXPLAIN text, and one tree to DEPARSE
 *   md_split_finish    the DEPARSE answer -> the plan with every SQL text
 *
 * ---- How a plan is made ----------------------------------------------------
 *
 * Every table reference of the tree is matched, by its byte position, to the
 * relation the router resolved (router.h), which gives its site.  One site is
 * the root: the final query runs there.  Each maximal part of the tree that
 * reads only the other site, and can run on its own, becomes a BRIDGE: its
 * SQL runs at the other site and its rows go into a temporary table
 * temp.main.<name> at the root (md_cache.main.<name> in the page, see
 * MD_SPLIT_LOCAL_CACHE), which replaces the part in the tree:
 *
 *   - a subquery, a CTE body or a branch of a set operation reading one site
 *     moves whole (its filters, joins, aggregates, windows, DISTINCT, ORDER
 *     BY/LIMIT run where its data is);
 *   - a table (or table function) is moved alone with only the columns the
 *     statement names and with the WHERE / inner-join ON conjuncts that
 *     reference it alone (they stay in the final query too).
 *
 * The root is the site whose bridges move fewer estimated bytes (rows from
 * the catalog cache times column widths times filter selectivity); a write
 * (CREATE TABLE x AS, INSERT INTO x) has its root at the site of x, so its
 * rows move once.
 *
 * Correctness rests on DuckDB's binder: a part is moved only if it looks
 * self-contained, and a part that was not (a correlated reference the
 * splitter missed) fails to bind at its site instead of meaning something
 * else.  A driver that sees a bridge fail to bind plans the statement again
 * with MD_SPLIT_FALLBACK.
 *
 * FALLBACK (a construct the splitter does not know, e.g. PIVOT, or when the
 * driver asks): the root is LOCAL and every remote table or table function
 * is moved whole; the plan says why.
 *
 * ---- Plan JSON (md_split_plan; md_split_finish adds the "sql" fields) ------
 *
 *   {
 *     "mode": "split" | "fallback",
 *     "reason": "...",                         why fallback / why this root
 *     "root": "local" | "remote",
 *     "prefix": "INSERT INTO t ",               (writes) text before the query
 *     "explain": "none" | "plan" | "analyze",   EXPLAIN [ANALYZE] in front
 *     "bridges": [
 *       {"name": "__md_b1_0", "from": "remote", "to": "local",
 *        "relation": "my_db.main.orders",       what it moves (or "subquery")
 *        "columns": 2, "filters": 1,            columns and pushed conjuncts
 *        "est_rows": 1000, "est_bytes": 16000,
 *        "sql": "SELECT ..."}                   (after finish)
 *     ],
 *     "final": {"site": "local", "sql": "..."}, (sql after finish)
 *     "plan_text": ["(L) PROJECTION", ...],     the dual plan, one line each
 *     "deparse": "{...}"                        (before finish) the tree to DEPARSE
 *   }
 *
 * Bridge names are "__md_b<query>_<k>" with <query> from the options, so
 * that the temporary tables of two queries of a session never collide.
 */
#ifndef MD_SPLITTER_H
#define MD_SPLITTER_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "router.h"
#include "shared/sql_lexer.h"

#define MD_SPLIT_FALLBACK 1u    /* move every remote relation whole, run the rest locally */
#define MD_SPLIT_LOCAL_CACHE 2u /* bridges into the browser are tables of md_cache.main (the page's
                                   result cache), not temp.main */

/* The text md_split_prepare finds in a statement. */
typedef struct md_split_text {
    char *query;         /* the query to PARSE (md_run arguments cut out), owned */
    char *prefix;        /* the statement before it: "INSERT INTO t ", "CREATE TABLE t AS ", "" (owned) */
    int explain;         /* 0, 1 (EXPLAIN) or 2 (EXPLAIN ANALYZE): the words before prefix */
    size_t query_start;  /* byte offset of query in the statement with its cuts made */
} md_split_text;

/*
 * For statement `sql[0..len)` (one statement, as the user wrote it) find
 * the query to send to PARSE.  On MD_OK *out is filled (free its strings with
 * md_split_text_free).  MD_EUNSUPPORTED (with *out_err) when the statement
 * is not a query, CREATE TABLE ... AS or INSERT ... SELECT (optionally under
 * EXPLAIN [ANALYZE]); a lexer error as md_sql_classify.
 */
int md_split_prepare(const char *sql, size_t len, md_split_text *out, md_sql_error *out_err);

void md_split_text_free(md_split_text *t);

/*
 * Plan statement `sql[0..len)` given `ast`, the PARSE answer for the text
 * md_split_prepare gave.  The router resolves the statement's relations with
 * its current state (a dry run: nothing changes).  `query_id` numbers the
 * bridge tables.  On MD_OK *out_json is the plan JSON above (md_malloc'd,
 * caller frees).  Errors: MD_EINVAL (ast is not a parse tree),
 * MD_EUNSUPPORTED (not hybrid after all, or a relation the tree does not
 * show), with *out_err.
 */
int md_split_plan(md_router *r, const char *sql, size_t len, const char *ast, size_t ast_len, unsigned flags,
                  unsigned query_id, char **out_json, md_sql_error *out_err);

/*
 * Complete a plan with the DEPARSE answer `deparsed` (the bridges' SQL, then
 * the final query's, separated by ';').  *out_json is the plan with its "sql"
 * fields and without "deparse" (md_malloc'd, caller frees).  MD_EINVAL when
 * the texts do not match the plan.
 */
int md_split_finish(const char *plan, size_t plan_len, const char *deparsed, size_t dlen, char **out_json,
                    md_sql_error *out_err);

#endif

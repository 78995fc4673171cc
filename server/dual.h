/*
 * dual.h: dual execution from native code.  The browser engine's router
 * and plan splitter (wasm/router.c, wasm/splitter.c, compiled natively) with
 * a native DuckDB connection as the LOCAL site and an mdserver session
 * (rclient.h) as the REMOTE one.  `./mdserver client --local FILE.duckdb`
 * and build/slt-hybrid run statements through it; the page does the same
 * in JavaScript (ui/js/dual.js) with duckdb-wasm as the local site.
 *
 * Per statement (md_dual_run): route it; LOCAL runs on the connection,
 * REMOTE and SERVER go to the server whole, HYBRID is split:
 *
 *   PARSE -> md_split_plan -> DEPARSE                 (two round trips)
 *   each bridge: R->L  the fragment runs on the server, its Arrow batches
 *                      are appended to temp.main.<bridge> here;
 *                L->R  the fragment runs here, its rows go up as an Arrow
 *                      IPC stream (UPLOAD) into the session's temp table;
 *   the final query runs at the root site, its rows go to the hooks;
 *   the bridge tables are dropped.
 *
 * A bridge that fails to bind (a part the splitter took for self-contained
 * was not) makes the statement run again as a FALLBACK plan.  A bridge that
 * would move more than the cap (md_dual_set_cap) fails the statement with
 * BRIDGE_TOO_LARGE-style text naming the relation and the size; no result
 * is delivered then.  EXPLAIN of a hybrid statement answers the dual plan
 * in DuckDB's EXPLAIN shape (one row: explain_key 'dual_plan', explain_value
 * its text); EXPLAIN ANALYZE runs it and answers 'analyzed_plan': the dual
 * plan, the measured rows, bytes and milliseconds of every bridge and of the
 * final query, and DuckDB's own EXPLAIN ANALYZE of the final query.
 *
 * The catalog cache: each site's part is read at md_dual_create and again
 * after a statement that changes that site's catalog (DDL, ATTACH, USE...)
 * and, for row counts, before a hybrid statement when the site was written.
 */
#ifndef MD_DUAL_H
#define MD_DUAL_H

#include <stdint.h>

#include "duckdb.h"
#include "rclient.h"

typedef struct md_dual md_dual;

/* Results of the statements (hooks of rclient.h: on_batch may take the
 * batch over).  A statement whose result has no batch calls nothing. */
typedef md_rclient_hooks md_dual_hooks;

typedef struct md_dual_stats {
    char where[8];        /* "local", "remote", "server", "hybrid" (the last statement) */
    char mode[12];        /* hybrid: "split" or "fallback" */
    int bridges;
    uint64_t bytes_up;    /* Arrow bytes moved browser -> server (all statements) */
    uint64_t bytes_down;  /* Arrow bytes moved server -> browser by bridges */
    int64_t bridge_rows;
    char notice[300];     /* a session option the other site refused (it ran at its own), else "" */
} md_dual_stats;

/*
 * A dual engine over `local` (a connection the caller keeps open and owns)
 * and `remote` (a connected client the caller owns; its session's current
 * database is the remote site's current database, `remote_db`).  Reads both
 * catalogs.  MD_OK with *out, or an error with *out_err (caller frees).
 */
int md_dual_create(duckdb_connection local, md_rclient *remote, const char *remote_db, md_dual **out,
                   char **out_err);

void md_dual_destroy(md_dual **d);

/* Most Arrow bytes one bridge may move (0: no limit; the default is 1 GiB). */
void md_dual_set_cap(md_dual *d, uint64_t bytes);

/* Splitter flags for every hybrid statement from now on (wasm/splitter.h:
 * MD_SPLIT_FALLBACK plans as the naive way would: every remote relation
 * moves whole; benchmarks compare against it).  0: the splitter decides. */
void md_dual_set_split_flags(md_dual *d, unsigned flags);

/*
 * Run the statements of `sql` one after another, stopping at the first that
 * fails.  Every result goes to hooks (NULL: discarded).  MD_OK with
 * *out_stats (may be NULL); MD_ESQL, MD_EUNSUPPORTED, MD_ETOO_LARGE ... with
 * *out_err (caller frees) for a failed statement; a code other than those
 * means the connection to the server is gone.
 */
int md_dual_run(md_dual *d, const char *sql, const md_dual_hooks *hooks, md_dual_stats *out_stats,
                char **out_err);

#endif

/*
 * dual.h: dual execution from native code: the native host of the driver
 * (wasm/driver.h, compiled natively), with a native DuckDB connection as the
 * LOCAL site and an mdserver session (rclient.h) as the REMOTE one.
 * `./mdserver client --local FILE.duckdb`, build/slt-hybrid and the
 * benchmarks run statements through it; the page hosts the same driver in
 * its Worker with duckdb-wasm as the local site.
 *
 * The driver decides everything (routing, splitting, bridges, fallback, the
 * bridge cap, EXPLAIN answers, catalog refreshes); this host runs SQL on the
 * connection, sends requests on the session, moves bridge rows (server ->
 * here: Arrow batches appended to temp.main.<bridge>; here -> server: an
 * Arrow IPC stream UPLOADed into the session's temp table) and reports how
 * each action ended.
 */
#ifndef MD_DUAL_H
#define MD_DUAL_H

#include <stdint.h>

#include <duckdb.h>
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
 * Run the statements of `sql` one after another; if one cannot run at all
 * (a statement that touches both sites in a way that cannot be split), none
 * runs; otherwise the first that fails stops the script.  Every result goes
 * to hooks (NULL: discarded).  MD_OK with *out_stats (may be NULL); MD_ESQL,
 * MD_EUNSUPPORTED, MD_EBRIDGE_TOO_LARGE ... with *out_err (caller frees) for
 * a failed statement; a code like MD_EDISCONNECTED or MD_EIO means the
 * connection to the server is gone.
 */
int md_dual_run(md_dual *d, const char *sql, const md_dual_hooks *hooks, md_dual_stats *out_stats,
                char **out_err);

#endif

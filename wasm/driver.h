/*
 * driver.h: the dual-execution driver, once, for every host: a resumable
 * state machine that does no I/O (in the style of sans-I/O protocol
 * libraries).  A host -- the page's Worker (duckdb-wasm + WebSocket), the
 * terminal client and build/slt-hybrid (a native DuckDB + an mdserver
 * session) -- only carries out the actions it is given and reports how
 * each ended:
 *
 *   md_driver_begin(d, script)
 *   act = md_driver_next(d, NULL)
 *   while act->kind is not DONE or FAIL:
 *       carry act out; ev = how it ended
 *       act = md_driver_next(d, &ev)
 *
 * Everything that decides lives here: routing (router.h), checking the
 * whole script before any of it runs, saving the session state before each
 * statement and putting it back when one fails, PARSE -> plan -> DEPARSE
 * (splitter.h), bridges and their pipelining, the fallback plan (chosen by
 * DuckDB's error type: Binder and Catalog errors), the bridge cap and its
 * message, EXPLAIN / EXPLAIN ANALYZE answers, session options mirrored to
 * the other site, which catalog to read again and when, and each
 * statement's summary (where it ran, bytes each way).
 *
 * ---- Actions (md_drv_action) -------------------------------------------------
 *
 *   RUN      run `sql` at `site`; its rows go to `sink`:
 *              SHOW    the result of statement `statement` for the user;
 *              NONE    nowhere (a mirrored option, a view, a drop);
 *              BRIDGE  into the bridge table `table` at the other site: from
 *                      the server, append the Arrow batches to the local
 *                      table (temp.main.<table>, or md_cache.main.<table>
 *                      for a host created with MD_DRIVER_LOCAL_CACHE); from
 *                      the local site, UPLOAD the rows as an Arrow IPC
 *                      stream into the session's temp.main.<table>, with
 *                      "catalog": false.  At most `max_bytes` Arrow bytes:
 *                      beyond, the host ends the action with the error
 *                      MD_ETOO_LARGE and `bytes` as far as it counted;
 *              TEXT    the text of the first row's second column (EXPLAIN
 *                      ANALYZE's plan) comes back in the event's `text`.
 *            `detach`: start it and answer STARTED at once; its end is asked
 *            for later with WAIT, or never (the host then drops it quietly).
 *            `quiet` (server site): the server need not push its catalog.
 *   PARSE    send `sql` to the server's PARSE; the answer (DuckDB's tree as
 *            JSON) comes back in `text`.
 *   DEPARSE  send `sql` (a JSON request) to DEPARSE; the answer JSON in `text`.
 *   CATALOG  read `site`'s catalog into `text`: the server's CATALOG JSON
 *            (catalog.h); for the local site, run `sql` (catalog_rows.h's
 *            query) and answer its rows as JSON (an array of arrays).
 *   WAIT     the end of the detached action `wait_id`, as its event.
 *   DONE     the script ran; md_driver_summary_json has what each statement did.
 *   FAIL     it stopped: `code` (an MD_E... value), `message`, `position`
 *            (a byte offset into the script, or -1).
 *
 * ---- Events (md_drv_event) ----------------------------------------------------
 *
 *   OK       the action `id` ended: rows, bytes (Arrow bytes moved or received),
 *            ms, and text for PARSE, DEPARSE, CATALOG and sink TEXT;
 *   STARTED  a detached action `id` is under way;
 *   ERROR    it failed: code, the DuckDB error type if the host has it
 *            ("Binder", "Catalog", ...; NULL: read from the message's "X
 *            Error:" prefix), message, position (a byte offset into the
 *            action's sql, or -1).
 *
 * Strings of an action live until the next md_driver_next; strings of an
 * event are copied by md_driver_next.
 */
#ifndef MD_DRIVER_H
#define MD_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

typedef enum md_drv_kind {
    MD_DRV_RUN = 1,
    MD_DRV_PARSE,
    MD_DRV_DEPARSE,
    MD_DRV_CATALOG,
    MD_DRV_WAIT,
    MD_DRV_DONE,
    MD_DRV_FAIL,
} md_drv_kind;

typedef enum md_drv_sink {
    MD_SINK_SHOW = 1,
    MD_SINK_NONE,
    MD_SINK_BRIDGE,
    MD_SINK_TEXT,
} md_drv_sink;

typedef struct md_drv_action {
    md_drv_kind kind;
    uint32_t id;        /* names this action in its event */
    md_site site;       /* RUN, CATALOG */
    const char *sql;    /* RUN: the SQL; PARSE: the SQL; DEPARSE: the request JSON */
    md_drv_sink sink;   /* RUN */
    int statement;      /* index of the statement in the script it serves */
    const char *table;  /* RUN into BRIDGE: the bridge table's name */
    uint64_t max_bytes; /* RUN into BRIDGE */
    int detach;         /* RUN */
    int quiet;          /* RUN at the server */
    uint32_t wait_id;   /* WAIT */
    int code;           /* FAIL */
    const char *message;
    int64_t position;
} md_drv_action;

typedef enum md_drv_event_kind { MD_EV_OK = 1, MD_EV_STARTED, MD_EV_ERROR } md_drv_event_kind;

typedef struct md_drv_event {
    md_drv_event_kind kind;
    uint32_t id;
    int64_t rows;
    uint64_t bytes;
    double ms;
    const char *text; /* OK: the answer (NULL for a plain RUN) */
    size_t text_len;
    int code;         /* ERROR: an MD_E... value */
    const char *error_type;
    const char *message;
    int64_t position;
    int local_reset;  /* ERROR: the local site's connection had to be replaced (a cancel
                       * in duckdb-wasm's COI build): its current database is gone, and
                       * the driver puts it back (USE) before it fails */
} md_drv_event;

/* The host keeps its local bridge tables in md_cache.main (the page's
 * result cache) rather than temp.main. */
#define MD_DRIVER_LOCAL_CACHE 1u

typedef struct md_driver_config {
    const char *local_db;  /* the local site's current database (NULL: "memory") */
    const char *remote_db; /* the server session's (NULL: "my_db") */
    unsigned flags;        /* MD_DRIVER_... */
} md_driver_config;

typedef struct md_driver md_driver;

/* A driver for one session (strings copied).  Both catalogs are read
 * (CATALOG actions) before its first statement runs. */
md_driver *md_driver_create(const md_driver_config *cfg);

void md_driver_destroy(md_driver **d);

/* Most Arrow bytes one bridge may move (0: no limit; default 1 GiB). */
void md_driver_set_cap(md_driver *d, uint64_t bytes);

/* Splitter flags for every hybrid statement (splitter.h: MD_SPLIT_FALLBACK
 * plans the naive way; benchmarks compare against it).  0: the splitter decides. */
void md_driver_set_split_flags(md_driver *d, unsigned flags);

/* The router (its catalog cache and session state), for a host that shows them. */
struct md_router *md_driver_router(md_driver *d);

/*
 * Start running script[0..len) (copied).  MD_OK, or MD_EINVAL when a
 * script is still running (it must end with DONE or FAIL first).
 */
int md_driver_begin(md_driver *d, const char *script, size_t len);

/*
 * The next action, given how the previous one ended (NULL for the first
 * call after begin).  An event whose id is not the action's (or a WAIT's)
 * ends the script with FAIL MD_EPROTOCOL.  Never NULL; after DONE or FAIL
 * the driver is ready for the next begin.
 */
const md_drv_action *md_driver_next(md_driver *d, const md_drv_event *ev);

/*
 * What the statements of the last script did, as JSON (md_malloc'd, caller
 * frees): {"statements": [{"statement": 0, "where": "local"|"remote"|
 * "server"|"hybrid", "rows", "ms", "notice"?, "hybrid"?: {"mode", "reason",
 * "root", "bytes_up", "bytes_down", "final_ms", "bridges": [{"name",
 * "from", "relation", "rows", "bytes", "ms"}]}}]}.  Valid during a script
 * too: the statements so far, the one running last.
 */
char *md_driver_summary_json(const md_driver *d);

#endif

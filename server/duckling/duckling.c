/*
 * duckling.c: the per-user DuckDB process (see duckling.h).
 *
 * Threads:
 *   main       reads the control socket; starts one session per passed fd;
 *              on EOF interrupts every session, waits for them, closes DuckDB.
 *   reader     one per session: reads frames, queues QUERY, handles CANCEL and
 *              PING, and every PROGRESS_INTERVAL_MS while a query runs sends
 *              PROGRESS from duckdb_query_progress.
 *   executor   one per session: runs queued queries in order on the session's
 *              connection and streams results as Arrow IPC.
 *
 * Session state machine (guarded by s->mu):
 *   idle --QUERY--> running(id) --done/failed/cancelled--> idle
 *   any --EOF on the socket--> closing (running query interrupted, queue dropped)
 *
 * Lock order: s->mu before s->write_mu.  The executor never takes s->mu while
 * holding s->write_mu, and clears `running` under s->mu before it sends the
 * request's last frame, so no PROGRESS follows a RESULT_END or ERROR.
 *
 * Sandbox (applied before any user SQL, in this order): temp_directory,
 * allowed_directories (the user's directory and scratch directory),
 * enable_external_access=false, autoinstall/autoload off, progress bar on
 * (not printed), TimeZone UTC, errors as JSON.  DuckDB itself then refuses
 * to change external access, allowed paths or temp_directory.  The
 * configuration is not locked (DuckDB 1.4's lock refuses every SET): a
 * statement DuckDB types as SET or EXPLAIN runs only as the text
 * shared/session_option.c writes from the allowlisted session options, and
 * what a session set is reset when it ends.  Read-only sessions run every
 * statement in a READ ONLY transaction and may not run statements that write
 * files, attach databases or manage transactions.
 */
#include "duckling.h"

#include <duckdb.h>
#include "shared/arrow_abi.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "confine.h"
#include "path_guard.h"
#include "secretcmds.h"
#include "info_schema.h"
#include "server_functions.h"
#include "server/duckdb/ast_json.h"
#include "server/duckdb/catalog_query.h"
#include "server/duckdb/upload.h"
#include "server/storage/databases.h"
#include "server/storage/db_statements.h"
#include "server/storage/dbcommands.h"
#include "server/storage/sql_functions.h"
#include "server/storage/store_remote.h"
#include "server/storage/store_wire.h"
#include "shared/arrow_ipc.h"
#include "shared/frame_io.h"
#include "shared/json_guard.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/md_time.h"
#include "shared/protocol.h"
#include "shared/session_option.h"
#include "shared/sql_lexer.h"
#include "upload_wire.h"

#define PROGRESS_INTERVAL_MS 100
#define MAX_QUEUED 64
/* Request bytes (SQL text, upload payloads) a session's queued and running
 * jobs may hold, and all of the user's sessions together, in frames of
 * max_frame_bytes: the duckling's memory outside DuckDB's memory_limit. */
#define SESSION_QUEUE_FRAMES 2
#define USER_QUEUE_FRAMES 4
/* How often an UPLOAD waiting for room looks again. */
#define QUEUE_WAIT_MS 50
/* A query asked to stop (CANCEL, its statement_timeout, its client gone)
 * that still runs g.cancel_grace_ms later (--cancel-grace) cannot be
 * stopped: the duckling exits with this status, its user's requests get
 * DUCKLING_FAILED, and the pool starts a fresh one (committed data is in
 * DuckDB's WAL and the store). */
#define EXIT_STUCK 75

typedef struct job {
    uint32_t id;
    int type;  /* MD_MSG_QUERY, CATALOG, PARSE, DEPARSE or UPLOAD */
    char *sql; /* QUERY and PARSE: the SQL; DEPARSE: the request's JSON text; UPLOAD: the payload */
    size_t len; /* UPLOAD: payload bytes */
    size_t bytes; /* what it holds against the queue budgets */
    int quiet;  /* QUERY {"catalog": false}: no CATALOG(0) after it */
    struct job *next;
} job;

typedef struct session {
    int fd;
    int read_only;
    char kind[16];      /* the token's kind (read_write, read_only, read_scaling) */
    char conn_id[40];   /* the server's client_connection_id of this session */
    duckdb_connection conn;
    pthread_t reader, executor;
    pthread_mutex_t mu;       /* everything below */
    pthread_cond_t cv;
    pthread_mutex_t write_mu; /* one writer at a time on fd */
    md_buf out;               /* executor only: frames not yet written */
    job *head, *tail;
    int queued;
    uint64_t queued_bytes; /* held by this session's queued and running jobs */
    int in_job;            /* the executor has taken a job off the queue and not finished it */
    int running;
    uint32_t running_id;
    int cancel_requested;
    int64_t timeout_ms;     /* SET statement_timeout (0: the server's) */
    int64_t run_started_ms; /* when the running query started */
    int64_t stop_asked_ms;  /* when it was asked to stop (0: not yet) */
    int timed_out;          /* it was stopped by its statement_timeout */
    int catalog_changed; /* executor only: the running request changed the catalog */
    int upload_quiet;    /* executor only: the upload in progress said {"catalog": false} */
    uint32_t pos_offset; /* executor only: byte offset of the running statement's text in the request */
    uint64_t options_set; /* executor only: bit i = session option i (session_option.h) was set or reset */
    md_upload *upload;   /* executor only: the UPLOAD in progress (upload.h), of request upload_id */
    uint32_t upload_id;
    uint32_t upload_failed; /* executor only: a failed UPLOAD whose later frames are dropped (0: none) */
    int closing;
    double last_percent;
    struct session *next_live; /* g_sessions list, under g_mu */
} session;

#define MAX_SESSIONS MD_DUCKLING_MAX_SESSIONS
/* A session closed by its client gives its connection back a moment after
 * the pool counted it gone: a new session waits this long for one. */
#define SESSION_CONN_WAIT_MS 3000

static struct {
    duckdb_database db;
    /* Connections with their session-local settings made (connection_steps);
     * a session borrows one and gives it back reset. */
    duckdb_connection free_conns[MAX_SESSIONS];
    int nfree;
    uint32_t max_frame_bytes;
    uint64_t max_result_bytes;
    int64_t max_timeout_ms; /* --statement-timeout: a session's default and largest (0: none) */
    int64_t cancel_grace_ms; /* --cancel-grace (see EXIT_STUCK) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    session *sessions;
    int live;
    md_databases *dbs;           /* the user's snapshot-stored databases (storage/databases.h) */
    md_objstore *store;          /* the block store and its metadata, through the server */
    md_dbmeta *meta;             /* (storage/store_remote.h) */
    md_sql_functions *functions; /* md_snapshots() and friends */
    md_secrets *secrets;         /* the user's stored secrets, through the server */
    md_secretcmds *secretcmds;   /* CREATE SECRET ... IN MOTHERDUCK, md_secrets() */
    md_server_calls *calls;      /* the server's connections and the user's record */
    md_info_schema *info;        /* md_information_schema */
    int replica;                 /* -1: the user's read/write duckling; else a read replica (--replica) */
    char **option_values;        /* each session option's value on a fresh connection (session_option.h) */
    char *user_dir;              /* the working directory, canonical */
    char *databases_dir;         /* where the working files of the user's databases are (path_guard.h) */
    _Atomic uint64_t queued_bytes; /* held by every session's queued and running jobs */
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void connection_release(duckdb_connection c, uint64_t options_set);
static int send_stopped(session *s, uint32_t id);

/* ---- sending ------------------------------------------------------------ */

/* Executor: write the frames gathered in s->out. */
static int out_flush(session *s) {
    if (s->out.len == 0) return MD_OK;
    pthread_mutex_lock(&s->write_mu);
    int rc = md_fd_write_all(s->fd, s->out.data, s->out.len);
    pthread_mutex_unlock(&s->write_mu);
    s->out.len = 0;
    return rc;
}

/* Send a control message; takes ownership of j.  From the executor it goes
 * out together with the frames it gathered before (one write for a small
 * result: schema, batch and end); from the reader thread it goes at once. */
/* Send a JSON payload already in text form (executor thread only). */
static int send_json_text(session *s, int type, uint32_t id, const char *text, size_t n) {
    uint8_t h[MD_FRAME_HEADER_SIZE];
    md_frame_header_encode(h, type, id, (uint32_t)n);
    md_buf_append(&s->out, h, sizeof h);
    md_buf_append(&s->out, text, n);
    return out_flush(s);
}

static int send_json(session *s, int type, uint32_t id, cJSON *j) {
    int rc;
    if (pthread_equal(pthread_self(), s->executor)) {
        char *text = cJSON_PrintUnformatted(j);
        rc = send_json_text(s, type, id, text, strlen(text));
        cJSON_free(text);
    } else {
        pthread_mutex_lock(&s->write_mu);
        rc = md_frame_send_json(s->fd, type, id, j);
        pthread_mutex_unlock(&s->write_mu);
    }
    cJSON_Delete(j);
    return rc;
}

static int send_error(session *s, uint32_t id, int code, const char *message, long position,
                      const char *type) {
    cJSON *j = md_error_json(code, message, position);
    if (type) cJSON_AddStringToObject(j, "type", type);
    return send_json(s, MD_MSG_ERROR, id, j);
}

/*
 * Turn a DuckDB error string into an ERROR frame.  With errors_as_json the
 * string is a JSON object (sometimes behind a "Parser Error: " prefix) with
 * exception_type, exception_message and position; otherwise it is plain text.
 */
static int send_duckdb_error(session *s, uint32_t id, const char *err) {
    if (!err) err = "unknown DuckDB error";
    const char *brace = strchr(err, '{');
    cJSON *j = brace ? cJSON_Parse(brace) : NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "exception_type");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "exception_message");
    const cJSON *pos = cJSON_GetObjectItemCaseSensitive(j, "position");
    int rc;
    if (cJSON_IsString(type) && cJSON_IsString(msg)) {
        const char *t = type->valuestring;
        int code = MD_ESQL;
        char *why = NULL;
        if (strcmp(t, "Interrupt") == 0) {
            cJSON_Delete(j);
            return send_stopped(s, id);
        }
        if (strcmp(t, "Permission") == 0) code = MD_EPERMISSION;
        else if (strstr(msg->valuestring, "read-only mode")) {
            /* a snapshot, or a database another process writes: say which */
            const char *q = strstr(msg->valuestring, "database \"");
            if (q) {
                q += 10;
                const char *qe = strchr(q, '"');
                char *alias = qe ? md_strndup(q, (size_t)(qe - q)) : NULL;
                if (alias && s->read_only && strcmp(s->kind, "read_write") != 0) {
                    /* the token is why, whatever the attachment */
                    why = md_asprintf("this token is read-only (%s): it cannot write to %s", s->kind, alias);
                    code = MD_EREAD_ONLY;
                } else if (alias) {
                    why = md_databases_read_only_reason(g.dbs, alias, &code);
                }
                md_free(alias);
            }
            if (!why && s->read_only) code = MD_EREAD_ONLY;
        }
        char *text = why ? why : md_asprintf("%s Error: %s", t, msg->valuestring);
        long position = cJSON_IsString(pos) ? strtol(pos->valuestring, NULL, 10) : -1;
        if (position >= 0) position += s->pos_offset;
        rc = send_error(s, id, code, text, position, t);
        md_free(text);
    } else {
        rc = send_error(s, id, MD_ESQL, err, -1, NULL);
    }
    cJSON_Delete(j);
    return rc;
}

/* ---- executing ---------------------------------------------------------- */

static int is_cancelled(session *s) {
    pthread_mutex_lock(&s->mu);
    int c = s->cancel_requested || s->closing;
    pthread_mutex_unlock(&s->mu);
    return c;
}

/* Statements a read-only session may not run even inside a READ ONLY
 * transaction: they write files, change attachments, manage transactions or
 * load code. */
static const char *read_only_refusal(duckdb_statement_type t) {
    switch (t) {
    case DUCKDB_STATEMENT_TYPE_COPY: return "COPY";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION: return "transaction control";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "LOAD";
    case DUCKDB_STATEMENT_TYPE_EXTENSION: return "INSTALL";
    case DUCKDB_STATEMENT_TYPE_VACUUM: return "VACUUM";
    default: return NULL;
    }
}

typedef struct stmt_stats {
    uint64_t rows, bytes;
} stmt_stats;

#define COALESCE_ROWS 2048 /* DuckDB's vector size: a full chunk goes alone */
#define COALESCE_ARRAYS 256
#define COALESCE_MS 20.0

/* Chunks of a result converted to Arrow and not yet written. */
typedef struct gathered {
    struct ArrowArray arrays[COALESCE_ARRAYS];
    size_t n;
    idx_t rows;
    double since_ms;
} gathered;

static void gathered_release(gathered *gr) {
    for (size_t i = 0; i < gr->n; i++)
        if (gr->arrays[i].release) gr->arrays[i].release(&gr->arrays[i]);
    gr->n = 0;
    gr->rows = 0;
}

/* Append RESULT_BATCH frames for arrays[0..n) to s->out (normally one frame;
 * one per array when their dictionaries differ). */
static int append_batches(session *s, uint32_t id, md_ipc_writer *w, const struct ArrowArray *const *arrays,
                          size_t n, stmt_stats *st, char **err) {
    size_t at = s->out.len;
    md_buf_append_zeros(&s->out, MD_FRAME_HEADER_SIZE);
    int rc = md_ipc_write_batches(w, arrays, n, &s->out, err);
    if (rc == MD_EINVAL && n > 1) { /* e.g. chunks with different dictionaries */
        s->out.len = at;
        md_free(*err);
        *err = NULL;
        for (size_t i = 0; i < n; i++) {
            rc = append_batches(s, id, w, arrays + i, 1, st, err);
            if (rc != MD_OK) return rc;
        }
        return MD_OK;
    }
    if (rc != MD_OK) {
        s->out.len = at;
        return rc;
    }
    size_t payload = s->out.len - at - MD_FRAME_HEADER_SIZE;
    if (payload > UINT32_MAX) {
        s->out.len = at;
        *err = md_strdup("one result batch exceeds 4 GiB");
        return MD_ETOO_LARGE;
    }
    st->bytes += payload;
    md_frame_header_encode(s->out.data + at, MD_MSG_RESULT_BATCH, id, (uint32_t)payload);
    return MD_OK;
}

/* Write the gathered chunks as one batch and release them.  Errors are sent
 * to the client here. */
static int emit_batch(session *s, uint32_t id, md_ipc_writer *w, gathered *gr, stmt_stats *st) {
    const struct ArrowArray *ptrs[COALESCE_ARRAYS];
    for (size_t i = 0; i < gr->n; i++) ptrs[i] = &gr->arrays[i];
    char *err = NULL;
    int rc = append_batches(s, id, w, ptrs, gr->n, st, &err);
    st->rows += gr->rows;
    gathered_release(gr);
    if (rc != MD_OK) {
        rc = send_error(s, id, rc, err, -1, NULL) ? MD_EIO : rc;
    } else if (g.max_result_bytes && st->bytes > g.max_result_bytes) {
        char *m = md_asprintf("the result exceeds the server's limit of %llu bytes: add a LIMIT, "
                              "select fewer columns, or raise --max-result-bytes",
                              (unsigned long long)g.max_result_bytes);
        rc = send_error(s, id, MD_ETOO_LARGE, m, -1, NULL) ? MD_EIO : MD_ETOO_LARGE;
        md_free(m);
    }
    md_free(err);
    return rc;
}

/* Convert `chunk` (destroyed here) into the next array of gr.  MD_OK, or
 * an error already sent to the client. */
static int gather_chunk(session *s, uint32_t id, duckdb_arrow_options opts, duckdb_data_chunk chunk, gathered *gr) {
    idx_t n = duckdb_data_chunk_get_size(chunk);
    struct ArrowArray *arr = &gr->arrays[gr->n];
    memset(arr, 0, sizeof *arr);
    duckdb_error_data ed = duckdb_data_chunk_to_arrow(opts, chunk, arr);
    duckdb_destroy_data_chunk(&chunk);
    int rc = MD_OK;
    if (duckdb_error_data_has_error(ed))
        rc = send_error(s, id, MD_EUNSUPPORTED, duckdb_error_data_message(ed), -1, NULL) ? MD_EIO : MD_ESQL;
    duckdb_destroy_error_data(&ed);
    if (rc != MD_OK) return rc;
    if (gr->n++ == 0) gr->since_ms = md_now_ms_f();
    gr->rows += n;
    return MD_OK;
}

/*
 * Stream the rows of `res` as RESULT_SCHEMA + RESULT_BATCH frames.
 * Returns MD_OK, or an error already sent to the client (MD_ESQL and
 * friends), or MD_EIO when the socket is gone.
 */
static int stream_result(session *s, uint32_t id, duckdb_result *res, stmt_stats *st) {
    idx_t ncols = duckdb_column_count(res);
    duckdb_arrow_options opts = duckdb_result_get_arrow_options(res);
    duckdb_logical_type *types = md_calloc(ncols ? ncols : 1, sizeof *types);
    const char **names = md_calloc(ncols ? ncols : 1, sizeof *names);
    for (idx_t c = 0; c < ncols; c++) {
        types[c] = duckdb_column_logical_type(res, c);
        names[c] = duckdb_column_name(res, c);
    }
    struct ArrowSchema schema = {0};
    md_ipc_writer *w = NULL;
    md_buf *out = &s->out;
    gathered g_rows = {.n = 0};
    char *err = NULL;
    int rc = MD_OK;

    duckdb_error_data ed = duckdb_to_arrow_schema(opts, types, names, ncols, &schema);
    if (duckdb_error_data_has_error(ed)) {
        rc = send_error(s, id, MD_EUNSUPPORTED, duckdb_error_data_message(ed), -1, NULL) ? MD_EIO : MD_ESQL;
        duckdb_destroy_error_data(&ed);
        goto done;
    }
    duckdb_destroy_error_data(&ed);
    if (md_ipc_writer_create(&schema, &w, &err) != MD_OK) {
        rc = send_error(s, id, MD_EUNSUPPORTED, err, -1, NULL) ? MD_EIO : MD_EUNSUPPORTED;
        goto done;
    }
    /* Frames are built in s->out, each after a 16-byte hole for its header.
     * The schema waits for the first batch, which goes out as soon as it
     * exists (first rows early).  Later chunks are gathered into one record
     * batch until they hold COALESCE_ROWS rows or have waited COALESCE_MS:
     * DuckDB's streaming results come in many tiny chunks, and a batch each
     * would cost more than the rows.  Before every fetch (which may block
     * while the query runs) whatever is ready is written. */
    size_t at = out->len;
    md_buf_append_zeros(out, MD_FRAME_HEADER_SIZE);
    md_ipc_write_schema(w, out);
    md_frame_header_encode(out->data + at, MD_MSG_RESULT_SCHEMA, id,
                           (uint32_t)(out->len - at - MD_FRAME_HEADER_SIZE));

    int sent_first = 0;
    for (;;) {
        if (g_rows.n > 0 && (!sent_first || g_rows.rows >= COALESCE_ROWS || g_rows.n == COALESCE_ARRAYS ||
                             md_now_ms_f() - g_rows.since_ms >= COALESCE_MS)) {
            if ((rc = emit_batch(s, id, w, &g_rows, st)) != MD_OK) goto done;
            sent_first = 1;
        }
        if (sent_first && (rc = out_flush(s)) != MD_OK) goto done;
        duckdb_data_chunk chunk = duckdb_fetch_chunk(*res);
        if (chunk == NULL) break;
        idx_t n = duckdb_data_chunk_get_size(chunk);
        if (n == 0) {
            duckdb_destroy_data_chunk(&chunk);
            break;
        }
        if ((rc = gather_chunk(s, id, opts, chunk, &g_rows)) != MD_OK) goto done;
    }
    if (!sent_first && g_rows.n == 0 && ncols > 0 && !duckdb_result_error(res)) {
        /* An empty result still gets one (empty) batch: a client that
         * stores results (the browser's cache, a bridge of dual execution)
         * makes its table from a batch's column types. */
        if ((rc = gather_chunk(s, id, opts, duckdb_create_data_chunk(types, ncols), &g_rows)) != MD_OK) goto done;
    }
    if (g_rows.n > 0 && (rc = emit_batch(s, id, w, &g_rows, st)) != MD_OK) goto done;
    const char *e = duckdb_result_error(res);
    if (e) rc = send_duckdb_error(s, id, e) ? MD_EIO : MD_ESQL;

done:
    gathered_release(&g_rows);
    md_free(err);
    md_ipc_writer_destroy(&w);
    if (schema.release) schema.release(&schema);
    for (idx_t c = 0; c < ncols; c++) duckdb_destroy_logical_type(&types[c]);
    md_free(types);
    md_free(names);
    duckdb_destroy_arrow_options(&opts);
    return rc;
}

static void set_running(session *s, int running, uint32_t id) {
    pthread_mutex_lock(&s->mu);
    if (running && !s->running) {
        s->run_started_ms = md_now_ms();
        s->stop_asked_ms = 0;
        s->timed_out = 0;
    }
    s->running = running;
    s->running_id = id;
    s->last_percent = -1;
    pthread_mutex_unlock(&s->mu);
}

/* ms as seconds for a message: "30 s", "1.5 s" (buf of 32 bytes). */
static const char *seconds_text(int64_t ms, char *buf) {
    if (ms % 1000 == 0) snprintf(buf, 32, "%lld s", (long long)(ms / 1000));
    else snprintf(buf, 32, "%.3f s", (double)ms / 1000.0);
    return buf;
}

/* The statement_timeout in force for s (0: none). */
static int64_t effective_timeout(const session *s) { return s->timeout_ms > 0 ? s->timeout_ms : g.max_timeout_ms; }

/* The ERROR for a query that was stopped: TIMEOUT when its statement_timeout
 * stopped it, CANCELLED otherwise.  Returns send_error's result. */
static int send_stopped(session *s, uint32_t id) {
    pthread_mutex_lock(&s->mu);
    int timed_out = s->timed_out;
    int64_t limit = effective_timeout(s);
    pthread_mutex_unlock(&s->mu);
    if (!timed_out) return send_error(s, id, MD_ECANCELLED, NULL, -1, NULL);
    char sec[32];
    char *m = md_asprintf("the query ran longer than its statement_timeout (%s) and was stopped; "
                          "SET statement_timeout = '...' allows longer, up to the server's limit",
                          seconds_text(limit, sec));
    int rc = send_error(s, id, MD_ETIMEOUT, m, -1, NULL);
    md_free(m);
    return rc;
}

/* Called by the session's reader about every PROGRESS_INTERVAL_MS while the
 * session is busy: a query past its statement_timeout is interrupted; one
 * that was asked to stop g.cancel_grace_ms ago and still runs ends the
 * process (see EXIT_STUCK). */
static void check_deadlines(session *s) {
    pthread_mutex_lock(&s->mu);
    int64_t now = md_now_ms(), limit = effective_timeout(s);
    if (s->running && !s->stop_asked_ms && limit > 0 && now - s->run_started_ms > limit) {
        s->timed_out = 1;
        s->cancel_requested = 1;
        s->stop_asked_ms = now;
        duckdb_interrupt(s->conn);
    }
    int stuck = s->running && s->stop_asked_ms && now - s->stop_asked_ms > g.cancel_grace_ms;
    pthread_mutex_unlock(&s->mu);
    if (stuck) {
        fprintf(stderr, "mdserver duckling: a query did not stop within %lld ms of being asked to; exiting so that "
                        "the server starts a fresh engine\n", (long long)g.cancel_grace_ms);
        _exit(EXIT_STUCK);
    }
}

static void simple_query(duckdb_connection c, const char *sql) {
    duckdb_result r;
    duckdb_query(c, sql, &r);
    duckdb_destroy_result(&r);
}

/*
 * The text a request's statements came from, split by this process's lexer
 * on first use: a statement DuckDB types as SET or EXPLAIN runs from its own
 * text, read by shared/session_option.c, never as DuckDB extracted it (so a
 * SET inside the files IMPORT DATABASE expands into never runs).
 */
typedef struct request_text {
    const char *sql;
    idx_t nduck;     /* statements DuckDB extracted from it */
    int split;       /* spans below are filled (or the split failed: nspans 0) */
    md_sql_token *toks;
    md_sql_span *spans;
    size_t nspans;
} request_text;

static void request_text_free(request_text *tx) {
    md_free(tx->toks);
    md_free(tx->spans);
}

/* Statement i's own text, or 0 when DuckDB's statements do not match this
 * lexer's one for one (a PRAGMA or IMPORT DATABASE expanded into others). */
static int statement_text(request_text *tx, idx_t i, const char **text, size_t *len) {
    if (!tx->split) {
        tx->split = 1;
        size_t ntoks = 0;
        if (md_sql_lex(tx->sql, strlen(tx->sql), 0, &tx->toks, &ntoks, NULL) == MD_OK)
            md_sql_split(tx->toks, ntoks, &tx->spans, &tx->nspans);
    }
    if (tx->nspans != tx->nduck || i >= tx->nspans) return 0;
    const md_sql_token *a = &tx->toks[tx->spans[i].first], *b = a + tx->spans[i].count - 1;
    *text = tx->sql + a->off;
    *len = b->off + b->len - a->off;
    return 1;
}

/*
 * Statement i of tx, prepared as *prep, is typed SET (or VARIABLE_SET) or
 * EXPLAIN: replace *prep by the statement session_option.c writes from its
 * text, or send the refusal.  *option gets the session option it sets (-1:
 * none).  MD_OK, or the error code already sent.
 */
static int prepare_checked(session *s, uint32_t id, request_text *tx, idx_t i, duckdb_prepared_statement *prep,
                           int *option) {
    duckdb_statement_type type = duckdb_prepared_statement_type(*prep);
    const char *text = NULL;
    size_t len = 0;
    char *run = NULL;
    md_sql_error e = {.code = MD_EPERMISSION, .position = 0};
    int rc;
    *option = -1;
    if (!statement_text(tx, i, &text, &len)) {
        snprintf(e.message, sizeof e.message, "%s",
                 "SET and EXPLAIN statements that a PRAGMA or IMPORT DATABASE expands into are not run on the "
                 "server");
        rc = MD_EPERMISSION;
    } else if (type != DUCKDB_STATEMENT_TYPE_EXPLAIN) { /* SET, VARIABLE_SET */
        md_session_set set;
        rc = md_session_set_read(text, len, &set, &e);
        run = set.sql;
        *option = set.option;
    } else {
        rc = md_session_explain_check(text, len, &e);
        if (rc == MD_OK) run = md_strndup(text, len);
    }
    if (rc != MD_OK) {
        long pos = text ? (long)(s->pos_offset + (uint32_t)(text - tx->sql) + e.position) : -1;
        return send_error(s, id, rc, e.message, pos, NULL) ? MD_EIO : rc;
    }
    duckdb_destroy_prepare(prep);
    if (duckdb_prepare(s->conn, run, prep) == DuckDBError) {
        rc = send_duckdb_error(s, id, duckdb_prepare_error(*prep)) ? MD_EIO : MD_ESQL;
    } else if (duckdb_prepared_statement_type(*prep) != type) { /* cannot happen: the text was read as one */
        rc = send_error(s, id, MD_EPERMISSION, "the statement changed kind when read again", -1, NULL) ? MD_EIO
                                                                                                       : MD_EPERMISSION;
    }
    md_free(run);
    return rc;
}

/* Statement i of tx is typed PRAGMA (a pragma call): MD_OK when it is on
 * session_option.c's allowlist, or the error code already sent. */
static int pragma_checked(session *s, uint32_t id, request_text *tx, idx_t i) {
    const char *text = NULL;
    size_t len = 0;
    md_sql_error e = {.code = MD_EPERMISSION, .position = 0};
    int rc = statement_text(tx, i, &text, &len) ? md_session_pragma_check(text, len, &e) : MD_EPERMISSION;
    if (rc == MD_OK) return MD_OK;
    if (!text)
        snprintf(e.message, sizeof e.message, "%s",
                 "a PRAGMA that IMPORT DATABASE or another PRAGMA expands into is not run on the server");
    long pos = text ? (long)(s->pos_offset + (uint32_t)(text - tx->sql) + e.position) : -1;
    return send_error(s, id, rc, e.message, pos, NULL) ? MD_EIO : rc;
}

/*
 * Run extracted statement i of stmts as statement `index` of `total` of the
 * request (`final`: its last).  Returns MD_OK after RESULT_END was sent, or
 * an error code after an ERROR was sent (MD_EIO: the socket is gone).
 */
static int run_statement(session *s, uint32_t id, duckdb_extracted_statements stmts, request_text *tx, idx_t i,
                         idx_t index, idx_t total, int final, double t0) {
    duckdb_prepared_statement prep = NULL;
    duckdb_pending_result pending = NULL;
    duckdb_result res;
    int have_res = 0, in_ro_txn = 0, rc, option = -1;
    stmt_stats st = {0, 0};

    if (s->read_only) {
        duckdb_result r;
        if (duckdb_query(s->conn, "BEGIN TRANSACTION READ ONLY", &r) == DuckDBError) {
            rc = send_duckdb_error(s, id, duckdb_result_error(&r)) ? MD_EIO : MD_ESQL;
            duckdb_destroy_result(&r);
            return rc;
        }
        duckdb_destroy_result(&r);
        in_ro_txn = 1;
    }
    if (duckdb_prepare_extracted_statement(s->conn, stmts, i, &prep) == DuckDBError) {
        rc = send_duckdb_error(s, id, duckdb_prepare_error(prep)) ? MD_EIO : MD_ESQL;
        goto out;
    }
    duckdb_statement_type type = duckdb_prepared_statement_type(prep);
    if (type == DUCKDB_STATEMENT_TYPE_SET || type == DUCKDB_STATEMENT_TYPE_VARIABLE_SET ||
        type == DUCKDB_STATEMENT_TYPE_EXPLAIN) {
        rc = prepare_checked(s, id, tx, i, &prep, &option);
        if (rc != MD_OK) goto out;
    } else if (type == DUCKDB_STATEMENT_TYPE_PRAGMA) {
        rc = pragma_checked(s, id, tx, i);
        if (rc != MD_OK) goto out;
    }
    if (md_catalog_changes(type)) s->catalog_changed = 1;
    if (s->read_only) {
        const char *what = read_only_refusal(duckdb_prepared_statement_type(prep));
        if (what) {
            char *m = md_asprintf("this token is read-only (%s): %s statements are not allowed", s->kind, what);
            rc = send_error(s, id, MD_EREAD_ONLY, m, -1, NULL) ? MD_EIO : MD_EREAD_ONLY;
            md_free(m);
            goto out;
        }
    }
    if (duckdb_pending_prepared_streaming(prep, &pending) == DuckDBError) {
        rc = send_duckdb_error(s, id, duckdb_pending_error(pending)) ? MD_EIO : MD_ESQL;
        goto out;
    }
    if (is_cancelled(s)) {
        rc = send_stopped(s, id) ? MD_EIO : MD_ECANCELLED;
        goto out;
    }
    have_res = 1;
    if (duckdb_execute_pending(pending, &res) == DuckDBError) {
        rc = is_cancelled(s) ? (send_stopped(s, id) ? MD_EIO : MD_ECANCELLED)
                             : (send_duckdb_error(s, id, duckdb_result_error(&res)) ? MD_EIO : MD_ESQL);
        goto out;
    }
    rc = stream_result(s, id, &res, &st);
    if (rc != MD_OK) goto out;
    if (option >= 0) s->options_set |= (uint64_t)1 << option; /* put back when the session ends */
    if (in_ro_txn) {
        simple_query(s->conn, "COMMIT");
        in_ro_txn = 0;
    }
    int64_t snapshot = 0;
    if (!s->read_only) { /* a committed change becomes a snapshot before it is acknowledged */
        char *werr = NULL;
        int crc = md_databases_commit(g.dbs, &snapshot, &werr);
        if (crc != MD_OK) {
            /* DuckDB has it (in its file or WAL), storage does not: say so */
            char *m = md_asprintf("the statement ran, but its snapshot could not be committed: %s",
                                  werr ? werr : "unknown error");
            rc = send_error(s, id, crc, m, -1, NULL) ? MD_EIO : crc;
            md_free(m);
            md_free(werr);
            goto out;
        }
    }
    if (final) set_running(s, 0, 0); /* no PROGRESS after the final frame */
    cJSON *end = cJSON_CreateObject();
    if (snapshot > 0) cJSON_AddNumberToObject(end, "snapshot", (double)snapshot);
    cJSON_AddNumberToObject(end, "statement", (double)index);
    cJSON_AddNumberToObject(end, "statements", (double)total);
    cJSON_AddNumberToObject(end, "rows", (double)st.rows);
    cJSON_AddNumberToObject(end, "bytes", (double)st.bytes);
    cJSON_AddNumberToObject(end, "ms", md_now_ms_f() - t0);
    cJSON_AddBoolToObject(end, "final", final);
    rc = send_json(s, MD_MSG_RESULT_END, id, end) ? MD_EIO : MD_OK;
out:
    if (have_res) duckdb_destroy_result(&res);
    if (pending) duckdb_destroy_pending(&pending);
    if (prep) duckdb_destroy_prepare(&prep);
    if (in_ro_txn) simple_query(s->conn, "ROLLBACK");
    return rc;
}

static void send_empty_end(session *s, uint32_t id, double t0) {
    cJSON *end = cJSON_CreateObject();
    cJSON_AddNumberToObject(end, "statement", 0);
    cJSON_AddNumberToObject(end, "statements", 0);
    cJSON_AddNumberToObject(end, "rows", 0);
    cJSON_AddNumberToObject(end, "bytes", 0);
    cJSON_AddNumberToObject(end, "ms", md_now_ms_f() - t0);
    cJSON_AddBoolToObject(end, "final", 1);
    send_json(s, MD_MSG_RESULT_END, id, end);
}

/*
 * Run DuckDB text `sql` (a whole request, or one statement of it that starts
 * at byte `offset`) as statements index.. of `total`; `last`: the request
 * ends with it.  MD_OK, or the error code already sent.
 */
static int run_duckdb_text(session *s, uint32_t id, const char *sql, uint32_t offset, idx_t index, idx_t total,
                           int last, double t0) {
    s->pos_offset = offset;
    duckdb_extracted_statements stmts = NULL;
    idx_t n = duckdb_extract_statements(s->conn, sql, &stmts);
    int rc = MD_OK;
    if (n == 0) {
        const char *e = duckdb_extract_statements_error(stmts);
        if (e) {
            set_running(s, 0, 0);
            send_duckdb_error(s, id, e);
            rc = MD_ESQL;
        } else if (last) { /* only whitespace or comments */
            set_running(s, 0, 0);
            send_empty_end(s, id, t0);
        }
    }
    if (total == 0) total = n; /* the whole request */
    request_text tx = {.sql = sql, .nduck = n};
    for (idx_t i = 0; i < n && rc == MD_OK; i++)
        rc = run_statement(s, id, stmts, &tx, i, index + i, total, last && i + 1 == n, t0);
    request_text_free(&tx);
    duckdb_destroy_extracted(&stmts);
    s->pos_offset = 0;
    return rc;
}

/* One of the server's database statements (storage/dbcommands.h). */
/* SET/RESET statement_timeout: kept in the session; answered with the value
 * now in force, in milliseconds. */
static int run_set_timeout(session *s, uint32_t id, const md_dbscript_stmt *ds, idx_t index, idx_t total,
                           double t0) {
    int64_t want = ds->st.timeout_ms;
    if (g.max_timeout_ms > 0 && want > g.max_timeout_ms) {
        char sec[32];
        char *m = md_asprintf("statement_timeout may be at most %s on this server (mdserver --statement-timeout)",
                              seconds_text(g.max_timeout_ms, sec));
        int rc = send_error(s, id, MD_EPERMISSION, m, ds->start, NULL) ? MD_EIO : MD_EPERMISSION;
        md_free(m);
        return rc;
    }
    pthread_mutex_lock(&s->mu);
    s->timeout_ms = want;
    int64_t now_in_force = effective_timeout(s);
    pthread_mutex_unlock(&s->mu);
    char *answer = md_asprintf("SELECT %lld::BIGINT AS statement_timeout_ms", (long long)now_in_force);
    int rc = run_duckdb_text(s, id, answer, ds->start, index, total, index + 1 == total, t0);
    md_free(answer);
    return rc;
}

static int run_db_statement(session *s, uint32_t id, const char *sql, const md_dbscript_stmt *ds, idx_t index,
                            idx_t total, double t0) {
    int last = index + 1 == total;
    if (ds->st.kind == MD_DBSTMT_SET_TIMEOUT) return run_set_timeout(s, id, ds, index, total, t0);
    if (s->read_only && ds->st.kind != MD_DBSTMT_SHOW_DATABASES && ds->st.kind != MD_DBSTMT_LIST_SHARES &&
        ds->st.kind != MD_DBSTMT_SHOW_GRANTS) {
        char *m = md_asprintf("this token is read-only (%s): %s statements are not allowed", s->kind,
                              md_dbstmt_verb(ds->st.kind));
        int rc = send_error(s, id, MD_EREAD_ONLY, m, ds->start, NULL) ? MD_EIO : MD_EREAD_ONLY;
        md_free(m);
        return rc;
    }
    if (ds->st.kind != MD_DBSTMT_SHOW_DATABASES && ds->st.kind != MD_DBSTMT_LIST_SHARES &&
        ds->st.kind != MD_DBSTMT_SHOW_GRANTS)
        s->catalog_changed = 1;
    char *answer = NULL, *err = NULL;
    int secret = ds->st.kind == MD_DBSTMT_CREATE_SECRET || ds->st.kind == MD_DBSTMT_DROP_SECRET;
    int rc = secret ? md_secretcmds_run(g.secretcmds, s->conn, &ds->st, &answer, &err)
                    : md_dbcommand_run(g.dbs, s->conn, &ds->st, &answer, &err);
    if (rc != MD_OK) {
        rc = send_error(s, id, rc, err, ds->start, NULL) ? MD_EIO : rc;
        md_free(err);
        return rc;
    }
    if (!answer) { /* not ours after all (a DETACH of a plain file): DuckDB runs it */
        char *text = md_strndup(sql + ds->start, ds->end - ds->start);
        rc = run_duckdb_text(s, id, text, ds->start, index, total, last, t0);
        md_free(text);
        return rc;
    }
    rc = run_duckdb_text(s, id, answer, ds->start, index, total, last, t0);
    md_free(answer);
    return rc;
}

/* 1 if the script detaches or attaches `name` (which clears a gone share). */
static int script_reuses(const md_dbscript *scr, const char *name) {
    for (size_t i = 0; scr && i < scr->n; i++) {
        const md_dbstmt *st = &scr->stmts[i].st;
        const char *target = st->kind == MD_DBSTMT_DETACH                                       ? st->db
                             : st->kind == MD_DBSTMT_ATTACH || st->kind == MD_DBSTMT_ATTACH_SHARE ? (st->alias ? st->alias : st->db)
                                                                                                 : NULL;
        if (target && strcasecmp(target, name) == 0) return 1;
    }
    return 0;
}

/* Attached shares first follow their shares (a new snapshot, or gone);
 * then a statement that names a share that went away is told why (unless
 * the script detaches it or attaches that name again).  MD_OK, or the
 * code of the ERROR already sent. */
static int follow_shares(session *s, uint32_t id, const char *sql, const md_dbscript *scr) {
    if (!md_databases_has_shares(g.dbs)) return MD_OK;
    int changed = 0;
    char *err = NULL;
    if (md_databases_sync_shares(g.dbs, &changed, &err) != MD_OK)
        fprintf(stderr, "mdserver duckling: shares not refreshed: %s\n", err ? err : "error");
    md_free(err);
    if (changed) s->catalog_changed = 1;
    md_sql_token *toks = NULL;
    size_t n = 0;
    md_sql_error lex_err;
    if (md_sql_lex(sql, strlen(sql), 0, &toks, &n, &lex_err) != MD_OK) return MD_OK; /* DuckDB will say */
    int rc = MD_OK;
    for (size_t i = 0; i < n && rc == MD_OK; i++) {
        if (toks[i].type != MD_TOK_IDENT && toks[i].type != MD_TOK_QIDENT) continue;
        char *word = md_sql_token_value(sql, &toks[i], NULL);
        int code = MD_ENOT_FOUND;
        char *why = md_databases_gone_reason(g.dbs, word, &code);
        if (why && !script_reuses(scr, word)) {
            set_running(s, 0, 0);
            send_error(s, id, code, why, (long)toks[i].off, NULL);
            rc = code;
        }
        md_free(why);
        md_free(word);
    }
    md_free(toks);
    return rc;
}

static void run_query(session *s, uint32_t id, const char *sql) {
    double t0 = md_now_ms_f();
    set_running(s, 1, id);
    md_dbscript *scr = NULL;
    md_sql_error perr;
    if (md_dbscript_parse(sql, strlen(sql), &scr, &perr) != MD_OK) {
        set_running(s, 0, 0);
        send_error(s, id, MD_ESQL, perr.message, perr.position, "Parser");
        return;
    }
    int rc = md_session_calls_check(sql, strlen(sql), &perr);
    if (rc == MD_OK) rc = md_path_guard_check(sql, strlen(sql), g.user_dir, g.databases_dir, &perr);
    if (rc != MD_OK) {
        set_running(s, 0, 0);
        send_error(s, id, rc, perr.message, perr.position, NULL);
        md_dbscript_free(&scr);
        return;
    }
    if (g.replica >= 0) { /* a read replica reads the newest snapshots */
        int changed = 0;
        char *err = NULL;
        if (md_databases_follow_heads(g.dbs, &changed, &err) != MD_OK)
            fprintf(stderr, "mdserver duckling: replica not refreshed: %s\n", err ? err : "error");
        md_free(err);
        if (changed) s->catalog_changed = 1;
    }
    if (follow_shares(s, id, sql, scr) != MD_OK) {
        md_dbscript_free(&scr);
        return;
    }
    if (!scr || scr->ours == 0) { /* all DuckDB's: one parse of the whole text */
        run_duckdb_text(s, id, sql, 0, 0, 0, 1, t0);
    } else {
        for (size_t i = 0; i < scr->n; i++) {
            const md_dbscript_stmt *ds = &scr->stmts[i];
            if (ds->st.kind != MD_DBSTMT_NONE) {
                rc = run_db_statement(s, id, sql, ds, i, scr->n, t0);
            } else {
                char *text = md_strndup(sql + ds->start, ds->end - ds->start);
                rc = run_duckdb_text(s, id, text, ds->start, i, scr->n, i + 1 == scr->n, t0);
                md_free(text);
            }
            if (rc != MD_OK) break;
        }
    }
    md_dbscript_free(&scr);
    set_running(s, 0, 0);
}

/* Send the connection's catalog as a CATALOG message: the answer to request
 * `id`, or (id 0) the news that a request changed it. */
static void send_catalog(session *s, uint32_t id) {
    cJSON *cat = NULL;
    char *err = NULL;
    if (md_catalog_query(s->conn, 0, &cat, &err) == MD_OK) send_json(s, MD_MSG_CATALOG, id, cat);
    else if (id) send_error(s, id, MD_ESQL, err, -1, NULL);
    md_free(err);
}

/* PARSE or DEPARSE (ast_json.h): one answer frame or one ERROR.  `text`:
 * the SQL (PARSE) or the request's JSON text (DEPARSE). */
static void run_ast(session *s, uint32_t id, int type, const char *text) {
    md_ast_error e = {MD_OK, -1, NULL};
    char *out = NULL;
    if (type == MD_MSG_PARSE) {
        if (md_ast_parse(s->conn, text, &out, &e) == MD_OK) send_json_text(s, MD_MSG_PARSE, id, out, strlen(out));
    } else if (md_ast_deparse(s->conn, text, strlen(text), &out, &e) == MD_OK) {
        cJSON *answer = cJSON_CreateObject();
        cJSON_AddStringToObject(answer, "sql", out);
        send_json(s, MD_MSG_DEPARSE, id, answer);
    }
    if (e.code != MD_OK) send_error(s, id, e.code, e.message, e.position, NULL);
    md_free(out);
    md_free(e.message);
}

/* One UPLOAD frame (upload_wire.h says the layout).  Answers once per upload:
 * RESULT_END after the final frame, or the first ERROR. */
static void run_upload(session *s, uint32_t id, const uint8_t *p, size_t len) {
    md_upload_frame fr;
    const char *why = NULL;
    int code = md_upload_frame_decode(p, len, &fr, &why);
    int final = fr.final;
    char *err = code != MD_OK ? md_strdup(why) : NULL;
    if (s->upload_failed == id) { /* already answered with an ERROR */
        if (final) s->upload_failed = 0;
        md_upload_frame_free(&fr);
        md_free(err);
        return;
    }
    if (code != MD_OK) {
        /* err says why */
    } else if (s->read_only) {
        code = MD_EREAD_ONLY;
        err = md_strdup("this token is read-only: UPLOAD is not allowed");
    } else if (fr.table) {
        if (s->upload) {
            code = MD_EBUSY;
            err = md_asprintf("upload %u is still in progress on this connection", s->upload_id);
        } else if (!*fr.table) {
            code = MD_EINVAL;
            err = md_strdup("the upload's table name is empty");
        } else {
            s->upload = md_upload_begin(s->conn, fr.table, g.max_result_bytes);
            s->upload_id = id;
            s->upload_quiet = fr.quiet;
        }
    } else if (!s->upload || s->upload_id != id) {
        code = MD_EINVAL;
        err = md_strdup("the first UPLOAD frame of a request names its table: {\"table\": \"name\"}");
    }
    if (code == MD_OK) code = md_upload_feed(s->upload, fr.ipc, fr.ipc_len, &err);
    int64_t rows = 0;
    uint64_t bytes = 0;
    if (code == MD_OK && final) {
        code = md_upload_finish(s->upload, &rows, &bytes, &err);
        if (code == MD_OK) {
            cJSON *end = cJSON_CreateObject();
            cJSON_AddNumberToObject(end, "statement", 0);
            cJSON_AddNumberToObject(end, "statements", 1);
            cJSON_AddNumberToObject(end, "rows", (double)rows);
            cJSON_AddNumberToObject(end, "bytes", (double)bytes);
            char *t = md_asprintf("temp.main.%s", md_upload_table(s->upload));
            cJSON_AddStringToObject(end, "table", t);
            cJSON_AddBoolToObject(end, "final", 1);
            md_free(t);
            send_json(s, MD_MSG_RESULT_END, id, end);
            md_upload_end(&s->upload);
            s->catalog_changed = !s->upload_quiet;
        }
    }
    if (code != MD_OK) {
        send_error(s, id, code, err, -1, NULL);
        if (s->upload && s->upload_id == id) md_upload_end(&s->upload);
        if (!final) s->upload_failed = id;
    }
    md_free(err);
    md_upload_frame_free(&fr);
}

/* Hold n request bytes for a job of session s (s->mu held): 1, or 0 when
 * the session's or the user's budget has no room. */
static int reserve_bytes(session *s, size_t n) {
    uint64_t session_budget = (uint64_t)SESSION_QUEUE_FRAMES * (g.max_frame_bytes + MD_FRAME_HEADER_SIZE);
    uint64_t user_budget = (uint64_t)USER_QUEUE_FRAMES * (g.max_frame_bytes + MD_FRAME_HEADER_SIZE);
    if (s->queued_bytes + n > session_budget) return 0;
    uint64_t cur = atomic_load(&g.queued_bytes);
    do {
        if (cur + n > user_budget) return 0;
    } while (!atomic_compare_exchange_weak(&g.queued_bytes, &cur, cur + n));
    s->queued_bytes += n;
    return 1;
}

/* Free a job that left the queue or finished, and the bytes it held (s->mu held). */
static void job_free(session *s, job *j) {
    s->queued_bytes -= j->bytes;
    atomic_fetch_sub(&g.queued_bytes, j->bytes);
    md_free(j->sql);
    md_free(j);
}

static void *executor_main(void *arg) {
    session *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->head && !s->closing) pthread_cond_wait(&s->cv, &s->mu);
        if (s->closing) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        job *j = s->head;
        s->head = j->next;
        if (!s->head) s->tail = NULL;
        s->queued--;
        s->in_job = 1; /* with the queue emptied in the same step, the reader still sees the session busy */
        pthread_cond_broadcast(&s->cv); /* a reader waiting for room (UPLOAD) */
        s->cancel_requested = 0;
        pthread_mutex_unlock(&s->mu);
        switch (md_msg_job(j->type)) {
        case MD_JOB_CATALOG: send_catalog(s, j->id); break;
        case MD_JOB_AST: run_ast(s, j->id, j->type, j->sql); break;
        case MD_JOB_UPLOAD:
            s->catalog_changed = 0;
            run_upload(s, j->id, (const uint8_t *)j->sql, j->len);
            if (s->catalog_changed) send_catalog(s, 0);
            break;
        case MD_JOB_SQL:
            s->catalog_changed = 0;
            run_query(s, j->id, j->sql);
            if (s->catalog_changed && !j->quiet) send_catalog(s, 0);
            break;
        case MD_JOB_NONE: break; /* never queued */
        }
        pthread_mutex_lock(&s->mu);
        job_free(s, j);
        s->in_job = 0;
        pthread_cond_broadcast(&s->cv); /* a reader waiting for room (UPLOAD) */
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

/* ---- reading ------------------------------------------------------------ */

static void send_progress(session *s) {
    pthread_mutex_lock(&s->mu);
    if (s->running && !s->closing) {
        duckdb_query_progress_type p = duckdb_query_progress(s->conn);
        if (p.percentage >= 0 && p.percentage != s->last_percent) {
            s->last_percent = p.percentage;
            cJSON *j = cJSON_CreateObject();
            cJSON_AddNumberToObject(j, "percent", p.percentage);
            cJSON_AddNumberToObject(j, "rows_processed", (double)p.rows_processed);
            cJSON_AddNumberToObject(j, "total_rows", (double)p.total_rows_to_process);
            send_json(s, MD_MSG_PROGRESS, s->running_id, j);
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static void handle_cancel(session *s, uint32_t id) {
    pthread_mutex_lock(&s->mu);
    if (s->running && s->running_id == id) {
        s->cancel_requested = 1;
        if (!s->stop_asked_ms) s->stop_asked_ms = md_now_ms();
        duckdb_interrupt(s->conn);
    } else {
        job **pp = &s->head, *prev = NULL;
        while (*pp && (*pp)->id != id) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp) {
            job *j = *pp;
            *pp = j->next;
            if (s->tail == j) s->tail = prev;
            s->queued--;
            job_free(s, j);
            send_error(s, id, MD_ECANCELLED, NULL, -1, NULL);
        }
    }
    pthread_mutex_unlock(&s->mu);
}

/* Queue a request for the executor; takes ownership of sql (may be NULL;
 * `len` bytes for UPLOAD).  A full queue (MAX_QUEUED jobs, or the bytes of
 * reserve_bytes) refuses a request, except UPLOAD frames, which wait for
 * room: the socket then stops being read, which slows the sender down
 * (backpressure). */
static void enqueue_bytes(session *s, uint32_t id, int type, char *sql, size_t len, int quiet) {
    size_t bytes = len ? len : sql ? strlen(sql) + 1 : 0;
    int room = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        room = !s->closing && s->queued < MAX_QUEUED && reserve_bytes(s, bytes);
        if (room || type != MD_MSG_UPLOAD || s->closing) break;
        struct timespec until;
        md_deadline_in_ms(&until, QUEUE_WAIT_MS);
        pthread_cond_timedwait(&s->cv, &s->mu, &until); /* the user's other sessions free bytes too */
    }
    if (!room) {
        int many = s->queued >= MAX_QUEUED;
        pthread_mutex_unlock(&s->mu);
        send_error(s, id, MD_EBUSY,
                   many ? "too many queries queued on this connection: wait for results"
                        : "too many request bytes are waiting on this connection or this user's others: wait "
                          "for results",
                   -1, NULL);
    } else {
        job *jb = md_calloc(1, sizeof *jb);
        jb->id = id;
        jb->type = type;
        jb->sql = sql;
        jb->len = len;
        jb->bytes = bytes;
        jb->quiet = quiet;
        sql = NULL;
        if (s->tail) s->tail->next = jb;
        else s->head = jb;
        s->tail = jb;
        s->queued++;
        pthread_cond_broadcast(&s->cv); /* the executor (and no one else waits while the queue grows) */
        pthread_mutex_unlock(&s->mu);
    }
    md_free(sql);
}

static void enqueue(session *s, uint32_t id, int type, char *sql) { enqueue_bytes(s, id, type, sql, 0, 0); }

/* QUERY and PARSE: a JSON object {"sql": "..."} (QUERY: also "catalog":
 * false, no CATALOG(0) after it), queued as a job of `type`. */
static void handle_sql_request(session *s, int type, uint32_t id, const uint8_t *payload, uint32_t len) {
    cJSON *j = md_json_parse(payload, len, MD_JSON_CONTROL_DEPTH, NULL);
    const cJSON *sql = cJSON_GetObjectItemCaseSensitive(j, "sql");
    if (cJSON_IsString(sql)) {
        int quiet = type == MD_MSG_QUERY && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "catalog"));
        enqueue_bytes(s, id, type, md_strdup(sql->valuestring), 0, quiet);
    } else {
        char *m = md_asprintf("%s needs a JSON object with a string field \"sql\"", md_msg_name(type));
        send_error(s, id, MD_EINVAL, m, -1, NULL);
        md_free(m);
    }
    cJSON_Delete(j);
}

static void session_loop(session *s) {
    for (;;) {
        pthread_mutex_lock(&s->mu);
        /* busy: it wakes every PROGRESS_INTERVAL_MS (progress, deadlines).  A
         * job just taken counts: between taking it and marking it running the
         * queue is empty, and a reader that slept without a timeout then
         * would never enforce its statement_timeout. */
        int busy = s->running || s->head || s->in_job;
        pthread_mutex_unlock(&s->mu);
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, busy ? PROGRESS_INTERVAL_MS : -1);
        if (pr < 0 && errno != EINTR) return;
        if (pr <= 0) {
            send_progress(s);
            check_deadlines(s);
            continue;
        }
        md_frame_header h;
        uint8_t *frame = NULL;
        int rc = md_frame_recv(s->fd, g.max_frame_bytes, &h, &frame);
        if (rc != MD_OK) {
            if (rc == MD_EBAD_FRAME || rc == MD_ETOO_LARGE) send_error(s, 0, rc, NULL, -1, NULL);
            return;
        }
        const uint8_t *payload = frame + MD_FRAME_HEADER_SIZE;
        switch (h.type) {
        case MD_MSG_QUERY: handle_sql_request(s, MD_MSG_QUERY, h.request_id, payload, h.length); break;
        case MD_MSG_CATALOG: enqueue(s, h.request_id, MD_MSG_CATALOG, NULL); break;
        case MD_MSG_PARSE: handle_sql_request(s, MD_MSG_PARSE, h.request_id, payload, h.length); break;
        case MD_MSG_DEPARSE:
            enqueue(s, h.request_id, MD_MSG_DEPARSE, md_strndup((const char *)payload, h.length));
            break;
        case MD_MSG_UPLOAD: {
            char *copy = md_malloc(h.length ? h.length : 1);
            memcpy(copy, payload, h.length);
            enqueue_bytes(s, h.request_id, MD_MSG_UPLOAD, copy, h.length, 0);
            break;
        }
        case MD_MSG_CANCEL: handle_cancel(s, h.request_id); break;
        case MD_MSG_PING:
            pthread_mutex_lock(&s->write_mu);
            md_frame_send(s->fd, MD_MSG_PONG, h.request_id, payload, h.length);
            pthread_mutex_unlock(&s->write_mu);
            break;
        default: {
            const char *name = md_msg_name(h.type);
            char *m = md_asprintf("%s is not available on this server yet", name ? name : "this message");
            send_error(s, h.request_id, MD_EUNSUPPORTED, m, -1, NULL);
            md_free(m);
        }
        }
        md_free(frame);
    }
}

static void session_unlink(session *s) {
    pthread_mutex_lock(&g.mu);
    for (session **pp = &g.sessions; *pp; pp = &(*pp)->next_live) {
        if (*pp == s) {
            *pp = s->next_live;
            break;
        }
    }
    g.live--;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
}

/* The session's own connection id, for md_current_client_connection_id()
 * (a TEMP macro and a variable: both go when the connection is released). */
static void session_identity(session *s) {
    if (!s->conn_id[0]) return;
    for (const char *p = s->conn_id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == '-')) return;
    char *set = md_asprintf("SET VARIABLE md_connection_id = '%s'", s->conn_id);
    simple_query(s->conn, set);
    md_free(set);
    simple_query(s->conn, "CREATE OR REPLACE TEMP MACRO md_current_client_connection_id() AS "
                          "getvariable('md_connection_id')");
}

static void *reader_main(void *arg) {
    session *s = arg;
    md_frame_header h;
    uint8_t *frame = NULL;
    /* The pool's first frame says who this session is. */
    if (md_frame_recv(s->fd, 65536, &h, &frame) == MD_OK && h.type == MD_MSG_SESSION) {
        cJSON *j = cJSON_ParseWithLength((const char *)frame + MD_FRAME_HEADER_SIZE, h.length);
        s->read_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "read_only")) || g.replica >= 0;
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "token_kind");
        const cJSON *conn_id = cJSON_GetObjectItemCaseSensitive(j, "connection_id");
        snprintf(s->kind, sizeof s->kind, "%s", cJSON_IsString(kind) ? kind->valuestring : "read_write");
        if (cJSON_IsString(conn_id)) snprintf(s->conn_id, sizeof s->conn_id, "%s", conn_id->valuestring);
        cJSON_Delete(j);
        session_identity(s);
        md_free(frame);
        pthread_create(&s->executor, NULL, executor_main, s);
        session_loop(s);
        pthread_mutex_lock(&s->mu);
        s->closing = 1;
        if (s->running) duckdb_interrupt(s->conn);
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        /* the client is gone: its query stops within the grace, or the
         * process goes (no core stays busy for a client that left) */
        struct timespec until;
        md_deadline_in_ms(&until, g.cancel_grace_ms);
        if (pthread_timedjoin_np(s->executor, NULL, &until) != 0) {
            fprintf(stderr, "mdserver duckling: a query did not stop within %lld ms of its client leaving; exiting "
                            "so that the server starts a fresh engine\n", (long long)g.cancel_grace_ms);
            _exit(EXIT_STUCK);
        }
    } else {
        md_free(frame);
    }
    while (s->head) {
        job *j = s->head;
        s->head = j->next;
        job_free(s, j);
    }
    md_upload_end(&s->upload); /* an unfinished upload's table goes */
    connection_release(s->conn, s->options_set);
    md_buf_free(&s->out);
    session_unlink(s);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->write_mu);
    pthread_cond_destroy(&s->cv);
    md_free(s);
    return NULL;
}

static void start_session(int fd) {
    session *s = md_calloc(1, sizeof *s);
    s->fd = fd;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->write_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_lock(&g.mu);
    struct timespec deadline;
    md_deadline_in_ms(&deadline, SESSION_CONN_WAIT_MS);
    while (g.nfree == 0 && pthread_cond_timedwait(&g.cv, &g.mu, &deadline) != ETIMEDOUT) {
    }
    if (g.nfree == 0) {
        pthread_mutex_unlock(&g.mu);
        md_frame_send_error(fd, 0, MD_EBUSY, "this user already has the maximum number of open sessions; "
                                             "close one and try again");
        close(fd);
        md_free(s);
        return;
    }
    s->conn = g.free_conns[--g.nfree];
    s->next_live = g.sessions;
    g.sessions = s;
    g.live++;
    pthread_mutex_unlock(&g.mu);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&s->reader, &attr, reader_main, s);
    pthread_attr_destroy(&attr);
}

/* ---- start-up ----------------------------------------------------------- */

static char *sql_quote(const char *s) {
    md_buf b = MD_BUF_INIT;
    md_buf_put_quoted(&b, s, '\'');
    md_buf_put_u8(&b, 0);
    size_t n;
    return (char *)md_buf_detach(&b, &n);
}

/* The value of session option i on c (malloc'd), or NULL. */
static char *option_value(duckdb_connection c, int i) {
    char *q = md_asprintf("SELECT current_setting('%s')::VARCHAR", md_session_option_name(i));
    duckdb_result r;
    char *v = NULL;
    if (duckdb_query(c, q, &r) == DuckDBSuccess && duckdb_row_count(&r) > 0) {
        char *d = duckdb_value_varchar(&r, 0, 0);
        if (d) v = md_strdup(d);
        duckdb_free(d);
    }
    duckdb_destroy_result(&r);
    md_free(q);
    return v;
}

/* Keep every session option's value on c, a fresh connection, in
 * g.option_values (what connection_release puts back), with one query.
 * Returns NULL or a malloc'd sentence. */
static char *read_option_values(duckdb_connection c) {
    int n = md_session_option_count();
    md_buf q = MD_BUF_INIT;
    md_buf_append(&q, "SELECT ", 7);
    for (int i = 0; i < n; i++) {
        char *one = md_asprintf("%scurrent_setting('%s')::VARCHAR", i ? ", " : "", md_session_option_name(i));
        md_buf_append(&q, one, strlen(one));
        md_free(one);
    }
    md_buf_put_u8(&q, 0);
    duckdb_result r;
    char *err = NULL;
    if (duckdb_query(c, (const char *)q.data, &r) == DuckDBError || duckdb_row_count(&r) != 1) {
        const char *why = duckdb_result_error(&r);
        err = md_asprintf("cannot read the session options' values: %s", why ? why : "no row");
    } else {
        g.option_values = md_calloc((size_t)n, sizeof *g.option_values);
        for (int i = 0; i < n; i++) {
            char *v = duckdb_value_varchar(&r, (idx_t)i, 0);
            g.option_values[i] = v ? md_strdup(v) : NULL;
            duckdb_free(v);
        }
    }
    duckdb_destroy_result(&r);
    md_buf_free(&q);
    return err;
}

/* Run `steps` in order on c; returns NULL or a malloc'd sentence. */
static char *run_steps(duckdb_connection c, const char *const *steps, size_t n) {
    char *err = NULL;
    for (size_t i = 0; i < n && !err; i++) {
        duckdb_result r;
        if (duckdb_query(c, steps[i], &r) == DuckDBError)
            err = md_asprintf("sandbox step \"%s\" failed: %s", steps[i], duckdb_result_error(&r));
        duckdb_destroy_result(&r);
    }
    return err;
}

/* Session-local settings every pooled connection gets before the lock. */
static const char *const connection_steps[] = {
    "SET errors_as_json = true",
    "SET enable_progress_bar = true",
    "SET enable_progress_bar_print = false",
    "SET progress_bar_time = 0",
    "USE my_db", /* `memory`, the instance's first database, is only the registry's home */
};

/* Apply the sandbox and fill the connection pool; returns NULL or a
 * malloc'd sentence. */
static char *apply_sandbox(duckdb_connection c, const char *user_dir, const char *scratch_dir) {
    /* allowed_directories are prefixes: the trailing slash keeps /x/alice
     * from allowing /x/alice2 */
    char *us = md_asprintf("%s/", user_dir), *ss = md_asprintf("%s/", scratch_dir);
    char *qs = sql_quote(ss), *qu = sql_quote(us), *qt = sql_quote(scratch_dir);
    char *temp = md_asprintf("SET GLOBAL temp_directory = %s", qt);
    char *allowed = md_asprintf("SET GLOBAL allowed_directories = [%s, %s]", qu, qs);
    const char *global_steps[] = {
#ifndef MD_TEST_WITHOUT_DUCKDB_SANDBOX /* a test build: the kernel's confinement alone (confine.h) */
        temp,
        allowed,
        "SET GLOBAL enable_external_access = false",
#endif
        "SET GLOBAL autoinstall_known_extensions = false",
        "SET GLOBAL autoload_known_extensions = false",
        /* users do not install extensions: $HOME is the user's directory, so
         * the default extension directory would be writable; this one is
         * outside the allowed directories and can never exist (procfs) */
        "SET GLOBAL extension_directory = '/proc/no-extensions'",
        "SET GLOBAL allow_community_extensions = false",
        "SET GLOBAL TimeZone = 'UTC'",
        /* only the snapshot writer checkpoints (after each commit), so a
         * capture never reads the file while DuckDB rewrites it */
        "SET GLOBAL checkpoint_threshold = '1TB'",
    };
    char *err = run_steps(c, global_steps, sizeof global_steps / sizeof *global_steps);
    while (!err && g.nfree < MAX_SESSIONS) {
        duckdb_connection pc;
        if (duckdb_connect(g.db, &pc) == DuckDBError) {
            err = md_strdup("cannot open DuckDB connections");
            break;
        }
        g.free_conns[g.nfree++] = pc;
        err = run_steps(pc, connection_steps, sizeof connection_steps / sizeof *connection_steps);
    }
    if (!err) err = read_option_values(g.free_conns[0]);
    md_free(us);
    md_free(ss);
    md_free(qt);
    md_free(qs);
    md_free(qu);
    md_free(temp);
    md_free(allowed);
    return err;
}

/* The PRAGMAs that put back what a session may change with a PRAGMA (DuckDB's
 * pragma functions set the connection's options directly, outside SET): the
 * optimizer, DuckDB's verification modes, profiling, and the progress
 * settings connection_steps made. */
static const char *const pragma_resets[] = {
    "PRAGMA enable_optimizer",
    "PRAGMA disable_verification",
    "PRAGMA disable_verify_external",
    "PRAGMA disable_verify_fetch_row",
    "PRAGMA disable_verify_parallelism",
    "PRAGMA disable_verify_serializer",
    "PRAGMA disable_profiling",
    "PRAGMA enable_progress_bar",
    "PRAGMA disable_print_progress_bar",
};

/*
 * Give a connection back to the pool, its session state reset: open
 * transaction rolled back, temporary objects and variables dropped, the
 * session options it set (bits of options_set) and the options a PRAGMA may
 * change put back, current database back to my_db.
 */
static void connection_release(duckdb_connection c, uint64_t options_set) {
    simple_query(c, "ROLLBACK");
    /* first: the session may have detached its current database, and DuckDB
     * binds nothing (not even the list below) while USE names a lost one */
    simple_query(c, "USE my_db.main");
    duckdb_result r;
    /* DuckDB 1.4 has no quote_ident: an identifier is quoted by hand */
#define QUOTED(x) "'\"' || replace(" x ", '\"', '\"\"') || '\"'"
    const char *list =
        "SELECT 'DROP ' || kind || ' IF EXISTS temp.' || " QUOTED("schema_name") " || '.' || " QUOTED("name") " "
        "FROM (SELECT 'VIEW' AS kind, schema_name, view_name AS name FROM duckdb_views() WHERE database_name = 'temp' "
        "UNION ALL SELECT 'TABLE', schema_name, table_name FROM duckdb_tables() WHERE temporary "
        "UNION ALL SELECT 'SEQUENCE', schema_name, sequence_name FROM duckdb_sequences() WHERE temporary "
        "UNION ALL SELECT DISTINCT CASE WHEN function_type = 'table_macro' THEN 'MACRO TABLE' ELSE 'MACRO' END, "
        "  schema_name, function_name FROM duckdb_functions() "
        "  WHERE database_name = 'temp' AND function_type IN ('macro', 'table_macro')) "
        "UNION ALL SELECT 'RESET VARIABLE ' || " QUOTED("name") " FROM duckdb_variables()";
#undef QUOTED
    if (duckdb_query(c, list, &r) == DuckDBSuccess) {
        idx_t n = duckdb_row_count(&r);
        for (idx_t i = 0; i < n; i++) {
            char *stmt = duckdb_value_varchar(&r, 0, i);
            if (stmt) simple_query(c, stmt);
            duckdb_free(stmt);
        }
    } else {
        /* The next session would see this one's temp objects: this connection
         * cannot go back to the pool.  The one way seen: a call of DuckDB's
         * logging functions that md_session_calls_check cannot see (a name
         * built at run time, a view made elsewhere) pointed the database's
         * log at a file outside the sandbox, and from then on every query of
         * every connection fails with a Permission Error.  Either way this
         * duckling is of no more use: it exits at once, and the pool starts
         * a fresh one at the user's next request (committed changes are in
         * the WAL). */
        fprintf(stderr, "mdserver duckling: cannot clean a closed session's connection (%s); exiting so that a "
                        "fresh duckling takes over\n", duckdb_result_error(&r));
        fflush(stderr);
        _exit(3);
    }
    duckdb_destroy_result(&r);
    for (int i = 0; i < md_session_option_count(); i++) {
        if (!(options_set >> i & 1)) continue;
        char *reset = md_asprintf("RESET %s %s", md_session_option_is_global(i) ? "GLOBAL" : "SESSION",
                                  md_session_option_name(i));
        simple_query(c, reset);
        md_free(reset);
        /* RESET gives DuckDB's default, not the duckling's (TimeZone: the
         * machine's zone, where the duckling set UTC): set that instead */
        char *now = option_value(c, i);
        if (g.option_values[i] && (!now || strcmp(now, g.option_values[i]) != 0)) {
            char *value = sql_quote(g.option_values[i]);
            char *set = md_asprintf("SET %s %s = %s", md_session_option_is_global(i) ? "GLOBAL" : "SESSION",
                                    md_session_option_name(i), value);
            simple_query(c, set);
            md_free(set);
            md_free(value);
        }
        md_free(now);
    }
    for (size_t i = 0; i < sizeof pragma_resets / sizeof *pragma_resets; i++) simple_query(c, pragma_resets[i]);
    pthread_mutex_lock(&g.mu);
    g.free_conns[g.nfree++] = c;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
}

static void report(int ok, const char *error) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", ok);
    if (ok) cJSON_AddStringToObject(j, "duckdb_version", duckdb_library_version());
    else cJSON_AddStringToObject(j, "error", error);
    md_frame_send_json(MD_DUCKLING_CONTROL_FD, MD_MSG_SESSION, 0, j);
    cJSON_Delete(j);
}

/* The DuckDB instance: in memory; the user's databases are attached to it
 * (storage/databases.h). */
static int open_database(const char *memory_limit, int threads, char **out_err) {
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    char th[16];
    snprintf(th, sizeof th, "%d", threads);
    if (threads > 0) duckdb_set_config(cfg, "threads", th);
    if (memory_limit && *memory_limit) duckdb_set_config(cfg, "memory_limit", memory_limit);
    char *err = NULL;
    int rc = duckdb_open_ext(NULL, &g.db, cfg, &err) == DuckDBError ? MD_EIO : MD_OK;
    duckdb_destroy_config(&cfg);
    if (rc != MD_OK) {
        *out_err = md_asprintf("cannot start DuckDB: %s", err ? err : "unknown error");
        duckdb_free(err);
    }
    return rc;
}

static void shutdown_sessions(void) {
    pthread_mutex_lock(&g.mu);
    for (session *s = g.sessions; s; s = s->next_live) {
        duckdb_interrupt(s->conn);
        shutdown(s->fd, SHUT_RDWR);
    }
    struct timespec deadline;
    md_deadline_in_ms(&deadline, 10000);
    while (g.live > 0) {
        if (pthread_cond_timedwait(&g.cv, &g.mu, &deadline) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&g.mu);
}

int md_duckling_main(int argc, char **argv) {
    const char *user_dir = NULL, *scratch_dir = NULL, *memory_limit = NULL;
    const char *user = NULL;
    int threads = 0;
    long uid = 0;
    g.max_frame_bytes = MD_DEFAULT_MAX_FRAME_BYTES;
    g.cancel_grace_ms = 10000;
    g.replica = -1;
    static const struct option longopts[] = {
        {"user-dir", required_argument, 0, 'u'},
        {"scratch-dir", required_argument, 0, 's'}, {"memory-limit", required_argument, 0, 'm'},
        {"threads", required_argument, 0, 't'},     {"max-frame-bytes", required_argument, 0, 'f'},
        {"max-result-bytes", required_argument, 0, 'r'},
        {"statement-timeout", required_argument, 0, 'T'}, {"cancel-grace", required_argument, 0, 'G'},
        {"user", required_argument, 0, 'U'},             {"uid", required_argument, 0, 'I'},
        {"replica", required_argument, 0, 'R'},          {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'u': user_dir = optarg; break;
        case 's': scratch_dir = optarg; break;
        case 'm': memory_limit = optarg; break;
        case 't': threads = atoi(optarg); break;
        case 'f': g.max_frame_bytes = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'r': g.max_result_bytes = strtoull(optarg, NULL, 10); break;
        case 'T': g.max_timeout_ms = strtoll(optarg, NULL, 10); break;
        case 'G': g.cancel_grace_ms = strtoll(optarg, NULL, 10); break;
        case 'U': user = optarg; break;
        case 'I': uid = strtol(optarg, NULL, 10); break;
        case 'R': g.replica = atoi(optarg); break;
        default: return 2;
        }
    }
    if (!user_dir || !scratch_dir || !user) {
        fprintf(stderr, "mdserver duckling: internal command, started by `mdserver serve`\n");
        return 2;
    }
    /* Never gain privileges; no core files of user data.  No parent-death
     * signal: it fires when the forking *thread* exits, and the control
     * socket's EOF already tells us the server is gone (even after kill -9),
     * which lets us close the database cleanly. */
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN); /* the server shuts ducklings down in order */
    /* the kernel's confinement first, while this process has one thread:
     * its own view of the files (the user's directory is /home/<user>, and
     * $HOME), not root, then Landlock and seccomp on what it sees */
    md_confine_view view;
    char *cerr = NULL;
    if (md_confine_enter_view(user, user_dir, scratch_dir, uid, &view, &cerr) != MD_OK) {
        report(0, cerr);
        md_free(cerr);
        return 1;
    }
    user_dir = view.home;
    scratch_dir = view.tmp;
    setenv("HOME", user_dir, 1);
    md_confine_paths cp = {.user_dir = user_dir, .scratch_dir = scratch_dir};
    int landlock_abi = 0;
    if (md_confine_duckling(&cp, &landlock_abi, &cerr) != MD_OK) {
        report(0, cerr);
        md_free(cerr);
        return 1;
    }
    /* Work inside the user's directory (DuckDB's sandbox still needs paths
     * in user SQL to be absolute and under an allowed directory: in the
     * view, /home/<user>/...). */
    if (chdir(user_dir) != 0 || !(g.user_dir = realpath(".", NULL))) {
        char *m = md_asprintf("cannot enter the user directory %s", user_dir);
        report(0, m);
        md_free(m);
        return 1;
    }

    char *err = NULL;
    if (open_database(memory_limit, threads, &err) != MD_OK) {
        report(0, err);
        md_free(err);
        return 1;
    }
    /* the user's databases (my_db first; each one's writer lease, its working
     * file rebuilt from the store if missing, and what DuckDB replayed from
     * its WAL snapshotted), then the functions, then the sandbox */
    duckdb_connection setup;
    duckdb_connect(g.db, &setup);
    md_store_remote_open(MD_DUCKLING_STORE_FD, &g.store, &g.meta, &g.secrets, &g.calls);
    int rc = md_databases_open(g.store, g.meta, user, user_dir, g.db, &g.dbs, &err);
    if (rc == MD_OK) {
        char *real = realpath(md_databases_dir(g.dbs), NULL);
        g.databases_dir = md_strdup(real ? real : md_databases_dir(g.dbs));
        free(real);
        if (g.replica >= 0) md_databases_set_replica(g.dbs);
        rc = md_databases_attach_all(g.dbs, NULL, &err);
    }
    if (rc == MD_OK) rc = md_sql_functions_register(setup, g.meta, user, &g.functions, &err);
    char *duckling_id = g.replica < 0 ? md_asprintf("%s_rw", user) : md_asprintf("%s_rs.%d", user, g.replica);
    if (rc == MD_OK) rc = md_server_functions_register(setup, g.calls, duckling_id, &err);
    md_free(duckling_id);
    if (rc == MD_OK) rc = md_info_schema_open(setup, g.meta, g.calls, user, &g.info, &err);
    if (rc == MD_OK) err = apply_sandbox(setup, user_dir, scratch_dir);
    /* the user's stored secrets become DuckDB secrets only inside the
     * sandbox: their values are the user's SQL, evaluated like any */
    if (rc == MD_OK && !err) rc = md_secretcmds_open(g.secrets, user, setup, &g.secretcmds, &err);
    duckdb_disconnect(&setup);
    if (rc != MD_OK || err) {
        report(0, err ? err : "cannot open the user's databases");
        md_free(err);
        if (g.dbs) md_databases_finish(g.dbs);
        pthread_mutex_lock(&g.mu);
        while (g.nfree > 0) duckdb_disconnect(&g.free_conns[--g.nfree]);
        pthread_mutex_unlock(&g.mu);
        duckdb_close(&g.db);
        md_sql_functions_free(&g.functions);
        md_secretcmds_free(&g.secretcmds);
        md_info_schema_free(&g.info);
        md_databases_free(&g.dbs);
        md_dbmeta_close(&g.meta);
        md_objstore_close(&g.store);
        md_secrets_close(&g.secrets);
        md_server_calls_close(&g.calls);
        return 1;
    }
    report(1, NULL);

    for (;;) {
        char byte;
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {&byte, 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        ssize_t r = recvmsg(MD_DUCKLING_CONTROL_FD, &msg, MSG_CMSG_CLOEXEC);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        if (byte == 'S' && cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm), sizeof fd);
            start_session(fd);
        }
    }
    shutdown_sessions();
    pthread_mutex_lock(&g.mu);
    while (g.nfree > 0) duckdb_disconnect(&g.free_conns[--g.nfree]);
    int stuck = g.live; /* sessions that did not stop in time still use DuckDB and the writer */
    pthread_mutex_unlock(&g.mu);
    if (stuck > 0) {
        /* exit without closing: what they committed is in DuckDB's WAL, and
         * the next duckling replays it and snapshots it */
        fprintf(stderr, "mdserver duckling: %d sessions did not stop; exiting without a final snapshot\n", stuck);
        return 0;
    }
    md_databases_finish(g.dbs); /* the last snapshots */
    duckdb_close(&g.db);
    md_sql_functions_free(&g.functions);
    md_secretcmds_free(&g.secretcmds);
    md_info_schema_free(&g.info);
    md_databases_free(&g.dbs); /* the leases go after DuckDB closed the files */
    md_dbmeta_close(&g.meta);
    md_objstore_close(&g.store);
    md_secrets_close(&g.secrets);
    md_server_calls_close(&g.calls);
    free(g.user_dir);
    md_free(g.databases_dir);
    md_confine_view_free(&view);
    return 0;
}

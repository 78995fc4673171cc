/*
 * rclient.h: the C client of mdserver's protocol, for every C program that
 * talks to a server (the terminal client, the benchmarks, the sqllogictest
 * runner, the native host of the dual driver): one
 * WebSocket, one request at a time or several pipelined (the _send and
 * _recv halves), every result batch decoded from Arrow IPC into arrays.
 *
 * Conversation (shared/protocol.h): HELLO {protocol, token, client} ->
 * WELCOME once per connection; then per query QUERY(R) {sql} ->
 * RESULT_SCHEMA(R), RESULT_BATCH(R)..., PROGRESS(R)..., RESULT_END(R) per
 * statement, until the RESULT_END with final=true, or ERROR(R).
 *
 * What a query costs the client here is what any real client pays: the
 * WebSocket message is reassembled (ws_client), the frame header checked,
 * every IPC message decoded by md_ipc_reader into ArrowArrays that own
 * their memory, and those arrays released.  Nothing is printed.
 */
#ifndef MD_RCLIENT_H
#define MD_RCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "shared/arrow_abi.h"

typedef struct md_rclient md_rclient;

/* PROGRESS of the running statement: percent (0..100; < 0 unknown), rows
 * processed so far and rows in all (0: unknown). */
typedef struct md_rclient_progress {
    double percent;
    double rows_processed;
    double total_rows;
} md_rclient_progress;

/* RESULT_END of one statement of the request. */
typedef struct md_rclient_end {
    int64_t rows;    /* the rows the server counted */
    uint64_t bytes;  /* Arrow IPC payload bytes of this statement's result */
    double ms;       /* the duckling's time for this statement */
    int final;       /* the request's last statement */
} md_rclient_end;

/* What on_wait answers. */
enum { MD_RCLIENT_WAIT = 0, MD_RCLIENT_CANCEL = 1, MD_RCLIENT_ABANDON = 2 };

/* Hooks a caller may set for one query (all optional).  A hook that returns
 * an error ends the query with it; the connection is then closed, since the
 * rest of the request would still arrive. */
typedef struct md_rclient_hooks {
    /* Each statement's schema, once, before its batches (valid until the
     * statement's on_end). */
    int (*on_schema)(void *ctx, const struct ArrowSchema *schema, char **out_err);
    /* Each decoded record batch (children = columns) with its schema, before
     * it is released; the hook may take the batch over (move it: copy the
     * struct, set batch->release to NULL). */
    int (*on_batch)(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err);
    /* Each PROGRESS. */
    void (*on_progress)(void *ctx, const md_rclient_progress *progress);
    /* Each statement's RESULT_END. */
    int (*on_end)(void *ctx, const md_rclient_end *end, char **out_err);
    /* An ERROR that is about the connection, not a request (request id 0:
     * SESSION_RESET, say); the query goes on. */
    void (*on_notice)(void *ctx, const char *code, const char *message);
    /* Asked at least every 100 ms while the answer is awaited: MD_RCLIENT_WAIT,
     * MD_RCLIENT_CANCEL (CANCEL is sent, once; the query then ends with its
     * ERROR CANCELLED), or MD_RCLIENT_ABANDON (the connection is closed at
     * once; the query answers MD_ECANCELLED). */
    int (*on_wait)(void *ctx);
    void *ctx;
} md_rclient_hooks;

/* The server's last ERROR for a request of this connection: its stable
 * code (shared/md_error.h's wire name), message and position in the SQL (-1:
 * none).  Valid until the next call on the connection. */
typedef struct md_rclient_error {
    const char *code;
    const char *message;
    long position;
} md_rclient_error;

/* What the server's WELCOME said. */
typedef struct md_rclient_welcome {
    const char *user, *database, *server_version, *duckdb_version;
    int read_only;
    uint32_t max_frame_bytes; /* the most payload one frame of ours may carry */
} md_rclient_welcome;

/* How to connect (md_rclient_open); zeroes: the defaults. */
typedef struct md_rclient_options {
    const char *client_name; /* HELLO's "client" (default "mdserver-rclient/0.1") */
    int hello_timeout_ms;    /* for WELCOME (default 30000) */
    const char *session_name; /* HELLO's "session_name" (read scaling: pins a replica), or NULL */
} md_rclient_options;

typedef struct md_rclient_stats {
    int64_t rows;        /* decoded rows, all statements */
    uint64_t bytes;      /* Arrow IPC payload bytes received */
    int64_t batches;     /* record batches decoded */
    int64_t server_rows; /* sum of RESULT_END "rows" */
    double server_ms;    /* "ms" of the final RESULT_END: the duckling's time from taking the
                          * request to its last frame */
} md_rclient_stats;

/*
 * Connect to `url` (ws://…/ws) and authenticate with `token`.  Returns MD_OK
 * and *out (close with md_rclient_close), or an MD_E… code with *out_err
 * (caller frees with md_free).
 */
int md_rclient_connect(const char *url, const char *token, md_rclient **out, char **out_err);

/* md_rclient_connect with options (NULL: the defaults).  A refused HELLO
 * answers MD_EAUTH (a bad token) or the code the server gave, with its
 * message in *out_err. */
int md_rclient_open(const char *url, const char *token, const md_rclient_options *opt, md_rclient **out,
                    char **out_err);

/* What the server's WELCOME said (valid until md_rclient_close). */
const md_rclient_welcome *md_rclient_welcome_of(const md_rclient *r);

/* The server's last ERROR for a request, when a call answered MD_ESQL (or
 * another code of a request the server refused); NULL otherwise. */
const md_rclient_error *md_rclient_last_error(const md_rclient *r);

/*
 * Give every later md_rclient_query `timeout_ms` (<= 0: no limit, the
 * default).  A query past it is cancelled and answers MD_ESQL with
 * "TIMEOUT: …"; one that does not end soon after its cancel closes the
 * connection (MD_ETIMEOUT).
 */
void md_rclient_set_timeout(md_rclient *r, int timeout_ms);

/*
 * Run `sql` as one QUERY and consume its whole answer.  Returns MD_OK with
 * *out_stats; MD_ESQL (the server answered ERROR, md_rclient_last_error has
 * it; the connection stays usable), MD_ETOO_LARGE (the request is over the
 * server's frame limit; nothing was sent), or another MD_E… code (the
 * connection is unusable), each with *out_err (caller frees).
 */
int md_rclient_query(md_rclient *r, const char *sql, const md_rclient_hooks *hooks,
                       md_rclient_stats *out_stats, char **out_err);

/*
 * md_rclient_query in two halves, for pipelining: _send sends the QUERY and
 * gives its request id; _recv consumes that request's whole answer, as
 * md_rclient_query does.  The duckling runs one session's requests in the
 * order they arrive, so requests sent back to back are answered in that
 * order; an answer nobody awaits is skipped when a later await reads past
 * it (its errors too: send only what may fail unseen, such as a cleanup).
 */
#define MD_RCLIENT_NO_CATALOG 1u /* flags: no CATALOG(0) after this request, even if it changed the catalog */
int md_rclient_query_send(md_rclient *r, const char *sql, unsigned flags, uint32_t *out_id, char **out_err);
int md_rclient_query_recv(md_rclient *r, uint32_t id, const md_rclient_hooks *hooks, md_rclient_stats *out_stats,
                          char **out_err);

/*
 * One PING(id) -> PONG(id) round trip with an 8-byte payload (mdserver answers
 * PING itself, without the duckling: the WebSocket floor under every query).
 * Returns MD_OK or an MD_E… code with *out_err (caller frees).
 */
int md_rclient_ping(md_rclient *r, char **out_err);

/*
 * One JSON request answered by one JSON message of the same type: PARSE,
 * DEPARSE or CATALOG (shared/protocol.h).  `json` is the request payload
 * text (NULL: none, as CATALOG takes).  MD_OK with *out_text, the answer's
 * payload as the server wrote it (NUL-terminated, caller frees); MD_ESQL
 * and friends when the server answered ERROR (*out_err "CODE: message";
 * the connection stays usable), another MD_E… code when the connection
 * failed.
 */
int md_rclient_request(md_rclient *r, int type, const char *json, char **out_text, char **out_err);

/*
 * UPLOAD an Arrow IPC stream ipc[0..len) into temp table `table` of the
 * session (server/duckdb/upload.h), in frames of at most frame_bytes (0: 1 MiB),
 * asking for no CATALOG(0) after it (the caller knows the table it made).
 * MD_OK with *out_rows; errors as md_rclient_request.
 */
int md_rclient_upload(md_rclient *r, const char *table, const uint8_t *ipc, size_t len, size_t frame_bytes,
                      int64_t *out_rows, char **out_err);

/* md_rclient_upload in two halves, for pipelining as md_rclient_query_send. */
int md_rclient_upload_send(md_rclient *r, const char *table, const uint8_t *ipc, size_t len, size_t frame_bytes,
                           uint32_t *out_id, char **out_err);
int md_rclient_upload_recv(md_rclient *r, uint32_t id, int64_t *out_rows, char **out_err);

/* Is the connection still usable?  A call that failed other than with an
 * answer of the server (MD_ESQL and friends) closes it. */
int md_rclient_alive(const md_rclient *r);

/* Close and free; *r becomes NULL (NULL allowed). */
void md_rclient_close(md_rclient **r);

#endif

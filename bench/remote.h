/*
 * remote.h: the benchmarks' client of mdserver: one WebSocket, one request
 * at a time, every result batch decoded from Arrow IPC into arrays.
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
#ifndef BENCH_REMOTE_H
#define BENCH_REMOTE_H

#include <stdint.h>

#include "arrow_abi.h"

typedef struct bench_remote bench_remote;

/* Hooks a caller may set for one query (all optional). */
typedef struct bench_query_hooks {
    /* Each decoded record batch (children = columns) with its schema,
     * before it is released; returns MD_OK, or an error that ends the query (the
     * connection is then closed, because the rest of the request would
     * still arrive). */
    int (*on_batch)(void *ctx, const struct ArrowSchema *schema, const struct ArrowArray *batch, char **out_err);
    /* Each PROGRESS: percent (0..100). */
    void (*on_progress)(void *ctx, double percent);
    void *ctx;
} bench_query_hooks;

typedef struct bench_query_stats {
    int64_t rows;        /* decoded rows, all statements */
    uint64_t bytes;      /* Arrow IPC payload bytes received */
    int64_t batches;     /* record batches decoded */
    int64_t server_rows; /* sum of RESULT_END "rows" */
    double server_ms;    /* "ms" of the final RESULT_END: the duckling's time from taking the
                          * request to its last frame */
} bench_query_stats;

/*
 * Connect to `url` (ws://…/ws) and authenticate with `token`.  Returns MD_OK
 * and *out (close with bench_remote_close), or an MD_E… code with *out_err
 * (caller frees with md_free).
 */
int bench_remote_connect(const char *url, const char *token, bench_remote **out, char **out_err);

/*
 * Run `sql` as one QUERY and consume its whole answer.  Returns MD_OK with
 * *out_stats; MD_ESQL (the server answered ERROR; the connection stays
 * usable) or another MD_E… code (the connection is unusable), each with
 * *out_err (caller frees).
 */
int bench_remote_query(bench_remote *r, const char *sql, const bench_query_hooks *hooks,
                       bench_query_stats *out_stats, char **out_err);

/*
 * One PING(id) -> PONG(id) round trip with an 8-byte payload (mdserver answers
 * PING itself, without the duckling: the WebSocket floor under every query).
 * Returns MD_OK or an MD_E… code with *out_err (caller frees).
 */
int bench_remote_ping(bench_remote *r, char **out_err);

/* Close and free; *r becomes NULL (NULL allowed). */
void bench_remote_close(bench_remote **r);

#endif

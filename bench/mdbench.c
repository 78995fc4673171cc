/*
 * mdbench.c: the benchmark driver behind `make bench` (bench/run.sh starts
 * the servers and calls it once per step).
 *
 *   mdbench setup     generate the tables: facts, dim and xfer in the user's
 *                     my_db through mdserver; xfer in PostgreSQL too, from
 *                     the same expressions of the row number
 *   mdbench overhead  remote_overhead: six analytic queries on facts through
 *                     mdserver vs in-process DuckDB on a byte copy of the
 *                     same database file, interleaved query by query
 *   mdbench transfer  result_transfer: all of xfer to the client, mdserver
 *                     (Arrow IPC, decoded) vs PostgreSQL (libpq SELECT; COPY
 *                     binary beside it); rows checked equal first
 *   mdbench latency   small_query_latency: SELECT 1 round trips, mdserver vs
 *                     in-process DuckDB (PostgreSQL beside it)
 *
 * Each benchmark prints context lines (two-space indent), then one BENCH
 * line, and writes its JSON object (report.h).  Exit status: 0 when the
 * benchmark was measured (PASS or MISS), 1 when it could not be, 2 on usage.
 *
 * Fairness rules kept here: both sides of a comparison run in the same
 * process invocation, alternate (ABBA order) so drift hits both alike, have
 * the same warm-up, and are summarised by the median of the same number of
 * runs.  DuckDB in-process gets the duckling's thread count and memory limit.
 */
#include <duckdb.h>
#include "shared/arrow_abi.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hybrid.h"
#include "report.h"
#include "rowsum.h"
#include "server/client/rclient.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "stats.h"
#include "storage.h"

/* ---- the data ------------------------------------------------------------ */

/* Every column is a deterministic expression of the row number i. */
#define FACTS_SQL                                                                          \
    "CREATE OR REPLACE TABLE facts AS SELECT "                                             \
    "i AS id, "                                                                            \
    "((i * 7919) %% 10007)::INTEGER AS k, "                                                \
    "'cat_' || (i %% 37) AS cat, "                                                         \
    "((i * 48271) %% 1000003)::DOUBLE / 1000 AS v, "                                       \
    "((i * 31) %% 1000)::INTEGER AS q, "                                                   \
    "TIMESTAMP '2020-01-01' + i * INTERVAL 3 SECOND AS ts "                                \
    "FROM range(%lld) t(i)"
#define DIM_SQL                                                                            \
    "CREATE OR REPLACE TABLE dim AS SELECT k::INTEGER AS k, 'region_' || (k % 13) AS region, " \
    "'name_' || k AS name FROM range(10007) t(k)"
/* xfer, the same rows in both systems: a BIGINT, b DOUBLE, c VARCHAR(20), d TIMESTAMP. */
#define XFER_DUCKDB_SQL                                                                    \
    "CREATE OR REPLACE TABLE xfer AS SELECT "                                              \
    "i AS a, (i %% 100003)::DOUBLE / 7 AS b, 'x' || substr(md5(i::VARCHAR), 1, 19) AS c, " \
    "TIMESTAMP '2020-01-01' + i * INTERVAL 1 SECOND AS d FROM range(%lld) t(i)"
#define XFER_PG_SQL                                                                        \
    "CREATE UNLOGGED TABLE xfer AS SELECT "                                                \
    "i AS a, (i %% 100003)::float8 / 7 AS b, 'x' || substr(md5(i::text), 1, 19) AS c, "    \
    "timestamp '2020-01-01' + i * interval '1 second' AS d "                               \
    "FROM generate_series(0::bigint, %lld - 1) i"
#define XFER_SELECT "SELECT a, b, c, d FROM xfer"
#define XFER_COPY "COPY xfer TO STDOUT (FORMAT binary)"

typedef struct query_def {
    const char *name;
    const char *sql;
} query_def;

static const query_def overhead_queries[] = {
    {"aggregate", "SELECT count(*), sum(v), avg(q), min(ts), max(ts) FROM facts"},
    {"group_by", "SELECT k, count(*) AS n, sum(v) AS sv, avg(q) AS aq FROM facts GROUP BY k ORDER BY k"},
    {"join", "SELECT d.region, count(*) AS n, sum(f.v) AS sv FROM facts f JOIN dim d ON f.k = d.k "
             "GROUP BY d.region ORDER BY d.region"},
    {"top_n", "SELECT id, k, v, ts FROM facts ORDER BY v DESC, id LIMIT 100"},
    {"window", "SELECT k, id, v, rn FROM (SELECT k, id, v, row_number() OVER (PARTITION BY k ORDER BY v DESC, id) "
               "AS rn FROM facts) WHERE rn <= 3 ORDER BY k, rn"},
    {"filter", "SELECT id, k, cat, v, ts FROM facts WHERE cat = 'cat_5' AND v < 250"},
};
#define N_OVERHEAD (sizeof overhead_queries / sizeof *overhead_queries)

/* ---- options --------------------------------------------------------------- */

typedef struct opts {
    const char *url, *token, *pg, *db, *json, *memory_limit, *data_dir, *json_dir;
    int threads, runs, count;
    long long facts_rows, xfer_rows;
    long storage_rows; /* mdbench storage: rows of its database (about 27 bytes each) */
} opts;

static void usage(FILE *f) {
    fputs("usage: mdbench setup    --url WS --token T [--pg CONNINFO] [--facts-rows N] [--xfer-rows N]\n"
          "       mdbench overhead --url WS --token T --db FILE --threads N [--memory-limit M]\n"
          "                        [--runs R] [--json FILE]\n"
          "       mdbench transfer --url WS --token T --pg CONNINFO [--runs R] [--json FILE]\n"
          "       mdbench latency  --url WS --token T --db FILE --threads N [--memory-limit M] --pg CONNINFO\n"
          "                        [--count N] [--runs R] [--json FILE]\n"
          "       mdbench storage  --url WS --token T --db PLAIN_COPY --data-dir DIR [--storage-rows N]\n"
          "                        [--runs R] [--json-dir DIR]\n"
          "       mdbench hybrid   --url WS --token T [--runs R] [--json-dir DIR]\n"
          "bench/run.sh starts mdserver and PostgreSQL and runs these in order.\n",
          f);
}

/* ---- in-process DuckDB ------------------------------------------------------ */

typedef struct native {
    duckdb_database db;
    duckdb_connection conn;
} native;

static int native_open(native *n, const char *path, int threads, const char *memory_limit, char **out_err) {
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    char th[16];
    snprintf(th, sizeof th, "%d", threads);
    if (threads > 0) duckdb_set_config(cfg, "threads", th);
    if (memory_limit && *memory_limit) duckdb_set_config(cfg, "memory_limit", memory_limit);
    char *err = NULL;
    int rc = duckdb_open_ext(path, &n->db, cfg, &err) == DuckDBSuccess ? MD_OK : MD_EIO;
    duckdb_destroy_config(&cfg);
    if (rc != MD_OK) {
        *out_err = md_asprintf("cannot open %s: %s", path, err ? err : "unknown error");
        duckdb_free(err);
        return rc;
    }
    if (duckdb_connect(n->db, &n->conn) == DuckDBError) {
        duckdb_close(&n->db);
        *out_err = md_strdup("cannot connect to the in-process database");
        return MD_EIO;
    }
    return MD_OK;
}

static void native_close(native *n) {
    if (n->conn) duckdb_disconnect(&n->conn);
    if (n->db) duckdb_close(&n->db);
}

/*
 * Run `sql` and consume every chunk of its result (what an in-process
 * application does), then free the result.  streaming = false: duckdb_query
 * (a materialized result, the usual in-process call); true: prepared,
 * pending, streaming, as the duckling runs every query.  Returns the row
 * count, or -1 with *out_err.
 */
static int64_t native_run(native *n, const char *sql, bool streaming, char **out_err) {
    duckdb_result res;
    duckdb_state st;
    if (streaming) {
        duckdb_prepared_statement prep = NULL;
        duckdb_pending_result pend = NULL;
        if (duckdb_prepare(n->conn, sql, &prep) == DuckDBError) {
            *out_err = md_strdup(duckdb_prepare_error(prep));
            duckdb_destroy_prepare(&prep);
            return -1;
        }
        if (duckdb_pending_prepared_streaming(prep, &pend) == DuckDBError) {
            *out_err = md_strdup(duckdb_pending_error(pend));
            duckdb_destroy_pending(&pend);
            duckdb_destroy_prepare(&prep);
            return -1;
        }
        st = duckdb_execute_pending(pend, &res);
        duckdb_destroy_pending(&pend);
        duckdb_destroy_prepare(&prep);
    } else {
        st = duckdb_query(n->conn, sql, &res);
    }
    if (st == DuckDBError) {
        *out_err = md_strdup(duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return -1;
    }
    int64_t rows = 0;
    duckdb_data_chunk chunk;
    while ((chunk = duckdb_fetch_chunk(res)) != NULL) {
        rows += (int64_t)duckdb_data_chunk_get_size(chunk);
        duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&res);
    return rows;
}

/* ---- PostgreSQL --------------------------------------------------------------- */

/* NOTICEs ("table does not exist, skipping") are not news here. */
static void quiet_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

static PGconn *pg_connect(const char *conninfo, char **out_err) {
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        *out_err = md_asprintf("cannot connect to PostgreSQL (%s): %s", conninfo, PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    return c;
}

/* Run one command; while it runs, say every 5 s that it still does. */
static int pg_exec_progress(PGconn *c, const char *label, const char *sql, char **out_err) {
    int64_t t0 = bench_now_ns();
    if (!PQsendQuery(c, sql)) {
        *out_err = md_asprintf("%s: %s", label, PQerrorMessage(c));
        return MD_EIO;
    }
    double next_note = 5;
    while (PQisBusy(c)) {
        struct pollfd pfd = {PQsocket(c), POLLIN, 0};
        poll(&pfd, 1, 500);
        if (!PQconsumeInput(c)) break;
        if (bench_elapsed_s(t0) >= next_note) {
            bench_say("%s: running (%.0f s)", label, bench_elapsed_s(t0));
            next_note += 5;
        }
    }
    int rc = MD_OK;
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL) {
        ExecStatusType s = PQresultStatus(r);
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && rc == MD_OK) {
            *out_err = md_asprintf("%s: %s", label, PQresultErrorMessage(r));
            rc = MD_ESQL;
        }
        PQclear(r);
    }
    if (rc == MD_OK) bench_say("%s: done in %.1f s", label, bench_elapsed_s(t0));
    return rc;
}

/* SELECT of the whole result into memory (libpq's default, text format).
 * With `sum`, every row is added to it.  Returns rows or -1. */
static int64_t pg_select(PGconn *c, const char *sql, bench_rowsum *sum, char **out_err) {
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        *out_err = md_asprintf("PostgreSQL: %s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    int64_t rows = PQntuples(r);
    if (sum) {
        for (int i = 0; i < (int)rows; i++) {
            if (bench_rowsum_text(sum, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                                  (size_t)PQgetlength(r, i, 2), PQgetvalue(r, i, 3)) != 0) {
                *out_err = md_asprintf("PostgreSQL row %d does not parse as xfer's columns", i);
                PQclear(r);
                return -1;
            }
        }
    }
    PQclear(r);
    return rows;
}

/* COPY ... TO STDOUT (FORMAT binary), tuples counted (and summed with `sum`). */
static int64_t pg_copy_binary(PGconn *c, const char *sql, bench_rowsum *sum, uint64_t *out_bytes, char **out_err) {
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        *out_err = md_asprintf("PostgreSQL COPY: %s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    int64_t rows = 0;
    uint64_t bytes = 0;
    char *buf;
    int n;
    bool bad = false;
    while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
        const char *why = NULL;
        bytes += (uint64_t)n;
        /* Without `sum`, the tuples are only walked (lengths), not hashed. */
        int64_t t = bench_rowsum_copy_binary(sum, (const uint8_t *)buf, (size_t)n, &why);
        PQfreemem(buf);
        if (t < 0) {
            if (!bad) *out_err = md_asprintf("PostgreSQL COPY: %s", why);
            bad = true;
            continue;
        }
        rows += t;
    }
    while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !bad) {
            *out_err = md_asprintf("PostgreSQL COPY: %s", PQresultErrorMessage(r));
            bad = true;
        }
        PQclear(r);
    }
    if (n == -2 && !bad) {
        *out_err = md_asprintf("PostgreSQL COPY: %s", PQerrorMessage(c));
        bad = true;
    }
    *out_bytes = bytes;
    return bad ? -1 : rows;
}

/* ---- setup ------------------------------------------------------------------- */

typedef struct progress_ctx {
    const char *label;
    int64_t t0;
    double last_note_s;
} progress_ctx;

static void on_progress(void *ctx, const md_rclient_progress *progress) {
    progress_ctx *p = ctx;
    double percent = progress->percent;
    double el = bench_elapsed_s(p->t0);
    if (el - p->last_note_s < 2.0) return;
    p->last_note_s = el;
    bench_say("%s: %.0f%% (%.1f s)", p->label, percent, el);
}

static int remote_exec(md_rclient *r, const char *label, const char *sql, char **out_err) {
    progress_ctx p = {label, bench_now_ns(), 0};
    md_rclient_hooks hooks = {.on_progress = on_progress, .ctx = &p};
    md_rclient_stats st;
    int rc = md_rclient_query(r, sql, &hooks, &st, out_err);
    if (rc == MD_OK) bench_say("%s: done in %.1f s", label, bench_elapsed_s(p.t0));
    return rc;
}

static int cmd_setup(const opts *o) {
    char *err = NULL;
    md_rclient *r = NULL;
    PGconn *pg = NULL;
    int rc = md_rclient_connect(o->url, o->token, &r, &err);
    if (rc != MD_OK) goto out;
    char *sql = md_asprintf(FACTS_SQL, o->facts_rows);
    char *label = md_asprintf("mdserver: generating facts (%lld rows)", o->facts_rows);
    rc = remote_exec(r, label, sql, &err);
    md_free(sql);
    md_free(label);
    if (rc == MD_OK) rc = remote_exec(r, "mdserver: generating dim (10007 rows)", DIM_SQL, &err);
    if (rc == MD_OK) {
        sql = md_asprintf(XFER_DUCKDB_SQL, o->xfer_rows);
        label = md_asprintf("mdserver: generating xfer (%lld rows)", o->xfer_rows);
        rc = remote_exec(r, label, sql, &err);
        md_free(sql);
        md_free(label);
    }
    if (rc == MD_OK) rc = remote_exec(r, "mdserver: CHECKPOINT", "CHECKPOINT", &err);
    if (rc != MD_OK || !o->pg) goto out;

    pg = pg_connect(o->pg, &err);
    if (!pg) {
        rc = MD_EIO;
        goto out;
    }
    rc = pg_exec_progress(pg, "postgres: dropping an old xfer", "DROP TABLE IF EXISTS xfer", &err);
    if (rc == MD_OK) {
        sql = md_asprintf(XFER_PG_SQL, o->xfer_rows);
        label = md_asprintf("postgres: generating xfer (%lld rows)", o->xfer_rows);
        rc = pg_exec_progress(pg, label, sql, &err);
        md_free(sql);
        md_free(label);
    }
    /* Hint bits and the visibility map set now, not during the first timed scan. */
    if (rc == MD_OK) rc = pg_exec_progress(pg, "postgres: VACUUM (FREEZE, ANALYZE) xfer", "VACUUM (FREEZE, ANALYZE) xfer", &err);
out:
    if (rc != MD_OK) bench_say("error: %s", err ? err : md_strerror(rc));
    md_free(err);
    if (pg) PQfinish(pg);
    md_rclient_close(&r);
    return rc == MD_OK ? 0 : 1;
}

/* ---- remote_overhead ------------------------------------------------------------ */

/* The sides timed per query: the two compared, and one for context. */
enum { SIDE_REMOTE, SIDE_NATIVE, SIDE_STREAMING, N_SIDES };

static int cmd_overhead(const opts *o) {
    bench_result res = {.name = "remote_overhead", .unit = "ms", .target = 1.10, .higher_is_better = false};
    char *err = NULL;
    md_rclient *r = NULL;
    native nat = {NULL, NULL};
    size_t runs = (size_t)o->runs;
    double *ms[N_SIDES]; /* ms[side][run * N_OVERHEAD + q] */
    for (int s = 0; s < N_SIDES; s++) ms[s] = md_calloc(runs * N_OVERHEAD, sizeof(double));
    double *col = md_calloc(runs, sizeof *col);
    int64_t rows[N_SIDES][N_OVERHEAD], batches[N_OVERHEAD];

    bench_say("6 queries on facts, %d DuckDB threads on every side, %d timed runs after 1 warm-up; per query the "
              "sides take turns going first", o->threads, o->runs);
    bench_say("ours: mdserver over WebSocket, one connection, every batch decoded; peer: in-process DuckDB "
              "(duckdb_query) on a byte copy of the duckling's file");
    bench_say("context: in-process streaming = the same DuckDB calls the duckling makes (prepare, pending "
              "streaming, fetch), without the network");
    if (md_rclient_connect(o->url, o->token, &r, &err) != MD_OK) goto fail;
    if (native_open(&nat, o->db, o->threads, o->memory_limit, &err) != MD_OK) goto fail;

    int64_t t_all = bench_now_ns();
    for (int run = -1; run < o->runs; run++) { /* run -1: warm-up, and the row-count check */
        for (size_t q = 0; q < N_OVERHEAD; q++) {
            for (int k = 0; k < N_SIDES; k++) {
                int side = (k + run + 1 + (int)q) % N_SIDES;
                int64_t t0 = bench_now_ns(), n;
                if (side == SIDE_REMOTE) {
                    md_rclient_stats st;
                    if (md_rclient_query(r, overhead_queries[q].sql, NULL, &st, &err) != MD_OK) goto fail;
                    n = st.rows;
                    batches[q] = st.batches;
                } else {
                    n = native_run(&nat, overhead_queries[q].sql, side == SIDE_STREAMING, &err);
                    if (n < 0) goto fail;
                }
                double t = (double)(bench_now_ns() - t0) / 1e6;
                if (run < 0) rows[side][q] = n;
                else ms[side][(size_t)run * N_OVERHEAD + q] = t;
            }
            if (run < 0 && (rows[SIDE_REMOTE][q] != rows[SIDE_NATIVE][q] ||
                            rows[SIDE_STREAMING][q] != rows[SIDE_NATIVE][q])) {
                err = md_asprintf("%s: %lld rows through mdserver, %lld in-process", overhead_queries[q].name,
                                  (long long)rows[SIDE_REMOTE][q], (long long)rows[SIDE_NATIVE][q]);
                goto fail;
            }
        }
        if (run < 0) bench_say("warm-up done (%.1f s)", bench_elapsed_s(t_all));
        else bench_say("run %d/%d done (%.1f s)", run + 1, o->runs, bench_elapsed_s(t_all));
    }

    cJSON *extra = cJSON_CreateObject();
    cJSON *qs = cJSON_AddArrayToObject(extra, "queries");
    double med[N_SIDES][N_OVERHEAD], sum[N_SIDES] = {0};
    bench_say("%-9s %10s %10s %10s %7s %8s %8s", "query", "ours ms", "native ms", "stream ms", "ratio", "rows",
              "batches");
    for (size_t q = 0; q < N_OVERHEAD; q++) {
        for (int s = 0; s < N_SIDES; s++) {
            for (size_t i = 0; i < runs; i++) col[i] = ms[s][i * N_OVERHEAD + q];
            med[s][q] = bench_median(col, runs);
            sum[s] += med[s][q];
        }
        double ratio = med[SIDE_REMOTE][q] / med[SIDE_NATIVE][q];
        bench_say("%-9s %10.1f %10.1f %10.1f %7.3f %8lld %8lld", overhead_queries[q].name, med[SIDE_REMOTE][q],
                  med[SIDE_NATIVE][q], med[SIDE_STREAMING][q], ratio, (long long)rows[SIDE_REMOTE][q],
                  (long long)batches[q]);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", overhead_queries[q].name);
        cJSON_AddStringToObject(j, "sql", overhead_queries[q].sql);
        cJSON_AddNumberToObject(j, "ours_ms", med[SIDE_REMOTE][q]);
        cJSON_AddNumberToObject(j, "peer_ms", med[SIDE_NATIVE][q]);
        cJSON_AddNumberToObject(j, "ratio", ratio);
        cJSON_AddNumberToObject(j, "in_process_streaming_ms", med[SIDE_STREAMING][q]);
        cJSON_AddNumberToObject(j, "rows", (double)rows[SIDE_REMOTE][q]);
        cJSON_AddNumberToObject(j, "batches", (double)batches[q]);
        cJSON_AddItemToArray(qs, j);
    }
    res.ours = bench_geomean(med[SIDE_REMOTE], N_OVERHEAD);
    res.peer = bench_geomean(med[SIDE_NATIVE], N_OVERHEAD);
    double gs = bench_geomean(med[SIDE_STREAMING], N_OVERHEAD);
    bench_say("sums of medians: ours %.1f ms, native %.1f ms (ratio %.3f), in-process streaming %.1f ms",
              sum[SIDE_REMOTE], sum[SIDE_NATIVE], sum[SIDE_REMOTE] / sum[SIDE_NATIVE], sum[SIDE_STREAMING]);
    bench_say("in-process streaming / native = %.3f, ours / in-process streaming = %.3f (geometric means)",
              gs / res.peer, res.ours / gs);
    bench_say("stream ms: in-process DuckDB run the duckling's way; batches: RESULT_BATCH frames mdserver sent");
    bench_say("ours and peer below: geometric means of the per-query medians, so ratio = geometric mean of the "
              "per-query ratios (every query weighs the same)");
    cJSON_AddStringToObject(extra, "aggregate", "geometric mean of per-query medians");
    cJSON_AddNumberToObject(extra, "sum_ours_ms", sum[SIDE_REMOTE]);
    cJSON_AddNumberToObject(extra, "sum_peer_ms", sum[SIDE_NATIVE]);
    cJSON_AddNumberToObject(extra, "sum_ratio", sum[SIDE_REMOTE] / sum[SIDE_NATIVE]);
    cJSON_AddNumberToObject(extra, "in_process_streaming_geomean_ms", gs);
    cJSON_AddNumberToObject(extra, "threads", o->threads);
    cJSON_AddNumberToObject(extra, "runs", o->runs);
    cJSON_AddStringToObject(extra, "peer_name", "duckdb in-process (duckdb_query)");
    res.extra = extra;
    goto done;
fail:
    res.error = err ? err : "failed";
done:
    bench_report(&res, o->json);
    md_free(err);
    for (int s = 0; s < N_SIDES; s++) md_free(ms[s]);
    md_free(col);
    native_close(&nat);
    md_rclient_close(&r);
    return res.error ? 1 : 0;
}

/* ---- result_transfer ----------------------------------------------------------- */

static int rowsum_hook(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err) {
    const char *why = NULL;
    if (bench_rowsum_arrow(ctx, schema, batch, &why) != 0) {
        *out_err = md_strdup(why);
        return MD_EINVAL;
    }
    return MD_OK;
}

static void say_rowsum(const char *who, const bench_rowsum *s) {
    bench_say("  %-22s rows %lld  a %016llx  b %016llx  c %016llx  d %016llx", who, (long long)s->rows,
              (unsigned long long)s->a, (unsigned long long)s->b, (unsigned long long)s->c,
              (unsigned long long)s->d);
}

static int cmd_transfer(const opts *o) {
    bench_result res = {.name = "result_transfer", .unit = "rows/s", .target = 2.0, .higher_is_better = true};
    char *err = NULL;
    md_rclient *r = NULL;
    PGconn *pg = NULL;
    double *ours = md_calloc((size_t)o->runs, sizeof *ours);
    double *sel = md_calloc((size_t)o->runs, sizeof *sel);
    double *copy = md_calloc((size_t)o->runs, sizeof *copy);
    double *ours_mb = md_calloc((size_t)o->runs, sizeof *ours_mb);
    double *copy_mb = md_calloc((size_t)o->runs, sizeof *copy_mb);

    bench_say("`%s`: xfer (a BIGINT, b DOUBLE, c VARCHAR(20), d TIMESTAMP) to one client on loopback",
              XFER_SELECT);
    bench_say("ours: mdserver, Arrow IPC over WebSocket, every batch decoded into arrays; peer: PostgreSQL 15, "
              "libpq PQexec (text rows)");
    if (md_rclient_connect(o->url, o->token, &r, &err) != MD_OK) goto fail;
    if (!(pg = pg_connect(o->pg, &err))) goto fail;

    /* Warm-up, also the check that both systems hold the same rows. */
    bench_say("warm-up and row check (checksums of every value, untimed)");
    bench_rowsum s_ours = {0}, s_sel = {0}, s_copy = {0};
    md_rclient_hooks hooks = {.on_batch = rowsum_hook, .ctx = &s_ours};
    md_rclient_stats st;
    uint64_t copy_bytes = 0;
    if (md_rclient_query(r, XFER_SELECT, &hooks, &st, &err) != MD_OK) goto fail;
    if (pg_select(pg, XFER_SELECT, &s_sel, &err) < 0) goto fail;
    if (pg_copy_binary(pg, XFER_COPY, &s_copy, &copy_bytes, &err) < 0) goto fail;
    say_rowsum("mdserver (Arrow)", &s_ours);
    say_rowsum("postgres SELECT (text)", &s_sel);
    say_rowsum("postgres COPY (binary)", &s_copy);
    if (!bench_rowsum_equal(&s_ours, &s_sel) || !bench_rowsum_equal(&s_ours, &s_copy)) {
        err = md_strdup("the two systems returned different rows (checksums above differ)");
        goto fail;
    }
    bench_say("same %lld rows in both systems", (long long)s_ours.rows);
    int64_t want = s_ours.rows;

    for (int run = 0; run < o->runs; run++) {
        /* Rotate which system goes first. */
        for (int k = 0; k < 3; k++) {
            int which = (k + run) % 3;
            int64_t t0 = bench_now_ns(), rows;
            if (which == 0) {
                if (md_rclient_query(r, XFER_SELECT, NULL, &st, &err) != MD_OK) goto fail;
                rows = st.rows;
                double s = bench_elapsed_s(t0);
                ours[run] = (double)rows / s;
                ours_mb[run] = (double)st.bytes / s / 1e6;
            } else if (which == 1) {
                rows = pg_select(pg, XFER_SELECT, NULL, &err);
                if (rows < 0) goto fail;
                sel[run] = (double)rows / bench_elapsed_s(t0);
            } else {
                rows = pg_copy_binary(pg, XFER_COPY, NULL, &copy_bytes, &err);
                if (rows < 0) goto fail;
                double s = bench_elapsed_s(t0);
                copy[run] = (double)rows / s;
                copy_mb[run] = (double)copy_bytes / s / 1e6;
            }
            if (rows != want) {
                err = md_asprintf("run %d received %lld rows, not %lld", run + 1, (long long)rows, (long long)want);
                goto fail;
            }
        }
        bench_say("run %d/%d: mdserver %.2fM rows/s, postgres SELECT %.2fM rows/s, COPY binary %.2fM rows/s",
                  run + 1, o->runs, ours[run] / 1e6, sel[run] / 1e6, copy[run] / 1e6);
    }
    res.ours = bench_median(ours, (size_t)o->runs);
    res.peer = bench_median(sel, (size_t)o->runs);
    double copy_med = bench_median(copy, (size_t)o->runs);
    double ours_mbs = bench_median(ours_mb, (size_t)o->runs), copy_mbs = bench_median(copy_mb, (size_t)o->runs);
    bench_say("medians: mdserver %.0f rows/s (%.0f MB/s of Arrow IPC), postgres SELECT %.0f rows/s, "
              "postgres COPY (FORMAT binary) %.0f rows/s (%.0f MB/s)",
              res.ours, ours_mbs, res.peer, copy_med, copy_mbs);
    bench_say("mdserver / postgres COPY binary = %.2f", res.ours / copy_med);
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(extra, "rows", (double)want);
    cJSON_AddNumberToObject(extra, "runs", o->runs);
    cJSON_AddNumberToObject(extra, "ours_mb_per_s", ours_mbs);
    cJSON_AddNumberToObject(extra, "pg_copy_binary_rows_per_s", copy_med);
    cJSON_AddNumberToObject(extra, "pg_copy_binary_mb_per_s", copy_mbs);
    cJSON_AddNumberToObject(extra, "ratio_vs_copy_binary", res.ours / copy_med);
    cJSON_AddStringToObject(extra, "peer_name", "postgresql 15 libpq SELECT");
    cJSON_AddBoolToObject(extra, "rows_identical", true);
    res.extra = extra;
    goto done;
fail:
    res.error = err ? err : "failed";
done:
    bench_report(&res, o->json);
    md_free(err);
    md_free(ours);
    md_free(sel);
    md_free(copy);
    md_free(ours_mb);
    md_free(copy_mb);
    if (pg) PQfinish(pg);
    md_rclient_close(&r);
    return res.error ? 1 : 0;
}

/* ---- small_query_latency -------------------------------------------------------- */

typedef enum { SYS_REMOTE, SYS_NATIVE, SYS_PG, SYS_PING, N_SYS } latency_sys;
static const char *const sys_names[N_SYS] = {"mdserver", "duckdb in-process", "postgres (libpq)", "mdserver PING"};

/* One SELECT 1 round trip on `sys` (or a PING for SYS_PING); returns
  * microseconds or -1.  For SYS_REMOTE, *out_server_us is the duckling's own time. */
static double one_select1(latency_sys sys, md_rclient *r, native *nat, PGconn *pg, double *out_server_us,
                          char **out_err) {
    int64_t t0 = bench_now_ns();
    if (sys == SYS_PING) {
        if (md_rclient_ping(r, out_err) != MD_OK) return -1;
    } else if (sys == SYS_REMOTE) {
        md_rclient_stats st;
        if (md_rclient_query(r, "SELECT 1", NULL, &st, out_err) != MD_OK) return -1;
        *out_server_us = st.server_ms * 1e3;
        if (st.rows != 1) {
            *out_err = md_asprintf("SELECT 1 returned %lld rows", (long long)st.rows);
            return -1;
        }
    } else if (sys == SYS_NATIVE) {
        if (native_run(nat, "SELECT 1", false, out_err) != 1) return -1;
    } else {
        PGresult *res = PQexec(pg, "SELECT 1");
        bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
        if (!ok) *out_err = md_asprintf("PostgreSQL: %s", PQresultErrorMessage(res));
        PQclear(res);
        if (!ok) return -1;
    }
    return (double)(bench_now_ns() - t0) / 1e3;
}

#define LATENCY_WARMUP 1000
#define LATENCY_BLOCK 500

static int cmd_latency(const opts *o) {
    bench_result res = {.name = "small_query_latency", .unit = "us", .target = 1.30, .higher_is_better = false};
    char *err = NULL;
    md_rclient *r = NULL;
    native nat = {NULL, NULL};
    PGconn *pg = NULL;
    size_t n = (size_t)o->count;
    double *lat[N_SYS]; /* this run's round trips, per system */
    for (int s = 0; s < N_SYS; s++) lat[s] = md_calloc(n, sizeof(double));
    double *srv = md_calloc(n, sizeof *srv), *srv50 = md_calloc((size_t)o->runs, sizeof *srv50);
    double *p50[N_SYS], *p99[N_SYS];
    for (int s = 0; s < N_SYS; s++) {
        p50[s] = md_calloc((size_t)o->runs, sizeof(double));
        p99[s] = md_calloc((size_t)o->runs, sizeof(double));
    }

    bench_say("%d sequential `SELECT 1` round trips per system and run, in blocks of %d taking turns; %d runs "
              "(median of the per-run percentiles); %d warm-up round trips each", o->count, LATENCY_BLOCK, o->runs,
              LATENCY_WARMUP);
    bench_say("ours: mdserver over WebSocket (one connection, result decoded); peer: duckdb_query in-process "
              "(%d threads, result fetched and freed)", o->threads);
    if (md_rclient_connect(o->url, o->token, &r, &err) != MD_OK) goto fail;
    if (native_open(&nat, o->db, o->threads, o->memory_limit, &err) != MD_OK) goto fail;
    if (!(pg = pg_connect(o->pg, &err))) goto fail;
    for (int s = 0; s < N_SYS; s++)
        for (int i = 0; i < LATENCY_WARMUP; i++)
            if (one_select1((latency_sys)s, r, &nat, pg, &srv[0], &err) < 0) goto fail;

    for (int run = 0; run < o->runs; run++) {
        /* Blocks of the systems take turns, so a change in the machine's state
         * (this VM's wake-up latency moves between ~10 and ~100 us) hits
         * every system alike. */
        for (size_t from = 0, b = 0; from < n; from += LATENCY_BLOCK, b++) {
            size_t to = from + LATENCY_BLOCK < n ? from + LATENCY_BLOCK : n;
            for (int k = 0; k < N_SYS; k++) {
                latency_sys s = (latency_sys)((k + b + (size_t)run) % N_SYS);
                for (size_t i = from; i < to; i++)
                    if ((lat[s][i] = one_select1(s, r, &nat, pg, &srv[i], &err)) < 0) goto fail;
            }
        }
        for (int s = 0; s < N_SYS; s++) {
            p99[s][run] = bench_percentile(lat[s], n, 99);
            p50[s][run] = bench_percentile(lat[s], n, 50);
        }
        srv50[run] = bench_percentile(srv, n, 50);
        bench_say("run %d/%d: p50 mdserver %.1f us, in-process %.1f us, postgres %.1f us, mdserver PING %.1f us",
                  run + 1, o->runs, p50[SYS_REMOTE][run], p50[SYS_NATIVE][run], p50[SYS_PG][run], p50[SYS_PING][run]);
    }
    double m50[N_SYS], m99[N_SYS];
    for (int s = 0; s < N_SYS; s++) {
        m50[s] = bench_median(p50[s], (size_t)o->runs);
        m99[s] = bench_median(p99[s], (size_t)o->runs);
        bench_say("%-18s p50 %8.1f us  p99 %8.1f us", sys_names[s], m50[s], m99[s]);
    }
    bench_say("mdserver PING is answered by mdserver itself (no duckling, no DuckDB): the WebSocket round trip under "
              "every query");
    double dl50 = bench_median(srv50, (size_t)o->runs);
    bench_say("of a mdserver SELECT 1: duckling from taking the request to its last frame p50 %.1f us "
              "(RESULT_END ms); the rest, %.1f us, is WebSocket, mdserver and the hops to and from the duckling",
              dl50, m50[SYS_REMOTE] - dl50);
    res.ours = m50[SYS_REMOTE];
    res.peer = m50[SYS_NATIVE];
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(extra, "count", o->count);
    cJSON_AddNumberToObject(extra, "runs", o->runs);
    cJSON_AddNumberToObject(extra, "ours_p99_us", m99[SYS_REMOTE]);
    cJSON_AddNumberToObject(extra, "peer_p99_us", m99[SYS_NATIVE]);
    cJSON_AddNumberToObject(extra, "pg_p50_us", m50[SYS_PG]);
    cJSON_AddNumberToObject(extra, "pg_p99_us", m99[SYS_PG]);
    cJSON_AddNumberToObject(extra, "ping_p50_us", m50[SYS_PING]);
    cJSON_AddNumberToObject(extra, "ping_p99_us", m99[SYS_PING]);
    cJSON_AddNumberToObject(extra, "duckling_p50_us", dl50);
    cJSON_AddStringToObject(extra, "peer_name", "duckdb in-process (duckdb_query)");
    cJSON_AddStringToObject(extra, "statistic", "p50");
    res.extra = extra;
    goto done;
fail:
    res.error = err ? err : "failed";
done:
    bench_report(&res, o->json);
    md_free(err);
    for (int s = 0; s < N_SYS; s++) md_free(lat[s]);
    md_free(srv);
    md_free(srv50);
    for (int s = 0; s < N_SYS; s++) {
        md_free(p50[s]);
        md_free(p99[s]);
    }
    if (pg) PQfinish(pg);
    native_close(&nat);
    md_rclient_close(&r);
    return res.error ? 1 : 0;
}

/* ---- main -------------------------------------------------------------------- */

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    opts o = {.threads = 0, .runs = 5, .count = 10000, .facts_rows = 10000000, .xfer_rows = 5000000,
              .storage_rows = 40000000};
    static const struct option longopts[] = {
        {"url", required_argument, 0, 'u'},        {"token", required_argument, 0, 't'},
        {"pg", required_argument, 0, 'p'},         {"db", required_argument, 0, 'd'},
        {"json", required_argument, 0, 'j'},       {"threads", required_argument, 0, 'T'},
        {"runs", required_argument, 0, 'r'},       {"count", required_argument, 0, 'c'},
        {"memory-limit", required_argument, 0, 'm'},
        {"facts-rows", required_argument, 0, 'F'}, {"xfer-rows", required_argument, 0, 'X'},
        {"data-dir", required_argument, 0, 'D'},   {"json-dir", required_argument, 0, 'J'},
        {"storage-rows", required_argument, 0, 'S'}, {0, 0, 0, 0}};
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'u': o.url = optarg; break;
        case 't': o.token = optarg; break;
        case 'p': o.pg = optarg; break;
        case 'd': o.db = optarg; break;
        case 'j': o.json = optarg; break;
        case 'T': o.threads = atoi(optarg); break;
        case 'r': o.runs = atoi(optarg); break;
        case 'c': o.count = atoi(optarg); break;
        case 'm': o.memory_limit = optarg; break;
        case 'F': o.facts_rows = atoll(optarg); break;
        case 'X': o.xfer_rows = atoll(optarg); break;
        case 'D': o.data_dir = optarg; break;
        case 'J': o.json_dir = optarg; break;
        case 'S': o.storage_rows = atol(optarg); break;
        default: usage(stderr); return 2;
        }
    }
    if (!o.url || !o.token || o.runs < 1 || o.count < 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(cmd, "setup") == 0) return cmd_setup(&o);
    if (strcmp(cmd, "overhead") == 0 && o.db && o.threads > 0) return cmd_overhead(&o);
    if (strcmp(cmd, "transfer") == 0 && o.pg) return cmd_transfer(&o);
    if (strcmp(cmd, "latency") == 0 && o.db && o.pg && o.threads > 0) return cmd_latency(&o);
    if (strcmp(cmd, "hybrid") == 0) return bench_hybrid_main(o.url, o.token, o.runs, o.json_dir);
    if (strcmp(cmd, "storage") == 0 && o.db && o.data_dir)
        return bench_storage_main(o.url, o.token, o.data_dir, o.db, o.storage_rows, o.runs, o.json_dir);
    usage(stderr);
    return 2;
}

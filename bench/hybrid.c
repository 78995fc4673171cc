/*
 * hybrid.c: `mdbench hybrid`: the dual-execution benchmarks, run through the
 * native dual engine (server/client/dual.c: the same router and splitter the page
 * runs) with an in-memory DuckDB as the local side and the server's `facts`
 * table (10M rows, made by `mdbench setup`) as the remote one.
 *
 *   hybrid_join       facts joined with a local dimension of 1,000 rows,
 *                     filtered to 100 of them.  Ours: the split plan.  Peers
 *                     in the same run: (b) the ideal, the same join all on
 *                     the server with the dimension already there (the
 *                     ratio's peer, target <= 1.2); (a) the naive plan,
 *                     every remote relation pulled whole (MD_SPLIT_FALLBACK).
 *                     Bytes moved by the bridges are reported too, against
 *                     the smaller side after its filters (target <= 2x).
 *   hybrid_aggregate  GROUP BY over facts with labels from a local table:
 *                     bytes the bridges moved vs the result's bytes
 *                     (target <= 2).
 *
 * Times are the median of `runs` runs, the sides alternating (ABBA); a
 * statement's time runs from the call to the last batch of its result on
 * the client.  Bytes are Arrow IPC bytes.
 */
#include "hybrid.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <duckdb.h>
#include "report.h"
#include "server/client/dual.h"
#include "server/client/rclient.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "stats.h"
#include "wasm/splitter.h"

#define JOIN_SQL                                                                                      \
    "SELECT d.name, f.id, f.v FROM facts f JOIN %s d ON f.k = d.k WHERE d.grp = 3"
#define AGG_SQL                                                                                       \
    "SELECT l.label, count(*) AS n, sum(f.v) AS sv FROM facts f JOIN labels l ON f.cat = l.cat GROUP BY l.label"

static double now_ms(void) { return (double)bench_now_ns() / 1e6; }

typedef struct counted {
    int64_t rows;
} counted;

static int count_batch(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err) {
    (void)schema;
    (void)out_err;
    ((counted *)ctx)->rows += batch->length;
    return MD_OK;
}

/* One run of `sql` through the dual engine: ms, rows, stats. */
static int run_dual(md_dual *d, const char *sql, double *ms, int64_t *rows, md_dual_stats *st, char **err) {
    counted c = {0};
    md_dual_hooks hooks = {.on_batch = count_batch, .ctx = &c};
    double t0 = now_ms();
    int rc = md_dual_run(d, sql, &hooks, st, err);
    *ms = now_ms() - t0;
    *rows = c.rows;
    return rc;
}

static int run_remote(md_rclient *r, const char *sql, double *ms, int64_t *rows, uint64_t *bytes, char **err) {
    counted c = {0};
    md_rclient_hooks hooks = {.on_batch = count_batch, .ctx = &c};
    md_rclient_stats st;
    double t0 = now_ms();
    int rc = md_rclient_query(r, sql, &hooks, &st, err);
    *ms = now_ms() - t0;
    *rows = c.rows;
    *bytes = st.bytes;
    return rc;
}

static void json_path(char *out, size_t n, const char *dir, const char *name) {
    if (dir) snprintf(out, n, "%s/%s.json", dir, name);
    else out[0] = 0;
}

int bench_hybrid_main(const char *url, const char *token, int runs, const char *json_dir) {
    char *err = NULL;
    md_rclient *r = NULL, *r2 = NULL;
    md_dual *dual = NULL;
    duckdb_database db = NULL;
    duckdb_connection local = NULL;
    int status = 1;
    char path[512];
    double *ours = md_calloc((size_t)runs, sizeof(double)), *ideal = md_calloc((size_t)runs, sizeof(double));
    double *naive = md_calloc((size_t)runs, sizeof(double));

    int rc = md_rclient_connect(url, token, &r, &err);
    if (rc == MD_OK) rc = md_rclient_connect(url, token, &r2, &err);
    if (rc != MD_OK) goto out;
    duckdb_open(NULL, &db);
    duckdb_connect(db, &local);
    duckdb_result res;
    const char *setup =
        "CREATE TABLE ldim AS SELECT (k * 10)::INTEGER AS k, 'name_' || k AS name, (k % 10)::INTEGER AS grp "
        "FROM range(1000) t(k); "
        "CREATE TABLE labels AS SELECT 'cat_' || c AS cat, 'label ' || (c % 12) AS label FROM range(37) t(c)";
    if (duckdb_query(local, setup, &res) == DuckDBError) {
        err = md_strdup(duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        rc = MD_ESQL;
        goto out;
    }
    duckdb_destroy_result(&res);
    /* the ideal's dimension: the same rows, already on the server */
    md_rclient_stats rst;
    rc = md_rclient_query(r2, "CREATE OR REPLACE TABLE rdim AS SELECT (k * 10)::INTEGER AS k, 'name_' || k AS name, "
                              "(k % 10)::INTEGER AS grp FROM range(1000) t(k)",
                          NULL, &rst, &err);
    if (rc == MD_OK) rc = md_dual_create(local, r, NULL, &dual, &err);
    if (rc != MD_OK) goto out;

    /* ---- hybrid_join ---- */
    char *ours_sql = md_asprintf(JOIN_SQL, "ldim");
    char *ideal_sql = md_asprintf(JOIN_SQL, "rdim");
    md_dual_stats st, nst;
    int64_t rows_ours = 0, rows_ideal = 0, rows_naive = 0;
    uint64_t result_bytes = 0, moved = 0, naive_moved = 0;
    double ms;
    /* warm-up: each side once */
    rc = run_dual(dual, ours_sql, &ms, &rows_ours, &st, &err);
    if (rc == MD_OK) rc = run_remote(r2, ideal_sql, &ms, &rows_ideal, &result_bytes, &err);
    for (int i = 0; rc == MD_OK && i < runs; i++) {
        int flip = i % 2; /* ABBA */
        for (int side = 0; side < 2 && rc == MD_OK; side++) {
            if ((side ^ flip) == 0) {
                rc = run_dual(dual, ours_sql, &ours[i], &rows_ours, &st, &err);
                moved = st.bytes_up + st.bytes_down;
            } else {
                rc = run_remote(r2, ideal_sql, &ideal[i], &rows_ideal, &result_bytes, &err);
            }
        }
    }
    int naive_runs = runs < 3 ? runs : 3;
    md_dual_set_split_flags(dual, MD_SPLIT_FALLBACK);
    for (int i = 0; rc == MD_OK && i < naive_runs; i++) {
        rc = run_dual(dual, ours_sql, &naive[i], &rows_naive, &nst, &err);
        naive_moved = nst.bytes_up + nst.bytes_down;
    }
    md_dual_set_split_flags(dual, 0);
    md_free(ours_sql);
    md_free(ideal_sql);
    if (rc == MD_OK && (rows_ours != rows_ideal || rows_naive != rows_ideal)) {
        err = md_asprintf("the plans disagree: %lld rows split, %lld ideal, %lld naive", (long long)rows_ours,
                          (long long)rows_ideal, (long long)rows_naive);
        rc = MD_EINVAL;
    }
    /* the smaller side after filters: the dimension's 100 rows as Arrow */
    uint64_t smaller = 0;
    if (rc == MD_OK) {
        int64_t n;
        uint64_t b;
        double t;
        rc = run_remote(r2, "SELECT * FROM rdim WHERE grp = 3", &t, &n, &b, &err);
        smaller = b;
    }
    if (rc != MD_OK) goto out;
    {
        double o = bench_median(ours, (size_t)runs), p = bench_median(ideal, (size_t)runs);
        double nv = bench_median(naive, (size_t)naive_runs);
        bench_say("join: %lld result rows; split %.1f ms, ideal (all on the server) %.1f ms, naive (pull facts whole) "
                  "%.1f ms",
                  (long long)rows_ours, o, p, nv);
        bench_say("bytes moved: split %llu, naive %llu; the smaller side after filters: %llu (ratio %.2f, target <= 2)",
                  (unsigned long long)moved, (unsigned long long)naive_moved, (unsigned long long)smaller,
                  smaller ? (double)moved / (double)smaller : NAN);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "result_rows", (double)rows_ours);
        cJSON_AddNumberToObject(x, "naive_ms", nv);
        cJSON_AddNumberToObject(x, "bytes_moved", (double)moved);
        cJSON_AddNumberToObject(x, "naive_bytes_moved", (double)naive_moved);
        cJSON_AddNumberToObject(x, "smaller_side_bytes", (double)smaller);
        cJSON_AddNumberToObject(x, "bytes_ratio", smaller ? (double)moved / (double)smaller : 0);
        cJSON_AddBoolToObject(x, "bytes_pass", smaller && moved <= 2 * smaller);
        cJSON_AddNumberToObject(x, "result_bytes", (double)result_bytes);
        bench_result br = {"hybrid_join", "ms", o, p, 1.2, false, NULL, x};
        json_path(path, sizeof path, json_dir, "hybrid_join");
        bench_report(&br, json_dir ? path : NULL);
    }

    /* ---- hybrid_aggregate ---- */
    {
        int64_t rows = 0;
        uint64_t moved_agg = 0, result = 0;
        double t = 0;
        double *times = md_calloc((size_t)runs, sizeof(double));
        for (int i = 0; rc == MD_OK && i < runs; i++) {
            rc = run_dual(dual, AGG_SQL, &times[i], &rows, &st, &err);
            moved_agg = st.bytes_up + st.bytes_down;
        }
        /* the result's size: the same result fetched as Arrow */
        if (rc == MD_OK) {
            int64_t n;
            rc = run_remote(r2,
                            "SELECT 'label ' || (c % 12) AS label, count(*) AS n, sum(v) AS sv FROM facts f "
                            "JOIN (SELECT 'cat_' || c AS cat, c FROM range(37) t(c)) l ON f.cat = l.cat GROUP BY 1",
                            &t, &n, &result, &err);
            if (rc == MD_OK && n != rows) {
                err = md_asprintf("the aggregate gave %lld rows split and %lld on the server", (long long)rows,
                                  (long long)n);
                rc = MD_EINVAL;
            }
        }
        if (rc == MD_OK) {
            bench_say("aggregate: %lld groups in %.1f ms (median); bridges moved %llu bytes, the result is %llu bytes",
                      (long long)rows, bench_median(times, (size_t)runs), (unsigned long long)moved_agg,
                      (unsigned long long)result);
            cJSON *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "groups", (double)rows);
            cJSON_AddNumberToObject(x, "ms", bench_median(times, (size_t)runs));
            bench_result br = {"hybrid_aggregate", "bytes", (double)moved_agg, (double)result, 2.0, false, NULL, x};
            json_path(path, sizeof path, json_dir, "hybrid_aggregate");
            bench_report(&br, json_dir ? path : NULL);
        }
        md_free(times);
    }
    status = rc == MD_OK ? 0 : 1;
out:
    if (rc != MD_OK) bench_say("error: %s", err ? err : md_strerror(rc));
    md_free(err);
    md_dual_destroy(&dual);
    md_rclient_close(&r);
    md_rclient_close(&r2);
    if (local) duckdb_disconnect(&local);
    if (db) duckdb_close(&db);
    md_free(ours);
    md_free(ideal);
    md_free(naive);
    return status;
}

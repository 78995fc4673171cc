/*
 * storage.c: the snapshot-storage benchmarks of `mdbench storage`, run by
 * bench/run.sh against the user's my_db once setup made it large (the facts,
 * dim and xfer tables: about 1 GB).
 *
 *   snapshot_small_commit  one-row INSERTs through mdserver, each acknowledged
 *                          only after its snapshot is committed: median
 *                          latency against the same INSERT plus CHECKPOINT on
 *                          a plain copy of the file in-process (target ratio
 *                          <= 3); the new bytes each commit stores are
 *                          reported beside it (target <= 2 MiB).
 *   snapshot_history_cost  after 100 such commits: the whole store against
 *                          the plain file (target <= 1.25).
 *
 * The ratio of the first line is latency; the JSON of both carries the byte
 * figures.
 */
#include "storage.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "duckdb.h"
#include "md_alloc.h"
#include "md_error.h"
#include "remote.h"
#include "report.h"
#include "stats.h"
#include "storage/objstore.h"

#define HISTORY_COMMITS 100
#define MiB (1024.0 * 1024.0)

static int add_size(void *ctx, const md_hash *name, uint64_t size, int64_t stored_at) {
    *(uint64_t *)ctx += size;
    return 0;
}

/* Bytes of every object in the server's store (storage/objstore.h). */
static uint64_t store_bytes(const char *data_dir) {
    char *root = md_asprintf("%s/store", data_dir);
    md_objstore *store = NULL;
    uint64_t n = 0;
    if (md_objstore_open_dir(root, &store, NULL) == MD_OK) md_objstore_list(store, add_size, &n);
    md_objstore_close(&store);
    md_free(root);
    return n;
}

static uint64_t file_bytes(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static int plain_query(duckdb_connection c, const char *sql, char **out_err) {
    duckdb_result r;
    int rc = MD_OK;
    if (duckdb_query(c, sql, &r) == DuckDBError) {
        *out_err = md_asprintf("%s: %s", sql, duckdb_result_error(&r));
        rc = MD_ESQL;
    }
    duckdb_destroy_result(&r);
    return rc;
}

int bench_storage_main(const char *url, const char *token, const char *data_dir, const char *db_copy, int runs,
                       const char *json_dir) {
    char *err = NULL;
    bench_remote *r = NULL;
    duckdb_database db = NULL;
    duckdb_connection conn = NULL;
    int commits = runs * 3 < 20 ? 20 : runs * 3;
    double *ours = md_calloc((size_t)commits, sizeof *ours), *peer = md_calloc((size_t)commits, sizeof *peer);
    double *added = md_calloc((size_t)commits, sizeof *added);
    char *work = md_asprintf("%s/users/bench/databases/my_db.duckdb", data_dir);
    int rc = bench_remote_connect(url, token, &r, &err);
    bench_query_stats qs;
    if (rc == MD_OK) rc = bench_remote_query(r, "CREATE OR REPLACE TABLE commits(i INTEGER, ts TIMESTAMP)", NULL, &qs, &err);
    if (rc == MD_OK && duckdb_open(db_copy, &db) == DuckDBError) {
        err = md_asprintf("cannot open %s", db_copy);
        rc = MD_EIO;
    }
    if (rc == MD_OK && duckdb_connect(db, &conn) == DuckDBError) rc = MD_EIO;
    if (rc == MD_OK) rc = plain_query(conn, "CREATE OR REPLACE TABLE commits(i INTEGER, ts TIMESTAMP); CHECKPOINT", &err);
    bench_say("snapshot_small_commit: %d one-row INSERT commits into my_db (%.0f MiB), taking turns with the same "
              "INSERT + CHECKPOINT on a plain copy in-process",
              commits, (double)file_bytes(work) / MiB);
    for (int i = 0; i < commits && rc == MD_OK; i++) {
        char *sql = md_asprintf("INSERT INTO commits VALUES (%d, now())", i);
        uint64_t before = store_bytes(data_dir);
        int64_t t0 = bench_now_ns();
        rc = bench_remote_query(r, sql, NULL, &qs, &err);
        ours[i] = bench_elapsed_s(t0) * 1e3;
        added[i] = (double)(store_bytes(data_dir) - before);
        if (rc == MD_OK) {
            char *both = md_asprintf("%s; CHECKPOINT", sql);
            t0 = bench_now_ns();
            rc = plain_query(conn, both, &err);
            peer[i] = bench_elapsed_s(t0) * 1e3;
            md_free(both);
        }
        md_free(sql);
    }
    double ours_ms = rc == MD_OK ? bench_median(ours, (size_t)commits) : 0;
    double peer_ms = rc == MD_OK ? bench_median(peer, (size_t)commits) : 0;
    double added_med = rc == MD_OK ? bench_median(added, (size_t)commits) : 0;
    double added_max = 0;
    for (int i = 0; i < commits; i++)
        if (added[i] > added_max) added_max = added[i];
    if (rc == MD_OK)
        bench_say("per commit: mdserver %.2f ms (snapshot included), plain INSERT + CHECKPOINT %.2f ms; stored "
                  "%.2f MiB median, %.2f MiB at most (target <= 2 MiB)",
                  ours_ms, peer_ms, added_med / MiB, added_max / MiB);
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(extra, "commits", commits);
    cJSON_AddNumberToObject(extra, "bytes_added_median", added_med);
    cJSON_AddNumberToObject(extra, "bytes_added_max", added_max);
    cJSON_AddBoolToObject(extra, "bytes_within_2MiB", added_max <= 2 * MiB);
    cJSON_AddStringToObject(extra, "peer_name", "INSERT + CHECKPOINT on a plain DuckDB file, in-process");
    char *json = json_dir ? md_asprintf("%s/snapshot_small_commit.json", json_dir) : NULL;
    bench_result small = {.name = "snapshot_small_commit", .unit = "ms", .ours = ours_ms, .peer = peer_ms,
                          .target = 3.0, .higher_is_better = false, .error = rc == MD_OK ? NULL : err,
                          .extra = extra};
    bench_report(&small, json);
    md_free(json);

    /* history: HISTORY_COMMITS more commits, then the whole store against the file */
    if (rc == MD_OK) bench_say("snapshot_history_cost: %d more one-row commits", HISTORY_COMMITS);
    for (int i = 0; i < HISTORY_COMMITS && rc == MD_OK; i++) {
        char *sql = md_asprintf("INSERT INTO commits VALUES (%d, now())", commits + i);
        rc = bench_remote_query(r, sql, NULL, &qs, &err);
        md_free(sql);
    }
    double store = rc == MD_OK ? (double)store_bytes(data_dir) : 0, file = (double)file_bytes(work);
    if (rc == MD_OK)
        bench_say("store %.0f MiB (every snapshot since setup, retained 7 days) against the working file %.0f MiB",
                  store / MiB, file / MiB);
    extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(extra, "store_bytes", store);
    cJSON_AddNumberToObject(extra, "file_bytes", file);
    cJSON_AddNumberToObject(extra, "commits_after_setup", commits + HISTORY_COMMITS);
    cJSON_AddStringToObject(extra, "peer_name", "the plain DuckDB file");
    json = json_dir ? md_asprintf("%s/snapshot_history_cost.json", json_dir) : NULL;
    bench_result hist = {.name = "snapshot_history_cost", .unit = "B", .ours = store, .peer = file, .target = 1.25,
                         .higher_is_better = false, .error = rc == MD_OK ? NULL : err, .extra = extra};
    bench_report(&hist, json);
    md_free(json);

    if (conn) duckdb_disconnect(&conn);
    if (db) duckdb_close(&db);
    bench_remote_close(&r);
    md_free(ours);
    md_free(peer);
    md_free(added);
    md_free(work);
    md_free(err);
    return rc == MD_OK ? 0 : 1;
}

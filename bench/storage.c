/*
 * storage.c: the snapshot-storage benchmarks of `mdbench storage`, run by
 * bench/run.sh.  They make a database of their own through mdserver,
 * `storage_bench`, of about 1 GB (--rows rows of four columns), and a plain
 * byte copy of its file for the in-process peer (the database is detached,
 * so the file is closed and checkpointed, copied, and attached again).
 *
 *   snapshot_small_commit  one-row INSERTs, each acknowledged only after its
 *                          snapshot is committed: median latency against the
 *                          same INSERT plus CHECKPOINT on the plain copy
 *                          in-process (target ratio <= 3); the new bytes each
 *                          commit stores are reported beside it (target
 *                          <= 2 MiB).
 *   snapshot_history_cost  after 100 more commits: the bytes of every object
 *                          the database's snapshots reference against the
 *                          plain file (target <= 1.25).
 *   time_travel_attach     ATTACH 'md:storage_bench' AS tt (SNAPSHOT n), n 100
 *                          commits back, plus a count(*) through it: warm
 *                          (the snapshot's file cached) against ATTACH
 *                          (READ_ONLY) + count(*) of the plain copy
 *                          in-process; the target is the warm
 *                          <= 100 ms, shown as the ratio 100 ms / peer.  Cold
 *                          (cache emptied: the file built from the store) and
 *                          from a neighbour (the snapshot next to a cached
 *                          one: copy and patch) are in the JSON.
 *   clone_cost             CREATE DATABASE … FROM storage_bench against a
 *                          physical copy of the file (what a clone costs
 *                          without zero-copy); the target is the issue's
 *                          < 50 ms, shown as 50 ms / peer; new store bytes
 *                          (target ~0) in the JSON.
 */
#include "storage.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <duckdb.h>
#include "report.h"
#include "server/client/rclient.h"
#include "server/storage/dbmeta.h"
#include "server/storage/manifest.h"
#include "server/storage/objstore.h"
#include "server/storage/snapshot.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "stats.h"

#define HISTORY_COMMITS 100
#define BACK 100 /* time travel: this many commits back */
#define MiB (1024.0 * 1024.0)
#define DB "storage_bench"
#define OWNER "bench"

typedef struct ctx {
    const char *data_dir, *plain, *json_dir;
    int runs;
    md_rclient *r;
    duckdb_database db;
    duckdb_connection conn;
    char *work, *cache_dir;
    char *err;
} ctx;

static int add_size(void *c, const md_hash *name, uint64_t size, int64_t stored_at) {
    *(uint64_t *)c += size;
    return 0;
}

/* Bytes of every object in the server's store. */
static uint64_t store_bytes(const char *data_dir) {
    char *root = md_asprintf("%s/store", data_dir);
    md_objstore *store = NULL;
    uint64_t n = 0;
    if (md_objstore_open_dir(root, &store, NULL) == MD_OK) md_objstore_list(store, add_size, &n);
    md_objstore_close(&store);
    md_free(root);
    return n;
}

typedef struct hashes {
    md_hash *v;
    size_t n, cap;
    int64_t *ids;
    size_t nids;
} hashes;

static void push(hashes *h, const md_hash *x) {
    if (h->n == h->cap) h->v = md_realloc(h->v, (h->cap = h->cap ? h->cap * 2 : 256) * sizeof *h->v);
    h->v[h->n++] = *x;
}

static void on_snapshot(void *c, const md_snapshot_row *row) {
    hashes *h = c;
    push(h, &row->manifest);
    h->ids = md_realloc(h->ids, (h->nids + 1) * sizeof *h->ids);
    h->ids[h->nids++] = row->id;
}

static void on_db(void *c, const md_db_row *row) { *(int64_t *)c = row->id; }

static int by_hash(const void *a, const void *b) { return memcmp(a, b, sizeof(md_hash)); }

/* The snapshot ids of DB, oldest first (*out_ids, caller frees), and the
 * bytes of the distinct objects they reference (manifests and blocks). */
static int history(const char *data_dir, int64_t **out_ids, size_t *out_n, uint64_t *out_bytes) {
    md_dbmeta *m = NULL;
    md_objstore *store = NULL;
    char *root = md_asprintf("%s/store", data_dir);
    int64_t id = 0;
    hashes h = {0};
    int rc = md_dbmeta_open(data_dir, &m, NULL);
    if (rc == MD_OK) rc = md_objstore_open_dir(root, &store, NULL);
    if (rc == MD_OK) rc = md_dbmeta_db_get(m, OWNER, DB, on_db, &id);
    if (rc == MD_OK) rc = md_dbmeta_snapshot_list(m, id, on_snapshot, &h);
    size_t manifests = h.n;
    for (size_t i = 0; i < manifests && rc == MD_OK; i++) {
        md_manifest *man = NULL;
        rc = md_snapshot_load_manifest(store, &h.v[i], &man, NULL);
        for (uint32_t e = 0; rc == MD_OK && e < man->count; e++) push(&h, &man->entries[e]);
        md_manifest_free(&man);
    }
    uint64_t bytes = 0;
    if (rc == MD_OK) {
        qsort(h.v, h.n, sizeof *h.v, by_hash);
        for (size_t i = 0; i < h.n; i++) {
            if (i > 0 && md_hash_equal(&h.v[i], &h.v[i - 1])) continue;
            uint64_t size = 0;
            if (md_objstore_stat(store, &h.v[i], &size) == MD_OK) bytes += size;
        }
    }
    md_objstore_close(&store);
    md_dbmeta_close(&m);
    md_free(root);
    md_free(h.v);
    if (rc != MD_OK) {
        md_free(h.ids);
        return rc;
    }
    *out_ids = h.ids;
    *out_n = h.nids;
    *out_bytes = bytes;
    return MD_OK;
}

static uint64_t file_bytes(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static int plain_query(ctx *c, const char *sql) {
    duckdb_result r;
    int rc = MD_OK;
    if (duckdb_query(c->conn, sql, &r) == DuckDBError) {
        c->err = md_asprintf("%s: %s", sql, duckdb_result_error(&r));
        rc = MD_ESQL;
    }
    duckdb_destroy_result(&r);
    return rc;
}

static int remote(ctx *c, const char *sql) {
    md_rclient_stats qs;
    return md_rclient_query(c->r, sql, NULL, &qs, &c->err);
}

static int copy_file(const char *src, const char *dst) {
    int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = in >= 0 && out >= 0 ? MD_OK : MD_EIO;
    char *buf = md_malloc(1 << 20);
    ssize_t k;
    while (rc == MD_OK && (k = read(in, buf, 1 << 20)) > 0)
        if (write(out, buf, (size_t)k) != k) rc = MD_EIO;
    if (rc == MD_OK && fsync(out) != 0) rc = MD_EIO;
    md_free(buf);
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    return rc;
}

static void empty_cache(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *p = md_asprintf("%s/%s", dir, e->d_name);
        unlink(p);
        md_free(p);
    }
    if (d) closedir(d);
}

static void report(ctx *c, const char *name, const char *unit, double ours, double peer, double target,
                   cJSON *extra, int rc) {
    char *json = c->json_dir ? md_asprintf("%s/%s.json", c->json_dir, name) : NULL;
    bench_result res = {.name = name, .unit = unit, .ours = ours, .peer = peer, .target = target,
                        .higher_is_better = false, .error = rc == MD_OK ? NULL : c->err ? c->err : "failed",
                        .extra = extra};
    bench_report(&res, json);
    md_free(json);
}

/* The database (about 27 bytes a row) and its plain copy. */
static int setup(ctx *c, long rows) {
    int64_t t0 = bench_now_ns();
    char *gen = md_asprintf("CREATE TABLE " DB ".big AS SELECT i, (i * 7919) %% 1000003 AS k, md5(i::VARCHAR) AS h, "
                            "random() AS r FROM range(%ld) t(i)",
                            rows);
    bench_say("storage setup: CREATE DATABASE " DB " with %ld rows (about 1 GB)", rows);
    int rc = remote(c, "DROP DATABASE IF EXISTS " DB);
    if (rc == MD_OK) rc = remote(c, "CREATE DATABASE " DB);
    if (rc == MD_OK) rc = remote(c, gen);
    if (rc == MD_OK) rc = remote(c, "CREATE TABLE " DB ".commits(i INTEGER, ts TIMESTAMP)");
    md_free(gen);
    /* a clean file (closed, checkpointed) to copy for the in-process side */
    if (rc == MD_OK) rc = remote(c, "DETACH " DB);
    if (rc == MD_OK && copy_file(c->work, c->plain) != MD_OK) {
        c->err = md_asprintf("cannot copy %s to %s", c->work, c->plain);
        rc = MD_EIO;
    }
    if (rc == MD_OK) rc = remote(c, "ATTACH 'md:" DB "'");
    if (rc == MD_OK && duckdb_open(c->plain, &c->db) == DuckDBError) {
        c->err = md_asprintf("cannot open %s", c->plain);
        rc = MD_EIO;
    }
    if (rc == MD_OK && duckdb_connect(c->db, &c->conn) == DuckDBError) rc = MD_EIO;
    if (rc == MD_OK) rc = plain_query(c, "SET checkpoint_threshold = '1TB'"); /* both sides checkpoint when told */
    if (rc == MD_OK)
        bench_say("database file %.0f MiB, made and snapshotted in %.1f s", (double)file_bytes(c->work) / MiB,
                  bench_elapsed_s(t0));
    return rc;
}

static int small_commits(ctx *c, int *io_commit) {
    int commits = c->runs * 3 < 20 ? 20 : c->runs * 3;
    double *ours = md_calloc((size_t)commits, sizeof *ours), *peer = md_calloc((size_t)commits, sizeof *peer);
    double *added = md_calloc((size_t)commits, sizeof *added);
    bench_say("snapshot_small_commit: %d one-row INSERT commits into " DB " (%.0f MiB), taking turns with the "
              "same INSERT + CHECKPOINT on the plain copy in-process",
              commits, (double)file_bytes(c->work) / MiB);
    int rc = MD_OK;
    for (int i = 0; i < commits && rc == MD_OK; i++) {
        char *sql = md_asprintf("INSERT INTO " DB ".commits VALUES (%d, now())", (*io_commit)++);
        char *both = md_asprintf("INSERT INTO commits VALUES (%d, now()); CHECKPOINT", i);
        uint64_t before = store_bytes(c->data_dir);
        int64_t t0 = bench_now_ns();
        rc = remote(c, sql);
        ours[i] = bench_elapsed_s(t0) * 1e3;
        added[i] = (double)(store_bytes(c->data_dir) - before);
        if (rc == MD_OK) {
            t0 = bench_now_ns();
            rc = plain_query(c, both);
            peer[i] = bench_elapsed_s(t0) * 1e3;
        }
        md_free(sql);
        md_free(both);
    }
    double ours_ms = rc == MD_OK ? bench_median(ours, (size_t)commits) : 0;
    double peer_ms = rc == MD_OK ? bench_median(peer, (size_t)commits) : 0;
    double added_med = rc == MD_OK ? bench_median(added, (size_t)commits) : 0, added_max = 0, slowest = 0;
    for (int i = 0; i < commits; i++) {
        if (added[i] > added_max) added_max = added[i];
        if (ours[i] > slowest) slowest = ours[i];
    }
    if (rc == MD_OK)
        bench_say("per commit: mdserver %.2f ms median, %.2f ms slowest (snapshot included); plain INSERT + "
                  "CHECKPOINT %.2f ms; stored %.2f MiB median, %.2f MiB at most (target <= 2 MiB)",
                  ours_ms, slowest, peer_ms, added_med / MiB, added_max / MiB);
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(extra, "commits", commits);
    cJSON_AddNumberToObject(extra, "database_bytes", (double)file_bytes(c->work));
    cJSON_AddNumberToObject(extra, "slowest_ms", slowest);
    cJSON_AddNumberToObject(extra, "bytes_added_median", added_med);
    cJSON_AddNumberToObject(extra, "bytes_added_max", added_max);
    cJSON_AddBoolToObject(extra, "bytes_within_2MiB", added_max <= 2 * MiB);
    cJSON_AddStringToObject(extra, "peer_name", "INSERT + CHECKPOINT on a plain DuckDB file, in-process");
    report(c, "snapshot_small_commit", "ms", ours_ms, peer_ms, 3.0, extra, rc);
    md_free(ours);
    md_free(peer);
    md_free(added);
    return rc;
}

static int history_cost(ctx *c, int *io_commit, int64_t **out_ids, size_t *out_n) {
    bench_say("snapshot_history_cost: %d more one-row commits", HISTORY_COMMITS);
    int rc = MD_OK;
    for (int i = 0; i < HISTORY_COMMITS && rc == MD_OK; i++) {
        char *sql = md_asprintf("INSERT INTO " DB ".commits VALUES (%d, now())", (*io_commit)++);
        rc = remote(c, sql);
        md_free(sql);
    }
    uint64_t bytes = 0;
    if (rc == MD_OK && history(c->data_dir, out_ids, out_n, &bytes) != MD_OK) {
        c->err = md_strdup("cannot read the database's snapshots");
        rc = MD_EIO;
    }
    double file = (double)file_bytes(c->work);
    if (rc == MD_OK)
        bench_say("%zu snapshots reference %.0f MiB of objects; the working file is %.0f MiB", *out_n,
                  (double)bytes / MiB, file / MiB);
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(extra, "snapshots", rc == MD_OK ? (double)*out_n : 0);
    cJSON_AddStringToObject(extra, "peer_name", "the plain DuckDB file");
    report(c, "snapshot_history_cost", "B", (double)bytes, file, 1.25, extra, rc);
    return rc;
}

static int time_travel(ctx *c, const int64_t *ids, size_t n) {
    int rc = MD_OK;
    if (n < BACK + 2) {
        c->err = md_asprintf("only %zu snapshots", n);
        rc = MD_EINVAL;
    }
    int64_t target = rc == MD_OK ? ids[n - 1 - BACK] : 0, next = rc == MD_OK ? ids[n - BACK] : 0;
    int cold_runs = c->runs < 3 ? c->runs : 3;
    double *cold = md_calloc((size_t)c->runs, sizeof *cold), *warm = md_calloc((size_t)c->runs, sizeof *warm);
    double *near = md_calloc((size_t)c->runs, sizeof *near), *peer = md_calloc((size_t)c->runs, sizeof *peer);
    char *att = md_asprintf("ATTACH 'md:" DB "' AS tt (SNAPSHOT %lld); SELECT count(*) FROM tt.big",
                            (long long)target);
    char *att_next = md_asprintf("ATTACH 'md:" DB "' AS tt (SNAPSHOT %lld); SELECT count(*) FROM tt.big",
                                 (long long)next);
    char *peer_sql = md_asprintf("ATTACH '%s' AS p (READ_ONLY); SELECT count(*) FROM p.big; DETACH p", c->plain);
    if (rc == MD_OK)
        bench_say("time_travel_attach: snapshot %lld, %d commits back; cold %d times, then warm and from a "
                  "neighbour %d times",
                  (long long)target, BACK, cold_runs, c->runs);
    /* the peer needs its own database: the plain copy is open in c->db */
    duckdb_database pdb = NULL;
    duckdb_connection pconn = NULL;
    if (rc == MD_OK && (duckdb_open(NULL, &pdb) == DuckDBError || duckdb_connect(pdb, &pconn) == DuckDBError))
        rc = MD_EIO;
    if (rc == MD_OK) { /* the in-process peer cannot open the file twice */
        duckdb_disconnect(&c->conn);
        duckdb_close(&c->db);
    }
    for (int i = 0; i < cold_runs && rc == MD_OK; i++) {
        empty_cache(c->cache_dir);
        int64_t t0 = bench_now_ns();
        rc = remote(c, att);
        cold[i] = bench_elapsed_s(t0) * 1e3;
        if (rc == MD_OK) rc = remote(c, "DETACH tt");
    }
    for (int i = 0; i < c->runs && rc == MD_OK; i++) {
        int64_t t0 = bench_now_ns();
        rc = remote(c, att);
        warm[i] = bench_elapsed_s(t0) * 1e3;
        if (rc == MD_OK) rc = remote(c, "DETACH tt");
        /* the next snapshot, with this one's file cached: copy and patch */
        if (rc == MD_OK) {
            empty_cache(c->cache_dir);
            rc = remote(c, att);
            if (rc == MD_OK) rc = remote(c, "DETACH tt");
        }
        if (rc == MD_OK) {
            t0 = bench_now_ns();
            rc = remote(c, att_next);
            near[i] = bench_elapsed_s(t0) * 1e3;
            if (rc == MD_OK) rc = remote(c, "DETACH tt");
        }
        if (rc == MD_OK) {
            duckdb_result res;
            t0 = bench_now_ns();
            if (duckdb_query(pconn, peer_sql, &res) == DuckDBError) {
                c->err = md_asprintf("%s: %s", peer_sql, duckdb_result_error(&res));
                rc = MD_ESQL;
            }
            peer[i] = bench_elapsed_s(t0) * 1e3;
            duckdb_destroy_result(&res);
        }
        /* leave the target cached for the next warm run */
        if (rc == MD_OK) rc = remote(c, att);
        if (rc == MD_OK) rc = remote(c, "DETACH tt");
    }
    double w = rc == MD_OK ? bench_median(warm, (size_t)c->runs) : 0;
    double p = rc == MD_OK ? bench_median(peer, (size_t)c->runs) : 0;
    double cm = rc == MD_OK ? bench_median(cold, (size_t)cold_runs) : 0;
    double nm = rc == MD_OK ? bench_median(near, (size_t)c->runs) : 0;
    if (rc == MD_OK)
        bench_say("warm %.1f ms (target <= 100 ms), from a neighbour %.0f ms, cold %.0f ms; plain ATTACH + count "
                  "in-process %.1f ms",
                  w, nm, cm, p);
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(extra, "snapshot", (double)target);
    cJSON_AddNumberToObject(extra, "commits_back", BACK);
    cJSON_AddNumberToObject(extra, "cold_ms", cm);
    cJSON_AddNumberToObject(extra, "neighbour_ms", nm);
    cJSON_AddNumberToObject(extra, "warm_target_ms", 100);
    cJSON_AddBoolToObject(extra, "warm_within_target", rc == MD_OK && w <= 100);
    cJSON_AddStringToObject(extra, "peer_name", "ATTACH (READ_ONLY) + count(*) of the plain file, in-process");
    report(c, "time_travel_attach", "ms", w, p, p > 0 ? 100.0 / p : 1, extra, rc);
    if (pconn) duckdb_disconnect(&pconn);
    if (pdb) duckdb_close(&pdb);
    md_free(cold);
    md_free(warm);
    md_free(near);
    md_free(peer);
    md_free(att);
    md_free(att_next);
    md_free(peer_sql);
    return rc;
}

static int clone_cost(ctx *c) {
    double *ours = md_calloc((size_t)c->runs, sizeof *ours), *peer = md_calloc((size_t)c->runs, sizeof *peer);
    double added_max = 0;
    int rc = MD_OK;
    bench_say("clone_cost: CREATE DATABASE … FROM " DB ", %d times, against a physical copy of its file", c->runs);
    char *copy = md_asprintf("%s.copy", c->plain);
    for (int i = 0; i < c->runs && rc == MD_OK; i++) {
        char *sql = md_asprintf("CREATE DATABASE clone_%d FROM " DB, i);
        uint64_t before = store_bytes(c->data_dir);
        int64_t t0 = bench_now_ns();
        rc = remote(c, sql);
        ours[i] = bench_elapsed_s(t0) * 1e3;
        double added = (double)(store_bytes(c->data_dir) - before);
        if (added > added_max) added_max = added;
        md_free(sql);
        if (rc == MD_OK) {
            t0 = bench_now_ns();
            if (copy_file(c->plain, copy) != MD_OK) {
                c->err = md_strdup("cannot copy the plain file");
                rc = MD_EIO;
            }
            peer[i] = bench_elapsed_s(t0) * 1e3;
            unlink(copy);
        }
    }
    for (int i = 0; i < c->runs; i++) {
        char *drop = md_asprintf("DROP DATABASE IF EXISTS clone_%d", i);
        remote(c, drop);
        md_free(drop);
    }
    double o = rc == MD_OK ? bench_median(ours, (size_t)c->runs) : 0;
    double p = rc == MD_OK ? bench_median(peer, (size_t)c->runs) : 0;
    if (rc == MD_OK)
        bench_say("clone %.1f ms (target < 50 ms), %.0f new store bytes at most; copying the file %.0f ms", o,
                  added_max, p);
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(extra, "bytes_added_max", added_max);
    cJSON_AddNumberToObject(extra, "target_ms", 50);
    cJSON_AddStringToObject(extra, "peer_name", "a physical copy of the database file (read, write, fsync)");
    report(c, "clone_cost", "ms", o, p, p > 0 ? 50.0 / p : 1, extra, rc);
    md_free(copy);
    md_free(ours);
    md_free(peer);
    return rc;
}

int bench_storage_main(const char *url, const char *token, const char *data_dir, const char *plain, long rows,
                       int runs, const char *json_dir) {
    ctx c = {.data_dir = data_dir, .plain = plain, .json_dir = json_dir, .runs = runs > 0 ? runs : 1};
    c.work = md_asprintf("%s/users/" OWNER "/databases/" DB ".duckdb", data_dir);
    c.cache_dir = md_asprintf("%s/users/" OWNER "/databases/.snapshots", data_dir);
    int rc = md_rclient_connect(url, token, &c.r, &c.err);
    if (rc == MD_OK) rc = setup(&c, rows);
    int commit = 0;
    int64_t *ids = NULL;
    size_t nids = 0;
    /* every benchmark reports, measured or not: each reports itself once it
     * runs; what cannot run for want of an earlier step says so here */
    int r1 = rc, r2 = rc, r3 = rc, r4 = rc;
    if (rc == MD_OK) r1 = small_commits(&c, &commit);
    else report(&c, "snapshot_small_commit", "ms", 0, 0, 3.0, NULL, rc);
    if (r1 == MD_OK) r2 = history_cost(&c, &commit, &ids, &nids);
    else report(&c, "snapshot_history_cost", "B", 0, 0, 1.25, NULL, r2 = r1);
    if (r2 == MD_OK) r3 = time_travel(&c, ids, nids);
    else report(&c, "time_travel_attach", "ms", 0, 0, 1, NULL, r3 = r2);
    if (rc == MD_OK) r4 = clone_cost(&c);
    else report(&c, "clone_cost", "ms", 0, 0, 1, NULL, rc);
    if (c.conn) duckdb_disconnect(&c.conn);
    if (c.db) duckdb_close(&c.db);
    md_rclient_close(&c.r);
    md_free(ids);
    md_free(c.work);
    md_free(c.cache_dir);
    md_free(c.err);
    return r1 == MD_OK && r2 == MD_OK && r3 == MD_OK && r4 == MD_OK ? 0 : 1;
}

/*
 * dbmeta.c: databases, snapshots and leases in sqlite3 (dbmeta.h).
 *
 * Times are UTC text with microseconds ("YYYY-MM-DD HH:MM:SS.ffffff"),
 * produced by the callers' clock (sqlite's 'now' has only milliseconds), so
 * that snapshots taken in the same millisecond keep their order; lease
 * expiry is a number (ms since the epoch).
 */
#include "server/storage/dbmeta.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "server/storage/dbmeta_int.h"
#include "shared/md_alloc.h"
#include "server/sqlite_file.h"
#include "shared/md_error.h"

static const md_dbmeta_ops sq_ops;

static const char *schema_sql =
    "CREATE TABLE IF NOT EXISTS databases("
    "  id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,"
    "  created_at TEXT NOT NULL, dropped_at TEXT,"
    "  retention_days INTEGER NOT NULL DEFAULT 7,"
    "  head INTEGER REFERENCES snapshots(id));"
    "CREATE UNIQUE INDEX IF NOT EXISTS databases_live ON databases(owner, lower(name)) WHERE dropped_at IS NULL;"
    "CREATE TABLE IF NOT EXISTS snapshots("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, db_id INTEGER NOT NULL REFERENCES databases(id),"
    "  name TEXT, manifest TEXT NOT NULL, file_size INTEGER NOT NULL, bytes_added INTEGER NOT NULL,"
    "  created_at TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS snapshots_db ON snapshots(db_id, id);"
    "CREATE TABLE IF NOT EXISTS leases("
    "  db_id INTEGER PRIMARY KEY REFERENCES databases(id), holder TEXT NOT NULL, expires_ms INTEGER NOT NULL);";

void md__dbmeta_now_text(char out[32]) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%06ld", (long)tv.tv_usec);
}

static int64_t now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int md_dbmeta_open(const char *data_dir, md_dbmeta **out, char **out_err) {
    sqlite3 *db = NULL;
    char *schema = md_asprintf("%s%s", schema_sql, md__dbmeta_shares_schema);
    int rc = md_sqlite_open(data_dir, "meta.sqlite3", "the database metadata", schema, &db, out_err);
    md_free(schema);
    if (rc != MD_OK) return MD_EIO;
    sq_meta *m = md_calloc(1, sizeof *m);
    m->base.ops = &sq_ops;
    m->db = db;
    pthread_mutex_init(&m->mu, NULL);
    *out = &m->base;
    return MD_OK;
}

static void sq_close(md_dbmeta *base) {
    sq_meta *m = (sq_meta *)base;
    sqlite3_close(m->db);
    pthread_mutex_destroy(&m->mu);
    md_free(m);
}

int md_dbmeta_valid_name(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 63 || (name[0] >= '0' && name[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
    }
    return 1;
}

/* ---- statement helpers (the caller holds m->mu) ------------------------------- */

sqlite3_stmt *md__dbmeta_prep(sq_meta *m, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(m->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "mdserver: storage metadata: %s\n", sqlite3_errmsg(m->db));
        return NULL;
    }
    return st;
}

int md__dbmeta_exec(sq_meta *m, const char *sql) {
    return sqlite3_exec(m->db, sql, NULL, NULL, NULL) == SQLITE_OK ? MD_OK : MD_EIO;
}

static const char *col_text(sqlite3_stmt *st, int i) {
    return (const char *)sqlite3_column_text(st, i);
}

#define DB_COLUMNS "id, owner, name, created_at, dropped_at, retention_days, coalesce(head, 0)"

static void db_row_of(sqlite3_stmt *st, md_db_row *r) {
    r->id = sqlite3_column_int64(st, 0);
    r->owner = col_text(st, 1);
    r->name = col_text(st, 2);
    r->created_at = col_text(st, 3);
    r->dropped_at = col_text(st, 4);
    r->retention_days = sqlite3_column_int(st, 5);
    r->head = sqlite3_column_int64(st, 6);
}

#define SNAP_COLUMNS "id, db_id, name, manifest, file_size, bytes_added, created_at"

static void snap_row_of(sqlite3_stmt *st, md_snapshot_row *r) {
    r->id = sqlite3_column_int64(st, 0);
    r->db_id = sqlite3_column_int64(st, 1);
    r->name = col_text(st, 2);
    const char *hex = col_text(st, 3);
    if (!hex || md_hash_parse(hex, &r->manifest) != MD_OK) memset(&r->manifest, 0, sizeof r->manifest);
    r->file_size = (uint64_t)sqlite3_column_int64(st, 4);
    r->bytes_added = (uint64_t)sqlite3_column_int64(st, 5);
    r->created_at = col_text(st, 6);
}

/* Step `st` (prepared and bound by the caller, who holds m->mu) and hand
 * each row to emit(st, sink); finalizes st.  want_one: stop after the first
 * row, MD_ENOT_FOUND when there is none. */
typedef void (*emit_fn)(sqlite3_stmt *st, const void *sink);

static int each_row(sqlite3_stmt *st, int want_one, emit_fn emit, const void *sink) {
    if (!st) return MD_EIO;
    int s, found = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        emit(st, sink);
        found = 1;
        if (want_one) break;
    }
    int rc = s == SQLITE_ROW || s == SQLITE_DONE ? MD_OK : MD_EIO;
    sqlite3_finalize(st);
    if (rc == MD_OK && want_one && !found) rc = MD_ENOT_FOUND;
    return rc;
}

typedef struct db_sink {
    void (*cb)(void *ctx, const md_db_row *row);
    void *ctx;
} db_sink;

static void emit_db(sqlite3_stmt *st, const void *sink) {
    const db_sink *k = sink;
    md_db_row r;
    db_row_of(st, &r);
    k->cb(k->ctx, &r);
}

typedef struct snap_sink {
    void (*cb)(void *ctx, const md_snapshot_row *row);
    void *ctx;
} snap_sink;

static void emit_snap(sqlite3_stmt *st, const void *sink) {
    const snap_sink *k = sink;
    md_snapshot_row r;
    snap_row_of(st, &r);
    k->cb(k->ctx, &r);
}

/* ---- databases ------------------------------------------------------------------ */

static int sq_db_owner(md_dbmeta *base, int64_t db_id, char **out_owner) {
    sq_meta *m = (sq_meta *)base;
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, "SELECT owner FROM databases WHERE id = ?");
    int rc = MD_EIO;
    if (st) {
        sqlite3_bind_int64(st, 1, db_id);
        int s = sqlite3_step(st);
        rc = s == SQLITE_ROW ? MD_OK : s == SQLITE_DONE ? MD_ENOT_FOUND : MD_EIO;
        if (rc == MD_OK) *out_owner = md_strdup(col_text(st, 0));
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int sq_manifest_owned(md_dbmeta *base, const char *owner, const md_hash *manifest) {
    sq_meta *m = (sq_meta *)base;
    char hex[MD_HASH_HEX_SIZE + 1];
    md_hash_hex(manifest, hex);
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, "SELECT 1 FROM snapshots s JOIN databases d ON d.id = s.db_id "
                               "WHERE d.owner = ? AND s.manifest = ? LIMIT 1");
    int rc = MD_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, hex, -1, SQLITE_TRANSIENT);
        int s = sqlite3_step(st);
        rc = s == SQLITE_ROW ? MD_OK : s == SQLITE_DONE ? MD_ENOT_FOUND : MD_EIO;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int sq_db_create(md_dbmeta *base, const char *owner, const char *name, int64_t from_snapshot, int64_t *out_id) {
    sq_meta *m = (sq_meta *)base;
    if (!md_dbmeta_valid_name(name)) return MD_EINVAL;
    char now[32];
    md__dbmeta_now_text(now);
    pthread_mutex_lock(&m->mu);
    int rc = md__dbmeta_exec(m, "BEGIN IMMEDIATE");
    if (rc == MD_OK && from_snapshot > 0) {
        sqlite3_stmt *st = md__dbmeta_prep(m, "SELECT 1 FROM snapshots WHERE id = ?");
        sqlite3_bind_int64(st, 1, from_snapshot);
        rc = !st ? MD_EIO : sqlite3_step(st) == SQLITE_ROW ? MD_OK : MD_ENOT_FOUND;
        sqlite3_finalize(st);
    }
    if (rc == MD_OK) {
        sqlite3_stmt *st = md__dbmeta_prep(m, "INSERT INTO databases(owner, name, created_at, head) VALUES (?, ?, ?, ?)");
        if (!st) rc = MD_EIO;
        else {
            sqlite3_bind_text(st, 1, owner, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
            if (from_snapshot > 0) sqlite3_bind_int64(st, 4, from_snapshot);
            else sqlite3_bind_null(st, 4);
            int s = sqlite3_step(st);
            rc = s == SQLITE_DONE ? MD_OK : s == SQLITE_CONSTRAINT ? MD_EEXISTS : MD_EIO;
            sqlite3_finalize(st);
        }
    }
    if (rc == MD_OK) {
        int64_t id = sqlite3_last_insert_rowid(m->db);
        rc = md__dbmeta_exec(m, "COMMIT");
        if (rc == MD_OK) *out_id = id;
    }
    if (rc != MD_OK) md__dbmeta_exec(m, "ROLLBACK");
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int db_query(sq_meta *m, const char *sql, const char *a, const char *b,
                    void (*cb)(void *ctx, const md_db_row *row), void *ctx, int want_one) {
    db_sink sink = {cb, ctx};
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, sql);
    if (st && a) sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
    if (st && b) sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
    int rc = each_row(st, want_one, emit_db, &sink);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int sq_db_get(md_dbmeta *base, const char *owner, const char *name,
                     void (*cb)(void *ctx, const md_db_row *row), void *ctx) {
    sq_meta *m = (sq_meta *)base;
    return db_query(m, "SELECT " DB_COLUMNS " FROM databases WHERE owner = ? AND lower(name) = lower(?) "
                       "AND dropped_at IS NULL", owner, name, cb, ctx, 1);
}

static int sq_db_list(md_dbmeta *base, const char *owner, void (*cb)(void *ctx, const md_db_row *row), void *ctx) {
    sq_meta *m = (sq_meta *)base;
    if (owner)
        return db_query(m, "SELECT " DB_COLUMNS " FROM databases WHERE owner = ? AND dropped_at IS NULL ORDER BY name",
                        owner, NULL, cb, ctx, 0);
    return db_query(m, "SELECT " DB_COLUMNS " FROM databases WHERE dropped_at IS NULL ORDER BY owner, name", NULL,
                    NULL, cb, ctx, 0);
}

static int sq_db_list_dropped(md_dbmeta *base, const char *owner, void (*cb)(void *ctx, const md_db_row *row),
                              void *ctx) {
    sq_meta *m = (sq_meta *)base;
    char now[32];
    md__dbmeta_now_text(now);
    return db_query(m, "SELECT " DB_COLUMNS " FROM databases WHERE owner = ? AND dropped_at IS NOT NULL "
                       "AND julianday(dropped_at) + retention_days > julianday(?) ORDER BY name, dropped_at",
                    owner, now, cb, ctx, 0);
}

/* Run one UPDATE with (text, text) parameters; MD_ENOT_FOUND when it changed nothing. */
static int update2(sq_meta *m, const char *sql, const char *a, const char *b, const char *c) {
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, sql);
    int rc = MD_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
        if (c) sqlite3_bind_text(st, 3, c, -1, SQLITE_TRANSIENT);
        int s = sqlite3_step(st);
        rc = s == SQLITE_DONE ? (sqlite3_changes(m->db) ? MD_OK : MD_ENOT_FOUND)
             : s == SQLITE_CONSTRAINT ? MD_EEXISTS : MD_EIO;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int sq_db_drop(md_dbmeta *base, const char *owner, const char *name) {
    sq_meta *m = (sq_meta *)base;
    char now[32];
    md__dbmeta_now_text(now);
    return update2(m, "UPDATE databases SET dropped_at = ?3 WHERE owner = ?1 AND lower(name) = lower(?2) "
                      "AND dropped_at IS NULL", owner, name, now);
}

static int sq_db_undrop(md_dbmeta *base, const char *owner, const char *name) {
    sq_meta *m = (sq_meta *)base;
    char now[32]; /* the same clock as dropped_at (sqlite's 'now' has only milliseconds) */
    md__dbmeta_now_text(now);
    return update2(m, "UPDATE databases SET dropped_at = NULL WHERE id = ("
                      "  SELECT id FROM databases WHERE owner = ?1 AND lower(name) = lower(?2) "
                      "  AND dropped_at IS NOT NULL "
                      "  AND julianday(dropped_at) + retention_days > julianday(?3) "
                      "  ORDER BY dropped_at DESC LIMIT 1)", owner, name, now);
}

static int sq_db_set_retention(md_dbmeta *base, int64_t db_id, int days) {
    sq_meta *m = (sq_meta *)base;
    if (days < 0) return MD_EINVAL;
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, "UPDATE databases SET retention_days = ? WHERE id = ?");
    int rc = MD_EIO;
    if (st) {
        sqlite3_bind_int(st, 1, days);
        sqlite3_bind_int64(st, 2, db_id);
        rc = sqlite3_step(st) == SQLITE_DONE ? (sqlite3_changes(m->db) ? MD_OK : MD_ENOT_FOUND) : MD_EIO;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* ---- leases ------------------------------------------------------------------- */

/* The current holder of db_id's lease if it has not expired (md_strdup'd) or NULL. */
static char *lease_holder(sq_meta *m, int64_t db_id, int *out_rc) {
    sqlite3_stmt *st = md__dbmeta_prep(m, "SELECT holder FROM leases WHERE db_id = ? AND expires_ms > ?");
    if (!st) {
        *out_rc = MD_EIO;
        return NULL;
    }
    sqlite3_bind_int64(st, 1, db_id);
    sqlite3_bind_int64(st, 2, now_ms());
    int s = sqlite3_step(st);
    char *holder = s == SQLITE_ROW ? md_strdup(col_text(st, 0)) : NULL;
    *out_rc = s == SQLITE_ROW || s == SQLITE_DONE ? MD_OK : MD_EIO;
    sqlite3_finalize(st);
    return holder;
}

static int sq_lease_acquire(md_dbmeta *base, int64_t db_id, const char *holder, int64_t ttl_ms, char **out_holder) {
    sq_meta *m = (sq_meta *)base;
    pthread_mutex_lock(&m->mu);
    int rc = md__dbmeta_exec(m, "BEGIN IMMEDIATE");
    char *current = rc == MD_OK ? lease_holder(m, db_id, &rc) : NULL;
    if (rc == MD_OK && current && strcmp(current, holder) != 0) {
        rc = MD_ELOCKED;
        if (out_holder) {
            *out_holder = current;
            current = NULL;
        }
    }
    if (rc == MD_OK) {
        sqlite3_stmt *st = md__dbmeta_prep(m, "INSERT INTO leases(db_id, holder, expires_ms) VALUES (?, ?, ?) "
                                   "ON CONFLICT(db_id) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms");
        rc = MD_EIO;
        if (st) {
            sqlite3_bind_int64(st, 1, db_id);
            sqlite3_bind_text(st, 2, holder, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 3, now_ms() + ttl_ms);
            rc = sqlite3_step(st) == SQLITE_DONE ? MD_OK : MD_EIO;
            sqlite3_finalize(st);
        }
    }
    if (rc == MD_OK) rc = md__dbmeta_exec(m, "COMMIT");
    if (rc != MD_OK) md__dbmeta_exec(m, "ROLLBACK");
    pthread_mutex_unlock(&m->mu);
    md_free(current);
    return rc;
}

static int sq_lease_renew(md_dbmeta *base, int64_t db_id, const char *holder, int64_t ttl_ms) {
    sq_meta *m = (sq_meta *)base;
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, "UPDATE leases SET expires_ms = ? WHERE db_id = ? AND holder = ? AND expires_ms > ?");
    int rc = MD_EIO;
    if (st) {
        int64_t now = now_ms();
        sqlite3_bind_int64(st, 1, now + ttl_ms);
        sqlite3_bind_int64(st, 2, db_id);
        sqlite3_bind_text(st, 3, holder, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, now);
        rc = sqlite3_step(st) == SQLITE_DONE ? (sqlite3_changes(m->db) == 1 ? MD_OK : MD_ELOCKED) : MD_EIO;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int sq_lease_release(md_dbmeta *base, int64_t db_id, const char *holder) {
    sq_meta *m = (sq_meta *)base;
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, "DELETE FROM leases WHERE db_id = ? AND holder = ?");
    int rc = MD_EIO;
    if (st) {
        sqlite3_bind_int64(st, 1, db_id);
        sqlite3_bind_text(st, 2, holder, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? MD_OK : MD_EIO;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* ---- snapshots ------------------------------------------------------------------ */

static int sq_snapshot_commit(md_dbmeta *base, int64_t db_id, const char *holder, int64_t expected_head,
                              const md_hash *manifest, uint64_t file_size, uint64_t bytes_added, const char *name,
                              int64_t *out_id) {
    sq_meta *m = (sq_meta *)base;
    char hex[MD_HASH_HEX_SIZE + 1], now[32];
    md_hash_hex(manifest, hex);
    md__dbmeta_now_text(now);
    pthread_mutex_lock(&m->mu);
    int rc = md__dbmeta_exec(m, "BEGIN IMMEDIATE");
    char *current = rc == MD_OK ? lease_holder(m, db_id, &rc) : NULL;
    if (rc == MD_OK && (!current || strcmp(current, holder) != 0)) rc = MD_ELOCKED;
    md_free(current);
    int64_t id = 0;
    if (rc == MD_OK) {
        sqlite3_stmt *st = md__dbmeta_prep(m, "INSERT INTO snapshots(db_id, name, manifest, file_size, bytes_added, created_at) "
                                   "VALUES (?, ?, ?, ?, ?, ?)");
        rc = MD_EIO;
        if (st) {
            sqlite3_bind_int64(st, 1, db_id);
            if (name) sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
            else sqlite3_bind_null(st, 2);
            sqlite3_bind_text(st, 3, hex, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 4, (int64_t)file_size);
            sqlite3_bind_int64(st, 5, (int64_t)bytes_added);
            sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
            rc = sqlite3_step(st) == SQLITE_DONE ? MD_OK : MD_EIO;
            sqlite3_finalize(st);
            id = sqlite3_last_insert_rowid(m->db);
        }
    }
    if (rc == MD_OK) {
        /* compare-and-set: a writer whose base is no longer the head must not hide newer snapshots */
        sqlite3_stmt *st = md__dbmeta_prep(m, "UPDATE databases SET head = ? WHERE id = ? AND coalesce(head, 0) = ?");
        rc = MD_EIO;
        if (st) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, db_id);
            sqlite3_bind_int64(st, 3, expected_head);
            if (sqlite3_step(st) == SQLITE_DONE) rc = sqlite3_changes(m->db) == 1 ? MD_OK : MD_ELOCKED;
            sqlite3_finalize(st);
        }
    }
    if (rc == MD_OK) rc = md__dbmeta_exec(m, "COMMIT");
    if (rc != MD_OK) md__dbmeta_exec(m, "ROLLBACK");
    pthread_mutex_unlock(&m->mu);
    if (rc == MD_OK) *out_id = id;
    return rc;
}

static int sq_snapshot_mark(md_dbmeta *base, int64_t db_id, const char *name, int64_t *out_id) {
    sq_meta *m = (sq_meta *)base;
    char now[32];
    md__dbmeta_now_text(now);
    pthread_mutex_lock(&m->mu);
    int rc = md__dbmeta_exec(m, "BEGIN IMMEDIATE");
    if (rc == MD_OK && name) {
        sqlite3_stmt *st = md__dbmeta_prep(m, "SELECT 1 FROM snapshots WHERE db_id = ? AND name = ?");
        rc = MD_EIO;
        if (st) {
            sqlite3_bind_int64(st, 1, db_id);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
            int step = sqlite3_step(st);
            rc = step == SQLITE_ROW ? MD_EEXISTS : step == SQLITE_DONE ? MD_OK : MD_EIO;
            sqlite3_finalize(st);
        }
    }
    if (rc == MD_OK) {
        sqlite3_stmt *st = md__dbmeta_prep(m, "INSERT INTO snapshots(db_id, name, manifest, file_size, bytes_added, created_at) "
                                   "SELECT d.id, ?, s.manifest, s.file_size, 0, ? FROM databases d "
                                   "JOIN snapshots s ON s.id = d.head WHERE d.id = ? AND d.dropped_at IS NULL");
        rc = MD_EIO;
        if (st) {
            if (name) sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
            else sqlite3_bind_null(st, 1);
            sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 3, db_id);
            if (sqlite3_step(st) == SQLITE_DONE) rc = sqlite3_changes(m->db) == 1 ? MD_OK : MD_ENOT_FOUND;
            sqlite3_finalize(st);
        }
    }
    int64_t id = sqlite3_last_insert_rowid(m->db);
    if (rc == MD_OK) rc = md__dbmeta_exec(m, "COMMIT");
    if (rc != MD_OK) md__dbmeta_exec(m, "ROLLBACK");
    pthread_mutex_unlock(&m->mu);
    if (rc == MD_OK) *out_id = id;
    return rc;
}

static int snap_query(sq_meta *m, const char *sql, int64_t a, const char *b,
                      void (*cb)(void *ctx, const md_snapshot_row *row), void *ctx, int want_one) {
    snap_sink sink = {cb, ctx};
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, sql);
    if (st) sqlite3_bind_int64(st, 1, a);
    if (st && b) sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
    int rc = each_row(st, want_one, emit_snap, &sink);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int sq_snapshot_get(md_dbmeta *base, int64_t id, void (*cb)(void *ctx, const md_snapshot_row *row), void *ctx) {
    sq_meta *m = (sq_meta *)base;
    return snap_query(m, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE id = ?", id, NULL, cb, ctx, 1);
}

static void take_id(void *ctx, const md_snapshot_row *row) {
    *(int64_t *)ctx = row->id;
}

static int sq_snapshot_at(md_dbmeta *base, int64_t db_id, const char *utc_time, int64_t *out_id) {
    sq_meta *m = (sq_meta *)base;
    int64_t id = 0;
    int rc = snap_query(m, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE db_id = ? AND created_at <= ? "
                           "ORDER BY id DESC LIMIT 1", db_id, utc_time, take_id, &id, 1);
    if (rc == MD_OK) *out_id = id;
    return rc;
}

static int sq_snapshot_list(md_dbmeta *base, int64_t db_id, void (*cb)(void *ctx, const md_snapshot_row *row),
                            void *ctx) {
    sq_meta *m = (sq_meta *)base;
    if (db_id <= 0)
        return snap_query(m, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE ? <= 0 ORDER BY id", db_id, NULL, cb, ctx, 0);
    return snap_query(m, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE db_id = ? ORDER BY id", db_id, NULL, cb, ctx, 0);
}

/* The ids of retained snapshots (?1 = now): the rule of md_dbmeta_gc_roots. */
#define RETAINED_IDS                                                                              \
    "SELECT s.id FROM snapshots s JOIN databases d ON d.id = s.db_id "                            \
    "WHERE (d.dropped_at IS NULL OR julianday(d.dropped_at) + d.retention_days > julianday(?1)) " \
    "  AND (s.id = d.head OR s.name IS NOT NULL "                                                 \
    "       OR julianday(s.created_at) + d.retention_days > julianday(?1)) "                      \
    "UNION SELECT c.head FROM databases c WHERE c.head IS NOT NULL "                              \
    "  AND (c.dropped_at IS NULL OR julianday(c.dropped_at) + c.retention_days > julianday(?1)) " \
    "UNION SELECT snapshot FROM shares WHERE snapshot IS NOT NULL AND dropped_at IS NULL"

static int sq_expire(md_dbmeta *base, int dry_run, int64_t *out_expired) {
    sq_meta *m = (sq_meta *)base;
    char now[32];
    md__dbmeta_now_text(now);
    pthread_mutex_lock(&m->mu);
    int rc = md__dbmeta_exec(m, "BEGIN IMMEDIATE");
    int64_t n = 0;
    if (rc == MD_OK) {
        sqlite3_stmt *st = md__dbmeta_prep(m, "SELECT count(*) FROM snapshots WHERE id NOT IN (" RETAINED_IDS ")");
        rc = MD_EIO;
        if (st) {
            sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_ROW) {
                n = sqlite3_column_int64(st, 0);
                rc = MD_OK;
            }
            sqlite3_finalize(st);
        }
    }
    /* databases dropped past their retention lose their head first (it is
     * not retained, and the head column references it) */
    static const char *const steps[] = {
        "UPDATE databases SET head = NULL WHERE head IS NOT NULL AND dropped_at IS NOT NULL "
        "  AND julianday(dropped_at) + retention_days <= julianday(?1) "
        "  AND head NOT IN (" RETAINED_IDS ")",
        "DELETE FROM snapshots WHERE id NOT IN (" RETAINED_IDS ")",
    };
    for (size_t i = 0; !dry_run && rc == MD_OK && i < sizeof steps / sizeof *steps; i++) {
        sqlite3_stmt *st = md__dbmeta_prep(m, steps[i]);
        rc = MD_EIO;
        if (st) {
            sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
            rc = sqlite3_step(st) == SQLITE_DONE ? MD_OK : MD_EIO;
            sqlite3_finalize(st);
        }
    }
    if (rc == MD_OK) rc = md__dbmeta_exec(m, dry_run ? "ROLLBACK" : "COMMIT");
    else md__dbmeta_exec(m, "ROLLBACK");
    pthread_mutex_unlock(&m->mu);
    if (rc == MD_OK) *out_expired = n;
    return rc;
}

static int sq_gc_roots(md_dbmeta *base, void (*cb)(void *ctx, const md_hash *manifest), void *ctx) {
    sq_meta *m = (sq_meta *)base;
    static const char *sql = "SELECT DISTINCT manifest FROM snapshots WHERE id IN (" RETAINED_IDS ")";
    char now[32]; /* the clock of created_at and dropped_at */
    md__dbmeta_now_text(now);
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, sql);
    int rc = st ? MD_OK : MD_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            md_hash h;
            if (md_hash_parse(col_text(st, 0), &h) == MD_OK) cb(ctx, &h);
        }
        if (s != SQLITE_DONE) rc = MD_EIO;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static const md_dbmeta_ops sq_ops = {
    .db_create = sq_db_create,
    .db_get = sq_db_get,
    .db_list = sq_db_list,
    .db_list_dropped = sq_db_list_dropped,
    .db_drop = sq_db_drop,
    .db_undrop = sq_db_undrop,
    .db_set_retention = sq_db_set_retention,
    .db_owner = sq_db_owner,
    .lease_acquire = sq_lease_acquire,
    .lease_renew = sq_lease_renew,
    .lease_release = sq_lease_release,
    .snapshot_commit = sq_snapshot_commit,
    .snapshot_mark = sq_snapshot_mark,
    .snapshot_get = sq_snapshot_get,
    .snapshot_at = sq_snapshot_at,
    .snapshot_list = sq_snapshot_list,
    .manifest_owned = sq_manifest_owned,
    .gc_roots = sq_gc_roots,
    .expire = sq_expire,
    .share_create = md__dbmeta_share_create,
    .share_update = md__dbmeta_share_update,
    .share_drop = md__dbmeta_share_drop,
    .share_get = md__dbmeta_share_get,
    .share_list = md__dbmeta_share_list,
    .share_find = md__dbmeta_share_find,
    .share_grant = md__dbmeta_share_grant,
    .share_grants = md__dbmeta_share_grants,
    .share_granted = md__dbmeta_share_granted,
    .share_mount = md__dbmeta_share_mount,
    .share_mounts = md__dbmeta_share_mounts,
    .close = sq_close,
};

/* ---- the interface: every backend through its table ---------------------------- */

void md_dbmeta_close(md_dbmeta **pm) {
    if (!pm || !*pm) return;
    (*pm)->ops->close(*pm);
    *pm = NULL;
}

int md_dbmeta_db_create(md_dbmeta *m, const char *owner, const char *name, int64_t from_snapshot, int64_t *out_id) {
    return m->ops->db_create(m, owner, name, from_snapshot, out_id);
}

int md_dbmeta_db_get(md_dbmeta *m, const char *owner, const char *name,
                     void (*cb)(void *ctx, const md_db_row *row), void *ctx) {
    return m->ops->db_get(m, owner, name, cb, ctx);
}

int md_dbmeta_db_list(md_dbmeta *m, const char *owner, void (*cb)(void *ctx, const md_db_row *row), void *ctx) {
    return m->ops->db_list(m, owner, cb, ctx);
}

int md_dbmeta_db_list_dropped(md_dbmeta *m, const char *owner, void (*cb)(void *ctx, const md_db_row *row),
                              void *ctx) {
    return m->ops->db_list_dropped(m, owner, cb, ctx);
}

int md_dbmeta_db_drop(md_dbmeta *m, const char *owner, const char *name) {
    return m->ops->db_drop(m, owner, name);
}

int md_dbmeta_db_undrop(md_dbmeta *m, const char *owner, const char *name) {
    return m->ops->db_undrop(m, owner, name);
}

int md_dbmeta_db_set_retention(md_dbmeta *m, int64_t db_id, int days) {
    return m->ops->db_set_retention(m, db_id, days);
}

int md_dbmeta_db_owner(md_dbmeta *m, int64_t db_id, char **out_owner) {
    return m->ops->db_owner(m, db_id, out_owner);
}

int md_dbmeta_lease_acquire(md_dbmeta *m, int64_t db_id, const char *holder, int64_t ttl_ms, char **out_holder) {
    return m->ops->lease_acquire(m, db_id, holder, ttl_ms, out_holder);
}

int md_dbmeta_lease_renew(md_dbmeta *m, int64_t db_id, const char *holder, int64_t ttl_ms) {
    return m->ops->lease_renew(m, db_id, holder, ttl_ms);
}

int md_dbmeta_lease_release(md_dbmeta *m, int64_t db_id, const char *holder) {
    return m->ops->lease_release(m, db_id, holder);
}

int md_dbmeta_snapshot_commit(md_dbmeta *m, int64_t db_id, const char *holder, int64_t expected_head,
                              const md_hash *manifest, uint64_t file_size, uint64_t bytes_added, const char *name,
                              int64_t *out_id) {
    return m->ops->snapshot_commit(m, db_id, holder, expected_head, manifest, file_size, bytes_added, name, out_id);
}

int md_dbmeta_snapshot_mark(md_dbmeta *m, int64_t db_id, const char *name, int64_t *out_id) {
    return m->ops->snapshot_mark(m, db_id, name, out_id);
}

int md_dbmeta_snapshot_get(md_dbmeta *m, int64_t id, void (*cb)(void *ctx, const md_snapshot_row *row), void *ctx) {
    return m->ops->snapshot_get(m, id, cb, ctx);
}

int md_dbmeta_snapshot_at(md_dbmeta *m, int64_t db_id, const char *utc_time, int64_t *out_id) {
    return m->ops->snapshot_at(m, db_id, utc_time, out_id);
}

int md_dbmeta_snapshot_list(md_dbmeta *m, int64_t db_id, void (*cb)(void *ctx, const md_snapshot_row *row),
                            void *ctx) {
    return m->ops->snapshot_list(m, db_id, cb, ctx);
}

int md_dbmeta_manifest_owned(md_dbmeta *m, const char *owner, const md_hash *manifest) {
    return m->ops->manifest_owned(m, owner, manifest);
}

int md_dbmeta_gc_roots(md_dbmeta *m, void (*cb)(void *ctx, const md_hash *manifest), void *ctx) {
    return m->ops->gc_roots(m, cb, ctx);
}

int md_dbmeta_expire(md_dbmeta *m, int dry_run, int64_t *out_expired) {
    return m->ops->expire(m, dry_run, out_expired);
}

int md_dbmeta_share_create(md_dbmeta *m, const md_share_row *def, int replace, md_share_row_cb cb, void *ctx) {
    return m->ops->share_create(m, def, replace, cb, ctx);
}

int md_dbmeta_share_update(md_dbmeta *m, const char *owner, const char *name, int64_t snapshot) {
    return m->ops->share_update(m, owner, name, snapshot);
}

int md_dbmeta_share_drop(md_dbmeta *m, const char *owner, const char *name) {
    return m->ops->share_drop(m, owner, name);
}

int md_dbmeta_share_get(md_dbmeta *m, const char *owner, const char *name, md_share_row_cb cb, void *ctx) {
    return m->ops->share_get(m, owner, name, cb, ctx);
}

int md_dbmeta_share_list(md_dbmeta *m, const char *owner, md_share_row_cb cb, void *ctx) {
    return m->ops->share_list(m, owner, cb, ctx);
}

int md_dbmeta_share_find(md_dbmeta *m, const char *db_name, const char *url_id, md_share_row_cb cb, void *ctx) {
    return m->ops->share_find(m, db_name, url_id, cb, ctx);
}

int md_dbmeta_share_grant(md_dbmeta *m, int64_t share_id, const char *grantee, int grant) {
    return m->ops->share_grant(m, share_id, grantee, grant);
}

int md_dbmeta_share_grants(md_dbmeta *m, int64_t share_id, md_pair_cb cb, void *ctx) {
    return m->ops->share_grants(m, share_id, cb, ctx);
}

int md_dbmeta_share_granted(md_dbmeta *m, int64_t share_id, const char *grantee) {
    return m->ops->share_granted(m, share_id, grantee);
}

int md_dbmeta_share_mount(md_dbmeta *m, const char *user, const char *alias, const char *url) {
    return m->ops->share_mount(m, user, alias, url);
}

int md_dbmeta_share_mounts(md_dbmeta *m, const char *user, md_pair_cb cb, void *ctx) {
    return m->ops->share_mounts(m, user, cb, ctx);
}

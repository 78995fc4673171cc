/*
 * meta.c: users and tokens in sqlite3 (see meta.h).
 */
#include "meta.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "server/sqlite_file.h"

struct md_meta {
    sqlite3 *db;
    pthread_mutex_t mu;
};

static const char *schema_sql =
    "CREATE TABLE IF NOT EXISTS users("
    "  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    "  is_admin INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S','now')));"
    "CREATE TABLE IF NOT EXISTS tokens("
    "  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),"
    "  hash TEXT UNIQUE NOT NULL, prefix TEXT NOT NULL, read_only INTEGER NOT NULL,"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S','now')),"
    "  revoked_at TEXT);"
    "PRAGMA user_version = 1;";

int md_meta_open(const char *data_dir, md_meta **out, char **out_err) {
    sqlite3 *db = NULL;
    if (md_sqlite_open(data_dir, "meta.sqlite3", "metadata store", schema_sql, &db, out_err) != MD_OK) return MD_EIO;
    md_meta *m = md_calloc(1, sizeof *m);
    m->db = db;
    pthread_mutex_init(&m->mu, NULL);
    *out = m;
    return MD_OK;
}

void md_meta_close(md_meta **pm) {
    md_meta *m = *pm;
    if (!m) return;
    sqlite3_close(m->db);
    pthread_mutex_destroy(&m->mu);
    md_free(m);
    *pm = NULL;
}

int md_meta_valid_user_name(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 63 || name[0] == '-') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return 0;
    }
    return 1;
}

/* Prepare under the lock; the caller holds m->mu. */
static sqlite3_stmt *prep(md_meta *m, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(m->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "mdserver: metadata: %s\n", sqlite3_errmsg(m->db));
        return NULL;
    }
    return st;
}

int md_meta_user_ensure(md_meta *m, const char *name, int is_admin, int *out_created) {
    if (!md_meta_valid_user_name(name)) return MD_EINVAL;
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m, "INSERT OR IGNORE INTO users(name, is_admin) VALUES (?, ?)");
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, is_admin);
        if (sqlite3_step(st) == SQLITE_DONE) {
            if (out_created) *out_created = sqlite3_changes(m->db) > 0;
            rc = MD_OK;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md_meta_user_count(md_meta *m, long *out) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m, "SELECT count(*) FROM users");
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        *out = (long)sqlite3_column_int64(st, 0);
        rc = MD_OK;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md_meta_user_id(md_meta *m, const char *name, long *out_id) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m, "SELECT id FROM users WHERE name = ?");
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            *out_id = (long)sqlite3_column_int64(st, 0);
            rc = MD_OK;
        } else if (s == SQLITE_DONE) {
            rc = MD_ENOT_FOUND;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md_meta_token_add(md_meta *m, const char *user, const char *hash, const char *prefix,
                      int read_only, long *out_id) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m,
                            "INSERT INTO tokens(user_id, hash, prefix, read_only) "
                            "SELECT id, ?, ?, ? FROM users WHERE name = ?");
    if (st) {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, read_only ? 1 : 0);
        sqlite3_bind_text(st, 4, user, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) {
            if (sqlite3_changes(m->db) == 0) {
                rc = MD_ENOT_FOUND;
            } else {
                if (out_id) *out_id = (long)sqlite3_last_insert_rowid(m->db);
                rc = MD_OK;
            }
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md_meta_token_lookup(md_meta *m, const char *hash, char **out_user, int *out_read_only) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m,
                            "SELECT u.name, t.read_only FROM tokens t JOIN users u ON u.id = t.user_id "
                            "WHERE t.hash = ? AND t.revoked_at IS NULL");
    if (st) {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            *out_user = md_strdup((const char *)sqlite3_column_text(st, 0));
            *out_read_only = sqlite3_column_int(st, 1);
            rc = MD_OK;
        } else if (s == SQLITE_DONE) {
            rc = MD_EAUTH;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md_meta_token_list(md_meta *m, void (*cb)(void *ctx, const md_token_row *row), void *ctx) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m,
                            "SELECT t.id, u.name, t.prefix, t.read_only, t.created_at, t.revoked_at "
                            "FROM tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id");
    if (st) {
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            md_token_row row = {
                .id = (long)sqlite3_column_int64(st, 0),
                .user = (const char *)sqlite3_column_text(st, 1),
                .prefix = (const char *)sqlite3_column_text(st, 2),
                .read_only = sqlite3_column_int(st, 3),
                .created_at = (const char *)sqlite3_column_text(st, 4),
                .revoked_at = (const char *)sqlite3_column_text(st, 5),
            };
            cb(ctx, &row);
        }
        if (s == SQLITE_DONE) rc = MD_OK;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md_meta_token_revoke(md_meta *m, long id) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m,
                            "UPDATE tokens SET revoked_at = strftime('%Y-%m-%d %H:%M:%S','now') "
                            "WHERE id = ? AND revoked_at IS NULL");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_DONE) rc = sqlite3_changes(m->db) ? MD_OK : MD_ENOT_FOUND;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/*
 * meta.c: organizations, users and tokens in sqlite3 (see meta.h).
 *
 * Migration: the version 1 tables are created if missing, then a file whose
 * user_version is below 2 gets, in one transaction, the orgs table with its
 * default organization, users.org_id (every user in it) and
 * users.deleted_at, and the token columns kind, name, expires_at and
 * last_used_at (kind from read_only).
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

#define NOW "strftime('%Y-%m-%d %H:%M:%S','now')"

static const char *schema_v1 =
    "CREATE TABLE IF NOT EXISTS users("
    "  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    "  is_admin INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL DEFAULT (" NOW "));"
    "CREATE TABLE IF NOT EXISTS tokens("
    "  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),"
    "  hash TEXT UNIQUE NOT NULL, prefix TEXT NOT NULL, read_only INTEGER NOT NULL,"
    "  created_at TEXT NOT NULL DEFAULT (" NOW "),"
    "  revoked_at TEXT);";

static const char *migrate_v2 =
    "CREATE TABLE orgs(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    "  created_at TEXT NOT NULL DEFAULT (" NOW "));"
    "INSERT INTO orgs(name) VALUES ('" MD_META_DEFAULT_ORG "');"
    "ALTER TABLE users ADD COLUMN org_id INTEGER REFERENCES orgs(id);"
    "ALTER TABLE users ADD COLUMN deleted_at TEXT;"
    "UPDATE users SET org_id = (SELECT id FROM orgs WHERE name = '" MD_META_DEFAULT_ORG "');"
    "ALTER TABLE tokens ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tokens ADD COLUMN name TEXT;"
    "ALTER TABLE tokens ADD COLUMN expires_at TEXT;"
    "ALTER TABLE tokens ADD COLUMN last_used_at TEXT;"
    "UPDATE tokens SET kind = 1 WHERE read_only <> 0;"
    "PRAGMA user_version = 2;";

static int user_version(sqlite3 *db) {
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int md_meta_open(const char *data_dir, md_meta **out, char **out_err) {
    sqlite3 *db = NULL;
    if (md_sqlite_open(data_dir, "meta.sqlite3", "metadata store", schema_v1, &db, out_err) != MD_OK) return MD_EIO;
    if (user_version(db) < 2) {
        /* another process may be migrating: under the write lock, look again */
        char *err = NULL;
        int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err);
        if (rc == SQLITE_OK && user_version(db) < 2) rc = sqlite3_exec(db, migrate_v2, NULL, NULL, &err);
        if (rc == SQLITE_OK) rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &err);
        if (rc != SQLITE_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            if (out_err) *out_err = md_asprintf("cannot upgrade the metadata store: %s", err ? err : "error");
            sqlite3_free(err);
            sqlite3_close(db);
            return MD_EIO;
        }
    }
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

/* Run a statement with text parameters (NULL binds NULL); MD_OK when it is
 * done, *out_changes (optional) the rows it changed.  Caller holds m->mu. */
static int exec_text(md_meta *m, const char *sql, const char *const *params, int n, int *out_changes) {
    sqlite3_stmt *st = prep(m, sql);
    if (!st) return MD_EIO;
    for (int i = 0; i < n; i++) sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? MD_OK : MD_EIO;
    if (rc == MD_OK && out_changes) *out_changes = sqlite3_changes(m->db);
    sqlite3_finalize(st);
    return rc;
}

int md_meta_user_ensure(md_meta *m, const char *name, const char *org, int is_admin, int *out_created) {
    if (!md_meta_valid_user_name(name) || (org && !md_meta_valid_user_name(org))) return MD_EINVAL;
    if (!org) org = MD_META_DEFAULT_ORG;
    pthread_mutex_lock(&m->mu);
    int rc = sqlite3_exec(m->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? MD_OK : MD_EIO;
    int changes = 0;
    if (rc == MD_OK) {
        const char *p[] = {name};
        sqlite3_stmt *st = prep(m, "SELECT deleted_at IS NOT NULL FROM users WHERE name = ?");
        if (!st) rc = MD_EIO;
        else {
            sqlite3_bind_text(st, 1, p[0], -1, SQLITE_STATIC);
            int s = sqlite3_step(st);
            if (s == SQLITE_ROW) rc = sqlite3_column_int(st, 0) ? MD_EEXISTS : MD_OK, changes = -1;
            else if (s != SQLITE_DONE) rc = MD_EIO;
            sqlite3_finalize(st);
        }
    }
    if (rc == MD_OK && changes == 0) {
        const char *po[] = {org};
        rc = exec_text(m, "INSERT OR IGNORE INTO orgs(name) VALUES (?)", po, 1, NULL);
        sqlite3_stmt *st = rc == MD_OK ? prep(m, "INSERT INTO users(name, is_admin, org_id) "
                                                 "SELECT ?, ?, id FROM orgs WHERE name = ?")
                                       : NULL;
        if (!st) rc = MD_EIO;
        else {
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 2, is_admin);
            sqlite3_bind_text(st, 3, org, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_DONE) changes = sqlite3_changes(m->db);
            else rc = MD_EIO;
            sqlite3_finalize(st);
        }
    }
    sqlite3_exec(m->db, rc == MD_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&m->mu);
    if (rc == MD_OK && out_created) *out_created = changes > 0;
    return rc;
}

int md_meta_user_delete(md_meta *m, const char *name) {
    pthread_mutex_lock(&m->mu);
    const char *p[] = {name};
    int changes = 0;
    int rc = sqlite3_exec(m->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? MD_OK : MD_EIO;
    if (rc == MD_OK)
        rc = exec_text(m, "UPDATE users SET deleted_at = " NOW " WHERE name = ? AND deleted_at IS NULL", p, 1,
                       &changes);
    if (rc == MD_OK && changes == 0) rc = MD_ENOT_FOUND;
    if (rc == MD_OK)
        rc = exec_text(m,
                       "UPDATE tokens SET revoked_at = " NOW " WHERE revoked_at IS NULL AND user_id = "
                       "(SELECT id FROM users WHERE name = ?)",
                       p, 1, NULL);
    sqlite3_exec(m->db, rc == MD_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* One text or integer column of the live user `name`'s row (sql takes the
 * name as its parameter): MD_OK, MD_ENOT_FOUND, MD_EIO. */
static int user_value(md_meta *m, const char *sql, const char *name, long *out_int, char **out_text) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m, sql);
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            if (out_int) *out_int = (long)sqlite3_column_int64(st, 0);
            if (out_text) *out_text = md_strdup((const char *)sqlite3_column_text(st, 0));
            rc = MD_OK;
        } else if (s == SQLITE_DONE) {
            rc = MD_ENOT_FOUND;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md_meta_user_id(md_meta *m, const char *name, long *out_id) {
    return user_value(m, "SELECT id FROM users WHERE name = ? AND deleted_at IS NULL", name, out_id, NULL);
}

int md_meta_user_org(md_meta *m, const char *name, char **out_org) {
    return user_value(m,
                      "SELECT coalesce(o.name, '" MD_META_DEFAULT_ORG "') FROM users u LEFT JOIN orgs o ON "
                      "o.id = u.org_id WHERE u.name = ? AND u.deleted_at IS NULL",
                      name, NULL, out_org);
}

int md_meta_user_is_admin(md_meta *m, const char *name) {
    long admin = 0;
    return user_value(m, "SELECT is_admin FROM users WHERE name = ? AND deleted_at IS NULL", name, &admin, NULL) ==
                   MD_OK &&
           admin != 0;
}

int md_meta_user_count(md_meta *m, long *out) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m, "SELECT count(*) FROM users WHERE deleted_at IS NULL");
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        *out = (long)sqlite3_column_int64(st, 0);
        rc = MD_OK;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md_meta_user_list(md_meta *m, void (*cb)(void *ctx, const md_user_row *row), void *ctx) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m,
                            "SELECT u.id, u.name, coalesce(o.name, '" MD_META_DEFAULT_ORG "'), u.is_admin, "
                            "u.created_at, (SELECT count(*) FROM tokens t WHERE t.user_id = u.id AND "
                            "t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > " NOW ")) "
                            "FROM users u LEFT JOIN orgs o ON o.id = u.org_id WHERE u.deleted_at IS NULL "
                            "ORDER BY u.name");
    if (st) {
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            md_user_row row = {
                .id = (long)sqlite3_column_int64(st, 0),
                .name = (const char *)sqlite3_column_text(st, 1),
                .org = (const char *)sqlite3_column_text(st, 2),
                .is_admin = sqlite3_column_int(st, 3),
                .created_at = (const char *)sqlite3_column_text(st, 4),
                .tokens = (long)sqlite3_column_int64(st, 5),
            };
            cb(ctx, &row);
        }
        if (s == SQLITE_DONE) rc = MD_OK;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md_meta_token_add(md_meta *m, const char *user, const char *hash, const char *prefix, md_token_kind kind,
                      const char *name, long expires_in_s, long *out_id) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m,
                            "INSERT INTO tokens(user_id, hash, prefix, read_only, kind, name, expires_at) "
                            "SELECT id, ?, ?, ?, ?, ?, CASE WHEN ? > 0 THEN strftime('%Y-%m-%d %H:%M:%S', 'now', "
                            "'+' || ? || ' seconds') END FROM users WHERE name = ? AND deleted_at IS NULL");
    if (st) {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, kind != MD_TOKEN_READ_WRITE);
        sqlite3_bind_int(st, 4, (int)kind);
        if (name) sqlite3_bind_text(st, 5, name, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 5);
        sqlite3_bind_int64(st, 6, expires_in_s);
        sqlite3_bind_int64(st, 7, expires_in_s);
        sqlite3_bind_text(st, 8, user, -1, SQLITE_STATIC);
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

int md_meta_token_lookup(md_meta *m, const char *hash, md_auth *out, int *out_expired) {
    if (out_expired) *out_expired = 0;
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m,
                            "SELECT u.name, coalesce(o.name, '" MD_META_DEFAULT_ORG "'), u.is_admin, t.id, t.kind, "
                            "t.expires_at IS NOT NULL AND t.expires_at <= " NOW " "
                            "FROM tokens t JOIN users u ON u.id = t.user_id LEFT JOIN orgs o ON o.id = u.org_id "
                            "WHERE t.hash = ? AND t.revoked_at IS NULL AND u.deleted_at IS NULL");
    if (st) {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW && sqlite3_column_int(st, 5)) {
            if (out_expired) *out_expired = 1;
            rc = MD_EAUTH;
        } else if (s == SQLITE_ROW) {
            memset(out, 0, sizeof *out);
            out->user = md_strdup((const char *)sqlite3_column_text(st, 0));
            out->org = md_strdup((const char *)sqlite3_column_text(st, 1));
            out->is_admin = sqlite3_column_int(st, 2);
            out->token_id = (long)sqlite3_column_int64(st, 3);
            out->kind = (md_token_kind)sqlite3_column_int(st, 4);
            rc = MD_OK;
        } else if (s == SQLITE_DONE) {
            rc = MD_EAUTH;
        }
        sqlite3_finalize(st);
    }
    if (rc == MD_OK) {
        sqlite3_stmt *u = prep(m, "UPDATE tokens SET last_used_at = " NOW " WHERE id = ?");
        if (u) {
            sqlite3_bind_int64(u, 1, out->token_id);
            sqlite3_step(u); /* a failed note of use does not refuse the token */
            sqlite3_finalize(u);
        }
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

void md_meta_auth_free(md_auth *a) {
    md_free(a->user);
    md_free(a->org);
    memset(a, 0, sizeof *a);
}

int md_meta_token_valid(md_meta *m, long id) {
    pthread_mutex_lock(&m->mu);
    int valid = 1; /* a store that cannot answer does not end sessions */
    sqlite3_stmt *st = prep(m,
                            "SELECT t.revoked_at IS NULL AND u.deleted_at IS NULL AND (t.expires_at IS NULL OR "
                            "t.expires_at > " NOW ") FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) valid = sqlite3_column_int(st, 0);
        else if (s == SQLITE_DONE) valid = 0;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return valid;
}

int md_meta_token_list(md_meta *m, const char *user, void (*cb)(void *ctx, const md_token_row *row), void *ctx) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m,
                            "SELECT t.id, u.name, t.prefix, t.kind, t.name, t.created_at, t.expires_at, "
                            "t.last_used_at, t.revoked_at FROM tokens t JOIN users u ON u.id = t.user_id "
                            "WHERE ?1 IS NULL OR u.name = ?1 ORDER BY t.id");
    if (st) {
        if (user) sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            md_token_row row = {
                .id = (long)sqlite3_column_int64(st, 0),
                .user = (const char *)sqlite3_column_text(st, 1),
                .prefix = (const char *)sqlite3_column_text(st, 2),
                .kind = (md_token_kind)sqlite3_column_int(st, 3),
                .name = (const char *)sqlite3_column_text(st, 4),
                .created_at = (const char *)sqlite3_column_text(st, 5),
                .expires_at = (const char *)sqlite3_column_text(st, 6),
                .last_used_at = (const char *)sqlite3_column_text(st, 7),
                .revoked_at = (const char *)sqlite3_column_text(st, 8),
            };
            cb(ctx, &row);
        }
        if (s == SQLITE_DONE) rc = MD_OK;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md_meta_token_revoke(md_meta *m, long id, const char *user) {
    pthread_mutex_lock(&m->mu);
    int rc = MD_EIO;
    sqlite3_stmt *st = prep(m,
                            "UPDATE tokens SET revoked_at = " NOW " WHERE id = ?1 AND revoked_at IS NULL AND "
                            "(?2 IS NULL OR user_id = (SELECT id FROM users WHERE name = ?2))");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        if (user) sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) rc = sqlite3_changes(m->db) ? MD_OK : MD_ENOT_FOUND;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/*
 * dbmeta_shares.c: shares, their grants and the users' attached shares in
 * the sqlite backend of md_dbmeta (dbmeta.h, dbmeta_int.h).
 *
 * A share row is read joined to its database: a share whose database was
 * dropped is not found (UNDROP brings it back), and an AUTOMATIC share's
 * snapshot is its database's head at the moment of the read.  The URL id is
 * a random UUID (server/uuid.h); OR REPLACE drops the old row
 * and inserts a new one, so the old URL finds nothing.
 */
#include <stdio.h>
#include <string.h>

#include "server/storage/dbmeta_int.h"
#include "server/uuid.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

const char md__dbmeta_shares_schema[] =
    "CREATE TABLE IF NOT EXISTS shares("
    "  id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,"
    "  db_id INTEGER NOT NULL REFERENCES databases(id), url_id TEXT UNIQUE NOT NULL,"
    "  access INTEGER NOT NULL, discoverable INTEGER NOT NULL, automatic INTEGER NOT NULL,"
    "  snapshot INTEGER REFERENCES snapshots(id),"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, dropped_at TEXT);"
    "CREATE UNIQUE INDEX IF NOT EXISTS shares_live ON shares(owner, lower(name)) WHERE dropped_at IS NULL;"
    "CREATE TABLE IF NOT EXISTS share_grants("
    "  share_id INTEGER NOT NULL REFERENCES shares(id), grantee TEXT NOT NULL, granted_at TEXT NOT NULL,"
    "  PRIMARY KEY(share_id, grantee));"
    "CREATE TABLE IF NOT EXISTS share_mounts("
    "  id INTEGER PRIMARY KEY, user TEXT NOT NULL, alias TEXT NOT NULL, url TEXT NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS share_mounts_alias ON share_mounts(user, lower(alias));";

const char *md_share_access_word(int access) {
    switch (access) {
#define MD__SHARE_ACCESS_WORD(e, v, word) \
    case MD_SHARE_##e: return word;
        MD_SHARE_ACCESS(MD__SHARE_ACCESS_WORD)
#undef MD__SHARE_ACCESS_WORD
    }
    return "?";
}

static char *dup_or_null(const char *s) { return s ? md_strdup(s) : NULL; }

void md_share_row_copy(md_share_row *dst, const md_share_row *src) {
    *dst = *src;
    dst->owner = dup_or_null(src->owner);
    dst->name = dup_or_null(src->name);
    dst->db_name = dup_or_null(src->db_name);
    dst->url_id = dup_or_null(src->url_id);
    dst->created_at = dup_or_null(src->created_at);
    dst->updated_at = dup_or_null(src->updated_at);
}

void md_share_row_clear(md_share_row *r) {
    md_free((char *)r->owner);
    md_free((char *)r->name);
    md_free((char *)r->db_name);
    md_free((char *)r->url_id);
    md_free((char *)r->created_at);
    md_free((char *)r->updated_at);
    memset(r, 0, sizeof *r);
}

char *md_share_url(const md_share_row *r) { return md_asprintf("md:_share/%s/%s", r->db_name, r->url_id); }

#define SHARE_SELECT                                                                                    \
    "SELECT s.id, s.owner, s.name, s.db_id, d.name, s.url_id, s.access, s.discoverable, s.automatic, " \
    "  CASE WHEN s.automatic THEN coalesce(d.head, 0) ELSE coalesce(s.snapshot, 0) END, "              \
    "  s.created_at, s.updated_at "                                                                     \
    "FROM shares s JOIN databases d ON d.id = s.db_id AND d.dropped_at IS NULL WHERE s.dropped_at IS NULL "

/* Step st (bound; the caller holds m->mu), cb for each row; finalizes.
 * want_one: MD_ENOT_FOUND when there is no row. */
static int share_rows(sqlite3_stmt *st, int want_one, md_share_row_cb cb, void *ctx) {
    if (!st) return MD_EIO;
    int s, found = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        md_share_row r = {
            .id = sqlite3_column_int64(st, 0),
            .owner = (const char *)sqlite3_column_text(st, 1),
            .name = (const char *)sqlite3_column_text(st, 2),
            .db_id = sqlite3_column_int64(st, 3),
            .db_name = (const char *)sqlite3_column_text(st, 4),
            .url_id = (const char *)sqlite3_column_text(st, 5),
            .access = sqlite3_column_int(st, 6),
            .discoverable = sqlite3_column_int(st, 7),
            .automatic = sqlite3_column_int(st, 8),
            .snapshot = sqlite3_column_int64(st, 9),
            .created_at = (const char *)sqlite3_column_text(st, 10),
            .updated_at = (const char *)sqlite3_column_text(st, 11),
        };
        if (cb) cb(ctx, &r);
        found = 1;
        if (want_one) break;
    }
    int rc = s == SQLITE_ROW || s == SQLITE_DONE ? MD_OK : MD_EIO;
    sqlite3_finalize(st);
    if (rc == MD_OK && want_one && !found) rc = MD_ENOT_FOUND;
    return rc;
}

/* The query sql with text parameters a, b (NULL: not bound), rows to cb. */
static int share_query(sq_meta *m, const char *sql, const char *a, const char *b, int want_one, md_share_row_cb cb,
                       void *ctx) {
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, sql);
    if (st && a) sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
    if (st && b) sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
    int rc = share_rows(st, want_one, cb, ctx);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* Run one change with text parameters ?1..?3 (NULL: NULL) and integer ?4;
 * MD_ENOT_FOUND when it changed nothing.  The caller holds m->mu. */
static int change(sq_meta *m, const char *sql, const char *a, const char *b, const char *c, int64_t n) {
    sqlite3_stmt *st = md__dbmeta_prep(m, sql);
    if (!st) return MD_EIO;
    const char *t[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (t[i]) sqlite3_bind_text(st, i + 1, t[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, n);
    int s = sqlite3_step(st);
    int rc = s == SQLITE_DONE ? (sqlite3_changes(m->db) ? MD_OK : MD_ENOT_FOUND)
             : s == SQLITE_CONSTRAINT ? MD_EEXISTS : MD_EIO;
    sqlite3_finalize(st);
    return rc;
}

int md__dbmeta_share_create(md_dbmeta *base, const md_share_row *def, int replace, md_share_row_cb cb, void *ctx) {
    sq_meta *m = (sq_meta *)base;
    if (!md_dbmeta_valid_name(def->name) || def->access < 0 || def->access > MD_SHARE_RESTRICTED) return MD_EINVAL;
    char now[32], uuid[MD_UUID_TEXT_LEN + 1];
    md__dbmeta_now_text(now);
    if (md_uuid_v4(uuid) != MD_OK) return MD_EIO;
    pthread_mutex_lock(&m->mu);
    int rc = md__dbmeta_exec(m, "BEGIN IMMEDIATE");
    if (rc == MD_OK) {
        sqlite3_stmt *st = md__dbmeta_prep(m, "SELECT 1 FROM databases WHERE id = ? AND dropped_at IS NULL");
        if (st) sqlite3_bind_int64(st, 1, def->db_id);
        rc = !st ? MD_EIO : sqlite3_step(st) == SQLITE_ROW ? MD_OK : MD_ENOT_FOUND;
        sqlite3_finalize(st);
    }
    if (rc == MD_OK && replace) {
        int r = change(m, "UPDATE shares SET dropped_at = ?3 WHERE owner = ?1 AND lower(name) = lower(?2) "
                          "AND dropped_at IS NULL", def->owner, def->name, now, 0);
        rc = r == MD_ENOT_FOUND ? MD_OK : r;
    }
    if (rc == MD_OK) {
        sqlite3_stmt *st = md__dbmeta_prep(m,
                                           "INSERT INTO shares(owner, name, db_id, url_id, access, discoverable, "
                                           "automatic, snapshot, created_at, updated_at) "
                                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!st) rc = MD_EIO;
        else {
            sqlite3_bind_text(st, 1, def->owner, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, def->name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 3, def->db_id);
            sqlite3_bind_text(st, 4, uuid, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(st, 5, def->access);
            sqlite3_bind_int(st, 6, def->discoverable != 0);
            sqlite3_bind_int(st, 7, def->automatic != 0);
            if (!def->automatic && def->snapshot > 0) sqlite3_bind_int64(st, 8, def->snapshot);
            else sqlite3_bind_null(st, 8);
            sqlite3_bind_text(st, 9, now, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 10, now, -1, SQLITE_TRANSIENT);
            int s = sqlite3_step(st);
            rc = s == SQLITE_DONE ? MD_OK : s == SQLITE_CONSTRAINT ? MD_EEXISTS : MD_EIO;
            sqlite3_finalize(st);
        }
    }
    int64_t id = rc == MD_OK ? sqlite3_last_insert_rowid(m->db) : 0;
    if (rc == MD_OK) rc = md__dbmeta_exec(m, "COMMIT");
    else md__dbmeta_exec(m, "ROLLBACK");
    if (rc == MD_OK) {
        sqlite3_stmt *st = md__dbmeta_prep(m, SHARE_SELECT "AND s.id = ?");
        if (st) sqlite3_bind_int64(st, 1, id);
        rc = share_rows(st, 1, cb, ctx);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md__dbmeta_share_update(md_dbmeta *base, const char *owner, const char *name, int64_t snapshot) {
    sq_meta *m = (sq_meta *)base;
    char now[32];
    md__dbmeta_now_text(now);
    pthread_mutex_lock(&m->mu);
    int rc = change(m,
                    "UPDATE shares SET updated_at = ?3, snapshot = CASE WHEN automatic OR ?4 <= 0 THEN snapshot "
                    "ELSE ?4 END WHERE owner = ?1 AND lower(name) = lower(?2) AND dropped_at IS NULL",
                    owner, name, now, snapshot);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md__dbmeta_share_drop(md_dbmeta *base, const char *owner, const char *name) {
    sq_meta *m = (sq_meta *)base;
    char now[32];
    md__dbmeta_now_text(now);
    pthread_mutex_lock(&m->mu);
    int rc = change(m, "UPDATE shares SET dropped_at = ?3 WHERE owner = ?1 AND lower(name) = lower(?2) "
                       "AND dropped_at IS NULL", owner, name, now, 0);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md__dbmeta_share_get(md_dbmeta *base, const char *owner, const char *name, md_share_row_cb cb, void *ctx) {
    return share_query((sq_meta *)base, SHARE_SELECT "AND s.owner = ?1 AND lower(s.name) = lower(?2)", owner, name, 1,
                       cb, ctx);
}

int md__dbmeta_share_list(md_dbmeta *base, const char *owner, md_share_row_cb cb, void *ctx) {
    sq_meta *m = (sq_meta *)base;
    if (owner) return share_query(m, SHARE_SELECT "AND s.owner = ?1 ORDER BY s.name", owner, NULL, 0, cb, ctx);
    return share_query(m, SHARE_SELECT "ORDER BY s.owner, s.name", NULL, NULL, 0, cb, ctx);
}

int md__dbmeta_share_find(md_dbmeta *base, const char *db_name, const char *url_id, md_share_row_cb cb, void *ctx) {
    if (!db_name || !url_id) return MD_ENOT_FOUND;
    return share_query((sq_meta *)base, SHARE_SELECT "AND s.url_id = lower(?2) AND lower(d.name) = lower(?1)", db_name,
                       url_id, 1, cb, ctx);
}

int md__dbmeta_share_grant(md_dbmeta *base, int64_t share_id, const char *grantee, int grant) {
    sq_meta *m = (sq_meta *)base;
    char now[32];
    md__dbmeta_now_text(now);
    pthread_mutex_lock(&m->mu);
    int rc = grant ? change(m,
                            "INSERT INTO share_grants(share_id, grantee, granted_at) SELECT ?4, ?1, ?2 "
                            "WHERE EXISTS (SELECT 1 FROM shares WHERE id = ?4 AND dropped_at IS NULL) "
                            "ON CONFLICT DO NOTHING",
                            grantee, now, NULL, share_id)
                   : change(m, "DELETE FROM share_grants WHERE share_id = ?4 AND grantee = ?1", grantee, NULL, NULL,
                            share_id);
    if (grant && rc == MD_ENOT_FOUND) { /* granted before, or no such share */
        sqlite3_stmt *st = md__dbmeta_prep(m, "SELECT 1 FROM share_grants WHERE share_id = ? AND grantee = ?");
        if (st) {
            sqlite3_bind_int64(st, 1, share_id);
            sqlite3_bind_text(st, 2, grantee, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_ROW) rc = MD_OK;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* Rows of two text columns to cb; the statement's ?1 is `key` (text, or
 * the integer n when key is NULL). */
static int pair_rows(sq_meta *m, const char *sql, const char *key, int64_t n, md_pair_cb cb, void *ctx) {
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, sql);
    int rc = MD_EIO;
    if (st) {
        if (key) sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
        else sqlite3_bind_int64(st, 1, n);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW)
            cb(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
        rc = s == SQLITE_DONE ? MD_OK : MD_EIO;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md__dbmeta_share_grants(md_dbmeta *base, int64_t share_id, md_pair_cb cb, void *ctx) {
    return pair_rows((sq_meta *)base, "SELECT grantee, granted_at FROM share_grants WHERE share_id = ? ORDER BY grantee",
                     NULL, share_id, cb, ctx);
}

int md__dbmeta_share_granted(md_dbmeta *base, int64_t share_id, const char *grantee) {
    sq_meta *m = (sq_meta *)base;
    pthread_mutex_lock(&m->mu);
    sqlite3_stmt *st = md__dbmeta_prep(m, "SELECT 1 FROM share_grants WHERE share_id = ? AND grantee = ?");
    int rc = MD_EIO;
    if (st) {
        sqlite3_bind_int64(st, 1, share_id);
        sqlite3_bind_text(st, 2, grantee, -1, SQLITE_TRANSIENT);
        int s = sqlite3_step(st);
        rc = s == SQLITE_ROW ? MD_OK : s == SQLITE_DONE ? MD_ENOT_FOUND : MD_EIO;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md__dbmeta_share_mount(md_dbmeta *base, const char *user, const char *alias, const char *url) {
    sq_meta *m = (sq_meta *)base;
    pthread_mutex_lock(&m->mu);
    int rc = change(m, "DELETE FROM share_mounts WHERE user = ?1 AND lower(alias) = lower(?2)", user, alias, NULL, 0);
    if (rc == MD_ENOT_FOUND) rc = MD_OK;
    if (rc == MD_OK && url)
        rc = change(m, "INSERT INTO share_mounts(user, alias, url) VALUES (?1, ?2, ?3)", user, alias, url, 0);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int md__dbmeta_share_mounts(md_dbmeta *base, const char *user, md_pair_cb cb, void *ctx) {
    return pair_rows((sq_meta *)base, "SELECT alias, url FROM share_mounts WHERE user = ? ORDER BY id", user, 0, cb,
                     ctx);
}

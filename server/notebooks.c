/*
 * notebooks.c: users' notebooks in the workspace store (see notebooks.h).
 *
 * Every request runs under the store's mutex, and starts by purging the
 * user's notebooks that have been in the trash longer than
 * MD_NOTEBOOK_TRASH_DAYS (an index on (user, deleted_ms) keeps that cheap).
 */
#include "notebooks.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

#define ID_BYTES 16
#define DAY_MS (24LL * 3600 * 1000)


int md_notebooks_init(md_wsdb *db, char **out_err) {
    return md_wsdb_exec(db,
                        "CREATE TABLE IF NOT EXISTS notebooks("
                        "  id TEXT PRIMARY KEY, user TEXT NOT NULL, bytes INTEGER NOT NULL, title TEXT NOT NULL,"
                        "  content TEXT NOT NULL,"
                        "  version INTEGER NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
                        "  deleted_ms INTEGER);"
                        "CREATE INDEX IF NOT EXISTS notebooks_by_user ON notebooks(user, deleted_ms);",
                        out_err);
}

static const char *title_field(md_wsreq *r) {
    const char *t = md_wsreq_str(r, "title", MD_NOTEBOOK_MAX_TITLE);
    if (t && !t[strspn(t, " \t\r\n")]) return md_wsreq_fail(r, MD_EINVAL, "a notebook's title cannot be empty"), NULL;
    return t;
}

static const char *id_field(md_wsreq *r) {
    const char *id = md_wsreq_str(r, "id", 64);
    if (id && (strlen(id) != 2 * ID_BYTES || id[strspn(id, "0123456789abcdef")]))
        return md_wsreq_fail(r, MD_ENOT_FOUND, "no notebook with id \"%s\"", id), NULL;
    return id;
}

static void new_id(char out[2 * ID_BYTES + 1]) {
    unsigned char b[ID_BYTES];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n > 0) got += (size_t)n;
    }
    for (int i = 0; i < ID_BYTES; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* One live (not deleted) notebook of the user as `get` answers it, with
 * its content unless `with_content` is 0. */
static cJSON *fetch(md_wsreq *r, const char *id, int with_content) {
    sqlite3_stmt *st = md_wsreq_prep(r, "SELECT title, version, content, created_ms, updated_ms FROM notebooks "
                               "WHERE id = ? AND user = ? AND deleted_ms IS NULL");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->user, -1, SQLITE_STATIC);
    cJSON *o = NULL;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", id);
        cJSON_AddStringToObject(o, "title", (const char *)sqlite3_column_text(st, 0));
        cJSON_AddNumberToObject(o, "version", (double)sqlite3_column_int64(st, 1));
        if (with_content) cJSON_AddStringToObject(o, "content", (const char *)sqlite3_column_text(st, 2));
        cJSON_AddNumberToObject(o, "created_ms", (double)sqlite3_column_int64(st, 3));
        cJSON_AddNumberToObject(o, "updated_ms", (double)sqlite3_column_int64(st, 4));
    } else if (s == SQLITE_DONE) {
        md_wsreq_fail(r, MD_ENOT_FOUND, "no notebook with id \"%s\" (it may have been deleted)", id);
    } else {
        md_wsreq_fail(r, MD_EIO, "the server cannot read its notebook store");
    }
    sqlite3_finalize(st);
    return o;
}

/*
 * Refuse (and return 0) a write that would take the user past their
 * notebooks (`new_one`: it adds a notebook) or their bytes, counting
 * `content` instead of what notebook `replacing` (may be NULL) holds now.
 * The trash counts: it is stored until it is purged.
 */
static int within_quota(md_wsreq *r, const char *replacing, int new_one, const char *content) {
    sqlite3_stmt *st = md_wsreq_prep(r, "SELECT count(*), coalesce(sum(bytes), 0) FROM notebooks "
                                        "WHERE user = ? AND id <> coalesce(?, '')");
    if (!st) return 0;
    sqlite3_bind_text(st, 1, r->user, -1, SQLITE_STATIC);
    if (replacing) sqlite3_bind_text(st, 2, replacing, -1, SQLITE_STATIC);
    int ok = sqlite3_step(st) == SQLITE_ROW;
    long long n = sqlite3_column_int64(st, 0), bytes = sqlite3_column_int64(st, 1) + (long long)strlen(content);
    sqlite3_finalize(st);
    if (!ok) return md_wsreq_fail(r, MD_EIO, "the server cannot read its notebook store"), 0;
    if (new_one && n >= MD_NOTEBOOK_MAX_PER_USER)
        return md_wsreq_fail(r, MD_ETOO_LARGE, "you have %d notebooks (the trash included), the most a user may keep: "
                                               "delete some first", MD_NOTEBOOK_MAX_PER_USER), 0;
    if (bytes > MD_NOTEBOOK_MAX_USER_BYTES)
        return md_wsreq_fail(r, MD_ETOO_LARGE, "this would make your notebooks (the trash included) hold %lld MiB, "
                                               "more than the %u MiB a user may keep: delete some first",
                             bytes >> 20, MD_NOTEBOOK_MAX_USER_BYTES >> 20), 0;
    return 1;
}

static cJSON *insert(md_wsreq *r, const char *title, const char *content) {
    if (!within_quota(r, NULL, 1, content)) return NULL;
    char id[2 * ID_BYTES + 1];
    new_id(id);
    long long now = md_wall_ms();
    sqlite3_stmt *st = md_wsreq_prep(r, "INSERT INTO notebooks(id, user, bytes, title, content, version, created_ms, "
                                        "updated_ms) VALUES (?, ?, ?, ?, ?, 1, ?, ?)");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (long long)strlen(content));
    sqlite3_bind_text(st, 4, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, content, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    sqlite3_bind_int64(st, 7, now);
    if (md_wsreq_exec(r, st) != MD_OK) return NULL;
    return fetch(r, id, 1);
}

static cJSON *op_list(md_wsreq *r) {
    sqlite3_stmt *st = md_wsreq_prep(r, "SELECT id, title, version, created_ms, updated_ms, deleted_ms FROM notebooks "
                               "WHERE user = ? ORDER BY updated_ms DESC, id");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, r->user, -1, SQLITE_STATIC);
    cJSON *o = cJSON_CreateObject();
    cJSON *live = cJSON_AddArrayToObject(o, "notebooks");
    cJSON *trash = cJSON_AddArrayToObject(o, "trash");
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *n = cJSON_CreateObject();
        cJSON_AddStringToObject(n, "id", (const char *)sqlite3_column_text(st, 0));
        cJSON_AddStringToObject(n, "title", (const char *)sqlite3_column_text(st, 1));
        if (sqlite3_column_type(st, 5) == SQLITE_NULL) {
            cJSON_AddNumberToObject(n, "version", (double)sqlite3_column_int64(st, 2));
            cJSON_AddNumberToObject(n, "created_ms", (double)sqlite3_column_int64(st, 3));
            cJSON_AddNumberToObject(n, "updated_ms", (double)sqlite3_column_int64(st, 4));
            cJSON_AddItemToArray(live, n);
        } else {
            long long del = sqlite3_column_int64(st, 5);
            cJSON_AddNumberToObject(n, "deleted_ms", (double)del);
            cJSON_AddNumberToObject(n, "purge_ms", (double)(del + MD_NOTEBOOK_TRASH_DAYS * DAY_MS));
            cJSON_AddItemToArray(trash, n);
        }
    }
    sqlite3_finalize(st);
    if (s != SQLITE_DONE) {
        cJSON_Delete(o);
        return md_wsreq_fail(r, MD_EIO, "the server cannot read its notebook store");
    }
    return o;
}

static cJSON *op_create(md_wsreq *r) {
    const char *title = title_field(r);
    if (!title) return NULL;
    const char *content = "";
    if (cJSON_GetObjectItemCaseSensitive(r->json, "content")) {
        content = md_wsreq_str(r, "content", MD_NOTEBOOK_MAX_CONTENT);
        if (!content) return NULL;
    }
    return insert(r, title, content);
}

static cJSON *op_save(md_wsreq *r) {
    const char *id = id_field(r);
    const char *content = md_wsreq_str(r, "content", MD_NOTEBOOK_MAX_CONTENT);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, "version");
    if (!id || !content) return NULL;
    if (!cJSON_IsNumber(v) || v->valuedouble < 1)
        return md_wsreq_fail(r, MD_EINVAL, "a save needs \"version\": the version the edit was made from");
    long long from = (long long)v->valuedouble, now = md_wall_ms();
    if (!within_quota(r, id, 0, content)) return NULL;
    sqlite3_stmt *st = md_wsreq_prep(r, "UPDATE notebooks SET content = ?, bytes = ?, version = version + 1, "
                                        "updated_ms = ? WHERE id = ? AND user = ? AND deleted_ms IS NULL AND version = ?");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, content, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (long long)strlen(content));
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, from);
    if (md_wsreq_exec(r, st) != MD_OK) return NULL;
    if (sqlite3_changes(r->db) == 1) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", id);
        cJSON_AddNumberToObject(o, "version", (double)(from + 1));
        cJSON_AddNumberToObject(o, "updated_ms", (double)now);
        return o;
    }
    cJSON *cur = fetch(r, id, 0); /* NOT_FOUND, or a newer version than the edit's */
    if (!cur) return NULL;
    long long have = (long long)cJSON_GetObjectItemCaseSensitive(cur, "version")->valuedouble;
    cJSON_Delete(cur);
    return md_wsreq_fail(r, MD_ECONFLICT,
                "this notebook was changed elsewhere (another tab or window saved version %lld; this edit was made "
                "from version %lld): nothing was overwritten",
                have, from);
}

/* UPDATE ... WHERE id = ? AND user = ? (and the op's own condition); NOT_FOUND when no row matched. */
static int update_one(md_wsreq *r, sqlite3_stmt *st, const char *id) {
    if (md_wsreq_exec(r, st) != MD_OK) return MD_EIO;
    if (sqlite3_changes(r->db) == 1) return MD_OK;
    md_wsreq_fail(r, MD_ENOT_FOUND, "no notebook with id \"%s\" (it may have been deleted)", id);
    return MD_ENOT_FOUND;
}

static cJSON *op_rename(md_wsreq *r) {
    const char *id = id_field(r), *title = title_field(r);
    if (!id || !title) return NULL;
    sqlite3_stmt *st = md_wsreq_prep(r, "UPDATE notebooks SET title = ? WHERE id = ? AND user = ? AND deleted_ms IS NULL");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->user, -1, SQLITE_STATIC);
    if (update_one(r, st, id) != MD_OK) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "title", title);
    return o;
}

static cJSON *op_duplicate(md_wsreq *r) {
    const char *id = id_field(r), *title = title_field(r);
    if (!id || !title) return NULL;
    cJSON *src = fetch(r, id, 1);
    if (!src) return NULL;
    cJSON *o = insert(r, title, cJSON_GetObjectItemCaseSensitive(src, "content")->valuestring);
    cJSON_Delete(src);
    return o;
}

static cJSON *op_delete(md_wsreq *r) {
    const char *id = id_field(r);
    if (!id) return NULL;
    long long now = md_wall_ms();
    sqlite3_stmt *st = md_wsreq_prep(r, "UPDATE notebooks SET deleted_ms = ? WHERE id = ? AND user = ? AND deleted_ms IS NULL");
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->user, -1, SQLITE_STATIC);
    if (update_one(r, st, id) != MD_OK) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddNumberToObject(o, "deleted_ms", (double)now);
    cJSON_AddNumberToObject(o, "purge_ms", (double)(now + MD_NOTEBOOK_TRASH_DAYS * DAY_MS));
    return o;
}

static cJSON *op_restore(md_wsreq *r) {
    const char *id = id_field(r);
    if (!id) return NULL;
    sqlite3_stmt *st = md_wsreq_prep(r, "UPDATE notebooks SET deleted_ms = NULL WHERE id = ? AND user = ? "
                               "AND deleted_ms IS NOT NULL");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->user, -1, SQLITE_STATIC);
    if (update_one(r, st, id) != MD_OK) return NULL;
    return fetch(r, id, 0);
}

static cJSON *op_get(md_wsreq *r) {
    const char *id = id_field(r);
    return id ? fetch(r, id, 1) : NULL;
}

static void purge(md_wsreq *r) {
    sqlite3_stmt *st = md_wsreq_prep(r, "DELETE FROM notebooks WHERE user = ? AND deleted_ms < ?");
    if (!st) return;
    sqlite3_bind_text(st, 1, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, md_wall_ms() - MD_NOTEBOOK_TRASH_DAYS * DAY_MS);
    md_wsreq_exec(r, st);
}

static const md_wsop ops[] = {
    {"list", 0, op_list},     {"get", 0, op_get},           {"create", 1, op_create}, {"save", 1, op_save},
    {"rename", 1, op_rename}, {"duplicate", 1, op_duplicate}, {"delete", 1, op_delete}, {"restore", 1, op_restore},
};

cJSON *md_notebooks_serve(md_wsdb *db, const char *user, int read_only, const cJSON *json, int *out_code,
                          char **out_msg) {
    return md_wsdb_serve(db, ops, sizeof ops / sizeof ops[0], "NOTEBOOK", purge, user, read_only, json, out_code,
                         out_msg);
}

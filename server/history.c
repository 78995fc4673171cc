/*
 * history.c: users' query history in the workspace store (see history.h).
 */
#include "history.h"

#include <string.h>

#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/sql_redact.h"

static const char *SITES[] = {"local", "remote", "server", "hybrid", "mixed", "unknown"};

int md_history_init(md_wsdb *db, char **out_err) {
    return md_wsdb_exec(db,
                        "CREATE TABLE IF NOT EXISTS history("
                        "  id INTEGER PRIMARY KEY, user TEXT NOT NULL, at_ms INTEGER NOT NULL, site TEXT NOT NULL,"
                        "  ms REAL NOT NULL, rows INTEGER, sql TEXT NOT NULL, error TEXT);"
                        "CREATE INDEX IF NOT EXISTS history_by_user ON history(user, id);",
                        out_err);
}

/* A number field >= 0 of the request; `dflt` when absent (and not required). */
static int number_field(md_wsreq *r, const char *name, int required, double dflt, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name);
    if (!v && !required) {
        *out = dflt;
        return 1;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 0) {
        md_wsreq_fail(r, MD_EINVAL, "the request needs \"%s\" as a number >= 0", name);
        return 0;
    }
    *out = v->valuedouble;
    return 1;
}

static cJSON *op_add(md_wsreq *r) {
    const char *sql = md_wsreq_str(r, "sql", MD_HISTORY_MAX_SQL);
    const char *site = md_wsreq_str(r, "site", 16);
    double ms = 0, rows = 0;
    if (!sql || !site || !number_field(r, "ms", 1, 0, &ms) || !number_field(r, "rows", 0, -1, &rows)) return NULL;
    size_t i = 0;
    while (i < sizeof SITES / sizeof SITES[0] && strcmp(SITES[i], site) != 0) i++;
    if (i == sizeof SITES / sizeof SITES[0])
        return md_wsreq_fail(r, MD_EINVAL, "\"site\" is local, remote, server, hybrid, mixed or unknown");
    const char *error = NULL;
    if (cJSON_GetObjectItemCaseSensitive(r->json, "error") && !(error = md_wsreq_str(r, "error", 4096))) return NULL;
    long long now = md_wall_ms();
    sqlite3_stmt *st = md_wsreq_prep(r, "INSERT INTO history(user, at_ms, site, ms, rows, sql, error) "
                                        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, site, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, ms);
    if (rows >= 0) sqlite3_bind_int64(st, 5, (long long)rows);
    char *kept = md_sql_redact_secrets(sql, strlen(sql)); /* no secret's value is kept */
    sqlite3_bind_text(st, 6, kept, -1, SQLITE_TRANSIENT);
    md_free(kept);
    if (error) sqlite3_bind_text(st, 7, error, -1, SQLITE_STATIC);
    if (md_wsreq_exec(r, st) != MD_OK) return NULL;
    long long id = sqlite3_last_insert_rowid(r->db);
    /* the user keeps the newest entries only */
    st = md_wsreq_prep(r, "DELETE FROM history WHERE user = ? AND id <= "
                          "(SELECT id FROM history WHERE user = ? ORDER BY id DESC LIMIT 1 OFFSET ?)");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, MD_HISTORY_MAX_PER_USER);
    if (md_wsreq_exec(r, st) != MD_OK) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddNumberToObject(o, "at_ms", (double)now);
    return o;
}

/* Into b: a LIKE pattern (escape character '\\') that finds `text` anywhere, NUL-terminated. */
static void like_pattern(md_buf *b, const char *text) {
    md_buf_append(b, "%", 1);
    for (const char *p = text; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\') md_buf_append(b, "\\", 1);
        md_buf_append(b, p, 1);
    }
    md_buf_append(b, "%", 2); /* with the terminating NUL */
}

static cJSON *op_list(md_wsreq *r) {
    const char *search = "";
    double before = 0, limit = 0;
    if (cJSON_GetObjectItemCaseSensitive(r->json, "search") && !(search = md_wsreq_str(r, "search", 1024))) return NULL;
    if (!number_field(r, "before", 0, 0, &before) || !number_field(r, "limit", 0, MD_HISTORY_PAGE, &limit)) return NULL;
    if (limit > MD_HISTORY_PAGE || limit < 1) limit = MD_HISTORY_PAGE;
    sqlite3_stmt *st = md_wsreq_prep(r, "SELECT id, at_ms, site, ms, rows, sql, error FROM history "
                                        "WHERE user = ? AND (? = 0 OR id < ?) AND sql LIKE ? ESCAPE '\\' "
                                        "ORDER BY id DESC LIMIT ?");
    if (!st) return NULL;
    md_buf pattern = {0};
    like_pattern(&pattern, search);
    sqlite3_bind_text(st, 1, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (long long)before);
    sqlite3_bind_int64(st, 3, (long long)before);
    sqlite3_bind_text(st, 4, (const char *)pattern.data, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, (int)limit);
    cJSON *o = cJSON_CreateObject();
    cJSON *entries = cJSON_AddArrayToObject(o, "entries");
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "id", (double)sqlite3_column_int64(st, 0));
        cJSON_AddNumberToObject(e, "at_ms", (double)sqlite3_column_int64(st, 1));
        cJSON_AddStringToObject(e, "site", (const char *)sqlite3_column_text(st, 2));
        cJSON_AddNumberToObject(e, "ms", sqlite3_column_double(st, 3));
        if (sqlite3_column_type(st, 4) == SQLITE_NULL) cJSON_AddNullToObject(e, "rows");
        else cJSON_AddNumberToObject(e, "rows", (double)sqlite3_column_int64(st, 4));
        cJSON_AddStringToObject(e, "sql", (const char *)sqlite3_column_text(st, 5));
        if (sqlite3_column_type(st, 6) == SQLITE_NULL) cJSON_AddNullToObject(e, "error");
        else cJSON_AddStringToObject(e, "error", (const char *)sqlite3_column_text(st, 6));
        cJSON_AddItemToArray(entries, e);
    }
    sqlite3_finalize(st);
    md_buf_free(&pattern);
    if (s != SQLITE_DONE) {
        cJSON_Delete(o);
        return md_wsreq_fail(r, MD_EIO, "the server cannot read its workspace store");
    }
    return o;
}

static cJSON *op_clear(md_wsreq *r) {
    sqlite3_stmt *st = md_wsreq_prep(r, "DELETE FROM history WHERE user = ?");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, r->user, -1, SQLITE_STATIC);
    if (md_wsreq_exec(r, st) != MD_OK) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "deleted", sqlite3_changes(r->db));
    return o;
}

static const md_wsop ops[] = {{"add", 1, op_add}, {"list", 0, op_list}, {"clear", 1, op_clear}};

cJSON *md_history_serve(md_wsdb *db, const char *user, int read_only, const cJSON *json, int *out_code,
                        char **out_msg) {
    return md_wsdb_serve(db, ops, sizeof ops / sizeof ops[0], "HISTORY", NULL, user, read_only, json, out_code,
                         out_msg);
}

/* ---- for md_information_schema.query_history (server side only) ---- */

/* {limit, all}: the newest entries of the user, or (all) of everyone, with their user. */
static cJSON *op_rows(md_wsreq *r) {
    double limit = 0;
    if (!number_field(r, "limit", 1, 0, &limit)) return NULL;
    int all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->json, "all"));
    sqlite3_stmt *st = md_wsreq_prep(r, "SELECT id, user, at_ms, site, ms, rows, sql, error FROM history "
                                        "WHERE ? OR user = ? ORDER BY id DESC LIMIT ?");
    if (!st) return NULL;
    sqlite3_bind_int(st, 1, all);
    sqlite3_bind_text(st, 2, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (long long)limit);
    cJSON *entries = cJSON_CreateArray();
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "id", (double)sqlite3_column_int64(st, 0));
        cJSON_AddStringToObject(e, "user", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddNumberToObject(e, "at_ms", (double)sqlite3_column_int64(st, 2));
        cJSON_AddStringToObject(e, "site", (const char *)sqlite3_column_text(st, 3));
        cJSON_AddNumberToObject(e, "ms", sqlite3_column_double(st, 4));
        if (sqlite3_column_type(st, 5) != SQLITE_NULL) cJSON_AddNumberToObject(e, "rows", (double)sqlite3_column_int64(st, 5));
        cJSON_AddStringToObject(e, "sql", (const char *)sqlite3_column_text(st, 6));
        if (sqlite3_column_type(st, 7) != SQLITE_NULL) cJSON_AddStringToObject(e, "error", (const char *)sqlite3_column_text(st, 7));
        cJSON_AddItemToArray(entries, e);
    }
    sqlite3_finalize(st);
    if (s != SQLITE_DONE) {
        cJSON_Delete(entries);
        return md_wsreq_fail(r, MD_EIO, "the server cannot read its workspace store");
    }
    return entries;
}

cJSON *md_history_rows(md_wsdb *db, const char *user, int all, int limit) {
    static const md_wsop row_ops[] = {{"rows", 0, op_rows}};
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "op", "rows");
    cJSON_AddNumberToObject(req, "limit", limit);
    cJSON_AddBoolToObject(req, "all", all);
    int code = 0;
    char *msg = NULL;
    cJSON *out = md_wsdb_serve(db, row_ops, 1, "HISTORY", NULL, user, 1, req, &code, &msg);
    cJSON_Delete(req);
    md_free(msg);
    return out;
}

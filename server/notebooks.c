/*
 * notebooks.c: users' notebooks in sqlite3 (see notebooks.h).
 *
 * Every request runs under the handle's mutex, and starts by purging the
 * user's notebooks that have been in the trash longer than
 * MD_NOTEBOOK_TRASH_DAYS (an index on (user, deleted_ms) keeps that cheap).
 */
#include "notebooks.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

#define ID_BYTES 16
#define DAY_MS (24LL * 3600 * 1000)

struct md_notebooks {
    sqlite3 *db;
    pthread_mutex_t mu;
};

static const char *schema_sql =
    "CREATE TABLE IF NOT EXISTS notebooks("
    "  id TEXT PRIMARY KEY, user TEXT NOT NULL, title TEXT NOT NULL, content TEXT NOT NULL,"
    "  version INTEGER NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    "  deleted_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS notebooks_by_user ON notebooks(user, deleted_ms);";

int md_notebooks_open(const char *data_dir, md_notebooks **out, char **out_err) {
    char *path = md_asprintf("%s/workspace.sqlite3", data_dir);
    sqlite3 *db = NULL;
    char *err = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc == SQLITE_OK) sqlite3_busy_timeout(db, 10000);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL;", NULL, NULL, &err);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, schema_sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        if (out_err)
            *out_err = md_asprintf("cannot open the notebook store %s: %s", path, err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        sqlite3_close(db);
        md_free(path);
        return MD_EIO;
    }
    md_free(path);
    md_notebooks *nb = md_calloc(1, sizeof *nb);
    nb->db = db;
    pthread_mutex_init(&nb->mu, NULL);
    *out = nb;
    return MD_OK;
}

void md_notebooks_close(md_notebooks **pnb) {
    md_notebooks *nb = *pnb;
    if (!nb) return;
    sqlite3_close(nb->db);
    pthread_mutex_destroy(&nb->mu);
    md_free(nb);
    *pnb = NULL;
}

/* ---- one request ------------------------------------------------------ */

typedef struct req {
    md_notebooks *nb;
    const char *user;
    const cJSON *json;
    int code;
    char *msg;
} req;

static cJSON *fail(req *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static cJSON *fail(req *r, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *m = md_strdup(buf);
    if (!r->msg) {
        r->code = code;
        r->msg = m;
    } else {
        md_free(m);
    }
    return NULL;
}

static long long wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sqlite3_stmt *prep(req *r, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->nb->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "mdserver: notebooks: %s\n", sqlite3_errmsg(r->nb->db));
        fail(r, MD_EIO, "the server cannot read its notebook store");
        return NULL;
    }
    return st;
}

/* Step a statement that returns no rows; finalizes it.  MD_OK or MD_EIO. */
static int exec_done(req *r, sqlite3_stmt *st) {
    if (!st) return MD_EIO;
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    if (s == SQLITE_DONE) return MD_OK;
    fprintf(stderr, "mdserver: notebooks: %s\n", sqlite3_errmsg(r->nb->db));
    fail(r, MD_EIO, "the server cannot write its notebook store");
    return MD_EIO;
}

/* The string field `name` of the request, or NULL (and the error) when
 * it is missing or not a string of at most `max` bytes. */
static const char *str_field(req *r, const char *name, size_t max) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name);
    if (!cJSON_IsString(v)) return fail(r, MD_EINVAL, "the request needs \"%s\" as a string", name), NULL;
    if (strlen(v->valuestring) > max)
        return fail(r, MD_ETOO_LARGE, "\"%s\" is longer than %zu bytes", name, max), NULL;
    return v->valuestring;
}

static const char *title_field(req *r) {
    const char *t = str_field(r, "title", MD_NOTEBOOK_MAX_TITLE);
    if (t && !t[strspn(t, " \t\r\n")]) return fail(r, MD_EINVAL, "a notebook's title cannot be empty"), NULL;
    return t;
}

static const char *id_field(req *r) {
    const char *id = str_field(r, "id", 64);
    if (id && (strlen(id) != 2 * ID_BYTES || id[strspn(id, "0123456789abcdef")]))
        return fail(r, MD_ENOT_FOUND, "no notebook with id \"%s\"", id), NULL;
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
static cJSON *fetch(req *r, const char *id, int with_content) {
    sqlite3_stmt *st = prep(r, "SELECT title, version, content, created_ms, updated_ms FROM notebooks "
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
        fail(r, MD_ENOT_FOUND, "no notebook with id \"%s\" (it may have been deleted)", id);
    } else {
        fail(r, MD_EIO, "the server cannot read its notebook store");
    }
    sqlite3_finalize(st);
    return o;
}

static int count_live(req *r, long long *out) {
    sqlite3_stmt *st = prep(r, "SELECT count(*) FROM notebooks WHERE user = ?");
    if (!st) return MD_EIO;
    sqlite3_bind_text(st, 1, r->user, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_ROW ? MD_OK : MD_EIO;
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static cJSON *insert(req *r, const char *title, const char *content) {
    long long n = 0;
    if (count_live(r, &n) != MD_OK) return fail(r, MD_EIO, "the server cannot read its notebook store");
    if (n >= MD_NOTEBOOK_MAX_PER_USER)
        return fail(r, MD_ETOO_LARGE, "you have %d notebooks (the trash included), the most a user may keep: "
                                      "delete some first", MD_NOTEBOOK_MAX_PER_USER);
    char id[2 * ID_BYTES + 1];
    new_id(id);
    long long now = wall_ms();
    sqlite3_stmt *st = prep(r, "INSERT INTO notebooks(id, user, title, content, version, created_ms, updated_ms) "
                               "VALUES (?, ?, ?, ?, 1, ?, ?)");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, content, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, now);
    if (exec_done(r, st) != MD_OK) return NULL;
    return fetch(r, id, 1);
}

static cJSON *op_list(req *r) {
    sqlite3_stmt *st = prep(r, "SELECT id, title, version, created_ms, updated_ms, deleted_ms FROM notebooks "
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
        return fail(r, MD_EIO, "the server cannot read its notebook store");
    }
    return o;
}

static cJSON *op_create(req *r) {
    const char *title = title_field(r);
    if (!title) return NULL;
    const char *content = "";
    if (cJSON_GetObjectItemCaseSensitive(r->json, "content")) {
        content = str_field(r, "content", MD_NOTEBOOK_MAX_CONTENT);
        if (!content) return NULL;
    }
    return insert(r, title, content);
}

static cJSON *op_save(req *r) {
    const char *id = id_field(r);
    const char *content = str_field(r, "content", MD_NOTEBOOK_MAX_CONTENT);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, "version");
    if (!id || !content) return NULL;
    if (!cJSON_IsNumber(v) || v->valuedouble < 1)
        return fail(r, MD_EINVAL, "a save needs \"version\": the version the edit was made from");
    long long from = (long long)v->valuedouble, now = wall_ms();
    sqlite3_stmt *st = prep(r, "UPDATE notebooks SET content = ?, version = version + 1, updated_ms = ? "
                               "WHERE id = ? AND user = ? AND deleted_ms IS NULL AND version = ?");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, content, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, from);
    if (exec_done(r, st) != MD_OK) return NULL;
    if (sqlite3_changes(r->nb->db) == 1) {
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
    return fail(r, MD_ECONFLICT,
                "this notebook was changed elsewhere (another tab or window saved version %lld; this edit was made "
                "from version %lld): nothing was overwritten",
                have, from);
}

/* UPDATE ... WHERE id = ? AND user = ? (and the op's own condition); NOT_FOUND when no row matched. */
static int update_one(req *r, sqlite3_stmt *st, const char *id) {
    if (exec_done(r, st) != MD_OK) return MD_EIO;
    if (sqlite3_changes(r->nb->db) == 1) return MD_OK;
    fail(r, MD_ENOT_FOUND, "no notebook with id \"%s\" (it may have been deleted)", id);
    return MD_ENOT_FOUND;
}

static cJSON *op_rename(req *r) {
    const char *id = id_field(r), *title = title_field(r);
    if (!id || !title) return NULL;
    sqlite3_stmt *st = prep(r, "UPDATE notebooks SET title = ? WHERE id = ? AND user = ? AND deleted_ms IS NULL");
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

static cJSON *op_duplicate(req *r) {
    const char *id = id_field(r), *title = title_field(r);
    if (!id || !title) return NULL;
    cJSON *src = fetch(r, id, 1);
    if (!src) return NULL;
    cJSON *o = insert(r, title, cJSON_GetObjectItemCaseSensitive(src, "content")->valuestring);
    cJSON_Delete(src);
    return o;
}

static cJSON *op_delete(req *r) {
    const char *id = id_field(r);
    if (!id) return NULL;
    long long now = wall_ms();
    sqlite3_stmt *st = prep(r, "UPDATE notebooks SET deleted_ms = ? WHERE id = ? AND user = ? AND deleted_ms IS NULL");
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

static cJSON *op_restore(req *r) {
    const char *id = id_field(r);
    if (!id) return NULL;
    sqlite3_stmt *st = prep(r, "UPDATE notebooks SET deleted_ms = NULL WHERE id = ? AND user = ? "
                               "AND deleted_ms IS NOT NULL");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->user, -1, SQLITE_STATIC);
    if (update_one(r, st, id) != MD_OK) return NULL;
    return fetch(r, id, 0);
}

static cJSON *op_get(req *r) {
    const char *id = id_field(r);
    return id ? fetch(r, id, 1) : NULL;
}

static void purge(req *r) {
    sqlite3_stmt *st = prep(r, "DELETE FROM notebooks WHERE user = ? AND deleted_ms < ?");
    if (!st) return;
    sqlite3_bind_text(st, 1, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, wall_ms() - MD_NOTEBOOK_TRASH_DAYS * DAY_MS);
    exec_done(r, st);
}

static const struct {
    const char *name;
    int writes;
    cJSON *(*fn)(req *r);
} ops[] = {
    {"list", 0, op_list},           {"get", 0, op_get},       {"create", 1, op_create},
    {"save", 1, op_save},           {"rename", 1, op_rename}, {"duplicate", 1, op_duplicate},
    {"delete", 1, op_delete},       {"restore", 1, op_restore},
};

cJSON *md_notebooks_serve(md_notebooks *nb, const char *user, int read_only, const cJSON *json, int *out_code,
                          char **out_msg) {
    req r = {.nb = nb, .user = user, .json = json};
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(json, "op");
    cJSON *answer = NULL;
    size_t i = 0;
    if (cJSON_IsString(op))
        while (i < sizeof ops / sizeof ops[0] && strcmp(ops[i].name, op->valuestring) != 0) i++;
    if (!cJSON_IsObject(json) || !cJSON_IsString(op) || i == sizeof ops / sizeof ops[0]) {
        fail(&r, MD_EINVAL, "a NOTEBOOK request is {\"op\": list|get|create|save|rename|duplicate|delete|restore, ...}");
    } else if (ops[i].writes && read_only) {
        fail(&r, MD_EREAD_ONLY, "this token is read-only: it can open notebooks but not change them");
    } else {
        pthread_mutex_lock(&nb->mu);
        purge(&r);
        if (!r.msg) answer = ops[i].fn(&r);
        pthread_mutex_unlock(&nb->mu);
    }
    if (!answer) {
        *out_code = r.msg ? r.code : MD_EINTERNAL;
        *out_msg = r.msg ? r.msg : md_strdup(md_strerror(MD_EINTERNAL));
    }
    return answer;
}

/*
 * workspace_db.c: the workspace store and its requests (see workspace_db.h).
 */
#include "workspace_db.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "server/sqlite_file.h"

struct md_wsdb {
    sqlite3 *db;
    pthread_mutex_t mu;
};

int md_wsdb_open(const char *data_dir, md_wsdb **out, char **out_err) {
    sqlite3 *db = NULL;
    if (md_sqlite_open(data_dir, "workspace.sqlite3", "the workspace store", NULL, &db, out_err) != MD_OK) return MD_EIO;
    md_wsdb *w = md_calloc(1, sizeof *w);
    w->db = db;
    pthread_mutex_init(&w->mu, NULL);
    *out = w;
    return MD_OK;
}

void md_wsdb_close(md_wsdb **pw) {
    md_wsdb *w = *pw;
    if (!w) return;
    sqlite3_close(w->db);
    pthread_mutex_destroy(&w->mu);
    md_free(w);
    *pw = NULL;
}

int md_wsdb_exec(md_wsdb *w, const char *sql, char **out_err) {
    char *err = NULL;
    if (sqlite3_exec(w->db, sql, NULL, NULL, &err) == SQLITE_OK) return MD_OK;
    if (out_err) *out_err = md_asprintf("cannot set up the workspace store: %s", err ? err : sqlite3_errmsg(w->db));
    sqlite3_free(err);
    return MD_EIO;
}

cJSON *md_wsreq_fail(md_wsreq *r, int code, const char *fmt, ...) {
    if (r->msg) return NULL;
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->code = code;
    r->msg = md_strdup(buf);
    return NULL;
}

sqlite3_stmt *md_wsreq_prep(md_wsreq *r, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "mdserver: workspace store: %s\n", sqlite3_errmsg(r->db));
        md_wsreq_fail(r, MD_EIO, "the server cannot read its workspace store");
        return NULL;
    }
    return st;
}

int md_wsreq_exec(md_wsreq *r, sqlite3_stmt *st) {
    if (!st) return MD_EIO;
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    if (s == SQLITE_DONE) return MD_OK;
    fprintf(stderr, "mdserver: workspace store: %s\n", sqlite3_errmsg(r->db));
    md_wsreq_fail(r, MD_EIO, "the server cannot write its workspace store");
    return MD_EIO;
}

const char *md_wsreq_str(md_wsreq *r, const char *name, size_t max) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name);
    if (!cJSON_IsString(v)) return md_wsreq_fail(r, MD_EINVAL, "the request needs \"%s\" as a string", name), NULL;
    if (strlen(v->valuestring) > max)
        return md_wsreq_fail(r, MD_ETOO_LARGE, "\"%s\" is longer than %zu bytes", name, max), NULL;
    return v->valuestring;
}

cJSON *md_wsdb_serve(md_wsdb *w, const md_wsop *ops, size_t nops, const char *what, void (*before)(md_wsreq *r),
                     const char *user, int read_only, const cJSON *json, int *out_code, char **out_msg) {
    md_wsreq r = {.db = w->db, .user = user, .json = json};
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(json, "op");
    cJSON *answer = NULL;
    size_t i = 0;
    if (cJSON_IsString(op))
        while (i < nops && strcmp(ops[i].name, op->valuestring) != 0) i++;
    if (!cJSON_IsObject(json) || !cJSON_IsString(op) || i == nops) {
        char names[256] = "";
        for (size_t k = 0; k < nops; k++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? "|" : "", ops[k].name);
        md_wsreq_fail(&r, MD_EINVAL, "a %s request is {\"op\": %s, ...}", what, names);
    } else if (ops[i].writes && read_only) {
        md_wsreq_fail(&r, MD_EREAD_ONLY, "this token is read-only: it can read the workspace but not change it");
    } else {
        pthread_mutex_lock(&w->mu);
        if (before) before(&r);
        if (!r.msg) answer = ops[i].fn(&r);
        pthread_mutex_unlock(&w->mu);
    }
    if (!answer) {
        *out_code = r.msg ? r.code : MD_EINTERNAL;
        *out_msg = r.msg ? r.msg : md_strdup(md_strerror(MD_EINTERNAL));
    } else {
        md_free(r.msg);
    }
    return answer;
}

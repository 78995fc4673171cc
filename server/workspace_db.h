/*
 * workspace_db.h: the store of the users' workspace (notebooks.h,
 * history.h): one sqlite3 file, <data-dir>/workspace.sqlite3 (WAL), and
 * the frame of a request to it.
 *
 * A request is JSON {op, ...}; a module serves it with md_wsdb_serve and a
 * table of its ops.  Every op runs under the store's mutex, for one user,
 * and either answers (a cJSON object) or fails with a code and a sentence
 * (md_wsreq_fail).  Ops that write are refused to read-only tokens.
 */
#ifndef MD_WORKSPACE_DB_H
#define MD_WORKSPACE_DB_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>

#include "shared/md_time.h"

typedef struct md_wsdb md_wsdb;

/* Open (creating if needed) the store under data_dir, which must exist.
 * MD_OK, or MD_EIO with *out_err (caller frees). */
int md_wsdb_open(const char *data_dir, md_wsdb **out, char **out_err);

void md_wsdb_close(md_wsdb **db);

/* Run `sql` (a module's CREATE TABLE IF NOT EXISTS ...).  MD_OK, or MD_EIO with *out_err. */
int md_wsdb_exec(md_wsdb *db, const char *sql, char **out_err);

/* One request being served. */
typedef struct md_wsreq {
    sqlite3 *db;
    const char *user;
    const cJSON *json;
    int code;  /* set by the first md_wsreq_fail */
    char *msg;
} md_wsreq;

typedef struct md_wsop {
    const char *name;
    int writes;
    cJSON *(*fn)(md_wsreq *r);
} md_wsop;

/*
 * Serve `json` with the op of `ops` it names; `what` names the request in
 * errors ("NOTEBOOK").  `before` (may be NULL) runs first under the lock.
 * Returns the answer, or NULL with *out_code and *out_msg (md_malloc'd).
 */
cJSON *md_wsdb_serve(md_wsdb *db, const md_wsop *ops, size_t nops, const char *what, void (*before)(md_wsreq *r),
                     const char *user, int read_only, const cJSON *json, int *out_code, char **out_msg);

/* Record the request's failure (the first one wins); returns NULL. */
cJSON *md_wsreq_fail(md_wsreq *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A prepared statement, or NULL with the failure recorded. */
sqlite3_stmt *md_wsreq_prep(md_wsreq *r, const char *sql);

/* Step a statement that returns no rows, and finalize it.  MD_OK or MD_EIO (recorded). */
int md_wsreq_exec(md_wsreq *r, sqlite3_stmt *st);

/* The request's string field `name`, or NULL (recorded) when missing, not a
 * string, or longer than `max` bytes. */
const char *md_wsreq_str(md_wsreq *r, const char *name, size_t max);


#endif

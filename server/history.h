/*
 * history.h: each user's query history, kept by the server for the
 * workspace (HISTORY requests, shared/protocol.h).
 *
 * The page records what the user ran (a cell, a statement): its SQL, where
 * it ran (local, remote, server, hybrid; mixed for several sites; unknown
 * for a script that failed before it ran), how long it took, its rows, or
 * its error; the values of secrets in a CREATE SECRET are replaced by '***'
 * (shared/sql_redact.h) before anything is kept.  Table history(id,
 * user, at_ms, site, ms, rows, sql, error) in the workspace store
 * (workspace_db.h); a user keeps their newest MD_HISTORY_MAX_PER_USER
 * entries.
 *
 * Requests (JSON {op, ...}) and answers:
 *   add {sql, site, ms, rows?, error?}   {id, at_ms}
 *   list {search?, before?, limit?}      {entries: [{id, at_ms, site, ms, rows, sql, error}]},
 *                                        newest first: those whose SQL contains `search`
 *                                        (case-insensitive), with id < before; at most
 *                                        `limit` (default and most: MD_HISTORY_PAGE)
 *   clear                                {deleted}
 * A read-only token may list.
 */
#ifndef MD_HISTORY_H
#define MD_HISTORY_H

#include <cjson/cJSON.h>

#include "workspace_db.h"

#define MD_HISTORY_MAX_SQL (32u * 1024u) /* the page keeps the first HISTORY_SQL_CHARS of longer SQL */
#define MD_HISTORY_MAX_PER_USER 10000
#define MD_HISTORY_PAGE 200

/* Create the history table in the store if it is not there.  MD_OK or MD_EIO with *out_err. */
int md_history_init(md_wsdb *db, char **out_err);

/* Serve one request of `user` (as md_notebooks_serve does). */
cJSON *md_history_serve(md_wsdb *db, const char *user, int read_only, const cJSON *req, int *out_code,
                        char **out_msg);

/* The newest `limit` entries of `user` (all: of every user), newest first,
 * as a JSON array of {id, user, at_ms, site, ms, rows?, sql, error?}; NULL
 * when the store cannot be read.  For md_information_schema.query_history
 * (store_service.h).  Caller deletes. */
cJSON *md_history_rows(md_wsdb *db, const char *user, int all, int limit);

#endif

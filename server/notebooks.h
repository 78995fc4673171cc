/*
 * notebooks.h: users' notebooks, kept by the server for the workspace
 * (NOTEBOOK requests, shared/protocol.h).
 *
 * Stored in <data-dir>/workspace.sqlite3 (WAL), table notebooks(id, user,
 * title, content, version, created_ms, updated_ms, deleted_ms).  `content`
 * is the page's document as text, opaque here (at most
 * MD_NOTEBOOK_MAX_CONTENT bytes).  `version` counts content saves from 1: a
 * save names the version it was made from and is refused with
 * VERSION_CONFLICT when that is no longer the newest, so an edit made in
 * another tab is never silently overwritten.  Titles are not versioned
 * (renaming never conflicts with typing).  A deleted notebook stays in the
 * trash, restorable, for MD_NOTEBOOK_TRASH_DAYS, then is purged.
 *
 * Requests (JSON {op, ...}) and answers:
 *   list                        {notebooks: [{id, title, version, created_ms, updated_ms}],
 *                                trash: [{id, title, deleted_ms, purge_ms}]}, newest first
 *   get {id}                    {id, title, version, content, created_ms, updated_ms}
 *   create {title, content?}    the new notebook, as get answers it
 *   save {id, version, content} {id, version (the new one), updated_ms}
 *   rename {id, title}          {id, title}
 *   duplicate {id, title}       the copy, as get answers it
 *   delete {id}                 {id, deleted_ms, purge_ms}
 *   restore {id}                {id, title}
 * A user sees only their own notebooks: another user's id is NOT_FOUND.  A
 * read-only token may list and get.
 */
#ifndef MD_NOTEBOOKS_H
#define MD_NOTEBOOKS_H

#include <cjson/cJSON.h>

#define MD_NOTEBOOK_MAX_CONTENT (16u * 1024u * 1024u)
#define MD_NOTEBOOK_MAX_TITLE 200
#define MD_NOTEBOOK_MAX_PER_USER 10000
#define MD_NOTEBOOK_TRASH_DAYS 7

typedef struct md_notebooks md_notebooks;

/* Open (creating if needed) the store under data_dir, which must exist.
 * MD_OK, or MD_EIO with *out_err (caller frees). */
int md_notebooks_open(const char *data_dir, md_notebooks **out, char **out_err);

void md_notebooks_close(md_notebooks **nb);

/*
 * Serve one request of `user`.  Returns the answer (caller deletes), or
 * NULL with *out_code (an MD_E... code) and *out_msg (md_malloc'd sentence).
 */
cJSON *md_notebooks_serve(md_notebooks *nb, const char *user, int read_only, const cJSON *req, int *out_code,
                          char **out_msg);

#endif

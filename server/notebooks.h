/*
 * notebooks.h: users' notebooks, kept by the server for the workspace
 * (NOTEBOOK requests, shared/protocol.h).
 *
 * Stored in the workspace store (workspace_db.h), table notebooks(id, user,
 * bytes, title, content, version, created_ms, updated_ms, deleted_ms).  `content`
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

#include "workspace_db.h"

#define MD_NOTEBOOK_MAX_CONTENT (16u * 1024u * 1024u)
#define MD_NOTEBOOK_MAX_TITLE 200
#define MD_NOTEBOOK_MAX_PER_USER 10000
#define MD_NOTEBOOK_MAX_USER_BYTES (256u * 1024u * 1024u) /* all of a user's notebooks, the trash included */
#define MD_NOTEBOOK_TRASH_DAYS 7

/* Create the notebooks table in the store if it is not there.  MD_OK or MD_EIO with *out_err. */
int md_notebooks_init(md_wsdb *db, char **out_err);

/*
 * Serve one request of `user`.  Returns the answer (caller deletes), or
 * NULL with *out_code (an MD_E... code) and *out_msg (md_malloc'd sentence).
 */
cJSON *md_notebooks_serve(md_wsdb *db, const char *user, int read_only, const cJSON *req, int *out_code,
                          char **out_msg);

#endif

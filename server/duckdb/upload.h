/*
 * upload.h: UPLOAD, an Arrow IPC stream from the client into a temporary
 * table of its session (the local-to-remote bridge of dual execution,
 * DESIGN 7).
 *
 * Wire shape: one request id, one or more UPLOAD frames in order, each
 * payload a JSON header and the next bytes of one Arrow IPC stream
 * (upload_wire.h).
 *
 * The stream must hold its schema; a stream without a record batch makes
 * an empty table of the schema's columns.  The answer is
 * RESULT_END {"rows", "bytes", "table": "temp.main.<name>", "final": true}
 * or one ERROR (later frames of a failed upload are dropped).  The table is
 * created with CREATE OR REPLACE TEMP TABLE, lives as long as the session,
 * and is bounded by the server's --max-result-bytes.
 */
#ifndef MD_UPLOAD_H
#define MD_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <duckdb.h>
#include "shared/arrow_abi.h"

typedef struct md_upload md_upload;

/* Begin an upload into temp table `table` on c (used by one thread), at
 * most max_bytes of Arrow bytes (0: no limit). */
md_upload *md_upload_begin(duckdb_connection c, const char *table, uint64_t max_bytes);

/* Decode what p[0..len) completes and append its batches.  MD_OK; MD_EBAD_FRAME
 * / MD_EUNSUPPORTED (bad Arrow), MD_ETOO_LARGE, MD_ESQL (DuckDB refused)
 * with *out_err. */
int md_upload_feed(md_upload *u, const uint8_t *p, size_t len, char **out_err);

/* Already decoded arrays instead of bytes (a client reading a remote
 * result into its own DuckDB): the schema first -- borrowed, it must stay
 * valid until the first batch was added -- then each batch, which the
 * upload takes over (batch->release is left NULL).  Errors as feed. */
int md_upload_schema(md_upload *u, const struct ArrowSchema *schema, char **out_err);
int md_upload_batch(md_upload *u, struct ArrowArray *batch, char **out_err);

/* The stream ended: every byte decoded, a batch seen.  MD_OK with *out_rows
 * and *out_bytes; an error with *out_err. */
int md_upload_finish(md_upload *u, int64_t *out_rows, uint64_t *out_bytes, char **out_err);

/* The table's name, as given to md_upload_begin. */
const char *md_upload_table(const md_upload *u);

/* Free (an unfinished upload's table is dropped); sets *u to NULL.  NULL
 * is fine. */
void md_upload_end(md_upload **u);

#endif

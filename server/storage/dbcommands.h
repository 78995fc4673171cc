/*
 * dbcommands.h: the duckling's answers to the server's database statements
 * (db_statements.h): each is carried out on the registry (databases.h) and
 * the metadata, and answered as SQL the duckling runs and streams like any
 * result, so clients need nothing but SQL.
 *
 * Answers:
 *   SHOW [ALL] DATABASES   database_name, alias, mode, snapshot_id,
 *                          retention_days, created_at, dropped_at: one row per
 *                          attachment and per live database not attached
 *                          (ALL adds the dropped ones UNDROP can still bring
 *                          back); mode is read_write, read_only (a reader of
 *                          the head), snapshot (time travel), locked (written
 *                          by another process: read-only here), not attached,
 *                          dropped, share (another user's database through
 *                          a share), or file (a database file the user attached)
 *   share statements       sharecommands.h
 *   every other statement  database_name VARCHAR, snapshot_id BIGINT, status
 *                          VARCHAR: one row saying what happened
 */
#ifndef MD_DBCOMMANDS_H
#define MD_DBCOMMANDS_H

#include <duckdb.h>
#include "server/storage/databases.h"
#include "server/storage/db_statements.h"

/*
 * Carry out `st` for a session on connection c.  MD_OK with *out_answer
 * (SQL, caller frees) -- or, for a DETACH, ATTACH OR REPLACE or ALTER
 * DATABASE that does not touch an md: attachment, with *out_answer NULL:
 * run the statement's own text in DuckDB.
 * An MD_E code with *out_err (caller frees) when it failed.
 */
int md_dbcommand_run(md_databases *d, duckdb_connection c, const md_dbstmt *st, char **out_answer, char **out_err);

#endif

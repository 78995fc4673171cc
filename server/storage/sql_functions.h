/*
 * sql_functions.h: SQL functions the duckling adds for snapshot storage.
 *
 *   md_snapshots(database VARCHAR) -> TABLE(snapshot_id BIGINT, name VARCHAR,
 *       created_at TIMESTAMP, bytes_added BIGINT, file_size BIGINT)
 *     the snapshots of one of the session user's databases, oldest first
 *     (snapshot_id increases); an unknown database is an error naming it.
 *
 * The functions read the storage metadata (dbmeta.h) with a handle of their
 * own; they see only the databases of the user the duckling serves.
 */
#ifndef MD_SQL_FUNCTIONS_H
#define MD_SQL_FUNCTIONS_H

#include <duckdb.h>
#include "server/storage/dbmeta.h"

typedef struct md_sql_functions md_sql_functions;

/* Register the functions on `conn`'s database for `owner`'s databases in
 * `meta` (borrowed: it must outlive DuckDB).  MD_OK with *out (free with
 * md_sql_functions_free after DuckDB is closed), or MD_EIO with *out_err. */
int md_sql_functions_register(duckdb_connection conn, md_dbmeta *meta, const char *owner,
                              md_sql_functions **out, char **out_err);

/* Free what the functions use; sets *f to NULL.  Call after duckdb_close. */
void md_sql_functions_free(md_sql_functions **f);

#endif

/*
 * info_schema.h: md_information_schema, a database of views every session
 * of the duckling sees, spelled and shaped as MotherDuck's:
 *
 *   databases           name, uuid, created_ts, transient,
 *                       historical_snapshot_retention, type, active_snapshot_id
 *   database_snapshots  database_name, database_id, snapshot_id, snapshot_name,
 *                       created_ts, active_bytes, bytes_written, bytes_deleted,
 *                       user_name, user_id
 *   owned_shares        name, url, source_db_name, source_db_uuid, access,
 *                       grants (username, access)[], visibility, update,
 *                       created_ts, snapshot_id
 *   shared_with_me      name, url, created_ts, update, access, source_db_name,
 *                       owner, visibility, snapshot_id: the shares listed to the
 *                       user (readable, and DISCOVERABLE or granted to it)
 *   storage_info        database_name, database_id, user_name, transient,
 *                       active_bytes, historical_bytes, retained_for_clone_bytes,
 *                       failsafe_bytes, snapshots, computed_ts, deleted_ts
 *   query_history       query_id, query_text (secrets redacted), query_type,
 *                       start_time, end_time, total_elapsed_time,
 *                       execution_site, rows, error_message, user_name: what
 *                       the user ran (an administrator: every user)
 *   recent_queries      the same columns: what runs now, then the last hour
 *
 * Differences from MotherDuck: ids are numbers (uuid columns are made from
 * them), snapshot ids are this server's (what ATTACH ... (SNAPSHOT n)
 * takes), storage_info and database_snapshots cover the user's own
 * databases, and the history is the one the page records.
 */
#ifndef MD_INFO_SCHEMA_H
#define MD_INFO_SCHEMA_H

#include <duckdb.h>

#include "server/storage/dbmeta.h"
#include "server/storage/store_remote.h"

typedef struct md_info_schema md_info_schema;

/* Register the functions and attach md_information_schema with its views
 * on conn's database (before the sandbox).  meta and calls are borrowed
 * and must outlive the database.  MD_OK, or MD_EIO with *out_err. */
int md_info_schema_open(duckdb_connection conn, md_dbmeta *meta, md_server_calls *calls, const char *owner,
                        md_info_schema **out, char **out_err);

/* After the database is closed. */
void md_info_schema_free(md_info_schema **x);

#endif

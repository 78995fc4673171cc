/*
 * sharecommands.h: the duckling's answers to the share statements
 * (db_statements.h: CREATE / UPDATE / DROP SHARE, GRANT / REVOKE READ ON
 * SHARE, LIST SHARES, SHOW GRANTS ON SHARE, ATTACH 'md:_share/...').  Each
 * is carried out through the storage metadata (dbmeta.h: the server checks
 * every call against the duckling's user) and the registry (databases.h),
 * and answered as SQL (answer_sql.h).
 *
 * Answers:
 *   CREATE SHARE    share_url
 *   LIST SHARES     name, url, source_db_name, access, visibility, update,
 *                   snapshot_id, created_ts, updated_ts
 *   SHOW GRANTS     share_owner, grantee_name, grantee_type, privilege, granted_at
 *   GRANT / REVOKE  share_name, grantee, status (one row per user)
 *   the others      database_name, snapshot_id, status
 *
 * Defaults, as MotherDuck's: ACCESS ORGANIZATION, VISIBILITY DISCOVERABLE
 * (HIDDEN for UNRESTRICTED, which cannot be DISCOVERABLE), UPDATE MANUAL;
 * the share is named after its database, and without FROM shares the
 * session's current database.
 */
#ifndef MD_SHARECOMMANDS_H
#define MD_SHARECOMMANDS_H

#include <duckdb.h>

#include "server/storage/databases.h"
#include "server/storage/db_statements.h"

/* 1 if `kind` is a share statement (this module's). */
int md_sharecommand_is(md_dbstmt_kind kind);

/* Carry out share statement `st` for a session on connection c.  MD_OK
 * with *out_answer (SQL, caller frees), or an MD_E code with *out_err. */
int md_sharecommand_run(md_databases *d, duckdb_connection c, const md_dbstmt *st, char **out_answer,
                        char **out_err);

#endif

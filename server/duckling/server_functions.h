/*
 * server_functions.h: SQL functions a duckling answers from the server
 * (through its storage link, store_remote.h), spelled as MotherDuck's:
 *
 *   md_user_info()      user_id, username, org_id, org_name, org_type
 *                       ('self-hosted'), region ('local'), role (admin|member)
 *   md_active_server_connections()
 *                       client_connection_id, user_name, token_type,
 *                       client_user_agent, session_name, connected_at,
 *                       client_query_id, client_query, query_started_at,
 *                       server_query_elapsed_time: every open connection of
 *                       the user (an administrator: of everyone), busy or not
 *   md_interrupt_server_connection(client_connection_id) -> BOOLEAN
 *                       cancels what that connection runs (the user's own;
 *                       an administrator: any); true when it ran something
 *   md_duckling_id()    which engine answers: '<user>_rw' (the user's read/write
 *                       duckling) or '<user>_rs.<i>' (read replica i)
 *   md_current_client_connection_id()
 *                       the session's own id (a TEMP macro each session gets)
 */
#ifndef MD_SERVER_FUNCTIONS_H
#define MD_SERVER_FUNCTIONS_H

#include <duckdb.h>

#include "server/storage/store_remote.h"

/* Register them on conn's database; calls is borrowed and must outlive it.
 * MD_OK, or MD_EIO with *out_err. */
int md_server_functions_register(duckdb_connection conn, md_server_calls *calls, const char *duckling_id,
                                 char **out_err);

#endif

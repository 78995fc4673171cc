/*
 * store_remote.h: the duckling's side of its storage link (store_wire.h):
 * an md_objstore and an md_dbmeta whose every call is a request to the
 * server, which answers it on the real store after checking it against the
 * duckling's user (store_service.h).  The duckling itself never opens the
 * block store or the metadata file, and Landlock keeps it out of both.
 *
 * Calls from any thread; one call at a time travels on the link (a mutex).
 * A broken link makes every later call fail with MD_EIO.  Operations the
 * server never grants a duckling (list and remove objects, garbage
 * collection) answer MD_EPERMISSION without asking.
 */
#ifndef MD_STORE_REMOTE_H
#define MD_STORE_REMOTE_H

#include "server/directory.h"
#include "server/secrets.h"
#include "server/storage/dbmeta.h"
#include "server/storage/objstore.h"

/* The link's calls about the server itself: its connections and the user. */
typedef struct md_server_calls md_server_calls;

/*
 * The four handles over the link on `fd` (takes ownership of fd: it is
 * closed when all four are).  Close each with md_objstore_close,
 * md_dbmeta_close, md_secrets_close and md_server_calls_close.  The
 * secrets handle reaches the user's own secrets only; the server holds the
 * key.
 */
void md_store_remote_open(int fd, md_objstore **out_store, md_dbmeta **out_meta, md_secrets **out_secrets,
                          md_server_calls **out_calls);

/* cb for each open connection of the user (an administrator: everyone's).
 * The strings live during the call.  MD_OK or the link's error. */
int md_server_calls_conns(md_server_calls *c, md_conn_cb cb, void *ctx);

/* Interrupt what connection `id` runs: MD_OK; MD_ENOT_FOUND (no such
 * connection of the user's); MD_EINVAL (it runs nothing); the link's error. */
int md_server_calls_interrupt(md_server_calls *c, const char *id);

/* The user's record: id, name, organization, role (admin|member), each
 * malloc'd.  MD_OK or an error. */
int md_server_calls_user(md_server_calls *c, char **out_id, char **out_name, char **out_org, char **out_role);

/* One query history entry (strings live during the call; rows < 0: none). */
typedef struct md_history_entry {
    int64_t id;
    const char *user;
    int64_t at_ms;
    const char *site;
    double ms;
    int64_t rows;
    const char *sql;
    const char *error;
} md_history_entry;

/* cb for the newest `limit` query history entries of the user (an
 * administrator: of everyone), newest first.  MD_OK or the link's error. */
int md_server_calls_history(md_server_calls *c, int64_t limit, void (*cb)(void *ctx, const md_history_entry *e),
                            void *ctx);

void md_server_calls_close(md_server_calls **c);

#endif

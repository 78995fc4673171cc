/*
 * store_service.h: the server's side of a duckling's storage link
 * (store_wire.h): one thread per duckling answers its md_objstore and
 * md_dbmeta calls on the server's own handles, each call checked against
 * the user the duckling was started for.
 *
 * What a duckling may do (anything else is answered MD_EPERMISSION, or
 * MD_ENOT_FOUND where a different answer would tell that something exists):
 *   - databases: only its user's, named by owner or by id (ids of other
 *     users' databases, and snapshots of them, do not exist for it);
 *   - objects: put only blocks of its user's block space (space || bytes)
 *     and manifests of format 2 in that space; get only those, the format 1
 *     manifests of its user's snapshots and the blocks such a manifest
 *     lists (format 1 blocks carry no owner);
 *   - shares: create, update, drop, grant on and list only its user's;
 *     find (by URL) any share its user may read -- which opens it: its
 *     snapshot, manifests and blocks become readable while it stays
 *     readable (rechecked every second); list (owner NULL) only the
 *     shares listed to its user (readable, and DISCOVERABLE or granted);
 *   - secrets: store, drop, list and reveal only its user's (the server
 *     seals and opens them: secrets.h);
 *   - connections: list its user's (an administrator's: everyone's) and
 *     interrupt them (directory.h); its user's own record (USER_INFO);
 *     its user's query history (an administrator's: everyone's);
 *   - never: list or remove objects, expire snapshots, list every
 *     database (owner NULL) or every snapshot (db_id <= 0).
 */
#ifndef MD_STORE_SERVICE_H
#define MD_STORE_SERVICE_H

#include "server/directory.h"
#include "server/meta.h"
#include "server/secrets.h"
#include "server/storage/dbmeta.h"
#include "server/storage/objstore.h"

typedef struct md_store_service md_store_service;

/* What a service serves from; every handle is borrowed and must outlive it. */
typedef struct md_store_service_config {
    const char *owner;             /* the duckling's user */
    md_objstore *store;
    md_dbmeta *meta;
    md_meta *users;                /* organizations, users (NULL: one organization, grants to any name) */
    md_secrets *secrets;           /* NULL: every secret call is refused */
    const md_directory *directory; /* NULL: no connections are listed */
    struct md_wsdb *workspace;     /* the query history (history.h); NULL: none */
} md_store_service_config;

/*
 * Start answering the calls that arrive on `fd` for cfg->owner's duckling,
 * on a thread of its own, until the duckling closes its end or the link
 * breaks.  Takes ownership of fd.  MD_OK or MD_EIO (no thread).
 */
int md_store_service_start(int fd, const md_store_service_config *cfg, md_store_service **out);

/* Stop serving (shuts the link down), join the thread, free; NULLs *s. */
void md_store_service_stop(md_store_service **s);

#endif

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

#include "server/secrets.h"
#include "server/storage/dbmeta.h"
#include "server/storage/objstore.h"

/*
 * The three handles over the link on `fd` (takes ownership of fd: it is
 * closed when all three are).  Close each with md_objstore_close,
 * md_dbmeta_close and md_secrets_close.  The secrets handle reaches the
 * user's own secrets only; the server holds the key.
 */
void md_store_remote_open(int fd, md_objstore **out_store, md_dbmeta **out_meta, md_secrets **out_secrets);

#endif

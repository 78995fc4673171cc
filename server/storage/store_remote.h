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

#include "server/storage/dbmeta.h"
#include "server/storage/objstore.h"

/*
 * Both handles over the link on `fd` (takes ownership of fd: it is closed
 * when both handles are).  Close each with md_objstore_close and
 * md_dbmeta_close.
 */
void md_store_remote_open(int fd, md_objstore **out_store, md_dbmeta **out_meta);

#endif

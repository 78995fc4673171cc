/*
 * pool.h: the duckling pool: one sandboxed DuckDB process per active user.
 *
 * A session asks for a channel (a socket to its user's duckling); the pool
 * starts the duckling on demand, reuses it for every session of that user,
 * and stops it once it has had no session for `idle_timeout_s`.
 *
 * Read scaling: sessions of a read_scaling token go to one of the user's
 * read replicas instead (at most `read_replicas` ducklings per user, each
 * started with --replica I): read-only ducklings that attach every
 * database as a reader of its newest snapshot and follow new commits
 * before each statement, so a long write on the user's read/write duckling
 * never holds their reads up.  A session_name pins its sessions to one
 * replica (the same name, the same replica); without one a session goes to
 * the replica with the fewest sessions.  Each
 * duckling gets a storage link served by a thread of the server, which
 * answers its snapshot storage calls for its user only.  A duckling
 * that dies is reaped and replaced on the next request; the server never
 * goes down with it.
 */
#ifndef MD_POOL_H
#define MD_POOL_H

#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "directory.h"
#include "meta.h"
#include "secrets.h"
#include "server/storage/dbmeta.h"
#include "server/storage/objstore.h"

typedef struct md_pool md_pool;

typedef struct md_pool_config {
    const char *data_dir;      /* users' files live in <data_dir>/users/<user>/ */
    const char *exe_path;      /* this binary, started as `<exe> duckling ...` */
    const char *memory_limit;  /* DuckDB memory_limit per duckling, e.g. "4GB" */
    int threads;               /* DuckDB threads per duckling (0: DuckDB's default) */
    int idle_timeout_s;        /* stop a duckling after this long without sessions */
    int max_ducklings;         /* at most this many processes at once */
    int read_replicas;         /* read-scaling ducklings per user at most (0: read_scaling sessions
                                * use the user's duckling, read-only) */
    uint32_t max_frame_bytes;  /* largest request frame a duckling accepts */
    uint64_t max_result_bytes; /* largest result a query may return (0: no limit) */
    int64_t statement_timeout_ms; /* a query's default and largest run time (0: none) */
    int64_t cancel_grace_ms;      /* a query asked to stop that runs this much longer ends its duckling */
    md_objstore *store;        /* snapshot storage, borrowed: each duckling reaches it */
    md_dbmeta *meta;           /* only through its storage link (storage/store_service.h) */
    md_meta *users;            /* borrowed: the users' ids, for their ducklings' uids */
    md_secrets *secrets;       /* borrowed: each duckling reaches its user's secrets (store_service.h) */
    const md_directory *directory; /* borrowed: the open connections, for md_active_server_connections() */
    struct md_wsdb *workspace;     /* borrowed: the query history, for md_information_schema */
    long uid_base;             /* a server running as root runs user u's duckling as uid
                                * uid_base + u's id, owner of u's files (server/duckling/confine.h) */
    md_cgroup *cgroup;         /* borrowed; NULL: no kernel limits (cgroup.h) */
} md_pool_config;

/* Create the pool (strings are copied) and its reaper thread. */
int md_pool_create(const md_pool_config *cfg, md_pool **out);

/* Who a channel is for. */
typedef struct md_pool_session {
    const char *user;
    md_token_kind kind;       /* read_scaling: a replica; otherwise the user's duckling */
    const char *session_name; /* NULL, or pins a read_scaling session to one replica */
    const char *conn_id;      /* the connection's id, which the duckling's session learns */
} md_pool_session;

/*
 * Open a new session channel for `who` (to its user's duckling or one of
 * its replicas), starting the duckling if needed.  On MD_OK *out_fd is a
 * connected stream socket the caller owns and *out_ticket names the
 * duckling for md_pool_close_channel; the duckling already knows the
 * session's user, token kind and connection id.  Errors: MD_EBUSY (all
 * `max_ducklings` in use by active users), MD_EDUCKLING (it could not start:
 * *out_err says why, caller frees).
 */
int md_pool_open_channel(md_pool *p, const md_pool_session *who, int *out_fd, uint64_t *out_ticket, char **out_err);

/* A session on the duckling of `ticket` now has a request in flight (busy
 * 1) or none left (busy 0); calls pair up.  Ducklings whose sessions all
 * stayed idle a while may be stopped for another user (pool.c). */
void md_pool_session_busy(md_pool *p, uint64_t ticket, int busy);

/* The caller closed the channel that md_pool_open_channel gave with `ticket`. */
void md_pool_close_channel(md_pool *p, uint64_t ticket);

/* Stop every duckling (each closes its database cleanly; a duckling that does
 * not exit within a few seconds is killed) and free the pool. */
void md_pool_destroy(md_pool **p);

#endif

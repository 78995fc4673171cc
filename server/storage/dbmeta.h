/*
 * dbmeta.h: the metadata of snapshot storage: databases, their snapshots
 * and their writer leases.  sqlite3 (<data-dir>/meta.sqlite3, beside the
 * users and tokens of meta.h, WAL mode) behind this interface, which a
 * PostgreSQL backend can implement for several server nodes (DESIGN 10).
 *
 * Tables:
 *   databases(id, owner, name, created_at, dropped_at NULL while live,
 *             retention_days, head NULL before the first snapshot)
 *             -- one live database per (owner, name); dropped ones stay
 *             until their retention ends (UNDROP)
 *   snapshots(id increasing across the store: the snapshot_id users see,
 *             db_id, name NULL, manifest (hex SHA-256 of the manifest
 *             object), file_size, bytes_added, created_at (UTC, with
 *             microseconds))
 *   leases(db_id, holder, expires_at): at most one writer per database
 *   shares(id, owner, name, db_id, url_id (the unguessable part of the
 *          share URL md:_share/<database>/<url_id>), access, discoverable,
 *          automatic, snapshot (MANUAL: what readers see; NULL for
 *          AUTOMATIC, whose readers see the database's head), created_at,
 *          updated_at, dropped_at NULL while live) -- one live share per
 *          (owner, name); OR REPLACE drops the old row (its URL stops
 *          working) and adds a new one
 *   share_grants(share_id, grantee, granted_at): READ granted to a user
 *   share_mounts(user, alias, url): the shares a user attached, attached
 *          again when the user's duckling starts (workspace mode)
 * Shares, grants and mounts live in dbmeta_shares.c.
 *
 * Commit point: md_dbmeta_snapshot_commit() inserts the snapshot row and
 * moves the database's head in one transaction, and only if the caller
 * still holds the database's lease.  A snapshot is durable once it returns
 * (sqlite commits with fsync in WAL mode with synchronous=FULL).
 *
 * The interface is a table of operations, as md_objstore's: md_dbmeta_open()
 * is the sqlite backend the server uses; a duckling reaches the same data
 * only through the server, with storage/store_remote.h, which checks every
 * call against the duckling's user (storage/store_service.h).
 *
 * Thread safety: one mutex per handle; several processes may open the same
 * store (sqlite's own locking, busy timeout 10 s).  Callbacks run under the
 * handle's mutex: they must not call md_dbmeta functions (collect, then act).
 */
#ifndef MD_DBMETA_H
#define MD_DBMETA_H

#include <stdint.h>

#include "server/storage/objstore.h"

typedef struct md_dbmeta md_dbmeta;
typedef struct md_db_row md_db_row;
typedef struct md_snapshot_row md_snapshot_row;
typedef void (*md_db_row_cb)(void *ctx, const md_db_row *row);
typedef void (*md_snapshot_row_cb)(void *ctx, const md_snapshot_row *row);
typedef struct md_share_row md_share_row;
typedef void (*md_share_row_cb)(void *ctx, const md_share_row *row);
/* A grant (grantee, granted_at) or a mount (alias, url): two strings. */
typedef void (*md_pair_cb)(void *ctx, const char *a, const char *b);

/*   XX(enum suffix, value, SQL word) -- a share's ACCESS */
#define MD_SHARE_ACCESS(XX)                   \
    XX(ORGANIZATION, 0, "ORGANIZATION")       \
    XX(UNRESTRICTED, 1, "UNRESTRICTED")       \
    XX(RESTRICTED,   2, "RESTRICTED")

typedef enum md_share_access {
#define MD__SHARE_ACCESS_ENUM(e, v, word) MD_SHARE_##e = v,
    MD_SHARE_ACCESS(MD__SHARE_ACCESS_ENUM)
#undef MD__SHARE_ACCESS_ENUM
} md_share_access;

/* "ORGANIZATION", ... (static storage), "?" out of range. */
const char *md_share_access_word(int access);

/* *dst = *src with its strings copied (free with md_share_row_clear). */
void md_share_row_copy(md_share_row *dst, const md_share_row *src);

/* Free the strings of a copied row and zero it. */
void md_share_row_clear(md_share_row *r);

/* "md:_share/<db_name>/<url_id>", malloc'd. */
char *md_share_url(const md_share_row *r);

struct md_db_row {
    int64_t id;
    const char *owner;
    const char *name;
    const char *created_at;
    const char *dropped_at;  /* NULL while live */
    int retention_days;
    int64_t head;            /* snapshot id, 0 before the first */
};

struct md_snapshot_row {
    int64_t id;
    int64_t db_id;
    const char *name;        /* NULL when unnamed */
    md_hash manifest;
    uint64_t file_size;
    uint64_t bytes_added;
    const char *created_at;  /* "YYYY-MM-DD HH:MM:SS.ffffff" UTC */
};

struct md_share_row {
    int64_t id;
    const char *owner;
    const char *name;
    int64_t db_id;
    const char *db_name;     /* the shared database's name (live) */
    const char *url_id;      /* md:_share/<db_name>/<url_id> */
    int access;              /* md_share_access */
    int discoverable;        /* VISIBILITY DISCOVERABLE; 0: HIDDEN */
    int automatic;           /* UPDATE AUTOMATIC; 0: MANUAL */
    int64_t snapshot;        /* what a reader sees now: MANUAL its snapshot, AUTOMATIC the database's head */
    const char *created_at;
    const char *updated_at;  /* CREATE or the last UPDATE SHARE */
};

/* One operation per function below, same arguments. */
typedef struct md_dbmeta_ops {
    int (*db_create)(md_dbmeta *m, const char *owner, const char *name, int64_t from_snapshot, int64_t *out_id);
    int (*db_get)(md_dbmeta *m, const char *owner, const char *name, md_db_row_cb cb, void *ctx);
    int (*db_list)(md_dbmeta *m, const char *owner, md_db_row_cb cb, void *ctx);
    int (*db_list_dropped)(md_dbmeta *m, const char *owner, md_db_row_cb cb, void *ctx);
    int (*db_drop)(md_dbmeta *m, const char *owner, const char *name);
    int (*db_undrop)(md_dbmeta *m, const char *owner, const char *name);
    int (*db_set_retention)(md_dbmeta *m, int64_t db_id, int days);
    int (*db_owner)(md_dbmeta *m, int64_t db_id, char **out_owner);
    int (*lease_acquire)(md_dbmeta *m, int64_t db_id, const char *holder, int64_t ttl_ms, char **out_holder);
    int (*lease_renew)(md_dbmeta *m, int64_t db_id, const char *holder, int64_t ttl_ms);
    int (*lease_release)(md_dbmeta *m, int64_t db_id, const char *holder);
    int (*snapshot_commit)(md_dbmeta *m, int64_t db_id, const char *holder, int64_t expected_head,
                           const md_hash *manifest, uint64_t file_size, uint64_t bytes_added, const char *name,
                           int64_t *out_id);
    int (*snapshot_mark)(md_dbmeta *m, int64_t db_id, const char *name, int64_t *out_id);
    int (*snapshot_get)(md_dbmeta *m, int64_t id, md_snapshot_row_cb cb, void *ctx);
    int (*snapshot_at)(md_dbmeta *m, int64_t db_id, const char *utc_time, int64_t *out_id);
    int (*snapshot_list)(md_dbmeta *m, int64_t db_id, md_snapshot_row_cb cb, void *ctx);
    int (*manifest_owned)(md_dbmeta *m, const char *owner, const md_hash *manifest);
    int (*gc_roots)(md_dbmeta *m, void (*cb)(void *ctx, const md_hash *manifest), void *ctx);
    int (*expire)(md_dbmeta *m, int dry_run, int64_t *out_expired);
    int (*share_create)(md_dbmeta *m, const md_share_row *def, int replace, md_share_row_cb cb, void *ctx);
    int (*share_update)(md_dbmeta *m, const char *owner, const char *name, int64_t snapshot);
    int (*share_drop)(md_dbmeta *m, const char *owner, const char *name);
    int (*share_get)(md_dbmeta *m, const char *owner, const char *name, md_share_row_cb cb, void *ctx);
    int (*share_list)(md_dbmeta *m, const char *owner, md_share_row_cb cb, void *ctx);
    int (*share_find)(md_dbmeta *m, const char *db_name, const char *url_id, md_share_row_cb cb, void *ctx);
    int (*share_grant)(md_dbmeta *m, int64_t share_id, const char *grantee, int grant);
    int (*share_grants)(md_dbmeta *m, int64_t share_id, md_pair_cb cb, void *ctx);
    int (*share_granted)(md_dbmeta *m, int64_t share_id, const char *grantee);
    int (*share_mount)(md_dbmeta *m, const char *user, const char *alias, const char *url);
    int (*share_mounts)(md_dbmeta *m, const char *user, md_pair_cb cb, void *ctx);
    void (*close)(md_dbmeta *m);
} md_dbmeta_ops;

struct md_dbmeta {
    const md_dbmeta_ops *ops;
};

/* Open (creating the tables if needed).  MD_OK or MD_EIO with *out_err. */
int md_dbmeta_open(const char *data_dir, md_dbmeta **out, char **out_err);

void md_dbmeta_close(md_dbmeta **m);

/* 1 if `name` can name a database: 1-63 of [A-Za-z0-9_], not starting with a digit. */
int md_dbmeta_valid_name(const char *name);

/*
 * Create database `name` for `owner`.  from_snapshot > 0 makes it a
 * zero-copy clone: its head is that snapshot (the new database shares its
 * manifest and blocks; nothing is copied).  MD_OK with *out_id; MD_EEXISTS
 * (a live database has that name); MD_EINVAL (bad name); MD_ENOT_FOUND (no
 * such snapshot); MD_EIO.
 */
int md_dbmeta_db_create(md_dbmeta *m, const char *owner, const char *name, int64_t from_snapshot, int64_t *out_id);

/* The live database `name` of `owner`: cb once with its row.  MD_OK,
 * MD_ENOT_FOUND, MD_EIO. */
int md_dbmeta_db_get(md_dbmeta *m, const char *owner, const char *name,
                     void (*cb)(void *ctx, const md_db_row *row), void *ctx);

/* cb for each live database of `owner` (NULL: of everyone), by name. */
int md_dbmeta_db_list(md_dbmeta *m, const char *owner, void (*cb)(void *ctx, const md_db_row *row), void *ctx);

/* cb for each dropped database of `owner` still within its retention. */
int md_dbmeta_db_list_dropped(md_dbmeta *m, const char *owner, void (*cb)(void *ctx, const md_db_row *row),
                              void *ctx);

/* Drop / undrop (the most recently dropped database of that name, within
 * its retention).  MD_OK, MD_ENOT_FOUND, MD_EEXISTS (undrop: a live one has
 * the name), MD_EIO. */
int md_dbmeta_db_drop(md_dbmeta *m, const char *owner, const char *name);
int md_dbmeta_db_undrop(md_dbmeta *m, const char *owner, const char *name);

/* Set a database's snapshot retention in days (>= 0). */
int md_dbmeta_db_set_retention(md_dbmeta *m, int64_t db_id, int days);

/* The owner of database `db_id`, live or dropped: *out_owner (caller frees).
 * MD_OK, MD_ENOT_FOUND, MD_EIO. */
int md_dbmeta_db_owner(md_dbmeta *m, int64_t db_id, char **out_owner);

/*
 * Take or renew the writer lease of `db_id` for `holder` for ttl_ms.
 * MD_OK; MD_ELOCKED when another holder's lease has not expired (*out_holder,
 * optional, gets its name, caller frees); MD_EIO.
 */
int md_dbmeta_lease_acquire(md_dbmeta *m, int64_t db_id, const char *holder, int64_t ttl_ms, char **out_holder);

/* Extend the lease `holder` holds now (not expired) by ttl_ms from now.
 * MD_OK; MD_ELOCKED when it is not held by `holder` any more; MD_EIO. */
int md_dbmeta_lease_renew(md_dbmeta *m, int64_t db_id, const char *holder, int64_t ttl_ms);

/* Give the lease up (only if `holder` holds it). */
int md_dbmeta_lease_release(md_dbmeta *m, int64_t db_id, const char *holder);

/*
 * The commit point of a snapshot: in one transaction, check that `holder`
 * holds the lease of `db_id` and that the head is still `expected_head` (0:
 * none) -- the snapshot the new one was captured on top of -- then insert
 * the snapshot row and make it the head.  name may be NULL.  MD_OK with
 * *out_id; MD_ELOCKED (lease lost or head moved by another writer: nothing
 * committed); MD_EIO.
 */
int md_dbmeta_snapshot_commit(md_dbmeta *m, int64_t db_id, const char *holder, int64_t expected_head,
                              const md_hash *manifest, uint64_t file_size, uint64_t bytes_added, const char *name,
                              int64_t *out_id);

/*
 * CREATE SNAPSHOT: a new snapshot of `db_id` with the content of its head
 * (same manifest, bytes_added 0), named `name` (NULL: unnamed).  The head
 * does not move, so a writer's next commit is unaffected.  MD_OK with
 * *out_id; MD_EEXISTS (the database has a snapshot of that name);
 * MD_ENOT_FOUND (no such live database, or it has no snapshot yet); MD_EIO.
 */
int md_dbmeta_snapshot_mark(md_dbmeta *m, int64_t db_id, const char *name, int64_t *out_id);

/* Snapshot `id`: cb once.  MD_OK, MD_ENOT_FOUND, MD_EIO. */
int md_dbmeta_snapshot_get(md_dbmeta *m, int64_t id, void (*cb)(void *ctx, const md_snapshot_row *row), void *ctx);

/* The newest snapshot of `db_id` created at or before `utc_time`
 * ("YYYY-MM-DD HH:MM:SS[.ffffff]").  MD_OK (*out_id), MD_ENOT_FOUND, MD_EIO. */
int md_dbmeta_snapshot_at(md_dbmeta *m, int64_t db_id, const char *utc_time, int64_t *out_id);

/* cb for each snapshot of `db_id` (<= 0: of every database), oldest first.
 * Snapshots a clone was made from belong to the original database and are
 * not listed under the clone. */
int md_dbmeta_snapshot_list(md_dbmeta *m, int64_t db_id, void (*cb)(void *ctx, const md_snapshot_row *row),
                            void *ctx);

/* MD_OK if a snapshot of a database of `owner` (live or dropped) has
 * `manifest`; MD_ENOT_FOUND if none has; MD_EIO. */
int md_dbmeta_manifest_owned(md_dbmeta *m, const char *owner, const md_hash *manifest);

/*
 * The manifests the garbage collector must keep: every snapshot of a live
 * database or of a dropped one within its retention that is its head, is
 * named, is younger than the retention, or is the head of another
 * (cloned) database.  cb gets each distinct manifest once.
 */
int md_dbmeta_gc_roots(md_dbmeta *m, void (*cb)(void *ctx, const md_hash *manifest), void *ctx);

/*
 * Forget the snapshots md_dbmeta_gc_roots does not retain (their rows; the
 * garbage collector then frees their blocks).  dry_run: count only.
 * *out_expired: how many.  MD_OK or MD_EIO.
 */
int md_dbmeta_expire(md_dbmeta *m, int dry_run, int64_t *out_expired);

/* ---- shares ---------------------------------------------------------------------- */

/*
 * Create share def->name of database def->db_id for def->owner with its
 * access, discoverable, automatic and (MANUAL) snapshot; the URL id is
 * made here (a random UUID).  replace: an existing live share of that name
 * is dropped first (its URL stops working).  cb once with the new row.
 * MD_OK; MD_EEXISTS (exists, not replace); MD_EINVAL (bad name);
 * MD_ENOT_FOUND (no such live database); MD_EIO.
 */
int md_dbmeta_share_create(md_dbmeta *m, const md_share_row *def, int replace, md_share_row_cb cb, void *ctx);

/* UPDATE SHARE: a MANUAL share's readers see `snapshot` from now on (an
 * AUTOMATIC share only has its updated_at moved).  MD_OK, MD_ENOT_FOUND, MD_EIO. */
int md_dbmeta_share_update(md_dbmeta *m, const char *owner, const char *name, int64_t snapshot);

/* DROP SHARE: its URL stops working, its grants and mounts with it.
 * MD_OK, MD_ENOT_FOUND, MD_EIO. */
int md_dbmeta_share_drop(md_dbmeta *m, const char *owner, const char *name);

/* The live share `name` of `owner`: cb once.  MD_OK, MD_ENOT_FOUND, MD_EIO. */
int md_dbmeta_share_get(md_dbmeta *m, const char *owner, const char *name, md_share_row_cb cb, void *ctx);

/* cb for each live share of `owner` (NULL: of everyone) whose database is
 * live, by owner and name. */
int md_dbmeta_share_list(md_dbmeta *m, const char *owner, md_share_row_cb cb, void *ctx);

/* The live share whose URL is md:_share/<db_name>/<url_id> (the database
 * name compared without case): cb once.  MD_OK, MD_ENOT_FOUND, MD_EIO. */
int md_dbmeta_share_find(md_dbmeta *m, const char *db_name, const char *url_id, md_share_row_cb cb, void *ctx);

/* GRANT (grant 1) or REVOKE (0) READ on share `share_id` to `grantee`.
 * MD_OK; MD_ENOT_FOUND (revoking what was not granted, or no such share); MD_EIO. */
int md_dbmeta_share_grant(md_dbmeta *m, int64_t share_id, const char *grantee, int grant);

/* cb(grantee, granted_at) for each grant of `share_id`, by grantee. */
int md_dbmeta_share_grants(md_dbmeta *m, int64_t share_id, md_pair_cb cb, void *ctx);

/* MD_OK if `grantee` holds READ on `share_id`; MD_ENOT_FOUND; MD_EIO. */
int md_dbmeta_share_granted(md_dbmeta *m, int64_t share_id, const char *grantee);

/* Remember that `user` attached share `url` as `alias` (url NULL: forget
 * `alias`).  MD_OK, MD_EIO. */
int md_dbmeta_share_mount(md_dbmeta *m, const char *user, const char *alias, const char *url);

/* cb(alias, url) for each share `user` attached, in the order attached. */
int md_dbmeta_share_mounts(md_dbmeta *m, const char *user, md_pair_cb cb, void *ctx);

#endif

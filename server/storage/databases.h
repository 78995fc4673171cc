/*
 * databases.h: the snapshot-stored databases attached to a duckling's DuckDB
 * instance (one instance per user), and the changes of the SQL surface that
 * touch both the instance and the storage metadata.
 *
 * An attachment is one of:
 *   WRITER  the database's working file <user_dir>/databases/<name>.duckdb,
 *           attached read-write under its alias.  This process holds the
 *           database's writer lease (writer.h, renewed every 20 s by a
 *           thread of this module) and commits a snapshot after every
 *           statement that changed it (md_databases_commit); a commit
 *           that another session's open transaction made wait is retried
 *           by that thread every second, so readers elsewhere see it soon
 *           after the transaction ends.
 *   SHARE   a READER of another user's database through a share
 *           (md:_share/<db>/<id>): the share's snapshot, looked up again
 *           before every statement (md_databases_sync_shares), so a
 *           reader follows UPDATE SHARE and AUTOMATIC shares at once and
 *           loses a share that was dropped, replaced or revoked at its
 *           next statement (the alias is then "gone": statements naming
 *           it are told why).  Attached shares are remembered in the
 *           metadata and attached again by attach_all.
 *   READER  a snapshot's file from the snapshot cache (snapcache.h,
 *           <user_dir>/databases/.snapshots/), attached READ_ONLY: time
 *           travel (a fixed snapshot), `ATTACH 'md:db' (READ_ONLY)` (the
 *           head), or the head of a database another process writes (its
 *           lease is held elsewhere; writes get DATABASE_LOCKED).  A reader
 *           of the head moves to the newest snapshot on REFRESH, fetching
 *           only the blocks that changed.
 *
 * Attachments are instance-wide: every session of the user sees them.
 * DuckDB's in-memory database `memory` stays attached as the home of this
 * module's own connection (DuckDB refuses to detach a connection's default
 * database); SHOW DATABASES and the catalog leave it out.
 *
 * Lifecycle: open -> attach_all (before the sandbox locks the
 * configuration) -> statements ... -> finish (final snapshots; before
 * duckdb_close) -> free (releases the leases; after duckdb_close).
 *
 * Thread safety: every call takes the module's mutex.
 */
#ifndef MD_DATABASES_H
#define MD_DATABASES_H

#include <stdint.h>

#include <duckdb.h>
#include "server/storage/dbmeta.h"
#include "server/storage/snapcache.h"

typedef struct md_databases md_databases;

typedef enum md_attach_mode { MD_ATTACH_WRITER, MD_ATTACH_READER } md_attach_mode;

typedef struct md_attachment_info {
    const char *alias;
    const char *name;       /* the database's name */
    int64_t db_id;
    md_attach_mode mode;
    int64_t snapshot;       /* READER: the snapshot attached; WRITER: the head (0 before the first) */
    int follows_head;       /* READER: moves on REFRESH */
    const char *locked_by;  /* READER because another process writes it: that process; else NULL */
    const char *share;      /* a share's READER: the share's name; else NULL */
    const char *share_owner;
} md_attachment_info;

/* Open the registry for `owner`'s databases (stored in `store` and `meta`,
 * working files under user_dir) on DuckDB instance `db`.  store, meta and db
 * are borrowed: they must outlive the registry.  MD_OK, or an error with
 * *out_err. */
int md_databases_open(md_objstore *store, md_dbmeta *meta, const char *owner, const char *user_dir, duckdb_database db,
                      md_databases **out, char **out_err);

/* Make this registry a read replica's (before attach_all): every database
 * is attached as a reader of its head, none is ever written, and
 * md_databases_follow_heads keeps them on the newest snapshots. */
void md_databases_set_replica(md_databases *d);

/* A replica's refresh, before each statement: databases created since are
 * attached, readers move to their database's newest snapshot (only the
 * changed blocks are fetched), readers of dropped databases go.
 * *out_changed (optional): how many changed.  MD_OK, or an error reading
 * the metadata. */
int md_databases_follow_heads(md_databases *d, int *out_changed, char **out_err);

/* Attach every live database of the owner that is not attached yet, under
 * its name (my_db is created first if missing).  A database another process
 * writes is attached as a reader of its head.  *out_n (optional): how many
 * were attached.  MD_OK, or the first error with *out_err. */
int md_databases_attach_all(md_databases *d, int *out_n, char **out_err);

/*
 * Attach live database `name` under `alias` (NULL: its name).  snapshot > 0:
 * that snapshot, read-only (it must be one of the database's); snapshot == 0
 * and read_only: a reader of the head; otherwise the writer (or, when
 * another process writes it, a reader of the head: *out_locked_by, optional,
 * is then set to 1).  *out_stats (optional): how a reader's file was made.
 * MD_OK; MD_ENOT_FOUND; MD_EEXISTS (the alias is taken, or the database is
 * already attached for writing); MD_EINVAL; MD_EIO / MD_ECORRUPT; *out_err.
 */
int md_databases_attach(md_databases *d, const char *name, const char *alias, int64_t snapshot, int read_only,
                        int *out_locked_by, md_snapcache_stats *out_stats, char **out_err);

/*
 * ATTACH 'md:_share/<db>/<url_id>' [AS alias] (NULL: db): the share's
 * snapshot, read-only, remembered for the next start.  *out_share
 * (optional, caller frees): "name (owner x)".  MD_OK; MD_ENOT_FOUND (no
 * such share: dropped, replaced or a wrong URL); MD_EPERMISSION (not
 * shared with this user); MD_EEXISTS (the alias is taken); errors of the
 * attach; *out_err says which.
 */
int md_databases_attach_share(md_databases *d, const char *db, const char *url_id, const char *alias,
                              char **out_share, char **out_err);

/* Before a statement: look every attached share up again, move those
 * whose snapshot changed, mark gone those dropped, replaced or revoked.
 * *out_moved (optional): how many moved or went (the catalog changed).
 * MD_OK, or an error reading the metadata. */
int md_databases_sync_shares(md_databases *d, int *out_moved, char **out_err);

/* 1 if any share is attached or gone (sync_shares has work). */
int md_databases_has_shares(md_databases *d);

/* Why `alias` is a share that went away (malloc'd; *out_code
 * MD_EPERMISSION when revoked, MD_ENOT_FOUND when dropped or replaced),
 * or NULL. */
char *md_databases_gone_reason(md_databases *d, const char *alias, int *out_code);

/* 1 if `alias` is one of this registry's attachments. */
int md_databases_is_attached(md_databases *d, const char *alias);

/* Detach `alias` on the session's connection c (DuckDB refuses if it is c's
 * current database); a writer takes its last snapshot and gives its lease
 * up.  MD_OK; MD_ENOT_FOUND (not an md attachment); MD_ELOCKED (an open
 * transaction holds changes back: nothing detached); MD_ESQL (DuckDB
 * refused: *out_err says why); MD_EIO. */
int md_databases_detach(md_databases *d, duckdb_connection c, const char *alias, char **out_err);

/* Create database `name` (empty, or a zero-copy clone of snapshot
 * from_snapshot > 0) and attach it as its writer, so it is usable by name.
 * *out_attached (optional): 1 if attached.  Errors as md_dbmeta_db_create,
 * or of the attach. */
int md_databases_create(md_databases *d, const char *name, int64_t from_snapshot, int *out_attached,
                        char **out_err);

/* DROP DATABASE: detach its writer on c (last snapshot), mark it dropped
 * while still holding its lease, then delete its working file (UNDROP
 * rebuilds it from the store).  Nothing is deleted unless every change is
 * in the last snapshot.  MD_OK; MD_ENOT_FOUND; MD_ELOCKED (another process
 * writes it); MD_ELOCKED (an open transaction holds changes back); MD_ESQL
 * (DuckDB refused the detach); MD_EIO. */
int md_databases_drop(md_databases *d, duckdb_connection c, const char *name, char **out_err);

/* UNDROP DATABASE: bring it back and attach it as its writer.  MD_OK;
 * MD_ENOT_FOUND (nothing dropped within retention); MD_EEXISTS; errors of
 * the attach. */
int md_databases_undrop(md_databases *d, const char *name, char **out_err);

/* Commit every change of database `name` this process holds (before a
 * clone is made of its head).  MD_OK; MD_ELOCKED (an open transaction of
 * another session holds changes back: try later); MD_ENOT_FOUND; errors of
 * the commit. */
int md_databases_flush(md_databases *d, const char *name, char **out_err);

/* CREATE SNAPSHOT [snap_name] OF name: the pending changes of its writer
 * here (if any) are committed first (as md_databases_flush).  MD_OK with
 * *out_id; errors as md_dbmeta_snapshot_mark or the flush. */
int md_databases_snapshot(md_databases *d, const char *name, const char *snap_name, int64_t *out_id,
                          char **out_err);

/* REFRESH: move readers of the head (`alias`, or all when NULL) to the
 * newest snapshot.  *out_moved: how many moved.  MD_OK; MD_ENOT_FOUND
 * (alias is not an md attachment); MD_EINVAL (it is a writer or a fixed
 * snapshot); errors of the attach. */
int md_databases_refresh(md_databases *d, const char *alias, int *out_moved, char **out_err);

/* After a statement: commit a snapshot of every writer whose file changed.
 * *out_snapshot: the newest snapshot committed, or 0.  MD_OK, or the first
 * error (MD_ELOCKED: a lease was lost) with *out_err naming the database. */
int md_databases_commit(md_databases *d, int64_t *out_snapshot, char **out_err);

/* cb for each attachment, in attach order (cb must not call this module). */
void md_databases_each(md_databases *d, void (*cb)(void *ctx, const md_attachment_info *a), void *ctx);

/* Why writing to attachment `alias` is refused (a malloc'd sentence, and
 * *out_code MD_ELOCKED or MD_EREAD_ONLY), or NULL when it is a writer or not
 * an md attachment. */
char *md_databases_read_only_reason(md_databases *d, const char *alias, int *out_code);

/* The metadata store (owned by the registry; thread-safe on its own). */
md_dbmeta *md_databases_meta(md_databases *d);

/* The user whose databases these are. */
const char *md_databases_owner(const md_databases *d);

/* The directory holding the working files of the user's databases. */
const char *md_databases_dir(const md_databases *d);

/* The owner's live database `name`: MD_OK with *out_id and *out_head;
 * MD_ENOT_FOUND; MD_EIO. */
int md_databases_lookup(md_databases *d, const char *name, int64_t *out_id, int64_t *out_head);

/* Last snapshots of every writer and the end of the renewal thread and of
 * the module's connection; call before duckdb_close.  Stuck sessions must
 * not be using DuckDB (the caller skips finish when they are). */
void md_databases_finish(md_databases *d);

/* Release the leases and free; sets *d to NULL.  After duckdb_close. */
void md_databases_free(md_databases **d);

#endif

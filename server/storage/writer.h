/*
 * writer.h: the writer side of one snapshot-stored database, as a duckling
 * runs it: a working DuckDB file whose committed states become snapshots.
 *
 *   open     take the database's writer lease (a lease whose holder is a
 *            dead process on this machine is taken over at once; a live
 *            holder elsewhere gives MD_ELOCKED), create the database row if
 *            needed, and, when the working file is missing, materialize it
 *            from the head snapshot (a fresh data directory or a lost work
 *            file recover from the store).
 *   recover  once DuckDB has the file open (and replayed its WAL):
 *            CHECKPOINT, read the whole file, and commit it as a snapshot
 *            when it differs from the head (writes DuckDB committed before
 *            a crash but that were not snapshotted yet).
 *   commit   after every statement: if the file or its WAL changed since the
 *            last snapshot, CHECKPOINT, capture the changed blocks and
 *            commit a snapshot.  If DuckDB cannot checkpoint now (another
 *            session's transaction is open), the commit is skipped: the
 *            change is durable in DuckDB's WAL and the next commit (or
 *            recover after a crash) snapshots it.
 *
 * Durability: DuckDB fsyncs its WAL at every commit, so an acknowledged
 * write survives kill -9 of the duckling or the server: the next duckling
 * replays the WAL and recover() puts it into a snapshot.  Snapshots are
 * never partial (snapshot.h: blocks, then the manifest, then the metadata
 * commit).
 */
#ifndef MD_WRITER_H
#define MD_WRITER_H

#include <stdint.h>

#include <duckdb.h>
#include "server/storage/dbmeta.h"
#include "server/storage/objstore.h"

typedef struct md_dbwriter md_dbwriter;

/* Open the writer of database `dbname` of `owner` whose working file is
 * `work_path`, on `store` and `meta` (borrowed: they must outlive the
 * writer).  MD_OK; MD_ELOCKED (another live writer: *out_err names it);
 * MD_EIO / MD_ECORRUPT with *out_err. */
int md_dbwriter_open(md_objstore *store, md_dbmeta *meta, const char *owner, const char *dbname, const char *work_path,
                     md_dbwriter **out, char **out_err);

/* See above; `catalog` is the name the working file is attached under in
 * c's DuckDB instance.  MD_OK or an error with *out_err (caller frees). */
int md_dbwriter_recover(md_dbwriter *w, duckdb_connection c, const char *catalog, char **out_err);

/* See above (catalog as for recover; c NULL: DuckDB has closed the file --
 * detached it -- so there is nothing to checkpoint: capture it as it is).
 * *out_snapshot (optional): the new
 * snapshot id, or 0 when nothing changed or the checkpoint had to wait.
 * MD_OK; MD_ELOCKED (the lease was lost); MD_EIO with *out_err. */
int md_dbwriter_commit(md_dbwriter *w, duckdb_connection c, const char *catalog, int64_t *out_snapshot,
                       char **out_err);

/* The database's id in dbmeta.h, and its head snapshot (0 before the first). */
int64_t md_dbwriter_db_id(const md_dbwriter *w);
int64_t md_dbwriter_head(md_dbwriter *w);

/* 1 if the working file has changes no snapshot holds yet (a commit was
 * postponed by an open transaction, or failed). */
int md_dbwriter_pending(md_dbwriter *w);

/* Extend the lease (call well within its 60 s).  MD_OK; MD_ELOCKED when it
 * was lost meanwhile; MD_EIO. */
int md_dbwriter_renew(md_dbwriter *w);

/* Release the lease and free; sets *w to NULL.  NULL is fine. */
void md_dbwriter_close(md_dbwriter **w);

#endif

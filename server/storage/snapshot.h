/*
 * snapshot.h: database files to snapshots and back, over the object store.
 *
 *   capture      a (checkpointed, quiescent) DuckDB file -> its blocks and
 *                its manifest in the store; only blocks that are not there
 *                yet are written.  With the previous snapshot's manifest
 *                and the set of blocks written since (the duckling tracks
 *                them), only those blocks are read at all: O(change), not
 *                O(file).  Without a dirty set every block is read, hashed
 *                and stored if new (the first snapshot, recovery, checks).
 *   materialize  a manifest -> a file, from the store (every block verified);
 *                given the manifest the file already holds, only the entries
 *                that differ are written (moving a reader to a newer
 *                snapshot, time travel from a cached copy).
 *   verify       every block of a manifest is present and hashes to its name.
 *   sweep        garbage collection: remove every object that no root
 *                manifest references (neither the manifest itself nor one of
 *                its blocks).
 *
 * Commit protocol (the caller, with the metadata store): capture writes
 * blocks and then the manifest, each durable before the next step; only
 * then is the snapshot row committed in the metadata store, which is the
 * commit point.  A crash before it leaves orphan objects that a sweep with
 * the committed manifests as roots removes; a crash after it leaves a
 * complete snapshot.  Objects are never modified, so readers need no locks.
 */
#ifndef MD_SNAPSHOT_H
#define MD_SNAPSHOT_H

#include <stdint.h>

#include "server/storage/manifest.h"
#include "server/storage/objstore.h"

typedef struct md_capture_stats {
    uint32_t blocks_read;    /* entries read from the file */
    uint32_t blocks_added;   /* entries that were new to the store */
    uint64_t bytes_added;    /* their bytes plus the manifest's when it was new */
} md_capture_stats;

/*
 * Capture the file at `path` into `store`, its blocks in block space
 * `space` (manifest.h: the owner's).  `prev` (optional) is the
 * manifest of the snapshot the file was at before; `dirty` (optional, with
 * `ndirty` entries) lists the entries written since -- entries outside it
 * that `prev` has are taken from `prev` without reading the file.  Pass
 * dirty = NULL to read every entry.
 * On MD_OK: *out_manifest (free with md_manifest_free), *out_name (the
 * manifest object's name), *out_stats (optional).  MD_EIO / MD_ECORRUPT
 * with *out_err (caller frees).
 */
int md_snapshot_capture(md_objstore *store, const char *path, const md_hash *space, const md_manifest *prev,
                        const uint32_t *dirty,
                        uint32_t ndirty, md_manifest **out_manifest, md_hash *out_name,
                        md_capture_stats *out_stats, char **out_err);

/* Read and decode manifest `name`.  MD_OK, MD_ENOT_FOUND, MD_ECORRUPT,
 * MD_EIO; *out_err (caller frees) on failure. */
int md_snapshot_load_manifest(md_objstore *store, const md_hash *name, md_manifest **out, char **out_err);

/*
 * Write the file of manifest `m` at `path`.  `have` (optional) is the
 * manifest of the bytes `path` holds now: only entries that differ are
 * written.  Without it the file is written whole under a temporary name,
 * fsync'd and renamed to `path` (a failure leaves no partial file there).
 * The file ends truncated to m->file_size and fsync'd.  *out_written (optional):
 * entries written.  MD_OK; MD_ENOT_FOUND / MD_ECORRUPT (a block is missing
 * or damaged: the file is then incomplete); MD_EIO.  *out_err on failure.
 */
int md_snapshot_materialize(md_objstore *store, const md_manifest *m, const md_manifest *have, const char *path,
                            uint32_t *out_written, char **out_err);

/* One problem found by md_snapshot_verify. */
typedef void (*md_verify_cb)(void *ctx, uint32_t entry, const md_hash *block, int code);

/*
 * Check that every block of `m` is in the store and hashes to its name;
 * cb (optional) is called for each bad entry with MD_ENOT_FOUND or
 * MD_ECORRUPT.  *out_bad: the number of bad entries.  MD_OK when the check
 * ran (even if it found problems), MD_EIO otherwise.
 */
int md_snapshot_verify(md_objstore *store, const md_manifest *m, md_verify_cb cb, void *ctx, uint32_t *out_bad);

typedef struct md_fsck_stats {
    uint64_t manifests, blocks, bytes; /* checked (each distinct block once) */
    uint64_t problems;
} md_fsck_stats;

/* One problem found by md_snapshot_fsck: the manifest (index into names),
 * the entry (UINT32_MAX: the manifest itself), the code (MD_ENOT_FOUND,
 * MD_ECORRUPT) and a sentence. */
typedef void (*md_fsck_cb)(void *ctx, size_t manifest, uint32_t entry, int code, const char *message);

/*
 * Check `n` manifests and every block they name, each distinct block once:
 * present, hashing to its name, of the length the manifest says.  Reads
 * only.  MD_OK when the check ran (problems are counted in *out_stats and
 * reported through cb), MD_EIO otherwise.
 */
int md_snapshot_fsck(md_objstore *store, const md_hash *names, size_t n, md_fsck_cb cb, void *ctx,
                     md_fsck_stats *out_stats);

typedef struct md_sweep_stats {
    uint64_t objects_kept, objects_removed;
    uint64_t bytes_kept, bytes_removed;
} md_sweep_stats;

/*
 * Remove every object that none of the `nroots` root manifests (by name)
 * references and that was stored more than `min_age_s` seconds ago.  The
 * age keeps the blocks of captures in flight (stored, not yet referenced by
 * a committed snapshot): a sweep while writers run needs a min_age longer
 * than any capture takes; 0 is safe only with no writer running.  A root that cannot be read stops the sweep with its error
 * (removing objects it might reference would lose data).  dry_run: count
 * only.  MD_OK with *out_stats; MD_ENOT_FOUND / MD_ECORRUPT / MD_EIO with
 * *out_err.
 */
int md_snapshot_sweep(md_objstore *store, const md_hash *roots, size_t nroots, int64_t min_age_s, int dry_run,
                      md_sweep_stats *out_stats, char **out_err);

#endif

/*
 * snapcache.h: the local block cache that readers open snapshots from (time
 * travel, read-only attachments, databases another process writes).
 *
 * Each cached snapshot is a complete DuckDB file in one directory, named by
 * its manifest:  <dir>/<manifest hex>.duckdb.  Files are immutable once in
 * place (written under a temporary name, fsync'd, renamed), so any number
 * of readers, in any process, may open one while others are built.
 *
 *   get (warm)  the file exists: it is used as it is (its mtime is touched:
 *               least recently used goes first).
 *   get (cold)  the cached file whose manifest differs from the wanted one
 *               in the fewest blocks is copied (a kernel copy; a reflink
 *               where the file system has them) and only the differing
 *               blocks are fetched from the object store and patched in;
 *               with no useful neighbour the file is built whole.  Every
 *               fetched block is checked against its hash.
 *   evict       beyond max_files, the least recently used files that are
 *               not in use (the caller says which) are removed; a process
 *               that still has one open keeps reading it (unlink).
 */
#ifndef MD_SNAPCACHE_H
#define MD_SNAPCACHE_H

#include <stdint.h>

#include "server/storage/manifest.h"
#include "server/storage/objstore.h"

typedef struct md_snapcache md_snapcache;

typedef struct md_snapcache_stats {
    int warm;             /* 1: the file was there */
    uint32_t patched;     /* blocks fetched from the store and written */
    uint64_t copied;      /* bytes copied from a neighbour file */
} md_snapcache_stats;

/* 1 if the caller has the file at `path` open: by that very name
 * (same_name 1), or by any name of the same file (same_name 0: then it must
 * not be evicted, nor even opened here). */
typedef int (*md_snapcache_in_use_cb)(void *ctx, const char *path, int same_name);

/* Open the cache in `dir` (created if needed) over `store` (borrowed; it
 * must outlive the cache).  MD_OK, or MD_EIO with *out_err. */
int md_snapcache_open(const char *dir, md_objstore *store, int max_files, md_snapcache **out, char **out_err);

void md_snapcache_close(md_snapcache **c);

/*
 * The path (*out_path, caller frees) of the file of manifest `m` named
 * `name`, built as above if missing; then evicts (in_use may be NULL).
 * MD_OK; MD_ENOT_FOUND / MD_ECORRUPT (a block is missing or damaged);
 * MD_EIO; *out_err on failure.  *out_stats optional.
 */
int md_snapcache_get(md_snapcache *c, const md_hash *name, const md_manifest *m, md_snapcache_in_use_cb in_use,
                     void *ctx, char **out_path, md_snapcache_stats *out_stats, char **out_err);

/*
 * Like md_snapcache_get, for a reader moving from the file at `from_path`
 * (holding manifest from_m) to manifest m: when that file is open nowhere
 * and has no second name, it is patched in place into the new file -- only
 * the changed blocks are fetched and written, nothing is copied -- and the
 * old snapshot leaves the cache.  Otherwise (or when m is cached already)
 * as md_snapcache_get.
 */
int md_snapcache_move(md_snapcache *c, const char *from_path, const md_manifest *from_m, const md_hash *name,
                      const md_manifest *m, md_snapcache_in_use_cb in_use, void *ctx, char **out_path,
                      md_snapcache_stats *out_stats, char **out_err);

#endif

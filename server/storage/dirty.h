/*
 * dirty.h: which blocks of a database file were written since the last
 * snapshot, so that capturing a snapshot reads only those (snapshot.h).
 *
 * How: this module defines pwrite, write, ftruncate and fallocate, the
 * calls DuckDB 1.4 (libduckdb.so) uses to change files.  The executable's
 * definitions take precedence over libc's for the shared library, so every
 * such call passes through here; each one does the real call (looked up
 * with dlsym(RTLD_NEXT)) and, when the descriptor's file (device and inode,
 * one fstat) is a tracked one, marks the manifest entries the call touched.
 * Files that are not tracked cost one fstat per write.  A fallocate that
 * punches a hole changes bytes too, so it marks its range like a write.
 *
 * Invariant: between md_dirty_take() calls, every entry whose bytes may have
 * changed is marked (a superset is fine: capture re-hashes those entries and
 * stores only new content).  The storage tests check it against a full read
 * after real DuckDB writes and checkpoints.
 *
 * Thread safety: DuckDB writes from its own threads; the marks are guarded
 * by a mutex.  Track and untrack from any thread.
 */
#ifndef MD_DIRTY_H
#define MD_DIRTY_H

#include <stdint.h>

typedef struct md_dirty md_dirty;

/* Start tracking the file at `path` (it must exist).  MD_OK, or MD_EIO with
 * *out_err (caller frees).  Stop with md_dirty_untrack(). */
int md_dirty_track(const char *path, md_dirty **out, char **out_err);

/* Stop tracking and free; sets *d to NULL.  NULL is fine. */
void md_dirty_untrack(md_dirty **d);

/* 1 if an entry was written since tracking began or since the last take. */
int md_dirty_pending(md_dirty *d);

/* The manifest entries (manifest.h numbering) written since tracking began
 * or since the last take, ascending, in *out_entries (md_malloc'd, caller
 * frees; NULL when none) and their number in *out_n; the marks are then
 * cleared. */
void md_dirty_take(md_dirty *d, uint32_t **out_entries, uint32_t *out_n);

#endif

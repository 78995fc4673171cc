/*
 * gc.h: garbage collection of snapshot storage, for `mdserver gc` and for
 * the server, which runs it at start (sweeping what interrupted commits
 * left) and then every hour while it serves.
 *
 * One pass: forget the snapshot rows past their database's retention
 * (md_dbmeta_expire), gather the manifests still retained (heads, named
 * snapshots, snapshots within retention, clones' heads: md_dbmeta_gc_roots),
 * and remove every stored object none of them references that is older than
 * min_age (md_snapshot_sweep; the age keeps the blocks of captures still in
 * flight).
 */
#ifndef MD_GC_H
#define MD_GC_H

#include <stdint.h>

#include "server/storage/snapshot.h"

typedef struct md_gc_stats {
    int64_t snapshots_expired;
    size_t roots;
    md_sweep_stats sweep;
} md_gc_stats;

/* One pass over the storage under data_dir.  dry_run: count only.  MD_OK
 * with *out_stats, or an error with *out_err (nothing is removed then). */
int md_gc_run(const char *data_dir, int dry_run, int64_t min_age_s, md_gc_stats *out_stats, char **out_err);

typedef struct md_gc_thread md_gc_thread;

/* Start a thread that runs a pass (min_age_s) now and then every
 * interval_s seconds, printing a line to stderr when a pass freed or
 * failed something.  NULL if the thread could not start. */
md_gc_thread *md_gc_thread_start(const char *data_dir, int64_t min_age_s, int interval_s);

/* Stop it (waits for a pass in progress); sets *t to NULL.  NULL is fine. */
void md_gc_thread_stop(md_gc_thread **t);

#endif

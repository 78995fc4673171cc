/*
 * storage_cmd.c: `mdserver fsck` and `mdserver gc` on a data directory's
 * snapshot storage (storage_cmd.h).
 *
 *   fsck  every snapshot row's manifest and every block it names (each
 *         distinct block once): present, hash and length right; every
 *         database head names a snapshot.  Reads only.  Exit 0 when clean,
 *         1 when it found problems (each printed), 2 when it could not run.
 *   gc    forgets snapshots past their database's retention (dbmeta.h:
 *         md_dbmeta_expire), then removes objects no retained snapshot,
 *         clone or named snapshot references and that are older than
 *         --min-age (default 3600 s, so captures in flight are safe while a
 *         server runs).  --dry-run reports what it would free.
 */
#include "server/storage/storage_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/storage/dbmeta.h"
#include "server/storage/gc.h"
#include "server/storage/objstore.h"
#include "server/storage/snapshot.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

typedef struct opened {
    md_objstore *store;
    md_dbmeta *meta;
} opened;

static int open_storage(const char *data_dir, opened *o) {
    char *err = NULL;
    char *store_dir = md_asprintf("%s/store", data_dir);
    int rc = md_objstore_open_dir(store_dir, &o->store, &err);
    md_free(store_dir);
    if (rc == MD_OK) rc = md_dbmeta_open(data_dir, &o->meta, &err);
    if (rc != MD_OK) {
        fprintf(stderr, "mdserver: %s\n", err ? err : md_strerror(rc));
        md_free(err);
        md_objstore_close(&o->store);
    }
    return rc;
}

static void close_storage(opened *o) {
    md_dbmeta_close(&o->meta);
    md_objstore_close(&o->store);
}

/* ---- fsck ---------------------------------------------------------------- */

typedef struct snap_list {
    md_hash *names;
    int64_t *ids;
    size_t n, cap;
} snap_list;

static void add_snapshot(void *ctx, const md_snapshot_row *row) {
    snap_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->names = md_realloc(l->names, l->cap * sizeof *l->names);
        l->ids = md_realloc(l->ids, l->cap * sizeof *l->ids);
    }
    l->names[l->n] = row->manifest;
    l->ids[l->n++] = row->id;
}

static void print_problem(void *ctx, size_t k, uint32_t entry, int code, const char *message) {
    const snap_list *l = ctx;
    if (entry == UINT32_MAX) printf("  snapshot %lld: manifest: %s\n", (long long)l->ids[k], message);
    else printf("  snapshot %lld, entry %u: %s\n", (long long)l->ids[k], entry, message);
}

typedef struct heads {
    char **what;     /* "owner/name" */
    int64_t *id;
    size_t n, cap;
} heads;

/* Collect each live database's head (checked after the listing: a callback
 * must not call back into the metadata store). */
static void add_head(void *ctx, const md_db_row *row) {
    heads *h = ctx;
    if (row->head <= 0) return;
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->what = md_realloc(h->what, h->cap * sizeof *h->what);
        h->id = md_realloc(h->id, h->cap * sizeof *h->id);
    }
    h->what[h->n] = md_asprintf("%s/%s", row->owner, row->name);
    h->id[h->n++] = row->head;
}

static void ignore_snapshot(void *ctx, const md_snapshot_row *row) {}

/* Problems: heads that name no snapshot.  Frees the list. */
static uint64_t check_heads(md_dbmeta *meta, heads *h, int *rc) {
    uint64_t problems = 0;
    for (size_t i = 0; i < h->n; i++) {
        int r = md_dbmeta_snapshot_get(meta, h->id[i], ignore_snapshot, NULL);
        if (r == MD_ENOT_FOUND) {
            printf("  database %s: its head snapshot %lld does not exist\n", h->what[i], (long long)h->id[i]);
            problems++;
        } else if (r != MD_OK) {
            *rc = r;
        }
        md_free(h->what[i]);
    }
    md_free(h->what);
    md_free(h->id);
    return problems;
}

static int fsck_main(const char *data_dir) {
    opened o = {NULL, NULL};
    if (open_storage(data_dir, &o) != MD_OK) return 2;
    snap_list l = {NULL, NULL, 0, 0};
    int rc = md_dbmeta_snapshot_list(o.meta, 0, add_snapshot, &l);
    md_fsck_stats st = {0, 0, 0, 0};
    printf("mdserver fsck: %zu snapshots in %s\n", l.n, data_dir);
    fflush(stdout);
    if (rc == MD_OK) rc = md_snapshot_fsck(o.store, l.names, l.n, print_problem, &l, &st);
    heads h = {NULL, NULL, 0, 0};
    uint64_t head_problems = 0;
    if (rc == MD_OK) rc = md_dbmeta_db_list(o.meta, NULL, add_head, &h);
    if (rc == MD_OK) head_problems = check_heads(o.meta, &h, &rc);
    int status;
    if (rc != MD_OK) {
        fprintf(stderr, "mdserver fsck: could not finish: %s\n", md_strerror(rc));
        status = 2;
    } else {
        uint64_t problems = st.problems + head_problems;
        printf("checked %llu manifests and %llu blocks (%.1f MiB): %llu problem%s\n",
               (unsigned long long)st.manifests, (unsigned long long)st.blocks, (double)st.bytes / 1048576.0,
               (unsigned long long)problems, problems == 1 ? "" : "s");
        status = problems ? 1 : 0;
    }
    md_free(l.names);
    md_free(l.ids);
    close_storage(&o);
    return status;
}

/* ---- gc ------------------------------------------------------------------ */

static int gc_main(const char *data_dir, int dry_run, long min_age) {
    md_gc_stats st;
    char *err = NULL;
    if (md_gc_run(data_dir, dry_run, min_age, &st, &err) != MD_OK) {
        fprintf(stderr, "mdserver gc: nothing removed: %s\n", err ? err : "cannot open the storage");
        md_free(err);
        return 2;
    }
    printf("mdserver gc%s: %lld snapshots past retention %s, %zu retained; %s %llu objects (%.1f MiB), "
           "kept %llu (%.1f MiB)\n",
           dry_run ? " --dry-run" : "", (long long)st.snapshots_expired, dry_run ? "would be forgotten" : "forgotten",
           st.roots, dry_run ? "would free" : "freed", (unsigned long long)st.sweep.objects_removed,
           (double)st.sweep.bytes_removed / 1048576.0, (unsigned long long)st.sweep.objects_kept,
           (double)st.sweep.bytes_kept / 1048576.0);
    return 0;
}

static void usage(FILE *f, const char *cmd) {
    if (strcmp(cmd, "gc") == 0)
        fprintf(f, "usage: mdserver gc --data-dir DIR [--dry-run] [--min-age SECONDS]\n"
                   "Removes stored blocks that no retained snapshot references and that are older than\n"
                   "--min-age (default 3600).\n");
    else
        fprintf(f, "usage: mdserver fsck --data-dir DIR\n"
                   "Verifies every snapshot manifest and block hash; changes nothing.\n");
}

int md_storage_cmd_main(int argc, char **argv) {
    const char *cmd = argv[0];
    const char *data_dir = NULL;
    int dry_run = 0;
    long min_age = 3600;
    static const struct option longopts[] = {{"data-dir", required_argument, 0, 'd'},
                                             {"dry-run", no_argument, 0, 'n'},
                                             {"min-age", required_argument, 0, 'a'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'n': dry_run = 1; break;
        case 'a': min_age = strtol(optarg, NULL, 10); break;
        case 'h': usage(stdout, cmd); return 0;
        default: usage(stderr, cmd); return 2;
        }
    }
    if (!data_dir || optind < argc || min_age < 0 || (strcmp(cmd, "fsck") == 0 && dry_run)) {
        usage(stderr, cmd);
        return 2;
    }
    return strcmp(cmd, "gc") == 0 ? gc_main(data_dir, dry_run, min_age) : fsck_main(data_dir);
}

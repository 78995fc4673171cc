/*
 * gc.c: garbage-collection passes and the server's gc thread (gc.h).
 */
#include "server/storage/gc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/storage/dbmeta.h"
#include "server/storage/objstore.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "shared/md_time.h"

typedef struct roots {
    md_hash *h;
    size_t n, cap;
} roots;

static void add_root(void *ctx, const md_hash *manifest) {
    roots *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->h = md_realloc(r->h, r->cap * sizeof *r->h);
    }
    r->h[r->n++] = *manifest;
}

int md_gc_run(const char *data_dir, int dry_run, int64_t min_age_s, md_gc_stats *out_stats, char **out_err) {
    md_objstore *store = NULL;
    md_dbmeta *meta = NULL;
    char *store_dir = md_asprintf("%s/store", data_dir);
    int rc = md_objstore_open_dir(store_dir, &store, out_err);
    md_free(store_dir);
    if (rc == MD_OK) rc = md_dbmeta_open(data_dir, &meta, out_err);
    md_gc_stats st;
    memset(&st, 0, sizeof st);
    roots r = {NULL, 0, 0};
    if (rc == MD_OK) {
        rc = md_dbmeta_expire(meta, dry_run, &st.snapshots_expired);
        if (rc == MD_OK) rc = md_dbmeta_gc_roots(meta, add_root, &r);
        if (rc != MD_OK && out_err && !*out_err) *out_err = md_strdup("cannot read the storage metadata");
    }
    if (rc == MD_OK) rc = md_snapshot_sweep(store, r.h, r.n, min_age_s, dry_run, &st.sweep, out_err);
    st.roots = r.n;
    md_free(r.h);
    md_dbmeta_close(&meta);
    md_objstore_close(&store);
    if (rc == MD_OK) *out_stats = st;
    return rc;
}

struct md_gc_thread {
    char *data_dir;
    int64_t min_age_s;
    int interval_s;
    int stopping;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *gc_main(void *arg) {
    md_gc_thread *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stopping) {
        pthread_mutex_unlock(&t->mu);
        md_gc_stats st;
        char *err = NULL;
        if (md_gc_run(t->data_dir, 0, t->min_age_s, &st, &err) != MD_OK)
            fprintf(stderr, "mdserver: storage gc failed (nothing removed): %s\n", err ? err : "unknown error");
        else if (st.sweep.objects_removed > 0 || st.snapshots_expired > 0)
            fprintf(stderr, "mdserver: storage gc: %lld snapshots past retention forgotten, %llu unreferenced "
                            "objects freed (%.1f MiB)\n",
                    (long long)st.snapshots_expired, (unsigned long long)st.sweep.objects_removed,
                    (double)st.sweep.bytes_removed / 1048576.0);
        md_free(err);
        pthread_mutex_lock(&t->mu);
        struct timespec until;
        md_deadline_in_ms(&until, (int64_t)t->interval_s * 1000);
        while (!t->stopping && pthread_cond_timedwait(&t->cv, &t->mu, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

md_gc_thread *md_gc_thread_start(const char *data_dir, int64_t min_age_s, int interval_s) {
    md_gc_thread *t = md_calloc(1, sizeof *t);
    t->data_dir = md_strdup(data_dir);
    t->min_age_s = min_age_s;
    t->interval_s = interval_s > 0 ? interval_s : 3600;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->thread, NULL, gc_main, t) != 0) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        md_free(t->data_dir);
        md_free(t);
        return NULL;
    }
    return t;
}

void md_gc_thread_stop(md_gc_thread **pt) {
    if (!pt || !*pt) return;
    md_gc_thread *t = *pt;
    pthread_mutex_lock(&t->mu);
    t->stopping = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    md_free(t->data_dir);
    md_free(t);
    *pt = NULL;
}

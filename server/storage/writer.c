/*
 * writer.c: a database's writer: lease, working file, snapshot per commit
 * (writer.h).  The head manifest is kept in memory so that a commit reads
 * only the blocks the dirty tracker saw written.  Commits are serialized by
 * one mutex (sessions of one duckling share the writer).
 */
#include "server/storage/writer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "server/storage/dbmeta.h"
#include "server/storage/dirty.h"
#include "server/storage/manifest.h"
#include "server/storage/objstore.h"
#include "server/storage/snapshot.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

#define LEASE_TTL_MS 60000
#define LEASE_WAIT_MS 15000
#define CHECKPOINT_TRIES 4 /* 5 ms apart: transactions that end at once (a session being reset) */

struct md_dbwriter {
    char *work_path, *wal_path, *holder;
    md_objstore *store; /* borrowed */
    md_dbmeta *meta; /* borrowed */
    int64_t db_id;
    int64_t head;          /* snapshot id, 0 before the first */
    md_manifest *head_m;   /* its manifest, NULL before the first */
    md_hash head_name;
    md_hash space;         /* the owner's block space (manifest.h) */
    md_dirty *dirty;       /* NULL until the working file exists */
    int need_full;         /* marks were lost (a failed capture): read everything next time */
    pthread_mutex_t mu;      /* everything above; held across a whole commit */
    pthread_mutex_t lease_mu; /* lease_until_ms and renewing: never held across I/O but the renewal itself */
    int64_t lease_until_ms;
};

static int64_t now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Field `want` of /proc/<pid>/stat (4: parent pid, 22: start time in
 * clock ticks), or 0. */
static unsigned long long stat_field(pid_t pid, int want) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) return 0;
    unsigned long long v = 0;
    int field = 2;
    char *save = NULL;
    for (char *tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (++field == want) {
            v = strtoull(tok, NULL, 10);
            break;
        }
    }
    return v;
}

static unsigned long long start_time(pid_t pid) { return stat_field(pid, 22); }

/* "<host>:<pid>:<start time>": unique per process, checkable on this host. */
static char *holder_name(void) {
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    return md_asprintf("%s:%d:%llu", host, (int)getpid(), start_time(getpid()));
}

/* 1 if `holder` names a process of this host. */
static int holder_is_local(const char *holder) {
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    size_t hl = strlen(host);
    return strncmp(holder, host, hl) == 0 && holder[hl] == ':';
}

/* The pid and start time a local holder names; 0 if it names none. */
static int holder_pid(const char *holder, unsigned long long *out_start) {
    if (!holder_is_local(holder)) return 0;
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    size_t hl = strlen(host);
    int pid = 0;
    if (sscanf(holder + hl + 1, "%d:%llu", &pid, out_start) != 2 || pid <= 0) return 0;
    return pid;
}

/* 1 if `holder` names a process of this host that no longer exists. */
static int holder_is_dead(const char *holder) {
    unsigned long long st = 0;
    int pid = holder_pid(holder, &st);
    if (pid <= 0) return 0;
    if (kill(pid, 0) != 0 && errno == ESRCH) return 1;
    return start_time(pid) != st; /* the pid was reused */
}

/* 1 if `holder` is a process of this host whose parent is gone (a duckling
 * of a server that was killed: it is shutting down). */
static int holder_is_orphan(const char *holder) {
    unsigned long long st = 0;
    int pid = holder_pid(holder, &st);
    if (pid <= 0) return 0;
    unsigned long long ppid = stat_field(pid, 4);
    return ppid <= 1 || (kill((pid_t)ppid, 0) != 0 && errno == ESRCH);
}

/* Take the lease.  A holder that is a dead process of this host is taken
 * over at once; an orphaned one of this host (a duckling still shutting
 * down after its server went away) is waited for, up to LEASE_WAIT_MS; any
 * other holder (another server's duckling) refuses at once. */
static int take_lease(md_dbwriter *w, char **out_err) {
    char *other = NULL;
    int rc;
    for (int waited = 0;; waited += 100) {
        md_free(other);
        other = NULL;
        rc = md_dbmeta_lease_acquire(w->meta, w->db_id, w->holder, LEASE_TTL_MS, &other);
        if (rc != MD_ELOCKED || !other) break;
        if (holder_is_dead(other)) {
            md_dbmeta_lease_release(w->meta, w->db_id, other);
            continue;
        }
        if (!holder_is_orphan(other) || waited >= LEASE_WAIT_MS) break;
        usleep(100000);
    }
    if (rc == MD_OK) w->lease_until_ms = now_ms() + LEASE_TTL_MS;
    else if (out_err)
        *out_err = rc == MD_ELOCKED ? md_asprintf("the database is being written by another process (%s)",
                                                  other ? other : "unknown")
                                    : md_strdup("cannot take the database's writer lease");
    md_free(other);
    return rc;
}

typedef struct db_found {
    int64_t id, head;
} db_found;

static void found_db(void *ctx, const md_db_row *row) {
    db_found *f = ctx;
    f->id = row->id;
    f->head = row->head;
}

static void found_snapshot(void *ctx, const md_snapshot_row *row) {
    *(md_hash *)ctx = row->manifest;
}

int md_dbwriter_open(md_objstore *store, md_dbmeta *meta, const char *owner, const char *dbname, const char *work_path,
                     md_dbwriter **out, char **out_err) {
    md_dbwriter *w = md_calloc(1, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->lease_mu, NULL);
    w->work_path = md_strdup(work_path);
    w->wal_path = md_asprintf("%s.wal", work_path);
    w->holder = holder_name();
    md_manifest_space_of(owner, &w->space);
    w->store = store;
    w->meta = meta;
    int rc = MD_OK;
    db_found f = {0, 0};
    if (rc == MD_OK) {
        rc = md_dbmeta_db_get(w->meta, owner, dbname, found_db, &f);
        if (rc == MD_ENOT_FOUND) {
            rc = md_dbmeta_db_create(w->meta, owner, dbname, 0, &f.id);
            if (rc == MD_EEXISTS) rc = MD_OK; /* created meanwhile */
            if (rc == MD_OK) rc = md_dbmeta_db_get(w->meta, owner, dbname, found_db, &f);
        }
        if (rc != MD_OK && out_err && !*out_err) *out_err = md_asprintf("cannot find or create database %s", dbname);
    }
    w->db_id = f.id;
    if (rc == MD_OK) rc = take_lease(w, out_err);
    if (rc == MD_OK) rc = md_dbmeta_db_get(w->meta, owner, dbname, found_db, &f); /* the head, now that it is ours */
    w->head = f.head;
    if (rc == MD_OK && w->head > 0) {
        rc = md_dbmeta_snapshot_get(w->meta, w->head, found_snapshot, &w->head_name);
        if (rc == MD_OK) rc = md_snapshot_load_manifest(w->store, &w->head_name, &w->head_m, out_err);
        else if (out_err) *out_err = md_asprintf("cannot read snapshot %lld", (long long)w->head);
    }
    struct stat st;
    if (rc == MD_OK && w->head_m && stat(work_path, &st) != 0) {
        /* no working file (a fresh machine, a lost file): rebuild it from the
         * head; a WAL without its base file must not be replayed onto it */
        unlink(w->wal_path);
        rc = md_snapshot_materialize(w->store, w->head_m, NULL, work_path, NULL, out_err);
    }
    if (rc == MD_OK && stat(work_path, &st) == 0) rc = md_dirty_track(work_path, &w->dirty, out_err);
    if (rc != MD_OK) {
        md_dbwriter_close(&w);
        return rc;
    }
    *out = w;
    return MD_OK;
}

/* CHECKPOINT the attached database `catalog` (its name in the DuckDB instance). */
static int checkpoint(duckdb_connection c, const char *catalog, char **out_err) {
    duckdb_result r;
    int rc = MD_OK;
    md_buf q = MD_BUF_INIT;
    md_buf_append(&q, "CHECKPOINT ", 11);
    md_buf_put_quoted(&q, catalog, '"');
    md_buf_put_u8(&q, 0);
    int failed = duckdb_query(c, (const char *)q.data, &r) == DuckDBError;
    md_buf_free(&q);
    if (failed) {
        if (out_err) *out_err = md_asprintf("CHECKPOINT failed: %s", duckdb_result_error(&r));
        rc = MD_EIO;
    }
    duckdb_destroy_result(&r);
    return rc;
}

/* Commit manifest `m` (named `name`) as the new head; takes ownership of m. */
static int commit_head(md_dbwriter *w, md_manifest *m, const md_hash *name, uint64_t bytes_added,
                       int64_t *out_snapshot, char **out_err) {
    pthread_mutex_lock(&w->lease_mu);
    if (w->lease_until_ms - now_ms() < LEASE_TTL_MS / 2) {
        /* renew a lease still ours; one that expired unclaimed is taken
         * again (safe: the commit below compares and sets the head, so a
         * writer that came and went in between makes it fail) */
        int rc = md_dbmeta_lease_renew(w->meta, w->db_id, w->holder, LEASE_TTL_MS);
        if (rc != MD_OK) rc = md_dbmeta_lease_acquire(w->meta, w->db_id, w->holder, LEASE_TTL_MS, NULL);
        if (rc == MD_OK) w->lease_until_ms = now_ms() + LEASE_TTL_MS;
    }
    pthread_mutex_unlock(&w->lease_mu);
    int64_t id = 0;
    int rc = md_dbmeta_snapshot_commit(w->meta, w->db_id, w->holder, w->head, name, m->file_size, bytes_added, NULL,
                                       &id);
    if (rc != MD_OK) {
        if (out_err)
            *out_err = rc == MD_ELOCKED ? md_strdup("the database's writer lease was lost (or another writer moved "
                                                    "its head); the change stays in this working file only")
                                        : md_strdup("cannot commit the snapshot to the metadata store");
        md_manifest_free(&m);
        return rc;
    }
    md_manifest_free(&w->head_m);
    w->head_m = m;
    w->head_name = *name;
    w->head = id;
    if (out_snapshot) *out_snapshot = id;
    return MD_OK;
}

int md_dbwriter_recover(md_dbwriter *w, duckdb_connection c, const char *catalog, char **out_err) {
    pthread_mutex_lock(&w->mu);
    int rc = w->dirty ? MD_OK : md_dirty_track(w->work_path, &w->dirty, out_err);
    if (rc == MD_OK) rc = checkpoint(c, catalog, out_err);
    md_manifest *m = NULL;
    md_hash name;
    md_capture_stats stats;
    if (rc == MD_OK) {
        uint32_t *ignored, n; /* the full read below covers them */
        md_dirty_take(w->dirty, &ignored, &n);
        md_free(ignored);
        rc = md_snapshot_capture(w->store, w->work_path, &w->space, NULL, NULL, 0, &m, &name, &stats, out_err);
    }
    if (rc == MD_OK) {
        if (w->head_m && md_hash_equal(&name, &w->head_name)) md_manifest_free(&m);
        else rc = commit_head(w, m, &name, stats.bytes_added, NULL, out_err);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* The sorted union of marks a[0..*na) and b[0..nb) (both ascending); frees
 * both, returns the union (md_malloc'd) and sets *na to its length. */
static uint32_t *merge_marks(uint32_t *a, uint32_t *na, uint32_t *b, uint32_t nb) {
    if (!b || nb == 0) {
        md_free(b);
        return a;
    }
    if (!a || *na == 0) {
        md_free(a);
        *na = nb;
        return b;
    }
    uint32_t *u = md_malloc(((size_t)*na + nb) * sizeof *u), i = 0, j = 0, k = 0;
    while (i < *na || j < nb) {
        uint32_t v = j >= nb || (i < *na && a[i] <= b[j]) ? a[i++] : b[j++];
        if (k == 0 || u[k - 1] != v) u[k++] = v;
    }
    md_free(a);
    md_free(b);
    *na = k;
    return u;
}

static int wal_has_data(const md_dbwriter *w) {
    struct stat st;
    return stat(w->wal_path, &st) == 0 && st.st_size > 0;
}

int md_dbwriter_commit(md_dbwriter *w, duckdb_connection c, const char *catalog, int64_t *out_snapshot,
                       char **out_err) {
    if (out_snapshot) *out_snapshot = 0;
    pthread_mutex_lock(&w->mu);
    int wal = wal_has_data(w);
    if (!wal && !(w->dirty && md_dirty_pending(w->dirty)) && !w->need_full) {
        pthread_mutex_unlock(&w->mu);
        return MD_OK;
    }
    if (!c && wal) { /* closed with changes only in its WAL: a capture would miss them */
        if (out_err) *out_err = md_strdup("the database was closed with changes still in its WAL");
        pthread_mutex_unlock(&w->mu);
        return MD_EIO;
    }
    int rc = MD_OK;
    /* A capture reads the file while nothing else should change the blocks
     * a snapshot references.  If something wrote meanwhile (DuckDB writing
     * a large insert ahead into free blocks, or a user's own CHECKPOINT
     * racing with ours), marks appear during the read: that manifest might
     * mix old and new blocks, so it is dropped and the blocks of both sets
     * of marks are read again.  After three tries the snapshot waits for
     * the next commit (the change is durable in DuckDB meanwhile). */
    uint32_t *marks = NULL, nmarks = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        char *why = NULL;
        /* another session's transaction blocks CHECKPOINT; most are short
         * (a session being reset, a quick statement): try a few times */
        for (int wait = 0; c && wait < CHECKPOINT_TRIES && checkpoint(c, catalog, &why) != MD_OK; wait++) {
            if (!why || !strstr(why, "transaction") || wait + 1 == CHECKPOINT_TRIES) break;
            md_free(why);
            why = NULL;
            usleep(5000);
        }
        if (c && why) {
            int busy = strstr(why, "transaction") != NULL; /* still open: the next commit */
            if (!busy && out_err) *out_err = why, why = NULL;
            md_free(why);
            w->need_full |= nmarks > 0; /* marks taken here would be lost */
            md_free(marks);
            pthread_mutex_unlock(&w->mu);
            return busy ? MD_OK : MD_EIO;
        }
        uint32_t *more, nmore;
        md_dirty_take(w->dirty, &more, &nmore);
        marks = merge_marks(marks, &nmarks, more, nmore);
        md_manifest *m = NULL;
        md_hash name;
        md_capture_stats stats;
        int use_marks = w->head_m && !w->need_full;
        static const uint32_t none[1] = {0}; /* no marks (only the WAL changed): read nothing, not everything */
        rc = md_snapshot_capture(w->store, w->work_path, &w->space, w->head_m, use_marks ? (marks ? marks : none) : NULL,
                                 nmarks, &m, &name, &stats, out_err);
        if (rc == MD_OK && md_dirty_pending(w->dirty)) { /* written during the read */
            md_manifest_free(&m);
            continue;
        }
        if (rc == MD_OK) {
            if (w->head_m && md_hash_equal(&name, &w->head_name)) md_manifest_free(&m); /* rewritten, same bytes */
            else rc = commit_head(w, m, &name, stats.bytes_added, out_snapshot, out_err);
        }
        w->need_full = rc != MD_OK; /* the marks taken above are gone */
        md_free(marks);
        pthread_mutex_unlock(&w->mu);
        return rc;
    }
    w->need_full = 1; /* the marks are gone: the next commit reads everything */
    md_free(marks);
    pthread_mutex_unlock(&w->mu);
    return MD_OK;
}

int64_t md_dbwriter_db_id(const md_dbwriter *w) { return w->db_id; }

int md_dbwriter_pending(md_dbwriter *w) {
    pthread_mutex_lock(&w->mu);
    int p = wal_has_data(w) || (w->dirty && md_dirty_pending(w->dirty)) || w->need_full;
    pthread_mutex_unlock(&w->mu);
    return p;
}

int64_t md_dbwriter_head(md_dbwriter *w) {
    pthread_mutex_lock(&w->mu);
    int64_t h = w->head;
    pthread_mutex_unlock(&w->mu);
    return h;
}

int md_dbwriter_renew(md_dbwriter *w) {
    pthread_mutex_lock(&w->lease_mu); /* not w->mu: a long commit must not let the lease run out */
    int rc = md_dbmeta_lease_renew(w->meta, w->db_id, w->holder, LEASE_TTL_MS);
    if (rc == MD_OK) w->lease_until_ms = now_ms() + LEASE_TTL_MS;
    pthread_mutex_unlock(&w->lease_mu);
    return rc;
}

void md_dbwriter_close(md_dbwriter **pw) {
    if (!pw || !*pw) return;
    md_dbwriter *w = *pw;
    if (w->meta && w->db_id && w->lease_until_ms) md_dbmeta_lease_release(w->meta, w->db_id, w->holder);
    md_dirty_untrack(&w->dirty);
    md_manifest_free(&w->head_m);
    md_free(w->work_path);
    md_free(w->wal_path);
    md_free(w->holder);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->lease_mu);
    md_free(w);
    *pw = NULL;
}

/*
 * databases.c: the duckling's registry of attached snapshot-stored
 * databases (databases.h).
 *
 * The registry's list is the truth about which md: databases the DuckDB
 * instance has attached; every ATTACH/DETACH of one goes through here, on
 * the module's own connection (home: `memory`) except a user's DETACH, which
 * runs on the user's connection so that DuckDB's "current database" rule
 * applies to it.  Order of a writer's detach: snapshot with CHECKPOINT,
 * DETACH (DuckDB closes the file), capture what closing wrote, give the
 * lease up.
 */
#include "server/storage/databases.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/storage/snapshot.h"
#include "server/storage/writer.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/md_time.h"

#define RENEW_EVERY_S 20
#define CACHE_FILES 8

/* Names DuckDB gives its own databases: never a user database's name. */
static const char *const reserved_names[] = {"memory", "system", "temp", "main"};

typedef struct attachment {
    char *alias, *name, *path;
    int64_t db_id;
    int64_t snapshot;  /* READER */
    md_attach_mode mode;
    int follows_head;  /* READER of the head */
    char *locked_by;   /* READER because another process holds the lease */
    md_dbwriter *writer;
    /* a share's READER (share_id > 0): its URL parts, its name and owner */
    int64_t share_id;
    char *share_db, *share_url_id, *share_name, *share_owner;
    struct attachment *next;
} attachment;

/* A share attachment that was detached because its share went away
 * (dropped, replaced, revoked): statements that name the alias are told
 * why until it is detached or attached again. */
typedef struct gone_share {
    char *alias, *reason;
    int code; /* MD_EPERMISSION (revoked) or MD_ENOT_FOUND (dropped, replaced) */
    struct gone_share *next;
} gone_share;

struct md_databases {
    char *owner, *db_dir;
    duckdb_database db;
    duckdb_connection ctl;
    md_dbmeta *meta; /* borrowed */
    md_objstore *store; /* borrowed */
    md_snapcache *cache;
    attachment *list;
    gone_share *gone;
    int replica; /* a read replica: every database a reader of its head */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t renewer;
    int renewing, stopping;
    /* the writers whose leases the renewal thread extends: their own lock,
     * so that long work under `mu` never starves a lease */
    pthread_mutex_t renew_mu;
    md_dbwriter **renew;
    size_t nrenew;
};

/* ---- helpers ------------------------------------------------------------------ */

static void forget_gone(md_databases *d, const char *alias);
static void attach_mounts(md_databases *d);
struct attachment;
static int refresh_one(md_databases *d, struct attachment *a, int *moved, char **out_err);

/* 'text' or "text" with the quote character doubled; malloc'd. */
static char *quoted(const char *s, char q) {
    md_buf b = MD_BUF_INIT;
    md_buf_put_u8(&b, (uint8_t)q);
    for (; *s; s++) {
        if (*s == q) md_buf_put_u8(&b, (uint8_t)q);
        md_buf_put_u8(&b, (uint8_t)*s);
    }
    md_buf_put_u8(&b, (uint8_t)q);
    md_buf_put_u8(&b, 0);
    size_t n;
    return (char *)md_buf_detach(&b, &n);
}

/* Run sql on c; MD_OK or MD_ESQL with DuckDB's message in *out_err. */
static int run(duckdb_connection c, const char *sql, char **out_err) {
    duckdb_result r;
    int rc = MD_OK;
    if (duckdb_query(c, sql, &r) == DuckDBError) {
        if (out_err) *out_err = md_strdup(duckdb_result_error(&r));
        rc = MD_ESQL;
    }
    duckdb_destroy_result(&r);
    return rc;
}

static int duck_attach(duckdb_connection c, const char *path, const char *alias, int read_only, char **out_err) {
    char *p = quoted(path, '\''), *a = quoted(alias, '"');
    char *sql = md_asprintf("ATTACH %s AS %s%s", p, a, read_only ? " (READ_ONLY)" : "");
    int rc = run(c, sql, out_err);
    md_free(sql);
    md_free(p);
    md_free(a);
    return rc;
}

static int duck_detach(duckdb_connection c, const char *alias, char **out_err) {
    char *a = quoted(alias, '"');
    char *sql = md_asprintf("DETACH %s", a);
    int rc = run(c, sql, out_err);
    md_free(sql);
    md_free(a);
    return rc;
}

static attachment *find_alias(md_databases *d, const char *alias) {
    for (attachment *a = d->list; a; a = a->next)
        if (strcasecmp(a->alias, alias) == 0) return a;
    return NULL;
}

static attachment *find_writer(md_databases *d, int64_t db_id) {
    for (attachment *a = d->list; a; a = a->next)
        if (a->mode == MD_ATTACH_WRITER && a->db_id == db_id) return a;
    return NULL;
}

/* A new attachment (takes ownership of path; copies alias and name). */
static attachment *new_attachment(const char *alias, const char *name, char *path, int64_t db_id,
                                  md_attach_mode mode) {
    attachment *a = md_calloc(1, sizeof *a);
    a->alias = md_strdup(alias);
    a->name = md_strdup(name);
    a->path = path;
    a->db_id = db_id;
    a->mode = mode;
    return a;
}

static void add(md_databases *d, attachment *a) {
    a->next = NULL;
    attachment **pp = &d->list;
    while (*pp) pp = &(*pp)->next;
    *pp = a;
}

static void unlink_attachment(md_databases *d, attachment *a) {
    for (attachment **pp = &d->list; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            return;
        }
}

static int reserved(const char *name) {
    for (size_t i = 0; i < sizeof reserved_names / sizeof *reserved_names; i++)
        if (strcasecmp(name, reserved_names[i]) == 0) return 1;
    return 0;
}

static void renew_add(md_databases *d, md_dbwriter *w) {
    pthread_mutex_lock(&d->renew_mu);
    d->renew = md_realloc(d->renew, (d->nrenew + 1) * sizeof *d->renew);
    d->renew[d->nrenew++] = w;
    pthread_mutex_unlock(&d->renew_mu);
}

static void renew_remove(md_databases *d, md_dbwriter *w) {
    pthread_mutex_lock(&d->renew_mu);
    for (size_t i = 0; i < d->nrenew; i++)
        if (d->renew[i] == w) {
            d->renew[i] = d->renew[--d->nrenew];
            break;
        }
    pthread_mutex_unlock(&d->renew_mu);
}

/* Close a writer (its lease given up) once the renewal thread forgot it. */
static void close_writer(md_databases *d, md_dbwriter **w) {
    if (!*w) return;
    renew_remove(d, *w);
    md_dbwriter_close(w);
}

static void free_attachment(md_databases *d, attachment *a) {
    close_writer(d, &a->writer);
    md_free(a->share_db);
    md_free(a->share_url_id);
    md_free(a->share_name);
    md_free(a->share_owner);
    md_free(a->alias);
    md_free(a->name);
    md_free(a->path);
    md_free(a->locked_by);
    md_free(a);
}

static char *work_path(md_databases *d, const char *name) { return md_asprintf("%s/%s.duckdb", d->db_dir, name); }

static int work_files_exist(md_databases *d, const char *name) {
    char *w = work_path(d, name), *wal = md_asprintf("%s.wal", w);
    struct stat st;
    int any = stat(w, &st) == 0 || stat(wal, &st) == 0;
    md_free(w);
    md_free(wal);
    return any;
}

static void remove_work_files(md_databases *d, const char *name) {
    char *w = work_path(d, name), *wal = md_asprintf("%s.wal", w);
    unlink(w);
    unlink(wal);
    md_free(w);
    md_free(wal);
}

typedef struct db_found {
    int found;
    int64_t id, head;
    char name[64]; /* as created (lookups ignore case) */
} db_found;

static void on_db(void *ctx, const md_db_row *row) {
    db_found *f = ctx;
    f->found = 1;
    f->id = row->id;
    f->head = row->head;
    snprintf(f->name, sizeof f->name, "%s", row->name);
}

static int lookup(md_databases *d, const char *name, db_found *f) {
    memset(f, 0, sizeof *f);
    return md_dbmeta_db_get(d->meta, d->owner, name, on_db, f);
}

/* lookup, with the sentence for the user when it fails. */
static int lookup_live(md_databases *d, const char *name, db_found *f, char **out_err) {
    int rc = lookup(d, name, f);
    if (rc == MD_ENOT_FOUND) *out_err = md_asprintf("database %s does not exist", name);
    else if (rc != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
    return rc;
}

typedef struct snap_found {
    int64_t db_id;
    md_hash manifest;
} snap_found;

static void on_snapshot(void *ctx, const md_snapshot_row *row) {
    snap_found *s = ctx;
    s->db_id = row->db_id;
    s->manifest = row->manifest;
}

/* 1 if a reader of this registry has the file at `path` attached, under
 * that name or (same_name 0) another name of the same file (the cache's hard links):
 * this process must not even open such a file, since closing any
 * descriptor of it would drop the lock DuckDB holds on it. */
static int path_in_use(void *ctx, const char *path, int same_name) {
    md_databases *d = ctx;
    struct stat want, have;
    int known = !same_name && stat(path, &want) == 0;
    for (attachment *a = d->list; a; a = a->next) {
        if (a->mode != MD_ATTACH_READER) continue;
        if (strcmp(a->path, path) == 0) return 1;
        if (known && stat(a->path, &have) == 0 && have.st_dev == want.st_dev && have.st_ino == want.st_ino)
            return 1;
    }
    return 0;
}

/* Snapshot `id`'s manifest: its name and decoded form (*out_m, caller frees). */
static int load_snapshot(md_databases *d, int64_t id, md_hash *out_name, md_manifest **out_m, char **out_err) {
    snap_found s = {0};
    int rc = md_dbmeta_snapshot_get(d->meta, id, on_snapshot, &s);
    if (rc != MD_OK) {
        *out_err = md_asprintf("cannot read snapshot %lld", (long long)id);
        return rc;
    }
    *out_name = s.manifest;
    return md_snapshot_load_manifest(d->store, &s.manifest, out_m, out_err);
}

/* The cache file of snapshot `snapshot` (which must be db_id's, or its head). */
static int snapshot_file(md_databases *d, const char *name, int64_t db_id, int64_t head, int64_t snapshot,
                         char **out_path, md_snapcache_stats *out_stats, char **out_err) {
    snap_found s = {0};
    int rc = md_dbmeta_snapshot_get(d->meta, snapshot, on_snapshot, &s);
    if (rc == MD_OK && s.db_id != db_id && snapshot != head) rc = MD_ENOT_FOUND;
    if (rc == MD_ENOT_FOUND) {
        *out_err = md_asprintf("database %s has no snapshot %lld (FROM md_snapshots('%s') lists them)", name,
                               (long long)snapshot, name);
        return rc;
    }
    if (rc != MD_OK) {
        *out_err = md_asprintf("cannot read snapshot %lld", (long long)snapshot);
        return rc;
    }
    md_manifest *m = NULL;
    rc = md_snapshot_load_manifest(d->store, &s.manifest, &m, out_err);
    if (rc == MD_OK) rc = md_snapcache_get(d->cache, &s.manifest, m, path_in_use, d, out_path, out_stats, out_err);
    md_manifest_free(&m);
    return rc;
}

/* ---- attaching ------------------------------------------------------------------ */

static int attach_reader(md_databases *d, const char *name, int64_t db_id, int64_t head, const char *alias,
                         int64_t snapshot, const char *locked_by, md_snapcache_stats *out_stats, char **out_err) {
    int follows = snapshot == 0;
    if (follows) snapshot = head;
    if (snapshot == 0) {
        *out_err = md_asprintf("database %s has no snapshot yet%s", name,
                               locked_by ? " and another process holds its writer lease" : "");
        return locked_by ? MD_ELOCKED : MD_ENOT_FOUND;
    }
    char *path = NULL;
    int rc = snapshot_file(d, name, db_id, head, snapshot, &path, out_stats, out_err);
    if (rc != MD_OK) return rc;
    rc = duck_attach(d->ctl, path, alias, 1, out_err);
    if (rc != MD_OK) {
        md_free(path);
        return rc;
    }
    attachment *a = new_attachment(alias, name, path, db_id, MD_ATTACH_READER);
    a->snapshot = snapshot;
    a->follows_head = follows;
    a->locked_by = locked_by ? md_strdup(locked_by) : NULL;
    add(d, a);
    return MD_OK;
}

/* Attach `name` for writing; when another process holds its lease, as a
 * reader of its head (*out_locked = 1). */
static int attach_writer(md_databases *d, const char *name, const char *alias, int *out_locked, char **out_err) {
    char *path = work_path(d, name);
    md_dbwriter *w = NULL;
    char *why = NULL;
    int rc = md_dbwriter_open(d->store, d->meta, d->owner, name, path, &w, &why);
    if (rc == MD_ELOCKED) {
        md_free(path);
        db_found f;
        rc = lookup(d, name, &f);
        if (rc != MD_OK) *out_err = md_asprintf("database %s does not exist any more", name);
        else rc = attach_reader(d, f.name, f.id, f.head, alias, 0, why, NULL, out_err);
        md_free(why);
        if (rc == MD_OK && out_locked) *out_locked = 1;
        return rc;
    }
    if (rc != MD_OK) {
        *out_err = md_asprintf("cannot open database %s: %s", name, why ? why : "unknown error");
        md_free(why);
        md_free(path);
        return rc;
    }
    rc = duck_attach(d->ctl, path, alias, 0, out_err);
    if (rc == MD_OK) {
        rc = md_dbwriter_recover(w, d->ctl, alias, &why);
        if (rc != MD_OK) {
            *out_err = md_asprintf("cannot snapshot database %s: %s", name, why ? why : "unknown error");
            md_free(why);
            duck_detach(d->ctl, alias, NULL);
        }
    }
    if (rc != MD_OK) {
        md_dbwriter_close(&w);
        md_free(path);
        return rc;
    }
    attachment *a = new_attachment(alias, name, path, md_dbwriter_db_id(w), MD_ATTACH_WRITER);
    a->writer = w;
    add(d, a);
    renew_add(d, w);
    if (out_locked) *out_locked = 0;
    return MD_OK;
}

/*
 * Detach writer attachment a on c: its last snapshot (refused while a
 * transaction keeps changes out of it: nothing is detached then), DETACH
 * (DuckDB closes the file), a capture of what closing wrote.  On MD_OK the
 * attachment is gone and its writer -- lease still held -- is handed to
 * *out_w (caller closes it); on an error after the DETACH the attachment
 * is gone too, its writer closed, and the working file keeps the changes
 * (the next attach snapshots them).
 */
static int detach_writer(md_databases *d, duckdb_connection c, attachment *a, md_dbwriter **out_w,
                         char **out_err) {
    int64_t ignored;
    char *why = NULL;
    int rc = md_dbwriter_commit(a->writer, d->ctl, a->alias, &ignored, &why);
    if (rc == MD_OK && md_dbwriter_pending(a->writer)) {
        *out_err = md_asprintf("database %s has changes of an open transaction's session not in a snapshot yet; "
                               "try again when the other sessions' transactions end",
                               a->name);
        return MD_ELOCKED;
    }
    if (rc != MD_OK) {
        *out_err = md_asprintf("database %s: %s", a->name, why ? why : "its last snapshot failed");
        md_free(why);
        return rc;
    }
    rc = duck_detach(c, a->alias, out_err);
    if (rc != MD_OK) return rc;
    md_dbwriter *w = a->writer;
    a->writer = NULL;
    unlink_attachment(d, a);
    rc = md_dbwriter_commit(w, NULL, NULL, &ignored, &why);
    if (rc != MD_OK) {
        *out_err = md_asprintf("database %s was detached, but what closing it wrote is not in a snapshot yet (%s); "
                               "attaching it again takes care of it",
                               a->name, why ? why : "the capture failed");
        md_free(why);
        close_writer(d, &w);
    } else {
        *out_w = w;
    }
    free_attachment(d, a);
    return rc;
}

/* Snapshot what a writer still holds back (a commit postponed by another
 * session's transaction), if the registry is free right now: called by the
 * background thread without renew_mu, so it never waits for `mu` (whose
 * holders may wait for renew_mu). */
static void flush_pending(md_databases *d) {
    if (pthread_mutex_trylock(&d->mu) != 0) return;
    for (attachment *a = d->list; a && d->ctl; a = a->next) {
        if (!a->writer || !md_dbwriter_pending(a->writer)) continue;
        int64_t ignored;
        char *why = NULL;
        if (md_dbwriter_commit(a->writer, d->ctl, a->alias, &ignored, &why) != MD_OK)
            fprintf(stderr, "mdserver duckling: snapshot of %s: %s\n", a->name, why ? why : "failed");
        md_free(why);
    }
    pthread_mutex_unlock(&d->mu);
}

/* Every second: a snapshot for changes a commit had to postpone; every
 * RENEW_EVERY_S: the leases. */
static void *renew_main(void *arg) {
    md_databases *d = arg;
    pthread_mutex_lock(&d->renew_mu);
    for (int tick = 1; !d->stopping; tick++) {
        struct timespec until;
        md_deadline_in_ms(&until, 1000);
        pthread_cond_timedwait(&d->cv, &d->renew_mu, &until);
        if (d->stopping) break;
        if (tick % RENEW_EVERY_S == 0)
            for (size_t i = 0; i < d->nrenew; i++)
                if (md_dbwriter_renew(d->renew[i]) != MD_OK)
                    fprintf(stderr, "mdserver duckling: a writer lease was lost (database id %lld)\n",
                            (long long)md_dbwriter_db_id(d->renew[i]));
        pthread_mutex_unlock(&d->renew_mu);
        flush_pending(d);
        pthread_mutex_lock(&d->renew_mu);
    }
    pthread_mutex_unlock(&d->renew_mu);
    return NULL;
}

static void stop_renewer(md_databases *d) {
    if (!d->renewing) return;
    pthread_mutex_lock(&d->renew_mu);
    d->stopping = 1;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->renew_mu);
    pthread_join(d->renewer, NULL);
    d->renewing = 0;
}

/* ---- public ------------------------------------------------------------------ */

int md_databases_open(md_objstore *store, md_dbmeta *meta, const char *owner, const char *user_dir, duckdb_database db,
                      md_databases **out, char **out_err) {
    md_databases *d = md_calloc(1, sizeof *d);
    pthread_mutex_init(&d->mu, NULL);
    pthread_mutex_init(&d->renew_mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    d->store = store;
    d->meta = meta;
    d->owner = md_strdup(owner);
    d->db_dir = md_asprintf("%s/databases", user_dir);
    d->db = db;
    char *cache_dir = md_asprintf("%s/.snapshots", d->db_dir);
    int rc = MD_OK;
    if (mkdir(d->db_dir, 0700) != 0 && errno != EEXIST) {
        *out_err = md_asprintf("cannot create %s: %s", d->db_dir, strerror(errno));
        rc = MD_EIO;
    }
    if (rc == MD_OK) { /* before databases/ existed, my_db lived beside it: move it (and its WAL) in */
        char *old = md_asprintf("%s/my_db.duckdb", user_dir), *now = work_path(d, "my_db");
        char *old_wal = md_asprintf("%s.wal", old), *now_wal = md_asprintf("%s.wal", now);
        struct stat st;
        /* the WAL first: a crash in between leaves the file where the next start looks */
        if (stat(now, &st) != 0 && stat(old_wal, &st) == 0 && rename(old_wal, now_wal) != 0) rc = MD_EIO;
        if (rc == MD_OK && stat(now, &st) != 0 && stat(old, &st) == 0 && rename(old, now) != 0) rc = MD_EIO;
        if (rc != MD_OK) *out_err = md_asprintf("cannot move %s into %s", old_wal, d->db_dir);
        md_free(old);
        md_free(now);
        md_free(old_wal);
        md_free(now_wal);
    }
    if (rc == MD_OK) rc = md_snapcache_open(cache_dir, d->store, CACHE_FILES, &d->cache, out_err);
    if (rc == MD_OK && duckdb_connect(db, &d->ctl) == DuckDBError) {
        *out_err = md_strdup("cannot open a DuckDB connection");
        rc = MD_EIO;
    }
    if (rc == MD_OK && pthread_create(&d->renewer, NULL, renew_main, d) == 0) d->renewing = 1;
    md_free(cache_dir);
    if (rc != MD_OK) {
        md_databases_free(&d);
        return rc;
    }
    *out = d;
    return MD_OK;
}

typedef struct names {
    char **v;
    size_t n;
} names;

static void on_name(void *ctx, const md_db_row *row) {
    names *ns = ctx;
    ns->v = md_realloc(ns->v, (ns->n + 1) * sizeof *ns->v);
    ns->v[ns->n++] = md_strdup(row->name);
}

void md_databases_set_replica(md_databases *d) { d->replica = 1; }

/* A replica's attach_all and follow: every live database a reader of its
 * head (those without a snapshot yet wait), every reader moved to its
 * database's newest snapshot, readers of dropped databases detached.
 * Called with d->mu held; *changed counts what moved. */
static int follow_all(md_databases *d, int *changed, char **out_err) {
    names ns = {NULL, 0};
    int rc = md_dbmeta_db_list(d->meta, d->owner, on_name, &ns);
    if (rc != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
    for (size_t i = 0; i < ns.n && rc == MD_OK; i++) {
        db_found f;
        if (find_alias(d, ns.v[i]) || lookup(d, ns.v[i], &f) != MD_OK || f.head == 0) continue;
        char *why = NULL;
        if (attach_reader(d, f.name, f.id, f.head, f.name, 0, NULL, NULL, &why) == MD_OK) (*changed)++;
        else fprintf(stderr, "mdserver duckling: replica: %s left detached: %s\n", f.name, why ? why : "error");
        md_free(why);
    }
    for (size_t i = 0; i < ns.n; i++) md_free(ns.v[i]);
    md_free(ns.v);
    attachment *a = d->list;
    while (a && rc == MD_OK) {
        attachment *next = a->next; /* refresh_one may replace a */
        if (a->follows_head && !a->share_id) {
            db_found f;
            if (lookup(d, a->name, &f) == MD_ENOT_FOUND) { /* dropped */
                if (duck_detach(d->ctl, a->alias, NULL) == MD_OK) {
                    unlink_attachment(d, a);
                    free_attachment(d, a);
                    (*changed)++;
                }
            } else {
                char *why = NULL;
                if (refresh_one(d, a, changed, &why) != MD_OK) /* in use, or a failed fetch: the next statement tries again */
                    fprintf(stderr, "mdserver duckling: replica: %s\n", why ? why : "a database was not refreshed");
                md_free(why);
            }
        }
        a = next;
    }
    return rc;
}

int md_databases_follow_heads(md_databases *d, int *out_changed, char **out_err) {
    pthread_mutex_lock(&d->mu);
    int changed = 0;
    int rc = follow_all(d, &changed, out_err);
    pthread_mutex_unlock(&d->mu);
    if (out_changed) *out_changed = changed;
    return rc;
}

int md_databases_attach_all(md_databases *d, int *out_n, char **out_err) {
    if (d->replica) {
        pthread_mutex_lock(&d->mu);
        int n = 0;
        int rc = follow_all(d, &n, out_err);
        if (rc == MD_OK) attach_mounts(d);
        pthread_mutex_unlock(&d->mu);
        if (rc == MD_OK && out_n) *out_n = n;
        return rc;
    }
    pthread_mutex_lock(&d->mu);
    names ns = {NULL, 0};
    int rc = md_dbmeta_db_list(d->meta, d->owner, on_name, &ns);
    if (rc != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
    int have_my_db = 0, attached = 0;
    for (size_t i = 0; i < ns.n; i++) have_my_db |= strcmp(ns.v[i], "my_db") == 0;
    if (rc == MD_OK && !have_my_db) { /* a new user: my_db first (the writer creates it) */
        rc = attach_writer(d, "my_db", "my_db", NULL, out_err);
        attached += rc == MD_OK;
    }
    /* one database that cannot be opened must not lock its owner out of
     * the others (nor out of DROP DATABASE): it is reported and left out */
    for (size_t i = 0; i < ns.n && rc == MD_OK; i++) {
        db_found f;
        if (lookup(d, ns.v[i], &f) != MD_OK) continue; /* dropped meanwhile */
        if (find_alias(d, ns.v[i]) || find_writer(d, f.id)) continue;
        char *why = NULL;
        int one = attach_writer(d, ns.v[i], ns.v[i], NULL, &why);
        if (one == MD_OK) attached++;
        else if (strcmp(ns.v[i], "my_db") == 0) rc = one, *out_err = why, why = NULL;
        else fprintf(stderr, "mdserver duckling: database %s left detached: %s\n", ns.v[i], why ? why : "error");
        md_free(why);
    }
    for (size_t i = 0; i < ns.n; i++) md_free(ns.v[i]);
    md_free(ns.v);
    if (rc == MD_OK) attach_mounts(d);
    pthread_mutex_unlock(&d->mu);
    if (rc == MD_OK && out_n) *out_n = attached;
    return rc;
}

int md_databases_attach(md_databases *d, const char *name, const char *alias, int64_t snapshot, int read_only,
                        int *out_locked_by, md_snapcache_stats *out_stats, char **out_err) {
    if (!alias) alias = name;
    if (out_locked_by) *out_locked_by = 0;
    if (reserved(alias)) {
        *out_err = md_asprintf("%s is a name DuckDB keeps for itself: choose another with AS", alias);
        return MD_EINVAL;
    }
    pthread_mutex_lock(&d->mu);
    db_found f;
    int rc = lookup(d, name, &f);
    if (rc == MD_ENOT_FOUND) *out_err = md_asprintf("database %s does not exist (SHOW DATABASES lists yours)", name);
    else if (rc != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
    attachment *a = rc == MD_OK ? find_alias(d, alias) : NULL;
    if (a) {
        *out_err = md_asprintf("a database is already attached as %s (choose another name with AS)", alias);
        rc = MD_EEXISTS;
    }
    if (rc == MD_OK && snapshot == 0 && !read_only) {
        attachment *w = find_writer(d, f.id);
        if (w) {
            *out_err = md_asprintf("database %s is already attached as %s", name, w->alias);
            rc = MD_EEXISTS;
        } else {
            rc = attach_writer(d, f.name, alias, out_locked_by, out_err);
        }
    } else if (rc == MD_OK) {
        rc = attach_reader(d, f.name, f.id, f.head, alias, snapshot, NULL, out_stats, out_err);
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int md_databases_is_attached(md_databases *d, const char *alias) {
    pthread_mutex_lock(&d->mu);
    int yes = find_alias(d, alias) != NULL;
    pthread_mutex_unlock(&d->mu);
    return yes;
}

int md_databases_detach(md_databases *d, duckdb_connection c, const char *alias, char **out_err) {
    pthread_mutex_lock(&d->mu);
    attachment *a = find_alias(d, alias);
    int rc = MD_ENOT_FOUND;
    if (a && a->mode == MD_ATTACH_WRITER) {
        md_dbwriter *w = NULL;
        rc = detach_writer(d, c, a, &w, out_err);
        close_writer(d, &w);
    } else if (a) {
        rc = duck_detach(c, alias, out_err);
        if (rc == MD_OK && a->share_id) md_dbmeta_share_mount(d->meta, d->owner, a->alias, NULL);
        if (rc == MD_OK) {
            unlink_attachment(d, a);
            free_attachment(d, a);
        }
    } else {
        for (gone_share *g = d->gone; g; g = g->next)
            if (strcasecmp(g->alias, alias) == 0) { /* a share that went away: DETACH clears it */
                md_dbmeta_share_mount(d->meta, d->owner, g->alias, NULL);
                forget_gone(d, alias);
                rc = MD_OK;
                break;
            }
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int md_databases_create(md_databases *d, const char *name, int64_t from_snapshot, int *out_attached,
                        char **out_err) {
    if (out_attached) *out_attached = 0;
    if (reserved(name)) {
        *out_err = md_asprintf("%s is a name DuckDB keeps for itself: choose another", name);
        return MD_EINVAL;
    }
    pthread_mutex_lock(&d->mu);
    int64_t id;
    int rc = find_alias(d, name) ? MD_EEXISTS : md_dbmeta_db_create(d->meta, d->owner, name, from_snapshot, &id);
    if (rc == MD_EEXISTS) *out_err = md_asprintf("database %s already exists (or is attached under that name)", name);
    else if (rc == MD_EINVAL)
        *out_err = md_asprintf("\"%s\" cannot name a database: use 1 to 63 letters, digits or _, not starting "
                               "with a digit",
                               name);
    else if (rc == MD_ENOT_FOUND) *out_err = md_asprintf("snapshot %lld does not exist", (long long)from_snapshot);
    else if (rc != MD_OK) *out_err = md_strdup("cannot write the storage metadata");
    if (rc == MD_OK) {
        remove_work_files(d, name); /* a new database: any file of that name is stale */
        /* usable by name at once (a clone's working file is built from its head) */
        char *why = NULL;
        if (attach_writer(d, name, name, NULL, &why) == MD_OK) {
            if (out_attached) *out_attached = 1;
        } else { /* created all the same: say so rather than fail */
            fprintf(stderr, "mdserver duckling: database %s created but not attached: %s\n", name,
                    why ? why : "error");
        }
        md_free(why);
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int md_databases_drop(md_databases *d, duckdb_connection c, const char *name, char **out_err) {
    pthread_mutex_lock(&d->mu);
    db_found f;
    int rc = lookup_live(d, name, &f, out_err);
    attachment *a = rc == MD_OK ? find_writer(d, f.id) : NULL;
    md_dbwriter *w = NULL; /* written here: its writer keeps the lease until the drop is committed */
    char *holder = NULL;   /* not written here: a short lease of our own, so nobody writes it meanwhile */
    if (rc == MD_OK && !a && work_files_exist(d, f.name)) {
        /* not attached, but its working file may hold changes no snapshot
         * has (a postponed commit, a failed detach): attach it for writing
         * -- which snapshots them -- and go on as for an attached one */
        char *alias = md_asprintf("md_drop_%lld", (long long)f.id);
        int locked = 0;
        rc = attach_writer(d, f.name, alias, &locked, out_err);
        a = rc == MD_OK ? find_alias(d, alias) : NULL;
        if (a && locked) {
            duck_detach(d->ctl, alias, NULL);
            unlink_attachment(d, a);
            free_attachment(d, a);
            a = NULL;
            *out_err = md_asprintf("database %s is being written by another process; it cannot be dropped now", name);
            rc = MD_ELOCKED;
        }
        if (rc == MD_OK && a) c = d->ctl; /* the session's connection never saw this alias */
        md_free(alias);
    }
    if (rc == MD_OK && a) {
        rc = detach_writer(d, c, a, &w, out_err);
    } else if (rc == MD_OK) {
        holder = md_asprintf("drop:%d", (int)getpid());
        char *other = NULL;
        rc = md_dbmeta_lease_acquire(d->meta, f.id, holder, 10000, &other);
        if (rc == MD_ELOCKED)
            *out_err = md_asprintf("database %s is being written by another process (%s); it cannot be dropped now",
                                   name, other ? other : "unknown");
        else if (rc != MD_OK) *out_err = md_strdup("cannot take the database's writer lease");
        md_free(other);
    }
    if (rc == MD_OK) {
        rc = md_dbmeta_db_drop(d->meta, d->owner, f.name);
        if (rc != MD_OK) *out_err = md_asprintf("cannot drop database %s", name);
        else remove_work_files(d, f.name); /* its last snapshot holds everything: UNDROP rebuilds it */
    }
    close_writer(d, &w);
    if (holder) {
        md_dbmeta_lease_release(d->meta, f.id, holder);
        md_free(holder);
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int md_databases_undrop(md_databases *d, const char *name, char **out_err) {
    pthread_mutex_lock(&d->mu);
    db_found f;
    int rc = lookup(d, name, &f);
    if (rc == MD_OK) rc = MD_EEXISTS;
    else if (rc == MD_ENOT_FOUND) rc = md_dbmeta_db_undrop(d->meta, d->owner, name);
    if (rc == MD_ENOT_FOUND) *out_err = md_asprintf("no dropped database %s within its retention", name);
    else if (rc == MD_EEXISTS) *out_err = md_asprintf("a database named %s exists: drop it first", name);
    else if (rc != MD_OK) *out_err = md_asprintf("cannot undrop database %s", name);
    if (rc == MD_OK && (rc = lookup(d, name, &f)) != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
    if (rc == MD_OK && find_alias(d, f.name)) {
        *out_err = md_asprintf("database %s is back, but the name %s is taken by another attachment: "
                               "ATTACH 'md:%s' AS another_name",
                               f.name, f.name, f.name);
        rc = MD_EEXISTS;
    } else if (rc == MD_OK) {
        remove_work_files(d, f.name); /* rebuilt from its last snapshot */
        rc = attach_writer(d, f.name, f.name, NULL, out_err);
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

/* Commit what database f's writer here has not snapshotted yet; MD_ELOCKED
 * when an open transaction holds changes back.  Called with d->mu held. */
static int flush(md_databases *d, const db_found *f, char **out_err) {
    attachment *w = find_writer(d, f->id);
    if (!w) return MD_OK;
    int64_t ignored;
    char *why = NULL;
    int rc = md_dbwriter_commit(w->writer, d->ctl, w->alias, &ignored, &why);
    if (rc != MD_OK) {
        *out_err = md_asprintf("database %s: %s", f->name, why ? why : "its snapshot failed");
    } else if (md_dbwriter_pending(w->writer)) {
        *out_err = md_asprintf("database %s has changes of an open transaction not in a snapshot yet; try again "
                               "when the other sessions' transactions end",
                               f->name);
        rc = MD_ELOCKED;
    }
    md_free(why);
    return rc;
}

int md_databases_flush(md_databases *d, const char *name, char **out_err) {
    pthread_mutex_lock(&d->mu);
    db_found f;
    int rc = lookup_live(d, name, &f, out_err);
    if (rc == MD_OK) rc = flush(d, &f, out_err);
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int md_databases_snapshot(md_databases *d, const char *name, const char *snap_name, int64_t *out_id,
                          char **out_err) {
    pthread_mutex_lock(&d->mu);
    db_found f;
    int rc = lookup_live(d, name, &f, out_err);
    if (rc == MD_OK) rc = flush(d, &f, out_err);
    if (rc == MD_OK) {
        rc = md_dbmeta_snapshot_mark(d->meta, f.id, snap_name, out_id);
        if (rc == MD_EEXISTS) *out_err = md_asprintf("database %s already has a snapshot named %s", name, snap_name);
        else if (rc == MD_ENOT_FOUND) *out_err = md_asprintf("database %s has no snapshot yet", name);
        else if (rc != MD_OK) *out_err = md_strdup("cannot write the storage metadata");
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

/* Move reader a to snapshot `to`: detach, patch the old file into the new
 * snapshot's (only the changed blocks), attach; if that fails, the old
 * file again if it is still there.  Called with d->mu held; a may be
 * freed (when neither file can be attached: the alias is gone). */
static int move_reader(md_databases *d, attachment *a, int64_t to, int *moved, char **out_err) {
    md_manifest *old_m = NULL, *new_m = NULL;
    md_hash old_name, new_name;
    char *ignored = NULL;
    if (load_snapshot(d, a->snapshot, &old_name, &old_m, &ignored) != MD_OK) old_m = NULL; /* expired: no patching */
    md_free(ignored);
    int rc = load_snapshot(d, to, &new_name, &new_m, out_err);
    if (rc == MD_OK) rc = duck_detach(d->ctl, a->alias, out_err);
    if (rc != MD_OK) {
        md_manifest_free(&old_m);
        md_manifest_free(&new_m);
        return rc;
    }
    unlink_attachment(d, a);
    char *path = NULL;
    rc = old_m ? md_snapcache_move(d->cache, a->path, old_m, &new_name, new_m, path_in_use, d, &path, NULL, out_err)
               : md_snapcache_get(d->cache, &new_name, new_m, path_in_use, d, &path, NULL, out_err);
    if (rc == MD_OK) rc = duck_attach(d->ctl, path, a->alias, 1, out_err);
    if (rc == MD_OK) {
        md_free(a->path);
        a->path = path;
        path = NULL;
        a->snapshot = to;
        (*moved)++;
        add(d, a);
    } else if (access(a->path, F_OK) == 0 && duck_attach(d->ctl, a->path, a->alias, 1, NULL) == MD_OK) {
        add(d, a); /* still on its old snapshot */
    } else {
        free_attachment(d, a); /* neither file can be attached: the alias is gone */
    }
    md_free(path);
    md_manifest_free(&old_m);
    md_manifest_free(&new_m);
    return rc;
}

/* Move head reader a to the newest snapshot, or make it the writer when the
 * process that held the lease is gone. */
static int refresh_one(md_databases *d, attachment *a, int *moved, char **out_err) {
    db_found f;
    int rc = lookup(d, a->name, &f);
    if (rc != MD_OK) {
        *out_err = md_asprintf("database %s does not exist any more", a->name);
        return rc;
    }
    if (a->locked_by && !find_writer(d, a->db_id)) { /* try to become its writer */
        md_dbwriter *w = NULL;
        char *why = NULL, *path = work_path(d, a->name);
        int wrc = md_dbwriter_open(d->store, d->meta, d->owner, a->name, path, &w, &why);
        md_free(why);
        md_free(path);
        if (wrc == MD_OK) {
            md_dbwriter_close(&w); /* attach_writer opens it again, under the same lease holder */
            char *alias = md_strdup(a->alias), *name = md_strdup(a->name);
            rc = duck_detach(d->ctl, a->alias, out_err);
            if (rc == MD_OK) {
                unlink_attachment(d, a);
                free_attachment(d, a);
                rc = attach_writer(d, name, alias, NULL, out_err);
                *moved += rc == MD_OK;
            }
            md_free(alias);
            md_free(name);
            return rc;
        }
    }
    if (f.head == a->snapshot) return MD_OK;
    return move_reader(d, a, f.head, moved, out_err);
}

/* ---- shares ------------------------------------------------------------------ */

static void take_share_row(void *ctx, const md_share_row *r) { md_share_row_copy(ctx, r); }

/* Share md:_share/<db>/<url_id>, as this user may read it: MD_OK with *out
 * (copied: md_share_row_clear); otherwise the sentence for the user. */
static int find_share(md_databases *d, const char *db, const char *url_id, md_share_row *out, char **out_err) {
    memset(out, 0, sizeof *out);
    int rc = md_dbmeta_share_find(d->meta, db, url_id, take_share_row, out);
    if (rc == MD_ENOT_FOUND)
        *out_err = md_asprintf("no share at md:_share/%s/%s: it was dropped or replaced by its owner (a replaced share "
                               "has a new URL), or the URL is wrong",
                               db, url_id);
    else if (rc == MD_EPERMISSION)
        *out_err = md_asprintf("the share md:_share/%s/%s is not shared with you: ask its owner to GRANT READ ON "
                               "SHARE to you",
                               db, url_id);
    else if (rc != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
    return rc;
}

static void forget_gone(md_databases *d, const char *alias) {
    for (gone_share **pp = &d->gone; *pp; pp = &(*pp)->next)
        if (strcasecmp((*pp)->alias, alias) == 0) {
            gone_share *g = *pp;
            *pp = g->next;
            md_free(g->alias);
            md_free(g->reason);
            md_free(g);
            return;
        }
}

static void add_gone(md_databases *d, const char *alias, int code, char *reason) {
    forget_gone(d, alias);
    gone_share *g = md_calloc(1, sizeof *g);
    g->alias = md_strdup(alias);
    g->reason = reason;
    g->code = code;
    g->next = d->gone;
    d->gone = g;
}

/* Attach share row r's snapshot read-only as `alias`.  Called with d->mu held. */
static int attach_share(md_databases *d, const md_share_row *r, const char *alias, char **out_err) {
    if (r->snapshot == 0) {
        *out_err = md_asprintf("the shared database %s has no snapshot yet", r->db_name);
        return MD_ENOT_FOUND;
    }
    char *path = NULL;
    int rc = snapshot_file(d, r->db_name, r->db_id, r->snapshot, r->snapshot, &path, NULL, out_err);
    if (rc == MD_OK) rc = duck_attach(d->ctl, path, alias, 1, out_err);
    if (rc != MD_OK) {
        md_free(path);
        return rc;
    }
    attachment *a = new_attachment(alias, r->db_name, path, r->db_id, MD_ATTACH_READER);
    a->snapshot = r->snapshot;
    a->share_id = r->id;
    a->share_db = md_strdup(r->db_name);
    a->share_url_id = md_strdup(r->url_id);
    a->share_name = md_strdup(r->name);
    a->share_owner = md_strdup(r->owner);
    add(d, a);
    forget_gone(d, alias);
    return MD_OK;
}

int md_databases_attach_share(md_databases *d, const char *db, const char *url_id, const char *alias,
                              char **out_share, char **out_err) {
    if (!alias) alias = db;
    if (reserved(alias)) {
        *out_err = md_asprintf("%s is a name DuckDB keeps for itself: choose another with AS", alias);
        return MD_EINVAL;
    }
    pthread_mutex_lock(&d->mu);
    md_share_row r;
    db_found own;
    int rc = find_share(d, db, url_id, &r, out_err); /* first: a wrong URL is the news */
    if (rc == MD_OK && (find_alias(d, alias) || lookup(d, alias, &own) == MD_OK)) {
        *out_err = md_asprintf("the name %s is taken by one of your databases: ATTACH the share AS another name", alias);
        md_share_row_clear(&r);
        rc = MD_EEXISTS;
    }
    if (rc == MD_OK) {
        rc = attach_share(d, &r, alias, out_err);
        if (rc == MD_OK) {
            char *url = md_share_url(&r);
            if (md_dbmeta_share_mount(d->meta, d->owner, alias, url) != MD_OK)
                fprintf(stderr, "mdserver duckling: share %s attached but not remembered\n", url);
            md_free(url);
            if (out_share) *out_share = md_asprintf("%s (owner %s)", r.name, r.owner);
        }
        md_share_row_clear(&r);
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

/* Share attachment a's share went away: detach it and remember why.  a is freed. */
static void share_gone(md_databases *d, attachment *a, int rc) {
    char *reason = rc == MD_EPERMISSION
                       ? md_asprintf("%s is %s's share %s, which is no longer shared with you (READ was revoked); "
                                     "DETACH %s",
                                     a->alias, a->share_owner, a->share_name, a->alias)
                       : md_asprintf("%s is %s's share %s, which its owner dropped or replaced (a replaced share has "
                                     "a new URL); DETACH %s",
                                     a->alias, a->share_owner, a->share_name, a->alias);
    if (duck_detach(d->ctl, a->alias, NULL) != MD_OK)
        fprintf(stderr, "mdserver duckling: %s could not be detached yet\n", a->alias);
    unlink_attachment(d, a);
    add_gone(d, a->alias, rc == MD_EPERMISSION ? MD_EPERMISSION : MD_ENOT_FOUND, reason);
    free_attachment(d, a);
}

/* Look share attachment a up again; move it to its share's snapshot or
 * note that it is gone.  Called with d->mu held; a may be freed. */
static int sync_share(md_databases *d, attachment *a, int *moved, char **out_err) {
    md_share_row r;
    char *why = NULL;
    int rc = find_share(d, a->share_db, a->share_url_id, &r, &why);
    md_free(why);
    if (rc == MD_ENOT_FOUND || rc == MD_EPERMISSION || (rc == MD_OK && r.id != a->share_id)) {
        (*moved)++; /* the catalog changed */
        share_gone(d, a, rc == MD_OK ? MD_ENOT_FOUND : rc);
        if (rc == MD_OK) md_share_row_clear(&r);
        return MD_OK;
    }
    if (rc != MD_OK) {
        *out_err = md_strdup("cannot read the storage metadata");
        return rc;
    }
    if (r.snapshot != a->snapshot && r.snapshot > 0) rc = move_reader(d, a, r.snapshot, moved, out_err);
    md_share_row_clear(&r);
    return rc;
}

int md_databases_sync_shares(md_databases *d, int *out_moved, char **out_err) {
    int moved = 0, rc = MD_OK;
    pthread_mutex_lock(&d->mu);
    attachment *a = d->list;
    while (a && rc == MD_OK) {
        attachment *next = a->next; /* sync_share may free a */
        if (a->share_id) rc = sync_share(d, a, &moved, out_err);
        a = next;
    }
    pthread_mutex_unlock(&d->mu);
    if (out_moved) *out_moved = moved;
    return rc;
}

int md_databases_has_shares(md_databases *d) {
    pthread_mutex_lock(&d->mu);
    int any = d->gone != NULL;
    for (attachment *a = d->list; a && !any; a = a->next) any = a->share_id != 0;
    pthread_mutex_unlock(&d->mu);
    return any;
}

char *md_databases_gone_reason(md_databases *d, const char *alias, int *out_code) {
    pthread_mutex_lock(&d->mu);
    char *why = NULL;
    for (gone_share *g = d->gone; g && !why; g = g->next)
        if (strcasecmp(g->alias, alias) == 0) {
            why = md_strdup(g->reason);
            *out_code = g->code;
        }
    pthread_mutex_unlock(&d->mu);
    return why;
}

typedef struct mount_list {
    char **alias, **url;
    size_t n;
} mount_list;

static void on_mount(void *ctx, const char *alias, const char *url) {
    mount_list *l = ctx;
    l->alias = md_realloc(l->alias, (l->n + 1) * sizeof *l->alias);
    l->url = md_realloc(l->url, (l->n + 1) * sizeof *l->url);
    l->alias[l->n] = md_strdup(alias);
    l->url[l->n++] = md_strdup(url);
}

/* Attach again the shares the user attached before (workspace mode); a
 * share that went away meanwhile is remembered as gone.  Called with
 * d->mu held. */
static void attach_mounts(md_databases *d) {
    mount_list l = {NULL, NULL, 0};
    if (md_dbmeta_share_mounts(d->meta, d->owner, on_mount, &l) != MD_OK)
        fprintf(stderr, "mdserver duckling: cannot read the attached shares\n");
    for (size_t i = 0; i < l.n; i++) {
        const char *url = l.url[i], *db = url + strlen("md:_share/"), *slash = strchr(db, '/');
        if (strncmp(url, "md:_share/", 10) == 0 && slash && !find_alias(d, l.alias[i])) {
            char *dbname = md_strndup(db, (size_t)(slash - db)), *why = NULL;
            md_share_row r;
            int rc = find_share(d, dbname, slash + 1, &r, &why);
            if (rc == MD_OK) {
                md_free(why);
                why = NULL;
                rc = attach_share(d, &r, l.alias[i], &why);
                md_share_row_clear(&r);
            }
            if (rc != MD_OK) add_gone(d, l.alias[i], rc == MD_EPERMISSION ? rc : MD_ENOT_FOUND, md_asprintf("%s (attached as %s); DETACH %s", why ? why : url,
                                                                 l.alias[i], l.alias[i]));
            md_free(why);
            md_free(dbname);
        }
        md_free(l.alias[i]);
        md_free(l.url[i]);
    }
    md_free(l.alias);
    md_free(l.url);
}

int md_databases_refresh(md_databases *d, const char *alias, int *out_moved, char **out_err) {
    pthread_mutex_lock(&d->mu);
    int rc = MD_OK;
    *out_moved = 0;
    if (alias) {
        attachment *a = find_alias(d, alias);
        if (!a) {
            rc = MD_ENOT_FOUND;
            *out_err = md_asprintf("%s is not an attached md: database", alias);
        } else if (a->share_id) {
            rc = sync_share(d, a, out_moved, out_err);
        } else if (!a->follows_head) {
            rc = MD_EINVAL;
            *out_err = md_asprintf("%s %s", alias,
                                   a->mode == MD_ATTACH_WRITER ? "is written here: it is always current"
                                                               : "is a fixed snapshot (time travel)");
        } else {
            rc = refresh_one(d, a, out_moved, out_err);
        }
    } else {
        attachment *a = d->list;
        while (a && rc == MD_OK) {
            attachment *next = a->next; /* refresh_one and sync_share may replace a */
            if (a->share_id) rc = sync_share(d, a, out_moved, out_err);
            else if (a->follows_head) rc = refresh_one(d, a, out_moved, out_err);
            a = next;
        }
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int md_databases_commit(md_databases *d, int64_t *out_snapshot, char **out_err) {
    *out_snapshot = 0;
    pthread_mutex_lock(&d->mu);
    int rc = MD_OK;
    for (attachment *a = d->list; a; a = a->next) {
        if (!a->writer) continue;
        int64_t id = 0;
        char *why = NULL;
        int r = md_dbwriter_commit(a->writer, d->ctl, a->alias, &id, &why);
        if (r != MD_OK && rc == MD_OK) {
            rc = r;
            *out_err = md_asprintf("database %s: %s", a->name, why ? why : "the snapshot failed");
        }
        md_free(why);
        if (id > *out_snapshot) *out_snapshot = id;
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

void md_databases_each(md_databases *d, void (*cb)(void *ctx, const md_attachment_info *a), void *ctx) {
    pthread_mutex_lock(&d->mu);
    for (attachment *a = d->list; a; a = a->next) {
        md_attachment_info info = {a->alias,       a->name,         a->db_id,     a->mode,
                                   a->writer ? md_dbwriter_head(a->writer) : a->snapshot,
                                   a->follows_head, a->locked_by, a->share_name, a->share_owner};
        cb(ctx, &info);
    }
    pthread_mutex_unlock(&d->mu);
}

char *md_databases_read_only_reason(md_databases *d, const char *alias, int *out_code) {
    pthread_mutex_lock(&d->mu);
    attachment *a = find_alias(d, alias);
    char *why = NULL;
    if (a && a->locked_by) {
        *out_code = MD_ELOCKED;
        why = md_asprintf("database %s: %s; this session reads its snapshot %lld, read-only (REFRESH DATABASE %s "
                          "moves to the newest)",
                          a->name, a->locked_by, (long long)a->snapshot, a->alias);
    } else if (a && a->share_id) {
        *out_code = MD_EREAD_ONLY;
        why = md_asprintf("%s is %s's share %s: shares are read-only", a->alias, a->share_owner, a->share_name);
    } else if (a && a->mode == MD_ATTACH_READER) {
        *out_code = MD_EREAD_ONLY;
        why = md_asprintf("%s is snapshot %lld of database %s, attached read-only", a->alias, (long long)a->snapshot,
                          a->name);
    }
    pthread_mutex_unlock(&d->mu);
    return why;
}

md_dbmeta *md_databases_meta(md_databases *d) { return d->meta; }

const char *md_databases_owner(const md_databases *d) { return d->owner; }

const char *md_databases_dir(const md_databases *d) { return d->db_dir; }

int md_databases_lookup(md_databases *d, const char *name, int64_t *out_id, int64_t *out_head) {
    db_found f;
    int rc = lookup(d, name, &f);
    if (rc == MD_OK) {
        *out_id = f.id;
        *out_head = f.head;
    }
    return rc;
}

void md_databases_finish(md_databases *d) {
    stop_renewer(d);
    pthread_mutex_lock(&d->mu);
    for (attachment *a = d->list; a; a = a->next) {
        if (!a->writer) continue;
        int64_t ignored;
        char *why = NULL;
        if (md_dbwriter_commit(a->writer, d->ctl, a->alias, &ignored, &why) != MD_OK)
            fprintf(stderr, "mdserver duckling: final snapshot of %s: %s\n", a->name, why ? why : "failed");
        md_free(why);
    }
    if (d->ctl) duckdb_disconnect(&d->ctl);
    pthread_mutex_unlock(&d->mu);
}

void md_databases_free(md_databases **pd) {
    if (!pd || !*pd) return;
    md_databases *d = *pd;
    stop_renewer(d);
    while (d->list) {
        attachment *a = d->list;
        d->list = a->next;
        free_attachment(d, a);
    }
    while (d->gone) forget_gone(d, d->gone->alias);
    if (d->ctl) duckdb_disconnect(&d->ctl);
    md_snapcache_close(&d->cache);
    md_free(d->owner);
    md_free(d->db_dir);
    md_free(d->renew);
    pthread_mutex_destroy(&d->mu);
    pthread_mutex_destroy(&d->renew_mu);
    pthread_cond_destroy(&d->cv);
    md_free(d);
    *pd = NULL;
}

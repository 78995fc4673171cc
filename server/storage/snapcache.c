/*
 * snapcache.c: the snapshot file cache (snapcache.h).  Not thread-safe: one
 * caller at a time per handle (the duckling's database registry holds its
 * lock around every call).  Several processes may share the directory.
 */
#include "server/storage/snapcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/storage/snapshot.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

#define SUFFIX ".duckdb"

struct md_snapcache {
    char *dir;
    md_objstore *store;
    int max_files;
};

int md_snapcache_open(const char *dir, md_objstore *store, int max_files, md_snapcache **out, char **out_err) {
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        if (out_err) *out_err = md_asprintf("cannot create the snapshot cache %s: %s", dir, strerror(errno));
        return MD_EIO;
    }
    md_snapcache *c = md_calloc(1, sizeof *c);
    c->dir = md_strdup(dir);
    c->store = store;
    c->max_files = max_files > 1 ? max_files : 2;
    *out = c;
    return MD_OK;
}

void md_snapcache_close(md_snapcache **pc) {
    if (!pc || !*pc) return;
    md_free((*pc)->dir);
    md_free(*pc);
    *pc = NULL;
}

/* The manifest name a cache file name stands for ("<hex>.duckdb", or a
 * second name of the same file, "<hex>-<k>.duckdb"); 0 if it is not one. */
static int cached_name(const char *file, md_hash *out) {
    size_t n = strlen(file), sl = strlen(SUFFIX);
    if (n < 64 + sl || strcmp(file + n - sl, SUFFIX) != 0) return 0;
    if (n > 64 + sl) { /* -<digits> */
        if (file[64] != '-' || n == 65 + sl) return 0;
        for (size_t i = 65; i < n - sl; i++)
            if (file[i] < '0' || file[i] > '9') return 0;
    }
    char hex[65];
    memcpy(hex, file, 64);
    hex[64] = 0;
    return md_hash_parse(hex, out) == MD_OK;
}

typedef struct entry {
    md_hash name;
    char *path;
    struct timespec used;
} entry;

/* The cache's files (not temporaries), in *out (caller frees with free_entries). */
static size_t list_entries(md_snapcache *c, entry **out) {
    size_t n = 0, cap = 0;
    entry *v = NULL;
    DIR *d = opendir(c->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        md_hash h;
        if (!cached_name(e->d_name, &h)) continue;
        char *path = md_asprintf("%s/%s", c->dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) {
            md_free(path);
            continue;
        }
        if (n == cap) v = md_realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
        v[n++] = (entry){h, path, st.st_mtim};
    }
    if (d) closedir(d);
    *out = v;
    return n;
}

static void free_entries(entry *v, size_t n) {
    for (size_t i = 0; i < n; i++) md_free(v[i].path);
    md_free(v);
}

/* Copy src to a new file dst (the kernel copies; reflinks where it can). */
static int copy_file(const char *src, const char *dst, uint64_t *out_bytes, char **out_err) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    /* a read lock of this open file (OFD: closing other descriptors does not
     * drop it) tells another process's md_snapcache_move to leave the file
     * alone while it is copied */
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (in >= 0) fcntl(in, F_OFD_SETLK, &fl);
    int outfd = in < 0 ? -1 : open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = in >= 0 && outfd >= 0 ? MD_OK : MD_EIO;
    uint64_t total = 0;
    while (rc == MD_OK) {
        ssize_t k = copy_file_range(in, NULL, outfd, NULL, 64u << 20, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) rc = MD_EIO;
        if (k <= 0) break;
        total += (uint64_t)k;
    }
    if (rc != MD_OK && out_err) *out_err = md_asprintf("cannot copy %s to %s: %s", src, dst, strerror(errno));
    if (in >= 0) close(in);
    if (outfd >= 0) close(outfd);
    *out_bytes = total;
    return rc;
}

/* The cached file (other than `want`) whose manifest differs least from m:
 * its index in v and its manifest (*out_m), or -1 when none would save work. */
static long best_neighbour(md_snapcache *c, entry *v, size_t n, const md_hash *want, const md_manifest *m,
                           md_snapcache_in_use_cb in_use, void *ctx, md_manifest **out_m) {
    long best = -1;
    uint32_t best_diff = m->count;
    *out_m = NULL;
    for (size_t i = 0; i < n; i++) {
        if (md_hash_equal(&v[i].name, want)) continue;
        if (in_use && in_use(ctx, v[i].path, 0)) continue; /* opening it would drop this process's lock on it */
        md_manifest *have = NULL;
        if (md_snapshot_load_manifest(c->store, &v[i].name, &have, NULL) != MD_OK) continue;
        uint32_t *idx = NULL, nd = 0;
        md_manifest_diff(have, m, &idx, &nd);
        md_free(idx);
        if (nd < best_diff) {
            best_diff = nd;
            best = (long)i;
            md_manifest_free(out_m);
            *out_m = have;
        } else {
            md_manifest_free(&have);
        }
    }
    return best;
}

/* Build the file of m at `path` from the neighbour nb (whose manifest is
 * have) or whole (nb NULL, or the neighbour went away meanwhile), under a
 * name of this process, then rename it into place. */
static int build(md_snapcache *c, const md_manifest *m, const char *path, const entry *nb, const md_manifest *have,
                 md_snapcache_stats *st, char **out_err) {
    char *tmp = md_asprintf("%s.tmp-%d", path, (int)getpid());
    int rc = MD_EIO;
    if (nb && copy_file(nb->path, tmp, &st->copied, NULL) == MD_OK) {
        rc = md_snapshot_materialize(c->store, m, have, tmp, &st->patched, out_err);
    } else {
        st->copied = 0;
        unlink(tmp);
        rc = md_snapshot_materialize(c->store, m, NULL, tmp, &st->patched, out_err);
    }
    if (rc == MD_OK && rename(tmp, path) != 0) {
        if (out_err) *out_err = md_asprintf("cannot rename %s: %s", tmp, strerror(errno));
        rc = MD_EIO;
    }
    if (rc != MD_OK) unlink(tmp);
    else {
        int dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    md_free(tmp);
    return rc;
}

static int by_use(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec) return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    return x->used.tv_nsec < y->used.tv_nsec ? -1 : x->used.tv_nsec > y->used.tv_nsec;
}

/* 1 if another process has the file open read-only through DuckDB (which
 * holds a shared fcntl lock on it).  Only for files this process does not
 * have open: closing our descriptor would drop our own locks on the file. */
static int open_elsewhere(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    int held = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return held;
}

/* Temporaries of builds that died (older than an hour: a build in
 * progress elsewhere is younger). */
static void remove_leftovers(md_snapcache *c) {
    DIR *d = opendir(c->dir);
    struct dirent *e;
    time_t now = time(NULL);
    while (d && (e = readdir(d))) {
        if (!strstr(e->d_name, ".tmp-") && !strstr(e->d_name, ".materializing")) continue;
        char *p = md_asprintf("%s/%s", c->dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && now - st.st_mtime > 3600) unlink(p);
        md_free(p);
    }
    if (d) closedir(d);
}

static void evict(md_snapcache *c, const char *keep, md_snapcache_in_use_cb in_use, void *ctx) {
    entry *v;
    size_t n = list_entries(c, &v);
    if ((int)n > c->max_files) {
        qsort(v, n, sizeof *v, by_use);
        size_t over = n - (size_t)c->max_files;
        for (size_t i = 0; i < n && over > 0; i++) {
            if (strcmp(v[i].path, keep) == 0 || (in_use && in_use(ctx, v[i].path, 0))) continue;
            if (open_elsewhere(v[i].path)) continue;
            if (unlink(v[i].path) == 0) over--;
        }
    }
    free_entries(v, n);
    remove_leftovers(c);
}

int md_snapcache_get(md_snapcache *c, const md_hash *name, const md_manifest *m, md_snapcache_in_use_cb in_use,
                     void *ctx, char **out_path, md_snapcache_stats *out_stats, char **out_err) {
    md_snapcache_stats st = {0, 0, 0};
    char hex[65];
    md_hash_hex(name, hex);
    char *path = md_asprintf("%s/%s%s", c->dir, hex, SUFFIX);
    struct stat sb;
    int rc = MD_OK;
    if (stat(path, &sb) == 0 && (uint64_t)sb.st_size == m->file_size) {
        st.warm = 1;
        utimensat(AT_FDCWD, path, NULL, 0);
    } else {
        entry *v;
        size_t n = list_entries(c, &v);
        md_manifest *have = NULL;
        long nb = best_neighbour(c, v, n, name, m, in_use, ctx, &have);
        rc = build(c, m, path, nb >= 0 ? &v[nb] : NULL, have, &st, out_err);
        md_manifest_free(&have);
        free_entries(v, n);
    }
    /* DuckDB attaches a file once: when this one is in use (another
     * database or snapshot with the same bytes), use a second name for it */
    for (int k = 1; rc == MD_OK && in_use && in_use(ctx, path, 1); k++) {
        char *alt = md_asprintf("%s/%s-%d%s", c->dir, hex, k, SUFFIX);
        if (stat(alt, &sb) != 0 && link(path, alt) != 0 && errno != EEXIST) {
            if (out_err) *out_err = md_asprintf("cannot link %s: %s", alt, strerror(errno));
            rc = MD_EIO;
        }
        md_free(path);
        path = alt;
    }
    if (rc != MD_OK) {
        md_free(path);
        return rc;
    }
    evict(c, path, in_use, ctx);
    if (out_stats) *out_stats = st;
    *out_path = path;
    return MD_OK;
}

int md_snapcache_move(md_snapcache *c, const char *from_path, const md_manifest *from_m, const md_hash *name,
                      const md_manifest *m, md_snapcache_in_use_cb in_use, void *ctx, char **out_path,
                      md_snapcache_stats *out_stats, char **out_err) {
    char hex[65];
    md_hash_hex(name, hex);
    char *path = md_asprintf("%s/%s%s", c->dir, hex, SUFFIX);
    char *tmp = md_asprintf("%s.tmp-%d", path, (int)getpid());
    struct stat sb;
    int moved = 0, rc = MD_OK;
    md_snapcache_stats st = {0, 0, 0};
    if (stat(path, &sb) != 0 && stat(from_path, &sb) == 0 && sb.st_nlink == 1 &&
        !(in_use && in_use(ctx, from_path, 0)) && !open_elsewhere(from_path) && rename(from_path, tmp) == 0) {
        if (open_elsewhere(tmp)) { /* opened between the check and the rename: leave it be */
            rename(tmp, from_path);
        } else {
            utimensat(AT_FDCWD, tmp, NULL, 0); /* young: no leftover sweep takes it */
            moved = 1;
            rc = md_snapshot_materialize(c->store, m, from_m, tmp, &st.patched, out_err);
            if (rc == MD_OK && rename(tmp, path) != 0) {
                if (out_err) *out_err = md_asprintf("cannot rename %s: %s", tmp, strerror(errno));
                rc = MD_EIO;
            }
            if (rc != MD_OK) unlink(tmp);
        }
    }
    md_free(tmp);
    if (!moved) {
        md_free(path);
        return md_snapcache_get(c, name, m, in_use, ctx, out_path, out_stats, out_err);
    }
    if (rc != MD_OK) {
        md_free(path);
        return rc;
    }
    int dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    if (out_stats) *out_stats = st;
    *out_path = path;
    return MD_OK;
}

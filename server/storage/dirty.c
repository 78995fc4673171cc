/*
 * dirty.c: write tracking for database files (dirty.h says how and why).
 *
 * State: a list of tracked files (device, inode, a bitmap of manifest
 * entries) under one mutex.  The interposed calls look the descriptor's file
 * up in that list after the real call succeeded; the list is short (the
 * databases one duckling writes), so a linear scan is enough.
 */
#include "server/storage/dirty.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "server/storage/manifest.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

struct md_dirty {
    dev_t dev;
    ino_t ino;
    uint8_t *bits;   /* one bit per manifest entry */
    uint32_t nbits;  /* capacity in entries */
    int any;
    md_dirty *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static md_dirty *tracked;

/* Entry index of byte offset `off` (manifest.h: entry 0 is the header). */
static uint32_t entry_of(uint64_t off) {
    if (off < MD_MANIFEST_HEADER_SIZE) return 0;
    return (uint32_t)(1 + (off - MD_MANIFEST_HEADER_SIZE) / MD_MANIFEST_BLOCK_SIZE);
}

static void mark_range(md_dirty *d, uint64_t off, uint64_t len) {
    if (len == 0) return;
    uint32_t first = entry_of(off), last = entry_of(off + len - 1);
    if (last >= d->nbits) {
        uint32_t n = d->nbits ? d->nbits : 64;
        while (n <= last) n *= 2;
        d->bits = md_realloc(d->bits, (n + 7) / 8);
        memset(d->bits + (d->nbits + 7) / 8, 0, (n + 7) / 8 - (d->nbits + 7) / 8);
        d->nbits = n;
    }
    for (uint32_t i = first; i <= last; i++) d->bits[i / 8] |= (uint8_t)(1u << (i % 8));
    d->any = 1;
}

/* Mark [off, off+len) of fd's file if it is tracked.  Keeps errno.  Not
 * re-entered: a write made while marking (an out-of-memory report on
 * stderr) must not take the mutex this thread already holds. */
static void note_write(int fd, uint64_t off, uint64_t len) {
    static __thread int marking;
    if (!tracked || marking) return; /* racy peek: tracking starts before the file is written */
    marking = 1;
    int saved = errno;
    struct stat st;
    if (fstat(fd, &st) == 0) {
        pthread_mutex_lock(&mu);
        for (md_dirty *d = tracked; d; d = d->next)
            if (d->dev == st.st_dev && d->ino == st.st_ino) mark_range(d, off, len);
        pthread_mutex_unlock(&mu);
    }
    errno = saved;
    marking = 0;
}

/* ---- the interposed calls -------------------------------------------------- */

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*ftruncate_fn)(int, off_t);
typedef int (*fallocate_fn)(int, int, off_t, off_t);

/* libc's function `name`, looked up once (a racing first lookup finds the
 * same pointer, so the unguarded store is harmless). */
#define REAL(name)                                           \
    static name##_fn real_##name;                            \
    if (!real_##name) real_##name = (name##_fn)dlsym(RTLD_NEXT, #name)

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    REAL(pwrite);
    ssize_t r = real_pwrite(fd, buf, n, off);
    if (r > 0) note_write(fd, (uint64_t)off, (uint64_t)r);
    return r;
}

ssize_t write(int fd, const void *buf, size_t n) {
    REAL(write);
    off_t pos = -1;
    if (tracked) { /* sockets and pipes have no position (ESPIPE): keep errno */
        int saved = errno;
        pos = lseek(fd, 0, SEEK_CUR);
        errno = saved;
    }
    ssize_t r = real_write(fd, buf, n);
    if (r > 0 && pos >= 0) note_write(fd, (uint64_t)pos, (uint64_t)r);
    return r;
}

int ftruncate(int fd, off_t len) {
    REAL(ftruncate);
    struct stat st;
    int saved = errno;
    off_t old = tracked && fstat(fd, &st) == 0 ? st.st_size : -1;
    errno = saved;
    int r = real_ftruncate(fd, len);
    /* every entry between the old and the new end changed (cut off, grown
     * with zeros, or shortened), and so did the one holding the new end */
    if (r == 0 && old >= 0) {
        off_t lo = old < len ? old : len, hi = old < len ? len : old;
        if (lo > 0) lo--;
        note_write(fd, (uint64_t)lo, (uint64_t)(hi - lo));
    }
    return r;
}

int fallocate(int fd, int mode, off_t off, off_t len) {
    REAL(fallocate);
    int r = real_fallocate(fd, mode, off, len);
    if (r == 0 && len > 0) note_write(fd, (uint64_t)off, (uint64_t)len);
    return r;
}

/* ---- tracking ---------------------------------------------------------------- */

int md_dirty_track(const char *path, md_dirty **out, char **out_err) {
    struct stat st;
    if (stat(path, &st) != 0) {
        if (out_err) *out_err = md_asprintf("cannot track %s: %s", path, strerror(errno));
        return MD_EIO;
    }
    md_dirty *d = md_calloc(1, sizeof *d);
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    pthread_mutex_lock(&mu);
    d->next = tracked;
    tracked = d;
    pthread_mutex_unlock(&mu);
    *out = d;
    return MD_OK;
}

void md_dirty_untrack(md_dirty **d) {
    if (!d || !*d) return;
    pthread_mutex_lock(&mu);
    for (md_dirty **p = &tracked; *p; p = &(*p)->next) {
        if (*p == *d) {
            *p = (*d)->next;
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    md_free((*d)->bits);
    md_free(*d);
    *d = NULL;
}

int md_dirty_pending(md_dirty *d) {
    pthread_mutex_lock(&mu);
    int any = d->any;
    pthread_mutex_unlock(&mu);
    return any;
}

void md_dirty_take(md_dirty *d, uint32_t **out_entries, uint32_t *out_n) {
    uint32_t *idx = NULL, n = 0;
    pthread_mutex_lock(&mu);
    if (d->any) {
        for (uint32_t i = 0; i < d->nbits; i++) {
            if (!(d->bits[i / 8] & (1u << (i % 8)))) continue;
            if (!idx) idx = md_malloc((size_t)d->nbits * sizeof *idx);
            idx[n++] = i;
        }
        memset(d->bits, 0, (d->nbits + 7) / 8);
        d->any = 0;
    }
    pthread_mutex_unlock(&mu);
    *out_entries = idx;
    *out_n = n;
}

/*
 * snapshot.c: capture, materialize, verify and sweep (snapshot.h).
 *
 * Files are read and written with pread/pwrite one entry (at most 256 KiB)
 * at a time, so memory stays small whatever the database size.  The sweep
 * keeps the referenced names in an open-addressing hash set (the names are
 * SHA-256 values, so their first bytes are already a good hash).
 */
#include "server/storage/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

static int read_full(int fd, void *buf, size_t len, uint64_t off) {
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return MD_EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return MD_OK;
}

static int write_full(int fd, const void *buf, size_t len, uint64_t off) {
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return MD_EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return MD_OK;
}

static int fail(char **out_err, int code, char *message) {
    if (out_err) *out_err = message;
    else md_free(message);
    return code;
}

/* ---- capture -------------------------------------------------------------- */

/* A bitmap of the entries to read: NULL dirty means all of them, and so
 * does a prev whose blocks lie in another block space (manifest.h). */
static uint8_t *read_set(const md_manifest *m, const md_manifest *prev, const uint32_t *dirty, uint32_t ndirty) {
    uint8_t *set = md_calloc((m->count + 7) / 8, 1);
    if (prev && (prev->version != m->version || !md_hash_equal(&prev->space, &m->space))) prev = NULL;
    for (uint32_t i = 0; i < m->count; i++) {
        int reuse = prev && dirty && i < prev->count && prev->header_size == m->header_size &&
                    prev->block_size == m->block_size;
        if (reuse) { /* the last entry of prev may be shorter than it is now */
            uint64_t o1, o2;
            uint32_t l1, l2;
            md_manifest_entry_range(prev, i, &o1, &l1);
            md_manifest_entry_range(m, i, &o2, &l2);
            reuse = l1 == l2;
        }
        if (!reuse) set[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    for (uint32_t k = 0; dirty && k < ndirty; k++)
        if (dirty[k] < m->count) set[dirty[k] / 8] |= (uint8_t)(1u << (dirty[k] % 8));
    return set;
}

int md_snapshot_capture(md_objstore *store, const char *path, const md_hash *space, const md_manifest *prev,
                        const uint32_t *dirty,
                        uint32_t ndirty, md_manifest **out_manifest, md_hash *out_name,
                        md_capture_stats *out_stats, char **out_err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(out_err, MD_EIO, md_asprintf("cannot open %s: %s", path, strerror(errno)));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return fail(out_err, MD_EIO, md_asprintf("cannot stat %s: %s", path, strerror(errno)));
    }
    md_manifest *m = md_manifest_new((uint64_t)st.st_size, space);
    uint8_t *set = read_set(m, prev, dirty, ndirty);
    /* each block is stored as space || bytes (manifest.h) */
    uint8_t *buf = md_malloc(MD_HASH_SIZE + (m->block_size > m->header_size ? m->block_size : m->header_size));
    memcpy(buf, space->b, MD_HASH_SIZE);
    md_capture_stats stats = {0, 0, 0};
    int rc = MD_OK;
    for (uint32_t i = 0; i < m->count && rc == MD_OK; i++) {
        if (!(set[i / 8] & (1u << (i % 8)))) {
            m->entries[i] = prev->entries[i];
            continue;
        }
        uint64_t off;
        uint32_t len;
        md_manifest_entry_range(m, i, &off, &len);
        rc = read_full(fd, buf + MD_HASH_SIZE, len, off);
        if (rc != MD_OK) {
            rc = fail(out_err, MD_EIO, md_asprintf("cannot read %s at %llu: %s", path, (unsigned long long)off,
                                                   errno ? strerror(errno) : "unexpected end of file"));
            break;
        }
        int added = 0;
        rc = md_objstore_put(store, buf, MD_HASH_SIZE + len, &m->entries[i], &added);
        if (rc != MD_OK) {
            rc = fail(out_err, rc, md_asprintf("cannot store block %u of %s", i, path));
            break;
        }
        stats.blocks_read++;
        if (added) {
            stats.blocks_added++;
            stats.bytes_added += len;
        }
    }
    md_free(buf);
    md_free(set);
    close(fd);
    if (rc == MD_OK) {
        uint8_t *enc;
        size_t enc_len;
        int added = 0;
        md_manifest_encode(m, &enc, &enc_len);
        rc = md_objstore_put(store, enc, enc_len, out_name, &added);
        md_free(enc);
        if (rc != MD_OK) rc = fail(out_err, rc, md_asprintf("cannot store the manifest of %s", path));
        else if (added) stats.bytes_added += enc_len;
    }
    if (rc != MD_OK) {
        md_manifest_free(&m);
        return rc;
    }
    *out_manifest = m;
    if (out_stats) *out_stats = stats;
    return MD_OK;
}

int md_snapshot_load_manifest(md_objstore *store, const md_hash *name, md_manifest **out, char **out_err) {
    void *data;
    size_t len;
    int rc = md_objstore_get(store, name, &data, &len);
    if (rc != MD_OK) {
        char hex[MD_HASH_HEX_SIZE + 1];
        md_hash_hex(name, hex);
        return fail(out_err, rc, md_asprintf("manifest %s: %s", hex, md_strerror(rc)));
    }
    rc = md_manifest_decode(data, len, out, out_err);
    md_free(data);
    return rc;
}

/* ---- reading blocks ----------------------------------------------------------- */

/* Entry i of m, its block's bytes alone: *out_data (md_malloc'd) of the
 * entry's length.  MD_OK; MD_ENOT_FOUND; MD_ECORRUPT (the object does not
 * hash to its name, lies in another block space, or has the wrong length);
 * MD_EIO. */
static int get_block(md_objstore *store, const md_manifest *m, uint32_t i, void **out_data, size_t *out_len) {
    void *data;
    size_t len;
    int rc = md_objstore_get(store, &m->entries[i], &data, &len);
    if (rc != MD_OK) return rc;
    size_t prefix = md_manifest_block_prefix(m);
    uint64_t off;
    uint32_t want;
    md_manifest_entry_range(m, i, &off, &want);
    if (len != prefix + want || memcmp(data, m->space.b, prefix) != 0) {
        md_free(data);
        return MD_ECORRUPT;
    }
    if (prefix) memmove(data, (uint8_t *)data + prefix, want);
    *out_data = data;
    *out_len = want;
    return MD_OK;
}

/* ---- materialize ------------------------------------------------------------ */

/* fsync the directory holding `path` (a rename into it is then durable). */
static int sync_parent(const char *path, char **out_err) {
    char *dir = md_strdup(path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    int fd = open(slash ? (*dir ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? MD_OK : MD_EIO;
    if (fd >= 0) close(fd);
    if (rc != MD_OK) fail(out_err, rc, md_asprintf("cannot sync the directory of %s", path));
    md_free(dir);
    return rc;
}

int md_snapshot_materialize(md_objstore *store, const md_manifest *m, const md_manifest *have, const char *path,
                            uint32_t *out_written, char **out_err) {
    /* a whole file is written beside its final name and renamed into place,
     * so a failure never leaves a partial file under that name */
    char *tmp = have ? NULL : md_asprintf("%s.materializing", path);
    int fd = open(tmp ? tmp : path, O_WRONLY | O_CREAT | O_CLOEXEC | (tmp ? O_TRUNC : 0), 0600);
    if (fd < 0) {
        md_free(tmp);
        return fail(out_err, MD_EIO, md_asprintf("cannot open %s: %s", path, strerror(errno)));
    }
    uint32_t *idx = NULL, n = 0;
    if (have) {
        md_manifest_diff(have, m, &idx, &n);
    } else {
        n = m->count;
    }
    int rc = MD_OK;
    uint32_t written = 0;
    for (uint32_t k = 0; k < n && rc == MD_OK; k++) {
        uint32_t i = idx ? idx[k] : k;
        void *data;
        size_t len;
        rc = get_block(store, m, i, &data, &len);
        if (rc != MD_OK) {
            char hex[MD_HASH_HEX_SIZE + 1];
            md_hash_hex(&m->entries[i], hex);
            rc = fail(out_err, rc, md_asprintf("block %u (%s) of the snapshot: %s", i, hex, md_strerror(rc)));
            break;
        }
        uint64_t off;
        uint32_t want;
        md_manifest_entry_range(m, i, &off, &want);
        if (write_full(fd, data, len, off) != MD_OK) {
            rc = fail(out_err, MD_EIO, md_asprintf("cannot write %s: %s", path, strerror(errno)));
        } else {
            written++;
        }
        md_free(data);
    }
    md_free(idx);
    if (rc == MD_OK && ftruncate(fd, (off_t)m->file_size) != 0)
        rc = fail(out_err, MD_EIO, md_asprintf("cannot truncate %s: %s", path, strerror(errno)));
    if (rc == MD_OK && fsync(fd) != 0)
        rc = fail(out_err, MD_EIO, md_asprintf("cannot sync %s: %s", path, strerror(errno)));
    close(fd);
    if (tmp) {
        if (rc == MD_OK && rename(tmp, path) != 0)
            rc = fail(out_err, MD_EIO, md_asprintf("cannot rename into %s: %s", path, strerror(errno)));
        if (rc == MD_OK) rc = sync_parent(path, out_err);
        if (rc != MD_OK) unlink(tmp);
        md_free(tmp);
    }
    if (rc == MD_OK && out_written) *out_written = written;
    return rc;
}

/* ---- verify ----------------------------------------------------------------- */

int md_snapshot_verify(md_objstore *store, const md_manifest *m, md_verify_cb cb, void *ctx, uint32_t *out_bad) {
    uint32_t bad = 0;
    for (uint32_t i = 0; i < m->count; i++) {
        void *data;
        size_t len;
        int rc = get_block(store, m, i, &data, &len);
        if (rc == MD_OK) {
            md_free(data);
            continue;
        }
        if (rc == MD_EIO) return MD_EIO;
        bad++;
        if (cb) cb(ctx, i, &m->entries[i], rc);
    }
    *out_bad = bad;
    return MD_OK;
}

/* ---- sweep ------------------------------------------------------------------ */

typedef struct hash_set {
    md_hash *slots;
    uint8_t *used;
    size_t cap, n;
} hash_set;

static size_t slot_of(const md_hash *h, size_t cap) {
    uint64_t v;
    memcpy(&v, h->b, sizeof v);
    return (size_t)(v & (cap - 1));
}

static void set_add(hash_set *s, const md_hash *h);

static void set_grow(hash_set *s) {
    hash_set old = *s;
    s->cap = old.cap ? old.cap * 2 : 1024;
    s->slots = md_malloc(s->cap * sizeof *s->slots);
    s->used = md_calloc(s->cap, 1);
    s->n = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.used[i]) set_add(s, &old.slots[i]);
    md_free(old.slots);
    md_free(old.used);
}

static void set_add(hash_set *s, const md_hash *h) {
    if ((s->n + 1) * 2 > s->cap) set_grow(s);
    for (size_t i = slot_of(h, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (!s->used[i]) {
            s->used[i] = 1;
            s->slots[i] = *h;
            s->n++;
            return;
        }
        if (md_hash_equal(&s->slots[i], h)) return;
    }
}

static int set_has(const hash_set *s, const md_hash *h) {
    if (!s->cap) return 0;
    for (size_t i = slot_of(h, s->cap); s->used[i]; i = (i + 1) & (s->cap - 1))
        if (md_hash_equal(&s->slots[i], h)) return 1;
    return 0;
}

typedef struct sweep_ctx {
    const hash_set *live;
    int64_t keep_after; /* objects stored after this time are kept (captures in flight) */
    md_hash *dead;
    size_t ndead, capdead;
    md_sweep_stats stats;
} sweep_ctx;

static int sweep_visit(void *ctx, const md_hash *name, uint64_t size, int64_t stored_at) {
    sweep_ctx *c = ctx;
    if (set_has(c->live, name) || stored_at > c->keep_after) {
        c->stats.objects_kept++;
        c->stats.bytes_kept += size;
        return 0;
    }
    if (c->ndead == c->capdead) {
        c->capdead = c->capdead ? c->capdead * 2 : 256;
        c->dead = md_realloc(c->dead, c->capdead * sizeof *c->dead);
    }
    c->dead[c->ndead++] = *name;
    c->stats.objects_removed++;
    c->stats.bytes_removed += size;
    return 0;
}

int md_snapshot_sweep(md_objstore *store, const md_hash *roots, size_t nroots, int64_t min_age_s, int dry_run,
                      md_sweep_stats *out_stats, char **out_err) {
    hash_set live = {NULL, NULL, 0, 0};
    int rc = MD_OK;
    for (size_t r = 0; r < nroots && rc == MD_OK; r++) {
        md_manifest *m = NULL;
        rc = md_snapshot_load_manifest(store, &roots[r], &m, out_err);
        if (rc != MD_OK) break;
        set_add(&live, &roots[r]);
        for (uint32_t i = 0; i < m->count; i++) set_add(&live, &m->entries[i]);
        md_manifest_free(&m);
    }
    sweep_ctx c = {&live, (int64_t)time(NULL) - min_age_s, NULL, 0, 0, {0, 0, 0, 0}};
    if (rc == MD_OK) {
        rc = md_objstore_list(store, sweep_visit, &c);
        if (rc != MD_OK) rc = fail(out_err, rc, md_strdup("cannot list the object store"));
    }
    for (size_t i = 0; rc == MD_OK && !dry_run && i < c.ndead; i++) {
        rc = md_objstore_remove(store, &c.dead[i], c.keep_after + 1);
        if (rc != MD_OK) rc = fail(out_err, rc, md_strdup("cannot remove an object from the store"));
    }
    md_free(c.dead);
    md_free(live.slots);
    md_free(live.used);
    if (rc == MD_OK && out_stats) *out_stats = c.stats;
    return rc;
}

/* ---- fsck --------------------------------------------------------------------- */

int md_snapshot_fsck(md_objstore *store, const md_hash *names, size_t n, md_fsck_cb cb, void *ctx,
                     md_fsck_stats *out_stats) {
    hash_set seen = {NULL, NULL, 0, 0};
    md_fsck_stats st = {0, 0, 0, 0};
    int rc = MD_OK;
    for (size_t k = 0; k < n && rc == MD_OK; k++) {
        md_manifest *m = NULL;
        char *err = NULL;
        int mrc = md_snapshot_load_manifest(store, &names[k], &m, &err);
        st.manifests++;
        if (mrc == MD_EIO) rc = MD_EIO;
        if (mrc != MD_OK) {
            st.problems++;
            if (cb) cb(ctx, k, UINT32_MAX, mrc, err ? err : md_strerror(mrc));
            md_free(err);
            continue;
        }
        for (uint32_t i = 0; i < m->count && rc == MD_OK; i++) {
            if (set_has(&seen, &m->entries[i])) continue;
            set_add(&seen, &m->entries[i]);
            void *data;
            size_t len;
            int brc = get_block(store, m, i, &data, &len);
            uint64_t off;
            uint32_t want;
            md_manifest_entry_range(m, i, &off, &want);
            if (brc == MD_OK) md_free(data);
            st.blocks++;
            st.bytes += want;
            if (brc == MD_EIO) rc = MD_EIO;
            if (brc == MD_OK) continue;
            st.problems++;
            if (cb) {
                char hex[MD_HASH_HEX_SIZE + 1];
                md_hash_hex(&m->entries[i], hex);
                char *msg = md_asprintf("block %s: %s", hex,
                                        brc == MD_ENOT_FOUND ? "missing"
                                        : brc == MD_ECORRUPT ? "damaged (its bytes do not match its hash, length or "
                                                               "block space)"
                                                             : md_strerror(brc));
                cb(ctx, k, i, brc, msg);
                md_free(msg);
            }
        }
        md_manifest_free(&m);
    }
    md_free(seen.slots);
    md_free(seen.used);
    if (out_stats) *out_stats = st;
    return rc;
}

/*
 * objstore.c: SHA-256 names and the directory backend of the object store
 * (the layout and the put protocol are in objstore.h).
 */
#include "server/storage/objstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

void md_hash_of(const void *data, size_t len, md_hash *out) {
    mbedtls_sha256_ret(data, len, out->b, 0);
}

void md_hash_hex(const md_hash *h, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < MD_HASH_SIZE; i++) {
        out[2 * i] = digits[h->b[i] >> 4];
        out[2 * i + 1] = digits[h->b[i] & 15];
    }
    out[MD_HASH_HEX_SIZE] = 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int md_hash_parse(const char *hex, md_hash *out) {
    md_hash h;
    for (int i = 0; i < MD_HASH_SIZE; i++) {
        int hi = hexval(hex[2 * i]);
        int lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return MD_EINVAL;
        h.b[i] = (uint8_t)(hi << 4 | lo);
    }
    if (hex[MD_HASH_HEX_SIZE] != 0) return MD_EINVAL;
    *out = h;
    return MD_OK;
}

int md_hash_equal(const md_hash *a, const md_hash *b) {
    return memcmp(a->b, b->b, MD_HASH_SIZE) == 0;
}

/* ---- the directory backend ------------------------------------------------ */

typedef struct dir_store {
    md_objstore base;
    char *root;
    char *objects; /* <root>/objects */
    char *tmp;     /* <root>/tmp */
} dir_store;

/* <root>/objects/ab/cdef... for a name; *out_dir gets <root>/objects/ab. */
static char *object_path(const dir_store *d, const md_hash *name, char **out_dir) {
    char hex[MD_HASH_HEX_SIZE + 1];
    md_hash_hex(name, hex);
    if (out_dir) *out_dir = md_asprintf("%s/%.2s", d->objects, hex);
    return md_asprintf("%s/%.2s/%s", d->objects, hex, hex + 2);
}

static int fsync_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return MD_EIO;
    int rc = fsync(fd) == 0 ? MD_OK : MD_EIO;
    close(fd);
    return rc;
}

static int write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return MD_EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    return MD_OK;
}

static int dir_put(md_objstore *s, const void *data, size_t len, md_hash *out_name, int *out_added) {
    dir_store *d = (dir_store *)s;
    md_hash name;
    md_hash_of(data, len, &name);
    char *dir = NULL;
    char *path = object_path(d, &name, &dir);
    int rc = MD_OK, added = 0;
    struct stat st;
    if (stat(path, &st) == 0 && (uint64_t)st.st_size == len) {
        /* already stored (perhaps by another process that has not synced its
         * directory yet: sync it here too).  Touch it: the garbage collector
         * spares young objects, and a capture is about to reference it. */
        if (utimensat(AT_FDCWD, path, NULL, 0) != 0 || fsync_dir(dir) != MD_OK) rc = MD_EIO;
        goto done;
    }
    if (mkdir(dir, 0700) == 0) {
        rc = fsync_dir(d->objects); /* the new directory's entry, durably */
        if (rc != MD_OK) goto done;
    } else if (errno != EEXIST) {
        rc = MD_EIO;
        goto done;
    }
    char *tmp = md_asprintf("%s/put-XXXXXX", d->tmp);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        md_free(tmp);
        rc = MD_EIO;
        goto done;
    }
    rc = write_all(fd, data, len);
    if (rc == MD_OK && fsync(fd) != 0) rc = MD_EIO;
    if (close(fd) != 0) rc = MD_EIO;
    if (rc == MD_OK && rename(tmp, path) != 0) rc = MD_EIO;
    if (rc != MD_OK) unlink(tmp);
    md_free(tmp);
    if (rc == MD_OK) rc = fsync_dir(dir);
    added = rc == MD_OK;
done:
    if (rc == MD_OK) {
        *out_name = name;
        if (out_added) *out_added = added;
    }
    md_free(dir);
    md_free(path);
    return rc;
}

static int dir_get(md_objstore *s, const md_hash *name, void **out_data, size_t *out_len) {
    dir_store *d = (dir_store *)s;
    char *path = object_path(d, name, NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    md_free(path);
    if (fd < 0) return errno == ENOENT ? MD_ENOT_FOUND : MD_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return MD_EIO;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = md_malloc(len ? len : 1);
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (got != len) {
        md_free(buf);
        return MD_EIO;
    }
    md_hash h;
    md_hash_of(buf, len, &h);
    if (!md_hash_equal(&h, name)) {
        md_free(buf);
        return MD_ECORRUPT;
    }
    *out_data = buf;
    *out_len = len;
    return MD_OK;
}

static int dir_stat(md_objstore *s, const md_hash *name, uint64_t *out_size) {
    dir_store *d = (dir_store *)s;
    char *path = object_path(d, name, NULL);
    struct stat st;
    int rc = stat(path, &st) == 0 ? MD_OK : errno == ENOENT ? MD_ENOT_FOUND : MD_EIO;
    md_free(path);
    if (rc == MD_OK) *out_size = (uint64_t)st.st_size;
    return rc;
}

static int dir_remove(md_objstore *s, const md_hash *name, int64_t stored_before) {
    dir_store *d = (dir_store *)s;
    char *path = object_path(d, name, NULL);
    struct stat st;
    int rc = MD_OK;
    /* re-checked just before the unlink: a capture may have touched it since it was listed */
    if (stat(path, &st) == 0 && (int64_t)st.st_mtime < stored_before && unlink(path) != 0 && errno != ENOENT)
        rc = MD_EIO;
    md_free(path);
    return rc;
}

static int dir_list(md_objstore *s, md_objstore_list_cb cb, void *ctx) {
    dir_store *d = (dir_store *)s;
    DIR *top = opendir(d->objects);
    if (!top) return MD_EIO;
    int rc = MD_OK, stop = 0;
    struct dirent *e;
    while (!stop && (e = readdir(top))) {
        if (strlen(e->d_name) != 2 || hexval(e->d_name[0]) < 0 || hexval(e->d_name[1]) < 0) continue;
        char *sub = md_asprintf("%s/%s", d->objects, e->d_name);
        DIR *dir = opendir(sub);
        if (!dir) {
            md_free(sub);
            rc = MD_EIO;
            break;
        }
        struct dirent *f;
        while (!stop && (f = readdir(dir))) {
            if (strlen(f->d_name) != MD_HASH_HEX_SIZE - 2) continue;
            char hex[MD_HASH_HEX_SIZE + 1];
            memcpy(hex, e->d_name, 2);
            memcpy(hex + 2, f->d_name, MD_HASH_HEX_SIZE - 2);
            hex[MD_HASH_HEX_SIZE] = 0;
            md_hash name;
            if (md_hash_parse(hex, &name) != MD_OK) continue;
            char *path = md_asprintf("%s/%s", sub, f->d_name);
            struct stat st;
            int ok = stat(path, &st) == 0;
            md_free(path);
            if (ok) stop = cb(ctx, &name, (uint64_t)st.st_size, (int64_t)st.st_mtime);
        }
        closedir(dir);
        md_free(sub);
    }
    closedir(top);
    return rc;
}

static void dir_close(md_objstore *s) {
    dir_store *d = (dir_store *)s;
    md_free(d->root);
    md_free(d->objects);
    md_free(d->tmp);
    md_free(d);
}

static const md_objstore_ops dir_ops = {dir_put, dir_get, dir_stat, dir_remove, dir_list, dir_close};

static int make_dir(const char *path, char **out_err) {
    if (mkdir(path, 0700) == 0 || errno == EEXIST) return MD_OK;
    *out_err = md_asprintf("cannot create %s: %s", path, strerror(errno));
    return MD_EIO;
}

int md_objstore_open_dir(const char *root, md_objstore **out, char **out_err) {
    char *err = NULL;
    dir_store *d = md_calloc(1, sizeof *d);
    d->base.ops = &dir_ops;
    d->root = md_strdup(root);
    d->objects = md_asprintf("%s/objects", root);
    d->tmp = md_asprintf("%s/tmp", root);
    int rc = make_dir(root, &err);
    if (rc == MD_OK) rc = make_dir(d->objects, &err);
    if (rc == MD_OK) rc = make_dir(d->tmp, &err);
    if (rc == MD_OK) { /* leftovers of puts a crash interrupted: only old ones,
                        * other processes may be writing theirs right now */
        DIR *t = opendir(d->tmp);
        struct dirent *e;
        time_t now = time(NULL);
        while (t && (e = readdir(t))) {
            if (strncmp(e->d_name, "put-", 4) != 0) continue;
            char *p = md_asprintf("%s/%s", d->tmp, e->d_name);
            struct stat st;
            if (stat(p, &st) == 0 && now - st.st_mtime > MD_OBJSTORE_TMP_MAX_AGE_S) unlink(p);
            md_free(p);
        }
        if (t) closedir(t);
    }
    if (rc != MD_OK) {
        dir_close(&d->base);
        if (out_err) *out_err = err;
        else md_free(err);
        return rc;
    }
    *out = &d->base;
    return MD_OK;
}

void md_objstore_close(md_objstore **s) {
    if (!s || !*s) return;
    (*s)->ops->close(*s);
    *s = NULL;
}

int md_objstore_put(md_objstore *s, const void *data, size_t len, md_hash *out_name, int *out_added) {
    return s->ops->put(s, data, len, out_name, out_added);
}

int md_objstore_get(md_objstore *s, const md_hash *name, void **out_data, size_t *out_len) {
    return s->ops->get(s, name, out_data, out_len);
}

int md_objstore_stat(md_objstore *s, const md_hash *name, uint64_t *out_size) {
    return s->ops->stat(s, name, out_size);
}

int md_objstore_remove(md_objstore *s, const md_hash *name, int64_t stored_before) {
    return s->ops->remove(s, name, stored_before);
}

int md_objstore_list(md_objstore *s, md_objstore_list_cb cb, void *ctx) {
    return s->ops->list(s, cb, ctx);
}

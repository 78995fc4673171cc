/*
 * objstore.h: the content-addressed object store under snapshot storage.
 *
 * An object is an immutable byte string named by its SHA-256 (md_hash).
 * Blocks of database files and snapshot manifests are objects.  The store
 * only ever adds whole objects or removes them (garbage collection); a
 * reader always verifies the hash of what it read (MD_ECORRUPT otherwise).
 *
 * The interface is a table of operations so that an S3-compatible backend
 * can implement it later (DESIGN section 10); md_objstore_open_dir() is the
 * directory backend:
 *
 *   <root>/objects/<first 2 hex digits>/<other 62 hex digits>   one file per object
 *   <root>/tmp/                                                 objects being written
 *
 * Put protocol (directory backend): write the bytes to a new file in tmp/,
 * fsync it, rename it to its final name (an existing object with that name
 * already holds the same bytes: the new copy is dropped, and the existing
 * one is touched so the garbage collector sees it as young), fsync the
 * directory.  A crash leaves either no object or a complete one, plus
 * perhaps a file in tmp/, which md_objstore_open_dir() removes once it is
 * older than MD_OBJSTORE_TMP_MAX_AGE_S.  An object
 * written but never referenced by a committed manifest is an orphan: the
 * garbage collector removes those (snapshot.h).
 *
 * Thread safety: every operation may be called from any thread.
 */
#ifndef MD_OBJSTORE_H
#define MD_OBJSTORE_H

#include <stddef.h>
#include <stdint.h>

#define MD_HASH_SIZE 32
#define MD_OBJSTORE_TMP_MAX_AGE_S 3600
#define MD_HASH_HEX_SIZE 64

typedef struct md_hash {
    uint8_t b[MD_HASH_SIZE];
} md_hash;

/* SHA-256 of data[0..len). */
void md_hash_of(const void *data, size_t len, md_hash *out);

/* Lower-case hex, NUL-terminated (out: MD_HASH_HEX_SIZE + 1 bytes). */
void md_hash_hex(const md_hash *h, char *out);

/* Parse 64 hex digits (either case).  MD_OK or MD_EINVAL. */
int md_hash_parse(const char *hex, md_hash *out);

/* 1 if equal. */
int md_hash_equal(const md_hash *a, const md_hash *b);

typedef struct md_objstore md_objstore;

/* Called by md_objstore_list() for every object with its size and the time
 * it was stored (seconds since the epoch); return non-zero to stop. */
typedef int (*md_objstore_list_cb)(void *ctx, const md_hash *name, uint64_t size, int64_t stored_at);

typedef struct md_objstore_ops {
    int (*put)(md_objstore *s, const void *data, size_t len, md_hash *out_name, int *out_added);
    int (*get)(md_objstore *s, const md_hash *name, void **out_data, size_t *out_len);
    int (*stat)(md_objstore *s, const md_hash *name, uint64_t *out_size);
    int (*remove)(md_objstore *s, const md_hash *name, int64_t stored_before);
    int (*list)(md_objstore *s, md_objstore_list_cb cb, void *ctx);
    void (*close)(md_objstore *s);
} md_objstore_ops;

struct md_objstore {
    const md_objstore_ops *ops;
};

/*
 * Open (creating if needed) a directory store at `root`; removes leftovers
 * of interrupted puts older than MD_OBJSTORE_TMP_MAX_AGE_S from <root>/tmp.  Close with md_objstore_close().
 * MD_OK, or MD_EIO with *out_err (caller frees with md_free).
 */
int md_objstore_open_dir(const char *root, md_objstore **out, char **out_err);

/* Close and free; sets *s to NULL.  NULL is fine. */
void md_objstore_close(md_objstore **s);

/*
 * Store data[0..len) (copied) under its hash, durably before returning.
 * *out_name gets the hash; *out_added (optional) 1 if the object is new,
 * 0 if it was already there.  MD_OK or MD_EIO.
 */
int md_objstore_put(md_objstore *s, const void *data, size_t len, md_hash *out_name, int *out_added);

/*
 * Read object `name`: *out_data (md_malloc'd, caller frees) and *out_len.
 * MD_OK; MD_ENOT_FOUND; MD_ECORRUPT when the bytes do not hash to the
 * name; MD_EIO.
 */
int md_objstore_get(md_objstore *s, const md_hash *name, void **out_data, size_t *out_len);

/* Size of object `name` without reading it.  MD_OK, MD_ENOT_FOUND, MD_EIO. */
int md_objstore_stat(md_objstore *s, const md_hash *name, uint64_t *out_size);

/* Remove object `name` if it was last stored (or touched by a put of the
 * same bytes) before `stored_before` (seconds since the epoch; INT64_MAX:
 * unconditionally).  MD_OK (also when it did not exist or is younger) or
 * MD_EIO. */
int md_objstore_remove(md_objstore *s, const md_hash *name, int64_t stored_before);

/* Call cb for every object, in no particular order.  MD_OK or MD_EIO. */
int md_objstore_list(md_objstore *s, md_objstore_list_cb cb, void *ctx);

#endif

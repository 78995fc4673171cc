/*
 * meta.h: the server's metadata store (users and tokens), in sqlite3.
 *
 * Lives in <data-dir>/meta.sqlite3, WAL mode, so `mdserver token ...` can
 * change it while a server runs.  Every function is safe to call from any
 * thread (one mutex per handle).  This interface is what a PostgreSQL
 * backend would implement for several server nodes (DESIGN section 10).
 *
 * Schema version 1:
 *   users(id, name UNIQUE, is_admin, created_at)
 *   tokens(id, user_id -> users, hash UNIQUE (hex SHA-256), prefix (first 8
 *          characters, to recognise a token in listings), read_only,
 *          created_at, revoked_at NULL while valid)
 */
#ifndef MD_META_H
#define MD_META_H

typedef struct md_meta md_meta;

typedef struct md_token_row {
    long id;
    const char *user;
    const char *prefix;
    int read_only;
    const char *created_at;
    const char *revoked_at; /* NULL while valid */
} md_token_row;

/* Open (creating if needed) the store under data_dir, which must exist.
 * Returns MD_OK, or MD_EIO with *out_err (caller frees). */
int md_meta_open(const char *data_dir, md_meta **out, char **out_err);

void md_meta_close(md_meta **m);

/* 1 if `name` is a valid user name: 1-63 of [a-z0-9_-], not starting with '-'. */
int md_meta_valid_user_name(const char *name);

/* Create user `name` unless it exists.  *out_created (optional) is set to 1 if
 * it was created.  MD_OK, MD_EINVAL (bad name) or MD_EIO. */
int md_meta_user_ensure(md_meta *m, const char *name, int is_admin, int *out_created);

/* The id of user `name` (stable, from 1): MD_OK, MD_ENOT_FOUND, MD_EIO. */
int md_meta_user_id(md_meta *m, const char *name, long *out_id);

/* Number of users in *out. */
int md_meta_user_count(md_meta *m, long *out);

/* Record a token by its hash for an existing user.  MD_OK, MD_ENOT_FOUND (no
 * such user), MD_EIO. */
int md_meta_token_add(md_meta *m, const char *user, const char *hash, const char *prefix,
                      int read_only, long *out_id);

/* Find a valid (not revoked) token by hash.  On MD_OK *out_user is the user
 * name (caller frees with md_free) and *out_read_only its mode.
 * MD_EAUTH when no valid token has that hash, MD_EIO. */
int md_meta_token_lookup(md_meta *m, const char *hash, char **out_user, int *out_read_only);

/* Call cb for every token (revoked ones too), oldest first.  The row's
 * strings live only during the call. */
int md_meta_token_list(md_meta *m, void (*cb)(void *ctx, const md_token_row *row), void *ctx);

/* Revoke token `id`.  MD_OK, MD_ENOT_FOUND (no such valid token), MD_EIO. */
int md_meta_token_revoke(md_meta *m, long id);

#endif

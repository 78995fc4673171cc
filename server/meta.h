/*
 * meta.h: the server's metadata store of organizations, users and tokens,
 * in sqlite3.
 *
 * Lives in <data-dir>/meta.sqlite3, WAL mode, so `mdserver token ...` and
 * `mdserver user ...` can change it while a server runs.  Every function is
 * safe to call from any thread (one mutex per handle).  This interface is
 * what a PostgreSQL backend would implement for several server nodes
 * (DESIGN section 10).
 *
 * Schema version 2 (a version 1 file is migrated when opened):
 *   orgs(id, name UNIQUE, created_at)         the first is "default"
 *   users(id, name UNIQUE, is_admin, created_at, org_id -> orgs,
 *         deleted_at NULL while the user exists: a deleted user's name is
 *         never given again, so nobody inherits its files)
 *   tokens(id, user_id -> users, hash UNIQUE (hex SHA-256), prefix (first 8
 *          characters, to recognise a token in listings), read_only (1
 *          unless kind is read_write), kind (md_token_kind), name NULL,
 *          created_at, expires_at NULL (never), last_used_at NULL,
 *          revoked_at NULL while valid)
 * Times are UTC text "YYYY-MM-DD HH:MM:SS".
 */
#ifndef MD_META_H
#define MD_META_H

#include "token.h"

#define MD_META_DEFAULT_ORG "default"

typedef struct md_meta md_meta;

typedef struct md_token_row {
    long id;
    const char *user;
    const char *prefix;
    md_token_kind kind;
    const char *name;        /* NULL when unnamed */
    const char *created_at;
    const char *expires_at;  /* NULL: never */
    const char *last_used_at; /* NULL: never used */
    const char *revoked_at;  /* NULL while valid */
} md_token_row;

typedef struct md_user_row {
    long id;
    const char *name;
    const char *org;
    int is_admin;
    const char *created_at;
    long tokens; /* valid tokens */
} md_user_row;

/* Who a valid token authenticates. */
typedef struct md_auth {
    char *user;          /* md_free */
    char *org;           /* md_free */
    int is_admin;
    long token_id;
    md_token_kind kind;
} md_auth;

/* Open (creating or migrating if needed) the store under data_dir, which
 * must exist.  Returns MD_OK, or MD_EIO with *out_err (caller frees). */
int md_meta_open(const char *data_dir, md_meta **out, char **out_err);

void md_meta_close(md_meta **m);

/* 1 if `name` is a valid user or organization name: 1-63 of [a-z0-9_-],
 * not starting with '-'. */
int md_meta_valid_user_name(const char *name);

/* Create user `name` in organization `org` (NULL: the default one; created
 * if missing) unless the user exists.  *out_created (optional) is set to 1
 * if it was created.  MD_OK; MD_EINVAL (bad name); MD_EEXISTS (the name
 * belonged to a deleted user); MD_EIO. */
int md_meta_user_ensure(md_meta *m, const char *name, const char *org, int is_admin, int *out_created);

/* Delete user `name`: every token revoked, the name kept from reuse.  Its
 * databases stay on disk (an administrator removes them).  MD_OK,
 * MD_ENOT_FOUND, MD_EIO. */
int md_meta_user_delete(md_meta *m, const char *name);

/* The id of live user `name` (stable, from 1): MD_OK, MD_ENOT_FOUND, MD_EIO. */
int md_meta_user_id(md_meta *m, const char *name, long *out_id);

/* The organization of live user `name` in *out_org (caller frees).  MD_OK,
 * MD_ENOT_FOUND, MD_EIO. */
int md_meta_user_org(md_meta *m, const char *name, char **out_org);

/* 1 if live user `name` is an administrator, 0 if not (or no such user). */
int md_meta_user_is_admin(md_meta *m, const char *name);

/* Number of live users in *out. */
int md_meta_user_count(md_meta *m, long *out);

/* cb for every live user, by name.  The row's strings live only during the call. */
int md_meta_user_list(md_meta *m, void (*cb)(void *ctx, const md_user_row *row), void *ctx);

/* Record a token by its hash for a live user.  name may be NULL;
 * expires_in_s > 0: it stops working that many seconds from now.  MD_OK
 * with *out_id (optional); MD_ENOT_FOUND (no such user); MD_EIO. */
int md_meta_token_add(md_meta *m, const char *user, const char *hash, const char *prefix, md_token_kind kind,
                      const char *name, long expires_in_s, long *out_id);

/* Find a valid token by hash (not revoked, not expired, its user live) and
 * note that it was used.  On MD_OK *out is filled (free with
 * md_meta_auth_free).  MD_EAUTH when no valid token has that hash
 * (*out_expired, optional, is 1 when it exists but expired); MD_EIO. */
int md_meta_token_lookup(md_meta *m, const char *hash, md_auth *out, int *out_expired);

void md_meta_auth_free(md_auth *a);

/* 1 if token `id` is still valid (not revoked, not expired, user live). */
int md_meta_token_valid(md_meta *m, long id);

/* Call cb for every token of `user` (NULL: of everyone; revoked ones too),
 * oldest first.  The row's strings live only during the call. */
int md_meta_token_list(md_meta *m, const char *user, void (*cb)(void *ctx, const md_token_row *row), void *ctx);

/* Revoke token `id` (of `user` when not NULL).  MD_OK, MD_ENOT_FOUND (no
 * such valid token), MD_EIO. */
int md_meta_token_revoke(md_meta *m, long id, const char *user);

#endif

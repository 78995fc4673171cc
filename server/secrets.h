/*
 * secrets.h: the users' stored secrets (CREATE SECRET ... IN MOTHERDUCK),
 * encrypted at rest.
 *
 * A secret is a name, a type (s3, http, ...), a scope and its fields (the
 * parameters of CREATE SECRET as SQL text, JSON {"KEY": "sql", ...}).  The
 * server keeps them in <data-dir>/meta.sqlite3:
 *
 *   secrets(id, user, name, type, scope NULL, shown (the fields whose
 *           values are not secret, with the others as "redacted": what a
 *           listing shows), key_id, nonce, sealed, created_at)
 *           UNIQUE (user, lower(name))
 *
 * `sealed` is the fields' JSON encrypted with AES-256-GCM under the data
 * key, a fresh 96-bit nonce per write, and as additional data the owner and
 * the name ("user\0name"): a row copied to another user or renamed does not
 * decrypt.  The data key is HKDF-SHA256 of the master key (32 random bytes,
 * hex in the master key file, mode 0600, made at first run) with the info
 * "mdserver secrets v1"; `key_id` (the first 8 bytes of SHA-256 of the data
 * key, hex) names the key a row was sealed under.
 *
 * Rotation (md_secrets_rotate): a new master key is written to
 * <key file>.new, every row is sealed again under it in one transaction,
 * then the new file replaces the old.  A crash in between leaves both
 * files; opening reads both, finishes the rename, and each row says by its
 * key_id which key opens it.  A server that runs during a rotation reads
 * the key file again when it meets a key_id it does not know.
 *
 * The interface is a table of operations: the server's backend (sqlite and
 * the keys, md_secrets_open) and the duckling's, which asks the server over
 * its storage link (store_remote.h) and never sees the key.  Thread-safe.
 */
#ifndef MD_SECRETS_H
#define MD_SECRETS_H

#include <stdint.h>

typedef struct md_secrets md_secrets;

/* A listed secret: never a value. */
typedef struct md_secret_row {
    const char *name;
    const char *type;
    const char *scope;      /* NULL: none */
    const char *shown;      /* "key_id=AKIA...;region=eu-west-1;secret=redacted" */
    const char *created_at; /* UTC "YYYY-MM-DD HH:MM:SS" */
} md_secret_row;

typedef void (*md_secret_row_cb)(void *ctx, const md_secret_row *row);
/* A secret with its fields in clear (JSON object text). */
typedef void (*md_secret_reveal_cb)(void *ctx, const char *name, const char *type, const char *fields_json);

typedef struct md_secrets_ops {
    int (*put)(md_secrets *s, const char *user, const char *name, const char *type, const char *scope,
               const char *fields_json, int replace);
    int (*drop)(md_secrets *s, const char *user, const char *name);
    int (*list)(md_secrets *s, const char *user, md_secret_row_cb cb, void *ctx);
    int (*reveal)(md_secrets *s, const char *user, md_secret_reveal_cb cb, void *ctx);
    void (*close)(md_secrets *s);
} md_secrets_ops;

struct md_secrets {
    const md_secrets_ops *ops;
};

/* The master key file's default name under the data directory. */
#define MD_SECRETS_KEY_FILE "master.key"

/*
 * Open the server's store under data_dir (which must exist) with the master
 * key in key_file (NULL: <data_dir>/master.key), creating the key file
 * (mode 0600) when `create` and it does not exist.  MD_OK; MD_ENOT_FOUND
 * (no key file, not create); MD_EPERMISSION (the key file is readable by
 * others: its mode must be 0600 or stricter); MD_EIO / MD_ECORRUPT with *out_err.
 */
int md_secrets_open(const char *data_dir, const char *key_file, int create, md_secrets **out, char **out_err);

void md_secrets_close(md_secrets **s);

/* 1 if `field` (a CREATE SECRET parameter, any case) is not secret and may
 * be listed: TYPE, PROVIDER, SCOPE, REGION, ENDPOINT, URL_STYLE, USE_SSL,
 * KEY_ID, ACCOUNT_ID, ACCOUNT_NAME, HTTP_PROXY, ... -- every other field's
 * value is treated as secret. */
int md_secrets_field_shown(const char *field);

/* Store `user`'s secret `name` (replace: over an existing one).  MD_OK;
 * MD_EEXISTS (exists, not replace); MD_EINVAL (fields_json is not an
 * object of strings); MD_EIO. */
int md_secrets_put(md_secrets *s, const char *user, const char *name, const char *type, const char *scope,
                   const char *fields_json, int replace);

/* MD_OK, MD_ENOT_FOUND, MD_EIO. */
int md_secrets_drop(md_secrets *s, const char *user, const char *name);

/* cb for each of `user`'s secrets, by name. */
int md_secrets_list(md_secrets *s, const char *user, md_secret_row_cb cb, void *ctx);

/* cb for each of `user`'s secrets with its fields in clear (only for that
 * user's duckling).  A row that does not decrypt is left out (and
 * reported on stderr, without any value). */
int md_secrets_reveal(md_secrets *s, const char *user, md_secret_reveal_cb cb, void *ctx);

/* `mdserver secrets rotate-key`: seal every secret under a new master key
 * (see above).  *out_n: how many.  MD_OK or an error with *out_err. */
int md_secrets_rotate(const char *data_dir, const char *key_file, long *out_n, char **out_err);

#endif

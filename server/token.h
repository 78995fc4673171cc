/*
 * token.h: access tokens.
 *
 * A token is "mdt_" followed by 43 base64url characters: 256 bits from the
 * kernel's CSPRNG (getrandom).  The server never stores a token, only the
 * lowercase hex SHA-256 of its full text; a token is looked up by that hash.
 */
#ifndef MD_TOKEN_H
#define MD_TOKEN_H

#define MD_TOKEN_PREFIX "mdt_"
#define MD_TOKEN_LEN (4 + 43)
#define MD_TOKEN_HASH_LEN 64

/*   XX(enum suffix, value, name shown, name typed on the command line) */
#define MD_TOKEN_KINDS(XX)                                  \
    XX(READ_WRITE,   0, "read_write",   "rw")               \
    XX(READ_ONLY,    1, "read_only",    "read-only")        \
    XX(READ_SCALING, 2, "read_scaling", "read-scaling")

/* What a token's sessions may do: read_write everything its user may;
 * read_only reads on the user's own duckling; read_scaling reads on one of
 * the user's read replicas (pool.h). */
typedef enum md_token_kind {
#define MD__TOKEN_KIND_ENUM(e, v, shown, typed) MD_TOKEN_##e = v,
    MD_TOKEN_KINDS(MD__TOKEN_KIND_ENUM)
#undef MD__TOKEN_KIND_ENUM
} md_token_kind;

struct md_meta;

/* Write a fresh token and its NUL into out.  Returns MD_OK or MD_EIO when the
 * kernel has no randomness to give. */
int md_token_generate(char out[MD_TOKEN_LEN + 1]);

/* Write the hex SHA-256 of `token` (any string) and a NUL into out. */
void md_token_hash(const char *token, char out[MD_TOKEN_HASH_LEN + 1]);

/* 1 if `token` has the shape of a token (prefix, length, alphabet), else 0. */
int md_token_well_formed(const char *token);

/* "read_write", ... (static storage); "?" for a value out of range. */
const char *md_token_kind_name(md_token_kind kind);

/* The kind typed as `text` ("rw", "read-only", "read-scaling", or a shown
 * name): MD_OK with *out, or MD_EINVAL. */
int md_token_kind_parse(const char *text, md_token_kind *out);

/* Make a token for live user `user` and record its hash in `m` (meta.h).
 * name may be NULL; expires_in_s > 0 limits its life.  MD_OK with the
 * token in out and its id in *out_id (optional); MD_ENOT_FOUND (no such
 * user); MD_EIO. */
int md_token_issue(struct md_meta *m, const char *user, md_token_kind kind, const char *name, long expires_in_s,
                   char out[MD_TOKEN_LEN + 1], long *out_id);

#endif

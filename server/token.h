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

/* Write a fresh token and its NUL into out.  Returns MD_OK or MD_EIO when the
 * kernel has no randomness to give. */
int md_token_generate(char out[MD_TOKEN_LEN + 1]);

/* Write the hex SHA-256 of `token` (any string) and a NUL into out. */
void md_token_hash(const char *token, char out[MD_TOKEN_HASH_LEN + 1]);

/* 1 if `token` has the shape of a token (prefix, length, alphabet), else 0. */
int md_token_well_formed(const char *token);

#endif

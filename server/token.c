/*
 * token.c: token generation and hashing (see token.h).
 */
#include "token.h"

#include <errno.h>
#include <mbedtls/sha256.h>
#include <string.h>
#include <sys/random.h>

#include "meta.h"
#include "shared/md_error.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int md_token_generate(char out[MD_TOKEN_LEN + 1]) {
    unsigned char raw[33]; /* 32 random bytes + 1 zero pad byte for the last group */
    size_t got = 0;
    while (got < 32) {
        ssize_t r = getrandom(raw + got, 32 - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return MD_EIO;
        }
        got += (size_t)r;
    }
    raw[32] = 0;
    char *p = out;
    memcpy(p, MD_TOKEN_PREFIX, 4);
    p += 4;
    /* 32 bytes = 256 bits = 42 full 6-bit groups + 4 bits: 43 characters. */
    for (int bit = 0; bit < 256; bit += 6) {
        int byte = bit / 8, shift = bit % 8;
        unsigned v = ((unsigned)raw[byte] << 8 | raw[byte + 1]) >> (10 - shift);
        *p++ = b64url[v & 63];
    }
    *p = 0;
    memset(raw, 0, sizeof raw);
    return MD_OK;
}

void md_token_hash(const char *token, char out[MD_TOKEN_HASH_LEN + 1]) {
    unsigned char digest[32];
    mbedtls_sha256_ret((const unsigned char *)token, strlen(token), digest, 0);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[MD_TOKEN_HASH_LEN] = 0;
}

int md_token_well_formed(const char *token) {
    if (!token || strlen(token) != MD_TOKEN_LEN || strncmp(token, MD_TOKEN_PREFIX, 4) != 0) return 0;
    for (const char *p = token + 4; *p; p++)
        if (!strchr(b64url, *p)) return 0;
    return 1;
}

const char *md_token_kind_name(md_token_kind kind) {
    switch (kind) {
#define MD__TOKEN_KIND_NAME(e, v, shown, typed) \
    case MD_TOKEN_##e: return shown;
        MD_TOKEN_KINDS(MD__TOKEN_KIND_NAME)
#undef MD__TOKEN_KIND_NAME
    }
    return "?";
}

int md_token_kind_parse(const char *text, md_token_kind *out) {
#define MD__TOKEN_KIND_PARSE(e, v, shown, typed)                       \
    if (text && (strcmp(text, shown) == 0 || strcmp(text, typed) == 0)) { \
        *out = MD_TOKEN_##e;                                           \
        return MD_OK;                                                  \
    }
    MD_TOKEN_KINDS(MD__TOKEN_KIND_PARSE)
#undef MD__TOKEN_KIND_PARSE
    return MD_EINVAL;
}

int md_token_issue(struct md_meta *m, const char *user, md_token_kind kind, const char *name, long expires_in_s,
                   char out[MD_TOKEN_LEN + 1], long *out_id) {
    char token[MD_TOKEN_LEN + 1], hash[MD_TOKEN_HASH_LEN + 1], prefix[9];
    if (md_token_generate(token) != MD_OK) return MD_EIO;
    md_token_hash(token, hash);
    memcpy(prefix, token, 8);
    prefix[8] = 0;
    int rc = md_meta_token_add(m, user, hash, prefix, kind, name, expires_in_s, out_id);
    if (rc == MD_OK) memcpy(out, token, sizeof token);
    memset(token, 0, sizeof token);
    return rc;
}

/*
 * secrets.c: the server's backend of md_secrets (secrets.h): the sqlite
 * table, the master key file, HKDF and AES-256-GCM (mbedtls).
 */
#include "secrets.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/sqlite_file.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

#define KEY_BYTES 32
#define NONCE_BYTES 12
#define TAG_BYTES 16
#define KEY_ID_BYTES 8
#define HKDF_INFO "mdserver secrets v1"
#define MAX_KEYS 4

static const char *schema_sql =
    "CREATE TABLE IF NOT EXISTS secrets("
    "  id INTEGER PRIMARY KEY, user TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, scope TEXT,"
    "  shown TEXT NOT NULL, key_id TEXT NOT NULL, nonce TEXT NOT NULL, sealed TEXT NOT NULL,"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S','now')));"
    "CREATE UNIQUE INDEX IF NOT EXISTS secrets_name ON secrets(user, lower(name));";

/* A data key and its id (hex). */
typedef struct data_key {
    unsigned char key[KEY_BYTES];
    char id[2 * KEY_ID_BYTES + 1];
} data_key;

typedef struct sq_secrets {
    md_secrets base;
    sqlite3 *db;
    pthread_mutex_t mu;
    char *key_file;
    data_key keys[MAX_KEYS]; /* keys[0]: the current one (the key file's) */
    int nkeys;
    struct timespec key_mtime;
} sq_secrets;

static const md_secrets_ops sq_ops;

/* ---- bytes and hex ---- */

static void to_hex(const unsigned char *p, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = 0;
}

static int from_hex(const char *s, unsigned char *out, size_t n) {
    if (!s || strlen(s) != 2 * n) return MD_ECORRUPT;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + k];
            v = v * 16 + (unsigned)(c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99);
        }
        if (v > 255) return MD_ECORRUPT;
        out[i] = (unsigned char)v;
    }
    return MD_OK;
}

static int random_bytes(unsigned char *p, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return MD_EIO;
        got += (size_t)r;
    }
    return MD_OK;
}

/* ---- keys ---- */

/* The data key of master key `master`. */
static void derive(const unsigned char master[KEY_BYTES], data_key *out) {
    const mbedtls_md_info_t *sha = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    mbedtls_hkdf(sha, NULL, 0, master, KEY_BYTES, (const unsigned char *)HKDF_INFO, strlen(HKDF_INFO), out->key,
                 KEY_BYTES);
    unsigned char digest[32];
    mbedtls_sha256_ret(out->key, KEY_BYTES, digest, 0);
    to_hex(digest, KEY_ID_BYTES, out->id);
    memset(digest, 0, sizeof digest);
}

/* Read a master key file: MD_OK with its data key; MD_ENOT_FOUND;
 * MD_EPERMISSION (group or others may read it); MD_ECORRUPT; MD_EIO. */
static int read_key_file(const char *path, data_key *out, struct timespec *out_mtime, char **out_err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return MD_ENOT_FOUND;
        *out_err = md_asprintf("cannot read the master key file %s: %s", path, strerror(errno));
        return MD_EIO;
    }
    struct stat st;
    char text[2 * KEY_BYTES + 2];
    ssize_t n = fstat(fd, &st) == 0 ? read(fd, text, sizeof text) : -1;
    close(fd);
    if (n < 0) {
        *out_err = md_asprintf("cannot read the master key file %s", path);
        return MD_EIO;
    }
    if (st.st_mode & 077) {
        *out_err = md_asprintf("the master key file %s may be read by other users: chmod 600 it", path);
        return MD_EPERMISSION;
    }
    /* 64 hex digits, perhaps a newline */
    int shaped = n == 2 * KEY_BYTES || (n == 2 * KEY_BYTES + 1 && text[2 * KEY_BYTES] == '\n');
    if (shaped) text[2 * KEY_BYTES] = 0;
    unsigned char master[KEY_BYTES];
    if (!shaped || from_hex(text, master, KEY_BYTES) != MD_OK) {
        *out_err = md_asprintf("the master key file %s is not 64 hexadecimal digits", path);
        return MD_ECORRUPT;
    }
    derive(master, out);
    memset(master, 0, sizeof master);
    memset(text, 0, sizeof text);
    if (out_mtime) *out_mtime = st.st_mtim;
    return MD_OK;
}

/* Write a new random master key to `path` (mode 0600; it must not exist). */
static int write_key_file(const char *path, data_key *out, char **out_err) {
    unsigned char master[KEY_BYTES];
    char text[2 * KEY_BYTES + 2];
    if (random_bytes(master, KEY_BYTES) != MD_OK) {
        *out_err = md_strdup("the kernel has no randomness to give");
        return MD_EIO;
    }
    to_hex(master, KEY_BYTES, text);
    text[2 * KEY_BYTES] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = fd >= 0 && write(fd, text, 2 * KEY_BYTES + 1) == 2 * KEY_BYTES + 1 && fsync(fd) == 0 ? MD_OK : MD_EIO;
    if (fd >= 0) close(fd);
    if (rc != MD_OK) *out_err = md_asprintf("cannot write the master key file %s: %s", path, strerror(errno));
    else derive(master, out);
    memset(master, 0, sizeof master);
    memset(text, 0, sizeof text);
    return rc;
}

static void remember_key(sq_secrets *s, const data_key *k) {
    for (int i = 0; i < s->nkeys; i++)
        if (strcmp(s->keys[i].id, k->id) == 0) return;
    if (s->nkeys == MAX_KEYS) s->nkeys--;
    memmove(&s->keys[1], &s->keys[0], (size_t)s->nkeys * sizeof *s->keys);
    s->keys[0] = *k;
    s->nkeys++;
}

/* Read the key file again if it changed (a rotation); the caller holds s->mu. */
static void reload_key(sq_secrets *s) {
    struct stat st;
    if (stat(s->key_file, &st) != 0) return;
    if (st.st_mtim.tv_sec == s->key_mtime.tv_sec && st.st_mtim.tv_nsec == s->key_mtime.tv_nsec) return;
    data_key k;
    char *err = NULL;
    if (read_key_file(s->key_file, &k, &s->key_mtime, &err) == MD_OK) remember_key(s, &k);
    else fprintf(stderr, "mdserver: secrets: %s\n", err);
    md_free(err);
    memset(&k, 0, sizeof k);
}

static const data_key *key_by_id(sq_secrets *s, const char *id) {
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < s->nkeys; i++)
            if (strcmp(s->keys[i].id, id) == 0) return &s->keys[i];
        reload_key(s);
    }
    return NULL;
}

/* ---- sealing ---- */

static char *aad_of(const char *user, const char *name, size_t *out_len) {
    size_t ul = strlen(user), nl = strlen(name);
    char *a = md_malloc(ul + 1 + nl);
    memcpy(a, user, ul);
    a[ul] = 0;
    memcpy(a + ul + 1, name, nl);
    *out_len = ul + 1 + nl;
    return a;
}

/* Seal `plain` for (user, name) under key k: *out_nonce and *out_sealed hex (caller frees). */
static int seal(const data_key *k, const char *user, const char *name, const char *plain, char **out_nonce,
                char **out_sealed) {
    unsigned char nonce[NONCE_BYTES];
    if (random_bytes(nonce, sizeof nonce) != MD_OK) return MD_EIO;
    size_t n = strlen(plain), aad_len;
    char *aad = aad_of(user, name, &aad_len);
    unsigned char *out = md_malloc(n + TAG_BYTES);
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, k->key, 8 * KEY_BYTES) == 0 &&
                     mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, n, nonce, sizeof nonce,
                                               (const unsigned char *)aad, aad_len, (const unsigned char *)plain, out,
                                               TAG_BYTES, out + n) == 0
                 ? MD_OK
                 : MD_EIO;
    mbedtls_gcm_free(&gcm);
    if (rc == MD_OK) {
        *out_nonce = md_malloc(2 * NONCE_BYTES + 1);
        to_hex(nonce, NONCE_BYTES, *out_nonce);
        *out_sealed = md_malloc(2 * (n + TAG_BYTES) + 1);
        to_hex(out, n + TAG_BYTES, *out_sealed);
    }
    md_free(out);
    md_free(aad);
    return rc;
}

/* Open a sealed value: the plain text (caller frees) or NULL. */
static char *unseal(const data_key *k, const char *user, const char *name, const char *nonce_hex,
                    const char *sealed_hex) {
    unsigned char nonce[NONCE_BYTES];
    size_t hl = sealed_hex ? strlen(sealed_hex) : 0;
    if (from_hex(nonce_hex, nonce, NONCE_BYTES) != MD_OK || hl % 2 || hl / 2 < TAG_BYTES) return NULL;
    size_t total = hl / 2, n = total - TAG_BYTES, aad_len;
    unsigned char *in = md_malloc(total);
    char *plain = md_malloc(n + 1);
    char *aad = aad_of(user, name, &aad_len);
    int ok = from_hex(sealed_hex, in, total) == MD_OK;
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    ok = ok && mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, k->key, 8 * KEY_BYTES) == 0 &&
         mbedtls_gcm_auth_decrypt(&gcm, n, nonce, sizeof nonce, (const unsigned char *)aad, aad_len, in + n,
                                  TAG_BYTES, in, (unsigned char *)plain) == 0;
    mbedtls_gcm_free(&gcm);
    md_free(in);
    md_free(aad);
    if (!ok) {
        md_free(plain);
        return NULL;
    }
    plain[n] = 0;
    return plain;
}

/* ---- what a listing shows ---- */

static const char *const shown_fields[] = {
    "type",     "provider",    "scope",        "region",     "endpoint",       "url_style",
    "use_ssl",  "key_id",      "account_id",   "account_name", "http_proxy",   "url_compatibility_mode",
    "chain",    "verify_ssl",  "kms_key_id",   "requester_pays", "http_proxy_username", "refresh",
};

int md_secrets_field_shown(const char *field) {
    for (size_t i = 0; i < sizeof shown_fields / sizeof *shown_fields; i++)
        if (field && strcasecmp(field, shown_fields[i]) == 0) return 1;
    return 0;
}

/* "k=v;k2=redacted" of a fields object (values unquoted when plain strings);
 * NULL when fields_json is not an object of strings. */
static char *shown_of(const char *fields_json) {
    cJSON *j = cJSON_Parse(fields_json);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return NULL;
    }
    md_buf b = MD_BUF_INIT;
    int ok = 1;
    for (const cJSON *f = j->child; f && ok; f = f->next) {
        if (!cJSON_IsString(f) || !f->string) {
            ok = 0;
            break;
        }
        if (strcasecmp(f->string, "type") == 0 || strcasecmp(f->string, "scope") == 0) continue;
        if (b.len) md_buf_put_u8(&b, ';');
        for (const char *p = f->string; *p; p++) md_buf_put_u8(&b, (uint8_t)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
        md_buf_put_u8(&b, '=');
        const char *v = f->valuestring;
        size_t vl = strlen(v);
        if (!md_secrets_field_shown(f->string)) md_buf_append(&b, "redacted", 8);
        else if (vl >= 2 && v[0] == '\'' && v[vl - 1] == '\'') md_buf_append(&b, v + 1, vl - 2);
        else md_buf_append(&b, v, vl);
    }
    cJSON_Delete(j);
    if (!ok) {
        md_buf_free(&b);
        return NULL;
    }
    md_buf_put_u8(&b, 0);
    size_t n;
    return (char *)md_buf_detach(&b, &n);
}

/* ---- operations ---- */

static sqlite3_stmt *prep(sq_secrets *s, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "mdserver: secrets: %s\n", sqlite3_errmsg(s->db));
        return NULL;
    }
    return st;
}

static int sq_put(md_secrets *base, const char *user, const char *name, const char *type, const char *scope,
                  const char *fields_json, int replace) {
    sq_secrets *s = (sq_secrets *)base;
    char *shown = shown_of(fields_json);
    if (!shown || !user || !name || !type) {
        md_free(shown);
        return MD_EINVAL;
    }
    pthread_mutex_lock(&s->mu);
    reload_key(s);
    char *nonce = NULL, *sealed = NULL;
    int rc = seal(&s->keys[0], user, name, fields_json, &nonce, &sealed);
    if (rc == MD_OK && replace) {
        sqlite3_stmt *st = prep(s, "DELETE FROM secrets WHERE user = ? AND lower(name) = lower(?)");
        if (st) {
            sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) rc = MD_EIO;
        }
        sqlite3_finalize(st);
    }
    if (rc == MD_OK) {
        sqlite3_stmt *st = prep(s, "INSERT INTO secrets(user, name, type, scope, shown, key_id, nonce, sealed) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        rc = MD_EIO;
        if (st) {
            const char *v[] = {user, name, type, scope, shown, s->keys[0].id, nonce, sealed};
            for (int i = 0; i < 8; i++) sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
            int r = sqlite3_step(st);
            rc = r == SQLITE_DONE ? MD_OK : r == SQLITE_CONSTRAINT ? MD_EEXISTS : MD_EIO;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    md_free(shown);
    md_free(nonce);
    md_free(sealed);
    return rc;
}

static int sq_drop(md_secrets *base, const char *user, const char *name) {
    sq_secrets *s = (sq_secrets *)base;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prep(s, "DELETE FROM secrets WHERE user = ? AND lower(name) = lower(?)");
    int rc = MD_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) rc = sqlite3_changes(s->db) ? MD_OK : MD_ENOT_FOUND;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sq_list(md_secrets *base, const char *user, md_secret_row_cb cb, void *ctx) {
    sq_secrets *s = (sq_secrets *)base;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prep(s, "SELECT name, type, scope, shown, created_at FROM secrets WHERE user = ? ORDER BY name");
    int rc = MD_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            md_secret_row row = {(const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                                 (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
                                 (const char *)sqlite3_column_text(st, 4)};
            cb(ctx, &row);
        }
        if (r == SQLITE_DONE) rc = MD_OK;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sq_reveal(md_secrets *base, const char *user, md_secret_reveal_cb cb, void *ctx) {
    sq_secrets *s = (sq_secrets *)base;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prep(s, "SELECT name, type, key_id, nonce, sealed FROM secrets WHERE user = ? ORDER BY name");
    int rc = MD_EIO;
    if (st) {
        sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            const data_key *k = key_by_id(s, (const char *)sqlite3_column_text(st, 2));
            char *plain = k ? unseal(k, user, name, (const char *)sqlite3_column_text(st, 3),
                                     (const char *)sqlite3_column_text(st, 4))
                            : NULL;
            if (plain) cb(ctx, name, (const char *)sqlite3_column_text(st, 1), plain);
            else fprintf(stderr, "mdserver: secrets: %s's secret %s does not decrypt (%s)\n", user, name,
                         k ? "it was not sealed for this user and name" : "its key is not the master key's");
            if (plain) memset(plain, 0, strlen(plain));
            md_free(plain);
        }
        if (r == SQLITE_DONE) rc = MD_OK;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void sq_close(md_secrets *base) {
    sq_secrets *s = (sq_secrets *)base;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    memset(s->keys, 0, sizeof s->keys);
    md_free(s->key_file);
    md_free(s);
}

static const md_secrets_ops sq_ops = {sq_put, sq_drop, sq_list, sq_reveal, sq_close};

/* ---- opening, rotation ---- */

static char *key_path(const char *data_dir, const char *key_file) {
    return key_file ? md_strdup(key_file) : md_asprintf("%s/%s", data_dir, MD_SECRETS_KEY_FILE);
}

int md_secrets_open(const char *data_dir, const char *key_file, int create, md_secrets **out, char **out_err) {
    sq_secrets *s = md_calloc(1, sizeof *s);
    s->base.ops = &sq_ops;
    pthread_mutex_init(&s->mu, NULL);
    s->key_file = key_path(data_dir, key_file);
    char *pending = md_asprintf("%s.new", s->key_file);
    data_key k, next;
    int rc = read_key_file(s->key_file, &k, &s->key_mtime, out_err);
    if (rc == MD_ENOT_FOUND && create) rc = write_key_file(s->key_file, &k, out_err);
    else if (rc == MD_ENOT_FOUND) *out_err = md_asprintf("no master key file at %s", s->key_file);
    if (rc == MD_OK) remember_key(s, &k);
    /* an interrupted rotation: the new key may have sealed rows already */
    char *ignored = NULL;
    if (rc == MD_OK && read_key_file(pending, &next, NULL, &ignored) == MD_OK) remember_key(s, &next);
    md_free(ignored);
    if (rc == MD_OK) rc = md_sqlite_open(data_dir, "meta.sqlite3", "the secrets store", schema_sql, &s->db, out_err);
    md_free(pending);
    memset(&k, 0, sizeof k);
    memset(&next, 0, sizeof next);
    if (rc != MD_OK) {
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return MD_OK;
}

int md_secrets_rotate(const char *data_dir, const char *key_file, long *out_n, char **out_err) {
    md_secrets *base = NULL;
    int rc = md_secrets_open(data_dir, key_file, 0, &base, out_err);
    if (rc != MD_OK) return rc;
    sq_secrets *s = (sq_secrets *)base;
    char *pending = md_asprintf("%s.new", s->key_file);
    data_key fresh;
    unlink(pending); /* a rotation that never sealed anything under it */
    rc = write_key_file(pending, &fresh, out_err);
    long n = 0;
    pthread_mutex_lock(&s->mu);
    if (rc == MD_OK && sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        *out_err = md_strdup("cannot lock the secrets store");
        rc = MD_EIO;
    }
    sqlite3_stmt *sel = rc == MD_OK ? prep(s, "SELECT id, user, name, key_id, nonce, sealed FROM secrets") : NULL;
    sqlite3_stmt *upd = rc == MD_OK ? prep(s, "UPDATE secrets SET key_id = ?, nonce = ?, sealed = ? WHERE id = ?") : NULL;
    if (rc == MD_OK && (!sel || !upd)) rc = MD_EIO;
    while (rc == MD_OK && sqlite3_step(sel) == SQLITE_ROW) {
        const char *user = (const char *)sqlite3_column_text(sel, 1), *name = (const char *)sqlite3_column_text(sel, 2);
        const data_key *k = key_by_id(s, (const char *)sqlite3_column_text(sel, 3));
        char *plain = k ? unseal(k, user, name, (const char *)sqlite3_column_text(sel, 4),
                                 (const char *)sqlite3_column_text(sel, 5))
                        : NULL;
        char *nonce = NULL, *sealed = NULL;
        if (!plain) {
            *out_err = md_asprintf("%s's secret %s does not decrypt under the current key: nothing was changed", user,
                                   name);
            rc = MD_ECORRUPT;
        } else if (seal(&fresh, user, name, plain, &nonce, &sealed) != MD_OK) {
            rc = MD_EIO;
        } else {
            sqlite3_reset(upd);
            sqlite3_bind_text(upd, 1, fresh.id, -1, SQLITE_STATIC);
            sqlite3_bind_text(upd, 2, nonce, -1, SQLITE_STATIC);
            sqlite3_bind_text(upd, 3, sealed, -1, SQLITE_STATIC);
            sqlite3_bind_int64(upd, 4, sqlite3_column_int64(sel, 0));
            if (sqlite3_step(upd) != SQLITE_DONE) rc = MD_EIO;
            n++;
        }
        if (plain) memset(plain, 0, strlen(plain));
        md_free(plain);
        md_free(nonce);
        md_free(sealed);
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    if (rc == MD_OK && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = MD_EIO;
    if (rc != MD_OK) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->mu);
    /* committed: the new key is the key from now on */
    if (rc == MD_OK && rename(pending, s->key_file) != 0) {
        *out_err = md_asprintf("the secrets are sealed under %s but it could not replace %s: rename it by hand",
                               pending, s->key_file);
        rc = MD_EIO;
    } else if (rc != MD_OK) {
        unlink(pending);
        if (!*out_err) *out_err = md_strdup("cannot write the secrets store: nothing was changed");
    }
    memset(&fresh, 0, sizeof fresh);
    md_free(pending);
    md_secrets_close(&base);
    if (rc == MD_OK) *out_n = n;
    return rc;
}

/* ---- the interface ---- */

void md_secrets_close(md_secrets **s) {
    if (!s || !*s) return;
    (*s)->ops->close(*s);
    *s = NULL;
}

int md_secrets_put(md_secrets *s, const char *user, const char *name, const char *type, const char *scope,
                   const char *fields_json, int replace) {
    return s->ops->put(s, user, name, type, scope, fields_json, replace);
}

int md_secrets_drop(md_secrets *s, const char *user, const char *name) { return s->ops->drop(s, user, name); }

int md_secrets_list(md_secrets *s, const char *user, md_secret_row_cb cb, void *ctx) {
    return s->ops->list(s, user, cb, ctx);
}

int md_secrets_reveal(md_secrets *s, const char *user, md_secret_reveal_cb cb, void *ctx) {
    return s->ops->reveal(s, user, cb, ctx);
}

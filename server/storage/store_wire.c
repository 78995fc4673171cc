/*
 * store_wire.c: fields and messages of the storage link (the byte tables are
 * in store_wire.h).
 */
#include "server/storage/store_wire.h"

#include <string.h>

#include "shared/frame_io.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

#define NULL_STRING 0xFFFFFFFFu

void md_store_put_i64(md_buf *b, int64_t v) { md_buf_put_u64le(b, (uint64_t)v); }

void md_store_put_hash(md_buf *b, const md_hash *h) { md_buf_append(b, h->b, MD_HASH_SIZE); }

void md_store_put_str(md_buf *b, const char *s) {
    if (!s) {
        md_buf_put_u32le(b, NULL_STRING);
        return;
    }
    size_t n = strlen(s);
    md_buf_put_u32le(b, (uint32_t)n);
    md_buf_append(b, s, n + 1);
}

void md_store_put_bytes(md_buf *b, const void *p, size_t n) {
    md_buf_put_u32le(b, (uint32_t)n);
    md_buf_append(b, p, n);
}

void md_store_put_db_row(md_buf *b, const md_db_row *r) {
    md_store_put_i64(b, r->id);
    md_store_put_str(b, r->owner);
    md_store_put_str(b, r->name);
    md_store_put_str(b, r->created_at);
    md_store_put_str(b, r->dropped_at);
    md_store_put_i64(b, r->retention_days);
    md_store_put_i64(b, r->head);
}

void md_store_put_share_row(md_buf *b, const md_share_row *r) {
    md_store_put_i64(b, r->id);
    md_store_put_str(b, r->owner);
    md_store_put_str(b, r->name);
    md_store_put_i64(b, r->db_id);
    md_store_put_str(b, r->db_name);
    md_store_put_str(b, r->url_id);
    md_store_put_i64(b, r->access);
    md_store_put_i64(b, r->discoverable);
    md_store_put_i64(b, r->automatic);
    md_store_put_i64(b, r->snapshot);
    md_store_put_str(b, r->created_at);
    md_store_put_str(b, r->updated_at);
}

void md_store_put_snap_row(md_buf *b, const md_snapshot_row *r) {
    md_store_put_i64(b, r->id);
    md_store_put_i64(b, r->db_id);
    md_store_put_str(b, r->name);
    md_store_put_hash(b, &r->manifest);
    md_store_put_i64(b, (int64_t)r->file_size);
    md_store_put_i64(b, (int64_t)r->bytes_added);
    md_store_put_str(b, r->created_at);
}

void md_store_reader_init(md_store_reader *r, const uint8_t *body, size_t len) {
    r->p = body;
    r->left = len;
    r->bad = 0;
}

/* The next n bytes, or NULL (and bad) when fewer are left. */
static const uint8_t *take(md_store_reader *r, size_t n) {
    if (r->bad || r->left < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    r->left -= n;
    return at;
}

uint8_t md_store_get_u8(md_store_reader *r) {
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

uint32_t md_store_get_u32(md_store_reader *r) {
    const uint8_t *p = take(r, 4);
    return p ? md_get_u32le(p) : 0;
}

int64_t md_store_get_i64(md_store_reader *r) {
    const uint8_t *p = take(r, 8);
    return p ? (int64_t)md_get_u64le(p) : 0;
}

void md_store_get_hash(md_store_reader *r, md_hash *out) {
    const uint8_t *p = take(r, MD_HASH_SIZE);
    if (p) memcpy(out->b, p, MD_HASH_SIZE);
    else memset(out->b, 0, MD_HASH_SIZE);
}

const char *md_store_get_str(md_store_reader *r) {
    const uint8_t *p = take(r, 4);
    if (!p) return NULL;
    uint32_t n = md_get_u32le(p);
    if (n == NULL_STRING) return NULL;
    const uint8_t *s = take(r, (size_t)n + 1);
    if (!s) return NULL;
    if (s[n] != 0 || memchr(s, 0, n)) { /* not one C string */
        r->bad = 1;
        return NULL;
    }
    return (const char *)s;
}

const uint8_t *md_store_get_bytes(md_store_reader *r, size_t *out_len) {
    const uint8_t *p = take(r, 4);
    size_t n = p ? md_get_u32le(p) : 0;
    const uint8_t *data = take(r, n);
    *out_len = data ? n : 0;
    return data;
}

void md_store_get_share_row(md_store_reader *r, md_share_row *out) {
    out->id = md_store_get_i64(r);
    out->owner = md_store_get_str(r);
    out->name = md_store_get_str(r);
    out->db_id = md_store_get_i64(r);
    out->db_name = md_store_get_str(r);
    out->url_id = md_store_get_str(r);
    out->access = (int)md_store_get_i64(r);
    out->discoverable = (int)md_store_get_i64(r);
    out->automatic = (int)md_store_get_i64(r);
    out->snapshot = md_store_get_i64(r);
    out->created_at = md_store_get_str(r);
    out->updated_at = md_store_get_str(r);
}

void md_store_get_db_row(md_store_reader *r, md_db_row *out) {
    out->id = md_store_get_i64(r);
    out->owner = md_store_get_str(r);
    out->name = md_store_get_str(r);
    out->created_at = md_store_get_str(r);
    out->dropped_at = md_store_get_str(r);
    out->retention_days = (int)md_store_get_i64(r);
    out->head = md_store_get_i64(r);
}

void md_store_get_snap_row(md_store_reader *r, md_snapshot_row *out) {
    out->id = md_store_get_i64(r);
    out->db_id = md_store_get_i64(r);
    out->name = md_store_get_str(r);
    md_store_get_hash(r, &out->manifest);
    out->file_size = (uint64_t)md_store_get_i64(r);
    out->bytes_added = (uint64_t)md_store_get_i64(r);
    out->created_at = md_store_get_str(r);
}

int md_store_reader_done(const md_store_reader *r) { return !r->bad && r->left == 0; }

int md_store_send(int fd, const md_buf *b) {
    if (b->len > MD_STORE_MAX_MESSAGE) return MD_ETOO_LARGE;
    uint8_t n[4];
    md_set_u32le(n, (uint32_t)b->len);
    int rc = md_fd_write_all(fd, n, sizeof n);
    if (rc == MD_OK && b->len) rc = md_fd_write_all(fd, b->data, b->len);
    return rc;
}

int md_store_recv(int fd, uint8_t **out_body, size_t *out_len) {
    uint8_t n[4];
    int rc = md_fd_read_all(fd, n, sizeof n);
    if (rc != MD_OK) return rc;
    uint32_t len = md_get_u32le(n);
    if (len > MD_STORE_MAX_MESSAGE) return MD_ETOO_LARGE;
    uint8_t *body = md_trymalloc(len ? len : 1);
    if (!body) return MD_ENOMEM;
    rc = len ? md_fd_read_all(fd, body, len) : MD_OK;
    if (rc != MD_OK) {
        md_free(body);
        return rc == MD_EEOF ? MD_EIO : rc;
    }
    *out_body = body;
    *out_len = len;
    return MD_OK;
}

/*
 * store_remote.c: md_objstore and md_dbmeta over the storage link
 * (store_remote.h; the messages are in store_wire.h).
 *
 * Each call encodes its request, sends it and waits for the response under
 * the link's mutex, then decodes the result outside it; list callbacks run
 * after the whole response arrived.  The two handles share one link, which
 * is freed (and its fd closed) when the second handle closes.
 */
#include "server/storage/store_remote.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/storage/store_wire.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

typedef struct store_link {
    int fd;
    int broken;
    int refs; /* handles still open */
    pthread_mutex_t mu;
} store_link;

typedef struct remote_store {
    md_objstore base;
    store_link *l;
} remote_store;

typedef struct remote_meta {
    md_dbmeta base;
    store_link *l;
} remote_meta;

typedef struct remote_secrets {
    md_secrets base;
    store_link *l;
} remote_secrets;

struct md_server_calls {
    store_link *l;
};

static void link_release(store_link *l) {
    pthread_mutex_lock(&l->mu);
    int last = --l->refs == 0;
    pthread_mutex_unlock(&l->mu);
    if (!last) return;
    close(l->fd);
    pthread_mutex_destroy(&l->mu);
    md_free(l);
}

/* One call: send req (freed here), wait for the response.  Returns the
 * server's rc (or MD_EIO for a broken store_link, MD_EPROTOCOL for a response that
 * does not decode); *body holds the response (caller frees, also on error
 * rcs, which may carry fields) and `in` reads the fields after rc. */
static int call(store_link *l, md_buf *req, uint8_t **body, md_store_reader *in) {
    *body = NULL;
    size_t len = 0;
    pthread_mutex_lock(&l->mu);
    int rc = l->broken ? MD_EIO : md_store_send(l->fd, req);
    if (rc == MD_OK) rc = md_store_recv(l->fd, body, &len);
    if (rc != MD_OK) { /* nothing after a lost or oversized message can be trusted */
        l->broken = 1;
        rc = MD_EIO;
    }
    pthread_mutex_unlock(&l->mu);
    md_buf_free(req);
    if (rc != MD_OK) return rc;
    md_store_reader_init(in, *body, len);
    int64_t answer = md_store_get_i64(in);
    return in->bad ? MD_EPROTOCOL : (int)answer;
}

static void request(md_buf *req, md_store_op op) {
    md_buf_put_u8(req, (uint8_t)op);
}

/* ---- md_objstore ----------------------------------------------------------------- */

static int obj_put(md_objstore *s, const void *data, size_t len, md_hash *out_name, int *out_added) {
    if (len > MD_STORE_MAX_MESSAGE - 64) return MD_ETOO_LARGE;
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_OBJ_PUT);
    md_store_put_bytes(&req, data, len);
    uint8_t *body;
    md_store_reader in;
    int rc = call(((remote_store *)s)->l, &req, &body, &in);
    md_hash name;
    int64_t added = 0;
    if (rc == MD_OK) {
        md_store_get_hash(&in, &name);
        added = md_store_get_i64(&in);
        if (!md_store_reader_done(&in)) rc = MD_EPROTOCOL;
    }
    md_free(body);
    if (rc != MD_OK) return rc;
    *out_name = name;
    if (out_added) *out_added = added != 0;
    return MD_OK;
}

static int obj_get(md_objstore *s, const md_hash *name, void **out_data, size_t *out_len) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_OBJ_GET);
    md_store_put_hash(&req, name);
    uint8_t *body;
    md_store_reader in;
    int rc = call(((remote_store *)s)->l, &req, &body, &in);
    if (rc == MD_OK) {
        size_t len;
        const uint8_t *data = md_store_get_bytes(&in, &len);
        if (!md_store_reader_done(&in)) rc = MD_EPROTOCOL;
        /* the bytes must be the object: a server answer is checked like a disk */
        md_hash h;
        if (rc == MD_OK) md_hash_of(data, len, &h);
        if (rc == MD_OK && !md_hash_equal(&h, name)) rc = MD_ECORRUPT;
        if (rc == MD_OK) {
            void *copy = md_trymalloc(len ? len : 1);
            if (!copy) rc = MD_ENOMEM;
            else {
                memcpy(copy, data, len);
                *out_data = copy;
                *out_len = len;
            }
        }
    }
    md_free(body);
    return rc;
}

static int obj_stat(md_objstore *s, const md_hash *name, uint64_t *out_size) {
    void *data;
    size_t len;
    int rc = obj_get(s, name, &data, &len);
    if (rc == MD_OK) {
        *out_size = len;
        md_free(data);
    }
    return rc;
}

static int obj_remove(md_objstore *s, const md_hash *name, int64_t stored_before) { return MD_EPERMISSION; }

static int obj_list(md_objstore *s, md_objstore_list_cb cb, void *ctx) { return MD_EPERMISSION; }

static void obj_close(md_objstore *s) {
    link_release(((remote_store *)s)->l);
    md_free(s);
}

static const md_objstore_ops store_ops = {obj_put, obj_get, obj_stat, obj_remove, obj_list, obj_close};

/* ---- md_dbmeta ---------------------------------------------------------------------- */

#define LINK(m) (((remote_meta *)(m))->l)

/* A call whose only result is one i64 (*out on MD_OK). */
static int call_i64(md_dbmeta *m, md_buf *req, int64_t *out) {
    uint8_t *body;
    md_store_reader in;
    int rc = call(LINK(m), req, &body, &in);
    int64_t v = 0;
    if (rc == MD_OK) {
        v = md_store_get_i64(&in);
        if (!md_store_reader_done(&in)) rc = MD_EPROTOCOL;
    }
    md_free(body);
    if (rc == MD_OK && out) *out = v;
    return rc;
}

/* A call with no result. */
static int call_none(md_dbmeta *m, md_buf *req) {
    uint8_t *body;
    md_store_reader in;
    int rc = call(LINK(m), req, &body, &in);
    md_free(body);
    return rc;
}

/* Decode the rows of a response at `in`, calling back for each when
 * `call_back`; 1 if they all decoded and nothing was left over. */
static int each_row(md_store_reader *in, int is_snap, md_db_row_cb db_cb, md_snapshot_row_cb snap_cb, void *ctx,
                    int call_back) {
    uint32_t n = md_store_get_u32(in);
    for (uint32_t i = 0; i < n && !in->bad; i++) {
        md_db_row d;
        md_snapshot_row s;
        if (is_snap) md_store_get_snap_row(in, &s);
        else md_store_get_db_row(in, &d);
        if (call_back && is_snap) snap_cb(ctx, &s);
        else if (call_back) db_cb(ctx, &d);
    }
    return md_store_reader_done(in);
}

/* A call whose result is rows of db rows (is_snap 0) or snapshot rows:
 * every row is decoded before the first callback runs. */
static int call_rows(md_dbmeta *m, md_buf *req, int is_snap, md_db_row_cb db_cb, md_snapshot_row_cb snap_cb,
                     void *ctx) {
    uint8_t *body;
    md_store_reader in;
    int rc = call(LINK(m), req, &body, &in);
    if (rc == MD_OK) {
        md_store_reader check = in;
        if (each_row(&check, is_snap, NULL, NULL, NULL, 0)) each_row(&in, is_snap, db_cb, snap_cb, ctx, 1);
        else rc = MD_EPROTOCOL;
    }
    md_free(body);
    return rc;
}

static int m_db_create(md_dbmeta *m, const char *owner, const char *name, int64_t from_snapshot, int64_t *out_id) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_DB_CREATE);
    md_store_put_str(&req, owner);
    md_store_put_str(&req, name);
    md_store_put_i64(&req, from_snapshot);
    return call_i64(m, &req, out_id);
}

static int m_db_get(md_dbmeta *m, const char *owner, const char *name, md_db_row_cb cb, void *ctx) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_DB_GET);
    md_store_put_str(&req, owner);
    md_store_put_str(&req, name);
    return call_rows(m, &req, 0, cb, NULL, ctx);
}

static int db_rows_of(md_dbmeta *m, md_store_op op, const char *owner, md_db_row_cb cb, void *ctx) {
    md_buf req = MD_BUF_INIT;
    request(&req, op);
    md_store_put_str(&req, owner);
    return call_rows(m, &req, 0, cb, NULL, ctx);
}

static int m_db_list(md_dbmeta *m, const char *owner, md_db_row_cb cb, void *ctx) {
    return db_rows_of(m, MD_STORE_DB_LIST, owner, cb, ctx);
}

static int m_db_list_dropped(md_dbmeta *m, const char *owner, md_db_row_cb cb, void *ctx) {
    return db_rows_of(m, MD_STORE_DB_LIST_DROPPED, owner, cb, ctx);
}

static int owner_and_name(md_dbmeta *m, md_store_op op, const char *owner, const char *name) {
    md_buf req = MD_BUF_INIT;
    request(&req, op);
    md_store_put_str(&req, owner);
    md_store_put_str(&req, name);
    return call_none(m, &req);
}

static int m_db_drop(md_dbmeta *m, const char *owner, const char *name) {
    return owner_and_name(m, MD_STORE_DB_DROP, owner, name);
}

static int m_db_undrop(md_dbmeta *m, const char *owner, const char *name) {
    return owner_and_name(m, MD_STORE_DB_UNDROP, owner, name);
}

static int m_db_set_retention(md_dbmeta *m, int64_t db_id, int days) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_DB_SET_RETENTION);
    md_store_put_i64(&req, db_id);
    md_store_put_i64(&req, days);
    return call_none(m, &req);
}

static int m_db_owner(md_dbmeta *m, int64_t db_id, char **out_owner) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_DB_OWNER);
    md_store_put_i64(&req, db_id);
    uint8_t *body;
    md_store_reader in;
    int rc = call(LINK(m), &req, &body, &in);
    if (rc == MD_OK) {
        const char *owner = md_store_get_str(&in);
        if (!owner || !md_store_reader_done(&in)) rc = MD_EPROTOCOL;
        else *out_owner = md_strdup(owner);
    }
    md_free(body);
    return rc;
}

static int m_lease_acquire(md_dbmeta *m, int64_t db_id, const char *holder, int64_t ttl_ms, char **out_holder) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_LEASE_ACQUIRE);
    md_store_put_i64(&req, db_id);
    md_store_put_str(&req, holder);
    md_store_put_i64(&req, ttl_ms);
    uint8_t *body;
    md_store_reader in;
    int rc = call(LINK(m), &req, &body, &in);
    if (rc == MD_ELOCKED && out_holder) {
        const char *other = md_store_get_str(&in);
        *out_holder = other && md_store_reader_done(&in) ? md_strdup(other) : NULL;
    }
    md_free(body);
    return rc;
}

static int lease_call(md_dbmeta *m, md_store_op op, int64_t db_id, const char *holder, const int64_t *ttl_ms) {
    md_buf req = MD_BUF_INIT;
    request(&req, op);
    md_store_put_i64(&req, db_id);
    md_store_put_str(&req, holder);
    if (ttl_ms) md_store_put_i64(&req, *ttl_ms);
    return call_none(m, &req);
}

static int m_lease_renew(md_dbmeta *m, int64_t db_id, const char *holder, int64_t ttl_ms) {
    return lease_call(m, MD_STORE_LEASE_RENEW, db_id, holder, &ttl_ms);
}

static int m_lease_release(md_dbmeta *m, int64_t db_id, const char *holder) {
    return lease_call(m, MD_STORE_LEASE_RELEASE, db_id, holder, NULL);
}

static int m_snapshot_commit(md_dbmeta *m, int64_t db_id, const char *holder, int64_t expected_head,
                             const md_hash *manifest, uint64_t file_size, uint64_t bytes_added, const char *name,
                             int64_t *out_id) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_SNAPSHOT_COMMIT);
    md_store_put_i64(&req, db_id);
    md_store_put_str(&req, holder);
    md_store_put_i64(&req, expected_head);
    md_store_put_hash(&req, manifest);
    md_store_put_i64(&req, (int64_t)file_size);
    md_store_put_i64(&req, (int64_t)bytes_added);
    md_store_put_str(&req, name);
    return call_i64(m, &req, out_id);
}

/* The calls of an id and a text that answer an id. */
static int id_text_to_id(md_dbmeta *m, md_store_op op, int64_t id, const char *text, int64_t *out_id) {
    md_buf req = MD_BUF_INIT;
    request(&req, op);
    md_store_put_i64(&req, id);
    md_store_put_str(&req, text);
    return call_i64(m, &req, out_id);
}

static int m_snapshot_mark(md_dbmeta *m, int64_t db_id, const char *name, int64_t *out_id) {
    return id_text_to_id(m, MD_STORE_SNAPSHOT_MARK, db_id, name, out_id);
}

static int m_snapshot_at(md_dbmeta *m, int64_t db_id, const char *utc_time, int64_t *out_id) {
    return id_text_to_id(m, MD_STORE_SNAPSHOT_AT, db_id, utc_time, out_id);
}

/* The calls of an id that answer snapshot rows. */
static int snapshot_rows(md_dbmeta *m, md_store_op op, int64_t id, md_snapshot_row_cb cb, void *ctx) {
    md_buf req = MD_BUF_INIT;
    request(&req, op);
    md_store_put_i64(&req, id);
    return call_rows(m, &req, 1, NULL, cb, ctx);
}

static int m_snapshot_get(md_dbmeta *m, int64_t id, md_snapshot_row_cb cb, void *ctx) {
    return snapshot_rows(m, MD_STORE_SNAPSHOT_GET, id, cb, ctx);
}

static int m_snapshot_list(md_dbmeta *m, int64_t db_id, md_snapshot_row_cb cb, void *ctx) {
    return snapshot_rows(m, MD_STORE_SNAPSHOT_LIST, db_id, cb, ctx);
}

static int m_manifest_owned(md_dbmeta *m, const char *owner, const md_hash *manifest) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_MANIFEST_OWNED);
    md_store_put_str(&req, owner);
    md_store_put_hash(&req, manifest);
    return call_none(m, &req);
}

/* ---- shares ---- */

/* Decode n share rows (is_pair 0) or pairs at `in`, calling back when
 * call_back; 1 if they all decoded and nothing was left over. */
static int each_share_item(md_store_reader *in, int is_pair, md_share_row_cb row_cb, md_pair_cb pair_cb, void *ctx,
                           int call_back) {
    uint32_t n = md_store_get_u32(in);
    for (uint32_t i = 0; i < n && !in->bad; i++) {
        if (is_pair) {
            const char *a = md_store_get_str(in), *b = md_store_get_str(in);
            if (call_back) pair_cb(ctx, a, b);
        } else {
            md_share_row r;
            md_store_get_share_row(in, &r);
            if (call_back) row_cb(ctx, &r);
        }
    }
    return md_store_reader_done(in);
}

/* A call answering share rows or pairs: all decoded before the first callback. */
static int call_share_items(md_dbmeta *m, md_buf *req, int is_pair, md_share_row_cb row_cb, md_pair_cb pair_cb,
                            void *ctx) {
    uint8_t *body;
    md_store_reader in;
    int rc = call(LINK(m), req, &body, &in);
    if (rc == MD_OK) {
        md_store_reader check = in;
        if (each_share_item(&check, is_pair, NULL, NULL, NULL, 0))
            each_share_item(&in, is_pair, row_cb, pair_cb, ctx, 1);
        else rc = MD_EPROTOCOL;
    }
    md_free(body);
    return rc;
}

static int m_share_create(md_dbmeta *m, const md_share_row *def, int replace, md_share_row_cb cb, void *ctx) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_SHARE_CREATE);
    md_store_put_share_row(&req, def);
    md_store_put_i64(&req, replace);
    return call_share_items(m, &req, 0, cb, NULL, ctx);
}

static int m_share_update(md_dbmeta *m, const char *owner, const char *name, int64_t snapshot) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_SHARE_UPDATE);
    md_store_put_str(&req, owner);
    md_store_put_str(&req, name);
    md_store_put_i64(&req, snapshot);
    return call_none(m, &req);
}

static int m_share_drop(md_dbmeta *m, const char *owner, const char *name) {
    return owner_and_name(m, MD_STORE_SHARE_DROP, owner, name);
}

/* The calls of two texts (the second may be absent) that answer share rows. */
static int share_rows_of(md_dbmeta *m, md_store_op op, const char *a, const char *b, int two, md_share_row_cb cb,
                         void *ctx) {
    md_buf req = MD_BUF_INIT;
    request(&req, op);
    md_store_put_str(&req, a);
    if (two) md_store_put_str(&req, b);
    return call_share_items(m, &req, 0, cb, NULL, ctx);
}

static int m_share_get(md_dbmeta *m, const char *owner, const char *name, md_share_row_cb cb, void *ctx) {
    return share_rows_of(m, MD_STORE_SHARE_GET, owner, name, 1, cb, ctx);
}

static int m_share_list(md_dbmeta *m, const char *owner, md_share_row_cb cb, void *ctx) {
    return share_rows_of(m, MD_STORE_SHARE_LIST, owner, NULL, 0, cb, ctx);
}

static int m_share_find(md_dbmeta *m, const char *db_name, const char *url_id, md_share_row_cb cb, void *ctx) {
    return share_rows_of(m, MD_STORE_SHARE_FIND, db_name, url_id, 1, cb, ctx);
}

static int m_share_grant(md_dbmeta *m, int64_t share_id, const char *grantee, int grant) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_SHARE_GRANT);
    md_store_put_i64(&req, share_id);
    md_store_put_str(&req, grantee);
    md_store_put_i64(&req, grant);
    return call_none(m, &req);
}

static int m_share_grants(md_dbmeta *m, int64_t share_id, md_pair_cb cb, void *ctx) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_SHARE_GRANTS);
    md_store_put_i64(&req, share_id);
    return call_share_items(m, &req, 1, NULL, cb, ctx);
}

static int m_share_granted(md_dbmeta *m, int64_t share_id, const char *grantee) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_SHARE_GRANTED);
    md_store_put_i64(&req, share_id);
    md_store_put_str(&req, grantee);
    return call_none(m, &req);
}

static int m_share_mount(md_dbmeta *m, const char *user, const char *alias, const char *url) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_SHARE_MOUNT);
    md_store_put_str(&req, user);
    md_store_put_str(&req, alias);
    md_store_put_str(&req, url);
    return call_none(m, &req);
}

static int m_share_mounts(md_dbmeta *m, const char *user, md_pair_cb cb, void *ctx) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_SHARE_MOUNTS);
    md_store_put_str(&req, user);
    return call_share_items(m, &req, 1, NULL, cb, ctx);
}

static int m_gc_roots(md_dbmeta *m, void (*cb)(void *ctx, const md_hash *manifest), void *ctx) {
    return MD_EPERMISSION;
}

static int m_expire(md_dbmeta *m, int dry_run, int64_t *out_expired) { return MD_EPERMISSION; }

static void m_close(md_dbmeta *m) {
    link_release(LINK(m));
    md_free(m);
}

static const md_dbmeta_ops meta_ops = {
    .db_create = m_db_create,
    .db_get = m_db_get,
    .db_list = m_db_list,
    .db_list_dropped = m_db_list_dropped,
    .db_drop = m_db_drop,
    .db_undrop = m_db_undrop,
    .db_set_retention = m_db_set_retention,
    .db_owner = m_db_owner,
    .lease_acquire = m_lease_acquire,
    .lease_renew = m_lease_renew,
    .lease_release = m_lease_release,
    .snapshot_commit = m_snapshot_commit,
    .snapshot_mark = m_snapshot_mark,
    .snapshot_get = m_snapshot_get,
    .snapshot_at = m_snapshot_at,
    .snapshot_list = m_snapshot_list,
    .manifest_owned = m_manifest_owned,
    .gc_roots = m_gc_roots,
    .expire = m_expire,
    .share_create = m_share_create,
    .share_update = m_share_update,
    .share_drop = m_share_drop,
    .share_get = m_share_get,
    .share_list = m_share_list,
    .share_find = m_share_find,
    .share_grant = m_share_grant,
    .share_grants = m_share_grants,
    .share_granted = m_share_granted,
    .share_mount = m_share_mount,
    .share_mounts = m_share_mounts,
    .close = m_close,
};

/* ---- md_secrets ------------------------------------------------------------------------ */

#define SLINK(s) (((remote_secrets *)(s))->l)

static int s_put(md_secrets *s, const char *user, const char *name, const char *type, const char *scope,
                 const char *fields_json, int replace) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_SECRET_PUT);
    md_store_put_str(&req, user);
    md_store_put_str(&req, name);
    md_store_put_str(&req, type);
    md_store_put_str(&req, scope);
    md_store_put_str(&req, fields_json);
    md_store_put_i64(&req, replace);
    uint8_t *body;
    md_store_reader in;
    int rc = call(SLINK(s), &req, &body, &in);
    md_free(body);
    return rc;
}

static int s_drop(md_secrets *s, const char *user, const char *name) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_SECRET_DROP);
    md_store_put_str(&req, user);
    md_store_put_str(&req, name);
    uint8_t *body;
    md_store_reader in;
    int rc = call(SLINK(s), &req, &body, &in);
    md_free(body);
    return rc;
}

/* Rows of `width` strings each, to row_cb (width 5) or reveal_cb (3), all
 * decoded before the first callback. */
static int secret_rows(md_secrets *s, md_store_op op, const char *user, int width, md_secret_row_cb row_cb,
                       md_secret_reveal_cb reveal_cb, void *ctx) {
    md_buf req = MD_BUF_INIT;
    request(&req, op);
    md_store_put_str(&req, user);
    uint8_t *body;
    md_store_reader in;
    int rc = call(SLINK(s), &req, &body, &in);
    for (int pass = 0; rc == MD_OK && pass < 2; pass++) {
        md_store_reader r = in;
        uint32_t n = md_store_get_u32(&r);
        for (uint32_t i = 0; i < n && !r.bad; i++) {
            const char *v[5] = {NULL, NULL, NULL, NULL, NULL};
            for (int k = 0; k < width; k++) v[k] = md_store_get_str(&r);
            if (pass == 1 && width == 5) {
                md_secret_row row = {v[0], v[1], v[2], v[3], v[4]};
                row_cb(ctx, &row);
            } else if (pass == 1) {
                reveal_cb(ctx, v[0], v[1], v[2]);
            }
        }
        if (pass == 0 && !md_store_reader_done(&r)) rc = MD_EPROTOCOL;
    }
    if (body && rc == MD_OK && op == MD_STORE_SECRET_REVEAL) /* values do not linger */
        memset(body, 0, (size_t)(in.p - body) + in.left);
    md_free(body);
    return rc;
}

static int s_list(md_secrets *s, const char *user, md_secret_row_cb cb, void *ctx) {
    return secret_rows(s, MD_STORE_SECRET_LIST, user, 5, cb, NULL, ctx);
}

static int s_reveal(md_secrets *s, const char *user, md_secret_reveal_cb cb, void *ctx) {
    return secret_rows(s, MD_STORE_SECRET_REVEAL, user, 3, NULL, cb, ctx);
}

static void s_close(md_secrets *s) {
    link_release(SLINK(s));
    md_free(s);
}

static const md_secrets_ops secrets_ops = {s_put, s_drop, s_list, s_reveal, s_close};

/* ---- md_server_calls -------------------------------------------------------------------- */

int md_server_calls_conns(md_server_calls *c, md_conn_cb cb, void *ctx) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_CONN_LIST);
    uint8_t *body;
    md_store_reader in;
    int rc = call(c->l, &req, &body, &in);
    for (int pass = 0; rc == MD_OK && pass < 2; pass++) {
        md_store_reader r = in;
        uint32_t n = md_store_get_u32(&r);
        for (uint32_t i = 0; i < n && !r.bad; i++) {
            const char *v[9];
            for (int k = 0; k < 9; k++) v[k] = md_store_get_str(&r);
            if (pass == 1) {
                md_conn_info info = {v[0], v[1], v[2], v[3], v[4], v[5] ? strtoll(v[5], NULL, 10) : 0, v[6],
                                     v[7] ? (uint32_t)strtoul(v[7], NULL, 10) : 0, v[8] ? strtoll(v[8], NULL, 10) : 0};
                cb(ctx, &info);
            }
        }
        if (pass == 0 && !md_store_reader_done(&r)) rc = MD_EPROTOCOL;
    }
    md_free(body);
    return rc;
}

int md_server_calls_interrupt(md_server_calls *c, const char *id) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_CONN_INTERRUPT);
    md_store_put_str(&req, id);
    uint8_t *body;
    md_store_reader in;
    int rc = call(c->l, &req, &body, &in);
    md_free(body);
    return rc;
}

int md_server_calls_user(md_server_calls *c, char **out_id, char **out_name, char **out_org, char **out_role) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_USER_INFO);
    uint8_t *body;
    md_store_reader in;
    int rc = call(c->l, &req, &body, &in);
    if (rc == MD_OK) {
        const char *v[4];
        for (int k = 0; k < 4; k++) v[k] = md_store_get_str(&in);
        if (!md_store_reader_done(&in) || !v[0] || !v[1] || !v[2] || !v[3]) rc = MD_EPROTOCOL;
        else {
            *out_id = md_strdup(v[0]);
            *out_name = md_strdup(v[1]);
            *out_org = md_strdup(v[2]);
            *out_role = md_strdup(v[3]);
        }
    }
    md_free(body);
    return rc;
}

int md_server_calls_history(md_server_calls *c, int64_t limit, void (*cb)(void *ctx, const md_history_entry *e),
                            void *ctx) {
    md_buf req = MD_BUF_INIT;
    request(&req, MD_STORE_QUERY_HISTORY);
    md_store_put_i64(&req, limit);
    uint8_t *body;
    md_store_reader in;
    int rc = call(c->l, &req, &body, &in);
    for (int pass = 0; rc == MD_OK && pass < 2; pass++) {
        md_store_reader r = in;
        uint32_t n = md_store_get_u32(&r);
        for (uint32_t i = 0; i < n && !r.bad; i++) {
            const char *v[8];
            for (int k = 0; k < 8; k++) v[k] = md_store_get_str(&r);
            if (pass == 1) {
                md_history_entry e = {v[0] ? strtoll(v[0], NULL, 10) : 0, v[1], v[2] ? strtoll(v[2], NULL, 10) : 0,
                                      v[3], v[4] ? strtod(v[4], NULL) : 0, v[5] ? strtoll(v[5], NULL, 10) : -1,
                                      v[6], v[7]};
                cb(ctx, &e);
            }
        }
        if (pass == 0 && !md_store_reader_done(&r)) rc = MD_EPROTOCOL;
    }
    md_free(body);
    return rc;
}

void md_server_calls_close(md_server_calls **c) {
    if (!c || !*c) return;
    link_release((*c)->l);
    md_free(*c);
    *c = NULL;
}

void md_store_remote_open(int fd, md_objstore **out_store, md_dbmeta **out_meta, md_secrets **out_secrets,
                          md_server_calls **out_calls) {
    store_link *l = md_calloc(1, sizeof *l);
    l->fd = fd;
    l->refs = 4;
    pthread_mutex_init(&l->mu, NULL);
    remote_store *s = md_calloc(1, sizeof *s);
    s->base.ops = &store_ops;
    s->l = l;
    remote_meta *m = md_calloc(1, sizeof *m);
    m->base.ops = &meta_ops;
    m->l = l;
    remote_secrets *k = md_calloc(1, sizeof *k);
    k->base.ops = &secrets_ops;
    k->l = l;
    *out_store = &s->base;
    *out_meta = &m->base;
    *out_secrets = &k->base;
    md_server_calls *c = md_calloc(1, sizeof *c);
    c->l = l;
    *out_calls = c;
}

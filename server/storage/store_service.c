/*
 * store_service.c: answers one duckling's storage calls (store_service.h
 * says what it may do; store_wire.h how the calls look).
 *
 * One thread per duckling reads a request, checks it against the owner,
 * runs it on the server's handles, and writes the response; a request that
 * does not decode gets MD_EPROTOCOL and the link goes on.  A length over
 * the limit, or a broken link, ends the thread (the duckling's calls then
 * fail with MD_EIO, and the pool replaces a duckling that exits).
 *
 * Format 1 blocks carry no owner: a format 1 manifest read by its owner
 * grants the blocks it lists to this duckling ("granted", a sorted array).
 *
 * Shares: a SHARE_FIND the duckling's user may read (may_read_share) opens
 * the share for this duckling: its snapshot (and the one before, which a
 * reader patches from) may then be read with SNAPSHOT_GET, and the
 * manifests and blocks of the owner's block space with OBJ_GET.  An opened
 * share is looked up again when it was last checked over a second ago, so
 * a revoked, dropped or replaced share stops granting anything within a
 * second even to a duckling that never asks again.
 */
#include "server/storage/store_service.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/history.h"
#include "server/meta.h"
#include "server/storage/manifest.h"
#include "server/storage/store_wire.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "shared/md_time.h"

/* An opened share is looked up again after this long. */
#define SHARE_RECHECK_MS 1000

/* A share this duckling opened (SHARE_FIND) and may read while `ok`. */
typedef struct opened_share {
    int64_t id, db_id;
    char *owner, *db_name, *url_id;
    md_hash space;          /* the owner's block space */
    int64_t snapshot, prev; /* readable snapshots: the current one and the one before */
    int64_t checked_ms;
    int ok;
} opened_share;

struct md_store_service {
    int fd;
    char *owner;
    md_hash space; /* the owner's block space */
    md_objstore *store;
    md_dbmeta *meta;
    pthread_t thread;
    md_hash *granted; /* format 1 blocks this duckling may read, sorted */
    size_t ngranted;
    md_meta *users;   /* organizations (NULL: everyone in one) */
    md_secrets *secrets; /* NULL: none */
    const md_directory *directory; /* NULL: none */
    struct md_wsdb *workspace;     /* NULL: none */
    char *org;        /* the owner's organization */
    opened_share *opened;
    size_t nopened;
};

typedef struct md_store_service svc;

/* ---- what belongs to the owner ---------------------------------------------------- */

static int is_owner(const svc *s, const char *owner) { return owner && strcmp(owner, s->owner) == 0; }

/* MD_OK when database `db_id` is the owner's; MD_ENOT_FOUND otherwise (another
 * user's database does not exist for this duckling); MD_EIO. */
static int own_db(svc *s, int64_t db_id) {
    char *owner = NULL;
    int rc = md_dbmeta_db_owner(s->meta, db_id, &owner);
    if (rc == MD_OK && !is_owner(s, owner)) rc = MD_ENOT_FOUND;
    md_free(owner);
    return rc;
}

static void take_db_id(void *ctx, const md_snapshot_row *row) { *(int64_t *)ctx = row->db_id; }

/* own_db for the database snapshot `id` belongs to. */
static int own_snapshot(svc *s, int64_t id) {
    int64_t db_id = 0;
    int rc = md_dbmeta_snapshot_get(s->meta, id, take_db_id, &db_id);
    return rc == MD_OK ? own_db(s, db_id) : rc;
}

static int hash_cmp(const void *a, const void *b) { return memcmp(a, b, MD_HASH_SIZE); }

static void grant_entries(svc *s, const md_manifest *m) {
    s->granted = md_realloc(s->granted, (s->ngranted + m->count) * sizeof *s->granted);
    memcpy(s->granted + s->ngranted, m->entries, m->count * sizeof *m->entries);
    s->ngranted += m->count;
    qsort(s->granted, s->ngranted, sizeof *s->granted, hash_cmp);
}

static int granted(const svc *s, const md_hash *name) {
    return s->ngranted && bsearch(name, s->granted, s->ngranted, sizeof *s->granted, hash_cmp) != NULL;
}

static int in_own_space(const svc *s, const uint8_t *data, size_t len) {
    return len >= MD_HASH_SIZE && memcmp(data, s->space.b, MD_HASH_SIZE) == 0;
}

/* The manifest data[0..len) decodes to, or NULL when it is not one. */
static md_manifest *as_manifest(const uint8_t *data, size_t len) {
    md_manifest *m = NULL;
    char *why = NULL;
    if (md_manifest_decode(data, len, &m, &why) != MD_OK) m = NULL;
    md_free(why);
    return m;
}

/* 1 if the duckling may store object data[0..len). */
static int may_put(const svc *s, const uint8_t *data, size_t len) {
    if (in_own_space(s, data, len)) return 1;
    md_manifest *m = as_manifest(data, len);
    int ok = m && m->version >= 2 && md_hash_equal(&m->space, &s->space);
    md_manifest_free(&m);
    return ok;
}

static int shared_space(svc *s, const md_hash *space);

/* 1 if the duckling may read object `name`, whose bytes are data[0..len). */
static int may_get(svc *s, const md_hash *name, const uint8_t *data, size_t len) {
    if (in_own_space(s, data, len)) return 1;
    if (len >= MD_HASH_SIZE && shared_space(s, (const md_hash *)data)) return 1; /* a block of an opened share */
    md_manifest *m = as_manifest(data, len);
    int ok;
    if (m && m->version >= 2) ok = md_hash_equal(&m->space, &s->space) || shared_space(s, &m->space);
    else if (m) ok = md_dbmeta_manifest_owned(s->meta, s->owner, name) == MD_OK;
    else ok = granted(s, name);
    if (ok && m && m->version < 2) grant_entries(s, m);
    md_manifest_free(&m);
    return ok;
}

/* ---- the operations: read the request, write the result, return rc --------------- */

typedef int (*handler)(svc *s, md_store_reader *in, md_buf *out);

/* Decoding failed: nothing runs. */
#define CHECK_DECODED(in) \
    if (!md_store_reader_done(in)) return MD_EPROTOCOL

static int on_obj_put(svc *s, md_store_reader *in, md_buf *out) {
    size_t len;
    const uint8_t *data = md_store_get_bytes(in, &len);
    CHECK_DECODED(in);
    if (!may_put(s, data, len)) return MD_EPERMISSION;
    md_hash name;
    int added = 0;
    int rc = md_objstore_put(s->store, data, len, &name, &added);
    if (rc == MD_OK) {
        md_store_put_hash(out, &name);
        md_store_put_i64(out, added);
    }
    return rc;
}

static int on_obj_get(svc *s, md_store_reader *in, md_buf *out) {
    md_hash name;
    md_store_get_hash(in, &name);
    CHECK_DECODED(in);
    void *data;
    size_t len;
    int rc = md_objstore_get(s->store, &name, &data, &len);
    if (rc != MD_OK) return rc;
    if (may_get(s, &name, data, len)) md_store_put_bytes(out, data, len);
    else rc = MD_ENOT_FOUND;
    md_free(data);
    return rc;
}

static int on_db_create(svc *s, md_store_reader *in, md_buf *out) {
    const char *owner = md_store_get_str(in), *name = md_store_get_str(in);
    int64_t from = md_store_get_i64(in);
    CHECK_DECODED(in);
    if (!is_owner(s, owner)) return MD_EPERMISSION;
    int rc = from > 0 ? own_snapshot(s, from) : MD_OK;
    int64_t id;
    if (rc == MD_OK) rc = md_dbmeta_db_create(s->meta, owner, name, from, &id);
    if (rc == MD_OK) md_store_put_i64(out, id);
    return rc;
}

/* Rows: a count, patched once the rows are written. */
typedef struct rows {
    md_buf *out;
    size_t at;
    uint32_t n;
} rows;

static void rows_begin(rows *r, md_buf *out) {
    r->out = out;
    r->at = out->len;
    r->n = 0;
    md_buf_put_u32le(out, 0);
}

static void rows_end(rows *r) { md_set_u32le(r->out->data + r->at, r->n); }

static void add_db_row(void *ctx, const md_db_row *row) {
    rows *r = ctx;
    md_store_put_db_row(r->out, row);
    r->n++;
}

static void add_snap_row(void *ctx, const md_snapshot_row *row) {
    rows *r = ctx;
    md_store_put_snap_row(r->out, row);
    r->n++;
}

typedef int (*db_rows_fn)(md_dbmeta *m, const char *owner, md_db_row_cb cb, void *ctx);

static int db_rows_of_owner(svc *s, md_store_reader *in, md_buf *out, db_rows_fn fn) {
    const char *owner = md_store_get_str(in);
    CHECK_DECODED(in);
    if (!is_owner(s, owner)) return MD_EPERMISSION;
    rows r;
    rows_begin(&r, out);
    int rc = fn(s->meta, owner, add_db_row, &r);
    rows_end(&r);
    return rc;
}

static int on_db_list(svc *s, md_store_reader *in, md_buf *out) {
    return db_rows_of_owner(s, in, out, md_dbmeta_db_list);
}

static int on_db_list_dropped(svc *s, md_store_reader *in, md_buf *out) {
    return db_rows_of_owner(s, in, out, md_dbmeta_db_list_dropped);
}

static int on_db_get(svc *s, md_store_reader *in, md_buf *out) {
    const char *owner = md_store_get_str(in), *name = md_store_get_str(in);
    CHECK_DECODED(in);
    if (!is_owner(s, owner)) return MD_EPERMISSION;
    rows r;
    rows_begin(&r, out);
    int rc = md_dbmeta_db_get(s->meta, owner, name, add_db_row, &r);
    rows_end(&r);
    return rc;
}

static int on_db_drop_or_undrop(svc *s, md_store_reader *in, int undrop) {
    const char *owner = md_store_get_str(in), *name = md_store_get_str(in);
    CHECK_DECODED(in);
    if (!is_owner(s, owner)) return MD_EPERMISSION;
    return undrop ? md_dbmeta_db_undrop(s->meta, owner, name) : md_dbmeta_db_drop(s->meta, owner, name);
}

static int on_db_drop(svc *s, md_store_reader *in, md_buf *out) { return on_db_drop_or_undrop(s, in, 0); }

static int on_db_undrop(svc *s, md_store_reader *in, md_buf *out) { return on_db_drop_or_undrop(s, in, 1); }

static int on_db_set_retention(svc *s, md_store_reader *in, md_buf *out) {
    int64_t db_id = md_store_get_i64(in), days = md_store_get_i64(in);
    CHECK_DECODED(in);
    if (days < 0 || days > 36500) return MD_EINVAL;
    int rc = own_db(s, db_id);
    return rc == MD_OK ? md_dbmeta_db_set_retention(s->meta, db_id, (int)days) : rc;
}

static int on_db_owner(svc *s, md_store_reader *in, md_buf *out) {
    int64_t db_id = md_store_get_i64(in);
    CHECK_DECODED(in);
    int rc = own_db(s, db_id);
    if (rc == MD_OK) md_store_put_str(out, s->owner);
    return rc;
}

static int on_lease_acquire(svc *s, md_store_reader *in, md_buf *out) {
    int64_t db_id = md_store_get_i64(in);
    const char *holder = md_store_get_str(in);
    int64_t ttl_ms = md_store_get_i64(in);
    CHECK_DECODED(in);
    int rc = own_db(s, db_id);
    if (rc != MD_OK) return rc;
    if (!holder) return MD_EPROTOCOL;
    char *other = NULL;
    rc = md_dbmeta_lease_acquire(s->meta, db_id, holder, ttl_ms, &other);
    if (rc == MD_ELOCKED) md_store_put_str(out, other);
    md_free(other);
    return rc;
}

static int on_lease_renew(svc *s, md_store_reader *in, md_buf *out) {
    int64_t db_id = md_store_get_i64(in);
    const char *holder = md_store_get_str(in);
    int64_t ttl_ms = md_store_get_i64(in);
    CHECK_DECODED(in);
    int rc = own_db(s, db_id);
    if (rc == MD_OK && !holder) rc = MD_EPROTOCOL;
    return rc == MD_OK ? md_dbmeta_lease_renew(s->meta, db_id, holder, ttl_ms) : rc;
}

static int on_lease_release(svc *s, md_store_reader *in, md_buf *out) {
    int64_t db_id = md_store_get_i64(in);
    const char *holder = md_store_get_str(in);
    CHECK_DECODED(in);
    int rc = own_db(s, db_id);
    if (rc == MD_OK && !holder) rc = MD_EPROTOCOL;
    return rc == MD_OK ? md_dbmeta_lease_release(s->meta, db_id, holder) : rc;
}

static int on_snapshot_commit(svc *s, md_store_reader *in, md_buf *out) {
    int64_t db_id = md_store_get_i64(in);
    const char *holder = md_store_get_str(in);
    int64_t expected_head = md_store_get_i64(in);
    md_hash manifest;
    md_store_get_hash(in, &manifest);
    int64_t file_size = md_store_get_i64(in), bytes_added = md_store_get_i64(in);
    const char *name = md_store_get_str(in);
    CHECK_DECODED(in);
    int rc = own_db(s, db_id);
    if (rc == MD_OK && !holder) rc = MD_EPROTOCOL;
    int64_t id;
    if (rc == MD_OK)
        rc = md_dbmeta_snapshot_commit(s->meta, db_id, holder, expected_head, &manifest, (uint64_t)file_size,
                                       (uint64_t)bytes_added, name, &id);
    if (rc == MD_OK) md_store_put_i64(out, id);
    return rc;
}

static int on_snapshot_mark(svc *s, md_store_reader *in, md_buf *out) {
    int64_t db_id = md_store_get_i64(in);
    const char *name = md_store_get_str(in);
    CHECK_DECODED(in);
    int rc = own_db(s, db_id);
    int64_t id;
    if (rc == MD_OK) rc = md_dbmeta_snapshot_mark(s->meta, db_id, name, &id);
    if (rc == MD_OK) md_store_put_i64(out, id);
    return rc;
}

static int shared_snapshot(svc *s, int64_t id);

static int on_snapshot_get(svc *s, md_store_reader *in, md_buf *out) {
    int64_t id = md_store_get_i64(in);
    CHECK_DECODED(in);
    int rc = own_snapshot(s, id);
    if (rc == MD_ENOT_FOUND && shared_snapshot(s, id)) rc = MD_OK;
    if (rc != MD_OK) return rc;
    rows r;
    rows_begin(&r, out);
    rc = md_dbmeta_snapshot_get(s->meta, id, add_snap_row, &r);
    rows_end(&r);
    return rc;
}

static int on_snapshot_at(svc *s, md_store_reader *in, md_buf *out) {
    int64_t db_id = md_store_get_i64(in);
    const char *when = md_store_get_str(in);
    CHECK_DECODED(in);
    int rc = own_db(s, db_id);
    if (rc == MD_OK && !when) rc = MD_EPROTOCOL;
    int64_t id;
    if (rc == MD_OK) rc = md_dbmeta_snapshot_at(s->meta, db_id, when, &id);
    if (rc == MD_OK) md_store_put_i64(out, id);
    return rc;
}

static int on_snapshot_list(svc *s, md_store_reader *in, md_buf *out) {
    int64_t db_id = md_store_get_i64(in);
    CHECK_DECODED(in);
    if (db_id <= 0) return MD_EPERMISSION;
    int rc = own_db(s, db_id);
    if (rc != MD_OK) return rc;
    rows r;
    rows_begin(&r, out);
    rc = md_dbmeta_snapshot_list(s->meta, db_id, add_snap_row, &r);
    rows_end(&r);
    return rc;
}

static int on_manifest_owned(svc *s, md_store_reader *in, md_buf *out) {
    const char *owner = md_store_get_str(in);
    md_hash manifest;
    md_store_get_hash(in, &manifest);
    CHECK_DECODED(in);
    if (!is_owner(s, owner)) return MD_EPERMISSION;
    return md_dbmeta_manifest_owned(s->meta, owner, &manifest);
}

/* ---- shares ------------------------------------------------------------------- */

/* May the duckling's user read share r?  Its owner always; UNRESTRICTED
 * anyone; ORGANIZATION the owner's organization and the users granted
 * READ; RESTRICTED only those granted. */
static int may_read_share(svc *s, const md_share_row *r) {
    if (is_owner(s, r->owner)) return 1;
    if (r->access == MD_SHARE_UNRESTRICTED) return 1;
    if (r->access == MD_SHARE_ORGANIZATION) {
        char *org = NULL;
        int same = !s->users || (s->org && md_meta_user_org(s->users, r->owner, &org) == MD_OK && strcmp(org, s->org) == 0);
        md_free(org);
        if (same) return 1;
    }
    return md_dbmeta_share_granted(s->meta, r->id, s->owner) == MD_OK;
}

typedef struct share_found {
    int found;
    md_share_row row; /* strings copied */
} share_found;

static void take_share(void *ctx, const md_share_row *r) {
    share_found *f = ctx;
    f->found = 1;
    md_share_row_copy(&f->row, r);
}

static void free_found(share_found *f) {
    if (f->found) md_share_row_clear(&f->row);
    memset(f, 0, sizeof *f);
}

/* Look opened share o up again: still there and readable?  Its snapshot follows. */
static void recheck(svc *s, opened_share *o) {
    share_found f = {0};
    int rc = md_dbmeta_share_find(s->meta, o->db_name, o->url_id, take_share, &f);
    o->ok = rc == MD_OK && f.row.id == o->id && may_read_share(s, &f.row);
    if (o->ok && f.row.snapshot != o->snapshot) {
        o->prev = o->snapshot;
        o->snapshot = f.row.snapshot;
    }
    o->checked_ms = md_now_ms();
    free_found(&f);
}

/* Is opened share o readable now (looked up again if its check is old)? */
static int still_ok(svc *s, opened_share *o) {
    if (md_now_ms() - o->checked_ms >= SHARE_RECHECK_MS) recheck(s, o);
    return o->ok;
}

static int shared_space(svc *s, const md_hash *space) {
    for (size_t i = 0; i < s->nopened; i++)
        if (md_hash_equal(&s->opened[i].space, space) && still_ok(s, &s->opened[i])) return 1;
    return 0;
}

static int shared_snapshot(svc *s, int64_t id) {
    for (size_t i = 0; i < s->nopened; i++) {
        opened_share *o = &s->opened[i];
        if ((o->snapshot == id || o->prev == id) && still_ok(s, o) && (o->snapshot == id || o->prev == id)) return 1;
    }
    return 0;
}

/* Remember share r as opened (it was just found readable). */
static void open_share(svc *s, const md_share_row *r) {
    opened_share *o = NULL;
    for (size_t i = 0; i < s->nopened && !o; i++)
        if (s->opened[i].id == r->id) o = &s->opened[i];
    if (!o) {
        s->opened = md_realloc(s->opened, (s->nopened + 1) * sizeof *s->opened);
        o = &s->opened[s->nopened++];
        memset(o, 0, sizeof *o);
        o->id = r->id;
        o->db_id = r->db_id;
        o->owner = md_strdup(r->owner);
        o->db_name = md_strdup(r->db_name);
        o->url_id = md_strdup(r->url_id);
        md_manifest_space_of(r->owner, &o->space);
    }
    if (o->snapshot != r->snapshot) {
        o->prev = o->snapshot;
        o->snapshot = r->snapshot;
    }
    o->checked_ms = md_now_ms();
    o->ok = 1;
}

/* Rows of shares, each through `keep` (NULL: all).  The metadata's
 * callbacks run under its lock, so rows are collected first and judged
 * (keep may ask the metadata again) afterwards. */
typedef struct share_rows {
    svc *s;
    rows r;
    int (*keep)(svc *s, const md_share_row *row);
    md_share_row *got;
    size_t ngot;
} share_rows;

static void add_share_row(void *ctx, const md_share_row *row) {
    share_rows *sr = ctx;
    sr->got = md_realloc(sr->got, (sr->ngot + 1) * sizeof *sr->got);
    md_share_row_copy(&sr->got[sr->ngot++], row);
}

/* Put the collected rows that `keep` keeps, and free them. */
static void put_share_rows(share_rows *sr) {
    for (size_t i = 0; i < sr->ngot; i++) {
        if (!sr->keep || sr->keep(sr->s, &sr->got[i])) {
            md_store_put_share_row(sr->r.out, &sr->got[i]);
            sr->r.n++;
        }
        md_share_row_clear(&sr->got[i]);
    }
    md_free(sr->got);
    sr->got = NULL;
    sr->ngot = 0;
    rows_end(&sr->r);
}

/* Listed to another user: one it may read, DISCOVERABLE or granted to it by name. */
static int listed_to_me(svc *s, const md_share_row *row) {
    if (is_owner(s, row->owner) || !may_read_share(s, row)) return 0;
    return row->discoverable || md_dbmeta_share_granted(s->meta, row->id, s->owner) == MD_OK;
}

static int on_share_create(svc *s, md_store_reader *in, md_buf *out) {
    md_share_row def;
    md_store_get_share_row(in, &def);
    int64_t replace = md_store_get_i64(in);
    CHECK_DECODED(in);
    if (!is_owner(s, def.owner) || !def.name) return MD_EPERMISSION;
    int rc = own_db(s, def.db_id);
    if (rc == MD_OK && def.snapshot > 0) rc = own_snapshot(s, def.snapshot);
    share_rows sr = {s, {0}, NULL, NULL, 0};
    rows_begin(&sr.r, out);
    if (rc == MD_OK) rc = md_dbmeta_share_create(s->meta, &def, replace != 0, add_share_row, &sr);
    put_share_rows(&sr);
    return rc;
}

static int on_share_update(svc *s, md_store_reader *in, md_buf *out) {
    const char *owner = md_store_get_str(in), *name = md_store_get_str(in);
    int64_t snapshot = md_store_get_i64(in);
    CHECK_DECODED(in);
    if (!is_owner(s, owner) || !name) return MD_EPERMISSION;
    int rc = snapshot > 0 ? own_snapshot(s, snapshot) : MD_OK;
    return rc == MD_OK ? md_dbmeta_share_update(s->meta, owner, name, snapshot) : rc;
}

static int on_share_drop(svc *s, md_store_reader *in, md_buf *out) {
    const char *owner = md_store_get_str(in), *name = md_store_get_str(in);
    CHECK_DECODED(in);
    if (!is_owner(s, owner) || !name) return MD_EPERMISSION;
    return md_dbmeta_share_drop(s->meta, owner, name);
}

static int on_share_get(svc *s, md_store_reader *in, md_buf *out) {
    const char *owner = md_store_get_str(in), *name = md_store_get_str(in);
    CHECK_DECODED(in);
    if (!is_owner(s, owner) || !name) return MD_EPERMISSION;
    share_rows sr = {s, {0}, NULL, NULL, 0};
    rows_begin(&sr.r, out);
    int rc = md_dbmeta_share_get(s->meta, owner, name, add_share_row, &sr);
    put_share_rows(&sr);
    return rc;
}

/* The owner's shares, or (owner NULL) those listed to the owner by others. */
static int on_share_list(svc *s, md_store_reader *in, md_buf *out) {
    const char *owner = md_store_get_str(in);
    CHECK_DECODED(in);
    if (owner && !is_owner(s, owner)) return MD_EPERMISSION;
    share_rows sr = {s, {0}, owner ? NULL : listed_to_me, NULL, 0};
    rows_begin(&sr.r, out);
    int rc = md_dbmeta_share_list(s->meta, owner, add_share_row, &sr);
    put_share_rows(&sr);
    return rc;
}

/* MD_ENOT_FOUND: no such share (dropped or replaced too); MD_EPERMISSION:
 * it exists but this user may not read it. */
static int on_share_find(svc *s, md_store_reader *in, md_buf *out) {
    const char *db_name = md_store_get_str(in), *url_id = md_store_get_str(in);
    CHECK_DECODED(in);
    share_found f = {0};
    int rc = md_dbmeta_share_find(s->meta, db_name, url_id, take_share, &f);
    if (rc == MD_OK && !may_read_share(s, &f.row)) rc = MD_EPERMISSION;
    if (rc == MD_OK) {
        open_share(s, &f.row);
        md_buf_put_u32le(out, 1);
        md_store_put_share_row(out, &f.row);
    }
    free_found(&f);
    return rc;
}

typedef struct id_match {
    int64_t id;
    int found;
} id_match;

static void match_id(void *ctx, const md_share_row *r) {
    id_match *m = ctx;
    if (r->id == m->id) m->found = 1;
}

static int owns_share(svc *s, int64_t id) {
    id_match m = {id, 0};
    int rc = md_dbmeta_share_list(s->meta, s->owner, match_id, &m);
    return rc != MD_OK ? rc : m.found ? MD_OK : MD_ENOT_FOUND;
}

static int on_share_grant(svc *s, md_store_reader *in, md_buf *out) {
    int64_t id = md_store_get_i64(in);
    const char *grantee = md_store_get_str(in);
    int64_t grant = md_store_get_i64(in);
    CHECK_DECODED(in);
    if (!grantee) return MD_EPROTOCOL;
    int rc = owns_share(s, id);
    long user_id;
    if (rc == MD_OK && grant && s->users && md_meta_user_id(s->users, grantee, &user_id) != MD_OK) rc = MD_EINVAL;
    return rc == MD_OK ? md_dbmeta_share_grant(s->meta, id, grantee, grant != 0) : rc;
}

typedef struct pair_rows {
    rows r;
} pair_rows;

static void add_pair(void *ctx, const char *a, const char *b) {
    pair_rows *p = ctx;
    md_store_put_str(p->r.out, a);
    md_store_put_str(p->r.out, b);
    p->r.n++;
}

static int on_share_grants(svc *s, md_store_reader *in, md_buf *out) {
    int64_t id = md_store_get_i64(in);
    CHECK_DECODED(in);
    int rc = owns_share(s, id);
    if (rc != MD_OK) return rc;
    pair_rows p;
    rows_begin(&p.r, out);
    rc = md_dbmeta_share_grants(s->meta, id, add_pair, &p);
    rows_end(&p.r);
    return rc;
}

static int on_share_granted(svc *s, md_store_reader *in, md_buf *out) {
    int64_t id = md_store_get_i64(in);
    const char *grantee = md_store_get_str(in);
    CHECK_DECODED(in);
    int rc = owns_share(s, id);
    if (rc == MD_OK && !grantee) rc = MD_EPROTOCOL;
    return rc == MD_OK ? md_dbmeta_share_granted(s->meta, id, grantee) : rc;
}

static int on_share_mount(svc *s, md_store_reader *in, md_buf *out) {
    const char *user = md_store_get_str(in), *alias = md_store_get_str(in), *url = md_store_get_str(in);
    CHECK_DECODED(in);
    if (!is_owner(s, user) || !alias) return MD_EPERMISSION;
    return md_dbmeta_share_mount(s->meta, user, alias, url);
}

static int on_share_mounts(svc *s, md_store_reader *in, md_buf *out) {
    const char *user = md_store_get_str(in);
    CHECK_DECODED(in);
    if (!is_owner(s, user)) return MD_EPERMISSION;
    pair_rows p;
    rows_begin(&p.r, out);
    int rc = md_dbmeta_share_mounts(s->meta, user, add_pair, &p);
    rows_end(&p.r);
    return rc;
}

/* ---- secrets ------------------------------------------------------------------ */

static int on_secret_put(svc *s, md_store_reader *in, md_buf *out) {
    const char *user = md_store_get_str(in), *name = md_store_get_str(in), *type = md_store_get_str(in);
    const char *scope = md_store_get_str(in), *fields = md_store_get_str(in);
    int64_t replace = md_store_get_i64(in);
    CHECK_DECODED(in);
    if (!s->secrets || !is_owner(s, user)) return MD_EPERMISSION;
    if (!name || !type || !fields) return MD_EPROTOCOL;
    return md_secrets_put(s->secrets, user, name, type, scope, fields, replace != 0);
}

static int on_secret_drop(svc *s, md_store_reader *in, md_buf *out) {
    const char *user = md_store_get_str(in), *name = md_store_get_str(in);
    CHECK_DECODED(in);
    if (!s->secrets || !is_owner(s, user)) return MD_EPERMISSION;
    return name ? md_secrets_drop(s->secrets, user, name) : MD_EPROTOCOL;
}

static void add_secret_row(void *ctx, const md_secret_row *row) {
    rows *r = ctx;
    const char *v[] = {row->name, row->type, row->scope, row->shown, row->created_at};
    for (int i = 0; i < 5; i++) md_store_put_str(r->out, v[i]);
    r->n++;
}

static void add_revealed(void *ctx, const char *name, const char *type, const char *fields) {
    rows *r = ctx;
    md_store_put_str(r->out, name);
    md_store_put_str(r->out, type);
    md_store_put_str(r->out, fields);
    r->n++;
}

static int on_secret_list(svc *s, md_store_reader *in, md_buf *out) {
    const char *user = md_store_get_str(in);
    CHECK_DECODED(in);
    if (!s->secrets || !is_owner(s, user)) return MD_EPERMISSION;
    rows r;
    rows_begin(&r, out);
    int rc = md_secrets_list(s->secrets, user, add_secret_row, &r);
    rows_end(&r);
    return rc;
}

static int on_secret_reveal(svc *s, md_store_reader *in, md_buf *out) {
    const char *user = md_store_get_str(in);
    CHECK_DECODED(in);
    if (!s->secrets || !is_owner(s, user)) return MD_EPERMISSION;
    rows r;
    rows_begin(&r, out);
    int rc = md_secrets_reveal(s->secrets, user, add_revealed, &r);
    rows_end(&r);
    return rc;
}

/* ---- connections and the user ---------------------------------------------------------- */

/* Is the duckling's user an administrator (looked up at each call)? */
static int owner_is_admin(svc *s) { return s->users && md_meta_user_is_admin(s->users, s->owner) == 1; }

static void add_conn(void *ctx, const md_conn_info *c) {
    rows *r = ctx;
    char opened[24], started[24], qid[24];
    snprintf(opened, sizeof opened, "%lld", (long long)c->opened_ms);
    snprintf(started, sizeof started, "%lld", (long long)c->query_started_ms);
    snprintf(qid, sizeof qid, "%u", c->query_id);
    const char *v[] = {c->id, c->user, c->token_kind, c->client, c->session_name, opened, c->query,
                       c->query ? qid : NULL, c->query ? started : NULL};
    for (int i = 0; i < 9; i++) md_store_put_str(r->out, v[i]);
    r->n++;
}

static int on_conn_list(svc *s, md_store_reader *in, md_buf *out) {
    CHECK_DECODED(in);
    rows r;
    rows_begin(&r, out);
    if (s->directory) s->directory->list(s->directory->ctx, owner_is_admin(s) ? NULL : s->owner, add_conn, &r);
    rows_end(&r);
    return MD_OK;
}

static int on_conn_interrupt(svc *s, md_store_reader *in, md_buf *out) {
    const char *id = md_store_get_str(in);
    CHECK_DECODED(in);
    if (!id) return MD_EPROTOCOL;
    if (!s->directory) return MD_ENOT_FOUND;
    return s->directory->interrupt(s->directory->ctx, id, owner_is_admin(s) ? NULL : s->owner);
}

static void add_user_field(md_buf *out, const char *v) { md_store_put_str(out, v); }

static int on_query_history(svc *s, md_store_reader *in, md_buf *out) {
    int64_t limit = md_store_get_i64(in);
    CHECK_DECODED(in);
    if (limit < 1 || limit > MD_HISTORY_MAX_PER_USER) limit = MD_HISTORY_MAX_PER_USER;
    rows r;
    rows_begin(&r, out);
    cJSON *entries = s->workspace ? md_history_rows(s->workspace, s->owner, owner_is_admin(s), (int)limit) : NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, entries) {
        char id[24], at[24], ms[32], n[24];
        const cJSON *rowsv = cJSON_GetObjectItemCaseSensitive(e, "rows");
        snprintf(id, sizeof id, "%.0f", cJSON_GetObjectItemCaseSensitive(e, "id")->valuedouble);
        snprintf(at, sizeof at, "%.0f", cJSON_GetObjectItemCaseSensitive(e, "at_ms")->valuedouble);
        snprintf(ms, sizeof ms, "%.3f", cJSON_GetObjectItemCaseSensitive(e, "ms")->valuedouble);
        snprintf(n, sizeof n, "%.0f", rowsv ? rowsv->valuedouble : 0);
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(e, "error");
        const char *v[] = {id, cJSON_GetObjectItemCaseSensitive(e, "user")->valuestring, at,
                           cJSON_GetObjectItemCaseSensitive(e, "site")->valuestring, ms, rowsv ? n : NULL,
                           cJSON_GetObjectItemCaseSensitive(e, "sql")->valuestring, err ? err->valuestring : NULL};
        for (int i = 0; i < 8; i++) md_store_put_str(out, v[i]);
        r.n++;
    }
    rows_end(&r);
    cJSON_Delete(entries);
    return MD_OK;
}

static int on_user_info(svc *s, md_store_reader *in, md_buf *out) {
    CHECK_DECODED(in);
    long id = 0;
    char *org = NULL, id_text[24];
    if (s->users && md_meta_user_id(s->users, s->owner, &id) != MD_OK) return MD_ENOT_FOUND;
    if (s->users) md_meta_user_org(s->users, s->owner, &org);
    snprintf(id_text, sizeof id_text, "%ld", id);
    add_user_field(out, id_text);
    add_user_field(out, s->owner);
    add_user_field(out, org ? org : MD_META_DEFAULT_ORG);
    add_user_field(out, owner_is_admin(s) ? "admin" : "member");
    md_free(org);
    return MD_OK;
}

static const handler handlers[] = {
    [MD_STORE_OBJ_PUT] = on_obj_put,
    [MD_STORE_OBJ_GET] = on_obj_get,
    [MD_STORE_DB_CREATE] = on_db_create,
    [MD_STORE_DB_GET] = on_db_get,
    [MD_STORE_DB_LIST] = on_db_list,
    [MD_STORE_DB_LIST_DROPPED] = on_db_list_dropped,
    [MD_STORE_DB_DROP] = on_db_drop,
    [MD_STORE_DB_UNDROP] = on_db_undrop,
    [MD_STORE_DB_SET_RETENTION] = on_db_set_retention,
    [MD_STORE_DB_OWNER] = on_db_owner,
    [MD_STORE_LEASE_ACQUIRE] = on_lease_acquire,
    [MD_STORE_LEASE_RENEW] = on_lease_renew,
    [MD_STORE_LEASE_RELEASE] = on_lease_release,
    [MD_STORE_SNAPSHOT_COMMIT] = on_snapshot_commit,
    [MD_STORE_SNAPSHOT_MARK] = on_snapshot_mark,
    [MD_STORE_SNAPSHOT_GET] = on_snapshot_get,
    [MD_STORE_SNAPSHOT_AT] = on_snapshot_at,
    [MD_STORE_SNAPSHOT_LIST] = on_snapshot_list,
    [MD_STORE_MANIFEST_OWNED] = on_manifest_owned,
    [MD_STORE_SHARE_CREATE] = on_share_create,
    [MD_STORE_SHARE_UPDATE] = on_share_update,
    [MD_STORE_SHARE_DROP] = on_share_drop,
    [MD_STORE_SHARE_GET] = on_share_get,
    [MD_STORE_SHARE_LIST] = on_share_list,
    [MD_STORE_SHARE_FIND] = on_share_find,
    [MD_STORE_SHARE_GRANT] = on_share_grant,
    [MD_STORE_SHARE_GRANTS] = on_share_grants,
    [MD_STORE_SHARE_GRANTED] = on_share_granted,
    [MD_STORE_SHARE_MOUNT] = on_share_mount,
    [MD_STORE_SHARE_MOUNTS] = on_share_mounts,
    [MD_STORE_SECRET_PUT] = on_secret_put,
    [MD_STORE_SECRET_DROP] = on_secret_drop,
    [MD_STORE_SECRET_LIST] = on_secret_list,
    [MD_STORE_SECRET_REVEAL] = on_secret_reveal,
    [MD_STORE_CONN_LIST] = on_conn_list,
    [MD_STORE_CONN_INTERRUPT] = on_conn_interrupt,
    [MD_STORE_USER_INFO] = on_user_info,
    [MD_STORE_QUERY_HISTORY] = on_query_history,
};

/* ---- the thread ---------------------------------------------------------------- */

static void *serve_main(void *arg) {
    svc *s = arg;
    for (;;) {
        uint8_t *body;
        size_t len;
        if (md_store_recv(s->fd, &body, &len) != MD_OK) break;
        md_store_reader in;
        md_store_reader_init(&in, body, len);
        uint8_t op = md_store_get_u8(&in);
        md_buf result = MD_BUF_INIT, response = MD_BUF_INIT;
        int rc = !in.bad && op < sizeof handlers / sizeof *handlers && handlers[op]
                     ? handlers[op](s, &in, &result)
                     : MD_EPROTOCOL;
        md_store_put_i64(&response, rc);
        md_buf_append(&response, result.data, result.len);
        int sent = md_store_send(s->fd, &response);
        if (op == MD_STORE_SECRET_REVEAL || op == MD_STORE_SECRET_PUT) { /* values do not linger */
            memset(result.data, 0, result.len);
            memset(response.data, 0, response.len);
            memset(body, 0, len);
        }
        md_buf_free(&result);
        md_buf_free(&response);
        md_free(body);
        if (sent != MD_OK) break;
    }
    shutdown(s->fd, SHUT_RDWR); /* the duckling's next call fails at once */
    return NULL;
}

int md_store_service_start(int fd, const md_store_service_config *cfg, md_store_service **out) {
    svc *s = md_calloc(1, sizeof *s);
    const char *owner = cfg->owner;
    md_objstore *store = cfg->store;
    md_dbmeta *meta = cfg->meta;
    md_meta *users = cfg->users;
    s->fd = fd;
    s->owner = md_strdup(owner);
    s->users = users;
    s->secrets = cfg->secrets;
    s->directory = cfg->directory;
    s->workspace = cfg->workspace;
    if (users && md_meta_user_org(users, owner, &s->org) != MD_OK) s->org = NULL;
    md_manifest_space_of(owner, &s->space);
    s->store = store;
    s->meta = meta;
    if (pthread_create(&s->thread, NULL, serve_main, s) != 0) {
        close(fd);
        md_free(s->owner);
        md_free(s);
        return MD_EIO;
    }
    *out = s;
    return MD_OK;
}

void md_store_service_stop(md_store_service **ps) {
    if (!ps || !*ps) return;
    svc *s = *ps;
    shutdown(s->fd, SHUT_RDWR);
    pthread_join(s->thread, NULL);
    close(s->fd);
    md_free(s->granted);
    for (size_t i = 0; i < s->nopened; i++) {
        md_free(s->opened[i].owner);
        md_free(s->opened[i].db_name);
        md_free(s->opened[i].url_id);
    }
    md_free(s->opened);
    md_free(s->org);
    md_free(s->owner);
    md_free(s);
    *ps = NULL;
}

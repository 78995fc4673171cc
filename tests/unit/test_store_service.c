/*
 * test_store_service.c: the storage link (server/storage/store_service.c
 * and store_remote.c): a duckling's handles reach snapshot storage through
 * the server, and only what belongs to its user.  Alice's duckling is the
 * remote end of a socketpair; Bob's data is written straight into the same
 * store and metadata file, as his own duckling would have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/storage/dbmeta.h"
#include "server/storage/manifest.h"
#include "server/storage/objstore.h"
#include "server/storage/store_remote.h"
#include "server/storage/store_service.h"
#include "server/storage/store_wire.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

typedef struct fixture {
    char dir[64];
    md_objstore *store; /* the server's */
    md_dbmeta *meta;
    md_store_service *service; /* serving alice */
    md_objstore *rstore;       /* alice's duckling's */
    md_dbmeta *rmeta;
    md_secrets *rsecrets;
    md_server_calls *rcalls;
    int raw;                   /* a second link for alice, spoken to byte by byte */
    md_store_service *raw_service;
    md_hash alice, bob;        /* block spaces */
} fixture;

static int setup(void **state) {
    fixture *f = md_calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/md-test-link-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    char *store_dir = md_asprintf("%s/store", f->dir), *err = NULL;
    int rc = md_objstore_open_dir(store_dir, &f->store, &err);
    md_free(store_dir);
    if (rc == MD_OK) rc = md_dbmeta_open(f->dir, &f->meta, &err);
    int sv[2], raw[2];
    if (rc != MD_OK || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, raw) != 0)
        return -1;
    if (md_store_service_start(sv[0], &(md_store_service_config){"alice", f->store, f->meta, NULL, NULL, NULL, NULL}, &f->service) != MD_OK) return -1;
    if (md_store_service_start(raw[0], &(md_store_service_config){"alice", f->store, f->meta, NULL, NULL, NULL, NULL}, &f->raw_service) != MD_OK) return -1;
    md_store_remote_open(sv[1], &f->rstore, &f->rmeta, &f->rsecrets, &f->rcalls);
    f->raw = raw[1];
    md_manifest_space_of("alice", &f->alice);
    md_manifest_space_of("bob", &f->bob);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    md_objstore_close(&f->rstore);
    md_dbmeta_close(&f->rmeta);
    md_secrets_close(&f->rsecrets);
    md_server_calls_close(&f->rcalls);
    close(f->raw);
    md_store_service_stop(&f->service);
    md_store_service_stop(&f->raw_service);
    md_dbmeta_close(&f->meta);
    md_objstore_close(&f->store);
    char *cmd = md_asprintf("rm -rf '%s'", f->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
    md_free(cmd);
    md_free(f);
    return 0;
}

/* space || text, as a block of that space is stored. */
static uint8_t *block_of(const md_hash *space, const char *text, size_t *out_len) {
    size_t n = strlen(text);
    uint8_t *b = md_malloc(MD_HASH_SIZE + n);
    memcpy(b, space->b, MD_HASH_SIZE);
    memcpy(b + MD_HASH_SIZE, text, n);
    *out_len = MD_HASH_SIZE + n;
    return b;
}

/* A one-entry manifest (a file of one header region) in `space` naming `entry`. */
static void manifest_of(const md_hash *space, const md_hash *entry, uint8_t **out, size_t *out_len) {
    md_manifest *m = md_manifest_new(4096, space);
    m->entries[0] = *entry;
    md_manifest_encode(m, out, out_len);
    md_manifest_free(&m);
}

static void count_row(void *ctx, const md_db_row *row) { (*(int *)ctx)++; }

static void count_snap(void *ctx, const md_snapshot_row *row) { (*(int *)ctx)++; }

static void take_db_id(void *ctx, const md_db_row *row) { *(int64_t *)ctx = row->id; }

/* Bob's database with one committed snapshot, written by the server side. */
static void bob_database(fixture *f, int64_t *out_db, int64_t *out_snapshot, md_hash *out_block) {
    size_t len;
    uint8_t *b = block_of(&f->bob, "bob's secret block", &len);
    assert_int_equal(md_objstore_put(f->store, b, len, out_block, NULL), MD_OK);
    md_free(b);
    uint8_t *enc;
    manifest_of(&f->bob, out_block, &enc, &len);
    md_hash mname;
    assert_int_equal(md_objstore_put(f->store, enc, len, &mname, NULL), MD_OK);
    md_free(enc);
    assert_int_equal(md_dbmeta_db_create(f->meta, "bob", "ledger", 0, out_db), MD_OK);
    assert_int_equal(md_dbmeta_lease_acquire(f->meta, *out_db, "bob-duckling", 60000, NULL), MD_OK);
    assert_int_equal(md_dbmeta_snapshot_commit(f->meta, *out_db, "bob-duckling", 0, &mname, 4096, 4096, NULL,
                                               out_snapshot),
                     MD_OK);
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_own_database_round_trip(void **state) {
    fixture *f = *state;
    int64_t db, snap, again;
    assert_int_equal(md_dbmeta_db_create(f->rmeta, "alice", "notes", 0, &db), MD_OK);
    int64_t found = 0;
    assert_int_equal(md_dbmeta_db_get(f->rmeta, "alice", "notes", take_db_id, &found), MD_OK);
    assert_true(found == db);
    size_t len;
    uint8_t *b = block_of(&f->alice, "alice's block", &len);
    md_hash name, name2;
    int added = -1;
    assert_int_equal(md_objstore_put(f->rstore, b, len, &name, &added), MD_OK);
    assert_int_equal(added, 1);
    assert_int_equal(md_objstore_put(f->rstore, b, len, &name2, &added), MD_OK);
    assert_int_equal(added, 0); /* dedup within one user stays */
    assert_true(md_hash_equal(&name, &name2));
    uint8_t *enc;
    size_t enc_len;
    manifest_of(&f->alice, &name, &enc, &enc_len);
    md_hash mname;
    assert_int_equal(md_objstore_put(f->rstore, enc, enc_len, &mname, NULL), MD_OK);
    char *holder = NULL;
    assert_int_equal(md_dbmeta_lease_acquire(f->rmeta, db, "alice-duckling", 60000, &holder), MD_OK);
    assert_int_equal(md_dbmeta_snapshot_commit(f->rmeta, db, "alice-duckling", 0, &mname, 4096, len, "first", &snap),
                     MD_OK);
    assert_int_equal(md_dbmeta_snapshot_mark(f->rmeta, db, "second", &again), MD_OK);
    int n = 0;
    assert_int_equal(md_dbmeta_snapshot_list(f->rmeta, db, count_snap, &n), MD_OK);
    assert_int_equal(n, 2);
    /* what comes back is what went in, checked against its name */
    void *data;
    size_t got;
    assert_int_equal(md_objstore_get(f->rstore, &name, &data, &got), MD_OK);
    assert_int_equal(got, len);
    assert_memory_equal(data, b, len);
    md_free(data);
    assert_int_equal(md_objstore_get(f->rstore, &mname, &data, &got), MD_OK);
    md_free(data);
    /* a clone of her own snapshot, then a second lease holder is refused by name */
    int64_t clone;
    assert_int_equal(md_dbmeta_db_create(f->rmeta, "alice", "notes_copy", snap, &clone), MD_OK);
    assert_int_equal(md_dbmeta_lease_acquire(f->rmeta, db, "someone-else", 60000, &holder), MD_ELOCKED);
    assert_string_equal(holder, "alice-duckling");
    md_free(holder);
    assert_int_equal(md_dbmeta_db_drop(f->rmeta, "alice", "notes_copy"), MD_OK);
    assert_int_equal(md_dbmeta_db_undrop(f->rmeta, "alice", "notes_copy"), MD_OK);
    n = 0;
    assert_int_equal(md_dbmeta_db_list(f->rmeta, "alice", count_row, &n), MD_OK);
    assert_int_equal(n, 2);
    md_free(b);
    md_free(enc);
}

static void test_other_users_data_does_not_exist(void **state) {
    fixture *f = *state;
    int64_t db, snap;
    md_hash block;
    bob_database(f, &db, &snap, &block);
    int n = 0;
    /* by owner: refused; by id: not found, as if there were no such id */
    assert_int_equal(md_dbmeta_db_get(f->rmeta, "bob", "ledger", count_row, &n), MD_EPERMISSION);
    assert_int_equal(md_dbmeta_db_list(f->rmeta, "bob", count_row, &n), MD_EPERMISSION);
    assert_int_equal(md_dbmeta_db_list(f->rmeta, NULL, count_row, &n), MD_EPERMISSION);
    assert_int_equal(md_dbmeta_db_drop(f->rmeta, "bob", "ledger"), MD_EPERMISSION);
    assert_int_equal(n, 0);
    char *owner = NULL, *holder = NULL;
    assert_int_equal(md_dbmeta_db_owner(f->rmeta, db, &owner), MD_ENOT_FOUND);
    assert_int_equal(md_dbmeta_snapshot_get(f->rmeta, snap, count_snap, &n), MD_ENOT_FOUND);
    assert_int_equal(md_dbmeta_snapshot_list(f->rmeta, db, count_snap, &n), MD_ENOT_FOUND);
    assert_int_equal(md_dbmeta_snapshot_list(f->rmeta, 0, count_snap, &n), MD_EPERMISSION);
    assert_int_equal(md_dbmeta_lease_acquire(f->rmeta, db, "alice-duckling", 60000, &holder), MD_ENOT_FOUND);
    assert_int_equal(md_dbmeta_db_set_retention(f->rmeta, db, 0), MD_ENOT_FOUND);
    int64_t id;
    assert_int_equal(md_dbmeta_snapshot_mark(f->rmeta, db, "mine", &id), MD_ENOT_FOUND);
    assert_int_equal(md_dbmeta_db_create(f->rmeta, "alice", "stolen", snap, &id), MD_ENOT_FOUND);
    assert_int_equal(md_dbmeta_db_create(f->rmeta, "bob", "planted", 0, &id), MD_EPERMISSION);
    md_hash mname = {{0}};
    assert_int_equal(md_dbmeta_snapshot_commit(f->rmeta, db, "bob-duckling", snap, &mname, 1, 1, NULL, &id),
                     MD_ENOT_FOUND);
    assert_int_equal(n, 0);
    /* Bob's block: not readable, and the answer is the one for a missing object */
    void *data;
    size_t len;
    assert_int_equal(md_objstore_get(f->rstore, &block, &data, &len), MD_ENOT_FOUND);
    md_hash nothing;
    md_hash_of("no such object", 14, &nothing);
    assert_int_equal(md_objstore_get(f->rstore, &nothing, &data, &len), MD_ENOT_FOUND);
    /* no guessing by storing: a block of Bob's space, or a manifest in it, is refused */
    uint8_t *b = block_of(&f->bob, "bob's secret block", &len);
    md_hash name;
    int added;
    assert_int_equal(md_objstore_put(f->rstore, b, len, &name, &added), MD_EPERMISSION);
    md_free(b);
    uint8_t *enc;
    manifest_of(&f->bob, &block, &enc, &len);
    assert_int_equal(md_objstore_put(f->rstore, enc, len, &name, &added), MD_EPERMISSION);
    md_free(enc);
    assert_int_equal(md_objstore_put(f->rstore, "no space at all", 15, &name, &added), MD_EPERMISSION);
    /* nor the store's maintenance */
    assert_int_equal(md_objstore_remove(f->rstore, &block, INT64_MAX), MD_EPERMISSION);
    int64_t expired;
    assert_int_equal(md_dbmeta_expire(f->rmeta, 1, &expired), MD_EPERMISSION);
    /* and Bob's data is untouched */
    assert_int_equal(md_objstore_get(f->store, &block, &data, &len), MD_OK);
    md_free(data);
}

/* Format 1 blocks carry no owner: the owner's format 1 manifest grants them. */
static void test_format_1_blocks_through_their_manifest(void **state) {
    fixture *f = *state;
    md_hash legacy, legacy_other, mname;
    assert_int_equal(md_objstore_put(f->store, "an old block", 12, &legacy, NULL), MD_OK);
    assert_int_equal(md_objstore_put(f->store, "bob's old block", 15, &legacy_other, NULL), MD_OK);
    uint8_t v1[64] = "MDSNAP\0\1";
    md_set_u64le(v1 + 8, 4096);
    md_set_u32le(v1 + 16, MD_MANIFEST_HEADER_SIZE);
    md_set_u32le(v1 + 20, MD_MANIFEST_BLOCK_SIZE);
    md_set_u32le(v1 + 24, 1);
    memcpy(v1 + 32, legacy.b, MD_HASH_SIZE);
    assert_int_equal(md_objstore_put(f->store, v1, sizeof v1, &mname, NULL), MD_OK);
    void *data;
    size_t len;
    /* before her manifest is hers (no snapshot names it), nothing is granted */
    assert_int_equal(md_objstore_get(f->rstore, &mname, &data, &len), MD_ENOT_FOUND);
    assert_int_equal(md_objstore_get(f->rstore, &legacy, &data, &len), MD_ENOT_FOUND);
    int64_t db, snap;
    assert_int_equal(md_dbmeta_db_create(f->meta, "alice", "old", 0, &db), MD_OK);
    assert_int_equal(md_dbmeta_lease_acquire(f->meta, db, "x", 60000, NULL), MD_OK);
    assert_int_equal(md_dbmeta_snapshot_commit(f->meta, db, "x", 0, &mname, 4096, 0, NULL, &snap), MD_OK);
    assert_int_equal(md_objstore_get(f->rstore, &mname, &data, &len), MD_OK);
    md_free(data);
    assert_int_equal(md_objstore_get(f->rstore, &legacy, &data, &len), MD_OK);
    assert_int_equal(len, 12);
    md_free(data);
    assert_int_equal(md_objstore_get(f->rstore, &legacy_other, &data, &len), MD_ENOT_FOUND);
}

/* Raw requests: what a compromised duckling could send. */
static int64_t raw_call(fixture *f, const void *body, size_t len) {
    md_buf b = MD_BUF_INIT;
    md_buf_append(&b, body, len);
    assert_int_equal(md_store_send(f->raw, &b), MD_OK);
    md_buf_free(&b);
    uint8_t *resp;
    size_t rlen;
    assert_int_equal(md_store_recv(f->raw, &resp, &rlen), MD_OK);
    assert_true(rlen >= 8);
    int64_t rc = (int64_t)md_get_u64le(resp);
    md_free(resp);
    return rc;
}

static void test_malformed_requests_are_answered(void **state) {
    fixture *f = *state;
    assert_int_equal(raw_call(f, "", 0), MD_EPROTOCOL);            /* no op */
    assert_int_equal(raw_call(f, "\xff", 1), MD_EPROTOCOL);        /* unknown op */
    assert_int_equal(raw_call(f, "\x00", 1), MD_EPROTOCOL);        /* op 0 */
    assert_int_equal(raw_call(f, "\x02" "abc", 4), MD_EPROTOCOL);  /* a hash cut short */
    /* a string whose length runs past the body, one without its NUL, extra bytes */
    assert_int_equal(raw_call(f, "\x05\xff\xff\xff\x7f", 5), MD_EPROTOCOL);
    assert_int_equal(raw_call(f, "\x05\x05\x00\x00\x00" "aliceX", 11), MD_EPROTOCOL);
    assert_int_equal(raw_call(f, "\x05\x05\x00\x00\x00" "alice\0" "!", 12), MD_EPROTOCOL);
    /* the link goes on after each */
    assert_int_equal(raw_call(f, "\x05\x05\x00\x00\x00" "alice\0", 11), MD_OK);
    /* a length over the limit ends the link: nothing is allocated for it */
    uint8_t huge[4];
    md_set_u32le(huge, MD_STORE_MAX_MESSAGE + 1);
    assert_int_equal(write(f->raw, huge, 4), 4);
    uint8_t *resp;
    size_t rlen;
    assert_int_equal(md_store_recv(f->raw, &resp, &rlen), MD_EEOF);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_own_database_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_users_data_does_not_exist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_1_blocks_through_their_manifest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_requests_are_answered, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_store_service.c: libFuzzer target for the server's side of the
 * storage link (server/storage/store_service.c, store_wire.c): what a
 * duckling taken over by a DuckDB bug could send.  Each input is one
 * request body, sent to a service for user alice over a socketpair, on a
 * real store in a temporary directory that also holds bob's database.
 * Invariants checked: every request gets a response that starts with a
 * known code; no response ever carries bob's bytes; the service lives on.
 * fuzz-sources: server/storage/store_service.c server/storage/store_wire.c server/storage/objstore.c server/storage/manifest.c server/storage/dbmeta.c server/storage/dbmeta_shares.c server/uuid.c server/meta.c server/secrets.c server/history.c server/workspace_db.c
 * fuzz-libs: -lmbedcrypto -lsqlite3 -lpthread
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server/storage/dbmeta.h"
#include "server/storage/manifest.h"
#include "server/storage/objstore.h"
#include "server/storage/store_service.h"
#include "server/storage/store_wire.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

static const char BOB_SECRET[] = "bob's secret block: 0xB0B5EC12E7";
static int link_fd = -1;

static void start(void) {
    char dir[] = "/tmp/md-fuzz-link-XXXXXX";
    if (!mkdtemp(dir)) abort();
    char *store_dir = md_asprintf("%s/store", dir), *err = NULL;
    md_objstore *store;
    md_dbmeta *meta;
    if (md_objstore_open_dir(store_dir, &store, &err) != MD_OK || md_dbmeta_open(dir, &meta, &err) != MD_OK) abort();
    md_free(store_dir);
    /* bob's database: one block, one manifest, one snapshot */
    md_hash bob, block, mname;
    md_manifest_space_of("bob", &bob);
    uint8_t buf[MD_HASH_SIZE + sizeof BOB_SECRET];
    memcpy(buf, bob.b, MD_HASH_SIZE);
    memcpy(buf + MD_HASH_SIZE, BOB_SECRET, sizeof BOB_SECRET);
    if (md_objstore_put(store, buf, sizeof buf, &block, NULL) != MD_OK) abort();
    md_manifest *m = md_manifest_new(4096, &bob);
    m->entries[0] = block;
    uint8_t *enc;
    size_t len;
    md_manifest_encode(m, &enc, &len);
    md_manifest_free(&m);
    if (md_objstore_put(store, enc, len, &mname, NULL) != MD_OK) abort();
    md_free(enc);
    int64_t db, snap, mine;
    if (md_dbmeta_db_create(meta, "bob", "ledger", 0, &db) != MD_OK ||
        md_dbmeta_lease_acquire(meta, db, "b", 60000, NULL) != MD_OK ||
        md_dbmeta_snapshot_commit(meta, db, "b", 0, &mname, 4096, 4096, NULL, &snap) != MD_OK ||
        md_dbmeta_db_create(meta, "alice", "notes", 0, &mine) != MD_OK)
        abort();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
    md_store_service *svc;
    if (md_store_service_start(sv[0], &(md_store_service_config){"alice", store, meta, NULL, NULL, NULL, NULL}, &svc) != MD_OK) abort();
    link_fd = sv[1];
    fprintf(stderr, "fuzz_store_service: store in %s (left for inspection)\n", dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (link_fd < 0) start();
    if (size > (1u << 20)) return 0;
    md_buf req = MD_BUF_INIT;
    md_buf_append(&req, data, size);
    if (md_store_send(link_fd, &req) != MD_OK) abort();
    md_buf_free(&req);
    uint8_t *resp;
    size_t n;
    if (md_store_recv(link_fd, &resp, &n) != MD_OK || n < 8) abort(); /* the service died or said nothing */
    int64_t rc = (int64_t)md_get_u64le(resp);
    if (rc > 0 || rc < MD_ESESSION_RESET) abort(); /* not one of the error space's codes */
    if (memmem(resp, n, BOB_SECRET, sizeof BOB_SECRET - 1)) abort(); /* another user's bytes */
    md_free(resp);
    return 0;
}

/*
 * test_storage.c: the pieces of snapshot storage below the metadata store:
 * content addressing (server/storage/objstore.c), manifests and their diff
 * (manifest.c), and capture / materialize / verify / sweep (snapshot.c),
 * on real files in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <duckdb.h>

#include "server/storage/dbmeta.h"
#include "server/storage/dirty.h"
#include "server/storage/manifest.h"
#include "server/storage/objstore.h"
#include "server/storage/snapcache.h"
#include "server/storage/snapshot.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

/* ---- helpers ------------------------------------------------------------------ */

/* Block spaces of two users (manifest.h), set in main(). */
static md_hash ALICE, BOB;

typedef struct fixture {
    char dir[64];
    char *store_dir;
    md_objstore *store;
} fixture;

static int setup(void **state) {
    fixture *f = md_calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/md-test-storage-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    f->store_dir = md_asprintf("%s/store", f->dir);
    char *err = NULL;
    if (md_objstore_open_dir(f->store_dir, &f->store, &err) != MD_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    md_objstore_close(&f->store);
    char *cmd = md_asprintf("rm -rf '%s'", f->dir);
    int rc = system(cmd);
    md_free(cmd);
    md_free(f->store_dir);
    md_free(f);
    return rc == 0 ? 0 : -1;
}

/* Deterministic bytes for block `seed`. */
static void fill(uint8_t *p, size_t n, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

/* A file shaped like a DuckDB database: the 12 KiB header, `nblocks` full
 * blocks and `tail` more bytes; block b's bytes come from seeds[b]. */
static char *write_db_file(const fixture *f, const char *name, const uint32_t *seeds, uint32_t nblocks,
                           uint32_t tail) {
    char *path = md_asprintf("%s/%s", f->dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    uint8_t *buf = md_malloc(MD_MANIFEST_BLOCK_SIZE);
    for (uint32_t b = 0; b <= nblocks + (tail ? 1 : 0); b++) {
        size_t n = b == 0 ? MD_MANIFEST_HEADER_SIZE : b <= nblocks ? MD_MANIFEST_BLOCK_SIZE : tail;
        fill(buf, n, seeds[b]);
        assert_int_equal(fwrite(buf, 1, n, fp), n);
    }
    md_free(buf);
    fclose(fp);
    return path;
}

static uint8_t *slurp(const char *path, size_t *out_len) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *p = md_malloc((size_t)n + 1);
    assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *out_len = (size_t)n;
    return p;
}

static void assert_same_file(const char *a, const char *b) {
    size_t la, lb;
    uint8_t *pa = slurp(a, &la), *pb = slurp(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    md_free(pa);
    md_free(pb);
}

static int count_cb(void *ctx, const md_hash *name, uint64_t size, int64_t stored_at) {
    (*(int *)ctx)++;
    return 0;
}

static int count_objects(md_objstore *s) {
    int n = 0;
    assert_int_equal(md_objstore_list(s, count_cb, &n), MD_OK);
    return n;
}

/* ---- hashes and the object store ---------------------------------------------- */

static void hash_hex_round_trip(void **state) {
    md_hash h, back;
    char hex[MD_HASH_HEX_SIZE + 1];
    md_hash_of("abc", 3, &h); /* FIPS 180-2 test vector */
    md_hash_hex(&h, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(md_hash_parse("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", &back), MD_OK);
    assert_true(md_hash_equal(&h, &back));
    assert_int_equal(md_hash_parse("ba78", &back), MD_EINVAL);
    hex[5] = 'g';
    assert_int_equal(md_hash_parse(hex, &back), MD_EINVAL);
}

static void objects_are_stored_once_by_content(void **state) {
    fixture *f = *state;
    md_hash a, b, c;
    int added = -1;
    assert_int_equal(md_objstore_put(f->store, "hello", 5, &a, &added), MD_OK);
    assert_int_equal(added, 1);
    assert_int_equal(md_objstore_put(f->store, "hello", 5, &b, &added), MD_OK);
    assert_int_equal(added, 0);
    assert_true(md_hash_equal(&a, &b));
    assert_int_equal(md_objstore_put(f->store, "", 0, &c, &added), MD_OK);
    assert_int_equal(added, 1);
    assert_int_equal(count_objects(f->store), 2);

    void *data;
    size_t len;
    assert_int_equal(md_objstore_get(f->store, &a, &data, &len), MD_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "hello", 5);
    md_free(data);
    uint64_t size;
    assert_int_equal(md_objstore_stat(f->store, &a, &size), MD_OK);
    assert_int_equal(size, 5);

    assert_int_equal(md_objstore_remove(f->store, &a, INT64_MAX), MD_OK);
    assert_int_equal(md_objstore_get(f->store, &a, &data, &len), MD_ENOT_FOUND);
    assert_int_equal(md_objstore_stat(f->store, &a, &size), MD_ENOT_FOUND);
    assert_int_equal(md_objstore_remove(f->store, &a, INT64_MAX), MD_OK); /* already gone */
    assert_int_equal(count_objects(f->store), 1);
}

static void damaged_objects_are_detected_on_read(void **state) {
    fixture *f = *state;
    md_hash h;
    assert_int_equal(md_objstore_put(f->store, "precious bytes", 14, &h, NULL), MD_OK);
    char hex[MD_HASH_HEX_SIZE + 1];
    md_hash_hex(&h, hex);
    char *path = md_asprintf("%s/objects/%.2s/%s", f->store_dir, hex, hex + 2);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fputc('P', fp); /* one flipped byte */
    fclose(fp);
    md_free(path);
    void *data;
    size_t len;
    assert_int_equal(md_objstore_get(f->store, &h, &data, &len), MD_ECORRUPT);
}

static void interrupted_puts_are_cleaned_up_on_open(void **state) {
    fixture *f = *state;
    char *old = md_asprintf("%s/tmp/put-abc123", f->store_dir);
    char *fresh = md_asprintf("%s/tmp/put-def456", f->store_dir);
    for (int i = 0; i < 2; i++) {
        FILE *fp = fopen(i ? fresh : old, "wb");
        assert_non_null(fp);
        fputs("half an object", fp);
        fclose(fp);
    }
    /* the old one is a crash's leftover; the fresh one may be another process's put in flight */
    struct timespec times[2] = {{time(NULL) - 2 * MD_OBJSTORE_TMP_MAX_AGE_S, 0}, {time(NULL) - 2 * MD_OBJSTORE_TMP_MAX_AGE_S, 0}};
    assert_int_equal(utimensat(AT_FDCWD, old, times, 0), 0);
    md_objstore_close(&f->store);
    char *err = NULL;
    assert_int_equal(md_objstore_open_dir(f->store_dir, &f->store, &err), MD_OK);
    assert_int_not_equal(access(old, F_OK), 0);
    assert_int_equal(access(fresh, F_OK), 0);
    md_free(old);
    md_free(fresh);
}

/* ---- manifests ------------------------------------------------------------------ */

static void entry_count_and_ranges_follow_duckdb_blocks(void **state) {
    const uint32_t H = MD_MANIFEST_HEADER_SIZE, B = MD_MANIFEST_BLOCK_SIZE;
    assert_int_equal(md_manifest_entry_count(0, H, B), 1);
    assert_int_equal(md_manifest_entry_count(H, H, B), 1);
    assert_int_equal(md_manifest_entry_count(H + 1, H, B), 2);
    assert_int_equal(md_manifest_entry_count(H + 3ull * B, H, B), 4);
    assert_int_equal(md_manifest_entry_count(H + 3ull * B + 7, H, B), 5);
    md_manifest *m = md_manifest_new(H + 2ull * B + 100, &ALICE);
    assert_int_equal(m->count, 4);
    uint64_t off;
    uint32_t len;
    md_manifest_entry_range(m, 0, &off, &len);
    assert_int_equal(off, 0);
    assert_int_equal(len, H);
    md_manifest_entry_range(m, 2, &off, &len);
    assert_int_equal(off, H + B);
    assert_int_equal(len, B);
    md_manifest_entry_range(m, 3, &off, &len);
    assert_int_equal(off, H + 2ull * B);
    assert_int_equal(len, 100);
    md_manifest_free(&m);
    assert_null(m);
}

static void manifest_round_trip_and_bad_encodings(void **state) {
    md_manifest *m = md_manifest_new(MD_MANIFEST_HEADER_SIZE + 3ull * MD_MANIFEST_BLOCK_SIZE, &ALICE);
    for (uint32_t i = 0; i < m->count; i++) md_hash_of(&i, sizeof i, &m->entries[i]);
    uint8_t *enc;
    size_t len;
    md_manifest_encode(m, &enc, &len);
    assert_int_equal(len, 64 + 4 * 32);
    assert_memory_equal(enc, "MDSNAP\0\2", 8);
    assert_memory_equal(enc + 32, ALICE.b, 32);
    md_manifest *back = NULL;
    char *err = NULL;
    assert_int_equal(md_manifest_decode(enc, len, &back, &err), MD_OK);
    assert_int_equal(back->file_size, m->file_size);
    assert_int_equal(back->count, m->count);
    assert_int_equal(back->version, 2);
    assert_true(md_hash_equal(&back->space, &ALICE));
    assert_memory_equal(back->entries, m->entries, m->count * sizeof *m->entries);
    md_manifest_free(&back);

    struct {
        size_t at;
        uint8_t value;
        size_t len;
        const char *why;
    } bad[] = {
        {0, 'X', len, "magic"},
        {7, 3, len, "version"},
        {8, 0xff, len, "entry count does not match"}, /* file size */
        {24, 9, len, "entry count does not match"},
        {28, 1, len, "reserved"},
        {0, 0, len - 1, "length"},
        {0, 0, 40, "shorter than its 64-byte prefix"},
        {0, 0, 20, "shorter"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        uint8_t *copy = md_malloc(len);
        memcpy(copy, enc, len);
        if (bad[k].len == len) copy[bad[k].at] = bad[k].value;
        err = NULL;
        assert_int_equal(md_manifest_decode(copy, bad[k].len, &back, &err), MD_ECORRUPT);
        assert_non_null(err);
        if (!strstr(err, bad[k].why)) fail_msg("case %zu: '%s' does not mention '%s'", k, err, bad[k].why);
        md_free(err);
        md_free(copy);
    }
    md_free(enc);
    md_manifest_free(&m);

    /* found by fuzz_manifest: a file size of 2^63 + 0x700... + 12 KiB made the
     * 32-bit entry count wrap around to 1, and the manifest was accepted */
    md_manifest *one = md_manifest_new(MD_MANIFEST_HEADER_SIZE, &ALICE);
    md_manifest_encode(one, &enc, &len);
    const uint64_t huge = 0x8700000000003000ull;
    for (int i = 0; i < 8; i++) enc[8 + i] = (uint8_t)(huge >> (8 * i));
    err = NULL;
    assert_int_equal(md_manifest_decode(enc, len, &back, &err), MD_ECORRUPT);
    assert_non_null(strstr(err, "entry count does not match"));
    md_free(err);
    md_free(enc);
    md_manifest_free(&one);
}

static void diff_lists_changed_and_new_entries(void **state) {
    md_manifest *a = md_manifest_new(MD_MANIFEST_HEADER_SIZE + 3ull * MD_MANIFEST_BLOCK_SIZE, &ALICE);
    md_manifest *b = md_manifest_new(MD_MANIFEST_HEADER_SIZE + 5ull * MD_MANIFEST_BLOCK_SIZE, &ALICE);
    for (uint32_t i = 0; i < a->count; i++) md_hash_of(&i, sizeof i, &a->entries[i]);
    for (uint32_t i = 0; i < b->count; i++) md_hash_of(&i, sizeof i, &b->entries[i]);
    uint32_t x = 99;
    md_hash_of(&x, sizeof x, &b->entries[2]);
    uint32_t *idx, n;
    md_manifest_diff(a, b, &idx, &n);
    assert_int_equal(n, 3);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 4);
    assert_int_equal(idx[2], 5);
    md_free(idx);
    md_manifest_diff(b, b, &idx, &n);
    assert_int_equal(n, 0);
    assert_null(idx);
    md_manifest_diff(NULL, a, &idx, &n);
    assert_int_equal(n, a->count);
    md_free(idx);
    md_manifest_free(&a);
    md_manifest_free(&b);
}

/* ---- capture, materialize, verify, sweep --------------------------------------- */

static void capture_stores_only_changed_blocks_and_materializes_exactly(void **state) {
    fixture *f = *state;
    uint32_t seeds[] = {1, 2, 3, 4, 5, 6};
    char *v1 = write_db_file(f, "v1.db", seeds, 4, 0);
    md_manifest *m1 = NULL;
    md_hash n1;
    md_capture_stats st;
    char *err = NULL;
    assert_int_equal(md_snapshot_capture(f->store, v1, &ALICE, NULL, NULL, 0, &m1, &n1, &st, &err), MD_OK);
    assert_int_equal(m1->count, 5);
    assert_int_equal(st.blocks_read, 5);
    assert_int_equal(st.blocks_added, 5);
    assert_int_equal(st.bytes_added, MD_MANIFEST_HEADER_SIZE + 4ull * MD_MANIFEST_BLOCK_SIZE + 64 + 5 * 32);

    /* v2: the header and block 2 rewritten, one block and a short tail appended */
    uint32_t seeds2[] = {11, 2, 33, 4, 5, 66, 77};
    char *v2 = write_db_file(f, "v2.db", seeds2, 5, 1000);
    /* rename v2 over v1, as if the database file had been written in place */
    assert_int_equal(rename(v2, v1), 0);
    uint32_t dirty[] = {0, 2};
    md_manifest *m2 = NULL;
    md_hash n2;
    assert_int_equal(md_snapshot_capture(f->store, v1, &ALICE, m1, dirty, 2, &m2, &n2, &st, &err), MD_OK);
    assert_int_equal(m2->count, 7);
    assert_int_equal(st.blocks_read, 4);  /* 0, 2 (dirty) and 5, 6 (new) */
    assert_int_equal(st.blocks_added, 4);
    /* a full read finds the same manifest: the dirty set was complete */
    md_manifest *m2full = NULL;
    md_hash n2full;
    assert_int_equal(md_snapshot_capture(f->store, v1, &ALICE, NULL, NULL, 0, &m2full, &n2full, &st, &err), MD_OK);
    assert_true(md_hash_equal(&n2, &n2full));
    assert_int_equal(st.blocks_added, 0);
    assert_int_equal(st.bytes_added, 0);

    /* materialize v2 whole, then patch a copy of v1 up to v2 */
    char *out = md_asprintf("%s/out.db", f->dir);
    uint32_t written = 0;
    assert_int_equal(md_snapshot_materialize(f->store, m2, NULL, out, &written, &err), MD_OK);
    assert_int_equal(written, 7);
    assert_same_file(out, v1);
    assert_int_equal(md_snapshot_materialize(f->store, m1, m2, out, &written, &err), MD_OK); /* back to v1 */
    assert_int_equal(written, 2); /* entries 0 and 2; 5 and 6 are cut off */
    char *v1again = write_db_file(f, "v1again.db", seeds, 4, 0);
    assert_same_file(out, v1again);
    assert_int_equal(md_snapshot_materialize(f->store, m2, m1, out, &written, &err), MD_OK); /* and forward */
    assert_int_equal(written, 4);
    assert_same_file(out, v1);

    md_manifest *loaded = NULL;
    assert_int_equal(md_snapshot_load_manifest(f->store, &n2, &loaded, &err), MD_OK);
    assert_memory_equal(loaded->entries, m2->entries, m2->count * sizeof *m2->entries);
    md_manifest_free(&loaded);

    md_manifest_free(&m1);
    md_manifest_free(&m2);
    md_manifest_free(&m2full);
    md_free(v1);
    md_free(v2);
    md_free(v1again);
    md_free(out);
}

static void block_spaces_keep_users_apart(void **state) {
    fixture *f = *state;
    uint32_t seeds[] = {1, 2, 3, 4};
    char *path = write_db_file(f, "same.db", seeds, 3, 0);
    md_manifest *ma = NULL, *mb = NULL, *again = NULL;
    md_hash na, nb, nagain;
    md_capture_stats st;
    char *err = NULL;
    assert_int_equal(md_snapshot_capture(f->store, path, &ALICE, NULL, NULL, 0, &ma, &na, &st, &err), MD_OK);
    assert_int_equal(st.blocks_added, 4);
    /* the same bytes in bob's space are new objects: nothing says alice has them */
    assert_int_equal(md_snapshot_capture(f->store, path, &BOB, NULL, NULL, 0, &mb, &nb, &st, &err), MD_OK);
    assert_int_equal(st.blocks_added, 4);
    assert_int_equal(st.bytes_added, MD_MANIFEST_HEADER_SIZE + 3ull * MD_MANIFEST_BLOCK_SIZE + 64 + 4 * 32);
    for (uint32_t i = 0; i < ma->count; i++) assert_false(md_hash_equal(&ma->entries[i], &mb->entries[i]));
    /* within one space, blocks are stored once */
    assert_int_equal(md_snapshot_capture(f->store, path, &BOB, NULL, NULL, 0, &again, &nagain, &st, &err), MD_OK);
    assert_int_equal(st.blocks_added, 0);
    assert_int_equal(st.bytes_added, 0);
    /* each materializes to the file; a manifest claiming another space is refused */
    char *out = md_asprintf("%s/out.db", f->dir);
    assert_int_equal(md_snapshot_materialize(f->store, mb, NULL, out, NULL, &err), MD_OK);
    assert_same_file(out, path);
    ma->space = BOB;
    assert_int_equal(md_snapshot_materialize(f->store, ma, NULL, out, NULL, &err), MD_ECORRUPT);
    md_free(err);
    md_manifest_free(&ma);
    md_manifest_free(&mb);
    md_manifest_free(&again);
    md_free(out);
    md_free(path);
}

static void version_1_manifests_are_read_and_their_next_capture_moves_into_a_space(void **state) {
    fixture *f = *state;
    uint32_t seeds[] = {5, 6, 7};
    char *path = write_db_file(f, "old.db", seeds, 2, 0);
    /* what an older server stored: each block under SHA-256(bytes), a version 1 manifest */
    size_t n;
    uint8_t *file = slurp(path, &n);
    md_manifest *shape = md_manifest_new(n, &ALICE);
    uint8_t *enc = md_malloc(32 + (size_t)shape->count * 32);
    memcpy(enc, "MDSNAP\0\1", 8);
    for (int i = 0; i < 8; i++) enc[8 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    for (int i = 0; i < 4; i++) {
        enc[16 + i] = (uint8_t)(MD_MANIFEST_HEADER_SIZE >> (8 * i));
        enc[20 + i] = (uint8_t)(MD_MANIFEST_BLOCK_SIZE >> (8 * i));
        enc[24 + i] = (uint8_t)(shape->count >> (8 * i));
        enc[28 + i] = 0;
    }
    for (uint32_t i = 0; i < shape->count; i++) {
        uint64_t off;
        uint32_t len;
        md_manifest_entry_range(shape, i, &off, &len);
        md_hash h;
        assert_int_equal(md_objstore_put(f->store, file + off, len, &h, NULL), MD_OK);
        memcpy(enc + 32 + i * 32, h.b, 32);
    }
    md_manifest *old = NULL;
    char *err = NULL;
    assert_int_equal(md_manifest_decode(enc, 32 + (size_t)shape->count * 32, &old, &err), MD_OK);
    assert_int_equal(old->version, 1);
    char *out = md_asprintf("%s/restored.db", f->dir);
    assert_int_equal(md_snapshot_materialize(f->store, old, NULL, out, NULL, &err), MD_OK);
    assert_same_file(out, path);
    uint32_t nbad = 9;
    assert_int_equal(md_snapshot_verify(f->store, old, NULL, NULL, &nbad), MD_OK);
    assert_int_equal(nbad, 0);
    /* a capture that would reuse its entries reads every block into alice's space */
    uint32_t dirty[] = {1};
    md_manifest *m = NULL;
    md_hash name;
    md_capture_stats st;
    assert_int_equal(md_snapshot_capture(f->store, path, &ALICE, old, dirty, 1, &m, &name, &st, &err), MD_OK);
    assert_int_equal(st.blocks_read, m->count);
    assert_int_equal(m->version, 2);
    md_manifest_free(&m);
    md_manifest_free(&old);
    md_manifest_free(&shape);
    md_free(enc);
    md_free(file);
    md_free(out);
    md_free(path);
}

typedef struct bad_list {
    uint32_t entries[8];
    int codes[8];
    int n;
} bad_list;

static void note_bad(void *ctx, uint32_t entry, const md_hash *block, int code) {
    bad_list *b = ctx;
    b->entries[b->n] = entry;
    b->codes[b->n++] = code;
}

static void verify_reports_missing_and_damaged_blocks(void **state) {
    fixture *f = *state;
    uint32_t seeds[] = {1, 2, 3, 4};
    char *path = write_db_file(f, "v.db", seeds, 3, 0);
    md_manifest *m = NULL;
    md_hash name;
    char *err = NULL;
    assert_int_equal(md_snapshot_capture(f->store, path, &ALICE, NULL, NULL, 0, &m, &name, NULL, &err), MD_OK);
    bad_list bad = {.n = 0};
    uint32_t nbad = 99;
    assert_int_equal(md_snapshot_verify(f->store, m, note_bad, &bad, &nbad), MD_OK);
    assert_int_equal(nbad, 0);

    assert_int_equal(md_objstore_remove(f->store, &m->entries[1], INT64_MAX), MD_OK);
    char hex[MD_HASH_HEX_SIZE + 1];
    md_hash_hex(&m->entries[3], hex);
    char *obj = md_asprintf("%s/objects/%.2s/%s", f->store_dir, hex, hex + 2);
    FILE *fp = fopen(obj, "r+b");
    fseek(fp, 1000, SEEK_SET);
    fputc(0x5a, fp);
    fclose(fp);
    assert_int_equal(md_snapshot_verify(f->store, m, note_bad, &bad, &nbad), MD_OK);
    assert_int_equal(nbad, 2);
    assert_int_equal(bad.entries[0], 1);
    assert_int_equal(bad.codes[0], MD_ENOT_FOUND);
    assert_int_equal(bad.entries[1], 3);
    assert_int_equal(bad.codes[1], MD_ECORRUPT);

    char *out = md_asprintf("%s/out.db", f->dir);
    assert_int_equal(md_snapshot_materialize(f->store, m, NULL, out, NULL, &err), MD_ENOT_FOUND);
    assert_non_null(strstr(err, "block 1"));
    md_free(err);
    md_free(out);
    md_free(obj);
    md_free(path);
    md_manifest_free(&m);
}

static void sweep_keeps_what_roots_reach_and_removes_the_rest(void **state) {
    fixture *f = *state;
    uint32_t s1[] = {1, 2, 3, 4}, s2[] = {1, 2, 30, 40};
    char *p1 = write_db_file(f, "a.db", s1, 3, 0);
    char *p2 = write_db_file(f, "b.db", s2, 3, 0);
    md_manifest *m1 = NULL, *m2 = NULL;
    md_hash n1, n2, orphan;
    char *err = NULL;
    assert_int_equal(md_snapshot_capture(f->store, p1, &ALICE, NULL, NULL, 0, &m1, &n1, NULL, &err), MD_OK);
    assert_int_equal(md_snapshot_capture(f->store, p2, &ALICE, NULL, NULL, 0, &m2, &n2, NULL, &err), MD_OK);
    /* an interrupted commit: a block no manifest names */
    assert_int_equal(md_objstore_put(f->store, "orphan", 6, &orphan, NULL), MD_OK);
    /* blocks: 4 + 2 new; manifests 2; orphan 1 */
    assert_int_equal(count_objects(f->store), 9);

    md_hash roots[] = {n1, n2};
    md_sweep_stats st;
    assert_int_equal(md_snapshot_sweep(f->store, roots, 2, 0, 0, &st, &err), MD_OK);
    assert_int_equal(st.objects_removed, 1);
    assert_int_equal(st.bytes_removed, 6);
    assert_int_equal(count_objects(f->store), 8);

    /* drop snapshot 1: its own blocks 3, 4 and its manifest go (dry run first) */
    assert_int_equal(md_snapshot_sweep(f->store, &n2, 1, 0, 1, &st, &err), MD_OK);
    assert_int_equal(st.objects_removed, 3);
    assert_int_equal(count_objects(f->store), 8);
    assert_int_equal(md_snapshot_sweep(f->store, &n2, 1, 0, 0, &st, &err), MD_OK);
    assert_int_equal(st.objects_removed, 3);
    /* blocks are stored behind their 32-byte space */
    assert_int_equal(st.bytes_removed, 2ull * (32 + MD_MANIFEST_BLOCK_SIZE) + 64 + 4 * 32);
    assert_int_equal(count_objects(f->store), 5);
    uint32_t nbad;
    assert_int_equal(md_snapshot_verify(f->store, m2, NULL, NULL, &nbad), MD_OK);
    assert_int_equal(nbad, 0);

    /* recent objects are kept: a capture may not have committed them yet */
    md_hash fresh;
    assert_int_equal(md_objstore_put(f->store, "just stored", 11, &fresh, NULL), MD_OK);
    assert_int_equal(md_snapshot_sweep(f->store, &n2, 1, 3600, 0, &st, &err), MD_OK);
    assert_int_equal(st.objects_removed, 0);
    assert_int_equal(md_snapshot_sweep(f->store, &n2, 1, 0, 0, &st, &err), MD_OK);
    assert_int_equal(st.objects_removed, 1);

    /* a root that cannot be read stops the sweep before anything is removed */
    assert_int_equal(md_snapshot_sweep(f->store, &n1, 1, 0, 0, &st, &err), MD_ENOT_FOUND);
    md_free(err);
    assert_int_equal(count_objects(f->store), 5);

    md_manifest_free(&m1);
    md_manifest_free(&m2);
    md_free(p1);
    md_free(p2);
}

/* ---- write tracking against real DuckDB writes ---------------------------------- */

static void sql(duckdb_connection c, const char *q) {
    duckdb_result r;
    if (duckdb_query(c, q, &r) == DuckDBError) fail_msg("%s: %s", q, duckdb_result_error(&r));
    duckdb_destroy_result(&r);
}

/* After each change and CHECKPOINT, a capture that reads only the tracked
 * entries must give the same manifest as one that reads the whole file. */
static void tracked_writes_cover_every_change_duckdb_makes(void **state) {
    fixture *f = *state;
    char *path = md_asprintf("%s/real.duckdb", f->dir);
    duckdb_database db;
    duckdb_connection c;
    assert_int_equal(duckdb_open(path, &db), DuckDBSuccess);
    assert_int_equal(duckdb_connect(db, &c), DuckDBSuccess);
    sql(c, "CREATE TABLE t AS SELECT i, i * 3 AS j, 'row ' || i AS s FROM range(2000000) r(i)");
    sql(c, "CHECKPOINT");
    md_dirty *d = NULL;
    char *err = NULL;
    assert_int_equal(md_dirty_track(path, &d, &err), MD_OK);
    md_manifest *prev = NULL;
    md_hash name;
    assert_int_equal(md_snapshot_capture(f->store, path, &ALICE, NULL, NULL, 0, &prev, &name, NULL, &err), MD_OK);
    const char *changes[] = {
        "INSERT INTO t VALUES (-1, -3, 'one row')",
        "INSERT INTO t VALUES (-2, -6, 'another row')",
        "UPDATE t SET j = 0 WHERE i % 1000 = 7",
        "DELETE FROM t WHERE i < 1000000",
        "CREATE TABLE u AS SELECT i FROM range(500000) r(i)",
        "DROP TABLE u",
        "INSERT INTO t SELECT i, i, 'more' FROM range(300000) r(i)",
    };
    uint32_t small_commit_entries = 0;
    for (size_t k = 0; k < sizeof changes / sizeof changes[0]; k++) {
        sql(c, changes[k]);
        sql(c, "CHECKPOINT");
        uint32_t *dirty, n;
        md_dirty_take(d, &dirty, &n);
        md_manifest *tracked_m = NULL, *full_m = NULL;
        md_hash tracked_name, full_name;
        assert_int_equal(md_snapshot_capture(f->store, path, &ALICE, prev, dirty, n, &tracked_m, &tracked_name, NULL, &err), MD_OK);
        assert_int_equal(md_snapshot_capture(f->store, path, &ALICE, NULL, NULL, 0, &full_m, &full_name, NULL, &err), MD_OK);
        if (!md_hash_equal(&tracked_name, &full_name)) fail_msg("after '%s' the tracked capture missed a change", changes[k]);
        if (k == 0) small_commit_entries = n;
        md_free(dirty);
        md_manifest_free(&prev);
        md_manifest_free(&full_m);
        prev = tracked_m;
    }
    /* a one-row insert rewrites a handful of blocks, not the file */
    assert_true(small_commit_entries >= 1 && small_commit_entries <= 8);
    md_manifest_free(&prev);
    md_dirty_untrack(&d);
    assert_null(d);
    duckdb_disconnect(&c);
    duckdb_close(&db);
    md_free(path);
}

/* ---- the metadata store ------------------------------------------------------------ */

static void keep_db(void *ctx, const md_db_row *row) {
    md_db_row *out = ctx;
    *out = *row;
    out->name = NULL; /* strings live only during the call */
    out->owner = NULL;
    out->created_at = NULL;
    out->dropped_at = NULL;
}

static void count_db(void *ctx, const md_db_row *row) {
    (*(int *)ctx)++;
}

static void count_snap(void *ctx, const md_snapshot_row *row) {
    (*(int *)ctx)++;
}

static void keep_snap(void *ctx, const md_snapshot_row *row) {
    md_snapshot_row *out = ctx;
    *out = *row;
    out->name = NULL;
    out->created_at = NULL;
}

static void collect_root(void *ctx, const md_hash *h) {
    md_hash *roots = ctx;
    for (int i = 0; i < 16; i++) {
        if (roots[i].b[0] == 0 && roots[i].b[1] == 0 && roots[i].b[2] == 0) {
            roots[i] = *h;
            return;
        }
    }
}

static int root_count(const md_hash *roots) {
    int n = 0;
    while (n < 16 && (roots[n].b[0] || roots[n].b[1] || roots[n].b[2])) n++;
    return n;
}

static md_hash named(uint32_t k) {
    md_hash h;
    md_hash_of(&k, sizeof k, &h);
    return h;
}

static void databases_names_drop_and_undrop(void **state) {
    fixture *f = *state;
    md_dbmeta *m = NULL;
    char *err = NULL;
    assert_int_equal(md_dbmeta_open(f->dir, &m, &err), MD_OK);
    int64_t a, b;
    assert_int_equal(md_dbmeta_db_create(m, "alice", "sales", 0, &a), MD_OK);
    assert_int_equal(md_dbmeta_db_create(m, "alice", "SALES", 0, &b), MD_EEXISTS); /* names compare like DuckDB's */
    assert_int_equal(md_dbmeta_db_create(m, "bob", "sales", 0, &b), MD_OK);       /* per owner */
    assert_int_equal(md_dbmeta_db_create(m, "alice", "1x", 0, &b), MD_EINVAL);
    assert_int_equal(md_dbmeta_db_create(m, "alice", "a-b", 0, &b), MD_EINVAL);
    assert_int_equal(md_dbmeta_db_create(m, "alice", "clone", 12345, &b), MD_ENOT_FOUND);
    md_db_row row;
    assert_int_equal(md_dbmeta_db_get(m, "alice", "Sales", keep_db, &row), MD_OK);
    assert_int_equal(row.id, a);
    assert_int_equal(row.head, 0);
    assert_int_equal(row.retention_days, 7);
    int n = 0;
    assert_int_equal(md_dbmeta_db_list(m, "alice", count_db, &n), MD_OK);
    assert_int_equal(n, 1);

    assert_int_equal(md_dbmeta_db_drop(m, "alice", "sales"), MD_OK);
    assert_int_equal(md_dbmeta_db_get(m, "alice", "sales", keep_db, &row), MD_ENOT_FOUND);
    assert_int_equal(md_dbmeta_db_drop(m, "alice", "sales"), MD_ENOT_FOUND);
    assert_int_equal(md_dbmeta_db_create(m, "alice", "sales", 0, &b), MD_OK); /* the name is free again */
    assert_int_equal(md_dbmeta_db_undrop(m, "alice", "sales"), MD_EEXISTS);   /* ... so undrop refuses */
    assert_int_equal(md_dbmeta_db_drop(m, "alice", "sales"), MD_OK);
    assert_int_equal(md_dbmeta_db_undrop(m, "alice", "sales"), MD_OK);        /* the newest dropped one */
    assert_int_equal(md_dbmeta_db_get(m, "alice", "sales", keep_db, &row), MD_OK);
    assert_int_equal(row.id, b);
    /* past its retention a dropped database cannot come back */
    assert_int_equal(md_dbmeta_db_set_retention(m, a, 0), MD_OK);
    assert_int_equal(md_dbmeta_db_drop(m, "alice", "sales"), MD_OK);
    assert_int_equal(md_dbmeta_db_set_retention(m, b, 0), MD_OK);
    assert_int_equal(md_dbmeta_db_undrop(m, "alice", "sales"), MD_ENOT_FOUND);
    md_dbmeta_close(&m);
    assert_null(m);
}

static void leases_guard_the_commit_point(void **state) {
    fixture *f = *state;
    md_dbmeta *m = NULL;
    char *err = NULL;
    assert_int_equal(md_dbmeta_open(f->dir, &m, &err), MD_OK);
    int64_t db, snap;
    assert_int_equal(md_dbmeta_db_create(m, "alice", "d", 0, &db), MD_OK);
    md_hash h1 = named(1), h2 = named(2);
    /* no lease, no commit */
    assert_int_equal(md_dbmeta_snapshot_commit(m, db, "w1", 0, &h1, 100, 100, NULL, &snap), MD_ELOCKED);
    assert_int_equal(md_dbmeta_lease_acquire(m, db, "w1", 60000, NULL), MD_OK);
    assert_int_equal(md_dbmeta_lease_acquire(m, db, "w1", 60000, NULL), MD_OK); /* renew */
    char *holder = NULL;
    assert_int_equal(md_dbmeta_lease_acquire(m, db, "w2", 60000, &holder), MD_ELOCKED);
    assert_string_equal(holder, "w1");
    md_free(holder);
    assert_int_equal(md_dbmeta_snapshot_commit(m, db, "w2", 0, &h1, 100, 100, NULL, &snap), MD_ELOCKED);
    int64_t s1, s2;
    assert_int_equal(md_dbmeta_snapshot_commit(m, db, "w1", 0, &h1, 100, 100, NULL, &s1), MD_OK);
    /* a commit on top of a base that is no longer the head is refused */
    assert_int_equal(md_dbmeta_snapshot_commit(m, db, "w1", 0, &h2, 200, 50, NULL, &snap), MD_ELOCKED);
    assert_int_equal(md_dbmeta_snapshot_commit(m, db, "w1", s1, &h2, 200, 50, "before_import", &s2), MD_OK);
    assert_true(s2 > s1);
    md_db_row row;
    assert_int_equal(md_dbmeta_db_get(m, "alice", "d", keep_db, &row), MD_OK);
    assert_int_equal(row.head, s2);
    md_snapshot_row sr;
    assert_int_equal(md_dbmeta_snapshot_get(m, s2, keep_snap, &sr), MD_OK);
    assert_true(md_hash_equal(&sr.manifest, &h2));
    assert_int_equal(sr.file_size, 200);
    assert_int_equal(sr.bytes_added, 50);
    int n = 0;
    assert_int_equal(md_dbmeta_snapshot_list(m, db, count_snap, &n), MD_OK);
    assert_int_equal(n, 2);
    int64_t at = 0;
    assert_int_equal(md_dbmeta_snapshot_at(m, db, "2999-01-01 00:00:00", &at), MD_OK);
    assert_int_equal(at, s2);
    assert_int_equal(md_dbmeta_snapshot_at(m, db, "2000-01-01 00:00:00", &at), MD_ENOT_FOUND);

    /* an expired lease can be taken over; the old holder can no longer commit */
    assert_int_equal(md_dbmeta_lease_acquire(m, db, "w1", -1, NULL), MD_OK); /* expires at once */
    assert_int_equal(md_dbmeta_lease_acquire(m, db, "w2", 60000, NULL), MD_OK);
    assert_int_equal(md_dbmeta_snapshot_commit(m, db, "w1", s2, &h1, 100, 0, NULL, &snap), MD_ELOCKED);
    assert_int_equal(md_dbmeta_lease_renew(m, db, "w1", 60000), MD_ELOCKED); /* not w1's any more */
    assert_int_equal(md_dbmeta_lease_renew(m, db, "w2", 60000), MD_OK);
    assert_int_equal(md_dbmeta_lease_release(m, db, "w1"), MD_OK); /* not w1's: no effect */
    assert_int_equal(md_dbmeta_lease_acquire(m, db, "w3", 60000, NULL), MD_ELOCKED);
    assert_int_equal(md_dbmeta_lease_release(m, db, "w2"), MD_OK);
    assert_int_equal(md_dbmeta_lease_acquire(m, db, "w3", 60000, NULL), MD_OK);
    md_dbmeta_close(&m);
}

static void gc_roots_follow_heads_names_retention_and_clones(void **state) {
    fixture *f = *state;
    md_dbmeta *m = NULL;
    char *err = NULL;
    assert_int_equal(md_dbmeta_open(f->dir, &m, &err), MD_OK);
    int64_t db, clone, s1, s2, s3;
    assert_int_equal(md_dbmeta_db_create(m, "alice", "d", 0, &db), MD_OK);
    assert_int_equal(md_dbmeta_lease_acquire(m, db, "w", 60000, NULL), MD_OK);
    md_hash h1 = named(1), h2 = named(2), h3 = named(3);
    assert_int_equal(md_dbmeta_snapshot_commit(m, db, "w", 0, &h1, 1, 1, "kept", &s1), MD_OK);
    assert_int_equal(md_dbmeta_snapshot_commit(m, db, "w", s1, &h2, 1, 1, NULL, &s2), MD_OK);
    assert_int_equal(md_dbmeta_snapshot_commit(m, db, "w", s2, &h3, 1, 1, NULL, &s3), MD_OK);
    md_hash roots[16];
    memset(roots, 0, sizeof roots);
    assert_int_equal(md_dbmeta_gc_roots(m, collect_root, roots), MD_OK);
    assert_int_equal(root_count(roots), 3); /* all within the 7-day retention */

    assert_int_equal(md_dbmeta_db_create(m, "alice", "c", s2, &clone), MD_OK); /* zero-copy clone of s2 */
    md_db_row row;
    assert_int_equal(md_dbmeta_db_get(m, "alice", "c", keep_db, &row), MD_OK);
    assert_int_equal(row.head, s2);
    assert_int_equal(md_dbmeta_db_set_retention(m, db, 0), MD_OK);
    memset(roots, 0, sizeof roots);
    assert_int_equal(md_dbmeta_gc_roots(m, collect_root, roots), MD_OK);
    /* retention 0: the head (h3), the named one (h1) and the clone's head (h2) */
    assert_int_equal(root_count(roots), 3);

    assert_int_equal(md_dbmeta_db_drop(m, "alice", "d"), MD_OK); /* past retention at once */
    memset(roots, 0, sizeof roots);
    assert_int_equal(md_dbmeta_gc_roots(m, collect_root, roots), MD_OK);
    assert_int_equal(root_count(roots), 1); /* only what the clone still uses */
    assert_true(md_hash_equal(&roots[0], &h2));

    /* expiring forgets the rows of what is not retained (dry run first) */
    int64_t expired = -1;
    assert_int_equal(md_dbmeta_expire(m, 1, &expired), MD_OK);
    assert_int_equal(expired, 2);
    md_snapshot_row sr;
    assert_int_equal(md_dbmeta_snapshot_get(m, s1, keep_snap, &sr), MD_OK);
    assert_int_equal(md_dbmeta_expire(m, 0, &expired), MD_OK);
    assert_int_equal(expired, 2);
    assert_int_equal(md_dbmeta_snapshot_get(m, s1, keep_snap, &sr), MD_ENOT_FOUND);
    assert_int_equal(md_dbmeta_snapshot_get(m, s3, keep_snap, &sr), MD_ENOT_FOUND);
    assert_int_equal(md_dbmeta_snapshot_get(m, s2, keep_snap, &sr), MD_OK);
    assert_int_equal(md_dbmeta_db_get(m, "alice", "c", keep_db, &row), MD_OK);
    assert_int_equal(row.head, s2);
    assert_int_equal(md_dbmeta_expire(m, 0, &expired), MD_OK);
    assert_int_equal(expired, 0);
    md_dbmeta_close(&m);
}

/* ---- the snapshot cache -------------------------------------------------------- */

static int nothing_in_use(void *ctx, const char *path, int same_name) { return 0; }

static int first_in_use(void *ctx, const char *path, int same_name) { return strcmp(path, (const char *)ctx) == 0; }

static void snapshot_cache_builds_patches_and_evicts(void **state) {
    fixture *f = *state;
    char *err = NULL;
    uint32_t seeds[12];
    for (uint32_t i = 0; i < 12; i++) seeds[i] = 100 + i;
    /* version 1, version 2 (two blocks changed), version 3 (one more) */
    md_manifest *m[3];
    md_hash name[3];
    char *src[3];
    for (int v = 0; v < 3; v++) {
        if (v == 1) seeds[3] = 900, seeds[7] = 901;
        if (v == 2) seeds[9] = 902;
        char file[16];
        snprintf(file, sizeof file, "v%d.db", v);
        src[v] = write_db_file(f, file, seeds, 10, 1000);
        assert_int_equal(md_snapshot_capture(f->store, src[v], &ALICE, NULL, NULL, 0, &m[v], &name[v], NULL, &err), MD_OK);
    }
    char *dir = md_asprintf("%s/cache", f->dir);
    md_snapcache *c = NULL;
    assert_int_equal(md_snapcache_open(dir, f->store, 2, &c, &err), MD_OK);
    char *p0 = NULL, *p1 = NULL, *again = NULL, *p2 = NULL;
    md_snapcache_stats st;
    /* cold, nothing cached: built whole */
    assert_int_equal(md_snapcache_get(c, &name[0], m[0], nothing_in_use, NULL, &p0, &st, &err), MD_OK);
    assert_false(st.warm);
    assert_int_equal(st.patched, m[0]->count);
    assert_same_file(p0, src[0]);
    /* warm */
    assert_int_equal(md_snapcache_get(c, &name[0], m[0], nothing_in_use, NULL, &again, &st, &err), MD_OK);
    assert_true(st.warm);
    assert_string_equal(again, p0);
    /* cold with a neighbour: copied, and only the two changed blocks fetched */
    assert_int_equal(md_snapcache_get(c, &name[1], m[1], nothing_in_use, NULL, &p1, &st, &err), MD_OK);
    assert_false(st.warm);
    assert_int_equal(st.patched, 2);
    assert_int_equal(st.copied, m[0]->file_size);
    assert_same_file(p1, src[1]);
    assert_same_file(p0, src[0]); /* the neighbour is untouched */
    /* a third file: beyond max_files the least recently used goes, unless in use */
    assert_int_equal(md_snapcache_get(c, &name[2], m[2], first_in_use, p0, &p2, &st, &err), MD_OK);
    assert_int_equal(st.patched, 1);
    assert_same_file(p2, src[2]);
    assert_int_equal(access(p0, F_OK), 0); /* in use: kept although oldest */
    assert_int_not_equal(access(p1, F_OK), 0);
    /* a reader moving on: v2's file (not in use, one name) becomes v1's in
     * place -- only the differing blocks are written, nothing copied */
    char *moved = NULL;
    assert_int_equal(md_snapcache_move(c, p2, m[2], &name[1], m[1], nothing_in_use, NULL, &moved, &st, &err), MD_OK);
    assert_int_equal(st.patched, 1); /* v1 and v2 differ in one block */
    assert_int_equal(st.copied, 0);
    assert_same_file(moved, src[1]);
    assert_int_not_equal(access(p2, F_OK), 0); /* v2 left the cache */
    /* a file that is in use is not taken: the target is built beside it */
    char *again2 = NULL;
    assert_int_equal(md_snapcache_move(c, p0, m[0], &name[2], m[2], first_in_use, p0, &again2, &st, &err), MD_OK);
    assert_int_equal(access(p0, F_OK), 0);
    assert_same_file(again2, src[2]);
    md_free(moved);
    md_free(again2);
    md_snapcache_close(&c);
    assert_null(c);
    for (int v = 0; v < 3; v++) {
        md_manifest_free(&m[v]);
        md_free(src[v]);
    }
    md_free(p0);
    md_free(p1);
    md_free(p2);
    md_free(again);
    md_free(dir);
}

static void named_snapshots_copy_the_head_and_dropped_databases_are_listed(void **state) {
    fixture *f = *state;
    md_dbmeta *m = NULL;
    char *err = NULL;
    assert_int_equal(md_dbmeta_open(f->dir, &m, &err), MD_OK);
    int64_t db, s1, s2, named, other;
    assert_int_equal(md_dbmeta_db_create(m, "alice", "d", 0, &db), MD_OK);
    assert_int_equal(md_dbmeta_snapshot_mark(m, db, "early", &named), MD_ENOT_FOUND); /* no head yet */
    assert_int_equal(md_dbmeta_lease_acquire(m, db, "w", 60000, NULL), MD_OK);
    md_hash h;
    md_hash_of("manifest", 8, &h);
    assert_int_equal(md_dbmeta_snapshot_commit(m, db, "w", 0, &h, 100, 100, NULL, &s1), MD_OK);
    assert_int_equal(md_dbmeta_snapshot_mark(m, db, "nightly", &named), MD_OK);
    assert_true(named > s1);
    assert_int_equal(md_dbmeta_snapshot_mark(m, db, "nightly", &other), MD_EEXISTS);
    assert_int_equal(md_dbmeta_snapshot_mark(m, db, NULL, &other), MD_OK); /* unnamed ones may repeat */
    md_snapshot_row row;
    assert_int_equal(md_dbmeta_snapshot_get(m, named, keep_snap, &row), MD_OK);
    assert_true(md_hash_equal(&row.manifest, &h));
    assert_int_equal(row.bytes_added, 0);
    /* the head did not move: the writer's next commit still fits */
    assert_int_equal(md_dbmeta_snapshot_commit(m, db, "w", s1, &h, 100, 0, NULL, &s2), MD_OK);
    int n = 0;
    assert_int_equal(md_dbmeta_db_list_dropped(m, "alice", count_db, &n), MD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(md_dbmeta_db_drop(m, "alice", "d"), MD_OK);
    assert_int_equal(md_dbmeta_db_list_dropped(m, "alice", count_db, &n), MD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(md_dbmeta_snapshot_mark(m, db, "late", &other), MD_ENOT_FOUND); /* dropped */
    md_dbmeta_close(&m);
}

int main(void) {
    md_manifest_space_of("alice", &ALICE);
    md_manifest_space_of("bob", &BOB);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_hex_round_trip),
        cmocka_unit_test_setup_teardown(objects_are_stored_once_by_content, setup, teardown),
        cmocka_unit_test_setup_teardown(damaged_objects_are_detected_on_read, setup, teardown),
        cmocka_unit_test_setup_teardown(interrupted_puts_are_cleaned_up_on_open, setup, teardown),
        cmocka_unit_test(entry_count_and_ranges_follow_duckdb_blocks),
        cmocka_unit_test(manifest_round_trip_and_bad_encodings),
        cmocka_unit_test(diff_lists_changed_and_new_entries),
        cmocka_unit_test_setup_teardown(capture_stores_only_changed_blocks_and_materializes_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_reports_missing_and_damaged_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(block_spaces_keep_users_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(version_1_manifests_are_read_and_their_next_capture_moves_into_a_space, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sweep_keeps_what_roots_reach_and_removes_the_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(tracked_writes_cover_every_change_duckdb_makes, setup, teardown),
        cmocka_unit_test_setup_teardown(databases_names_drop_and_undrop, setup, teardown),
        cmocka_unit_test_setup_teardown(leases_guard_the_commit_point, setup, teardown),
        cmocka_unit_test_setup_teardown(gc_roots_follow_heads_names_retention_and_clones, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshot_cache_builds_patches_and_evicts, setup, teardown),
        cmocka_unit_test_setup_teardown(named_snapshots_copy_the_head_and_dropped_databases_are_listed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

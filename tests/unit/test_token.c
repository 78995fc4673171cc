/*
 * test_token.c: token generation, shape and hashing (server/token.c), and
 * the metadata store's token life cycle (server/meta.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/meta.h"
#include "server/token.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

static void generated_tokens_are_well_formed_and_distinct(void **state) {
    char a[MD_TOKEN_LEN + 1], b[MD_TOKEN_LEN + 1];
    assert_int_equal(md_token_generate(a), MD_OK);
    assert_int_equal(md_token_generate(b), MD_OK);
    assert_int_equal(strlen(a), MD_TOKEN_LEN);
    assert_true(md_token_well_formed(a));
    assert_string_not_equal(a, b);
    /* 256 bits: over many tokens every base64url character shows up. */
    int seen[256] = {0};
    for (int i = 0; i < 400; i++) {
        assert_int_equal(md_token_generate(a), MD_OK);
        for (const char *p = a + 4; *p; p++) seen[(unsigned char)*p] = 1;
    }
    int distinct = 0;
    for (int i = 0; i < 256; i++) distinct += seen[i];
    assert_int_equal(distinct, 64);
}

static void malformed_tokens_are_rejected(void **state) {
    assert_false(md_token_well_formed(NULL));
    assert_false(md_token_well_formed(""));
    assert_false(md_token_well_formed("mdt_short"));
    char t[MD_TOKEN_LEN + 1];
    md_token_generate(t);
    t[10] = '!';
    assert_false(md_token_well_formed(t));
    md_token_generate(t);
    t[0] = 'x';
    assert_false(md_token_well_formed(t));
}

static void hash_is_sha256_hex(void **state) {
    char h[MD_TOKEN_HASH_LEN + 1];
    md_token_hash("abc", h); /* FIPS 180-2 test vector */
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    md_token_hash("", h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void meta_token_life_cycle(void **state) {
    char dir[] = "/tmp/md-test-meta-XXXXXX";
    assert_non_null(mkdtemp(dir));
    md_meta *m = NULL;
    char *err = NULL;
    assert_int_equal(md_meta_open(dir, &m, &err), MD_OK);
    assert_int_equal(md_meta_user_ensure(m, "Bad Name", NULL, 0, NULL), MD_EINVAL);
    int created = 0;
    assert_int_equal(md_meta_user_ensure(m, "alice", NULL, 0, &created), MD_OK);
    assert_true(created);
    assert_int_equal(md_meta_user_ensure(m, "alice", "other", 0, &created), MD_OK);
    assert_false(created);
    assert_int_equal(md_meta_user_ensure(m, "bob", "acme", 0, &created), MD_OK);
    char *org = NULL;
    assert_int_equal(md_meta_user_org(m, "alice", &org), MD_OK);
    assert_string_equal(org, MD_META_DEFAULT_ORG);
    md_free(org);
    assert_int_equal(md_meta_user_org(m, "bob", &org), MD_OK);
    assert_string_equal(org, "acme");
    md_free(org);
    char tok[MD_TOKEN_LEN + 1], hash[MD_TOKEN_HASH_LEN + 1];
    md_token_generate(tok);
    md_token_hash(tok, hash);
    long id = 0;
    assert_int_equal(md_meta_token_add(m, "nobody", hash, "mdt_xxxx", MD_TOKEN_READ_ONLY, NULL, 0, &id),
                     MD_ENOT_FOUND);
    assert_int_equal(md_meta_token_add(m, "alice", hash, "mdt_xxxx", MD_TOKEN_READ_ONLY, "ci", 0, &id), MD_OK);
    md_auth a;
    int expired = 1;
    assert_int_equal(md_meta_token_lookup(m, hash, &a, &expired), MD_OK);
    assert_string_equal(a.user, "alice");
    assert_int_equal(a.kind, MD_TOKEN_READ_ONLY);
    assert_int_equal(a.token_id, id);
    assert_false(expired);
    md_meta_auth_free(&a);
    assert_true(md_meta_token_valid(m, id));
    assert_int_equal(md_meta_token_revoke(m, id, "bob"), MD_ENOT_FOUND); /* not bob's */
    assert_int_equal(md_meta_token_revoke(m, id, NULL), MD_OK);
    assert_int_equal(md_meta_token_revoke(m, id, NULL), MD_ENOT_FOUND);
    assert_int_equal(md_meta_token_lookup(m, hash, &a, &expired), MD_EAUTH);
    assert_false(md_meta_token_valid(m, id));
    /* an issued token works until its user is deleted, whose name is then never given again */
    char issued[MD_TOKEN_LEN + 1];
    assert_int_equal(md_token_issue(m, "bob", MD_TOKEN_READ_SCALING, NULL, 3600, issued, &id), MD_OK);
    md_token_hash(issued, hash);
    assert_int_equal(md_meta_token_lookup(m, hash, &a, &expired), MD_OK);
    assert_int_equal(a.kind, MD_TOKEN_READ_SCALING);
    md_meta_auth_free(&a);
    assert_int_equal(md_meta_user_delete(m, "bob"), MD_OK);
    assert_int_equal(md_meta_user_delete(m, "bob"), MD_ENOT_FOUND);
    assert_int_equal(md_meta_token_lookup(m, hash, &a, &expired), MD_EAUTH);
    assert_int_equal(md_meta_user_ensure(m, "bob", NULL, 0, NULL), MD_EEXISTS);
    long n = 0;
    assert_int_equal(md_meta_user_count(m, &n), MD_OK);
    assert_int_equal(n, 1);
    md_meta_close(&m);
    assert_null(m);
    char *cmd = md_asprintf("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    md_free(cmd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_tokens_are_well_formed_and_distinct),
        cmocka_unit_test(malformed_tokens_are_rejected),
        cmocka_unit_test(hash_is_sha256_hex),
        cmocka_unit_test(meta_token_life_cycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

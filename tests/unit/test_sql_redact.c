/*
 * test_sql_redact.c: secret values out of SQL text (shared/sql_redact.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shared/md_alloc.h"
#include "shared/sql_redact.h"

static void check(const char *in, const char *want) {
    char *out = md_sql_redact_secrets(in, strlen(in));
    assert_string_equal(out, want);
    md_free(out);
}

static void secrets_are_redacted(void **state) {
    check("CREATE SECRET s IN MOTHERDUCK (TYPE s3, KEY_ID 'AKIA', SECRET 'abc''def', REGION 'x')",
          "CREATE SECRET s IN MOTHERDUCK (TYPE s3, KEY_ID '***', SECRET '***', REGION '***')");
    check("create or replace persistent secret (type http, bearer_token $$tok$$) -- note",
          "create or replace persistent secret (type http, bearer_token '***')  ");
    check("CREATE TEMPORARY SECRET t (TYPE http, /* 'hidden' */ BEARER_TOKEN E'a\\'b')",
          "CREATE TEMPORARY SECRET t (TYPE http,   BEARER_TOKEN '***')");
    /* other statements of the same text are kept */
    check("SELECT 'keep'; CREATE SECRET x IN MD (TYPE http, BEARER_TOKEN 'gone'); SELECT 'also kept'",
          "SELECT 'keep'; CREATE SECRET x IN MD (TYPE http, BEARER_TOKEN '***'); SELECT 'also kept'");
    check("SELECT 'secret' AS word", "SELECT 'secret' AS word");
    /* text that does not lex: kept only if it names no secret */
    check("SELECT 'unterminated", "SELECT 'unterminated");
    check("CREATE SECRET x (TYPE http, BEARER_TOKEN 'unterminated", "-- redacted: a CREATE SECRET statement");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(secrets_are_redacted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

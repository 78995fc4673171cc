/*
 * test_sql_lexer.c: the DuckDB SQL lexer and statement splitter
 * (shared/sql_lexer.c): quoting, comments, dollar quotes, parameters,
 * numbers, operators, byte positions, errors, splitting, token values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "shared/sql_lexer.h"

typedef struct lexed {
    md_sql_token *t;
    size_t n;
} lexed;

static lexed lex(const char *sql, unsigned flags) {
    lexed l = {0};
    md_sql_error e;
    int rc = md_sql_lex(sql, strlen(sql), flags, &l.t, &l.n, &e);
    if (rc != MD_OK) fail_msg("lex failed for <%s>: %s at %u", sql, e.message, e.position);
    return l;
}

/* Assert token k has this type and exactly this text. */
static void tok_is(const char *sql, const lexed *l, size_t k, md_sql_tok_type type, const char *text) {
    if (k >= l->n) fail_msg("token %zu missing in <%s> (%zu tokens)", k, sql, l->n);
    const md_sql_token *t = &l->t[k];
    if (t->type != type || t->len != strlen(text) || memcmp(sql + t->off, text, t->len) != 0)
        fail_msg("token %zu of <%s>: got %s <%.*s>, want %s <%s>", k, sql, md_sql_token_type_name(t->type),
                 (int)t->len, sql + t->off, md_sql_token_type_name(type), text);
}

static void keyword_table_sorted_and_found(void **state) {
    for (int k = 1; k + 1 < MD_KW__COUNT; k++) {
        const char *a = md_sql_keyword_name((md_sql_kw)k), *b = md_sql_keyword_name((md_sql_kw)(k + 1));
        if (strcmp(a, b) >= 0) fail_msg("keyword table out of order at %s, %s", a, b);
        assert_int_equal(md_sql_keyword_find(a, strlen(a)), k);
    }
    assert_int_equal(md_sql_keyword_find("select", 6), MD_KW_SELECT);
    assert_int_equal(md_sql_keyword_find("SeLeCt", 6), MD_KW_SELECT);
    assert_int_equal(md_sql_keyword_find("selects", 7), MD_NOT_KEYWORD);
    assert_int_equal(md_sql_keyword_find("current_date", 12), MD_NOT_KEYWORD);
    assert_int_equal(md_sql_keyword_find("CONCURRENTLY", 12), MD_KW_CONCURRENTLY);
    assert_int_equal(md_sql_keyword_category(MD_KW_FROM), MD_KWCAT_RESERVED);
    assert_int_equal(md_sql_keyword_category(MD_KW_JOIN), MD_KWCAT_TYPE_FUNC);
    assert_int_equal(md_sql_keyword_category(MD_KW_SHARE), MD_KWCAT_UNRESERVED);
    assert_int_equal(md_sql_keyword_category(MD_KW_MOTHERDUCK), MD_KWCAT_MDSERVER);
    assert_string_equal(md_sql_keyword_name(MD_KW_ASOF), "ASOF");
    assert_string_equal(md_sql_keyword_name(MD_NOT_KEYWORD), "");
}

static void words_and_keywords(void **state) {
    const char *sql = "SELECT a_1, Ünïcode, $x2 FROM \"Tab\"\"le\" select";
    lexed l = lex(sql, 0);
    tok_is(sql, &l, 0, MD_TOK_KEYWORD, "SELECT");
    assert_int_equal(l.t[0].kw, MD_KW_SELECT);
    tok_is(sql, &l, 1, MD_TOK_IDENT, "a_1");
    tok_is(sql, &l, 2, MD_TOK_PUNCT, ",");
    tok_is(sql, &l, 3, MD_TOK_IDENT, "Ünïcode");
    tok_is(sql, &l, 5, MD_TOK_PARAM, "$x2");
    tok_is(sql, &l, 6, MD_TOK_KEYWORD, "FROM");
    tok_is(sql, &l, 7, MD_TOK_QIDENT, "\"Tab\"\"le\"");
    tok_is(sql, &l, 8, MD_TOK_KEYWORD, "select");
    assert_int_equal(l.n, 9);
    char *v = md_sql_token_value(sql, &l.t[7], NULL);
    assert_string_equal(v, "Tab\"le");
    md_free(v);
    md_free(l.t);
}

static void strings_and_escapes(void **state) {
    const char *sql = "'it''s' E'a\\'b\\n' e'\\\\' X'1F' B'01' 'back\\slash' ''";
    lexed l = lex(sql, 0);
    assert_int_equal(l.n, 7);
    tok_is(sql, &l, 0, MD_TOK_STRING, "'it''s'");
    tok_is(sql, &l, 1, MD_TOK_STRING, "E'a\\'b\\n'");
    tok_is(sql, &l, 2, MD_TOK_STRING, "e'\\\\'");
    tok_is(sql, &l, 3, MD_TOK_STRING, "X'1F'");
    tok_is(sql, &l, 4, MD_TOK_STRING, "B'01'");
    tok_is(sql, &l, 5, MD_TOK_STRING, "'back\\slash'");
    tok_is(sql, &l, 6, MD_TOK_STRING, "''");
    struct { size_t k; const char *value; } want[] = {
        {0, "it's"}, {1, "a'b\n"}, {2, "\\"}, {3, "1F"}, {5, "back\\slash"}, {6, ""},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char *v = md_sql_token_value(sql, &l.t[want[i].k], NULL);
        assert_string_equal(v, want[i].value);
        md_free(v);
    }
    md_free(l.t);
}

static void dollar_quotes(void **state) {
    const char *sql = "SELECT $$a;'b$$, $fn$ x $$ y; $fn$, $1, $fn";
    lexed l = lex(sql, 0);
    tok_is(sql, &l, 1, MD_TOK_DOLLAR, "$$a;'b$$");
    tok_is(sql, &l, 3, MD_TOK_DOLLAR, "$fn$ x $$ y; $fn$");
    tok_is(sql, &l, 5, MD_TOK_PARAM, "$1");
    tok_is(sql, &l, 7, MD_TOK_PARAM, "$fn");
    assert_int_equal(l.n, 8);
    char *v = md_sql_token_value(sql, &l.t[3], NULL);
    assert_string_equal(v, " x $$ y; ");
    md_free(v);
    v = md_sql_token_value(sql, &l.t[1], NULL);
    assert_string_equal(v, "a;'b");
    md_free(v);
    md_free(l.t);
}

static void comments(void **state) {
    const char *sql = "SELECT /* a /* nested */ still; comment */ 1 -- rest; of line\n+ 2 --";
    lexed l = lex(sql, 0);
    assert_int_equal(l.n, 4);
    tok_is(sql, &l, 1, MD_TOK_NUMBER, "1");
    tok_is(sql, &l, 2, MD_TOK_OP, "+");
    tok_is(sql, &l, 3, MD_TOK_NUMBER, "2");
    md_free(l.t);
    l = lex(sql, MD_SQL_LEX_COMMENTS);
    assert_int_equal(l.n, 7);
    tok_is(sql, &l, 1, MD_TOK_COMMENT, "/* a /* nested */ still; comment */");
    tok_is(sql, &l, 3, MD_TOK_COMMENT, "-- rest; of line");
    tok_is(sql, &l, 6, MD_TOK_COMMENT, "--");
    md_free(l.t);
}

static void numbers_operators_params(void **state) {
    const char *sql = "1 1_000 1.5e-3 .5 0x1F 0b101 a::INT b->>'k' f(x => 1, y := 2) x<>-1 s.x t.\"c\" ? ?2 a--c\n";
    lexed l = lex(sql, 0);
    size_t k = 0;
    tok_is(sql, &l, k++, MD_TOK_NUMBER, "1");
    tok_is(sql, &l, k++, MD_TOK_NUMBER, "1_000");
    tok_is(sql, &l, k++, MD_TOK_NUMBER, "1.5e-3");
    tok_is(sql, &l, k++, MD_TOK_NUMBER, ".5");
    tok_is(sql, &l, k++, MD_TOK_NUMBER, "0x1F");
    tok_is(sql, &l, k++, MD_TOK_NUMBER, "0b101");
    tok_is(sql, &l, k++, MD_TOK_IDENT, "a");
    tok_is(sql, &l, k++, MD_TOK_OP, "::");
    tok_is(sql, &l, k++, MD_TOK_KEYWORD, "INT");
    tok_is(sql, &l, k++, MD_TOK_IDENT, "b");
    tok_is(sql, &l, k++, MD_TOK_OP, "->>");
    tok_is(sql, &l, k++, MD_TOK_STRING, "'k'");
    tok_is(sql, &l, k++, MD_TOK_IDENT, "f");
    tok_is(sql, &l, k++, MD_TOK_PUNCT, "(");
    tok_is(sql, &l, k++, MD_TOK_IDENT, "x");
    tok_is(sql, &l, k++, MD_TOK_OP, "=>");
    tok_is(sql, &l, k++, MD_TOK_NUMBER, "1");
    tok_is(sql, &l, k++, MD_TOK_PUNCT, ",");
    tok_is(sql, &l, k++, MD_TOK_IDENT, "y");
    tok_is(sql, &l, k++, MD_TOK_OP, ":=");
    k += 2; /* 2 ) */
    tok_is(sql, &l, k++, MD_TOK_IDENT, "x");
    tok_is(sql, &l, k++, MD_TOK_OP, "<>-");
    tok_is(sql, &l, k++, MD_TOK_NUMBER, "1");
    tok_is(sql, &l, k++, MD_TOK_IDENT, "s");
    tok_is(sql, &l, k++, MD_TOK_PUNCT, ".");
    tok_is(sql, &l, k++, MD_TOK_IDENT, "x");
    tok_is(sql, &l, k++, MD_TOK_IDENT, "t");
    tok_is(sql, &l, k++, MD_TOK_PUNCT, ".");
    tok_is(sql, &l, k++, MD_TOK_QIDENT, "\"c\"");
    tok_is(sql, &l, k++, MD_TOK_PARAM, "?");
    tok_is(sql, &l, k++, MD_TOK_PARAM, "?2");
    tok_is(sql, &l, k++, MD_TOK_IDENT, "a");
    assert_int_equal(l.n, k); /* "--c" is a comment, not an operator */
    md_free(l.t);
}

static void positions_are_bytes(void **state) {
    /* "é" is two bytes: the positions after it move by two. */
    const char *sql = "SELECT 'é', \"ß\" FROM t";
    lexed l = lex(sql, 0);
    assert_int_equal(l.t[1].off, 7);
    assert_int_equal(l.t[1].len, 4);
    assert_int_equal(l.t[3].off, 13);
    assert_int_equal(l.t[3].len, 4);
    assert_int_equal(l.t[4].off, 18);
    assert_int_equal(l.t[5].off, 23);
    md_free(l.t);
}

static void unterminated_constructs_fail_at_their_start(void **state) {
    struct { const char *sql; uint32_t pos; const char *says; } cases[] = {
        {"SELECT 'abc", 7, "unterminated quoted string"},
        {"SELECT 'it''", 7, "unterminated quoted string"},
        {"SELECT E'a\\'", 7, "unterminated quoted string"},
        {"SELECT \"col", 7, "unterminated quoted identifier"},
        {"SELECT 1 /* a /* b */", 9, "unterminated /* comment"},
        {"SELECT $$abc$", 7, "dollar-quoted"},
        {"SELECT $t$abc$$", 7, "dollar-quoted"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        md_sql_token *t = (md_sql_token *)1;
        size_t n = 99;
        md_sql_error e;
        assert_int_equal(md_sql_lex(cases[i].sql, strlen(cases[i].sql), 0, &t, &n, &e), MD_ESQL);
        if (e.position != cases[i].pos || !strstr(e.message, cases[i].says))
            fail_msg("<%s>: got \"%s\" at %u", cases[i].sql, e.message, e.position);
        assert_ptr_equal(t, (md_sql_token *)1); /* out parameters untouched */
        assert_int_equal(n, 99);
    }
    const char nul[] = "SELECT 1\0; DROP";
    md_sql_token *t;
    size_t n;
    md_sql_error e;
    assert_int_equal(md_sql_lex(nul, sizeof nul - 1, 0, &t, &n, &e), MD_ESQL);
    assert_int_equal(e.position, 8);
}

static void split_statements(void **state) {
    const char *sql = ";; SELECT ';' /* ; */ ; -- ;\n SELECT $$;$$;\n; FROM \"a;b\";";
    lexed l = lex(sql, 0);
    md_sql_span *spans;
    size_t n;
    md_sql_split(l.t, l.n, &spans, &n);
    assert_int_equal(n, 3);
    const char *want[] = {"SELECT ';'", "SELECT $$;$$", "FROM \"a;b\""};
    for (size_t k = 0; k < n; k++) {
        const md_sql_token *a = &l.t[spans[k].first], *b = &l.t[spans[k].first + spans[k].count - 1];
        size_t len = b->off + b->len - a->off;
        if (len != strlen(want[k]) || memcmp(sql + a->off, want[k], len) != 0)
            fail_msg("statement %zu: <%.*s>", k, (int)len, sql + a->off);
    }
    md_free(spans);
    md_free(l.t);
    md_sql_split(NULL, 0, &spans, &n);
    assert_int_equal(n, 0);
    assert_null(spans);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keyword_table_sorted_and_found),
        cmocka_unit_test(words_and_keywords),
        cmocka_unit_test(strings_and_escapes),
        cmocka_unit_test(dollar_quotes),
        cmocka_unit_test(comments),
        cmocka_unit_test(numbers_operators_params),
        cmocka_unit_test(positions_are_bytes),
        cmocka_unit_test(unterminated_constructs_fail_at_their_start),
        cmocka_unit_test(split_statements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

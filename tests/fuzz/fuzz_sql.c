/*
 * fuzz_sql.c: libFuzzer target for the SQL lexer and classifier
 * (shared/sql_lexer.c, shared/sql_classify.c), which see every keystroke a
 * user types.  Invariants checked on any input: tokens lie inside the text,
 * in order, without overlap; statement spans cover valid token ranges;
 * every statement, relation and cut lies inside the text; an error position
 * lies inside the text (or at its end).
 */
#include <stdint.h>
#include <stdlib.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "shared/sql_classify.h"
#include "shared/sql_lexer.h"

#define CHECK(c) \
    do {         \
        if (!(c)) abort(); \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *sql = (const char *)data;
    md_sql_token *toks = NULL;
    size_t ntoks = 0;
    md_sql_error err;
    if (md_sql_lex(sql, size, 0, &toks, &ntoks, &err) == MD_OK) {
        uint32_t prev_end = 0;
        for (size_t i = 0; i < ntoks; i++) {
            CHECK(toks[i].off >= prev_end);
            CHECK((size_t)toks[i].off + toks[i].len <= size);
            prev_end = toks[i].off + toks[i].len;
        }
        md_sql_span *spans = NULL;
        size_t nspans = 0;
        md_sql_split(toks, ntoks, &spans, &nspans);
        for (size_t i = 0; i < nspans; i++) CHECK(spans[i].first + spans[i].count <= ntoks);
        md_free(spans);
        md_free(toks);
    } else {
        CHECK(err.position <= size);
    }
    md_sql_script *script = NULL;
    if (md_sql_classify(sql, size, &script, &err) == MD_OK) {
        for (size_t i = 0; i < script->nstmts; i++) {
            const md_sql_stmt *st = &script->stmts[i];
            CHECK(st->start <= st->end && st->end <= size);
            for (size_t r = 0; r < st->nrels; r++) {
                CHECK(st->rels[r].start <= st->rels[r].end && st->rels[r].end <= size);
                CHECK(st->rels[r].nparts >= 0 && st->rels[r].nparts <= 3);
            }
            for (size_t c = 0; c < st->ncuts; c++) CHECK(st->cuts[c].end <= size);
        }
        md_sql_script_free(&script);
        CHECK(script == NULL);
    } else {
        CHECK(err.position <= size);
    }
    return 0;
}

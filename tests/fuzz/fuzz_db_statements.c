/*
 * fuzz_db_statements.c: libFuzzer target for the parser of the server's own
 * SQL (server/storage/db_statements.c: CREATE/DROP DATABASE, ATTACH 'md:',
 * snapshots, statement_timeout), which reads every request first.
 * Invariants checked: statement spans lie inside the text, in order; the
 * count of ours is right; an error's position lies inside the text.
 * fuzz-sources: server/storage/db_statements.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/storage/db_statements.h"
#include "shared/md_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    md_dbscript *scr = NULL;
    md_sql_error e;
    size = strnlen((const char *)data, size); /* the server's SQL is a C string */
    if (md_dbscript_parse((const char *)data, size, &scr, &e) == MD_OK) {
        if (!scr) return 0;
        size_t ours = 0;
        uint32_t prev = 0;
        for (size_t i = 0; i < scr->n; i++) {
            const md_dbscript_stmt *s = &scr->stmts[i];
            if (s->start < prev || s->start > s->end || s->end > size) abort();
            prev = s->end;
            ours += s->st.kind != MD_DBSTMT_NONE;
        }
        if (ours != scr->ours) abort();
        md_dbscript_free(&scr);
    } else if (e.position > size) {
        abort();
    }
    return 0;
}

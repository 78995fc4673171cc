/*
 * fuzz_session_option.c: libFuzzer target for the server's reader of SET,
 * RESET, PRAGMA and EXPLAIN statements (shared/session_option.c), which
 * decides what a user may change on the server.
 * Invariants checked: an accepted SET is written as a statement that the
 * reader accepts again and writes the same way (what runs is what was
 * checked); a refusal's position lies inside the text; a server setting has
 * no SQL and a non-negative timeout.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "shared/session_option.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *sql = (const char *)data;
    size = strnlen(sql, size); /* the server's SQL is a C string (JSON cannot carry NUL to it) */
    md_session_set set;
    md_sql_error e;
    if (md_session_set_read(sql, size, &set, &e) == MD_OK) {
        if (set.server_setting) {
            if (set.sql || set.timeout_ms < 0) abort();
        } else {
            if (!set.sql) abort();
            md_session_set again;
            if (md_session_set_read(set.sql, strlen(set.sql), &again, &e) != MD_OK) abort();
            if (strcmp(again.sql, set.sql) != 0 || again.option != set.option) abort();
            md_free(again.sql);
            md_free(set.sql);
        }
    } else if (e.position > size) {
        abort();
    }
    if (md_session_explain_check(sql, size, &e) != MD_OK && e.position > size) abort();
    if (md_session_pragma_check(sql, size, &e) != MD_OK && e.position > size) abort();
    if (md_session_calls_check(sql, size, &e) != MD_OK && e.position > size) abort();
    return 0;
}

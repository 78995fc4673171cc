/*
 * answer_sql.c: SQL literals for the answers of the server's statements
 * (answer_sql.h).
 */
#include "server/storage/answer_sql.h"

#include <stdio.h>
#include <string.h>

void md_answer_put(md_buf *b, const char *sql) { md_buf_append(b, sql, strlen(sql)); }

void md_answer_text(md_buf *b, const char *s) {
    if (!s) {
        md_answer_put(b, "NULL::VARCHAR");
        return;
    }
    md_buf_put_quoted(b, s, '\'');
    md_answer_put(b, "::VARCHAR");
}

void md_answer_int(md_buf *b, int64_t v, int null_if_zero) {
    char n[40];
    if (null_if_zero && v == 0) snprintf(n, sizeof n, "NULL::BIGINT");
    else snprintf(n, sizeof n, "%lld::BIGINT", (long long)v);
    md_answer_put(b, n);
}

void md_answer_time(md_buf *b, const char *t) {
    if (!t) {
        md_answer_put(b, "NULL::TIMESTAMP");
        return;
    }
    md_answer_text(b, t);
    md_answer_put(b, "::TIMESTAMP");
}

char *md_answer_finish(md_buf *b) {
    md_buf_put_u8(b, 0);
    size_t n;
    return (char *)md_buf_detach(b, &n);
}

char *md_answer_status(const char *db, int64_t snapshot, const char *status) {
    md_buf b = MD_BUF_INIT;
    md_answer_put(&b, "SELECT ");
    md_answer_text(&b, db);
    md_answer_put(&b, " AS database_name, ");
    md_answer_int(&b, snapshot, 1);
    md_answer_put(&b, " AS snapshot_id, ");
    md_answer_text(&b, status);
    md_answer_put(&b, " AS status");
    return md_answer_finish(&b);
}

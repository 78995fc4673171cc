/*
 * answer_sql.h: building the SQL that answers the server's own statements
 * (dbcommands.h, sharecommands.h).  An answer is a SELECT of typed
 * literals the duckling runs and streams like any result, so DuckDB gives
 * it its schema and clients need nothing but SQL.  Every literal is quoted
 * here.
 */
#ifndef MD_ANSWER_SQL_H
#define MD_ANSWER_SQL_H

#include <stdint.h>

#include "shared/md_buf.h"

/* Append raw SQL text. */
void md_answer_put(md_buf *b, const char *sql);

/* 'text'::VARCHAR, or NULL::VARCHAR for NULL. */
void md_answer_text(md_buf *b, const char *s);

/* v::BIGINT, or NULL::BIGINT when null_if_zero and v is 0. */
void md_answer_int(md_buf *b, int64_t v, int null_if_zero);

/* 'time'::TIMESTAMP, or NULL::TIMESTAMP for NULL. */
void md_answer_time(md_buf *b, const char *t);

/* The text of b, NUL-terminated (b is emptied; caller frees). */
char *md_answer_finish(md_buf *b);

/* The one-row answer database_name VARCHAR, snapshot_id BIGINT (NULL for
 * 0), status VARCHAR. */
char *md_answer_status(const char *db, int64_t snapshot, const char *status);

#endif

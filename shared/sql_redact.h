/*
 * sql_redact.h: SQL text with the values of secrets taken out, for what
 * the server keeps of what users ran (query history).
 *
 * In every CREATE [OR REPLACE] [PERSISTENT|TEMPORARY] SECRET statement,
 * each string literal (and $$dollar$$ string) after the statement's first
 * "(" becomes '***'; comments in it go too (a value may sit in one).
 * Everything else is kept byte for byte.  Text that does not lex is
 * returned whole only if it has no SECRET word at all, else as
 * "-- redacted: a CREATE SECRET statement".
 */
#ifndef MD_SQL_REDACT_H
#define MD_SQL_REDACT_H

#include <stddef.h>

/* The redacted text of sql[0..len), NUL-terminated (caller frees with md_free). */
char *md_sql_redact_secrets(const char *sql, size_t len);

#endif

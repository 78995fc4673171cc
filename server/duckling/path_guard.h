/*
 * path_guard.h: the server's own files, out of reach of a user's SQL.
 *
 * A duckling's DuckDB may open files in the user's directory, which holds
 * the working files of the user's snapshot-stored databases (databases/).
 * DuckDB knows an attached file by the text of its path: attaching one of
 * those files again under another spelling (a double slash, ./, ..,
 * file://) opens it twice, and writes through the second handle bypass the
 * snapshot store (a head that could not be read after a crash).  So before
 * DuckDB runs an ATTACH, a COPY or an EXPORT DATABASE, the duckling asks
 * here whether a file it names lies in a protected directory, after
 * resolving the path the way the file system will (relative to the working
 * directory, '.', '..', repeated slashes, symbolic links, a file:// prefix).
 *
 * Targets read from each statement of a request (shared/sql_lexer.h), at
 * the first of these words in it (so EXPLAIN ANALYZE and PREPARE ... AS
 * before them change nothing):
 *   ATTACH [DATABASE] [OR REPLACE] [IF NOT EXISTS] 'path' ...
 *   COPY ... TO 'path' ...            (COPY ... FROM 'file' only reads)
 *   EXPORT DATABASE [db TO] 'path' ...
 *   IMPORT DATABASE 'dir'             the statements of dir/schema.sql and
 *                                     dir/load.sql, which DuckDB runs, are
 *                                     checked the same way
 * An ATTACH or EXPORT whose target is not a string literal is refused: its
 * path is only known when DuckDB evaluates it.  ATTACH 'md:...' is the
 * server's own statement (storage/db_statements.h) and is let through.
 */
#ifndef MD_PATH_GUARD_H
#define MD_PATH_GUARD_H

#include <stddef.h>

#include "shared/sql_lexer.h"

/*
 * Check the request sql[0..len), run with working directory `cwd`
 * (absolute), against `protected_dir` (absolute, canonical, no trailing
 * slash).  MD_OK (also for text the lexer cannot read: DuckDB reports
 * it), or MD_EPERMISSION with a sentence and the position of the path in
 * *err.
 */
int md_path_guard_check(const char *sql, size_t len, const char *cwd, const char *protected_dir, md_sql_error *err);

/*
 * The absolute form of `path` as the file system would resolve it from
 * `cwd`: a file:// prefix dropped, '.', '..' and repeated slashes removed,
 * and the symbolic links of its longest existing prefix followed
 * (md_malloc'd).
 */
char *md_path_resolve(const char *cwd, const char *path);

#endif

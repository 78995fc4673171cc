/*
 * sqlite_file.h: how the server opens its sqlite3 files (the users' and
 * tokens' metadata, the databases' metadata, the workspace store): safe
 * from any thread, WAL (a command such as `mdserver token` may write while
 * a server runs), a 10 s wait on a lock, foreign keys on, synchronous FULL.
 */
#ifndef MD_SQLITE_FILE_H
#define MD_SQLITE_FILE_H

#include <sqlite3.h>

/*
 * Open (creating if needed) <data_dir>/<file> and run `setup_sql` (its
 * schema; may be NULL).  MD_OK, or MD_EIO with *out_err (caller frees):
 * "cannot open <what> <path>: <why>".
 */
int md_sqlite_open(const char *data_dir, const char *file, const char *what, const char *setup_sql, sqlite3 **out,
                   char **out_err);

#endif

/*
 * sqlite_file.c: opening the server's sqlite3 files (see sqlite_file.h).
 */
#include "sqlite_file.h"

#include "shared/md_alloc.h"
#include "shared/md_error.h"

int md_sqlite_open(const char *data_dir, const char *file, const char *what, const char *setup_sql, sqlite3 **out,
                   char **out_err) {
    char *path = md_asprintf("%s/%s", data_dir, file);
    sqlite3 *db = NULL;
    char *err = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc == SQLITE_OK) sqlite3_busy_timeout(db, 10000);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", NULL,
                          NULL, &err);
    if (rc == SQLITE_OK && setup_sql) rc = sqlite3_exec(db, setup_sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        if (out_err) *out_err = md_asprintf("cannot open %s %s: %s", what, path, err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        sqlite3_close(db);
        md_free(path);
        return MD_EIO;
    }
    md_free(path);
    *out = db;
    return MD_OK;
}

/*
 * slt_file.h: DuckDB's sqllogictest files, read into records.
 *
 * What is understood (DuckDB 1.4's dialect):
 *   statement ok | error | maybe      SQL up to a blank line; for error an
 *                                     optional "----" and the expected message
 *   query <types> [nosort|rowsort|valuesort] [label]
 *                                     SQL, "----", expected values up to a
 *                                     blank line (rows of tab-separated values,
 *                                     or one value per line, or "N values
 *                                     hashing to <md5>")
 *   skipif <db> / onlyif <db>         for the next record (we are "duckdb")
 *   mode skip | mode unskip           records between are skipped
 *   loop v a b / foreach v x y ... / endloop (and their concurrent forms)
 *                                     expanded, ${v} substituted
 *   halt                              the rest of the file is not run
 *   require <what>                    the file is skipped (no extension here)
 *                                     unless it asks for nothing we lack
 *   hash-threshold, # comments, name/group lines: read and ignored
 * Any other directive (load, restart, reconnect, ...) becomes a SKIP record
 * that says which; records mentioning __TEST_DIR__ or data files are
 * skipped with that reason too.  Nothing is skipped silently.
 */
#ifndef SLT_FILE_H
#define SLT_FILE_H

#include <stddef.h>

typedef enum slt_kind { SLT_STATEMENT, SLT_QUERY, SLT_SKIP, SLT_HALT } slt_kind;

typedef enum slt_expect { SLT_OK, SLT_ERROR, SLT_MAYBE } slt_expect;

typedef enum slt_sort { SLT_NOSORT, SLT_ROWSORT, SLT_VALUESORT } slt_sort;

typedef struct slt_record {
    slt_kind kind;
    int line;           /* of the directive, 1-based */
    char *sql;          /* STATEMENT, QUERY */
    slt_expect expect;  /* STATEMENT */
    char *error_text;   /* STATEMENT error: the expected message (may be NULL) */
    char *types;        /* QUERY: one letter per column (I, R, T...) */
    slt_sort sort;      /* QUERY */
    char **expected;    /* QUERY: the expected lines */
    size_t nexpected;
    char *label;        /* QUERY: its result label or NULL (queries of one label answer alike) */
    char *reason;       /* SKIP */
} slt_record;

typedef struct slt_file {
    slt_record *records;
    size_t n;
    char *skip_file; /* non-NULL: the whole file is skipped, and why */
} slt_file;

/* Read `path`.  0 with *out (free with slt_file_free); -1 with *out_err
 * (malloc'd) when the file cannot be read. */
int slt_file_read(const char *path, slt_file **out, char **out_err);

void slt_file_free(slt_file **f);

#endif

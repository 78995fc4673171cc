/*
 * row_table.h: DuckDB table functions whose rows are made by a C callback
 * as text (md_secrets(), md_user_info(), the md_information_schema
 * functions...).
 *
 * A function is declared with its columns (a name and one of the types
 * below each) and at most one VARCHAR parameter.  At bind time the
 * producer fills an md_rowset with every row; each cell is text that
 * DuckDB's own conventions read (BIGINT "42", BOOLEAN "true"/"false",
 * TIMESTAMP "YYYY-MM-DD HH:MM:SS[.ffffff]" UTC, DOUBLE "1.5", INTERVAL a
 * number of microseconds) or NULL.  A
 * cell that does not read as its type is NULL.  The rows are handed out
 * STANDARD_VECTOR_SIZE at a time by the scan.  The listings these serve
 * are small (a user's secrets, databases, sessions), so holding them whole
 * is fine.
 */
#ifndef MD_ROW_TABLE_H
#define MD_ROW_TABLE_H

#include <duckdb.h>
#include <stddef.h>
#include <stdint.h>

typedef enum md_col_type {
    MD_COL_VARCHAR,
    MD_COL_BIGINT,
    MD_COL_BOOLEAN,
    MD_COL_TIMESTAMP,
    MD_COL_DOUBLE,
    MD_COL_INTERVAL /* text: microseconds */
} md_col_type;

typedef struct md_col {
    const char *name;
    md_col_type type;
} md_col;

typedef struct md_rowset md_rowset;

/* Append a row of ncols cells (copied; NULL cells allowed). */
void md_rowset_add(md_rowset *rs, const char *const *cells);

/* Make the rows of a call: arg is the VARCHAR parameter (NULL when the
 * function has none).  MD_OK, or an error code with *out_err (a sentence
 * for the user, caller frees) that fails the query. */
typedef int (*md_row_producer)(void *extra, const char *arg, md_rowset *out, char **out_err);

typedef struct md_row_table {
    const char *name;       /* the SQL name */
    const md_col *cols;
    size_t ncols;
    int has_arg;            /* one VARCHAR parameter */
    md_row_producer produce;
    void *extra;            /* borrowed; must outlive the database */
} md_row_table;

/* A wall-clock time in ms since the epoch as a TIMESTAMP cell ("YYYY-MM-DD HH:MM:SS.fff000"). */
void md_row_time_text(int64_t ms, char out[32]);

/* Register `t` on conn's database.  MD_OK, or MD_EIO with *out_err. */
int md_row_table_register(duckdb_connection conn, const md_row_table *t, char **out_err);

#endif

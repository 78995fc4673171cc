/*
 * catalog_rows.h: the one query that reads a DuckDB's catalog, and how its
 * rows fold into CATALOG JSON (catalog.h has the shape).  The duckling
 * answers CATALOG with it (server/duckdb/catalog_query.c); the dual driver
 * reads the local site's catalog with it: its CATALOG action carries the
 * query, the host (the page's in duckdb-wasm, the terminal's in its DuckDB)
 * runs it and answers the rows as JSON, and the driver folds them.
 *
 * The rows, one per database, schema, table or view, and column, ordered so
 * that each one's parent comes before it:
 *
 *   0 kind       INTEGER  0 database, 1 schema, 2 table or view, 3 column
 *   1 database   VARCHAR
 *   2 schema     VARCHAR  (kinds 1-3)
 *   3 table      VARCHAR  (kinds 2-3)
 *   4 column     VARCHAR  (kind 3)
 *   5 type       VARCHAR  (kind 3: the column's type as DuckDB prints it)
 *   6 read_only  BOOLEAN  (kind 0)
 *   7 view       BOOLEAN  (kind 2)
 *   8 rows       DOUBLE   (kind 2: the estimated rows of a table; NULL for a view)
 *   9 position   INTEGER  (kind 3: the column's index)
 *
 * As JSON (what a host answers): an array of such rows, each an array of
 * ten values (strings, numbers, booleans, null).  Databases "system" are
 * left out; "temp" is in (the session's temporary tables).
 */
#ifndef MD_CATALOG_ROWS_H
#define MD_CATALOG_ROWS_H

#include <stddef.h>

struct cJSON;

/* Include the database "memory" (a duckling hides it: its control
 * connection lives there; a client's own DuckDB keeps its tables there). */
#define MD_CATALOG_WITH_MEMORY 1u

/* The catalog query (a static string). */
const char *md_catalog_sql(unsigned flags);

/* One row of the query. */
typedef struct md_catalog_row {
    int kind;
    const char *database, *schema, *table, *column, *type;
    int read_only, view;
    int has_rows;
    double rows;
} md_catalog_row;

typedef struct md_catalog_fold md_catalog_fold;

md_catalog_fold *md_catalog_fold_create(void);

/* Fold one row in (a row whose parent is unknown is left out). */
void md_catalog_fold_row(md_catalog_fold *f, const md_catalog_row *row);

/* The CATALOG JSON of the rows folded so far (caller cJSON_Deletes); frees *f. */
struct cJSON *md_catalog_fold_finish(md_catalog_fold **f);

/*
 * Fold the rows as JSON (see above) into CATALOG JSON text in *out_json
 * (caller frees).  MD_OK, or MD_EINVAL with *out_err (caller frees) when the
 * text is not such rows.
 */
int md_catalog_fold_json(const char *rows, size_t len, char **out_json, char **out_err);

#endif

/*
 * catalog_query.h: what a duckling's DuckDB connection can see, as the
 * CATALOG JSON the browser engine caches (the shape is documented in
 * wasm/catalog.h): databases (system excluded; temp included, it holds the
 * session's temporary tables), their schemas, tables and views with
 * estimated row counts, and columns with their types.
 */
#ifndef MD_CATALOG_QUERY_H
#define MD_CATALOG_QUERY_H

#include <duckdb.h>

#include "wasm/catalog_rows.h" /* MD_CATALOG_WITH_MEMORY */

struct cJSON;

/*
 * Build the catalog of `conn` into *out (caller cJSON_Deletes).  Returns
 * MD_OK, or MD_ESQL with *out_err (caller frees) when DuckDB's catalog
 * functions fail.
 */
int md_catalog_query(duckdb_connection conn, unsigned flags, struct cJSON **out, char **out_err);

/*
 * Run `sql` (a catalog query from the driver's CATALOG action) and answer its
 * rows as JSON, an array of arrays (wasm/catalog_rows.h), in *out_json
 * (caller frees).  MD_OK, or MD_ESQL with *out_err.
 */
int md_catalog_rows_json(duckdb_connection conn, const char *sql, char **out_json, char **out_err);

/* 1 if a statement of this type can change what md_catalog_query returns. */
int md_catalog_changes(duckdb_statement_type type);

#endif

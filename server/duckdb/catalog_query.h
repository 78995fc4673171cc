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
#include "shared/arrow_abi.h"

struct cJSON;

/* Include the database "memory" (a duckling hides it: it is where its
 * control connection lives; a client's own DuckDB keeps its tables there). */
#define MD_CATALOG_WITH_MEMORY 1u

/*
 * Build the catalog of `conn` into *out (caller cJSON_Deletes).  Returns
 * MD_OK, or MD_ESQL with *out_err (caller frees) when DuckDB's catalog
 * functions fail.
 */
int md_catalog_query(duckdb_connection conn, unsigned flags, struct cJSON **out, char **out_err);

/* 1 if a statement of this type can change what md_catalog_query returns. */
int md_catalog_changes(duckdb_statement_type type);

#endif

/*
 * catalog_query.c: a connection's catalog as CATALOG JSON (see
 * catalog_query.h).  Four queries on DuckDB's own catalog functions
 * (databases, schemas, tables and views, columns), each ordered by the same
 * keys, are folded into the nested shape; lookups walk the arrays built so
 * far, so the cost grows with the square of the tables per schema, which is
 * fine for catalogs a person browses.
 */
#include "catalog_query.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

static const char *const q_databases =
    "SELECT database_name, readonly FROM duckdb_databases() WHERE database_name NOT IN (%s) "
    "ORDER BY database_name";
static const char *const q_schemas =
    "SELECT database_name, schema_name FROM duckdb_schemas() WHERE database_name NOT IN (%s) "
    "ORDER BY database_name, schema_name";
static const char *const q_tables =
    "SELECT database_name, schema_name, table_name, false AS is_view, estimated_size FROM duckdb_tables() "
    "WHERE database_name NOT IN (%s) "
    "UNION ALL SELECT database_name, schema_name, view_name, true, NULL FROM duckdb_views() "
    "WHERE database_name NOT IN (%s) AND NOT internal ORDER BY 1, 2, 3";
static const char *const q_columns =
    "SELECT database_name, schema_name, table_name, column_name, data_type FROM duckdb_columns() "
    "WHERE database_name NOT IN (%s) ORDER BY database_name, schema_name, table_name, column_index";

/* The element of `arr` whose "name" equals `name`, or NULL. */
static cJSON *find_named(cJSON *arr, const char *name) {
    cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) return e;
    }
    return NULL;
}

static cJSON *schema_of(cJSON *databases, const char *db, const char *schema) {
    cJSON *d = find_named(databases, db);
    return d ? find_named(cJSON_GetObjectItemCaseSensitive(d, "schemas"), schema) : NULL;
}

/* Cell text (caller frees with duckdb_free), never NULL. */
static char *cell(duckdb_result *r, idx_t col, idx_t row) {
    char *v = duckdb_value_varchar(r, col, row);
    if (!v) {
        v = duckdb_malloc(1);
        v[0] = 0;
    }
    return v;
}

typedef void (*fold_fn)(cJSON *databases, duckdb_result *r, idx_t row, char **cells);

static void fold_database(cJSON *databases, duckdb_result *r, idx_t row, char **c) {
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "name", c[0]);
    cJSON_AddBoolToObject(d, "read_only", duckdb_value_boolean(r, 1, row));
    cJSON_AddArrayToObject(d, "schemas");
    cJSON_AddItemToArray(databases, d);
}

static void fold_schema(cJSON *databases, duckdb_result *r, idx_t row, char **c) {
    cJSON *d = find_named(databases, c[0]);
    if (!d) return;
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "name", c[1]);
    cJSON_AddArrayToObject(s, "tables");
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(d, "schemas"), s);
}

static void fold_table(cJSON *databases, duckdb_result *r, idx_t row, char **c) {
    cJSON *s = schema_of(databases, c[0], c[1]);
    if (!s) return;
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", c[2]);
    cJSON_AddBoolToObject(t, "view", duckdb_value_boolean(r, 3, row));
    if (duckdb_value_is_null(r, 4, row)) cJSON_AddNullToObject(t, "rows");
    else cJSON_AddNumberToObject(t, "rows", (double)duckdb_value_int64(r, 4, row));
    cJSON_AddArrayToObject(t, "columns");
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(s, "tables"), t);
}

static void fold_column(cJSON *databases, duckdb_result *r, idx_t row, char **c) {
    cJSON *s = schema_of(databases, c[0], c[1]);
    cJSON *t = s ? find_named(cJSON_GetObjectItemCaseSensitive(s, "tables"), c[2]) : NULL;
    if (!t) return;
    cJSON *col = cJSON_CreateObject();
    cJSON_AddStringToObject(col, "name", c[3]);
    cJSON_AddStringToObject(col, "type", c[4]);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(t, "columns"), col);
}

/* Run `sql` and fold each row (its first `ncells` columns as text) in. */
static int stage(duckdb_connection conn, const char *tmpl, const char *hidden, idx_t ncells, fold_fn fold,
                 cJSON *databases, char **out_err) {
    duckdb_result r;
    int rc = MD_OK;
    char *sql = md_asprintf(tmpl, hidden, hidden);
    int failed = duckdb_query(conn, sql, &r) == DuckDBError;
    md_free(sql);
    if (failed) {
        *out_err = md_asprintf("cannot read the catalog: %s", duckdb_result_error(&r));
        rc = MD_ESQL;
    }
    for (idx_t row = 0; rc == MD_OK && row < duckdb_row_count(&r); row++) {
        char *cells[5];
        for (idx_t c = 0; c < ncells; c++) cells[c] = cell(&r, c, row);
        fold(databases, &r, row, cells);
        for (idx_t c = 0; c < ncells; c++) duckdb_free(cells[c]);
    }
    duckdb_destroy_result(&r);
    return rc;
}

int md_catalog_query(duckdb_connection conn, unsigned flags, cJSON **out, char **out_err) {
    cJSON *root = cJSON_CreateObject();
    cJSON *databases = cJSON_AddArrayToObject(root, "databases");
    const char *hidden = (flags & MD_CATALOG_WITH_MEMORY) ? "'system'" : "'system', 'memory'";
    int rc = stage(conn, q_databases, hidden, 1, fold_database, databases, out_err);
    if (rc == MD_OK) rc = stage(conn, q_schemas, hidden, 2, fold_schema, databases, out_err);
    if (rc == MD_OK) rc = stage(conn, q_tables, hidden, 3, fold_table, databases, out_err);
    if (rc == MD_OK) rc = stage(conn, q_columns, hidden, 5, fold_column, databases, out_err);
    if (rc != MD_OK) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return MD_OK;
}

int md_catalog_changes(duckdb_statement_type type) {
    switch (type) {
    case DUCKDB_STATEMENT_TYPE_CREATE:
    case DUCKDB_STATEMENT_TYPE_DROP:
    case DUCKDB_STATEMENT_TYPE_ALTER:
    case DUCKDB_STATEMENT_TYPE_ATTACH:
    case DUCKDB_STATEMENT_TYPE_DETACH:
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC:
    case DUCKDB_STATEMENT_TYPE_COPY: /* COPY FROM DATABASE, IMPORT */
        return 1;
    default: return 0;
    }
}

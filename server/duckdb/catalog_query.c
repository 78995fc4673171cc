/*
 * catalog_query.c: a connection's catalog as CATALOG JSON (see
 * catalog_query.h): wasm/catalog_rows.h's query, its rows folded by the
 * same code the dual driver folds the local site's rows with.
 */
#include "catalog_query.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "wasm/catalog_rows.h"

/* Cell text (caller frees with duckdb_free), or NULL for NULL. */
static char *cell(duckdb_result *r, idx_t col, idx_t row) {
    return duckdb_value_is_null(r, col, row) ? NULL : duckdb_value_varchar(r, col, row);
}

int md_catalog_query(duckdb_connection conn, unsigned flags, cJSON **out, char **out_err) {
    duckdb_result r;
    if (duckdb_query(conn, md_catalog_sql(flags), &r) == DuckDBError) {
        *out_err = md_asprintf("cannot read the catalog: %s", duckdb_result_error(&r));
        duckdb_destroy_result(&r);
        return MD_ESQL;
    }
    md_catalog_fold *f = md_catalog_fold_create();
    for (idx_t row = 0; row < duckdb_row_count(&r); row++) {
        char *text[5];
        for (idx_t c = 0; c < 5; c++) text[c] = cell(&r, c + 1, row);
        md_catalog_row cr = {
            .kind = duckdb_value_int32(&r, 0, row),
            .database = text[0], .schema = text[1], .table = text[2], .column = text[3], .type = text[4],
            .read_only = duckdb_value_boolean(&r, 6, row), .view = duckdb_value_boolean(&r, 7, row),
            .has_rows = !duckdb_value_is_null(&r, 8, row), .rows = duckdb_value_double(&r, 8, row),
        };
        md_catalog_fold_row(f, &cr);
        for (idx_t c = 0; c < 5; c++) duckdb_free(text[c]);
    }
    duckdb_destroy_result(&r);
    *out = md_catalog_fold_finish(&f);
    return MD_OK;
}

int md_catalog_rows_json(duckdb_connection conn, const char *sql, char **out_json, char **out_err) {
    duckdb_result r;
    if (duckdb_query(conn, sql, &r) == DuckDBError) {
        *out_err = md_asprintf("cannot read the catalog: %s", duckdb_result_error(&r));
        duckdb_destroy_result(&r);
        return MD_ESQL;
    }
    cJSON *rows = cJSON_CreateArray();
    idx_t ncols = duckdb_column_count(&r);
    for (idx_t row = 0; row < duckdb_row_count(&r); row++) {
        cJSON *a = cJSON_CreateArray();
        for (idx_t c = 0; c < ncols; c++) {
            cJSON *v;
            if (duckdb_value_is_null(&r, c, row)) {
                v = cJSON_CreateNull();
            } else {
                switch (duckdb_column_type(&r, c)) {
                case DUCKDB_TYPE_BOOLEAN: v = cJSON_CreateBool(duckdb_value_boolean(&r, c, row)); break;
                case DUCKDB_TYPE_INTEGER:
                case DUCKDB_TYPE_BIGINT:
                case DUCKDB_TYPE_DOUBLE: v = cJSON_CreateNumber(duckdb_value_double(&r, c, row)); break;
                default: {
                    char *t = duckdb_value_varchar(&r, c, row);
                    v = cJSON_CreateString(t ? t : "");
                    duckdb_free(t);
                }
                }
            }
            cJSON_AddItemToArray(a, v);
        }
        cJSON_AddItemToArray(rows, a);
    }
    duckdb_destroy_result(&r);
    char *text = cJSON_PrintUnformatted(rows);
    cJSON_Delete(rows);
    *out_json = md_strdup(text);
    cJSON_free(text);
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

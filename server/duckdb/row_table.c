/*
 * row_table.c: table functions over rows of text (row_table.h).
 */
#include "server/duckdb/row_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

struct md_rowset {
    size_t ncols, nrows, cap;
    char **cells; /* nrows * ncols, row-major */
};

void md_rowset_add(md_rowset *rs, const char *const *cells) {
    if (rs->nrows == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->cells = md_realloc(rs->cells, rs->cap * rs->ncols * sizeof *rs->cells);
    }
    for (size_t k = 0; k < rs->ncols; k++)
        rs->cells[rs->nrows * rs->ncols + k] = cells[k] ? md_strdup(cells[k]) : NULL;
    rs->nrows++;
}

static void rowset_free(void *p) {
    md_rowset *rs = p;
    for (size_t i = 0; i < rs->nrows * rs->ncols; i++) md_free(rs->cells[i]);
    md_free(rs->cells);
    md_free(rs);
}

static duckdb_type duck_type(md_col_type t) {
    switch (t) {
    case MD_COL_BIGINT: return DUCKDB_TYPE_BIGINT;
    case MD_COL_BOOLEAN: return DUCKDB_TYPE_BOOLEAN;
    case MD_COL_TIMESTAMP: return DUCKDB_TYPE_TIMESTAMP;
    case MD_COL_DOUBLE: return DUCKDB_TYPE_DOUBLE;
    case MD_COL_INTERVAL: return DUCKDB_TYPE_INTERVAL;
    case MD_COL_VARCHAR: break;
    }
    return DUCKDB_TYPE_VARCHAR;
}

static void bind(duckdb_bind_info info) {
    const md_row_table *t = duckdb_bind_get_extra_info(info);
    char *arg = NULL;
    if (t->has_arg) {
        duckdb_value v = duckdb_bind_get_parameter(info, 0);
        arg = duckdb_is_null_value(v) ? NULL : duckdb_get_varchar(v);
        duckdb_destroy_value(&v);
    }
    md_rowset *rs = md_calloc(1, sizeof *rs);
    rs->ncols = t->ncols;
    char *err = NULL;
    int rc = t->produce(t->extra, arg, rs, &err);
    if (arg) duckdb_free(arg);
    if (rc != MD_OK) {
        char *m = md_asprintf("%s: %s", t->name, err ? err : md_strerror(rc));
        duckdb_bind_set_error(info, m);
        md_free(m);
        md_free(err);
        rowset_free(rs);
        return;
    }
    for (size_t k = 0; k < t->ncols; k++) {
        duckdb_logical_type lt = duckdb_create_logical_type(duck_type(t->cols[k].type));
        duckdb_bind_add_result_column(info, t->cols[k].name, lt);
        duckdb_destroy_logical_type(&lt);
    }
    duckdb_bind_set_cardinality(info, rs->nrows, true);
    duckdb_bind_set_bind_data(info, rs, rowset_free);
}

/* The scan's position (per execution: a prepared statement may run twice). */
static void init(duckdb_init_info info) {
    duckdb_init_set_max_threads(info, 1);
    duckdb_init_set_init_data(info, md_calloc(1, sizeof(size_t)), md_free);
}

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) -> microseconds; 0 on success. */
static int parse_time(const char *s, int64_t *out) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    char frac[8] = {0};
    int n = sscanf(s, "%d-%d-%d %d:%d:%d.%6[0-9]", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec, frac);
    if (n < 6) return -1;
    long us = 0;
    for (int i = 0; i < 6; i++) us = us * 10 + (frac[i] ? frac[i] - '0' : 0);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm) * 1000000 + us;
    return 0;
}

static void set_null(duckdb_vector v, idx_t row) {
    duckdb_vector_ensure_validity_writable(v);
    duckdb_validity_set_row_invalid(duckdb_vector_get_validity(v), row);
}

static void scan(duckdb_function_info info, duckdb_data_chunk out) {
    const md_row_table *t = duckdb_function_get_extra_info(info);
    md_rowset *rs = duckdb_function_get_bind_data(info);
    size_t *pos = duckdb_function_get_init_data(info);
    idx_t cap = duckdb_vector_size(), k = 0;
    for (; k < cap && *pos < rs->nrows; k++, (*pos)++) {
        for (size_t c = 0; c < t->ncols; c++) {
            duckdb_vector v = duckdb_data_chunk_get_vector(out, c);
            const char *cell = rs->cells[*pos * rs->ncols + c];
            if (!cell) {
                set_null(v, k);
                continue;
            }
            char *end = NULL;
            switch (t->cols[c].type) {
            case MD_COL_VARCHAR: duckdb_vector_assign_string_element(v, k, cell); break;
            case MD_COL_BIGINT: {
                long long x = strtoll(cell, &end, 10);
                if (*cell && !*end) ((int64_t *)duckdb_vector_get_data(v))[k] = x;
                else set_null(v, k);
                break;
            }
            case MD_COL_DOUBLE: {
                double x = strtod(cell, &end);
                if (*cell && !*end) ((double *)duckdb_vector_get_data(v))[k] = x;
                else set_null(v, k);
                break;
            }
            case MD_COL_BOOLEAN:
                if (strcasecmp(cell, "true") == 0 || strcmp(cell, "1") == 0) ((bool *)duckdb_vector_get_data(v))[k] = true;
                else if (strcasecmp(cell, "false") == 0 || strcmp(cell, "0") == 0)
                    ((bool *)duckdb_vector_get_data(v))[k] = false;
                else set_null(v, k);
                break;
            case MD_COL_INTERVAL: {
                long long x = strtoll(cell, &end, 10);
                if (*cell && !*end) ((duckdb_interval *)duckdb_vector_get_data(v))[k] = (duckdb_interval){0, 0, x};
                else set_null(v, k);
                break;
            }
            case MD_COL_TIMESTAMP: {
                int64_t us;
                if (parse_time(cell, &us) == 0) ((int64_t *)duckdb_vector_get_data(v))[k] = us;
                else set_null(v, k);
                break;
            }
            }
        }
    }
    duckdb_data_chunk_set_size(out, k);
}

void md_row_time_text(int64_t ms, char out[32]) {
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03d000", (int)(ms % 1000));
}

int md_row_table_register(duckdb_connection conn, const md_row_table *t, char **out_err) {
    duckdb_table_function tf = duckdb_create_table_function();
    duckdb_table_function_set_name(tf, t->name);
    if (t->has_arg) {
        duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
        duckdb_table_function_add_parameter(tf, varchar);
        duckdb_destroy_logical_type(&varchar);
    }
    duckdb_table_function_set_extra_info(tf, (void *)t, NULL);
    duckdb_table_function_set_bind(tf, bind);
    duckdb_table_function_set_init(tf, init);
    duckdb_table_function_set_function(tf, scan);
    int rc = duckdb_register_table_function(conn, tf) == DuckDBError ? MD_EIO : MD_OK;
    duckdb_destroy_table_function(&tf);
    if (rc != MD_OK && out_err) *out_err = md_asprintf("cannot register %s()", t->name);
    return rc;
}

/*
 * sql_functions.c: md_snapshots() as a DuckDB table function (C API), see
 * sql_functions.h.  The bind step reads every row of the listing from the
 * metadata store (a database has at most thousands of snapshots within its
 * retention), the scan hands them out STANDARD_VECTOR_SIZE at a time.
 */
#include "server/storage/sql_functions.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/storage/dbmeta.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

struct md_sql_functions {
    md_dbmeta *meta; /* borrowed */
    char *owner;
};

typedef struct snap {
    int64_t id, bytes_added, file_size, created_us;
    char *name; /* NULL when unnamed */
} snap;

typedef struct listing {
    snap *rows;
    size_t n, cap;
} listing;

/* "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) -> microseconds since the epoch. */
static int64_t parse_utc_us(const char *s) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    long us = 0;
    if (!s || sscanf(s, "%d-%d-%d %d:%d:%d.%6ld", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                     &tm.tm_sec, &us) < 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000000 + us;
}

static void add_row(void *ctx, const md_snapshot_row *row) {
    listing *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->rows = md_realloc(l->rows, l->cap * sizeof *l->rows);
    }
    snap *s = &l->rows[l->n++];
    s->id = row->id;
    s->bytes_added = (int64_t)row->bytes_added;
    s->file_size = (int64_t)row->file_size;
    s->created_us = parse_utc_us(row->created_at);
    s->name = row->name ? md_strdup(row->name) : NULL;
}

static void free_listing(void *p) {
    listing *l = p;
    for (size_t i = 0; i < l->n; i++) md_free(l->rows[i].name);
    md_free(l->rows);
    md_free(l);
}

typedef struct found {
    int64_t id;
} found;

static void found_db(void *ctx, const md_db_row *row) {
    ((found *)ctx)->id = row->id;
}

static void add_column(duckdb_bind_info info, const char *name, duckdb_type t) {
    duckdb_logical_type lt = duckdb_create_logical_type(t);
    duckdb_bind_add_result_column(info, name, lt);
    duckdb_destroy_logical_type(&lt);
}

static void snapshots_bind(duckdb_bind_info info) {
    md_sql_functions *f = duckdb_bind_get_extra_info(info);
    duckdb_value v = duckdb_bind_get_parameter(info, 0);
    char *db = duckdb_get_varchar(v);
    duckdb_destroy_value(&v);
    found fd = {0};
    int rc = db ? md_dbmeta_db_get(f->meta, f->owner, db, found_db, &fd) : MD_EINVAL;
    listing *l = md_calloc(1, sizeof *l);
    if (rc == MD_OK) rc = md_dbmeta_snapshot_list(f->meta, fd.id, add_row, l);
    if (rc != MD_OK) {
        char *m = rc == MD_ENOT_FOUND ? md_asprintf("md_snapshots: there is no database named %s", db ? db : "")
                                      : md_strdup("md_snapshots: cannot read the snapshot metadata");
        duckdb_bind_set_error(info, m);
        md_free(m);
        free_listing(l);
        duckdb_free(db);
        return;
    }
    duckdb_free(db);
    add_column(info, "snapshot_id", DUCKDB_TYPE_BIGINT);
    add_column(info, "name", DUCKDB_TYPE_VARCHAR);
    add_column(info, "created_at", DUCKDB_TYPE_TIMESTAMP);
    add_column(info, "bytes_added", DUCKDB_TYPE_BIGINT);
    add_column(info, "file_size", DUCKDB_TYPE_BIGINT);
    duckdb_bind_set_cardinality(info, l->n, true);
    duckdb_bind_set_bind_data(info, l, free_listing);
}

/* The scan's position (per execution: a prepared statement may run twice). */
static void snapshots_init(duckdb_init_info info) {
    duckdb_init_set_max_threads(info, 1);
    duckdb_init_set_init_data(info, md_calloc(1, sizeof(size_t)), md_free);
}

static void snapshots_scan(duckdb_function_info info, duckdb_data_chunk out) {
    listing *l = duckdb_function_get_bind_data(info);
    size_t *pos = duckdb_function_get_init_data(info);
    duckdb_vector vid = duckdb_data_chunk_get_vector(out, 0), vname = duckdb_data_chunk_get_vector(out, 1);
    int64_t *id = duckdb_vector_get_data(vid);
    int64_t *created = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 2));
    int64_t *added = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 3));
    int64_t *size = duckdb_vector_get_data(duckdb_data_chunk_get_vector(out, 4));
    idx_t cap = duckdb_vector_size(), k = 0;
    for (; k < cap && *pos < l->n; k++, (*pos)++) {
        const snap *s = &l->rows[*pos];
        id[k] = s->id;
        created[k] = s->created_us;
        added[k] = s->bytes_added;
        size[k] = s->file_size;
        if (s->name) {
            duckdb_vector_assign_string_element(vname, k, s->name);
        } else {
            duckdb_vector_ensure_validity_writable(vname);
            duckdb_validity_set_row_invalid(duckdb_vector_get_validity(vname), k);
        }
    }
    duckdb_data_chunk_set_size(out, k);
}

int md_sql_functions_register(duckdb_connection conn, md_dbmeta *meta, const char *owner,
                              md_sql_functions **out, char **out_err) {
    md_sql_functions *f = md_calloc(1, sizeof *f);
    int rc = MD_OK;
    f->meta = meta;
    f->owner = md_strdup(owner);
    duckdb_table_function tf = duckdb_create_table_function();
    duckdb_table_function_set_name(tf, "md_snapshots");
    duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
    duckdb_table_function_add_parameter(tf, varchar);
    duckdb_destroy_logical_type(&varchar);
    duckdb_table_function_set_extra_info(tf, f, NULL);
    duckdb_table_function_set_bind(tf, snapshots_bind);
    duckdb_table_function_set_init(tf, snapshots_init);
    duckdb_table_function_set_function(tf, snapshots_scan);
    if (duckdb_register_table_function(conn, tf) == DuckDBError) {
        if (out_err) *out_err = md_strdup("cannot register md_snapshots()");
        rc = MD_EIO;
    }
    duckdb_destroy_table_function(&tf);
    if (rc != MD_OK) {
        md_sql_functions_free(&f);
        return rc;
    }
    *out = f;
    return MD_OK;
}

void md_sql_functions_free(md_sql_functions **pf) {
    if (!pf || !*pf) return;
    md_free((*pf)->owner);
    md_free(*pf);
    *pf = NULL;
}

/*
 * upload.c: an Arrow IPC stream into a session temp table (upload.h).
 *
 * Bytes are buffered until md_ipc_reader_next finds a whole message; the
 * schema becomes DuckDB's converted schema; each record batch becomes a
 * data chunk.  The first chunk creates the table (an appender whose query is
 * CREATE OR REPLACE TEMP TABLE ... AS SELECT * FROM appended_data, which
 * gives the columns their names and DuckDB types); later chunks go through
 * a plain appender on that table.
 */
#include "upload.h"

#include <stdio.h>
#include <string.h>

#include "arrow_abi.h"
#include "arrow_ipc.h"
#include "md_alloc.h"
#include "md_buf.h"
#include "md_error.h"

struct md_upload {
    duckdb_connection c;
    char *table;
    uint64_t max_bytes, bytes;
    int64_t rows;
    md_buf pending; /* bytes not yet decoded */
    md_ipc_reader *reader;
    struct ArrowSchema schema;
    int have_schema, created, finished, eos;
    duckdb_arrow_converted_schema conv;
    duckdb_appender app;
};

md_upload *md_upload_begin(duckdb_connection c, const char *table, uint64_t max_bytes) {
    md_upload *u = md_calloc(1, sizeof *u);
    u->c = c;
    u->table = md_strdup(table);
    u->max_bytes = max_bytes;
    u->reader = md_ipc_reader_create(0);
    return u;
}

static char *quoted(const char *s) {
    md_buf b = MD_BUF_INIT;
    md_buf_put_u8(&b, '"');
    for (; *s; s++) {
        if (*s == '"') md_buf_put_u8(&b, '"');
        md_buf_put_u8(&b, (uint8_t)*s);
    }
    md_buf_put_u8(&b, '"');
    md_buf_put_u8(&b, 0);
    size_t n;
    return (char *)md_buf_detach(&b, &n);
}

static int duck_error(duckdb_error_data e, char **out_err) {
    *out_err = md_asprintf("DuckDB cannot read the uploaded Arrow data: %s", duckdb_error_data_message(e));
    duckdb_destroy_error_data(&e);
    return MD_ESQL;
}

/* The first chunk: create the table from it (names from the schema). */
static int create_table(md_upload *u, duckdb_data_chunk chunk, char **out_err) {
    idx_t n = duckdb_data_chunk_get_column_count(chunk);
    duckdb_logical_type *types = md_calloc(n + 1, sizeof *types);
    const char **names = md_calloc(n + 1, sizeof *names);
    for (idx_t i = 0; i < n; i++) {
        types[i] = duckdb_vector_get_column_type(duckdb_data_chunk_get_vector(chunk, i));
        names[i] = u->schema.children[i]->name ? u->schema.children[i]->name : "";
    }
    char *t = quoted(u->table);
    char *q = md_asprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM appended_data", t);
    duckdb_appender app = NULL;
    int rc = MD_OK;
    if (duckdb_appender_create_query(u->c, q, n, types, "appended_data", names, &app) == DuckDBError) {
        *out_err = md_asprintf("cannot create the upload table %s: %s", u->table,
                               app ? duckdb_appender_error(app) : "DuckDB refused");
        rc = MD_ESQL;
    } else if (duckdb_append_data_chunk(app, chunk) == DuckDBError || duckdb_appender_close(app) == DuckDBError) {
        *out_err = md_asprintf("cannot create the upload table %s: %s", u->table, duckdb_appender_error(app));
        rc = MD_ESQL;
    }
    if (app) duckdb_appender_destroy(&app);
    if (rc == MD_OK && duckdb_appender_create_ext(u->c, "temp", "main", u->table, &u->app) == DuckDBError) {
        *out_err = md_asprintf("cannot append to the upload table %s", u->table);
        rc = MD_ESQL;
    }
    for (idx_t i = 0; i < n; i++) duckdb_destroy_logical_type(&types[i]);
    md_free(types);
    md_free(names);
    md_free(t);
    md_free(q);
    if (rc == MD_OK) u->created = 1;
    return rc;
}

static int add_batch(md_upload *u, struct ArrowArray *batch, char **out_err) {
    duckdb_data_chunk chunk = NULL;
    duckdb_error_data e = duckdb_data_chunk_from_arrow(u->c, batch, u->conv, &chunk);
    if (e) return duck_error(e, out_err);
    int rc = MD_OK;
    idx_t rows = duckdb_data_chunk_get_size(chunk);
    if (!u->created) {
        rc = create_table(u, chunk, out_err);
    } else if (duckdb_append_data_chunk(u->app, chunk) == DuckDBError) {
        *out_err = md_asprintf("cannot append to the upload table %s: %s", u->table, duckdb_appender_error(u->app));
        rc = MD_ESQL;
    }
    if (rc == MD_OK) u->rows += (int64_t)rows;
    duckdb_destroy_data_chunk(&chunk);
    return rc;
}

int md_upload_feed(md_upload *u, const uint8_t *p, size_t len, char **out_err) {
    u->bytes += len;
    if (u->max_bytes && u->bytes > u->max_bytes) {
        *out_err = md_asprintf("the upload exceeds the server's limit of %llu bytes", (unsigned long long)u->max_bytes);
        return MD_ETOO_LARGE;
    }
    md_buf_append(&u->pending, p, len);
    size_t off = 0;
    int rc = MD_OK;
    while (rc == MD_OK && off < u->pending.len && !u->eos) {
        size_t used = 0;
        md_ipc_message_kind kind;
        struct ArrowArray batch;
        memset(&batch, 0, sizeof batch);
        rc = md_ipc_reader_next(u->reader, u->pending.data + off, u->pending.len - off, &used, &kind, &batch,
                                out_err);
        if (rc == MD_EEOF) { /* wait for more bytes */
            rc = MD_OK;
            break;
        }
        if (rc != MD_OK) break;
        off += used;
        if (kind == MD_IPC_SCHEMA) {
            if (md_ipc_reader_schema(u->reader, &u->schema) != MD_OK) {
                *out_err = md_strdup("the upload's schema cannot be read");
                rc = MD_EBAD_FRAME;
                break;
            }
            u->have_schema = 1;
            duckdb_error_data e = duckdb_schema_from_arrow(u->c, &u->schema, &u->conv);
            if (e) rc = duck_error(e, out_err);
        } else if (kind == MD_IPC_BATCH) {
            rc = add_batch(u, &batch, out_err);
        } else if (kind == MD_IPC_EOS) {
            u->eos = 1;
        }
    }
    /* keep what is not decoded yet */
    if (off > 0) {
        memmove(u->pending.data, u->pending.data + off, u->pending.len - off);
        u->pending.len -= off;
    }
    return rc;
}

int md_upload_finish(md_upload *u, int64_t *out_rows, uint64_t *out_bytes, char **out_err) {
    if (u->pending.len > 0 && !u->eos) {
        *out_err = md_asprintf("the upload ended inside an Arrow message (%zu bytes left over)", u->pending.len);
        return MD_EBAD_FRAME;
    }
    if (!u->created) {
        *out_err = md_strdup(u->have_schema ? "the upload holds no record batch (send an empty one for an empty table)"
                                            : "the upload holds no Arrow schema");
        return MD_EBAD_FRAME;
    }
    if (duckdb_appender_close(u->app) == DuckDBError) {
        *out_err = md_asprintf("cannot finish the upload table %s: %s", u->table, duckdb_appender_error(u->app));
        return MD_ESQL;
    }
    u->finished = 1;
    *out_rows = u->rows;
    *out_bytes = u->bytes;
    return MD_OK;
}

void md_upload_end(md_upload **pu) {
    if (!pu || !*pu) return;
    md_upload *u = *pu;
    if (u->app) duckdb_appender_destroy(&u->app);
    if (u->created && !u->finished) {
        char *t = quoted(u->table), *q = md_asprintf("DROP TABLE IF EXISTS temp.main.%s", t);
        duckdb_result r;
        duckdb_query(u->c, q, &r);
        duckdb_destroy_result(&r);
        md_free(t);
        md_free(q);
    }
    if (u->conv) duckdb_destroy_arrow_converted_schema(&u->conv);
    if (u->have_schema && u->schema.release) u->schema.release(&u->schema);
    md_ipc_reader_destroy(&u->reader);
    md_buf_free(&u->pending);
    md_free(u->table);
    md_free(u);
    *pu = NULL;
}

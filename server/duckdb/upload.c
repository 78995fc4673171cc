/*
 * upload.c: an Arrow IPC stream into a session temp table (upload.h).
 *
 * Bytes are buffered until md_ipc_reader_next finds a whole message; the
 * schema becomes DuckDB's converted schema; each record batch becomes a
 * data chunk.  The first chunk's DuckDB types, printed as SQL (type_sql),
 * create the table (CREATE OR REPLACE TEMP TABLE, names from the schema);
 * every chunk then goes through an appender on that table.
 */
#include "upload.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "shared/arrow_abi.h"
#include "shared/arrow_ipc.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

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

static int duck_error(duckdb_error_data e, char **out_err) {
    *out_err = md_asprintf("DuckDB cannot read the uploaded Arrow data: %s", duckdb_error_data_message(e));
    duckdb_destroy_error_data(&e);
    return MD_ESQL;
}

static void put(md_buf *b, const char *s) { md_buf_append(b, s, strlen(s)); }


/* DuckDB's SQL spelling of type t (the C API has no printer of its own);
 * 0 for a type a table column cannot have. */
static int type_sql(duckdb_logical_type t, md_buf *b) {
    static const struct {
        duckdb_type id;
        const char *name;
    } simple[] = {
        {DUCKDB_TYPE_BOOLEAN, "BOOLEAN"},       {DUCKDB_TYPE_TINYINT, "TINYINT"},
        {DUCKDB_TYPE_SMALLINT, "SMALLINT"},     {DUCKDB_TYPE_INTEGER, "INTEGER"},
        {DUCKDB_TYPE_BIGINT, "BIGINT"},         {DUCKDB_TYPE_UTINYINT, "UTINYINT"},
        {DUCKDB_TYPE_USMALLINT, "USMALLINT"},   {DUCKDB_TYPE_UINTEGER, "UINTEGER"},
        {DUCKDB_TYPE_UBIGINT, "UBIGINT"},       {DUCKDB_TYPE_FLOAT, "FLOAT"},
        {DUCKDB_TYPE_DOUBLE, "DOUBLE"},         {DUCKDB_TYPE_TIMESTAMP, "TIMESTAMP"},
        {DUCKDB_TYPE_DATE, "DATE"},             {DUCKDB_TYPE_TIME, "TIME"},
        {DUCKDB_TYPE_INTERVAL, "INTERVAL"},     {DUCKDB_TYPE_HUGEINT, "HUGEINT"},
        {DUCKDB_TYPE_UHUGEINT, "UHUGEINT"},     {DUCKDB_TYPE_VARCHAR, "VARCHAR"},
        {DUCKDB_TYPE_BLOB, "BLOB"},             {DUCKDB_TYPE_TIMESTAMP_S, "TIMESTAMP_S"},
        {DUCKDB_TYPE_TIMESTAMP_MS, "TIMESTAMP_MS"}, {DUCKDB_TYPE_TIMESTAMP_NS, "TIMESTAMP_NS"},
        {DUCKDB_TYPE_UUID, "UUID"},             {DUCKDB_TYPE_BIT, "BIT"},
        {DUCKDB_TYPE_TIME_TZ, "TIME WITH TIME ZONE"}, {DUCKDB_TYPE_TIMESTAMP_TZ, "TIMESTAMP WITH TIME ZONE"},
        {DUCKDB_TYPE_BIGNUM, "BIGNUM"},         {DUCKDB_TYPE_SQLNULL, "INTEGER"}, /* an all-NULL column */
    };
    duckdb_type id = duckdb_get_type_id(t);
    for (size_t i = 0; i < sizeof simple / sizeof *simple; i++)
        if (simple[i].id == id) {
            put(b, simple[i].name);
            return 1;
        }
    char num[64];
    int ok = 1;
    switch (id) {
    case DUCKDB_TYPE_DECIMAL:
        snprintf(num, sizeof num, "DECIMAL(%u, %u)", duckdb_decimal_width(t), duckdb_decimal_scale(t));
        put(b, num);
        return 1;
    case DUCKDB_TYPE_ENUM: {
        put(b, "ENUM(");
        uint32_t n = duckdb_enum_dictionary_size(t);
        for (uint32_t i = 0; i < n; i++) {
            char *v = duckdb_enum_dictionary_value(t, i);
            if (i) put(b, ", ");
            md_buf_put_quoted(b, v ? v : "", '\'');
            duckdb_free(v);
        }
        put(b, ")");
        return 1;
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: {
        duckdb_logical_type c = id == DUCKDB_TYPE_LIST ? duckdb_list_type_child_type(t) : duckdb_array_type_child_type(t);
        ok = type_sql(c, b);
        duckdb_destroy_logical_type(&c);
        if (id == DUCKDB_TYPE_LIST) put(b, "[]");
        else {
            snprintf(num, sizeof num, "[%llu]", (unsigned long long)duckdb_array_type_array_size(t));
            put(b, num);
        }
        return ok;
    }
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_UNION: {
        int is_struct = id == DUCKDB_TYPE_STRUCT;
        put(b, is_struct ? "STRUCT(" : "UNION(");
        idx_t n = is_struct ? duckdb_struct_type_child_count(t) : duckdb_union_type_member_count(t);
        for (idx_t i = 0; i < n && ok; i++) {
            char *name = is_struct ? duckdb_struct_type_child_name(t, i) : duckdb_union_type_member_name(t, i);
            duckdb_logical_type c = is_struct ? duckdb_struct_type_child_type(t, i) : duckdb_union_type_member_type(t, i);
            if (i) put(b, ", ");
            md_buf_put_quoted(b, name ? name : "", '"');
            put(b, " ");
            ok = type_sql(c, b);
            duckdb_free(name);
            duckdb_destroy_logical_type(&c);
        }
        put(b, ")");
        return ok;
    }
    case DUCKDB_TYPE_MAP: {
        duckdb_logical_type k = duckdb_map_type_key_type(t), v = duckdb_map_type_value_type(t);
        put(b, "MAP(");
        ok = type_sql(k, b);
        put(b, ", ");
        if (ok) ok = type_sql(v, b);
        put(b, ")");
        duckdb_destroy_logical_type(&k);
        duckdb_destroy_logical_type(&v);
        return ok;
    }
    default:
        return 0;
    }
}

/* The first chunk: create the table with its columns' types (names from
 * the schema), then an appender on it. */
static int create_table(md_upload *u, duckdb_data_chunk chunk, char **out_err) {
    idx_t n = duckdb_data_chunk_get_column_count(chunk);
    md_buf q = MD_BUF_INIT;
    put(&q, "CREATE OR REPLACE TEMP TABLE ");
    md_buf_put_quoted(&q, u->table, '"');
    put(&q, " (");
    int ok = 1;
    for (idx_t i = 0; i < n && ok; i++) {
        duckdb_logical_type t = duckdb_vector_get_column_type(duckdb_data_chunk_get_vector(chunk, i));
        const char *name = u->schema.children[i]->name;
        char fallback[32];
        snprintf(fallback, sizeof fallback, "column%llu", (unsigned long long)i);
        int repeated = 0; /* a result may repeat a name (SELECT 1, 1); a table may not */
        for (idx_t k = 0; k < i && name && *name; k++)
            repeated |= u->schema.children[k]->name && strcasecmp(u->schema.children[k]->name, name) == 0;
        if (i) put(&q, ", ");
        if (repeated) {
            char *unique = md_asprintf("%s_%llu", name, (unsigned long long)i);
            md_buf_put_quoted(&q, unique, '"');
            md_free(unique);
        } else {
            md_buf_put_quoted(&q, name && *name ? name : fallback, '"');
        }
        put(&q, " ");
        ok = type_sql(t, &q);
        duckdb_destroy_logical_type(&t);
        if (!ok) *out_err = md_asprintf("column %llu of the upload has a type a table cannot hold", (unsigned long long)i);
    }
    put(&q, ")");
    md_buf_put_u8(&q, 0);
    int rc = ok ? MD_OK : MD_EUNSUPPORTED;
    duckdb_result r;
    if (rc == MD_OK) {
        if (duckdb_query(u->c, (const char *)q.data, &r) == DuckDBError) {
            *out_err = md_asprintf("cannot create the upload table %s: %s", u->table, duckdb_result_error(&r));
            rc = MD_ESQL;
        }
        duckdb_destroy_result(&r);
    }
    md_buf_free(&q);
    if (rc == MD_OK) u->created = 1;
    if (rc == MD_OK && duckdb_appender_create_ext(u->c, "temp", "main", u->table, &u->app) == DuckDBError) {
        *out_err = md_asprintf("cannot append to the upload table %s", u->table);
        rc = MD_ESQL;
    }
    return rc;
}

/* Append one chunk's worth of rows (at most duckdb_vector_size()). */
static int add_chunk(md_upload *u, struct ArrowArray *arr, char **out_err) {
    duckdb_data_chunk chunk = NULL;
    duckdb_error_data e = duckdb_data_chunk_from_arrow(u->c, arr, u->conv, &chunk);
    if (e) return duck_error(e, out_err);
    int rc = MD_OK;
    idx_t rows = duckdb_data_chunk_get_size(chunk);
    if (!u->created) rc = create_table(u, chunk, out_err);
    if (rc == MD_OK && duckdb_append_data_chunk(u->app, chunk) == DuckDBError) {
        *out_err = md_asprintf("cannot append to the upload table %s: %s", u->table, duckdb_appender_error(u->app));
        rc = MD_ESQL;
    }
    if (rc == MD_OK) u->rows += (int64_t)rows;
    duckdb_destroy_data_chunk(&chunk);
    return rc;
}

static void release_view(struct ArrowArray *a) { a->release = NULL; }

/* DuckDB's Arrow import reads buffers of an empty array too: give every
 * missing buffer of an empty batch a zeroed one (an empty result still
 * comes as one empty batch, which carries the column types). */
static void fill_empty_buffers(struct ArrowArray *a) {
    static const uint64_t zeros[8];
    for (int64_t i = 0; i < a->n_buffers; i++)
        if (!a->buffers[i]) a->buffers[i] = zeros;
    for (int64_t i = 0; i < a->n_children; i++) fill_empty_buffers(a->children[i]);
    if (a->dictionary) fill_empty_buffers(a->dictionary);
}

/* A record batch: DuckDB converts at most one vector's worth of rows at a
 * time (a longer array overruns its vectors), so a long batch goes in
 * windows and is released once they are all appended.  A window is a view
 * of the same buffers whose columns (the struct's children) carry the
 * window's offset: DuckDB ignores the offset of the top-level struct, and
 * nested columns follow their parent column's offset. */
static int add_batch(md_upload *u, struct ArrowArray *batch, char **out_err) {
    int64_t step = (int64_t)duckdb_vector_size();
    if (batch->length == 0) {
        if (u->created) {
            batch->release(batch);
            return MD_OK;
        }
        fill_empty_buffers(batch);
    }
    if (batch->length <= step) return add_chunk(u, batch, out_err); /* DuckDB takes it over */
    int64_t n = batch->n_children;
    struct ArrowArray *cols = md_calloc((size_t)n + 1, sizeof *cols);
    struct ArrowArray **ptrs = md_calloc((size_t)n + 1, sizeof *ptrs);
    int rc = MD_OK;
    for (int64_t off = 0; off < batch->length && rc == MD_OK; off += step) {
        int64_t len = batch->length - off < step ? batch->length - off : step;
        for (int64_t i = 0; i < n; i++) {
            cols[i] = *batch->children[i];
            cols[i].offset = batch->children[i]->offset + batch->offset + off;
            cols[i].length = len;
            cols[i].null_count = batch->children[i]->null_count; /* DuckDB reads it as "has NULLs" only */
            cols[i].release = release_view;
            cols[i].private_data = NULL;
            ptrs[i] = &cols[i];
        }
        struct ArrowArray view = *batch;
        view.offset = 0;
        view.length = len;
        view.null_count = 0;
        view.children = ptrs;
        view.release = release_view;
        view.private_data = NULL;
        rc = add_chunk(u, &view, out_err);
    }
    md_free(cols);
    md_free(ptrs);
    batch->release(batch);
    return rc;
}

static int convert_schema(md_upload *u, char **out_err) {
    duckdb_error_data e = duckdb_schema_from_arrow(u->c, &u->schema, &u->conv);
    return e ? duck_error(e, out_err) : MD_OK;
}

int md_upload_schema(md_upload *u, const struct ArrowSchema *schema, char **out_err) {
    if (u->have_schema || u->conv) {
        *out_err = md_strdup("the upload has its schema already");
        return MD_EINVAL;
    }
    u->schema = *schema;
    u->schema.release = NULL; /* borrowed: the caller keeps it alive and releases it */
    return convert_schema(u, out_err);
}

int md_upload_batch(md_upload *u, struct ArrowArray *batch, char **out_err) {
    if (!u->conv) {
        *out_err = md_strdup("a record batch before the schema");
        return MD_EINVAL;
    }
    struct ArrowArray mine = *batch;
    batch->release = NULL; /* moved */
    return add_batch(u, &mine, out_err);
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
            rc = convert_schema(u, out_err);
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

/* An empty array of schema s: every buffer a zeroed block (DuckDB's Arrow
 * import reads offsets even of an empty array), children and dictionary
 * likewise.  Buffers per format as the C data interface has them. */
static void release_empty(struct ArrowArray *a) {
    for (int64_t i = 0; i < a->n_children; i++) { /* a consumer may have moved a child out */
        if (a->children[i]->release) a->children[i]->release(a->children[i]);
        md_free(a->children[i]);
    }
    if (a->dictionary) {
        if (a->dictionary->release) a->dictionary->release(a->dictionary);
        md_free(a->dictionary);
    }
    md_free(a->children);
    md_free(a->buffers);
    a->release = NULL;
}

static void empty_array(const struct ArrowSchema *s, struct ArrowArray *a) {
    static const uint64_t zeros[8];
    const char *f = s->format ? s->format : "";
    int64_t nb = 2;
    if (strcmp(f, "n") == 0 || strcmp(f, "+r") == 0) nb = 0;
    else if (strcmp(f, "+s") == 0 || strncmp(f, "+w:", 3) == 0 || strcmp(f, "+us") == 0) nb = 1;
    else if (strcmp(f, "u") == 0 || strcmp(f, "z") == 0 || strcmp(f, "U") == 0 || strcmp(f, "Z") == 0 ||
             strcmp(f, "vu") == 0 || strcmp(f, "vz") == 0)
        nb = 3;
    memset(a, 0, sizeof *a);
    a->n_buffers = nb;
    a->buffers = md_calloc((size_t)(nb ? nb : 1), sizeof *a->buffers);
    for (int64_t i = 0; i < nb; i++) a->buffers[i] = zeros;
    a->n_children = s->n_children;
    a->children = md_calloc((size_t)(s->n_children ? s->n_children : 1), sizeof *a->children);
    for (int64_t i = 0; i < s->n_children; i++) {
        a->children[i] = md_calloc(1, sizeof **a->children);
        empty_array(s->children[i], a->children[i]);
    }
    if (s->dictionary) {
        a->dictionary = md_calloc(1, sizeof *a->dictionary);
        empty_array(s->dictionary, a->dictionary);
    }
    a->release = release_empty;
}

int md_upload_finish(md_upload *u, int64_t *out_rows, uint64_t *out_bytes, char **out_err) {
    if (u->pending.len > 0 && !u->eos) {
        *out_err = md_asprintf("the upload ended inside an Arrow message (%zu bytes left over)", u->pending.len);
        return MD_EBAD_FRAME;
    }
    if (!u->created && u->conv) { /* a schema and no batch: an empty table of those columns */
        struct ArrowArray none;
        empty_array(&u->schema, &none);
        int rc = add_batch(u, &none, out_err); /* takes it over, as md_upload_batch's */
        if (rc != MD_OK) return rc;
    }
    if (!u->created) {
        *out_err = md_strdup("the upload holds no Arrow schema");
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

const char *md_upload_table(const md_upload *u) { return u->table; }

void md_upload_end(md_upload **pu) {
    if (!pu || !*pu) return;
    md_upload *u = *pu;
    if (u->app) duckdb_appender_destroy(&u->app);
    if (u->created && !u->finished) {
        md_buf q = MD_BUF_INIT;
        put(&q, "DROP TABLE IF EXISTS temp.main.");
        md_buf_put_quoted(&q, u->table, '"');
        md_buf_put_u8(&q, 0);
        duckdb_result r;
        duckdb_query(u->c, (const char *)q.data, &r);
        duckdb_destroy_result(&r);
        md_buf_free(&q);
    }
    if (u->conv) duckdb_destroy_arrow_converted_schema(&u->conv);
    if (u->have_schema && u->schema.release) u->schema.release(&u->schema);
    md_ipc_reader_destroy(&u->reader);
    md_buf_free(&u->pending);
    md_free(u->table);
    md_free(u);
    *pu = NULL;
}

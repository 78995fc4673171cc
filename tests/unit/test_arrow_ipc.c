/*
 * test_arrow_ipc.c: unit tests of the Arrow IPC codec (shared/arrow_ipc.c)
 * and of the FlatBuffers helpers it uses (shared/flatbuf.c).
 *
 * Round trips go through DuckDB both ways: a query's result is exported with
 * DuckDB's Arrow C API, written with md_ipc_*, read back, and then
 *   1. compared array by array with DuckDB's own arrays (every value, by
 *      format: validity, bytes, offsets, children, dictionaries);
 *   2. imported into DuckDB (duckdb_schema_from_arrow +
 *      duckdb_data_chunk_from_arrow + an appender) as text, next to the same
 *      arrays imported without IPC and next to the source table cast to text:
 *      IPC must change nothing, and only the columns that DuckDB's Arrow
 *      export itself changes (listed per case) may differ from the source.
 * md_ipc_write_batches: results cut into pieces (offsets on the batch or on
 * the columns, empty pieces, columns without validity buffers) and written
 * several per call read back as one batch per call, whose rows are the
 * pieces' rows in order; one piece per call gives md_ipc_write_batch's bytes.
 * Hostile input: truncation at every byte, bit flips, hand-made bad offsets,
 * counts and headers, allocation failures.  Every case asserts a result that
 * a broken codec would not give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <duckdb.h>
#include "shared/arrow_abi.h"

#include "shared/arrow_ipc.h"
#include "shared/flatbuf.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "tests/support/arrow_equal.h"

static duckdb_database db;
static duckdb_connection con;

/* ---- small DuckDB helpers ------------------------------------------------ */

static void exec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void exec(const char *fmt, ...) {
    char sql[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    duckdb_result r;
    if (duckdb_query(con, sql, &r) == DuckDBError) {
        fail_msg("query failed: %s\n  %s", duckdb_result_error(&r), sql);
    }
    duckdb_destroy_result(&r);
}

static long long q_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long q_int(const char *fmt, ...) {
    char sql[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    duckdb_result r;
    if (duckdb_query(con, sql, &r) == DuckDBError)
        fail_msg("query failed: %s\n  %s", duckdb_result_error(&r), sql);
    long long v = duckdb_value_int64(&r, 0, 0);
    duckdb_destroy_result(&r);
    return v;
}

/* ---- batches ------------------------------------------------------------- */

typedef struct batches {
    struct ArrowArray *a;
    size_t n, cap;
    long long rows;
} batches;

static void batches_push(batches *b, struct ArrowArray *a) {
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 8;
        b->a = realloc(b->a, b->cap * sizeof *b->a);
    }
    b->a[b->n++] = *a;
    b->rows += a->length;
}

static void batches_free(batches *b) {
    for (size_t i = 0; i < b->n; i++)
        if (b->a[i].release) b->a[i].release(&b->a[i]);
    free(b->a);
    memset(b, 0, sizeof *b);
}

/* DuckDB's Arrow export of a query: schema and every chunk. */
typedef struct exported {
    struct ArrowSchema schema;
    batches b;
} exported;

static void export_query(const char *sql, exported *ex) {
    memset(ex, 0, sizeof *ex);
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError)
        fail_msg("query failed: %s\n  %s", duckdb_result_error(&res), sql);
    duckdb_arrow_options opt = duckdb_result_get_arrow_options(&res);
    idx_t n = duckdb_column_count(&res);
    duckdb_logical_type *types = calloc(n + 1, sizeof *types);
    const char **names = calloc(n + 1, sizeof *names);
    for (idx_t i = 0; i < n; i++) {
        types[i] = duckdb_column_logical_type(&res, i);
        names[i] = duckdb_column_name(&res, i);
    }
    duckdb_error_data e = duckdb_to_arrow_schema(opt, types, names, n, &ex->schema);
    if (e) fail_msg("to_arrow_schema: %s", duckdb_error_data_message(e));
    duckdb_data_chunk c;
    while ((c = duckdb_fetch_chunk(res)) != NULL) {
        struct ArrowArray a;
        e = duckdb_data_chunk_to_arrow(opt, c, &a);
        if (e) fail_msg("data_chunk_to_arrow: %s", duckdb_error_data_message(e));
        batches_push(&ex->b, &a);
        duckdb_destroy_data_chunk(&c);
    }
    for (idx_t i = 0; i < n; i++) duckdb_destroy_logical_type(&types[i]);
    free(types);
    free(names);
    duckdb_destroy_arrow_options(&opt);
    duckdb_destroy_result(&res);
}

static void exported_free(exported *ex) {
    batches_free(&ex->b);
    if (ex->schema.release) ex->schema.release(&ex->schema);
}

/* Write schema, every batch and EOS. */
static void encode(const exported *ex, md_buf *out) {
    md_ipc_writer *w = NULL;
    char *err = NULL;
    int rc = md_ipc_writer_create(&ex->schema, &w, &err);
    if (rc != MD_OK) fail_msg("writer_create: %s", err);
    md_ipc_write_schema(w, out);
    for (size_t i = 0; i < ex->b.n; i++) {
        rc = md_ipc_write_batch(w, &ex->b.a[i], out, &err);
        if (rc != MD_OK) fail_msg("write_batch: %s", err);
    }
    md_ipc_write_eos(out);
    md_ipc_writer_destroy(&w);
    assert_null(w);
}

/*
 * Read a whole stream.  Returns MD_OK when the EOS marker was reached, else
 * the first error (MD_EEOF when the bytes ran out).  *out_msgs counts the
 * messages read.  schema/b may be NULL.
 */
static int decode(const uint8_t *p, size_t n, int max_depth, struct ArrowSchema *schema, batches *b,
                  int *out_msgs, char **out_err) {
    md_ipc_reader *r = md_ipc_reader_create(max_depth);
    size_t pos = 0;
    int msgs = 0, rc;
    for (;;) {
        size_t used = 0;
        md_ipc_message_kind kind = 0;
        struct ArrowArray a;
        memset(&a, 0, sizeof a);
        rc = md_ipc_reader_next(r, p + pos, n - pos, &used, &kind, &a, out_err);
        if (rc != MD_OK) break;
        assert_true(used >= 8 && used <= n - pos);
        pos += used;
        msgs++;
        if (kind == MD_IPC_SCHEMA && schema) assert_int_equal(md_ipc_reader_schema(r, schema), MD_OK);
        if (kind == MD_IPC_BATCH) {
            assert_non_null(a.release);
            if (b) batches_push(b, &a);
            else a.release(&a);
        }
        if (kind == MD_IPC_EOS) break;
    }
    md_ipc_reader_destroy(&r);
    if (out_msgs) *out_msgs = msgs;
    return rc;
}

/* ---- value comparison through the C data interface ----------------------- */

/* Bytes per value of a fixed-width format, 0 otherwise. */
/* Element i of a (logical index) equals element j of b, both of schema s. */
static int elem_equal(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                      const struct ArrowArray *b, int64_t j) {
    int r = md_test_arrow_elem_equal(s, a, i, b, j);
    if (r < 0) fail_msg("elem_equal: format %s holds something the comparison does not know", s->format);
    return r;
}

/* Rows [ai, ai + n) of batch a equal rows [bi, bi + n) of batch b (struct of columns). */
static void assert_rows_equal(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t ai,
                              const struct ArrowArray *b, int64_t bi, int64_t n) {
    assert_int_equal(a->n_children, s->n_children);
    assert_int_equal(b->n_children, s->n_children);
    for (int64_t c = 0; c < s->n_children; c++)
        for (int64_t k = 0; k < n; k++)
            if (!elem_equal(s->children[c], a->children[c], a->offset + ai + k, b->children[c],
                            b->offset + bi + k))
                fail_msg("column '%s' (%s) differs at row %lld", s->children[c]->name,
                         s->children[c]->format, (long long)(ai + k));
}

/* Formats equal up to the optional ",128" of decimal128. */
static void norm_format(const char *f, char *out, size_t cap) {
    snprintf(out, cap, "%s", f);
    size_t n = strlen(out);
    if (out[0] == 'd' && n > 4 && !strcmp(out + n - 4, ",128")) out[n - 4] = 0;
}

static size_t meta_len(const char *m) {
    if (!m) return 0;
    int32_t n, k;
    memcpy(&n, m, 4);
    size_t pos = 4;
    for (int32_t i = 0; i < 2 * n; i++) {
        memcpy(&k, m + pos, 4);
        pos += 4 + (size_t)k;
    }
    return n ? pos : 0;
}

/* is_unnamed: the root (IPC has no name for it) or dictionary values. */
static void assert_schema_equal(const struct ArrowSchema *a, const struct ArrowSchema *b, int is_unnamed) {
    char fa[256], fb[256];
    norm_format(a->format, fa, sizeof fa);
    norm_format(b->format, fb, sizeof fb);
    if (strcmp(fa, fb)) fail_msg("format '%s' != '%s' (field '%s')", a->format, b->format, a->name);
    if (!is_unnamed) assert_string_equal(a->name ? a->name : "", b->name ? b->name : "");
    assert_int_equal(a->flags & ARROW_FLAG_NULLABLE, b->flags & ARROW_FLAG_NULLABLE);
    size_t ma = meta_len(a->metadata), mb = meta_len(b->metadata);
    assert_int_equal(ma, mb);
    if (ma) assert_memory_equal(a->metadata, b->metadata, ma);
    assert_int_equal(a->n_children, b->n_children);
    for (int64_t i = 0; i < a->n_children; i++) assert_schema_equal(a->children[i], b->children[i], 0);
    assert_int_equal(a->dictionary != NULL, b->dictionary != NULL);
    if (a->dictionary) assert_schema_equal(a->dictionary, b->dictionary, 1);
}

/* ---- spec layout of our own output -------------------------------------- */

/* Walk a stream: every message 8-aligned, V5, buffers 8-aligned inside the body. */
static int check_layout(const uint8_t *p, size_t n) {
    size_t pos = 0;
    int msgs = 0;
    while (pos < n) {
        assert_true(n - pos >= 8);
        assert_int_equal(md_get_u32le(p + pos), 0xFFFFFFFFu);
        uint32_t m = md_get_u32le(p + pos + 4);
        msgs++;
        if (m == 0) {
            assert_int_equal(pos + 8, n); /* EOS is last */
            return msgs;
        }
        assert_int_equal(m % 8, 0);
        md_fb_table msg, hdr, rb;
        assert_int_equal(md_fb_root(p + pos + 8, m, &msg), MD_OK);
        int16_t version;
        uint8_t ht;
        int64_t body;
        assert_int_equal(md_fb_i16(&msg, 0, 0, &version), MD_OK);
        assert_int_equal(version, 4); /* V5 */
        assert_int_equal(md_fb_u8(&msg, 1, 0, &ht), MD_OK);
        assert_int_equal(md_fb_i64(&msg, 3, -1, &body), MD_OK);
        assert_true(body >= 0 && body % 8 == 0);
        assert_int_equal(md_fb_table_field(&msg, 2, &hdr), 1);
        if (ht == 2 || ht == 3) {
            if (ht == 2) assert_int_equal(md_fb_table_field(&hdr, 1, &rb), 1);
            else rb = hdr;
            md_fb_vec bufs;
            assert_int_equal(md_fb_vector_field(&rb, 2, 16, &bufs), 1);
            for (uint32_t i = 0; i < bufs.n; i++) {
                int64_t o = (int64_t)md_get_u64le(md_fb_vec_at(&bufs, i));
                int64_t l = (int64_t)md_get_u64le(md_fb_vec_at(&bufs, i) + 8);
                assert_int_equal(o % 8, 0);
                assert_true(o + l <= body);
            }
        } else {
            assert_int_equal(ht, 1);
            assert_int_equal(body, 0);
        }
        pos += 8 + m + (size_t)body;
    }
    fail_msg("stream without EOS");
    return msgs;
}

/* ---- import into DuckDB as text ------------------------------------------- */

/*
 * Import `b` (schema s) into table `tbl` whose columns c0..cN are the values
 * cast to VARCHAR.  The arrays are handed to DuckDB (b is emptied).
 */
static void import_text(struct ArrowSchema *s, batches *b, const char *tbl) {
    int64_t n = s->n_children;
    char sql[8192];
    int k = snprintf(sql, sizeof sql, "CREATE OR REPLACE TABLE %s(", tbl);
    for (int64_t i = 0; i < n; i++)
        k += snprintf(sql + k, sizeof sql - (size_t)k, "%sc%lld VARCHAR", i ? ", " : "",
                      (long long)i);
    snprintf(sql + k, sizeof sql - (size_t)k, ")");
    exec("%s", sql);

    duckdb_arrow_converted_schema conv = NULL;
    duckdb_error_data e = duckdb_schema_from_arrow(con, s, &conv);
    if (e) fail_msg("schema_from_arrow: %s", duckdb_error_data_message(e));
    duckdb_appender app = NULL;
    for (size_t i = 0; i < b->n; i++) {
        duckdb_data_chunk chunk = NULL;
        e = duckdb_data_chunk_from_arrow(con, &b->a[i], conv, &chunk);
        if (e) fail_msg("data_chunk_from_arrow: %s", duckdb_error_data_message(e));
        assert_null(b->a[i].release); /* DuckDB took the array */
        if (!app) {
            duckdb_logical_type types[256];
            const char *names[256];
            char namebuf[256][24];
            assert_true(n <= 256);
            for (int64_t c = 0; c < n; c++) {
                types[c] = duckdb_vector_get_column_type(duckdb_data_chunk_get_vector(chunk, (idx_t)c));
                snprintf(namebuf[c], sizeof namebuf[c], "c%lld", (long long)c);
                names[c] = namebuf[c];
            }
            snprintf(sql, sizeof sql, "INSERT INTO %s SELECT COLUMNS(*)::VARCHAR FROM appended_data", tbl);
            if (duckdb_appender_create_query(con, sql, (idx_t)n, types, "appended_data", names,
                                             &app) == DuckDBError)
                fail_msg("appender_create_query failed");
            for (int64_t c = 0; c < n; c++) duckdb_destroy_logical_type(&types[c]);
        }
        if (duckdb_append_data_chunk(app, chunk) == DuckDBError)
            fail_msg("append: %s", duckdb_appender_error(app));
        duckdb_destroy_data_chunk(&chunk);
    }
    if (app) {
        if (duckdb_appender_flush(app) == DuckDBError) fail_msg("flush: %s", duckdb_appender_error(app));
        duckdb_appender_destroy(&app);
    }
    duckdb_destroy_arrow_converted_schema(&conv);
    batches_free(b);
}

/* Number of cells of column c that differ between text tables a and b (joined on c0). */
static long long column_diff(const char *a, const char *b, int64_t c) {
    return q_int("SELECT count(*) FROM %s x FULL JOIN %s y ON x.c0 = y.c0 "
                 "WHERE x.c%lld IS DISTINCT FROM y.c%lld", a, b, (long long)c, (long long)c);
}

static int in_list(const char *name, const char *const *list) {
    for (; list && *list; list++)
        if (!strcmp(*list, name)) return 1;
    return 0;
}

/*
 * The full round trip of `sql` (see the file comment).  `lossy` lists the
 * columns that DuckDB's own Arrow export changes (they must still survive
 * IPC unchanged).  Returns the number of batches.
 */
static size_t roundtrip(const char *sql, const char *const *lossy) {
    exec("CREATE OR REPLACE TABLE src AS SELECT row_number() OVER () AS __rn, * FROM (%s)", sql);
    exported ex;
    export_query("SELECT * FROM src ORDER BY __rn", &ex);
    md_buf s = MD_BUF_INIT;
    encode(&ex, &s);
    assert_int_equal(check_layout(s.data, s.len), 0 + check_layout(s.data, s.len));

    struct ArrowSchema rs;
    memset(&rs, 0, sizeof rs);
    batches rb = {0};
    char *err = NULL;
    int rc = decode(s.data, s.len, 0, &rs, &rb, NULL, &err);
    if (rc != MD_OK) fail_msg("decode: %s (%s)", md_strerror(rc), err ? err : "");
    assert_schema_equal(&ex.schema, &rs, 1);
    assert_int_equal(rb.n, ex.b.n);
    assert_int_equal(rb.rows, ex.b.rows);
    assert_int_equal(rb.rows, q_int("SELECT count(*) FROM src"));
    for (size_t i = 0; i < rb.n; i++) {
        assert_int_equal(rb.a[i].length, ex.b.a[i].length);
        assert_rows_equal(&ex.schema, &ex.b.a[i], 0, &rb.a[i], 0, rb.a[i].length);
    }

    int64_t ncols = ex.schema.n_children;
    size_t nbatches = rb.n;
    if (rb.n) {
        /* column names, before import_text hands the arrays over */
        char **names = calloc((size_t)ncols, sizeof *names);
        for (int64_t c = 0; c < ncols; c++) names[c] = strdup(ex.schema.children[c]->name);
        import_text(&ex.schema, &ex.b, "t_direct");
        import_text(&rs, &rb, "t_ipc");
        char ddl[8192];
        int k = snprintf(ddl, sizeof ddl, "CREATE OR REPLACE TABLE t_src(");
        for (int64_t c = 0; c < ncols; c++)
            k += snprintf(ddl + k, sizeof ddl - (size_t)k, "%sc%lld VARCHAR", c ? ", " : "", (long long)c);
        snprintf(ddl + k, sizeof ddl - (size_t)k, ")");
        exec("%s", ddl);
        exec("INSERT INTO t_src SELECT COLUMNS(*)::VARCHAR FROM src ORDER BY __rn");
        long long rows = q_int("SELECT count(*) FROM src");
        assert_int_equal(q_int("SELECT count(*) FROM t_ipc"), rows);
        assert_int_equal(q_int("SELECT count(*) FROM t_direct"), rows);
        int bad = 0;
        for (int64_t c = 0; c < ncols; c++) {
            long long d_ipc = column_diff("t_direct", "t_ipc", c);
            long long d_src = column_diff("t_src", "t_ipc", c);
            if (d_ipc) {
                print_error("column '%s': %lld values differ between direct Arrow and IPC\n",
                            names[c], d_ipc);
                bad = 1;
            }
            if (d_src && !in_list(names[c], lossy)) {
                print_error("column '%s': %lld values differ from the source table\n", names[c], d_src);
                bad = 1;
            }
            if (!d_src && in_list(names[c], lossy))
                print_message("note: column '%s' is listed as lossy but round-trips exactly\n", names[c]);
            free(names[c]);
        }
        free(names);
        if (bad) fail_msg("round trip of \"%s\" changed values", sql);
    }
    exported_free(&ex);
    rs.release(&rs);
    batches_free(&rb);
    md_buf_free(&s);
    return nbatches;
}

/* ---- tests: round trips ---------------------------------------------------- */

/*
 * Default options.  HUGEINT is left out: DuckDB exports it as decimal(38,0),
 * whose range does not hold HUGEINT's min/max, so DuckDB's own import of its
 * own arrays fails (test_lossless covers it).  Columns DuckDB's Arrow export
 * changes by design: TIME WITH TIME ZONE becomes a plain time, BIT a blob.
 */
static void test_all_types(void **state) {
    (void)state;
    static const char *const lossy[] = {"time_tz", "bit", NULL};
    roundtrip("SELECT * EXCLUDE (hugeint) FROM test_all_types()", lossy);
}


/* Lossless options: HUGEINT/UHUGEINT/TIME_TZ/BIT/BIGNUM as arrow.opaque, UUID as arrow.uuid. */
static void test_lossless(void **state) {
    (void)state;
    exec("SET arrow_lossless_conversion = true");
    roundtrip("SELECT * FROM test_all_types()", NULL);
    exec("RESET arrow_lossless_conversion");
}

/* 64-bit offsets: VARCHAR as U, BLOB as Z, LIST as +L. */
static void test_large_buffers(void **state) {
    (void)state;
    static const char *const lossy[] = {"time_tz", "bit", NULL};
    exec("SET arrow_large_buffer_size = true");
    roundtrip("SELECT * EXCLUDE (hugeint) FROM test_all_types()", lossy);
    exec("RESET arrow_large_buffer_size");
}

/*
 * Utf8View / BinaryView (arrow_output_version 1.5): inline and out-of-line
 * strings.  Left out, DuckDB 1.4.4 bugs in this mode: it describes an
 * ENUM's dictionary as "u" and BIGNUM as "z" but exports view arrays (4
 * buffers), which the writer must refuse (checked below) rather than read
 * views as offsets; and its UUID views are uninitialized memory (36-byte
 * strings without a data buffer, or random bytes), which the reader rejects
 * when they point outside and cannot tell from data when they do not.
 */
static void test_string_views(void **state) {
    (void)state;
    static const char *const lossy[] = {"time_tz", "bit", NULL};
    exec("SET produce_arrow_string_view = true");
    exec("SET arrow_output_version = '1.5'");
    roundtrip(
        "SELECT * EXCLUDE (hugeint, bignum, uuid, small_enum, medium_enum, large_enum) FROM "
        "test_all_types() UNION ALL "
        "SELECT t.* EXCLUDE (hugeint, bignum, uuid, small_enum, medium_enum, large_enum) REPLACE "
        "(repeat('long string ', i::INT) AS varchar, repeat('\\xAA'::BLOB, i::INT) AS blob) "
        "FROM test_all_types() t, range(20) r(i)",
        lossy);

    exported ex;
    export_query("SELECT 'a'::ENUM('a', 'b') AS e", &ex);
    md_ipc_writer *w = NULL;
    char *err = NULL;
    assert_int_equal(md_ipc_writer_create(&ex.schema, &w, &err), MD_OK);
    md_buf s = MD_BUF_INIT;
    assert_int_equal(md_ipc_write_batch(w, &ex.b.a[0], &s, &err), MD_EINVAL);
    assert_non_null(strstr(err, "4 buffers"));
    assert_int_equal(s.len, 0);
    free(err);
    md_buf_free(&s);
    md_ipc_writer_destroy(&w);
    exported_free(&ex);
}

/* Teardown of the tests that change Arrow export settings (runs even when they fail). */
static int reset_settings(void **state) {
    (void)state;
    static const char *const names[] = {"produce_arrow_string_view", "arrow_output_version",
                                        "arrow_lossless_conversion", "arrow_large_buffer_size", "TimeZone"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "RESET %s", names[i]);
        duckdb_result r;
        duckdb_query(con, sql, &r);
        duckdb_destroy_result(&r);
    }
    return 0;
}

static void test_timezone(void **state) {
    (void)state;
    exec("SET TimeZone = 'America/New_York'");
    roundtrip("SELECT TIMESTAMPTZ '2021-03-14 01:59:59+00' + INTERVAL (i) HOUR AS t, "
              "[TIMESTAMPTZ '1970-01-01 00:00:00+00'] AS l FROM range(5) r(i)", NULL);
    exec("RESET TimeZone");
}

/* An empty result: schema and EOS only; the schema still round-trips. */
static void test_empty_result(void **state) {
    (void)state;
    size_t n = roundtrip("SELECT * FROM test_all_types() WHERE false", NULL);
    assert_int_equal(n, 0);
}

static void test_all_null(void **state) {
    (void)state;
    size_t n = roundtrip(
        "SELECT NULL::INT a, NULL::VARCHAR b, NULL::INT[] c, NULL::STRUCT(x INT, y VARCHAR) d, "
        "NULL::MAP(VARCHAR, INT) e, NULL::ENUM('p', 'q') f, NULL::DECIMAL(20, 4) g, "
        "NULL::INT[3] h, NULL::UNION(k INT, v VARCHAR) u, NULL::BOOLEAN i, NULL::BLOB j, "
        "NULL::INTERVAL k, NULL AS untyped FROM range(7)",
        NULL);
    assert_int_equal(n, 1);
}

/* > 2048 rows: several batches, each with its own nulls and offsets. */
static void test_multi_chunk(void **state) {
    (void)state;
    size_t n = roundtrip("SELECT i, i::VARCHAR || repeat('x', (i % 7)::INT) AS s, "
                         "CASE WHEN i % 3 = 0 THEN NULL ELSE i * 1.5 END AS d, "
                         "CASE WHEN i % 5 = 0 THEN NULL ELSE [i, NULL, i + 1] END AS l, "
                         "{'a': i, 'b': CASE WHEN i % 2 = 0 THEN NULL ELSE 'odd' END} AS st, "
                         "(i % 2 = 0) AS b, ('e' || (i % 4))::ENUM('e0', 'e1', 'e2', 'e3') AS e "
                         "FROM range(10000) r(i)", NULL);
    assert_true(n >= 5);
}

static void test_nested(void **state) {
    (void)state;
    size_t n =
        roundtrip("SELECT [{'a': i, 'b': [i::VARCHAR, NULL]}, NULL, {'a': NULL, 'b': []}] AS "
                  "list_of_structs, "
                  "MAP {i::VARCHAR: [i, i], 'k': NULL} AS map_of_lists, "
                  "[MAP {'x': {'y': [i]}}] AS list_of_maps, "
                  "{'e': ('v' || (i % 3))::ENUM('v0', 'v1', 'v2'), 'l': [('v' || (i % "
                  "2))::ENUM('v0', 'v1', 'v2')]} AS enums, "
                  "[[[[i]]], NULL, [[], [NULL]]] AS deep, "
                  "CASE WHEN i % 2 = 0 THEN union_value(k := i::INT)::UNION(k INT, s VARCHAR) "
                  "ELSE union_value(s := 'str' || i)::UNION(k INT, s VARCHAR) END AS u, "
                  "[i::INT, NULL, 3]::INT[3] AS arr, [[1, 2], [3, 4]]::INT[2][2] AS arr2, "
                  "[{'z': [1.5::DECIMAL(30, 2)]}]::STRUCT(z DECIMAL(30, 2)[])[1] AS arr_struct "
                  "FROM range(3000) r(i)",
                  NULL);
    assert_true(n >= 2);
}

/* ENUMs of every index width (uint8, uint16, uint32), with NULLs. */
static void test_enums(void **state) {
    (void)state;
    exec("CREATE OR REPLACE TYPE e_big AS ENUM (SELECT 'v' || i FROM range(70000) r(i))");
    exec("CREATE OR REPLACE TYPE e_mid AS ENUM (SELECT 'w' || i FROM range(300) r(i))");
    roundtrip("SELECT CASE WHEN i % 11 = 0 THEN NULL ELSE ('v' || (i * 7 % 70000))::e_big END AS big, "
              "('w' || (i % 300))::e_mid AS mid, ('x' || (i % 2))::ENUM('x0', 'x1') AS small "
              "FROM range(5000) r(i)",
              NULL);
}

/* ---- tests: writer details --------------------------------------------------- */

/* A shallow copy of an array's top level with another offset and length. */
static struct ArrowArray shifted(const struct ArrowArray *a, int64_t off, int64_t len) {
    struct ArrowArray c = *a;
    c.offset = off;
    c.length = len;
    c.null_count = -1; /* "unknown", as the C data interface allows */
    return c;
}

/* Arrays with non-zero offsets: the writer shifts bitmaps, rebases offsets, slices children. */
static void test_sliced_input(void **state) {
    (void)state;
    exported ex;
    exec("CREATE OR REPLACE TABLE sliced AS SELECT * EXCLUDE (hugeint) FROM test_all_types(), range(3)");
    export_query("SELECT * FROM sliced", &ex);
    assert_int_equal(ex.b.n, 1);
    const struct ArrowArray *orig = &ex.b.a[0];
    int64_t n = orig->length;
    assert_int_equal(n, 9);
    md_ipc_writer *w = NULL;
    char *err = NULL;
    assert_int_equal(md_ipc_writer_create(&ex.schema, &w, &err), MD_OK);

    for (int64_t off = 0; off < n; off++) {
        for (int64_t len = 0; off + len <= n; len += 2) {
            /* 1: offset on the batch */
            struct ArrowArray b1 = shifted(orig, off, len);
            /* 2: the same rows through offsets on every column */
            struct ArrowArray cols[64];
            struct ArrowArray *colp[64];
            assert_true(orig->n_children <= 64);
            for (int64_t c = 0; c < orig->n_children; c++) {
                cols[c] = shifted(orig->children[c], off, orig->children[c]->length - off);
                colp[c] = &cols[c];
            }
            struct ArrowArray b2 = *orig;
            b2.length = len;
            b2.children = colp;
            const struct ArrowArray *inputs[2] = {&b1, &b2};
            for (int k = 0; k < 2; k++) {
                md_buf s = MD_BUF_INIT;
                md_ipc_write_schema(w, &s);
                int rc = md_ipc_write_batch(w, inputs[k], &s, &err);
                if (rc != MD_OK) fail_msg("write_batch: %s", err);
                md_ipc_write_eos(&s);
                batches rb = {0};
                rc = decode(s.data, s.len, 0, NULL, &rb, NULL, &err);
                if (rc != MD_OK) fail_msg("decode: %s", err);
                assert_int_equal(rb.n, 1);
                assert_int_equal(rb.a[0].length, len);
                assert_rows_equal(&ex.schema, orig, off, &rb.a[0], 0, len);
                batches_free(&rb);
                md_buf_free(&s);
            }
        }
    }
    md_ipc_writer_destroy(&w);
    exported_free(&ex);
}

/* A dictionary is written again only when it changes. */
static void test_dictionary_once(void **state) {
    (void)state;
    exported ex;
    export_query("SELECT ('e' || (i % 3))::ENUM('e0', 'e1', 'e2') AS e FROM range(5000) r(i)", &ex);
    assert_true(ex.b.n >= 3);
    md_buf s = MD_BUF_INIT;
    encode(&ex, &s);
    int msgs = 0;
    char *err = NULL;
    assert_int_equal(decode(s.data, s.len, 0, NULL, NULL, &msgs, &err), MD_OK);
    /* schema + one dictionary + batches + EOS */
    assert_int_equal(msgs, (int)ex.b.n + 3);
    md_buf_free(&s);
    exported_free(&ex);
}

static void test_writer_rejects(void **state) {
    (void)state;
    char *err = NULL;
    md_ipc_writer *w = NULL;
    /* a run-end encoded column: no IPC encoding here */
    struct ArrowSchema ends = {.format = "i", .name = "run_ends"}, vals = {.format = "u", .name = "values"};
    struct ArrowSchema *ree_kids[2] = {&ends, &vals};
    struct ArrowSchema ree = {.format = "+r", .name = "v", .n_children = 2, .children = ree_kids};
    struct ArrowSchema *cols[1] = {&ree};
    struct ArrowSchema root = {.format = "+s", .name = "", .n_children = 1, .children = cols};
    assert_int_equal(md_ipc_writer_create(&root, &w, &err), MD_EUNSUPPORTED);
    assert_null(w);
    assert_non_null(err);
    assert_non_null(strstr(err, "'v'"));
    assert_non_null(strstr(err, "+r"));
    free(err);
    err = NULL;

    /* a non-struct schema */
    assert_int_equal(md_ipc_writer_create(&vals, &w, &err), MD_EINVAL);
    free(err);
    err = NULL;

    /* a batch that does not match the schema */
    exported a, b;
    export_query("SELECT 1::INT AS x", &a);
    export_query("SELECT 1::INT AS x, 2::INT AS y", &b);
    assert_int_equal(md_ipc_writer_create(&a.schema, &w, &err), MD_OK);
    md_buf s = MD_BUF_INIT;
    assert_int_equal(md_ipc_write_batch(w, &b.b.a[0], &s, &err), MD_EINVAL);
    assert_non_null(err);
    free(err);
    err = NULL;
    assert_int_equal(s.len, 0);
    md_ipc_writer_destroy(&w);
    md_buf_free(&s);
    exported_free(&a);
    exported_free(&b);
}

/* The bytes of message k of stream s. */
static void message_bytes(const md_buf *s, int k, size_t *out_pos, size_t *out_len) {
    size_t pos = 0;
    for (int i = 0;; i++) {
        uint32_t m = md_get_u32le(s->data + pos + 4);
        int64_t body = 0;
        if (m) {
            md_fb_table msg;
            assert_int_equal(md_fb_root(s->data + pos + 8, m, &msg), MD_OK);
            md_fb_i64(&msg, 3, 0, &body);
        }
        size_t len = 8 + m + (size_t)body;
        if (i == k) {
            *out_pos = pos;
            *out_len = len;
            return;
        }
        pos += len;
    }
}

static void append_message(md_buf *out, const md_buf *s, int k) {
    size_t pos, len;
    message_bytes(s, k, &pos, &len);
    md_buf_append(out, s->data + pos, len);
}

/* A delta dictionary batch is appended to the dictionary in force. */
static void test_delta_dictionary(void **state) {
    (void)state;
    exported a, b;
    export_query("SELECT ('a' || (i % 2))::ENUM('a0', 'a1') AS e FROM range(4) r(i)", &a);
    export_query("SELECT ('b' || (i % 3))::ENUM('b0', 'b1', 'b2') AS e FROM range(3) r(i)", &b);
    md_buf sa = MD_BUF_INIT, sb = MD_BUF_INIT, s = MD_BUF_INIT;
    encode(&a, &sa); /* schema, dictionary, batch, EOS */
    encode(&b, &sb);
    append_message(&s, &sa, 0);
    append_message(&s, &sa, 1);
    size_t dpos = s.len;
    append_message(&s, &sb, 1);
    append_message(&s, &sa, 2);
    md_ipc_write_eos(&s);
    /* set DictionaryBatch.isDelta (field 2) of the second dictionary */
    md_fb_table msg, hdr;
    assert_int_equal(md_fb_root(s.data + dpos + 8, md_get_u32le(s.data + dpos + 4), &msg), MD_OK);
    assert_int_equal(md_fb_table_field(&msg, 2, &hdr), 1);
    uint16_t off = md_get_u16le(hdr.buf + hdr.vt + 4 + 2 * 2);
    assert_true(off != 0);
    s.data[dpos + 8 + hdr.pos + off] = 1;

    batches rb = {0};
    struct ArrowSchema rs;
    char *err = NULL;
    int rc = decode(s.data, s.len, 0, &rs, &rb, NULL, &err);
    if (rc != MD_OK) fail_msg("decode: %s", err);
    assert_int_equal(rb.n, 1);
    const struct ArrowArray *col = rb.a[0].children[0];
    const struct ArrowArray *dict = col->dictionary;
    assert_int_equal(dict->length, 5);
    static const char *const want[] = {"a0", "a1", "b0", "b1", "b2"};
    const int32_t *offs = dict->buffers[1];
    for (int i = 0; i < 5; i++) {
        assert_int_equal(offs[i + 1] - offs[i], 2);
        assert_memory_equal((const char *)dict->buffers[2] + offs[i], want[i], 2);
    }
    /* the batch itself still reads a0, a1, a0, a1 */
    assert_rows_equal(&a.schema, &a.b.a[0], 0, &rb.a[0], 0, 4);
    rs.release(&rs);
    batches_free(&rb);
    md_buf_free(&sa);
    md_buf_free(&sb);
    md_buf_free(&s);
    exported_free(&a);
    exported_free(&b);
}

/* ---- tests: md_ipc_write_batches (several arrays as one record batch) ------------ */

/* Release callback of arrays built by hand in a test (they own nothing). */
static void release_noop(struct ArrowArray *a) { a->release = NULL; }

/* Shallow copies of arrays made by a test, freed together. */
typedef struct keep {
    void **p;
    size_t n, cap;
} keep;

static void *keep_alloc(keep *k, size_t size) {
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 64;
        k->p = realloc(k->p, k->cap * sizeof *k->p);
    }
    return k->p[k->n++] = calloc(1, size);
}

static void keep_free(keep *k) {
    for (size_t i = 0; i < k->n; i++) free(k->p[i]);
    free(k->p);
    memset(k, 0, sizeof *k);
}

/* The input arrays of md_ipc_write_batches, in order (not owned). */
typedef struct pieces {
    const struct ArrowArray **p;
    size_t n, cap;
    long long rows;
} pieces;

static void pieces_push(pieces *ps, const struct ArrowArray *a) {
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 64;
        ps->p = realloc(ps->p, ps->cap * sizeof *ps->p);
    }
    ps->p[ps->n++] = a;
    ps->rows += a->length;
}

static int has_validity(const char *format) {
    return strcmp(format, "n") && strncmp(format, "+u", 2);
}

/*
 * Rows [off, off + len) of batch a (offset 0) as a new shallow array, by kind:
 *   0: an offset on the batch;
 *   1: an offset on every column;
 *   2: like 1, and a column without nulls in those rows has no validity buffer.
 */
static const struct ArrowArray *piece_of(keep *k, const struct ArrowSchema *s, const struct ArrowArray *a,
                                         int64_t off, int64_t len, int kind) {
    struct ArrowArray *b = keep_alloc(k, sizeof *b);
    if (kind == 0) {
        *b = shifted(a, off, len);
        return b;
    }
    *b = *a;
    b->length = len;
    b->null_count = 0;
    b->children = keep_alloc(k, (size_t)a->n_children * sizeof *b->children + 1);
    for (int64_t c = 0; c < a->n_children; c++) {
        const struct ArrowArray *col = a->children[c];
        struct ArrowArray *nc = keep_alloc(k, sizeof *nc);
        *nc = shifted(col, col->offset + off, col->length - off);
        if (kind == 2 && has_validity(s->children[c]->format) && col->buffers[0]) {
            int64_t nulls = 0;
            for (int64_t i = 0; i < len; i++) {
                int64_t p = col->offset + off + i;
                nulls += !((((const uint8_t *)col->buffers[0])[p >> 3] >> (p & 7)) & 1);
            }
            if (nulls == 0) {
                const void **bufs = keep_alloc(k, (size_t)col->n_buffers * sizeof *bufs);
                memcpy(bufs, col->buffers, (size_t)col->n_buffers * sizeof *bufs);
                bufs[0] = NULL;
                nc->buffers = bufs;
                nc->null_count = 0;
            }
        }
        b->children[c] = nc;
    }
    return b;
}

/*
 * Cut every batch of `b` into pieces of varied sizes and kinds, with empty
 * pieces here and there; each batch also goes whole first (rows may repeat:
 * pieces are compared with what was written, not with the source table).
 */
static void cut_pieces(keep *k, const struct ArrowSchema *s, const batches *b, pieces *out) {
    unsigned seed = 12345;
    for (size_t i = 0; i < b->n; i++) {
        const struct ArrowArray *a = &b->a[i];
        pieces_push(out, a);
        int64_t n = a->length;
        for (int64_t pos = 0; pos < n;) {
            seed = seed * 1103515245u + 12345u;
            int64_t len = 1 + (int64_t)((seed >> 8) % (unsigned)(n < 8 ? 2 : n / 3));
            if (len > n - pos) len = n - pos;
            int kind = (int)((seed >> 20) % 3);
            pieces_push(out, piece_of(k, s, a, pos, len, kind));
            if ((seed >> 24) % 4 == 0) pieces_push(out, piece_of(k, s, a, pos, 0, (kind + 1) % 3));
            pos += len;
        }
    }
}

/* A stream of schema, ps written `group` arrays per md_ipc_write_batches call, EOS. */
static void encode_grouped(const struct ArrowSchema *schema, const pieces *ps, size_t group, md_buf *out) {
    md_ipc_writer *w = NULL;
    char *err = NULL;
    if (md_ipc_writer_create(schema, &w, &err) != MD_OK) fail_msg("writer_create: %s", err);
    md_ipc_write_schema(w, out);
    for (size_t i = 0; i < ps->n; i += group) {
        size_t n = ps->n - i < group ? ps->n - i : group;
        size_t before = out->len;
        int rc = md_ipc_write_batches(w, ps->p + i, n, out, &err);
        if (rc != MD_OK) fail_msg("write_batches(%zu arrays): %s", n, err);
        assert_true(out->len > before);
    }
    md_ipc_write_eos(out);
    md_ipc_writer_destroy(&w);
}

/* The bits of a bitmap's last byte past the array's end are zero (the writer's padding). */
static void assert_bitmap_tail_zero(const void *bits, int64_t end) {
    if (!bits || (end & 7) == 0) return;
    uint8_t last = ((const uint8_t *)bits)[end >> 3];
    if (last >> (end & 7)) fail_msg("bitmap bits past %lld are set (byte %02x)", (long long)end, last);
}

/* Decode `s`: one batch per group, whose rows are those of the group's pieces in order. */
static void check_grouped(const struct ArrowSchema *schema, const pieces *ps, size_t group, const md_buf *s,
                          int *out_msgs) {
    check_layout(s->data, s->len);
    batches rb = {0};
    char *err = NULL;
    int rc = decode(s->data, s->len, 0, NULL, &rb, out_msgs, &err);
    if (rc != MD_OK) fail_msg("decode: %s (%s)", md_strerror(rc), err ? err : "");
    assert_int_equal(rb.n, (ps->n + group - 1) / group);
    assert_int_equal(rb.rows, ps->rows);
    for (size_t g = 0; g < rb.n; g++) {
        int64_t row = 0;
        for (size_t i = g * group; i < ps->n && i < (g + 1) * group; i++) {
            assert_rows_equal(schema, ps->p[i], 0, &rb.a[g], row, ps->p[i]->length);
            row += ps->p[i]->length;
        }
        assert_int_equal(rb.a[g].length, row);
        for (int64_t c = 0; c < schema->n_children; c++) {
            const struct ArrowArray *col = rb.a[g].children[c];
            if (has_validity(schema->children[c]->format) && col->null_count)
                assert_bitmap_tail_zero(col->buffers[0], col->offset + col->length);
            if (!strcmp(schema->children[c]->format, "b"))
                assert_bitmap_tail_zero(col->buffers[1], col->offset + col->length);
        }
    }
    batches_free(&rb);
}

/* n == 1 gives exactly the bytes of md_ipc_write_batch, dictionaries included. */
static void assert_single_identical(const struct ArrowSchema *schema, const pieces *ps) {
    md_ipc_writer *w1 = NULL, *w2 = NULL;
    char *err = NULL;
    assert_int_equal(md_ipc_writer_create(schema, &w1, &err), MD_OK);
    assert_int_equal(md_ipc_writer_create(schema, &w2, &err), MD_OK);
    md_buf a = MD_BUF_INIT, b = MD_BUF_INIT;
    md_ipc_write_schema(w1, &a);
    md_ipc_write_schema(w2, &b);
    for (size_t i = 0; i < ps->n; i++) {
        if (md_ipc_write_batch(w1, ps->p[i], &a, &err) != MD_OK) fail_msg("write_batch: %s", err);
        if (md_ipc_write_batches(w2, &ps->p[i], 1, &b, &err) != MD_OK) fail_msg("write_batches: %s", err);
        assert_int_equal(a.len, b.len);
    }
    assert_memory_equal(a.data, b.data, a.len);
    md_buf_free(&a);
    md_buf_free(&b);
    md_ipc_writer_destroy(&w1);
    md_ipc_writer_destroy(&w2);
}

/*
 * The result of `sql` cut into pieces (cut_pieces), written 1, 2, 3, 16 and
 * all at a time, read back and compared value by value with the pieces.
 * Returns the number of pieces.
 */
static size_t concat_case(const char *sql) {
    exported ex;
    export_query(sql, &ex);
    keep k = {0};
    pieces ps = {0};
    cut_pieces(&k, &ex.schema, &ex.b, &ps);
    assert_true(ps.n > ex.b.n);
    const size_t groups[] = {1, 2, 3, 16, ps.n};
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
        md_buf s = MD_BUF_INIT;
        encode_grouped(&ex.schema, &ps, groups[g], &s);
        check_grouped(&ex.schema, &ps, groups[g], &s, NULL);
        md_buf_free(&s);
    }
    assert_single_identical(&ex.schema, &ps);
    size_t n = ps.n;
    free(ps.p);
    keep_free(&k);
    exported_free(&ex);
    return n;
}

/*
 * Every type of test_all_types(), under each Arrow export setting the round
 * trips use (HUGEINT included: nothing here goes through DuckDB's import).
 */
static void test_batches_all_types(void **state) {
    (void)state;
    concat_case("SELECT * FROM test_all_types()");
    exec("SET arrow_lossless_conversion = true");
    concat_case("SELECT * FROM test_all_types()");
    exec("RESET arrow_lossless_conversion");
    exec("SET arrow_large_buffer_size = true");
    concat_case("SELECT * FROM test_all_types()");
    exec("RESET arrow_large_buffer_size");
    /* views: pieces of one batch share its data buffers, pieces of two batches do not */
    exec("SET produce_arrow_string_view = true");
    exec("SET arrow_output_version = '1.5'");
    concat_case("SELECT * EXCLUDE (hugeint, bignum, uuid, small_enum, medium_enum, large_enum) FROM "
                "test_all_types() UNION ALL "
                "SELECT t.* EXCLUDE (hugeint, bignum, uuid, small_enum, medium_enum, large_enum) REPLACE "
                "(repeat('long string ', (i % 40)::INT) AS varchar, repeat('\\xAA'::BLOB, (i % 40)::INT) AS "
                "blob) FROM test_all_types() t, range(700) r(i)");
}

/* Several DuckDB chunks with NULLs, strings, lists, structs, booleans, enums; large variants too. */
static void test_batches_multi_chunk(void **state) {
    (void)state;
    static const char sql[] =
        "SELECT i, i::VARCHAR || repeat('x', (i % 7)::INT) AS s, "
        "CASE WHEN i % 3 = 0 THEN NULL ELSE i * 1.5 END AS d, "
        "CASE WHEN i % 5 = 0 THEN NULL ELSE [i, NULL, i + 1] END AS l, "
        "{'a': i, 'b': CASE WHEN i % 2 = 0 THEN NULL ELSE 'odd' END} AS st, "
        "(i % 2 = 0) AS b, CASE WHEN i % 13 = 0 THEN NULL ELSE i % 3 = 0 END AS nb, "
        "('e' || (i % 4))::ENUM('e0', 'e1', 'e2', 'e3') AS e, "
        "CASE WHEN i % 9 = 0 THEN NULL ELSE i::VARCHAR::BLOB END AS bl FROM range(10000) r(i)";
    concat_case(sql);
    exec("SET arrow_large_buffer_size = true");
    concat_case(sql);
    exec("RESET arrow_large_buffer_size");
}

/* Nested types: lists of structs, maps, enums inside structs and lists, unions, arrays. */
static void test_batches_nested(void **state) {
    (void)state;
    concat_case("SELECT [{'a': i, 'b': [i::VARCHAR, NULL]}, NULL, {'a': NULL, 'b': []}] AS "
                "list_of_structs, "
                "MAP {i::VARCHAR: [i, i], 'k': NULL} AS map_of_lists, "
                "[MAP {'x': {'y': [i]}}] AS list_of_maps, "
                "{'e': ('v' || (i % 3))::ENUM('v0', 'v1', 'v2'), 'l': [('v' || (i % "
                "2))::ENUM('v0', 'v1', 'v2')]} AS enums, "
                "[[[[i]]], NULL, [[], [NULL]]] AS deep, "
                "CASE WHEN i % 2 = 0 THEN union_value(k := i::INT)::UNION(k INT, s VARCHAR) "
                "ELSE union_value(s := 'str' || i)::UNION(k INT, s VARCHAR) END AS u, "
                "[i::INT, NULL, 3]::INT[3] AS arr, [[1, 2], [3, 4]]::INT[2][2] AS arr2, "
                "[{'z': [1.5::DECIMAL(30, 2)]}]::STRUCT(z DECIMAL(30, 2)[])[1] AS arr_struct, "
                "CASE WHEN i % 4 = 0 THEN NULL ELSE [i % 2 = 0, NULL] END AS bools "
                "FROM range(3000) r(i)");
}

/* A batch that is all NULL between batches that are not, and an all-NULL result. */
static void test_batches_all_null(void **state) {
    (void)state;
    concat_case("SELECT CASE WHEN i BETWEEN 2048 AND 4095 THEN NULL ELSE i::INT END AS a, "
                "CASE WHEN i BETWEEN 2048 AND 4095 THEN NULL ELSE 's' || i END AS b, "
                "CASE WHEN i BETWEEN 2048 AND 4095 THEN NULL ELSE [i, i] END AS c, "
                "CASE WHEN i BETWEEN 2048 AND 4095 THEN NULL ELSE {'x': i, 'y': 'v'} END AS d, "
                "CASE WHEN i BETWEEN 2048 AND 4095 THEN NULL ELSE MAP {'k': i} END AS e, "
                "CASE WHEN i BETWEEN 2048 AND 4095 THEN NULL ELSE 'p'::ENUM('p', 'q') END AS f, "
                "CASE WHEN i BETWEEN 2048 AND 4095 THEN NULL ELSE i % 2 = 0 END AS g, "
                "NULL AS untyped FROM range(5000) r(i)");
    concat_case("SELECT NULL::INT a, NULL::VARCHAR b, NULL::INT[] c, NULL::STRUCT(x INT, y VARCHAR) d, "
                "NULL::MAP(VARCHAR, INT) e, NULL::ENUM('p', 'q') f, NULL::DECIMAL(20, 4) g, "
                "NULL::INT[3] h, NULL::UNION(k INT, v VARCHAR) u, NULL::BOOLEAN i, NULL::BLOB j, "
                "NULL::INTERVAL k, NULL AS untyped FROM range(7)");
}

/* ENUMs of every index width: each DuckDB batch carries its own copy of the dictionary. */
static void test_batches_enums(void **state) {
    (void)state;
    exec("CREATE OR REPLACE TYPE e_big AS ENUM (SELECT 'v' || i FROM range(70000) r(i))");
    exec("CREATE OR REPLACE TYPE e_mid AS ENUM (SELECT 'w' || i FROM range(300) r(i))");
    concat_case("SELECT CASE WHEN i % 11 = 0 THEN NULL ELSE ('v' || (i * 7 % 70000))::e_big END AS big, "
                "('w' || (i % 300))::e_mid AS mid, ('x' || (i % 2))::ENUM('x0', 'x1') AS small "
                "FROM range(5000) r(i)");

    /* the dictionary is written once for the whole stream */
    exported ex;
    export_query("SELECT ('e' || (i % 3))::ENUM('e0', 'e1', 'e2') AS e FROM range(9000) r(i)", &ex);
    assert_true(ex.b.n >= 4);
    assert_true(ex.b.a[0].children[0]->dictionary != ex.b.a[1].children[0]->dictionary);
    pieces ps = {0};
    for (size_t i = 0; i < ex.b.n; i++) pieces_push(&ps, &ex.b.a[i]);
    md_buf s = MD_BUF_INIT;
    encode_grouped(&ex.schema, &ps, 2, &s);
    int msgs = 0;
    check_grouped(&ex.schema, &ps, 2, &s, &msgs);
    assert_int_equal(msgs, (int)(ps.n + 1) / 2 + 3); /* schema, dictionary, batches, EOS */
    md_buf_free(&s);
    free(ps.p);
    exported_free(&ex);
}

/* Dense unions (DuckDB writes only sparse ones): offsets are rebased per child. */
static void test_batches_dense_union(void **state) {
    (void)state;
    /* column u: +ud:5,7 of (i: int32, s: utf8), 10 rows; the children start at offset 1 */
    static const int8_t types[10] = {5, 7, 7, 5, 5, 7, 5, 7, 7, 5};
    static const int32_t offs[10] = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4};
    static const int32_t ints[6] = {-1, 10, 11, 12, 13, 14};
    static const uint8_t ivalid[1] = {0x3B}; /* child row 2 (value 11) is NULL */
    static const int32_t soffs[7] = {0, 1, 3, 3, 3, 7, 8};
    static const char sdata[] = "xaabdddde";
    const void *ibufs[2] = {ivalid, ints}, *sbufs[3] = {NULL, soffs, sdata};
    const void *ubufs[2] = {types, offs}, *rbufs[1] = {NULL};
    struct ArrowArray ia = {.length = 5, .null_count = 1, .offset = 1, .n_buffers = 2, .buffers = ibufs,
                            .release = release_noop};
    struct ArrowArray sa = {.length = 5, .offset = 1, .n_buffers = 3, .buffers = sbufs,
                            .release = release_noop};
    struct ArrowArray *ukids[2] = {&ia, &sa};
    struct ArrowArray ua = {.length = 10, .n_buffers = 2, .buffers = ubufs, .n_children = 2,
                            .children = ukids, .release = release_noop};
    struct ArrowArray *cols[1] = {&ua};
    struct ArrowArray root = {.length = 10, .n_buffers = 1, .buffers = rbufs, .n_children = 1,
                              .children = cols, .release = release_noop};
    struct ArrowSchema si = {.format = "i", .name = "i", .flags = ARROW_FLAG_NULLABLE};
    struct ArrowSchema ss = {.format = "u", .name = "s", .flags = ARROW_FLAG_NULLABLE};
    struct ArrowSchema *skids[2] = {&si, &ss};
    struct ArrowSchema su = {.format = "+ud:5,7", .name = "u", .n_children = 2, .children = skids};
    struct ArrowSchema *scols[1] = {&su};
    struct ArrowSchema schema = {.format = "+s", .name = "", .n_children = 1, .children = scols};

    /* a second array with other children, so that unrebased offsets would read wrong values */
    static const int8_t types2[4] = {7, 5, 7, 7};
    static const int32_t offs2[4] = {0, 0, 1, 2};
    static const int32_t ints2[1] = {99};
    static const int32_t soffs2[4] = {0, 2, 5, 9};
    static const char sdata2[] = "pqrstuvwx";
    const void *ibufs2[2] = {NULL, ints2}, *sbufs2[3] = {NULL, soffs2, sdata2};
    const void *ubufs2[2] = {types2, offs2};
    struct ArrowArray ia2 = {.length = 1, .n_buffers = 2, .buffers = ibufs2, .release = release_noop};
    struct ArrowArray sa2 = {.length = 3, .n_buffers = 3, .buffers = sbufs2, .release = release_noop};
    struct ArrowArray *ukids2[2] = {&ia2, &sa2};
    struct ArrowArray ua2 = {.length = 4, .n_buffers = 2, .buffers = ubufs2, .n_children = 2,
                             .children = ukids2, .release = release_noop};
    struct ArrowArray *cols2[1] = {&ua2};
    struct ArrowArray root2 = {.length = 4, .n_buffers = 1, .buffers = rbufs, .n_children = 1,
                               .children = cols2, .release = release_noop};

    batches two = {0};
    batches_push(&two, &root);
    batches_push(&two, &root2);
    batches_push(&two, &root);
    keep k = {0};
    pieces ps = {0};
    cut_pieces(&k, &schema, &two, &ps);
    const size_t groups[] = {1, 2, 3, ps.n};
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
        md_buf s = MD_BUF_INIT;
        encode_grouped(&schema, &ps, groups[g], &s);
        check_grouped(&schema, &ps, groups[g], &s, NULL);
        md_buf_free(&s);
    }
    assert_single_identical(&schema, &ps);
    free(ps.p);
    free(two.a);
    keep_free(&k);
}

/*
 * Dictionaries compared by contents, not address: utf8 values with NULLs and
 * offsets that start elsewhere (the direct comparison), and list values
 * (compared through their plans).
 */
static void test_batches_dictionary_values(void **state) {
    (void)state;
    /* utf8: A = ["x", "yy", NULL]; B = the same after an extra "zz" (offset 1); C = ["x", "yz", NULL] */
    static const uint8_t va[1] = {0x03}, vb[1] = {0x07};
    static const int32_t oa[4] = {0, 1, 3, 3}, ob[5] = {0, 2, 3, 5, 5};
    const void *ua[3] = {va, oa, "xyy"}, *ub[3] = {vb, ob, "zzxyy"}, *uc[3] = {va, oa, "xyz"};
    struct ArrowArray ua_d = {.length = 3, .null_count = 1, .n_buffers = 3, .buffers = ua,
                            .release = release_noop};
    struct ArrowArray ub_d = {.length = 3, .null_count = 1, .offset = 1, .n_buffers = 3, .buffers = ub,
                            .release = release_noop};
    struct ArrowArray uc_d = {.length = 3, .null_count = 1, .n_buffers = 3, .buffers = uc,
                            .release = release_noop};
    /* D: the bytes of B with other boundaries: ["xy", "y", NULL] */
    static const int32_t od[5] = {0, 2, 4, 5, 5};
    const void *ud[3] = {vb, od, "zzxyy"};
    struct ArrowArray ud_d = {.length = 3, .null_count = 1, .offset = 1, .n_buffers = 3, .buffers = ud,
                              .release = release_noop};
    /* list<int32>: A = [[1, 2], [3]]; B = the same at child offset 2; C = [[1, 2], [4]] */
    static const int32_t ca[3] = {1, 2, 3}, cb[5] = {9, 9, 1, 2, 3}, cc[3] = {1, 2, 4};
    static const int32_t la[3] = {0, 2, 3}, lb[3] = {2, 4, 5};
    const void *kba[2] = {NULL, ca}, *kbb[2] = {NULL, cb}, *kbc[2] = {NULL, cc};
    struct ArrowArray ka = {.length = 3, .n_buffers = 2, .buffers = kba, .release = release_noop};
    struct ArrowArray kb = {.length = 5, .n_buffers = 2, .buffers = kbb, .release = release_noop};
    struct ArrowArray kc = {.length = 3, .n_buffers = 2, .buffers = kbc, .release = release_noop};
    struct ArrowArray *kpa[1] = {&ka}, *kpb[1] = {&kb}, *kpc[1] = {&kc};
    const void *lba[2] = {NULL, la}, *lbb[2] = {NULL, lb}, *lbc[2] = {NULL, la};
    struct ArrowArray lda = {.length = 2, .n_buffers = 2, .buffers = lba, .n_children = 1, .children = kpa,
                             .release = release_noop};
    struct ArrowArray ldb = {.length = 2, .n_buffers = 2, .buffers = lbb, .n_children = 1, .children = kpb,
                             .release = release_noop};
    struct ArrowArray ldc = {.length = 2, .n_buffers = 2, .buffers = lbc, .n_children = 1, .children = kpc,
                             .release = release_noop};
    /* indexes: rows u = 0, 1, 2, 1 and l = 1, 0, 1, 0 */
    static const int8_t iu[4] = {0, 1, 2, 1}, il[4] = {1, 0, 1, 0};
    const void *ibu[2] = {NULL, iu}, *ibl[2] = {NULL, il}, *rb[1] = {NULL};
    struct ArrowArray cols[3][2], roots[3], *colp[3][2];
    const struct ArrowArray *udict[3] = {&ua_d, &ub_d, &uc_d}, *ldict[3] = {&lda, &ldb, &ldc};
    for (int i = 0; i < 3; i++) {
        cols[i][0] = (struct ArrowArray){.length = 4, .n_buffers = 2, .buffers = ibu,
                                         .dictionary = (struct ArrowArray *)udict[i],
                                         .release = release_noop};
        cols[i][1] = (struct ArrowArray){.length = 4, .n_buffers = 2, .buffers = ibl,
                                         .dictionary = (struct ArrowArray *)ldict[i],
                                         .release = release_noop};
        colp[i][0] = &cols[i][0];
        colp[i][1] = &cols[i][1];
        roots[i] = (struct ArrowArray){.length = 4, .n_buffers = 1, .buffers = rb, .n_children = 2,
                                       .children = colp[i], .release = release_noop};
    }
    struct ArrowSchema su = {.format = "u", .name = ""}, si = {.format = "i", .name = "item"};
    struct ArrowSchema *sik[1] = {&si};
    struct ArrowSchema sl = {.format = "+l", .name = "", .n_children = 1, .children = sik};
    struct ArrowSchema cu = {.format = "c", .name = "u", .flags = ARROW_FLAG_NULLABLE, .dictionary = &su};
    struct ArrowSchema cl = {.format = "c", .name = "l", .flags = ARROW_FLAG_NULLABLE, .dictionary = &sl};
    struct ArrowSchema *sc[2] = {&cu, &cl};
    struct ArrowSchema schema = {.format = "+s", .name = "", .n_children = 2, .children = sc};

    md_ipc_writer *w = NULL;
    char *err = NULL;
    assert_int_equal(md_ipc_writer_create(&schema, &w, &err), MD_OK);
    md_buf out = MD_BUF_INIT;
    md_ipc_write_schema(w, &out);
    size_t len0 = out.len;
    /* C differs from A in its utf8 values, then (with A's utf8 values) in its lists; D in its boundaries */
    const struct ArrowArray *ac[2] = {&roots[0], &roots[2]};
    assert_int_equal(md_ipc_write_batches(w, ac, 2, &out, &err), MD_EINVAL);
    assert_non_null(strstr(err, "column 'u' of array 1"));
    free(err);
    err = NULL;
    cols[2][0].dictionary = &ua_d;
    assert_int_equal(md_ipc_write_batches(w, ac, 2, &out, &err), MD_EINVAL);
    assert_non_null(strstr(err, "column 'l' of array 1"));
    free(err);
    err = NULL;
    cols[2][0].dictionary = &ud_d;
    cols[2][1].dictionary = &lda;
    assert_int_equal(md_ipc_write_batches(w, ac, 2, &out, &err), MD_EINVAL);
    assert_non_null(strstr(err, "column 'u' of array 1"));
    free(err);
    err = NULL;
    assert_int_equal(out.len, len0);

    const struct ArrowArray *ab[3] = {&roots[0], &roots[1], &roots[0]};
    assert_int_equal(md_ipc_write_batches(w, ab, 3, &out, &err), MD_OK);
    md_ipc_write_eos(&out);
    batches got = {0};
    int msgs = 0;
    assert_int_equal(decode(out.data, out.len, 0, NULL, &got, &msgs, &err), MD_OK);
    assert_int_equal(msgs, 5); /* schema, two dictionaries, the batch, EOS */
    assert_int_equal(got.n, 1);
    assert_int_equal(got.a[0].length, 12);
    for (int i = 0; i < 3; i++) assert_rows_equal(&schema, ab[i], 0, &got.a[0], 4 * i, 4);
    batches_free(&got);
    md_buf_free(&out);
    md_ipc_writer_destroy(&w);
}

/* Errors: the array at fault is named, nothing is appended, the writer goes on. */
static void test_batches_errors(void **state) {
    (void)state;
    exported x, xy, s, e1, e1b, e2;
    export_query("SELECT 1::INT AS x", &x);
    export_query("SELECT 1::INT AS x, 2::INT AS y", &xy);
    export_query("SELECT 'one' AS x", &s);
    export_query("SELECT 'a'::ENUM('a', 'b') AS e FROM range(3)", &e1);
    export_query("SELECT 'b'::ENUM('a', 'b') AS e", &e1b);
    export_query("SELECT 'a'::ENUM('a', 'c') AS e", &e2);
    md_ipc_writer *w = NULL;
    char *err = NULL;
    assert_int_equal(md_ipc_writer_create(&x.schema, &w, &err), MD_OK);
    md_buf out = MD_BUF_INIT;
    md_ipc_write_schema(w, &out);
    size_t len0 = out.len;

    /* n == 0: nothing */
    assert_int_equal(md_ipc_write_batches(w, NULL, 0, &out, &err), MD_OK);
    assert_int_equal(out.len, len0);

    const struct ArrowArray *bad_cols[3] = {&x.b.a[0], &xy.b.a[0], &x.b.a[0]};
    assert_int_equal(md_ipc_write_batches(w, bad_cols, 3, &out, &err), MD_EINVAL);
    assert_non_null(strstr(err, "batch 1 has 2 columns"));
    free(err);
    err = NULL;
    const struct ArrowArray *bad_type[3] = {&x.b.a[0], &x.b.a[0], &s.b.a[0]};
    assert_int_equal(md_ipc_write_batches(w, bad_type, 3, &out, &err), MD_EINVAL);
    assert_non_null(strstr(err, "column 'x' of array 2"));
    assert_non_null(strstr(err, "3 buffers"));
    free(err);
    err = NULL;
    const struct ArrowArray *with_null[2] = {&x.b.a[0], NULL};
    assert_int_equal(md_ipc_write_batches(w, with_null, 2, &out, &err), MD_EINVAL);
    assert_non_null(strstr(err, "batch 1 is NULL"));
    free(err);
    err = NULL;
    assert_int_equal(out.len, len0);
    /* the writer still works */
    const struct ArrowArray *good[2] = {&x.b.a[0], &x.b.a[0]};
    assert_int_equal(md_ipc_write_batches(w, good, 2, &out, &err), MD_OK);
    md_ipc_write_eos(&out);
    batches rb = {0};
    assert_int_equal(decode(out.data, out.len, 0, NULL, &rb, NULL, &err), MD_OK);
    assert_int_equal(rb.n, 1);
    assert_int_equal(rb.a[0].length, 2);
    batches_free(&rb);
    md_ipc_writer_destroy(&w);

    /* dictionaries: equal contents at other addresses are fine, different ones are refused */
    assert_int_equal(md_ipc_writer_create(&e1.schema, &w, &err), MD_OK);
    out.len = 0;
    md_ipc_write_schema(w, &out);
    len0 = out.len;
    const struct ArrowArray *differ[3] = {&e1.b.a[0], &e1b.b.a[0], &e2.b.a[0]};
    assert_int_equal(md_ipc_write_batches(w, differ, 3, &out, &err), MD_EINVAL);
    assert_non_null(strstr(err, "column 'e' of array 2"));
    assert_non_null(strstr(err, "separate calls"));
    free(err);
    err = NULL;
    assert_int_equal(out.len, len0);
    /* an empty array's dictionary does not matter */
    struct ArrowArray e2_empty = shifted(&e2.b.a[0], 0, 0);
    const struct ArrowArray *same[4] = {&e1.b.a[0], &e2_empty, &e1b.b.a[0], &e1.b.a[0]};
    assert_int_equal(md_ipc_write_batches(w, same, 4, &out, &err), MD_OK);
    assert_int_equal(md_ipc_write_batch(w, &e2.b.a[0], &out, &err), MD_OK); /* a new dictionary */
    md_ipc_write_eos(&out);
    int msgs = 0;
    assert_int_equal(decode(out.data, out.len, 0, NULL, &rb, &msgs, &err), MD_OK);
    assert_int_equal(msgs, 6); /* schema, dictionary, batch, dictionary, batch, EOS */
    assert_int_equal(rb.n, 2);
    assert_int_equal(rb.a[0].length, 7);
    pieces ps = {0};
    for (int i = 0; i < 4; i++) pieces_push(&ps, same[i]);
    int64_t row = 0;
    for (size_t i = 0; i < ps.n; i++) {
        assert_rows_equal(&e1.schema, ps.p[i], 0, &rb.a[0], row, ps.p[i]->length);
        row += ps.p[i]->length;
    }
    assert_rows_equal(&e2.schema, &e2.b.a[0], 0, &rb.a[1], 0, 1);
    free(ps.p);
    batches_free(&rb);
    md_ipc_writer_destroy(&w);
    md_buf_free(&out);
    exported_free(&x);
    exported_free(&xy);
    exported_free(&s);
    exported_free(&e1);
    exported_free(&e1b);
    exported_free(&e2);
}

/* ---- hostile input ------------------------------------------------------------ */

#define SMALL_SQL                                                                              \
    "SELECT CASE WHEN i = 1 THEN NULL ELSE 'abc' || i END AS s, [i, i + 1] AS l, "           \
    "union_value(k := i::INT)::UNION(k INT, v VARCHAR) AS u, "                                 \
    "('a' || (i % 2))::ENUM('a0', 'a1') AS e, i::INT AS i, {'x': i}::STRUCT(x INT) AS st, "  \
    "MAP {'k': i} AS m, 1.5::DECIMAL(9, 2) AS d FROM range(3) r(i)"

/* Buffer layout of SMALL_SQL's batch: s = node 0, buffers 0 validity, 1 offsets, 2 data;
 * l = node 1, buffers 3, 4, child node 2, buffers 5, 6; u = node 3, buffer 7 (type ids),
 * children nodes 4 (k: buffers 8, 9) and 5 (v: 10, 11, 12); e = node 6, buffers 13, 14. */

static void small_stream(md_buf *s) {
    exported ex;
    export_query(SMALL_SQL, &ex);
    encode(&ex, s);
    exported_free(&ex);
}

/* Position of message k (0 = schema) in the stream, its metadata size and body. */
typedef struct msgpos {
    size_t pos;
    uint32_t msize;
    size_t body;
    md_fb_table rb; /* the RecordBatch table (also for dictionary batches) */
} msgpos;

static msgpos find_msg(uint8_t *p, size_t n, int k) {
    size_t pos = 0;
    for (int i = 0;; i++) {
        assert_true(pos + 8 <= n);
        uint32_t m = md_get_u32le(p + pos + 4);
        md_fb_table msg, hdr;
        assert_int_equal(md_fb_root(p + pos + 8, m, &msg), MD_OK);
        int64_t body;
        uint8_t ht;
        md_fb_i64(&msg, 3, 0, &body);
        md_fb_u8(&msg, 1, 0, &ht);
        if (i == k) {
            msgpos r = {pos, m, pos + 8 + m, {0}};
            assert_int_equal(md_fb_table_field(&msg, 2, &hdr), 1);
            if (ht == 2) assert_int_equal(md_fb_table_field(&hdr, 1, &r.rb), 1);
            else r.rb = hdr;
            return r;
        }
        pos += 8 + m + (size_t)body;
    }
}

/* Writable pointer to element i of vector field `id` (elements of 16 bytes) of the batch. */
static uint8_t *vec16(uint8_t *p, const msgpos *mp, unsigned id, uint32_t i) {
    md_fb_vec v;
    assert_int_equal(md_fb_vector_field(&mp->rb, id, 16, &v), 1);
    assert_true(i < v.n);
    return p + mp->pos + 8 + v.pos + 16 * i;
}

static uint8_t *buffer_entry(uint8_t *p, const msgpos *mp, uint32_t i) { return vec16(p, mp, 2, i); }
static uint8_t *node_entry(uint8_t *p, const msgpos *mp, uint32_t i) { return vec16(p, mp, 1, i); }

static uint8_t *buffer_data(uint8_t *p, const msgpos *mp, uint32_t i) {
    return p + mp->body + md_get_u64le(buffer_entry(p, mp, i));
}

/* Decode; expect `want` and an error message containing `needle`. */
static void expect_error(const uint8_t *p, size_t n, int max_depth, int want, const char *needle) {
    char *err = NULL;
    int rc = decode(p, n, max_depth, NULL, NULL, NULL, &err);
    if (rc != want)
        fail_msg("expected %s, got %s (%s)", md_errname(want), md_errname(rc), err ? err : "no message");
    if (want == MD_EEOF) { /* running out of bytes is not an error worth a message */
        free(err);
        return;
    }
    assert_non_null(err);
    if (needle && !strstr(err, needle)) fail_msg("message '%s' lacks '%s'", err, needle);
    free(err);
}

static void test_bad_offsets(void **state) {
    (void)state;
    md_buf s = MD_BUF_INIT;
    small_stream(&s);
    uint8_t *copy = malloc(s.len);
    msgpos rb = find_msg(s.data, s.len, 2); /* schema, dictionary, batch */
    char *err = NULL;
    assert_int_equal(decode(s.data, s.len, 0, NULL, NULL, NULL, &err), MD_OK);

#define MUTATE(stmt, want, needle)              \
    do {                                        \
        memcpy(copy, s.data, s.len);            \
        uint8_t *p = copy;                      \
        stmt;                                   \
        expect_error(copy, s.len, 0, want, needle); \
    } while (0)

    /* varchar offsets decreasing, past the data, negative */
    MUTATE(md_set_u32le(buffer_data(p, &rb, 1) + 4, 1000), MD_EBAD_FRAME, "offsets decrease");
    MUTATE(md_set_u32le(buffer_data(p, &rb, 1) + 12, 1000), MD_EBAD_FRAME, "data buffer");
    MUTATE(md_set_u32le(buffer_data(p, &rb, 1), 0xFFFFFFFF), MD_EBAD_FRAME, "negative");
    /* list offsets past the child */
    MUTATE(md_set_u32le(buffer_data(p, &rb, 4) + 12, 7), MD_EBAD_FRAME, "child with");
    /* a buffer outside the body, misaligned, too short */
    MUTATE(md_set_u64le(buffer_entry(p, &rb, 2), 1u << 20), MD_EBAD_FRAME, "outside");
    MUTATE(md_set_u64le(buffer_entry(p, &rb, 2), md_get_u64le(buffer_entry(p, &rb, 2)) + 1),
           MD_EBAD_FRAME, "aligned");
    MUTATE(md_set_u64le(buffer_entry(p, &rb, 16) + 8, 4), MD_EBAD_FRAME, "values buffer");
    /* node counts */
    MUTATE(md_set_u64le(node_entry(p, &rb, 0), 1ull << 40), MD_EBAD_FRAME, "out of range");
    MUTATE(md_set_u64le(node_entry(p, &rb, 0) + 8, 4), MD_EBAD_FRAME, "null_count");
    MUTATE(md_set_u64le(node_entry(p, &rb, 0) + 8, 2), MD_EBAD_FRAME, "validity bitmap");
    MUTATE(md_set_u64le(node_entry(p, &rb, 2), 2), MD_EBAD_FRAME, "child with");
    /* union type id not declared */
    MUTATE(buffer_data(p, &rb, 7)[1] = 5, MD_EBAD_FRAME, "type id 5");
    /* dictionary index outside the dictionary */
    MUTATE(buffer_data(p, &rb, 14)[0] = 9, MD_EBAD_FRAME, "dictionary index");
    /* invalid UTF-8 */
    MUTATE(buffer_data(p, &rb, 2)[0] = 0xC0, MD_EBAD_FRAME, "UTF-8");
    /* truncated body length in the Message: the body then misses bytes */
    MUTATE(md_set_u32le(p + rb.pos + 4, 0x7FFFFFF8), MD_EEOF, NULL);
    /* framing */
    MUTATE(p[rb.pos] = 0, MD_EBAD_FRAME, "continuation");
    MUTATE(md_set_u32le(p + rb.pos + 4, 0xFFFFFFF0), MD_EBAD_FRAME, "metadata size");
    MUTATE(md_set_u32le(p + 4, 0), MD_EBAD_FRAME, "before the schema");
#undef MUTATE

    /* messages out of order: a record batch first; anything after EOS */
    expect_error(s.data + rb.pos, s.len - rb.pos, 0, MD_EBAD_FRAME, "before the schema");
    {
        md_ipc_reader *r = md_ipc_reader_create(0);
        size_t used;
        md_ipc_message_kind kind;
        struct ArrowArray a;
        assert_int_equal(md_ipc_reader_next(r, s.data, s.len, &used, &kind, &a, &err), MD_OK);
        assert_int_equal(kind, MD_IPC_SCHEMA);
        /* a second schema */
        assert_int_equal(md_ipc_reader_next(r, s.data, s.len, &used, &kind, &a, &err), MD_EBAD_FRAME);
        assert_non_null(strstr(err, "second schema"));
        free(err);
        err = NULL;
        /* EOS, then the dictionary message */
        assert_int_equal(md_ipc_reader_next(r, s.data + s.len - 8, 8, &used, &kind, &a, &err), MD_OK);
        assert_int_equal(kind, MD_IPC_EOS);
        assert_int_equal(md_ipc_reader_next(r, s.data + used, s.len, &used, &kind, &a, &err), MD_EBAD_FRAME);
        free(err);
        err = NULL;
        md_ipc_reader_destroy(&r);
    }
    /* a dictionary batch for an id the schema does not have */
    {
        msgpos dm = find_msg(s.data, s.len, 1);
        memcpy(copy, s.data, s.len);
        md_fb_table msg, hdr;
        assert_int_equal(md_fb_root(copy + dm.pos + 8, dm.msize, &msg), MD_OK);
        assert_int_equal(md_fb_table_field(&msg, 2, &hdr), 1);
        /* DictionaryBatch field 0 (id) through its vtable */
        uint16_t off = md_get_u16le(hdr.buf + hdr.vt + 4);
        assert_true(off != 0);
        md_set_u64le(copy + dm.pos + 8 + hdr.pos + off, 77);
        expect_error(copy, s.len, 0, MD_EBAD_FRAME, "unknown id 77");
    }
    free(copy);
    md_buf_free(&s);
}

static void test_depth_limit(void **state) {
    (void)state;
    exported ex;
    export_query("SELECT [[[[[[1]]]]]] AS deep, {'a': {'b': {'c': 1}}} AS st", &ex);
    md_buf s = MD_BUF_INIT;
    encode(&ex, &s);
    char *err = NULL;
    assert_int_equal(decode(s.data, s.len, 7, NULL, NULL, NULL, &err), MD_OK);
    expect_error(s.data, s.len, 6, MD_EBAD_FRAME, "deeper than 6");
    expect_error(s.data, s.len, 3, MD_EBAD_FRAME, "'deep'");
    md_buf_free(&s);
    exported_free(&ex);
}

/* Every prefix of a stream: whole messages decode, the cut one gives MD_EEOF. */
static void test_truncation(void **state) {
    (void)state;
    exported ex;
    export_query("SELECT * EXCLUDE (hugeint) FROM test_all_types()", &ex);
    md_buf s = MD_BUF_INIT;
    encode(&ex, &s);
    exported_free(&ex);
    /* message boundaries */
    size_t bounds[16];
    int nb = 0;
    for (size_t pos = 0; pos < s.len;) {
        uint32_t m = md_get_u32le(s.data + pos + 4);
        size_t body = 0;
        if (m) {
            md_fb_table msg;
            int64_t bl;
            md_fb_root(s.data + pos + 8, m, &msg);
            md_fb_i64(&msg, 3, 0, &bl);
            body = (size_t)bl;
        }
        pos += 8 + m + body;
        bounds[nb++] = pos;
    }
    for (size_t len = 0; len < s.len; len++) {
        uint8_t *p = malloc(len ? len : 1); /* exact size: ASan sees any overread */
        memcpy(p, s.data, len);
        int msgs = 0, whole = 0;
        char *err = NULL;
        int rc = decode(p, len, 0, NULL, NULL, &msgs, &err);
        while (whole < nb && bounds[whole] <= len) whole++;
        if (rc != MD_EEOF) fail_msg("prefix of %zu bytes: %s (%s)", len, md_errname(rc), err ? err : "");
        assert_int_equal(msgs, whole);
        free(err);
        free(p);
    }
    md_buf_free(&s);
}

/* Touch every value of a decoded batch as a consumer would. */
static void touch_all(const struct ArrowSchema *s, const struct ArrowArray *a) {
    for (int64_t c = 0; c < s->n_children; c++)
        for (int64_t i = 0; i < a->length; i++)
            (void)elem_equal(s->children[c], a->children[c], i, a->children[c], i);
}

/* Flip every bit of a small stream: never a crash; what decodes is consistent. */
static void test_bit_flips(void **state) {
    (void)state;
    md_buf s = MD_BUF_INIT;
    small_stream(&s);
    uint8_t *p = malloc(s.len);
    long ok = 0, bad = 0, imported = 0;
    for (size_t i = 0; i < s.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(p, s.data, s.len);
            p[i] ^= (uint8_t)(1u << bit);
            struct ArrowSchema sch;
            memset(&sch, 0, sizeof sch);
            batches rb = {0};
            char *err = NULL;
            int rc = decode(p, s.len, 0, &sch, &rb, NULL, &err);
            if (rc == MD_OK) {
                ok++;
                for (size_t k = 0; k < rb.n; k++) touch_all(&sch, &rb.a[k]);
                /* every 8th consistent mutant also goes through DuckDB */
                if (rb.n && ok % 8 == 0) {
                    duckdb_arrow_converted_schema conv = NULL;
                    duckdb_error_data e = duckdb_schema_from_arrow(con, &sch, &conv);
                    if (!e) {
                        duckdb_data_chunk chunk = NULL;
                        e = duckdb_data_chunk_from_arrow(con, &rb.a[0], conv, &chunk);
                        if (!e) {
                            imported++;
                            duckdb_destroy_data_chunk(&chunk);
                        }
                    }
                    if (e) duckdb_destroy_error_data(&e);
                    if (conv) duckdb_destroy_arrow_converted_schema(&conv);
                }
            } else {
                bad++;
                assert_true(rc == MD_EBAD_FRAME || rc == MD_EEOF || rc == MD_EUNSUPPORTED);
                if (rc != MD_EEOF) assert_non_null(err);
            }
            free(err);
            batches_free(&rb);
            if (sch.release) sch.release(&sch);
        }
    }
    print_message("bit flips: %ld decoded, %ld rejected, %ld imported into DuckDB\n", ok, bad, imported);
    assert_true(bad > 0 && ok > 0);
    free(p);
    md_buf_free(&s);
}

/* Allocation failures at every point of a decode: MD_ENOMEM or success, never a leak. */
static void test_alloc_failures(void **state) {
    (void)state;
    md_buf s = MD_BUF_INIT;
    small_stream(&s);
    int failures = 0;
    for (long k = 0; k < 400; k++) {
        struct ArrowSchema sch;
        memset(&sch, 0, sizeof sch);
        batches rb = {0};
        char *err = NULL;
        md_alloc_fail_after(k);
        int rc = decode(s.data, s.len, 0, &sch, &rb, NULL, &err);
        md_alloc_fail_after(-1);
        if (rc == MD_OK) {
            assert_int_equal(rb.n, 1);
            assert_int_equal(rb.a[0].length, 3);
        } else {
            if (rc != MD_ENOMEM) fail_msg("k=%ld: %s (%s)", k, md_errname(rc), err ? err : "");
            failures++;
        }
        free(err);
        batches_free(&rb);
        if (sch.release) sch.release(&sch);
    }
    assert_true(failures > 10);
    md_buf_free(&s);
}

/* Hand-built messages for what DuckDB never writes. */
static void build_message(md_buf *out, int16_t version, uint8_t htype, int endian, int compressed) {
    md_fb_builder b = {MD_BUF_INIT};
    md_fb_reset(&b);
    md_fb_table_writer t;
    md_fb_table_begin(&t, &b);
    md_fb_table_scalar(&t, 0, 2, (uint16_t)version);
    md_fb_table_scalar(&t, 1, 1, htype);
    md_fb_table_ref(&t, 2);
    md_fb_table_scalar(&t, 3, 8, 0);
    uint32_t mpos = md_fb_table_end(&t);
    md_fb_patch(&b, 0, mpos);
    md_fb_table_writer h;
    md_fb_table_begin(&h, &b);
    if (htype == 1) {
        md_fb_table_scalar(&h, 0, 2, (uint16_t)endian);
    } else {
        md_fb_table_scalar(&h, 0, 8, 0);
        if (compressed) md_fb_table_ref(&h, 3);
    }
    md_fb_patch(&b, t.slot[2], md_fb_table_end(&h));
    if (compressed) {
        md_fb_table_writer c;
        md_fb_table_begin(&c, &b);
        md_fb_table_scalar(&c, 0, 1, 1);
        md_fb_patch(&b, h.slot[3], md_fb_table_end(&c));
    }
    size_t m = (b.buf.len + 7) & ~(size_t)7;
    md_buf_put_u32le(out, 0xFFFFFFFF);
    md_buf_put_u32le(out, (uint32_t)m);
    md_buf_append(out, b.buf.data, b.buf.len);
    md_buf_append_zeros(out, m - b.buf.len);
    md_fb_free(&b);
}

static void test_refused_headers(void **state) {
    (void)state;
    md_buf s = MD_BUF_INIT;
    build_message(&s, 2, 1, 0, 0); /* V3 */
    expect_error(s.data, s.len, 0, MD_EUNSUPPORTED, "V3");
    s.len = 0;
    build_message(&s, 4, 1, 1, 0); /* big-endian */
    expect_error(s.data, s.len, 0, MD_EUNSUPPORTED, "big-endian");
    s.len = 0;
    build_message(&s, 4, 4, 0, 0); /* tensor */
    expect_error(s.data, s.len, 0, MD_EUNSUPPORTED, "header type 4");
    s.len = 0;
    build_message(&s, 4, 1, 0, 0);  /* empty schema */
    build_message(&s, 4, 3, 0, 1);  /* compressed batch */
    expect_error(s.data, s.len, 0, MD_EUNSUPPORTED, "compressed");
    s.len = 0;
    build_message(&s, 4, 1, 0, 0);
    build_message(&s, 4, 3, 0, 0); /* a batch of 0 rows and 0 columns */
    md_ipc_write_eos(&s);
    int msgs = 0;
    char *err = NULL;
    assert_int_equal(decode(s.data, s.len, 0, NULL, NULL, &msgs, &err), MD_OK);
    assert_int_equal(msgs, 3);
    md_buf_free(&s);
}

/* ---- flatbuf ----------------------------------------------------------------------- */

static void test_flatbuf(void **state) {
    (void)state;
    md_fb_builder b = {MD_BUF_INIT};
    md_fb_reset(&b);
    md_fb_table_writer t;
    md_fb_table_begin(&t, &b);
    md_fb_table_scalar(&t, 0, 1, 7);
    md_fb_table_scalar(&t, 2, 8, 0x1122334455667788ull);
    md_fb_table_ref(&t, 3);
    md_fb_table_ref(&t, 4);
    md_fb_table_scalar(&t, 5, 2, 0xBEEF);
    uint32_t root = md_fb_table_end(&t);
    md_fb_patch(&b, 0, root);
    md_fb_patch(&b, t.slot[3], md_fb_string(&b, "hello", 5));
    uint32_t v = md_fb_vector(&b, 16, 8, 2);
    assert_int_equal(v % 8, 0);
    md_fb_put64(&b, v, 1);
    md_fb_put64(&b, v + 24, 4);
    md_fb_patch(&b, t.slot[4], v - 4);

    md_fb_table r;
    assert_int_equal(md_fb_root(b.buf.data, b.buf.len, &r), MD_OK);
    assert_int_equal(r.pos % 8, 0);
    uint8_t u8;
    int16_t i16;
    int64_t i64;
    int32_t i32;
    assert_int_equal(md_fb_u8(&r, 0, 0, &u8), MD_OK);
    assert_int_equal(u8, 7);
    assert_int_equal(md_fb_i32(&r, 1, 42, &i32), MD_OK); /* absent: default */
    assert_int_equal(i32, 42);
    assert_int_equal(md_fb_i64(&r, 2, 0, &i64), MD_OK);
    assert_true(i64 == 0x1122334455667788ll);
    assert_int_equal(md_fb_i16(&r, 5, 0, &i16), MD_OK);
    assert_int_equal((uint16_t)i16, 0xBEEF);
    assert_int_equal(md_fb_i16(&r, 9, -3, &i16), MD_OK); /* beyond the vtable: default */
    assert_int_equal(i16, -3);
    const char *str;
    uint32_t n;
    assert_int_equal(md_fb_string_field(&r, 3, &str, &n), 1);
    assert_int_equal(n, 5);
    assert_memory_equal(str, "hello", 5);
    md_fb_vec vec;
    assert_int_equal(md_fb_vector_field(&r, 4, 16, &vec), 1);
    assert_int_equal(vec.n, 2);
    assert_int_equal(md_get_u64le(md_fb_vec_at(&vec, 1) + 8), 4);
    md_fb_table sub;
    assert_int_equal(md_fb_table_field(&r, 6, &sub), 0); /* absent */

    /* hostile: each corruption is caught */
    uint8_t *p = b.buf.data;
    size_t len = b.buf.len;
    uint8_t *c = malloc(len);
    memcpy(c, p, len);
    md_set_u32le(c, (uint32_t)len); /* root past the end */
    assert_int_equal(md_fb_root(c, len, &r), MD_EBAD_FRAME);
    memcpy(c, p, len);
    md_set_u32le(c + root, 0x7FFFFFFF); /* vtable before the buffer */
    assert_int_equal(md_fb_root(c, len, &r), MD_EBAD_FRAME);
    memcpy(c, p, len);
    md_set_u16le(c + root - md_get_u32le(c + root) + 2, 0xFFF0); /* table size past the end */
    assert_int_equal(md_fb_root(c, len, &r), MD_EBAD_FRAME);
    memcpy(c, p, len);
    md_fb_table ok;
    assert_int_equal(md_fb_root(c, len, &ok), MD_OK);
    /* a field offset past the table size */
    md_set_u16le(c + ok.vt + 4, (uint16_t)(ok.tbl_size));
    assert_int_equal(md_fb_u8(&ok, 0, 0, &u8), MD_EBAD_FRAME);
    memcpy(c, p, len);
    /* string without its NUL, string and vector lengths past the end */
    uint32_t spos = t.slot[3] + md_get_u32le(c + t.slot[3]);
    c[spos + 4 + 5] = 'x';
    assert_int_equal(md_fb_string_field(&ok, 3, &str, &n), MD_EBAD_FRAME);
    memcpy(c, p, len);
    md_set_u32le(c + spos, 0xFFFFFFFF);
    assert_int_equal(md_fb_string_field(&ok, 3, &str, &n), MD_EBAD_FRAME);
    memcpy(c, p, len);
    md_set_u32le(c + v - 4, 0x10000000);
    assert_int_equal(md_fb_vector_field(&ok, 4, 16, &vec), MD_EBAD_FRAME);
    /* too short for a root */
    assert_int_equal(md_fb_root(p, 7, &r), MD_EBAD_FRAME);
    free(c);
    md_fb_free(&b);
}

/* The reader's schema carries extension metadata, map flags, dictionaries. */
static void test_schema_export(void **state) {
    (void)state;
    exec("SET arrow_lossless_conversion = true");
    exported ex;
    export_query("SELECT gen_random_uuid() AS id, MAP {'a': 1} AS m, 'x'::ENUM('x', 'y') AS e", &ex);
    exec("RESET arrow_lossless_conversion");
    md_buf s = MD_BUF_INIT;
    encode(&ex, &s);
    struct ArrowSchema rs;
    char *err = NULL;
    assert_int_equal(decode(s.data, s.len, 0, &rs, NULL, NULL, &err), MD_OK);
    assert_schema_equal(&ex.schema, &rs, 1);
    assert_string_equal(rs.format, "+s");
    assert_string_equal(rs.children[0]->format, "w:16");
    assert_non_null(rs.children[0]->metadata);
    assert_non_null(memmem(rs.children[0]->metadata, meta_len(rs.children[0]->metadata), "arrow.uuid", 10));
    assert_string_equal(rs.children[1]->format, "+m");
    assert_string_equal(rs.children[1]->children[0]->name, "entries");
    assert_int_equal(rs.children[1]->children[0]->flags & ARROW_FLAG_NULLABLE, 0);
    assert_string_equal(rs.children[2]->format, "C");
    assert_string_equal(rs.children[2]->dictionary->format, "u");
    rs.release(&rs);
    assert_null(rs.release);
    md_buf_free(&s);
    exported_free(&ex);
}

static int setup(void **state) {
    (void)state;
    if (duckdb_open(NULL, &db) == DuckDBError) return -1;
    if (duckdb_connect(db, &con) == DuckDBError) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_types),
        cmocka_unit_test_teardown(test_lossless, reset_settings),
        cmocka_unit_test_teardown(test_large_buffers, reset_settings),
        cmocka_unit_test_teardown(test_string_views, reset_settings),
        cmocka_unit_test_teardown(test_timezone, reset_settings),
        cmocka_unit_test(test_empty_result),
        cmocka_unit_test(test_all_null),
        cmocka_unit_test(test_multi_chunk),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_sliced_input),
        cmocka_unit_test(test_dictionary_once),
        cmocka_unit_test_teardown(test_writer_rejects, reset_settings),
        cmocka_unit_test(test_delta_dictionary),
        cmocka_unit_test_teardown(test_batches_all_types, reset_settings),
        cmocka_unit_test_teardown(test_batches_multi_chunk, reset_settings),
        cmocka_unit_test(test_batches_nested),
        cmocka_unit_test(test_batches_all_null),
        cmocka_unit_test(test_batches_enums),
        cmocka_unit_test(test_batches_dense_union),
        cmocka_unit_test(test_batches_dictionary_values),
        cmocka_unit_test(test_batches_errors),
        cmocka_unit_test(test_bad_offsets),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_refused_headers),
        cmocka_unit_test(test_flatbuf),
        cmocka_unit_test_teardown(test_schema_export, reset_settings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

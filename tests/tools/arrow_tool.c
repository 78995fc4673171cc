/*
 * arrow_tool.c: a small CLI around the Arrow IPC codec, used by
 * tests/interop/arrow_interop.test.mjs to check it against apache-arrow JS.
 *
 *   arrow_tool write [--setup SQL]... [--out FILE] [--dump FILE] [--text FILE] SQL
 *       Run SQL in an in-memory DuckDB and write its result as an Arrow IPC
 *       stream (md_ipc writer) to FILE (default stdout).  --dump writes the
 *       canonical dump (below) of DuckDB's own Arrow arrays, --text the rows
 *       as DuckDB casts them to VARCHAR (one JSON array per row).
 *   arrow_tool read [FILE]
 *       Read a stream (FILE or stdin) with the md_ipc reader and print the
 *       canonical dump of what it decoded.
 *   arrow_tool import [FILE]
 *       Read a stream with the md_ipc reader and import it into DuckDB
 *       (duckdb_schema_from_arrow, duckdb_data_chunk_from_arrow, appender).
 *       Prints {"types": [...DuckDB types of the first row...] | null}, then
 *       one JSON array per row of the values cast to VARCHAR, then {"rows": N}.
 *
 * Exit status: 0 on success; 1 with a message on stderr otherwise (for read
 * and import, the first line of stderr is "error: CODE: message").
 *
 * Canonical dump: line 1 is {"schema": [field, ...]} with field =
 * {"name", "format", "nullable", "metadata": [[key, value], ...] | null,
 *  "children": [field, ...], "dictionary": field | null}; then one JSON array
 * per row, one value per column; last {"batches": B, "rows": N}.  Values are
 * physical, so both sides can compute them exactly:
 *   null -> null; bool -> true/false; integers, dates, times, timestamps,
 *   durations, month intervals and decimals (the unscaled integer) -> decimal
 *   string; floats -> "0x" + the IEEE bits in hex (4, 8 or 16 digits);
 *   binary, binary view and fixed-size binary -> lowercase hex; utf8 and utf8
 *   view -> string;
 *   day-time interval -> [days, ms], month-day-nano -> [months, days, ns]
 *   (strings); list, large list, fixed-size list -> array; struct -> array
 *   of its fields; map -> array of [key, value]; union -> [type id, value];
 *   dictionary-encoded -> the dictionary value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <duckdb.h>
#include "shared/arrow_abi.h"

#include "shared/arrow_ipc.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

static void die(const char *fmt, const char *a) {
    fprintf(stderr, "error: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, "\n");
    exit(1);
}

/* Exit with DuckDB's error message, freeing the error first (LeakSanitizer watches). */
static void die_duckdb(duckdb_error_data e) {
    char *msg = md_strdup(duckdb_error_data_message(e));
    duckdb_destroy_error_data(&e);
    fprintf(stderr, "error: DuckDB: %s\n", msg);
    md_free(msg);
    exit(1);
}

/* ---- JSON output ------------------------------------------------------------ */

static void put_str(md_buf *o, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    md_buf_put_u8(o, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            md_buf_put_u8(o, '\\');
            md_buf_put_u8(o, c);
        } else if (c < 0x20) {
            char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            md_buf_append(o, e, 6);
        } else {
            md_buf_put_u8(o, c);
        }
    }
    md_buf_put_u8(o, '"');
}

static void put_cstr(md_buf *o, const char *s) { put_str(o, s, strlen(s)); }

static void put_raw(md_buf *o, const char *s) { md_buf_append(o, s, strlen(s)); }

static void put_hex(md_buf *o, const uint8_t *p, size_t n) {
    static const char hex[] = "0123456789abcdef";
    md_buf_put_u8(o, '"');
    for (size_t i = 0; i < n; i++) {
        md_buf_put_u8(o, (uint8_t)hex[p[i] >> 4]);
        md_buf_put_u8(o, (uint8_t)hex[p[i] & 15]);
    }
    md_buf_put_u8(o, '"');
}

/* A little-endian two's complement (or unsigned) integer of n bytes as a decimal string. */
static void put_int_le(md_buf *o, const uint8_t *p, int n, int is_signed) {
    uint8_t v[32];
    memcpy(v, p, (size_t)n);
    int neg = is_signed && (v[n - 1] & 0x80);
    if (neg) { /* negate: invert and add one */
        int carry = 1;
        for (int i = 0; i < n; i++) {
            int x = (uint8_t)~v[i] + carry;
            v[i] = (uint8_t)x;
            carry = x >> 8;
        }
    }
    char digits[96];
    int nd = 0;
    for (;;) {
        int zero = 1, rem = 0;
        for (int i = n - 1; i >= 0; i--) { /* divide by 10, most significant byte first */
            int cur = rem * 256 + v[i];
            v[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            if (v[i]) zero = 0;
        }
        digits[nd++] = (char)('0' + rem);
        if (zero) break;
    }
    md_buf_put_u8(o, '"');
    if (neg) md_buf_put_u8(o, '-');
    while (nd) md_buf_put_u8(o, (uint8_t)digits[--nd]);
    md_buf_put_u8(o, '"');
}

/* ---- canonical dump ------------------------------------------------------------ */

static int fmt_is(const char *f, const char *s) { return !strcmp(f, s); }

/* Integer formats: byte width and signedness; 0 when f is not one. */
static int int_fmt(const char *f, int *is_signed) {
    static const char codes[] = "cCsSiIlL";
    if (!f[0] || f[1]) return 0;
    const char *c = strchr(codes, f[0]);
    if (!c) return 0;
    int k = (int)(c - codes);
    *is_signed = k % 2 == 0;
    return 1 << (k / 2);
}

static int64_t get_index(const char *f, const void *buf, int64_t i) {
    int sgn;
    int w = int_fmt(f, &sgn);
    const uint8_t *p = (const uint8_t *)buf + (int64_t)w * i;
    uint64_t v = 0;
    for (int k = w - 1; k >= 0; k--) v = (v << 8) | p[k];
    if (sgn && w < 8 && (v >> (8 * w - 1)) & 1) v |= ~0ull << (8 * w);
    return (int64_t)v;
}

static int valid(const struct ArrowArray *a, int64_t phys) {
    if (!a->buffers[0] || a->null_count == 0) return 1;
    const uint8_t *b = a->buffers[0];
    return (b[phys >> 3] >> (phys & 7)) & 1;
}

static int64_t offset_at(const struct ArrowArray *a, int64_t phys, int large) {
    if (large) return ((const int64_t *)a->buffers[1])[phys];
    return ((const int32_t *)a->buffers[1])[phys];
}

/* Value i (logical) of array a with schema s. */
static void dump_value(md_buf *o, const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i) {
    const char *f = s->format;
    int64_t p = a->offset + i;
    int sgn, w;
    if (fmt_is(f, "n")) {
        put_raw(o, "null");
        return;
    }
    int is_union = f[0] == '+' && f[1] == 'u';
    if (!is_union && !valid(a, p)) {
        put_raw(o, "null");
        return;
    }
    if (s->dictionary) {
        dump_value(o, s->dictionary, a->dictionary, get_index(f, a->buffers[1], p));
        return;
    }
    const uint8_t *data = a->n_buffers > 1 ? a->buffers[1] : NULL;
    if (fmt_is(f, "b")) {
        put_raw(o, (data[p >> 3] >> (p & 7)) & 1 ? "true" : "false");
    } else if ((w = int_fmt(f, &sgn)) != 0) {
        put_int_le(o, data + (int64_t)w * p, w, sgn);
    } else if (fmt_is(f, "e") || fmt_is(f, "f") || fmt_is(f, "g")) {
        w = f[0] == 'e' ? 2 : f[0] == 'f' ? 4 : 8;
        char h[24];
        uint64_t v = 0;
        for (int k = w - 1; k >= 0; k--) v = (v << 8) | data[(int64_t)w * p + k];
        snprintf(h, sizeof h, "\"0x%0*llx\"", 2 * w, (unsigned long long)v);
        put_raw(o, h);
    } else if (f[0] == 'd' && f[1] == ':') {
        const char *c = strchr(f + 2, ',');
        c = c ? strchr(c + 1, ',') : NULL;
        w = c ? atoi(c + 1) / 8 : 16;
        put_int_le(o, data + (int64_t)w * p, w, 1);
    } else if (f[0] == 'w' && f[1] == ':') {
        w = atoi(f + 2);
        put_hex(o, data + (int64_t)w * p, (size_t)w);
    } else if (fmt_is(f, "u") || fmt_is(f, "U") || fmt_is(f, "z") || fmt_is(f, "Z")) {
        int large = f[0] == 'U' || f[0] == 'Z';
        int64_t b = offset_at(a, p, large), e = offset_at(a, p + 1, large);
        const uint8_t *bytes = (const uint8_t *)a->buffers[2] + b;
        if (f[0] == 'u' || f[0] == 'U') put_str(o, (const char *)bytes, (size_t)(e - b));
        else put_hex(o, bytes, (size_t)(e - b));
    } else if (fmt_is(f, "vu") || fmt_is(f, "vz")) {
        const uint8_t *v = data + 16 * p;
        int32_t len, idx, off;
        memcpy(&len, v, 4);
        const uint8_t *bytes = v + 4;
        if (len > 12) {
            memcpy(&idx, v + 8, 4);
            memcpy(&off, v + 12, 4);
            bytes = (const uint8_t *)a->buffers[2 + idx] + off;
        }
        if (f[1] == 'u') put_str(o, (const char *)bytes, (size_t)len);
        else put_hex(o, bytes, (size_t)len);
    } else if (fmt_is(f, "tdD") || fmt_is(f, "tts") || fmt_is(f, "ttm") || fmt_is(f, "tiM")) {
        put_int_le(o, data + 4 * p, 4, 1);
    } else if (fmt_is(f, "tdm") || fmt_is(f, "ttu") || fmt_is(f, "ttn") ||
               (f[0] == 't' && (f[1] == 's' || f[1] == 'D'))) {
        put_int_le(o, data + 8 * p, 8, 1);
    } else if (fmt_is(f, "tiD")) {
        put_raw(o, "[");
        put_int_le(o, data + 8 * p, 4, 1);
        put_raw(o, ",");
        put_int_le(o, data + 8 * p + 4, 4, 1);
        put_raw(o, "]");
    } else if (fmt_is(f, "tin")) {
        put_raw(o, "[");
        put_int_le(o, data + 16 * p, 4, 1);
        put_raw(o, ",");
        put_int_le(o, data + 16 * p + 4, 4, 1);
        put_raw(o, ",");
        put_int_le(o, data + 16 * p + 8, 8, 1);
        put_raw(o, "]");
    } else if (fmt_is(f, "+l") || fmt_is(f, "+L") || fmt_is(f, "+m")) {
        int large = f[1] == 'L';
        int64_t b = offset_at(a, p, large), e = offset_at(a, p + 1, large);
        put_raw(o, "[");
        for (int64_t k = b; k < e; k++) {
            if (k > b) put_raw(o, ",");
            if (f[1] == 'm') { /* entries: struct of key, value */
                const struct ArrowSchema *es = s->children[0];
                const struct ArrowArray *ea = a->children[0];
                int64_t ep = ea->offset + k;
                put_raw(o, "[");
                dump_value(o, es->children[0], ea->children[0], ep);
                put_raw(o, ",");
                dump_value(o, es->children[1], ea->children[1], ep);
                put_raw(o, "]");
            } else {
                dump_value(o, s->children[0], a->children[0], k);
            }
        }
        put_raw(o, "]");
    } else if (f[0] == '+' && f[1] == 'w' && f[2] == ':') {
        int64_t n = atoi(f + 3);
        put_raw(o, "[");
        for (int64_t k = 0; k < n; k++) {
            if (k) put_raw(o, ",");
            dump_value(o, s->children[0], a->children[0], p * n + k);
        }
        put_raw(o, "]");
    } else if (fmt_is(f, "+s")) {
        put_raw(o, "[");
        for (int64_t c = 0; c < s->n_children; c++) {
            if (c) put_raw(o, ",");
            dump_value(o, s->children[c], a->children[c], p);
        }
        put_raw(o, "]");
    } else if (is_union) {
        int8_t t = ((const int8_t *)a->buffers[0])[p];
        const char *q = f + 4;
        int64_t c = 0;
        while (atoi(q) != t) {
            q = strchr(q, ',');
            if (!q) die("union type id not in format %s", f);
            q++;
            c++;
        }
        int64_t ci = f[2] == 'd' ? ((const int32_t *)a->buffers[1])[p] : p;
        char h[16];
        snprintf(h, sizeof h, "[%d,", t);
        put_raw(o, h);
        dump_value(o, s->children[c], a->children[c], ci);
        put_raw(o, "]");
    } else {
        die("cannot dump format %s", f);
    }
}

static void dump_field(md_buf *o, const struct ArrowSchema *s) {
    put_raw(o, "{\"name\":");
    put_cstr(o, s->name ? s->name : "");
    put_raw(o, ",\"format\":");
    put_cstr(o, s->format);
    put_raw(o, (s->flags & ARROW_FLAG_NULLABLE) ? ",\"nullable\":true" : ",\"nullable\":false");
    put_raw(o, ",\"metadata\":");
    if (s->metadata) {
        int32_t n, k;
        memcpy(&n, s->metadata, 4);
        const char *m = s->metadata + 4;
        put_raw(o, "[");
        for (int32_t i = 0; i < n; i++) {
            put_raw(o, i ? ",[" : "[");
            memcpy(&k, m, 4);
            put_str(o, m + 4, (size_t)k);
            m += 4 + k;
            put_raw(o, ",");
            memcpy(&k, m, 4);
            put_str(o, m + 4, (size_t)k);
            m += 4 + k;
            put_raw(o, "]");
        }
        put_raw(o, "]");
    } else {
        put_raw(o, "null");
    }
    put_raw(o, ",\"children\":[");
    for (int64_t i = 0; i < s->n_children; i++) {
        if (i) put_raw(o, ",");
        dump_field(o, s->children[i]);
    }
    put_raw(o, "],\"dictionary\":");
    if (s->dictionary) dump_field(o, s->dictionary);
    else put_raw(o, "null");
    put_raw(o, "}");
}

static void flush_line(md_buf *o, FILE *out) {
    md_buf_put_u8(o, '\n');
    fwrite(o->data, 1, o->len, out);
    o->len = 0;
}

static void dump_schema(FILE *out, const struct ArrowSchema *s) {
    md_buf o = MD_BUF_INIT;
    put_raw(&o, "{\"schema\":[");
    for (int64_t i = 0; i < s->n_children; i++) {
        if (i) put_raw(&o, ",");
        dump_field(&o, s->children[i]);
    }
    put_raw(&o, "]}");
    flush_line(&o, out);
    md_buf_free(&o);
}

static void dump_batch(FILE *out, const struct ArrowSchema *s, const struct ArrowArray *a) {
    md_buf o = MD_BUF_INIT;
    for (int64_t r = 0; r < a->length; r++) {
        put_raw(&o, "[");
        for (int64_t c = 0; c < s->n_children; c++) {
            if (c) put_raw(&o, ",");
            dump_value(&o, s->children[c], a->children[c], a->offset + r);
        }
        put_raw(&o, "]");
        flush_line(&o, out);
    }
    md_buf_free(&o);
}

static void dump_end(FILE *out, long long batches, long long rows) {
    fprintf(out, "{\"batches\":%lld,\"rows\":%lld}\n", batches, rows);
}

/* ---- write ------------------------------------------------------------------ */

static FILE *open_out(const char *path) {
    if (!path || !strcmp(path, "-")) return stdout;
    FILE *f = fopen(path, "wb");
    if (!f) die("cannot open %s", path);
    return f;
}

static void run(duckdb_connection con, const char *sql) {
    duckdb_result r;
    if (duckdb_query(con, sql, &r) == DuckDBError) die("%s", duckdb_result_error(&r));
    duckdb_destroy_result(&r);
}

/*
 * Print every row of a result whose columns are all VARCHAR as a JSON array
 * of strings (or null).  Reads chunks: duckdb_value_string would cut strings
 * at their first NUL byte.
 */
static void print_text_rows(duckdb_result *r, md_buf *o, FILE *out) {
    idx_t nc = duckdb_column_count(r);
    duckdb_data_chunk chunk;
    while ((chunk = duckdb_fetch_chunk(*r)) != NULL) {
        idx_t n = duckdb_data_chunk_get_size(chunk);
        for (idx_t row = 0; row < n; row++) {
            put_raw(o, "[");
            for (idx_t c = 0; c < nc; c++) {
                duckdb_vector v = duckdb_data_chunk_get_vector(chunk, c);
                uint64_t *validity = duckdb_vector_get_validity(v);
                if (c) put_raw(o, ",");
                if (!duckdb_validity_row_is_valid(validity, row)) {
                    put_raw(o, "null");
                } else {
                    duckdb_string_t *str = (duckdb_string_t *)duckdb_vector_get_data(v) + row;
                    put_str(o, duckdb_string_t_data(str), duckdb_string_t_length(*str));
                }
            }
            put_raw(o, "]");
            if (out) flush_line(o, out);
        }
        duckdb_destroy_data_chunk(&chunk);
    }
}

static int cmd_write(int argc, char **argv) {
    const char *out_path = NULL, *dump_path = NULL, *text_path = NULL, *sql = NULL;
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        die("%s", "cannot open DuckDB");
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--setup") && i + 1 < argc) run(con, argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out_path = argv[++i];
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc) dump_path = argv[++i];
        else if (!strcmp(argv[i], "--text") && i + 1 < argc) text_path = argv[++i];
        else sql = argv[i];
    }
    if (!sql) die("%s", "write: no SQL");

    if (text_path) {
        FILE *tf = open_out(text_path);
        char *q = md_asprintf("SELECT COLUMNS(*)::VARCHAR FROM (%s)", sql);
        duckdb_result r;
        if (duckdb_query(con, q, &r) == DuckDBError) die("%s", duckdb_result_error(&r));
        md_buf o = MD_BUF_INIT;
        print_text_rows(&r, &o, tf);
        md_buf_free(&o);
        duckdb_destroy_result(&r);
        md_free(q);
        if (tf != stdout) fclose(tf);
    }

    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError) die("%s", duckdb_result_error(&res));
    duckdb_arrow_options opt = duckdb_result_get_arrow_options(&res);
    idx_t n = duckdb_column_count(&res);
    duckdb_logical_type *types = md_calloc(n + 1, sizeof *types);
    const char **names = md_calloc(n + 1, sizeof *names);
    for (idx_t i = 0; i < n; i++) {
        types[i] = duckdb_column_logical_type(&res, i);
        names[i] = duckdb_column_name(&res, i);
    }
    struct ArrowSchema schema;
    duckdb_error_data e = duckdb_to_arrow_schema(opt, types, names, n, &schema);
    if (e) die_duckdb(e);

    md_ipc_writer *w = NULL;
    char *err = NULL;
    if (md_ipc_writer_create(&schema, &w, &err) != MD_OK) die("%s", err);
    FILE *out = open_out(out_path);
    FILE *df = dump_path ? open_out(dump_path) : NULL;
    if (df) dump_schema(df, &schema);
    md_buf buf = MD_BUF_INIT;
    md_ipc_write_schema(w, &buf);
    long long batches = 0, rows = 0;
    duckdb_data_chunk chunk;
    while ((chunk = duckdb_fetch_chunk(res)) != NULL) {
        struct ArrowArray a;
        e = duckdb_data_chunk_to_arrow(opt, chunk, &a);
        if (e) die_duckdb(e);
        if (md_ipc_write_batch(w, &a, &buf, &err) != MD_OK) die("%s", err);
        if (df) dump_batch(df, &schema, &a);
        batches++;
        rows += a.length;
        a.release(&a);
        duckdb_destroy_data_chunk(&chunk);
        fwrite(buf.data, 1, buf.len, out);
        buf.len = 0;
    }
    md_ipc_write_eos(&buf);
    fwrite(buf.data, 1, buf.len, out);
    if (df) {
        dump_end(df, batches, rows);
        if (df != stdout) fclose(df);
    }
    if (out != stdout) fclose(out);
    md_buf_free(&buf);
    md_ipc_writer_destroy(&w);
    schema.release(&schema);
    for (idx_t i = 0; i < n; i++) duckdb_destroy_logical_type(&types[i]);
    md_free(types);
    md_free(names);
    duckdb_destroy_arrow_options(&opt);
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return 0;
}

/* ---- read / import ------------------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *out_len) {
    FILE *f = (!path || !strcmp(path, "-")) ? stdin : fopen(path, "rb");
    if (!f) die("cannot open %s", path);
    md_buf b = MD_BUF_INIT;
    uint8_t tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) md_buf_append(&b, tmp, n);
    if (f != stdin) fclose(f);
    return md_buf_detach(&b, out_len);
}

typedef struct stream {
    struct ArrowSchema schema;
    struct ArrowArray *batches;
    size_t n;
    long long rows;
} stream;

/* Decode a whole stream with the md_ipc reader; exits on error. */
static void decode_all(const uint8_t *p, size_t len, stream *st) {
    memset(st, 0, sizeof *st);
    md_ipc_reader *r = md_ipc_reader_create(0);
    size_t pos = 0;
    for (;;) {
        size_t used;
        md_ipc_message_kind kind;
        struct ArrowArray a;
        char *err = NULL;
        int rc = md_ipc_reader_next(r, p + pos, len - pos, &used, &kind, &a, &err);
        if (rc == MD_EEOF && pos == len && st->schema.release) break; /* no EOS marker: allowed */
        if (rc != MD_OK) {
            fprintf(stderr, "error: %s: %s\n", md_errname(rc), err ? err : md_strerror(rc));
            exit(1);
        }
        pos += used;
        if (kind == MD_IPC_SCHEMA) md_ipc_reader_schema(r, &st->schema);
        if (kind == MD_IPC_BATCH) {
            st->batches = md_realloc(st->batches, (st->n + 1) * sizeof *st->batches);
            st->batches[st->n++] = a;
            st->rows += a.length;
        }
        if (kind == MD_IPC_EOS) break;
    }
    md_ipc_reader_destroy(&r);
}

static int cmd_read(const char *path) {
    size_t len;
    uint8_t *p = slurp(path, &len);
    stream st;
    decode_all(p, len, &st);
    dump_schema(stdout, &st.schema);
    for (size_t i = 0; i < st.n; i++) {
        dump_batch(stdout, &st.schema, &st.batches[i]);
        st.batches[i].release(&st.batches[i]);
    }
    dump_end(stdout, (long long)st.n, st.rows);
    st.schema.release(&st.schema);
    md_free(st.batches);
    md_free(p);
    return 0;
}

static int cmd_import(const char *path) {
    size_t len;
    uint8_t *p = slurp(path, &len);
    stream st;
    decode_all(p, len, &st);
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        die("%s", "cannot open DuckDB");
    int64_t n = st.schema.n_children;
    duckdb_arrow_converted_schema conv = NULL;
    duckdb_error_data e = duckdb_schema_from_arrow(con, &st.schema, &conv);
    if (e) die_duckdb(e);

    /* t: n text columns v0.., then n type-name columns t0.. */
    md_buf sql = MD_BUF_INIT;
    put_raw(&sql, "CREATE TABLE t(");
    for (int k = 0; k < 2; k++)
        for (int64_t c = 0; c < n; c++) {
            char col[48];
            snprintf(col, sizeof col, "%s%c%lld VARCHAR", k || c ? ", " : "", k ? 't' : 'v', (long long)c);
            put_raw(&sql, col);
        }
    put_raw(&sql, ", rn BIGINT)");
    md_buf_put_u8(&sql, 0);
    run(con, (const char *)sql.data);
    md_buf_free(&sql);

    duckdb_appender app = NULL;
    long long rows = 0;
    for (size_t i = 0; i < st.n; i++) {
        duckdb_data_chunk chunk = NULL;
        e = duckdb_data_chunk_from_arrow(con, &st.batches[i], conv, &chunk);
        if (e) die_duckdb(e);
        if (!app) {
            duckdb_logical_type *types = md_calloc((size_t)n + 1, sizeof *types);
            const char **names = md_calloc((size_t)n + 1, sizeof *names);
            for (int64_t c = 0; c < n; c++) {
                types[c] = duckdb_vector_get_column_type(duckdb_data_chunk_get_vector(chunk, (idx_t)c));
                names[c] = md_asprintf("c%lld", (long long)c);
            }
            const char *q = n ? "INSERT INTO t SELECT COLUMNS(*)::VARCHAR, typeof(COLUMNS(*)), "
                                "(SELECT count(*) FROM t) + row_number() OVER () FROM appended_data"
                              : "INSERT INTO t SELECT (SELECT count(*) FROM t) + row_number() OVER () "
                                "FROM appended_data";
            if (duckdb_appender_create_query(con, q, (idx_t)n, types, "appended_data", names,
                                             &app) == DuckDBError)
                die("%s", "DuckDB: cannot create the appender");
            for (int64_t c = 0; c < n; c++) {
                duckdb_destroy_logical_type(&types[c]);
                md_free((void *)names[c]);
            }
            md_free(types);
            md_free(names);
        }
        if (duckdb_append_data_chunk(app, chunk) == DuckDBError)
            die("DuckDB: %s", duckdb_appender_error(app));
        if (duckdb_appender_flush(app) == DuckDBError) die("DuckDB: %s", duckdb_appender_error(app));
        rows += (long long)duckdb_data_chunk_get_size(chunk);
        duckdb_destroy_data_chunk(&chunk);
    }
    if (app) duckdb_appender_destroy(&app);
    duckdb_destroy_arrow_converted_schema(&conv);

    /* types of the first row, then the values of every row */
    md_buf o = MD_BUF_INIT;
    md_buf q = MD_BUF_INIT;
    put_raw(&q, "SELECT ");
    for (int64_t c = 0; c < n; c++) {
        char col[32];
        snprintf(col, sizeof col, "%st%lld", c ? ", " : "", (long long)c);
        put_raw(&q, col);
    }
    put_raw(&q, n ? " FROM t ORDER BY rn LIMIT 1" : "42 LIMIT 0");
    md_buf_put_u8(&q, 0);
    duckdb_result r;
    if (duckdb_query(con, (const char *)q.data, &r) == DuckDBError) die("%s", duckdb_result_error(&r));
    put_raw(&o, "{\"types\":");
    size_t before = o.len;
    print_text_rows(&r, &o, NULL);
    if (o.len == before) put_raw(&o, "null");
    put_raw(&o, "}");
    flush_line(&o, stdout);
    duckdb_destroy_result(&r);
    q.len = 0;
    put_raw(&q, n ? "SELECT COLUMNS('^v[0-9]+$') FROM t ORDER BY rn" : "SELECT 42 LIMIT 0");
    md_buf_put_u8(&q, 0);
    if (duckdb_query(con, (const char *)q.data, &r) == DuckDBError) die("%s", duckdb_result_error(&r));
    print_text_rows(&r, &o, stdout);
    md_buf_free(&o);
    md_buf_free(&q);
    printf("{\"rows\":%lld}\n", rows);
    duckdb_destroy_result(&r);
    for (size_t i = 0; i < st.n; i++)
        if (st.batches[i].release) st.batches[i].release(&st.batches[i]);
    md_free(st.batches);
    st.schema.release(&st.schema);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    md_free(p);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "write")) return cmd_write(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "read")) return cmd_read(argc > 2 ? argv[2] : NULL);
    if (argc >= 2 && !strcmp(argv[1], "import")) return cmd_import(argc > 2 ? argv[2] : NULL);
    fprintf(stderr,
            "usage: arrow_tool write [--setup SQL]... [--out FILE] [--dump FILE] [--text FILE] SQL\n"
            "       arrow_tool read [FILE]\n"
            "       arrow_tool import [FILE]\n");
    return 2;
}

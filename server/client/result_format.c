/*
 * result_format.c: DuckDB-exact text for Arrow values, and the table, CSV
 * and JSON printers of the terminal client (see result_format.h).
 *
 * Two layers:
 *
 * 1. md_fmt_column: an Arrow type compiled once from its format string (and
 *    the ARROW:extension:* metadata DuckDB attaches to vendor types) into a
 *    tree of nodes, so rendering a value never parses strings.  A node knows
 *    its kind (what the value means), its storage (how it is laid out) and
 *    its children.  Rendering follows DuckDB's VARCHAR casts:
 *      - scalars: see the put_* helpers below, one per DuckDB type family;
 *      - inside LIST/ARRAY, STRUCT and MAP a scalar's text is quoted as
 *        'text' (with \' and \\ escapes) when it is empty, starts with a
 *        space, ends with one (length >= 2), is "null" in any case, or holds
 *        one of " ' ( ) , : = [ ] { }; nested values and union members are
 *        never quoted; struct keys are always quoted.
 *    Array access applies every array's `offset`: a value's logical index i
 *    in an array is at physical slot offset + i; a struct's children and a
 *    sparse union's members are indexed by the parent's physical slot, list
 *    offsets index the child's logical positions (the Arrow rules).
 *
 * 2. md_fmt: one result.  CSV and JSON stream each batch to the FILE; the
 *    table keeps the first max_rows rows plus a ring of the last max_rows/2,
 *    so memory is bounded whatever the result size, and draws at the end.
 *
 * Inputs come from DuckDB or from the project's IPC reader, which validates
 * lengths, offsets and buffer sizes; this file trusts array layouts.
 *
 * Known limits (the Arrow data does not carry the difference): a UNION value
 * whose active member is NULL prints as NULL (DuckDB's cast says "NULL" for a
 * non-NULL union with a NULL member, but Arrow unions have no validity of
 * their own); TIMESTAMPTZ is always shown in UTC; with DuckDB's default
 * (lossy) Arrow export BIT arrives as a blob, TIME WITH TIME ZONE without its
 * offset, UUID as a string and HUGEINT as DECIMAL(38,0), which print as such.
 */
#include "result_format.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

/* ---- compiled types ------------------------------------------------------ */

enum fmt_kind {
    K_NULL,
    K_BOOL,   /* bit-packed */
    K_BOOL8,  /* arrow.bool8: one byte per value */
    K_INT,    /* signed, `width` bytes */
    K_UINT,   /* unsigned, `width` bytes */
    K_HALF,   /* float16 */
    K_FLOAT,
    K_DOUBLE,
    K_DECIMAL, /* `width` bytes two's complement, `scale` */
    K_HUGE,    /* DuckDB hugeint: 16 bytes little-endian signed */
    K_UHUGE,   /* DuckDB uhugeint: 16 bytes little-endian unsigned */
    K_BIGNUM,  /* DuckDB bignum: 3-byte header + big-endian magnitude */
    K_STRING,
    K_JSON, /* a string that DuckDB treats as nested (never quoted) */
    K_BLOB,
    K_BIT,    /* DuckDB bit: padding byte + bits */
    K_UUID,   /* 16 bytes big-endian */
    K_TIMETZ, /* DuckDB time_tz: 8 bytes, micros << 24 | encoded offset */
    K_DATE,   /* unit 0: int32 days, unit 1: int64 milliseconds */
    K_TIME,   /* `unit`: 0 s, 1 ms (int32), 2 us, 3 ns (int64) */
    K_TIMESTAMP,
    K_DURATION,
    K_IV_MONTHS,  /* int32 months */
    K_IV_DAYTIME, /* int32 days, int32 milliseconds */
    K_IV_MDN,     /* int32 months, int32 days, int64 nanoseconds */
    K_LIST,
    K_STRUCT,
    K_MAP,
    K_UNION
};

/* How variable-size values (strings, binaries, lists) are laid out. */
enum fmt_storage { S_NONE, S_OFF32, S_OFF64, S_VIEW32, S_VIEW64, S_FIXED };

enum { U_S = 0, U_MS = 1, U_US = 2, U_NS = 3 };

struct md_fmt_column {
    enum fmt_kind kind;
    enum fmt_storage storage;
    int width;          /* bytes per value of fixed-width kinds */
    int unit;           /* time unit (see enum above) */
    bool tz;            /* timestamp with time zone */
    bool numeric;       /* right-aligned in tables */
    bool unnamed;       /* struct whose fields have no names: rendered (a, b) */
    bool dense;         /* dense union */
    int precision, scale;
    int64_t fixed_size; /* fixed-size list length, fixed-size binary width */
    int index_width;    /* dictionary-encoded: bytes per index (0: not encoded) */
    bool index_signed;
    md_fmt_column *dict; /* dictionary-encoded: the value type */
    int n_children;
    md_fmt_column **children;
    char **names;
    int8_t union_child[128]; /* union type id -> child index, -1 if unused */
    char *type_name;
};

static void column_free(md_fmt_column *c) {
    if (!c) return;
    for (int i = 0; i < c->n_children; i++) {
        column_free(c->children[i]);
        md_free(c->names[i]);
    }
    md_free(c->children);
    md_free(c->names);
    column_free(c->dict);
    md_free(c->type_name);
    md_free(c);
}

/* Look up `key` in Arrow C metadata (int32 count, then int32-length-prefixed
 * key/value pairs); returns a malloc'd copy of the value or NULL. */
static char *metadata_get(const char *meta, const char *key) {
    if (!meta) return NULL;
    const uint8_t *p = (const uint8_t *)meta;
    int32_t n;
    memcpy(&n, p, 4);
    p += 4;
    size_t klen = strlen(key);
    for (int32_t i = 0; i < n; i++) {
        int32_t kl, vl;
        memcpy(&kl, p, 4);
        p += 4;
        const uint8_t *k = p;
        p += kl;
        memcpy(&vl, p, 4);
        p += 4;
        if ((size_t)kl == klen && memcmp(k, key, klen) == 0) return md_strndup((const char *)p, (size_t)vl);
        p += vl;
    }
    return NULL;
}

/* The DuckDB vendor type inside an arrow.opaque extension, or "". */
static void opaque_type_name(const char *ext_meta, char *out, size_t cap) {
    out[0] = 0;
    if (!ext_meta) return;
    const char *k = strstr(ext_meta, "\"type_name\"");
    if (!k) return;
    k = strchr(k + 11, '"');
    if (!k) return;
    k++;
    const char *e = strchr(k, '"');
    if (!e || (size_t)(e - k) >= cap) return;
    memcpy(out, k, (size_t)(e - k));
    out[e - k] = 0;
}

static int compile(const struct ArrowSchema *s, int depth, md_fmt_column **out, char **out_err);

static int unsupported(const struct ArrowSchema *s, char **out_err, const char *why) {
    if (out_err)
        *out_err = md_asprintf("column \"%s\": cannot display Arrow format \"%s\"%s%s",
                               s->name ? s->name : "", s->format ? s->format : "(none)",
                               why ? ": " : "", why ? why : "");
    return MD_EUNSUPPORTED;
}

static int compile_children(const struct ArrowSchema *s, int depth, md_fmt_column *c, char **out_err) {
    if (s->n_children < 0 || s->n_children > 100000 || (s->n_children > 0 && !s->children))
        return unsupported(s, out_err, "bad child list");
    c->n_children = (int)s->n_children;
    c->children = md_calloc((size_t)c->n_children + 1, sizeof *c->children);
    c->names = md_calloc((size_t)c->n_children + 1, sizeof *c->names);
    for (int i = 0; i < c->n_children; i++) {
        int rc = compile(s->children[i], depth + 1, &c->children[i], out_err);
        if (rc != MD_OK) return rc;
        c->names[i] = md_strdup(s->children[i]->name ? s->children[i]->name : "");
    }
    return MD_OK;
}

/* Parse "P,S[,W]" of a decimal format. */
static bool parse_decimal(const char *p, int *prec, int *scale, int *bits) {
    char *end;
    long pr = strtol(p, &end, 10);
    if (*end != ',') return false;
    long sc = strtol(end + 1, &end, 10);
    long bw = 128;
    if (*end == ',') bw = strtol(end + 1, &end, 10);
    if (*end != 0 || pr < 1 || pr > 76 || sc < -76 || sc > 76) return false;
    if (bw != 32 && bw != 64 && bw != 128 && bw != 256) return false;
    *prec = (int)pr;
    *scale = (int)sc;
    *bits = (int)bw;
    return true;
}

static int int_width(char f, bool *is_signed) {
    switch (f) {
    case 'c': *is_signed = true; return 1;
    case 'C': *is_signed = false; return 1;
    case 's': *is_signed = true; return 2;
    case 'S': *is_signed = false; return 2;
    case 'i': *is_signed = true; return 4;
    case 'I': *is_signed = false; return 4;
    case 'l': *is_signed = true; return 8;
    case 'L': *is_signed = false; return 8;
    default: return 0;
    }
}

static int time_unit(char u) {
    switch (u) {
    case 's': return U_S;
    case 'm': return U_MS;
    case 'u': return U_US;
    case 'n': return U_NS;
    default: return -1;
    }
}

static char *type_name_of(const md_fmt_column *c);

static int compile_value(const struct ArrowSchema *s, int depth, md_fmt_column *c, char **out_err) {
    const char *f = s->format;
    char *ext = metadata_get(s->metadata, "ARROW:extension:name");
    char *ext_meta = metadata_get(s->metadata, "ARROW:extension:metadata");
    char vendor[64] = "";
    if (ext && strcmp(ext, "arrow.opaque") == 0) opaque_type_name(ext_meta, vendor, sizeof vendor);
    bool is_uuid = ext && strcmp(ext, "arrow.uuid") == 0;
    bool is_json = ext && strcmp(ext, "arrow.json") == 0;
    bool is_bool8 = ext && strcmp(ext, "arrow.bool8") == 0;
    md_free(ext);
    md_free(ext_meta);

    bool sgn;
    int w;
    size_t n = strlen(f);
    if (n == 1 && (w = int_width(f[0], &sgn)) > 0) {
        c->kind = is_bool8 && w == 1 ? K_BOOL8 : sgn ? K_INT : K_UINT;
        c->width = w;
        c->numeric = c->kind != K_BOOL8;
        return MD_OK;
    }
    if (n == 1) {
        switch (f[0]) {
        case 'n': c->kind = K_NULL; return MD_OK;
        case 'b': c->kind = K_BOOL; return MD_OK;
        case 'e': c->kind = K_HALF; c->width = 2; c->numeric = true; return MD_OK;
        case 'f': c->kind = K_FLOAT; c->width = 4; c->numeric = true; return MD_OK;
        case 'g': c->kind = K_DOUBLE; c->width = 8; c->numeric = true; return MD_OK;
        case 'u': c->kind = is_json ? K_JSON : K_STRING; c->storage = S_OFF32; return MD_OK;
        case 'U': c->kind = is_json ? K_JSON : K_STRING; c->storage = S_OFF64; return MD_OK;
        case 'z':
        case 'Z':
            c->storage = f[0] == 'z' ? S_OFF32 : S_OFF64;
            if (strcmp(vendor, "bignum") == 0 || strcmp(vendor, "varint") == 0) {
                c->kind = K_BIGNUM;
                c->numeric = true;
            } else if (strcmp(vendor, "bit") == 0) {
                c->kind = K_BIT;
            } else {
                c->kind = K_BLOB;
            }
            return MD_OK;
        default: break;
        }
    }
    if (strcmp(f, "vu") == 0) {
        c->kind = is_json ? K_JSON : K_STRING;
        c->storage = S_VIEW32;
        return MD_OK;
    }
    if (strcmp(f, "vz") == 0) {
        c->kind = K_BLOB;
        c->storage = S_VIEW32;
        return MD_OK;
    }
    if (f[0] == 'd' && f[1] == ':') {
        int bits;
        if (!parse_decimal(f + 2, &c->precision, &c->scale, &bits)) return unsupported(s, out_err, NULL);
        c->kind = K_DECIMAL;
        c->width = bits / 8;
        c->numeric = true;
        return MD_OK;
    }
    if (f[0] == 'w' && f[1] == ':') {
        char *end;
        long bw = strtol(f + 2, &end, 10);
        if (*end || bw < 1 || bw > (1L << 30)) return unsupported(s, out_err, NULL);
        c->storage = S_FIXED;
        c->fixed_size = bw;
        c->width = (int)bw;
        if (is_uuid && bw == 16) c->kind = K_UUID;
        else if (strcmp(vendor, "hugeint") == 0 && bw == 16) c->kind = K_HUGE, c->numeric = true;
        else if (strcmp(vendor, "uhugeint") == 0 && bw == 16) c->kind = K_UHUGE, c->numeric = true;
        else if (strcmp(vendor, "time_tz") == 0 && bw == 8) c->kind = K_TIMETZ;
        else c->kind = K_BLOB;
        return MD_OK;
    }
    if (f[0] == 't') {
        if (f[1] == 'd' && (f[2] == 'D' || f[2] == 'm') && !f[3]) {
            c->kind = K_DATE;
            c->unit = f[2] == 'D' ? 0 : 1;
            return MD_OK;
        }
        if (f[1] == 't' && f[2] && !f[3] && time_unit(f[2]) >= 0) {
            c->kind = K_TIME;
            c->unit = time_unit(f[2]);
            return MD_OK;
        }
        if (f[1] == 's' && f[2] && f[3] == ':' && time_unit(f[2]) >= 0) {
            c->kind = K_TIMESTAMP;
            c->unit = time_unit(f[2]);
            c->tz = f[4] != 0;
            return MD_OK;
        }
        if (f[1] == 'D' && f[2] && !f[3] && time_unit(f[2]) >= 0) {
            c->kind = K_DURATION;
            c->unit = time_unit(f[2]);
            return MD_OK;
        }
        if (f[1] == 'i' && !f[3]) {
            if (f[2] == 'M') c->kind = K_IV_MONTHS;
            else if (f[2] == 'D') c->kind = K_IV_DAYTIME;
            else if (f[2] == 'n') c->kind = K_IV_MDN;
            else return unsupported(s, out_err, NULL);
            return MD_OK;
        }
        return unsupported(s, out_err, NULL);
    }
    if (f[0] == '+') {
        if (strcmp(f, "+l") == 0 || strcmp(f, "+L") == 0 || strcmp(f, "+vl") == 0 ||
            strcmp(f, "+vL") == 0 || strncmp(f, "+w:", 3) == 0) {
            c->kind = K_LIST;
            if (f[1] == 'l') c->storage = S_OFF32;
            else if (f[1] == 'L') c->storage = S_OFF64;
            else if (f[1] == 'v') c->storage = f[2] == 'l' ? S_VIEW32 : S_VIEW64;
            else {
                char *end;
                long fs = strtol(f + 3, &end, 10);
                if (*end || fs < 0 || fs > (1L << 30)) return unsupported(s, out_err, NULL);
                c->storage = S_FIXED;
                c->fixed_size = fs;
            }
            if (s->n_children != 1) return unsupported(s, out_err, "a list needs one child");
            return compile_children(s, depth, c, out_err);
        }
        if (strcmp(f, "+s") == 0) {
            c->kind = K_STRUCT;
            int rc = compile_children(s, depth, c, out_err);
            if (rc != MD_OK) return rc;
            c->unnamed = c->n_children > 0 && c->names[0][0] == 0;
            return MD_OK;
        }
        if (strcmp(f, "+m") == 0) {
            c->kind = K_MAP;
            c->storage = S_OFF32;
            if (s->n_children != 1 || !s->children || strcmp(s->children[0]->format, "+s") != 0 ||
                s->children[0]->n_children != 2)
                return unsupported(s, out_err, "a map needs one struct child of key and value");
            return compile_children(s, depth, c, out_err);
        }
        if ((f[1] == 'u') && (f[2] == 'd' || f[2] == 's') && f[3] == ':') {
            c->kind = K_UNION;
            c->dense = f[2] == 'd';
            memset(c->union_child, -1, sizeof c->union_child);
            int rc = compile_children(s, depth, c, out_err);
            if (rc != MD_OK) return rc;
            const char *p = f + 4;
            for (int i = 0; i < c->n_children; i++) {
                char *end;
                long id = *p ? strtol(p, &end, 10) : i;
                if (*p && end == p) return unsupported(s, out_err, "bad union type ids");
                if (id < 0 || id > 127) return unsupported(s, out_err, "bad union type ids");
                c->union_child[id] = (int8_t)i;
                if (*p) p = *end == ',' ? end + 1 : end;
            }
            return MD_OK;
        }
    }
    return unsupported(s, out_err, NULL);
}

static int compile(const struct ArrowSchema *s, int depth, md_fmt_column **out, char **out_err) {
    if (!s || !s->format) {
        if (out_err) *out_err = md_strdup("a column has no Arrow format");
        return MD_EINVAL;
    }
    if (depth > 64) return unsupported(s, out_err, "nested too deeply");
    md_fmt_column *c = md_calloc(1, sizeof *c);
    int rc;
    if (s->dictionary) {
        bool sgn;
        int w = strlen(s->format) == 1 ? int_width(s->format[0], &sgn) : 0;
        if (w == 0) {
            column_free(c);
            return unsupported(s, out_err, "dictionary indices must be integers");
        }
        c->index_width = w;
        c->index_signed = sgn;
        rc = compile(s->dictionary, depth + 1, &c->dict, out_err);
    } else {
        rc = compile_value(s, depth, c, out_err);
    }
    if (rc != MD_OK) {
        column_free(c);
        return rc;
    }
    c->type_name = type_name_of(c);
    *out = c;
    return MD_OK;
}

/* DuckDB's lowercase type name, as its CLI shows in the table header. */
static char *type_name_of(const md_fmt_column *c) {
    static const char *const ints[] = {"", "int8", "int16", "", "int32", "", "", "", "int64"};
    static const char *const uints[] = {"", "uint8", "uint16", "", "uint32", "", "", "", "uint64"};
    static const char *const ts[] = {"timestamp_s", "timestamp_ms", "timestamp", "timestamp_ns"};
    if (c->index_width) return md_strdup("enum");
    switch (c->kind) {
    case K_NULL: return md_strdup("\"null\"");
    case K_BOOL:
    case K_BOOL8: return md_strdup("boolean");
    case K_INT: return md_strdup(ints[c->width]);
    case K_UINT: return md_strdup(uints[c->width]);
    case K_HALF:
    case K_FLOAT: return md_strdup("float");
    case K_DOUBLE: return md_strdup("double");
    case K_DECIMAL: return md_asprintf("decimal(%d,%d)", c->precision, c->scale);
    case K_HUGE: return md_strdup("int128");
    case K_UHUGE: return md_strdup("uint128");
    case K_BIGNUM: return md_strdup("bignum");
    case K_STRING: return md_strdup("varchar");
    case K_JSON: return md_strdup("json");
    case K_BLOB: return md_strdup("blob");
    case K_BIT: return md_strdup("bit");
    case K_UUID: return md_strdup("uuid");
    case K_TIMETZ: return md_strdup("time with time zone");
    case K_DATE: return md_strdup("date");
    case K_TIME: return md_strdup(c->unit == U_NS ? "time_ns" : "time");
    case K_TIMESTAMP: return md_strdup(c->tz ? "timestamp with time zone" : ts[c->unit]);
    case K_DURATION:
    case K_IV_MONTHS:
    case K_IV_DAYTIME:
    case K_IV_MDN: return md_strdup("interval");
    case K_LIST:
        if (c->storage == S_FIXED)
            return md_asprintf("%s[%lld]", c->children[0]->type_name, (long long)c->fixed_size);
        return md_asprintf("%s[]", c->children[0]->type_name);
    case K_STRUCT:
    case K_UNION: {
        md_buf b = MD_BUF_INIT;
        const char *head = c->kind == K_STRUCT ? "struct(" : "union(";
        md_buf_append(&b, head, strlen(head));
        for (int i = 0; i < c->n_children; i++) {
            if (i) md_buf_append(&b, ", ", 2);
            if (c->names[i][0]) {
                md_buf_append(&b, c->names[i], strlen(c->names[i]));
                md_buf_append(&b, " ", 1);
            }
            md_buf_append(&b, c->children[i]->type_name, strlen(c->children[i]->type_name));
        }
        md_buf_append(&b, ")", 2); /* with the terminating NUL */
        size_t len;
        return (char *)md_buf_detach(&b, &len);
    }
    case K_MAP: {
        const md_fmt_column *e = c->children[0];
        return md_asprintf("map(%s, %s)", e->children[0]->type_name, e->children[1]->type_name);
    }
    }
    return md_strdup("?");
}

int md_fmt_column_create(const struct ArrowSchema *field, md_fmt_column **out, char **out_err) {
    return compile(field, 0, out, out_err);
}

const char *md_fmt_column_type_name(const md_fmt_column *col) { return col->type_name; }

void md_fmt_column_destroy(md_fmt_column **col) {
    if (!col || !*col) return;
    column_free(*col);
    *col = NULL;
}

/* ---- array access -------------------------------------------------------- */

static inline bool bit_at(const void *bitmap, int64_t i) {
    return (((const uint8_t *)bitmap)[i >> 3] >> (i & 7)) & 1;
}

/* Is the value at physical slot `phys` NULL (union members decide their own). */
static inline bool slot_null(const md_fmt_column *c, const struct ArrowArray *a, int64_t phys) {
    if (c->kind == K_NULL && !c->index_width) return true;
    if (c->kind == K_UNION && !c->index_width) return false;
    if (a->null_count == 0 || a->n_buffers < 1 || !a->buffers[0]) return false;
    return !bit_at(a->buffers[0], phys);
}

static inline const uint8_t *buf_at(const struct ArrowArray *a, int k) {
    return (const uint8_t *)a->buffers[k];
}

static int64_t read_int(const uint8_t *p, int width, bool is_signed) {
    switch (width) {
    case 1: return is_signed ? (int64_t)(int8_t)p[0] : (int64_t)p[0];
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return is_signed ? (int64_t)(int16_t)v : (int64_t)v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return is_signed ? (int64_t)(int32_t)v : (int64_t)v;
    }
    default: {
        int64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    }
}

/* The child range [*start, *start + *count) of a list value at slot `phys`. */
static void list_range(const md_fmt_column *c, const struct ArrowArray *a, int64_t phys,
                       int64_t *start, int64_t *count) {
    switch (c->storage) {
    case S_OFF32: {
        int32_t o[2];
        memcpy(o, buf_at(a, 1) + phys * 4, 8);
        *start = o[0];
        *count = o[1] - o[0];
        return;
    }
    case S_OFF64: {
        int64_t o[2];
        memcpy(o, buf_at(a, 1) + phys * 8, 16);
        *start = o[0];
        *count = o[1] - o[0];
        return;
    }
    case S_VIEW32: {
        int32_t o, n;
        memcpy(&o, buf_at(a, 1) + phys * 4, 4);
        memcpy(&n, buf_at(a, 2) + phys * 4, 4);
        *start = o;
        *count = n;
        return;
    }
    case S_VIEW64:
        memcpy(start, buf_at(a, 1) + phys * 8, 8);
        memcpy(count, buf_at(a, 2) + phys * 8, 8);
        return;
    case S_FIXED:
        *start = phys * c->fixed_size;
        *count = c->fixed_size;
        return;
    default: *start = *count = 0;
    }
}

/* The bytes of a string/binary value at physical slot `phys`. */
static void bytes_at(const md_fmt_column *c, const struct ArrowArray *a, int64_t phys,
                     const uint8_t **out_p, size_t *out_n) {
    switch (c->storage) {
    case S_OFF32:
    case S_OFF64: { /* same offsets layout as a list's */
        int64_t start, n;
        list_range(c, a, phys, &start, &n);
        *out_p = buf_at(a, 2) ? buf_at(a, 2) + start : (const uint8_t *)"";
        *out_n = (size_t)n;
        return;
    }
    case S_VIEW32: {
        const uint8_t *v = buf_at(a, 1) + phys * 16;
        int32_t len, idx, off;
        memcpy(&len, v, 4);
        if (len <= 12) {
            *out_p = v + 4;
        } else {
            memcpy(&idx, v + 8, 4);
            memcpy(&off, v + 12, 4);
            *out_p = buf_at(a, 2 + idx) + off;
        }
        *out_n = (size_t)len;
        return;
    }
    case S_FIXED:
        *out_p = buf_at(a, 1) + phys * c->fixed_size;
        *out_n = (size_t)c->fixed_size;
        return;
    default:
        *out_p = (const uint8_t *)"";
        *out_n = 0;
    }
}


/* ---- scalar text --------------------------------------------------------- */

static void put_str(md_buf *out, const char *s) { md_buf_append(out, s, strlen(s)); }

static void put_fmt(md_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(md_buf *out, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) md_buf_append(out, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Integers without printf. */
static void put_u64(md_buf *out, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    md_buf_append(out, tmp + sizeof tmp - n, (size_t)n);
}

static void put_i64(md_buf *out, int64_t v) {
    if (v < 0) {
        md_buf_append(out, "-", 1);
        put_u64(out, 0 - (uint64_t)v);
    } else {
        put_u64(out, (uint64_t)v);
    }
}

/* v as exactly `width` digits (v < 10^width). */
static void put_padded(md_buf *out, uint64_t v, int width) {
    char tmp[20];
    for (int i = width - 1; i >= 0; i--) {
        tmp[i] = (char)('0' + v % 10);
        v /= 10;
    }
    md_buf_append(out, tmp, (size_t)width);
}

/*
 * Decimal digits of a non-negative integer held in little-endian 32-bit
 * limbs (destroyed), with a decimal point before the last `scale` digits.
 */
static void put_limbs(md_buf *out, uint32_t *limbs, size_t n, bool negative, int scale, bool lead_zero) {
    /* Collect base-1e9 chunks, least significant first. */
    size_t cap = n * 10 / 9 + 2, nchunks = 0;
    uint32_t stack_chunks[16];
    uint32_t *chunks = cap <= 16 ? stack_chunks : md_malloc(cap * sizeof *chunks);
    while (n > 0 && limbs[n - 1] == 0) n--;
    while (n > 0) {
        uint64_t rem = 0;
        for (size_t i = n; i-- > 0;) {
            uint64_t cur = (rem << 32) | limbs[i];
            limbs[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        chunks[nchunks++] = (uint32_t)rem;
        while (n > 0 && limbs[n - 1] == 0) n--;
    }
    /* Digits, most significant first. */
    size_t ndig_cap = nchunks * 9 + 1;
    char stack_digits[96];
    char *digits = ndig_cap <= sizeof stack_digits ? stack_digits : md_malloc(ndig_cap);
    size_t nd = 0;
    if (nchunks == 0) digits[nd++] = '0';
    for (size_t i = nchunks; i-- > 0;) {
        char tmp[10];
        int k = snprintf(tmp, sizeof tmp, i == nchunks - 1 ? "%u" : "%09u", chunks[i]);
        memcpy(digits + nd, tmp, (size_t)k);
        nd += (size_t)k;
    }
    if (negative) md_buf_append(out, "-", 1);
    if (scale <= 0) {
        md_buf_append(out, digits, nd);
        for (int i = 0; i < -scale && !(nd == 1 && digits[0] == '0'); i++) md_buf_append(out, "0", 1);
    } else if (nd <= (size_t)scale) {
        md_buf_append(out, "0.", 2);
        if (!lead_zero) { /* DECIMAL(s,s): DuckDB writes .5, not 0.5 */
            out->len -= 2;
            md_buf_append(out, ".", 1);
        }
        for (size_t i = nd; i < (size_t)scale; i++) md_buf_append(out, "0", 1);
        md_buf_append(out, digits, nd);
    } else {
        md_buf_append(out, digits, nd - (size_t)scale);
        md_buf_append(out, ".", 1);
        md_buf_append(out, digits + nd - scale, (size_t)scale);
    }
    if (chunks != stack_chunks) md_free(chunks);
    if (digits != stack_digits) md_free(digits);
}

/* A little-endian two's complement (or unsigned) integer of `nbytes` bytes,
 * with `scale` decimals; `lead_zero` writes 0.5 rather than .5. */
static void put_le_int(md_buf *out, const uint8_t *p, int nbytes, bool is_signed, int scale, bool lead_zero) {
    uint32_t limbs[8] = {0};
    int nl = (nbytes + 3) / 4;
    for (int i = 0; i < nbytes; i++) limbs[i / 4] |= (uint32_t)p[i] << (8 * (i % 4));
    bool neg = is_signed && (p[nbytes - 1] & 0x80);
    if (neg) {
        if (nbytes % 4) limbs[nl - 1] |= ~0u << (8 * (nbytes % 4));
        uint64_t carry = 1;
        for (int i = 0; i < nl; i++) {
            uint64_t v = (uint64_t)(uint32_t)~limbs[i] + carry;
            limbs[i] = (uint32_t)v;
            carry = v >> 32;
        }
    }
    put_limbs(out, limbs, (size_t)nl, neg, scale, lead_zero);
}

/* DuckDB BIGNUM: 3 header bytes (top bit clear = negative, then inverted),
 * then the magnitude big-endian (inverted when negative). */
static void put_bignum(md_buf *out, const uint8_t *p, size_t n) {
    if (n < 4) {
        put_str(out, "0");
        return;
    }
    bool neg = (p[0] & 0x80) == 0;
    size_t nbytes = n - 3, nl = (nbytes + 3) / 4;
    uint32_t *limbs = md_calloc(nl, sizeof *limbs);
    for (size_t i = 0; i < nbytes; i++) {
        uint8_t b = p[n - 1 - i];
        if (neg) b = (uint8_t)~b;
        limbs[i / 4] |= (uint32_t)b << (8 * (i % 4));
    }
    bool zero = true;
    for (size_t i = 0; i < nl; i++) zero = zero && limbs[i] == 0;
    put_limbs(out, limbs, nl, neg && !zero, 0, true);
    md_free(limbs);
}

/*
 * Decimal digits of a positive finite double: the shortest that reads back
 * as the same double (or float, when `single`), correctly rounded.  Writes
 * the digits (no trailing zeros) and returns their count; *out_exp10 is the
 * decimal exponent of the first digit.
 *
 * Correctly rounded output at k significant digits round-trips for the
 * shortest k, and a shorter exact form padded with zeros is still the
 * correctly rounded one, so the search starts where a shorter form is
 * always found (15 digits for normal doubles, 6 for normal floats).
 */
static int shortest_digits(double v, bool single, char digits[24], int *out_exp10) {
    char buf[48];
    int k = single ? 6 : 15, kmax = single ? 9 : 17;
    if (v < (single ? FLT_MIN : DBL_MIN)) k = 1; /* subnormal: fewer bits, try all */
    for (;; k++) {
        snprintf(buf, sizeof buf, "%.*e", k - 1, v);
        if (k >= kmax) break;
        if (single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v) break;
    }
    int nd = 0;
    const char *p = buf;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    *out_exp10 = atoi(p + 1);
    return nd;
}

/*
 * REAL values: DuckDB prints them with an old {fmt} release whose shortest
 * float path is Grisu3 run against the float's rounding interval; when Grisu
 * cannot decide (ties, candidates on the interval boundary), that release
 * falls back to the exact shortest form of the value widened to double, so
 * e.g. 296805.125f prints as 296805.125, not 296805.12.  To give the same
 * text, grisu_float() performs the same computation: the value and its
 * interval scaled by a cached power of ten in 64-bit fixed point, digits
 * generated from the upper bound, and the "weeding" checks that give up when
 * the rounding error leaves the answer open.
 *
 * POW10_SIG/POW10_EXP: 10^k ~= sig * 2^exp for k = -348, -340, ..., 340,
 * sig normalized to [2^63, 2^64) and rounded to nearest (computed exactly
 * with rational arithmetic by a throwaway script).
 */
static const uint64_t POW10_SIG[87] = {
    0xfa8fd5a0081c0288ULL, 0xbaaee17fa23ebf76ULL, 0x8b16fb203055ac76ULL,
    0xcf42894a5dce35eaULL, 0x9a6bb0aa55653b2dULL, 0xe61acf033d1a45dfULL,
    0xab70fe17c79ac6caULL, 0xff77b1fcbebcdc4fULL, 0xbe5691ef416bd60cULL,
    0x8dd01fad907ffc3cULL, 0xd3515c2831559a83ULL, 0x9d71ac8fada6c9b5ULL,
    0xea9c227723ee8bcbULL, 0xaecc49914078536dULL, 0x823c12795db6ce57ULL,
    0xc21094364dfb5637ULL, 0x9096ea6f3848984fULL, 0xd77485cb25823ac7ULL,
    0xa086cfcd97bf97f4ULL, 0xef340a98172aace5ULL, 0xb23867fb2a35b28eULL,
    0x84c8d4dfd2c63f3bULL, 0xc5dd44271ad3cdbaULL, 0x936b9fcebb25c996ULL,
    0xdbac6c247d62a584ULL, 0xa3ab66580d5fdaf6ULL, 0xf3e2f893dec3f126ULL,
    0xb5b5ada8aaff80b8ULL, 0x87625f056c7c4a8bULL, 0xc9bcff6034c13053ULL,
    0x964e858c91ba2655ULL, 0xdff9772470297ebdULL, 0xa6dfbd9fb8e5b88fULL,
    0xf8a95fcf88747d94ULL, 0xb94470938fa89bcfULL, 0x8a08f0f8bf0f156bULL,
    0xcdb02555653131b6ULL, 0x993fe2c6d07b7facULL, 0xe45c10c42a2b3b06ULL,
    0xaa242499697392d3ULL, 0xfd87b5f28300ca0eULL, 0xbce5086492111aebULL,
    0x8cbccc096f5088ccULL, 0xd1b71758e219652cULL, 0x9c40000000000000ULL,
    0xe8d4a51000000000ULL, 0xad78ebc5ac620000ULL, 0x813f3978f8940984ULL,
    0xc097ce7bc90715b3ULL, 0x8f7e32ce7bea5c70ULL, 0xd5d238a4abe98068ULL,
    0x9f4f2726179a2245ULL, 0xed63a231d4c4fb27ULL, 0xb0de65388cc8ada8ULL,
    0x83c7088e1aab65dbULL, 0xc45d1df942711d9aULL, 0x924d692ca61be758ULL,
    0xda01ee641a708deaULL, 0xa26da3999aef774aULL, 0xf209787bb47d6b85ULL,
    0xb454e4a179dd1877ULL, 0x865b86925b9bc5c2ULL, 0xc83553c5c8965d3dULL,
    0x952ab45cfa97a0b3ULL, 0xde469fbd99a05fe3ULL, 0xa59bc234db398c25ULL,
    0xf6c69a72a3989f5cULL, 0xb7dcbf5354e9beceULL, 0x88fcf317f22241e2ULL,
    0xcc20ce9bd35c78a5ULL, 0x98165af37b2153dfULL, 0xe2a0b5dc971f303aULL,
    0xa8d9d1535ce3b396ULL, 0xfb9b7cd9a4a7443cULL, 0xbb764c4ca7a44410ULL,
    0x8bab8eefb6409c1aULL, 0xd01fef10a657842cULL, 0x9b10a4e5e9913129ULL,
    0xe7109bfba19c0c9dULL, 0xac2820d9623bf429ULL, 0x80444b5e7aa7cf85ULL,
    0xbf21e44003acdd2dULL, 0x8e679c2f5e44ff8fULL, 0xd433179d9c8cb841ULL,
    0x9e19db92b4e31ba9ULL, 0xeb96bf6ebadf77d9ULL, 0xaf87023b9bf0ee6bULL,
};
static const int16_t POW10_EXP[87] = {
    -1220, -1193, -1166, -1140, -1113, -1087, -1060, -1034, -1007, -980, -954,
    -927, -901, -874, -847, -821, -794, -768, -741, -715, -688, -661,
    -635, -608, -582, -555, -529, -502, -475, -449, -422, -396, -369,
    -343, -316, -289, -263, -236, -210, -183, -157, -130, -103, -77,
    -50, -24, 3, 30, 56, 83, 109, 136, 162, 189, 216,
    242, 269, 295, 322, 348, 375, 402, 428, 455, 481, 508,
    534, 561, 588, 614, 641, 667, 694, 720, 747, 774, 800,
    827, 853, 880, 907, 933, 960, 986, 1013, 1039, 1066,
};

enum { GRISU_MORE, GRISU_DONE, GRISU_FAIL };

/* 64x64 -> upper 64 bits, rounded half up. */
static uint64_t mul_hi_round(uint64_t a, uint64_t b) {
    unsigned __int128 p = (unsigned __int128)a * b;
    return (uint64_t)(p >> 64) + (((uint64_t)p >> 63) & 1);
}

/* Shift a significand (with its exponent) so bit 63 is set. */
static void normalize64(uint64_t *f, int *e) {
    while (!(*f >> 63)) {
        *f <<= 1;
        (*e)--;
    }
}

/* A positive finite double as f * 2^e, f holding the implicit bit. */
static void split_double(double d, uint64_t *out_f, int *out_e, bool *out_pow2) {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    uint64_t f = bits & ((1ULL << 52) - 1);
    int biased = (int)(bits >> 52 & 0x7FF);
    *out_pow2 = f == 0 && biased > 1; /* the value below is closer than the one above */
    if (biased) f |= 1ULL << 52;
    else biased = 1;
    *out_f = f;
    *out_e = biased - 1075;
}

/* After a digit: stop, go on, or give up (Grisu3's round_weed). `rest` is
 * what is left of the scaled upper bound, `delta` the interval width,
 * `diff` the distance from the value to the upper bound, `unit` the scale of
 * the error bound. */
static int grisu_weed(char *digits, int n, uint64_t ten_kappa, uint64_t rest, uint64_t delta, uint64_t diff,
                      uint64_t unit) {
    if (rest >= delta) return GRISU_MORE;
    uint64_t close_up = (diff - 1) * unit, close_down = (diff + 1) * unit;
    while (rest < close_up && delta - rest >= ten_kappa &&
           (rest + ten_kappa < close_up || close_up - rest >= rest + ten_kappa - close_up)) {
        digits[n - 1]--;
        rest += ten_kappa;
    }
    if (rest < close_down && delta - rest >= ten_kappa &&
        (rest + ten_kappa < close_down || close_down - rest > rest + ten_kappa - close_down))
        return GRISU_FAIL;
    return 2 * unit <= rest && rest <= delta - 4 * unit ? GRISU_DONE : GRISU_FAIL;
}

static const uint64_t P10[20] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
                                 100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
                                 1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
                                 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
                                 1000000000000000000ULL, 10000000000000000000ULL};

/*
 * Grisu3 digit generation: the value vf and its rounding interval [lo, hi]
 * share the binary exponent e, vf and hi have bit 63 set.  Returns the
 * digit count (the digits are the shortest in the interval, closest to the
 * value), or 0 when the 64-bit arithmetic cannot decide.
 */
static int grisu_core(uint64_t vf, uint64_t lo, uint64_t hi, int e, char digits[24], int *out_exp10) {
    /* A cached 10^K that brings the binary exponent into [-60, -32]. */
    int min_e = -60 - (e + 64);
    int k = (int)((((int64_t)(min_e + 63)) * 0x4d104d42LL + ((1LL << 32) - 1)) >> 32);
    int idx = (k + 348 - 1) / 8 + 1;
    int cached_exp10 = -348 + idx * 8;
    vf = mul_hi_round(vf, POW10_SIG[idx]);
    e = e + POW10_EXP[idx] + 64;
    lo = mul_hi_round(lo, POW10_SIG[idx]) - 1;
    hi = mul_hi_round(hi, POW10_SIG[idx]) + 1;

    int shift = -e;
    uint64_t one = 1ULL << shift, delta = hi - lo, diff = hi - vf;
    uint32_t integral = (uint32_t)(hi >> shift);
    uint64_t fractional = hi & (one - 1);
    int kappa = 1;
    while (kappa < 10 && integral >= P10[kappa]) kappa++;
    int n = 0, r = GRISU_MORE;
    while (kappa > 0 && r == GRISU_MORE) {
        uint32_t q = (uint32_t)P10[kappa - 1];
        digits[n++] = (char)('0' + integral / q);
        integral %= q;
        kappa--;
        r = grisu_weed(digits, n, P10[kappa] << shift, ((uint64_t)integral << shift) + fractional, delta, diff, 1);
    }
    while (r == GRISU_MORE) {
        if (n >= 20 || kappa <= -19) return 0;
        fractional *= 10;
        delta *= 10;
        digits[n++] = (char)('0' + (fractional >> shift));
        fractional &= one - 1;
        kappa--;
        r = grisu_weed(digits, n, one, fractional, delta, diff, P10[-kappa]);
    }
    if (r != GRISU_DONE) return 0;
    while (n > 1 && digits[n - 1] == '0') {
        n--;
        kappa++;
    }
    *out_exp10 = kappa - cached_exp10 + n - 1;
    return n;
}

/* Shortest digits of a positive finite float against its own rounding
 * interval (computed on the value widened to double, as {fmt} does);
 * 0 when Grisu gives up. */
static int grisu_float(float x, char digits[24], int *out_exp10) {
    uint64_t f;
    int e;
    bool pow2;
    split_double(x, &f, &e, &pow2);
    /* Half a float ulp in units of the double significand; below the float
     * normal range a float ulp is wider. */
    const int float_min_normal_e = -125 - 53;
    uint64_t half_ulp = 1ULL << 28;
    if (e < float_min_normal_e) half_ulp <<= float_min_normal_e - e;
    uint64_t hi = f + half_ulp, vf = f;
    int he = e, ve = e;
    normalize64(&hi, &he);
    normalize64(&vf, &ve);
    uint64_t lo = f - (half_ulp >> ((f == (1ULL << 52) && e > float_min_normal_e) ? 1 : 0));
    if (he != ve) return 0;
    lo <<= e - he;
    return grisu_core(vf, lo, hi, ve, digits, out_exp10);
}

/* Shortest digits of a positive finite double; 0 when Grisu gives up. */
static int grisu_double(double x, char digits[24], int *out_exp10) {
    uint64_t f;
    int e;
    bool pow2;
    split_double(x, &f, &e, &pow2);
    /* Interval ends halfway to the neighbours: (2f +- 1) * 2^(e-1), or
     * (4f - 1) * 2^(e-2) below a power of two. */
    uint64_t hi = (f << 1) + 1, vf = f;
    int he = e - 1, ve = e;
    normalize64(&hi, &he);
    normalize64(&vf, &ve);
    if (he != ve) return 0;
    uint64_t lo = pow2 ? (f << 2) - 1 : (f << 1) - 1;
    int le = pow2 ? e - 2 : e - 1;
    lo <<= le - he;
    return grisu_core(vf, lo, hi, ve, digits, out_exp10);
}

/*
 * A DOUBLE or REAL as DuckDB prints it: plain notation for decimal
 * exponents -4..15 (always with a fractional part: 1.0), scientific
 * otherwise (1e+16, 1e-05, 1.5e+300), and nan, inf, -inf.
 */
static void put_real(md_buf *out, double v, bool single) {
    if (isnan(v)) {
        put_str(out, "nan");
        return;
    }
    if (isinf(v)) {
        put_str(out, v < 0 ? "-inf" : "inf");
        return;
    }
    char digits[24];
    int nd, exp10 = 0;
    bool neg = signbit(v);
    double a = fabs(v);
    if (a == 0) {
        digits[0] = '0';
        nd = 1;
    } else if (single) {
        nd = grisu_float((float)a, digits, &exp10);
        if (nd == 0) nd = shortest_digits(a, false, digits, &exp10);
    } else {
        nd = grisu_double(a, digits, &exp10);
        if (nd == 0) nd = shortest_digits(a, false, digits, &exp10);
    }
    if (neg) md_buf_append(out, "-", 1);
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 >= 0) {
            int intdig = exp10 + 1;
            for (int i = 0; i < intdig; i++) md_buf_append(out, i < nd ? &digits[i] : "0", 1);
            md_buf_append(out, ".", 1);
            if (nd > intdig) md_buf_append(out, digits + intdig, (size_t)(nd - intdig));
            else md_buf_append(out, "0", 1);
        } else {
            md_buf_append(out, "0.", 2);
            for (int i = 0; i < -exp10 - 1; i++) md_buf_append(out, "0", 1);
            md_buf_append(out, digits, (size_t)nd);
        }
    } else {
        md_buf_append(out, digits, 1);
        if (nd > 1) {
            md_buf_append(out, ".", 1);
            md_buf_append(out, digits + 1, (size_t)(nd - 1));
        }
        put_fmt(out, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
}

static float half_to_float(uint16_t h) {
    int sign = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0) v = ldexpf((float)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexpf((float)(m | 0x400), e - 25);
    return sign ? -v : v;
}

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Proleptic Gregorian date of a day count since 1970-01-01 (era arithmetic:
 * 400-year cycles of 146097 days, years starting in March). */
static void civil_from_days(int64_t days, int64_t *out_y, int *out_m, int *out_d) {
    days += 719468; /* days from 0000-03-01 to 1970-01-01 */
    int64_t era = floor_div(days, 146097);
    int64_t doe = days - era * 146097;                                    /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                     /* March = 0 */
    *out_d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *out_m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *out_y = yoe + era * 400 + (*out_m <= 2);
}

/* DuckDB's date text: 2024-01-31, years before 1 as "0002-01-01 (BC)". */
static void put_date_days(md_buf *out, int64_t days) {
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int64_t year = y <= 0 ? 1 - y : y;
    if (year < 10000) put_padded(out, (uint64_t)year, 4);
    else put_u64(out, (uint64_t)year);
    md_buf_append(out, "-", 1);
    put_padded(out, (uint64_t)m, 2);
    md_buf_append(out, "-", 1);
    put_padded(out, (uint64_t)d, 2);
    if (y <= 0) md_buf_append(out, " (BC)", 5);
}

/* HH:MM:SS plus the fraction with trailing zeros trimmed; `frac` holds
 * `digits` (6 or 9) fractional digits. */
static void put_clock(md_buf *out, uint64_t hours, int minutes, int seconds, uint64_t frac, int digits) {
    if (hours < 100) put_padded(out, hours, 2);
    else put_u64(out, hours);
    md_buf_append(out, ":", 1);
    put_padded(out, (uint64_t)minutes, 2);
    md_buf_append(out, ":", 1);
    put_padded(out, (uint64_t)seconds, 2);
    if (frac) {
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        md_buf_append(out, ".", 1);
        put_padded(out, frac, digits);
    }
}

/* A time of day given in nanoseconds (ns precision shown only when `ns`). */
static void put_time_nanos(md_buf *out, int64_t nanos, bool ns) {
    uint64_t t = nanos < 0 ? 0 : (uint64_t)nanos;
    uint64_t secs = t / 1000000000u, sub = t % 1000000000u;
    put_clock(out, secs / 3600, (int)(secs / 60 % 60), (int)(secs % 60), ns ? sub : sub / 1000, ns ? 9 : 6);
}

static const int64_t unit_per_day[4] = {86400LL, 86400000LL, 86400000000LL, 86400000000000LL};
static const int64_t nanos_per_unit[4] = {1000000000LL, 1000000LL, 1000LL, 1LL};

static void put_timestamp(md_buf *out, int64_t v, int unit, bool tz) {
    if (v == INT64_MAX) {
        put_str(out, "infinity");
        return;
    }
    if (v == -INT64_MAX) {
        put_str(out, "-infinity");
        return;
    }
    int64_t days = floor_div(v, unit_per_day[unit]);
    int64_t rem = v - days * unit_per_day[unit];
    put_date_days(out, days);
    md_buf_append(out, " ", 1);
    put_time_nanos(out, rem * nanos_per_unit[unit], unit == U_NS);
    if (tz) md_buf_append(out, "+00", 3);
}

static void plural(md_buf *out, int64_t n, const char *unit, bool *first) {
    put_fmt(out, "%s%lld %s%s", *first ? "" : " ", (long long)n, unit, (n == 1 || n == -1) ? "" : "s");
    *first = false;
}

/* DuckDB's interval text: "1 year 2 months -3 days 04:05:06.5". */
static void put_interval(md_buf *out, int32_t months, int32_t days, int64_t micros) {
    bool first = true;
    if (months) {
        int32_t years = months / 12, rest = months % 12;
        if (years) plural(out, years, "year", &first);
        if (rest) plural(out, rest, "month", &first);
    }
    if (days) plural(out, days, "day", &first);
    if (micros || first) {
        if (!first) md_buf_append(out, " ", 1);
        uint64_t u = micros < 0 ? 0 - (uint64_t)micros : (uint64_t)micros;
        if (micros < 0) md_buf_append(out, "-", 1);
        uint64_t secs = u / 1000000u;
        put_clock(out, secs / 3600, (int)(secs / 60 % 60), (int)(secs % 60), u % 1000000u, 6);
    }
}

/* Blob bytes: printable ASCII as is, everything else (and \ ' ") as \xNN. */
static void put_blob(md_buf *out, const uint8_t *p, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    md_buf_reserve(out, n);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (b >= 32 && b <= 126 && b != '\\' && b != '\'' && b != '"') {
            md_buf_append(out, &b, 1);
        } else {
            char e[4] = {'\\', 'x', hex[b >> 4], hex[b & 15]};
            md_buf_append(out, e, 4);
        }
    }
}

/* DuckDB BIT: the first byte counts the padding bits of the second. */
static void put_bits(md_buf *out, const uint8_t *p, size_t n) {
    if (n < 1) return;
    size_t pad = p[0];
    for (size_t i = 8 + pad; i < n * 8; i++) {
        char ch = (p[i / 8] >> (7 - i % 8)) & 1 ? '1' : '0';
        md_buf_append(out, &ch, 1);
    }
}

static void put_uuid(md_buf *out, const uint8_t *p) {
    static const char hex[] = "0123456789abcdef";
    char s[36];
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s[k++] = '-';
        s[k++] = hex[p[i] >> 4];
        s[k++] = hex[p[i] & 15];
    }
    md_buf_append(out, s, 36);
}

/* DuckDB TIMETZ: micros << 24 | (MAX_OFFSET - offset seconds). */
static void put_timetz(md_buf *out, uint64_t bits) {
    const int64_t max_offset = 16 * 60 * 60 - 1;
    int64_t micros = (int64_t)(bits >> 24);
    int64_t offset = max_offset - (int64_t)(bits & 0xFFFFFF);
    put_time_nanos(out, micros * 1000, false);
    int64_t a = offset < 0 ? -offset : offset;
    /* Like DuckDB: minutes only when non-zero, then seconds when non-zero
     * (so 5 h 0 min 30 s prints as +05:30). */
    put_fmt(out, "%c%02lld", offset < 0 ? '-' : '+', (long long)(a / 3600));
    if (a / 60 % 60) put_fmt(out, ":%02lld", (long long)(a / 60 % 60));
    if (a % 60) put_fmt(out, ":%02lld", (long long)(a % 60));
}

/* ---- values -------------------------------------------------------------- */

static bool is_nested_kind(const md_fmt_column *c) {
    return !c->index_width &&
           (c->kind == K_LIST || c->kind == K_STRUCT || c->kind == K_MAP || c->kind == K_UNION ||
            c->kind == K_JSON);
}

/* Does a scalar's text need quotes inside a nested value (DuckDB's rule)? */
static bool needs_quotes(const uint8_t *s, size_t n) {
    if (n == 0) return true;
    if (strchr(" \t\n\v\f\r", s[0])) return true;
    if (n >= 2 && strchr(" \t\n\v\f\r", s[n - 1])) return true;
    if (n == 4 && strncasecmp((const char *)s, "null", 4) == 0) return true;
    for (size_t i = 0; i < n; i++)
        if (s[i] && strchr("\"'(),:=[]{}", s[i])) return true;
    return false;
}

/* Replace out[start..] by its quoted form: '...' with ' and \ escaped. */
static void quote_tail(md_buf *out, size_t start) {
    size_t n = out->len - start;
    uint8_t *tmp = md_malloc(n ? n : 1);
    memcpy(tmp, out->data + start, n);
    out->len = start;
    md_buf_append(out, "'", 1);
    for (size_t i = 0; i < n; i++) {
        if (tmp[i] == '\'' || tmp[i] == '\\') md_buf_append(out, "\\", 1);
        md_buf_append(out, &tmp[i], 1);
    }
    md_buf_append(out, "'", 1);
    md_free(tmp);
}

static int render(const md_fmt_column *c, const struct ArrowArray *a, int64_t i, md_buf *out);

/* A value inside a LIST, STRUCT or MAP: NULL spelled out, scalars quoted
 * when DuckDB would. */
static void render_nested(const md_fmt_column *c, const struct ArrowArray *a, int64_t i, md_buf *out) {
    size_t start = out->len;
    if (render(c, a, i, out)) {
        put_str(out, "NULL");
        return;
    }
    if (!is_nested_kind(c) && needs_quotes(out->data + start, out->len - start)) quote_tail(out, start);
}

static void put_struct_key(md_buf *out, const char *name) {
    size_t start = out->len;
    put_str(out, name);
    quote_tail(out, start);
}

/* Which member and slot a union value at `phys` uses; false if unknown. */
static bool union_member(const md_fmt_column *c, const struct ArrowArray *a, int64_t phys, int *out_child,
                         int64_t *out_index) {
    int8_t id = (int8_t)buf_at(a, 0)[phys];
    if (id < 0 || c->union_child[id] < 0 || c->union_child[id] >= a->n_children) return false;
    *out_child = c->union_child[id];
    if (c->dense) {
        int32_t off;
        memcpy(&off, buf_at(a, 1) + phys * 4, 4);
        *out_index = off;
    } else {
        *out_index = phys;
    }
    return true;
}

/* Append the value at logical index i of `a`; returns 1 for NULL. */
static int render(const md_fmt_column *c, const struct ArrowArray *a, int64_t i, md_buf *out) {
    int64_t phys = a->offset + i;
    if (slot_null(c, a, phys)) return 1;
    if (c->index_width) {
        int64_t k = read_int(buf_at(a, 1) + phys * c->index_width, c->index_width, c->index_signed);
        if (!a->dictionary || k < 0 || k >= a->dictionary->length) return 1;
        return render(c->dict, a->dictionary, k, out);
    }
    switch (c->kind) {
    case K_NULL: return 1;
    case K_BOOL: put_str(out, bit_at(buf_at(a, 1), phys) ? "true" : "false"); return 0;
    case K_BOOL8: put_str(out, buf_at(a, 1)[phys] ? "true" : "false"); return 0;
    case K_INT: put_i64(out, read_int(buf_at(a, 1) + phys * c->width, c->width, true)); return 0;
    case K_UINT: put_u64(out, (uint64_t)read_int(buf_at(a, 1) + phys * c->width, c->width, false)); return 0;
    case K_HALF: {
        uint16_t h;
        memcpy(&h, buf_at(a, 1) + phys * 2, 2);
        put_real(out, half_to_float(h), true);
        return 0;
    }
    case K_FLOAT: {
        float f;
        memcpy(&f, buf_at(a, 1) + phys * 4, 4);
        put_real(out, f, true);
        return 0;
    }
    case K_DOUBLE: {
        double d;
        memcpy(&d, buf_at(a, 1) + phys * 8, 8);
        put_real(out, d, false);
        return 0;
    }
    case K_DECIMAL:
        put_le_int(out, buf_at(a, 1) + phys * c->width, c->width, true, c->scale, c->precision > c->scale);
        return 0;
    case K_HUGE: put_le_int(out, buf_at(a, 1) + phys * 16, 16, true, 0, true); return 0;
    case K_UHUGE: put_le_int(out, buf_at(a, 1) + phys * 16, 16, false, 0, true); return 0;
    case K_UUID: put_uuid(out, buf_at(a, 1) + phys * 16); return 0;
    case K_TIMETZ: {
        uint64_t bits;
        memcpy(&bits, buf_at(a, 1) + phys * 8, 8);
        put_timetz(out, bits);
        return 0;
    }
    case K_BIGNUM:
    case K_STRING:
    case K_JSON:
    case K_BLOB:
    case K_BIT: {
        const uint8_t *p;
        size_t n;
        bytes_at(c, a, phys, &p, &n);
        if (c->kind == K_BIGNUM) put_bignum(out, p, n);
        else if (c->kind == K_BLOB) put_blob(out, p, n);
        else if (c->kind == K_BIT) put_bits(out, p, n);
        else md_buf_append(out, p, n);
        return 0;
    }
    case K_DATE: {
        int64_t days;
        if (c->unit == 0) {
            int32_t d;
            memcpy(&d, buf_at(a, 1) + phys * 4, 4);
            if (d == INT32_MAX || d == -INT32_MAX) {
                put_str(out, d > 0 ? "infinity" : "-infinity");
                return 0;
            }
            days = d;
        } else {
            int64_t ms;
            memcpy(&ms, buf_at(a, 1) + phys * 8, 8);
            days = floor_div(ms, 86400000LL);
        }
        put_date_days(out, days);
        return 0;
    }
    case K_TIME: {
        int64_t v = read_int(buf_at(a, 1) + phys * (c->unit <= U_MS ? 4 : 8), c->unit <= U_MS ? 4 : 8, true);
        put_time_nanos(out, v * nanos_per_unit[c->unit], c->unit == U_NS);
        return 0;
    }
    case K_TIMESTAMP: {
        int64_t v;
        memcpy(&v, buf_at(a, 1) + phys * 8, 8);
        put_timestamp(out, v, c->unit, c->tz);
        return 0;
    }
    case K_DURATION: {
        int64_t v;
        memcpy(&v, buf_at(a, 1) + phys * 8, 8);
        int64_t micros = c->unit == U_NS ? v / 1000 : v * (nanos_per_unit[c->unit] / 1000);
        put_interval(out, 0, 0, micros);
        return 0;
    }
    case K_IV_MONTHS: {
        int32_t m;
        memcpy(&m, buf_at(a, 1) + phys * 4, 4);
        put_interval(out, m, 0, 0);
        return 0;
    }
    case K_IV_DAYTIME: {
        int32_t dm[2];
        memcpy(dm, buf_at(a, 1) + phys * 8, 8);
        put_interval(out, 0, dm[0], (int64_t)dm[1] * 1000);
        return 0;
    }
    case K_IV_MDN: {
        const uint8_t *p = buf_at(a, 1) + phys * 16;
        int32_t m, d;
        int64_t ns;
        memcpy(&m, p, 4);
        memcpy(&d, p + 4, 4);
        memcpy(&ns, p + 8, 8);
        put_interval(out, m, d, ns / 1000);
        return 0;
    }
    case K_LIST: {
        int64_t start, count;
        list_range(c, a, phys, &start, &count);
        md_buf_append(out, "[", 1);
        for (int64_t k = 0; k < count; k++) {
            if (k) md_buf_append(out, ", ", 2);
            render_nested(c->children[0], a->children[0], start + k, out);
        }
        md_buf_append(out, "]", 1);
        return 0;
    }
    case K_STRUCT: {
        md_buf_append(out, c->unnamed ? "(" : "{", 1);
        for (int k = 0; k < c->n_children; k++) {
            if (k) md_buf_append(out, ", ", 2);
            if (!c->unnamed) {
                put_struct_key(out, c->names[k]);
                md_buf_append(out, ": ", 2);
            }
            render_nested(c->children[k], a->children[k], phys, out);
        }
        md_buf_append(out, c->unnamed ? ")" : "}", 1);
        return 0;
    }
    case K_MAP: {
        int64_t start, count;
        list_range(c, a, phys, &start, &count);
        const md_fmt_column *e = c->children[0];
        const struct ArrowArray *ea = a->children[0];
        md_buf_append(out, "{", 1);
        for (int64_t k = 0; k < count; k++) {
            int64_t ephys = ea->offset + start + k;
            if (k) md_buf_append(out, ", ", 2);
            render_nested(e->children[0], ea->children[0], ephys, out);
            md_buf_append(out, "=", 1);
            render_nested(e->children[1], ea->children[1], ephys, out);
        }
        md_buf_append(out, "}", 1);
        return 0;
    }
    case K_UNION: {
        int child;
        int64_t idx;
        if (!union_member(c, a, phys, &child, &idx)) return 1;
        return render(c->children[child], a->children[child], idx, out);
    }
    }
    return 1;
}

int md_fmt_column_text(const md_fmt_column *col, const struct ArrowArray *array, int64_t row, md_buf *out) {
    return render(col, array, row, out);
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_string(md_buf *out, const uint8_t *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    md_buf_reserve(out, n + 2);
    md_buf_append(out, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        const char *esc = NULL;
        char u[6];
        if (ch == '"') esc = "\\\"";
        else if (ch == '\\') esc = "\\\\";
        else if (ch == '\n') esc = "\\n";
        else if (ch == '\r') esc = "\\r";
        else if (ch == '\t') esc = "\\t";
        else if (ch == '\b') esc = "\\b";
        else if (ch == '\f') esc = "\\f";
        else if (ch < 0x20) {
            memcpy(u, "\\u00", 4);
            u[4] = hex[ch >> 4];
            u[5] = hex[ch & 15];
        } else {
            continue;
        }
        md_buf_append(out, s + run, i - run);
        if (esc) md_buf_append(out, esc, strlen(esc));
        else md_buf_append(out, u, 6);
        run = i + 1;
    }
    md_buf_append(out, s + run, n - run);
    md_buf_append(out, "\"", 1);
}

/* Render the DuckDB text of a value (in `scratch`), then write it as a JSON
 * string. */
static void json_text(const md_fmt_column *c, const struct ArrowArray *a, int64_t i, md_buf *out,
                      md_buf *scratch) {
    scratch->len = 0;
    if (render(c, a, i, scratch)) put_str(out, "null");
    else json_string(out, scratch->data ? scratch->data : (const uint8_t *)"", scratch->len);
}

/* A value as JSON (see result_format.h); `scratch` is a work buffer. */
static void render_json(const md_fmt_column *c, const struct ArrowArray *a, int64_t i, md_buf *out,
                        md_buf *scratch) {
    int64_t phys = a->offset + i;
    if (slot_null(c, a, phys)) {
        put_str(out, "null");
        return;
    }
    if (c->index_width) {
        json_text(c, a, i, out, scratch);
        return;
    }
    switch (c->kind) {
    case K_BOOL:
    case K_BOOL8:
    case K_INT:
    case K_UINT:
    case K_DECIMAL:
    case K_HUGE:
    case K_UHUGE:
    case K_BIGNUM:
        render(c, a, i, out);
        return;
    case K_HALF:
    case K_FLOAT:
    case K_DOUBLE: {
        size_t start = out->len;
        render(c, a, i, out);
        char last = (char)out->data[out->len - 1];
        if (last == 'n' || last == 'f') { /* nan, inf, -inf */
            scratch->len = 0;
            md_buf_append(scratch, out->data + start, out->len - start);
            out->len = start;
            json_string(out, scratch->data, scratch->len);
        }
        return;
    }
    case K_LIST: {
        int64_t start, count;
        list_range(c, a, phys, &start, &count);
        md_buf_append(out, "[", 1);
        for (int64_t k = 0; k < count; k++) {
            if (k) md_buf_append(out, ",", 1);
            render_json(c->children[0], a->children[0], start + k, out, scratch);
        }
        md_buf_append(out, "]", 1);
        return;
    }
    case K_STRUCT: {
        md_buf_append(out, c->unnamed ? "[" : "{", 1);
        for (int k = 0; k < c->n_children; k++) {
            if (k) md_buf_append(out, ",", 1);
            if (!c->unnamed) {
                json_string(out, (const uint8_t *)c->names[k], strlen(c->names[k]));
                md_buf_append(out, ":", 1);
            }
            render_json(c->children[k], a->children[k], phys, out, scratch);
        }
        md_buf_append(out, c->unnamed ? "]" : "}", 1);
        return;
    }
    case K_MAP: {
        int64_t start, count;
        list_range(c, a, phys, &start, &count);
        const md_fmt_column *e = c->children[0];
        const struct ArrowArray *ea = a->children[0];
        md_buf_append(out, "{", 1);
        for (int64_t k = 0; k < count; k++) {
            int64_t ephys = ea->offset + start + k;
            if (k) md_buf_append(out, ",", 1);
            json_text(e->children[0], ea->children[0], ephys, out, scratch);
            md_buf_append(out, ":", 1);
            render_json(e->children[1], ea->children[1], ephys, out, scratch);
        }
        md_buf_append(out, "}", 1);
        return;
    }
    case K_UNION: {
        int child;
        int64_t idx;
        if (!union_member(c, a, phys, &child, &idx)) put_str(out, "null");
        else render_json(c->children[child], a->children[child], idx, out, scratch);
        return;
    }
    default: json_text(c, a, i, out, scratch); return;
    }
}

/* ---- display width ------------------------------------------------------- */

/* Decode one UTF-8 code point at s[0..n); returns its length (1 for bad bytes). */
static int utf8_next(const uint8_t *s, size_t n, uint32_t *out_cp) {
    uint8_t b = s[0];
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (len == 0 || (size_t)len > n) {
        *out_cp = 0xFFFD;
        return 1;
    }
    uint32_t cp = len == 1 ? b : (uint32_t)(b & (0x7F >> len));
    for (int k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            *out_cp = 0xFFFD;
            return 1;
        }
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    *out_cp = cp;
    return len;
}

/* Terminal cells of a code point: 0 for combining marks and joiners, 2 for
 * East Asian wide characters and emoji, 1 otherwise. */
static int cp_width(uint32_t cp) {
    if ((cp >= 0x300 && cp <= 0x36F) || (cp >= 0x200B && cp <= 0x200F) || cp == 0xFE0F ||
        (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF && cp != 0x303F) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
        (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
        (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x1F680 && cp <= 0x1F6FF) ||
        (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

static int text_width(const char *s) {
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    int w = 0;
    while (n) {
        uint32_t cp;
        int k = utf8_next(p, n, &cp);
        w += cp_width(cp);
        p += k;
        n -= (size_t)k;
    }
    return w;
}

/* Bytes of the longest prefix of s that fits in `cells`. */
static size_t prefix_for_width(const char *s, int cells) {
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), used = 0;
    int w = 0;
    while (used < n) {
        uint32_t cp;
        int k = utf8_next(p + used, n - used, &cp);
        int cw = cp_width(cp);
        if (w + cw > cells) break;
        w += cw;
        used += (size_t)k;
    }
    return used;
}

/* ---- the result printer -------------------------------------------------- */

#define CELL_MAX_BYTES 4096 /* a table cell keeps at most this much text */

typedef struct table_row {
    char **cells; /* NULL entry = SQL NULL */
} table_row;

struct md_fmt {
    md_fmt_options opt;
    FILE *out;
    int ncols;
    md_fmt_column **cols;
    char **names;
    md_buf *json_keys; /* json: "name": per column, escaped once */
    int64_t rows;
    bool status;  /* Count/Success: print nothing if it has no rows */
    bool explain; /* explain_key/explain_value: print the plan text */
    bool started; /* CSV header / JSON "[" written */
    bool io_error;
    md_buf line;
    /* table */
    int head_cap, tail_cap, nhead, ntail, tail_pos;
    table_row *head, *tail;
};

int md_fmt_parse_mode(const char *name, md_fmt_mode *out) {
    if (strcmp(name, "table") == 0 || strcmp(name, "duckbox") == 0) *out = MD_FMT_TABLE;
    else if (strcmp(name, "csv") == 0) *out = MD_FMT_CSV;
    else if (strcmp(name, "json") == 0) *out = MD_FMT_JSON;
    else return MD_EINVAL;
    return MD_OK;
}

int md_fmt_create(const struct ArrowSchema *schema, const md_fmt_options *opts, FILE *out, md_fmt **out_fmt,
                  char **out_err) {
    if (!schema || !schema->format || strcmp(schema->format, "+s") != 0 || schema->n_children < 0) {
        if (out_err) *out_err = md_strdup("a result schema must be a struct of columns");
        return MD_EINVAL;
    }
    md_fmt *f = md_calloc(1, sizeof *f);
    f->opt = *opts;
    if (f->opt.max_rows <= 0) f->opt.max_rows = 40;
    if (f->opt.max_rows < 2) f->opt.max_rows = 2;
    f->out = out;
    f->ncols = (int)schema->n_children;
    f->cols = md_calloc((size_t)f->ncols + 1, sizeof *f->cols);
    f->names = md_calloc((size_t)f->ncols + 1, sizeof *f->names);
    for (int i = 0; i < f->ncols; i++) {
        int rc = compile(schema->children[i], 0, &f->cols[i], out_err);
        if (rc != MD_OK) {
            md_fmt_destroy(&f);
            return rc;
        }
        f->names[i] = md_strdup(schema->children[i]->name ? schema->children[i]->name : "");
    }
    f->status = f->ncols == 1 &&
                ((strcmp(f->names[0], "Count") == 0 && f->cols[0]->kind == K_INT && f->cols[0]->width == 8) ||
                 (strcmp(f->names[0], "Success") == 0 && f->cols[0]->kind == K_BOOL));
    f->explain = f->ncols == 2 && strcmp(f->names[0], "explain_key") == 0 &&
                 strcmp(f->names[1], "explain_value") == 0;
    if (f->opt.mode == MD_FMT_JSON) {
        f->json_keys = md_calloc((size_t)f->ncols + 1, sizeof *f->json_keys);
        for (int i = 0; i < f->ncols; i++) {
            json_string(&f->json_keys[i], (const uint8_t *)f->names[i], strlen(f->names[i]));
            md_buf_append(&f->json_keys[i], ":", 1);
        }
    }
    f->head_cap = f->opt.max_rows;
    f->tail_cap = f->opt.max_rows / 2;
    if (f->opt.mode == MD_FMT_TABLE) {
        f->head = md_calloc((size_t)f->head_cap, sizeof *f->head);
        f->tail = md_calloc((size_t)f->tail_cap + 1, sizeof *f->tail);
    }
    *out_fmt = f;
    return MD_OK;
}

static void flush_line(md_fmt *f) {
    if (f->line.len && !f->io_error && fwrite(f->line.data, 1, f->line.len, f->out) != f->line.len)
        f->io_error = true;
    f->line.len = 0;
}

static void csv_field(md_buf *out, const uint8_t *s, size_t n, bool is_null) {
    if (is_null) return;
    bool q = n == 0;
    for (size_t i = 0; i < n && !q; i++) q = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!q) {
        md_buf_append(out, s, n);
        return;
    }
    md_buf_append(out, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            md_buf_append(out, s + run, i + 1 - run);
            md_buf_append(out, "\"", 1);
            run = i + 1;
        }
    }
    md_buf_append(out, s + run, n - run);
    md_buf_append(out, "\"", 1);
}

static void start_output(md_fmt *f) {
    if (f->started) return;
    f->started = true;
    if (f->opt.mode == MD_FMT_CSV) {
        for (int c = 0; c < f->ncols; c++) {
            if (c) md_buf_append(&f->line, ",", 1);
            csv_field(&f->line, (const uint8_t *)f->names[c], strlen(f->names[c]), false);
        }
        md_buf_append(&f->line, "\n", 1);
    } else if (f->opt.mode == MD_FMT_JSON) {
        md_buf_append(&f->line, "[", 1);
    }
}

/* Table cell text: control characters shown as escapes, size capped. */
static char *table_cell(md_buf *tmp) {
    md_buf b = MD_BUF_INIT;
    size_t n = tmp->len;
    bool cut = false;
    if (n > CELL_MAX_BYTES) {
        n = CELL_MAX_BYTES;
        while (n > 0 && (tmp->data[n] & 0xC0) == 0x80) n--;
        cut = true;
    }
    md_buf_reserve(&b, n + 8);
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = tmp->data[i];
        if (ch == '\n') md_buf_append(&b, "\\n", 2);
        else if (ch == '\r') md_buf_append(&b, "\\r", 2);
        else if (ch == '\t') md_buf_append(&b, "\\t", 2);
        else if (ch == 0) md_buf_append(&b, "\\0", 2);
        else if (ch < 0x20 || ch == 0x7F) {
            char e[5];
            snprintf(e, sizeof e, "\\x%02X", ch);
            md_buf_append(&b, e, 4);
        }
        else md_buf_append(&b, &ch, 1);
    }
    if (cut) md_buf_append(&b, "\xE2\x80\xA6", 3);
    md_buf_append(&b, "", 1);
    size_t len;
    return (char *)md_buf_detach(&b, &len);
}

static void row_free(table_row *r, int ncols) {
    if (!r->cells) return;
    for (int c = 0; c < ncols; c++) md_free(r->cells[c]);
    md_free(r->cells);
    r->cells = NULL;
}

static void table_keep(md_fmt *f, const struct ArrowArray *batch, int64_t r, md_buf *tmp) {
    table_row *row;
    if (f->nhead < f->head_cap) {
        row = &f->head[f->nhead++];
    } else if (f->tail_cap > 0) {
        row = &f->tail[f->tail_pos];
        row_free(row, f->ncols);
        f->tail_pos = (f->tail_pos + 1) % f->tail_cap;
        if (f->ntail < f->tail_cap) f->ntail++;
    } else {
        return;
    }
    row->cells = md_calloc((size_t)f->ncols + 1, sizeof *row->cells);
    for (int c = 0; c < f->ncols; c++) {
        tmp->len = 0;
        if (render(f->cols[c], batch->children[c], batch->offset + r, tmp) != 0) continue;
        if (f->explain) { /* the plan is printed as it is */
            md_buf_append(tmp, "", 1);
            row->cells[c] = md_strdup((char *)tmp->data);
        } else {
            row->cells[c] = table_cell(tmp);
        }
    }
}

int md_fmt_batch(md_fmt *f, const struct ArrowArray *batch, char **out_err) {
    if (!batch || batch->n_children != f->ncols || batch->length < 0 || (f->ncols && !batch->children)) {
        if (out_err)
            *out_err = md_asprintf("a result batch has %lld columns; the schema has %d",
                                   batch ? (long long)batch->n_children : 0LL, f->ncols);
        return MD_EINVAL;
    }
    for (int c = 0; c < f->ncols; c++) {
        if (!batch->children[c] || batch->children[c]->length < batch->offset + batch->length) {
            if (out_err) *out_err = md_asprintf("column %d of a result batch is shorter than the batch", c + 1);
            return MD_EINVAL;
        }
    }
    md_buf tmp = MD_BUF_INIT;
    for (int64_t r = 0; r < batch->length; r++) {
        switch (f->opt.mode) {
        case MD_FMT_TABLE:
            /* Only the first rows and the last rows of a batch can be shown. */
            if (f->rows + r < f->head_cap || r >= batch->length - f->tail_cap) table_keep(f, batch, r, &tmp);
            break;
        case MD_FMT_CSV:
            start_output(f);
            for (int c = 0; c < f->ncols; c++) {
                if (c) md_buf_append(&f->line, ",", 1);
                tmp.len = 0;
                int is_null = render(f->cols[c], batch->children[c], batch->offset + r, &tmp);
                csv_field(&f->line, tmp.data, tmp.len, is_null);
            }
            md_buf_append(&f->line, "\n", 1);
            break;
        case MD_FMT_JSON:
            start_output(f);
            if (f->rows > 0 || r > 0) md_buf_append(&f->line, ",\n", 2);
            md_buf_append(&f->line, "{", 1);
            for (int c = 0; c < f->ncols; c++) {
                if (c) md_buf_append(&f->line, ",", 1);
                md_buf_append(&f->line, f->json_keys[c].data, f->json_keys[c].len);
                render_json(f->cols[c], batch->children[c], batch->offset + r, &f->line, &tmp);
            }
            md_buf_append(&f->line, "}", 1);
            break;
        }
        if (f->line.len >= 65536) flush_line(f);
    }
    f->rows += batch->length;
    flush_line(f);
    md_buf_free(&tmp);
    return f->io_error ? MD_EIO : MD_OK;
}

/* -- drawing the table -- */

static void put_rep(md_buf *b, const char *s, int n) {
    for (int i = 0; i < n; i++) put_str(b, s);
}

/* A border line: left, fill, joint (between shown columns), right. */
static void draw_border(md_buf *b, const int *w, int n, const char *l, const char *j, const char *r) {
    put_str(b, l);
    for (int i = 0; i < n; i++) {
        if (i) put_str(b, j);
        put_rep(b, "\xE2\x94\x80", w[i] + 2);
    }
    put_str(b, r);
    put_str(b, "\n");
}

/* Cell text padded (or cut with "…") to `w` cells; align: 'l', 'r', 'c'. */
static void draw_cell(md_buf *b, const char *s, int w, char align) {
    int tw = text_width(s);
    size_t n = strlen(s);
    bool cut = false;
    if (tw > w) {
        n = prefix_for_width(s, w - 1);
        char *t = md_strndup(s, n);
        tw = text_width(t) + 1; /* with the "…" */
        md_free(t);
        cut = true;
    }
    int pad = w - tw, left = align == 'r' ? pad : align == 'c' ? pad / 2 : 0;
    put_rep(b, " ", left);
    md_buf_append(b, s, n);
    if (cut) put_str(b, "\xE2\x80\xA6");
    put_rep(b, " ", pad - left);
}

/* Shown columns and their widths: each column as wide as its name, type and
 * cells.  To fit `max_width`: columns wider than 20 cells shrink to 20, then
 * columns from the middle give way to one "…" column (the first and last
 * stay), then the widest columns shrink down to 6 cells. */
typedef struct table_layout {
    int n;      /* shown columns */
    int *col;   /* shown column -> result column, -1 for the "…" column */
    int *width; /* shown column -> width in cells */
} table_layout;

static int layout_total(const table_layout *t) {
    int total = 1;
    for (int k = 0; k < t->n; k++) total += t->width[k] + 3;
    return total;
}

/* Shrink the widest shown columns, one cell at a time, down to `floor`. */
static void shrink_widest(table_layout *t, int maxw, int floor) {
    while (layout_total(t) > maxw) {
        int widest = -1;
        for (int k = 0; k < t->n; k++)
            if (t->col[k] >= 0 && t->width[k] > floor && (widest < 0 || t->width[k] > t->width[widest]))
                widest = k;
        if (widest < 0) return;
        t->width[widest]--;
    }
}

static table_layout layout_table(const md_fmt *f, table_row **rows, int nrows) {
    int n = f->ncols;
    table_layout t = {n, md_calloc((size_t)n + 1, sizeof(int)), md_calloc((size_t)n + 1, sizeof(int))};
    for (int c = 0; c < n; c++) {
        int w = text_width(f->names[c]);
        int tw = text_width(f->cols[c]->type_name);
        if (tw > w) w = tw;
        for (int r = 0; r < nrows; r++) {
            int cw = rows[r]->cells[c] ? text_width(rows[r]->cells[c]) : 4;
            if (cw > w) w = cw;
        }
        t.col[c] = c;
        t.width[c] = w < 1 ? 1 : w;
    }
    int maxw = f->opt.max_width;
    if (maxw <= 0 || layout_total(&t) <= maxw) return t;
    shrink_widest(&t, maxw, 20);
    while (layout_total(&t) > maxw && t.n > 3) {
        int dots = -1;
        for (int k = 0; k < t.n; k++)
            if (t.col[k] < 0) dots = k;
        if (dots < 0) { /* the middle column becomes "…" */
            dots = t.n / 2;
            t.col[dots] = -1;
            t.width[dots] = 1;
            continue;
        }
        /* drop the real column beside the "…", alternating sides */
        int victim = (t.n % 2) ? dots + 1 : dots - 1;
        if (victim <= 0 || victim >= t.n - 1) victim = dots + 1 < t.n - 1 ? dots + 1 : dots - 1;
        if (victim <= 0 || victim >= t.n - 1) break;
        memmove(&t.col[victim], &t.col[victim + 1], (size_t)(t.n - victim - 1) * sizeof(int));
        memmove(&t.width[victim], &t.width[victim + 1], (size_t)(t.n - victim - 1) * sizeof(int));
        t.n--;
    }
    shrink_widest(&t, maxw, 6);
    return t;
}

static int layout_inner(const table_layout *t) {
    int inner = -3;
    for (int k = 0; k < t->n; k++) inner += t->width[k] + 3;
    return inner;
}

/* One line of cells between vertical bars. */
static void draw_row(md_buf *b, const md_fmt *f, const table_layout *t, const table_row *row, int kind) {
    put_str(b, "\xE2\x94\x82");
    for (int k = 0; k < t->n; k++) {
        put_str(b, k ? " \xE2\x94\x82 " : " ");
        int c = t->col[k];
        if (c < 0) draw_cell(b, "\xE2\x80\xA6", t->width[k], 'c');
        else if (kind == 0) draw_cell(b, f->names[c], t->width[k], 'c');
        else if (kind == 1) draw_cell(b, f->cols[c]->type_name, t->width[k], 'c');
        else if (kind == 2) draw_cell(b, "\xC2\xB7", t->width[k], 'c');
        else draw_cell(b, row->cells[c] ? row->cells[c] : "NULL", t->width[k], f->cols[c]->numeric ? 'r' : 'l');
    }
    put_str(b, " \xE2\x94\x82\n");
}

static void draw_table(md_fmt *f) {
    /* Which rows: all of them, or the head and the tail around a cut. */
    bool cut_rows = f->rows > f->head_cap;
    int nhead = cut_rows ? f->head_cap - f->tail_cap : f->nhead;
    int nshow = nhead + (cut_rows ? f->ntail : 0);
    table_row **rows = md_calloc((size_t)nshow + 1, sizeof *rows);
    for (int r = 0; r < nhead; r++) rows[r] = &f->head[r];
    for (int r = 0; cut_rows && r < f->ntail; r++) rows[nhead + r] = &f->tail[(f->tail_pos + r) % f->tail_cap];
    table_layout t = layout_table(f, rows, nshow);

    /* Footer parts: "N rows", "(M shown)", "K columns (J shown)"; on one
     * line when the table is wide enough, else one part per line. */
    char parts[3][64];
    int nparts = 0, shown_cols = 0;
    for (int k = 0; k < t.n; k++) shown_cols += t.col[k] >= 0;
    if (cut_rows || f->rows == 0)
        snprintf(parts[nparts++], sizeof parts[0], "%lld row%s", (long long)f->rows, f->rows == 1 ? "" : "s");
    if (cut_rows) snprintf(parts[nparts++], sizeof parts[0], "(%d shown)", nshow);
    if (shown_cols < f->ncols)
        snprintf(parts[nparts++], sizeof parts[0], "%d columns (%d shown)", f->ncols, shown_cols);
    char one_line[200] = "";
    for (int i = 0; i < nparts; i++) {
        if (i) strcat(one_line, " ");
        strcat(one_line, parts[i]);
    }
    bool split = nparts > 1 && text_width(one_line) > layout_inner(&t);
    for (int i = 0; i < nparts; i++) {
        int need = text_width(split ? parts[i] : one_line) - layout_inner(&t);
        if (need > 0) t.width[t.n - 1] += need;
    }

    md_buf *b = &f->line;
    draw_border(b, t.width, t.n, "\xE2\x94\x8C", "\xE2\x94\xAC", "\xE2\x94\x90");
    draw_row(b, f, &t, NULL, 0);
    draw_row(b, f, &t, NULL, 1);
    if (nshow > 0) draw_border(b, t.width, t.n, "\xE2\x94\x9C", "\xE2\x94\xBC", "\xE2\x94\xA4");
    for (int r = 0; r < nshow; r++) {
        if (cut_rows && r == nhead)
            for (int dots = 0; dots < 3; dots++) draw_row(b, f, &t, NULL, 2);
        draw_row(b, f, &t, rows[r], 3);
        if (b->len >= 65536) flush_line(f);
    }
    if (nparts > 0) {
        int inner = layout_inner(&t);
        draw_border(b, t.width, t.n, "\xE2\x94\x9C", "\xE2\x94\xB4", "\xE2\x94\xA4");
        for (int i = 0; i < (split ? nparts : 1); i++) {
            put_str(b, "\xE2\x94\x82 ");
            draw_cell(b, split ? parts[i] : one_line, inner, 'c');
            put_str(b, " \xE2\x94\x82\n");
        }
        put_str(b, "\xE2\x94\x94");
        put_rep(b, "\xE2\x94\x80", inner + 2);
        put_str(b, "\xE2\x94\x98\n");
    } else {
        draw_border(b, t.width, t.n, "\xE2\x94\x94", "\xE2\x94\xB4", "\xE2\x94\x98");
    }
    flush_line(f);
    md_free(t.col);
    md_free(t.width);
    md_free(rows);
}

int md_fmt_finish(md_fmt *f) {
    if (f->status && f->rows == 0) return MD_OK;
    if (f->opt.mode == MD_FMT_CSV) {
        start_output(f);
    } else if (f->opt.mode == MD_FMT_JSON) {
        start_output(f);
        md_buf_append(&f->line, "]\n", 2);
    } else if (f->explain) {
        for (int r = 0; r < f->nhead; r++) {
            if (f->head[r].cells[1]) put_str(&f->line, f->head[r].cells[1]);
            put_str(&f->line, "\n");
        }
    } else {
        draw_table(f);
    }
    flush_line(f);
    if (!f->io_error && fflush(f->out) != 0) f->io_error = true;
    return f->io_error ? MD_EIO : MD_OK;
}

int64_t md_fmt_rows(const md_fmt *f) { return f->rows; }

void md_fmt_destroy(md_fmt **fp) {
    if (!fp || !*fp) return;
    md_fmt *f = *fp;
    for (int c = 0; c < f->ncols; c++) {
        column_free(f->cols[c]);
        md_free(f->names[c]);
    }
    for (int r = 0; f->head && r < f->head_cap; r++) row_free(&f->head[r], f->ncols);
    for (int r = 0; f->tail && r < f->tail_cap; r++) row_free(&f->tail[r], f->ncols);
    for (int c = 0; f->json_keys && c < f->ncols; c++) md_buf_free(&f->json_keys[c]);
    md_free(f->json_keys);
    md_free(f->head);
    md_free(f->tail);
    md_free(f->cols);
    md_free(f->names);
    md_buf_free(&f->line);
    md_free(f);
    *fp = NULL;
}

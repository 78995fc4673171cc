/*
 * arrow_ipc.c: Arrow IPC streaming format writer and reader (see arrow_ipc.h).
 *
 * Sources of truth: the Arrow columnar format specification ("Serialization
 * and Interprocess Communication") and apache/arrow format/Schema.fbs and
 * format/Message.fbs, whose FlatBuffers field ids and enum values are the
 * constants below.
 *
 * ---- Stream ------------------------------------------------------------
 *
 *   SCHEMA, then any number of DICTIONARY and RECORD BATCH messages (a
 *   dictionary comes before the first batch that uses it), then EOS.
 *
 * ---- Encapsulated message (every offset 8-aligned within the stream) ----
 *
 *   offset      size  field
 *   0           4     continuation marker 0xFFFFFFFF
 *   4           4     M: int32 LE size of the metadata including its padding;
 *                     M == 0 means end of stream (EOS: FF FF FF FF 00 00 00 00)
 *   8           M     FlatBuffer `Message` (root table), zero-padded so that
 *                     8 + M is a multiple of 8
 *   8 + M       B     body: the buffers of the batch, B = Message.bodyLength,
 *                     each buffer starting at a multiple of 8 from the body
 *                     start, zero padding between buffers, B multiple of 8
 *
 * ---- FlatBuffer tables (field id: name: type [default]) ------------------
 *
 *   Message          0 version: short (MetadataVersion; V4=3, V5=4; we write V5)
 *                    1 header_type: ubyte (Schema=1, DictionaryBatch=2, RecordBatch=3)
 *                    2 header: offset to the header table
 *                    3 bodyLength: long
 *                    4 custom_metadata: [KeyValue]      (ignored on read)
 *   Schema           0 endianness: short [Little=0]     (Big is refused)
 *                    1 fields: [Field]
 *                    2 custom_metadata: [KeyValue]
 *                    3 features: [long]                 (ignored)
 *   Field            0 name: string   1 nullable: bool
 *                    2 type_type: ubyte   3 type: offset to the type table
 *                    4 dictionary: DictionaryEncoding   5 children: [Field]
 *                    6 custom_metadata: [KeyValue]
 *   KeyValue         0 key: string    1 value: string
 *   DictionaryEncoding 0 id: long   1 indexType: Int [int32]   2 isOrdered: bool
 *                    3 dictionaryKind: short (DenseArray=0)
 *   RecordBatch      0 length: long   1 nodes: [FieldNode]   2 buffers: [Buffer]
 *                    3 compression: BodyCompression (refused when present)
 *                    4 variadicBufferCounts: [long]: data buffers of each view
 *                      field, in pre-order (present iff the schema has views)
 *   DictionaryBatch  0 id: long   1 data: RecordBatch   2 isDelta: bool [false]
 *   FieldNode struct (16 bytes): length: long, null_count: long
 *   Buffer struct    (16 bytes): offset: long (from body start), length: long
 *
 *   Type union tag and table (fields):
 *     1 Null   2 Int(0 bitWidth:int, 1 is_signed:bool)   3 FloatingPoint(0 precision:
 *     short HALF=0 SINGLE=1 DOUBLE=2)   4 Binary   5 Utf8   6 Bool
 *     7 Decimal(0 precision:int, 1 scale:int, 2 bitWidth:int [128])
 *     8 Date(0 unit:short DAY=0 MILLISECOND=1 [MILLISECOND])
 *     9 Time(0 unit:short [MILLISECOND], 1 bitWidth:int [32])
 *     10 Timestamp(0 unit:short SECOND=0 MILLI=1 MICRO=2 NANO=3, 1 timezone:string)
 *     11 Interval(0 unit:short YEAR_MONTH=0 DAY_TIME=1 MONTH_DAY_NANO=2)
 *     12 List   13 Struct_   14 Union(0 mode:short Sparse=0 Dense=1, 1 typeIds:[int])
 *     15 FixedSizeBinary(0 byteWidth:int)   16 FixedSizeList(0 listSize:int)
 *     17 Map(0 keysSorted:bool)   18 Duration(0 unit:short [MILLISECOND])
 *     19 LargeBinary   20 LargeUtf8   21 LargeList   23 BinaryView   24 Utf8View
 *     (22 RunEndEncoded, 25 ListView, 26 LargeListView: refused)
 *
 * ---- Body: nodes and buffers, pre-order over the fields -----------------
 *
 *   type                      buffers in the body
 *   Null                      (none)
 *   Bool, fixed width         validity, values
 *   Binary/Utf8 (+Large)      validity, offsets (int32 / int64, length + 1), data
 *   BinaryView/Utf8View       validity, views (16 bytes each), then its variadic
 *                             data buffers (count in variadicBufferCounts)
 *   List/Map (+LargeList)     validity, offsets
 *   FixedSizeList, Struct     validity
 *   sparse Union              type ids (int8)            (V4 adds a validity first)
 *   dense Union               type ids, offsets (int32)  (V4 adds a validity first)
 *   dictionary-encoded        validity, indices
 *
 *   A validity buffer may have length 0 when the node's null_count is 0.
 *
 *   View (16 bytes, little-endian): int32 length; length <= 12: the bytes
 *   inline, zero padded; otherwise 4 prefix bytes, int32 index of the data
 *   buffer, int32 offset in it.  In the C data interface a view array has
 *   buffers validity, views, data..., and last an int64 array of data sizes.
 *
 * Writer: trusts that arrays match their schema (buffer and child counts are
 * checked; buffer sizes cannot be, the C data interface does not carry them).
 * The schema is parsed once into a type tree (struct fld).  A record batch is
 * written from n >= 1 input arrays as their row-wise concatenation
 * (md_ipc_write_batch is n == 1).  A plan is built in one walk of the type
 * tree that visits the n inputs side by side: at each field, one slice (array,
 * first row, row count) per input; the field gets one FieldNode (lengths and
 * null counts summed) and its body buffers, each a list of segments: a range
 * of one input plus a copy operation.  Then the metadata is built from the
 * plan and the buffers are copied once into the output.  Input arrays may
 * have non-zero offsets at any level.  Concatenating the slices of a field:
 *
 *   validity        bit ranges one after the other (shifted 56 bits at a time
 *                   when not byte-aligned), set bits for an input without
 *                   nulls; no buffer when no input has a null.  Bits past the
 *                   last one in a bitmap's last byte are zero.
 *   fixed width, union type ids, dictionary indexes: byte ranges.
 *   Bool values     bit ranges, as validity.
 *   offsets         each input's range rebased to go on where the previous
 *                   one ended, then the final offset; Binary/Utf8 data: the
 *                   byte ranges they cover; List/Map: children sliced to the
 *                   ranges they cover.  32-bit offsets must not overflow.
 *   FixedSizeList, Struct, sparse Union: children sliced to the same rows.
 *   dense Union     each input's children whole; its offsets grow by the
 *                   lengths of the same child in the inputs before it.
 *   views           view ranges; each input's data buffers follow those of
 *                   the inputs before it (an input whose data buffers are the
 *                   previous one's shares them), its out-of-line views' buffer
 *                   indexes growing by their count.
 *   dictionary      indexes unchanged, so every input that has rows must carry
 *                   a dictionary equal in content to the first one's
 *                   (MD_EINVAL otherwise); that one is written as for n == 1.
 *
 * Dictionaries get ids 0, 1, ... in pre-order; a dictionary batch is written
 * before each record batch whose dictionary differs from the one last written
 * for its id.
 *
 * Reader limits (hostile input): node and batch lengths <= 2^31 - 1; nesting
 * <= max_depth (dictionary values count as one level); at most one Field per
 * 4 bytes of schema metadata; every non-empty buffer 8-aligned inside the
 * body; a dictionary id belongs to one field; union type ids in 0..127.
 * Compressed bodies, big-endian streams, V1-V3 metadata, run-end encoded and
 * list-view types are refused with MD_EUNSUPPORTED.
 *
 * Reader state machine: EXPECT_SCHEMA --schema--> STREAMING --EOS--> DONE.
 * A record batch is read in two passes: pass 1 checks every node and buffer
 * against the schema and the body (sizes, offsets, type ids, dictionary
 * indices, UTF-8) and records where each buffer lies; pass 2 copies the body
 * once into a reference-counted block and builds ArrowArrays pointing into it.
 * Dictionaries are kept by id as arrays; a batch that uses one gets its own
 * ArrowArray tree sharing the dictionary's (reference-counted) blocks.  A
 * delta dictionary batch is concatenated to the current dictionary into new
 * blocks; a non-delta one replaces it.
 */
#include "arrow_ipc.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatbuf.h"
#include "md_alloc.h"
#include "md_error.h"

/* ---- constants from Schema.fbs / Message.fbs ----------------------------- */

enum { MV_V4 = 3, MV_V5 = 4 };
enum { HDR_SCHEMA = 1, HDR_DICTIONARY = 2, HDR_RECORD_BATCH = 3 };
enum {
    FB_NULL = 1, FB_INT = 2, FB_FLOAT = 3, FB_BINARY = 4, FB_UTF8 = 5, FB_BOOL = 6,
    FB_DECIMAL = 7, FB_DATE = 8, FB_TIME = 9, FB_TIMESTAMP = 10, FB_INTERVAL = 11,
    FB_LIST = 12, FB_STRUCT = 13, FB_UNION = 14, FB_FSB = 15, FB_FSL = 16, FB_MAP = 17,
    FB_DURATION = 18, FB_LBINARY = 19, FB_LUTF8 = 20, FB_LLIST = 21, FB_BINARY_VIEW = 23,
    FB_UTF8_VIEW = 24
};

#define CONTINUATION 0xFFFFFFFFu
#define MAX_LENGTH INT32_MAX /* largest node length the reader accepts */

/* ---- type model ---------------------------------------------------------- */

typedef enum ty {
    TY_NULL = 1, TY_BOOL, TY_INT, TY_FLOAT, TY_DECIMAL, TY_BINARY, TY_LBINARY, TY_UTF8,
    TY_LUTF8, TY_FSB, TY_DATE, TY_TIME, TY_TIMESTAMP, TY_DURATION, TY_INTERVAL, TY_LIST,
    TY_LLIST, TY_FSL, TY_STRUCT, TY_MAP, TY_UNION, TY_BINARY_VIEW, TY_UTF8_VIEW
} ty;

typedef struct fld {
    uint8_t ty;
    uint8_t unit;        /* Date/Time/Timestamp/Duration/Interval unit, Float precision */
    uint8_t is_signed;   /* Int */
    uint8_t dense;       /* Union */
    uint8_t keys_sorted; /* Map */
    uint8_t nullable;
    int32_t width;       /* Int, Decimal, Time: bits; FixedSizeBinary: bytes; FSL: size */
    int32_t precision, scale; /* Decimal */
    char *tz;            /* Timestamp: NULL when naive */
    int32_t *type_ids;   /* Union: n_children ids */
    char *name;          /* never NULL */
    char *meta;          /* C data interface metadata blob, or NULL */
    size_t meta_len;
    uint32_t n_children;
    struct fld *children;
    /* dictionary encoding: this node describes the value type */
    uint8_t has_dict, dict_ordered, idx_bits, idx_signed;
    int64_t dict_id;
} fld;

static void fld_clear(fld *f) {
    for (uint32_t i = 0; f->children && i < f->n_children; i++) fld_clear(&f->children[i]);
    md_free(f->children);
    md_free(f->tz);
    md_free(f->type_ids);
    md_free(f->name);
    md_free(f->meta);
    memset(f, 0, sizeof *f);
}

/* Bytes per value of a fixed-width type (not Bool), 0 for other layouts. */
static int64_t fixed_width(const fld *f) {
    switch (f->ty) {
    case TY_INT: return f->width / 8;
    case TY_FLOAT: return f->unit == 0 ? 2 : f->unit == 1 ? 4 : 8;
    case TY_DECIMAL: return f->width / 8;
    case TY_FSB: return f->width;
    case TY_DATE: return f->unit == 0 ? 4 : 8;
    case TY_TIME: return f->width / 8;
    case TY_TIMESTAMP:
    case TY_DURATION: return 8;
    case TY_INTERVAL: return f->unit == 0 ? 4 : f->unit == 1 ? 8 : 16;
    default: return 0;
    }
}

static bool is_binary(const fld *f) {
    return f->ty == TY_BINARY || f->ty == TY_UTF8 || f->ty == TY_LBINARY || f->ty == TY_LUTF8;
}

static bool is_view(const fld *f) { return f->ty == TY_BINARY_VIEW || f->ty == TY_UTF8_VIEW; }

static bool is_large(const fld *f) {
    return f->ty == TY_LBINARY || f->ty == TY_LUTF8 || f->ty == TY_LLIST;
}

/* Number of buffers in the C data interface for this node (views: without data buffers). */
static int64_t c_buffer_count(const fld *f, bool ignore_dict) {
    if (f->has_dict && !ignore_dict) return 2;
    switch (f->ty) {
    case TY_NULL: return 0;
    case TY_BINARY: case TY_LBINARY: case TY_UTF8: case TY_LUTF8: return 3;
    case TY_BINARY_VIEW: case TY_UTF8_VIEW: return 3; /* validity, views, sizes */
    case TY_LIST: case TY_LLIST: case TY_MAP: return 2;
    case TY_FSL: case TY_STRUCT: return 1;
    case TY_UNION: return f->dense ? 2 : 1;
    default: return 2;
    }
}

/* ---- error messages ------------------------------------------------------ */

static int fail(char **err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char **err, int code, const char *fmt, ...) {
    if (err && !*err) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        char *s = md_malloc(n > 0 ? (size_t)n + 1 : 1);
        va_start(ap, fmt);
        vsnprintf(s, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
        va_end(ap);
        *err = s;
    }
    return code;
}

/* ---- C data interface metadata blob ---------------------------------------
 * int32 n, then n times: int32 key length, key bytes, int32 value length,
 * value bytes (native endianness, little-endian here).                      */

static int meta_blob_len(const char *m, size_t *out) {
    int32_t n, k;
    memcpy(&n, m, 4);
    if (n < 0) return MD_EINVAL;
    size_t pos = 4;
    for (int32_t i = 0; i < 2 * n; i++) {
        memcpy(&k, m + pos, 4);
        if (k < 0) return MD_EINVAL;
        pos += 4 + (size_t)k;
    }
    *out = pos;
    return MD_OK;
}

/* ---- bit helpers ----------------------------------------------------------- */

static inline bool bit_get(const uint8_t *bits, int64_t i) { return (bits[i >> 3] >> (i & 7)) & 1; }

/* Number of set bits in bits[start .. start + n). */
static int64_t count_set(const uint8_t *bits, int64_t start, int64_t n) {
    int64_t c = 0, i = start, end = start + n;
    while (i < end && (i & 7)) c += bit_get(bits, i++);
    const uint8_t *p = bits + (i >> 3);
    while (end - i >= 64) {
        uint64_t v;
        memcpy(&v, p, 8);
        c += __builtin_popcountll(v);
        p += 8;
        i += 64;
    }
    while (end - i >= 8) {
        c += __builtin_popcount(*p++);
        i += 8;
    }
    while (i < end) c += bit_get(bits, i++);
    return c;
}

static inline int64_t ld_off(const uint8_t *p, int64_t i, bool large) {
    if (large) {
        int64_t v;
        memcpy(&v, p + 8 * i, 8);
        return v;
    }
    int32_t v;
    memcpy(&v, p + 4 * i, 4);
    return v;
}

static int64_t ld_index(const uint8_t *p, int64_t i, int bits, bool is_signed) {
    switch (bits) {
    case 8: return is_signed ? (int64_t)(int8_t)p[i] : (int64_t)p[i];
    case 16: {
        uint16_t v;
        memcpy(&v, p + 2 * i, 2);
        return is_signed ? (int64_t)(int16_t)v : (int64_t)v;
    }
    case 32: {
        uint32_t v;
        memcpy(&v, p + 4 * i, 4);
        return is_signed ? (int64_t)(int32_t)v : (int64_t)v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p + 8 * i, 8);
        if (!is_signed && v > INT64_MAX) return -1;
        return (int64_t)v;
    }
    }
}

/* ---- format strings (C data interface) ------------------------------------ */

static const char unit_char[4] = {'s', 'm', 'u', 'n'};

static int unit_of(char c) {
    for (int i = 0; i < 4; i++)
        if (unit_char[i] == c) return i;
    return -1;
}

/* Parse a decimal integer in [lo, hi] at *s, advancing *s. */
static bool parse_int(const char **s, long lo, long hi, long *out) {
    const char *p = *s;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    if (*p < '0' || *p > '9') return false;
    long v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > 1000000000L * 10) return false;
    }
    if (neg) v = -v;
    if (v < lo || v > hi) return false;
    *s = p;
    *out = v;
    return true;
}

static bool int_format(const char *fmt, uint8_t *bits, uint8_t *is_signed) {
    if (!fmt[0] || fmt[1]) return false;
    static const char codes[] = "cCsSiIlL";
    const char *c = strchr(codes, fmt[0]);
    if (!c) return false;
    int k = (int)(c - codes);
    *bits = (uint8_t)(8 << (k / 2));
    *is_signed = (k % 2) == 0;
    return true;
}

/* Fill the type part of *f from a format string; f->n_children is already set. */
static int parse_format(const char *fmt, fld *f) {
    uint8_t bits, sgn;
    long a, b;
    const char *p;
    if (int_format(fmt, &bits, &sgn)) {
        f->ty = TY_INT;
        f->width = bits;
        f->is_signed = sgn;
        return MD_OK;
    }
    if (fmt[0] && !fmt[1]) {
        switch (fmt[0]) {
        case 'n': f->ty = TY_NULL; return MD_OK;
        case 'b': f->ty = TY_BOOL; return MD_OK;
        case 'e': f->ty = TY_FLOAT; f->unit = 0; return MD_OK;
        case 'f': f->ty = TY_FLOAT; f->unit = 1; return MD_OK;
        case 'g': f->ty = TY_FLOAT; f->unit = 2; return MD_OK;
        case 'z': f->ty = TY_BINARY; return MD_OK;
        case 'Z': f->ty = TY_LBINARY; return MD_OK;
        case 'u': f->ty = TY_UTF8; return MD_OK;
        case 'U': f->ty = TY_LUTF8; return MD_OK;
        default: return MD_EUNSUPPORTED;
        }
    }
    if (!strcmp(fmt, "vz")) { f->ty = TY_BINARY_VIEW; return MD_OK; }
    if (!strcmp(fmt, "vu")) { f->ty = TY_UTF8_VIEW; return MD_OK; }
    if (fmt[0] == 'd' && fmt[1] == ':') {
        p = fmt + 2;
        if (!parse_int(&p, 1, 76, &a) || *p++ != ',' || !parse_int(&p, -1000, 1000, &b))
            return MD_EUNSUPPORTED;
        long w = 128;
        if (*p == ',') {
            p++;
            if (!parse_int(&p, 32, 256, &w) || (w != 32 && w != 64 && w != 128 && w != 256))
                return MD_EUNSUPPORTED;
        }
        if (*p) return MD_EUNSUPPORTED;
        f->ty = TY_DECIMAL;
        f->precision = (int32_t)a;
        f->scale = (int32_t)b;
        f->width = (int32_t)w;
        return MD_OK;
    }
    if (fmt[0] == 'w' && fmt[1] == ':') {
        p = fmt + 2;
        if (!parse_int(&p, 0, INT32_MAX, &a) || *p) return MD_EUNSUPPORTED;
        f->ty = TY_FSB;
        f->width = (int32_t)a;
        return MD_OK;
    }
    if (fmt[0] == 't') {
        if (!strcmp(fmt, "tdD")) { f->ty = TY_DATE; f->unit = 0; return MD_OK; }
        if (!strcmp(fmt, "tdm")) { f->ty = TY_DATE; f->unit = 1; return MD_OK; }
        if (!strcmp(fmt, "tiM")) { f->ty = TY_INTERVAL; f->unit = 0; return MD_OK; }
        if (!strcmp(fmt, "tiD")) { f->ty = TY_INTERVAL; f->unit = 1; return MD_OK; }
        if (!strcmp(fmt, "tin")) { f->ty = TY_INTERVAL; f->unit = 2; return MD_OK; }
        int u = fmt[1] ? unit_of(fmt[2]) : -1;
        if (u < 0) return MD_EUNSUPPORTED;
        if (fmt[1] == 't' && !fmt[3]) {
            f->ty = TY_TIME;
            f->unit = (uint8_t)u;
            f->width = u < 2 ? 32 : 64;
            return MD_OK;
        }
        if (fmt[1] == 'D' && !fmt[3]) {
            f->ty = TY_DURATION;
            f->unit = (uint8_t)u;
            return MD_OK;
        }
        if (fmt[1] == 's' && fmt[3] == ':') {
            f->ty = TY_TIMESTAMP;
            f->unit = (uint8_t)u;
            f->tz = fmt[4] ? md_strdup(fmt + 4) : NULL;
            return MD_OK;
        }
        return MD_EUNSUPPORTED;
    }
    if (fmt[0] == '+') {
        if (!strcmp(fmt, "+l")) { f->ty = TY_LIST; return f->n_children == 1 ? MD_OK : MD_EINVAL; }
        if (!strcmp(fmt, "+L")) { f->ty = TY_LLIST; return f->n_children == 1 ? MD_OK : MD_EINVAL; }
        if (!strcmp(fmt, "+s")) { f->ty = TY_STRUCT; return MD_OK; }
        if (!strcmp(fmt, "+m")) { f->ty = TY_MAP; return f->n_children == 1 ? MD_OK : MD_EINVAL; }
        if (fmt[1] == 'w' && fmt[2] == ':') {
            p = fmt + 3;
            if (!parse_int(&p, 0, INT32_MAX, &a) || *p || f->n_children != 1) return MD_EUNSUPPORTED;
            f->ty = TY_FSL;
            f->width = (int32_t)a;
            return MD_OK;
        }
        if (fmt[1] == 'u' && (fmt[2] == 'd' || fmt[2] == 's') && fmt[3] == ':') {
            f->ty = TY_UNION;
            f->dense = fmt[2] == 'd';
            f->type_ids = md_calloc(f->n_children ? f->n_children : 1, sizeof(int32_t));
            p = fmt + 4;
            for (uint32_t i = 0; i < f->n_children; i++) {
                if (i > 0 && *p++ != ',') return MD_EUNSUPPORTED;
                if (!parse_int(&p, 0, 127, &a)) return MD_EUNSUPPORTED;
                f->type_ids[i] = (int32_t)a;
            }
            if (*p) return MD_EUNSUPPORTED;
            return MD_OK;
        }
    }
    return MD_EUNSUPPORTED;
}

/* Format string of the (value) type of f; writes at most 64 bytes plus union ids. */
static char *format_of(const fld *f) {
    switch (f->ty) {
    case TY_NULL: return md_strdup("n");
    case TY_BOOL: return md_strdup("b");
    case TY_INT: {
        static const char codes[] = "cCsSiIlL";
        int k = (f->width == 8 ? 0 : f->width == 16 ? 2 : f->width == 32 ? 4 : 6) + !f->is_signed;
        return md_strndup(&codes[k], 1);
    }
    case TY_FLOAT: return md_strdup(f->unit == 0 ? "e" : f->unit == 1 ? "f" : "g");
    case TY_DECIMAL:
        if (f->width == 128) return md_asprintf("d:%d,%d", f->precision, f->scale);
        return md_asprintf("d:%d,%d,%d", f->precision, f->scale, f->width);
    case TY_BINARY: return md_strdup("z");
    case TY_LBINARY: return md_strdup("Z");
    case TY_UTF8: return md_strdup("u");
    case TY_LUTF8: return md_strdup("U");
    case TY_BINARY_VIEW: return md_strdup("vz");
    case TY_UTF8_VIEW: return md_strdup("vu");
    case TY_FSB: return md_asprintf("w:%d", f->width);
    case TY_DATE: return md_strdup(f->unit == 0 ? "tdD" : "tdm");
    case TY_TIME: return md_asprintf("tt%c", unit_char[f->unit]);
    case TY_TIMESTAMP: return md_asprintf("ts%c:%s", unit_char[f->unit], f->tz ? f->tz : "");
    case TY_DURATION: return md_asprintf("tD%c", unit_char[f->unit]);
    case TY_INTERVAL: return md_strdup(f->unit == 0 ? "tiM" : f->unit == 1 ? "tiD" : "tin");
    case TY_LIST: return md_strdup("+l");
    case TY_LLIST: return md_strdup("+L");
    case TY_FSL: return md_asprintf("+w:%d", f->width);
    case TY_STRUCT: return md_strdup("+s");
    case TY_MAP: return md_strdup("+m");
    case TY_UNION: {
        md_buf b = MD_BUF_INIT;
        md_buf_append(&b, f->dense ? "+ud:" : "+us:", 4);
        for (uint32_t i = 0; i < f->n_children; i++) {
            char t[16];
            int n = snprintf(t, sizeof t, "%s%d", i ? "," : "", f->type_ids[i]);
            md_buf_append(&b, t, (size_t)n);
        }
        md_buf_put_u8(&b, 0);
        size_t n;
        return (char *)md_buf_detach(&b, &n);
    }
    default: return md_strdup("?");
    }
}

/* ======================================================================== */
/* ---- writer ------------------------------------------------------------- */
/* ======================================================================== */

/*
 * A plan says what goes into the body of one message, built in one walk over
 * the input arrays before any byte is written.  Each body buffer is a run of
 * segments, each a range of one input array plus how to copy it; a bitmap
 * buffer's segments are bit ranges put one after the other.
 */
enum {
    OP_COPY,       /* n bytes from src */
    OP_BITS,       /* bitmaps: n bits from src starting at bit arg */
    OP_ONES,       /* bitmaps: n set bits (an input without a validity buffer) */
    OP_REBASE32,   /* n / 4 int32 offsets from src, each minus arg */
    OP_REBASE64,   /* n / 8 int64 offsets from src, each minus arg */
    OP_CONST32,    /* one int32 offset: arg (n == 4) */
    OP_CONST64,    /* one int64 offset: arg (n == 8) */
    OP_VIEWS,      /* n / 16 views from src; arg added to each out-of-line view's buffer index */
    OP_UNION_OFFS  /* n / 4 dense union offsets from src, each plus plan.aux[arg + its type id (src2)] */
};

typedef struct pseg {
    const uint8_t *src;
    const uint8_t *src2; /* OP_UNION_OFFS: the type ids of the same rows */
    int64_t n;           /* bytes written; bitmaps: bits */
    int64_t arg;         /* see the ops */
    int op;
} pseg;

typedef struct pbuf {
    int64_t len;   /* bytes in the body (before padding) */
    int64_t bits;  /* bitmaps: bits so far */
    size_t seg;    /* its segments: plan.segs[seg .. seg + n_segs) */
    size_t n_segs;
    bool bitmap;
} pbuf;

typedef struct pnode {
    int64_t length, null_count;
} pnode;

typedef struct pdict {
    const fld *f;
    const struct ArrowArray *a;
} pdict;

/* Rows [start, start + len) of a (start is physical: it includes a->offset). */
typedef struct slice {
    const struct ArrowArray *a;
    int64_t start, len;
    int64_t nulls;  /* nulls among those rows */
    int64_t lo, hi; /* offsets layouts: the range of data or child used; views: 1 if its data buffers go */
} slice;

typedef struct plan {
    pnode *nodes;
    size_t n_nodes, cap_nodes;
    pbuf *bufs;
    size_t n_bufs, cap_bufs;
    pseg *segs;
    size_t n_segs, cap_segs;
    pdict *dicts;
    size_t n_dicts, cap_dicts;
    int64_t *variadic; /* data buffers of each view field, in pre-order */
    size_t n_variadic, cap_variadic;
    slice *sl;         /* a stack: the slices of each field being planned, one per input */
    size_t n_sl, cap_sl;
    int32_t *aux;      /* OP_UNION_OFFS tables: 256 int32 per table, by type id */
    size_t n_aux, cap_aux;
} plan;

typedef struct wdict {
    md_buf last; /* the last dictionary message written for this id */
} wdict;

struct md_ipc_writer {
    fld root;          /* struct of the columns */
    char *schema_meta; /* top-level schema metadata blob, or NULL */
    size_t schema_meta_len;
    wdict *dicts;
    int64_t n_dicts;
    md_fb_builder fb;
    md_buf scratch;
    plan pl;
    plan *dict_pl; /* plans of dictionaries, by nesting depth 1..64 (allocated on first use) */
};

#define GROW_BY(arr, n, cap, k)                                                  \
    do {                                                                         \
        if ((n) + (k) > (cap)) {                                                 \
            while ((n) + (k) > (cap)) (cap) = (cap) ? 2 * (cap) : 64;            \
            (arr) = md_realloc((arr), (cap) * sizeof *(arr));                    \
        }                                                                        \
    } while (0)
#define GROW(arr, n, cap) GROW_BY(arr, n, cap, 1)

static void plan_reset(plan *pl) {
    pl->n_nodes = pl->n_bufs = pl->n_segs = pl->n_dicts = pl->n_variadic = pl->n_sl = pl->n_aux = 0;
}

static void plan_free(plan *pl) {
    md_free(pl->nodes);
    md_free(pl->bufs);
    md_free(pl->segs);
    md_free(pl->dicts);
    md_free(pl->variadic);
    md_free(pl->sl);
    md_free(pl->aux);
    memset(pl, 0, sizeof *pl);
}

static void plan_node(plan *pl, int64_t length, int64_t nulls) {
    GROW(pl->nodes, pl->n_nodes, pl->cap_nodes);
    pl->nodes[pl->n_nodes++] = (pnode){length, nulls};
}

/* Start the next body buffer; the segments added next belong to it. */
static void plan_buf(plan *pl, bool bitmap) {
    GROW(pl->bufs, pl->n_bufs, pl->cap_bufs);
    pl->bufs[pl->n_bufs++] = (pbuf){0, 0, pl->n_segs, 0, bitmap};
}

/* Append a segment to the last buffer (nothing for an empty range). */
static void plan_seg(plan *pl, int op, const void *src, int64_t n, int64_t arg) {
    if (n == 0) return;
    pbuf *b = &pl->bufs[pl->n_bufs - 1];
    GROW(pl->segs, pl->n_segs, pl->cap_segs);
    pl->segs[pl->n_segs++] = (pseg){(const uint8_t *)src, NULL, n, arg, op};
    b->n_segs++;
    if (b->bitmap) {
        b->bits += n;
        b->len = (b->bits + 7) / 8;
    } else {
        b->len += n;
    }
}

/* Reserve k slices on the stack; returns the index of the first. */
static size_t plan_slices(plan *pl, size_t k) {
    GROW_BY(pl->sl, pl->n_sl, pl->cap_sl, k);
    size_t s0 = pl->n_sl;
    pl->n_sl += k;
    return s0;
}

/* Parse an ArrowSchema node into *f (writer side). */
static int parse_schema(const struct ArrowSchema *s, fld *f, int depth, int64_t *next_dict_id,
                        const char *col, char **err) {
    if (depth > 64) return fail(err, MD_EUNSUPPORTED, "column '%s': nesting deeper than 64", col);
    if (!s || !s->format) return fail(err, MD_EINVAL, "column '%s': schema without a format", col);
    f->name = md_strdup(s->name ? s->name : "");
    f->nullable = (s->flags & ARROW_FLAG_NULLABLE) != 0;
    if (s->metadata) {
        size_t n;
        if (meta_blob_len(s->metadata, &n) < 0)
            return fail(err, MD_EINVAL, "column '%s': malformed metadata on field '%s'", col, f->name);
        if (n > 4) {
            f->meta = md_malloc(n);
            memcpy(f->meta, s->metadata, n);
            f->meta_len = n;
        }
    }
    const struct ArrowSchema *vs = s;
    if (s->dictionary) {
        if (!int_format(s->format, &f->idx_bits, &f->idx_signed))
            return fail(err, MD_EINVAL, "column '%s': dictionary index format '%s' is not an integer",
                        col, s->format);
        if (s->dictionary->dictionary)
            return fail(err, MD_EUNSUPPORTED,
                        "column '%s': a dictionary of dictionaries cannot be written as IPC", col);
        f->has_dict = 1;
        f->dict_ordered = (s->flags & ARROW_FLAG_DICTIONARY_ORDERED) != 0;
        f->dict_id = (*next_dict_id)++;
        vs = s->dictionary;
        if (!vs->format) return fail(err, MD_EINVAL, "column '%s': dictionary without a format", col);
    }
    if (vs->n_children < 0 || vs->n_children > 1000000 || (vs->n_children && !vs->children))
        return fail(err, MD_EINVAL, "column '%s': bad child count", col);
    f->n_children = (uint32_t)vs->n_children;
    int rc = parse_format(vs->format, f);
    if (rc < 0)
        return fail(err, rc == MD_EINVAL ? MD_EINVAL : MD_EUNSUPPORTED,
                    "column '%s': field '%s' has format '%s', which this writer cannot encode%s", col,
                    f->name, vs->format, rc == MD_EINVAL ? " (wrong number of children)" : "");
    if (f->ty == TY_MAP && (!vs->children[0] || !vs->children[0]->format ||
                            vs->children[0]->n_children != 2 || strcmp(vs->children[0]->format, "+s")))
        return fail(err, MD_EINVAL, "column '%s': map entries must be a struct of 2 fields", col);
    if (f->ty != TY_STRUCT && f->ty != TY_LIST && f->ty != TY_LLIST && f->ty != TY_FSL &&
        f->ty != TY_MAP && f->ty != TY_UNION && f->n_children)
        return fail(err, MD_EINVAL, "column '%s': format '%s' cannot have children", col, vs->format);
    f->keys_sorted = f->ty == TY_MAP && (vs->flags & ARROW_FLAG_MAP_KEYS_SORTED);
    if (f->n_children) f->children = md_calloc(f->n_children, sizeof(fld));
    for (uint32_t i = 0; i < f->n_children; i++) {
        rc = parse_schema(vs->children[i], &f->children[i], depth + 1, next_dict_id, col, err);
        if (rc < 0) return rc;
    }
    return MD_OK;
}

int md_ipc_writer_create(const struct ArrowSchema *schema, md_ipc_writer **out, char **out_err) {
    if (!schema || !schema->format || strcmp(schema->format, "+s"))
        return fail(out_err, MD_EINVAL, "the schema must be a struct (format \"+s\") of columns");
    md_ipc_writer *w = md_calloc(1, sizeof *w);
    w->root.ty = TY_STRUCT;
    w->root.name = md_strdup("");
    if (schema->metadata) {
        size_t n;
        if (meta_blob_len(schema->metadata, &n) == MD_OK && n > 4) {
            w->schema_meta = md_malloc(n);
            memcpy(w->schema_meta, schema->metadata, n);
            w->schema_meta_len = n;
        }
    }
    int rc = MD_OK;
    if (schema->n_children < 0 || (schema->n_children && !schema->children)) {
        rc = fail(out_err, MD_EINVAL, "the schema has a bad child count");
        goto bad;
    }
    w->root.n_children = (uint32_t)schema->n_children;
    w->root.children = md_calloc(w->root.n_children ? w->root.n_children : 1, sizeof(fld));
    for (uint32_t i = 0; i < w->root.n_children; i++) {
        const struct ArrowSchema *c = schema->children[i];
        const char *col = c && c->name ? c->name : "?";
        rc = parse_schema(c, &w->root.children[i], 1, &w->n_dicts, col, out_err);
        if (rc < 0) goto bad;
    }
    w->dicts = md_calloc(w->n_dicts ? (size_t)w->n_dicts : 1, sizeof(wdict));
    *out = w;
    return MD_OK;
bad:
    md_ipc_writer_destroy(&w);
    return rc;
}

void md_ipc_writer_destroy(md_ipc_writer **pw) {
    md_ipc_writer *w = *pw;
    if (!w) return;
    fld_clear(&w->root);
    md_free(w->schema_meta);
    for (int64_t i = 0; i < w->n_dicts && w->dicts; i++) md_buf_free(&w->dicts[i].last);
    md_free(w->dicts);
    md_fb_free(&w->fb);
    md_buf_free(&w->scratch);
    plan_free(&w->pl);
    for (int i = 0; w->dict_pl && i <= 64; i++) plan_free(&w->dict_pl[i]);
    md_free(w->dict_pl);
    md_free(w);
    *pw = NULL;
}

/* ---- writer: metadata ---------------------------------------------------- */

/* Write a [KeyValue] vector from a metadata blob; returns its position. */
static uint32_t write_kv_vector(md_fb_builder *b, const char *m) {
    int32_t n;
    memcpy(&n, m, 4);
    uint32_t first = md_fb_vector(b, 4, 4, (uint32_t)n);
    size_t pos = 4;
    for (int32_t i = 0; i < n; i++) {
        int32_t kl, vl;
        memcpy(&kl, m + pos, 4);
        const char *k = m + pos + 4;
        pos += 4 + (size_t)kl;
        memcpy(&vl, m + pos, 4);
        const char *v = m + pos + 4;
        pos += 4 + (size_t)vl;
        md_fb_table_writer t;
        md_fb_table_begin(&t, b);
        md_fb_table_ref(&t, 0);
        md_fb_table_ref(&t, 1);
        uint32_t kv = md_fb_table_end(&t);
        md_fb_patch(b, first + 4 * (uint32_t)i, kv);
        md_fb_patch(b, t.slot[0], md_fb_string(b, k, (size_t)kl));
        md_fb_patch(b, t.slot[1], md_fb_string(b, v, (size_t)vl));
    }
    return first - 4;
}

/* The Type union tag of f's (value) type. */
static uint8_t type_tag(const fld *f) {
    static const uint8_t tags[] = {
        [TY_NULL] = FB_NULL, [TY_BOOL] = FB_BOOL, [TY_INT] = FB_INT, [TY_FLOAT] = FB_FLOAT,
        [TY_DECIMAL] = FB_DECIMAL, [TY_BINARY] = FB_BINARY, [TY_LBINARY] = FB_LBINARY,
        [TY_UTF8] = FB_UTF8, [TY_LUTF8] = FB_LUTF8, [TY_FSB] = FB_FSB, [TY_DATE] = FB_DATE,
        [TY_TIME] = FB_TIME, [TY_TIMESTAMP] = FB_TIMESTAMP, [TY_DURATION] = FB_DURATION,
        [TY_INTERVAL] = FB_INTERVAL, [TY_LIST] = FB_LIST, [TY_LLIST] = FB_LLIST, [TY_FSL] = FB_FSL,
        [TY_STRUCT] = FB_STRUCT, [TY_MAP] = FB_MAP, [TY_UNION] = FB_UNION,
        [TY_BINARY_VIEW] = FB_BINARY_VIEW, [TY_UTF8_VIEW] = FB_UTF8_VIEW,
    };
    return tags[f->ty];
}

/* Write the type table of f (tag: type_tag(f)); returns its position. */
static uint32_t write_type(md_fb_builder *b, const fld *f) {
    md_fb_table_writer t;
    md_fb_table_begin(&t, b);
    switch (f->ty) {
    case TY_INT:
        md_fb_table_scalar(&t, 0, 4, (uint32_t)f->width);
        md_fb_table_scalar(&t, 1, 1, f->is_signed);
        break;
    case TY_FLOAT: md_fb_table_scalar(&t, 0, 2, f->unit); break;
    case TY_DECIMAL:
        md_fb_table_scalar(&t, 0, 4, (uint32_t)f->precision);
        md_fb_table_scalar(&t, 1, 4, (uint32_t)f->scale);
        md_fb_table_scalar(&t, 2, 4, (uint32_t)f->width);
        break;
    case TY_FSB: md_fb_table_scalar(&t, 0, 4, (uint32_t)f->width); break;
    case TY_DATE: md_fb_table_scalar(&t, 0, 2, f->unit); break;
    case TY_TIME:
        md_fb_table_scalar(&t, 0, 2, f->unit);
        md_fb_table_scalar(&t, 1, 4, (uint32_t)f->width);
        break;
    case TY_TIMESTAMP:
        md_fb_table_scalar(&t, 0, 2, f->unit);
        if (f->tz) md_fb_table_ref(&t, 1);
        break;
    case TY_DURATION: md_fb_table_scalar(&t, 0, 2, f->unit); break;
    case TY_INTERVAL: md_fb_table_scalar(&t, 0, 2, f->unit); break;
    case TY_FSL: md_fb_table_scalar(&t, 0, 4, (uint32_t)f->width); break;
    case TY_MAP: md_fb_table_scalar(&t, 0, 1, f->keys_sorted); break;
    case TY_UNION:
        md_fb_table_scalar(&t, 0, 2, f->dense);
        md_fb_table_ref(&t, 1);
        break;
    default: break; /* Null, Bool, Binary, Utf8, List, Struct_, ...: empty tables */
    }
    uint32_t pos = md_fb_table_end(&t);
    if (f->ty == TY_TIMESTAMP && f->tz) md_fb_patch(b, t.slot[1], md_fb_string(b, f->tz, strlen(f->tz)));
    if (f->ty == TY_UNION) {
        uint32_t first = md_fb_vector(b, 4, 4, f->n_children);
        for (uint32_t i = 0; i < f->n_children; i++)
            md_fb_put32(b, first + 4 * i, (uint32_t)f->type_ids[i]);
        md_fb_patch(b, t.slot[1], first - 4);
    }
    return pos;
}

/* Write a Field table for f; returns its position. */
static uint32_t write_field(md_fb_builder *b, const fld *f) {
    md_fb_table_writer t;
    md_fb_table_begin(&t, b);
    md_fb_table_ref(&t, 0);
    md_fb_table_scalar(&t, 1, 1, f->nullable);
    md_fb_table_scalar(&t, 2, 1, type_tag(f));
    md_fb_table_ref(&t, 3);
    if (f->has_dict) md_fb_table_ref(&t, 4);
    md_fb_table_ref(&t, 5);
    if (f->meta) md_fb_table_ref(&t, 6);
    uint32_t pos = md_fb_table_end(&t);

    md_fb_patch(b, t.slot[0], md_fb_string(b, f->name, strlen(f->name)));
    md_fb_patch(b, t.slot[3], write_type(b, f));
    if (f->has_dict) {
        md_fb_table_writer d;
        md_fb_table_begin(&d, b);
        md_fb_table_scalar(&d, 0, 8, (uint64_t)f->dict_id);
        md_fb_table_ref(&d, 1);
        md_fb_table_scalar(&d, 2, 1, f->dict_ordered);
        md_fb_table_scalar(&d, 3, 2, 0);
        uint32_t dpos = md_fb_table_end(&d);
        md_fb_patch(b, t.slot[4], dpos);
        md_fb_table_writer it;
        md_fb_table_begin(&it, b);
        md_fb_table_scalar(&it, 0, 4, f->idx_bits);
        md_fb_table_scalar(&it, 1, 1, f->idx_signed);
        md_fb_patch(b, d.slot[1], md_fb_table_end(&it));
    }
    uint32_t first = md_fb_vector(b, 4, 4, f->n_children);
    md_fb_patch(b, t.slot[5], first - 4);
    for (uint32_t i = 0; i < f->n_children; i++)
        md_fb_patch(b, first + 4 * i, write_field(b, &f->children[i]));
    if (f->meta) md_fb_patch(b, t.slot[6], write_kv_vector(b, f->meta));
    return pos;
}

/* Start a Message table with the given header type; returns the header slot. */
static uint32_t write_message(md_fb_builder *b, uint8_t header_type, int64_t body_len) {
    md_fb_table_writer t;
    md_fb_table_begin(&t, b);
    md_fb_table_scalar(&t, 0, 2, MV_V5);
    md_fb_table_scalar(&t, 1, 1, header_type);
    md_fb_table_ref(&t, 2);
    md_fb_table_scalar(&t, 3, 8, (uint64_t)body_len);
    uint32_t pos = md_fb_table_end(&t);
    md_fb_patch(b, 0, pos);
    return t.slot[2];
}

/* Append continuation, size, the metadata in b and its padding to out. */
static void emit_metadata(md_buf *out, const md_fb_builder *b, int64_t body_len) {
    size_t m = (b->buf.len + 7) & ~(size_t)7;
    md_buf_reserve(out, 8 + m + (size_t)body_len);
    md_buf_put_u32le(out, CONTINUATION);
    md_buf_put_u32le(out, (uint32_t)m);
    md_buf_append(out, b->buf.data, b->buf.len);
    md_buf_append_zeros(out, m - b->buf.len);
}

void md_ipc_write_schema(md_ipc_writer *w, md_buf *out) {
    /* a new stream: its reader has seen no dictionary yet */
    for (int64_t i = 0; i < w->n_dicts; i++) w->dicts[i].last.len = 0;
    md_fb_builder *b = &w->fb;
    md_fb_reset(b);
    uint32_t hslot = write_message(b, HDR_SCHEMA, 0);
    md_fb_table_writer t;
    md_fb_table_begin(&t, b);
    md_fb_table_scalar(&t, 0, 2, 0); /* Little */
    md_fb_table_ref(&t, 1);
    if (w->schema_meta) md_fb_table_ref(&t, 2);
    uint32_t spos = md_fb_table_end(&t);
    md_fb_patch(b, hslot, spos);
    uint32_t first = md_fb_vector(b, 4, 4, w->root.n_children);
    md_fb_patch(b, t.slot[1], first - 4);
    for (uint32_t i = 0; i < w->root.n_children; i++)
        md_fb_patch(b, first + 4 * i, write_field(b, &w->root.children[i]));
    if (w->schema_meta) md_fb_patch(b, t.slot[2], write_kv_vector(b, w->schema_meta));
    emit_metadata(out, b, 0);
}

void md_ipc_write_eos(md_buf *out) {
    md_buf_put_u32le(out, CONTINUATION);
    md_buf_put_u32le(out, 0);
}

/* ---- writer: planning a batch ----------------------------------------------- */

/* Where planning errors go: "column 'c': ..." or "column 'c' of array j: ...". */
typedef struct pctx {
    const char *col;
    size_t n; /* input arrays; at every level of a plan, slice j comes from array j */
    char **err;
} pctx;

static int pfail(const pctx *c, size_t j, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int pfail(const pctx *c, size_t j, int code, const char *fmt, ...) {
    if (!c->err || *c->err) return code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = md_malloc(n > 0 ? (size_t)n + 1 : 1);
    va_start(ap, fmt);
    vsnprintf(msg, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    va_end(ap);
    if (c->n > 1) fail(c->err, code, "column '%s' of array %zu: %s", c->col, j, msg);
    else fail(c->err, code, "column '%s': %s", c->col, msg);
    md_free(msg);
    return code;
}

/* Nulls among a[start .. start + len) (a has a validity slot). */
static int64_t slice_nulls(const struct ArrowArray *a, int64_t start, int64_t len) {
    if (!a->buffers[0] || len == 0 || a->null_count == 0) return 0;
    if (start == a->offset && len == a->length && a->null_count > 0) return a->null_count;
    return len - count_set(a->buffers[0], start, len);
}

/* The checks the C data interface allows on one array of field f. */
static int check_array(const fld *f, const struct ArrowArray *a, int64_t len, bool ignore_dict,
                       const pctx *c, size_t j) {
    bool dict = f->has_dict && !ignore_dict;
    if (!a || !a->release) return pfail(c, j, MD_EINVAL, "field '%s' has no array (released?)", f->name);
    if ((is_view(f) && !dict ? a->n_buffers < 3 : a->n_buffers != c_buffer_count(f, ignore_dict)) ||
        (a->n_buffers && !a->buffers))
        return pfail(c, j, MD_EINVAL, "field '%s' has %lld buffers, expected %lld", f->name,
                     (long long)a->n_buffers, (long long)c_buffer_count(f, ignore_dict));
    if (!dict && (a->n_children != (int64_t)f->n_children || (a->n_children && !a->children)))
        return pfail(c, j, MD_EINVAL, "field '%s' has %lld children, expected %u", f->name,
                     (long long)a->n_children, f->n_children);
    if (dict && !a->dictionary)
        return pfail(c, j, MD_EINVAL, "dictionary-encoded field '%s' has no dictionary", f->name);
    if (a->offset < 0 || a->length < 0)
        return pfail(c, j, MD_EINVAL, "field '%s' has a negative offset or length", f->name);
    for (int64_t i = 1; i < a->n_buffers; i++)
        if (!a->buffers[i] && len > 0 && (dict || (f->ty != TY_UNION && !(is_binary(f) && i == 2))))
            return pfail(c, j, MD_EINVAL, "field '%s' buffer %lld is NULL", f->name, (long long)i);
    return MD_OK;
}

/* Views a and b use the same data buffers (same addresses and sizes). */
static bool same_data_buffers(const struct ArrowArray *a, const struct ArrowArray *b) {
    if (a->n_buffers != b->n_buffers) return false;
    const int64_t *sa = a->buffers[a->n_buffers - 1], *sb = b->buffers[b->n_buffers - 1];
    for (int64_t i = 0; i < a->n_buffers - 3; i++)
        if (a->buffers[2 + i] != b->buffers[2 + i] || sa[i] != sb[i]) return false;
    return true;
}

static int plan_field(plan *pl, const fld *f, size_t s0, bool ignore_dict, const pctx *c);

/* Plan f for one array, a[a->offset .. a->offset + a->length), into a reset plan. */
static int plan_one(plan *pl, const fld *f, const struct ArrowArray *a, bool ignore_dict, const pctx *c) {
    plan_reset(pl);
    size_t s0 = plan_slices(pl, 1);
    pl->sl[s0] = (slice){a, a ? a->offset : 0, a ? a->length : 0, 0, 0, 0};
    return plan_field(pl, f, s0, ignore_dict, c);
}

static void emit_buf(uint8_t *dst, const plan *pl, const pbuf *pb);

/*
 * dict_equal for dictionaries of a type without children (DuckDB's ENUMs:
 * utf8), without building plans: *out_eq as dict_equal's.  Returns false when
 * it cannot tell (other types, arrays that fail the checks).
 */
static bool flat_dict_equal(const fld *f, const struct ArrowArray *a, const struct ArrowArray *b,
                            bool *out_eq) {
    int64_t w = fixed_width(f), n = a->length;
    bool bin = is_binary(f);
    if ((!w && !bin && f->ty != TY_BOOL) || n < 0 || a->n_buffers != c_buffer_count(f, true) ||
        b->n_buffers != a->n_buffers || !a->buffers || !b->buffers || a->offset < 0 || b->offset < 0)
        return false;
    for (int64_t i = 1; i < a->n_buffers; i++)
        if (!a->buffers[i] || !b->buffers[i]) return false;
    int64_t na = slice_nulls(a, a->offset, n), nb = slice_nulls(b, b->offset, n);
    bool eq = na == nb;
    for (int64_t i = 0; eq && na && i < n; i++)
        eq = bit_get(a->buffers[0], a->offset + i) == bit_get(b->buffers[0], b->offset + i);
    if (eq && w) {
        eq = !memcmp((const uint8_t *)a->buffers[1] + w * a->offset,
                     (const uint8_t *)b->buffers[1] + w * b->offset, (size_t)(w * n));
    } else if (eq && f->ty == TY_BOOL) {
        for (int64_t i = 0; eq && i < n; i++)
            eq = bit_get(a->buffers[1], a->offset + i) == bit_get(b->buffers[1], b->offset + i);
    } else if (eq) {
        bool large = is_large(f);
        const uint8_t *oa = a->buffers[1], *ob = b->buffers[1];
        int64_t a0 = ld_off(oa, a->offset, large), b0 = ld_off(ob, b->offset, large);
        int64_t a1 = ld_off(oa, a->offset + n, large), b1 = ld_off(ob, b->offset + n, large);
        if (a0 < 0 || b0 < 0 || a1 < a0 || b1 < b0) return false;
        eq = a1 - a0 == b1 - b0;
        if (eq && a0 == b0) {
            int64_t ow = large ? 8 : 4;
            eq = !memcmp(oa + ow * a->offset, ob + ow * b->offset, (size_t)(ow * (n + 1)));
        }
        for (int64_t i = 0; eq && a0 != b0 && i <= n; i++)
            eq = ld_off(oa, a->offset + i, large) - a0 == ld_off(ob, b->offset + i, large) - b0;
        if (eq && a1 > a0)
            eq = !memcmp((const uint8_t *)a->buffers[2] + a0, (const uint8_t *)b->buffers[2] + b0,
                         (size_t)(a1 - a0));
    }
    *out_eq = eq;
    return true;
}

/*
 * *out_eq: dictionaries a and b (values of f) would be written as the same
 * bytes, nested dictionaries included.  Errors are those of planning them.
 */
static int dict_equal(const fld *f, const struct ArrowArray *a, const struct ArrowArray *b, int depth,
                      bool *out_eq, const pctx *c) {
    if (depth > 64) return pfail(c, 0, MD_EUNSUPPORTED, "dictionaries nested too deeply");
    if (a->length != b->length) {
        *out_eq = false;
        return MD_OK;
    }
    if (flat_dict_equal(f, a, b, out_eq)) return MD_OK;
    plan pa = {0}, pb = {0};
    pctx dc = {f->name, 1, c->err};
    int rc = plan_one(&pa, f, a, true, &dc);
    if (rc == MD_OK) rc = plan_one(&pb, f, b, true, &dc);
    bool eq = rc == MD_OK && pa.n_nodes == pb.n_nodes && pa.n_bufs == pb.n_bufs &&
              pa.n_variadic == pb.n_variadic && pa.n_dicts == pb.n_dicts &&
              !memcmp(pa.nodes, pb.nodes, pa.n_nodes * sizeof *pa.nodes) &&
              (!pa.n_variadic || !memcmp(pa.variadic, pb.variadic, pa.n_variadic * sizeof *pa.variadic));
    for (size_t i = 0; eq && i < pa.n_bufs; i++) {
        const pbuf *x = &pa.bufs[i], *y = &pb.bufs[i];
        if (x->len != y->len) eq = false;
        else if (x->len == 0) continue;
        else if (x->n_segs == 1 && y->n_segs == 1 && pa.segs[x->seg].op == OP_COPY &&
                 pb.segs[y->seg].op == OP_COPY)
            eq = !memcmp(pa.segs[x->seg].src, pb.segs[y->seg].src, (size_t)x->len);
        else {
            uint8_t *bx = md_malloc((size_t)x->len), *by = md_malloc((size_t)x->len);
            emit_buf(bx, &pa, x);
            emit_buf(by, &pb, y);
            eq = !memcmp(bx, by, (size_t)x->len);
            md_free(bx);
            md_free(by);
        }
    }
    for (size_t i = 0; eq && i < pa.n_dicts; i++)
        rc = dict_equal(pa.dicts[i].f, pa.dicts[i].a, pb.dicts[i].a, depth + 1, &eq, c);
    plan_free(&pa);
    plan_free(&pb);
    if (rc == MD_OK) *out_eq = eq;
    return rc;
}

/* A union field: type ids, dense offsets (rebased per child), children. */
static int plan_union(plan *pl, const fld *f, size_t s0, int64_t len, const pctx *c) {
    size_t k = c->n;
    plan_node(pl, len, 0);
    plan_buf(pl, false);
    for (size_t j = 0; j < k; j++) {
        slice s = pl->sl[s0 + j];
        if (s.len > 0 && !s.a->buffers[0])
            return pfail(c, j, MD_EINVAL, "union '%s' has no type ids", f->name);
        plan_seg(pl, OP_COPY, (const uint8_t *)s.a->buffers[0] + s.start, s.len, 0);
        for (uint32_t i = 0; i < f->n_children; i++) {
            const struct ArrowArray *ch = s.a->children[i];
            if (!ch) return pfail(c, j, MD_EINVAL, "union '%s' child missing", f->name);
            if (!f->dense && ch->length < s.start + s.len)
                return pfail(c, j, MD_EINVAL, "union child '%s' is too short", f->children[i].name);
        }
    }
    if (f->dense) {
        /* each input's children go whole, after the previous inputs' ones: its
           offsets grow by the children lengths before it (run, by type id) */
        plan_buf(pl, false);
        size_t run = pl->n_aux;
        GROW_BY(pl->aux, pl->n_aux, pl->cap_aux, 256);
        memset(pl->aux + run, 0, 256 * sizeof *pl->aux);
        pl->n_aux += 256;
        bool shifted = false;
        for (size_t j = 0; j < k; j++) {
            slice s = pl->sl[s0 + j];
            if (s.len == 0) continue;
            if (!s.a->buffers[1])
                return pfail(c, j, MD_EINVAL, "union '%s' has no offsets", f->name);
            const uint8_t *offs = (const uint8_t *)s.a->buffers[1] + 4 * s.start;
            if (!shifted) {
                plan_seg(pl, OP_COPY, offs, 4 * s.len, 0);
            } else {
                size_t tab = pl->n_aux;
                GROW_BY(pl->aux, pl->n_aux, pl->cap_aux, 256);
                memcpy(pl->aux + tab, pl->aux + run, 256 * sizeof *pl->aux);
                pl->n_aux += 256;
                plan_seg(pl, OP_UNION_OFFS, offs, 4 * s.len, (int64_t)tab);
                pl->segs[pl->n_segs - 1].src2 = (const uint8_t *)s.a->buffers[0] + s.start;
            }
            for (uint32_t i = 0; i < f->n_children; i++) {
                int64_t cl = s.a->children[i]->length;
                int32_t *r = &pl->aux[run + (uint8_t)f->type_ids[i]];
                if (cl > MAX_LENGTH - *r)
                    return pfail(c, j, MD_EINVAL, "union child '%s' would hold more than %d values: "
                                 "write fewer arrays at once", f->children[i].name, MAX_LENGTH);
                *r += (int32_t)cl;
                shifted |= cl > 0;
            }
        }
    }
    for (uint32_t i = 0; i < f->n_children; i++) {
        size_t cs = plan_slices(pl, k);
        for (size_t j = 0; j < k; j++) {
            slice s = pl->sl[s0 + j];
            const struct ArrowArray *ch = s.a->children[i];
            if (f->dense) pl->sl[cs + j] = (slice){ch, ch->offset, s.len ? ch->length : 0, 0, 0, 0};
            else pl->sl[cs + j] = (slice){ch, ch->offset + s.start, s.len, 0, 0, 0};
        }
        int rc = plan_field(pl, &f->children[i], cs, false, c);
        pl->n_sl = cs;
        if (rc < 0) return rc;
    }
    return MD_OK;
}

/* A view field: views (buffer indexes shifted), then every input's data buffers. */
static int plan_views(plan *pl, const fld *f, size_t s0, const pctx *c) {
    size_t k = c->n;
    int64_t nvar = 0, shift = 0;
    const struct ArrowArray *last = NULL; /* the last input whose data buffers go */
    plan_buf(pl, false);
    for (size_t j = 0; j < k; j++) {
        slice *s = &pl->sl[s0 + j];
        const struct ArrowArray *a = s->a;
        int64_t nd = a->n_buffers - 3;
        const int64_t *sizes = a->buffers[a->n_buffers - 1];
        if (nd > 0 && !sizes)
            return pfail(c, j, MD_EINVAL, "view field '%s' has no buffer sizes", f->name);
        for (int64_t i = 0; i < nd; i++)
            if (sizes[i] < 0 || (sizes[i] && !a->buffers[2 + i]))
                return pfail(c, j, MD_EINVAL, "view field '%s' data buffer %lld is bad", f->name,
                             (long long)i);
        if (s->len == 0) continue;
        if (!last || !same_data_buffers(last, a)) {
            shift = nvar;
            nvar += nd;
            last = a;
            s->lo = 1; /* marks: its data buffers go */
        }
        plan_seg(pl, shift ? OP_VIEWS : OP_COPY, (const uint8_t *)a->buffers[1] + 16 * s->start,
                 16 * s->len, shift);
    }
    if (nvar > INT32_MAX)
        return pfail(c, 0, MD_EINVAL, "view field '%s' would have more than 2^31 data buffers", f->name);
    for (size_t j = 0; j < k; j++) {
        const slice *s = &pl->sl[s0 + j];
        if (!s->lo) continue;
        const int64_t *sizes = s->a->buffers[s->a->n_buffers - 1];
        for (int64_t i = 0; i < s->a->n_buffers - 3; i++) {
            plan_buf(pl, false);
            plan_seg(pl, OP_COPY, s->a->buffers[2 + i], sizes[i], 0);
        }
    }
    GROW(pl->variadic, pl->n_variadic, pl->cap_variadic);
    pl->variadic[pl->n_variadic++] = nvar;
    return MD_OK;
}

/* Offsets (rebased to run on from one input to the next) and data or child of a
   Binary/Utf8 (+Large), List, LargeList or Map field. */
static int plan_offsets(plan *pl, const fld *f, size_t s0, const pctx *c) {
    size_t k = c->n;
    bool large = is_large(f);
    int64_t ow = large ? 8 : 4, limit = large ? INT64_MAX : INT32_MAX, total = 0;
    plan_buf(pl, false);
    for (size_t j = 0; j < k; j++) {
        slice *s = &pl->sl[s0 + j];
        const uint8_t *offs = s->a->buffers[1];
        s->lo = s->hi = 0;
        if (offs) {
            s->lo = ld_off(offs, s->start, large);
            s->hi = ld_off(offs, s->start + s->len, large);
        }
        if (s->lo < 0 || s->hi < s->lo)
            return pfail(c, j, MD_EINVAL, "field '%s' has decreasing offsets", f->name);
        if (s->hi - s->lo > limit - total)
            return pfail(c, j, MD_EINVAL, "field '%s' would need offsets past %lld, which its type "
                         "cannot hold: write fewer arrays at once", f->name, (long long)limit);
        if (s->len > 0)
            plan_seg(pl, s->lo == total ? OP_COPY : large ? OP_REBASE64 : OP_REBASE32,
                     offs + ow * s->start, ow * s->len, s->lo - total);
        total += s->hi - s->lo;
    }
    plan_seg(pl, large ? OP_CONST64 : OP_CONST32, NULL, ow, total);

    if (is_binary(f)) {
        plan_buf(pl, false);
        for (size_t j = 0; j < k; j++) {
            const slice *s = &pl->sl[s0 + j];
            if (s->hi > s->lo && !s->a->buffers[2])
                return pfail(c, j, MD_EINVAL, "field '%s' has no data buffer", f->name);
            plan_seg(pl, OP_COPY, (const uint8_t *)s->a->buffers[2] + s->lo, s->hi - s->lo, 0);
        }
        return MD_OK;
    }
    size_t cs = plan_slices(pl, k);
    for (size_t j = 0; j < k; j++) {
        const slice *s = &pl->sl[s0 + j];
        const struct ArrowArray *ch = s->a->children[0];
        if (!ch || ch->length < s->hi)
            return pfail(c, j, MD_EINVAL, "list '%s' offsets exceed its child", f->name);
        pl->sl[cs + j] = (slice){ch, ch->offset + s->lo, s->hi - s->lo, 0, 0, 0};
    }
    int rc = plan_field(pl, &f->children[0], cs, false, c);
    pl->n_sl = cs;
    return rc;
}

/*
 * Plan field f over the slices pl->sl[s0 .. s0 + c->n): one node and its
 * buffers for their concatenation, then its children the same way.
 * ignore_dict: f is a dictionary's value type, written as plain values.
 */
static int plan_field(plan *pl, const fld *f, size_t s0, bool ignore_dict, const pctx *c) {
    size_t k = c->n;
    bool dict = f->has_dict && !ignore_dict;
    int64_t len = 0, nulls = 0;
    for (size_t j = 0; j < k; j++) {
        slice *s = &pl->sl[s0 + j];
        int rc = check_array(f, s->a, s->len, ignore_dict, c, j);
        if (rc < 0) return rc;
        if (s->len > MAX_LENGTH - len)
            return pfail(c, j, MD_EINVAL, "field '%s' would hold more than %d values: write fewer "
                         "arrays at once", f->name, MAX_LENGTH);
        len += s->len;
        s->nulls = s->a->n_buffers && (dict || f->ty != TY_UNION) ? slice_nulls(s->a, s->start, s->len) : 0;
        nulls += s->nulls;
    }
    if (!dict && f->ty == TY_NULL) {
        plan_node(pl, len, len);
        return MD_OK;
    }
    if (!dict && f->ty == TY_UNION) return plan_union(pl, f, s0, len, c);

    plan_node(pl, len, nulls);
    plan_buf(pl, true); /* validity: absent when there is no null at all */
    for (size_t j = 0; nulls && j < k; j++) {
        const slice *s = &pl->sl[s0 + j];
        if (s->nulls) plan_seg(pl, OP_BITS, s->a->buffers[0], s->len, s->start);
        else plan_seg(pl, OP_ONES, NULL, s->len, 0);
    }

    if (dict) {
        int64_t w = f->idx_bits / 8;
        plan_buf(pl, false);
        for (size_t j = 0; j < k; j++) {
            const slice *s = &pl->sl[s0 + j];
            plan_seg(pl, OP_COPY, (const uint8_t *)s->a->buffers[1] + w * s->start, w * s->len, 0);
        }
        /* the indexes are concatenated as they are: every input that has rows
           must carry the dictionary of the first such input (or an equal one) */
        size_t r = 0;
        while (r < k && pl->sl[s0 + r].len == 0) r++;
        if (r == k) r = 0;
        const struct ArrowArray *d = pl->sl[s0 + r].a->dictionary, *same = d;
        for (size_t j = r + 1; j < k; j++) {
            const struct ArrowArray *e = pl->sl[s0 + j].a->dictionary;
            if (pl->sl[s0 + j].len == 0 || e == d || e == same) continue;
            bool eq = false;
            int rc = dict_equal(f, d, e, 1, &eq, c);
            if (rc < 0) return rc;
            if (!eq)
                return pfail(c, j, MD_EINVAL, "dictionary-encoded field '%s' has a dictionary other "
                             "than array %zu's: write arrays with different dictionaries in separate "
                             "calls", f->name, r);
            same = e;
        }
        GROW(pl->dicts, pl->n_dicts, pl->cap_dicts);
        pl->dicts[pl->n_dicts++] = (pdict){f, d};
        return MD_OK;
    }

    int64_t w = fixed_width(f);
    if (w) {
        plan_buf(pl, false);
        for (size_t j = 0; j < k; j++) {
            const slice *s = &pl->sl[s0 + j];
            plan_seg(pl, OP_COPY, (const uint8_t *)s->a->buffers[1] + w * s->start, w * s->len, 0);
        }
        return MD_OK;
    }
    switch (f->ty) {
    case TY_BINARY_VIEW: case TY_UTF8_VIEW:
        return plan_views(pl, f, s0, c);
    case TY_BOOL:
        plan_buf(pl, true);
        for (size_t j = 0; j < k; j++) {
            const slice *s = &pl->sl[s0 + j];
            plan_seg(pl, OP_BITS, s->a->buffers[1], s->len, s->start);
        }
        return MD_OK;
    case TY_BINARY: case TY_LBINARY: case TY_UTF8: case TY_LUTF8:
    case TY_LIST: case TY_LLIST: case TY_MAP:
        return plan_offsets(pl, f, s0, c);
    case TY_FSL: {
        int64_t n = f->width;
        size_t cs = plan_slices(pl, k);
        for (size_t j = 0; j < k; j++) {
            const slice *s = &pl->sl[s0 + j];
            const struct ArrowArray *ch = s->a->children[0];
            if (!ch || ch->length < (s->start + s->len) * n)
                return pfail(c, j, MD_EINVAL, "fixed-size list '%s' child is too short", f->name);
            pl->sl[cs + j] = (slice){ch, ch->offset + s->start * n, s->len * n, 0, 0, 0};
        }
        int rc = plan_field(pl, &f->children[0], cs, false, c);
        pl->n_sl = cs;
        return rc;
    }
    case TY_STRUCT:
        for (uint32_t i = 0; i < f->n_children; i++) {
            size_t cs = plan_slices(pl, k);
            for (size_t j = 0; j < k; j++) {
                const slice *s = &pl->sl[s0 + j];
                const struct ArrowArray *ch = s->a->children[i];
                if (!ch || ch->length < s->start + s->len)
                    return pfail(c, j, MD_EINVAL, "struct child '%s' is too short", f->children[i].name);
                pl->sl[cs + j] = (slice){ch, ch->offset + s->start, s->len, 0, 0, 0};
            }
            int rc = plan_field(pl, &f->children[i], cs, false, c);
            pl->n_sl = cs;
            if (rc < 0) return rc;
        }
        return MD_OK;
    default:
        return pfail(c, 0, MD_EINTERNAL, "unhandled type");
    }
}

/* ---- writer: copying planned buffers ------------------------------------------ */

static inline uint64_t low_bits(int k) { return (UINT64_C(1) << k) - 1; } /* k < 64 */

/*
 * Bitmap writing.  Invariant between calls: the bits of dst[d >> 3] from bit
 * d & 7 up are zero (d: the bits written so far), the bytes after it are not
 * written yet.  So every byte of a bitmap is written, and its last byte has
 * zeros past the last bit.
 */

/* Put bits [s, s + n) of src at bit d of dst; no byte at or past `end` is touched. */
static void put_bits(uint8_t *dst, const uint8_t *end, int64_t d, const uint8_t *src, int64_t s, int64_t n) {
    uint8_t *o = dst + (d >> 3);
    if (((d | s) & 7) == 0) { /* both on a byte boundary */
        memcpy(o, src + (s >> 3), (size_t)(n >> 3));
        if (n & 7) o[n >> 3] = src[(s + n) >> 3] & (uint8_t)low_bits((int)(n & 7));
        return;
    }
    /* up to 56 bits at a time through a 64-bit accumulator */
    const uint8_t *p = src + (s >> 3), *pend = src + ((s + n - 1) >> 3) + 1; /* bytes holding the bits */
    int sh = (int)(s & 7), na = (int)(d & 7);
    uint64_t acc = na ? *o & low_bits(na) : 0;
    while (n > 0) {
        int k = n < 56 ? (int)n : 56;
        uint64_t v = 0;
        if (pend - p >= 8) memcpy(&v, p, 8); /* little-endian, like the rest of this file */
        else
            for (int i = 0; i < pend - p; i++) v |= (uint64_t)p[i] << (8 * i);
        v = (v >> sh) & low_bits(k);
        p += (sh + k) >> 3;
        sh = (sh + k) & 7;
        n -= k;
        acc |= v << na; /* na + k <= 63 */
        na += k;
        int nb = na >> 3;
        if (end - o >= 8) memcpy(o, &acc, 8);
        else
            for (int i = 0; i < nb; i++) o[i] = (uint8_t)(acc >> (8 * i));
        o += nb;
        acc >>= 8 * nb; /* nb <= 7 */
        na &= 7;
    }
    if (na) *o = (uint8_t)acc;
}

/* Put n set bits at bit d of dst. */
static void put_ones(uint8_t *dst, int64_t d, int64_t n) {
    uint8_t *o = dst + (d >> 3);
    int sh = (int)(d & 7);
    if (sh) {
        int k = n < 8 - sh ? (int)n : 8 - sh;
        *o = (uint8_t)((*o & low_bits(sh)) | (low_bits(k) << sh));
        n -= k;
        o++;
    }
    memset(o, 0xFF, (size_t)(n >> 3));
    if (n & 7) o[n >> 3] = (uint8_t)low_bits((int)(n & 7));
}

/* Copy one planned buffer to dst (exactly pb->len bytes). */
static void emit_buf(uint8_t *dst, const plan *pl, const pbuf *pb) {
    const pseg *sg = pl->segs + pb->seg;
    if (pb->bitmap) {
        int64_t d = 0;
        for (size_t i = 0; i < pb->n_segs; i++) {
            if (sg[i].op == OP_ONES) put_ones(dst, d, sg[i].n);
            else put_bits(dst, dst + pb->len, d, sg[i].src, sg[i].arg, sg[i].n);
            d += sg[i].n;
        }
        return;
    }
    for (size_t i = 0; i < pb->n_segs; i++) {
        const pseg *g = &sg[i];
        switch (g->op) {
        case OP_COPY:
            memcpy(dst, g->src, (size_t)g->n);
            break;
        case OP_REBASE32:
            for (int64_t j = 0; j < g->n / 4; j++) {
                uint32_t v;
                memcpy(&v, g->src + 4 * j, 4);
                v -= (uint32_t)g->arg;
                memcpy(dst + 4 * j, &v, 4);
            }
            break;
        case OP_REBASE64:
            for (int64_t j = 0; j < g->n / 8; j++) {
                uint64_t v;
                memcpy(&v, g->src + 8 * j, 8);
                v -= (uint64_t)g->arg;
                memcpy(dst + 8 * j, &v, 8);
            }
            break;
        case OP_CONST32: {
            int32_t v = (int32_t)g->arg;
            memcpy(dst, &v, 4);
            break;
        }
        case OP_CONST64:
            memcpy(dst, &g->arg, 8);
            break;
        case OP_VIEWS:
            memcpy(dst, g->src, (size_t)g->n);
            for (int64_t j = 0; j < g->n; j += 16) {
                int32_t len, idx;
                memcpy(&len, dst + j, 4);
                if (len <= 12) continue;
                memcpy(&idx, dst + j + 8, 4);
                idx = (int32_t)((uint32_t)idx + (uint32_t)g->arg);
                memcpy(dst + j + 8, &idx, 4);
            }
            break;
        case OP_UNION_OFFS: {
            const int32_t *add = pl->aux + g->arg;
            for (int64_t j = 0; j < g->n / 4; j++) {
                uint32_t v;
                memcpy(&v, g->src + 4 * j, 4);
                v += (uint32_t)add[g->src2[j]];
                memcpy(dst + 4 * j, &v, 4);
            }
            break;
        }
        }
        dst += g->n;
    }
}

/*
 * Append a RecordBatch (dict_id < 0) or DictionaryBatch message for the
 * plan's nodes and buffers and `length` rows.
 */
static void emit_batch(md_ipc_writer *w, const plan *pl, int64_t length, int64_t dict_id, md_buf *out) {
    size_t n_nodes = pl->n_nodes, n_bufs = pl->n_bufs;
    int64_t body = 0;
    for (size_t i = 0; i < n_bufs; i++) body += (pl->bufs[i].len + 7) & ~(int64_t)7;

    md_fb_builder *b = &w->fb;
    md_fb_reset(b);
    uint32_t hslot = write_message(b, dict_id < 0 ? HDR_RECORD_BATCH : HDR_DICTIONARY, body);
    uint32_t rb_slot = hslot;
    if (dict_id >= 0) {
        md_fb_table_writer d;
        md_fb_table_begin(&d, b);
        md_fb_table_scalar(&d, 0, 8, (uint64_t)dict_id);
        md_fb_table_ref(&d, 1);
        md_fb_table_scalar(&d, 2, 1, 0);
        md_fb_patch(b, hslot, md_fb_table_end(&d));
        rb_slot = d.slot[1];
    }
    md_fb_table_writer t;
    md_fb_table_begin(&t, b);
    md_fb_table_scalar(&t, 0, 8, (uint64_t)length);
    md_fb_table_ref(&t, 1);
    md_fb_table_ref(&t, 2);
    if (pl->n_variadic) md_fb_table_ref(&t, 4);
    md_fb_patch(b, rb_slot, md_fb_table_end(&t));
    if (pl->n_variadic) {
        uint32_t vv = md_fb_vector(b, 8, 8, (uint32_t)pl->n_variadic);
        md_fb_patch(b, t.slot[4], vv - 4);
        for (size_t i = 0; i < pl->n_variadic; i++)
            md_fb_put64(b, vv + 8 * (uint32_t)i, (uint64_t)pl->variadic[i]);
    }
    uint32_t nv = md_fb_vector(b, 16, 8, (uint32_t)n_nodes);
    md_fb_patch(b, t.slot[1], nv - 4);
    for (size_t i = 0; i < n_nodes; i++) {
        md_fb_put64(b, nv + 16 * (uint32_t)i, (uint64_t)pl->nodes[i].length);
        md_fb_put64(b, nv + 16 * (uint32_t)i + 8, (uint64_t)pl->nodes[i].null_count);
    }
    uint32_t bv = md_fb_vector(b, 16, 8, (uint32_t)n_bufs);
    md_fb_patch(b, t.slot[2], bv - 4);
    int64_t off = 0;
    for (size_t i = 0; i < n_bufs; i++) {
        int64_t len = pl->bufs[i].len;
        md_fb_put64(b, bv + 16 * (uint32_t)i, (uint64_t)off);
        md_fb_put64(b, bv + 16 * (uint32_t)i + 8, (uint64_t)len);
        off += (len + 7) & ~(int64_t)7;
    }

    emit_metadata(out, b, body);
    uint8_t *dst = out->data + out->len;
    for (size_t i = 0; i < n_bufs; i++) {
        const pbuf *pb = &pl->bufs[i];
        int64_t padded = (pb->len + 7) & ~(int64_t)7;
        emit_buf(dst, pl, pb);
        memset(dst + pb->len, 0, (size_t)(padded - pb->len));
        dst += padded;
    }
    out->len += (size_t)body;
}

/*
 * Write the dictionary batch for id f->dict_id from values array `a` (and,
 * first, any dictionaries nested in its values) unless it equals the last one
 * written for that id.
 */
static int write_dictionary(md_ipc_writer *w, const fld *f, const struct ArrowArray *a, md_buf *out,
                            int depth, char **err) {
    if (depth > 64) return fail(err, MD_EUNSUPPORTED, "dictionaries nested too deeply");
    if (!w->dict_pl) w->dict_pl = md_calloc(65, sizeof *w->dict_pl);
    plan *pl = &w->dict_pl[depth];
    pctx c = {f->name, 1, err};
    int rc = plan_one(pl, f, a, true, &c);
    for (size_t i = 0; rc == MD_OK && i < pl->n_dicts; i++)
        rc = write_dictionary(w, pl->dicts[i].f, pl->dicts[i].a, out, depth + 1, err);
    if (rc == MD_OK) {
        w->scratch.len = 0;
        emit_batch(w, pl, a->length, f->dict_id, &w->scratch);
        wdict *d = &w->dicts[f->dict_id];
        if (d->last.len != w->scratch.len || memcmp(d->last.data, w->scratch.data, w->scratch.len)) {
            md_buf_append(out, w->scratch.data, w->scratch.len);
            md_buf tmp = d->last;
            d->last = w->scratch;
            w->scratch = tmp;
        }
    }
    return rc;
}

int md_ipc_write_batches(md_ipc_writer *w, const struct ArrowArray *const *batches, size_t n,
                         md_buf *out, char **out_err) {
    if (n == 0) return MD_OK;
    if (!batches) return fail(out_err, MD_EINVAL, "the list of batches is NULL");
    int64_t rows = 0;
    char who[48]; /* names the batch in messages */
    for (size_t j = 0; j < n; j++) {
        const struct ArrowArray *b = batches[j];
        if (!b || !b->release || b->n_children != (int64_t)w->root.n_children ||
            (b->n_children && !b->children) || b->length < 0 || b->offset < 0) {
            if (n > 1) snprintf(who, sizeof who, "batch %zu", j);
            else snprintf(who, sizeof who, "the batch");
            if (!b || !b->release) return fail(out_err, MD_EINVAL, "%s is NULL or released", who);
            if (b->length < 0 || b->offset < 0)
                return fail(out_err, MD_EINVAL, "%s has a negative length or offset", who);
            return fail(out_err, MD_EINVAL, "%s has %lld columns, the schema %u", who,
                        (long long)b->n_children, w->root.n_children);
        }
        if (b->length > MAX_LENGTH - rows)
            return fail(out_err, MD_EINVAL, "the batches hold more than %d rows: write fewer at once",
                        MAX_LENGTH);
        rows += b->length;
    }
    plan *pl = &w->pl;
    plan_reset(pl);
    for (uint32_t i = 0; i < w->root.n_children; i++) {
        const fld *f = &w->root.children[i];
        pctx c = {f->name, n, out_err};
        size_t s0 = plan_slices(pl, n);
        for (size_t j = 0; j < n; j++) {
            const struct ArrowArray *b = batches[j], *col = b->children[i];
            if (!col || col->offset < 0 || col->length < b->offset + b->length)
                return pfail(&c, j, MD_EINVAL, "the column is shorter than the batch");
            pl->sl[s0 + j] = (slice){col, col->offset + b->offset, b->length, 0, 0, 0};
        }
        int rc = plan_field(pl, f, s0, false, &c);
        pl->n_sl = s0;
        if (rc < 0) return rc;
    }
    size_t start_len = out->len;
    for (size_t i = 0; i < pl->n_dicts; i++) {
        int rc = write_dictionary(w, pl->dicts[i].f, pl->dicts[i].a, out, 1, out_err);
        if (rc < 0) {
            /* roll back: what was appended is gone, so every dictionary must be sent again */
            out->len = start_len;
            for (int64_t k = 0; k < w->n_dicts; k++) w->dicts[k].last.len = 0;
            return rc;
        }
    }
    emit_batch(w, pl, rows, -1, out);
    return MD_OK;
}

int md_ipc_write_batch(md_ipc_writer *w, const struct ArrowArray *batch, md_buf *out, char **out_err) {
    return md_ipc_write_batches(w, &batch, 1, out, out_err);
}

/* ======================================================================== */
/* ---- reader ------------------------------------------------------------- */
/* ======================================================================== */

/* A reference-counted copy of one message body; arrays point into data. */
typedef struct blk {
    long refs;
    uint8_t *data;
} blk;

static blk *blk_ref(blk *b) {
    if (b) __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
    return b;
}

static void blk_unref(blk *b) {
    if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        md_free(b->data);
        md_free(b);
    }
}

/* Private data of every ArrowArray node the reader builds (one allocation). */
typedef struct anode {
    blk *blk;
    struct ArrowArray dict;
    const void **bufs;              /* these two point into the same allocation */
    struct ArrowArray **child_ptrs;
    struct ArrowArray children[];
} anode;

static const uint64_t zeros[4]; /* backing for empty non-validity buffers */

static void release_array(struct ArrowArray *a) {
    anode *nd = a->private_data;
    for (int64_t i = 0; i < a->n_children; i++)
        if (a->children[i]->release) a->children[i]->release(a->children[i]);
    if (a->dictionary && a->dictionary->release) a->dictionary->release(a->dictionary);
    blk_unref(nd->blk);
    md_free(nd);
    a->release = NULL;
}

/* Allocate a node with n children and nb buffers; NULL on OOM.  The caller fills it in. */
static anode *alloc_node(struct ArrowArray *out, uint32_t n, int64_t nb, blk *b) {
    size_t sz = sizeof(anode) + (size_t)n * (sizeof(struct ArrowArray) + sizeof(void *)) +
                (size_t)nb * sizeof(void *);
    anode *nd = md_trymalloc(sz);
    if (!nd) return NULL;
    memset(nd, 0, sz);
    nd->child_ptrs = (struct ArrowArray **)(void *)(nd->children + n);
    nd->bufs = (const void **)(void *)(nd->child_ptrs + n);
    for (uint32_t i = 0; i < n; i++) nd->child_ptrs[i] = &nd->children[i];
    nd->blk = blk_ref(b);
    memset(out, 0, sizeof *out);
    out->n_children = n;
    out->children = n ? nd->child_ptrs : NULL;
    out->n_buffers = nb;
    out->buffers = nd->bufs;
    out->private_data = nd;
    out->release = release_array;
    return nd;
}

/* An array of n_children, used while building: a failed build releases what was built. */
static void release_partial(struct ArrowArray *a) {
    if (a->release) a->release(a);
}

/* Clone the tree of `src` (built by this reader): new nodes, shared blocks. */
static int clone_array(const struct ArrowArray *src, struct ArrowArray *out) {
    const anode *sn = src->private_data;
    anode *nd = alloc_node(out, (uint32_t)src->n_children, src->n_buffers, sn->blk);
    if (!nd) return MD_ENOMEM;
    out->length = src->length;
    out->null_count = src->null_count;
    out->offset = src->offset;
    for (int64_t i = 0; i < src->n_buffers; i++) nd->bufs[i] = src->buffers[i];
    out->n_children = 0; /* grows as children succeed, so a failure releases only those */
    for (int64_t i = 0; i < src->n_children; i++) {
        if (clone_array(src->children[i], &nd->children[i]) < 0) {
            out->release(out);
            return MD_ENOMEM;
        }
        out->n_children++;
    }
    if (src->dictionary) {
        if (clone_array(src->dictionary, &nd->dict) < 0) {
            out->release(out);
            return MD_ENOMEM;
        }
        out->dictionary = &nd->dict;
    }
    return MD_OK;
}

/* An empty (length 0) array of type f (dictionary indices when dictionary-encoded). */
static int empty_array(const fld *f, bool ignore_dict, struct ArrowArray *out) {
    bool dict = f->has_dict && !ignore_dict;
    uint32_t n = dict ? 0 : f->n_children;
    anode *nd = alloc_node(out, n, c_buffer_count(f, ignore_dict), NULL);
    if (!nd) return MD_ENOMEM;
    for (int64_t i = 0; i < out->n_buffers; i++) nd->bufs[i] = zeros;
    if (!dict && f->ty != TY_UNION && out->n_buffers) nd->bufs[0] = NULL;
    out->n_children = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (empty_array(&f->children[i], false, &nd->children[i]) < 0) {
            out->release(out);
            return MD_ENOMEM;
        }
        out->n_children++;
    }
    if (dict) {
        if (empty_array(f, true, &nd->dict) < 0) {
            out->release(out);
            return MD_ENOMEM;
        }
        out->dictionary = &nd->dict;
    }
    return MD_OK;
}

/* ---- reader state --------------------------------------------------------- */

typedef struct rdict {
    int64_t id;
    const fld *f;           /* the field that declares it (value type) */
    struct ArrowArray vals; /* current dictionary; vals.release == NULL until defined */
} rdict;

enum { ST_EXPECT_SCHEMA, ST_STREAMING, ST_DONE };

struct md_ipc_reader {
    int max_depth;
    int state;
    int v4; /* the schema message was V4: unions carry a validity buffer */
    fld root;
    char *schema_meta;
    size_t schema_meta_len;
    rdict *dicts;
    uint32_t n_dicts, cap_dicts;
    uint64_t field_budget;
};

md_ipc_reader *md_ipc_reader_create(int max_depth) {
    md_ipc_reader *r = md_calloc(1, sizeof *r);
    r->max_depth = max_depth > 0 ? max_depth : 64;
    return r;
}

void md_ipc_reader_destroy(md_ipc_reader **pr) {
    md_ipc_reader *r = *pr;
    if (!r) return;
    for (uint32_t i = 0; i < r->n_dicts; i++)
        if (r->dicts[i].vals.release) r->dicts[i].vals.release(&r->dicts[i].vals);
    md_free(r->dicts);
    fld_clear(&r->root);
    md_free(r->schema_meta);
    md_free(r);
    *pr = NULL;
}

static rdict *find_dict(md_ipc_reader *r, int64_t id) {
    for (uint32_t i = 0; i < r->n_dicts; i++)
        if (r->dicts[i].id == id) return &r->dicts[i];
    return NULL;
}

/* ---- reader: schema ------------------------------------------------------- */

/* Build a metadata blob from a [KeyValue] vector. */
static int read_kv(const md_fb_vec *v, char **out, size_t *out_len) {
    size_t total = 4;
    for (uint32_t i = 0; i < v->n; i++) {
        md_fb_table kv;
        const char *s;
        uint32_t n;
        if (md_fb_vec_table(v, i, &kv) < 0) return MD_EBAD_FRAME;
        for (unsigned id = 0; id < 2; id++) {
            int rc = md_fb_string_field(&kv, id, &s, &n);
            if (rc < 0) return MD_EBAD_FRAME;
            total += 4 + (rc ? n : 0);
        }
    }
    if (total > INT32_MAX) return MD_EBAD_FRAME;
    char *m = md_trymalloc(total);
    if (!m) return MD_ENOMEM;
    int32_t cnt = (int32_t)v->n;
    memcpy(m, &cnt, 4);
    size_t pos = 4;
    for (uint32_t i = 0; i < v->n; i++) {
        md_fb_table kv;
        md_fb_vec_table(v, i, &kv);
        for (unsigned id = 0; id < 2; id++) {
            const char *s = "";
            uint32_t n = 0;
            md_fb_string_field(&kv, id, &s, &n);
            int32_t len = (int32_t)n;
            memcpy(m + pos, &len, 4);
            memcpy(m + pos + 4, s, n);
            pos += 4 + n;
        }
    }
    *out = m;
    *out_len = total;
    return MD_OK;
}

/* Copy a flatbuffer string that will be a C string: MD_EBAD_FRAME if it holds a NUL. */
static int dup_checked(const char *s, uint32_t n, char **out) {
    if (memchr(s, 0, n)) return MD_EBAD_FRAME;
    char *d = md_trymalloc((size_t)n + 1);
    if (!d) return MD_ENOMEM;
    memcpy(d, s, n);
    d[n] = 0;
    *out = d;
    return MD_OK;
}

/* Parse the type table of a Field into f (children already parsed). */
static int read_type(uint8_t tag, const md_fb_table *tt, fld *f, const char *where, char **err) {
    int16_t u16v;
    int32_t w;
    uint8_t u8v;
#define CK(x)                                                                            \
    do {                                                                                 \
        if ((x) < 0) return fail(err, MD_EBAD_FRAME, "%s: malformed type table", where); \
    } while (0)
#define NCHILD(cond)                                                                      \
    do {                                                                                  \
        if (!(cond))                                                                      \
            return fail(err, MD_EBAD_FRAME, "%s: wrong number of children (%u) for its type", \
                        where, f->n_children);                                            \
    } while (0)
    switch (tag) {
    case FB_NULL: f->ty = TY_NULL; NCHILD(f->n_children == 0); return MD_OK;
    case FB_BOOL: f->ty = TY_BOOL; NCHILD(f->n_children == 0); return MD_OK;
    case FB_BINARY: f->ty = TY_BINARY; NCHILD(f->n_children == 0); return MD_OK;
    case FB_UTF8: f->ty = TY_UTF8; NCHILD(f->n_children == 0); return MD_OK;
    case FB_LBINARY: f->ty = TY_LBINARY; NCHILD(f->n_children == 0); return MD_OK;
    case FB_LUTF8: f->ty = TY_LUTF8; NCHILD(f->n_children == 0); return MD_OK;
    case FB_INT:
        CK(md_fb_i32(tt, 0, 0, &w));
        CK(md_fb_u8(tt, 1, 0, &u8v));
        if (w != 8 && w != 16 && w != 32 && w != 64)
            return fail(err, MD_EBAD_FRAME, "%s: integer bit width %d", where, w);
        f->ty = TY_INT;
        f->width = w;
        f->is_signed = u8v != 0;
        NCHILD(f->n_children == 0);
        return MD_OK;
    case FB_FLOAT:
        CK(md_fb_i16(tt, 0, 0, &u16v));
        if (u16v < 0 || u16v > 2) return fail(err, MD_EBAD_FRAME, "%s: float precision %d", where, u16v);
        f->ty = TY_FLOAT;
        f->unit = (uint8_t)u16v;
        NCHILD(f->n_children == 0);
        return MD_OK;
    case FB_DECIMAL:
        CK(md_fb_i32(tt, 0, 0, &f->precision));
        CK(md_fb_i32(tt, 1, 0, &f->scale));
        CK(md_fb_i32(tt, 2, 128, &w));
        if (w != 32 && w != 64 && w != 128 && w != 256)
            return fail(err, MD_EBAD_FRAME, "%s: decimal bit width %d", where, w);
        if (f->precision < 1 || f->precision > 76 || f->scale < -1000 || f->scale > 1000)
            return fail(err, MD_EBAD_FRAME, "%s: decimal precision %d / scale %d", where,
                        f->precision, f->scale);
        f->ty = TY_DECIMAL;
        f->width = w;
        NCHILD(f->n_children == 0);
        return MD_OK;
    case FB_FSB:
        CK(md_fb_i32(tt, 0, 0, &w));
        if (w < 0) return fail(err, MD_EBAD_FRAME, "%s: byte width %d", where, w);
        f->ty = TY_FSB;
        f->width = w;
        NCHILD(f->n_children == 0);
        return MD_OK;
    case FB_DATE:
        CK(md_fb_i16(tt, 0, 1, &u16v));
        if (u16v < 0 || u16v > 1) return fail(err, MD_EBAD_FRAME, "%s: date unit %d", where, u16v);
        f->ty = TY_DATE;
        f->unit = (uint8_t)u16v;
        NCHILD(f->n_children == 0);
        return MD_OK;
    case FB_TIME:
        CK(md_fb_i16(tt, 0, 1, &u16v));
        CK(md_fb_i32(tt, 1, 32, &w));
        if (u16v < 0 || u16v > 3 || w != (u16v < 2 ? 32 : 64))
            return fail(err, MD_EBAD_FRAME, "%s: time unit %d with bit width %d", where, u16v, w);
        f->ty = TY_TIME;
        f->unit = (uint8_t)u16v;
        f->width = w;
        NCHILD(f->n_children == 0);
        return MD_OK;
    case FB_TIMESTAMP: {
        CK(md_fb_i16(tt, 0, 0, &u16v));
        if (u16v < 0 || u16v > 3) return fail(err, MD_EBAD_FRAME, "%s: timestamp unit %d", where, u16v);
        f->ty = TY_TIMESTAMP;
        f->unit = (uint8_t)u16v;
        const char *s;
        uint32_t n;
        int rc = md_fb_string_field(tt, 1, &s, &n);
        CK(rc);
        if (rc && n > 0 && (rc = dup_checked(s, n, &f->tz)) < 0)
            return fail(err, rc, "%s: %s in the time zone string", where,
                        rc == MD_ENOMEM ? "out of memory" : "NUL byte");
        NCHILD(f->n_children == 0);
        return MD_OK;
    }
    case FB_INTERVAL:
        CK(md_fb_i16(tt, 0, 0, &u16v));
        if (u16v < 0 || u16v > 2) return fail(err, MD_EBAD_FRAME, "%s: interval unit %d", where, u16v);
        f->ty = TY_INTERVAL;
        f->unit = (uint8_t)u16v;
        NCHILD(f->n_children == 0);
        return MD_OK;
    case FB_DURATION:
        CK(md_fb_i16(tt, 0, 1, &u16v));
        if (u16v < 0 || u16v > 3) return fail(err, MD_EBAD_FRAME, "%s: duration unit %d", where, u16v);
        f->ty = TY_DURATION;
        f->unit = (uint8_t)u16v;
        NCHILD(f->n_children == 0);
        return MD_OK;
    case FB_LIST: f->ty = TY_LIST; NCHILD(f->n_children == 1); return MD_OK;
    case FB_LLIST: f->ty = TY_LLIST; NCHILD(f->n_children == 1); return MD_OK;
    case FB_STRUCT: f->ty = TY_STRUCT; return MD_OK;
    case FB_FSL:
        CK(md_fb_i32(tt, 0, 0, &w));
        if (w < 0) return fail(err, MD_EBAD_FRAME, "%s: list size %d", where, w);
        f->ty = TY_FSL;
        f->width = w;
        NCHILD(f->n_children == 1);
        return MD_OK;
    case FB_MAP:
        CK(md_fb_u8(tt, 0, 0, &u8v));
        f->ty = TY_MAP;
        f->keys_sorted = u8v != 0;
        NCHILD(f->n_children == 1);
        if (f->children[0].ty != TY_STRUCT || f->children[0].n_children != 2 || f->children[0].has_dict)
            return fail(err, MD_EBAD_FRAME, "%s: map entries must be a struct of key and value", where);
        return MD_OK;
    case FB_UNION: {
        CK(md_fb_i16(tt, 0, 0, &u16v));
        if (u16v < 0 || u16v > 1) return fail(err, MD_EBAD_FRAME, "%s: union mode %d", where, u16v);
        if (f->n_children > 128) return fail(err, MD_EBAD_FRAME, "%s: union of more than 128 types", where);
        f->ty = TY_UNION;
        f->dense = (uint8_t)u16v;
        f->type_ids = md_trymalloc((f->n_children ? f->n_children : 1) * sizeof(int32_t));
        if (!f->type_ids) return fail(err, MD_ENOMEM, "%s: out of memory", where);
        md_fb_vec ids;
        int rc = md_fb_vector_field(tt, 1, 4, &ids);
        CK(rc);
        if (rc && ids.n != f->n_children)
            return fail(err, MD_EBAD_FRAME, "%s: %u union type ids for %u children", where, ids.n,
                        f->n_children);
        uint8_t seen[128] = {0};
        for (uint32_t i = 0; i < f->n_children; i++) {
            int32_t id = rc ? (int32_t)md_get_u32le(md_fb_vec_at(&ids, i)) : (int32_t)i;
            if (id < 0 || id > 127 || seen[id])
                return fail(err, MD_EBAD_FRAME, "%s: bad or repeated union type id %d", where, id);
            seen[id] = 1;
            f->type_ids[i] = id;
        }
        return MD_OK;
    }
    case FB_BINARY_VIEW: f->ty = TY_BINARY_VIEW; NCHILD(f->n_children == 0); return MD_OK;
    case FB_UTF8_VIEW: f->ty = TY_UTF8_VIEW; NCHILD(f->n_children == 0); return MD_OK;
    case 22: case 25: case 26:
        return fail(err, MD_EUNSUPPORTED,
                    "%s: run-end encoded and list-view types are not supported (type %u)", where, tag);
    default:
        return fail(err, MD_EBAD_FRAME, "%s: unknown type tag %u", where, tag);
    }
#undef CK
#undef NCHILD
}

static int read_field(md_ipc_reader *r, const md_fb_table *ft, fld *f, int depth, const char *col,
                      char **err) {
    const char *s;
    uint32_t n;
    int rc;
    if (depth > r->max_depth)
        return fail(err, MD_EBAD_FRAME, "schema: column '%s' nests deeper than %d levels", col, r->max_depth);
    if (r->field_budget == 0)
        return fail(err, MD_EBAD_FRAME, "schema: too many fields for the size of the message");
    r->field_budget--;
    if ((rc = md_fb_string_field(ft, 0, &s, &n)) < 0)
        return fail(err, MD_EBAD_FRAME, "schema: column '%s': malformed field name", col);
    if (!rc) s = "", n = 0;
    if ((rc = dup_checked(s, n, &f->name)) < 0)
        return fail(err, rc, "schema: column '%s': %s in a field name", col,
                    rc == MD_ENOMEM ? "out of memory" : "NUL byte");
    if (depth == 1) col = f->name;
    char where[160];
    snprintf(where, sizeof where, "schema: column '%.60s', field '%.60s'", col, f->name);

    uint8_t u8v, tag;
    if (md_fb_u8(ft, 1, 0, &u8v) < 0 || md_fb_u8(ft, 2, 0, &tag) < 0)
        return fail(err, MD_EBAD_FRAME, "%s: malformed field table", where);
    f->nullable = u8v != 0;

    md_fb_table dt;
    rc = md_fb_table_field(ft, 4, &dt);
    if (rc < 0) return fail(err, MD_EBAD_FRAME, "%s: malformed dictionary encoding", where);
    if (rc) {
        int64_t id;
        uint8_t ordered;
        if (md_fb_i64(&dt, 0, 0, &id) < 0 || md_fb_u8(&dt, 2, 0, &ordered) < 0)
            return fail(err, MD_EBAD_FRAME, "%s: malformed dictionary encoding", where);
        f->has_dict = 1;
        f->dict_id = id;
        f->dict_ordered = ordered != 0;
        f->idx_bits = 32;
        f->idx_signed = 1;
        md_fb_table it;
        rc = md_fb_table_field(&dt, 1, &it);
        if (rc < 0) return fail(err, MD_EBAD_FRAME, "%s: malformed dictionary index type", where);
        if (rc) {
            int32_t w;
            if (md_fb_i32(&it, 0, 0, &w) < 0 || md_fb_u8(&it, 1, 0, &u8v) < 0 ||
                (w != 8 && w != 16 && w != 32 && w != 64))
                return fail(err, MD_EBAD_FRAME, "%s: bad dictionary index type", where);
            f->idx_bits = (uint8_t)w;
            f->idx_signed = u8v != 0;
        }
        if (find_dict(r, id))
            return fail(err, MD_EUNSUPPORTED, "%s: dictionary id %lld is used by more than one field",
                        where, (long long)id);
        if (r->n_dicts == r->cap_dicts) {
            uint32_t cap = r->cap_dicts ? 2 * r->cap_dicts : 8;
            rdict *d = md_tryrealloc(r->dicts, cap * sizeof *d);
            if (!d) return fail(err, MD_ENOMEM, "%s: out of memory", where);
            r->dicts = d;
            r->cap_dicts = cap;
        }
        memset(&r->dicts[r->n_dicts], 0, sizeof(rdict));
        r->dicts[r->n_dicts].id = id;
        r->dicts[r->n_dicts].f = f;
        r->n_dicts++;
        depth++; /* dictionary values count as one more level */
    }

    md_fb_vec kids;
    rc = md_fb_vector_field(ft, 5, 4, &kids);
    if (rc < 0) return fail(err, MD_EBAD_FRAME, "%s: malformed children vector", where);
    if (rc && kids.n) {
        if (kids.n > r->field_budget)
            return fail(err, MD_EBAD_FRAME, "%s: too many children (%u)", where, kids.n);
        f->children = md_trymalloc(kids.n * sizeof(fld));
        if (!f->children) return fail(err, MD_ENOMEM, "%s: out of memory", where);
        memset(f->children, 0, kids.n * sizeof(fld));
        f->n_children = kids.n;
        for (uint32_t i = 0; i < kids.n; i++) {
            md_fb_table ct;
            if (md_fb_vec_table(&kids, i, &ct) < 0)
                return fail(err, MD_EBAD_FRAME, "%s: malformed child %u", where, i);
            rc = read_field(r, &ct, &f->children[i], depth + 1, col, err);
            if (rc < 0) return rc;
        }
    }

    md_fb_vec kv;
    rc = md_fb_vector_field(ft, 6, 4, &kv);
    if (rc < 0) return fail(err, MD_EBAD_FRAME, "%s: malformed custom_metadata", where);
    if (rc && kv.n) {
        rc = read_kv(&kv, &f->meta, &f->meta_len);
        if (rc < 0) return fail(err, rc, "%s: malformed custom_metadata", where);
    }

    md_fb_table tt;
    rc = md_fb_table_field(ft, 3, &tt);
    if (rc <= 0) return fail(err, MD_EBAD_FRAME, "%s: missing or malformed type", where);
    return read_type(tag, &tt, f, where, err);
}

static int read_schema(md_ipc_reader *r, const md_fb_table *st, uint32_t msize, char **err) {
    int16_t endian;
    if (md_fb_i16(st, 0, 0, &endian) < 0) return fail(err, MD_EBAD_FRAME, "schema: malformed table");
    if (endian != 0)
        return fail(err, MD_EUNSUPPORTED, "schema: big-endian streams are not supported");
    r->field_budget = msize / 4;
    r->root.ty = TY_STRUCT;
    r->root.name = md_strdup("");
    md_fb_vec fields;
    int rc = md_fb_vector_field(st, 1, 4, &fields);
    if (rc < 0) return fail(err, MD_EBAD_FRAME, "schema: malformed fields vector");
    if (rc && fields.n) {
        if (fields.n > r->field_budget) return fail(err, MD_EBAD_FRAME, "schema: too many fields");
        r->root.children = md_trymalloc(fields.n * sizeof(fld));
        if (!r->root.children) return fail(err, MD_ENOMEM, "schema: out of memory");
        memset(r->root.children, 0, fields.n * sizeof(fld));
        r->root.n_children = fields.n;
        for (uint32_t i = 0; i < fields.n; i++) {
            md_fb_table ft;
            if (md_fb_vec_table(&fields, i, &ft) < 0)
                return fail(err, MD_EBAD_FRAME, "schema: malformed field %u", i);
            char col[24];
            snprintf(col, sizeof col, "#%u", i);
            rc = read_field(r, &ft, &r->root.children[i], 1, col, err);
            if (rc < 0) return rc;
        }
    }
    md_fb_vec kv;
    rc = md_fb_vector_field(st, 2, 4, &kv);
    if (rc < 0) return fail(err, MD_EBAD_FRAME, "schema: malformed custom_metadata");
    if (rc && kv.n) {
        rc = read_kv(&kv, &r->schema_meta, &r->schema_meta_len);
        if (rc < 0) return fail(err, rc, "schema: malformed custom_metadata");
    }
    return MD_OK;
}

/* ---- reader: schema export ------------------------------------------------- */

typedef struct snode {
    char *format, *name, *meta;
    struct ArrowSchema dict;
    struct ArrowSchema **child_ptrs;
    struct ArrowSchema children[];
} snode;

static void release_schema(struct ArrowSchema *s) {
    snode *nd = s->private_data;
    for (int64_t i = 0; i < s->n_children; i++)
        if (s->children[i]->release) s->children[i]->release(s->children[i]);
    if (s->dictionary && s->dictionary->release) s->dictionary->release(s->dictionary);
    md_free(nd->format);
    md_free(nd->name);
    md_free(nd->meta);
    md_free(nd);
    s->release = NULL;
}

static void export_schema(const fld *f, bool ignore_dict, struct ArrowSchema *out) {
    bool dict = f->has_dict && !ignore_dict;
    uint32_t n = dict ? 0 : f->n_children;
    size_t sz = sizeof(snode) + n * (sizeof(struct ArrowSchema) + sizeof(void *));
    snode *nd = md_calloc(1, sz);
    nd->child_ptrs = (struct ArrowSchema **)(void *)(nd->children + n);
    memset(out, 0, sizeof *out);
    if (dict) {
        static const char codes[] = "cCsSiIlL";
        int k = (f->idx_bits == 8 ? 0 : f->idx_bits == 16 ? 2 : f->idx_bits == 32 ? 4 : 6) + !f->idx_signed;
        nd->format = md_strndup(&codes[k], 1);
        export_schema(f, true, &nd->dict);
        out->dictionary = &nd->dict;
        if (f->dict_ordered) out->flags |= ARROW_FLAG_DICTIONARY_ORDERED;
    } else {
        nd->format = format_of(f);
    }
    if (!ignore_dict) {
        nd->name = md_strdup(f->name);
        if (f->meta) {
            nd->meta = md_malloc(f->meta_len);
            memcpy(nd->meta, f->meta, f->meta_len);
        }
    } else {
        nd->name = md_strdup("");
    }
    if (f->nullable || ignore_dict) out->flags |= ARROW_FLAG_NULLABLE;
    if (!dict && f->ty == TY_MAP && f->keys_sorted) out->flags |= ARROW_FLAG_MAP_KEYS_SORTED;
    for (uint32_t i = 0; i < n; i++) {
        nd->child_ptrs[i] = &nd->children[i];
        export_schema(&f->children[i], false, &nd->children[i]);
    }
    out->format = nd->format;
    out->name = nd->name;
    out->metadata = nd->meta;
    out->n_children = n;
    out->children = n ? nd->child_ptrs : NULL;
    out->private_data = nd;
    out->release = release_schema;
}

int md_ipc_reader_schema(md_ipc_reader *r, struct ArrowSchema *out) {
    if (r->state == ST_EXPECT_SCHEMA) return MD_EINVAL;
    export_schema(&r->root, false, out);
    /* the root is the record batch itself: format "+s", no name, not nullable */
    snode *nd = out->private_data;
    if (r->schema_meta) {
        nd->meta = md_malloc(r->schema_meta_len);
        memcpy(nd->meta, r->schema_meta, r->schema_meta_len);
        out->metadata = nd->meta;
    }
    out->flags = 0;
    return MD_OK;
}

/* ---- reader: record batches ------------------------------------------------- */

/* Where one node's C data buffers lie in the body (-1: NULL, -2: static zeros). */
typedef struct rnode {
    int64_t length, null_count;
    int64_t off[3];
    uint32_t var_first, var_count; /* views: their data buffers in rctx.vb */
} rnode;

typedef struct rctx {
    md_ipc_reader *r;
    const uint8_t *body;
    int64_t body_len;
    md_fb_vec nodes, bufs;
    uint32_t node_i, buf_i;
    rnode *rn;
    uint32_t n_rn, cap_rn;
    md_fb_vec variadic; /* variadicBufferCounts */
    uint32_t var_i;
    int64_t (*vb)[2];   /* offset and length of every view data buffer */
    uint32_t n_vb;
    int64_t sizes_base; /* where view size arrays start in the copied block */
    int64_t zeros_len;  /* the longest data buffer an all-null column left out */
    int64_t zeros_base; /* where the zeros standing in for it start in the copied block */
    const char *what; /* "record batch" or "dictionary batch" */
    const char *col;
    char **err;
} rctx;

static int rfail(rctx *c, const fld *f, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int rfail(rctx *c, const fld *f, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail(c->err, MD_EBAD_FRAME, "%s: column '%.60s', field '%.60s': %s", c->what, c->col,
                f->name, msg);
}

/* Take the next Buffer: its offset and length inside the body, checked. */
static int next_buf(rctx *c, const fld *f, int64_t *off, int64_t *len) {
    if (c->buf_i >= c->bufs.n) return rfail(c, f, "the message lists too few buffers (%u)", c->bufs.n);
    const uint8_t *p = md_fb_vec_at(&c->bufs, c->buf_i);
    int64_t o = (int64_t)md_get_u64le(p), l = (int64_t)md_get_u64le(p + 8);
    if (o < 0 || l < 0 || o > c->body_len || l > c->body_len - o)
        return rfail(c, f, "buffer %u (offset %lld, length %lld) lies outside the %lld-byte body",
                     c->buf_i, (long long)o, (long long)l, (long long)c->body_len);
    if (l > 0 && (o & 7))
        return rfail(c, f, "buffer %u starts at offset %lld, which is not 8-byte aligned", c->buf_i,
                     (long long)o);
    c->buf_i++;
    *off = o;
    *len = l;
    return MD_OK;
}

static int utf8_valid(const uint8_t *s, int64_t n) {
    int64_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            if (!(v & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        uint8_t b = s[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        int need;
        uint8_t lo = 0x80, hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) need = 1;
        else if (b == 0xE0) { need = 2; lo = 0xA0; }
        else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) need = 2;
        else if (b == 0xED) { need = 2; hi = 0x9F; }
        else if (b == 0xF0) { need = 3; lo = 0x90; }
        else if (b >= 0xF1 && b <= 0xF3) need = 3;
        else if (b == 0xF4) { need = 3; hi = 0x8F; }
        else return 0;
        if (n - i <= need) return 0;
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (int k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80) return 0;
        i += need + 1;
    }
    return 1;
}

/* Check the validity buffer; records it (or NULL) as C buffer 0. */
static int check_validity(rctx *c, const fld *f, rnode *rn) {
    int64_t off, len;
    int rc = next_buf(c, f, &off, &len);
    if (rc < 0) return rc;
    rn->off[0] = -1;
    if (rn->null_count == 0) return MD_OK;
    int64_t need = (rn->length + 7) / 8;
    if (len < need)
        return rfail(c, f, "validity buffer has %lld bytes, %lld rows need %lld", (long long)len,
                     (long long)rn->length, (long long)need);
    int64_t valid = count_set(c->body + off, 0, rn->length);
    if (rn->length - valid != rn->null_count)
        return rfail(c, f, "null_count is %lld but the validity bitmap has %lld nulls",
                     (long long)rn->null_count, (long long)(rn->length - valid));
    rn->off[0] = off;
    return MD_OK;
}

/* Accept buffer (off, len) as C buffer `slot` if it holds at least `need` bytes. */
static int accept_data(rctx *c, const fld *f, rnode *rn, int slot, int64_t off, int64_t len, int64_t need,
                       const char *what) {
    if (len < need)
        return rfail(c, f, "%s buffer has %lld bytes, %lld rows need %lld", what, (long long)len,
                     (long long)rn->length, (long long)need);
    rn->off[slot] = need == 0 ? -2 : off;
    return MD_OK;
}

/* Check a data buffer of at least `need` bytes; records it as C buffer `slot`. */
static int check_data(rctx *c, const fld *f, rnode *rn, int slot, int64_t need, const char *what) {
    int64_t off, len;
    int rc = next_buf(c, f, &off, &len);
    return rc < 0 ? rc : accept_data(c, f, rn, slot, off, len, need, what);
}

/* Check the values buffer of a fixed-width or boolean column. A column whose
 * every row is null may leave it empty (Arrow JS writes all-null booleans so):
 * zeros stand in for it (offset -3: the block's zero area). */
static int check_values(rctx *c, const fld *f, rnode *rn, int64_t need) {
    int64_t off, len;
    int rc = next_buf(c, f, &off, &len);
    if (rc < 0) return rc;
    if (len == 0 && need > 0 && rn->null_count == rn->length) {
        if (need > c->zeros_len) c->zeros_len = need;
        rn->off[1] = -3;
        return MD_OK;
    }
    return accept_data(c, f, rn, 1, off, len, need, "values");
}

/* Check an offsets buffer (length + 1 entries); its first and last offsets go out. */
static int check_offsets(rctx *c, const fld *f, rnode *rn, bool large, int64_t *out_first,
                         int64_t *out_last) {
    int64_t off, len, n = rn->length, w = large ? 8 : 4;
    int rc = next_buf(c, f, &off, &len);
    if (rc < 0) return rc;
    if (n == 0 && len < w) { /* an empty array may omit its offsets */
        rn->off[1] = -2;
        *out_first = *out_last = 0;
        return MD_OK;
    }
    if (len / w < n + 1)
        return rfail(c, f, "offsets buffer has %lld bytes, %lld rows need %lld", (long long)len,
                     (long long)n, (long long)((n + 1) * w));
    const uint8_t *p = c->body + off;
    int64_t prev = ld_off(p, 0, large);
    if (prev < 0) return rfail(c, f, "first offset %lld is negative", (long long)prev);
    for (int64_t i = 1; i <= n; i++) {
        int64_t v = ld_off(p, i, large);
        if (v < prev)
            return rfail(c, f, "offsets decrease at index %lld (%lld < %lld)", (long long)i,
                         (long long)v, (long long)prev);
        prev = v;
    }
    rn->off[1] = off;
    *out_first = ld_off(p, 0, large);
    *out_last = prev;
    return MD_OK;
}

static int check_node(rctx *c, const fld *f, bool ignore_dict, int64_t *out_len);

static int check_node(rctx *c, const fld *f, bool ignore_dict, int64_t *out_len) {
    bool dict = f->has_dict && !ignore_dict;
    if (c->node_i >= c->nodes.n) return rfail(c, f, "the message lists too few field nodes (%u)", c->nodes.n);
    const uint8_t *np = md_fb_vec_at(&c->nodes, c->node_i++);
    int64_t length = (int64_t)md_get_u64le(np), nulls = (int64_t)md_get_u64le(np + 8);
    if (length < 0 || length > MAX_LENGTH)
        return rfail(c, f, "node length %lld is out of range", (long long)length);
    /* a Null array is all nulls whatever its node says (apache-arrow JS may write -1) */
    if (!dict && f->ty == TY_NULL) nulls = length;
    if (nulls < 0 || nulls > length)
        return rfail(c, f, "null_count %lld is out of range for length %lld", (long long)nulls,
                     (long long)length);
    if (c->n_rn == c->cap_rn) return rfail(c, f, "more nodes than the schema has fields");
    uint32_t my = c->n_rn++;
    rnode *rn = &c->rn[my];
    rn->length = length;
    rn->null_count = nulls;
    rn->off[0] = rn->off[1] = rn->off[2] = -1;
    int rc;

    if (!dict && f->ty == TY_NULL) {
        *out_len = length;
        return MD_OK;
    }
    if (!dict && f->ty == TY_UNION) {
        rn->null_count = 0;
        if (c->r->v4) { /* V4 unions have a validity buffer, which we drop */
            int64_t o, l;
            if ((rc = next_buf(c, f, &o, &l)) < 0) return rc;
        }
        if ((rc = check_data(c, f, rn, 0, length, "type ids")) < 0) return rc;
        const uint8_t *types = rn->off[0] >= 0 ? c->body + rn->off[0] : NULL;
        int8_t map[128];
        memset(map, -1, sizeof map);
        for (uint32_t i = 0; i < f->n_children; i++) map[f->type_ids[i]] = (int8_t)i;
        for (int64_t i = 0; i < length; i++) {
            int8_t t = (int8_t)types[i];
            if (t < 0 || map[t] < 0)
                return rfail(c, f, "row %lld has type id %d, which the union does not declare",
                             (long long)i, t);
        }
        if (f->dense && (rc = check_data(c, f, rn, 1, 4 * length, "union offsets")) < 0) return rc;
        int64_t child_len[128];
        for (uint32_t i = 0; i < f->n_children; i++) {
            if ((rc = check_node(c, &f->children[i], false, &child_len[i])) < 0) return rc;
            rn = &c->rn[my];
            if (!f->dense && child_len[i] < length)
                return rfail(c, f, "child %u has %lld rows, the union %lld", i,
                             (long long)child_len[i], (long long)length);
        }
        if (f->dense) {
            const uint8_t *offs = rn->off[1] >= 0 ? c->body + rn->off[1] : NULL;
            for (int64_t i = 0; i < length; i++) {
                int32_t o;
                memcpy(&o, offs + 4 * i, 4);
                int64_t cl = child_len[map[(int8_t)types[i]]];
                if (o < 0 || o >= cl)
                    return rfail(c, f, "row %lld: offset %d outside its child of %lld rows",
                                 (long long)i, o, (long long)cl);
            }
        }
        *out_len = length;
        return MD_OK;
    }

    if ((rc = check_validity(c, f, rn)) < 0) return rc;
    *out_len = length;
    if (dict) {
        int64_t w = f->idx_bits / 8;
        if ((rc = check_data(c, f, rn, 1, w * length, "indices")) < 0) return rc;
        rdict *d = find_dict(c->r, f->dict_id);
        int64_t dlen = d && d->vals.release ? d->vals.length : -1;
        if (dlen < 0 && nulls != length)
            return rfail(c, f, "uses dictionary %lld before any dictionary batch defined it",
                         (long long)f->dict_id);
        const uint8_t *idx = length ? c->body + rn->off[1] : NULL;
        const uint8_t *valid = rn->off[0] >= 0 ? c->body + rn->off[0] : NULL;
        for (int64_t i = 0; i < length; i++) {
            if (valid && !bit_get(valid, i)) continue;
            int64_t k = ld_index(idx, i, f->idx_bits, f->idx_signed);
            if (k < 0 || k >= dlen)
                return rfail(c, f, "row %lld: dictionary index %lld outside the dictionary of %lld values",
                             (long long)i, (long long)k, (long long)dlen);
        }
        return MD_OK;
    }

    int64_t w = fixed_width(f);
    if (w) return check_values(c, f, rn, w * length);

    switch (f->ty) {
    case TY_BOOL:
        return check_values(c, f, rn, (length + 7) / 8);
    case TY_BINARY_VIEW: case TY_UTF8_VIEW: {
        if ((rc = check_data(c, f, rn, 1, 16 * length, "views")) < 0) return rc;
        if (c->var_i >= c->variadic.n)
            return rfail(c, f, "variadicBufferCounts has no entry for this view field");
        int64_t k = (int64_t)md_get_u64le(md_fb_vec_at(&c->variadic, c->var_i++));
        if (k < 0 || k > (int64_t)(c->bufs.n - c->buf_i))
            return rfail(c, f, "%lld data buffers, but %u buffers are left", (long long)k,
                         c->bufs.n - c->buf_i);
        rn->var_first = c->n_vb;
        rn->var_count = (uint32_t)k;
        for (int64_t j = 0; j < k; j++) {
            int64_t off, len;
            if ((rc = next_buf(c, f, &off, &len)) < 0) return rc;
            c->vb[c->n_vb][0] = off;
            c->vb[c->n_vb][1] = len;
            c->n_vb++;
        }
        const uint8_t *views = length ? c->body + rn->off[1] : NULL;
        const uint8_t *valid = rn->off[0] >= 0 ? c->body + rn->off[0] : NULL;
        for (int64_t i = 0; i < length; i++) {
            if (valid && !bit_get(valid, i)) continue;
            const uint8_t *v = views + 16 * i;
            int32_t n = (int32_t)md_get_u32le(v);
            const uint8_t *data = v + 4;
            if (n < 0) return rfail(c, f, "row %lld: negative view length %d", (long long)i, n);
            if (n > 12) {
                int32_t idx = (int32_t)md_get_u32le(v + 8), off = (int32_t)md_get_u32le(v + 12);
                if (idx < 0 || idx >= k)
                    return rfail(c, f, "row %lld: view refers to data buffer %d of %lld", (long long)i, idx,
                                 (long long)k);
                const int64_t *buf = c->vb[rn->var_first + (uint32_t)idx];
                if (off < 0 || (int64_t)off + n > buf[1])
                    return rfail(
                        c, f,
                        "row %lld: view bytes %d..%lld lie outside data buffer %d (%lld bytes)",
                        (long long)i, off, (long long)off + n, idx, (long long)buf[1]);
                data = c->body + buf[0] + off;
                if (memcmp(v + 4, data, 4))
                    return rfail(c, f, "row %lld: view prefix differs from its data", (long long)i);
            }
            if (f->ty == TY_UTF8_VIEW && !utf8_valid(data, n))
                return rfail(c, f, "row %lld is not valid UTF-8", (long long)i);
        }
        return MD_OK;
    }
    case TY_BINARY: case TY_LBINARY: case TY_UTF8: case TY_LUTF8: {
        int64_t first, last;
        if ((rc = check_offsets(c, f, rn, is_large(f), &first, &last)) < 0) return rc;
        int64_t off, len;
        if ((rc = next_buf(c, f, &off, &len)) < 0) return rc;
        if (last > len)
            return rfail(c, f, "offsets reach byte %lld of a %lld-byte data buffer", (long long)last,
                         (long long)len);
        rn->off[2] = len ? off : -2;
        if ((f->ty == TY_UTF8 || f->ty == TY_LUTF8) && last > first) {
            const uint8_t *data = c->body + off;
            if (!utf8_valid(data + first, last - first)) {
                const uint8_t *offs = c->body + rn->off[1];
                for (int64_t i = 0; i < length; i++) {
                    int64_t a = ld_off(offs, i, is_large(f)), b = ld_off(offs, i + 1, is_large(f));
                    if (!utf8_valid(data + a, b - a))
                        return rfail(c, f, "row %lld is not valid UTF-8", (long long)i);
                }
            }
        }
        return MD_OK;
    }
    case TY_LIST: case TY_LLIST: case TY_MAP: {
        int64_t first, last, child_len;
        if ((rc = check_offsets(c, f, rn, is_large(f), &first, &last)) < 0) return rc;
        if ((rc = check_node(c, &f->children[0], false, &child_len)) < 0) return rc;
        if (last > child_len)
            return rfail(c, f, "offsets reach row %lld of a child with %lld rows", (long long)last,
                         (long long)child_len);
        return MD_OK;
    }
    case TY_FSL: {
        int64_t child_len;
        if ((rc = check_node(c, &f->children[0], false, &child_len)) < 0) return rc;
        if (child_len < length * f->width)
            return rfail(c, f, "child has %lld rows, %lld lists of %d need %lld", (long long)child_len,
                         (long long)length, f->width, (long long)(length * f->width));
        return MD_OK;
    }
    case TY_STRUCT:
        for (uint32_t i = 0; i < f->n_children; i++) {
            int64_t child_len;
            if ((rc = check_node(c, &f->children[i], false, &child_len)) < 0) return rc;
            if (child_len < length)
                return rfail(c, f, "child '%s' has %lld rows, the struct %lld", f->children[i].name,
                             (long long)child_len, (long long)length);
        }
        return MD_OK;
    default:
        return rfail(c, f, "unhandled type");
    }
}

/* Number of nodes of field f's subtree (dictionary values not included). */
static uint64_t count_nodes(const fld *f, bool ignore_dict) {
    if (f->has_dict && !ignore_dict) return 1;
    uint64_t n = 1;
    for (uint32_t i = 0; i < f->n_children; i++) n += count_nodes(&f->children[i], false);
    return n;
}

/* Pass 2: build the array of f from the checked nodes, pointing into b. */
static int build_array(rctx *c, const fld *f, bool ignore_dict, blk *b, struct ArrowArray *out) {
    bool dict = f->has_dict && !ignore_dict;
    const rnode *rn = &c->rn[c->node_i++];
    uint32_t n = dict ? 0 : f->n_children;
    bool view = !dict && is_view(f);
    anode *nd = alloc_node(out, n, c_buffer_count(f, ignore_dict) + (view ? rn->var_count : 0), b);
    if (!nd) return MD_ENOMEM;
    out->length = rn->length;
    out->null_count = rn->null_count;
    for (int64_t i = 0; i < (view ? 2 : out->n_buffers); i++)
        nd->bufs[i] = rn->off[i] >= 0    ? (const void *)(b->data + rn->off[i])
                      : rn->off[i] == -2 ? (const void *)zeros
                      : rn->off[i] == -3 ? (const void *)(b->data + c->zeros_base)
                                         : NULL;
    if (view) {
        int64_t *sizes = (int64_t *)(void *)(b->data + c->sizes_base) + rn->var_first;
        for (uint32_t j = 0; j < rn->var_count; j++) {
            const int64_t *vb = c->vb[rn->var_first + j];
            nd->bufs[2 + j] = vb[1] ? (const void *)(b->data + vb[0]) : (const void *)zeros;
            sizes[j] = vb[1];
        }
        nd->bufs[2 + rn->var_count] = rn->var_count ? (const void *)sizes : (const void *)zeros;
        /* views under nulls may be anything: make them empty inline views */
        if (rn->null_count && nd->bufs[0]) {
            uint8_t *views = b->data + rn->off[1];
            for (int64_t i = 0; i < rn->length; i++)
                if (!bit_get(nd->bufs[0], i)) memset(views + 16 * i, 0, 16);
        }
    }
    if (!dict && f->ty == TY_UNION) {
        for (int64_t i = 0; i < out->n_buffers; i++)
            if (!nd->bufs[i]) nd->bufs[i] = zeros;
    } else {
        for (int64_t i = 1; i < out->n_buffers; i++)
            if (!nd->bufs[i]) nd->bufs[i] = zeros;
    }
    out->n_children = 0;
    for (uint32_t i = 0; i < n; i++) {
        int rc = build_array(c, &f->children[i], false, b, &nd->children[i]);
        if (rc < 0) {
            release_partial(out);
            return rc;
        }
        out->n_children++;
    }
    if (dict) {
        rdict *d = find_dict(c->r, f->dict_id);
        int rc = d && d->vals.release ? clone_array(&d->vals, &nd->dict) : empty_array(f, true, &nd->dict);
        if (rc < 0) {
            release_partial(out);
            return rc;
        }
        out->dictionary = &nd->dict;
        /* Indices under nulls may be anything: make them 0 so no consumer reads outside. */
        if (rn->null_count && rn->length && nd->bufs[0]) {
            uint8_t *idx = b->data + rn->off[1];
            int w = f->idx_bits / 8;
            for (int64_t i = 0; i < rn->length; i++)
                if (!bit_get(nd->bufs[0], i)) memset(idx + w * i, 0, (size_t)w);
        }
    }
    return MD_OK;
}

/*
 * Read a RecordBatch table whose body is body[0..body_len): check it against
 * the fields (root's children, or the single dictionary field `dict_f`), then
 * build *out.
 */
static int read_batch(md_ipc_reader *r, const md_fb_table *rb, const uint8_t *body, int64_t body_len,
                      const fld *dict_f, struct ArrowArray *out, char **err) {
    const char *what = dict_f ? "dictionary batch" : "record batch";
    int64_t length;
    md_fb_table comp;
    md_fb_vec variadic;
    if (md_fb_i64(rb, 0, 0, &length) < 0) return fail(err, MD_EBAD_FRAME, "%s: malformed table", what);
    if (length < 0 || length > MAX_LENGTH)
        return fail(err, MD_EBAD_FRAME, "%s: length %lld is out of range", what, (long long)length);
    int rc = md_fb_table_field(rb, 3, &comp);
    if (rc < 0) return fail(err, MD_EBAD_FRAME, "%s: malformed compression table", what);
    if (rc) return fail(err, MD_EUNSUPPORTED, "%s: compressed bodies are not supported", what);
    rc = md_fb_vector_field(rb, 4, 8, &variadic);
    if (rc < 0) return fail(err, MD_EBAD_FRAME, "%s: malformed variadicBufferCounts", what);
    if (rc == 0) variadic = (md_fb_vec){0};

    rctx c = {.r = r, .body = body, .body_len = body_len, .what = what, .err = err, .variadic = variadic};
    rc = md_fb_vector_field(rb, 1, 16, &c.nodes);
    if (rc <= 0) {
        if (rc < 0) return fail(err, MD_EBAD_FRAME, "%s: malformed nodes vector", what);
        c.nodes = (md_fb_vec){0};
    }
    rc = md_fb_vector_field(rb, 2, 16, &c.bufs);
    if (rc <= 0) {
        if (rc < 0) return fail(err, MD_EBAD_FRAME, "%s: malformed buffers vector", what);
        c.bufs = (md_fb_vec){0};
    }

    uint64_t total = dict_f ? count_nodes(dict_f, true) : 0;
    if (!dict_f)
        for (uint32_t i = 0; i < r->root.n_children; i++) total += count_nodes(&r->root.children[i], false);
    if (total != c.nodes.n)
        return fail(err, MD_EBAD_FRAME, "%s: %u field nodes for a schema of %llu", what, c.nodes.n,
                    (unsigned long long)total);
    c.cap_rn = (uint32_t)total;
    c.rn = md_trymalloc((total ? total : 1) * sizeof(rnode));
    c.vb = md_trymalloc((c.bufs.n ? c.bufs.n : 1) * sizeof *c.vb);
    if (!c.rn || !c.vb) {
        md_free(c.rn);
        md_free(c.vb);
        return fail(err, MD_ENOMEM, "%s: out of memory", what);
    }

    /* pass 1: check */
    uint32_t ncols = dict_f ? 1 : r->root.n_children;
    for (uint32_t i = 0; i < ncols; i++) {
        const fld *f = dict_f ? dict_f : &r->root.children[i];
        int64_t col_len;
        c.col = f->name;
        rc = check_node(&c, f, dict_f != NULL, &col_len);
        if (rc < 0) goto done;
        if (col_len < length) {
            rc = fail(err, MD_EBAD_FRAME, "%s: column '%s' has %lld rows, the batch %lld", what,
                      f->name, (long long)col_len, (long long)length);
            goto done;
        }
    }
    if (c.buf_i != c.bufs.n) {
        rc = fail(err, MD_EBAD_FRAME, "%s: %u buffers listed, the schema uses %u", what, c.bufs.n, c.buf_i);
        goto done;
    }
    if (c.var_i != c.variadic.n) {
        rc = fail(err, MD_EBAD_FRAME, "%s: variadicBufferCounts has %u entries for %u view fields", what,
                  c.variadic.n, c.var_i);
        goto done;
    }

    /* pass 2: copy the body once (plus room for the size arrays of views), build arrays */
    c.sizes_base = (body_len + 7) & ~(int64_t)7;
    c.zeros_base = c.sizes_base + 8 * (int64_t)c.n_vb;
    int64_t block_len = c.zeros_base + ((c.zeros_len + 7) & ~(int64_t)7);
    blk *b = md_trymalloc(sizeof *b);
    uint8_t *data = b ? md_trymalloc((size_t)(block_len ? block_len : 1)) : NULL;
    if (!data) {
        md_free(b);
        rc = fail(err, MD_ENOMEM, "%s: out of memory copying a %lld-byte body", what, (long long)body_len);
        goto done;
    }
    if (body_len) memcpy(data, body, (size_t)body_len);
    if (c.zeros_len) memset(data + c.zeros_base, 0, (size_t)(block_len - c.zeros_base));
    b->data = data;
    b->refs = 1;
    c.node_i = 0;
    if (dict_f) {
        rc = build_array(&c, dict_f, true, b, out);
    } else {
        anode *nd = alloc_node(out, ncols, 1, NULL);
        if (!nd) rc = MD_ENOMEM;
        else {
            out->length = length;
            out->n_children = 0;
            for (uint32_t i = 0; i < ncols; i++) {
                rc = build_array(&c, &r->root.children[i], false, b, &nd->children[i]);
                if (rc < 0) {
                    out->release(out);
                    break;
                }
                out->n_children++;
            }
        }
    }
    blk_unref(b);
    if (rc < 0) rc = fail(err, rc, "%s: out of memory building arrays", what);
done:
    md_free(c.rn);
    md_free(c.vb);
    return rc;
}

/* ---- reader: delta dictionaries ---------------------------------------------- */

/* Copy n bits from src (bit offset so; NULL = all set) to dst (bit offset d0). */
static void copy_bits(uint8_t *dst, int64_t d0, const uint8_t *src, int64_t so, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        int64_t d = d0 + i;
        if (!src || bit_get(src, so + i)) dst[d >> 3] |= (uint8_t)(1u << (d & 7));
        else dst[d >> 3] &= (uint8_t)~(1u << (d & 7));
    }
}

static int64_t nulls_in(const struct ArrowArray *a, int64_t start, int64_t n) {
    if (!a->buffers[0] || a->null_count == 0 || n == 0) return 0;
    return n - count_set(a->buffers[0], start, n);
}

/* Copy offsets src[s0 .. s0 + n] to dst[k0 ..], rebased so that src[s0] becomes `base`. */
static void copy_offsets(uint8_t *dst, int64_t k0, const uint8_t *src, int64_t s0, int64_t n, int64_t base,
                         bool large) {
    int64_t first = ld_off(src, s0, large);
    for (int64_t i = 0; i <= n; i++) {
        int64_t v = ld_off(src, s0 + i, large) - first + base;
        if (large) memcpy(dst + 8 * (k0 + i), &v, 8);
        else {
            int32_t v32 = (int32_t)v;
            memcpy(dst + 4 * (k0 + i), &v32, 4);
        }
    }
}

/* concat_array for BinaryView/Utf8View: views are copied, b's buffer indexes shifted. */
static int concat_views(const struct ArrowArray *a, int64_t as, int64_t al, const struct ArrowArray *b,
                        int64_t bs, int64_t bl, struct ArrowArray *out, char **err) {
    int64_t ka = a->n_buffers - 3, kb = b->n_buffers - 3, n = al + bl;
    const int64_t *sa = a->buffers[a->n_buffers - 1], *sb = b->buffers[b->n_buffers - 1];
    int64_t nulls = nulls_in(a, as, al) + nulls_in(b, bs, bl);
    int64_t vlen = (nulls ? ((n + 7) / 8 + 7) & ~7 : 0), total = vlen + 16 * n + 8 * (ka + kb);
    for (int64_t j = 0; j < ka; j++) total += (sa[j] + 7) & ~7;
    for (int64_t j = 0; j < kb; j++) total += (sb[j] + 7) & ~7;
    blk *bk = md_trymalloc(sizeof *bk);
    uint8_t *data = bk ? md_trymalloc((size_t)(total ? total : 1)) : NULL;
    if (!data) {
        md_free(bk);
        return fail(err, MD_ENOMEM, "delta dictionary batch: out of memory");
    }
    memset(data, 0, (size_t)(total ? total : 1));
    bk->data = data;
    bk->refs = 1;
    anode *nd = alloc_node(out, 0, 3 + ka + kb, bk);
    blk_unref(bk);
    if (!nd) return fail(err, MD_ENOMEM, "delta dictionary batch: out of memory");
    out->length = n;
    out->null_count = nulls;
    uint8_t *p = data;
    if (nulls) {
        copy_bits(p, 0, a->null_count ? a->buffers[0] : NULL, as, al);
        copy_bits(p, al, b->null_count ? b->buffers[0] : NULL, bs, bl);
        nd->bufs[0] = p;
        p += vlen;
    }
    nd->bufs[1] = n ? (const void *)p : (const void *)zeros;
    memcpy(p, (const uint8_t *)a->buffers[1] + 16 * as, (size_t)(16 * al));
    memcpy(p + 16 * al, (const uint8_t *)b->buffers[1] + 16 * bs, (size_t)(16 * bl));
    for (int64_t i = 0; i < bl; i++) { /* b's data buffers come after a's */
        uint8_t *v = p + 16 * (al + i);
        if ((int32_t)md_get_u32le(v) > 12) md_set_u32le(v + 8, md_get_u32le(v + 8) + (uint32_t)ka);
    }
    p += 16 * n;
    int64_t *sizes = (int64_t *)(void *)p;
    p += 8 * (ka + kb);
    for (int64_t j = 0; j < ka + kb; j++) {
        const struct ArrowArray *src = j < ka ? a : b;
        int64_t jj = j < ka ? j : j - ka, sz = j < ka ? sa[jj] : sb[jj];
        memcpy(p, src->buffers[2 + jj], (size_t)sz);
        nd->bufs[2 + j] = sz ? (const void *)p : (const void *)zeros;
        sizes[j] = sz;
        p += (sz + 7) & ~7;
    }
    nd->bufs[2 + ka + kb] = ka + kb ? (const void *)sizes : (const void *)zeros;
    return MD_OK;
}

/*
 * Build in *out the concatenation of a[as .. as + al) and b[bs .. bs + bl)
 * (physical indexes), both arrays of type f built by this reader and already
 * checked.  Each node of the result owns one new block holding its buffers.
 */
static int concat_array(const fld *f, bool ignore_dict, const struct ArrowArray *a, int64_t as, int64_t al,
                        const struct ArrowArray *b, int64_t bs, int64_t bl, struct ArrowArray *out,
                        char **err) {
    if (f->has_dict && !ignore_dict)
        return fail(err, MD_EUNSUPPORTED, "delta dictionary batch: values that are themselves "
                                          "dictionary-encoded (field '%s') are not supported", f->name);
    if (is_view(f)) return concat_views(a, as, al, b, bs, bl, out, err);
    int64_t n = al + bl, nbuf = c_buffer_count(f, true);
    int64_t size[3] = {0, 0, 0}; /* bytes of each C buffer */
    int64_t a0 = 0, a1 = 0, b0 = 0, b1 = 0; /* offsets ranges of variable-size layouts */
    bool large = is_large(f);
    bool has_validity = f->ty != TY_NULL && f->ty != TY_UNION;
    int64_t nulls = f->ty == TY_NULL ? n : has_validity ? nulls_in(a, as, al) + nulls_in(b, bs, bl) : 0;
    if (has_validity && nulls) size[0] = (n + 7) / 8;
    int64_t w = fixed_width(f);
    if (w) size[1] = w * n;
    else if (f->ty == TY_BOOL) size[1] = (n + 7) / 8;
    else if (is_binary(f) || f->ty == TY_LIST || f->ty == TY_LLIST || f->ty == TY_MAP) {
        a0 = ld_off(a->buffers[1], as, large), a1 = ld_off(a->buffers[1], as + al, large);
        b0 = ld_off(b->buffers[1], bs, large), b1 = ld_off(b->buffers[1], bs + bl, large);
        if (!large && (a1 - a0) + (b1 - b0) > INT32_MAX)
            return fail(err, MD_EBAD_FRAME, "delta dictionary batch: field '%s' grows past 32-bit offsets",
                        f->name);
        size[1] = (large ? 8 : 4) * (n + 1);
        if (is_binary(f)) size[2] = (a1 - a0) + (b1 - b0);
    } else if (f->ty == TY_UNION) {
        size[0] = n;
        if (f->dense) size[1] = 4 * n;
    }

    blk *bk = md_trymalloc(sizeof *bk);
    int64_t total = ((size[0] + 7) & ~7) + ((size[1] + 7) & ~7) + size[2];
    uint8_t *data = bk ? md_trymalloc((size_t)(total ? total : 1)) : NULL;
    if (!data) {
        md_free(bk);
        return fail(err, MD_ENOMEM, "delta dictionary batch: out of memory");
    }
    memset(data, 0, (size_t)(total ? total : 1));
    bk->data = data;
    bk->refs = 1;
    uint8_t *p[3] = {data, data + ((size[0] + 7) & ~7), data + ((size[0] + 7) & ~7) + ((size[1] + 7) & ~7)};
    uint32_t nc = f->n_children;
    anode *nd = alloc_node(out, nc, nbuf, bk);
    blk_unref(bk);
    if (!nd) return fail(err, MD_ENOMEM, "delta dictionary batch: out of memory");
    out->length = n;
    out->null_count = nulls;
    for (int64_t i = 0; i < nbuf; i++) nd->bufs[i] = size[i] ? (const void *)p[i] : (const void *)zeros;
    if (has_validity && nbuf) {
        nd->bufs[0] = NULL;
        if (nulls) {
            copy_bits(p[0], 0, a->null_count ? a->buffers[0] : NULL, as, al);
            copy_bits(p[0], al, b->null_count ? b->buffers[0] : NULL, bs, bl);
            nd->bufs[0] = p[0];
        }
    }
    if (w) {
        memcpy(p[1], (const uint8_t *)a->buffers[1] + w * as, (size_t)(w * al));
        memcpy(p[1] + w * al, (const uint8_t *)b->buffers[1] + w * bs, (size_t)(w * bl));
    } else if (f->ty == TY_BOOL) {
        copy_bits(p[1], 0, a->buffers[1], as, al);
        copy_bits(p[1], al, b->buffers[1], bs, bl);
    } else if (size[1] && f->ty != TY_UNION) {
        copy_offsets(p[1], 0, a->buffers[1], as, al, 0, large);
        copy_offsets(p[1], al, b->buffers[1], bs, bl, a1 - a0, large);
        if (is_binary(f)) {
            memcpy(p[2], (const uint8_t *)a->buffers[2] + a0, (size_t)(a1 - a0));
            memcpy(p[2] + (a1 - a0), (const uint8_t *)b->buffers[2] + b0, (size_t)(b1 - b0));
        }
    } else if (f->ty == TY_UNION) {
        memcpy(p[0], (const uint8_t *)a->buffers[0] + as, (size_t)al);
        memcpy(p[0] + al, (const uint8_t *)b->buffers[0] + bs, (size_t)bl);
        if (f->dense) {
            int8_t map[128];
            memset(map, -1, sizeof map);
            for (uint32_t i = 0; i < nc; i++) map[f->type_ids[i]] = (int8_t)i;
            memcpy(p[1], (const int32_t *)a->buffers[1] + as, (size_t)(4 * al));
            for (int64_t i = 0; i < bl; i++) { /* b's offsets move past a's children */
                int32_t o;
                memcpy(&o, (const int32_t *)b->buffers[1] + bs + i, 4);
                o += (int32_t)a->children[map[((const int8_t *)b->buffers[0])[bs + i]]]->length;
                memcpy(p[1] + 4 * (al + i), &o, 4);
            }
        }
    }

    out->n_children = 0;
    for (uint32_t i = 0; i < nc; i++) {
        const struct ArrowArray *ca = a->children[i], *cb = b->children[i];
        int64_t cas, cal, cbs, cbl;
        if (f->ty == TY_LIST || f->ty == TY_LLIST || f->ty == TY_MAP) {
            cas = ca->offset + a0, cal = a1 - a0, cbs = cb->offset + b0, cbl = b1 - b0;
        } else if (f->ty == TY_FSL) {
            cas = ca->offset + as * f->width, cal = al * f->width;
            cbs = cb->offset + bs * f->width, cbl = bl * f->width;
        } else if (f->ty == TY_UNION && f->dense) {
            cas = ca->offset, cal = ca->length, cbs = cb->offset, cbl = cb->length;
        } else { /* struct, sparse union */
            cas = ca->offset + as, cal = al, cbs = cb->offset + bs, cbl = bl;
        }
        int rc = concat_array(&f->children[i], false, ca, cas, cal, cb, cbs, cbl, &nd->children[i], err);
        if (rc < 0) {
            out->release(out);
            return rc;
        }
        out->n_children++;
    }
    return MD_OK;
}

int md_ipc_reader_next(md_ipc_reader *r, const uint8_t *p, size_t len, size_t *out_used,
                       md_ipc_message_kind *out_kind, struct ArrowArray *out_batch, char **out_err) {
    if (r->state == ST_DONE)
        return fail(out_err, MD_EBAD_FRAME, "a message follows the end-of-stream marker");
    if (len < 8) return MD_EEOF;
    uint32_t cont = md_get_u32le(p);
    if (cont != CONTINUATION)
        return fail(out_err, MD_EBAD_FRAME,
                    "message does not start with the continuation marker 0xFFFFFFFF (found 0x%08X)",
                    cont);
    int32_t msize = (int32_t)md_get_u32le(p + 4);
    if (msize == 0) {
        if (r->state == ST_EXPECT_SCHEMA)
            return fail(out_err, MD_EBAD_FRAME, "end-of-stream marker before the schema");
        r->state = ST_DONE;
        *out_used = 8;
        *out_kind = MD_IPC_EOS;
        return MD_OK;
    }
    if (msize < 8) return fail(out_err, MD_EBAD_FRAME, "metadata size %d is too small", msize);
    if (len - 8 < (size_t)msize) return MD_EEOF;
    const uint8_t *meta = p + 8;

    md_fb_table msg, hdr;
    int16_t version;
    uint8_t htype;
    int64_t body_len;
    if (md_fb_root(meta, (size_t)msize, &msg) < 0 || md_fb_i16(&msg, 0, 0, &version) < 0 ||
        md_fb_u8(&msg, 1, 0, &htype) < 0 || md_fb_i64(&msg, 3, 0, &body_len) < 0)
        return fail(out_err, MD_EBAD_FRAME, "malformed Message flatbuffer (%d bytes)", msize);
    if (version < MV_V4)
        return fail(out_err, MD_EUNSUPPORTED, "metadata version V%d is too old (V4 or V5 needed)",
                    version + 1);
    if (version > MV_V5)
        return fail(out_err, MD_EUNSUPPORTED, "unknown metadata version %d", version);
    if (body_len < 0) return fail(out_err, MD_EBAD_FRAME, "negative body length %lld", (long long)body_len);
    if ((uint64_t)body_len > len - 8 - (size_t)msize) return MD_EEOF;
    int rc = md_fb_table_field(&msg, 2, &hdr);
    if (rc <= 0) return fail(out_err, MD_EBAD_FRAME, "Message has a missing or malformed header");
    const uint8_t *body = meta + msize;
    size_t used = 8 + (size_t)msize + (size_t)body_len;

    switch (htype) {
    case HDR_SCHEMA:
        if (r->state != ST_EXPECT_SCHEMA)
            return fail(out_err, MD_EBAD_FRAME, "a second schema message in the stream");
        r->v4 = version == MV_V4;
        rc = read_schema(r, &hdr, (uint32_t)msize, out_err);
        if (rc < 0) {
            /* start over clean: the schema may be retried with other bytes */
            for (uint32_t i = 0; i < r->n_dicts; i++)
                if (r->dicts[i].vals.release) r->dicts[i].vals.release(&r->dicts[i].vals);
            r->n_dicts = 0;
            fld_clear(&r->root);
            md_free(r->schema_meta);
            r->schema_meta = NULL;
            return rc;
        }
        r->state = ST_STREAMING;
        *out_kind = MD_IPC_SCHEMA;
        break;
    case HDR_DICTIONARY: {
        if (r->state != ST_STREAMING)
            return fail(out_err, MD_EBAD_FRAME, "a dictionary batch before the schema");
        int64_t id;
        uint8_t delta;
        md_fb_table data;
        if (md_fb_i64(&hdr, 0, 0, &id) < 0 || md_fb_u8(&hdr, 2, 0, &delta) < 0 ||
            md_fb_table_field(&hdr, 1, &data) <= 0)
            return fail(out_err, MD_EBAD_FRAME, "malformed DictionaryBatch");
        rdict *d = find_dict(r, id);
        if (!d) return fail(out_err, MD_EBAD_FRAME, "dictionary batch for unknown id %lld", (long long)id);
        struct ArrowArray vals;
        rc = read_batch(r, &data, body, body_len, d->f, &vals, out_err);
        if (rc < 0) return rc;
        if (delta && d->vals.release) { /* append to the current dictionary */
            struct ArrowArray cat;
            if (d->vals.length + vals.length > MAX_LENGTH) rc = MD_EBAD_FRAME;
            else rc = concat_array(d->f, true, &d->vals, d->vals.offset, d->vals.length, &vals, vals.offset,
                                   vals.length, &cat, out_err);
            vals.release(&vals);
            if (rc < 0)
                return fail(out_err, rc, "delta dictionary batch for id %lld is too large", (long long)id);
            vals = cat;
        }
        if (d->vals.release) d->vals.release(&d->vals);
        d->vals = vals;
        *out_kind = MD_IPC_DICTIONARY;
        break;
    }
    case HDR_RECORD_BATCH: {
        if (r->state != ST_STREAMING)
            return fail(out_err, MD_EBAD_FRAME, "a record batch before the schema");
        struct ArrowArray batch;
        rc = read_batch(r, &hdr, body, body_len, NULL, &batch, out_err);
        if (rc < 0) return rc;
        *out_batch = batch;
        *out_kind = MD_IPC_BATCH;
        break;
    }
    default:
        return fail(out_err, htype == 4 || htype == 5 ? MD_EUNSUPPORTED : MD_EBAD_FRAME,
                    "message header type %u is not a schema, dictionary or record batch", htype);
    }
    *out_used = used;
    return MD_OK;
}

/*
 * rowsum.c: order-independent checksums of the transfer table (see rowsum.h).
 *
 * Binary COPY layout (PostgreSQL "COPY ... (FORMAT binary)", all integers
 * big-endian):
 *
 *   file header  11 bytes "PGCOPY\n\377\r\n\0", int32 flags, int32 extension
 *                length, extension bytes
 *   tuple        int16 field count, then per field int32 length (-1: NULL)
 *                and that many bytes
 *   trailer      int16 -1
 *
 * Field encodings used here: int8 = int64; float8 = IEEE 754 bits as int64;
 * text = the bytes; timestamp = int64 microseconds since 2000-01-01.
 */
#include "rowsum.h"

#include <stdlib.h>
#include <string.h>

#define PG_EPOCH_UNIX_US 946684800000000LL /* 2000-01-01 in Unix microseconds */

static uint64_t fnv1a(const char *p, size_t n) {
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t double_bits(double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

void bench_rowsum_add(bench_rowsum *s, int64_t a, double b, const char *c, size_t c_len, int64_t d_unix_us) {
    s->rows++;
    s->a += (uint64_t)a;
    s->b += double_bits(b);
    s->c += fnv1a(c, c_len);
    s->d += (uint64_t)d_unix_us;
}

int bench_rowsum_arrow(bench_rowsum *s, const struct ArrowSchema *schema, const struct ArrowArray *batch,
                       const char **out_why) {
    if (!schema || schema->n_children != 4 || batch->n_children != 4) {
        *out_why = "the result does not have the four columns of xfer";
        return -1;
    }
    const char *fa = schema->children[0]->format, *fb = schema->children[1]->format,
               *fc = schema->children[2]->format, *fd = schema->children[3]->format;
    int large = strcmp(fc, "U") == 0;
    if (strcmp(fa, "l") || strcmp(fb, "g") || (strcmp(fc, "u") && !large) || strncmp(fd, "tsu:", 4)) {
        *out_why = "the columns of xfer arrived with unexpected Arrow formats";
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        if (batch->children[i]->null_count != 0) {
            *out_why = "xfer has no NULLs, but one arrived";
            return -1;
        }
    }
    const struct ArrowArray *ca = batch->children[0], *cb = batch->children[1], *cc = batch->children[2],
                            *cd = batch->children[3];
    const int64_t *va = (const int64_t *)ca->buffers[1] + ca->offset + batch->offset;
    const double *vb = (const double *)cb->buffers[1] + cb->offset + batch->offset;
    const int64_t *vd = (const int64_t *)cd->buffers[1] + cd->offset + batch->offset;
    const char *data = cc->buffers[2];
    int64_t co = cc->offset + batch->offset;
    for (int64_t i = 0; i < batch->length; i++) {
        int64_t from, to;
        if (large) {
            from = ((const int64_t *)cc->buffers[1])[co + i];
            to = ((const int64_t *)cc->buffers[1])[co + i + 1];
        } else {
            from = ((const int32_t *)cc->buffers[1])[co + i];
            to = ((const int32_t *)cc->buffers[1])[co + i + 1];
        }
        bench_rowsum_add(s, va[i], vb[i], data + from, (size_t)(to - from), vd[i]);
    }
    return 0;
}

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" to Unix microseconds; -1 on a bad form. */
static int parse_timestamp(const char *t, int64_t *out_us) {
    char *e;
    long y = strtol(t, &e, 10);
    if (*e != '-') return -1;
    long mo = strtol(e + 1, &e, 10);
    if (*e != '-') return -1;
    long d = strtol(e + 1, &e, 10);
    if (*e != ' ') return -1;
    long h = strtol(e + 1, &e, 10);
    if (*e != ':') return -1;
    long mi = strtol(e + 1, &e, 10);
    if (*e != ':') return -1;
    long sec = strtol(e + 1, &e, 10);
    int64_t frac = 0;
    if (*e == '.') {
        int digits = 0;
        for (e++; *e >= '0' && *e <= '9'; e++, digits++)
            if (digits < 6) frac = frac * 10 + (*e - '0');
        for (; digits < 6; digits++) frac *= 10;
    }
    if (*e) return -1;
    *out_us = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + frac;
    return 0;
}

int bench_rowsum_text(bench_rowsum *s, const char *a, const char *b, const char *c, size_t c_len, const char *d) {
    int64_t us;
    if (parse_timestamp(d, &us) != 0) return -1;
    char *e1, *e2;
    long long va = strtoll(a, &e1, 10);
    double vb = strtod(b, &e2);
    if (*e1 || *e2) return -1;
    bench_rowsum_add(s, va, vb, c, c_len, us);
    return 0;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

int64_t bench_rowsum_copy_binary(bench_rowsum *s, const uint8_t *p, size_t n, const char **out_why) {
    static const uint8_t sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xFF, '\r', '\n', 0};
    size_t off = 0;
    if (n >= 19 && memcmp(p, sig, sizeof sig) == 0) {
        uint32_t ext = be32(p + 15);
        if (ext > n - 19) goto bad;
        off = 19 + ext;
    }
    int64_t tuples = 0;
    while (off < n) {
        if (n - off < 2) goto bad;
        int16_t fields = (int16_t)(p[off] << 8 | p[off + 1]);
        off += 2;
        if (fields == -1) break; /* trailer */
        if (fields != 4) goto bad;
        const uint8_t *f[4];
        uint32_t len[4];
        for (int i = 0; i < 4; i++) {
            if (n - off < 4) goto bad;
            len[i] = be32(p + off);
            off += 4;
            if (len[i] == 0xFFFFFFFFu || len[i] > n - off) goto bad; /* NULL or truncated */
            f[i] = p + off;
            off += len[i];
        }
        if (len[0] != 8 || len[1] != 8 || len[3] != 8) goto bad;
        uint64_t bits = be64(f[1]);
        double b;
        memcpy(&b, &bits, sizeof b);
        if (s)
            bench_rowsum_add(s, (int64_t)be64(f[0]), b, (const char *)f[2], len[2],
                             (int64_t)be64(f[3]) + PG_EPOCH_UNIX_US);
        tuples++;
    }
    return tuples;
bad:
    *out_why = "the binary COPY stream is not four non-NULL columns of int8, float8, text, timestamp";
    return -1;
}

int bench_rowsum_equal(const bench_rowsum *x, const bench_rowsum *y) {
    return x->rows == y->rows && x->a == y->a && x->b == y->b && x->c == y->c && x->d == y->d;
}

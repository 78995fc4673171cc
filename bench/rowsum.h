/*
 * rowsum.h: an order-independent checksum of the rows of the transfer table
 *
 *   xfer(a BIGINT, b DOUBLE, c VARCHAR, d TIMESTAMP)   -- no NULLs
 *
 * computed from the three forms a client receives it in: Arrow arrays
 * (mdserver), libpq text results (PostgreSQL SELECT) and PostgreSQL's binary
 * COPY stream.  Equal sums mean both systems returned the same rows, which
 * is what makes their rates comparable.
 *
 * Per column, values are summed modulo 2^64: a as its integer, b as its IEEE
 * 754 bit pattern (so the text form must round-trip exactly: PostgreSQL 12+
 * prints the shortest exact representation), c as the FNV-1a hash of its
 * bytes, d as microseconds since 1970-01-01.  Row order does not matter.
 */
#ifndef BENCH_ROWSUM_H
#define BENCH_ROWSUM_H

#include <stddef.h>
#include <stdint.h>

#include "shared/arrow_abi.h"

typedef struct bench_rowsum {
    int64_t rows;
    uint64_t a, b, c, d;
} bench_rowsum;

/* Add one row. */
void bench_rowsum_add(bench_rowsum *s, int64_t a, double b, const char *c, size_t c_len, int64_t d_unix_us);

/*
 * Add every row of an Arrow record batch whose schema has the four columns
 * (formats "l", "g", "u" or "U", "tsu:" or "tsu:<zone>").  Returns 0, or -1
 * with a static sentence in *out_why for another layout or a NULL.
 */
int bench_rowsum_arrow(bench_rowsum *s, const struct ArrowSchema *schema, const struct ArrowArray *batch,
                       const char **out_why);

/*
 * Add one row from PostgreSQL's text output (a, b, c, d as PQgetvalue gives
 * them; d like "2020-01-01 00:00:00[.ffffff]").  Returns 0 or -1.
 */
int bench_rowsum_text(bench_rowsum *s, const char *a, const char *b, const char *c, size_t c_len, const char *d);

/*
 * Add the tuples found in one CopyData message of a binary COPY TO STDOUT
 * (PostgreSQL sends one tuple per message; the first also carries the file
 * header, the last is the trailer).  Returns the number of tuples added, or
 * -1 with *out_why for bytes that are not that.  With s == NULL the tuples
 * are only walked and counted.
 */
int64_t bench_rowsum_copy_binary(bench_rowsum *s, const uint8_t *p, size_t n, const char **out_why);

/* Equal? */
int bench_rowsum_equal(const bench_rowsum *x, const bench_rowsum *y);

#endif

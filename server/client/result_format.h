/*
 * result_format.h: print query results held as Arrow C Data Interface arrays.
 *
 * Used by the terminal client (`./mdserver client`).  A result is a struct
 * schema whose children are the columns (what md_ipc_reader_schema and
 * duckdb_to_arrow_schema produce) and a sequence of struct arrays, one per
 * batch, whose children are the column arrays.
 *
 * Every value is rendered as DuckDB renders it when cast to VARCHAR
 * (`SELECT x::VARCHAR`): 2024-01-31, 2024-01-31 12:34:56.789,
 * 2024-01-31 12:34:56+00 (TIMESTAMPTZ, always shown in UTC), 04:05:06,
 * "1 year 2 months 3 days 04:05:06", decimals with their scale, hugeint,
 * uuid, blobs with \xNN escapes, [1, 2], {'a': 1, 'b': x}, {k=v}, enums,
 * true/false, doubles in their shortest round-trip form (1e+16, 0.1, inf,
 * nan), REALs exactly as DuckDB's float printer gives them (shortest float
 * form, or the exact double form where that printer falls back:
 * 296805.125), DuckDB's quoting of strings inside nested values, and
 * DuckDB's vendor extension types (arrow.opaque hugeint, uhugeint, bignum,
 * bit, time_tz; arrow.uuid; arrow.bool8) when the producer marks them.
 *
 * Output formats (md_fmt_mode):
 *   table  a box like the DuckDB CLI's "duckbox": column names and types in
 *          the header, numbers right-aligned, NULL shown as NULL, control
 *          characters in text shown as \n, \t, \0, \xNN.  Streaming-safe:
 *          it keeps only the first max_rows and the last max_rows/2 rows it
 *          is given (rendered, each cell capped at 4 KiB); a longer result is
 *          cut in the middle (rows of "·") and ends with an "N rows (M shown)"
 *          footer (on two lines when the table is narrow).  With max_width,
 *          wide columns shrink (values cut with "…") and middle columns are
 *          replaced by a "…" column, noted as "K columns (J shown)".  Output
 *          is written by md_fmt_finish.  A result with the
 *          columns (explain_key, explain_value) prints the plan text as is,
 *          like the DuckDB CLI.
 *   csv    RFC 4180: a header line of column names, then one line per row,
 *          lines end in "\n"; a field is quoted ("...", inner quotes doubled)
 *          when it contains a comma, a quote, CR or LF, or is an empty
 *          string; NULL is an empty, unquoted field.  Written per batch.
 *   json   one JSON array per result, one object per row, one row per line:
 *          [{"a":1,"b":"x"},\n{"a":2,"b":null}]\n  (an empty result is []).
 *          Integers of every width (also hugeint, bignum) and decimals are
 *          JSON numbers written with all their digits (no precision is lost
 *          in the text; readers that parse numbers into doubles may round
 *          big ones); finite floats and doubles are numbers in shortest
 *          round-trip form, and nan/inf/-inf are the strings "nan", "inf",
 *          "-inf"; booleans are true/false; lists and fixed-size lists are
 *          arrays, structs objects (unnamed structs arrays), maps objects
 *          keyed by the key's text, unions their active member; everything
 *          else (dates, times,
 *          intervals, uuids, blobs, enums, strings) is a string holding
 *          DuckDB's text.  Written per batch.
 *
 * A "status" result, the one column Count (int64) or Success (bool) with no
 * rows that DuckDB returns for DDL and SET, prints nothing in every mode
 * (like the DuckDB CLI); an INSERT's Count with one row is printed (so is a
 * CREATE TABLE AS's: the schema alone cannot tell the two apart).
 *
 * Lifecycle: md_fmt_create (schema) -> md_fmt_batch ... -> md_fmt_finish ->
 * md_fmt_destroy.  The formatter only reads the arrays it is given; the
 * caller keeps ownership of schema and batches and may release a batch as
 * soon as md_fmt_batch returns.
 */
#ifndef MD_RESULT_FORMAT_H
#define MD_RESULT_FORMAT_H

#include <stdint.h>
#include <stdio.h>

#include "shared/arrow_abi.h"
#include "shared/md_buf.h"

typedef enum md_fmt_mode { MD_FMT_TABLE = 1, MD_FMT_CSV = 2, MD_FMT_JSON = 3 } md_fmt_mode;

typedef struct md_fmt_options {
    md_fmt_mode mode;
    int max_rows;  /* table: most rows shown; a longer result is cut in the middle (<= 0: 40) */
    int max_width; /* table: widest line in terminal cells; wide columns shrink, then middle
                      columns are hidden (<= 0: no limit) */
} md_fmt_options;

/* ---- one column: values as DuckDB's VARCHAR text ------------------------ */

typedef struct md_fmt_column md_fmt_column;

/*
 * Compile the Arrow type of one column (`field`: a child of the result
 * schema) into *out; `field` is only read during the call.  Returns MD_OK, or
 * MD_EUNSUPPORTED with *out_err (caller frees) naming the field and format
 * it cannot render.
 */
int md_fmt_column_create(const struct ArrowSchema *field, md_fmt_column **out, char **out_err);

/*
 * Append the text of row `row` (0-based, relative to the array: its offset
 * is applied here) of `array`, an array of the column's type, to `out`.
 * Returns 1 for NULL (nothing appended) and 0 otherwise.
 */
int md_fmt_column_text(const md_fmt_column *col, const struct ArrowArray *array, int64_t row,
                       md_buf *out);

/* The column's type as the table header shows it ("int32", "decimal(18,3)"). */
const char *md_fmt_column_type_name(const md_fmt_column *col);

void md_fmt_column_destroy(md_fmt_column **col);

/* ---- a whole result ----------------------------------------------------- */

typedef struct md_fmt md_fmt;

/* Parse "table", "csv" or "json" into *out.  Returns MD_OK or MD_EINVAL. */
int md_fmt_parse_mode(const char *name, md_fmt_mode *out);

/*
 * Create a printer for one result of `schema` (a struct schema, children =
 * columns) writing to `out`, which stays owned by the caller.  `schema` is
 * only read during the call.  Returns MD_OK, or MD_EINVAL (not a struct
 * schema) / MD_EUNSUPPORTED with *out_err (caller frees).
 */
int md_fmt_create(const struct ArrowSchema *schema, const md_fmt_options *opts, FILE *out,
                  md_fmt **out_fmt, char **out_err);

/*
 * Consume one batch (a struct array whose children are the columns).  CSV
 * and JSON write its rows now; the table keeps what it will show.  `batch` is
 * only read.  Returns MD_OK, MD_EINVAL with *out_err (caller frees) when the
 * batch does not match the schema, or MD_EIO when writing failed.
 */
int md_fmt_batch(md_fmt *f, const struct ArrowArray *batch, char **out_err);

/*
 * End the result: the table is drawn, the JSON array closed, an empty CSV
 * result gets its header.  Call once.  Returns MD_OK or MD_EIO.
 */
int md_fmt_finish(md_fmt *f);

/* Rows consumed so far. */
int64_t md_fmt_rows(const md_fmt *f);

void md_fmt_destroy(md_fmt **f);

#endif

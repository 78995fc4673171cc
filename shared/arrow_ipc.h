/*
 * arrow_ipc.h: Arrow IPC streaming format writer and reader.
 *
 * Converts between the Arrow C Data Interface (arrow_abi.h) and Arrow IPC
 * stream bytes (Arrow columnar format, metadata version V5, little-endian,
 * uncompressed bodies, 8-byte aligned buffers).  The byte layout of messages
 * is documented in arrow_ipc.c's header comment.
 *
 * Types covered: every type DuckDB 1.4.4 exports through
 * duckdb_data_chunk_to_arrow: null, bool, int8..int64, uint8..uint64,
 * float16/32/64, decimal128 (and decimal32/64/256 on read), utf8, large utf8,
 * binary, large binary, fixed-size binary, binary view and utf8 view
 * (arrow_output_version 1.5), date32/date64, time32/time64,
 * timestamp (s/ms/us/ns, with and without time zone), duration,
 * interval (months, day-time, month-day-nano), list, large list,
 * fixed-size list, struct, map, dense and sparse union, and dictionary-encoded
 * arrays (DuckDB ENUM; the reader also takes delta dictionary batches).
 *
 * Writer: one md_ipc_writer per stream; a record batch is written from one
 * array or, concatenated, from several (md_ipc_write_batches: many small
 * DuckDB chunks as one message).  Reader: one md_ipc_reader per stream;
 * it validates every length, offset and buffer range against the message
 * before building arrays, so hostile bytes give MD_EBAD_FRAME, never a crash.
 * Arrays the reader returns own their memory (they do not point into the
 * input bytes) and are released through their `release` callback.
 */
#ifndef MD_ARROW_IPC_H
#define MD_ARROW_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "arrow_abi.h"
#include "md_buf.h"

/* ---- writer ------------------------------------------------------------ */

typedef struct md_ipc_writer md_ipc_writer;

/*
 * Create a writer for arrays of `schema` (a struct schema, format "+s", whose
 * children are the columns: what duckdb_to_arrow_schema produces).  The schema
 * is only read during the call.  Returns MD_OK, or MD_EUNSUPPORTED with
 * *out_err (caller frees) naming the column and format it cannot encode.
 */
int md_ipc_writer_create(const struct ArrowSchema *schema, md_ipc_writer **out, char **out_err);

/*
 * Append the stream's schema message to `out`.  This starts a new stream: the
 * writer forgets which dictionaries it has written, so one writer can serve
 * several streams of the same schema one after the other.
 */
void md_ipc_write_schema(md_ipc_writer *w, md_buf *out);

/*
 * Append one record batch message for `batch` (a struct array matching the
 * schema: its children are the columns) to `out`, preceded by a dictionary
 * batch message for every dictionary-encoded column whose dictionary differs
 * from the one last written for it in this stream (a replacement, never a
 * delta).  `batch` is only read; its arrays may have non-zero offsets at any
 * level.  Returns MD_OK, or MD_EINVAL/MD_EUNSUPPORTED with *out_err (caller
 * frees); on error nothing is appended to `out`.  Same as
 * md_ipc_write_batches(w, &batch, 1, out, out_err).
 */
int md_ipc_write_batch(md_ipc_writer *w, const struct ArrowArray *batch, md_buf *out,
                       char **out_err);

/*
 * Append ONE record batch message whose rows are those of batches[0], then
 * those of batches[1], ..., batches[n - 1]: the row-wise concatenation of n
 * struct arrays of the schema, each as md_ipc_write_batch takes it (offsets
 * at any level allowed).  Use it to send many small chunks (DuckDB's
 * streaming results) as one message.  The arrays are only read, during the
 * call; the caller still owns and releases them.  Buffers are copied once,
 * by ranges: offsets are rebased, bitmaps shifted, children concatenated.
 *
 * Dictionary-encoded columns: the indexes are concatenated unchanged, so
 * every array that has rows must carry the same dictionary (same contents,
 * not necessarily the same address; DuckDB's ENUM chunks do).  It is then
 * written as md_ipc_write_batch writes it (only when it changed).  If the
 * dictionaries differ, nothing is written and MD_EINVAL says which array:
 * write those arrays in separate calls.
 *
 * n == 1 gives exactly the bytes of md_ipc_write_batch; n == 0 appends
 * nothing and returns MD_OK.  Errors (nothing appended to `out`, *out_err
 * names the column and, when n > 1, the array): MD_EINVAL for an array that
 * does not match the schema, differing dictionaries, or more than 2^31 - 1
 * rows or values in one node (or past 2^31 - 1 bytes in a 32-bit-offset
 * column) in the concatenation; MD_EUNSUPPORTED as for md_ipc_write_batch.
 */
int md_ipc_write_batches(md_ipc_writer *w, const struct ArrowArray *const *batches, size_t n,
                         md_buf *out, char **out_err);

/* Append the 8-byte end-of-stream marker. */
void md_ipc_write_eos(md_buf *out);

void md_ipc_writer_destroy(md_ipc_writer **w);

/* ---- reader ------------------------------------------------------------ */

typedef struct md_ipc_reader md_ipc_reader;

typedef enum md_ipc_message_kind {
    MD_IPC_SCHEMA = 1,     /* the schema was read: md_ipc_reader_schema() works now */
    MD_IPC_DICTIONARY = 2, /* a dictionary batch was read into the reader's state */
    MD_IPC_BATCH = 3,      /* a record batch was read into *out_batch */
    MD_IPC_EOS = 4         /* the end-of-stream marker */
} md_ipc_message_kind;

/* Create a reader; `max_depth` bounds type nesting (0 means 64). */
md_ipc_reader *md_ipc_reader_create(int max_depth);

/*
 * Decode the next message from p[0..len).  On MD_OK: *out_used is the number
 * of bytes the message took, *out_kind says what it was, and for MD_IPC_BATCH
 * *out_batch is a struct array (children = columns) that the caller releases.
 * Returns MD_EEOF when p[0..len) does not hold a whole message (nothing is
 * consumed), MD_EBAD_FRAME for malformed or inconsistent bytes,
 * MD_EUNSUPPORTED for compressed bodies or unknown types, MD_ENOMEM; on
 * error *out_err (caller frees) says what and where.
 */
int md_ipc_reader_next(md_ipc_reader *r, const uint8_t *p, size_t len, size_t *out_used,
                       md_ipc_message_kind *out_kind, struct ArrowArray *out_batch,
                       char **out_err);

/*
 * Export the stream's schema (a struct schema, children = columns) into *out;
 * the caller releases it.  Returns MD_EINVAL before the schema was read.
 */
int md_ipc_reader_schema(md_ipc_reader *r, struct ArrowSchema *out);

void md_ipc_reader_destroy(md_ipc_reader **r);

#endif

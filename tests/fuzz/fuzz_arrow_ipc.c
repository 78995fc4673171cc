/*
 * fuzz_arrow_ipc.c: libFuzzer target for the Arrow IPC stream reader
 * (shared/arrow_ipc.c), with the writer as a differential check.
 *
 * For each input: decode message after message with md_ipc_reader_next.
 * Every batch that decodes is
 *   1. read in full through the C data interface, as a consumer would (every
 *      validity bit, value, offset, child and dictionary entry), so ASan sees
 *      any buffer the reader let through too short;
 *   2. written again with md_ipc_writer (schema from md_ipc_reader_schema),
 *      decoded by a fresh reader, and compared value by value with the
 *      first decode: what the reader accepts, the writer must reproduce;
 *   3. written again as pieces concatenated by md_ipc_write_batches: rows
 *      [0, n/3) of the batch, an empty piece, the middle rows taken from the
 *      decode of step 2 (equal values and dictionaries at other addresses),
 *      the last quarter from the batch; the one batch read back must equal
 *      the original row by row.
 * Any mismatch aborts.  Build: clang -fsanitize=fuzzer,address -Ishared ...
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/arrow_abi.h"
#include "shared/arrow_ipc.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "tests/support/arrow_equal.h"

/* Element i of a equals element j of b (schema s); reads every byte involved. */
static int elem_equal(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                      const struct ArrowArray *b, int64_t j) {
    int r = md_test_arrow_elem_equal(s, a, i, b, j);
    if (r < 0) abort(); /* the reader exported something it does not document */
    return r;
}

static void check_batch(const struct ArrowSchema *s, const struct ArrowArray *a) {
    for (int64_t c = 0; c < s->n_children; c++)
        for (int64_t i = 0; i < a->length; i++)
            if (!elem_equal(s->children[c], a->children[c], i, a->children[c], i)) abort();
}

/*
 * Decode the stream in `out`, which must hold exactly one batch of
 * want->length rows, and compare it with `want` row by row.
 * keep: if not NULL, receives the decoded batch (the caller releases it).
 */
static void read_back(const struct ArrowSchema *s, const md_buf *out, const struct ArrowArray *want,
                      struct ArrowArray *keep) {
    md_ipc_reader *r = md_ipc_reader_create(0);
    char *err = NULL;
    size_t pos = 0;
    int got = 0;
    for (;;) {
        size_t used;
        md_ipc_message_kind kind;
        struct ArrowArray a;
        if (md_ipc_reader_next(r, out->data + pos, out->len - pos, &used, &kind, &a, &err) != MD_OK) abort();
        pos += used;
        if (kind == MD_IPC_BATCH) {
            if (a.length != want->length || got) abort();
            for (int64_t c = 0; c < s->n_children; c++)
                for (int64_t i = 0; i < a.length; i++)
                    if (!elem_equal(s->children[c], want->children[c], want->offset + i, a.children[c], i))
                        abort();
            if (keep) *keep = a;
            else a.release(&a);
            got++;
        }
        if (kind == MD_IPC_EOS) break;
    }
    if (got != 1 || pos != out->len) abort();
    md_ipc_reader_destroy(&r);
}

/* Step 3: `batch` as pieces, the middle one from `copy` (a decode of the same rows). */
static void rewrite_pieces(const struct ArrowSchema *s, const struct ArrowArray *batch,
                           const struct ArrowArray *copy) {
    int64_t n = batch->length, a = n / 3, b = n - n / 4;
    struct ArrowArray p[4] = {*batch, *batch, *copy, *batch};
    p[0].length = a;
    p[1].offset = batch->offset + a;
    p[1].length = 0;
    p[2].offset = copy->offset + a;
    p[2].length = b - a;
    p[3].offset = batch->offset + b;
    p[3].length = n - b;
    const struct ArrowArray *list[4] = {&p[0], &p[1], &p[2], &p[3]};
    md_ipc_writer *w = NULL;
    char *err = NULL;
    if (md_ipc_writer_create(s, &w, &err) != MD_OK) abort();
    md_buf out = MD_BUF_INIT;
    md_ipc_write_schema(w, &out);
    int rc = md_ipc_write_batches(w, list, 4, &out, &err);
    md_ipc_writer_destroy(&w);
    if (rc != MD_OK) {
        /* the one legitimate refusal: dense union children repeated past the size limits */
        if (rc != MD_EINVAL || !err || !strstr(err, "write fewer")) abort();
        md_free(err);
        md_buf_free(&out);
        return;
    }
    md_ipc_write_eos(&out);
    read_back(s, &out, batch, NULL);
    md_buf_free(&out);
}

/* Write `batch` again, decode it with a fresh reader, compare with the original. */
static void rewrite(const struct ArrowSchema *s, const struct ArrowArray *batch) {
    md_ipc_writer *w = NULL;
    char *err = NULL;
    if (md_ipc_writer_create(s, &w, &err) != MD_OK) abort();
    md_buf out = MD_BUF_INIT;
    md_ipc_write_schema(w, &out);
    if (md_ipc_write_batch(w, batch, &out, &err) != MD_OK) abort();
    md_ipc_write_eos(&out);
    md_ipc_writer_destroy(&w);
    struct ArrowArray copy;
    read_back(s, &out, batch, &copy);
    md_buf_free(&out);
    rewrite_pieces(s, batch, &copy);
    copy.release(&copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    md_ipc_reader *r = md_ipc_reader_create(16);
    struct ArrowSchema schema;
    memset(&schema, 0, sizeof schema);
    size_t pos = 0;
    for (int n = 0; n < 64; n++) {
        size_t used = 0;
        md_ipc_message_kind kind;
        struct ArrowArray a;
        char *err = NULL;
        int rc = md_ipc_reader_next(r, data + pos, size - pos, &used, &kind, &a, &err);
        if (rc != MD_OK) {
            /* every refusal but running out of bytes says why */
            if (rc != MD_EEOF && !err) abort();
            md_free(err);
            break;
        }
        if (used < 8 || used > size - pos) abort();
        pos += used;
        if (kind == MD_IPC_SCHEMA) {
            if (md_ipc_reader_schema(r, &schema) != MD_OK) abort();
        } else if (kind == MD_IPC_BATCH) {
            check_batch(&schema, &a);
            rewrite(&schema, &a);
            a.release(&a);
        } else if (kind == MD_IPC_EOS) {
            break;
        }
    }
    if (schema.release) schema.release(&schema);
    md_ipc_reader_destroy(&r);
    return 0;
}

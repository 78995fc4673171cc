/*
 * flatbuf.h: a minimal FlatBuffers builder and a bounds-checking reader.
 *
 * Just enough of the FlatBuffers binary format for Arrow IPC metadata
 * (arrow_ipc.c): tables with scalar and offset fields, strings, vectors of
 * scalars, structs and offsets.  No schema compiler, no generated code.
 *
 * Format recap (all integers little-endian, positions relative to the start
 * of the buffer):
 *   - the buffer starts with a uoffset (u32) to the root table;
 *   - a uoffset stored at position P refers to P + value (always forward);
 *   - a table starts with an soffset (i32) S: its vtable is at table - S;
 *   - a vtable is u16 vtable_size, u16 table_size, then one u16 per field id:
 *     the field's offset inside the table, 0 when the field is absent (the
 *     reader then uses the schema's default);
 *   - a vector or string is a u32 element count followed by the elements;
 *     a string also has a NUL byte after its last byte.
 *
 * Builder: writes front to back into an md_buf, so a parent is written before
 * the objects it refers to; its offset fields are "slots" that the caller
 * patches once the child's position is known (md_fb_patch).  Every object is
 * aligned to its natural alignment relative to the buffer start; the caller
 * must place the finished bytes at an 8-aligned position.
 *
 * Reader: nothing is trusted.  md_fb_root() and every accessor check that the
 * table, its vtable, the field, and every referenced string or vector lie
 * inside the buffer, and return MD_EBAD_FRAME otherwise.  Accessors are lazy
 * (they verify what they touch), so the caller bounds the amount of work, for
 * example by limiting recursion depth and the number of objects it visits.
 */
#ifndef MD_FLATBUF_H
#define MD_FLATBUF_H

#include <stddef.h>
#include <stdint.h>

#include "md_buf.h"

/* ---- builder ----------------------------------------------------------- */

#define MD_FB_MAX_FIELDS 16

typedef struct md_fb_builder {
    md_buf buf;
} md_fb_builder;

/* A table being written: fields are collected, then md_fb_table_end emits them. */
typedef struct md_fb_table_writer {
    md_fb_builder *b;
    unsigned n_fields; /* highest field id + 1 */
    uint8_t size[MD_FB_MAX_FIELDS]; /* 0 = absent; 1, 2, 4, 8 = scalar size */
    uint8_t is_ref[MD_FB_MAX_FIELDS];
    uint64_t value[MD_FB_MAX_FIELDS];
    uint32_t slot[MD_FB_MAX_FIELDS]; /* after md_fb_table_end: position of each ref field */
} md_fb_table_writer;

/* Empty `b` (keeping its memory) and write the root offset slot at position 0. */
void md_fb_reset(md_fb_builder *b);

/* Free the builder's memory. */
void md_fb_free(md_fb_builder *b);

/* Start collecting the fields of a table. */
void md_fb_table_begin(md_fb_table_writer *t, md_fb_builder *b);

/* Set scalar field `id` (0 <= id < MD_FB_MAX_FIELDS) of `size` bytes (1, 2, 4 or 8). */
void md_fb_table_scalar(md_fb_table_writer *t, unsigned id, unsigned size, uint64_t value);

/* Declare offset field `id`; after md_fb_table_end, t->slot[id] is its position. */
void md_fb_table_ref(md_fb_table_writer *t, unsigned id);

/* Write the vtable and the table; returns the table's position. */
uint32_t md_fb_table_end(md_fb_table_writer *t);

/* Write a string (n bytes + NUL); returns its position. */
uint32_t md_fb_string(md_fb_builder *b, const char *s, size_t n);

/*
 * Start a vector of `n` elements of `elem_size` bytes whose first element is
 * aligned to `align` (a power of two, at least 4); writes the count and
 * reserves zeroed space for the elements.  Returns the position of element 0.
 */
uint32_t md_fb_vector(md_fb_builder *b, uint32_t elem_size, uint32_t align, uint32_t n);

/* Store at `slot` the uoffset to `target` (target > slot). */
void md_fb_patch(md_fb_builder *b, uint32_t slot, uint32_t target);

/* Store a little-endian scalar at position `pos` (inside a reserved vector). */
void md_fb_put64(md_fb_builder *b, uint32_t pos, uint64_t v);
void md_fb_put32(md_fb_builder *b, uint32_t pos, uint32_t v);

/* ---- reader ------------------------------------------------------------ */

/* A verified table: the table and its vtable lie inside buf[0..len). */
typedef struct md_fb_table {
    const uint8_t *buf;
    uint32_t len;
    uint32_t pos; /* table start */
    uint32_t vt;  /* vtable start */
    uint16_t vt_size;
    uint16_t tbl_size;
} md_fb_table;

/* A verified vector: n elements of elem bytes at buf[pos..pos + n * elem). */
typedef struct md_fb_vec {
    const uint8_t *buf;
    uint32_t len;
    uint32_t pos;
    uint32_t n;
    uint32_t elem;
} md_fb_vec;

/* Verify the root table of buf[0..len).  MD_OK or MD_EBAD_FRAME. */
int md_fb_root(const uint8_t *buf, size_t len, md_fb_table *out);

/*
 * Scalar fields: *out is the stored value, or `def` when the field is absent.
 * MD_OK, or MD_EBAD_FRAME when the field does not fit in the table.
 */
int md_fb_u8(const md_fb_table *t, unsigned id, uint8_t def, uint8_t *out);
int md_fb_i16(const md_fb_table *t, unsigned id, int16_t def, int16_t *out);
int md_fb_i32(const md_fb_table *t, unsigned id, int32_t def, int32_t *out);
int md_fb_i64(const md_fb_table *t, unsigned id, int64_t def, int64_t *out);

/*
 * Offset fields: return 1 and fill *out when present, 0 when absent,
 * MD_EBAD_FRAME when the field or the object it refers to is out of bounds.
 * A string's bytes are s[0..n) followed by a NUL (checked).
 */
int md_fb_table_field(const md_fb_table *t, unsigned id, md_fb_table *out);
int md_fb_string_field(const md_fb_table *t, unsigned id, const char **out_s, uint32_t *out_n);
int md_fb_vector_field(const md_fb_table *t, unsigned id, uint32_t elem_size, md_fb_vec *out);

/* Element i of a vector of tables / strings.  MD_OK or MD_EBAD_FRAME. */
int md_fb_vec_table(const md_fb_vec *v, uint32_t i, md_fb_table *out);
int md_fb_vec_string(const md_fb_vec *v, uint32_t i, const char **out_s, uint32_t *out_n);

/* Pointer to element i of a vector (i < v->n, not checked). */
static inline const uint8_t *md_fb_vec_at(const md_fb_vec *v, uint32_t i) {
    return v->buf + v->pos + (size_t)i * v->elem;
}

#endif

/*
 * flatbuf.c: minimal FlatBuffers builder and bounds-checking reader (see
 * flatbuf.h for the format recap and the invariants).
 *
 * Builder layout of one table, front to back:
 *
 *   [vtable: u16 vt_size | u16 tbl_size | u16 offset per field id]
 *   [padding to the table's alignment (4, or 8 when a field is 8 bytes)]
 *   [table: i32 soffset = table - vtable (> 0) | fields, largest first]
 *
 * Reader: all arithmetic is done in 64 bits on values read from the buffer,
 * so no sum can wrap before it is compared with the buffer length.
 */
#include "flatbuf.h"

#include <string.h>

#include "md_error.h"

/* ---- builder ----------------------------------------------------------- */

void md_fb_reset(md_fb_builder *b) {
    b->buf.len = 0;
    md_buf_append_zeros(&b->buf, 4); /* root uoffset, patched by the caller */
}

void md_fb_free(md_fb_builder *b) { md_buf_free(&b->buf); }

void md_fb_table_begin(md_fb_table_writer *t, md_fb_builder *b) {
    memset(t, 0, sizeof *t);
    t->b = b;
}

void md_fb_table_scalar(md_fb_table_writer *t, unsigned id, unsigned size, uint64_t value) {
    t->size[id] = (uint8_t)size;
    t->is_ref[id] = 0;
    t->value[id] = value;
    if (id + 1 > t->n_fields) t->n_fields = id + 1;
}

void md_fb_table_ref(md_fb_table_writer *t, unsigned id) {
    t->size[id] = 4;
    t->is_ref[id] = 1;
    t->value[id] = 0;
    if (id + 1 > t->n_fields) t->n_fields = id + 1;
}

uint32_t md_fb_table_end(md_fb_table_writer *t) {
    md_buf *buf = &t->b->buf;
    uint16_t field_off[MD_FB_MAX_FIELDS] = {0};
    uint32_t cursor = 4; /* after the soffset */
    unsigned align = 4;

    /* Largest fields first, each at its natural alignment inside the table. */
    for (unsigned size = 8; size >= 1; size /= 2) {
        for (unsigned id = 0; id < t->n_fields; id++) {
            if (t->size[id] != size) continue;
            cursor = (cursor + size - 1) & ~(size - 1);
            field_off[id] = (uint16_t)cursor;
            cursor += size;
            if (size > align) align = size;
        }
    }
    uint32_t tbl_size = (cursor + 3) & ~3u;

    md_buf_pad(buf, 2);
    uint32_t vt = (uint32_t)buf->len;
    md_buf_put_u16le(buf, (uint16_t)(4 + 2 * t->n_fields));
    md_buf_put_u16le(buf, (uint16_t)tbl_size);
    for (unsigned id = 0; id < t->n_fields; id++) md_buf_put_u16le(buf, field_off[id]);

    md_buf_pad(buf, align);
    uint32_t pos = (uint32_t)buf->len;
    md_buf_append_zeros(buf, tbl_size);
    uint8_t *p = buf->data + pos;
    md_set_u32le(p, pos - vt);
    for (unsigned id = 0; id < t->n_fields; id++) {
        if (!t->size[id]) continue;
        uint8_t *f = p + field_off[id];
        uint64_t v = t->value[id];
        switch (t->size[id]) {
        case 1: f[0] = (uint8_t)v; break;
        case 2: md_set_u16le(f, (uint16_t)v); break;
        case 4: md_set_u32le(f, (uint32_t)v); break;
        default: md_set_u64le(f, v); break;
        }
        if (t->is_ref[id]) t->slot[id] = pos + field_off[id];
    }
    return pos;
}

uint32_t md_fb_string(md_fb_builder *b, const char *s, size_t n) {
    md_buf_pad(&b->buf, 4);
    uint32_t pos = (uint32_t)b->buf.len;
    md_buf_put_u32le(&b->buf, (uint32_t)n);
    md_buf_append(&b->buf, s, n);
    md_buf_put_u8(&b->buf, 0);
    return pos;
}

uint32_t md_fb_vector(md_fb_builder *b, uint32_t elem_size, uint32_t align, uint32_t n) {
    md_buf *buf = &b->buf;
    /* The count sits just before element 0, which must be aligned. */
    while ((buf->len + 4) & (align - 1)) md_buf_put_u8(buf, 0);
    md_buf_put_u32le(buf, n);
    uint32_t first = (uint32_t)buf->len;
    md_buf_append_zeros(buf, (size_t)elem_size * n);
    return first;
}

void md_fb_patch(md_fb_builder *b, uint32_t slot, uint32_t target) {
    md_set_u32le(b->buf.data + slot, target - slot);
}

void md_fb_put64(md_fb_builder *b, uint32_t pos, uint64_t v) { md_set_u64le(b->buf.data + pos, v); }

void md_fb_put32(md_fb_builder *b, uint32_t pos, uint32_t v) { md_set_u32le(b->buf.data + pos, v); }

/* ---- reader ------------------------------------------------------------ */

/* Verify a table starting at `pos`. */
static int verify_table(const uint8_t *buf, uint32_t len, uint64_t pos, md_fb_table *out) {
    if (pos + 4 > len) return MD_EBAD_FRAME;
    int64_t vt = (int64_t)pos - (int32_t)md_get_u32le(buf + pos);
    if (vt < 0 || (uint64_t)vt + 4 > len) return MD_EBAD_FRAME;
    uint16_t vt_size = md_get_u16le(buf + vt);
    uint16_t tbl_size = md_get_u16le(buf + vt + 2);
    if (vt_size < 4 || (vt_size & 1) || (uint64_t)vt + vt_size > len) return MD_EBAD_FRAME;
    if (tbl_size < 4 || pos + tbl_size > len) return MD_EBAD_FRAME;
    out->buf = buf;
    out->len = len;
    out->pos = (uint32_t)pos;
    out->vt = (uint32_t)vt;
    out->vt_size = vt_size;
    out->tbl_size = tbl_size;
    return MD_OK;
}

int md_fb_root(const uint8_t *buf, size_t len, md_fb_table *out) {
    if (len < 8 || len > UINT32_MAX) return MD_EBAD_FRAME;
    return verify_table(buf, (uint32_t)len, md_get_u32le(buf), out);
}

/*
 * Locate field `id` of `size` bytes: returns its absolute position, 0 when the
 * field is absent (position 0 is never inside a table), or -1 when it does
 * not fit inside the table.
 */
static int64_t field_pos(const md_fb_table *t, unsigned id, unsigned size) {
    uint32_t entry = 4 + 2 * id;
    if (entry + 2 > t->vt_size) return 0;
    uint16_t off = md_get_u16le(t->buf + t->vt + entry);
    if (off == 0) return 0;
    if ((uint32_t)off + size > t->tbl_size) return -1;
    return (int64_t)t->pos + off;
}

int md_fb_u8(const md_fb_table *t, unsigned id, uint8_t def, uint8_t *out) {
    int64_t p = field_pos(t, id, 1);
    if (p < 0) return MD_EBAD_FRAME;
    *out = p ? t->buf[p] : def;
    return MD_OK;
}

int md_fb_i16(const md_fb_table *t, unsigned id, int16_t def, int16_t *out) {
    int64_t p = field_pos(t, id, 2);
    if (p < 0) return MD_EBAD_FRAME;
    *out = p ? (int16_t)md_get_u16le(t->buf + p) : def;
    return MD_OK;
}

int md_fb_i32(const md_fb_table *t, unsigned id, int32_t def, int32_t *out) {
    int64_t p = field_pos(t, id, 4);
    if (p < 0) return MD_EBAD_FRAME;
    *out = p ? (int32_t)md_get_u32le(t->buf + p) : def;
    return MD_OK;
}

int md_fb_i64(const md_fb_table *t, unsigned id, int64_t def, int64_t *out) {
    int64_t p = field_pos(t, id, 8);
    if (p < 0) return MD_EBAD_FRAME;
    *out = p ? (int64_t)md_get_u64le(t->buf + p) : def;
    return MD_OK;
}

/* Follow the uoffset stored at `at`: the target position, or -1 when outside. */
static int64_t follow(const uint8_t *buf, uint32_t len, uint64_t at) {
    if (at + 4 > len) return -1;
    uint64_t target = at + md_get_u32le(buf + at);
    if (target >= len) return -1;
    return (int64_t)target;
}

/* Verify a vector (or string, with room for its NUL) at `pos`. */
static int verify_vector(const uint8_t *buf, uint32_t len, uint64_t pos, uint32_t elem_size,
                         int is_string, md_fb_vec *out) {
    if (pos + 4 > len) return MD_EBAD_FRAME;
    uint64_t n = md_get_u32le(buf + pos);
    uint64_t end = pos + 4 + n * elem_size + (is_string ? 1 : 0);
    if (end > len) return MD_EBAD_FRAME;
    if (is_string && buf[end - 1] != 0) return MD_EBAD_FRAME;
    out->buf = buf;
    out->len = len;
    out->pos = (uint32_t)(pos + 4);
    out->n = (uint32_t)n;
    out->elem = elem_size;
    return MD_OK;
}

int md_fb_table_field(const md_fb_table *t, unsigned id, md_fb_table *out) {
    int64_t p = field_pos(t, id, 4);
    if (p < 0) return MD_EBAD_FRAME;
    if (p == 0) return 0;
    int64_t target = follow(t->buf, t->len, (uint64_t)p);
    if (target < 0) return MD_EBAD_FRAME;
    int rc = verify_table(t->buf, t->len, (uint64_t)target, out);
    return rc < 0 ? rc : 1;
}

int md_fb_string_field(const md_fb_table *t, unsigned id, const char **out_s, uint32_t *out_n) {
    int64_t p = field_pos(t, id, 4);
    if (p < 0) return MD_EBAD_FRAME;
    if (p == 0) return 0;
    int64_t target = follow(t->buf, t->len, (uint64_t)p);
    if (target < 0) return MD_EBAD_FRAME;
    md_fb_vec v;
    int rc = verify_vector(t->buf, t->len, (uint64_t)target, 1, 1, &v);
    if (rc < 0) return rc;
    *out_s = (const char *)t->buf + v.pos;
    *out_n = v.n;
    return 1;
}

int md_fb_vector_field(const md_fb_table *t, unsigned id, uint32_t elem_size, md_fb_vec *out) {
    int64_t p = field_pos(t, id, 4);
    if (p < 0) return MD_EBAD_FRAME;
    if (p == 0) return 0;
    int64_t target = follow(t->buf, t->len, (uint64_t)p);
    if (target < 0) return MD_EBAD_FRAME;
    int rc = verify_vector(t->buf, t->len, (uint64_t)target, elem_size, 0, out);
    return rc < 0 ? rc : 1;
}

int md_fb_vec_table(const md_fb_vec *v, uint32_t i, md_fb_table *out) {
    if (i >= v->n || v->elem != 4) return MD_EBAD_FRAME;
    int64_t target = follow(v->buf, v->len, (uint64_t)v->pos + 4ull * i);
    if (target < 0) return MD_EBAD_FRAME;
    return verify_table(v->buf, v->len, (uint64_t)target, out);
}

int md_fb_vec_string(const md_fb_vec *v, uint32_t i, const char **out_s, uint32_t *out_n) {
    if (i >= v->n || v->elem != 4) return MD_EBAD_FRAME;
    int64_t target = follow(v->buf, v->len, (uint64_t)v->pos + 4ull * i);
    if (target < 0) return MD_EBAD_FRAME;
    md_fb_vec s;
    int rc = verify_vector(v->buf, v->len, (uint64_t)target, 1, 1, &s);
    if (rc < 0) return rc;
    *out_s = (const char *)v->buf + s.pos;
    *out_n = s.n;
    return MD_OK;
}

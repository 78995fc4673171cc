/*
 * md_buf.c: growable byte buffer (see md_buf.h).
 */
#include "md_buf.h"

#include <string.h>

#include "md_alloc.h"

void md_buf_reserve(md_buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) cap *= 2;
    b->data = md_realloc(b->data, cap);
    b->cap = cap;
}

void md_buf_append(md_buf *b, const void *p, size_t n) {
    if (n == 0) return;
    md_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void md_buf_append_zeros(md_buf *b, size_t n) {
    if (n == 0) return;
    md_buf_reserve(b, n);
    memset(b->data + b->len, 0, n);
    b->len += n;
}

void md_buf_pad(md_buf *b, size_t align) {
    size_t rem = b->len & (align - 1);
    if (rem) md_buf_append_zeros(b, align - rem);
}

void md_buf_put_u8(md_buf *b, uint8_t v) { md_buf_append(b, &v, 1); }

void md_buf_put_quoted(md_buf *b, const char *s, char q) {
    md_buf_put_u8(b, (uint8_t)q);
    for (; *s; s++) {
        if (*s == q) md_buf_put_u8(b, (uint8_t)q);
        md_buf_put_u8(b, (uint8_t)*s);
    }
    md_buf_put_u8(b, (uint8_t)q);
}

void md_buf_put_u16le(md_buf *b, uint16_t v) {
    uint8_t t[2];
    md_set_u16le(t, v);
    md_buf_append(b, t, 2);
}

void md_buf_put_u32le(md_buf *b, uint32_t v) {
    uint8_t t[4];
    md_set_u32le(t, v);
    md_buf_append(b, t, 4);
}

void md_buf_put_u64le(md_buf *b, uint64_t v) {
    uint8_t t[8];
    md_set_u64le(t, v);
    md_buf_append(b, t, 8);
}

uint8_t *md_buf_detach(md_buf *b, size_t *out_len) {
    uint8_t *d = b->data;
    *out_len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void md_buf_free(md_buf *b) {
    md_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

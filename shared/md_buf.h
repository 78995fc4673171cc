/*
 * md_buf.h: a growable byte buffer.
 *
 * Invariant: data[0..len) is valid, len <= cap; data may be NULL when cap == 0.
 * Growth aborts on OOM (md_realloc): use md_buf only for sizes the program
 * controls or that were already checked against a limit.
 */
#ifndef MD_BUF_H
#define MD_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct md_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} md_buf;

#define MD_BUF_INIT {NULL, 0, 0}

/* Make room for at least `extra` more bytes. */
void md_buf_reserve(md_buf *b, size_t extra);

/* Append n bytes. */
void md_buf_append(md_buf *b, const void *p, size_t n);

/* Append n zero bytes. */
void md_buf_append_zeros(md_buf *b, size_t n);

/* Append zero bytes until len is a multiple of `align` (a power of two). */
void md_buf_pad(md_buf *b, size_t align);

void md_buf_put_u8(md_buf *b, uint8_t v);
void md_buf_put_u16le(md_buf *b, uint16_t v);
void md_buf_put_u32le(md_buf *b, uint32_t v);
void md_buf_put_u64le(md_buf *b, uint64_t v);

/* Append `s` between quote characters q, each q inside doubled: a SQL
 * string literal (q '\'') or quoted identifier (q '"'). */
void md_buf_put_quoted(md_buf *b, const char *s, char q);

/* Take the bytes: returns data (caller frees with md_free) and resets b. */
uint8_t *md_buf_detach(md_buf *b, size_t *out_len);

/* Free the bytes and reset b to empty. */
void md_buf_free(md_buf *b);

static inline uint16_t md_get_u16le(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t md_get_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t md_get_u64le(const uint8_t *p) {
    return (uint64_t)md_get_u32le(p) | ((uint64_t)md_get_u32le(p + 4) << 32);
}
static inline void md_set_u16le(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void md_set_u32le(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void md_set_u64le(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

#endif

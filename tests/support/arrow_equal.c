/*
 * arrow_equal.c: comparison of Arrow arrays for tests (see arrow_equal.h).
 */
#include "arrow_equal.h"

#include <stdlib.h>
#include <string.h>

static int fmt_width(const char *f) {
    if (!f[1]) {
        switch (f[0]) {
        case 'c': case 'C': return 1;
        case 's': case 'S': case 'e': return 2;
        case 'i': case 'I': case 'f': return 4;
        case 'l': case 'L': case 'g': return 8;
        }
        return 0;
    }
    if (f[0] == 'd' && f[1] == ':') {
        const char *c = strchr(f + 2, ',');
        c = c ? strchr(c + 1, ',') : NULL;
        return c ? atoi(c + 1) / 8 : 16;
    }
    if (f[0] == 'w' && f[1] == ':') return atoi(f + 2);
    if (!strcmp(f, "tdD") || !strcmp(f, "tts") || !strcmp(f, "ttm") || !strcmp(f, "tiM")) return 4;
    if (!strcmp(f, "tdm") || !strcmp(f, "ttu") || !strcmp(f, "ttn") || !strcmp(f, "tiD")) return 8;
    if (!strcmp(f, "tin")) return 16;
    if (f[0] == 't' && (f[1] == 's' || f[1] == 'D')) return 8;
    return 0;
}

static int bitv(const void *bits, int64_t i) { return (((const uint8_t *)bits)[i >> 3] >> (i & 7)) & 1; }

static int64_t off_at(const struct ArrowArray *a, int64_t i, int large) {
    if (large) return ((const int64_t *)a->buffers[1])[i];
    return ((const int32_t *)a->buffers[1])[i];
}

/* The bytes of view element p (physical) of a BinaryView/Utf8View array. */
static const uint8_t *view_at(const struct ArrowArray *a, int64_t p, int32_t *out_len) {
    const uint8_t *v = (const uint8_t *)a->buffers[1] + 16 * p;
    int32_t len, idx, off;
    memcpy(&len, v, 4);
    *out_len = len;
    if (len <= 12) return v + 4;
    memcpy(&idx, v + 8, 4);
    memcpy(&off, v + 12, 4);
    return (const uint8_t *)a->buffers[2 + idx] + off;
}

static int64_t idx_at(const char *f, const void *p, int64_t i) {
    switch (f[0]) {
    case 'c': return ((const int8_t *)p)[i];
    case 'C': return ((const uint8_t *)p)[i];
    case 's': return ((const int16_t *)p)[i];
    case 'S': return ((const uint16_t *)p)[i];
    case 'i': return ((const int32_t *)p)[i];
    case 'I': return ((const uint32_t *)p)[i];
    default: return ((const int64_t *)p)[i];
    }
}

int md_test_arrow_elem_equal(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                      const struct ArrowArray *b, int64_t j) {
    const char *f = s->format;
    int64_t pi = a->offset + i, pj = b->offset + j;
    if (!strcmp(f, "n")) return 1;
    int is_union = f[0] == '+' && f[1] == 'u';
    if (!is_union) {
        int va = !a->buffers[0] || a->null_count == 0 || bitv(a->buffers[0], pi);
        int vb = !b->buffers[0] || b->null_count == 0 || bitv(b->buffers[0], pj);
        if (va != vb) return 0;
        if (!va) return 1;
    }
    if (s->dictionary)
        return md_test_arrow_elem_equal(s->dictionary, a->dictionary, idx_at(f, a->buffers[1], pi), b->dictionary,
                          idx_at(f, b->buffers[1], pj));
    if (!strcmp(f, "b")) return bitv(a->buffers[1], pi) == bitv(b->buffers[1], pj);
    int w = fmt_width(f);
    if (w)
        return !memcmp((const uint8_t *)a->buffers[1] + pi * w,
                       (const uint8_t *)b->buffers[1] + pj * w, (size_t)w);
    if (!strcmp(f, "u") || !strcmp(f, "z") || !strcmp(f, "U") || !strcmp(f, "Z")) {
        int large = f[0] == 'U' || f[0] == 'Z';
        int64_t a0 = off_at(a, pi, large), a1 = off_at(a, pi + 1, large);
        int64_t b0 = off_at(b, pj, large), b1 = off_at(b, pj + 1, large);
        if (a1 - a0 != b1 - b0) return 0;
        return !memcmp((const uint8_t *)a->buffers[2] + a0, (const uint8_t *)b->buffers[2] + b0,
                       (size_t)(a1 - a0));
    }
    if (!strcmp(f, "vu") || !strcmp(f, "vz")) {
        int32_t la, lb;
        const uint8_t *va = view_at(a, pi, &la), *vb = view_at(b, pj, &lb);
        return la == lb && !memcmp(va, vb, (size_t)la);
    }
    if (!strcmp(f, "+l") || !strcmp(f, "+L") || !strcmp(f, "+m")) {
        int large = f[1] == 'L';
        int64_t a0 = off_at(a, pi, large), a1 = off_at(a, pi + 1, large);
        int64_t b0 = off_at(b, pj, large), b1 = off_at(b, pj + 1, large);
        if (a1 - a0 != b1 - b0) return 0;
        for (int64_t k = 0; k < a1 - a0; k++) {
            int r = md_test_arrow_elem_equal(s->children[0], a->children[0], a0 + k, b->children[0], b0 + k);
            if (r != 1) return r;
        }
        return 1;
    }
    if (!strncmp(f, "+w:", 3)) {
        int64_t n = atoi(f + 3);
        for (int64_t k = 0; k < n; k++) {
            int r = md_test_arrow_elem_equal(s->children[0], a->children[0], pi * n + k, b->children[0], pj * n + k);
            if (r != 1) return r;
        }
        return 1;
    }
    if (!strcmp(f, "+s")) {
        for (int64_t c = 0; c < s->n_children; c++) {
            int r = md_test_arrow_elem_equal(s->children[c], a->children[c], pi, b->children[c], pj);
            if (r != 1) return r;
        }
        return 1;
    }
    if (is_union) {
        int8_t ta = ((const int8_t *)a->buffers[0])[pi], tb = ((const int8_t *)b->buffers[0])[pj];
        if (ta != tb) return 0;
        const char *p = f + 4;
        int64_t c = 0;
        while (atoi(p) != ta) {
            p = strchr(p, ',');
            if (!p) return -1; /* an undeclared type id */
            p++;
            c++;
        }
        int64_t ca = f[2] == 'd' ? ((const int32_t *)a->buffers[1])[pi] : pi;
        int64_t cb = f[2] == 'd' ? ((const int32_t *)b->buffers[1])[pj] : pj;
        return md_test_arrow_elem_equal(s->children[c], a->children[c], ca, b->children[c], cb);
    }
    return -1; /* a format this comparison does not know */
}


/*
 * md_alloc.c: allocation wrappers (see md_alloc.h).
 */
#include "md_alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long fail_countdown = -1;

static void oom(size_t n) {
    fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

static int inject_failure(void) {
    if (fail_countdown < 0) return 0;
    if (fail_countdown == 0) {
        fail_countdown = -1;
        return 1;
    }
    fail_countdown--;
    return 0;
}

void md_alloc_fail_after(long n) { fail_countdown = n; }

void *md_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *md_calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) oom(count * size);
    return p;
}

void *md_realloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *md_strdup(const char *s) { return md_strndup(s, strlen(s)); }

char *md_strndup(const char *s, size_t n) {
    char *d = md_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

void *md_trymalloc(size_t n) {
    if (inject_failure()) return NULL;
    return malloc(n ? n : 1);
}

void *md_tryrealloc(void *p, size_t n) {
    if (inject_failure()) return NULL;
    return realloc(p, n ? n : 1);
}

char *md_asprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) oom(0);
    char *s = md_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void md_free(void *p) { free(p); }

/*
 * md_alloc.h: allocation wrappers.
 *
 * md_malloc/md_calloc/md_realloc/md_strdup abort the process on OOM: use them
 * for sizes the program itself controls.  md_trymalloc/md_tryrealloc return
 * NULL instead: use them for sizes a client controls (frame lengths, Arrow
 * buffer lengths) so a hostile size becomes an error, not an abort.
 *
 * A test build may set a failure countdown with md_alloc_fail_after(n): the
 * n-th following try-allocation fails (n < 0 disables injection).
 */
#ifndef MD_ALLOC_H
#define MD_ALLOC_H

#include <stddef.h>

void *md_malloc(size_t n);
void *md_calloc(size_t count, size_t size);
void *md_realloc(void *p, size_t n);
char *md_strdup(const char *s);
char *md_strndup(const char *s, size_t n);

void *md_trymalloc(size_t n);
void *md_tryrealloc(void *p, size_t n);

/* malloc'd printf; aborts on OOM.  Caller frees. */
char *md_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void md_free(void *p);

void md_alloc_fail_after(long n);

#endif

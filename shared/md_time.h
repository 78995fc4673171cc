/*
 * md_time.h: the monotonic clock, in milliseconds, for deadlines and
 * durations (never for wall-clock times).
 */
#ifndef MD_TIME_H
#define MD_TIME_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC, whole. */
int64_t md_now_ms(void);

/* Milliseconds on CLOCK_MONOTONIC, with the fraction (for timings shown to users). */
double md_now_ms_f(void);

#endif

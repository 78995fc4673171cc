/*
 * md_time.h: the monotonic clock, in milliseconds, for deadlines and
 * durations; and the wall clock, only for times shown or stored.
 */
#ifndef MD_TIME_H
#define MD_TIME_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC, whole. */
int64_t md_now_ms(void);

/* Milliseconds on CLOCK_MONOTONIC, with the fraction (for timings shown to users). */
double md_now_ms_f(void);

/* Milliseconds since the Unix epoch (CLOCK_REALTIME): never for durations. */
long long md_wall_ms(void);

struct timespec;

/* *out = CLOCK_REALTIME now + ms: the absolute deadline pthread_cond_timedwait
 * and pthread_timedjoin_np take. */
void md_deadline_in_ms(struct timespec *out, int64_t ms);

#endif

/*
 * stats.h: clocks and order statistics for the benchmarks.
 *
 * Every timing in bench/ comes from bench_now_ns() (CLOCK_MONOTONIC).
 * Samples are plain double arrays; the functions below never keep a pointer
 * to them.  Percentiles use the nearest-rank definition (p50 of 4 samples is
 * the 2nd smallest), so every reported value is one that was measured.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic time in nanoseconds. */
int64_t bench_now_ns(void);

/* Seconds elapsed since `t0_ns` (a bench_now_ns() value). */
double bench_elapsed_s(int64_t t0_ns);

/*
 * The nearest-rank `p`-th percentile (0 < p <= 100) of v[0..n).  Sorts v in
 * place.  Returns NAN for n == 0.
 */
double bench_percentile(double *v, size_t n, double p);

/* The median (nearest rank, lower of the two middles for even n); sorts v. */
double bench_median(double *v, size_t n);

/* The geometric mean of v[0..n) (all > 0); NAN for n == 0 or a value <= 0. */
double bench_geomean(const double *v, size_t n);

#endif

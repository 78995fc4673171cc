/*
 * stats.c: clocks and order statistics (see stats.h).
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

int64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double bench_elapsed_s(int64_t t0_ns) { return (double)(bench_now_ns() - t0_ns) / 1e9; }

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_percentile(double *v, size_t n, double p) {
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    /* Nearest rank: the smallest value with at least p% of samples <= it. */
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return v[rank - 1];
}

double bench_median(double *v, size_t n) { return bench_percentile(v, n, 50.0); }

double bench_geomean(const double *v, size_t n) {
    if (n == 0) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] > 0)) return NAN;
        s += log(v[i]);
    }
    return exp(s / (double)n);
}

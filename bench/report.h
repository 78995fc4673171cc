/*
 * report.h: how a benchmark tells its result.
 *
 * One benchmark = one line on stdout, after its context lines (which start
 * with two spaces):
 *
 *   BENCH <name> ours=<v><unit> peer=<v><unit> ratio=<ours/peer> target=<op><t> PASS|MISS
 *
 * where <op> is "<=" (lower is better: times) or ">=" (higher is better:
 * rates), and one JSON object in a file of its own (bench/run.sh gathers the
 * objects of all benchmarks into build/bench.json):
 *
 *   {"name", "unit", "ours", "peer", "ratio", "target", "target_op", "pass",
 *    ...extra fields of the benchmark..., ["error"]}
 *
 * A benchmark that could not be measured still reports: values are null in
 * JSON and "nan" on the line, pass is false, and "error" says why.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdbool.h>

struct cJSON;

typedef struct bench_result {
    const char *name;
    const char *unit;    /* of ours and peer: "ms", "rows/s", "us" */
    double ours, peer;   /* ratio = ours / peer */
    double target;
    bool higher_is_better; /* pass: ratio >= target; else ratio <= target */
    const char *error;   /* non-NULL: not measured */
    struct cJSON *extra; /* object whose items are added to the JSON; may be NULL */
} bench_result;

/*
 * Print the BENCH line of `r` on stdout and write its JSON object to
 * `json_path` (NULL: no file).  Takes ownership of r->extra (deleted here).
 * Returns true when the target was met.
 */
bool bench_report(bench_result *r, const char *json_path);

/* printf to stdout with the two-space context prefix, then flush. */
void bench_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

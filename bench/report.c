/*
 * report.c: BENCH lines and JSON result objects (see report.h).
 */
#include "report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void bench_say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("  ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
}

/* A value as the line shows it: precision by magnitude, "nan" if unknown. */
static void fmt_value(char *out, size_t cap, double v, const char *unit) {
    if (!isfinite(v)) snprintf(out, cap, "nan");
    else if (fabs(v) >= 10000) snprintf(out, cap, "%.0f%s", v, unit);
    else if (fabs(v) >= 100) snprintf(out, cap, "%.1f%s", v, unit);
    else if (fabs(v) >= 1) snprintf(out, cap, "%.3f%s", v, unit);
    else snprintf(out, cap, "%.4f%s", v, unit);
}

static void add_number(cJSON *o, const char *key, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

bool bench_report(bench_result *r, const char *json_path) {
    double ratio = r->error ? NAN : r->ours / r->peer;
    bool pass = !r->error && isfinite(ratio) &&
                (r->higher_is_better ? ratio >= r->target : ratio <= r->target);
    const char *op = r->higher_is_better ? ">=" : "<=";
    char ours[64], peer[64], rat[32];
    fmt_value(ours, sizeof ours, r->error ? NAN : r->ours, r->unit);
    fmt_value(peer, sizeof peer, r->error ? NAN : r->peer, r->unit);
    if (isfinite(ratio)) snprintf(rat, sizeof rat, "%.3f", ratio);
    else snprintf(rat, sizeof rat, "nan");
    if (r->error) bench_say("error: %s", r->error);
    printf("BENCH %s ours=%s peer=%s ratio=%s target=%s%.2f %s\n", r->name, ours, peer, rat, op, r->target,
           pass ? "PASS" : "MISS");
    fflush(stdout);

    if (json_path) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->name);
        cJSON_AddStringToObject(o, "unit", r->unit);
        add_number(o, "ours", r->error ? NAN : r->ours);
        add_number(o, "peer", r->error ? NAN : r->peer);
        add_number(o, "ratio", ratio);
        cJSON_AddNumberToObject(o, "target", r->target);
        cJSON_AddStringToObject(o, "target_op", op);
        cJSON_AddBoolToObject(o, "pass", pass);
        if (r->extra) {
            cJSON *it = r->extra->child;
            while (it) {
                cJSON *next = it->next;
                cJSON_DetachItemViaPointer(r->extra, it);
                cJSON_AddItemToObject(o, it->string, it);
                it = next;
            }
        }
        if (r->error) cJSON_AddStringToObject(o, "error", r->error);
        char *text = cJSON_Print(o);
        FILE *f = fopen(json_path, "w");
        if (f) {
            fputs(text, f);
            fputc('\n', f);
            fclose(f);
        } else {
            fprintf(stderr, "mdbench: cannot write %s\n", json_path);
        }
        cJSON_free(text);
        cJSON_Delete(o);
    }
    cJSON_Delete(r->extra);
    r->extra = NULL;
    return pass;
}

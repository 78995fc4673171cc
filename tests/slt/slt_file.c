/*
 * slt_file.c: reading sqllogictest files (slt_file.h).  The file is cut
 * into lines; loops are expanded first (their bodies copied with ${var}
 * replaced), then records are read from the expanded lines.
 */
#include "slt_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/md_alloc.h"
#include "shared/md_buf.h"

typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

static void push_line(lines *l, char *s) {
    if (l->n == l->cap) l->v = md_realloc(l->v, (l->cap = l->cap ? l->cap * 2 : 256) * sizeof *l->v);
    l->v[l->n++] = s;
}

static void free_lines(lines *l) {
    for (size_t i = 0; i < l->n; i++) md_free(l->v[i]);
    md_free(l->v);
}

/* `s` with every ${name} replaced by value (malloc'd). */
static char *substitute(const char *s, const char *name, const char *value) {
    char *pat = md_asprintf("${%s}", name);
    size_t pl = strlen(pat);
    md_buf b = MD_BUF_INIT;
    for (const char *p = s; *p;) {
        if (strncmp(p, pat, pl) == 0) {
            md_buf_append(&b, value, strlen(value));
            p += pl;
        } else {
            md_buf_put_u8(&b, (uint8_t)*p++);
        }
    }
    md_buf_put_u8(&b, 0);
    md_free(pat);
    size_t n;
    return (char *)md_buf_detach(&b, &n);
}

static int starts(const char *line, const char *word) {
    size_t n = strlen(word);
    return strncmp(line, word, n) == 0 && (line[n] == ' ' || line[n] == '\t' || line[n] == 0);
}

/* Split on spaces/tabs into at most max words (pointers into a copy). */
static int words(const char *line, char **copy, char **w, int max) {
    *copy = md_strdup(line);
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(*copy, " \t", &save); t && n < max; t = strtok_r(NULL, " \t", &save)) w[n++] = t;
    return n;
}

/* The type lists DuckDB's runner expands in foreach (<numeric> ...), or NULL. */
static const char *type_group(const char *w) {
    static const struct {
        const char *name, *types;
    } groups[] = {
        {"<signed>", "tinyint smallint integer bigint hugeint"},
        {"<unsigned>", "utinyint usmallint uinteger ubigint uhugeint"},
        {"<integral>", "tinyint smallint integer bigint hugeint utinyint usmallint uinteger ubigint uhugeint"},
        {"<numeric>", "tinyint smallint integer bigint hugeint utinyint usmallint uinteger ubigint uhugeint "
                      "float double"},
    };
    for (size_t i = 0; i < sizeof groups / sizeof *groups; i++)
        if (strcmp(w, groups[i].name) == 0) return groups[i].types;
    return NULL;
}

/* Expand loops in in[from..to) into out; returns the index after the block
 * (at an endloop or to). */
static size_t expand(char **in, size_t from, size_t to, lines *out, int depth) {
    size_t i = from;
    while (i < to) {
        const char *l = in[i];
        if (starts(l, "endloop")) return i;
        int is_loop = starts(l, "loop") || starts(l, "concurrentloop");
        int is_each = starts(l, "foreach") || starts(l, "concurrentforeach");
        if ((is_loop || is_each) && depth < 8) {
            char *copy, *w[256];
            int nw = words(l, &copy, w, 256);
            /* find the matching endloop */
            size_t end = i + 1;
            for (int nest = 0; end < to; end++) {
                if (starts(in[end], "loop") || starts(in[end], "concurrentloop") || starts(in[end], "foreach") ||
                    starts(in[end], "concurrentforeach"))
                    nest++;
                else if (starts(in[end], "endloop") && nest-- == 0)
                    break;
            }
            char **values = NULL;
            size_t nvalues = 0;
            if (is_loop && nw >= 4) {
                long a = strtol(w[2], NULL, 10), b = strtol(w[3], NULL, 10);
                for (long v = a; v < b && nvalues < 100000; v++) {
                    values = md_realloc(values, (nvalues + 1) * sizeof *values);
                    values[nvalues++] = md_asprintf("%ld", v);
                }
            } else if (is_each && nw >= 3) {
                for (int k = 2; k < nw; k++) {
                    const char *group = type_group(w[k]);
                    char *gcopy = group ? md_strdup(group) : NULL, *save = NULL;
                    for (char *t = group ? strtok_r(gcopy, " ", &save) : w[k]; t;
                         t = group ? strtok_r(NULL, " ", &save) : NULL) {
                        values = md_realloc(values, (nvalues + 1) * sizeof *values);
                        values[nvalues++] = md_strdup(t);
                    }
                    md_free(gcopy);
                }
            }
            for (size_t v = 0; v < nvalues; v++) {
                lines body = {NULL, 0, 0};
                for (size_t k = i + 1; k < end; k++) push_line(&body, substitute(in[k], w[1], values[v]));
                expand(body.v, 0, body.n, out, depth + 1);
                free_lines(&body);
                md_free(values[v]);
            }
            md_free(values);
            md_free(copy);
            i = end + 1;
            continue;
        }
        push_line(out, md_strdup(l));
        i++;
    }
    return i;
}

static void add(slt_file *f, slt_record r) {
    f->records = md_realloc(f->records, (f->n + 1) * sizeof *f->records);
    f->records[f->n++] = r;
}

static int blank(const char *l) {
    for (; *l; l++)
        if (*l != ' ' && *l != '\t' && *l != '\r') return 0;
    return 1;
}

/* Lines from i up to a blank line or `stop` ("----"), joined with \n. */
static char *block(lines *l, size_t *i, int stop_at_dashes) {
    md_buf b = MD_BUF_INIT;
    while (*i < l->n && !blank(l->v[*i]) && !(stop_at_dashes && strcmp(l->v[*i], "----") == 0)) {
        if (b.len) md_buf_put_u8(&b, '\n');
        md_buf_append(&b, l->v[*i], strlen(l->v[*i]));
        (*i)++;
    }
    md_buf_put_u8(&b, 0);
    size_t n;
    return (char *)md_buf_detach(&b, &n);
}

static const char *const supported_requires[] = {"no_alternative_verify", "skip_reload", "notmusl", "longdouble"};

static slt_record skip_record(int line, char *reason) {
    slt_record r;
    memset(&r, 0, sizeof r);
    r.kind = SLT_SKIP;
    r.line = line;
    r.reason = reason;
    return r;
}

int slt_file_read(const char *path, slt_file **out, char **out_err) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        *out_err = md_asprintf("cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    lines raw = {NULL, 0, 0};
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&buf, &cap, fp)) >= 0) {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = 0;
        push_line(&raw, md_strdup(buf));
    }
    free(buf);
    fclose(fp);
    lines l = {NULL, 0, 0};
    expand(raw.v, 0, raw.n, &l, 0);
    free_lines(&raw);

    slt_file *f = md_calloc(1, sizeof *f);
    int skipping = 0; /* mode skip */
    int no_data = 0;  /* a statement before needed a data file we do not have */
    int cond = 0;     /* skipif/onlyif for the next record: 1 run, -1 skip, 0 none */
    for (size_t i = 0; i < l.n;) { /* on after a failed require: its records are counted as skipped */
        const char *t = l.v[i];
        int line = (int)i + 1; /* of the expanded text: close to the file's for files without loops */
        if (blank(t) || t[0] == '#') {
            i++;
            continue;
        }
        char *copy, *w[8];
        int nw = words(t, &copy, w, 8);
        i++;
        if (strcmp(w[0], "mode") == 0) {
            if (nw > 1 && strcmp(w[1], "skip") == 0) skipping = 1;
            if (nw > 1 && strcmp(w[1], "unskip") == 0) skipping = 0;
        } else if (strcmp(w[0], "skipif") == 0 || strcmp(w[0], "onlyif") == 0) {
            int us = nw > 1 && strcmp(w[1], "duckdb") == 0;
            cond = (strcmp(w[0], "onlyif") == 0) == us ? 1 : -1;
        } else if (strcmp(w[0], "hash-threshold") == 0 || strcmp(w[0], "name") == 0 ||
                   strcmp(w[0], "group") == 0) {
            /* nothing to do */
        } else if (strcmp(w[0], "halt") == 0) {
            slt_record r;
            memset(&r, 0, sizeof r);
            r.kind = SLT_HALT;
            r.line = line;
            add(f, r);
            md_free(copy);
            break;
        } else if (strcmp(w[0], "require") == 0) {
            int ok = 0;
            for (size_t k = 0; k < sizeof supported_requires / sizeof *supported_requires && nw > 1; k++)
                ok |= strcmp(w[1], supported_requires[k]) == 0;
            if (nw > 2 && strcmp(w[1], "vector_size") == 0) ok = atoi(w[2]) <= 2048;
            if (!ok && !f->skip_file) f->skip_file = md_asprintf("require %s: not available here", nw > 1 ? w[1] : "?");
        } else if (strcmp(w[0], "statement") == 0 || strcmp(w[0], "query") == 0) {
            slt_record r;
            memset(&r, 0, sizeof r);
            r.line = line;
            if (w[0][0] == 's') {
                r.kind = SLT_STATEMENT;
                r.expect = nw > 1 && strcmp(w[1], "error") == 0 ? SLT_ERROR
                           : nw > 1 && strcmp(w[1], "maybe") == 0 ? SLT_MAYBE
                                                                 : SLT_OK;
                r.sql = block(&l, &i, 1);
                if (i < l.n && strcmp(l.v[i], "----") == 0) {
                    i++;
                    r.error_text = block(&l, &i, 0);
                }
            } else {
                r.kind = SLT_QUERY;
                r.types = md_strdup(nw > 1 ? w[1] : "");
                /* "sort" is DuckDB's other spelling of rowsort */
                int rowsort = nw > 2 && (strcmp(w[2], "rowsort") == 0 || strcmp(w[2], "sort") == 0);
                r.sort = rowsort                                    ? SLT_ROWSORT
                         : nw > 2 && strcmp(w[2], "valuesort") == 0 ? SLT_VALUESORT
                                                                    : SLT_NOSORT;
                int has_mode = rowsort || (nw > 2 && (strcmp(w[2], "valuesort") == 0 || strcmp(w[2], "nosort") == 0));
                if (nw > (has_mode ? 3 : 2)) r.label = md_strdup(w[has_mode ? 3 : 2]);
                r.sql = block(&l, &i, 1);
                if (i < l.n && strcmp(l.v[i], "----") == 0) {
                    i++;
                    while (i < l.n && !blank(l.v[i])) {
                        r.expected = md_realloc(r.expected, (r.nexpected + 1) * sizeof *r.expected);
                        r.expected[r.nexpected++] = md_strdup(l.v[i++]);
                    }
                }
            }
            const char *why = NULL;
            if (skipping) why = "mode skip";
            else if (cond < 0) why = "skipif/onlyif: not for duckdb";
            else if (strstr(r.sql, "__TEST_DIR__") || strstr(r.sql, "__WORKING_DIRECTORY__"))
                why = "needs the test runner's scratch directory";
            else if (strstr(r.sql, "'data/") || strstr(r.sql, "\"data/") || strstr(r.sql, "{DATA_DIR}") ||
                     strstr(r.sql, "'test/sql/") || strstr(r.sql, "\"test/sql/")) {
                why = "needs a data file of DuckDB's repository";
                /* what a statement loads, the rest of the file reads */
                if (r.kind == SLT_STATEMENT && r.expect != SLT_ERROR) no_data = 1;
            } else if (no_data)
                why = "follows a statement that needs a data file of DuckDB's repository";
            if (why) {
                md_free(r.sql);
                md_free(r.types);
                md_free(r.error_text);
                for (size_t k = 0; k < r.nexpected; k++) md_free(r.expected[k]);
                md_free(r.expected);
                add(f, skip_record(line, md_strdup(why)));
            } else {
                add(f, r);
            }
            cond = 0;
        } else {
            add(f, skip_record(line, md_asprintf("directive %s is not supported", w[0])));
            md_free(block(&l, &i, 0)); /* what follows it up to a blank line is not SQL */
        }
        md_free(copy);
    }
    free_lines(&l);
    *out = f;
    return 0;
}

void slt_file_free(slt_file **pf) {
    if (!pf || !*pf) return;
    slt_file *f = *pf;
    for (size_t i = 0; i < f->n; i++) {
        slt_record *r = &f->records[i];
        md_free(r->sql);
        md_free(r->error_text);
        md_free(r->types);
        md_free(r->label);
        md_free(r->reason);
        for (size_t k = 0; k < r->nexpected; k++) md_free(r->expected[k]);
        md_free(r->expected);
    }
    md_free(f->records);
    md_free(f->skip_file);
    md_free(f);
    *pf = NULL;
}

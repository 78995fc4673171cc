/*
 * path_guard.c: keep user SQL away from the server's own files (see
 * path_guard.h).
 *
 * Resolution is lexical first ('.', '..', '//' against the working
 * directory), then the longest prefix of the result that exists goes
 * through realpath(3), so a symbolic link anywhere on the way is followed
 * as the kernel would follow it; the part that does not exist yet (a file
 * ATTACH would create) is appended as it is.
 */
#include "path_guard.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

static int fail(md_sql_error *err, uint32_t pos, const char *fmt, ...) {
    err->code = MD_EPERMISSION;
    err->position = pos;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return MD_EPERMISSION;
}

/* '.', '..' and repeated slashes of the absolute path `p` removed. */
static char *normalize(const char *p) {
    md_buf out = MD_BUF_INIT;
    size_t *starts = md_malloc((strlen(p) + 1) * sizeof *starts); /* where each kept component starts */
    size_t depth = 0;
    while (*p) {
        while (*p == '/') p++;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0) break;
        if (n == 1 && p[0] == '.') {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (depth > 0) out.len = starts[--depth];
        } else {
            starts[depth++] = out.len;
            md_buf_append(&out, "/", 1);
            md_buf_append(&out, p, n);
        }
        p += n;
    }
    if (out.len == 0) md_buf_append(&out, "/", 1);
    md_buf_append(&out, "", 1);
    md_free(starts);
    size_t len;
    return (char *)md_buf_detach(&out, &len);
}

char *md_path_resolve(const char *cwd, const char *path) {
    if (strncasecmp(path, "file://", 7) == 0) path += 7;
    char *joined = path[0] == '/' ? md_strdup(path) : md_asprintf("%s/%s", cwd, path);
    char *abs = normalize(joined);
    md_free(joined);
    /* follow the links of the longest existing prefix */
    size_t cut = strlen(abs);
    for (;;) {
        char saved = abs[cut];
        abs[cut] = 0;
        char *real = realpath(cut ? abs : "/", NULL);
        abs[cut] = saved;
        if (real) {
            /* abs + cut is empty or starts with '/': join without doubling it */
            const char *head = strcmp(real, "/") == 0 ? "" : real;
            char *out = md_asprintf("%s%s", head, abs + cut);
            if (!*out) {
                md_free(out);
                out = md_strdup("/");
            }
            free(real);
            md_free(abs);
            return out;
        }
        if (cut == 0) break;
        while (cut > 0 && abs[cut - 1] != '/') cut--;
        if (cut > 0) cut--; /* before the slash */
    }
    return abs;
}

/* Is `path` (resolved) `dir` or inside it? */
static int inside(const char *path, const char *dir) {
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static int is_kw(const char *sql, const md_sql_token *t, const char *word) {
    return (t->type == MD_TOK_KEYWORD || t->type == MD_TOK_IDENT) && t->len == strlen(word) &&
           strncasecmp(sql + t->off, word, t->len) == 0;
}

/* Largest IMPORT DATABASE script (schema.sql, load.sql) read for the check. */
#define MAX_IMPORT_SCRIPT (64u << 20)

enum verb { ATTACH, COPY, EXPORT, IMPORT, NVERBS };
static const char *const words[NVERBS] = {"ATTACH", "COPY", "EXPORT", "IMPORT"};
static const char *const verbs[NVERBS] = {"ATTACH", "COPY", "EXPORT DATABASE", "IMPORT DATABASE"};

/* The index of the target path's token of the statement t[at..n) that
 * begins with verb v, or -1 if it has none. */
static long target_token(const char *sql, const md_sql_token *t, size_t at, size_t n, enum verb v) {
    size_t i = at + 1;
    if (v == ATTACH) {
        if (i < n && is_kw(sql, &t[i], "DATABASE")) i++;
        if (i + 1 < n && is_kw(sql, &t[i], "OR") && is_kw(sql, &t[i + 1], "REPLACE")) i += 2;
        if (i + 2 < n && is_kw(sql, &t[i], "IF") && is_kw(sql, &t[i + 1], "NOT") && is_kw(sql, &t[i + 2], "EXISTS"))
            i += 3;
        return i < n ? (long)i : -1;
    }
    if (v == EXPORT || v == IMPORT) {
        if (!(i < n && is_kw(sql, &t[i], "DATABASE"))) return -1; /* another statement: not ours to read */
        i++;
        if (v == EXPORT && i + 1 < n && t[i].type != MD_TOK_STRING && is_kw(sql, &t[i + 1], "TO")) i += 2;
        return i < n ? (long)i : -1;
    }
    /* COPY: the token after TO at parenthesis depth 0 */
    int depth = 0;
    for (; i < n; i++) {
        if (t[i].type == MD_TOK_PUNCT && sql[t[i].off] == '(') depth++;
        else if (t[i].type == MD_TOK_PUNCT && sql[t[i].off] == ')') depth--;
        else if (depth == 0 && is_kw(sql, &t[i], "TO")) return i + 1 < n ? (long)(i + 1) : -1;
    }
    return -1;
}

static int check_text(const char *sql, size_t len, const char *cwd, const char *protected_dir, int nested,
                      uint32_t report_at, md_sql_error *err);

/* The scripts of an IMPORT DATABASE source directory `dir` (as written). */
static int check_import(const char *dir, const char *cwd, const char *protected_dir, uint32_t pos,
                        md_sql_error *err) {
    static const char *const scripts[] = {"schema.sql", "load.sql"};
    char *real = md_path_resolve(cwd, dir);
    int rc = MD_OK;
    for (size_t k = 0; k < 2 && rc == MD_OK; k++) {
        char *file = md_asprintf("%s/%s", real, scripts[k]);
        FILE *fp = fopen(file, "rb");
        md_free(file);
        if (!fp) continue; /* DuckDB says what is missing */
        md_buf text = MD_BUF_INIT;
        char chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0 && text.len <= MAX_IMPORT_SCRIPT)
            md_buf_append(&text, chunk, got);
        fclose(fp);
        if (text.len > MAX_IMPORT_SCRIPT)
            rc = fail(err, pos, "IMPORT DATABASE: %s is larger than the server reads (%u MiB)", scripts[k],
                      MAX_IMPORT_SCRIPT >> 20);
        else /* a relative path in them may be read from either directory */
            rc = check_text((const char *)text.data, text.len, cwd, protected_dir, 1, pos, err);
        if (rc == MD_OK) rc = check_text((const char *)text.data, text.len, real, protected_dir, 1, pos, err);
        md_buf_free(&text);
    }
    md_free(real);
    return rc;
}

/* One statement t[0..n) of sql. */
static int check_statement(const char *sql, const md_sql_token *t, size_t n, const char *cwd,
                           const char *protected_dir, int nested, uint32_t report_at, md_sql_error *err) {
    size_t at = 0;
    enum verb v = NVERBS;
    for (; at < n && v == NVERBS; at++)
        for (int k = 0; k < NVERBS && v == NVERBS; k++)
            if (t[at].type == MD_TOK_KEYWORD && is_kw(sql, &t[at], words[k])) v = (enum verb)k;
    if (v == NVERBS) return MD_OK;
    at--; /* the verb's token */
    long k = target_token(sql, t, at, n, v);
    if (k < 0) return MD_OK; /* COPY without TO reads; a missing target is DuckDB's syntax error */
    uint32_t pos = nested ? report_at : t[k].off;
    if (t[k].type != MD_TOK_STRING) {
        if (v == COPY && (t[k].type == MD_TOK_IDENT || t[k].type == MD_TOK_KEYWORD)) return MD_OK; /* STDOUT */
        return fail(err, pos, "%s takes its file as a string literal on this server ('path')", verbs[v]);
    }
    char *path = md_sql_token_value(sql, &t[k], NULL);
    int rc = MD_OK;
    if (v == ATTACH && strncasecmp(path, "md:", 3) == 0) {
        /* the server's own */
    } else if (v == IMPORT) {
        rc = nested ? fail(err, pos, "IMPORT DATABASE inside an imported script is not run on this server")
                    : check_import(path, cwd, protected_dir, pos, err);
    } else {
        char *real = md_path_resolve(cwd, path);
        if (inside(real, protected_dir))
            rc = fail(err, pos,
                      "%s%s may not name the server's own database files ('%s'); use ATTACH 'md:name' for a "
                      "database, and another folder for files",
                      nested ? "a statement of the imported scripts: " : "", verbs[v], path);
        md_free(real);
    }
    md_free(path);
    return rc;
}

static int check_text(const char *sql, size_t len, const char *cwd, const char *protected_dir, int nested,
                      uint32_t report_at, md_sql_error *err) {
    md_sql_token *t = NULL;
    size_t n = 0;
    if (md_sql_lex(sql, len, 0, &t, &n, NULL) != MD_OK) return MD_OK; /* DuckDB reports the text's error */
    md_sql_span *spans = NULL;
    size_t nspans = 0;
    md_sql_split(t, n, &spans, &nspans);
    int rc = MD_OK;
    for (size_t i = 0; i < nspans && rc == MD_OK; i++)
        rc = check_statement(sql, t + spans[i].first, spans[i].count, cwd, protected_dir, nested, report_at, err);
    md_free(spans);
    md_free(t);
    return rc;
}

int md_path_guard_check(const char *sql, size_t len, const char *cwd, const char *protected_dir, md_sql_error *err) {
    return check_text(sql, len, cwd, protected_dir, 0, 0, err);
}

/*
 * session_option.c: the server's session-option allowlist and the reader of
 * SET-like statements (see session_option.h for the rules).
 *
 * The reader is deliberately narrow: it accepts the statement shapes listed
 * in the header and nothing else, so text it cannot follow is refused, never
 * guessed at.  The statement it returns is written from the canonical option
 * name and the value's own tokens, so what runs is exactly what was checked.
 */
#include "session_option.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "md_alloc.h"
#include "md_error.h"

/* name, DuckDB-global (cannot be set for one session), largest value (0: no cap) */
static const struct {
    const char *name;
    int global;
    long long max;
} options[] = {
    /* what a query means */
    {"Calendar", 0, 0},
    {"TimeZone", 0, 0},
    {"default_collation", 0, 0},
    {"default_null_order", 0, 0},
    {"null_order", 0, 0},
    {"default_order", 0, 0},
    {"integer_division", 0, 0},
    {"ieee_floating_point_ops", 0, 0},
    {"old_implicit_casting", 0, 0},
    {"preserve_insertion_order", 0, 0},
    {"preserve_identifier_case", 0, 0},
    {"order_by_non_integer_literal", 0, 0},
    {"scalar_subquery_error_on_multiple_rows", 0, 0},
    {"disable_timestamptz_casts", 0, 0},
    {"binary_as_string", 0, 0},
    {"lambda_syntax", 0, 0},
    {"enable_view_dependencies", 0, 0},
    {"enable_macro_dependencies", 0, 0},
    {"max_expression_depth", 0, MD_MAX_EXPRESSION_DEPTH},
    {"pivot_limit", 0, 0},
    {"catalog_error_max_schemas", 0, 0},
    {"explain_output", 0, 0},
    {"schema", 0, 0},
    {"search_path", 0, 0},
    /* how it is planned */
    {"pivot_filter_threshold", 0, 0},
    {"ordered_aggregate_threshold", 0, 0},
    {"merge_join_threshold", 0, 0},
    {"nested_loop_join_threshold", 0, 0},
    {"asof_loop_join_threshold", 0, 0},
    {"prefer_range_joins", 0, 0},
    {"perfect_ht_threshold", 0, 0},
    {"dynamic_or_filter_threshold", 0, 0},
    {"late_materialization_max_rows", 0, 0},
    {"index_scan_max_count", 0, 0},
    {"index_scan_percentage", 0, 0},
    {"debug_force_external", 0, 0},
    {"debug_force_no_cross_product", 0, 0},
    {"debug_asof_iejoin", 0, 0},
    {"debug_window_mode", 0, 0},
    {"disabled_optimizers", 1, 0},
};
#define NOPTIONS ((int)(sizeof options / sizeof *options))

int md_session_option_count(void) { return NOPTIONS; }

const char *md_session_option_name(int i) { return i >= 0 && i < NOPTIONS ? options[i].name : NULL; }

int md_session_option_is_global(int i) { return i >= 0 && i < NOPTIONS && options[i].global; }

int md_session_option_find(const char *name, size_t len) {
    for (int i = 0; i < NOPTIONS; i++)
        if (strlen(options[i].name) == len && strncasecmp(options[i].name, name, len) == 0) return i;
    return -1;
}

static int fail(md_sql_error *err, int code, uint32_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(md_sql_error *err, int code, uint32_t pos, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
        err->position = pos;
    }
    return code;
}

/* A statement's tokens. */
typedef struct toks {
    const char *sql;
    md_sql_token *t;
    size_t n;
} toks;

/* 1 when token i is the word w (a keyword or a plain identifier, any case). */
static int is_word(const toks *x, size_t i, const char *w) {
    if (i >= x->n) return 0;
    const md_sql_token *t = &x->t[i];
    if (t->type != MD_TOK_KEYWORD && t->type != MD_TOK_IDENT) return 0;
    return strlen(w) == t->len && strncasecmp(x->sql + t->off, w, t->len) == 0;
}

static int is_op(const toks *x, size_t i, const char *op) {
    return i < x->n && x->t[i].type == MD_TOK_OP && strlen(op) == x->t[i].len &&
           memcmp(x->sql + x->t[i].off, op, x->t[i].len) == 0;
}

static int lex(const char *sql, size_t len, toks *x, md_sql_error *err) {
    x->sql = sql;
    x->t = NULL;
    x->n = 0;
    if (md_sql_lex(sql, len, 0, &x->t, &x->n, err) != MD_OK) return MD_ESQL;
    if (x->n == 0) return fail(err, MD_ESQL, 0, "an empty SET statement");
    return MD_OK;
}

/* The option named by token i (a word or a quoted name): its index, or -1;
 * *shown gets the name as written (md_malloc'd) for messages. */
static int option_at(const toks *x, size_t i, char **shown) {
    const md_sql_token *t = &x->t[i];
    size_t n = 0;
    char *name = t->type == MD_TOK_QIDENT ? md_sql_token_value(x->sql, t, &n) : md_strndup(x->sql + t->off, t->len);
    if (t->type != MD_TOK_QIDENT) n = t->len;
    *shown = name;
    return md_session_option_find(name, n);
}

/* 1 for the tokens that may name an option. */
static int is_name(const toks *x, size_t i) {
    if (i >= x->n) return 0;
    int type = x->t[i].type;
    return type == MD_TOK_IDENT || type == MD_TOK_QIDENT || type == MD_TOK_KEYWORD;
}

static int refused(md_sql_error *err, uint32_t pos, const char *name) {
    return fail(err, MD_EPERMISSION,
                pos,
                "the server does not let a session change \"%s\": only options that change what this session's "
                "queries mean or how they are planned may be set (paths, resource limits, storage, extensions and "
                "logging belong to the server)",
                name);
}

/* The scope word at token i (SESSION, LOCAL or GLOBAL), or NULL. */
static const char *scope_at(const toks *x, size_t i) {
    if (is_word(x, i, "SESSION")) return "SESSION";
    if (is_word(x, i, "LOCAL")) return "LOCAL";
    if (is_word(x, i, "GLOBAL")) return "GLOBAL";
    return NULL;
}

/*
 * Write "<verb> <scope> <name>[ = <value>]" for option `opt`: `scope` as
 * written or NULL; `value` the first token of the value or x->n for none.
 */
static int write_statement(const toks *x, const char *verb, const char *scope, int opt, size_t value,
                           md_session_set *out, md_sql_error *err, uint32_t pos) {
    if (!scope) scope = options[opt].global ? "GLOBAL" : "SESSION";
    if (options[opt].max > 0 && value < x->n) { /* a capped option: one whole number, in range */
        char *text = value + 1 == x->n ? md_sql_token_value(x->sql, &x->t[value], NULL) : NULL;
        char *end = NULL;
        long long v = text ? strtoll(text, &end, 10) : -1;
        int ok = text && *text && end && *end == 0 && v >= 0 && v <= options[opt].max;
        md_free(text);
        if (!ok)
            return fail(err, MD_EPERMISSION, x->t[value].off,
                        "SET %s takes a whole number from 0 to %lld on this server", options[opt].name,
                        options[opt].max);
    }
    if (strcmp(scope, "GLOBAL") == 0 && !options[opt].global)
        return fail(err, MD_EPERMISSION, pos,
                    "%s GLOBAL %s is not available on the server: use %s %s, which holds for this session", verb,
                    options[opt].name, verb, options[opt].name);
    if (value < x->n) {
        const md_sql_token *a = &x->t[value], *b = &x->t[x->n - 1];
        out->sql = md_asprintf("%s %s %s = %.*s", verb, scope, options[opt].name, (int)(b->off + b->len - a->off),
                               x->sql + a->off);
    } else {
        out->sql = md_asprintf("%s %s %s", verb, scope, options[opt].name);
    }
    out->option = opt;
    out->global = options[opt].global;
    return MD_OK;
}

/* Milliseconds of a duration: a number (milliseconds) or a string with a
 * unit; -1 when it is neither. */
static int64_t duration_ms(const toks *x, size_t i) {
    if (i + 1 != x->n || (x->t[i].type != MD_TOK_NUMBER && x->t[i].type != MD_TOK_STRING)) return -1;
    char *text = md_sql_token_value(x->sql, &x->t[i], NULL);
    char *end = NULL;
    double v = strtod(text, &end);
    while (end && *end == ' ') end++;
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"", 1},          {"ms", 1},           {"s", 1e3},       {"sec", 1e3},  {"second", 1e3},
                 {"seconds", 1e3}, {"min", 6e4},        {"minute", 6e4},  {"minutes", 6e4},
                 {"h", 3.6e6},     {"hour", 3.6e6},     {"hours", 3.6e6}};
    double scale = -1;
    if (end != text)
        for (size_t k = 0; k < sizeof units / sizeof *units; k++)
            if (strcasecmp(end, units[k].unit) == 0) scale = units[k].ms;
    md_free(text);
    if (scale < 0 || !(v >= 0) || v * scale > 1e15) return -1;
    return (int64_t)(v * scale);
}

/* SET/RESET [scope] statement_timeout ...: the server's own setting. */
static int read_timeout(const toks *x, int reset, const char *scope, size_t i, md_session_set *out,
                        md_sql_error *err) {
    uint32_t pos = x->t[i].off;
    if (scope && strcmp(scope, "GLOBAL") == 0)
        return fail(err, MD_EPERMISSION, pos, "statement_timeout holds for one session: SET it without GLOBAL");
    out->server_setting = 1;
    if (reset) {
        if (i + 1 != x->n) return fail(err, MD_ESQL, x->t[i + 1].off, "RESET statement_timeout takes nothing after it");
        out->timeout_ms = 0;
        return MD_OK;
    }
    if (!(is_op(x, i + 1, "=") || is_word(x, i + 1, "TO")) || i + 2 >= x->n)
        return fail(err, MD_ESQL, pos, "SET statement_timeout needs '=' or TO and a value");
    int64_t ms = duration_ms(x, i + 2);
    if (ms < 0)
        return fail(err, MD_ESQL, x->t[i + 2].off,
                    "statement_timeout takes milliseconds or a string with a unit, like '30s' or '5min'");
    out->timeout_ms = ms;
    return MD_OK;
}

/*
 * SET ... or RESET ... (`reset`) after the verb at token 0: [scope] name,
 * then for SET '=' or TO and a value, for RESET nothing.
 */
static int read_set_reset(const toks *x, int reset, md_session_set *out, md_sql_error *err) {
    const char *verb = reset ? "RESET" : "SET";
    size_t i = 1;
    if (is_word(x, i, "VARIABLE") && is_name(x, i + 1) && (!reset || x->n == i + 2))
        return MD_OK; /* SET VARIABLE v ..., RESET VARIABLE v */
    const char *scope = scope_at(x, i);
    if (scope) i++;
    if (!reset && is_word(x, i, "TIME") && is_word(x, i + 1, "ZONE")) { /* SET TIME ZONE value */
        if (i + 2 >= x->n) return fail(err, MD_ESQL, x->t[i].off, "SET TIME ZONE needs a value");
        return write_statement(x, verb, scope, md_session_option_find("TimeZone", 8), i + 2, out, err,
                               x->t[i].off);
    }
    if (!is_name(x, i)) return fail(err, MD_ESQL, i < x->n ? x->t[i].off : 0, "%s needs an option name", verb);
    if (is_word(x, i, "statement_timeout")) return read_timeout(x, reset, scope, i, out, err);
    char *shown = NULL;
    int opt = option_at(x, i, &shown);
    uint32_t pos = x->t[i].off;
    int rc;
    if (opt < 0)
        rc = refused(err, pos, shown);
    else if (reset && i + 1 != x->n)
        rc = fail(err, MD_ESQL, x->t[i + 1].off, "RESET %s takes nothing after the name", shown);
    else if (!reset && (!(is_op(x, i + 1, "=") || is_word(x, i + 1, "TO")) || i + 2 >= x->n))
        rc = fail(err, MD_ESQL, pos, "SET %s needs '=' or TO and a value", shown);
    else
        rc = write_statement(x, verb, scope, opt, reset ? x->n : i + 2, out, err, pos);
    md_free(shown);
    return rc;
}

/* PRAGMA name = value: DuckDB's spelling of SET name = value. */
static int read_pragma(const toks *x, md_session_set *out, md_sql_error *err) {
    if (!is_name(x, 1) || !is_op(x, 2, "=") || x->n < 4)
        return fail(err, MD_ESQL, x->n > 1 ? x->t[1].off : 0, "a PRAGMA the server cannot read as a SET");
    char *shown = NULL;
    int opt = option_at(x, 1, &shown);
    int rc = opt < 0 ? refused(err, x->t[1].off, shown) : write_statement(x, "SET", NULL, opt, 3, out, err, x->t[1].off);
    md_free(shown);
    return rc;
}

int md_session_set_read(const char *sql, size_t len, md_session_set *out, md_sql_error *err) {
    out->sql = NULL;
    out->option = -1;
    out->global = 0;
    out->server_setting = 0;
    out->timeout_ms = 0;
    toks x;
    int rc = lex(sql, len, &x, err);
    if (rc != MD_OK) return rc;
    if (is_word(&x, 0, "SET")) rc = read_set_reset(&x, 0, out, err);
    else if (is_word(&x, 0, "RESET")) rc = read_set_reset(&x, 1, out, err);
    else if (is_word(&x, 0, "PRAGMA")) rc = read_pragma(&x, out, err);
    else if (is_word(&x, 0, "USE")) rc = MD_OK;
    else
        rc = fail(err, MD_EPERMISSION, 0,
                  "a SET statement that does not come from the text sent (IMPORT DATABASE or a PRAGMA that "
                  "expands into statements) is not run on the server");
    if (rc == MD_OK && !out->sql && !out->server_setting) out->sql = md_strndup(sql, len); /* VARIABLE, USE */
    md_free(x.t);
    if (rc != MD_OK) {
        md_free(out->sql);
        out->sql = NULL;
        out->option = -1;
    }
    return rc;
}

int md_session_explain_check(const char *sql, size_t len, md_sql_error *err) {
    toks x;
    int rc = lex(sql, len, &x, err);
    if (rc != MD_OK) return rc;
    size_t i = 1;
    if (!is_word(&x, 0, "EXPLAIN")) {
        rc = fail(err, MD_EPERMISSION, 0,
                  "an EXPLAIN that does not come from the text sent (IMPORT DATABASE or a PRAGMA that expands "
                  "into statements) is not run on the server");
        goto out;
    }
    for (;;) { /* ANALYZE, VERBOSE, (option list) */
        if (is_word(&x, i, "ANALYZE") || is_word(&x, i, "ANALYSE") || is_word(&x, i, "VERBOSE")) {
            i++;
        } else if (i < x.n && x.t[i].type == MD_TOK_PUNCT && x.sql[x.t[i].off] == '(') {
            int depth = 0;
            for (; i < x.n; i++) {
                if (x.t[i].type != MD_TOK_PUNCT) continue;
                char c = x.sql[x.t[i].off];
                if (c == '(') depth++;
                else if (c == ')' && --depth == 0) break;
            }
            i++;
        } else {
            break;
        }
    }
    static const char *const changers[] = {"SET", "RESET", "PRAGMA", "USE", "IMPORT"};
    for (size_t k = 0; k < sizeof changers / sizeof *changers; k++)
        if (is_word(&x, i, changers[k])) {
            rc = fail(err, MD_EPERMISSION, x.t[i].off, "EXPLAIN of a %s statement is not run on the server",
                      changers[k]);
            break;
        }
out:
    md_free(x.t);
    return rc;
}

/* Pragma calls a session may make (md_session_pragma_check). */
static const char *const allowed_pragmas[] = {"enable_optimizer", "disable_optimizer"};

int md_session_pragma_check(const char *sql, size_t len, md_sql_error *err) {
    toks x;
    int rc = lex(sql, len, &x, err);
    if (rc != MD_OK) return rc;
    if (!is_word(&x, 0, "PRAGMA") || !is_name(&x, 1)) {
        rc = fail(err, MD_EPERMISSION, 0,
                  "a PRAGMA that does not come from the text sent (IMPORT DATABASE or a PRAGMA that expands into "
                  "statements) is not run on the server");
    } else {
        char *name = md_strndup(x.sql + x.t[1].off, x.t[1].len);
        rc = MD_EPERMISSION;
        for (size_t k = 0; k < sizeof allowed_pragmas / sizeof *allowed_pragmas; k++)
            if (strcasecmp(name, allowed_pragmas[k]) == 0) rc = MD_OK;
        if (rc != MD_OK) refused(err, x.t[1].off, name);
        md_free(name);
    }
    md_free(x.t);
    return rc;
}

/* ---- functions that change the server's state ---------------------------------------- */

/* DuckDB functions whose effect is the whole database's (its logging), named
 * anywhere in a request: a log file outside the sandbox makes every later
 * query of the duckling fail with a Permission Error. */
static const char *const server_functions[] = {"enable_logging", "disable_logging", "truncate_duckdb_logs"};

/* DuckDB functions that show a secret's fields: this DuckDB does not
 * redact every secret field (an http secret's bearer_token), and stored
 * secrets are never shown back (md_secrets() lists them). */
static const char *const secret_functions[] = {"duckdb_secrets", "which_secret"};

/* The index in list[0..n) of the name sql[0..len) (any case), or -1. */
static int listed(const char *const *list, size_t n, const char *sql, size_t len) {
    for (size_t k = 0; k < n; k++)
        if (strlen(list[k]) == len && strncasecmp(sql, list[k], len) == 0) return (int)k;
    return -1;
}

int md_session_calls_check(const char *sql, size_t len, md_sql_error *err) {
    md_sql_token *t = NULL;
    size_t n = 0;
    if (md_sql_lex(sql, len, 0, &t, &n, NULL) != MD_OK) return MD_OK; /* DuckDB reports the text's error */
    int rc = MD_OK;
    for (size_t i = 0; i < n && rc == MD_OK; i++) {
        const char *w = sql + t[i].off;
        size_t wl = t[i].len;
        if (t[i].type == MD_TOK_QIDENT && wl >= 2) { /* "enable_logging": a quoted name calls it too */
            w++;
            wl -= 2;
        } else if (t[i].type != MD_TOK_IDENT && t[i].type != MD_TOK_KEYWORD) {
            continue;
        }
        int k = listed(server_functions, sizeof server_functions / sizeof *server_functions, w, wl);
        int j = listed(secret_functions, sizeof secret_functions / sizeof *secret_functions, w, wl);
        if (k >= 0)
            rc = fail(err, MD_EPERMISSION, t[i].off,
                      "the server does not let a session call %s: DuckDB's logging belongs to the server",
                      server_functions[k]);
        else if (j >= 0)
            rc = fail(err, MD_EPERMISSION, t[i].off,
                      "the server does not let a session call %s, which may show a secret's value: FROM "
                      "md_secrets() lists your secrets without their values",
                      secret_functions[j]);
    }
    md_free(t);
    return rc;
}

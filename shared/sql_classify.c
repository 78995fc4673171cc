/*
 * sql_classify.c: statement kinds and relation references (see
 * sql_classify.h for what is found and the rules used).
 *
 * Structure: md_sql_classify() lexes and splits the text, then runs
 * classify() once per statement over that statement's tokens with a cursor
 * (struct cx).  classify() reads the statement's head (its verb and, for DML
 * and DDL, its target) and hands the rest to scan(), the one routine that
 * finds table references in queries.  scan() handles one nesting level and
 * calls itself for each bracket it meets, so the C stack depth is bounded by
 * MAX_DEPTH; a statement nested deeper gets an error instead of exhausting
 * the stack (the WASM build has a small one).
 *
 * Scope of CTE names: a WITH adds its names to cx.ctes; scan() drops the
 * names added at its level when that level's bracket closes, and the
 * statement's own WITH names live until the statement ends.
 */
#include "sql_classify.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "md_alloc.h"
#include "md_error.h"

#define MAX_DEPTH 500

const char *md_sql_kind_name(md_sql_kind kind) {
    switch (kind) {
#define MD__KIND_NAME(name, wire) \
    case MD_SQL_##name: return wire;
        MD_SQL_KINDS(MD__KIND_NAME)
#undef MD__KIND_NAME
    }
    return "";
}

const char *md_sql_rel_type_name(md_sql_rel_type type) {
    switch (type) {
#define MD__REL_NAME(name, wire) \
    case MD_SQL_REL_##name: return wire;
        MD_SQL_REL_TYPES(MD__REL_NAME)
#undef MD__REL_NAME
    }
    return "";
}

typedef struct cx {
    const char *sql;
    const md_sql_token *t; /* the statement's tokens */
    size_t n;
    size_t i; /* cursor */
    md_sql_stmt *st;
    size_t rels_cap;
    char **ctes;
    size_t nctes, ctes_cap;
    int depth;
} cx;

/* ---- token predicates ---------------------------------------------------- */

static const md_sql_token *tok(const cx *c, size_t k) { return c->i + k < c->n ? &c->t[c->i + k] : NULL; }

static int kw_at(const cx *c, size_t k, md_sql_kw kw) {
    const md_sql_token *t = tok(c, k);
    return t && t->type == MD_TOK_KEYWORD && t->kw == kw;
}

/* A bare word (identifier or keyword) spelled `w` in any case. */
static int word_at(const cx *c, size_t k, const char *w) {
    const md_sql_token *t = tok(c, k);
    size_t n = strlen(w);
    return t && (t->type == MD_TOK_IDENT || t->type == MD_TOK_KEYWORD) && t->len == n &&
           strncasecmp(c->sql + t->off, w, n) == 0;
}

static int punct(const cx *c, const md_sql_token *t, char ch) {
    return t && t->type == MD_TOK_PUNCT && c->sql[t->off] == ch;
}

static int punct_at(const cx *c, size_t k, char ch) { return punct(c, tok(c, k), ch); }

static int op_is(const cx *c, const md_sql_token *t, const char *op) {
    size_t n = strlen(op);
    return t && t->type == MD_TOK_OP && t->len == n && memcmp(c->sql + t->off, op, n) == 0;
}

/* A token that can be a name where a name is expected: an identifier, a
 * quoted identifier, or a keyword that is not reserved.  After a '.' any
 * keyword is a name (`first_part` false). */
static int is_name(const md_sql_token *t, int first_part) {
    if (!t) return 0;
    if (t->type == MD_TOK_IDENT || t->type == MD_TOK_QIDENT) return 1;
    if (t->type != MD_TOK_KEYWORD) return 0;
    return !first_part || md_sql_keyword_category((md_sql_kw)t->kw) != MD_KWCAT_RESERVED;
}

static void stmt_error(cx *c, int code, uint32_t pos, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void stmt_error(cx *c, int code, uint32_t pos, const char *fmt, ...) {
    if (c->st->error.code != MD_OK) return; /* keep the first */
    c->st->error.code = code;
    c->st->error.position = pos;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->st->error.message, sizeof c->st->error.message, fmt, ap);
    va_end(ap);
}

static int failed(const cx *c) { return c->st->error.code != MD_OK; }

/* Skip a bracketed group starting at the opening bracket at c->i; leaves the
 * cursor after its closing bracket (or at the end). */
static void skip_group(cx *c) {
    int depth = 0;
    while (c->i < c->n) {
        const md_sql_token *t = &c->t[c->i++];
        if (t->type != MD_TOK_PUNCT) continue;
        char ch = c->sql[t->off];
        if (ch == '(' || ch == '[' || ch == '{') depth++;
        else if ((ch == ')' || ch == ']' || ch == '}') && --depth <= 0) return;
    }
}

/* Whether the tokens from index j on start a query (after any '('). */
static int starts_query(const cx *c, size_t j) {
    while (j < c->n && punct(c, &c->t[j], '(')) j++;
    if (j >= c->n || c->t[j].type != MD_TOK_KEYWORD) return 0;
    switch (c->t[j].kw) {
    case MD_KW_SELECT: case MD_KW_FROM: case MD_KW_WITH: case MD_KW_VALUES: case MD_KW_TABLE:
    case MD_KW_PIVOT: case MD_KW_UNPIVOT: case MD_KW_SUMMARIZE: case MD_KW_DESCRIBE: case MD_KW_SHOW:
        return 1;
    default:
        return 0;
    }
}

/* Set the verb, truncated to fit (verbs are a few keywords long). */
static void set_verb(cx *c, const char *verb) {
    size_t n = strlen(verb);
    if (n >= sizeof c->st->verb) n = sizeof c->st->verb - 1;
    memcpy(c->st->verb, verb, n);
    c->st->verb[n] = 0;
}

/* The verb from the keyword at c->i and the next `extra` keywords. */
static void verb_from_tokens(cx *c, int extra) {
    char v[sizeof c->st->verb] = "";
    for (int k = 0; k <= extra; k++) {
        const md_sql_token *t = tok(c, (size_t)k);
        if (!t || t->type != MD_TOK_KEYWORD) break;
        const char *w = md_sql_keyword_name((md_sql_kw)t->kw);
        if (strlen(v) + strlen(w) + 2 > sizeof v) break;
        if (k) strcat(v, " ");
        strcat(v, w);
    }
    set_verb(c, v);
}

/* ---- relations ------------------------------------------------------------ */

static md_sql_rel *add_rel(cx *c, md_sql_rel_type type, unsigned access, uint32_t start, uint32_t end) {
    md_sql_stmt *st = c->st;
    if (st->nrels == c->rels_cap) {
        c->rels_cap = c->rels_cap ? c->rels_cap * 2 : 4;
        st->rels = md_realloc(st->rels, c->rels_cap * sizeof *st->rels);
    }
    md_sql_rel *r = &st->rels[st->nrels++];
    memset(r, 0, sizeof *r);
    r->type = type;
    r->access = access;
    r->start = start;
    r->end = end;
    return r;
}

typedef struct name3 {
    int nparts;
    char *parts[3];
    uint32_t start, end;
} name3;

static void name3_free(name3 *nm) {
    for (int k = 0; k < nm->nparts; k++) md_free(nm->parts[k]);
    nm->nparts = 0;
}

/*
 * Parse a dotted name at the cursor: part ('.' part)*, at most `max` parts.
 * Returns 1 and advances when a name is there (a longer chain is a statement
 * error, its extra parts dropped); 0 without moving otherwise.
 */
static int parse_name(cx *c, name3 *out, int max) {
    memset(out, 0, sizeof *out);
    const md_sql_token *t = tok(c, 0);
    if (!is_name(t, 1)) return 0;
    out->start = t->off;
    for (;;) {
        t = tok(c, 0);
        if (out->nparts < max) out->parts[out->nparts++] = md_sql_token_value(c->sql, t, NULL);
        else if (out->nparts == max)
            stmt_error(c, MD_ESQL, t->off, "a name has at most %d parts here (%s)", max,
                       max == 3 ? "database.schema.name" : max == 2 ? "database.schema" : "one name");
        out->end = t->off + t->len;
        c->i++;
        if (punct_at(c, 0, '.') && is_name(tok(c, 1), 0)) {
            c->i++;
            continue;
        }
        return 1;
    }
}

static md_sql_rel *rel_from_name(cx *c, md_sql_rel_type type, unsigned access, name3 *nm) {
    md_sql_rel *r = add_rel(c, type, access, nm->start, nm->end);
    r->nparts = nm->nparts;
    for (int k = 0; k < nm->nparts; k++) r->parts[k] = nm->parts[k];
    nm->nparts = 0; /* moved */
    return r;
}

static int is_cte(const cx *c, const char *name) {
    for (size_t k = c->nctes; k-- > 0;)
        if (strcasecmp(c->ctes[k], name) == 0) return 1;
    return 0;
}

static void push_cte(cx *c, char *name) {
    if (c->nctes == c->ctes_cap) {
        c->ctes_cap = c->ctes_cap ? c->ctes_cap * 2 : 4;
        c->ctes = md_realloc(c->ctes, c->ctes_cap * sizeof *c->ctes);
    }
    c->ctes[c->nctes++] = name;
}

static void pop_ctes(cx *c, size_t mark) {
    while (c->nctes > mark) md_free(c->ctes[--c->nctes]);
}

/* Table functions that read the file (or files, or URL) named by their first
 * argument.  Other table functions (range, generate_series, duckdb_tables,
 * unnest ...) read no file and place nothing. */
static int is_file_function(const char *name) {
    static const char *const exact[] = {"parquet_metadata", "parquet_schema", "parquet_file_metadata",
                                        "parquet_kv_metadata", "parquet_bloom_probe", "sniff_csv", "glob"};
    size_t n = strlen(name);
    if (n > 5 && strncasecmp(name, "read_", 5) == 0) return 1;
    if (n > 5 && strcasecmp(name + n - 5, "_scan") == 0) return 1;
    for (size_t k = 0; k < sizeof exact / sizeof *exact; k++)
        if (strcasecmp(name, exact[k]) == 0) return 1;
    return 0;
}

static void add_cut(cx *c, uint32_t start, uint32_t end) {
    md_sql_stmt *st = c->st;
    st->cuts = md_realloc(st->cuts, (st->ncuts + 1) * sizeof *st->cuts);
    st->cuts[st->ncuts++] = (md_sql_cut){start, end};
}

/* A table named by value (see sql_classify.h), parts[0..n) taken. */
static void add_named_table(cx *c, char **parts, int n, uint32_t start, uint32_t end) {
    if (n == 1 && is_cte(c, parts[0])) {
        md_free(parts[0]);
        return;
    }
    md_sql_rel *r = add_rel(c, MD_SQL_REL_TABLE, MD_SQL_READ, start, end);
    r->dynamic = true;
    r->nparts = n;
    for (int k = 0; k < n; k++) r->parts[k] = parts[k];
}

/* A string value naming a table: "t", "s.t" or "d.s.t" (no quoting inside). */
static void add_named_string(cx *c, const md_sql_token *t) {
    char *v = md_sql_token_value(c->sql, t, NULL);
    char *parts[3];
    int n = 0;
    for (char *p = v, *dot; n < 3; p = dot + 1) {
        dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0) break;
        parts[n++] = md_strndup(p, len);
        if (!dot) {
            add_named_table(c, parts, n, t->off, t->off + t->len);
            n = 0;
            break;
        }
    }
    for (int k = 0; k < n; k++) md_free(parts[k]); /* empty part or more than three: not a name */
    md_free(v);
}

/* The SQL string of query('...'): every table it reads. */
static void add_query_tables(cx *c, const md_sql_token *t) {
    size_t len;
    char *v = md_sql_token_value(c->sql, t, &len);
    md_sql_script *inner;
    md_sql_error e;
    if (md_sql_classify(v, len, &inner, &e) == MD_OK) {
        for (size_t i = 0; i < inner->nstmts; i++) {
            md_sql_stmt *st = &inner->stmts[i];
            for (size_t k = 0; k < st->nrels; k++) {
                md_sql_rel *r = &st->rels[k];
                if (r->type != MD_SQL_REL_TABLE || !(r->access & MD_SQL_READ)) continue;
                add_named_table(c, r->parts, r->nparts, t->off, t->off + t->len);
                r->nparts = 0; /* moved */
            }
        }
        md_sql_script_free(&inner);
    }
    md_free(v);
}

/* Built-in table functions whose values are never table names. */
static int takes_no_table_name(const char *fname) {
    static const char *const names[] = {"unnest", "range", "generate_series", "repeat", "repeat_row", "json_each",
                                        "json_tree", "sql_auto_complete", "which_secret"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (strcasecmp(fname, names[k]) == 0) return 1;
    return 0;
}

/* Positional argument tokens [j, k) of table function `fname` (not a file
 * function): the tables it may name by value. */
static void named_tables(cx *c, const char *fname, size_t j, size_t k) {
    const md_sql_token *a = &c->t[j];
    /* in a macro's body a name handed to query_table() is its parameter */
    if (takes_no_table_name(fname) || strcmp(c->st->verb, "CREATE MACRO") == 0 ||
        strcmp(c->st->verb, "CREATE FUNCTION") == 0)
        return;
    if (k == j + 1 && a->type == MD_TOK_STRING) {
        if (strcasecmp(fname, "query") == 0) add_query_tables(c, a);
        else add_named_string(c, a);
        return;
    }
    if (strcasecmp(fname, "query_table") == 0 && punct(c, a, '[') && punct(c, &c->t[k - 1], ']')) { /* ['t1', 't2'] */
        for (size_t i = j + 1; i + 1 < k; i += 2) {
            if (c->t[i].type != MD_TOK_STRING || !(punct(c, &c->t[i + 1], ',') || i + 2 == k)) return;
        }
        for (size_t i = j + 1; i + 1 < k; i += 2) add_named_string(c, &c->t[i]);
        return;
    }
    /* a bare name, one to three parts */
    size_t ntok = k - j;
    if (ntok % 2 == 0 || ntok > 5) return;
    for (size_t i = j; i < k; i++)
        if ((i - j) % 2 ? !punct(c, &c->t[i], '.') : !is_name(&c->t[i], i == j)) return;
    char *parts[3];
    int n = 0;
    for (size_t i = j; i < k; i += 2) parts[n++] = md_sql_token_value(c->sql, &c->t[i], NULL);
    add_named_table(c, parts, n, a->off, c->t[k - 1].off + c->t[k - 1].len);
}

/*
 * The arguments of a table function call whose '(' is at token index `open`:
 * the first positional argument of a file function (a string, or a list of
 * strings: the first is kept; any other expression leaves the path unknown), md_run => 'local'|'remote'|'auto',
 * and for other functions the tables named by value.  Sets the relation's end
 * to the call's ')'.  Does not move the cursor.
 */
static void function_args(cx *c, size_t ri, size_t open) {
    md_sql_rel *r = &c->st->rels[ri]; /* found again after each add_rel */
    const char *fname = r->parts[r->nparts - 1];
    int file_fn = is_file_function(fname);
    size_t j = open + 1, argi = 0, positional = 0;
    while (j < c->n) {
        size_t k = j;
        int depth = 0;
        while (k < c->n) {
            const md_sql_token *t = &c->t[k];
            if (t->type == MD_TOK_PUNCT) {
                char ch = c->sql[t->off];
                if (ch == '(' || ch == '[' || ch == '{') depth++;
                else if (ch == ')' || ch == ']' || ch == '}') {
                    if (depth == 0) break;
                    depth--;
                } else if (ch == ',' && depth == 0) break;
            }
            k++;
        }
        /* argument: tokens [j, k) */
        const md_sql_token *a = j < k ? &c->t[j] : NULL;
        const md_sql_token *sep = j + 1 < k ? &c->t[j + 1] : NULL;
        if (a && is_name(a, 0) && (op_is(c, sep, "=>") || op_is(c, sep, ":=") || op_is(c, sep, "="))) {
            char *pname = md_sql_token_value(c->sql, a, NULL);
            if (strcasecmp(pname, "md_run") == 0) {
                const md_sql_token *v = j + 2 < k ? &c->t[j + 2] : NULL;
                char *val = (v && v->type == MD_TOK_STRING && j + 3 == k) ? md_sql_token_value(c->sql, v, NULL) : NULL;
                if (val && strcasecmp(val, "local") == 0) r->run = MD_SQL_RUN_LOCAL;
                else if (val && strcasecmp(val, "remote") == 0) r->run = MD_SQL_RUN_REMOTE;
                else if (val && strcasecmp(val, "auto") == 0) r->run = MD_SQL_RUN_AUTO;
                else
                    stmt_error(c, MD_EINVAL, v ? v->off : a->off,
                               "md_run must be 'local', 'remote' or 'auto' (a quoted string)");
                md_free(val);
                /* Cut the argument and one neighbouring comma. */
                const md_sql_token *last = &c->t[k - 1];
                if (argi > 0) add_cut(c, c->t[j - 1].off, last->off + last->len);
                else if (k < c->n && punct(c, &c->t[k], ',') && k + 1 < c->n) add_cut(c, a->off, c->t[k + 1].off);
                else add_cut(c, a->off, last->off + last->len);
            }
            md_free(pname);
        } else if (a && file_fn && positional++ == 0) {
            if (a->type == MD_TOK_STRING && j + 1 == k) r->path = md_sql_token_value(c->sql, a, NULL);
            else if (punct(c, a, '[') && j + 1 < k && c->t[j + 1].type == MD_TOK_STRING)
                r->path = md_sql_token_value(c->sql, &c->t[j + 1], NULL);
        } else if (a && !file_fn) {
            named_tables(c, fname, j, k);
            r = &c->st->rels[ri];
        }
        argi++;
        if (k >= c->n || !punct(c, &c->t[k], ',')) {
            if (k < c->n) r->end = c->t[k].off + 1;
            return;
        }
        j = k + 1;
    }
}

/*
 * A table reference at the cursor, in a place where one is expected: a
 * (dotted) name, a name followed by '(' (a table function: the '(' is left
 * for the caller to scan), or a string (a file).  A one-part name that is a
 * CTE in scope is consumed but not recorded.  Returns 1 when something was
 * consumed, 0 (cursor unchanged) when the token there is not a reference.
 */
static int table_ref(cx *c, unsigned access) {
    const md_sql_token *t = tok(c, 0);
    if (!t) return 0;
    if (t->type == MD_TOK_STRING || t->type == MD_TOK_DOLLAR) {
        md_sql_rel *r = add_rel(c, MD_SQL_REL_FILE, access, t->off, t->off + t->len);
        r->path = md_sql_token_value(c->sql, t, NULL);
        c->i++;
        return 1;
    }
    name3 nm;
    if (!parse_name(c, &nm, 3)) return 0;
    if (punct_at(c, 0, '(')) {
        md_sql_rel *r = rel_from_name(c, MD_SQL_REL_FUNCTION, MD_SQL_READ, &nm);
        function_args(c, (size_t)(r - c->st->rels), c->i);
        return 1;
    }
    if (nm.nparts == 1 && is_cte(c, nm.parts[0])) {
        name3_free(&nm);
        return 1;
    }
    rel_from_name(c, MD_SQL_REL_TABLE, access, &nm);
    return 1;
}

/* ---- queries ------------------------------------------------------------- */

enum { SCAN_EXPECT_TABLE = 1, SCAN_FROM_LIST = 2 };

static void scan(cx *c, int query, char closer, unsigned flags);

/* WITH [RECURSIVE] name [(cols)] [USING KEY (cols)] AS [NOT] [MATERIALIZED] (body) [, ...]
 * at the cursor (on WITH).  Adds the names to the CTE scope and scans the
 * bodies; stops after the last body. */
static void parse_with(cx *c) {
    c->i++;
    if (kw_at(c, 0, MD_KW_RECURSIVE)) c->i++;
    while (!failed(c)) {
        const md_sql_token *t = tok(c, 0);
        if (!is_name(t, 1)) return;
        push_cte(c, md_sql_token_value(c->sql, t, NULL));
        c->i++;
        if (punct_at(c, 0, '(')) skip_group(c);
        if (kw_at(c, 0, MD_KW_USING) && kw_at(c, 1, MD_KW_KEY) && punct_at(c, 2, '(')) {
            c->i += 2;
            skip_group(c);
        }
        if (!kw_at(c, 0, MD_KW_AS)) return;
        c->i++;
        if (kw_at(c, 0, MD_KW_NOT)) c->i++;
        if (kw_at(c, 0, MD_KW_MATERIALIZED)) c->i++;
        if (!punct_at(c, 0, '(')) return;
        c->i++;
        scan(c, 1, ')', 0);
        if (!punct_at(c, 0, ',')) return;
        c->i++;
    }
}

/* Keywords that end a FROM list. */
static int ends_from_list(const cx *c, const md_sql_token *t) {
    switch (t->kw) {
    case MD_KW_SELECT: case MD_KW_WHERE: case MD_KW_GROUP: case MD_KW_HAVING: case MD_KW_ORDER:
    case MD_KW_LIMIT: case MD_KW_OFFSET: case MD_KW_QUALIFY: case MD_KW_WINDOW: case MD_KW_UNION:
    case MD_KW_INTERSECT: case MD_KW_EXCEPT: case MD_KW_RETURNING: case MD_KW_FETCH: case MD_KW_SET:
    case MD_KW_VALUES:
        return 1;
    case MD_KW_USING: /* USING SAMPLE ends it; JOIN ... USING (cols) does not */
        return !punct(c, t + 1 < c->t + c->n ? t + 1 : NULL, '(');
    default:
        return 0;
    }
}

/*
 * Scan one nesting level from the cursor until `closer` (consumed) or the
 * end of the statement (closer 0).  At a query level, records the tables
 * that FROM lists, JOINs and the other table positions name.
 */
static void scan(cx *c, int query, char closer, unsigned flags) {
    int expect = (flags & SCAN_EXPECT_TABLE) != 0;
    int from_list = (flags & SCAN_FROM_LIST) != 0;
    size_t cte_mark = c->nctes;
    if (++c->depth > MAX_DEPTH) {
        const md_sql_token *t = tok(c, 0);
        stmt_error(c, MD_ESQL, t ? t->off : c->st->start,
                   "the statement nests brackets more than %d levels deep", MAX_DEPTH);
        c->i = c->n;
    }
    while (c->i < c->n && !failed(c)) {
        const md_sql_token *t = &c->t[c->i];
        if (t->type == MD_TOK_PUNCT) {
            char ch = c->sql[t->off];
            if (closer && ch == closer) {
                c->i++;
                break;
            }
            if (ch == '(' || ch == '[' || ch == '{') {
                char close = ch == '(' ? ')' : ch == '[' ? ']' : '}';
                int q = ch == '(' && starts_query(c, c->i + 1);
                int group = query && expect && ch == '(' && !q; /* (a JOIN b) */
                c->i++;
                scan(c, q || group, close, group ? SCAN_EXPECT_TABLE | SCAN_FROM_LIST : 0);
                expect = 0;
                continue;
            }
            if (query && ch == ',' && from_list) {
                expect = 1;
                c->i++;
                continue;
            }
        }
        if (t->type == MD_TOK_KEYWORD && t->kw == MD_KW_REFERENCES) {
            c->i++;
            name3 nm;
            if (parse_name(c, &nm, 3)) rel_from_name(c, MD_SQL_REL_TABLE, MD_SQL_READ, &nm);
            continue;
        }
        if (!query) {
            c->i++;
            continue;
        }
        if (expect) {
            if (t->type == MD_TOK_KEYWORD && t->kw == MD_KW_LATERAL) {
                c->i++;
                continue;
            }
            expect = 0;
            if (t->type == MD_TOK_KEYWORD && t->kw == MD_KW_VALUES) { /* FROM VALUES (…), (…) [alias] */
                c->i++;
                while (punct_at(c, 0, '(') && !failed(c)) {
                    c->i++;
                    scan(c, 1, ')', 0); /* a row: expressions, maybe subqueries */
                    if (!punct_at(c, 0, ',') || !punct_at(c, 1, '(')) break;
                    c->i++;
                }
                continue;
            }
            if (table_ref(c, MD_SQL_READ)) continue;
        }
        if (t->type == MD_TOK_KEYWORD) {
            switch (t->kw) {
            case MD_KW_WITH:
                parse_with(c);
                continue;
            case MD_KW_FROM:
                if (!(c->i > 0 && c->t[c->i - 1].type == MD_TOK_KEYWORD && c->t[c->i - 1].kw == MD_KW_DISTINCT))
                    expect = from_list = 1;
                break;
            case MD_KW_JOIN:
            case MD_KW_TABLE:
                expect = 1;
                break;
            case MD_KW_PIVOT:
            case MD_KW_UNPIVOT:
                if (!punct_at(c, 1, '(')) { /* PIVOT t ON ... (statement form) */
                    expect = 1;
                    from_list = 0;
                }
                break;
            case MD_KW_DESCRIBE:
            case MD_KW_SUMMARIZE:
                if (!starts_query(c, c->i + 1)) expect = 1;
                break;
            default:
                if (ends_from_list(c, t)) from_list = 0;
                break;
            }
        }
        c->i++;
    }
    c->depth--;
    pop_ctes(c, cte_mark);
}

/* ---- statement heads ------------------------------------------------------- */

static void skip_if_exists(cx *c) {
    if (kw_at(c, 0, MD_KW_IF) && kw_at(c, 1, MD_KW_EXISTS)) c->i += 2;
    else if (kw_at(c, 0, MD_KW_IF) && kw_at(c, 1, MD_KW_NOT) && kw_at(c, 2, MD_KW_EXISTS)) c->i += 3;
}

/* Record the name at the cursor as a relation; returns it or NULL. */
static md_sql_rel *target(cx *c, md_sql_rel_type type, unsigned access, int max) {
    name3 nm;
    if (!parse_name(c, &nm, max)) return NULL;
    return rel_from_name(c, type, access, &nm);
}

/* An optional alias after a DML target: [AS] name, unless the name is a
 * keyword that continues the statement. */
static void skip_alias(cx *c) {
    if (kw_at(c, 0, MD_KW_AS)) {
        c->i += 2;
        return;
    }
    const md_sql_token *t = tok(c, 0);
    if (is_name(t, 1) && !kw_at(c, 0, MD_KW_SET) && !kw_at(c, 0, MD_KW_BY)) c->i++;
}

static void classify(cx *c);

/* For statements that are planned or prepared, not run: nothing is created
 * or dropped. */
static void drop_effects(md_sql_stmt *st) {
    for (size_t k = 0; k < st->nrels; k++) st->rels[k].effect = MD_SQL_EFFECT_NONE;
}

static void head_insert(cx *c) {
    c->st->kind = MD_SQL_DML;
    set_verb(c, "INSERT");
    c->i++;
    if (kw_at(c, 0, MD_KW_OR)) c->i += 2; /* OR REPLACE | OR IGNORE */
    if (kw_at(c, 0, MD_KW_INTO)) c->i++;
    target(c, MD_SQL_REL_TABLE, MD_SQL_WRITE, 3);
    if (kw_at(c, 0, MD_KW_AS)) c->i += 2;
    if (kw_at(c, 0, MD_KW_BY)) c->i += 2; /* BY NAME | BY POSITION */
    if (punct_at(c, 0, '(') && !starts_query(c, c->i + 1)) skip_group(c);
    scan(c, 1, 0, 0);
}

static void head_update(cx *c) {
    c->st->kind = MD_SQL_DML;
    set_verb(c, "UPDATE");
    c->i++;
    target(c, MD_SQL_REL_TABLE, MD_SQL_READ | MD_SQL_WRITE, 3);
    scan(c, 1, 0, 0);
}

static void head_delete(cx *c) {
    c->st->kind = MD_SQL_DML;
    set_verb(c, "DELETE");
    c->i++;
    if (kw_at(c, 0, MD_KW_FROM)) c->i++;
    target(c, MD_SQL_REL_TABLE, MD_SQL_READ | MD_SQL_WRITE, 3);
    skip_alias(c);
    if (kw_at(c, 0, MD_KW_USING)) {
        c->i++;
        scan(c, 1, 0, SCAN_EXPECT_TABLE | SCAN_FROM_LIST);
    } else {
        scan(c, 1, 0, 0);
    }
}

static void head_merge(cx *c) {
    c->st->kind = MD_SQL_DML;
    set_verb(c, "MERGE");
    c->i++;
    if (kw_at(c, 0, MD_KW_INTO)) c->i++;
    target(c, MD_SQL_REL_TABLE, MD_SQL_READ | MD_SQL_WRITE, 3);
    skip_alias(c);
    if (kw_at(c, 0, MD_KW_USING)) {
        c->i++;
        scan(c, 1, 0, SCAN_EXPECT_TABLE);
    } else {
        scan(c, 1, 0, 0);
    }
}

/* COPY t [(cols)] FROM|TO 'file' ...; COPY (query) TO 'file';
 * COPY FROM DATABASE a TO b.  The file is not a relation: it lives at the
 * site where the statement runs. */
static void head_copy(cx *c) {
    c->st->kind = MD_SQL_DML;
    set_verb(c, "COPY");
    c->i++;
    if (kw_at(c, 0, MD_KW_FROM) && kw_at(c, 1, MD_KW_DATABASE)) {
        set_verb(c, "COPY FROM DATABASE");
        c->i += 2;
        target(c, MD_SQL_REL_DATABASE, MD_SQL_READ, 1);
        if (kw_at(c, 0, MD_KW_TO)) c->i++;
        target(c, MD_SQL_REL_DATABASE, MD_SQL_WRITE, 1);
        return;
    }
    if (punct_at(c, 0, '(')) {
        int q = starts_query(c, c->i + 1);
        c->i++;
        scan(c, q, ')', 0);
        return;
    }
    md_sql_rel *r = target(c, MD_SQL_REL_TABLE, MD_SQL_READ, 3);
    if (punct_at(c, 0, '(')) skip_group(c);
    if (r && kw_at(c, 0, MD_KW_FROM)) r->access = MD_SQL_WRITE;
}

static int has_kw_pair(const cx *c, md_sql_kw a, md_sql_kw b) {
    for (size_t j = c->i; j + 1 < c->n; j++)
        if (c->t[j].type == MD_TOK_KEYWORD && c->t[j].kw == a && c->t[j + 1].type == MD_TOK_KEYWORD &&
            c->t[j + 1].kw == b)
            return 1;
    return 0;
}

static void head_create(cx *c) {
    c->i++;
    int temporary = 0, persistent = 0;
    if (kw_at(c, 0, MD_KW_OR) && kw_at(c, 1, MD_KW_REPLACE)) c->i += 2;
    if (kw_at(c, 0, MD_KW_TEMP) || kw_at(c, 0, MD_KW_TEMPORARY)) temporary = 1, c->i++;
    else if (kw_at(c, 0, MD_KW_PERSISTENT)) persistent = 1, c->i++;
    if (kw_at(c, 0, MD_KW_UNIQUE)) c->i++;
    const md_sql_token *obj = tok(c, 0);
    md_sql_kw kw = obj && obj->type == MD_TOK_KEYWORD ? (md_sql_kw)obj->kw : MD_NOT_KEYWORD;
    char verb[64];
    snprintf(verb, sizeof verb, "CREATE %s", obj && obj->type == MD_TOK_KEYWORD ? md_sql_keyword_name(kw) : "");
    set_verb(c, verb);
    c->st->kind = MD_SQL_DDL;
    c->i++;
    skip_if_exists(c);
    md_sql_rel *r = NULL;
    switch (kw) {
    case MD_KW_TABLE:
    case MD_KW_VIEW:
        r = target(c, MD_SQL_REL_TABLE, MD_SQL_WRITE, 3);
        break;
    case MD_KW_SCHEMA:
        r = target(c, MD_SQL_REL_SCHEMA, MD_SQL_WRITE, 2);
        break;
    case MD_KW_SEQUENCE: case MD_KW_TYPE: case MD_KW_MACRO: case MD_KW_FUNCTION:
        r = target(c, MD_SQL_REL_OBJECT, MD_SQL_WRITE, 3);
        break;
    case MD_KW_INDEX: {
        name3 ix;
        if (!kw_at(c, 0, MD_KW_ON) && parse_name(c, &ix, 3)) name3_free(&ix);
        if (kw_at(c, 0, MD_KW_ON)) {
            c->i++;
            target(c, MD_SQL_REL_TABLE, MD_SQL_WRITE, 3);
        }
        return;
    }
    case MD_KW_SECRET:
        if (persistent || has_kw_pair(c, MD_KW_IN, MD_KW_MD) || has_kw_pair(c, MD_KW_IN, MD_KW_MOTHERDUCK))
            c->st->kind = MD_SQL_SERVER;
        else
            c->st->kind = MD_SQL_OTHER;
        if (persistent) set_verb(c, "CREATE PERSISTENT SECRET");
        return;
    case MD_KW_DATABASE:
        c->st->kind = MD_SQL_SERVER;
        r = target(c, MD_SQL_REL_DATABASE, MD_SQL_WRITE, 1);
        if (r) r->effect = MD_SQL_EFFECT_CREATE;
        if (kw_at(c, 0, MD_KW_FROM)) {
            c->i++;
            target(c, MD_SQL_REL_DATABASE, MD_SQL_READ, 1);
        }
        return;
    case MD_KW_SNAPSHOT: {
        c->st->kind = MD_SQL_SERVER;
        name3 nm;
        if (!kw_at(c, 0, MD_KW_OF) && parse_name(c, &nm, 1)) name3_free(&nm);
        if (kw_at(c, 0, MD_KW_OF)) {
            c->i++;
            target(c, MD_SQL_REL_DATABASE, MD_SQL_READ, 1);
        }
        return;
    }
    case MD_KW_SHARE: {
        c->st->kind = MD_SQL_SERVER;
        name3 nm;
        if (!kw_at(c, 0, MD_KW_FROM) && parse_name(c, &nm, 1)) name3_free(&nm);
        if (kw_at(c, 0, MD_KW_FROM)) {
            c->i++;
            target(c, MD_SQL_REL_DATABASE, MD_SQL_READ, 1);
        }
        return;
    }
    default:
        break;
    }
    if (r) {
        r->effect = MD_SQL_EFFECT_CREATE;
        r->temporary = temporary;
    }
    scan(c, 1, 0, 0);
}

static void head_drop(cx *c) {
    c->i++;
    c->st->kind = MD_SQL_DDL;
    if (kw_at(c, 0, MD_KW_PERSISTENT) || kw_at(c, 0, MD_KW_TEMPORARY) || kw_at(c, 0, MD_KW_TEMP))
        c->i++; /* DROP PERSISTENT|TEMPORARY SECRET */
    const md_sql_token *obj = tok(c, 0);
    md_sql_kw kw = obj && obj->type == MD_TOK_KEYWORD ? (md_sql_kw)obj->kw : MD_NOT_KEYWORD;
    char verb[64];
    snprintf(verb, sizeof verb, "DROP %s", obj && obj->type == MD_TOK_KEYWORD ? md_sql_keyword_name(kw) : "");
    set_verb(c, verb);
    c->i++;
    md_sql_rel_type type = MD_SQL_REL_OBJECT;
    int max = 3;
    switch (kw) {
    case MD_KW_TABLE: case MD_KW_VIEW: type = MD_SQL_REL_TABLE; break;
    case MD_KW_SCHEMA: type = MD_SQL_REL_SCHEMA; max = 2; break;
    case MD_KW_DATABASE:
        c->st->kind = MD_SQL_SERVER;
        type = MD_SQL_REL_DATABASE;
        max = 1;
        break;
    case MD_KW_SHARE:
    case MD_KW_SECRET:
        c->st->kind = MD_SQL_SERVER;
        return;
    case MD_KW_MACRO:
        if (kw_at(c, 0, MD_KW_TABLE)) c->i++;
        break;
    default:
        break;
    }
    skip_if_exists(c);
    for (;;) {
        md_sql_rel *r = target(c, type, MD_SQL_WRITE, max);
        if (!r) break;
        if (kw == MD_KW_TABLE || kw == MD_KW_VIEW || kw == MD_KW_SCHEMA || kw == MD_KW_DATABASE)
            r->effect = MD_SQL_EFFECT_DROP;
        if (!punct_at(c, 0, ',')) break;
        c->i++;
    }
}

static void head_alter(cx *c) {
    c->i++;
    c->st->kind = MD_SQL_DDL;
    const md_sql_token *obj = tok(c, 0);
    md_sql_kw kw = obj && obj->type == MD_TOK_KEYWORD ? (md_sql_kw)obj->kw : MD_NOT_KEYWORD;
    char verb[64];
    snprintf(verb, sizeof verb, "ALTER %s", obj && obj->type == MD_TOK_KEYWORD ? md_sql_keyword_name(kw) : "");
    set_verb(c, verb);
    c->i++;
    skip_if_exists(c);
    switch (kw) {
    case MD_KW_TABLE: case MD_KW_VIEW:
        target(c, MD_SQL_REL_TABLE, MD_SQL_WRITE, 3);
        break;
    case MD_KW_DATABASE:
        c->st->kind = MD_SQL_SERVER;
        target(c, MD_SQL_REL_DATABASE, MD_SQL_WRITE, 1);
        return;
    case MD_KW_SCHEMA:
        target(c, MD_SQL_REL_SCHEMA, MD_SQL_WRITE, 2);
        break;
    default:
        target(c, MD_SQL_REL_OBJECT, MD_SQL_WRITE, 3);
        break;
    }
    scan(c, 1, 0, 0);
}

/* COMMENT ON TABLE|VIEW|COLUMN|... name IS '...' */
static void head_comment(cx *c) {
    c->st->kind = MD_SQL_DDL;
    set_verb(c, "COMMENT ON");
    c->i++;
    if (kw_at(c, 0, MD_KW_ON)) c->i++;
    int column = kw_at(c, 0, MD_KW_COLUMN);
    int table = kw_at(c, 0, MD_KW_TABLE) || kw_at(c, 0, MD_KW_VIEW);
    c->i++;
    if (column) {
        name3 nm;
        if (parse_name(c, &nm, 3) && nm.nparts >= 2) { /* [db.][schema.]table.column */
            md_free(nm.parts[--nm.nparts]);
            rel_from_name(c, MD_SQL_REL_TABLE, MD_SQL_WRITE, &nm);
        } else {
            name3_free(&nm);
        }
        return;
    }
    target(c, table ? MD_SQL_REL_TABLE : MD_SQL_REL_OBJECT, MD_SQL_WRITE, 3);
}

/* ATTACH [DATABASE] [OR REPLACE] [IF NOT EXISTS] 'path' [AS alias] [(options)] */
static void head_attach(cx *c) {
    c->st->kind = MD_SQL_ATTACH;
    set_verb(c, "ATTACH");
    c->i++;
    if (kw_at(c, 0, MD_KW_DATABASE)) c->i++;
    if (kw_at(c, 0, MD_KW_OR) && kw_at(c, 1, MD_KW_REPLACE)) c->i += 2;
    skip_if_exists(c);
    const md_sql_token *t = tok(c, 0);
    if (t && (t->type == MD_TOK_STRING || is_name(t, 1))) {
        c->st->attach_path = md_sql_token_value(c->sql, t, NULL);
        c->st->target_start = t->off;
        c->st->target_end = t->off + t->len;
        c->i++;
    }
    if (kw_at(c, 0, MD_KW_AS) && is_name(tok(c, 1), 1)) {
        c->st->attach_alias = md_sql_token_value(c->sql, tok(c, 1), NULL);
        c->i += 2;
    }
}

static void head_detach(cx *c) {
    c->st->kind = MD_SQL_DETACH;
    set_verb(c, "DETACH");
    c->i++;
    if (kw_at(c, 0, MD_KW_DATABASE)) c->i++;
    skip_if_exists(c);
    name3 nm;
    if (parse_name(c, &nm, 1)) {
        c->st->target_nparts = 1;
        c->st->target[0] = nm.parts[0];
        c->st->target_start = nm.start;
        c->st->target_end = nm.end;
    }
}

static void head_use(cx *c) {
    c->st->kind = MD_SQL_USE;
    set_verb(c, "USE");
    c->i++;
    name3 nm;
    if (parse_name(c, &nm, 2)) {
        c->st->target_nparts = nm.nparts;
        for (int k = 0; k < nm.nparts; k++) c->st->target[k] = nm.parts[k];
        c->st->target_start = nm.start;
        c->st->target_end = nm.end;
    }
}

/* DESCRIBE | SHOW | SUMMARIZE followed by a query, a table, or (SHOW) TABLES
 * [FROM db|schema] / ALL TABLES / DATABASES. */
static void head_describe(cx *c) {
    c->st->kind = MD_SQL_QUERY;
    verb_from_tokens(c, 0);
    int show = kw_at(c, 0, MD_KW_SHOW);
    c->i++;
    if (starts_query(c, c->i) || punct_at(c, 0, '(')) {
        scan(c, 1, 0, 0);
        return;
    }
    if (show && kw_at(c, 0, MD_KW_TABLES)) {
        set_verb(c, "SHOW TABLES");
        c->i++;
        if (kw_at(c, 0, MD_KW_FROM) || kw_at(c, 0, MD_KW_IN)) {
            c->i++;
            target(c, MD_SQL_REL_SCHEMA, MD_SQL_READ, 2);
        }
        return;
    }
    /* the server answers SHOW [ALL] DATABASES (its databases and snapshots) */
    if (show && (word_at(c, 0, "DATABASES") || (kw_at(c, 0, MD_KW_ALL) && word_at(c, 1, "DATABASES")))) {
        c->st->kind = MD_SQL_SERVER;
        set_verb(c, kw_at(c, 0, MD_KW_ALL) ? "SHOW ALL DATABASES" : "SHOW DATABASES");
        return;
    }
    if (show && kw_at(c, 0, MD_KW_ALL)) {
        set_verb(c, "SHOW ALL TABLES");
        return;
    }
    if (kw_at(c, 0, MD_KW_TABLE)) c->i++;
    if (!table_ref(c, MD_SQL_READ)) return;
    scan(c, 1, 0, 0);
}

static void head_other(cx *c) {
    const md_sql_token *t0 = tok(c, 0);
    c->st->kind = MD_SQL_OTHER;
    verb_from_tokens(c, 0);
    c->i++;
    switch (t0->kw) {
    case MD_KW_SET:
    case MD_KW_RESET:
        scan(c, 1, 0, 0);
        break;
    case MD_KW_CALL:
        table_ref(c, MD_SQL_READ);
        break;
    case MD_KW_FORCE:
        set_verb(c, "FORCE CHECKPOINT");
        if (kw_at(c, 0, MD_KW_CHECKPOINT)) c->i++;
        target(c, MD_SQL_REL_DATABASE, MD_SQL_WRITE, 1);
        break;
    case MD_KW_CHECKPOINT:
        target(c, MD_SQL_REL_DATABASE, MD_SQL_WRITE, 1);
        break;
    case MD_KW_VACUUM:
    case MD_KW_ANALYZE:
        if (kw_at(c, 0, MD_KW_ANALYZE)) c->i++;
        target(c, MD_SQL_REL_TABLE, MD_SQL_READ, 3);
        break;
    case MD_KW_EXPORT:
        set_verb(c, "EXPORT DATABASE");
        if (kw_at(c, 0, MD_KW_DATABASE)) c->i++;
        if (!tok(c, 0) || tok(c, 0)->type != MD_TOK_STRING) target(c, MD_SQL_REL_DATABASE, MD_SQL_READ, 1);
        break;
    case MD_KW_PREPARE: {
        name3 nm;
        if (parse_name(c, &nm, 1)) name3_free(&nm);
        if (kw_at(c, 0, MD_KW_AS)) c->i++;
        if (c->i < c->n) {
            classify(c);
            char verb[64];
            snprintf(verb, sizeof verb, "PREPARE %s", c->st->verb);
            set_verb(c, verb);
            drop_effects(c->st); /* it runs at EXECUTE */
        }
        break;
    }
    default:
        break;
    }
}

/* Transactions: BEGIN [TRANSACTION], START TRANSACTION, COMMIT, END,
 * ROLLBACK, ABORT. */
static void head_transaction(cx *c, md_sql_txn txn, const char *verb) {
    c->st->kind = MD_SQL_TRANSACTION;
    c->st->txn = txn;
    set_verb(c, verb);
}

static void head_server(cx *c, int words) {
    c->st->kind = MD_SQL_SERVER;
    verb_from_tokens(c, words - 1);
}

static void classify(cx *c) {
    const md_sql_token *t0 = tok(c, 0);
    if (!t0) return;
    if (punct(c, t0, '(')) {
        c->st->kind = MD_SQL_QUERY;
        set_verb(c, "SELECT");
        scan(c, 1, 0, 0);
        return;
    }
    if (t0->type != MD_TOK_KEYWORD) {
        c->st->kind = MD_SQL_OTHER;
        return;
    }
    switch (t0->kw) {
    case MD_KW_SELECT: case MD_KW_FROM: case MD_KW_VALUES: case MD_KW_TABLE: case MD_KW_PIVOT:
    case MD_KW_UNPIVOT:
        c->st->kind = MD_SQL_QUERY;
        verb_from_tokens(c, 0);
        scan(c, 1, 0, 0);
        return;
    case MD_KW_WITH:
        parse_with(c);
        if (kw_at(c, 0, MD_KW_INSERT) || kw_at(c, 0, MD_KW_UPDATE) || kw_at(c, 0, MD_KW_DELETE) ||
            kw_at(c, 0, MD_KW_MERGE)) {
            classify(c);
            return;
        }
        c->st->kind = MD_SQL_QUERY;
        set_verb(c, "SELECT");
        scan(c, 1, 0, 0);
        return;
    case MD_KW_DESCRIBE: case MD_KW_SHOW: case MD_KW_SUMMARIZE:
        head_describe(c);
        return;
    case MD_KW_EXPLAIN: {
        int analyze = kw_at(c, 1, MD_KW_ANALYZE);
        c->i += analyze ? 2 : 1;
        classify(c);
        set_verb(c, analyze ? "EXPLAIN ANALYZE" : "EXPLAIN");
        if (!analyze) drop_effects(c->st); /* the statement is only planned */
        return;
    }
    case MD_KW_INSERT: head_insert(c); return;
    case MD_KW_UPDATE:
        /* UPDATE SHARE name (management) vs UPDATE share SET ... (a table named share) */
        if (kw_at(c, 1, MD_KW_SHARE) && !kw_at(c, 2, MD_KW_SET) && !punct_at(c, 2, '.') && !kw_at(c, 2, MD_KW_AS) &&
            !kw_at(c, 3, MD_KW_SET)) {
            head_server(c, 2);
            return;
        }
        head_update(c);
        return;
    case MD_KW_DELETE: head_delete(c); return;
    case MD_KW_MERGE: head_merge(c); return;
    case MD_KW_TRUNCATE:
        c->st->kind = MD_SQL_DML;
        set_verb(c, "TRUNCATE");
        c->i++;
        if (kw_at(c, 0, MD_KW_TABLE)) c->i++;
        target(c, MD_SQL_REL_TABLE, MD_SQL_WRITE, 3);
        return;
    case MD_KW_COPY: head_copy(c); return;
    case MD_KW_CREATE: head_create(c); return;
    case MD_KW_DROP: head_drop(c); return;
    case MD_KW_ALTER: head_alter(c); return;
    case MD_KW_COMMENT: head_comment(c); return;
    case MD_KW_ATTACH: head_attach(c); return;
    case MD_KW_DETACH: head_detach(c); return;
    case MD_KW_USE: head_use(c); return;
    case MD_KW_BEGIN: case MD_KW_START: head_transaction(c, MD_SQL_TXN_BEGIN, "BEGIN"); return;
    case MD_KW_COMMIT: case MD_KW_END: head_transaction(c, MD_SQL_TXN_COMMIT, "COMMIT"); return;
    case MD_KW_ROLLBACK: case MD_KW_ABORT: head_transaction(c, MD_SQL_TXN_ROLLBACK, "ROLLBACK"); return;
    case MD_KW_UNDROP: case MD_KW_REFRESH: head_server(c, 2); return;
    case MD_KW_GRANT: case MD_KW_REVOKE: head_server(c, 1); return;
    case MD_KW_LIST:
        if (kw_at(c, 1, MD_KW_SHARES)) {
            head_server(c, 2);
            return;
        }
        break;
    default:
        break;
    }
    head_other(c);
}

/* ---- scripts ---------------------------------------------------------------- */

static void stmt_free(md_sql_stmt *st) {
    for (size_t k = 0; k < st->nrels; k++) {
        for (int p = 0; p < st->rels[k].nparts; p++) md_free(st->rels[k].parts[p]);
        md_free(st->rels[k].path);
    }
    md_free(st->rels);
    for (int p = 0; p < st->target_nparts; p++) md_free(st->target[p]);
    md_free(st->attach_path);
    md_free(st->attach_alias);
    md_free(st->cuts);
}

void md_sql_script_free(md_sql_script **script) {
    if (!script || !*script) return;
    for (size_t k = 0; k < (*script)->nstmts; k++) stmt_free(&(*script)->stmts[k]);
    md_free((*script)->stmts);
    md_free(*script);
    *script = NULL;
}

int md_sql_classify(const char *sql, size_t len, md_sql_script **out_script, md_sql_error *out_err) {
    md_sql_token *toks = NULL;
    size_t ntoks = 0;
    int rc = md_sql_lex(sql, len, 0, &toks, &ntoks, out_err);
    if (rc != MD_OK) return rc;
    md_sql_span *spans = NULL;
    size_t nspans = 0;
    md_sql_split(toks, ntoks, &spans, &nspans);
    md_sql_script *script = md_calloc(1, sizeof *script);
    script->stmts = nspans ? md_calloc(nspans, sizeof *script->stmts) : NULL;
    script->nstmts = nspans;
    for (size_t s = 0; s < nspans; s++) {
        md_sql_stmt *st = &script->stmts[s];
        const md_sql_token *first = &toks[spans[s].first];
        const md_sql_token *last = &toks[spans[s].first + spans[s].count - 1];
        st->start = first->off;
        st->end = last->off + last->len;
        st->kind = MD_SQL_OTHER;
        cx c = {.sql = sql, .t = first, .n = spans[s].count, .st = st};
        classify(&c);
        pop_ctes(&c, 0);
        md_free(c.ctes);
    }
    md_free(spans);
    md_free(toks);
    *out_script = script;
    return MD_OK;
}

char *md_sql_stmt_text(const char *sql, const md_sql_stmt *st, size_t *out_len) {
    size_t cap = st->end - st->start, o = 0;
    char *out = md_malloc(cap + 1);
    uint32_t at = st->start;
    for (size_t k = 0; k < st->ncuts; k++) {
        const md_sql_cut *cut = &st->cuts[k];
        if (cut->start < at || cut->end > st->end) continue; /* overlapping: keep the text */
        memcpy(out + o, sql + at, cut->start - at);
        o += cut->start - at;
        at = cut->end;
    }
    memcpy(out + o, sql + at, st->end - at);
    o += st->end - at;
    out[o] = 0;
    if (out_len) *out_len = o;
    return out;
}

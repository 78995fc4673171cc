/*
 * sql_lexer.c: DuckDB SQL lexer and statement splitter (see sql_lexer.h).
 *
 * One left-to-right pass over the bytes; each token kind has its own scanner
 * that returns the offset one past the token's last byte, or an error for an
 * unterminated construct.  The only look-behind is for '.' (a number such as
 * .5 only where a value may start, never right after a name: s.5 is not a
 * number) and string prefixes (E'..' only at the start of a token).
 */
#include "sql_lexer.h"

#include <stdio.h>
#include <string.h>

#include "md_alloc.h"
#include "md_error.h"

typedef struct kw_entry {
    const char *name;
    uint8_t len;
    uint8_t cat;
} kw_entry;

static const kw_entry kw_table[] = {
    {"", 0, MD_KWCAT_UNRESERVED},
#define MD__KW_ROW(word, cat) {#word, (uint8_t)(sizeof #word - 1), MD_KWCAT_##cat},
    MD_SQL_KEYWORDS(MD__KW_ROW)
#undef MD__KW_ROW
};

static int upper(int c) { return (c >= 'a' && c <= 'z') ? c - 32 : c; }

md_sql_kw md_sql_keyword_find(const char *word, size_t len) {
    if (len == 0 || len > 32) return MD_NOT_KEYWORD;
    char up[33];
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)word[i];
        if (c >= 0x80) return MD_NOT_KEYWORD;
        up[i] = (char)upper(c);
    }
    up[len] = 0;
    size_t lo = 1, hi = MD_KW__COUNT; /* [lo, hi) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(up, kw_table[mid].name);
        if (c == 0) return (md_sql_kw)mid;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return MD_NOT_KEYWORD;
}

const char *md_sql_keyword_name(md_sql_kw kw) {
    if ((unsigned)kw >= MD_KW__COUNT) return "";
    return kw_table[kw].name;
}

md_sql_kw_category md_sql_keyword_category(md_sql_kw kw) {
    if (kw == MD_NOT_KEYWORD || (unsigned)kw >= MD_KW__COUNT) return MD_KWCAT_UNRESERVED;
    return (md_sql_kw_category)kw_table[kw].cat;
}

const char *md_sql_token_type_name(md_sql_tok_type type) {
    switch (type) {
#define MD__TOK_NAME(name, wire) \
    case MD_TOK_##name: return wire;
        MD_SQL_TOKEN_TYPES(MD__TOK_NAME)
#undef MD__TOK_NAME
    }
    return "";
}

/* ---- character classes -------------------------------------------------- */

static int is_ident_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
static int is_ident_char(unsigned char c) {
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static int is_op_char(unsigned char c) { return c && strchr("+-*/<>=~!@#%^&|`:", c) != NULL; }

/* ---- scanners: each returns the end offset, or SIZE_MAX when unterminated */

#define UNTERMINATED ((size_t)-1)

/* A '...' string starting at the quote `q`; escapes: backslash escapes the
 * next byte when `backslash`. */
static size_t scan_quoted(const char *s, size_t n, size_t q, char quote, int backslash) {
    size_t i = q + 1;
    while (i < n) {
        char c = s[i];
        if (backslash && c == '\\') {
            i += 2;
            continue;
        }
        if (c == quote) {
            if (i + 1 < n && s[i + 1] == quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return UNTERMINATED;
}

/* A block comment starting at "/ *"; comments nest. */
static size_t scan_block_comment(const char *s, size_t n, size_t at) {
    size_t i = at + 2;
    int depth = 1;
    while (i < n) {
        if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
            depth++;
            i += 2;
        } else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
            i += 2;
            if (--depth == 0) return i;
        } else {
            i++;
        }
    }
    return UNTERMINATED;
}

/* The tag of a dollar quote at `at` ('$'): returns the length of "$tag$"
 * (2 for "$$"), or 0 when `at` does not open a dollar quote. */
static size_t dollar_tag_len(const char *s, size_t n, size_t at) {
    size_t i = at + 1;
    if (i < n && s[i] == '$') return 2;
    if (i >= n || !is_ident_start((unsigned char)s[i])) return 0;
    while (i < n && is_ident_char((unsigned char)s[i]) && s[i] != '$') i++;
    if (i < n && s[i] == '$') return i - at + 1;
    return 0;
}

static size_t scan_dollar(const char *s, size_t n, size_t at, size_t taglen) {
    size_t i = at + taglen;
    while (i + taglen <= n) {
        if (s[i] == '$' && memcmp(s + i, s + at, taglen) == 0) return i + taglen;
        i++;
    }
    return UNTERMINATED;
}

static int is_alnum(unsigned char c) { return is_digit(c) || ((c | 32) >= 'a' && (c | 32) <= 'z'); }

/* A number at i (a digit, or '.' followed by a digit). */
static size_t scan_number(const char *s, size_t n, size_t i) {
    if (s[i] == '0' && i + 1 < n && strchr("xXbB", s[i + 1]) && s[i + 1]) {
        i += 2;
        while (i < n && (is_alnum((unsigned char)s[i]) || s[i] == '_')) i++;
        return i;
    }
    while (i < n && (is_digit((unsigned char)s[i]) || s[i] == '_')) i++;
    if (i < n && s[i] == '.' && !(i + 1 < n && s[i + 1] == '.')) {
        i++;
        while (i < n && (is_digit((unsigned char)s[i]) || s[i] == '_')) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) j++;
        if (j < n && is_digit((unsigned char)s[j])) {
            i = j;
            while (i < n && is_digit((unsigned char)s[i])) i++;
        }
    }
    return i;
}

/* An operator run at i: stops before "--" and "/" "*" inside the run. */
static size_t scan_operator(const char *s, size_t n, size_t i) {
    size_t start = i;
    while (i < n && is_op_char((unsigned char)s[i])) {
        if (i > start && ((s[i] == '-' && i + 1 < n && s[i + 1] == '-') ||
                          (s[i] == '/' && i + 1 < n && s[i + 1] == '*')))
            break;
        i++;
    }
    return i;
}

static int set_error(md_sql_error *err, int code, size_t pos, const char *msg) {
    if (err) {
        err->code = code;
        err->position = (uint32_t)pos;
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
    return code;
}

typedef struct tok_vec {
    md_sql_token *v;
    size_t n, cap;
} tok_vec;

static void push(tok_vec *tv, md_sql_tok_type type, size_t off, size_t end, uint16_t kw, uint8_t flags) {
    if (tv->n == tv->cap) {
        tv->cap = tv->cap ? tv->cap * 2 : 64;
        tv->v = md_realloc(tv->v, tv->cap * sizeof *tv->v);
    }
    tv->v[tv->n++] = (md_sql_token){(uint32_t)off, (uint32_t)(end - off), kw, (uint8_t)type, flags};
}

/* Whether a '.' at this point may start a number: not right after a name,
 * a closing bracket or a literal (there it is a qualifier dot). */
static int dot_may_start_number(const char *s, const tok_vec *tv, size_t at) {
    if (tv->n == 0) return 1;
    const md_sql_token *p = &tv->v[tv->n - 1];
    if (p->off + p->len != at) return 1;
    if (p->type == MD_TOK_PUNCT) return s[p->off] != ')' && s[p->off] != ']';
    switch (p->type) {
    case MD_TOK_IDENT: case MD_TOK_QIDENT: case MD_TOK_KEYWORD: case MD_TOK_STRING:
    case MD_TOK_DOLLAR: case MD_TOK_NUMBER: case MD_TOK_PARAM:
        return 0;
    default:
        return 1;
    }
}

int md_sql_lex(const char *s, size_t n, unsigned flags, md_sql_token **out_tokens,
               size_t *out_count, md_sql_error *out_err) {
    if (n >= UINT32_MAX)
        return set_error(out_err, MD_ETOO_LARGE, 0, "the SQL text is larger than 4 GiB");
    tok_vec tv = {0};
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (is_space(c)) {
            i++;
            continue;
        }
        if (c == 0) {
            md_free(tv.v);
            return set_error(out_err, MD_ESQL, i, "the SQL text contains a NUL byte");
        }
        size_t end;
        if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            end = i + 2;
            while (end < n && s[end] != '\n') end++;
            if (flags & MD_SQL_LEX_COMMENTS) push(&tv, MD_TOK_COMMENT, i, end, 0, 0);
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            end = scan_block_comment(s, n, i);
            if (end == UNTERMINATED) {
                md_free(tv.v);
                return set_error(out_err, MD_ESQL, i, "unterminated /* comment: it needs a closing */");
            }
            if (flags & MD_SQL_LEX_COMMENTS) push(&tv, MD_TOK_COMMENT, i, end, 0, 0);
        } else if (c == '\'') {
            end = scan_quoted(s, n, i, '\'', 0);
            if (end == UNTERMINATED) {
                md_free(tv.v);
                return set_error(out_err, MD_ESQL, i, "unterminated quoted string: it needs a closing '");
            }
            push(&tv, MD_TOK_STRING, i, end, 0, 0);
        } else if ((c == 'e' || c == 'E' || c == 'x' || c == 'X' || c == 'b' || c == 'B') &&
                   i + 1 < n && s[i + 1] == '\'') {
            int esc = (c == 'e' || c == 'E');
            end = scan_quoted(s, n, i + 1, '\'', esc);
            if (end == UNTERMINATED) {
                md_free(tv.v);
                return set_error(out_err, MD_ESQL, i, "unterminated quoted string: it needs a closing '");
            }
            push(&tv, MD_TOK_STRING, i, end, 0, (uint8_t)(MD_SQL_STR_PREFIXED | (esc ? MD_SQL_STR_ESCAPE : 0)));
        } else if (c == '"') {
            end = scan_quoted(s, n, i, '"', 0);
            if (end == UNTERMINATED) {
                md_free(tv.v);
                return set_error(out_err, MD_ESQL, i, "unterminated quoted identifier: it needs a closing \"");
            }
            push(&tv, MD_TOK_QIDENT, i, end, 0, 0);
        } else if (c == '$') {
            size_t tag = dollar_tag_len(s, n, i);
            if (tag) {
                end = scan_dollar(s, n, i, tag);
                if (end == UNTERMINATED) {
                    md_free(tv.v);
                    return set_error(out_err, MD_ESQL, i, "unterminated dollar-quoted string: it needs a closing $$ (with the same tag)");
                }
                push(&tv, MD_TOK_DOLLAR, i, end, 0, (uint8_t)(tag > 255 ? 255 : tag));
            } else {
                end = i + 1;
                while (end < n && is_ident_char((unsigned char)s[end]) && s[end] != '$') end++;
                push(&tv, end > i + 1 ? MD_TOK_PARAM : MD_TOK_OP, i, end, 0, 0);
            }
        } else if (c == '?') {
            end = i + 1;
            while (end < n && is_digit((unsigned char)s[end])) end++;
            push(&tv, MD_TOK_PARAM, i, end, 0, 0);
        } else if (is_ident_start(c)) {
            end = i + 1;
            while (end < n && is_ident_char((unsigned char)s[end])) end++;
            md_sql_kw kw = md_sql_keyword_find(s + i, end - i);
            push(&tv, kw ? MD_TOK_KEYWORD : MD_TOK_IDENT, i, end, (uint16_t)kw, 0);
        } else if (is_digit(c) || (c == '.' && i + 1 < n && is_digit((unsigned char)s[i + 1]) &&
                                   dot_may_start_number(s, &tv, i))) {
            end = scan_number(s, n, i);
            push(&tv, MD_TOK_NUMBER, i, end, 0, 0);
        } else if (c == ';') {
            end = i + 1;
            push(&tv, MD_TOK_SEMI, i, end, 0, 0);
        } else if (strchr("()[]{},.", c)) {
            end = i + 1;
            push(&tv, MD_TOK_PUNCT, i, end, 0, 0);
        } else if (is_op_char(c)) {
            end = scan_operator(s, n, i);
            push(&tv, MD_TOK_OP, i, end, 0, 0);
        } else {
            /* Any other byte (a stray backslash, a control character): a
             * one-byte operator token, left for DuckDB to reject in context. */
            end = i + 1;
            push(&tv, MD_TOK_OP, i, end, 0, 0);
        }
        i = end;
    }
    *out_tokens = tv.v;
    *out_count = tv.n;
    return MD_OK;
}

void md_sql_split(const md_sql_token *toks, size_t ntoks, md_sql_span **out_spans, size_t *out_count) {
    md_sql_span *spans = NULL;
    size_t n = 0, cap = 0, first = 0;
    for (size_t i = 0; i <= ntoks; i++) {
        if (i < ntoks && toks[i].type != MD_TOK_SEMI) continue;
        if (i > first) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                spans = md_realloc(spans, cap * sizeof *spans);
            }
            spans[n++] = (md_sql_span){first, i - first};
        }
        first = i + 1;
    }
    *out_spans = spans;
    *out_count = n;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 32;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

char *md_sql_token_value(const char *sql, const md_sql_token *tok, size_t *out_len) {
    const char *p = sql + tok->off;
    size_t len = tok->len;
    char *out = md_malloc(len + 1);
    size_t o = 0;
    if (tok->type == MD_TOK_QIDENT || tok->type == MD_TOK_STRING) {
        char quote = tok->type == MD_TOK_QIDENT ? '"' : '\'';
        size_t i = (tok->flags & MD_SQL_STR_PREFIXED) ? 2 : 1;
        size_t end = len - 1;
        int esc = (tok->flags & MD_SQL_STR_ESCAPE) != 0;
        while (i < end) {
            char c = p[i];
            if (c == quote && i + 1 < end && p[i + 1] == quote) {
                out[o++] = quote;
                i += 2;
            } else if (esc && c == '\\' && i + 1 < end) {
                char e = p[i + 1];
                i += 2;
                switch (e) {
                case 'n': out[o++] = '\n'; break;
                case 't': out[o++] = '\t'; break;
                case 'r': out[o++] = '\r'; break;
                case 'b': out[o++] = '\b'; break;
                case 'f': out[o++] = '\f'; break;
                case '0': out[o++] = '\0'; break;
                case 'x': {
                    int v = 0, k = 0;
                    while (k < 2 && i < end && hexval((unsigned char)p[i]) >= 0) v = v * 16 + hexval((unsigned char)p[i++]), k++;
                    out[o++] = k ? (char)v : 'x';
                    break;
                }
                default: out[o++] = e; break;
                }
            } else {
                out[o++] = c;
                i++;
            }
        }
    } else if (tok->type == MD_TOK_DOLLAR) {
        /* The tag length is in flags (capped at 255): find it again. */
        size_t tag = 1;
        while (tag < len && p[tag] != '$') tag++;
        tag++;
        if (2 * tag <= len) {
            memcpy(out, p + tag, len - 2 * tag);
            o = len - 2 * tag;
        }
    } else {
        memcpy(out, p, len);
        o = len;
    }
    out[o] = 0;
    if (out_len) *out_len = o;
    return out;
}

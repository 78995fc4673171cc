/*
 * sql_redact.c: secret values out of SQL text (sql_redact.h).
 */
#include "shared/sql_redact.h"

#include <string.h>
#include <strings.h>

#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/sql_lexer.h"

static int word(const char *sql, const md_sql_token *t, const char *w) {
    return (t->type == MD_TOK_KEYWORD || t->type == MD_TOK_IDENT) && strlen(w) == t->len &&
           strncasecmp(sql + t->off, w, t->len) == 0;
}

/* 1 if the statement toks[0..n) is a CREATE ... SECRET. */
static int creates_secret(const char *sql, const md_sql_token *toks, size_t n) {
    size_t i = 0;
    if (i < n && word(sql, &toks[i], "CREATE")) i++;
    else return 0;
    if (i + 1 < n && word(sql, &toks[i], "OR") && word(sql, &toks[i + 1], "REPLACE")) i += 2;
    if (i < n && (word(sql, &toks[i], "PERSISTENT") || word(sql, &toks[i], "TEMPORARY") || word(sql, &toks[i], "TEMP")))
        i++;
    return i < n && word(sql, &toks[i], "SECRET");
}

static int mentions_secret(const char *sql, size_t len) {
    for (size_t i = 0; i + 6 <= len; i++)
        if (strncasecmp(sql + i, "secret", 6) == 0) return 1;
    return 0;
}

char *md_sql_redact_secrets(const char *sql, size_t len) {
    md_sql_token *toks = NULL;
    size_t n = 0;
    if (md_sql_lex(sql, len, MD_SQL_LEX_COMMENTS, &toks, &n, NULL) != MD_OK) {
        md_free(toks);
        return mentions_secret(sql, len) ? md_strdup("-- redacted: a CREATE SECRET statement") : md_strndup(sql, len);
    }
    md_buf b = MD_BUF_INIT;
    size_t copied = 0, start = 0;
    while (start < n) {
        size_t end = start;
        while (end < n && toks[end].type != MD_TOK_SEMI) end++;
        /* the statement's tokens without comments, to read its words */
        size_t first = start;
        while (first < end && toks[first].type == MD_TOK_COMMENT) first++;
        md_sql_token words[8];
        size_t nw = 0;
        for (size_t i = first; i < end && nw < 8; i++)
            if (toks[i].type != MD_TOK_COMMENT) words[nw++] = toks[i];
        if (creates_secret(sql, words, nw)) {
            int inside = 0;
            for (size_t i = first; i < end; i++) {
                const md_sql_token *t = &toks[i];
                if (t->type == MD_TOK_PUNCT && sql[t->off] == '(') inside = 1;
                int hide = inside && (t->type == MD_TOK_STRING || t->type == MD_TOK_DOLLAR || t->type == MD_TOK_COMMENT);
                if (!hide) continue;
                md_buf_append(&b, sql + copied, t->off - copied);
                if (t->type == MD_TOK_COMMENT) md_buf_append(&b, " ", 1);
                else md_buf_append(&b, "'***'", 5);
                copied = t->off + t->len;
            }
        }
        start = end + 1;
    }
    md_buf_append(&b, sql + copied, len - copied);
    md_buf_put_u8(&b, 0);
    md_free(toks);
    size_t out_len;
    return (char *)md_buf_detach(&b, &out_len);
}

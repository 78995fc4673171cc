/*
 * sql_lexer.h: a lexer for DuckDB's SQL dialect, and the statement splitter
 * built on it.  Used by the browser engine (wasm/) to classify and route
 * statements, and by anything in C that must find statement boundaries
 * without a DuckDB parser at hand.
 *
 * What it recognises (DuckDB 1.4's scanner, which follows PostgreSQL's):
 *
 *   'string'          '' inside is a quote; backslash is an ordinary byte
 *   E'string'         escape string: \' \\ \n ... and '' (prefix e or E)
 *   X'..' B'..'       hex and bit strings (quoted like 'string')
 *   $$text$$          dollar-quoted string; $tag$text$tag$ with a tag
 *   "identifier"      "" inside is a quote
 *   -- comment        to the end of the line
 *   / * comment * /   block comments, which nest
 *   ? ?1 $1 $name     prepared-statement parameters
 *   words             identifiers or keywords (sql_keywords.h), any byte
 *                     >= 0x80 is a letter (UTF-8 passes through unchanged)
 *   numbers           1, 1_000, 1.5e-3, .5, 0x1F, 0b101
 *   operators         maximal runs of + - * / < > = ~ ! @ # % ^ & | ` :
 *                     that stop before -- and / * (as PostgreSQL does)
 *   punctuation       ( ) [ ] { } , . ; one byte each
 *
 * Invariants:
 *   - every token keeps its byte offset and length in the original text, so
 *     any error can point at the byte where it happened; offsets are bytes of
 *     the UTF-8 text, not characters (wasm/exports.c's JavaScript caller
 *     converts them);
 *   - tokens are in text order and never overlap; whitespace and (unless
 *     MD_SQL_LEX_COMMENTS is given) comments produce no token;
 *   - the text is taken as (pointer, length) and need not be NUL-terminated;
 *     a NUL byte inside it is an error.  Texts of 4 GiB or more are refused.
 */
#ifndef MD_SQL_LEXER_H
#define MD_SQL_LEXER_H

#include <stddef.h>
#include <stdint.h>

/*   TOK(name,    wire name) */
#define MD_SQL_TOKEN_TYPES(TOK)     \
    TOK(IDENT,    "identifier")     \
    TOK(QIDENT,   "quoted_identifier") \
    TOK(KEYWORD,  "keyword")        \
    TOK(STRING,   "string")         \
    TOK(DOLLAR,   "dollar_string")  \
    TOK(NUMBER,   "number")         \
    TOK(PARAM,    "parameter")      \
    TOK(OP,       "operator")       \
    TOK(PUNCT,    "punctuation")    \
    TOK(SEMI,     "semicolon")      \
    TOK(COMMENT,  "comment")

typedef enum md_sql_tok_type {
#define MD__TOK_ENUM(name, wire) MD_TOK_##name,
    MD_SQL_TOKEN_TYPES(MD__TOK_ENUM)
#undef MD__TOK_ENUM
} md_sql_tok_type;

#include "sql_keywords.h"

typedef enum md_sql_kw_category {
    MD_KWCAT_RESERVED,
    MD_KWCAT_UNRESERVED,
    MD_KWCAT_COL_NAME,
    MD_KWCAT_TYPE_FUNC,
    MD_KWCAT_MDSERVER
} md_sql_kw_category;

/* MD_NOT_KEYWORD (0) for a token that is not a keyword, then one id per word. */
typedef enum md_sql_kw {
    MD_NOT_KEYWORD = 0,
#define MD__KW_ENUM(word, cat) MD_KW_##word,
    MD_SQL_KEYWORDS(MD__KW_ENUM)
#undef MD__KW_ENUM
    MD_KW__COUNT
} md_sql_kw;

/* Flags of a STRING token (in md_sql_token.flags). */
enum { MD_SQL_STR_ESCAPE = 1 /* E'...' */, MD_SQL_STR_PREFIXED = 2 /* E X B prefix byte */ };

typedef struct md_sql_token {
    uint32_t off;    /* byte offset of the first byte */
    uint32_t len;    /* bytes, quotes and prefixes included */
    uint16_t kw;     /* md_sql_kw for KEYWORD tokens, MD_NOT_KEYWORD otherwise */
    uint8_t type;    /* md_sql_tok_type */
    uint8_t flags;   /* MD_SQL_STR_* for STRING; for DOLLAR the tag length (capped at 255) */
} md_sql_token;

/*
 * A classified failure in SQL text: code (MD_E... from md_error.h), the byte
 * offset it refers to, and a sentence for the user.  A struct rather than a
 * malloc'd string because every SQL error carries a position and the callers
 * (routing many statements per keystroke) should not allocate for it.
 */
typedef struct md_sql_error {
    int code;
    uint32_t position;
    char message[512];
} md_sql_error;

/* Keep COMMENT tokens in the output (they are dropped by default). */
#define MD_SQL_LEX_COMMENTS 1u

/*
 * Tokenise sql[0..len).  On MD_OK, *out_tokens is an array of *out_count
 * tokens allocated with md_malloc (caller frees with md_free; NULL when the
 * count is 0).  On failure nothing is written to the out parameters and
 * *out_err (if not NULL) says what and where:
 *   MD_ESQL       unterminated string, quoted identifier, comment or dollar
 *                 quote (position: its first byte), or a NUL byte in the text
 *   MD_ETOO_LARGE len >= 4 GiB
 */
int md_sql_lex(const char *sql, size_t len, unsigned flags, md_sql_token **out_tokens,
               size_t *out_count, md_sql_error *out_err);

/* One statement of a script: tokens [first, first + count) of a token array
 * that holds no COMMENT tokens; the ';' that ends it is not included. */
typedef struct md_sql_span {
    size_t first;
    size_t count;
} md_sql_span;

/*
 * Split a token array (from md_sql_lex without MD_SQL_LEX_COMMENTS) into
 * statements at SEMI tokens.  Empty statements (";;", a trailing ";") are
 * skipped.  *out_spans is md_malloc'd (caller frees; NULL when *out_count is
 * 0).  Never fails.
 */
void md_sql_split(const md_sql_token *toks, size_t ntoks, md_sql_span **out_spans,
                  size_t *out_count);

/* The keyword id of word[0..len) (any case), or MD_NOT_KEYWORD. */
md_sql_kw md_sql_keyword_find(const char *word, size_t len);

/* The upper-case spelling of a keyword ("SELECT"); "" for MD_NOT_KEYWORD or an
 * out-of-range id.  Static storage. */
const char *md_sql_keyword_name(md_sql_kw kw);

/* The category of a keyword; MD_KWCAT_UNRESERVED for MD_NOT_KEYWORD. */
md_sql_kw_category md_sql_keyword_category(md_sql_kw kw);

/* The wire name of a token type ("keyword", "string" ...); "" if unknown. */
const char *md_sql_token_type_name(md_sql_tok_type type);

/*
 * The value a token stands for, md_malloc'd and NUL-terminated (caller
 * frees): a QIDENT without its quotes and with "" undoubled; a STRING without
 * its prefix and quotes, '' undoubled and, for E'..', backslash escapes
 * decoded; a DOLLAR string's body; any other token's bytes unchanged.
 * *out_len (if not NULL) receives the length (an E string may hold NUL bytes
 * through \0 escapes).
 */
char *md_sql_token_value(const char *sql, const md_sql_token *tok, size_t *out_len);

#endif

/*
 * sql_classify.h: what each statement of a SQL script is, and which
 * relations it reads and writes, without a full parser and without a
 * catalog.  The browser engine's router (wasm/router.c) resolves the
 * relations against its catalog cache and decides where each statement runs.
 *
 * Per statement (see md_sql_stmt):
 *   kind      query, ddl, dml, transaction, attach, detach, use, server
 *             (mdserver's management statements: CREATE/DROP/UNDROP DATABASE,
 *             CREATE SNAPSHOT, CREATE/DROP/UPDATE SHARE, GRANT/REVOKE, LIST
 *             SHARES, REFRESH DATABASE, CREATE PERSISTENT SECRET, CREATE
 *             SECRET ... IN MD|MOTHERDUCK, DROP SECRET) or other (SET,
 *             PRAGMA, CALL, CHECKPOINT, INSTALL, LOAD, EXPORT, ...);
 *   verb      its leading words in upper case ("SELECT", "CREATE TABLE");
 *   relations every table (1-, 2- or 3-part name, quoted parts unquoted),
 *             table function (with its file argument and md_run => placement),
 *             quoted file name used as a table (FROM 'x.csv'), and the
 *             schemas and databases that DDL and management statements name;
 *             each with its byte span and whether it is read or written.
 *             CTE names are not relations inside their WITH's scope.
 *
 * How relations are found: one pass over the tokens that knows where a table
 * reference may stand: after FROM (and after each ',' of that FROM list),
 * after JOIN, as the target of INSERT INTO / UPDATE / DELETE FROM / MERGE
 * INTO / TRUNCATE / COPY / CREATE / DROP / ALTER / DESCRIBE / SUMMARIZE /
 * PIVOT / TABLE, after REFERENCES.  Each '(' opens a nesting level that is a
 * query (it starts with SELECT, FROM, WITH, VALUES, TABLE, PIVOT, ...) or not
 * (function arguments, column lists): FROM only starts a table list at a
 * query level, so EXTRACT(year FROM d) and TRIM(x FROM s) are not tables, nor
 * is IS DISTINCT FROM.  A '(' where a table is expected that does not start a
 * query is a parenthesised join.
 *
 * Tables named by value: a table function other than a file function may
 * take a table's name as a value -- query_table('t'), query('SELECT ... FROM
 * t'), pragma_table_info('t'), or a table macro handed t (a bare name there
 * is a string to DuckDB) -- and read that table when it runs, where no parse
 * tree shows a reference.  Each such argument that could name a table -- a
 * string, a dotted name, query_table's list of strings, and for query() every
 * table its SQL string reads -- is recorded as a TABLE relation with `dynamic` set,
 * spanning the argument, right after its function.  Whether it names a
 * table is for the catalog to say (wasm/router.c drops the ones it does not
 * know); a CTE name in scope is not recorded, nor are the values of built-in
 * functions that take no table name (unnest, range, repeat_row, json_each...),
 * nor anything in the body of CREATE MACRO / FUNCTION (its parameters).
 *
 * Invariants: every md_sql_stmt's span and every relation's span lie inside
 * the text given to md_sql_classify(); statements are in text order; a
 * script holds no empty statement.
 */
#ifndef MD_SQL_CLASSIFY_H
#define MD_SQL_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sql_lexer.h"

/*   KIND(name,       wire name) */
#define MD_SQL_KINDS(KIND)          \
    KIND(QUERY,       "query")      \
    KIND(DDL,         "ddl")        \
    KIND(DML,         "dml")        \
    KIND(TRANSACTION, "transaction") \
    KIND(ATTACH,      "attach")     \
    KIND(DETACH,      "detach")     \
    KIND(USE,         "use")        \
    KIND(SERVER,      "server")     \
    KIND(OTHER,       "other")

typedef enum md_sql_kind {
#define MD__KIND_ENUM(name, wire) MD_SQL_##name,
    MD_SQL_KINDS(MD__KIND_ENUM)
#undef MD__KIND_ENUM
} md_sql_kind;

/*   REL(name,     wire name) */
#define MD_SQL_REL_TYPES(REL)       \
    REL(TABLE,     "table")         \
    REL(FUNCTION,  "function")      \
    REL(FILE,      "file")          \
    REL(SCHEMA,    "schema")        \
    REL(DATABASE,  "database")      \
    REL(OBJECT,    "object")

/* TABLE: a table or view; FUNCTION: a table function call; FILE: a quoted
 * file name or URL used as a table; SCHEMA, DATABASE: named by DDL or a
 * management statement; OBJECT: another catalog entry living in a schema
 * (sequence, macro, type, index). */
typedef enum md_sql_rel_type {
#define MD__REL_ENUM(name, wire) MD_SQL_REL_##name,
    MD_SQL_REL_TYPES(MD__REL_ENUM)
#undef MD__REL_ENUM
} md_sql_rel_type;

enum { MD_SQL_READ = 1, MD_SQL_WRITE = 2 };

/* What the statement does to the relation's catalog entry. */
typedef enum md_sql_effect { MD_SQL_EFFECT_NONE, MD_SQL_EFFECT_CREATE, MD_SQL_EFFECT_DROP } md_sql_effect;

/* Placement forced by a table function's md_run => '...' named argument. */
typedef enum md_sql_run { MD_SQL_RUN_AUTO, MD_SQL_RUN_LOCAL, MD_SQL_RUN_REMOTE } md_sql_run;

typedef struct md_sql_rel {
    md_sql_rel_type type;
    unsigned access;        /* MD_SQL_READ | MD_SQL_WRITE */
    md_sql_effect effect;
    bool temporary;         /* CREATE TEMP TABLE / VIEW ... */
    uint32_t start, end;    /* bytes of the name (or file string, or whole function call) */
    int nparts;             /* 1..3: [database.][schema.]name; for FUNCTION its name's parts */
    char *parts[3];         /* unquoted names as written (case kept); owned */
    char *path;             /* FILE: the file; FUNCTION: its first file argument or NULL */
    md_sql_run run;         /* FUNCTION: md_run => ...; AUTO otherwise */
    bool dynamic;           /* TABLE named only as a value: see "Tables named by value" */
} md_sql_rel;

typedef enum md_sql_txn { MD_SQL_TXN_NONE, MD_SQL_TXN_BEGIN, MD_SQL_TXN_COMMIT, MD_SQL_TXN_ROLLBACK } md_sql_txn;

typedef struct md_sql_cut {
    uint32_t start, end;
} md_sql_cut;

typedef struct md_sql_stmt {
    md_sql_kind kind;
    char verb[40];          /* leading words, upper case: "SELECT", "CREATE TABLE", "ATTACH" */
    uint32_t start, end;    /* bytes of the statement, its ';' excluded */
    md_sql_rel *rels;
    size_t nrels;
    /* USE: the name (1 or 2 parts); DETACH: the database (1 part). */
    int target_nparts;
    char *target[2];
    uint32_t target_start, target_end;
    /* ATTACH: the path ('md:db', 'file.db') and the alias (AS x, or NULL). */
    char *attach_path;
    char *attach_alias;
    md_sql_txn txn;
    /* md_run => ... arguments to remove before the statement runs (DuckDB
     * does not know them), in text order. */
    md_sql_cut *cuts;
    size_t ncuts;
    /* A problem found in this statement (md_run with a bad value, a name
     * with too many parts): code MD_OK when none. */
    md_sql_error error;
} md_sql_stmt;

typedef struct md_sql_script {
    md_sql_stmt *stmts;
    size_t nstmts;
} md_sql_script;

/*
 * Lex, split and classify sql[0..len).  On MD_OK *out_script is a new script
 * (free with md_sql_script_free); problems confined to one statement are in
 * that statement's `error`.  On failure (the text cannot be lexed: see
 * md_sql_lex) nothing is written to *out_script and *out_err says why.
 */
int md_sql_classify(const char *sql, size_t len, md_sql_script **out_script, md_sql_error *out_err);

/* Free a script and everything it owns; sets *script to NULL.  NULL is fine. */
void md_sql_script_free(md_sql_script **script);

/* Wire names: "query", "table", ... ("" for an unknown value). */
const char *md_sql_kind_name(md_sql_kind kind);
const char *md_sql_rel_type_name(md_sql_rel_type type);

/*
 * The statement's text with its md_run arguments cut out, md_malloc'd and
 * NUL-terminated (caller frees); *out_len gets its length.  Without cuts it
 * is exactly sql[start..end).
 */
char *md_sql_stmt_text(const char *sql, const md_sql_stmt *st, size_t *out_len);

#endif

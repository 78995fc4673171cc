/*
 * db_statements.h: the server's own SQL statements about databases, parsed
 * from the tokens of shared/sql_lexer.h.  DuckDB's parser does not know them
 * (or would run them itself); the duckling answers them (dbcommands.h).
 *
 *   CREATE DATABASE [IF NOT EXISTS] db [FROM other [(SNAPSHOT n | SNAPSHOT_TIME 'ts')]]
 *   DROP DATABASE [IF EXISTS] db          UNDROP DATABASE db
 *   ALTER DATABASE db SET SNAPSHOT_RETENTION_DAYS [=|TO] n
 *   CREATE SNAPSHOT [name] OF db
 *   ATTACH [DATABASE] [IF NOT EXISTS] 'md:[db]' [AS alias]
 *          [(SNAPSHOT n | SNAPSHOT_TIME 'ts' | READ_ONLY)]
 *   DETACH [DATABASE] [IF EXISTS] alias   (ours only if alias is an md: attachment)
 *   SHOW [ALL] DATABASES
 *   REFRESH DATABASE db | REFRESH DATABASES
 *   CREATE [OR REPLACE] SHARE [IF NOT EXISTS] [share] [FROM db]
 *          [(ACCESS ORGANIZATION|UNRESTRICTED|RESTRICTED,
 *            VISIBILITY DISCOVERABLE|HIDDEN, UPDATE MANUAL|AUTOMATIC)]
 *   UPDATE SHARE share      DROP SHARE [IF EXISTS] share      LIST SHARES
 *   GRANT READ ON SHARE share TO user [, user ...]
 *   REVOKE READ ON SHARE share FROM user [, user ...]
 *   SHOW GRANTS ON SHARE share
 *   ATTACH [IF NOT EXISTS] 'md:_share/<db>/<id>' [AS alias]   (ATTACH_SHARE)
 *   CREATE [OR REPLACE] [PERSISTENT] SECRET [IF NOT EXISTS] [name]
 *          [IN MOTHERDUCK|MD] (TYPE t, KEY value, ...)
 *          ours with PERSISTENT or IN MOTHERDUCK|MD (stored by the server,
 *          secrets.h); any other CREATE SECRET is DuckDB's
 *   DROP [PERSISTENT|TEMPORARY] SECRET [IF EXISTS] name [FROM MOTHERDUCK|MD|storage]
 *          ours unless TEMPORARY or FROM another storage (`explicit` tells
 *          whether it named the server's storage)
 *   SET [SESSION] statement_timeout ... | RESET statement_timeout
 *          a setting the server keeps for the session, not DuckDB
 *          (shared/session_option.h reads it)
 *
 * `FROM 'md:other'` and `OF 'md:db'` are accepted for the names.  Two
 * DuckDB statements are looked at before DuckDB runs them, because they
 * could replace or rename an md: attachment behind the server's back:
 *   ATTACH OR REPLACE 'file' [AS alias]   ATTACH_FILE, alias = the name it
 *                                         would replace (default: the file
 *                                         name without directory and extension)
 *   ALTER DATABASE db <anything else>     ALTER_OTHER
 * Any other statement (including ATTACH of a file) is MD_DBSTMT_NONE and
 * goes to DuckDB unchanged.  Keywords match in any case; names are identifiers or quoted
 * identifiers, kept as written (quotes removed).
 */
#ifndef MD_DB_STATEMENTS_H
#define MD_DB_STATEMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "shared/sql_lexer.h"

/*   STMT(kind,           verb for messages) */
#define MD_DBSTMT_KINDS(STMT)                         \
    STMT(NONE,            "")                         \
    STMT(CREATE_DATABASE, "CREATE DATABASE")          \
    STMT(DROP_DATABASE,   "DROP DATABASE")            \
    STMT(UNDROP_DATABASE, "UNDROP DATABASE")          \
    STMT(ALTER_DATABASE,  "ALTER DATABASE")           \
    STMT(CREATE_SNAPSHOT, "CREATE SNAPSHOT")          \
    STMT(ATTACH,          "ATTACH")                   \
    STMT(DETACH,          "DETACH")                   \
    STMT(SHOW_DATABASES,  "SHOW DATABASES")           \
    STMT(REFRESH,         "REFRESH DATABASE")         \
    STMT(SET_TIMEOUT,     "SET statement_timeout")    \
    STMT(ATTACH_FILE,     "ATTACH")                   \
    STMT(ALTER_OTHER,     "ALTER DATABASE")           \
    STMT(CREATE_SHARE,    "CREATE SHARE")             \
    STMT(UPDATE_SHARE,    "UPDATE SHARE")             \
    STMT(DROP_SHARE,      "DROP SHARE")               \
    STMT(GRANT_SHARE,     "GRANT")                    \
    STMT(REVOKE_SHARE,    "REVOKE")                   \
    STMT(LIST_SHARES,     "LIST SHARES")              \
    STMT(SHOW_GRANTS,     "SHOW GRANTS")              \
    STMT(ATTACH_SHARE,    "ATTACH")                   \
    STMT(CREATE_SECRET,   "CREATE SECRET")            \
    STMT(DROP_SECRET,     "DROP SECRET")

typedef enum md_dbstmt_kind {
#define MD__DBSTMT_ENUM(kind, verb) MD_DBSTMT_##kind,
    MD_DBSTMT_KINDS(MD__DBSTMT_ENUM)
#undef MD__DBSTMT_ENUM
} md_dbstmt_kind;

typedef struct md_dbstmt {
    md_dbstmt_kind kind;
    char *db;            /* the database named (ATTACH 'md:': NULL = all; REFRESH DATABASES: NULL) */
    char *alias;         /* ATTACH ... AS alias; NULL otherwise */
    char *from;          /* CREATE DATABASE ... FROM from */
    char *snapshot_name; /* CREATE SNAPSHOT name OF db; NULL when unnamed */
    int64_t snapshot;    /* (SNAPSHOT n) of ATTACH or FROM; 0 when absent */
    char *snapshot_time; /* (SNAPSHOT_TIME 'ts') of ATTACH or FROM; NULL when absent */
    int read_only;       /* ATTACH ... (READ_ONLY) */
    int if_not_exists;   /* CREATE DATABASE / ATTACH */
    int if_exists;       /* DROP / DETACH */
    int all;             /* SHOW ALL DATABASES */
    int retention_days;  /* ALTER DATABASE ... SET SNAPSHOT_RETENTION_DAYS */
    int64_t timeout_ms;  /* SET statement_timeout: milliseconds; 0 for RESET (the server's) */
    /* shares */
    char *share;         /* the share named (CREATE: NULL = the database's name) */
    char *url_id;        /* ATTACH_SHARE: the id of 'md:_share/<db>/<url_id>' (db in `db`) */
    int or_replace;      /* CREATE OR REPLACE SHARE */
    int access;          /* md_share_access (dbmeta.h), -1 when not given */
    int discoverable;    /* VISIBILITY: 1 DISCOVERABLE, 0 HIDDEN, -1 not given */
    int automatic;       /* UPDATE: 1 AUTOMATIC, 0 MANUAL, -1 not given */
    char **users;        /* GRANT / REVOKE: the users */
    size_t nusers;
    /* secrets */
    char *secret;        /* CREATE / DROP SECRET: the name (CREATE: NULL = __default_<type>) */
    char **keys;         /* CREATE SECRET: the parameters' names, upper case ... */
    char **values;       /* ... and their values as SQL text */
    size_t nparams;
    int explicit_storage; /* DROP SECRET: PERSISTENT or FROM MOTHERDUCK|MD was written */
} md_dbstmt;

/*
 * Parse the statement made of toks[0..n) (from md_sql_lex on `sql`, without
 * comments, no ';').  MD_OK with *out filled (kind NONE for a statement that
 * is not ours; free with md_dbstmt_free); MD_ESQL with *out_err (a message
 * and the byte position in `sql`) for one of ours that is malformed.
 */
int md_dbstmt_parse(const char *sql, const md_sql_token *toks, size_t n, md_dbstmt *out, md_sql_error *out_err);

/* Free the strings of *s and zero it. */
void md_dbstmt_free(md_dbstmt *s);

/* A script cut into statements, each parsed: what the duckling runs. */
typedef struct md_dbscript_stmt {
    uint32_t start, end; /* byte span in the script: first token to last, no ';' */
    md_dbstmt st;        /* kind NONE: DuckDB's */
} md_dbscript_stmt;

typedef struct md_dbscript {
    md_dbscript_stmt *stmts;
    size_t n;
    size_t ours; /* statements whose kind is not NONE */
} md_dbscript;

/*
 * Cut sql[0..len) into statements and parse each.  MD_OK with *out (free
 * with md_dbscript_free) -- or with *out NULL when the text does not lex (an
 * unterminated string...: DuckDB's parser then reports it); MD_ESQL with
 * *out_err when one of our statements is malformed (nothing should run).
 */
int md_dbscript_parse(const char *sql, size_t len, md_dbscript **out, md_sql_error *out_err);

void md_dbscript_free(md_dbscript **s);

/* "CREATE DATABASE" ...: static storage. */
const char *md_dbstmt_verb(md_dbstmt_kind kind);

#endif

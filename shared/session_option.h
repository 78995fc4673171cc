/*
 * session_option.h: the session options a user may change on the server,
 * and how a duckling reads a statement that changes one.
 *
 * A duckling's DuckDB configuration is not locked (DuckDB 1.4's lock refuses
 * every SET, `default_null_order` and `TimeZone` included).  Instead the
 * duckling runs no statement DuckDB types as SET or EXPLAIN as DuckDB
 * extracted it: it reads the statement's own text here and runs the text
 * this module writes, or refuses.  So a SET that arrives some other way (the
 * files IMPORT DATABASE expands into, EXPLAIN ANALYZE SET) never runs.
 *
 * What is allowed (the allowlist in session_option.c): options that change
 * what a query means or how it is planned for this session alone, never a
 * path, a resource limit, the storage, extensions, logging or the wire
 * format.  Each such SET runs with SESSION scope, whatever scope was written,
 * except for the one option DuckDB keeps only globally (disabled_optimizers),
 * which changes the user's own duckling until the session ends.  SET
 * VARIABLE, RESET VARIABLE and USE are always allowed.  DuckDB's own checks
 * stay beneath this: with external access off it refuses, at run time,
 * enable_external_access, allowed_directories, allowed_paths and
 * temp_directory whatever the lock says.
 *
 * Statements read (tokens of shared/sql_lexer.h, comments ignored):
 *   SET [SESSION|LOCAL|GLOBAL] name {= | TO} value
 *   SET TIME ZONE value
 *   RESET [SESSION|LOCAL|GLOBAL] name
 *   PRAGMA name = value
 *   SET VARIABLE name ..., RESET VARIABLE name, USE ...
 * Names are matched without regard to case; a quoted name is unquoted.
 *
 * Options that cost the server without bound are capped: SET
 * max_expression_depth takes a whole number up to MD_MAX_EXPRESSION_DEPTH
 * (DuckDB's default; a deep expression is bound and planned without
 * checking for a cancel).
 *
 * One setting is the server's own, not DuckDB's: SET [SESSION]
 * statement_timeout {= | TO} value and RESET statement_timeout.  The value
 * is milliseconds (a number) or a string with a unit ('250ms', '30s',
 * '5min', '2h'); the duckling stops a request that runs longer (and
 * cannot be raised past the server's --statement-timeout).
 */
#ifndef MD_SESSION_OPTION_H
#define MD_SESSION_OPTION_H

#include <stddef.h>
#include <stdint.h>

#include "sql_lexer.h"

#define MD_MAX_EXPRESSION_DEPTH 1000

/* What a statement DuckDB typed as SET does, once read. */
typedef struct md_session_set {
    char *sql;   /* the statement to run in its place (md_malloc'd); NULL for
                    a server setting */
    int option;  /* index of the option set or reset (md_session_option_name),
                    -1 for SET/RESET VARIABLE and USE */
    int global;  /* the option is DuckDB-global: it holds for the user's
                    other sessions until this one ends */
    int server_setting;  /* SET/RESET statement_timeout: kept by the server
                            itself, for this session, not by DuckDB */
    int64_t timeout_ms;  /* its value: milliseconds, 0 for RESET */
} md_session_set;

/*
 * Read sql[0..len), one statement DuckDB typed as SET.  MD_OK: *out is
 * filled (free out->sql with md_free).  Otherwise MD_EPERMISSION (an option
 * not on the list, GLOBAL scope on a session option) or MD_ESQL (text this
 * module cannot read), with a sentence in *err that names the option.
 */
int md_session_set_read(const char *sql, size_t len, md_session_set *out, md_sql_error *err);

/*
 * Check sql[0..len), one statement DuckDB typed as EXPLAIN: MD_OK when the
 * explained statement is not one that changes options (SET, RESET, PRAGMA,
 * USE, IMPORT); MD_EPERMISSION with a sentence otherwise.
 */
int md_session_explain_check(const char *sql, size_t len, md_sql_error *err);

/*
 * Check sql[0..len), one statement DuckDB typed as PRAGMA (a pragma call
 * that neither expands into a query, like PRAGMA table_info, nor assigns,
 * like PRAGMA name = value, which DuckDB types SET): MD_OK for a pragma on
 * the allowlist (enable_optimizer, disable_optimizer: how this session's
 * queries are planned, put back when it ends); MD_EPERMISSION with a
 * sentence naming it otherwise (profiling writes SQL into the server's log,
 * checkpoint and verification modes belong to the server).
 */
int md_session_pragma_check(const char *sql, size_t len, md_sql_error *err);

/*
 * Check a whole request sql[0..len) for a name of DuckDB's logging
 * functions (enable_logging, disable_logging, truncate_duckdb_logs) or of
 * those that show secrets (duckdb_secrets, which_secret), quoted or not,
 * anywhere a name may stand: MD_OK, or MD_EPERMISSION with a
 * sentence and the name's position.  Text the lexer cannot read is left to
 * DuckDB's parser.  A name built at run time (query() of a concatenated
 * string, a view made elsewhere) is not seen here; the duckling notices
 * what such a call did when that session ends (duckling.c,
 * connection_release) and exits for a fresh one.
 */
int md_session_calls_check(const char *sql, size_t len, md_sql_error *err);

/* The number of options on the list, and the canonical name of option i
 * (NULL when out of range). */
int md_session_option_count(void);
const char *md_session_option_name(int i);

/* 1 when option i is DuckDB-global (it cannot be set for one session). */
int md_session_option_is_global(int i);

/* The index of option `name` (any case), or -1 when it is not on the list. */
int md_session_option_find(const char *name, size_t len);

#endif

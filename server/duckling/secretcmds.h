/*
 * secretcmds.h: the duckling's side of stored secrets (secrets.h):
 * CREATE SECRET ... IN MOTHERDUCK, DROP SECRET ... FROM MOTHERDUCK, the
 * md_secrets() table function, and the user's secrets made DuckDB
 * temporary secrets at start.
 *
 * The duckling never holds the master key: it hands a new secret's fields
 * to the server, which seals them, and asks the server for its own user's
 * secrets in clear when it starts.  A secret whose type DuckDB knows here
 * (http; s3, gcs, r2 and azure need httpfs, which this build lacks) also
 * becomes a DuckDB TEMPORARY secret of the same name for every session of
 * the user; the others are stored, listed and dropped all the same.
 *
 * No value is ever written anywhere by this module: not to stderr, not
 * into an error (DuckDB's refusal of a secret's parameters is reported
 * without its text), not into an answer.
 *
 *   md_secrets()  name, type, scope, storage ('motherduck'), active (DuckDB
 *                 holds it as a temporary secret), created_at, secret_string
 *                 ("key_id=AKIA...;region=...;secret=redacted")
 */
#ifndef MD_SECRETCMDS_H
#define MD_SECRETCMDS_H

#include <duckdb.h>

#include "server/secrets.h"
#include "server/storage/db_statements.h"

typedef struct md_secretcmds md_secretcmds;

/* Load `owner`'s secrets into DuckDB (on conn) and register md_secrets().
 * store is borrowed.  MD_OK, or MD_EIO with *out_err. */
int md_secretcmds_open(md_secrets *store, const char *owner, duckdb_connection conn, md_secretcmds **out,
                       char **out_err);

/* CREATE_SECRET or DROP_SECRET `st` for a session on conn.  MD_OK with
 * *out_answer (SQL, caller frees) -- or with *out_answer NULL for a plain
 * DROP SECRET of a name the server does not store (DuckDB's to run); an
 * MD_E code with *out_err otherwise. */
int md_secretcmds_run(md_secretcmds *x, duckdb_connection conn, const md_dbstmt *st, char **out_answer,
                      char **out_err);

void md_secretcmds_free(md_secretcmds **x);

#endif

/*
 * ast_json.h: DuckDB's parse tree as JSON, for the dual-execution planner
 * (DESIGN 7): PARSE turns SQL into the tree (json_serialize_sql), DEPARSE
 * turns a (rewritten) tree back into SQL (json_deserialize_sql).  Both run
 * DuckDB's own parser and printer on a duckling connection, so the tree is
 * exactly the one DuckDB would execute.
 *
 * Wire shapes (payloads of the PARSE and DEPARSE messages):
 *   PARSE   request {"sql": "SELECT ..."}
 *           answer  json_serialize_sql's text as DuckDB wrote it:
 *                   {"error": false, "statements": [<tree>, ...]}
 *   DEPARSE request {"statements": [<tree>, ...]} (what PARSE answered,
 *                   possibly rewritten; "error" may be left in or out)
 *           answer  {"sql": "SELECT ...; SELECT ..."}
 * Only SELECT statements have a tree (DuckDB 1.4 serializes nothing else):
 * other statements get UNSUPPORTED, SQL errors SQL_ERROR with the position.
 *
 * Both texts pass through unchanged, never re-printed: trees hold integers
 * beyond 2^53 (query_location 18446744073709551615 means "none"; BIGINT
 * constants), which a double-based JSON library (cJSON, JavaScript's
 * JSON.parse) rounds, and DuckDB then refuses or, worse, changes a value.
 * Whoever rewrites a tree must keep those numbers as text.
 */
#ifndef MD_AST_JSON_H
#define MD_AST_JSON_H

#include <cjson/cJSON.h>

#include <duckdb.h>

/* An error of PARSE or DEPARSE: code (MD_E...), position in the SQL (-1:
 * none) and a malloc'd sentence. */
typedef struct md_ast_error {
    int code;
    long position;
    char *message;
} md_ast_error;

/* Parse `sql` on c.  MD_OK with *out_json (the answer text, md_malloc'd),
 * or an MD_E code with *out_err filled (caller frees its message). */
int md_ast_parse(duckdb_connection c, const char *sql, char **out_json, md_ast_error *out_err);

/* Print the statements of DEPARSE request text `request` (len bytes) back
 * to SQL on c.  MD_OK with *out_sql (md_malloc'd), or an MD_E code with
 * *out_err. */
int md_ast_deparse(duckdb_connection c, const char *request, size_t len, char **out_sql, md_ast_error *out_err);

#endif

/*
 * ast_json.c: PARSE and DEPARSE through DuckDB's json_serialize_sql and
 * json_deserialize_sql (ast_json.h).  The SQL text and the tree are bound
 * as parameters, never spliced into the query.
 */
#include "ast_json.h"

#include <stdlib.h>
#include <string.h>

#include "shared/json_guard.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

static int fail(md_ast_error *e, int code, long position, char *message) {
    e->code = code;
    e->position = position;
    e->message = message;
    return code;
}

/* DuckDB's error text without the JSON wrapping errors_as_json gives it
 * (md_malloc'd). */
static char *error_text(const char *err) {
    if (!err) return md_strdup("unknown DuckDB error");
    const char *brace = strchr(err, '{');
    cJSON *j = brace ? cJSON_Parse(brace) : NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "exception_type");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "exception_message");
    char *out = cJSON_IsString(type) && cJSON_IsString(msg)
                    ? md_asprintf("%s Error: %s", type->valuestring, msg->valuestring)
                    : md_strdup(err);
    cJSON_Delete(j);
    return out;
}

/* Run `fn(arg)` -- arg written as a SQL string literal -- and put the first
 * cell of its result (md_malloc'd) in *out, or NULL with DuckDB's error in
 * *out_err.  A literal rather than a bound parameter: with PRAGMA
 * enable_verification on the session, DuckDB 1.4 answers the prepared form
 * with NULL. */
static int scalar(duckdb_connection c, const char *fn, const char *arg, char **out, char **out_err) {
    md_buf q = MD_BUF_INIT;
    md_buf_append(&q, "SELECT ", 7);
    md_buf_append(&q, fn, strlen(fn));
    md_buf_put_u8(&q, '(');
    md_buf_put_quoted(&q, arg, '\'');
    md_buf_append(&q, "::VARCHAR)::VARCHAR", 19);
    md_buf_put_u8(&q, 0);
    duckdb_result r;
    int rc = MD_ESQL;
    *out = NULL;
    if (duckdb_query(c, (const char *)q.data, &r) == DuckDBError) {
        *out_err = error_text(duckdb_result_error(&r));
    } else {
        char *v = duckdb_value_varchar(&r, 0, 0);
        if (v) *out = md_strdup(v);
        duckdb_free(v);
        rc = *out ? MD_OK : MD_EINTERNAL;
        if (!*out) *out_err = md_strdup("DuckDB returned no text");
    }
    duckdb_destroy_result(&r);
    md_buf_free(&q);
    return rc;
}

int md_ast_parse(duckdb_connection c, const char *sql, char **out_json, md_ast_error *out_err) {
    char *text = NULL, *err = NULL;
    if (scalar(c, "json_serialize_sql", sql, &text, &err) != MD_OK)
        return fail(out_err, MD_ESQL, -1, err);
    cJSON *j = cJSON_Parse(text); /* only to read the error fields: the text goes out as it is */
    if (!j) {
        md_free(text);
        return fail(out_err, MD_EINTERNAL, -1, md_strdup("DuckDB's parse tree is not valid JSON"));
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "error"))) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "error_type");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "error_message");
        const cJSON *pos = cJSON_GetObjectItemCaseSensitive(j, "position");
        int unsupported = cJSON_IsString(type) && strcmp(type->valuestring, "not implemented") == 0;
        char *m = md_asprintf("%s%s", unsupported ? "" : "Parser Error: ",
                              cJSON_IsString(msg) ? msg->valuestring : "the statement cannot be parsed");
        long p = cJSON_IsString(pos) ? strtol(pos->valuestring, NULL, 10) : -1;
        cJSON_Delete(j);
        md_free(text);
        return fail(out_err, unsupported ? MD_EUNSUPPORTED : MD_ESQL, p, m);
    }
    cJSON_Delete(j);
    *out_json = text;
    return MD_OK;
}

int md_ast_deparse(duckdb_connection c, const char *request, size_t len, char **out_sql, md_ast_error *out_err) {
    /* the shape only: DuckDB reads the text itself */
    cJSON *j = md_json_parse(request, len, MD_JSON_TREE_DEPTH, NULL);
    const cJSON *stmts = cJSON_GetObjectItemCaseSensitive(j, "statements");
    int ok = cJSON_IsArray(stmts) && cJSON_GetArraySize(stmts) > 0;
    cJSON_Delete(j);
    if (!ok)
        return fail(out_err, MD_EINVAL, -1,
                    md_strdup("DEPARSE needs a JSON object with a non-empty array \"statements\""));
    char *text = md_strndup(request, len), *sql = NULL, *err = NULL;
    int rc = scalar(c, "json_deserialize_sql", text, &sql, &err);
    md_free(text);
    if (rc != MD_OK) {
        char *m = md_asprintf("DEPARSE: the tree is not one DuckDB can print: %s", err ? err : "unknown error");
        md_free(err);
        return fail(out_err, MD_EINVAL, -1, m);
    }
    *out_sql = sql;
    return MD_OK;
}

/*
 * exports.c: the C/WASM boundary of the browser engine.  Every function the
 * JavaScript side may call is here, and only ui/js/engine.js calls them.
 *
 * Conventions for every export:
 *   - strings come in as (pointer, byte length) of UTF-8 in buffers the
 *     caller allocated with md_wasm_alloc (never as ccall string arguments:
 *     those are copied onto the 5 MiB stack); they need no NUL terminator
 *     and stay owned by the caller;
 *   - the return value is MD_OK (0) or a negative MD_E... code from
 *     shared/md_error.h;
 *   - results go to out parameters (pointers to 4-byte slots the caller
 *     allocated), written only on success: *out_json is an md_malloc'd
 *     NUL-terminated JSON text the caller frees with md_wasm_free;
 *   - on failure *out_err (when the slot is given) receives an md_malloc'd
 *     JSON object {"code": "SQL_ERROR", "message": "...", "position": 12}
 *     ("position", a byte offset into the SQL, only when the error points
 *     into it), freed by the caller with md_wasm_free.
 *
 * Handles: an engine is an md_router pointer (router.h), created by
 * md_wasm_engine_create and freed by md_wasm_engine_destroy; engine.js
 * forgets its copy of the pointer when it destroys it.
 *
 * The same file builds natively (without emscripten.h) so that its contract
 * can be exercised by a C test if needed.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

#include "catalog.h"
#include "md_alloc.h"
#include "md_error.h"
#include "router.h"
#include "splitter.h"
#include "sql_lexer.h"

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#define MD_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define MD_EXPORT
#endif

/* Make cJSON allocate through md_malloc (abort on OOM, like the rest). */
static void init_once(void) {
    static int done;
    if (done) return;
    cJSON_Hooks hooks = {md_malloc, md_free};
    cJSON_InitHooks(&hooks);
    done = 1;
}

/* Write {"code", "message"[, "position"]} to *out_err and return code. */
static int fail(char **out_err, int code, const char *message, int64_t position) {
    if (out_err) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", md_errname(code));
        cJSON_AddStringToObject(o, "message", message ? message : md_strerror(code));
        if (position >= 0) cJSON_AddNumberToObject(o, "position", (double)position);
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        *out_err = s ? md_strdup(s) : NULL;
        cJSON_free(s);
    }
    return code;
}

static int fail_sql(char **out_err, const md_sql_error *e) {
    return fail(out_err, e->code, e->message, e->position);
}

/* Take ownership of an md_malloc'd message, report it, free it. */
static int fail_owned(char **out_err, int code, char *message) {
    fail(out_err, code, message, -1);
    md_free(message);
    return code;
}

static int need(char **out_err, int ok, const char *what) {
    return ok ? MD_OK : fail(out_err, MD_EINVAL, what, -1);
}

/*
 * Allocate n bytes for the caller (strings going in, 4-byte out slots).
 * Returns NULL when the size cannot be had (the caller controls it).  Free
 * with md_wasm_free.
 */
MD_EXPORT void *md_wasm_alloc(size_t n) { return md_trymalloc(n); }

/* Free what md_wasm_alloc or an export's out parameter gave.  NULL is fine. */
MD_EXPORT void md_wasm_free(void *p) { md_free(p); }

/*
 * A new engine for a page session.  options[0..len) is optional JSON
 * ({"local_database": "memory", "remote_database": "my_db"}, both optional;
 * len 0 for defaults).  On MD_OK *out_engine is the handle; MD_EINVAL when
 * the options are not that.
 */
MD_EXPORT int md_wasm_engine_create(const char *options, size_t len, md_router **out_engine, char **out_err) {
    init_once();
    if (!out_engine) return fail(out_err, MD_EINVAL, "md_wasm_engine_create needs an out slot", -1);
    const char *local = NULL, *remote = NULL;
    cJSON *root = NULL;
    if (len > 0) {
        root = cJSON_ParseWithLength(options, len);
        if (!cJSON_IsObject(root)) {
            cJSON_Delete(root);
            return fail(out_err, MD_EINVAL, "engine options must be a JSON object", -1);
        }
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "local_database");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "remote_database");
        if ((l && !cJSON_IsString(l)) || (r && !cJSON_IsString(r)) || (l && !*l->valuestring) ||
            (r && !*r->valuestring)) {
            cJSON_Delete(root);
            return fail(out_err, MD_EINVAL, "engine options: local_database and remote_database must be names", -1);
        }
        local = l ? l->valuestring : NULL;
        remote = r ? r->valuestring : NULL;
    }
    *out_engine = md_router_create(local, remote);
    cJSON_Delete(root);
    return MD_OK;
}

/* Free an engine and everything it holds.  NULL is fine. */
MD_EXPORT void md_wasm_engine_destroy(md_router *engine) { md_router_destroy(&engine); }

/*
 * Replace one site's part of the catalog cache (site 1: local, 2: remote)
 * with CATALOG JSON (wasm/catalog.h has the shape).  All or nothing.
 * MD_EINVAL / MD_EEXISTS with a message naming the bad element.
 */
MD_EXPORT int md_wasm_catalog_set(md_router *engine, int site, const char *json, size_t len, char **out_err) {
    int rc = need(out_err, engine && json, "md_wasm_catalog_set needs an engine and a JSON text");
    if (rc != MD_OK) return rc;
    char *err = NULL;
    rc = md_catalog_set_json(md_router_catalog(engine), (md_site)site, json, len, &err);
    return rc == MD_OK ? MD_OK : fail_owned(out_err, rc, err);
}

/* Both sites of the catalog cache as JSON (each database with "site"). */
MD_EXPORT int md_wasm_catalog_get(md_router *engine, char **out_json, char **out_err) {
    int rc = need(out_err, engine && out_json, "md_wasm_catalog_get needs an engine and an out slot");
    if (rc != MD_OK) return rc;
    rc = md_catalog_to_json(md_router_catalog(engine), out_json);
    return rc == MD_OK ? MD_OK : fail(out_err, rc, NULL, -1);
}

/*
 * Classify and route sql[0..len) (router.h: route JSON).  flags: 1 = dry run
 * (keep no state or catalog change).  A statement that cannot run is
 * described in the JSON (route "mixed" or "error"); the call itself fails
 * only when the text cannot be lexed (MD_ESQL with the position) or is too
 * large.
 */
MD_EXPORT int md_wasm_route(md_router *engine, const char *sql, size_t len, int flags, char **out_json,
                            char **out_err) {
    int rc = need(out_err, engine && (sql || !len) && out_json, "md_wasm_route needs an engine, a SQL text and an out slot");
    if (rc != MD_OK) return rc;
    md_route_plan *plan;
    md_sql_error e = {.code = MD_OK};
    rc = md_router_route(engine, sql ? sql : "", len, (unsigned)flags, &plan, &e);
    if (rc != MD_OK) return fail_sql(out_err, &e);
    rc = md_route_plan_to_json(plan, out_json);
    md_route_plan_free(&plan);
    return rc == MD_OK ? MD_OK : fail(out_err, rc, NULL, -1);
}

/* Classify sql[0..len) without a catalog: {"statements": [...]} (router.h). */
MD_EXPORT int md_wasm_classify(const char *sql, size_t len, char **out_json, char **out_err) {
    init_once();
    int rc = need(out_err, (sql || !len) && out_json, "md_wasm_classify needs a SQL text and an out slot");
    if (rc != MD_OK) return rc;
    md_sql_error e = {.code = MD_OK};
    rc = md_router_classify_json(sql ? sql : "", len, out_json, &e);
    if (rc == MD_OK) return MD_OK;
    return e.code != MD_OK ? fail_sql(out_err, &e) : fail(out_err, rc, NULL, -1);
}

/*
 * The tokens of sql[0..len): {"tokens": [{"type": "keyword", "start": 0,
 * "end": 6, "keyword": "SELECT", "reserved": true}, ...], "statements":
 * [{"start": 0, "end": 8}, ...]}.  flags: 1 = include comments.  Offsets
 * are bytes.  MD_ESQL with the position when the text cannot be lexed.
 */
MD_EXPORT int md_wasm_tokens(const char *sql, size_t len, int flags, char **out_json, char **out_err) {
    init_once();
    int rc = need(out_err, (sql || !len) && out_json, "md_wasm_tokens needs a SQL text and an out slot");
    if (rc != MD_OK) return rc;
    md_sql_token *toks;
    size_t n;
    md_sql_error e = {.code = MD_OK};
    rc = md_sql_lex(sql ? sql : "", len, (flags & 1) ? MD_SQL_LEX_COMMENTS : 0, &toks, &n, &e);
    if (rc != MD_OK) return fail_sql(out_err, &e);
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "tokens");
    for (size_t k = 0; k < n; k++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "type", md_sql_token_type_name((md_sql_tok_type)toks[k].type));
        cJSON_AddNumberToObject(t, "start", toks[k].off);
        cJSON_AddNumberToObject(t, "end", toks[k].off + toks[k].len);
        if (toks[k].type == MD_TOK_KEYWORD) {
            cJSON_AddStringToObject(t, "keyword", md_sql_keyword_name((md_sql_kw)toks[k].kw));
            cJSON_AddBoolToObject(t, "reserved",
                                  md_sql_keyword_category((md_sql_kw)toks[k].kw) == MD_KWCAT_RESERVED);
        }
        cJSON_AddItemToArray(arr, t);
    }
    /* Statement spans, from the tokens without comments. */
    md_sql_token *plain = md_malloc((n ? n : 1) * sizeof *plain);
    size_t np = 0;
    for (size_t k = 0; k < n; k++)
        if (toks[k].type != MD_TOK_COMMENT) plain[np++] = toks[k];
    md_sql_span *spans;
    size_t nspans;
    md_sql_split(plain, np, &spans, &nspans);
    cJSON *sts = cJSON_AddArrayToObject(root, "statements");
    for (size_t k = 0; k < nspans; k++) {
        const md_sql_token *a = &plain[spans[k].first], *b = &plain[spans[k].first + spans[k].count - 1];
        cJSON *s = cJSON_CreateObject();
        cJSON_AddNumberToObject(s, "start", a->off);
        cJSON_AddNumberToObject(s, "end", b->off + b->len);
        cJSON_AddItemToArray(sts, s);
    }
    md_free(spans);
    md_free(plain);
    md_free(toks);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s) return fail(out_err, MD_ENOMEM, NULL, -1);
    *out_json = md_strdup(s);
    cJSON_free(s);
    return MD_OK;
}

/* The engine's session state as JSON (router.h: "state"). */
MD_EXPORT int md_wasm_state_get(md_router *engine, char **out_json, char **out_err) {
    int rc = need(out_err, engine && out_json, "md_wasm_state_get needs an engine and an out slot");
    if (rc != MD_OK) return rc;
    rc = md_router_state_json(engine, out_json);
    return rc == MD_OK ? MD_OK : fail(out_err, rc, NULL, -1);
}

/* Set (part of) the session state from JSON of that shape; all or nothing. */
MD_EXPORT int md_wasm_state_set(md_router *engine, const char *json, size_t len, char **out_err) {
    int rc = need(out_err, engine && json, "md_wasm_state_set needs an engine and a JSON text");
    if (rc != MD_OK) return rc;
    char *err = NULL;
    rc = md_router_set_state_json(engine, json, len, &err);
    return rc == MD_OK ? MD_OK : fail_owned(out_err, rc, err);
}

/*
 * Dual execution (splitter.h).  md_wasm_split_prepare: for one statement
 * sql[0..len), {"query": text to PARSE, "prefix": text before it,
 * "explain": 0|1|2}.  MD_EUNSUPPORTED when it is not a query, CREATE
 * TABLE ... AS or INSERT ... SELECT.
 */
MD_EXPORT int md_wasm_split_prepare(const char *sql, size_t len, char **out_json, char **out_err) {
    init_once();
    int rc = need(out_err, sql && out_json, "md_wasm_split_prepare needs a SQL text and an out slot");
    if (rc != MD_OK) return rc;
    md_split_text tx;
    md_sql_error e = {.code = MD_OK};
    rc = md_split_prepare(sql, len, &tx, &e);
    if (rc != MD_OK) return fail_sql(out_err, &e);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "query", tx.query);
    cJSON_AddStringToObject(o, "prefix", tx.prefix);
    cJSON_AddNumberToObject(o, "explain", tx.explain);
    md_split_text_free(&tx);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return fail(out_err, MD_ENOMEM, NULL, -1);
    *out_json = md_strdup(s);
    cJSON_free(s);
    return MD_OK;
}

/*
 * The plan of statement sql[0..len) given PARSE's answer ast[0..ast_len)
 * (md_split_plan; flags: MD_SPLIT_*; query_id numbers its bridge tables).
 */
MD_EXPORT int md_wasm_split_plan(md_router *engine, const char *sql, size_t len, const char *ast, size_t ast_len,
                                 int flags, int query_id, char **out_json, char **out_err) {
    int rc = need(out_err, engine && sql && ast && out_json, "md_wasm_split_plan needs an engine, SQL, a tree and an out slot");
    if (rc != MD_OK) return rc;
    md_sql_error e = {.code = MD_OK};
    rc = md_split_plan(engine, sql, len, ast, ast_len, (unsigned)flags, (unsigned)query_id, out_json, &e);
    return rc == MD_OK ? MD_OK : fail_sql(out_err, &e);
}

/* The plan completed with DEPARSE's SQL (md_split_finish). */
MD_EXPORT int md_wasm_split_finish(const char *plan, size_t plan_len, const char *sql, size_t len, char **out_json,
                                   char **out_err) {
    init_once();
    int rc = need(out_err, plan && sql && out_json, "md_wasm_split_finish needs a plan, SQL and an out slot");
    if (rc != MD_OK) return rc;
    md_sql_error e = {.code = MD_OK};
    rc = md_split_finish(plan, plan_len, sql, len, out_json, &e);
    return rc == MD_OK ? MD_OK : fail_sql(out_err, &e);
}

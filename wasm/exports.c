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
 * Handles: a driver (driver.h), created by md_wasm_driver_create and freed
 * by md_wasm_driver_destroy; its router (md_wasm_driver_engine) is the
 * "engine" handle of the routing, catalog and state exports.  engine.js
 * forgets its copies of the pointers when it destroys the driver.
 *
 * The same file builds natively (without emscripten.h) so that its contract
 * can be exercised by a C test if needed.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

#include "catalog.h"
#include "driver.h"
#include "router.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "shared/sql_lexer.h"

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
 * The dual-execution driver (driver.h).  A page session's JS host creates
 * one, begins each script, then calls md_wasm_driver_next with how the last
 * action ended until it answers "done" or "fail".
 *
 * Options (JSON, optional): {"local_database": "memory", "remote_database":
 * "my_db", "local_cache": true (bridges into the browser are md_cache
 * tables)}.
 *
 * Action JSON: {"kind": "run"|"parse"|"deparse"|"catalog"|"wait"|"done"|
 * "fail", "id", "statement" (index of the statement it serves), "site":
 * "local"|"remote", "sql", "sink": "show"|"none"|
 * "bridge"|"text", "statement", "table", "max_bytes", "detach", "quiet",
 * "wait_id", "code" (a wire name), "message", "position" (bytes into the
 * script)} with only the fields that kind uses.
 *
 * Event JSON: {"kind": "ok"|"started"|"error", "id", "rows", "bytes", "ms", "local_reset",
 * "code" (a wire name), "type" (DuckDB's error type, optional), "message",
 * "position" (bytes into the action's sql, optional)}; an answer's text
 * (PARSE, DEPARSE, CATALOG, sink "text") comes separately as text[0..tlen).
 */
MD_EXPORT int md_wasm_driver_create(const char *options, size_t len, md_driver **out_driver, char **out_err) {
    init_once();
    int rc = need(out_err, out_driver && (options || !len), "md_wasm_driver_create needs an out slot");
    if (rc != MD_OK) return rc;
    cJSON *o = len ? cJSON_ParseWithLength(options, len) : NULL;
    if (len && !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return fail(out_err, MD_EINVAL, "driver options must be a JSON object", -1);
    }
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "local_database");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "remote_database");
    if ((l && !(cJSON_IsString(l) && *l->valuestring)) || (r && !(cJSON_IsString(r) && *r->valuestring))) {
        cJSON_Delete(o);
        return fail(out_err, MD_EINVAL, "driver options: local_database and remote_database must be names", -1);
    }
    md_driver_config cfg = {cJSON_IsString(l) ? l->valuestring : NULL, cJSON_IsString(r) ? r->valuestring : NULL,
                            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "local_cache")) ? MD_DRIVER_LOCAL_CACHE : 0};
    *out_driver = md_driver_create(&cfg);
    cJSON_Delete(o);
    return MD_OK;
}

MD_EXPORT void md_wasm_driver_destroy(md_driver *driver) { md_driver_destroy(&driver); }

/* The driver's router: an engine handle for the other exports (route, tokens,
 * catalog, state), owned by the driver. */
MD_EXPORT md_router *md_wasm_driver_engine(md_driver *driver) { return md_driver_router(driver); }

/* Most Arrow bytes one bridge may move (0: no limit). */
MD_EXPORT void md_wasm_driver_set_cap(md_driver *driver, double bytes) {
    md_driver_set_cap(driver, bytes <= 0 ? 0 : (uint64_t)bytes);
}

MD_EXPORT void md_wasm_driver_set_split_flags(md_driver *driver, int flags) {
    md_driver_set_split_flags(driver, (unsigned)flags);
}

MD_EXPORT int md_wasm_driver_begin(md_driver *driver, const char *sql, size_t len, char **out_err) {
    init_once();
    int rc = need(out_err, driver && (sql || !len), "md_wasm_driver_begin needs a driver and a SQL text");
    if (rc != MD_OK) return rc;
    rc = md_driver_begin(driver, sql ? sql : "", len);
    return rc == MD_OK ? MD_OK : fail(out_err, rc, "a script is still running: finish it first", -1);
}

static const char *const kind_names[] = {"", "run", "parse", "deparse", "catalog", "wait", "done", "fail"};
static const char *const sink_names[] = {"", "show", "none", "bridge", "text"};

static char *action_json(const md_drv_action *a) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", kind_names[a->kind]);
    cJSON_AddNumberToObject(o, "id", a->id);
    if (a->kind != MD_DRV_DONE && a->kind != MD_DRV_FAIL) cJSON_AddNumberToObject(o, "statement", a->statement);
    switch (a->kind) {
    case MD_DRV_RUN:
        cJSON_AddStringToObject(o, "sink", sink_names[a->sink]);
        if (a->table) cJSON_AddStringToObject(o, "table", a->table);
        if (a->sink == MD_SINK_BRIDGE) cJSON_AddNumberToObject(o, "max_bytes", (double)a->max_bytes);
        cJSON_AddBoolToObject(o, "detach", a->detach);
        cJSON_AddBoolToObject(o, "quiet", a->quiet);
        /* fall through: site and sql */
    case MD_DRV_CATALOG:
        cJSON_AddStringToObject(o, "site", md_site_name(a->site));
        /* fall through */
    case MD_DRV_PARSE:
    case MD_DRV_DEPARSE:
        if (a->sql) cJSON_AddStringToObject(o, "sql", a->sql);
        break;
    case MD_DRV_WAIT: cJSON_AddNumberToObject(o, "wait_id", a->wait_id); break;
    case MD_DRV_FAIL:
        cJSON_AddStringToObject(o, "code", md_errname(a->code));
        cJSON_AddStringToObject(o, "message", a->message ? a->message : md_strerror(a->code));
        if (a->position >= 0) cJSON_AddNumberToObject(o, "position", (double)a->position);
        break;
    default: break;
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *out = md_strdup(s);
    cJSON_free(s);
    return out;
}

static double num(const cJSON *o, const char *key, double dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/*
 * The next action (JSON above) given event[0..elen) (elen 0: the first call
 * after begin) and its answer's text[0..tlen).  An event that is not JSON of
 * that shape is MD_EINVAL and changes nothing.
 */
MD_EXPORT int md_wasm_driver_next(md_driver *driver, const char *event, size_t elen, const char *text, size_t tlen,
                                  char **out_json, char **out_err) {
    init_once();
    int rc = need(out_err, driver && out_json && (event || !elen) && (text || !tlen),
                  "md_wasm_driver_next needs a driver and an out slot");
    if (rc != MD_OK) return rc;
    const md_drv_action *a;
    if (!elen) {
        a = md_driver_next(driver, NULL);
    } else {
        cJSON *o = cJSON_ParseWithLength(event, elen);
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
        md_drv_event ev = {0};
        ev.kind = !cJSON_IsString(kind)                      ? 0
                  : strcmp(kind->valuestring, "ok") == 0      ? MD_EV_OK
                  : strcmp(kind->valuestring, "started") == 0 ? MD_EV_STARTED
                  : strcmp(kind->valuestring, "error") == 0   ? MD_EV_ERROR
                                                              : 0;
        if (!ev.kind) {
            cJSON_Delete(o);
            return fail(out_err, MD_EINVAL, "an event needs \"kind\": \"ok\", \"started\" or \"error\"", -1);
        }
        ev.id = (uint32_t)num(o, "id", 0);
        ev.rows = (int64_t)num(o, "rows", 0);
        ev.bytes = (uint64_t)num(o, "bytes", 0);
        ev.ms = num(o, "ms", 0);
        ev.position = (int64_t)num(o, "position", -1);
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(o, "message");
        ev.code = cJSON_IsString(code) ? md_errcode(code->valuestring) : MD_EINTERNAL;
        ev.error_type = cJSON_IsString(type) ? type->valuestring : NULL;
        ev.message = cJSON_IsString(message) ? message->valuestring : NULL;
        ev.local_reset = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "local_reset"));
        ev.text = tlen ? text : NULL;
        ev.text_len = tlen;
        a = md_driver_next(driver, &ev);
        cJSON_Delete(o);
    }
    *out_json = action_json(a);
    return MD_OK;
}

/* What the statements of the last script did (md_driver_summary_json). */
MD_EXPORT int md_wasm_driver_summary(md_driver *driver, char **out_json, char **out_err) {
    init_once();
    int rc = need(out_err, driver && out_json, "md_wasm_driver_summary needs a driver and an out slot");
    if (rc != MD_OK) return rc;
    *out_json = md_driver_summary_json(driver);
    return MD_OK;
}

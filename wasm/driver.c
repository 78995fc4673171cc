/*
 * driver.c: the dual-execution driver as a state machine (driver.h says what
 * it decides and what a host does).
 *
 * States and the edges between them (the function that takes each edge):
 *
 *   IDLE --begin--> START --(catalogs)--> statement i (start_statement)
 *   statement i: route it (really: the state changes stay)
 *     LOCAL/REMOTE/SERVER --> RUN --ok--> [MIRROR] --> AFTER (statement_done)
 *     HYBRID --> H_CATALOG (dirty sites) --> H_PARSE --> H_DEPARSE (plan_next)
 *       EXPLAIN: --> ANSWER --ok--> AFTER
 *       else --> H_BRIDGE x n --> H_VIEW x m --> H_FINAL [--> H_WAIT x k]
 *            --ok--> [ANSWER (analyze)] --> H_DROP --> AFTER
 *       a Binder/Catalog error of a bridge or of the final query on the first
 *       plan --> H_DROP --> H_PARSE again with MD_SPLIT_FALLBACK
 *     MIXED/ERROR --> failure
 *   AFTER: catalogs to read again (REFRESH) --> statement i+1, or DONE
 *   failure: [H_DROP] --> the state saved before the statement is put back
 *     --> both catalogs read again (FAIL_REFRESH) --> FAIL
 *
 * Every action gets a new id; the event that answers it must carry that id
 * (a WAIT: the id it waits for).  The whole script is routed as a dry run
 * first, so a statement that cannot run stops it before anything runs.
 */
#include "driver.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "catalog_rows.h"
#include "router.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "splitter.h"

#define DEFAULT_CAP (1ull << 30)

enum state {
    S_IDLE,
    S_START,        /* reading the catalogs not read yet */
    S_RUN,          /* a LOCAL, REMOTE or SERVER statement */
    S_MIRROR,       /* its session option at the other site */
    S_REFRESH,      /* catalogs to read after a statement */
    S_H_CATALOG,    /* catalogs of written sites, before planning */
    S_H_PARSE,
    S_H_DEPARSE,
    S_H_BRIDGE,
    S_H_VIEW,
    S_H_FINAL,
    S_H_WAIT,       /* the pipelined uploads, then the final query */
    S_ANSWER,       /* EXPLAIN's answer, shown */
    S_H_DROP,
    S_FAIL_REFRESH, /* after a failure */
};

/* Where H_DROP goes next. */
enum after_drop { AFTER_DONE, AFTER_RETRY, AFTER_FAIL };

typedef struct span {
    size_t start, end;
} span;

struct md_driver {
    md_router *router;
    unsigned host_flags;  /* MD_DRIVER_... */
    unsigned split_flags; /* MD_SPLIT_... forced by the host */
    uint64_t cap;
    unsigned next_query;  /* numbers bridge tables */
    uint32_t next_id;
    int loaded[3], dirty[3]; /* per md_site */

    enum state state;
    md_drv_action act;
    char *act_text;       /* the action's sql, owned */
    char *act_msg;        /* FAIL's message, owned */
    uint32_t expect;      /* the id the next event must carry */

    char *script;
    size_t len;
    span *stmts;
    size_t nstmts, i;
    cJSON *summary;       /* {"statements": [...]} */
    cJSON *cur;           /* the running statement's entry */

    /* the statement */
    char *saved;          /* router state before it */
    md_route_plan *plan;
    const md_route_stmt *rs;
    const md_sql_stmt *st;
    md_site site;         /* where it ran (REMOTE for SERVER and HYBRID) */
    md_site refresh[2];   /* catalogs to read, in order */
    int nrefresh;

    /* a hybrid statement */
    unsigned flags;       /* this attempt's MD_SPLIT_... */
    char *plan_json;      /* between PARSE and DEPARSE */
    cJSON *hplan;         /* the finished plan */
    md_site root;
    int analyze, pipelined, retry_done;
    int nbridges, k;      /* bridges, the one running */
    int nviews, view_k;
    uint32_t *pending;    /* ids of uploads sent, not awaited */
    int npending, wait_k;
    uint32_t final_id;
    enum after_drop after;
    int drop_step;

    /* a failure on its way out */
    int fail_code;
    char *fail_msg;
    int local_reset;       /* the local site lost its session: USE again before FAIL */
    int64_t fail_pos;
};

/* ---- small helpers ----------------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void human(uint64_t b, char *out, size_t n) {
    if (b < 1024 * 1024) snprintf(out, n, "%.1f KiB", b / 1024.0);
    else if (b < 1024ull * 1024 * 1024) snprintf(out, n, "%.1f MiB", b / (1024.0 * 1024));
    else snprintf(out, n, "%.2f GiB", b / (1024.0 * 1024 * 1024));
}

/* DuckDB's error type: the host's, or the "X Error:" its message starts with. */
static void error_type(const md_drv_event *ev, char *out, size_t n) {
    out[0] = 0;
    if (ev->error_type && *ev->error_type) {
        snprintf(out, n, "%s", ev->error_type);
        return;
    }
    const char *m = ev->message ? ev->message : "", *e = strstr(m, " Error: ");
    if (e && (size_t)(e - m) < n && !memchr(m, '\n', (size_t)(e - m))) {
        memcpy(out, m, (size_t)(e - m));
        out[e - m] = 0;
    }
}

/* An error the fallback plan may not have: the part moved, or the final
 * query, did not bind (a correlated reference the splitter missed, a column
 * the catalog cache did not know yet). */
static int plan_may_be_wrong(const md_driver *d, const md_drv_event *ev) {
    if (ev->code != MD_ESQL || (d->flags & MD_SPLIT_FALLBACK)) return 0;
    char type[32];
    error_type(ev, type, sizeof type);
    return strcasecmp(type, "Binder") == 0 || strcasecmp(type, "Catalog") == 0;
}

/* ---- actions ------------------------------------------------------------------------- */

/* The text of buffer b (NUL-terminated by the caller), taken over. */
static char *take_text(md_buf *b) {
    size_t n;
    return (char *)md_buf_detach(b, &n);
}

static const md_drv_action *emit(md_driver *d, md_drv_kind kind) {
    memset(&d->act, 0, sizeof d->act);
    d->act.kind = kind;
    d->act.id = ++d->next_id;
    d->act.position = -1;
    d->act.statement = (int)d->i;
    d->expect = d->act.id;
    return &d->act;
}

/* An action of `kind` at `site` with its text (taken over). */
static const md_drv_action *with_text(md_driver *d, md_drv_kind kind, md_site site, char *text) {
    md_free(d->act_text);
    d->act_text = text;
    emit(d, kind);
    d->act.site = site;
    d->act.sql = text;
    return &d->act;
}

/* RUN `sql` (taken over) at `site` into `sink`. */
static const md_drv_action *run(md_driver *d, md_site site, char *sql, md_drv_sink sink) {
    with_text(d, MD_DRV_RUN, site, sql);
    d->act.sink = sink;
    return &d->act;
}

/* Read `site`'s catalog: the server's answers CATALOG; the local one is
 * read with catalog_rows.h's query, whose rows the host answers. */
static const md_drv_action *catalog(md_driver *d, md_site site) {
    if (site == MD_SITE_LOCAL) return with_text(d, MD_DRV_CATALOG, site, md_strdup(md_catalog_sql(MD_CATALOG_WITH_MEMORY)));
    emit(d, MD_DRV_CATALOG);
    d->act.site = site;
    return &d->act;
}

/* Put the answer of a CATALOG action for `site` into the catalog cache. */
static int set_catalog(md_driver *d, md_site site, const md_drv_event *ev, char **err) {
    const char *text = ev->text ? ev->text : "";
    size_t len = ev->text ? ev->text_len : 0;
    if (site != MD_SITE_LOCAL) return md_catalog_set_json(md_router_catalog(d->router), site, text, len, err);
    char *json = NULL;
    int rc = md_catalog_fold_json(text, len, &json, err);
    if (rc == MD_OK) rc = md_catalog_set_json(md_router_catalog(d->router), site, json, strlen(json), err);
    md_free(json);
    return rc;
}

/* PARSE or DEPARSE `text` (taken over) at the server. */
static const md_drv_action *request(md_driver *d, md_drv_kind kind, char *text) {
    return with_text(d, kind, MD_SITE_REMOTE, text);
}

static const md_drv_action *wait_for(md_driver *d, uint32_t id) {
    emit(d, MD_DRV_WAIT);
    d->act.wait_id = id;
    d->expect = id;
    return &d->act;
}

/* ---- the statement's summary ------------------------------------------------------------ */

static cJSON *hybrid_summary(md_driver *d) {
    cJSON *h = cJSON_GetObjectItemCaseSensitive(d->cur, "hybrid");
    if (!h) {
        h = cJSON_AddObjectToObject(d->cur, "hybrid");
        cJSON_AddArrayToObject(h, "bridges");
        cJSON_AddNumberToObject(h, "bytes_up", 0);
        cJSON_AddNumberToObject(h, "bytes_down", 0);
    }
    return h;
}

static void add_number(cJSON *o, const char *key, double v) {
    cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    if (n) cJSON_SetNumberValue(n, n->valuedouble + v);
    else cJSON_AddNumberToObject(o, key, v);
}

static void set_number(cJSON *o, const char *key, double v) {
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    cJSON_AddNumberToObject(o, key, v);
}

/* ---- ending: DONE, FAIL, and the way to FAIL ------------------------------------------- */

static void end_statement(md_driver *d) {
    md_route_plan_free(&d->plan);
    md_free(d->saved);
    d->saved = NULL;
    md_free(d->plan_json);
    d->plan_json = NULL;
    cJSON_Delete(d->hplan);
    d->hplan = NULL;
    md_free(d->pending);
    d->pending = NULL;
    d->npending = 0;
}

static void end_script(md_driver *d) {
    end_statement(d);
    md_free(d->script);
    d->script = NULL;
    md_free(d->stmts);
    d->stmts = NULL;
    d->state = S_IDLE;
}

static const md_drv_action *fail_now(md_driver *d, int code, const char *message, int64_t position) {
    md_free(d->act_msg);
    d->act_msg = md_strdup(message ? message : md_strerror(code));
    end_script(d);
    emit(d, MD_DRV_FAIL);
    d->act.code = code;
    d->act.message = d->act_msg;
    d->act.position = position;
    return &d->act;
}

static const md_drv_action *refresh_after_failure(md_driver *d);

/* The statement failed: its state is put back, both catalogs are read
 * again unless the connection is gone, then FAIL. */
static const md_drv_action *failed(md_driver *d, int code, const char *message, int64_t position) {
    md_free(d->fail_msg);
    d->fail_msg = md_strdup(message ? message : md_strerror(code));
    d->fail_code = code;
    d->fail_pos = position;
    if (d->saved) {
        char *ignored = NULL;
        md_router_set_state_json(d->router, d->saved, strlen(d->saved), &ignored);
        md_free(ignored);
    }
    d->nrefresh = 0;
    if (code != MD_EDISCONNECTED && code != MD_EDUCKLING) { /* the router's catalog changes are undone by reading it */
        d->refresh[d->nrefresh++] = MD_SITE_LOCAL;
        d->refresh[d->nrefresh++] = MD_SITE_REMOTE;
    }
    d->state = S_FAIL_REFRESH;
    return refresh_after_failure(d);
}

/* USE the local site's current database and schema again (router state). */
static const md_drv_action *use_local_again(md_driver *d) {
    char *state = NULL;
    md_router_state_json(d->router, &state);
    cJSON *j = cJSON_Parse(state ? state : "");
    md_free(state);
    const cJSON *local = cJSON_GetObjectItemCaseSensitive(j, "local");
    md_buf q = MD_BUF_INIT;
    md_buf_append(&q, "USE ", 4);
    md_buf_put_quoted(&q, jstr(local, "database") ? jstr(local, "database") : "memory", '"');
    md_buf_append(&q, ".", 1);
    md_buf_put_quoted(&q, jstr(local, "schema") ? jstr(local, "schema") : "main", '"');
    md_buf_append(&q, "", 1);
    cJSON_Delete(j);
    size_t len;
    return run(d, MD_SITE_LOCAL, (char *)md_buf_detach(&q, &len), MD_SINK_NONE);
}

static const md_drv_action *refresh_after_failure(md_driver *d) {
    if (d->local_reset) { /* first: the catalog read next runs on that connection */
        d->local_reset = 0;
        return use_local_again(d);
    }
    if (d->nrefresh > 0) {
        md_site s = d->refresh[0];
        d->refresh[0] = d->refresh[1];
        d->nrefresh--;
        return catalog(d, s);
    }
    char *msg = d->fail_msg;
    d->fail_msg = NULL;
    const md_drv_action *a = fail_now(d, d->fail_code, msg, d->fail_pos);
    md_free(msg);
    return a;
}

/* A failed action of a statement: the error as the user sees it.  `text`:
 * the SQL the action ran (positions map back into the script only when it
 * is the statement as written). */
static const md_drv_action *failed_by(md_driver *d, const md_drv_event *ev, int positioned) {
    int64_t pos = -1;
    if (positioned && ev->position >= 0) {
        const span *sp = &d->stmts[d->i];
        size_t n = sp->end - sp->start;
        int same = d->rs && strlen(d->rs->text) == n && memcmp(d->rs->text, d->script + sp->start, n) == 0;
        pos = (int64_t)sp->start + (same ? ev->position : 0);
    }
    return failed(d, ev->code ? ev->code : MD_EINTERNAL, ev->message, pos);
}

/* ---- statements --------------------------------------------------------------------------- */

static const md_drv_action *start_statement(md_driver *d);
static const md_drv_action *hybrid_begin(md_driver *d);
static const md_drv_action *plan_next(md_driver *d);

static int changes_catalog(const md_sql_stmt *st) {
    return st->kind == MD_SQL_DDL || st->kind == MD_SQL_ATTACH || st->kind == MD_SQL_DETACH ||
           st->kind == MD_SQL_USE || st->kind == MD_SQL_SERVER;
}

static const md_drv_action *next_refresh(md_driver *d) {
    if (d->nrefresh > 0) {
        md_site s = d->refresh[0];
        d->refresh[0] = d->refresh[1];
        d->nrefresh--;
        d->state = S_REFRESH;
        return catalog(d, s);
    }
    end_statement(d);
    d->i++;
    return start_statement(d);
}

/* The statement ran: which catalogs to read again, then the next one. */
static const md_drv_action *statement_done(md_driver *d) {
    d->nrefresh = 0;
    if (changes_catalog(d->st)) {
        d->refresh[d->nrefresh++] = d->site;
        if (d->rs->route == MD_ROUTE_HYBRID) d->refresh[d->nrefresh++] = md_site_other(d->site);
    } else if (d->st->kind == MD_SQL_DML) {
        d->dirty[d->site] = 1;
    }
    return next_refresh(d);
}

static const md_drv_action *start_statement(md_driver *d) {
    if (d->i >= d->nstmts) {
        end_script(d);
        return emit(d, MD_DRV_DONE);
    }
    const span *sp = &d->stmts[d->i];
    d->cur = cJSON_CreateObject();
    cJSON_AddNumberToObject(d->cur, "statement", (double)d->i);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(d->summary, "statements"), d->cur);
    md_router_state_json(d->router, &d->saved);
    md_sql_error se;
    if (md_router_route(d->router, d->script + sp->start, sp->end - sp->start, 0, &d->plan, &se) != MD_OK)
        return failed(d, se.code, se.message, (int64_t)sp->start + se.position);
    d->st = &d->plan->script->stmts[0];
    d->rs = &d->plan->stmts[0];
    cJSON_AddStringToObject(d->cur, "where", md_route_name(d->rs->route));
    d->site = d->rs->route == MD_ROUTE_LOCAL ? MD_SITE_LOCAL : MD_SITE_REMOTE;
    switch (d->rs->route) {
    case MD_ROUTE_LOCAL:
    case MD_ROUTE_REMOTE:
    case MD_ROUTE_SERVER:
        d->state = S_RUN;
        return run(d, d->site, md_strdup(d->rs->text), MD_SINK_SHOW);
    case MD_ROUTE_HYBRID: return hybrid_begin(d);
    default: {
        const md_sql_error *e = &d->rs->error;
        return failed(d, e->code ? e->code : MD_EUNSUPPORTED, e->message, (int64_t)sp->start + e->position);
    }
    }
}

static const md_drv_action *on_run(md_driver *d, const md_drv_event *ev) {
    if (ev->kind == MD_EV_ERROR) return failed_by(d, ev, 1);
    set_number(d->cur, "rows", (double)ev->rows);
    set_number(d->cur, "ms", ev->ms);
    if (d->rs->mirror && d->rs->route != MD_ROUTE_SERVER) {
        /* a session option: the other site too, so that split queries see it at both */
        d->state = S_MIRROR;
        return run(d, md_site_other(d->site), md_strdup(d->rs->text), MD_SINK_NONE);
    }
    return statement_done(d);
}

static const md_drv_action *on_mirror(md_driver *d, const md_drv_event *ev) {
    if (ev->kind == MD_EV_ERROR) {
        int local = d->site == MD_SITE_LOCAL;
        char *notice = md_asprintf("%s ran %s; %s refused it: %s", d->st->verb, local ? "locally" : "on the server",
                                   local ? "the server" : "the local DuckDB", ev->message ? ev->message : "no reason given");
        cJSON_AddStringToObject(d->cur, "notice", notice);
        md_free(notice);
    }
    return statement_done(d);
}

static const md_drv_action *on_refresh(md_driver *d, const md_drv_event *ev, md_site site) {
    if (ev->kind == MD_EV_ERROR) return failed(d, ev->code, ev->message, -1);
    char *err = NULL;
    int rc = set_catalog(d, site, ev, &err);
    if (rc != MD_OK) {
        const md_drv_action *a = failed(d, rc, err, -1);
        md_free(err);
        return a;
    }
    d->loaded[site] = 1;
    d->dirty[site] = 0;
    return NULL;
}

/* ---- hybrid statements ------------------------------------------------------------------------ */

static const md_drv_action *hybrid_catalogs(md_driver *d) {
    for (int s = MD_SITE_LOCAL; s <= MD_SITE_REMOTE; s++) {
        if (d->dirty[s]) {
            d->state = S_H_CATALOG;
            return catalog(d, (md_site)s);
        }
    }
    return plan_next(d);
}

static const md_drv_action *hybrid_begin(md_driver *d) {
    d->flags = d->split_flags | ((d->host_flags & MD_DRIVER_LOCAL_CACHE) ? MD_SPLIT_LOCAL_CACHE : 0);
    return hybrid_catalogs(d);
}

static char *statement_text(const md_driver *d) {
    const span *sp = &d->stmts[d->i];
    return md_strndup(d->script + sp->start, sp->end - sp->start);
}

/* PARSE the statement's query (a new plan: the first, or the fallback). */
static const md_drv_action *plan_next(md_driver *d) {
    char *sql = statement_text(d);
    md_split_text tx;
    md_sql_error se;
    int rc = md_split_prepare(sql, strlen(sql), &tx, &se);
    md_free(sql);
    if (rc != MD_OK) return failed(d, rc, se.message, -1);
    char *query = md_strdup(tx.query);
    md_split_text_free(&tx);
    d->state = S_H_PARSE;
    return request(d, MD_DRV_PARSE, query);
}

static const md_drv_action *on_parse(md_driver *d, const md_drv_event *ev) {
    if (ev->kind == MD_EV_ERROR) return failed(d, ev->code, ev->message, -1);
    char *sql = statement_text(d);
    md_sql_error se;
    md_free(d->plan_json);
    d->plan_json = NULL;
    int rc = md_split_plan(d->router, sql, strlen(sql), ev->text ? ev->text : "", ev->text ? ev->text_len : 0,
                           d->flags, ++d->next_query, &d->plan_json, &se);
    md_free(sql);
    if (rc != MD_OK) return failed(d, rc, se.message, -1);
    cJSON *pj = cJSON_Parse(d->plan_json);
    char *dep = md_strdup(jstr(pj, "deparse"));
    cJSON_Delete(pj);
    d->state = S_H_DEPARSE;
    return request(d, MD_DRV_DEPARSE, dep);
}

/* EXPLAIN's answer in DuckDB's EXPLAIN shape: one row of explain_key and
 * explain_value (`lines` joined by newlines, then `tail`), shown. */
static const md_drv_action *answer(md_driver *d, const char *key, const cJSON *lines, const char *tail) {
    md_buf text = MD_BUF_INIT;
    const cJSON *l;
    cJSON_ArrayForEach(l, lines) {
        if (!cJSON_IsString(l)) continue;
        md_buf_append(&text, l->valuestring, strlen(l->valuestring));
        md_buf_put_u8(&text, '\n');
    }
    if (tail) md_buf_append(&text, tail, strlen(tail));
    md_buf_put_u8(&text, 0);
    md_buf b = MD_BUF_INIT;
    md_buf_append(&b, "SELECT ", 7);
    md_buf_put_quoted(&b, key, '\'');
    md_buf_append(&b, " AS explain_key, ", 17);
    md_buf_put_quoted(&b, (const char *)text.data, '\'');
    md_buf_append(&b, " AS explain_value", 17);
    md_buf_put_u8(&b, 0);
    md_buf_free(&text);
    d->state = S_ANSWER;
    return run(d, MD_SITE_LOCAL, take_text(&b), MD_SINK_SHOW);
}

static const md_drv_action *next_bridge(md_driver *d);

static const md_drv_action *on_deparse(md_driver *d, const md_drv_event *ev) {
    if (ev->kind == MD_EV_ERROR) return failed(d, ev->code, ev->message, -1);
    cJSON *aj = cJSON_ParseWithLength(ev->text ? ev->text : "", ev->text ? ev->text_len : 0);
    const char *text = jstr(aj, "sql");
    char *full = NULL;
    md_sql_error se;
    int rc = md_split_finish(d->plan_json, strlen(d->plan_json), text, strlen(text), &full, &se);
    cJSON_Delete(aj);
    if (rc != MD_OK) return failed(d, rc, se.message, -1);
    cJSON_Delete(d->hplan);
    d->hplan = cJSON_Parse(full);
    md_free(full);
    cJSON_DeleteItemFromObjectCaseSensitive(d->cur, "hybrid"); /* a fallback plan: what it did alone */
    cJSON *h = hybrid_summary(d);
    cJSON_AddStringToObject(h, "mode", jstr(d->hplan, "mode"));
    cJSON_AddStringToObject(h, "reason", jstr(d->hplan, "reason"));
    cJSON_AddStringToObject(h, "root", jstr(d->hplan, "root"));
    const char *explain = jstr(d->hplan, "explain");
    if (strcmp(explain, "plan") == 0) return answer(d, "dual_plan", cJSON_GetObjectItem(d->hplan, "plan_text"), NULL);
    d->root = strcmp(jstr(d->hplan, "root"), "local") == 0 ? MD_SITE_LOCAL : MD_SITE_REMOTE;
    d->analyze = strcmp(explain, "analyze") == 0;
    /* Into a server root, the uploads and the final query are sent back to
     * back and their answers read after (the server runs them in order): no
     * round trip per bridge.  EXPLAIN ANALYZE times each bridge, so there
     * each waits for its answer. */
    d->pipelined = d->root == MD_SITE_REMOTE && !d->analyze;
    d->nbridges = cJSON_GetArraySize(cJSON_GetObjectItem(d->hplan, "bridges"));
    d->k = 0;
    md_free(d->pending);
    d->pending = md_calloc((size_t)d->nbridges + 1, sizeof *d->pending);
    d->npending = 0;
    d->state = S_H_BRIDGE;
    return next_bridge(d);
}

static const cJSON *bridge_at(const md_driver *d, int k) {
    return cJSON_GetArrayItem(cJSON_GetObjectItem(d->hplan, "bridges"), k);
}

/* A bridge shown under another name (a table named by value whose bridge
 * lives in the page's md_cache): a temp view gives it that name. */
static int needs_view(const cJSON *b) {
    const char *alias = jstr(b, "alias");
    return *alias && strcmp(alias, jstr(b, "name")) != 0;
}

static const char *local_bridge_schema(const md_driver *d) {
    return (d->flags & MD_SPLIT_LOCAL_CACHE) ? "md_cache.main." : "temp.main.";
}

static const md_drv_action *start_drop(md_driver *d, enum after_drop after);
static const md_drv_action *next_view(md_driver *d);

static const md_drv_action *next_bridge(md_driver *d) {
    if (d->k >= d->nbridges) {
        d->view_k = 0;
        return next_view(d);
    }
    const cJSON *b = bridge_at(d, d->k);
    int down = strcmp(jstr(b, "from"), "remote") == 0;
    run(d, down ? MD_SITE_REMOTE : MD_SITE_LOCAL, md_strdup(jstr(b, "sql")), MD_SINK_BRIDGE);
    d->act.table = jstr(b, "name");
    d->act.max_bytes = d->cap;
    d->act.detach = !down && d->pipelined;
    d->act.quiet = 1;
    return &d->act;
}

static void record_bridge(md_driver *d, const cJSON *b, const md_drv_event *ev) {
    int down = strcmp(jstr(b, "from"), "remote") == 0;
    cJSON *h = hybrid_summary(d);
    add_number(h, down ? "bytes_down" : "bytes_up", (double)ev->bytes);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", jstr(b, "name"));
    cJSON_AddStringToObject(o, "from", jstr(b, "from"));
    cJSON_AddStringToObject(o, "relation", jstr(b, "relation"));
    cJSON_AddNumberToObject(o, "rows", (double)ev->rows);
    cJSON_AddNumberToObject(o, "bytes", (double)ev->bytes);
    cJSON_AddNumberToObject(o, "ms", ev->ms);
    cJSON_AddItemToArray(cJSON_GetObjectItem(h, "bridges"), o);
}

static const md_drv_action *on_bridge(md_driver *d, const md_drv_event *ev) {
    const cJSON *b = bridge_at(d, d->k);
    if (ev->kind == MD_EV_ERROR) {
        record_bridge(d, b, ev);
        if (ev->code == MD_ETOO_LARGE) {
            char have[32], cap[32];
            human(ev->bytes, have, sizeof have);
            human(d->cap, cap, sizeof cap);
            md_free(d->fail_msg);
            d->fail_msg = md_asprintf("moving %s between the browser and the server would pass the cap of %s "
                                      "(at least %s): filter it more, or raise the cap",
                                      jstr(b, "relation"), cap, have);
            d->fail_code = MD_EBRIDGE_TOO_LARGE;
        } else {
            md_free(d->fail_msg);
            d->fail_msg = md_strdup(ev->message ? ev->message : md_strerror(ev->code));
            d->fail_code = ev->code ? ev->code : MD_EINTERNAL;
        }
        return start_drop(d, plan_may_be_wrong(d, ev) ? AFTER_RETRY : AFTER_FAIL);
    }
    if (ev->kind == MD_EV_STARTED) d->pending[d->npending++] = ev->id;
    record_bridge(d, b, ev);
    d->k++;
    return next_bridge(d);
}

static const md_drv_action *next_view(md_driver *d) {
    while (d->view_k < d->nbridges && !needs_view(bridge_at(d, d->view_k))) d->view_k++;
    if (d->view_k >= d->nbridges) {
        d->state = S_H_FINAL;
        const char *fsql = jstr(cJSON_GetObjectItem(d->hplan, "final"), "sql");
        if (d->analyze) return run(d, d->root, md_asprintf("EXPLAIN ANALYZE %s", fsql), MD_SINK_TEXT);
        run(d, d->root, md_strdup(fsql), MD_SINK_SHOW);
        d->act.detach = d->npending > 0;
        d->final_id = d->act.id;
        return &d->act;
    }
    const cJSON *b = bridge_at(d, d->view_k++);
    md_buf q = MD_BUF_INIT;
    static const char create[] = "CREATE TEMP VIEW ";
    md_buf_append(&q, create, sizeof create - 1);
    md_buf_put_quoted(&q, jstr(b, "alias"), '"');
    md_buf_append(&q, " AS SELECT * FROM ", 18);
    md_buf_append(&q, local_bridge_schema(d), strlen(local_bridge_schema(d)));
    md_buf_put_quoted(&q, jstr(b, "name"), '"');
    md_buf_put_u8(&q, 0);
    d->state = S_H_VIEW;
    return run(d, MD_SITE_LOCAL, take_text(&q), MD_SINK_NONE);
}

static const md_drv_action *on_view(md_driver *d, const md_drv_event *ev) {
    if (ev->kind == MD_EV_ERROR) {
        md_free(d->fail_msg);
        d->fail_msg = md_strdup(ev->message);
        d->fail_code = ev->code;
        return start_drop(d, AFTER_FAIL);
    }
    return next_view(d);
}

static const md_drv_action *final_ok(md_driver *d, const md_drv_event *ev);

static const md_drv_action *final_failed(md_driver *d, const md_drv_event *ev) {
    md_free(d->fail_msg);
    d->fail_msg = md_strdup(ev->message ? ev->message : md_strerror(ev->code));
    d->fail_code = ev->code ? ev->code : MD_EINTERNAL;
    return start_drop(d, plan_may_be_wrong(d, ev) ? AFTER_RETRY : AFTER_FAIL);
}

static const md_drv_action *on_final(md_driver *d, const md_drv_event *ev) {
    if (ev->kind == MD_EV_ERROR) return final_failed(d, ev);
    if (ev->kind == MD_EV_STARTED) { /* pipelined: the uploads' answers first, then the final query's */
        d->wait_k = 0;
        d->state = S_H_WAIT;
        return wait_for(d, d->pending[0]);
    }
    return final_ok(d, ev);
}

static const md_drv_action *on_wait(md_driver *d, const md_drv_event *ev) {
    if (d->wait_k < d->npending) { /* an upload */
        if (ev->kind == MD_EV_ERROR) { /* name what was moving: the server knows only its temp table */
            int k = 0;
            for (int up = 0; k < d->nbridges; k++)
                if (strcmp(jstr(bridge_at(d, k), "from"), "local") == 0 && up++ == d->wait_k) break;
            const cJSON *b = bridge_at(d, k); /* the summary lists the bridges in the same order */
            const cJSON *stats = cJSON_GetArrayItem(cJSON_GetObjectItem(hybrid_summary(d), "bridges"), k);
            char size[32];
            human((uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(stats, "bytes")), size, sizeof size);
            md_free(d->fail_msg);
            d->fail_msg = md_asprintf("moving %s (%s) to the server failed: %s", b ? jstr(b, "relation") : "a bridge",
                                      size, ev->message ? ev->message : md_strerror(ev->code));
            d->fail_code = ev->code ? ev->code : MD_EINTERNAL;
            return start_drop(d, AFTER_FAIL); /* the final query's answer is not awaited: the host drops it */
        }
        if (++d->wait_k < d->npending) return wait_for(d, d->pending[d->wait_k]);
        return wait_for(d, d->final_id);
    }
    if (ev->kind == MD_EV_ERROR) return final_failed(d, ev);
    return final_ok(d, ev);
}

static const md_drv_action *final_ok(md_driver *d, const md_drv_event *ev) {
    cJSON *h = hybrid_summary(d);
    set_number(h, "final_ms", ev->ms);
    if (*jstr(d->hplan, "prefix")) d->dirty[d->root] = 1; /* a write: row counts changed there */
    if (!d->analyze) {
        set_number(d->cur, "rows", (double)ev->rows);
        return start_drop(d, AFTER_DONE);
    }
    cJSON *lines = cJSON_Duplicate(cJSON_GetObjectItem(d->hplan, "plan_text"), 1);
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItem(h, "bridges")) {
        char line[400];
        snprintf(line, sizeof line, "BRIDGE %s %s: %lld rows, %llu bytes, %.1f ms", jstr(b, "name"),
                 strcmp(jstr(b, "from"), "remote") == 0 ? "R->L" : "L->R",
                 (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(b, "rows")),
                 (unsigned long long)cJSON_GetNumberValue(cJSON_GetObjectItem(b, "bytes")),
                 cJSON_GetNumberValue(cJSON_GetObjectItem(b, "ms")));
        cJSON_AddItemToArray(lines, cJSON_CreateString(line));
    }
    char line[200];
    snprintf(line, sizeof line, "FINAL (%c): %.1f ms, its plan:", d->root == MD_SITE_LOCAL ? 'L' : 'R', ev->ms);
    cJSON_AddItemToArray(lines, cJSON_CreateString(line));
    char *tail = ev->text && ev->text_len ? md_strndup(ev->text, ev->text_len) : md_strdup("(DuckDB gave no plan text)\n");
    const md_drv_action *a = answer(d, "analyzed_plan", lines, tail);
    md_free(tail);
    cJSON_Delete(lines);
    d->after = AFTER_DONE; /* the answer is shown, then the bridges go */
    return a;
}

static const md_drv_action *on_answer(md_driver *d, const md_drv_event *ev) {
    if (ev->kind == MD_EV_ERROR) return failed(d, ev->code, ev->message, -1);
    set_number(d->cur, "rows", (double)ev->rows);
    if (!d->hplan || strcmp(jstr(d->hplan, "explain"), "plan") == 0) return statement_done(d);
    return start_drop(d, AFTER_DONE);
}

/* ---- dropping the bridges ------------------------------------------------------------------ */

static const md_drv_action *drop_next(md_driver *d);

static const md_drv_action *start_drop(md_driver *d, enum after_drop after) {
    d->after = after;
    d->drop_step = 0;
    d->state = S_H_DROP;
    return drop_next(d);
}

/* Step 0: the views (a local root); step 1: the tables, in one statement
 * (a server root: detached, never awaited); then on. */
static const md_drv_action *drop_next(md_driver *d) {
    while (d->drop_step < 2) {
        int step = d->drop_step++;
        md_buf q = MD_BUF_INIT;
        const cJSON *b;
        cJSON_ArrayForEach(b, cJSON_GetObjectItem(d->hplan, "bridges")) {
            if (step == 0) {
                if (d->root != MD_SITE_LOCAL || !needs_view(b)) continue;
                static const char drop[] = "DROP VIEW IF EXISTS temp.main.";
                md_buf_append(&q, drop, sizeof drop - 1);
                md_buf_put_quoted(&q, jstr(b, "alias"), '"');
            } else { /* quoted: a table named by value moves under the user's name */
                static const char drop[] = "DROP TABLE IF EXISTS ";
                md_buf_append(&q, drop, sizeof drop - 1);
                const char *schema = d->root == MD_SITE_LOCAL ? local_bridge_schema(d) : "temp.main.";
                md_buf_append(&q, schema, strlen(schema));
                md_buf_put_quoted(&q, jstr(b, "name"), '"');
            }
            md_buf_put_u8(&q, ';');
        }
        if (q.len == 0) continue;
        md_buf_put_u8(&q, 0);
        run(d, d->root, take_text(&q), MD_SINK_NONE);
        if (d->root == MD_SITE_REMOTE) {
            d->act.detach = 1;
            d->act.quiet = 1;
        }
        return &d->act;
    }
    switch (d->after) {
    case AFTER_DONE: return statement_done(d);
    case AFTER_RETRY:
        md_free(d->fail_msg);
        d->fail_msg = NULL;
        d->flags |= MD_SPLIT_FALLBACK;
        return plan_next(d);
    default: {
        char *msg = d->fail_msg;
        d->fail_msg = NULL;
        const md_drv_action *a = failed(d, d->fail_code, msg, -1);
        md_free(msg);
        return a;
    }
    }
}

/* ---- the public side ------------------------------------------------------------------------- */

md_driver *md_driver_create(const md_driver_config *cfg) {
    md_driver *d = md_calloc(1, sizeof *d);
    d->router = md_router_create(cfg && cfg->local_db ? cfg->local_db : "memory",
                                 cfg && cfg->remote_db ? cfg->remote_db : NULL);
    d->host_flags = cfg ? cfg->flags : 0;
    d->cap = DEFAULT_CAP;
    d->summary = cJSON_CreateObject();
    cJSON_AddArrayToObject(d->summary, "statements");
    return d;
}

void md_driver_destroy(md_driver **pd) {
    if (!pd || !*pd) return;
    md_driver *d = *pd;
    end_script(d);
    md_router_destroy(&d->router);
    cJSON_Delete(d->summary);
    md_free(d->act_text);
    md_free(d->act_msg);
    md_free(d->fail_msg);
    md_free(d);
    *pd = NULL;
}

void md_driver_set_cap(md_driver *d, uint64_t bytes) { d->cap = bytes ? bytes : UINT64_MAX; }

void md_driver_set_split_flags(md_driver *d, unsigned flags) { d->split_flags = flags; }

md_router *md_driver_router(md_driver *d) { return d->router; }

int md_driver_begin(md_driver *d, const char *script, size_t len) {
    if (d->state != S_IDLE) return MD_EINVAL;
    d->script = md_strndup(script ? script : "", len);
    d->len = len;
    d->i = 0;
    d->nstmts = 0;
    cJSON_Delete(d->summary);
    d->summary = cJSON_CreateObject();
    cJSON_AddArrayToObject(d->summary, "statements");
    d->state = S_START;
    return MD_OK;
}

/* Both catalogs read: route the whole script without keeping anything
 * (if one statement cannot run, none runs), then its first statement. */
static const md_drv_action *start_script(md_driver *d) {
    for (int s = MD_SITE_LOCAL; s <= MD_SITE_REMOTE; s++)
        if (!d->loaded[s]) return catalog(d, (md_site)s);
    md_route_plan *plan;
    md_sql_error se;
    if (md_router_route(d->router, d->script, d->len, MD_ROUTER_DRY_RUN, &plan, &se) != MD_OK)
        return fail_now(d, se.code, se.message, se.position);
    for (size_t k = 0; k < plan->script->nstmts; k++) {
        const md_route_stmt *rs = &plan->stmts[k];
        if (rs->route != MD_ROUTE_MIXED && rs->route != MD_ROUTE_ERROR) continue;
        const md_sql_stmt *st = &plan->script->stmts[k];
        int64_t pos = rs->error.position ? (int64_t)rs->error.position : (int64_t)st->start;
        char *msg = md_strdup(rs->error.message);
        int code = rs->error.code ? rs->error.code : MD_EUNSUPPORTED;
        md_route_plan_free(&plan);
        const md_drv_action *a = fail_now(d, code, msg, pos);
        md_free(msg);
        return a;
    }
    d->nstmts = plan->script->nstmts;
    d->stmts = md_calloc(d->nstmts ? d->nstmts : 1, sizeof *d->stmts);
    for (size_t k = 0; k < d->nstmts; k++)
        d->stmts[k] = (span){plan->script->stmts[k].start, plan->script->stmts[k].end};
    md_route_plan_free(&plan);
    return start_statement(d);
}

const md_drv_action *md_driver_next(md_driver *d, const md_drv_event *ev) {
    if (d->state == S_IDLE) return fail_now(d, MD_EINVAL, "no script is running: begin one first", -1);
    if (ev && ev->id != d->expect)
        return fail_now(d, MD_EPROTOCOL, "the host answered another action than the driver's last", -1);
    if (!ev && d->state != S_START)
        return fail_now(d, MD_EPROTOCOL, "the host gave no event for the driver's last action", -1);
    if (ev && ev->kind == MD_EV_STARTED && !d->act.detach)
        return fail_now(d, MD_EPROTOCOL, "the host started in the background an action that was not detached", -1);
    if (ev && ev->kind == MD_EV_ERROR && ev->local_reset) d->local_reset = 1; /* whatever fails next */
    const md_drv_action *a;
    switch (d->state) {
    case S_START:
        if (ev && (a = on_refresh(d, ev, d->act.site))) return a;
        return start_script(d);
    case S_RUN: return on_run(d, ev);
    case S_MIRROR: return on_mirror(d, ev);
    case S_REFRESH:
        if ((a = on_refresh(d, ev, d->act.site))) return a;
        return next_refresh(d);
    case S_H_CATALOG:
        if ((a = on_refresh(d, ev, d->act.site))) return a;
        return hybrid_catalogs(d);
    case S_H_PARSE: return on_parse(d, ev);
    case S_H_DEPARSE: return on_deparse(d, ev);
    case S_H_BRIDGE: return on_bridge(d, ev);
    case S_H_VIEW: return on_view(d, ev);
    case S_H_FINAL: return on_final(d, ev);
    case S_H_WAIT: return on_wait(d, ev);
    case S_ANSWER: return on_answer(d, ev);
    case S_H_DROP: return drop_next(d); /* a drop's own failure changes nothing */
    case S_FAIL_REFRESH:
        if (ev->kind == MD_EV_OK && d->act.kind == MD_DRV_CATALOG) { /* (a USE again ends as it may) */
            char *err = NULL;
            if (set_catalog(d, d->act.site, ev, &err) == MD_OK)
                d->dirty[d->act.site] = 0;
            md_free(err);
        }
        return refresh_after_failure(d);
    default: return fail_now(d, MD_EINTERNAL, "the driver is in no known state", -1);
    }
}

char *md_driver_summary_json(const md_driver *d) {
    char *s = cJSON_PrintUnformatted(d->summary);
    char *out = md_strdup(s);
    cJSON_free(s);
    return out;
}

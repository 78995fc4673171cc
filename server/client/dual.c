/*
 * dual.c: the native host of dual execution (see dual.h).  It decides
 * nothing: wasm/driver.c does, and this file carries out its actions on a
 * native DuckDB connection (the local site) and an mdserver session (the
 * remote site), then reports how each ended.
 *
 * Detached actions (a pipelined upload, the final query behind it, a drop
 * at the server) are sent and remembered by the driver's action id; a WAIT
 * reads their answer then.  One never waited for is skipped by rclient
 * when the next request waits.
 */
#include "dual.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "server/duckdb/catalog_query.h"
#include "server/duckdb/upload.h"
#include "shared/arrow_ipc.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/md_time.h"
#include "shared/protocol.h"
#include "wasm/catalog.h"
#include "wasm/driver.h"

/* A detached action in flight: what to read when the driver waits for it. */
typedef struct detached {
    uint32_t action;  /* the driver's id */
    uint32_t request; /* rclient's */
    int upload;       /* 1: an upload's answer; 0: a query's */
    int64_t rows;     /* an upload: rows sent */
    uint64_t bytes;   /* and bytes */
} detached;

#define MAX_DETACHED 64

struct md_dual {
    duckdb_connection local;
    md_rclient *remote;
    md_driver *driver;
    detached pending[MAX_DETACHED];
    int npending;
};

/* ---- running at one site --------------------------------------------------------- */

/* Each chunk of a local result as an Arrow batch, to `each`. */
typedef int (*batch_fn)(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err);

static int local_arrow(duckdb_connection c, const char *sql, batch_fn each, void *ctx, int64_t *out_rows,
                       char **out_err) {
    duckdb_result res;
    if (duckdb_query(c, sql, &res) == DuckDBError) {
        *out_err = md_strdup(duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return MD_ESQL;
    }
    idx_t ncols = duckdb_column_count(&res);
    duckdb_arrow_options opts = duckdb_result_get_arrow_options(&res);
    duckdb_logical_type *types = md_calloc(ncols ? ncols : 1, sizeof *types);
    const char **names = md_calloc(ncols ? ncols : 1, sizeof *names);
    for (idx_t k = 0; k < ncols; k++) {
        types[k] = duckdb_column_logical_type(&res, k);
        names[k] = duckdb_column_name(&res, k);
    }
    struct ArrowSchema schema;
    memset(&schema, 0, sizeof schema);
    int rc = MD_OK;
    int64_t rows = 0, batches = 0;
    duckdb_error_data ed = duckdb_to_arrow_schema(opts, types, names, ncols, &schema);
    if (duckdb_error_data_has_error(ed)) {
        *out_err = md_strdup(duckdb_error_data_message(ed));
        rc = MD_EUNSUPPORTED;
    }
    duckdb_destroy_error_data(&ed);
    while (rc == MD_OK && each) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
        int last = chunk == NULL || duckdb_data_chunk_get_size(chunk) == 0;
        if (last && batches > 0) {
            if (chunk) duckdb_destroy_data_chunk(&chunk);
            break;
        }
        if (last) { /* an empty result still has one (empty) batch: the receiver needs its types */
            if (chunk) duckdb_destroy_data_chunk(&chunk);
            chunk = duckdb_create_data_chunk(types, ncols);
        }
        struct ArrowArray arr;
        memset(&arr, 0, sizeof arr);
        rows += (int64_t)duckdb_data_chunk_get_size(chunk);
        ed = duckdb_data_chunk_to_arrow(opts, chunk, &arr);
        duckdb_destroy_data_chunk(&chunk);
        if (duckdb_error_data_has_error(ed)) {
            *out_err = md_strdup(duckdb_error_data_message(ed));
            rc = MD_EUNSUPPORTED;
        }
        duckdb_destroy_error_data(&ed);
        if (rc == MD_OK) rc = each(ctx, &schema, &arr, out_err);
        if (arr.release) arr.release(&arr);
        batches++;
        if (last) break;
    }
    if (schema.release) schema.release(&schema);
    for (idx_t k = 0; k < ncols; k++) duckdb_destroy_logical_type(&types[k]);
    md_free(types);
    md_free(names);
    duckdb_destroy_arrow_options(&opts);
    duckdb_destroy_result(&res);
    if (out_rows) *out_rows = rows;
    return rc;
}


/* ---- bridges ------------------------------------------------------------------------- */

typedef struct bridge_run {
    duckdb_connection conn;
    const char *name;
    uint64_t cap;
    md_upload *up;     /* R->L: appending here */
    md_ipc_writer *w;  /* L->R: writing the stream */
    md_buf ipc;
    int64_t rows;
    int over;          /* L->R: the stream passed the cap */
    char *err;
} bridge_run;

/* R->L: a batch of the server's answer, appended to the local temp table.
 * Errors are kept, not returned (an error from a hook closes the
 * connection, rclient.h): the rest of the answer is drained. */
static int down_batch(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err) {
    bridge_run *b = ctx;
    (void)out_err;
    if (b->err) return MD_OK;
    int rc = MD_OK;
    if (!b->up) {
        b->up = md_upload_begin(b->conn, b->name, 0);
        rc = md_upload_schema(b->up, schema, &b->err);
    }
    b->rows += batch->length;
    if (rc == MD_OK) md_upload_batch(b->up, batch, &b->err);
    return MD_OK;
}

/* L->R: a batch of the local fragment, written into the IPC stream. */
static int up_batch(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err) {
    bridge_run *b = ctx;
    if (!b->w) {
        int rc = md_ipc_writer_create(schema, &b->w, out_err);
        if (rc != MD_OK) return rc;
        md_ipc_write_schema(b->w, &b->ipc);
    }
    int rc = md_ipc_write_batch(b->w, batch, &b->ipc, out_err);
    b->rows += batch->length;
    if (rc == MD_OK && b->ipc.len > b->cap) {
        b->over = 1;
        *out_err = md_strdup("over the cap");
        return MD_ETOO_LARGE;
    }
    return rc;
}

/* Server -> here: the fragment's rows into the local temp table.  The cap is
 * checked once the answer is in (the stream cannot be cut without closing
 * the connection). */
static int bridge_down(md_dual *d, const md_drv_action *a, md_drv_event *ev, char **err) {
    bridge_run b = {d->local, a->table, a->max_bytes, NULL, NULL, MD_BUF_INIT, 0, 0, NULL};
    md_dual_hooks hooks = {.on_batch = down_batch, .ctx = &b};
    md_rclient_stats rs = {0};
    int rc = md_rclient_query(d->remote, a->sql, &hooks, &rs, err);
    ev->bytes = rs.bytes;
    if (rc == MD_OK && b.err) {
        *err = b.err;
        b.err = NULL;
        rc = MD_ESQL;
    }
    if (rc == MD_OK && rs.bytes > a->max_bytes) rc = MD_ETOO_LARGE;
    if (rc == MD_OK && !b.up) {
        *err = md_asprintf("the server sent no rows for bridge %s", a->table);
        rc = MD_EPROTOCOL;
    }
    int64_t rows;
    uint64_t bytes;
    if (rc == MD_OK) rc = md_upload_finish(b.up, &rows, &bytes, err);
    md_upload_end(&b.up);
    md_free(b.err);
    ev->rows = b.rows;
    return rc;
}

/* Here -> server: the fragment's rows as an Arrow IPC stream, uploaded
 * (detached: only sent, its answer read at WAIT). */
static int bridge_up(md_dual *d, const md_drv_action *a, md_drv_event *ev, char **err) {
    bridge_run b = {d->local, a->table, a->max_bytes, NULL, NULL, MD_BUF_INIT, 0, 0, NULL};
    int64_t rows;
    int rc = local_arrow(d->local, a->sql, up_batch, &b, &rows, err);
    if (rc == MD_OK) {
        md_ipc_write_eos(&b.ipc);
        if (a->detach) {
            uint32_t id;
            rc = md_rclient_upload_send(d->remote, a->table, b.ipc.data, b.ipc.len, 0, &id, err);
            if (rc == MD_OK) d->pending[d->npending++] = (detached){a->id, id, 1, b.rows, b.ipc.len};
        } else {
            int64_t got;
            rc = md_rclient_upload(d->remote, a->table, b.ipc.data, b.ipc.len, 0, &got, err);
        }
    }
    ev->rows = b.rows;
    ev->bytes = b.ipc.len;
    md_ipc_writer_destroy(&b.w);
    md_buf_free(&b.ipc);
    md_free(b.err);
    return rc;
}

/* ---- carrying out one action ------------------------------------------------------------ */

/* String `row` of Arrow column `col` (utf8 or large utf8) of a batch, or
 * NULL (malloc'd). */
static char *arrow_text(const struct ArrowSchema *schema, const struct ArrowArray *batch, int64_t col, int64_t row) {
    if (col >= schema->n_children || col >= batch->n_children) return NULL;
    const char *f = schema->children[col]->format;
    const struct ArrowArray *a = batch->children[col];
    if (row >= a->length || a->n_buffers < 3) return NULL;
    const uint8_t *valid = a->buffers[0];
    int64_t i = row + a->offset;
    if (valid && !(valid[i / 8] >> (i % 8) & 1)) return NULL;
    const char *data = a->buffers[2];
    if (strcmp(f, "u") == 0) {
        const int32_t *o = a->buffers[1];
        return md_strndup(data + o[i], (size_t)(o[i + 1] - o[i]));
    }
    if (strcmp(f, "U") == 0) {
        const int64_t *o = a->buffers[1];
        return md_strndup(data + o[i], (size_t)(o[i + 1] - o[i]));
    }
    return NULL;
}

static int take_text(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err) {
    char **text = ctx;
    if (!*text && batch->length > 0) *text = arrow_text(schema, batch, 1, 0);
    return MD_OK;
}

static int count_rows(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err) {
    *(int64_t *)ctx += batch->length;
    return MD_OK;
}

/* The statement's rows: to the caller's hooks, counted. */
typedef struct shown {
    const md_dual_hooks *hooks;
    int64_t rows;
} shown;

static int show_batch(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err) {
    shown *s = ctx;
    s->rows += batch->length;
    return s->hooks && s->hooks->on_batch ? s->hooks->on_batch(s->hooks->ctx, schema, batch, out_err) : MD_OK;
}

static void show_progress(void *ctx, const md_rclient_progress *p) {
    shown *s = ctx;
    if (s->hooks && s->hooks->on_progress) s->hooks->on_progress(s->hooks->ctx, p);
}

static int show_wait(void *ctx) {
    shown *s = ctx;
    return s->hooks && s->hooks->on_wait ? s->hooks->on_wait(s->hooks->ctx) : MD_RCLIENT_WAIT;
}

static void show_notice(void *ctx, const char *code, const char *message) {
    shown *s = ctx;
    if (s->hooks && s->hooks->on_notice) s->hooks->on_notice(s->hooks->ctx, code, message);
}

/* The caller's hooks for a result it is shown: batches, progress, waiting, notices. */
static md_dual_hooks show_hooks(shown *s) {
    return (md_dual_hooks){.on_batch = show_batch, .on_progress = show_progress, .on_wait = show_wait,
                           .on_notice = show_notice, .ctx = s};
}

static int run_action(md_dual *d, const md_drv_action *a, const md_dual_hooks *hooks, md_drv_event *ev,
                      char **text, char **err) {
    shown s = {hooks, 0};
    md_dual_hooks show = show_hooks(&s);
    int64_t counted = 0;
    md_dual_hooks count = {.on_batch = count_rows, .ctx = &counted};
    md_dual_hooks capture = {.on_batch = take_text, .ctx = text};
    const md_dual_hooks *h = a->sink == MD_SINK_SHOW ? &show : a->sink == MD_SINK_TEXT ? &capture : &count;
    if (a->sink == MD_SINK_BRIDGE) return a->site == MD_SITE_REMOTE ? bridge_down(d, a, ev, err) : bridge_up(d, a, ev, err);
    int rc;
    if (a->site == MD_SITE_LOCAL) {
        int64_t rows = 0;
        rc = local_arrow(d->local, a->sql, h->on_batch, h->ctx, &rows, err);
        ev->rows = rows;
        return rc;
    }
    if (a->detach) {
        uint32_t id;
        rc = md_rclient_query_send(d->remote, a->sql, a->quiet ? MD_RCLIENT_NO_CATALOG : 0, &id, err);
        if (rc == MD_OK && a->sink == MD_SINK_SHOW && d->npending < MAX_DETACHED)
            d->pending[d->npending++] = (detached){a->id, id, 0, 0, 0};
        return rc;
    }
    md_rclient_stats st = {0};
    rc = md_rclient_query(d->remote, a->sql, h, &st, err);
    ev->rows = a->sink == MD_SINK_SHOW ? s.rows : st.rows;
    ev->bytes = st.bytes;
    return rc;
}

static int wait_action(md_dual *d, const md_drv_action *a, const md_dual_hooks *hooks, md_drv_event *ev, char **err) {
    for (int k = 0; k < d->npending; k++) {
        detached p = d->pending[k];
        if (p.action != a->wait_id) continue;
        d->pending[k] = d->pending[--d->npending];
        if (p.upload) {
            int64_t rows;
            ev->rows = p.rows;
            ev->bytes = p.bytes;
            return md_rclient_upload_recv(d->remote, p.request, &rows, err);
        }
        shown s = {hooks, 0};
        md_dual_hooks show = show_hooks(&s);
        md_rclient_stats st = {0};
        int rc = md_rclient_query_recv(d->remote, p.request, &show, &st, err);
        ev->rows = s.rows;
        ev->bytes = st.bytes;
        return rc;
    }
    *err = md_strdup("the driver waited for an action this host did not start");
    return MD_EPROTOCOL;
}

static int catalog_action(md_dual *d, const md_drv_action *a, char **text, char **err) {
    if (a->site == MD_SITE_REMOTE) return md_rclient_request(d->remote, MD_MSG_CATALOG, NULL, text, err);
    return md_catalog_rows_json(d->local, a->sql, text, err); /* the driver folds the rows */
}

/* Carry out action `a`; *ev says how it ended (its text, md_malloc'd, in
 * *text for the caller to free). */
static void carry_out(md_dual *d, const md_drv_action *a, const md_dual_hooks *hooks, md_drv_event *ev, char **text) {
    memset(ev, 0, sizeof *ev);
    ev->id = a->kind == MD_DRV_WAIT ? a->wait_id : a->id;
    ev->position = -1;
    *text = NULL;
    char *err = NULL;
    double t0 = md_now_ms_f();
    int rc;
    switch (a->kind) {
    case MD_DRV_RUN: rc = run_action(d, a, hooks, ev, text, &err); break;
    case MD_DRV_WAIT: rc = wait_action(d, a, hooks, ev, &err); break;
    case MD_DRV_CATALOG: rc = catalog_action(d, a, text, &err); break;
    case MD_DRV_PARSE: {
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "sql", a->sql);
        char *reqt = cJSON_PrintUnformatted(req);
        cJSON_Delete(req);
        rc = md_rclient_request(d->remote, MD_MSG_PARSE, reqt, text, &err);
        cJSON_free(reqt);
        break;
    }
    case MD_DRV_DEPARSE: rc = md_rclient_request(d->remote, MD_MSG_DEPARSE, a->sql, text, &err); break;
    default: rc = MD_EINTERNAL; break;
    }
    ev->ms = md_now_ms_f() - t0;
    if (rc == MD_OK) {
        ev->kind = a->kind == MD_DRV_RUN && a->detach ? MD_EV_STARTED : MD_EV_OK;
        ev->text = *text;
        ev->text_len = *text ? strlen(*text) : 0;
        md_free(err);
        return;
    }
    ev->kind = MD_EV_ERROR;
    ev->code = rc;
    ev->message = err ? err : md_strdup(md_strerror(rc));
    md_free(*text);
    *text = (char *)ev->message; /* freed with the text */
}

/* ---- the public side --------------------------------------------------------------------- */

/* Run `sql` through the driver until DONE or FAIL. */
static int drive(md_dual *d, const char *sql, const md_dual_hooks *hooks, char **out_err) {
    md_driver_begin(d->driver, sql, strlen(sql));
    const md_drv_action *a = md_driver_next(d->driver, NULL);
    while (a->kind != MD_DRV_DONE && a->kind != MD_DRV_FAIL) {
        md_drv_event ev;
        char *text;
        carry_out(d, a, hooks, &ev, &text);
        a = md_driver_next(d->driver, &ev);
        md_free(text);
    }
    d->npending = 0; /* what was never waited for is skipped by rclient */
    if (a->kind == MD_DRV_DONE) return MD_OK;
    *out_err = md_strdup(a->message);
    return a->code;
}

int md_dual_create(duckdb_connection local, md_rclient *remote, const char *remote_db, md_dual **out,
                   char **out_err) {
    md_dual *d = md_calloc(1, sizeof *d);
    d->local = local;
    d->remote = remote;
    duckdb_result r;
    char *local_db = NULL;
    if (duckdb_query(local, "SELECT current_database()", &r) == DuckDBSuccess) local_db = duckdb_value_varchar(&r, 0, 0);
    duckdb_destroy_result(&r);
    md_driver_config cfg = {local_db ? local_db : "memory", remote_db, 0};
    d->driver = md_driver_create(&cfg);
    if (local_db) duckdb_free(local_db);
    int rc = drive(d, "", NULL, out_err); /* both catalogs, now: a connection that cannot give them fails here */
    if (rc != MD_OK) {
        md_dual_destroy(&d);
        return rc;
    }
    *out = d;
    return MD_OK;
}

void md_dual_destroy(md_dual **d) {
    if (!d || !*d) return;
    md_driver_destroy(&(*d)->driver);
    md_free(*d);
    *d = NULL;
}

void md_dual_set_cap(md_dual *d, uint64_t bytes) { md_driver_set_cap(d->driver, bytes); }

void md_dual_set_split_flags(md_dual *d, unsigned flags) { md_driver_set_split_flags(d->driver, flags); }

/* The caller's summary, from the driver's. */
static void summarize(md_dual *d, md_dual_stats *stats) {
    memset(stats, 0, sizeof *stats);
    char *json = md_driver_summary_json(d->driver);
    cJSON *j = cJSON_Parse(json);
    md_free(json);
    const cJSON *st;
    cJSON_ArrayForEach(st, cJSON_GetObjectItem(j, "statements")) {
        const cJSON *where = cJSON_GetObjectItem(st, "where"), *notice = cJSON_GetObjectItem(st, "notice");
        snprintf(stats->where, sizeof stats->where, "%s", cJSON_IsString(where) ? where->valuestring : "");
        if (cJSON_IsString(notice)) snprintf(stats->notice, sizeof stats->notice, "%s", notice->valuestring);
        const cJSON *h = cJSON_GetObjectItem(st, "hybrid");
        if (!h) continue;
        const cJSON *mode = cJSON_GetObjectItem(h, "mode");
        snprintf(stats->mode, sizeof stats->mode, "%s", cJSON_IsString(mode) ? mode->valuestring : "");
        stats->bytes_up += (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(h, "bytes_up"));
        stats->bytes_down += (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(h, "bytes_down"));
        const cJSON *b;
        cJSON_ArrayForEach(b, cJSON_GetObjectItem(h, "bridges")) {
            stats->bridges++;
            stats->bridge_rows += (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(b, "rows"));
        }
    }
    cJSON_Delete(j);
}

int md_dual_run(md_dual *d, const char *sql, const md_dual_hooks *hooks, md_dual_stats *out_stats,
                char **out_err) {
    int rc = drive(d, sql, hooks, out_err);
    if (rc == MD_OK && out_stats) summarize(d, out_stats);
    return rc;
}

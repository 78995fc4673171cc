/*
 * dual.c: the native dual-execution driver (see dual.h).
 *
 * State: the router (session state + catalog cache of both sites), a counter
 * that numbers each hybrid statement's bridge tables, and one "dirty" flag
 * per site: set when a statement wrote there, cleared when that site's
 * catalog is read again.
 */
#include "dual.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arrow_ipc.h"
#include "catalog.h"
#include "catalog_query.h"
#include "md_alloc.h"
#include "md_buf.h"
#include "md_error.h"
#include "md_time.h"
#include "protocol.h"
#include "router.h"
#include "splitter.h"
#include "sql_classify.h"
#include "upload.h"

#define DEFAULT_CAP (1ull << 30)

struct md_dual {
    duckdb_connection local;
    md_rclient *remote;
    md_router *router;
    unsigned next_query;
    uint64_t cap;
    unsigned split_flags;
    int dirty[3]; /* indexed by md_site */
};

/* ---- catalogs ----------------------------------------------------------------- */

static int read_local_catalog(md_dual *d, char **out_err) {
    cJSON *cat = NULL;
    int rc = md_catalog_query(d->local, MD_CATALOG_WITH_MEMORY, &cat, out_err);
    if (rc != MD_OK) return rc;
    char *text = cJSON_PrintUnformatted(cat);
    cJSON_Delete(cat);
    rc = md_catalog_set_json(md_router_catalog(d->router), MD_SITE_LOCAL, text, strlen(text), out_err);
    cJSON_free(text);
    if (rc == MD_OK) d->dirty[MD_SITE_LOCAL] = 0;
    return rc;
}

static int read_remote_catalog(md_dual *d, char **out_err) {
    char *text = NULL;
    int rc = md_rclient_request(d->remote, MD_MSG_CATALOG, NULL, &text, out_err);
    if (rc != MD_OK) return rc;
    rc = md_catalog_set_json(md_router_catalog(d->router), MD_SITE_REMOTE, text, strlen(text), out_err);
    md_free(text);
    if (rc == MD_OK) d->dirty[MD_SITE_REMOTE] = 0;
    return rc;
}

static int refresh(md_dual *d, md_site site, char **out_err) {
    return site == MD_SITE_LOCAL ? read_local_catalog(d, out_err) : read_remote_catalog(d, out_err);
}

int md_dual_create(duckdb_connection local, md_rclient *remote, const char *remote_db, md_dual **out,
                   char **out_err) {
    md_dual *d = md_calloc(1, sizeof *d);
    d->local = local;
    d->remote = remote;
    d->cap = DEFAULT_CAP;
    duckdb_result r;
    char *local_db = NULL;
    if (duckdb_query(local, "SELECT current_database()", &r) == DuckDBSuccess) local_db = duckdb_value_varchar(&r, 0, 0);
    duckdb_destroy_result(&r);
    d->router = md_router_create(local_db ? local_db : "memory", remote_db);
    if (local_db) duckdb_free(local_db);
    int rc = read_local_catalog(d, out_err);
    if (rc == MD_OK) rc = read_remote_catalog(d, out_err);
    if (rc != MD_OK) {
        md_dual_destroy(&d);
        return rc;
    }
    *out = d;
    return MD_OK;
}

void md_dual_destroy(md_dual **d) {
    if (!d || !*d) return;
    md_router_destroy(&(*d)->router);
    md_free(*d);
    *d = NULL;
}

void md_dual_set_cap(md_dual *d, uint64_t bytes) { d->cap = bytes ? bytes : UINT64_MAX; }

void md_dual_set_split_flags(md_dual *d, unsigned flags) { d->split_flags = flags; }

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

static int run_local(md_dual *d, const char *sql, const md_dual_hooks *hooks, char **out_err) {
    int64_t rows;
    return local_arrow(d->local, sql, hooks && hooks->on_batch ? hooks->on_batch : NULL, hooks ? hooks->ctx : NULL,
                       &rows, out_err);
}

static int run_remote(md_dual *d, const char *sql, const md_dual_hooks *hooks, char **out_err) {
    md_rclient_stats st;
    return md_rclient_query(d->remote, sql, hooks, &st, out_err);
}

/* ---- bridges ---------------------------------------------------------------------- */

typedef struct bridge_run {
    duckdb_connection conn;
    const char *name, *relation;
    uint64_t cap;
    md_upload *up;     /* R->L: appending here */
    md_ipc_writer *w;  /* L->R: writing the stream */
    md_buf ipc;
    uint64_t bytes;
    int64_t rows;
    char *err;
} bridge_run;

static void human(uint64_t b, char *out, size_t n) {
    if (b < 1024 * 1024) snprintf(out, n, "%.1f KiB", b / 1024.0);
    else if (b < 1024ull * 1024 * 1024) snprintf(out, n, "%.1f MiB", b / (1024.0 * 1024));
    else snprintf(out, n, "%.2f GiB", b / (1024.0 * 1024 * 1024));
}

static void cap_error(bridge_run *b) {
    char have[32], cap[32];
    human(b->bytes, have, sizeof have);
    human(b->cap, cap, sizeof cap);
    b->err = md_asprintf("BRIDGE_TOO_LARGE: moving %s between the browser and the server would pass %s "
                         "(at least %s): filter it more, or raise the cap",
                         b->relation, cap, have);
}

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
        b->bytes = b->ipc.len;
        cap_error(b);
        *out_err = md_strdup(b->err);
        return MD_ETOO_LARGE;
    }
    return rc;
}

typedef struct step_stats {
    int64_t rows;
    uint64_t bytes;
    double ms;
} step_stats;

static int move_down(md_dual *d, const char *name, const char *relation, const char *sql, step_stats *st,
                     char **out_err) {
    bridge_run b = {d->local, name, relation, d->cap, NULL, NULL, MD_BUF_INIT, 0, 0, NULL};
    md_dual_hooks hooks = {down_batch, NULL, &b};
    md_rclient_stats rs;
    int rc = md_rclient_query(d->remote, sql, &hooks, &rs, out_err);
    if (rc == MD_OK) b.bytes = rs.bytes;
    if (rc == MD_OK && b.err) {
        *out_err = b.err;
        b.err = NULL;
        rc = MD_ESQL;
    }
    /* The cap is checked once the answer is in (the stream cannot be cut
     * without closing the connection); nothing of it is shown then. */
    if (rc == MD_OK && b.bytes > b.cap) {
        cap_error(&b);
        *out_err = b.err;
        b.err = NULL;
        rc = MD_ETOO_LARGE;
    }
    if (rc == MD_OK && !b.up) {
        *out_err = md_asprintf("the server sent no rows for %s", relation);
        rc = MD_EPROTOCOL;
    }
    if (rc == MD_OK) {
        int64_t rows;
        uint64_t bytes;
        rc = md_upload_finish(b.up, &rows, &bytes, out_err);
    }
    md_upload_end(&b.up);
    md_free(b.err);
    st->rows = b.rows;
    st->bytes = b.bytes;
    return rc;
}

/* An upload sent, its answer not read yet. */
typedef struct pending_upload {
    uint32_t id;
    const char *relation;
    uint64_t bytes;
} pending_upload;

/* L->R.  With `pending`, the upload is only sent and *pending says which,
 * for run_pipelined. */
static int move_up(md_dual *d, const char *name, const char *relation, const char *sql, pending_upload *pending,
                   step_stats *st, char **out_err) {
    bridge_run b = {d->local, name, relation, d->cap, NULL, NULL, MD_BUF_INIT, 0, 0, NULL};
    int64_t rows;
    int rc = local_arrow(d->local, sql, up_batch, &b, &rows, out_err);
    if (rc == MD_OK) {
        md_ipc_write_eos(&b.ipc);
        int64_t got;
        if (pending) {
            *pending = (pending_upload){0, relation, b.ipc.len};
            rc = md_rclient_upload_send(d->remote, name, b.ipc.data, b.ipc.len, 0, &pending->id, out_err);
        } else {
            rc = md_rclient_upload(d->remote, name, b.ipc.data, b.ipc.len, 0, &got, out_err);
        }
    }
    st->rows = b.rows;
    st->bytes = b.ipc.len;
    md_ipc_writer_destroy(&b.w);
    md_buf_free(&b.ipc);
    md_free(b.err);
    return rc;
}

/* The final query at the server, sent after the uploads still pending[0..n)
 * and before their answers are read: an upload's error is the statement's
 * (the final query then fails too, and its answer is skipped). */
static int run_pipelined(md_dual *d, const pending_upload *pending, size_t n, const char *sql,
                         const md_dual_hooks *hooks, char **out_err) {
    uint32_t id;
    int rc = md_rclient_query_send(d->remote, sql, 0, &id, out_err);
    for (size_t i = 0; i < n && rc == MD_OK; i++) {
        int64_t rows;
        rc = md_rclient_upload_recv(d->remote, pending[i].id, &rows, out_err);
        if (rc != MD_OK) { /* name what was moving: the server knows only its temp table */
            char size[32];
            human(pending[i].bytes, size, sizeof size);
            char *e = md_asprintf("moving %s (%s) to the server failed: %s", pending[i].relation, size, *out_err);
            md_free(*out_err);
            *out_err = e;
        }
    }
    md_rclient_stats st;
    if (rc == MD_OK) rc = md_rclient_query_recv(d->remote, id, hooks, &st, out_err);
    return rc;
}

/* ---- hybrid statements ------------------------------------------------------------ */

static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Answer a plan as DuckDB's EXPLAIN does: one row of explain_key (`key`)
 * and explain_value (`lines` joined by newlines, then `tail` if any). */
static int answer_plan(md_dual *d, const char *key, const cJSON *lines, const char *tail,
                       const md_dual_hooks *hooks, char **out_err) {
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
    int rc = run_local(d, (const char *)b.data, hooks, out_err);
    md_buf_free(&b);
    md_buf_free(&text);
    return rc;
}

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

static int take_plan_text(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err) {
    char **text = ctx;
    if (!*text && batch->length > 0) *text = arrow_text(schema, batch, 1, 0);
    return MD_OK;
}

/* Run the final step as EXPLAIN ANALYZE at `site`: its plan text in *out
 * (malloc'd; a note when DuckDB gave none). */
static int analyze_final(md_dual *d, md_site site, const char *sql, char **out, char **out_err) {
    char *q = md_asprintf("EXPLAIN ANALYZE %s", sql);
    char *text = NULL;
    md_dual_hooks h = {take_plan_text, NULL, &text};
    int rc = site == MD_SITE_LOCAL ? run_local(d, q, &h, out_err) : run_remote(d, q, &h, out_err);
    md_free(q);
    if (rc == MD_OK && !text) text = md_strdup("(DuckDB gave no plan text)\n");
    if (rc != MD_OK) md_free(text);
    else *out = text;
    return rc;
}

/* PARSE, plan, DEPARSE: the finished plan (caller cJSON_Deletes). */
static int make_plan(md_dual *d, const char *sql, unsigned flags, unsigned qid, cJSON **out, char **out_err) {
    md_split_text tx;
    md_sql_error se;
    int rc = md_split_prepare(sql, strlen(sql), &tx, &se);
    if (rc != MD_OK) {
        *out_err = md_strdup(se.message);
        return rc;
    }
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "sql", tx.query);
    char *reqt = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    md_split_text_free(&tx);
    char *ast = NULL;
    rc = md_rclient_request(d->remote, MD_MSG_PARSE, reqt, &ast, out_err);
    cJSON_free(reqt);
    if (rc != MD_OK) return rc;
    char *plan = NULL;
    rc = md_split_plan(d->router, sql, strlen(sql), ast, strlen(ast), flags, qid, &plan, &se);
    md_free(ast);
    if (rc != MD_OK) {
        *out_err = md_strdup(se.message);
        return rc;
    }
    cJSON *pj = cJSON_Parse(plan);
    const char *dep = jstr(pj, "deparse");
    char *answer = NULL;
    rc = md_rclient_request(d->remote, MD_MSG_DEPARSE, dep, &answer, out_err);
    cJSON_Delete(pj);
    if (rc != MD_OK) {
        md_free(plan);
        return rc;
    }
    cJSON *aj = cJSON_Parse(answer);
    md_free(answer);
    const char *text = jstr(aj, "sql");
    char *full = NULL;
    rc = md_split_finish(plan, strlen(plan), text, strlen(text), &full, &se);
    cJSON_Delete(aj);
    md_free(plan);
    if (rc != MD_OK) {
        *out_err = md_strdup(se.message);
        return rc;
    }
    *out = cJSON_Parse(full);
    md_free(full);
    return MD_OK;
}

static void drop_bridges(md_dual *d, cJSON *bridges, md_site root) {
    md_buf b = MD_BUF_INIT;
    const cJSON *br;
    cJSON_ArrayForEach(br, bridges) { /* quoted: a table named by value moves under the user's name */
        static const char drop[] = "DROP TABLE IF EXISTS temp.main.";
        md_buf_append(&b, drop, sizeof drop - 1);
        md_buf_put_quoted(&b, jstr(br, "name"), '"');
        md_buf_put_u8(&b, ';');
    }
    md_buf_put_u8(&b, 0);
    char *err = NULL;
    if (b.len > 1) {
        if (root == MD_SITE_LOCAL) {
            duckdb_result r;
            duckdb_query(d->local, (const char *)b.data, &r);
            duckdb_destroy_result(&r);
        } else { /* not awaited: the answer is skipped by the next request's wait */
            uint32_t id;
            md_rclient_query_send(d->remote, (const char *)b.data, MD_RCLIENT_NO_CATALOG, &id, &err);
        }
    }
    md_free(err);
    md_buf_free(&b);
}

static int is_bind_error(const char *e) {
    return e && (strstr(e, "Binder Error") || strstr(e, "Referenced column") || strstr(e, "not found in FROM") ||
                 strstr(e, "does not exist"));
}

static int run_hybrid(md_dual *d, const char *sql, const md_dual_hooks *hooks, md_dual_stats *stats,
                      char **out_err) {
    for (int site = MD_SITE_LOCAL; site <= MD_SITE_REMOTE; site++) {
        if (!d->dirty[site]) continue;
        int rc = refresh(d, (md_site)site, out_err);
        if (rc != MD_OK) return rc;
    }
    unsigned flags = d->split_flags;
    for (int attempt = 0; attempt < 2; attempt++) {
        cJSON *plan = NULL;
        int rc = make_plan(d, sql, flags, ++d->next_query, &plan, out_err);
        if (rc != MD_OK) return rc;
        const char *explain = jstr(plan, "explain");
        if (strcmp(explain, "plan") == 0) {
            snprintf(stats->mode, sizeof stats->mode, "plan only");
            rc = answer_plan(d, "dual_plan", cJSON_GetObjectItem(plan, "plan_text"), NULL, hooks, out_err);
            cJSON_Delete(plan);
            return rc;
        }
        md_site root = strcmp(jstr(plan, "root"), "local") == 0 ? MD_SITE_LOCAL : MD_SITE_REMOTE;
        cJSON *bridges = cJSON_GetObjectItem(plan, "bridges");
        cJSON *actual = cJSON_CreateArray();
        const cJSON *br;
        int retry = 0;
        int analyze = strcmp(explain, "analyze") == 0;
        /* Into a server root, the uploads and the final query are sent back
         * to back and their answers read after (the duckling runs them in
         * order): no round trip per bridge.  EXPLAIN ANALYZE times each
         * bridge, so there each waits for its answer. */
        int pipelined = root == MD_SITE_REMOTE && !analyze;
        pending_upload *pending = md_calloc((size_t)cJSON_GetArraySize(bridges) + 1, sizeof *pending);
        size_t npending = 0;
        cJSON_ArrayForEach(br, bridges) {
            step_stats st = {0, 0, 0};
            double t0 = md_now_ms_f();
            int down = strcmp(jstr(br, "from"), "remote") == 0;
            rc = down ? move_down(d, jstr(br, "name"), jstr(br, "relation"), jstr(br, "sql"), &st, out_err)
                      : move_up(d, jstr(br, "name"), jstr(br, "relation"), jstr(br, "sql"),
                                pipelined ? &pending[npending] : NULL, &st, out_err);
            if (rc == MD_OK && !down && pipelined) npending++;
            st.ms = md_now_ms_f() - t0;
            if (down) stats->bytes_down += st.bytes;
            else stats->bytes_up += st.bytes;
            stats->bridge_rows += st.rows;
            stats->bridges++;
            char line[400];
            snprintf(line, sizeof line, "BRIDGE %s %s: %lld rows, %llu bytes, %.1f ms", jstr(br, "name"),
                     down ? "R->L" : "L->R", (long long)st.rows, (unsigned long long)st.bytes, st.ms);
            cJSON_AddItemToArray(actual, cJSON_CreateString(line));
            if (rc != MD_OK) {
                retry = rc == MD_ESQL && !(flags & MD_SPLIT_FALLBACK) && is_bind_error(*out_err);
                /* the uploads already sent: their answers are skipped, their tables dropped below */
                break;
            }
        }
        if (rc == MD_OK) {
            snprintf(stats->mode, sizeof stats->mode, "%s", jstr(plan, "mode"));
            const char *fsql = jstr(cJSON_GetObjectItem(plan, "final"), "sql");
            double t0 = md_now_ms_f();
            char *analyzed = NULL;
            if (analyze) rc = analyze_final(d, root, fsql, &analyzed, out_err);
            else if (root == MD_SITE_LOCAL) rc = run_local(d, fsql, hooks, out_err);
            else rc = run_pipelined(d, pending, npending, fsql, hooks, out_err);
            /* A final query that does not bind (before any row: a column the
             * catalog cache did not know yet, a name taken for a column) runs
             * again as the fallback plan. */
            retry = rc == MD_ESQL && !(flags & MD_SPLIT_FALLBACK) && is_bind_error(*out_err);
            char line[200];
            snprintf(line, sizeof line, "FINAL (%c): %.1f ms, its plan:", root == MD_SITE_LOCAL ? 'L' : 'R',
                     md_now_ms_f() - t0);
            cJSON_AddItemToArray(actual, cJSON_CreateString(line));
            if (rc == MD_OK && analyze) {
                cJSON *lines = cJSON_Duplicate(cJSON_GetObjectItem(plan, "plan_text"), 1);
                const cJSON *a;
                cJSON_ArrayForEach(a, actual) cJSON_AddItemToArray(lines, cJSON_Duplicate(a, 1));
                rc = answer_plan(d, "analyzed_plan", lines, analyzed, hooks, out_err);
                cJSON_Delete(lines);
            }
            md_free(analyzed);
            if (rc == MD_OK && *jstr(plan, "prefix")) d->dirty[root] = 1;
        }
        md_free(pending);
        drop_bridges(d, bridges, root);
        cJSON_Delete(actual);
        cJSON_Delete(plan);
        if (!retry) return rc;
        md_free(*out_err);
        *out_err = NULL;
        flags |= MD_SPLIT_FALLBACK;
    }
    return MD_OK;
}

/* ---- statements ------------------------------------------------------------------ */

static int changes_catalog(const md_sql_stmt *st) {
    return st->kind == MD_SQL_DDL || st->kind == MD_SQL_ATTACH || st->kind == MD_SQL_DETACH ||
           st->kind == MD_SQL_USE || st->kind == MD_SQL_SERVER;
}

int md_dual_run(md_dual *d, const char *sql, const md_dual_hooks *hooks, md_dual_stats *out_stats,
                char **out_err) {
    md_sql_script *script;
    md_sql_error se;
    int rc = md_sql_classify(sql, strlen(sql), &script, &se);
    if (rc != MD_OK) {
        *out_err = md_strdup(se.message);
        return rc;
    }
    md_dual_stats stats;
    memset(&stats, 0, sizeof stats);
    for (size_t i = 0; i < script->nstmts && rc == MD_OK; i++) {
        const md_sql_stmt *cs = &script->stmts[i];
        char *saved = NULL;
        md_router_state_json(d->router, &saved);
        md_route_plan *plan;
        rc = md_router_route(d->router, sql + cs->start, cs->end - cs->start, 0, &plan, &se);
        if (rc != MD_OK) {
            *out_err = md_strdup(se.message);
            md_free(saved);
            break;
        }
        const md_sql_stmt *st = &plan->script->stmts[0];
        const md_route_stmt *rs = &plan->stmts[0];
        snprintf(stats.where, sizeof stats.where, "%s", md_route_name(rs->route));
        char *stmt_sql = md_strndup(sql + cs->start, cs->end - cs->start);
        switch (rs->route) {
        case MD_ROUTE_LOCAL: rc = run_local(d, rs->text, hooks, out_err); break;
        case MD_ROUTE_REMOTE:
        case MD_ROUTE_SERVER: rc = run_remote(d, rs->text, hooks, out_err); break;
        case MD_ROUTE_HYBRID: rc = run_hybrid(d, stmt_sql, hooks, &stats, out_err); break;
        default:
            *out_err = md_strdup(rs->error.message);
            rc = rs->error.code ? rs->error.code : MD_EUNSUPPORTED;
            break;
        }
        md_free(stmt_sql);
        md_site site = rs->route == MD_ROUTE_LOCAL ? MD_SITE_LOCAL : MD_SITE_REMOTE;
        if (rc == MD_OK && rs->mirror && (rs->route == MD_ROUTE_LOCAL || rs->route == MD_ROUTE_REMOTE)) {
            /* a session option: the other site too, so split queries see it at both */
            char *merr = NULL;
            int mrc = site == MD_SITE_LOCAL ? run_remote(d, rs->text, NULL, &merr) : run_local(d, rs->text, NULL, &merr);
            if (mrc != MD_OK)
                snprintf(stats.notice, sizeof stats.notice, "%s ran %s; %s refused it: %s", st->verb,
                         site == MD_SITE_LOCAL ? "locally" : "on the server",
                         site == MD_SITE_LOCAL ? "the server" : "the local DuckDB", merr ? merr : "unknown error");
            md_free(merr);
        }
        if (rc != MD_OK) {
            char *ignored = NULL;
            md_router_set_state_json(d->router, saved, strlen(saved), &ignored);
            md_free(ignored);
            if (rc == MD_ESQL || rc == MD_EUNSUPPORTED || rc == MD_ETOO_LARGE || rc == MD_EINVAL) {
                char *e2 = NULL; /* the router's catalog changes are undone by reading it again */
                if (refresh(d, MD_SITE_LOCAL, &e2) == MD_OK) refresh(d, MD_SITE_REMOTE, &e2);
                md_free(e2);
            }
        } else if (changes_catalog(st)) {
            char *e2 = NULL;
            rc = refresh(d, site, &e2);
            if (rc == MD_OK && rs->route == MD_ROUTE_HYBRID) rc = refresh(d, md_site_other(site), &e2);
            if (rc != MD_OK) *out_err = e2;
            else md_free(e2);
        } else if (st->kind == MD_SQL_DML) {
            d->dirty[site] = 1;
        }
        md_free(saved);
        md_route_plan_free(&plan);
    }
    md_sql_script_free(&script);
    if (rc == MD_OK && out_stats) *out_stats = stats;
    return rc;
}

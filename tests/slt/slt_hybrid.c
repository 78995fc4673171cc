/*
 * slt_hybrid.c: `build/slt-hybrid`, DuckDB's sqllogictest files replayed
 * with each statement run on a placement's site -- a native in-memory
 * DuckDB (local) or a real ./mdserver on loopback (remote) -- and every
 * query result compared with the file's expected output.
 *
 *   build/slt-hybrid [--placement local|remote] [--url WS --token T] FILE...
 *
 * Without --url it starts ./mdserver (or $MDSERVER) itself on a free port
 * with a fresh data directory and stops it at the end.  Each file gets a
 * fresh local DuckDB and a fresh server database (CREATE DATABASE, USE,
 * then DROP).  Remote results come back as Arrow and are read into a
 * scratch native DuckDB (server/duckdb/upload.c's arrays path), so both sites'
 * values are printed by the same DuckDB casts, as DuckDB's own runner
 * prints them: NULL, (empty) for '', everything else as VARCHAR.
 *
 * `--placement random [--seed N]` spreads the tables over both sites: each
 * CREATE TABLE runs in the local DuckDB or on the server as a hash of the
 * seed, the file (its name in the corpus) and the table's name decides, and every statement then
 * goes through the dual-execution engine (server/client/dual.c), which splits the
 * queries that read both sites.  Views are created where the tables they
 * read are (both sites: the server, where the view then fails to bind --
 * such a view cannot exist).  Results come back as Arrow batches, local
 * and remote alike, and are read into the scratch DuckDB.
 *
 * `--host wasm` (build/slt-wasm) runs every statement the way the page
 * does instead: through the C driver compiled to WebAssembly and the page's
 * host of it (ui/js/runtime.js), in Node (tests/slt/wasm_host.mjs), with
 * duckdb-wasm's Node build as the local site and this run's server as the
 * remote one.  `--placement local` then creates the tables in duckdb-wasm,
 * `remote` on the server, `random` as above; results come back as Arrow IPC
 * and are read into the scratch DuckDB like the others.
 *
 * Output: one line per failure (file:line, the SQL, what differed), each
 * skip reason with its count, then "N passed, N failed, N skipped".  Exit
 * 0 when nothing failed, 1 when something did, 2 when it could not run.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mbedtls/md5.h>

#include <cjson/cJSON.h>

#include <duckdb.h>
#include "server/client/dual.h"
#include "server/client/rclient.h"
#include "server/duckdb/upload.h"
#include "shared/arrow_ipc.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/sql_classify.h"
#include "shared/sql_lexer.h"
#include "slt_file.h"
#include "wasm_client.h"

typedef enum placement { LOCAL, REMOTE, RANDOM } placement;

/* A statement's outcome: error (malloc'd) or values (row-major). */
typedef struct outcome {
    char *error;
    char **values;
    size_t nvalues;
    size_t ncols;
} outcome;

typedef struct reason_count {
    char *reason;
    long n;
} reason_count;

static struct {
    placement where;
    md_rclient *remote;
    const char *url, *token; /* of the server */
    int timeout_ms;          /* per server query */
    duckdb_database scratch_db; /* remote results are read into this */
    duckdb_connection scratch;
    long passed, failed, skipped;
    reason_count *reasons;
    size_t nreasons;
    int file_no;
    int sqlite; /* the file is one of SQLite's own (see run_file) */
    unsigned seed;
    const char *path;  /* the file being run */
    char *dbname;      /* its database on the server */
    md_dual *dual;     /* RANDOM: the engine for the file */
    int local_active;  /* RANDOM: the engine's current database is the local one */
    long hybrid;       /* RANDOM: statements that were split */
    char *plan_option; /* a planner option of the file the server refused (see skip_locked) */
    slt_wasm *wasm;    /* --host wasm: the JS host every statement goes to */
} R;

static void count_skip(const char *reason, long n) {
    R.skipped += n;
    for (size_t i = 0; i < R.nreasons; i++)
        if (strcmp(R.reasons[i].reason, reason) == 0) {
            R.reasons[i].n += n;
            return;
        }
    R.reasons = md_realloc(R.reasons, (R.nreasons + 1) * sizeof *R.reasons);
    R.reasons[R.nreasons++] = (reason_count){md_strdup(reason), n};
}

static void outcome_free(outcome *o) {
    md_free(o->error);
    for (size_t i = 0; i < o->nvalues; i++) md_free(o->values[i]);
    md_free(o->values);
    memset(o, 0, sizeof *o);
}

/* The values of a materialized result, printed as DuckDB's runner does
 * (for SQLite's own files, numbers that are not integers as integers). */
static void take_values(duckdb_result *r, outcome *o) {
    idx_t rows = duckdb_row_count(r), cols = duckdb_column_count(r);
    o->ncols = cols;
    o->values = rows && cols ? md_calloc(rows * cols, sizeof *o->values) : NULL;
    for (idx_t c = 0; c < cols; c++) {
        duckdb_type t = duckdb_column_type(r, c);
        int as_int = R.sqlite && (t == DUCKDB_TYPE_DECIMAL || t == DUCKDB_TYPE_FLOAT || t == DUCKDB_TYPE_DOUBLE);
        for (idx_t i = 0; i < rows; i++) {
            char *v = NULL;
            if (duckdb_value_is_null(r, c, i)) v = NULL;
            else if (as_int) {
                char num[32];
                snprintf(num, sizeof num, "%lld", (long long)duckdb_value_int64(r, c, i));
                v = duckdb_malloc(strlen(num) + 1);
                strcpy(v, num);
            } else
                v = duckdb_value_varchar(r, c, i);
            o->values[i * cols + c] = md_strdup(!v ? "NULL" : *v ? v : "(empty)");
            duckdb_free(v);
        }
    }
    o->nvalues = rows * cols;
}

/* SQLite's files expect integer division; DuckDB's runner sets
 * integer_division for them, which a server session may not (its
 * configuration is locked), so both sites get `/` written as DuckDB's `//`
 * instead: the same for integers, which is what those files divide. */
static char *sqlite_division(const char *sql) {
    md_sql_token *toks = NULL;
    size_t n = 0;
    md_sql_error e;
    if (md_sql_lex(sql, strlen(sql), 0, &toks, &n, &e) != MD_OK) return md_strdup(sql);
    md_buf b = MD_BUF_INIT;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (toks[i].type == MD_TOK_OP && toks[i].len == 1 && sql[toks[i].off] == '/') {
            md_buf_append(&b, sql + at, toks[i].off - at);
            md_buf_append(&b, "//", 2);
            at = toks[i].off + 1;
        }
    }
    md_buf_append(&b, sql + at, strlen(sql) - at);
    md_buf_put_u8(&b, 0);
    md_free(toks);
    size_t len;
    return (char *)md_buf_detach(&b, &len);
}

static void query_values(duckdb_connection c, const char *sql, outcome *o) {
    duckdb_result r;
    if (duckdb_query(c, sql, &r) == DuckDBError) o->error = md_strdup(duckdb_result_error(&r));
    else take_values(&r, o);
    duckdb_destroy_result(&r);
}

/* The values of table `t` (a result kept in a temp table), every column
 * cast to VARCHAR by DuckDB: how DuckDB's runner prints values, for every
 * type (the C API's own value reader does not print them all). */
static void table_values(duckdb_connection c, const char *t, outcome *o) {
    char *q = R.sqlite ? md_asprintf("SELECT * FROM %s", t) : md_asprintf("SELECT COLUMNS(*)::VARCHAR FROM %s", t);
    query_values(c, q, o);
    md_free(q);
}

static void run_local(duckdb_connection c, const char *sql, outcome *o) {
    /* a query's result is kept in a temp table first (keeping its order),
     * so that it prints as a remote one does; statements that cannot be
     * a CREATE TABLE ... AS (PRAGMA, SHOW, INSERT ... RETURNING) run as
     * they are */
    char *ctas = md_asprintf("CREATE OR REPLACE TEMP TABLE slt_local_result AS %s", sql);
    duckdb_result r;
    int kept = duckdb_query(c, ctas, &r) == DuckDBSuccess;
    duckdb_destroy_result(&r);
    md_free(ctas);
    if (kept) table_values(c, "temp.main.slt_local_result", o);
    else query_values(c, sql, o);
}

typedef struct remote_ctx {
    md_upload *up;
    int batches;
    char *err;
} remote_ctx;

/* Does `rc` mean the connection to the server is gone?  Anything else
 * (SQL errors, a refused upload, a lock) is that statement's outcome. */
static int connection_lost(int rc) {
    return rc == MD_EIO || rc == MD_EEOF || rc == MD_EDISCONNECTED || rc == MD_ETIMEOUT || rc == MD_EPROTOCOL;
}

/* A failure to read a batch locally is kept for the outcome, not returned:
 * an error from a hook would close the connection (rclient.h). */
static int on_batch(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err) {
    remote_ctx *rc = ctx;
    if (rc->err) return MD_OK;
    int e = MD_OK;
    if (!rc->up) {
        rc->up = md_upload_begin(R.scratch, "slt_remote_result", 0);
        e = md_upload_schema(rc->up, schema, &rc->err);
    }
    if (e == MD_OK) e = md_upload_batch(rc->up, batch, &rc->err);
    rc->batches++;
    return MD_OK;
}

static void run_remote(const char *sql, outcome *o) {
    remote_ctx ctx = {NULL, 0, NULL};
    md_rclient_hooks hooks = {.on_batch = on_batch, .ctx = &ctx};
    md_rclient_stats st;
    char *err = NULL;
    int rc = md_rclient_query(R.remote, sql, &hooks, &st, &err);
    if (rc == MD_OK && ctx.err) {
        o->error = md_asprintf("the result cannot be read back locally: %s", ctx.err);
        md_free(ctx.err);
        md_upload_end(&ctx.up);
        return;
    }
    md_free(ctx.err);
    if (rc == MD_OK && ctx.up) {
        int64_t rows;
        uint64_t bytes;
        rc = md_upload_finish(ctx.up, &rows, &bytes, &err);
        if (rc == MD_OK) table_values(R.scratch, "temp.main.slt_remote_result", o);
    }
    if (rc != MD_OK) o->error = err ? err : md_strdup("the server failed the request");
    else md_free(err);
    md_upload_end(&ctx.up);
    if (connection_lost(rc)) {
        fprintf(stderr, "slt-hybrid: the connection to the server failed: %s\n", o->error);
        exit(2);
    }
}

/* ---- random placement: the dual engine -------------------------------------------- */

/* The file as the corpus names it (what follows the last "slt/"): the
 * placement must not depend on where the corpus lies or how it was named. */
static const char *corpus_name(const char *path) {
    const char *key = path;
    for (const char *p = strstr(path, "slt/"); p; p = strstr(p + 1, "slt/"))
        if (p == path || p[-1] == '/') key = p + 4;
    return key;
}

/* FNV-1a of the seed, the file and the name: the table's site (under
 * --host wasm, local and remote placements put every table at theirs). */
static int goes_local(const char *name) {
    if (R.where != RANDOM) return R.where == LOCAL;
    uint32_t h = 2166136261u ^ R.seed;
    const char *parts[2] = {corpus_name(R.path), name};
    for (int k = 0; k < 2; k++)
        for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++) h = (h ^ (uint32_t)tolower(*p)) * 16777619u;
    h ^= h >> 15;
    return (h & 1) != 0;
}

/* An Arrow IPC stream's batches, to hooks. */
static int feed_ipc(const uint8_t *p, size_t len, const md_dual_hooks *hooks, char **err) {
    md_ipc_reader *r = md_ipc_reader_create(0);
    struct ArrowSchema schema;
    memset(&schema, 0, sizeof schema);
    int rc = MD_OK;
    for (size_t off = 0; rc == MD_OK && off < len;) {
        size_t used;
        md_ipc_message_kind kind;
        struct ArrowArray batch;
        memset(&batch, 0, sizeof batch);
        rc = md_ipc_reader_next(r, p + off, len - off, &used, &kind, &batch, err);
        if (rc != MD_OK) break;
        off += used;
        if (kind == MD_IPC_SCHEMA) rc = md_ipc_reader_schema(r, &schema);
        else if (kind == MD_IPC_BATCH) rc = hooks->on_batch(hooks->ctx, &schema, &batch, err);
        if (batch.release) batch.release(&batch);
        if (kind == MD_IPC_EOS) break;
    }
    if (schema.release) schema.release(&schema);
    md_ipc_reader_destroy(&r);
    return rc;
}

/* A request to the JS host (takes `req`): MD_OK with the result's batches
 * to hooks and where it ran in where[0..wn), or the statement's error. */
static int wasm_call(cJSON *req, const md_dual_hooks *hooks, char *where, size_t wn, char **err) {
    char *text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    char *header;
    uint8_t *ipc;
    size_t len;
    if (slt_wasm_request(R.wasm, text, &header, &ipc, &len) != 0) {
        fprintf(stderr, "slt-wasm: the JS host stopped\n");
        exit(2);
    }
    cJSON_free(text);
    cJSON *h = cJSON_Parse(header);
    md_free(header);
    int rc = MD_OK;
    if (cJSON_IsTrue(cJSON_GetObjectItem(h, "ok"))) {
        const cJSON *w = cJSON_GetObjectItem(h, "where");
        if (where) snprintf(where, wn, "%s", cJSON_IsString(w) ? w->valuestring : "");
        if (ipc && hooks) rc = feed_ipc(ipc, len, hooks, err);
    } else {
        const cJSON *code = cJSON_GetObjectItem(h, "code"), *msg = cJSON_GetObjectItem(h, "message");
        rc = cJSON_IsString(code) ? md_errcode(code->valuestring) : MD_EINTERNAL;
        *err = md_strdup(cJSON_IsString(msg) ? msg->valuestring : "the JS host gave no reason");
    }
    cJSON_Delete(h);
    md_free(ipc);
    return rc;
}

static cJSON *wasm_request(const char *op) {
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "op", op);
    return req;
}

/* Run `sql` through the dual engine: natively (server/client/dual.c) or in the JS
 * host (--host wasm).  Results to hooks (NULL: dropped); where the last
 * statement ran in where[0..wn). */
static int dual_exec(const char *sql, const md_dual_hooks *hooks, char *where, size_t wn, char **err) {
    if (R.wasm) {
        cJSON *req = wasm_request("run");
        cJSON_AddStringToObject(req, "sql", sql);
        cJSON_AddNumberToObject(req, "timeout_ms", R.timeout_ms);
        return wasm_call(req, hooks, where, wn, err);
    }
    md_dual_stats st;
    int rc = md_dual_run(R.dual, sql, hooks, &st, err);
    if (rc == MD_OK && where) snprintf(where, wn, "%s", st.where);
    return rc;
}

static int dual_quiet(const char *sql) {
    char *err = NULL;
    int rc = dual_exec(sql, NULL, NULL, 0, &err);
    if (rc != MD_OK) fprintf(stderr, "slt-hybrid: %s: %s\n", sql, err ? err : "failed");
    md_free(err);
    return rc;
}

/* Make the engine's current database the local one (or the server's). */
static void use_site(int local) {
    if (local == R.local_active) return;
    char *use = local ? md_strdup("USE memory") : md_asprintf("USE %s", R.dbname);
    if (dual_quiet(use) == MD_OK) R.local_active = local;
    md_free(use);
}

/* Where the statement's unqualified CREATE TABLE / VIEW should run, or -1. */
static int placement_of(const char *sql) {
    md_sql_script *sc;
    md_sql_error e;
    if (md_sql_classify(sql, strlen(sql), &sc, &e) != MD_OK) return -1;
    int where = -1;
    if (sc->nstmts == 1 && sc->stmts[0].kind == MD_SQL_DDL) {
        const md_sql_stmt *st = &sc->stmts[0];
        for (size_t k = 0; k < st->nrels && where < 0; k++) {
            const md_sql_rel *rel = &st->rels[k];
            if (rel->type == MD_SQL_REL_TABLE && rel->effect == MD_SQL_EFFECT_CREATE && !rel->temporary &&
                rel->nparts == 1)
                where = goes_local(rel->parts[0]);
        }
        if (where >= 0 && strcmp(st->verb, "CREATE VIEW") == 0) { /* where its first table is */
            for (size_t k = 0; k < st->nrels; k++) {
                const md_sql_rel *rel = &st->rels[k];
                if (rel->type == MD_SQL_REL_TABLE && (rel->access & MD_SQL_READ) && rel->effect == MD_SQL_EFFECT_NONE) {
                    where = goes_local(rel->parts[rel->nparts - 1]);
                    break;
                }
            }
        }
    }
    md_sql_script_free(&sc);
    return where;
}

/* A session option (SET, RESET, PRAGMA naming no table): 1.  Under random
 * placement it must hold at both sites, since a split query runs at both;
 * it is run on the local connection too.  PRAGMA enable_verification and
 * the verify_ pragmas (devices of DuckDB's own runner: every query is re-run
 * several ways and compared) run only on the local connection: the server
 * refuses them (they are not a session's to set), and DuckDB 1.4's appender,
 * which the bridges use, fails under enable_verification ("syntax error at
 * or near -" for negative values). */
static int session_option(const char *sql, int *local_only) {
    md_sql_script *sc;
    md_sql_error e;
    if (md_sql_classify(sql, strlen(sql), &sc, &e) != MD_OK) return 0;
    int yes = sc->nstmts == 1 && sc->stmts[0].kind == MD_SQL_OTHER && sc->stmts[0].nrels == 0 &&
              (strncmp(sc->stmts[0].verb, "SET", 3) == 0 || strncmp(sc->stmts[0].verb, "RESET", 5) == 0 ||
               strncmp(sc->stmts[0].verb, "PRAGMA", 6) == 0);
    md_sql_script_free(&sc);
    *local_only = yes && (strcasestr(sql, "_verification") || strcasestr(sql, "verify_"));
    return yes;
}

/*
 * A server session may change only the session options on the server's list
 * (shared/session_option.h): not threads, memory_limit, checkpointing and
 * the like.  When a file's SET or PRAGMA is refused for that reason, the
 * file cannot run as written on the server.  For options that choose a plan
 * or a resource, never a result, the file goes on (its results must not
 * change) and the statement is skipped; after any other option the rest of
 * the file is skipped, since its expected results assume the option.
 * Either way the reason is counted and printed.
 */
static const char *const plan_only_options[] = {
    "threads", "merge_join_threshold", "nested_loop_join_threshold", "asof_loop_join_threshold",
    "prefer_range_joins", "perfect_ht_threshold", "disabled_optimizers", "late_materialization_max_rows",
    "debug_force_external", "debug_asof_iejoin", "wal_autocheckpoint", "checkpoint_threshold", "memory_limit",
    "max_memory", "ordered_aggregate_threshold", "dynamic_or_filter_threshold", "debug_force_no_cross_product",
};

/* The option the server's refusal of a SET names (malloc'd, lower case), or
 * NULL when `err` is another error.  duckdb-wasm, built without threads,
 * refuses `threads` as the server does. */
static char *locked_option(const char *err) {
    static const char intro[] = "does not let a session change \"";
    if (R.wasm && err && strstr(err, "DuckDB was compiled without threads")) return md_strdup("threads");
    const char *p = err ? strstr(err, intro) : NULL;
    if (!p) return NULL;
    p += sizeof intro - 1;
    const char *q = strchr(p, '"');
    if (!q) return NULL;
    char *name = md_strndup(p, (size_t)(q - p));
    for (char *c = name; *c; c++) *c = (char)tolower((unsigned char)*c);
    return name;
}

/* Records of the file from i on that would run (statements and queries). */
static long runnable_from(const slt_file *f, size_t i) {
    long n = 0;
    for (; i < f->n && f->records[i].kind != SLT_HALT; i++)
        n += f->records[i].kind == SLT_STATEMENT || f->records[i].kind == SLT_QUERY;
    return n;
}

/* Handle record i refused as locked option `name`: returns 1 when the rest
 * of the file was skipped. */
static int skip_locked(const slt_file *f, size_t i, const char *name) {
    for (size_t k = 0; k < sizeof plan_only_options / sizeof *plan_only_options; k++) {
        if (strcmp(name, plan_only_options[k]) == 0) {
            char *why = md_asprintf("SET %s, which a server session%s may not change (it chooses plans, not "
                                    "results: the file goes on without it)",
                                    name, R.wasm ? " or duckdb-wasm" : "");
            count_skip(why, 1);
            md_free(why);
            if (!R.plan_option) R.plan_option = md_strdup(name); /* EXPLAIN would show the plan it chose */
            return 0;
        }
    }
    char *why = md_asprintf("the rest of a file after SET %s, which a server session may not change", name);
    count_skip(why, runnable_from(f, i));
    md_free(why);
    printf("SKIP %s:%d and the rest of the file: the server refuses SET %s\n", R.path,
           f->records[i].line, name);
    return 1;
}

static void run_dual(duckdb_connection local, const char *sql, outcome *o) {
    int local_only = 0;
    if (R.wasm && session_option(sql, &local_only)) {
        if (local_only) { /* in duckdb-wasm alone (see session_option) */
            cJSON *req = wasm_request("local");
            cJSON_AddStringToObject(req, "sql", sql);
            char *err = NULL;
            if (wasm_call(req, NULL, NULL, 0, &err) != MD_OK) o->error = err;
            else md_free(err);
            return;
        }
        /* the driver runs it at both sites */
    } else if (session_option(sql, &local_only)) {
        if (local_only) return;
        duckdb_result r;
        duckdb_query(local, sql, &r); /* the outcome is the server's */
        duckdb_destroy_result(&r);
        run_remote(sql, o); /* at the server whichever site is current */
        return;
    }
    int site = placement_of(sql);
    if (site >= 0) use_site(site);
    remote_ctx ctx = {NULL, 0, NULL};
    md_dual_hooks hooks = {.on_batch = on_batch, .ctx = &ctx};
    char where[16] = "";
    char *err = NULL;
    int rc = dual_exec(sql, &hooks, where, sizeof where, &err);
    if (rc == MD_OK && strcmp(where, "hybrid") == 0) R.hybrid++;
    if (rc == MD_OK && ctx.err) {
        o->error = md_asprintf("the result cannot be read back locally: %s", ctx.err);
        rc = MD_EINVAL;
    } else if (rc == MD_OK && ctx.up) {
        int64_t rows;
        uint64_t bytes;
        rc = md_upload_finish(ctx.up, &rows, &bytes, &err);
        if (rc == MD_OK) table_values(R.scratch, "temp.main.slt_remote_result", o);
        else o->error = err;
        err = NULL;
    } else if (rc != MD_OK) {
        o->error = err ? err : md_strdup("the statement failed");
        err = NULL;
    }
    md_free(err);
    md_free(ctx.err);
    md_upload_end(&ctx.up);
    if (connection_lost(rc)) {
        fprintf(stderr, "slt-hybrid: the connection to the server failed: %s\n", o->error);
        exit(2);
    }
}

static void run(duckdb_connection local, const char *sql, outcome *o) {
    char *rewritten = R.sqlite ? sqlite_division(sql) : NULL;
    if (rewritten) sql = rewritten;
    if (R.wasm || R.where == RANDOM) run_dual(local, sql, o);
    else if (R.where == LOCAL) run_local(local, sql, o);
    else run_remote(sql, o);
    md_free(rewritten);
}

/* ---- comparing ---------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static size_t sort_cols; /* for cmp_row */

static int cmp_row(const void *a, const void *b) {
    char **x = *(char **const *)a, **y = *(char **const *)b;
    for (size_t i = 0; i < sort_cols; i++) {
        int c = strcmp(x[i], y[i]);
        if (c) return c;
    }
    return 0;
}

/* Sort values (n of them, ncols per row) in place per the sort mode. */
static void sort_values(char **v, size_t n, size_t ncols, slt_sort sort) {
    if (sort == SLT_VALUESORT) qsort(v, n, sizeof *v, cmp_str);
    if (sort != SLT_ROWSORT || ncols == 0 || n % ncols != 0 || n == 0) return;
    size_t rows = n / ncols;
    char ***idx = md_malloc(rows * sizeof *idx);
    char **tmp = md_malloc(n * sizeof *tmp);
    for (size_t r = 0; r < rows; r++) idx[r] = v + r * ncols;
    sort_cols = ncols;
    qsort(idx, rows, sizeof *idx, cmp_row);
    for (size_t r = 0; r < rows; r++) memcpy(tmp + r * ncols, idx[r], ncols * sizeof *tmp);
    memcpy(v, tmp, n * sizeof *tmp);
    md_free(tmp);
    md_free(idx);
}

/* Equal as DuckDB's runner compares (it casts the file's text to the
 * result's type): the same text in any case (True, NAN), or, for numbers
 * that are not both integers, within 1% (its approximate float equality). */
static int error_matches(const char *expected, const char *got);

/* `s` without blanks at either end into out (n bytes): 0 when it does not fit. */
static int trimmed(const char *s, char *out, size_t n) {
    while (isspace((unsigned char)*s)) s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1])) len--;
    if (len >= n) return 0;
    memcpy(out, s, len);
    out[len] = 0;
    return 1;
}

static int same_value(const char *a, const char *b) {
    if (strcasecmp(a, b) == 0) return 1;
    if (strncmp(b, "<REGEX>:", 8) == 0 || strncmp(b, "<!REGEX>:", 9) == 0) return error_matches(b, a);
    /* a BOOLEAN result against the file's 1 / 0 */
    if ((strcmp(a, "true") == 0 && strcmp(b, "1") == 0) || (strcmp(a, "false") == 0 && strcmp(b, "0") == 0))
        return 1;
    /* numbers: the file's text is cast to the result's type, so blanks
     * around it do not count */
    char ta[64], tb[64];
    if (!trimmed(a, ta, sizeof ta) || !trimmed(b, tb, sizeof tb)) return 0;
    char *ea, *eb;
    errno = 0;
    double x = strtod(ta, &ea), y = strtod(tb, &eb);
    if (!*ta || !*tb || *ea || *eb) return 0;
    if (!strpbrk(ta, ".eEnN") && !strpbrk(tb, ".eEnN")) { /* integers: exactly */
        const char *p = ta + (*ta == '+'), *q = tb + (*tb == '+');
        return strcmp(p, q) == 0;
    }
    if (errno) return 0;
    if (isnan(x) && isnan(y)) return 1;
    return fabs(x - y) <= fabs(y) * 0.01 + 1e-8;
}

static void md5_hex(char **v, size_t n, char out[33]) {
    mbedtls_md5_context m;
    unsigned char d[16];
    mbedtls_md5_init(&m);
    mbedtls_md5_starts_ret(&m);
    for (size_t i = 0; i < n; i++) {
        mbedtls_md5_update_ret(&m, (const unsigned char *)v[i], strlen(v[i]));
        mbedtls_md5_update_ret(&m, (const unsigned char *)"\n", 1);
    }
    mbedtls_md5_finish_ret(&m, d);
    mbedtls_md5_free(&m);
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* NULL when the result matches; else a malloc'd sentence saying how not. */
/* A result kept under its label (slt_record.label), for the file's later
 * queries of that label. */
typedef struct labelled {
    char *label;
    char **values;
    size_t n;
} labelled;

static labelled *labels;
static size_t nlabels;

static void labels_clear(void) {
    for (size_t i = 0; i < nlabels; i++) {
        for (size_t k = 0; k < labels[i].n; k++) md_free(labels[i].values[k]);
        md_free(labels[i].values);
        md_free(labels[i].label);
    }
    md_free(labels);
    labels = NULL;
    nlabels = 0;
}

static labelled *find_label(const char *label) {
    for (size_t i = 0; i < nlabels; i++)
        if (strcmp(labels[i].label, label) == 0) return &labels[i];
    return NULL;
}

static void keep_label(const char *label, char **values, size_t n) {
    labels = md_realloc(labels, (nlabels + 1) * sizeof *labels);
    labelled *l = &labels[nlabels++];
    l->label = md_strdup(label);
    l->values = md_malloc((n ? n : 1) * sizeof *l->values);
    for (size_t i = 0; i < n; i++) l->values[i] = md_strdup(values[i]);
    l->n = n;
}

/* The file's expected values: rows of tab-separated values (as DuckDB's
 * runner splits them, empty fields dropped: an empty string prints as
 * "(empty)"), or, SQLite style, one value per line. */
static char **expected_values(const slt_record *r, size_t ncols, size_t *out_n) {
    size_t nexp = 0;
    char **exp = NULL;
    int by_row = 1;
    for (size_t i = 0; i < r->nexpected && by_row; i++) {
        size_t fields = 0;
        for (const char *p = r->expected[i]; *p;) {
            size_t len = strcspn(p, "\t");
            fields += len > 0;
            p += len;
            p += strspn(p, "\t");
        }
        by_row = fields == ncols;
    }
    for (size_t i = 0; i < r->nexpected; i++) {
        if (!by_row) {
            exp = md_realloc(exp, (nexp + 1) * sizeof *exp);
            exp[nexp++] = md_strdup(r->expected[i]);
            continue;
        }
        for (const char *p = r->expected[i]; *p;) {
            size_t len = strcspn(p, "\t");
            if (len) {
                exp = md_realloc(exp, (nexp + 1) * sizeof *exp);
                exp[nexp++] = md_strndup(p, len);
            }
            p += len;
            p += strspn(p, "\t");
        }
    }
    *out_n = nexp;
    return exp;
}

static char *compare(const slt_record *r, outcome *o) {
    size_t ncols = strlen(r->types);
    long count;
    char hash[64];
    int hashed = r->nexpected == 1 && sscanf(r->expected[0], "%ld values hashing to %40s", &count, hash) == 2;
    /* a hash, or an earlier labelled result, covers every value whatever the file's column
     * letters say, as in DuckDB's runner */
    if ((hashed || (r->label && r->nexpected == 0)) && o->ncols) ncols = o->ncols;
    if (o->ncols && o->ncols != ncols) return md_asprintf("%zu columns, the file says %zu", o->ncols, ncols);
    sort_values(o->values, o->nvalues, ncols, r->sort);
    if (r->label && r->nexpected == 0) {
        const labelled *l = find_label(r->label);
        if (!l) {
            keep_label(r->label, o->values, o->nvalues);
            return NULL;
        }
        if (l->n != o->nvalues)
            return md_asprintf("%zu values, the earlier query labelled %s had %zu", o->nvalues, r->label, l->n);
        for (size_t i = 0; i < l->n; i++)
            if (strcmp(l->values[i], o->values[i]) != 0)
                return md_asprintf("value %zu is '%s', the earlier query labelled %s had '%s'", i + 1, o->values[i],
                                   r->label, l->values[i]);
        return NULL;
    }
    if (r->label && !find_label(r->label)) keep_label(r->label, o->values, o->nvalues);
    if (hashed) {
        char got[33];
        md5_hex(o->values, o->nvalues, got);
        if ((size_t)count != o->nvalues) return md_asprintf("%zu values, the file says %ld", o->nvalues, count);
        if (strcmp(got, hash) != 0) return md_asprintf("values hash to %s, the file says %s", got, hash);
        return NULL;
    }
    size_t nexp;
    char **exp = expected_values(r, ncols, &nexp);
    sort_values(exp, nexp, ncols, r->sort);
    char *why = NULL;
    if (nexp != o->nvalues) why = md_asprintf("%zu values, the file has %zu", o->nvalues, nexp);
    for (size_t i = 0; i < nexp && !why; i++)
        if (!same_value(o->values[i], exp[i]))
            why = md_asprintf("value %zu (row %zu) is '%s', the file says '%s'", i + 1, ncols ? i / ncols + 1 : 0,
                              o->values[i], exp[i]);
    for (size_t i = 0; i < nexp; i++) md_free(exp[i]);
    md_free(exp);
    return why;
}

/* Does an error message match what the file expects (a substring, or
 * <REGEX>:re / <!REGEX>:re)? */
static int error_matches(const char *expected, const char *got) {
    if (!expected || !*expected) return 1;
    int negate = strncmp(expected, "<!REGEX>:", 9) == 0;
    if (negate || strncmp(expected, "<REGEX>:", 8) == 0) {
        regex_t re;
        if (regcomp(&re, expected + (negate ? 9 : 8), REG_EXTENDED | REG_NOSUB) != 0) return 1;
        int m = regexec(&re, got, 0, NULL, 0) == 0;
        regfree(&re);
        return negate ? !m : m;
    }
    return strstr(got, expected) != NULL;
}

/* ---- files ------------------------------------------------------------------ */

/*
 * What duckdb-wasm itself cannot do (build/slt-wasm only): records that fail
 * with duckdb-wasm as the local site for a reason of its own, measured here.
 * Such a record is still run; when it fails it counts as skipped with the
 * reason, and when it passes with every table in duckdb-wasm (--placement
 * local) the runner says so, so that the list shrinks with each upgrade.
 */
static const struct {
    const char *file; /* as the corpus names it */
    int line;
    const char *reason;
} wasm_cannot[] = {
    {"sql/join/asof/test_asof_join_types.test", 23,
     "duckdb-wasm 1.32.0 runs DuckDB 1.4.3, whose ASOF SEMI and ANTI joins fail to bind (\"Failed to bind column "
     "reference\"; DuckDB 1.4.4 runs them)"},
    {"sql/join/asof/test_asof_join_types.test", 36,
     "duckdb-wasm 1.32.0 runs DuckDB 1.4.3, whose ASOF SEMI and ANTI joins fail to bind (\"Failed to bind column "
     "reference\"; DuckDB 1.4.4 runs them)"},
};

static const char *wasm_cannot_reason(const char *path, const slt_record *r) {
    for (size_t i = 0; R.wasm && i < sizeof wasm_cannot / sizeof *wasm_cannot; i++)
        if (wasm_cannot[i].line == r->line && strcmp(corpus_name(path), wasm_cannot[i].file) == 0)
            return wasm_cannot[i].reason;
    return NULL;
}

static void fail(const char *path, const slt_record *r, const char *why) {
    const char *cannot = wasm_cannot_reason(path, r);
    if (cannot) {
        count_skip(cannot, 1);
        printf("SKIP %s:%d: %s (it failed: %s)\n", path, r->line, cannot, why);
        return;
    }
    R.failed++;
    printf("FAIL %s:%d: %s\n    %.*s\n", path, r->line, why, 300, r->sql ? r->sql : "");
}

static void pass(const char *path, const slt_record *r) {
    R.passed++;
    if (R.where == LOCAL && wasm_cannot_reason(path, r)) /* it ran in duckdb-wasm */
        printf("NOTE %s:%d passes now: take it off slt_hybrid.c's wasm_cannot list\n", path, r->line);
}

/* (Re)connect to the server: a new session, in the state a new user's is. */
static void connect_server(void) {
    if (R.remote) md_rclient_close(&R.remote);
    char *err = NULL;
    if (md_rclient_connect(R.url, R.token, &R.remote, &err) != MD_OK) {
        fprintf(stderr, "slt-hybrid: cannot connect to %s: %s\n", R.url, err);
        exit(2);
    }
    md_rclient_set_timeout(R.remote, R.timeout_ms);
}

static void run_file(const char *path) {
    slt_file *f = NULL;
    char *err = NULL;
    if (slt_file_read(path, &f, &err) != 0) {
        count_skip(err, 1);
        md_free(err);
        return;
    }
    if (f->skip_file) {
        long n = 0;
        for (size_t i = 0; i < f->n; i++)
            n += f->records[i].kind == SLT_STATEMENT || f->records[i].kind == SLT_QUERY || f->records[i].kind == SLT_SKIP;
        printf("SKIP %s: %s (%ld records)\n", path, f->skip_file, n);
        count_skip(f->skip_file, n);
        slt_file_free(&f);
        return;
    }
    duckdb_database db = NULL;
    duckdb_connection local = NULL;
    char *dbname = md_asprintf("slt_%d_%d", (int)getpid(), ++R.file_no);
    /* as DuckDB's runner decides it: SQLite's own files (their hashes were
     * made by SQLite) */
    R.sqlite = strstr(path, "sqlite") != NULL || strstr(path, "sqllogictest") != NULL;
    R.path = path;
    R.dbname = dbname;
    if (R.where != REMOTE && !R.wasm) {
        duckdb_open(NULL, &db);
        duckdb_connect(db, &local);
    }
    if (R.where != LOCAL || R.wasm) {
        connect_server(); /* a fresh session per file, as DuckDB's runner opens a fresh database */
        char *setup = md_asprintf("CREATE DATABASE %s; USE %s", dbname, dbname);
        outcome o = {0};
        run_remote(setup, &o);
        if (o.error) {
            fprintf(stderr, "slt-hybrid: cannot make a database on the server: %s\n", o.error);
            exit(2);
        }
        outcome_free(&o);
        md_free(setup);
    }
    if (R.wasm) { /* a fresh session and duckdb-wasm for the file, in the JS host */
        cJSON *req = wasm_request("open");
        cJSON_AddStringToObject(req, "url", R.url);
        cJSON_AddStringToObject(req, "token", R.token);
        cJSON_AddStringToObject(req, "database", dbname);
        char *why = NULL;
        if (wasm_call(req, NULL, NULL, 0, &why) != MD_OK) {
            fprintf(stderr, "slt-wasm: the JS host cannot open a session: %s\n", why);
            exit(2);
        }
        R.local_active = 0;
    } else if (R.where == RANDOM) {
        char *why = NULL;
        if (md_dual_create(local, R.remote, dbname, &R.dual, &why) != MD_OK) {
            fprintf(stderr, "slt-hybrid: cannot start the dual engine: %s\n", why);
            exit(2);
        }
        R.local_active = 0;
    }
    for (size_t i = 0; i < f->n; i++) {
        slt_record *r = &f->records[i];
        if (r->kind == SLT_HALT) break;
        if (r->kind == SLT_SKIP) {
            count_skip(r->reason, 1);
            continue;
        }
        if (R.plan_option && r->kind == SLT_QUERY && strncasecmp(r->sql + strspn(r->sql, " \t\n"), "EXPLAIN", 7) == 0) {
            char *why = md_asprintf("EXPLAIN after SET %s, which a server session may not change", R.plan_option);
            count_skip(why, 1);
            md_free(why);
            continue;
        }
        outcome o = {0};
        run(local, r->sql, &o);
        char *locked = r->kind == SLT_STATEMENT ? locked_option(o.error) : NULL;
        if (locked) {
            int rest = skip_locked(f, i, locked);
            md_free(locked);
            outcome_free(&o);
            if (rest) break;
            continue;
        }
        if (r->kind == SLT_STATEMENT) {
            if (r->expect == SLT_MAYBE || (r->expect == SLT_OK && !o.error) ||
                (r->expect == SLT_ERROR && o.error && error_matches(r->error_text, o.error)))
                pass(path, r);
            else if (r->expect == SLT_OK)
                fail(path, r, o.error);
            else if (!o.error)
                fail(path, r, "succeeded, the file expects an error");
            else {
                char *why = md_asprintf("the error '%s' is not the expected '%s'", o.error, r->error_text);
                fail(path, r, why);
                md_free(why);
            }
        } else if (o.error) {
            fail(path, r, o.error);
        } else {
            char *why = compare(r, &o);
            if (why) fail(path, r, why);
            else pass(path, r);
            md_free(why);
        }
        outcome_free(&o);
    }
    labels_clear();
    md_free(R.plan_option);
    R.plan_option = NULL;
    md_dual_destroy(&R.dual);
    if (R.wasm) {
        char *ignored = NULL;
        wasm_call(wasm_request("close"), NULL, NULL, 0, &ignored);
        md_free(ignored);
    }
    if (local) {
        duckdb_disconnect(&local);
        duckdb_close(&db);
    }
    if (R.where != LOCAL || R.wasm) {
        char *drop = md_asprintf("USE my_db; DROP DATABASE %s", dbname);
        outcome o = {0};
        run_remote(drop, &o);
        outcome_free(&o);
        md_free(drop);
    }
    md_free(dbname);
    slt_file_free(&f);
}

/* ---- a server of our own ------------------------------------------------------- */

static pid_t server_pid;
static char data_dir[64];

static char *capture(char *const argv[]) {
    int p[2];
    if (pipe(p) != 0) return NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    md_buf b = MD_BUF_INIT;
    char buf[512];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) md_buf_append(&b, buf, (size_t)n);
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    md_buf_put_u8(&b, 0);
    size_t len;
    char *out = (char *)md_buf_detach(&b, &len);
    for (char *e = out + strlen(out); e > out && isspace((unsigned char)e[-1]);) *--e = 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? out : (md_free(out), NULL);
}

/* Start mdserver on a free port; the URL and a token in *url, *token. */
static int start_server(char **url, char **token) {
    const char *exe = getenv("MDSERVER") ? getenv("MDSERVER") : "./mdserver";
    strcpy(data_dir, "/tmp/slt-hybrid-XXXXXX");
    if (!mkdtemp(data_dir)) return -1;
    char *tok_argv[] = {(char *)exe, "token", "create", "--data-dir", data_dir, "--user", "slt", NULL};
    *token = capture(tok_argv);
    if (!*token) return -1;
    int p[2];
    if (pipe(p) != 0) return -1;
    server_pid = fork();
    if (server_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* the runner killed: its server stops too */
        dup2(p[1], 1);
        close(p[0]);
        execl(exe, exe, "serve", "--port", "0", "--data-dir", data_dir, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    FILE *fp = fdopen(p[0], "r");
    char line[512];
    int port = 0;
    while (!port && fgets(line, sizeof line, fp)) {
        const char *m = strstr(line, "listening on http://127.0.0.1:");
        if (m) port = atoi(m + strlen("listening on http://127.0.0.1:"));
    }
    /* keep reading (and dropping) what the server prints, so it never blocks */
    if (port && fork() == 0) {
        while (fgets(line, sizeof line, fp)) {
        }
        _exit(0);
    }
    fclose(fp);
    if (!port) return -1;
    *url = md_asprintf("ws://127.0.0.1:%d/ws", port);
    return 0;
}

static void stop_server(void) {
    if (server_pid <= 0) return;
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
    server_pid = 0;
    char *cmd = md_asprintf("rm -rf '%s'", data_dir);
    if (system(cmd) != 0) fprintf(stderr, "slt-hybrid: could not remove %s\n", data_dir);
    md_free(cmd);
}

static void usage(FILE *f) {
    fputs("usage: slt-hybrid [--host native|wasm] [--placement local|remote|random] [--seed N] [--timeout S]\n"
          "                  [--url WS --token T] FILE...   (build/slt-wasm: --host wasm)\n"
          "Replays DuckDB sqllogictest files on a native DuckDB (local), a real mdserver (remote), or\n"
          "both with the tables spread by the seed and queries split across them (random),\n"
          "and compares every result with the file; prints \"N passed, N failed, N skipped\".\n"
          "A server query running longer than --timeout seconds (default 120) is cancelled and fails.\n",
          f);
}

int main(int argc, char **argv) {
    const char *url = NULL, *token = NULL, *placement_arg = "remote", *host = "native";
    int timeout_s = 120;
    static const struct option longopts[] = {{"placement", required_argument, 0, 'p'},
                                             {"url", required_argument, 0, 'u'},
                                             {"token", required_argument, 0, 't'},
                                             {"seed", required_argument, 0, 's'},
                                             {"timeout", required_argument, 0, 'T'},
                                             {"host", required_argument, 0, 'H'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': placement_arg = optarg; break;
        case 'u': url = optarg; break;
        case 't': token = optarg; break;
        case 's': R.seed = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'T': timeout_s = atoi(optarg); break;
        case 'H': host = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    if (strcmp(placement_arg, "local") == 0) R.where = LOCAL;
    else if (strcmp(placement_arg, "remote") == 0) R.where = REMOTE;
    else if (strcmp(placement_arg, "random") == 0) R.where = RANDOM;
    else {
        usage(stderr);
        return 2;
    }
    if (strcmp(host, "wasm") == 0) { /* the JS host beside this binary's checkout */
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        char *script = md_asprintf("%s/../tests/slt/wasm_host.mjs", exe), *why = NULL;
        if (slt_wasm_start(script, &R.wasm, &why) != 0) {
            fprintf(stderr, "slt-wasm: %s\n", why);
            return 2;
        }
        md_free(script);
    } else if (strcmp(host, "native") != 0) {
        usage(stderr);
        return 2;
    }
    char *own_url = NULL, *own_token = NULL;
    atexit(stop_server); /* also when a failed connection ends the run early */
    if (R.where != LOCAL || R.wasm) {
        if (!url) {
            if (start_server(&own_url, &own_token) != 0) {
                fprintf(stderr, "slt-hybrid: cannot start mdserver (set MDSERVER, or give --url and --token)\n");
                stop_server();
                return 2;
            }
            url = own_url;
            token = own_token;
        }
        if (!token) {
            fprintf(stderr, "slt-hybrid: --url needs --token\n");
            stop_server();
            return 2;
        }
        R.url = url;
        R.token = token;
        R.timeout_ms = timeout_s * 1000;
        duckdb_open(NULL, &R.scratch_db);
        duckdb_connect(R.scratch_db, &R.scratch);
    }
    for (int i = optind; i < argc; i++) run_file(argv[i]);
    for (size_t i = 0; i < R.nreasons; i++) {
        printf("skipped %ld: %s\n", R.reasons[i].n, R.reasons[i].reason);
        md_free(R.reasons[i].reason);
    }
    md_free(R.reasons);
    slt_wasm_stop(&R.wasm);
    if (R.where == RANDOM) printf("%ld statements split across both sites (seed %u)\n", R.hybrid, R.seed);
    printf("%ld passed, %ld failed, %ld skipped\n", R.passed, R.failed, R.skipped);
    if (R.remote) md_rclient_close(&R.remote);
    if (R.scratch) duckdb_disconnect(&R.scratch);
    if (R.scratch_db) duckdb_close(&R.scratch_db);
    stop_server();
    md_free(own_url);
    md_free(own_token);
    return R.failed ? 1 : 0;
}

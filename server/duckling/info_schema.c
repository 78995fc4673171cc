/*
 * info_schema.c: md_information_schema (see info_schema.h).
 *
 * Each view reads a table function of text rows (row_table.h) that asks
 * the storage metadata or the server; the views give the columns
 * MotherDuck's names and types (intervals, lists of structs).
 */
#include "server/duckling/info_schema.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "server/duckdb/row_table.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

struct md_info_schema {
    md_dbmeta *meta;        /* borrowed */
    md_server_calls *calls; /* borrowed */
    char *owner;
    md_row_table fns[6];
};

/* ---- producers ---- */

typedef struct db_list {
    int64_t *ids;
    char **names;
    size_t n;
} db_list;

static void take_db(void *ctx, const md_db_row *row) {
    db_list *l = ctx;
    l->ids = md_realloc(l->ids, (l->n + 1) * sizeof *l->ids);
    l->names = md_realloc(l->names, (l->n + 1) * sizeof *l->names);
    l->ids[l->n] = row->id;
    l->names[l->n++] = md_strdup(row->name);
}

static void free_dbs(db_list *l) {
    for (size_t i = 0; i < l->n; i++) md_free(l->names[i]);
    md_free(l->ids);
    md_free(l->names);
}

static const md_col database_cols[] = {
    {"name", MD_COL_VARCHAR}, {"database_id", MD_COL_BIGINT}, {"created_ts", MD_COL_TIMESTAMP},
    {"retention_days", MD_COL_BIGINT}, {"snapshot_id", MD_COL_BIGINT},
};

static void add_database(void *ctx, const md_db_row *row) {
    char id[24], days[24], head[24];
    snprintf(id, sizeof id, "%lld", (long long)row->id);
    snprintf(days, sizeof days, "%d", row->retention_days);
    snprintf(head, sizeof head, "%lld", (long long)row->head);
    const char *cells[] = {row->name, id, row->created_at, days, row->head ? head : NULL};
    md_rowset_add(ctx, cells);
}

static int produce_databases(void *extra, const char *arg, md_rowset *out, char **out_err) {
    md_info_schema *x = extra;
    int rc = md_dbmeta_db_list(x->meta, x->owner, add_database, out);
    if (rc != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
    return rc;
}

static const md_col snapshot_cols[] = {
    {"database_name", MD_COL_VARCHAR}, {"database_id", MD_COL_BIGINT}, {"snapshot_id", MD_COL_BIGINT},
    {"snapshot_name", MD_COL_VARCHAR}, {"created_ts", MD_COL_TIMESTAMP}, {"active_bytes", MD_COL_BIGINT},
    {"bytes_written", MD_COL_BIGINT},
};

typedef struct snap_ctx {
    md_rowset *out;
    const char *db;
    int64_t db_id;
} snap_ctx;

static void add_snapshot(void *ctx, const md_snapshot_row *row) {
    snap_ctx *c = ctx;
    char dbid[24], id[24], size[24], added[24];
    snprintf(dbid, sizeof dbid, "%lld", (long long)c->db_id);
    snprintf(id, sizeof id, "%lld", (long long)row->id);
    snprintf(size, sizeof size, "%llu", (unsigned long long)row->file_size);
    snprintf(added, sizeof added, "%llu", (unsigned long long)row->bytes_added);
    const char *cells[] = {c->db, dbid, id, row->name, row->created_at, size, added};
    md_rowset_add(c->out, cells);
}

static int produce_snapshots(void *extra, const char *arg, md_rowset *out, char **out_err) {
    md_info_schema *x = extra;
    db_list l = {0};
    int rc = md_dbmeta_db_list(x->meta, x->owner, take_db, &l);
    for (size_t i = 0; i < l.n && rc == MD_OK; i++) {
        snap_ctx c = {out, l.names[i], l.ids[i]};
        rc = md_dbmeta_snapshot_list(x->meta, l.ids[i], add_snapshot, &c);
    }
    free_dbs(&l);
    if (rc != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
    return rc;
}

static const md_col share_cols[] = {
    {"name", MD_COL_VARCHAR},       {"url", MD_COL_VARCHAR},        {"source_db_name", MD_COL_VARCHAR},
    {"source_db_id", MD_COL_BIGINT}, {"access", MD_COL_VARCHAR},    {"visibility", MD_COL_VARCHAR},
    {"update", MD_COL_VARCHAR},     {"created_ts", MD_COL_TIMESTAMP}, {"owner", MD_COL_VARCHAR},
    {"grants", MD_COL_VARCHAR},     {"snapshot_id", MD_COL_BIGINT},
};

typedef struct share_list {
    md_share_row *v;
    size_t n;
} share_list;

/* The metadata's callbacks may not call it again: rows are collected first. */
static void take_share(void *ctx, const md_share_row *r) {
    share_list *l = ctx;
    l->v = md_realloc(l->v, (l->n + 1) * sizeof *l->v);
    md_share_row_copy(&l->v[l->n++], r);
}

static void add_grant(void *ctx, const char *grantee, const char *granted_at) {
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "username", grantee);
    cJSON_AddStringToObject(g, "access", "READ");
    cJSON_AddItemToArray(ctx, g);
}

/* Rows of the shares of `owner` (NULL: those listed to the user), with
 * their grants when with_grants. */
static int share_rows(md_info_schema *x, const char *owner, int with_grants, md_rowset *out, char **out_err) {
    share_list l = {NULL, 0};
    int rc = md_dbmeta_share_list(x->meta, owner, take_share, &l);
    for (size_t i = 0; i < l.n; i++) {
        const md_share_row *r = &l.v[i];
        char dbid[24], snap[24];
        snprintf(dbid, sizeof dbid, "%lld", (long long)r->db_id);
        snprintf(snap, sizeof snap, "%lld", (long long)r->snapshot);
        char *url = md_share_url(r), *grants = NULL;
        if (with_grants && rc == MD_OK) {
            cJSON *a = cJSON_CreateArray();
            md_dbmeta_share_grants(x->meta, r->id, add_grant, a);
            grants = cJSON_PrintUnformatted(a);
            cJSON_Delete(a);
        }
        const char *cells[] = {r->name, url, r->db_name, dbid, md_share_access_word(r->access),
                               r->discoverable ? "DISCOVERABLE" : "HIDDEN", r->automatic ? "AUTOMATIC" : "MANUAL",
                               r->created_at, r->owner, grants, r->snapshot ? snap : NULL};
        if (rc == MD_OK) md_rowset_add(out, cells);
        md_free(url);
        if (grants) cJSON_free(grants);
        md_share_row_clear(&l.v[i]);
    }
    md_free(l.v);
    if (rc != MD_OK) *out_err = md_strdup("cannot read the shares");
    return rc;
}

static int produce_owned(void *extra, const char *arg, md_rowset *out, char **out_err) {
    md_info_schema *x = extra;
    return share_rows(x, x->owner, 1, out, out_err);
}

static int produce_shared_with_me(void *extra, const char *arg, md_rowset *out, char **out_err) {
    return share_rows(extra, NULL, 0, out, out_err);
}

static const md_col storage_cols[] = {
    {"database_name", MD_COL_VARCHAR}, {"database_id", MD_COL_BIGINT}, {"active_bytes", MD_COL_BIGINT},
    {"written_bytes", MD_COL_BIGINT},  {"snapshots", MD_COL_BIGINT},
};

typedef struct usage {
    int64_t head, active, written, snapshots;
} usage;

static void add_usage(void *ctx, const md_snapshot_row *row) {
    usage *u = ctx;
    u->written += (int64_t)row->bytes_added;
    u->snapshots++;
    if (row->id == u->head) u->active = (int64_t)row->file_size;
}

static void take_head(void *ctx, const md_db_row *row) { ((usage *)ctx)->head = row->head; }

static int produce_storage(void *extra, const char *arg, md_rowset *out, char **out_err) {
    md_info_schema *x = extra;
    db_list l = {0};
    int rc = md_dbmeta_db_list(x->meta, x->owner, take_db, &l);
    for (size_t i = 0; i < l.n && rc == MD_OK; i++) {
        usage u = {0};
        md_dbmeta_db_get(x->meta, x->owner, l.names[i], take_head, &u);
        rc = md_dbmeta_snapshot_list(x->meta, l.ids[i], add_usage, &u);
        char id[24], active[24], written[24], n[24];
        snprintf(id, sizeof id, "%lld", (long long)l.ids[i]);
        snprintf(active, sizeof active, "%lld", (long long)u.active);
        snprintf(written, sizeof written, "%lld", (long long)u.written);
        snprintf(n, sizeof n, "%lld", (long long)u.snapshots);
        const char *cells[] = {l.names[i], id, active, written, n};
        if (rc == MD_OK) md_rowset_add(out, cells);
    }
    free_dbs(&l);
    if (rc != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
    return rc;
}

static const md_col history_cols[] = {
    {"query_id", MD_COL_BIGINT},      {"user_name", MD_COL_VARCHAR}, {"end_time", MD_COL_TIMESTAMP},
    {"execution_site", MD_COL_VARCHAR}, {"elapsed_us", MD_COL_BIGINT}, {"rows", MD_COL_BIGINT},
    {"query_text", MD_COL_VARCHAR},   {"error_message", MD_COL_VARCHAR},
};

static void add_history(void *ctx, const md_history_entry *e) {
    char id[24], end[32], us[32], rows[24];
    snprintf(id, sizeof id, "%lld", (long long)e->id);
    md_row_time_text(e->at_ms, end);
    snprintf(us, sizeof us, "%lld", (long long)(e->ms * 1000));
    snprintf(rows, sizeof rows, "%lld", (long long)e->rows);
    const char *cells[] = {id, e->user, end, e->site, us, e->rows >= 0 ? rows : NULL, e->sql, e->error};
    md_rowset_add(ctx, cells);
}

static int produce_history(void *extra, const char *arg, md_rowset *out, char **out_err) {
    md_info_schema *x = extra;
    int rc = md_server_calls_history(x->calls, 10000, add_history, out);
    if (rc != MD_OK) *out_err = md_strdup("the server did not answer");
    return rc;
}

/* ---- the views ---- */

static const char *const views[] = {
    "ATTACH ':memory:' AS md_information_schema",
    "CREATE VIEW md_information_schema.main.databases AS "
    "SELECT name, printf('00000000-0000-4000-8000-%012x', database_id) AS uuid, created_ts, false AS transient, "
    "to_days(retention_days::INTEGER) AS historical_snapshot_retention, 'default' AS type, snapshot_id AS "
    "active_snapshot_id FROM md__databases()",
    "CREATE VIEW md_information_schema.main.database_snapshots AS "
    "SELECT database_name, printf('00000000-0000-4000-8000-%012x', database_id) AS database_id, snapshot_id, "
    "snapshot_name, created_ts, active_bytes::UBIGINT AS active_bytes, bytes_written::UBIGINT AS bytes_written, "
    "NULL::UBIGINT AS bytes_deleted, (SELECT username FROM md_user_info()) AS user_name, "
    "(SELECT user_id FROM md_user_info()) AS user_id FROM md__database_snapshots()",
    "CREATE VIEW md_information_schema.main.owned_shares AS "
    "SELECT name, url, source_db_name, printf('00000000-0000-4000-8000-%012x', source_db_id) AS source_db_uuid, "
    "access, from_json(grants, '[{\"username\":\"VARCHAR\",\"access\":\"VARCHAR\"}]') AS grants, visibility, "
    "\"update\", created_ts, snapshot_id FROM md__owned_shares()",
    "CREATE VIEW md_information_schema.main.shared_with_me AS "
    "SELECT name, url, created_ts, \"update\", access, source_db_name, owner, visibility, snapshot_id "
    "FROM md__shared_with_me()",
    "CREATE VIEW md_information_schema.main.storage_info AS "
    "SELECT database_name, printf('00000000-0000-4000-8000-%012x', database_id) AS database_id, "
    "(SELECT username FROM md_user_info()) AS user_name, false AS transient, active_bytes::UBIGINT AS "
    "active_bytes, greatest(written_bytes - active_bytes, 0)::UBIGINT AS historical_bytes, 0::UBIGINT AS "
    "retained_for_clone_bytes, 0::UBIGINT AS failsafe_bytes, snapshots, now()::TIMESTAMP AS computed_ts, "
    "NULL::TIMESTAMP AS deleted_ts FROM md__storage_info()",
    "CREATE VIEW md_information_schema.main.query_history AS "
    "SELECT query_id, query_text, upper(regexp_extract(query_text, '^\\s*(\\w+)', 1)) AS query_type, "
    "end_time - to_microseconds(elapsed_us) AS start_time, end_time, to_microseconds(elapsed_us) AS "
    "total_elapsed_time, execution_site, rows, error_message, user_name FROM md__query_history()",
    "CREATE VIEW md_information_schema.main.recent_queries AS "
    "SELECT client_query_id::BIGINT AS query_id, client_query AS query_text, "
    "upper(regexp_extract(client_query, '^\\s*(\\w+)', 1)) AS query_type, query_started_at AS start_time, "
    "NULL::TIMESTAMP AS end_time, server_query_elapsed_time AS total_elapsed_time, 'server' AS execution_site, "
    "NULL::BIGINT AS rows, NULL::VARCHAR AS error_message, user_name FROM md_active_server_connections() "
    "WHERE client_query IS NOT NULL UNION ALL "
    "SELECT * FROM md_information_schema.main.query_history WHERE end_time > now()::TIMESTAMP - INTERVAL 1 HOUR",
};

int md_info_schema_open(duckdb_connection conn, md_dbmeta *meta, md_server_calls *calls, const char *owner,
                        md_info_schema **out, char **out_err) {
    md_info_schema *x = md_calloc(1, sizeof *x);
    x->meta = meta;
    x->calls = calls;
    x->owner = md_strdup(owner);
#define N(a) (sizeof a / sizeof *a)
    const md_row_table fns[] = {
        {"md__databases", database_cols, N(database_cols), 0, produce_databases, x},
        {"md__database_snapshots", snapshot_cols, N(snapshot_cols), 0, produce_snapshots, x},
        {"md__owned_shares", share_cols, N(share_cols), 0, produce_owned, x},
        {"md__shared_with_me", share_cols, N(share_cols), 0, produce_shared_with_me, x},
        {"md__storage_info", storage_cols, N(storage_cols), 0, produce_storage, x},
        {"md__query_history", history_cols, N(history_cols), 0, produce_history, x},
    };
#undef N
    memcpy(x->fns, fns, sizeof fns);
    int rc = MD_OK;
    for (size_t i = 0; i < sizeof fns / sizeof *fns && rc == MD_OK; i++)
        rc = md_row_table_register(conn, &x->fns[i], out_err);
    for (size_t i = 0; i < sizeof views / sizeof *views && rc == MD_OK; i++) {
        duckdb_result r;
        if (duckdb_query(conn, views[i], &r) == DuckDBError) {
            *out_err = md_asprintf("cannot make md_information_schema: %s", duckdb_result_error(&r));
            rc = MD_EIO;
        }
        duckdb_destroy_result(&r);
    }
    if (rc != MD_OK) {
        md_info_schema_free(&x);
        return rc;
    }
    *out = x;
    return MD_OK;
}

void md_info_schema_free(md_info_schema **px) {
    if (!px || !*px) return;
    md_free((*px)->owner);
    md_free(*px);
    *px = NULL;
}

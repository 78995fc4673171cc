/*
 * server_functions.c: md_user_info(), md_active_server_connections() and
 * md_interrupt_server_connection() (server_functions.h).
 */
#include "server/duckling/server_functions.h"

#include <stdio.h>
#include <string.h>

#include "server/duckdb/row_table.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "shared/md_time.h"

static const md_col user_cols[] = {
    {"user_id", MD_COL_VARCHAR},  {"username", MD_COL_VARCHAR}, {"org_id", MD_COL_VARCHAR},
    {"org_name", MD_COL_VARCHAR}, {"org_type", MD_COL_VARCHAR}, {"region", MD_COL_VARCHAR},
    {"role", MD_COL_VARCHAR},
};

static const md_col conn_cols[] = {
    {"client_connection_id", MD_COL_VARCHAR}, {"user_name", MD_COL_VARCHAR},
    {"token_type", MD_COL_VARCHAR},           {"client_user_agent", MD_COL_VARCHAR},
    {"session_name", MD_COL_VARCHAR},         {"connected_at", MD_COL_TIMESTAMP},
    {"client_query_id", MD_COL_BIGINT},       {"client_query", MD_COL_VARCHAR},
    {"query_started_at", MD_COL_TIMESTAMP},   {"server_query_elapsed_time", MD_COL_INTERVAL},
};

static int produce_user(void *extra, const char *arg, md_rowset *out, char **out_err) {
    char *id = NULL, *name = NULL, *org = NULL, *role = NULL;
    int rc = md_server_calls_user(extra, &id, &name, &org, &role);
    if (rc != MD_OK) {
        *out_err = md_strdup("the server did not answer");
        return rc;
    }
    const char *cells[] = {id, name, org, org, "self-hosted", "local", role};
    md_rowset_add(out, cells);
    md_free(id);
    md_free(name);
    md_free(org);
    md_free(role);
    return MD_OK;
}

static void add_conn(void *ctx, const md_conn_info *c) {
    char connected[32], started[32], qid[24], elapsed[24];
    md_row_time_text(c->opened_ms, connected);
    md_row_time_text(c->query_started_ms, started);
    snprintf(qid, sizeof qid, "%u", c->query_id);
    snprintf(elapsed, sizeof elapsed, "%lld", (long long)(md_wall_ms() - c->query_started_ms) * 1000);
    const char *cells[] = {c->id, c->user, c->token_kind, c->client, c->session_name, connected,
                           c->query ? qid : NULL, c->query, c->query ? started : NULL, c->query ? elapsed : NULL};
    md_rowset_add(ctx, cells);
}

static int produce_conns(void *extra, const char *arg, md_rowset *out, char **out_err) {
    int rc = md_server_calls_conns(extra, add_conn, out);
    if (rc != MD_OK) *out_err = md_strdup("the server did not answer");
    return rc;
}

static void interrupt_fn(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
    md_server_calls *calls = duckdb_scalar_function_get_extra_info(info);
    idx_t n = duckdb_data_chunk_get_size(input);
    duckdb_vector in = duckdb_data_chunk_get_vector(input, 0);
    duckdb_string_t *ids = duckdb_vector_get_data(in);
    uint64_t *valid = duckdb_vector_get_validity(in);
    bool *res = duckdb_vector_get_data(output);
    for (idx_t i = 0; i < n; i++) {
        if (valid && !duckdb_validity_row_is_valid(valid, i)) {
            res[i] = false;
            continue;
        }
        uint32_t len = duckdb_string_t_length(ids[i]);
        char *id = md_strndup(duckdb_string_t_data(&ids[i]), len);
        res[i] = md_server_calls_interrupt(calls, id) == MD_OK;
        md_free(id);
    }
}

static md_row_table user_fn = {"md_user_info", user_cols, sizeof user_cols / sizeof *user_cols, 0, produce_user, NULL};
static md_row_table conn_fn = {"md_active_server_connections", conn_cols, sizeof conn_cols / sizeof *conn_cols, 0,
                               produce_conns, NULL};

static void duckling_id_fn(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
    const char *id = duckdb_scalar_function_get_extra_info(info);
    idx_t n = duckdb_data_chunk_get_size(input);
    for (idx_t i = 0; i < (n ? n : 1); i++) duckdb_vector_assign_string_element(output, i, id);
}

int md_server_functions_register(duckdb_connection conn, md_server_calls *calls, const char *duckling_id,
                                 char **out_err) {
    user_fn.extra = conn_fn.extra = calls;
    int rc = md_row_table_register(conn, &user_fn, out_err);
    if (rc == MD_OK) rc = md_row_table_register(conn, &conn_fn, out_err);
    if (rc != MD_OK) return rc;
    duckdb_scalar_function f = duckdb_create_scalar_function();
    duckdb_scalar_function_set_name(f, "md_interrupt_server_connection");
    duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
    duckdb_logical_type boolean = duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
    duckdb_scalar_function_add_parameter(f, varchar);
    duckdb_scalar_function_set_return_type(f, boolean);
    duckdb_scalar_function_set_volatile(f);
    duckdb_scalar_function_set_extra_info(f, calls, NULL);
    duckdb_scalar_function_set_function(f, interrupt_fn);
    if (duckdb_register_scalar_function(conn, f) == DuckDBError) {
        *out_err = md_strdup("cannot register md_interrupt_server_connection()");
        rc = MD_EIO;
    }
    duckdb_destroy_scalar_function(&f);
    f = duckdb_create_scalar_function();
    duckdb_scalar_function_set_name(f, "md_duckling_id");
    duckdb_scalar_function_set_return_type(f, varchar);
    duckdb_scalar_function_set_extra_info(f, md_strdup(duckling_id), md_free);
    duckdb_scalar_function_set_function(f, duckling_id_fn);
    if (rc == MD_OK && duckdb_register_scalar_function(conn, f) == DuckDBError) {
        *out_err = md_strdup("cannot register md_duckling_id()");
        rc = MD_EIO;
    }
    duckdb_destroy_scalar_function(&f);
    duckdb_destroy_logical_type(&varchar);
    duckdb_destroy_logical_type(&boolean);
    return rc;
}

/*
 * secretcmds.c: stored secrets in the duckling (secretcmds.h).
 */
#include "server/duckling/secretcmds.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/duckdb/row_table.h"
#include "server/storage/answer_sql.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

#define MAX_TYPES 32

struct md_secretcmds {
    md_secrets *store; /* borrowed */
    char *owner;
    char *types[MAX_TYPES]; /* the secret types DuckDB knows here */
    int ntypes;
    pthread_mutex_t mu;     /* active */
    char **active;          /* names DuckDB holds as temporary secrets */
    size_t nactive;
    md_row_table fn;
};

static const md_col secret_cols[] = {
    {"name", MD_COL_VARCHAR},     {"type", MD_COL_VARCHAR},      {"scope", MD_COL_VARCHAR},
    {"storage", MD_COL_VARCHAR},  {"active", MD_COL_BOOLEAN},    {"created_at", MD_COL_TIMESTAMP},
    {"secret_string", MD_COL_VARCHAR},
};

/* ---- helpers ---- */

static int known_type(const md_secretcmds *x, const char *type) {
    for (int i = 0; i < x->ntypes; i++)
        if (strcasecmp(x->types[i], type) == 0) return 1;
    return 0;
}

static void set_active(md_secretcmds *x, const char *name, int on) {
    pthread_mutex_lock(&x->mu);
    for (size_t i = 0; i < x->nactive; i++)
        if (strcasecmp(x->active[i], name) == 0) {
            md_free(x->active[i]);
            x->active[i] = x->active[--x->nactive];
            break;
        }
    if (on) {
        x->active = md_realloc(x->active, (x->nactive + 1) * sizeof *x->active);
        x->active[x->nactive++] = md_strdup(name);
    }
    pthread_mutex_unlock(&x->mu);
}

static int is_active(md_secretcmds *x, const char *name) {
    pthread_mutex_lock(&x->mu);
    int on = 0;
    for (size_t i = 0; i < x->nactive && !on; i++) on = strcasecmp(x->active[i], name) == 0;
    pthread_mutex_unlock(&x->mu);
    return on;
}

/* "name" with its quotes doubled, malloc'd. */
static char *ident(const char *s) {
    md_buf b = MD_BUF_INIT;
    md_buf_put_quoted(&b, s, '"');
    md_buf_put_u8(&b, 0);
    size_t n;
    return (char *)md_buf_detach(&b, &n);
}

/* The text of a value as written, without the quotes of a plain 'string'
 * (type and scope), malloc'd. */
static char *unquoted(const char *v) {
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'' && !memchr(v + 1, '\'', n - 2)) return md_strndup(v + 1, n - 2);
    return md_strdup(v);
}

/* CREATE OR REPLACE TEMPORARY SECRET name (fields) in DuckDB.  The error
 * DuckDB gives is not passed on (it may quote a value). */
static int make_temporary(md_secretcmds *x, duckdb_connection conn, const char *name, const cJSON *fields,
                          char **out_err) {
    md_buf b = MD_BUF_INIT;
    char *id = ident(name);
    md_answer_put(&b, "CREATE OR REPLACE TEMPORARY SECRET ");
    md_answer_put(&b, id);
    md_answer_put(&b, " (");
    int first = 1;
    for (const cJSON *f = fields->child; f; f = f->next) {
        if (!first) md_answer_put(&b, ", ");
        first = 0;
        md_answer_put(&b, f->string);
        md_answer_put(&b, " ");
        md_answer_put(&b, f->valuestring);
    }
    md_answer_put(&b, ")");
    char *sql = md_answer_finish(&b);
    duckdb_result r;
    int rc = duckdb_query(conn, sql, &r) == DuckDBSuccess ? MD_OK : MD_EINVAL;
    duckdb_destroy_result(&r);
    memset(sql, 0, strlen(sql));
    md_free(sql);
    md_free(id);
    if (rc == MD_OK) set_active(x, name, 1);
    else if (out_err)
        *out_err = md_asprintf("DuckDB refused the parameters of secret %s (check their names and value types); "
                               "nothing was stored",
                               name);
    return rc;
}

/* ---- loading at start ---- */

typedef struct loading {
    md_secretcmds *x;
    duckdb_connection conn;
} loading;

static void load_one(void *ctx, const char *name, const char *type, const char *fields_json) {
    loading *l = ctx;
    if (!known_type(l->x, type)) return;
    cJSON *fields = cJSON_Parse(fields_json);
    if (cJSON_IsObject(fields) && make_temporary(l->x, l->conn, name, fields, NULL) != MD_OK)
        fprintf(stderr, "mdserver duckling: stored secret %s could not be made a DuckDB secret\n", name);
    /* the parsed values go: overwrite them before freeing */
    for (cJSON *f = fields ? fields->child : NULL; f; f = f->next)
        if (cJSON_IsString(f)) memset(f->valuestring, 0, strlen(f->valuestring));
    cJSON_Delete(fields);
}

/* ---- md_secrets() ---- */

typedef struct listing {
    md_secretcmds *x;
    md_rowset *out;
} listing;

static void list_one(void *ctx, const md_secret_row *row) {
    listing *l = ctx;
    const char *cells[] = {row->name,       row->type, row->scope, "motherduck",
                           is_active(l->x, row->name) ? "true" : "false", row->created_at, NULL};
    char *shown = md_asprintf("name=%s;type=%s;storage=motherduck%s%s", row->name, row->type,
                              row->shown && *row->shown ? ";" : "", row->shown ? row->shown : "");
    cells[6] = shown;
    md_rowset_add(l->out, cells);
    md_free(shown);
}

static int produce(void *extra, const char *arg, md_rowset *out, char **out_err) {
    md_secretcmds *x = extra;
    listing l = {x, out};
    int rc = md_secrets_list(x->store, x->owner, list_one, &l);
    if (rc != MD_OK) *out_err = md_strdup("cannot read the stored secrets");
    return rc;
}

/* ---- statements ---- */

typedef struct name_probe {
    const char *name;
    int found;
} name_probe;

static void probe_one(void *ctx, const md_secret_row *row) {
    name_probe *p = ctx;
    if (strcasecmp(row->name, p->name) == 0) p->found = 1;
}

/* Is `name` one of the owner's stored secrets?  MD_OK with *out_found. */
static int stored(md_secretcmds *x, const char *name, int *out_found) {
    name_probe p = {name, 0};
    int rc = md_secrets_list(x->store, x->owner, probe_one, &p);
    *out_found = p.found;
    return rc;
}

static char *secret_answer(const char *name, const char *type, const char *status) {
    md_buf b = MD_BUF_INIT;
    md_answer_put(&b, "SELECT ");
    md_answer_text(&b, name);
    md_answer_put(&b, " AS name, ");
    md_answer_text(&b, type);
    md_answer_put(&b, " AS type, ");
    md_answer_text(&b, status);
    md_answer_put(&b, " AS status");
    return md_answer_finish(&b);
}

static int create_secret(md_secretcmds *x, duckdb_connection conn, const md_dbstmt *st, char **out_answer,
                         char **out_err) {
    cJSON *fields = cJSON_CreateObject();
    char *type = NULL, *scope = NULL;
    for (size_t i = 0; i < st->nparams; i++) {
        cJSON_AddStringToObject(fields, st->keys[i], st->values[i]);
        if (strcmp(st->keys[i], "TYPE") == 0) type = unquoted(st->values[i]);
        if (strcmp(st->keys[i], "SCOPE") == 0) scope = unquoted(st->values[i]);
    }
    for (char *p = type; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    char *name = st->secret ? md_strdup(st->secret) : md_asprintf("__default_%s", type);
    int found = 0, known = known_type(x, type);
    int rc = stored(x, name, &found);
    if (rc != MD_OK) *out_err = md_strdup("cannot read the stored secrets");
    else if (found && st->if_not_exists) *out_answer = secret_answer(name, type, "already exists");
    else if (found && !st->or_replace) {
        *out_err = md_asprintf("a secret named %s is stored already (CREATE OR REPLACE SECRET replaces it)", name);
        rc = MD_EEXISTS;
    }
    if (rc == MD_OK && !*out_answer) {
        /* DuckDB checks the parameters of a type it knows before anything is stored */
        if (known) rc = make_temporary(x, conn, name, fields, out_err);
        char *json = rc == MD_OK ? cJSON_PrintUnformatted(fields) : NULL;
        if (json) {
            rc = md_secrets_put(x->store, x->owner, name, type, scope, json, 1);
            if (rc != MD_OK) *out_err = md_strdup("the server could not store the secret");
            memset(json, 0, strlen(json));
            cJSON_free(json);
        }
        if (rc == MD_OK) {
            char *status = known ? md_strdup("stored encrypted on the server; active for this user's sessions")
                                 : md_asprintf("stored encrypted on the server; this build's DuckDB has no %s secrets: "
                                               "reading %s:// needs DuckDB's httpfs extension, which this build lacks",
                                               type, type);
            *out_answer = secret_answer(name, type, status);
            md_free(status);
        }
    }
    for (cJSON *f = fields->child; f; f = f->next) memset(f->valuestring, 0, strlen(f->valuestring));
    cJSON_Delete(fields);
    md_free(type);
    md_free(scope);
    md_free(name);
    return rc;
}

static int drop_secret(md_secretcmds *x, duckdb_connection conn, const md_dbstmt *st, char **out_answer,
                       char **out_err) {
    int found = 0;
    int rc = stored(x, st->secret, &found);
    if (rc != MD_OK) {
        *out_err = md_strdup("cannot read the stored secrets");
        return rc;
    }
    if (!found && !st->explicit_storage) return MD_OK; /* DuckDB's own DROP SECRET */
    if (!found && st->if_exists) {
        *out_answer = secret_answer(st->secret, NULL, "no such secret");
        return MD_OK;
    }
    if (!found) {
        *out_err = md_asprintf("you have no stored secret named %s (FROM md_secrets() lists them)", st->secret);
        return MD_ENOT_FOUND;
    }
    rc = md_secrets_drop(x->store, x->owner, st->secret);
    if (rc != MD_OK) {
        *out_err = md_strdup("the server could not drop the secret");
        return rc;
    }
    if (is_active(x, st->secret)) {
        char *id = ident(st->secret);
        char *sql = md_asprintf("DROP TEMPORARY SECRET IF EXISTS %s", id);
        duckdb_result r;
        duckdb_query(conn, sql, &r);
        duckdb_destroy_result(&r);
        md_free(sql);
        md_free(id);
        set_active(x, st->secret, 0);
    }
    *out_answer = secret_answer(st->secret, NULL, "dropped");
    return MD_OK;
}

/* ---- public ---- */

int md_secretcmds_open(md_secrets *store, const char *owner, duckdb_connection conn, md_secretcmds **out,
                       char **out_err) {
    md_secretcmds *x = md_calloc(1, sizeof *x);
    x->store = store;
    x->owner = md_strdup(owner);
    pthread_mutex_init(&x->mu, NULL);
    duckdb_result r;
    if (duckdb_query(conn, "SELECT type FROM duckdb_secret_types()", &r) == DuckDBSuccess) {
        for (idx_t i = 0; i < duckdb_row_count(&r) && x->ntypes < MAX_TYPES; i++) {
            char *t = duckdb_value_varchar(&r, 0, i);
            if (t) x->types[x->ntypes++] = md_strdup(t);
            duckdb_free(t);
        }
    }
    duckdb_destroy_result(&r);
    loading l = {x, conn};
    if (md_secrets_reveal(store, owner, load_one, &l) != MD_OK)
        fprintf(stderr, "mdserver duckling: the stored secrets could not be read; they are not active\n");
    x->fn = (md_row_table){"md_secrets", secret_cols, sizeof secret_cols / sizeof *secret_cols, 0, produce, x};
    int rc = md_row_table_register(conn, &x->fn, out_err);
    if (rc != MD_OK) {
        md_secretcmds_free(&x);
        return rc;
    }
    *out = x;
    return MD_OK;
}

int md_secretcmds_run(md_secretcmds *x, duckdb_connection conn, const md_dbstmt *st, char **out_answer,
                      char **out_err) {
    *out_answer = NULL;
    if (st->kind == MD_DBSTMT_CREATE_SECRET) return create_secret(x, conn, st, out_answer, out_err);
    if (st->kind == MD_DBSTMT_DROP_SECRET) return drop_secret(x, conn, st, out_answer, out_err);
    *out_err = md_strdup("not a secret statement");
    return MD_EINVAL;
}

void md_secretcmds_free(md_secretcmds **px) {
    if (!px || !*px) return;
    md_secretcmds *x = *px;
    for (int i = 0; i < x->ntypes; i++) md_free(x->types[i]);
    for (size_t i = 0; i < x->nactive; i++) md_free(x->active[i]);
    md_free(x->active);
    md_free(x->owner);
    pthread_mutex_destroy(&x->mu);
    md_free(x);
    *px = NULL;
}

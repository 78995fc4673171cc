/*
 * catalog_rows.c: the catalog query and its fold (see catalog_rows.h).
 * The fold keeps the last database, schema and table it added: the rows
 * arrive ordered, so a parent is looked up by name only when it changes,
 * and a column's table is first looked for after the last one (a schema of
 * many thousand tables folds in linear time).
 */
#include "catalog_rows.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

#define CATALOG_SQL(HIDDEN)                                                                                     \
    "SELECT 0::INTEGER AS kind, database_name AS d, NULL::VARCHAR AS s, NULL::VARCHAR AS t, NULL::VARCHAR AS c, " \
    "NULL::VARCHAR AS ty, readonly AS ro, NULL::BOOLEAN AS v, NULL::DOUBLE AS n, 0::INTEGER AS i "               \
    "FROM duckdb_databases() WHERE database_name NOT IN (" HIDDEN ") "                                          \
    "UNION ALL SELECT 1, database_name, schema_name, NULL, NULL, NULL, NULL, NULL, NULL, 0 "                    \
    "FROM duckdb_schemas() WHERE database_name NOT IN (" HIDDEN ") "                                            \
    "UNION ALL SELECT 2, database_name, schema_name, table_name, NULL, NULL, NULL, false, estimated_size::DOUBLE, 0 " \
    "FROM duckdb_tables() WHERE database_name NOT IN (" HIDDEN ") "                                             \
    "UNION ALL SELECT 2, database_name, schema_name, view_name, NULL, NULL, NULL, true, NULL, 0 "               \
    "FROM duckdb_views() WHERE database_name NOT IN (" HIDDEN ") AND NOT internal "                             \
    "UNION ALL SELECT 3, database_name, schema_name, table_name, column_name, data_type, NULL, NULL, NULL, "     \
    "column_index::INTEGER FROM duckdb_columns() WHERE database_name NOT IN (" HIDDEN ") "                      \
    "ORDER BY kind, d, s, t, i"

const char *md_catalog_sql(unsigned flags) {
    static const char *const with_memory = CATALOG_SQL("'system'");
    static const char *const without_memory = CATALOG_SQL("'system', 'memory'");
    return (flags & MD_CATALOG_WITH_MEMORY) ? with_memory : without_memory;
}

struct md_catalog_fold {
    cJSON *root, *databases;
    cJSON *db;                    /* the last database found or added */
    cJSON *schema, *schema_db;    /* the last schema, and its database */
    cJSON *table, *table_schema;  /* the last table, and its schema */
};

md_catalog_fold *md_catalog_fold_create(void) {
    md_catalog_fold *f = md_calloc(1, sizeof *f);
    f->root = cJSON_CreateObject();
    f->databases = cJSON_AddArrayToObject(f->root, "databases");
    return f;
}

static int named(const cJSON *e, const char *name) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
    return e && cJSON_IsString(n) && strcmp(n->valuestring, name) == 0;
}

static cJSON *find(const cJSON *arr, const char *name) {
    cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (named(e, name)) return e;
    }
    return NULL;
}

static cJSON *database(md_catalog_fold *f, const char *name) {
    if (!name) return NULL;
    if (!named(f->db, name)) f->db = find(f->databases, name);
    return f->db;
}

static cJSON *schema(md_catalog_fold *f, const char *db, const char *name) {
    cJSON *d = database(f, db);
    if (!d || !name) return NULL;
    if (f->schema_db != d || !named(f->schema, name)) {
        f->schema = find(cJSON_GetObjectItemCaseSensitive(d, "schemas"), name);
        f->schema_db = d;
    }
    return f->schema;
}

static cJSON *table(md_catalog_fold *f, const char *db, const char *sch, const char *name) {
    cJSON *s = schema(f, db, sch);
    if (!s || !name) return NULL;
    if (f->table_schema == s && f->table && named(f->table->next, name)) {
        f->table = f->table->next; /* the columns come in the tables' order: the next one, usually */
    } else if (f->table_schema != s || !named(f->table, name)) {
        f->table = find(cJSON_GetObjectItemCaseSensitive(s, "tables"), name);
        f->table_schema = s;
    }
    return f->table;
}

void md_catalog_fold_row(md_catalog_fold *f, const md_catalog_row *r) {
    switch (r->kind) {
    case 0: {
        if (!r->database) return;
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "name", r->database);
        cJSON_AddBoolToObject(d, "read_only", r->read_only);
        cJSON_AddArrayToObject(d, "schemas");
        cJSON_AddItemToArray(f->databases, d);
        f->db = d;
        break;
    }
    case 1: {
        cJSON *d = database(f, r->database);
        if (!d || !r->schema) return;
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", r->schema);
        cJSON_AddArrayToObject(s, "tables");
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(d, "schemas"), s);
        f->schema = s;
        f->schema_db = d;
        break;
    }
    case 2: {
        cJSON *s = schema(f, r->database, r->schema);
        if (!s || !r->table) return;
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", r->table);
        cJSON_AddBoolToObject(t, "view", r->view);
        if (r->has_rows && isfinite(r->rows) && r->rows >= 0) cJSON_AddNumberToObject(t, "rows", r->rows);
        cJSON_AddArrayToObject(t, "columns");
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(s, "tables"), t);
        f->table = t;
        f->table_schema = s;
        break;
    }
    case 3: {
        cJSON *t = table(f, r->database, r->schema, r->table);
        if (!t || !r->column || !r->type) return;
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "name", r->column);
        cJSON_AddStringToObject(c, "type", r->type);
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(t, "columns"), c);
        break;
    }
    default: break;
    }
}

cJSON *md_catalog_fold_finish(md_catalog_fold **fp) {
    md_catalog_fold *f = *fp;
    cJSON *root = f->root;
    md_free(f);
    *fp = NULL;
    return root;
}

static const char *str_at(const cJSON *row, int i) {
    const cJSON *v = cJSON_GetArrayItem(row, i);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int md_catalog_fold_json(const char *rows, size_t len, char **out_json, char **out_err) {
    cJSON *arr = cJSON_ParseWithLength(rows, len);
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        *out_err = md_strdup("the catalog rows are not a JSON array");
        return MD_EINVAL;
    }
    md_catalog_fold *f = md_catalog_fold_create();
    const cJSON *row;
    int i = 0;
    cJSON_ArrayForEach(row, arr) {
        const cJSON *kind = cJSON_GetArrayItem(row, 0), *n = cJSON_GetArrayItem(row, 8);
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != 10 || !cJSON_IsNumber(kind)) {
            cJSON_Delete(md_catalog_fold_finish(&f));
            cJSON_Delete(arr);
            *out_err = md_asprintf("catalog row %d is not an array of 10 values starting with its kind", i);
            return MD_EINVAL;
        }
        md_catalog_row r = {
            .kind = (int)kind->valuedouble,
            .database = str_at(row, 1), .schema = str_at(row, 2), .table = str_at(row, 3),
            .column = str_at(row, 4), .type = str_at(row, 5),
            .read_only = cJSON_IsTrue(cJSON_GetArrayItem(row, 6)), .view = cJSON_IsTrue(cJSON_GetArrayItem(row, 7)),
            .has_rows = cJSON_IsNumber(n), .rows = cJSON_IsNumber(n) ? n->valuedouble : 0,
        };
        md_catalog_fold_row(f, &r);
        i++;
    }
    cJSON_Delete(arr);
    cJSON *root = md_catalog_fold_finish(&f);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    *out_json = md_strdup(text);
    cJSON_free(text);
    return MD_OK;
}

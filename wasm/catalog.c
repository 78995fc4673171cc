/*
 * catalog.c: the catalog cache (see catalog.h for the JSON shape and the
 * invariants).
 *
 * Storage: one array of databases for both sites (each entry knows its site),
 * each holding arrays of schemas, tables and columns; every string is owned
 * by the entry.  Catalogs hold hundreds to a few thousand tables, so lookups
 * are linear scans with a case-insensitive compare.
 *
 * md_catalog_set_json() parses into a separate array first and swaps it in
 * only when the whole document was valid, so a bad message never leaves a
 * half-replaced site behind.  cJSON is used for parsing and writing; every
 * cJSON tree made here is deleted here.
 */
#include "catalog.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

struct md_catalog {
    md_cat_db *dbs;
    size_t ndbs;
};

const char *md_site_name(md_site site) {
    switch (site) {
    case MD_SITE_LOCAL: return "local";
    case MD_SITE_REMOTE: return "remote";
    default: return "";
    }
}

md_site md_site_other(md_site site) {
    return site == MD_SITE_LOCAL ? MD_SITE_REMOTE : site == MD_SITE_REMOTE ? MD_SITE_LOCAL : MD_SITE_NONE;
}

/* ---- freeing and copying ---------------------------------------------------- */

static void table_free(md_cat_table *t) {
    for (size_t k = 0; k < t->ncolumns; k++) {
        md_free(t->columns[k].name);
        md_free(t->columns[k].type);
    }
    md_free(t->columns);
    md_free(t->name);
}

static void schema_free(md_cat_schema *s) {
    for (size_t k = 0; k < s->ntables; k++) table_free(&s->tables[k]);
    md_free(s->tables);
    md_free(s->name);
}

static void db_free(md_cat_db *d) {
    for (size_t k = 0; k < d->nschemas; k++) schema_free(&d->schemas[k]);
    md_free(d->schemas);
    md_free(d->name);
}

static void table_copy(md_cat_table *dst, const md_cat_table *src) {
    *dst = *src;
    dst->name = md_strdup(src->name);
    dst->columns = src->ncolumns ? md_malloc(src->ncolumns * sizeof *dst->columns) : NULL;
    for (size_t k = 0; k < src->ncolumns; k++) {
        dst->columns[k].name = md_strdup(src->columns[k].name);
        dst->columns[k].type = md_strdup(src->columns[k].type);
    }
}

static void db_copy(md_cat_db *dst, const md_cat_db *src) {
    *dst = *src;
    dst->name = md_strdup(src->name);
    dst->schemas = src->nschemas ? md_malloc(src->nschemas * sizeof *dst->schemas) : NULL;
    for (size_t k = 0; k < src->nschemas; k++) {
        const md_cat_schema *s = &src->schemas[k];
        md_cat_schema *d = &dst->schemas[k];
        d->name = md_strdup(s->name);
        d->ntables = s->ntables;
        d->tables = s->ntables ? md_malloc(s->ntables * sizeof *d->tables) : NULL;
        for (size_t t = 0; t < s->ntables; t++) table_copy(&d->tables[t], &s->tables[t]);
    }
}

md_catalog *md_catalog_create(const char *local_db, const char *remote_db) {
    md_catalog *cat = md_calloc(1, sizeof *cat);
    if (local_db) md_catalog_add_db(cat, MD_SITE_LOCAL, local_db);
    if (remote_db) md_catalog_add_db(cat, MD_SITE_REMOTE, remote_db);
    return cat;
}

void md_catalog_destroy(md_catalog **cat) {
    if (!cat || !*cat) return;
    for (size_t k = 0; k < (*cat)->ndbs; k++) db_free(&(*cat)->dbs[k]);
    md_free((*cat)->dbs);
    md_free(*cat);
    *cat = NULL;
}

md_catalog *md_catalog_clone(const md_catalog *cat) {
    md_catalog *c = md_calloc(1, sizeof *c);
    c->ndbs = cat->ndbs;
    c->dbs = cat->ndbs ? md_malloc(cat->ndbs * sizeof *c->dbs) : NULL;
    for (size_t k = 0; k < cat->ndbs; k++) db_copy(&c->dbs[k], &cat->dbs[k]);
    return c;
}

/* ---- lookups ------------------------------------------------------------------ */

const md_cat_db *md_catalog_db(const md_catalog *cat, md_site site, const char *name) {
    for (size_t k = 0; k < cat->ndbs; k++)
        if (cat->dbs[k].site == site && strcasecmp(cat->dbs[k].name, name) == 0) return &cat->dbs[k];
    return NULL;
}

const md_cat_schema *md_catalog_schema(const md_cat_db *db, const char *name) {
    if (!db) return NULL;
    for (size_t k = 0; k < db->nschemas; k++)
        if (strcasecmp(db->schemas[k].name, name) == 0) return &db->schemas[k];
    return NULL;
}

const md_cat_table *md_catalog_table(const md_cat_schema *schema, const char *name) {
    if (!schema) return NULL;
    for (size_t k = 0; k < schema->ntables; k++)
        if (strcasecmp(schema->tables[k].name, name) == 0) return &schema->tables[k];
    return NULL;
}

/* ---- changes made by routed statements --------------------------------------- */

static md_cat_db *db_mut(md_catalog *cat, md_site site, const char *name) {
    return (md_cat_db *)md_catalog_db(cat, site, name);
}

static md_cat_schema *schema_mut(md_catalog *cat, md_site site, const char *db, const char *schema) {
    return (md_cat_schema *)md_catalog_schema(db_mut(cat, site, db), schema);
}

static void schema_push(md_cat_db *d, const char *name) {
    d->schemas = md_realloc(d->schemas, (d->nschemas + 1) * sizeof *d->schemas);
    d->schemas[d->nschemas++] = (md_cat_schema){md_strdup(name), NULL, 0};
}

void md_catalog_add_db(md_catalog *cat, md_site site, const char *name) {
    if (md_catalog_db(cat, site, name)) return;
    cat->dbs = md_realloc(cat->dbs, (cat->ndbs + 1) * sizeof *cat->dbs);
    md_cat_db *d = &cat->dbs[cat->ndbs++];
    *d = (md_cat_db){md_strdup(name), site, false, NULL, 0};
    schema_push(d, "main");
}

void md_catalog_drop_db(md_catalog *cat, md_site site, const char *name) {
    md_cat_db *d = db_mut(cat, site, name);
    if (!d) return;
    db_free(d);
    size_t at = (size_t)(d - cat->dbs);
    memmove(d, d + 1, (cat->ndbs - at - 1) * sizeof *d);
    cat->ndbs--;
}

void md_catalog_add_schema(md_catalog *cat, md_site site, const char *db, const char *schema) {
    md_cat_db *d = db_mut(cat, site, db);
    if (d && !md_catalog_schema(d, schema)) schema_push(d, schema);
}

void md_catalog_drop_schema(md_catalog *cat, md_site site, const char *db, const char *schema) {
    md_cat_db *d = db_mut(cat, site, db);
    md_cat_schema *s = (md_cat_schema *)md_catalog_schema(d, schema);
    if (!s) return;
    schema_free(s);
    size_t at = (size_t)(s - d->schemas);
    memmove(s, s + 1, (d->nschemas - at - 1) * sizeof *s);
    d->nschemas--;
}

void md_catalog_add_table(md_catalog *cat, md_site site, const char *db, const char *schema, const char *table,
                          bool view) {
    md_cat_schema *s = schema_mut(cat, site, db, schema);
    if (!s || md_catalog_table(s, table)) return;
    s->tables = md_realloc(s->tables, (s->ntables + 1) * sizeof *s->tables);
    s->tables[s->ntables++] = (md_cat_table){md_strdup(table), view, -1, NULL, 0};
}

void md_catalog_drop_table(md_catalog *cat, md_site site, const char *db, const char *schema, const char *table) {
    md_cat_schema *s = schema_mut(cat, site, db, schema);
    md_cat_table *t = (md_cat_table *)md_catalog_table(s, table);
    if (!t) return;
    table_free(t);
    size_t at = (size_t)(t - s->tables);
    memmove(t, t + 1, (s->ntables - at - 1) * sizeof *t);
    s->ntables--;
}

/* ---- JSON in ---------------------------------------------------------------------- */

typedef struct parse {
    char path[160]; /* where we are, for messages: databases[1].schemas[0] */
    char *err;
    int rc;
} parse;

static int fail(parse *p, int rc, const char *what) {
    if (!p->err) {
        p->err = md_asprintf("catalog JSON: %s%s%s", p->path, *p->path ? " " : "", what);
        p->rc = rc;
    }
    return rc;
}

/* A required string member, or NULL after recording the error. */
static const char *req_string(parse *p, const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v) || !v->valuestring) {
        char what[64];
        snprintf(what, sizeof what, "needs \"%s\" as a string", key);
        fail(p, MD_EINVAL, what);
        return NULL;
    }
    return v->valuestring;
}

/* An optional array member: NULL when absent or null; records an error and
 * returns NULL when present with another type (check p->err). */
static const cJSON *opt_array(parse *p, const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return NULL;
    if (!cJSON_IsArray(v)) {
        char what[64];
        snprintf(what, sizeof what, "has \"%s\" that is not an array", key);
        fail(p, MD_EINVAL, what);
        return NULL;
    }
    return v;
}

static bool opt_bool(parse *p, const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) return false;
    if (!cJSON_IsBool(v)) {
        char what[64];
        snprintf(what, sizeof what, "has \"%s\" that is not true or false", key);
        fail(p, MD_EINVAL, what);
        return false;
    }
    return cJSON_IsTrue(v);
}

static void path_push(parse *p, size_t *mark, const char *fmt, const char *key, int index) {
    *mark = strlen(p->path);
    snprintf(p->path + *mark, sizeof p->path - *mark, fmt, key, index);
}

static int parse_table(parse *p, const cJSON *jt, md_cat_table *t) {
    memset(t, 0, sizeof *t);
    t->rows = -1;
    if (!cJSON_IsObject(jt)) return fail(p, MD_EINVAL, "is not an object");
    const char *name = req_string(p, jt, "name");
    if (!name) return p->rc;
    t->name = md_strdup(name);
    t->view = opt_bool(p, jt, "view");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(jt, "rows");
    if (rows && !cJSON_IsNull(rows)) {
        if (!cJSON_IsNumber(rows) || rows->valuedouble < 0) return fail(p, MD_EINVAL, "has \"rows\" that is not a number >= 0");
        t->rows = (int64_t)rows->valuedouble;
    }
    const cJSON *cols = opt_array(p, jt, "columns");
    if (p->err) return p->rc;
    int n = cols ? cJSON_GetArraySize(cols) : 0;
    t->columns = n ? md_calloc((size_t)n, sizeof *t->columns) : NULL;
    int k = 0;
    const cJSON *jc;
    cJSON_ArrayForEach(jc, cols) {
        size_t mark;
        path_push(p, &mark, ".%s[%d]", "columns", k);
        if (!cJSON_IsObject(jc)) return fail(p, MD_EINVAL, "is not an object");
        const char *cname = req_string(p, jc, "name");
        const char *ctype = cname ? req_string(p, jc, "type") : NULL;
        if (!ctype) return p->rc;
        t->columns[k].name = md_strdup(cname);
        t->columns[k].type = md_strdup(ctype);
        t->ncolumns = (size_t)++k;
        p->path[mark] = 0;
    }
    return MD_OK;
}

static int by_name(const void *a, const void *b) {
    const md_cat_table *x = *(const md_cat_table *const *)a, *y = *(const md_cat_table *const *)b;
    int c = strcasecmp(x->name, y->name);
    return c ? c : (x < y ? -1 : x > y);
}

/* The index of a table whose name (compared as DuckDB does, case-insensitively)
 * an earlier table of `tables` has, or -1.  Sorted, so a schema of many
 * thousand tables is checked in n log n. */
static long repeated_name(md_cat_table *tables, size_t n) {
    if (n < 2) return -1;
    md_cat_table **order = md_malloc(n * sizeof *order);
    for (size_t k = 0; k < n; k++) order[k] = &tables[k];
    qsort(order, n, sizeof *order, by_name);
    long again = -1;
    for (size_t k = 1; k < n; k++) {
        if (strcasecmp(order[k - 1]->name, order[k]->name) != 0) continue;
        long at = (long)(order[k] - tables); /* the later of the two (ties sort by position) */
        if (again < 0 || at < again) again = at;
    }
    md_free(order);
    return again;
}

static int parse_schema(parse *p, const cJSON *js, md_cat_schema *s) {
    memset(s, 0, sizeof *s);
    if (!cJSON_IsObject(js)) return fail(p, MD_EINVAL, "is not an object");
    const char *name = req_string(p, js, "name");
    if (!name) return p->rc;
    s->name = md_strdup(name);
    const cJSON *tables = opt_array(p, js, "tables");
    if (p->err) return p->rc;
    int n = tables ? cJSON_GetArraySize(tables) : 0;
    s->tables = n ? md_calloc((size_t)n, sizeof *s->tables) : NULL;
    int k = 0;
    const cJSON *jt;
    cJSON_ArrayForEach(jt, tables) {
        size_t mark;
        path_push(p, &mark, ".%s[%d]", "tables", k);
        int rc = parse_table(p, jt, &s->tables[k]);
        s->ntables = (size_t)++k; /* counted even when partial, so it is freed */
        if (rc != MD_OK) return rc;
        p->path[mark] = 0;
    }
    long again = repeated_name(s->tables, s->ntables);
    if (again >= 0) {
        size_t mark;
        path_push(p, &mark, ".%s[%d]", "tables", (int)again);
        return fail(p, MD_EEXISTS, "repeats a table name");
    }
    return MD_OK;
}

static int parse_db(parse *p, const cJSON *jd, md_cat_db *d, md_site site) {
    memset(d, 0, sizeof *d);
    d->site = site;
    if (!cJSON_IsObject(jd)) return fail(p, MD_EINVAL, "is not an object");
    const char *name = req_string(p, jd, "name");
    if (!name) return p->rc;
    d->name = md_strdup(name);
    d->read_only = opt_bool(p, jd, "read_only");
    const cJSON *schemas = opt_array(p, jd, "schemas");
    if (p->err) return p->rc;
    int n = schemas ? cJSON_GetArraySize(schemas) : 0;
    d->schemas = n ? md_calloc((size_t)n, sizeof *d->schemas) : NULL;
    int k = 0;
    const cJSON *js;
    cJSON_ArrayForEach(js, schemas) {
        size_t mark;
        path_push(p, &mark, ".%s[%d]", "schemas", k);
        int rc = parse_schema(p, js, &d->schemas[k]);
        d->nschemas = (size_t)++k;
        if (rc != MD_OK) return rc;
        if (md_catalog_schema(&(md_cat_db){d->name, site, false, d->schemas, d->nschemas - 1}, d->schemas[k - 1].name))
            return fail(p, MD_EEXISTS, "repeats a schema name");
        p->path[mark] = 0;
    }
    return MD_OK;
}

int md_catalog_set_json(md_catalog *cat, md_site site, const char *json, size_t len, char **out_err) {
    if (site != MD_SITE_LOCAL && site != MD_SITE_REMOTE) {
        if (out_err) *out_err = md_strdup("catalog: the site must be local or remote");
        return MD_EINVAL;
    }
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) {
        if (out_err) *out_err = md_strdup("catalog JSON: not valid JSON");
        return MD_EINVAL;
    }
    parse p = {.rc = MD_OK};
    md_cat_db *dbs = NULL;
    size_t ndbs = 0;
    const cJSON *jdbs = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "databases") : NULL;
    if (!cJSON_IsArray(jdbs)) {
        fail(&p, MD_EINVAL, "needs an object with a \"databases\" array");
    } else {
        int n = cJSON_GetArraySize(jdbs), k = 0;
        dbs = n ? md_calloc((size_t)n, sizeof *dbs) : NULL;
        const cJSON *jd;
        cJSON_ArrayForEach(jd, jdbs) {
            size_t mark;
            path_push(&p, &mark, "%s[%d]", "databases", k);
            md_cat_db *d = &dbs[ndbs];
            int rc = parse_db(&p, jd, d, site);
            ndbs++;
            if (rc != MD_OK) break;
            if (strcasecmp(d->name, "system") == 0) { /* DuckDB's built-ins: not a user database */
                db_free(d);
                ndbs--;
            } else {
                for (size_t j = 0; j + 1 < ndbs; j++)
                    if (strcasecmp(dbs[j].name, d->name) == 0) fail(&p, MD_EEXISTS, "repeats a database name");
                if (p.err) break;
            }
            p.path[mark] = 0;
            k++;
        }
    }
    cJSON_Delete(root);
    if (p.err) {
        for (size_t k = 0; k < ndbs; k++) db_free(&dbs[k]);
        md_free(dbs);
        if (out_err) *out_err = p.err;
        else md_free(p.err);
        return p.rc;
    }
    /* Swap: drop this site's old entries, append the new ones. */
    size_t keep = 0;
    for (size_t k = 0; k < cat->ndbs; k++) {
        if (cat->dbs[k].site == site) db_free(&cat->dbs[k]);
        else cat->dbs[keep++] = cat->dbs[k];
    }
    cat->dbs = md_realloc(cat->dbs, (keep + ndbs) * sizeof *cat->dbs);
    if (ndbs) memcpy(cat->dbs + keep, dbs, ndbs * sizeof *dbs);
    cat->ndbs = keep + ndbs;
    md_free(dbs);
    return MD_OK;
}

/* ---- JSON out ------------------------------------------------------------------------ */

static cJSON *db_json(const md_cat_db *d) {
    cJSON *jd = cJSON_CreateObject();
    cJSON_AddStringToObject(jd, "name", d->name);
    cJSON_AddStringToObject(jd, "site", md_site_name(d->site));
    cJSON_AddBoolToObject(jd, "read_only", d->read_only);
    cJSON *schemas = cJSON_AddArrayToObject(jd, "schemas");
    for (size_t s = 0; s < d->nschemas; s++) {
        const md_cat_schema *sc = &d->schemas[s];
        cJSON *js = cJSON_CreateObject();
        cJSON_AddStringToObject(js, "name", sc->name);
        cJSON *tables = cJSON_AddArrayToObject(js, "tables");
        for (size_t t = 0; t < sc->ntables; t++) {
            const md_cat_table *tb = &sc->tables[t];
            cJSON *jt = cJSON_CreateObject();
            cJSON_AddStringToObject(jt, "name", tb->name);
            cJSON_AddBoolToObject(jt, "view", tb->view);
            if (tb->rows >= 0) cJSON_AddNumberToObject(jt, "rows", (double)tb->rows);
            else cJSON_AddNullToObject(jt, "rows");
            cJSON *cols = cJSON_AddArrayToObject(jt, "columns");
            for (size_t c = 0; c < tb->ncolumns; c++) {
                cJSON *jc = cJSON_CreateObject();
                cJSON_AddStringToObject(jc, "name", tb->columns[c].name);
                cJSON_AddStringToObject(jc, "type", tb->columns[c].type);
                cJSON_AddItemToArray(cols, jc);
            }
            cJSON_AddItemToArray(tables, jt);
        }
        cJSON_AddItemToArray(schemas, js);
    }
    return jd;
}

int md_catalog_to_json(const md_catalog *cat, char **out_json) {
    cJSON *root = cJSON_CreateObject();
    cJSON *dbs = cJSON_AddArrayToObject(root, "databases");
    for (int pass = 0; pass < 2; pass++) {
        md_site want = pass == 0 ? MD_SITE_LOCAL : MD_SITE_REMOTE;
        for (size_t k = 0; k < cat->ndbs; k++)
            if (cat->dbs[k].site == want) cJSON_AddItemToArray(dbs, db_json(&cat->dbs[k]));
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s) return MD_ENOMEM; /* cJSON could not allocate */
    *out_json = md_strdup(s);
    cJSON_free(s);
    return MD_OK;
}

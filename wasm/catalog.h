/*
 * catalog.h: the browser engine's catalog cache: which databases, schemas,
 * tables and columns exist, and at which site each database lives.
 *
 * Two sites: LOCAL (duckdb-wasm in the page) and REMOTE (the user's session
 * on mdserver).  Each site's part of the cache is replaced whole by
 * md_catalog_set_json(): the server sends its part in a CATALOG message (at
 * login and whenever its catalog changed), the page sends duckdb-wasm's part
 * after it changes.  Between two such messages the router adds and removes
 * entries for the DDL, ATTACH and DETACH statements it routes, so that the
 * statements after them in the same script resolve as they will run.
 *
 * ---- CATALOG JSON (one site) ---------------------------------------------
 *
 *   {
 *     "databases": [
 *       {
 *         "name": "my_db",                 string, required
 *         "read_only": false,              bool, optional (false)
 *         "schemas": [                     array, optional ([])
 *           {
 *             "name": "main",              string, required
 *             "tables": [                  array, optional ([])
 *               {
 *                 "name": "orders",        string, required
 *                 "view": false,           bool, optional (false)
 *                 "rows": 1000,            number >= 0, optional (unknown: absent or null)
 *                 "columns": [             array, optional ([])
 *                   {"name": "id", "type": "INTEGER"}     both strings, required
 *                 ]
 *               }
 *             ]
 *           }
 *         ]
 *       }
 *     ]
 *   }
 *
 * Unknown keys are ignored (room to grow).  A database named "system" is
 * skipped (it holds only DuckDB's built-in functions and views, at both
 * sites).  Two databases of one site with the same name, or two schemas of a
 * database, or two tables of a schema, are an error.  md_catalog_to_json()
 * writes both sites in this shape with "site": "local"|"remote" added to each
 * database.
 *
 * Names: DuckDB compares identifiers case-insensitively (quoted ones too), so
 * every lookup here does; entries keep the spelling they were given.
 *
 * Invariant: names are unique (case-insensitively) per site among databases,
 * per database among schemas, per schema among tables.  Pointers returned by
 * the lookups stay valid until the next call that changes the catalog.
 */
#ifndef MD_CATALOG_H
#define MD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum md_site { MD_SITE_NONE = 0, MD_SITE_LOCAL = 1, MD_SITE_REMOTE = 2 } md_site;

/* "local", "remote", or "" for MD_SITE_NONE. */
const char *md_site_name(md_site site);

/* The other site (LOCAL <-> REMOTE); NONE for NONE. */
md_site md_site_other(md_site site);

typedef struct md_cat_column {
    char *name;
    char *type;
} md_cat_column;

typedef struct md_cat_table {
    char *name;
    bool view;
    int64_t rows; /* -1: unknown */
    md_cat_column *columns;
    size_t ncolumns;
} md_cat_table;

typedef struct md_cat_schema {
    char *name;
    md_cat_table *tables;
    size_t ntables;
} md_cat_schema;

typedef struct md_cat_db {
    char *name;
    md_site site;
    bool read_only;
    md_cat_schema *schemas;
    size_t nschemas;
} md_cat_db;

typedef struct md_catalog md_catalog;

/* A new catalog holding `local_db` (LOCAL) and `remote_db` (REMOTE), each
 * with an empty schema "main": the databases a page session starts with,
 * before any CATALOG message.  Either name may be NULL (no database).
 * Destroy with md_catalog_destroy. */
md_catalog *md_catalog_create(const char *local_db, const char *remote_db);

/* Free the catalog; sets *cat to NULL.  NULL is fine. */
void md_catalog_destroy(md_catalog **cat);

/* A deep copy (the router works on one when a dry run must not change the
 * cache).  Destroy with md_catalog_destroy. */
md_catalog *md_catalog_clone(const md_catalog *cat);

/*
 * Replace everything the catalog holds for `site` (LOCAL or REMOTE) with the
 * CATALOG JSON in json[0..len).  All or nothing: on failure the catalog is
 * unchanged and *out_err (if not NULL) gets an md_malloc'd sentence naming
 * the offending element (caller frees).  Returns MD_OK, MD_EINVAL (not
 * JSON, or not the shape above; a bad site) or MD_EEXISTS (a duplicate name).
 */
int md_catalog_set_json(md_catalog *cat, md_site site, const char *json, size_t len, char **out_err);

/*
 * Both sites as JSON (the shape above, each database with "site"), local
 * databases first.  *out_json is md_malloc'd (caller frees).  Returns MD_OK,
 * or MD_ENOMEM when cJSON could not allocate (nothing written then).
 */
int md_catalog_to_json(const md_catalog *cat, char **out_json);

/* The database `name` at `site` (LOCAL or REMOTE), or NULL. */
const md_cat_db *md_catalog_db(const md_catalog *cat, md_site site, const char *name);

/* The schema `name` of `db`, or NULL (db may be NULL). */
const md_cat_schema *md_catalog_schema(const md_cat_db *db, const char *name);

/* The table or view `name` of `schema`, or NULL (schema may be NULL). */
const md_cat_table *md_catalog_table(const md_cat_schema *schema, const char *name);

/*
 * Changes the router makes for statements it routes.  Each is a no-op when
 * the entry already exists (add) or does not (drop); adding a schema or table
 * to a database that is not there does nothing.  md_catalog_add_db gives the
 * new database an empty "main" schema; md_catalog_add_table records a table
 * with unknown rows and no columns.
 */
void md_catalog_add_db(md_catalog *cat, md_site site, const char *name);
void md_catalog_drop_db(md_catalog *cat, md_site site, const char *name);
void md_catalog_add_schema(md_catalog *cat, md_site site, const char *db, const char *schema);
void md_catalog_drop_schema(md_catalog *cat, md_site site, const char *db, const char *schema);
void md_catalog_add_table(md_catalog *cat, md_site site, const char *db, const char *schema, const char *table,
                          bool view);
void md_catalog_drop_table(md_catalog *cat, md_site site, const char *db, const char *schema, const char *table);

#endif

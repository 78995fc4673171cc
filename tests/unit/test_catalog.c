/*
 * test_catalog.c: the browser engine's catalog cache (wasm/catalog.c):
 * CATALOG JSON in and out, validation with the offending element named,
 * all-or-nothing replacement per site, case-insensitive lookups, and the
 * changes the router makes; and the catalog query (wasm/catalog_rows.c) on a
 * real DuckDB, folded from its rows as JSON (the dual driver's way) and
 * directly (the duckling's way), to the same catalog.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include <duckdb.h>
#include "server/duckdb/catalog_query.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "wasm/catalog.h"
#include "wasm/catalog_rows.h"

static const char *REMOTE_JSON =
    "{\"databases\": ["
    " {\"name\": \"my_db\", \"schemas\": ["
    "   {\"name\": \"main\", \"tables\": ["
    "     {\"name\": \"Orders\", \"rows\": 1000, \"columns\": [{\"name\": \"id\", \"type\": \"INTEGER\"},"
    "                                                      {\"name\": \"total\", \"type\": \"DECIMAL(18,3)\"}]},"
    "     {\"name\": \"v\", \"view\": true, \"rows\": null}]},"
    "   {\"name\": \"staging\", \"tables\": [{\"name\": \"raw\"}]}]},"
    " {\"name\": \"shared_db\", \"read_only\": true, \"extra\": {\"ignored\": 1}},"
    " {\"name\": \"system\", \"schemas\": [{\"name\": \"main\"}]}"
    "]}";

static int set(md_catalog *cat, md_site site, const char *json, char **err) {
    return md_catalog_set_json(cat, site, json, strlen(json), err);
}

static void starts_with_the_session_databases(void **state) {
    md_catalog *cat = md_catalog_create("memory", "my_db");
    const md_cat_db *m = md_catalog_db(cat, MD_SITE_LOCAL, "memory");
    assert_non_null(m);
    assert_int_equal(m->site, MD_SITE_LOCAL);
    assert_non_null(md_catalog_schema(m, "main"));
    assert_non_null(md_catalog_db(cat, MD_SITE_REMOTE, "my_db"));
    assert_null(md_catalog_db(cat, MD_SITE_LOCAL, "my_db")); /* per site */
    md_catalog_destroy(&cat);
    assert_null(cat);
    md_catalog_destroy(&cat); /* NULL is fine */
}

static void parses_the_documented_shape(void **state) {
    md_catalog *cat = md_catalog_create("memory", "my_db");
    char *err = NULL;
    assert_int_equal(set(cat, MD_SITE_REMOTE, REMOTE_JSON, &err), MD_OK);
    assert_null(err);
    const md_cat_db *d = md_catalog_db(cat, MD_SITE_REMOTE, "MY_DB"); /* case-insensitive */
    assert_non_null(d);
    assert_string_equal(d->name, "my_db");
    const md_cat_table *t = md_catalog_table(md_catalog_schema(d, "MAIN"), "orders");
    assert_non_null(t);
    assert_string_equal(t->name, "Orders");
    assert_int_equal(t->rows, 1000);
    assert_false(t->view);
    assert_int_equal(t->ncolumns, 2);
    assert_string_equal(t->columns[1].type, "DECIMAL(18,3)");
    const md_cat_table *v = md_catalog_table(md_catalog_schema(d, "main"), "v");
    assert_true(v->view);
    assert_int_equal(v->rows, -1);
    assert_non_null(md_catalog_table(md_catalog_schema(d, "staging"), "raw"));
    const md_cat_db *s = md_catalog_db(cat, MD_SITE_REMOTE, "shared_db");
    assert_true(s->read_only);
    assert_int_equal(s->nschemas, 0);
    assert_null(md_catalog_db(cat, MD_SITE_REMOTE, "system")); /* built-ins are skipped */
    assert_non_null(md_catalog_db(cat, MD_SITE_LOCAL, "memory")); /* the other site is untouched */
    md_catalog_destroy(&cat);
}

static void rejects_bad_documents_and_keeps_the_old_catalog(void **state) {
    struct { const char *json; int rc; const char *says; } cases[] = {
        {"not json", MD_EINVAL, "not valid JSON"},
        {"[]", MD_EINVAL, "\"databases\" array"},
        {"{\"databases\": {}}", MD_EINVAL, "\"databases\" array"},
        {"{\"databases\": [{\"schemas\": []}]}", MD_EINVAL, "databases[0] needs \"name\""},
        {"{\"databases\": [{\"name\": 1}]}", MD_EINVAL, "databases[0] needs \"name\""},
        {"{\"databases\": [{\"name\": \"a\", \"schemas\": 3}]}", MD_EINVAL, "\"schemas\" that is not an array"},
        {"{\"databases\": [{\"name\": \"a\", \"read_only\": \"yes\"}]}", MD_EINVAL, "\"read_only\""},
        {"{\"databases\": [{\"name\": \"a\", \"schemas\": [{\"name\": \"main\", \"tables\": [{\"name\": \"t\", "
         "\"rows\": -1}]}]}]}",
         MD_EINVAL, "databases[0].schemas[0].tables[0] has \"rows\""},
        {"{\"databases\": [{\"name\": \"a\", \"schemas\": [{\"name\": \"main\", \"tables\": [{\"name\": \"t\", "
         "\"columns\": [{\"name\": \"c\"}]}]}]}]}",
         MD_EINVAL, "databases[0].schemas[0].tables[0].columns[0] needs \"type\""},
        {"{\"databases\": [{\"name\": \"a\"}, {\"name\": \"A\"}]}", MD_EEXISTS, "databases[1] repeats a database"},
        {"{\"databases\": [{\"name\": \"a\", \"schemas\": [{\"name\": \"s\"}, {\"name\": \"S\"}]}]}", MD_EEXISTS,
         "schemas[1] repeats"},
        {"{\"databases\": [{\"name\": \"a\", \"schemas\": [{\"name\": \"s\", \"tables\": [{\"name\": \"t\"}, "
         "{\"name\": \"T\"}]}]}]}",
         MD_EEXISTS, "tables[1] repeats"},
        {"{\"databases\": [{\"name\": \"a\", \"schemas\": [{\"name\": \"s\", \"tables\": [{\"name\": \"v\"}, "
         "{\"name\": \"u\"}, {\"name\": \"t\"}, {\"name\": \"x\"}, {\"name\": \"U\"}, {\"name\": \"T\"}]}]}]}",
         MD_EEXISTS, "tables[4] repeats"},
    };
    md_catalog *cat = md_catalog_create("memory", "my_db");
    assert_int_equal(set(cat, MD_SITE_REMOTE, REMOTE_JSON, NULL), MD_OK);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *err = NULL;
        int rc = set(cat, MD_SITE_REMOTE, cases[i].json, &err);
        if (rc != cases[i].rc || !err || !strstr(err, cases[i].says))
            fail_msg("<%s>: rc %d, \"%s\"", cases[i].json, rc, err ? err : "(no message)");
        md_free(err);
        /* all or nothing: the previous remote part is still there */
        assert_non_null(md_catalog_table(md_catalog_schema(md_catalog_db(cat, MD_SITE_REMOTE, "my_db"), "main"), "orders"));
    }
    char *err = NULL;
    assert_int_equal(md_catalog_set_json(cat, MD_SITE_NONE, "{\"databases\": []}", 16, &err), MD_EINVAL);
    md_free(err);
    /* An empty list is valid and empties the site. */
    assert_int_equal(set(cat, MD_SITE_REMOTE, "{\"databases\": []}", NULL), MD_OK);
    assert_null(md_catalog_db(cat, MD_SITE_REMOTE, "my_db"));
    assert_non_null(md_catalog_db(cat, MD_SITE_LOCAL, "memory"));
    md_catalog_destroy(&cat);
}

static void writes_both_sites_as_json(void **state) {
    md_catalog *cat = md_catalog_create("memory", "my_db");
    assert_int_equal(set(cat, MD_SITE_REMOTE, REMOTE_JSON, NULL), MD_OK);
    char *json = NULL;
    assert_int_equal(md_catalog_to_json(cat, &json), MD_OK);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    cJSON *dbs = cJSON_GetObjectItem(root, "databases");
    assert_int_equal(cJSON_GetArraySize(dbs), 3);
    cJSON *first = cJSON_GetArrayItem(dbs, 0);
    assert_string_equal(cJSON_GetObjectItem(first, "name")->valuestring, "memory");
    assert_string_equal(cJSON_GetObjectItem(first, "site")->valuestring, "local");
    cJSON *my = cJSON_GetArrayItem(dbs, 1);
    assert_string_equal(cJSON_GetObjectItem(my, "site")->valuestring, "remote");
    cJSON *orders = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(my, "schemas"), 0), "tables"), 0);
    assert_int_equal(cJSON_GetObjectItem(orders, "rows")->valueint, 1000);
    /* What comes out goes back in unchanged. */
    md_catalog *again = md_catalog_create(NULL, NULL);
    cJSON *remote_only = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(remote_only, "databases");
    cJSON_AddItemToArray(arr, cJSON_Duplicate(my, 1));
    char *sub = cJSON_PrintUnformatted(remote_only);
    assert_int_equal(set(again, MD_SITE_REMOTE, sub, NULL), MD_OK);
    const md_cat_table *t = md_catalog_table(md_catalog_schema(md_catalog_db(again, MD_SITE_REMOTE, "my_db"), "main"), "Orders");
    assert_non_null(t);
    assert_int_equal(t->ncolumns, 2);
    cJSON_free(sub);
    cJSON_Delete(remote_only);
    cJSON_Delete(root);
    md_free(json);
    md_catalog_destroy(&again);
    md_catalog_destroy(&cat);
}

static void changes_and_clones(void **state) {
    md_catalog *cat = md_catalog_create("memory", "my_db");
    md_catalog_add_db(cat, MD_SITE_LOCAL, "f");
    md_catalog_add_db(cat, MD_SITE_LOCAL, "F"); /* exists: no-op */
    md_catalog_add_schema(cat, MD_SITE_LOCAL, "f", "s");
    md_catalog_add_table(cat, MD_SITE_LOCAL, "f", "s", "t", false);
    md_catalog_add_table(cat, MD_SITE_LOCAL, "nope", "s", "t", false); /* no such database: no-op */
    const md_cat_table *t = md_catalog_table(md_catalog_schema(md_catalog_db(cat, MD_SITE_LOCAL, "f"), "s"), "t");
    assert_non_null(t);
    assert_int_equal(t->rows, -1);
    md_catalog *copy = md_catalog_clone(cat);
    md_catalog_drop_table(cat, MD_SITE_LOCAL, "f", "s", "T");
    assert_null(md_catalog_table(md_catalog_schema(md_catalog_db(cat, MD_SITE_LOCAL, "f"), "s"), "t"));
    assert_non_null(md_catalog_table(md_catalog_schema(md_catalog_db(copy, MD_SITE_LOCAL, "f"), "s"), "t"));
    md_catalog_drop_schema(cat, MD_SITE_LOCAL, "f", "s");
    assert_null(md_catalog_schema(md_catalog_db(cat, MD_SITE_LOCAL, "f"), "s"));
    md_catalog_drop_db(cat, MD_SITE_LOCAL, "memory");
    assert_null(md_catalog_db(cat, MD_SITE_LOCAL, "memory"));
    assert_non_null(md_catalog_db(cat, MD_SITE_LOCAL, "f"));
    assert_non_null(md_catalog_db(cat, MD_SITE_REMOTE, "my_db"));
    md_catalog_drop_db(cat, MD_SITE_REMOTE, "memory"); /* not there: no-op */
    md_catalog_destroy(&copy);
    md_catalog_destroy(&cat);
}

static void site_names(void **state) {
    assert_string_equal(md_site_name(MD_SITE_LOCAL), "local");
    assert_string_equal(md_site_name(MD_SITE_REMOTE), "remote");
    assert_string_equal(md_site_name(MD_SITE_NONE), "");
    assert_int_equal(md_site_other(MD_SITE_LOCAL), MD_SITE_REMOTE);
    assert_int_equal(md_site_other(MD_SITE_REMOTE), MD_SITE_LOCAL);
}

static void catalog_query_rows_fold_as_the_duckling_does(void **state) {
    duckdb_database db;
    duckdb_connection conn;
    assert_int_equal(duckdb_open(NULL, &db), DuckDBSuccess);
    assert_int_equal(duckdb_connect(db, &conn), DuckDBSuccess);
    duckdb_result r;
    char file[64];
    snprintf(file, sizeof file, "/tmp/test_catalog_%d.duckdb", (int)getpid());
    char *setup = md_asprintf("CREATE SCHEMA s2; CREATE TABLE t AS SELECT range AS id, 'x' AS \"we\"\"ird\" "
                              "FROM range(5); CREATE VIEW v AS SELECT id FROM t; CREATE TABLE s2.u (d DECIMAL(18,3)); "
                              "ATTACH '%s' AS other; DETACH other; ATTACH '%s' AS other (READ_ONLY); "
                              "CREATE TEMP TABLE tt (x INT)",
                              file, file);
    assert_int_equal(duckdb_query(conn, setup, &r), DuckDBSuccess);
    duckdb_destroy_result(&r);
    md_free(setup);
    for (unsigned flags = 0; flags <= MD_CATALOG_WITH_MEMORY; flags++) {
        cJSON *direct = NULL;
        char *err = NULL, *rows = NULL, *folded = NULL;
        assert_int_equal(md_catalog_query(conn, flags, &direct, &err), MD_OK);
        assert_int_equal(md_catalog_rows_json(conn, md_catalog_sql(flags), &rows, &err), MD_OK);
        assert_int_equal(md_catalog_fold_json(rows, strlen(rows), &folded, &err), MD_OK);
        cJSON *via_rows = cJSON_Parse(folded);
        assert_true(cJSON_Compare(direct, via_rows, 1));
        char *text = cJSON_PrintUnformatted(direct);
        /* what is in it: memory only when asked; temp, the view, the quoted column, types as DuckDB prints them */
        assert_int_equal(strstr(text, "\"name\":\"memory\"") != NULL, flags == MD_CATALOG_WITH_MEMORY);
        assert_null(strstr(text, "\"system\""));
        assert_non_null(strstr(text, "{\"name\":\"temp\""));
        assert_non_null(strstr(text, "{\"name\":\"other\",\"read_only\":true"));
        if (flags) {
            assert_non_null(strstr(text, "{\"name\":\"v\",\"view\":true,\"columns\":[{\"name\":\"id\",\"type\":\"BIGINT\"}]}"));
            assert_non_null(strstr(text, "{\"name\":\"we\\\"ird\",\"type\":\"VARCHAR\"}"));
            assert_non_null(strstr(text, "{\"name\":\"d\",\"type\":\"DECIMAL(18,3)\"}"));
        }
        /* and the engine's cache takes it */
        md_catalog *cat = md_catalog_create("memory", "my_db");
        assert_int_equal(md_catalog_set_json(cat, MD_SITE_LOCAL, folded, strlen(folded), &err), MD_OK);
        md_catalog_destroy(&cat);
        cJSON_free(text);
        cJSON_Delete(direct);
        cJSON_Delete(via_rows);
        md_free(rows);
        md_free(folded);
    }
    duckdb_disconnect(&conn);
    duckdb_close(&db);
    unlink(file);
}

static void catalog_fold_refuses_what_are_not_rows(void **state) {
    char *json = NULL, *err = NULL;
    const char *bad[] = {"{}", "[[0,\"a\"]]", "[\"x\"]", "[[\"0\",1,2,3,4,5,6,7,8,9]]", "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(md_catalog_fold_json(bad[i], strlen(bad[i]), &json, &err), MD_EINVAL);
        assert_non_null(err);
        md_free(err);
        err = NULL;
    }
    /* a row whose parent never came is left out */
    const char *orphan = "[[3,\"nodb\",\"main\",\"t\",\"c\",\"INTEGER\",null,null,null,0],"
                         "[0,\"d\",null,null,null,null,false,null,null,0]]";
    assert_int_equal(md_catalog_fold_json(orphan, strlen(orphan), &json, &err), MD_OK);
    assert_string_equal(json, "{\"databases\":[{\"name\":\"d\",\"read_only\":false,\"schemas\":[]}]}");
    md_free(json);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_with_the_session_databases),
        cmocka_unit_test(parses_the_documented_shape),
        cmocka_unit_test(rejects_bad_documents_and_keeps_the_old_catalog),
        cmocka_unit_test(writes_both_sites_as_json),
        cmocka_unit_test(changes_and_clones),
        cmocka_unit_test(site_names),
        cmocka_unit_test(catalog_query_rows_fold_as_the_duckling_does),
        cmocka_unit_test(catalog_fold_refuses_what_are_not_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

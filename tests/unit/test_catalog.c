/*
 * test_catalog.c: the browser engine's catalog cache (wasm/catalog.c):
 * CATALOG JSON in and out, validation with the offending element named,
 * all-or-nothing replacement per site, case-insensitive lookups, and the
 * changes the router makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "wasm/catalog.h"

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_with_the_session_databases),
        cmocka_unit_test(parses_the_documented_shape),
        cmocka_unit_test(rejects_bad_documents_and_keeps_the_old_catalog),
        cmocka_unit_test(writes_both_sites_as_json),
        cmocka_unit_test(changes_and_clones),
        cmocka_unit_test(site_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

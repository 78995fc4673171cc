/*
 * fuzz_catalog.c: libFuzzer target for the catalog JSON the client engine
 * reads (wasm/catalog.c): the server's CATALOG answers and duckdb-wasm's
 * own catalog reach it.
 * Invariants checked: a catalog that was read writes out as JSON that,
 * split by site, reads back into a catalog that writes out the same.
 * fuzz-sources: wasm/catalog.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "wasm/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    md_catalog *cat = md_catalog_create("memory", "my_db");
    char *err = NULL;
    if (md_catalog_set_json(cat, MD_SITE_REMOTE, (const char *)data, size, &err) == MD_OK) {
        /* what it writes, split by "site", reads back into the same catalog */
        char *once = NULL, *twice = NULL;
        if (md_catalog_to_json(cat, &once) != MD_OK) abort();
        cJSON *all = cJSON_Parse(once);
        if (!all) abort();
        md_catalog *a = md_catalog_create("memory", "my_db");
        static const char *const sites[] = {"local", "remote"};
        for (int k = 0; k < 2; k++) {
            cJSON *part = cJSON_CreateObject(), *dbs = cJSON_AddArrayToObject(part, "databases");
            const cJSON *db;
            cJSON_ArrayForEach(db, cJSON_GetObjectItemCaseSensitive(all, "databases")) {
                const cJSON *site = cJSON_GetObjectItemCaseSensitive(db, "site");
                if (cJSON_IsString(site) && strcmp(site->valuestring, sites[k]) == 0)
                    cJSON_AddItemToArray(dbs, cJSON_Duplicate(db, 1));
            }
            char *text = cJSON_PrintUnformatted(part);
            if (md_catalog_set_json(a, k ? MD_SITE_REMOTE : MD_SITE_LOCAL, text, strlen(text), NULL) != MD_OK) abort();
            cJSON_free(text);
            cJSON_Delete(part);
        }
        if (md_catalog_to_json(a, &twice) != MD_OK || strcmp(once, twice) != 0) abort();
        cJSON_Delete(all);
        md_free(once);
        md_free(twice);
        md_catalog_destroy(&a);
    }
    md_free(err);
    md_catalog_destroy(&cat);
    return 0;
}

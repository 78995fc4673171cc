/*
 * fuzz_path_guard.c: libFuzzer target for the guard that keeps user SQL away
 * from the server's database files (server/duckling/path_guard.c).
 * Invariants checked: a resolved path is absolute and has no '.', '..' or
 * empty component; a refusal's position lies inside the text.
 * fuzz-sources: server/duckling/path_guard.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/duckling/path_guard.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

#define CWD "/nonexistent-md-fuzz/users/u"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    md_sql_error e;
    size = strnlen((const char *)data, size); /* the server's SQL is a C string */
    if (md_path_guard_check((const char *)data, size, CWD, CWD "/databases", &e) != MD_OK && e.position > size)
        abort();
    char *path = md_strndup((const char *)data, size);
    if (strlen(path) == size) {
        char *r = md_path_resolve(CWD, path);
        if (r[0] != '/' || strstr(r, "//") || strstr(r, "/./") || strstr(r, "/../")) abort();
        size_t n = strlen(r);
        if (n > 1 && (r[n - 1] == '/' || (n >= 2 && strcmp(r + n - 2, "/.") == 0) ||
                      (n >= 3 && strcmp(r + n - 3, "/..") == 0)))
            abort();
        md_free(r);
    }
    md_free(path);
    return 0;
}

/*
 * fuzz_json.c: libFuzzer target for the JSON depth guard (shared/json_guard.c)
 * in front of cJSON, which every client JSON payload goes through.
 * Invariants checked: what the guard lets through never nests deeper than
 * its bound once parsed (the parse tree is walked without recursion); the
 * guard's depth is monotonic in the bound.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "shared/json_guard.h"
#include "shared/md_alloc.h"

#define BOUND 8

/* The deepest nesting of arrays and objects in j, by an explicit stack. */
static int tree_depth(const cJSON *j) {
    typedef struct { const cJSON *node; int depth; } item;
    size_t cap = 64, n = 0;
    item *stack = md_malloc(cap * sizeof *stack);
    int deepest = 0;
    stack[n++] = (item){j, cJSON_IsArray(j) || cJSON_IsObject(j) ? 1 : 0};
    while (n) {
        item it = stack[--n];
        if (it.depth > deepest) deepest = it.depth;
        for (const cJSON *c = it.node->child; c; c = c->next) {
            if (n == cap) stack = md_realloc(stack, (cap *= 2) * sizeof *stack);
            stack[n++] = (item){c, it.depth + (cJSON_IsArray(c) || cJSON_IsObject(c) ? 1 : 0)};
        }
    }
    md_free(stack);
    return deepest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *why = NULL;
    cJSON *j = md_json_parse(data, size, BOUND, &why);
    if (j) {
        if (tree_depth(j) > BOUND) abort();
        cJSON_Delete(j);
    } else if (!why) {
        abort();
    }
    int d4 = md_json_depth((const char *)data, size, 4), d8 = md_json_depth((const char *)data, size, 8);
    if (d4 > 5 || d8 > 9 || (d8 <= 4 && d4 != d8) || (d4 == 5 && d8 < 5)) abort();
    return 0;
}

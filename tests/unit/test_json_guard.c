/*
 * test_json_guard.c: JSON nesting bounded before parsing (shared/json_guard.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "shared/json_guard.h"
#include "shared/md_alloc.h"

static char *nested(int depth, char open, char close) {
    char *s = md_malloc((size_t)depth * 2 + 1);
    memset(s, open, (size_t)depth);
    memset(s + depth, close, (size_t)depth);
    s[depth * 2] = 0;
    return s;
}

static void depth_counts_arrays_and_objects(void **state) {
    assert_int_equal(md_json_depth("1", 1, 8), 0);
    assert_int_equal(md_json_depth("[]", 2, 8), 1);
    const char *t = "{\"a\":[{\"b\":[1,2]},3]}";
    assert_int_equal(md_json_depth(t, strlen(t), 8), 4);
    /* brackets in strings, escaped quotes included, do not count */
    const char *s = "{\"k\":\"[[[[\\\"[[[[\"}";
    assert_int_equal(md_json_depth(s, strlen(s), 8), 1);
    /* stops at the bound */
    char *deep = nested(100000, '[', ']');
    assert_int_equal(md_json_depth(deep, strlen(deep), 32), 33);
    md_free(deep);
}

static void parse_refuses_deep_text_before_cjson(void **state) {
    const char *why = NULL;
    char *deep = nested(700, '[', ']'); /* the size that overflowed a civetweb thread */
    assert_null(md_json_parse(deep, strlen(deep), MD_JSON_CONTROL_DEPTH, &why));
    assert_string_equal(why, "the JSON nests deeper than this message allows");
    md_free(deep);
    char *ok = nested(MD_JSON_CONTROL_DEPTH, '[', ']');
    cJSON *j = md_json_parse(ok, strlen(ok), MD_JSON_CONTROL_DEPTH, &why);
    assert_non_null(j);
    cJSON_Delete(j);
    md_free(ok);
    why = NULL;
    assert_null(md_json_parse("{\"a\":", 5, MD_JSON_CONTROL_DEPTH, &why));
    assert_string_equal(why, "the payload is not valid JSON");
    /* an unterminated string hides the rest: still bounded and refused by cJSON */
    assert_null(md_json_parse("\"[[[[", 5, 2, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(depth_counts_arrays_and_objects),
        cmocka_unit_test(parse_refuses_deep_text_before_cjson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

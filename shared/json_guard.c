/*
 * json_guard.c: bounded JSON parsing (see json_guard.h).
 *
 * The scan is a two-state machine over bytes: outside a string, '[' and '{'
 * go one level down and ']' and '}' one up; '"' enters a string, where a
 * backslash skips the next byte and '"' leaves.  Unbalanced or malformed
 * text is left for cJSON to refuse; only depth is judged here.
 */
#include "json_guard.h"

int md_json_depth(const char *text, size_t len, int max_depth) {
    int depth = 0, deepest = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = 0;
            continue;
        }
        switch (c) {
        case '"': in_string = 1; break;
        case '[':
        case '{':
            if (++depth > deepest) deepest = depth;
            if (deepest > max_depth) return max_depth + 1;
            break;
        case ']':
        case '}':
            if (depth > 0) depth--;
            break;
        default: break;
        }
    }
    return deepest;
}

cJSON *md_json_parse(const void *text, size_t len, int max_depth, const char **out_why) {
    if (md_json_depth(text, len, max_depth) > max_depth) {
        if (out_why) *out_why = "the JSON nests deeper than this message allows";
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j && out_why) *out_why = "the payload is not valid JSON";
    return j;
}

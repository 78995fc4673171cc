/*
 * json_guard.h: JSON from a peer, parsed only after its nesting was bounded.
 *
 * cJSON parses recursively: a text of a few hundred bytes made of nested
 * '[' overflowed a server thread's stack (DESIGN section 11).  Every JSON
 * payload that arrives from outside a process (a client's HELLO, QUERY,
 * UPLOAD header, DEPARSE tree) goes through md_json_parse, which scans the
 * text once without recursion and refuses it when it nests deeper than the
 * caller's bound, before cJSON sees a byte of it.
 */
#ifndef MD_JSON_GUARD_H
#define MD_JSON_GUARD_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Nesting allowed in control payloads (HELLO, QUERY, CANCEL, UPLOAD headers). */
#define MD_JSON_CONTROL_DEPTH 32
/* Nesting allowed in a DuckDB syntax tree (DEPARSE): cJSON's own limit. */
#define MD_JSON_TREE_DEPTH CJSON_NESTING_LIMIT

/*
 * How deep the arrays and objects of `text[0..len)` nest (brackets inside
 * strings do not count).  Stops counting, and returns max_depth + 1, as
 * soon as the text passes max_depth.  Does not check that the text is JSON.
 */
int md_json_depth(const char *text, size_t len, int max_depth);

/*
 * Parse `text[0..len)` if it nests at most `max_depth` levels.  Returns the
 * tree (the caller owns it: cJSON_Delete), or NULL when the text is too
 * deep or not JSON; then *out_why, if given, is a static sentence saying
 * which.
 */
cJSON *md_json_parse(const void *text, size_t len, int max_depth, const char **out_why);

#endif

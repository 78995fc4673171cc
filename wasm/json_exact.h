/*
 * json_exact.h: read JSON into a cJSON tree without changing any number.
 *
 * DuckDB's parse trees (json_serialize_sql) hold integers that a double
 * cannot carry: query_location 18446744073709551615, BIGINT and HUGEINT
 * constants.  cJSON's own reader turns every number into a double, so a tree
 * read with it and printed back would not say what DuckDB said.  This reader
 * builds the same cJSON tree except that every number is a cJSON_Raw item
 * whose valuestring is the number's text exactly as written; cJSON prints
 * raw items verbatim, so cJSON_PrintUnformatted() gives the numbers back
 * unchanged.
 *
 * Accepted: RFC 8259 JSON (one value, optional surrounding white space).
 * Strings are decoded to UTF-8 (\uXXXX surrogate pairs joined; a lone
 * surrogate or \u0000 is refused: a C string could not hold it).  Depth is
 * limited to MD_JSON_EXACT_MAX_DEPTH.
 */
#ifndef MD_JSON_EXACT_H
#define MD_JSON_EXACT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define MD_JSON_EXACT_MAX_DEPTH 2000

/*
 * Parse json[0..len).  On MD_OK *out is a new tree (the caller frees it with
 * cJSON_Delete).  On failure returns MD_EINVAL (not JSON, too deep) and
 * writes the byte offset of the problem to *out_pos when given.
 */
int md_json_exact_parse(const char *json, size_t len, cJSON **out, size_t *out_pos);

/* A raw number item's value as an int64 (a cJSON number's too); def when the
 * item is neither, or is not an integer in range. */
int64_t md_json_exact_int(const cJSON *item, int64_t def);

#endif

/*
 * json_exact.c: a recursive-descent JSON reader that keeps numbers as text
 * (see json_exact.h).  One pass, one cursor; every error stops at once and
 * reports where it happened.
 */
#include "json_exact.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

typedef struct rd {
    const char *s;
    size_t len, pos;
    int depth;
} rd;

static void skip_ws(rd *r) {
    while (r->pos < r->len) {
        char c = r->s[r->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        r->pos++;
    }
}

static int literal(rd *r, const char *word) {
    size_t n = strlen(word);
    if (r->len - r->pos < n || memcmp(r->s + r->pos, word, n) != 0) return 0;
    r->pos += n;
    return 1;
}

static int hex4(rd *r, unsigned *out) {
    if (r->len - r->pos < 4) return 0;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = r->s[r->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static void put_utf8(md_buf *b, unsigned cp) {
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xC0 | (cp >> 6));
        u[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xE0 | (cp >> 12));
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xF0 | (cp >> 18));
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    md_buf_append(b, u, n);
}

/* A string at r->pos (its opening quote): NUL-terminated UTF-8, md_malloc'd. */
static char *read_string(rd *r) {
    if (r->pos >= r->len || r->s[r->pos] != '"') return NULL;
    r->pos++;
    md_buf b = MD_BUF_INIT;
    while (r->pos < r->len) {
        unsigned char c = (unsigned char)r->s[r->pos];
        if (c == '"') {
            r->pos++;
            md_buf_put_u8(&b, 0);
            size_t n;
            return (char *)md_buf_detach(&b, &n);
        }
        if (c < 0x20) break;
        if (c != '\\') {
            md_buf_put_u8(&b, c);
            r->pos++;
            continue;
        }
        if (++r->pos >= r->len) break;
        char e = r->s[r->pos++];
        unsigned cp;
        switch (e) {
        case '"': md_buf_put_u8(&b, '"'); continue;
        case '\\': md_buf_put_u8(&b, '\\'); continue;
        case '/': md_buf_put_u8(&b, '/'); continue;
        case 'b': md_buf_put_u8(&b, '\b'); continue;
        case 'f': md_buf_put_u8(&b, '\f'); continue;
        case 'n': md_buf_put_u8(&b, '\n'); continue;
        case 'r': md_buf_put_u8(&b, '\r'); continue;
        case 't': md_buf_put_u8(&b, '\t'); continue;
        case 'u':
            if (!hex4(r, &cp) || cp == 0) goto bad;
            if (cp >= 0xDC00 && cp <= 0xDFFF) goto bad;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (r->len - r->pos < 6 || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u') goto bad;
                r->pos += 2;
                if (!hex4(r, &lo) || lo < 0xDC00 || lo > 0xDFFF) goto bad;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            put_utf8(&b, cp);
            continue;
        default: goto bad;
        }
    }
bad:
    md_buf_free(&b);
    return NULL;
}

/* A number at r->pos, kept as its text in a raw item. */
static cJSON *read_number(rd *r) {
    size_t start = r->pos;
    if (r->pos < r->len && r->s[r->pos] == '-') r->pos++;
    if (r->pos >= r->len) return NULL;
    if (r->s[r->pos] == '0') {
        r->pos++;
    } else if (r->s[r->pos] >= '1' && r->s[r->pos] <= '9') {
        while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9') r->pos++;
    } else {
        return NULL;
    }
    if (r->pos < r->len && r->s[r->pos] == '.') {
        size_t d = ++r->pos;
        while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9') r->pos++;
        if (r->pos == d) return NULL;
    }
    if (r->pos < r->len && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
        r->pos++;
        if (r->pos < r->len && (r->s[r->pos] == '+' || r->s[r->pos] == '-')) r->pos++;
        size_t d = r->pos;
        while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9') r->pos++;
        if (r->pos == d) return NULL;
    }
    size_t n = r->pos - start;
    char *text = md_malloc(n + 1);
    memcpy(text, r->s + start, n);
    text[n] = 0;
    cJSON *item = cJSON_CreateRaw(text);
    md_free(text);
    return item;
}

static cJSON *read_value(rd *r);

static cJSON *read_array(rd *r) {
    r->pos++; /* [ */
    cJSON *arr = cJSON_CreateArray();
    skip_ws(r);
    if (r->pos < r->len && r->s[r->pos] == ']') {
        r->pos++;
        return arr;
    }
    for (;;) {
        cJSON *v = read_value(r);
        if (!v) break;
        cJSON_AddItemToArray(arr, v);
        skip_ws(r);
        if (r->pos >= r->len) break;
        char c = r->s[r->pos++];
        if (c == ']') return arr;
        if (c != ',') {
            r->pos--;
            break;
        }
    }
    cJSON_Delete(arr);
    return NULL;
}

static cJSON *read_object(rd *r) {
    r->pos++; /* { */
    cJSON *obj = cJSON_CreateObject();
    skip_ws(r);
    if (r->pos < r->len && r->s[r->pos] == '}') {
        r->pos++;
        return obj;
    }
    for (;;) {
        skip_ws(r);
        char *key = read_string(r);
        if (!key) break;
        skip_ws(r);
        if (r->pos >= r->len || r->s[r->pos] != ':') {
            md_free(key);
            break;
        }
        r->pos++;
        cJSON *v = read_value(r);
        if (!v) {
            md_free(key);
            break;
        }
        cJSON_AddItemToObject(obj, key, v);
        md_free(key);
        skip_ws(r);
        if (r->pos >= r->len) break;
        char c = r->s[r->pos++];
        if (c == '}') return obj;
        if (c != ',') {
            r->pos--;
            break;
        }
    }
    cJSON_Delete(obj);
    return NULL;
}

static cJSON *read_value(rd *r) {
    skip_ws(r);
    if (r->pos >= r->len) return NULL;
    if (++r->depth > MD_JSON_EXACT_MAX_DEPTH) return NULL;
    cJSON *v = NULL;
    char c = r->s[r->pos];
    if (c == '{') {
        v = read_object(r);
    } else if (c == '[') {
        v = read_array(r);
    } else if (c == '"') {
        char *s = read_string(r);
        if (s) {
            v = cJSON_CreateString(s);
            md_free(s);
        }
    } else if (literal(r, "true")) {
        v = cJSON_CreateTrue();
    } else if (literal(r, "false")) {
        v = cJSON_CreateFalse();
    } else if (literal(r, "null")) {
        v = cJSON_CreateNull();
    } else {
        v = read_number(r);
    }
    r->depth--;
    return v;
}

int md_json_exact_parse(const char *json, size_t len, cJSON **out, size_t *out_pos) {
    rd r = {json, len, 0, 0};
    cJSON *v = read_value(&r);
    if (v) {
        skip_ws(&r);
        if (r.pos == r.len) {
            *out = v;
            return MD_OK;
        }
        cJSON_Delete(v);
    }
    if (out_pos) *out_pos = r.pos;
    return MD_EINVAL;
}

int64_t md_json_exact_int(const cJSON *item, int64_t def) {
    if (!item) return def;
    if (cJSON_IsNumber(item)) return (int64_t)item->valuedouble;
    if (!cJSON_IsRaw(item) || !item->valuestring) return def;
    errno = 0;
    char *end;
    long long v = strtoll(item->valuestring, &end, 10);
    if (errno || *end) return def;
    return (int64_t)v;
}

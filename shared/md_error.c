/*
 * md_error.c: names and sentences for the error space in md_error.h.
 */
#include "md_error.h"

#include <string.h>

const char *md_strerror(int code) {
    switch (code) {
    case MD_OK: return "success";
#define MD__ERR_MSG(name, val, wire, msg) \
    case MD_E##name: return msg;
        MD_ERRNO_MAP(MD__ERR_MSG)
#undef MD__ERR_MSG
    default: return "unknown error";
    }
}

const char *md_errname(int code) {
    switch (code) {
    case MD_OK: return "OK";
#define MD__ERR_NAME(name, val, wire, msg) \
    case MD_E##name: return wire;
        MD_ERRNO_MAP(MD__ERR_NAME)
#undef MD__ERR_NAME
    default: return "INTERNAL";
    }
}

int md_errcode(const char *name) {
#define MD__ERR_FIND(n, val, wire, msg) \
    if (strcmp(name, wire) == 0) return MD_E##n;
    MD_ERRNO_MAP(MD__ERR_FIND)
#undef MD__ERR_FIND
    return MD_EINTERNAL;
}

/*
 * md_error.h: the one error space of the project.
 *
 * Every function that can fail returns MD_OK (0) or a negative MD_E... code
 * from the X-macro list below.  Each code has a stable wire name (sent to
 * clients in ERROR messages as "code") and a default sentence that says what
 * happened and, where it helps, what to do.  Codes are never renumbered:
 * append new ones at the end.
 */
#ifndef MD_ERROR_H
#define MD_ERROR_H

/*   XX(enum suffix,    value, wire name,          default message) */
#define MD_ERRNO_MAP(XX)                                                                     \
    XX(NOMEM,            -1, "OUT_OF_MEMORY",     "out of memory")                           \
    XX(INVAL,            -2, "INVALID_ARGUMENT",  "invalid argument")                        \
    XX(IO,               -3, "IO_ERROR",          "input/output error")                      \
    XX(BAD_FRAME,        -4, "BAD_FRAME",         "malformed frame")                         \
    XX(TOO_LARGE,        -5, "TOO_LARGE",         "message exceeds the size limit")          \
    XX(UNSUPPORTED,      -6, "UNSUPPORTED",       "not supported")                           \
    XX(AUTH,             -7, "AUTH_FAILED",       "authentication failed: check the token")  \
    XX(READ_ONLY,        -8, "READ_ONLY",         "this token is read-only: it cannot write")\
    XX(SQL,              -9, "SQL_ERROR",         "SQL error")                               \
    XX(CANCELLED,       -10, "CANCELLED",         "the query was cancelled")                 \
    XX(DUCKLING,        -11, "DUCKLING_FAILED",   "the query engine stopped unexpectedly; "  \
                                                  "run the query again")                     \
    XX(BUSY,            -12, "SERVER_BUSY",       "the server is at its limit; try later")   \
    XX(PROTOCOL,        -13, "PROTOCOL_ERROR",    "protocol violation")                      \
    XX(NOT_FOUND,       -14, "NOT_FOUND",         "not found")                               \
    XX(EXISTS,          -15, "ALREADY_EXISTS",    "already exists")                          \
    XX(CORRUPT,         -16, "CORRUPT",           "data failed its integrity check")         \
    XX(EOF,             -17, "END_OF_STREAM",     "unexpected end of stream")                \
    XX(PERMISSION,      -18, "PERMISSION_DENIED", "permission denied")                       \
    XX(INTERNAL,        -19, "INTERNAL",          "internal error")                          \
    XX(TIMEOUT,         -20, "TIMEOUT",           "timed out")                               \
    XX(DISCONNECTED,    -21, "DISCONNECTED",      "the connection to the server was lost")    \
    XX(LOCKED,          -22, "DATABASE_LOCKED",   "another session is writing to this database")\
    XX(SESSION_RESET,   -23, "SESSION_RESET",     "the session's query engine was restarted: its " \
                                                  "temporary tables, settings and USE were reset") \
    XX(BRIDGE_TOO_LARGE, -24, "BRIDGE_TOO_LARGE", "a part of the query would move more than the cap "  \
                                                  "between the browser and the server")              \
    XX(CONFLICT,        -25, "VERSION_CONFLICT",  "it was changed elsewhere since this copy was read: "  \
                                                  "nothing was overwritten")

enum {
    MD_OK = 0,
#define MD__ERR_ENUM(name, val, wire, msg) MD_E##name = val,
    MD_ERRNO_MAP(MD__ERR_ENUM)
#undef MD__ERR_ENUM
};

/* The default sentence for `code`; never NULL ("unknown error" otherwise). */
const char *md_strerror(int code);

/* The stable wire name for `code` ("OK" for MD_OK); never NULL. */
const char *md_errname(int code);

/* The code whose wire name is `name`, or MD_EINTERNAL if none matches. */
int md_errcode(const char *name);

#endif

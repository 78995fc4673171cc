/*
 * directory.h: the server's open client connections (WebSocket sessions),
 * as the storage link serves them to a duckling for
 * md_active_server_connections() and md_interrupt_server_connection()
 * (store_service.h).  session.c keeps the list; this interface lets the
 * storage service read it without knowing sessions.
 */
#ifndef MD_DIRECTORY_H
#define MD_DIRECTORY_H

#include <stdint.h>

typedef struct md_conn_info {
    const char *id;           /* client_connection_id: a random UUID */
    const char *user;
    const char *token_kind;   /* read_write, read_only, read_scaling */
    const char *client;       /* what the client said it is in HELLO ("client"), or NULL */
    const char *session_name; /* HELLO's session_name, or NULL */
    int64_t opened_ms;        /* wall clock, ms since the epoch */
    const char *query;        /* the SQL running now (secrets redacted, cut at 4000 bytes), or NULL */
    uint32_t query_id;        /* its request id (0 when idle) */
    int64_t query_started_ms; /* wall clock */
} md_conn_info;

typedef void (*md_conn_cb)(void *ctx, const md_conn_info *conn);

typedef struct md_directory {
    void *ctx;
    /* cb for each authenticated connection of `user` (NULL: everyone's). */
    void (*list)(void *ctx, const char *user, md_conn_cb cb, void *cbctx);
    /* Cancel what connection `id` runs (of `user` unless NULL): MD_OK when
     * it ran something and was told to stop; MD_ENOT_FOUND (no such
     * connection, or not the user's); MD_EINVAL (it runs nothing). */
    int (*interrupt)(void *ctx, const char *id, const char *user);
} md_directory;

#endif

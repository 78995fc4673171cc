/*
 * session.h: one client WebSocket connection speaking the protocol of
 * protocol.h.  The HTTP front (http.c) routes civetweb's WebSocket callbacks
 * here; everything about authentication, limits and forwarding to the
 * user's duckling lives in session.c.
 */
#ifndef MD_SESSION_H
#define MD_SESSION_H

#include <stddef.h>

#include "server.h"

struct mg_connection;

/* civetweb connect callback: 0 accepts (a session may still be refused
 * politely in md_session_ready when the server is full). */
int md_session_connect(const struct mg_connection *conn, void *srv);

/* civetweb ready callback: the handshake is done. */
void md_session_ready(struct mg_connection *conn, void *srv);

/* civetweb data callback: one WebSocket frame.  Returns 1 to keep the
 * connection open, 0 to close it. */
int md_session_data(struct mg_connection *conn, int flags, char *data, size_t len, void *srv);

/* civetweb (patched) frame hook: judge a WebSocket frame by its declared
 * length before its payload is read.  Returns an MG_WEBSOCKET_FRAME_* value. */
int md_session_frame_begin(struct mg_connection *conn, int header_byte, unsigned long long length);

/* civetweb (patched) idle hook: the connection received nothing for a
 * websocket timeout.  Returns 0 to close it (no HELLO by the deadline),
 * 1 to wait on, 2 to wait on after a PING. */
int md_session_idle(struct mg_connection *conn);

/* civetweb close callback: release everything the session holds. */
void md_session_close(const struct mg_connection *conn, void *srv);

/* Make srv->directory (directory.h) serve srv's sessions; before the pool
 * is made.  md_session_directory_done when the server stops. */
void md_session_directory_init(md_server *srv);
void md_session_directory_done(md_server *srv);

#endif

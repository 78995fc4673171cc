/*
 * http.h: the HTTP front of `mdserver serve` (civetweb): static UI files,
 * GET /healthz, and the protocol WebSocket at /ws, all on one port.
 */
#ifndef MD_HTTP_H
#define MD_HTTP_H

#include "server.h"

/* Start listening as srv->cfg says.  On MD_OK srv->http is running and
 * *out_port is the bound port (useful with port 0).  MD_EIO with *out_err
 * (caller frees) when the port cannot be bound or an option is refused. */
int md_http_start(md_server *srv, int *out_port, char **out_err);

/* Stop listening and close every connection (their close callbacks run). */
void md_http_stop(md_server *srv);

#endif

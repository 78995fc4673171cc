/*
 * api.h: the server's HTTP API for automation under /api/v1/ (users and
 * their tokens; api.c lists the routes), JSON in and out, authenticated by
 * a bearer token; the open connections (to list and interrupt them while a
 * query runs).
 */
#ifndef MD_API_H
#define MD_API_H

#include "server.h"

struct mg_context;

/* Serve /api/v1/ on ctx for srv (its metadata store and its directory of
 * connections; borrowed). */
void md_api_register(struct mg_context *ctx, md_server *srv);

#endif

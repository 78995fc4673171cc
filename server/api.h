/*
 * api.h: the server's HTTP API for automation under /api/v1/ (users and
 * their tokens; api.c lists the routes), JSON in and out, authenticated by
 * a bearer token.
 */
#ifndef MD_API_H
#define MD_API_H

#include "meta.h"

struct mg_context;

/* Serve /api/v1/ on ctx with the metadata store `meta` (borrowed). */
void md_api_register(struct mg_context *ctx, md_meta *meta);

#endif

/*
 * api.c: the HTTP API for automation (see api.h).
 *
 * Every request carries "Authorization: Bearer <token>"; the token must be
 * valid, and of kind read_write for users and tokens.  An administrator manages every user and
 * token; any other user only its own tokens.  Bodies are JSON objects of at
 * most MAX_BODY bytes, parsed only after their nesting is bounded.  The
 * page calls this API with its own token (never a cookie), and no CORS
 * header is sent, so another site's page cannot call it on a user's behalf.
 *
 * Routes (u: a user name; id: a token id):
 *   GET    /api/v1/users                 admin: [{username, org, role, created_at, tokens}]
 *   POST   /api/v1/users                 admin: {username, org?, role?: admin|member} -> 201 the user
 *   DELETE /api/v1/users/u               admin: its tokens revoked, its name never given again
 *   GET    /api/v1/users/u/tokens        [{id, name, token_type, prefix, created_at, expires_at,
 *                                         last_used_at, revoked_at}]
 *   POST   /api/v1/users/u/tokens        {token_type?: read_write|read_only|read_scaling, name?,
 *                                         ttl?: seconds} -> 201 {id, token, token_type, name, expires_at}
 *   DELETE /api/v1/users/u/tokens/id     revoke (its sessions end within a second)
 *   GET    /api/v1/connections           the caller's open connections (an admin: everyone's):
 *                                        [{id, user, token_type, client, session_name, connected_at,
 *                                          query, query_id, started_at, elapsed_ms}] (times: ms since
 *                                          the epoch); any kind of token may ask
 *   POST   /api/v1/connections/id/interrupt   cancel what it runs -> {interrupted: true|false}
 * Errors: {"error": CODE, "message": sentence} with 400, 401, 403, 404, 405, 409, 413 or 500.
 */
#include "api.h"

#include <cjson/cJSON.h>
#include <civetweb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "meta.h"
#include "server.h"
#include "shared/md_time.h"
#include "shared/json_guard.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "token.h"

#define MAX_BODY 16384
#define API_PREFIX "/api/v1/"

static void reply(struct mg_connection *conn, int status, cJSON *j) {
    char *text = cJSON_PrintUnformatted(j);
    const char *reason = status == 200   ? "OK"
                         : status == 201 ? "Created"
                         : status == 400 ? "Bad Request"
                         : status == 401 ? "Unauthorized"
                         : status == 403 ? "Forbidden"
                         : status == 404 ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                         : status == 409 ? "Conflict"
                         : status == 413 ? "Payload Too Large"
                                         : "Internal Server Error";
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\n%s\r\n%s",
              status, reason, strlen(text), status == 401 ? "WWW-Authenticate: Bearer\r\n" : "", text);
    cJSON_free(text);
    cJSON_Delete(j);
}

static int fail(struct mg_connection *conn, int status, int code, const char *message) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", md_errname(code));
    cJSON_AddStringToObject(j, "message", message);
    reply(conn, status, j);
    return status;
}

/* The body as a JSON object (NULL after replying with the error). */
static cJSON *read_body(struct mg_connection *conn) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (ri->content_length > MAX_BODY) {
        fail(conn, 413, MD_ETOO_LARGE, "the body may be at most 16 KiB");
        return NULL;
    }
    char buf[MAX_BODY + 1];
    size_t n = 0;
    int r;
    while (n < MAX_BODY && (r = mg_read(conn, buf + n, MAX_BODY - n)) > 0) n += (size_t)r;
    if (n == 0) return cJSON_CreateObject();
    const char *why = NULL;
    cJSON *j = md_json_parse(buf, n, MD_JSON_CONTROL_DEPTH, &why);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        char *m = md_asprintf("the body must be a JSON object%s%s", why ? ": " : "", why ? why : "");
        fail(conn, 400, MD_EINVAL, m);
        md_free(m);
        return NULL;
    }
    return j;
}

/* The caller, from its bearer token (of kind read_write unless any_kind);
 * 0 after replying with the error. */
static int authenticate(struct mg_connection *conn, md_meta *meta, int any_kind, md_auth *out) {
    const char *h = mg_get_header(conn, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        fail(conn, 401, MD_EAUTH, "send Authorization: Bearer <token>");
        return 0;
    }
    const char *tok = h + 7;
    char hash[MD_TOKEN_HASH_LEN + 1];
    int expired = 0;
    int rc = MD_EAUTH;
    if (md_token_well_formed(tok)) {
        md_token_hash(tok, hash);
        rc = md_meta_token_lookup(meta, hash, out, &expired);
    }
    if (rc != MD_OK) {
        fail(conn, rc == MD_EAUTH ? 401 : 500, rc == MD_EAUTH ? MD_EAUTH : MD_EINTERNAL,
             rc != MD_EAUTH ? "the server cannot read its metadata store"
             : expired      ? "the token has expired"
                            : "unknown or revoked token");
        return 0;
    }
    if (!any_kind && out->kind != MD_TOKEN_READ_WRITE) {
        fail(conn, 403, MD_EPERMISSION, "the API needs a read_write token");
        md_meta_auth_free(out);
        return 0;
    }
    return 1;
}

/* ---- users ---- */

static void add_user(void *ctx, const md_user_row *r) {
    cJSON *u = cJSON_CreateObject();
    cJSON_AddStringToObject(u, "username", r->name);
    cJSON_AddStringToObject(u, "org", r->org);
    cJSON_AddStringToObject(u, "role", r->is_admin ? "admin" : "member");
    cJSON_AddStringToObject(u, "created_at", r->created_at);
    cJSON_AddNumberToObject(u, "tokens", (double)r->tokens);
    cJSON_AddItemToArray(ctx, u);
}

static int list_users(struct mg_connection *conn, md_meta *meta) {
    cJSON *a = cJSON_CreateArray();
    if (md_meta_user_list(meta, add_user, a) != MD_OK) {
        cJSON_Delete(a);
        return fail(conn, 500, MD_EIO, "cannot read the users");
    }
    reply(conn, 200, a);
    return 200;
}

static const char *str_field(const cJSON *j, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int create_user(struct mg_connection *conn, md_meta *meta) {
    cJSON *body = read_body(conn);
    if (!body) return 400;
    const char *name = str_field(body, "username"), *org = str_field(body, "org"), *role = str_field(body, "role");
    int status;
    if (!md_meta_valid_user_name(name)) status = fail(conn, 400, MD_EINVAL, "username: 1-63 of a-z, 0-9, _ and -");
    else if (role && strcmp(role, "admin") != 0 && strcmp(role, "member") != 0)
        status = fail(conn, 400, MD_EINVAL, "role is admin or member");
    else {
        int created = 0;
        int rc = md_meta_user_ensure(meta, name, org, role && strcmp(role, "admin") == 0, &created);
        if (rc == MD_OK && !created) status = fail(conn, 409, MD_EEXISTS, "that user exists");
        else if (rc == MD_EEXISTS) status = fail(conn, 409, MD_EEXISTS, "that name belonged to a deleted user");
        else if (rc == MD_EINVAL) status = fail(conn, 400, MD_EINVAL, "org: 1-63 of a-z, 0-9, _ and -");
        else if (rc != MD_OK) status = fail(conn, 500, MD_EIO, "cannot store the user");
        else {
            cJSON *u = cJSON_CreateObject();
            cJSON_AddStringToObject(u, "username", name);
            cJSON_AddStringToObject(u, "org", org ? org : MD_META_DEFAULT_ORG);
            cJSON_AddStringToObject(u, "role", role ? role : "member");
            reply(conn, 201, u);
            status = 201;
        }
    }
    cJSON_Delete(body);
    return status;
}

/* ---- tokens ---- */

static void add_token(void *ctx, const md_token_row *r) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "id", (double)r->id);
    if (r->name) cJSON_AddStringToObject(t, "name", r->name);
    else cJSON_AddNullToObject(t, "name");
    cJSON_AddStringToObject(t, "token_type", md_token_kind_name(r->kind));
    cJSON_AddStringToObject(t, "prefix", r->prefix);
    cJSON_AddStringToObject(t, "created_at", r->created_at);
    const char *times[] = {"expires_at", r->expires_at, "last_used_at", r->last_used_at, "revoked_at", r->revoked_at};
    for (int i = 0; i < 6; i += 2) {
        if (times[i + 1]) cJSON_AddStringToObject(t, times[i], times[i + 1]);
        else cJSON_AddNullToObject(t, times[i]);
    }
    cJSON_AddItemToArray(ctx, t);
}

static int list_tokens(struct mg_connection *conn, md_meta *meta, const char *user) {
    cJSON *a = cJSON_CreateArray();
    if (md_meta_token_list(meta, user, add_token, a) != MD_OK) {
        cJSON_Delete(a);
        return fail(conn, 500, MD_EIO, "cannot read the tokens");
    }
    reply(conn, 200, a);
    return 200;
}

static int create_token(struct mg_connection *conn, md_meta *meta, const char *user) {
    cJSON *body = read_body(conn);
    if (!body) return 400;
    const char *type = str_field(body, "token_type"), *name = str_field(body, "name");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(body, "ttl");
    md_token_kind kind = MD_TOKEN_READ_WRITE;
    int status = 0;
    if (type && md_token_kind_parse(type, &kind) != MD_OK)
        status = fail(conn, 400, MD_EINVAL, "token_type is read_write, read_only or read_scaling");
    else if (ttl && !(cJSON_IsNumber(ttl) && ttl->valuedouble >= 1 && ttl->valuedouble <= 3153600000.0))
        status = fail(conn, 400, MD_EINVAL, "ttl is a number of seconds (at least 1)");
    else if (name && strlen(name) > 100) status = fail(conn, 400, MD_EINVAL, "name: at most 100 characters");
    if (!status) {
        char token[MD_TOKEN_LEN + 1];
        long id = 0;
        int rc = md_token_issue(meta, user, kind, name, ttl ? (long)ttl->valuedouble : 0, token, &id);
        if (rc == MD_ENOT_FOUND) status = fail(conn, 404, MD_ENOT_FOUND, "no such user");
        else if (rc != MD_OK) status = fail(conn, 500, MD_EIO, "cannot store the token");
        else {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddNumberToObject(t, "id", (double)id);
            cJSON_AddStringToObject(t, "token", token);
            cJSON_AddStringToObject(t, "token_type", md_token_kind_name(kind));
            if (name) cJSON_AddStringToObject(t, "name", name);
            cJSON_AddNumberToObject(t, "ttl", ttl ? ttl->valuedouble : 0);
            memset(token, 0, sizeof token);
            reply(conn, 201, t);
            status = 201;
        }
    }
    cJSON_Delete(body);
    return status;
}

/* ---- connections ---- */

static void add_conn(void *ctx, const md_conn_info *c) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddStringToObject(o, "user", c->user);
    cJSON_AddStringToObject(o, "token_type", c->token_kind);
    if (c->client) cJSON_AddStringToObject(o, "client", c->client);
    if (c->session_name) cJSON_AddStringToObject(o, "session_name", c->session_name);
    cJSON_AddNumberToObject(o, "connected_at", (double)c->opened_ms);
    if (c->query) {
        cJSON_AddStringToObject(o, "query", c->query);
        cJSON_AddNumberToObject(o, "query_id", c->query_id);
        cJSON_AddNumberToObject(o, "started_at", (double)c->query_started_ms);
        cJSON_AddNumberToObject(o, "elapsed_ms", (double)(md_wall_ms() - c->query_started_ms));
    }
    cJSON_AddItemToArray(ctx, o);
}

static int connections(struct mg_connection *conn, md_server *srv, const md_auth *who, const char *id,
                       const char *action) {
    const char *method = mg_get_request_info(conn)->request_method;
    const md_directory *d = &srv->directory;
    const char *user = who->is_admin ? NULL : who->user;
    if (!id) {
        if (strcmp(method, "GET") != 0) return fail(conn, 405, MD_EUNSUPPORTED, "GET");
        cJSON *a = cJSON_CreateArray();
        d->list(d->ctx, user, add_conn, a);
        reply(conn, 200, a);
        return 200;
    }
    if (!action || strcmp(action, "interrupt") != 0) return fail(conn, 404, MD_ENOT_FOUND, "no such API path");
    if (strcmp(method, "POST") != 0) return fail(conn, 405, MD_EUNSUPPORTED, "POST");
    int rc = d->interrupt(d->ctx, id, user);
    if (rc == MD_ENOT_FOUND) return fail(conn, 404, MD_ENOT_FOUND, "no such connection of yours");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "interrupted", rc == MD_OK);
    reply(conn, 200, o);
    return 200;
}

/* ---- routing ---- */

static int handle(struct mg_connection *conn, void *srvp) {
    md_server *srv = srvp;
    md_meta *meta = srv->meta;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *method = ri->request_method, *path = ri->local_uri;
    int is_conns = strncmp(path, API_PREFIX "connections", strlen(API_PREFIX "connections")) == 0;
    md_auth who;
    if (!authenticate(conn, meta, is_conns, &who)) return 401;
    /* the path after /api/v1/: users[/u[/tokens[/id]]] */
    char parts[4][80];
    int n = 0;
    const char *p = path + strlen(API_PREFIX);
    while (*p && n < 4) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || len >= sizeof parts[0]) {
            n = -1;
            break;
        }
        memcpy(parts[n], p, len);
        parts[n++][len] = 0;
        p = slash ? slash + 1 : p + len;
    }
    int status;
    int is_get = strcmp(method, "GET") == 0, is_post = strcmp(method, "POST") == 0,
        is_delete = strcmp(method, "DELETE") == 0;
    const char *user = n >= 2 ? parts[1] : NULL;
    int self = user && strcmp(user, who.user) == 0;
    if (!*p && n >= 1 && n <= 3 && strcmp(parts[0], "connections") == 0) {
        status = connections(conn, srv, &who, n >= 2 ? parts[1] : NULL, n >= 3 ? parts[2] : NULL);
    } else if (*p || n < 1 || strcmp(parts[0], "users") != 0 || (n >= 3 && strcmp(parts[2], "tokens") != 0)) {
        status = fail(conn, 404, MD_ENOT_FOUND, "no such API path (see README: the HTTP API)");
    } else if (!who.is_admin && !(self && n >= 3)) {
        status = fail(conn, 403, MD_EPERMISSION, "only an administrator may do that (a user manages its own tokens)");
    } else if (n == 1) {
        status = is_get ? list_users(conn, meta) : is_post ? create_user(conn, meta)
                                                           : fail(conn, 405, MD_EUNSUPPORTED, "GET or POST");
    } else if (n == 2) {
        if (!is_delete) status = fail(conn, 405, MD_EUNSUPPORTED, "DELETE");
        else if (self) status = fail(conn, 400, MD_EINVAL, "an administrator cannot delete itself");
        else {
            int rc = md_meta_user_delete(meta, user);
            status = rc == MD_OK             ? (reply(conn, 200, cJSON_CreateObject()), 200)
                     : rc == MD_ENOT_FOUND ? fail(conn, 404, MD_ENOT_FOUND, "no such user")
                                             : fail(conn, 500, MD_EIO, "cannot delete the user");
        }
    } else if (n == 3) {
        status = is_get    ? list_tokens(conn, meta, user)
                 : is_post ? create_token(conn, meta, user)
                           : fail(conn, 405, MD_EUNSUPPORTED, "GET or POST");
    } else {
        char *end;
        long id = strtol(parts[3], &end, 10);
        if (!is_delete) status = fail(conn, 405, MD_EUNSUPPORTED, "DELETE");
        else if (*end || id <= 0) status = fail(conn, 404, MD_ENOT_FOUND, "a token id is a number");
        else {
            int rc = md_meta_token_revoke(meta, id, user);
            status = rc == MD_OK             ? (reply(conn, 200, cJSON_CreateObject()), 200)
                     : rc == MD_ENOT_FOUND ? fail(conn, 404, MD_ENOT_FOUND, "no valid token with that id")
                                             : fail(conn, 500, MD_EIO, "cannot revoke the token");
        }
    }
    md_meta_auth_free(&who);
    return status;
}

void md_api_register(struct mg_context *ctx, md_server *srv) {
    mg_set_request_handler(ctx, "/api/v1/", handle, srv);
}

/*
 * http.c: civetweb set-up (see http.h).
 *
 * Settings that matter (DESIGN section 11): tcp_nodelay (else small
 * messages wait ~44 ms), wasm/mjs MIME types (a wrong wasm type makes
 * duckdb-wasm hang), no directory listing, COOP/COEP so the page is
 * cross-origin isolated, no CORS header at all.  Each open WebSocket holds a
 * civetweb worker thread, so num_threads = max_connections + headroom for
 * plain HTTP and for politely refusing connections over the limit.
 * WebSocket keep-alive: civetweb pings a client idle for 30 s, so a long
 * query whose client sends nothing is not mistaken for a dead connection.
 */
#include "http.h"

#include <civetweb.h>
#include <stdio.h>
#include <string.h>

#include "md_alloc.h"
#include "md_error.h"
#include "session.h"

#define HTTP_HEADROOM_THREADS 16

static int healthz(struct mg_connection *conn, void *srvp) {
    md_server *srv = srvp;
    int ok = atomic_load(&srv->ready);
    const char *body = ok ? "ok\n" : "starting\n";
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n%s",
              ok ? 200 : 503, ok ? "OK" : "Service Unavailable", strlen(body), body);
    return ok ? 200 : 503;
}

static int log_message(const struct mg_connection *conn, const char *message) {
    fprintf(stderr, "mdserver: http: %s\n", message);
    return 1;
}

int md_http_start(md_server *srv, int *out_port, char **out_err) {
    char ports[300], threads[16];
    snprintf(ports, sizeof ports, "%s:%d", srv->cfg.bind, srv->cfg.port);
    if (strchr(srv->cfg.bind, ':')) snprintf(ports, sizeof ports, "[%s]:%d", srv->cfg.bind, srv->cfg.port);
    snprintf(threads, sizeof threads, "%d", srv->cfg.max_connections + HTTP_HEADROOM_THREADS);
    const char *options[] = {
        "listening_ports", ports,
        "num_threads", threads,
        "document_root", srv->cfg.ui_dir,
        "enable_directory_listing", "no",
        "tcp_nodelay", "1",
        "extra_mime_types", ".wasm=application/wasm,.mjs=text/javascript,.js=text/javascript",
        "additional_header",
        "Cross-Origin-Opener-Policy: same-origin\r\n"
        "Cross-Origin-Embedder-Policy: require-corp\r\n"
        "Cross-Origin-Resource-Policy: same-origin\r\n"
        "X-Content-Type-Options: nosniff",
        "websocket_timeout_ms", "30000",
        "enable_websocket_ping_pong", "yes",
        "request_timeout_ms", "30000",
        "enable_keep_alive", "yes",
        NULL,
    };
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.log_message = log_message;
    struct mg_init_data init = {.callbacks = &cb, .user_data = srv, .configuration_options = options};
    struct mg_error_data err = {0};
    char errtext[256] = "";
    err.text = errtext;
    err.text_buffer_size = sizeof errtext;
    srv->http = mg_start2(&init, &err);
    if (!srv->http) {
        *out_err = md_asprintf("cannot listen on %s: %s", ports, errtext[0] ? errtext : "unknown error");
        return MD_EIO;
    }
    mg_set_request_handler(srv->http, "/healthz$", healthz, srv);
    mg_set_websocket_handler(srv->http, "/ws$", md_session_connect, md_session_ready, md_session_data,
                             md_session_close, srv);
    struct mg_server_port sp[4];
    int n = mg_get_server_ports(srv->http, 4, sp);
    *out_port = n > 0 ? sp[0].port : srv->cfg.port;
    return MD_OK;
}

void md_http_stop(md_server *srv) {
    if (srv->http) mg_stop(srv->http);
    srv->http = NULL;
}

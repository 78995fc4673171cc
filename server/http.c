/*
 * http.c: civetweb set-up (see http.h).
 *
 * Settings that matter (DESIGN section 11): tcp_nodelay (else small
 * messages wait ~44 ms), wasm/mjs MIME types (a wrong wasm type makes
 * duckdb-wasm hang), no directory listing, COOP/COEP so the page is
 * cross-origin isolated, no CORS header at all; a Content-Security-Policy,
 * no framing and no Referer (a URL never carries a token to another site).
 * Each open WebSocket holds a civetweb worker thread, so num_threads =
 * max_connections + the
 * unauthenticated budget + headroom for plain HTTP and for politely
 * refusing connections over the limits.
 *
 * civetweb is our patched build (scripts/patches): a connection over its
 * address's budget is closed before its request is read (init_connection,
 * admission.h); a request's headers must arrive within REQUEST_TIMEOUT_MS;
 * WebSocket frames are judged by their declared length before civetweb
 * buffers them, and every second of silence asks the session whether the
 * connection may stay (session.c: the HELLO deadline, pings every 30 s so a
 * long query whose client sends nothing is not mistaken for a dead one).
 */
#include "http.h"

#include <civetweb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "session.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

#define HTTP_HEADROOM_THREADS 16
/* Headers of a request, and each network write, must make progress within this. */
#define REQUEST_TIMEOUT_MS "10000"
/* How often a silent WebSocket's session is asked whether it may stay. */
#define WEBSOCKET_TICK_MS "1000"

/* What the page may load and run: only this origin's scripts (and
 * WebAssembly), styles, workers and connections (the WebSocket included);
 * never framed by another page, never a plugin or a form post elsewhere.
 * Style attributes are allowed (never <style> elements or other origins'
 * sheets): Perspective's settings panel, the pivot's, lays itself out with
 * them. */
#define CONTENT_SECURITY_POLICY                                                                  \
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "               \
    "style-src-attr 'unsafe-inline'; "                                                          \
    "img-src 'self' data: blob:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; " \
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* Headers of every response civetweb serves (the page and its files). */
#define PAGE_HEADERS                                           \
    "Cross-Origin-Opener-Policy: same-origin\r\n"              \
    "Cross-Origin-Embedder-Policy: require-corp\r\n"           \
    "Cross-Origin-Resource-Policy: same-origin\r\n"            \
    "X-Content-Type-Options: nosniff\r\n"                      \
    "Content-Security-Policy: " CONTENT_SECURITY_POLICY "\r\n" \
    "X-Frame-Options: DENY\r\n"                                \
    "Referrer-Policy: no-referrer"
/* With TLS: browsers keep to https for this host. */
#define HSTS_HEADER "Strict-Transport-Security: max-age=31536000"

/* Marks a connection counted in its address's budget (connection data). */
static char address_counted;

static int on_connection_open(const struct mg_connection *conn, void **conn_data) {
    md_server *srv = mg_get_user_data(mg_get_context(conn));
    if (!md_admission_address_open(srv->admission, mg_get_request_info(conn)->remote_addr)) {
        *conn_data = NULL;
        return 1; /* refused: civetweb closes it unread */
    }
    *conn_data = &address_counted;
    return 0;
}

/* civetweb's TLS set-up: the certificate (chain) and key of --tls-cert and
 * --tls-key, from two files.  1: done; -1: they cannot be used (said on
 * stderr here; civetweb then refuses to start). */
static int load_tls(void *ssl_ctx, void *srvp) {
    md_server *srv = srvp;
    SSL_CTX *ctx = ssl_ctx;
    if (SSL_CTX_use_certificate_chain_file(ctx, srv->cfg.tls_cert) != 1) {
        fprintf(stderr, "mdserver: cannot use the TLS certificate %s: %s\n", srv->cfg.tls_cert,
                ERR_reason_error_string(ERR_get_error()));
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, srv->cfg.tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        fprintf(stderr, "mdserver: cannot use the TLS key %s (with %s): %s\n", srv->cfg.tls_key, srv->cfg.tls_cert,
                ERR_reason_error_string(ERR_get_error()));
        return -1;
    }
    return 1;
}

static void on_connection_close(const struct mg_connection *conn) {
    md_server *srv = mg_get_user_data(mg_get_context(conn));
    if (mg_get_user_connection_data(conn) == &address_counted)
        md_admission_address_close(srv->admission, mg_get_request_info(conn)->remote_addr);
}

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
    const char *tls = srv->cfg.tls_cert ? "s" : ""; /* civetweb: a port ending in s speaks TLS */
    snprintf(ports, sizeof ports, "%s:%d%s", srv->cfg.bind, srv->cfg.port, tls);
    if (strchr(srv->cfg.bind, ':')) snprintf(ports, sizeof ports, "[%s]:%d%s", srv->cfg.bind, srv->cfg.port, tls);
    snprintf(threads, sizeof threads, "%d",
             srv->cfg.max_connections + srv->cfg.max_unauthenticated + HTTP_HEADROOM_THREADS);
    const char *options[] = {
        "listening_ports", ports,
        "num_threads", threads,
        "document_root", srv->cfg.ui_dir,
        "enable_directory_listing", "no",
        "tcp_nodelay", "1",
        "extra_mime_types", ".wasm=application/wasm,.mjs=text/javascript,.js=text/javascript",
        "additional_header", srv->cfg.tls_cert ? PAGE_HEADERS "\r\n" HSTS_HEADER : PAGE_HEADERS,
        "websocket_timeout_ms", WEBSOCKET_TICK_MS,
        "enable_websocket_ping_pong", "yes",
        "request_timeout_ms", REQUEST_TIMEOUT_MS,
        "enable_keep_alive", "yes",
        "ssl_protocol_version", "4", /* TLS 1.2 and later */
        NULL,
    };
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.log_message = log_message;
    cb.init_connection = on_connection_open;
    cb.connection_close = on_connection_close;
    cb.websocket_frame_begin = md_session_frame_begin;
    cb.websocket_idle = md_session_idle;
    if (srv->cfg.tls_cert) cb.init_ssl = load_tls;
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
    md_api_register(srv->http, srv);
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

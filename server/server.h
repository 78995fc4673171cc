/*
 * server.h: the state of one running `mdserver serve`, shared by the HTTP
 * front (http.c), the WebSocket sessions (session.c) and the command that
 * starts it all (serve.c).
 */
#ifndef MD_SERVER_H
#define MD_SERVER_H

#include <stdatomic.h>
#include <stdint.h>

#include <pthread.h>

#include "admission.h"
#include "directory.h"
#include "meta.h"
#include "workspace_db.h"
#include "pool.h"

typedef struct md_server_config {
    const char *bind;          /* listen address, default 127.0.0.1 */
    int port;                  /* default 4213; 0 picks a free port */
    const char *data_dir;      /* default ./mdserver-data */
    const char *ui_dir;        /* static files; default <binary's dir>/ui */
    int max_connections;       /* open WebSockets accepted at once */
    int max_unauthenticated;   /* of which at most this many before HELLO */
    int max_per_address;       /* TCP connections at once from one address (IPv6: one /64) */
    int hello_timeout_ms;      /* a WebSocket that has not said HELLO by then is closed */
    const char *allow_origins; /* comma-separated Origins allowed besides the server's own */
    const char *tls_cert;      /* PEM certificate (chain): serve https and wss (with tls_key) */
    const char *tls_key;       /* PEM private key */
    uint32_t max_frame_bytes;  /* largest frame a client may send */
    uint64_t max_result_bytes; /* largest result of one query (0: unlimited) */
    int statement_timeout_s;   /* a query's default and largest run time (0: none) */
    int cancel_grace_ms;       /* a query asked to stop that runs this much longer ends its duckling */
    int duckling_threads;
    const char *duckling_memory;
    int idle_timeout_s;
    int max_ducklings;
    int read_replicas;         /* read-scaling ducklings per user at most (pool.h) */
    long duckling_uid_base;    /* as root: user u's duckling runs as this + u's id */
    const char *master_key_file; /* seals stored secrets; NULL: <data_dir>/master.key (secrets.h) */
} md_server_config;

typedef struct md_server {
    md_server_config cfg;
    md_meta *meta;
    md_wsdb *workspace; /* the users' notebooks and query history (workspace_db.h) */
    md_pool *pool;
    md_admission *admission; /* connection budgets (admission.h) */
    struct mg_context *http;
    atomic_int ws_active; /* WebSockets open now, refused ones included */
    atomic_int ready;     /* 1 once /healthz may say so */
    pthread_mutex_t sessions_mu; /* the authenticated sessions (session.c) */
    struct md_session *sessions;
    md_directory directory; /* those sessions, for the ducklings' storage links */
} md_server;

#endif

/*
 * session.c: one client WebSocket connection (see session.h).
 *
 * State machine:
 *   NEW --HELLO with a valid token--> READY --WebSocket close--> gone
 *    |  \--anything else, or no HELLO within hello_timeout_ms: ERROR, close
 *    \--over the connection limit or the unauthenticated budget:
 *        ERROR SERVER_BUSY, close
 * Before that, md_session_connect refuses with HTTP 403 an upgrade whose
 * Origin is neither the server's own nor one allowed by --allow-origin
 * (a request without Origin is not from a browser page and may go on).
 *
 * Threads: civetweb's connection thread runs the callbacks (frames from the
 * client); the pump thread copies frames from the duckling channel to the
 * WebSocket unchanged.  A slow client blocks the pump in mg_websocket_write,
 * which stops it reading the channel, which blocks the duckling's writes:
 * backpressure end to end, no unbounded buffering here.
 *
 * Requests forwarded to the duckling are remembered in `pending` until their
 * final frame (RESULT_END with final=true, or ERROR) passes the pump, so when
 * a duckling dies every unfinished request gets an ERROR DUCKLING_FAILED.
 * Whether any is pending is what the pool knows of the session
 * (md_pool_session_busy): an idle session's duckling may be stopped for
 * another user.  The session stays; its next request opens a channel to a
 * fresh duckling, after an ERROR(0) SESSION_RESET that says its temporary
 * state is gone.
 *
 * Frame checks, in order, before anything is processed: the declared
 * length of each WebSocket frame, before civetweb reads its payload
 * (md_session_frame_begin: before HELLO a message may be at most
 * PREAUTH_MAX_MESSAGE bytes or the connection closes; after it, a message
 * over max_frame_bytes + header is kept only as its first bytes, so its
 * request id is known, and answered TOO_LARGE); WebSocket opcode (binary
 * only); header (magic, version, flags, known type, length bound), header
 * length equal to the message's, then who may send the type.  Bad frames
 * get an ERROR and the connection stays usable; protocol violations (no
 * HELLO first, a server-only message type) close it.  JSON payloads read
 * here are parsed only after their nesting is bounded (json_guard.h).
 *
 * Idle connections: civetweb calls md_session_idle each websocket timeout
 * (a second, http.c); it closes a connection that has not authenticated
 * by its deadline and asks for a PING every PING_INTERVAL_MS otherwise.
 */
#include "session.h"

#include <cjson/cJSON.h>
#include <civetweb.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admission.h"
#include "history.h"
#include "notebooks.h"
#include "shared/frame_io.h"
#include "shared/json_guard.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/md_time.h"
#include "shared/protocol.h"
#include "shared/sql_redact.h"
#include "token.h"
#include "uuid.h"
#include "version.h"

#define MAX_PENDING 128
/* Largest frame a duckling may send us: results stream in batches. */
#define MAX_DUCKLING_FRAME (1u << 31)
/* Largest message before HELLO: a HELLO is a few hundred bytes. */
#define PREAUTH_MAX_MESSAGE 4096u
/* An idle authenticated connection is pinged this often. */
#define PING_INTERVAL_MS 30000
/* A session's token is looked up again this often: a revoked token's
 * sessions end within it. */
#define TOKEN_CHECK_MS 1000
/* The SQL a connection runs is listed up to this many bytes. */
#define MAX_SHOWN_QUERY 4000
/* Control frames (close, ping, pong) carry at most this much (RFC 6455). */
#define MAX_CONTROL_PAYLOAD 125

typedef struct md_session {
    md_server *srv;
    struct md_session *next_live; /* srv->sessions, under srv->sessions_mu, once authenticated */
    int listed;
    char conn_id[MD_UUID_TEXT_LEN + 1]; /* client_connection_id ("" if the kernel gave no randomness) */
    char *client, *session_name;  /* from HELLO */
    int64_t opened_wall_ms;
    struct mg_connection *conn;
    void *conn_data;      /* what http.c left on the connection (its address budget) */
    char *refused;        /* why the session is refused (SERVER_BUSY), or NULL */
    int unauth_counted;   /* holds a place in the unauthenticated budget */
    int64_t opened_ms, last_ping_ms;
    int authed;
    char *user;
    char *org;
    int is_admin;
    long token_id;
    md_token_kind kind;
    int read_only; /* kind is not read_write */
    int64_t token_checked_ms; /* when the token was last found valid */
    pthread_mutex_t chan_wmu;  /* writes to chan_fd and its closing (forward, interrupt) */
    /* Reassembly of a fragmented WebSocket message. */
    md_buf msg;
    int msg_too_large;
    uint32_t msg_id;          /* request id of the message being received */
    uint64_t msg_declared;    /* its declared length so far (md_session_frame_begin) */
    /* Duckling channel: owned by the connection thread; the pump reads it. */
    int chan_fd;
    uint64_t ticket;
    pthread_t pump;
    int pump_started;
    pthread_mutex_t mu; /* guards everything below */
    int chan_dead;
    int engine_lost;   /* the channel ended with nothing pending: say so on reopening */
    int closing;
    uint32_t pending[MAX_PENDING];
    int npending;
    char *query;            /* the newest QUERY's SQL while one is pending (redacted, cut) */
    uint32_t query_id;
    int64_t query_started_ms;
} md_session;

static int ws_send(struct mg_connection *conn, const void *p, size_t n) {
    return mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_BINARY, p, n) > 0 ? MD_OK : MD_EIO;
}

static void send_json(md_session *s, int type, uint32_t id, cJSON *j) {
    char *text = cJSON_PrintUnformatted(j);
    size_t n = strlen(text);
    uint8_t *f = md_malloc(MD_FRAME_HEADER_SIZE + n);
    md_frame_header_encode(f, type, id, (uint32_t)n);
    memcpy(f + MD_FRAME_HEADER_SIZE, text, n);
    ws_send(s->conn, f, MD_FRAME_HEADER_SIZE + n);
    md_free(f);
    cJSON_free(text);
    cJSON_Delete(j);
}

static void send_error(md_session *s, uint32_t id, int code, const char *message) {
    send_json(s, MD_MSG_ERROR, id, md_error_json(code, message, -1));
}

/* Note request `id` as in flight on the channel.  0 when the channel's pump
 * has already ended (it died after channel_ensure looked): nobody would
 * report the request, so the caller opens a fresh channel. */
static int pending_add(md_session *s, uint32_t id) {
    pthread_mutex_lock(&s->mu);
    if (s->chan_dead) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    for (int i = 0; i < s->npending; i++) /* an UPLOAD sends many frames under one id */
        if (s->pending[i] == id) {
            pthread_mutex_unlock(&s->mu);
            return 1;
        }
    if (s->npending < MAX_PENDING) s->pending[s->npending++] = id;
    if (s->npending == 1) md_pool_session_busy(s->srv->pool, s->ticket, 1);
    pthread_mutex_unlock(&s->mu);
    return 1;
}

static void pending_remove(md_session *s, uint32_t id) {
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->npending; i++) {
        if (s->pending[i] == id) {
            s->pending[i] = s->pending[--s->npending];
            if (s->npending == 0) {
                md_pool_session_busy(s->srv->pool, s->ticket, 0);
                md_free(s->query);
                s->query = NULL;
                s->query_id = 0;
            }
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

/* Frames from the duckling channel, read through one buffer so that frames
 * arriving together cost one read().  A returned frame points into the
 * buffer and stays valid until the next call. */
typedef struct chan_reader {
    uint8_t *buf;
    size_t cap, start, end;
} chan_reader;

#define CHAN_READ_CHUNK (256u * 1024u)

static int chan_next(int fd, chan_reader *r, md_frame_header *out_hdr, const uint8_t **out_frame) {
    for (;;) {
        size_t have = r->end - r->start, need = MD_FRAME_HEADER_SIZE;
        if (have >= MD_FRAME_HEADER_SIZE) {
            int rc = md_frame_header_decode(r->buf + r->start, MAX_DUCKLING_FRAME, out_hdr, NULL);
            if (rc != MD_OK) return rc;
            need += out_hdr->length;
            if (have >= need) {
                *out_frame = r->buf + r->start;
                r->start += need;
                return MD_OK;
            }
        }
        if (r->cap - r->start < need || (r->start > 0 && r->cap - r->end < CHAN_READ_CHUNK / 4)) {
            if (have) memmove(r->buf, r->buf + r->start, have);
            r->start = 0;
            r->end = have;
        }
        if (r->cap < need) {
            size_t cap = need > CHAN_READ_CHUNK ? need : CHAN_READ_CHUNK;
            uint8_t *b = md_tryrealloc(r->buf, cap);
            if (!b) return MD_ENOMEM;
            r->buf = b;
            r->cap = cap;
        }
        ssize_t n;
        do {
            n = read(fd, r->buf + r->end, r->cap - r->end);
        } while (n < 0 && errno == EINTR);
        if (n <= 0) return n == 0 ? MD_EEOF : MD_EIO;
        r->end += (size_t)n;
    }
}

/* Does this duckling frame end its request? */
static int is_final(const md_frame_header *h, const uint8_t *payload) {
    if (h->request_id == 0) return 0;
    switch (md_msg_ends(h->type)) {
    case MD_ENDS_YES: return 1;
    case MD_ENDS_IF_FINAL: {
        cJSON *j = cJSON_ParseWithLength((const char *)payload, h->length);
        int fin = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "final"));
        cJSON_Delete(j);
        return fin;
    }
    case MD_ENDS_NO: return 0;
    }
    return 0;
}

static void *pump_main(void *arg) {
    md_session *s = arg;
    chan_reader r = {NULL, 0, 0, 0};
    for (;;) {
        md_frame_header h;
        const uint8_t *f = NULL;
        if (chan_next(s->chan_fd, &r, &h, &f) != MD_OK) break;
        int fin = is_final(&h, f + MD_FRAME_HEADER_SIZE);
        int rc = ws_send(s->conn, f, MD_FRAME_HEADER_SIZE + (size_t)h.length);
        if (fin) pending_remove(s, h.request_id);
        if (rc != MD_OK) break;
    }
    md_free(r.buf);
    /* The channel is gone.  Unless the client left first, the duckling
     * died: every unfinished request gets an error. */
    pthread_mutex_lock(&s->mu);
    s->chan_dead = 1;
    int closing = s->closing, n = s->npending;
    uint32_t ids[MAX_PENDING];
    memcpy(ids, s->pending, sizeof(uint32_t) * (size_t)n);
    s->npending = 0;
    if (n > 0) md_pool_session_busy(s->srv->pool, s->ticket, 0);
    if (!closing) s->engine_lost = 1; /* its state went with it, requests or not */
    pthread_mutex_unlock(&s->mu);
    if (!closing) {
        for (int i = 0; i < n; i++)
            send_error(s, ids[i], MD_EDUCKLING,
                       "the query engine stopped before the query finished (it was killed or ran out of "
                       "memory); nothing was lost that was committed: run the query again");
    }
    return NULL;
}

/* Drop the channel (after the pump ended or to end it). */
static void channel_release(md_session *s) {
    if (s->chan_fd < 0) return;
    shutdown(s->chan_fd, SHUT_RDWR);
    if (s->pump_started) pthread_join(s->pump, NULL);
    s->pump_started = 0;
    pthread_mutex_lock(&s->chan_wmu);
    close(s->chan_fd);
    s->chan_fd = -1;
    pthread_mutex_unlock(&s->chan_wmu);
    md_pool_close_channel(s->srv->pool, s->ticket);
}

/* Make sure the session has a live channel to its user's duckling. */
static int channel_ensure(md_session *s, char **out_err) {
    pthread_mutex_lock(&s->mu);
    int dead = s->chan_dead;
    pthread_mutex_unlock(&s->mu);
    if (s->chan_fd >= 0 && !dead) return MD_OK;
    channel_release(s);
    int fd;
    uint64_t ticket;
    md_pool_session ps = {s->user, s->kind, s->session_name, s->conn_id};
    int rc = md_pool_open_channel(s->srv->pool, &ps, &fd, &ticket, out_err);
    if (rc != MD_OK) return rc;
    pthread_mutex_lock(&s->mu);
    int lost = s->engine_lost;
    s->engine_lost = 0;
    pthread_mutex_unlock(&s->mu);
    if (lost) send_error(s, 0, MD_ESESSION_RESET, NULL);
    pthread_mutex_lock(&s->chan_wmu);
    s->chan_fd = fd;
    pthread_mutex_unlock(&s->chan_wmu);
    s->ticket = ticket;
    s->chan_dead = 0;
    pthread_create(&s->pump, NULL, pump_main, s);
    s->pump_started = 1;
    return MD_OK;
}

/* The connection leaves the unauthenticated budget (authenticated or gone). */
static void leave_unauth(md_session *s) {
    if (!s->unauth_counted) return;
    s->unauth_counted = 0;
    md_admission_unauth_leave(s->srv->admission);
}

/* Is the session's token still valid (not revoked, expired or its user
 * deleted)?  Looked up at most once a second.  When it is not, the client
 * is told why; the caller closes the connection. */
static int token_still_valid(md_session *s) {
    int64_t now = md_now_ms();
    if (now - s->token_checked_ms < TOKEN_CHECK_MS) return 1;
    s->token_checked_ms = now;
    if (md_meta_token_valid(s->srv->meta, s->token_id)) return 1;
    send_error(s, 0, MD_EAUTH, "this session's token was revoked or has expired (or its user was deleted); closing");
    return 0;
}

/* ---- the directory of sessions (directory.h) ---- */

static void directory_add(md_session *s) {
    pthread_mutex_lock(&s->srv->sessions_mu);
    s->next_live = s->srv->sessions;
    s->srv->sessions = s;
    s->listed = 1;
    pthread_mutex_unlock(&s->srv->sessions_mu);
}

static void directory_remove(md_session *s) {
    if (!s->listed) return;
    pthread_mutex_lock(&s->srv->sessions_mu);
    for (md_session **pp = &s->srv->sessions; *pp; pp = &(*pp)->next_live)
        if (*pp == s) {
            *pp = s->next_live;
            break;
        }
    s->listed = 0;
    pthread_mutex_unlock(&s->srv->sessions_mu);
}

/* Remember the SQL of QUERY request `id` (its payload's "sql"), for the directory. */
static void note_query(md_session *s, uint32_t id, const uint8_t *payload, uint32_t len) {
    const char *why = NULL;
    cJSON *j = md_json_parse(payload, len, MD_JSON_CONTROL_DEPTH, &why);
    const cJSON *sql = cJSON_GetObjectItemCaseSensitive(j, "sql");
    char *text = NULL;
    if (cJSON_IsString(sql)) {
        size_t n = strlen(sql->valuestring);
        text = md_sql_redact_secrets(sql->valuestring, n);
        if (strlen(text) > MAX_SHOWN_QUERY) text[MAX_SHOWN_QUERY] = 0;
    }
    cJSON_Delete(j);
    pthread_mutex_lock(&s->mu);
    if (s->npending > 0) {
        md_free(s->query);
        s->query = text;
        text = NULL;
        s->query_id = id;
        s->query_started_ms = md_wall_ms();
    }
    pthread_mutex_unlock(&s->mu);
    md_free(text);
}

static void dir_list(void *ctx, const char *user, md_conn_cb cb, void *cbctx) {
    md_server *srv = ctx;
    pthread_mutex_lock(&srv->sessions_mu);
    for (md_session *s = srv->sessions; s; s = s->next_live) {
        if (user && strcmp(user, s->user) != 0) continue;
        pthread_mutex_lock(&s->mu);
        md_conn_info c = {s->conn_id, s->user, md_token_kind_name(s->kind), s->client, s->session_name,
                          s->opened_wall_ms, s->query, s->query_id, s->query_started_ms};
        cb(cbctx, &c);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&srv->sessions_mu);
}

static int dir_interrupt(void *ctx, const char *id, const char *user) {
    md_server *srv = ctx;
    int rc = MD_ENOT_FOUND;
    pthread_mutex_lock(&srv->sessions_mu);
    for (md_session *s = srv->sessions; s; s = s->next_live) {
        if (!s->conn_id[0] || strcmp(s->conn_id, id) != 0 || (user && strcmp(user, s->user) != 0)) continue;
        pthread_mutex_lock(&s->mu);
        int n = s->npending;
        uint32_t ids[MAX_PENDING];
        memcpy(ids, s->pending, sizeof(uint32_t) * (size_t)n);
        pthread_mutex_unlock(&s->mu);
        rc = n > 0 ? MD_OK : MD_EINVAL;
        pthread_mutex_lock(&s->chan_wmu);
        for (int i = 0; i < n && s->chan_fd >= 0; i++) {
            uint8_t f[MD_FRAME_HEADER_SIZE + 2];
            md_frame_header_encode(f, MD_MSG_CANCEL, ids[i], 2);
            memcpy(f + MD_FRAME_HEADER_SIZE, "{}", 2);
            md_fd_write_all(s->chan_fd, f, sizeof f);
        }
        pthread_mutex_unlock(&s->chan_wmu);
        break;
    }
    pthread_mutex_unlock(&srv->sessions_mu);
    return rc;
}

void md_session_directory_init(md_server *srv) {
    pthread_mutex_init(&srv->sessions_mu, NULL);
    srv->directory = (md_directory){srv, dir_list, dir_interrupt};
}

void md_session_directory_done(md_server *srv) { pthread_mutex_destroy(&srv->sessions_mu); }

static int handle_hello(md_session *s, const uint8_t *payload, uint32_t len) {
    const char *why = NULL;
    cJSON *j = md_json_parse(payload, len, MD_JSON_CONTROL_DEPTH, &why);
    if (!j) {
        char *m = md_asprintf("HELLO must be a JSON object {\"protocol\": 1, \"token\": ...}: %s; closing", why);
        send_error(s, 0, MD_EPROTOCOL, m);
        md_free(m);
        return 0;
    }
    const cJSON *proto = cJSON_GetObjectItemCaseSensitive(j, "protocol");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "token");
    const cJSON *client = cJSON_GetObjectItemCaseSensitive(j, "client");
    const cJSON *sname = cJSON_GetObjectItemCaseSensitive(j, "session_name");
    if (!sname) sname = cJSON_GetObjectItemCaseSensitive(j, "session_hint");
    int ok = 0;
    if (!cJSON_IsNumber(proto) || proto->valueint != MD_PROTOCOL_VERSION) {
        send_error(s, 0, MD_EPROTOCOL, "HELLO must carry \"protocol\": 1; upgrade the client");
    } else if (sname && !(cJSON_IsString(sname) && sname->valuestring[0] && strlen(sname->valuestring) <= 100)) {
        send_error(s, 0, MD_EINVAL, "HELLO's session_name is a string of 1 to 100 bytes");
    } else if (!cJSON_IsString(tok) || !md_token_well_formed(tok->valuestring)) {
        send_error(s, 0, MD_EAUTH, "authentication failed: the token is missing or malformed; "
                                   "create one with `mdserver token create --user NAME`");
    } else {
        char hash[MD_TOKEN_HASH_LEN + 1];
        md_token_hash(tok->valuestring, hash);
        md_auth auth;
        int expired = 0;
        int rc = md_meta_token_lookup(s->srv->meta, hash, &auth, &expired);
        if (rc == MD_OK) {
            s->user = auth.user;
            s->org = auth.org;
            auth.user = auth.org = NULL;
            s->is_admin = auth.is_admin;
            s->token_id = auth.token_id;
            s->kind = auth.kind;
            s->read_only = auth.kind != MD_TOKEN_READ_WRITE;
            s->token_checked_ms = md_now_ms();
            if (cJSON_IsString(client)) s->client = md_strndup(client->valuestring, 100);
            if (cJSON_IsString(sname)) s->session_name = md_strdup(sname->valuestring);
            s->authed = 1;
            directory_add(s);
            leave_unauth(s);
            ok = 1;
            cJSON *w = cJSON_CreateObject();
            cJSON_AddNumberToObject(w, "protocol", MD_PROTOCOL_VERSION);
            cJSON_AddStringToObject(w, "user", s->user);
            cJSON_AddBoolToObject(w, "read_only", s->read_only);
            cJSON_AddStringToObject(w, "token_kind", md_token_kind_name(s->kind));
            cJSON_AddStringToObject(w, "connection_id", s->conn_id);
            cJSON_AddStringToObject(w, "database", "my_db");
            cJSON_AddStringToObject(w, "server_version", MD_SERVER_VERSION);
            cJSON_AddStringToObject(w, "duckdb_version", md_duckdb_version());
            cJSON *lim = cJSON_AddObjectToObject(w, "limits");
            cJSON_AddNumberToObject(lim, "max_frame_bytes", s->srv->cfg.max_frame_bytes);
            cJSON_AddNumberToObject(lim, "max_result_bytes", (double)s->srv->cfg.max_result_bytes);
            send_json(s, MD_MSG_WELCOME, 0, w);
        } else {
            send_error(s, 0, rc == MD_EAUTH ? MD_EAUTH : MD_EINTERNAL,
                       rc != MD_EAUTH ? "the server cannot read its metadata store"
                       : expired      ? "authentication failed: the token has expired; create a new one"
                                      : "authentication failed: unknown or revoked token");
        }
    }
    cJSON_Delete(j);
    return ok;
}

/* Forward a client request frame to the duckling. */
static void forward(md_session *s, const md_frame_header *h, const uint8_t *frame) {
    int job = md_msg_serve(h->type) == MD_SERVE_JOB;
    for (int attempt = 0;; attempt++) {
        char *err = NULL;
        int rc = channel_ensure(s, &err);
        if (rc != MD_OK) {
            send_error(s, h->request_id, rc, err);
            md_free(err);
            return;
        }
        if (!job || pending_add(s, h->request_id)) break;
        if (attempt > 0) { /* a second fresh channel died at once too */
            send_error(s, h->request_id, MD_EDUCKLING, NULL);
            return;
        }
    }
    if (h->type == MD_MSG_QUERY) note_query(s, h->request_id, frame + MD_FRAME_HEADER_SIZE, h->length);
    pthread_mutex_lock(&s->chan_wmu);
    int wrc = md_fd_write_all(s->chan_fd, frame, MD_FRAME_HEADER_SIZE + (size_t)h->length);
    pthread_mutex_unlock(&s->chan_wmu);
    if (wrc != MD_OK) {
        /* The duckling is gone; the pump reports pending requests. */
        if (h->type != MD_MSG_QUERY) send_error(s, h->request_id, MD_EDUCKLING, NULL);
    }
}

/* A request mdserver answers itself (MD_SERVE_FRONT): the user's notebooks and query history. */
static void serve_front(md_session *s, const md_frame_header *h, const uint8_t *payload) {
    const char *why = NULL;
    cJSON *j = md_json_parse(payload, h->length, MD_JSON_CONTROL_DEPTH, &why);
    if (!j) {
        char *m = md_asprintf("%s must be a JSON object: %s", md_msg_name(h->type), why);
        send_error(s, h->request_id, MD_EBAD_FRAME, m);
        md_free(m);
        return;
    }
    int code = MD_OK;
    char *msg = NULL;
    cJSON *answer = h->type == MD_MSG_HISTORY
                        ? md_history_serve(s->srv->workspace, s->user, s->read_only, j, &code, &msg)
                        : md_notebooks_serve(s->srv->workspace, s->user, s->read_only, j, &code, &msg);
    cJSON_Delete(j);
    if (answer) {
        send_json(s, h->type, h->request_id, answer);
    } else {
        send_error(s, h->request_id, code, msg);
        md_free(msg);
    }
}

/* One complete protocol frame from the client.  Returns 1 to keep the
 * connection, 0 to close it. */
static int handle_frame(md_session *s, const uint8_t *frame, size_t n) {
    if (n < MD_FRAME_HEADER_SIZE) {
        send_error(s, 0, MD_EBAD_FRAME, "frame shorter than its 16-byte header");
        return 1;
    }
    md_frame_header h;
    const char *why = NULL;
    int rc = md_frame_header_decode(frame, s->srv->cfg.max_frame_bytes, &h, &why);
    uint32_t id = md_get_u32le(frame + 8);
    if (rc != MD_OK) {
        send_error(s, id, rc, why);
        return 1;
    }
    if (h.length != n - MD_FRAME_HEADER_SIZE) {
        send_error(s, id, MD_EBAD_FRAME, "frame length field does not match the message length");
        return 1;
    }
    if (!(md_msg_origin(h.type) & MD_FROM_CLIENT)) {
        send_error(s, id, MD_EPROTOCOL, "clients may not send this message type; closing");
        return 0;
    }
    const uint8_t *payload = frame + MD_FRAME_HEADER_SIZE;
    if (!s->authed) {
        if (md_msg_serve(h.type) != MD_SERVE_HELLO) {
            send_error(s, id, MD_EPROTOCOL, "the first message must be HELLO with a token; closing");
            return 0;
        }
        return handle_hello(s, payload, h.length);
    }
    if (!token_still_valid(s)) return 0;
    switch (md_msg_serve(h.type)) {
    case MD_SERVE_HELLO: send_error(s, id, MD_EPROTOCOL, "already authenticated"); return 1;
    case MD_SERVE_ECHO: {
        uint8_t *f = md_malloc(n);
        memcpy(f, frame, n);
        md_frame_header_encode(f, MD_MSG_PONG, id, h.length);
        ws_send(s->conn, f, n);
        md_free(f);
        return 1;
    }
    case MD_SERVE_FRONT: serve_front(s, &h, payload); return 1;
    default: forward(s, &h, frame); return 1;
    }
}

/* Is the page that opened this WebSocket allowed to?  No Origin: not a
 * browser page (the terminal client, the tests).  Otherwise the Origin must
 * be the server's own (scheme and Host of this very request) or one of the
 * --allow-origin list (comma-separated, compared without regard to case). */
static int origin_allowed(const struct mg_connection *conn, const char *allow) {
    const char *origin = mg_get_header(conn, "Origin");
    if (!origin) return 1;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *host = mg_get_header(conn, "Host");
    if (host) {
        const char *scheme = ri->is_ssl ? "https://" : "http://";
        size_t sl = strlen(scheme);
        if (strncasecmp(origin, scheme, sl) == 0 && strcasecmp(origin + sl, host) == 0) return 1;
    }
    size_t ol = strlen(origin);
    for (const char *p = allow; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == ol && strncasecmp(p, origin, n) == 0) return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int md_session_connect(const struct mg_connection *conn, void *srvp) {
    md_server *srv = srvp;
    if (!origin_allowed(conn, srv->cfg.allow_origins)) {
        static const char body[] =
            "This page's origin may not open a session on this server; start mdserver with "
            "--allow-origin ORIGIN to allow it.\n";
        mg_printf((struct mg_connection *)conn,
                  "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n%s",
                  sizeof body - 1, body);
        return 1;
    }
    md_session *s = md_calloc(1, sizeof *s);
    s->srv = srv;
    s->chan_fd = -1;
    s->opened_ms = s->last_ping_ms = md_now_ms();
    s->opened_wall_ms = md_wall_ms();
    md_uuid_v4(s->conn_id); /* an empty id on failure: such a session is never found */
    pthread_mutex_init(&s->chan_wmu, NULL);
    s->conn_data = mg_get_user_connection_data(conn);
    pthread_mutex_init(&s->mu, NULL);
    if (atomic_fetch_add(&srv->ws_active, 1) >= srv->cfg.max_connections)
        s->refused = md_asprintf("the server already has its maximum of %d connections open; try again later",
                                 srv->cfg.max_connections);
    else if (!md_admission_unauth_enter(srv->admission))
        s->refused = md_asprintf("the server already has its maximum of %d connections waiting to authenticate; "
                                 "try again later",
                                 srv->cfg.max_unauthenticated);
    else
        s->unauth_counted = 1;
    mg_set_user_connection_data(conn, s);
    return 0;
}

static void close_with(md_session *s, int code, const char *message) {
    send_error(s, 0, code, message);
    mg_websocket_write(s->conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "\x03\xf5", 2); /* 1013: try again later */
}

void md_session_ready(struct mg_connection *conn, void *srvp) {
    md_session *s = mg_get_user_connection_data(conn);
    s->conn = conn;
    if (s->refused) close_with(s, MD_EBUSY, s->refused);
}

int md_session_frame_begin(struct mg_connection *conn, int header_byte, unsigned long long length) {
    md_session *s = mg_get_user_connection_data(conn);
    int opcode = header_byte & 0x0f;
    if (!s || s->refused) return MG_WEBSOCKET_FRAME_CLOSE;
    if (opcode >= MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return length <= MAX_CONTROL_PAYLOAD ? MG_WEBSOCKET_FRAME_READ : MG_WEBSOCKET_FRAME_CLOSE;
    if (opcode != MG_WEBSOCKET_OPCODE_CONTINUATION) s->msg_declared = 0;
    s->msg_declared += length;
    if (!s->authed) {
        if (s->msg_declared > PREAUTH_MAX_MESSAGE) {
            char *m = md_asprintf("a message before HELLO may be at most %u bytes (this one declares %llu); closing",
                                  PREAUTH_MAX_MESSAGE, (unsigned long long)s->msg_declared);
            send_error(s, 0, MD_ETOO_LARGE, m);
            md_free(m);
            return MG_WEBSOCKET_FRAME_CLOSE;
        }
        return MG_WEBSOCKET_FRAME_READ;
    }
    uint64_t limit = (uint64_t)s->srv->cfg.max_frame_bytes + MD_FRAME_HEADER_SIZE;
    return s->msg_declared > limit ? MG_WEBSOCKET_FRAME_TRUNCATE : MG_WEBSOCKET_FRAME_READ;
}

int md_session_idle(struct mg_connection *conn) {
    md_session *s = mg_get_user_connection_data(conn);
    if (!s || s->refused) return 0;
    int64_t now = md_now_ms();
    if (!s->authed && now - s->opened_ms >= s->srv->cfg.hello_timeout_ms) {
        char *m = md_asprintf("no HELLO within %d ms of connecting; closing", s->srv->cfg.hello_timeout_ms);
        send_error(s, 0, MD_ETIMEOUT, m);
        md_free(m);
        return 0;
    }
    if (s->authed && !token_still_valid(s)) return 0;
    if (s->authed && now - s->last_ping_ms >= PING_INTERVAL_MS) {
        s->last_ping_ms = now;
        return 2;
    }
    return 1;
}

int md_session_data(struct mg_connection *conn, int flags, char *data, size_t len, void *srvp) {
    md_session *s = mg_get_user_connection_data(conn);
    int opcode = flags & 0x0f, fin = flags & 0x80, truncated = flags & MG_WEBSOCKET_FLAG_TRUNCATED;
    switch (opcode) {
    case MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE:
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, data, len >= 2 ? 2 : 0);
        return 0;
    case MG_WEBSOCKET_OPCODE_PING:
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_PONG, data, len);
        return 1;
    case MG_WEBSOCKET_OPCODE_PONG: return 1;
    case MG_WEBSOCKET_OPCODE_TEXT:
        send_error(s, 0, MD_EBAD_FRAME, "text WebSocket messages are not part of the protocol: send binary frames");
        return !s->refused && s->authed;
    default: break;
    }
    if (s->refused) return 0;
    size_t limit = (size_t)s->srv->cfg.max_frame_bytes + MD_FRAME_HEADER_SIZE;
    if (opcode == MG_WEBSOCKET_OPCODE_BINARY) {
        s->msg.len = 0;
        s->msg_too_large = 0;
        s->msg_id = len >= 12 ? md_get_u32le((const uint8_t *)data + 8) : 0;
    }
    /* Fast path: a whole message in one WebSocket frame. */
    if (fin && opcode == MG_WEBSOCKET_OPCODE_BINARY && !truncated) return handle_frame(s, (const uint8_t *)data, len);
    if (!s->msg_too_large) {
        if (truncated || s->msg.len + len > limit) {
            s->msg_too_large = 1;
            md_buf_free(&s->msg);
        } else {
            md_buf_append(&s->msg, data, len);
        }
    }
    if (!fin) return 1;
    int keep = 1;
    if (s->msg_too_large) {
        char *m = md_asprintf("message exceeds the limit of %u bytes per frame", s->srv->cfg.max_frame_bytes);
        send_error(s, s->msg_id, MD_ETOO_LARGE, m);
        md_free(m);
    } else {
        keep = handle_frame(s, s->msg.data, s->msg.len);
    }
    md_buf_free(&s->msg);
    s->msg_too_large = 0;
    return keep;
}

void md_session_close(const struct mg_connection *conn, void *srvp) {
    md_server *srv = srvp;
    md_session *s = mg_get_user_connection_data(conn);
    if (!s) return;
    directory_remove(s); /* before anything goes: the directory reads the session */
    pthread_mutex_lock(&s->mu);
    s->closing = 1;
    pthread_mutex_unlock(&s->mu);
    channel_release(s);
    leave_unauth(s);
    atomic_fetch_sub(&srv->ws_active, 1);
    md_buf_free(&s->msg);
    md_free(s->user);
    md_free(s->org);
    md_free(s->client);
    md_free(s->session_name);
    md_free(s->query);
    pthread_mutex_destroy(&s->chan_wmu);
    md_free(s->refused);
    pthread_mutex_destroy(&s->mu);
    /* what http.c keeps on the connection goes back, for its close callback */
    mg_set_user_connection_data(conn, s->conn_data);
    md_free(s);
}

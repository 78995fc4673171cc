/*
 * session.c: one client WebSocket connection (see session.h).
 *
 * State machine:
 *   NEW --HELLO with a valid token--> READY --WebSocket close--> gone
 *    |  \--anything else: ERROR, close
 *    \--over the connection limit: ERROR SERVER_BUSY, close
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
 *
 * Frame checks, in order, before anything is processed: WebSocket opcode
 * (binary only), message size (accumulated over continuation frames, bounded
 * by max_frame_bytes + header), header (magic, version, flags, known type,
 * length bound), header length equal to the message's, then who may send the
 * type.  Bad frames get an ERROR and the connection stays usable; protocol
 * violations (no HELLO first, a server-only message type) close it.
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

#include "frame_io.h"
#include "md_alloc.h"
#include "md_buf.h"
#include "md_error.h"
#include "protocol.h"
#include "token.h"
#include "version.h"

#define MAX_PENDING 128
/* Largest frame a duckling may send us: results stream in batches. */
#define MAX_DUCKLING_FRAME (1u << 31)

typedef struct md_session {
    md_server *srv;
    struct mg_connection *conn;
    int refused;
    int authed;
    char *user;
    int read_only;
    /* Reassembly of a fragmented WebSocket message. */
    md_buf msg;
    int msg_too_large;
    /* Duckling channel: owned by the connection thread; the pump reads it. */
    int chan_fd;
    uint64_t ticket;
    pthread_t pump;
    int pump_started;
    pthread_mutex_t mu; /* guards everything below */
    int chan_dead;
    int closing;
    uint32_t pending[MAX_PENDING];
    int npending;
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

static void pending_add(md_session *s, uint32_t id) {
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->npending; i++) /* an UPLOAD sends many frames under one id */
        if (s->pending[i] == id) {
            pthread_mutex_unlock(&s->mu);
            return;
        }
    if (s->npending < MAX_PENDING) s->pending[s->npending++] = id;
    pthread_mutex_unlock(&s->mu);
}

static void pending_remove(md_session *s, uint32_t id) {
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->npending; i++) {
        if (s->pending[i] == id) {
            s->pending[i] = s->pending[--s->npending];
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
    if (h->type == MD_MSG_ERROR || h->type == MD_MSG_PARSE || h->type == MD_MSG_DEPARSE ||
        (h->type == MD_MSG_CATALOG && h->request_id != 0))
        return 1;
    if (h->type != MD_MSG_RESULT_END) return 0;
    cJSON *j = cJSON_ParseWithLength((const char *)payload, h->length);
    int fin = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "final"));
    cJSON_Delete(j);
    return fin;
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
    close(s->chan_fd);
    s->chan_fd = -1;
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
    int rc = md_pool_open_channel(s->srv->pool, s->user, s->read_only, &fd, &ticket, out_err);
    if (rc != MD_OK) return rc;
    s->chan_fd = fd;
    s->ticket = ticket;
    s->chan_dead = 0;
    pthread_create(&s->pump, NULL, pump_main, s);
    s->pump_started = 1;
    return MD_OK;
}

static int handle_hello(md_session *s, const uint8_t *payload, uint32_t len) {
    cJSON *j = cJSON_ParseWithLength((const char *)payload, len);
    const cJSON *proto = cJSON_GetObjectItemCaseSensitive(j, "protocol");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "token");
    int ok = 0;
    if (!cJSON_IsNumber(proto) || proto->valueint != MD_PROTOCOL_VERSION) {
        send_error(s, 0, MD_EPROTOCOL, "HELLO must carry \"protocol\": 1; upgrade the client");
    } else if (!cJSON_IsString(tok) || !md_token_well_formed(tok->valuestring)) {
        send_error(s, 0, MD_EAUTH, "authentication failed: the token is missing or malformed; "
                                   "create one with `mdserver token create --user NAME`");
    } else {
        char hash[MD_TOKEN_HASH_LEN + 1];
        md_token_hash(tok->valuestring, hash);
        char *user = NULL;
        int ro = 0;
        int rc = md_meta_token_lookup(s->srv->meta, hash, &user, &ro);
        if (rc == MD_OK) {
            s->user = user;
            s->read_only = ro;
            s->authed = 1;
            ok = 1;
            cJSON *w = cJSON_CreateObject();
            cJSON_AddNumberToObject(w, "protocol", MD_PROTOCOL_VERSION);
            cJSON_AddStringToObject(w, "user", user);
            cJSON_AddBoolToObject(w, "read_only", ro);
            cJSON_AddStringToObject(w, "database", "my_db");
            cJSON_AddStringToObject(w, "server_version", MD_SERVER_VERSION);
            cJSON_AddStringToObject(w, "duckdb_version", md_duckdb_version());
            cJSON *lim = cJSON_AddObjectToObject(w, "limits");
            cJSON_AddNumberToObject(lim, "max_frame_bytes", s->srv->cfg.max_frame_bytes);
            cJSON_AddNumberToObject(lim, "max_result_bytes", (double)s->srv->cfg.max_result_bytes);
            send_json(s, MD_MSG_WELCOME, 0, w);
        } else {
            send_error(s, 0, rc == MD_EAUTH ? MD_EAUTH : MD_EINTERNAL,
                       rc == MD_EAUTH ? "authentication failed: unknown or revoked token"
                                      : "the server cannot read its metadata store");
        }
    }
    cJSON_Delete(j);
    return ok;
}

/* Forward a client request frame to the duckling. */
static void forward(md_session *s, const md_frame_header *h, const uint8_t *frame) {
    char *err = NULL;
    int rc = channel_ensure(s, &err);
    if (rc != MD_OK) {
        send_error(s, h->request_id, rc, err);
        md_free(err);
        return;
    }
    if (h->type == MD_MSG_QUERY || h->type == MD_MSG_CATALOG || h->type == MD_MSG_PARSE ||
        h->type == MD_MSG_DEPARSE || h->type == MD_MSG_UPLOAD)
        pending_add(s, h->request_id);
    if (md_fd_write_all(s->chan_fd, frame, MD_FRAME_HEADER_SIZE + (size_t)h->length) != MD_OK) {
        /* The duckling is gone; the pump reports pending requests. */
        if (h->type != MD_MSG_QUERY) send_error(s, h->request_id, MD_EDUCKLING, NULL);
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
        if (h.type != MD_MSG_HELLO) {
            send_error(s, id, MD_EPROTOCOL, "the first message must be HELLO with a token; closing");
            return 0;
        }
        return handle_hello(s, payload, h.length);
    }
    switch (h.type) {
    case MD_MSG_HELLO: send_error(s, id, MD_EPROTOCOL, "already authenticated"); return 1;
    case MD_MSG_PING: {
        uint8_t *f = md_malloc(n);
        memcpy(f, frame, n);
        md_frame_header_encode(f, MD_MSG_PONG, id, h.length);
        ws_send(s->conn, f, n);
        md_free(f);
        return 1;
    }
    default: forward(s, &h, frame); return 1;
    }
}

int md_session_connect(const struct mg_connection *conn, void *srvp) {
    md_server *srv = srvp;
    md_session *s = md_calloc(1, sizeof *s);
    s->srv = srv;
    s->chan_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    if (atomic_fetch_add(&srv->ws_active, 1) >= srv->cfg.max_connections) s->refused = 1;
    mg_set_user_connection_data(conn, s);
    return 0;
}

void md_session_ready(struct mg_connection *conn, void *srvp) {
    md_session *s = mg_get_user_connection_data(conn);
    s->conn = conn;
    if (s->refused) {
        char *m = md_asprintf("the server already has its maximum of %d connections open; try again later",
                              s->srv->cfg.max_connections);
        send_error(s, 0, MD_EBUSY, m);
        md_free(m);
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "\x03\xf5", 2); /* 1013: try again later */
    }
}

int md_session_data(struct mg_connection *conn, int flags, char *data, size_t len, void *srvp) {
    md_session *s = mg_get_user_connection_data(conn);
    int opcode = flags & 0x0f, fin = flags & 0x80;
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
        return !s->refused;
    default: break;
    }
    if (s->refused) return 0;
    size_t limit = (size_t)s->srv->cfg.max_frame_bytes + MD_FRAME_HEADER_SIZE;
    if (opcode == MG_WEBSOCKET_OPCODE_BINARY) {
        s->msg.len = 0;
        s->msg_too_large = 0;
    }
    /* Fast path: a whole message in one WebSocket frame. */
    if (fin && opcode == MG_WEBSOCKET_OPCODE_BINARY) {
        if (len > limit) {
            uint32_t id = len >= 12 ? md_get_u32le((const uint8_t *)data + 8) : 0;
            char *m = md_asprintf("message of %zu bytes exceeds the limit of %u bytes per frame", len,
                                  s->srv->cfg.max_frame_bytes);
            send_error(s, id, MD_ETOO_LARGE, m);
            md_free(m);
            return 1;
        }
        return handle_frame(s, (const uint8_t *)data, len);
    }
    if (!s->msg_too_large) {
        if (s->msg.len + len > limit) {
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
        send_error(s, 0, MD_ETOO_LARGE, m);
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
    pthread_mutex_lock(&s->mu);
    s->closing = 1;
    pthread_mutex_unlock(&s->mu);
    channel_release(s);
    atomic_fetch_sub(&srv->ws_active, 1);
    md_buf_free(&s->msg);
    md_free(s->user);
    pthread_mutex_destroy(&s->mu);
    mg_set_user_connection_data(conn, NULL);
    md_free(s);
}

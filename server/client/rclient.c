/*
 * rclient.c: the C protocol client (see rclient.h).
 *
 * Per query:
 *   send QUERY(id) {sql}
 *   loop: receive one WebSocket message = one frame; frames of other ids are
 *   dropped (an ERROR of id 0 goes to on_notice); RESULT_SCHEMA starts a
 *   fresh md_ipc_reader; RESULT_BATCH is decoded message by message
 *   (dictionary batches, then the record batch); the frame that ends the
 *   request (shared/protocol.h's table: RESULT_END with final=true, ERROR)
 *   ends the query.  While nothing arrives, on_wait is asked every
 *   WAIT_SLICE_MS, and the query timeout is watched.
 */
#include "rclient.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "shared/arrow_ipc.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/md_time.h"
#include "shared/protocol.h"
#include "ws_client.h"

#define CONNECT_TIMEOUT_MS 10000
#define HELLO_TIMEOUT_MS 30000
#define CLIENT_NAME "mdserver-rclient/0.1"
#define WAIT_SLICE_MS 100

/* How long a cancelled query may take to answer before the connection is
 * given up. */
#define CANCEL_GRACE_MS 10000

struct md_rclient {
    md_ws *ws;
    uint32_t next_id;
    uint32_t max_frame; /* the most payload a frame from the server may carry */
    int timeout_ms;     /* per query; <= 0: none */
    md_rclient_welcome welcome;
    md_rclient_error error;
    int has_error;
};

static void error_clear(md_rclient *r) {
    md_free((char *)r->error.code);
    md_free((char *)r->error.message);
    memset(&r->error, 0, sizeof r->error);
    r->has_error = 0;
}

/* Keep an ERROR payload as the last error; "CODE: message" in *out_err; its code's MD_E value. */
static int error_take(md_rclient *r, const cJSON *j, char **out_err);

static int send_json(md_rclient *r, int type, uint32_t id, cJSON *j, char **out_err) {
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text) {
        *out_err = md_strdup("out of memory");
        return MD_ENOMEM;
    }
    size_t len = strlen(text);
    if (r->welcome.max_frame_bytes && len > r->welcome.max_frame_bytes) {
        *out_err = md_asprintf("the request is %zu bytes, over the server's limit of %u bytes per frame", len,
                               r->welcome.max_frame_bytes);
        cJSON_free(text);
        return MD_ETOO_LARGE;
    }
    uint8_t hdr[MD_FRAME_HEADER_SIZE];
    md_frame_header_encode(hdr, type, id, (uint32_t)len);
    int rc = md_ws_send_binary(r->ws, hdr, sizeof hdr, text, len, out_err);
    cJSON_free(text);
    return rc;
}

/* Receive one frame, waiting up to timeout_ms (< 0: no limit): *out_data
 * (caller frees) is header + payload.  MD_ETIMEOUT leaves the connection
 * usable. */
static int recv_frame_within(md_rclient *r, int timeout_ms, uint8_t **out_data, md_frame_header *out_h,
                             char **out_err) {
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = md_ws_recv(r->ws, timeout_ms, &data, &len, out_err);
    if (rc != MD_OK) return rc;
    const char *why = NULL;
    if (len < MD_FRAME_HEADER_SIZE) why = "a message shorter than a frame header";
    else if (md_frame_header_decode(data, r->max_frame, out_h, &why) != MD_OK) {
        if (!why) why = "a bad frame header";
    } else if (out_h->length != len - MD_FRAME_HEADER_SIZE) {
        why = "a frame whose length does not match its message";
    }
    if (why) {
        md_free(data);
        *out_err = md_asprintf("protocol error from the server: %s", why);
        return MD_EPROTOCOL;
    }
    *out_data = data;
    return MD_OK;
}

static int recv_frame(md_rclient *r, uint8_t **out_data, md_frame_header *out_h, char **out_err) {
    return recv_frame_within(r, -1, out_data, out_h, out_err);
}

void md_rclient_set_timeout(md_rclient *r, int timeout_ms) {
    r->timeout_ms = timeout_ms;
}

/*
 * The next frame of query `id`.  hooks->on_wait is asked every WAIT_SLICE_MS,
 * whether frames arrive or not.  When the query's deadline passes, or on_wait asks,
 * CANCEL(id) is sent once; after a timeout's cancel the query gets
 * CANCEL_GRACE_MS more to end.  *cancelled: 1 after the caller's cancel, 2
 * after the timeout's (the end the caller sees is then the timeout's).
 */
static int recv_query_frame(md_rclient *r, uint32_t id, const md_rclient_hooks *hooks, int64_t *deadline,
                            int *cancelled, int64_t *next_tick, uint8_t **out_data, md_frame_header *out_h,
                            char **out_err) {
    int ticking = hooks && hooks->on_wait;
    for (;;) {
        int ask = MD_RCLIENT_WAIT;
        if (ticking && md_now_ms() >= *next_tick) { /* also while frames flow */
            ask = hooks->on_wait(hooks->ctx);
            *next_tick = md_now_ms() + WAIT_SLICE_MS;
        }
        if (ask == MD_RCLIENT_WAIT) {
            int wait = ticking ? (int)(*next_tick - md_now_ms()) : -1;
            if (ticking && wait < 0) wait = 0;
            if (*deadline) {
                int64_t left = *deadline - md_now_ms();
                if (left < 0) left = 0;
                if (wait < 0 || left < wait) wait = (int)left;
            }
            char *why = NULL;
            int rc = recv_frame_within(r, wait, out_data, out_h, &why);
            if (rc != MD_ETIMEOUT) {
                if (rc != MD_OK) *out_err = why;
                return rc;
            }
            md_free(why);
        }
        if (ask == MD_RCLIENT_ABANDON) {
            *out_err = md_strdup("the query was abandoned without waiting for the server");
            return MD_ECANCELLED;
        }
        int timed_out = *deadline && md_now_ms() >= *deadline;
        if (timed_out && *cancelled == 2) {
            *out_err = md_asprintf("the query did not end within %d ms of its cancel", CANCEL_GRACE_MS);
            return MD_ETIMEOUT;
        }
        if ((ask == MD_RCLIENT_CANCEL && !*cancelled) || timed_out) {
            uint8_t frame[MD_FRAME_HEADER_SIZE + 2];
            md_frame_header_encode(frame, MD_MSG_CANCEL, id, 2);
            memcpy(frame + MD_FRAME_HEADER_SIZE, "{}", 2);
            int rc = md_ws_send_binary(r->ws, frame, sizeof frame, NULL, 0, out_err);
            if (rc != MD_OK) return rc;
            *cancelled = timed_out ? 2 : 1;
            if (timed_out) *deadline = md_now_ms() + CANCEL_GRACE_MS;
        }
    }
}

static const char *json_str(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double json_num(const cJSON *j, const char *key, double dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int error_take(md_rclient *r, const cJSON *j, char **out_err) {
    error_clear(r);
    const char *code = json_str(j, "code"), *m = json_str(j, "message");
    r->error.code = md_strdup(code ? code : md_errname(MD_EINTERNAL));
    r->error.message = md_strdup(m ? m : "the server gave no message");
    r->error.position = (long)json_num(j, "position", -1);
    r->has_error = 1;
    *out_err = md_asprintf("%s: %s", r->error.code, r->error.message);
    return md_errcode(r->error.code);
}

const md_rclient_error *md_rclient_last_error(const md_rclient *r) {
    return r && r->has_error ? &r->error : NULL;
}

const md_rclient_welcome *md_rclient_welcome_of(const md_rclient *r) {
    return &r->welcome;
}

static char *json_dup(const cJSON *j, const char *key) {
    const char *v = json_str(j, key);
    return md_strdup(v ? v : "?");
}

int md_rclient_connect(const char *url, const char *token, md_rclient **out, char **out_err) {
    return md_rclient_open(url, token, NULL, out, out_err);
}

int md_rclient_open(const char *url, const char *token, const md_rclient_options *opt, md_rclient **out,
                    char **out_err) {
    md_rclient *r = md_calloc(1, sizeof *r);
    r->max_frame = MD_DEFAULT_MAX_FRAME_BYTES;
    r->next_id = 1;
    int rc = md_ws_connect(url, CONNECT_TIMEOUT_MS, 0, &r->ws, out_err);
    if (rc != MD_OK) {
        md_free(r);
        return rc;
    }
    cJSON *hello = cJSON_CreateObject();
    cJSON_AddNumberToObject(hello, "protocol", MD_PROTOCOL_VERSION);
    cJSON_AddStringToObject(hello, "token", token ? token : "");
    cJSON_AddStringToObject(hello, "client", opt && opt->client_name ? opt->client_name : CLIENT_NAME);
    if (opt && opt->session_name) cJSON_AddStringToObject(hello, "session_name", opt->session_name);
    rc = send_json(r, MD_MSG_HELLO, 0, hello, out_err);
    int64_t deadline = md_now_ms() + (opt && opt->hello_timeout_ms > 0 ? opt->hello_timeout_ms : HELLO_TIMEOUT_MS);
    while (rc == MD_OK) {
        uint8_t *f = NULL;
        md_frame_header h;
        int64_t left = deadline - md_now_ms();
        char *why = NULL;
        rc = recv_frame_within(r, left > 0 ? (int)left : 0, &f, &h, &why);
        if (rc == MD_ETIMEOUT) {
            md_free(why);
            if (md_now_ms() < deadline) {
                rc = MD_OK;
                continue;
            }
            *out_err = md_strdup("the server did not answer HELLO in time");
            break;
        }
        if (rc != MD_OK) {
            *out_err = why;
            break;
        }
        cJSON *j = cJSON_ParseWithLength((const char *)f + MD_FRAME_HEADER_SIZE, h.length);
        md_free(f);
        if (h.type == MD_MSG_ERROR) {
            char *ignored = NULL;
            rc = error_take(r, j, &ignored);
            md_free(ignored);
            if (rc == MD_EINTERNAL) rc = MD_EAUTH;
            *out_err = md_strdup(r->error.message);
            cJSON_Delete(j);
            break;
        }
        if (h.type != MD_MSG_WELCOME) {
            cJSON_Delete(j);
            continue;
        }
        double proto = json_num(j, "protocol", -1);
        if (proto != MD_PROTOCOL_VERSION) {
            *out_err = md_asprintf("the server speaks protocol %g, this client %d: upgrade one of them", proto,
                                   MD_PROTOCOL_VERSION);
            cJSON_Delete(j);
            rc = MD_EPROTOCOL;
            break;
        }
        const cJSON *lim = cJSON_GetObjectItemCaseSensitive(j, "limits");
        double mf = json_num(lim, "max_frame_bytes", MD_DEFAULT_MAX_FRAME_BYTES);
        r->welcome.max_frame_bytes = mf >= 1024 && mf <= 4294967295.0 - MD_FRAME_HEADER_SIZE ? (uint32_t)mf
                                                                                              : MD_DEFAULT_MAX_FRAME_BYTES;
        /* Results stream in batches that may exceed what a client may send. */
        r->max_frame = mf > MD_DEFAULT_MAX_FRAME_BYTES ? (uint32_t)mf : (uint32_t)(1u << 31);
        md_ws_set_max_message(r->ws, (size_t)r->max_frame + MD_FRAME_HEADER_SIZE);
        r->welcome.user = json_dup(j, "user");
        r->welcome.database = json_dup(j, "database");
        r->welcome.server_version = json_dup(j, "server_version");
        r->welcome.duckdb_version = json_dup(j, "duckdb_version");
        r->welcome.read_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "read_only"));
        cJSON_Delete(j);
        *out = r;
        return MD_OK;
    }
    md_rclient_close(&r);
    return rc;
}

/* Decode the IPC messages of one RESULT_BATCH payload. */
static int decode_batch(md_ipc_reader *rd, const struct ArrowSchema *schema, const uint8_t *p, size_t n,
                        const md_rclient_hooks *hooks, md_rclient_stats *st, char **out_err) {
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        md_ipc_message_kind kind;
        struct ArrowArray batch;
        memset(&batch, 0, sizeof batch);
        int rc = md_ipc_reader_next(rd, p + off, n - off, &used, &kind, &batch, out_err);
        if (rc != MD_OK) return rc;
        if (used == 0) break;
        off += used;
        if (kind != MD_IPC_BATCH) continue;
        st->rows += batch.length;
        st->batches++;
        if (hooks && hooks->on_batch) rc = hooks->on_batch(hooks->ctx, schema, &batch, out_err);
        if (batch.release) batch.release(&batch); /* unless the hook took it over */
        if (rc != MD_OK) return rc;
    }
    return MD_OK;
}

int md_rclient_query_send(md_rclient *r, const char *sql, unsigned flags, uint32_t *out_id, char **out_err) {
    if (!r->ws) {
        *out_err = md_strdup("the connection was closed after an earlier failure");
        return MD_EEOF;
    }
    uint32_t id = r->next_id++;
    if (r->next_id == 0) r->next_id = 1;
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "sql", sql);
    if (flags & MD_RCLIENT_NO_CATALOG) cJSON_AddFalseToObject(q, "catalog");
    int rc = send_json(r, MD_MSG_QUERY, id, q, out_err);
    if (rc == MD_OK) *out_id = id;
    return rc;
}

int md_rclient_query(md_rclient *r, const char *sql, const md_rclient_hooks *hooks,
                       md_rclient_stats *out_stats, char **out_err) {
    uint32_t id;
    int rc = md_rclient_query_send(r, sql, 0, &id, out_err);
    return rc == MD_OK ? md_rclient_query_recv(r, id, hooks, out_stats, out_err) : rc;
}

int md_rclient_query_recv(md_rclient *r, uint32_t id, const md_rclient_hooks *hooks, md_rclient_stats *out_stats,
                          char **out_err) {
    if (!r->ws) {
        *out_err = md_strdup("the connection was closed after an earlier failure");
        return MD_EEOF;
    }
    error_clear(r);
    int rc = MD_OK;
    md_rclient_stats st = {0, 0, 0, 0, 0};
    md_ipc_reader *rd = NULL;
    struct ArrowSchema schema; /* of the current statement, for the hooks */
    memset(&schema, 0, sizeof schema);
    uint64_t stmt_bytes = 0;
    int want_schema = hooks && (hooks->on_batch || hooks->on_schema);
    int64_t deadline = r->timeout_ms > 0 ? md_now_ms() + r->timeout_ms : 0;
    int64_t next_tick = md_now_ms() + WAIT_SLICE_MS;
    int cancelled = 0;
    for (;;) {
        uint8_t *f = NULL;
        md_frame_header h;
        rc = recv_query_frame(r, id, hooks, &deadline, &cancelled, &next_tick, &f, &h, out_err);
        if (rc != MD_OK) break;
        const uint8_t *payload = f + MD_FRAME_HEADER_SIZE;
        int last = 0; /* a RESULT_END that says final */
        if (h.request_id != id) {
            if (h.request_id == 0 && h.type == MD_MSG_ERROR && hooks && hooks->on_notice) {
                cJSON *j = cJSON_ParseWithLength((const char *)payload, h.length);
                hooks->on_notice(hooks->ctx, json_str(j, "code"), json_str(j, "message"));
                cJSON_Delete(j);
            }
            md_free(f);
            continue;
        }
        switch (h.type) {
        case MD_MSG_RESULT_SCHEMA: {
            md_ipc_reader_destroy(&rd);
            if (schema.release) schema.release(&schema);
            rd = md_ipc_reader_create(0);
            st.bytes += h.length;
            stmt_bytes = h.length;
            size_t used;
            md_ipc_message_kind kind;
            struct ArrowArray none;
            memset(&none, 0, sizeof none);
            rc = md_ipc_reader_next(rd, payload, h.length, &used, &kind, &none, out_err);
            if (rc == MD_OK && kind != MD_IPC_SCHEMA) {
                if (none.release) none.release(&none);
                *out_err = md_strdup("RESULT_SCHEMA does not hold an Arrow schema");
                rc = MD_EPROTOCOL;
            }
            if (rc == MD_OK && want_schema) rc = md_ipc_reader_schema(rd, &schema);
            if (rc == MD_OK && hooks && hooks->on_schema) rc = hooks->on_schema(hooks->ctx, &schema, out_err);
            break;
        }
        case MD_MSG_RESULT_BATCH:
            st.bytes += h.length;
            stmt_bytes += h.length;
            if (!rd) {
                *out_err = md_strdup("RESULT_BATCH before RESULT_SCHEMA");
                rc = MD_EPROTOCOL;
            } else {
                rc = decode_batch(rd, &schema, payload, h.length, hooks, &st, out_err);
            }
            break;
        case MD_MSG_PROGRESS:
            if (hooks && hooks->on_progress) {
                cJSON *j = cJSON_ParseWithLength((const char *)payload, h.length);
                md_rclient_progress p = {json_num(j, "percent", -1), json_num(j, "rows_processed", 0),
                                         json_num(j, "total_rows", 0)};
                cJSON_Delete(j);
                hooks->on_progress(hooks->ctx, &p);
            }
            break;
        case MD_MSG_RESULT_END: {
            cJSON *j = cJSON_ParseWithLength((const char *)payload, h.length);
            md_rclient_end end = {(int64_t)json_num(j, "rows", 0), stmt_bytes, json_num(j, "ms", NAN),
                                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "final"))};
            cJSON_Delete(j);
            st.server_rows += end.rows;
            last = end.final;
            if (end.final) st.server_ms = end.ms;
            if (hooks && hooks->on_end) rc = hooks->on_end(hooks->ctx, &end, out_err);
            md_ipc_reader_destroy(&rd);
            if (schema.release) schema.release(&schema);
            stmt_bytes = 0;
            break;
        }
        case MD_MSG_ERROR: {
            cJSON *j = cJSON_ParseWithLength((const char *)payload, h.length);
            error_take(r, j, out_err);
            cJSON_Delete(j);
            if (cancelled == 2 && strcmp(r->error.code, md_errname(MD_ECANCELLED)) == 0) {
                md_free(*out_err);
                *out_err = md_asprintf("TIMEOUT: the query ran longer than %d ms and was cancelled", r->timeout_ms);
            }
            rc = MD_ESQL;
            break;
        }
        default: break;
        }
        int done = md_msg_ends(h.type) == MD_ENDS_YES || (md_msg_ends(h.type) == MD_ENDS_IF_FINAL && last);
        md_free(f);
        if (rc != MD_OK || done) break;
    }
    md_ipc_reader_destroy(&rd);
    if (schema.release) schema.release(&schema);
    if (rc == MD_OK) *out_stats = st;
    else if (rc != MD_ESQL) md_ws_close(&r->ws); /* mid-request: the rest would still arrive */
    return rc;
}

int md_rclient_alive(const md_rclient *r) {
    return r && r->ws;
}

void md_rclient_close(md_rclient **rp) {
    if (!rp || !*rp) return;
    md_rclient *r = *rp;
    md_ws_close(&r->ws);
    error_clear(r);
    md_free((char *)r->welcome.user);
    md_free((char *)r->welcome.database);
    md_free((char *)r->welcome.server_version);
    md_free((char *)r->welcome.duckdb_version);
    md_free(r);
    *rp = NULL;
}

int md_rclient_ping(md_rclient *r, char **out_err) {
    if (!r->ws) {
        *out_err = md_strdup("the connection was closed after an earlier failure");
        return MD_EEOF;
    }
    uint32_t id = r->next_id++;
    if (r->next_id == 0) r->next_id = 1;
    uint8_t frame[MD_FRAME_HEADER_SIZE + 8] = {0};
    md_frame_header_encode(frame, MD_MSG_PING, id, 8);
    int rc = md_ws_send_binary(r->ws, frame, sizeof frame, NULL, 0, out_err);
    while (rc == MD_OK) {
        uint8_t *f = NULL;
        md_frame_header h;
        rc = recv_frame(r, &f, &h, out_err);
        if (rc != MD_OK) break;
        int type = h.type;
        uint32_t got = h.request_id;
        md_free(f);
        if (got == id && type == MD_MSG_PONG) return MD_OK;
        if (got == id && type == MD_MSG_ERROR) {
            *out_err = md_strdup("the server answered PING with ERROR");
            return MD_EPROTOCOL;
        }
    }
    md_ws_close(&r->ws);
    return rc;
}

static uint32_t take_id(md_rclient *r) {
    uint32_t id = r->next_id++;
    if (r->next_id == 0) r->next_id = 1;
    return id;
}

/* Wait for the answer of type `type` (or ERROR) to request `id`. */
static int await_answer(md_rclient *r, uint32_t id, int type, char **out_text, char **out_err) {
    error_clear(r);
    for (;;) {
        uint8_t *f = NULL;
        md_frame_header h;
        int rc = recv_frame(r, &f, &h, out_err);
        if (rc != MD_OK) {
            md_ws_close(&r->ws);
            return rc;
        }
        if (h.request_id != id || (h.type != type && h.type != MD_MSG_ERROR)) {
            md_free(f);
            continue;
        }
        const char *payload = (const char *)f + MD_FRAME_HEADER_SIZE;
        if (h.type == MD_MSG_ERROR) {
            cJSON *j = cJSON_ParseWithLength(payload, h.length);
            rc = error_take(r, j, out_err);
            if (rc == MD_EINTERNAL) rc = MD_ESQL;
            cJSON_Delete(j);
            md_free(f);
            return rc;
        }
        if (out_text) *out_text = md_strndup(payload, h.length);
        md_free(f);
        return MD_OK;
    }
}

int md_rclient_request(md_rclient *r, int type, const char *json, char **out_text, char **out_err) {
    if (!r->ws) {
        *out_err = md_strdup("the connection was closed after an earlier failure");
        return MD_EEOF;
    }
    uint32_t id = take_id(r);
    size_t len = json ? strlen(json) : 0;
    uint8_t hdr[MD_FRAME_HEADER_SIZE];
    md_frame_header_encode(hdr, type, id, (uint32_t)len);
    int rc = md_ws_send_binary(r->ws, hdr, sizeof hdr, json, len, out_err);
    if (rc != MD_OK) return rc;
    return await_answer(r, id, type, out_text, out_err);
}

int md_rclient_upload(md_rclient *r, const char *table, const uint8_t *ipc, size_t len, size_t frame_bytes,
                      int64_t *out_rows, char **out_err) {
    uint32_t id;
    int rc = md_rclient_upload_send(r, table, ipc, len, frame_bytes, &id, out_err);
    return rc == MD_OK ? md_rclient_upload_recv(r, id, out_rows, out_err) : rc;
}

int md_rclient_upload_send(md_rclient *r, const char *table, const uint8_t *ipc, size_t len, size_t frame_bytes,
                           uint32_t *out_id, char **out_err) {
    if (!r->ws) {
        *out_err = md_strdup("the connection was closed after an earlier failure");
        return MD_EEOF;
    }
    if (!frame_bytes) frame_bytes = 1u << 20;
    uint32_t id = take_id(r);
    size_t off = 0;
    int rc = MD_OK;
    do {
        size_t n = len - off < frame_bytes ? len - off : frame_bytes;
        int first = off == 0, last = off + n == len;
        cJSON *h = cJSON_CreateObject();
        if (first) {
            cJSON_AddStringToObject(h, "table", table);
            cJSON_AddFalseToObject(h, "catalog"); /* the caller knows its table: no CATALOG(0) after it */
        }
        if (last) cJSON_AddTrueToObject(h, "final");
        char *ht = cJSON_PrintUnformatted(h);
        cJSON_Delete(h);
        size_t hl = strlen(ht);
        md_buf b = MD_BUF_INIT;
        md_buf_append_zeros(&b, MD_FRAME_HEADER_SIZE);
        uint8_t le[4] = {(uint8_t)hl, (uint8_t)(hl >> 8), (uint8_t)(hl >> 16), (uint8_t)(hl >> 24)};
        md_buf_append(&b, le, 4);
        md_buf_append(&b, ht, hl);
        cJSON_free(ht);
        md_frame_header_encode(b.data, MD_MSG_UPLOAD, id, (uint32_t)(b.len - MD_FRAME_HEADER_SIZE + n));
        rc = md_ws_send_binary(r->ws, b.data, b.len, ipc + off, n, out_err);
        md_buf_free(&b);
        off += n;
    } while (rc == MD_OK && off < len);
    if (rc == MD_OK) *out_id = id;
    return rc;
}

int md_rclient_upload_recv(md_rclient *r, uint32_t id, int64_t *out_rows, char **out_err) {
    if (!r->ws) {
        *out_err = md_strdup("the connection was closed after an earlier failure");
        return MD_EEOF;
    }
    char *answer = NULL;
    int rc = await_answer(r, id, MD_MSG_RESULT_END, &answer, out_err);
    if (rc == MD_OK) {
        cJSON *j = cJSON_Parse(answer);
        *out_rows = (int64_t)json_num(j, "rows", 0);
        cJSON_Delete(j);
    }
    md_free(answer);
    return rc;
}

/*
 * protocol.h: the wire protocol between clients, mdserver and ducklings.
 *
 * One frame format is used on every hop: WebSocket binary messages between a
 * client and mdserver (one frame per WebSocket message), and the stream
 * socketpairs between mdserver and its duckling processes (frames back to back).
 *
 * Frame layout (all integers little-endian):
 *
 *   offset  size  field
 *   ------  ----  ---------------------------------------------------------
 *        0     2  magic: 'M' 'D' (0x4D 0x44)
 *        2     1  version: MD_PROTOCOL_VERSION (1)
 *        3     1  message type (MD_MSG_LIST below)
 *        4     4  flags: must be 0 in version 1 (reserved)
 *        8     4  request id: chosen by the client, echoed on every reply;
 *                 0 for messages not tied to a request
 *       12     4  payload length in bytes (N)
 *       16     N  payload: JSON (UTF-8, one object) for control messages,
 *                 Arrow IPC stream bytes for data messages
 *
 * The header is 16 bytes so an Arrow payload stays 8-byte aligned.
 *
 * Data payloads: RESULT_SCHEMA carries the IPC stream's schema message;
 * each RESULT_BATCH carries one record batch message (preceded by the
 * dictionary batches it needs).  RESULT_SCHEMA's payload followed by every
 * RESULT_BATCH payload and the 8-byte end-of-stream marker
 * (FF FF FF FF 00 00 00 00) is a valid Arrow IPC stream.
 *
 * Conversation (request id R chosen by the client):
 *
 *   C: HELLO {protocol, token, client}
 *   S: WELCOME {protocol, user, read_only, database, server_version,
 *               duckdb_version, limits{max_frame_bytes}}      or ERROR + close
 *   C: QUERY(R) {sql}
 *   S: for every statement i of the SQL, in order:
 *        RESULT_SCHEMA(R), RESULT_BATCH(R)..., PROGRESS(R)...,
 *        RESULT_END(R) {statement, statements, rows, bytes, ms, final}
 *      final is true on the last statement's RESULT_END.  Any failure ends
 *      the request with ERROR(R) {code, message[, position][, type]}; nothing
 *      follows an ERROR for that request.
 *   C: CANCEL(R) {}   the running or queued query R ends with ERROR CANCELLED
 *   C: CATALOG(R) {}  S: CATALOG(R) {databases: [...]}: what the session can
 *      see, in the shape documented in wasm/catalog.h.  After a request that
 *      changed the catalog (DDL, ATTACH, DETACH) the server also sends
 *      CATALOG(0) with the new catalog, after that request's last frame;
 *      not when the request said "catalog": false (QUERY {sql, catalog},
 *      UPLOAD's header {table, catalog}): the dual driver's bridge tables
 *      and their DROPs, which the client knows about already.
 *   C: NOTEBOOK(R) {op, ...}  S: NOTEBOOK(R) {...}: the user's notebooks
 *      (server/notebooks.h lists the ops); HISTORY likewise for the user's
 *      query history (server/history.h).  Answered by mdserver itself at
 *      once, not in turn with the duckling's requests.
 *   C: PING(R) any    S: PONG(R) with the same payload
 *
 * Requests of one connection that its duckling serves (QUERY, CATALOG,
 * PARSE, DEPARSE, UPLOAD) run one at a time in arrival order.  Errors that
 * keep the connection open: anything about one request.  Errors that close it:
 * a bad HELLO, a frame that cannot be parsed, a frame over the size limit.
 */
#ifndef MD_PROTOCOL_H
#define MD_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define MD_PROTOCOL_VERSION 1
#define MD_FRAME_HEADER_SIZE 16
#define MD_FRAME_MAGIC0 0x4D
#define MD_FRAME_MAGIC1 0x44

/* Default limits; the server's flags may change them. */
#define MD_DEFAULT_MAX_FRAME_BYTES (64u * 1024u * 1024u)

enum md_payload_kind { MD_PAYLOAD_JSON, MD_PAYLOAD_ARROW, MD_PAYLOAD_ANY };

/* Who may send a message: C = client, S = server, I = internal (mdserver and
 * duckling only; a client sending it is a protocol violation). */
enum md_msg_origin { MD_FROM_CLIENT = 1, MD_FROM_SERVER = 2, MD_FROM_INTERNAL = 4 };

/* How the front end (server/session.c) serves a message from a client. */
enum md_msg_serve {
    MD_SERVE_NONE,   /* not a client's request */
    MD_SERVE_HELLO,  /* the handshake: the first message, and only then */
    MD_SERVE_ECHO,   /* answered at once: PONG with the same payload */
    MD_SERVE_JOB,    /* a job for the session's duckling, answered until a frame ends it */
    MD_SERVE_SIGNAL, /* passed to the duckling: acts on another request, answers nothing */
    MD_SERVE_FRONT,  /* answered by mdserver itself at once (the user's workspace: notebooks, history) */
};

/* Whether a frame from the server ends the request it answers (request id
 * 0 is no request: such a frame ends nothing). */
enum md_msg_ends {
    MD_ENDS_NO,
    MD_ENDS_YES,
    MD_ENDS_IF_FINAL, /* when its JSON says "final": true */
};

/* Which of the duckling's jobs runs an MD_SERVE_JOB request. */
enum md_msg_job { MD_JOB_NONE, MD_JOB_SQL, MD_JOB_CATALOG, MD_JOB_AST, MD_JOB_UPLOAD };

/* The message table: every property of a message type is here, once; the
 * C code asks md_msg_*() and the page's JavaScript gets the same table,
 * generated from this one at build time (scripts/gen_protocol_js.c).
 *
 *   MSG(name,         code, origin,           payload,          serve,           ends,             job) */
#define MD_MSG_LIST(MSG)                                                                                         \
    MSG(HELLO,         0x01, MD_FROM_CLIENT,   MD_PAYLOAD_JSON,  MD_SERVE_HELLO,  MD_ENDS_NO,       MD_JOB_NONE)    \
    MSG(WELCOME,       0x02, MD_FROM_SERVER,   MD_PAYLOAD_JSON,  MD_SERVE_NONE,   MD_ENDS_NO,       MD_JOB_NONE)    \
    MSG(QUERY,         0x10, MD_FROM_CLIENT,   MD_PAYLOAD_JSON,  MD_SERVE_JOB,    MD_ENDS_NO,       MD_JOB_SQL)     \
    MSG(RESULT_SCHEMA, 0x11, MD_FROM_SERVER,   MD_PAYLOAD_ARROW, MD_SERVE_NONE,   MD_ENDS_NO,       MD_JOB_NONE)    \
    MSG(RESULT_BATCH,  0x12, MD_FROM_SERVER,   MD_PAYLOAD_ARROW, MD_SERVE_NONE,   MD_ENDS_NO,       MD_JOB_NONE)    \
    MSG(RESULT_END,    0x13, MD_FROM_SERVER,   MD_PAYLOAD_JSON,  MD_SERVE_NONE,   MD_ENDS_IF_FINAL, MD_JOB_NONE)    \
    MSG(PROGRESS,      0x14, MD_FROM_SERVER,   MD_PAYLOAD_JSON,  MD_SERVE_NONE,   MD_ENDS_NO,       MD_JOB_NONE)    \
    MSG(ERROR,         0x15, MD_FROM_SERVER,   MD_PAYLOAD_JSON,  MD_SERVE_NONE,   MD_ENDS_YES,      MD_JOB_NONE)    \
    MSG(CANCEL,        0x16, MD_FROM_CLIENT,   MD_PAYLOAD_JSON,  MD_SERVE_SIGNAL, MD_ENDS_NO,       MD_JOB_NONE)    \
    MSG(CATALOG,       0x20, MD_FROM_CLIENT | MD_FROM_SERVER,                                                     \
                                               MD_PAYLOAD_JSON,  MD_SERVE_JOB,    MD_ENDS_YES,      MD_JOB_CATALOG) \
    MSG(PARSE,         0x21, MD_FROM_CLIENT | MD_FROM_SERVER,                                                     \
                                               MD_PAYLOAD_JSON,  MD_SERVE_JOB,    MD_ENDS_YES,      MD_JOB_AST)     \
    MSG(DEPARSE,       0x22, MD_FROM_CLIENT | MD_FROM_SERVER,                                                     \
                                               MD_PAYLOAD_JSON,  MD_SERVE_JOB,    MD_ENDS_YES,      MD_JOB_AST)     \
    MSG(UPLOAD,        0x23, MD_FROM_CLIENT,   MD_PAYLOAD_ARROW, MD_SERVE_JOB,    MD_ENDS_NO,       MD_JOB_UPLOAD)  \
    MSG(NOTEBOOK,      0x24, MD_FROM_CLIENT | MD_FROM_SERVER,                                                     \
                                               MD_PAYLOAD_JSON,  MD_SERVE_FRONT,  MD_ENDS_YES,      MD_JOB_NONE)    \
    MSG(HISTORY,       0x25, MD_FROM_CLIENT | MD_FROM_SERVER,                                                     \
                                               MD_PAYLOAD_JSON,  MD_SERVE_FRONT,  MD_ENDS_YES,      MD_JOB_NONE)    \
    MSG(PING,          0x30, MD_FROM_CLIENT,   MD_PAYLOAD_ANY,   MD_SERVE_ECHO,   MD_ENDS_NO,       MD_JOB_NONE)    \
    MSG(PONG,          0x31, MD_FROM_SERVER,   MD_PAYLOAD_ANY,   MD_SERVE_NONE,   MD_ENDS_YES,      MD_JOB_NONE)    \
    MSG(SESSION,       0x40, MD_FROM_INTERNAL, MD_PAYLOAD_JSON,  MD_SERVE_NONE,   MD_ENDS_NO,       MD_JOB_NONE)

typedef enum md_msg_type {
#define MD__MSG_ENUM(name, code, origin, payload, serve, ends, job) MD_MSG_##name = code,
    MD_MSG_LIST(MD__MSG_ENUM)
#undef MD__MSG_ENUM
} md_msg_type;

typedef struct md_frame_header {
    uint8_t version;
    uint8_t type;
    uint32_t flags;
    uint32_t request_id;
    uint32_t length; /* payload bytes */
} md_frame_header;

/* The message's name ("QUERY"), or NULL for an unknown type. */
const char *md_msg_name(int type);

/* Who may send `type` (an md_msg_origin bit set), or 0 for an unknown type. */
int md_msg_origin(int type);

/* The other columns of the table for `type`; for an unknown type:
 * MD_PAYLOAD_ANY, MD_SERVE_NONE, MD_ENDS_NO, MD_JOB_NONE. */
enum md_payload_kind md_msg_payload(int type);
enum md_msg_serve md_msg_serve(int type);
enum md_msg_ends md_msg_ends(int type);
enum md_msg_job md_msg_job(int type);

/* Write the 16-byte header for (type, request_id, length) into out[16]. */
void md_frame_header_encode(uint8_t out[MD_FRAME_HEADER_SIZE], int type, uint32_t request_id,
                            uint32_t length);

/*
 * Parse and check the 16-byte header at p.  `max_payload` bounds the payload
 * length (checked here, before anyone buffers the payload).
 * Returns MD_OK and fills *out, MD_EBAD_FRAME (bad magic, version, flags or
 * unknown type: out_err names which), or MD_ETOO_LARGE.  *out_err, if given,
 * is set to a static sentence.
 */
int md_frame_header_decode(const uint8_t p[MD_FRAME_HEADER_SIZE], uint32_t max_payload,
                           md_frame_header *out, const char **out_err);

#endif

/*
 * protocol.c: frame header codec and message table (see protocol.h).
 */
#include "protocol.h"

#include "md_buf.h"
#include "md_error.h"

/* One row of the message table. */
typedef struct msg_row {
    const char *name;
    int origin;
    enum md_payload_kind payload;
    enum md_msg_serve serve;
    enum md_msg_ends ends;
    enum md_msg_job job;
} msg_row;

static const msg_row *row(int type) {
    switch (type) {
#define MD__MSG_ROW(name, code, origin, payload, serve, ends, job) \
    case code: {                                                  \
        static const msg_row r = {#name, origin, payload, serve, ends, job}; \
        return &r;                                                \
    }
        MD_MSG_LIST(MD__MSG_ROW)
#undef MD__MSG_ROW
    default: return NULL;
    }
}

const char *md_msg_name(int type) {
    const msg_row *r = row(type);
    return r ? r->name : NULL;
}

int md_msg_origin(int type) {
    const msg_row *r = row(type);
    return r ? r->origin : 0;
}

enum md_payload_kind md_msg_payload(int type) {
    const msg_row *r = row(type);
    return r ? r->payload : MD_PAYLOAD_ANY;
}

enum md_msg_serve md_msg_serve(int type) {
    const msg_row *r = row(type);
    return r ? r->serve : MD_SERVE_NONE;
}

enum md_msg_ends md_msg_ends(int type) {
    const msg_row *r = row(type);
    return r ? r->ends : MD_ENDS_NO;
}

enum md_msg_job md_msg_job(int type) {
    const msg_row *r = row(type);
    return r ? r->job : MD_JOB_NONE;
}

void md_frame_header_encode(uint8_t out[MD_FRAME_HEADER_SIZE], int type, uint32_t request_id,
                            uint32_t length) {
    out[0] = MD_FRAME_MAGIC0;
    out[1] = MD_FRAME_MAGIC1;
    out[2] = MD_PROTOCOL_VERSION;
    out[3] = (uint8_t)type;
    md_set_u32le(out + 4, 0);
    md_set_u32le(out + 8, request_id);
    md_set_u32le(out + 12, length);
}

int md_frame_header_decode(const uint8_t p[MD_FRAME_HEADER_SIZE], uint32_t max_payload,
                           md_frame_header *out, const char **out_err) {
    const char *why = NULL;
    int rc = MD_EBAD_FRAME;
    uint32_t length = md_get_u32le(p + 12);
    if (p[0] != MD_FRAME_MAGIC0 || p[1] != MD_FRAME_MAGIC1)
        why = "bad frame magic: this is not an mdserver protocol frame";
    else if (p[2] != MD_PROTOCOL_VERSION)
        why = "unsupported protocol version: client and server versions differ";
    else if (md_get_u32le(p + 4) != 0)
        why = "reserved frame flags are set";
    else if (md_msg_name(p[3]) == NULL)
        why = "unknown message type";
    else if (length > max_payload) {
        why = "frame payload exceeds the server's size limit";
        rc = MD_ETOO_LARGE;
    } else {
        out->version = p[2];
        out->type = p[3];
        out->flags = 0;
        out->request_id = md_get_u32le(p + 8);
        out->length = length;
        return MD_OK;
    }
    if (out_err) *out_err = why;
    return rc;
}

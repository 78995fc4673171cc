/*
 * fuzz_frame.c: libFuzzer target for what the server does with untrusted
 * client bytes before anything else: split the input into frames with the
 * header codec (shared/protocol.c) exactly as a WebSocket message would be
 * checked, parse JSON payloads of control messages through the depth guard
 * (shared/json_guard.c, as session.c and the duckling do), and decode
 * UPLOAD payloads (server/duckling/upload_wire.c).
 * Invariants checked: a decoded header never claims more bytes than the
 * limit or than the input holds once the length check passed; an UPLOAD's
 * Arrow bytes lie inside its payload.
 * fuzz-sources: server/duckling/upload_wire.c
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/duckling/upload_wire.h"
#include "shared/json_guard.h"
#include "shared/md_error.h"
#include "shared/protocol.h"

#define LIMIT 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    while (size >= MD_FRAME_HEADER_SIZE) {
        md_frame_header h;
        const char *why = NULL;
        int rc = md_frame_header_decode(data, LIMIT, &h, &why);
        if (rc != MD_OK) {
            if (!why) abort();
            return 0;
        }
        if (h.length > LIMIT) abort();
        if (h.length > size - MD_FRAME_HEADER_SIZE) return 0;
        if (!md_msg_name(h.type) || !md_msg_origin(h.type)) abort();
        const uint8_t *payload = data + MD_FRAME_HEADER_SIZE;
        if (h.type == MD_MSG_UPLOAD) {
            md_upload_frame fr;
            if (md_upload_frame_decode(payload, h.length, &fr, &why) == MD_OK) {
                if (fr.ipc < payload || fr.ipc + fr.ipc_len != payload + h.length) abort();
                md_upload_frame_free(&fr);
            } else if (!why) {
                abort();
            }
        } else {
            cJSON *j = md_json_parse(payload, h.length, MD_JSON_CONTROL_DEPTH, &why);
            if (j) {
                char *s = cJSON_PrintUnformatted(j);
                free(s);
                cJSON_Delete(j);
            } else if (!why) {
                abort();
            }
        }
        data += MD_FRAME_HEADER_SIZE + h.length;
        size -= MD_FRAME_HEADER_SIZE + h.length;
    }
    return 0;
}

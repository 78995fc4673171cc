/*
 * fuzz_frame.c: libFuzzer target for what the server does with untrusted
 * client bytes before anything else: split the input into frames with the
 * header codec (shared/protocol.c) exactly as a WebSocket message would be
 * checked, and parse JSON payloads of control messages with cJSON.
 * Invariants checked: a decoded header never claims more bytes than the
 * limit or than the input holds once the length check passed.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "md_error.h"
#include "protocol.h"

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
        cJSON *j = cJSON_ParseWithLength((const char *)data + MD_FRAME_HEADER_SIZE, h.length);
        if (j) {
            char *s = cJSON_PrintUnformatted(j);
            free(s);
            cJSON_Delete(j);
        }
        data += MD_FRAME_HEADER_SIZE + h.length;
        size -= MD_FRAME_HEADER_SIZE + h.length;
    }
    return 0;
}

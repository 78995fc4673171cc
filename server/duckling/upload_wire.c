/* upload_wire.c: the UPLOAD payload (see upload_wire.h). */
#include "upload_wire.h"

#include <string.h>

#include "shared/json_guard.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

int md_upload_frame_decode(const uint8_t *p, size_t len, md_upload_frame *out, const char **out_why) {
    memset(out, 0, sizeof *out);
    uint32_t hlen = len >= 4 ? md_get_u32le(p) : 0;
    cJSON *h = len >= 4 && hlen <= len - 4 ? md_json_parse(p + 4, hlen, MD_JSON_CONTROL_DEPTH, NULL) : NULL;
    if (!cJSON_IsObject(h)) {
        cJSON_Delete(h);
        if (out_why) *out_why = "an UPLOAD payload starts with the 4-byte length of a JSON header, then the header";
        return MD_EBAD_FRAME;
    }
    const cJSON *table = cJSON_GetObjectItemCaseSensitive(h, "table");
    if (cJSON_IsString(table)) out->table = md_strdup(table->valuestring);
    out->final = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "final"));
    out->quiet = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(h, "catalog"));
    out->ipc = p + 4 + hlen;
    out->ipc_len = len - 4 - hlen;
    cJSON_Delete(h);
    return MD_OK;
}

void md_upload_frame_free(md_upload_frame *f) {
    md_free(f->table);
    memset(f, 0, sizeof *f);
}

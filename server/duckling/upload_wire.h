/*
 * upload_wire.h: the payload of one UPLOAD frame (upload.h says what an
 * upload does with it).
 *
 *   offset  size  field
 *   0       4     h: byte length of the JSON header, u32 little-endian
 *   4       h     JSON header: first frame {"table": "<name>"}, with
 *                 "catalog": false for no CATALOG(0) after the upload (a
 *                 bridge's table); the last frame {"final": true} (one
 *                 frame may be both); others {}
 *   4+h     rest  the next bytes of one Arrow IPC stream (cut anywhere)
 *
 * The header is JSON from a client: its nesting is bounded before it is
 * parsed (json_guard.h).
 */
#ifndef MD_UPLOAD_WIRE_H
#define MD_UPLOAD_WIRE_H

#include <stddef.h>
#include <stdint.h>

typedef struct md_upload_frame {
    char *table;        /* the first frame's table name (md_malloc'd), or NULL */
    int final;          /* {"final": true} */
    int quiet;          /* {"catalog": false} */
    const uint8_t *ipc; /* this frame's Arrow IPC bytes, inside the payload */
    size_t ipc_len;
} md_upload_frame;

/*
 * Decode payload p[0..len).  MD_OK with *out filled (free with
 * md_upload_frame_free; out->ipc points into p), or MD_EBAD_FRAME with a
 * static sentence in *out_why when the payload does not have the shape
 * above.
 */
int md_upload_frame_decode(const uint8_t *p, size_t len, md_upload_frame *out, const char **out_why);

/* Free what md_upload_frame_decode allocated and zero *f. */
void md_upload_frame_free(md_upload_frame *f);

#endif

/*
 * frame_io.h: protocol frames over a blocking stream socket (the socketpairs
 * between mdserver and its ducklings).  Frames are back to back; each is the
 * 16-byte header of protocol.h followed by its payload.
 *
 * Writers: one frame is written with one sendmsg/writev where possible; the
 * caller serialises concurrent writers on one socket.  Readers: the header is
 * checked against `max_payload` before the payload is allocated.
 * SIGPIPE is never raised (MSG_NOSIGNAL); a closed peer gives MD_EIO.
 */
#ifndef MD_FRAME_IO_H
#define MD_FRAME_IO_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

struct cJSON;

/* Write all n bytes; MD_OK or MD_EIO (peer closed or error). */
int md_fd_write_all(int fd, const void *p, size_t n);

/* Read exactly n bytes; MD_OK, MD_EEOF if the peer closed before the first
 * byte, MD_EIO otherwise. */
int md_fd_read_all(int fd, void *p, size_t n);

/* Send one frame made of a header and `len` payload bytes. */
int md_frame_send(int fd, int type, uint32_t request_id, const void *payload, size_t len);

/* Send one frame whose payload is `json` printed unformatted (not consumed). */
int md_frame_send_json(int fd, int type, uint32_t request_id, const struct cJSON *json);

/* Send an ERROR frame {code, message} for `code` (an MD_E... value). */
int md_frame_send_error(int fd, uint32_t request_id, int code, const char *message);

/*
 * Receive one frame.  On MD_OK, *out_frame is a malloc'd buffer holding the
 * header and payload (MD_FRAME_HEADER_SIZE + out_hdr->length bytes, caller
 * frees with md_free) and *out_hdr is its parsed header.  Returns MD_EEOF on a
 * clean close between frames, MD_EBAD_FRAME/MD_ETOO_LARGE for a bad header
 * (the stream can't be resynchronised: close it), MD_EIO, MD_ENOMEM.
 */
int md_frame_recv(int fd, uint32_t max_payload, md_frame_header *out_hdr, uint8_t **out_frame);

/* Build an ERROR payload {code, message[, position]}; caller cJSON_Deletes. */
struct cJSON *md_error_json(int code, const char *message, long position);

#endif

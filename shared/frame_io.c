/*
 * frame_io.c: protocol frames over blocking stream sockets (see frame_io.h).
 */
#include "frame_io.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "md_alloc.h"
#include "md_error.h"

int md_fd_write_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK) w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return MD_EIO;
        }
        b += w;
        n -= (size_t)w;
    }
    return MD_OK;
}

int md_fd_read_all(int fd, void *p, size_t n) {
    uint8_t *b = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return MD_EIO;
        }
        if (r == 0) return got == 0 ? MD_EEOF : MD_EIO;
        got += (size_t)r;
    }
    return MD_OK;
}

int md_frame_send(int fd, int type, uint32_t request_id, const void *payload, size_t len) {
    uint8_t hdr[MD_FRAME_HEADER_SIZE];
    if (len > UINT32_MAX) return MD_ETOO_LARGE;
    md_frame_header_encode(hdr, type, request_id, (uint32_t)len);
    struct iovec iov[2] = {{hdr, sizeof hdr}, {(void *)payload, len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    size_t total = sizeof hdr + len;
    ssize_t w;
    do {
        w = sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (w < 0 && errno == EINTR);
    if (w < 0) return MD_EIO;
    if ((size_t)w == total) return MD_OK;
    /* Partial write: finish byte by byte range. */
    size_t done = (size_t)w;
    if (done < sizeof hdr) {
        if (md_fd_write_all(fd, hdr + done, sizeof hdr - done) != MD_OK) return MD_EIO;
        done = sizeof hdr;
    }
    return md_fd_write_all(fd, (const uint8_t *)payload + (done - sizeof hdr), total - done);
}

int md_frame_send_json(int fd, int type, uint32_t request_id, const cJSON *json) {
    char *s = cJSON_PrintUnformatted(json);
    if (!s) return MD_ENOMEM;
    int rc = md_frame_send(fd, type, request_id, s, strlen(s));
    cJSON_free(s);
    return rc;
}

cJSON *md_error_json(int code, const char *message, long position) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "code", md_errname(code));
    cJSON_AddStringToObject(j, "message", message ? message : md_strerror(code));
    if (position >= 0) cJSON_AddNumberToObject(j, "position", (double)position);
    return j;
}

int md_frame_send_error(int fd, uint32_t request_id, int code, const char *message) {
    cJSON *j = md_error_json(code, message, -1);
    int rc = md_frame_send_json(fd, MD_MSG_ERROR, request_id, j);
    cJSON_Delete(j);
    return rc;
}

int md_frame_recv(int fd, uint32_t max_payload, md_frame_header *out_hdr, uint8_t **out_frame) {
    uint8_t hdr[MD_FRAME_HEADER_SIZE];
    int rc = md_fd_read_all(fd, hdr, sizeof hdr);
    if (rc != MD_OK) return rc;
    md_frame_header h;
    rc = md_frame_header_decode(hdr, max_payload, &h, NULL);
    if (rc != MD_OK) return rc;
    uint8_t *frame = md_trymalloc(MD_FRAME_HEADER_SIZE + (size_t)h.length);
    if (!frame) return MD_ENOMEM;
    memcpy(frame, hdr, sizeof hdr);
    rc = md_fd_read_all(fd, frame + MD_FRAME_HEADER_SIZE, h.length);
    if (rc != MD_OK) {
        md_free(frame);
        return rc == MD_EEOF ? MD_EIO : rc;
    }
    *out_hdr = h;
    *out_frame = frame;
    return MD_OK;
}

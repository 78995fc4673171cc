/*
 * ws_client.h: a minimal, blocking RFC 6455 WebSocket client over TCP.
 *
 * Used by the terminal client to talk to mdserver's /ws endpoint: one
 * connection, one thread.  ws://, or wss:// through OpenSSL (TLS 1.2+; the
 * server's certificate must chain to a trusted one -- the system's, or
 * SSL_CERT_FILE / SSL_CERT_DIR -- and name the URL's host or IP address).
 *
 * What it does:
 *   - connect: TCP (TCP_NODELAY on, connect bounded by a timeout), then the
 *     HTTP/1.1 Upgrade handshake with a random Sec-WebSocket-Key; the
 *     server's Sec-WebSocket-Accept is checked (base64(SHA-1(key + GUID))).
 *   - send: one message as one FIN binary frame, masked with a fresh random
 *     key, from up to two buffers (a frame header and its payload).
 *   - receive: whole messages; continuation frames are reassembled; PING is
 *     answered with PONG, PONG ignored; a CLOSE is answered with CLOSE and
 *     reported as MD_EEOF with the server's code and reason.  A message
 *     larger than the limit is refused from its frame header, before any of
 *     it is buffered.  Frames from the server must not be masked, use no
 *     RSV bits and only known opcodes; a violation closes with 1002.
 *   - wait: poll for readability with a timeout, so a caller can interleave
 *     Ctrl-C handling (a signal interrupts the wait).
 *
 * Receiving is resumable: a timeout in the middle of a message keeps what was
 * read, and the next md_ws_recv continues from there.
 */
#ifndef MD_WS_CLIENT_H
#define MD_WS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct md_ws md_ws;

/*
 * Connect to `url` (ws[s]://HOST[:PORT][/PATH]; HOST may be [IPv6]) and complete
 * the WebSocket handshake within `timeout_ms` (<= 0: 10 s).  Messages larger
 * than `max_message` bytes are refused (0: 64 MiB plus a frame header).
 * Returns MD_OK and *out (destroy with md_ws_close), or MD_EINVAL (bad URL),
 * MD_EIO (cannot connect, or TLS failed), MD_ETIMEOUT,
 * MD_EPROTOCOL (the server did not accept the upgrade), each with *out_err
 * (caller frees) saying what happened.
 */
int md_ws_connect(const char *url, int timeout_ms, size_t max_message, md_ws **out, char **out_err);

/* Change the largest message accepted from now on. */
void md_ws_set_max_message(md_ws *ws, size_t max_message);

/*
 * Send one binary message made of head[0..head_len) then body[0..body_len)
 * (body may be NULL).  Blocks until the bytes are in the kernel.  Returns
 * MD_OK, MD_EEOF (the connection is closed) or MD_EIO, with *out_err
 * (caller frees) when given.
 */
int md_ws_send_binary(md_ws *ws, const void *head, size_t head_len, const void *body, size_t body_len,
                      char **out_err);

/*
 * Wait up to `timeout_ms` (< 0: no limit) until md_ws_recv may have progress
 * to make.  Returns 1 (bytes are buffered or the socket is readable or
 * closed), 0 (timeout, or a signal interrupted the wait: check your flags)
 * or MD_EIO.
 */
int md_ws_wait(md_ws *ws, int timeout_ms);

/*
 * Receive the next data message (binary or text), waiting up to
 * `timeout_ms` (< 0: no limit).  On MD_OK *out_data (caller frees with
 * md_free; never NULL) holds *out_len bytes.  Other returns, with *out_err
 * (caller frees) when given:
 *   MD_ETIMEOUT    no whole message yet (also when a signal interrupted the
 *                  wait); call again to continue
 *   MD_EEOF        the server closed the connection (CLOSE or end of stream)
 *   MD_ETOO_LARGE  a message over the limit; the connection was closed (1009)
 *   MD_EPROTOCOL   the server broke RFC 6455; the connection was closed (1002)
 *   MD_ENOMEM      no memory for the message
 *   MD_EIO         socket error
 */
int md_ws_recv(md_ws *ws, int timeout_ms, uint8_t **out_data, size_t *out_len, char **out_err);

/* The socket, for callers that poll several descriptors (or -1). */
int md_ws_fd(const md_ws *ws);

/*
 * Close cleanly: send CLOSE 1000 unless the connection is already closed,
 * wait up to a second for the server's CLOSE, close the socket and free
 * everything.  *ws is set to NULL; a NULL *ws is allowed.
 */
void md_ws_close(md_ws **ws);

#endif

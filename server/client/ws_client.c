/*
 * ws_client.c: blocking RFC 6455 WebSocket client (see ws_client.h).
 *
 * Frame layout (RFC 6455 section 5.2), as read and written here:
 *
 *   byte 0   FIN (0x80) | RSV1-3 (0x70, must be 0) | opcode (0x0F)
 *   byte 1   MASK (0x80) | payload length L7 (0x7F)
 *   L7 = 126: 2 more bytes, big-endian length; L7 = 127: 8 bytes (top bit 0)
 *   MASK set: 4 bytes of masking key (clients always mask, servers never)
 *   then the payload (XORed with key[i % 4] when masked)
 *
 *   opcodes: 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong;
 *   control frames (8..10) have FIN set and at most 125 payload bytes and may
 *   arrive between the fragments of a data message.
 *
 * Receive state machine (resumable across timeouts):
 *
 *   HEADER --(header complete)--> PAYLOAD --(payload complete)--> frame done
 *     frame done, data + FIN  -> return the message, back to HEADER
 *     frame done, data no FIN -> HEADER (message continues)
 *     frame done, PING/PONG   -> answer PING, HEADER
 *     frame done, CLOSE       -> answer CLOSE, CLOSED (MD_EEOF from now on)
 *
 * Bytes arrive through a 64 KiB read buffer; a large payload whose bytes are
 * not buffered yet is read straight into the message buffer.
 */
#include "ws_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "shared/md_time.h"
#include "shared/protocol.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define RX_SIZE 65536
#define TX_CHUNK 65536
#define HANDSHAKE_MAX 16384

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };
enum { ST_HEADER, ST_PAYLOAD, ST_CLOSED };

struct md_ws {
    int fd;
    SSL_CTX *tls_ctx; /* wss://: the TLS session over fd (NULL for ws://) */
    SSL *tls;
    int state;
    bool close_sent;
    size_t max_message;
    /* read buffer: rx[rx_pos..rx_len) not consumed yet */
    uint8_t *rx;
    size_t rx_pos, rx_len;
    /* the frame being read */
    uint8_t hdr[14];
    size_t hdr_len;
    int opcode;
    bool fin;
    uint64_t payload_len, payload_got;
    /* the data message being assembled */
    bool in_message;
    uint8_t *msg;
    size_t msg_len, msg_cap;
    /* a control frame's payload */
    uint8_t ctrl[125];
    /* why the connection ended (for MD_EEOF) */
    char *close_why;
};

static int remaining_ms(int64_t deadline) {
    if (deadline < 0) return -1;
    int64_t left = deadline - md_now_ms();
    return left < 0 ? 0 : (int)(left > 1000000000 ? 1000000000 : left);
}

static void set_err(char **out_err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char **out_err, const char *fmt, ...) {
    if (!out_err) return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    md_free(*out_err);
    *out_err = s ? md_strdup(s) : md_strdup("out of memory");
    free(s);
}

static void random_bytes(uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t k = getrandom(p, n, 0);
        if (k < 0) {
            if (errno == EINTR) continue;
            /* No entropy source: fall back to a weak mix, masks only need
             * to be unpredictable to intermediaries, not secret. */
            for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(rand() ^ (md_now_ms() >> (i % 8)));
            return;
        }
        p += k;
        n -= (size_t)k;
    }
}

/* The socket's bytes, through TLS for wss:// (the socket is blocking, so
 * OpenSSL never asks to be called again): what send/recv return. */
static ssize_t io_send(md_ws *ws, const void *p, size_t n) {
    if (!ws->tls) return send(ws->fd, p, n, MSG_NOSIGNAL);
    int k = SSL_write(ws->tls, p, n > INT32_MAX ? INT32_MAX : (int)n);
    return k > 0 ? k : -1;
}

static ssize_t io_recv(md_ws *ws, void *p, size_t n) {
    if (!ws->tls) return recv(ws->fd, p, n, 0);
    int k = SSL_read(ws->tls, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (k > 0) return k;
    int e = SSL_get_error(ws->tls, k);
    return e == SSL_ERROR_ZERO_RETURN ? 0 : (errno = e == SSL_ERROR_SYSCALL && errno ? errno : EIO, -1);
}

/* Bytes TLS has decrypted and not handed out yet (poll does not see them). */
static bool io_pending(const md_ws *ws) { return ws->tls && SSL_pending(ws->tls) > 0; }

static int send_all(md_ws *ws, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t k = io_send(ws, p, n);
        if (k < 0) {
            if (errno == EINTR && !ws->tls) continue;
            return MD_EIO;
        }
        p += k;
        n -= (size_t)k;
    }
    return MD_OK;
}

/* Send one masked frame whose payload is a[0..an) then b[0..bn). */
static int send_frame(md_ws *ws, int opcode, const void *a, size_t an, const void *b, size_t bn) {
    size_t len = an + bn;
    uint8_t *tx = md_malloc(TX_CHUNK + 14);
    size_t h = 0;
    tx[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        tx[h++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xFFFF) {
        tx[h++] = 0x80 | 126;
        tx[h++] = (uint8_t)(len >> 8);
        tx[h++] = (uint8_t)len;
    } else {
        tx[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) tx[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint8_t key[4];
    random_bytes(key, 4);
    memcpy(tx + h, key, 4);
    h += 4;
    /* Mask the payload in chunks; the first chunk shares a send with the header. */
    size_t done = 0;
    int rc = MD_OK;
    do {
        size_t n = len - done < TX_CHUNK ? len - done : TX_CHUNK;
        for (size_t i = 0; i < n; i++) {
            size_t at = done + i;
            uint8_t byte = at < an ? ((const uint8_t *)a)[at] : ((const uint8_t *)b)[at - an];
            tx[h + i] = byte ^ key[at & 3];
        }
        rc = send_all(ws, tx, h + n);
        done += n;
        h = 0;
    } while (rc == MD_OK && done < len);
    md_free(tx);
    return rc;
}

/* Send CLOSE with `code` and `reason` once, then treat the connection as closed. */
static void fail_connection(md_ws *ws, int code, const char *reason) {
    if (!ws->close_sent && ws->fd >= 0) {
        uint8_t p[2 + 123];
        size_t rl = strlen(reason);
        if (rl > 123) rl = 123;
        p[0] = (uint8_t)(code >> 8);
        p[1] = (uint8_t)code;
        memcpy(p + 2, reason, rl);
        send_frame(ws, OP_CLOSE, p, 2 + rl, NULL, 0);
        ws->close_sent = true;
    }
    ws->state = ST_CLOSED;
}

static void set_close_why(md_ws *ws, const char *why) {
    md_free(ws->close_why);
    ws->close_why = md_strdup(why);
}

/* ---- URL and handshake --------------------------------------------------- */

typedef struct ws_url {
    char host[256];
    char port[8];
    char path[1024];
    bool ipv6;
    bool tls; /* wss:// */
} ws_url;

static int parse_url(const char *url, ws_url *u, char **out_err) {
    memset(u, 0, sizeof *u);
    u->tls = strncasecmp(url, "wss://", 6) == 0;
    if (!u->tls && strncasecmp(url, "ws://", 5) != 0) {
        set_err(out_err, "the URL must look like ws://HOST:PORT/ws or wss://HOST:PORT/ws, not '%s'", url);
        return MD_EINVAL;
    }
    const char *p = url + (u->tls ? 6 : 5), *host_end;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end) goto bad;
        if ((size_t)(host_end - p - 1) >= sizeof u->host) goto bad;
        memcpy(u->host, p + 1, (size_t)(host_end - p - 1));
        u->ipv6 = true;
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/?#");
        if ((size_t)(host_end - p) >= sizeof u->host) goto bad;
        memcpy(u->host, p, (size_t)(host_end - p));
        p = host_end;
    }
    if (!u->host[0]) goto bad;
    strcpy(u->port, u->tls ? "443" : "80");
    if (*p == ':') {
        p++;
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 5 || atoi(p) < 1 || atoi(p) > 65535) goto bad;
        memcpy(u->port, p, n);
        u->port[n] = 0;
        p += n;
    }
    if (*p == 0) {
        strcpy(u->path, "/");
    } else if (*p == '/' || *p == '?') {
        if (strlen(p) + 2 > sizeof u->path) goto bad;
        snprintf(u->path, sizeof u->path, "%s%s", *p == '?' ? "/" : "", p);
    } else {
        goto bad;
    }
    for (const char *c = u->path; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7F || *c == '#') goto bad;
    return MD_OK;
bad:
    set_err(out_err, "cannot parse the URL '%s' (expected ws://HOST:PORT/PATH or wss://...)", url);
    return MD_EINVAL;
}

/* TCP connect to the first address that answers before the deadline. */
static int tcp_connect(const ws_url *u, int64_t deadline, int *out_fd, char **out_err) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(u->host, u->port, &hints, &res);
    if (gai != 0) {
        set_err(out_err, "cannot resolve host '%s': %s", u->host, gai_strerror(gai));
        return MD_EIO;
    }
    int rc = MD_EIO, last_errno = 0;
    bool timed_out = false;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            int pr;
            do pr = poll(&pfd, 1, remaining_ms(deadline));
            while (pr < 0 && errno == EINTR);
            if (pr == 0) {
                timed_out = true;
                close(fd);
                break;
            }
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            r = soerr ? -1 : 0;
            errno = soerr;
        }
        if (r < 0) {
            last_errno = errno;
            close(fd);
            continue;
        }
        /* Blocking from here on, small messages leave at once. */
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct timeval tv = {60, 0}; /* a server that stops reading cannot hang a send forever */
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        *out_fd = fd;
        rc = MD_OK;
        break;
    }
    freeaddrinfo(res);
    if (rc != MD_OK) {
        if (timed_out) {
            set_err(out_err, "cannot connect to %s port %s: timed out", u->host, u->port);
            rc = MD_ETIMEOUT;
        } else {
            set_err(out_err, "cannot connect to %s port %s: %s", u->host, u->port, strerror(last_errno));
        }
    }
    return rc;
}

/* The value of header `name` in the response head (NUL-terminated), copied
 * into out; false if absent. */
static bool find_header(const char *head, const char *name, char *out, size_t cap) {
    size_t nl = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ' || *v == '\t') v++;
            size_t n = strcspn(v, "\r\n");
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
            if (n >= cap) n = cap - 1;
            memcpy(out, v, n);
            out[n] = 0;
            return true;
        }
    }
    return false;
}

static int handshake(md_ws *ws, const ws_url *u, int64_t deadline, char **out_err) {
    uint8_t nonce[16];
    random_bytes(nonce, sizeof nonce);
    unsigned char key[32];
    size_t klen = 0;
    mbedtls_base64_encode(key, sizeof key, &klen, nonce, sizeof nonce);
    key[klen] = 0;

    char hostport[300];
    if (strcmp(u->port, u->tls ? "443" : "80") == 0) snprintf(hostport, sizeof hostport, u->ipv6 ? "[%s]" : "%s", u->host);
    else snprintf(hostport, sizeof hostport, u->ipv6 ? "[%s]:%s" : "%s:%s", u->host, u->port);
    char *req = md_asprintf("GET %s HTTP/1.1\r\n"
                            "Host: %s\r\n"
                            "Upgrade: websocket\r\n"
                            "Connection: Upgrade\r\n"
                            "Sec-WebSocket-Key: %s\r\n"
                            "Sec-WebSocket-Version: 13\r\n"
                            "User-Agent: mdserver-cli/0.1\r\n"
                            "\r\n",
                            u->path, hostport, (char *)key);
    int rc = send_all(ws, (const uint8_t *)req, strlen(req));
    md_free(req);
    if (rc != MD_OK) {
        set_err(out_err, "the connection to %s dropped while sending the WebSocket handshake", hostport);
        return MD_EIO;
    }

    /* Read the response head; anything after it is the first frames. */
    char *head = md_malloc(HANDSHAKE_MAX + 1);
    size_t n = 0;
    char *end = NULL;
    while (!end) {
        if (n == HANDSHAKE_MAX) {
            set_err(out_err, "the server's handshake response is too long");
            rc = MD_EPROTOCOL;
            goto out;
        }
        struct pollfd pfd = {ws->fd, POLLIN, 0};
        int pr = io_pending(ws) ? 1 : poll(&pfd, 1, remaining_ms(deadline));
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) {
            set_err(out_err, "the server at %s did not answer the WebSocket handshake in time", hostport);
            rc = MD_ETIMEOUT;
            goto out;
        }
        ssize_t k = io_recv(ws, head + n, HANDSHAKE_MAX - n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            set_err(out_err, "the server at %s closed the connection during the WebSocket handshake", hostport);
            rc = MD_EIO;
            goto out;
        }
        n += (size_t)k;
        head[n] = 0;
        end = strstr(head, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end - head) + 4;
    end[2] = 0; /* keep the last header's CRLF for find_header */

    int status = 0;
    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1 || status != 101) {
        size_t l = strcspn(head, "\r\n");
        set_err(out_err, "the server refused the WebSocket upgrade: %.*s (is the URL path right? mdserver listens on /ws)",
                (int)(l > 200 ? 200 : l), head);
        rc = MD_EPROTOCOL;
        goto out;
    }
    char v[256];
    if (!find_header(head, "Upgrade", v, sizeof v) || strcasecmp(v, "websocket") != 0 ||
        !find_header(head, "Connection", v, sizeof v) || !strcasestr(v, "upgrade")) {
        set_err(out_err, "the server's handshake lacks 'Upgrade: websocket' / 'Connection: Upgrade'");
        rc = MD_EPROTOCOL;
        goto out;
    }
    unsigned char digest[20], want[64];
    size_t wlen = 0;
    char *concat = md_asprintf("%s%s", (char *)key, WS_GUID);
    mbedtls_sha1_ret((const unsigned char *)concat, strlen(concat), digest);
    md_free(concat);
    mbedtls_base64_encode(want, sizeof want, &wlen, digest, sizeof digest);
    want[wlen] = 0;
    if (!find_header(head, "Sec-WebSocket-Accept", v, sizeof v) || strcmp(v, (char *)want) != 0) {
        set_err(out_err, "the server's Sec-WebSocket-Accept does not match the key: not a WebSocket server");
        rc = MD_EPROTOCOL;
        goto out;
    }
    memcpy(ws->rx, head + head_len, n - head_len);
    ws->rx_pos = 0;
    ws->rx_len = n - head_len;
    rc = MD_OK;
out:
    md_free(head);
    return rc;
}

/* TLS over ws->fd for wss://: the server's certificate must chain to a
 * trusted one (the system's, or SSL_CERT_FILE / SSL_CERT_DIR) and name the
 * URL's host (or IP address). */
static int tls_start(md_ws *ws, const ws_url *u, char **out_err) {
    ws->tls_ctx = SSL_CTX_new(TLS_client_method());
    if (!ws->tls_ctx) {
        set_err(out_err, "cannot start TLS: %s", ERR_reason_error_string(ERR_get_error()));
        return MD_EIO;
    }
    SSL_CTX_set_min_proto_version(ws->tls_ctx, TLS1_2_VERSION);
    SSL_CTX_set_default_verify_paths(ws->tls_ctx);
    SSL_CTX_set_verify(ws->tls_ctx, SSL_VERIFY_PEER, NULL);
    ws->tls = SSL_new(ws->tls_ctx);
    SSL_set_fd(ws->tls, ws->fd);
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, u->host, ip) == 1 || inet_pton(AF_INET6, u->host, ip) == 1;
    X509_VERIFY_PARAM *vp = SSL_get0_param(ws->tls);
    if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(vp, u->host);
    } else {
        SSL_set_tlsext_host_name(ws->tls, u->host);
        SSL_set1_host(ws->tls, u->host);
    }
    if (SSL_connect(ws->tls) != 1) {
        long v = SSL_get_verify_result(ws->tls);
        if (v != X509_V_OK)
            set_err(out_err, "the server's TLS certificate is not trusted for %s: %s (trust its CA with SSL_CERT_FILE=FILE)",
                    u->host, X509_verify_cert_error_string(v));
        else
            set_err(out_err, "the TLS handshake with %s failed: %s", u->host, ERR_reason_error_string(ERR_get_error()));
        return MD_EIO;
    }
    return MD_OK;
}

int md_ws_connect(const char *url, int timeout_ms, size_t max_message, md_ws **out, char **out_err) {
    ws_url u;
    int rc = parse_url(url, &u, out_err);
    if (rc != MD_OK) return rc;
    int64_t deadline = md_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
    int fd = -1;
    rc = tcp_connect(&u, deadline, &fd, out_err);
    if (rc != MD_OK) return rc;
    md_ws *ws = md_calloc(1, sizeof *ws);
    ws->fd = fd;
    ws->state = ST_HEADER;
    ws->max_message = max_message ? max_message : (size_t)MD_DEFAULT_MAX_FRAME_BYTES + MD_FRAME_HEADER_SIZE;
    ws->rx = md_malloc(RX_SIZE);
    rc = u.tls ? tls_start(ws, &u, out_err) : MD_OK;
    if (rc == MD_OK) rc = handshake(ws, &u, deadline, out_err);
    if (rc != MD_OK) {
        close(ws->fd);
        ws->fd = -1;
        md_ws_close(&ws);
        return rc;
    }
    *out = ws;
    return MD_OK;
}

void md_ws_set_max_message(md_ws *ws, size_t max_message) {
    if (max_message) ws->max_message = max_message;
}

int md_ws_fd(const md_ws *ws) { return ws ? ws->fd : -1; }

int md_ws_send_binary(md_ws *ws, const void *head, size_t head_len, const void *body, size_t body_len,
                      char **out_err) {
    if (ws->state == ST_CLOSED || ws->close_sent) {
        set_err(out_err, "%s", ws->close_why ? ws->close_why : "the connection is closed");
        return MD_EEOF;
    }
    int rc = send_frame(ws, OP_BINARY, head, head_len, body, body_len);
    if (rc != MD_OK) {
        set_err(out_err, "the connection to the server was lost while sending (%s)", strerror(errno));
        set_close_why(ws, "the connection to the server was lost");
        ws->state = ST_CLOSED;
    }
    return rc;
}

/* ---- receiving ----------------------------------------------------------- */

int md_ws_wait(md_ws *ws, int timeout_ms) {
    if (ws->rx_pos < ws->rx_len || ws->state == ST_CLOSED || io_pending(ws)) return 1;
    struct pollfd pfd = {ws->fd, POLLIN, 0};
    int pr = poll(&pfd, 1, timeout_ms);
    if (pr < 0) return errno == EINTR ? 0 : MD_EIO;
    return pr > 0 ? 1 : 0;
}

/* Read more bytes into rx (or, for a large payload, into `direct`).
 * Returns bytes read (> 0), 0 on timeout/signal, MD_EEOF or MD_EIO. */
static ssize_t fill(md_ws *ws, int64_t deadline, uint8_t *direct, size_t direct_cap) {
    struct pollfd pfd = {ws->fd, POLLIN, 0};
    int pr = io_pending(ws) ? 1 : poll(&pfd, 1, remaining_ms(deadline));
    if (pr < 0) return errno == EINTR ? 0 : MD_EIO;
    if (pr == 0) return 0;
    ssize_t k;
    if (direct) {
        k = io_recv(ws, direct, direct_cap);
    } else {
        ws->rx_pos = ws->rx_len = 0;
        k = io_recv(ws, ws->rx, RX_SIZE);
    }
    if (k < 0) return errno == EINTR || errno == EAGAIN ? 0 : MD_EIO;
    if (k == 0) return MD_EEOF;
    if (!direct) ws->rx_len = (size_t)k;
    return k;
}

/* Header complete in ws->hdr: check it and set up the payload. */
static int start_frame(md_ws *ws, char **out_err) {
    uint8_t b0 = ws->hdr[0], b1 = ws->hdr[1];
    ws->fin = b0 & 0x80;
    ws->opcode = b0 & 0x0F;
    uint64_t len = b1 & 0x7F;
    if (len == 126) len = ((uint64_t)ws->hdr[2] << 8) | ws->hdr[3];
    else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++) len = (len << 8) | ws->hdr[2 + i];
    }
    const char *bad = NULL;
    if (b0 & 0x70) bad = "reserved bits set in a frame";
    else if (b1 & 0x80) bad = "the server sent a masked frame";
    else if (ws->opcode >= 8) {
        if (ws->opcode > OP_PONG) bad = "unknown control opcode";
        else if (!ws->fin || len > 125) bad = "a fragmented or oversized control frame";
    } else if (ws->opcode == OP_CONT) {
        if (!ws->in_message) bad = "a continuation frame outside a message";
    } else if (ws->opcode == OP_TEXT || ws->opcode == OP_BINARY) {
        if (ws->in_message) bad = "a new message started inside a fragmented one";
    } else {
        bad = "unknown data opcode";
    }
    if (len >> 63) bad = "a frame length with the top bit set";
    if (bad) {
        set_err(out_err, "WebSocket protocol error from the server: %s", bad);
        fail_connection(ws, 1002, "protocol error");
        set_close_why(ws, "the connection was closed after a protocol error");
        return MD_EPROTOCOL;
    }
    ws->payload_len = len;
    ws->payload_got = 0;
    if (ws->opcode < 8) {
        if (len > ws->max_message || ws->msg_len > ws->max_message - len) {
            set_err(out_err, "the server sent a message of more than %zu bytes (the limit)", ws->max_message);
            fail_connection(ws, 1009, "message too big");
            set_close_why(ws, "the connection was closed after an oversized message");
            return MD_ETOO_LARGE;
        }
        if (!ws->in_message) {
            ws->in_message = true;
            ws->msg_len = 0;
        }
        size_t need = ws->msg_len + (size_t)len;
        if (need > ws->msg_cap || !ws->msg) {
            uint8_t *m = md_tryrealloc(ws->msg, need ? need : 1);
            if (!m) {
                set_err(out_err, "out of memory for a %zu-byte message", need);
                fail_connection(ws, 1009, "message too big");
                return MD_ENOMEM;
            }
            ws->msg = m;
            ws->msg_cap = need ? need : 1;
        }
    }
    ws->state = ST_PAYLOAD;
    return MD_OK;
}

/* A control frame is complete in ws->ctrl. Returns MD_OK or MD_EEOF. */
static int finish_control(md_ws *ws, char **out_err) {
    size_t n = (size_t)ws->payload_len;
    if (ws->opcode == OP_PING) {
        if (!ws->close_sent) send_frame(ws, OP_PONG, ws->ctrl, n, NULL, 0);
        return MD_OK;
    }
    if (ws->opcode == OP_PONG) return MD_OK;
    /* CLOSE: answer with the same code, then report why. */
    int code = n >= 2 ? (ws->ctrl[0] << 8) | ws->ctrl[1] : 1005;
    if (!ws->close_sent) {
        uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
        send_frame(ws, OP_CLOSE, p, code == 1005 ? 0 : 2, NULL, 0);
        ws->close_sent = true;
    }
    ws->state = ST_CLOSED;
    char why[200];
    if (n > 2)
        snprintf(why, sizeof why, "the server closed the connection (%d: %.*s)", code, (int)(n - 2), ws->ctrl + 2);
    else
        snprintf(why, sizeof why, "the server closed the connection (%d)", code);
    set_close_why(ws, why);
    set_err(out_err, "%s", why);
    return MD_EEOF;
}

int md_ws_recv(md_ws *ws, int timeout_ms, uint8_t **out_data, size_t *out_len, char **out_err) {
    int64_t deadline = timeout_ms < 0 ? -1 : md_now_ms() + timeout_ms;
    for (;;) {
        if (ws->state == ST_CLOSED) {
            set_err(out_err, "%s", ws->close_why ? ws->close_why : "the connection is closed");
            return MD_EEOF;
        }
        size_t avail = ws->rx_len - ws->rx_pos;
        if (ws->state == ST_HEADER) {
            /* Take header bytes one step at a time: 2, then the rest. */
            size_t need = 2;
            if (ws->hdr_len >= 2) {
                uint8_t l7 = ws->hdr[1] & 0x7F;
                need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + ((ws->hdr[1] & 0x80) ? 4 : 0);
            }
            if (ws->hdr_len < need) {
                if (avail == 0) goto read_more;
                size_t k = need - ws->hdr_len < avail ? need - ws->hdr_len : avail;
                memcpy(ws->hdr + ws->hdr_len, ws->rx + ws->rx_pos, k);
                ws->hdr_len += k;
                ws->rx_pos += k;
                continue;
            }
            ws->hdr_len = 0;
            int rc = start_frame(ws, out_err);
            if (rc != MD_OK) return rc;
            continue;
        }
        /* ST_PAYLOAD */
        uint64_t left = ws->payload_len - ws->payload_got;
        uint8_t *dst = ws->opcode >= 8 ? ws->ctrl + ws->payload_got : ws->msg + ws->msg_len;
        if (left > 0 && avail > 0) {
            size_t k = left < avail ? (size_t)left : avail;
            memcpy(dst, ws->rx + ws->rx_pos, k);
            ws->rx_pos += k;
            ws->payload_got += k;
            if (ws->opcode < 8) ws->msg_len += k;
            continue;
        }
        if (left > 0) {
            if (left >= 4096 && ws->opcode < 8) {
                ssize_t k = fill(ws, deadline, dst, (size_t)left);
                if (k > 0) {
                    ws->payload_got += (size_t)k;
                    ws->msg_len += (size_t)k;
                    continue;
                }
                if (k == 0) goto timeout;
                goto lost;
            }
            goto read_more;
        }
        /* The frame is complete. */
        ws->state = ST_HEADER;
        if (ws->opcode >= 8) {
            int rc = finish_control(ws, out_err);
            if (rc != MD_OK) return rc;
            continue;
        }
        if (!ws->fin) continue;
        ws->in_message = false;
        if (ws->msg_len == 0) {
            *out_data = md_malloc(1);
            *out_len = 0;
            return MD_OK;
        }
        *out_data = ws->msg;
        *out_len = ws->msg_len;
        ws->msg = NULL;
        ws->msg_len = ws->msg_cap = 0;
        return MD_OK;

    read_more : {
        ssize_t k = fill(ws, deadline, NULL, 0);
        if (k > 0) continue;
        if (k == 0) goto timeout;
        goto lost;
    }
    }
timeout:
    set_err(out_err, "no message from the server in time");
    return MD_ETIMEOUT;
lost:
    ws->state = ST_CLOSED;
    set_close_why(ws, "the server closed the connection without a WebSocket close");
    set_err(out_err, "%s", ws->close_why);
    return MD_EEOF;
}

void md_ws_close(md_ws **wsp) {
    if (!wsp || !*wsp) return;
    md_ws *ws = *wsp;
    if (ws->fd >= 0) {
        if (ws->state != ST_CLOSED && !ws->close_sent) {
            uint8_t p[2] = {1000 >> 8, 1000 & 0xFF};
            if (send_frame(ws, OP_CLOSE, p, 2, NULL, 0) == MD_OK) {
                ws->close_sent = true;
                /* Wait briefly for the server's CLOSE, dropping data. */
                int64_t deadline = md_now_ms() + 1000;
                while (ws->state != ST_CLOSED && remaining_ms(deadline) > 0) {
                    uint8_t *m = NULL;
                    size_t ml;
                    int rc = md_ws_recv(ws, remaining_ms(deadline), &m, &ml, NULL);
                    md_free(m);
                    if (rc != MD_OK && rc != MD_ETOO_LARGE) break;
                }
            }
        }
        if (ws->tls) SSL_shutdown(ws->tls);
        shutdown(ws->fd, SHUT_RDWR);
        close(ws->fd);
    }
    if (ws->tls) SSL_free(ws->tls);
    if (ws->tls_ctx) SSL_CTX_free(ws->tls_ctx);
    md_free(ws->rx);
    md_free(ws->msg);
    md_free(ws->close_why);
    md_free(ws);
    *wsp = NULL;
}

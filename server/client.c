/*
 * client.c: `mdserver client`, the terminal client (see client.h).
 *
 * A session:
 *
 *   connect (ws_client) -> HELLO {protocol, token, client} -> WELCOME
 *   then for each SQL text: QUERY(R) {sql} and read frames until the
 *   request ends, in this per-statement cycle:
 *
 *     RESULT_SCHEMA(R)  start an IPC reader and a printer (result_format)
 *     RESULT_BATCH(R)   decode (dictionaries, then the record batch), print
 *     PROGRESS(R)       update the progress line (stderr, terminals only)
 *     RESULT_END(R)     finish the printer; "final": the request is over
 *     ERROR(R)          print "Error: ..." (with the SQL line and a caret
 *                       when a position is given); the request is over
 *
 *   Frames for other request ids are ignored; an ERROR with request id 0 is
 *   about the connection and ends it.
 *
 * Ctrl-C: SIGINT only sets a counter (the handler does nothing else).  The
 * receive loop waits at most 100 ms at a time, so it sees the counter soon:
 * the first Ctrl-C during a query sends CANCEL(R) and the query ends with
 * ERROR CANCELLED; another one gives up on the server and closes the
 * connection.  At the interactive prompt (readline's callback interface, so
 * the prompt can be interrupted too) Ctrl-C clears the input; a second one
 * in a row exits.
 *
 * --local FILE.duckdb: dual execution from the terminal (server/dual.h).
 * FILE is opened (created if missing) in a native DuckDB as the local site,
 * the server session is the remote one, and every statement goes through
 * the same router and plan splitter the page uses: local statements run
 * here, remote ones there, and a statement that reads both is split, with
 * a line on stderr saying how many bytes moved each way.
 *
 * Output: results go to stdout as they complete (table) or as batches
 * arrive (csv, json); errors and the progress line go to stderr.  The
 * hidden --format count decodes every batch and prints one line per
 * statement instead: "<rows>\t<bytes>\t<ms>" (rows decoded, Arrow payload
 * bytes received, milliseconds from the statement's start to its
 * RESULT_END as the client saw them).
 */
#include "client.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "arrow_ipc.h"
#include "dual.h"
#include "md_alloc.h"
#include "md_buf.h"
#include "md_error.h"
#include "md_time.h"
#include "protocol.h"
#include "result_format.h"
#include "sql_classify.h"
#include "ws_client.h"

#define CLIENT_NAME "mdserver-cli/0.1"
#define DEFAULT_URL "ws://127.0.0.1:4213/ws"
#define HELLO_TIMEOUT_MS 30000
#define POLL_SLICE_MS 100
#define PROGRESS_AFTER_MS 500
#define HISTORY_LINES 2000

enum { EXIT_OK = 0, EXIT_SQL = 1, EXIT_CONN = 2 };

static volatile sig_atomic_t g_sigint;

static void on_sigint(int sig) {
    (void)sig;
    g_sigint++;
}

typedef struct client {
    md_ws *ws;
    const char *url;
    const char *token;
    md_fmt_mode mode;
    bool count;        /* --format count */
    bool interactive;
    bool timer;        /* .timer on */
    bool progress_tty; /* stderr is a terminal */
    bool progress_shown;
    uint32_t next_id;
    uint32_t max_frame; /* the server's limit on a frame's payload */
    char *user, *database, *server_version, *duckdb_version;
    bool read_only;
    /* --local: the dual engine over a local DuckDB file and its own session */
    const char *local_path;
    duckdb_database local_db;
    duckdb_connection local_conn;
    md_rclient *remote;
    md_dual *dual;
} client;

static void usage(FILE *f) {
    fprintf(f,
            "usage: mdserver client [--url ws[s]://HOST:PORT/ws] [--token T] [-c SQL]\n"
            "                       [--format table|csv|json] [--local FILE.duckdb]\n"
            "\n"
            "  --url URL        the server's WebSocket endpoint (default $MD_URL, else %s)\n"
            "  --token T        access token (default $MD_TOKEN); create one with\n"
            "                   `mdserver token create --user NAME`\n"
            "  -c SQL           run SQL (one or more statements) and exit\n"
            "  --format F       table (default), csv or json\n"
            "  --local FILE     dual execution: FILE (a DuckDB database, created if missing)\n"
            "                   is the local side; a statement that reads local and server\n"
            "                   tables is split across both\n"
            "  --help           show this help\n"
            "\n"
            "Without -c, SQL piped on stdin is run as one request; on a terminal an\n"
            "interactive shell starts (end statements with ';', .help for commands).\n"
            "Exit status: 0 ok, 1 SQL error, 2 usage, connection or authentication failure.\n",
            DEFAULT_URL);
}

/* ---- progress line ------------------------------------------------------- */

static void progress_clear(client *cl) {
    if (!cl->progress_shown) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    cl->progress_shown = false;
}

static void progress_show(client *cl, double percent, double done, double total, int64_t elapsed_ms) {
    if (!cl->progress_tty || elapsed_ms < PROGRESS_AFTER_MS) return;
    char bar[32];
    int filled = percent < 0 ? 0 : (int)(percent / 100.0 * 20.0 + 0.5);
    if (filled > 20) filled = 20;
    for (int i = 0; i < 20; i++) bar[i] = i < filled ? '=' : ' ';
    bar[20] = 0;
    if (percent >= 0 && total > 0)
        fprintf(stderr, "\r\033[K[%s] %3.0f%%  %.0f/%.0f rows  %.1f s  (Ctrl-C cancels)", bar, percent, done, total,
                (double)elapsed_ms / 1000.0);
    else if (percent >= 0)
        fprintf(stderr, "\r\033[K[%s] %3.0f%%  %.1f s  (Ctrl-C cancels)", bar, percent, (double)elapsed_ms / 1000.0);
    else
        fprintf(stderr, "\r\033[Krunning  %.1f s  (Ctrl-C cancels)", (double)elapsed_ms / 1000.0);
    fflush(stderr);
    cl->progress_shown = true;
}

/* ---- frames -------------------------------------------------------------- */

/* Send a frame whose payload is `j` (consumed). */
static int send_json(client *cl, int type, uint32_t id, cJSON *j, char **out_err) {
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text) {
        *out_err = md_strdup("out of memory");
        return MD_ENOMEM;
    }
    size_t len = strlen(text);
    if (cl->max_frame && len > cl->max_frame) {
        *out_err = md_asprintf("the request is %zu bytes, over the server's limit of %u bytes per frame", len,
                               cl->max_frame);
        free(text);
        return MD_ETOO_LARGE;
    }
    uint8_t hdr[MD_FRAME_HEADER_SIZE];
    md_frame_header_encode(hdr, type, id, (uint32_t)len);
    int rc = md_ws_send_binary(cl->ws, hdr, sizeof hdr, text, len, out_err);
    free(text);
    return rc;
}

/*
 * Receive one frame within `timeout_ms`.  On MD_OK *out_frame (caller frees)
 * holds the header and payload and *out_h the parsed header.  MD_ETIMEOUT:
 * nothing yet.  Anything else: the connection is unusable, *out_err says why.
 */
static int recv_frame(client *cl, int timeout_ms, uint8_t **out_frame, md_frame_header *out_h, char **out_err) {
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = md_ws_recv(cl->ws, timeout_ms, &data, &len, out_err);
    if (rc == MD_ETIMEOUT) {
        md_free(*out_err);
        *out_err = NULL;
        return rc;
    }
    if (rc != MD_OK) return rc;
    const char *why = NULL;
    uint32_t limit = cl->max_frame ? cl->max_frame : MD_DEFAULT_MAX_FRAME_BYTES;
    if (len < MD_FRAME_HEADER_SIZE) {
        why = "a message shorter than a frame header";
        rc = MD_EPROTOCOL;
    } else if ((rc = md_frame_header_decode(data, limit, out_h, &why)) == MD_OK &&
               out_h->length != len - MD_FRAME_HEADER_SIZE) {
        why = "a frame whose length does not match its WebSocket message";
        rc = MD_EPROTOCOL;
    }
    if (rc != MD_OK) {
        md_free(data);
        *out_err = md_asprintf("protocol error from the server: %s", why ? why : "bad frame");
        return rc == MD_ETOO_LARGE ? rc : MD_EPROTOCOL;
    }
    *out_frame = data;
    return MD_OK;
}

/* The payload of a JSON frame, parsed (caller deletes), or NULL. */
static cJSON *frame_json(const uint8_t *frame, const md_frame_header *h) {
    return cJSON_ParseWithLength((const char *)frame + MD_FRAME_HEADER_SIZE, h->length);
}

static const char *json_str(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double json_num(const cJSON *j, const char *key, double dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* ---- errors -------------------------------------------------------------- */

/*
 * "Error: <message>" on stderr; with a position inside `sql`, the line it
 * falls on and a caret under it, as the DuckDB CLI shows them.
 */
static void print_sql_error(const char *sql, const char *message, long position) {
    fprintf(stderr, "Error: %s\n", message && *message ? message : "unknown error");
    if (!sql || position < 0 || (size_t)position > strlen(sql) || (message && strstr(message, "\nLINE ")))
        return;
    int line_no = 1;
    const char *line = sql;
    for (const char *p = sql; p < sql + position; p++)
        if (*p == '\n') {
            line_no++;
            line = p + 1;
        }
    size_t len = strcspn(line, "\n"), col = (size_t)(sql + position - line);
    /* Long lines: show 40 characters either side of the position. */
    size_t from = col > 40 ? col - 40 : 0, to = len - from > 80 ? from + 80 : len;
    char prefix[32];
    int pl = snprintf(prefix, sizeof prefix, "LINE %d: ", line_no);
    fprintf(stderr, "\n%s%s%.*s%s\n", prefix, from ? "..." : "", (int)(to - from), line + from, to < len ? "..." : "");
    fprintf(stderr, "%*s^\n", (int)(pl + (from ? 3 : 0) + (col - from)), "");
}

static void print_conn_error(const char *what, const char *err) {
    fprintf(stderr, "Error: %s%s%s\n", what, err ? ": " : "", err ? err : "");
}

/* ---- connecting ---------------------------------------------------------- */

static void client_disconnect(client *cl) { md_ws_close(&cl->ws); }

/* Connect and authenticate.  Returns EXIT_OK or EXIT_CONN (message printed). */
static int client_connect(client *cl) {
    char *err = NULL;
    int rc = md_ws_connect(cl->url, 10000, (size_t)MD_DEFAULT_MAX_FRAME_BYTES + MD_FRAME_HEADER_SIZE, &cl->ws, &err);
    if (rc != MD_OK) {
        print_conn_error("cannot connect", err);
        md_free(err);
        return EXIT_CONN;
    }
    cJSON *hello = cJSON_CreateObject();
    cJSON_AddNumberToObject(hello, "protocol", MD_PROTOCOL_VERSION);
    cJSON_AddStringToObject(hello, "token", cl->token ? cl->token : "");
    cJSON_AddStringToObject(hello, "client", CLIENT_NAME);
    cl->max_frame = 0;
    if (send_json(cl, MD_MSG_HELLO, 0, hello, &err) != MD_OK) {
        print_conn_error("cannot send HELLO", err);
        goto fail;
    }
    int64_t deadline = md_now_ms() + HELLO_TIMEOUT_MS;
    for (;;) {
        uint8_t *frame = NULL;
        md_frame_header h;
        int left = (int)(deadline - md_now_ms());
        rc = recv_frame(cl, left > 0 ? left : 0, &frame, &h, &err);
        if (rc == MD_ETIMEOUT) {
            if (md_now_ms() < deadline) continue;
            print_conn_error("the server did not answer HELLO in time", NULL);
            goto fail;
        }
        if (rc != MD_OK) {
            print_conn_error("the connection failed during authentication", err);
            goto fail;
        }
        cJSON *j = frame_json(frame, &h);
        int type = h.type;
        md_free(frame);
        if (type == MD_MSG_ERROR) {
            const char *code = json_str(j, "code"), *msg = json_str(j, "message");
            fprintf(stderr, "Error: %s\n", msg ? msg : "the server refused the connection");
            if (code && strcmp(code, md_errname(MD_EAUTH)) == 0 && !cl->token)
                fprintf(stderr, "Hint: pass --token T or set MD_TOKEN (mdserver token create --user NAME).\n");
            cJSON_Delete(j);
            goto fail;
        }
        if (type != MD_MSG_WELCOME) {
            cJSON_Delete(j);
            continue;
        }
        double proto = json_num(j, "protocol", -1);
        if (proto != MD_PROTOCOL_VERSION) {
            fprintf(stderr, "Error: the server speaks protocol %g, this client %d: upgrade one of them\n", proto,
                    MD_PROTOCOL_VERSION);
            cJSON_Delete(j);
            goto fail;
        }
        const cJSON *lim = cJSON_GetObjectItemCaseSensitive(j, "limits");
        double mf = json_num(lim, "max_frame_bytes", MD_DEFAULT_MAX_FRAME_BYTES);
        cl->max_frame = mf >= 1024 && mf <= 4294967295.0 - MD_FRAME_HEADER_SIZE ? (uint32_t)mf : MD_DEFAULT_MAX_FRAME_BYTES;
        md_ws_set_max_message(cl->ws, (size_t)cl->max_frame + MD_FRAME_HEADER_SIZE);
        md_free(cl->user);
        md_free(cl->database);
        md_free(cl->server_version);
        md_free(cl->duckdb_version);
        cl->user = md_strdup(json_str(j, "user") ? json_str(j, "user") : "?");
        cl->database = md_strdup(json_str(j, "database") ? json_str(j, "database") : "?");
        cl->server_version = md_strdup(json_str(j, "server_version") ? json_str(j, "server_version") : "?");
        cl->duckdb_version = md_strdup(json_str(j, "duckdb_version") ? json_str(j, "duckdb_version") : "?");
        cl->read_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "read_only"));
        cJSON_Delete(j);
        return EXIT_OK;
    }
fail:
    md_free(err);
    client_disconnect(cl);
    return EXIT_CONN;
}

/* ---- running a query ----------------------------------------------------- */

typedef struct stmt {
    md_ipc_reader *reader;
    md_fmt *fmt;
    int64_t rows;
    uint64_t bytes;
    double t0;
    bool display_failed; /* a result of the request could not be shown */
} stmt;

static void stmt_reset(stmt *st) {
    md_fmt_destroy(&st->fmt);
    md_ipc_reader_destroy(&st->reader);
    st->rows = 0;
    st->bytes = 0;
}

static int table_width(void) {
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 0;
}

/* RESULT_SCHEMA: a new reader and printer. */
static int on_schema(client *cl, stmt *st, const uint8_t *p, size_t n, char **out_err) {
    stmt_reset(st);
    st->bytes = n;
    st->reader = md_ipc_reader_create(0);
    size_t used = 0;
    md_ipc_message_kind kind;
    struct ArrowArray unused;
    memset(&unused, 0, sizeof unused);
    int rc = md_ipc_reader_next(st->reader, p, n, &used, &kind, &unused, out_err);
    if (rc != MD_OK) return rc;
    if (kind != MD_IPC_SCHEMA) {
        if (kind == MD_IPC_BATCH && unused.release) unused.release(&unused);
        *out_err = md_strdup("RESULT_SCHEMA does not hold an Arrow schema");
        return MD_EBAD_FRAME;
    }
    if (cl->count) return MD_OK;
    struct ArrowSchema schema;
    rc = md_ipc_reader_schema(st->reader, &schema);
    if (rc != MD_OK) {
        *out_err = md_strdup("the result schema could not be read");
        return rc;
    }
    md_fmt_options opt = {.mode = cl->mode, .max_rows = 40, .max_width = cl->mode == MD_FMT_TABLE ? table_width() : 0};
    char *why = NULL;
    if (md_fmt_create(&schema, &opt, stdout, &st->fmt, &why) != MD_OK) {
        /* A type this client cannot show: say so, keep reading the request. */
        progress_clear(cl);
        fprintf(stderr, "Error: %s\n", why ? why : "cannot display this result");
        md_free(why);
        st->display_failed = true;
    }
    schema.release(&schema);
    return MD_OK;
}

/* RESULT_BATCH: dictionaries, then one record batch. */
static int on_batch(client *cl, stmt *st, const uint8_t *p, size_t n, char **out_err) {
    if (!st->reader) {
        *out_err = md_strdup("RESULT_BATCH before RESULT_SCHEMA");
        return MD_EPROTOCOL;
    }
    st->bytes += n;
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        md_ipc_message_kind kind;
        struct ArrowArray batch;
        memset(&batch, 0, sizeof batch);
        int rc = md_ipc_reader_next(st->reader, p + off, n - off, &used, &kind, &batch, out_err);
        if (rc != MD_OK) return rc;
        if (used == 0) break;
        off += used;
        if (kind != MD_IPC_BATCH) continue;
        st->rows += batch.length;
        if (st->fmt) {
            if (cl->mode != MD_FMT_TABLE) progress_clear(cl);
            rc = md_fmt_batch(st->fmt, &batch, out_err);
        }
        batch.release(&batch);
        if (rc != MD_OK) return rc;
    }
    return MD_OK;
}

/* RESULT_END: print what is left of the statement. */
static int on_end(client *cl, stmt *st, const cJSON *j) {
    progress_clear(cl);
    int rc = MD_OK;
    if (cl->count) {
        printf("%lld\t%llu\t%.3f\n", (long long)st->rows, (unsigned long long)st->bytes, md_now_ms_f() - st->t0);
        fflush(stdout);
    } else if (st->fmt) {
        rc = md_fmt_finish(st->fmt);
    }
    double server_rows = json_num(j, "rows", -1);
    if (st->reader && server_rows >= 0 && (int64_t)server_rows != st->rows)
        fprintf(stderr, "Warning: the server reported %.0f rows, %lld arrived\n", server_rows, (long long)st->rows);
    stmt_reset(st);
    st->t0 = md_now_ms_f();
    return rc;
}

/*
 * Send `sql` as one QUERY and print its results.  Returns EXIT_OK,
 * EXIT_SQL (an ERROR for the request, printed) or EXIT_CONN (the
 * connection failed or was given up; printed, and closed).
 */
static int run_dual(client *cl, const char *sql);

static int run_query(client *cl, const char *sql) {
    if (cl->dual) return run_dual(cl, sql);
    uint32_t id = ++cl->next_id;
    if (id == 0) id = cl->next_id = 1;
    char *err = NULL;
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "sql", sql);
    g_sigint = 0;
    int rc = send_json(cl, MD_MSG_QUERY, id, q, &err);
    if (rc == MD_ETOO_LARGE) {
        fprintf(stderr, "Error: %s\n", err);
        md_free(err);
        return EXIT_SQL;
    }
    if (rc != MD_OK) {
        print_conn_error("cannot send the query", err);
        md_free(err);
        client_disconnect(cl);
        return EXIT_CONN;
    }
    stmt st = {0};
    st.t0 = md_now_ms_f();
    int64_t started = md_now_ms();
    double pct = -1, done = 0, total = 0;
    bool cancel_sent = false;
    int result = EXIT_OK;
    for (;;) {
        if (g_sigint > 0) {
            if (!cancel_sent) {
                cancel_sent = true;
                g_sigint = 0;
                progress_clear(cl);
                if (send_json(cl, MD_MSG_CANCEL, id, cJSON_CreateObject(), &err) != MD_OK) {
                    print_conn_error("cannot send CANCEL", err);
                    result = EXIT_CONN;
                    break;
                }
            } else {
                progress_clear(cl);
                fprintf(stderr, "Error: interrupted again; closing the connection without waiting for the server\n");
                result = EXIT_CONN;
                break;
            }
        }
        uint8_t *frame = NULL;
        md_frame_header h;
        rc = recv_frame(cl, POLL_SLICE_MS, &frame, &h, &err);
        if (rc == MD_ETIMEOUT) {
            if (!cancel_sent) progress_show(cl, pct, done, total, md_now_ms() - started);
            continue;
        }
        if (rc != MD_OK) {
            progress_clear(cl);
            print_conn_error("the connection to the server failed", err);
            result = EXIT_CONN;
            break;
        }
        const uint8_t *payload = frame + MD_FRAME_HEADER_SIZE;
        if (h.request_id != id) {
            if (h.type == MD_MSG_ERROR && h.request_id == 0) { /* about the connection */
                cJSON *j = frame_json(frame, &h);
                progress_clear(cl);
                print_conn_error("the server ended the session", json_str(j, "message"));
                cJSON_Delete(j);
                md_free(frame);
                result = EXIT_CONN;
                break;
            }
            md_free(frame);
            continue;
        }
        bool over = false;
        switch (h.type) {
        case MD_MSG_RESULT_SCHEMA: rc = on_schema(cl, &st, payload, h.length, &err); break;
        case MD_MSG_RESULT_BATCH: rc = on_batch(cl, &st, payload, h.length, &err); break;
        case MD_MSG_PROGRESS: {
            cJSON *j = frame_json(frame, &h);
            pct = json_num(j, "percent", -1);
            done = json_num(j, "rows_processed", 0);
            total = json_num(j, "total_rows", 0);
            cJSON_Delete(j);
            if (!cancel_sent) progress_show(cl, pct, done, total, md_now_ms() - started);
            break;
        }
        case MD_MSG_RESULT_END: {
            cJSON *j = frame_json(frame, &h);
            rc = on_end(cl, &st, j);
            if (rc == MD_EIO) err = md_strdup("cannot write the result (is the output closed?)");
            over = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "final"));
            cJSON_Delete(j);
            pct = -1;
            break;
        }
        case MD_MSG_ERROR: {
            cJSON *j = frame_json(frame, &h);
            progress_clear(cl);
            if (st.fmt && cl->mode != MD_FMT_TABLE) fflush(stdout);
            print_sql_error(sql, json_str(j, "message"), (long)json_num(j, "position", -1));
            cJSON_Delete(j);
            result = EXIT_SQL;
            over = true;
            break;
        }
        default: break; /* PONG and anything newer: not ours to handle */
        }
        md_free(frame);
        if (rc != MD_OK) {
            progress_clear(cl);
            if (rc == MD_EIO) {
                fprintf(stderr, "Error: %s\n", err ? err : "cannot write the result");
                result = EXIT_SQL;
            } else {
                print_conn_error("cannot decode the result", err);
                result = EXIT_CONN;
            }
            break;
        }
        if (over) break;
    }
    progress_clear(cl);
    stmt_reset(&st);
    md_free(err);
    if (result == EXIT_OK && st.display_failed) result = EXIT_SQL;
    if (result == EXIT_CONN) client_disconnect(cl);
    if (cl->timer && result != EXIT_CONN) printf("Run Time (s): real %.3f\n", (double)(md_now_ms() - started) / 1000.0);
    fflush(stdout);
    return result;
}

/* ---- interactive shell --------------------------------------------------- */

/*
 * Is `sql` one or more complete statements: does its last token outside
 * strings, quoted identifiers, comments and $$ strings end with ';'?
 */
static bool sql_complete(const char *sql) {
    char last = 0;
    const char *p = sql;
    while (*p) {
        if (*p == '\'' || *p == '"') {
            char q = *p++;
            while (*p && !(*p == q && p[1] != q)) p += (*p == q) ? 2 : 1;
            if (!*p) return false;
            p++;
            last = q;
        } else if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            if (!e) return false;
            p = e + 2;
        } else if (*p == '$') {
            /* $tag$ ... $tag$ */
            size_t n = 1 + strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
            if (p[n] == '$' && (n == 1 || !(p[1] >= '0' && p[1] <= '9'))) {
                char tag[72];
                if (n + 1 >= sizeof tag) return false;
                memcpy(tag, p, n + 1);
                tag[n + 1] = 0;
                const char *e = strstr(p + n + 1, tag);
                if (!e) return false;
                p = e + n + 1;
                last = '$';
            } else {
                last = *p++;
            }
        } else {
            if (!strchr(" \t\r\n\f\v", *p)) last = *p;
            p++;
        }
    }
    return last == ';';
}

typedef struct shell {
    client *cl;
    md_buf input;        /* the statement being typed */
    char *line;          /* a line handed over by readline, to process */
    bool have_line;      /* readline delivered a line (NULL line = EOF) */
    int interrupts;      /* Ctrl-C presses in a row at the prompt */
    bool quit;
    int status;
    char history_path[4096];
} shell;

static shell *g_shell; /* readline's callback takes no user data */

static void on_readline(char *line) {
    g_shell->line = line;
    g_shell->have_line = true;
    rl_callback_handler_remove();
}

static void shell_prompt(shell *sh) {
    rl_callback_handler_install(sh->input.len ? "   ...> " : "md> ", on_readline);
}

static void shell_help(void) {
    printf(".help              this text\n"
           ".quit, .exit       leave (Ctrl-D too)\n"
           ".mode MODE         result format: table, csv or json\n"
           ".timer on|off      print each request's run time\n"
           "SQL ends at ';' and may span lines; Ctrl-C cancels a running query,\n"
           "clears the input at the prompt, and exits when pressed twice in a row.\n");
}

static void shell_command(shell *sh, const char *line) {
    char cmd[32] = "", arg[64] = "";
    sscanf(line, ".%31s %63s", cmd, arg);
    if (strcmp(cmd, "quit") == 0 || strcmp(cmd, "exit") == 0 || strcmp(cmd, "q") == 0) {
        sh->quit = true;
    } else if (strcmp(cmd, "help") == 0) {
        shell_help();
    } else if (strcmp(cmd, "mode") == 0) {
        md_fmt_mode m;
        if (!arg[0]) printf("current mode: %s\n", sh->cl->mode == MD_FMT_CSV ? "csv" : sh->cl->mode == MD_FMT_JSON ? "json" : "table");
        else if (strcmp(arg, "box") == 0 || md_fmt_parse_mode(arg, &m) != MD_OK) fprintf(stderr, "Error: unknown mode '%s' (table, csv or json)\n", arg);
        else sh->cl->mode = m;
    } else if (strcmp(cmd, "timer") == 0) {
        if (strcmp(arg, "on") == 0) sh->cl->timer = true;
        else if (strcmp(arg, "off") == 0) sh->cl->timer = false;
        else fprintf(stderr, "Error: .timer on|off\n");
    } else {
        fprintf(stderr, "Error: unknown command '%s' (.help lists them)\n", line);
    }
}

static void shell_run(shell *sh, const char *sql) {
    client *cl = sh->cl;
    if (!cl->dual && !cl->ws && client_connect(cl) != EXIT_OK) {
        sh->status = EXIT_CONN;
        return;
    }
    int rc = run_query(cl, sql);
    if (rc == EXIT_CONN) fprintf(stderr, "The connection is closed; the next statement reconnects.\n");
}

/* One line from readline (NULL: end of input). */
static void shell_line(shell *sh, char *line) {
    if (!line) { /* Ctrl-D */
        if (isatty(STDOUT_FILENO)) printf("\n");
        sh->quit = true;
        return;
    }
    sh->interrupts = 0;
    if (sh->input.len == 0) {
        const char *t = line + strspn(line, " \t");
        if (*t == '.') {
            add_history(line);
            shell_command(sh, t);
            return;
        }
        if (*t == 0) return;
    } else {
        md_buf_append(&sh->input, "\n", 1);
    }
    md_buf_append(&sh->input, line, strlen(line));
    md_buf_append(&sh->input, "", 1);
    sh->input.len--; /* keep it NUL-terminated, not counted */
    if (!sql_complete((const char *)sh->input.data)) return;
    char *sql = md_strndup((const char *)sh->input.data, sh->input.len);
    sh->input.len = 0;
    /* History keeps a statement on one line, so it comes back whole. */
    char *flat = md_strdup(sql);
    for (char *c = flat; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    add_history(flat);
    md_free(flat);
    if (sh->history_path[0]) append_history(1, sh->history_path);
    shell_run(sh, sql);
    md_free(sql);
}

static void shell_interrupt(shell *sh) {
    bool had_input = sh->input.len > 0 || (rl_line_buffer && rl_line_buffer[0]);
    sh->interrupts++;
    rl_free_line_state();
    rl_callback_sigcleanup();
    rl_callback_handler_remove();
    sh->input.len = 0;
    printf("^C\n");
    if (had_input) {
        sh->interrupts = 0; /* this press only cleared the input */
    } else if (sh->interrupts >= 2) {
        sh->quit = true;
        return;
    } else {
        printf("(press Ctrl-C again to exit, or type .quit)\n");
    }
    fflush(stdout);
}

static void history_setup(shell *sh) {
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home) return;
    snprintf(sh->history_path, sizeof sh->history_path, "%s/.mdserver_history", home);
    using_history();
    stifle_history(HISTORY_LINES);
    if (read_history(sh->history_path) != 0) {
        /* create it private: queries may hold sensitive text */
        FILE *f = fopen(sh->history_path, "a");
        if (f) fclose(f);
    }
    chmod(sh->history_path, 0600);
}

static int shell_main(client *cl) {
    shell sh = {.cl = cl, .input = MD_BUF_INIT};
    g_shell = &sh;
    history_setup(&sh);
    if (cl->dual)
        printf("dual execution: local %s + server %s\nEnter \".help\" for usage hints.\n", cl->local_path, cl->url);
    else
        printf("mdserver %s (DuckDB %s) at %s as %s, database %s%s\n"
               "Enter \".help\" for usage hints.\n",
               cl->server_version, cl->duckdb_version, cl->url, cl->user, cl->database,
               cl->read_only ? " (read-only)" : "");
    rl_catch_signals = 0; /* Ctrl-C is ours: see shell_interrupt */
    while (!sh.quit) {
        shell_prompt(&sh);
        sh.have_line = false;
        g_sigint = 0;
        while (!sh.have_line && !sh.quit) {
            struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
            int pr = poll(&pfd, 1, -1);
            if (pr < 0 && errno == EINTR) {
                if (g_sigint) {
                    g_sigint = 0;
                    shell_interrupt(&sh);
                    if (!sh.quit) shell_prompt(&sh);
                }
                continue;
            }
            if (pr < 0) {
                sh.quit = true;
                break;
            }
            rl_callback_read_char();
        }
        if (sh.have_line) {
            shell_line(&sh, sh.line);
            free(sh.line);
            sh.line = NULL;
        }
    }
    rl_callback_handler_remove();
    md_buf_free(&sh.input);
    if (sh.history_path[0]) history_truncate_file(sh.history_path, HISTORY_LINES);
    g_shell = NULL;
    return sh.status == EXIT_CONN && !cl->ws ? EXIT_CONN : EXIT_OK;
}

/* ---- --local: dual execution ---------------------------------------------- */

typedef struct dual_out {
    client *cl;
    md_fmt *fmt;
    bool failed;
} dual_out;

/* A result batch of a statement run by the dual engine: print it. */
static int dual_batch(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err) {
    dual_out *o = ctx;
    (void)out_err;
    if (o->cl->count || o->failed) return MD_OK;
    if (!o->fmt) {
        md_fmt_options opt = {.mode = o->cl->mode, .max_rows = 40,
                              .max_width = o->cl->mode == MD_FMT_TABLE ? table_width() : 0};
        char *why = NULL;
        if (md_fmt_create(schema, &opt, stdout, &o->fmt, &why) != MD_OK) {
            fprintf(stderr, "Error: %s\n", why ? why : "cannot display this result");
            md_free(why);
            o->failed = true;
            return MD_OK;
        }
    }
    char *err = NULL;
    if (md_fmt_batch(o->fmt, batch, &err) != MD_OK) {
        fprintf(stderr, "Error: %s\n", err ? err : "cannot display this result");
        o->failed = true;
    }
    md_free(err);
    return MD_OK;
}

static int dual_open(client *cl) {
    char *err = NULL;
    if (duckdb_open(cl->local_path, &cl->local_db) == DuckDBError) {
        fprintf(stderr, "Error: cannot open the local database %s\n", cl->local_path);
        return EXIT_CONN;
    }
    duckdb_connect(cl->local_db, &cl->local_conn);
    if (!cl->token) {
        fprintf(stderr, "Error: no token: give --token or set MD_TOKEN\n");
        return EXIT_CONN;
    }
    int rc = md_rclient_connect(cl->url, cl->token, &cl->remote, &err);
    if (rc == MD_OK) rc = md_dual_create(cl->local_conn, cl->remote, NULL, &cl->dual, &err);
    if (rc != MD_OK) {
        print_conn_error("cannot start dual execution", err);
        md_free(err);
        return EXIT_CONN;
    }
    return EXIT_OK;
}

static void dual_close(client *cl) {
    md_dual_destroy(&cl->dual);
    md_rclient_close(&cl->remote);
    if (cl->local_conn) duckdb_disconnect(&cl->local_conn);
    if (cl->local_db) duckdb_close(&cl->local_db);
}

/* Each statement of `sql` through the dual engine, its result printed. */
static int run_dual(client *cl, const char *sql) {
    md_sql_script *script;
    md_sql_error se;
    if (md_sql_classify(sql, strlen(sql), &script, &se) != MD_OK) {
        print_sql_error(sql, se.message, se.position);
        return EXIT_SQL;
    }
    int status = EXIT_OK;
    for (size_t i = 0; i < script->nstmts && status == EXIT_OK; i++) {
        const md_sql_stmt *st = &script->stmts[i];
        char *one = md_strndup(sql + st->start, st->end - st->start);
        dual_out o = {cl, NULL, false};
        md_dual_hooks hooks = {dual_batch, NULL, &o};
        md_dual_stats stats;
        char *err = NULL;
        double t0 = md_now_ms_f();
        int rc = md_dual_run(cl->dual, one, &hooks, &stats, &err);
        if (o.fmt) md_fmt_finish(o.fmt);
        md_fmt_destroy(&o.fmt);
        if (rc == MD_OK && stats.notice[0]) fprintf(stderr, "notice: %s\n", stats.notice);
        if (rc == MD_OK && strcmp(stats.where, "hybrid") == 0)
            fprintf(stderr, "hybrid (%s): %d bridge%s moved %llu bytes to the server and %llu bytes from it, %.1f ms\n",
                    stats.mode, stats.bridges, stats.bridges == 1 ? "" : "s", (unsigned long long)stats.bytes_up,
                    (unsigned long long)stats.bytes_down, md_now_ms_f() - t0);
        else if (rc == MD_OK && cl->timer)
            fprintf(stderr, "Run Time: %.3f s (%s)\n", (md_now_ms_f() - t0) / 1000.0, stats.where);
        if (rc != MD_OK) {
            fprintf(stderr, "Error: %s\n", err ? err : md_strerror(rc));
            status = rc == MD_ESQL || rc == MD_EUNSUPPORTED || rc == MD_ETOO_LARGE || rc == MD_EINVAL ||
                             rc == MD_ELOCKED || rc == MD_EREAD_ONLY || rc == MD_ENOT_FOUND || rc == MD_EEXISTS
                         ? EXIT_SQL
                         : EXIT_CONN;
        }
        md_free(err);
        md_free(one);
    }
    md_sql_script_free(&script);
    return status;
}

/* ---- main ---------------------------------------------------------------- */

static char *read_all_stdin(void) {
    md_buf b = MD_BUF_INIT;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, stdin)) > 0) md_buf_append(&b, tmp, n);
    md_buf_append(&b, "", 1);
    size_t len;
    return (char *)md_buf_detach(&b, &len);
}

int md_client_main(int argc, char **argv) {
    static const struct option opts[] = {
        {"url", required_argument, 0, 'u'},   {"token", required_argument, 0, 't'},
        {"command", required_argument, 0, 'c'}, {"format", required_argument, 0, 'f'},
        {"local", required_argument, 0, 'l'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    client cl = {.mode = MD_FMT_TABLE};
    const char *sql = NULL;
    cl.url = getenv("MD_URL") && *getenv("MD_URL") ? getenv("MD_URL") : DEFAULT_URL;
    cl.token = getenv("MD_TOKEN") && *getenv("MD_TOKEN") ? getenv("MD_TOKEN") : NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "u:t:c:f:l:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': cl.local_path = optarg; break;
        case 'u': cl.url = optarg; break;
        case 't': cl.token = optarg; break;
        case 'c': sql = optarg; break;
        case 'f':
            if (strcmp(optarg, "count") == 0) {
                cl.count = true;
            } else if (md_fmt_parse_mode(optarg, &cl.mode) != MD_OK) {
                fprintf(stderr, "Error: unknown format '%s' (table, csv or json)\n", optarg);
                return EXIT_CONN;
            }
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_CONN;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "Error: unexpected argument '%s' (SQL goes after -c)\n", argv[optind]);
        usage(stderr);
        return EXIT_CONN;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked poll must wake up */
    sigaction(SIGINT, &sa, NULL);

    cl.progress_tty = isatty(STDERR_FILENO);
    int status = cl.local_path ? dual_open(&cl) : client_connect(&cl);
    if (status == EXIT_OK) {
        if (sql) {
            status = run_query(&cl, sql);
        } else if (!isatty(STDIN_FILENO)) {
            char *text = read_all_stdin();
            status = run_query(&cl, text);
            md_free(text);
        } else {
            cl.interactive = true;
            status = shell_main(&cl);
        }
    }
    client_disconnect(&cl);
    dual_close(&cl);
    md_free(cl.user);
    md_free(cl.database);
    md_free(cl.server_version);
    md_free(cl.duckdb_version);
    return status;
}

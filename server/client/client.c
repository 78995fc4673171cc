/*
 * client.c: `mdserver client`, the terminal client (see client.h).
 *
 * A session reads frames through the protocol client every C client uses
 * (rclient.h: HELLO -> WELCOME, then one QUERY per SQL text), with hooks
 * for each statement of the request:
 *
 *     schema     start a printer (result_format)
 *     batch      print it (decoded by rclient)
 *     progress   update the progress line (stderr, terminals only)
 *     end        finish the printer
 *     error      "Error: ..." (with the SQL line and a caret when a
 *                position is given)
 *     notice     an ERROR about the connection (SESSION_RESET): printed,
 *                the query goes on
 *
 * Ctrl-C: SIGINT only sets a counter (the handler does nothing else).
 * rclient asks on_wait at least every 100 ms, so it is seen soon: the first
 * Ctrl-C during a query sends CANCEL(R) and the query ends with ERROR
 * CANCELLED; another one gives up on the server and closes the connection.  At the interactive prompt (readline's callback interface, so
 * the prompt can be interrupted too) Ctrl-C clears the input; a second one
 * in a row exits.
 *
 * --local FILE.duckdb: dual execution from the terminal (server/client/dual.h).
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

#include "dual.h"
#include "rclient.h"
#include "result_format.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/md_time.h"
#include "shared/sql_classify.h"

#define CLIENT_NAME "mdserver-cli/0.1"
#define DEFAULT_URL "ws://127.0.0.1:4213/ws"
#define HELLO_TIMEOUT_MS 30000
#define PROGRESS_AFTER_MS 500
#define HISTORY_LINES 2000

enum { EXIT_OK = 0, EXIT_SQL = 1, EXIT_CONN = 2 };

static volatile sig_atomic_t g_sigint;

static void on_sigint(int sig) {
    (void)sig;
    g_sigint++;
}

typedef struct client {
    md_rclient *conn; /* the server session (NULL: not connected) */
    const char *url;
    const char *token;
    const char *session_name; /* --session-name */
    md_fmt_mode mode;
    bool count;        /* --format count */
    bool interactive;
    bool timer;        /* .timer on */
    bool progress_tty; /* stderr is a terminal */
    bool progress_shown;
    /* --local: the dual engine over a local DuckDB file and the server session */
    const char *local_path;
    duckdb_database local_db;
    duckdb_connection local_conn;
    md_dual *dual;
} client;

static void usage(FILE *f) {
    fprintf(f,
            "usage: mdserver client [--url ws[s]://HOST:PORT/ws] [--token T] [-c SQL]\n"
            "                       [--format table|csv|json] [--local FILE.duckdb] [--session-name N]\n"
            "\n"
            "  --url URL        the server's WebSocket endpoint (default $MD_URL, else %s)\n"
            "  --token T        access token (default $MD_TOKEN); create one with\n"
            "                   `mdserver token create --user NAME`\n"
            "  -c SQL           run SQL (one or more statements) and exit\n"
            "  --format F       table (default), csv or json\n"
            "  --session-name N with a read-scaling token: the same name, the same read replica\n"
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

static void client_disconnect(client *cl) { md_rclient_close(&cl->conn); }

/* Connect and authenticate.  Returns EXIT_OK or EXIT_CONN (message printed). */
static int client_connect(client *cl) {
    char *err = NULL;
    md_rclient_options opt = {.client_name = CLIENT_NAME, .hello_timeout_ms = HELLO_TIMEOUT_MS,
                              .session_name = cl->session_name};
    int rc = md_rclient_open(cl->url, cl->token, &opt, &cl->conn, &err);
    if (rc == MD_OK) return EXIT_OK;
    if (rc == MD_EAUTH) {
        fprintf(stderr, "Error: %s\n", err ? err : md_strerror(rc));
        if (!cl->token) fprintf(stderr, "Hint: pass --token T or set MD_TOKEN (mdserver token create --user NAME).\n");
    } else {
        print_conn_error("cannot connect", err);
    }
    md_free(err);
    return EXIT_CONN;
}

/* ---- running a query ----------------------------------------------------- */

/* One request of the client: the printer of its current statement. */
typedef struct query {
    client *cl;
    md_fmt *fmt;
    int64_t rows;         /* of the current statement */
    double t0;            /* when the current statement started */
    int64_t started;      /* when the request was sent */
    double percent, done, total; /* the last PROGRESS */
    bool cancel_sent;
    bool abandoned;
    bool write_failed;   /* stdout refused the result */
    bool display_failed; /* a result of the request could not be shown */
    bool has_schema;
} query;

static int table_width(void) {
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 0;
}

/* A statement's schema: a new printer. */
static int on_schema(void *ctx, const struct ArrowSchema *schema, char **out_err) {
    query *q = ctx;
    md_fmt_destroy(&q->fmt);
    q->rows = 0;
    q->has_schema = true;
    if (q->cl->count) return MD_OK;
    md_fmt_options opt = {.mode = q->cl->mode, .max_rows = 40,
                          .max_width = q->cl->mode == MD_FMT_TABLE ? table_width() : 0};
    char *why = NULL;
    if (md_fmt_create(schema, &opt, stdout, &q->fmt, &why) != MD_OK) {
        /* A type this client cannot show: say so, keep reading the request. */
        progress_clear(q->cl);
        fprintf(stderr, "Error: %s\n", why ? why : "cannot display this result");
        md_free(why);
        q->display_failed = true;
    }
    return MD_OK;
}

/* A record batch: print it. */
static int on_batch(void *ctx, const struct ArrowSchema *schema, struct ArrowArray *batch, char **out_err) {
    query *q = ctx;
    (void)schema;
    q->rows += batch->length;
    if (!q->fmt) return MD_OK;
    if (q->cl->mode != MD_FMT_TABLE) progress_clear(q->cl);
    int rc = md_fmt_batch(q->fmt, batch, out_err);
    if (rc == MD_EIO) q->write_failed = true;
    return rc;
}

static void on_progress(void *ctx, const md_rclient_progress *p) {
    query *q = ctx;
    q->percent = p->percent;
    q->done = p->rows_processed;
    q->total = p->total_rows;
    if (!q->cancel_sent) progress_show(q->cl, q->percent, q->done, q->total, md_now_ms() - q->started);
}

/* A statement's end: print what is left of it. */
static int on_end(void *ctx, const md_rclient_end *end, char **out_err) {
    query *q = ctx;
    progress_clear(q->cl);
    int rc = MD_OK;
    if (q->cl->count) {
        printf("%lld\t%llu\t%.3f\n", (long long)q->rows, (unsigned long long)end->bytes, md_now_ms_f() - q->t0);
        fflush(stdout);
    } else if (q->fmt) {
        rc = md_fmt_finish(q->fmt);
    }
    if (q->has_schema && end->rows != q->rows)
        fprintf(stderr, "Warning: the server reported %lld rows, %lld arrived\n", (long long)end->rows,
                (long long)q->rows);
    md_fmt_destroy(&q->fmt);
    q->rows = 0;
    q->has_schema = false;
    q->percent = -1;
    q->t0 = md_now_ms_f();
    if (rc == MD_EIO) {
        q->write_failed = true;
        *out_err = md_strdup("cannot write the result (is the output closed?)");
    }
    return rc;
}

static void on_notice(void *ctx, const char *code, const char *message) {
    query *q = ctx;
    progress_clear(q->cl);
    fprintf(stderr, "Notice: %s\n", message ? message : code ? code : "a message from the server");
}

/* Asked while the answer is awaited: Ctrl-C cancels, a second one gives up. */
static int on_wait(void *ctx) {
    query *q = ctx;
    if (g_sigint > 0) {
        progress_clear(q->cl);
        if (q->cancel_sent) {
            q->abandoned = true;
            return MD_RCLIENT_ABANDON;
        }
        q->cancel_sent = true;
        g_sigint = 0;
        return MD_RCLIENT_CANCEL;
    }
    if (!q->cancel_sent) progress_show(q->cl, q->percent, q->done, q->total, md_now_ms() - q->started);
    return MD_RCLIENT_WAIT;
}

/*
 * Send `sql` as one QUERY and print its results.  Returns EXIT_OK,
 * EXIT_SQL (an ERROR for the request, printed) or EXIT_CONN (the
 * connection failed or was given up; printed, and closed).
 */
static int run_dual(client *cl, const char *sql);

static int run_query(client *cl, const char *sql) {
    if (cl->dual) return run_dual(cl, sql);
    g_sigint = 0;
    query q = {.cl = cl, .t0 = md_now_ms_f(), .started = md_now_ms(), .percent = -1};
    md_rclient_hooks hooks = {.on_schema = on_schema, .on_batch = on_batch, .on_progress = on_progress,
                              .on_end = on_end, .on_notice = on_notice, .on_wait = on_wait, .ctx = &q};
    md_rclient_stats stats;
    char *err = NULL;
    int rc = md_rclient_query(cl->conn, sql, &hooks, &stats, &err);
    progress_clear(cl);
    md_fmt_destroy(&q.fmt);
    int result = EXIT_OK;
    if (rc == MD_ESQL) {
        const md_rclient_error *e = md_rclient_last_error(cl->conn);
        if (cl->mode != MD_FMT_TABLE) fflush(stdout);
        print_sql_error(sql, e ? e->message : err, e ? e->position : -1);
        result = EXIT_SQL;
    } else if (rc == MD_ETOO_LARGE) { /* nothing was sent: the connection stays */
        fprintf(stderr, "Error: %s\n", err);
        result = EXIT_SQL;
    } else if (q.write_failed) {
        fprintf(stderr, "Error: %s\n", err ? err : "cannot write the result");
        result = EXIT_SQL;
    } else if (q.abandoned) {
        fprintf(stderr, "Error: interrupted again; closing the connection without waiting for the server\n");
        result = EXIT_CONN;
    } else if (rc == MD_EBAD_FRAME || rc == MD_EUNSUPPORTED || rc == MD_ECORRUPT) {
        print_conn_error("cannot decode the result", err);
        result = EXIT_CONN;
    } else if (rc != MD_OK) {
        print_conn_error("the connection to the server failed", err);
        result = EXIT_CONN;
    }
    md_free(err);
    if (result == EXIT_OK && q.display_failed) result = EXIT_SQL;
    if (!md_rclient_alive(cl->conn)) client_disconnect(cl);
    if (cl->timer && result != EXIT_CONN) printf("Run Time (s): real %.3f\n", (double)(md_now_ms() - q.started) / 1000.0);
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
    if (!cl->dual && !cl->conn && client_connect(cl) != EXIT_OK) {
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
    else {
        const md_rclient_welcome *w = md_rclient_welcome_of(cl->conn);
        printf("mdserver %s (DuckDB %s) at %s as %s, database %s%s\n"
               "Enter \".help\" for usage hints.\n",
               w->server_version, w->duckdb_version, cl->url, w->user, w->database, w->read_only ? " (read-only)" : "");
    }
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
    return sh.status == EXIT_CONN && !cl->conn ? EXIT_CONN : EXIT_OK;
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
    if (client_connect(cl) != EXIT_OK) return EXIT_CONN;
    int rc = md_dual_create(cl->local_conn, cl->conn, NULL, &cl->dual, &err);
    if (rc != MD_OK) {
        print_conn_error("cannot start dual execution", err);
        md_free(err);
        return EXIT_CONN;
    }
    return EXIT_OK;
}

static void dual_close(client *cl) {
    md_dual_destroy(&cl->dual);
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
        md_dual_hooks hooks = {.on_batch = dual_batch, .ctx = &o};
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
        {"session-name", required_argument, 0, 'S'}, {0, 0, 0, 0},
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
        case 'S': cl.session_name = optarg; break;
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
    dual_close(&cl);
    client_disconnect(&cl);
    return status;
}

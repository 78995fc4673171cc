/*
 * serve.c: `mdserver serve` (see serve.h).
 *
 * Start-up order: block SIGINT/SIGTERM (every thread inherits the mask, the
 * main thread sigwaits), create the data directory, open the metadata store,
 * create the admin user and print a login URL on first run, start the pool
 * and the storage gc thread, start HTTP, say ready.  Shut-down runs the same steps backwards.
 */
#include "serve.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"
#include "http.h"
#include "notebooks.h"
#include "server.h"
#include "session.h"
#include "server/duckling/confine.h"
#include "server/storage/gc.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/protocol.h"
#include "token.h"
#include "version.h"

#define DEFAULT_PORT 4213
#define GC_MIN_AGE_S 3600
#define GC_INTERVAL_S 3600

static void usage(FILE *f) {
    fprintf(f,
            "usage: mdserver [serve] [options]\n"
            "  --port N               port to listen on (default %d; 0 picks a free one)\n"
            "  --bind ADDR            address to listen on (default 127.0.0.1)\n"
            "  --data-dir DIR         where databases and metadata live (default ./mdserver-data)\n"
            "  --read-replicas N      read-scaling ducklings per user at most (default 2; 0: none)\n"
            "  --master-key-file F    the key that seals stored secrets (default DIR/master.key,\n"
            "                         made at first run with mode 0600)\n"
            "  --ui-dir DIR           static web UI files (default: build/ui/ beside the binary)\n"
            "  --max-connections N    open WebSocket connections accepted at once (default 64)\n"
            "  --max-unauthenticated N  of those, how many may be waiting to say HELLO (default 32)\n"
            "  --max-per-address N    TCP connections at once from one address, an IPv6 /64 counting\n"
            "                         as one (default 32; 0: no limit)\n"
            "  --hello-timeout MS     close a WebSocket that has not authenticated by then (default 5000)\n"
            "  --allow-origin ORIGIN  a web page origin (scheme://host:port) allowed to open sessions\n"
            "                         besides the server's own; repeat for more\n"
            "  --tls-cert FILE        PEM certificate (chain): serve https and wss (needs --tls-key)\n"
            "  --tls-key FILE         PEM private key of --tls-cert\n"
            "  --max-frame-bytes N    largest message a client may send (default %u)\n"
            "  --max-result-bytes N   largest result one query may return (default 8 GiB; 0: none)\n"
            "  --statement-timeout S  stop a query that runs longer (default 3600; 0: none); a session may\n"
            "                         SET statement_timeout lower\n"
            "  --cancel-grace MS      a query asked to stop (cancel, timeout, client gone) that runs this\n"
            "                         much longer ends its engine, which restarts (default 10000)\n"
            "  --threads N            DuckDB threads per duckling (default: number of cores)\n"
            "  --memory-limit SIZE    DuckDB memory limit per duckling, e.g. 4GB (default: 80%% of RAM\n"
            "                         divided by --max-ducklings)\n"
            "  --idle-timeout SECS    stop a user's duckling after this long unused (default 900)\n"
            "  --max-ducklings N      duckling processes at once (default 8); sessions with nothing\n"
            "                         running do not hold theirs when another user needs one\n"
            "  --duckling-uid-base N  started as root, run each user's duckling as uid (and gid) N + the\n"
            "                         user's id, owning that user's files (default 100000)\n",
            DEFAULT_PORT, MD_DEFAULT_MAX_FRAME_BYTES);
}

/* Share of the machine's memory all ducklings together may use by default. */
#define DEFAULT_MEMORY_SHARE 0.8

/* MiB of memory in the machine (4096 when unknown). */
static unsigned long long ram_mb(void) {
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    return pages > 0 && psize > 0 ? (unsigned long long)pages * (unsigned long long)psize / (1 << 20) : 4096;
}

/* Each duckling's default memory_limit: DEFAULT_MEMORY_SHARE of the
 * machine's memory split between --max-ducklings, so that all of them at
 * their limit never overcommit it (at least 256 MB). */
static char *default_memory_limit(int max_ducklings) {
    unsigned long long mb = (unsigned long long)((double)ram_mb() * DEFAULT_MEMORY_SHARE / (max_ducklings > 0 ? max_ducklings : 1));
    return md_asprintf("%lluMB", mb < 256 ? 256 : mb);
}

static int first_run(md_server *srv, const char *url_base) {
    long users = 0;
    if (md_meta_user_count(srv->meta, &users) != MD_OK) return MD_EIO;
    if (users > 0) {
        printf("Sign in with a token; create one with:\n"
               "  ./mdserver token create --data-dir %s --user admin\n",
               srv->cfg.data_dir);
        return MD_OK;
    }
    char token[MD_TOKEN_LEN + 1];
    if (md_meta_user_ensure(srv->meta, "admin", NULL, 1, NULL) != MD_OK ||
        md_token_issue(srv->meta, "admin", MD_TOKEN_READ_WRITE, "first run", 0, token, NULL) != MD_OK)
        return MD_EIO;
    printf("First run: created user admin.\n"
           "  Token (shown once, keep it): %s\n"
           "  Log in:                      %s/#token=%s\n",
           token, url_base, token);
    return MD_OK;
}

int md_serve_main(int argc, char **argv) {
    md_server srv;
    memset(&srv, 0, sizeof srv);
    md_session_directory_init(&srv);
    srv.cfg.bind = "127.0.0.1";
    srv.cfg.port = DEFAULT_PORT;
    srv.cfg.data_dir = "mdserver-data";
    srv.cfg.max_connections = 64;
    srv.cfg.max_unauthenticated = 32;
    srv.cfg.max_per_address = 32;
    srv.cfg.hello_timeout_ms = 5000;
    md_buf origins = MD_BUF_INIT;
    srv.cfg.max_frame_bytes = MD_DEFAULT_MAX_FRAME_BYTES;
    srv.cfg.max_result_bytes = 8ULL << 30;
    srv.cfg.statement_timeout_s = 3600;
    srv.cfg.cancel_grace_ms = 10000;
    srv.cfg.duckling_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    srv.cfg.idle_timeout_s = 900;
    srv.cfg.max_ducklings = 8;
    srv.cfg.read_replicas = 2;
    srv.cfg.duckling_uid_base = 100000;
    char *mem = NULL;
    const char *ui_dir = NULL;

    static const struct option longopts[] = {
        {"port", required_argument, 0, 'p'},          {"bind", required_argument, 0, 'b'},
        {"data-dir", required_argument, 0, 'd'},      {"ui-dir", required_argument, 0, 'u'},
        {"max-connections", required_argument, 0, 'c'}, {"max-frame-bytes", required_argument, 0, 'f'},
        {"max-result-bytes", required_argument, 0, 'r'}, {"threads", required_argument, 0, 't'},
        {"memory-limit", required_argument, 0, 'm'},  {"idle-timeout", required_argument, 0, 'i'},
        {"max-ducklings", required_argument, 0, 'x'}, {"help", no_argument, 0, 'h'},
        {"max-unauthenticated", required_argument, 0, 'U'}, {"max-per-address", required_argument, 0, 'A'},
        {"hello-timeout", required_argument, 0, 'H'}, {"allow-origin", required_argument, 0, 'O'},
        {"statement-timeout", required_argument, 0, 'S'}, {"tls-cert", required_argument, 0, 'C'},
        {"tls-key", required_argument, 0, 'K'}, {"cancel-grace", required_argument, 0, 'G'},
        {"duckling-uid-base", required_argument, 0, 'B'}, {"master-key-file", required_argument, 0, 'M'},
        {"read-replicas", required_argument, 0, 'R'},
        {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': srv.cfg.port = atoi(optarg); break;
        case 'b': srv.cfg.bind = optarg; break;
        case 'd': srv.cfg.data_dir = optarg; break;
        case 'u': ui_dir = optarg; break;
        case 'c': srv.cfg.max_connections = atoi(optarg); break;
        case 'f': srv.cfg.max_frame_bytes = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'r': srv.cfg.max_result_bytes = strtoull(optarg, NULL, 10); break;
        case 't': srv.cfg.duckling_threads = atoi(optarg); break;
        case 'm': srv.cfg.duckling_memory = optarg; break;
        case 'i': srv.cfg.idle_timeout_s = atoi(optarg); break;
        case 'x': srv.cfg.max_ducklings = atoi(optarg); break;
        case 'U': srv.cfg.max_unauthenticated = atoi(optarg); break;
        case 'S': srv.cfg.statement_timeout_s = atoi(optarg); break;
        case 'C': srv.cfg.tls_cert = optarg; break;
        case 'K': srv.cfg.tls_key = optarg; break;
        case 'G': srv.cfg.cancel_grace_ms = atoi(optarg); break;
        case 'A': srv.cfg.max_per_address = atoi(optarg); break;
        case 'H': srv.cfg.hello_timeout_ms = atoi(optarg); break;
        case 'B': srv.cfg.duckling_uid_base = strtol(optarg, NULL, 10); break;
        case 'M': srv.cfg.master_key_file = optarg; break;
        case 'R': srv.cfg.read_replicas = atoi(optarg); break;
        case 'O':
            if (origins.len) md_buf_append(&origins, ",", 1);
            md_buf_append(&origins, optarg, strlen(optarg));
            break;
        case 'h': usage(stdout); md_free(mem); md_buf_free(&origins); return 0;
        default: usage(stderr); md_free(mem); md_buf_free(&origins); return 2;
        }
    }
    if (optind < argc || srv.cfg.port < 0 || srv.cfg.port > 65535 || srv.cfg.max_connections < 1 ||
        srv.cfg.max_frame_bytes < 1024 || srv.cfg.max_unauthenticated < 1 || srv.cfg.max_per_address < 0 ||
        srv.cfg.hello_timeout_ms < 100 || srv.cfg.statement_timeout_s < 0 || srv.cfg.cancel_grace_ms < 100 || !srv.cfg.tls_cert != !srv.cfg.tls_key ||
        srv.cfg.duckling_uid_base < 1 || srv.cfg.duckling_uid_base > 2000000000L || srv.cfg.read_replicas < 0 ||
        srv.cfg.read_replicas > 64) {
        usage(stderr);
        md_free(mem);
        md_buf_free(&origins);
        return 2;
    }
    if (!srv.cfg.duckling_memory) srv.cfg.duckling_memory = mem = default_memory_limit(srv.cfg.max_ducklings);
    md_buf_append(&origins, "", 1); /* NUL-terminated */
    srv.cfg.allow_origins = (const char *)origins.data;
    srv.admission = md_admission_create(srv.cfg.max_per_address, srv.cfg.max_unauthenticated);

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "mdserver: cannot find its own binary: %s\n", strerror(errno));
        return 1;
    }
    exe[n] = 0;
    char *exe_dir_buf = md_strdup(exe);
    char *default_ui = md_asprintf("%s/build/ui", dirname(exe_dir_buf));
    srv.cfg.ui_dir = ui_dir ? ui_dir : default_ui;

    /* Signals: the main thread waits for them; every other thread ignores them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    char *err = NULL, *abs_data = NULL;
    md_gc_thread *gc = NULL;
    md_objstore *store = NULL; /* snapshot storage, for the ducklings' storage links */
    md_dbmeta *dbmeta = NULL;
    md_secrets *secrets = NULL;
    md_cgroup *cgroup = NULL;  /* per-duckling kernel limits, where cgroup v2 allows them */
    char *cgroup_why = NULL;
    if (mkdir(srv.cfg.data_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "mdserver: cannot create data directory %s: %s\n", srv.cfg.data_dir, strerror(errno));
        goto out;
    }
    abs_data = realpath(srv.cfg.data_dir, NULL);
    srv.cfg.data_dir = abs_data;
    if (md_meta_open(srv.cfg.data_dir, &srv.meta, &err) != MD_OK ||
        md_wsdb_open(srv.cfg.data_dir, &srv.workspace, &err) != MD_OK || md_notebooks_init(srv.workspace, &err) != MD_OK ||
        md_history_init(srv.workspace, &err) != MD_OK) {
        fprintf(stderr, "mdserver: %s\n", err);
        goto out;
    }
    char *store_dir = md_asprintf("%s/store", srv.cfg.data_dir);
    int src = md_objstore_open_dir(store_dir, &store, &err);
    md_free(store_dir);
    if (src == MD_OK) src = md_dbmeta_open(srv.cfg.data_dir, &dbmeta, &err);
    if (src == MD_OK) src = md_secrets_open(srv.cfg.data_dir, srv.cfg.master_key_file, 1, &secrets, &err);
    if (src != MD_OK) {
        fprintf(stderr, "mdserver: %s\n", err);
        goto out;
    }
    md_cgroup_open("/proc/self/mountinfo", "/proc/self/cgroup", &cgroup, &cgroup_why);
    md_pool_config pc = {
        .data_dir = srv.cfg.data_dir,
        .exe_path = exe,
        .memory_limit = srv.cfg.duckling_memory,
        .threads = srv.cfg.duckling_threads,
        .idle_timeout_s = srv.cfg.idle_timeout_s,
        .max_ducklings = srv.cfg.max_ducklings,
        .read_replicas = srv.cfg.read_replicas,
        .max_frame_bytes = srv.cfg.max_frame_bytes,
        .max_result_bytes = srv.cfg.max_result_bytes,
        .statement_timeout_ms = (int64_t)srv.cfg.statement_timeout_s * 1000,
        .cancel_grace_ms = srv.cfg.cancel_grace_ms,
        .store = store,
        .meta = dbmeta,
        .users = srv.meta,
        .secrets = secrets,
        .directory = &srv.directory,
        .workspace = srv.workspace,
        .uid_base = srv.cfg.duckling_uid_base,
        .cgroup = cgroup,
    };
    md_pool_create(&pc, &srv.pool);
    /* storage gc: now (what interrupted commits left) and every hour; only
     * objects older than an hour go, so captures in flight are safe */
    gc = md_gc_thread_start(srv.cfg.data_dir, GC_MIN_AGE_S, GC_INTERVAL_S);
    int port = 0;
    if (md_http_start(&srv, &port, &err) != MD_OK) {
        fprintf(stderr, "mdserver: %s\n", err);
        goto out;
    }
    const char *host = strcmp(srv.cfg.bind, "0.0.0.0") == 0 ? "127.0.0.1" : srv.cfg.bind;
    const char *s = srv.cfg.tls_cert ? "s" : "";
    char *url = md_asprintf("http%s://%s:%d", s, host, port);
    printf("mdserver %s (DuckDB %s) listening on %s\n", MD_SERVER_VERSION, md_duckdb_version(), url);
    printf("  WebSocket: ws%s://%s:%d/ws   data: %s\n", s, host, port, srv.cfg.data_dir);
    printf("  Query engines: up to %d at once, memory_limit %s each; %s\n", srv.cfg.max_ducklings,
           srv.cfg.duckling_memory, md_confine_describe(srv.cfg.duckling_uid_base));
    if (cgroup)
        printf("  Kernel limits: each engine in its own cgroup under %s (memory.max %lluMB, cpu.max %d CPUs)\n",
               md_cgroup_path(cgroup),
               (unsigned long long)(md_cgroup_memory_max(md_cgroup_parse_size(srv.cfg.duckling_memory)) >> 20),
               srv.cfg.duckling_threads);
    else
        printf("  Kernel limits: none (%s); DuckDB's memory_limit bounds each engine\n", cgroup_why);
    if (first_run(&srv, url) != MD_OK) {
        fprintf(stderr, "mdserver: cannot create the first user in the metadata store\n");
        md_free(url);
        goto out;
    }
    md_free(url);
    fflush(stdout);
    atomic_store(&srv.ready, 1);

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "mdserver: %s received, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    atomic_store(&srv.ready, 0);
    status = 0;
out:
    md_http_stop(&srv);
    md_gc_thread_stop(&gc);
    md_pool_destroy(&srv.pool);
    md_session_directory_done(&srv);
    md_dbmeta_close(&dbmeta);
    md_secrets_close(&secrets);
    md_objstore_close(&store);
    md_cgroup_close(&cgroup);
    md_free(cgroup_why);
    md_wsdb_close(&srv.workspace);
    md_meta_close(&srv.meta);
    md_admission_destroy(&srv.admission);
    md_buf_free(&origins);
    if (status == 0) fprintf(stderr, "mdserver: stopped\n");
    md_free(err);
    md_free(mem);
    md_free(default_ui);
    md_free(exe_dir_buf);
    free(abs_data);
    return status;
}

/*
 * pool.c: the duckling pool (see pool.h).
 *
 * Each duckling entry moves through:
 *
 *   STARTING --ready--> LIVE --idle timeout / eviction / send failure--> STOPPING
 *      |                  |                                                 |
 *      +--failed to start-+--------------- process exit (waitpid) ----------+--> removed
 *
 * Only the reaper thread calls waitpid; it removes exited entries and wakes
 * waiters, kills STOPPING ducklings that outlive their deadline, and stops
 * LIVE ducklings idle for longer than the timeout.  A new duckling for a user
 * is started only once the user's previous process has exited, so two
 * processes never open the same database file.
 *
 * Sessions do not pin engines: when every process slot is taken and a user
 * without a duckling needs one, a duckling without sessions goes first, then
 * one whose sessions have had no request in flight for EVICT_IDLE_MS (the
 * least recently busy).  Its sessions stay connected; their next request
 * starts a fresh duckling (session.c tells the client that the session's
 * temporary state was reset).
 *
 * All fields are guarded by p->mu; a STARTING entry is filled in by the thread
 * that started it, with the lock released while the duckling boots.
 */
#include "pool.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server/duckling/duckling.h"
#include "server/storage/store_service.h"
#include "server/storage/store_wire.h"
#include "shared/frame_io.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "shared/md_time.h"

#define START_TIMEOUT_MS 120000
#define STOP_GRACE_MS 10000
#define REAP_INTERVAL_MS 200
/* A duckling stopped (SIGSTOP, a debugger) this long is killed and replaced:
 * its user's requests get DUCKLING_FAILED instead of waiting for ever. */
#define STOPPED_GRACE_MS 5000
/* Sessions without a request in flight this long do not keep their
 * duckling from a user who needs a process slot. */
#define EVICT_IDLE_MS 5000

enum { STARTING, LIVE, STOPPING };

typedef struct duckling {
    char *user;
    int replica;            /* -1: the user's read/write duckling; else the replica's index */
    char *key;              /* "user", or "user.rsI" for replica I: its cgroup */
    char *name;             /* "duckling for user U" or "read replica I of user U": messages */
    uint64_t ticket;
    pid_t pid;
    int control_fd;
    md_store_service *storage; /* its storage link */
    int state;
    int sessions;
    int busy;               /* sessions with a request in flight */
    int64_t last_busy_ms;   /* when busy last went to 0 */
    int64_t idle_since_ms;
    int64_t kill_at_ms;
    int64_t stopped_since_ms; /* first seen stopped (0: running) */
    struct duckling *next;
} duckling;

struct md_pool {
    md_pool_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    duckling *list;
    uint64_t next_ticket;
    int closing;
    pthread_t reaper;
};

static void mkdirs(const char *path) {
    char *tmp = md_strdup(path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0700);
            *p = '/';
        }
    }
    mkdir(tmp, 0700);
    md_free(tmp);
}

static duckling *find(md_pool *p, const char *user, int replica) {
    for (duckling *d = p->list; d; d = d->next)
        if (strcmp(d->user, user) == 0 && d->replica == replica) return d;
    return NULL;
}

/* The replica a read_scaling session of `user` goes to: the one its
 * session_name hashes to, else the one with the fewest sessions (one not
 * started counts as none).  Called with p->mu held. */
static int choose_replica(md_pool *p, const md_pool_session *who) {
    int n = p->cfg.read_replicas;
    if (who->session_name) {
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const char *c = who->session_name; *c; c++) h = (h ^ (uint8_t)*c) * 16777619u;
        return (int)(h % (uint32_t)n);
    }
    int best = 0, best_sessions = -1;
    for (int i = 0; i < n; i++) {
        duckling *d = find(p, who->user, i);
        int sessions = d ? d->sessions : 0;
        if (best_sessions < 0 || sessions < best_sessions) best = i, best_sessions = sessions;
    }
    return best;
}

static void unlink_entry(md_pool *p, duckling *d) {
    for (duckling **pp = &p->list; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    }
    if (d->control_fd >= 0) close(d->control_fd);
    md_store_service_stop(&d->storage);
    if (p->cfg.cgroup) md_cgroup_release(p->cfg.cgroup, d->key); /* fails while a process is in it */
    md_free(d->user);
    md_free(d->key);
    md_free(d->name);
    md_free(d);
}

static int count_processes(md_pool *p) {
    int n = 0;
    for (duckling *d = p->list; d; d = d->next) n++;
    return n;
}

/* Ask a duckling to stop: closing its control socket makes it shut down. */
static void stop_entry(duckling *d, int64_t now) {
    if (d->state == STOPPING) return;
    if (d->control_fd >= 0) close(d->control_fd);
    d->control_fd = -1;
    d->state = STOPPING;
    d->kill_at_ms = now + STOP_GRACE_MS;
}

/* chown_tree's uid: nftw has no context argument, so one tree at a time (spawn_mu). */
static uid_t tree_uid;
static pthread_mutex_t spawn_mu = PTHREAD_MUTEX_INITIALIZER;

static int chown_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    if (st->st_uid != tree_uid || st->st_gid != tree_uid) lchown(path, tree_uid, tree_uid);
    return 0;
}

/* Give `dir` and everything beneath it to uid (and the group of the same
 * number) unless dir is already theirs: files a duckling of an older
 * version, or one running as another uid, left there. */
static void chown_tree(const char *dir, uid_t uid) {
    struct stat st;
    if (stat(dir, &st) != 0 || (st.st_uid == uid && st.st_gid == uid)) return;
    pthread_mutex_lock(&spawn_mu);
    tree_uid = uid;
    nftw(dir, chown_entry, 16, FTW_PHYS | FTW_MOUNT);
    pthread_mutex_unlock(&spawn_mu);
}

/* The uid `user`'s duckling runs as: 0 (its own, not root) unless the
 * server is root. */
static int duckling_uid(md_pool *p, const char *user, long *out_uid, char **out_err) {
    *out_uid = 0;
    if (geteuid() != 0) return MD_OK;
    long id = 0;
    if (!p->cfg.users || md_meta_user_id(p->cfg.users, user, &id) != MD_OK) {
        *out_err = md_asprintf("user %s has no id in the metadata store", user);
        return MD_EDUCKLING;
    }
    *out_uid = p->cfg.uid_base + id;
    return MD_OK;
}

/* fork + exec `<exe> duckling ...` with the control socket on fd 3 and
 * the storage link on fd 4 (served from here on by *out_storage). */
static int spawn(md_pool *p, const char *user, int replica, const char *key, const char *name, pid_t *out_pid,
                 int *out_fd, md_store_service **out_storage, char **out_err) {
    char *user_dir = md_asprintf("%s/users/%s", p->cfg.data_dir, user);
    char *scratch = md_asprintf("%s/tmp/%s", p->cfg.data_dir, user);
    char threads[16], frame[24], result[24], timeout[24], grace[24], uid_text[24], replica_text[16];
    snprintf(replica_text, sizeof replica_text, "%d", replica);
    long uid = 0;
    int rc = duckling_uid(p, user, &uid, out_err);
    if (rc != MD_OK) {
        md_free(user_dir);
        md_free(scratch);
        return rc;
    }
    snprintf(uid_text, sizeof uid_text, "%ld", uid);
    snprintf(threads, sizeof threads, "%d", p->cfg.threads);
    snprintf(frame, sizeof frame, "%u", p->cfg.max_frame_bytes);
    snprintf(result, sizeof result, "%llu", (unsigned long long)p->cfg.max_result_bytes);
    snprintf(timeout, sizeof timeout, "%lld", (long long)p->cfg.statement_timeout_ms);
    snprintf(grace, sizeof grace, "%lld", (long long)p->cfg.cancel_grace_ms);
    mkdirs(user_dir);
    mkdirs(scratch);
    if (uid > 0) {
        chown_tree(user_dir, (uid_t)uid);
        chown_tree(scratch, (uid_t)uid);
    }
    char *argv[] = {(char *)p->cfg.exe_path, "duckling", "--user-dir", user_dir,
                    "--scratch-dir", scratch, "--memory-limit", (char *)p->cfg.memory_limit,
                    "--threads", threads, "--max-frame-bytes", frame, "--max-result-bytes", result,
                    "--user", (char *)user,
                    "--statement-timeout", timeout, "--cancel-grace", grace, "--uid", uid_text,
                    replica >= 0 ? "--replica" : NULL, replica_text, NULL};
    int sv[2], st[2] = {-1, -1}, cgroup_fd = -1;
    rc = MD_EDUCKLING;
    if (p->cfg.cgroup) {
        uint64_t max = md_cgroup_memory_max(md_cgroup_parse_size(p->cfg.memory_limit));
        if (md_cgroup_prepare(p->cfg.cgroup, key, max, p->cfg.threads, &cgroup_fd, out_err) != MD_OK) goto out;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        *out_err = md_asprintf("cannot create a socket for the duckling: %s", strerror(errno));
        goto out;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st) < 0) {
        *out_err = md_asprintf("cannot create a socket for the duckling: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        *out_err = md_asprintf("cannot start a duckling process: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        close(st[0]);
        close(st[1]);
        goto out;
    }
    if (pid == 0) {
        /* Child: async-signal-safe calls only until exec.  Both ends move
         * above 10 first, so that neither dup2 overwrites the other. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (cgroup_fd >= 0 && write(cgroup_fd, "0", 1) != 1) _exit(126); /* into its cgroup, limits first */
        int control = fcntl(sv[1], F_DUPFD, 10), storage = fcntl(st[1], F_DUPFD, 10);
        if (control < 0 || storage < 0 || dup2(control, MD_DUCKLING_CONTROL_FD) < 0 ||
            dup2(storage, MD_DUCKLING_STORE_FD) < 0)
            _exit(127);
        syscall(SYS_close_range, MD_DUCKLING_STORE_FD + 1, ~0U, 0);
        execv(p->cfg.exe_path, argv);
        _exit(127);
    }
    close(sv[1]);
    close(st[1]);
    md_store_service *storage = NULL;
    md_store_service_config sc = {user,         p->cfg.store,     p->cfg.meta,     p->cfg.users,
                                  p->cfg.secrets, p->cfg.directory, p->cfg.workspace};
    if (md_store_service_start(st[0], &sc, &storage) != MD_OK) {
        /* the duckling's calls fail, and so does its start */
        fprintf(stderr, "mdserver: cannot serve the storage of user %s's duckling\n", user);
    }
    /* Wait for the duckling's READY (or its reason for failing). */
    struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
    int pr;
    do {
        pr = poll(&pfd, 1, START_TIMEOUT_MS);
    } while (pr < 0 && errno == EINTR);
    md_frame_header h;
    uint8_t *f = NULL;
    if (pr > 0 && md_frame_recv(sv[0], 1 << 20, &h, &f) == MD_OK) {
        cJSON *j = cJSON_ParseWithLength((const char *)f + MD_FRAME_HEADER_SIZE, h.length);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"))) {
            rc = MD_OK;
        } else {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
            *out_err = md_asprintf("the query engine for user %s could not start: %s", user,
                                   cJSON_IsString(e) ? e->valuestring : "no reason given");
        }
        cJSON_Delete(j);
        md_free(f);
    } else {
        *out_err = md_asprintf("the query engine for user %s did not start (%s)", user,
                               pr == 0 ? "timed out" : "it exited");
    }
    if (rc == MD_OK) {
        *out_pid = pid;
        *out_fd = sv[0];
        *out_storage = storage;
        fprintf(stderr, "mdserver: %s started (pid %d)\n", name, (int)pid);
    } else {
        close(sv[0]);
        kill(pid, SIGKILL);
        md_store_service_stop(&storage);
        /* The reaper collects it. */
    }
out:
    if (cgroup_fd >= 0) close(cgroup_fd);
    md_free(user_dir);
    md_free(scratch);
    return rc;
}

/* Hand a new session socket to a LIVE duckling.  Called with p->mu held. */
static int attach_session(duckling *d, const md_pool_session *who, int *out_fd) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return MD_EIO;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "user", who->user);
    cJSON_AddBoolToObject(j, "read_only", who->kind != MD_TOKEN_READ_WRITE);
    cJSON_AddStringToObject(j, "token_kind", md_token_kind_name(who->kind));
    if (who->conn_id) cJSON_AddStringToObject(j, "connection_id", who->conn_id);
    int rc = md_frame_send_json(sv[0], MD_MSG_SESSION, 0, j);
    cJSON_Delete(j);
    if (rc == MD_OK) {
        char byte = 'S';
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct iovec iov = {&byte, 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &sv[1], sizeof(int));
        ssize_t w;
        do {
            w = sendmsg(d->control_fd, &msg, MSG_NOSIGNAL);
        } while (w < 0 && errno == EINTR);
        if (w != 1) rc = MD_EIO;
    }
    close(sv[1]);
    if (rc != MD_OK) {
        close(sv[0]);
        return rc;
    }
    *out_fd = sv[0];
    return MD_OK;
}

int md_pool_open_channel(md_pool *p, const md_pool_session *who, int *out_fd, uint64_t *out_ticket, char **out_err) {
    const char *user = who->user;
    pthread_mutex_lock(&p->mu);
    int rc;
    int replica = who->kind == MD_TOKEN_READ_SCALING && p->cfg.read_replicas > 0 ? choose_replica(p, who) : -1;
    for (;;) {
        if (p->closing) {
            rc = MD_EBUSY;
            *out_err = md_strdup("the server is shutting down");
            break;
        }
        duckling *d = find(p, user, replica);
        if (d && (d->state == STARTING || d->state == STOPPING)) {
            pthread_cond_wait(&p->cv, &p->mu); /* wait for it to be ready or gone */
            continue;
        }
        if (d && d->sessions >= MD_DUCKLING_MAX_SESSIONS) {
            rc = MD_EBUSY;
            *out_err = md_asprintf("user %s already has the maximum of %d sessions open; close a tab or a client "
                                   "and try again",
                                   user, MD_DUCKLING_MAX_SESSIONS);
            break;
        }
        if (d) { /* LIVE */
            if (attach_session(d, who, out_fd) == MD_OK) {
                d->sessions++;
                *out_ticket = d->ticket;
                rc = MD_OK;
                break;
            }
            /* It died under us: make sure it is gone, then start a new one. */
            kill(d->pid, SIGKILL);
            stop_entry(d, md_now_ms());
            continue;
        }
        if (count_processes(p) >= p->cfg.max_ducklings) {
            /* the victim: a duckling without sessions, else one whose
             * sessions have all been idle EVICT_IDLE_MS; the longest idle */
            duckling *idle = NULL;
            int64_t now = md_now_ms(), idle_since = 0;
            for (duckling *e = p->list; e; e = e->next) {
                if (e->state != LIVE) continue;
                int empty = e->sessions == 0;
                if (!empty && (e->busy > 0 || now - e->last_busy_ms < EVICT_IDLE_MS)) continue;
                int64_t since = empty ? e->idle_since_ms : e->last_busy_ms;
                int better = !idle || (empty && idle->sessions > 0) ||
                             (empty == (idle->sessions == 0) && since < idle_since);
                if (better) {
                    idle = e;
                    idle_since = since;
                }
            }
            if (idle && idle->sessions > 0)
                fprintf(stderr, "mdserver: stopping the %s (pid %d), whose %d sessions are idle, for user %s\n",
                        idle->name, (int)idle->pid, idle->sessions, user);
            if (!idle) {
                rc = MD_EBUSY;
                *out_err = md_asprintf("the server is running its maximum of %d query engines, all busy; "
                                       "try again later or raise --max-ducklings",
                                       p->cfg.max_ducklings);
                break;
            }
            stop_entry(idle, md_now_ms());
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        d = md_calloc(1, sizeof *d);
        d->user = md_strdup(user);
        d->replica = replica;
        d->key = replica < 0 ? md_strdup(user) : md_asprintf("%s.rs%d", user, replica);
        d->name = replica < 0 ? md_asprintf("duckling for user %s", user)
                              : md_asprintf("read replica %d of user %s", replica, user);
        d->state = STARTING;
        d->control_fd = -1;
        d->ticket = ++p->next_ticket;
        d->next = p->list;
        p->list = d;
        pthread_mutex_unlock(&p->mu);
        pid_t pid = 0;
        int fd = -1;
        md_store_service *storage = NULL;
        char *err = NULL;
        int src = spawn(p, user, replica, d->key, d->name, &pid, &fd, &storage, &err);
        pthread_mutex_lock(&p->mu);
        if (src != MD_OK) {
            unlink_entry(p, d);
            pthread_cond_broadcast(&p->cv);
            *out_err = err;
            rc = MD_EDUCKLING;
            break;
        }
        d->pid = pid;
        d->control_fd = fd;
        d->storage = storage;
        d->state = LIVE;
        d->idle_since_ms = d->last_busy_ms = md_now_ms();
        if (p->closing) stop_entry(d, md_now_ms());
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void md_pool_session_busy(md_pool *p, uint64_t ticket, int busy) {
    pthread_mutex_lock(&p->mu);
    for (duckling *d = p->list; d; d = d->next) {
        if (d->ticket != ticket) continue;
        if (busy) d->busy++;
        else if (d->busy > 0 && --d->busy == 0) d->last_busy_ms = md_now_ms();
        break;
    }
    pthread_mutex_unlock(&p->mu);
}

void md_pool_close_channel(md_pool *p, uint64_t ticket) {
    pthread_mutex_lock(&p->mu);
    for (duckling *d = p->list; d; d = d->next) {
        if (d->ticket == ticket) {
            if (d->sessions > 0 && --d->sessions == 0) d->idle_since_ms = md_now_ms();
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
}

/* Is process `pid` stopped (state T or t in /proc/PID/stat)? */
static int process_stopped(pid_t pid) {
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    const char *paren = strrchr(buf, ')'); /* the command name may hold anything */
    return paren && paren[1] == ' ' && (paren[2] == 'T' || paren[2] == 't');
}

/* Reap exited ducklings; stop idle ones; kill ones that will not stop or
 * that stay stopped. */
static void reap_once(md_pool *p) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (duckling *d = p->list; d; d = d->next) {
            if (d->pid == pid) {
                if (d->state != STOPPING || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    if (WIFSIGNALED(status))
                        fprintf(stderr, "mdserver: %s (pid %d) was killed by signal %d\n", d->name, (int)pid,
                                WTERMSIG(status));
                    else
                        fprintf(stderr, "mdserver: %s (pid %d) exited with status %d\n", d->name, (int)pid,
                                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                }
                unlink_entry(p, d);
                pthread_cond_broadcast(&p->cv);
                break;
            }
        }
    }
    int64_t now = md_now_ms();
    for (duckling *d = p->list; d; d = d->next) {
        if (d->state == LIVE && d->sessions == 0 && p->cfg.idle_timeout_s >= 0 &&
            now - d->idle_since_ms >= (int64_t)p->cfg.idle_timeout_s * 1000) {
            fprintf(stderr, "mdserver: stopping idle %s (pid %d)\n", d->name, (int)d->pid);
            stop_entry(d, now);
        } else if (d->state == STOPPING && now >= d->kill_at_ms && d->pid > 0) {
            kill(d->pid, SIGKILL);
        } else if (d->state == LIVE && d->pid > 0) {
            if (!process_stopped(d->pid)) {
                d->stopped_since_ms = 0;
            } else if (!d->stopped_since_ms) {
                d->stopped_since_ms = now;
            } else if (now - d->stopped_since_ms >= STOPPED_GRACE_MS) {
                fprintf(stderr, "mdserver: %s (pid %d) has been stopped for %d s: killing it\n", d->name,
                        (int)d->pid, STOPPED_GRACE_MS / 1000);
                kill(d->pid, SIGKILL);
                stop_entry(d, now);
            }
        }
    }
}

static void *reaper_main(void *arg) {
    md_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        reap_once(p);
        if (p->closing && !p->list) break;
        struct timespec ts;
        md_deadline_in_ms(&ts, REAP_INTERVAL_MS);
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int md_pool_create(const md_pool_config *cfg, md_pool **out) {
    md_pool *p = md_calloc(1, sizeof *p);
    p->cfg = *cfg;
    p->cfg.data_dir = md_strdup(cfg->data_dir);
    p->cfg.exe_path = md_strdup(cfg->exe_path);
    p->cfg.memory_limit = md_strdup(cfg->memory_limit ? cfg->memory_limit : "");
    if (p->cfg.max_ducklings <= 0) p->cfg.max_ducklings = 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_create(&p->reaper, NULL, reaper_main, p);
    *out = p;
    return MD_OK;
}

void md_pool_destroy(md_pool **pp) {
    md_pool *p = *pp;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    int64_t now = md_now_ms();
    for (duckling *d = p->list; d; d = d->next) stop_entry(d, now);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->reaper, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    md_free((char *)p->cfg.data_dir);
    md_free((char *)p->cfg.exe_path);
    md_free((char *)p->cfg.memory_limit);
    md_free(p);
    *pp = NULL;
}

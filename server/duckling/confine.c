/*
 * confine.c: no_new_privs, Landlock and seccomp for a duckling (confine.h).
 *
 * Landlock through its raw system calls (glibc has no wrappers): a ruleset
 * that handles every file access right of the running kernel's ABI (and TCP
 * bind/connect from ABI 4), one path-beneath rule per allowed place, then
 * landlock_restrict_self.  Rights a file (not a directory) cannot carry are
 * dropped from its rule.  The seccomp filter is classic BPF: check the
 * architecture, then return EPERM for the listed system calls and for
 * socket() of any family but AF_UNIX.
 */
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

/* Rights newer than the kernel headers this is built with. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define NET_BIND_TCP (1ULL << 0)
#define NET_CONNECT_TCP (1ULL << 1)

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_FILE_RIGHTS                                                                                   \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |          \
     LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* The ruleset attribute of ABI 4 and later (the headers may know only ABI 1-3's). */
struct ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
};

static int landlock_abi(void) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

/* Every file right the running kernel's ABI knows. */
static uint64_t fs_rights(int abi) {
    uint64_t r = (1ULL << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
    if (abi >= 2) r |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) r |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5) r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return r;
}

/* Allow `rights` beneath `path` (only file rights when it is a file).  A
 * path that does not exist is skipped; MD_OK or MD_EIO. */
static int allow(int ruleset, const char *path, uint64_t rights, uint64_t handled, char **out_err) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? MD_OK : (*out_err = md_asprintf("cannot open %s: %s", path, strerror(errno)), MD_EIO);
    struct stat st;
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) rights &= FS_FILE_RIGHTS;
    struct landlock_path_beneath_attr rule = {.allowed_access = rights & handled, .parent_fd = fd};
    long rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    int e = errno;
    close(fd);
    if (rc < 0) {
        *out_err = md_asprintf("Landlock refused a rule for %s: %s", path, strerror(e));
        return MD_EIO;
    }
    return MD_OK;
}

static int apply_landlock(const md_confine_paths *p, int abi, char **out_err) {
    uint64_t handled = fs_rights(abi);
    struct ruleset_attr attr = {.handled_access_fs = handled, .handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP};
    size_t size = abi >= 4 ? sizeof attr : sizeof attr.handled_access_fs;
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0) {
        *out_err = md_asprintf("cannot create a Landlock ruleset: %s", strerror(errno));
        return MD_EIO;
    }
    const uint64_t rw = handled & ~(uint64_t)LANDLOCK_ACCESS_FS_EXECUTE;
    const uint64_t ro_exec = FS_READ | LANDLOCK_ACCESS_FS_EXECUTE;
    struct {
        const char *path;
        uint64_t rights;
    } rules[] = {
        {p->user_dir, rw}, {p->scratch_dir, rw},
        {"/usr", ro_exec}, {"/lib", ro_exec},    {"/lib64", ro_exec},
        {"/proc", FS_READ}, {"/sys", FS_READ},   {"/etc/localtime", FS_READ},
        {"/dev/null", FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE}, {"/dev/urandom", FS_READ},
    };
    int rc = MD_OK;
    for (size_t i = 0; i < sizeof rules / sizeof *rules && rc == MD_OK; i++)
        rc = allow(ruleset, rules[i].path, rules[i].rights, handled, out_err);
    if (rc == MD_OK && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
        *out_err = md_asprintf("cannot apply the Landlock ruleset: %s", strerror(errno));
        rc = MD_EIO;
    }
    close(ruleset);
    return rc;
}

/* ---- seccomp ------------------------------------------------------------------- */

#if defined(__x86_64__)
#define AUDIT_ARCH_HERE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_HERE AUDIT_ARCH_AARCH64
#endif

#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

static int apply_seccomp(char **out_err) {
#ifdef AUDIT_ARCH_HERE
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_HERE, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifndef __SANITIZE_ADDRESS__ /* LeakSanitizer stops the process's threads with ptrace at exit */
        DENY(SYS_ptrace),
#endif
        DENY(SYS_process_vm_readv), DENY(SYS_process_vm_writev), DENY(SYS_mount),
        DENY(SYS_umount2), DENY(SYS_pivot_root), DENY(SYS_chroot), DENY(SYS_unshare), DENY(SYS_setns),
        DENY(SYS_keyctl), DENY(SYS_add_key), DENY(SYS_request_key), DENY(SYS_bpf), DENY(SYS_perf_event_open),
        DENY(SYS_kexec_load), DENY(SYS_kexec_file_load), DENY(SYS_init_module), DENY(SYS_finit_module),
        DENY(SYS_delete_module), DENY(SYS_reboot), DENY(SYS_swapon), DENY(SYS_swapoff), DENY(SYS_acct),
        DENY(SYS_settimeofday), DENY(SYS_clock_settime), DENY(SYS_userfaultfd), DENY(SYS_open_by_handle_at),
        DENY(SYS_name_to_handle_at), DENY(SYS_quotactl), DENY(SYS_syslog), DENY(SYS_personality),
        DENY(SYS_fanotify_init), DENY(SYS_io_uring_setup),
        /* socket(domain, ...): AF_UNIX only */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = (unsigned short)(sizeof f / sizeof *f), .filter = f};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
        if (errno == ENOSYS || errno == EINVAL) return MD_OK; /* a kernel without seccomp: said at start */
        *out_err = md_asprintf("cannot install the seccomp filter: %s", strerror(errno));
        return MD_EIO;
    }
#endif
    return MD_OK;
}

/* ---- the view: a mount namespace ----------------------------------------------- */

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A mount namespace of our own (inside a user namespace unless root, mapping
 * our uid and gid to themselves).  0 or -1 with errno. */
static int own_namespace(void) {
    if (geteuid() == 0) return unshare(CLONE_NEWNS);
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return -1;
    char map[64];
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) != 0) return -1;
    if (write_file("/proc/self/setgroups", "deny") != 0 && errno != ENOENT) return -1;
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    return write_file("/proc/self/gid_map", map);
}

int md_confine_enter_view(const char *user, const char *user_dir, const char *scratch_dir, long uid, md_confine_view *out,
                    char **out_err) {
    int root = geteuid() == 0;
    if (root && uid <= 0) {
        *out_err = md_strdup("a query engine does not run as root: the server gives it a uid");
        return MD_EINVAL;
    }
    memset(out, 0, sizeof *out);
    if (own_namespace() != 0) {
        if (root) {
            *out_err = md_asprintf("cannot create a mount namespace: %s", strerror(errno));
            return MD_EIO;
        }
        out->home = md_strdup(user_dir); /* no user namespaces for us: the real paths stay */
        out->tmp = md_strdup(scratch_dir);
        return MD_OK;
    }
    const char *step = NULL;
    char *home = md_asprintf("/home/%s", user);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) step = "make the mounts private";
    else if (mount("tmpfs", "/home", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=755") != 0)
        step = "mount a tmpfs on /home";
    else if (mkdir(home, 0700) != 0) step = "create the home mount point";
    else if (mount(user_dir, home, NULL, MS_BIND | MS_REC, NULL) != 0) step = "bind the user directory";
    else if (mount(scratch_dir, "/tmp", NULL, MS_BIND | MS_REC, NULL) != 0) step = "bind the scratch directory";
    if (!step && root) {
        gid_t gid = (gid_t)uid;
        if (setgroups(0, NULL) != 0) step = "drop supplementary groups";
        else if (setresgid(gid, gid, gid) != 0) step = "change group";
        else if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) step = "change user";
    }
    if (step) {
        *out_err = md_asprintf("cannot %s: %s", step, strerror(errno));
        md_free(home);
        return MD_EIO;
    }
    out->home = home;
    out->tmp = md_strdup("/tmp");
    out->private = 1;
    return MD_OK;
}

void md_confine_view_free(md_confine_view *v) {
    md_free(v->home);
    md_free(v->tmp);
    memset(v, 0, sizeof *v);
}

/* 1 if a child process can make its own view (as a duckling does). */
static int view_possible(void) {
    pid_t pid = fork();
    if (pid == 0) _exit(own_namespace() == 0 ? 0 : 1);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int md_confine_duckling(const md_confine_paths *p, int *out_landlock_abi, char **out_err) {
    struct rlimit no_core = {0, 0}; /* a crash leaves no file of the user's data behind */
    setrlimit(RLIMIT_CORE, &no_core);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        *out_err = md_asprintf("cannot set no_new_privs: %s", strerror(errno));
        return MD_EIO;
    }
    int abi = landlock_abi();
    int rc = abi > 0 ? apply_landlock(p, abi, out_err) : MD_OK;
    if (rc == MD_OK) rc = apply_seccomp(out_err);
    if (rc == MD_OK) *out_landlock_abi = abi;
    return rc;
}

const char *md_confine_describe(long uid_base) {
    static char line[400];
    int abi = landlock_abi();
    int seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
    int n;
    if (abi > 0)
        n = snprintf(line, sizeof line, "query engines are confined by Landlock (ABI %d)%s%s", abi,
                     abi >= 4 ? " with no TCP" : "", seccomp ? " and seccomp" : "; this kernel has no seccomp");
    else
        n = snprintf(line, sizeof line, "this kernel has no Landlock: query engines are confined by DuckDB's checks%s",
                     seccomp ? " and seccomp" : " only (and no seccomp)");
    if (geteuid() == 0)
        snprintf(line + n, sizeof line - (size_t)n, "; they run as uid %ld + the user's id, each in its own view "
                 "of the files", uid_base);
    else if (view_possible())
        snprintf(line + n, sizeof line - (size_t)n, "; each sees its own view of the files");
    else
        snprintf(line + n, sizeof line - (size_t)n, "; no user namespaces here: users see the data directory's "
                 "real paths");
    return line;
}

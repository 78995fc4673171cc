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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "md_alloc.h"
#include "md_error.h"

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

const char *md_confine_describe(void) {
    static char line[200];
    int abi = landlock_abi();
    int seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
    if (abi > 0)
        snprintf(line, sizeof line, "query engines are confined by Landlock (ABI %d)%s%s", abi,
                 abi >= 4 ? " with no TCP" : "", seccomp ? " and seccomp" : "; this kernel has no seccomp");
    else
        snprintf(line, sizeof line, "this kernel has no Landlock: query engines are confined by DuckDB's checks%s",
                 seccomp ? " and seccomp" : " only (and no seccomp)");
    return line;
}

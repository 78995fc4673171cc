/*
 * confine.h: the kernel's confinement of a duckling, on top of DuckDB's own
 * sandbox (allowed_directories, external access off): whatever a DuckDB bug
 * lets a user's SQL do, the process itself can only do this.
 *
 *   no core dumps       a crash leaves no file of the user's data behind
 *   no new privileges   set-uid binaries gain nothing (prctl)
 *   Landlock            files: read and write beneath the user's directory
 *                       and the scratch directory; read-only
 *                       beneath /usr, /lib, /lib64, /proc, /sys; /dev/null,
 *                       /dev/urandom and /etc/localtime; nothing else (not
 *                       /etc/passwd, not /tmp, not another user's directory,
 *                       not the block store, not the metadata file: the
 *                       duckling reaches its snapshots through the server,
 *                       storage/store_remote.h).
 *                       Network (Landlock ABI 4 and later): no TCP bind or
 *                       connect.
 *   seccomp             system calls a query engine has no use for fail with
 *                       EPERM (ptrace, mount, namespaces, keyrings, bpf,
 *                       kernel modules, ...), and so do sockets other than
 *                       Unix ones.
 *
 * Before all that, its own view of the file system (md_confine_enter_view): a
 * private mount namespace in which its user's directory is /home/<user>
 * and its scratch directory is /tmp, so that no path a user can see
 * (settings, duckdb_databases(), error messages) tells where the server
 * keeps its data, and $HOME is that directory.  A server running as root
 * has each duckling drop to an unprivileged uid of its own right after (the
 * server gives it the user's files); a server that is not root makes the
 * namespace inside a user namespace, and where the kernel refuses one the
 * duckling keeps the real paths (the server says so when it starts).
 *
 * Applied by the duckling before it starts DuckDB, while it has one thread:
 * Landlock and seccomp hold for the calling thread and every thread and
 * process it makes afterwards.  Where the kernel lacks Landlock the duckling
 * goes on with DuckDB's checks alone, and the server says so when it
 * starts (md_confine_describe).
 */
#ifndef MD_CONFINE_H
#define MD_CONFINE_H

typedef struct md_confine_paths {
    const char *user_dir;    /* read and write beneath */
    const char *scratch_dir; /* read and write beneath */
} md_confine_paths;

typedef struct md_confine_view {
    char *home;  /* the user's directory as the duckling sees it (md_malloc'd) */
    char *tmp;   /* the scratch directory as it sees it (md_malloc'd) */
    int private; /* 1: in its own mount namespace; 0: the real paths */
} md_confine_view;

/*
 * Give the calling process (the duckling, one thread) its view of the files
 * (see above) of `user`, whose files are user_dir and scratch_dir.  When
 * the process is root it must have uid > 0: it becomes that uid (and gid)
 * once the view is in place.  MD_OK with *out (free with
 * md_confine_view_free); an error with *out_err (caller frees) when a step
 * that must work failed -- the duckling must not go on.
 */
int md_confine_enter_view(const char *user, const char *user_dir, const char *scratch_dir, long uid, md_confine_view *out,
                    char **out_err);

void md_confine_view_free(md_confine_view *v);

/*
 * Confine the calling process (see above).  MD_OK when everything the
 * kernel offers is in place (Landlock may be absent: *out_landlock_abi is
 * then 0); an error with *out_err (caller frees) when a step the kernel
 * offers failed -- the duckling must not go on.
 */
int md_confine_duckling(const md_confine_paths *p, int *out_landlock_abi, char **out_err);

/* One line for the server's start-up: what confinement this kernel gives
 * ducklings, and as whom they run (uid_base: see pool.h; static storage).
 * Probes the namespaces with a short-lived child process. */
const char *md_confine_describe(long uid_base);

#endif

/*
 * cgroup.h: memory and CPU limits the kernel enforces on each duckling
 * (cgroup v2), on top of DuckDB's own memory_limit.
 *
 * Where it works: the server's cgroup (the "0::" line of /proc/self/cgroup)
 * in the cgroup v2 hierarchy (found in /proc/self/mountinfo) offers the
 * memory and cpu controllers and is writable by the server -- a systemd
 * service with Delegate=yes, a container given its own cgroup.  Then:
 *
 *   <cgroup>/server/             the server itself moves here (a cgroup
 *                                that hands controllers to its children may
 *                                hold no process itself)
 *   <cgroup>/cgroup.subtree_control   "+memory +cpu"
 *   <cgroup>/duckling-<user>/    one per running duckling: memory.max,
 *                                memory.swap.max 0, cpu.max; the duckling
 *                                joins it before it execs; removed once the
 *                                duckling exited
 *
 * Anywhere else (cgroup v1 only, controllers not delegated, not writable)
 * md_cgroup_open says why, the server prints it at start, and DuckDB's
 * memory_limit is the only memory bound.  A duckling over memory.max is
 * killed by the kernel; the pool replaces it like any duckling that dies.
 */
#ifndef MD_CGROUP_H
#define MD_CGROUP_H

#include <stdint.h>

typedef struct md_cgroup md_cgroup;

/*
 * Find and prepare the server's cgroup from `mountinfo` and `self_cgroup`
 * (normally /proc/self/mountinfo and /proc/self/cgroup; a test passes its
 * own files).  MD_OK with *out; MD_EUNSUPPORTED with *out_why (caller
 * frees) saying why limits cannot be set here.
 */
int md_cgroup_open(const char *mountinfo, const char *self_cgroup, md_cgroup **out, char **out_why);

void md_cgroup_close(md_cgroup **c);

/*
 * Make (or reset) the cgroup of `user`'s duckling with these limits
 * (memory_max bytes; cpus: how many CPUs' worth of time, 0 for no CPU
 * limit) and open its cgroup.procs for writing: the duckling process joins
 * by writing "0" to *out_fd before it execs (the caller closes the fd).
 * MD_OK, or MD_EIO with *out_err.
 */
int md_cgroup_prepare(md_cgroup *c, const char *user, uint64_t memory_max, int cpus, int *out_fd, char **out_err);

/* Remove `user`'s duckling cgroup (after the duckling exited). */
void md_cgroup_release(md_cgroup *c, const char *user);

/* The directory of the server's cgroup (for messages). */
const char *md_cgroup_path(const md_cgroup *c);

/* The memory.max for a duckling whose DuckDB memory_limit is `limit`
 * bytes: DuckDB's limit covers its buffer manager, not every allocation,
 * so the kernel's bound leaves room: 1.5 x limit + 256 MiB. */
uint64_t md_cgroup_memory_max(uint64_t limit);

/* Bytes in a DuckDB size text ("2410MB", "4GB", "512 MiB", "1.5GB");
 * 0 when it cannot be read. */
uint64_t md_cgroup_parse_size(const char *text);

#endif

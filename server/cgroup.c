/*
 * cgroup.c: per-duckling cgroup v2 limits (cgroup.h says where they apply).
 *
 * Everything is plain file I/O under the server's cgroup directory, so a
 * test can point md_cgroup_open at a directory that looks like one.
 * Interface files are opened without O_CREAT: in cgroupfs a file that does
 * not exist is a controller that is not enabled, which is an error.
 */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

struct md_cgroup {
    char *dir; /* the server's cgroup */
};

/* The first line of `path` (md_malloc'd, no newline), or NULL. */
static char *read_line(const char *path) {
    FILE *f = fopen(path, "re");
    if (!f) return NULL;
    char buf[4096];
    char *line = fgets(buf, sizeof buf, f) ? md_strdup(buf) : NULL;
    fclose(f);
    if (line) line[strcspn(line, "\n")] = 0;
    return line;
}

static int write_text(const char *dir, const char *file, const char *text) {
    char *path = md_asprintf("%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    md_free(path);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The cgroup v2 mount point and its root from mountinfo (md_malloc'd). */
static int find_mount(const char *mountinfo, char **out_point, char **out_root) {
    FILE *f = fopen(mountinfo, "re");
    if (!f) return -1;
    char line[4096];
    int found = -1;
    while (found != 0 && fgets(line, sizeof line, f)) {
        const char *sep = strstr(line, " - ");
        if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0) continue;
        char root[2048], point[2048];
        if (sscanf(line, "%*s %*s %*s %2047s %2047s", root, point) != 2) continue;
        *out_point = md_strdup(point);
        *out_root = md_strdup(root);
        found = 0;
    }
    fclose(f);
    return found;
}

/* 1 if the space-separated `list` holds `word`. */
static int has_word(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) return 1;
    return 0;
}

static int unsupported(char **out_why, char *why) {
    *out_why = why;
    return MD_EUNSUPPORTED;
}

int md_cgroup_open(const char *mountinfo, const char *self_cgroup, md_cgroup **out, char **out_why) {
    char *point = NULL, *root = NULL;
    if (find_mount(mountinfo, &point, &root) != 0)
        return unsupported(out_why, md_strdup("no cgroup v2 hierarchy is mounted"));
    /* our cgroup: the "0::<path>" line */
    char *self = NULL;
    FILE *f = fopen(self_cgroup, "re");
    char line[4096];
    while (f && !self && fgets(line, sizeof line, f))
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = 0;
            self = md_strdup(line + 3);
        }
    if (f) fclose(f);
    if (!self) {
        md_free(point);
        md_free(root);
        return unsupported(out_why, md_strdup("this process is in no cgroup v2 group"));
    }
    size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
    const char *rel = strncmp(self, root, rl) == 0 ? self + rl : self;
    char *dir = md_asprintf("%s%s", point, strcmp(rel, "/") == 0 ? "" : rel);
    md_free(point);
    md_free(root);
    md_free(self);
    char *controllers_path = md_asprintf("%s/cgroup.controllers", dir);
    char *controllers = read_line(controllers_path);
    md_free(controllers_path);
    int rc = MD_OK;
    if (!controllers || !has_word(controllers, "memory") || !has_word(controllers, "cpu"))
        rc = unsupported(out_why, md_asprintf("cgroup v2 group %s offers no memory and cpu controllers (it has: %s)",
                                              dir, controllers && *controllers ? controllers : "none"));
    else if (access(dir, W_OK) != 0)
        rc = unsupported(out_why, md_asprintf("cgroup v2 group %s is not writable by the server", dir));
    md_free(controllers);
    /* move ourselves into a leaf, then hand the controllers to children */
    if (rc == MD_OK) {
        char *leaf = md_asprintf("%s/server", dir), pid[24];
        snprintf(pid, sizeof pid, "%d", (int)getpid());
        if ((mkdir(leaf, 0755) != 0 && errno != EEXIST) || write_text(leaf, "cgroup.procs", pid) != 0 ||
            write_text(dir, "cgroup.subtree_control", "+memory +cpu") != 0)
            rc = unsupported(out_why, md_asprintf("cannot delegate memory and cpu in cgroup v2 group %s: %s "
                                                  "(other processes in it?)", dir, strerror(errno)));
        md_free(leaf);
    }
    if (rc != MD_OK) {
        md_free(dir);
        return rc;
    }
    md_cgroup *c = md_calloc(1, sizeof *c);
    c->dir = dir;
    *out = c;
    return MD_OK;
}

void md_cgroup_close(md_cgroup **pc) {
    if (!pc || !*pc) return;
    md_free((*pc)->dir);
    md_free(*pc);
    *pc = NULL;
}

const char *md_cgroup_path(const md_cgroup *c) { return c->dir; }

int md_cgroup_prepare(md_cgroup *c, const char *user, uint64_t memory_max, int cpus, int *out_fd, char **out_err) {
    char *dir = md_asprintf("%s/duckling-%s", c->dir, user), text[64];
    const char *step = NULL;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) step = "create";
    snprintf(text, sizeof text, "%llu", (unsigned long long)memory_max);
    if (!step && write_text(dir, "memory.max", text) != 0) step = "set memory.max of";
    if (!step) write_text(dir, "memory.swap.max", "0"); /* absent without swap accounting: fine */
    if (cpus > 0) snprintf(text, sizeof text, "%d 100000", cpus * 100000);
    else snprintf(text, sizeof text, "max 100000");
    if (!step && write_text(dir, "cpu.max", text) != 0) step = "set cpu.max of";
    int fd = -1;
    if (!step) {
        char *procs = md_asprintf("%s/cgroup.procs", dir);
        fd = open(procs, O_WRONLY | O_CLOEXEC);
        md_free(procs);
        if (fd < 0) step = "open cgroup.procs of";
    }
    if (step) {
        *out_err = md_asprintf("cannot %s cgroup %s: %s", step, dir, strerror(errno));
        md_free(dir);
        return MD_EIO;
    }
    md_free(dir);
    *out_fd = fd;
    return MD_OK;
}

void md_cgroup_release(md_cgroup *c, const char *user) {
    char *dir = md_asprintf("%s/duckling-%s", c->dir, user);
    rmdir(dir); /* in cgroupfs, the interface files go with it */
    md_free(dir);
}

uint64_t md_cgroup_memory_max(uint64_t limit) { return limit + limit / 2 + (256ULL << 20); }

uint64_t md_cgroup_parse_size(const char *text) {
    char *end;
    double v = strtod(text, &end);
    if (end == text || v < 0) return 0;
    while (*end == ' ') end++;
    static const struct {
        const char *unit;
        double bytes;
    } units[] = {{"", 1},           {"B", 1},          {"KB", 1e3},       {"MB", 1e6},
                 {"GB", 1e9},       {"TB", 1e12},      {"KIB", 1024.0},   {"MIB", 1048576.0},
                 {"GIB", 1073741824.0}, {"TIB", 1099511627776.0}};
    char unit[8] = {0};
    for (size_t i = 0; end[i] && i < sizeof unit - 1; i++) unit[i] = (char)(end[i] >= 'a' && end[i] <= 'z' ? end[i] - 32 : end[i]);
    if (strlen(end) >= sizeof unit) return 0;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(unit, units[i].unit) == 0) return (uint64_t)(v * units[i].bytes);
    return 0;
}

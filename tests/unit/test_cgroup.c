/*
 * test_cgroup.c: server/cgroup.c on a directory laid out like a cgroup v2
 * group (this machine's own cgroup v2 hierarchy offers no memory or cpu
 * controller, so the kernel's side is not exercised here): finding the
 * group from mountinfo and /proc/self/cgroup, refusing where controllers
 * are missing, the leaf the server moves into, each duckling's limits, and
 * the size texts DuckDB takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/cgroup.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

typedef struct fixture {
    char dir[64];
    char *mountinfo, *self, *group;
} fixture;

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return md_strdup(buf);
}

/* <dir>/cg is the hierarchy, mounted with root /; the process sits in
 * /svc.  Controllers as given. */
static fixture *make(const char *controllers) {
    fixture *f = md_calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/md-test-cgroup-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char *cg = md_asprintf("%s/cg", f->dir);
    mkdir(cg, 0755);
    f->group = md_asprintf("%s/svc", cg);
    mkdir(f->group, 0755);
    f->mountinfo = md_asprintf("%s/mountinfo", f->dir);
    char *line = md_asprintf("22 1 0:21 / /proc rw - proc proc rw\n"
                             "41 31 0:38 / %s rw,relatime shared:9 - cgroup2 cgroup2 rw\n", cg);
    put(f->mountinfo, line);
    md_free(line);
    f->self = md_asprintf("%s/self", f->dir);
    put(f->self, "5:memory:/old\n0::/svc\n");
    char *p = md_asprintf("%s/cgroup.controllers", f->group);
    put(p, controllers);
    md_free(p);
    p = md_asprintf("%s/cgroup.subtree_control", f->group);
    put(p, "");
    md_free(p);
    char *leaf = md_asprintf("%s/server", f->group);
    mkdir(leaf, 0755);
    p = md_asprintf("%s/cgroup.procs", leaf);
    put(p, "");
    md_free(p);
    md_free(leaf);
    md_free(cg);
    return f;
}

static void destroy(fixture *f) {
    char *cmd = md_asprintf("rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    md_free(cmd);
    md_free(f->mountinfo);
    md_free(f->self);
    md_free(f->group);
    md_free(f);
}

static void test_a_delegated_group_gets_a_leaf_and_limits(void **state) {
    fixture *f = make("cpuset cpu io memory pids\n");
    md_cgroup *c = NULL;
    char *why = NULL;
    assert_int_equal(md_cgroup_open(f->mountinfo, f->self, &c, &why), MD_OK);
    assert_string_equal(md_cgroup_path(c), f->group);
    char *p = md_asprintf("%s/server/cgroup.procs", f->group), *text = slurp(p);
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    assert_string_equal(text, pid); /* the server moved into its leaf */
    md_free(text);
    md_free(p);
    p = md_asprintf("%s/cgroup.subtree_control", f->group);
    text = slurp(p);
    assert_string_equal(text, "+memory +cpu");
    md_free(text);
    md_free(p);
    /* a duckling's group: the kernel makes its files; here the test does */
    char *d = md_asprintf("%s/duckling-alice", f->group);
    mkdir(d, 0755);
    const char *files[] = {"memory.max", "cpu.max", "cgroup.procs"};
    for (int i = 0; i < 3; i++) {
        char *fp = md_asprintf("%s/%s", d, files[i]);
        put(fp, "");
        md_free(fp);
    }
    int fd = -1;
    char *err = NULL;
    assert_int_equal(md_cgroup_prepare(c, "alice", 3ULL << 30, 2, &fd, &err), MD_OK);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0", 1), 1);
    close(fd);
    p = md_asprintf("%s/memory.max", d);
    text = slurp(p);
    assert_string_equal(text, "3221225472");
    md_free(text);
    md_free(p);
    p = md_asprintf("%s/cpu.max", d);
    text = slurp(p);
    assert_string_equal(text, "200000 100000");
    md_free(text);
    md_free(p);
    /* a controller that is not enabled has no file: an error, not a silent pass */
    char *bob = md_asprintf("%s/duckling-bob", f->group);
    mkdir(bob, 0755);
    assert_int_equal(md_cgroup_prepare(c, "bob", 1 << 30, 0, &fd, &err), MD_EIO);
    assert_non_null(strstr(err, "memory.max"));
    md_free(err);
    md_free(bob);
    md_cgroup_release(c, "alice"); /* a plain directory with files: rmdir fails, harmlessly */
    md_free(d);
    md_cgroup_close(&c);
    assert_null(c);
    destroy(f);
}

static void test_no_memory_controller_says_why(void **state) {
    fixture *f = make("hugetlb\n");
    md_cgroup *c = NULL;
    char *why = NULL;
    assert_int_equal(md_cgroup_open(f->mountinfo, f->self, &c, &why), MD_EUNSUPPORTED);
    assert_null(c);
    assert_non_null(strstr(why, "no memory and cpu controllers"));
    assert_non_null(strstr(why, "hugetlb"));
    md_free(why);
    /* "cpuset" is not "cpu" */
    destroy(f);
    f = make("cpuset memory\n");
    assert_int_equal(md_cgroup_open(f->mountinfo, f->self, &c, &why), MD_EUNSUPPORTED);
    md_free(why);
    destroy(f);
}

static void test_no_cgroup2_mount(void **state) {
    fixture *f = make("cpu memory\n");
    put(f->mountinfo, "22 1 0:21 / /proc rw - proc proc rw\n");
    md_cgroup *c = NULL;
    char *why = NULL;
    assert_int_equal(md_cgroup_open(f->mountinfo, f->self, &c, &why), MD_EUNSUPPORTED);
    assert_string_equal(why, "no cgroup v2 hierarchy is mounted");
    md_free(why);
    destroy(f);
}

static void test_sizes(void **state) {
    assert_int_equal(md_cgroup_parse_size("2410MB"), 2410000000ULL);
    assert_int_equal(md_cgroup_parse_size("4GB"), 4000000000ULL);
    assert_int_equal(md_cgroup_parse_size("512 MiB"), 512ULL << 20);
    assert_int_equal(md_cgroup_parse_size("1.5gb"), 1500000000ULL);
    assert_int_equal(md_cgroup_parse_size("100"), 100);
    assert_int_equal(md_cgroup_parse_size("lots"), 0);
    assert_int_equal(md_cgroup_parse_size("4 parsecs"), 0);
    assert_int_equal(md_cgroup_memory_max(1ULL << 30), (1ULL << 30) + (1ULL << 29) + (256ULL << 20));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_delegated_group_gets_a_leaf_and_limits),
        cmocka_unit_test(test_no_memory_controller_says_why),
        cmocka_unit_test(test_no_cgroup2_mount),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

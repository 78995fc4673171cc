/*
 * wasm_client.c: the pipes to build/slt-wasm's JS host (wasm_client.h).
 * Messages both ways are a u32 little-endian length then that many bytes.
 */
#include "wasm_client.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/frame_io.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

struct slt_wasm {
    pid_t pid;
    int to, from; /* its stdin, its stdout */
};

int slt_wasm_start(const char *host_script, slt_wasm **out, char **out_err) {
    int in[2], outp[2];
    /* close-on-exec: a process the runner starts later (mdserver) must not
     * hold the host's input open, or the host never sees its end */
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(outp, O_CLOEXEC) != 0) {
        *out_err = md_strdup("cannot make pipes for the JS host");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        *out_err = md_strdup("cannot start the JS host");
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* the runner killed: its host ends too */
        dup2(in[0], 0);
        dup2(outp[1], 1);
        close(in[1]);
        close(outp[0]);
        execlp("node", "node", host_script, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    signal(SIGPIPE, SIG_IGN);
    slt_wasm *w = md_calloc(1, sizeof *w);
    w->pid = pid;
    w->to = in[1];
    w->from = outp[0];
    *out = w;
    return 0;
}

/* One length-prefixed message: *out (md_malloc'd, NUL-terminated) of *out_len bytes. */
static int read_message(int fd, uint8_t **out, size_t *out_len) {
    uint8_t n[4];
    if (md_fd_read_all(fd, n, 4) != MD_OK) return -1;
    size_t len = md_get_u32le(n);
    uint8_t *p = md_malloc(len + 1);
    if (len && md_fd_read_all(fd, p, len) != MD_OK) {
        md_free(p);
        return -1;
    }
    p[len] = 0;
    *out = p;
    *out_len = len;
    return 0;
}

int slt_wasm_request(slt_wasm *w, const char *json, char **out_header, uint8_t **out_ipc, size_t *out_len) {
    uint8_t n[4];
    md_set_u32le(n, (uint32_t)strlen(json));
    if (md_fd_write_all(w->to, n, 4) != MD_OK || md_fd_write_all(w->to, json, strlen(json)) != MD_OK) return -1;
    uint8_t *header, *ipc;
    size_t hlen, ilen;
    if (read_message(w->from, &header, &hlen) != 0) return -1;
    if (read_message(w->from, &ipc, &ilen) != 0) {
        md_free(header);
        return -1;
    }
    *out_header = (char *)header;
    if (ilen) {
        *out_ipc = ipc;
        *out_len = ilen;
    } else {
        md_free(ipc);
        *out_ipc = NULL;
        *out_len = 0;
    }
    return 0;
}

void slt_wasm_stop(slt_wasm **pw) {
    if (!pw || !*pw) return;
    slt_wasm *w = *pw;
    close(w->to);
    close(w->from);
    /* every answer is in; a forked child of the runner (not exec'd) may
     * still hold the host's input open, so end it rather than wait for EOF */
    kill(w->pid, SIGTERM);
    waitpid(w->pid, NULL, 0);
    md_free(w);
    *pw = NULL;
}

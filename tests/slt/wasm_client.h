/*
 * wasm_client.h: build/slt-wasm's link to its JS host (tests/slt/wasm_host.mjs
 * says what the host runs and the messages): a Node process on a pair of
 * pipes, one request and one answer at a time.
 */
#ifndef SLT_WASM_CLIENT_H
#define SLT_WASM_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct slt_wasm slt_wasm;

/* Start `node host_script`.  0, or -1 with *out_err (caller frees). */
int slt_wasm_start(const char *host_script, slt_wasm **out, char **out_err);

/*
 * Send the JSON request `json` and read its answer: *out_header (the JSON
 * header, md_malloc'd) and *out_ipc / *out_len (the Arrow IPC stream,
 * md_malloc'd, NULL and 0 for none).  0, or -1 when the host is gone.
 */
int slt_wasm_request(slt_wasm *w, const char *json, char **out_header, uint8_t **out_ipc, size_t *out_len);

/* End the host (closes its pipes, stops it, waits for it); NULLs *w. */
void slt_wasm_stop(slt_wasm **w);

#endif

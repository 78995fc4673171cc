/*
 * fuzz_manifest.c: libFuzzer target for snapshot manifest decoding
 * (server/storage/manifest.c): manifests are read back from the object
 * store, which a damaged disk or a hostile operator may have changed.
 * Invariants checked: a decoded manifest's entry ranges tile the file; a
 * version 2 manifest encodes back to exactly its bytes.
 * fuzz-sources: server/storage/manifest.c server/storage/objstore.c
 * fuzz-libs: -lmbedcrypto
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/storage/manifest.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    md_manifest *m = NULL;
    char *err = NULL;
    if (md_manifest_decode(data, size, &m, &err) != MD_OK) {
        if (!err) abort();
        md_free(err);
        return 0;
    }
    uint64_t next = 0;
    for (uint32_t i = 0; i < m->count; i++) {
        uint64_t off;
        uint32_t len;
        md_manifest_entry_range(m, i, &off, &len);
        if (off != next && !(len == 0 && off == m->file_size)) abort();
        next = off + len;
    }
    if (next != m->file_size && !(m->file_size < m->header_size)) abort();
    if (m->version == 2) {
        uint8_t *enc;
        size_t n;
        md_manifest_encode(m, &enc, &n);
        if (n != size || memcmp(enc, data, n) != 0) abort();
        md_free(enc);
    }
    md_manifest_free(&m);
    return 0;
}

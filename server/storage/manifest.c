/*
 * manifest.c: encoding, decoding and diff of snapshot manifests (the format
 * is the table in manifest.h).
 */
#include "server/storage/manifest.h"

#include <string.h>

#include "shared/md_alloc.h"
#include "shared/md_error.h"

static const uint8_t MAGIC[8] = {'M', 'D', 'S', 'N', 'A', 'P', 0, MD_MANIFEST_VERSION};

void md_manifest_space_of(const char *owner, md_hash *out) {
    static const char domain[] = "mdserver block space v1\n";
    size_t dl = sizeof domain - 1, ol = strlen(owner);
    char *text = md_malloc(dl + ol);
    memcpy(text, domain, dl);
    memcpy(text + dl, owner, ol);
    md_hash_of(text, dl + ol, out);
    md_free(text);
}

size_t md_manifest_block_prefix(const md_manifest *m) { return m->version >= 2 ? MD_HASH_SIZE : 0; }

uint32_t md_manifest_entry_count(uint64_t file_size, uint32_t header_size, uint32_t block_size) {
    if (file_size <= header_size) return 1;
    return (uint32_t)(1 + (file_size - header_size + block_size - 1) / block_size);
}

void md_manifest_entry_range(const md_manifest *m, uint32_t i, uint64_t *out_offset, uint32_t *out_len) {
    uint64_t off, end;
    if (i == 0) {
        off = 0;
        end = m->header_size;
    } else {
        off = m->header_size + (uint64_t)(i - 1) * m->block_size;
        end = off + m->block_size;
    }
    if (end > m->file_size) end = m->file_size;
    if (off > end) off = end;
    *out_offset = off;
    *out_len = (uint32_t)(end - off);
}

md_manifest *md_manifest_new(uint64_t file_size, const md_hash *space) {
    md_manifest *m = md_calloc(1, sizeof *m);
    m->version = MD_MANIFEST_VERSION;
    m->space = *space;
    m->file_size = file_size;
    m->header_size = MD_MANIFEST_HEADER_SIZE;
    m->block_size = MD_MANIFEST_BLOCK_SIZE;
    m->count = md_manifest_entry_count(file_size, m->header_size, m->block_size);
    m->entries = md_calloc(m->count, sizeof *m->entries);
    return m;
}

void md_manifest_free(md_manifest **m) {
    if (!m || !*m) return;
    md_free((*m)->entries);
    md_free(*m);
    *m = NULL;
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

void md_manifest_encode(const md_manifest *m, uint8_t **out, size_t *out_len) {
    size_t len = MD_MANIFEST_PREFIX + (size_t)m->count * MD_HASH_SIZE;
    uint8_t *p = md_malloc(len);
    memcpy(p, MAGIC, sizeof MAGIC);
    put_u64(p + 8, m->file_size);
    put_u32(p + 16, m->header_size);
    put_u32(p + 20, m->block_size);
    put_u32(p + 24, m->count);
    put_u32(p + 28, 0);
    memcpy(p + 32, m->space.b, MD_HASH_SIZE);
    memcpy(p + MD_MANIFEST_PREFIX, m->entries, (size_t)m->count * MD_HASH_SIZE);
    *out = p;
    *out_len = len;
}

static int corrupt(char **out_err, const char *what) {
    if (out_err) *out_err = md_asprintf("bad manifest: %s", what);
    return MD_ECORRUPT;
}

int md_manifest_decode(const uint8_t *data, size_t len, md_manifest **out, char **out_err) {
    if (len < MD_MANIFEST_PREFIX_V1) return corrupt(out_err, "shorter than its 32-byte prefix");
    if (memcmp(data, MAGIC, 7) != 0) return corrupt(out_err, "wrong magic");
    uint8_t version = data[7];
    if (version != 1 && version != 2) return corrupt(out_err, "unknown format version");
    size_t prefix = version == 1 ? MD_MANIFEST_PREFIX_V1 : MD_MANIFEST_PREFIX;
    if (len < prefix) return corrupt(out_err, "shorter than its 64-byte prefix");
    uint64_t file_size = get_u64(data + 8);
    uint32_t header_size = get_u32(data + 16), block_size = get_u32(data + 20);
    uint32_t count = get_u32(data + 24);
    if (header_size == 0 || block_size == 0) return corrupt(out_err, "zero header or block size");
    if (get_u32(data + 28) != 0) return corrupt(out_err, "reserved field is not zero");
    /* in 64 bits: a huge file size must not wrap around to a small count */
    uint64_t rest = file_size > header_size ? file_size - header_size : 0;
    uint64_t want = 1 + rest / block_size + (rest % block_size != 0);
    if (want > UINT32_MAX || count != want) return corrupt(out_err, "entry count does not match the file size");
    if ((len - prefix) / MD_HASH_SIZE != count || (len - prefix) % MD_HASH_SIZE != 0)
        return corrupt(out_err, "length does not match the entry count");
    md_manifest *m = md_calloc(1, sizeof *m);
    m->version = version;
    if (version >= 2) memcpy(m->space.b, data + 32, MD_HASH_SIZE);
    m->file_size = file_size;
    m->header_size = header_size;
    m->block_size = block_size;
    m->count = count;
    m->entries = md_malloc((size_t)count * sizeof *m->entries);
    memcpy(m->entries, data + prefix, (size_t)count * MD_HASH_SIZE);
    *out = m;
    return MD_OK;
}

void md_manifest_diff(const md_manifest *from, const md_manifest *to, uint32_t **out_idx, uint32_t *out_n) {
    uint32_t *idx = NULL, n = 0;
    for (uint32_t i = 0; i < to->count; i++) {
        /* equal hashes mean equal bytes, so equal lengths too */
        int same = from && i < from->count && from->header_size == to->header_size &&
                   from->block_size == to->block_size && md_hash_equal(&from->entries[i], &to->entries[i]);
        if (same) continue;
        if (!idx) idx = md_malloc((size_t)to->count * sizeof *idx);
        idx[n++] = i;
    }
    *out_idx = idx;
    *out_n = n;
}

/*
 * manifest.h: a snapshot's manifest, the list of content-addressed blocks
 * that make up one version of a database file.
 *
 * A DuckDB 1.4 database file is a 12 KiB header (three 4 KiB headers) then
 * 256 KiB blocks.  The manifest cuts the file the same way, so a block
 * DuckDB rewrites is exactly one changed entry: entry 0 is the header
 * region [0, header_size), entry i >= 1 the region
 * [header_size + (i-1)*block_size, ... + block_size), the last one possibly
 * shorter.  Measured: a one-row INSERT plus CHECKPOINT into a 87 MB file
 * changes 3 entries (the header, one data block, one metadata block).
 *
 * Encoding (little-endian), stored as an object named by its own SHA-256:
 *
 *   offset  size   field
 *   0       8      magic "MDSNAP\0\2" (the last byte is the format version)
 *   8       8      file_size     bytes of the database file
 *   16      4      header_size   12288
 *   20      4      block_size    262144
 *   24      4      count         entries = 1 + ceil((file_size - header_size) / block_size),
 *                                or 1 when file_size <= header_size
 *   28      4      reserved      0
 *   32      32     space         the block space of the database's owner (below)
 *   64      32*n   entries       object names of each region's block, in file order
 *
 * Block spaces (version 2): a block is stored as the object space || bytes,
 * so its name is SHA-256(space || bytes) and two users' identical blocks
 * are two objects.  Deduplication stays within one owner's databases, and
 * nothing a user can see (bytes added by a snapshot) says whether another
 * user holds the same bytes.  Version 1 (no space field, entries at 32)
 * named each block by SHA-256(bytes); such manifests are still read, and
 * the next capture of their database stores every block again in its space.
 *
 * Decoding checks the magic, the sizes against each other and the length;
 * anything else is MD_ECORRUPT.
 */
#ifndef MD_MANIFEST_H
#define MD_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "server/storage/objstore.h"

#define MD_MANIFEST_HEADER_SIZE 12288u
#define MD_MANIFEST_BLOCK_SIZE 262144u
#define MD_MANIFEST_VERSION 2
#define MD_MANIFEST_PREFIX_V1 32u
#define MD_MANIFEST_PREFIX 64u

typedef struct md_manifest {
    uint8_t version;  /* 2; 1 when decoded from the old format */
    md_hash space;    /* version 2: the block space (zero in version 1) */
    uint64_t file_size;
    uint32_t header_size;
    uint32_t block_size;
    uint32_t count;
    md_hash *entries; /* count entries, owned */
} md_manifest;

/* The block space of the databases of user `owner`. */
void md_manifest_space_of(const char *owner, md_hash *out);

/* Bytes an entry's object holds before the block itself (the space): 32
 * in version 2, 0 in version 1. */
size_t md_manifest_block_prefix(const md_manifest *m);

/* Number of entries for a file of `file_size` bytes (at least 1). */
uint32_t md_manifest_entry_count(uint64_t file_size, uint32_t header_size, uint32_t block_size);

/* The byte range [*out_offset, *out_offset + *out_len) of entry i (i < count). */
void md_manifest_entry_range(const md_manifest *m, uint32_t i, uint64_t *out_offset, uint32_t *out_len);

/* A version 2 manifest for `file_size` bytes in block space `space`, with
 * zeroed entries (md_malloc'd; free with md_manifest_free). */
md_manifest *md_manifest_new(uint64_t file_size, const md_hash *space);

void md_manifest_free(md_manifest **m);

/* Encode: *out (md_malloc'd, caller frees) of *out_len bytes. */
void md_manifest_encode(const md_manifest *m, uint8_t **out, size_t *out_len);

/* Decode data[0..len).  MD_OK with *out (free with md_manifest_free), or
 * MD_ECORRUPT with *out_err (caller frees) saying what is wrong. */
int md_manifest_decode(const uint8_t *data, size_t len, md_manifest **out, char **out_err);

/*
 * Entries of `to` that differ from `from` (or that `from` lacks): indices in
 * *out_idx (md_malloc'd, caller frees; NULL when none) and their number in
 * *out_n.  `from` may be NULL (every entry differs).
 */
void md_manifest_diff(const md_manifest *from, const md_manifest *to, uint32_t **out_idx, uint32_t *out_n);

#endif

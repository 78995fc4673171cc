/*
 * store_wire.h: the storage link between a duckling and the server.
 *
 * A duckling never opens the block store or the metadata file: each call it
 * makes on md_objstore or md_dbmeta travels over a socketpair (fd 4 of the
 * duckling) to the server, which checks it against the duckling's user and
 * answers (store_service.h serves, store_remote.h calls).  One call is one
 * request and one response, in order; the caller serialises its threads.
 *
 * Message (both directions):
 *   offset  size  field
 *   0       4     n: byte length of the body, u32 little-endian,
 *                 at most MD_STORE_MAX_MESSAGE
 *   4       n     body
 * Request body:  op (u8, MD_STORE_OPS below), then the op's fields.
 * Response body: rc (i64, MD_OK or an MD_E... code), then, when rc is
 *                MD_OK, the op's result fields.
 *
 * Fields, in the order the op lists them (all little-endian):
 *   i64     8 bytes
 *   hash    32 bytes (md_hash)
 *   str     u32 length, the bytes, one NUL (a length of 0xFFFFFFFF: NULL,
 *           no bytes, no NUL)
 *   bytes   u32 length, the bytes
 *   db row  i64 id, str owner, str name, str created_at, str dropped_at,
 *           i64 retention_days, i64 head
 *   snap row  i64 id, i64 db_id, str name, hash manifest, i64 file_size,
 *           i64 bytes_added, str created_at
 *   share row  i64 id, str owner, str name, i64 db_id, str db_name,
 *           str url_id, i64 access, i64 discoverable, i64 automatic,
 *           i64 snapshot, str created_at, str updated_at
 *   pair    str a, str b (a grant: grantee, granted_at; a mount: alias, url)
 *   rows    u32 count, then that many rows (or pairs)
 */
#ifndef MD_STORE_WIRE_H
#define MD_STORE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "server/storage/dbmeta.h"
#include "shared/md_buf.h"

/* The largest body either side accepts: a block, or the manifest of a
 * database of 2 TB (8M entries of 32 bytes). */
#define MD_STORE_MAX_MESSAGE (256u << 20)

/* The duckling's end of the storage link. */
#define MD_DUCKLING_STORE_FD 4

/*   XX(enum suffix,      value)   request fields -> result fields */
#define MD_STORE_OPS(XX)                                                                     \
    XX(OBJ_PUT,             1)  /* bytes data -> hash name, i64 added */                    \
    XX(OBJ_GET,             2)  /* hash name -> bytes data */                               \
    XX(DB_CREATE,           3)  /* str owner, str name, i64 from_snapshot -> i64 id */      \
    XX(DB_GET,              4)  /* str owner, str name -> rows (one db row) */              \
    XX(DB_LIST,             5)  /* str owner -> rows (db rows) */                           \
    XX(DB_LIST_DROPPED,     6)  /* str owner -> rows (db rows) */                           \
    XX(DB_DROP,             7)  /* str owner, str name -> */                                \
    XX(DB_UNDROP,           8)  /* str owner, str name -> */                                \
    XX(DB_SET_RETENTION,    9)  /* i64 db_id, i64 days -> */                                \
    XX(DB_OWNER,           10)  /* i64 db_id -> str owner */                                \
    XX(LEASE_ACQUIRE,      11)  /* i64 db_id, str holder, i64 ttl_ms -> ; str holder with \
                                   rc MD_ELOCKED */                                         \
    XX(LEASE_RENEW,        12)  /* i64 db_id, str holder, i64 ttl_ms -> */                  \
    XX(LEASE_RELEASE,      13)  /* i64 db_id, str holder -> */                              \
    XX(SNAPSHOT_COMMIT,    14)  /* i64 db_id, str holder, i64 expected_head, hash manifest, \
                                   i64 file_size, i64 bytes_added, str name -> i64 id */   \
    XX(SNAPSHOT_MARK,      15)  /* i64 db_id, str name -> i64 id */                         \
    XX(SNAPSHOT_GET,       16)  /* i64 id -> rows (one snap row) */                         \
    XX(SNAPSHOT_AT,        17)  /* i64 db_id, str utc_time -> i64 id */                     \
    XX(SNAPSHOT_LIST,      18)  /* i64 db_id -> rows (snap rows) */                         \
    XX(MANIFEST_OWNED,     19)  /* str owner, hash manifest -> */                           \
    XX(SHARE_CREATE,       20)  /* share row (id, db_name, url_id, times unused),         \
                                   i64 replace -> rows (one share row) */                   \
    XX(SHARE_UPDATE,       21)  /* str owner, str name, i64 snapshot -> */                  \
    XX(SHARE_DROP,         22)  /* str owner, str name -> */                                \
    XX(SHARE_GET,          23)  /* str owner, str name -> rows (one share row) */           \
    XX(SHARE_LIST,         24)  /* str owner -> rows (share rows) */                        \
    XX(SHARE_FIND,         25)  /* str db_name, str url_id -> rows (one share row) */       \
    XX(SHARE_GRANT,        26)  /* i64 share_id, str grantee, i64 grant -> */               \
    XX(SHARE_GRANTS,       27)  /* i64 share_id -> rows (pairs) */                          \
    XX(SHARE_GRANTED,      28)  /* i64 share_id, str grantee -> */                          \
    XX(SHARE_MOUNT,        29)  /* str user, str alias, str url -> */                       \
    XX(SHARE_MOUNTS,       30)  /* str user -> rows (pairs) */                              \
    XX(SECRET_PUT,         31)  /* str user, str name, str type, str scope, str fields,    \
                                   i64 replace -> */                                        \
    XX(SECRET_DROP,        32)  /* str user, str name -> */                                 \
    XX(SECRET_LIST,        33)  /* str user -> rows (5 strs: name, type, scope, shown,     \
                                   created_at) */                                           \
    XX(SECRET_REVEAL,      34)  /* str user -> rows (3 strs: name, type, fields) */        \
    XX(CONN_LIST,          35)  /* -> rows (9 strs: id, user, token_kind, client,           \
                                   session_name, opened_ms, query, query_id,               \
                                   query_started_ms) */                                     \
    XX(CONN_INTERRUPT,     36)  /* str id -> */                                             \
    XX(USER_INFO,          37)  /* -> str user_id, str name, str org, str role */          \
    XX(QUERY_HISTORY,      38)  /* i64 limit -> rows (8 strs: id, user, at_ms, site, ms,   \
                                   rows, sql, error) */

typedef enum md_store_op {
#define MD__STORE_OP_ENUM(name, val) MD_STORE_##name = val,
    MD_STORE_OPS(MD__STORE_OP_ENUM)
#undef MD__STORE_OP_ENUM
} md_store_op;

/* ---- writing a body ----------------------------------------------------------- */

void md_store_put_i64(md_buf *b, int64_t v);
void md_store_put_hash(md_buf *b, const md_hash *h);
void md_store_put_str(md_buf *b, const char *s); /* NULL is encoded as NULL */
void md_store_put_bytes(md_buf *b, const void *p, size_t n);
void md_store_put_db_row(md_buf *b, const md_db_row *r);
void md_store_put_snap_row(md_buf *b, const md_snapshot_row *r);
void md_store_put_share_row(md_buf *b, const md_share_row *r);

/* ---- reading a body ------------------------------------------------------------- */

/* A cursor over a received body.  Every get checks the bytes left; the
 * first field that does not fit sets `bad`, and every later get returns a
 * zero value (0, NULL, a zero hash), so a decoder reads all its fields and
 * checks `bad` once at the end. */
typedef struct md_store_reader {
    const uint8_t *p;
    size_t left;
    int bad;
} md_store_reader;

void md_store_reader_init(md_store_reader *r, const uint8_t *body, size_t len);
uint8_t md_store_get_u8(md_store_reader *r);
uint32_t md_store_get_u32(md_store_reader *r);
int64_t md_store_get_i64(md_store_reader *r);
void md_store_get_hash(md_store_reader *r, md_hash *out);
/* The string inside the body (NUL-terminated there), or NULL. */
const char *md_store_get_str(md_store_reader *r);
/* The bytes inside the body: *out_len of them at the returned pointer. */
const uint8_t *md_store_get_bytes(md_store_reader *r, size_t *out_len);
/* A row whose strings point into the body. */
void md_store_get_db_row(md_store_reader *r, md_db_row *out);
void md_store_get_snap_row(md_store_reader *r, md_snapshot_row *out);
void md_store_get_share_row(md_store_reader *r, md_share_row *out);
/* 1 when every field fitted and no byte is left over. */
int md_store_reader_done(const md_store_reader *r);

/* ---- messages --------------------------------------------------------------------- */

/* Send body b as one message (b is not consumed).  MD_OK or MD_EIO. */
int md_store_send(int fd, const md_buf *b);

/* Receive one message: *out_body (md_malloc'd, caller frees) of *out_len
 * bytes.  MD_OK; MD_EEOF when the peer closed between messages;
 * MD_ETOO_LARGE (a length over MD_STORE_MAX_MESSAGE: the link cannot go on);
 * MD_ENOMEM; MD_EIO. */
int md_store_recv(int fd, uint8_t **out_body, size_t *out_len);

#endif

/*
 * dbmeta_int.h: what the files of the sqlite backend of md_dbmeta share
 * (dbmeta.c: databases, snapshots, leases; dbmeta_shares.c: shares).
 */
#ifndef MD_DBMETA_INT_H
#define MD_DBMETA_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "server/storage/dbmeta.h"

/* The sqlite backend of md_dbmeta. */
typedef struct sq_meta {
    md_dbmeta base;
    sqlite3 *db;
    pthread_mutex_t mu; /* every statement runs under it */
} sq_meta;

/* The tables of dbmeta_shares.c (part of the schema dbmeta.c creates). */
extern const char md__dbmeta_shares_schema[];

/* Now as "YYYY-MM-DD HH:MM:SS.ffffff" UTC. */
void md__dbmeta_now_text(char out[32]);

/* Prepare sql (the caller holds m->mu); NULL after printing sqlite's error. */
sqlite3_stmt *md__dbmeta_prep(sq_meta *m, const char *sql);

/* Run sql without results (the caller holds m->mu): MD_OK or MD_EIO. */
int md__dbmeta_exec(sq_meta *m, const char *sql);

/* The share operations of the ops table (dbmeta.h says what each does). */
int md__dbmeta_share_create(md_dbmeta *m, const md_share_row *def, int replace, md_share_row_cb cb, void *ctx);
int md__dbmeta_share_update(md_dbmeta *m, const char *owner, const char *name, int64_t snapshot);
int md__dbmeta_share_drop(md_dbmeta *m, const char *owner, const char *name);
int md__dbmeta_share_get(md_dbmeta *m, const char *owner, const char *name, md_share_row_cb cb, void *ctx);
int md__dbmeta_share_list(md_dbmeta *m, const char *owner, md_share_row_cb cb, void *ctx);
int md__dbmeta_share_find(md_dbmeta *m, const char *db_name, const char *url_id, md_share_row_cb cb, void *ctx);
int md__dbmeta_share_grant(md_dbmeta *m, int64_t share_id, const char *grantee, int grant);
int md__dbmeta_share_grants(md_dbmeta *m, int64_t share_id, md_pair_cb cb, void *ctx);
int md__dbmeta_share_granted(md_dbmeta *m, int64_t share_id, const char *grantee);
int md__dbmeta_share_mount(md_dbmeta *m, const char *user, const char *alias, const char *url);
int md__dbmeta_share_mounts(md_dbmeta *m, const char *user, md_pair_cb cb, void *ctx);

#endif

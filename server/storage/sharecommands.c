/*
 * sharecommands.c: carrying out the share statements (sharecommands.h).
 * One function per statement.  A share's snapshot is taken after the
 * pending changes of its database are committed (md_databases_flush), so
 * a share made or updated right after a write holds it.
 */
#include "server/storage/sharecommands.h"

#include <stdio.h>
#include <string.h>

#include "server/storage/answer_sql.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"

int md_sharecommand_is(md_dbstmt_kind kind) {
    switch (kind) {
    case MD_DBSTMT_CREATE_SHARE:
    case MD_DBSTMT_UPDATE_SHARE:
    case MD_DBSTMT_DROP_SHARE:
    case MD_DBSTMT_GRANT_SHARE:
    case MD_DBSTMT_REVOKE_SHARE:
    case MD_DBSTMT_LIST_SHARES:
    case MD_DBSTMT_SHOW_GRANTS:
    case MD_DBSTMT_ATTACH_SHARE: return 1;
    default: return 0;
    }
}

static void take_row(void *ctx, const md_share_row *r) { md_share_row_copy(ctx, r); }

/* The owner's share `name` (*out copied: md_share_row_clear). */
static int own_share(md_databases *d, const char *name, md_share_row *out, char **out_err) {
    memset(out, 0, sizeof *out);
    int rc = md_dbmeta_share_get(md_databases_meta(d), md_databases_owner(d), name, take_row, out);
    if (rc == MD_ENOT_FOUND) *out_err = md_asprintf("you have no share named %s (LIST SHARES lists yours)", name);
    else if (rc != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
    return rc;
}

/* The session's current database (malloc'd), or NULL. */
static char *current_database(duckdb_connection c) {
    duckdb_result r;
    char *name = NULL;
    if (duckdb_query(c, "SELECT current_database()", &r) == DuckDBSuccess) {
        char *v = duckdb_value_varchar(&r, 0, 0);
        if (v) name = md_strdup(v);
        duckdb_free(v);
    }
    duckdb_destroy_result(&r);
    return name;
}

/* Commit what database `db` holds back and read its head.  MD_OK with *out_id, *out_head. */
static int flushed_head(md_databases *d, const char *db, int64_t *out_id, int64_t *out_head, char **out_err) {
    int rc = md_databases_lookup(d, db, out_id, out_head);
    if (rc == MD_ENOT_FOUND) {
        *out_err = md_asprintf("database %s is not one of yours: a share is made of one of your databases", db);
        return rc;
    }
    if (rc == MD_OK) rc = md_databases_flush(d, db, out_err);
    if (rc == MD_OK) rc = md_databases_lookup(d, db, out_id, out_head);
    if (rc == MD_OK && *out_head == 0) {
        *out_err = md_asprintf("database %s has no snapshot yet", db);
        rc = MD_ENOT_FOUND;
    }
    return rc;
}

static char *url_answer(const md_share_row *r) {
    char *url = md_share_url(r);
    md_buf b = MD_BUF_INIT;
    md_answer_put(&b, "SELECT ");
    md_answer_text(&b, url);
    md_answer_put(&b, " AS share_url");
    md_free(url);
    return md_answer_finish(&b);
}

static int create_share(md_databases *d, duckdb_connection c, const md_dbstmt *st, char **out_answer,
                        char **out_err) {
    char *db = st->db ? md_strdup(st->db) : current_database(c);
    if (!db) {
        *out_err = md_strdup("CREATE SHARE: name the database with FROM");
        return MD_EINVAL;
    }
    const char *name = st->share ? st->share : db;
    md_share_row def = {0};
    def.owner = md_databases_owner(d);
    def.name = name;
    def.access = st->access >= 0 ? st->access : MD_SHARE_ORGANIZATION;
    def.discoverable = st->discoverable >= 0 ? st->discoverable : def.access != MD_SHARE_UNRESTRICTED;
    def.automatic = st->automatic > 0;
    int rc = MD_OK;
    if (def.access == MD_SHARE_UNRESTRICTED && def.discoverable) {
        *out_err = md_strdup("an UNRESTRICTED share can only be HIDDEN: anyone with its URL may attach it");
        rc = MD_EINVAL;
    }
    md_share_row existing;
    if (rc == MD_OK && !st->or_replace &&
        md_dbmeta_share_get(md_databases_meta(d), def.owner, name, take_row, &existing) == MD_OK) {
        if (st->if_not_exists) *out_answer = url_answer(&existing);
        else {
            *out_err = md_asprintf("you already have a share named %s (CREATE OR REPLACE SHARE gives it a new URL)",
                                   name);
            rc = MD_EEXISTS;
        }
        md_share_row_clear(&existing);
        md_free(db);
        return rc;
    }
    int64_t head = 0;
    if (rc == MD_OK) rc = flushed_head(d, db, &def.db_id, &head, out_err);
    def.snapshot = def.automatic ? 0 : head;
    md_share_row made = {0};
    if (rc == MD_OK) {
        rc = md_dbmeta_share_create(md_databases_meta(d), &def, st->or_replace, take_row, &made);
        if (rc == MD_EINVAL)
            *out_err = md_asprintf("\"%s\" cannot name a share: use 1 to 63 letters, digits or _, not starting with a "
                                   "digit",
                                   name);
        else if (rc == MD_EEXISTS) *out_err = md_asprintf("you already have a share named %s", name);
        else if (rc != MD_OK) *out_err = md_strdup("cannot write the storage metadata");
    }
    if (rc == MD_OK) *out_answer = url_answer(&made);
    md_share_row_clear(&made);
    md_free(db);
    return rc;
}

static int update_share(md_databases *d, const md_dbstmt *st, char **out_answer, char **out_err) {
    md_share_row r;
    int rc = own_share(d, st->share, &r, out_err);
    int64_t id = 0, head = 0;
    if (rc == MD_OK) rc = flushed_head(d, r.db_name, &id, &head, out_err);
    if (rc == MD_OK) rc = md_dbmeta_share_update(md_databases_meta(d), r.owner, r.name, head);
    if (rc == MD_OK) {
        char *status = md_asprintf("share %s now shows snapshot %lld of %s", r.name, (long long)head, r.db_name);
        *out_answer = md_answer_status(r.db_name, head, status);
        md_free(status);
    } else if (!*out_err) {
        *out_err = md_strdup("cannot write the storage metadata");
    }
    md_share_row_clear(&r);
    return rc;
}

static int drop_share(md_databases *d, const md_dbstmt *st, char **out_answer, char **out_err) {
    int rc = md_dbmeta_share_drop(md_databases_meta(d), md_databases_owner(d), st->share);
    if (rc == MD_ENOT_FOUND && st->if_exists) {
        *out_answer = md_answer_status(NULL, 0, "no such share");
        return MD_OK;
    }
    if (rc == MD_ENOT_FOUND) *out_err = md_asprintf("you have no share named %s (LIST SHARES lists yours)", st->share);
    else if (rc != MD_OK) *out_err = md_strdup("cannot write the storage metadata");
    else {
        char *status = md_asprintf("share %s dropped: its URL no longer works", st->share);
        *out_answer = md_answer_status(NULL, 0, status);
        md_free(status);
    }
    return rc;
}

static int grant_share(md_databases *d, const md_dbstmt *st, char **out_answer, char **out_err) {
    int grant = st->kind == MD_DBSTMT_GRANT_SHARE;
    md_share_row r;
    int rc = own_share(d, st->share, &r, out_err);
    md_buf b = MD_BUF_INIT;
    for (size_t i = 0; i < st->nusers && rc == MD_OK; i++) {
        const char *u = st->users[i];
        int one = md_dbmeta_share_grant(md_databases_meta(d), r.id, u, grant);
        const char *status = NULL;
        if (one == MD_OK) status = grant ? "granted READ" : "revoked READ";
        else if (!grant && one == MD_ENOT_FOUND) status = "had no READ to revoke";
        else if (grant && one == MD_EINVAL) {
            *out_err = md_asprintf("there is no user %s on this server", u);
            rc = MD_EINVAL;
        } else {
            *out_err = md_strdup("cannot write the storage metadata");
            rc = one;
        }
        if (!status) break;
        md_answer_put(&b, i ? " UNION ALL SELECT " : "SELECT * FROM (SELECT ");
        md_answer_text(&b, r.name);
        md_answer_put(&b, " AS share_name, ");
        md_answer_text(&b, u);
        md_answer_put(&b, " AS grantee, ");
        md_answer_text(&b, status);
        md_answer_put(&b, " AS status");
    }
    if (rc == MD_OK) {
        md_answer_put(&b, ")");
        *out_answer = md_answer_finish(&b);
    } else {
        md_buf_free(&b);
    }
    if (r.id) md_share_row_clear(&r);
    return rc;
}

/* LIST SHARES: one row per share of the owner. */
typedef struct list_rows {
    md_buf b;
    int n;
} list_rows;

static void list_row(void *ctx, const md_share_row *r) {
    list_rows *l = ctx;
    char *url = md_share_url(r);
    md_answer_put(&l->b, l->n++ ? ", (" : "(");
    md_answer_text(&l->b, r->name);
    md_answer_put(&l->b, ", ");
    md_answer_text(&l->b, url);
    md_answer_put(&l->b, ", ");
    md_answer_text(&l->b, r->db_name);
    md_answer_put(&l->b, ", ");
    md_answer_text(&l->b, md_share_access_word(r->access));
    md_answer_put(&l->b, ", ");
    md_answer_text(&l->b, r->discoverable ? "DISCOVERABLE" : "HIDDEN");
    md_answer_put(&l->b, ", ");
    md_answer_text(&l->b, r->automatic ? "AUTOMATIC" : "MANUAL");
    md_answer_put(&l->b, ", ");
    md_answer_int(&l->b, r->snapshot, 1);
    md_answer_put(&l->b, ", ");
    md_answer_time(&l->b, r->created_at);
    md_answer_put(&l->b, ", ");
    md_answer_time(&l->b, r->updated_at);
    md_answer_put(&l->b, ")");
    md_free(url);
}

static int list_shares(md_databases *d, char **out_answer, char **out_err) {
    list_rows l = {MD_BUF_INIT, 0};
    int rc = md_dbmeta_share_list(md_databases_meta(d), md_databases_owner(d), list_row, &l);
    if (rc != MD_OK) {
        md_buf_free(&l.b);
        *out_err = md_strdup("cannot read the storage metadata");
        return rc;
    }
    static const char *cols = "name, url, source_db_name, access, visibility, \"update\", snapshot_id, created_ts, "
                              "updated_ts";
    md_buf b = MD_BUF_INIT;
    if (l.n) {
        md_answer_put(&b, "SELECT * FROM (VALUES ");
        md_buf_append(&b, l.b.data, l.b.len);
        md_answer_put(&b, ") AS t(");
        md_answer_put(&b, cols);
        md_answer_put(&b, ") ORDER BY name");
    } else {
        md_answer_put(&b, "SELECT NULL::VARCHAR AS name, NULL::VARCHAR AS url, NULL::VARCHAR AS source_db_name, "
                          "NULL::VARCHAR AS access, NULL::VARCHAR AS visibility, NULL::VARCHAR AS \"update\", "
                          "NULL::BIGINT AS snapshot_id, NULL::TIMESTAMP AS created_ts, NULL::TIMESTAMP AS updated_ts "
                          "WHERE false");
    }
    md_buf_free(&l.b);
    *out_answer = md_answer_finish(&b);
    return MD_OK;
}

/* SHOW GRANTS ON SHARE: one row per grantee. */
typedef struct grant_rows {
    md_buf b;
    int n;
    const char *owner;
} grant_rows;

static void grant_row(void *ctx, const char *grantee, const char *granted_at) {
    grant_rows *g = ctx;
    md_answer_put(&g->b, g->n++ ? ", (" : "(");
    md_answer_text(&g->b, g->owner);
    md_answer_put(&g->b, ", ");
    md_answer_text(&g->b, grantee);
    md_answer_put(&g->b, ", 'user', 'read', ");
    md_answer_time(&g->b, granted_at);
    md_answer_put(&g->b, ")");
}

static int show_grants(md_databases *d, const md_dbstmt *st, char **out_answer, char **out_err) {
    md_share_row r;
    int rc = own_share(d, st->share, &r, out_err);
    if (rc != MD_OK) return rc;
    grant_rows g = {MD_BUF_INIT, 0, r.owner};
    rc = md_dbmeta_share_grants(md_databases_meta(d), r.id, grant_row, &g);
    md_buf b = MD_BUF_INIT;
    if (rc != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
    else if (g.n) {
        md_answer_put(&b, "SELECT * FROM (VALUES ");
        md_buf_append(&b, g.b.data, g.b.len);
        md_answer_put(&b, ") AS t(share_owner, grantee_name, grantee_type, privilege, granted_at) ORDER BY "
                          "grantee_name");
    } else {
        md_answer_put(&b, "SELECT NULL::VARCHAR AS share_owner, NULL::VARCHAR AS grantee_name, NULL::VARCHAR AS "
                          "grantee_type, NULL::VARCHAR AS privilege, NULL::TIMESTAMP AS granted_at WHERE false");
    }
    md_buf_free(&g.b);
    if (rc == MD_OK) *out_answer = md_answer_finish(&b);
    else md_buf_free(&b);
    md_share_row_clear(&r);
    return rc;
}

static int attach_share(md_databases *d, const md_dbstmt *st, char **out_answer, char **out_err) {
    const char *alias = st->alias ? st->alias : st->db;
    if (st->if_not_exists && md_databases_is_attached(d, alias)) {
        *out_answer = md_answer_status(alias, 0, "already attached");
        return MD_OK;
    }
    char *share = NULL;
    int rc = md_databases_attach_share(d, st->db, st->url_id, st->alias, &share, out_err);
    if (rc == MD_OK) {
        char *status = md_asprintf("attached share %s as %s, read-only", share ? share : st->db, alias);
        *out_answer = md_answer_status(alias, 0, status);
        md_free(status);
    }
    md_free(share);
    return rc;
}

int md_sharecommand_run(md_databases *d, duckdb_connection c, const md_dbstmt *st, char **out_answer,
                        char **out_err) {
    *out_answer = NULL;
    switch (st->kind) {
    case MD_DBSTMT_CREATE_SHARE: return create_share(d, c, st, out_answer, out_err);
    case MD_DBSTMT_UPDATE_SHARE: return update_share(d, st, out_answer, out_err);
    case MD_DBSTMT_DROP_SHARE: return drop_share(d, st, out_answer, out_err);
    case MD_DBSTMT_GRANT_SHARE:
    case MD_DBSTMT_REVOKE_SHARE: return grant_share(d, st, out_answer, out_err);
    case MD_DBSTMT_LIST_SHARES: return list_shares(d, out_answer, out_err);
    case MD_DBSTMT_SHOW_GRANTS: return show_grants(d, st, out_answer, out_err);
    case MD_DBSTMT_ATTACH_SHARE: return attach_share(d, st, out_answer, out_err);
    default: break;
    }
    *out_err = md_strdup("not a share statement");
    return MD_EINVAL;
}

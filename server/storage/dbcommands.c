/*
 * dbcommands.c: carrying out the server's database statements
 * (dbcommands.h).  Each statement is one function; answers are built as
 * SELECTs of typed literals, so DuckDB gives them their schema.
 */
#include "server/storage/dbcommands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/storage/answer_sql.h"
#include "server/storage/sharecommands.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

/* ---- snapshot references --------------------------------------------------------- */

typedef struct snap_owner {
    int64_t db_id;
} snap_owner;

static void on_snapshot(void *ctx, const md_snapshot_row *row) { ((snap_owner *)ctx)->db_id = row->db_id; }

/* The snapshot of database `name` an (SNAPSHOT n | SNAPSHOT_TIME 'ts')
 * option names, or its head when there is none.  MD_OK with *out_id. */
static int resolve_snapshot(md_databases *d, duckdb_connection c, const char *name, const md_dbstmt *st,
                            int64_t *out_id, char **out_err) {
    int64_t db_id, head;
    int rc = md_databases_lookup(d, name, &db_id, &head);
    if (rc != MD_OK) {
        *out_err = md_asprintf("database %s does not exist", name);
        return rc;
    }
    if (st->snapshot) {
        snap_owner o = {0};
        rc = md_dbmeta_snapshot_get(md_databases_meta(d), st->snapshot, on_snapshot, &o);
        if (rc == MD_OK && o.db_id != db_id && st->snapshot != head) rc = MD_ENOT_FOUND;
        if (rc != MD_OK) {
            *out_err = md_asprintf("database %s has no snapshot %lld (FROM md_snapshots('%s') lists them)", name,
                                   (long long)st->snapshot, name);
            return MD_ENOT_FOUND;
        }
        *out_id = st->snapshot;
        return MD_OK;
    }
    if (st->snapshot_time) {
        /* DuckDB reads the timestamp (any form it accepts; UTC unless it
         * says otherwise) and writes it the way the metadata stores times */
        duckdb_prepared_statement p = NULL;
        duckdb_result r;
        char *utc = NULL;
        if (duckdb_prepare(c, "SELECT strftime(CAST($1 AS TIMESTAMPTZ), '%Y-%m-%d %H:%M:%S.%f')", &p) ==
                DuckDBSuccess &&
            duckdb_bind_varchar(p, 1, st->snapshot_time) == DuckDBSuccess) {
            if (duckdb_execute_prepared(p, &r) == DuckDBSuccess) {
                char *v = duckdb_value_varchar(&r, 0, 0);
                if (v) utc = md_strdup(v);
                duckdb_free(v);
            }
            duckdb_destroy_result(&r);
        }
        duckdb_destroy_prepare(&p);
        if (!utc) {
            *out_err = md_asprintf("SNAPSHOT_TIME '%s' is not a timestamp", st->snapshot_time);
            return MD_EINVAL;
        }
        rc = md_dbmeta_snapshot_at(md_databases_meta(d), db_id, utc, out_id);
        if (rc == MD_ENOT_FOUND)
            *out_err = md_asprintf("database %s has no snapshot at or before %s UTC", name, utc);
        else if (rc != MD_OK) *out_err = md_strdup("cannot read the storage metadata");
        md_free(utc);
        return rc;
    }
    if (head == 0) {
        *out_err = md_asprintf("database %s has no snapshot yet", name);
        return MD_ENOT_FOUND;
    }
    *out_id = head;
    return MD_OK;
}

/* ---- statements ------------------------------------------------------------------ */

static int create_database(md_databases *d, duckdb_connection c, const md_dbstmt *st, char **out_answer,
                           char **out_err) {
    int64_t id, head;
    if (md_databases_lookup(d, st->db, &id, &head) == MD_OK && st->if_not_exists) {
        *out_answer = md_answer_status(st->db, head, "already exists");
        return MD_OK;
    }
    int64_t from = 0;
    if (st->from) {
        int rc = st->snapshot || st->snapshot_time ? MD_OK : md_databases_flush(d, st->from, out_err);
        if (rc == MD_OK) rc = resolve_snapshot(d, c, st->from, st, &from, out_err);
        if (rc != MD_OK) return rc;
    }
    int attached = 0;
    int rc = md_databases_create(d, st->db, from, &attached, out_err);
    if (rc != MD_OK) return rc;
    char *status = from ? md_asprintf("created and attached: a zero-copy clone of %s at snapshot %lld", st->from,
                                      (long long)from)
                        : md_strdup("created and attached");
    *out_answer = md_answer_status(st->db, from, status);
    md_free(status);
    return MD_OK;
}

static int attach(md_databases *d, duckdb_connection c, const md_dbstmt *st, char **out_answer, char **out_err) {
    if (!st->db) {
        int n = 0;
        int rc = md_databases_attach_all(d, &n, out_err);
        if (rc != MD_OK) return rc;
        char *status = md_asprintf("attached %d more database%s", n, n == 1 ? "" : "s");
        *out_answer = md_answer_status("md:", 0, status);
        md_free(status);
        return MD_OK;
    }
    const char *alias = st->alias ? st->alias : st->db;
    /* workspace mode: every database is attached under its name already, so
     * a plain ATTACH 'md:db' of it is answered as IF NOT EXISTS would be */
    int plain = !st->alias && !st->snapshot && !st->snapshot_time && !st->read_only;
    if ((st->if_not_exists || plain) && md_databases_is_attached(d, alias)) {
        *out_answer = md_answer_status(st->db, 0, "already attached");
        return MD_OK;
    }
    int64_t snapshot = 0;
    if (st->snapshot || st->snapshot_time) {
        int rc = resolve_snapshot(d, c, st->db, st, &snapshot, out_err);
        if (rc != MD_OK) return rc;
    }
    int locked = 0;
    md_snapcache_stats cs = {0, 0, 0};
    int rc = md_databases_attach(d, st->db, st->alias, snapshot, st->read_only, &locked, &cs, out_err);
    if (rc != MD_OK) return rc;
    int64_t id = 0, head = 0;
    md_databases_lookup(d, st->db, &id, &head);
    char *status;
    if (snapshot)
        status = md_asprintf("attached snapshot %lld as %s, read-only (%s)", (long long)snapshot, alias,
                             cs.warm ? "cached" : cs.copied ? "patched a cached neighbour" : "built from the store");
    else if (locked)
        status = md_asprintf("attached as %s read-only at snapshot %lld: another process writes it", alias,
                             (long long)head);
    else if (st->read_only)
        status = md_asprintf("attached as %s read-only at snapshot %lld", alias, (long long)head);
    else status = md_asprintf("attached as %s", alias);
    *out_answer = md_answer_status(st->db, snapshot ? snapshot : head, status);
    md_free(status);
    return MD_OK;
}

/* SHOW [ALL] DATABASES: rows gathered from the registry and the metadata. */
typedef struct show {
    md_buf rows;
    int nrows;
    md_buf aliases; /* 'a', 'b' of the attachments, for the file rows */
} show;

static void show_row(show *s, const char *name, const char *alias, const char *mode, int64_t snapshot,
                     int retention, const char *created, const char *dropped) {
    md_buf *b = &s->rows;
    md_answer_put(b, s->nrows++ ? ", (" : "(");
    md_answer_text(b, name);
    md_answer_put(b, ", ");
    md_answer_text(b, alias);
    md_answer_put(b, ", ");
    md_answer_text(b, mode);
    md_answer_put(b, ", ");
    md_answer_int(b, snapshot, 1);
    md_answer_put(b, ", ");
    if (retention >= 0) {
        char n[24];
        snprintf(n, sizeof n, "%d", retention);
        md_answer_put(b, n);
    } else {
        md_answer_put(b, "NULL");
    }
    md_answer_put(b, "::INTEGER, ");
    md_answer_time(b, created);
    md_answer_put(b, ", ");
    md_answer_time(b, dropped);
    md_answer_put(b, ")");
}

typedef struct attached_list {
    md_attachment_info *v;
    char **strs; /* copies of the strings of v */
    size_t n;
} attached_list;

static void on_attachment(void *ctx, const md_attachment_info *a) {
    attached_list *l = ctx;
    l->v = md_realloc(l->v, (l->n + 1) * sizeof *l->v);
    l->strs = md_realloc(l->strs, (l->n + 1) * 5 * sizeof *l->strs);
    md_attachment_info c = *a;
    char **s = &l->strs[l->n * 5];
    s[0] = md_strdup(a->alias);
    s[1] = md_strdup(a->name);
    s[2] = a->locked_by ? md_strdup(a->locked_by) : NULL;
    s[3] = a->share ? md_strdup(a->share) : NULL;
    s[4] = a->share_owner ? md_strdup(a->share_owner) : NULL;
    c.alias = s[0];
    c.name = s[1];
    c.locked_by = s[2];
    c.share = s[3];
    c.share_owner = s[4];
    l->v[l->n++] = c;
}

typedef struct db_rows {
    show *s;
    attached_list *att;
    int dropped;
} db_rows;

static void on_db_row(void *ctx, const md_db_row *row) {
    db_rows *r = ctx;
    int shown = 0;
    for (size_t i = 0; i < r->att->n && !r->dropped; i++) {
        const md_attachment_info *a = &r->att->v[i];
        if (a->db_id != row->id || a->share) continue;
        const char *mode = a->mode == MD_ATTACH_WRITER ? "read_write"
                           : a->locked_by              ? "locked"
                           : a->follows_head           ? "read_only"
                                                       : "snapshot";
        show_row(r->s, row->name, a->alias, mode, a->snapshot, row->retention_days, row->created_at, NULL);
        shown = 1;
    }
    if (!shown)
        show_row(r->s, row->name, NULL, r->dropped ? "dropped" : "not attached", row->head, row->retention_days,
                 row->created_at, row->dropped_at);
}

static int show_databases(md_databases *d, const md_dbstmt *st, char **out_answer, char **out_err) {
    show s = {MD_BUF_INIT, 0, MD_BUF_INIT};
    attached_list att = {NULL, NULL, 0};
    md_databases_each(d, on_attachment, &att);
    db_rows r = {&s, &att, 0};
    int rc = md_dbmeta_db_list(md_databases_meta(d), md_databases_owner(d), on_db_row, &r);
    if (rc == MD_OK && st->all) {
        r.dropped = 1;
        rc = md_dbmeta_db_list_dropped(md_databases_meta(d), md_databases_owner(d), on_db_row, &r);
    }
    md_answer_put(&s.aliases, "'memory', 'md_information_schema'");
    for (size_t i = 0; i < att.n; i++) {
        md_answer_put(&s.aliases, ", ");
        char *lower = md_strdup(att.v[i].alias);
        for (char *p = lower; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        md_answer_text(&s.aliases, lower);
        md_free(lower);
    }
    for (size_t i = 0; i < att.n; i++) /* shares of other users: no row of the owner's names them */
        if (att.v[i].share) show_row(&s, att.v[i].name, att.v[i].alias, "share", att.v[i].snapshot, -1, NULL, NULL);
    for (size_t i = 0; i < att.n * 5; i++) md_free(att.strs[i]);
    md_free(att.strs);
    md_free(att.v);
    if (rc != MD_OK) {
        md_buf_free(&s.rows);
        md_buf_free(&s.aliases);
        *out_err = md_strdup("cannot read the storage metadata");
        return rc;
    }
    md_buf b = MD_BUF_INIT;
    md_answer_put(&b, "SELECT * FROM (");
    if (s.nrows) {
        md_answer_put(&b, "SELECT * FROM (VALUES ");
        md_buf_append(&b, s.rows.data, s.rows.len);
        md_answer_put(&b, ") AS t(database_name, alias, mode, snapshot_id, retention_days, created_at, dropped_at) ");
    } else {
        md_answer_put(&b, "SELECT NULL::VARCHAR AS database_name, NULL::VARCHAR AS alias, NULL::VARCHAR AS mode, "
                "NULL::BIGINT AS snapshot_id, NULL::INTEGER AS retention_days, NULL::TIMESTAMP AS created_at, "
                "NULL::TIMESTAMP AS dropped_at WHERE false ");
    }
    md_answer_put(&b, "UNION ALL SELECT database_name, database_name, CASE WHEN readonly THEN 'file (read-only)' ELSE 'file' "
            "END, NULL, NULL, NULL, NULL FROM duckdb_databases() WHERE NOT internal AND lower(database_name) NOT IN (");
    md_buf_append(&b, s.aliases.data, s.aliases.len);
    md_answer_put(&b, ")) ORDER BY database_name, alias NULLS LAST");
    md_buf_free(&s.rows);
    md_buf_free(&s.aliases);
    *out_answer = md_answer_finish(&b);
    return MD_OK;
}

int md_dbcommand_run(md_databases *d, duckdb_connection c, const md_dbstmt *st, char **out_answer, char **out_err) {
    *out_answer = NULL;
    int rc = MD_OK;
    int64_t id = 0, head = 0;
    char *status = NULL;
    if (md_sharecommand_is(st->kind)) return md_sharecommand_run(d, c, st, out_answer, out_err);
    switch (st->kind) {
    case MD_DBSTMT_NONE:
    case MD_DBSTMT_SET_TIMEOUT: /* the session's, not a database's: the duckling keeps it */
        *out_err = md_strdup("not a database statement");
        return MD_EINVAL;
    case MD_DBSTMT_CREATE_DATABASE:
        return create_database(d, c, st, out_answer, out_err);
    case MD_DBSTMT_DROP_DATABASE:
        if (st->if_exists && md_databases_lookup(d, st->db, &id, &head) == MD_ENOT_FOUND) {
            *out_answer = md_answer_status(st->db, 0, "does not exist");
            return MD_OK;
        }
        rc = md_databases_drop(d, c, st->db, out_err);
        if (rc == MD_OK) *out_answer = md_answer_status(st->db, 0, "dropped (UNDROP DATABASE brings it back within its "
                                                             "retention)");
        return rc;
    case MD_DBSTMT_UNDROP_DATABASE:
        rc = md_databases_undrop(d, st->db, out_err);
        if (rc == MD_OK) md_databases_lookup(d, st->db, &id, &head);
        if (rc == MD_OK) *out_answer = md_answer_status(st->db, head, "undropped and attached");
        return rc;
    case MD_DBSTMT_ALTER_DATABASE:
        rc = md_databases_lookup(d, st->db, &id, &head);
        if (rc == MD_ENOT_FOUND) *out_err = md_asprintf("database %s does not exist", st->db);
        if (rc == MD_OK) rc = md_dbmeta_db_set_retention(md_databases_meta(d), id, st->retention_days);
        if (rc != MD_OK && !*out_err) *out_err = md_strdup("cannot write the storage metadata");
        if (rc == MD_OK) {
            status = md_asprintf("snapshot retention set to %d days", st->retention_days);
            *out_answer = md_answer_status(st->db, 0, status);
        }
        md_free(status);
        return rc;
    case MD_DBSTMT_CREATE_SNAPSHOT:
        rc = md_databases_snapshot(d, st->db, st->snapshot_name, &id, out_err);
        if (rc == MD_OK) {
            status = st->snapshot_name ? md_asprintf("created snapshot %s", st->snapshot_name)
                                       : md_strdup("created snapshot");
            *out_answer = md_answer_status(st->db, id, status);
        }
        md_free(status);
        return rc;
    case MD_DBSTMT_ATTACH:
        return attach(d, c, st, out_answer, out_err);
    case MD_DBSTMT_DETACH:
        rc = md_databases_detach(d, c, st->db, out_err);
        if (rc == MD_ENOT_FOUND) return MD_OK; /* not an md: attachment: DuckDB runs it */
        if (rc == MD_OK) *out_answer = md_answer_status(st->db, 0, "detached");
        return rc;
    case MD_DBSTMT_SHOW_DATABASES:
        return show_databases(d, st, out_answer, out_err);
    case MD_DBSTMT_ATTACH_FILE:
    case MD_DBSTMT_ALTER_OTHER: {
        const char *name = st->kind == MD_DBSTMT_ATTACH_FILE ? st->alias : st->db;
        if (!md_databases_is_attached(d, name)) return MD_OK; /* DuckDB's business */
        *out_err = md_asprintf(st->kind == MD_DBSTMT_ATTACH_FILE
                                   ? "%s is an md: database: DETACH it before attaching a file under its name"
                                   : "%s is an md: database: ALTER DATABASE only sets its SNAPSHOT_RETENTION_DAYS",
                               name);
        return MD_EUNSUPPORTED;
    }
    default: break;
    case MD_DBSTMT_REFRESH: {
        int moved = 0;
        rc = md_databases_refresh(d, st->db, &moved, out_err);
        if (rc == MD_OK) {
            if (st->db) md_databases_lookup(d, st->db, &id, &head);
            status = md_asprintf("%d reader%s moved to the newest snapshot", moved, moved == 1 ? "" : "s");
            *out_answer = md_answer_status(st->db ? st->db : "md:", st->db ? head : 0, status);
        }
        md_free(status);
        return rc;
    }
    }
    return MD_EINVAL;
}

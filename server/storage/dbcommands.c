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

#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"

/* ---- answers ------------------------------------------------------------------ */

static void put(md_buf *b, const char *s) { md_buf_append(b, s, strlen(s)); }

/* 'text'::VARCHAR or NULL::VARCHAR */
static void put_text(md_buf *b, const char *s) {
    if (!s) {
        put(b, "NULL::VARCHAR");
        return;
    }
    md_buf_put_quoted(b, s, '\'');
    put(b, "::VARCHAR");
}

static void put_int(md_buf *b, int64_t v, int null_if_zero) {
    char n[40];
    if (null_if_zero && v == 0) snprintf(n, sizeof n, "NULL::BIGINT");
    else snprintf(n, sizeof n, "%lld::BIGINT", (long long)v);
    put(b, n);
}

static void put_time(md_buf *b, const char *t) {
    if (!t) put(b, "NULL::TIMESTAMP");
    else {
        put_text(b, t);
        put(b, "::TIMESTAMP");
    }
}

static char *finish(md_buf *b) {
    md_buf_put_u8(b, 0);
    size_t n;
    return (char *)md_buf_detach(b, &n);
}

/* The one-row answer: database_name, snapshot_id, status. */
static char *status_row(const char *db, int64_t snapshot, const char *status) {
    md_buf b = MD_BUF_INIT;
    put(&b, "SELECT ");
    put_text(&b, db);
    put(&b, " AS database_name, ");
    put_int(&b, snapshot, 1);
    put(&b, " AS snapshot_id, ");
    put_text(&b, status);
    put(&b, " AS status");
    return finish(&b);
}

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
        *out_answer = status_row(st->db, head, "already exists");
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
    char *status = from ? md_asprintf("created: a zero-copy clone of %s at snapshot %lld (ATTACH 'md:%s' opens it)",
                                      st->from, (long long)from, st->db)
                        : md_strdup("created and attached");
    *out_answer = status_row(st->db, from, status);
    md_free(status);
    return MD_OK;
}

static int attach(md_databases *d, duckdb_connection c, const md_dbstmt *st, char **out_answer, char **out_err) {
    if (!st->db) {
        int n = 0;
        int rc = md_databases_attach_all(d, &n, out_err);
        if (rc != MD_OK) return rc;
        char *status = md_asprintf("attached %d more database%s", n, n == 1 ? "" : "s");
        *out_answer = status_row("md:", 0, status);
        md_free(status);
        return MD_OK;
    }
    const char *alias = st->alias ? st->alias : st->db;
    if (st->if_not_exists && md_databases_is_attached(d, alias)) {
        *out_answer = status_row(st->db, 0, "already attached");
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
    *out_answer = status_row(st->db, snapshot ? snapshot : head, status);
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
    put(b, s->nrows++ ? ", (" : "(");
    put_text(b, name);
    put(b, ", ");
    put_text(b, alias);
    put(b, ", ");
    put_text(b, mode);
    put(b, ", ");
    put_int(b, snapshot, 1);
    put(b, ", ");
    if (retention >= 0) {
        char n[24];
        snprintf(n, sizeof n, "%d", retention);
        put(b, n);
    } else {
        put(b, "NULL");
    }
    put(b, "::INTEGER, ");
    put_time(b, created);
    put(b, ", ");
    put_time(b, dropped);
    put(b, ")");
}

typedef struct attached_list {
    md_attachment_info *v;
    char **strs; /* copies of the strings of v */
    size_t n;
} attached_list;

static void on_attachment(void *ctx, const md_attachment_info *a) {
    attached_list *l = ctx;
    l->v = md_realloc(l->v, (l->n + 1) * sizeof *l->v);
    l->strs = md_realloc(l->strs, (l->n + 1) * 3 * sizeof *l->strs);
    md_attachment_info c = *a;
    char **s = &l->strs[l->n * 3];
    s[0] = md_strdup(a->alias);
    s[1] = md_strdup(a->name);
    s[2] = a->locked_by ? md_strdup(a->locked_by) : NULL;
    c.alias = s[0];
    c.name = s[1];
    c.locked_by = s[2];
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
        if (a->db_id != row->id) continue;
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
    put(&s.aliases, "'memory'");
    for (size_t i = 0; i < att.n; i++) {
        put(&s.aliases, ", ");
        char *lower = md_strdup(att.v[i].alias);
        for (char *p = lower; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        put_text(&s.aliases, lower);
        md_free(lower);
    }
    for (size_t i = 0; i < att.n * 3; i++) md_free(att.strs[i]);
    md_free(att.strs);
    md_free(att.v);
    if (rc != MD_OK) {
        md_buf_free(&s.rows);
        md_buf_free(&s.aliases);
        *out_err = md_strdup("cannot read the storage metadata");
        return rc;
    }
    md_buf b = MD_BUF_INIT;
    put(&b, "SELECT * FROM (");
    if (s.nrows) {
        put(&b, "SELECT * FROM (VALUES ");
        md_buf_append(&b, s.rows.data, s.rows.len);
        put(&b, ") AS t(database_name, alias, mode, snapshot_id, retention_days, created_at, dropped_at) ");
    } else {
        put(&b, "SELECT NULL::VARCHAR AS database_name, NULL::VARCHAR AS alias, NULL::VARCHAR AS mode, "
                "NULL::BIGINT AS snapshot_id, NULL::INTEGER AS retention_days, NULL::TIMESTAMP AS created_at, "
                "NULL::TIMESTAMP AS dropped_at WHERE false ");
    }
    put(&b, "UNION ALL SELECT database_name, database_name, CASE WHEN readonly THEN 'file (read-only)' ELSE 'file' "
            "END, NULL, NULL, NULL, NULL FROM duckdb_databases() WHERE NOT internal AND lower(database_name) NOT IN (");
    md_buf_append(&b, s.aliases.data, s.aliases.len);
    put(&b, ")) ORDER BY database_name, alias NULLS LAST");
    md_buf_free(&s.rows);
    md_buf_free(&s.aliases);
    *out_answer = finish(&b);
    return MD_OK;
}

int md_dbcommand_run(md_databases *d, duckdb_connection c, const md_dbstmt *st, char **out_answer, char **out_err) {
    *out_answer = NULL;
    int rc = MD_OK;
    int64_t id = 0, head = 0;
    char *status = NULL;
    switch (st->kind) {
    case MD_DBSTMT_NONE:
    case MD_DBSTMT_SET_TIMEOUT: /* the session's, not a database's: the duckling keeps it */
        *out_err = md_strdup("not a database statement");
        return MD_EINVAL;
    case MD_DBSTMT_CREATE_DATABASE:
        return create_database(d, c, st, out_answer, out_err);
    case MD_DBSTMT_DROP_DATABASE:
        if (st->if_exists && md_databases_lookup(d, st->db, &id, &head) == MD_ENOT_FOUND) {
            *out_answer = status_row(st->db, 0, "does not exist");
            return MD_OK;
        }
        rc = md_databases_drop(d, c, st->db, out_err);
        if (rc == MD_OK) *out_answer = status_row(st->db, 0, "dropped (UNDROP DATABASE brings it back within its "
                                                             "retention)");
        return rc;
    case MD_DBSTMT_UNDROP_DATABASE:
        rc = md_databases_undrop(d, st->db, out_err);
        if (rc == MD_OK) md_databases_lookup(d, st->db, &id, &head);
        if (rc == MD_OK) *out_answer = status_row(st->db, head, "undropped and attached");
        return rc;
    case MD_DBSTMT_ALTER_DATABASE:
        rc = md_databases_lookup(d, st->db, &id, &head);
        if (rc == MD_ENOT_FOUND) *out_err = md_asprintf("database %s does not exist", st->db);
        if (rc == MD_OK) rc = md_dbmeta_db_set_retention(md_databases_meta(d), id, st->retention_days);
        if (rc != MD_OK && !*out_err) *out_err = md_strdup("cannot write the storage metadata");
        if (rc == MD_OK) {
            status = md_asprintf("snapshot retention set to %d days", st->retention_days);
            *out_answer = status_row(st->db, 0, status);
        }
        md_free(status);
        return rc;
    case MD_DBSTMT_CREATE_SNAPSHOT:
        rc = md_databases_snapshot(d, st->db, st->snapshot_name, &id, out_err);
        if (rc == MD_OK) {
            status = st->snapshot_name ? md_asprintf("created snapshot %s", st->snapshot_name)
                                       : md_strdup("created snapshot");
            *out_answer = status_row(st->db, id, status);
        }
        md_free(status);
        return rc;
    case MD_DBSTMT_ATTACH:
        return attach(d, c, st, out_answer, out_err);
    case MD_DBSTMT_DETACH:
        rc = md_databases_detach(d, c, st->db, out_err);
        if (rc == MD_ENOT_FOUND) return MD_OK; /* not an md: attachment: DuckDB runs it */
        if (rc == MD_OK) *out_answer = status_row(st->db, 0, "detached");
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
    case MD_DBSTMT_REFRESH: {
        int moved = 0;
        rc = md_databases_refresh(d, st->db, &moved, out_err);
        if (rc == MD_OK) {
            if (st->db) md_databases_lookup(d, st->db, &id, &head);
            status = md_asprintf("%d reader%s moved to the newest snapshot", moved, moved == 1 ? "" : "s");
            *out_answer = status_row(st->db ? st->db : "md:", st->db ? head : 0, status);
        }
        md_free(status);
        return rc;
    }
    }
    return MD_EINVAL;
}

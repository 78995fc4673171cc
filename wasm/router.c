/*
 * router.c: statement routing (see router.h for the rules and the JSON).
 *
 * md_router_route() works on a copy of the session state (rx.st) and, for a
 * dry run, on a copy of the catalog made only when a statement changes it.
 * Each statement: resolve every relation (resolve_*), then decide the route
 * from the statement kind and the sites of its relations (route_stmt), then
 * check the open transaction, then apply the statement's effects on the
 * catalog and the state (apply_effects) so the next statement sees them.
 * At the end the state is kept (or, for a dry run, dropped) as a whole.
 *
 * Strings in md_route_rel and md_route_stmt are copied out of the catalog at
 * once: a later statement of the same script may change the catalog and
 * move its entries.
 */
#include "router.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/session_option.h"

struct md_router {
    md_catalog *cat;
    md_router_state st;
};

const char *md_route_name(md_route route) {
    switch (route) {
#define MD__ROUTE_NAME(name, wire) \
    case MD_ROUTE_##name: return wire;
        MD_ROUTES(MD__ROUTE_NAME)
#undef MD__ROUTE_NAME
    }
    return "";
}

/* What a statement sets: SESSION_OPTION for SET/RESET of a session option
 * on the server's list, SET/RESET VARIABLE and PRAGMA name = value of such
 * an option (run at both sites); SERVER_SETTING for one the server keeps
 * itself (statement_timeout: run there only); NOT_A_SETTING otherwise. */
enum setting_kind { NOT_A_SETTING, SESSION_OPTION, SERVER_SETTING };

static enum setting_kind setting_of(const char *text) {
    md_session_set set;
    md_sql_error ignored;
    if (md_session_pragma_check(text, strlen(text), &ignored) == MD_OK) return SESSION_OPTION; /* PRAGMA disable_optimizer */
    if (md_session_set_read(text, strlen(text), &set, NULL) != MD_OK) return NOT_A_SETTING;
    md_free(set.sql);
    return set.server_setting ? SERVER_SETTING : SESSION_OPTION;
}

static char *dup_or_null(const char *s) { return s ? md_strdup(s) : NULL; }

static void state_free(md_router_state *s) {
    for (int k = 0; k < 3; k++) {
        md_free(s->database[k]);
        md_free(s->schema[k]);
        s->database[k] = s->schema[k] = NULL;
    }
}

static void state_copy(md_router_state *dst, const md_router_state *src) {
    *dst = *src;
    for (int k = 0; k < 3; k++) {
        dst->database[k] = dup_or_null(src->database[k]);
        dst->schema[k] = dup_or_null(src->schema[k]);
    }
}

static void state_set(md_router_state *s, md_site site, const char *db, const char *schema) {
    md_free(s->database[site]);
    md_free(s->schema[site]);
    s->database[site] = md_strdup(db);
    s->schema[site] = md_strdup(schema ? schema : "main");
}

md_router *md_router_create(const char *local_db, const char *remote_db) {
    if (!local_db) local_db = "memory";
    if (!remote_db) remote_db = "my_db";
    md_router *r = md_calloc(1, sizeof *r);
    r->cat = md_catalog_create(local_db, remote_db);
    state_set(&r->st, MD_SITE_LOCAL, local_db, "main");
    state_set(&r->st, MD_SITE_REMOTE, remote_db, "main");
    r->st.active = MD_SITE_REMOTE;
    r->st.transaction = MD_SITE_NONE;
    return r;
}

void md_router_destroy(md_router **r) {
    if (!r || !*r) return;
    md_catalog_destroy(&(*r)->cat);
    state_free(&(*r)->st);
    md_free(*r);
    *r = NULL;
}

md_catalog *md_router_catalog(md_router *r) { return r->cat; }

/* ---- routing context ----------------------------------------------------------- */

typedef struct rx {
    md_router *r;
    md_catalog *cat; /* r->cat, or a clone for a dry run once something changes it */
    int dry, cloned;
    md_router_state st;
} rx;

static md_catalog *writable(rx *x) {
    if (x->dry && !x->cloned) {
        x->cat = md_catalog_clone(x->r->cat);
        x->cloned = 1;
    }
    return x->cat;
}

/* The outcome of resolving one relation; names borrowed from the catalog,
 * the state or the statement, copied into md_route_rel before anything
 * changes. */
typedef struct res {
    md_site site;
    const char *how;
    bool found;
    const char *db, *schema, *table;
    int code; /* MD_OK, or an error with msg */
    char msg[200];
} res;

static void set_res(res *o, md_site site, const char *how, bool found, const char *db, const char *schema,
                    const char *table) {
    o->site = site;
    o->how = how;
    o->found = found;
    o->db = db;
    o->schema = schema;
    o->table = table;
}

/* Set the outcome and leave the resolving function. */
#define RETURN_RES(...)       \
    do {                      \
        set_res(__VA_ARGS__); \
        return;               \
    } while (0)

static void res_error(res *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void res_error(res *o, const char *fmt, ...) {
    o->code = MD_ESQL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->msg, sizeof o->msg, fmt, ap);
    va_end(ap);
}

static const md_cat_table *tbl(const md_cat_db *d, const char *schema, const char *table) {
    return md_catalog_table(md_catalog_schema(d, schema), table);
}

/*
 * The database `name` at either site.  `schema`/`table` (may be NULL) break
 * the tie for "temp", which exists at both sites: the site whose temp holds
 * the table, local first.  Returns 0 and sets o's error when two sites have
 * a database of that name; 1 otherwise, with *out_db NULL when none has.
 */
static int lookup_db(rx *x, const char *name, const char *schema, const char *table, const md_cat_db **out_db,
                     res *o) {
    const md_cat_db *l = md_catalog_db(x->cat, MD_SITE_LOCAL, name);
    const md_cat_db *r = md_catalog_db(x->cat, MD_SITE_REMOTE, name);
    if (l && r) {
        if (strcasecmp(name, "temp") == 0) {
            *out_db = (table && !tbl(l, schema ? schema : "main", table) && tbl(r, schema ? schema : "main", table)) ? r : l;
            return 1;
        }
        res_error(o, "the name %s is used by a database in the browser and by one on the server: detach or rename "
                     "one of them", name);
        return 0;
    }
    *out_db = l ? l : r;
    return 1;
}

static int is_system_schema(const char *s) {
    return strcasecmp(s, "information_schema") == 0 || strcasecmp(s, "pg_catalog") == 0;
}

/* TABLE and OBJECT relations: [db.][schema.]name (router.h has the rules). */
static void resolve_table(rx *x, const md_sql_rel *rel, res *o) {
    md_site A = x->st.active, O = md_site_other(A);
    const char *C = x->st.database[A], *S = x->st.schema[A];
    const char *C2 = x->st.database[O], *S2 = x->st.schema[O];
    const md_cat_db *cdb = md_catalog_db(x->cat, A, C);
    const md_cat_db *odb = C2 ? md_catalog_db(x->cat, O, C2) : NULL;
    bool is_table = rel->type == MD_SQL_REL_TABLE;
    if (rel->nparts == 1) {
        const char *t = rel->parts[0];
        if (rel->effect != MD_SQL_EFFECT_CREATE && is_table) {
            for (md_site s = MD_SITE_LOCAL; s <= MD_SITE_REMOTE; s++) {
                const md_cat_table *tt = tbl(md_catalog_db(x->cat, s, "temp"), "main", t);
                if (tt) RETURN_RES(o, s, "temp", true, "temp", "main", tt->name);
            }
            const md_cat_table *ct = tbl(cdb, S, t);
            if (ct) RETURN_RES(o, A, "current", true, cdb->name, md_catalog_schema(cdb, S)->name, ct->name);
            const md_cat_table *ot = tbl(odb, S2, t);
            if (ot) RETURN_RES(o, O, "fallback", true, odb->name, md_catalog_schema(odb, S2)->name, ot->name);
        }
        RETURN_RES(o, A, rel->effect == MD_SQL_EFFECT_CREATE ? "current" : "default", false, C, S, t);
    }
    const char *q = rel->parts[0];
    const md_cat_db *d;
    if (rel->nparts == 2) {
        const char *t = rel->parts[1];
        if (!lookup_db(x, q, "main", t, &d, o)) return;
        const md_cat_schema *cs = md_catalog_schema(cdb, q);
        if (d) {
            if (cs && strcasecmp(q, "temp") != 0) {
                res_error(o, "ambiguous reference to database or schema \"%s\": write %s.main.%s for the database "
                             "or %s.%s.%s for the schema", q, q, t, C, q, t);
                return;
            }
            const md_cat_table *tt = is_table ? tbl(d, "main", t) : NULL;
            RETURN_RES(o, d->site, "qualified", tt != NULL, d->name, "main", tt ? tt->name : t);
        }
        if (cs) {
            const md_cat_table *tt = is_table ? md_catalog_table(cs, t) : NULL;
            RETURN_RES(o, A, "current", tt != NULL, cdb->name, cs->name, tt ? tt->name : t);
        }
        const md_cat_schema *os = md_catalog_schema(odb, q);
        if (os) {
            const md_cat_table *tt = is_table ? md_catalog_table(os, t) : NULL;
            RETURN_RES(o, O, "fallback", tt != NULL, odb->name, os->name, tt ? tt->name : t);
        }
        if (is_system_schema(q)) RETURN_RES(o, A, "current", true, C, q, t);
        if (rel->effect == MD_SQL_EFFECT_CREATE) /* CREATE x.t with x unknown: DuckDB takes x as a schema of C */
            RETURN_RES(o, A, "default", false, C, q, t);
        RETURN_RES(o, MD_SITE_REMOTE, "unknown_database", false, NULL, NULL, t);
    }
    const char *s = rel->parts[1], *t = rel->parts[2];
    if (!lookup_db(x, q, s, t, &d, o)) return;
    if (!d) RETURN_RES(o, MD_SITE_REMOTE, "unknown_database", false, q, s, t);
    const md_cat_schema *ds = md_catalog_schema(d, s);
    const md_cat_table *tt = is_table ? md_catalog_table(ds, t) : NULL;
    set_res(o, d->site, "qualified", tt != NULL, d->name, ds ? ds->name : s, tt ? tt->name : t);
}

/* SCHEMA relations: CREATE/DROP SCHEMA [db.]s, SHOW TABLES FROM x. */
static void resolve_schema(rx *x, const md_sql_rel *rel, res *o) {
    md_site A = x->st.active, O = md_site_other(A);
    const md_cat_db *cdb = md_catalog_db(x->cat, A, x->st.database[A]);
    const md_cat_db *odb = x->st.database[O] ? md_catalog_db(x->cat, O, x->st.database[O]) : NULL;
    const md_cat_db *d;
    if (rel->nparts == 2) {
        if (!lookup_db(x, rel->parts[0], NULL, NULL, &d, o)) return;
        if (!d) RETURN_RES(o, MD_SITE_REMOTE, "unknown_database", false, rel->parts[0], rel->parts[1], NULL);
        const md_cat_schema *s = md_catalog_schema(d, rel->parts[1]);
        RETURN_RES(o, d->site, "qualified", s != NULL, d->name, s ? s->name : rel->parts[1], NULL);
    }
    const char *name = rel->parts[0];
    if (rel->effect == MD_SQL_EFFECT_NONE) { /* SHOW TABLES FROM x: a database first, as DuckDB binds it */
        if (!lookup_db(x, name, NULL, NULL, &d, o)) return;
        if (d) RETURN_RES(o, d->site, "qualified", true, d->name, NULL, NULL);
    }
    const md_cat_schema *s = md_catalog_schema(cdb, name);
    if (s || rel->effect == MD_SQL_EFFECT_CREATE)
        RETURN_RES(o, A, "current", s != NULL, x->st.database[A], s ? s->name : name, NULL);
    s = md_catalog_schema(odb, name);
    if (s) RETURN_RES(o, O, "fallback", true, odb->name, s->name, NULL);
    set_res(o, A, "default", false, x->st.database[A], name, NULL);
}

static void resolve_database(rx *x, const md_sql_rel *rel, res *o) {
    const md_cat_db *d;
    if (!lookup_db(x, rel->parts[0], NULL, NULL, &d, o)) return;
    if (d) RETURN_RES(o, d->site, "qualified", true, d->name, NULL, NULL);
    set_res(o, MD_SITE_REMOTE, "unknown_database", false, rel->parts[0], NULL, NULL);
}

/* The site a path or URL is read at when md_run is auto (router.h). */
static md_site path_site(const char *path) {
    const char *sep = strstr(path, "://");
    if (!sep || sep == path) return MD_SITE_LOCAL;
    for (const char *p = path; p < sep; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '+' ||
              ch == '-' || ch == '.'))
            return MD_SITE_LOCAL; /* not a scheme: a path that happens to contain :// */
    }
    if ((size_t)(sep - path) == 4 && strncasecmp(path, "file", 4) == 0) return MD_SITE_LOCAL;
    const char *h = sep + 3, *end = h;
    while (*end && *end != '/' && *end != '?' && *end != '#') end++;
    const char *at = memchr(h, '@', (size_t)(end - h));
    if (at) h = at + 1;
    size_t n = (size_t)(end - h);
    if (n && *h == '[') { /* [v6]:port */
        const char *close = memchr(h, ']', n);
        if (close) n = (size_t)(close - h) + 1;
    } else {
        const char *colon = memchr(h, ':', n);
        if (colon) n = (size_t)(colon - h);
    }
    static const char *const local_hosts[] = {"localhost", "127.0.0.1", "[::1]"};
    for (size_t k = 0; k < sizeof local_hosts / sizeof *local_hosts; k++)
        if (n == strlen(local_hosts[k]) && strncasecmp(h, local_hosts[k], n) == 0) return MD_SITE_LOCAL;
    return MD_SITE_REMOTE;
}

static void resolve(rx *x, const md_sql_rel *rel, res *o) {
    memset(o, 0, sizeof *o);
    switch (rel->type) {
    case MD_SQL_REL_TABLE:
    case MD_SQL_REL_OBJECT:
        resolve_table(x, rel, o);
        break;
    case MD_SQL_REL_SCHEMA:
        resolve_schema(x, rel, o);
        break;
    case MD_SQL_REL_DATABASE:
        resolve_database(x, rel, o);
        break;
    case MD_SQL_REL_FILE:
    case MD_SQL_REL_FUNCTION:
        if (rel->run == MD_SQL_RUN_LOCAL) set_res(o, MD_SITE_LOCAL, "md_run", false, NULL, NULL, NULL);
        else if (rel->run == MD_SQL_RUN_REMOTE) set_res(o, MD_SITE_REMOTE, "md_run", false, NULL, NULL, NULL);
        else if (rel->path) set_res(o, path_site(rel->path), "path", false, NULL, NULL, NULL);
        else set_res(o, MD_SITE_NONE, "none", false, NULL, NULL, NULL);
        break;
    }
}

/* ---- names for messages -------------------------------------------------------- */

static void put_ident(md_buf *b, const char *name) {
    int plain = *name && !(*name >= '0' && *name <= '9');
    for (const char *p = name; *p && plain; p++) {
        unsigned char ch = (unsigned char)*p;
        plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                ch >= 0x80;
    }
    if (plain && md_sql_keyword_category(md_sql_keyword_find(name, strlen(name))) == MD_KWCAT_RESERVED) plain = 0;
    if (plain) {
        md_buf_append(b, name, strlen(name));
        return;
    }
    md_buf_put_quoted(b, name, '"');
}

static void put_str(md_buf *b, const char *s) { md_buf_append(b, s, strlen(s)); }

/* How a relation is named in messages: its resolved name, or as written. */
static char *rel_display(const md_sql_rel *rel, const md_route_rel *rr) {
    md_buf b = MD_BUF_INIT;
    if (rel->type == MD_SQL_REL_FILE) {
        md_buf_put_quoted(&b, rel->path, '\'');
    } else if (rel->type == MD_SQL_REL_FUNCTION) {
        for (int k = 0; k < rel->nparts; k++) {
            if (k) md_buf_put_u8(&b, '.');
            put_ident(&b, rel->parts[k]);
        }
        md_buf_put_u8(&b, '(');
        if (rel->path) md_buf_put_quoted(&b, rel->path, '\'');
        else put_str(&b, "...");
        md_buf_put_u8(&b, ')');
    } else {
        const char *parts[3];
        int n = 0;
        if (rr->database) parts[n++] = rr->database;
        if (rr->schema) parts[n++] = rr->schema;
        if (rr->table) parts[n++] = rr->table;
        if (!rr->database) { /* unresolved: as written */
            n = rel->nparts;
            for (int k = 0; k < n; k++) parts[k] = rel->parts[k];
        }
        for (int k = 0; k < n; k++) {
            if (k) md_buf_put_u8(&b, '.');
            put_ident(&b, parts[k]);
        }
    }
    md_buf_put_u8(&b, 0);
    size_t len;
    return (char *)md_buf_detach(&b, &len);
}

static void stmt_fail(md_route_stmt *rs, md_route route, int code, uint32_t pos, const char *msg) {
    rs->route = route;
    rs->site = MD_SITE_NONE;
    rs->error.code = code;
    rs->error.position = pos;
    snprintf(rs->error.message, sizeof rs->error.message, "%s", msg);
}

/* "a, b, c and 2 more" of the relations at `site`, each named once. */
static void list_site(md_buf *b, const md_sql_stmt *st, const md_route_stmt *rs, md_site site, int *out_count) {
    char *seen[8];
    int nseen = 0, total = 0;
    for (size_t k = 0; k < st->nrels; k++) {
        if (rs->rels[k].site != site) continue;
        char *name = rel_display(&st->rels[k], &rs->rels[k]);
        int dup = 0;
        for (int j = 0; j < nseen && !dup; j++) dup = strcmp(seen[j], name) == 0;
        if (dup || nseen == 8) {
            if (!dup) total++;
            md_free(name);
            continue;
        }
        seen[nseen++] = name;
        total++;
    }
    int shown = nseen < 4 ? nseen : 4;
    for (int j = 0; j < shown; j++) {
        if (j) put_str(b, j == total - 1 ? " and " : ", ");
        put_str(b, seen[j]);
    }
    if (total > shown) {
        char more[32];
        snprintf(more, sizeof more, " and %d more", total - shown);
        put_str(b, more);
    }
    for (int j = 0; j < nseen; j++) md_free(seen[j]);
    *out_count = total;
}

static void fail_mixed(const md_sql_stmt *st, md_route_stmt *rs, uint32_t pos) {
    md_buf b = MD_BUF_INIT;
    int nl, nr;
    put_str(&b, st->verb);
    put_str(&b, " cannot combine data in the browser with data on the server (only queries, CREATE TABLE ... AS and "
                "INSERT ... SELECT can): ");
    list_site(&b, st, rs, MD_SITE_LOCAL, &nl);
    put_str(&b, nl == 1 ? " is in the browser and " : " are in the browser and ");
    list_site(&b, st, rs, MD_SITE_REMOTE, &nr);
    put_str(&b, nr == 1 ? " is on the server" : " are on the server");
    md_buf_put_u8(&b, 0);
    stmt_fail(rs, MD_ROUTE_MIXED, MD_EUNSUPPORTED, pos, (const char *)b.data);
    md_buf_free(&b);
}

/* ---- statements ------------------------------------------------------------------- */

/* The name ATTACH gives a database: its alias, else for 'md:db' (or
 * 'md:_share/db/...') db, else the file name without directory and
 * extension.  NULL for 'md:' alone (attaches every remote database). */
static char *attach_name(const md_sql_stmt *st, int md) {
    if (st->attach_alias) return md_strdup(st->attach_alias);
    const char *p = st->attach_path;
    if (!p) return NULL;
    if (md) {
        p += 3;
        if (strncmp(p, "_share/", 7) == 0) p += 7;
        size_t n = strcspn(p, "/?");
        return n ? md_strndup(p, n) : NULL;
    }
    const char *slash = strrchr(p, '/');
    if (slash) p = slash + 1;
    const char *colon = strchr(p, ':'); /* sqlite:x.db style prefixes */
    if (colon) p = colon + 1;
    size_t n = strcspn(p, ".");
    return n ? md_strndup(p, n) : NULL;
}

static void route_use(rx *x, const md_sql_stmt *st, md_route_stmt *rs) {
    if (st->target_nparts == 0) {
        stmt_fail(rs, MD_ROUTE_ERROR, MD_ESQL, st->start, "USE needs a database name: USE db or USE db.schema");
        return;
    }
    res o = {0};
    const md_cat_db *d;
    const char *name = st->target[0];
    if (!lookup_db(x, name, NULL, NULL, &d, &o)) {
        stmt_fail(rs, MD_ROUTE_ERROR, o.code, st->target_start, o.msg);
        return;
    }
    md_site A = x->st.active;
    const char *db, *schema;
    md_site site;
    if (st->target_nparts == 2) {
        site = d ? d->site : MD_SITE_REMOTE;
        db = d ? d->name : name;
        const md_cat_schema *s = md_catalog_schema(d, st->target[1]);
        schema = s ? s->name : st->target[1];
    } else if (d) {
        site = d->site;
        db = d->name;
        schema = "main";
    } else {
        const md_cat_schema *s = md_catalog_schema(md_catalog_db(x->cat, A, x->st.database[A]), name);
        if (s) { /* USE schema: a schema of the current database */
            site = A;
            db = x->st.database[A];
            schema = s->name;
        } else {
            site = MD_SITE_REMOTE;
            db = name;
            schema = "main";
        }
    }
    rs->route = site == MD_SITE_LOCAL ? MD_ROUTE_LOCAL : MD_ROUTE_REMOTE;
    rs->site = site;
    rs->use_database = md_strdup(db);
    rs->use_schema = md_strdup(schema);
}

/* Apply a routed statement's changes to the catalog and the state. */
static void apply_effects(rx *x, const md_sql_stmt *st, md_route_stmt *rs) {
    switch (st->kind) {
    case MD_SQL_USE:
        state_set(&x->st, rs->site, rs->use_database, rs->use_schema);
        x->st.active = rs->site;
        return;
    case MD_SQL_TRANSACTION:
        x->st.transaction = st->txn == MD_SQL_TXN_BEGIN ? rs->site : MD_SITE_NONE;
        return;
    case MD_SQL_ATTACH:
        if (rs->attach_alias) md_catalog_add_db(writable(x), rs->site, rs->attach_alias);
        return;
    case MD_SQL_DETACH:
        if (st->target_nparts) md_catalog_drop_db(writable(x), rs->site, st->target[0]);
        return;
    default:
        break;
    }
    for (size_t k = 0; k < st->nrels; k++) {
        const md_sql_rel *rel = &st->rels[k];
        const md_route_rel *rr = &rs->rels[k];
        if (rel->effect == MD_SQL_EFFECT_NONE || rr->site == MD_SITE_NONE) continue;
        md_catalog *cat = writable(x);
        switch (rel->type) {
        case MD_SQL_REL_TABLE:
            if (!rr->database || !rr->schema) break;
            if (rel->effect == MD_SQL_EFFECT_CREATE) {
                if (rel->temporary) md_catalog_add_db(cat, rr->site, "temp");
                md_catalog_add_table(cat, rr->site, rr->database, rr->schema, rr->table,
                                     strcmp(st->verb, "CREATE VIEW") == 0);
            } else {
                md_catalog_drop_table(cat, rr->site, rr->database, rr->schema, rr->table);
            }
            break;
        case MD_SQL_REL_SCHEMA:
            if (!rr->database || !rr->schema) break;
            if (rel->effect == MD_SQL_EFFECT_CREATE) md_catalog_add_schema(cat, rr->site, rr->database, rr->schema);
            else md_catalog_drop_schema(cat, rr->site, rr->database, rr->schema);
            break;
        case MD_SQL_REL_DATABASE:
            if (rel->effect == MD_SQL_EFFECT_CREATE) md_catalog_add_db(cat, MD_SITE_REMOTE, rel->parts[0]);
            else if (rel->effect == MD_SQL_EFFECT_DROP && rr->database)
                md_catalog_drop_db(cat, rr->site, rr->database);
            break;
        default:
            break;
        }
    }
}

static int is_temp_create(const md_sql_rel *rel) {
    return rel->effect == MD_SQL_EFFECT_CREATE && rel->temporary && rel->nparts == 1;
}

/*
 * A statement that reads both sites and that the splitter can take: a query,
 * CREATE TABLE ... AS or INSERT ... SELECT.  Its site is where it writes
 * (a temporary table: the browser), NONE for a query.  Returns 0 (nothing
 * decided) for any other statement.
 */
static int route_hybrid(rx *x, const md_sql_stmt *st, md_route_stmt *rs) {
    md_site target = MD_SITE_NONE;
    int writes = 0;
    for (size_t k = 0; k < st->nrels; k++) {
        const md_sql_rel *rel = &st->rels[k];
        if (!(rel->access & MD_SQL_WRITE)) continue;
        if (rel->type != MD_SQL_REL_TABLE) return 0;
        writes++;
        if (is_temp_create(rel)) {
            rs->rels[k].site = MD_SITE_LOCAL;
            rs->rels[k].resolution = "temp";
            md_free(rs->rels[k].database);
            md_free(rs->rels[k].schema);
            rs->rels[k].database = md_strdup("temp");
            rs->rels[k].schema = md_strdup("main");
        }
        target = rs->rels[k].site;
    }
    int explain = strncmp(st->verb, "EXPLAIN", 7) == 0;
    int ctas = st->kind == MD_SQL_DDL && writes == 1 && (explain || strstr(st->verb, "TABLE") != NULL);
    int insert = st->kind == MD_SQL_DML && writes == 1 && (explain || strcmp(st->verb, "INSERT") == 0);
    if (!(st->kind == MD_SQL_QUERY && writes == 0) && !ctas && !insert) return 0;
    if (x->st.transaction != MD_SITE_NONE) {
        stmt_fail(rs, MD_ROUTE_ERROR, MD_EUNSUPPORTED, st->start,
                  "a statement that combines data in the browser with data on the server cannot run inside a "
                  "transaction: COMMIT or ROLLBACK first");
        return 1;
    }
    rs->route = MD_ROUTE_HYBRID;
    rs->site = target;
    apply_effects(x, st, rs);
    return 1;
}

static void route_stmt(rx *x, const md_sql_stmt *st, md_route_stmt *rs) {
    rs->rels = st->nrels ? md_calloc(st->nrels, sizeof *rs->rels) : NULL;
    if (st->error.code != MD_OK) {
        stmt_fail(rs, MD_ROUTE_ERROR, st->error.code, st->error.position, st->error.message);
        return;
    }
    /* Resolve every relation. */
    for (size_t k = 0; k < st->nrels; k++) {
        res o;
        resolve(x, &st->rels[k], &o);
        if (st->rels[k].dynamic && (o.code != MD_OK || !o.found)) { /* a value that names no table */
            set_res(&o, MD_SITE_NONE, "none", false, NULL, NULL, NULL);
            o.code = MD_OK;
        }
        md_route_rel *rr = &rs->rels[k];
        rr->site = o.site;
        rr->resolution = o.how ? o.how : "none";
        rr->found = o.found;
        rr->database = dup_or_null(o.db);
        rr->schema = dup_or_null(o.schema);
        rr->table = dup_or_null(o.table);
        if (o.code != MD_OK) {
            stmt_fail(rs, MD_ROUTE_ERROR, o.code, st->rels[k].start, o.msg);
            return;
        }
    }
    md_site A = x->st.active;
    switch (st->kind) {
    case MD_SQL_SERVER:
        rs->route = MD_ROUTE_SERVER;
        rs->site = MD_SITE_REMOTE;
        break;
    case MD_SQL_ATTACH: {
        int md = st->attach_path && strncasecmp(st->attach_path, "md:", 3) == 0;
        rs->route = md ? MD_ROUTE_SERVER : MD_ROUTE_LOCAL;
        rs->site = md ? MD_SITE_REMOTE : MD_SITE_LOCAL;
        rs->attach_alias = attach_name(st, md);
        break;
    }
    case MD_SQL_DETACH: {
        const md_cat_db *d = NULL;
        res o = {0};
        if (st->target_nparts && !lookup_db(x, st->target[0], NULL, NULL, &d, &o)) {
            stmt_fail(rs, MD_ROUTE_ERROR, o.code, st->target_start, o.msg);
            return;
        }
        int local = d && d->site == MD_SITE_LOCAL;
        rs->route = local ? MD_ROUTE_LOCAL : MD_ROUTE_SERVER;
        rs->site = local ? MD_SITE_LOCAL : MD_SITE_REMOTE;
        break;
    }
    case MD_SQL_USE:
        route_use(x, st, rs);
        if (rs->route == MD_ROUTE_ERROR) return;
        break;
    case MD_SQL_TRANSACTION:
        rs->site = x->st.transaction != MD_SITE_NONE ? x->st.transaction : A;
        rs->route = rs->site == MD_SITE_LOCAL ? MD_ROUTE_LOCAL : MD_ROUTE_REMOTE;
        break;
    default: {
        md_site site = MD_SITE_NONE;
        for (size_t k = 0; k < st->nrels; k++) {
            md_site s = rs->rels[k].site;
            if (s == MD_SITE_NONE || is_temp_create(&st->rels[k])) continue;
            if (site == MD_SITE_NONE) {
                site = s;
            } else if (s != site) {
                if (!route_hybrid(x, st, rs)) fail_mixed(st, rs, st->rels[k].start);
                return;
            }
        }
        enum setting_kind setting = st->kind == MD_SQL_OTHER && st->nrels == 0 ? setting_of(rs->text) : NOT_A_SETTING;
        if (site == MD_SITE_NONE)
            site = (st->kind == MD_SQL_OTHER && strcmp(st->verb, "CREATE SECRET") == 0) || setting == SERVER_SETTING
                       ? MD_SITE_REMOTE
                       : A;
        rs->mirror = setting == SESSION_OPTION;
        for (size_t k = 0; k < st->nrels; k++) { /* CREATE TEMP t: where its data comes from */
            if (!is_temp_create(&st->rels[k])) continue;
            md_route_rel *rr = &rs->rels[k];
            rr->site = site;
            rr->resolution = "temp";
            md_free(rr->database);
            md_free(rr->schema);
            rr->database = md_strdup("temp");
            rr->schema = md_strdup("main");
        }
        rs->site = site;
        rs->route = site == MD_SITE_LOCAL ? MD_ROUTE_LOCAL : MD_ROUTE_REMOTE;
        break;
    }
    }
    /* An open transaction keeps every statement at its site. */
    md_site txn = x->st.transaction;
    if (txn != MD_SITE_NONE && rs->route != MD_ROUTE_SERVER && rs->site != txn) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "a transaction is open %s, and this statement would run %s: COMMIT or ROLLBACK first",
                 txn == MD_SITE_LOCAL ? "in the browser" : "on the server",
                 txn == MD_SITE_LOCAL ? "on the server" : "in the browser");
        stmt_fail(rs, MD_ROUTE_ERROR, MD_EUNSUPPORTED, st->start, msg);
        return;
    }
    apply_effects(x, st, rs);
}

int md_router_route(md_router *r, const char *sql, size_t len, unsigned flags, md_route_plan **out_plan,
                    md_sql_error *out_err) {
    md_sql_script *script;
    int rc = md_sql_classify(sql, len, &script, out_err);
    if (rc != MD_OK) return rc;
    rx x = {.r = r, .cat = r->cat, .dry = (flags & MD_ROUTER_DRY_RUN) != 0};
    state_copy(&x.st, &r->st);
    md_route_plan *plan = md_calloc(1, sizeof *plan);
    plan->script = script;
    plan->stmts = script->nstmts ? md_calloc(script->nstmts, sizeof *plan->stmts) : NULL;
    for (size_t k = 0; k < script->nstmts; k++) {
        md_route_stmt *rs = &plan->stmts[k];
        rs->text = md_sql_stmt_text(sql, &script->stmts[k], NULL);
        route_stmt(&x, &script->stmts[k], rs);
    }
    state_copy(&plan->state, &x.st);
    if (x.dry) {
        state_free(&x.st);
        if (x.cloned) md_catalog_destroy(&x.cat);
    } else {
        state_free(&r->st);
        r->st = x.st;
    }
    *out_plan = plan;
    return MD_OK;
}

void md_route_plan_free(md_route_plan **plan) {
    if (!plan || !*plan) return;
    md_route_plan *p = *plan;
    for (size_t k = 0; k < p->script->nstmts; k++) {
        md_route_stmt *rs = &p->stmts[k];
        for (size_t j = 0; j < p->script->stmts[k].nrels; j++) {
            md_free(rs->rels ? rs->rels[j].database : NULL);
            md_free(rs->rels ? rs->rels[j].schema : NULL);
            md_free(rs->rels ? rs->rels[j].table : NULL);
        }
        md_free(rs->rels);
        md_free(rs->text);
        md_free(rs->use_database);
        md_free(rs->use_schema);
        md_free(rs->attach_alias);
    }
    md_free(p->stmts);
    md_sql_script_free(&p->script);
    state_free(&p->state);
    md_free(p);
    *plan = NULL;
}

/* ---- JSON --------------------------------------------------------------------------- */

static void add_str_or_null(cJSON *o, const char *key, const char *s) {
    if (s) cJSON_AddStringToObject(o, key, s);
    else cJSON_AddNullToObject(o, key);
}

static cJSON *error_json(const md_sql_error *e) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", md_errname(e->code));
    cJSON_AddStringToObject(o, "message", e->message);
    cJSON_AddNumberToObject(o, "position", e->position);
    return o;
}

static const char *access_name(unsigned access) {
    return access == (MD_SQL_READ | MD_SQL_WRITE) ? "read_write" : access == MD_SQL_WRITE ? "write" : "read";
}

static cJSON *rel_json(const md_sql_rel *rel, const md_route_rel *rr) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", md_sql_rel_type_name(rel->type));
    cJSON_AddStringToObject(o, "access", access_name(rel->access));
    cJSON_AddNumberToObject(o, "start", rel->start);
    cJSON_AddNumberToObject(o, "end", rel->end);
    if (rel->nparts) {
        cJSON *name = cJSON_AddArrayToObject(o, "name");
        for (int k = 0; k < rel->nparts; k++) cJSON_AddItemToArray(name, cJSON_CreateString(rel->parts[k]));
    }
    if (rel->path) cJSON_AddStringToObject(o, "path", rel->path);
    if (rel->run != MD_SQL_RUN_AUTO) cJSON_AddStringToObject(o, "md_run", rel->run == MD_SQL_RUN_LOCAL ? "local" : "remote");
    if (rel->effect != MD_SQL_EFFECT_NONE)
        cJSON_AddStringToObject(o, "effect", rel->effect == MD_SQL_EFFECT_CREATE ? "create" : "drop");
    if (rel->temporary) cJSON_AddTrueToObject(o, "temporary");
    if (rel->dynamic) cJSON_AddTrueToObject(o, "dynamic");
    if (rr) {
        if (rr->site != MD_SITE_NONE) cJSON_AddStringToObject(o, "site", md_site_name(rr->site));
        else cJSON_AddNullToObject(o, "site");
        cJSON_AddStringToObject(o, "resolution", rr->resolution ? rr->resolution : "none");
        if (rel->type == MD_SQL_REL_TABLE || rel->type == MD_SQL_REL_SCHEMA || rel->type == MD_SQL_REL_DATABASE ||
            rel->type == MD_SQL_REL_OBJECT) {
            if (rel->type != MD_SQL_REL_OBJECT) cJSON_AddBoolToObject(o, "found", rr->found);
            add_str_or_null(o, "database", rr->database);
            add_str_or_null(o, "schema", rr->schema);
            if (rel->type == MD_SQL_REL_TABLE || rel->type == MD_SQL_REL_OBJECT) add_str_or_null(o, "table", rr->table);
        }
    }
    return o;
}

static cJSON *stmt_json(size_t index, const md_sql_stmt *st, const md_route_stmt *rs, const char *text) {
    static const char *const txn_names[] = {NULL, "begin", "commit", "rollback"};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", (double)index);
    cJSON_AddNumberToObject(o, "start", st->start);
    cJSON_AddNumberToObject(o, "end", st->end);
    cJSON_AddStringToObject(o, "sql", text);
    cJSON_AddStringToObject(o, "kind", md_sql_kind_name(st->kind));
    cJSON_AddStringToObject(o, "verb", st->verb);
    if (rs) cJSON_AddStringToObject(o, "route", md_route_name(rs->route));
    if (rs && rs->mirror) cJSON_AddTrueToObject(o, "mirror");
    if (st->kind == MD_SQL_TRANSACTION && st->txn != MD_SQL_TXN_NONE)
        cJSON_AddStringToObject(o, "transaction", txn_names[st->txn]);
    if (st->kind == MD_SQL_USE) {
        cJSON *u = cJSON_AddObjectToObject(o, "use");
        if (rs && rs->use_database) {
            cJSON_AddStringToObject(u, "database", rs->use_database);
            cJSON_AddStringToObject(u, "schema", rs->use_schema);
            cJSON_AddStringToObject(u, "site", md_site_name(rs->site));
        } else {
            cJSON *name = cJSON_AddArrayToObject(u, "name");
            for (int k = 0; k < st->target_nparts; k++) cJSON_AddItemToArray(name, cJSON_CreateString(st->target[k]));
        }
    }
    if (st->kind == MD_SQL_ATTACH) {
        cJSON *a = cJSON_AddObjectToObject(o, "attach");
        add_str_or_null(a, "path", st->attach_path);
        add_str_or_null(a, "alias", rs ? rs->attach_alias : st->attach_alias);
        if (rs && rs->site != MD_SITE_NONE) cJSON_AddStringToObject(a, "site", md_site_name(rs->site));
    }
    if (st->kind == MD_SQL_DETACH && st->target_nparts) cJSON_AddStringToObject(o, "detach", st->target[0]);
    cJSON *rels = cJSON_AddArrayToObject(o, "relations");
    for (size_t k = 0; k < st->nrels; k++)
        cJSON_AddItemToArray(rels, rel_json(&st->rels[k], rs && rs->rels ? &rs->rels[k] : NULL));
    const md_sql_error *err = rs ? &rs->error : &st->error;
    if (err->code != MD_OK) cJSON_AddItemToObject(o, "error", error_json(err));
    return o;
}

static cJSON *state_obj(const md_router_state *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "active", md_site_name(s->active));
    for (md_site site = MD_SITE_LOCAL; site <= MD_SITE_REMOTE; site++) {
        cJSON *c = cJSON_AddObjectToObject(o, md_site_name(site));
        add_str_or_null(c, "database", s->database[site]);
        add_str_or_null(c, "schema", s->schema[site]);
    }
    if (s->transaction != MD_SITE_NONE) cJSON_AddStringToObject(o, "transaction", md_site_name(s->transaction));
    else cJSON_AddNullToObject(o, "transaction");
    return o;
}

static int print_json(cJSON *root, char **out_json) {
    char *s = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!s) return MD_ENOMEM;
    *out_json = md_strdup(s);
    cJSON_free(s);
    return MD_OK;
}

int md_route_plan_to_json(const md_route_plan *plan, char **out_json) {
    cJSON *root = cJSON_CreateObject();
    cJSON *stmts = cJSON_AddArrayToObject(root, "statements");
    const md_route_stmt *first_err = NULL;
    size_t first_idx = 0;
    for (size_t k = 0; k < plan->script->nstmts; k++) {
        const md_route_stmt *rs = &plan->stmts[k];
        cJSON_AddItemToArray(stmts, stmt_json(k, &plan->script->stmts[k], rs, rs->text));
        if (!first_err && rs->error.code != MD_OK) first_err = rs, first_idx = k;
    }
    cJSON_AddItemToObject(root, "state", state_obj(&plan->state));
    if (first_err) {
        cJSON *e = error_json(&first_err->error);
        cJSON_AddNumberToObject(e, "statement", (double)first_idx);
        cJSON_AddItemToObject(root, "error", e);
    }
    return print_json(root, out_json);
}

int md_router_classify_json(const char *sql, size_t len, char **out_json, md_sql_error *out_err) {
    md_sql_script *script;
    int rc = md_sql_classify(sql, len, &script, out_err);
    if (rc != MD_OK) return rc;
    cJSON *root = cJSON_CreateObject();
    cJSON *stmts = cJSON_AddArrayToObject(root, "statements");
    for (size_t k = 0; k < script->nstmts; k++) {
        char *text = md_sql_stmt_text(sql, &script->stmts[k], NULL);
        cJSON_AddItemToArray(stmts, stmt_json(k, &script->stmts[k], NULL, text));
        md_free(text);
    }
    md_sql_script_free(&script);
    return print_json(root, out_json);
}

int md_router_state_json(const md_router *r, char **out_json) { return print_json(state_obj(&r->st), out_json); }

static md_site site_from_name(const char *s) {
    if (strcmp(s, "local") == 0) return MD_SITE_LOCAL;
    if (strcmp(s, "remote") == 0) return MD_SITE_REMOTE;
    return MD_SITE_NONE;
}

int md_router_set_state_json(md_router *r, const char *json, size_t len, char **out_err) {
    cJSON *root = cJSON_ParseWithLength(json, len);
    const char *bad = NULL;
    md_router_state st;
    state_copy(&st, &r->st);
    if (!cJSON_IsObject(root)) bad = "the state must be a JSON object";
    const cJSON *v;
    if (!bad && (v = cJSON_GetObjectItemCaseSensitive(root, "active"))) {
        md_site s = cJSON_IsString(v) ? site_from_name(v->valuestring) : MD_SITE_NONE;
        if (s == MD_SITE_NONE) bad = "\"active\" must be \"local\" or \"remote\"";
        else st.active = s;
    }
    if (!bad && (v = cJSON_GetObjectItemCaseSensitive(root, "transaction"))) {
        md_site s = cJSON_IsString(v) ? site_from_name(v->valuestring) : MD_SITE_NONE;
        if (!cJSON_IsNull(v) && s == MD_SITE_NONE) bad = "\"transaction\" must be \"local\", \"remote\" or null";
        else st.transaction = s;
    }
    for (md_site site = MD_SITE_LOCAL; !bad && site <= MD_SITE_REMOTE; site++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, md_site_name(site));
        if (!c) continue;
        const cJSON *db = cJSON_GetObjectItemCaseSensitive(c, "database");
        const cJSON *schema = cJSON_GetObjectItemCaseSensitive(c, "schema");
        if (!cJSON_IsObject(c) || (db && !cJSON_IsString(db)) || (schema && !cJSON_IsString(schema))) {
            bad = "\"local\" and \"remote\" must be objects with string \"database\" and \"schema\"";
            break;
        }
        if (db) {
            md_free(st.database[site]);
            st.database[site] = md_strdup(db->valuestring);
        }
        if (schema) {
            md_free(st.schema[site]);
            st.schema[site] = md_strdup(schema->valuestring);
        }
    }
    cJSON_Delete(root);
    if (bad) {
        state_free(&st);
        if (out_err) *out_err = md_asprintf("engine state: %s", bad);
        return MD_EINVAL;
    }
    state_free(&r->st);
    r->st = st;
    return MD_OK;
}

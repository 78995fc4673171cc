/*
 * splitter.c: the plan splitter (see splitter.h for what it decides and the
 * JSON it writes).
 *
 * The parse tree is DuckDB's json_serialize_sql output, read with
 * json_exact.c so that numbers stay as DuckDB wrote them.  Three kinds of
 * objects matter, told apart by their keys:
 *
 *   query node   "modifiers" + "cte_map": SELECT_NODE, SET_OPERATION_NODE,
 *                RECURSIVE_CTE_NODE
 *   table ref    "sample" + "query_location", no "class": BASE_TABLE, JOIN,
 *                SUBQUERY, TABLE_FUNCTION, EXPRESSION_LIST, EMPTY
 *   expression   "class": COLUMN_REF, FUNCTION, SUBQUERY, ...
 *
 * Any other query node or table ref type (PIVOT, ...) makes the plan a
 * fallback.  A split is made in three passes over a copy of the tree per
 * candidate root: site analysis (which sites each subtree reads), the
 * rewrite (bridges replace the parts at the other site), and the estimate;
 * the cheaper root wins.  Bridges are kept in the order they are made, and
 * a bridge whose SQL tree equals an earlier one's reuses it.
 */
#include "splitter.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_exact.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/sql_classify.h"

/* Bits of a subtree's site set. */
enum {
    S_LOCAL = 1,   /* reads a relation in the browser */
    S_REMOTE = 2,  /* reads a relation on the server */
    S_CTE = 4,     /* references a CTE by name */
    S_UNKNOWN = 8, /* a table reference the router did not see */
    S_ALIEN = 16,  /* a node type the splitter does not know */
    S_SETOP_ORDER = 32, /* a set operation over both sites whose ORDER BY names columns */
    S_DYNAMIC = 64      /* a table function naming tables by value: it runs at the root */
};

static unsigned site_bit(md_site s) { return s == MD_SITE_LOCAL ? S_LOCAL : s == MD_SITE_REMOTE ? S_REMOTE : 0; }

static char site_letter(md_site s) { return s == MD_SITE_LOCAL ? 'L' : 'R'; }

/* ---- tree helpers ---------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *jget(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static int ieq(const char *a, const char *b) { return a && b && strcasecmp(a, b) == 0; }

static int is_query_node(const cJSON *o) {
    return cJSON_IsObject(o) && jget(o, "modifiers") && jget(o, "cte_map") && jstr(o, "type");
}

static int is_table_ref(const cJSON *o) {
    return cJSON_IsObject(o) && !jget(o, "class") && jget(o, "sample") && jget(o, "query_location") &&
           jstr(o, "type");
}

static const char *const KNOWN_REFS[] = {"BASE_TABLE", "JOIN", "SUBQUERY", "TABLE_FUNCTION", "EXPRESSION_LIST",
                                         "EMPTY", NULL};
static const char *const KNOWN_NODES[] = {"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", NULL};

static int in_list(const char *s, const char *const *list) {
    for (; *list; list++)
        if (streq(s, *list)) return 1;
    return 0;
}

/* Parse a fixed JSON template (no numbers to keep exact). */
static cJSON *tmpl(const char *json) {
    cJSON *o = cJSON_Parse(json);
    if (!o) abort(); /* the templates are constants: only allocation can fail */
    return o;
}

static cJSON *raw_location(void) { return cJSON_CreateRaw("18446744073709551615"); }

static cJSON *new_select_node(cJSON *from) {
    cJSON *n = tmpl("{\"type\":\"SELECT_NODE\",\"modifiers\":[],\"cte_map\":{\"map\":[]},\"select_list\":[]}");
    cJSON_AddItemToObject(n, "from_table", from);
    cJSON_AddNullToObject(n, "where_clause");
    cJSON_AddItemToObject(n, "group_expressions", cJSON_CreateArray());
    cJSON_AddItemToObject(n, "group_sets", cJSON_CreateArray());
    cJSON_AddStringToObject(n, "aggregate_handling", "STANDARD_HANDLING");
    cJSON_AddNullToObject(n, "having");
    cJSON_AddNullToObject(n, "sample");
    cJSON_AddNullToObject(n, "qualify");
    return n;
}

static cJSON *new_table_ref(const char *db, const char *schema, const char *name, const char *alias) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "type", "BASE_TABLE");
    cJSON_AddStringToObject(r, "alias", alias ? alias : "");
    cJSON_AddNullToObject(r, "sample");
    cJSON_AddItemToObject(r, "query_location", raw_location());
    cJSON_AddStringToObject(r, "schema_name", schema);
    cJSON_AddStringToObject(r, "table_name", name);
    cJSON_AddItemToObject(r, "column_name_alias", cJSON_CreateArray());
    cJSON_AddStringToObject(r, "catalog_name", db);
    cJSON_AddNullToObject(r, "at_clause");
    return r;
}

static cJSON *new_temp_ref(const char *db, const char *name, const char *alias) {
    return new_table_ref(db, "main", name, alias);
}

static cJSON *new_star(void) {
    cJSON *s = tmpl("{\"class\":\"STAR\",\"type\":\"STAR\",\"alias\":\"\"}");
    cJSON_AddItemToObject(s, "query_location", raw_location());
    cJSON_AddStringToObject(s, "relation_name", "");
    cJSON_AddItemToObject(s, "exclude_list", cJSON_CreateArray());
    cJSON_AddItemToObject(s, "replace_list", cJSON_CreateArray());
    cJSON_AddFalseToObject(s, "columns");
    cJSON_AddNullToObject(s, "expr");
    cJSON_AddItemToObject(s, "qualified_exclude_list", cJSON_CreateArray());
    cJSON_AddItemToObject(s, "rename_list", cJSON_CreateArray());
    return s;
}

static cJSON *new_colref(const char *qual, const char *col) {
    cJSON *c = tmpl("{\"class\":\"COLUMN_REF\",\"type\":\"COLUMN_REF\",\"alias\":\"\"}");
    cJSON_AddItemToObject(c, "query_location", raw_location());
    cJSON *parts = cJSON_CreateArray();
    if (qual && *qual) cJSON_AddItemToArray(parts, cJSON_CreateString(qual));
    cJSON_AddItemToArray(parts, cJSON_CreateString(col));
    cJSON_AddItemToObject(c, "column_names", parts);
    return c;
}

static cJSON *new_one(void) {
    cJSON *c = tmpl("{\"class\":\"CONSTANT\",\"type\":\"VALUE_CONSTANT\",\"alias\":\"__md_one\","
                    "\"value\":{\"type\":{\"id\":\"INTEGER\",\"type_info\":null},\"is_null\":false,\"value\":1}}");
    cJSON_AddItemToObject(c, "query_location", raw_location());
    return c;
}

static cJSON *new_and(cJSON *children) {
    cJSON *c = tmpl("{\"class\":\"CONJUNCTION\",\"type\":\"CONJUNCTION_AND\",\"alias\":\"\"}");
    cJSON_AddItemToObject(c, "query_location", raw_location());
    cJSON_AddItemToObject(c, "children", children);
    return c;
}

/* Put `repl` where `old` is in `parent` (an object member keeps its key);
 * old is freed. */
static void replace_item(cJSON *parent, cJSON *old, cJSON *repl) {
    if (cJSON_IsObject(parent) && old->string) {
        char *key = md_strdup(old->string);
        cJSON_ReplaceItemInObjectCaseSensitive(parent, key, repl);
        md_free(key);
    } else {
        cJSON_ReplaceItemViaPointer(parent, old, repl);
    }
}

/* "SELECT * FROM temp.main.<name>" as a query node. */
static cJSON *new_scan_node(const char *db, const char *name) {
    cJSON *n = new_select_node(new_temp_ref(db, name, ""));
    cJSON_AddItemToArray(jget(n, "select_list"), new_star());
    return n;
}

/* ---- the relations the router resolved ----------------------------------- */

typedef struct leaf {
    uint32_t pos;              /* byte offset of the reference in the parsed text */
    md_site site;
    const md_cat_table *tab;   /* the catalog entry, when the router found one */
    char display[200];         /* db.schema.table, or the function's name */
    char db[64], schema[64], table[64]; /* resolved names of a table ("" otherwise) */
    int moved_bare;            /* moved without an alias: qualified column names must follow */
    uint32_t end;              /* byte offset of the reference's end */
    /* A table named by value (sql_classify.h) inside the call of leaf
     * `owner`: it moves whole under its own name (move_named_tables). */
    int dynamic, nparts, owner;
} leaf;

typedef struct bridge {
    char name[64];
    md_site from;
    char relation[200];
    int ncolumns;              /* -1: every column */
    int nfilters;
    double rows, bytes;        /* estimates */
    char alias[64];            /* a table named by value: the name the root must find it under */
    cJSON *stmt;               /* {"node": ..., "named_param_map": []}, owned */
    char *key;                 /* the node printed, to find equal bridges */
} bridge;

typedef struct sp {
    leaf *leaves;
    size_t nleaves;
    char **ctes;               /* every CTE name defined in the statement */
    size_t nctes;
    /* Column names the statement mentions anywhere (lower case), and what
     * forces a moved table to keep all its columns. */
    char **names;
    size_t nnames;
    char **rows;               /* one-part references: a binding named alone is its whole row */
    size_t nrows;
    int all_columns;           /* *, COLUMNS(*), #n or NATURAL JOIN somewhere */
    char **star_rels;          /* relations named by rel.* */
    size_t nstar_rels;
    const md_catalog *cat;
    /* The plan being made. */
    md_site root, other;
    unsigned query_id;
    int local_cache;           /* MD_SPLIT_LOCAL_CACHE */
    const char *bridge_db;     /* where the root keeps bridge tables */
    bridge *br;
    size_t nbr;
    int correlated;            /* a subquery that could not move whole */
    const char *refused;       /* static: why this statement cannot be split at all */
} sp;

static int is_bridge_name(const char *t) { return t && strncmp(t, "__md_b", 6) == 0; }

static const leaf *find_leaf(const sp *s, const cJSON *ref) {
    int64_t pos = md_json_exact_int(jget(ref, "query_location"), -1);
    if (pos < 0) return NULL;
    for (size_t k = 0; k < s->nleaves; k++)
        if (!s->leaves[k].dynamic && s->leaves[k].pos == (uint64_t)pos) return &s->leaves[k];
    return NULL;
}

static int is_cte_name(const sp *s, const char *name) {
    for (size_t k = 0; k < s->nctes; k++)
        if (ieq(s->ctes[k], name)) return 1;
    return 0;
}

static int unqualified(const cJSON *ref) {
    const char *cat = jstr(ref, "catalog_name"), *sch = jstr(ref, "schema_name");
    return (!cat || !*cat) && (!sch || !*sch);
}

/* An unqualified name that a WITH of the statement defines is that CTE (a
 * CTE shadows a table of the same name), even where the router placed a
 * relation: a recursive CTE's reference to itself must never be moved,
 * or its recursion would read a fixed table and never end. */
static int is_cte_ref(const sp *s, const cJSON *ref) {
    return streq(jstr(ref, "type"), "BASE_TABLE") && unqualified(ref) && is_cte_name(s, jstr(ref, "table_name"));
}

/* The relation a table reference reads, or NULL (a CTE, a bridge, unknown). */
static const leaf *ref_leaf(const sp *s, const cJSON *ref) { return is_cte_ref(s, ref) ? NULL : find_leaf(s, ref); }

/* ---- pass 0: names the statement uses ------------------------------------- */

static void add_name(char ***list, size_t *n, const char *name) {
    for (size_t k = 0; k < *n; k++)
        if (ieq((*list)[k], name)) return;
    *list = md_realloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = md_strdup(name);
}

static void collect_names(sp *s, const cJSON *n) {
    if (cJSON_IsArray(n)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, n) collect_names(s, c);
        return;
    }
    if (!cJSON_IsObject(n)) return;
    const char *cls = jstr(n, "class"), *type = jstr(n, "type");
    if (streq(cls, "COLUMN_REF")) {
        const cJSON *p, *names = jget(n, "column_names");
        cJSON_ArrayForEach(p, names) if (cJSON_IsString(p)) add_name(&s->names, &s->nnames, p->valuestring);
        p = cJSON_GetArrayItem(names, 0);
        if (cJSON_GetArraySize(names) == 1 && cJSON_IsString(p)) add_name(&s->rows, &s->nrows, p->valuestring);
    } else if (streq(cls, "STAR")) {
        const char *rel = jstr(n, "relation_name");
        if (!rel || !*rel || cJSON_IsTrue(jget(n, "columns")) || cJSON_GetArraySize(jget(n, "exclude_list")) ||
            cJSON_GetArraySize(jget(n, "rename_list")) || cJSON_GetArraySize(jget(n, "replace_list")))
            s->all_columns = 1;
        else {
            add_name(&s->star_rels, &s->nstar_rels, rel);
            add_name(&s->names, &s->nnames, rel); /* x.* of a struct column x, where no table is x */
        }
    } else if (streq(cls, "POSITIONAL_REFERENCE")) {
        s->all_columns = 1;
    } else if (!cls && streq(type, "JOIN") && streq(jstr(n, "ref_type"), "NATURAL")) {
        s->all_columns = 1;
    } else if (!cls && streq(type, "JOIN")) {
        const cJSON *u;
        cJSON_ArrayForEach(u, jget(n, "using_columns")) if (cJSON_IsString(u)) add_name(&s->names, &s->nnames, u->valuestring);
    } else if (is_query_node(n)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, jget(jget(n, "cte_map"), "map")) {
            const char *k = jstr(e, "key");
            if (k) add_name(&s->ctes, &s->nctes, k);
        }
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, n) collect_names(s, c);
}

static int name_used(const sp *s, const char *name) {
    for (size_t k = 0; k < s->nnames; k++)
        if (ieq(s->names[k], name)) return 1;
    return 0;
}

/* ---- pass 1: sites --------------------------------------------------------- */

/* 1 when some object under n is a column reference. */
static int has_column_ref(const cJSON *n) {
    if (cJSON_IsObject(n) && streq(jstr(n, "class"), "COLUMN_REF")) return 1;
    const cJSON *c;
    if (cJSON_IsObject(n) || cJSON_IsArray(n))
        cJSON_ArrayForEach(c, n) if (has_column_ref(c)) return 1;
    return 0;
}

/* 1 for a set operation whose ORDER BY names columns: DuckDB may bind such a
 * name in any branch's select list, even one that does not reach the
 * output (`(SELECT x ... UNION ALL SELECT y ...) UNION ALL BY NAME ...
 * ORDER BY y`), so no branch may be replaced by a bridge, which keeps only
 * the output names. */
static int setop_orders_by_name(const cJSON *node) {
    if (!streq(jstr(node, "type"), "SET_OPERATION_NODE")) return 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, jget(node, "modifiers")) if (streq(jstr(m, "type"), "ORDER_MODIFIER") &&
                                                      has_column_ref(jget(m, "orders"))) return 1;
    return 0;
}

/* The bridge that moved table-by-value `d` to the root, or NULL. */
static const bridge *named_bridge(const sp *s, const leaf *d) {
    for (size_t k = 0; d->site == s->other && k < s->nbr; k++)
        if (ieq(s->br[k].alias, d->table)) return &s->br[k];
    return NULL;
}

/* What the tables a function call names by value add to its site set: each
 * one's site until it has moved to the root. */
static unsigned dynamic_sites(const sp *s, const leaf *fn) {
    unsigned out = 0;
    for (size_t k = 0; k < s->nleaves; k++) {
        const leaf *d = &s->leaves[k];
        if (!d->dynamic || d->owner != (int)(fn - s->leaves)) continue;
        out |= S_DYNAMIC;
        if (!named_bridge(s, d)) out |= site_bit(d->site);
    }
    return out;
}

static unsigned sites(const sp *s, const cJSON *n) {
    unsigned out = 0;
    if (cJSON_IsObject(n)) {
        const char *type = jstr(n, "type");
        if (is_table_ref(n)) {
            if (!in_list(type, KNOWN_REFS)) out |= S_ALIEN;
            if (streq(type, "BASE_TABLE") && is_bridge_name(jstr(n, "table_name"))) {
                /* a bridge already made: read at the root */
            } else if (streq(type, "BASE_TABLE") || streq(type, "TABLE_FUNCTION")) {
                const leaf *l = ref_leaf(s, n);
                if (l) out |= site_bit(l->site) | dynamic_sites(s, l);
                else if (is_cte_ref(s, n))
                    out |= S_CTE;
                else if (streq(type, "BASE_TABLE"))
                    out |= S_UNKNOWN;
            }
        } else if (is_query_node(n) && !in_list(type, KNOWN_NODES)) {
            out |= S_ALIEN;
        }
    }
    if (cJSON_IsObject(n) || cJSON_IsArray(n)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, n) out |= sites(s, c);
    }
    if ((out & S_LOCAL) && (out & S_REMOTE) && is_query_node(n) && setop_orders_by_name(n)) out |= S_SETOP_ORDER;
    return out;
}

/* ---- self-containment: can a query node run on its own? -------------------- */

typedef struct binding {
    char *name;                /* alias, table name, function name; "" for none (owned) */
    const md_cat_table *tab;   /* columns known from the catalog, or NULL (unknown) */
} binding;

typedef struct scope {
    const struct scope *up;    /* NULL at the boundary of the part being checked */
    binding *b;
    size_t nb;
    const cJSON *select_list;  /* its aliases bind single names too */
} scope;

typedef struct chk {
    const sp *s;
    char **defined;            /* CTE names defined inside the part */
    size_t ndefined;
    int ok;
} chk;

static const char *ref_binding_name(const cJSON *ref) {
    const char *alias = jstr(ref, "alias");
    if (alias && *alias) return alias;
    const char *type = jstr(ref, "type");
    if (streq(type, "BASE_TABLE")) return jstr(ref, "table_name");
    if (streq(type, "TABLE_FUNCTION")) return jstr(jget(ref, "function"), "function_name");
    return "";
}

static void add_bindings(chk *c, const cJSON *ref, binding **b, size_t *nb) {
    if (!is_table_ref(ref)) return;
    const char *type = jstr(ref, "type");
    if (streq(type, "JOIN")) {
        add_bindings(c, jget(ref, "left"), b, nb);
        add_bindings(c, jget(ref, "right"), b, nb);
        return;
    }
    if (streq(type, "EMPTY")) return;
    const md_cat_table *tab = NULL;
    if (streq(type, "BASE_TABLE")) {
        const leaf *l = ref_leaf(c->s, ref);
        if (l && l->tab && l->tab->ncolumns && !cJSON_GetArraySize(jget(ref, "column_name_alias"))) tab = l->tab;
        if (!l && unqualified(ref)) {
            int inside = 0;
            for (size_t k = 0; k < c->ndefined && !inside; k++) inside = ieq(c->defined[k], jstr(ref, "table_name"));
            if (!inside) c->ok = 0; /* a CTE of an enclosing query */
        }
    }
    *b = md_realloc(*b, (*nb + 1) * sizeof **b);
    const char *name = ref_binding_name(ref);
    (*b)[(*nb)++] = (binding){md_strdup(name ? name : ""), tab};
}

static void bindings_free(binding *b, size_t n) {
    for (size_t k = 0; k < n; k++) md_free(b[k].name);
    md_free(b);
}

static int binds_column(const binding *b, const char *col) {
    if (!b->tab) return -1; /* unknown columns */
    for (size_t k = 0; k < b->tab->ncolumns; k++)
        if (ieq(b->tab->columns[k].name, col)) return 1;
    return 0;
}

static int selects_alias(const cJSON *list, const char *name) {
    const cJSON *e;
    cJSON_ArrayForEach(e, list) if (ieq(jstr(e, "alias"), name)) return 1;
    return 0;
}

/* Does a column reference bind inside the part (the scope chain up to the
 * boundary)?  Lenient where the catalog does not know a binding's columns:
 * the binder stops a wrong guess (see splitter.h). */
static int resolves(const scope *sc, const cJSON *names) {
    int n = cJSON_GetArraySize(names);
    if (n <= 0) return 1;
    const cJSON *p0 = cJSON_GetArrayItem(names, 0);
    const char *head = cJSON_IsString(p0) ? p0->valuestring : "";
    for (const scope *x = sc; x; x = x->up) {
        for (size_t k = 0; k < x->nb; k++) {
            const binding *b = &x->b[k];
            if (n >= 2) {
                for (int j = 0; j < n - 1; j++) {
                    const cJSON *pj = cJSON_GetArrayItem(names, j);
                    if (cJSON_IsString(pj) && ieq(b->name, pj->valuestring)) return 1;
                }
                if (binds_column(b, head) == 1) return 1; /* a struct column's field */
            } else {
                if (binds_column(b, head) != 0) return 1;
                if (ieq(b->name, head)) return 1; /* the whole row */
            }
        }
        if (n == 1 && selects_alias(x->select_list, head)) return 1;
    }
    return 0;
}

static void check_node(chk *c, const cJSON *node, const scope *up);

static void check_expr(chk *c, const cJSON *e, const scope *sc) {
    if (cJSON_IsArray(e)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, e) check_expr(c, x, sc);
        return;
    }
    if (!cJSON_IsObject(e) || !c->ok) return;
    const char *cls = jstr(e, "class");
    if (streq(cls, "COLUMN_REF")) {
        if (!resolves(sc, jget(e, "column_names"))) c->ok = 0;
        return;
    }
    if (streq(cls, "LAMBDA")) return; /* its parameters are names of its own */
    if (streq(cls, "SUBQUERY")) {
        check_expr(c, jget(e, "child"), sc);
        check_node(c, jget(jget(e, "subquery"), "node"), sc);
        return;
    }
    if (is_query_node(e)) {
        check_node(c, e, sc);
        return;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, e) check_expr(c, x, sc);
}

static void check_ref(chk *c, const cJSON *ref, const scope *sc) {
    if (!is_table_ref(ref)) return;
    const char *type = jstr(ref, "type");
    if (streq(type, "JOIN")) {
        check_ref(c, jget(ref, "left"), sc);
        check_ref(c, jget(ref, "right"), sc);
        check_expr(c, jget(ref, "condition"), sc);
    } else if (streq(type, "SUBQUERY")) {
        check_node(c, jget(jget(ref, "subquery"), "node"), sc->up ? sc : sc);
    } else if (streq(type, "TABLE_FUNCTION") || streq(type, "EXPRESSION_LIST")) {
        check_expr(c, streq(type, "TABLE_FUNCTION") ? jget(ref, "function") : jget(ref, "values"), sc);
    }
}

static void check_node(chk *c, const cJSON *node, const scope *up) {
    if (!cJSON_IsObject(node) || !c->ok) return;
    const cJSON *e;
    cJSON_ArrayForEach(e, jget(jget(node, "cte_map"), "map")) {
        const char *k = jstr(e, "key");
        if (k) add_name(&c->defined, &c->ndefined, k);
        check_node(c, jget(jget(jget(e, "value"), "query"), "node"), up);
    }
    const char *type = jstr(node, "type");
    if (!streq(type, "SELECT_NODE")) {
        check_node(c, jget(node, "left"), up);
        check_node(c, jget(node, "right"), up);
        const cJSON *ch;
        cJSON_ArrayForEach(ch, jget(node, "children")) check_node(c, ch, up);
        check_expr(c, jget(node, "modifiers"), up);
        return;
    }
    scope sc = {up, NULL, 0, jget(node, "select_list")};
    add_bindings(c, jget(node, "from_table"), &sc.b, &sc.nb);
    check_ref(c, jget(node, "from_table"), &sc);
    static const char *const parts[] = {"select_list", "where_clause", "group_expressions", "having", "qualify",
                                        "modifiers", NULL};
    for (int k = 0; parts[k]; k++) check_expr(c, jget(node, parts[k]), &sc);
    bindings_free(sc.b, sc.nb);
}

/* Can `node` run at one site as it stands: every column it names binds
 * inside it and every CTE it reads is defined inside it? */
static int self_contained(const sp *s, const cJSON *node) {
    chk c = {s, NULL, 0, 1};
    check_node(&c, node, NULL);
    for (size_t k = 0; k < c.ndefined; k++) md_free(c.defined[k]);
    md_free(c.defined);
    return c.ok;
}

/* ---- estimates ------------------------------------------------------------------ */

#define DEFAULT_ROWS 1000.0

static double type_width(const char *t) {
    static const struct { const char *prefix; double w; } W[] = {
        {"BOOLEAN", 1}, {"TINYINT", 1}, {"UTINYINT", 1}, {"SMALLINT", 2}, {"USMALLINT", 2}, {"INTEGER", 4},
        {"UINTEGER", 4}, {"FLOAT", 4}, {"DATE", 4}, {"BIGINT", 8}, {"UBIGINT", 8}, {"DOUBLE", 8},
        {"TIMESTAMP", 8}, {"TIME", 8}, {"DECIMAL", 8}, {"HUGEINT", 16}, {"UHUGEINT", 16}, {"UUID", 16},
        {"INTERVAL", 16}, {NULL, 0}};
    if (!t) return 16;
    if (strchr(t, '[') || strchr(t, '(') ? strncasecmp(t, "DECIMAL", 7) != 0 : 0) return 32; /* lists, structs */
    for (int k = 0; W[k].prefix; k++)
        if (strncasecmp(t, W[k].prefix, strlen(W[k].prefix)) == 0) return W[k].w;
    return 16; /* VARCHAR, BLOB and the rest: a guess */
}

static double selectivity(const cJSON *conj) {
    const char *type = jstr(conj, "type");
    if (streq(type, "COMPARE_EQUAL")) return 0.1;
    if (streq(type, "COMPARE_IN")) return 0.2;
    return 0.33;
}

/* ---- pass 2: the rewrite ----------------------------------------------------- */

/* Functions whose value depends on where or when they run: volatile ones,
 * and those reading the session (variables, settings, the current
 * database, the clock).  Conjuncts holding one are not pushed, and a part
 * holding one does not move whole: it is evaluated at the root. */
static int is_volatile(const char *fn) {
    static const char *const V[] = {"random", "gen_random_uuid", "uuid", "uuidv4", "uuidv7", "nextval",
                                    "currval", "setseed", "getvariable", "current_setting", "current_database",
                                    "current_schema", "current_schemas", "current_catalog", "current_user",
                                    "session_user", "user", "now", "current_date", "current_time",
                                    "current_timestamp", "get_current_time", "get_current_timestamp", "today",
                                    "transaction_timestamp", "localtime", "localtimestamp", "current_query",
                                    "txid_current", NULL};
    for (int k = 0; V[k]; k++)
        if (ieq(fn, V[k])) return 1;
    return 0;
}

static int calls_volatile(const cJSON *n) {
    if (cJSON_IsObject(n) && streq(jstr(n, "class"), "FUNCTION") && is_volatile(jstr(n, "function_name"))) return 1;
    const cJSON *c;
    if (cJSON_IsObject(n) || cJSON_IsArray(n)) cJSON_ArrayForEach(c, n) if (calls_volatile(c)) return 1;
    return 0;
}

/* May `e` (one conjunct) be evaluated inside the moved table with binding
 * `b`, whose scope's bindings are sc? */
static int pushable_expr(const cJSON *e, const binding *b, const scope *sc, int *nrefs) {
    if (cJSON_IsArray(e)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, e) if (!pushable_expr(x, b, sc, nrefs)) return 0;
        return 1;
    }
    if (!cJSON_IsObject(e)) return 1;
    const char *cls = jstr(e, "class");
    if (streq(cls, "SUBQUERY") || streq(cls, "WINDOW") || streq(cls, "PARAMETER") || streq(cls, "LAMBDA") ||
        streq(cls, "STAR") || streq(cls, "POSITIONAL_REFERENCE") || streq(cls, "DEFAULT"))
        return 0;
    if (streq(cls, "FUNCTION") && is_volatile(jstr(e, "function_name"))) return 0;
    if (streq(cls, "COLUMN_REF")) {
        const cJSON *names = jget(e, "column_names");
        int n = cJSON_GetArraySize(names);
        const cJSON *p0 = cJSON_GetArrayItem(names, 0);
        const char *head = cJSON_IsString(p0) ? p0->valuestring : NULL;
        if (!head) return 0;
        (*nrefs)++;
        if (n == 2) return ieq(head, b->name);
        if (n != 1 || binds_column(b, head) != 1) return 0;
        for (size_t k = 0; k < sc->nb; k++) /* no other binding of the scope may have it */
            if (&sc->b[k] != b && binds_column(&sc->b[k], head) != 0) return 0;
        return 1;
    }
    if (is_query_node(e)) return 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, e) if (!pushable_expr(x, b, sc, nrefs)) return 0;
    return 1;
}

/* The AND-ed conjuncts of `e` into list (borrowed pointers). */
typedef struct conjs {
    const cJSON **v;
    size_t n;
} conjs;

static void conjs_add(conjs *c, const cJSON *e) {
    if (!cJSON_IsObject(e)) return;
    if (streq(jstr(e, "type"), "CONJUNCTION_AND")) {
        const cJSON *x;
        cJSON_ArrayForEach(x, jget(e, "children")) conjs_add(c, x);
        return;
    }
    c->v = md_realloc(c->v, (c->n + 1) * sizeof *c->v);
    c->v[c->n++] = e;
}

/* A copy of the list (NULL: none). */
static conjs conjs_copy(const conjs *c) {
    conjs o = {NULL, c ? c->n : 0};
    if (o.n) {
        o.v = md_malloc(c->n * sizeof *o.v);
        memcpy(o.v, c->v, c->n * sizeof *o.v);
    }
    return o;
}

/* Register a bridge whose statement is `node`; returns its name (an equal
 * earlier bridge's when there is one).  Takes ownership of node. */
static const char *add_bridge(sp *s, cJSON *node, const char *relation, int ncolumns, int nfilters, double rows,
                              double bytes) {
    char *key = cJSON_PrintUnformatted(node);
    for (size_t k = 0; k < s->nbr; k++) {
        if (s->br[k].from == s->other && key && s->br[k].key && strcmp(s->br[k].key, key) == 0) {
            cJSON_free(key);
            cJSON_Delete(node);
            return s->br[k].name;
        }
    }
    s->br = md_realloc(s->br, (s->nbr + 1) * sizeof *s->br);
    bridge *b = &s->br[s->nbr];
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "__md_b%u_%zu", s->query_id, s->nbr);
    b->from = s->other;
    snprintf(b->relation, sizeof b->relation, "%s", relation);
    b->ncolumns = ncolumns;
    b->nfilters = nfilters;
    b->rows = rows;
    b->bytes = bytes;
    b->stmt = cJSON_CreateObject();
    cJSON_AddItemToObject(b->stmt, "node", node);
    cJSON_AddItemToObject(b->stmt, "named_param_map", cJSON_CreateArray());
    b->key = key ? md_strdup(key) : NULL;
    cJSON_free(key);
    s->nbr++;
    return b->name;
}

/* Rough size of what a query node returns: its tables' estimates, one row
 * for an aggregate without GROUP BY, a tenth for a grouped one, capped by a
 * constant LIMIT. */
static double estimate_node_rows(const sp *s, const cJSON *n) {
    double rows = 0;
    if (cJSON_IsObject(n) && is_table_ref(n) && (streq(jstr(n, "type"), "BASE_TABLE") || streq(jstr(n, "type"), "TABLE_FUNCTION"))) {
        const leaf *l = ref_leaf(s, n);
        return l && l->tab && l->tab->rows >= 0 ? (double)l->tab->rows : DEFAULT_ROWS;
    }
    const cJSON *c;
    if (cJSON_IsObject(n) || cJSON_IsArray(n)) cJSON_ArrayForEach(c, n) {
            double r = estimate_node_rows(s, c);
            if (r > rows) rows = r;
        }
    if (is_query_node(n) && streq(jstr(n, "type"), "SELECT_NODE")) {
        if (cJSON_GetArraySize(jget(n, "group_expressions"))) rows = rows / 10 + 1;
        const cJSON *m;
        cJSON_ArrayForEach(m, jget(n, "modifiers")) {
            if (!streq(jstr(m, "type"), "LIMIT_MODIFIER")) continue;
            const cJSON *lim = jget(jget(m, "limit"), "value");
            int64_t v = md_json_exact_int(jget(lim, "value"), -1);
            if (v >= 0 && (double)v < rows) rows = (double)v;
        }
    }
    return rows;
}

/* Replace the query node at parent[key] (or array slot) with a scan of a
 * bridge that runs it at the other site. */
static void bridge_node(sp *s, cJSON *parent, cJSON *node, const char *what) {
    double rows = estimate_node_rows(s, node);
    int ncols = cJSON_GetArraySize(jget(node, "select_list"));
    double width = ncols > 0 ? ncols * 12.0 : 12.0;
    cJSON *moved = cJSON_Duplicate(node, 1);
    cJSON *scan = new_scan_node(s->bridge_db, "");
    replace_item(parent, node, scan); /* frees node */
    const char *name = add_bridge(s, moved, what, ncols > 0 ? ncols : -1, 0, rows, rows * width);
    cJSON *ref = jget(scan, "from_table");
    cJSON_ReplaceItemInObject(ref, "table_name", cJSON_CreateString(name));
}

/* Move one table or table function: only the columns the statement names,
 * with the conjuncts of `pc` that reference it alone. */
static void bridge_leaf(sp *s, cJSON *parent, cJSON *ref, const leaf *l, const scope *sc, const conjs *pc) {
    const char *bname = ref_binding_name(ref);
    if (!bname) bname = "";
    binding self = {(char *)bname, NULL};
    const binding *b = &self;
    for (size_t k = 0; k < sc->nb && b == &self; k++)
        if (ieq(sc->b[k].name, bname)) b = &sc->b[k];
    int has_alias_cols = cJSON_GetArraySize(jget(ref, "column_name_alias")) > 0;
    int whole_row = 0;
    for (size_t k = 0; k < s->nrows && !whole_row; k++) whole_row = ieq(s->rows[k], bname);
    int all = s->all_columns || has_alias_cols || !l->tab || !l->tab->ncolumns || whole_row;
    for (size_t k = 0; k < s->nstar_rels && !all; k++) all = ieq(s->star_rels[k], bname);

    /* rowid is the moved table's own: it is carried as a column (a real
     * column named rowid hides the pseudo-column), which SELECT * cannot do. */
    int rowid = name_used(s, "rowid");
    if (rowid && all) s->refused = "rowid of a table that must move between the browser and the server, with *: "
                                   "name the columns instead";
    cJSON *frag_ref = cJSON_Duplicate(ref, 1);
    cJSON *frag = new_select_node(frag_ref);
    cJSON *list = jget(frag, "select_list");
    double width = 0;
    int ncols = -1;
    if (all) {
        cJSON_AddItemToArray(list, new_star());
        if (l->tab)
            for (size_t k = 0; k < l->tab->ncolumns; k++) width += type_width(l->tab->columns[k].type);
        else
            width = 32;
    } else {
        ncols = 0;
        for (size_t k = 0; k < l->tab->ncolumns; k++) {
            if (!name_used(s, l->tab->columns[k].name)) continue;
            cJSON_AddItemToArray(list, new_colref(bname, l->tab->columns[k].name));
            width += type_width(l->tab->columns[k].type);
            ncols++;
        }
        if (rowid) {
            cJSON_AddItemToArray(list, new_colref(bname, "rowid"));
            width += 8;
            ncols++;
        }
        if (!ncols) {
            cJSON_AddItemToArray(list, new_one());
            width = 4;
        }
    }
    double sel = 1;
    int nf = 0;
    cJSON *filters = cJSON_CreateArray();
    for (size_t k = 0; pc && k < pc->n; k++) {
        int nrefs = 0;
        if (!pushable_expr(pc->v[k], b, sc, &nrefs) || !nrefs) continue;
        cJSON_AddItemToArray(filters, cJSON_Duplicate(pc->v[k], 1));
        sel *= selectivity(pc->v[k]);
        nf++;
    }
    if (nf == 1) {
        cJSON *one = cJSON_DetachItemFromArray(filters, 0);
        cJSON_ReplaceItemInObject(frag, "where_clause", one);
        cJSON_Delete(filters);
    } else if (nf > 1) {
        cJSON_ReplaceItemInObject(frag, "where_clause", new_and(filters));
    } else {
        cJSON_Delete(filters);
    }
    double rows = l->tab && l->tab->rows >= 0 ? (double)l->tab->rows : DEFAULT_ROWS;
    rows = rows * sel < 1 ? 1 : rows * sel;
    const char *name = add_bridge(s, frag, l->display, ncols, nf, rows, rows * width);
    const char *alias = jstr(ref, "alias");
    if (!alias || !*alias) ((leaf *)l)->moved_bare = 1;
    /* The temporary table takes the reference's place under the same name
     * (ref, and bname with it, is freed by the replacement). */
    cJSON *tmp = new_temp_ref(s->bridge_db, name, bname);
    replace_item(parent, ref, tmp);
}

static void rewrite_node(sp *s, cJSON *parent, cJSON *node, const scope *up);

/*
 * Each table named by value that is at the other site moves whole, before
 * anything else, into the root under the name the value gives: a bridge
 * temp.main.<name> (DuckDB looks in temp first for a one-part name), or,
 * where the root keeps its bridges elsewhere (the page's md_cache), a bridge
 * the driver shows under that name with a temporary view ("alias" in the
 * plan).  Its SQL stays whole: the call that names it runs at the root.
 */
static void move_named_tables(sp *s) {
    for (size_t k = 0; k < s->nleaves; k++) {
        const leaf *d = &s->leaves[k];
        if (!d->dynamic || d->site != s->other || named_bridge(s, d)) continue;
        if (d->nparts != 1) {
            s->refused = "a table named by value with its schema or database (as in query_table('db.main.t')) is "
                         "at the other site, where that name cannot be given to it: name it by its table name "
                         "alone, or move it first with CREATE TABLE ... AS";
            continue;
        }
        const md_cat_db *temp = md_catalog_db(s->cat, s->root, "temp");
        if (md_catalog_table(md_catalog_schema(temp, "main"), d->table)) {
            s->refused = "a table named by value is at the other site, and the site that runs the statement has a "
                         "temporary table of that name, which moving it would replace: drop or rename one of them";
            continue;
        }
        cJSON *node = new_select_node(new_table_ref(d->db, d->schema, d->table, ""));
        cJSON_AddItemToArray(jget(node, "select_list"), new_star());
        double rows = d->tab && d->tab->rows >= 0 ? (double)d->tab->rows : DEFAULT_ROWS, width = 0;
        for (size_t c = 0; d->tab && c < d->tab->ncolumns; c++) width += type_width(d->tab->columns[c].type);
        add_bridge(s, node, d->display, -1, 0, rows, rows * (width > 0 ? width : 32));
        bridge *b = &s->br[s->nbr - 1]; /* new: no bridge exists before these */
        md_free(b->key); /* never shared: the final query does not name it */
        b->key = NULL;
        snprintf(b->alias, sizeof b->alias, "%s", d->table);
        if (streq(s->bridge_db, "temp")) snprintf(b->name, sizeof b->name, "%s", d->table);
    }
}

/* Expression subqueries inside e: each may move whole or be rewritten. */
static void rewrite_exprs(sp *s, cJSON *e, const scope *sc) {
    if (!cJSON_IsObject(e) && !cJSON_IsArray(e)) return;
    if (streq(jstr(e, "class"), "SUBQUERY")) {
        cJSON *sub = jget(e, "subquery");
        rewrite_node(s, sub, jget(sub, "node"), sc);
        rewrite_exprs(s, jget(e, "child"), sc);
        return;
    }
    cJSON *c;
    cJSON_ArrayForEach(c, e) rewrite_exprs(s, c, sc);
}

static void rewrite_ref(sp *s, cJSON *parent, cJSON *ref, const scope *sc, const conjs *pc) {
    if (!is_table_ref(ref)) return;
    unsigned st = sites(s, ref);
    const char *type = jstr(ref, "type");
    if (streq(type, "BASE_TABLE") || streq(type, "TABLE_FUNCTION")) {
        const leaf *l = ref_leaf(s, ref);
        if (l && l->site == s->other) {
            bridge_leaf(s, parent, ref, l, sc, pc);
            return;
        }
        if (streq(type, "TABLE_FUNCTION")) rewrite_exprs(s, jget(ref, "function"), sc);
        return;
    }
    if (!(st & site_bit(s->other))) return;
    if (streq(type, "SUBQUERY")) {
        cJSON *sq = jget(ref, "subquery");
        rewrite_node(s, sq, jget(sq, "node"), sc);
    } else if (streq(type, "JOIN")) {
        const char *jt = jstr(ref, "join_type"), *rt = jstr(ref, "ref_type");
        int inner = streq(jt, "INNER") && (streq(rt, "REGULAR") || streq(rt, "CROSS"));
        conjs left = {NULL, 0}, right = {NULL, 0};
        if (inner || streq(jt, "LEFT")) left = conjs_copy(pc);
        if (inner || streq(jt, "RIGHT")) right = conjs_copy(pc);
        if (streq(rt, "REGULAR") || streq(rt, "CROSS")) {
            conjs on = {NULL, 0};
            conjs_add(&on, jget(ref, "condition"));
            for (size_t k = 0; k < on.n; k++) {
                if (inner || streq(jt, "RIGHT")) conjs_add(&left, on.v[k]);
                if (inner || streq(jt, "LEFT")) conjs_add(&right, on.v[k]);
            }
            md_free(on.v);
        }
        rewrite_exprs(s, jget(ref, "condition"), sc);
        rewrite_ref(s, ref, jget(ref, "left"), sc, &left);
        rewrite_ref(s, ref, jget(ref, "right"), sc, &right);
        md_free(left.v);
        md_free(right.v);
    }
}

static void rewrite_node(sp *s, cJSON *parent, cJSON *node, const scope *up) {
    if (!cJSON_IsObject(node)) return;
    unsigned st = sites(s, node);
    if (!(st & site_bit(s->other))) return;
    if (!(st & (site_bit(s->root) | S_CTE | S_UNKNOWN | S_ALIEN | S_DYNAMIC))) {
        if (self_contained(s, node) && !calls_volatile(node)) {
            bridge_node(s, parent, node, "subquery");
            return;
        }
        s->correlated = 1;
    }
    cJSON *e;
    cJSON_ArrayForEach(e, jget(jget(node, "cte_map"), "map")) {
        cJSON *q = jget(jget(e, "value"), "query");
        rewrite_node(s, q, jget(q, "node"), up);
    }
    if (!streq(jstr(node, "type"), "SELECT_NODE")) {
        rewrite_node(s, node, jget(node, "left"), up);
        rewrite_node(s, node, jget(node, "right"), up);
        cJSON *children = jget(node, "children"), *ch = children ? children->child : NULL, *next;
        for (; ch; ch = next) { /* the rewrite may replace ch */
            next = ch->next;
            rewrite_node(s, children, ch, up);
        }
        return;
    }
    scope sc = {up, NULL, 0, jget(node, "select_list")};
    chk c = {s, NULL, 0, 1};
    add_bindings(&c, jget(node, "from_table"), &sc.b, &sc.nb);
    for (size_t k = 0; k < c.ndefined; k++) md_free(c.defined[k]);
    md_free(c.defined);
    conjs where = {NULL, 0};
    const cJSON *sample = jget(node, "sample");
    if (!sample || cJSON_IsNull(sample)) /* DuckDB samples before WHERE: nothing is pushed under a sample */
        conjs_add(&where, jget(node, "where_clause"));
    static const char *const parts[] = {"select_list", "where_clause", "group_expressions", "having", "qualify",
                                        "modifiers", NULL};
    for (int k = 0; parts[k]; k++) rewrite_exprs(s, jget(node, parts[k]), &sc);
    /* Conjuncts point into where_clause, which the rewrite above may have
     * changed only inside subqueries (never pushed). */
    rewrite_ref(s, node, jget(node, "from_table"), &sc, &where);
    md_free(where.v);
    bindings_free(sc.b, sc.nb);
}

/* Column references qualified by schema.table or db.schema.table of a table
 * that moved without an alias would not bind to its temporary table: they
 * are written table.column. */
static int names_moved_table(const sp *s, const cJSON *names, int nq) {
    for (size_t k = 0; k < s->nleaves; k++) {
        const leaf *l = &s->leaves[k];
        if (!l->moved_bare || !l->table[0]) continue;
        const char *want[3] = {l->db, l->schema, l->table};
        int ok = 1;
        for (int j = 0; j < nq && ok; j++)
            ok = ieq(cJSON_GetArrayItem(names, j)->valuestring, want[3 - nq + j]);
        if (ok) return 1;
    }
    return 0;
}

static void requalify(const sp *s, cJSON *n) {
    if (cJSON_IsObject(n) && streq(jstr(n, "class"), "COLUMN_REF")) {
        cJSON *names = jget(n, "column_names");
        int k = cJSON_GetArraySize(names);
        for (int nq = 3; nq >= 2; nq--) {
            if (k < nq + 1 || !names_moved_table(s, names, nq)) continue;
            for (int j = 0; j < nq - 1; j++) cJSON_DeleteItemFromArray(names, 0);
            break;
        }
        return;
    }
    cJSON *c;
    if (cJSON_IsObject(n) || cJSON_IsArray(n)) cJSON_ArrayForEach(c, n) requalify(s, c);
}

/* Fallback: every table reference at the other site moves whole. */
static void rewrite_leaves(sp *s, cJSON *parent, cJSON *n) {
    if (is_table_ref(n) && (streq(jstr(n, "type"), "BASE_TABLE") || streq(jstr(n, "type"), "TABLE_FUNCTION"))) {
        const leaf *l = ref_leaf(s, n);
        if (l && l->site == s->other) {
            scope none = {NULL, NULL, 0, NULL};
            int keep = s->all_columns;
            s->all_columns = 1;
            bridge_leaf(s, parent, n, l, &none, NULL);
            s->all_columns = keep;
            return;
        }
    }
    cJSON *c, *next;
    if (!cJSON_IsObject(n) && !cJSON_IsArray(n)) return;
    for (c = n->child; c; c = next) {
        next = c->next;
        rewrite_leaves(s, n, c);
    }
}

/* ---- EXPLAIN ------------------------------------------------------------------- */

typedef struct xp {
    const sp *s;
    cJSON *lines;
} xp;

static void xline(xp *x, md_site site, int depth, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void xline(xp *x, md_site site, int depth, const char *fmt, ...) {
    char text[600];
    if (depth > 100) depth = 100; /* deeper plans are shown flattened */
    int n = snprintf(text, sizeof text, "(%c) %*s", site_letter(site), depth * 2, "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text + n, sizeof text - (size_t)n, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(x->lines, cJSON_CreateString(text));
}

static void explain_node(xp *x, const cJSON *node, md_site site, int depth);

static const bridge *bridge_named(const sp *s, const char *name) {
    for (size_t k = 0; k < s->nbr; k++)
        if (streq(s->br[k].name, name)) return &s->br[k];
    return NULL;
}

static void human_bytes(double b, char *out, size_t n) {
    if (b < 1024) snprintf(out, n, "%.0f B", b);
    else if (b < 1024 * 1024) snprintf(out, n, "%.1f KiB", b / 1024);
    else if (b < 1024.0 * 1024 * 1024) snprintf(out, n, "%.1f MiB", b / (1024 * 1024));
    else snprintf(out, n, "%.1f GiB", b / (1024.0 * 1024 * 1024));
}

static void explain_subqueries(xp *x, const cJSON *e, md_site site, int depth) {
    if (!cJSON_IsObject(e) && !cJSON_IsArray(e)) return;
    if (streq(jstr(e, "class"), "SUBQUERY")) {
        xline(x, site, depth, "SUBQUERY %s", jstr(e, "subquery_type") ? jstr(e, "subquery_type") : "");
        explain_node(x, jget(jget(e, "subquery"), "node"), site, depth + 1);
        return;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, e) explain_subqueries(x, c, site, depth);
}

static void explain_ref(xp *x, const cJSON *ref, md_site site, int depth) {
    if (!is_table_ref(ref)) return;
    const char *type = jstr(ref, "type");
    const char *alias = jstr(ref, "alias");
    if (streq(type, "BASE_TABLE")) {
        const bridge *b = is_bridge_name(jstr(ref, "table_name")) ? bridge_named(x->s, jstr(ref, "table_name")) : NULL;
        if (b) {
            char bytes[32];
            human_bytes(b->bytes, bytes, sizeof bytes);
            xline(x, site, depth, "BRIDGE %s %c->%c %s (est. %.0f rows, %s)", b->name, site_letter(b->from),
                  site_letter(site), b->relation, b->rows, bytes);
            explain_node(x, jget(b->stmt, "node"), b->from, depth + 1);
            return;
        }
        const leaf *l = ref_leaf(x->s, ref);
        xline(x, site, depth, "SCAN %s%s%s", l ? l->display : jstr(ref, "table_name"), alias && *alias ? " AS " : "",
              alias && *alias ? alias : "");
    } else if (streq(type, "TABLE_FUNCTION")) {
        xline(x, site, depth, "TABLE FUNCTION %s", jstr(jget(ref, "function"), "function_name"));
        const leaf *fn = ref_leaf(x->s, ref);
        for (size_t k = 0; fn && k < x->s->nleaves; k++) {
            const leaf *d = &x->s->leaves[k];
            const bridge *b = d->dynamic && d->owner == (int)(fn - x->s->leaves) ? named_bridge(x->s, d) : NULL;
            for (size_t j = 0; b && j < k; j++) { /* named twice in the call: shown once */
                const leaf *e = &x->s->leaves[j];
                if (e->dynamic && e->owner == d->owner && named_bridge(x->s, e) == b) b = NULL;
            }
            if (!b) continue;
            char bytes[32];
            human_bytes(b->bytes, bytes, sizeof bytes);
            xline(x, site, depth + 1, "BRIDGE %s %c->%c %s as %s, named by value (est. %.0f rows, %s)", b->name,
                  site_letter(b->from), site_letter(site), b->relation, b->alias, b->rows, bytes);
        }
    } else if (streq(type, "JOIN")) {
        xline(x, site, depth, "JOIN %s%s", jstr(ref, "join_type"), streq(jstr(ref, "ref_type"), "CROSS") ? " (cross)" : "");
        explain_subqueries(x, jget(ref, "condition"), site, depth + 1);
        explain_ref(x, jget(ref, "left"), site, depth + 1);
        explain_ref(x, jget(ref, "right"), site, depth + 1);
    } else if (streq(type, "SUBQUERY")) {
        explain_node(x, jget(jget(ref, "subquery"), "node"), site, depth);
    } else if (streq(type, "EXPRESSION_LIST")) {
        xline(x, site, depth, "VALUES");
    } else if (!streq(type, "EMPTY")) {
        xline(x, site, depth, "%s", type);
    }
}

static int has_class(const cJSON *e, const char *cls) {
    if (cJSON_IsObject(e) && streq(jstr(e, "class"), cls)) return 1;
    if (cJSON_IsObject(e) && streq(jstr(e, "class"), "SUBQUERY")) return 0;
    const cJSON *c;
    if (cJSON_IsObject(e) || cJSON_IsArray(e)) cJSON_ArrayForEach(c, e) if (has_class(c, cls)) return 1;
    return 0;
}

static void explain_node(xp *x, const cJSON *node, md_site site, int depth) {
    if (!cJSON_IsObject(node)) return;
    const cJSON *e;
    cJSON_ArrayForEach(e, jget(jget(node, "cte_map"), "map")) {
        xline(x, site, depth, "CTE %s", jstr(e, "key"));
        explain_node(x, jget(jget(jget(e, "value"), "query"), "node"), site, depth + 1);
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, jget(node, "modifiers")) {
        const char *t = jstr(m, "type");
        if (streq(t, "LIMIT_MODIFIER") || streq(t, "LIMIT_PERCENT_MODIFIER")) xline(x, site, depth++, "LIMIT");
        else if (streq(t, "ORDER_MODIFIER")) xline(x, site, depth++, "ORDER BY");
        else if (streq(t, "DISTINCT_MODIFIER")) xline(x, site, depth++, "DISTINCT");
    }
    const char *type = jstr(node, "type");
    if (!streq(type, "SELECT_NODE")) {
        const char *op = jstr(node, "setop_type");
        xline(x, site, depth, "%s%s", op ? op : type, cJSON_IsTrue(jget(node, "setop_all")) ? " ALL" : "");
        explain_node(x, jget(node, "left"), site, depth + 1);
        explain_node(x, jget(node, "right"), site, depth + 1);
        cJSON_ArrayForEach(e, jget(node, "children")) explain_node(x, e, site, depth + 1);
        return;
    }
    xline(x, site, depth++, "PROJECTION");
    if (jget(node, "qualify") && !cJSON_IsNull(jget(node, "qualify"))) xline(x, site, depth++, "FILTER (QUALIFY)");
    if (has_class(jget(node, "select_list"), "WINDOW")) xline(x, site, depth++, "WINDOW");
    if (jget(node, "having") && !cJSON_IsNull(jget(node, "having"))) xline(x, site, depth++, "FILTER (HAVING)");
    if (cJSON_GetArraySize(jget(node, "group_expressions"))) xline(x, site, depth++, "AGGREGATE (GROUP BY)");
    const cJSON *w = jget(node, "where_clause");
    if (w && !cJSON_IsNull(w)) xline(x, site, depth++, "FILTER");
    explain_subqueries(x, jget(node, "select_list"), site, depth);
    explain_subqueries(x, w, site, depth);
    explain_subqueries(x, jget(node, "having"), site, depth);
    explain_ref(x, jget(node, "from_table"), site, depth);
}

/* ---- plans ----------------------------------------------------------------------- */

static void sp_free_bridges(sp *s) {
    for (size_t k = 0; k < s->nbr; k++) {
        cJSON_Delete(s->br[k].stmt);
        md_free(s->br[k].key);
    }
    md_free(s->br);
    s->br = NULL;
    s->nbr = 0;
}

static double total_bytes(const sp *s) {
    double t = 0;
    for (size_t k = 0; k < s->nbr; k++) t += s->br[k].bytes;
    return t;
}

/* Rewrite a copy of `top` for `root`; the copy is returned, bridges in s. */
static cJSON *plan_for(sp *s, const cJSON *top_stmt, md_site root, int fallback) {
    s->root = root;
    s->other = md_site_other(root);
    s->bridge_db = root == MD_SITE_LOCAL && s->local_cache ? "md_cache" : "temp";
    s->correlated = 0;
    for (size_t k = 0; k < s->nleaves; k++) s->leaves[k].moved_bare = 0;
    cJSON *copy = cJSON_Duplicate(top_stmt, 1);
    cJSON *node = jget(copy, "node");
    move_named_tables(s);
    if (fallback) {
        rewrite_leaves(s, copy, node);
    } else {
        rewrite_node(s, copy, node, NULL);
    }
    requalify(s, jget(copy, "node"));
    return copy;
}

static const char *site_word(md_site s) { return s == MD_SITE_LOCAL ? "browser" : "server"; }

static int fail(md_sql_error *e, int code, uint32_t pos, const char *msg) {
    e->code = code;
    e->position = pos;
    snprintf(e->message, sizeof e->message, "%s", msg);
    return code;
}

static int kw_is(const md_sql_token *t, md_sql_kw kw) { return t->type == MD_TOK_KEYWORD && t->kw == kw; }

static int starts_query(const md_sql_token *t) {
    return kw_is(t, MD_KW_SELECT) || kw_is(t, MD_KW_WITH) || kw_is(t, MD_KW_FROM) || kw_is(t, MD_KW_VALUES) ||
           kw_is(t, MD_KW_TABLE);
}

/* Where the query starts in the tokens [i, n) of a statement that is not a
 * bare query: after CREATE TABLE name AS, or the INSERT's target and column
 * list.  0 when there is none (or a clause follows it that PARSE cannot take). */
static size_t find_query(const char *text, const md_sql_token *toks, size_t i, size_t n, int insert, size_t *out_at) {
    int depth = 0;
    for (size_t k = i + 1; k < n; k++) {
        const md_sql_token *t = &toks[k];
        int open = t->type == MD_TOK_PUNCT && text[t->off] == '(';
        if (depth == 0 && insert && (starts_query(t) || (open && k + 1 < n && starts_query(&toks[k + 1])))) {
            *out_at = k;
            break;
        }
        if (depth == 0 && !insert && kw_is(t, MD_KW_AS) && k + 1 < n) {
            *out_at = k + 1;
            break;
        }
        if (open) depth++;
        else if (t->type == MD_TOK_PUNCT && text[t->off] == ')') depth--;
    }
    if (!*out_at) return 0;
    for (size_t k = *out_at; k < n; k++)
        if (kw_is(&toks[k], MD_KW_RETURNING) || kw_is(&toks[k], MD_KW_CONFLICT)) return 0;
    return 1;
}

int md_split_prepare(const char *sql, size_t len, md_split_text *out, md_sql_error *out_err) {
    md_sql_script *script;
    int rc = md_sql_classify(sql, len, &script, out_err);
    if (rc != MD_OK) return rc;
    if (script->nstmts != 1) {
        md_sql_script_free(&script);
        return fail(out_err, MD_EINVAL, 0, "the splitter takes one statement at a time");
    }
    const md_sql_stmt *st = &script->stmts[0];
    size_t tlen;
    char *text = md_sql_stmt_text(sql, st, &tlen);
    md_sql_token *toks = NULL;
    size_t n = 0;
    md_sql_error e;
    int explain = 0, ok = 0;
    size_t head = 0, at = 0;
    if (md_sql_lex(text, tlen, 0, &toks, &n, &e) == MD_OK && n) {
        if (kw_is(&toks[0], MD_KW_EXPLAIN)) {
            explain = n > 1 && kw_is(&toks[1], MD_KW_ANALYZE) ? 2 : 1;
            head = (size_t)explain;
        }
        if (head < n && (starts_query(&toks[head]) || (toks[head].type == MD_TOK_PUNCT && text[toks[head].off] == '('))) {
            at = head;
            ok = 1;
        } else if (head < n && kw_is(&toks[head], MD_KW_INSERT)) {
            ok = find_query(text, toks, head, n, 1, &at);
        } else if (head < n && kw_is(&toks[head], MD_KW_CREATE)) {
            size_t k = head + 1;
            while (k < n && (kw_is(&toks[k], MD_KW_OR) || kw_is(&toks[k], MD_KW_REPLACE) ||
                             kw_is(&toks[k], MD_KW_TEMP) || kw_is(&toks[k], MD_KW_TEMPORARY)))
                k++;
            ok = k < n && kw_is(&toks[k], MD_KW_TABLE) && find_query(text, toks, head, n, 0, &at);
        }
    }
    if (!ok) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "%s cannot combine data in the browser with data on the server: only queries, CREATE TABLE ... AS "
                 "and INSERT ... SELECT can",
                 st->verb);
        uint32_t pos = st->start;
        md_free(toks);
        md_free(text);
        md_sql_script_free(&script);
        return fail(out_err, MD_EUNSUPPORTED, pos, msg);
    }
    size_t h0 = toks[head].off, q0 = toks[at].off;
    out->explain = explain;
    out->query_start = q0;
    out->prefix = md_strndup(text + h0, q0 - h0);
    out->query = md_strndup(text + q0, tlen - q0);
    md_free(toks);
    md_free(text);
    md_sql_script_free(&script);
    return MD_OK;
}

void md_split_text_free(md_split_text *t) {
    md_free(t->query);
    md_free(t->prefix);
    t->query = t->prefix = NULL;
}


/* Offset of statement byte `off` in the text given to PARSE: the cuts
 * before it are gone, and so is the prefix of a write. */
static int64_t parse_offset(const md_sql_stmt *st, uint32_t off, size_t query_start) {
    int64_t pos = (int64_t)off - st->start;
    for (size_t k = 0; k < st->ncuts; k++)
        if (st->cuts[k].end <= off) pos -= st->cuts[k].end - st->cuts[k].start;
    return pos - (int64_t)query_start;
}

static char *rel_name(const md_sql_rel *rel, const md_route_rel *rr) {
    char buf[200];
    if (rr->database && rr->table)
        snprintf(buf, sizeof buf, "%s.%s.%s", rr->database, rr->schema ? rr->schema : "main", rr->table);
    else if (rel->type == MD_SQL_REL_FUNCTION)
        snprintf(buf, sizeof buf, "%s(%s)", rel->parts[rel->nparts - 1], rel->path ? rel->path : "");
    else
        snprintf(buf, sizeof buf, "%s", rel->path ? rel->path : rel->parts[rel->nparts - 1]);
    return md_strdup(buf);
}

int md_split_plan(md_router *r, const char *sql, size_t len, const char *ast, size_t ast_len, unsigned flags,
                  unsigned query_id, char **out_json, md_sql_error *out_err) {
    md_split_text tx;
    int rc = md_split_prepare(sql, len, &tx, out_err);
    if (rc != MD_OK) return rc;
    const char *prefix = tx.prefix;

    md_route_plan *plan;
    rc = md_router_route(r, sql, len, MD_ROUTER_DRY_RUN, &plan, out_err);
    if (rc != MD_OK) {
        md_split_text_free(&tx);
        return rc;
    }
    cJSON *tree = NULL;
    sp s;
    memset(&s, 0, sizeof s);
    s.query_id = query_id;
    s.local_cache = (flags & MD_SPLIT_LOCAL_CACHE) != 0;
    const md_sql_stmt *st = &plan->script->stmts[0];
    const md_route_stmt *rs = &plan->stmts[0];
    if (rs->route != MD_ROUTE_HYBRID) {
        rc = fail(out_err, MD_EUNSUPPORTED, st->start,
                  rs->route == MD_ROUTE_MIXED || rs->route == MD_ROUTE_ERROR
                      ? rs->error.message
                      : "this statement reads one site only: it needs no split");
        goto done;
    }
    /* The relations, placed. */
    const md_catalog *cat = md_router_catalog(r);
    s.cat = cat;
    for (size_t k = 0; k < st->nrels; k++) {
        const md_sql_rel *rel = &st->rels[k];
        const md_route_rel *rr = &rs->rels[k];
        if (!(rel->access & MD_SQL_READ) || rel->type == MD_SQL_REL_SCHEMA || rel->type == MD_SQL_REL_DATABASE)
            continue;
        if (rel->dynamic && rr->site == MD_SITE_NONE) continue; /* a value that names no table */
        int64_t pos = parse_offset(st, rel->start, tx.query_start);
        if (pos < 0) continue; /* the write target */
        s.leaves = md_realloc(s.leaves, (s.nleaves + 1) * sizeof *s.leaves);
        leaf *l = &s.leaves[s.nleaves++];
        memset(l, 0, sizeof *l);
        l->pos = (uint32_t)pos;
        l->end = (uint32_t)parse_offset(st, rel->end, tx.query_start);
        l->site = rr->site;
        l->dynamic = rel->dynamic;
        l->nparts = rel->nparts;
        l->owner = -1;
        if (rel->dynamic && (!rr->table || strlen(rr->table) >= sizeof l->table))
            s.refused = "a table named by value has a name longer than 63 bytes";
        if (rr->database && rr->table && rr->site != MD_SITE_NONE) {
            const md_cat_db *db = md_catalog_db(cat, rr->site, rr->database);
            l->tab = md_catalog_table(md_catalog_schema(db, rr->schema ? rr->schema : "main"), rr->table);
        }
        char *name = rel_name(rel, rr);
        snprintf(l->display, sizeof l->display, "%s", name);
        md_free(name);
        if (rel->type == MD_SQL_REL_TABLE && rr->database && rr->table) {
            snprintf(l->db, sizeof l->db, "%s", rr->database);
            snprintf(l->schema, sizeof l->schema, "%s", rr->schema ? rr->schema : "main");
            snprintf(l->table, sizeof l->table, "%s", rr->table);
        }
    }
    /* A table named by value belongs to the innermost call around it. */
    for (size_t k = 0; k < s.nleaves; k++) {
        leaf *d = &s.leaves[k];
        if (!d->dynamic) continue;
        for (size_t f = 0; f < s.nleaves; f++) {
            const leaf *fn = &s.leaves[f];
            if (!fn->dynamic && fn->pos <= d->pos && d->end <= fn->end &&
                (d->owner < 0 || fn->pos >= s.leaves[d->owner].pos))
                d->owner = (int)f;
        }
        if (d->owner < 0) s.refused = "a table named by value outside a table function call";
    }
    size_t epos = 0;
    if (md_json_exact_parse(ast, ast_len, &tree, &epos) != MD_OK) {
        rc = fail(out_err, MD_EINVAL, 0, "the parse tree from the server is not JSON");
        goto done;
    }
    cJSON *stmts = jget(tree, "statements");
    cJSON *top = cJSON_GetArrayItem(stmts, 0);
    if (cJSON_IsTrue(jget(tree, "error")) || cJSON_GetArraySize(stmts) != 1 || !is_query_node(jget(top, "node"))) {
        rc = fail(out_err, MD_EINVAL, 0, "the parse tree from the server does not hold one query");
        goto done;
    }
    collect_names(&s, top);
    unsigned all = sites(&s, jget(top, "node"));
    md_site write_site = rs->site; /* HYBRID: the target's site for a write, NONE for a query */
    int fallback = (flags & MD_SPLIT_FALLBACK) || (all & (S_ALIEN | S_UNKNOWN | S_SETOP_ORDER));
    char reason[300];
    cJSON *final = NULL;
    md_site root;
    int one_site = write_site == MD_SITE_NONE && !fallback && !((all & S_LOCAL) && (all & S_REMOTE));
    if (one_site) {
        /* The router counted a name the tree shows to be a CTE: one site
         * after all, nothing moves. */
        root = (all & S_REMOTE) ? MD_SITE_REMOTE : MD_SITE_LOCAL;
        s.root = root;
        s.other = md_site_other(root);
        final = cJSON_Duplicate(top, 1);
        snprintf(reason, sizeof reason, "every relation it reads is in the %s", site_word(root));
    } else if (fallback) {
        root = write_site != MD_SITE_NONE ? write_site : MD_SITE_LOCAL;
        final = plan_for(&s, top, root, 1);
        snprintf(reason, sizeof reason, "%s",
                 (flags & MD_SPLIT_FALLBACK) ? "a part moved whole did not run on its own, so every relation moves"
                 : (all & S_ALIEN)         ? "the statement uses a construct the splitter does not place (e.g. PIVOT)"
                 : (all & S_SETOP_ORDER)
                     ? "the ORDER BY of a set operation over both sites names columns, which DuckDB may find in any "
                       "branch, so the branches stay whole and every relation moves"
                                           : "a table reference the catalog does not place");
    } else if (write_site != MD_SITE_NONE) {
        root = write_site;
        final = plan_for(&s, top, root, 0);
        snprintf(reason, sizeof reason, "the rows are written in the %s, so the rest moves there once",
                 site_word(root));
    } else {
        sp alt = s;
        alt.br = NULL;
        alt.nbr = 0;
        cJSON *fl = plan_for(&s, top, MD_SITE_LOCAL, 0);
        cJSON *fr = plan_for(&alt, top, MD_SITE_REMOTE, 0);
        double bl = total_bytes(&s), br = total_bytes(&alt);
        char a[32], b[32];
        if (alt.refused ? 0 : s.refused ? 1 : br < bl) { /* a root that cannot work loses */
            human_bytes(br, a, sizeof a);
            human_bytes(bl, b, sizeof b);
            snprintf(reason, sizeof reason, "the browser's side is smaller: about %s moves to the server instead of %s",
                     a, b);
            sp_free_bridges(&s);
            s.br = alt.br;
            s.nbr = alt.nbr;
            s.root = alt.root;
            s.other = alt.other;
            s.bridge_db = alt.bridge_db;
            s.correlated = alt.correlated;
            s.refused = alt.refused;
            cJSON_Delete(fl);
            final = fr;
        } else {
            human_bytes(bl, a, sizeof a);
            human_bytes(br, b, sizeof b);
            snprintf(reason, sizeof reason, "the server's side is smaller: about %s moves to the browser instead of %s",
                     a, b);
            sp_free_bridges(&alt);
            cJSON_Delete(fr);
            final = fl;
        }
        root = s.root;
    }
    /* Whatever the rewrite left reading the other site (a place it does not
     * rewrite, e.g. a subquery inside VALUES) would run at the wrong site:
     * then every relation moves. */
    if (!one_site && !fallback && (!s.nbr || (sites(&s, jget(final, "node")) & site_bit(s.other)))) {
        cJSON_Delete(final);
        sp_free_bridges(&s);
        fallback = 1;
        root = write_site != MD_SITE_NONE ? write_site : MD_SITE_LOCAL;
        final = plan_for(&s, top, root, 1);
        snprintf(reason, sizeof reason, "a part the splitter does not rewrite reads the other site, so every "
                                        "relation there moves");
    }
    if ((!s.nbr && !one_site) || (sites(&s, jget(final, "node")) & site_bit(s.other)) || s.refused) {
        cJSON_Delete(final);
        rc = fail(out_err, MD_EUNSUPPORTED, st->start,
                  s.refused ? s.refused : "a part of this statement that reads the other site cannot be moved");
        goto done;
    }
    /* The plan. */
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "mode", fallback ? "fallback" : "split");
    if (s.correlated && !fallback)
        strncat(reason, "; a correlated subquery runs at the root with its tables moved",
                sizeof reason - strlen(reason) - 1);
    cJSON_AddStringToObject(out, "reason", reason);
    cJSON_AddStringToObject(out, "root", md_site_name(root));
    cJSON_AddStringToObject(out, "prefix", prefix);
    cJSON_AddStringToObject(out, "explain", tx.explain == 2 ? "analyze" : tx.explain ? "plan" : "none");
    cJSON *bj = cJSON_AddArrayToObject(out, "bridges");
    cJSON *deparse = tmpl("{\"error\":false,\"statements\":[]}");
    cJSON *dlist = jget(deparse, "statements");
    for (size_t k = 0; k < s.nbr; k++) {
        const bridge *b = &s.br[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", b->name);
        cJSON_AddStringToObject(o, "from", md_site_name(b->from));
        cJSON_AddStringToObject(o, "to", md_site_name(root));
        cJSON_AddStringToObject(o, "relation", b->relation);
        if (b->alias[0]) cJSON_AddStringToObject(o, "alias", b->alias);
        cJSON_AddNumberToObject(o, "columns", b->ncolumns);
        cJSON_AddNumberToObject(o, "filters", b->nfilters);
        cJSON_AddNumberToObject(o, "est_rows", (double)(int64_t)b->rows);
        cJSON_AddNumberToObject(o, "est_bytes", (double)(int64_t)b->bytes);
        cJSON_AddItemToArray(bj, o);
        cJSON_AddItemToArray(dlist, cJSON_Duplicate(b->stmt, 1));
    }
    cJSON *fo = cJSON_AddObjectToObject(out, "final");
    cJSON_AddStringToObject(fo, "site", md_site_name(root));
    xp x = {&s, cJSON_AddArrayToObject(out, "plan_text")};
    if (*prefix) {
        char head[200];
        snprintf(head, sizeof head, "%.*s", (int)(strcspn(prefix, "(") < 150 ? strcspn(prefix, "(") : 150), prefix);
        xline(&x, root, 0, "%s", head);
    }
    explain_node(&x, jget(final, "node"), root, *prefix ? 1 : 0);
    cJSON_AddItemToArray(dlist, final);
    char *dtext = cJSON_PrintUnformatted(deparse);
    cJSON_Delete(deparse);
    cJSON_AddStringToObject(out, "deparse", dtext ? dtext : "");
    cJSON_free(dtext);
    char *text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    if (!text) abort();
    *out_json = md_strdup(text);
    cJSON_free(text);
    rc = MD_OK;
done:
    cJSON_Delete(tree);
    sp_free_bridges(&s);
    for (size_t k = 0; k < s.nnames; k++) md_free(s.names[k]);
    for (size_t k = 0; k < s.nrows; k++) md_free(s.rows[k]);
    md_free(s.rows);
    for (size_t k = 0; k < s.nctes; k++) md_free(s.ctes[k]);
    for (size_t k = 0; k < s.nstar_rels; k++) md_free(s.star_rels[k]);
    md_free(s.names);
    md_free(s.ctes);
    md_free(s.star_rels);
    md_free(s.leaves);
    md_split_text_free(&tx);
    md_route_plan_free(&plan);
    return rc;
}

int md_split_finish(const char *plan, size_t plan_len, const char *deparsed, size_t dlen, char **out_json,
                    md_sql_error *out_err) {
    cJSON *p = cJSON_ParseWithLength(plan, plan_len);
    cJSON *bridges = jget(p, "bridges");
    if (!p || !cJSON_IsArray(bridges) || !cJSON_IsObject(jget(p, "final"))) {
        cJSON_Delete(p);
        return fail(out_err, MD_EINVAL, 0, "not a split plan");
    }
    md_sql_token *toks;
    size_t ntoks;
    int rc = md_sql_lex(deparsed, dlen, 0, &toks, &ntoks, out_err);
    if (rc != MD_OK) {
        cJSON_Delete(p);
        return rc;
    }
    md_sql_span *spans;
    size_t nspans;
    md_sql_split(toks, ntoks, &spans, &nspans);
    int nb = cJSON_GetArraySize(bridges);
    if (nspans != (size_t)nb + 1) {
        md_free(spans);
        md_free(toks);
        cJSON_Delete(p);
        return fail(out_err, MD_EINVAL, 0, "the deparsed text does not hold one statement per part of the plan");
    }
    for (size_t k = 0; k < nspans; k++) {
        const md_sql_token *a = &toks[spans[k].first], *z = &toks[spans[k].first + spans[k].count - 1];
        size_t n = z->off + z->len - a->off;
        const char *prefix = k == nspans - 1 ? jstr(p, "prefix") : "";
        size_t plen = prefix ? strlen(prefix) : 0;
        char *sqltext = md_malloc(plen + n + 2);
        memcpy(sqltext, prefix, plen);
        if (plen && !isspace((unsigned char)prefix[plen - 1]))
            sqltext[plen++] = ' '; /* "AS(SELECT …)": the query deparses without its parentheses */
        memcpy(sqltext + plen, deparsed + a->off, n);
        sqltext[plen + n] = 0;
        cJSON *target = k == nspans - 1 ? jget(p, "final") : cJSON_GetArrayItem(bridges, (int)k);
        cJSON_AddStringToObject(target, "sql", sqltext);
        md_free(sqltext);
    }
    md_free(spans);
    md_free(toks);
    cJSON_DeleteItemFromObject(p, "deparse");
    char *text = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!text) abort();
    *out_json = md_strdup(text);
    cJSON_free(text);
    return MD_OK;
}

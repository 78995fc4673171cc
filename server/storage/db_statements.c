/*
 * db_statements.c: parser of the server's database statements
 * (db_statements.h).  A cursor over the statement's tokens; each statement
 * form is one function that reads its words in order and reports the first
 * one that does not fit, with its position.
 */
#include "server/storage/db_statements.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/storage/dbmeta.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "shared/session_option.h"

typedef struct cursor {
    const char *sql;
    const md_sql_token *toks;
    size_t n, i;
    md_sql_error *err;
    md_dbstmt *st;
} cursor;

static const md_sql_token *at(const cursor *c, size_t k) { return c->i + k < c->n ? &c->toks[c->i + k] : NULL; }

/* 1 if token k ahead is the word `w` (a keyword or a plain identifier). */
static int word_at(const cursor *c, size_t k, const char *w) {
    const md_sql_token *t = at(c, k);
    if (!t || (t->type != MD_TOK_KEYWORD && t->type != MD_TOK_IDENT)) return 0;
    return strlen(w) == t->len && strncasecmp(c->sql + t->off, w, t->len) == 0;
}

static int accept(cursor *c, const char *w) {
    if (!word_at(c, 0, w)) return 0;
    c->i++;
    return 1;
}

static int fail(cursor *c, const char *expected) {
    const md_sql_token *t = at(c, 0);
    c->err->code = MD_ESQL;
    c->err->position = t ? t->off : (c->n ? c->toks[c->n - 1].off + c->toks[c->n - 1].len : 0);
    int secret = c->st->kind == MD_DBSTMT_CREATE_SECRET || c->st->kind == MD_DBSTMT_DROP_SECRET;
    if (t && secret) /* a secret's statement is never quoted back: the word may be a value */
        snprintf(c->err->message, sizeof c->err->message, "%s: expected %s here", md_dbstmt_verb(c->st->kind),
                 expected);
    else if (t)
        snprintf(c->err->message, sizeof c->err->message, "%s: expected %s at \"%.*s\"",
                 md_dbstmt_verb(c->st->kind), expected, (int)(t->len > 40 ? 40 : t->len), c->sql + t->off);
    else
        snprintf(c->err->message, sizeof c->err->message, "%s: expected %s at the end of the statement",
                 md_dbstmt_verb(c->st->kind), expected);
    return MD_ESQL;
}

static int expect(cursor *c, const char *w) {
    if (accept(c, w)) return MD_OK;
    return fail(c, w);
}

static int punct_at(const cursor *c, size_t k, char ch) {
    const md_sql_token *t = at(c, k);
    return t && t->type == MD_TOK_PUNCT && c->sql[t->off] == ch;
}

/* A name: identifier, quoted identifier, or a keyword DuckDB lets name things. */
static int name(cursor *c, char **out) {
    const md_sql_token *t = at(c, 0);
    int ok = t && (t->type == MD_TOK_IDENT || t->type == MD_TOK_QIDENT ||
                   (t->type == MD_TOK_KEYWORD && md_sql_keyword_category((md_sql_kw)t->kw) != MD_KWCAT_RESERVED));
    if (!ok) return fail(c, "a database name");
    *out = md_sql_token_value(c->sql, t, NULL);
    c->i++;
    return MD_OK;
}

/* A database: a name or the string 'md:name'. */
static int db_ref(cursor *c, char **out) {
    const md_sql_token *t = at(c, 0);
    if (t && t->type == MD_TOK_STRING) {
        char *v = md_sql_token_value(c->sql, t, NULL);
        if (strncasecmp(v, "md:", 3) != 0 || !v[3]) {
            md_free(v);
            return fail(c, "a database name or 'md:<database>'");
        }
        *out = md_strdup(v + 3);
        md_free(v);
        c->i++;
        return MD_OK;
    }
    return name(c, out);
}

static int integer(cursor *c, int64_t min, int64_t max, int64_t *out) {
    const md_sql_token *t = at(c, 0);
    if (!t || t->type != MD_TOK_NUMBER) return fail(c, "a number");
    char buf[32];
    if (t->len >= sizeof buf) return fail(c, "a smaller number");
    memcpy(buf, c->sql + t->off, t->len);
    buf[t->len] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end || errno || v < min) return fail(c, min > 0 ? "a positive whole number" : "a whole number");
    if (v > max) return fail(c, "a smaller number");
    *out = v;
    c->i++;
    return MD_OK;
}

static int string(cursor *c, char **out) {
    const md_sql_token *t = at(c, 0);
    if (!t || t->type != MD_TOK_STRING) return fail(c, "a quoted timestamp");
    *out = md_sql_token_value(c->sql, t, NULL);
    c->i++;
    return MD_OK;
}

static int end(cursor *c) { return c->i < c->n ? fail(c, "the end of the statement") : MD_OK; }

/* An optional IF NOT EXISTS (sets st->if_not_exists). */
static int if_not_exists(cursor *c) {
    if (!word_at(c, 0, "IF")) return MD_OK;
    c->i++;
    int rc = expect(c, "NOT");
    if (rc == MD_OK) rc = expect(c, "EXISTS");
    if (rc == MD_OK) c->st->if_not_exists = 1;
    return rc;
}

/* "(" item ("," item)* ")" with the cursor at "(". */
static int paren_list(cursor *c, int (*item)(cursor *c)) {
    c->i++;
    for (;;) {
        int rc = item(c);
        if (rc != MD_OK) return rc;
        if (punct_at(c, 0, ',')) {
            c->i++;
            continue;
        }
        if (punct_at(c, 0, ')')) {
            c->i++;
            return MD_OK;
        }
        return fail(c, "\",\" or \")\"");
    }
}

/* One of (SNAPSHOT n | SNAPSHOT_TIME 'ts' | READ_ONLY) -- READ_ONLY only for ATTACH. */
static int snapshot_option(cursor *c) {
    int allow_read_only = c->st->kind == MD_DBSTMT_ATTACH;
    if (accept(c, "SNAPSHOT")) {
        if (c->st->snapshot || c->st->snapshot_time) return fail(c, "one snapshot option");
        return integer(c, 1, INT64_MAX, &c->st->snapshot);
    }
    if (accept(c, "SNAPSHOT_TIME")) {
        if (c->st->snapshot || c->st->snapshot_time) return fail(c, "one snapshot option");
        return string(c, &c->st->snapshot_time);
    }
    if (allow_read_only && accept(c, "READ_ONLY")) {
        c->st->read_only = 1;
        return MD_OK;
    }
    return fail(c, allow_read_only ? "SNAPSHOT, SNAPSHOT_TIME or READ_ONLY" : "SNAPSHOT or SNAPSHOT_TIME");
}

/* An optional (option, ...) of snapshot_option. */
static int snapshot_options(cursor *c) { return punct_at(c, 0, '(') ? paren_list(c, snapshot_option) : MD_OK; }

/* CREATE DATABASE ... (after DATABASE) */
static int create_database(cursor *c) {
    int rc = if_not_exists(c);
    if (rc == MD_OK) rc = name(c, &c->st->db);
    if (rc == MD_OK && accept(c, "FROM")) {
        rc = db_ref(c, &c->st->from);
        if (rc == MD_OK) rc = snapshot_options(c);
    }
    return rc == MD_OK ? end(c) : rc;
}

/* CREATE SNAPSHOT [name] OF db (after SNAPSHOT) */
static int create_snapshot(cursor *c) {
    if (!word_at(c, 0, "OF")) {
        const md_sql_token *t = at(c, 0);
        if (t && t->type == MD_TOK_STRING) c->st->snapshot_name = md_sql_token_value(c->sql, t, NULL), c->i++;
        else {
            int rc = name(c, &c->st->snapshot_name);
            if (rc != MD_OK) return rc;
        }
    }
    int rc = expect(c, "OF");
    if (rc == MD_OK) rc = db_ref(c, &c->st->db);
    return rc == MD_OK ? end(c) : rc;
}

/* The name DuckDB gives a file it attaches without AS: its base name up
 * to the first dot. */
static char *file_alias(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strchr(base, '.');
    return md_strndup(base, dot ? (size_t)(dot - base) : strlen(base));
}

/* ---- shares ---- */

/* One option of CREATE SHARE's list: ACCESS x | VISIBILITY x | UPDATE x. */
static int share_option(cursor *c) {
    md_dbstmt *st = c->st;
    if (accept(c, "ACCESS")) {
        if (st->access >= 0) return fail(c, "one ACCESS");
#define MD__SHARE_ACCESS_ACCEPT(e, v, word) \
    if (accept(c, word)) {                  \
        st->access = v;                     \
        return MD_OK;                       \
    }
        MD_SHARE_ACCESS(MD__SHARE_ACCESS_ACCEPT)
#undef MD__SHARE_ACCESS_ACCEPT
        return fail(c, "ORGANIZATION, UNRESTRICTED or RESTRICTED");
    }
    if (accept(c, "VISIBILITY")) {
        if (st->discoverable >= 0) return fail(c, "one VISIBILITY");
        if (accept(c, "DISCOVERABLE")) st->discoverable = 1;
        else if (accept(c, "HIDDEN")) st->discoverable = 0;
        else return fail(c, "DISCOVERABLE or HIDDEN");
        return MD_OK;
    }
    if (accept(c, "UPDATE")) {
        if (st->automatic >= 0) return fail(c, "one UPDATE");
        if (accept(c, "AUTOMATIC")) st->automatic = 1;
        else if (accept(c, "MANUAL")) st->automatic = 0;
        else return fail(c, "MANUAL or AUTOMATIC");
        return MD_OK;
    }
    return fail(c, "ACCESS, VISIBILITY or UPDATE");
}

/* CREATE [OR REPLACE] SHARE ... (after SHARE) */
static int create_share(cursor *c) {
    md_dbstmt *st = c->st;
    int rc = if_not_exists(c);
    if (rc == MD_OK && at(c, 0) && !word_at(c, 0, "FROM") && !punct_at(c, 0, '(')) rc = name(c, &st->share);
    if (rc == MD_OK && accept(c, "FROM")) rc = db_ref(c, &st->db);
    if (rc == MD_OK && punct_at(c, 0, '(')) rc = paren_list(c, share_option);
    return rc == MD_OK ? end(c) : rc;
}

/* GRANT|REVOKE READ ON SHARE share TO|FROM user [, user ...] (after the verb) */
static int grant_share(cursor *c, const char *to) {
    md_dbstmt *st = c->st;
    int rc = expect(c, "READ");
    if (rc == MD_OK) rc = expect(c, "ON");
    if (rc == MD_OK) rc = expect(c, "SHARE");
    if (rc == MD_OK) rc = name(c, &st->share);
    if (rc == MD_OK) rc = expect(c, to);
    while (rc == MD_OK) {
        accept(c, "USER");
        char *u = NULL;
        rc = name(c, &u);
        if (rc != MD_OK) break;
        st->users = md_realloc(st->users, (st->nusers + 1) * sizeof *st->users);
        st->users[st->nusers++] = u;
        if (!punct_at(c, 0, ',')) break;
        c->i++;
    }
    return rc == MD_OK ? end(c) : rc;
}

/* The share statements other than ATTACH; MD_OK with the kind left NONE
 * when the words are not one of them. */
static int share_statement(cursor *c) {
    md_dbstmt *st = c->st;
    int rc = MD_OK;
    if (word_at(c, 0, "CREATE") && word_at(c, 1, "SHARE")) {
        st->kind = MD_DBSTMT_CREATE_SHARE;
        c->i += 2;
        rc = create_share(c);
    } else if (word_at(c, 0, "CREATE") && word_at(c, 1, "OR") && word_at(c, 2, "REPLACE") && word_at(c, 3, "SHARE")) {
        st->kind = MD_DBSTMT_CREATE_SHARE;
        st->or_replace = 1;
        c->i += 4;
        rc = create_share(c);
    } else if (word_at(c, 0, "UPDATE") && word_at(c, 1, "SHARE") && c->n <= 3) {
        st->kind = MD_DBSTMT_UPDATE_SHARE;
        c->i += 2;
        rc = name(c, &st->share);
        if (rc == MD_OK) rc = end(c);
    } else if (word_at(c, 0, "DROP") && word_at(c, 1, "SHARE")) {
        st->kind = MD_DBSTMT_DROP_SHARE;
        c->i += 2;
        if (accept(c, "IF")) {
            rc = expect(c, "EXISTS");
            st->if_exists = 1;
        }
        if (rc == MD_OK) rc = name(c, &st->share);
        if (rc == MD_OK) rc = end(c);
    } else if (word_at(c, 0, "GRANT") || word_at(c, 0, "REVOKE")) {
        int grant = word_at(c, 0, "GRANT");
        st->kind = grant ? MD_DBSTMT_GRANT_SHARE : MD_DBSTMT_REVOKE_SHARE;
        c->i++;
        rc = grant_share(c, grant ? "TO" : "FROM");
    } else if (word_at(c, 0, "LIST") && word_at(c, 1, "SHARES")) {
        st->kind = MD_DBSTMT_LIST_SHARES;
        c->i += 2;
        rc = end(c);
    } else if (word_at(c, 0, "SHOW") && word_at(c, 1, "GRANTS")) {
        st->kind = MD_DBSTMT_SHOW_GRANTS;
        c->i += 2;
        rc = expect(c, "ON");
        if (rc == MD_OK) rc = expect(c, "SHARE");
        if (rc == MD_OK) rc = name(c, &st->share);
        if (rc == MD_OK) rc = end(c);
    }
    return rc;
}

/* ---- secrets ---- */

/* 1 if word k ahead names the server's storage: MOTHERDUCK or MD. */
static int server_storage_at(const cursor *c, size_t k) { return word_at(c, k, "MOTHERDUCK") || word_at(c, k, "MD"); }

/* One parameter value: the tokens up to the next ',' or ')' outside
 * brackets, kept as SQL text. */
static int param_value(cursor *c, char **out) {
    size_t start = c->i;
    int depth = 0;
    while (c->i < c->n) {
        const md_sql_token *t = at(c, 0);
        if (t->type == MD_TOK_PUNCT || t->type == MD_TOK_OP) {
            char ch = c->sql[t->off];
            if (depth == 0 && (ch == ',' || ch == ')')) break;
            if (ch == '(' || ch == '[' || ch == '{') depth++;
            if ((ch == ')' || ch == ']' || ch == '}') && depth > 0) depth--;
        }
        c->i++;
    }
    if (c->i == start) return fail(c, "a value");
    const md_sql_token *first = &c->toks[start], *last = &c->toks[c->i - 1];
    *out = md_strndup(c->sql + first->off, last->off + last->len - first->off);
    return MD_OK;
}

/* One parameter of CREATE SECRET: KEY value (the key upper-cased, each once). */
static int secret_param(cursor *c) {
    md_dbstmt *st = c->st;
    const md_sql_token *t = at(c, 0);
    if (!t || !(t->type == MD_TOK_IDENT || t->type == MD_TOK_KEYWORD)) return fail(c, "a parameter name");
    char *key = md_strndup(c->sql + t->off, t->len);
    for (char *p = key; *p; p++) *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    for (size_t i = 0; i < st->nparams; i++)
        if (strcmp(st->keys[i], key) == 0) {
            md_free(key);
            return fail(c, "each parameter once");
        }
    c->i++;
    char *value = NULL;
    int rc = param_value(c, &value);
    if (rc != MD_OK) {
        md_free(key);
        return rc;
    }
    st->keys = md_realloc(st->keys, (st->nparams + 1) * sizeof *st->keys);
    st->values = md_realloc(st->values, (st->nparams + 1) * sizeof *st->values);
    st->keys[st->nparams] = key;
    st->values[st->nparams++] = value;
    return MD_OK;
}

/* CREATE [OR REPLACE] [PERSISTENT] SECRET ... of the server (the cursor
 * after SECRET); the caller decided it is ours. */
static int create_secret(cursor *c) {
    md_dbstmt *st = c->st;
    int rc = if_not_exists(c);
    if (rc == MD_OK && !word_at(c, 0, "IN") && !punct_at(c, 0, '(')) rc = name(c, &st->secret);
    if (rc == MD_OK && accept(c, "IN")) {
        if (!server_storage_at(c, 0)) return fail(c, "MOTHERDUCK or MD");
        c->i++;
    }
    if (rc != MD_OK) return rc;
    if (!punct_at(c, 0, '(')) return fail(c, "\"(\" and the secret's parameters");
    rc = paren_list(c, secret_param);
    if (rc != MD_OK) return rc;
    int typed = 0;
    for (size_t i = 0; i < st->nparams; i++) typed |= strcmp(st->keys[i], "TYPE") == 0;
    if (!typed) return fail(c, "a TYPE parameter");
    return end(c);
}

/* The secret statements; MD_OK with the kind left NONE when the words are
 * not the server's (DuckDB's own CREATE / DROP SECRET). */
static int secret_statement(cursor *c) {
    md_dbstmt *st = c->st;
    if (accept(c, "CREATE")) {
        int or_replace = 0, persistent = 0;
        if (word_at(c, 0, "OR") && word_at(c, 1, "REPLACE")) c->i += 2, or_replace = 1;
        if (accept(c, "PERSISTENT")) persistent = 1;
        if (!accept(c, "SECRET")) return MD_OK;
        /* IN MOTHERDUCK|MD after an optional IF NOT EXISTS and name */
        size_t k = 0;
        if (word_at(c, 0, "IF")) k += 3;
        if (at(c, k) && !word_at(c, k, "IN") && !punct_at(c, k, '(')) k++;
        int in_server = word_at(c, k, "IN") && server_storage_at(c, k + 1);
        int in_other = word_at(c, k, "IN") && !in_server;
        if (!(persistent && !in_other) && !in_server) return MD_OK;
        st->kind = MD_DBSTMT_CREATE_SECRET;
        st->or_replace = or_replace;
        return create_secret(c);
    }
    if (accept(c, "DROP")) {
        int persistent = accept(c, "PERSISTENT"), temporary = !persistent && accept(c, "TEMPORARY");
        if (!accept(c, "SECRET") || temporary) return MD_OK;
        st->kind = MD_DBSTMT_DROP_SECRET;
        int rc = MD_OK;
        if (accept(c, "IF")) {
            rc = expect(c, "EXISTS");
            st->if_exists = 1;
        }
        if (rc == MD_OK) rc = name(c, &st->secret);
        st->explicit_storage = persistent;
        if (rc == MD_OK && accept(c, "FROM")) {
            if (!server_storage_at(c, 0)) { /* another storage: DuckDB's */
                md_free(st->secret);
                st->secret = NULL;
                st->kind = MD_DBSTMT_NONE;
                st->if_exists = 0;
                return MD_OK;
            }
            c->i++;
            st->explicit_storage = 1;
        }
        return rc == MD_OK ? end(c) : rc;
    }
    return MD_OK;
}

/* 'md:_share/<db>/<id>' after "md:": MD_OK with st->db and st->url_id. */
static int share_url(cursor *c, const char *rest) {
    const char *db = rest + strlen("_share/"), *slash = strchr(db, '/');
    if (!slash || slash == db || !slash[1] || strchr(slash + 1, '/')) {
        c->st->kind = MD_DBSTMT_ATTACH_SHARE;
        return fail(c, "a share URL 'md:_share/<database>/<id>'");
    }
    c->st->kind = MD_DBSTMT_ATTACH_SHARE;
    c->st->db = md_strndup(db, (size_t)(slash - db));
    c->st->url_id = md_strdup(slash + 1);
    return MD_OK;
}

/* ATTACH [OR REPLACE] [DATABASE] [IF NOT EXISTS] 'md:...' ... -- NONE
 * unless the path is md: or it is OR REPLACE of a file (ATTACH_FILE) */
static int attach(cursor *c) {
    int or_replace = 0;
    for (int k = 0; k < 2; k++) {
        if (word_at(c, 0, "OR") && word_at(c, 1, "REPLACE")) c->i += 2, or_replace = 1;
        accept(c, "DATABASE");
    }
    int if_not_exists = 0;
    if (word_at(c, 0, "IF") && word_at(c, 1, "NOT") && word_at(c, 2, "EXISTS")) {
        c->i += 3;
        if_not_exists = 1;
    }
    const md_sql_token *t = at(c, 0);
    if (!t || t->type != MD_TOK_STRING) return MD_OK;
    char *path = md_sql_token_value(c->sql, t, NULL);
    int ours = strncasecmp(path, "md:", 3) == 0;
    if (ours && or_replace) {
        md_free(path);
        c->st->kind = MD_DBSTMT_ATTACH;
        return fail(c, "no OR REPLACE for an md: database (DETACH it first)");
    }
    if (!ours && or_replace) {
        c->st->kind = MD_DBSTMT_ATTACH_FILE;
        c->i++;
        if (word_at(c, 0, "AS") && at(c, 1) && (at(c, 1)->type == MD_TOK_IDENT || at(c, 1)->type == MD_TOK_QIDENT ||
                                                 at(c, 1)->type == MD_TOK_KEYWORD))
            c->st->alias = md_sql_token_value(c->sql, at(c, 1), NULL);
        else c->st->alias = file_alias(path);
        md_free(path);
        return MD_OK;
    }
    if (ours && strncasecmp(path + 3, "_share/", 7) == 0) {
        int rc = share_url(c, path + 3);
        md_free(path);
        if (rc != MD_OK) return rc;
        c->st->if_not_exists = if_not_exists;
        c->i++;
        if (accept(c, "AS")) rc = name(c, &c->st->alias);
        return rc == MD_OK ? end(c) : rc;
    }
    if (ours) {
        c->st->kind = MD_DBSTMT_ATTACH;
        c->st->if_not_exists = if_not_exists;
        if (path[3]) c->st->db = md_strdup(path + 3);
    }
    md_free(path);
    if (!ours) return MD_OK;
    c->i++;
    if (accept(c, "AS")) {
        int rc = name(c, &c->st->alias);
        if (rc != MD_OK) return rc;
    }
    int rc = snapshot_options(c);
    if (rc != MD_OK) return rc;
    if (!c->st->db && (c->st->alias || c->st->snapshot || c->st->snapshot_time || c->st->read_only)) {
        c->i = 1;
        return fail(c, "'md:<database>' (AS and options need one database)");
    }
    return end(c);
}

int md_dbstmt_parse(const char *sql, const md_sql_token *toks, size_t n, md_dbstmt *out, md_sql_error *out_err) {
    md_dbstmt st;
    memset(&st, 0, sizeof st);
    st.access = st.discoverable = st.automatic = -1;
    cursor c = {sql, toks, n, 0, out_err, &st};
    int rc = share_statement(&c);
    if (rc == MD_OK && st.kind == MD_DBSTMT_NONE) {
        c.i = 0;
        rc = secret_statement(&c);
        if (st.kind == MD_DBSTMT_NONE) c.i = 0;
    }
    if (rc != MD_OK || st.kind != MD_DBSTMT_NONE) {
    } else if (accept(&c, "CREATE")) {
        if (accept(&c, "DATABASE")) {
            st.kind = MD_DBSTMT_CREATE_DATABASE;
            rc = create_database(&c);
        } else if (accept(&c, "SNAPSHOT")) {
            st.kind = MD_DBSTMT_CREATE_SNAPSHOT;
            rc = create_snapshot(&c);
        } else if (word_at(&c, 0, "OR") && word_at(&c, 1, "REPLACE") && word_at(&c, 2, "DATABASE")) {
            st.kind = MD_DBSTMT_CREATE_DATABASE;
            c.i += 2;
            rc = fail(&c, "no OR REPLACE (drop the database first)");
        }
    } else if (accept(&c, "DROP")) {
        if (accept(&c, "DATABASE")) {
            st.kind = MD_DBSTMT_DROP_DATABASE;
            if (accept(&c, "IF")) {
                rc = expect(&c, "EXISTS");
                st.if_exists = 1;
            }
            if (rc == MD_OK) rc = name(&c, &st.db);
            if (rc == MD_OK && !accept(&c, "CASCADE")) accept(&c, "RESTRICT");
            if (rc == MD_OK) rc = end(&c);
        }
    } else if (accept(&c, "UNDROP")) {
        st.kind = MD_DBSTMT_UNDROP_DATABASE;
        rc = expect(&c, "DATABASE");
        if (rc == MD_OK) rc = name(&c, &st.db);
        if (rc == MD_OK) rc = end(&c);
    } else if (accept(&c, "ALTER")) {
        if (accept(&c, "DATABASE")) {
            st.kind = MD_DBSTMT_ALTER_DATABASE;
            int64_t days = 0;
            if (word_at(&c, 0, "IF") && word_at(&c, 1, "EXISTS")) c.i += 2, st.if_exists = 1;
            rc = name(&c, &st.db);
            if (rc == MD_OK && !(word_at(&c, 0, "SET") && word_at(&c, 1, "SNAPSHOT_RETENTION_DAYS"))) {
                st.kind = MD_DBSTMT_ALTER_OTHER; /* DuckDB's, unless it names an md: attachment */
                *out = st;
                return MD_OK;
            }
            if (rc == MD_OK) rc = expect(&c, "SET");
            if (rc == MD_OK) rc = expect(&c, "SNAPSHOT_RETENTION_DAYS");
            if (rc == MD_OK) {
                const md_sql_token *t = at(&c, 0);
                if (t && t->type == MD_TOK_OP && t->len == 1 && sql[t->off] == '=') c.i++;
                else accept(&c, "TO");
                rc = integer(&c, 0, 36500, &days);
            }
            st.retention_days = (int)days;
            if (rc == MD_OK) rc = end(&c);
        }
    } else if (accept(&c, "ATTACH")) {
        rc = attach(&c);
    } else if (accept(&c, "DETACH")) {
        st.kind = MD_DBSTMT_DETACH;
        accept(&c, "DATABASE");
        if (accept(&c, "IF")) {
            rc = expect(&c, "EXISTS");
            st.if_exists = 1;
        }
        if (rc == MD_OK) rc = name(&c, &st.db);
        if (rc == MD_OK && c.i < c.n) { /* something DuckDB may know: let it answer */
            md_dbstmt_free(&st);
            rc = MD_OK;
        }
    } else if (accept(&c, "SHOW")) {
        int all = accept(&c, "ALL");
        if (accept(&c, "DATABASES")) {
            st.kind = MD_DBSTMT_SHOW_DATABASES;
            st.all = all;
            rc = end(&c);
        }
    } else if (word_at(&c, 0, "SET") || word_at(&c, 0, "RESET")) {
        md_session_set set;
        const md_sql_token *last = &toks[n - 1];
        md_sql_error e;
        int src = md_session_set_read(sql + toks[0].off, last->off + last->len - toks[0].off, &set, &e);
        if (src == MD_OK && set.server_setting) {
            st.kind = MD_DBSTMT_SET_TIMEOUT;
            st.timeout_ms = set.timeout_ms;
        } else if (src != MD_OK && (word_at(&c, 1, "statement_timeout") || word_at(&c, 2, "statement_timeout"))) {
            e.position += toks[0].off;
            if (out_err) *out_err = e;
            rc = e.code;
        }
        md_free(set.sql);
    } else if (accept(&c, "REFRESH")) {
        if (accept(&c, "DATABASES")) {
            st.kind = MD_DBSTMT_REFRESH;
            rc = end(&c);
        } else if (accept(&c, "DATABASE")) {
            st.kind = MD_DBSTMT_REFRESH;
            rc = db_ref(&c, &st.db);
            if (rc == MD_OK) rc = end(&c);
        }
    }
    if (rc != MD_OK) {
        md_dbstmt_free(&st);
        return rc;
    }
    *out = st;
    return MD_OK;
}

void md_dbstmt_free(md_dbstmt *s) {
    md_free(s->db);
    md_free(s->alias);
    md_free(s->from);
    md_free(s->snapshot_name);
    md_free(s->snapshot_time);
    md_free(s->share);
    md_free(s->url_id);
    for (size_t i = 0; i < s->nusers; i++) md_free(s->users[i]);
    md_free(s->users);
    md_free(s->secret);
    for (size_t i = 0; i < s->nparams; i++) {
        md_free(s->keys[i]);
        if (s->values[i]) memset(s->values[i], 0, strlen(s->values[i])); /* values do not linger */
        md_free(s->values[i]);
    }
    md_free(s->keys);
    md_free(s->values);
    memset(s, 0, sizeof *s);
}

const char *md_dbstmt_verb(md_dbstmt_kind kind) {
    switch (kind) {
#define MD__DBSTMT_VERB(k, verb) \
    case MD_DBSTMT_##k:          \
        return verb;
        MD_DBSTMT_KINDS(MD__DBSTMT_VERB)
#undef MD__DBSTMT_VERB
    }
    return "";
}

int md_dbscript_parse(const char *sql, size_t len, md_dbscript **out, md_sql_error *out_err) {
    *out = NULL;
    md_sql_token *toks = NULL;
    size_t ntoks = 0;
    md_sql_error lex_err;
    if (md_sql_lex(sql, len, 0, &toks, &ntoks, &lex_err) != MD_OK) return MD_OK;
    md_sql_span *spans = NULL;
    size_t nspans = 0;
    md_sql_split(toks, ntoks, &spans, &nspans);
    md_dbscript *scr = md_calloc(1, sizeof *scr);
    scr->stmts = nspans ? md_calloc(nspans, sizeof *scr->stmts) : NULL;
    int rc = MD_OK;
    for (size_t i = 0; i < nspans && rc == MD_OK; i++) {
        const md_sql_token *first = &toks[spans[i].first], *last = &toks[spans[i].first + spans[i].count - 1];
        md_dbscript_stmt *s = &scr->stmts[scr->n++];
        s->start = first->off;
        s->end = last->off + last->len;
        rc = md_dbstmt_parse(sql, first, spans[i].count, &s->st, out_err);
        if (rc == MD_OK && s->st.kind != MD_DBSTMT_NONE) scr->ours++;
    }
    md_free(spans);
    md_free(toks);
    if (rc != MD_OK) {
        md_dbscript_free(&scr);
        return rc;
    }
    *out = scr;
    return MD_OK;
}

void md_dbscript_free(md_dbscript **ps) {
    if (!ps || !*ps) return;
    for (size_t i = 0; i < (*ps)->n; i++) md_dbstmt_free(&(*ps)->stmts[i].st);
    md_free((*ps)->stmts);
    md_free(*ps);
    *ps = NULL;
}

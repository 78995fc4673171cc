/*
 * admin_cmd.c: `mdserver token ...` and `mdserver user ...` (see admin_cmd.h).
 *
 *   token create --user NAME [--kind rw|read-only|read-scaling] [--name N]
 *                [--expires-in 30d] [--org ORG]
 *       creates the user (in ORG, default "default") if needed; prints only
 *       the new token on stdout.  --read-only is --kind read-only.
 *   token list [--user NAME]     kind, name, created, expiry, last use
 *   token revoke ID
 *   user create NAME [--org ORG] [--role admin|member]
 *   user list
 *   user delete NAME             revokes its tokens; its files stay
 *   secrets rotate-key [--master-key-file F]
 *       seals every stored secret under a new master key (secrets.h)
 * Every verb takes --data-dir DIR (default ./mdserver-data).
 */
#include "admin_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "meta.h"
#include "secrets.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "token.h"

static void usage(FILE *f) {
    fprintf(f, "usage: mdserver token create --user NAME [--kind rw|read-only|read-scaling] [--name N]\n"
               "                             [--expires-in 30d|12h|15m|90s] [--org ORG]\n"
               "       mdserver token list   [--user NAME]\n"
               "       mdserver token revoke ID\n"
               "       mdserver user create NAME [--org ORG] [--role admin|member]\n"
               "       mdserver user list\n"
               "       mdserver user delete NAME\n"
               "       mdserver secrets rotate-key [--master-key-file F]\n"
               "every verb takes --data-dir DIR (default ./mdserver-data)\n");
}

int md_admin_parse_duration(const char *text, long *out_s) {
    if (!text || !*text) return MD_EINVAL;
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || end == text || n <= 0) return MD_EINVAL;
    long unit = 1;
    if (*end == 'd') unit = 86400, end++;
    else if (*end == 'h') unit = 3600, end++;
    else if (*end == 'm') unit = 60, end++;
    else if (*end == 's') end++;
    if (*end || n > 100L * 365 * 86400 / unit) return MD_EINVAL;
    *out_s = n * unit;
    return MD_OK;
}

static void print_token(void *ctx, const md_token_row *r) {
    printf("%-6ld %-16s %-10s %-13s %-20s %-20s %-20s %-20s %s\n", r->id, r->user, r->prefix,
           md_token_kind_name(r->kind), r->name ? r->name : "-", r->created_at, r->expires_at ? r->expires_at : "never",
           r->last_used_at ? r->last_used_at : "never", r->revoked_at ? r->revoked_at : "-");
}

static void print_user(void *ctx, const md_user_row *r) {
    printf("%-24s %-16s %-7s %-20s %ld\n", r->name, r->org, r->is_admin ? "admin" : "member", r->created_at, r->tokens);
}

typedef struct opts {
    const char *data_dir, *user, *org, *name, *kind, *expires, *role, *key_file;
} opts;

static int open_meta(const opts *o, int create_dir, md_meta **out) {
    if (create_dir && mkdir(o->data_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "mdserver: cannot create %s: %s\n", o->data_dir, strerror(errno));
        return 1;
    }
    struct stat st;
    if (stat(o->data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "mdserver: no data directory at %s\n", o->data_dir);
        return 1;
    }
    char *err = NULL;
    if (md_meta_open(o->data_dir, out, &err) != MD_OK) {
        fprintf(stderr, "mdserver: %s\n", err);
        md_free(err);
        return 1;
    }
    return 0;
}

static int token_create(const opts *o) {
    md_token_kind kind = MD_TOKEN_READ_WRITE;
    long expires_s = 0;
    if (!md_meta_valid_user_name(o->user)) {
        fprintf(stderr, "mdserver token create: --user NAME is required: 1-63 characters of a-z, 0-9, _ and -\n");
        return 2;
    }
    if (o->kind && md_token_kind_parse(o->kind, &kind) != MD_OK) {
        fprintf(stderr, "mdserver token create: --kind is rw, read-only or read-scaling\n");
        return 2;
    }
    if (o->expires && md_admin_parse_duration(o->expires, &expires_s) != MD_OK) {
        fprintf(stderr, "mdserver token create: --expires-in takes a duration such as 30d, 12h, 15m or 90s\n");
        return 2;
    }
    md_meta *meta = NULL;
    if (open_meta(o, 1, &meta)) return 1;
    char token[MD_TOKEN_LEN + 1];
    int rc = md_meta_user_ensure(meta, o->user, o->org, 0, NULL);
    if (rc == MD_OK) rc = md_token_issue(meta, o->user, kind, o->name, expires_s, token, NULL);
    md_meta_close(&meta);
    if (rc == MD_EEXISTS) fprintf(stderr, "mdserver token create: user %s was deleted; its name is not given again\n",
                                  o->user);
    else if (rc == MD_EINVAL) fprintf(stderr, "mdserver token create: --org: 1-63 characters of a-z, 0-9, _ and -\n");
    else if (rc != MD_OK) fprintf(stderr, "mdserver token create: could not store the token\n");
    if (rc != MD_OK) return 1;
    printf("%s\n", token);
    return 0;
}

static int token_list(const opts *o) {
    md_meta *meta = NULL;
    if (open_meta(o, 0, &meta)) return 1;
    printf("%-6s %-16s %-10s %-13s %-20s %-20s %-20s %-20s %s\n", "id", "user", "prefix", "kind", "name",
           "created (UTC)", "expires (UTC)", "last used (UTC)", "revoked");
    int status = md_meta_token_list(meta, o->user, print_token, NULL) == MD_OK ? 0 : 1;
    md_meta_close(&meta);
    return status;
}

static int token_revoke(const opts *o, const char *arg) {
    char *end;
    long id = arg ? strtol(arg, &end, 10) : 0;
    if (!arg || *end || id <= 0) {
        fprintf(stderr, "mdserver token revoke: give the token id to revoke (see `mdserver token list`)\n");
        return 2;
    }
    md_meta *meta = NULL;
    if (open_meta(o, 0, &meta)) return 1;
    int rc = md_meta_token_revoke(meta, id, NULL);
    md_meta_close(&meta);
    if (rc != MD_OK) {
        fprintf(stderr, "mdserver token revoke: no valid token with id %ld\n", id);
        return 1;
    }
    printf("revoked token %ld (its open sessions end within a second)\n", id);
    return 0;
}

static int user_create(const opts *o, const char *name) {
    if (!md_meta_valid_user_name(name)) {
        fprintf(stderr, "mdserver user create: NAME: 1-63 characters of a-z, 0-9, _ and -\n");
        return 2;
    }
    if (o->role && strcmp(o->role, "admin") != 0 && strcmp(o->role, "member") != 0) {
        fprintf(stderr, "mdserver user create: --role is admin or member\n");
        return 2;
    }
    md_meta *meta = NULL;
    if (open_meta(o, 1, &meta)) return 1;
    int created = 0;
    int rc = md_meta_user_ensure(meta, name, o->org, o->role && strcmp(o->role, "admin") == 0, &created);
    md_meta_close(&meta);
    if (rc == MD_OK && !created) {
        fprintf(stderr, "mdserver user create: user %s exists\n", name);
        return 1;
    }
    if (rc != MD_OK) {
        fprintf(stderr, "mdserver user create: %s\n",
                rc == MD_EEXISTS ? "that name belonged to a deleted user; choose another"
                : rc == MD_EINVAL ? "--org: 1-63 characters of a-z, 0-9, _ and -"
                                  : "could not store the user");
        return 1;
    }
    printf("created user %s (create a token with: mdserver token create --user %s)\n", name, name);
    return 0;
}

static int user_list(const opts *o) {
    md_meta *meta = NULL;
    if (open_meta(o, 0, &meta)) return 1;
    printf("%-24s %-16s %-7s %-20s %s\n", "user", "organization", "role", "created (UTC)", "tokens");
    int status = md_meta_user_list(meta, print_user, NULL) == MD_OK ? 0 : 1;
    md_meta_close(&meta);
    return status;
}

static int user_delete(const opts *o, const char *name) {
    if (!name) {
        usage(stderr);
        return 2;
    }
    md_meta *meta = NULL;
    if (open_meta(o, 0, &meta)) return 1;
    int rc = md_meta_user_delete(meta, name);
    md_meta_close(&meta);
    if (rc != MD_OK) {
        fprintf(stderr, "mdserver user delete: no user %s\n", name);
        return 1;
    }
    printf("deleted user %s: its tokens are revoked; its files stay in the data directory\n", name);
    return 0;
}

static int rotate_key(const opts *o) {
    long n = 0;
    char *err = NULL;
    int rc = md_secrets_rotate(o->data_dir, o->key_file, &n, &err);
    if (rc != MD_OK) {
        fprintf(stderr, "mdserver secrets rotate-key: %s\n", err ? err : md_strerror(rc));
        md_free(err);
        return 1;
    }
    printf("sealed %ld secret%s under a new master key\n", n, n == 1 ? "" : "s");
    return 0;
}

int md_admin_cmd_main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *noun = argv[0], *verb = argv[1];
    opts o = {.data_dir = "mdserver-data"};
    static const struct option longopts[] = {{"data-dir", required_argument, 0, 'd'},
                                             {"user", required_argument, 0, 'u'},
                                             {"org", required_argument, 0, 'o'},
                                             {"name", required_argument, 0, 'n'},
                                             {"kind", required_argument, 0, 'k'},
                                             {"read-only", no_argument, 0, 'r'},
                                             {"expires-in", required_argument, 0, 'e'},
                                             {"role", required_argument, 0, 'R'},
                                             {"master-key-file", required_argument, 0, 'M'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o.data_dir = optarg; break;
        case 'u': o.user = optarg; break;
        case 'o': o.org = optarg; break;
        case 'n': o.name = optarg; break;
        case 'k': o.kind = optarg; break;
        case 'r': o.kind = "read-only"; break;
        case 'e': o.expires = optarg; break;
        case 'R': o.role = optarg; break;
        case 'M': o.key_file = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    const char *arg = optind < argc ? argv[optind] : NULL;
    if (optind + (arg != NULL) != argc) {
        usage(stderr);
        return 2;
    }
    if (strcmp(noun, "token") == 0) {
        if (strcmp(verb, "create") == 0 && !arg) return token_create(&o);
        if (strcmp(verb, "list") == 0 && !arg) return token_list(&o);
        if (strcmp(verb, "revoke") == 0) return token_revoke(&o, arg);
    } else if (strcmp(noun, "user") == 0) {
        if (strcmp(verb, "create") == 0) return user_create(&o, arg);
        if (strcmp(verb, "list") == 0 && !arg) return user_list(&o);
        if (strcmp(verb, "delete") == 0) return user_delete(&o, arg);
    } else if (strcmp(noun, "secrets") == 0 && strcmp(verb, "rotate-key") == 0 && !arg) {
        return rotate_key(&o);
    }
    usage(stderr);
    return 2;
}

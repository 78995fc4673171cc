/*
 * token_cmd.c: `mdserver token ...` (see token_cmd.h).
 *
 *   token create --data-dir DIR --user NAME [--read-only]
 *       creates the user if needed; prints only the new token on stdout
 *   token list   --data-dir DIR
 *   token revoke --data-dir DIR ID
 */
#include "token_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "meta.h"
#include "shared/md_alloc.h"
#include "shared/md_error.h"
#include "token.h"

static void usage(FILE *f) {
    fprintf(f, "usage: mdserver token create --data-dir DIR --user NAME [--read-only]\n"
               "       mdserver token list   --data-dir DIR\n"
               "       mdserver token revoke --data-dir DIR ID\n"
               "(DIR defaults to ./mdserver-data)\n");
}

static void print_row(void *ctx, const md_token_row *r) {
    printf("%-6ld %-16s %-10s %-10s %-20s %s\n", r->id, r->user, r->prefix, r->read_only ? "read-only" : "read-write",
           r->created_at, r->revoked_at ? r->revoked_at : "-");
}

int md_token_cmd_main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *verb = argv[1];
    const char *data_dir = "mdserver-data", *user = NULL;
    int read_only = 0;
    static const struct option longopts[] = {{"data-dir", required_argument, 0, 'd'},
                                             {"user", required_argument, 0, 'u'},
                                             {"read-only", no_argument, 0, 'r'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'u': user = optarg; break;
        case 'r': read_only = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    int is_create = strcmp(verb, "create") == 0, is_list = strcmp(verb, "list") == 0,
        is_revoke = strcmp(verb, "revoke") == 0;
    if (!is_create && !is_list && !is_revoke) {
        usage(stderr);
        return 2;
    }
    if (is_create && !md_meta_valid_user_name(user)) {
        fprintf(stderr, "mdserver token create: --user NAME is required: 1-63 characters of a-z, 0-9, _ and -\n");
        return 2;
    }
    if (is_revoke && optind + 1 != argc) {
        fprintf(stderr, "mdserver token revoke: give the token id to revoke (see `mdserver token list`)\n");
        return 2;
    }
    if (is_create && mkdir(data_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "mdserver token: cannot create %s: %s\n", data_dir, strerror(errno));
        return 1;
    }
    struct stat st;
    if (stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "mdserver token: no data directory at %s\n", data_dir);
        return 1;
    }
    md_meta *meta = NULL;
    char *err = NULL;
    if (md_meta_open(data_dir, &meta, &err) != MD_OK) {
        fprintf(stderr, "mdserver token: %s\n", err);
        md_free(err);
        return 1;
    }
    int status = 1;
    if (is_create) {
        char token[MD_TOKEN_LEN + 1], hash[MD_TOKEN_HASH_LEN + 1], prefix[9];
        if (md_token_generate(token) == MD_OK) {
            md_token_hash(token, hash);
            memcpy(prefix, token, 8);
            prefix[8] = 0;
            if (md_meta_user_ensure(meta, user, 0, NULL) == MD_OK &&
                md_meta_token_add(meta, user, hash, prefix, read_only, NULL) == MD_OK) {
                printf("%s\n", token);
                status = 0;
            }
        }
        if (status) fprintf(stderr, "mdserver token create: could not store the token\n");
    } else if (is_list) {
        printf("%-6s %-16s %-10s %-10s %-20s %s\n", "id", "user", "prefix", "mode", "created (UTC)", "revoked");
        status = md_meta_token_list(meta, print_row, NULL) == MD_OK ? 0 : 1;
    } else {
        char *end;
        long id = strtol(argv[optind], &end, 10);
        int rc = *end ? MD_EINVAL : md_meta_token_revoke(meta, id);
        if (rc == MD_OK) {
            printf("revoked token %ld\n", id);
            status = 0;
        } else {
            fprintf(stderr, "mdserver token revoke: no valid token with id %s\n", argv[optind]);
        }
    }
    md_meta_close(&meta);
    return status;
}

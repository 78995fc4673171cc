/*
 * main.c: the one mdserver binary and its subcommands.
 *
 *   mdserver [serve] [options]   the server (default)
 *   mdserver token ...           manage access tokens
 *   mdserver user ...            manage users
 *   mdserver secrets rotate-key  seal stored secrets under a new master key
 *   mdserver client ...          terminal client
 *   mdserver fsck|gc ...         check / garbage-collect snapshot storage
 *   mdserver duckling ...        internal: a user's query engine process
 */
#include <stdio.h>
#include <string.h>

#include "serve.h"
#include "server/client/client.h"
#include "server/duckling/duckling.h"
#include "server/storage/storage_cmd.h"
#include "admin_cmd.h"
#include "version.h"

static void usage(FILE *f) {
    fprintf(f, "usage: mdserver [serve] [--port N] [--bind ADDR] [--data-dir DIR] ...\n"
               "       mdserver token create|list|revoke ...\n"
               "       mdserver user create|list|delete ...\n"
               "       mdserver secrets rotate-key [--data-dir DIR] [--master-key-file F]\n"
               "       mdserver client --url ws://HOST:PORT/ws [--token T] [-c SQL] [--format table|csv|json]\n"
               "       mdserver fsck --data-dir DIR\n"
               "       mdserver gc --data-dir DIR [--dry-run] [--min-age SECONDS]\n"
               "Run a subcommand with --help for its options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return 0;
        }
        if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
            printf("mdserver %s (DuckDB %s)\n", MD_SERVER_VERSION, md_duckdb_version());
            return 0;
        }
        argv[0] = "serve";
        return md_serve_main(argc, argv);
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0) return md_serve_main(argc - 1, argv + 1);
    if (strcmp(cmd, "token") == 0 || strcmp(cmd, "user") == 0 || strcmp(cmd, "secrets") == 0) return md_admin_cmd_main(argc - 1, argv + 1);
    if (strcmp(cmd, "client") == 0) return md_client_main(argc - 1, argv + 1);
    if (strcmp(cmd, "duckling") == 0) return md_duckling_main(argc - 1, argv + 1);
    if (strcmp(cmd, "fsck") == 0 || strcmp(cmd, "gc") == 0) return md_storage_cmd_main(argc - 1, argv + 1);
    fprintf(stderr, "mdserver: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}

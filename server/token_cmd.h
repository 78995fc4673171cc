/*
 * token_cmd.h: `mdserver token create|list|revoke`: manage access tokens in
 * a data directory's metadata store (works while a server runs).
 */
#ifndef MD_TOKEN_CMD_H
#define MD_TOKEN_CMD_H

/* Entry point; argv[0] is "token".  Returns the exit status. */
int md_token_cmd_main(int argc, char **argv);

#endif

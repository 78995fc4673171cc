/*
 * admin_cmd.h: `mdserver token ...` and `mdserver user ...`: manage the
 * access tokens and the users of a data directory's metadata store (meta.h;
 * works while a server runs: a revoked token's open sessions end within a
 * second, session.c).
 */
#ifndef MD_ADMIN_CMD_H
#define MD_ADMIN_CMD_H

/* Entry point; argv[0] is "token" or "user".  Returns the exit status. */
int md_admin_cmd_main(int argc, char **argv);

/* Seconds in a duration such as "30d", "12h", "15m", "90s" or "3600":
 * MD_OK with *out_s (> 0), or MD_EINVAL. */
int md_admin_parse_duration(const char *text, long *out_s);

#endif

/*
 * storage_cmd.h: `mdserver fsck` and `mdserver gc`: check and garbage-collect
 * a data directory's snapshot storage (storage_cmd.c says what each does).
 */
#ifndef MD_STORAGE_CMD_H
#define MD_STORAGE_CMD_H

/* Entry point; argv[0] is "fsck" or "gc".  Returns the exit status. */
int md_storage_cmd_main(int argc, char **argv);

#endif

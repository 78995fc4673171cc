/*
 * serve.h: `mdserver serve`: start the server with its embedded defaults.
 */
#ifndef MD_SERVE_H
#define MD_SERVE_H

/* Entry point; argv[0] is "serve".  Runs until SIGTERM/SIGINT, then shuts
 * down in order (HTTP, sessions, ducklings, metadata).  Returns the exit
 * status. */
int md_serve_main(int argc, char **argv);

#endif

/*
 * hybrid.h: `mdbench hybrid`: hybrid_join and hybrid_aggregate (hybrid.c
 * says what each measures).
 */
#ifndef BENCH_HYBRID_H
#define BENCH_HYBRID_H

/* Run both against the server at url (the `facts` table of mdbench setup
 * must exist), `runs` timed runs each; JSON files into json_dir (NULL:
 * none).  Returns the exit status (0: all measured). */
int bench_hybrid_main(const char *url, const char *token, int runs, const char *json_dir);

#endif

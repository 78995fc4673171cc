/*
 * storage.h: `mdbench storage`: snapshot_small_commit, snapshot_history_cost,
 * time_travel_attach and clone_cost (storage.c says what each measures).
 */
#ifndef BENCH_STORAGE_H
#define BENCH_STORAGE_H

/* Run them against the server at url (user "bench", data in data_dir) on a
 * database of `rows` rows the benchmark makes, whose plain copy goes to
 * `plain`; JSON files into json_dir (NULL: none).  Returns the exit status
 * (0: all measured). */
int bench_storage_main(const char *url, const char *token, const char *data_dir, const char *plain, long rows,
                       int runs, const char *json_dir);

#endif

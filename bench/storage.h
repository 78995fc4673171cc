/*
 * storage.h: `mdbench storage`: snapshot_small_commit and
 * snapshot_history_cost (storage.c says what each measures).
 */
#ifndef BENCH_STORAGE_H
#define BENCH_STORAGE_H

/* Run both against the server at url (user "bench", data in data_dir) and
 * the plain copy db_copy of its my_db; JSON files into json_dir (NULL:
 * none).  Returns the exit status (0: both measured). */
int bench_storage_main(const char *url, const char *token, const char *data_dir, const char *db_copy, int runs,
                       const char *json_dir);

#endif

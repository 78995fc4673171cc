/*
 * version.c: versions (see version.h).
 */
#include "version.h"

#include <duckdb.h>

const char *md_duckdb_version(void) { return duckdb_library_version(); }

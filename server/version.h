/*
 * version.h: the version of mdserver, and of the DuckDB library it runs.
 */
#ifndef MD_VERSION_H
#define MD_VERSION_H

#define MD_SERVER_VERSION "0.1.0"

/* DuckDB's own version string of the loaded library, e.g. "v1.4.4". */
const char *md_duckdb_version(void);

#endif

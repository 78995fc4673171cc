/*
 * duckling.h: the per-user DuckDB process (`mdserver duckling`, internal).
 *
 * Started by the duckling pool (pool.c) with its control socket on fd 3.
 * It opens the user's database, applies the sandbox before any user SQL, says
 * READY on the control socket, then serves sessions: each session arrives as
 * a socket passed over the control socket (SCM_RIGHTS), speaks the frame
 * protocol of protocol.h, and gets its own DuckDB connection.  The duckling
 * exits cleanly (checkpointing the database) when the control socket closes.
 *
 * Control socket messages (frames of protocol.h, type SESSION, JSON):
 *   duckling -> pool, once:  {"ok":true,"duckdb_version":"v1.4.4"}
 *                            or {"ok":false,"error":"..."} and exit(1)
 *   pool -> duckling:        one byte 'S' carrying one fd (SCM_RIGHTS) per
 *                            new session; EOF means shut down.
 * First frame on a session socket (pool -> duckling): SESSION
 *   {"user":"alice","read_only":false}
 */
#ifndef MD_DUCKLING_H
#define MD_DUCKLING_H

#define MD_DUCKLING_CONTROL_FD 3

/* Sessions one duckling serves at once (one DuckDB connection each); the
 * pool refuses a user's next session with SERVER_BUSY. */
#define MD_DUCKLING_MAX_SESSIONS 64

/* Entry point of `mdserver duckling ...`; argv[0] is "duckling".  Returns the
 * process exit status. */
int md_duckling_main(int argc, char **argv);

#endif

/*
 * admission.h: what a client may hold before it has proven anything.
 *
 * Two budgets, both checked before the server reads a byte of what the
 * connection asks for:
 *   - per address: TCP connections open at once from one remote address
 *     (HTTP and WebSocket alike), counted from accept to close.  IPv6
 *     addresses count by their /64 prefix (one host usually owns a /64);
 *     IPv4-mapped IPv6 addresses count as the IPv4 address.
 *   - unauthenticated: WebSockets open at once that have not yet said a
 *     valid HELLO (each also has a deadline, kept by session.c).
 * Thread-safe: civetweb's worker threads call in concurrently.
 */
#ifndef MD_ADMISSION_H
#define MD_ADMISSION_H

typedef struct md_admission md_admission;

/* Create the budgets (a limit <= 0 means none). */
md_admission *md_admission_create(int max_per_address, int max_unauthenticated);

/* Free them; *a becomes NULL. */
void md_admission_destroy(md_admission **a);

/* A connection from `addr` (text, as civetweb prints it) opens.  Returns 1
 * when it is admitted (md_admission_address_close must follow), 0 when
 * the address already holds its budget. */
int md_admission_address_open(md_admission *a, const char *addr);

/* An admitted connection from `addr` closed. */
void md_admission_address_close(md_admission *a, const char *addr);

/* A WebSocket opens without authentication.  Returns 1 when admitted
 * (md_admission_unauth_leave must follow, once), 0 when over budget. */
int md_admission_unauth_enter(md_admission *a);

/* An admitted unauthenticated WebSocket authenticated or closed. */
void md_admission_unauth_leave(md_admission *a);

#endif

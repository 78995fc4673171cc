/*
 * client.h: `mdserver client`, the terminal client.
 *
 *   mdserver client [--url ws://HOST:PORT/ws] [--token T] [-c SQL]
 *                   [--format table|csv|json]
 *
 * Connects over WebSocket (ws_client.h), authenticates with HELLO/WELCOME
 * (protocol.h) and runs SQL on the server, printing results with
 * result_format.h.  With -c it runs the SQL text as one QUERY (the server
 * runs its statements in order) and exits; with SQL piped on stdin it does
 * the same with stdin's text; otherwise it is an interactive shell (GNU
 * readline, history in ~/.mdserver_history, Ctrl-C cancels the running
 * query).
 *
 * Exit status: 0 success, 1 an SQL error (printed as "Error: ..." on
 * stderr), 2 usage, connection, authentication or protocol failure.
 */
#ifndef MD_CLIENT_H
#define MD_CLIENT_H

/*
 * Run the client; argv[0] is "client".  Returns the process exit status.
 * Environment: MD_URL (default URL), MD_TOKEN (default token).
 */
int md_client_main(int argc, char **argv);

#endif

/*
 * gen_protocol_js.c: prints protocol.js, the page's copy of the message table
 * (shared/protocol.h) and of the error space (shared/md_error.h).  The
 * Makefile builds and runs it (build/ui/js/protocol.js), so the JavaScript
 * keeps no list of its own that could drift from the C one.
 */
#include <stdio.h>

#include "shared/md_error.h"
#include "shared/protocol.h"

/* s as a JavaScript string literal. */
static void js_string(const char *s) {
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\') putchar('\\');
        putchar(*s);
    }
    putchar('\'');
}

static const char *payload_name(enum md_payload_kind p) {
    switch (p) {
    case MD_PAYLOAD_JSON: return "json";
    case MD_PAYLOAD_ARROW: return "arrow";
    case MD_PAYLOAD_ANY: return "any";
    }
    return "any";
}

static const char *serve_name(enum md_msg_serve s) {
    switch (s) {
    case MD_SERVE_NONE: return "none";
    case MD_SERVE_HELLO: return "hello";
    case MD_SERVE_ECHO: return "echo";
    case MD_SERVE_JOB: return "job";
    case MD_SERVE_SIGNAL: return "signal";
    case MD_SERVE_FRONT: return "front";
    }
    return "none";
}

static const char *ends_name(enum md_msg_ends e) {
    switch (e) {
    case MD_ENDS_NO: return "no";
    case MD_ENDS_YES: return "yes";
    case MD_ENDS_IF_FINAL: return "if_final";
    }
    return "no";
}

int main(void) {
    printf("// protocol.js: GENERATED at build time by scripts/gen_protocol_js.c from the\n"
           "// message table of shared/protocol.h and the error space of shared/md_error.h.\n"
           "// Change those, never this.\n\n");
    printf("export const PROTOCOL_VERSION = %d;\nexport const HEADER_SIZE = %d;\n\n", MD_PROTOCOL_VERSION,
           MD_FRAME_HEADER_SIZE);

    printf("/** Message type codes by name. */\nexport const MSG = Object.freeze({\n");
#define JS_MSG_CODE(name, code, origin, payload, serve, ends, job) printf("  %s: 0x%02x,\n", #name, code);
    MD_MSG_LIST(JS_MSG_CODE)
#undef JS_MSG_CODE
    printf("});\n\n");

    printf("/** Each message type's row: name, payload ('json', 'arrow', 'any'), how the server\n"
           " * serves it from a client ('none', 'hello', 'echo', 'job', 'signal', 'front') and whether\n"
           " * it ends the request it answers ('no', 'yes', 'if_final': its JSON's final). */\n"
           "export const MESSAGES = Object.freeze({\n");
#define JS_MSG_ROW(name, code, origin, payload, serve, ends, job)                                             \
    printf("  0x%02x: Object.freeze({ name: '%s', payload: '%s', serve: '%s', ends: '%s' }),\n", code, #name, \
           payload_name(payload), serve_name(serve), ends_name(ends));
    MD_MSG_LIST(JS_MSG_ROW)
#undef JS_MSG_ROW
    printf("});\n\n");

    printf("/** The stable error codes (the wire names) with their C status and default sentence. */\n"
           "export const ERRORS = Object.freeze({\n");
#define JS_ERROR(name, val, wire, msg)                     \
    printf("  %s: Object.freeze({ status: %d, message: ", wire, val); \
    js_string(msg);                                         \
    printf(" }),\n");
    MD_ERRNO_MAP(JS_ERROR)
#undef JS_ERROR
    printf("});\n");
    return 0;
}

/*
 * test_protocol.c: the frame header codec (shared/protocol.c) and frame I/O
 * over a socketpair (shared/frame_io.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "shared/frame_io.h"
#include "shared/md_alloc.h"
#include "shared/md_buf.h"
#include "shared/md_error.h"
#include "shared/protocol.h"

static void header_round_trip(void **state) {
    uint8_t h[MD_FRAME_HEADER_SIZE];
    md_frame_header_encode(h, MD_MSG_QUERY, 0xdeadbeef, 1234);
    assert_int_equal(h[0], 'M');
    assert_int_equal(h[1], 'D');
    assert_int_equal(h[2], MD_PROTOCOL_VERSION);
    assert_int_equal(h[3], 0x10);
    assert_int_equal(md_get_u32le(h + 8), 0xdeadbeef);
    assert_int_equal(md_get_u32le(h + 12), 1234);
    md_frame_header out;
    assert_int_equal(md_frame_header_decode(h, 4096, &out, NULL), MD_OK);
    assert_int_equal(out.type, MD_MSG_QUERY);
    assert_int_equal(out.request_id, 0xdeadbeef);
    assert_int_equal(out.length, 1234);
}

static void header_rejects_bad_fields(void **state) {
    uint8_t good[MD_FRAME_HEADER_SIZE];
    md_frame_header_encode(good, MD_MSG_PING, 1, 10);
    struct { int at; uint8_t val; int rc; } cases[] = {
        {0, 'X', MD_EBAD_FRAME}, {1, 'X', MD_EBAD_FRAME}, {2, 2, MD_EBAD_FRAME},
        {3, 0x7f, MD_EBAD_FRAME}, {4, 1, MD_EBAD_FRAME}, {7, 0x80, MD_EBAD_FRAME},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t h[MD_FRAME_HEADER_SIZE];
        memcpy(h, good, sizeof h);
        h[cases[i].at] = cases[i].val;
        md_frame_header out;
        const char *why = NULL;
        assert_int_equal(md_frame_header_decode(h, 4096, &out, &why), cases[i].rc);
        assert_non_null(why);
    }
    md_frame_header out;
    const char *why = NULL;
    assert_int_equal(md_frame_header_decode(good, 9, &out, &why), MD_ETOO_LARGE);
    assert_non_null(strstr(why, "size limit"));
    assert_int_equal(md_frame_header_decode(good, 10, &out, NULL), MD_OK);
}

static void message_table(void **state) {
    assert_string_equal(md_msg_name(MD_MSG_RESULT_BATCH), "RESULT_BATCH");
    assert_null(md_msg_name(0x7f));
    assert_true(md_msg_origin(MD_MSG_QUERY) & MD_FROM_CLIENT);
    assert_false(md_msg_origin(MD_MSG_RESULT_END) & MD_FROM_CLIENT);
    assert_int_equal(md_msg_origin(MD_MSG_SESSION), MD_FROM_INTERNAL);
    assert_int_equal(md_msg_origin(0x7f), 0);
}

static void error_names(void **state) {
    assert_string_equal(md_errname(MD_EAUTH), "AUTH_FAILED");
    assert_int_equal(md_errcode("TOO_LARGE"), MD_ETOO_LARGE);
    assert_int_equal(md_errcode("no such"), MD_EINTERNAL);
    assert_string_equal(md_errname(MD_OK), "OK");
    assert_non_null(strstr(md_strerror(MD_EDUCKLING), "again"));
}

static void frames_over_socketpair(void **state) {
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    const char *msg = "{\"sql\":\"SELECT 1\"}";
    assert_int_equal(md_frame_send(sv[0], MD_MSG_QUERY, 7, msg, strlen(msg)), MD_OK);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "rows", 3);
    assert_int_equal(md_frame_send_json(sv[0], MD_MSG_RESULT_END, 7, j), MD_OK);
    cJSON_Delete(j);
    assert_int_equal(md_frame_send(sv[0], MD_MSG_PING, 8, NULL, 0), MD_OK);

    md_frame_header h;
    uint8_t *f;
    assert_int_equal(md_frame_recv(sv[1], 1024, &h, &f), MD_OK);
    assert_int_equal(h.type, MD_MSG_QUERY);
    assert_int_equal(h.request_id, 7);
    assert_memory_equal(f + MD_FRAME_HEADER_SIZE, msg, strlen(msg));
    md_free(f);
    assert_int_equal(md_frame_recv(sv[1], 1024, &h, &f), MD_OK);
    assert_int_equal(h.type, MD_MSG_RESULT_END);
    md_free(f);
    assert_int_equal(md_frame_recv(sv[1], 1024, &h, &f), MD_OK);
    assert_int_equal(h.length, 0);
    md_free(f);

    /* A header claiming more than the limit is refused before buffering. */
    uint8_t big[MD_FRAME_HEADER_SIZE];
    md_frame_header_encode(big, MD_MSG_QUERY, 1, 1u << 30);
    assert_int_equal(md_fd_write_all(sv[0], big, sizeof big), MD_OK);
    assert_int_equal(md_frame_recv(sv[1], 1024, &h, &f), MD_ETOO_LARGE);

    /* A peer that closes mid-frame gives MD_EIO; between frames MD_EEOF. */
    md_frame_header_encode(big, MD_MSG_QUERY, 1, 100);
    assert_int_equal(md_fd_write_all(sv[0], big, sizeof big), MD_OK);
    assert_int_equal(md_fd_write_all(sv[0], "abc", 3), MD_OK);
    close(sv[0]);
    assert_int_equal(md_frame_recv(sv[1], 1024, &h, &f), MD_EIO);
    assert_int_equal(md_frame_recv(sv[1], 1024, &h, &f), MD_EEOF);
    close(sv[1]);
}

static void send_to_closed_peer_is_an_error(void **state) {
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    assert_int_equal(md_frame_send(sv[0], MD_MSG_PING, 1, "x", 1), MD_EIO); /* no SIGPIPE */
    close(sv[0]);
}

static void buffer_growth_and_padding(void **state) {
    md_buf b = MD_BUF_INIT;
    for (int i = 0; i < 1000; i++) md_buf_put_u32le(&b, (uint32_t)i);
    assert_int_equal(b.len, 4000);
    assert_int_equal(md_get_u32le(b.data + 4 * 999), 999);
    md_buf_put_u8(&b, 1);
    md_buf_pad(&b, 8);
    assert_int_equal(b.len % 8, 0);
    size_t n;
    uint8_t *d = md_buf_detach(&b, &n);
    assert_int_equal(n, 4008);
    assert_null(b.data);
    md_free(d);
}

static void try_allocation_failure_injection(void **state) {
    md_alloc_fail_after(1);
    void *a = md_trymalloc(16);
    void *b = md_trymalloc(16);
    void *c = md_trymalloc(16);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    md_free(a);
    md_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_round_trip),
        cmocka_unit_test(header_rejects_bad_fields),
        cmocka_unit_test(message_table),
        cmocka_unit_test(error_names),
        cmocka_unit_test(frames_over_socketpair),
        cmocka_unit_test(send_to_closed_peer_is_an_error),
        cmocka_unit_test(buffer_growth_and_padding),
        cmocka_unit_test(try_allocation_failure_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * uuid.c: random UUIDs (see uuid.h).
 */
#include "uuid.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "shared/md_error.h"

int md_uuid_v4(char out[MD_UUID_TEXT_LEN + 1]) {
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            out[0] = 0;
            return MD_EIO;
        }
        got += (size_t)r;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
    snprintf(out, MD_UUID_TEXT_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return MD_OK;
}

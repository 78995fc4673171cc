/*
 * uuid.h: random (version 4) UUIDs from the kernel's CSPRNG, for ids that
 * must not be guessed: share URLs, client connection ids.
 */
#ifndef MD_UUID_H
#define MD_UUID_H

#define MD_UUID_TEXT_LEN 36

/* Write a fresh UUID, lowercase with dashes, and its NUL into out.  MD_OK,
 * or MD_EIO when the kernel has no randomness to give (out is then empty). */
int md_uuid_v4(char out[MD_UUID_TEXT_LEN + 1]);

#endif

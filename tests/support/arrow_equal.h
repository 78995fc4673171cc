/*
 * arrow_equal.h: value-by-value comparison of Arrow C Data Interface arrays,
 * for tests and fuzz targets of the Arrow IPC codec.  It reads every byte a
 * value involves (validity, offsets, data, children, dictionaries), so under
 * AddressSanitizer it also proves those buffers are long enough.
 */
#ifndef MD_TEST_ARROW_EQUAL_H
#define MD_TEST_ARROW_EQUAL_H

#include <stdint.h>

#include "shared/arrow_abi.h"

/*
 * Compare element i of `a` with element j of `b` (logical indexes: the
 * arrays' own offsets are added here), both of schema `s`.  Returns 1 when
 * equal (two NULLs are equal), 0 when different, -1 when the arrays hold
 * something this comparison does not understand (an unknown format or an
 * undeclared union type id).
 */
int md_test_arrow_elem_equal(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                             const struct ArrowArray *b, int64_t j);

#endif

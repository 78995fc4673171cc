/*
 * test_admission.c: connection budgets (server/admission.c): per address,
 * IPv6 by /64, IPv4-mapped as IPv4, and the unauthenticated budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/admission.h"

static void addresses_have_their_own_budget(void **state) {
    md_admission *a = md_admission_create(2, 0);
    assert_int_equal(md_admission_address_open(a, "10.0.0.1"), 1);
    assert_int_equal(md_admission_address_open(a, "10.0.0.1"), 1);
    assert_int_equal(md_admission_address_open(a, "10.0.0.1"), 0); /* over its budget */
    assert_int_equal(md_admission_address_open(a, "10.0.0.2"), 1); /* another address is not */
    md_admission_address_close(a, "10.0.0.1");
    assert_int_equal(md_admission_address_open(a, "10.0.0.1"), 1); /* room again */
    /* one IPv6 /64 is one budget; the mapped form of an IPv4 address is that address */
    assert_int_equal(md_admission_address_open(a, "2001:db8:1:2::1"), 1);
    assert_int_equal(md_admission_address_open(a, "2001:db8:1:2:aaaa:bbbb:cccc:dddd"), 1);
    assert_int_equal(md_admission_address_open(a, "2001:db8:1:2::ffff"), 0);
    assert_int_equal(md_admission_address_open(a, "2001:db8:1:3::1"), 1);
    assert_int_equal(md_admission_address_open(a, "::ffff:10.0.0.2"), 1);
    assert_int_equal(md_admission_address_open(a, "10.0.0.2"), 0);
    md_admission_destroy(&a);
    assert_null(a);
}

static void no_limit_and_the_unauthenticated_budget(void **state) {
    md_admission *a = md_admission_create(0, 2);
    for (int i = 0; i < 1000; i++) assert_int_equal(md_admission_address_open(a, "10.0.0.9"), 1);
    assert_int_equal(md_admission_unauth_enter(a), 1);
    assert_int_equal(md_admission_unauth_enter(a), 1);
    assert_int_equal(md_admission_unauth_enter(a), 0);
    md_admission_unauth_leave(a);
    assert_int_equal(md_admission_unauth_enter(a), 1);
    md_admission_destroy(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses_have_their_own_budget),
        cmocka_unit_test(no_limit_and_the_unauthenticated_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

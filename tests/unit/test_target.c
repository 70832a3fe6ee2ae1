/* Unit tests for agent/target's retry schedules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/target.h"

/* Refused logins: 5 min doubling to an hour; never more than 3 in 15 minutes. */
static void test_auth_delay(void **state)
{
	static const unsigned want[] = {300, 600, 1200, 2400, 3600, 3600, 3600};
	unsigned long t[64];
	size_t n = 0;

	(void)state;
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(target_auth_delay(i + 1), want[i]);
	assert_int_equal(target_auth_delay(1000), 3600);
	/* attempt times over a day of refusals */
	t[n++] = 0;
	while (n < 64 && t[n - 1] < 86400) {
		t[n] = t[n - 1] + target_auth_delay((unsigned)n);
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		size_t in_window = 0;

		for (size_t j = i; j < n && t[j] <= t[i] + 900; j++)
			in_window++;
		assert_true(in_window <= 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_delay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

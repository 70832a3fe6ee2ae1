/* Unit tests: the agent's self-metrics (request counts and the request latency histogram). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/family.h"
#include "agent/selfmetrics.h"

static const struct snap_family *family(const struct snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nfamilies; i++) {
		if (strcmp(s->families[i].name, name) == 0)
			return &s->families[i];
	}
	fail_msg("no family %s", name);
	return NULL;
}

/* WaitForUpdatesEx is counted by method but stays out of the latency histogram. */
static void test_wait_not_in_histogram(void **state)
{
	struct selfmetrics m;
	struct self_state st = {.up = 1};
	struct snapshot *s = snapshot_new();
	const struct snap_family *f;
	struct err e = {0};

	(void)state;
	assert_non_null(s);
	selfmetrics_init(&m);
	selfmetrics_on_call(&m, "RetrievePropertiesEx", 0.02, 100, NULL);
	selfmetrics_on_call(&m, "WaitForUpdatesEx", 30.0, 50, NULL);
	selfmetrics_on_call(&m, "WaitForUpdatesEx", 29.5, 50, NULL);
	assert_int_equal(selfmetrics_render(&m, &st, NULL, "vc1", s, &e), 0);

	f = family(s, "vsphere_api_requests_total");
	assert_non_null(
		strstr(test_family_text(f), "{target=\"vc1\",method=\"WaitForUpdatesEx\"} 2\n"));
	assert_non_null(strstr(test_family_text(f),
			       "{target=\"vc1\",method=\"RetrievePropertiesEx\"} 1\n"));

	f = family(s, "vsphere_api_request_duration_seconds");
	assert_string_equal(f->type, "histogram");
	assert_non_null(strstr(test_family_text(f), "_count{target=\"vc1\"} 1\n"));
	assert_non_null(strstr(test_family_text(f), "_sum{target=\"vc1\"} 0.02\n"));
	assert_non_null(strstr(test_family_text(f), "_bucket{target=\"vc1\",le=\"0.01\"} 0\n"));
	assert_non_null(strstr(test_family_text(f), "_bucket{target=\"vc1\",le=\"0.025\"} 1\n"));
	assert_non_null(strstr(test_family_text(f), "_bucket{target=\"vc1\",le=\"30\"} 1\n"));
	assert_non_null(strstr(test_family_text(f), "_bucket{target=\"vc1\",le=\"+Inf\"} 1\n"));
	/* the largest bound is 30 s: no bucket was added to hold the waits */
	assert_null(strstr(test_family_text(f), "le=\"60\""));

	f = family(s, "vsphere_api_received_bytes_total");
	assert_non_null(strstr(test_family_text(f), "{target=\"vc1\"} 200\n"));
	snapshot_put(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_not_in_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

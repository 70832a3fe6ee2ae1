/* Unit tests: vi/vmsnap, the snapshot tree summed up (count, oldest, malformed trees). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/testutil.h"
#include "vi/vmsnap.h"

#define INFO(x) "<returnval xsi:type=\"VirtualMachineSnapshotInfo\">" x "</returnval>"
#define ROOT(t, c)                                                                                 \
	"<rootSnapshotList><name>r</name><createTime>" t "</createTime>" c "</rootSnapshotList>"
#define CHILD(t, c)                                                                                \
	"<childSnapshotList><name>c</name><createTime>" t "</createTime>" c "</childSnapshotList>"

static const struct {
	const char *xml;
	int rc;
	size_t count;
	double oldest;
} cases[] = {
	{INFO(""), 0, 0, 0},
	{INFO(ROOT("2026-01-01T00:00:00Z", "")), 0, 1, 1767225600},
	/* the oldest is a child; siblings and a second root are counted */
	{INFO(ROOT("2026-01-02T00:00:00Z",
		   CHILD("2026-01-01T00:00:00Z", "") CHILD("2026-01-03T00:00:00Z", ""))
		      ROOT("2026-01-04T00:00:00Z", "")),
	 0, 4, 1767225600},
	/* a snapshot without createTime counts, but gives no time */
	{INFO("<rootSnapshotList><name>x</name></rootSnapshotList>"), 0, 1, 0},
	{INFO(ROOT("not a time", "")), -1, 0, 0},
	{INFO(ROOT("2026-01-01T00:00:00Z", CHILD("2026-13-45T99:00:00Z", ""))), -1, 0, 0},
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vi_node *n = test_xml_value(cases[i].xml);
		struct vi_vmsnap s;
		struct err e = {0};

		assert_int_equal(vi_vmsnap_summary(n, &s, &e), cases[i].rc);
		assert_int_equal(s.count, cases[i].count);
		assert_true(s.oldest == cases[i].oldest);
		if (cases[i].rc < 0)
			assert_int_equal(e.kind, ERR_PARSE);
		vi_node_free(n);
	}
}

/* No property at all: no snapshot. */
static void test_null(void **state)
{
	struct vi_vmsnap s;
	struct err e = {0};

	(void)state;
	assert_int_equal(vi_vmsnap_summary(NULL, &s, &e), 0);
	assert_int_equal(s.count, 0);
	assert_null(s.oldest_text);
}

/* A hostile chain deeper than VI_VMSNAP_MAX_DEPTH is refused, not walked (the XML
 * reader caps nesting before that; the tree is built by hand). */
static void test_depth(void **state)
{
	enum { N = VI_VMSNAP_MAX_DEPTH + 3 };
	struct vi_node nodes[N];
	struct vi_vmsnap s;
	struct err e = {0};

	(void)state;
	memset(nodes, 0, sizeof(nodes));
	for (int i = 0; i < N; i++) {
		nodes[i].name = (char *)(i == 0	  ? "returnval"
					 : i == 1 ? "rootSnapshotList"
						  : "childSnapshotList");
		nodes[i].text = "";
		if (i + 1 < N)
			nodes[i].first = nodes[i].last = &nodes[i + 1];
		if (i > 0)
			nodes[i].parent = &nodes[i - 1];
	}
	assert_int_equal(vi_vmsnap_summary(&nodes[0], &s, &e), -1);
	assert_non_null(strstr(e.msg, "deeper"));
	assert_int_equal(s.count, 0);
	/* one level less than the limit is fine */
	nodes[VI_VMSNAP_MAX_DEPTH].first = nodes[VI_VMSNAP_MAX_DEPTH].last = NULL;
	err_clear(&e);
	assert_int_equal(vi_vmsnap_summary(&nodes[0], &s, &e), 0);
	assert_int_equal(s.count, VI_VMSNAP_MAX_DEPTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for vi/value: xsd integers, booleans, doubles, dateTimes and morefs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vi/value.h"

struct int_case {
	const char *s;
	int ok;
	int64_t want;
};

static void test_int64(void **state)
{
	static const struct int_case cases[] = {
		{"0", 1, 0},
		{"42", 1, 42},
		{"-42", 1, -42},
		{"+7", 1, 7},
		{"007", 1, 7},
		{" 12\n", 1, 12},
		{"9223372036854775807", 1, INT64_MAX},
		{"-9223372036854775808", 1, INT64_MIN},
		{"9223372036854775808", 0, 0},
		{"-9223372036854775809", 0, 0},
		{"99999999999999999999999", 0, 0},
		{"", 0, 0},
		{" ", 0, 0},
		{"-", 0, 0},
		{"+", 0, 0},
		{"12abc", 0, 0},
		{"12 3", 0, 0},
		{"1.0", 0, 0},
		{"0x10", 0, 0},
		{"1e3", 0, 0},
		{"--1", 0, 0},
	};
	struct err e;
	int64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err_clear(&e);
		v = 12345;
		if (vi_text_int64(cases[i].s, &v, &e) != (cases[i].ok ? 0 : -1))
			fail_msg("\"%s\": wrong verdict (%s)", cases[i].s, e.msg);
		if (cases[i].ok) {
			assert_true(v == cases[i].want);
		} else {
			assert_int_equal(e.kind, ERR_PARSE);
			if (v != 12345)
				fail_msg("\"%s\": output changed on failure", cases[i].s);
		}
	}
	err_clear(&e);
	assert_int_equal(vi_text_int64(NULL, &v, &e), -1);
	assert_int_equal(e.kind, ERR_PARSE);
}

static void test_bool(void **state)
{
	static const struct {
		const char *s;
		int ok;
		bool want;
	} cases[] = {
		{"true", 1, true},   {"false", 1, false}, {"1", 1, true},    {"0", 1, false},
		{" true ", 1, true}, {"TRUE", 0, false},  {"yes", 0, false}, {"", 0, false},
		{"truex", 0, false}, {"2", 0, false},	  {"tru", 0, false}, {"10", 0, false},
	};
	struct err e;
	bool v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err_clear(&e);
		if (vi_text_bool(cases[i].s, &v, &e) != (cases[i].ok ? 0 : -1))
			fail_msg("\"%s\": wrong verdict", cases[i].s);
		if (cases[i].ok)
			assert_int_equal(v, cases[i].want);
		else
			assert_int_equal(e.kind, ERR_PARSE);
	}
}

static void test_double(void **state)
{
	static const struct {
		const char *s;
		int ok;
		double want;
	} cases[] = {
		{"0", 1, 0},
		{"1.5", 1, 1.5},
		{"-2.25", 1, -2.25},
		{"+3", 1, 3},
		{".5", 1, 0.5},
		{"5.", 1, 5},
		{"1e3", 1, 1000},
		{"1.5E-2", 1, 0.015},
		{" 7 ", 1, 7},
		{"1e-400", 1, 0},
		{"1e400", 0, 0},
		{"", 0, 0},
		{".", 0, 0},
		{"e5", 0, 0},
		{"1e", 0, 0},
		{"1.5x", 0, 0},
		{"0x1p3", 0, 0},
		{"inf", 0, 0},
		{"nan", 0, 0},
		{"1,5", 0, 0},
		{"1 5", 0, 0},
		{"--1", 0, 0},
		/* integers read without strtod, and the longer ones with it */
		{"-12", 1, -12},
		{"-", 0, 0},
		{"+", 0, 0},
		{"007", 1, 7},
		{"123456789012345", 1, 123456789012345.0},
		{"-999999999999999", 1, -999999999999999.0},
		{"1234567890123456", 1, 1234567890123456.0},
		{"12345678901234567890", 1, 12345678901234567890.0},
	};
	struct err e;
	double v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err_clear(&e);
		if (vi_text_double(cases[i].s, &v, &e) != (cases[i].ok ? 0 : -1))
			fail_msg("\"%s\": wrong verdict (%s)", cases[i].s, e.msg);
		if (cases[i].ok)
			assert_true(fabs(v - cases[i].want) <=
				    1e-12 * fmax(1, fabs(cases[i].want)));
	}
	assert_int_equal(vi_text_double("INF", &v, &e), 0);
	assert_true(isinf(v) && v > 0);
	assert_int_equal(vi_text_double("-INF", &v, &e), 0);
	assert_true(isinf(v) && v < 0);
	assert_int_equal(vi_text_double("NaN", &v, &e), 0);
	assert_true(isnan(v));
}

/* A locale with a decimal comma must not change how the wire format reads.
 * The machine may have no such locale installed, so one is compiled into a
 * temporary directory with localedef (Debian package "locales") and found
 * through LOCPATH; failing to make it fails the test. */
static void test_double_locale(void **state)
{
	char dir[] = "/tmp/vimon-locale-XXXXXX";
	char cmd[256];
	const char *loc = NULL;
	struct lconv *lc;
	double v = 0;
	struct err e;
	int rc;

	(void)state;
	if (setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
		loc = "de_DE.UTF-8";
	} else {
		if (!mkdtemp(dir))
			fail_msg("mkdtemp: %s", strerror(errno));
		snprintf(cmd, sizeof(cmd),
			 "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", dir);
		rc = system(cmd);
		setenv("LOCPATH", dir, 1);
		if (setlocale(LC_NUMERIC, "de_DE.UTF-8"))
			loc = "de_DE.UTF-8";
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fail_msg("cannot remove %s", dir);
		if (!loc)
			fail_msg("no comma-decimal locale: localedef -i de_DE -f UTF-8 exited "
				 "with status %d (install the Debian package \"locales\")",
				 rc);
	}
	lc = localeconv();
	if (strcmp(lc->decimal_point, ",") != 0)
		fail_msg("%s has decimal point \"%s\", want \",\"", loc, lc->decimal_point);
	err_clear(&e);
	rc = vi_text_double("1.5", &v, &e);
	setlocale(LC_NUMERIC, "C");
	unsetenv("LOCPATH");
	if (rc != 0)
		fail_msg("\"1.5\" under %s: %s", loc, e.msg);
	if (v != 1.5)
		fail_msg("\"1.5\" under %s read as %g", loc, v);
	assert_int_equal(vi_text_double("1,5", &v, &e), -1);
}

static void test_time(void **state)
{
	static const struct {
		const char *s;
		int ok;
		double want;
	} cases[] = {
		{"1970-01-01T00:00:00Z", 1, 0},
		{"1970-01-01T00:00:00", 1, 0},
		{"1970-01-01T00:00:00+00:00", 1, 0},
		{"2038-01-19T03:14:07+00:00", 1, 2147483647},
		{"1999-08-02T01:19:55+02:00", 1, 933549595},
		{"2004-03-07T23:23:55+02:00", 1, 1078694635},
		{"1984-10-27T14:33:45+02:00", 1, 467728425},
		{"1970-01-12T16:11:04+02:00", 1, 1001464},
		{"2032-06-24T17:04:49+02:00", 1, 1971702289},
		{"2026-11-21T12:00:00.123Z", 1, 1795262400.123},
		{"2026-11-21T12:00:00.5-05:30", 1, 1795262400.5 + 19800},
		{"2000-02-29T00:00:00Z", 1, 951782400},
		{"1969-12-31T23:59:59Z", 1, -1},
		{"1900-03-01T00:00:00Z", 1, -2203891200},
		{"2100-12-31T23:59:59Z", 1, 4133980799},
		{"2026-11-21T24:00:00Z", 1, 1795305600},
		{" 2026-11-21T12:00:00Z\n", 1, 1795262400},
		{"2026-11-21T12:00:00.000000000001Z", 1, 1795262400},
		{"2001-02-29T00:00:00Z", 0, 0},
		{"1900-02-29T00:00:00Z", 0, 0},
		{"2026-13-01T00:00:00Z", 0, 0},
		{"2026-00-01T00:00:00Z", 0, 0},
		{"2026-11-00T00:00:00Z", 0, 0},
		{"2026-11-31T00:00:00Z", 0, 0},
		{"2026-11-21T25:00:00Z", 0, 0},
		{"2026-11-21T24:00:01Z", 0, 0},
		{"2026-11-21T12:60:00Z", 0, 0},
		{"2026-11-21T12:00:61Z", 0, 0},
		{"2026-11-21T12:00:00.Z", 0, 0},
		{"2026-11-21T12:00:00+15:00", 0, 0},
		{"2026-11-21T12:00:00+05", 0, 0},
		{"2026-11-21T12:00:00ZZ", 0, 0},
		{"2026-11-21 12:00:00Z", 0, 0},
		{"2026-11-21", 0, 0},
		{"26-11-21T12:00:00Z", 0, 0},
		{"2026-1-21T12:00:00Z", 0, 0},
		{"", 0, 0},
		{"garbage", 0, 0},
	};
	struct err e;
	double v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err_clear(&e);
		v = -12345;
		if (vi_time_parse(cases[i].s, &v, &e) != (cases[i].ok ? 0 : -1))
			fail_msg("\"%s\": wrong verdict (%s)", cases[i].s, e.msg);
		if (cases[i].ok && fabs(v - cases[i].want) > 1e-6)
			fail_msg("\"%s\": %.6f, want %.6f", cases[i].s, v, cases[i].want);
		if (!cases[i].ok) {
			assert_int_equal(e.kind, ERR_PARSE);
			if (v != -12345)
				fail_msg("\"%s\": output changed on failure", cases[i].s);
		}
	}
}

static void test_nodes(void **state)
{
	struct vi_node n = {.name = "val", .xsi_type = "long", .text = "123"};
	struct vi_node mo = {.name = "obj", .type_attr = "VirtualMachine", .text = "vm-42"};
	struct vi_node bare = {.name = "obj", .text = "vm-42"};
	struct vi_node empty = {.name = "obj", .type_attr = "VirtualMachine", .text = ""};
	const char *type = NULL, *value = NULL;
	struct err e;
	int64_t i;
	bool b;
	double d;

	(void)state;
	err_clear(&e);
	assert_int_equal(vi_value_int64(&n, &i, &e), 0);
	assert_true(i == 123);
	assert_int_equal(vi_value_double(&n, &d, &e), 0);
	assert_true(d == 123);
	assert_int_equal(vi_value_bool(&n, &b, &e), -1);
	err_clear(&e);
	n.text = "2026-11-21T12:00:00Z";
	assert_int_equal(vi_value_time(&n, &d, &e), 0);
	assert_true(d == 1795262400);
	assert_int_equal(vi_value_int64(NULL, &i, &e), -1);
	assert_int_equal(vi_value_moref(&mo, &type, &value, &e), 0);
	assert_string_equal(type, "VirtualMachine");
	assert_string_equal(value, "vm-42");
	err_clear(&e);
	assert_int_equal(vi_value_moref(&bare, &type, &value, &e), -1);
	assert_int_equal(e.kind, ERR_PARSE);
	assert_int_equal(vi_value_moref(&empty, &type, &value, &e), -1);
	assert_int_equal(vi_value_moref(NULL, &type, &value, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int64),  cmocka_unit_test(test_bool),
		cmocka_unit_test(test_double), cmocka_unit_test(test_double_locale),
		cmocka_unit_test(test_time),   cmocka_unit_test(test_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

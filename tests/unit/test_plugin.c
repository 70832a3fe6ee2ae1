/* Unit tests: the plugin helpers (ranges, perfdata, the capped output, state aggregation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugins/plugin.h"

struct range_case {
	const char *text;
	double v;
	bool alert;
};

/* Every form of the guidelines, at and around the bounds. */
static const struct range_case range_cases[] = {
	/* "10": alert outside 0..10 */
	{"10", -0.5, true},
	{"10", 0, false},
	{"10", 10, false},
	{"10", 10.0001, true},
	/* "10:": alert below 10 */
	{"10:", 9.99, true},
	{"10:", 10, false},
	{"10:", 1e12, false},
	/* "~:10": alert above 10 */
	{"~:10", -1e12, false},
	{"~:10", 10, false},
	{"~:10", 11, true},
	/* "10:20": alert outside */
	{"10:20", 9, true},
	{"10:20", 10, false},
	{"10:20", 20, false},
	{"10:20", 21, true},
	/* "@10:20": alert inside, bounds included */
	{"@10:20", 9, false},
	{"@10:20", 10, true},
	{"@10:20", 15, true},
	{"@10:20", 20, true},
	{"@10:20", 20.5, false},
	/* negatives and decimals */
	{"-5:-1", -3, false},
	{"-5:-1", 0, true},
	{"-5:-1", -5.5, true},
	{"0.5:1.5", 0.49, true},
	{"0.5:1.5", 1.5, false},
	{"@~:0", -1, true},
	{"@~:0", 0.1, false},
	{"1e3", 999, false},
	{"1e3", 1001, true},
	{"0", 0, false},
	{"0", 1, true},
};

static void test_range_forms(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
		const struct range_case *c = &range_cases[i];
		struct plugin_range r;
		struct err e = {0};

		if (plugin_range_parse(c->text, &r, &e) != 0)
			fail_msg("range %s: %s", c->text, e.msg);
		if (plugin_range_alert(&r, c->v) != c->alert)
			fail_msg("range %s, value %g: expected alert %d", c->text, c->v, c->alert);
	}
}

static void test_range_text(void **state)
{
	static const char *const cases[][2] = {
		{"10", "10"},	      {"10:", "10:"},	    {"~:10", "~:10"}, {"10:20", "10:20"},
		{"@10:20", "@10:20"}, {"-1.5:2", "-1.5:2"}, {"@~:0", "@~:0"}, {"0:5", "5"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct plugin_range r;
		struct err e = {0};

		assert_int_equal(plugin_range_parse(cases[i][0], &r, &e), 0);
		assert_string_equal(r.text, cases[i][1]);
	}
}

static void test_range_malformed(void **state)
{
	static const char *const bad[] = {
		"",    "abc", "10:5", "@",    ":",     "1:2:3", "~",   "~10", "10x",
		"10 ", "nan", "inf",  "0x10", "1e999", "@@1",	"--1", "1:~", " 1",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct plugin_range r;
		struct err e = {0};

		if (plugin_range_parse(bad[i], &r, &e) != -1)
			fail_msg("range \"%s\" accepted", bad[i]);
		assert_int_equal(e.kind, ERR_INVALID);
		assert_non_null(strstr(e.msg, "range"));
		assert_false(r.set);
	}
	assert_int_equal(plugin_range_parse(NULL, &(struct plugin_range){0}, NULL), -1);
}

static void test_range_units(void **state)
{
	struct plugin_range r, s;
	struct err e = {0};

	(void)state;
	assert_int_equal(plugin_range_parse_units("100G:", PLUGIN_UNITS_BYTES, &r, &e), 0);
	assert_true(plugin_range_alert(&r, 100.0 * 1073741824 - 1));
	assert_false(plugin_range_alert(&r, 100.0 * 1073741824));
	assert_string_equal(r.text, "107374182400:");
	assert_int_equal(plugin_range_parse_units("1.5TiB:", PLUGIN_UNITS_BYTES, &r, &e), 0);
	assert_true(r.start == 1.5 * 1099511627776.0);
	assert_int_equal(plugin_range_parse_units("512MB:2k", PLUGIN_UNITS_BYTES, &r, &e), -1);
	err_clear(&e);
	assert_int_equal(plugin_range_parse_units("1k:1M", PLUGIN_UNITS_BYTES, &r, &e), 0);
	assert_true(r.start == 1024 && r.end == 1048576);
	/* without units a suffix is junk */
	assert_int_equal(plugin_range_parse("100G:", &r, &e), -1);
	/* scaled for perfdata in bytes */
	assert_int_equal(plugin_range_parse("@10:20", &r, NULL), 0);
	plugin_range_scale(&r, 1048576, &s);
	assert_string_equal(s.text, "@10485760:20971520");
	assert_true(plugin_range_alert(&s, 15728640));
	/* thresholds on free space mirrored onto used space (capacity 1000) */
	assert_int_equal(plugin_range_parse("100:", &r, NULL), 0);
	plugin_range_mirror(&r, 1000, &s);
	assert_string_equal(s.text, "~:900");
	for (double used = 0; used <= 1000; used += 50)
		assert_int_equal(plugin_range_alert(&s, used), plugin_range_alert(&r, 1000 - used));
	assert_int_equal(plugin_range_parse("@100:300", &r, NULL), 0);
	plugin_range_mirror(&r, 1000, &s);
	assert_string_equal(s.text, "@700:900");
	assert_int_equal(plugin_range_parse("~:50", &r, NULL), 0);
	plugin_range_mirror(&r, 1000, &s);
	assert_string_equal(s.text, "950:");
	assert_int_equal(plugin_range_parse("10", &r, NULL), 0);
	plugin_range_mirror(&r, 1000, &s);
	assert_string_equal(s.text, "990:1000");
}

static void test_check_and_worst(void **state)
{
	struct plugin_range w, c;

	(void)state;
	assert_int_equal(plugin_range_parse("80", &w, NULL), 0);
	assert_int_equal(plugin_range_parse("90", &c, NULL), 0);
	assert_int_equal(plugin_check(50, &w, &c), PLUGIN_OK);
	assert_int_equal(plugin_check(85, &w, &c), PLUGIN_WARNING);
	assert_int_equal(plugin_check(95, &w, &c), PLUGIN_CRITICAL);
	assert_int_equal(plugin_check(95, NULL, NULL), PLUGIN_OK);
	assert_int_equal(plugin_worst(PLUGIN_OK, PLUGIN_UNKNOWN), PLUGIN_UNKNOWN);
	assert_int_equal(plugin_worst(PLUGIN_UNKNOWN, PLUGIN_WARNING), PLUGIN_WARNING);
	assert_int_equal(plugin_worst(PLUGIN_CRITICAL, PLUGIN_WARNING), PLUGIN_CRITICAL);
	assert_int_equal(plugin_worst(PLUGIN_WARNING, PLUGIN_CRITICAL), PLUGIN_CRITICAL);
	assert_int_equal(plugin_worst(PLUGIN_OK, PLUGIN_OK), PLUGIN_OK);
	assert_string_equal(plugin_state_name(PLUGIN_CRITICAL), "CRITICAL");
}

static void test_aggregation(void **state)
{
	struct plugin_output o;

	(void)state;
	plugin_output_init(&o, "DATASTORE");
	plugin_output_state(&o, PLUGIN_OK);
	assert_int_equal(o.state, PLUGIN_OK);
	plugin_output_state(&o, PLUGIN_WARNING);
	plugin_output_state(&o, PLUGIN_UNKNOWN);
	assert_int_equal(o.state, PLUGIN_WARNING);
	plugin_output_state(&o, PLUGIN_CRITICAL);
	plugin_output_state(&o, PLUGIN_OK);
	assert_int_equal(o.state, PLUGIN_CRITICAL);
	plugin_output_release(&o);
}

static void perf(const struct plugin_perf *p, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(plugin_perf_format(&b, p), 0);
	assert_string_equal(b.data, want);
	buf_release(&b);
}

static void test_perfdata(void **state)
{
	struct plugin_range w, c;

	(void)state;
	assert_int_equal(plugin_range_parse("80", &w, NULL), 0);
	assert_int_equal(plugin_range_parse("@~:90", &c, NULL), 0);
	perf(&(struct plugin_perf){.label = "age", .value = 12, .uom = "s"}, "'age'=12s");
	perf(&(struct plugin_perf){.label = "my ds used",
				   .value = 1073741824,
				   .uom = "B",
				   .warn = &w,
				   .crit = &c,
				   .has_min = true,
				   .has_max = true,
				   .max = 2147483648.0},
	     "'my ds used'=1073741824B;80;@~:90;0;2147483648");
	/* quotes doubled, "=" and "|" (Nagios separators) replaced */
	perf(&(struct plugin_perf){.label = "it's a=b|c", .value = 0.25, .uom = "%"},
	     "'it''s a_b\xc2\xa6"
	     "c'=0.25%");
	/* non-ASCII kept, invalid UTF-8 replaced */
	perf(&(struct plugin_perf){.label = "d\xc3\xa9p\xc3\xb4t \xff", .value = -3},
	     "'d\xc3\xa9p\xc3\xb4t \xef\xbf\xbd'=-3");
	/* a middle field left empty, trailing ones dropped */
	perf(&(struct plugin_perf){.label = "x", .value = 1, .uom = "c", .crit = &c},
	     "'x'=1c;;@~:90");
	perf(&(struct plugin_perf){.label = "x", .value = 1.5, .has_max = true, .max = 4},
	     "'x'=1.5;;;;4");
}

static void test_text(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(plugin_add_text(&b, "a|b\nc\td/e\\f%g\"h \xe2\x82\xac\xfe"), 0);
	assert_string_equal(b.data, "a\xc2\xa6"
				    "b c d/e\\f%g\"h \xe2\x82\xac\xef\xbf\xbd");
	buf_release(&b);
}

static void test_output_plain(void **state)
{
	struct plugin_output o;
	struct buf b;

	(void)state;
	plugin_output_init(&o, "QUESTIONS");
	buf_init(&b, 0);
	buf_adds(&o.summary, "1 pending question");
	plugin_output_perf(&o, &(struct plugin_perf){.label = "questions", .value = 1});
	plugin_output_perf(&o, &(struct plugin_perf){.label = "oldest", .value = 5, .uom = "s"});
	plugin_output_line(&o, false, "fine vm");
	plugin_output_line(&o, true, "problem vm %d", 1);
	plugin_output_state(&o, PLUGIN_WARNING);
	assert_int_equal(plugin_output_render(&o, &b), 0);
	assert_string_equal(b.data, "VSPHERE QUESTIONS WARNING - 1 pending question | "
				    "'questions'=1 'oldest'=5s\nproblem vm 1\nfine vm\n");
	buf_release(&b);
	plugin_output_release(&o);
}

static void test_output_cap(void **state)
{
	struct plugin_output o;
	struct buf b;
	const char *nl;
	size_t lines = 0;

	(void)state;
	plugin_output_init(&o, "DATASTORE");
	buf_init(&b, 0);
	/* a summary longer than the whole output, with a multibyte character at the cut */
	for (int i = 0; i < 5000; i++)
		buf_adds(&o.summary, "\xc3\xa9");
	for (int i = 0; i < 500; i++)
		plugin_output_perf(&o, &(struct plugin_perf){.label = "a datastore 'x' used",
							     .value = 123456789,
							     .uom = "B"});
	for (int i = 0; i < 400; i++)
		plugin_output_line(&o, i % 2 == 0, "%s datastore number %d is here",
				   i % 2 == 0 ? "CRITICAL" : "OK", i);
	assert_int_equal(plugin_output_render(&o, &b), 0);
	assert_true(b.len <= PLUGIN_OUTPUT_MAX);
	assert_true(buf_utf8_valid(b.data));
	assert_memory_equal(b.data, "VSPHERE DATASTORE OK - \xc3\xa9", 25);
	/* the first line ends with whole perfdata items only */
	nl = strchr(b.data, '\n');
	assert_non_null(nl);
	assert_memory_equal(nl - 3, "89B", 3);
	/* problem lines first, then the summary of what was left out */
	assert_non_null(strstr(b.data, "\nCRITICAL datastore number 0 is here\n"));
	for (const char *p = b.data; (p = strchr(p, '\n')); p++)
		lines++;
	assert_non_null(strstr(b.data, "more lines left out (output limited to 8192 bytes)\n"));
	assert_memory_equal(b.data + b.len - 1, "\n", 1);
	buf_release(&b);
	plugin_output_release(&o);

	/* long output alone: problems come before others even when others came first */
	plugin_output_init(&o, "VM");
	buf_init(&b, 0);
	buf_adds(&o.summary, "s");
	for (int i = 0; i < 300; i++)
		plugin_output_line(&o, false, "ok line %03d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i);
	for (int i = 0; i < 300; i++)
		plugin_output_line(&o, true, "bad line %03d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i);
	assert_int_equal(plugin_output_render(&o, &b), 0);
	assert_true(b.len <= PLUGIN_OUTPUT_MAX);
	assert_true(b.len > PLUGIN_OUTPUT_MAX - 200);
	assert_non_null(strstr(b.data, "VSPHERE VM OK - s\nbad line 000"));
	assert_non_null(strstr(b.data, "bad line 150"));
	assert_null(strstr(b.data, "ok line 000"));
	buf_release(&b);
	plugin_output_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_forms),	cmocka_unit_test(test_range_text),
		cmocka_unit_test(test_range_malformed), cmocka_unit_test(test_range_units),
		cmocka_unit_test(test_check_and_worst), cmocka_unit_test(test_aggregation),
		cmocka_unit_test(test_perfdata),	cmocka_unit_test(test_text),
		cmocka_unit_test(test_output_plain),	cmocka_unit_test(test_output_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for util/: the capped buffer and its escapers, errors, log back-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

static void test_buf_empty_is_valid_string(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	buf_release(&b);
	assert_string_equal(b.data, "");
}

static void test_buf_appends(void **state)
{
	struct buf b;
	char *s;
	size_t len;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_adds(&b, "vm-"), 0);
	assert_int_equal(buf_addf(&b, "%d/%s", 42, "x"), 0);
	assert_int_equal(buf_addc(&b, '!'), 0);
	assert_int_equal(buf_add(&b, "\0z", 2), 0);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "vm-42/x!\0z", 11);
	s = buf_detach(&b, &len);
	assert_int_equal(len, 10);
	assert_string_equal(s, "vm-42/x!");
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	free(s);
}

static void test_buf_grows_past_many_doublings(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < 100000; i++)
		buf_addc(&b, (char)('a' + i % 26));
	assert_false(b.failed);
	assert_int_equal(b.len, 100000);
	assert_int_equal(b.data[99999], 'a' + 99999 % 26);
	assert_int_equal(b.data[100000], '\0');
	buf_release(&b);
}

static void test_buf_cap_is_sticky(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_adds(&b, "12345678"), 0);
	assert_int_equal(buf_addc(&b, '9'), -1);
	assert_true(b.failed);
	/* later appends fail even when they would fit */
	assert_int_equal(buf_add(&b, "", 0), -1);
	assert_string_equal(b.data, "12345678");
	buf_reset(&b);
	assert_false(b.failed);
	assert_int_equal(buf_addf(&b, "%s", "abcdefghi"), -1);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

struct escape_case {
	const char *in;
	const char *want;
};

static void test_buf_add_xml(void **state)
{
	static const struct escape_case cases[] = {
		{"", ""},
		{"plain", "plain"},
		{"<&>\"'", "&lt;&amp;&gt;&quot;&apos;"},
		{"p<ss&w\"rd'", "p&lt;ss&amp;w&quot;rd&apos;"},
		{"ünï/%", "ünï/%"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;

		buf_init(&b, 0);
		assert_int_equal(buf_add_xml(&b, cases[i].in), 0);
		assert_string_equal(b.data, cases[i].want);
		buf_release(&b);
	}
}

static void test_buf_add_label(void **state)
{
	static const struct escape_case cases[] = {
		{"", ""},
		{"odd/slash", "odd/slash"},
		{"odd\\back", "odd\\\\back"},
		{"odd\"quote", "odd\\\"quote"},
		{"two\nlines", "two\\nlines"},
		{"ödd 日本", "ödd 日本"},
		{"bad\xff", "bad\xef\xbf\xbd"},				  /* invalid byte */
		{"\xc3", "\xef\xbf\xbd"},				  /* truncated sequence */
		{"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},		  /* overlong '/' */
		{"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
		{"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},		  /* 4-byte emoji */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;

		buf_init(&b, 0);
		assert_int_equal(buf_add_label(&b, cases[i].in), 0);
		assert_string_equal(b.data, cases[i].want);
		buf_release(&b);
	}
}

static void test_err_first_wins(void **state)
{
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(e.kind, ERR_OK);
	assert_int_equal(err_set(&e, ERR_CONNECT, "connect to %s failed", "vc1"), -1);
	assert_int_equal(err_set_fault(&e, ERR_FAULT, "NotAuthenticated", "later"), -1);
	assert_int_equal(e.kind, ERR_CONNECT);
	assert_string_equal(e.msg, "connect to vc1 failed");
	assert_string_equal(e.fault, "");
	assert_false(err_is_fault(&e, "NotAuthenticated"));
	err_prefix(&e, "target %s", "vc1");
	assert_string_equal(e.msg, "target vc1: connect to vc1 failed");
	assert_string_equal(err_kind_name(e.kind), "connect");
	/* NULL is accepted */
	assert_int_equal(err_set(NULL, ERR_NOMEM, "x"), -1);
	err_clear(NULL);
}

static void test_err_fault_and_truncation(void **state)
{
	struct err e;
	char longmsg[2000];

	(void)state;
	err_clear(&e);
	err_set_fault(&e, ERR_AUTH, "InvalidLogin", "Login failed");
	assert_true(err_is_fault(&e, "InvalidLogin"));
	assert_string_equal(err_kind_name(ERR_AUTH), "auth");
	assert_string_equal(err_kind_name((enum err_kind)999), "unknown");
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	err_clear(&e);
	err_set(&e, ERR_PARSE, "%s", longmsg);
	assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
}

static void test_err_kind_names_unique(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < ERR_KIND_COUNT; i++) {
		assert_non_null(err_kind_name((enum err_kind)i));
		assert_string_not_equal(err_kind_name((enum err_kind)i), "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(err_kind_name((enum err_kind)i),
						err_kind_name((enum err_kind)j));
	}
}

/* Control characters never survive into a log line; a cut never splits an escape. */
static void test_log_escape(void **state)
{
	static const struct {
		const char *in;
		int quote;
		const char *want;
	} rows[] = {
		{"plain text", 0, "plain text"},
		{"a\nvimon: error: FORGED", 0, "a\\nvimon: error: FORGED"},
		{"cr\r tab\t esc\x1b del\x7f", 0, "cr\\r tab\\t esc\\x1b del\\x7f"},
		{"say \"hi\" \\ ok", 0, "say \"hi\" \\ ok"},
		{"say \"hi\" \\ ok", 1, "say \\\"hi\\\" \\\\ ok"},
		{"\xc3\xa9t\xc3\xa9", 0, "\xc3\xa9t\xc3\xa9"},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n =
			log_escape(out, sizeof(out), rows[i].in, strlen(rows[i].in), rows[i].quote);

		assert_string_equal(out, rows[i].want);
		assert_int_equal(n, strlen(rows[i].want));
	}
	/* 5 bytes of room: "ab" then "\x01" (4) does not fit whole */
	assert_int_equal(log_escape(out, 6, "ab\x01c", 4, 0), 2);
	assert_string_equal(out, "ab");
}

static void test_log_backoff(void **state)
{
	struct log_backoff b;
	unsigned long suppressed = 99;
	time_t t = 1000;

	(void)state;
	log_backoff_init(&b, 40);
	assert_true(log_backoff_due(&b, t, &suppressed));
	assert_int_equal(suppressed, 0);
	/* repeats within 10 s are suppressed */
	assert_false(log_backoff_due(&b, t + 1, NULL));
	assert_false(log_backoff_due(&b, t + 9, NULL));
	assert_true(log_backoff_due(&b, t + 10, &suppressed));
	assert_int_equal(suppressed, 2);
	/* the interval doubled to 20 s */
	assert_false(log_backoff_due(&b, t + 29, NULL));
	assert_true(log_backoff_due(&b, t + 30, &suppressed));
	assert_int_equal(suppressed, 1);
	/* capped at 40 s */
	assert_true(log_backoff_due(&b, t + 70, NULL));
	assert_false(log_backoff_due(&b, t + 109, NULL));
	assert_true(log_backoff_due(&b, t + 110, NULL));
	log_backoff_reset(&b);
	assert_true(log_backoff_due(&b, t + 111, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_empty_is_valid_string),
		cmocka_unit_test(test_buf_appends),
		cmocka_unit_test(test_buf_grows_past_many_doublings),
		cmocka_unit_test(test_buf_cap_is_sticky),
		cmocka_unit_test(test_buf_add_xml),
		cmocka_unit_test(test_buf_add_label),
		cmocka_unit_test(test_err_first_wins),
		cmocka_unit_test(test_err_fault_and_truncation),
		cmocka_unit_test(test_err_kind_names_unique),
		cmocka_unit_test(test_log_escape),
		cmocka_unit_test(test_log_backoff),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}

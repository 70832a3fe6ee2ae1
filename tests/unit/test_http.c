/* Unit tests for vi/http: thumbprint normalisation and transport set-up errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/testutil.h"
#include "util/err.h"
#include "vi/http.h"

#define SHA256_COLONS                                                                              \
	"ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:"  \
	"45:67:89"
#define SHA256_UPPER "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"
#define SHA1_UPPER   "0123456789ABCDEF0123456789ABCDEF01234567"

static void test_thumbprint_accepted_forms(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{SHA256_UPPER, SHA256_UPPER},
		{SHA256_COLONS, SHA256_UPPER},
		{"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", SHA256_UPPER},
		{" AB CD EF 01 23 45 67 89 AB CD EF 01 23 45 67 89 AB CD EF 01 23 45 67 89 AB CD "
		 "EF "
		 "01 23 45 67 89 ",
		 SHA256_UPPER},
		{"aBcDeF0123456789:ABCDEF0123456789abcdef0123456789ABCDEF0123456789", SHA256_UPPER},
		{SHA1_UPPER, SHA1_UPPER},
		{"01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67", SHA1_UPPER},
		{"0123456789abcdef0123456789abcdef01234567", SHA1_UPPER},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[65];
		struct err e;

		err_clear(&e);
		memset(out, 'x', sizeof(out));
		assert_int_equal(vi_thumbprint_normalize(cases[i].in, out, &e), 0);
		assert_string_equal(out, cases[i].want);
		assert_int_equal(e.kind, ERR_OK);
	}
}

static void test_thumbprint_rejected(void **state)
{
	static const char *const bad[] = {
		"",
		":::",
		"ABCD",
		/* 39 and 41 digits, 63 and 65 digits */
		"0123456789ABCDEF0123456789ABCDEF0123456",
		"0123456789ABCDEF0123456789ABCDEF012345678",
		"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF012345678",
		"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567890",
		/* 128 digits: not a truncated SHA-512 either */
		SHA256_UPPER SHA256_UPPER,
		/* 64 characters, one not hex */
		"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF012345678G",
		"0x23456789ABCDEF0123456789ABCDEF01234567",
		"01-23-45-67-89-AB-CD-EF-01-23-45-67-89-AB-CD-EF-01-23-45-67",
		"SHA1:0123456789ABCDEF0123456789ABCDEF01234567",
		"0123456789ABCDEF0123456789ABCDEF0123456\xc3\xa9",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[65];
		struct err e;

		err_clear(&e);
		assert_int_equal(vi_thumbprint_normalize(bad[i], out, &e), -1);
		assert_int_equal(e.kind, ERR_INVALID);
		assert_true(strlen(e.msg) > 0);
		assert_string_equal(out, "");
	}
}

static void test_new_rejects_bad_config(void **state)
{
	static const struct {
		struct vi_http_opts o;
		enum err_kind want;
	} cases[] = {
		{{.url = NULL}, ERR_CONFIG},
		{{.url = ""}, ERR_CONFIG},
		{{.url = "ftp://vc.example/sdk"}, ERR_CONFIG},
		{{.url = "not a url"}, ERR_CONFIG},
		{{.url = "https://vc.example/sdk", .thumbprint = "12:34"}, ERR_INVALID},
		/* a pin cannot be checked without TLS */
		{{.url = "http://vc.example/sdk", .thumbprint = SHA1_UPPER}, ERR_CONFIG},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e;

		err_clear(&e);
		assert_null(vi_http_new(&cases[i].o, &e));
		assert_int_equal(e.kind, cases[i].want);
	}
}

static int sink_count(void *ud, const char *data, size_t len, struct err *e)
{
	(void)data;
	(void)e;
	*(size_t *)ud += len;
	return 0;
}

/* A port nobody listens on: ERR_CONNECT naming the host, no status. */
static void test_connect_refused(void **state)
{
	char url[64];
	struct vi_http_opts o = {.url = url, .connect_timeout_ms = 2000, .timeout_ms = 4000};
	struct vi_http *h;
	struct err e;
	size_t got = 0;
	long status = -1;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/sdk", test_closed_port());
	err_clear(&e);
	h = vi_http_new(&o, &e);
	assert_non_null(h);
	assert_int_equal(vi_http_post(h, "urn:vim25/6.7", "<x/>", 4, sink_count, &got, &status, &e),
			 -1);
	assert_int_equal(e.kind, ERR_CONNECT);
	assert_non_null(strstr(e.msg, "127.0.0.1"));
	assert_int_equal(status, 0);
	assert_int_equal(got, 0);
	/* a header injection through SOAPAction is refused */
	err_clear(&e);
	assert_int_equal(
		vi_http_post(h, "urn:vim25\r\nX: y", "<x/>", 4, sink_count, &got, &status, &e), -1);
	assert_int_equal(e.kind, ERR_INVALID);
	vi_http_free(h);
	vi_http_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thumbprint_accepted_forms),
		cmocka_unit_test(test_thumbprint_rejected),
		cmocka_unit_test(test_new_rejects_bad_config),
		cmocka_unit_test(test_connect_refused),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}

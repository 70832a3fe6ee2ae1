/* Unit tests for vi/names: the four escaping schemes, their examples and round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "vi/names.h"

typedef int (*codec_fn)(struct buf *out, const char *s);

struct pair {
	const char *plain;
	const char *coded;
};

/* Runs fn on in and returns the result (static storage until the next call). */
static const char *run(codec_fn fn, const char *in)
{
	static struct buf b;

	buf_release(&b);
	buf_init(&b, 0);
	assert_int_equal(fn(&b, in), 0);
	assert_int_equal(strlen(b.data), b.len);
	return b.data;
}

static void check_pairs(codec_fn enc, codec_fn dec, const struct pair *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (enc && strcmp(run(enc, p[i].plain), p[i].coded) != 0)
			fail_msg("encode \"%s\": \"%s\", want \"%s\"", p[i].plain,
				 run(enc, p[i].plain), p[i].coded);
		if (dec && strcmp(run(dec, p[i].coded), p[i].plain) != 0)
			fail_msg("decode \"%s\": \"%s\", want \"%s\"", p[i].coded,
				 run(dec, p[i].coded), p[i].plain);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_percent(void **state)
{
	static const struct pair both[] = {
		{"", ""},
		{"plain name", "plain name"},
		{"odd/slash", "odd%2fslash"},
		{"odd\\back", "odd%5cback"},
		{"odd%percent", "odd%25percent"},
		{"odd\"quote", "odd\"quote"},
		{"odd|pipe", "odd|pipe"},
		{"\xc3\xb6"
		 "dd \xc3\xbcn\xc3\xaf"
		 "c\xc3\xb6"
		 "d\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
		 "\xc3\xb6"
		 "dd \xc3\xbcn\xc3\xaf"
		 "c\xc3\xb6"
		 "d\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"},
		{"%%//\\\\", "%25%25%2f%2f%5c%5c"},
		{"a%2fb", "a%252fb"},
	};
	/* decoding only: any hex case, and malformed escapes copied */
	static const struct pair dec[] = {
		{"odd/slash", "odd%2Fslash"},
		{"A", "%41"},
		{"100%", "100%"},
		{"%", "%"},
		{"%2", "%2"},
		{"%zz", "%zz"},
		{"%g0x", "%g0x"},
		{"%00", "%00"},
		{"%%25", "%%2525"},
		{"a%", "a%25"},
	};

	(void)state;
	check_pairs(vi_name_percent_encode, vi_name_percent_decode, both, N(both));
	check_pairs(NULL, vi_name_percent_decode, dec, N(dec));
}

static void test_pipe(void **state)
{
	static const struct pair both[] = {
		{"", ""},
		{"plain", "plain"},
		{"a|b", "a|7cb"},
		{"say \"hi\"", "say |22hi|22"},
		{"100%/x", "100%/x"},
		{"||", "|7c|7c"},
	};
	static const struct pair dec[] = {
		{"a|b", "a|7Cb"}, {"|", "|"}, {"|7", "|7"}, {"|xy", "|xy"}, {"|00", "|00"},
	};

	(void)state;
	check_pairs(vi_name_pipe_encode, vi_name_pipe_decode, both, N(both));
	check_pairs(NULL, vi_name_pipe_decode, dec, N(dec));
}

static void test_vmx_domain(void **state)
{
	static const struct pair both[] = {
		{"", ""},
		{"web01", "web01"},
		{"a/b|c\"d%", "a%2fb|7cc|22d%25"},
		{"odd\\back", "odd%5cback"},
		{"|%", "|7c%25"},
	};

	(void)state;
	check_pairs(vi_name_vmx_domain_encode, vi_name_vmx_domain_decode, both, N(both));
}

/* The examples of libvirt's esx tests (tests/esxutilstest.c), as expected values. */
static void test_datastore_examples(void **state)
{
	static const struct pair enc[] = {
		{"normal", "normal"},
		{"A\303\2441\303\2662\303\2743\303\2374#5~6!7\302\2478/9%Z",
		 "A+w6Q-1+w7Y-2+w7w-3+w58-4+Iw-5+fg-6+IQ-7+wqc-8+JQ-2f9+JQ-25Z"},
		{"Z~6!7\302\2478/9%0#1\"2'3`4&A",
		 "Z+fg-6+IQ-7+wqc-8+JQ-2f9+JQ-250+Iw-1_2'3+YA-4+Jg-A"},
		{"\346\250\231\346\272\226\350\252\236", "+5qiZ5rqW6Kqe"},
		{"!\"#$%&'()*+,-./0123456789:;<=>?",
		 "+IQ-_+IyQl-25+Jg-'()_+Kw-,-.+JQ-2f0123456789_+Ow-_+PQ-__"},
		{"A Z[\\]^_B", "A Z+WyU-5c+XV4-_B"},
		{"A`B@{|}~DEL", "A+YA-B+QHs-_+fX4-DEL"},
		{"h\303\200\303\201\303\202\303\203\303\204\303\205H", "h+w4DDgcOCw4PDhMOF-H"},
		{"A\354\277\200Z", "A+7L+A-Z"},
		{"!\354\277\200A", "+Iey,gA-A"},
		{"~~~", "+fn5+"},
		{"~~~A", "+fn5+-A"},
		{"K%U/H\\Z", "K+JQ-25U+JQ-2fH+JQ-5cZ"},
		{"vvv<A\"B\"C>zzz", "vvv_A_B_C_zzz"},
		{"", ""},
		{"~-", "+fg--"},
		{"a+b", "a+Kw-b"},
	};
	static const char specials[] = "\"*<>:|?";
	char want[256];
	size_t i, j;

	(void)state;
	check_pairs(vi_name_datastore_item_encode, NULL, enc, N(enc));
	/* decoding gives the name back with the Windows special characters as '_' */
	for (i = 0; i < N(enc); i++) {
		snprintf(want, sizeof(want), "%s", enc[i].plain);
		for (j = 0; want[j]; j++)
			if (strchr(specials, want[j]))
				want[j] = '_';
		assert_string_equal(run(vi_name_datastore_item_decode, enc[i].coded), want);
	}
}

static void test_datastore_malformed(void **state)
{
	static const struct pair dec[] = {
		{"a+", "a+"},	    /* lone plus */
		{"+-", "+-"},	    /* empty run */
		{"x+A-y", "x+A-y"}, /* one character cannot be whole bytes */
		{"+A", "+A"},
		{"+", "+Kw"}, /* a run at the end needs no '-' */
		{"%", "+JQ"}, /* "%" alone is no escape: copied */
		{"%2", "+JQ-2"},
		{"%zz", "+JQ-zz"},
		{"+AA-", "+AA-"}, /* NUL is never produced: kept as it stands */
		{"plain-text", "plain-text"},
		{"+!!", "+!!"},
	};

	(void)state;
	check_pairs(NULL, vi_name_datastore_item_decode, dec, N(dec));
}

/* A tiny deterministic generator so round trips cover odd bytes everywhere. */
static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_round_trips(void **state)
{
	static const char alphabet[] = "aZ09 %/\\|\"*<>:?+-,._'()~!#&\xc3\xb6\xe6\x97\xa5";
	static const char specials[] = "\"*<>:|?";
	struct buf enc, dec;
	uint32_t seed = 12345;
	char s[64];
	int round;
	size_t i, n;

	(void)state;
	buf_init(&enc, 0);
	buf_init(&dec, 0);
	for (round = 0; round < 20000; round++) {
		n = rng_next(&seed) % (sizeof(s) - 1);
		for (i = 0; i < n; i++) {
			char c = alphabet[rng_next(&seed) % (sizeof(alphabet) - 1)];

			s[i] = round % 2 ? c : (char)(1 + rng_next(&seed) % 255);
		}
		s[n] = '\0';
		buf_reset(&enc);
		buf_reset(&dec);
		assert_int_equal(vi_name_percent_encode(&enc, s), 0);
		assert_null(strchr(enc.data, '/'));
		assert_null(strchr(enc.data, '\\'));
		assert_int_equal(vi_name_percent_decode(&dec, enc.data), 0);
		assert_string_equal(dec.data, s);
		buf_reset(&enc);
		buf_reset(&dec);
		assert_int_equal(vi_name_pipe_encode(&enc, s), 0);
		assert_null(strchr(enc.data, '"'));
		assert_int_equal(vi_name_pipe_decode(&dec, enc.data), 0);
		assert_string_equal(dec.data, s);
		buf_reset(&enc);
		buf_reset(&dec);
		assert_int_equal(vi_name_vmx_domain_encode(&enc, s), 0);
		assert_int_equal(vi_name_vmx_domain_decode(&dec, enc.data), 0);
		assert_string_equal(dec.data, s);
		buf_reset(&enc);
		buf_reset(&dec);
		assert_int_equal(vi_name_datastore_item_encode(&enc, s), 0);
		for (i = 0; i < enc.len; i++) {
			unsigned char c = (unsigned char)enc.data[i];

			assert_true(c < 0x80 && !strchr(specials, c) && c != '/' && c != '\\');
		}
		assert_int_equal(vi_name_datastore_item_decode(&dec, enc.data), 0);
		for (i = 0; i < n; i++)
			if (strchr(specials, s[i]))
				s[i] = '_';
		assert_string_equal(dec.data, s);
	}
	buf_release(&enc);
	buf_release(&dec);
}

static void test_capped(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(vi_name_percent_encode(&b, "//////"), -1);
	assert_true(b.failed);
	buf_release(&b);
	buf_init(&b, 8);
	assert_int_equal(vi_name_datastore_item_encode(&b, "~~~~~~~~~~~~"), -1);
	buf_release(&b);
	buf_init(&b, 4);
	assert_int_equal(vi_name_vmx_domain_encode(&b, "a/b"), -1);
	buf_release(&b);
	buf_init(&b, 4);
	assert_int_equal(vi_name_datastore_item_decode(&b, "abcdefgh"), -1);
	buf_release(&b);
	/* NULL is an empty name */
	buf_init(&b, 0);
	assert_int_equal(vi_name_percent_decode(&b, NULL), 0);
	assert_string_equal(b.data, "");
	buf_release(&b);
	run(vi_name_percent_encode, ""); /* frees run()'s buffer at exit */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_vmx_domain),
		cmocka_unit_test(test_datastore_examples),
		cmocka_unit_test(test_datastore_malformed),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

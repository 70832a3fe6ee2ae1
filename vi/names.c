/* vi/names: percent-, pipe-, VMX domainName and datastore item name escaping. */
#include "vi/names.h"

#include <stdbool.h>
#include <string.h>

#include "util/hex.h"

static const char hex_lower[] = "0123456789abcdef";

/* Standard base64 with ',' for '/': '/' would split a datastore path. */
static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static int done(struct buf *out)
{
	return out->failed ? -1 : 0;
}

/* Appends s[0..n) with every byte of special written as <esc>XX. */
static void hex_encode(struct buf *out, const char *s, size_t n, char esc, const char *special)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!c || !strchr(special, c))
			continue;
		buf_add(out, s + start, i - start);
		buf_addc(out, esc);
		buf_addc(out, hex_lower[c >> 4]);
		buf_addc(out, hex_lower[c & 15]);
		start = i + 1;
	}
	buf_add(out, s + start, n - start);
}

/* Appends s[0..n) with <esc>XX (any case, not 00) turned back into the byte;
 * anything else, a malformed escape included, is copied. */
static void hex_decode(struct buf *out, const char *s, size_t n, char esc)
{
	size_t i = 0, start = 0;

	while (i < n) {
		int hi, lo;

		if (s[i] != esc || n - i < 3) {
			i++;
			continue;
		}
		hi = hex_digit((unsigned char)s[i + 1]);
		lo = hex_digit((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			i++;
			continue;
		}
		buf_add(out, s + start, i - start);
		buf_addc(out, (char)(hi << 4 | lo));
		i += 3;
		start = i;
	}
	buf_add(out, s + start, n - start);
}

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

int vi_name_percent_encode(struct buf *out, const char *s)
{
	hex_encode(out, s, slen(s), '%', "%/\\");
	return done(out);
}

int vi_name_percent_decode(struct buf *out, const char *s)
{
	hex_decode(out, s, slen(s), '%');
	return done(out);
}

int vi_name_pipe_encode(struct buf *out, const char *s)
{
	hex_encode(out, s, slen(s), '|', "|\"");
	return done(out);
}

int vi_name_pipe_decode(struct buf *out, const char *s)
{
	hex_decode(out, s, slen(s), '|');
	return done(out);
}

int vi_name_vmx_domain_encode(struct buf *out, const char *s)
{
	struct buf tmp;

	buf_init(&tmp, out->max);
	hex_encode(&tmp, s, slen(s), '%', "%/\\");
	if (tmp.failed)
		out->failed = true;
	else
		hex_encode(out, tmp.data, tmp.len, '|', "|\"");
	buf_release(&tmp);
	return done(out);
}

int vi_name_vmx_domain_decode(struct buf *out, const char *s)
{
	struct buf tmp;

	buf_init(&tmp, out->max);
	hex_decode(&tmp, s, slen(s), '|');
	if (tmp.failed)
		out->failed = true;
	else
		hex_decode(out, tmp.data, tmp.len, '%');
	buf_release(&tmp);
	return done(out);
}

static bool datastore_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '\'' || c == '(' || c == ')' || c == ',' || c == '.' || c == ' ' || c == '_' ||
	       c == '-';
}

/* Appends the base64 form of s[0..n) without padding. */
static void b64_encode(struct buf *out, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		buf_addc(out, b64_alphabet[s[i] >> 2]);
		buf_addc(out, b64_alphabet[(s[i] & 3) << 4 | s[i + 1] >> 4]);
		buf_addc(out, b64_alphabet[(s[i + 1] & 15) << 2 | s[i + 2] >> 6]);
		buf_addc(out, b64_alphabet[s[i + 2] & 63]);
	}
	if (n - i == 1) {
		buf_addc(out, b64_alphabet[s[i] >> 2]);
		buf_addc(out, b64_alphabet[(s[i] & 3) << 4]);
	} else if (n - i == 2) {
		buf_addc(out, b64_alphabet[s[i] >> 2]);
		buf_addc(out, b64_alphabet[(s[i] & 3) << 4 | s[i + 1] >> 4]);
		buf_addc(out, b64_alphabet[(s[i + 1] & 15) << 2]);
	}
}

/* Decodes n base64 characters (all from the alphabet); with out NULL only
 * checks. -1 when n cannot be the unpadded form of whole bytes (n % 4 == 1)
 * or a byte would be NUL (no name holds one). */
static int b64_decode(struct buf *out, const char *s, size_t n)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		acc = (acc << 6 | (unsigned)b64_value(s[i])) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if ((acc >> bits & 0xff) == 0)
				return -1;
			if (out)
				buf_addc(out, (char)(acc >> bits & 0xff));
		}
	}
	return 0;
}

int vi_name_datastore_item_encode(struct buf *out, const char *s)
{
	static const char windows_special[] = "\"*<>:|?";
	struct buf tmp;
	size_t i, n = slen(s), run;
	char c;

	/* "*<>:|? become '_', then percent-encoding */
	buf_init(&tmp, out->max);
	for (i = 0; i < n; i++) {
		c = strchr(windows_special, s[i]) ? '_' : s[i];
		hex_encode(&tmp, &c, 1, '%', "%/\\");
	}
	if (tmp.failed) {
		out->failed = true;
		goto out_release;
	}
	/* runs of other characters as '+' base64 '-' */
	for (i = 0; i < tmp.len; i = run) {
		const unsigned char *p = (const unsigned char *)tmp.data;

		if (datastore_safe(p[i])) {
			buf_addc(out, (char)p[i]);
			run = i + 1;
			continue;
		}
		for (run = i; run < tmp.len && !datastore_safe(p[run]); run++)
			;
		buf_addc(out, '+');
		b64_encode(out, p + i, run - i);
		if (run < tmp.len)
			buf_addc(out, '-');
	}
out_release:
	buf_release(&tmp);
	return done(out);
}

int vi_name_datastore_item_decode(struct buf *out, const char *s)
{
	struct buf tmp;
	size_t i = 0, n = slen(s), end, start = 0, dash;

	buf_init(&tmp, out->max);
	while (i < n) {
		if (s[i] != '+') {
			i++;
			continue;
		}
		for (end = i + 1; end < n && b64_value(s[end]) >= 0; end++)
			;
		if (end == i + 1) {
			i++; /* a lone '+': copied as it stands */
			continue;
		}
		dash = end < n && s[end] == '-';
		buf_add(&tmp, s + start, i - start);
		if (b64_decode(NULL, s + i + 1, end - i - 1) < 0)
			buf_add(&tmp, s + i, end + dash - i); /* malformed: copied */
		else
			b64_decode(&tmp, s + i + 1, end - i - 1);
		i = end + dash;
		start = i;
	}
	buf_add(&tmp, s + start, n - start);
	if (tmp.failed)
		out->failed = true;
	else
		hex_decode(out, tmp.data, tmp.len, '%');
	buf_release(&tmp);
	return done(out);
}

/* buf: growable byte buffer with a cap and a sticky failure flag. */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char buf_empty[1];

void buf_init(struct buf *b, size_t max)
{
	b->data = buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->max = max ? max : BUF_DEFAULT_MAX;
	b->failed = false;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->data);
	b->data = buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->failed = false;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->data[0] = '\0';
	b->failed = false;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *s;

	if (len)
		*len = b->len;
	if (b->alloc) {
		s = b->data;
	} else {
		s = malloc(1);
		if (s)
			s[0] = '\0';
	}
	b->data = buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->failed = false;
	return s;
}

int buf_grow_slow(struct buf *b, size_t n)
{
	size_t want, next;
	char *p;

	if (b->failed)
		return -1;
	if (n > b->max - b->len) {
		b->failed = true;
		return -1;
	}
	want = b->len + n + 1;
	if (want <= b->alloc)
		return 0;
	next = b->alloc ? b->alloc : 64;
	while (next < want)
		next = next > ((size_t)-1) / 2 ? want : next * 2;
	if (next > b->max + 1)
		next = b->max + 1;
	p = realloc(b->alloc ? b->data : NULL, next);
	if (!p) {
		b->failed = true;
		return -1;
	}
	if (!b->alloc)
		p[0] = '\0';
	b->data = p;
	b->alloc = next;
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_grow(b, (size_t)n) < 0) {
		b->failed = true;
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int buf_add_xml(struct buf *b, const char *s)
{
	const char *start = s;

	for (; *s; s++) {
		const char *rep;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default: continue;
		}
		buf_add(b, start, (size_t)(s - start));
		buf_adds(b, rep);
		start = s + 1;
	}
	buf_add(b, start, (size_t)(s - start));
	return b->failed ? -1 : 0;
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not valid. */
static size_t utf8_seq_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (s[0] == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (s[0] == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if (s[0] == 0xf0 && s[1] < 0x90)
			return 0;
		if (s[0] == 0xf4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

int buf_add_label(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq_len(p);

		if (n == 0) {
			buf_adds(b, "\xef\xbf\xbd");
			p++;
		} else if (*p == '\\') {
			buf_adds(b, "\\\\");
			p++;
		} else if (*p == '"') {
			buf_adds(b, "\\\"");
			p++;
		} else if (*p == '\n') {
			buf_adds(b, "\\n");
			p++;
		} else {
			buf_add(b, p, n);
			p += n;
		}
	}
	return b->failed ? -1 : 0;
}

int buf_add_utf8(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		const unsigned char *start = p;
		size_t n;

		while (*p && (n = utf8_seq_len(p)) != 0)
			p += n;
		buf_add(b, start, (size_t)(p - start));
		if (*p) {
			buf_adds(b, "\xef\xbf\xbd");
			p++;
		}
	}
	return b->failed ? -1 : 0;
}

int buf_add_shown(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq_len(p);

		if (n == 0) {
			buf_adds(b, "\xef\xbf\xbd");
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			buf_addf(b, "\\x%02x", *p);
			p++;
		} else {
			buf_add(b, p, n);
			p += n;
		}
	}
	return b->failed ? -1 : 0;
}

int buf_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq_len(p);

		if (n == 0)
			return 0;
		p += n;
	}
	return 1;
}

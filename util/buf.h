/* buf: the one growable byte buffer, with a size cap and a sticky failure flag. */
#ifndef VIMON_UTIL_BUF_H
#define VIMON_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/*
 * Invariants: data is never NULL and is always NUL-terminated (data[len] ==
 * '\0'); before the first allocation it points at a shared empty string.
 * len + 1 never exceeds max + 1. Once an append fails (cap reached or out of
 * memory) failed stays true and every later append is a no-op returning -1,
 * so a caller may append many times and check once.
 */
struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;
	bool failed;
};

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

/* Prepares an empty buffer that may hold at most max bytes (0: BUF_DEFAULT_MAX). */
void buf_init(struct buf *b, size_t max);

/* Frees the contents; the buffer is empty and usable again. */
void buf_release(struct buf *b);

/* Empties the buffer, keeping its allocation; clears the failure flag. */
void buf_reset(struct buf *b);

/* Returns the contents as a malloc'd string the caller frees (never NULL unless
 * out of memory) and leaves the buffer empty. */
char *buf_detach(struct buf *b, size_t *len);

/* buf_grow when the room is not there yet (or failed is set). */
int buf_grow_slow(struct buf *b, size_t n);

/* Makes room for n more bytes. 0, or -1 (failed set). Inline: rendering
 * appends millions of short pieces, and most find room. */
static inline int buf_grow(struct buf *b, size_t n)
{
	/* alloc <= max + 1, so this also keeps len + n within max */
	if (!b->failed && b->alloc && n < b->alloc - b->len)
		return 0;
	return buf_grow_slow(b, n);
}

/* Appends. Each returns 0, or -1 when the cap or memory ran out (failed set). */
static inline int buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static inline int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

static inline int buf_addc(struct buf *b, char c)
{
	if (buf_grow(b, 1) < 0)
		return -1;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s escaped for XML text and attribute values (& < > " '). */
int buf_add_xml(struct buf *b, const char *s);

/* Appends s escaped for a Prometheus label value (\ " newline). Invalid UTF-8
 * bytes are replaced with U+FFFD so the exposition stays valid UTF-8. */
int buf_add_label(struct buf *b, const char *s);

/* Appends s unescaped, with every byte that is not part of a valid UTF-8
 * sequence replaced by U+FFFD (for JSON strings and other UTF-8-only sinks). */
int buf_add_utf8(struct buf *b, const char *s);

/* Appends s for a terminal or a log line: valid UTF-8 is kept, control
 * characters (below 0x20, and DEL) become \xNN, invalid bytes U+FFFD. */
int buf_add_shown(struct buf *b, const char *s);

/* 1 when s is valid UTF-8 (no overlong forms, no surrogates), 0 otherwise. */
int buf_utf8_valid(const char *s);

#endif

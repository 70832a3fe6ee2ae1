/* log: leveled logging to stderr (escaped, text or logfmt), and back-off for repeated failures. */
#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_MSG_MAX  2048
#define LOG_LINE_MAX (4 * LOG_MSG_MAX + 128)

static atomic_int current_level = LOG_LEVEL_INFO;
static atomic_int current_format = LOG_FORMAT_TEXT;
static atomic_int timestamps = -1;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void log_set_level(enum log_level level)
{
	atomic_store(&current_level, (int)level);
}

void log_set_format(enum log_format format)
{
	atomic_store(&current_format, (int)format);
}

void log_set_timestamps(int on)
{
	atomic_store(&timestamps, on < 0 ? -1 : on != 0);
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (int i = 0; i <= LOG_LEVEL_DEBUG; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(name, "warn") == 0) {
		*out = LOG_LEVEL_WARN;
		return 0;
	}
	return -1;
}

int log_format_parse(const char *name, enum log_format *out)
{
	if (strcmp(name, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(name, "logfmt") == 0)
		*out = LOG_FORMAT_LOGFMT;
	else
		return -1;
	return 0;
}

size_t log_escape(char *out, size_t cap, const char *in, size_t len, int quote)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		char esc[4];
		size_t n = 0;

		if (c == '\n' || c == '\r' || c == '\t') {
			esc[n++] = '\\';
			esc[n++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20 || c == 0x7f) {
			esc[n++] = '\\';
			esc[n++] = 'x';
			esc[n++] = hex[c >> 4];
			esc[n++] = hex[c & 15];
		} else if (quote && (c == '"' || c == '\\')) {
			esc[n++] = '\\';
			esc[n++] = (char)c;
		} else {
			esc[n++] = (char)c;
		}
		if (o + n >= cap)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o] = '\0';
	return o;
}

/* "2026-01-02T03:04:05.678Z" into out (64 bytes: any year fits). */
static void format_time(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

static bool want_timestamps(void)
{
	int on = atomic_load(&timestamps);

	if (on < 0)
		return getenv("JOURNAL_STREAM") == NULL;
	return on != 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[LOG_MSG_MAX];
	char line[LOG_LINE_MAX];
	char when[64] = "";
	bool logfmt = atomic_load(&current_format) == LOG_FORMAT_LOGFMT;
	va_list ap;
	int n, head;

	if ((int)level > atomic_load(&current_level))
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1;
	if (want_timestamps())
		format_time(when, sizeof(when));
	if (logfmt)
		head = snprintf(line, sizeof(line), "%s%s%slevel=%s msg=\"", *when ? "ts=" : "",
				when, *when ? " " : "", level_names[level]);
	else
		head = snprintf(line, sizeof(line), "%s%svimon: %s: ", when, *when ? " " : "",
				level_names[level]);
	head += (int)log_escape(line + head, sizeof(line) - (size_t)head - 2, msg, (size_t)n,
				logfmt);
	if (logfmt)
		line[head++] = '"';
	line[head++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)head) < 0)
		return;
}

void log_backoff_init(struct log_backoff *b, unsigned max_interval)
{
	b->next = 0;
	b->interval = 0;
	b->max_interval = max_interval ? max_interval : 3600;
	b->suppressed = 0;
}

bool log_backoff_due(struct log_backoff *b, time_t now, unsigned long *suppressed)
{
	if (now < b->next) {
		b->suppressed++;
		return false;
	}
	if (suppressed)
		*suppressed = b->suppressed;
	b->suppressed = 0;
	b->interval = b->interval ? b->interval * 2 : 10;
	if (b->interval > b->max_interval)
		b->interval = b->max_interval;
	b->next = now + (time_t)b->interval;
	return true;
}

void log_backoff_reset(struct log_backoff *b)
{
	b->next = 0;
	b->interval = 0;
	b->suppressed = 0;
}

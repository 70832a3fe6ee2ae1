/* log: leveled logging to stderr, and back-off for repeated failures. */
#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static atomic_int current_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void log_set_level(enum log_level level)
{
	atomic_store(&current_level, (int)level);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n, head;

	if ((int)level > atomic_load(&current_level))
		return;
	head = snprintf(line, sizeof(line), "vimon: %s: ", level_names[level]);
	va_start(ap, fmt);
	n = vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += head;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
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

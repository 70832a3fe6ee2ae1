/* log: leveled logging to stderr for the agent and the command-line programs. */
#ifndef VIMON_UTIL_LOG_H
#define VIMON_UTIL_LOG_H

#include <stdbool.h>
#include <time.h>

#include <stddef.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* LOG_FORMAT_TEXT: "[TIME ]vimon: LEVEL: message"; LOG_FORMAT_LOGFMT:
 * "[ts=TIME ]level=LEVEL msg="message"". TIME is UTC, RFC 3339 with ms. */
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_LOGFMT };

/* Messages above level are dropped. Default LOG_LEVEL_INFO. Thread-safe. */
void log_set_level(enum log_level level);

/* The line format (default LOG_FORMAT_TEXT). Thread-safe. */
void log_set_format(enum log_format format);

/* Timestamps on (1) or off (0); -1 (the default): on unless the environment
 * has JOURNAL_STREAM (stderr is the systemd journal, which stamps lines). */
void log_set_timestamps(int on);

/* Names as in the configuration and on the command line: "error",
 * "warning" (or "warn"), "info", "debug"; "text", "logfmt". 0, or -1 for an
 * unknown name (*out unchanged). */
int log_level_parse(const char *name, enum log_level *out);
int log_format_parse(const char *name, enum log_format *out);

/*
 * Writes one line to stderr (thread-safe, one write per line). The message
 * is escaped: control characters become \n, \r, \t or \xNN, so text from
 * the network or a file can never start a line of its own; in logfmt `"` and
 * `\` are escaped too and the message is quoted.
 */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The escaping of log_msg: in (len bytes) into out (cap > 0 bytes, always
 * NUL-terminated, cut at a whole escape); quote also escapes `"` and `\`.
 * Returns the length written. */
size_t log_escape(char *out, size_t cap, const char *in, size_t len, int quote);

/*
 * Back-off for repeated failures: a failure that keeps happening is logged the
 * first time, then at most once per interval that doubles up to max_interval,
 * with the count of suppressed repeats. One per failing thing (a target).
 */
struct log_backoff {
	time_t next;
	unsigned interval;
	unsigned max_interval;
	unsigned long suppressed;
};

/* Prepares b; max_interval in seconds (0: 3600). */
void log_backoff_init(struct log_backoff *b, unsigned max_interval);

/* Returns true when this failure should be logged now (and how many were
 * suppressed since the last one, in *suppressed). */
bool log_backoff_due(struct log_backoff *b, time_t now, unsigned long *suppressed);

/* The failing thing recovered: the next failure is logged at once. */
void log_backoff_reset(struct log_backoff *b);

#endif

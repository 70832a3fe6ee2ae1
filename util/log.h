/* log: leveled logging to stderr for the agent and the command-line programs. */
#ifndef VIMON_UTIL_LOG_H
#define VIMON_UTIL_LOG_H

#include <stdbool.h>
#include <time.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Messages above level are dropped. Default LOG_LEVEL_INFO. Thread-safe. */
void log_set_level(enum log_level level);

/* Writes one line "LEVEL message" to stderr (thread-safe, one write per line). */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

/* agent/process: the agent process's own metrics (process_*) and vimon_build_info. */
#ifndef VIMON_AGENT_PROCESS_H
#define VIMON_AGENT_PROCESS_H

#include "agent/snapshot.h"
#include "util/err.h"

/* What the process families show; -1 (or 0 for max_fds) when unknown. */
struct process_stats {
	double cpu_seconds;    /* user + system */
	double resident_bytes; /* resident set size */
	double virtual_bytes;  /* virtual memory size */
	double open_fds;       /* entries of /proc/self/fd */
	double max_fds;	       /* RLIMIT_NOFILE soft limit */
	double start_time;     /* seconds since the epoch */
};

/* The revision vimon was built from (git commit, or "unknown"). Static. */
const char *process_revision(void);

/*
 * Reads the stats of the calling process from /proc/self (stat, statm, fd)
 * and getrlimit. A value that cannot be read is -1 and left out by
 * process_render. Always returns 0 (missing /proc is not an error).
 */
int process_read(struct process_stats *st);

/*
 * Adds vimon_build_info{version,revision} and the process_* families of st
 * (those known) to s, in name order. 0, or -1 with e set (ERR_NOMEM).
 */
int process_render(const struct process_stats *st, const char *version, const char *revision,
		   struct snapshot *s, struct err *e);

/*
 * A snapshot of the process families for /metrics, refreshed when the last
 * one is older than a second (so a burst of scrapes shares one). Its
 * generation grows with each refresh. Thread-safe. Returns it with a
 * reference for the caller (snapshot_put), or NULL when out of memory.
 */
struct process_metrics;
struct process_metrics *process_metrics_new(void);
void process_metrics_free(struct process_metrics *pm); /* NULL is fine */
struct snapshot *process_metrics_get(struct process_metrics *pm);

#endif

/* agent/process: process_* metrics from /proc/self and vimon_build_info, as a snapshot. */
#include "agent/process.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "agent/render.h"
#include "util/buf.h"

#ifndef VIMON_REVISION
#define VIMON_REVISION "unknown"
#endif

#define PROCESS_REFRESH_S 1.0

const char *process_revision(void)
{
	return VIMON_REVISION[0] ? VIMON_REVISION : "unknown";
}

/* Reads a small /proc file into buf (NUL-terminated). 0 or -1. */
static int read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

/* Seconds since the epoch of a CLOCK_BOOTTIME instant (no /proc/stat, which a
 * sandbox with ProcSubset=pid hides). */
static double boottime_to_epoch(double boottime)
{
	struct timespec rt, bt;

	if (clock_gettime(CLOCK_REALTIME, &rt) < 0 || clock_gettime(CLOCK_BOOTTIME, &bt) < 0)
		return -1;
	return (double)rt.tv_sec + (double)rt.tv_nsec / 1e9 -
	       ((double)bt.tv_sec + (double)bt.tv_nsec / 1e9 - boottime);
}

/* Fields 14 (utime), 15 (stime), 22 (starttime), 23 (vsize), 24 (rss) of
 * /proc/self/stat; the command name (field 2) may hold spaces and ')'. */
static void read_stat(struct process_stats *st)
{
	char buf[1024], *p, *end;
	double ticks = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	double v[25] = {0};
	int field;

	if (read_small("/proc/self/stat", buf, sizeof(buf)) < 0 || ticks <= 0 || page <= 0)
		return;
	p = strrchr(buf, ')');
	if (!p)
		return;
	p++;
	for (field = 3; field <= 24; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return;
		v[field] = strtod(p, &end);
		if (end == p) /* field 3 is the state letter */
			end = p + strcspn(p, " ");
		p = end;
	}
	st->cpu_seconds = (v[14] + v[15]) / ticks;
	st->virtual_bytes = v[23];
	st->resident_bytes = v[24] * page;
	st->start_time = boottime_to_epoch(v[22] / ticks);
}

static double count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	double n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own descriptor */
}

int process_read(struct process_stats *st)
{
	struct rlimit rl;

	st->cpu_seconds = st->resident_bytes = st->virtual_bytes = -1;
	st->open_fds = st->max_fds = st->start_time = -1;
	read_stat(st);
	st->open_fds = count_fds();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		st->max_fds = (double)rl.rlim_cur;
	return 0;
}

/* Adds one family with a single unlabelled sample, when v is known. 0 or -1. */
static int add_one(struct snapshot *s, struct buf *b, const char *name, const char *help,
		   const char *type, double v)
{
	int rc;

	if (v < 0)
		return 0;
	buf_reset(b);
	buf_adds(b, name);
	buf_addc(b, ' ');
	render_value(b, v);
	buf_addc(b, '\n');
	if (b->failed)
		return -1;
	rc = snapshot_add_family(s, name, help, type, b->data, b->len);
	buf_reset(b);
	return rc;
}

int process_render(const struct process_stats *st, const char *version, const char *revision,
		   struct snapshot *s, struct err *e)
{
	struct buf b;
	int rc = -1;

	buf_init(&b, 0);
	/* in name order, as snapshot_add_family wants */
	if (add_one(s, &b, "process_cpu_seconds_total",
		    "Total user and system CPU time spent in seconds.", "counter",
		    st->cpu_seconds) < 0 ||
	    add_one(s, &b, "process_max_fds", "Maximum number of open file descriptors.", "gauge",
		    st->max_fds) < 0 ||
	    add_one(s, &b, "process_open_fds", "Number of open file descriptors.", "gauge",
		    st->open_fds) < 0 ||
	    add_one(s, &b, "process_resident_memory_bytes", "Resident memory size in bytes.",
		    "gauge", st->resident_bytes) < 0 ||
	    add_one(s, &b, "process_start_time_seconds",
		    "Start time of the process since unix epoch in seconds.", "gauge",
		    st->start_time) < 0 ||
	    add_one(s, &b, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge",
		    st->virtual_bytes) < 0)
		goto out;
	buf_adds(&b, "vimon_build_info{version=\"");
	buf_add_label(&b, version);
	buf_adds(&b, "\",revision=\"");
	buf_add_label(&b, revision);
	buf_adds(&b, "\"} 1\n");
	if (b.failed || snapshot_add_family(s, "vimon_build_info",
					    "The version and git revision vimon was built from "
					    "(always 1).",
					    "gauge", b.data, b.len) < 0)
		goto out;
	rc = 0;
out:
	buf_release(&b);
	return rc < 0 ? err_set(e, ERR_NOMEM, "out of memory rendering the process metrics") : 0;
}

struct process_metrics {
	pthread_mutex_t lock;
	struct snapshot *cur;
	double taken; /* CLOCK_MONOTONIC seconds of cur */
	unsigned long generation;
};

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct process_metrics *process_metrics_new(void)
{
	struct process_metrics *pm = calloc(1, sizeof(*pm));

	if (pm)
		pthread_mutex_init(&pm->lock, NULL);
	return pm;
}

void process_metrics_free(struct process_metrics *pm)
{
	if (!pm)
		return;
	snapshot_put(pm->cur);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

struct snapshot *process_metrics_get(struct process_metrics *pm)
{
	struct process_stats st;
	struct snapshot *s = NULL;
	double now = monotonic();
	struct err e;

	pthread_mutex_lock(&pm->lock);
	if (pm->cur && now - pm->taken < PROCESS_REFRESH_S) {
		s = pm->cur;
		snapshot_ref(s);
		goto out_unlock;
	}
	err_clear(&e);
	process_read(&st);
	s = snapshot_new();
	if (!s || process_render(&st, VIMON_VERSION, process_revision(), s, &e) < 0) {
		snapshot_put(s);
		s = NULL;
		goto out_unlock;
	}
	s->generation = ++pm->generation;
	snapshot_put(pm->cur);
	pm->cur = s;
	pm->taken = now;
	snapshot_ref(s);
out_unlock:
	pthread_mutex_unlock(&pm->lock);
	return s;
}

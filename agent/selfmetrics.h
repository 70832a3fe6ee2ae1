/* agent/selfmetrics: the agent's own metrics for one target (API calls, errors, logins). */
#ifndef VIMON_AGENT_SELFMETRICS_H
#define VIMON_AGENT_SELFMETRICS_H

#include <stddef.h>

#include "agent/inventory.h"
#include "agent/snapshot.h"
#include "util/err.h"

#define SELF_MAX_METHODS 32
#define SELF_NBUCKETS	 13

struct self_method {
	char name[48];
	unsigned long count;
};

/* Written and read by the target's own thread only (the session observer
 * runs on the thread making the call). */
struct selfmetrics {
	struct self_method methods[SELF_MAX_METHODS];
	size_t nmethods;
	unsigned long errors[ERR_KIND_COUNT];
	unsigned long buckets[SELF_NBUCKETS]; /* per bucket, not cumulative */
	unsigned long calls; /* calls in the duration histogram (not WaitForUpdatesEx) */
	double seconds_sum;
	unsigned long long bytes;
};

/* The state of the target that the self-metrics show. */
struct self_state {
	int up;
	double last_update;    /* seconds since the epoch, 0: never */
	unsigned long logins;  /* successful logins */
	unsigned long resyncs; /* filter rebuilds after the first */
	double render_seconds;
};

/* Zeroes m (no allocation; nothing to free). */
void selfmetrics_init(struct selfmetrics *m);

/* For struct vi_call_observer: ud is a struct selfmetrics. Counts the call by
 * method (the first SELF_MAX_METHODS method names) and its bytes, and its
 * duration in the histogram unless it is a WaitForUpdatesEx (whose server-side
 * wait is not latency). */
void selfmetrics_on_call(void *ud, const char *method, double seconds, size_t bytes,
			 const struct err *e);

/* Counts one collection error of that kind. */
void selfmetrics_error(struct selfmetrics *m, enum err_kind kind);

/*
 * Adds the agent families (vsphere_up, vsphere_last_update_timestamp_seconds,
 * vsphere_collector_errors_total, vsphere_api_requests_total,
 * vsphere_api_request_duration_seconds, vsphere_api_received_bytes_total,
 * vsphere_session_logins_total, vsphere_collector_resyncs_total, vsphere_inventory_objects,
 * vsphere_snapshot_render_seconds) for target to s, unsorted. inv may be
 * NULL. 0, or -1 with e set (ERR_NOMEM).
 */
int selfmetrics_render(const struct selfmetrics *m, const struct self_state *st,
		       const struct inventory *inv, const char *target, struct snapshot *s,
		       struct err *e);

#endif

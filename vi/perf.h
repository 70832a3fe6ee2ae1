/* vi/perf: the PerformanceManager: counter ids by name, QueryPerf for the latest sample. */
#ifndef VIMON_VI_PERF_H
#define VIMON_VI_PERF_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "vi/session.h"
#include "vi/xml.h"

#define VI_PERF_NAME_MAX 96 /* "group.name.rollup" */
#define VI_PERF_UNIT_MAX 32 /* "kiloBytesPerSecond" */

/* What the server says about one counter we asked for by name. */
struct vi_perf_counter {
	int key; /* the counter id; -1 when the server has no counter of that name */
	char unit[VI_PERF_UNIT_MAX]; /* unitInfo.key ("kiloBytes"); "" when absent */
};

/*
 * Matches one PerfCounterInfo element against names ("mem.state.latest":
 * groupInfo.key, nameInfo.key and rollupType joined by dots) and fills out[i]
 * for the name it is. Pure (tests). 0, or -1 with e set (ERR_PARSE) when the
 * element has no numeric key.
 */
int vi_perf_counter_match(const struct vi_node *info, const char *const *names, size_t n,
			  struct vi_perf_counter *out, struct err *e);

/*
 * Reads PerformanceManager.perfCounter (one RetrievePropertiesEx, a few
 * hundred KB on vCenter: do it once per session) and fills out[i] (n entries,
 * caller's) for each names[i]; key -1 for a name the server lacks. -1 with e
 * set (ERR_INVALID when the server has no PerformanceManager).
 */
int vi_perf_lookup_counters(struct vi_session *s, const char *const *names, size_t n,
			    struct vi_perf_counter *out, struct err *e);

/* An entity to ask about: managed-object type and moref value (borrowed). */
struct vi_perf_entity {
	const char *type;
	const char *moref;
};

/* One value of one counter of one entity, borrowed for the callback. */
struct vi_perf_sample {
	const char *entity;   /* moref value */
	int counter;	      /* counter id */
	const char *instance; /* "" for the aggregate */
	int64_t value;	      /* the latest value in the counter's unit; never negative */
	double timestamp;     /* of that sample, seconds since the epoch; 0 when not sent */
	int interval;	      /* sampling period in seconds (20 for realtime); 0 when not sent */
};

typedef int (*vi_perf_sample_fn)(void *ud, const struct vi_perf_sample *smp, struct err *e);

/*
 * Hands every series of one PerfEntityMetric element (QueryPerf's returnval)
 * to on_sample with its latest value; values of -1 (no data) are skipped. Pure
 * (tests). 0, or -1 with e set (ERR_PARSE, or what on_sample set).
 */
int vi_perf_entity_metric(const struct vi_node *n, vi_perf_sample_fn on_sample, void *ud,
			  struct err *e);

/*
 * One QueryPerf for nents entities: for each, the counters (instance "", the
 * aggregate) on interval_id (20: realtime), maxSample 1 (the latest sample
 * only). Each value is streamed to on_sample as the reply is read. A
 * NotAuthenticated fault logs in again and resends (vi_session_call, flags 0).
 * 0, or -1 with e set.
 */
int vi_perf_query(struct vi_session *s, const struct vi_perf_entity *ents, size_t nents,
		  const int *counters, size_t ncounters, int interval_id,
		  vi_perf_sample_fn on_sample, void *ud, struct err *e);

#endif

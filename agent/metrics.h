/* agent/metrics: merges the targets' snapshots into one /metrics body (and its gzip), cached. */
#ifndef VIMON_AGENT_METRICS_H
#define VIMON_AGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/snapshot.h"
#include "util/buf.h"
#include "util/err.h"

/*
 * One merged exposition, shared by the HTTP threads that serve it. Never
 * changed once built; freed when the last reference goes (metrics_page_put).
 */
struct metrics_page {
	char *text; /* Prometheus text format, NUL-terminated */
	size_t len;
	unsigned char *gz; /* text gzip-compressed */
	size_t gzlen;
	int refs; /* atomic */
};

struct metrics_cache;

/*
 * Appends the merged exposition of snaps (n snapshots, NULL entries skipped)
 * to out: families sorted by name, each with one # HELP and one # TYPE line
 * (from the first snapshot that has the family), then the samples of every
 * snapshot in the given order. 0, or -1 when out failed (cap or memory).
 */
int metrics_merge(struct snapshot *const *snaps, size_t n, struct buf *out);

/*
 * Compresses data into a gzip member. On success *out (NULL on entry) is a
 * malloc'd buffer of *outlen bytes the caller frees. -1 with e set on failure.
 */
int metrics_gzip(const char *data, size_t len, unsigned char **out, size_t *outlen, struct err *e);

/* 1 when an Accept-Encoding header value (NULL: absent) allows gzip. */
int metrics_accepts_gzip(const char *accept_encoding);

/* A cache of the last merged page. NULL when out of memory. */
struct metrics_cache *metrics_cache_new(void);

/* Frees the cache (pages still referenced elsewhere live on). NULL is fine. */
void metrics_cache_free(struct metrics_cache *mc);

/*
 * The merged page for snaps, with a reference for the caller
 * (metrics_page_put). The page is rebuilt (under the cache's mutex) only when
 * epoch, the number of snapshots or one snapshot's generation differs from
 * the last call; otherwise the cached page is returned. epoch must change
 * whenever the set of targets changes. -1 with e set when out of memory.
 */
int metrics_cache_get(struct metrics_cache *mc, unsigned long epoch, struct snapshot *const *snaps,
		      size_t n, struct metrics_page **out, struct err *e);

/* How many times the cache built a page (for tests and self-metrics). */
unsigned long metrics_cache_builds(struct metrics_cache *mc);

void metrics_page_ref(struct metrics_page *p);

/* Drops a reference; frees at zero. NULL is fine. */
void metrics_page_put(struct metrics_page *p);

#endif

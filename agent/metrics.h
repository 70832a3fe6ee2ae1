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
 *
 * Only the gzip body is kept: one gzip member whose deflate stream is the
 * concatenation of the families' segments, compressed when each family was
 * rendered (agent/snapshot.h), with their CRC-32s combined; building a page
 * compresses nothing. The plain body is inflated from it for the clients that
 * do not take gzip (metrics_reader), so no target's text is held whole.
 */
struct metrics_page {
	size_t len;		 /* plain body length */
	const unsigned char *gz; /* the gzip body */
	size_t gzlen;
	unsigned long build; /* its cache's build number: a larger one is newer */
	int refs;	     /* atomic */
	/* internal */
	unsigned char *gzdata;
};

/* The plain body of a page, inflated piece by piece. */
struct metrics_reader;

/* A reader of p from its start (it holds a reference on p); NULL when out of
 * memory. */
struct metrics_reader *metrics_reader_new(struct metrics_page *p);

/* Fills out with up to max next bytes of the plain body: how many (0 at its
 * end), or -1 when the body does not inflate (a bug). */
long metrics_reader_read(struct metrics_reader *r, char *out, size_t max);

/* NULL is fine. */
void metrics_reader_free(struct metrics_reader *r);

/* Test hook (only the unit tests call it): the plain body of p flattened into
 * out. 0 or -1 (out failed). */
int metrics_page_text(const struct metrics_page *p, struct buf *out);

struct metrics_cache;

/* 1 when an Accept-Encoding header value (NULL: absent) allows gzip. */
int metrics_accepts_gzip(const char *accept_encoding);

/* A cache of the last merged page. NULL when out of memory. */
struct metrics_cache *metrics_cache_new(void);

/* Frees the cache (pages still referenced elsewhere live on). NULL is fine. */
void metrics_cache_free(struct metrics_cache *mc);

/*
 * The merged page for snaps, with a reference for the caller
 * (metrics_page_put). The page is rebuilt only when epoch or the number of
 * snapshots differs from the cached page's, or one snapshot's generation is
 * newer; otherwise the cached page is returned. One request builds at a time,
 * outside the cache's mutex; while it does, other requests get the cached page
 * when it has the same epoch and count and its build started less than 2 s
 * ago (under continuous scraping: the page before the one being built), else
 * they wait for the build. epoch must change whenever the set of targets
 * changes. -1 with e set when out of memory.
 */
int metrics_cache_get(struct metrics_cache *mc, unsigned long epoch, struct snapshot *const *snaps,
		      size_t n, struct metrics_page **out, struct err *e);

/* Test hook (only the unit tests call it): how many times the cache built a page. */
unsigned long metrics_cache_builds(struct metrics_cache *mc);

/* How many requests got the cached page while another request built the next
 * one (metrics_cache_get). */
unsigned long metrics_cache_stale_served(struct metrics_cache *mc);

/* Test hook: the age (seconds from the start of its build) up to which the
 * cached page is served while the next is built (default 2). */
void metrics_cache_set_stale_max(struct metrics_cache *mc, double seconds);

/* Test hook: hook(ud) runs in each build, after the cache is marked as
 * building and before the page is built, outside the cache's lock. NULL: none. */
void metrics_cache_set_build_hook(struct metrics_cache *mc, void (*hook)(void *ud), void *ud);

/* Takes one more reference on p (released with metrics_page_put). */
void metrics_page_ref(struct metrics_page *p);

/* Drops a reference; frees at zero. NULL is fine. */
void metrics_page_put(struct metrics_page *p);

#endif

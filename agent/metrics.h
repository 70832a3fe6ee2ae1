/* agent/metrics: merges the targets' snapshots into one /metrics body (and its gzip), cached. */
#ifndef VIMON_AGENT_METRICS_H
#define VIMON_AGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/snapshot.h"
#include "util/buf.h"
#include "util/err.h"

/* One piece of a page's plain body (points into the page or its snapshots). */
struct metrics_iov {
	const char *base;
	size_t len;
};

/* One merged family of a page (internal to agent/metrics.c). */
struct metrics_fam;

/*
 * One merged exposition, shared by the HTTP threads that serve it. Never
 * changed once built; freed when the last reference goes (metrics_page_put).
 *
 * The plain body is not copied: it is the sequence iov[0..niov) of pieces
 * pointing at the page's HELP/TYPE lines and at the snapshots' sample text
 * (the page holds a reference on each snapshot). The gzip body is one gzip
 * member whose deflate stream is the concatenation of one independently
 * compressed, sync-flushed segment per family (CRC-32s combined): a family
 * whose samples did not change since the previous page keeps its segment, so
 * a rebuild compresses only what changed.
 */
struct metrics_page {
	const struct metrics_iov *iov;
	size_t niov;
	size_t len;		 /* plain body length, the sum of the pieces */
	const unsigned char *gz; /* the gzip body */
	size_t gzlen;
	unsigned long build; /* its cache's build number: a larger one is newer */
	int refs;	     /* atomic */
	/* internal */
	struct snapshot **snaps;
	size_t nsnaps;
	char *headers;
	struct metrics_fam *fams;
	size_t nfams;
	const char **keys; /* nfams * nsnaps sample pointers (NULL: absent) */
	size_t *keylens;
	struct metrics_iov *iovs;
	unsigned char *gzdata;
	size_t gz_reused; /* bytes of gzip taken over from the previous page */
};

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

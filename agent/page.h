/* agent/page: the on-call web page (/ and /questions/TARGET/VM_ID), server-rendered HTML. */
#ifndef VIMON_AGENT_PAGE_H
#define VIMON_AGENT_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/snapshot.h"
#include "util/buf.h"

/* Headers every page response carries (HTML and the static files): name, value. */
struct page_header {
	const char *name;
	const char *value;
};
extern const struct page_header page_headers[];
extern const size_t page_nheaders;

/* A file served from the binary under /static/. */
struct page_static {
	const char *path; /* "/static/page.js" */
	const char *type; /* Content-Type */
	const char *body;
};

/* The static file served at url, or NULL. */
const struct page_static *page_static_find(const char *url);

/*
 * Splits a decoded request path "/questions/TARGET/VM_ID" into target and
 * vm_id (the VM id is what follows the last '/'; morefs hold none). 0, or -1
 * when url is not such a path or a part is empty or does not fit.
 */
int page_question_path(const char *url, char *target, size_t tsz, char *vm_id, size_t vsz);

/* The largest page rendered (bytes); questions and tasks are also capped at 500 each. */
#define PAGE_MAX (16u << 20)

/* What a page is rendered from. */
struct page_input {
	struct snapshot *const *snaps; /* the targets' snapshots (NULL entries skipped) */
	size_t n;
	double now;	       /* seconds since the epoch, for ages */
	bool answer;	       /* the answer action exists (api_token_file): buttons */
	const char *decisions; /* the JSON array of GET /api/v1/remediation, or NULL */
};

/*
 * Renders the page "/": pending questions, queued and running tasks, the
 * targets, the latest remediation decisions. Returns a malloc'd
 * NUL-terminated string of *len bytes the caller frees, or NULL when out of
 * memory or when the page would exceed PAGE_MAX bytes.
 */
char *page_render_index(const struct page_input *in, size_t *len);

/*
 * Renders the page of the question pending on vm_id of target, or says that
 * none is (and, from the decisions, who answered the last one and when).
 * *status is 200, or 404 when no snapshot is of that target. Same ownership
 * and failure as page_render_index.
 */
char *page_render_question(const struct page_input *in, const char *target, const char *vm_id,
			   int *status, size_t *len);

/* Appends s escaped for HTML text and attribute values (NULL appends nothing).
 * The page's one escaper: every name and text from vCenter goes through it. */
int page_add_text(struct buf *b, const char *s);

/* Appends s percent-encoded as one URL path segment (all but A-Z a-z 0-9 - . _ ~). */
int page_add_segment(struct buf *b, const char *s);

/* Appends an age in words: "45s", "3m 05s", "2h 10m", "4d 3h". */
void page_add_age(struct buf *b, double seconds);

#endif

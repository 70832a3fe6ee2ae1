/* agent/page: renders the on-call page's HTML from the snapshots' JSON (targets, questions, tasks). */
#include "agent/page.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_MAX (8u << 20) /* a page larger than this is an error, not a reply */

const struct page_header page_headers[] = {
	{"Content-Security-Policy",
	 "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Frame-Options", "DENY"},
	{"Cache-Control", "no-store"},
};
const size_t page_nheaders = sizeof(page_headers) / sizeof(page_headers[0]);

/* What one rendering needs: the snapshots, the clock. */
struct page_ctx {
	struct snapshot *const *snaps;
	size_t n;
	double now;
	struct buf *b;
};

int page_add_text(struct buf *b, const char *s)
{
	if (!s)
		return b->failed ? -1 : 0;
	return buf_add_xml(b, s);
}

int page_add_segment(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_addc(b, (char)c);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		}
	}
	return b->failed ? -1 : 0;
}

void page_add_age(struct buf *b, double seconds)
{
	long long s = seconds > 0 && isfinite(seconds) ? (long long)seconds : 0;

	if (s < 60)
		buf_addf(b, "%llds", s);
	else if (s < 3600)
		buf_addf(b, "%lldm %02llds", s / 60, s % 60);
	else if (s < 86400)
		buf_addf(b, "%lldh %02lldm", s / 3600, s % 3600 / 60);
	else
		buf_addf(b, "%lldd %lldh", s / 86400, s % 86400 / 3600);
}

/* "2026-11-29 16:03:10 UTC" */
static void add_time(struct buf *b, double t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[40];

	if (!gmtime_r(&tt, &tm) || strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return;
	buf_adds(b, s);
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A number member, or NAN when absent or null. */
static double jnum(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static bool jtrue(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* The name of a snapshot's target. */
static const char *snap_target(const struct snapshot *s)
{
	return s && s->target ? jstr(s->target, "name") : NULL;
}

/* <time datetime=...> with the age since t, which the script keeps current. */
static void add_since(struct buf *b, double now, double t)
{
	buf_addf(b, "<span class=\"age\" data-since=\"%.3f\">", t);
	page_add_age(b, now - t);
	buf_adds(b, "</span>");
}

static void add_head(struct buf *b, const char *title, const char *view, const char *target,
		     const char *vm_id)
{
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<meta name=\"color-scheme\" content=\"light dark\">\n<title>");
	page_add_text(b, title);
	buf_adds(b, "</title>\n<link rel=\"stylesheet\" href=\"/static/page.css\">\n"
		    "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">\n"
		    "<script src=\"/static/page.js\" defer></script>\n</head>\n<body data-view=\"");
	buf_adds(b, view);
	if (target) {
		buf_adds(b, "\" data-target=\"");
		page_add_text(b, target);
		buf_adds(b, "\" data-vm=\"");
		page_add_text(b, vm_id);
	}
	buf_adds(
		b,
		"\">\n<header><h1><a href=\"/\">vimon</a> <span class=\"sub\">on call</span></h1>\n"
		"<nav><a href=\"/metrics\">/metrics</a> <a href=\"/api/v1/targets\">targets</a> "
		"<a href=\"/api/v1/questions\">questions</a> <a href=\"/api/v1/tasks\">tasks</a> "
		"<a href=\"/healthz\">healthz</a></nav>\n");
}

static void add_foot(struct buf *b, double now)
{
	buf_adds(b, "<footer><p id=\"status\" role=\"status\">Rendered ");
	add_time(b, now);
	buf_adds(b, ". <span class=\"nojs\">Reload the page for news.</span></p>\n"
		    "<p>JSON API: <a href=\"/api/v1/targets\">/api/v1/targets</a>, "
		    "<a href=\"/api/v1/questions\">/api/v1/questions</a>, "
		    "<a href=\"/api/v1/tasks\">/api/v1/tasks</a>. "
		    "Prometheus: <a href=\"/metrics\">/metrics</a>.</p></footer>\n"
		    "</body></html>\n");
}

/* The deep link of the question on vm_id of target. */
static void add_question_href(struct buf *b, const char *target, const char *vm_id)
{
	buf_adds(b, "/questions/");
	page_add_segment(b, target ? target : "");
	buf_addc(b, '/');
	page_add_segment(b, vm_id ? vm_id : "");
}

/* The task object with that task_id among the snapshot's tasks, or NULL. */
static const json_t *find_task(const struct snapshot *s, const char *id)
{
	const json_t *t;
	size_t i;

	if (!id || !s || !json_is_array(s->tasks))
		return NULL;
	json_array_foreach(s->tasks, i, t)
	{
		const char *tid = jstr(t, "task_id");

		if (tid && strcmp(tid, id) == 0)
			return t;
	}
	return NULL;
}

/* One question as an <article>; heading links to its page unless link is false. */
static void add_question(struct page_ctx *x, const struct snapshot *s, const json_t *q, bool link)
{
	struct buf *b = x->b;
	const char *target = snap_target(s), *vm_id = jstr(q, "vm_id"), *dflt = jstr(q, "default");
	const json_t *c, *tid;
	double first = jnum(q, "first_seen");
	size_t i;

	buf_adds(b, "<article class=\"question\" data-target=\"");
	page_add_text(b, target);
	buf_adds(b, "\" data-vm=\"");
	page_add_text(b, vm_id);
	buf_adds(b, "\" data-qid=\"");
	page_add_text(b, jstr(q, "id"));
	buf_adds(b, "\">\n<h3>");
	if (link) {
		buf_adds(b, "<a class=\"vm\" href=\"");
		add_question_href(b, target, vm_id);
		buf_adds(b, "\">");
	} else {
		buf_adds(b, "<span class=\"vm\">");
	}
	page_add_text(b, jstr(q, "vm"));
	buf_adds(b, link ? "</a>" : "</span>");
	buf_adds(b, " <span class=\"where\">");
	page_add_text(b, vm_id);
	buf_adds(b, " on ");
	page_add_text(b, target);
	buf_adds(b, "</span></h3>\n<p class=\"text\">");
	page_add_text(b, jstr(q, "text"));
	buf_adds(b, "</p>\n<ul class=\"choices\">");
	json_array_foreach(json_object_get(q, "choices"), i, c)
	{
		const char *key = jstr(c, "key"), *label = jstr(c, "label"),
			   *summary = jstr(c, "summary");
		bool is_default = key && dflt && strcmp(key, dflt) == 0;

		buf_adds(b, is_default ? "<li class=\"choice default\"" : "<li class=\"choice\"");
		buf_adds(b, " data-key=\"");
		page_add_text(b, key);
		buf_adds(b, "\"><span class=\"label\">");
		page_add_text(b, label);
		buf_adds(b, "</span>");
		if (summary && *summary && (!label || strcmp(summary, label) != 0)) {
			buf_adds(b, " <span class=\"summary\">");
			page_add_text(b, summary);
			buf_adds(b, "</span>");
		}
		if (is_default)
			buf_adds(b, " <span class=\"tag\">default</span>");
		buf_adds(b, "</li>");
	}
	buf_adds(b, "</ul>\n<p class=\"meta\">Pending for ");
	if (isnan(first))
		page_add_age(b, jnum(q, "pending_seconds"));
	else
		add_since(b, x->now, first);
	if (!isnan(first)) {
		buf_adds(b, " (since ");
		add_time(b, first);
		buf_adds(b, ")");
	}
	buf_adds(b, ". Question id <code>");
	page_add_text(b, jstr(q, "id"));
	buf_adds(b, "</code>.");
	if (json_array_size(json_object_get(q, "blocked_tasks")) > 0) {
		buf_adds(b, " <span class=\"blocks\">Blocks");
		json_array_foreach(json_object_get(q, "blocked_tasks"), i, tid)
		{
			const json_t *t = find_task(s, json_string_value(tid));

			buf_adds(b, i ? ", " : " ");
			if (t && jstr(t, "task")) {
				page_add_text(b, jstr(t, "task"));
				buf_adds(b, " (");
				page_add_text(b, json_string_value(tid));
				buf_adds(b, ")");
			} else {
				page_add_text(b, json_string_value(tid));
			}
		}
		buf_adds(b, ".</span>");
	}
	buf_adds(b, "</p>\n</article>\n");
}

/* The pending questions of every snapshot (only those on vm_id of target when given). */
static size_t add_questions(struct page_ctx *x, const char *target, const char *vm_id, bool link)
{
	size_t i, j, count = 0;
	const json_t *q;

	for (i = 0; i < x->n; i++) {
		const struct snapshot *s = x->snaps[i];

		if (!s || !json_is_array(s->questions))
			continue;
		if (target && (!snap_target(s) || strcmp(snap_target(s), target) != 0))
			continue;
		json_array_foreach(s->questions, j, q)
		{
			if (vm_id && (!jstr(q, "vm_id") || strcmp(jstr(q, "vm_id"), vm_id) != 0))
				continue;
			add_question(x, s, q, link);
			count++;
		}
	}
	return count;
}

static void add_task_row(struct page_ctx *x, const struct snapshot *s, const json_t *t)
{
	struct buf *b = x->b;
	const char *state = jstr(t, "state"), *qid = jstr(t, "question_id");
	const json_t *err = json_object_get(t, "error");
	double since = jnum(t, "queue_time");

	if (isnan(since))
		since = jnum(t, "start_time");
	buf_adds(b,
		 jtrue(t, "blocked") ? "<tr class=\"blocked\" data-task=\"" : "<tr data-task=\"");
	page_add_text(b, jstr(t, "task_id"));
	buf_adds(b, "\"><td>");
	page_add_text(b, jstr(t, "task"));
	buf_adds(b, " <span class=\"where\">");
	page_add_text(b, jstr(t, "task_id"));
	buf_adds(b, "</span></td><td>");
	page_add_text(b, jstr(t, "entity"));
	buf_adds(b, " <span class=\"where\">");
	page_add_text(b, jstr(t, "entity_id"));
	buf_adds(b, " on ");
	page_add_text(b, snap_target(s));
	buf_adds(b, "</span></td><td class=\"state\">");
	page_add_text(b, state);
	if (json_is_object(err)) {
		buf_adds(b, ": ");
		page_add_text(b, jstr(err, "message"));
	}
	buf_adds(b, "</td><td>");
	if (state && (strcmp(state, "queued") == 0 || strcmp(state, "running") == 0) &&
	    !isnan(since))
		add_since(b, x->now, since);
	buf_adds(b, "</td><td>");
	if (jtrue(t, "blocked")) {
		buf_adds(b, "<a href=\"");
		add_question_href(b, snap_target(s), jstr(t, "entity_id"));
		buf_adds(b, "\">blocked by question ");
		page_add_text(b, qid);
		buf_adds(b, "</a>");
	}
	buf_adds(b, "</td></tr>\n");
}

/*
 * The tasks table: queued and running tasks of every target (entity_id NULL),
 * or every recent task on entity_id of target (finished ones too).
 */
static void add_tasks(struct page_ctx *x, const char *target, const char *entity_id)
{
	struct buf *b = x->b;
	size_t i, j, count = 0;
	const json_t *t;

	buf_adds(b, "<div class=\"scroll\"><table class=\"tasks\"><thead><tr><th>Task</th>"
		    "<th>Entity</th><th>State</th><th>For</th><th>Blocked</th></tr></thead>"
		    "<tbody>\n");
	for (i = 0; i < x->n; i++) {
		const struct snapshot *s = x->snaps[i];

		if (!s || !json_is_array(s->tasks))
			continue;
		if (target && (!snap_target(s) || strcmp(snap_target(s), target) != 0))
			continue;
		json_array_foreach(s->tasks, j, t)
		{
			const char *st = jstr(t, "state"), *eid = jstr(t, "entity_id");

			if (entity_id) {
				if (!eid || strcmp(eid, entity_id) != 0)
					continue;
			} else if (!st ||
				   (strcmp(st, "queued") != 0 && strcmp(st, "running") != 0)) {
				continue;
			}
			add_task_row(x, s, t);
			count++;
		}
	}
	if (!count)
		buf_adds(b, "<tr class=\"empty\"><td colspan=\"5\">None.</td></tr>\n");
	buf_adds(b, "</tbody></table></div>\n");
}

static void add_targets(struct page_ctx *x)
{
	struct buf *b = x->b;
	size_t i;

	buf_adds(b, "<section id=\"targets\"><h2>Targets</h2>\n<div class=\"scroll\">"
		    "<table class=\"targets\"><thead><tr><th>Target</th><th>State</th>"
		    "<th>Last update</th><th>Last error</th><th>Logins</th></tr></thead><tbody>\n");
	for (i = 0; i < x->n; i++) {
		const struct snapshot *s = x->snaps[i];
		const json_t *t = s ? s->target : NULL, *err;
		double last;

		if (!json_is_object(t))
			continue;
		last = jnum(t, "last_update");
		err = json_object_get(t, "last_error");
		buf_adds(b, "<tr data-target=\"");
		page_add_text(b, jstr(t, "name"));
		buf_adds(b, "\"><td>");
		page_add_text(b, jstr(t, "name"));
		buf_adds(b, " <span class=\"where\">");
		page_add_text(b, jstr(t, "url"));
		buf_adds(b, "</span></td>");
		buf_adds(b, jtrue(t, "up") ? "<td class=\"up\">up</td>"
					   : "<td class=\"down\">down</td>");
		buf_adds(b, "<td>");
		if (isnan(last)) {
			buf_adds(b, "never");
		} else {
			add_time(b, last);
			buf_adds(b, " (");
			add_since(b, x->now, last);
			buf_adds(b, " ago)");
		}
		buf_adds(b, "</td><td>");
		if (json_is_object(err)) {
			page_add_text(b, jstr(err, "message"));
			if (jstr(err, "fault") && *jstr(err, "fault")) {
				buf_adds(b, " (fault ");
				page_add_text(b, jstr(err, "fault"));
				buf_adds(b, ")");
			}
			buf_adds(b, " <span class=\"where\">");
			page_add_text(b, jstr(err, "kind"));
			buf_adds(b, " error</span>");
		} else {
			buf_adds(b, "none");
		}
		buf_adds(b, "</td><td>");
		buf_addf(b, "%lld", (long long)jnum(t, "logins"));
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</tbody></table></div></section>\n");
}

static char *finish(struct buf *b, size_t *len)
{
	char *out;

	if (b->failed) {
		buf_release(b);
		return NULL;
	}
	out = buf_detach(b, len);
	return out;
}

char *page_render_index(struct snapshot *const *snaps, size_t n, double now, size_t *len)
{
	struct buf b;
	struct page_ctx x = {snaps, n, now, &b};
	size_t nq = 0, i;
	char title[64];

	for (i = 0; i < n; i++)
		if (snaps[i])
			nq += json_array_size(snaps[i]->questions);
	if (nq)
		snprintf(title, sizeof(title), "%zu pending question%s - vimon", nq,
			 nq == 1 ? "" : "s");
	else
		snprintf(title, sizeof(title), "vimon");
	buf_init(&b, PAGE_MAX);
	add_head(&b, title, "index", NULL, NULL);
	buf_adds(&b, "</header>\n<main>\n<section id=\"questions\"><h2>Pending questions</h2>\n"
		     "<div class=\"list\">\n");
	if (add_questions(&x, NULL, NULL, true) == 0)
		buf_adds(&b, "<p class=\"empty\">No question is pending.</p>\n");
	buf_adds(&b, "</div></section>\n<section id=\"tasks\"><h2>Queued and running tasks</h2>\n");
	add_tasks(&x, NULL, NULL);
	buf_adds(&b, "</section>\n");
	add_targets(&x);
	buf_adds(&b, "</main>\n");
	add_foot(&b, now);
	return finish(&b, len);
}

char *page_render_question(struct snapshot *const *snaps, size_t n, const char *target,
			   const char *vm_id, double now, int *status, size_t *len)
{
	struct buf b;
	struct page_ctx x = {snaps, n, now, &b};
	bool known = false;
	size_t i;

	for (i = 0; i < n; i++)
		if (snap_target(snaps[i]) && strcmp(snap_target(snaps[i]), target) == 0)
			known = true;
	*status = known ? 200 : 404;
	buf_init(&b, PAGE_MAX);
	{
		struct buf t;
		size_t tlen;
		char *title;

		buf_init(&t, 1024);
		buf_adds(&t, "Question on ");
		buf_adds(&t, vm_id);
		buf_adds(&t, " of ");
		buf_adds(&t, target);
		buf_adds(&t, " - vimon");
		title = finish(&t, &tlen);
		if (!title)
			return NULL;
		add_head(&b, title, "question", target, vm_id);
		free(title);
	}
	buf_adds(&b, "</header>\n<main>\n<section id=\"question\"><h2>Question on <code>");
	page_add_text(&b, vm_id);
	buf_adds(&b, "</code> of ");
	page_add_text(&b, target);
	buf_adds(&b, "</h2>\n<div class=\"list\">\n");
	if (!known)
		buf_adds(&b, "<p class=\"empty\">No such target.</p>\n");
	else if (add_questions(&x, target, vm_id, false) == 0)
		buf_adds(&b, "<p class=\"empty\">No question is pending on this VM.</p>\n");
	buf_adds(&b, "</div></section>\n<section id=\"tasks\"><h2>Recent tasks on this VM</h2>\n");
	add_tasks(&x, target, vm_id);
	buf_adds(&b, "</section>\n<p><a href=\"/\">All targets, questions and tasks</a></p>\n"
		     "</main>\n");
	add_foot(&b, now);
	return finish(&b, len);
}

int page_question_path(const char *url, char *target, size_t tsz, char *vm_id, size_t vsz)
{
	static const char prefix[] = "/questions/";
	const char *t, *slash;
	size_t tl, vl;

	if (strncmp(url, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	t = url + sizeof(prefix) - 1;
	slash = strrchr(t, '/');
	if (!slash)
		return -1;
	tl = (size_t)(slash - t);
	vl = strlen(slash + 1);
	if (tl == 0 || vl == 0 || tl >= tsz || vl >= vsz)
		return -1;
	memcpy(target, t, tl);
	target[tl] = '\0';
	memcpy(vm_id, slash + 1, vl + 1);
	return 0;
}

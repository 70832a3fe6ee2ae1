/* agent/page: renders the on-call page's HTML from the snapshots' JSON (targets, questions, tasks). */
#include "agent/page.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const struct page_header page_headers[] = {
	{"Content-Security-Policy",
	 "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Frame-Options", "DENY"},
	{"Cache-Control", "no-store"},
};
const size_t page_nheaders = sizeof(page_headers) / sizeof(page_headers[0]);

#define PAGE_DECISIONS 20  /* decisions shown, newest first */
#define PAGE_MAX_ITEMS 500 /* questions, and tasks, shown at most (the JSON API has all) */

/* What one rendering needs: the input, the parsed decisions, the output. */
struct page_ctx {
	struct snapshot *const *snaps;
	size_t n;
	double now;
	bool answer;
	json_t *decisions; /* array (empty when none or unreadable) */
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

/* A span with the age since t (seconds since the epoch), which the script keeps current. */
static void add_since(struct buf *b, double now, double t)
{
	buf_addf(b, "<span class=\"age\" data-since=\"%.3f\">", t);
	page_add_age(b, now - t);
	buf_adds(b, "</span>");
}

static void add_head(struct buf *b, bool answer, const char *title, const char *view,
		     const char *target, const char *vm_id)
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
	if (answer)
		buf_adds(b, "\" data-answer=\"1");
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
		    "<a href=\"/api/v1/tasks\">/api/v1/tasks</a>, "
		    "<a href=\"/api/v1/remediation\">/api/v1/remediation</a>. "
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
			if (count < PAGE_MAX_ITEMS)
				add_question(x, s, q, link);
			count++;
		}
	}
	if (count > PAGE_MAX_ITEMS)
		buf_addf(x->b,
			 "<p class=\"more\">And %zu more: see <a "
			 "href=\"/api/v1/questions\">/api/v1/questions</a>.</p>\n",
			 count - PAGE_MAX_ITEMS);
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
			if (count < PAGE_MAX_ITEMS)
				add_task_row(x, s, t);
			count++;
		}
	}
	if (count > PAGE_MAX_ITEMS)
		buf_addf(b,
			 "<tr class=\"more\"><td colspan=\"5\">And %zu more: see <a "
			 "href=\"/api/v1/tasks\">/api/v1/tasks</a>.</td></tr>\n",
			 count - PAGE_MAX_ITEMS);
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

/* The buffer's text (the caller's), or NULL when an append failed (the buffer is freed). */
static char *finish(struct buf *b, size_t *len)
{
	if (b->failed) {
		buf_release(b);
		return NULL;
	}
	return buf_detach(b, len);
}

/* Where answering stands: the script puts the token form here. */
static void add_answering(struct page_ctx *x)
{
	struct buf *b = x->b;

	buf_adds(b, "<div id=\"answering\">");
	if (x->answer)
		buf_adds(b, "<p class=\"nojs\">Answering from this page needs JavaScript.</p>");
	else
		buf_adds(b, "<p class=\"off\">Answering from this page is off: set "
			    "<code>api_token_file</code> in vimon.conf to turn it on "
			    "(docs/page.md).</p>");
	buf_adds(b, "</div>\n<div id=\"messages\" role=\"status\" aria-live=\"polite\"></div>\n");
}

/* Who made a decision: its rule, or the HTTP client. */
static void add_decided_by(struct buf *b, const json_t *d)
{
	const char *rule = jstr(d, "rule"), *client = jstr(d, "client");

	if (rule && *rule) {
		buf_adds(b, "rule ");
		page_add_text(b, rule);
	} else {
		buf_adds(b, "HTTP client ");
		page_add_text(b, client && *client ? client : "?");
	}
}

/* The label of the decision's choice (from the choices it recorded), or NULL. */
static const char *decision_label(const json_t *d)
{
	const char *key = jstr(d, "choice");
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(d, "choices"), i, c)
	{
		if (key && jstr(c, "key") && strcmp(jstr(c, "key"), key) == 0)
			return jstr(c, "label");
	}
	return NULL;
}

static bool decision_of(const json_t *d, const char *target, const char *vm_id)
{
	return (!target || (jstr(d, "target") && strcmp(jstr(d, "target"), target) == 0)) &&
	       (!vm_id || (jstr(d, "vm_id") && strcmp(jstr(d, "vm_id"), vm_id) == 0));
}

/* A decision's choice key and, when known, its label: "1 (Yes)". */
static void add_choice(struct buf *b, const json_t *d, const char *label)
{
	page_add_text(b, jstr(d, "choice"));
	if (label) {
		buf_adds(b, " (");
		page_add_text(b, label);
		buf_adds(b, ")");
	}
}

/* The decisions table, newest first (only those on vm_id of target when given). */
static void add_decisions(struct page_ctx *x, const char *target, const char *vm_id)
{
	struct buf *b = x->b;
	size_t i, shown = 0;
	const json_t *d;

	buf_adds(b, "<div class=\"scroll\"><table class=\"decisions\"><thead><tr><th>When</th>"
		    "<th>VM</th><th>Decision</th><th>Result</th><th>By</th></tr></thead><tbody>\n");
	json_array_foreach(x->decisions, i, d)
	{
		double ts = jnum(d, "timestamp");
		const char *label = decision_label(d);

		if (shown >= PAGE_DECISIONS)
			break;
		if (!json_is_object(d) || !decision_of(d, target, vm_id))
			continue;
		shown++;
		buf_adds(b, "<tr><td>");
		if (!isnan(ts)) {
			add_time(b, ts);
			buf_adds(b, " (");
			add_since(b, x->now, ts);
			buf_adds(b, " ago)");
		}
		buf_adds(b, "</td><td>");
		page_add_text(b, jstr(d, "vm"));
		buf_adds(b, " <span class=\"where\">");
		page_add_text(b, jstr(d, "vm_id"));
		buf_adds(b, " on ");
		page_add_text(b, jstr(d, "target"));
		buf_adds(b, ", question ");
		page_add_text(b, jstr(d, "question_id"));
		buf_adds(b, "</span></td><td>");
		page_add_text(b, jstr(d, "action"));
		buf_adds(b, ": ");
		page_add_text(b, jstr(d, "decision"));
		if (jstr(d, "choice") && *jstr(d, "choice")) {
			buf_adds(b, ", choice ");
			add_choice(b, d, label);
		}
		buf_adds(b, "</td><td class=\"result\">");
		page_add_text(b, jstr(d, "result"));
		buf_adds(b, " <span class=\"where\">");
		page_add_text(b, jstr(d, "message"));
		buf_adds(b, "</span></td><td>");
		add_decided_by(b, d);
		buf_adds(b, "</td></tr>\n");
	}
	if (!shown)
		buf_adds(b, "<tr class=\"empty\"><td colspan=\"5\">None.</td></tr>\n");
	buf_adds(b, "</tbody></table></div>\n");
}

/* "Question q1 was answered with choice 1 (Yes) by HTTP client ... at ...", from the
 * newest decision on vm_id of target that answered, if any. */
static void add_answered(struct page_ctx *x, const char *target, const char *vm_id)
{
	struct buf *b = x->b;
	const json_t *d;
	size_t i;

	json_array_foreach(x->decisions, i, d)
	{
		const char *result = jstr(d, "result"), *label = decision_label(d);
		double ts = jnum(d, "timestamp");

		if (!json_is_object(d) || !decision_of(d, target, vm_id) || !result ||
		    strcmp(result, "answered") != 0)
			continue;
		buf_adds(b, "<p class=\"answered\">Question <code>");
		page_add_text(b, jstr(d, "question_id"));
		buf_adds(b, "</code> was answered with choice ");
		add_choice(b, d, label);
		buf_adds(b, " by ");
		add_decided_by(b, d);
		if (!isnan(ts)) {
			buf_adds(b, " at ");
			add_time(b, ts);
		}
		buf_adds(b, ".</p>\n");
		return;
	}
}

static void ctx_init(struct page_ctx *x, const struct page_input *in, struct buf *b)
{
	x->snaps = in->snaps;
	x->n = in->n;
	x->now = in->now;
	x->answer = in->answer;
	x->b = b;
	x->decisions = in->decisions ? json_loads(in->decisions, 0, NULL) : NULL;
	if (!json_is_array(x->decisions)) {
		json_decref(x->decisions);
		x->decisions = json_array();
	}
}

char *page_render_index(const struct page_input *in, size_t *len)
{
	struct buf b;
	struct page_ctx x;
	size_t nq = 0, i;
	char title[64];

	for (i = 0; i < in->n; i++)
		if (in->snaps[i])
			nq += json_array_size(in->snaps[i]->questions);
	if (nq)
		snprintf(title, sizeof(title), "%zu pending question%s - vimon", nq,
			 nq == 1 ? "" : "s");
	else
		snprintf(title, sizeof(title), "vimon");
	buf_init(&b, PAGE_MAX);
	ctx_init(&x, in, &b);
	add_head(&b, in->answer, title, "index", NULL, NULL);
	buf_adds(&b, "</header>\n<main>\n");
	add_answering(&x);
	buf_adds(&b,
		 "<section id=\"questions\"><h2>Pending questions</h2>\n<div class=\"list\">\n");
	if (add_questions(&x, NULL, NULL, true) == 0)
		buf_adds(&b, "<p class=\"empty\">No question is pending.</p>\n");
	buf_adds(&b, "</div></section>\n<section id=\"tasks\"><h2>Queued and running tasks</h2>\n");
	add_tasks(&x, NULL, NULL);
	buf_adds(&b, "</section>\n");
	add_targets(&x);
	buf_adds(&b, "<section id=\"decisions\"><h2>Latest remediation decisions</h2>\n");
	add_decisions(&x, NULL, NULL);
	buf_adds(&b, "</section>\n</main>\n");
	add_foot(&b, in->now);
	json_decref(x.decisions);
	return finish(&b, len);
}

char *page_render_question(const struct page_input *in, const char *target, const char *vm_id,
			   int *status, size_t *len)
{
	struct buf b, t;
	struct page_ctx x;
	bool known = false;
	char *title;
	size_t i;

	for (i = 0; i < in->n; i++)
		if (snap_target(in->snaps[i]) && strcmp(snap_target(in->snaps[i]), target) == 0)
			known = true;
	*status = known ? 200 : 404;
	buf_init(&t, 1024);
	buf_adds(&t, "Question on ");
	buf_adds(&t, vm_id);
	buf_adds(&t, " of ");
	buf_adds(&t, target);
	buf_adds(&t, " - vimon");
	title = finish(&t, &i);
	if (!title)
		return NULL;
	buf_init(&b, PAGE_MAX);
	ctx_init(&x, in, &b);
	add_head(&b, in->answer, title, "question", target, vm_id);
	free(title);
	buf_adds(&b, "</header>\n<main>\n");
	add_answering(&x);
	buf_adds(&b, "<section id=\"question\"><h2>Question on <code>");
	page_add_text(&b, vm_id);
	buf_adds(&b, "</code> of ");
	page_add_text(&b, target);
	buf_adds(&b, "</h2>\n<div class=\"list\">\n");
	if (!known) {
		buf_adds(&b, "<p class=\"empty\">No such target.</p>\n");
	} else if (add_questions(&x, target, vm_id, false) == 0) {
		buf_adds(&b, "<p class=\"empty\">No question is pending on this VM.</p>\n");
		add_answered(&x, target, vm_id);
	}
	buf_adds(&b, "</div></section>\n<section id=\"tasks\"><h2>Recent tasks on this VM</h2>\n");
	add_tasks(&x, target, vm_id);
	buf_adds(&b, "</section>\n<section id=\"decisions\"><h2>Remediation decisions on this "
		     "VM</h2>\n");
	add_decisions(&x, target, vm_id);
	buf_adds(&b, "</section>\n<p><a href=\"/\">All targets, questions and tasks</a></p>\n"
		     "</main>\n");
	add_foot(&b, in->now);
	json_decref(x.decisions);
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

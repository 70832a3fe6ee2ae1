/* Unit tests for agent/page: escaping, links, ages, the question path, and the rendered pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/page.h"
#include "agent/snapshot.h"

#define NOW 1795258900.0

static void test_text_escaped(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(page_add_text(&b, "<script>alert(1)</script> & \"q\" 'a'"), 0);
	assert_string_equal(b.data, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; "
				    "&apos;a&apos;");
	assert_int_equal(page_add_text(&b, NULL), 0);
	buf_release(&b);
}

static void test_segment(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	page_add_segment(&b, "vc 1/\"x\"?#%é");
	assert_string_equal(b.data, "vc%201%2F%22x%22%3F%23%25%C3%A9");
	buf_reset(&b);
	page_add_segment(&b, "vm-57_a.b~c");
	assert_string_equal(b.data, "vm-57_a.b~c");
	buf_release(&b);
}

static void test_age(void **state)
{
	static const struct {
		double s;
		const char *want;
	} cases[] = {
		{-5, "0s"},	  {0, "0s"},	    {59.9, "59s"},    {60, "1m 00s"},
		{185, "3m 05s"},  {3600, "1h 00m"}, {7800, "2h 10m"}, {86400, "1d 0h"},
		{97200, "1d 3h"}, {INFINITY, "0s"},
	};
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		page_add_age(&b, cases[i].s);
		assert_string_equal(b.data, cases[i].want);
	}
	buf_release(&b);
}

static void test_question_path(void **state)
{
	char t[16], v[16];

	(void)state;
	assert_int_equal(page_question_path("/questions/vc1/vm-57", t, sizeof(t), v, sizeof(v)), 0);
	assert_string_equal(t, "vc1");
	assert_string_equal(v, "vm-57");
	/* a decoded '/' in a target name: the VM id is after the last one */
	assert_int_equal(page_question_path("/questions/a/b/vm-1", t, sizeof(t), v, sizeof(v)), 0);
	assert_string_equal(t, "a/b");
	assert_string_equal(v, "vm-1");
	assert_int_equal(page_question_path("/questions/vc1", t, sizeof(t), v, sizeof(v)), -1);
	assert_int_equal(page_question_path("/questions/vc1/", t, sizeof(t), v, sizeof(v)), -1);
	assert_int_equal(page_question_path("/questions//vm-1", t, sizeof(t), v, sizeof(v)), -1);
	assert_int_equal(page_question_path("/question/vc1/vm-1", t, sizeof(t), v, sizeof(v)), -1);
	assert_int_equal(page_question_path("/questions/a-very-long-target-name/vm-1", t, sizeof(t),
					    v, sizeof(v)),
			 -1);
}

/* One target "vc<1>" with a question on vm-63 (an HTML-like name) blocking task-93. */
static struct snapshot *fixture(void)
{
	struct snapshot *s = snapshot_new();

	assert_non_null(s);
	json_decref(s->target);
	s->target =
		json_pack("{s:s, s:s, s:b, s:f, s:{s:s, s:s, s:s}, s:i}", "name", "vc<1>", "url",
			  "https://vc/sdk", "up", 0, "last_update", NOW - 75, "last_error", "kind",
			  "connect", "fault", "", "message", "cannot connect to <vc>", "logins", 3);
	assert_non_null(s->target);
	json_array_append_new(
		s->questions,
		json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}], s:s, s:f, "
			  "s:f, s:[s]}",
			  "vm", "<script>alert(1)</script>", "vm_id", "vm-63", "id", "q1", "text",
			  "Moved <b>or</b> copied?", "choices", "key", "0", "label", "Cancel",
			  "summary", "Cancel", "key", "2", "label", "I _Copied It", "summary",
			  "copied <it>", "default", "2", "first_seen", NOW - 185, "pending_seconds",
			  185.0, "blocked_tasks", "task-93"));
	json_array_append_new(s->tasks,
			      json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:b, s:s, s:n}", "task_id",
					"task-93", "task", "PowerOnVM_Task", "entity",
					"<script>alert(1)</script>", "entity_id", "vm-63", "state",
					"running", "queue_time", NOW - 30, "blocked", 1,
					"question_id", "q1", "error"));
	json_array_append_new(s->tasks,
			      json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "task_id", "task-7",
					"task", "CreateVM_Task", "entity", "x", "entity_id", "vm-1",
					"state", "success", "blocked", 0));
	return s;
}

static void test_index(void **state)
{
	struct snapshot *s = fixture(), *snaps[2] = {s, NULL};
	struct page_input in = {snaps, 2, NOW, false, NULL};
	size_t len = 0;
	char *html;

	(void)state;
	html = page_render_index(&in, &len);
	assert_non_null(html);
	assert_int_equal(len, strlen(html));
	assert_non_null(strstr(html, "<title>1 pending question - vimon</title>"));
	assert_non_null(strstr(html, "<a class=\"vm\" href=\"/questions/vc%3C1%3E/vm-63\">"
				     "&lt;script&gt;alert(1)&lt;/script&gt;</a>"));
	assert_non_null(strstr(html, "<p class=\"text\">Moved &lt;b&gt;or&lt;/b&gt; copied?</p>"));
	/* a summary equal to the label is not repeated; the default is marked */
	assert_non_null(strstr(html, "<li class=\"choice\" data-key=\"0\"><span class=\"label\">"
				     "Cancel</span></li>"));
	assert_non_null(strstr(html,
			       "<li class=\"choice default\" data-key=\"2\"><span "
			       "class=\"label\">I _Copied It</span> <span class=\"summary\">"
			       "copied &lt;it&gt;</span> <span class=\"tag\">default</span></li>"));
	assert_non_null(strstr(html,
			       "Pending for <span class=\"age\" data-since=\"1795258715.000\">"
			       "3m 05s</span> (since 2026-11-21 10:58:35 UTC)"));
	assert_non_null(strstr(html, "Blocks PowerOnVM_Task (task-93)."));
	assert_non_null(strstr(html, "<tr class=\"blocked\" data-task=\"task-93\">"));
	assert_non_null(strstr(html, "<a href=\"/questions/vc%3C1%3E/vm-63\">blocked by question "
				     "q1</a>"));
	/* finished tasks are not in the table of /; the target is down, its error in words */
	assert_null(strstr(html, "task-7"));
	assert_non_null(strstr(html, "<td class=\"down\">down</td>"));
	assert_non_null(strstr(html,
			       "(<span class=\"age\" data-since=\"1795258825.000\">1m 15s</span>"
			       " ago)"));
	assert_non_null(strstr(html, "cannot connect to &lt;vc&gt; <span class=\"where\">connect "
				     "error</span>"));
	assert_null(strstr(html, "<script>alert"));
	assert_null(strstr(html, "<b>"));
	/* no token configured: no button, and how to turn answering on */
	assert_non_null(
		strstr(html, "Answering from this page is off: set <code>api_token_file</code>"));
	assert_null(strstr(html, "data-answer"));
	assert_null(strstr(html, "<button"));
	assert_non_null(strstr(html, "<section id=\"decisions\">"));
	free(html);
	snapshot_put(s);
}

static void test_question(void **state)
{
	struct snapshot *s = fixture(), *snaps[1] = {s};
	struct page_input in = {snaps, 1, NOW, true, NULL};
	size_t len = 0;
	int status = 0;
	char *html;

	(void)state;
	html = page_render_question(&in, "vc<1>", "vm-63", &status, &len);
	assert_non_null(html);
	assert_int_equal(status, 200);
	assert_non_null(strstr(html, "<body data-view=\"question\" data-target=\"vc&lt;1&gt;\" "
				     "data-vm=\"vm-63\" data-answer=\"1\">"));
	assert_non_null(strstr(html, "<span class=\"vm\">&lt;script&gt;alert(1)&lt;/script&gt;"
				     "</span>"));
	assert_non_null(strstr(html, "data-task=\"task-93\""));
	/* a token configured: the script adds the buttons; without it the page says why none */
	assert_non_null(
		strstr(html, "<p class=\"nojs\">Answering from this page needs JavaScript."));
	assert_null(strstr(html, "is off"));
	free(html);

	html = page_render_question(&in, "vc<1>", "vm-1", &status, &len);
	assert_non_null(html);
	assert_int_equal(status, 200);
	assert_non_null(strstr(html, "No question is pending on this VM."));
	/* every recent task on the VM, finished ones too */
	assert_non_null(strstr(html, "<td class=\"state\">success</td>"));
	assert_null(strstr(html, "<article"));
	free(html);

	html = page_render_question(&in, "<other>", "vm-63", &status, &len);
	assert_non_null(html);
	assert_int_equal(status, 404);
	assert_non_null(strstr(html, "No such target."));
	assert_non_null(strstr(html, "<title>Question on vm-63 of &lt;other&gt; - vimon</title>"));
	free(html);
	snapshot_put(s);
}

static void test_empty(void **state)
{
	struct page_input in = {NULL, 0, NOW, false, "not json"};
	size_t len = 0;
	char *html;

	(void)state;
	html = page_render_index(&in, &len);
	assert_non_null(html);
	assert_non_null(strstr(html, "<title>vimon</title>"));
	assert_non_null(strstr(html, "No question is pending."));
	assert_non_null(strstr(html, "<td colspan=\"5\">None.</td>"));
	free(html);
}

/* Two decisions on vm-63: an answer over HTTP, then (newer) a refused second one. */
static const char decisions[] =
	"[{\"timestamp\": 1795258890.5, \"target\": \"vc<1>\", \"vm\": \"<i>x</i>\", "
	"\"vm_id\": \"vm-63\", \"question_id\": \"q1\", \"choices\": [{\"key\": \"2\", "
	"\"label\": \"I _Copied It\"}], \"rule\": null, \"client\": \"127.0.0.1\", "
	"\"action\": \"answer\", \"decision\": \"answer\", \"choice\": \"2\", \"result\": "
	"\"already_answered\", \"message\": \"already <answered>\"},"
	" {\"timestamp\": 1795258880.25, \"target\": \"vc<1>\", \"vm\": \"<i>x</i>\", "
	"\"vm_id\": \"vm-63\", \"question_id\": \"q1\", \"choices\": [{\"key\": \"2\", "
	"\"label\": \"I _Copied It\"}], \"rule\": null, \"client\": \"127.0.0.1\", "
	"\"action\": \"answer\", \"decision\": \"answer\", \"choice\": \"2\", \"result\": "
	"\"answered\", \"message\": \"Answered.\"},"
	" {\"timestamp\": 1795258870, \"target\": \"vc2\", \"vm\": \"y\", \"vm_id\": \"vm-9\", "
	"\"question_id\": \"7\", \"rule\": \"uuid-moved\", \"client\": \"\", \"action\": "
	"\"answer\", \"decision\": \"answer\", \"choice\": \"1\", \"result\": \"dry_run\", "
	"\"message\": \"would answer\"}]";

static void test_decisions(void **state)
{
	struct snapshot *s = fixture(), *snaps[1] = {s};
	struct page_input in = {snaps, 1, NOW, true, decisions};
	size_t len = 0;
	int status = 0;
	char *html;

	(void)state;
	html = page_render_index(&in, &len);
	assert_non_null(html);
	assert_non_null(strstr(html,
			       "<td>answer: answer, choice 2 (I _Copied It)</td><td "
			       "class=\"result\">already_answered <span class=\"where\">already "
			       "&lt;answered&gt;</span></td><td>HTTP client 127.0.0.1</td>"));
	assert_non_null(strstr(html, "<td>rule uuid-moved</td>"));
	assert_non_null(strstr(html, "&lt;i&gt;x&lt;/i&gt;"));
	free(html);

	/* the question page of a VM whose question was answered says by whom and when */
	html = page_render_question(&in, "vc<1>", "vm-1", &status, &len);
	assert_non_null(html);
	assert_null(strstr(html, "was answered"));
	free(html);
	json_array_clear(s->questions);
	html = page_render_question(&in, "vc<1>", "vm-63", &status, &len);
	assert_non_null(html);
	assert_non_null(strstr(html,
			       "No question is pending on this VM.</p>\n<p class=\"answered\">"
			       "Question <code>q1</code> was answered with choice 2 (I _Copied "
			       "It) by HTTP client 127.0.0.1 at 2026-11-21 11:01:20 UTC.</p>"));
	/* only this VM's decisions */
	assert_null(strstr(html, "uuid-moved"));
	free(html);
	snapshot_put(s);
}

/* A page stays bounded: 500 questions at most, then a line for the rest. */
static void test_many(void **state)
{
	struct snapshot *s = fixture(), *snaps[1] = {s};
	struct page_input in = {snaps, 1, NOW, false, NULL};
	size_t len = 0, n = 0, i;
	const char *p;
	char *html;

	(void)state;
	for (i = 0; i < 501; i++)
		json_array_append_new(s->questions,
				      json_pack("{s:s, s:s, s:s, s:s, s:[]}", "vm", "v", "vm_id",
						"vm-1", "id", "q", "text", "t", "choices"));
	html = page_render_index(&in, &len);
	assert_non_null(html);
	for (p = html; (p = strstr(p, "<article")); p++)
		n++;
	assert_int_equal(n, 500);
	assert_non_null(strstr(html, "<p class=\"more\">And 2 more: see <a "
				     "href=\"/api/v1/questions\">/api/v1/questions</a>.</p>"));
	assert_non_null(strstr(html, "<title>502 pending questions - vimon</title>"));
	free(html);
	snapshot_put(s);
}

static void test_static(void **state)
{
	const struct page_static *f;

	(void)state;
	f = page_static_find("/static/page.js");
	assert_non_null(f);
	assert_string_equal(f->type, "text/javascript; charset=utf-8");
	assert_non_null(strstr(f->body, "textContent"));
	assert_null(strstr(f->body, "innerHTML"));
	f = page_static_find("/static/page.css");
	assert_non_null(f);
	assert_non_null(strstr(f->body, "prefers-color-scheme: dark"));
	assert_non_null(page_static_find("/static/icon.svg"));
	assert_null(page_static_find("/static/"));
	assert_null(page_static_find("/static/page.js/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_escaped), cmocka_unit_test(test_segment),
		cmocka_unit_test(test_age),	     cmocka_unit_test(test_question_path),
		cmocka_unit_test(test_index),	     cmocka_unit_test(test_question),
		cmocka_unit_test(test_empty),	     cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_many),	     cmocka_unit_test(test_static),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for vi/lifecycle's pure parts: names, choice matching, the question for people. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "vi/lifecycle.h"

/* msg.uuid.altered as ESX asks it. */
static struct vi_question_choice uuid_choices[] = {
	{(char *)"0", (char *)"button.uuid.cancel", (char *)"Cancel"},
	{(char *)"1", (char *)"button.uuid.movedTheVM", (char *)"I _Moved It"},
	{(char *)"2", (char *)"button.uuid.copiedTheVM", (char *)"I _Copied It"},
};
static struct vi_question_msg uuid_msg = {(char *)"msg.uuid.altered", (char *)"moved?"};
static const struct vi_question uuid_q = {
	.id = (char *)"42",
	.text = (char *)"This virtual machine might have been moved or copied.",
	.msgs = &uuid_msg,
	.nmsgs = 1,
	.choices = uuid_choices,
	.nchoices = 3,
	.default_index = 2,
};

static void test_op_names(void **state)
{
	static const char *const names[] = {"power-on", "power-off", "reset",  "suspend",
					    "shutdown", "reboot",    "standby"};
	enum vi_lc_op op;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(vi_lc_op_parse(names[i], &op), 0);
		assert_int_equal(op, (enum vi_lc_op)i);
		assert_string_equal(vi_lc_op_name(op), names[i]);
	}
	assert_int_equal(vi_lc_op_parse("poweron", &op), -1);
	assert_int_equal(vi_lc_op_parse("", &op), -1);
	assert_int_equal(vi_lc_op_parse(NULL, &op), -1);
	assert_string_equal(vi_lc_op_name((enum vi_lc_op)99), "unknown");
}

static void test_result_names(void **state)
{
	static const char *const names[] = {
		"done",	      "started",   "failed",  "blocked", "answered-not-started",
		"other-task", "cancelled", "timeout", "error"};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(vi_lc_result_name((enum vi_lc_result)i), names[i]);
	assert_string_equal(vi_lc_result_name((enum vi_lc_result)42), "unknown");
}

static void test_find_choice(void **state)
{
	static const struct {
		const char *name;
		const char *key; /* NULL: no match */
	} cases[] = {
		{"2", "2"},	      {"button.uuid.movedTheVM", "1"}, {"I _Copied It", "2"},
		{"I Copied It", "2"},			     /* the mnemonic mark left out */
		{"Cancel", "0"},      {"i copied it", NULL}, /* case matters */
		{"I Copied", NULL},   {"I Copied It ", NULL},	       {"3", NULL},
		{"", NULL},	      {"button.uuid", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vi_question_choice *c = vi_lc_find_choice(&uuid_q, cases[i].name);

		if (!cases[i].key) {
			if (c)
				fail_msg("\"%s\" found choice %s", cases[i].name, c->key);
			continue;
		}
		if (!c)
			fail_msg("\"%s\" found nothing", cases[i].name);
		assert_string_equal(c->key, cases[i].key);
	}
	assert_null(vi_lc_find_choice(NULL, "1"));
	assert_null(vi_lc_find_choice(&uuid_q, NULL));
}

static void test_find_choice_key_first(void **state)
{
	/* a label that is another choice's key: the key wins */
	struct vi_question_choice ch[] = {
		{(char *)"a", (char *)"b", (char *)""},
		{(char *)"b", (char *)"c", (char *)""},
	};
	struct vi_question q = {
		.id = (char *)"1", .text = (char *)"", .choices = ch, .nchoices = 2};

	(void)state;
	assert_string_equal(vi_lc_find_choice(&q, "b")->key, "b");
	assert_string_equal(vi_lc_find_choice(&q, "c")->key, "b");
	/* an empty summary never matches */
	assert_null(vi_lc_find_choice(&q, "_"));
}

static void test_describe(void **state)
{
	struct buf b;
	struct vi_question_choice ch[] = {{(char *)"k\x1b[1m", (char *)"l\n", (char *)"s\xff"}};
	struct vi_question q = {.id = (char *)"7\r",
				.text = (char *)"line1\nline2",
				.choices = ch,
				.nchoices = 1,
				.default_index = -1};

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(vi_lc_describe_question(&b, &uuid_q), 0);
	assert_string_equal(b.data, "question 42 (msg.uuid.altered): \"This virtual machine might "
				    "have been moved or copied.\"; choices: 0 button.uuid.cancel "
				    "\"Cancel\", 1 button.uuid.movedTheVM \"I _Moved It\", *2 "
				    "button.uuid.copiedTheVM \"I _Copied It\" (* default)");
	buf_reset(&b);
	/* bytes from the server are shown escaped: control characters and bad UTF-8 */
	assert_int_equal(vi_lc_describe_question(&b, &q), 0);
	assert_string_equal(b.data, "question 7\\x0d: \"line1\\x0aline2\"; choices: k\\x1b[1m "
				    "l\\x0a \"s\xef\xbf\xbd\" (no default)");
	buf_release(&b);
}

static void test_buf_add_shown(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	buf_add_shown(&b, "\xc3\xb6"
			  "dd \xe6\x97\xa5\xe6\x9c\xac \t\x7f\xc0\xaf\"|%/");
	assert_string_equal(b.data, "\xc3\xb6"
				    "dd \xe6\x97\xa5\xe6\x9c\xac \\x09\\x7f\xef\xbf\xbd"
				    "\xef\xbf\xbd\"|%/");
	buf_release(&b);
}

static void test_pending_task(void **state)
{
	struct vi_task_info t[3] = {{.task = (char *)"task-1", .state = (char *)"success"},
				    {.task = (char *)"task-2", .state = (char *)"error"},
				    {.task = (char *)"task-3", .state = (char *)"queued"}};
	struct vi_lc_vm v = {.tasks = t, .ntasks = 2};

	(void)state;
	assert_null(vi_lc_get_pending_task(&v));
	v.ntasks = 3;
	assert_string_equal(vi_lc_get_pending_task(&v)->task, "task-3");
	t[1].state = (char *)"running";
	assert_string_equal(vi_lc_get_pending_task(&v)->task, "task-2");
	t[1].state = NULL; /* unreadable info: not counted */
	assert_string_equal(vi_lc_get_pending_task(&v)->task, "task-3");
}

static void test_report_release(void **state)
{
	struct vi_lc_report r;

	(void)state;
	vi_lc_report_init(&r);
	assert_int_equal(r.question.default_index, -1);
	r.task = strdup("task-1");
	r.vm_name = strdup("odd/slash");
	r.choice_key = strdup("2");
	vi_lc_report_release(&r);
	assert_null(r.task);
	assert_null(r.vm_name);
	vi_lc_report_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_op_names),     cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_find_choice),  cmocka_unit_test(test_find_choice_key_first),
		cmocka_unit_test(test_describe),     cmocka_unit_test(test_buf_add_shown),
		cmocka_unit_test(test_pending_task), cmocka_unit_test(test_report_release),
	};

	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}

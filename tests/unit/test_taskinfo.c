/* Unit tests for vi/taskinfo: TaskInfo elements from recorded and hand-made replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "tests/support/testutil.h"
#include "util/buf.h"
#include "vi/task.h"

struct parsed {
	struct vi_task_info t[4];
	int rc[4];
	struct err e[4];
	int seen;
};

static int on_val(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	struct parsed *p = ud;

	(void)path;
	if (p->seen == 4)
		return err_set(e, ERR_PROTOCOL, "too many");
	err_clear(&p->e[p->seen]);
	p->rc[p->seen] = vi_task_info_parse(n, &p->t[p->seen], &p->e[p->seen]);
	p->seen++;
	return 0;
}

static void parse_reply(const char *xml, size_t len, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	test_parse_vals(xml, len, on_val, p);
}

static void release_all(struct parsed *p)
{
	int i;

	for (i = 0; i < p->seen; i++)
		vi_task_info_release(&p->t[i]);
}

static void test_fixture(void **state)
{
	struct parsed p;
	struct vi_task_info *t;
	char *xml;
	size_t len;

	(void)state;
	xml = test_read_fixture("taskinfo.xml", &len);
	parse_reply(xml, len, &p);
	assert_int_equal(p.seen, 2);
	assert_int_equal(p.rc[0], 0);
	t = &p.t[0];
	assert_string_equal(t->key, "task-123");
	assert_string_equal(t->task, "task-123");
	assert_string_equal(t->name, "PowerOnVM_Task");
	assert_string_equal(t->description_id, "VirtualMachine.powerOn");
	assert_string_equal(t->entity_type, "VirtualMachine");
	assert_string_equal(t->entity, "vm-42");
	assert_string_equal(t->entity_name, "odd%2fslash");
	assert_string_equal(t->state, "error");
	assert_false(t->cancelled);
	assert_false(t->cancelable);
	assert_int_equal(t->progress, -1);
	assert_string_equal(t->error_fault, "InvalidPowerState");
	assert_string_equal(t->error_msg,
			    "The attempted operation cannot be performed in the current state "
			    "(Powered on).");
	assert_true(fabs(t->queue_time - 1795262400.123) < 1e-6);
	assert_true(fabs(t->start_time - 1795262400.25) < 1e-6);
	assert_true(fabs(t->complete_time - 1795262401.5) < 1e-6);

	assert_int_equal(p.rc[1], 0);
	t = &p.t[1];
	assert_string_equal(t->key, "task-124");
	assert_null(t->name);
	assert_string_equal(t->state, "running");
	assert_true(t->cancelable);
	assert_int_equal(t->progress, 42);
	assert_null(t->error_fault);
	assert_null(t->error_msg);
	assert_true(t->complete_time == 0);
	release_all(&p);
	assert_null(p.t[0].key);
	free(xml);
}

struct tcase {
	const char *name;
	const char *body;
	int rc;
	enum err_kind kind;
	int progress;
	const char *fault;
};

#define T_OPEN                                                                                     \
	"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "           \
	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>"                   \
	"<RetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval><objects><obj "              \
	"type=\"Task\">task-1</obj><propSet><name>info</name><val xsi:type=\"TaskInfo\">"
#define T_CLOSE                                                                                    \
	"</val></propSet></objects></returnval></RetrievePropertiesExResponse></soapenv:Body></"   \
	"soapenv:Envelope>"
#define BASE "<key>task-1</key><task type=\"Task\">task-1</task><state>running</state>"

static void test_shapes(void **state)
{
	static const struct tcase cases[] = {
		{"minimal", BASE, 0, ERR_OK, -1, NULL},
		{"progress 0", BASE "<progress>0</progress>", 0, ERR_OK, 0, NULL},
		{"progress over", BASE "<progress>150</progress>", 0, ERR_OK, 100, NULL},
		{"progress garbage", BASE "<progress>5%</progress>", -1, ERR_PARSE, -1, NULL},
		{"bad bool", BASE "<cancelable>yes</cancelable>", -1, ERR_PARSE, -1, NULL},
		{"bad time", BASE "<queueTime>yesterday</queueTime>", -1, ERR_PARSE, -1, NULL},
		{"no task", "<key>k</key><state>running</state>", -1, ERR_PROTOCOL, -1, NULL},
		{"no state", "<key>k</key><task type=\"Task\">task-1</task>", -1, ERR_PROTOCOL, -1,
		 NULL},
		{"fault type ending in Fault",
		 BASE "<error><fault xsi:type=\"VmConfigFault\"/></error>", 0, ERR_OK, -1,
		 "VmConfigFault"},
		{"fault untyped", BASE "<error><localizedMessage>m</localizedMessage></error>", 0,
		 ERR_OK, -1, "MethodFault"},
		{"fault prefixed",
		 BASE "<error><fault xsi:type=\"vim25:RequestCanceled\"/>"
		      "<localizedMessage>The task was canceled by a user."
		      "</localizedMessage></error>",
		 0, ERR_OK, -1, "RequestCanceled"},
	};
	char xml[4096];
	struct parsed p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(xml, sizeof(xml), T_OPEN "%s" T_CLOSE, cases[i].body);

		parse_reply(xml, (size_t)n, &p);
		assert_int_equal(p.seen, 1);
		if (p.rc[0] != cases[i].rc || p.e[0].kind != cases[i].kind)
			fail_msg("%s: rc %d %s (%s)", cases[i].name, p.rc[0],
				 err_kind_name(p.e[0].kind), p.e[0].msg);
		assert_int_equal(p.t[0].progress, cases[i].progress);
		if (cases[i].fault)
			assert_string_equal(p.t[0].error_fault, cases[i].fault);
		else
			assert_null(p.t[0].error_fault);
		if (cases[i].rc < 0)
			assert_null(p.t[0].key);
		release_all(&p);
	}
}

/* Recorded from build/vimon-sim: a power-on blocked by a question, a failed power-on
 * (nanosecond timestamps), and a cancelled power-off. */
static void test_recorded(void **state)
{
	struct parsed p;
	char *xml;
	size_t len;

	(void)state;
	xml = test_read_fixture("sim_taskinfo.xml", &len);
	parse_reply(xml, len, &p);
	assert_int_equal(p.seen, 2);
	assert_int_equal(p.rc[0], 0);
	assert_string_equal(p.t[0].task, "task-62");
	assert_string_equal(p.t[0].state, "running");
	assert_string_equal(p.t[0].entity, "vm-45");
	assert_false(p.t[0].cancelable);
	assert_true(p.t[0].start_time >= p.t[0].queue_time && p.t[0].queue_time > 1.7e9);
	assert_true(p.t[0].complete_time == 0);
	assert_null(p.t[0].error_fault);
	assert_int_equal(p.rc[1], 0);
	assert_string_equal(p.t[1].state, "error");
	assert_string_equal(p.t[1].error_fault, "InvalidPowerState");
	assert_string_equal(p.t[1].error_msg, "*types.InvalidPowerState");
	assert_true(p.t[1].complete_time > p.t[1].start_time);
	assert_true(p.t[1].complete_time - p.t[1].queue_time < 0.001);
	release_all(&p);
	free(xml);
	xml = test_read_fixture("sim_taskinfo_cancelled.xml", &len);
	parse_reply(xml, len, &p);
	assert_int_equal(p.seen, 1);
	assert_int_equal(p.rc[0], 0);
	assert_true(p.t[0].cancelled);
	assert_true(p.t[0].cancelable);
	assert_string_equal(p.t[0].error_fault, "RequestCanceled");
	assert_string_equal(p.t[0].error_msg, "The task was canceled by a user.");
	assert_string_equal(p.t[0].name, "PowerOff");
	release_all(&p);
	free(xml);
}

static void test_null(void **state)
{
	struct vi_task_info t;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(vi_task_info_parse(NULL, &t, &e), -1);
	assert_int_equal(e.kind, ERR_PROTOCOL);
	vi_task_info_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_recorded),
		cmocka_unit_test(test_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

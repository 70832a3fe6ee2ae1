/* Integration tests of vi/lifecycle (the question algorithm) against vimon-sim: every outcome. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/testutil.h"
#include "util/err.h"
#include "vi/lifecycle.h"
#include "vi/session.h"
#include "vi/task.h"

/*
 * Environment (set by tests/integration/test_lifecycle.sh): VI_SIM_URL (the
 * SOAP URL) and VI_SIM_BASE (http://127.0.0.1:PORT) of a fresh vimon-sim.
 * Each test uses VMs of its own (by index), so tests do not disturb each other.
 */

static const char *sim_url;
static const char *sim_base;

static void simctl_do(const char *path, const char *json)
{
	json_decref(test_simctl(sim_base, path, json));
}

static long calls(const char *method)
{
	return test_sim_calls(sim_base, method);
}

/* The moref of generated VM number i (DC0_H0_VM0, DC0_H0_VM1, DC0_C0_H0_VM0, ...:
 * the inventory's non-odd VMs in creation order). Static copy. */
static const char *vm_no(int i)
{
	static char moref[4][32];
	static int slot;
	json_t *inv = test_simctl(sim_base, "/_sim/inventory", NULL);
	char *out = moref[slot++ % 4];
	json_t *v;
	size_t k;

	out[0] = '\0';
	json_array_foreach(json_object_get(inv, "vms"), k, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));

		if (strncmp(name, "DC0_", 4) != 0 || i-- > 0)
			continue;
		snprintf(out, 32, "%s", json_string_value(json_object_get(v, "moref")));
		break;
	}
	json_decref(inv);
	if (!out[0])
		fail_msg("no generated VM number %d", i);
	return out;
}

static const char *sim_power(const char *vm)
{
	static char state[32];
	json_t *inv = test_simctl(sim_base, "/_sim/inventory", NULL);
	json_t *v;
	size_t k;

	state[0] = '\0';
	json_array_foreach(json_object_get(inv, "vms"), k, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "moref")), vm) == 0)
			snprintf(state, sizeof(state), "%s",
				 json_string_value(json_object_get(v, "power")));
	}
	json_decref(inv);
	return state;
}

static void set_power(const char *vm, const char *state)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"vm\":\"%s\",\"state\":\"%s\"}", vm, state);
	simctl_do("/_sim/vm/power", body);
}

/* Asks the preset question now (during_ms < 0) or during_ms after the VM's next
 * task starts. Its id (static copy). */
static const char *ask(const char *vm, const char *preset, int during_ms)
{
	static char id[64];
	char body[256];
	json_t *r;

	if (during_ms < 0)
		snprintf(body, sizeof(body), "{\"vm\":\"%s\",\"preset\":\"%s\"}", vm, preset);
	else
		snprintf(body, sizeof(body),
			 "{\"vm\":\"%s\",\"preset\":\"%s\",\"during_next_task_ms\":%d}", vm, preset,
			 during_ms);
	r = test_simctl(sim_base, "/_sim/question", body);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
	assert_true(id[0] != '\0');
	return id;
}

static void clear_question(const char *vm)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"vm\":\"%s\"}", vm);
	simctl_do("/_sim/question/clear", body);
}

static struct vi_session *logged_in(void)
{
	struct vi_session_opts o;
	struct vi_session *s;
	struct err e;

	memset(&o, 0, sizeof(o));
	o.http.url = sim_url;
	o.http.connect_timeout_ms = 5000;
	o.http.timeout_ms = 30000;
	o.username = "vimon";
	o.password = "secret";
	err_clear(&e);
	s = vi_session_new(&o, &e);
	if (!s)
		fail_msg("vi_session_new: %s", e.msg);
	if (vi_session_login(s, &e) < 0)
		fail_msg("login: %s", e.msg);
	simctl_do("/_sim/stats/reset", "{}");
	return s;
}

/* A task started directly (the operator's earlier one, blocked by a question). */
static char *start(struct vi_session *s,
		   int (*method)(struct vi_session *, const char *, char **, struct err *),
		   const char *vm)
{
	char *task = NULL;
	struct err e;

	err_clear(&e);
	if (method(s, vm, &task, &e) < 0)
		fail_msg("starting a task on %s: %s", vm, e.msg);
	return task;
}

static const char *task_state(struct vi_session *s, const char *task)
{
	static char state[16];
	struct vi_task_info info = {0};
	struct err e;

	err_clear(&e);
	/* a finished task's info comes back at once; a running one after 1 s */
	vi_task_wait(s, task, 1, NULL, NULL, &info, &e);
	snprintf(state, sizeof(state), "%s", info.state ? info.state : "?");
	vi_task_info_release(&info);
	return state;
}

static int run(struct vi_session *s, const char *vm, enum vi_lc_op op, bool auto_answer,
	       int timeout_s, struct vi_lc_report *r)
{
	struct vi_lc_opts o = {.auto_answer = auto_answer, .timeout_s = timeout_s};

	vi_lc_report_init(r);
	return vi_lc_run(s, vm, op, &o, r);
}

static void assert_contains(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* ---- plain runs ---- */

static void test_done_and_failed(void **state)
{
	struct vi_session *s = logged_in();
	const char *vm = vm_no(0);
	struct vi_lc_report r;

	(void)state;
	set_power(vm, "poweredOff");
	assert_int_equal(run(s, vm, VI_LC_POWER_ON, false, 30, &r), 0);
	assert_int_equal(r.result, VI_LC_DONE);
	assert_string_equal(vi_lc_result_name(r.result), "done");
	assert_non_null(r.task);
	assert_string_equal(r.vm_name, "DC0_H0_VM0");
	assert_contains(r.message, "power-on of VM DC0_H0_VM0 (");
	assert_contains(r.message, "succeeded");
	assert_false(r.answered);
	assert_string_equal(sim_power(vm), "poweredOn");
	vi_lc_report_release(&r);

	/* powering on what is on: the task fails with the server's fault */
	assert_int_equal(run(s, vm, VI_LC_POWER_ON, true, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_FAILED);
	assert_int_equal(r.err.kind, ERR_TASK);
	assert_string_equal(r.err.fault, "InvalidPowerState");
	assert_contains(r.message, "failed: InvalidPowerState");
	vi_lc_report_release(&r);

	/* a cancelable task that fails: powering off what is off */
	set_power(vm, "poweredOff");
	assert_int_equal(run(s, vm, VI_LC_POWER_OFF, false, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_FAILED);
	assert_string_equal(r.err.fault, "InvalidPowerState");
	vi_lc_report_release(&r);
	set_power(vm, "poweredOn");

	/* the cancelable tasks too */
	assert_int_equal(run(s, vm, VI_LC_RESET, false, 30, &r), 0);
	assert_int_equal(r.result, VI_LC_DONE);
	vi_lc_report_release(&r);
	assert_int_equal(run(s, vm, VI_LC_SUSPEND, false, 30, &r), 0);
	assert_string_equal(sim_power(vm), "suspended");
	vi_lc_report_release(&r);
	assert_int_equal(run(s, vm, VI_LC_POWER_OFF, false, 30, &r), 0);
	assert_string_equal(sim_power(vm), "poweredOff");
	vi_lc_report_release(&r);
	assert_int_equal(calls("AnswerVM"), 0);
	assert_int_equal(calls("CancelTask"), 0);

	/* no_wait: started, not waited for */
	{
		struct vi_lc_opts o = {.no_wait = true, .timeout_s = 30};

		vi_lc_report_init(&r);
		assert_int_equal(vi_lc_run(s, vm, VI_LC_POWER_ON, &o, &r), 0);
		assert_int_equal(r.result, VI_LC_STARTED);
		assert_non_null(r.task);
		assert_contains(r.message, "started (not waiting)");
		vi_lc_report_release(&r);
	}

	/* a VM that does not exist */
	assert_int_equal(run(s, "vm-999999", VI_LC_POWER_ON, false, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_ERROR);
	assert_string_equal(r.err.fault, "ManagedObjectNotFound");
	vi_lc_report_release(&r);
	vi_session_free(s);
}

/* ---- a question before the start ---- */

static void test_blocked_before_start(void **state)
{
	struct vi_session *s = logged_in();
	const char *vm = vm_no(1);
	struct vi_lc_report r;
	char qid[64], *task;

	(void)state;
	set_power(vm, "poweredOff");
	snprintf(qid, sizeof(qid), "%s", ask(vm, "msg.uuid.altered", -1));
	task = start(s, vi_vm_power_on, vm);
	simctl_do("/_sim/stats/reset", "{}");

	/* without auto-answer: reported, nothing sent, nothing started */
	assert_int_equal(run(s, vm, VI_LC_POWER_ON, false, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_BLOCKED);
	assert_int_equal(r.err.kind, ERR_QUESTION);
	assert_string_equal(r.question.id, qid);
	assert_string_equal(r.task, task);
	assert_null(r.choice_key);
	assert_contains(r.message, "msg.uuid.altered");
	assert_contains(r.message, "*2 button.uuid.copiedTheVM \"I _Copied It\"");
	assert_contains(r.message, "not starting power-on (no auto-answer)");
	vi_lc_report_release(&r);
	/* the same for a cancelable operation: nothing is cancelled before the start */
	assert_int_equal(run(s, vm, VI_LC_SUSPEND, false, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_BLOCKED);
	vi_lc_report_release(&r);
	assert_int_equal(calls("AnswerVM"), 0);
	assert_int_equal(calls("CancelTask"), 0);
	assert_int_equal(calls("PowerOnVM_Task"), 0);
	assert_int_equal(calls("SuspendVM_Task"), 0);
	assert_string_equal(task_state(s, task), "running");

	/* with auto-answer: the default choice, and the blocked task goes on */
	assert_int_equal(run(s, vm, VI_LC_POWER_ON, true, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_ANSWERED_NOT_STARTED);
	assert_string_equal(vi_lc_result_name(r.result), "answered-not-started");
	assert_true(r.answered);
	assert_string_equal(r.choice_key, "2");
	assert_string_equal(r.task, task);
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "answered question %s of VM DC0_H0_VM1 (%s) with choice 2 "
			 "(button.uuid.copiedTheVM \"I _Copied It\"); the blocked task %s "
			 "continues; not starting power-on",
			 qid, vm, task);
		assert_string_equal(r.message, want);
	}
	vi_lc_report_release(&r);
	assert_int_equal(calls("AnswerVM"), 1);
	assert_int_equal(calls("PowerOnVM_Task"), 0);
	assert_string_equal(task_state(s, task), "success");
	assert_string_equal(sim_power(vm), "poweredOn");
	free(task);

	/* the same for a cancelable operation blocked before the start (a power-off) */
	ask(vm, "msg.serial.file.open", -1);
	task = start(s, vi_vm_power_off, vm);
	assert_int_equal(run(s, vm, VI_LC_SUSPEND, true, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_ANSWERED_NOT_STARTED);
	assert_string_equal(r.choice_key, "0"); /* Append, the default */
	assert_string_equal(r.task, task);
	assert_contains(r.message, "not starting suspend");
	vi_lc_report_release(&r);
	assert_int_equal(calls("AnswerVM"), 2);
	assert_int_equal(calls("SuspendVM_Task"), 0);
	assert_string_equal(task_state(s, task), "success");
	assert_string_equal(sim_power(vm), "poweredOff");
	free(task);
	vi_session_free(s);
}

/* ---- another task pending ---- */

static void test_other_task(void **state)
{
	struct vi_session *s = logged_in();
	const char *vm = vm_no(2);
	struct vi_lc_report r;
	char *task;
	struct err e;

	(void)state;
	set_power(vm, "poweredOn");
	/* a power-off that runs for a minute before its question comes */
	ask(vm, "msg.uuid.altered", 60000);
	task = start(s, vi_vm_power_off, vm);
	simctl_do("/_sim/stats/reset", "{}");
	assert_int_equal(run(s, vm, VI_LC_RESET, true, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_OTHER_TASK);
	assert_string_equal(vi_lc_result_name(r.result), "other-task");
	assert_string_equal(r.other_task, task);
	assert_contains(r.message, "is pending on VM DC0_C0_H0_VM0");
	assert_contains(r.message, "running");
	assert_contains(r.message, "not starting reset");
	vi_lc_report_release(&r);
	assert_int_equal(calls("ResetVM_Task"), 0);
	assert_int_equal(calls("AnswerVM"), 0);
	/* power-on, without auto-answer: refused the same way */
	assert_int_equal(run(s, vm, VI_LC_POWER_ON, false, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_OTHER_TASK);
	assert_string_equal(r.other_task, task);
	vi_lc_report_release(&r);
	assert_int_equal(calls("PowerOnVM_Task"), 0);
	err_clear(&e);
	assert_int_equal(vi_task_cancel(s, task, &e), 0);
	free(task);
	vi_session_free(s);
}

/* ---- a question raised while the task runs ---- */

static void test_question_while_running_auto(void **state)
{
	struct vi_session *s = logged_in();
	const char *vm = vm_no(3);
	struct vi_lc_report r;
	char qid[64];

	(void)state;
	set_power(vm, "poweredOff");
	/* power-on (not cancelable): the question comes 300 ms after the start */
	snprintf(qid, sizeof(qid), "%s", ask(vm, "msg.uuid.altered", 300));
	assert_int_equal(run(s, vm, VI_LC_POWER_ON, true, 30, &r), 0);
	assert_int_equal(r.result, VI_LC_DONE);
	assert_true(r.answered);
	assert_string_equal(r.question.id, qid);
	assert_string_equal(r.choice_key, "2");
	assert_contains(r.message, "succeeded; answered question");
	assert_string_equal(sim_power(vm), "poweredOn");
	vi_lc_report_release(&r);
	assert_int_equal(calls("AnswerVM"), 1);

	/* suspend (cancelable), the serial-port question: its default is Append (0) */
	snprintf(qid, sizeof(qid), "%s", ask(vm, "msg.serial.file.open", 300));
	assert_int_equal(run(s, vm, VI_LC_SUSPEND, true, 30, &r), 0);
	assert_int_equal(r.result, VI_LC_DONE);
	assert_string_equal(r.question.id, qid);
	assert_string_equal(r.choice_key, "0");
	assert_string_equal(sim_power(vm), "suspended");
	vi_lc_report_release(&r);
	assert_int_equal(calls("AnswerVM"), 2);
	assert_int_equal(calls("CancelTask"), 0);
	vi_session_free(s);
}

static void test_question_while_running_cancelable(void **state)
{
	struct vi_session *s = logged_in();
	const char *vm = vm_no(4);
	struct vi_lc_report r;
	char qid[64];

	(void)state;
	set_power(vm, "poweredOn");
	snprintf(qid, sizeof(qid), "%s", ask(vm, "msg.uuid.altered", 300));
	assert_int_equal(run(s, vm, VI_LC_POWER_OFF, false, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_CANCELLED);
	assert_string_equal(vi_lc_result_name(r.result), "cancelled");
	assert_true(r.cancelled);
	assert_false(r.cancel_refused);
	assert_false(r.answered);
	assert_string_equal(r.question.id, qid);
	assert_int_equal(r.err.kind, ERR_QUESTION);
	assert_contains(r.message, "(no auto-answer); cancelled task-");
	vi_lc_report_release(&r);
	assert_int_equal(calls("CancelTask"), 1);
	assert_int_equal(calls("AnswerVM"), 0);
	assert_string_equal(sim_power(vm), "poweredOn");
	clear_question(vm);
	vi_session_free(s);
}

static void test_question_while_running_power_on(void **state)
{
	struct vi_session *s = logged_in();
	const char *vm = vm_no(5);
	struct vi_lc_report r;
	char want[160];

	(void)state;
	set_power(vm, "poweredOff");
	ask(vm, "msg.uuid.altered", 300);
	assert_int_equal(run(s, vm, VI_LC_POWER_ON, false, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_BLOCKED);
	assert_true(r.cancel_refused);
	assert_false(r.cancelled);
	assert_non_null(r.task);
	snprintf(want, sizeof(want),
		 "task %s cannot be cancelled and stays blocked until the question is answered",
		 r.task);
	assert_contains(r.message, want);
	/* not even tried: power-on says it is not cancelable */
	assert_int_equal(calls("CancelTask"), 0);
	assert_int_equal(calls("AnswerVM"), 0);
	assert_string_equal(task_state(s, r.task), "running");
	vi_lc_report_release(&r);
	clear_question(vm);
	assert_string_equal(sim_power(vm), "poweredOn");
	vi_session_free(s);
}

/* ---- timeouts ---- */

static void test_timeout(void **state)
{
	struct vi_session *s = logged_in();
	const char *vm = vm_no(6);
	struct vi_lc_report r;
	double t0;
	struct err e;

	(void)state;
	set_power(vm, "poweredOn");
	ask(vm, "msg.uuid.altered", 60000); /* a task that runs for a minute */
	t0 = vi_now_seconds();
	assert_int_equal(run(s, vm, VI_LC_POWER_OFF, true, 2, &r), -1);
	assert_true(vi_now_seconds() - t0 < 5);
	assert_int_equal(r.result, VI_LC_TIMEOUT);
	assert_string_equal(vi_lc_result_name(r.result), "timeout");
	assert_int_equal(r.err.kind, ERR_TIMEOUT);
	assert_contains(r.message, "still running after 2 s");
	err_clear(&e);
	assert_int_equal(vi_task_cancel(s, r.task, &e), 0);
	vi_lc_report_release(&r);

	/* a power-on that runs past the timeout: reported, left as it is */
	set_power(vm, "poweredOff");
	ask(vm, "msg.uuid.altered", 60000);
	assert_int_equal(run(s, vm, VI_LC_POWER_ON, false, 1, &r), -1);
	assert_int_equal(r.result, VI_LC_TIMEOUT);
	assert_contains(r.message, "still running after 1 s");
	assert_string_equal(task_state(s, r.task), "running");
	clear_question(vm); /* lets the power-on go ahead */
	assert_string_equal(task_state(s, r.task), "success");
	vi_lc_report_release(&r);
	assert_int_equal(calls("CancelTask"), 1);
	vi_session_free(s);
}

/* ---- guest operations ---- */

static void test_guest_ops(void **state)
{
	struct vi_session *s = logged_in();
	const char *vm = vm_no(7);
	struct vi_lc_report r;
	char body[128];

	(void)state;
	set_power(vm, "poweredOn");
	assert_int_equal(run(s, vm, VI_LC_SHUTDOWN_GUEST, false, 30, &r), 0);
	assert_int_equal(r.result, VI_LC_DONE);
	assert_null(r.task);
	assert_contains(r.message, "ShutdownGuest done, the VM is poweredOff");
	assert_string_equal(sim_power(vm), "poweredOff");
	vi_lc_report_release(&r);

	/* refused by the server: the VM is off */
	assert_int_equal(run(s, vm, VI_LC_SHUTDOWN_GUEST, false, 30, &r), -1);
	assert_int_equal(r.result, VI_LC_ERROR);
	assert_string_equal(r.err.fault, "InvalidPowerState");
	vi_lc_report_release(&r);

	set_power(vm, "poweredOn");
	assert_int_equal(run(s, vm, VI_LC_STANDBY_GUEST, false, 30, &r), 0);
	assert_string_equal(sim_power(vm), "suspended");
	vi_lc_report_release(&r);
	set_power(vm, "poweredOn");
	assert_int_equal(run(s, vm, VI_LC_REBOOT_GUEST, false, 30, &r), 0);
	assert_int_equal(r.result, VI_LC_DONE);
	vi_lc_report_release(&r);

	/* a guest that ignores the request: the wait for the power state times out */
	snprintf(body, sizeof(body), "{\"vm\":\"%s\",\"ignore\":true}", vm);
	simctl_do("/_sim/vm/guest", body);
	assert_int_equal(run(s, vm, VI_LC_SHUTDOWN_GUEST, false, 2, &r), -1);
	assert_int_equal(r.result, VI_LC_TIMEOUT);
	assert_contains(r.message, "the VM is still poweredOn after 2 s (waiting for poweredOff)");
	vi_lc_report_release(&r);
	{
		struct vi_lc_opts o = {.no_wait = true, .timeout_s = 30};

		vi_lc_report_init(&r);
		assert_int_equal(vi_lc_run(s, vm, VI_LC_SHUTDOWN_GUEST, &o, &r), 0);
		assert_int_equal(r.result, VI_LC_STARTED);
		assert_contains(r.message, "ShutdownGuest sent (not waiting)");
		vi_lc_report_release(&r);
	}
	snprintf(body, sizeof(body), "{\"vm\":\"%s\",\"ignore\":false}", vm);
	simctl_do("/_sim/vm/guest", body);
	vi_session_free(s);
}

/* ---- before_answer: another choice, or none ---- */

struct hook {
	int calls;
	const char *pick; /* a key to send instead, or NULL to refuse */
};

static int before_answer(void *ud, const char *vm, const struct vi_question *q,
			 const char **choice_key, struct err *e)
{
	struct hook *h = ud;

	assert_non_null(vm);
	assert_non_null(q->id);
	assert_string_equal(*choice_key, "2"); /* the default is offered first */
	h->calls++;
	if (!h->pick)
		return err_set(e, ERR_QUESTION, "already answered once");
	*choice_key = h->pick;
	return 0;
}

static void test_before_answer(void **state)
{
	struct vi_session *s = logged_in();
	const char *vm = vm_no(0);
	struct hook h = {0};
	struct vi_lc_opts o = {
		.auto_answer = true, .timeout_s = 30, .before_answer = before_answer, .ud = &h};
	struct vi_lc_report r;
	char *task;

	(void)state;
	set_power(vm, "poweredOff");
	ask(vm, "msg.uuid.altered", -1);
	task = start(s, vi_vm_power_on, vm);
	simctl_do("/_sim/stats/reset", "{}");
	/* the hook refuses: nothing sent, blocked with the hook's reason */
	vi_lc_report_init(&r);
	assert_int_equal(vi_lc_run(s, vm, VI_LC_POWER_ON, &o, &r), -1);
	assert_int_equal(r.result, VI_LC_BLOCKED);
	assert_string_equal(r.err.msg, "already answered once");
	assert_contains(r.message, "not answered: already answered once");
	assert_int_equal(h.calls, 1);
	assert_int_equal(calls("AnswerVM"), 0);
	vi_lc_report_release(&r);
	/* the hook picks "I Moved It" (key 1) */
	h.pick = "1";
	vi_lc_report_init(&r);
	assert_int_equal(vi_lc_run(s, vm, VI_LC_POWER_ON, &o, &r), -1);
	assert_int_equal(r.result, VI_LC_ANSWERED_NOT_STARTED);
	assert_string_equal(r.choice_key, "1");
	assert_contains(r.message, "with choice 1 (button.uuid.movedTheVM \"I _Moved It\")");
	vi_lc_report_release(&r);
	assert_int_equal(calls("AnswerVM"), 1);
	assert_string_equal(task_state(s, task), "success");
	free(task);
	vi_session_free(s);
}

/* The session expires just before the AnswerVM: the answer is resent once after the
 * re-login (the server refused the first), and the watch rebuilds its filter on the new
 * session and still sees the task end. */
static int expire_then_answer(void *ud, const char *vm, const struct vi_question *q,
			      const char **choice_key, struct err *e)
{
	(void)vm;
	(void)q;
	(void)choice_key;
	(void)e;
	(*(int *)ud)++;
	simctl_do("/_sim/fault", "{\"kind\":\"expire-sessions\"}");
	return 0;
}

static void test_session_expires_while_waiting(void **state)
{
	struct vi_session *s = logged_in();
	const char *vm = vm_no(5);
	int hooked = 0;
	struct vi_lc_opts o = {.auto_answer = true,
			       .timeout_s = 30,
			       .before_answer = expire_then_answer,
			       .ud = &hooked};
	struct vi_lc_report r;

	(void)state;
	set_power(vm, "poweredOn");
	ask(vm, "msg.uuid.altered", 300);
	vi_lc_report_init(&r);
	if (vi_lc_run(s, vm, VI_LC_SUSPEND, &o, &r) != 0)
		fail_msg("%s: %s", vi_lc_result_name(r.result), r.message);
	assert_int_equal(r.result, VI_LC_DONE);
	assert_true(r.answered);
	assert_int_equal(hooked, 1);
	assert_string_equal(sim_power(vm), "suspended");
	assert_int_equal(calls("Login"), 1);
	/* the refused AnswerVM and its resend on the new session */
	assert_int_equal(calls("AnswerVM"), 2);
	vi_lc_report_release(&r);
	vi_session_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_done_and_failed),
		cmocka_unit_test(test_blocked_before_start),
		cmocka_unit_test(test_other_task),
		cmocka_unit_test(test_question_while_running_auto),
		cmocka_unit_test(test_question_while_running_cancelable),
		cmocka_unit_test(test_question_while_running_power_on),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_guest_ops),
		cmocka_unit_test(test_before_answer),
		cmocka_unit_test(test_session_expires_while_waiting),
	};
	int rc;

	sim_url = getenv("VI_SIM_URL");
	sim_base = getenv("VI_SIM_BASE");
	if (!sim_url || !sim_base) {
		fprintf(stderr, "lc_client: VI_SIM_URL and VI_SIM_BASE must be set\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("lc_client", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

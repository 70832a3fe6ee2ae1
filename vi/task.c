/* vi/task: VM lifecycle task methods, AnswerVM, CancelTask, and waiting for a task. */
#include "vi/task.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "vi/pc.h"
#include "vi/soap.h"

#define TASK_BODY_MAX ((size_t)1 << 20)

/* Calls a method on a VM; with task_out, its returnval is the new Task. */
static int vm_method(struct vi_session *s, const char *method, const char *vm, char **task_out,
		     struct err *e)
{
	struct buf b;
	int rc;

	if (!vm || !*vm)
		return err_set(e, ERR_INVALID, "%s: no VM given", method);
	buf_init(&b, TASK_BODY_MAX);
	vi_soap_begin(&b, method, "VirtualMachine", vm);
	vi_soap_end(&b, method);
	if (task_out)
		rc = vi_session_call_text(s, method, &b, "returnval", VI_CALL_ONCE, task_out, e);
	else
		rc = vi_session_call(s, method, &b, NULL, VI_CALL_ONCE, e);
	buf_release(&b);
	return rc;
}

int vi_vm_power_on(struct vi_session *s, const char *vm, char **task_out, struct err *e)
{
	return vm_method(s, "PowerOnVM_Task", vm, task_out, e);
}

int vi_vm_power_off(struct vi_session *s, const char *vm, char **task_out, struct err *e)
{
	return vm_method(s, "PowerOffVM_Task", vm, task_out, e);
}

int vi_vm_reset(struct vi_session *s, const char *vm, char **task_out, struct err *e)
{
	return vm_method(s, "ResetVM_Task", vm, task_out, e);
}

int vi_vm_suspend(struct vi_session *s, const char *vm, char **task_out, struct err *e)
{
	return vm_method(s, "SuspendVM_Task", vm, task_out, e);
}

int vi_vm_shutdown_guest(struct vi_session *s, const char *vm, struct err *e)
{
	return vm_method(s, "ShutdownGuest", vm, NULL, e);
}

int vi_vm_reboot_guest(struct vi_session *s, const char *vm, struct err *e)
{
	return vm_method(s, "RebootGuest", vm, NULL, e);
}

int vi_vm_answer(struct vi_session *s, const char *vm, const char *question_id,
		 const char *choice_key, struct err *e)
{
	struct buf b;
	int rc = -1;

	if (!vm || !question_id || !choice_key)
		return err_set(e, ERR_INVALID, "AnswerVM: VM, question id and choice are needed");
	buf_init(&b, TASK_BODY_MAX);
	vi_soap_begin(&b, "AnswerVM", "VirtualMachine", vm);
	vi_soap_add(&b, "questionId", question_id);
	vi_soap_add(&b, "answerChoice", choice_key);
	vi_soap_end(&b, "AnswerVM");
	rc = vi_session_call(s, "AnswerVM", &b, NULL, VI_CALL_ONCE, e);
	buf_release(&b);
	return rc;
}

int vi_task_cancel(struct vi_session *s, const char *task, struct err *e)
{
	struct buf b;
	int rc = -1;

	if (!task || !*task)
		return err_set(e, ERR_INVALID, "CancelTask: no task given");
	buf_init(&b, TASK_BODY_MAX);
	vi_soap_begin(&b, "CancelTask", "Task", task);
	vi_soap_end(&b, "CancelTask");
	rc = vi_session_call(s, "CancelTask", &b, NULL, VI_CALL_ONCE, e);
	buf_release(&b);
	return rc;
}

/* What the filter on the task's info reports during one WaitForUpdatesEx. */
struct wait_state {
	const char *task;
	struct vi_task_info *info;
	bool changed;
	bool gone;
};

static int on_info_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct wait_state *w = ud;
	struct vi_task_info next = {0};

	/* the collector is ours, but only this task's changes are believed */
	if (strcmp(c->obj_type, "Task") != 0 || strcmp(c->moref, w->task) != 0)
		return 0;
	if (c->kind == VI_OBJ_LEAVE) {
		w->gone = true;
		return 0;
	}
	if (!c->path || strcmp(c->path, "info") != 0 || !c->value)
		return 0;
	if (vi_task_info_parse(c->value, &next, e) < 0)
		return -1;
	vi_task_info_release(w->info);
	*w->info = next;
	w->changed = true;
	return 0;
}

/* 1 when the task succeeded, -1 (e set) when it failed, 0 while it runs. */
static int task_ended(const char *task, const struct vi_task_info *info, struct err *e)
{
	if (!info->state)
		return 0;
	if (strcmp(info->state, "success") == 0)
		return 1;
	if (strcmp(info->state, "error") == 0) {
		err_set_fault(e, ERR_TASK, info->error_fault ? info->error_fault : "",
			      "task %s (%s) failed: %s%s%s", task, info->name ? info->name : "?",
			      info->error_fault ? info->error_fault : "error",
			      info->error_msg ? ": " : "", info->error_msg ? info->error_msg : "");
		return -1;
	}
	return 0;
}

/* The private collector and the filter on the task's info, and the version
 * of the last update seen. */
struct task_watch {
	char *collector;
	char *filter;
	char *version;
};

/* Destroys the collector (its filter goes with it) and forgets everything. */
static void watch_release(struct vi_session *s, struct task_watch *tw)
{
	struct err ignored;

	err_clear(&ignored);
	if (tw->collector)
		vi_pc_destroy_collector(s, tw->collector, &ignored);
	free(tw->collector);
	free(tw->filter);
	free(tw->version);
	memset(tw, 0, sizeof(*tw));
}

/*
 * A private property collector with one filter on the task's info: the
 * session's own collector also carries the caller's other filters (the
 * agent's inventory and recent tasks), whose updates must not be taken for
 * this task's.
 */
static int watch_start(struct vi_session *s, const char *task, struct task_watch *tw, struct err *e)
{
	static const char *const paths[] = {"info", NULL};

	if (vi_pc_create_collector(s, &tw->collector, e) < 0)
		return -1;
	return vi_pc_create_object_filter(s, tw->collector, "Task", task, paths, &tw->filter, e);
}

/*
 * One WaitForUpdatesEx on the task's collector. When the session expired,
 * the collector went with it: make a new one and start again from the
 * initial version, once per expiry.
 */
static int wait_once(struct vi_session *s, const char *task, struct task_watch *tw, int wait_s,
		     const struct vi_pc_handler *h, struct err *e)
{
	char *next = NULL;
	bool truncated = false;
	struct err we;

	err_clear(&we);
	if (vi_pc_wait_on(s, tw->collector, tw->version, wait_s, 0, h, &next, &truncated, &we) ==
	    0) {
		free(tw->version);
		tw->version = next;
		return 0;
	}
	free(next);
	if (!vi_session_renewed(&we)) {
		err_copy(e, &we);
		return -1;
	}
	/* the old session's collector is gone on the server: nothing to destroy */
	free(tw->collector);
	tw->collector = NULL;
	watch_release(s, tw);
	return watch_start(s, task, tw, e);
}

int vi_task_wait(struct vi_session *s, const char *task, int timeout_s,
		 int (*on_update)(void *ud, const struct vi_task_info *info, struct err *e),
		 void *ud, struct vi_task_info *info, struct err *e)
{
	struct wait_state w = {.task = task, .info = info};
	struct vi_pc_handler h = {.on_change = on_info_change, .ud = &w};
	double deadline = vi_now_seconds() + (timeout_s > 0 ? timeout_s : 0);
	struct task_watch tw = {0};
	int rc = -1;

	if (!task || !*task)
		return err_set(e, ERR_INVALID, "no task given");
	if (watch_start(s, task, &tw, e) < 0)
		goto out_release;
	for (bool first = true;; first = false) {
		int wait_s = 0; /* the first call returns the current info at once */
		int ended;

		if (!first) {
			double left = deadline - vi_now_seconds();

			if (left <= 0) {
				err_set(e, ERR_TIMEOUT, "task %s still %s after %d s", task,
					info->state ? info->state : "unknown", timeout_s);
				goto out_release;
			}
			/* the server wait ends no later than our deadline (at least 1 s) */
			wait_s = tw.version ? (int)ceil(left) : 0;
		}
		w.changed = false;
		if (wait_once(s, task, &tw, wait_s, &h, e) < 0)
			goto out_release;
		if (w.gone) {
			err_set(e, ERR_PROTOCOL, "task %s disappeared while waiting for it", task);
			goto out_release;
		}
		if (!w.changed)
			continue;
		/* after the reply: the callback may call the server itself */
		if (on_update && on_update(ud, info, e) < 0)
			goto out_release;
		ended = task_ended(task, info, e);
		if (ended != 0) {
			rc = ended > 0 ? 0 : -1;
			goto out_release;
		}
	}
out_release:
	watch_release(s, &tw);
	return rc;
}

/* vi/task: VM lifecycle task methods, AnswerVM, CancelTask, and waiting for a task. */
#include "vi/task.h"

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

int vi_vm_standby_guest(struct vi_session *s, const char *vm, struct err *e)
{
	return vm_method(s, "StandbyGuest", vm, NULL, e);
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

/* What the filter on the task's info reports, and what to do after each reply. */
struct wait_state {
	const char *task;
	struct vi_task_info *info;
	bool changed;
	bool gone;
	int (*on_update)(void *ud, const struct vi_task_info *info, struct err *e);
	void *ud;
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

int vi_task_ended(const char *task, const struct vi_task_info *info, struct err *e)
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

/* After each reply: 1 when the task succeeded, -1 (e set) when it failed or
 * went away, 0 while it runs. */
static int on_wait_round(void *ud, struct err *e)
{
	struct wait_state *w = ud;

	if (w->gone)
		return err_set(e, ERR_PROTOCOL, "task %s disappeared while waiting for it",
			       w->task);
	if (!w->changed)
		return 0;
	w->changed = false;
	if (w->on_update && w->on_update(w->ud, w->info, e) < 0)
		return -1;
	return vi_task_ended(w->task, w->info, e);
}

int vi_task_wait(struct vi_session *s, const char *task, int timeout_s,
		 int (*on_update)(void *ud, const struct vi_task_info *info, struct err *e),
		 void *ud, struct vi_task_info *info, struct err *e)
{
	static const char *const paths[] = {"info", NULL};
	static const struct vi_prop_spec spec = {.type = "Task", .paths = paths};
	struct wait_state w = {.task = task, .info = info, .on_update = on_update, .ud = ud};
	struct vi_pc_handler h = {.on_change = on_info_change, .ud = &w};
	struct vi_watch_obj obj = {.type = "Task", .moref = task};
	double deadline = vi_now_seconds() + (timeout_s > 0 ? timeout_s : 0);
	int rc;

	if (!task || !*task)
		return err_set(e, ERR_INVALID, "no task given");
	rc = vi_pc_watch(s, &spec, 1, &obj, 1, deadline, &h, on_wait_round, &w, e);
	if (rc > 0)
		return err_set(e, ERR_TIMEOUT, "task %s still %s after %d s", task,
			       info->state ? info->state : "unknown", timeout_s);
	return rc;
}

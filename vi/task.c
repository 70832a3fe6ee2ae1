/* vi/task: VM lifecycle task methods, AnswerVM, CancelTask, and waiting for a task. */
#include "vi/task.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "vi/pc.h"
#include "vi/soap.h"

#define TASK_BODY_MAX ((size_t)1 << 20)

static int on_task_ref(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	char **out = ud;

	(void)path;
	free(*out);
	*out = strdup(n->text);
	return *out ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

/* Calls a method on a VM; with task_out, its returnval is the new Task. */
static int vm_method(struct vi_session *s, const char *method, const char *vm, char **task_out,
		     struct err *e)
{
	static const char *const paths[] = {"returnval", NULL};
	char *task = NULL;
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_task_ref, .ud = &task};
	struct buf b;
	int rc = -1;

	if (!vm || !*vm)
		return err_set(e, ERR_INVALID, "%s: no VM given", method);
	buf_init(&b, TASK_BODY_MAX);
	vi_soap_begin(&b, method, "VirtualMachine", vm);
	vi_soap_end(&b, method);
	if (b.failed) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_free;
	}
	if (vi_session_call(s, method, b.data, b.len, task_out ? &spec : NULL, e) < 0)
		goto out_free;
	if (task_out) {
		if (!task || !*task) {
			err_set(e, ERR_PROTOCOL, "%s: the reply names no task", method);
			goto out_free;
		}
		*task_out = task;
		task = NULL;
	}
	rc = 0;
out_free:
	free(task);
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
	if (b.failed)
		err_set(e, ERR_NOMEM, "out of memory");
	else
		rc = vi_session_call(s, "AnswerVM", b.data, b.len, NULL, e);
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
	if (b.failed)
		err_set(e, ERR_NOMEM, "out of memory");
	else
		rc = vi_session_call(s, "CancelTask", b.data, b.len, NULL, e);
	buf_release(&b);
	return rc;
}

/* What the filter on the task's info reports during one WaitForUpdatesEx. */
struct wait_state {
	struct vi_task_info *info;
	bool changed;
	bool gone;
};

static int on_info_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct wait_state *w = ud;
	struct vi_task_info next = {0};

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

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

/*
 * One WaitForUpdatesEx on the task's filter. A re-login inside the call
 * (the session expired) loses the filter with the old session: make a new
 * one and start again from the initial version, once per expiry.
 */
static int wait_once(struct vi_session *s, const char *task, char **filter, char **version,
		     int wait_s, const struct vi_pc_handler *h, struct err *e)
{
	static const char *const paths[] = {"info", NULL};
	unsigned long logins = vi_session_login_count(s);
	char *next = NULL;
	bool truncated = false;
	struct err we;

	err_clear(&we);
	if (vi_pc_wait(s, *version, wait_s, 0, h, &next, &truncated, &we) == 0 &&
	    vi_session_login_count(s) == logins) {
		free(*version);
		*version = next;
		return 0;
	}
	free(next);
	if (vi_session_login_count(s) == logins) {
		if (e && e->kind == ERR_OK)
			*e = we;
		return -1;
	}
	free(*filter);
	*filter = NULL;
	free(*version);
	*version = NULL;
	return vi_pc_create_object_filter(s, "Task", task, paths, filter, e);
}

int vi_task_wait(struct vi_session *s, const char *task, int timeout_s,
		 int (*on_update)(void *ud, const struct vi_task_info *info, struct err *e),
		 void *ud, struct vi_task_info *info, struct err *e)
{
	static const char *const paths[] = {"info", NULL};
	struct wait_state w = {.info = info};
	struct vi_pc_handler h = {.on_change = on_info_change, .ud = &w};
	double deadline = now_seconds() + (timeout_s > 0 ? timeout_s : 0);
	char *filter = NULL, *version = NULL;
	struct err ignored;
	int rc = -1;

	if (!task || !*task)
		return err_set(e, ERR_INVALID, "no task given");
	if (vi_pc_create_object_filter(s, "Task", task, paths, &filter, e) < 0)
		return -1;
	for (bool first = true;; first = false) {
		int wait_s = 0; /* the first call returns the current info at once */
		int ended;

		if (!first) {
			double left = deadline - now_seconds();

			if (left <= 0) {
				err_set(e, ERR_TIMEOUT, "task %s still %s after %d s", task,
					info->state ? info->state : "unknown", timeout_s);
				goto out_destroy;
			}
			/* the server wait ends no later than our deadline (at least 1 s) */
			wait_s = version ? (int)ceil(left) : 0;
		}
		w.changed = false;
		if (wait_once(s, task, &filter, &version, wait_s, &h, e) < 0)
			goto out_destroy;
		if (w.gone) {
			err_set(e, ERR_PROTOCOL, "task %s disappeared while waiting for it", task);
			goto out_destroy;
		}
		if (!w.changed)
			continue;
		/* after the reply: the callback may call the server itself */
		if (on_update && on_update(ud, info, e) < 0)
			goto out_destroy;
		ended = task_ended(task, info, e);
		if (ended != 0) {
			rc = ended > 0 ? 0 : -1;
			goto out_destroy;
		}
	}
out_destroy:
	err_clear(&ignored);
	if (filter)
		vi_pc_destroy_filter(s, filter, &ignored);
	free(filter);
	free(version);
	return rc;
}

/* vi/task: TaskInfo, task methods on VMs, AnswerVM, CancelTask and waiting for a task. */
#ifndef VIMON_VI_TASK_H
#define VIMON_VI_TASK_H

#include <stdbool.h>

#include "util/err.h"
#include "vi/session.h"
#include "vi/xml.h"

/* TaskInfo. Strings owned by the struct (NULL when absent); times are
 * seconds since the epoch, 0 when absent. */
struct vi_task_info {
	char *key;
	char *task; /* the Task moref value */
	char *name; /* method name, e.g. "PowerOnVM_Task" */
	char *description_id;
	char *entity_type;
	char *entity;	   /* moref value of the entity */
	char *entity_name; /* as the server sends it (percent-encoded) */
	char *state;	   /* queued, running, success, error */
	bool cancelable;
	bool cancelled;
	double queue_time;
	double start_time;
	double complete_time;
	int progress;	   /* -1 when absent */
	char *error_fault; /* fault type of info.error, e.g. "InvalidState" */
	char *error_msg;   /* localizedMessage of info.error */
};

/* Parses a TaskInfo element into t (zeroed on entry). Release afterwards. */
int vi_task_info_parse(const struct vi_node *n, struct vi_task_info *t, struct err *e);

/* Frees t's strings and zeroes it (t itself is the caller's; NULL is fine). */
void vi_task_info_release(struct vi_task_info *t);

/* Lifecycle methods on a VirtualMachine. The *_Task methods give the new Task
 * moref value in *task_out (NULL on entry, caller frees). ShutdownGuest,
 * RebootGuest and StandbyGuest start no task. */
int vi_vm_power_on(struct vi_session *s, const char *vm, char **task_out, struct err *e);
int vi_vm_power_off(struct vi_session *s, const char *vm, char **task_out, struct err *e);
int vi_vm_reset(struct vi_session *s, const char *vm, char **task_out, struct err *e);
int vi_vm_suspend(struct vi_session *s, const char *vm, char **task_out, struct err *e);
int vi_vm_shutdown_guest(struct vi_session *s, const char *vm, struct err *e);
int vi_vm_reboot_guest(struct vi_session *s, const char *vm, struct err *e);
int vi_vm_standby_guest(struct vi_session *s, const char *vm, struct err *e);

/* AnswerVM(questionId, answerChoice). A wrong id or key is the server's fault. */
int vi_vm_answer(struct vi_session *s, const char *vm, const char *question_id,
		 const char *choice_key, struct err *e);

/* CancelTask. */
int vi_task_cancel(struct vi_session *s, const char *task, struct err *e);

/* Whether info says the task ended: 1 success, -1 error (e set: ERR_TASK with
 * the fault and message of info.error), 0 still queued or running. */
int vi_task_ended(const char *task, const struct vi_task_info *info, struct err *e);

/*
 * Waits for a task to end through a private property collector (created
 * and destroyed here, so the session's other filters are not disturbed and
 * their updates are not mistaken for the task's): a filter on the task's
 * info, WaitForUpdatesEx, not a sleep loop, until timeout_s passes.
 * on_update, when not NULL, sees every new TaskInfo while waiting; returning
 * -1 from it stops the wait with its error (how a caller reacts to a question
 * on the task's entity). On return *info (zeroed on entry) holds the last
 * TaskInfo. Returns 0 when the task succeeded; -1 with ERR_TASK (fault and
 * message of info.error) when it failed, ERR_TIMEOUT when time ran out.
 */
int vi_task_wait(struct vi_session *s, const char *task, int timeout_s,
		 int (*on_update)(void *ud, const struct vi_task_info *info, struct err *e),
		 void *ud, struct vi_task_info *info, struct err *e);

#endif

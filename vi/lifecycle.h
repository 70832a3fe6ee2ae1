/* vi/lifecycle: one lifecycle operation on one VM, with the ESX question algorithm. */
#ifndef VIMON_VI_LIFECYCLE_H
#define VIMON_VI_LIFECYCLE_H

#include <stdbool.h>

#include "util/buf.h"
#include "util/err.h"
#include "vi/question.h"
#include "vi/session.h"
#include "vi/task.h"

enum vi_lc_op {
	VI_LC_POWER_ON,
	VI_LC_POWER_OFF,
	VI_LC_RESET,
	VI_LC_SUSPEND,
	VI_LC_SHUTDOWN_GUEST, /* ShutdownGuest: no task */
	VI_LC_REBOOT_GUEST,   /* RebootGuest: no task */
	VI_LC_STANDBY_GUEST,  /* StandbyGuest: no task */
};

/* Every outcome of vi_lc_run, each distinct. */
enum vi_lc_result {
	VI_LC_DONE,		    /* the task succeeded (guest op: called, and the power
				   * state reached when waiting for it) */
	VI_LC_STARTED,		    /* no_wait: the task was started (or the guest op called) */
	VI_LC_FAILED,		    /* the task ended in error: err has its fault and message */
	VI_LC_BLOCKED,		    /* a question blocks the VM (before start, or while waiting
				   * without auto-answer): question holds it */
	VI_LC_ANSWERED_NOT_STARTED, /* auto-answer: a question pending before the start was
				     * answered; the blocked task continues; op not started */
	VI_LC_OTHER_TASK,	    /* another queued or running task on the VM: other_task */
	VI_LC_CANCELLED,	    /* blocked while waiting without auto-answer; CancelTask done */
	VI_LC_TIMEOUT,		    /* the overall timeout passed while waiting */
	VI_LC_ERROR,		    /* could not talk to the server, bad VM, refused call: err */
};

/* Short stable name of a result ("done", "started", "failed", "blocked",
 * "answered-not-started", "other-task", "cancelled", "timeout", "error"). */
const char *vi_lc_result_name(enum vi_lc_result r);

/* The operation's name as users type it ("power-on", "power-off", "reset",
 * "suspend", "shutdown", "reboot", "standby"). */
const char *vi_lc_op_name(enum vi_lc_op op);

/* Parses a name of vi_lc_op_name() into *op. 0, or -1 when unknown. */
int vi_lc_op_parse(const char *name, enum vi_lc_op *op);

struct vi_lc_opts {
	bool auto_answer;
	bool no_wait;  /* start (or call) and return VI_LC_STARTED */
	int timeout_s; /* overall bound, > 0 */
	/*
	 * Optional: called before any AnswerVM with the question and the choice
	 * the algorithm would send (the default one). It may set *choice_key to
	 * another key of q (borrowed from q), or return -1 to send nothing (the
	 * run then ends VI_LC_BLOCKED with err from the hook: how remediation
	 * enforces its never-twice rule and its choice rules). NULL: the default.
	 * vm is the VM's moref as given to vi_lc_run(). When q has no default
	 * choice, *choice_key is NULL on entry; left NULL, nothing is sent.
	 */
	int (*before_answer)(void *ud, const char *vm, const struct vi_question *q,
			     const char **choice_key, struct err *e);
	void *ud;
};

/* What happened. Strings and the question are owned by the report. */
struct vi_lc_report {
	enum vi_lc_result result;
	char *task;		     /* the task started, or the blocked task answered for */
	char *other_task;	     /* VI_LC_OTHER_TASK: the pending task */
	struct vi_question question; /* the question met (answered or blocking); empty if none */
	char *choice_key;	     /* the choice sent with AnswerVM, NULL when none was sent */
	bool answered;		     /* an AnswerVM was sent and accepted */
	bool cancel_refused;	     /* blocked task not cancelable (e.g. power-on) */
	char message[512];	     /* one human sentence saying what happened */
	struct err err;		     /* VI_LC_FAILED / VI_LC_ERROR / refused cancel: details */
	/* additions */
	char *vm_name;	/* the VM's decoded display name, NULL when unknown */
	bool cancelled; /* a CancelTask was sent and accepted */
};

/* Zeroes r (call before vi_lc_run). */
void vi_lc_report_init(struct vi_lc_report *r);

/* Frees what r holds and zeroes it. NULL is fine. */
void vi_lc_report_release(struct vi_lc_report *r);

/*
 * Runs op on the VM with moref vm, as the ESX driver's "automatic question
 * handling" describes, but watching the task's info and the VM's
 * runtime.question through one property filter (a private collector) with
 * bounded WaitForUpdatesEx calls, so a question raised while the task runs is
 * seen. r (initialised) receives the outcome; r->message is always set.
 * Returns 0 when the operation happened (VI_LC_DONE, VI_LC_STARTED), -1
 * for every other result.
 *
 * Details: pending tasks are the VM's recentTask (ManagedEntity.recentTask)
 * whose info.state is queued or running. Without auto-answer a question met
 * while waiting cancels the task only when info.cancelable says it can be
 * (else cancel_refused, no CancelTask sent). A question is answered at most
 * once per run (its id is remembered before AnswerVM is sent, so a lost
 * reply is not followed by a second AnswerVM); an AnswerVM that failed ends
 * the run VI_LC_ERROR with r->err (outcome possibly unknown), a declined one
 * (before_answer -1, no default choice) VI_LC_BLOCKED. Guest operations:
 * the call, then a wait for poweredOff (shutdown) or suspended (standby);
 * reboot is done once the call is accepted. A timeout leaves the task as it
 * is (not cancelled). o->timeout_s bounds the whole run.
 */
int vi_lc_run(struct vi_session *s, const char *vm, enum vi_lc_op op, const struct vi_lc_opts *o,
	      struct vi_lc_report *r);

/* A VM as vi_lc_lookup_vm() read it. Everything is owned by the struct. */
struct vi_lc_vm {
	char *moref;
	char *name;		     /* decoded display name; NULL when unreadable */
	char *power_state;	     /* "poweredOn", ...; NULL when unreadable */
	struct vi_question question; /* runtime.question; id NULL when none */
	struct vi_task_info *tasks;  /* the VM's recentTask infos, any state */
	size_t ntasks;
};

/*
 * Reads one VM's name, power state, runtime.question and the infos of its
 * recent tasks (ManagedEntity.recentTask) in one filter round on a private
 * collector. out is zeroed on entry; release it with vi_lc_vm_release().
 * -1 with e set (ManagedObjectNotFound when there is no such VM).
 */
int vi_lc_lookup_vm(struct vi_session *s, const char *vm, struct vi_lc_vm *out, struct err *e);

/* Frees what v holds and zeroes it. NULL is fine. */
void vi_lc_vm_release(struct vi_lc_vm *v);

/* The first queued or running task of v, or NULL. Borrowed. */
const struct vi_task_info *vi_lc_get_pending_task(const struct vi_lc_vm *v);

/*
 * The choice of q that name designates: its key, its label, or its summary
 * (also with ESX's "_" mnemonic marks removed: "I Copied It" finds
 * "I _Copied It"). Exact, case-sensitive; key first, then label, then
 * summary. NULL when none. Borrowed from q.
 */
const struct vi_question_choice *vi_lc_find_choice(const struct vi_question *q, const char *name);

/*
 * Appends q for people: `question ID (MSGID): "TEXT"; choices: KEY LABEL
 * "SUMMARY", ... (default marked with *)`. Text from the server is shown
 * with control characters escaped (buf_add_shown). 0, or -1 when b failed.
 */
int vi_lc_describe_question(struct buf *b, const struct vi_question *q);

#endif

/* vi/lifecycle: one lifecycle operation on one VM with the ESX question algorithm. */
#include "vi/lifecycle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "vi/names.h"
#include "vi/pc.h"
#include "vi/task.h"

#define LC_TEXT_MAX ((size_t)8 << 10)

struct op_desc {
	const char *name;   /* as users type it */
	const char *method; /* the vSphere method */
	int (*start)(struct vi_session *s, const char *vm, char **task_out, struct err *e);
	int (*call)(struct vi_session *s, const char *vm, struct err *e);
	const char *target; /* guest op: the power state it leads to; NULL: none to wait for */
};

static const struct op_desc ops[] = {
	[VI_LC_POWER_ON] = {"power-on", "PowerOnVM_Task", vi_vm_power_on, NULL, NULL},
	[VI_LC_POWER_OFF] = {"power-off", "PowerOffVM_Task", vi_vm_power_off, NULL, NULL},
	[VI_LC_RESET] = {"reset", "ResetVM_Task", vi_vm_reset, NULL, NULL},
	[VI_LC_SUSPEND] = {"suspend", "SuspendVM_Task", vi_vm_suspend, NULL, NULL},
	[VI_LC_SHUTDOWN_GUEST] = {"shutdown", "ShutdownGuest", NULL, vi_vm_shutdown_guest,
				  "poweredOff"},
	[VI_LC_REBOOT_GUEST] = {"reboot", "RebootGuest", NULL, vi_vm_reboot_guest, NULL},
	[VI_LC_STANDBY_GUEST] = {"standby", "StandbyGuest", NULL, vi_vm_standby_guest, "suspended"},
};

#define NOPS (sizeof(ops) / sizeof(ops[0]))

static const char *const result_names[] = {
	[VI_LC_DONE] = "done",
	[VI_LC_STARTED] = "started",
	[VI_LC_FAILED] = "failed",
	[VI_LC_BLOCKED] = "blocked",
	[VI_LC_ANSWERED_NOT_STARTED] = "answered-not-started",
	[VI_LC_OTHER_TASK] = "other-task",
	[VI_LC_CANCELLED] = "cancelled",
	[VI_LC_TIMEOUT] = "timeout",
	[VI_LC_ERROR] = "error",
};

const char *vi_lc_result_name(enum vi_lc_result r)
{
	if ((size_t)r >= sizeof(result_names) / sizeof(result_names[0]) || !result_names[r])
		return "unknown";
	return result_names[r];
}

const char *vi_lc_op_name(enum vi_lc_op op)
{
	return (size_t)op < NOPS ? ops[op].name : "unknown";
}

int vi_lc_op_parse(const char *name, enum vi_lc_op *op)
{
	for (size_t i = 0; name && i < NOPS; i++) {
		if (strcmp(ops[i].name, name) == 0) {
			*op = (enum vi_lc_op)i;
			return 0;
		}
	}
	return -1;
}

void vi_lc_report_init(struct vi_lc_report *r)
{
	memset(r, 0, sizeof(*r));
	r->question.default_index = -1;
}

void vi_lc_report_release(struct vi_lc_report *r)
{
	if (!r)
		return;
	free(r->task);
	free(r->other_task);
	free(r->choice_key);
	free(r->vm_name);
	vi_question_release(&r->question);
	vi_lc_report_init(r);
}

void vi_lc_vm_release(struct vi_lc_vm *v)
{
	if (!v)
		return;
	free(v->moref);
	free(v->name);
	free(v->power_state);
	vi_question_release(&v->question);
	for (size_t i = 0; i < v->ntasks; i++)
		vi_task_info_release(&v->tasks[i]);
	free(v->tasks);
	memset(v, 0, sizeof(*v));
	v->question.default_index = -1;
}

static bool task_pending(const struct vi_task_info *t)
{
	return t->state && (strcmp(t->state, "queued") == 0 || strcmp(t->state, "running") == 0);
}

const struct vi_task_info *vi_lc_get_pending_task(const struct vi_lc_vm *v)
{
	for (size_t i = 0; i < v->ntasks; i++) {
		if (task_pending(&v->tasks[i]))
			return &v->tasks[i];
	}
	return NULL;
}

/* s equals summary with its "_" mnemonic marks left out. */
static bool same_without_mnemonics(const char *s, const char *summary)
{
	for (;; summary++) {
		if (*summary == '_')
			continue;
		if (*s != *summary)
			return false;
		if (!*s)
			return true;
		s++;
	}
}

const struct vi_question_choice *vi_lc_find_choice(const struct vi_question *q, const char *name)
{
	size_t i;

	if (!q || !name || !*name)
		return NULL;
	for (i = 0; i < q->nchoices; i++) {
		if (strcmp(q->choices[i].key, name) == 0)
			return &q->choices[i];
	}
	for (i = 0; i < q->nchoices; i++) {
		if (strcmp(q->choices[i].label, name) == 0)
			return &q->choices[i];
	}
	for (i = 0; i < q->nchoices; i++) {
		if (*q->choices[i].summary && (strcmp(q->choices[i].summary, name) == 0 ||
					       same_without_mnemonics(name, q->choices[i].summary)))
			return &q->choices[i];
	}
	return NULL;
}

int vi_lc_describe_question(struct buf *b, const struct vi_question *q)
{
	buf_adds(b, "question ");
	buf_add_shown(b, q->id ? q->id : "?");
	if (q->nmsgs && q->msgs[0].id && *q->msgs[0].id) {
		buf_adds(b, " (");
		buf_add_shown(b, q->msgs[0].id);
		buf_adds(b, ")");
	}
	buf_adds(b, ": \"");
	buf_add_shown(b, q->text ? q->text : "");
	buf_adds(b, "\"; choices:");
	for (size_t i = 0; i < q->nchoices; i++) {
		const struct vi_question_choice *c = &q->choices[i];

		buf_adds(b, i ? ", " : " ");
		if ((int)i == q->default_index)
			buf_adds(b, "*");
		buf_add_shown(b, c->key);
		buf_adds(b, " ");
		buf_add_shown(b, c->label);
		if (*c->summary) {
			buf_adds(b, " \"");
			buf_add_shown(b, c->summary);
			buf_adds(b, "\"");
		}
	}
	if (!q->nchoices)
		buf_adds(b, " none");
	buf_adds(b, q->default_index >= 0 ? " (* default)" : " (no default)");
	return b->failed ? -1 : 0;
}

/* ---- reading a VM and its recent tasks ---------------------------------------------------- */

/* The text of a property value as a new string (NULL value: NULL). */
static int dup_text(const struct vi_node *v, char **out, struct err *e)
{
	free(*out);
	*out = NULL;
	if (!v)
		return 0;
	*out = strdup(v->text);
	return *out ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

/* runtime.question into q: a value is parsed, no value (unset) empties q. */
static int take_question(const struct vi_node *v, struct vi_question *q, struct err *e)
{
	vi_question_release(q);
	if (!v)
		return 0;
	return vi_question_parse(v, q, e);
}

/* The VM's name, decoded from vSphere's percent-encoding. */
static int take_name(const struct vi_node *v, char **out, struct err *e)
{
	struct buf b;

	free(*out);
	*out = NULL;
	if (!v)
		return 0;
	buf_init(&b, LC_TEXT_MAX);
	if (vi_name_percent_decode(&b, v->text) < 0) {
		buf_release(&b);
		return err_set(e, ERR_PROTOCOL, "VM name too long");
	}
	*out = buf_detach(&b, NULL);
	return *out ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

struct lookup {
	struct vi_lc_vm *vm;
	bool seen;
	bool gone;
};

/* Adds or replaces the info of a task in v->tasks. */
static int put_task(struct vi_lc_vm *v, const char *moref, const struct vi_node *val, struct err *e)
{
	struct vi_task_info info = {0};
	size_t i;

	if (!val)
		return 0;
	if (vi_task_info_parse(val, &info, e) < 0)
		return -1;
	for (i = 0; i < v->ntasks; i++) {
		if (v->tasks[i].task && strcmp(v->tasks[i].task, moref) == 0)
			break;
	}
	if (i == v->ntasks) {
		struct vi_task_info *t = realloc(v->tasks, (v->ntasks + 1) * sizeof(*t));

		if (!t) {
			vi_task_info_release(&info);
			return err_set(e, ERR_NOMEM, "out of memory");
		}
		v->tasks = t;
		memset(&v->tasks[v->ntasks++], 0, sizeof(*t));
	}
	vi_task_info_release(&v->tasks[i]);
	v->tasks[i] = info;
	if (!info.task && !(v->tasks[i].task = strdup(moref)))
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

static int on_lookup_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct lookup *l = ud;

	if (strcmp(c->obj_type, "Task") == 0) {
		if (c->kind != VI_OBJ_LEAVE && c->path && strcmp(c->path, "info") == 0)
			return put_task(l->vm, c->moref, c->value, e);
		return 0;
	}
	if (strcmp(c->obj_type, "VirtualMachine") != 0 || strcmp(c->moref, l->vm->moref) != 0)
		return 0;
	if (c->kind == VI_OBJ_LEAVE) {
		l->gone = true;
		return 0;
	}
	l->seen = true;
	if (!c->path)
		return 0;
	if (strcmp(c->path, "name") == 0)
		return take_name(c->value, &l->vm->name, e);
	if (strcmp(c->path, "runtime.powerState") == 0)
		return dup_text(c->value, &l->vm->power_state, e);
	if (strcmp(c->path, "runtime.question") == 0)
		return take_question(c->value, &l->vm->question, e);
	return 0;
}

static int lookup_round(void *ud, struct err *e)
{
	struct lookup *l = ud;

	if (l->gone || !l->seen)
		return err_set_fault(e, ERR_FAULT, "ManagedObjectNotFound", "no VM %s",
				     l->vm->moref);
	return 1;
}

int vi_lc_lookup_vm(struct vi_session *s, const char *vm, struct vi_lc_vm *out, struct err *e)
{
	static const char *const vm_paths[] = {"name", "runtime.powerState", "runtime.question",
					       "recentTask", NULL};
	static const char *const task_paths[] = {"info", NULL};
	static const struct vi_prop_spec specs[] = {
		{.type = "VirtualMachine", .paths = vm_paths},
		{.type = "Task", .paths = task_paths},
	};
	struct vi_watch_obj obj = {.type = "VirtualMachine", .moref = vm, .follow = "recentTask"};
	struct lookup l = {.vm = out};
	struct vi_pc_handler h = {.on_change = on_lookup_change, .ud = &l};
	int rc;

	memset(out, 0, sizeof(*out));
	out->question.default_index = -1;
	if (!vm || !*vm)
		return err_set(e, ERR_INVALID, "no VM given");
	out->moref = strdup(vm);
	if (!out->moref)
		return err_set(e, ERR_NOMEM, "out of memory");
	/* one round: the deadline only bounds a server that never answers */
	rc = vi_pc_watch(s, specs, 2, &obj, 1, vi_now_seconds() + 60, &h, lookup_round, &l, e);
	if (rc > 0)
		rc = err_set(e, ERR_TIMEOUT, "reading VM %s took too long", vm);
	if (rc < 0)
		vi_lc_vm_release(out);
	return rc;
}

/* ---- running an operation ----------------------------------------------------------------- */

struct run {
	struct vi_session *s;
	const char *vm;
	const struct op_desc *op;
	const struct vi_lc_opts *o;
	struct vi_lc_report *r;
	/* what the watch saw */
	struct vi_task_info info;
	bool info_changed;
	bool task_gone;
	bool vm_gone;
	char *power_state;
	struct vi_question q; /* a question not handled yet; id NULL when none */
	char **answered;      /* ids of the questions this run answered */
	size_t nanswered;
};

/* r->message from a format; too long, it is cut on a character boundary and ends in "...". */
static void set_message(struct vi_lc_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_message(struct vi_lc_report *r, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = (size_t)vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	if (n >= sizeof(r->message)) {
		/* cut on a character boundary, and say so */
		size_t end = sizeof(r->message) - 4;

		while (end > 0 && ((unsigned char)r->message[end] & 0xc0) == 0x80)
			end--;
		memcpy(r->message + end, "...", 4);
	}
}

/* "NAME (vm-N)" or "vm-N", shown safely. Caller frees (NULL: out of memory). */
static char *vm_shown(const struct vi_lc_report *r, const char *vm)
{
	struct buf b;

	buf_init(&b, 1024);
	if (r->vm_name) {
		buf_add_shown(&b, r->vm_name);
		buf_addf(&b, " (%s)", vm);
	} else {
		buf_add_shown(&b, vm);
	}
	if (b.failed) {
		buf_reset(&b);
		buf_add_shown(&b, vm);
	}
	return buf_detach(&b, NULL);
}

/* The question for people (see vi_lc_describe_question). Caller frees. */
static char *question_shown(const struct vi_question *q)
{
	struct buf b;

	buf_init(&b, LC_TEXT_MAX);
	vi_lc_describe_question(&b, q);
	return buf_detach(&b, NULL);
}

/* "KEY LABEL "SUMMARY"" of the choice with key in q, shown safely. Caller frees. */
static char *choice_shown(const struct vi_question *q, const char *key)
{
	const struct vi_question_choice *c = vi_lc_find_choice(q, key);
	struct buf b;

	buf_init(&b, 1024);
	buf_add_shown(&b, key);
	if (c) {
		buf_adds(&b, " (");
		buf_add_shown(&b, c->label);
		if (*c->summary) {
			buf_adds(&b, " \"");
			buf_add_shown(&b, c->summary);
			buf_adds(&b, "\"");
		}
		buf_adds(&b, ")");
	}
	return buf_detach(&b, NULL);
}

static int set_str(char **dst, const char *src, struct err *e)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
	return (!src || *dst) ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

/* Moves q into the report as the question met (the report's old one is freed). */
static void keep_question(struct vi_lc_report *r, struct vi_question *q)
{
	vi_question_release(&r->question);
	r->question = *q;
	memset(q, 0, sizeof(*q));
	q->default_index = -1;
}

static bool answered_before(const struct run *u, const char *id)
{
	for (size_t i = 0; i < u->nanswered; i++) {
		if (strcmp(u->answered[i], id) == 0)
			return true;
	}
	return false;
}

/*
 * Answers q (auto-answer): the default choice unless before_answer picks
 * another or refuses. 0 when AnswerVM was accepted (r->choice_key,
 * r->answered set, the id remembered); -1 (r->err set) when nothing was sent;
 * -2 (r->err set) when AnswerVM was sent and failed (or its outcome is
 * unknown).
 */
static int answer(struct run *u, const struct vi_question *q)
{
	const struct vi_question_choice *dflt = vi_question_default(q);
	const char *key = dflt ? dflt->key : NULL;
	struct vi_lc_report *r = u->r;
	char **ids;

	if (u->o->before_answer && u->o->before_answer(u->o->ud, u->vm, q, &key, &r->err) < 0) {
		if (r->err.kind == ERR_OK)
			err_set(&r->err, ERR_QUESTION, "the caller declined to answer");
		return -1;
	}
	if (!key)
		return err_set(&r->err, ERR_QUESTION, "question %s has no default choice", q->id);
	if (!vi_lc_find_choice(q, key) || strcmp(vi_lc_find_choice(q, key)->key, key) != 0)
		return err_set(&r->err, ERR_INVALID, "choice %s is not offered by question %s", key,
			       q->id);
	if (set_str(&r->choice_key, key, &r->err) < 0)
		return -1;
	ids = realloc(u->answered, (u->nanswered + 1) * sizeof(*ids));
	if (!ids)
		return err_set(&r->err, ERR_NOMEM, "out of memory");
	u->answered = ids;
	if (!(u->answered[u->nanswered] = strdup(q->id)))
		return err_set(&r->err, ERR_NOMEM, "out of memory");
	/* remembered before sending: a lost reply is never followed by a second AnswerVM */
	u->nanswered++;
	if (vi_vm_answer(u->s, u->vm, q->id, key, &r->err) < 0)
		return -2;
	r->answered = true;
	return 0;
}

/* The result and -1 (every result but DONE and STARTED). */
static int finish(struct vi_lc_report *r, enum vi_lc_result res)
{
	r->result = res;
	return res == VI_LC_DONE || res == VI_LC_STARTED ? 0 : -1;
}

/* Before the start: a question or another task on the VM ends the run. 1 when
 * the operation may start, else the run's return value (r filled). */
static int precheck(struct run *u)
{
	struct vi_lc_report *r = u->r;
	const struct vi_task_info *pending;
	struct vi_lc_vm v;
	char *who = NULL, *qs = NULL, *cs = NULL;
	int rc = 1;

	if (vi_lc_lookup_vm(u->s, u->vm, &v, &r->err) < 0) {
		set_message(r, "%s of VM %s: %s", u->op->name, u->vm, r->err.msg);
		return finish(r, VI_LC_ERROR);
	}
	if (set_str(&r->vm_name, v.name, &r->err) < 0 || !(who = vm_shown(r, u->vm))) {
		set_message(r, "out of memory");
		rc = finish(r, VI_LC_ERROR);
		goto out_release;
	}
	pending = vi_lc_get_pending_task(&v);
	if (v.question.id) {
		if (pending && set_str(&r->task, pending->task, &r->err) < 0) {
			set_message(r, "out of memory");
			rc = finish(r, VI_LC_ERROR);
			goto out_release;
		}
		qs = question_shown(&v.question);
		if (!u->o->auto_answer) {
			err_set(&r->err, ERR_QUESTION, "%s", qs ? qs : "a question is pending");
			set_message(r,
				    "question %s blocks VM %s%s%s; not starting %s (no "
				    "auto-answer): %s",
				    v.question.id, who, pending ? " and its task " : "",
				    pending ? pending->task : "", u->op->name, qs ? qs : "");
			keep_question(r, &v.question);
			rc = finish(r, VI_LC_BLOCKED);
			goto out_release;
		}
		int a = answer(u, &v.question);

		if (a < 0) {
			bool sent = a == -2;

			set_message(r, "question %s of VM %s %s: %s; not starting %s: %s",
				    v.question.id, who,
				    sent ? "could not be answered" : "not answered", r->err.msg,
				    u->op->name, qs ? qs : "");
			keep_question(r, &v.question);
			rc = finish(r, sent ? VI_LC_ERROR : VI_LC_BLOCKED);
			goto out_release;
		}
		cs = choice_shown(&v.question, r->choice_key);
		set_message(r,
			    "answered question %s of VM %s with choice %s; %s%s%s; not starting %s",
			    v.question.id, who, cs ? cs : r->choice_key,
			    pending ? "the blocked task " : "no task is listed as blocked",
			    pending ? pending->task : "", pending ? " continues" : "", u->op->name);
		keep_question(r, &v.question);
		rc = finish(r, VI_LC_ANSWERED_NOT_STARTED);
		goto out_release;
	}
	if (pending) {
		if (set_str(&r->other_task, pending->task, &r->err) < 0) {
			set_message(r, "out of memory");
			rc = finish(r, VI_LC_ERROR);
			goto out_release;
		}
		err_set(&r->err, ERR_INVALID, "task %s (%s) is %s on VM %s", pending->task,
			pending->name ? pending->name : "?", pending->state, u->vm);
		set_message(r, "task %s (%s, %s) is pending on VM %s; not starting %s",
			    pending->task, pending->name ? pending->name : "?", pending->state, who,
			    u->op->name);
		rc = finish(r, VI_LC_OTHER_TASK);
		goto out_release;
	}
out_release:
	free(who);
	free(qs);
	free(cs);
	vi_lc_vm_release(&v);
	return rc;
}

static int on_run_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct run *u = ud;

	if (strcmp(c->obj_type, "Task") == 0) {
		struct vi_task_info next = {0};

		if (!u->r->task || strcmp(c->moref, u->r->task) != 0)
			return 0;
		if (c->kind == VI_OBJ_LEAVE) {
			u->task_gone = true;
			return 0;
		}
		if (!c->path || strcmp(c->path, "info") != 0 || !c->value)
			return 0;
		if (vi_task_info_parse(c->value, &next, e) < 0)
			return -1;
		vi_task_info_release(&u->info);
		u->info = next;
		u->info_changed = true;
		return 0;
	}
	if (strcmp(c->obj_type, "VirtualMachine") != 0 || strcmp(c->moref, u->vm) != 0)
		return 0;
	if (c->kind == VI_OBJ_LEAVE) {
		u->vm_gone = true;
		return 0;
	}
	if (!c->path)
		return 0;
	if (strcmp(c->path, "runtime.powerState") == 0)
		return dup_text(c->value, &u->power_state, e);
	if (strcmp(c->path, "runtime.question") == 0)
		return take_question(c->value, &u->q, e);
	return 0;
}

/* A question met while waiting: answered (0, keep waiting) or the end of the
 * run (1, r filled). */
static int question_while_waiting(struct run *u, const char *who)
{
	struct vi_lc_report *r = u->r;
	const char *task = r->task;
	char *qs = question_shown(&u->q);
	int rc = 1;

	if (u->o->auto_answer) {
		int a = answer(u, &u->q);

		if (a == 0) {
			keep_question(r, &u->q);
			free(qs);
			return 0;
		}
		set_message(r, "%s of VM %s: question %s %s: %s%s%s: %s", u->op->name, who, u->q.id,
			    a == -2 ? "could not be answered" : "not answered", r->err.msg,
			    task ? "; task stays blocked: " : "", task ? task : "", qs ? qs : "");
		r->result = a == -2 ? VI_LC_ERROR : VI_LC_BLOCKED;
		goto out;
	}
	err_set(&r->err, ERR_QUESTION, "%s", qs ? qs : "a question blocks the VM");
	if (!task) {
		set_message(r, "%s of VM %s: question %s blocks the VM (no auto-answer): %s",
			    u->op->name, who, u->q.id, qs ? qs : "");
		r->result = VI_LC_BLOCKED;
	} else if (!u->info.cancelable) {
		r->cancel_refused = true;
		set_message(
			r,
			"%s of VM %s: question %s blocks task %s (no auto-answer); task %s cannot "
			"be cancelled and stays blocked until the question is answered: %s",
			u->op->name, who, u->q.id, task, task, qs ? qs : "");
		r->result = VI_LC_BLOCKED;
	} else {
		struct err ce;

		err_clear(&ce);
		if (vi_task_cancel(u->s, task, &ce) == 0) {
			r->cancelled = true;
			set_message(r,
				    "%s of VM %s: question %s blocked task %s (no auto-answer); "
				    "cancelled %s: %s",
				    u->op->name, who, u->q.id, task, task, qs ? qs : "");
			r->result = VI_LC_CANCELLED;
		} else {
			set_message(r,
				    "%s of VM %s: question %s blocks task %s (no auto-answer); "
				    "cancelling it failed: %s: %s",
				    u->op->name, who, u->q.id, task, ce.msg, qs ? qs : "");
			r->result = VI_LC_BLOCKED;
		}
	}
out:
	keep_question(r, &u->q);
	free(qs);
	return rc;
}

/* After each reply of the watch: 1 when the run ended (r filled), 0 to wait on. */
static int run_round(void *ud, struct err *e)
{
	struct run *u = ud;
	struct vi_lc_report *r = u->r;
	char *who = vm_shown(r, u->vm);
	int rc = 1, ended = 0;
	struct err te;

	(void)e;
	if (!who) {
		set_message(r, "out of memory");
		r->result = VI_LC_ERROR;
		return 1;
	}
	err_clear(&te);
	if (r->task) {
		if (u->task_gone) {
			err_set(&r->err, ERR_PROTOCOL, "task %s disappeared", r->task);
			set_message(r, "%s of VM %s: task %s disappeared while waiting for it",
				    u->op->name, who, r->task);
			r->result = VI_LC_ERROR;
			goto out;
		}
		ended = vi_task_ended(r->task, &u->info, &te);
	}
	if (ended > 0 ||
	    (!r->task &&
	     (!u->op->target || (u->power_state && strcmp(u->power_state, u->op->target) == 0)))) {
		char *cs = r->answered ? choice_shown(&r->question, r->choice_key) : NULL;

		if (r->task)
			set_message(r, "%s of VM %s: task %s succeeded%s%s%s%s", u->op->name, who,
				    r->task, cs ? "; answered question " : "",
				    cs ? r->question.id : "", cs ? " on the way with choice " : "",
				    cs ? cs : "");
		else
			set_message(r, "%s of VM %s: %s done%s%s", u->op->name, who, u->op->method,
				    u->op->target ? ", the VM is " : "",
				    u->op->target ? u->op->target : "");
		free(cs);
		r->result = VI_LC_DONE;
		goto out;
	}
	if (ended < 0) {
		err_copy(&r->err, &te);
		set_message(r, "%s of VM %s: %s", u->op->name, who, te.msg);
		r->result = VI_LC_FAILED;
		goto out;
	}
	if (u->vm_gone) {
		err_set_fault(&r->err, ERR_FAULT, "ManagedObjectNotFound", "VM %s is gone", u->vm);
		set_message(r, "%s of VM %s: the VM disappeared", u->op->name, who);
		r->result = VI_LC_ERROR;
		goto out;
	}
	if (u->q.id && !answered_before(u, u->q.id)) {
		rc = question_while_waiting(u, who);
		goto out;
	}
	rc = 0;
out:
	free(who);
	return rc;
}

int vi_lc_run(struct vi_session *s, const char *vm, enum vi_lc_op op, const struct vi_lc_opts *o,
	      struct vi_lc_report *r)
{
	static const char *const vm_paths[] = {"runtime.powerState", "runtime.question", NULL};
	static const char *const task_paths[] = {"info", NULL};
	static const struct vi_prop_spec specs[] = {
		{.type = "VirtualMachine", .paths = vm_paths},
		{.type = "Task", .paths = task_paths},
	};
	struct run u = {.s = s, .vm = vm, .o = o, .r = r};
	struct vi_pc_handler h = {.on_change = on_run_change, .ud = &u};
	struct vi_watch_obj objs[2];
	size_t nobjs = 0;
	double deadline;
	char *who = NULL;
	int rc, w;

	u.q.default_index = -1;
	if ((size_t)op >= NOPS || !vm || !*vm || !o || o->timeout_s <= 0) {
		err_set(&r->err, ERR_INVALID, "vi_lc_run: bad operation, VM or options");
		set_message(r, "%s", r->err.msg);
		return finish(r, VI_LC_ERROR);
	}
	u.op = &ops[op];
	deadline = vi_now_seconds() + o->timeout_s;
	rc = precheck(&u);
	if (rc <= 0)
		goto out_free;
	who = vm_shown(r, vm);
	if (!who) {
		set_message(r, "out of memory");
		rc = finish(r, VI_LC_ERROR);
		goto out_free;
	}
	if (u.op->start ? u.op->start(s, vm, &r->task, &r->err) < 0
			: u.op->call(s, vm, &r->err) < 0) {
		set_message(r, "%s of VM %s: %s refused%s%s%s: %s", u.op->name, who, u.op->method,
			    r->err.fault[0] ? " (" : "", r->err.fault, r->err.fault[0] ? ")" : "",
			    r->err.msg);
		rc = finish(r, VI_LC_ERROR);
		goto out_free;
	}
	if (o->no_wait) {
		if (r->task)
			set_message(r, "%s of VM %s: task %s started (not waiting)", u.op->name,
				    who, r->task);
		else
			set_message(r, "%s of VM %s: %s sent (not waiting)", u.op->name, who,
				    u.op->method);
		rc = finish(r, VI_LC_STARTED);
		goto out_free;
	}
	if (r->task)
		objs[nobjs++] = (struct vi_watch_obj){.type = "Task", .moref = r->task};
	objs[nobjs++] = (struct vi_watch_obj){.type = "VirtualMachine", .moref = vm};
	r->result = VI_LC_ERROR;
	w = vi_pc_watch(s, specs, 2, objs, nobjs, deadline, &h, run_round, &u, &r->err);
	if (w > 0) {
		if (r->task)
			set_message(r, "%s of VM %s: task %s still %s after %d s", u.op->name, who,
				    r->task, u.info.state ? u.info.state : "unknown", o->timeout_s);
		else
			set_message(r,
				    "%s of VM %s: the VM is still %s after %d s (waiting for %s)",
				    u.op->name, who, u.power_state ? u.power_state : "unknown",
				    o->timeout_s, u.op->target);
		err_set(&r->err, ERR_TIMEOUT, "%s", r->message);
		rc = finish(r, VI_LC_TIMEOUT);
	} else if (w < 0) {
		set_message(r, "%s of VM %s: %s", u.op->name, who, r->err.msg);
		rc = finish(r, VI_LC_ERROR);
	} else {
		rc = finish(r, r->result);
	}
out_free:
	free(who);
	vi_task_info_release(&u.info);
	vi_question_release(&u.q);
	free(u.power_state);
	for (size_t i = 0; i < u.nanswered; i++)
		free(u.answered[i]);
	free(u.answered);
	if (!r->message[0])
		set_message(r, "%s: %s", vi_lc_result_name(r->result), r->err.msg);
	return rc;
}

/* ctl/cmd: vimonctl's commands (questions, answer, lifecycle operations, tasks, cancel). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/render.h"
#include "ctl/ctl.h"
#include "vi/lifecycle.h"
#include "vi/pc.h"
#include "vi/task.h"

#define DEFAULT_TIMEOUT_S 300

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "-", "42s", "3m07s", "5h02m", "2d03h". */
static void add_age(struct buf *b, double seconds)
{
	long s = (long)seconds;

	if (seconds < 0)
		buf_adds(b, "-");
	else if (s < 60)
		buf_addf(b, "%lds", s);
	else if (s < 3600)
		buf_addf(b, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		buf_addf(b, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	else
		buf_addf(b, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
}

/* Seconds since the oldest pending task of v was queued, or -1 without one:
 * vCenter does not say when a question was asked, but the task it blocks
 * says when it was queued. */
static double question_age(const struct vi_lc_vm *v, double now, const char **task)
{
	double oldest = 0;

	*task = NULL;
	for (size_t i = 0; i < v->ntasks; i++) {
		const struct vi_task_info *t = &v->tasks[i];

		if (!t->state ||
		    (strcmp(t->state, "queued") != 0 && strcmp(t->state, "running") != 0))
			continue;
		if (t->queue_time > 0 && (!*task || t->queue_time < oldest)) {
			oldest = t->queue_time;
			*task = t->task;
		}
	}
	return *task ? (now > oldest ? now - oldest : 0) : -1;
}

/* ---- table output ---- */

#define QCOLS 8

struct table {
	struct buf *cells; /* rows * cols */
	size_t rows, cols;
};

static struct buf *cell(struct table *t, size_t row, size_t col)
{
	return &t->cells[row * t->cols + col];
}

static int table_add_row(struct table *t)
{
	struct buf *c = realloc(t->cells, (t->rows + 1) * t->cols * sizeof(*c));

	if (!c)
		return -1;
	t->cells = c;
	for (size_t i = 0; i < t->cols; i++)
		buf_init(&c[t->rows * t->cols + i], 0);
	t->rows++;
	return 0;
}

/* Characters in a cell (UTF-8 continuation bytes not counted). */
static size_t cell_width(const struct buf *b)
{
	size_t n = 0;

	for (size_t i = 0; i < b->len; i++)
		n += ((unsigned char)b->data[i] & 0xc0) != 0x80;
	return n;
}

/* Prints the rows, every column but the last padded to its widest cell. */
static void table_print(struct table *t)
{
	size_t w[16] = {0};

	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c + 1 < t->cols; c++)
			if (cell_width(cell(t, r, c)) > w[c])
				w[c] = cell_width(cell(t, r, c));
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->cols; c++) {
			fputs(cell(t, r, c)->data, stdout);
			if (c + 1 == t->cols) {
				fputc('\n', stdout);
				continue;
			}
			for (size_t k = cell_width(cell(t, r, c)); k < w[c] + 2; k++)
				fputc(' ', stdout);
		}
	}
}

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->rows * t->cols; i++)
		buf_release(&t->cells[i]);
	free(t->cells);
}

/* ---- questions ---- */

static json_t *question_json(const char *target, const struct vi_lc_vm *v, double age,
			     const char *task)
{
	const struct vi_question *q = &v->question;
	const struct vi_question_choice *d = vi_question_default(q);
	json_t *o = json_object(), *ids = json_array(), *choices = json_array();
	json_t *blocked = json_array();

	if (!o || !ids || !choices || !blocked)
		goto out_fail;
	json_object_set_new(o, "target", render_json_string(target));
	json_object_set_new(o, "vm", render_json_string(v->name));
	json_object_set_new(o, "vm_id", render_json_string(v->moref));
	json_object_set_new(o, "id", render_json_string(q->id));
	json_object_set_new(o, "message_id",
			    q->nmsgs ? render_json_string(q->msgs[0].id) : json_null());
	for (size_t i = 0; i < q->nmsgs; i++)
		json_array_append_new(ids, render_json_string(q->msgs[i].id));
	json_object_set_new(o, "message_ids", ids);
	json_object_set_new(o, "text", render_json_string(q->text));
	for (size_t i = 0; i < q->nchoices; i++)
		json_array_append_new(choices,
				      json_pack("{s:o,s:o,s:o,s:b}", "key",
						render_json_string(q->choices[i].key), "label",
						render_json_string(q->choices[i].label), "summary",
						render_json_string(q->choices[i].summary),
						"default", (int)i == q->default_index));
	json_object_set_new(o, "choices", choices);
	json_object_set_new(o, "default", d ? render_json_string(d->key) : json_null());
	for (size_t i = 0; i < v->ntasks; i++) {
		const char *st = v->tasks[i].state;

		if (st && (strcmp(st, "queued") == 0 || strcmp(st, "running") == 0))
			json_array_append_new(blocked, render_json_string(v->tasks[i].task));
	}
	json_object_set_new(o, "blocked_tasks", blocked);
	/* vCenter does not give the question's creation time: the age is the blocked
	 * task's, and says so */
	json_object_set_new(o, "age_seconds", age >= 0 ? json_real(age) : json_null());
	json_object_set_new(o, "age_from",
			    task ? json_pack("{s:s,s:o}", "kind", "task_queue_time", "task",
					     render_json_string(task))
				 : json_null());
	return o;
out_fail:
	json_decref(o);
	json_decref(ids);
	json_decref(choices);
	json_decref(blocked);
	return NULL;
}

static void question_row(struct table *t, const char *target, const struct vi_lc_vm *v, double age)
{
	const struct vi_question *q = &v->question;
	size_t r = t->rows - 1;

	buf_add_shown(cell(t, r, 0), target);
	buf_add_shown(cell(t, r, 1), v->name ? v->name : "?");
	buf_add_shown(cell(t, r, 2), v->moref);
	buf_add_shown(cell(t, r, 3), q->id);
	buf_add_shown(cell(t, r, 4), q->nmsgs ? q->msgs[0].id : "-");
	add_age(cell(t, r, 5), age);
	buf_add_shown(cell(t, r, 6), q->text);
	for (size_t i = 0; i < q->nchoices; i++) {
		struct buf *b = cell(t, r, 7);

		buf_adds(b, i ? ", " : "");
		if ((int)i == q->default_index)
			buf_adds(b, "*");
		buf_add_shown(b, q->choices[i].key);
		buf_adds(b, " ");
		buf_add_shown(b, q->choices[i].label);
		if (*q->choices[i].summary) {
			buf_adds(b, " \"");
			buf_add_shown(b, q->choices[i].summary);
			buf_adds(b, "\"");
		}
	}
}

int ctl_cmd_questions(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
						 {NULL, 0, NULL, 0}};
	static const char *const head[QCOLS] = {"TARGET",  "VM",  "VM_ID", "QUESTION",
						"MESSAGE", "AGE", "TEXT",  "CHOICES"};
	struct table t = {.cols = QCOLS};
	struct ctl_vm *vms = NULL;
	json_t *arr = NULL;
	size_t n = 0;
	bool json = false;
	double now = wall_now();
	struct err e;
	int opt, rc = CTL_OK;

	optind = 0; /* 0: GNU getopt starts over (permuting again) */
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt != 'j')
			return CTL_USAGE;
		json = true;
	}
	if (optind != argc)
		return ctl_fail(CTL_USAGE, "questions: unexpected argument \"%s\"", argv[optind]);
	if (!c->s)
		return CTL_OK;
	err_clear(&e);
	if (ctl_list_vms(c, true, &vms, &n, &e) < 0)
		return ctl_fail(ctl_exit_for(&e), "listing questions on %s: %s", c->target, e.msg);
	if (json)
		arr = json_array();
	else if (table_add_row(&t) == 0)
		for (size_t i = 0; i < QCOLS; i++)
			buf_adds(cell(&t, 0, i), head[i]);
	for (size_t i = 0; i < n; i++) {
		struct vi_lc_vm v;
		const char *task;
		double age;

		err_clear(&e);
		if (vi_lc_lookup_vm(c->s, vms[i].moref, &v, &e) < 0) {
			/* gone since the listing: nothing to show */
			if (err_is_fault(&e, "ManagedObjectNotFound"))
				continue;
			rc = ctl_fail(ctl_exit_for(&e), "reading %s: %s", vms[i].moref, e.msg);
			break;
		}
		if (v.question.id) {
			age = question_age(&v, now, &task);
			if (json)
				json_array_append_new(arr, question_json(c->target, &v, age, task));
			else if (table_add_row(&t) == 0)
				question_row(&t, c->target, &v, age);
		}
		vi_lc_vm_release(&v);
	}
	if (rc == CTL_OK) {
		if (json) {
			char *text = json_dumps(arr, JSON_INDENT(2));

			if (text)
				printf("%s\n", text);
			free(text);
		} else {
			table_print(&t);
		}
	}
	json_decref(arr);
	table_release(&t);
	ctl_vms_free(vms, n);
	return rc;
}

/* ---- answer ---- */

/* "0 (button.uuid.cancel "Cancel"), 1 (...)" */
static void add_offered(struct buf *b, const struct vi_question *q)
{
	for (size_t i = 0; i < q->nchoices; i++) {
		buf_adds(b, i ? ", " : "");
		buf_add_shown(b, q->choices[i].key);
		buf_adds(b, " (");
		buf_add_shown(b, q->choices[i].label);
		if (*q->choices[i].summary) {
			buf_adds(b, " \"");
			buf_add_shown(b, q->choices[i].summary);
			buf_adds(b, "\"");
		}
		buf_adds(b, ")");
	}
}

int ctl_cmd_answer(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {{"choice", required_argument, NULL, 'c'},
						 {"default", no_argument, NULL, 'd'},
						 {"question", required_argument, NULL, 'q'},
						 {NULL, 0, NULL, 0}};
	const char *choice = NULL, *qid = NULL;
	const struct vi_question_choice *ch;
	bool dflt = false;
	char *vm = NULL;
	struct vi_lc_vm v = {0};
	struct buf b;
	struct err e;
	int opt, rc;

	optind = 0; /* 0: GNU getopt starts over (permuting again) */
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': choice = optarg; break;
		case 'd': dflt = true; break;
		case 'q': qid = optarg; break;
		default: return CTL_USAGE;
		}
	}
	if (optind + 1 != argc)
		return ctl_fail(CTL_USAGE, "answer: give one VM");
	if (!choice == !dflt)
		return ctl_fail(CTL_USAGE, "answer: give either --choice or --default");
	if (!c->s)
		return CTL_OK;
	rc = ctl_resolve_vm(c, argv[optind], &vm);
	if (rc != CTL_OK)
		return rc;
	buf_init(&b, 0);
	err_clear(&e);
	if (vi_lc_lookup_vm(c->s, vm, &v, &e) < 0) {
		rc = ctl_fail(ctl_exit_for(&e), "reading %s: %s", vm, e.msg);
		goto out_release;
	}
	ctl_add_name(&b, v.name);
	if (!v.question.id) {
		rc = ctl_fail(CTL_NOT_DONE, "VM %s (%s) has no pending question", b.data, vm);
		goto out_release;
	}
	if (qid && strcmp(qid, v.question.id) != 0) {
		rc = ctl_fail(
			CTL_NOT_DONE,
			"question %s is not pending on VM %s (%s); question %s is: nothing sent",
			qid, b.data, vm, v.question.id);
		goto out_release;
	}
	ch = dflt ? vi_question_default(&v.question) : vi_lc_find_choice(&v.question, choice);
	if (!ch) {
		buf_reset(&b);
		add_offered(&b, &v.question);
		if (dflt)
			rc = ctl_fail(
				CTL_NOT_DONE,
				"question %s has no default choice; offered: %s; nothing sent",
				v.question.id, b.data);
		else
			rc = ctl_fail(CTL_NOT_DONE,
				      "\"%s\" is not a choice of question %s; offered: %s; nothing "
				      "sent",
				      choice, v.question.id, b.data);
		goto out_release;
	}
	err_clear(&e);
	if (vi_vm_answer(c->s, vm, v.question.id, ch->key, &e) < 0) {
		rc = ctl_fail(ctl_exit_for(&e), "AnswerVM on %s: %s", vm, e.msg);
		goto out_release;
	}
	{
		struct buf m;

		buf_init(&m, 0);
		buf_adds(&m, "answered question ");
		buf_add_shown(&m, v.question.id);
		buf_addf(&m, " of VM %s (%s) with choice ", b.data, vm);
		buf_add_shown(&m, ch->key);
		buf_adds(&m, " (");
		buf_add_shown(&m, ch->label);
		if (*ch->summary) {
			buf_adds(&m, " \"");
			buf_add_shown(&m, ch->summary);
			buf_adds(&m, "\"");
		}
		buf_adds(&m, ")");
		printf("%s\n", m.data);
		buf_release(&m);
	}
	rc = CTL_OK;
out_release:
	vi_lc_vm_release(&v);
	buf_release(&b);
	free(vm);
	return rc;
}

/* ---- power-on, power-off, reset, suspend, shutdown, reboot, standby ---- */

int ctl_cmd_lifecycle(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {{"auto-answer", no_argument, NULL, 'a'},
						 {"timeout", required_argument, NULL, 't'},
						 {"no-wait", no_argument, NULL, 'n'},
						 {NULL, 0, NULL, 0}};
	struct vi_lc_opts o = {.timeout_s = DEFAULT_TIMEOUT_S};
	struct vi_lc_report r;
	enum vi_lc_op op;
	char *vm = NULL, *end;
	long t;
	int opt, rc;

	if (vi_lc_op_parse(argv[0], &op) < 0)
		return ctl_fail(CTL_USAGE, "unknown command \"%s\"", argv[0]);
	optind = 0; /* 0: GNU getopt starts over (permuting again) */
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a': o.auto_answer = true; break;
		case 'n': o.no_wait = true; break;
		case 't':
			t = strtol(optarg, &end, 10);
			if (*end || end == optarg || t < 1 || t > 86400)
				return ctl_fail(CTL_USAGE,
						"--timeout: 1 to 86400 seconds, not \"%s\"",
						optarg);
			o.timeout_s = (int)t;
			break;
		default: return CTL_USAGE;
		}
	}
	if (optind + 1 != argc)
		return ctl_fail(CTL_USAGE, "%s: give one VM", argv[0]);
	if (!c->s)
		return CTL_OK;
	rc = ctl_resolve_vm(c, argv[optind], &vm);
	if (rc != CTL_OK)
		return rc;
	vi_lc_report_init(&r);
	if (vi_lc_run(c->s, vm, op, &o, &r) == 0) {
		struct buf m;

		/* it holds the server's ids (question, task): shown safely */
		buf_init(&m, 0);
		buf_add_shown(&m, r.message);
		printf("%s\n", m.data ? m.data : "");
		buf_release(&m);
		rc = CTL_OK;
	} else {
		rc = ctl_fail(r.result == VI_LC_ERROR ? ctl_exit_for(&r.err) : CTL_NOT_DONE,
			      "%s: %s", vi_lc_result_name(r.result), r.message);
	}
	vi_lc_report_release(&r);
	free(vm);
	return rc;
}

/* ---- tasks ---- */

struct task_list {
	struct vi_task_info *t;
	size_t n;
};

static int on_task_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct task_list *l = ud;
	struct vi_task_info *t;

	if (strcmp(c->obj_type, "Task") != 0 || c->kind == VI_OBJ_LEAVE || !c->path ||
	    strcmp(c->path, "info") != 0 || !c->value)
		return 0;
	t = realloc(l->t, (l->n + 1) * sizeof(*t));
	if (!t)
		return err_set(e, ERR_NOMEM, "out of memory");
	l->t = t;
	memset(&t[l->n], 0, sizeof(*t));
	if (vi_task_info_parse(c->value, &t[l->n], e) < 0)
		return -1;
	l->n++;
	return 0;
}

static int one_round(void *ud, struct err *e)
{
	(void)ud;
	(void)e;
	return 1;
}

static int by_queue_time(const void *a, const void *b)
{
	const struct vi_task_info *x = a, *y = b;

	return x->queue_time < y->queue_time ? -1 : x->queue_time > y->queue_time;
}

int ctl_cmd_tasks(struct ctl *c, int argc, char **argv)
{
	static const char *const tm_paths[] = {"recentTask", NULL};
	static const char *const task_paths[] = {"info", NULL};
	static const struct vi_prop_spec specs[] = {
		{.type = "TaskManager", .paths = tm_paths},
		{.type = "Task", .paths = task_paths},
	};
	static const char *const head[] = {"TASK",  "NAME",   "VM",	"VM_ID",
					   "STATE", "CANCEL", "QUEUED", "ERROR"};
	const struct vi_service_content *sc;
	struct vi_watch_obj obj = {.type = "TaskManager", .follow = "recentTask"};
	struct vi_pc_handler h = {.on_change = on_task_change};
	struct task_list l = {0};
	struct table tb = {.cols = 8};
	double now = wall_now();
	char *vm = NULL;
	struct err e;
	int rc = CTL_OK;

	optind = 0; /* 0: GNU getopt starts over (permuting again) */
	if (getopt_long(argc, argv, "", (const struct option[]){{NULL, 0, NULL, 0}}, NULL) != -1)
		return CTL_USAGE;
	if (argc - optind > 1)
		return ctl_fail(CTL_USAGE, "tasks: at most one VM");
	if (!c->s)
		return CTL_OK;
	sc = vi_get_service_content(c->s);
	if (argc - optind == 1 && (rc = ctl_resolve_vm(c, argv[optind], &vm)) != CTL_OK)
		return rc;
	if (!sc || !sc->task_manager) {
		free(vm);
		return ctl_fail(CTL_NOT_DONE, "%s has no TaskManager", c->target);
	}
	obj.moref = sc->task_manager;
	h.ud = &l;
	err_clear(&e);
	if (vi_pc_watch(c->s, specs, 2, &obj, 1, vi_now_seconds() + 60, &h, one_round, NULL, &e) !=
	    0) {
		rc = ctl_fail(ctl_exit_for(&e), "reading the recent tasks of %s: %s", c->target,
			      e.kind ? e.msg : "no reply");
		goto out_release;
	}
	qsort(l.t, l.n, sizeof(*l.t), by_queue_time);
	table_add_row(&tb);
	for (size_t i = 0; i < 8; i++)
		buf_adds(cell(&tb, 0, i), head[i]);
	for (size_t i = 0; i < l.n; i++) {
		const struct vi_task_info *t = &l.t[i];
		size_t r;

		if (vm && (!t->entity || strcmp(t->entity, vm) != 0))
			continue;
		if (table_add_row(&tb) < 0)
			break;
		r = tb.rows - 1;
		buf_add_shown(cell(&tb, r, 0), t->task ? t->task : "?");
		buf_add_shown(cell(&tb, r, 1), t->name ? t->name : "?");
		ctl_add_name(cell(&tb, r, 2), t->entity_name ? t->entity_name : "-");
		buf_add_shown(cell(&tb, r, 3), t->entity ? t->entity : "-");
		buf_add_shown(cell(&tb, r, 4), t->state ? t->state : "?");
		buf_adds(cell(&tb, r, 5), t->cancelable ? "yes" : "no");
		add_age(cell(&tb, r, 6), t->queue_time > 0 ? now - t->queue_time : -1);
		if (t->queue_time > 0)
			buf_adds(cell(&tb, r, 6), " ago");
		if (t->error_fault || t->error_msg) {
			buf_add_shown(cell(&tb, r, 7), t->error_fault ? t->error_fault : "");
			buf_adds(cell(&tb, r, 7), ": ");
			buf_add_shown(cell(&tb, r, 7), t->error_msg ? t->error_msg : "");
		} else {
			buf_adds(cell(&tb, r, 7), "-");
		}
	}
	table_print(&tb);
out_release:
	for (size_t i = 0; i < l.n; i++)
		vi_task_info_release(&l.t[i]);
	free(l.t);
	table_release(&tb);
	free(vm);
	return rc;
}

/* ---- cancel ---- */

int ctl_cmd_cancel(struct ctl *c, int argc, char **argv)
{
	struct err e;
	const char *task;
	struct buf b;

	optind = 0; /* 0: GNU getopt starts over (permuting again) */
	if (getopt_long(argc, argv, "", (const struct option[]){{NULL, 0, NULL, 0}}, NULL) != -1)
		return CTL_USAGE;
	if (optind + 1 != argc || !*argv[optind])
		return ctl_fail(CTL_USAGE, "cancel: give one task moref (task-N)");
	if (!c->s)
		return CTL_OK;
	task = argv[optind];
	err_clear(&e);
	if (vi_task_cancel(c->s, task, &e) < 0)
		return ctl_fail(ctl_exit_for(&e), "cancelling %s: %s", task, e.msg);
	buf_init(&b, 0);
	buf_add_shown(&b, task);
	printf("cancelled task %s\n", b.data);
	buf_release(&b);
	return CTL_OK;
}

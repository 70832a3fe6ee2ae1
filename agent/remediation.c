/* agent/remediation: the remediation module: rules applied by its own thread, audit, never-twice, rate limit, metrics. */
#include "agent/remediation.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/rem_internal.h"
#include "agent/render.h"
#include "util/buf.h"
#include "vi/task.h"

#define REM_TICK_MS	  1000
#define REM_RING	  200		 /* decisions kept for /api/v1/remediation */
#define REM_STATE_MAX_AGE (90.0 * 86400) /* never-twice entries older than this are forgotten */
#define REM_ERROR_RETRY_S 60		 /* a rule decision that failed to reach vCenter */
#define REM_TEXT_MAX	  4096		 /* bytes of question text kept in a decision */
#define REM_SNAPS	  64
#define REM_FAMILY	  "vsphere_remediation_actions_total"
#define REM_HELP                                                                                   \
	"Remediation decisions (rules and HTTP actions) by target, action (answer, cancel, "       \
	"report, power) and result."

double rem_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool stopping(const struct remediation *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) != 0;
}

/* Aborts calls in flight once stopping; the final logouts get a short grace. */
static int should_abort(void *ud)
{
	struct remediation *r = ud;

	if (!stopping(r))
		return 0;
	return r->logout_at == 0 || vi_now_seconds() >= r->logout_at;
}

bool remediation_wanted(const struct conf *c)
{
	return c->remediation.enabled || c->api_token;
}

/* ---- metrics ---- */

/* Publishes the counters as a snapshot holding one family. Called with the lock held. */
static void publish(struct remediation *r)
{
	struct snapshot *s = snapshot_new();
	struct buf b;

	if (!s)
		return;
	/* metrics only: no target object, or the JSON API, the page and
	 * check_vsphere would list a nameless target that is never up */
	json_decref(s->target);
	s->target = NULL;
	buf_init(&b, 0);
	for (const struct rem_counter *c = r->counters; c; c = c->next) {
		buf_adds(&b, REM_FAMILY "{target=\"");
		buf_add_label(&b, c->target);
		buf_adds(&b, "\",action=\"");
		buf_add_label(&b, c->action);
		buf_adds(&b, "\",result=\"");
		buf_add_label(&b, c->result);
		buf_addf(&b, "\"} %lu\n", c->n);
	}
	if (b.failed ||
	    snapshot_add_family(s, REM_FAMILY, REM_HELP, "counter", b.data, b.len) < 0) {
		buf_release(&b);
		snapshot_put(s);
		return;
	}
	buf_release(&b);
	s->generation = ++r->generation;
	snapshot_slot_swap(r->slot, s);
}

/* Counts one decision. Called with the lock held. */
static void count(struct remediation *r, const char *target, const char *action, const char *result)
{
	struct rem_counter **p = &r->counters, *c;

	for (; *p; p = &(*p)->next) {
		c = *p;
		if (strcmp(c->target, target) == 0 && strcmp(c->action, action) == 0 &&
		    strcmp(c->result, result) == 0) {
			c->n++;
			return;
		}
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->target = strdup(target);
	c->action = strdup(action);
	c->result = strdup(result);
	if (!c->target || !c->action || !c->result) {
		free(c->target);
		free(c->action);
		free(c->result);
		free(c);
		return;
	}
	c->n = 1;
	*p = c;
}

static void counters_free(struct rem_counter *c)
{
	while (c) {
		struct rem_counter *next = c->next;

		free(c->target);
		free(c->action);
		free(c->result);
		free(c);
		c = next;
	}
}

/* ---- audit ---- */

json_t *rem_jstr(const char *s)
{
	return s ? render_json_string(s) : json_null();
}

/* "2026-11-29T16:45:00.123Z" */
static void iso_time(double t, char *out, size_t sz)
{
	time_t sec = (time_t)t;
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(out, sz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, sz - n, ".%03dZ", (int)((t - (double)sec) * 1000) % 1000);
}

static json_t *decision_json(const struct rem_dec *d)
{
	json_t *o = json_object();
	char when[64];
	char text[REM_TEXT_MAX + 1];
	double now = rem_now();

	if (!o)
		return NULL;
	iso_time(now, when, sizeof(when));
	snprintf(text, sizeof(text), "%s", d->text ? d->text : "");
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "timestamp", json_real(now));
	json_object_set_new(o, "target", rem_jstr(d->target));
	json_object_set_new(o, "vm", rem_jstr(d->vm));
	json_object_set_new(o, "vm_id", rem_jstr(d->vm_id));
	json_object_set_new(o, "question_id", rem_jstr(d->qid));
	json_object_set_new(o, "message_id", rem_jstr(d->message_id));
	json_object_set_new(o, "text", d->text ? rem_jstr(text) : json_null());
	json_object_set_new(o, "choices", d->choices ? json_deep_copy(d->choices) : json_array());
	json_object_set_new(o, "rule", d->rule[0] ? rem_jstr(d->rule) : json_null());
	json_object_set_new(o, "client", rem_jstr(d->client));
	json_object_set_new(o, "action", rem_jstr(d->action));
	json_object_set_new(o, "decision", rem_jstr(d->decision));
	json_object_set_new(o, "choice", rem_jstr(d->choice));
	json_object_set_new(o, "task", rem_jstr(d->task));
	json_object_set_new(o, "result", rem_jstr(d->result));
	json_object_set_new(o, "message", rem_jstr(d->message));
	return o;
}

/* Writes one line to the audit log (one write, then fsync). Called with the lock held. */
static void audit_write(struct remediation *r, const char *line, size_t len)
{
	unsigned long suppressed = 0;

	/* a line cut short is taken back: the audit log stays one JSON object a line */
	if (remstate_append_sync(r->audit_fd, line, len) == 0) {
		log_backoff_reset(&r->audit_backoff);
		return;
	}
	if (log_backoff_due(&r->audit_backoff, time(NULL), &suppressed))
		log_msg(LOG_LEVEL_ERROR, "remediation: cannot write the audit log %s: %s",
			r->audit_path, strerror(errno));
}

/* Audits, keeps and counts one decision, and logs it. */
void rem_record(struct remediation *r, const struct rem_dec *d)
{
	json_t *o = decision_json(d);
	char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	struct buf b, shown;

	/* the message holds text from vCenter and from HTTP clients: one safe log line */
	buf_init(&shown, 4096);
	buf_add_shown(&shown, d->message);
	log_msg(LOG_LEVEL_INFO, "remediation: %s %s: %s", d->target ? d->target : "?", d->result,
		shown.data);
	buf_release(&shown);
	buf_init(&b, 0);
	if (line) {
		buf_adds(&b, line);
		buf_addc(&b, '\n');
	}
	pthread_mutex_lock(&r->lock);
	if (!b.failed && b.len)
		audit_write(r, b.data, b.len);
	else
		log_msg(LOG_LEVEL_ERROR, "remediation: out of memory writing the audit log");
	if (o && json_array_insert(r->ring, 0, o) == 0) {
		while (json_array_size(r->ring) > REM_RING)
			json_array_remove(r->ring, json_array_size(r->ring) - 1);
	}
	count(r, d->target ? d->target : "", d->action, d->result);
	publish(r);
	pthread_mutex_unlock(&r->lock);
	buf_release(&b);
	free(line);
	json_decref(o);
}

/* ---- rate limit ---- */

/* Takes one action from target t's hourly budget: true, or false when spent. */
bool rem_rate_take(struct remediation *r, struct rem_target *t, double now)
{
	bool ok = false;

	pthread_mutex_lock(&r->lock);
	if (t->cap == 0) {
		ok = false;
	} else if (t->n < t->cap) {
		t->sent[(t->head + t->n) % t->cap] = now;
		t->n++;
		ok = true;
	} else if (t->sent[t->head] <= now - 3600) {
		t->sent[t->head] = now;
		t->head = (t->head + 1) % t->cap;
		ok = true;
	}
	pthread_mutex_unlock(&r->lock);
	return ok;
}

/* ---- acting ---- */

struct rem_target *rem_find_target(struct remediation *r, const char *name)
{
	for (size_t i = 0; name && i < r->ntargets; i++)
		if (strcmp(r->targets[i].ct.name, name) == 0)
			return &r->targets[i];
	return NULL;
}

/* Logs in when needed. Called with t->lock held. */
int rem_login(struct rem_target *t, struct err *e)
{
	if (vi_session_logged_in(t->s))
		return 0;
	return vi_session_login(t->s, e);
}

/* true when a failed state-changing call certainly never reached vCenter's
 * handler (so it may be tried again); anything else may have been applied. */
bool rem_never_sent(const struct err *e)
{
	switch (e->kind) {
	case ERR_NOMEM:
	case ERR_INVALID:
	case ERR_CONFIG:
	case ERR_RESOLVE:
	case ERR_TLS:
	case ERR_AUTH: return true;
	default: return false;
	}
}

/* The label of choice key in choices, or "". */
const char *rem_choice_label(const json_t *choices, const char *key)
{
	const json_t *ch;
	size_t i;

	json_array_foreach(choices, i, ch)
	{
		const char *k = json_string_value(json_object_get(ch, "key"));
		const char *l = json_string_value(json_object_get(ch, "label"));
		const char *s = json_string_value(json_object_get(ch, "summary"));

		if (k && key && strcmp(k, key) == 0)
			return s && *s ? s : l ? l : "";
	}
	return "";
}

/* Takes one action from t's budget; when it is spent, fills d (skipped,
 * rate_limited: "Not DOING WHAT of VM ...") and returns false. */
static bool rate_ok(struct remediation *r, struct rem_target *t, struct rem_dec *d,
		    const char *doing, const char *what)
{
	if (rem_rate_take(r, t, rem_now()))
		return true;
	d->decision = "skip";
	d->result = "rate_limited";
	snprintf(d->message, sizeof(d->message),
		 "Not %s %s of VM %s: target %s reached its limit of %d actions per hour.", doing,
		 what, d->vm, d->target, r->per_hour);
	return false;
}

/* The already-answered decision from a state entry. */
static void already(struct rem_dec *d, const struct remstate_entry *prev)
{
	d->decision = "skip";
	d->result = "already_answered";
	if (strcmp(prev->state, "unknown") == 0 || strcmp(prev->state, "sending") == 0)
		snprintf(d->message, sizeof(d->message),
			 "Question %s of VM %s was already answered (by %s, choice %s) and that "
			 "answer's outcome is unknown; not resending.",
			 d->qid, d->vm, prev->by, prev->choice);
	else
		snprintf(d->message, sizeof(d->message),
			 "Question %s of VM %s was already answered (by %s, choice %s: %s); not "
			 "answering twice.",
			 d->qid, d->vm, prev->by, prev->choice, prev->state);
}

/*
 * Answers d's question with d->choice on t, by the never-twice rule and the
 * rate limit (dry: decides only). Fills d's decision, result and message.
 */
void rem_answer(struct remediation *r, struct rem_target *t, struct rem_dec *d, const char *by,
		bool dry)
{
	const char *label = rem_choice_label(d->choices, d->choice);
	struct remstate_entry prev;
	struct err e;
	int rc;

	err_clear(&e);
	d->action = "answer";
	if (remstate_get(r->state, d->target, d->vm_id, d->qid, &prev)) {
		already(d, &prev);
		return;
	}
	/* the budget is taken once the action can go out (dry: at once), so
	 * that attempts that cannot even log in do not spend it */
	if (dry && !rate_ok(r, t, d, "answering question", d->qid))
		return;
	if (dry) {
		d->decision = "dry-run";
		d->result = "dry_run";
		snprintf(d->message, sizeof(d->message),
			 "Dry run: would answer question %s of VM %s with choice %s (\"%s\"); "
			 "nothing was sent.",
			 d->qid, d->vm, d->choice, label);
		return;
	}
	d->decision = "answer";
	pthread_mutex_lock(&t->lock);
	if (rem_login(t, &e) < 0) {
		d->result = "error";
		snprintf(d->message, sizeof(d->message),
			 "Question %s of VM %s not answered: cannot log in to %s: %s", d->qid,
			 d->vm, d->target, e.msg);
		goto out_unlock;
	}
	if (!rate_ok(r, t, d, "answering question", d->qid))
		goto out_unlock;
	rc = remstate_claim(r->state, d->target, d->vm_id, d->qid, by, d->choice, &prev, &e);
	if (rc == 0) {
		already(d, &prev);
		goto out_unlock;
	}
	if (rc < 0) {
		d->result = "error";
		snprintf(d->message, sizeof(d->message),
			 "Question %s of VM %s not answered: the never-twice record cannot be "
			 "written: %s",
			 d->qid, d->vm, e.msg);
		goto out_unlock;
	}
	if (vi_vm_answer(t->s, d->vm_id, d->qid, d->choice, &e) == 0) {
		d->result = "answered";
		snprintf(d->message, sizeof(d->message),
			 "Answered question %s of VM %s with choice %s (\"%s\").", d->qid, d->vm,
			 d->choice, label);
		remstate_settle(r->state, d->target, d->vm_id, d->qid, "answered", NULL);
	} else if (e.kind == ERR_FAULT) {
		d->result = "failed";
		snprintf(d->message, sizeof(d->message),
			 "AnswerVM for question %s of VM %s failed: %s", d->qid, d->vm, e.msg);
		remstate_settle(r->state, d->target, d->vm_id, d->qid, "failed", NULL);
	} else if (rem_never_sent(&e)) {
		d->result = "error";
		snprintf(d->message, sizeof(d->message),
			 "Question %s of VM %s not answered (nothing was sent): %s", d->qid, d->vm,
			 e.msg);
		remstate_settle(r->state, d->target, d->vm_id, d->qid, "released", NULL);
	} else {
		d->result = "outcome_unknown";
		snprintf(d->message, sizeof(d->message),
			 "AnswerVM for question %s of VM %s with choice %s: outcome unknown (%s); "
			 "it is not resent.",
			 d->qid, d->vm, d->choice, e.msg);
		remstate_settle(r->state, d->target, d->vm_id, d->qid, "unknown", NULL);
	}
out_unlock:
	pthread_mutex_unlock(&t->lock);
}

/* Cancels task (cancelable, blocked by d's question) on t. Fills d. */
static void do_cancel(struct remediation *r, struct rem_target *t, struct rem_dec *d, bool dry)
{
	struct err e;

	err_clear(&e);
	d->action = "cancel";
	if (dry && !rate_ok(r, t, d, "cancelling task", d->task))
		return;
	if (dry) {
		d->decision = "dry-run";
		d->result = "dry_run";
		snprintf(d->message, sizeof(d->message),
			 "Dry run: would cancel task %s of VM %s, blocked by question %s; nothing "
			 "was sent.",
			 d->task, d->vm, d->qid);
		return;
	}
	d->decision = "cancel";
	pthread_mutex_lock(&t->lock);
	if (rem_login(t, &e) < 0) {
		d->result = "error";
		snprintf(d->message, sizeof(d->message),
			 "Task %s of VM %s not cancelled: cannot log in to %s: %s", d->task, d->vm,
			 d->target, e.msg);
	} else if (!rate_ok(r, t, d, "cancelling task", d->task)) {
		/* d says why */
	} else if (vi_task_cancel(t->s, d->task, &e) == 0) {
		d->result = "cancelled";
		snprintf(d->message, sizeof(d->message),
			 "Cancelled task %s of VM %s, blocked by question %s (the question stays "
			 "pending).",
			 d->task, d->vm, d->qid);
	} else if (e.kind == ERR_FAULT) {
		d->result = "failed";
		snprintf(d->message, sizeof(d->message), "CancelTask %s of VM %s failed: %s",
			 d->task, d->vm, e.msg);
	} else if (rem_never_sent(&e)) {
		d->result = "error";
		snprintf(d->message, sizeof(d->message),
			 "Task %s of VM %s not cancelled (nothing was sent): %s", d->task, d->vm,
			 e.msg);
	} else {
		d->result = "outcome_unknown";
		snprintf(d->message, sizeof(d->message),
			 "CancelTask %s of VM %s: outcome unknown (%s); it is not resent.", d->task,
			 d->vm, e.msg);
	}
	pthread_mutex_unlock(&t->lock);
}

/* ---- the rule thread ---- */

/* The current snapshots (each with a reference) in a malloc'd array; *n their count. */
struct snapshot **rem_get_snapshots(struct remediation *r, size_t *n)
{
	size_t max = REM_SNAPS, got;
	unsigned long epoch;
	struct snapshot **v;

	for (;;) {
		v = calloc(max, sizeof(*v));
		if (!v) {
			*n = 0;
			return NULL;
		}
		got = r->src.snapshots(r->src.ud, v, max, &epoch);
		if (got <= max) {
			*n = got;
			return v;
		}
		for (size_t i = 0; i < max; i++)
			snapshot_put(v[i]);
		free(v);
		max = got;
	}
}

void rem_put_snapshots(struct snapshot **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		snapshot_put(v[i]);
	free(v);
}

const char *rem_snap_target(const struct snapshot *s)
{
	return s && s->target ? json_string_value(json_object_get(s->target, "name")) : NULL;
}

/* Fills the question part of d from the question object q. */
void rem_dec_from_question(struct rem_dec *d, const char *target, const json_t *q,
			   const char *message_id)
{
	const json_t *ids = json_object_get(q, "message_ids");

	memset(d, 0, sizeof(*d));
	d->target = target;
	d->vm = json_string_value(json_object_get(q, "vm"));
	d->vm_id = json_string_value(json_object_get(q, "vm_id"));
	d->qid = json_string_value(json_object_get(q, "id"));
	d->text = json_string_value(json_object_get(q, "text"));
	d->choices = json_object_get(q, "choices");
	if (message_id && strcmp(message_id, "*") != 0)
		d->message_id = message_id;
	else
		d->message_id = json_string_value(json_array_get(ids, 0));
	if (!d->vm)
		d->vm = d->vm_id ? d->vm_id : "?";
}

static char *seen_key(const char *a, const char *b, const char *c, const char *x)
{
	struct buf k;

	buf_init(&k, 0);
	buf_addf(&k, "%s\x1f%s\x1f%s\x1f%s", a ? a : "", b ? b : "", c ? c : "", x ? x : "");
	if (k.failed) {
		buf_release(&k);
		return NULL;
	}
	return buf_detach(&k, NULL);
}

/* Results after which the rule thread does not act on that key again. */
static bool final_result(const char *res)
{
	static const char *const finals[] = {
		"answered",  "failed",	 "outcome_unknown", "already_answered", "dry_run",
		"no_choice", "reported", "cancelled",	    "not_cancelable",
	};

	for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++)
		if (strcmp(res, finals[i]) == 0)
			return true;
	return false;
}

/*
 * The rule thread's memory: acts on key unless its last decision is final
 * (or an error less than a minute old). Returns true when the caller should
 * decide now; otherwise the old decision is carried into next.
 */
static bool want_decide(struct remediation *r, json_t *next, const char *key, double now)
{
	json_t *prev = json_object_get(r->seen, key);
	const char *res = json_string_value(json_object_get(prev, "r"));
	double t = json_number_value(json_object_get(prev, "t"));

	if (!res)
		return true;
	if (final_result(res) || (strcmp(res, "error") == 0 && now - t < REM_ERROR_RETRY_S)) {
		json_object_set(next, key, prev);
		return false;
	}
	return true;
}

/* Records d unless it repeats key's last decision; notes it in next. */
static void note(struct remediation *r, json_t *next, const char *key, const struct rem_dec *d,
		 double now)
{
	json_t *prev = json_object_get(r->seen, key);
	const char *res = json_string_value(json_object_get(prev, "r"));

	if (res && strcmp(res, d->result) == 0) {
		json_object_set(next, key, prev);
		return;
	}
	rem_record(r, d);
	json_object_set_new(next, key, json_pack("{s:s,s:f}", "r", d->result, "t", now));
}

/* A task object of s by task id, or NULL. */
static const json_t *find_task(const struct snapshot *s, const char *id)
{
	const json_t *t;
	size_t i;

	json_array_foreach(s->tasks, i, t)
	{
		const char *tid = json_string_value(json_object_get(t, "task_id"));

		if (tid && strcmp(tid, id) == 0)
			return t;
	}
	return NULL;
}

/* A cancel rule: every task the question blocks. */
static void consider_cancel(struct remediation *r, struct rem_target *t, const struct snapshot *s,
			    const json_t *q, struct rem_dec *d, json_t *next, double now)
{
	const json_t *blocked = json_object_get(q, "blocked_tasks");
	const json_t *id;
	size_t i;

	json_array_foreach(blocked, i, id)
	{
		const char *tid = json_string_value(id);
		const json_t *task = tid ? find_task(s, tid) : NULL;
		const char *name = json_string_value(json_object_get(task, "task"));
		char *key = seen_key(d->target, d->vm_id, d->qid, tid);

		if (!key || !tid || !want_decide(r, next, key, now)) {
			free(key);
			continue;
		}
		d->task = tid;
		if (task && !json_is_true(json_object_get(task, "cancelable"))) {
			d->action = "cancel";
			d->decision = "report";
			d->result = "not_cancelable";
			snprintf(d->message, sizeof(d->message),
				 "Task %s (%s) of VM %s cannot be cancelled and stays blocked "
				 "until question %s is answered.",
				 tid, name ? name : "?", d->vm, d->qid);
		} else {
			do_cancel(r, t, d, r->dry_run);
		}
		note(r, next, key, d, now);
		free(key);
	}
	if (i == 0) {
		char *key = seen_key(d->target, d->vm_id, d->qid, "");

		if (key && want_decide(r, next, key, now)) {
			d->action = "cancel";
			d->decision = "report";
			d->result = "no_task";
			snprintf(d->message, sizeof(d->message),
				 "Question %s of VM %s blocks no task: nothing to cancel.", d->qid,
				 d->vm);
			note(r, next, key, d, now);
		}
		free(key);
	}
}

/* Applies the rules to one pending question of snapshot s. */
static void consider(struct remediation *r, struct rem_target *t, const struct snapshot *s,
		     const json_t *q, json_t *next, double now)
{
	const char *target = t->ct.name;
	int idx = rem_rules_match(r->rules, target, q);
	const struct conf_rem_rule *rule;
	struct rem_dec d;
	double age, first;
	int min;
	char *key;

	if (idx < 0)
		return;
	rule = rem_rules_get(r->rules, (size_t)idx);
	min = rem_rules_min_pending(r->rules, (size_t)idx);
	rem_dec_from_question(&d, target, q, rule->message_id);
	if (!d.vm_id || !d.qid)
		return;
	snprintf(d.rule, sizeof(d.rule), "%d (line %d)", idx + 1, rule->line);
	d.action = conf_rem_action_name(rule->action);
	key = seen_key(target, d.vm_id, d.qid, NULL);
	if (!key)
		return;
	first = json_number_value(json_object_get(q, "first_seen"));
	age = now - first;
	if (age < min) {
		/* cancel decisions are per task: this key only says "too young" */
		if (want_decide(r, next, key, now)) {
			d.decision = "skip";
			d.result = "too_young";
			snprintf(
				d.message, sizeof(d.message),
				"Question %s of VM %s has been pending %.0f s; rule %d waits %d s.",
				d.qid, d.vm, age < 0 ? 0 : age, idx + 1, min);
			note(r, next, key, &d, now);
		}
		goto out;
	}
	if (rule->action == CONF_REM_CANCEL) {
		consider_cancel(r, t, s, q, &d, next, now);
		goto out;
	}
	if (!want_decide(r, next, key, now))
		goto out;
	if (rule->action == CONF_REM_REPORT) {
		d.decision = "report";
		d.result = "reported";
		snprintf(
			d.message, sizeof(d.message),
			"Question %s of VM %s (%s) is pending for %.0f s; rule %d only reports it.",
			d.qid, d.vm, d.message_id ? d.message_id : "?", age, idx + 1);
	} else {
		char why[512];
		char by[64];

		d.choice = rem_choice_find(q, rule->answer, false, why, sizeof(why));
		if (!d.choice) {
			d.decision = "skip";
			d.result = "no_choice";
			snprintf(d.message, sizeof(d.message),
				 "Question %s of VM %s not answered: rule %d wants \"%s\" but %s.",
				 d.qid, d.vm, idx + 1, rule->answer, why);
		} else {
			snprintf(by, sizeof(by), "rule %d", idx + 1);
			rem_answer(r, t, &d, by, r->dry_run);
		}
	}
	note(r, next, key, &d, now);
out:
	free(key);
}

static void tick(struct remediation *r)
{
	json_t *next = json_object();
	double now = rem_now();
	struct snapshot **v;
	size_t n = 0;

	if (!next)
		return;
	v = rem_get_snapshots(r, &n);
	for (size_t i = 0; i < n && !stopping(r); i++) {
		struct rem_target *t = rem_find_target(r, rem_snap_target(v[i]));
		const json_t *q;
		size_t k;

		if (!t)
			continue;
		json_array_foreach(v[i]->questions, k, q)
		{
			if (stopping(r))
				break;
			consider(r, t, v[i], q, next, now);
		}
	}
	rem_put_snapshots(v, n);
	json_decref(r->seen);
	r->seen = next;
}

static void *rule_main(void *arg)
{
	struct remediation *r = arg;
	struct timespec until;

	while (!stopping(r)) {
		tick(r);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)REM_TICK_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&r->stop_lock);
		while (!stopping(r) &&
		       pthread_cond_timedwait(&r->stop_cond, &r->stop_lock, &until) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&r->stop_lock);
	}
	return NULL;
}

/* ---- life cycle ---- */

static int make_targets(struct remediation *r, const struct conf *c, struct err *e)
{
	r->targets = calloc(c->ntargets + 1, sizeof(*r->targets));
	if (!r->targets)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < c->ntargets; i++) {
		struct rem_target *t = &r->targets[i];
		struct vi_session_opts o;

		if (conf_target_copy(&t->ct, &c->targets[i]) < 0)
			return err_set(e, ERR_NOMEM, "out of memory");
		pthread_mutex_init(&t->lock, NULL);
		r->ntargets++;
		conf_target_session_opts(&t->ct, &o);
		t->s = vi_session_new(&o, e);
		if (!t->s)
			return -1;
		vi_session_set_abort(t->s, should_abort, r);
		t->cap = (size_t)r->per_hour;
		t->sent = calloc(t->cap + 1, sizeof(*t->sent));
		if (!t->sent)
			return err_set(e, ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Takes over prev's counters, decisions and rate windows (same target names). */
static void carry(struct remediation *r, struct remediation *prev)
{
	pthread_mutex_lock(&prev->lock);
	r->counters = prev->counters;
	prev->counters = NULL;
	json_decref(r->ring);
	r->ring = json_incref(prev->ring);
	r->generation = prev->generation;
	for (size_t i = 0; i < r->ntargets; i++) {
		struct rem_target *t = &r->targets[i], *o = rem_find_target(prev, t->ct.name);

		if (!o)
			continue;
		for (size_t k = 0; k < o->n && t->n < t->cap; k++)
			t->sent[t->n++] = o->sent[(o->head + k) % o->cap];
	}
	pthread_mutex_unlock(&prev->lock);
}

int remediation_new(const struct conf *c, const struct rem_source *src, struct snapshot_slot *slot,
		    struct remediation *prev, struct remediation **out, struct err *e)
{
	const struct conf_remediation *rm = &c->remediation;
	struct remediation *r = calloc(1, sizeof(*r));
	bool dropped = false;

	if (!r)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->stop_lock, NULL);
	pthread_cond_init(&r->stop_cond, NULL);
	log_backoff_init(&r->audit_backoff, 600);
	r->audit_fd = -1;
	r->src = *src;
	r->slot = slot;
	r->enabled = rm->enabled;
	r->dry_run = rm->dry_run;
	r->per_hour = rm->max_actions_per_hour;
	r->ring = json_array();
	r->seen = json_object();
	r->audit_path = strdup(rm->audit_log);
	if (!r->ring || !r->seen || !r->audit_path ||
	    (c->api_token && !(r->token = strdup(c->api_token)))) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_fail;
	}
	if (rem_rules_new(rm, &r->rules, e) < 0 || make_targets(r, c, e) < 0)
		goto out_fail;
	r->audit_fd =
		open(rm->audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (r->audit_fd < 0) {
		err_set(e, ERR_SYSTEM, "audit_log %s: %s", rm->audit_log, strerror(errno));
		goto out_fail;
	}
	if (remstate_open(rm->state_file, REM_STATE_MAX_AGE, &r->state, &dropped, e) < 0)
		goto out_fail;
	if (remstate_warning(r->state))
		log_msg(LOG_LEVEL_WARN, "remediation: %s", remstate_warning(r->state));
	if (dropped)
		log_msg(LOG_LEVEL_WARN,
			"remediation: %s: dropped an incomplete last line (a write cut short)",
			rm->state_file);
	if (prev)
		carry(r, prev);
	pthread_mutex_lock(&r->lock);
	publish(r);
	pthread_mutex_unlock(&r->lock);
	if (r->enabled) {
		if (pthread_create(&r->thread, NULL, rule_main, r) != 0) {
			err_set(e, ERR_SYSTEM, "cannot start the remediation thread");
			goto out_fail;
		}
		r->thread_started = true;
	}
	*out = r;
	return 0;

out_fail:
	err_prefix(e, "remediation");
	remediation_free(r);
	return -1;
}

void remediation_stop(struct remediation *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->stop_lock);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&r->stop_cond);
	pthread_mutex_unlock(&r->stop_lock);
	for (size_t i = 0; i < r->ntargets; i++)
		vi_session_wakeup(r->targets[i].s);
	if (r->thread_started) {
		pthread_join(r->thread, NULL);
		r->thread_started = false;
	}
}

void remediation_resume(struct remediation *r)
{
	if (!r || !r->enabled || r->thread_started)
		return;
	__atomic_store_n(&r->stop, 0, __ATOMIC_RELEASE);
	if (pthread_create(&r->thread, NULL, rule_main, r) != 0) {
		log_msg(LOG_LEVEL_ERROR, "remediation: cannot restart the rule thread");
		return;
	}
	r->thread_started = true;
}

void remediation_free(struct remediation *r)
{
	if (!r)
		return;
	remediation_stop(r);
	r->logout_at = vi_now_seconds() + 2;
	for (size_t i = 0; i < r->ntargets; i++) {
		struct rem_target *t = &r->targets[i];

		vi_session_free(t->s);
		pthread_mutex_destroy(&t->lock);
		conf_target_release(&t->ct);
		free(t->sent);
	}
	free(r->targets);
	rem_rules_free(r->rules);
	remstate_free(r->state);
	if (r->audit_fd >= 0)
		close(r->audit_fd);
	counters_free(r->counters);
	json_decref(r->ring);
	json_decref(r->seen);
	if (r->token) {
		explicit_bzero(r->token, strlen(r->token));
		free(r->token);
	}
	free(r->audit_path);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->stop_lock);
	pthread_cond_destroy(&r->stop_cond);
	free(r);
}

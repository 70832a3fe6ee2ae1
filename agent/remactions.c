/* agent/remactions: the HTTP actions of the remediation module (answer a question, run a power operation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/api.h"
#include "agent/rem_internal.h"
#include "vi/lifecycle.h"
#include "vi/task.h"

/* ---- HTTP actions ---- */

bool remediation_actions_enabled(const struct remediation *r)
{
	return r && r->token;
}

int remediation_authorize(const struct remediation *r, const char *authorization)
{
	return r ? rem_bearer_ok(r->token, authorization) : 0;
}

/* The reply {"result", "message", extra members...} as text; status passed through. */
static unsigned reply_json(unsigned status, const char *result, const char *message, json_t *extra,
			   char **out, size_t *len)
{
	json_t *o = extra ? extra : json_object();

	*out = NULL;
	*len = 0;
	if (!o)
		return 500;
	json_object_set_new(o, "result", rem_jstr(result));
	json_object_set_new(o, "message", rem_jstr(message));
	*out = api_json_text(o, len);
	json_decref(o);
	return *out ? status : 500;
}

/* A copy of the pending question (target, vm_id, question_id) from the
 * current snapshots, or NULL. */
static json_t *find_question(struct remediation *r, const char *target, const char *vm_id,
			     const char *qid)
{
	struct snapshot **v;
	json_t *found = NULL;
	size_t n = 0;

	v = rem_get_snapshots(r, &n);
	for (size_t i = 0; i < n && !found; i++) {
		const char *name = rem_snap_target(v[i]);
		const json_t *q;
		size_t k;

		if (!name || strcmp(name, target) != 0)
			continue;
		json_array_foreach(v[i]->questions, k, q)
		{
			const char *a = json_string_value(json_object_get(q, "vm_id"));
			const char *b = json_string_value(json_object_get(q, "id"));

			if (a && b && strcmp(a, vm_id) == 0 && strcmp(b, qid) == 0) {
				found = json_deep_copy(q);
				break;
			}
		}
	}
	rem_put_snapshots(v, n);
	return found;
}

static unsigned status_of(const char *result)
{
	static const struct {
		const char *result;
		unsigned status;
	} map[] = {
		{"answered", 200},	  {"already_answered", 409}, {"rate_limited", 429},
		{"no_choice", 400},	  {"failed", 502},	     {"error", 502},
		{"outcome_unknown", 504},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].result, result) == 0)
			return map[i].status;
	return 500;
}

static unsigned post_answer(struct remediation *r, const char *body, size_t len, const char *client,
			    char **reply, size_t *reply_len)
{
	static const char *const names[] = {"target", "vm_id", "question_id", "choice"};
	const char *vals[4];
	struct rem_target *t;
	json_t *root = NULL, *q = NULL;
	struct rem_dec d;
	char why[512], by[160];
	unsigned status;

	if (rem_parse_body(body, len, names, 4, NULL, 0, &root, vals, NULL, why, sizeof(why)) < 0)
		return reply_json(400, "bad_request", why, NULL, reply, reply_len);
	for (size_t i = 0; i < 4; i++) {
		if (!vals[i]) {
			snprintf(why, sizeof(why),
				 "missing \"%s\" (want target, vm_id, "
				 "question_id and choice)",
				 names[i]);
			status = reply_json(400, "bad_request", why, NULL, reply, reply_len);
			goto out;
		}
	}
	t = rem_find_target(r, vals[0]);
	if (!t) {
		snprintf(why, sizeof(why), "There is no target named \"%.200s\".", vals[0]);
		status = reply_json(404, "unknown_target", why, NULL, reply, reply_len);
		goto out;
	}
	q = find_question(r, vals[0], vals[1], vals[2]);
	if (!q) {
		snprintf(why, sizeof(why),
			 "VM %.120s of target %.120s has no pending question %.120s (answered "
			 "meanwhile, or never asked).",
			 vals[1], vals[0], vals[2]);
		status = reply_json(409, "not_pending", why, NULL, reply, reply_len);
		goto out;
	}
	rem_dec_from_question(&d, t->ct.name, q, NULL);
	d.client = client;
	d.action = "answer";
	d.choice = rem_choice_find(q, vals[3], true, why, sizeof(why));
	if (!d.choice) {
		d.decision = "skip";
		d.result = "no_choice";
		snprintf(d.message, sizeof(d.message), "Question %s of VM %s not answered: %s.",
			 d.qid, d.vm, why);
	} else {
		snprintf(by, sizeof(by), "http %s", client ? client : "?");
		rem_answer(r, t, &d, by, false);
	}
	rem_record(r, &d);
	status = reply_json(status_of(d.result), d.result, d.message,
			    json_pack("{s:s,s:s,s:s,s:o}", "target", d.target, "vm_id", d.vm_id,
				      "question_id", d.qid, "choice", rem_jstr(d.choice)),
			    reply, reply_len);
out:
	json_decref(q);
	json_decref(root);
	return status;
}

/* ---- POST /api/v1/vms/power ---- */

#define REM_POWER_TIMEOUT_S 30 /* an action holds one HTTP thread at most this long */
#define REM_POWER_CLAIMS    8

/* What the before_answer hook of a power action did. */
struct power_run {
	struct remediation *r;
	struct rem_target *t;
	const char *client;
	struct vi_lc_report *rep;
	char by[160];
	struct {
		char *qid;
		char *choice;
		json_t *q; /* the question as audited */
	} claims[REM_POWER_CLAIMS];
	size_t nclaims;
};

/* The question in the JSON API's shape, for the rules and the audit. */
static json_t *question_obj(const struct vi_question *q, const char *vm, const char *vm_id)
{
	const struct vi_question_choice *d = vi_question_default(q);
	json_t *o = json_object(), *ids = json_array(), *ch = json_array();

	if (!o || !ids || !ch) {
		json_decref(o);
		json_decref(ids);
		json_decref(ch);
		return NULL;
	}
	for (size_t i = 0; i < q->nmsgs; i++)
		json_array_append_new(ids, rem_jstr(q->msgs[i].id));
	for (size_t i = 0; i < q->nchoices; i++)
		json_array_append_new(ch,
				      json_pack("{s:o,s:o,s:o}", "key", rem_jstr(q->choices[i].key),
						"label", rem_jstr(q->choices[i].label), "summary",
						rem_jstr(q->choices[i].summary)));
	json_object_set_new(o, "vm", rem_jstr(vm));
	json_object_set_new(o, "vm_id", rem_jstr(vm_id));
	json_object_set_new(o, "id", rem_jstr(q->id));
	json_object_set_new(o, "text", rem_jstr(q->text));
	json_object_set_new(o, "message_ids", ids);
	json_object_set_new(o, "choices", ch);
	json_object_set_new(o, "default", d ? rem_jstr(d->key) : json_null());
	return o;
}

/* Audits the answer of claim i with its outcome, and settles it. */
static void settle_claim(struct power_run *u, size_t i, const char *state, const char *result,
			 const char *why)
{
	struct rem_dec d;
	const json_t *q = u->claims[i].q;

	rem_dec_from_question(&d, u->t->ct.name, q, NULL);
	d.client = u->client;
	d.action = "answer";
	d.decision = "answer";
	d.result = result;
	d.choice = u->claims[i].choice;
	if (strcmp(result, "answered") == 0)
		snprintf(d.message, sizeof(d.message),
			 "Answered question %s of VM %s with choice %s (\"%s\") during a power "
			 "action.",
			 d.qid, d.vm, d.choice, rem_choice_label(d.choices, d.choice));
	else
		snprintf(d.message, sizeof(d.message),
			 "AnswerVM for question %s of VM %s during a power action: %s%s", d.qid,
			 d.vm, why,
			 strcmp(result, "outcome_unknown") == 0 ? "; it is not resent." : ".");
	remstate_settle(u->r->state, d.target, d.vm_id, d.qid, state, NULL);
	rem_record(u->r, &d);
}

/*
 * vi_lc_run's before_answer: the never-twice claim (written before AnswerVM
 * goes out), the rate limit, and the choice a remediation rule names for
 * the question's message id (else the default).
 */
static int power_before_answer(void *ud, const char *vm, const struct vi_question *q,
			       const char **choice_key, struct err *e)
{
	struct power_run *u = ud;
	struct remediation *r = u->r;
	struct remstate_entry prev;
	json_t *qo;
	int idx, rc;
	char why[512];

	qo = question_obj(q, u->rep->vm_name ? u->rep->vm_name : vm, vm);
	if (!qo)
		return err_set(e, ERR_NOMEM, "out of memory");
	idx = rem_rules_match(r->rules, u->t->ct.name, qo);
	if (idx >= 0) {
		const struct conf_rem_rule *rule = rem_rules_get(r->rules, (size_t)idx);

		if (rule->action == CONF_REM_ANSWER && strcmp(rule->answer, "default") != 0) {
			*choice_key = rem_choice_find(qo, rule->answer, false, why, sizeof(why));
			if (!*choice_key) {
				json_decref(qo);
				return err_set(e, ERR_QUESTION,
					       "remediation rule %d wants \"%s\" but %s", idx + 1,
					       rule->answer, why);
			}
			/* borrowed from q, as the hook requires */
			for (size_t i = 0; i < q->nchoices; i++)
				if (strcmp(q->choices[i].key, *choice_key) == 0)
					*choice_key = q->choices[i].key;
		}
	}
	if (!*choice_key) {
		json_decref(qo);
		return err_set(e, ERR_QUESTION, "question %s has no default choice", q->id);
	}
	if (u->nclaims == REM_POWER_CLAIMS) {
		json_decref(qo);
		return err_set(e, ERR_QUESTION, "too many questions in one power action");
	}
	if (!rem_rate_take(r, u->t, rem_now())) {
		json_decref(qo);
		return err_set(e, ERR_QUESTION,
			       "target %s reached its limit of %d actions per hour", u->t->ct.name,
			       r->per_hour);
	}
	rc = remstate_claim(r->state, u->t->ct.name, vm, q->id, u->by, *choice_key, &prev, e);
	if (rc <= 0) {
		json_decref(qo);
		if (rc == 0)
			return err_set(e, ERR_QUESTION,
				       "question %s was already answered (by %s, choice %s: %s); "
				       "never twice",
				       q->id, prev.by, prev.choice,
				       strcmp(prev.state, "sending") == 0 ? "unknown" : prev.state);
		return -1;
	}
	/* an earlier claim of this run was answered, or the run would have ended */
	if (u->nclaims > 0)
		settle_claim(u, u->nclaims - 1, "answered", "answered", "");
	u->claims[u->nclaims].qid = strdup(q->id);
	u->claims[u->nclaims].choice = strdup(*choice_key);
	u->claims[u->nclaims].q = qo;
	u->nclaims++;
	return 0;
}

/*
 * Settles the run's last claim (earlier ones were settled as answered when
 * the run went on). vi_lc_run ends at once when an AnswerVM it sent failed
 * (VI_LC_ERROR, "could not be answered", the question kept), and with
 * VI_LC_BLOCKED when it sent nothing for the question it kept.
 */
static void settle_last(struct power_run *u, const struct vi_lc_report *rep)
{
	size_t i = u->nclaims - 1;
	bool same = rep->question.id && strcmp(rep->question.id, u->claims[i].qid) == 0;

	if (same && rep->result == VI_LC_BLOCKED)
		settle_claim(u, i, "released", "error", rep->err.msg);
	else if (same && rep->result == VI_LC_ERROR &&
		 strstr(rep->message, "could not be answered")) {
		if (rep->err.kind == ERR_FAULT)
			settle_claim(u, i, "failed", "failed", rep->err.msg);
		else if (rem_never_sent(&rep->err))
			settle_claim(u, i, "released", "error", rep->err.msg);
		else
			settle_claim(u, i, "unknown", "outcome_unknown", rep->err.msg);
	} else {
		settle_claim(u, i, "answered", "answered", "");
	}
}

static unsigned power_status(const struct vi_lc_report *rep)
{
	switch (rep->result) {
	case VI_LC_DONE:
	case VI_LC_STARTED:
	case VI_LC_ANSWERED_NOT_STARTED: return 200;
	case VI_LC_BLOCKED:
	case VI_LC_OTHER_TASK:
	case VI_LC_CANCELLED: return 409;
	case VI_LC_TIMEOUT: return 504;
	case VI_LC_FAILED: return 502;
	case VI_LC_ERROR: return err_is_fault(&rep->err, "ManagedObjectNotFound") ? 404 : 502;
	}
	return 500;
}

static unsigned post_power(struct remediation *r, const char *body, size_t len, const char *client,
			   char **reply, size_t *reply_len)
{
	static const char *const names[] = {"target", "vm_id", "op"};
	static const char *const bools[] = {"auto_answer"};
	struct power_run u;
	struct vi_lc_report rep;
	struct vi_lc_opts o;
	struct rem_dec d;
	enum vi_lc_op op;
	const char *vals[3];
	bool auto_answer = false, limited = false;
	json_t *root = NULL;
	char why[512];
	unsigned status;

	if (rem_parse_body(body, len, names, 3, bools, 1, &root, vals, &auto_answer, why,
			   sizeof(why)) < 0)
		return reply_json(400, "bad_request", why, NULL, reply, reply_len);
	for (size_t i = 0; i < 3; i++) {
		if (!vals[i]) {
			snprintf(why, sizeof(why),
				 "missing \"%s\" (want target, vm_id, op and optionally "
				 "auto_answer)",
				 names[i]);
			status = reply_json(400, "bad_request", why, NULL, reply, reply_len);
			goto out;
		}
	}
	if (vi_lc_op_parse(vals[2], &op) < 0) {
		snprintf(why, sizeof(why),
			 "unknown op \"%.64s\" (want power-on, power-off, reset, suspend, "
			 "shutdown, reboot or standby)",
			 vals[2]);
		status = reply_json(400, "bad_request", why, NULL, reply, reply_len);
		goto out;
	}
	memset(&u, 0, sizeof(u));
	u.r = r;
	u.client = client;
	u.t = rem_find_target(r, vals[0]);
	if (!u.t) {
		snprintf(why, sizeof(why), "There is no target named \"%.200s\".", vals[0]);
		status = reply_json(404, "unknown_target", why, NULL, reply, reply_len);
		goto out;
	}
	memset(&d, 0, sizeof(d));
	d.target = u.t->ct.name;
	d.vm_id = vals[1];
	d.vm = vals[1];
	d.client = client;
	d.action = "power";
	d.decision = "power";
	snprintf(u.by, sizeof(u.by), "http %s (%s)", client ? client : "?", vals[2]);
	vi_lc_report_init(&rep);
	u.rep = &rep;
	memset(&o, 0, sizeof(o));
	o.auto_answer = auto_answer;
	o.timeout_s = REM_POWER_TIMEOUT_S;
	o.before_answer = power_before_answer;
	o.ud = &u;
	pthread_mutex_lock(&u.t->lock);
	if (rem_login(u.t, &rep.err) < 0) {
		rep.result = VI_LC_ERROR;
		snprintf(rep.message, sizeof(rep.message), "cannot log in to %.64s: %.400s",
			 d.target, rep.err.msg);
	} else if (!rem_rate_take(r, u.t, rem_now())) {
		/* taken once logged in: attempts that cannot log in spend nothing */
		limited = true;
	} else {
		vi_lc_run(u.t->s, vals[1], op, &o, &rep);
	}
	pthread_mutex_unlock(&u.t->lock);
	if (limited) {
		vi_lc_report_release(&rep);
		d.decision = "skip";
		d.result = "rate_limited";
		snprintf(d.message, sizeof(d.message),
			 "Not running %s on VM %s: target %s reached its limit of %d actions per "
			 "hour.",
			 vals[2], vals[1], d.target, r->per_hour);
		rem_record(r, &d);
		status = reply_json(429, d.result, d.message, NULL, reply, reply_len);
		goto out;
	}
	if (u.nclaims > 0)
		settle_last(&u, &rep);
	if (rep.vm_name)
		d.vm = rep.vm_name;
	d.task = rep.task;
	d.result = vi_lc_result_name(rep.result);
	d.choice = rep.choice_key;
	if (rep.question.id) {
		d.qid = rep.question.id;
		d.text = rep.question.text;
		d.message_id = rep.question.nmsgs ? rep.question.msgs[0].id : NULL;
	}
	snprintf(d.message, sizeof(d.message), "%s", rep.message);
	if (d.message[0] >= 'a' && d.message[0] <= 'z')
		d.message[0] = (char)(d.message[0] - 'a' + 'A');
	rem_record(r, &d);
	status =
		reply_json(power_status(&rep), d.result, d.message,
			   json_pack("{s:s,s:s,s:s,s:b,s:o,s:o,s:o}", "target", d.target, "vm_id",
				     vals[1], "op", vi_lc_op_name(op), "auto_answer", auto_answer,
				     "task", rem_jstr(rep.task), "question_id",
				     rem_jstr(rep.question.id), "choice", rem_jstr(rep.choice_key)),
			   reply, reply_len);
	vi_lc_report_release(&rep);
	for (size_t i = 0; i < u.nclaims; i++) {
		free(u.claims[i].qid);
		free(u.claims[i].choice);
		json_decref(u.claims[i].q);
	}
out:
	json_decref(root);
	return status;
}

unsigned remediation_post(struct remediation *r, const char *path, const char *body, size_t len,
			  const char *client, char **reply, size_t *reply_len)
{
	if (strcmp(path, "/api/v1/questions/answer") == 0)
		return post_answer(r, body, len, client, reply, reply_len);
	if (strcmp(path, "/api/v1/vms/power") == 0)
		return post_power(r, body, len, client, reply, reply_len);
	return reply_json(404, "not_found", "There is no such action.", NULL, reply, reply_len);
}

char *remediation_decisions(struct remediation *r, size_t *len)
{
	char *t;

	if (!r) {
		json_t *empty = json_array();
		char *s = api_json_text(empty, len);

		json_decref(empty);
		return s;
	}
	pthread_mutex_lock(&r->lock);
	t = api_json_text(r->ring, len);
	pthread_mutex_unlock(&r->lock);
	return t;
}

char *remediation_actions_json(const struct remediation *r, size_t *len)
{
	bool on = remediation_actions_enabled(r);
	json_t *o =
		json_pack("{s:b,s:b,s:b,s:o}", "enabled", on, "remediation", r && r->enabled,
			  "dry_run", r && r->dry_run, "actions",
			  on ? json_pack("[s,s]", "/api/v1/questions/answer", "/api/v1/vms/power")
			     : json_array());
	char *s = api_json_text(o, len);

	json_decref(o);
	return s;
}

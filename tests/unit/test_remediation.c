/* Unit tests for agent/remrule, agent/remstate, agent/remhttp: rule matching, choices, the never-twice state file, action bodies, the token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/remediation.h"
#include "agent/remrule.h"
#include "agent/remstate.h"

static char dir[256];

/* An ESX-like msg.uuid.altered question object, as the JSON API shows it. */
static json_t *question(const char *vm, const char *msg_id)
{
	json_t *q = json_pack(
		"{s:s,s:s,s:s,s:[s],s:[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s}],s:s}", "vm", vm,
		"vm_id", "vm-1", "id", "q1", "message_ids", msg_id, "choices", "key", "0", "label",
		"button.uuid.cancel", "summary", "Cancel", "key", "1", "label",
		"button.uuid.movedTheVM", "summary", "I _Moved It", "key", "2", "label",
		"button.uuid.copiedTheVM", "summary", "I _Copied It", "default", "2");

	assert_non_null(q);
	return q;
}

static struct rem_rules *rules(struct conf_rem_rule *v, size_t n)
{
	struct conf_remediation rm = {.min_pending = 60, .rules = v, .nrules = n};
	struct rem_rules *rs = NULL;
	struct err e;

	err_clear(&e);
	assert_int_equal(rem_rules_new(&rm, &rs, &e), 0);
	return rs;
}

static void test_match(void **state)
{
	struct conf_rem_rule v[] = {
		{.message_id = "msg.uuid.altered",
		 .vm = "^lab-",
		 .target = "vc1",
		 .action = CONF_REM_ANSWER,
		 .answer = "default",
		 .min_pending = -1},
		{.message_id = "msg.serial.file.open",
		 .action = CONF_REM_ANSWER,
		 .answer = "Append",
		 .min_pending = 5},
		{.message_id = "*", .action = CONF_REM_CANCEL, .min_pending = 900},
	};
	struct rem_rules *rs = rules(v, 3);
	static const struct {
		const char *target, *vm, *msg;
		int want;
	} cases[] = {
		{"vc1", "lab-1", "msg.uuid.altered", 0},
		{"vc2", "lab-1", "msg.uuid.altered", 2},      /* target differs: the catch-all */
		{"vc1", "prod/lab-1", "msg.uuid.altered", 2}, /* regex anchored */
		{"vc1", "lab-ü", "msg.uuid.altered", 0},
		{"vc9", "x", "msg.serial.file.open", 1},
		{"vc9", "x", "msg.other", 2},
	};
	json_t *q;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		q = question(cases[i].vm, cases[i].msg);
		assert_int_equal(rem_rules_match(rs, cases[i].target, q), cases[i].want);
		json_decref(q);
	}
	assert_int_equal(rem_rules_min_pending(rs, 0), 60);
	assert_int_equal(rem_rules_min_pending(rs, 1), 5);
	assert_int_equal(rem_rules_min_pending(rs, 2), 900);
	/* first match wins; without a catch-all, no rule */
	rem_rules_free(rs);
	rs = rules(v, 2);
	q = question("x", "msg.other");
	assert_int_equal(rem_rules_match(rs, "vc1", q), -1);
	json_decref(q);
	/* a question with no message ids and no vm matches only "*" */
	q = json_pack("{s:s}", "id", "q");
	assert_int_equal(rem_rules_match(rs, "vc1", q), -1);
	json_decref(q);
	rem_rules_free(rs);
}

static void test_bad_regex(void **state)
{
	struct conf_rem_rule v[] = {{.message_id = "*", .vm = "(", .action = CONF_REM_REPORT}};
	struct conf_remediation rm = {.rules = v, .nrules = 1};
	struct rem_rules *rs = NULL;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(rem_rules_new(&rm, &rs, &e), -1);
	assert_null(rs);
	assert_int_equal(e.kind, ERR_CONFIG);
}

static void test_choice(void **state)
{
	static const struct {
		const char *want;
		bool allow_key;
		const char *key; /* NULL: none */
	} cases[] = {
		{"default", false, "2"},
		{"I _Copied It", false, "2"},
		{"I Copied It", false, "2"}, /* without the accelerator mark */
		{"button.uuid.movedTheVM", false, "1"},
		{"Cancel", false, "0"},
		{"1", false, NULL}, /* a bare key: only for the HTTP API */
		{"1", true, "1"},
		{"cancel", false, NULL}, /* case matters */
		{"Append", false, NULL},
		{"", false, NULL},
	};
	json_t *q = question("x", "msg.uuid.altered");
	char why[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *k =
			rem_choice_find(q, cases[i].want, cases[i].allow_key, why, sizeof(why));

		if (cases[i].key)
			assert_string_equal(k, cases[i].key);
		else
			assert_null(k);
	}
	assert_null(rem_choice_find(q, "Append", false, why, sizeof(why)));
	assert_string_equal(why, "no choice matches \"Append\"; offered: 0 \"button.uuid.cancel\" "
				 "(\"Cancel\"), 1 \"button.uuid.movedTheVM\" (\"I _Moved It\"), 2 "
				 "\"button.uuid.copiedTheVM\" (\"I _Copied It\")");
	json_object_set_new(q, "default", json_null());
	assert_null(rem_choice_find(q, "default", false, why, sizeof(why)));
	assert_non_null(strstr(why, "no default choice"));
	/* two choices with one label: ambiguous, nothing chosen */
	json_array_append_new(
		json_object_get(q, "choices"),
		json_pack("{s:s,s:s,s:s}", "key", "3", "label", "Cancel", "summary", "Cancel"));
	assert_null(rem_choice_find(q, "Cancel", false, why, sizeof(why)));
	assert_non_null(strstr(why, "several choices match"));
	/* no choices at all */
	json_object_del(q, "choices");
	assert_null(rem_choice_find(q, "Cancel", false, why, sizeof(why)));
	assert_non_null(strstr(why, "offered: none"));
	json_decref(q);
}

/* Writes text to DIR/NAME and returns the path (static). */
static const char *state_file(const char *name, const char *text, size_t len)
{
	static char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	if (text) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, text, len), (ssize_t)len);
		close(fd);
	}
	return path;
}

static void test_state_roundtrip(void **state)
{
	const char *path = state_file("rt", NULL, 0);
	struct remstate *st = NULL;
	struct remstate_entry ent;
	bool dropped = true;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(remstate_open(path, 3600, &st, &dropped, &e), 0);
	assert_false(dropped);
	assert_int_equal(remstate_count(st), 0);
	assert_false(remstate_get(st, "vc1", "vm-1", "q1", NULL));
	assert_int_equal(remstate_claim(st, "vc1", "vm-1", "q1", "rule 1", "2", NULL, &e), 1);
	/* the same question again, whoever asks: refused, with the first claim */
	assert_int_equal(remstate_claim(st, "vc1", "vm-1", "q1", "http 10.0.0.1", "0", &ent, &e),
			 0);
	assert_string_equal(ent.by, "rule 1");
	assert_string_equal(ent.state, "sending");
	/* another VM, question or target is another question */
	assert_int_equal(remstate_claim(st, "vc1", "vm-2", "q1", "rule 1", "2", NULL, &e), 1);
	assert_int_equal(remstate_claim(st, "vc2", "vm-1", "q1", "rule 1", "2", NULL, &e), 1);
	assert_int_equal(remstate_claim(st, "vc1", "vm-1", "q2", "rule 1", "2", NULL, &e), 1);
	assert_int_equal(remstate_settle(st, "vc1", "vm-1", "q1", "unknown", &e), 0);
	/* released: it never left, so it may be claimed again */
	assert_int_equal(remstate_settle(st, "vc1", "vm-1", "q2", "released", &e), 0);
	assert_int_equal(remstate_count(st), 3);
	remstate_free(st);
	st = NULL;

	/* reopened (a restart): the same answers are known */
	assert_int_equal(remstate_open(path, 3600, &st, &dropped, &e), 0);
	assert_int_equal(remstate_count(st), 3);
	assert_true(remstate_get(st, "vc1", "vm-1", "q1", &ent));
	assert_string_equal(ent.state, "unknown");
	assert_string_equal(ent.choice, "2");
	assert_false(remstate_get(st, "vc1", "vm-1", "q2", NULL));
	assert_int_equal(remstate_claim(st, "vc1", "vm-1", "q2", "rule 1", "2", NULL, &e), 1);
	remstate_free(st);
}

static void test_state_hostile(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* in the message; NULL: loads */
	} cases[] = {
		{"not json\n", "x:1: not JSON"},
		{"[1,2]\n", "x:1: not a JSON object"},
		{"{\"target\":\"a\",\"vm_id\":\"b\",\"question_id\":\"c\",\"state\":\"sending\"}\n{"
		 "\"target\":1}\n",
		 "x:2: want string members"},
		{"{\"target\":\"a\",\"vm_id\":\"b\",\"question_id\":\"c\",\"state\":\"bogus\"}\n",
		 "x:1: unknown state"},
		{"{\"target\":\"a\",\"vm_id\":\"b\",\"question_id\":\"c\"}\n", "x:1: want string"},
		{"{\"target\":\"\",\"vm_id\":\"b\",\"question_id\":\"c\",\"state\":\"sending\"}\n",
		 "x:1: want string"},
		{"{\"target\":\"a\",\"target\":\"a\",\"vm_id\":\"b\",\"question_id\":\"c\","
		 "\"state\":\"sending\"}\n",
		 "x:1: not JSON"},
		{"{\"target\":\"a\\u0000b\",\"vm_id\":\"b\",\"question_id\":\"c\",\"state\":"
		 "\"sending\"}\n",
		 "x:1: not JSON"},
		{"{\"target\":\"a\",\"vm_id\":\"b\",\"question_id\":\"c\",\"state\":\"sending\","
		 "\"time\":\"x\"}\n",
		 "x:1: want string"},
		{"\n\n{\"target\":\"a\",\"vm_id\":\"b\",\"question_id\":\"c\",\"state\":"
		 "\"answered\"}\n",
		 NULL},
		/* a last line cut short is dropped (it was written before any AnswerVM) */
		{"{\"target\":\"a\",\"vm_id\":\"b\",\"question_id\":\"c\",\"state\":\"answered\"}"
		 "\n{\"tar",
		 NULL},
	};
	struct remstate *st = NULL;
	struct err e;
	bool dropped;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = state_file("x", cases[i].text, strlen(cases[i].text));
		int rc;

		err_clear(&e);
		rc = remstate_open(path, 3600, &st, &dropped, &e);
		if (!cases[i].want) {
			assert_int_equal(rc, 0);
			assert_true(remstate_get(st, "a", "b", "c", NULL));
			assert_int_equal(dropped, cases[i].text[strlen(cases[i].text) - 1] != '\n');
			remstate_free(st);
			st = NULL;
			continue;
		}
		assert_int_equal(rc, -1);
		assert_null(st);
		if (!strstr(e.msg, cases[i].want))
			fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, e.msg,
				 cases[i].want);
	}
}

static void test_state_big(void **state)
{
	size_t n = REMSTATE_MAX_LINE + 100;
	char *text = malloc(n + 1);
	struct remstate *st = NULL;
	struct err e;
	const char *path;

	(void)state;
	assert_non_null(text);
	memset(text, 'x', n);
	text[0] = '"';
	text[n - 2] = '"';
	text[n - 1] = '\n';
	text[n] = '\0';
	path = state_file("big", text, n);
	err_clear(&e);
	assert_int_equal(remstate_open(path, 3600, &st, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "line longer than"));
	free(text);
	/* a directory is not a state file */
	err_clear(&e);
	assert_int_equal(remstate_open(dir, 3600, &st, NULL, &e), -1);
	/* a field too long to claim */
	memset(&e, 0, sizeof(e));
	path = state_file("long", NULL, 0);
	assert_int_equal(remstate_open(path, 3600, &st, NULL, &e), 0);
	text = malloc(REMSTATE_MAX_FIELD + 2);
	assert_non_null(text);
	memset(text, 'q', REMSTATE_MAX_FIELD + 1);
	text[REMSTATE_MAX_FIELD + 1] = '\0';
	assert_int_equal(remstate_claim(st, "a", "b", text, "rule", "1", NULL, &e), -1);
	free(text);
	remstate_free(st);
}

/* Sets the file size limit (soft) to lim bytes; returns the old limits in *old. */
static void limit_file_size(rlim_t lim, struct rlimit *old)
{
	struct rlimit r;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, old), 0);
	r = *old;
	r.rlim_cur = lim;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &r), 0);
}

/* A full disk in the middle of a record (here the file size limit, which
 * cuts a write short the same way): the claim fails, nothing half-written
 * stays, and the file still loads after the next records. */
static void test_state_disk_full(void **state)
{
	const char *path = state_file("full", NULL, 0);
	struct remstate *st = NULL;
	struct rlimit old;
	struct stat sb;
	struct err e;
	bool dropped = true;
	char line[] = "{\"a\":1}\n";
	int fd;

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	err_clear(&e);
	assert_int_equal(remstate_open(path, 3600, &st, &dropped, &e), 0);
	assert_int_equal(remstate_claim(st, "vc1", "vm-1", "q1", "rule 1", "2", NULL, &e), 1);
	assert_int_equal(stat(path, &sb), 0);
	limit_file_size((rlim_t)sb.st_size + 20, &old);
	err_clear(&e);
	assert_int_equal(remstate_claim(st, "vc1", "vm-1", "q2", "rule 1", "2", NULL, &e), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* not claimed: nothing was sent, so it may be claimed once there is room */
	assert_false(remstate_get(st, "vc1", "vm-1", "q2", NULL));
	err_clear(&e);
	assert_int_equal(remstate_claim(st, "vc1", "vm-1", "q3", "rule 1", "2", NULL, &e), 1);
	remstate_free(st);
	st = NULL;
	/* a restart: every complete record is read back, and nothing is dropped */
	err_clear(&e);
	assert_int_equal(remstate_open(path, 3600, &st, &dropped, &e), 0);
	assert_false(dropped);
	assert_true(remstate_get(st, "vc1", "vm-1", "q1", NULL));
	assert_true(remstate_get(st, "vc1", "vm-1", "q3", NULL));
	assert_false(remstate_get(st, "vc1", "vm-1", "q2", NULL));
	remstate_free(st);

	/* the audit log's appends: the same (a line cut short is taken back) */
	fd = open(path, O_WRONLY | O_APPEND | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(remstate_append_sync(fd, line, strlen(line)), 0);
	limit_file_size((rlim_t)strlen(line) + 3, &old);
	assert_int_equal(remstate_append_sync(fd, line, strlen(line)), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_size, strlen(line));
	close(fd);
	signal(SIGXFSZ, SIG_DFL);
}

/* A full disk at start (here the file size limit): the rewrite fails, the
 * file is loaded and appended to as it is (its cut-short last line cut
 * off), rather than the agent refusing to start. */
static void test_state_full_at_open(void **state)
{
	static const char text[] =
		"{\"target\":\"vc1\",\"vm_id\":\"vm-1\",\"question_id\":\"q1\",\"state\":"
		"\"answered\"}\n{\"target\":\"vc1\",\"vm_id\":\"vm-2\",\"question_id\":\"q1\","
		"\"state\":\"unknown\"}\n{\"target\":\"vc";
	const char *path = state_file("fullopen", text, sizeof(text) - 1);
	struct remstate *st = NULL;
	struct rlimit old;
	bool dropped = false;
	struct err e;

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	err_clear(&e);
	limit_file_size(10, &old);
	assert_int_equal(remstate_open(path, 3600, &st, &dropped, &e), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_true(dropped);
	assert_non_null(remstate_warning(st));
	assert_non_null(strstr(remstate_warning(st), "appending to it as it is"));
	assert_int_equal(remstate_count(st), 2);
	assert_true(remstate_get(st, "vc1", "vm-2", "q1", NULL));
	assert_int_equal(remstate_claim(st, "vc1", "vm-3", "q1", "rule 1", "2", NULL, &e), 1);
	remstate_free(st);
	st = NULL;
	err_clear(&e);
	assert_int_equal(remstate_open(path, 3600, &st, &dropped, &e), 0);
	assert_false(dropped);
	assert_null(remstate_warning(st));
	assert_int_equal(remstate_count(st), 3);
	remstate_free(st);
	signal(SIGXFSZ, SIG_DFL);
}

static void test_body(void **state)
{
	static const char *const names[] = {"target", "vm_id", "question_id", "choice"};
	static const char *const bools[] = {"auto_answer"};
	static const struct {
		const char *body;
		const char *want; /* reason; NULL: parses */
	} cases[] = {
		{"{\"target\":\"vc1\",\"vm_id\":\"vm-1\",\"question_id\":\"q\",\"choice\":"
		 "\"default\","
		 "\"auto_answer\":true}",
		 NULL},
		{"", "no body"},
		{"{", "malformed JSON at line 1"},
		{"[]", "must be a JSON object"},
		{"{\"target\":1}", "\"target\" must be a non-empty string"},
		{"{\"target\":\"\"}", "\"target\" must be a non-empty string"},
		{"{\"auto_answer\":\"yes\"}", "\"auto_answer\" must be true or false"},
		{"{\"zzz\":1}", "unknown member \"zzz\""},
		{"{\"target\":\"a\",\"target\":\"b\"}", "malformed JSON"},
		{"{\"target\":\"a\\u0000b\"}", "malformed JSON"},
		{"{\"target\":\"\xff\"}", "malformed JSON"},
		{"{\"a\":1} trailing", "malformed JSON"},
	};
	const char *vals[4];
	bool bv[1];
	char why[256];
	json_t *root;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = rem_parse_body(cases[i].body, strlen(cases[i].body), names, 4, bools, 1,
					&root, vals, bv, why, sizeof(why));

		if (!cases[i].want) {
			assert_int_equal(rc, 0);
			assert_string_equal(vals[0], "vc1");
			assert_string_equal(vals[3], "default");
			assert_true(bv[0]);
			json_decref(root);
			continue;
		}
		assert_int_equal(rc, -1);
		assert_null(root);
		if (!strstr(why, cases[i].want))
			fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, why, cases[i].want);
	}
	/* over the cap */
	{
		size_t n = REM_BODY_MAX + 1;
		char *big = malloc(n);

		assert_non_null(big);
		memset(big, ' ', n);
		assert_int_equal(rem_parse_body(big, n, names, 4, NULL, 0, &root, vals, bv, why,
						sizeof(why)),
				 -1);
		assert_non_null(strstr(why, "larger than"));
		free(big);
	}
}

static void test_bearer(void **state)
{
	const char *tok = "0123456789abcdef";

	(void)state;
	assert_int_equal(rem_bearer_ok(tok, "Bearer 0123456789abcdef"), 1);
	assert_int_equal(rem_bearer_ok(tok, "bearer 0123456789abcdef"), 1);
	assert_int_equal(rem_bearer_ok(tok, "Bearer 0123456789abcdeF"), 0);
	assert_int_equal(rem_bearer_ok(tok, "Bearer 0123456789abcde"), 0);
	assert_int_equal(rem_bearer_ok(tok, "Bearer 0123456789abcdef0"), 0);
	assert_int_equal(rem_bearer_ok(tok, "Basic 0123456789abcdef"), 0);
	assert_int_equal(rem_bearer_ok(tok, "Bearer "), 0);
	assert_int_equal(rem_bearer_ok(tok, ""), 0);
	assert_int_equal(rem_bearer_ok(tok, NULL), 0);
	assert_int_equal(rem_bearer_ok(NULL, "Bearer x"), 0);
	assert_int_equal(rem_bearer_ok("", "Bearer "), 0);
}

/* The remediation section and api_token_file as agent/conf reads them. */
static void test_conf(void **state)
{
	char pw[400], tok[400], conf[400], text[2048];
	struct conf *c = NULL;
	struct buf problems;
	FILE *f;

	(void)state;
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	snprintf(tok, sizeof(tok), "%s/tok", dir);
	snprintf(conf, sizeof(conf), "%s/vimon.conf", dir);
	state_file("pw", "secret\n", 7);
	state_file("tok", "0123456789abcdef-token\n", 23);
	/* defaults: the section absent */
	snprintf(text, sizeof(text),
		 "targets = ( { name = \"vc1\"; url = \"https://vc/sdk\"; username = \"u\"; "
		 "password_file = \"%s\"; } );\n",
		 pw);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	buf_init(&problems, 0);
	assert_int_equal(conf_load(conf, &c, &problems), 0);
	assert_false(c->remediation.enabled);
	assert_true(c->remediation.dry_run);
	assert_int_equal(c->remediation.min_pending, 60);
	assert_int_equal(c->remediation.max_actions_per_hour, 20);
	assert_string_equal(c->remediation.audit_log, "/var/lib/vimon/audit.log");
	assert_string_equal(c->remediation.state_file, "/var/lib/vimon/remediation.state");
	assert_int_equal(c->remediation.nrules, 0);
	assert_null(c->api_token);
	conf_free(c);
	c = NULL;
	/* everything set */
	snprintf(text, sizeof(text),
		 "api_token_file = \"%s\";\n"
		 "targets = ( { name = \"vc1\"; url = \"https://vc/sdk\"; username = \"u\"; "
		 "password_file = \"%s\"; } );\n"
		 "remediation = { enabled = true; dry_run = false; min_pending = 5;\n"
		 "  max_actions_per_hour = 0; audit_log = \"/a\"; state_file = \"/s\";\n"
		 "  rules = ( { message_id = \"msg.uuid.altered\"; answer = \"default\"; vm = "
		 "\"^lab-\"; target = \"vc1\"; },\n"
		 "    { message_id = \"*\"; action = \"cancel\"; min_pending = 900; } ); };\n",
		 tok, pw);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(conf_load(conf, &c, &problems), 0);
	assert_string_equal(c->api_token, "0123456789abcdef-token");
	assert_true(c->remediation.enabled);
	assert_false(c->remediation.dry_run);
	assert_int_equal(c->remediation.min_pending, 5);
	assert_int_equal(c->remediation.max_actions_per_hour, 0);
	assert_int_equal(c->remediation.nrules, 2);
	assert_int_equal(c->remediation.rules[0].action, CONF_REM_ANSWER);
	assert_string_equal(c->remediation.rules[0].answer, "default");
	assert_string_equal(c->remediation.rules[0].vm, "^lab-");
	assert_string_equal(c->remediation.rules[0].target, "vc1");
	assert_int_equal(c->remediation.rules[0].min_pending, -1);
	assert_int_equal(c->remediation.rules[0].line, 5);
	assert_int_equal(c->remediation.rules[1].action, CONF_REM_CANCEL);
	assert_int_equal(c->remediation.rules[1].min_pending, 900);
	assert_string_equal(conf_rem_action_name(CONF_REM_REPORT), "report");
	conf_free(c);
	/* a token too short */
	state_file("tok", "short\n", 6);
	c = NULL;
	assert_int_equal(conf_load(conf, &c, &problems), -1);
	assert_non_null(strstr(problems.data, "vimon.conf:1: api_token_file"));
	assert_non_null(strstr(problems.data, "shorter than 16 characters"));
	buf_release(&problems);
	unlink(conf);
	unlink(pw);
	unlink(tok);
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/vimon-test-rem.XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(dir, sizeof(dir), "%s", tmpl);
	return 0;
}

static int teardown(void **state)
{
	static const char *const names[] = {"rt", "rt.tmp", "x", "x.tmp", "big", "long"};
	char path[400];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_bad_regex),
		cmocka_unit_test(test_choice),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_state_hostile),
		cmocka_unit_test(test_state_big),
		cmocka_unit_test(test_state_disk_full),
		cmocka_unit_test(test_state_full_at_open),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_conf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

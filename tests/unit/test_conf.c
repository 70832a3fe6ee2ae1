/* Unit tests for agent/conf: every kind of problem with its FILE:LINE, defaults, collect, passwords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/conf.h"

#define SECRET_FILE "s3cret-from-FILE"
#define SECRET_ENV  "s3cret-from-ENV"

static char dir[256];
static char good_pw[300], open_pw[300], empty_pw[300];

/* Writes text to path with mode. */
static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* Replaces every "@PW@" with the good password file, "@OPEN@" with the
 * group-readable one, "@EMPTY@" with the empty one, "@DIR@" with the dir. */
static void expand(const char *in, struct buf *out)
{
	while (*in) {
		if (strncmp(in, "@PW@", 4) == 0) {
			buf_adds(out, good_pw);
			in += 4;
		} else if (strncmp(in, "@OPEN@", 6) == 0) {
			buf_adds(out, open_pw);
			in += 6;
		} else if (strncmp(in, "@EMPTY@", 7) == 0) {
			buf_adds(out, empty_pw);
			in += 7;
		} else if (strncmp(in, "@DIR@", 5) == 0) {
			buf_adds(out, dir);
			in += 5;
		} else {
			buf_addc(out, *in++);
		}
	}
}

/* Loads text as a config file; returns conf_load's result and the problems
 * with the file name replaced by "F". */
static int load(const char *text, struct conf **out, struct buf *problems)
{
	char path[300];
	struct buf content, raw;
	const char *p;
	int rc;

	snprintf(path, sizeof(path), "%s/vimon.conf", dir);
	buf_init(&content, 0);
	expand(text, &content);
	write_file(path, content.data, 0644);
	buf_release(&content);
	buf_init(&raw, 0);
	rc = conf_load(path, out, &raw);
	for (p = raw.data; *p;) {
		if (strncmp(p, path, strlen(path)) == 0) {
			buf_addc(problems, 'F');
			p += strlen(path);
		} else {
			buf_addc(problems, *p++);
		}
	}
	buf_release(&raw);
	return rc;
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/vimon-test-conf.XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(good_pw, sizeof(good_pw), "%s/pw", dir);
	snprintf(open_pw, sizeof(open_pw), "%s/pw-open", dir);
	snprintf(empty_pw, sizeof(empty_pw), "%s/pw-empty", dir);
	write_file(good_pw, SECRET_FILE "\n", 0600);
	write_file(open_pw, SECRET_FILE "\n", 0640);
	write_file(empty_pw, "\n", 0600);
	setenv("VIMON_TEST_PW", SECRET_ENV, 1);
	unsetenv("VIMON_TEST_UNSET");
	return 0;
}

static int teardown(void **state)
{
	char path[300];

	(void)state;
	unlink(good_pw);
	unlink(open_pw);
	unlink(empty_pw);
	snprintf(path, sizeof(path), "%s/vimon.conf", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* A config that must fail with exactly these problem lines ("F" is the file). */
static const struct bad_case {
	const char *what;
	const char *text;
	const char *want;
} bad_cases[] = {
	{"syntax error", "listen = \"x:1\"\ntargets = ( { name = ; } );\n", "F:2: syntax error\n"},
	{"unknown root key", "listen = \"127.0.0.1:1\";\nlisten_port = 5;\ntargets = ();\n",
	 "F:2: unknown key \"listen_port\"\n"},
	{"missing targets", "listen = \"127.0.0.1:1\";\n",
	 "F:1: missing required key \"targets\" (a list of targets)\n"},
	{"targets not a list", "targets = 3;\n",
	 "F:1: targets must be a list ( { ... }, { ... } ), not an integer\n"},
	{"listen wrong type", "listen = 9743;\ntargets = ();\n",
	 "F:1: listen must be a string, not an integer\n"},
	{"listen invalid", "listen = \"9743\";\ntargets = ();\n",
	 "F:1: invalid listen \"9743\" (want HOST:PORT or [IPV6]:PORT)\n"},
	{"listen port too large", "listen = \"0.0.0.0:70000\";\ntargets = ();\n",
	 "F:1: invalid listen \"0.0.0.0:70000\" (want HOST:PORT or [IPV6]:PORT)\n"},
	{"unknown target key",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n  passwd = \"x\";\n }\n);\n",
	 "F:7: unknown key \"passwd\" in target\n"},
	{"missing name, url, username", "targets = (\n {\n  password_file = \"@PW@\";\n }\n);\n",
	 "F:2: target 1: missing required key \"name\"\n"
	 "F:2: target ?: missing required key \"url\"\n"
	 "F:2: target ?: missing required key \"username\"\n"},
	{"neither password_file nor password_env",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 " }\n);\n",
	 "F:2: target a: missing password_file or password_env\n"},
	{"both password_file and password_env",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n  password_env = \"VIMON_TEST_PW\";\n }\n);\n",
	 "F:7: target a: password_file and password_env are both set; keep one\n"},
	{"missing password file",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@DIR@/nope\";\n }\n);\n",
	 "F:6: password_file @DIR@/nope: No such file or directory\n"},
	{"group-readable password file",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@OPEN@\";\n }\n);\n",
	 "F:6: password_file @OPEN@ is accessible by group or others (mode 0640); refusing it: "
	 "chmod 600 it\n"},
	{"empty password file",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@EMPTY@\";\n }\n);\n",
	 "F:6: password_file @EMPTY@ is empty or holds a NUL byte\n"},
	{"unset password env",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_env = \"VIMON_TEST_UNSET\";\n }\n);\n",
	 "F:6: password_env: environment variable VIMON_TEST_UNSET is not set or empty\n"},
	{"invalid url",
	 "targets = (\n {\n  name = \"a\";\n  url = \"vc.example.com/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n }\n);\n",
	 "F:4: invalid url \"vc.example.com/sdk\" (want https://host[:port]/sdk)\n"},
	{"invalid url port",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc:44x/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n }\n);\n",
	 "F:4: invalid url \"https://vc:44x/sdk\" (want https://host[:port]/sdk)\n"},
	{"invalid thumbprint",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n  thumbprint = \"AB:CD:EF\";\n }\n);\n",
	 "F:7: invalid thumbprint: 6 hex digits (want 64 for SHA-256 or 40 for SHA-1)\n"},
	{"insecure with a thumbprint",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n  insecure = true;\n  thumbprint = "
	 "\"ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01\";\n }\n);\n",
	 "F:7: target a: insecure = true and thumbprint contradict each other: remove insecure "
	 "to pin the certificate, or thumbprint to skip verification\n"},
	{"name not UTF-8",
	 "targets = (\n {\n  name = \"vc\xff\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n }\n);\n",
	 "F:3: name must be valid UTF-8\n"},
	{"wrong types",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = 7;\n"
	 "  password_file = \"@PW@\";\n  insecure = \"yes\";\n  timeout = \"30\";\n"
	 "  collect = \"vm\";\n }\n);\n",
	 "F:5: username must be a string, not an integer\n"
	 "F:7: insecure must be true or false, not a string\n"
	 "F:8: timeout must be an integer (seconds), not a string\n"
	 "F:9: collect must be an array of strings like [\"vm\", \"host\"], not a string\n"},
	{"timeout out of range",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n  timeout = 0;\n }\n);\n",
	 "F:7: timeout must be between 1 and 3600 seconds\n"},
	{"unknown collect subject",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n  collect = [\"vm\", \"network\"];\n }\n);\n",
	 "F:7: collect: unknown subject \"network\" (known: vm, host, datastore, question, "
	 "task, perf, perf_vm)\n"},
	{"empty collect",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n  collect = [];\n }\n);\n",
	 "F:7: collect is empty (leave it out to collect everything)\n"},
	{"counters without their objects",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n  collect = [\"datastore\", \"perf\", \"perf_vm\"];\n "
	 "}\n);\n",
	 "F:7: collect: \"perf\" (host counters) needs \"host\"\n"
	 "F:7: collect: \"perf_vm\" (VM counters) needs \"vm\"\n"},
	{"task retention out of range",
	 "task_retention = 0;\ntargets = (\n {\n  name = \"a\";\n  url = \"https://vc/sdk\";\n"
	 "  username = \"u\";\n  password_file = \"@PW@\";\n  task_retention = \"1h\";\n }\n);\n",
	 "F:1: task_retention must be between 1 and 604800 seconds\n"
	 "F:8: task_retention must be an integer (seconds), not a string\n"},
	{"target not a group", "targets = ( \"vc1\" );\n",
	 "F:1: targets: element 1 must be a group { name = ...; ... }, not a string\n"},
	{"duplicate target names",
	 "targets = (\n {\n  name = \"a\";\n  url = \"https://vc1/sdk\";\n  username = \"u\";\n"
	 "  password_file = \"@PW@\";\n },\n {\n  name = \"a\";\n  url = \"https://vc2/sdk\";\n"
	 "  username = \"u\";\n  password_env = \"VIMON_TEST_PW\";\n }\n);\n",
	 "F:8: duplicate target name \"a\" (first at line 2)\n"},
	{"several problems in several targets",
	 "listen = \"nowhere\";\ntargets = (\n { name = \"a\"; url = \"ftp://x\"; username = \"u\";"
	 " password_file = \"@OPEN@\"; },\n { name = \"b\"; url = \"https://y/sdk\"; username = "
	 "\"u\"; password_env = \"VIMON_TEST_UNSET\"; colect = [\"vm\"]; }\n);\n",
	 "F:1: invalid listen \"nowhere\" (want HOST:PORT or [IPV6]:PORT)\n"
	 "F:3: invalid url \"ftp://x\" (want https://host[:port]/sdk)\n"
	 "F:3: password_file @OPEN@ is accessible by group or others (mode 0640); refusing it: "
	 "chmod 600 it\n"
	 "F:4: unknown key \"colect\" in target\n"
	 "F:4: password_env: environment variable VIMON_TEST_UNSET is not set or empty\n"},
};

static void test_bad(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct conf *c = NULL;
		struct buf problems, want;
		int rc;

		buf_init(&problems, 0);
		buf_init(&want, 0);
		expand(bad_cases[i].want, &want);
		rc = load(bad_cases[i].text, &c, &problems);
		if (rc != -1 || strcmp(problems.data, want.data) != 0)
			print_error("case \"%s\": rc %d\n got: %s want: %s", bad_cases[i].what, rc,
				    problems.data, want.data);
		assert_int_equal(rc, -1);
		assert_null(c);
		assert_string_equal(problems.data, want.data);
		assert_null(strstr(problems.data, SECRET_FILE));
		assert_null(strstr(problems.data, SECRET_ENV));
		buf_release(&problems);
		buf_release(&want);
	}
}

static void test_defaults(void **state)
{
	struct conf *c = NULL;
	struct buf problems;

	(void)state;
	buf_init(&problems, 0);
	assert_int_equal(load("targets = (\n {\n  name = \"vc\";\n  url = \"https://vc/sdk\";\n"
			      "  username = \"u\";\n  password_file = \"@PW@\";\n }\n);\n",
			      &c, &problems),
			 0);
	assert_string_equal(problems.data, "");
	assert_non_null(c);
	assert_string_equal(c->listen, "0.0.0.0:9743");
	assert_int_equal(c->ntargets, 1);
	assert_string_equal(c->targets[0].name, "vc");
	assert_string_equal(c->targets[0].url, "https://vc/sdk");
	assert_string_equal(c->targets[0].username, "u");
	assert_string_equal(c->targets[0].password, SECRET_FILE);
	assert_null(c->targets[0].ca_file);
	assert_null(c->targets[0].thumbprint);
	assert_null(c->targets[0].proxy);
	assert_false(c->targets[0].insecure);
	/* everything but the VMs' performance counters */
	assert_int_equal(c->targets[0].collect, CONF_COLLECT_DEFAULT);
	assert_false(c->targets[0].collect & CONF_COLLECT_PERF_VM);
	assert_true(c->targets[0].collect & CONF_COLLECT_PERF);
	assert_int_equal(c->targets[0].timeout_s, 60);
	assert_int_equal(c->targets[0].line, 2);
	conf_free(c);
	buf_release(&problems);
}

static void test_full(void **state)
{
	struct conf *c = NULL;
	struct buf problems;

	(void)state;
	buf_init(&problems, 0);
	assert_int_equal(load("listen = \"127.0.0.1:0\";\ntargets = (\n"
			      " { name = \"a\"; url = \"https://vc:8443/sdk\"; username = "
			      "\"u@vsphere.local\";"
			      " password_env = \"VIMON_TEST_PW\"; timeout = 5;"
			      " collect = [\"vm\", \"question\"]; proxy = \"http://proxy:3128\";"
			      " thumbprint = "
			      "\"ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01\";"
			      " ca_file = \"@PW@\"; },\n"
			      " { name = \"b\"; url = \"http://[::1]:80/sdk\"; username = \"u\";"
			      " password_file = \"@PW@\"; insecure = true;"
			      " collect = [\"host\", \"datastore\", \"task\"]; }\n"
			      ");\n",
			      &c, &problems),
			 0);
	assert_string_equal(problems.data, "");
	assert_string_equal(c->listen, "127.0.0.1:0");
	assert_int_equal(c->ntargets, 2);
	assert_string_equal(c->targets[0].password, SECRET_ENV);
	assert_false(c->targets[0].insecure);
	assert_true(c->targets[1].insecure);
	assert_false(conf_target_cleartext(&c->targets[0]));
	assert_true(conf_target_cleartext(&c->targets[1]));
	assert_int_equal(c->targets[0].timeout_s, 5);
	assert_int_equal(c->targets[0].collect, CONF_COLLECT_VM | CONF_COLLECT_QUESTION);
	assert_string_equal(c->targets[0].proxy, "http://proxy:3128");
	assert_non_null(c->targets[0].thumbprint);
	assert_int_equal(c->targets[1].collect,
			 CONF_COLLECT_HOST | CONF_COLLECT_DATASTORE | CONF_COLLECT_TASK);
	assert_int_equal(c->targets[1].line, 4);
	conf_free(c);
	buf_release(&problems);
}

/* task_retention: 600 s by default, a global value, a target's own value. */
static void test_task_retention(void **state)
{
	struct conf *c = NULL;
	struct buf problems;

	(void)state;
	buf_init(&problems, 0);
	assert_int_equal(load("targets = ( { name = \"a\"; url = \"https://vc/sdk\"; username = "
			      "\"u\"; password_file = \"@PW@\"; } );\n",
			      &c, &problems),
			 0);
	assert_int_equal(c->task_retention_s, 600);
	assert_int_equal(c->targets[0].task_retention_s, 600);
	conf_free(c);
	c = NULL;
	assert_int_equal(load("task_retention = 120;\ntargets = (\n"
			      " { name = \"a\"; url = \"https://vc/sdk\"; username = \"u\";"
			      " password_file = \"@PW@\"; },\n"
			      " { name = \"b\"; url = \"https://vc/sdk\"; username = \"u\";"
			      " password_file = \"@PW@\"; task_retention = 30; }\n);\n",
			      &c, &problems),
			 0);
	assert_string_equal(problems.data, "");
	assert_int_equal(c->task_retention_s, 120);
	assert_int_equal(c->targets[0].task_retention_s, 120);
	assert_int_equal(c->targets[1].task_retention_s, 30);
	assert_false(conf_target_equal(&c->targets[0], &c->targets[1]));
	conf_free(c);
	buf_release(&problems);
}

/* root, vm_include, vm_exclude: read, copied, compared. */
static void test_scope(void **state)
{
	struct conf *c = NULL;
	struct conf_target copy;
	struct buf problems;

	(void)state;
	buf_init(&problems, 0);
	assert_int_equal(load("targets = ( { name = \"a\"; url = \"https://vc/sdk\"; username = "
			      "\"u\"; password_file = \"@PW@\"; root = \"/DC1/host/Cluster-A\";"
			      " vm_include = \"^prod-\"; vm_exclude = \"-(test|tmp)$\"; } );\n",
			      &c, &problems),
			 0);
	assert_string_equal(problems.data, "");
	assert_string_equal(c->targets[0].root, "/DC1/host/Cluster-A");
	assert_string_equal(c->targets[0].vm_include, "^prod-");
	assert_string_equal(c->targets[0].vm_exclude, "-(test|tmp)$");
	assert_int_equal(conf_target_copy(&copy, &c->targets[0]), 0);
	assert_true(copy.root != c->targets[0].root);
	assert_true(conf_target_equal(&copy, &c->targets[0]));
	free(copy.vm_exclude);
	copy.vm_exclude = NULL;
	assert_false(conf_target_equal(&copy, &c->targets[0]));
	conf_target_release(&copy);
	conf_free(c);
	c = NULL;
	buf_reset(&problems);
	assert_int_equal(
		load("targets = ( { name = \"a\"; url = \"https://vc/sdk\"; username = "
		     "\"u\"; password_file = \"@PW@\"; root = \"DC1\"; vm_exclude = \"[\"; } );\n",
		     &c, &problems),
		-1);
	assert_non_null(strstr(problems.data, "root must be an inventory path"));
	assert_non_null(strstr(problems.data, "vm_exclude: invalid regular expression \"[\""));
	buf_release(&problems);
}

static void test_equal(void **state)
{
	struct conf *a = NULL, *b = NULL;
	struct buf problems;
	const char *one = "targets = ( { name = \"a\"; url = \"https://vc/sdk\"; username = \"u\";"
			  " password_file = \"@PW@\"; } );\n";
	const char *moved = "\n\ntargets = (\n { name = \"a\"; url = \"https://vc/sdk\";"
			    " username = \"u\"; password_file = \"@PW@\"; } );\n";
	const char *changed = "targets = ( { name = \"a\"; url = \"https://vc/sdk\";"
			      " username = \"u\"; password_env = \"VIMON_TEST_PW\"; } );\n";

	(void)state;
	buf_init(&problems, 0);
	assert_int_equal(load(one, &a, &problems), 0);
	assert_int_equal(load(moved, &b, &problems), 0);
	assert_int_equal(conf_target_equal(&a->targets[0], &b->targets[0]), 1);
	conf_free(b);
	b = NULL;
	assert_int_equal(load(changed, &b, &problems), 0);
	assert_int_equal(conf_target_equal(&a->targets[0], &b->targets[0]), 0);
	conf_free(a);
	conf_free(b);
	conf_free(NULL);
	buf_release(&problems);
}

/* conf_target_copy is deep; conf_target_release wipes; the collect names. */
static void test_copy_describe(void **state)
{
	struct conf *c = NULL;
	struct conf_target t;
	struct buf problems, d;

	(void)state;
	buf_init(&problems, 0);
	buf_init(&d, 0);
	assert_int_equal(
		load("targets = ( { name = \"a\"; url = \"https://vc/sdk\"; username = "
		     "\"u\"; password_file = \"@PW@\"; collect = [\"task\", \"vm\"]; } );\n",
		     &c, &problems),
		0);
	assert_int_equal(conf_target_copy(&t, &c->targets[0]), 0);
	assert_ptr_not_equal(t.password, c->targets[0].password);
	assert_string_equal(t.password, SECRET_FILE);
	assert_null(t.ca_file);
	assert_int_equal(conf_target_equal(&t, &c->targets[0]), 1);
	conf_free(c);
	assert_string_equal(t.name, "a");
	conf_target_release(&t);
	assert_null(t.password);
	conf_target_release(NULL);
	assert_int_equal(conf_collect_describe(CONF_COLLECT_TASK | CONF_COLLECT_VM, &d), 0);
	assert_string_equal(d.data, "vm, task");
	buf_reset(&d);
	conf_collect_describe(CONF_COLLECT_ALL, &d);
	assert_string_equal(d.data, "vm, host, datastore, question, task");
	buf_release(&d);
	buf_release(&problems);
}

static void test_missing_file(void **state)
{
	struct conf *c = NULL;
	struct buf problems;

	(void)state;
	buf_init(&problems, 0);
	assert_int_equal(conf_load("/nonexistent/vimon.conf", &c, &problems), -1);
	assert_null(c);
	assert_string_equal(problems.data,
			    "/nonexistent/vimon.conf:1: cannot read the file: No such file or "
			    "directory\n");
	buf_release(&problems);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_copy_describe),
		cmocka_unit_test(test_task_retention),
		cmocka_unit_test(test_scope),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

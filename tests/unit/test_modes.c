/* Unit tests: check_vsphere's modes evaluated from JSON objects shaped like the agent's API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugins/modes.h"

#define NOW 1800000000.0

/* Evaluates mode on the JSON texts; returns the rendered output (caller frees) and the state. */
static char *eval(struct chk_opts *o, const char *targets, const char *items,
		  enum plugin_state *state)
{
	struct chk_data d = {0};
	struct plugin_output out;
	struct buf b;
	json_error_t je;

	d.now = NOW;
	d.targets = json_loads(targets, 0, &je);
	d.items = items ? json_loads(items, 0, &je) : NULL;
	if (!d.targets || (items && !d.items))
		fail_msg("bad JSON in the test: %s", je.text);
	plugin_output_init(&out, chk_mode_title(o->mode));
	chk_evaluate(o, &d, &out);
	buf_init(&b, 0);
	assert_int_equal(plugin_output_render(&out, &b), 0);
	*state = out.state;
	plugin_output_release(&out);
	json_decref(d.targets);
	json_decref(d.items);
	return buf_detach(&b, NULL);
}

static void opts(struct chk_opts *o, enum chk_mode m, const char *w, const char *c)
{
	memset(o, 0, sizeof(*o));
	o->mode = m;
	o->max_age = 300;
	o->power = "poweredOn";
	o->metric = "ballooned";
	o->maintenance = PLUGIN_WARNING;
	if (w)
		assert_int_equal(plugin_range_parse(w, &o->warn, NULL), 0);
	if (c)
		assert_int_equal(plugin_range_parse(c, &o->crit, NULL), 0);
}

#define T1 "[{\"name\":\"vc1\",\"up\":true,\"last_update\":1799999990}]"

#define expect(o, items, want_state, want_prefix)                                                  \
	do {                                                                                       \
		enum plugin_state st_;                                                             \
		char *text_ = eval(o, T1, items, &st_);                                            \
		if (st_ != (want_state) || strncmp(text_, want_prefix, strlen(want_prefix)) != 0)  \
			fail_msg("state %d, output:\n%s\nwanted %d and\n%s", st_, text_,           \
				 want_state, want_prefix);                                         \
		free(text_);                                                                       \
	} while (0)

static void test_vm(void **state)
{
	struct chk_opts o;

	(void)state;
	opts(&o, CHK_VM, NULL, NULL);
	o.name = "web/01";
	expect(&o,
	       "[{\"id\":\"vm-1\",\"name\":\"web/01\",\"power_state\":\"poweredOn\","
	       "\"connection_state\":\"connected\"}]",
	       PLUGIN_OK, "VSPHERE VM OK - VM 'web/01' (vm-1) is poweredOn");
	expect(&o,
	       "[{\"id\":\"vm-1\",\"name\":\"web/01\",\"power_state\":\"poweredOn\","
	       "\"connection_state\":\"disconnected\"}]",
	       PLUGIN_CRITICAL,
	       "VSPHERE VM CRITICAL - VM 'web/01' (vm-1) is poweredOn and disconnected");
	expect(&o, "[]", PLUGIN_UNKNOWN, "VSPHERE VM UNKNOWN - no VM named 'web/01'\n");
	expect(&o,
	       "[{\"id\":\"vm-1\",\"name\":\"web/01\",\"target\":\"vc1\"},"
	       "{\"id\":\"vm-7\",\"name\":\"web/01\",\"target\":\"vc1\"}]",
	       PLUGIN_UNKNOWN,
	       "VSPHERE VM UNKNOWN - 2 VMs named 'web/01': name one with --id (vm-1 on vc1, vm-7 "
	       "on "
	       "vc1)");
}

static void test_vm_memory(void **state)
{
	struct chk_opts o;
	const char *vm =
		"[{\"id\":\"vm-1\",\"name\":\"a|b\",\"memory_configured_bytes\":1073741824,"
		"\"memory_ballooned_bytes\":268435456,\"memory_swapped_bytes\":0}]";

	(void)state;
	opts(&o, CHK_VM_MEMORY, "100", "300");
	expect(&o, vm, PLUGIN_WARNING,
	       "VSPHERE VM-MEMORY WARNING - VM 'a\xc2\xa6"
	       "b' (vm-1) ballooned memory 256 MiB (25.0% of 1024 MiB) | "
	       "'ballooned'=268435456B;104857600;314572800;0;1073741824 "
	       "'swapped'=0B;;;0;1073741824\n");
	opts(&o, CHK_VM_MEMORY, "10", "20");
	o.percent = true;
	expect(&o, vm, PLUGIN_CRITICAL,
	       "VSPHERE VM-MEMORY CRITICAL - VM 'a\xc2\xa6"
	       "b' (vm-1) ballooned memory 256 MiB (25.0% of 1024 MiB) | "
	       "'ballooned'=268435456B;107374182.4;214748364.8;0;1073741824");
	o.metric = "compressed";
	expect(&o, vm, PLUGIN_UNKNOWN,
	       "VSPHERE VM-MEMORY UNKNOWN - VM 'a\xc2\xa6"
	       "b' (vm-1): no compressed memory figure");
}

static void test_host(void **state)
{
	struct chk_opts o;

	(void)state;
	opts(&o, CHK_HOST, "85", "95");
	expect(&o,
	       "[{\"id\":\"host-1\",\"name\":\"esx1\",\"connection_state\":\"connected\","
	       "\"maintenance_mode\":0,\"memory_usage_bytes\":900,\"memory_size_bytes\":1000}]",
	       PLUGIN_WARNING,
	       "VSPHERE HOST WARNING - host 'esx1' (host-1) connected, memory 90.0% used");
	o.maintenance = PLUGIN_CRITICAL;
	expect(&o,
	       "[{\"id\":\"host-1\",\"name\":\"esx1\",\"connection_state\":\"connected\","
	       "\"maintenance_mode\":1,\"memory_usage_bytes\":100,\"memory_size_bytes\":1000}]",
	       PLUGIN_CRITICAL,
	       "VSPHERE HOST CRITICAL - host 'esx1' (host-1) connected, in maintenance mode, "
	       "memory "
	       "10.0% used");
	/* disconnected: no figures, still CRITICAL (not UNKNOWN) */
	expect(&o,
	       "[{\"id\":\"host-1\",\"name\":\"esx1\",\"connection_state\":\"notResponding\","
	       "\"memory_size_bytes\":null}]",
	       PLUGIN_CRITICAL, "VSPHERE HOST CRITICAL - host 'esx1' (host-1) notResponding");
}

static void test_datastore(void **state)
{
	struct chk_opts o;
	const char *dss = "[{\"name\":\"a\",\"capacity_bytes\":100,\"free_bytes\":50,"
			  "\"accessible\":1,\"maintenance_mode\":\"normal\"},"
			  "{\"name\":\"b'x\",\"capacity_bytes\":100,\"free_bytes\":15,"
			  "\"accessible\":1,\"maintenance_mode\":\"normal\"},"
			  "{\"name\":\"c\",\"capacity_bytes\":100,\"free_bytes\":90,"
			  "\"accessible\":1,\"maintenance_mode\":\"inMaintenance\"}]";
	enum plugin_state st;
	char *text;

	(void)state;
	opts(&o, CHK_DATASTORE, "80", "90");
	text = eval(&o, T1, dss, &st);
	assert_int_equal(st, PLUGIN_WARNING);
	assert_non_null(strstr(
		text,
		"VSPHERE DATASTORE WARNING - 3 datastores, 2 with a problem, worst 'b'x' (WARNING) "
		"| 'a used'=50B;80;90;0;100 'a usage'=50%;80;90;0;100 'b''x "
		"used'=85B;80;90;0;100"));
	/* problems first in the long output */
	assert_non_null(strstr(text, "\nWARNING: datastore 'b'x'"));
	assert_true(strstr(text, "WARNING: datastore 'c'") < strstr(text, "OK: datastore 'a'"));
	free(text);
	/* inaccessible wins; --free thresholds in bytes */
	opts(&o, CHK_DATASTORE, NULL, NULL);
	o.free = true;
	assert_int_equal(plugin_range_parse_units("20:", PLUGIN_UNITS_BYTES, &o.warn, NULL), 0);
	assert_int_equal(plugin_range_parse_units("10:", PLUGIN_UNITS_BYTES, &o.crit, NULL), 0);
	expect(&o,
	       "[{\"name\":\"a\",\"capacity_bytes\":100,\"free_bytes\":15,\"accessible\":1},"
	       "{\"name\":\"z\",\"capacity_bytes\":100,\"free_bytes\":95,\"accessible\":0}]",
	       PLUGIN_CRITICAL,
	       "VSPHERE DATASTORE CRITICAL - 2 datastores, 2 with a problem, worst 'z'");
	o.has_include = true;
	assert_int_equal(regcomp(&o.include, "^q", REG_EXTENDED | REG_NOSUB), 0);
	expect(&o, "[{\"name\":\"a\",\"capacity_bytes\":100,\"free_bytes\":15}]", PLUGIN_UNKNOWN,
	       "VSPHERE DATASTORE UNKNOWN - no datastore matches");
	regfree(&o.include);
}

static void test_questions(void **state)
{
	struct chk_opts o;
	const char *q = "[{\"vm\":\"web/01\",\"vm_id\":\"vm-1\",\"id\":\"42\","
			"\"message_ids\":[\"msg.uuid.altered\"],\"text\":\"Moved?\\nmore\","
			"\"choices\":[{\"key\":\"0\",\"label\":\"Cancel\"},{\"key\":\"1\","
			"\"label\":\"Moved\"}],\"default\":\"1\",\"first_seen\":1799999875,"
			"\"blocked_tasks\":[]}]";

	(void)state;
	opts(&o, CHK_QUESTIONS, "0", "900");
	expect(&o, "[]", PLUGIN_OK,
	       "VSPHERE QUESTIONS OK - no pending question | 'questions'=0;;;0");
	expect(&o, q, PLUGIN_WARNING,
	       "VSPHERE QUESTIONS WARNING - 1 pending question, oldest on VM 'web/01' for 2m 5s | "
	       "'questions'=1;;;0 'blocking'=0;;;0 'oldest'=125s;0;900;0\n"
	       "pending: VM 'web/01' (vm-1) question 42 [msg.uuid.altered]: Moved?; choices: "
	       "0=Cancel, 1=Moved (default); pending 2m 5s\n");
	opts(&o, CHK_QUESTIONS, "0", "100");
	expect(&o, q, PLUGIN_CRITICAL, "VSPHERE QUESTIONS CRITICAL - 1 pending question");
	/* --direct: no first_seen, so the age is unknown: at least WARNING */
	opts(&o, CHK_QUESTIONS, "3600", "7200");
	expect(&o,
	       "[{\"vm\":\"v\",\"vm_id\":\"vm-2\",\"id\":\"1\",\"first_seen\":null,"
	       "\"blocked_tasks\":[]}]",
	       PLUGIN_WARNING, "VSPHERE QUESTIONS WARNING - 1 pending question");
	expect(&o,
	       "[{\"vm\":\"v\",\"vm_id\":\"vm-2\",\"id\":\"1\",\"first_seen\":1799999990,"
	       "\"blocked_tasks\":[\"task-9\"]}]",
	       PLUGIN_CRITICAL,
	       "VSPHERE QUESTIONS CRITICAL - 1 pending question, 1 blocking a task");
}

static void test_tasks(void **state)
{
	struct chk_opts o;

	(void)state;
	opts(&o, CHK_TASKS, "60", NULL);
	expect(&o,
	       "[{\"task_id\":\"task-1\",\"task\":\"PowerOnVM_Task\",\"state\":\"success\","
	       "\"queue_time\":1},{\"task_id\":\"task-2\",\"task\":\"CloneVM_Task\",\"state\":"
	       "\"running\",\"queue_time\":1799999900,\"entity\":\"w\",\"blocked\":false}]",
	       PLUGIN_WARNING, "VSPHERE TASKS WARNING - 1 active task, oldest 1m 40s");
	expect(&o,
	       "[{\"task_id\":\"task-2\",\"task\":\"PowerOnVM_Task\",\"state\":\"queued\","
	       "\"queue_time\":1799999999,\"blocked\":true,\"question_id\":\"q\"}]",
	       PLUGIN_CRITICAL, "VSPHERE TASKS CRITICAL - 1 active task, 1 blocked by a question");
}

static void test_target(void **state)
{
	struct chk_opts o;
	enum plugin_state st;
	char *text;

	(void)state;
	opts(&o, CHK_TARGET, NULL, NULL);
	text = eval(&o,
		    "[{\"name\":\"a\",\"up\":true,\"last_update\":1799999990},"
		    "{\"name\":\"b\",\"up\":false,\"last_update\":1799999000,\"last_error\":"
		    "{\"kind\":\"connect\",\"message\":\"cannot connect\"}},"
		    "{\"name\":\"c\",\"up\":true,\"last_update\":1799999000}]",
		    NULL, &st);
	assert_int_equal(st, PLUGIN_CRITICAL);
	assert_non_null(strstr(text, "VSPHERE TARGET CRITICAL - 3 targets, 1 down, 2 stale"));
	assert_non_null(strstr(text, "CRITICAL: target b: down: cannot connect, data 16m 40s old "
				     "(more than --max-age 300 s)\n"));
	assert_non_null(strstr(text, "WARNING: target c: up"));
	free(text);
	o.target = "vc1";
	expect(&o, NULL, PLUGIN_OK, "VSPHERE TARGET OK - target vc1 up, data 10s old");
	o.target = "zz";
	expect(&o, NULL, PLUGIN_UNKNOWN, "VSPHERE TARGET UNKNOWN - no such target");
}

static void test_closest_and_age(void **state)
{
	json_t *items = json_loads("[{\"name\":\"web01\"},{\"name\":\"db01\"},{\"name\":\"web02\"},"
				   "{\"name\":\"mail\"}]",
				   0, NULL);
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	chk_add_closest(&b, items, "web1", 2);
	assert_string_equal(b.data, "'web01', 'web02'");
	buf_reset(&b);
	chk_add_age(&b, 59);
	buf_adds(&b, " ");
	chk_add_age(&b, 3725);
	buf_adds(&b, " ");
	chk_add_age(&b, 90000);
	assert_string_equal(b.data, "59s 1h 2m 1d 1h");
	buf_release(&b);
	json_decref(items);
	assert_int_equal(chk_mode_parse("vm-memory"), CHK_VM_MEMORY);
	assert_int_equal(chk_mode_parse("VM"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm),	  cmocka_unit_test(test_vm_memory),
		cmocka_unit_test(test_host),	  cmocka_unit_test(test_datastore),
		cmocka_unit_test(test_questions), cmocka_unit_test(test_tasks),
		cmocka_unit_test(test_target),	  cmocka_unit_test(test_closest_and_age),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

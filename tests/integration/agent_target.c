/* Integration tests of agent/target against vimon-sim: collection, changes, re-login, outage, stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "agent/target.h"
#include "tests/support/family.h"
#include "tests/support/testutil.h"
#include "util/buf.h"
#include "util/log.h"
#include "vi/names.h"
#include "vi/session.h"
#include "vi/task.h"

static const char *sim_url;  /* http://127.0.0.1:PORT/sdk */
static const char *sim_base; /* http://127.0.0.1:PORT */
static pid_t sim_pid;
static pid_t sim_child; /* a simulator we started (else the test script's) */
static struct target *tgt;

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------- the simulator's control API (tests/support/simctl.c) ---------- */

/* GET (json NULL) or POST a control path; the decoded reply (caller frees).
 * Fails the test on an HTTP error. */
static json_t *simctl_json(const char *path, const char *json)
{
	return test_simctl(sim_base, path, json);
}

static void simctl_do(const char *path, const char *json)
{
	json_decref(test_simctl(sim_base, path, json));
}

/* Starts a simulator; listen may be NULL (a free port). Sets sim_pid, sim_url, sim_base. */
static int sim_spawn(const char *listen)
{
	static char url[600], base[600];
	int fds[2];
	char line[512];
	FILE *f;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		const char *sim = getenv("VIMON_SIM");

		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		if (listen)
			execl(sim, sim, "-parent-watch", "-listen", listen, (char *)NULL);
		else
			execl(sim, sim, "-parent-watch", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0)
		return -1;
	if (getenv("VIMON_TEST_PIDS")) {
		FILE *p = fopen(getenv("VIMON_TEST_PIDS"), "a");

		if (p) {
			fprintf(p, "%d\n", (int)pid);
			fclose(p);
		}
	}
	f = fdopen(fds[0], "r");
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "ready ", 6) == 0) {
			char *end;

			line[strcspn(line, "\n")] = '\0';
			snprintf(url, sizeof(url), "%s", line + 6);
			snprintf(base, sizeof(base), "%s", url);
			end = strstr(base, "/sdk");
			if (end)
				*end = '\0';
			sim_url = url;
			sim_base = base;
			sim_pid = pid;
			sim_child = pid;
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

static void sim_kill(void)
{
	if (sim_pid <= 0)
		return;
	kill(sim_pid, SIGTERM);
	if (sim_pid == sim_child) {
		waitpid(sim_pid, NULL, 0);
	} else {
		/* not our child (a zombie until the script reaps it): wait for the port to close */
		for (int i = 0; i < 100; i++) {
			long status;
			char *r = test_simctl_raw(sim_base, "/_sim/stats", NULL, &status);

			if (!r)
				break;
			free(r);
			usleep(50 * 1000);
		}
	}
	sim_pid = 0;
}

/* ---------- snapshots ---------- */

/* The exposition text of a snapshot, with HELP and TYPE (caller frees). */
static char *snapshot_text(struct snapshot *s)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < s->nfamilies; i++) {
		buf_addf(&b, "# HELP %s %s\n# TYPE %s %s\n", s->families[i].name,
			 s->families[i].help, s->families[i].name, s->families[i].type);
		assert_int_equal(snap_family_text(&s->families[i], &b), 0);
	}
	return buf_detach(&b, NULL);
}

static char *current_text(void)
{
	struct snapshot *s = target_snapshot(tgt);
	char *text;

	assert_non_null(s);
	text = snapshot_text(s);
	snapshot_put(s);
	return text;
}

/* Waits until every line is in the exposition (1) or the time runs out (0). */
static int wait_lines(const char *const *lines, double timeout_s)
{
	double until = now_mono() + timeout_s;

	for (;;) {
		char *text = current_text();
		int all = 1;

		for (size_t i = 0; lines[i] && all; i++)
			all = test_has_line(text, lines[i]);
		if (all || now_mono() > until) {
			if (!all) {
				for (size_t i = 0; lines[i]; i++) {
					if (!test_has_line(text, lines[i]))
						print_message("# missing: %s\n", lines[i]);
				}
			}
			free(text);
			return all;
		}
		free(text);
		usleep(50 * 1000);
	}
}

static int wait_line(const char *line, double timeout_s)
{
	const char *lines[] = {line, NULL};

	return wait_lines(lines, timeout_s);
}

/* 1 when a line starts with prefix, contains middle and ends with suffix. */
static int has_match(const char *text, const char *prefix, const char *middle, const char *suffix)
{
	for (const char *p = text; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		size_t sl = strlen(suffix);

		if (strncmp(p, prefix, strlen(prefix)) == 0 && len >= sl &&
		    memcmp(p + len - sl, suffix, sl) == 0 && memmem(p, len, middle, strlen(middle)))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static int wait_match(const char *prefix, const char *middle, const char *suffix, double timeout_s)
{
	double until = now_mono() + timeout_s;

	for (;;) {
		char *text = current_text();
		int found = has_match(text, prefix, middle, suffix);

		free(text);
		if (found)
			return 1;
		if (now_mono() > until) {
			print_message("# no line %s...%s...%s\n", prefix, middle, suffix);
			return 0;
		}
		usleep(50 * 1000);
	}
}

static char *decoded(const char *name)
{
	struct buf b, l;

	buf_init(&b, 0);
	buf_init(&l, 0);
	vi_name_percent_decode(&b, name);
	buf_add_label(&l, b.data);
	buf_release(&b);
	return buf_detach(&l, NULL);
}

/* A target named name on the simulator, collecting collect. */
static struct target *sim_target(const char *name, unsigned collect)
{
	struct conf_target ct = {0};
	struct err e = {0};
	struct target *t;

	ct.name = (char *)name;
	ct.url = (char *)sim_url;
	ct.username = "user";
	ct.password = "pass";
	ct.collect = collect;
	ct.timeout_s = 10;
	t = target_start(&ct, &e);
	if (!t)
		fail_msg("target_start: %s", e.msg);
	return t;
}

static void start_target(void)
{
	tgt = sim_target("sim", CONF_COLLECT_ALL);
}

/* ---------- tests ---------- */

static const char *const families[] = {
	"vsphere_up",
	"vsphere_last_update_timestamp_seconds",
	"vsphere_collector_errors_total",
	"vsphere_api_requests_total",
	"vsphere_api_request_duration_seconds",
	"vsphere_api_received_bytes_total",
	"vsphere_session_logins_total",
	"vsphere_inventory_objects",
	"vsphere_vm_info",
	"vsphere_vm_power_state",
	"vsphere_vm_connection_state",
	"vsphere_vm_guest_heartbeat_status",
	"vsphere_vm_boot_timestamp_seconds",
	"vsphere_vm_uptime_seconds",
	"vsphere_vm_cpus",
	"vsphere_vm_cpu_usage_hertz",
	"vsphere_vm_memory_configured_bytes",
	"vsphere_vm_memory_granted_bytes",
	"vsphere_vm_memory_consumed_bytes",
	"vsphere_vm_memory_host_usage_bytes",
	"vsphere_vm_memory_guest_active_bytes",
	"vsphere_vm_memory_ballooned_bytes",
	"vsphere_vm_memory_swapped_bytes",
	"vsphere_vm_memory_shared_bytes",
	"vsphere_vm_memory_compressed_bytes",
	"vsphere_vm_memory_private_bytes",
	"vsphere_vm_memory_overhead_bytes",
	"vsphere_host_info",
	"vsphere_host_connection_state",
	"vsphere_host_power_state",
	"vsphere_host_maintenance_mode",
	"vsphere_host_memory_size_bytes",
	"vsphere_host_memory_usage_bytes",
	"vsphere_host_cpu_capacity_hertz",
	"vsphere_host_cpu_usage_hertz",
	"vsphere_host_boot_timestamp_seconds",
	"vsphere_datastore_info",
	"vsphere_datastore_capacity_bytes",
	"vsphere_datastore_free_bytes",
	"vsphere_datastore_uncommitted_bytes",
	"vsphere_datastore_provisioned_bytes",
	"vsphere_datastore_accessible",
	"vsphere_datastore_maintenance_mode",
	"vsphere_datastore_hosts",
	"vsphere_datastore_vms",
	"vsphere_vm_question_pending",
	"vsphere_vm_question_pending_seconds",
	"vsphere_task_info",
	"vsphere_task_running_seconds",
	"vsphere_task_blocked",
	NULL,
};

/* The first snapshot is there at once; the first complete one matches the simulator. */
static void test_first_snapshot(void **state)
{
	struct snapshot *s;
	json_t *inv, *vm;
	size_t i;
	char *text;
	char line[1024];

	(void)state;
	start_target();
	s = target_snapshot(tgt);
	assert_non_null(s);
	snapshot_put(s);
	assert_true(wait_line("vsphere_up{target=\"sim\"} 1", 10));
	text = current_text();
	for (i = 0; families[i]; i++) {
		snprintf(line, sizeof(line), "# TYPE %s ", families[i]);
		if (!strstr(text, line))
			fail_msg("family %s missing", families[i]);
	}
	assert_true(test_has_line(text, "vsphere_session_logins_total{target=\"sim\"} 1"));
	inv = simctl_json("/_sim/inventory", NULL);
	json_array_foreach(json_object_get(inv, "vms"), i, vm)
	{
		const char *moref = json_string_value(json_object_get(vm, "moref"));
		const char *power = json_string_value(json_object_get(vm, "power"));
		char *name = decoded(json_string_value(json_object_get(vm, "name")));
		char *host = decoded(json_string_value(json_object_get(vm, "host_name")));

		snprintf(line, sizeof(line),
			 "vsphere_vm_power_state{target=\"sim\",vm=\"%s\",vm_id=\"%s\",state=\"%"
			 "s\"} 1",
			 name, moref, power);
		if (!test_has_line(text, line))
			fail_msg("missing: %s", line);
		snprintf(line, sizeof(line), "vm_id=\"%s\",uuid=\"", moref);
		if (!strstr(text, line))
			fail_msg("no vm_info for %s", moref);
		snprintf(line, sizeof(line), ",host=\"%s\",host_id=\"%s\",", host,
			 json_string_value(json_object_get(vm, "host")));
		if (!strstr(text, line))
			fail_msg("no host placement %s", line);
		free(name);
		free(host);
	}
	snprintf(line, sizeof(line),
		 "vsphere_inventory_objects{target=\"sim\",type=\"VirtualMachine\"} %zu",
		 json_array_size(json_object_get(inv, "vms")));
	assert_true(test_has_line(text, line));
	snprintf(line, sizeof(line),
		 "vsphere_inventory_objects{target=\"sim\",type=\"HostSystem\"} %zu",
		 json_array_size(json_object_get(inv, "hosts")));
	assert_true(test_has_line(text, line));
	snprintf(line, sizeof(line),
		 "vsphere_inventory_objects{target=\"sim\",type=\"Datastore\"} %zu",
		 json_array_size(json_object_get(inv, "datastores")));
	assert_true(test_has_line(text, line));
	/* the odd names come decoded and escaped */
	assert_non_null(strstr(text, "vm=\"odd/slash\""));
	assert_non_null(strstr(text, "vm=\"odd\\\\back\""));
	assert_non_null(strstr(text, "vm=\"odd\\\"quote\""));
	assert_non_null(strstr(text, "vm=\"odd%percent\""));
	json_decref(inv);
	/* the exposition passes promtool's checks (promtool is a test dependency) */
	if (system("command -v promtool >/dev/null 2>&1") != 0)
		fail_msg("promtool is not installed (scripts/deps.sh installs it)");
	{
		FILE *p = popen("promtool check metrics >&2", "w");

		assert_non_null(p);
		fputs(text, p);
		assert_int_equal(pclose(p), 0);
	}
	free(text);
}

/* Changes made through the control API reach the snapshot within a cycle, with no re-read. */
static void test_changes(void **state)
{
	json_t *inv = simctl_json("/_sim/inventory", NULL);
	json_t *vms = json_object_get(inv, "vms");
	json_t *ds = json_array_get(json_object_get(inv, "datastores"), 0);
	const char *vm_on = NULL, *vm_off = NULL, *vm_on_name = NULL;
	char body[512], l1[512], l2[512], l3[512], l4[512];
	json_t *stats, *calls, *v;
	const char *key;
	size_t i;

	(void)state;
	json_array_foreach(vms, i, v)
	{
		const char *power = json_string_value(json_object_get(v, "power"));

		if (!vm_on && strcmp(power, "poweredOn") == 0) {
			vm_on = json_string_value(json_object_get(v, "moref"));
			vm_on_name = json_string_value(json_object_get(v, "name"));
		}
		if (!vm_off && strcmp(power, "poweredOff") == 0 &&
		    strcmp(json_string_value(json_object_get(v, "name")), "odd%2fslash") == 0)
			vm_off = json_string_value(json_object_get(v, "moref"));
	}
	assert_non_null(vm_on);
	assert_non_null(vm_off);
	/* let the initial sync settle: count calls from a reset after which, for 0.5 s,
	 * the agent made nothing but WaitForUpdatesEx */
	for (double until = now_mono() + 30;;) {
		int quiet = 1;

		simctl_do("/_sim/stats/reset", "{}");
		usleep(500 * 1000);
		stats = simctl_json("/_sim/stats", NULL);
		json_object_foreach(json_object_get(stats, "calls"), key, v)
		{
			if (strcmp(key, "WaitForUpdatesEx") != 0)
				quiet = 0;
		}
		json_decref(stats);
		if (quiet)
			break;
		if (now_mono() > until)
			fail_msg("the agent still makes other calls than WaitForUpdatesEx after 30 "
				 "s");
	}
	double t0 = now_mono();

	snprintf(body, sizeof(body), "{\"vm\":\"%s\",\"state\":\"poweredOff\"}", vm_on);
	simctl_do("/_sim/vm/power", body);
	snprintf(body, sizeof(body), "{\"vm\":\"%s\",\"balloonedMemory\":77,\"swappedMemory\":5}",
		 vm_on);
	simctl_do("/_sim/vm/quickstats", body);
	snprintf(body, sizeof(body), "{\"datastore\":\"%s\",\"accessible\":false}",
		 json_string_value(json_object_get(ds, "moref")));
	simctl_do("/_sim/datastore", body);
	snprintf(body, sizeof(body),
		 "{\"vm\":\"%s\",\"id\":\"q-int-1\",\"text\":\"Moved or copied?\","
		 "\"message_ids\":[\"msg.uuid.altered\"],\"choices\":[{\"key\":\"0\",\"label\":"
		 "\"Cancel\"},{\"key\":\"2\",\"label\":\"I copied it\"}],\"default\":1}",
		 vm_off);
	simctl_do("/_sim/question", body);

	snprintf(l1, sizeof(l1),
		 "vsphere_vm_power_state{target=\"sim\",vm=\"%s\",vm_id=\"%s\",state="
		 "\"poweredOff\"} 1",
		 vm_on_name, vm_on);
	snprintf(l2, sizeof(l2),
		 "vsphere_vm_memory_ballooned_bytes{target=\"sim\",vm=\"%s\",vm_id=\"%s\"} %d",
		 vm_on_name, vm_on, 77 * 1048576);
	{
		char *dsname = decoded(json_string_value(json_object_get(ds, "name")));

		snprintf(l3, sizeof(l3),
			 "vsphere_datastore_accessible{target=\"sim\",datastore=\"%s\","
			 "datastore_id=\"%s\"} 0",
			 dsname, json_string_value(json_object_get(ds, "moref")));
		free(dsname);
	}
	snprintf(l4, sizeof(l4),
		 "vsphere_vm_question_pending{target=\"sim\",vm=\"odd/slash\",vm_id=\"%s\","
		 "question_id=\"q-int-1\",message_id=\"msg.uuid.altered\"} 1",
		 vm_off);
	{
		const char *lines[] = {l1, l2, l3, l4, NULL};

		assert_true(wait_lines(lines, 5));
	}
	print_message("# changes visible after %.2f s\n", now_mono() - t0);
	/* the question in the JSON API objects */
	{
		struct snapshot *s = target_snapshot(tgt);
		json_t *q = json_array_get(s->questions, 0);

		assert_int_equal(json_array_size(s->questions), 1);
		assert_string_equal(json_string_value(json_object_get(q, "id")), "q-int-1");
		assert_string_equal(json_string_value(json_object_get(q, "vm")), "odd/slash");
		assert_int_equal(json_array_size(json_object_get(q, "choices")), 2);
		assert_string_equal(json_string_value(json_object_get(q, "default")), "2");
		snapshot_put(s);
	}
	/* incremental: nothing but WaitForUpdatesEx since the reset */
	stats = simctl_json("/_sim/stats", NULL);
	calls = json_object_get(stats, "calls");
	json_object_foreach(calls, key, v)
	{
		if (strcmp(key, "WaitForUpdatesEx") != 0)
			fail_msg("unexpected call %s (%lld)", key, json_integer_value(v));
	}
	assert_true(json_integer_value(json_object_get(calls, "WaitForUpdatesEx")) > 0);
	json_decref(stats);
	json_decref(inv);
}

/* A PowerOnVM_Task on the VM with the question stays running: the task is blocked. */
static void test_task_blocked(void **state)
{
	struct vi_session_opts o = {.http = {.url = sim_url}, .username = "u", .password = "p"};
	struct err e = {0};
	struct vi_session *s = vi_session_new(&o, &e);
	json_t *inv = simctl_json("/_sim/inventory", NULL);
	const char *vm = NULL;
	char *task = NULL;
	char line[512], tail[512];
	size_t i;

	(void)state;
	vm = test_sim_vm_named(inv, "odd%2fslash");
	assert_non_null(vm);
	assert_non_null(s);
	assert_int_equal(vi_session_login(s, &e), 0);
	if (vi_vm_power_on(s, vm, &task, &e) < 0)
		fail_msg("power on: %s", e.msg);
	/* the simulator names the task after its method, without the _Task suffix */
	snprintf(line, sizeof(line), "task_id=\"%s\",task=\"PowerOn", task);
	snprintf(tail, sizeof(tail), "entity=\"odd/slash\",entity_id=\"%s\"} 1", vm);
	assert_true(wait_match("vsphere_task_blocked{target=\"sim\",", line, tail, 15));
	{
		/* one snapshot says both: blocked, and running */
		char *text = current_text();

		assert_true(has_match(text, "vsphere_task_blocked{target=\"sim\",", line, tail));
		assert_true(has_match(text, "vsphere_task_info{target=\"sim\",", line,
				      "state=\"running\"} 1"));
		free(text);
	}
	{
		struct snapshot *snap = target_snapshot(tgt);
		json_t *t, *found = NULL;

		json_array_foreach(snap->tasks, i, t)
		{
			if (strcmp(json_string_value(json_object_get(t, "task_id")), task) == 0)
				found = t;
		}
		assert_non_null(found);
		assert_true(json_is_true(json_object_get(found, "blocked")));
		assert_string_equal(json_string_value(json_object_get(found, "question_id")),
				    "q-int-1");
		snapshot_put(snap);
	}
	/* answering the question unblocks and completes it */
	assert_int_equal(vi_vm_answer(s, vm, "q-int-1", "2", &e), 0);
	assert_true(
		wait_match("vsphere_task_info{target=\"sim\",", line, "state=\"success\"} 1", 15));
	{
		char *text = current_text();

		/* answered: the question is gone from the same snapshot */
		assert_null(strstr(text, "question_id=\"q-int-1\""));
		free(text);
	}
	free(task);
	vi_session_free(s);
	json_decref(inv);
}

/* collect = ["task"] alone still says a power-on is blocked by a question,
 * without the question families or questions in the API. */
static void test_task_only_blocked(void **state)
{
	struct vi_session_opts o = {.http = {.url = sim_url}, .username = "u", .password = "p"};
	struct err e = {0};
	struct vi_session *s = vi_session_new(&o, &e);
	json_t *inv = simctl_json("/_sim/inventory", NULL);
	struct target *all = tgt;
	const char *vm = NULL;
	char *task = NULL, *text;
	char body[512], line[512];
	json_t *v;
	size_t i;

	(void)state;
	json_array_foreach(json_object_get(inv, "vms"), i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));

		if (!vm && strncmp(name, "odd", 3) != 0 && strchr(name, '\xc3') == NULL)
			vm = json_string_value(json_object_get(v, "moref"));
	}
	assert_non_null(vm);
	tgt = sim_target("tasks", CONF_COLLECT_TASK);
	snprintf(body, sizeof(body), "{\"vm\":\"%s\",\"state\":\"poweredOff\"}", vm);
	simctl_do("/_sim/vm/power", body);
	snprintf(body, sizeof(body),
		 "{\"vm\":\"%s\",\"id\":\"q-task-only\",\"text\":\"Moved or copied?\","
		 "\"message_ids\":[\"msg.uuid.altered\"],\"choices\":[{\"key\":\"0\",\"label\":"
		 "\"Cancel\"},{\"key\":\"2\",\"label\":\"I copied it\"}],\"default\":1}",
		 vm);
	simctl_do("/_sim/question", body);
	assert_int_equal(vi_session_login(s, &e), 0);
	if (vi_vm_power_on(s, vm, &task, &e) < 0)
		fail_msg("power on: %s", e.msg);
	snprintf(line, sizeof(line), "task_id=\"%s\",task=\"PowerOn", task);
	assert_true(wait_match("vsphere_task_blocked{target=\"tasks\",", line, "} 1", 15));
	text = current_text();
	assert_null(strstr(text, "vsphere_vm_question_pending"));
	assert_null(strstr(text, "vsphere_vm_info"));
	free(text);
	{
		struct snapshot *snap = target_snapshot(tgt);

		assert_int_equal(json_array_size(snap->questions), 0);
		snapshot_put(snap);
	}
	assert_int_equal(vi_vm_answer(s, vm, "q-task-only", "2", &e), 0);
	assert_true(wait_match("vsphere_task_info{target=\"tasks\",", line, "state=\"success\"} 1",
			       15));
	target_stop(tgt);
	tgt = all;
	free(task);
	vi_session_free(s);
	json_decref(inv);
}

/* Expired sessions: exactly one re-login, and changes keep coming. */
static void test_expire_sessions(void **state)
{
	json_t *inv = simctl_json("/_sim/inventory", NULL);
	json_t *vm = json_array_get(json_object_get(inv, "vms"), 0);
	char body[256], line[512];

	(void)state;
	simctl_do("/_sim/fault", "{\"kind\":\"expire-sessions\"}");
	assert_true(wait_line("vsphere_session_logins_total{target=\"sim\"} 2", 10));
	snprintf(body, sizeof(body), "{\"vm\":\"%s\",\"state\":\"suspended\"}",
		 json_string_value(json_object_get(vm, "moref")));
	simctl_do("/_sim/vm/power", body);
	snprintf(line, sizeof(line),
		 "vsphere_vm_power_state{target=\"sim\",vm=\"%s\",vm_id=\"%s\",state=\"suspended\"}"
		 " 1",
		 json_string_value(json_object_get(vm, "name")),
		 json_string_value(json_object_get(vm, "moref")));
	assert_true(wait_line(line, 5));
	sleep(2);
	assert_true(wait_line("vsphere_session_logins_total{target=\"sim\"} 2", 0));
	assert_true(wait_line("vsphere_up{target=\"sim\"} 1", 0));
	json_decref(inv);
}

/* The value of a one-series family of the current snapshot, -1 when absent. */
static long family_value(const char *series)
{
	char *text = current_text();
	const char *p = strstr(text, series);
	long v = p ? strtol(p + strlen(series), NULL, 10) : -1;

	free(text);
	return v;
}

/* The simulator goes away: vsphere_up 0; a new one on the same port: recovery. */
static void test_outage_and_recovery(void **state)
{
	char listen[64];
	const char *port = strrchr(sim_base, ':');
	double t0;

	(void)state;
	long logins = family_value("vsphere_session_logins_total{target=\"sim\"} ");
	char want[128];

	snprintf(listen, sizeof(listen), "127.0.0.1:%s", port + 1);
	assert_true(logins > 0);
	sim_kill();
	assert_true(wait_line("vsphere_up{target=\"sim\"} 0", 10));
	{
		char *text = current_text();

		static const char connect[] =
			"\nvsphere_collector_errors_total{target=\"sim\",kind=\"connect\"} ";
		const char *c = strstr(text, connect);

		/* the last known objects stay, marked stale by vsphere_up */
		assert_non_null(strstr(text, "vsphere_vm_info{target=\"sim\""));
		/* and the failed connection is counted */
		if (!c)
			fail_msg("no kind=\"connect\" series in the snapshot with vsphere_up 0");
		if (strtod(c + strlen(connect), NULL) < 1)
			fail_msg("kind=\"connect\" errors: %.20s, want >= 1", c + strlen(connect));
		free(text);
	}
	assert_int_equal(sim_spawn(listen), 0);
	t0 = now_mono();
	assert_true(wait_line("vsphere_up{target=\"sim\"} 1", 40));
	print_message("# recovered %.1f s after the restart\n", now_mono() - t0);
	/* a fresh simulator: the question is gone after the resync */
	snprintf(want, sizeof(want), "vsphere_session_logins_total{target=\"sim\"} %ld",
		 logins + 1);
	assert_true(wait_line(want, 2));
	{
		char *text = current_text();

		assert_null(strstr(text, "question_id=\"q-int-1\""));
		free(text);
	}
}

static void test_stop_prompt(void **state)
{
	double t0 = now_mono();

	(void)state;
	target_stop(tgt);
	tgt = NULL;
	print_message("# target_stop took %.2f s\n", now_mono() - t0);
	assert_true(now_mono() - t0 < 5);
}

/* A target that cannot log in publishes vsphere_up 0 at once and keeps trying. */
static void test_never_connected(void **state)
{
	struct conf_target ct = {0};
	struct err e = {0};
	struct target *t;
	struct snapshot *s;
	double t0;

	(void)state;
	ct.name = "nowhere";
	ct.url = "http://127.0.0.1:1/sdk";
	ct.username = "u";
	ct.password = "p";
	ct.collect = CONF_COLLECT_ALL;
	ct.timeout_s = 5;
	t = target_start(&ct, &e);
	assert_non_null(t);
	s = target_snapshot(t);
	assert_non_null(s);
	{
		char *text = snapshot_text(s);

		assert_true(test_has_line(text, "vsphere_up{target=\"nowhere\"} 0"));
		assert_non_null(strstr(text, "# TYPE vsphere_vm_power_state gauge"));
		free(text);
	}
	snapshot_put(s);
	sleep(1);
	t0 = now_mono();
	target_stop(t);
	assert_true(now_mono() - t0 < 5);
}

/* A refused login: vsphere_up 0, an auth error counted and in the target object, no crash. */
static void test_wrong_password(void **state)
{
	struct conf_target ct = {0};
	struct err e = {0};
	struct target *t;
	struct snapshot *s = NULL;
	double until = now_mono() + 10;
	json_t *le;

	(void)state;
	ct.name = "badpw";
	ct.url = (char *)sim_url;
	ct.username = "user";
	ct.password = "wrong";
	ct.collect = CONF_COLLECT_ALL;
	ct.timeout_s = 10;
	t = target_start(&ct, &e);
	assert_non_null(t);
	for (;;) {
		char *text;
		int seen;

		s = target_snapshot(t);
		text = snapshot_text(s);
		seen = test_has_line(
			text, "vsphere_collector_errors_total{target=\"badpw\",kind=\"auth\"} 1");
		if (seen) {
			assert_true(test_has_line(text, "vsphere_up{target=\"badpw\"} 0"));
			assert_true(test_has_line(
				text, "vsphere_session_logins_total{target=\"badpw\"} 0"));
			assert_null(strstr(text, "wrong"));
			free(text);
			break;
		}
		free(text);
		snapshot_put(s);
		s = NULL;
		assert_true(now_mono() < until);
		usleep(50 * 1000);
	}
	le = json_object_get(s->target, "last_error");
	assert_string_equal(json_string_value(json_object_get(le, "kind")), "auth");
	assert_false(json_is_true(json_object_get(s->target, "up")));
	{
		char *dump = json_dumps(s->target, 0);

		assert_null(strstr(dump, "wrong")); /* the password never shows */
		free(dump);
	}
	snapshot_put(s);
	target_stop(t);
}

/* Sum of vsphere_collector_errors_total in the current snapshot. */
static long errors_total(void)
{
	char *text = current_text();
	long sum = 0;
	const char *key = "vsphere_collector_errors_total{";

	for (const char *p = text; (p = strstr(p, key)); p++) {
		const char *end = strchr(p, '\n');
		const char *sp = end ? memrchr(p, ' ', (size_t)(end - p)) : NULL;

		if (sp)
			sum += strtol(sp + 1, NULL, 10);
	}
	free(text);
	return sum;
}

/* A broken reply to WaitForUpdatesEx: counted, logged, reconnected, up again. */
static void test_faults(void **state)
{
	static const char *const faults[] = {
		"{\"kind\":\"soap-fault\",\"fault\":\"InvalidArgument\",\"method\":"
		"\"WaitForUpdatesEx\"}",
		"{\"kind\":\"truncated\",\"method\":\"WaitForUpdatesEx\"}",
		"{\"kind\":\"html\",\"method\":\"WaitForUpdatesEx\"}",
		"{\"kind\":\"http500\",\"method\":\"WaitForUpdatesEx\"}",
		/* ("close" is not here: the transport resends on a fresh connection) */
		NULL,
	};

	json_t *inv = simctl_json("/_sim/inventory", NULL);
	const char *vm = json_string_value(
		json_object_get(json_array_get(json_object_get(inv, "vms"), 0), "moref"));
	char poke[256];

	(void)state;
	assert_non_null(vm);
	for (size_t i = 0; faults[i]; i++) {
		long before = errors_total();
		double until = now_mono() + 10;

		simctl_do("/_sim/fault", faults[i]);
		/* a change ends the WaitForUpdatesEx in flight (a long server-side
		 * wait): the next one meets the fault */
		snprintf(poke, sizeof(poke), "{\"vm\":\"%s\",\"balloonedMemory\":%zu}", vm, i + 1);
		simctl_do("/_sim/vm/quickstats", poke);
		while (errors_total() == before) {
			if (now_mono() > until)
				fail_msg("no error counted for %s", faults[i]);
			usleep(50 * 1000);
		}
		assert_int_equal(errors_total(), before + 1);
		assert_true(wait_line("vsphere_up{target=\"sim\"} 1", 10));
	}
	simctl_do("/_sim/fault/clear", "{}");
	json_decref(inv);
}

/* A large inventory arrives in truncated update sets: every object still lands, no re-read. */
static void test_big_sync(void **state)
{
	json_t *inv = simctl_json("/_sim/inventory", NULL);
	size_t nvms = json_array_size(json_object_get(inv, "vms"));
	struct snapshot *s;
	json_t *stats, *calls, *v;
	const char *key;
	size_t lines = 0;
	char line[256];

	(void)state;
	simctl_do("/_sim/stats/reset", "{}");
	start_target();
	assert_true(wait_line("vsphere_up{target=\"sim\"} 1", 60));
	s = target_snapshot(tgt);
	for (size_t i = 0; i < s->nfamilies; i++) {
		if (strcmp(s->families[i].name, "vsphere_vm_info") != 0)
			continue;
		const char *text = test_family_text(&s->families[i]);

		for (size_t k = 0; k < s->families[i].len; k++)
			lines += text[k] == '\n';
	}
	snapshot_put(s);
	print_message("# %zu VMs in the simulator, %zu vsphere_vm_info series\n", nvms, lines);
	assert_true(nvms > 2000); /* more than one update set (agent/target.c asks 2000 at most) */
	assert_int_equal(lines, nvms);
	snprintf(line, sizeof(line),
		 "vsphere_inventory_objects{target=\"sim\",type=\"VirtualMachine\"} %zu", nvms);
	assert_true(wait_line(line, 0));
	stats = simctl_json("/_sim/stats", NULL);
	calls = json_object_get(stats, "calls");
	print_message("# WaitForUpdatesEx calls: %lld\n",
		      json_integer_value(json_object_get(calls, "WaitForUpdatesEx")));
	assert_true(json_integer_value(json_object_get(calls, "WaitForUpdatesEx")) >= 2);
	/* no re-read: no RetrieveProperties, RetrievePropertiesEx or
	 * ContinueRetrievePropertiesEx (RetrieveServiceContent is the login's) */
	json_object_foreach(calls, key, v)
	{
		if (strstr(key, "RetrieveProperties"))
			fail_msg("unexpected call %s (%lld)", key, json_integer_value(v));
	}
	json_decref(stats);
	json_decref(inv);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_connected),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_first_snapshot),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_task_blocked),
		cmocka_unit_test(test_task_only_blocked),
		cmocka_unit_test(test_expire_sessions),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_outage_and_recovery),
		cmocka_unit_test(test_stop_prompt),
	};
	const struct CMUnitTest big[] = {
		cmocka_unit_test(test_big_sync),
		cmocka_unit_test(test_stop_prompt),
	};
	int rc;

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	log_set_level(LOG_LEVEL_WARN);
	if (getenv("AGENT_SIM_URL") && getenv("AGENT_SIM_BASE") && getenv("AGENT_SIM_PID")) {
		/* a simulator started by the test script (lib.sh sim_start) */
		sim_url = getenv("AGENT_SIM_URL");
		sim_base = getenv("AGENT_SIM_BASE");
		sim_pid = (pid_t)strtol(getenv("AGENT_SIM_PID"), NULL, 10);
	} else if (!getenv("VIMON_SIM") || sim_spawn(NULL) < 0) {
		fprintf(stderr, "agent_target: cannot start the simulator (VIMON_SIM)\n");
		return 2;
	}
	if (argc > 1 && strcmp(argv[1], "big") == 0)
		rc = cmocka_run_group_tests(big, NULL, NULL);
	else
		rc = cmocka_run_group_tests(tests, NULL, NULL);
	target_stop(tgt);
	if (sim_pid == sim_child)
		sim_kill(); /* ours; the script stops its own */
	curl_global_cleanup();
	return rc;
}

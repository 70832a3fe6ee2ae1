/* Unit tests: the process metrics and vimon_build_info (agent/process), and the task state
 * filter of the JSON API (agent/api). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/family.h"
#include "agent/api.h"
#include "agent/process.h"

static const struct snap_family *family(const struct snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nfamilies; i++) {
		if (strcmp(s->families[i].name, name) == 0)
			return &s->families[i];
	}
	return NULL;
}

/* The families and sample lines a scrape shows, in name order; unknown values left out. */
static void test_render(void **state)
{
	struct process_stats st = {.cpu_seconds = 1.5,
				   .resident_bytes = 4096,
				   .virtual_bytes = 8192,
				   .open_fds = 7,
				   .max_fds = -1,
				   .start_time = 1700000000.25};
	static const char *const names[] = {
		"process_cpu_seconds_total",	 "process_open_fds",
		"process_resident_memory_bytes", "process_start_time_seconds",
		"process_virtual_memory_bytes",	 "vimon_build_info",
	};
	struct snapshot *s = snapshot_new();
	struct err e = {0};

	(void)state;
	assert_non_null(s);
	assert_int_equal(process_render(&st, "1.2.3", "a\"b", s, &e), 0);
	assert_int_equal(s->nfamilies, 6);
	for (size_t i = 0; i < s->nfamilies; i++)
		assert_string_equal(s->families[i].name, names[i]);
	assert_null(family(s, "process_max_fds"));
	assert_string_equal(test_family_text(family(s, "process_cpu_seconds_total")),
			    "process_cpu_seconds_total 1.5\n");
	assert_string_equal(family(s, "process_cpu_seconds_total")->type, "counter");
	assert_string_equal(test_family_text(family(s, "process_start_time_seconds")),
			    "process_start_time_seconds 1700000000.25\n");
	assert_string_equal(test_family_text(family(s, "process_resident_memory_bytes")),
			    "process_resident_memory_bytes 4096\n");
	/* the revision is a label value: escaped */
	assert_string_equal(test_family_text(family(s, "vimon_build_info")),
			    "vimon_build_info{version=\"1.2.3\",revision=\"a\\\"b\"} 1\n");
	snapshot_put(s);
}

/* Values read from /proc/self for this very process. */
static void test_read_self(void **state)
{
	struct process_stats st;
	double now = (double)time(NULL);

	(void)state;
	assert_int_equal(process_read(&st), 0);
	assert_true(st.cpu_seconds >= 0);
	assert_true(st.resident_bytes > 0);
	assert_true(st.virtual_bytes >= st.resident_bytes);
	assert_true(st.open_fds >= 3); /* stdin, stdout, stderr */
	assert_true(st.max_fds >= st.open_fds);
	/* started within the last hour, not in the future */
	assert_true(st.start_time > now - 3600 && st.start_time <= now + 1);
}

/* The cached snapshot: one per second, growing generations, the build info. */
static void test_cache(void **state)
{
	struct process_metrics *pm = process_metrics_new();
	struct snapshot *a, *b;

	(void)state;
	assert_non_null(pm);
	a = process_metrics_get(pm);
	b = process_metrics_get(pm);
	assert_non_null(a);
	assert_ptr_equal(a, b); /* within a second: the same snapshot */
	assert_non_null(family(a, "vimon_build_info"));
	assert_non_null(strstr(test_family_text(family(a, "vimon_build_info")),
			       "version=\"" VIMON_VERSION));
	assert_true(strlen(process_revision()) > 0);
	snapshot_put(b);
	usleep(1100 * 1000);
	b = process_metrics_get(pm);
	assert_non_null(b);
	assert_true(b->generation > a->generation);
	snapshot_put(a);
	snapshot_put(b);
	process_metrics_free(pm);
}

static void test_task_states(void **state)
{
	unsigned st;

	(void)state;
	assert_int_equal(api_task_states(NULL, &st), 0);
	assert_int_equal(st, API_TASK_ALL);
	assert_int_equal(api_task_states("", &st), 0);
	assert_int_equal(st, API_TASK_ALL);
	assert_int_equal(api_task_states("running", &st), 0);
	assert_int_equal(st, API_TASK_RUNNING);
	assert_int_equal(api_task_states("active", &st), 0);
	assert_int_equal(st, API_TASK_QUEUED | API_TASK_RUNNING);
	assert_int_equal(api_task_states("success,error", &st), 0);
	assert_int_equal(st, API_TASK_SUCCESS | API_TASK_ERROR);
	assert_int_equal(api_task_states("runnin", &st), -1);
	assert_int_equal(api_task_states("running,", &st), -1);
	assert_int_equal(api_task_states("Running", &st), -1);
	assert_int_equal(api_task_states(",", &st), -1);
}

/* ?state= keeps only the tasks in those states and still names their target. */
static void test_render_tasks(void **state)
{
	struct snapshot *s = snapshot_new();
	json_error_t je;
	size_t len = 0;
	char *out;

	(void)state;
	assert_non_null(s);
	json_decref(s->target);
	json_decref(s->tasks);
	s->target = json_pack("{s:s}", "name", "vc1");
	s->tasks = json_loads("[{\"task_id\":\"task-1\",\"state\":\"running\"},"
			      "{\"task_id\":\"task-2\",\"state\":\"success\"},"
			      "{\"task_id\":\"task-3\",\"state\":\"queued\"},"
			      "{\"task_id\":\"task-4\"}]",
			      0, &je);
	assert_non_null(s->tasks);
	out = api_render_tasks(&s, 1, API_TASK_RUNNING | API_TASK_QUEUED, &len);
	assert_non_null(out);
	assert_non_null(strstr(out, "\"task-1\""));
	assert_non_null(strstr(out, "\"task-3\""));
	assert_null(strstr(out, "\"task-2\""));
	assert_null(strstr(out, "\"task-4\""));
	assert_non_null(strstr(out, "\"target\": \"vc1\""));
	free(out);
	out = api_render_tasks(&s, 1, API_TASK_ALL, &len);
	assert_non_null(strstr(out, "\"task-4\""));
	free(out);
	out = api_render_tasks(&s, 1, API_TASK_ERROR, &len);
	assert_string_equal(out, "[]\n");
	free(out);
	snapshot_put(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),	     cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_cache),	     cmocka_unit_test(test_task_states),
		cmocka_unit_test(test_render_tasks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

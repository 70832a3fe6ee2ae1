/* bench_retrieve: CPU and peak memory of a full VM inventory retrieval through vi_pc_retrieve. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "util/buf.h"
#include "util/err.h"
#include "vi/pc.h"
#include "vi/session.h"

/*
 * Usage: bench_retrieve SIM_URL SIM_BASE [PAGE_SIZE]
 * Logs in, creates a container view of every VirtualMachine and retrieves
 * the properties the collectors use with vi_pc_retrieve (PAGE_SIZE objects
 * per page, default 1000). Prints key value lines: objects, pages, bytes,
 * wall seconds, this process's CPU seconds for the retrieval, the
 * simulator's CPU seconds for the same retrieval (from /_sim/stats before and
 * after), and this process's peak RSS.
 */

static const char *const vm_paths[] = {
	"name",
	"runtime.powerState",
	"runtime.connectionState",
	"runtime.host",
	"runtime.bootTime",
	"runtime.question",
	"guestHeartbeatStatus",
	"config.uuid",
	"config.guestId",
	"config.hardware.numCPU",
	"config.hardware.memoryMB",
	"summary.quickStats",
	NULL,
};

struct tally {
	size_t objects;
	size_t changes;
	size_t text_bytes;
	size_t bytes;
	size_t calls;
};

/* Touches a value the way a collector would: reads every text once. */
static size_t walk(const struct vi_node *n)
{
	const struct vi_node *c;
	size_t bytes = strlen(n->text);

	for (c = n->first; c; c = c->next)
		bytes += walk(c);
	return bytes;
}

static int on_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct tally *t = ud;

	(void)e;
	t->changes++;
	if (c->value)
		t->text_bytes += walk(c->value);
	return 0;
}

static int on_done(void *ud, const char *obj_type, const char *moref, enum vi_obj_kind kind,
		   struct err *e)
{
	(void)obj_type;
	(void)moref;
	(void)kind;
	(void)e;
	((struct tally *)ud)->objects++;
	return 0;
}

static void on_call(void *ud, const char *method, double seconds, size_t bytes, const struct err *e)
{
	struct tally *t = ud;

	(void)method;
	(void)seconds;
	(void)e;
	t->bytes += bytes;
	t->calls++;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	buf_add(ud, p, size * n);
	return size * n;
}

/* The simulator's CPU seconds so far, or -1. */
static double sim_cpu(const char *base)
{
	CURL *c = curl_easy_init();
	struct buf url, out;
	json_t *j;
	double cpu = -1;

	buf_init(&url, 0);
	buf_init(&out, 0);
	buf_addf(&url, "%s/_sim/stats", base);
	curl_easy_setopt(c, CURLOPT_URL, url.data);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	if (curl_easy_perform(c) == CURLE_OK) {
		j = json_loads(out.data, 0, NULL);
		if (j)
			cpu = json_number_value(json_object_get(j, "cpu_seconds"));
		json_decref(j);
	}
	curl_easy_cleanup(c);
	buf_release(&url);
	buf_release(&out);
	return cpu;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char *const types[] = {"VirtualMachine"};
	const struct vi_prop_spec spec = {.type = "VirtualMachine", .paths = vm_paths};
	struct tally t = {0};
	struct vi_pc_handler h = {.on_change = on_change, .on_object_done = on_done, .ud = &t};
	struct vi_call_observer obs = {.on_call = on_call, .ud = &t};
	struct vi_session_opts o = {0};
	struct vi_session *s;
	struct rusage ru;
	char *view = NULL;
	double cpu0, sim0, wall0, cpu1, sim1, wall1;
	int pages = 0, page_size = 1000, rc = 1;
	struct err e;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_retrieve SIM_URL SIM_BASE [PAGE_SIZE]\n");
		return 2;
	}
	if (argc > 3)
		page_size = (int)strtol(argv[3], NULL, 10);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	o.http.url = argv[1];
	o.http.insecure = true;
	o.http.timeout_ms = 600000;
	o.username = "bench";
	o.password = "bench";
	err_clear(&e);
	s = vi_session_new(&o, &e);
	if (!s || vi_session_login(s, &e) < 0 ||
	    vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e) < 0)
		goto out;
	vi_session_set_observer(s, &obs);
	sim0 = sim_cpu(argv[2]);
	cpu0 = cpu_seconds();
	wall0 = wall_seconds();
	if (vi_pc_retrieve(s, view, &spec, 1, page_size, &h, &pages, &e) < 0)
		goto out;
	wall1 = wall_seconds();
	cpu1 = cpu_seconds();
	sim1 = sim_cpu(argv[2]);
	getrusage(RUSAGE_SELF, &ru);
	printf("objects %zu\n", t.objects);
	printf("changes %zu\n", t.changes);
	printf("pages %d\n", pages);
	printf("bytes %zu\n", t.bytes);
	printf("wall_seconds %.3f\n", wall1 - wall0);
	printf("agent_cpu_seconds %.3f\n", cpu1 - cpu0);
	printf("sim_cpu_seconds %.3f\n", sim1 - sim0);
	printf("peak_rss_kb %ld\n", ru.ru_maxrss);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bench_retrieve: %s\n", e.msg);
	if (s && view)
		vi_pc_destroy_view(s, view, &e);
	free(view);
	vi_session_free(s);
	curl_global_cleanup();
	return rc;
}

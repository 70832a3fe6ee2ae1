/* Unit tests: vi/perf parsers, collectors/perf conversions, agent/perf entity lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/inventory.h"
#include "agent/perf.h"
#include "collectors/collector.h"
#include "collectors/perf.h"
#include "tests/support/testutil.h"
#include "vi/perf.h"
#include "vi/xml.h"

/* ---- counter ids by name ---- */

static const char *const names[] = {
	"mem.state.latest",  "mem.swapinRate.average", "cpu.ready.summation",
	"cpu.usage.average", "mem.latency.average",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static int on_info(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	(void)path;
	return vi_perf_counter_match(n, names, NNAMES, ud, e);
}

static void test_counter_lookup(void **state)
{
	static const char *const paths[] = {"returnval/objects/propSet/val/PerfCounterInfo", NULL};
	struct vi_perf_counter out[NNAMES];
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_info, .ud = out};
	static const struct {
		int key;
		const char *unit;
	} want[NNAMES] = {
		{68, "number"}, {85, "kiloBytesPerSecond"}, {12, "millisecond"}, {2, "percent"},
		{-1, ""},
	};
	struct err e = {0};
	size_t len;
	char *xml = test_read_fixture("sim_perfcounter.xml", &len);

	(void)state;
	for (size_t i = 0; i < NNAMES; i++) {
		out[i].key = -1;
		out[i].unit[0] = '\0';
	}
	assert_int_equal(vi_reader_parse(&spec, xml, len, &e), 0);
	for (size_t i = 0; i < NNAMES; i++) {
		if (out[i].key != want[i].key)
			fail_msg("%s: key %d, want %d", names[i], out[i].key, want[i].key);
		assert_string_equal(out[i].unit, want[i].unit);
	}
	free(xml);
}

/* A counter of ours with a key that is not a number: an error naming it. */
static void test_counter_bad_key(void **state)
{
	struct vi_node *n =
		test_xml_value("<returnval><key>x1</key><nameInfo><key>state</key></"
			       "nameInfo><groupInfo><key>mem</key>"
			       "</groupInfo><rollupType>latest</rollupType></returnval>");
	struct vi_perf_counter out[NNAMES];
	struct err e = {0};

	(void)state;
	assert_int_equal(vi_perf_counter_match(n, names, NNAMES, out, &e), -1);
	assert_int_equal(e.kind, ERR_PARSE);
	assert_non_null(strstr(e.msg, "mem.state.latest"));
	vi_node_free(n);
}

/* ---- QueryPerf replies ---- */

struct got {
	char text[1024];
	size_t n;
};

static int on_sample(void *ud, const struct vi_perf_sample *s, struct err *e)
{
	struct got *g = ud;
	size_t len = strlen(g->text);

	(void)e;
	snprintf(g->text + len, sizeof(g->text) - len, "%s/%d/%s=%lld@%d%s;", s->entity, s->counter,
		 s->instance, (long long)s->value, s->interval, s->timestamp > 1.7e9 ? "" : "!");
	g->n++;
	return 0;
}

static int on_metric(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	(void)path;
	return vi_perf_entity_metric(n, on_sample, ud, e);
}

static void test_query_reply(void **state)
{
	static const char *const paths[] = {"returnval", NULL};
	struct got g = {{0}, 0};
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_metric, .ud = &g};
	struct err e = {0};
	size_t len;
	char *xml = test_read_fixture("sim_queryperf.xml", &len);

	(void)state;
	assert_int_equal(vi_reader_parse(&spec, xml, len, &e), 0);
	assert_string_equal(g.text, "host-21/68/=3@20;host-21/85/=2@20;host-21/12/=17058@20;"
				    "host-34/68/=3@20;");
	free(xml);
}

#define SERIES(id, inst, vals)                                                                     \
	"<value><id><counterId>" id "</counterId><instance>" inst "</instance></id>" vals "</"     \
	"value>"

/* Shapes a server may send: the latest of several values, -1 (no data), instances,
 * no sampleInfo; and malformed ones, refused with a clear error. */
static void test_entity_metric_table(void **state)
{
	static const struct {
		const char *xml;
		int rc;
		const char *want; /* samples, or a piece of the error message */
	} cases[] = {
		{"<returnval><entity type=\"VirtualMachine\">vm-1</entity><sampleInfo><timestamp>"
		 "2026-11-29T10:00:00Z</timestamp><interval>20</interval></sampleInfo><sampleInfo>"
		 "<timestamp>2026-11-29T10:00:20Z</timestamp><interval>20</interval></"
		 "sampleInfo>" SERIES("12", "", "<value>5</value><value>7</value>")
			 SERIES("13", "", "<value>-1</value>") SERIES("14", "0", "<value>9</value>")
				 SERIES("15", "", "") "</returnval>",
		 0, "vm-1/12/=7@20;vm-1/14/0=9@20;"},
		{"<returnval><entity type=\"HostSystem\">host-1</entity>" SERIES(
			 "68", "", "<value>1</value>") "</returnval>",
		 0, "host-1/68/=1@0!;"},
		{"<returnval>" SERIES("68", "", "<value>1</value>") "</returnval>", -1,
		 "without an entity"},
		{"<returnval><entity type=\"HostSystem\">host-1</entity>" SERIES(
			 "x", "", "<value>1</value>") "</returnval>",
		 -1, "PerfEntityMetric of host-1"},
		{"<returnval><entity type=\"HostSystem\">host-1</entity>" SERIES(
			 "68", "", "<value>lots</value>") "</returnval>",
		 -1, "PerfEntityMetric of host-1"},
		{"<returnval><entity "
		 "type=\"HostSystem\">host-1</entity><sampleInfo><timestamp>never"
		 "</timestamp></sampleInfo>" SERIES("68", "", "<value>1</value>") "</returnval>",
		 -1, "PerfEntityMetric of host-1"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vi_node *n = test_xml_value(cases[i].xml);
		struct got g = {{0}, 0};
		struct err e = {0};
		int rc = vi_perf_entity_metric(n, on_sample, &g, &e);

		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d (%s)", i, rc, e.msg);
		if (rc == 0)
			assert_string_equal(g.text, cases[i].want);
		else if (!strstr(e.msg, cases[i].want))
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, e.msg, cases[i].want);
		vi_node_free(n);
	}
}

/* ---- conversions ---- */

static const struct col_perf_counter *counter(const struct col_perf *p, const char *name)
{
	for (size_t i = 0; p->counters[i].counter; i++) {
		if (strcmp(p->counters[i].counter, name) == 0)
			return &p->counters[i];
	}
	fail_msg("no counter %s", name);
	return NULL;
}

static void test_conversions(void **state)
{
	static const struct {
		const struct col_perf *p;
		const char *counter;
		int64_t raw;
		int interval;
		bool ok;
		double want;
	} cases[] = {
		{&col_perf_host, "mem.vmmemctl.average", 3, 20, true, 3072},
		{&col_perf_host, "mem.swapoutRate.average", 10, 20, true, 10240},
		{&col_perf_host, "mem.latency.average", 2500, 20, true, 0.25},
		{&col_perf_host, "cpu.ready.summation", 1000, 20, true, 0.05},
		{&col_perf_vm, "cpu.ready.summation", 1000, 0, true, 0.05}, /* 20 s assumed */
		{&col_perf_vm, "cpu.ready.summation", 3000, 300, true, 0.01},
		{&col_perf_host, "mem.state.latest", 0, 20, true, 0},
		{&col_perf_host, "mem.state.latest", 4, 20, true, 4},
		{&col_perf_host, "mem.state.latest", 5, 20, false, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double v = -1;
		bool ok = col_perf_value(counter(cases[i].p, cases[i].counter), cases[i].raw,
					 cases[i].interval, &v);

		assert_int_equal(ok, cases[i].ok);
		if (ok && v != cases[i].want)
			fail_msg("case %zu: %g, want %g", i, v, cases[i].want);
	}
	assert_int_equal(col_perf_ncounters(&col_perf_host), 11);
	assert_int_equal(col_perf_ncounters(&col_perf_vm), 8);
	/* every family in base units: its name says which */
	for (const struct col_perf *const *p =
		     (const struct col_perf *const[]){&col_perf_host, &col_perf_vm, NULL};
	     *p; p++) {
		for (size_t i = 0; (*p)->counters[i].counter; i++) {
			const struct col_perf_counter *c = &(*p)->counters[i];
			const char *suffix = c->conv == COL_PERF_KB	 ? "_bytes"
					     : c->conv == COL_PERF_KBPS	 ? "_bytes_per_second"
					     : c->conv == COL_PERF_STATE ? "_state"
									 : "_ratio";
			size_t fl = strlen(c->family), sl = strlen(suffix);

			if (fl < sl || strcmp(c->family + fl - sl, suffix) != 0)
				fail_msg("%s does not end in %s", c->family, suffix);
		}
	}
}

/* ---- entity lists ---- */

static void apply(struct inventory *inv, const char *type, const char *moref, const char *path,
		  const char *xml)
{
	struct vi_node *v = test_xml_value(xml);
	struct vi_change c = {type, moref, VI_OBJ_ENTER, path, VI_OP_ASSIGN, v, NULL};
	struct err e = {0};

	if (inventory_apply(inv, &c, 1000, &e) < 0)
		fail_msg("%s: %s", moref, e.msg);
	vi_node_free(v);
}

#define STR(v) "<returnval xsi:type=\"xsd:string\">" v "</returnval>"

static void test_entities(void **state)
{
	static const struct collector *const cols[] = {&col_vm, &col_host};
	struct inventory *inv = NULL;
	struct perf_entities *pe;
	struct err e = {0};
	unsigned long g0;

	(void)state;
	assert_int_equal(inventory_new(cols, 2, &inv, &e), 0);
	apply(inv, "HostSystem", "host-2", "name", STR("esx2"));
	apply(inv, "HostSystem", "host-2", "runtime.connectionState", STR("connected"));
	apply(inv, "HostSystem", "host-1", "name", STR("esx1"));
	apply(inv, "HostSystem", "host-1", "runtime.connectionState", STR("notResponding"));
	apply(inv, "VirtualMachine", "vm-9", "name", STR("odd%2fslash"));
	apply(inv, "VirtualMachine", "vm-9", "runtime.powerState", STR("poweredOn"));
	apply(inv, "VirtualMachine", "vm-3", "name", STR("off"));
	apply(inv, "VirtualMachine", "vm-3", "runtime.powerState", STR("poweredOff"));
	pe = perf_entities_build(inv, "vc\"1", true, true);
	assert_non_null(pe);
	assert_int_equal(perf_entities_count(pe), 2); /* esx2 and odd/slash */
	perf_entities_put(pe);
	pe = perf_entities_build(inv, "vc", true, false);
	assert_int_equal(perf_entities_count(pe), 1);
	perf_entities_put(pe);
	/* a power change, a rename, a host reconnecting: a new list is due */
	g0 = perf_entities_gen(inv);
	apply(inv, "VirtualMachine", "vm-3", "runtime.powerState", STR("poweredOn"));
	assert_true(perf_entities_gen(inv) != g0);
	g0 = perf_entities_gen(inv);
	apply(inv, "HostSystem", "host-1", "runtime.connectionState", STR("connected"));
	assert_true(perf_entities_gen(inv) != g0);
	g0 = perf_entities_gen(inv);
	apply(inv, "VirtualMachine", "vm-3", "config.hardware.numCPU",
	      "<returnval xsi:type=\"xsd:int\">4</returnval>");
	assert_true(perf_entities_gen(inv) == g0); /* nothing the list shows */
	pe = perf_entities_build(inv, "vc", true, true);
	assert_int_equal(perf_entities_count(pe), 4);
	perf_entities_put(pe);
	inventory_free(inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_lookup), cmocka_unit_test(test_counter_bad_key),
		cmocka_unit_test(test_query_reply),    cmocka_unit_test(test_entity_metric_table),
		cmocka_unit_test(test_conversions),    cmocka_unit_test(test_entities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

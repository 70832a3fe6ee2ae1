/* vi/perf: the PerformanceManager: counter ids by name, QueryPerf for the latest sample. */
#include "vi/perf.h"

#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "vi/soap.h"
#include "vi/value.h"

#define PERF_BODY_MAX ((size_t)16 << 20)

int vi_perf_counter_match(const struct vi_node *info, const char *const *names, size_t n,
			  struct vi_perf_counter *out, struct err *e)
{
	const char *group = vi_node_child_text(vi_node_child(info, "groupInfo"), "key");
	const char *name = vi_node_child_text(vi_node_child(info, "nameInfo"), "key");
	const char *rollup = vi_node_child_text(info, "rollupType");
	const char *unit = vi_node_child_text(vi_node_child(info, "unitInfo"), "key");
	const struct vi_node *key = vi_node_child(info, "key");
	char full[VI_PERF_NAME_MAX];
	int64_t k;

	if (!group || !name || !rollup)
		return 0; /* not a counter we could ask for by name */
	if (snprintf(full, sizeof(full), "%s.%s.%s", group, name, rollup) >= (int)sizeof(full))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], full) != 0)
			continue;
		if (!key || vi_value_int64(key, &k, e) < 0 || k < 0 || k > INT32_MAX) {
			if (e->kind == ERR_OK)
				err_set(e, ERR_PARSE, "counter %s: no valid key", full);
			else
				err_prefix(e, "counter %s key", full);
			return -1;
		}
		out[i].key = (int)k;
		snprintf(out[i].unit, sizeof(out[i].unit), "%s", unit ? unit : "");
	}
	return 0;
}

struct lookup_ctx {
	const char *const *names;
	size_t n;
	struct vi_perf_counter *out;
};

static int on_counter(void *ud, const char *path, const struct vi_node *node, struct err *e)
{
	struct lookup_ctx *l = ud;

	(void)path;
	return vi_perf_counter_match(node, l->names, l->n, l->out, e);
}

static const char *perf_manager(struct vi_session *s, const char *method, struct err *e)
{
	const struct vi_service_content *sc = vi_get_service_content(s);

	if (!sc || !sc->perf_manager) {
		err_set(e, ERR_INVALID, "%s: the server has no PerformanceManager", method);
		return NULL;
	}
	return sc->perf_manager;
}

int vi_perf_lookup_counters(struct vi_session *s, const char *const *names, size_t n,
			    struct vi_perf_counter *out, struct err *e)
{
	static const char *const paths[] = {"returnval/objects/propSet/val/PerfCounterInfo", NULL};
	struct lookup_ctx l = {names, n, out};
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_counter, .ud = &l};
	const struct vi_service_content *sc;
	const char *pm;
	struct buf b;
	int rc;

	for (size_t i = 0; i < n; i++) {
		out[i].key = -1;
		out[i].unit[0] = '\0';
	}
	pm = perf_manager(s, "RetrievePropertiesEx", e);
	if (!pm)
		return -1;
	sc = vi_get_service_content(s);
	buf_init(&b, PERF_BODY_MAX);
	vi_soap_begin(&b, "RetrievePropertiesEx", "PropertyCollector", sc->property_collector);
	vi_soap_open(&b, "specSet", NULL);
	vi_soap_open(&b, "propSet", NULL);
	vi_soap_add(&b, "type", "PerformanceManager");
	vi_soap_add(&b, "all", "false");
	vi_soap_add(&b, "pathSet", "perfCounter");
	vi_soap_close(&b, "propSet");
	vi_soap_open(&b, "objectSet", NULL);
	vi_soap_add_moref(&b, "obj", "PerformanceManager", pm);
	vi_soap_add(&b, "skip", "false");
	vi_soap_close(&b, "objectSet");
	vi_soap_close(&b, "specSet");
	vi_soap_open(&b, "options", NULL);
	vi_soap_close(&b, "options");
	vi_soap_end(&b, "RetrievePropertiesEx");
	rc = vi_session_call(s, "RetrievePropertiesEx", &b, &spec, 0, e);
	buf_release(&b);
	return rc;
}

/* The last element named name among n's children, or NULL. */
static const struct vi_node *last_child(const struct vi_node *n, const char *name)
{
	const struct vi_node *last = NULL;

	for (const struct vi_node *c = vi_node_child(n, name); c; c = vi_node_next_same(c))
		last = c;
	return last;
}

int vi_perf_entity_metric(const struct vi_node *n, vi_perf_sample_fn on_sample, void *ud,
			  struct err *e)
{
	const struct vi_node *ent = vi_node_child(n, "entity");
	const struct vi_node *info = last_child(n, "sampleInfo");
	struct vi_perf_sample smp = {0};
	int64_t v;

	if (!ent || !*ent->text)
		return err_set(e, ERR_PARSE, "PerfEntityMetric without an entity");
	smp.entity = ent->text;
	if (info) {
		const struct vi_node *ts = vi_node_child(info, "timestamp");
		const struct vi_node *iv = vi_node_child(info, "interval");

		if (ts && vi_value_time(ts, &smp.timestamp, e) < 0)
			goto out_parse;
		if (iv && (vi_value_int64(iv, &v, e) < 0 || v < 0 || v > 86400))
			goto out_parse;
		smp.interval = iv ? (int)v : 0;
	}
	for (const struct vi_node *s = vi_node_child(n, "value"); s; s = vi_node_next_same(s)) {
		const struct vi_node *id = vi_node_child(s, "id");
		const struct vi_node *cid = id ? vi_node_child(id, "counterId") : NULL;
		const struct vi_node *last = last_child(s, "value");

		if (!cid || vi_value_int64(cid, &v, e) < 0 || v < 0 || v > INT32_MAX)
			goto out_parse;
		smp.counter = (int)v;
		smp.instance = vi_node_child_text(id, "instance");
		if (!smp.instance)
			smp.instance = "";
		if (!last)
			continue;
		if (vi_value_int64(last, &smp.value, e) < 0)
			goto out_parse;
		if (smp.value < 0)
			continue; /* -1: no data for that sample */
		if (on_sample(ud, &smp, e) < 0)
			return -1;
	}
	return 0;

out_parse:
	if (e->kind == ERR_OK)
		err_set(e, ERR_PARSE, "bad counter id");
	err_prefix(e, "PerfEntityMetric of %s", smp.entity);
	return -1;
}

struct query_ctx {
	vi_perf_sample_fn on_sample;
	void *ud;
};

static int on_entity(void *ud, const char *path, const struct vi_node *node, struct err *e)
{
	struct query_ctx *q = ud;

	(void)path;
	return vi_perf_entity_metric(node, q->on_sample, q->ud, e);
}

int vi_perf_query(struct vi_session *s, const struct vi_perf_entity *ents, size_t nents,
		  const int *counters, size_t ncounters, int interval_id,
		  vi_perf_sample_fn on_sample, void *ud, struct err *e)
{
	static const char *const paths[] = {"returnval", NULL};
	struct query_ctx q = {on_sample, ud};
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_entity, .ud = &q};
	const char *pm = perf_manager(s, "QueryPerf", e);
	struct buf b;
	int rc;

	if (!pm)
		return -1;
	if (nents == 0 || ncounters == 0)
		return 0;
	buf_init(&b, PERF_BODY_MAX);
	vi_soap_begin(&b, "QueryPerf", "PerformanceManager", pm);
	for (size_t i = 0; i < nents; i++) {
		vi_soap_open(&b, "querySpec", NULL);
		vi_soap_add_moref(&b, "entity", ents[i].type, ents[i].moref);
		vi_soap_add_int(&b, "maxSample", 1);
		for (size_t c = 0; c < ncounters; c++) {
			vi_soap_open(&b, "metricId", NULL);
			vi_soap_add_int(&b, "counterId", counters[c]);
			vi_soap_add(&b, "instance", "");
			vi_soap_close(&b, "metricId");
		}
		vi_soap_add_int(&b, "intervalId", interval_id);
		vi_soap_close(&b, "querySpec");
	}
	vi_soap_end(&b, "QueryPerf");
	rc = vi_session_call(s, "QueryPerf", &b, &spec, 0, e);
	buf_release(&b);
	return rc;
}

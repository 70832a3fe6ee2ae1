/* agent/selfmetrics: the agent's own metrics for one target (API calls, errors, logins). */
#include <stdbool.h>
#include <string.h>

#include "agent/render.h"
#include "agent/selfmetrics.h"
#include "util/buf.h"

/* latencies of requests the server answers at once (WaitForUpdatesEx is left out) */
static const double bucket_le[SELF_NBUCKETS - 1] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
						    0.5,   1,	 2.5,	5,    10,  30};

/* WaitForUpdatesEx holds the reply until a change or its server-side wait
 * (30 s when quiet) ends: its duration says how quiet the target is, not how
 * fast it answers, so it stays out of the latency histogram. */
static bool in_histogram(const char *method)
{
	return strcmp(method, "WaitForUpdatesEx") != 0;
}

void selfmetrics_init(struct selfmetrics *m)
{
	memset(m, 0, sizeof(*m));
}

void selfmetrics_on_call(void *ud, const char *method, double seconds, size_t bytes,
			 const struct err *e)
{
	struct selfmetrics *m = ud;
	size_t b = 0;

	(void)e;
	for (size_t i = 0; i < m->nmethods; i++) {
		if (strcmp(m->methods[i].name, method) == 0) {
			m->methods[i].count++;
			goto counted;
		}
	}
	if (m->nmethods < SELF_MAX_METHODS && strlen(method) < sizeof(m->methods[0].name)) {
		struct self_method *sm = &m->methods[m->nmethods++];

		memcpy(sm->name, method, strlen(method) + 1);
		sm->count = 1;
	}
counted:
	m->bytes += bytes;
	if (!in_histogram(method))
		return;
	while (b < SELF_NBUCKETS - 1 && seconds > bucket_le[b])
		b++;
	m->buckets[b]++;
	m->calls++;
	m->seconds_sum += seconds;
}

void selfmetrics_error(struct selfmetrics *m, enum err_kind kind)
{
	if (kind > ERR_OK && kind < ERR_KIND_COUNT)
		m->errors[kind]++;
}

static void prefix(struct buf *b, const char *family, const char *target)
{
	buf_adds(b, family);
	buf_adds(b, "{target=\"");
	buf_add_label(b, target);
	buf_addc(b, '"');
}

static void value(struct buf *b, double v)
{
	buf_adds(b, "} ");
	render_value(b, v);
	buf_addc(b, '\n');
}

static int add(struct snapshot *s, const char *name, const char *help, const char *type,
	       struct buf *b, struct err *e)
{
	int rc;

	if (b->failed)
		return err_set(e, ERR_NOMEM, "out of memory rendering %s", name);
	rc = snapshot_add_family(s, name, help, type, b->data, b->len);
	buf_reset(b);
	return rc < 0 ? err_set(e, ERR_NOMEM, "out of memory") : 0;
}

int selfmetrics_render(const struct selfmetrics *m, const struct self_state *st,
		       const struct inventory *inv, const char *target, struct snapshot *s,
		       struct err *e)
{
	struct buf b;
	unsigned long cum = 0;
	int rc = -1;

	buf_init(&b, 0);
	prefix(&b, "vsphere_up", target);
	value(&b, st->up ? 1 : 0);
	if (add(s, "vsphere_up",
		"1 when the last exchange with the target succeeded, 0 while it is unreachable or "
		"refusing us (object metrics then show the last known state).",
		"gauge", &b, e) < 0)
		goto out;
	if (st->last_update > 0) {
		prefix(&b, "vsphere_last_update_timestamp_seconds", target);
		value(&b, st->last_update);
	}
	if (add(s, "vsphere_last_update_timestamp_seconds",
		"When the agent last completed an update round trip with the target.", "gauge", &b,
		e) < 0)
		goto out;
	for (int k = ERR_OK + 1; k < ERR_KIND_COUNT; k++) {
		prefix(&b, "vsphere_collector_errors_total", target);
		buf_addf(&b, ",kind=\"%s\"", err_kind_name((enum err_kind)k));
		value(&b, (double)m->errors[k]);
	}
	if (add(s, "vsphere_collector_errors_total", "Collection failures by error kind.",
		"counter", &b, e) < 0)
		goto out;
	for (size_t i = 0; i < m->nmethods; i++) {
		prefix(&b, "vsphere_api_requests_total", target);
		buf_adds(&b, ",method=\"");
		buf_add_label(&b, m->methods[i].name);
		buf_addc(&b, '"');
		value(&b, (double)m->methods[i].count);
	}
	if (add(s, "vsphere_api_requests_total", "SOAP requests sent to the target, by method.",
		"counter", &b, e) < 0)
		goto out;
	for (int i = 0; i < SELF_NBUCKETS; i++) {
		cum += m->buckets[i];
		prefix(&b, "vsphere_api_request_duration_seconds_bucket", target);
		if (i < SELF_NBUCKETS - 1) {
			buf_adds(&b, ",le=\"");
			render_value(&b, bucket_le[i]);
			buf_addc(&b, '"');
		} else {
			buf_adds(&b, ",le=\"+Inf\"");
		}
		value(&b, (double)cum);
	}
	prefix(&b, "vsphere_api_request_duration_seconds_sum", target);
	value(&b, m->seconds_sum);
	prefix(&b, "vsphere_api_request_duration_seconds_count", target);
	value(&b, (double)m->calls);
	if (add(s, "vsphere_api_request_duration_seconds",
		"Duration of SOAP requests to the target, WaitForUpdatesEx (which waits for "
		"changes on the server) excepted.",
		"histogram", &b, e) < 0)
		goto out;
	prefix(&b, "vsphere_api_received_bytes_total", target);
	value(&b, (double)m->bytes);
	if (add(s, "vsphere_api_received_bytes_total",
		"Bytes received from the target on the wire.", "counter", &b, e) < 0)
		goto out;
	prefix(&b, "vsphere_session_logins_total", target);
	value(&b, (double)st->logins);
	if (add(s, "vsphere_session_logins_total",
		"Successful logins to the target (a re-login after an expired session counts).",
		"counter", &b, e) < 0)
		goto out;
	prefix(&b, "vsphere_collector_resyncs_total", target);
	value(&b, (double)st->resyncs);
	if (add(s, "vsphere_collector_resyncs_total",
		"Rebuilds of the view and filters after the first one (after a renewed session "
		"or a failure), each re-reading the whole inventory.",
		"counter", &b, e) < 0)
		goto out;
	for (size_t i = 0; inv && i < inv->ntypes; i++) {
		prefix(&b, "vsphere_inventory_objects", target);
		buf_adds(&b, ",type=\"");
		buf_add_label(&b, inv->types[i].name);
		buf_addc(&b, '"');
		value(&b, (double)inv->types[i].count);
	}
	if (add(s, "vsphere_inventory_objects", "Managed objects the agent holds, by type.",
		"gauge", &b, e) < 0)
		goto out;
	prefix(&b, "vsphere_snapshot_render_seconds", target);
	value(&b, st->render_seconds);
	if (add(s, "vsphere_snapshot_render_seconds",
		"Time the agent took for the last snapshot that re-rendered object families "
		"(unchanged families are shared, not rendered).",
		"gauge", &b, e) < 0)
		goto out;
	rc = 0;
out:
	buf_release(&b);
	return rc;
}

/* agent/perf: a target's PerformanceManager counters, on their own thread and session. */
#include "agent/perf.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/render.h"
#include "agent/target.h"
#include "collectors/perf.h"
#include "util/log.h"
#include "vi/perf.h"
#include "vi/session.h"

#define PERF_INTERVAL	  20  /* realtime sampling period (seconds) */
#define PERF_OFFSET	  4   /* seconds after a 20 s boundary: that sample is complete */
#define PERF_BATCH	  250 /* entities per QueryPerf (bench/README.md) */
#define PERF_MAX_COUNTERS 16
#define PERF_BACKOFF_MAX  60
#define PERF_LOGOUT_S	  2

/* ---- entities ---- */

struct perf_entity {
	char *moref;
	char *prefix;	/* target="..",host="..",host_id=".." */
	unsigned table; /* 0: hosts, 1: VMs */
};

struct perf_entities {
	int refs;		  /* atomic */
	struct perf_entity *ents; /* sorted by moref */
	size_t n;
};

static const char *const table_type[] = {"HostSystem", "VirtualMachine"};
static const char *const table_state_path[] = {"runtime.connectionState", "runtime.powerState"};
static const char *const table_state_want[] = {"connected", "poweredOn"};
static const struct col_perf *const table_perf[] = {&col_perf_host, &col_perf_vm};

void perf_entities_put(struct perf_entities *pe)
{
	if (!pe || __atomic_sub_fetch(&pe->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < pe->n; i++) {
		free(pe->ents[i].moref);
		free(pe->ents[i].prefix);
	}
	free(pe->ents);
	free(pe);
}

static struct perf_entities *entities_ref(struct perf_entities *pe)
{
	if (pe)
		__atomic_add_fetch(&pe->refs, 1, __ATOMIC_RELAXED);
	return pe;
}

size_t perf_entities_count(const struct perf_entities *pe)
{
	return pe ? pe->n : 0;
}

static int entity_cmp(const void *a, const void *b)
{
	return strcmp(((const struct perf_entity *)a)->moref,
		      ((const struct perf_entity *)b)->moref);
}

/* The index of moref in pe, or -1. */
static long entity_find(const struct perf_entities *pe, const char *moref)
{
	size_t lo = 0, hi = pe ? pe->n : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(pe->ents[mid].moref, moref);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int entity_add(struct perf_entities *pe, size_t *cap, const char *target, unsigned table,
		      const char *name, const char *moref)
{
	const struct col_perf *p = table_perf[table];
	struct perf_entity *en;
	struct buf b;

	if (pe->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct perf_entity *g = realloc(pe->ents, ncap * sizeof(*g));

		if (!g)
			return -1;
		pe->ents = g;
		*cap = ncap;
	}
	buf_init(&b, 0);
	buf_adds(&b, "target=\"");
	buf_add_label(&b, target);
	buf_addf(&b, "\",%s=\"", p->name_label);
	render_name_label(&b, name ? name : "");
	buf_addf(&b, "\",%s=\"", p->id_label);
	buf_add_label(&b, moref);
	buf_addc(&b, '"');
	en = &pe->ents[pe->n];
	en->table = table;
	en->prefix = buf_detach(&b, NULL);
	en->moref = strdup(moref);
	if (!en->prefix || !en->moref) {
		free(en->prefix);
		free(en->moref);
		return -1;
	}
	pe->n++;
	return 0;
}

struct perf_entities *perf_entities_build(const struct inventory *inv, const char *target,
					  bool hosts, bool vms)
{
	struct perf_entities *pe = calloc(1, sizeof(*pe));
	size_t cap = 0;

	if (!pe)
		return NULL;
	pe->refs = 1;
	for (unsigned t = 0; t < 2; t++) {
		int type = inventory_type_index(inv, table_type[t]);
		int name, state;

		if ((t == 0 && !hosts) || (t == 1 && !vms) || type < 0)
			continue;
		name = inventory_slot(inv, (unsigned)type, "name");
		state = inventory_slot(inv, (unsigned)type, table_state_path[t]);
		for (const struct inv_obj *o = inv->types[type].head; o; o = o->next) {
			const char *v = inventory_value(o, state);

			if (!v || strcmp(v, table_state_want[t]) != 0 || o->hidden)
				continue;
			if (entity_add(pe, &cap, target, t, inventory_value(o, name), o->moref) < 0)
				goto out_fail;
		}
	}
	if (pe->n > 1)
		qsort(pe->ents, pe->n, sizeof(*pe->ents), entity_cmp);
	return pe;

out_fail:
	perf_entities_put(pe);
	return NULL;
}

unsigned long perf_entities_gen(const struct inventory *inv)
{
	unsigned long g = 0;

	for (unsigned t = 0; t < 2; t++) {
		int type = inventory_type_index(inv, table_type[t]);
		int name, state;

		if (type < 0)
			continue;
		name = inventory_slot(inv, (unsigned)type, "name");
		state = inventory_slot(inv, (unsigned)type, table_state_path[t]);
		g += inv->types[type].struct_gen;
		g += name >= 0 ? inv->types[type].slot_gen[name] : 0;
		g += state >= 0 ? inv->types[type].slot_gen[state] : 0;
	}
	return g;
}

/* ---- the worker ---- */

struct perf_table {
	bool on;
	size_t n; /* counters of the table */
	struct vi_perf_counter ids[PERF_MAX_COUNTERS];
	bool said[PERF_MAX_COUNTERS]; /* a missing counter was logged */
	int query[PERF_MAX_COUNTERS]; /* counter ids asked for */
	size_t nquery;
};

struct perf_worker {
	struct conf_target ct; /* deep copy */
	perf_publish_fn publish;
	void *ud;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;		    /* atomic; also signalled through cond */
	struct perf_entities *next; /* under lock: the newest list, not taken yet */
	double logout_at;

	/* Below: the worker's thread only. */
	struct vi_session *session;
	struct perf_table tables[2];
	unsigned long lookup_logins; /* login count at the last counter lookup; 0: none */
	struct perf_entities *cur;   /* the list vals belong to */
	double *vals;		     /* cur->n rows of PERF_MAX_COUNTERS, NAN: no value */
	struct log_backoff backoff;
	unsigned long long requests, bytes;
	unsigned long failures;
	double duration, last_sample;
	bool queried; /* a query round ran on a non-empty list */
};

static bool perf_stopping(struct perf_worker *w)
{
	return __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE) != 0;
}

static int perf_should_abort(void *ud)
{
	struct perf_worker *w = ud;

	if (!perf_stopping(w))
		return 0;
	return w->logout_at == 0 || vi_now_seconds() >= w->logout_at;
}

static void perf_on_call(void *ud, const char *method, double seconds, size_t bytes,
			 const struct err *e)
{
	struct perf_worker *w = ud;

	(void)seconds;
	(void)e;
	if (strcmp(method, "QueryPerf") == 0)
		w->requests++;
	w->bytes += bytes;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Looks the counters up when this session has not yet. */
static int ensure_counters(struct perf_worker *w, struct err *e)
{
	if (!vi_session_logged_in(w->session) && vi_session_login(w->session, e) < 0)
		return -1;
	if (w->lookup_logins == vi_session_login_count(w->session))
		return 0;
	for (unsigned t = 0; t < 2; t++) {
		struct perf_table *pt = &w->tables[t];
		const struct col_perf *p = table_perf[t];
		const char *names[PERF_MAX_COUNTERS];

		if (!pt->on)
			continue;
		for (size_t i = 0; i < pt->n; i++)
			names[i] = p->counters[i].counter;
		if (vi_perf_lookup_counters(w->session, names, pt->n, pt->ids, e) < 0) {
			err_prefix(e, "reading the performance counters");
			return -1;
		}
		pt->nquery = 0;
		for (size_t i = 0; i < pt->n; i++) {
			const struct col_perf_counter *c = &p->counters[i];

			if (pt->ids[i].key >= 0 && strcmp(pt->ids[i].unit, c->unit) != 0) {
				if (!pt->said[i])
					log_msg(LOG_LEVEL_WARN,
						"target %s: performance counter %s has unit "
						"\"%s\", "
						"not %s: skipped (logged once)",
						w->ct.name, c->counter, pt->ids[i].unit, c->unit);
				pt->said[i] = true;
				pt->ids[i].key = -1;
			}
			if (pt->ids[i].key < 0) {
				if (!pt->said[i])
					log_msg(LOG_LEVEL_WARN,
						"target %s: the server has no performance counter "
						"%s: %s skipped (logged once)",
						w->ct.name, c->counter, c->family);
				pt->said[i] = true;
				continue;
			}
			pt->query[pt->nquery++] = pt->ids[i].key;
		}
	}
	w->lookup_logins = vi_session_login_count(w->session);
	return 0;
}

struct round {
	struct perf_worker *w;
	struct perf_entities *pe;
	double *vals;
	unsigned table;
};

static int on_sample(void *ud, const struct vi_perf_sample *smp, struct err *e)
{
	struct round *r = ud;
	struct perf_table *pt = &r->w->tables[r->table];
	const struct col_perf *p = table_perf[r->table];
	long i = entity_find(r->pe, smp->entity);
	double v;

	(void)e;
	if (i < 0 || smp->instance[0] != '\0' || r->pe->ents[i].table != r->table)
		return 0; /* not asked for */
	for (size_t c = 0; c < pt->n; c++) {
		if (pt->ids[c].key != smp->counter)
			continue;
		if (col_perf_value(&p->counters[c], smp->value, smp->interval, &v))
			r->vals[(size_t)i * PERF_MAX_COUNTERS + c] = v;
		if (smp->timestamp > r->w->last_sample)
			r->w->last_sample = smp->timestamp;
	}
	return 0;
}

static double *new_vals(size_t n)
{
	double *v = malloc((n ? n : 1) * PERF_MAX_COUNTERS * sizeof(*v));

	for (size_t i = 0; v && i < n * PERF_MAX_COUNTERS; i++)
		v[i] = NAN;
	return v;
}

/* Makes pe the current list (takes the reference), its values from vals
 * (taken), or, when vals is NULL, those the old list had for the same morefs. */
static int install(struct perf_worker *w, struct perf_entities *pe, double *vals)
{
	if (!vals) {
		vals = new_vals(pe->n);
		if (!vals) {
			perf_entities_put(pe);
			return -1;
		}
		for (size_t i = 0; i < pe->n; i++) {
			long o = entity_find(w->cur, pe->ents[i].moref);

			if (o >= 0 && w->cur->ents[o].table == pe->ents[i].table)
				memcpy(&vals[i * PERF_MAX_COUNTERS],
				       &w->vals[(size_t)o * PERF_MAX_COUNTERS],
				       PERF_MAX_COUNTERS * sizeof(*vals));
		}
	}
	free(w->vals);
	perf_entities_put(w->cur);
	w->vals = vals;
	w->cur = pe;
	return 0;
}

/* QueryPerf for every entity of pe, in batches per table. The values that
 * came are installed even when a batch failed (-1 then, with e set). */
static int query_round(struct perf_worker *w, struct perf_entities *pe, struct err *e)
{
	struct round r = {w, pe, new_vals(pe->n), 0};
	struct vi_perf_entity batch[PERF_BATCH];
	int rc = 0;

	if (!r.vals) {
		perf_entities_put(pe);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	for (unsigned t = 0; t < 2 && rc == 0; t++) {
		struct perf_table *pt = &w->tables[t];
		size_t k = 0;

		if (!pt->on || pt->nquery == 0)
			continue;
		r.table = t;
		for (size_t i = 0; i <= pe->n && rc == 0; i++) {
			if (i < pe->n && pe->ents[i].table == t) {
				batch[k].type = table_type[t];
				batch[k].moref = pe->ents[i].moref;
				k++;
			}
			if (k == PERF_BATCH || (i == pe->n && k > 0)) {
				rc = vi_perf_query(w->session, batch, k, pt->query, pt->nquery,
						   PERF_INTERVAL, on_sample, &r, e);
				k = 0;
			}
		}
	}
	if (install(w, pe, r.vals) < 0 && rc == 0)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	return rc;
}

static void add_self(struct buf *b, const char *family, const char *target, double v)
{
	buf_adds(b, family);
	buf_adds(b, "{target=\"");
	buf_add_label(b, target);
	buf_adds(b, "\"} ");
	render_value(b, v);
	buf_addc(b, '\n');
}

static int add_family(struct snapshot *s, const char *name, const char *help, const char *type,
		      struct buf *b)
{
	int rc = b->failed ? -1 : snapshot_add_family(s, name, help, type, b->data, b->len);

	buf_release(b);
	return rc;
}

static int render_counter(struct perf_worker *w, unsigned t, size_t c, struct snapshot *s)
{
	const struct col_perf_counter *pc = &table_perf[t]->counters[c];
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; w->cur && i < w->cur->n; i++) {
		const struct perf_entity *en = &w->cur->ents[i];
		double v = w->vals[i * PERF_MAX_COUNTERS + c];

		if (en->table != t || isnan(v))
			continue;
		if (pc->conv != COL_PERF_STATE) {
			buf_adds(&b, pc->family);
			buf_addc(&b, '{');
			buf_adds(&b, en->prefix);
			buf_adds(&b, "} ");
			render_value(&b, v);
			buf_addc(&b, '\n');
			continue;
		}
		for (size_t k = 0; pc->states[k]; k++)
			buf_addf(&b, "%s{%s,%s=\"%s\"} %d\n", pc->family, en->prefix,
				 pc->state_label, pc->states[k], (double)k == v);
	}
	return add_family(s, pc->family, pc->help, "gauge", &b);
}

/* A snapshot of the counter families and the worker's own; NULL when out of memory. */
static struct snapshot *render(struct perf_worker *w)
{
	struct snapshot *s = snapshot_new();
	const char *tn = w->ct.name;
	size_t missing = 0;
	struct buf b;

	buf_init(&b, 0);
	if (!s)
		return NULL;
	for (unsigned t = 0; t < 2; t++) {
		const struct perf_table *pt = &w->tables[t];

		for (size_t c = 0; pt->on && c < pt->n; c++) {
			if (w->lookup_logins && pt->ids[c].key < 0) {
				missing++;
				continue;
			}
			if (render_counter(w, t, c, s) < 0)
				goto out_fail;
		}
	}
	add_self(&b, "vsphere_perf_requests_total", tn, (double)w->requests);
	if (add_family(s, "vsphere_perf_requests_total",
		       "QueryPerf requests sent on the target's performance session.", "counter",
		       &b) < 0)
		goto out_fail;
	add_self(&b, "vsphere_perf_received_bytes_total", tn, (double)w->bytes);
	if (add_family(s, "vsphere_perf_received_bytes_total",
		       "Bytes received on the performance session (compressed).", "counter",
		       &b) < 0)
		goto out_fail;
	add_self(&b, "vsphere_perf_failures_total", tn, (double)w->failures);
	if (add_family(s, "vsphere_perf_failures_total",
		       "Performance rounds that failed (logged with back-off).", "counter", &b) < 0)
		goto out_fail;
	add_self(&b, "vsphere_perf_duration_seconds", tn, w->duration);
	if (add_family(s, "vsphere_perf_duration_seconds",
		       "Time the last round of QueryPerf calls took.", "gauge", &b) < 0)
		goto out_fail;
	add_self(&b, "vsphere_perf_entities", tn, (double)perf_entities_count(w->cur));
	if (add_family(s, "vsphere_perf_entities",
		       "Hosts and VMs whose counters are asked for (connected, powered on).",
		       "gauge", &b) < 0)
		goto out_fail;
	add_self(&b, "vsphere_perf_counters_missing", tn, (double)missing);
	if (add_family(s, "vsphere_perf_counters_missing",
		       "Counters the server lacks (or with another unit): their families are "
		       "absent.",
		       "gauge", &b) < 0)
		goto out_fail;
	if (w->last_sample > 0) {
		add_self(&b, "vsphere_perf_sample_timestamp_seconds", tn, w->last_sample);
		if (add_family(s, "vsphere_perf_sample_timestamp_seconds",
			       "Time of the newest performance sample received.", "gauge", &b) < 0)
			goto out_fail;
	}
	buf_release(&b);
	snapshot_sort(s);
	return s;

out_fail:
	buf_release(&b);
	snapshot_put(s);
	return NULL;
}

static void publish(struct perf_worker *w)
{
	struct snapshot *s = render(w);

	if (!s) {
		log_msg(LOG_LEVEL_ERROR, "target %s: out of memory rendering performance counters",
			w->ct.name);
		return;
	}
	w->publish(w->ud, s);
}

static void report(struct perf_worker *w, const struct err *e)
{
	unsigned long suppressed = 0;

	w->failures++;
	if (log_backoff_due(&w->backoff, time(NULL), &suppressed))
		log_msg(LOG_LEVEL_WARN, "target %s: performance counters: %s: %s%s", w->ct.name,
			err_kind_name(e->kind), e->msg,
			suppressed ? " (similar failures suppressed)" : "");
}

/* The next time (wall clock) a realtime sample is complete. */
static double next_tick(double now)
{
	double t = floor((now - PERF_OFFSET) / PERF_INTERVAL) * PERF_INTERVAL + PERF_OFFSET;

	return t + PERF_INTERVAL;
}

/*
 * Sleeps until due (wall clock) or a new entity list; returns the list (the
 * caller's reference) or NULL when the time came (or the worker stops).
 */
static struct perf_entities *wait_due(struct perf_worker *w, double due)
{
	struct perf_entities *pe = NULL;
	struct timespec until;

	until.tv_sec = (time_t)due;
	until.tv_nsec = (long)((due - floor(due)) * 1e9);
	pthread_mutex_lock(&w->lock);
	while (!perf_stopping(w) && !w->next) {
		if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
			break;
	}
	pe = w->next;
	w->next = NULL;
	pthread_mutex_unlock(&w->lock);
	return pe;
}

static void *perf_main(void *arg)
{
	struct perf_worker *w = arg;
	unsigned delay = 1, auth_failures = 0;
	double due = 0; /* at once */

	while (!perf_stopping(w)) {
		struct perf_entities *pe;
		struct err e = {0};
		double t0, until;

		if (ensure_counters(w, &e) < 0) {
			report(w, &e);
			/* values we cannot refresh are not shown as current */
			for (size_t i = 0; w->vals && i < w->cur->n * PERF_MAX_COUNTERS; i++)
				w->vals[i] = NAN;
			publish(w);
			/* a refused login waits like the collection thread's (new
			 * entities do not end that wait), so the two sessions together
			 * cannot lock the account */
			until = wall_now() +
				(e.kind == ERR_AUTH ? target_auth_delay(++auth_failures) : delay);
			do {
				pe = wait_due(w, until);
				if (pe && install(w, pe, NULL) < 0)
					log_msg(LOG_LEVEL_ERROR, "target %s: out of memory",
						w->ct.name);
			} while (e.kind == ERR_AUTH && pe && !perf_stopping(w) &&
				 wall_now() < until);
			delay = delay * 2 > PERF_BACKOFF_MAX ? PERF_BACKOFF_MAX : delay * 2;
			continue;
		}
		delay = 1;
		auth_failures = 0;
		pe = wait_due(w, due);
		if (perf_stopping(w)) {
			perf_entities_put(pe);
			break;
		}
		if (pe) {
			/* the first entities since the start: ask at once */
			if (!w->queried && pe->n > 0)
				due = 0;
			if (install(w, pe, NULL) < 0)
				log_msg(LOG_LEVEL_ERROR, "target %s: out of memory", w->ct.name);
			if (wall_now() < due) {
				publish(w); /* entities gone lose their series now */
				continue;
			}
		}
		if (!w->cur) {
			due = next_tick(wall_now());
			continue;
		}
		t0 = vi_now_seconds();
		if (query_round(w, entities_ref(w->cur), &e) < 0)
			report(w, &e);
		else
			log_backoff_reset(&w->backoff);
		w->duration = vi_now_seconds() - t0;
		w->queried = w->queried || w->cur->n > 0;
		publish(w);
		due = next_tick(wall_now());
	}
	if (vi_session_logged_in(w->session)) {
		struct err e = {0};

		w->logout_at = vi_now_seconds() + PERF_LOGOUT_S;
		vi_session_logout(w->session, &e);
	}
	return NULL;
}

static void worker_free(struct perf_worker *w)
{
	if (!w)
		return;
	vi_session_free(w->session);
	perf_entities_put(w->cur);
	perf_entities_put(w->next);
	free(w->vals);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	conf_target_release(&w->ct);
	free(w);
}

static int make_session(struct perf_worker *w, struct err *e)
{
	struct vi_session_opts o;
	struct vi_call_observer obs = {perf_on_call, w};

	conf_target_session_opts(&w->ct, &o);
	w->session = vi_session_new(&o, e);
	if (!w->session)
		return -1;
	vi_session_set_observer(w->session, &obs);
	vi_session_set_abort(w->session, perf_should_abort, w);
	return 0;
}

struct perf_worker *perf_start(const struct conf_target *ct, bool hosts, bool vms,
			       perf_publish_fn publish_fn, void *ud, struct err *e)
{
	struct perf_worker *w = calloc(1, sizeof(*w));

	if (!w) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	log_backoff_init(&w->backoff, 600);
	w->publish = publish_fn;
	w->ud = ud;
	w->tables[0].on = hosts;
	w->tables[1].on = vms;
	for (unsigned t = 0; t < 2; t++) {
		w->tables[t].n = col_perf_ncounters(table_perf[t]);
		if (w->tables[t].n > PERF_MAX_COUNTERS) {
			err_set(e, ERR_INVALID, "too many performance counters");
			goto out_free;
		}
	}
	if (conf_target_copy(&w->ct, ct) < 0) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_free;
	}
	if (make_session(w, e) < 0)
		goto out_free;
	if (pthread_create(&w->thread, NULL, perf_main, w) != 0) {
		err_set(e, ERR_SYSTEM, "cannot start the performance thread");
		goto out_free;
	}
	return w;

out_free:
	worker_free(w);
	return NULL;
}

void perf_set_entities(struct perf_worker *w, struct perf_entities *pe)
{
	struct perf_entities *old;

	pthread_mutex_lock(&w->lock);
	old = w->next;
	w->next = pe;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	perf_entities_put(old);
}

void perf_request_stop(struct perf_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	vi_session_wakeup(w->session);
}

void perf_stop(struct perf_worker *w)
{
	if (!w)
		return;
	perf_request_stop(w);
	pthread_join(w->thread, NULL);
	worker_free(w);
}

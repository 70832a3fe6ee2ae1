/* agent/target: one monitored vCenter or ESX host, collected on its own thread. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/inventory.h"
#include "agent/perf.h"
#include "agent/render.h"
#include "agent/selfmetrics.h"
#include "agent/target.h"
#include "collectors/collector.h"
#include "collectors/perf.h"
#include "util/log.h"
#include "vi/pc.h"
#include "vi/names.h"
#include "vi/pc_tasks.h"
#include "vi/search.h"
#include "vi/session.h"

/*
 * Server-side wait per WaitForUpdatesEx: a quiet vCenter costs one round trip
 * per wait, and a change still comes back at once. vi_pc_wait keeps it below
 * the transport timeout; a stopping target interrupts it (the abort hook).
 */
#define TARGET_WAIT_S 30
/*
 * Without changes, a snapshot is re-published no more often than this: after
 * each quiet wait (TARGET_WAIT_S) for the last update, and every
 * TARGET_REFRESH_S while it shows ages (a pending question, a queued or
 * running task), the wait being shortened to that end.
 */
#define TARGET_REFRESH_S 15
/*
 * Under continuous changes a target publishes at most once per this: changes
 * that come sooner after a publication are applied at once and published
 * together when it is up (the next wait returns at once then). A change after
 * a quiet spell is published at once; under churn a change waits at most
 * this long more, and a publication renders each changed chunk once however
 * many of its objects changed meanwhile.
 */
#define TARGET_MIN_PUBLISH_S 1.0
/* A stopping target gives its logout this long before aborting it. */
#define TARGET_LOGOUT_S 2
/* Objects per update set; larger sets come truncated and we ask again at once. */
#define TARGET_MAX_OBJECTS 2000
#define TARGET_BACKOFF_MIN 1
#define TARGET_BACKOFF_MAX 30
/*
 * A refused login (ERR_AUTH) waits far longer: vCenter SSO locks an account
 * after 5 failures in 3 minutes by default. 5, 10, 20, 40 minutes, then every
 * hour: at most 3 attempts in any 15 minutes. A SIGHUP that changes the
 * password starts a new target, which tries at once.
 */
#define TARGET_AUTH_BACKOFF_MIN 300
#define TARGET_AUTH_BACKOFF_MAX 3600
#define TARGET_MAX_COLS		16
#define TARGET_MAX_ROWS		32

struct target {
	struct conf_target ct; /* deep copy */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop; /* atomic; also signalled through cond */
	struct snapshot_slot slot;

	/* Everything below belongs to the collection thread. */
	const struct collector *cols[TARGET_MAX_COLS];
	size_t ncols;
	struct inventory *inv;
	struct vi_session *session;
	struct selfmetrics self;
	struct self_state state;
	struct log_backoff backoff;
	char *view;
	char *filter;
	char *task_filter;
	char *version;
	bool synced; /* a complete update set has been applied since (re)connecting */
	bool steady; /* a WaitForUpdatesEx with a version succeeded on these filters */
	/* the session was renewed and no WaitForUpdatesEx succeeded since: a
	 * second renewal is a failure (back-off), not another immediate rebuild */
	bool renewed;
	bool built;		/* filters were built once: later builds are resyncs */
	unsigned auth_failures; /* refused logins in a row */
	bool value_logged;	/* an invalid value (ERR_VALUE) was logged at warning level */
	bool ever_synced;	/* for the log: first connection or recovery */
	/* render_row_gen(), render_row_ctx_gen() and the type's gen of each row
	 * when its family was last rendered */
	unsigned long gens[TARGET_MAX_COLS][TARGET_MAX_ROWS];
	unsigned long ctx_gens[TARGET_MAX_COLS][TARGET_MAX_ROWS];
	unsigned long since[TARGET_MAX_COLS][TARGET_MAX_ROWS];
	bool dirty;    /* changes applied but not yet published (TARGET_MIN_PUBLISH_S) */
	bool rerender; /* the last publication failed: gens, ctx_gens, since and obj_gens
			* describe a snapshot that was dropped, so render all anew */
	/* what the JSON API objects of cur were rendered from (render_objects) */
	unsigned long obj_gens[SNAP_KINDS];
	struct snapshot *cur; /* what we published last (our own reference) */
	double last_publish;  /* monotonic time of the last publication */
	bool ages;	  /* the last publication holds an age that grows (question, active task) */
	double logout_at; /* monotonic deadline of the final logout, 0 before */
	unsigned long generation;
	struct err last_error;

	/* PerformanceManager counters (agent/perf), NULL when not collected. */
	struct perf_worker *perf;
	unsigned long perf_gen; /* perf_entities_gen() when the entities were last handed over */
	/* pub_lock orders the two publishers (this thread and the perf worker's):
	 * it guards cur's replacement, perf_snap, pub_gen and the slot. */
	pthread_mutex_t pub_lock;
	struct snapshot *perf_snap; /* the worker's latest counter families, or NULL */
	unsigned long pub_gen;	    /* generation of the combined snapshots */

	/* scope: the VM name regexes (compiled when configured) */
	regex_t vm_include, vm_exclude;
	bool has_include, has_exclude;
};

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool stopping(struct target *t)
{
	return __atomic_load_n(&t->stop, __ATOMIC_ACQUIRE) != 0;
}

/* The session's abort hook: a stopping target interrupts the call in flight
 * (a long WaitForUpdatesEx, a hung server); only the final logout gets a
 * short grace. Runs on the collection thread, which alone sets logout_at. */
static int should_abort(void *ud)
{
	struct target *t = ud;

	if (!stopping(t))
		return 0;
	return t->logout_at == 0 || vi_now_seconds() >= t->logout_at;
}

/* Sleeps up to seconds, waking at once when the target is stopped. */
static void nap(struct target *t, double seconds)
{
	struct timespec until;
	long long ns;

	clock_gettime(CLOCK_REALTIME, &until);
	ns = until.tv_nsec + (long long)((seconds - (double)(long long)seconds) * 1e9);
	until.tv_sec += (time_t)seconds + (time_t)(ns / 1000000000);
	until.tv_nsec = (long)(ns % 1000000000);
	pthread_mutex_lock(&t->lock);
	while (!stopping(t)) {
		if (pthread_cond_timedwait(&t->cond, &t->lock, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&t->lock);
}

/* The collectors a target's `collect` bits enable, helpers included. */
static size_t pick_collectors(unsigned collect, const struct collector **cols)
{
	size_t n = 0;

	if (collect & CONF_COLLECT_VM)
		cols[n++] = &col_vm;
	if (collect & CONF_COLLECT_HOST)
		cols[n++] = &col_host;
	if (collect & CONF_COLLECT_HOST)
		cols[n++] = &col_cluster_health;
	if (collect & CONF_COLLECT_DATASTORE)
		cols[n++] = &col_datastore;
	if (collect & CONF_COLLECT_QUESTION)
		cols[n++] = &col_question;
	if (collect & CONF_COLLECT_TASK) {
		cols[n++] = &col_task;
		cols[n++] = &col_task_manager;
		/* vsphere_task_blocked reads the VMs' questions */
		if (!(collect & CONF_COLLECT_QUESTION))
			cols[n++] = &col_vm_question;
	}
	if (collect & (CONF_COLLECT_VM | CONF_COLLECT_HOST)) {
		/* names for the host, cluster and datacenter labels */
		if (!(collect & CONF_COLLECT_HOST))
			cols[n++] = &col_host_placement;
		cols[n++] = &col_cluster;
		cols[n++] = &col_compute;
		cols[n++] = &col_datacenter;
		cols[n++] = &col_folder;
	}
	return n;
}

/* Whether the collector's families are rendered (helpers have none). */
static bool col_rendered(const struct target *t, size_t i)
{
	return !t->cols[i]->helper;
}

/* ---- publication ---- */

static json_t *error_json(const struct err *e)
{
	json_t *j = json_object();

	if (!j)
		return NULL;
	if (json_object_set_new(j, "kind", json_string(err_kind_name(e->kind))) < 0 ||
	    json_object_set_new(j, "fault", render_json_string(e->fault)) < 0 ||
	    json_object_set_new(j, "message", render_json_string(e->msg)) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static bool perf_wanted(unsigned collect, bool *hosts, bool *vms);

/* The target's object in /api/v1/targets; NULL when out of memory. */
static json_t *target_json(struct target *t)
{
	bool hosts, vms;
	const struct vi_service_content *sc =
		t->session ? vi_get_service_content(t->session) : NULL;
	json_t *j = json_object();
	json_t *objects = json_object();
	json_t *collect = json_array();
	int rc = 0;

	if (!j || !objects || !collect) {
		json_decref(j);
		json_decref(objects);
		json_decref(collect);
		return NULL;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		if (col_rendered(t, i))
			rc |= json_array_append_new(collect, json_string(t->cols[i]->name));
	}
	if (t->perf && perf_wanted(t->ct.collect, &hosts, &vms)) {
		if (hosts)
			rc |= json_array_append_new(collect, json_string(col_perf_host.name));
		if (vms)
			rc |= json_array_append_new(collect, json_string(col_perf_vm.name));
	}
	for (size_t i = 0; i < t->inv->ntypes; i++)
		rc |= json_object_set_new(objects, t->inv->types[i].name,
					  json_integer((json_int_t)t->inv->types[i].count));
	rc |= json_object_set_new(j, "name", render_json_string(t->ct.name));
	rc |= json_object_set_new(j, "url", render_json_string(t->ct.url));
	rc |= json_object_set_new(j, "up", json_boolean(t->state.up));
	rc |= json_object_set_new(j, "last_update",
				  t->state.last_update > 0 ? json_real(t->state.last_update)
							   : json_null());
	rc |= json_object_set_new(j, "last_error",
				  t->last_error.kind != ERR_OK ? error_json(&t->last_error)
							       : json_null());
	rc |= json_object_set_new(
		j, "api_type", sc && sc->api_type ? render_json_string(sc->api_type) : json_null());
	rc |= json_object_set_new(j, "api_version",
				  sc && sc->api_version ? render_json_string(sc->api_version)
							: json_null());
	rc |= json_object_set_new(j, "logins", json_integer((json_int_t)t->state.logins));
	rc |= json_object_set_new(j, "generation", json_integer((json_int_t)t->generation));
	rc |= json_object_set_new(j, "collect", collect);
	rc |= json_object_set_new(j, "objects", objects);
	if (rc != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static struct snap_family *find_family(struct snapshot *s, const char *name)
{
	size_t lo = 0, hi = s ? s->nfamilies : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->families[mid].name, name);

		if (c == 0)
			return &s->families[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Adds collector i's families to s: a family whose inputs did not change since
 * the last snapshot is shared with it (no copy, no rendering); the others are
 * rendered, keeping the segments of the objects that did not change when the
 * same objects are rendered with the same names (render_collector); the
 * time-dependent shapes (question and task ages) are rendered whole.
 */
static int publish_collector(struct target *t, size_t i, double now, struct snapshot *s,
			     bool *rendered, struct err *e)
{
	const struct collector *c = t->cols[i];
	size_t nrows = col_nmetrics(c);
	int type = inventory_type_index(t->inv, c->type);
	struct render_prev prev[TARGET_MAX_ROWS];
	bool want[TARGET_MAX_ROWS];
	unsigned long g[TARGET_MAX_ROWS], cg[TARGET_MAX_ROWS];
	bool any = false;

	if (nrows > TARGET_MAX_ROWS)
		return render_collector(t->inv, c, NULL, NULL, t->ct.name, now, s, e);
	for (size_t r = 0; r < nrows; r++) {
		struct snap_family *f = find_family(t->cur, c->metrics[r].family);

		g[r] = render_row_gen(t->inv, c, r);
		cg[r] = render_row_ctx_gen(t->inv, c, r);
		want[r] = c->special != COL_SPECIAL_NONE || !f || g[r] != t->gens[i][r] ||
			  t->rerender;
		if (!want[r] && snapshot_share_family(s, f) < 0)
			return err_set(e, ERR_NOMEM, "out of memory");
		prev[r].fam = f && cg[r] == t->ctx_gens[i][r] && !t->rerender ? f : NULL;
		prev[r].since = t->since[i][r];
		any = any || want[r];
	}
	if (any && render_collector(t->inv, c, want, prev, t->ct.name, now, s, e) < 0)
		return -1;
	if (any && c->special == COL_SPECIAL_NONE)
		*rendered = true;
	for (size_t r = 0; r < nrows; r++) {
		t->gens[i][r] = g[r];
		t->ctx_gens[i][r] = cg[r];
		if (want[r])
			t->since[i][r] = type >= 0 ? t->inv->types[type].gen : 0;
	}
	return 0;
}

/* The JSON API list a collector feeds, or -1. */
static int objects_kind(const struct collector *c)
{
	if (c == &col_vm)
		return SNAP_VMS;
	if (c == &col_host)
		return SNAP_HOSTS;
	if (c == &col_datastore)
		return SNAP_DATASTORES;
	return -1;
}

/*
 * The JSON API objects of collector i: shared with the last snapshot when
 * nothing they read changed, else rendered again (here, on the collection
 * thread, so that requests only copy text).
 */
static int publish_objects(struct target *t, size_t i, double now, struct snapshot *s,
			   struct err *e)
{
	const struct collector *c = t->cols[i];
	int k = objects_kind(c);
	unsigned long g = 1;

	if (k < 0)
		return 0;
	for (size_t r = 0; r < col_nmetrics(c); r++)
		g += render_row_gen(t->inv, c, r);
	if (t->cur && t->cur->objects[k] && t->obj_gens[k] == g && !t->rerender) {
		snap_objects_ref(t->cur->objects[k]);
		s->objects[k] = t->cur->objects[k];
		return 0;
	}
	if (render_objects(t->inv, c, t->ct.name, now, t->cur ? t->cur->objects[k] : NULL,
			   &s->objects[k], e) < 0)
		return -1;
	t->obj_gens[k] = g;
	return 0;
}

/*
 * Publishes cur together with the perf worker's families: one snapshot that
 * shares the text of both (no copy), with a generation of its own. Caller
 * holds pub_lock. 0, or -1 when out of memory (the slot keeps the old one).
 */
static int publish_combined(struct target *t)
{
	struct snapshot *c = snapshot_new();
	struct snapshot *parts[2] = {t->cur, t->perf_snap};

	if (!c)
		return -1;
	for (size_t p = 0; p < 2; p++) {
		for (size_t i = 0; parts[p] && i < parts[p]->nfamilies; i++) {
			if (snapshot_share_family(c, &parts[p]->families[i]) < 0)
				goto out_fail;
		}
	}
	json_decref(c->target);
	json_decref(c->questions);
	json_decref(c->tasks);
	c->target = json_incref(t->cur->target);
	c->questions = json_incref(t->cur->questions);
	c->tasks = json_incref(t->cur->tasks);
	for (size_t k = 0; k < SNAP_KINDS; k++) {
		if (t->cur->objects[k]) {
			snap_objects_ref(t->cur->objects[k]);
			c->objects[k] = t->cur->objects[k];
		}
	}
	c->generation = ++t->pub_gen;
	snapshot_sort(c);
	snapshot_slot_swap(&t->slot, c);
	return 0;

out_fail:
	snapshot_put(c);
	return -1;
}

/* Makes s (the caller's reference, taken whatever happens) the target's
 * current snapshot and publishes it, with the counter families when perf is
 * collected. */
static void publish_swap(struct target *t, struct snapshot *s)
{
	struct snapshot *old;
	int rc = 0;

	if (!t->perf) {
		snapshot_ref(s);
		snapshot_slot_swap(&t->slot, s);
		snapshot_put(t->cur);
		t->cur = s;
		return;
	}
	pthread_mutex_lock(&t->pub_lock);
	old = t->cur;
	t->cur = s;
	rc = publish_combined(t);
	pthread_mutex_unlock(&t->pub_lock);
	snapshot_put(old);
	/* cur is s all the same: the next publication, or the counters' next
	 * round, publishes it with them */
	if (rc < 0)
		log_msg(LOG_LEVEL_ERROR, "target %s: out of memory publishing with the counters",
			t->ct.name);
}

/* The perf worker's callback: its new families, published with the last cur. */
static void perf_published(void *ud, struct snapshot *families)
{
	struct target *t = ud;
	struct snapshot *old;

	pthread_mutex_lock(&t->pub_lock);
	old = t->perf_snap;
	t->perf_snap = families;
	if (t->cur && publish_combined(t) < 0)
		log_msg(LOG_LEVEL_ERROR, "target %s: out of memory publishing counters",
			t->ct.name);
	pthread_mutex_unlock(&t->pub_lock);
	snapshot_put(old);
}

/* Gives the perf worker the hosts and VMs to query when they changed. */
static void perf_hand_over(struct target *t)
{
	unsigned long g;
	struct perf_entities *pe;

	if (!t->perf)
		return;
	g = perf_entities_gen(t->inv);
	if (g == t->perf_gen && t->perf_gen != 0)
		return;
	pe = perf_entities_build(t->inv, t->ct.name, t->ct.collect & CONF_COLLECT_PERF,
				 t->ct.collect & CONF_COLLECT_PERF_VM);
	if (!pe) {
		log_msg(LOG_LEVEL_ERROR, "target %s: out of memory listing perf entities",
			t->ct.name);
		return;
	}
	t->perf_gen = g ? g : 1;
	perf_set_entities(t->perf, pe);
}

static int publish(struct target *t, struct err *e)
{
	struct snapshot *s = snapshot_new();
	double t0 = vi_now_seconds();
	double now = now_real();
	bool rendered = false, active_tasks = false;

	if (!s)
		return err_set(e, ERR_NOMEM, "out of memory");
	inventory_expire_tasks(t->inv, now,
			       t->ct.task_retention_s > 0 ? t->ct.task_retention_s
							  : CONF_DEFAULT_TASK_RETENTION);
	for (size_t i = 0; i < t->ncols; i++) {
		if (col_rendered(t, i) && publish_collector(t, i, now, s, &rendered, e) < 0)
			goto out_fail;
		if (col_rendered(t, i) && publish_objects(t, i, now, s, e) < 0)
			goto out_fail;
	}
	if (render_json(t->inv, t->ct.name, now, s, &active_tasks, e) < 0)
		goto out_fail;
	/* questions fetched only for the tasks' blocked flag stay out of the API */
	if (!(t->ct.collect & CONF_COLLECT_QUESTION) && json_array_clear(s->questions) < 0) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_fail;
	}
	t->state.logins = t->session ? vi_session_login_count(t->session) : 0;
	if (selfmetrics_render(&t->self, &t->state, t->inv, t->ct.name, s, e) < 0)
		goto out_fail;
	json_decref(s->target);
	t->generation++;
	s->generation = t->generation;
	s->target = target_json(t);
	if (!s->target) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_fail;
	}
	snapshot_sort(s);
	publish_swap(t, s);
	t->rerender = false;
	t->dirty = false;
	perf_hand_over(t);
	/* finished tasks keep their times: only pending questions and queued or
	 * running tasks have ages to refresh */
	t->ages = active_tasks || json_array_size(s->questions) > 0;
	t->last_publish = vi_now_seconds();
	if (rendered)
		t->state.render_seconds = vi_now_seconds() - t0;
	return 0;

out_fail:
	snapshot_put(s);
	t->rerender = true;
	return -1;
}

/* ---- collection ---- */

struct apply_ctx {
	struct target *t;
	double now;	       /* when the reply's first change arrived; 0 before */
	unsigned long changes; /* reported by the server in this reply */
};

static int on_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct apply_ctx *a = ud;
	struct err local;

	err_clear(&local); /* not = {0}: 600 bytes cleared for each change of a sync */
	/* the time the update arrived, not when the wait began (up to 30 s
	 * earlier): a question's first_seen is taken from it */
	if (a->now == 0)
		a->now = now_real();
	a->changes++;
	if (inventory_apply(a->t->inv, c, a->now, &local) == 0)
		return 0;
	if (local.kind == ERR_NOMEM) {
		*e = local;
		return -1;
	}
	/* one bad value (an unparsable question) must not stop the whole target;
	 * unreadable properties (NoPermission, ...: one per object) are counted
	 * as kind "fault" and logged at debug only; values that do not parse as
	 * their type (kind "value") are logged once, then at debug */
	selfmetrics_error(&a->t->self, local.kind);
	if (local.kind == ERR_VALUE && a->t->value_logged) {
		log_msg(LOG_LEVEL_DEBUG, "target %s: %s", a->t->ct.name, local.msg);
		return 0;
	}
	if (local.kind == ERR_VALUE) {
		a->t->value_logged = true;
		log_msg(LOG_LEVEL_WARN, "target %s: %s (further invalid values logged at debug)",
			a->t->ct.name, local.msg);
		return 0;
	}
	log_msg(local.kind == ERR_FAULT ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, "target %s: %s",
		a->t->ct.name, local.msg);
	return 0;
}

/* An update for a filter we never created: ignored by vi_pc_wait, counted here. */
static void on_foreign_filter(void *ud, const char *filter)
{
	struct apply_ctx *a = ud;

	selfmetrics_error(&a->t->self, ERR_PROTOCOL);
	log_msg(LOG_LEVEL_WARN, "target %s: updates for an unknown filter %s ignored",
		a->t->ct.name, filter);
}

static void drop_filters(struct target *t)
{
	free(t->view);
	free(t->filter);
	free(t->task_filter);
	free(t->version);
	t->view = t->filter = t->task_filter = t->version = NULL;
	t->synced = false;
	t->steady = false;
}

/* The VM name filter: include (when set) must match, exclude must not. */
static bool keep_vm(void *ud, const char *raw)
{
	struct target *t = ud;
	struct buf d;
	bool keep = true;

	buf_init(&d, 0);
	if (vi_name_percent_decode(&d, raw) < 0 || d.failed) {
		buf_reset(&d);
		buf_adds(&d, raw);
	}
	if (t->has_include && regexec(&t->vm_include, d.data, 0, NULL, 0) != 0)
		keep = false;
	if (keep && t->has_exclude && regexec(&t->vm_exclude, d.data, 0, NULL, 0) == 0)
		keep = false;
	buf_release(&d);
	return keep;
}

/* Compiles the configured VM name regexes (validated when the file was read). */
static int scope_init(struct target *t, struct err *e)
{
	if (t->ct.vm_include) {
		if (regcomp(&t->vm_include, t->ct.vm_include, REG_EXTENDED | REG_NOSUB) != 0)
			return err_set(e, ERR_CONFIG, "vm_include: invalid regular expression");
		t->has_include = true;
	}
	if (t->ct.vm_exclude) {
		if (regcomp(&t->vm_exclude, t->ct.vm_exclude, REG_EXTENDED | REG_NOSUB) != 0)
			return err_set(e, ERR_CONFIG, "vm_exclude: invalid regular expression");
		t->has_exclude = true;
	}
	if (t->has_include || t->has_exclude)
		inventory_set_name_filter(t->inv, "VirtualMachine", keep_vm, t);
	return 0;
}

struct walk_ctx {
	struct apply_ctx a;
	char parent_type[64];
	char parent[256];
};

static int on_ancestor(void *ud, const struct vi_change *c, struct err *e)
{
	struct walk_ctx *w = ud;

	if (c->path && strcmp(c->path, "parent") == 0 && c->value && c->value->type_attr) {
		snprintf(w->parent_type, sizeof(w->parent_type), "%s", c->value->type_attr);
		snprintf(w->parent, sizeof(w->parent), "%s", c->value->text);
	}
	return on_change(&w->a, c, e);
}

/*
 * A view rooted below the root folder holds neither its root nor what is above
 * it, whose names the labels show (cluster, datacenter): read the root and its
 * ancestors once per connection, with the properties their collectors fetch.
 */
static int scope_ancestors(struct target *t, const char *type, const char *moref, struct err *e)
{
	struct walk_ctx w = {.a = {t, now_real(), 0}};
	struct vi_pc_handler h = {.on_change = on_ancestor, .ud = &w};
	char cur_type[64], cur[256];

	snprintf(cur_type, sizeof(cur_type), "%s", type);
	snprintf(cur, sizeof(cur), "%s", moref);
	for (int depth = 0; depth < 32 && cur[0]; depth++) {
		static const char *const placement[] = {"name", "parent", NULL};
		int ty = inventory_type_index(t->inv, cur_type);
		const char *const *paths = placement;

		if (ty >= 0 && inventory_slot(t->inv, (unsigned)ty, "parent") >= 0)
			paths = t->inv->types[ty].fetch;
		w.parent[0] = w.parent_type[0] = '\0';
		if (vi_pc_retrieve_object(t->session, cur_type, cur, paths, &h, e) < 0) {
			err_prefix(e, "reading %s %s above the root", cur_type, cur);
			return -1;
		}
		snprintf(cur_type, sizeof(cur_type), "%s", w.parent_type);
		snprintf(cur, sizeof(cur), "%s", w.parent);
	}
	return 0;
}

/* One view and one filter over it for the view types; the task filter. */
static int build_filters(struct target *t, struct err *e)
{
	const char *types[INV_MAX_TYPES];
	struct vi_prop_spec specs[INV_MAX_TYPES];
	size_t n = 0;
	bool tasks = false;
	char *root_type = NULL, *root = NULL;
	int rc = 0;

	drop_filters(t);
	if (t->built)
		t->state.resyncs++;
	t->built = true;
	for (size_t i = 0; i < t->inv->ntypes; i++) {
		const struct inv_type *ty = &t->inv->types[i];

		if (ty->by_task_manager) {
			tasks = true;
			continue;
		}
		types[n] = ty->name;
		specs[n].type = ty->name;
		specs[n].paths = ty->fetch;
		n++;
	}
	if (t->ct.root &&
	    vi_lookup_inventory_path(t->session, t->ct.root, &root_type, &root, e) < 0) {
		err_prefix(e, "root");
		return -1;
	}
	if (n > 0) {
		rc = vi_pc_create_view(t->session, root_type, root, types, n, &t->view, e);
		if (rc < 0) {
			err_prefix(e, "creating the container view");
			goto out_free;
		}
		rc = vi_pc_create_filter(t->session, t->view, specs, n, &t->filter, e);
		if (rc < 0) {
			err_prefix(e, "creating the property filter");
			goto out_free;
		}
	}
	if (tasks && vi_pc_create_task_filter(t->session, &t->task_filter, e) < 0) {
		err_prefix(e, "creating the task filter");
		rc = -1;
		goto out_free;
	}
	inventory_unmark(t->inv);
	if (root)
		rc = scope_ancestors(t, root_type, root, e);
out_free:
	free(root_type);
	free(root);
	return rc;
}

static int connect_target(struct target *t, struct err *e)
{
	struct err ignored = {0};

	if (vi_session_logged_in(t->session))
		vi_session_logout(t->session, &ignored);
	if (vi_session_login(t->session, e) < 0)
		return -1;
	return build_filters(t, e);
}

/*
 * The server-side wait of the next WaitForUpdatesEx: long, but ending when the
 * time-derived values (question and task ages) are due for a refresh.
 */
static int wait_seconds(struct target *t)
{
	double due;

	if (!t->ages)
		return TARGET_WAIT_S;
	due = TARGET_REFRESH_S - (vi_now_seconds() - t->last_publish);
	if (due < 1)
		return 1;
	return due < TARGET_WAIT_S ? (int)due : TARGET_WAIT_S;
}

/*
 * One WaitForUpdatesEx, applied. Publishes when changes came (at most once
 * per TARGET_MIN_PUBLISH_S), when the target came up, or when the last
 * publication is TARGET_REFRESH_S old.
 */
static int cycle(struct target *t, struct err *e)
{
	struct apply_ctx a = {t, 0, 0};
	const char *filters[3] = {NULL, NULL, NULL};
	struct vi_pc_handler h = {.on_change = on_change,
				  .ud = &a,
				  .filters = filters,
				  .on_foreign_filter = on_foreign_filter};
	char *version = NULL;
	bool truncated = false, was_up = t->state.up != 0, incremental = t->synced;
	int rc;

	filters[0] = t->filter ? t->filter : t->task_filter;
	filters[1] = t->filter ? t->task_filter : NULL;
	if (t->dirty) {
		/* changes wait for their publication: gather what else comes
		 * until it is due, then take it all without waiting */
		double left = TARGET_MIN_PUBLISH_S - (vi_now_seconds() - t->last_publish);

		if (left > 0)
			nap(t, left);
	}
	rc = vi_pc_wait(t->session, t->version, t->synced && !t->dirty ? wait_seconds(t) : 0,
			TARGET_MAX_OBJECTS, &h, &version, &truncated, e);
	if (rc < 0 && vi_session_renewed(e) && !stopping(t) && !t->renewed) {
		/* the session expired and was renewed: its view and filters died
		 * with it. Rebuild at once; neither an outage nor a back-off. No
		 * update arrives meanwhile: down until the resync completes. */
		free(version);
		err_clear(e);
		t->renewed = true;
		t->state.up = 0;
		log_msg(LOG_LEVEL_INFO, "target %s: session renewed, rebuilding the filter",
			t->ct.name);
		return build_filters(t, e);
	}
	if (rc < 0) {
		/* renewed again before any update: a failure that backs off */
		if (vi_session_renewed(e) && t->renewed)
			err_prefix(e, "renewed twice without an update");
		return -1;
	}
	t->renewed = false;
	if (incremental && !truncated)
		t->steady = true;
	free(t->version);
	t->version = version;
	if (truncated)
		return 0;
	if (!t->synced) {
		inventory_sweep(t->inv);
		t->synced = true;
		a.changes++;
		if (t->inv->count > 0 || t->ever_synced)
			log_msg(LOG_LEVEL_INFO, "target %s: %s, %zu objects", t->ct.name,
				t->ever_synced ? "recovered" : "synchronized", t->inv->count);
		t->ever_synced = true;
		log_backoff_reset(&t->backoff);
		/* the initial sync freed many small blocks: give them back */
		malloc_trim(0);
	}
	t->state.up = 1;
	t->state.last_update = now_real();
	err_clear(&t->last_error);
	if (a.changes == 0 && !t->dirty && was_up &&
	    vi_now_seconds() - t->last_publish < TARGET_REFRESH_S)
		return 0;
	if (was_up && vi_now_seconds() - t->last_publish < TARGET_MIN_PUBLISH_S) {
		t->dirty = true;
		return 0;
	}
	return publish(t, e);
}

unsigned target_auth_delay(unsigned failures)
{
	unsigned d = TARGET_AUTH_BACKOFF_MIN;

	while (failures-- > 1 && d < TARGET_AUTH_BACKOFF_MAX)
		d *= 2;
	return d < TARGET_AUTH_BACKOFF_MAX ? d : TARGET_AUTH_BACKOFF_MAX;
}

static void report_failure(struct target *t, const struct err *e, unsigned next_s)
{
	unsigned long suppressed = 0;

	selfmetrics_error(&t->self, e->kind);
	t->last_error = *e;
	if (e->kind == ERR_AUTH) {
		/* said every time: an operator must know why nothing is retried */
		err_prefix(&t->last_error,
			   "login refused; the account may be locked by repeated failures (next "
			   "attempt in %u s, or at once after a SIGHUP that changes the password)",
			   next_s);
		log_msg(LOG_LEVEL_ERROR, "target %s: %s: %s", t->ct.name, err_kind_name(e->kind),
			t->last_error.msg);
		t->state.up = 0;
		drop_filters(t);
		return;
	}
	if (log_backoff_due(&t->backoff, time(NULL), &suppressed)) {
		if (suppressed)
			log_msg(LOG_LEVEL_WARN,
				"target %s: %s: %s (%lu similar failures suppressed)", t->ct.name,
				err_kind_name(e->kind), e->msg, suppressed);
		else
			log_msg(LOG_LEVEL_WARN, "target %s: %s: %s", t->ct.name,
				err_kind_name(e->kind), e->msg);
	}
	t->state.up = 0;
	drop_filters(t);
}

static void *target_main(void *arg)
{
	struct target *t = arg;
	unsigned delay = TARGET_BACKOFF_MIN;

	while (!stopping(t)) {
		struct err e = {0};
		unsigned wait;
		bool auth;

		if (connect_target(t, &e) == 0) {
			while (!stopping(t) && cycle(t, &e) == 0) {
				/* only a wait that worked after the sync ends the back-off:
				 * a sync that fails right after is still a failure in a row */
				if (t->steady)
					delay = TARGET_BACKOFF_MIN;
				t->auth_failures = 0;
			}
		}
		if (stopping(t))
			break;
		auth = e.kind == ERR_AUTH;
		if (auth)
			t->auth_failures++;
		wait = auth ? target_auth_delay(t->auth_failures) : delay;
		report_failure(t, &e, wait);
		err_clear(&e);
		if (publish(t, &e) < 0)
			log_msg(LOG_LEVEL_ERROR, "target %s: %s", t->ct.name, e.msg);
		nap(t, wait);
		if (!auth)
			delay = delay * 2 > TARGET_BACKOFF_MAX ? TARGET_BACKOFF_MAX : delay * 2;
	}
	if (vi_session_logged_in(t->session)) {
		struct err e = {0};

		t->logout_at = vi_now_seconds() + TARGET_LOGOUT_S;
		vi_session_logout(t->session, &e);
	}
	return NULL;
}

/* ---- life cycle ---- */

static void target_free(struct target *t)
{
	if (!t)
		return;
	perf_stop(t->perf);
	snapshot_put(t->perf_snap);
	pthread_mutex_destroy(&t->pub_lock);
	if (t->has_include)
		regfree(&t->vm_include);
	if (t->has_exclude)
		regfree(&t->vm_exclude);
	vi_session_free(t->session);
	inventory_free(t->inv);
	drop_filters(t);
	snapshot_put(t->cur);
	snapshot_slot_destroy(&t->slot);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	conf_target_release(&t->ct);
	free(t);
}

static int make_session(struct target *t, struct err *e)
{
	struct vi_session_opts o;
	struct vi_call_observer obs = {selfmetrics_on_call, &t->self};

	conf_target_session_opts(&t->ct, &o);
	t->session = vi_session_new(&o, e);
	if (!t->session)
		return -1;
	vi_session_set_observer(t->session, &obs);
	vi_session_set_abort(t->session, should_abort, t);
	return 0;
}

/* Whether collect asks for counters, and of what: host counters need the
 * hosts collected, VM counters the VMs (their names and states). */
static bool perf_wanted(unsigned collect, bool *hosts, bool *vms)
{
	*hosts = (collect & CONF_COLLECT_PERF) && (collect & CONF_COLLECT_HOST);
	*vms = (collect & CONF_COLLECT_PERF_VM) && (collect & CONF_COLLECT_VM);
	return *hosts || *vms;
}

struct target *target_start(const struct conf_target *ct, struct err *e)
{
	struct target *t = calloc(1, sizeof(*t));
	bool hosts, vms;

	if (!t) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->pub_lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	snapshot_slot_init(&t->slot);
	selfmetrics_init(&t->self);
	log_backoff_init(&t->backoff, 600);
	if (conf_target_copy(&t->ct, ct) < 0) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_free;
	}
	t->ncols = pick_collectors(ct->collect, t->cols);
	if (inventory_new(t->cols, t->ncols, &t->inv, e) < 0 || make_session(t, e) < 0 ||
	    scope_init(t, e) < 0)
		goto out_free;
	if (perf_wanted(ct->collect, &hosts, &vms)) {
		t->perf = perf_start(&t->ct, hosts, vms, perf_published, t, e);
		if (!t->perf)
			goto out_free;
	}
	/* vsphere_up 0 at once, before the first connection */
	if (publish(t, e) < 0)
		goto out_free;
	if (pthread_create(&t->thread, NULL, target_main, t) != 0) {
		err_set(e, ERR_SYSTEM, "cannot start the collection thread for %s", ct->name);
		goto out_free;
	}
	return t;

out_free:
	err_prefix(e, "target %s", ct->name ? ct->name : "");
	target_free(t);
	return NULL;
}

void target_request_stop(struct target *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	perf_request_stop(t->perf);
	/* the session lives until target_free(), after the join */
	vi_session_wakeup(t->session);
}

void target_stop(struct target *t)
{
	if (!t)
		return;
	target_request_stop(t);
	pthread_join(t->thread, NULL);
	target_free(t);
}

const struct conf_target *target_conf(const struct target *t)
{
	return &t->ct;
}

struct snapshot *target_snapshot(struct target *t)
{
	return snapshot_slot_get(&t->slot);
}

/* plugins/direct: check_vsphere --direct: a vCenter session of its own, one read, always a logout. */
#include "plugins/direct.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "util/buf.h"
#include "vi/names.h"
#include "vi/pc.h"
#include "vi/question.h"
#include "vi/session.h"

/* What one RetrievePropertiesEx reads per mode (NULL type: nothing). */
static const char *const vm_paths[] = {"name",
				       "runtime.powerState",
				       "runtime.connectionState",
				       "summary.quickStats",
				       "config.hardware.memoryMB",
				       NULL};
static const char *const question_paths[] = {"name", "runtime.question", NULL};
static const char *const host_paths[] = {"name",
					 "runtime.connectionState",
					 "runtime.powerState",
					 "runtime.inMaintenanceMode",
					 "summary.hardware.memorySize",
					 "summary.quickStats.overallMemoryUsage",
					 NULL};
static const char *const ds_paths[] = {"name", "summary", NULL};

struct direct_ctx {
	const struct chk_opts *o;
	const char *target;
	json_t *objs; /* moref -> object, in arrival order */
	double now;
	bool nomem;
};

static void set(struct direct_ctx *x, json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v) < 0)
		x->nomem = true;
}

/* A valid-UTF-8 JSON string of s ("" for NULL). */
static json_t *str(const char *s)
{
	struct buf u;
	json_t *j;

	buf_init(&u, 0);
	if (buf_add_utf8(&u, s ? s : "") < 0) {
		buf_release(&u);
		return NULL;
	}
	j = json_stringn(u.data, u.len);
	buf_release(&u);
	return j;
}

static json_t *decoded(const char *raw)
{
	struct buf d;
	json_t *j;

	buf_init(&d, 0);
	if (!raw || vi_name_percent_decode(&d, raw) < 0)
		j = str(raw);
	else
		j = str(d.data);
	buf_release(&d);
	return j;
}

static bool num(const char *s, double *out)
{
	char *end;

	if (!s || !*s)
		return false;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out);
}

/* A number member from a text in unit mul; null when absent. */
static void set_num(struct direct_ctx *x, json_t *o, const char *key, const char *text, double mul)
{
	double v;

	set(x, o, key, num(text, &v) ? json_real(v * mul) : json_null());
}

static json_t *question_json(struct direct_ctx *x, json_t *vm, const struct vi_node *n)
{
	struct vi_question q = {0};
	struct err e = {0};
	const struct vi_question_choice *d;
	json_t *o, *ids, *choices;

	if (vi_question_parse(n, &q, &e) < 0)
		return NULL;
	o = json_object();
	ids = json_array();
	choices = json_array();
	if (!o || !ids || !choices) {
		x->nomem = true;
		json_decref(o);
		json_decref(ids);
		json_decref(choices);
		vi_question_release(&q);
		return NULL;
	}
	set(x, o, "target", str(x->target));
	set(x, o, "vm", json_incref(json_object_get(vm, "name")));
	set(x, o, "vm_id", json_incref(json_object_get(vm, "id")));
	set(x, o, "id", str(q.id));
	set(x, o, "text", str(q.text));
	for (size_t i = 0; i < q.nmsgs; i++)
		json_array_append_new(ids, str(q.msgs[i].id));
	set(x, o, "message_ids", ids);
	for (size_t i = 0; i < q.nchoices; i++)
		json_array_append_new(choices,
				      json_pack("{s:o,s:o,s:o}", "key", str(q.choices[i].key),
						"label", str(q.choices[i].label), "summary",
						str(q.choices[i].summary)));
	set(x, o, "choices", choices);
	d = vi_question_default(&q);
	set(x, o, "default", d ? str(d->key) : json_null());
	/* a question carries no time: how long it has been pending is the agent's to know */
	set(x, o, "first_seen", json_null());
	set(x, o, "blocked_tasks", json_array());
	vi_question_release(&q);
	return o;
}

/* Counts every SOAP call of the check (for -v and the benchmark). */
static void on_call(void *ud, const char *method, double seconds, size_t bytes, const struct err *e)
{
	struct chk_data *d = ud;

	(void)method;
	(void)e;
	d->calls++;
	d->bytes += bytes;
	d->seconds += seconds;
}

static int on_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct direct_ctx *x = ud;
	json_t *o = json_object_get(x->objs, c->moref);
	const struct vi_node *v = c->value;
	const char *text = v ? v->text : NULL;

	(void)e;
	if (!o) {
		o = json_object();
		if (!o || json_object_set_new(x->objs, c->moref, o) < 0) {
			x->nomem = true;
			return 0;
		}
		set(x, o, "target", str(x->target));
		set(x, o, "id", str(c->moref));
	}
	if (!c->path || !v)
		return 0;
	if (strcmp(c->path, "name") == 0) {
		set(x, o, "name", decoded(text));
	} else if (strcmp(c->path, "runtime.powerState") == 0) {
		set(x, o, "power_state", str(text));
	} else if (strcmp(c->path, "runtime.connectionState") == 0) {
		set(x, o, "connection_state", str(text));
	} else if (strcmp(c->path, "runtime.inMaintenanceMode") == 0) {
		set(x, o, "maintenance_mode", json_integer(strcmp(text, "true") == 0));
	} else if (strcmp(c->path, "summary.hardware.memorySize") == 0) {
		set_num(x, o, "memory_size_bytes", text, 1);
	} else if (strcmp(c->path, "summary.quickStats.overallMemoryUsage") == 0) {
		set_num(x, o, "memory_usage_bytes", text, 1048576);
	} else if (strcmp(c->path, "config.hardware.memoryMB") == 0) {
		set_num(x, o, "memory_configured_bytes", text, 1048576);
	} else if (strcmp(c->path, "summary.quickStats") == 0) {
		double used, over = 0;
		const char *hb = vi_node_child_text(v, "guestHeartbeatStatus");

		set_num(x, o, "memory_ballooned_bytes", vi_node_child_text(v, "balloonedMemory"),
			1048576);
		set_num(x, o, "memory_swapped_bytes", vi_node_child_text(v, "swappedMemory"),
			1048576);
		set_num(x, o, "memory_compressed_bytes", vi_node_child_text(v, "compressedMemory"),
			1024);
		set_num(x, o, "memory_guest_active_bytes",
			vi_node_child_text(v, "guestMemoryUsage"), 1048576);
		set_num(x, o, "memory_shared_bytes", vi_node_child_text(v, "sharedMemory"),
			1048576);
		set_num(x, o, "memory_overhead_bytes",
			vi_node_child_text(v, "consumedOverheadMemory"), 1048576);
		set_num(x, o, "uptime_seconds", vi_node_child_text(v, "uptimeSeconds"), 1);
		num(vi_node_child_text(v, "consumedOverheadMemory"), &over);
		if (num(vi_node_child_text(v, "hostMemoryUsage"), &used))
			set(x, o, "memory_consumed_bytes",
			    json_real((used - over > 0 ? used - over : 0) * 1048576));
		set(x, o, "guest_heartbeat_status", str(hb ? hb : "gray"));
	} else if (strcmp(c->path, "summary") == 0 &&
		   strcmp(c->obj_type ? c->obj_type : "", "Datastore") == 0) {
		const char *mm = vi_node_child_text(v, "maintenanceMode");
		const char *acc = vi_node_child_text(v, "accessible");

		set_num(x, o, "capacity_bytes", vi_node_child_text(v, "capacity"), 1);
		set_num(x, o, "free_bytes", vi_node_child_text(v, "freeSpace"), 1);
		set(x, o, "type", str(vi_node_child_text(v, "type")));
		set(x, o, "accessible", json_integer(!acc || strcmp(acc, "false") != 0));
		set(x, o, "maintenance_mode", str(mm ? mm : "normal"));
	} else if (strcmp(c->path, "runtime.question") == 0) {
		json_t *q = question_json(x, o, v);

		if (q)
			set(x, o, "question", q);
	}
	return 0;
}

/* The objects read, as the mode's list (filtered by name or id like the agent does). */
static json_t *items_of(struct direct_ctx *x)
{
	const struct chk_opts *o = x->o;
	json_t *items = json_array(), *obj;
	const char *k;

	json_object_foreach(x->objs, k, obj)
	{
		const char *name = json_string_value(json_object_get(obj, "name"));

		if (o->mode == CHK_QUESTIONS) {
			json_t *q = json_object_get(obj, "question");

			if (q)
				json_array_append(items, q);
			continue;
		}
		if (o->name && (!name || strcmp(name, o->name) != 0))
			continue;
		if (o->id && strcmp(k, o->id) != 0)
			continue;
		json_array_append(items, obj);
	}
	return items;
}

static const struct conf_target *find_conf_target(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->ntargets; i++) {
		if (strcmp(c->targets[i].name, name) == 0)
			return &c->targets[i];
	}
	return NULL;
}

int chk_direct_fetch(const struct chk_opts *o, struct chk_data *d, struct err *e)
{
	struct direct_ctx x = {.o = o, .target = o->target, .now = d->now};
	struct vi_pc_handler h = {.on_change = on_change, .ud = &x};
	struct vi_session_opts so = {0};
	struct vi_prop_spec spec = {0};
	const struct conf_target *t;
	struct vi_session *s = NULL;
	struct conf *conf = NULL;
	struct buf problems;
	struct err ignored = {0};
	char *view = NULL;
	int rc = -1;

	buf_init(&problems, 4096);
	if (conf_load(o->conf, &conf, &problems) < 0) {
		char *nl = strchr(problems.data, '\n');

		if (nl)
			*nl = '\0';
		err_set(e, ERR_CONFIG, "%s", problems.data);
		goto out_free;
	}
	t = find_conf_target(conf, o->target);
	if (!t) {
		err_set(e, ERR_CONFIG, "%s has no target named %.100s", o->conf, o->target);
		goto out_free;
	}
	switch (o->mode) {
	case CHK_VM:
	case CHK_VM_MEMORY: spec = (struct vi_prop_spec){"VirtualMachine", vm_paths}; break;
	case CHK_QUESTIONS: spec = (struct vi_prop_spec){"VirtualMachine", question_paths}; break;
	case CHK_HOST: spec = (struct vi_prop_spec){"HostSystem", host_paths}; break;
	case CHK_DATASTORE: spec = (struct vi_prop_spec){"Datastore", ds_paths}; break;
	case CHK_TARGET: break;
	case CHK_TASKS:
	case CHK_MODES:
		err_set(e, ERR_INVALID,
			"mode tasks needs the agent (recent tasks are not read "
			"with --direct)");
		goto out_free;
	}
	conf_target_session_opts(t, &so);
	/* the plugin's -t bounds the whole check, connecting included */
	so.http.timeout_ms = (long)(o->timeout * 1000);
	so.http.connect_timeout_ms = so.http.timeout_ms;
	so.http.user_agent = "check_vsphere/" VIMON_VERSION;
	s = vi_session_new(&so, e);
	if (!s)
		goto out_free;
	vi_session_set_observer(s, &(struct vi_call_observer){on_call, d});
	x.objs = json_object();
	if (!x.objs) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_free;
	}
	if (vi_session_login(s, e) < 0)
		goto out_logout;
	if (spec.type) {
		if (vi_pc_create_view(s, NULL, NULL, &spec.type, 1, &view, e) < 0)
			goto out_logout;
		/* one page: one RetrievePropertiesEx */
		if (vi_pc_retrieve(s, view, &spec, 1, 1000000, &h, NULL, e) < 0)
			goto out_logout;
		if (x.nomem) {
			err_set(e, ERR_NOMEM, "out of memory");
			goto out_logout;
		}
	}
	d->targets = json_pack("[{s:o,s:b,s:f,s:n}]", "name", str(t->name), "up", 1, "last_update",
			       d->now, "last_error");
	d->items = spec.type ? items_of(&x) : NULL;
	rc = d->targets ? 0 : err_set(e, ERR_NOMEM, "out of memory");

out_logout:
	/* always: a check must never leave a session behind (the view dies with it) */
	if (vi_session_logged_in(s))
		vi_session_logout(s, &ignored);
out_free:
	if (rc < 0)
		err_prefix(e, "--direct, target %.100s", o->target);
	free(view);
	vi_session_free(s);
	json_decref(x.objs);
	conf_free(conf);
	buf_release(&problems);
	return rc;
}

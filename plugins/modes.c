/* plugins/modes: the check_vsphere modes: states, summaries, long output and perfdata from JSON. */
#include "plugins/modes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[CHK_MODES] = {
	"questions", "tasks", "vm", "vm-memory", "host", "datastore", "target",
};
static const char *const mode_titles[CHK_MODES] = {
	"QUESTIONS", "TASKS", "VM", "VM-MEMORY", "HOST", "DATASTORE", "TARGET",
};

int chk_mode_parse(const char *s)
{
	for (int i = 0; s && i < CHK_MODES; i++) {
		if (strcmp(s, mode_names[i]) == 0)
			return i;
	}
	return -1;
}

const char *chk_mode_title(enum chk_mode m)
{
	return m < CHK_MODES ? mode_titles[m] : "?";
}

const char *chk_mode_name(enum chk_mode m)
{
	return m < CHK_MODES ? mode_names[m] : "?";
}

bool chk_number(json_t *obj, const char *key, double *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

const char *chk_string(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

void chk_add_age(struct buf *b, double s)
{
	long long t = s > 0 ? (long long)s : 0;

	if (t < 60)
		buf_addf(b, "%llds", t);
	else if (t < 3600)
		buf_addf(b, "%lldm %llds", t / 60, t % 60);
	else if (t < 86400)
		buf_addf(b, "%lldh %lldm", t / 3600, t % 3600 / 60);
	else
		buf_addf(b, "%lldd %lldh", t / 86400, t % 86400 / 3600);
}

/* Edit distance (bytes), capped for long names. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row, best;

	if (la > 256 || lb > 256)
		return (size_t)-1;
	row = malloc((lb + 1) * sizeof(*row));
	if (!row)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = diag + cost;

			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			if (up + 1 < v)
				v = up + 1;
			row[j] = v;
			diag = up;
		}
	}
	best = row[lb];
	free(row);
	return best;
}

void chk_add_closest(struct buf *b, json_t *items, const char *name, size_t max)
{
	size_t n = json_array_size(items);
	size_t *d = calloc(n ? n : 1, sizeof(*d));
	bool *used = calloc(n ? n : 1, sizeof(*used));

	if (!d || !used)
		goto out_free;
	for (size_t i = 0; i < n; i++)
		d[i] = distance(chk_string(json_array_get(items, i), "name"), name);
	for (size_t k = 0; k < max && k < n; k++) {
		size_t best = n;

		for (size_t i = 0; i < n; i++) {
			if (!used[i] && (best == n || d[i] < d[best]))
				best = i;
		}
		used[best] = true;
		buf_adds(b, k ? ", '" : "'");
		plugin_add_text(b, chk_string(json_array_get(items, best), "name"));
		buf_addc(b, '\'');
	}
out_free:
	free(d);
	free(used);
}

/* true when the name passes --include / --exclude. */
static bool name_selected(const struct chk_opts *o, const char *name)
{
	if (o->has_include && regexec(&o->include, name, 0, NULL, 0) != 0)
		return false;
	if (o->has_exclude && regexec(&o->exclude, name, 0, NULL, 0) == 0)
		return false;
	return true;
}

/* Sanitized text of s in a static-free scratch buffer for the formatted lines. */
static const char *txt(struct buf *b, const char *s)
{
	buf_reset(b);
	plugin_add_text(b, s);
	return b->failed ? "?" : b->data;
}

/* ---- questions ---- */

static void question_line(struct plugin_output *out, json_t *q, double age, bool blocks)
{
	struct buf name, text, choices, a;
	const char *t = chk_string(q, "text");
	const char *nl = strchr(t, '\n');
	const char *dflt = chk_string(q, "default");
	const char *msg = json_string_value(json_array_get(json_object_get(q, "message_ids"), 0));
	json_t *c, *tasks = json_object_get(q, "blocked_tasks");
	size_t i;

	buf_init(&name, 0);
	buf_init(&text, 0);
	buf_init(&choices, 0);
	buf_init(&a, 0);
	plugin_add_text(&name, chk_string(q, "vm"));
	{
		char first[512];
		size_t n = nl ? (size_t)(nl - t) : strlen(t);

		if (n >= sizeof(first))
			n = sizeof(first) - 1;
		memcpy(first, t, n);
		first[n] = '\0';
		plugin_add_text(&text, first);
	}
	json_array_foreach(json_object_get(q, "choices"), i, c)
	{
		buf_adds(&choices, i ? ", " : "");
		plugin_add_text(&choices, chk_string(c, "key"));
		buf_addc(&choices, '=');
		plugin_add_text(&choices, chk_string(c, "label"));
		if (strcmp(chk_string(c, "key"), dflt) == 0)
			buf_adds(&choices, " (default)");
	}
	chk_add_age(&a, age);
	if (blocks) {
		buf_adds(&a, "; blocks ");
		json_array_foreach(tasks, i, c)
		{
			buf_adds(&a, i ? ", " : "");
			plugin_add_text(&a, json_string_value(c));
		}
	}
	plugin_output_line(out, true,
			   "%s: VM '%s' (%s) question %s [%s]: %s; choices: %s; pending %s",
			   blocks ? "CRITICAL" : "pending", name.data, chk_string(q, "vm_id"),
			   chk_string(q, "id"), msg ? msg : "", text.data, choices.data, a.data);
	buf_release(&name);
	buf_release(&text);
	buf_release(&choices);
	buf_release(&a);
}

static void eval_questions(const struct chk_opts *o, const struct chk_data *d,
			   struct plugin_output *out)
{
	size_t i, n = 0, blocking = 0;
	double oldest = 0;
	json_t *q, *worst = NULL;

	json_array_foreach(d->items, i, q)
	{
		const char *vm = chk_string(q, "vm");
		double first = d->now, age;
		bool blocks = json_array_size(json_object_get(q, "blocked_tasks")) > 0;

		if (o->vm && strcmp(vm, o->vm) != 0)
			continue;
		if (!name_selected(o, vm))
			continue;
		/* --direct cannot know since when a question is pending: at least WARNING */
		if (!chk_number(q, "first_seen", &first))
			plugin_output_state(out, PLUGIN_WARNING);
		age = d->now > first ? d->now - first : 0;
		n++;
		if (blocks)
			blocking++;
		if (!worst || age > oldest) {
			oldest = age;
			worst = q;
		}
		question_line(out, q, age, blocks);
	}
	if (n == 0) {
		buf_adds(&out->summary, "no pending question");
	} else {
		plugin_output_state(out, plugin_check(oldest, &o->warn, &o->crit));
		buf_addf(&out->summary, "%zu pending question%s", n, n == 1 ? "" : "s");
		if (blocking) {
			plugin_output_state(out, PLUGIN_CRITICAL);
			buf_addf(&out->summary, ", %zu blocking a task", blocking);
		}
		buf_adds(&out->summary, ", oldest on VM '");
		plugin_add_text(&out->summary, chk_string(worst, "vm"));
		buf_adds(&out->summary, "' for ");
		chk_add_age(&out->summary, oldest);
	}
	plugin_output_perf(out, &(struct plugin_perf){
					.label = "questions", .value = (double)n, .has_min = true});
	plugin_output_perf(out, &(struct plugin_perf){.label = "blocking",
						      .value = (double)blocking,
						      .has_min = true});
	plugin_output_perf(out, &(struct plugin_perf){.label = "oldest",
						      .value = floor(oldest),
						      .uom = "s",
						      .warn = &o->warn,
						      .crit = &o->crit,
						      .has_min = true});
}

/* ---- tasks ---- */

static bool task_active(json_t *t)
{
	const char *s = chk_string(t, "state");

	return strcmp(s, "running") == 0 || strcmp(s, "queued") == 0;
}

static void eval_tasks(const struct chk_opts *o, const struct chk_data *d,
		       struct plugin_output *out)
{
	size_t i, active = 0, blocked = 0;
	double oldest = 0;
	json_t *t;
	struct buf a, b;

	buf_init(&a, 0);
	buf_init(&b, 0);
	json_array_foreach(d->items, i, t)
	{
		double since = 0, age = 0;
		bool blk = json_is_true(json_object_get(t, "blocked"));

		if (!task_active(t))
			continue;
		if (!chk_number(t, "queue_time", &since))
			chk_number(t, "start_time", &since);
		age = since > 0 && d->now > since ? d->now - since : 0;
		active++;
		if (blk)
			blocked++;
		if (age > oldest)
			oldest = age;
		buf_reset(&a);
		chk_add_age(&a, age);
		plugin_output_line(out, blk, "%s: task %s %s on '%s' (%s) %s for %s%s%s",
				   blk ? "CRITICAL" : "active", chk_string(t, "task_id"),
				   chk_string(t, "task"), txt(&b, chk_string(t, "entity")),
				   chk_string(t, "entity_id"), chk_string(t, "state"), a.data,
				   blk ? ", blocked by question " : "",
				   blk ? chk_string(t, "question_id") : "");
	}
	plugin_output_state(out, plugin_check(oldest, &o->warn, &o->crit));
	if (blocked)
		plugin_output_state(out, PLUGIN_CRITICAL);
	buf_addf(&out->summary, "%zu active task%s", active, active == 1 ? "" : "s");
	if (blocked)
		buf_addf(&out->summary, ", %zu blocked by a question", blocked);
	if (active) {
		buf_adds(&out->summary, ", oldest ");
		chk_add_age(&out->summary, oldest);
	}
	plugin_output_perf(
		out,
		&(struct plugin_perf){.label = "active", .value = (double)active, .has_min = true});
	plugin_output_perf(out, &(struct plugin_perf){.label = "blocked",
						      .value = (double)blocked,
						      .has_min = true});
	plugin_output_perf(out, &(struct plugin_perf){.label = "oldest",
						      .value = floor(oldest),
						      .uom = "s",
						      .warn = &o->warn,
						      .crit = &o->crit,
						      .has_min = true});
	buf_release(&a);
	buf_release(&b);
}

/* ---- one object (vm, vm-memory, host) ---- */

/* The one object of items, or NULL after an UNKNOWN saying why. */
static json_t *one_object(const struct chk_opts *o, const struct chk_data *d,
			  struct plugin_output *out, const char *what)
{
	size_t n = json_array_size(d->items), i;
	json_t *it;

	if (n == 1)
		return json_array_get(d->items, 0);
	plugin_output_state(out, PLUGIN_UNKNOWN);
	if (n == 0) {
		buf_addf(&out->summary, "no %s ", what);
		if (o->name) {
			buf_adds(&out->summary, "named '");
			plugin_add_text(&out->summary, o->name);
			buf_addc(&out->summary, '\'');
		} else {
			buf_adds(&out->summary, "with id ");
			plugin_add_text(&out->summary, o->id ? o->id : "");
		}
		if (o->target) {
			buf_adds(&out->summary, " on target ");
			plugin_add_text(&out->summary, o->target);
		}
		return NULL;
	}
	buf_addf(&out->summary, "%zu %ss named '", n, what);
	plugin_add_text(&out->summary, o->name ? o->name : "");
	buf_adds(&out->summary, "': name one with --id (");
	json_array_foreach(d->items, i, it)
	{
		buf_adds(&out->summary, i ? ", " : "");
		plugin_add_text(&out->summary, chk_string(it, "id"));
		if (!o->target) {
			buf_adds(&out->summary, " on ");
			plugin_add_text(&out->summary, chk_string(it, "target"));
		}
	}
	buf_addc(&out->summary, ')');
	return NULL;
}

static void add_object_name(struct plugin_output *out, const char *what, json_t *obj)
{
	buf_addf(&out->summary, "%s '", what);
	plugin_add_text(&out->summary, chk_string(obj, "name"));
	buf_adds(&out->summary, "' (");
	plugin_add_text(&out->summary, chk_string(obj, "id"));
	buf_adds(&out->summary, ")");
}

static void eval_vm(const struct chk_opts *o, const struct chk_data *d, struct plugin_output *out)
{
	json_t *vm = one_object(o, d, out, "VM");
	const char *conn, *power;
	double up = 0;

	if (!vm)
		return;
	conn = chk_string(vm, "connection_state");
	power = chk_string(vm, "power_state");
	add_object_name(out, "VM", vm);
	buf_adds(&out->summary, " is ");
	plugin_add_text(&out->summary, power);
	if (strcmp(conn, "connected") != 0) {
		plugin_output_state(out, PLUGIN_CRITICAL);
		buf_adds(&out->summary, " and ");
		plugin_add_text(&out->summary, conn);
	}
	if (strcmp(power, o->power) != 0) {
		plugin_output_state(out, PLUGIN_CRITICAL);
		buf_addf(&out->summary, " (expected %s)", o->power);
	}
	plugin_output_line(out, false, "host %s, guest heartbeat %s", chk_string(vm, "host"),
			   chk_string(vm, "guest_heartbeat_status"));
	if (chk_number(vm, "uptime_seconds", &up))
		plugin_output_perf(
			out, &(struct plugin_perf){
				     .label = "uptime", .value = up, .uom = "s", .has_min = true});
}

static const struct {
	const char *metric, *key;
} memory_keys[] = {
	{"ballooned", "memory_ballooned_bytes"},   {"swapped", "memory_swapped_bytes"},
	{"compressed", "memory_compressed_bytes"}, {"consumed", "memory_consumed_bytes"},
	{"active", "memory_guest_active_bytes"},   {"shared", "memory_shared_bytes"},
	{"overhead", "memory_overhead_bytes"},
};

static void eval_vm_memory(const struct chk_opts *o, const struct chk_data *d,
			   struct plugin_output *out)
{
	json_t *vm = one_object(o, d, out, "VM");
	struct plugin_range w, c;
	double conf = 0, v = 0, shown;
	const char *key = NULL;

	if (!vm)
		return;
	for (size_t i = 0; i < sizeof(memory_keys) / sizeof(memory_keys[0]); i++) {
		if (strcmp(memory_keys[i].metric, o->metric) == 0)
			key = memory_keys[i].key;
	}
	if (!key || !chk_number(vm, key, &v) || !chk_number(vm, "memory_configured_bytes", &conf)) {
		plugin_output_state(out, PLUGIN_UNKNOWN);
		add_object_name(out, "VM", vm);
		buf_addf(&out->summary, ": no %s memory figure", o->metric);
		return;
	}
	if (o->percent && conf <= 0) {
		plugin_output_state(out, PLUGIN_UNKNOWN);
		add_object_name(out, "VM", vm);
		buf_adds(&out->summary, ": configured memory unknown, --percent impossible");
		return;
	}
	shown = o->percent ? v / conf * 100 : v / 1048576.0;
	plugin_output_state(out, plugin_check(shown, &o->warn, &o->crit));
	/* perfdata are in bytes: thresholds scaled to them */
	plugin_range_scale(&o->warn, o->percent ? conf / 100 : 1048576.0, &w);
	plugin_range_scale(&o->crit, o->percent ? conf / 100 : 1048576.0, &c);
	add_object_name(out, "VM", vm);
	buf_addf(&out->summary, " %s memory %.0f MiB (%.1f%% of %.0f MiB)", o->metric,
		 v / 1048576.0, conf > 0 ? v / conf * 100 : 0.0, conf / 1048576.0);
	for (size_t i = 0; i < sizeof(memory_keys) / sizeof(memory_keys[0]); i++) {
		double x;
		bool sel = memory_keys[i].key == key;

		if (!chk_number(vm, memory_keys[i].key, &x))
			continue;
		plugin_output_perf(out, &(struct plugin_perf){.label = memory_keys[i].metric,
							      .value = x,
							      .uom = "B",
							      .warn = sel ? &w : NULL,
							      .crit = sel ? &c : NULL,
							      .has_min = true,
							      .has_max = conf > 0,
							      .max = conf});
		plugin_output_line(out, false, "%s: %.0f MiB", memory_keys[i].metric,
				   x / 1048576.0);
	}
}

static void eval_host(const struct chk_opts *o, const struct chk_data *d, struct plugin_output *out)
{
	json_t *h = one_object(o, d, out, "host");
	double used = 0, size = 0, maint = 0, pct;
	const char *conn;

	if (!h)
		return;
	conn = chk_string(h, "connection_state");
	add_object_name(out, "host", h);
	buf_adds(&out->summary, " ");
	plugin_add_text(&out->summary, conn);
	if (strcmp(conn, "connected") != 0)
		plugin_output_state(out, PLUGIN_CRITICAL);
	if (chk_number(h, "maintenance_mode", &maint) && maint > 0) {
		plugin_output_state(out, o->maintenance);
		buf_adds(&out->summary, ", in maintenance mode");
	}
	if (!chk_number(h, "memory_usage_bytes", &used) ||
	    !chk_number(h, "memory_size_bytes", &size) || size <= 0) {
		if (strcmp(conn, "connected") == 0)
			plugin_output_state(out, PLUGIN_UNKNOWN);
		buf_adds(&out->summary, ", memory figures unknown");
		return;
	}
	pct = used / size * 100;
	plugin_output_state(out, plugin_check(pct, &o->warn, &o->crit));
	buf_addf(&out->summary, ", memory %.1f%% used (%.0f of %.0f MiB)", pct, used / 1048576.0,
		 size / 1048576.0);
	plugin_output_perf(out, &(struct plugin_perf){.label = "memory_used",
						      .value = used,
						      .uom = "B",
						      .has_min = true,
						      .has_max = true,
						      .max = size});
	plugin_output_perf(
		out, &(struct plugin_perf){.label = "memory_size", .value = size, .uom = "B"});
	plugin_output_perf(out, &(struct plugin_perf){.label = "memory_usage",
						      .value = round(pct * 100) / 100,
						      .uom = "%",
						      .warn = &o->warn,
						      .crit = &o->crit,
						      .has_min = true,
						      .has_max = true,
						      .max = 100});
}

/* ---- datastores ---- */

static void eval_datastore(const struct chk_opts *o, const struct chk_data *d,
			   struct plugin_output *out)
{
	size_t i, n = 0, bad = 0;
	json_t *ds, *worst = NULL;
	enum plugin_state worst_state = PLUGIN_OK;
	struct buf label, why;

	buf_init(&label, 0);
	buf_init(&why, 0);
	json_array_foreach(d->items, i, ds)
	{
		const char *name = chk_string(ds, "name");
		const char *mm = chk_string(ds, "maintenance_mode");
		struct plugin_range uw, uc;
		double cap = 0, free = 0, acc = 1, used, pct;
		enum plugin_state st = PLUGIN_OK;

		if (!name_selected(o, name))
			continue;
		n++;
		buf_reset(&why);
		chk_number(ds, "accessible", &acc);
		if (!chk_number(ds, "capacity_bytes", &cap) ||
		    !chk_number(ds, "free_bytes", &free) || cap <= 0) {
			st = PLUGIN_UNKNOWN;
			buf_adds(&why, "capacity unknown");
			cap = free = 0;
		}
		used = cap - free;
		pct = cap > 0 ? used / cap * 100 : 0;
		if (cap > 0) {
			st = plugin_worst(st, o->free ? plugin_check(free, &o->warn, &o->crit)
						      : plugin_check(pct, &o->warn, &o->crit));
			buf_addf(&why, "%.1f%% used, %.1f GiB free of %.1f GiB", pct,
				 free / 1073741824.0, cap / 1073741824.0);
		}
		if (acc == 0) {
			st = PLUGIN_CRITICAL;
			buf_adds(&why, ", inaccessible");
		}
		if (*mm && strcmp(mm, "normal") != 0) {
			st = plugin_worst(st, PLUGIN_WARNING);
			buf_adds(&why, ", maintenance mode ");
			plugin_add_text(&why, mm);
		}
		plugin_output_state(out, st);
		if (st != PLUGIN_OK)
			bad++;
		if (!worst || plugin_worst(st, worst_state) != worst_state) {
			worst = ds;
			worst_state = st;
		}
		plugin_output_line(out, st != PLUGIN_OK, "%s: datastore '%s' (%s): %s",
				   plugin_state_name(st), txt(&label, name),
				   d->targets && json_array_size(d->targets) > 1
					   ? chk_string(ds, "target")
					   : chk_string(ds, "type"),
				   why.failed ? "?" : why.data);
		if (cap <= 0)
			continue;
		/* the thresholds on the used bytes too, converted from percent or free space */
		if (o->free) {
			plugin_range_mirror(&o->warn, cap, &uw);
			plugin_range_mirror(&o->crit, cap, &uc);
		} else {
			plugin_range_scale(&o->warn, cap / 100, &uw);
			plugin_range_scale(&o->crit, cap / 100, &uc);
		}
		buf_reset(&label);
		buf_addf(&label, "%s used", name);
		plugin_output_perf(out, &(struct plugin_perf){.label = label.data,
							      .value = used,
							      .uom = "B",
							      .warn = &uw,
							      .crit = &uc,
							      .has_min = true,
							      .has_max = true,
							      .max = cap});
		buf_reset(&label);
		if (o->free) {
			buf_addf(&label, "%s free", name);
			plugin_output_perf(out, &(struct plugin_perf){.label = label.data,
								      .value = free,
								      .uom = "B",
								      .warn = &o->warn,
								      .crit = &o->crit,
								      .has_min = true,
								      .has_max = true,
								      .max = cap});
		} else {
			buf_addf(&label, "%s usage", name);
			plugin_output_perf(out,
					   &(struct plugin_perf){.label = label.data,
								 .value = round(pct * 100) / 100,
								 .uom = "%",
								 .warn = &o->warn,
								 .crit = &o->crit,
								 .has_min = true,
								 .has_max = true,
								 .max = 100});
		}
	}
	if (n == 0) {
		plugin_output_state(out, PLUGIN_UNKNOWN);
		buf_adds(&out->summary, "no datastore matches");
		if (o->name) {
			buf_adds(&out->summary, " the name '");
			plugin_add_text(&out->summary, o->name);
			buf_addc(&out->summary, '\'');
		}
	} else if (n == 1) {
		buf_adds(&out->summary, "datastore '");
		plugin_add_text(&out->summary, chk_string(worst, "name"));
		buf_adds(&out->summary, "': ");
		plugin_add_text(&out->summary, why.data);
	} else {
		buf_addf(&out->summary, "%zu datastores, %zu with a problem", n, bad);
		if (bad) {
			buf_adds(&out->summary, ", worst '");
			plugin_add_text(&out->summary, chk_string(worst, "name"));
			buf_addf(&out->summary, "' (%s)", plugin_state_name(worst_state));
		}
	}
	buf_release(&label);
	buf_release(&why);
}

/* ---- targets ---- */

static void eval_target(const struct chk_opts *o, const struct chk_data *d,
			struct plugin_output *out)
{
	size_t i, n = 0, down = 0, stale = 0;
	json_t *t;
	struct buf a, b;

	buf_init(&a, 0);
	buf_init(&b, 0);
	json_array_foreach(d->targets, i, t)
	{
		const char *name = chk_string(t, "name");
		bool up = json_is_true(json_object_get(t, "up"));
		double last = 0, age = -1;
		enum plugin_state st = PLUGIN_OK;

		if (o->target && strcmp(name, o->target) != 0)
			continue;
		n++;
		if (chk_number(t, "last_update", &last))
			age = d->now > last ? d->now - last : 0;
		buf_reset(&a);
		if (!up) {
			st = PLUGIN_CRITICAL;
			down++;
			buf_adds(&a, "down");
			if (json_is_object(json_object_get(t, "last_error"))) {
				buf_adds(&a, ": ");
				plugin_add_text(&a, chk_string(json_object_get(t, "last_error"),
							       "message"));
			}
		} else {
			buf_adds(&a, "up");
		}
		if (age < 0) {
			buf_adds(&a, ", never updated");
		} else {
			buf_adds(&a, ", data ");
			chk_add_age(&a, age);
			buf_adds(&a, " old");
			if (age > o->max_age) {
				st = plugin_worst(st, PLUGIN_WARNING);
				stale++;
				buf_addf(&a, " (more than --max-age %.0f s)", o->max_age);
			}
		}
		plugin_output_state(out, st);
		plugin_output_line(out, st != PLUGIN_OK, "%s: target %s: %s", plugin_state_name(st),
				   txt(&b, name), a.failed ? "?" : a.data);
		if (n == 1 && o->target) {
			buf_adds(&out->summary, "target ");
			plugin_add_text(&out->summary, name);
			buf_adds(&out->summary, " ");
			buf_add(&out->summary, a.data, a.len);
		}
		if (age >= 0) {
			buf_reset(&b);
			buf_addf(&b, "%s age", name);
			plugin_output_perf(out, &(struct plugin_perf){.label = b.data,
								      .value = floor(age),
								      .uom = "s",
								      .has_min = true});
		}
	}
	if (n == 0) {
		plugin_output_state(out, PLUGIN_UNKNOWN);
		buf_adds(&out->summary, "no such target");
	} else if (!o->target) {
		buf_addf(&out->summary, "%zu target%s, %zu down, %zu stale", n, n == 1 ? "" : "s",
			 down, stale);
	}
	buf_release(&a);
	buf_release(&b);
}

void chk_evaluate(const struct chk_opts *o, const struct chk_data *d, struct plugin_output *out)
{
	switch (o->mode) {
	case CHK_QUESTIONS: eval_questions(o, d, out); break;
	case CHK_TASKS: eval_tasks(o, d, out); break;
	case CHK_VM: eval_vm(o, d, out); break;
	case CHK_VM_MEMORY: eval_vm_memory(o, d, out); break;
	case CHK_HOST: eval_host(o, d, out); break;
	case CHK_DATASTORE: eval_datastore(o, d, out); break;
	case CHK_TARGET: eval_target(o, d, out); break;
	case CHK_MODES: break;
	}
}

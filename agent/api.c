/* agent/api: builds the JSON API arrays from the snapshots' target, questions and tasks. */
#include "agent/api.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static const struct {
	const char *name;
	unsigned bits;
} task_states[] = {
	{"queued", API_TASK_QUEUED},
	{"running", API_TASK_RUNNING},
	{"success", API_TASK_SUCCESS},
	{"error", API_TASK_ERROR},
	{"active", API_TASK_QUEUED | API_TASK_RUNNING},
};

/* The API_TASK_* bit of a task state name of length n, or 0 when unknown. */
static unsigned state_bits(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(task_states) / sizeof(task_states[0]); i++)
		if (strlen(task_states[i].name) == n && memcmp(task_states[i].name, s, n) == 0)
			return task_states[i].bits;
	return 0;
}

int api_task_states(const char *arg, unsigned *states)
{
	unsigned bits = 0;

	*states = API_TASK_ALL;
	if (!arg || !*arg)
		return 0;
	for (;;) {
		size_t n = strcspn(arg, ",");
		unsigned b = state_bits(arg, n);

		if (!b)
			return -1;
		bits |= b;
		if (!arg[n])
			break;
		arg += n + 1;
	}
	*states = bits;
	return 0;
}

/* 1 when item is an object whose "state" is one of states. */
static int state_wanted(json_t *item, unsigned states)
{
	const char *st = json_string_value(json_object_get(item, "state"));

	if (states == API_TASK_ALL)
		return 1;
	return st && (state_bits(st, strlen(st)) & states) != 0;
}

/* Appends the objects of items (with a wanted state) to out, adding "target" when missing. */
static int append_items_in(json_t *out, json_t *items, json_t *target, unsigned states)
{
	json_t *name = target ? json_object_get(target, "name") : NULL;
	json_t *item, *copy;
	size_t i;

	if (!json_is_array(items))
		return 0;
	json_array_foreach(items, i, item)
	{
		if (!state_wanted(item, states))
			continue;
		if (!json_is_object(item) || json_object_get(item, "target") || !name) {
			if (json_array_append(out, item) < 0)
				return -1;
			continue;
		}
		/* The snapshot is shared and immutable: add the name to a shallow copy. */
		copy = json_copy(item);
		if (!copy || json_object_set(copy, "target", name) < 0 ||
		    json_array_append_new(out, copy) < 0) {
			json_decref(copy);
			return -1;
		}
	}
	return 0;
}

/* Appends the objects of items to out, adding "target" when missing. */
static int append_items(json_t *out, json_t *items, json_t *target)
{
	return append_items_in(out, items, target, API_TASK_ALL);
}

/* Renders the array for what, tasks limited to states. */
static char *render(enum api_list what, struct snapshot *const *snaps, size_t n, unsigned states,
		    size_t *len);

char *api_render(enum api_list what, struct snapshot *const *snaps, size_t n, size_t *len)
{
	return render(what, snaps, n, API_TASK_ALL, len);
}

char *api_render_tasks(struct snapshot *const *snaps, size_t n, unsigned states, size_t *len)
{
	return render(API_TASKS, snaps, n, states, len);
}

static char *render(enum api_list what, struct snapshot *const *snaps, size_t n, unsigned states,
		    size_t *len)
{
	json_t *out = json_array();
	char *text = NULL;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		const struct snapshot *s = snaps[i];
		int rc = 0;

		if (!s)
			continue;
		if (what == API_TARGETS && s->target)
			rc = json_array_append(out, s->target);
		else if (what == API_QUESTIONS)
			rc = append_items(out, s->questions, s->target);
		else if (what == API_TASKS)
			rc = append_items_in(out, s->tasks, s->target, states);
		if (rc < 0)
			goto out_free;
	}
	text = api_json_text(out, len);
out_free:
	json_decref(out);
	return text;
}

static const char *snap_target(const struct snapshot *s)
{
	return s->target ? json_string_value(json_object_get(s->target, "name")) : NULL;
}

/* Appends object i of o to b, after a separator unless it is the first. */
static void add_object(struct buf *b, const struct snap_objects *o, size_t i, bool *first)
{
	buf_adds(b, *first ? "\n" : ",\n");
	*first = false;
	buf_add(b, snap_object_text(o, i), o->items[i].len);
}

/* The first position in idx (sorted by key) whose key is not below k. */
static size_t lower_bound(const struct snap_objects *o, const size_t *idx, bool by_name,
			  const char *k)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct snap_object *it = &o->items[idx[mid]];

		if (strcmp(by_name ? it->name : it->id, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void add_matches(struct buf *b, const struct snap_objects *o, const struct api_filter *f,
			bool *first)
{
	const bool by_name = f->name != NULL;
	const char *k = by_name ? f->name : f->id;
	const size_t *idx = by_name ? o->by_name : o->by_id;

	if (!f->name && !f->id) {
		for (size_t c = 0; c < o->nchunks; c++) {
			if (!o->chunks[c]->len)
				continue;
			buf_adds(b, *first ? "\n" : ",\n");
			buf_add(b, o->chunks[c]->text, o->chunks[c]->len);
			*first = false;
		}
		return;
	}
	/* several VMs may share a name (in different folders): all of them */
	for (size_t p = lower_bound(o, idx, by_name, k); p < o->n; p++) {
		const struct snap_object *it = &o->items[idx[p]];

		if (strcmp(by_name ? it->name : it->id, k) != 0)
			break;
		if (f->name && f->id && strcmp(it->id, f->id) != 0)
			continue;
		add_object(b, o, idx[p], first);
	}
}

char *api_render_objects(enum snap_kind kind, struct snapshot *const *snaps, size_t n,
			 const struct api_filter *f, size_t *len)
{
	struct buf b;
	bool first = true;

	buf_init(&b, 0);
	if (!f->name && !f->id) {
		size_t total = 8;

		/* whole lists: one allocation, not a series of doublings and copies */
		for (size_t i = 0; i < n; i++)
			total += snaps[i] && snaps[i]->objects[kind]
					 ? snaps[i]->objects[kind]->len + 2
					 : 0;
		buf_grow(&b, total);
	}
	buf_addc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		const struct snapshot *s = snaps[i];
		const char *t;

		if (!s || !s->objects[kind])
			continue;
		t = snap_target(s);
		if (f->target && (!t || strcmp(t, f->target) != 0))
			continue;
		add_matches(&b, s->objects[kind], f, &first);
	}
	buf_adds(&b, first ? "]\n" : "\n]\n");
	if (b.failed) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, len);
}

char *api_json_text(const json_t *v, size_t *len)
{
	char *s = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	char *t;
	size_t l;

	*len = 0;
	if (!s)
		return NULL;
	l = strlen(s);
	t = realloc(s, l + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	t[l] = '\n';
	t[l + 1] = '\0';
	*len = l + 1;
	return t;
}

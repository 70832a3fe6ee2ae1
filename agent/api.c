/* agent/api: builds the JSON API arrays from the snapshots' target, questions and tasks. */
#include "agent/api.h"

#include <stdlib.h>
#include <string.h>

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
	text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text) {
		size_t l = strlen(text);
		char *t = realloc(text, l + 2);

		if (!t) {
			free(text);
			text = NULL;
			goto out_free;
		}
		text = t;
		text[l] = '\n';
		text[l + 1] = '\0';
		*len = l + 1;
	}
out_free:
	json_decref(out);
	return text;
}

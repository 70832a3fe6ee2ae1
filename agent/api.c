/* agent/api: builds the JSON API arrays from the snapshots' target, questions and tasks. */
#include "agent/api.h"

#include <stdlib.h>
#include <string.h>

/* Appends the objects of items to out, adding "target" when missing. */
static int append_items(json_t *out, json_t *items, json_t *target)
{
	json_t *name = target ? json_object_get(target, "name") : NULL;
	json_t *item, *copy;
	size_t i;

	if (!json_is_array(items))
		return 0;
	json_array_foreach(items, i, item)
	{
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

char *api_render(enum api_list what, struct snapshot *const *snaps, size_t n, size_t *len)
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
			rc = append_items(out, s->tasks, s->target);
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

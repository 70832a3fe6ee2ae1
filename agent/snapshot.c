/* agent/snapshot: one target's rendered state, immutable once published, swapped atomically. */
#include <stdlib.h>
#include <string.h>

#include "agent/snapshot.h"

struct snapshot *snapshot_new(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->target = json_object();
	s->questions = json_array();
	s->tasks = json_array();
	if (!s->target || !s->questions || !s->tasks) {
		snapshot_put(s);
		return NULL;
	}
	s->refs = 1;
	return s;
}

static char *dup_n(const char *p, size_t len)
{
	char *d = malloc(len + 1);

	if (!d)
		return NULL;
	if (len)
		memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

int snapshot_add_family(struct snapshot *s, const char *name, const char *help, const char *type,
			const char *samples, size_t len)
{
	struct snap_family *f;
	struct snap_family *grown;

	grown = realloc(s->families, (s->nfamilies + 1) * sizeof(*s->families));
	if (!grown)
		return -1;
	s->families = grown;
	f = &s->families[s->nfamilies];
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	f->type = type;
	f->samples = dup_n(samples ? samples : "", samples ? len : 0);
	f->len = samples ? len : 0;
	if (!f->name || !f->help || !f->samples) {
		free(f->name);
		free(f->help);
		free(f->samples);
		return -1;
	}
	s->nfamilies++;
	return 0;
}

static int family_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snap_family *)a)->name, ((const struct snap_family *)b)->name);
}

void snapshot_sort(struct snapshot *s)
{
	if (s->nfamilies > 1)
		qsort(s->families, s->nfamilies, sizeof(*s->families), family_cmp);
}

void snapshot_ref(struct snapshot *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void snapshot_put(struct snapshot *s)
{
	if (!s)
		return;
	if (s->refs > 0 && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < s->nfamilies; i++) {
		free(s->families[i].name);
		free(s->families[i].help);
		free(s->families[i].samples);
	}
	free(s->families);
	json_decref(s->target);
	json_decref(s->questions);
	json_decref(s->tasks);
	free(s);
}

void snapshot_slot_init(struct snapshot_slot *slot)
{
	pthread_mutex_init(&slot->lock, NULL);
	slot->cur = NULL;
}

void snapshot_slot_destroy(struct snapshot_slot *slot)
{
	snapshot_put(slot->cur);
	slot->cur = NULL;
	pthread_mutex_destroy(&slot->lock);
}

void snapshot_slot_swap(struct snapshot_slot *slot, struct snapshot *s)
{
	struct snapshot *old;

	pthread_mutex_lock(&slot->lock);
	old = slot->cur;
	slot->cur = s;
	pthread_mutex_unlock(&slot->lock);
	snapshot_put(old);
}

struct snapshot *snapshot_slot_get(struct snapshot_slot *slot)
{
	struct snapshot *s;

	pthread_mutex_lock(&slot->lock);
	s = slot->cur;
	if (s)
		snapshot_ref(s);
	pthread_mutex_unlock(&slot->lock);
	return s;
}

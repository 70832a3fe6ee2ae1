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

/* A new family slot with name and help copied; samples left to the caller. */
static struct snap_family *family_new(struct snapshot *s, const char *name, const char *help,
				      const char *type)
{
	struct snap_family *f;
	struct snap_family *grown;

	grown = realloc(s->families, (s->nfamilies + 1) * sizeof(*s->families));
	if (!grown)
		return NULL;
	s->families = grown;
	f = &s->families[s->nfamilies];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	f->type = type;
	if (!f->name || !f->help) {
		free(f->name);
		free(f->help);
		return NULL;
	}
	return f;
}

int snapshot_add_family(struct snapshot *s, const char *name, const char *help, const char *type,
			const char *samples, size_t len)
{
	char *copy = dup_n(samples ? samples : "", samples ? len : 0);

	if (!copy)
		return -1;
	return snapshot_add_family_take(s, name, help, type, copy, samples ? len : 0);
}

int snapshot_add_family_take(struct snapshot *s, const char *name, const char *help,
			     const char *type, char *samples, size_t len)
{
	struct snap_family *f = family_new(s, name, help, type);

	if (!f) {
		free(samples);
		return -1;
	}
	f->samples = samples;
	f->len = len;
	s->nfamilies++;
	return 0;
}

int snapshot_share_family(struct snapshot *s, struct snap_family *src)
{
	struct snap_family *f;

	/* Only the thread that built src shares it, so creating the counter
	 * cannot race; releases may come from any thread, hence atomics. */
	if (!src->shared) {
		src->shared = malloc(sizeof(*src->shared));
		if (!src->shared)
			return -1;
		*src->shared = 1;
	}
	f = family_new(s, src->name, src->help, src->type);
	if (!f)
		return -1;
	__atomic_add_fetch(src->shared, 1, __ATOMIC_RELAXED);
	f->samples = src->samples;
	f->len = src->len;
	f->shared = src->shared;
	s->nfamilies++;
	return 0;
}

int snapshot_make_shareable(struct snapshot *s)
{
	for (size_t i = 0; i < s->nfamilies; i++) {
		struct snap_family *f = &s->families[i];

		if (f->shared)
			continue;
		f->shared = malloc(sizeof(*f->shared));
		if (!f->shared)
			return -1;
		*f->shared = 1;
	}
	return 0;
}

static void family_release(struct snap_family *f)
{
	free(f->name);
	free(f->help);
	if (f->shared) {
		if (__atomic_sub_fetch(f->shared, 1, __ATOMIC_ACQ_REL) > 0)
			return;
		free(f->shared);
	}
	free(f->samples);
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
	/* never read refs plainly: another thread may be dropping its reference */
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < s->nfamilies; i++)
		family_release(&s->families[i]);
	free(s->families);
	json_decref(s->target);
	json_decref(s->questions);
	json_decref(s->tasks);
	for (int k = 0; k < SNAP_KINDS; k++)
		snap_objects_put(s->objects[k]);
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

void snap_objects_ref(struct snap_objects *o)
{
	__atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
}

void snap_objects_put(struct snap_objects *o)
{
	if (!o || __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < o->nchunks; i++) {
		if (o->chunks[i] &&
		    __atomic_sub_fetch(&o->chunks[i]->refs, 1, __ATOMIC_ACQ_REL) == 0)
			free(o->chunks[i]);
	}
	free(o->chunks);
	free(o->names);
	free(o->items);
	free(o->by_name);
	free(o->by_id);
	free(o);
}

/* agent/inventory: one target's managed objects by moref, updated change by change. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/inventory.h"
#include "vi/value.h"
#include "vi/vmsnap.h"

#define INV_INITIAL_BUCKETS 1024

static uint32_t inv_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

static int type_add_fetch(struct inv_type *t, const struct col_path *p, struct err *e)
{
	for (size_t i = 0; i < t->nfetch; i++) {
		if (strcmp(t->fetch[i], p->path) == 0)
			return 0;
	}
	if (t->nfetch >= INV_MAX_FETCH)
		return err_set(e, ERR_INVALID, "too many paths for %s", t->name);
	t->fetch[t->nfetch] = p->path;
	t->fetch_store[t->nfetch] = p->store;
	t->nfetch++;
	t->fetch[t->nfetch] = NULL;
	return 0;
}

/* Adds a leaf slot for path when it lies below a fetched path. */
static int type_add_leaf(struct inv_type *t, const char *path, struct err *e)
{
	if (!path)
		return 0;
	for (size_t i = 0; i < t->nslots; i++) {
		if (strcmp(t->slots[i].path, path) == 0)
			return 0;
	}
	for (size_t f = 0; f < t->nfetch; f++) {
		size_t n = strlen(t->fetch[f]);

		if (strncmp(path, t->fetch[f], n) != 0 || path[n] != '.')
			continue;
		if (t->nslots >= INV_MAX_SLOTS)
			return err_set(e, ERR_INVALID, "too many values for %s", t->name);
		t->slots[t->nslots] = (struct inv_slot){path, (int)f, path + n + 1, COL_STORE_TEXT};
		t->nslots++;
		return 0;
	}
	return err_set(e, ERR_INVALID, "%s: %s is not below a fetched path", t->name, path);
}

static int type_add_collector(struct inventory *inv, const struct collector *c, struct err *e)
{
	struct inv_type *t = NULL;

	for (size_t i = 0; i < inv->ntypes; i++) {
		if (strcmp(inv->types[i].name, c->type) == 0)
			t = &inv->types[i];
	}
	if (!t) {
		if (inv->ntypes >= INV_MAX_TYPES)
			return err_set(e, ERR_INVALID, "too many managed-object types");
		t = &inv->types[inv->ntypes++];
		t->name = c->type;
		t->by_task_manager = c->by_task_manager;
	}
	for (size_t i = 0; c->paths[i].path; i++) {
		if (type_add_fetch(t, &c->paths[i], e) < 0)
			return -1;
	}
	return 0;
}

static int type_add_leaves(struct inventory *inv, const struct collector *c, struct err *e)
{
	struct inv_type *t = &inv->types[inventory_type_index(inv, c->type)];

	for (size_t i = 0; c->metrics[i].family; i++) {
		const struct col_metric *m = &c->metrics[i];

		if (type_add_leaf(t, m->path, e) < 0 || type_add_leaf(t, m->mul, e) < 0 ||
		    type_add_leaf(t, m->minus, e) < 0 || type_add_leaf(t, m->plus, e) < 0)
			return -1;
		for (size_t l = 0; m->labels && m->labels[l].label; l++) {
			if (type_add_leaf(t, m->labels[l].path, e) < 0)
				return -1;
		}
	}
	return 0;
}

int inventory_new(const struct collector *const *cols, size_t ncols, struct inventory **out,
		  struct err *e)
{
	struct inventory *inv = calloc(1, sizeof(*inv));

	if (!inv)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < ncols; i++) {
		if (type_add_collector(inv, cols[i], e) < 0)
			goto out_free;
	}
	/* the fetched paths themselves are the first slots of each type */
	for (size_t i = 0; i < inv->ntypes; i++) {
		struct inv_type *t = &inv->types[i];

		for (size_t f = 0; f < t->nfetch; f++)
			t->slots[f] =
				(struct inv_slot){t->fetch[f], (int)f, NULL, t->fetch_store[f]};
		t->nslots = t->nfetch;
	}
	for (size_t i = 0; i < ncols; i++) {
		if (type_add_leaves(inv, cols[i], e) < 0)
			goto out_free;
	}
	inv->nbuckets = INV_INITIAL_BUCKETS;
	inv->buckets = calloc(inv->nbuckets, sizeof(*inv->buckets));
	if (!inv->buckets) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_free;
	}
	*out = inv;
	return 0;

out_free:
	inventory_free(inv);
	return -1;
}

static void obj_clear_question(struct inv_obj *o)
{
	if (o->question) {
		vi_question_release(o->question);
		free(o->question);
		o->question = NULL;
	}
}

static void obj_clear_task(struct inv_obj *o)
{
	if (o->task) {
		vi_task_info_release(o->task);
		free(o->task);
		o->task = NULL;
	}
}

static void obj_free(struct inventory *inv, struct inv_obj *o)
{
	(void)inv;
	free(o->blob);
	obj_clear_question(o);
	obj_clear_task(o);
	free(o->question_id);
	free(o);
}

void inventory_free(struct inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->ntypes; i++) {
		struct inv_obj *o = inv->types[i].head;

		while (o) {
			struct inv_obj *next = o->next;

			obj_free(inv, o);
			o = next;
		}
	}
	free(inv->buckets);
	free(inv);
}

int inventory_type_index(const struct inventory *inv, const char *type)
{
	for (size_t i = 0; i < inv->ntypes; i++) {
		if (strcmp(inv->types[i].name, type) == 0)
			return (int)i;
	}
	return -1;
}

int inventory_slot(const struct inventory *inv, unsigned type, const char *path)
{
	const struct inv_type *t;

	if (type >= inv->ntypes || !path)
		return -1;
	t = &inv->types[type];
	for (size_t i = 0; i < t->nslots; i++) {
		if (strcmp(t->slots[i].path, path) == 0)
			return (int)i;
	}
	return -1;
}

const char *inventory_value(const struct inv_obj *o, int slot)
{
	if (!o || slot < 0)
		return NULL;
	if (o->off[slot] == INV_UNSET)
		return NULL;
	return o->blob + o->off[slot];
}

struct inv_obj *inventory_find(const struct inventory *inv, const char *type, const char *moref)
{
	struct inv_obj *o;

	if (!moref)
		return NULL;
	o = inv->buckets[inv_hash(moref) & (inv->nbuckets - 1)];
	for (; o; o = o->hnext) {
		if (strcmp(o->moref, moref) == 0 &&
		    (!type || strcmp(inv->types[o->type].name, type) == 0))
			return o;
	}
	return NULL;
}

/* inventory_find with the type as an index (no name comparison). */
static struct inv_obj *find_typed(const struct inventory *inv, unsigned type, const char *moref)
{
	struct inv_obj *o;

	if (!moref)
		return NULL;
	o = inv->buckets[inv_hash(moref) & (inv->nbuckets - 1)];
	for (; o; o = o->hnext)
		if (o->type == type && strcmp(o->moref, moref) == 0)
			return o;
	return NULL;
}

static void inv_grow(struct inventory *inv)
{
	size_t n = inv->nbuckets * 2;
	struct inv_obj **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < inv->nbuckets; i++) {
		struct inv_obj *o = inv->buckets[i];

		while (o) {
			struct inv_obj *next = o->hnext;
			uint32_t h = inv_hash(o->moref) & (n - 1);

			o->hnext = b[h];
			b[h] = o;
			o = next;
		}
	}
	free(inv->buckets);
	inv->buckets = b;
	inv->nbuckets = n;
}

static struct inv_obj *obj_add(struct inventory *inv, unsigned type, const char *moref,
			       struct err *e)
{
	size_t len = strlen(moref);
	struct inv_type *t = &inv->types[type];
	/* one allocation: the object, its slot offsets, its moref */
	struct inv_obj *o = calloc(1, sizeof(*o) + t->nslots * sizeof(uint32_t) + len + 1);
	uint32_t h;

	if (!o)
		goto out_nomem;
	o->off = (uint32_t *)(o + 1);
	for (size_t i = 0; i < t->nslots; i++)
		o->off[i] = INV_UNSET;
	o->moref = (char *)(o->off + t->nslots);
	memcpy(o->moref, moref, len + 1);
	o->type = type;
	if (inv->count + 1 > inv->nbuckets)
		inv_grow(inv);
	h = inv_hash(moref) & (inv->nbuckets - 1);
	o->hnext = inv->buckets[h];
	inv->buckets[h] = o;
	o->prev = t->tail;
	if (t->tail)
		t->tail->next = o;
	else
		t->head = o;
	t->tail = o;
	t->count++;
	inv->count++;
	return o;

out_nomem:
	err_set(e, ERR_NOMEM, "out of memory");
	return NULL;
}

static void obj_remove(struct inventory *inv, struct inv_obj *o)
{
	struct inv_type *t = &inv->types[o->type];
	struct inv_obj **pp = &inv->buckets[inv_hash(o->moref) & (inv->nbuckets - 1)];

	while (*pp && *pp != o)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = o->hnext;
	if (o->prev)
		o->prev->next = o->next;
	else
		t->head = o->next;
	if (o->next)
		o->next->prev = o->prev;
	else
		t->tail = o->prev;
	t->count--;
	inv->count--;
	obj_free(inv, o);
}

/* Whether text, as stored (cut at INV_MAX_VALUE bytes), equals old. */
static bool same_stored(const char *old, const char *text)
{
	size_t n = strnlen(text, INV_MAX_VALUE);

	return strlen(old) == n && memcmp(old, text, n) == 0;
}

/*
 * Replaces a slot's text. The values of an object live in one block (far less
 * memory than one allocation per value): a new value is appended after the
 * others, and the block is rebuilt with only the live values, plus half as
 * much room, when it is full. An object's first values (a sync sets dozens one
 * by one) and its changes thus cost no copy of the others each.
 */
static int slot_set(struct inv_type *t, struct inv_obj *o, size_t slot, const char *text,
		    struct err *e)
{
	const char *old = inventory_value(o, (int)slot);
	size_t n, live = 0, pos = 0, cap;
	char *blob;

	if ((!text && !old) || (text && old && same_stored(old, text)))
		return 0;
	t->slot_gen[slot]++;
	o->gen = ++t->gen;
	if (!text) {
		o->off[slot] = INV_UNSET;
		return 0;
	}
	n = strnlen(text, INV_MAX_VALUE);
	if (o->blob_len + n + 1 <= o->blob_cap) {
		memcpy(o->blob + o->blob_len, text, n);
		o->blob[o->blob_len + n] = '\0';
		o->off[slot] = (uint32_t)o->blob_len;
		o->blob_len += n + 1;
		return 0;
	}
	for (size_t i = 0; i < t->nslots; i++) {
		const char *v = i == slot ? NULL : inventory_value(o, (int)i);

		live += v ? strlen(v) + 1 : 0;
	}
	cap = live + n + 1;
	cap += cap / 2 + 32;
	blob = malloc(cap);
	if (!blob) {
		t->slot_gen[slot]--; /* unchanged after all */
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < t->nslots; i++) {
		const char *v = i == slot ? NULL : inventory_value(o, (int)i);
		size_t len;

		if (!v)
			continue;
		len = strlen(v) + 1;
		memcpy(blob + pos, v, len);
		o->off[i] = (uint32_t)pos;
		pos += len;
	}
	/* text may point into the old block: copied before it is freed */
	memcpy(blob + pos, text, n);
	blob[pos + n] = '\0';
	o->off[slot] = (uint32_t)pos;
	free(o->blob);
	o->blob = blob;
	o->blob_len = pos + n + 1;
	o->blob_cap = cap;
	return 0;
}

/* The node reached from n by a dotted path of child names, or NULL. */
static const struct vi_node *node_descend(const struct vi_node *n, const char *rest)
{
	char name[128];

	while (n && rest && *rest) {
		const char *dot = strchr(rest, '.');
		size_t len = dot ? (size_t)(dot - rest) : strlen(rest);

		if (len >= sizeof(name))
			return NULL;
		memcpy(name, rest, len);
		name[len] = '\0';
		n = vi_node_child(n, name);
		rest = dot ? dot + 1 : NULL;
	}
	return n;
}

static size_t node_count_children(const struct vi_node *n)
{
	size_t k = 0;

	for (const struct vi_node *c = n->first; c; c = c->next)
		k++;
	return k;
}

static int store_question(struct inv_obj *o, const struct vi_node *v, double now, struct err *e)
{
	struct vi_question *q;

	obj_clear_question(o);
	if (!v)
		goto out_none;
	q = calloc(1, sizeof(*q));
	if (!q)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (vi_question_parse(v, q, e) < 0) {
		free(q);
		err_prefix(e, "%s runtime.question", o->moref);
		return -1;
	}
	o->question = q;
	if (!o->question_id || strcmp(o->question_id, q->id ? q->id : "") != 0) {
		free(o->question_id);
		o->question_id = strdup(q->id ? q->id : "");
		o->question_first_seen = now;
	}
	return 0;

out_none:
	free(o->question_id);
	o->question_id = NULL;
	return 0;
}

static int store_task(struct inv_obj *o, const struct vi_node *v, struct err *e)
{
	struct vi_task_info *t;

	obj_clear_task(o);
	if (!v)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (vi_task_info_parse(v, t, e) < 0) {
		free(t);
		err_prefix(e, "%s info", o->moref);
		return -1;
	}
	o->task = t;
	return 0;
}

/* A VM's snapshot info: the count in the path's slot, the oldest createTime in its leaf. */
static int apply_snapshot(struct inv_type *t, struct inv_obj *o, size_t f, const struct vi_node *v,
			  struct err *e)
{
	struct vi_vmsnap sum;
	char num[32];
	int rc = 0;

	if (vi_vmsnap_summary(v, &sum, e) < 0) {
		err_prefix(e, "%s %s", o->moref, t->fetch[f]);
		rc = -1; /* stored as unknown: neither count nor age */
		v = NULL;
	}
	snprintf(num, sizeof(num), "%zu", sum.count);
	if (slot_set(t, o, f, v ? num : NULL, e) < 0)
		return -1;
	for (size_t i = t->nfetch; i < t->nslots; i++) {
		if (t->slots[i].fetch == (int)f && strcmp(t->slots[i].rest, COL_LEAF_OLDEST) == 0 &&
		    slot_set(t, o, i, sum.oldest_text, e) < 0)
			return -1;
	}
	return rc;
}

/* A new value for fetched path f (v NULL: unset): the path and its leaves. */
/*
 * A value whose xsi:type is numeric or boolean but whose text does not parse
 * is stored all the same (it renders no sample) and reported as ERR_VALUE,
 * so that a series never vanishes unexplained.
 */
static int check_value(const struct inv_obj *o, const char *path, const struct vi_node *v,
		       struct err *e)
{
	static const char *const ints[] = {"int", "long", "short", "byte", NULL};
	const char *type, *colon;
	int64_t i;
	double d;
	bool b;
	int rc = 0;

	if (!v || !v->xsi_type)
		return 0;
	colon = strrchr(v->xsi_type, ':');
	type = colon ? colon + 1 : v->xsi_type;
	/* most values are strings, dates and references: no comparison for them */
	if (!strchr("ilsbdf", type[0]) || strcmp(type, "string") == 0)
		return 0;
	for (size_t k = 0; ints[k]; k++)
		if (strcmp(type, ints[k]) == 0)
			rc = vi_text_int64(v->text, &i, NULL);
	if (strcmp(type, "double") == 0 || strcmp(type, "float") == 0)
		rc = vi_text_double(v->text, &d, NULL);
	else if (strcmp(type, "boolean") == 0)
		rc = vi_text_bool(v->text, &b, NULL);
	if (rc == 0)
		return 0;
	return err_set(e, ERR_VALUE, "%s %s: \"%.40s\" is not a valid %s", o->moref, path, v->text,
		       type);
}

static int apply_fetched(struct inventory *inv, struct inv_obj *o, size_t f,
			 const struct vi_node *v, double now, struct err *e)
{
	struct inv_type *t = &inv->types[o->type];
	char num[32];

	switch (t->fetch_store[f]) {
	case COL_STORE_QUESTION:
		if (store_question(o, v, now, e) < 0)
			return -1;
		return slot_set(t, o, f, v ? "1" : NULL, e);
	case COL_STORE_TASK:
		if (store_task(o, v, e) < 0)
			return -1;
		return slot_set(t, o, f, v ? "1" : NULL, e);
	case COL_STORE_COUNT:
		if (!v)
			return slot_set(t, o, f, NULL, e);
		snprintf(num, sizeof(num), "%zu", node_count_children(v));
		return slot_set(t, o, f, num, e);
	case COL_STORE_SNAPSHOT: return apply_snapshot(t, o, f, v, e);
	case COL_STORE_TEXT: break;
	}
	if (slot_set(t, o, f, v ? v->text : NULL, e) < 0)
		return -1;
	for (size_t i = t->nfetch; i < t->nslots; i++) {
		const struct vi_node *leaf;

		if (t->slots[i].fetch != (int)f)
			continue;
		leaf = v ? node_descend(v, t->slots[i].rest) : NULL;
		if (slot_set(t, o, i, leaf ? leaf->text : NULL, e) < 0)
			return -1;
	}
	return 0;
}

/* An array element added or removed ("vm[\"vm-42\"]"): adjust a count. */
static int apply_element(struct inv_type *t, struct inv_obj *o, size_t f, int delta, struct err *e)
{
	long long n = 0;
	char num[32];

	if (inventory_value(o, (int)f))
		n = strtoll(inventory_value(o, (int)f), NULL, 10);
	n += delta;
	if (n < 0)
		n = 0;
	snprintf(num, sizeof(num), "%lld", n);
	return slot_set(t, o, f, num, e);
}

static int apply_path(struct inventory *inv, struct inv_obj *o, const struct vi_change *c,
		      double now, struct err *e)
{
	struct inv_type *t = &inv->types[o->type];
	const struct vi_node *v = c->value;

	if (c->op == VI_OP_REMOVE || c->op == VI_OP_INDIRECT_REMOVE)
		v = NULL;
	for (size_t f = 0; f < t->nfetch; f++) {
		size_t n = strlen(t->fetch[f]);

		if (strncmp(c->path, t->fetch[f], n) != 0)
			continue;
		if (c->path[n] == '\0') {
			if (c->op == VI_OP_ADD && t->fetch_store[f] == COL_STORE_COUNT)
				return apply_element(t, o, f, 1, e);
			return apply_fetched(inv, o, f, v, now, e);
		}
		if (c->path[n] == '[' && t->fetch_store[f] == COL_STORE_COUNT)
			return apply_element(t, o, f, c->op == VI_OP_ADD ? 1 : -1, e);
		if (c->path[n] == '.') {
			/* a change below a fetched path: only an exact leaf is kept */
			int s = inventory_slot(inv, o->type, c->path);

			if (s >= 0)
				return slot_set(t, o, (size_t)s, v ? v->text : NULL, e);
			return 0;
		}
	}
	return 0;
}

/* The error for a property or object the server reported unreadable. */
static int unreadable(const struct vi_change *c, struct err *e)
{
	return err_set_fault(e, ERR_FAULT, c->fault, "%s %s%s%s: unreadable (%s)", c->obj_type,
			     c->moref, c->path ? " " : "", c->path ? c->path : "", c->fault);
}

int inventory_apply(struct inventory *inv, const struct vi_change *c, double now, struct err *e)
{
	int type = inventory_type_index(inv, c->obj_type);
	struct inv_obj *o;

	if (type < 0)
		return 0;
	o = find_typed(inv, (unsigned)type, c->moref);
	/* a server that reports changes of an object it never entered: no
	 * phantom object (it would have no name, and never leave) */
	if (!o && c->kind == VI_OBJ_MODIFY)
		return err_set(e, ERR_PROTOCOL,
			       "%s %s: changes of an object never entered, ignored", c->obj_type,
			       c->moref);
	inv->types[type].gen++;
	if (c->kind == VI_OBJ_LEAVE) {
		if (o) {
			inv->types[type].struct_gen++;
			obj_remove(inv, o);
		}
		return c->fault ? unreadable(c, e) : 0;
	}
	if (!o) {
		o = obj_add(inv, (unsigned)type, c->moref, e);
		if (!o)
			return -1;
		inv->types[type].struct_gen++;
	}
	o->seen = true;
	if (!c->path)
		return 0;
	if (apply_path(inv, o, c, now, e) < 0)
		return -1;
	if (inv->keep && strcmp(c->path, "name") == 0 &&
	    strcmp(inv->types[type].name, inv->filter_type) == 0) {
		const char *name = inventory_value(o, inventory_slot(inv, (unsigned)type, "name"));
		bool hidden = name && !inv->keep(inv->keep_ud, name);

		if (hidden != o->hidden)
			inv->types[type].struct_gen++;
		o->hidden = hidden;
	}
	/* applied as unset (value NULL), and said: unreadable is not unset */
	if (c->fault)
		return unreadable(c, e);
	return check_value(o, c->path, c->value, e);
}

void inventory_unmark(struct inventory *inv)
{
	for (size_t i = 0; i < inv->ntypes; i++) {
		for (struct inv_obj *o = inv->types[i].head; o; o = o->next)
			o->seen = false;
	}
}

void inventory_sweep(struct inventory *inv)
{
	for (size_t i = 0; i < inv->ntypes; i++) {
		struct inv_obj *o = inv->types[i].head;

		while (o) {
			struct inv_obj *next = o->next;

			if (!o->seen) {
				inv->types[i].gen++;
				inv->types[i].struct_gen++;
				obj_remove(inv, o);
			}
			o = next;
		}
	}
}

size_t inventory_expire_tasks(struct inventory *inv, double now, double retention)
{
	int type = inventory_type_index(inv, "Task");
	struct inv_obj *o;
	size_t n = 0;

	if (type < 0)
		return 0;
	o = inv->types[type].head;
	while (o) {
		struct inv_obj *next = o->next;
		const struct vi_task_info *t = o->task;

		if (t && t->state &&
		    (strcmp(t->state, "success") == 0 || strcmp(t->state, "error") == 0) &&
		    t->complete_time > 0 && now - t->complete_time > retention) {
			inv->types[type].gen++;
			inv->types[type].struct_gen++;
			obj_remove(inv, o);
			n++;
		}
		o = next;
	}
	return n;
}

void inventory_set_name_filter(struct inventory *inv, const char *type,
			       bool (*keep)(void *ud, const char *name), void *ud)
{
	inv->filter_type = type;
	inv->keep = keep;
	inv->keep_ud = ud;
}

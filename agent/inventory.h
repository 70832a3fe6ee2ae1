/* agent/inventory: one target's managed objects by moref, updated change by change. */
#ifndef VIMON_AGENT_INVENTORY_H
#define VIMON_AGENT_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/collector.h"
#include "util/err.h"
#include "vi/pc.h"
#include "vi/question.h"
#include "vi/task.h"

#define INV_MAX_TYPES 16
#define INV_MAX_SLOTS 64
#define INV_MAX_FETCH 32
#define INV_UNSET     UINT32_MAX
#define INV_MAX_VALUE 4096 /* longer values are cut (a hostile server cannot bloat us) */

/* A stored value: either a fetched path or a leaf below one. */
struct inv_slot {
	const char *path; /* full path, borrowed from a collector table */
	int fetch;	  /* index of the fetched path it comes from */
	const char *rest; /* path below the fetched one ("balloonedMemory"), NULL: itself */
	enum col_store store;
};

/* Everything known about one managed-object type: what is fetched, what is kept. */
struct inv_type {
	const char *name;
	const char *fetch[INV_MAX_FETCH + 1]; /* NULL-terminated, for struct vi_prop_spec */
	enum col_store fetch_store[INV_MAX_FETCH];
	size_t nfetch;
	struct inv_slot slots[INV_MAX_SLOTS]; /* slots[i] for i < nfetch is fetch[i] itself */
	size_t nslots;
	bool by_task_manager;
	size_t count;		  /* objects of this type */
	unsigned long gen;	  /* bumped by every change to an object of this type */
	unsigned long struct_gen; /* bumped when an object of this type enters or leaves, or
				   * the name filter hides or shows one */
	unsigned long slot_gen[INV_MAX_SLOTS]; /* bumped when a value of that slot changes */
	struct inv_obj *head;		       /* objects of this type, in order of arrival */
	struct inv_obj *tail;
};

struct inv_obj {
	struct inv_obj *hnext; /* hash chain */
	struct inv_obj *prev;  /* list of the type */
	struct inv_obj *next;
	unsigned type;		      /* index into inventory.types */
	bool seen;		      /* mark for inventory_sweep() */
	uint32_t *off;		      /* nslots offsets into blob, INV_UNSET when unset */
	char *blob;		      /* the set values, NUL-terminated each (and old ones) */
	size_t blob_len, blob_cap;    /* bytes used and allocated */
	struct vi_question *question; /* parsed runtime.question, or NULL */
	char *question_id;	      /* id of the question first_seen belongs to */
	double question_first_seen;   /* seconds since the epoch */
	struct vi_task_info *task;    /* parsed Task.info, or NULL */
	char *moref;		      /* stored with the object */
	bool hidden;		      /* the name filter left it out: kept, but rendered nowhere */
	unsigned long gen;	      /* its type's gen when one of its values last changed */
};

struct inventory {
	struct inv_type types[INV_MAX_TYPES];
	size_t ntypes;
	struct inv_obj **buckets;
	size_t nbuckets;
	size_t count;
	/* the name filter (inventory_set_name_filter), or keep NULL */
	const char *filter_type;
	bool (*keep)(void *ud, const char *name);
	void *keep_ud;
};

/*
 * New empty inventory for the given collectors (their types, fetched paths
 * and the leaves their rows read). *out (NULL on entry) is the caller's
 * (inventory_free). -1 with e set (ERR_NOMEM, or ERR_INVALID when the tables
 * exceed the fixed limits above).
 */
int inventory_new(const struct collector *const *cols, size_t ncols, struct inventory **out,
		  struct err *e);

/*
 * Objects of type whose `name` keep() refuses are marked hidden when their
 * name arrives or changes (keep gets the name as stored, percent-encoded). They
 * stay in the inventory (the server still sends them) but render no series and
 * no API object. keep NULL: no filter.
 */
void inventory_set_name_filter(struct inventory *inv, const char *type,
			       bool (*keep)(void *ud, const char *name), void *ud);

/* Frees everything. NULL is fine. */
void inventory_free(struct inventory *inv);

/*
 * Applies one property change (enter, modify, leave) from vi_pc_wait() or
 * vi_pc_retrieve(). Objects of types not collected are ignored. now (seconds
 * since the epoch) stamps a question seen for the first time. Entering or
 * modified objects are marked seen. 0, or -1 with e set (ERR_NOMEM;
 * ERR_PARSE when a question or task info does not parse; ERR_FAULT with the
 * fault type when the server reported the property or object unreadable
 * (vi_change.fault): the change is applied all the same, as unset or leave).
 */
int inventory_apply(struct inventory *inv, const struct vi_change *c, double now, struct err *e);

/* The object with that moref value (and type, when type is not NULL), or NULL. Borrowed. */
struct inv_obj *inventory_find(const struct inventory *inv, const char *type, const char *moref);

/* Index of the type, or -1. */
int inventory_type_index(const struct inventory *inv, const char *type);

/* Slot index of a path of a type, or -1. */
int inventory_slot(const struct inventory *inv, unsigned type, const char *path);

/* The stored text of a slot (NULL when unset or slot < 0). Borrowed. */
const char *inventory_value(const struct inv_obj *o, int slot);

/*
 * Drops the Task objects that finished (success or error) more than retention
 * seconds before now (by info.completeTime), as if they had left: they no
 * longer show in vsphere_task_info or the API. A finished task does not change
 * again, so the server does not bring it back (a resync does; it is dropped
 * again). Returns how many were dropped.
 */
size_t inventory_expire_tasks(struct inventory *inv, double now, double retention);

/* Resync: clear every seen mark, then (after a full update set) drop the objects
 * that were not seen again. Question first-seen times of surviving VMs stay. */
void inventory_unmark(struct inventory *inv);
void inventory_sweep(struct inventory *inv);

#endif

/* agent/snapshot: one target's rendered state, immutable once published, swapped atomically. */
#ifndef VIMON_AGENT_SNAPSHOT_H
#define VIMON_AGENT_SNAPSHOT_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

/* One metric family of one target: sample lines only (no HELP/TYPE), so that
 * /metrics can merge targets family by family with one HELP/TYPE each. */
struct snap_family {
	char *name; /* "vsphere_vm_power_state" */
	char *help;
	const char *type; /* "gauge", "counter", "histogram" (static string) */
	char *samples;	  /* lines "name{labels} value\n" */
	size_t len;
	int *shared; /* internal: references to samples when shared between snapshots, or NULL */
};

/*
 * Published by the target's collection thread, read by HTTP threads. Never
 * changed after publication; freed when the last reference goes.
 */
struct snapshot {
	unsigned long generation;     /* increases with every publication of a target */
	struct snap_family *families; /* sorted by name, names unique */
	size_t nfamilies;
	json_t *target;	   /* object: name, url, up, last_update, last_error, ... */
	json_t *questions; /* array of question objects (see docs/api.md) */
	json_t *tasks;	   /* array of task objects */
	int refs;	   /* atomic */
};

/* A slot holding the current snapshot of one target. */
struct snapshot_slot {
	pthread_mutex_t lock;
	struct snapshot *cur;
};

/* New empty snapshot with one reference; NULL when out of memory. */
struct snapshot *snapshot_new(void);

/* Adds a family (strings copied; samples may be empty). 0 or -1. The
 * families must be added in name order or sorted with snapshot_sort(). */
int snapshot_add_family(struct snapshot *s, const char *name, const char *help, const char *type,
			const char *samples, size_t len);
void snapshot_sort(struct snapshot *s);

/* Adds a family taking ownership of samples (malloc'd, NUL-terminated at len;
 * freed here on failure too). 0 or -1. */
int snapshot_add_family_take(struct snapshot *s, const char *name, const char *help,
			     const char *type, char *samples, size_t len);

/* Adds a family whose samples are shared with src (a family of another
 * snapshot, which may be published): no copy of the sample text. 0 or -1. */
int snapshot_share_family(struct snapshot *s, struct snap_family *src);

/* Makes every family of s shareable from any thread: snapshot_share_family()
 * may then be called on them by a thread that did not build s (it otherwise
 * must not). Call before s is handed to another thread. 0, or -1 when out of
 * memory. */
int snapshot_make_shareable(struct snapshot *s);

void snapshot_ref(struct snapshot *s);
/* Drops a reference; frees at zero. NULL is fine. */
void snapshot_put(struct snapshot *s);

void snapshot_slot_init(struct snapshot_slot *slot);
void snapshot_slot_destroy(struct snapshot_slot *slot);
/* Publishes s (the slot takes the caller's reference) and drops the old one. */
void snapshot_slot_swap(struct snapshot_slot *slot, struct snapshot *s);
/* The current snapshot with a reference for the caller (snapshot_put), or NULL. */
struct snapshot *snapshot_slot_get(struct snapshot_slot *slot);

#endif

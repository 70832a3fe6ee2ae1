/* agent/render: Prometheus sample lines and JSON objects for one target's inventory. */
#ifndef VIMON_AGENT_RENDER_H
#define VIMON_AGENT_RENDER_H

#include <jansson.h>
#include <stdbool.h>

#include "agent/inventory.h"
#include "agent/snapshot.h"
#include "collectors/collector.h"
#include "util/buf.h"
#include "util/err.h"

/*
 * For the tests (the target renders collector by collector with
 * render_collector): adds to s one family per metric row of each collector in cols (helpers add
 * none), with the samples of every object of the collector's type in inv.
 * Every sample carries target="<target>". now (seconds since the epoch) is
 * used for ages (question pending, task running). Families are added unsorted:
 * call snapshot_sort() after adding the others. 0, or -1 with e set (ERR_NOMEM).
 */
int render_collectors(const struct inventory *inv, const struct collector *const *cols,
		      size_t ncols, const char *target, double now, struct snapshot *s,
		      struct err *e);

/* Metric rows of one collector that render_collector takes. */
#define RENDER_MAX_ROWS 48

/* A row's family as it was last rendered, for render_collector to keep what
 * did not change. */
struct render_prev {
	const struct snap_family *fam; /* NULL: render every object */
	unsigned long since;	       /* the type's gen (inventory.h) when fam was rendered */
};

/*
 * Like render_collectors for one collector, adding only the families of the
 * rows r with want[r] true (want NULL: every row). A helper adds none.
 *
 * prev (NULL: none) has one entry per row: a row whose prev[r].fam is set
 * keeps that family's segment of each chunk of SNAP_SEG_OBJECTS objects none
 * of which changed since prev[r].since (their gen is not newer), so that the
 * cost of a render follows the objects that changed, not the inventory. The
 * caller sets fam only when render_row_ctx_gen() of the row is what it was
 * then (the same objects are rendered, with the same names resolved).
 * Question and task rows (their ages grow with time) are always rendered.
 */
int render_collector(const struct inventory *inv, const struct collector *c, const bool *want,
		     const struct render_prev *prev, const char *target, double now,
		     struct snapshot *s, struct err *e);

/*
 * A number that changes whenever the objects row r of c renders come or go
 * (including hidden or shown by the name filter), or names it resolves from
 * other objects (hosts, clusters, ...) change: what render_collector's chunk
 * reuse needs to be the same.
 */
unsigned long render_row_ctx_gen(const struct inventory *inv, const struct collector *c, size_t r);

/*
 * A number that changes whenever row r of c may render differently (values it
 * reads changed, objects of its type came or went, names it resolves changed);
 * time-dependent rows (question and task ages) are not covered by it.
 */
unsigned long render_row_gen(const struct inventory *inv, const struct collector *c, size_t r);

/*
 * Fills s->questions and s->tasks (replacing what they held) with the JSON
 * objects of docs/api.md for every pending question and every recent task in
 * inv. *active_tasks (may be NULL) tells whether one of the tasks is queued or
 * running (its age grows with time). 0, or -1 with e set (ERR_NOMEM).
 */
int render_json(const struct inventory *inv, const char *target, double now, struct snapshot *s,
		bool *active_tasks, struct err *e);

/*
 * The objects of collector c (vm, host, datastore) for the JSON API: per
 * object "target", "id", "name" (decoded), then one member per metric row,
 * named after the family without "vsphere_<subject>_": gauges as numbers in
 * base units (null without a sample; the same values as /metrics), state sets
 * as the state string, info rows as their labels. Rendered once here so that
 * requests only copy text. prev (may be NULL) is the previous rendering of the
 * same collector and target: the text of an object whose values and resolved
 * names did not change is copied from it instead of rendered again. *out (NULL
 * on entry) has one reference for the caller (snap_objects_put). 0, or -1
 * with e set (ERR_NOMEM).
 */
int render_objects(const struct inventory *inv, const struct collector *c, const char *target,
		   double now, const struct snap_objects *prev, struct snap_objects **out,
		   struct err *e);

/* A new JSON string holding s (NULL: ""), with invalid UTF-8 bytes replaced
 * by U+FFFD. NULL only when out of memory. */
json_t *render_json_string(const char *s);

/* Appends a sample value: integers exactly, other numbers in the shortest form
 * (15 to 17 significant digits) that reads back as the same double. */
void render_value(struct buf *b, double v);

/* Appends the percent-decoded, label-escaped form of a vSphere entity name
 * (used for the name labels here; exported for its unit test). */
void render_name_label(struct buf *b, const char *name);

#endif

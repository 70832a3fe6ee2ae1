/* agent/api: the JSON API bodies (/api/v1/targets, questions, tasks) from the targets' snapshots. */
#ifndef VIMON_AGENT_API_H
#define VIMON_AGENT_API_H

#include <jansson.h>
#include <stddef.h>

#include "agent/snapshot.h"

enum api_list {
	API_TARGETS,   /* each snapshot's target object */
	API_QUESTIONS, /* every snapshot's questions, concatenated */
	API_TASKS,     /* every snapshot's tasks, concatenated */
};

/*
 * Renders one JSON array (followed by a newline) from snaps (n snapshots,
 * NULL entries skipped), in snapshot order. Question and task objects that do
 * not name their target get a "target" member (the target object's "name").
 * Returns a malloc'd string of *len bytes the caller frees, or NULL when out
 * of memory.
 */
char *api_render(enum api_list what, struct snapshot *const *snaps, size_t n, size_t *len);

/* Task states for api_render_tasks (bits). */
enum {
	API_TASK_QUEUED = 1 << 0,
	API_TASK_RUNNING = 1 << 1,
	API_TASK_SUCCESS = 1 << 2,
	API_TASK_ERROR = 1 << 3,
	API_TASK_ALL = (1 << 4) - 1,
};

/*
 * Parses the value of ?state= into API_TASK_* bits: a comma-separated list of
 * queued, running, success, error, and "active" (queued and running). NULL or
 * "" is every state. 0, or -1 for anything else.
 */
int api_task_states(const char *arg, unsigned *states);

/* Like api_render(API_TASKS, ...) keeping only the tasks whose "state" is in
 * states (API_TASK_* bits). */
char *api_render_tasks(struct snapshot *const *snaps, size_t n, unsigned states, size_t *len);

/* Filters of an object list; NULL members match everything. */
struct api_filter {
	const char *target; /* the target's name */
	const char *name;   /* exact decoded display name */
	const char *id;	    /* managed object id ("vm-42") */
};

/*
 * Renders the JSON array of the objects of one kind (/api/v1/vms, hosts,
 * datastores) of snaps matching f, from the text the collection threads
 * rendered (a name or id costs a binary search, not a scan). Returns a
 * malloc'd string of *len bytes the caller frees, or NULL when out of memory.
 */
char *api_render_objects(enum snap_kind kind, struct snapshot *const *snaps, size_t n,
			 const struct api_filter *f, size_t *len);

/*
 * The JSON text of v as the API serves it (indented, members in order) followed by a
 * newline: a malloc'd string of *len bytes the caller frees, or NULL (*len 0) when out of
 * memory.
 */
char *api_json_text(const json_t *v, size_t *len);

#endif

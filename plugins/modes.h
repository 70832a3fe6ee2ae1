/* plugins/modes: check_vsphere's modes, evaluated from the agent's JSON API objects. */
#ifndef VIMON_PLUGINS_MODES_H
#define VIMON_PLUGINS_MODES_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>

#include "plugins/plugin.h"

enum chk_mode {
	CHK_QUESTIONS,
	CHK_TASKS,
	CHK_VM,
	CHK_VM_MEMORY,
	CHK_HOST,
	CHK_DATASTORE,
	CHK_TARGET,
	CHK_MODES,
};

/* What the command line asked for (strings borrowed from argv or the extra-opts file). */
struct chk_opts {
	enum chk_mode mode;
	const char *url; /* the agent's base URL, "http://127.0.0.1:9743" */
	const char *target;
	double timeout;
	double max_age;
	int verbose;
	struct plugin_range warn, crit; /* parsed, defaults filled per mode */
	const char *name, *id;
	const char *vm; /* questions --vm */
	const char *power;
	const char *metric;
	bool percent;
	bool free;
	enum plugin_state maintenance; /* host --maintenance-state */
	bool has_include, has_exclude;
	regex_t include, exclude;
	bool direct;
	const char *conf;
};

/* "questions" -> CHK_QUESTIONS; -1 when unknown. */
int chk_mode_parse(const char *s);
/* "QUESTIONS", "VM-MEMORY", ... (for the output's first line). */
const char *chk_mode_title(enum chk_mode m);
const char *chk_mode_name(enum chk_mode m);

/*
 * What a mode evaluates: the target objects (array, from /api/v1/targets) and
 * the mode's list (questions, tasks, vms, hosts or datastores, already
 * filtered by target, name or id on the server; NULL for the target mode).
 * Borrowed. now is seconds since the epoch.
 */
struct chk_data {
	json_t *targets;
	json_t *items;
	double now;
	/* what reading them cost (for -v): requests or vCenter calls, bytes received */
	unsigned long calls;
	size_t bytes;
	double seconds;
};

/* Evaluates o's mode on d into out. Never fails: problems are UNKNOWN states. */
void chk_evaluate(const struct chk_opts *o, const struct chk_data *d, struct plugin_output *out);

/* The member of an object as a number (false when missing or not a number). */
bool chk_number(json_t *obj, const char *key, double *out);
/* The member as a string, or "" (borrowed). */
const char *chk_string(json_t *obj, const char *key);

/* Appends "2m 5s", "3h 4m", "1d 2h" for a number of seconds. */
void chk_add_age(struct buf *b, double seconds);

/* Appends up to max names of items (objects with "name") closest to name by
 * edit distance, as "'a', 'b'". */
void chk_add_closest(struct buf *b, json_t *items, const char *name, size_t max);

#endif

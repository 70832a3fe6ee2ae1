/* collectors: what each subject collects and how property values become metric samples (data only). */
#ifndef VIMON_COLLECTORS_COLLECTOR_H
#define VIMON_COLLECTORS_COLLECTOR_H

#include <stddef.h>

/*
 * A collector is a static table: the managed-object type it reads, the
 * property paths it asks the property collector for, and one row per metric
 * family. Collectors do no I/O and keep no state; the agent builds one
 * property filter from all enabled collectors, keeps the values in its
 * inventory and renders the rows (agent/render.c). Adding a metric is one row.
 */

/* How a fetched property value is kept in the inventory. */
enum col_store {
	COL_STORE_TEXT,	    /* scalar text; a complex value is kept by its leaves (see below) */
	COL_STORE_COUNT,    /* an ArrayOf* value: the number of elements */
	COL_STORE_QUESTION, /* VirtualMachineQuestionInfo, parsed (vi/question.h) */
	COL_STORE_TASK,	    /* TaskInfo, parsed (vi/task.h) */
	/* VirtualMachineSnapshotInfo (vi/vmsnap.h): the value is the number of
	 * snapshots in the whole tree; the leaf COL_LEAF_OLDEST below it holds the
	 * createTime (xsd:dateTime) of the oldest one */
	COL_STORE_SNAPSHOT,
};

/*
 * A fetched path. A row may name a path below a fetched one
 * ("summary.quickStats.balloonedMemory" below "summary.quickStats"): the
 * inventory keeps that leaf as text whenever the fetched value changes, so a
 * change of one quickStats field costs one small update.
 */
/* The computed leaf of a COL_STORE_SNAPSHOT path ("snapshot.oldestCreateTime"). */
#define COL_LEAF_OLDEST "oldestCreateTime"

struct col_path {
	const char *path;
	enum col_store store;
};

/* Unit conversions to base units. */
enum col_conv {
	COL_CONV_NONE,
	COL_CONV_MB,   /* mebibytes -> bytes */
	COL_CONV_KB,   /* kibibytes -> bytes */
	COL_CONV_MHZ,  /* megahertz -> hertz */
	COL_CONV_BOOL, /* "true"/"false" -> 1/0 */
	COL_CONV_TIME, /* xsd:dateTime -> seconds since the epoch */
};

enum col_kind {
	COL_GAUGE,    /* one sample per object: the converted value */
	COL_STATESET, /* one sample per possible state, 1 for the current one */
	COL_INFO,     /* value 1, labels from the row's labels */
	COL_SPECIAL,  /* samples written by the collector's special shape (question, task) */
};

/* How an info label's text is obtained from the path's value. */
enum col_resolve {
	COL_RES_TEXT,		 /* the value as it stands */
	COL_RES_NAME,		 /* the value is a moref: the (decoded) name of that object */
	COL_RES_CLUSTER,	 /* the value is a HostSystem moref: its cluster's name */
	COL_RES_DATACENTER,	 /* the value is a moref: the name of its datacenter */
	COL_RES_SELF_CLUSTER,	 /* the object itself is a host: its cluster's name */
	COL_RES_SELF_DATACENTER, /* the object itself: its datacenter's name */
	COL_RES_DECODE,		 /* the value is a percent-encoded name: decoded */
};

struct col_label {
	const char *label; /* Prometheus label name */
	const char *path;  /* property path (may be NULL for COL_RES_SELF_*) */
	enum col_resolve resolve;
};

struct col_metric {
	const char *family; /* full family name, "vsphere_vm_power_state" */
	const char *help;
	enum col_kind kind;
	const char *path; /* property path read (gauge, state set) */
	/* optional arithmetic on numbers before conversion:
	 * path * mul - minus + plus; an unset path or mul gives no sample (or dflt),
	 * an unset minus or plus counts 0 */
	const char *mul;
	const char *minus;
	const char *plus;
	enum col_conv conv;
	const char *dflt;	   /* value text when the property is unset (NULL: no sample) */
	const char *state_label;   /* state set: label name ("state") */
	const char *const *states; /* state set: NULL-terminated possible states */
	const struct col_label *labels; /* info: labels, terminated by a {NULL} entry */
	const char *type;		/* Prometheus type; NULL means "gauge" */
};

/* Special shapes a collector may have besides its rows. */
enum col_special {
	COL_SPECIAL_NONE,
	COL_SPECIAL_QUESTION, /* pending questions of VMs (runtime.question) */
	COL_SPECIAL_TASK,     /* recent tasks (TaskManager.recentTask -> Task.info) */
};

struct collector {
	const char *name; /* "vm", "host", ... */
	int helper;	  /* 1: no metrics of its own; names for other collectors' labels */
	const char *type; /* managed-object type */
	const struct col_path *paths;	  /* fetched paths, terminated by a {NULL} entry */
	const char *name_label;		  /* label carrying the decoded `name` ("vm"), or NULL */
	const char *id_label;		  /* label carrying the moref ("vm_id"), or NULL */
	const struct col_metric *metrics; /* rows, terminated by a {NULL} entry */
	enum col_special special;
	int by_task_manager; /* 1: reached through TaskManager.recentTask, not the view */
};

/* The registry: every collector, helpers included, NULL-terminated. */
extern const struct collector *const col_registry[];

/* The empty row table of the helpers ({NULL}). */
extern const struct col_metric col_no_metrics[];

/* ManagedEntityStatus values (overallStatus, heartbeat, alarm states), NULL-terminated. */
extern const char *const col_entity_status[];

/* The collector of that name, or NULL. Borrowed (static). */
const struct collector *col_find(const char *name);

/* Number of metric rows of c. */
size_t col_nmetrics(const struct collector *c);

/* Index of path among c's fetched paths, or -1. */
int col_path_index(const struct collector *c, const char *path);

/* The individual collectors (collectors/<name>.c). */
extern const struct collector col_vm;
extern const struct collector col_host;
extern const struct collector col_datastore;
extern const struct collector col_question;
extern const struct collector col_task;
extern const struct collector col_cluster;
/* Clusters' health (overallStatus, triggered alarms); collected with `host`. */
extern const struct collector col_cluster_health;
extern const struct collector col_compute;
extern const struct collector col_datacenter;
extern const struct collector col_folder;
extern const struct collector col_task_manager;
/* Helper: VMs' runtime.question without the question families, so that tasks can
 * say they are blocked when `question` is not collected. */
extern const struct collector col_vm_question;
/* Helper: hosts' name and parent only, for the VMs' host, cluster and datacenter
 * labels when `host` is not collected (its other properties change often). */
extern const struct collector col_host_placement;

#endif

/* collectors/registry: the list of every collector, and the helpers that name placements. */
#include <string.h>

#include "collectors/collector.h"

/* Placement helpers: names and parents so labels can say host, cluster, datacenter. */
static const struct col_path placement_paths[] = {
	{"name", COL_STORE_TEXT},
	{"parent", COL_STORE_TEXT},
	{NULL, 0},
};

const struct col_metric col_no_metrics[] = {{NULL}};

const char *const col_entity_status[] = {"gray", "green", "yellow", "red", NULL};

static const struct col_path cluster_health_paths[] = {
	{"name", COL_STORE_TEXT},
	{"overallStatus", COL_STORE_TEXT},
	{"triggeredAlarmState", COL_STORE_COUNT},
	{NULL, 0},
};

static const struct col_metric cluster_health_metrics[] = {
	{.family = "vsphere_cluster_overall_status",
	 .help = "Cluster health as vCenter shows it (overallStatus), one series per status.",
	 .kind = COL_STATESET,
	 .path = "overallStatus",
	 .dflt = "gray",
	 .state_label = "status",
	 .states = col_entity_status},
	{.family = "vsphere_cluster_alarms_triggered",
	 .help = "Alarms triggered on the cluster (triggeredAlarmState).",
	 .kind = COL_GAUGE,
	 .path = "triggeredAlarmState",
	 .dflt = "0"},
	{NULL},
};

const struct collector col_cluster_health = {
	.name = "cluster_health",
	.type = "ClusterComputeResource",
	.paths = cluster_health_paths,
	.name_label = "cluster",
	.id_label = "cluster_id",
	.metrics = cluster_health_metrics,
};

const struct collector col_cluster = {
	.name = "cluster",
	.type = "ClusterComputeResource",
	.paths = placement_paths,
	.metrics = col_no_metrics,
	.helper = 1,
};

const struct collector col_compute = {
	.name = "compute",
	.type = "ComputeResource",
	.paths = placement_paths,
	.metrics = col_no_metrics,
	.helper = 1,
};

const struct collector col_datacenter = {
	.name = "datacenter",
	.type = "Datacenter",
	.paths = placement_paths,
	.metrics = col_no_metrics,
	.helper = 1,
};

const struct collector col_host_placement = {
	.name = "host_placement",
	.type = "HostSystem",
	.paths = placement_paths,
	.metrics = col_no_metrics,
	.helper = 1,
};

const struct collector col_folder = {
	.name = "folder",
	.type = "Folder",
	.paths = placement_paths,
	.metrics = col_no_metrics,
	.helper = 1,
};

const struct collector *const col_registry[] = {
	&col_vm,
	&col_host,
	&col_datastore,
	&col_question,
	&col_task,
	&col_cluster,
	&col_compute,
	&col_datacenter,
	&col_folder,
	&col_task_manager,
	&col_vm_question,
	&col_host_placement,
	&col_cluster_health,
	NULL,
};

const struct collector *col_find(const char *name)
{
	for (size_t i = 0; col_registry[i]; i++) {
		if (strcmp(col_registry[i]->name, name) == 0)
			return col_registry[i];
	}
	return NULL;
}

size_t col_nmetrics(const struct collector *c)
{
	size_t n = 0;

	while (c->metrics[n].family)
		n++;
	return n;
}

int col_path_index(const struct collector *c, const char *path)
{
	for (int i = 0; c->paths[i].path; i++) {
		if (strcmp(c->paths[i].path, path) == 0)
			return i;
	}
	return -1;
}

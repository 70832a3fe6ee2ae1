/* collectors/datastore: storage pools: capacity, free and provisioned space, accessibility. */
#include "collectors/collector.h"

static const struct col_path ds_paths[] = {
	{"name", COL_STORE_TEXT},
	{"summary", COL_STORE_TEXT},
	{"host", COL_STORE_COUNT},
	{"vm", COL_STORE_COUNT},
	{NULL, 0},
};

static const char *const maintenance_modes[] = {"normal", "enteringMaintenance", "inMaintenance",
						NULL};

static const struct col_label ds_info_labels[] = {
	{"type", "summary.type", COL_RES_TEXT},
	{"url", "summary.url", COL_RES_TEXT},
	{NULL, NULL, 0},
};

static const struct col_metric ds_metrics[] = {
	{.family = "vsphere_datastore_info",
	 .help = "Datastore identity: file system type and URL (value 1).",
	 .kind = COL_INFO,
	 .labels = ds_info_labels},
	{.family = "vsphere_datastore_capacity_bytes",
	 .help = "Datastore capacity (summary.capacity).",
	 .kind = COL_GAUGE,
	 .path = "summary.capacity"},
	{.family = "vsphere_datastore_free_bytes",
	 .help = "Free space on the datastore (summary.freeSpace).",
	 .kind = COL_GAUGE,
	 .path = "summary.freeSpace"},
	{.family = "vsphere_datastore_uncommitted_bytes",
	 .help = "Space promised to thin disks but not yet used (summary.uncommitted).",
	 .kind = COL_GAUGE,
	 .path = "summary.uncommitted",
	 .dflt = "0"},
	{.family = "vsphere_datastore_provisioned_bytes",
	 .help = "Space provisioned: capacity - freeSpace + uncommitted (summary).",
	 .kind = COL_GAUGE,
	 .path = "summary.capacity",
	 .minus = "summary.freeSpace",
	 .plus = "summary.uncommitted"},
	{.family = "vsphere_datastore_accessible",
	 .help = "1 when the datastore is accessible (summary.accessible).",
	 .kind = COL_GAUGE,
	 .path = "summary.accessible",
	 .conv = COL_CONV_BOOL},
	{.family = "vsphere_datastore_maintenance_mode",
	 .help = "Datastore maintenance mode (summary.maintenanceMode), one series per mode.",
	 .kind = COL_STATESET,
	 .path = "summary.maintenanceMode",
	 .dflt = "normal",
	 .state_label = "mode",
	 .states = maintenance_modes},
	{.family = "vsphere_datastore_hosts",
	 .help = "Hosts that mount the datastore (host).",
	 .kind = COL_GAUGE,
	 .path = "host",
	 .dflt = "0"},
	{.family = "vsphere_datastore_vms",
	 .help = "Virtual machines with files on the datastore (vm).",
	 .kind = COL_GAUGE,
	 .path = "vm",
	 .dflt = "0"},
	{NULL},
};

const struct collector col_datastore = {
	.name = "datastore",
	.type = "Datastore",
	.paths = ds_paths,
	.name_label = "datastore",
	.id_label = "datastore_id",
	.metrics = ds_metrics,
};

/* Unit tests: collectors + inventory + rendering, driven by synthetic property-change sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/family.h"
#include "agent/inventory.h"
#include "agent/render.h"
#include "agent/snapshot.h"
#include "collectors/collector.h"
#include "util/buf.h"
#include "util/log.h"
#include "tests/support/testutil.h"
#include "vi/xml.h"

static const struct collector *const all_cols[] = {
	&col_vm,     &col_host,		&col_datastore,	     &col_question,
	&col_task,   &col_cluster,	&col_compute,	     &col_datacenter,
	&col_folder, &col_task_manager, &col_cluster_health,
};
#define NCOLS (sizeof(all_cols) / sizeof(all_cols[0]))
/* One step of a synthetic change sequence. */
struct step {
	enum vi_obj_kind kind;
	const char *type;
	const char *moref;
	const char *path; /* NULL: the object itself (enter with no property, leave) */
	enum vi_prop_op op;
	const char *xml; /* "<returnval ...>...</returnval>", or NULL for no value */
};

#define TEXT(t, v) "<returnval xsi:type=\"xsd:" t "\">" v "</returnval>"
#define STR(v)	   TEXT("string", v)
#define INT(v)	   TEXT("int", v)
#define LONG(v)	   TEXT("long", v)
#define BOOL(v)	   TEXT("boolean", v)
#define MOREF(type, v)                                                                             \
	"<returnval type=\"" type "\" xsi:type=\"ManagedObjectReference\">" v "</returnval>"
#define SET(type, moref, path, xml)                                                                \
	{                                                                                          \
		VI_OBJ_MODIFY, type, moref, path, VI_OP_ASSIGN, xml                                \
	}
#define ENTER(type, moref, path, xml)                                                              \
	{                                                                                          \
		VI_OBJ_ENTER, type, moref, path, VI_OP_ASSIGN, xml                                 \
	}

static void apply_steps(struct inventory *inv, const struct step *steps, size_t n, double now)
{
	for (size_t i = 0; i < n; i++) {
		struct vi_node *v = steps[i].xml ? test_xml_value(steps[i].xml) : NULL;
		struct vi_change c = {steps[i].type, steps[i].moref, steps[i].kind,
				      steps[i].path, steps[i].op,    v,
				      NULL};
		struct err e = {0};

		if (inventory_apply(inv, &c, now, &e) < 0)
			fail_msg("step %zu (%s %s): %s", i, steps[i].moref,
				 steps[i].path ? steps[i].path : "", e.msg);
		vi_node_free(v);
	}
}

static struct inventory *new_inv(void)
{
	struct inventory *inv = NULL;
	struct err e = {0};

	assert_int_equal(inventory_new(all_cols, NCOLS, &inv, &e), 0);
	return inv;
}

static struct snapshot *render(struct inventory *inv, double now)
{
	struct snapshot *s = snapshot_new();
	struct err e = {0};

	assert_non_null(s);
	assert_int_equal(render_collectors(inv, all_cols, NCOLS, "vc1", now, s, &e), 0);
	assert_int_equal(render_json(inv, "vc1", now, s, NULL, &e), 0);
	snapshot_sort(s);
	return s;
}

static const char *fam(const struct snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nfamilies; i++) {
		if (strcmp(s->families[i].name, name) == 0)
			return test_family_text(&s->families[i]);
	}
	fail_msg("no family %s", name);
	return NULL;
}

#define assert_line(s, family, line)                                                               \
	do {                                                                                       \
		const char *text_ = fam(s, family);                                                \
		if (!test_has_line(text_, line))                                                   \
			fail_msg("missing line\n  %s\nin %s:\n%s", line, family, text_);           \
	} while (0)

#define assert_no_text(s, family, needle)                                                          \
	do {                                                                                       \
		const char *text_ = fam(s, family);                                                \
		if (strstr(text_, needle))                                                         \
			fail_msg("unexpected %s in %s:\n%s", needle, family, text_);               \
	} while (0)

static size_t count_lines(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

#define VM1 "target=\"vc1\",vm=\"web01\",vm_id=\"vm-1\""

/* A small placement: datacenter dc1 / folder host / cluster c1 / host esx1, and VM web01. */
static const struct step placement_steps[] = {
	ENTER("Datacenter", "datacenter-1", "name", STR("dc1")),
	ENTER("Folder", "group-h1", "name", STR("host")),
	SET("Folder", "group-h1", "parent", MOREF("Datacenter", "datacenter-1")),
	ENTER("ClusterComputeResource", "domain-c1", "name", STR("c1")),
	SET("ClusterComputeResource", "domain-c1", "parent", MOREF("Folder", "group-h1")),
	ENTER("HostSystem", "host-1", "name", STR("esx1.example")),
	SET("HostSystem", "host-1", "parent", MOREF("ClusterComputeResource", "domain-c1")),
	SET("HostSystem", "host-1", "runtime.connectionState", STR("connected")),
	SET("HostSystem", "host-1", "runtime.powerState", STR("poweredOn")),
	SET("HostSystem", "host-1", "runtime.inMaintenanceMode", BOOL("false")),
	SET("HostSystem", "host-1", "runtime.bootTime", TEXT("dateTime", "2026-11-21T10:00:00Z")),
	SET("HostSystem", "host-1", "summary.hardware",
	    "<returnval xsi:type=\"HostHardwareSummary\"><vendor>ACME</vendor><model>X1</model>"
	    "<memorySize>68719476736</memorySize><cpuMhz>2400</cpuMhz><numCpuCores>16</numCpuCores>"
	    "</returnval>"),
	SET("HostSystem", "host-1", "summary.quickStats",
	    "<returnval "
	    "xsi:type=\"HostListSummaryQuickStats\"><overallCpuUsage>1200</overallCpuUsage>"
	    "<overallMemoryUsage>2048</overallMemoryUsage><uptime>7200</uptime></returnval>"),
	ENTER("VirtualMachine", "vm-1", "name", STR("web01")),
	SET("VirtualMachine", "vm-1", "runtime.powerState", STR("poweredOn")),
	SET("VirtualMachine", "vm-1", "runtime.connectionState", STR("connected")),
	SET("VirtualMachine", "vm-1", "runtime.host", MOREF("HostSystem", "host-1")),
	SET("VirtualMachine", "vm-1", "summary.runtime.bootTime",
	    TEXT("dateTime", "2026-11-21T11:00:00.5Z")),
	SET("VirtualMachine", "vm-1", "config.uuid", STR("4213-abcd")),
	SET("VirtualMachine", "vm-1", "config.guestFullName", STR("Debian GNU/Linux 12 (64-bit)")),
	SET("VirtualMachine", "vm-1", "config.guestId", STR("debian12_64Guest")),
	SET("VirtualMachine", "vm-1", "config.hardware.numCPU", INT("4")),
	SET("VirtualMachine", "vm-1", "config.hardware.memoryMB", INT("8192")),
	SET("VirtualMachine", "vm-1", "summary.quickStats",
	    "<returnval "
	    "xsi:type=\"VirtualMachineQuickStats\"><overallCpuUsage>250</overallCpuUsage>"
	    "<guestMemoryUsage>512</guestMemoryUsage><hostMemoryUsage>4200</hostMemoryUsage>"
	    "<guestHeartbeatStatus>green</guestHeartbeatStatus><grantedMemory>8192</grantedMemory>"
	    "<privateMemory>4000</privateMemory><sharedMemory>100</sharedMemory>"
	    "<swappedMemory>0</swappedMemory><balloonedMemory>64</balloonedMemory>"
	    "<consumedOverheadMemory>104</consumedOverheadMemory>"
	    "<compressedMemory>2048</compressedMemory><uptimeSeconds>3600</uptimeSeconds>"
	    "</returnval>"),
};

static struct inventory *placement(void)
{
	struct inventory *inv = new_inv();

	apply_steps(inv, placement_steps, sizeof(placement_steps) / sizeof(placement_steps[0]),
		    1000);
	return inv;
}

/* ---------- VMs ---------- */

static void test_vm_families(void **state)
{
	struct inventory *inv = placement();
	struct snapshot *s = render(inv, 2000);

	(void)state;
	assert_line(s, "vsphere_vm_info",
		    "vsphere_vm_info{" VM1
		    ",uuid=\"4213-abcd\",host=\"esx1.example\",host_id=\"host-1\","
		    "cluster=\"c1\",datacenter=\"dc1\",guest_os=\"Debian GNU/Linux 12 (64-bit)\","
		    "guest_id=\"debian12_64Guest\"} 1");
	assert_line(s, "vsphere_vm_power_state",
		    "vsphere_vm_power_state{" VM1 ",state=\"poweredOn\"} 1");
	assert_line(s, "vsphere_vm_power_state",
		    "vsphere_vm_power_state{" VM1 ",state=\"poweredOff\"} 0");
	assert_line(s, "vsphere_vm_power_state",
		    "vsphere_vm_power_state{" VM1 ",state=\"suspended\"} 0");
	assert_int_equal(count_lines(fam(s, "vsphere_vm_power_state")), 3);
	assert_int_equal(count_lines(fam(s, "vsphere_vm_connection_state")), 5);
	assert_line(s, "vsphere_vm_guest_heartbeat_status",
		    "vsphere_vm_guest_heartbeat_status{" VM1 ",status=\"green\"} 1");
	assert_line(s, "vsphere_vm_guest_heartbeat_status",
		    "vsphere_vm_guest_heartbeat_status{" VM1 ",status=\"gray\"} 0");
	assert_line(s, "vsphere_vm_boot_timestamp_seconds",
		    "vsphere_vm_boot_timestamp_seconds{" VM1 "} 1795258800.5");
	assert_line(s, "vsphere_vm_uptime_seconds", "vsphere_vm_uptime_seconds{" VM1 "} 3600");
	assert_line(s, "vsphere_vm_cpus", "vsphere_vm_cpus{" VM1 "} 4");
	assert_line(s, "vsphere_vm_cpu_usage_hertz",
		    "vsphere_vm_cpu_usage_hertz{" VM1 "} 250000000");
	assert_line(s, "vsphere_vm_memory_configured_bytes",
		    "vsphere_vm_memory_configured_bytes{" VM1 "} 8589934592");
	assert_line(s, "vsphere_vm_memory_granted_bytes",
		    "vsphere_vm_memory_granted_bytes{" VM1 "} 8589934592");
	/* consumed = hostMemoryUsage - consumedOverheadMemory = 4096 MB */
	assert_line(s, "vsphere_vm_memory_consumed_bytes",
		    "vsphere_vm_memory_consumed_bytes{" VM1 "} 4294967296");
	assert_line(s, "vsphere_vm_memory_host_usage_bytes",
		    "vsphere_vm_memory_host_usage_bytes{" VM1 "} 4404019200");
	assert_line(s, "vsphere_vm_memory_guest_active_bytes",
		    "vsphere_vm_memory_guest_active_bytes{" VM1 "} 536870912");
	assert_line(s, "vsphere_vm_memory_ballooned_bytes",
		    "vsphere_vm_memory_ballooned_bytes{" VM1 "} 67108864");
	assert_line(s, "vsphere_vm_memory_swapped_bytes",
		    "vsphere_vm_memory_swapped_bytes{" VM1 "} 0");
	assert_line(s, "vsphere_vm_memory_shared_bytes",
		    "vsphere_vm_memory_shared_bytes{" VM1 "} 104857600");
	/* compressedMemory is in KB */
	assert_line(s, "vsphere_vm_memory_compressed_bytes",
		    "vsphere_vm_memory_compressed_bytes{" VM1 "} 2097152");
	assert_line(s, "vsphere_vm_memory_private_bytes",
		    "vsphere_vm_memory_private_bytes{" VM1 "} 4194304000");
	assert_line(s, "vsphere_vm_memory_overhead_bytes",
		    "vsphere_vm_memory_overhead_bytes{" VM1 "} 109051904");
	/* families are sorted and unique */
	for (size_t i = 1; i < s->nfamilies; i++)
		assert_true(strcmp(s->families[i - 1].name, s->families[i].name) < 0);
	snapshot_put(s);
	inventory_free(inv);
}

/* A state newer than our table: state="other" 1, every known state 0. */
static void test_unknown_state(void **state)
{
	struct inventory *inv = placement();
	struct snapshot *s;
	static const struct step steps[] = {
		SET("VirtualMachine", "vm-1", "runtime.powerState", STR("hibernating")),
	};

	(void)state;
	apply_steps(inv, steps, 1, 1000);
	s = render(inv, 1000);
	assert_line(s, "vsphere_vm_power_state",
		    "vsphere_vm_power_state{" VM1 ",state=\"other\"} 1");
	assert_line(s, "vsphere_vm_power_state",
		    "vsphere_vm_power_state{" VM1 ",state=\"poweredOn\"} 0");
	assert_line(s, "vsphere_vm_power_state",
		    "vsphere_vm_power_state{" VM1 ",state=\"poweredOff\"} 0");
	snapshot_put(s);
	inventory_free(inv);
}

/* Unknown states are logged (at debug) once per family and value, not once per process. */
static void test_unknown_state_logged(void **state)
{
	struct inventory *inv = placement();
	static const struct step steps[] = {
		SET("VirtualMachine", "vm-1", "runtime.powerState", STR("sleepingLog")),
		SET("VirtualMachine", "vm-1", "runtime.connectionState", STR("driftingLog")),
	};
	char path[] = "/tmp/test_collectors_log.XXXXXX";
	char text[4096];
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	log_set_level(LOG_LEVEL_DEBUG);
	dup2(fd, 2);
	apply_steps(inv, steps, 2, 1000);
	for (int i = 0; i < 3; i++)
		snapshot_put(render(inv, 1000 + i));
	dup2(saved, 2);
	close(saved);
	log_set_level(LOG_LEVEL_INFO);
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n > 0);
	text[n] = '\0';
	/* both families say it, each once, although rendered three times */
	assert_non_null(strstr(text, "vsphere_vm_power_state: state \"sleepingLog\""));
	assert_non_null(strstr(text, "vsphere_vm_connection_state: state \"driftingLog\""));
	assert_null(strstr(strstr(text, "sleepingLog") + 1, "sleepingLog"));
	assert_null(strstr(strstr(text, "driftingLog") + 1, "driftingLog"));
	inventory_free(inv);
}

/* Modify, unset, remove and leave reach the rendering; only that object changes. */
static void test_vm_changes(void **state)
{
	struct inventory *inv = placement();
	static const struct step changes[] = {
		ENTER("VirtualMachine", "vm-2", "name", STR("db01")),
		SET("VirtualMachine", "vm-2", "runtime.powerState", STR("poweredOff")),
		SET("VirtualMachine", "vm-1", "runtime.powerState", STR("suspended")),
		/* a quickStats field changed: the whole quickStats comes again */
		SET("VirtualMachine", "vm-1", "summary.quickStats",
		    "<returnval xsi:type=\"VirtualMachineQuickStats\">"
		    "<balloonedMemory>128</balloonedMemory>"
		    "<guestHeartbeatStatus>red</guestHeartbeatStatus></returnval>"),
		/* a leaf reported on its own also lands */
		SET("VirtualMachine", "vm-1", "summary.quickStats.swappedMemory", INT("3")),
		{VI_OBJ_MODIFY, "VirtualMachine", "vm-1", "config.hardware.numCPU", VI_OP_REMOVE,
		 NULL},
		SET("VirtualMachine", "vm-1", "summary.runtime.bootTime", NULL),
	};
	struct snapshot *s;

	(void)state;
	apply_steps(inv, changes, sizeof(changes) / sizeof(changes[0]), 1100);
	s = render(inv, 2000);
	assert_line(s, "vsphere_vm_power_state",
		    "vsphere_vm_power_state{" VM1 ",state=\"suspended\"} 1");
	assert_line(s, "vsphere_vm_power_state",
		    "vsphere_vm_power_state{" VM1 ",state=\"poweredOn\"} 0");
	assert_line(s, "vsphere_vm_power_state",
		    "vsphere_vm_power_state{target=\"vc1\",vm=\"db01\",vm_id=\"vm-2\","
		    "state=\"poweredOff\"} 1");
	assert_line(s, "vsphere_vm_memory_ballooned_bytes",
		    "vsphere_vm_memory_ballooned_bytes{" VM1 "} 134217728");
	assert_line(s, "vsphere_vm_memory_swapped_bytes",
		    "vsphere_vm_memory_swapped_bytes{" VM1 "} 3145728");
	/* fields absent from quickStats are 0 */
	assert_line(s, "vsphere_vm_memory_granted_bytes",
		    "vsphere_vm_memory_granted_bytes{" VM1 "} 0");
	assert_line(s, "vsphere_vm_guest_heartbeat_status",
		    "vsphere_vm_guest_heartbeat_status{" VM1 ",status=\"red\"} 1");
	/* removed and unset properties give no sample */
	assert_no_text(s, "vsphere_vm_cpus", "vm-1");
	assert_no_text(s, "vsphere_vm_boot_timestamp_seconds", "vm-1");
	/* db01 has no host: empty placement labels, no quickStats: zeros */
	assert_line(s, "vsphere_vm_info",
		    "vsphere_vm_info{target=\"vc1\",vm=\"db01\",vm_id=\"vm-2\",uuid=\"\",host=\"\","
		    "host_id=\"\",cluster=\"\",datacenter=\"\",guest_os=\"\",guest_id=\"\"} 1");
	snapshot_put(s);

	static const struct step leave[] = {
		{VI_OBJ_LEAVE, "VirtualMachine", "vm-1", NULL, VI_OP_ASSIGN, NULL},
	};
	apply_steps(inv, leave, 1, 1200);
	s = render(inv, 2000);
	assert_no_text(s, "vsphere_vm_info", "vm-1");
	assert_no_text(s, "vsphere_vm_power_state", "vm-1");
	assert_int_equal(count_lines(fam(s, "vsphere_vm_power_state")), 3);
	assert_null(inventory_find(inv, NULL, "vm-1"));
	assert_non_null(inventory_find(inv, "VirtualMachine", "vm-2"));
	snapshot_put(s);
	inventory_free(inv);
}

/* Names: percent-decoded for labels, then escaped; invalid UTF-8 replaced. */
static void test_odd_names(void **state)
{
	static const struct {
		const char *stored; /* as the API sends it (XML-escaped here) */
		const char *label;  /* what the exposition shows */
	} cases[] = {
		{"odd%2fslash", "odd/slash"},
		{"odd%5cback", "odd\\\\back"},
		{"odd%25percent", "odd%percent"},
		{"odd&quot;quote", "odd\\\"quote"},
		{"odd|pipe", "odd|pipe"},
		{"\xc3\xb6"
		 "dd \xc3\xbcn\xc3\xaf"
		 "c\xc3\xb6"
		 "d\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
		 "\xc3\xb6"
		 "dd \xc3\xbcn\xc3\xaf"
		 "c\xc3\xb6"
		 "d\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"},
		{"line%0abreak", "line\\nbreak"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inventory *inv = new_inv();
		char xml[256], line[512];
		struct step st[2] = {
			ENTER("VirtualMachine", "vm-9", "name", xml),
			SET("VirtualMachine", "vm-9", "runtime.powerState", STR("poweredOn")),
		};
		struct snapshot *s;

		snprintf(xml, sizeof(xml), STR("%s"), cases[i].stored);
		apply_steps(inv, st, 2, 1000);
		s = render(inv, 1000);
		snprintf(line, sizeof(line),
			 "vsphere_vm_power_state{target=\"vc1\",vm=\"%s\",vm_id=\"vm-9\","
			 "state=\"poweredOn\"} 1",
			 cases[i].label);
		assert_line(s, "vsphere_vm_power_state", line);
		snapshot_put(s);
		inventory_free(inv);
	}
}

/* A name with invalid UTF-8 (as a hostile server might send) stays valid UTF-8. */
static void test_invalid_utf8_label(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	render_name_label(&b, "bad\xff%2f");
	assert_string_equal(b.data, "bad\xef\xbf\xbd/");
	buf_release(&b);
}

/* Sample values: integers exactly, fractions in the shortest form that reads back. */
static void test_render_value(void **state)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{0, "0"},
		{-3, "-3"},
		{1048576.0 * 4096, "4294967296"},
		{0.005, "0.005"},
		{0.1, "0.1"},
		{0.25, "0.25"},
		{2.5, "2.5"},
		{1.0 / 3, "0.3333333333333333"},
		{0.1 + 0.2, "0.30000000000000004"},
		{1e-9, "1e-09"},
		{123.456, "123.456"},
		{-0.5, "-0.5"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{1795258800.5, "1795258800.5"},
		{1795979254.588237, "1795979254.588237"},
		{8589934592.25, "8589934592.25"},
		{12345678901.000002, "12345678901.000002"},
	};
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		render_value(&b, cases[i].v);
		assert_string_equal(b.data, cases[i].want);
		assert_true(strtod(b.data, NULL) == cases[i].v);
	}
	buf_release(&b);
}

/* ---------- hosts and datastores ---------- */

static void test_host_families(void **state)
{
	struct inventory *inv = placement();
	struct snapshot *s;
	static const struct step maint[] = {
		SET("HostSystem", "host-1", "runtime.inMaintenanceMode", BOOL("true")),
		SET("HostSystem", "host-1", "runtime.connectionState", STR("notResponding")),
	};
#define H1 "target=\"vc1\",host=\"esx1.example\",host_id=\"host-1\""

	(void)state;
	s = render(inv, 2000);
	assert_line(s, "vsphere_host_info",
		    "vsphere_host_info{" H1 ",cluster=\"c1\",datacenter=\"dc1\",version=\"\","
		    "product=\"\",vendor=\"ACME\",model=\"X1\"} 1");
	assert_line(s, "vsphere_host_connection_state",
		    "vsphere_host_connection_state{" H1 ",state=\"connected\"} 1");
	assert_line(s, "vsphere_host_power_state",
		    "vsphere_host_power_state{" H1 ",state=\"standBy\"} 0");
	assert_line(s, "vsphere_host_maintenance_mode", "vsphere_host_maintenance_mode{" H1 "} 0");
	assert_line(s, "vsphere_host_memory_size_bytes",
		    "vsphere_host_memory_size_bytes{" H1 "} 68719476736");
	assert_line(s, "vsphere_host_memory_usage_bytes",
		    "vsphere_host_memory_usage_bytes{" H1 "} 2147483648");
	/* 2400 MHz x 16 cores */
	assert_line(s, "vsphere_host_cpu_capacity_hertz",
		    "vsphere_host_cpu_capacity_hertz{" H1 "} 38400000000");
	assert_line(s, "vsphere_host_cpu_usage_hertz",
		    "vsphere_host_cpu_usage_hertz{" H1 "} 1200000000");
	assert_line(s, "vsphere_host_boot_timestamp_seconds",
		    "vsphere_host_boot_timestamp_seconds{" H1 "} 1795255200");
	snapshot_put(s);
	apply_steps(inv, maint, 2, 1100);
	s = render(inv, 2000);
	assert_line(s, "vsphere_host_maintenance_mode", "vsphere_host_maintenance_mode{" H1 "} 1");
	assert_line(s, "vsphere_host_connection_state",
		    "vsphere_host_connection_state{" H1 ",state=\"notResponding\"} 1");
	assert_line(s, "vsphere_host_connection_state",
		    "vsphere_host_connection_state{" H1 ",state=\"connected\"} 0");
	snapshot_put(s);
	inventory_free(inv);
}

/* ---------- snapshots, Tools, health ---------- */

#define SNAPTREE(name, time, children)                                                             \
	"<rootSnapshotList><name>" name "</name><createTime>" time "</createTime>" children        \
	"</rootSnapshotList>"
#define CHILD(name, time, children)                                                                \
	"<childSnapshotList><name>" name "</name><createTime>" time "</createTime>" children       \
	"</childSnapshotList>"

static void test_health_families(void **state)
{
	struct inventory *inv = placement();
	struct snapshot *s;
	static const struct step facts[] = {
		/* two roots; the oldest snapshot is a grandchild of the second */
		SET("VirtualMachine", "vm-1", "snapshot",
		    "<returnval xsi:type=\"VirtualMachineSnapshotInfo\">"
		    "<currentSnapshot "
		    "type=\"VirtualMachineSnapshot\">snapshot-9</currentSnapshot>" SNAPTREE(
			    "a", "2026-11-20T10:00:00Z", CHILD("a1", "2026-11-20T11:00:00Z", ""))
			    SNAPTREE("b", "2026-11-19T10:00:00Z",
				     CHILD("b1", "2026-11-19T12:00:00Z",
					   CHILD("b11", "2026-11-18T00:00:00Z",
						 ""))) "</returnval>"),
		SET("VirtualMachine", "vm-1", "guest.toolsRunningStatus", STR("guestToolsRunning")),
		SET("VirtualMachine", "vm-1", "guest.toolsVersionStatus2", STR("guestToolsTooOld")),
		SET("VirtualMachine", "vm-1", "overallStatus", STR("yellow")),
		SET("VirtualMachine", "vm-1", "triggeredAlarmState",
		    "<returnval xsi:type=\"ArrayOfAlarmState\"><AlarmState><key>alarm-1.vm-1</key>"
		    "</AlarmState><AlarmState><key>alarm-2.vm-1</key></AlarmState></returnval>"),
		SET("HostSystem", "host-1", "overallStatus", STR("red")),
		SET("ClusterComputeResource", "domain-c1", "overallStatus", STR("green")),
		SET("ClusterComputeResource", "domain-c1", "triggeredAlarmState",
		    "<returnval xsi:type=\"ArrayOfAlarmState\"><AlarmState><key>alarm-7</key>"
		    "</AlarmState></returnval>"),
	};
	static const struct step removed[] = {
		SET("VirtualMachine", "vm-1", "snapshot", NULL),
		SET("VirtualMachine", "vm-1", "triggeredAlarmState", NULL),
	};

	(void)state;
	s = render(inv, 2000);
	/* nothing known yet: no snapshot, no alarm, health unknown (gray) */
	assert_line(s, "vsphere_vm_snapshots", "vsphere_vm_snapshots{" VM1 "} 0");
	assert_int_equal(count_lines(fam(s, "vsphere_vm_snapshot_oldest_timestamp_seconds")), 0);
	assert_line(s, "vsphere_vm_alarms_triggered", "vsphere_vm_alarms_triggered{" VM1 "} 0");
	assert_line(s, "vsphere_vm_overall_status",
		    "vsphere_vm_overall_status{" VM1 ",status=\"gray\"} 1");
	assert_int_equal(count_lines(fam(s, "vsphere_vm_tools_running_status")), 0);
	snapshot_put(s);

	apply_steps(inv, facts, sizeof(facts) / sizeof(facts[0]), 1100);
	s = render(inv, 2000);
	assert_line(s, "vsphere_vm_snapshots", "vsphere_vm_snapshots{" VM1 "} 5");
	/* 2026-11-18T00:00:00Z */
	assert_line(s, "vsphere_vm_snapshot_oldest_timestamp_seconds",
		    "vsphere_vm_snapshot_oldest_timestamp_seconds{" VM1 "} 1794960000");
	assert_line(s, "vsphere_vm_tools_running_status",
		    "vsphere_vm_tools_running_status{" VM1 ",status=\"guestToolsRunning\"} 1");
	assert_line(s, "vsphere_vm_tools_running_status",
		    "vsphere_vm_tools_running_status{" VM1 ",status=\"guestToolsNotRunning\"} 0");
	assert_int_equal(count_lines(fam(s, "vsphere_vm_tools_running_status")), 3);
	assert_line(s, "vsphere_vm_tools_version_status",
		    "vsphere_vm_tools_version_status{" VM1 ",status=\"guestToolsTooOld\"} 1");
	assert_int_equal(count_lines(fam(s, "vsphere_vm_tools_version_status")), 9);
	assert_line(s, "vsphere_vm_overall_status",
		    "vsphere_vm_overall_status{" VM1 ",status=\"yellow\"} 1");
	assert_line(s, "vsphere_vm_overall_status",
		    "vsphere_vm_overall_status{" VM1 ",status=\"gray\"} 0");
	assert_line(s, "vsphere_vm_alarms_triggered", "vsphere_vm_alarms_triggered{" VM1 "} 2");
	assert_line(s, "vsphere_host_overall_status",
		    "vsphere_host_overall_status{" H1 ",status=\"red\"} 1");
	assert_line(s, "vsphere_host_alarms_triggered", "vsphere_host_alarms_triggered{" H1 "} 0");
	assert_line(s, "vsphere_cluster_overall_status",
		    "vsphere_cluster_overall_status{target=\"vc1\",cluster=\"c1\","
		    "cluster_id=\"domain-c1\",status=\"green\"} 1");
	assert_line(s, "vsphere_cluster_alarms_triggered",
		    "vsphere_cluster_alarms_triggered{target=\"vc1\",cluster=\"c1\","
		    "cluster_id=\"domain-c1\"} 1");
	snapshot_put(s);

	/* all snapshots deleted, alarms cleared (the server unsets the properties) */
	apply_steps(inv, removed, 2, 1200);
	s = render(inv, 2000);
	assert_line(s, "vsphere_vm_snapshots", "vsphere_vm_snapshots{" VM1 "} 0");
	assert_int_equal(count_lines(fam(s, "vsphere_vm_snapshot_oldest_timestamp_seconds")), 0);
	assert_line(s, "vsphere_vm_alarms_triggered", "vsphere_vm_alarms_triggered{" VM1 "} 0");
	snapshot_put(s);
	inventory_free(inv);
}

/* A snapshot tree with a createTime that is not a time: said, and neither count nor age shown. */
static void test_bad_snapshot(void **state)
{
	struct inventory *inv = placement();
	struct vi_node *v =
		test_xml_value("<returnval xsi:type=\"VirtualMachineSnapshotInfo\">" SNAPTREE(
			"a", "yesterday", "") "</returnval>");
	struct vi_change c = {"VirtualMachine", "vm-1", VI_OBJ_MODIFY, "snapshot",
			      VI_OP_ASSIGN,	v,	NULL};
	struct err e = {0};
	struct snapshot *s;

	(void)state;
	assert_int_equal(inventory_apply(inv, &c, 1000, &e), -1);
	assert_int_equal(e.kind, ERR_PARSE);
	assert_non_null(strstr(e.msg, "vm-1 snapshot"));
	s = render(inv, 2000);
	assert_line(s, "vsphere_vm_snapshots", "vsphere_vm_snapshots{" VM1 "} 0");
	assert_int_equal(count_lines(fam(s, "vsphere_vm_snapshot_oldest_timestamp_seconds")), 0);
	snapshot_put(s);
	vi_node_free(v);
	inventory_free(inv);
}

static void test_datastore_families(void **state)
{
	struct inventory *inv = new_inv();
	struct snapshot *s;
	static const struct step steps[] = {
		ENTER("Datastore", "datastore-1", "name", STR("LocalDS_0")),
		SET("Datastore", "datastore-1", "summary",
		    "<returnval xsi:type=\"DatastoreSummary\"><name>LocalDS_0</name>"
		    "<url>ds:///vmfs/volumes/1/</url><capacity>1000000</capacity>"
		    "<freeSpace>400000</freeSpace><uncommitted>50000</uncommitted>"
		    "<accessible>true</accessible><type>VMFS</type></returnval>"),
		SET("Datastore", "datastore-1", "host",
		    "<returnval xsi:type=\"ArrayOfDatastoreHostMount\"><DatastoreHostMount>"
		    "<key type=\"HostSystem\">host-1</key></DatastoreHostMount><DatastoreHostMount>"
		    "<key type=\"HostSystem\">host-2</key></DatastoreHostMount></returnval>"),
		SET("Datastore", "datastore-1", "vm",
		    "<returnval xsi:type=\"ArrayOfManagedObjectReference\">"
		    "<ManagedObjectReference type=\"VirtualMachine\">vm-1</ManagedObjectReference>"
		    "<ManagedObjectReference type=\"VirtualMachine\">vm-2</ManagedObjectReference>"
		    "<ManagedObjectReference type=\"VirtualMachine\">vm-3</ManagedObjectReference>"
		    "</returnval>"),
	};
	static const struct step inaccessible[] = {
		SET("Datastore", "datastore-1", "summary",
		    "<returnval xsi:type=\"DatastoreSummary\"><name>LocalDS_0</name>"
		    "<url>ds:///vmfs/volumes/1/</url><capacity>1000000</capacity>"
		    "<freeSpace>300000</freeSpace><accessible>false</accessible><type>VMFS</type>"
		    "<maintenanceMode>inMaintenance</maintenanceMode></returnval>"),
		{VI_OBJ_MODIFY, "Datastore", "datastore-1", "vm[\"vm-3\"]", VI_OP_REMOVE, NULL},
	};
#define D1 "target=\"vc1\",datastore=\"LocalDS_0\",datastore_id=\"datastore-1\""

	(void)state;
	apply_steps(inv, steps, sizeof(steps) / sizeof(steps[0]), 1000);
	s = render(inv, 2000);
	assert_line(s, "vsphere_datastore_info",
		    "vsphere_datastore_info{" D1 ",type=\"VMFS\",url=\"ds:///vmfs/volumes/1/\"} 1");
	assert_line(s, "vsphere_datastore_capacity_bytes",
		    "vsphere_datastore_capacity_bytes{" D1 "} 1000000");
	assert_line(s, "vsphere_datastore_free_bytes",
		    "vsphere_datastore_free_bytes{" D1 "} 400000");
	assert_line(s, "vsphere_datastore_uncommitted_bytes",
		    "vsphere_datastore_uncommitted_bytes{" D1 "} 50000");
	assert_line(s, "vsphere_datastore_provisioned_bytes",
		    "vsphere_datastore_provisioned_bytes{" D1 "} 650000");
	assert_line(s, "vsphere_datastore_accessible", "vsphere_datastore_accessible{" D1 "} 1");
	assert_line(s, "vsphere_datastore_maintenance_mode",
		    "vsphere_datastore_maintenance_mode{" D1 ",mode=\"normal\"} 1");
	assert_line(s, "vsphere_datastore_hosts", "vsphere_datastore_hosts{" D1 "} 2");
	assert_line(s, "vsphere_datastore_vms", "vsphere_datastore_vms{" D1 "} 3");
	snapshot_put(s);
	apply_steps(inv, inaccessible, 2, 1100);
	s = render(inv, 2000);
	assert_line(s, "vsphere_datastore_accessible", "vsphere_datastore_accessible{" D1 "} 0");
	assert_line(s, "vsphere_datastore_provisioned_bytes",
		    "vsphere_datastore_provisioned_bytes{" D1 "} 700000");
	assert_line(s, "vsphere_datastore_maintenance_mode",
		    "vsphere_datastore_maintenance_mode{" D1 ",mode=\"inMaintenance\"} 1");
	assert_line(s, "vsphere_datastore_maintenance_mode",
		    "vsphere_datastore_maintenance_mode{" D1 ",mode=\"normal\"} 0");
	assert_line(s, "vsphere_datastore_vms", "vsphere_datastore_vms{" D1 "} 2");
	snapshot_put(s);
	inventory_free(inv);
}

/* ---------- questions and tasks ---------- */

#define QUESTION(id)                                                                               \
	"<returnval xsi:type=\"VirtualMachineQuestionInfo\"><id>" id "</id>"                       \
	"<text>msg.uuid.altered:Moved or copied?</text><choice>"                                   \
	"<choiceInfo xsi:type=\"ElementDescription\"><label>Cancel</label><summary>Cancel"         \
	"</summary><key>0</key></choiceInfo><choiceInfo xsi:type=\"ElementDescription\">"          \
	"<label>I _Copied It</label><summary>I _Copied It</summary><key>2</key></choiceInfo>"      \
	"<defaultIndex>1</defaultIndex></choice><message><id>msg.uuid.altered</id>"                \
	"<text>Moved or copied?</text></message></returnval>"

#define TASKINFO(state)                                                                            \
	"<returnval xsi:type=\"TaskInfo\"><key>task-7</key><task type=\"Task\">task-7</task>"      \
	"<name>PowerOnVM_Task</name><descriptionId>VirtualMachine.powerOn</descriptionId>"         \
	"<entity type=\"VirtualMachine\">vm-1</entity><entityName>web01</entityName>"              \
	"<state>" state "</state><cancelled>false</cancelled><cancelable>false</cancelable>"       \
	"<queueTime>1970-01-01T00:16:40Z</queueTime><startTime>1970-01-01T00:16:41Z</startTime>"   \
	"</returnval>"

/* Finished tasks leave after the retention (by completeTime); queued and running ones stay. */
static void test_task_expiry(void **state)
{
	struct inventory *inv = placement();
	struct snapshot *s;
#define TASK(id, st, complete)                                                                     \
	"<returnval xsi:type=\"TaskInfo\"><key>" id "</key><task type=\"Task\">" id "</task>"      \
	"<name>PowerOnVM_Task</name><entity type=\"VirtualMachine\">vm-1</entity>"                 \
	"<state>" st "</state><cancelled>false</cancelled><cancelable>false</cancelable>"          \
	"<queueTime>1970-01-01T00:16:40Z</queueTime>" complete "</returnval>"
	static const struct step tasks[] = {
		/* completeTime 1000 and 1300; one still running; one finished without a time */
		ENTER("Task", "task-1", "info",
		      TASK("task-1", "success",
			   "<completeTime>1970-01-01T00:16:40Z</completeTime>")),
		ENTER("Task", "task-2", "info",
		      TASK("task-2", "error", "<completeTime>1970-01-01T00:21:40Z</completeTime>")),
		ENTER("Task", "task-3", "info", TASK("task-3", "running", "")),
		ENTER("Task", "task-4", "info", TASK("task-4", "success", "")),
	};
	int type;

	(void)state;
	apply_steps(inv, tasks, 4, 1000);
	type = inventory_type_index(inv, "Task");
	assert_int_equal(inventory_expire_tasks(inv, 1600, 600), 0);
	assert_int_equal(inv->types[type].count, 4);
	assert_int_equal(inventory_expire_tasks(inv, 1601, 600), 1);
	s = render(inv, 1601);
	assert_no_text(s, "vsphere_task_info", "task-1");
	assert_non_null(strstr(fam(s, "vsphere_task_info"), "task_id=\"task-2\""));
	assert_int_equal(json_array_size(s->tasks), 3);
	snapshot_put(s);
	assert_int_equal(inventory_expire_tasks(inv, 100000, 600), 1);
	assert_null(inventory_find(inv, "Task", "task-2"));
	assert_non_null(inventory_find(inv, "Task", "task-3"));
	assert_non_null(inventory_find(inv, "Task", "task-4"));
	inventory_free(inv);
#undef TASK
}

static void test_question_first_seen(void **state)
{
	struct inventory *inv = placement();
	struct snapshot *s;
	static const struct step ask[] = {
		SET("VirtualMachine", "vm-1", "runtime.question", QUESTION("q1")),
	};
	static const struct step again[] = {
		/* the same question reported again (another property changed with it) */
		SET("VirtualMachine", "vm-1", "runtime.question", QUESTION("q1")),
	};
	static const struct step other[] = {
		SET("VirtualMachine", "vm-1", "runtime.question", QUESTION("q2")),
	};
	static const struct step answered[] = {
		SET("VirtualMachine", "vm-1", "runtime.question", NULL),
	};
#define Q1 VM1 ",question_id=\"q1\",message_id=\"msg.uuid.altered\""

	(void)state;
	s = render(inv, 1000);
	assert_int_equal(fam(s, "vsphere_vm_question_pending")[0], '\0');
	snapshot_put(s);
	apply_steps(inv, ask, 1, 1000);
	apply_steps(inv, again, 1, 1010);
	s = render(inv, 1030.7);
	assert_line(s, "vsphere_vm_question_pending", "vsphere_vm_question_pending{" Q1 "} 1");
	assert_line(s, "vsphere_vm_question_pending_seconds",
		    "vsphere_vm_question_pending_seconds{" Q1 "} 30");
	assert_int_equal(json_array_size(s->questions), 1);
	{
		json_t *q = json_array_get(s->questions, 0);
		json_t *choices = json_object_get(q, "choices");

		assert_string_equal(json_string_value(json_object_get(q, "vm")), "web01");
		assert_string_equal(json_string_value(json_object_get(q, "vm_id")), "vm-1");
		assert_string_equal(json_string_value(json_object_get(q, "id")), "q1");
		assert_string_equal(json_string_value(json_object_get(q, "text")),
				    "msg.uuid.altered:Moved or copied?");
		assert_string_equal(
			json_string_value(json_array_get(json_object_get(q, "message_ids"), 0)),
			"msg.uuid.altered");
		assert_int_equal(json_array_size(choices), 2);
		assert_string_equal(
			json_string_value(json_object_get(json_array_get(choices, 1), "label")),
			"I _Copied It");
		assert_string_equal(json_string_value(json_object_get(q, "default")), "2");
		assert_true(json_real_value(json_object_get(q, "first_seen")) == 1000.0);
	}
	snapshot_put(s);
	/* a new question id restarts the clock */
	apply_steps(inv, other, 1, 1040);
	s = render(inv, 1045);
	assert_line(s, "vsphere_vm_question_pending_seconds",
		    "vsphere_vm_question_pending_seconds{" VM1
		    ",question_id=\"q2\",message_id=\"msg.uuid.altered\"} 5");
	assert_int_equal(count_lines(fam(s, "vsphere_vm_question_pending")), 1);
	snapshot_put(s);
	apply_steps(inv, answered, 1, 1050);
	s = render(inv, 1050);
	assert_int_equal(fam(s, "vsphere_vm_question_pending")[0], '\0');
	assert_int_equal(json_array_size(s->questions), 0);
	snapshot_put(s);
	inventory_free(inv);
}

/* Invalid UTF-8 reaches the JSON API as U+FFFD, with nothing escaped or dropped. */
static void test_json_invalid_utf8(void **state)
{
	struct inventory *inv = placement();
	struct snapshot *s;
	json_t *j;
	static const struct step steps[] = {
		SET("VirtualMachine", "vm-1", "name", STR("odd%5cback%ff")),
		SET("VirtualMachine", "vm-1", "runtime.question", QUESTION("q1")),
	};

	(void)state;
	apply_steps(inv, steps, 2, 1000);
	s = render(inv, 1000);
	assert_int_equal(json_array_size(s->questions), 1);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(s->questions, 0), "vm")),
		"odd\\back\xef\xbf\xbd");
	assert_int_equal(
		json_array_size(json_object_get(json_array_get(s->questions, 0), "choices")), 2);
	snapshot_put(s);
	j = render_json_string("a\\b\xff\"c\xc3");
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "a\\b\xef\xbf\xbd\"c\xef\xbf\xbd");
	json_decref(j);
	j = render_json_string(NULL);
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
	inventory_free(inv);
}

static void test_task_blocked(void **state)
{
	struct inventory *inv = placement();
	struct snapshot *s;
	static const struct step start[] = {
		ENTER("TaskManager", "TaskManager", "recentTask",
		      "<returnval xsi:type=\"ArrayOfManagedObjectReference\">"
		      "<ManagedObjectReference type=\"Task\">task-7</ManagedObjectReference>"
		      "</returnval>"),
		ENTER("Task", "task-7", "info", TASKINFO("running")),
	};
	static const struct step ask[] = {
		SET("VirtualMachine", "vm-1", "runtime.question", QUESTION("q1")),
	};
	static const struct step done[] = {
		SET("VirtualMachine", "vm-1", "runtime.question", NULL),
		SET("Task", "task-7", "info", TASKINFO("success")),
	};
	static const struct step gone[] = {
		{VI_OBJ_LEAVE, "Task", "task-7", NULL, VI_OP_ASSIGN, NULL},
	};
#define T7                                                                                         \
	"target=\"vc1\",task_id=\"task-7\",task=\"PowerOnVM_Task\",entity=\"web01\","              \
	"entity_id=\"vm-1\""

	(void)state;
	apply_steps(inv, start, 2, 1000);
	s = render(inv, 1010);
	assert_line(s, "vsphere_task_info", "vsphere_task_info{" T7 ",state=\"running\"} 1");
	assert_line(s, "vsphere_task_running_seconds", "vsphere_task_running_seconds{" T7 "} 10");
	assert_line(s, "vsphere_task_blocked", "vsphere_task_blocked{" T7 "} 0");
	snapshot_put(s);
	apply_steps(inv, ask, 1, 1012);
	s = render(inv, 1020);
	assert_line(s, "vsphere_task_blocked", "vsphere_task_blocked{" T7 "} 1");
	{
		json_t *t = json_array_get(s->tasks, 0);
		json_t *q = json_array_get(s->questions, 0);

		assert_true(json_is_true(json_object_get(t, "blocked")));
		assert_string_equal(json_string_value(json_object_get(t, "question_id")), "q1");
		assert_string_equal(json_string_value(json_object_get(t, "state")), "running");
		assert_string_equal(
			json_string_value(json_array_get(json_object_get(q, "blocked_tasks"), 0)),
			"task-7");
	}
	snapshot_put(s);
	apply_steps(inv, done, 2, 1030);
	s = render(inv, 1030);
	assert_line(s, "vsphere_task_info", "vsphere_task_info{" T7 ",state=\"success\"} 1");
	/* finished tasks have no age and are never blocked */
	assert_int_equal(fam(s, "vsphere_task_running_seconds")[0], '\0');
	assert_int_equal(fam(s, "vsphere_task_blocked")[0], '\0');
	snapshot_put(s);
	apply_steps(inv, gone, 1, 1040);
	s = render(inv, 1040);
	assert_int_equal(fam(s, "vsphere_task_info")[0], '\0');
	assert_int_equal(json_array_size(s->tasks), 0);
	snapshot_put(s);
	inventory_free(inv);
}

/* Every family has help and a type; no series appears twice. */
static void test_no_duplicates(void **state)
{
	struct inventory *inv = placement();
	struct snapshot *s = render(inv, 2000);

	(void)state;
	for (size_t i = 0; i < s->nfamilies; i++) {
		const struct snap_family *f = &s->families[i];
		char *copy = strdup(test_family_text(f));
		char *save = NULL;
		char *lines[256];
		size_t n = 0;

		assert_true(f->help[0] != '\0');
		assert_string_equal(f->type, "gauge");
		for (char *l = strtok_r(copy, "\n", &save); l && n < 256;
		     l = strtok_r(NULL, "\n", &save)) {
			char *sp = strrchr(l, ' ');

			*sp = '\0';
			for (size_t k = 0; k < n; k++)
				assert_string_not_equal(lines[k], l);
			lines[n++] = l;
		}
		free(copy);
	}
	snapshot_put(s);
	inventory_free(inv);
}

/* Resync after a reconnect: objects not seen again go, first-seen times stay. */
static void test_resync(void **state)
{
	struct inventory *inv = placement();
	static const struct step ask[] = {
		SET("VirtualMachine", "vm-1", "runtime.question", QUESTION("q1")),
		ENTER("VirtualMachine", "vm-2", "name", STR("db01")),
	};
	static const struct step again[] = {
		ENTER("VirtualMachine", "vm-1", "runtime.question", QUESTION("q1")),
	};
	struct inv_obj *o;

	(void)state;
	apply_steps(inv, ask, 2, 1000);
	inventory_unmark(inv);
	apply_steps(inv, again, 1, 1500);
	inventory_sweep(inv);
	assert_null(inventory_find(inv, NULL, "vm-2"));
	assert_null(inventory_find(inv, NULL, "host-1"));
	o = inventory_find(inv, "VirtualMachine", "vm-1");
	assert_non_null(o);
	assert_true(o->question_first_seen == 1000.0);
	assert_int_equal(inv->count, 1);
	inventory_free(inv);
}

/* Types and paths nobody collects are ignored; a bad question does not parse. */
static void test_ignored_and_bad(void **state)
{
	struct inventory *inv = new_inv();
	static const struct step steps[] = {
		ENTER("Network", "network-1", "name", STR("VM Network")),
		ENTER("VirtualMachine", "vm-1", "name", STR("a")),
		SET("VirtualMachine", "vm-1", "config.annotation", STR("x")),
	};
	struct vi_node *bad = test_xml_value("<returnval xsi:type=\"VirtualMachineQuestionInfo\">"
					     "<text>no id</text></returnval>");
	struct vi_change c = {"VirtualMachine", "vm-1", VI_OBJ_MODIFY, "runtime.question",
			      VI_OP_ASSIGN,	bad,	NULL};
	struct err e = {0};

	(void)state;
	apply_steps(inv, steps, 3, 1000);
	assert_null(inventory_find(inv, NULL, "network-1"));
	assert_int_equal(inv->count, 1);
	/* the question is refused (the agent counts the error and goes on) */
	assert_int_equal(inventory_apply(inv, &c, 1000, &e), -1);
	assert_true(e.kind == ERR_PARSE || e.kind == ERR_PROTOCOL);
	assert_null(inventory_find(inv, NULL, "vm-1")->question);
	vi_node_free(bad);
	inventory_free(inv);
}

/* Many objects: the hash table grows and every object is found. */
static void test_many_objects(void **state)
{
	struct inventory *inv = new_inv();
	char moref[32];
	struct err e = {0};

	(void)state;
	for (int i = 0; i < 5000; i++) {
		struct vi_change c = {"VirtualMachine", moref, VI_OBJ_ENTER, NULL,
				      VI_OP_ASSIGN,	NULL,  NULL};

		snprintf(moref, sizeof(moref), "vm-%d", i);
		assert_int_equal(inventory_apply(inv, &c, 0, &e), 0);
	}
	assert_int_equal(inv->count, 5000);
	for (int i = 0; i < 5000; i += 7) {
		snprintf(moref, sizeof(moref), "vm-%d", i);
		assert_non_null(inventory_find(inv, "VirtualMachine", moref));
	}
	inventory_free(inv);
}

/* Row generations: a family is re-rendered only when something it shows changed. */
static void test_row_gen(void **state)
{
	struct inventory *inv = placement();
	static const struct step power[] = {
		SET("VirtualMachine", "vm-1", "runtime.powerState", STR("poweredOff")),
	};
	static const struct step same[] = {
		SET("VirtualMachine", "vm-1", "runtime.powerState", STR("poweredOff")),
	};
	static const struct step rename_host[] = {
		SET("HostSystem", "host-1", "name", STR("esx1.renamed")),
	};
	static const struct step new_vm[] = {
		ENTER("VirtualMachine", "vm-5", "name", STR("new")),
	};
	size_t power_row = 1, cpu_row = 6, info_row = 0;
	unsigned long p0, c0, i0;

	(void)state;
	assert_string_equal(col_vm.metrics[power_row].family, "vsphere_vm_power_state");
	assert_string_equal(col_vm.metrics[cpu_row].family, "vsphere_vm_cpus");
	p0 = render_row_gen(inv, &col_vm, power_row);
	c0 = render_row_gen(inv, &col_vm, cpu_row);
	i0 = render_row_gen(inv, &col_vm, info_row);
	apply_steps(inv, power, 1, 1000);
	assert_true(render_row_gen(inv, &col_vm, power_row) != p0);
	assert_true(render_row_gen(inv, &col_vm, cpu_row) == c0);
	assert_true(render_row_gen(inv, &col_vm, info_row) == i0);
	p0 = render_row_gen(inv, &col_vm, power_row);
	apply_steps(inv, same, 1, 1000);
	assert_true(render_row_gen(inv, &col_vm, power_row) == p0);
	apply_steps(inv, rename_host, 1, 1000);
	assert_true(render_row_gen(inv, &col_vm, info_row) != i0);
	assert_true(render_row_gen(inv, &col_vm, cpu_row) == c0);
	apply_steps(inv, new_vm, 1, 1000);
	assert_true(render_row_gen(inv, &col_vm, cpu_row) != c0);
	inventory_free(inv);
}

static void test_registry(void **state)
{
	(void)state;
	assert_ptr_equal(col_find("vm"), &col_vm);
	assert_null(col_find("nope"));
	assert_int_equal(col_path_index(&col_vm, "runtime.powerState"), 1);
	assert_int_equal(col_path_index(&col_vm, "nope"), -1);
	/* every row names a family with the prefix, help, and a path or labels */
	for (size_t i = 0; col_registry[i]; i++) {
		const struct collector *c = col_registry[i];

		for (size_t r = 0; c->metrics[r].family; r++) {
			const struct col_metric *m = &c->metrics[r];

			assert_int_equal(strncmp(m->family, "vsphere_", 8), 0);
			assert_non_null(m->help);
			if (m->kind == COL_GAUGE || m->kind == COL_STATESET)
				assert_non_null(m->path);
			if (m->kind == COL_STATESET)
				assert_non_null(m->states);
		}
	}
}

/* ---------- rendering only what changed ---------- */

/* Applies one assignment built at run time (xml NULL: no value). */
static void apply1(struct inventory *inv, enum vi_obj_kind kind, const char *type,
		   const char *moref, const char *path, const char *xml)
{
	test_apply(inv, kind, type, moref, path, VI_OP_ASSIGN, xml);
}

/* Enters n VMs vm-1000... named vm0... after those of inv. */
static void enter_vms(struct inventory *inv, int n)
{
	char moref[32], name[96];

	for (int i = 0; i < n; i++) {
		snprintf(moref, sizeof(moref), "vm-%d", 1000 + i);
		snprintf(name, sizeof(name), "<returnval xsi:type=\"xsd:string\">vm%d</returnval>",
			 i);
		apply1(inv, VI_OBJ_ENTER, "VirtualMachine", moref, "name", name);
	}
}

/* The VM's quickStats with guestMemoryUsage mb. */
static void set_guest_mem(struct inventory *inv, const char *moref, int mb)
{
	char xml[256];

	snprintf(xml, sizeof(xml),
		 "<returnval xsi:type=\"VirtualMachineQuickStats\"><guestMemoryUsage>%d"
		 "</guestMemoryUsage><overallCpuUsage>10</overallCpuUsage></returnval>",
		 mb);
	apply1(inv, VI_OBJ_MODIFY, "VirtualMachine", moref, "summary.quickStats", xml);
}

static const struct snap_family *family_named(const struct snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nfamilies; i++)
		if (strcmp(s->families[i].name, name) == 0)
			return &s->families[i];
	fail_msg("no family %s", name);
	return NULL;
}

static size_t vm_row(const char *family)
{
	for (size_t r = 0; r < col_nmetrics(&col_vm); r++)
		if (strcmp(col_vm.metrics[r].family, family) == 0)
			return r;
	fail_msg("no row %s", family);
	return 0;
}

static struct snapshot *render_vm(struct inventory *inv, const struct render_prev *prev)
{
	struct snapshot *s = snapshot_new();
	struct err e = {0};

	assert_non_null(s);
	assert_int_equal(render_collector(inv, &col_vm, NULL, prev, "vc1", 1000, s, &e), 0);
	return s;
}

static bool keep_unless_x(void *ud, const char *name)
{
	(void)ud;
	return name[0] != 'x';
}

/*
 * A family rendered again after one VM changed keeps the compressed segments
 * of the chunks whose objects did not change, and its text is the text of a
 * render from scratch; what moves objects between chunks or changes resolved
 * names changes render_row_ctx_gen, so that the caller renders whole.
 */
static void test_render_keeps_unchanged(void **state)
{
	struct inventory *inv = placement();
	int vt = inventory_type_index(inv, "VirtualMachine");
	size_t nrows = col_nmetrics(&col_vm),
	       active = vm_row("vsphere_vm_memory_guest_active_bytes");
	struct render_prev prev[RENDER_MAX_ROWS];
	struct snapshot *s1, *s2, *s3;
	const struct snap_family *f1, *f2;
	char moref[32], want[160];
	unsigned long ctx_info;

	(void)state;
	/* 600 VMs after vm-1: chunks of 256 objects 0-255, 256-511, 512-600 */
	enter_vms(inv, 600);
	for (int i = 0; i < 600; i++) {
		snprintf(moref, sizeof(moref), "vm-%d", 1000 + i);
		apply1(inv, VI_OBJ_MODIFY, "VirtualMachine", moref, "runtime.host",
		       MOREF("HostSystem", "host-1"));
		set_guest_mem(inv, moref, i);
	}
	s1 = render_vm(inv, NULL);
	for (size_t r = 0; r < nrows; r++) {
		prev[r].fam = family_named(s1, col_vm.metrics[r].family);
		prev[r].since = inv->types[vt].gen;
	}
	ctx_info = render_row_ctx_gen(inv, &col_vm, vm_row("vsphere_vm_info"));
	f1 = prev[active].fam;
	assert_int_equal(f1->nsegs, 3);

	/* vm-1300 is object 301 (vm-1 comes first): chunk 1 */
	set_guest_mem(inv, "vm-1300", 777);
	assert_int_equal(render_row_ctx_gen(inv, &col_vm, vm_row("vsphere_vm_info")), ctx_info);
	s2 = render_vm(inv, prev);
	s3 = render_vm(inv, NULL);
	for (size_t r = 0; r < nrows; r++) {
		const char *name_r = col_vm.metrics[r].family;

		assert_string_equal(test_family_text(family_named(s2, name_r)),
				    test_family_text(family_named(s3, name_r)));
	}
	f2 = family_named(s2, "vsphere_vm_memory_guest_active_bytes");
	assert_int_equal(f2->nsegs, 3);
	assert_ptr_equal(f2->segs[0], f1->segs[0]);
	assert_ptr_not_equal(f2->segs[1], f1->segs[1]);
	assert_ptr_equal(f2->segs[2], f1->segs[2]);
	snprintf(want, sizeof(want),
		 "vsphere_vm_memory_guest_active_bytes{target=\"vc1\",vm=\"vm300\","
		 "vm_id=\"vm-1300\"} %d",
		 777 * 1048576);
	assert_true(test_has_line(test_family_text(f2), want));
	/* a row that reads no quickStats value keeps the other chunks too (an
	 * object's gen covers all its values, so chunk 1 renders again) */
	f2 = family_named(s2, "vsphere_vm_power_state");
	assert_ptr_equal(f2->segs[0], family_named(s1, "vsphere_vm_power_state")->segs[0]);

	/* a host renamed: the names VM rows resolve changed */
	apply1(inv, VI_OBJ_MODIFY, "HostSystem", "host-1", "name", STR("esx9.example"));
	assert_int_not_equal(render_row_ctx_gen(inv, &col_vm, vm_row("vsphere_vm_info")), ctx_info);
	ctx_info = render_row_ctx_gen(inv, &col_vm, vm_row("vsphere_vm_info"));
	/* a VM hidden by the name filter: the rendered objects moved */
	inventory_set_name_filter(inv, "VirtualMachine", keep_unless_x, NULL);
	apply1(inv, VI_OBJ_MODIFY, "VirtualMachine", "vm-1001", "name", STR("x1"));
	assert_int_not_equal(render_row_ctx_gen(inv, &col_vm, vm_row("vsphere_vm_info")), ctx_info);
	ctx_info = render_row_ctx_gen(inv, &col_vm, vm_row("vsphere_vm_info"));
	/* a VM gone */
	apply1(inv, VI_OBJ_LEAVE, "VirtualMachine", "vm-1002", NULL, NULL);
	assert_int_not_equal(render_row_ctx_gen(inv, &col_vm, vm_row("vsphere_vm_info")), ctx_info);
	snapshot_put(s1);
	snapshot_put(s2);
	snapshot_put(s3);
	inventory_free(inv);
}

/*
 * A reference to an object that is not a placement type (a VM's runtime.host
 * naming another VM, as a hostile server may send) names nothing: such names
 * are outside render_row_ctx_gen, so a kept chunk could otherwise show a name
 * that has since changed.
 */
static void test_render_foreign_reference(void **state)
{
	struct inventory *inv = placement();
	int vt = inventory_type_index(inv, "VirtualMachine");
	size_t nrows = col_nmetrics(&col_vm), info = vm_row("vsphere_vm_info");
	struct render_prev prev[RENDER_MAX_ROWS];
	struct snapshot *s1, *s2, *s3;
	const char *text;
	unsigned long ctx;

	(void)state;
	enter_vms(inv, 300);
	/* vm-1000 (chunk 0) says its host is vm-1290 (chunk 1) */
	apply1(inv, VI_OBJ_MODIFY, "VirtualMachine", "vm-1000", "runtime.host",
	       MOREF("VirtualMachine", "vm-1290"));
	s1 = render_vm(inv, NULL);
	text = test_family_text(family_named(s1, "vsphere_vm_info"));
	assert_null(strstr(text, "host=\"vm290\""));
	for (size_t r = 0; r < nrows; r++) {
		prev[r].fam = family_named(s1, col_vm.metrics[r].family);
		prev[r].since = inv->types[vt].gen;
	}
	ctx = render_row_ctx_gen(inv, &col_vm, info);
	apply1(inv, VI_OBJ_MODIFY, "VirtualMachine", "vm-1290", "name", STR("renamed"));
	assert_int_equal(render_row_ctx_gen(inv, &col_vm, info), ctx);
	s2 = render_vm(inv, prev);
	s3 = render_vm(inv, NULL);
	text = test_family_text(family_named(s3, "vsphere_vm_info"));
	assert_null(strstr(text, "host=\"renamed\""));
	assert_string_equal(test_family_text(family_named(s2, "vsphere_vm_info")), text);
	snapshot_put(s1);
	snapshot_put(s2);
	snapshot_put(s3);
	inventory_free(inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_vm_families),
		cmocka_unit_test(test_vm_changes),
		cmocka_unit_test(test_unknown_state),
		cmocka_unit_test(test_unknown_state_logged),
		cmocka_unit_test(test_odd_names),
		cmocka_unit_test(test_invalid_utf8_label),
		cmocka_unit_test(test_render_value),
		cmocka_unit_test(test_host_families),
		cmocka_unit_test(test_datastore_families),
		cmocka_unit_test(test_health_families),
		cmocka_unit_test(test_bad_snapshot),
		cmocka_unit_test(test_question_first_seen),
		cmocka_unit_test(test_task_blocked),
		cmocka_unit_test(test_task_expiry),
		cmocka_unit_test(test_json_invalid_utf8),
		cmocka_unit_test(test_no_duplicates),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_ignored_and_bad),
		cmocka_unit_test(test_many_objects),
		cmocka_unit_test(test_row_gen),
		cmocka_unit_test(test_render_keeps_unchanged),
		cmocka_unit_test(test_render_foreign_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

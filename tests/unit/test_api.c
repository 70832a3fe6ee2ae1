/* Unit tests: the JSON API object lists (/api/v1/vms, hosts, datastores): rendering and filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/api.h"
#include "agent/inventory.h"
#include "agent/render.h"
#include "agent/snapshot.h"
#include "collectors/collector.h"
#include "tests/support/testutil.h"
#include "vi/xml.h"

static const struct collector *const cols[] = {
	&col_vm,      &col_host,       &col_datastore, &col_cluster,
	&col_compute, &col_datacenter, &col_folder,
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

struct change {
	const char *type, *moref, *path, *xml;
};

#define S(v)	  "<returnval xsi:type=\"xsd:string\">" v "</returnval>"
#define I(v)	  "<returnval xsi:type=\"xsd:int\">" v "</returnval>"
#define REF(t, v) "<returnval type=\"" t "\" xsi:type=\"ManagedObjectReference\">" v "</returnval>"

static const struct change changes[] = {
	{"Datacenter", "datacenter-1", "name", S("dc1")},
	{"ClusterComputeResource", "domain-c1", "name", S("c1")},
	{"ClusterComputeResource", "domain-c1", "parent", REF("Datacenter", "datacenter-1")},
	{"HostSystem", "host-1", "name", S("esx1")},
	{"HostSystem", "host-1", "parent", REF("ClusterComputeResource", "domain-c1")},
	{"HostSystem", "host-1", "runtime.connectionState", S("connected")},
	{"HostSystem", "host-1", "runtime.inMaintenanceMode",
	 "<returnval xsi:type=\"xsd:boolean\">true</returnval>"},
	{"HostSystem", "host-1", "summary.hardware",
	 "<returnval xsi:type=\"HostHardwareSummary\"><memorySize>68719476736</memorySize>"
	 "</returnval>"},
	{"HostSystem", "host-1", "summary.quickStats",
	 "<returnval xsi:type=\"HostListSummaryQuickStats\"><overallMemoryUsage>2048"
	 "</overallMemoryUsage></returnval>"},
	{"VirtualMachine", "vm-1", "name", S("web%2f01")},
	{"VirtualMachine", "vm-1", "runtime.powerState", S("poweredOn")},
	{"VirtualMachine", "vm-1", "runtime.host", REF("HostSystem", "host-1")},
	{"VirtualMachine", "vm-1", "config.hardware.memoryMB", I("8192")},
	{"VirtualMachine", "vm-1", "summary.quickStats",
	 "<returnval xsi:type=\"VirtualMachineQuickStats\"><hostMemoryUsage>4200</hostMemoryUsage>"
	 "<consumedOverheadMemory>104</consumedOverheadMemory><balloonedMemory>64"
	 "</balloonedMemory><compressedMemory>2048</compressedMemory></returnval>"},
	{"VirtualMachine", "vm-2", "name", S("web%2f01")},
	{"VirtualMachine", "vm-2", "runtime.powerState", S("poweredOff")},
	{"VirtualMachine", "vm-3", "name", S("q&quot;uote%0aline\xc3\xa9")},
	{"Datastore", "datastore-1", "name", S("ds1")},
	{"Datastore", "datastore-1", "summary",
	 "<returnval xsi:type=\"DatastoreSummary\"><capacity>1000</capacity><freeSpace>250"
	 "</freeSpace><accessible>false</accessible><maintenanceMode>inMaintenance"
	 "</maintenanceMode><type>VMFS</type></returnval>"},
};

static struct inventory *build(void)
{
	struct inventory *inv = NULL;
	struct err e = {0};

	assert_int_equal(inventory_new(cols, NCOLS, &inv, &e), 0);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		struct vi_node *v = test_xml_value(changes[i].xml);
		struct vi_change c = {changes[i].type,
				      changes[i].moref,
				      VI_OBJ_ENTER,
				      changes[i].path,
				      VI_OP_ASSIGN,
				      v,
				      NULL};

		if (inventory_apply(inv, &c, 1000, &e) < 0)
			fail_msg("change %zu: %s", i, e.msg);
		vi_node_free(v);
	}
	return inv;
}

/* A snapshot of target name with the three object lists of inv. */
static struct snapshot *snap(struct inventory *inv, const char *name)
{
	struct snapshot *s = snapshot_new();
	struct err e = {0};

	assert_non_null(s);
	json_object_set_new(s->target, "name", json_string(name));
	assert_int_equal(render_objects(inv, &col_vm, name, 1000, NULL, &s->objects[SNAP_VMS], &e),
			 0);
	assert_int_equal(
		render_objects(inv, &col_host, name, 1000, NULL, &s->objects[SNAP_HOSTS], &e), 0);
	assert_int_equal(render_objects(inv, &col_datastore, name, 1000, NULL,
					&s->objects[SNAP_DATASTORES], &e),
			 0);
	return s;
}

/* The request's reply parsed (must be a JSON array ending in a newline). */
static json_t *get(struct snapshot *const *snaps, size_t n, enum snap_kind k, const char *target,
		   const char *name, const char *id)
{
	struct api_filter f = {target, name, id};
	size_t len = 0;
	char *text = api_render_objects(k, snaps, n, &f, &len);
	json_error_t je;
	json_t *j;

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_true(len > 0 && text[len - 1] == '\n');
	j = json_loads(text, 0, &je);
	if (!json_is_array(j))
		fail_msg("not a JSON array (%s): %s", je.text, text);
	free(text);
	return j;
}

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_number(v))
		fail_msg("%s is not a number", k);
	return json_number_value(v);
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	if (!s)
		fail_msg("%s is not a string", k);
	return s;
}

static void test_fields(void **state)
{
	struct inventory *inv = build();
	struct snapshot *s = snap(inv, "vc1");
	json_t *j, *vm, *h, *ds;

	(void)state;
	j = get(&s, 1, SNAP_VMS, NULL, NULL, "vm-1");
	assert_int_equal(json_array_size(j), 1);
	vm = json_array_get(j, 0);
	assert_string_equal(str(vm, "target"), "vc1");
	assert_string_equal(str(vm, "id"), "vm-1");
	assert_string_equal(str(vm, "name"), "web/01");
	assert_string_equal(str(vm, "power_state"), "poweredOn");
	assert_string_equal(str(vm, "host"), "esx1");
	assert_string_equal(str(vm, "cluster"), "c1");
	assert_string_equal(str(vm, "datacenter"), "dc1");
	/* the same conversions as /metrics: MB and KB to bytes, overhead subtracted */
	assert_true(num(vm, "memory_configured_bytes") == 8192.0 * 1048576);
	assert_true(num(vm, "memory_ballooned_bytes") == 64.0 * 1048576);
	assert_true(num(vm, "memory_compressed_bytes") == 2048.0 * 1024);
	assert_true(num(vm, "memory_consumed_bytes") == (4200.0 - 104) * 1048576);
	assert_true(json_is_null(json_object_get(vm, "boot_timestamp_seconds")));
	json_decref(j);

	j = get(&s, 1, SNAP_HOSTS, NULL, "esx1", NULL);
	h = json_array_get(j, 0);
	assert_string_equal(str(h, "connection_state"), "connected");
	assert_true(num(h, "maintenance_mode") == 1);
	assert_true(num(h, "memory_size_bytes") == 68719476736.0);
	assert_true(num(h, "memory_usage_bytes") == 2048.0 * 1048576);
	json_decref(j);

	j = get(&s, 1, SNAP_DATASTORES, "vc1", NULL, NULL);
	assert_int_equal(json_array_size(j), 1);
	ds = json_array_get(j, 0);
	assert_true(num(ds, "capacity_bytes") == 1000);
	assert_true(num(ds, "free_bytes") == 250);
	assert_true(num(ds, "accessible") == 0);
	assert_string_equal(str(ds, "maintenance_mode"), "inMaintenance");
	assert_string_equal(str(ds, "type"), "VMFS");
	json_decref(j);

	/* quote, newline and non-ASCII survive as JSON */
	j = get(&s, 1, SNAP_VMS, NULL, "q\"uote\nline\xc3\xa9", NULL);
	assert_int_equal(json_array_size(j), 1);
	assert_string_equal(str(json_array_get(j, 0), "id"), "vm-3");
	json_decref(j);
	snapshot_put(s);
	inventory_free(inv);
}

static void test_filters(void **state)
{
	struct inventory *inv = build();
	struct snapshot *s[3] = {snap(inv, "vc1"), NULL, snap(inv, "vc2")};
	json_t *j;

	(void)state;
	/* no filter: every VM of every target */
	j = get(s, 3, SNAP_VMS, NULL, NULL, NULL);
	assert_int_equal(json_array_size(j), 6);
	json_decref(j);
	j = get(s, 3, SNAP_VMS, "vc2", NULL, NULL);
	assert_int_equal(json_array_size(j), 3);
	assert_string_equal(str(json_array_get(j, 0), "target"), "vc2");
	json_decref(j);
	/* a shared name: both VMs, of one target or of both */
	j = get(s, 3, SNAP_VMS, "vc1", "web/01", NULL);
	assert_int_equal(json_array_size(j), 2);
	assert_string_equal(str(json_array_get(j, 0), "id"), "vm-1");
	assert_string_equal(str(json_array_get(j, 1), "id"), "vm-2");
	json_decref(j);
	j = get(s, 3, SNAP_VMS, NULL, "web/01", NULL);
	assert_int_equal(json_array_size(j), 4);
	json_decref(j);
	/* the encoded form is not a name */
	j = get(s, 3, SNAP_VMS, NULL, "web%2f01", NULL);
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
	j = get(s, 3, SNAP_VMS, "vc1", "web/01", "vm-2");
	assert_int_equal(json_array_size(j), 1);
	assert_string_equal(str(json_array_get(j, 0), "power_state"), "poweredOff");
	json_decref(j);
	j = get(s, 3, SNAP_VMS, "vc9", NULL, NULL);
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
	j = get(s, 3, SNAP_HOSTS, NULL, NULL, "vm-1");
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
	snapshot_put(s[0]);
	snapshot_put(s[2]);
	inventory_free(inv);
}

static void apply1(struct inventory *inv, const char *type, const char *moref, const char *path,
		   const char *xml)
{
	struct vi_node *v = test_xml_value(xml);
	struct vi_change c = {type, moref, VI_OBJ_MODIFY, path, VI_OP_ASSIGN, v, NULL};
	struct err e = {0};

	assert_int_equal(inventory_apply(inv, &c, 1000, &e), 0);
	vi_node_free(v);
}

/* A new rendering copies the text of unchanged objects from the previous one. */
static void test_reuse(void **state)
{
	struct inventory *inv = build();
	struct snap_objects *a = NULL, *b = NULL, *c = NULL;
	struct snapshot *s = snapshot_new();
	struct err e = {0};
	char *mark;
	json_t *j;

	(void)state;
	assert_int_equal(render_objects(inv, &col_vm, "vc1", 1000, NULL, &a, &e), 0);
	/* mark vm-2's text in a: a reused text shows the mark */
	mark = strstr(a->chunks[0]->text, "poweredOff");
	assert_non_null(mark);
	mark[9] = 'X';
	apply1(inv, "VirtualMachine", "vm-1", "summary.quickStats.balloonedMemory", I("128"));
	assert_int_equal(render_objects(inv, &col_vm, "vc1", 1000, a, &b, &e), 0);
	s->objects[SNAP_VMS] = b;
	json_object_set_new(s->target, "name", json_string("vc1"));
	j = get(&s, 1, SNAP_VMS, NULL, NULL, "vm-2");
	assert_string_equal(str(json_array_get(j, 0), "power_state"), "poweredOfX");
	json_decref(j);
	j = get(&s, 1, SNAP_VMS, NULL, NULL, "vm-1");
	assert_true(num(json_array_get(j, 0), "memory_ballooned_bytes") == 128.0 * 1048576);
	json_decref(j);
	/* a renamed host changes the VMs that name it, though their own values did not */
	apply1(inv, "HostSystem", "host-1", "name", S("esx1.new"));
	assert_int_equal(render_objects(inv, &col_vm, "vc1", 1000, b, &c, &e), 0);
	s->objects[SNAP_VMS] = c;
	j = get(&s, 1, SNAP_VMS, NULL, NULL, "vm-1");
	assert_string_equal(str(json_array_get(j, 0), "host"), "esx1.new");
	json_decref(j);
	j = get(&s, 1, SNAP_VMS, NULL, NULL, "vm-2");
	assert_string_equal(str(json_array_get(j, 0), "power_state"), "poweredOff");
	json_decref(j);
	snap_objects_put(a);
	snap_objects_put(b);
	snapshot_put(s);
	inventory_free(inv);
}

/* Many objects: the sorted indices find every one of them. */
static void test_many(void **state)
{
	struct inventory *inv = NULL;
	struct snapshot *s;
	struct err e = {0};
	char name[64], moref[32], xml[128];

	(void)state;
	assert_int_equal(inventory_new(cols, NCOLS, &inv, &e), 0);
	for (int i = 0; i < 500; i++) {
		struct vi_node *v;
		struct vi_change c = {"VirtualMachine", moref, VI_OBJ_ENTER, "name",
				      VI_OP_ASSIGN,	NULL,  NULL};

		snprintf(moref, sizeof(moref), "vm-%d", i);
		snprintf(xml, sizeof(xml), S("vm %03d"), (i * 7) % 500);
		v = test_xml_value(xml);
		c.value = v;
		assert_int_equal(inventory_apply(inv, &c, 0, &e), 0);
		vi_node_free(v);
	}
	s = snap(inv, "vc1");
	assert_int_equal(s->objects[SNAP_VMS]->nchunks,
			 (500 + SNAP_CHUNK_OBJECTS - 1) / SNAP_CHUNK_OBJECTS);
	/* one changed VM: only its chunk is new, the others are shared */
	{
		struct snap_objects *next = NULL;
		const struct snap_objects *cur = s->objects[SNAP_VMS];

		apply1(inv, "VirtualMachine", "vm-200", "runtime.powerState", S("poweredOn"));
		assert_int_equal(render_objects(inv, &col_vm, "vc1", 0, cur, &next, &e), 0);
		assert_int_equal(next->nchunks, cur->nchunks);
		for (size_t k = 0; k < cur->nchunks; k++) {
			if (k == 200 / SNAP_CHUNK_OBJECTS)
				assert_ptr_not_equal(next->chunks[k], cur->chunks[k]);
			else
				assert_ptr_equal(next->chunks[k], cur->chunks[k]);
		}
		assert_int_equal(next->len, cur->len + strlen("\"poweredOn\"") - strlen("null"));
		snap_objects_put(next);
	}
	for (int i = 0; i < 500; i++) {
		json_t *j;

		snprintf(name, sizeof(name), "vm %03d", i);
		j = get(&s, 1, SNAP_VMS, NULL, name, NULL);
		assert_int_equal(json_array_size(j), 1);
		json_decref(j);
		snprintf(moref, sizeof(moref), "vm-%d", i);
		j = get(&s, 1, SNAP_VMS, NULL, NULL, moref);
		assert_int_equal(json_array_size(j), 1);
		assert_string_equal(str(json_array_get(j, 0), "id"), moref);
		json_decref(j);
	}
	snapshot_put(s);
	inventory_free(inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: the inventory (slots, leaves, counts, enter/modify/leave, resync, hash table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/inventory.h"
#include "tests/support/family.h"
#include "collectors/collector.h"
#include "util/buf.h"
#include "tests/support/testutil.h"
#include "vi/xml.h"

static const struct collector *const cols[] = {&col_vm, &col_datastore, &col_question};

static struct inventory *new_inv(void)
{
	struct inventory *inv = NULL;
	struct err e = {0};

	assert_int_equal(inventory_new(cols, 3, &inv, &e), 0);
	return inv;
}

static const char *value(struct inventory *inv, const char *type, const char *moref,
			 const char *path)
{
	struct inv_obj *o = inventory_find(inv, type, moref);
	int t = inventory_type_index(inv, type);

	assert_non_null(o);
	return inventory_value(o, inventory_slot(inv, (unsigned)t, path));
}

/* The types, fetched paths and leaf slots built from the collector tables. */
static void test_layout(void **state)
{
	struct inventory *inv = new_inv();
	int vm = inventory_type_index(inv, "VirtualMachine");
	int ds = inventory_type_index(inv, "Datastore");
	const struct inv_type *t;
	size_t nq = 0;

	(void)state;
	assert_int_equal(inv->ntypes, 2); /* vm and question share VirtualMachine */
	assert_true(vm >= 0 && ds >= 0);
	assert_int_equal(inventory_type_index(inv, "HostSystem"), -1);
	t = &inv->types[vm];
	for (size_t i = 0; i < t->nfetch; i++)
		nq += strcmp(t->fetch[i], "name") == 0;
	assert_int_equal(nq, 1); /* fetched once though both collectors want it */
	assert_null(t->fetch[t->nfetch]);
	assert_true(inventory_slot(inv, (unsigned)vm, "runtime.question") >= 0);
	assert_true(inventory_slot(inv, (unsigned)vm, "summary.quickStats.balloonedMemory") >=
		    (int)t->nfetch);
	assert_true(inventory_slot(inv, (unsigned)ds, "summary.freeSpace") >= 0);
	assert_int_equal(inventory_slot(inv, (unsigned)ds, "summary.nothing"), -1);
	inventory_free(inv);
}

/* A table of changes and the values they leave. */
static void test_values(void **state)
{
	struct inventory *inv = new_inv();
	static const struct {
		enum vi_obj_kind kind;
		const char *moref, *path;
		enum vi_prop_op op;
		const char *xml;
		const char *check_path, *want; /* want NULL: unset */
	} cases[] = {
		{VI_OBJ_ENTER, "vm-1", "name", VI_OP_ASSIGN,
		 "<returnval xsi:type=\"xsd:string\">a%2fb</returnval>", "name", "a%2fb"},
		{VI_OBJ_MODIFY, "vm-1", "summary.quickStats", VI_OP_ASSIGN,
		 "<returnval xsi:type=\"VirtualMachineQuickStats\"><balloonedMemory>5"
		 "</balloonedMemory><uptimeSeconds>9</uptimeSeconds></returnval>",
		 "summary.quickStats.balloonedMemory", "5"},
		{VI_OBJ_MODIFY, "vm-1", "summary.quickStats.balloonedMemory", VI_OP_ASSIGN,
		 "<returnval xsi:type=\"xsd:int\">6</returnval>",
		 "summary.quickStats.balloonedMemory", "6"},
		{VI_OBJ_MODIFY, "vm-1", "summary.quickStats", VI_OP_ASSIGN,
		 "<returnval "
		 "xsi:type=\"VirtualMachineQuickStats\"><uptimeSeconds>10</uptimeSeconds>"
		 "</returnval>",
		 "summary.quickStats.balloonedMemory", NULL},
		{VI_OBJ_MODIFY, "vm-1", "runtime.powerState", VI_OP_ASSIGN,
		 "<returnval xsi:type=\"VirtualMachinePowerState\">poweredOn</returnval>",
		 "runtime.powerState", "poweredOn"},
		{VI_OBJ_MODIFY, "vm-1", "runtime.powerState", VI_OP_REMOVE, NULL,
		 "runtime.powerState", NULL},
		{VI_OBJ_ENTER, "datastore-1", "vm", VI_OP_ASSIGN,
		 "<returnval xsi:type=\"ArrayOfManagedObjectReference\"><ManagedObjectReference "
		 "type=\"VirtualMachine\">vm-1</ManagedObjectReference></returnval>",
		 "vm", "1"},
		{VI_OBJ_MODIFY, "datastore-1", "vm[\"vm-2\"]", VI_OP_ADD,
		 "<returnval type=\"VirtualMachine\" xsi:type=\"ManagedObjectReference\">vm-2"
		 "</returnval>",
		 "vm", "2"},
		{VI_OBJ_MODIFY, "datastore-1", "vm[\"vm-1\"]", VI_OP_REMOVE, NULL, "vm", "1"},
		{VI_OBJ_MODIFY, "datastore-1", "vm", VI_OP_ASSIGN,
		 "<returnval xsi:type=\"ArrayOfManagedObjectReference\"></returnval>", "vm", "0"},
		{VI_OBJ_MODIFY, "datastore-1", "vm", VI_OP_ASSIGN, NULL, "vm", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *type =
			strncmp(cases[i].moref, "vm", 2) == 0 ? "VirtualMachine" : "Datastore";
		const char *got;

		test_apply(inv, cases[i].kind, type, cases[i].moref, cases[i].path, cases[i].op,
			   cases[i].xml);
		got = value(inv, type, cases[i].moref, cases[i].check_path);
		if (cases[i].want == NULL && got != NULL)
			fail_msg("case %zu: %s is %s, want unset", i, cases[i].check_path, got);
		if (cases[i].want && (!got || strcmp(got, cases[i].want) != 0))
			fail_msg("case %zu: %s is %s, want %s", i, cases[i].check_path,
				 got ? got : "(unset)", cases[i].want);
	}
	inventory_free(inv);
}

/* Objects enter, leave, and are counted per type; a leave of an unknown object is fine. */
static void test_enter_leave(void **state)
{
	struct inventory *inv = new_inv();
	int vm = inventory_type_index(inv, "VirtualMachine");
	unsigned long sg;

	(void)state;
	test_apply(inv, VI_OBJ_ENTER, "VirtualMachine", "vm-1", NULL, VI_OP_ASSIGN, NULL);
	test_apply(inv, VI_OBJ_ENTER, "VirtualMachine", "vm-2", NULL, VI_OP_ASSIGN, NULL);
	test_apply(inv, VI_OBJ_ENTER, "Datastore", "datastore-1", NULL, VI_OP_ASSIGN, NULL);
	assert_int_equal(inv->count, 3);
	assert_int_equal(inv->types[vm].count, 2);
	assert_string_equal(inv->types[vm].head->moref, "vm-1");
	assert_string_equal(inv->types[vm].tail->moref, "vm-2");
	/* the same moref value under another type is another object */
	assert_null(inventory_find(inv, "Datastore", "vm-1"));
	sg = inv->types[vm].struct_gen;
	test_apply(inv, VI_OBJ_LEAVE, "VirtualMachine", "vm-1", NULL, VI_OP_ASSIGN, NULL);
	assert_true(inv->types[vm].struct_gen != sg);
	test_apply(inv, VI_OBJ_LEAVE, "VirtualMachine", "vm-404", NULL, VI_OP_ASSIGN, NULL);
	assert_int_equal(inv->types[vm].count, 1);
	assert_string_equal(inv->types[vm].head->moref, "vm-2");
	assert_null(inventory_find(inv, NULL, "vm-1"));
	assert_int_equal(inv->count, 2);
	inventory_free(inv);
}

/* Sweep after a resync drops unseen objects from the middle, head and tail of lists. */
static void test_sweep(void **state)
{
	struct inventory *inv = new_inv();
	char moref[16];
	int vm = inventory_type_index(inv, "VirtualMachine");

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(moref, sizeof(moref), "vm-%d", i);
		test_apply(inv, VI_OBJ_ENTER, "VirtualMachine", moref, NULL, VI_OP_ASSIGN, NULL);
	}
	inventory_unmark(inv);
	for (int i = 1; i < 9; i += 2) {
		snprintf(moref, sizeof(moref), "vm-%d", i);
		test_apply(inv, VI_OBJ_ENTER, "VirtualMachine", moref, NULL, VI_OP_ASSIGN, NULL);
	}
	inventory_sweep(inv);
	assert_int_equal(inv->types[vm].count, 4);
	assert_string_equal(inv->types[vm].head->moref, "vm-1");
	assert_string_equal(inv->types[vm].tail->moref, "vm-7");
	for (int i = 0; i < 10; i++) {
		snprintf(moref, sizeof(moref), "vm-%d", i);
		if (i % 2 == 1 && i < 9)
			assert_non_null(inventory_find(inv, NULL, moref));
		else
			assert_null(inventory_find(inv, NULL, moref));
	}
	inventory_free(inv);
}

/* A property or object the server reports unreadable: applied (unset, gone)
 * and reported as a fault, never silently unset. */
static void test_unreadable(void **state)
{
	struct inventory *inv = new_inv();
	struct vi_change c = {"VirtualMachine", "vm-1", VI_OBJ_MODIFY, "name",
			      VI_OP_ASSIGN,	NULL,	"NoPermission"};
	struct err e = {0};

	(void)state;
	test_apply(inv, VI_OBJ_ENTER, "VirtualMachine", "vm-1", "name", VI_OP_ASSIGN,
		   "<returnval xsi:type=\"xsd:string\">web01</returnval>");
	assert_int_equal(inventory_apply(inv, &c, 1000, &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	assert_string_equal(e.fault, "NoPermission");
	assert_non_null(strstr(e.msg, "vm-1 name: unreadable"));
	assert_null(value(inv, "VirtualMachine", "vm-1", "name"));
	err_clear(&e);
	c.kind = VI_OBJ_LEAVE;
	c.path = NULL;
	assert_int_equal(inventory_apply(inv, &c, 1000, &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	assert_null(inventory_find(inv, "VirtualMachine", "vm-1"));
	inventory_free(inv);
}

/* Changes of an object the server never entered make no phantom object. */
static void test_modify_unknown(void **state)
{
	struct inventory *inv = new_inv();
	struct vi_node *v = test_xml_value("<returnval xsi:type=\"xsd:string\">ghost</returnval>");
	struct vi_change c = {"VirtualMachine", "vm-9", VI_OBJ_MODIFY, "name",
			      VI_OP_ASSIGN,	v,	NULL};
	struct err e = {0};

	(void)state;
	assert_int_equal(inventory_apply(inv, &c, 1000, &e), -1);
	assert_int_equal(e.kind, ERR_PROTOCOL);
	assert_null(inventory_find(inv, "VirtualMachine", "vm-9"));
	assert_int_equal(inv->count, 0);
	vi_node_free(v);
	inventory_free(inv);
}

/* A numeric value that does not parse is kept (no sample) and reported as ERR_VALUE. */
static void test_invalid_number(void **state)
{
	static const char *const bad[] = {
		"<returnval xsi:type=\"xsd:int\">12abc</returnval>",
		"<returnval xsi:type=\"xsd:long\"></returnval>",
		"<returnval xsi:type=\"xsd:boolean\">maybe</returnval>",
	};
	struct inventory *inv = new_inv();

	(void)state;
	test_apply(inv, VI_OBJ_ENTER, "VirtualMachine", "vm-1", NULL, VI_OP_ASSIGN, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vi_node *v = test_xml_value(bad[i]);
		struct vi_change c = {"VirtualMachine",
				      "vm-1",
				      VI_OBJ_MODIFY,
				      "summary.quickStats.overallCpuUsage",
				      VI_OP_ASSIGN,
				      v,
				      NULL};
		struct err e = {0};

		assert_int_equal(inventory_apply(inv, &c, 1000, &e), -1);
		assert_int_equal(e.kind, ERR_VALUE);
		assert_non_null(strstr(e.msg, "vm-1 summary.quickStats.overallCpuUsage"));
		vi_node_free(v);
	}
	/* a valid one is no error */
	test_apply(inv, VI_OBJ_MODIFY, "VirtualMachine", "vm-1",
		   "summary.quickStats.overallCpuUsage", VI_OP_ASSIGN,
		   "<returnval xsi:type=\"xsd:int\">12</returnval>");
	inventory_free(inv);
}

/* A value longer than INV_MAX_VALUE is stored cut; receiving it again is no change. */
static void test_long_value(void **state)
{
	struct inventory *inv = new_inv();
	int vm = inventory_type_index(inv, "VirtualMachine");
	int slot = inventory_slot(inv, (unsigned)vm, "name");
	size_t n = INV_MAX_VALUE + 100;
	char *xml = malloc(n + 64);
	unsigned long g;

	(void)state;
	assert_non_null(xml);
	memcpy(xml, "<returnval xsi:type=\"xsd:string\">", 33);
	memset(xml + 33, 'x', n);
	memcpy(xml + 33 + n, "</returnval>", 13);
	test_apply(inv, VI_OBJ_ENTER, "VirtualMachine", "vm-1", "name", VI_OP_ASSIGN, xml);
	assert_int_equal(strlen(value(inv, "VirtualMachine", "vm-1", "name")), INV_MAX_VALUE);
	g = inv->types[vm].slot_gen[slot];
	test_apply(inv, VI_OBJ_MODIFY, "VirtualMachine", "vm-1", "name", VI_OP_ASSIGN, xml);
	assert_int_equal(inv->types[vm].slot_gen[slot], g);
	/* a change past the cut is invisible, one before it is a change */
	xml[33 + n - 1] = 'y';
	test_apply(inv, VI_OBJ_MODIFY, "VirtualMachine", "vm-1", "name", VI_OP_ASSIGN, xml);
	assert_int_equal(inv->types[vm].slot_gen[slot], g);
	xml[33 + 10] = 'y';
	test_apply(inv, VI_OBJ_MODIFY, "VirtualMachine", "vm-1", "name", VI_OP_ASSIGN, xml);
	assert_true(inv->types[vm].slot_gen[slot] != g);
	free(xml);
	inventory_free(inv);
}

/* A collector table with a row below no fetched path is refused. */
static void test_bad_table(void **state)
{
	static const struct col_path paths[] = {{"name", COL_STORE_TEXT}, {NULL, 0}};
	static const struct col_metric rows[] = {
		{.family = "vsphere_x", .help = "x", .kind = COL_GAUGE, .path = "summary.x"},
		{NULL},
	};
	static const struct collector bad = {
		.name = "bad", .type = "X", .paths = paths, .metrics = rows};
	const struct collector *const list[] = {&bad};
	struct inventory *inv = NULL;
	struct err e = {0};

	(void)state;
	assert_int_equal(inventory_new(list, 1, &inv, &e), -1);
	assert_int_equal(e.kind, ERR_INVALID);
	assert_null(inv);
	inventory_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),	       cmocka_unit_test(test_values),
		cmocka_unit_test(test_enter_leave),    cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_bad_table),      cmocka_unit_test(test_modify_unknown),
		cmocka_unit_test(test_invalid_number), cmocka_unit_test(test_long_value),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

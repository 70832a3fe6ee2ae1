/* Unit tests: snapshots (families, sorting, sharing between snapshots, refcounts, the slot). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/snapshot.h"

static void test_families_sorted(void **state)
{
	static const char *const names[] = {"vsphere_vm_info", "vsphere_up", "vsphere_a", NULL};
	struct snapshot *s = snapshot_new();

	(void)state;
	assert_non_null(s);
	assert_int_equal(s->refs, 1);
	assert_true(json_is_array(s->questions));
	assert_true(json_is_array(s->tasks));
	for (size_t i = 0; names[i]; i++)
		assert_int_equal(snapshot_add_family(s, names[i], "help", "gauge", "x 1\n", 4), 0);
	assert_int_equal(snapshot_add_family(s, "vsphere_empty", "h", "gauge", NULL, 0), 0);
	snapshot_sort(s);
	assert_int_equal(s->nfamilies, 4);
	assert_string_equal(s->families[0].name, "vsphere_a");
	assert_string_equal(s->families[1].name, "vsphere_empty");
	assert_string_equal(s->families[1].samples, "");
	assert_int_equal(s->families[1].len, 0);
	assert_string_equal(s->families[2].name, "vsphere_up");
	assert_string_equal(s->families[3].name, "vsphere_vm_info");
	assert_string_equal(s->families[3].samples, "x 1\n");
	snapshot_put(s);
	snapshot_put(NULL);
}

static void test_take_and_share(void **state)
{
	struct snapshot *a = snapshot_new();
	struct snapshot *b = snapshot_new();
	char *text = strdup("vsphere_up{target=\"x\"} 1\n");

	(void)state;
	assert_int_equal(
		snapshot_add_family_take(a, "vsphere_up", "h", "gauge", text, strlen(text)), 0);
	assert_ptr_equal(a->families[0].samples, text);
	/* b shares a's sample text; dropping a first must leave b's intact */
	assert_int_equal(snapshot_share_family(b, &a->families[0]), 0);
	assert_ptr_equal(b->families[0].samples, text);
	assert_string_equal(b->families[0].name, "vsphere_up");
	snapshot_put(a);
	assert_string_equal(b->families[0].samples, "vsphere_up{target=\"x\"} 1\n");
	/* and a third generation sharing from b */
	{
		struct snapshot *c = snapshot_new();

		assert_int_equal(snapshot_share_family(c, &b->families[0]), 0);
		snapshot_put(b);
		assert_string_equal(c->families[0].samples, text);
		snapshot_put(c);
	}
}

static void test_slot_swap(void **state)
{
	struct snapshot_slot slot;
	struct snapshot *s1 = snapshot_new();
	struct snapshot *s2 = snapshot_new();
	struct snapshot *held;

	(void)state;
	snapshot_slot_init(&slot);
	assert_null(snapshot_slot_get(&slot));
	s1->generation = 1;
	snapshot_slot_swap(&slot, s1); /* the slot owns s1's reference */
	held = snapshot_slot_get(&slot);
	assert_ptr_equal(held, s1);
	assert_int_equal(s1->refs, 2);
	s2->generation = 2;
	snapshot_slot_swap(&slot, s2);
	/* a reader still holding s1 keeps it alive */
	assert_int_equal(held->refs, 1);
	assert_int_equal(held->generation, 1);
	snapshot_put(held);
	held = snapshot_slot_get(&slot);
	assert_int_equal(held->generation, 2);
	snapshot_put(held);
	snapshot_slot_destroy(&slot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_families_sorted),
		cmocka_unit_test(test_take_and_share),
		cmocka_unit_test(test_slot_swap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

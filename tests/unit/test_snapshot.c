/* Unit tests: snapshots (families, sorting, sharing between snapshots, refcounts, the slot). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/snapshot.h"

/* The sample lines of f, decompressed (static buffer, valid until the next
 * call; NULL frees it). */
static const char *fam_text(const struct snap_family *f)
{
	static struct buf b;

	buf_release(&b);
	buf_init(&b, 0);
	if (!f)
		return NULL;
	assert_int_equal(snap_family_text(f, &b), 0);
	assert_int_equal(b.len, f->len);
	return b.data;
}

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
	assert_string_equal(fam_text(&s->families[1]), "");
	assert_int_equal(s->families[1].len, 0);
	assert_string_equal(s->families[2].name, "vsphere_up");
	assert_string_equal(s->families[3].name, "vsphere_vm_info");
	assert_string_equal(fam_text(&s->families[3]), "x 1\n");
	snapshot_put(s);
	snapshot_put(NULL);
}

/* A family's text is kept compressed and given back whole; a missing final
 * newline is added. */
static void test_family_compressed(void **state)
{
	struct snapshot *s = snapshot_new();
	struct buf want;

	(void)state;
	buf_init(&want, 0);
	for (int i = 0; i < 5000; i++)
		buf_addf(&want, "vsphere_vm_cpus{target=\"t\",vm=\"vm %d\",vm_id=\"vm-%d\"} %d\n",
			 i, i, i % 8);
	assert_int_equal(
		snapshot_add_family(s, "vsphere_vm_cpus", "h", "gauge", want.data, want.len), 0);
	assert_int_equal(snapshot_add_family(s, "vsphere_x", "h", "gauge", "x 1", 3), 0);
	/* a few KB (the agent's own families): compressed with a small window */
	assert_int_equal(snapshot_add_family(s, "vsphere_y", "h", "gauge", want.data, 6000), 0);
	assert_true(s->families[2].segs[0]->gzlen < 6000 / 3);
	assert_int_equal(strncmp(fam_text(&s->families[2]), want.data, 6000), 0);
	assert_int_equal(s->families[0].len, want.len);
	assert_int_equal(s->families[0].nsegs, 1);
	/* compressed: Prometheus text shrinks more than fivefold */
	assert_true(s->families[0].segs[0]->gzlen < want.len / 5);
	assert_string_equal(fam_text(&s->families[0]), want.data);
	assert_string_equal(fam_text(&s->families[1]), "x 1\n");
	assert_int_equal(s->families[1].len, 4);
	snapshot_put(s);
	buf_release(&want);
}

/* Segments made by one deflater in turn, and stored ones, concatenate into
 * one family that inflates to the texts in order. */
static void test_family_segments(void **state)
{
	struct snap_deflater *d = snap_deflater_new();
	struct snapshot *s = snapshot_new();
	struct snap_seg *segs[4];
	struct buf a, all;

	(void)state;
	assert_non_null(d);
	buf_init(&a, 0);
	buf_init(&all, 0);
	for (int k = 0; k < 3; k++) {
		buf_reset(&a);
		for (int i = 0; i < 700; i++)
			buf_addf(&a, "vsphere_vm_uptime_seconds{vm_id=\"vm-%d\"} %d\n",
				 k * 1000 + i, i * 7);
		buf_add(&all, a.data, a.len);
		segs[k] = snap_seg_new(d, a.data, a.len);
		assert_non_null(segs[k]);
		assert_true(segs[k]->gzlen < a.len / 4);
	}
	/* short: stored as it is */
	segs[3] = snap_seg_new(d, "short 1\n", 8);
	assert_non_null(segs[3]);
	assert_int_equal(segs[3]->gzlen, 8 + 5);
	buf_adds(&all, "short 1\n");
	assert_int_equal(
		snapshot_add_family_segs(s, "vsphere_vm_uptime_seconds", "h", "gauge", segs, 4), 0);
	assert_int_equal(s->families[0].len, all.len);
	assert_string_equal(fam_text(&s->families[0]), all.data);
	snapshot_put(s);
	snap_deflater_free(d);
	buf_release(&a);
	buf_release(&all);
}

static void test_share(void **state)
{
	struct snapshot *a = snapshot_new();
	struct snapshot *b = snapshot_new();
	const char *text = "vsphere_up{target=\"x\"} 1\n";

	(void)state;
	assert_int_equal(snapshot_add_family(a, "vsphere_up", "h", "gauge", text, strlen(text)), 0);
	/* b shares a's segments; dropping a first must leave b's intact */
	assert_int_equal(snapshot_share_family(b, &a->families[0]), 0);
	assert_ptr_equal(b->families[0].segs[0], a->families[0].segs[0]);
	assert_int_equal(a->families[0].segs[0]->refs, 2);
	assert_string_equal(b->families[0].name, "vsphere_up");
	snapshot_put(a);
	assert_int_equal(b->families[0].segs[0]->refs, 1);
	assert_string_equal(fam_text(&b->families[0]), text);
	/* and a third generation sharing from b */
	{
		struct snapshot *c = snapshot_new();

		assert_int_equal(snapshot_share_family(c, &b->families[0]), 0);
		snapshot_put(b);
		assert_string_equal(fam_text(&c->families[0]), text);
		snapshot_put(c);
	}
	fam_text(NULL);
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
		cmocka_unit_test(test_families_sorted), cmocka_unit_test(test_family_compressed),
		cmocka_unit_test(test_family_segments), cmocka_unit_test(test_share),
		cmocka_unit_test(test_slot_swap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/support: helpers over the agent's inventory and snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/inventory.h"
#include "agent/snapshot.h"
#include "tests/support/family.h"
#include "tests/support/testutil.h"
#include "util/buf.h"

void test_apply(struct inventory *inv, enum vi_obj_kind kind, const char *type, const char *moref,
		const char *path, enum vi_prop_op op, const char *xml)
{
	struct vi_node *v = xml ? test_xml_value(xml) : NULL;
	struct vi_change c = {type, moref, kind, path, op, v, NULL};
	struct err e = {0};

	if (inventory_apply(inv, &c, 1000, &e) < 0)
		fail_msg("%s %s: %s", moref, path ? path : "", e.msg);
	vi_node_free(v);
}

const char *test_family_text(const struct snap_family *f)
{
	/* a few texts stay valid at once: an assertion may compare two */
	static struct buf ring[8];
	static size_t next;
	struct buf *b = &ring[next++ % 8];

	buf_release(b);
	buf_init(b, 0);
	assert_int_equal(snap_family_text(f, b), 0);
	assert_int_equal(b->len, f->len);
	return b->data;
}

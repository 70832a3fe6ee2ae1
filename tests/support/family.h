/* tests/support: helpers over the agent's inventory and snapshots. */
#ifndef VIMON_TESTS_FAMILY_H
#define VIMON_TESTS_FAMILY_H

#include "vi/pc.h"

struct inventory;
struct snap_family;

/* Applies one property change (xml: "<returnval ...>...</returnval>", NULL for
 * no value) at time 1000; fails the test when the inventory refuses it. */
void test_apply(struct inventory *inv, enum vi_obj_kind kind, const char *type, const char *moref,
		const char *path, enum vi_prop_op op, const char *xml);

/* The sample lines of f, decompressed, NUL-terminated; fails the test when
 * they do not inflate to f->len bytes. Valid until eight more calls. */
const char *test_family_text(const struct snap_family *f);

#endif

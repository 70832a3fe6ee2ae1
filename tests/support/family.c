/* tests/support: a snapshot family's sample lines as text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/snapshot.h"
#include "tests/support/family.h"
#include "util/buf.h"

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

/* tests/support: helpers shared by the cmocka test programs (fixtures, XML values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "tests/support/testutil.h"
#include "util/buf.h"
#include "util/err.h"

char *test_read_fixture(const char *name, size_t *len)
{
	char path[512], chunk[4096];
	struct buf b;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "tests/fixtures/%s", name);
	f = fopen(path, "rb");
	if (!f) {
		fail_msg("cannot open %s (run the tests from the top directory)", path);
		return NULL;
	}
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	assert_false(b.failed);
	return buf_detach(&b, len);
}

static int keep_copy(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	(void)path;
	(void)e;
	*(struct vi_node **)ud = vi_node_dup(n);
	return 0;
}

struct vi_node *test_xml_value(const char *xml)
{
	static const char *const paths[] = {"returnval", NULL};
	struct vi_node *n = NULL;
	struct vi_reader_spec spec = {.paths = paths, .on_node = keep_copy, .ud = &n};
	struct buf b;
	struct err e = {0};

	buf_init(&b, 0);
	buf_adds(&b, TEST_ENV_OPEN "<WaitForUpdatesExResponse xmlns=\"urn:vim25\">");
	buf_adds(&b, xml);
	buf_adds(&b, "</WaitForUpdatesExResponse>" TEST_ENV_CLOSE);
	if (vi_reader_parse(&spec, b.data, b.len, &e) < 0)
		fail_msg("parse: %s\n%s", e.msg, xml);
	buf_release(&b);
	assert_non_null(n);
	return n;
}

void test_parse_vals(const char *xml, size_t len,
		     int (*on_val)(void *ud, const char *path, const struct vi_node *n,
				   struct err *e),
		     void *ud)
{
	static const char *const paths[] = {"returnval/objects/propSet/val", NULL};
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_val, .ud = ud};
	struct err e;

	err_clear(&e);
	if (vi_reader_parse(&spec, xml, len, &e) < 0)
		fail_msg("parse: %s", e.msg);
}

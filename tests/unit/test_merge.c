/* Unit tests for agent/metrics: merging snapshots, gzip, Accept-Encoding and the page cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "agent/metrics.h"

/* Two targets' snapshots, built by hand (families sorted by name). */
#define FAM(n, h, s)                                                                               \
	{                                                                                          \
		.name = n, .help = h, .type = "gauge", .samples = s                                \
	}
static struct snap_family fam_a[] = {
	FAM("vsphere_datastore_capacity_bytes", "Datastore capacity.",
	    "vsphere_datastore_capacity_bytes{target=\"a\",datastore=\"ds1\"} 100\n"),
	FAM("vsphere_up", "1 when the last collection worked.", "vsphere_up{target=\"a\"} 1\n"),
	FAM("vsphere_vm_power_state", "VM power state.",
	    "vsphere_vm_power_state{target=\"a\",vm=\"odd/slash\",state=\"poweredOn\"} 1\n"
	    "vsphere_vm_power_state{target=\"a\",vm=\"odd/slash\",state=\"poweredOff\"} 0\n"),
};
static struct snap_family fam_b[] = {
	FAM("vsphere_host_memory_bytes", "Host memory \\ size\nin bytes.",
	    "vsphere_host_memory_bytes{target=\"b\",host=\"h1\"} 4096\n"),
	FAM("vsphere_up", "other help ignored", "vsphere_up{target=\"b\"} 0\n"),
	FAM("vsphere_vm_power_state", "VM power state.",
	    "vsphere_vm_power_state{target=\"b\",vm=\"x\",state=\"poweredOn\"} 0\n"),
};

static const char merged_ab[] =
	"# HELP vsphere_datastore_capacity_bytes Datastore capacity.\n"
	"# TYPE vsphere_datastore_capacity_bytes gauge\n"
	"vsphere_datastore_capacity_bytes{target=\"a\",datastore=\"ds1\"} 100\n"
	"# HELP vsphere_host_memory_bytes Host memory \\\\ size\\nin bytes.\n"
	"# TYPE vsphere_host_memory_bytes gauge\n"
	"vsphere_host_memory_bytes{target=\"b\",host=\"h1\"} 4096\n"
	"# HELP vsphere_up 1 when the last collection worked.\n"
	"# TYPE vsphere_up gauge\n"
	"vsphere_up{target=\"a\"} 1\n"
	"vsphere_up{target=\"b\"} 0\n"
	"# HELP vsphere_vm_power_state VM power state.\n"
	"# TYPE vsphere_vm_power_state gauge\n"
	"vsphere_vm_power_state{target=\"a\",vm=\"odd/slash\",state=\"poweredOn\"} 1\n"
	"vsphere_vm_power_state{target=\"a\",vm=\"odd/slash\",state=\"poweredOff\"} 0\n"
	"vsphere_vm_power_state{target=\"b\",vm=\"x\",state=\"poweredOn\"} 0\n";

static struct snapshot snap_a, snap_b;

static int setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		fam_a[i].len = strlen(fam_a[i].samples);
		fam_b[i].len = strlen(fam_b[i].samples);
	}
	snap_a.families = fam_a;
	snap_a.nfamilies = 3;
	snap_a.generation = 1;
	snap_b.families = fam_b;
	snap_b.nfamilies = 3;
	snap_b.generation = 7;
	return 0;
}

static void test_merge_two(void **state)
{
	struct snapshot *snaps[] = {&snap_a, &snap_b};
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(metrics_merge(snaps, 2, &b), 0);
	assert_string_equal(b.data, merged_ab);
	buf_release(&b);
}

static void test_merge_cases(void **state)
{
	static const struct {
		const char *what;
		size_t a, b; /* families of each snapshot used (0..3) */
		int with_null;
		const char *want_prefix;
		size_t want_help_lines;
	} cases[] = {
		{"no snapshots", 0, 0, 0, "", 0},
		{"one target", 3, 0, 0, "# HELP vsphere_datastore_capacity_bytes", 3},
		{"second only", 0, 3, 0, "# HELP vsphere_host_memory_bytes", 3},
		{"NULL snapshot skipped", 3, 3, 1, "# HELP vsphere_datastore_capacity_bytes", 4},
		{"partial overlap", 2, 1, 0, "# HELP vsphere_datastore_capacity_bytes", 3},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snapshot a = snap_a, b = snap_b;
		struct snapshot *snaps[3] = {&a, NULL, &b};
		struct buf out;
		size_t helps = 0;
		const char *p;

		a.nfamilies = cases[i].a;
		b.nfamilies = cases[i].b;
		buf_init(&out, 0);
		if (cases[i].with_null)
			assert_int_equal(metrics_merge(snaps, 3, &out), 0);
		else
			assert_int_equal(metrics_merge((struct snapshot *[]){&a, &b}, 2, &out), 0);
		for (p = out.data; (p = strstr(p, "# HELP ")); p++)
			helps++;
		if (helps != cases[i].want_help_lines ||
		    strncmp(out.data, cases[i].want_prefix, strlen(cases[i].want_prefix)) != 0)
			print_error("case %s: got\n%s", cases[i].what, out.data);
		assert_int_equal(helps, cases[i].want_help_lines);
		assert_int_equal(
			strncmp(out.data, cases[i].want_prefix, strlen(cases[i].want_prefix)), 0);
		buf_release(&out);
	}
}

static void test_merge_cap(void **state)
{
	struct snapshot *snaps[] = {&snap_a, &snap_b};
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(metrics_merge(snaps, 2, &b), -1);
	buf_release(&b);
}

/* Inflates a gzip member into a malloc'd NUL-terminated string. */
static char *gunzip(const unsigned char *data, size_t len)
{
	size_t cap = 1 << 20;
	char *out = malloc(cap);
	z_stream zs;

	assert_non_null(out);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = (unsigned char *)out;
	zs.avail_out = (uInt)cap - 1;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	out[zs.total_out] = '\0';
	inflateEnd(&zs);
	return out;
}

static void test_gzip(void **state)
{
	unsigned char *gz = NULL;
	size_t gzlen = 0, i;
	struct err e;
	char *back;
	struct buf big;

	(void)state;
	err_clear(&e);
	assert_int_equal(metrics_gzip(merged_ab, strlen(merged_ab), &gz, &gzlen, &e), 0);
	assert_true(gzlen > 18);
	assert_int_equal(gz[0], 0x1f);
	assert_int_equal(gz[1], 0x8b);
	back = gunzip(gz, gzlen);
	assert_string_equal(back, merged_ab);
	free(back);
	free(gz);
	gz = NULL;

	/* empty and large bodies */
	assert_int_equal(metrics_gzip("", 0, &gz, &gzlen, &e), 0);
	back = gunzip(gz, gzlen);
	assert_string_equal(back, "");
	free(back);
	free(gz);
	gz = NULL;
	buf_init(&big, 0);
	for (i = 0; i < 5000; i++)
		buf_addf(&big, "vsphere_vm_memory_bytes{target=\"t\",vm=\"vm-%zu\"} %zu\n", i,
			 i * 7);
	assert_int_equal(metrics_gzip(big.data, big.len, &gz, &gzlen, &e), 0);
	assert_true(gzlen < big.len / 4);
	back = gunzip(gz, gzlen);
	assert_string_equal(back, big.data);
	free(back);
	free(gz);
	buf_release(&big);
}

static void test_accepts_gzip(void **state)
{
	static const struct {
		const char *header;
		int want;
	} cases[] = {
		{NULL, 0},
		{"", 0},
		{"gzip", 1},
		{"GZIP", 1},
		{"identity", 0},
		{"deflate, gzip;q=1.0, *;q=0.5", 1},
		{"gzip;q=0", 0},
		{"gzip; q=0.000", 0},
		{"gzip;q=0.001", 1},
		{"x-gzip", 1},
		{"*", 1},
		{"*;q=0", 0},
		{"br, deflate", 0},
		{"gzipped", 0},
		{"deflate;q=0.5,gzip ;q=0.8", 1},
		{"gzip;q=0, *", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (metrics_accepts_gzip(cases[i].header) != cases[i].want)
			print_error("Accept-Encoding: %s\n",
				    cases[i].header ? cases[i].header : "(none)");
		assert_int_equal(metrics_accepts_gzip(cases[i].header), cases[i].want);
	}
}

static void test_cache(void **state)
{
	struct snapshot a = snap_a, b = snap_b;
	struct snapshot *snaps[] = {&a, &b};
	struct metrics_cache *mc = metrics_cache_new();
	struct metrics_page *p1 = NULL, *p2 = NULL, *p3 = NULL;
	struct err e;
	char *back;

	(void)state;
	err_clear(&e);
	assert_non_null(mc);
	assert_int_equal(metrics_cache_builds(mc), 0);
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p1, &e), 0);
	assert_int_equal(metrics_cache_builds(mc), 1);
	assert_string_equal(p1->text, merged_ab);
	assert_int_equal(p1->len, strlen(merged_ab));
	back = gunzip(p1->gz, p1->gzlen);
	assert_string_equal(back, merged_ab);
	free(back);

	/* same generations: the cached page, no rebuild */
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p2, &e), 0);
	assert_ptr_equal(p1, p2);
	assert_int_equal(metrics_cache_builds(mc), 1);
	metrics_page_put(p2);

	/* one generation changes: rebuilt; the old page stays valid for its holder */
	a.generation++;
	a.nfamilies = 2;
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p2, &e), 0);
	assert_ptr_not_equal(p1, p2);
	assert_int_equal(metrics_cache_builds(mc), 2);
	assert_null(strstr(p2->text, "poweredOff"));
	assert_string_equal(p1->text, merged_ab);
	metrics_page_put(p1);
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p3, &e), 0);
	assert_ptr_equal(p2, p3);
	assert_int_equal(metrics_cache_builds(mc), 2);
	metrics_page_put(p3);

	/* the set of targets changes (epoch), or their number */
	assert_int_equal(metrics_cache_get(mc, 2, snaps, 2, &p3, &e), 0);
	assert_int_equal(metrics_cache_builds(mc), 3);
	metrics_page_put(p3);
	assert_int_equal(metrics_cache_get(mc, 2, snaps, 1, &p3, &e), 0);
	assert_int_equal(metrics_cache_builds(mc), 4);
	assert_null(strstr(p3->text, "target=\"b\""));
	metrics_page_put(p3);

	/* the cache may go while a page is still being served */
	metrics_cache_free(mc);
	assert_non_null(strstr(p2->text, "vsphere_up{target=\"b\"} 0"));
	metrics_page_put(p2);
	metrics_page_put(NULL);
	metrics_cache_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_two),    cmocka_unit_test(test_merge_cases),
		cmocka_unit_test(test_merge_cap),    cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_accepts_gzip), cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

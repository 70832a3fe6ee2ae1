/* Unit tests for agent/metrics: merging snapshots, gzip, Accept-Encoding and the page cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "agent/metrics.h"

/* A family of a test snapshot: name, help and sample lines. */
struct tfam {
	const char *name, *help, *type, *samples;
};

/* Two targets' snapshots (families sorted by name). */
#define FAM(n, h, s)                                                                               \
	{                                                                                          \
		.name = n, .help = h, .type = "gauge", .samples = s                                \
	}
static const struct tfam fam_a[] = {
	FAM("vsphere_datastore_capacity_bytes", "Datastore capacity.",
	    "vsphere_datastore_capacity_bytes{target=\"a\",datastore=\"ds1\"} 100\n"),
	FAM("vsphere_up", "1 when the last collection worked.", "vsphere_up{target=\"a\"} 1\n"),
	FAM("vsphere_vm_power_state", "VM power state.",
	    "vsphere_vm_power_state{target=\"a\",vm=\"odd/slash\",state=\"poweredOn\"} 1\n"
	    "vsphere_vm_power_state{target=\"a\",vm=\"odd/slash\",state=\"poweredOff\"} 0\n"),
};
static const struct tfam fam_b[] = {
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

/* merged_ab after a's vsphere_up went to 0 */
static const char merged_a2b[] =
	"# HELP vsphere_datastore_capacity_bytes Datastore capacity.\n"
	"# TYPE vsphere_datastore_capacity_bytes gauge\n"
	"vsphere_datastore_capacity_bytes{target=\"a\",datastore=\"ds1\"} 100\n"
	"# HELP vsphere_host_memory_bytes Host memory \\\\ size\\nin bytes.\n"
	"# TYPE vsphere_host_memory_bytes gauge\n"
	"vsphere_host_memory_bytes{target=\"b\",host=\"h1\"} 4096\n"
	"# HELP vsphere_up 1 when the last collection worked.\n"
	"# TYPE vsphere_up gauge\n"
	"vsphere_up{target=\"a\"} 0\n"
	"vsphere_up{target=\"b\"} 0\n"
	"# HELP vsphere_vm_power_state VM power state.\n"
	"# TYPE vsphere_vm_power_state gauge\n"
	"vsphere_vm_power_state{target=\"a\",vm=\"odd/slash\",state=\"poweredOn\"} 1\n"
	"vsphere_vm_power_state{target=\"a\",vm=\"odd/slash\",state=\"poweredOff\"} 0\n"
	"vsphere_vm_power_state{target=\"b\",vm=\"x\",state=\"poweredOn\"} 0\n";

/* A real snapshot (refcounted) with the first n families of fams. */
static struct snapshot *make_snap(const struct tfam *fams, size_t n, unsigned long gen)
{
	struct snapshot *s = snapshot_new();
	size_t i;

	assert_non_null(s);
	s->generation = gen;
	for (i = 0; i < n; i++)
		assert_int_equal(snapshot_add_family(s, fams[i].name, fams[i].help, fams[i].type,
						     fams[i].samples, strlen(fams[i].samples)),
				 0);
	return s;
}

static struct snapshot *snap_a, *snap_b;

static int setup(void **state)
{
	(void)state;
	snap_a = make_snap(fam_a, 3, 1);
	snap_b = make_snap(fam_b, 3, 7);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	snapshot_put(snap_a);
	snapshot_put(snap_b);
	return 0;
}

/* Inflates a gzip member into a malloc'd NUL-terminated string. */
static char *gunzip(const unsigned char *data, size_t len)
{
	size_t cap = 1 << 24;
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
	assert_int_equal(zs.avail_in, 0); /* one gzip member, nothing after it */
	out[zs.total_out] = '\0';
	inflateEnd(&zs);
	return out;
}

/*
 * The production path: a page built by a fresh cache for snaps, flattened into
 * out; its gzip body decodes to the same text. 0, or -1 when out failed.
 */
static int merge(struct snapshot *const *snaps, size_t n, struct buf *out)
{
	struct metrics_cache *mc = metrics_cache_new();
	struct metrics_page *p = NULL;
	struct err e;
	char *back;
	int rc;

	err_clear(&e);
	assert_non_null(mc);
	assert_int_equal(metrics_cache_get(mc, 1, snaps, n, &p, &e), 0);
	rc = metrics_page_text(p, out);
	if (rc == 0) {
		back = gunzip(p->gz, p->gzlen);
		assert_string_equal(back, out->data);
		free(back);
	}
	metrics_page_put(p);
	metrics_cache_free(mc);
	return rc;
}

static void test_merge_two(void **state)
{
	struct snapshot *snaps[] = {snap_a, snap_b};
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(merge(snaps, 2, &b), 0);
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
		struct snapshot a = *snap_a, b = *snap_b;
		struct snapshot *snaps[3] = {&a, NULL, &b};
		struct buf out;
		size_t helps = 0;
		const char *p;

		a.nfamilies = cases[i].a;
		b.nfamilies = cases[i].b;
		buf_init(&out, 0);
		if (cases[i].with_null)
			assert_int_equal(merge(snaps, 3, &out), 0);
		else
			assert_int_equal(merge((struct snapshot *[]){&a, &b}, 2, &out), 0);
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
	struct snapshot *snaps[] = {snap_a, snap_b};
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(merge(snaps, 2, &b), -1);
	buf_release(&b);
}

/* The plain text of a page, flattened (valid until the next call). */
static const char *page_text(const struct metrics_page *p)
{
	static struct buf b;

	buf_release(&b);
	buf_init(&b, 0);
	assert_int_equal(metrics_page_text(p, &b), 0);
	assert_int_equal(b.len, p->len);
	return b.data;
}

/* A page's plain body and its gzip both decode to want. */
static void assert_page(const struct metrics_page *p, const char *want)
{
	char *back;

	assert_string_equal(page_text(p), want);
	assert_int_equal(p->len, strlen(want));
	back = gunzip(p->gz, p->gzlen);
	assert_string_equal(back, want);
	free(back);
}

/* The page's gzip body: a valid member, empty and large pages included. */
static void test_gzip(void **state)
{
	struct snapshot *snaps[] = {snap_a, snap_b};
	struct metrics_cache *mc = metrics_cache_new();
	struct metrics_page *p = NULL;
	struct snapshot *big;
	struct err e;
	struct buf text, samples;
	size_t i;

	(void)state;
	err_clear(&e);
	buf_init(&text, 0);
	assert_int_equal(merge(snaps, 2, &text), 0);
	assert_string_equal(text.data, merged_ab);
	buf_reset(&text);
	assert_int_equal(merge(snaps, 0, &text), 0);
	assert_string_equal(text.data, "");
	buf_release(&text);

	big = snapshot_new();
	big->generation = 1;
	buf_init(&samples, 0);
	for (i = 0; i < 5000; i++)
		buf_addf(&samples, "vsphere_vm_memory_bytes{target=\"t\",vm=\"vm-%zu\"} %zu\n", i,
			 i * 7);
	assert_int_equal(snapshot_add_family(big, "vsphere_vm_memory_bytes", "Memory.", "gauge",
					     samples.data, samples.len),
			 0);
	assert_int_equal(metrics_cache_get(mc, 1, &big, 1, &p, &e), 0);
	assert_int_equal(p->gz[0], 0x1f);
	assert_int_equal(p->gz[1], 0x8b);
	assert_true(p->gzlen < samples.len / 4);
	buf_init(&text, 0);
	buf_addf(&text,
		 "# HELP vsphere_vm_memory_bytes Memory.\n"
		 "# TYPE vsphere_vm_memory_bytes gauge\n%s",
		 samples.data);
	assert_page(p, text.data);
	buf_release(&text);
	metrics_page_put(p);
	metrics_cache_free(mc);
	snapshot_put(big);
	buf_release(&samples);
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

/* The next snapshot of target a (generation 2): vsphere_up went to 0, the other
 * two families shared with a (merged_a2b). */
static struct snapshot *next_a(struct snapshot *a)
{
	struct snapshot *a2 = snapshot_new();

	assert_non_null(a2);
	a2->generation = 2;
	assert_int_equal(snapshot_share_family(a2, &a->families[0]), 0);
	assert_int_equal(snapshot_add_family(a2, "vsphere_up", "1 when the last collection worked.",
					     "gauge", "vsphere_up{target=\"a\"} 0\n", 25),
			 0);
	assert_int_equal(snapshot_share_family(a2, &a->families[2]), 0);
	return a2;
}

static void test_cache(void **state)
{
	struct snapshot *a = make_snap(fam_a, 3, 1), *b = make_snap(fam_b, 3, 7), *a2, *a3;
	struct snapshot *snaps[] = {a, b};
	struct metrics_cache *mc = metrics_cache_new();
	struct metrics_page *p1 = NULL, *p2 = NULL, *p3 = NULL;
	struct err e;
	struct buf want;
	size_t i;

	(void)state;
	err_clear(&e);
	assert_non_null(mc);
	assert_int_equal(metrics_cache_builds(mc), 0);
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p1, &e), 0);
	assert_int_equal(metrics_cache_builds(mc), 1);
	assert_page(p1, merged_ab);

	/* same generations: the cached page, no rebuild */
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p2, &e), 0);
	assert_ptr_equal(p1, p2);
	assert_int_equal(metrics_cache_builds(mc), 1);
	metrics_page_put(p2);

	/* a new snapshot of a (generation 2) with one family changed, two
	 * shared: rebuilt, sharing their compressed segments */
	a2 = next_a(a);
	snaps[0] = a2;
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p2, &e), 0);
	assert_ptr_not_equal(p1, p2);
	assert_int_equal(metrics_cache_builds(mc), 2);
	/* pages are numbered in build order (HTTP never replaces a newer one) */
	assert_int_equal(p1->build, 1);
	assert_int_equal(p2->build, 2);
	buf_init(&want, 0);
	assert_int_equal(merge(snaps, 2, &want), 0);
	assert_string_equal(want.data, merged_a2b);
	assert_page(p2, merged_a2b);
	buf_release(&want);
	/* the old page stays valid for whoever still sends it */
	assert_page(p1, merged_ab);
	metrics_page_put(p1);
	snapshot_put(a);
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p3, &e), 0);
	assert_ptr_equal(p2, p3);
	assert_int_equal(p3->build, 2);
	assert_int_equal(metrics_cache_builds(mc), 2);
	metrics_page_put(p3);
	/* a request that read older snapshots gets the newer page, no rebuild */
	a2->generation = 1;
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p3, &e), 0);
	assert_ptr_equal(p2, p3);
	assert_int_equal(metrics_cache_builds(mc), 2);
	metrics_page_put(p3);
	a2->generation = 2;

	/* a family disappears (a3 has only the first two of a2) */
	a3 = snapshot_new();
	a3->generation = 3;
	for (i = 0; i < 2; i++)
		assert_int_equal(snapshot_share_family(a3, &a2->families[i]), 0);
	snaps[0] = a3;
	snapshot_put(a2);
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p3, &e), 0);
	assert_int_equal(metrics_cache_builds(mc), 3);
	assert_null(strstr(page_text(p3), "poweredOff"));
	buf_init(&want, 0);
	assert_int_equal(merge(snaps, 2, &want), 0);
	assert_page(p3, want.data);
	buf_release(&want);
	metrics_page_put(p3);

	/* the set of targets changes (epoch), or their number */
	assert_int_equal(metrics_cache_get(mc, 2, snaps, 2, &p3, &e), 0);
	assert_int_equal(metrics_cache_builds(mc), 4);
	metrics_page_put(p3);
	assert_int_equal(metrics_cache_get(mc, 2, snaps, 1, &p3, &e), 0);
	assert_int_equal(metrics_cache_builds(mc), 5);
	assert_null(strstr(page_text(p3), "target=\"b\""));
	assert_int_equal(metrics_cache_get(mc, 2, (struct snapshot *[]){NULL}, 1, &p1, &e), 0);
	assert_page(p1, "");
	metrics_page_put(p1);

	/* the cache and the snapshots may go while a page is still being served */
	metrics_cache_free(mc);
	snapshot_put(a3);
	snapshot_put(b);
	assert_page(p2, merged_a2b);
	metrics_page_put(p2);
	metrics_page_put(p3);
	metrics_page_put(NULL);
	metrics_cache_free(NULL);
}

/* Pages of many families and targets decode the same, plain and gzip. */
static void test_big_page(void **state)
{
	struct snapshot *snaps[3];
	struct metrics_cache *mc = metrics_cache_new();
	struct metrics_page *p = NULL;
	struct buf want, samples;
	struct err e;
	size_t t, f, i;

	(void)state;
	err_clear(&e);
	for (t = 0; t < 3; t++) {
		snaps[t] = snapshot_new();
		snaps[t]->generation = 1;
		for (f = 0; f < 40; f++) {
			char name[64];

			snprintf(name, sizeof(name), "vsphere_f%02zu_bytes", f + t);
			buf_init(&samples, 0);
			for (i = 0; i < 300 * (f % 4); i++)
				buf_addf(&samples, "%s{target=\"t%zu\",vm=\"vm-%zu\"} %zu\n", name,
					 t, i, i * 4096);
			assert_int_equal(snapshot_add_family(snaps[t], name, "Help.", "gauge",
							     samples.data, samples.len),
					 0);
			buf_release(&samples);
		}
	}
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 3, &p, &e), 0);
	/* what the page must be, written out: family NN (sorted) holds target t's
	 * family f = NN - t, targets in order */
	buf_init(&want, 0);
	for (size_t nn = 0; nn < 40 + 2; nn++) {
		char name[64];

		snprintf(name, sizeof(name), "vsphere_f%02zu_bytes", nn);
		buf_addf(&want, "# HELP %s Help.\n# TYPE %s gauge\n", name, name);
		for (t = 0; t < 3; t++) {
			if (nn < t || nn - t >= 40)
				continue;
			f = nn - t;
			for (i = 0; i < 300 * (f % 4); i++)
				buf_addf(&want, "%s{target=\"t%zu\",vm=\"vm-%zu\"} %zu\n", name, t,
					 i, i * 4096);
		}
	}
	assert_true(want.len > 500000);
	assert_page(p, want.data);
	assert_true(p->gzlen < p->len / 5);
	buf_release(&want);
	metrics_page_put(p);
	metrics_cache_free(mc);
	for (t = 0; t < 3; t++)
		snapshot_put(snaps[t]);
}

/* What the build hook of test_cache_building saw. */
struct during_build {
	struct metrics_cache *mc;
	struct snapshot **snaps;
	struct metrics_page *got; /* the page a request got while the build ran */
	int calls;
};

static void request_during_build(void *ud)
{
	struct during_build *d = ud;
	struct err e;

	err_clear(&e);
	d->calls++;
	/* same thread, cache lock not held: a request arriving now must not wait */
	assert_int_equal(metrics_cache_get(d->mc, 1, d->snaps, 2, &d->got, &e), 0);
}

/* A request that comes while another builds the next page gets the current
 * page at once (not a second build); the next request after the build gets
 * the new page, whose gzip still inflates to its plain body. */
static void test_cache_building(void **state)
{
	struct snapshot *a = make_snap(fam_a, 3, 1), *b = make_snap(fam_b, 3, 7), *a2;
	struct snapshot *snaps[] = {a, b};
	struct metrics_cache *mc = metrics_cache_new();
	struct metrics_page *p1 = NULL, *p2 = NULL, *p3 = NULL;
	struct during_build d = {mc, snaps, NULL, 0};
	struct err e;

	(void)state;
	err_clear(&e);
	assert_non_null(mc);
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p1, &e), 0);
	assert_page(p1, merged_ab);
	metrics_cache_set_build_hook(mc, request_during_build, &d);

	a2 = next_a(a);
	snaps[0] = a2;
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p2, &e), 0);
	assert_int_equal(d.calls, 1);
	/* the request during the build: the page before it, served, not rebuilt */
	assert_ptr_equal(d.got, p1);
	assert_int_equal(metrics_cache_stale_served(mc), 1);
	assert_int_equal(metrics_cache_builds(mc), 2);
	assert_page(p2, merged_a2b);
	metrics_page_put(d.got);

	/* after the build: the new page, no build, no stale page */
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p3, &e), 0);
	assert_ptr_equal(p3, p2);
	assert_int_equal(d.calls, 1);
	assert_int_equal(metrics_cache_stale_served(mc), 1);
	metrics_page_put(p3);

	/* another set of targets: a request never gets a page of the old set
	 * (here the hook's own request, epoch 1, gets the page of epoch 1 and
	 * the build of epoch 2 goes on) */
	assert_int_equal(metrics_cache_get(mc, 2, snaps, 1, &p3, &e), 0);
	assert_int_equal(d.calls, 2);
	assert_ptr_equal(d.got, p2);
	metrics_page_put(d.got);
	assert_null(strstr(page_text(p3), "target=\"b\""));
	metrics_page_put(p3);

	metrics_page_put(p1);
	metrics_page_put(p2);
	metrics_cache_free(mc);
	snapshot_put(a);
	snapshot_put(a2);
	snapshot_put(b);
}

/* A request on its own thread (test_cache_waits). */
struct waiter {
	pthread_t thread;
	struct metrics_cache *mc;
	struct snapshot **snaps;
	struct metrics_page *got;
	int done; /* atomic */
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct err e;

	err_clear(&e);
	if (metrics_cache_get(w->mc, 1, w->snaps, 2, &w->got, &e) < 0)
		w->got = NULL;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* During the build: another request starts, and is still waiting 100 ms later. */
static void start_waiter(void *ud)
{
	struct waiter *w = ud;
	struct timespec pause = {0, 100 * 1000 * 1000};

	assert_int_equal(pthread_create(&w->thread, NULL, waiter_main, w), 0);
	nanosleep(&pause, NULL);
	assert_int_equal(__atomic_load_n(&w->done, __ATOMIC_ACQUIRE), 0);
}

/* A cached page older than the staleness bound is not served during a build:
 * the request waits for the new page (an idle agent's page may be minutes old). */
static void test_cache_waits(void **state)
{
	struct snapshot *a = make_snap(fam_a, 3, 1), *b = make_snap(fam_b, 3, 7), *a2;
	struct snapshot *snaps[] = {a, b};
	struct metrics_cache *mc = metrics_cache_new();
	struct metrics_page *p1 = NULL, *p2 = NULL;
	struct waiter w = {0};
	struct err e;

	(void)state;
	err_clear(&e);
	assert_non_null(mc);
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p1, &e), 0);
	metrics_cache_set_stale_max(mc, 0);
	a2 = next_a(a);
	snaps[0] = a2;
	w.mc = mc;
	w.snaps = snaps;
	metrics_cache_set_build_hook(mc, start_waiter, &w);
	assert_int_equal(metrics_cache_get(mc, 1, snaps, 2, &p2, &e), 0);
	metrics_cache_set_build_hook(mc, NULL, NULL);
	assert_int_equal(pthread_join(w.thread, NULL), 0);
	/* the waiting request got the new page, not the old one, and built none */
	assert_ptr_equal(w.got, p2);
	assert_int_equal(metrics_cache_stale_served(mc), 0);
	assert_int_equal(metrics_cache_builds(mc), 2);
	assert_page(p2, merged_a2b);
	metrics_page_put(w.got);
	metrics_page_put(p1);
	metrics_page_put(p2);
	metrics_cache_free(mc);
	snapshot_put(a);
	snapshot_put(a2);
	snapshot_put(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_two),    cmocka_unit_test(test_merge_cases),
		cmocka_unit_test(test_merge_cap),    cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_accepts_gzip), cmocka_unit_test(test_cache),
		cmocka_unit_test(test_big_page),     cmocka_unit_test(test_cache_building),
		cmocka_unit_test(test_cache_waits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

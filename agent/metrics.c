/* agent/metrics: family-by-family merge of the targets' snapshots, gzip, and the page cache. */
#include "agent/metrics.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

/* While the next page is built, a request gets the cached one only when its
 * build started less than this many seconds ago; otherwise it waits for the
 * build (an idle cache's page may be minutes old). */
#define METRICS_STALE_S 2.0

/* The generation recorded for a NULL snapshot. */
#define GEN_NONE ULONG_MAX

/*
 * One page is built at a time, outside the lock: a request that finds the page
 * out of date while another request builds the next one gets the current page
 * at once, when that page's build started less than stale_max seconds ago,
 * instead of queueing behind the build; a request that finds no build under
 * way builds, and so sees every publication made before it came.
 */
struct metrics_cache {
	pthread_mutex_t lock;
	pthread_cond_t built;	   /* signalled when a build ends */
	struct metrics_page *page; /* NULL before the first build */
	unsigned long epoch;
	unsigned long *gens; /* generation of each snapshot the page was built from */
	size_t ngens;
	unsigned long builds;
	double built_at;	    /* monotonic start of the cached page's build */
	double stale_max;	    /* METRICS_STALE_S; tests change it */
	bool building;		    /* a request is building the next page */
	unsigned long stale_served; /* requests given the page while the next was built */
	void (*hook)(void *ud);	    /* test hook: called by a builder outside the lock */
	void *hook_ud;
};

/* Appends a HELP text escaped as the exposition format wants (\ and newline). */
static void add_help(struct buf *out, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		if (*s != '\\' && *s != '\n')
			continue;
		buf_add(out, run, (size_t)(s - run));
		buf_adds(out, *s == '\\' ? "\\\\" : "\\n");
		run = s + 1;
	}
	buf_add(out, run, (size_t)(s - run));
}

/* Compares the coding token [s, s+n) with name, ignoring case. */
static int token_is(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

int metrics_accepts_gzip(const char *ae)
{
	int gzip = -1, star = -1;

	if (!ae)
		return 0;
	while (*ae) {
		const char *tok, *end, *q;
		size_t n;
		int allowed = 1;

		while (*ae == ' ' || *ae == '\t' || *ae == ',')
			ae++;
		tok = ae;
		end = ae + strcspn(ae, ",");
		n = strcspn(tok, ";, \t");
		if (n > (size_t)(end - tok))
			n = (size_t)(end - tok);
		/* q=0 (0, 0.0, 0.000) refuses the coding. */
		q = strstr(tok, "q=");
		if (q && q < end) {
			const char *d = q + 2;

			allowed = 0;
			for (; d < end && (isdigit((unsigned char)*d) || *d == '.'); d++)
				if (*d >= '1' && *d <= '9')
					allowed = 1;
		}
		if (token_is(tok, n, "gzip") || token_is(tok, n, "x-gzip"))
			gzip = allowed;
		else if (token_is(tok, n, "*"))
			star = allowed;
		ae = end;
	}
	if (gzip >= 0)
		return gzip;
	return star > 0;
}

void metrics_page_ref(struct metrics_page *p)
{
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
}

void metrics_page_put(struct metrics_page *p)
{
	if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(p->gzdata);
	free(p);
}

/* The page's plain body, inflated from its gzip body. */
struct metrics_reader {
	struct metrics_page *page; /* a reference */
	z_stream zs;
	size_t done; /* plain bytes given */
	bool failed;
};

struct metrics_reader *metrics_reader_new(struct metrics_page *p)
{
	struct metrics_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	/* 16 + 15: a gzip member, 32 KiB window */
	if (inflateInit2(&r->zs, 16 + 15) != Z_OK) {
		free(r);
		return NULL;
	}
	metrics_page_ref(p);
	r->page = p;
	r->zs.next_in = (unsigned char *)p->gz;
	r->zs.avail_in = (uInt)p->gzlen;
	return r;
}

long metrics_reader_read(struct metrics_reader *r, char *out, size_t max)
{
	size_t got;
	int rc;

	if (r->failed)
		return -1;
	if (r->done == r->page->len)
		return 0;
	if (max > r->page->len - r->done)
		max = r->page->len - r->done;
	if (max > 1u << 30)
		max = 1u << 30;
	r->zs.next_out = (unsigned char *)out;
	r->zs.avail_out = (uInt)max;
	rc = inflate(&r->zs, Z_SYNC_FLUSH);
	got = max - r->zs.avail_out;
	r->done += got;
	/* the page was built here: a body that does not inflate to its length is a bug */
	if ((rc != Z_OK && rc != Z_STREAM_END) || got == 0 ||
	    (rc == Z_STREAM_END && r->done != r->page->len)) {
		r->failed = true;
		return -1;
	}
	return (long)got;
}

void metrics_reader_free(struct metrics_reader *r)
{
	if (!r)
		return;
	inflateEnd(&r->zs);
	metrics_page_put(r->page);
	free(r);
}

int metrics_page_text(const struct metrics_page *p, struct buf *out)
{
	struct metrics_reader *r = metrics_reader_new((struct metrics_page *)p);
	long n = 0;

	if (!r || buf_grow(out, p->len) < 0) {
		metrics_reader_free(r);
		return -1;
	}
	while ((n = metrics_reader_read(r, out->data + out->len, out->alloc - out->len - 1)) > 0)
		out->len += (size_t)n;
	out->data[out->len] = '\0';
	metrics_reader_free(r);
	return n < 0 || out->len != p->len ? -1 : 0;
}

struct metrics_cache *metrics_cache_new(void)
{
	struct metrics_cache *mc = calloc(1, sizeof(*mc));

	if (mc) {
		pthread_mutex_init(&mc->lock, NULL);
		pthread_cond_init(&mc->built, NULL);
		mc->stale_max = METRICS_STALE_S;
	}
	return mc;
}

void metrics_cache_free(struct metrics_cache *mc)
{
	if (!mc)
		return;
	metrics_page_put(mc->page);
	free(mc->gens);
	pthread_cond_destroy(&mc->built);
	pthread_mutex_destroy(&mc->lock);
	free(mc);
}

unsigned long metrics_cache_builds(struct metrics_cache *mc)
{
	unsigned long n;

	pthread_mutex_lock(&mc->lock);
	n = mc->builds;
	pthread_mutex_unlock(&mc->lock);
	return n;
}

unsigned long metrics_cache_stale_served(struct metrics_cache *mc)
{
	unsigned long n;

	pthread_mutex_lock(&mc->lock);
	n = mc->stale_served;
	pthread_mutex_unlock(&mc->lock);
	return n;
}

void metrics_cache_set_stale_max(struct metrics_cache *mc, double seconds)
{
	pthread_mutex_lock(&mc->lock);
	mc->stale_max = seconds;
	pthread_mutex_unlock(&mc->lock);
}

/* Monotonic seconds. */
static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void metrics_cache_set_build_hook(struct metrics_cache *mc, void (*hook)(void *ud), void *ud)
{
	pthread_mutex_lock(&mc->lock);
	mc->hook = hook;
	mc->hook_ud = ud;
	pthread_mutex_unlock(&mc->lock);
}

/*
 * 1 when the cached page is at least as new as snaps: same epoch and count,
 * and no generation newer than the cached one. (Generations only grow, so a
 * request that read its snapshots just before another request rebuilt the
 * page gets the newer page instead of rebuilding an older one.)
 */
static int cache_fresh(const struct metrics_cache *mc, unsigned long epoch,
		       struct snapshot *const *snaps, size_t n)
{
	size_t i;

	if (!mc->page || mc->epoch != epoch || mc->ngens != n)
		return 0;
	for (i = 0; i < n; i++) {
		if (!snaps[i] ? mc->gens[i] != GEN_NONE
			      : mc->gens[i] == GEN_NONE || snaps[i]->generation > mc->gens[i])
			return 0;
	}
	return 1;
}

/* Appends a 32-bit little-endian number. */
static void add_le32(struct buf *out, unsigned long v)
{
	char b[4] = {(char)(v & 0xff), (char)((v >> 8) & 0xff), (char)((v >> 16) & 0xff),
		     (char)((v >> 24) & 0xff)};

	buf_add(out, b, 4);
}

/* Appends text as deflate stored blocks; *crc and *total account for it. */
static void add_stored(struct buf *out, const char *text, size_t len, unsigned long *crc,
		       size_t *total)
{
	*crc = crc32_z(*crc, (const unsigned char *)text, len);
	*total += len;
	snap_add_stored(out, text, len);
}

/*
 * Builds a page from snaps: one gzip member whose deflate stream is, family
 * by family in name order, the HELP/TYPE lines (stored) and then each
 * snapshot's compressed segments of that family, copied as they are; an empty
 * final block, then the CRC-32 (combined from the segments') and the length
 * of the whole text. Nothing is compressed here. NULL with e set on failure.
 */
static struct metrics_page *page_build(struct snapshot *const *snaps, size_t n, struct err *e)
{
	static const char gzip_header[10] = {0x1f, (char)0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	unsigned long crc = crc32(0L, Z_NULL, 0);
	struct metrics_page *p;
	size_t *pos, i, total = 0;
	struct buf gz, hdr;

	p = calloc(1, sizeof(*p));
	pos = calloc(n ? n : 1, sizeof(*pos));
	if (!p || !pos) {
		free(p);
		free(pos);
		err_set(e, ERR_NOMEM, "building /metrics: out of memory");
		return NULL;
	}
	p->refs = 1;
	buf_init(&gz, 0);
	buf_init(&hdr, 0);
	for (i = 0; i < n; i++)
		if (snaps[i])
			for (size_t k = 0; k < snaps[i]->nfamilies; k++)
				total += snaps[i]->families[k].len;
	buf_grow(&gz, total / 12 + 4096);
	buf_add(&gz, gzip_header, sizeof(gzip_header));
	for (;;) {
		const struct snap_family *first = NULL;

		for (i = 0; i < n; i++) {
			const struct snap_family *f;

			if (!snaps[i] || pos[i] >= snaps[i]->nfamilies)
				continue;
			f = &snaps[i]->families[pos[i]];
			if (!first || strcmp(f->name, first->name) < 0)
				first = f;
		}
		if (!first)
			break;
		buf_reset(&hdr);
		buf_addf(&hdr, "# HELP %s ", first->name);
		add_help(&hdr, first->help ? first->help : "");
		buf_addf(&hdr, "\n# TYPE %s %s\n", first->name,
			 first->type ? first->type : "untyped");
		if (hdr.failed) /* reset for each family: seen here */
			gz.failed = true;
		add_stored(&gz, hdr.data, hdr.len, &crc, &p->len);
		for (i = 0; i < n; i++) {
			const struct snap_family *f;

			if (!snaps[i] || pos[i] >= snaps[i]->nfamilies)
				continue;
			f = &snaps[i]->families[pos[i]];
			if (f != first && strcmp(f->name, first->name) != 0)
				continue;
			for (size_t k = 0; k < f->nsegs; k++) {
				const struct snap_seg *g = f->segs[k];

				buf_add(&gz, g->gz, g->gzlen);
				crc = crc32_combine(crc, g->crc, (z_off_t)g->raw_len);
				p->len += g->raw_len;
			}
			pos[i]++;
		}
	}
	buf_add(&gz, "\x03\x00", 2); /* final fixed-Huffman block, empty */
	add_le32(&gz, crc);
	add_le32(&gz, (unsigned long)(p->len & 0xffffffffUL));
	free(pos);
	if (gz.failed || hdr.failed) {
		buf_release(&hdr);
		buf_release(&gz);
		free(p);
		err_set(e, ERR_NOMEM, "building /metrics: out of memory");
		return NULL;
	}
	buf_release(&hdr);
	p->gzdata = (unsigned char *)buf_detach(&gz, &p->gzlen);
	p->gz = p->gzdata;
	return p;
}

int metrics_cache_get(struct metrics_cache *mc, unsigned long epoch, struct snapshot *const *snaps,
		      size_t n, struct metrics_page **out, struct err *e)
{
	struct metrics_page *p;
	void (*hook)(void *ud);
	unsigned long *gens;
	double start;
	size_t i;
	int ret = -1;

	pthread_mutex_lock(&mc->lock);
	for (;;) {
		if (cache_fresh(mc, epoch, snaps, n)) {
			metrics_page_ref(mc->page);
			*out = mc->page;
			ret = 0;
			goto out_unlock;
		}
		if (!mc->building)
			break;
		/* another request builds the next page: serve the current one
		 * when it shows the same targets and is recent, else wait */
		if (mc->page && mc->epoch == epoch && mc->ngens == n &&
		    mono_now() - mc->built_at < mc->stale_max) {
			metrics_page_ref(mc->page);
			*out = mc->page;
			mc->stale_served++;
			ret = 0;
			goto out_unlock;
		}
		pthread_cond_wait(&mc->built, &mc->lock);
	}
	gens = calloc(n ? n : 1, sizeof(*gens));
	if (!gens) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_unlock;
	}
	mc->building = true;
	start = mono_now();
	hook = mc->hook;
	pthread_mutex_unlock(&mc->lock);

	if (hook)
		hook(mc->hook_ud);
	p = page_build(snaps, n, e);

	pthread_mutex_lock(&mc->lock);
	mc->building = false;
	pthread_cond_broadcast(&mc->built);
	if (!p) {
		free(gens);
		goto out_unlock;
	}
	for (i = 0; i < n; i++)
		gens[i] = snaps[i] ? snaps[i]->generation : GEN_NONE;
	metrics_page_put(mc->page);
	free(mc->gens);
	mc->page = p;
	mc->gens = gens;
	mc->ngens = n;
	mc->epoch = epoch;
	mc->built_at = start;
	p->build = ++mc->builds;
	metrics_page_ref(p);
	*out = p;
	ret = 0;
out_unlock:
	pthread_mutex_unlock(&mc->lock);
	return ret;
}

/* agent/metrics: family-by-family merge of the targets' snapshots, gzip, and the page cache. */
#include "agent/metrics.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* zlib level: the page is rebuilt on a scrape after each change, so favour
 * speed; Prometheus text still shrinks about tenfold. */
#define METRICS_GZIP_LEVEL 1

struct metrics_cache {
	pthread_mutex_t lock;
	struct metrics_page *page; /* NULL before the first build */
	unsigned long epoch;
	unsigned long *gens; /* generation of each snapshot the page was built from */
	size_t ngens;
	unsigned long builds;
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

int metrics_merge(struct snapshot *const *snaps, size_t n, struct buf *out)
{
	size_t *pos, i, total = 0;
	int ret = -1;

	pos = calloc(n ? n : 1, sizeof(*pos));
	if (!pos) {
		out->failed = true;
		return -1;
	}
	/* One allocation for the whole body: samples plus generous headers. */
	for (i = 0; i < n; i++) {
		size_t f;

		if (!snaps[i])
			continue;
		for (f = 0; f < snaps[i]->nfamilies; f++) {
			const struct snap_family *fam = &snaps[i]->families[f];

			total += fam->len + 2 * strlen(fam->name) + 2 * strlen(fam->help) + 40;
		}
	}
	buf_grow(out, total);
	for (;;) {
		const struct snap_family *first = NULL;

		/* The smallest family name among the snapshots' next families. */
		for (i = 0; i < n; i++) {
			const struct snap_family *fam;

			if (!snaps[i] || pos[i] >= snaps[i]->nfamilies)
				continue;
			fam = &snaps[i]->families[pos[i]];
			if (!first || strcmp(fam->name, first->name) < 0)
				first = fam;
		}
		if (!first)
			break;
		buf_addf(out, "# HELP %s ", first->name);
		add_help(out, first->help ? first->help : "");
		buf_addf(out, "\n# TYPE %s %s\n", first->name,
			 first->type ? first->type : "untyped");
		for (i = 0; i < n; i++) {
			const struct snap_family *fam;

			if (!snaps[i] || pos[i] >= snaps[i]->nfamilies)
				continue;
			fam = &snaps[i]->families[pos[i]];
			if (fam != first && strcmp(fam->name, first->name) != 0)
				continue;
			buf_add(out, fam->samples, fam->len);
			if (fam->len && fam->samples[fam->len - 1] != '\n')
				buf_addc(out, '\n');
			pos[i]++;
		}
	}
	if (!out->failed)
		ret = 0;
	free(pos);
	return ret;
}

int metrics_gzip(const char *data, size_t len, unsigned char **out, size_t *outlen, struct err *e)
{
	z_stream zs;
	unsigned char *dst;
	uLong bound;
	int rc;

	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: a gzip wrapper, as Content-Encoding: gzip wants. */
	if (deflateInit2(&zs, METRICS_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return err_set(e, ERR_NOMEM, "gzip: deflateInit2 failed");
	bound = deflateBound(&zs, (uLong)len);
	dst = malloc(bound ? bound : 1);
	if (!dst) {
		deflateEnd(&zs);
		return err_set(e, ERR_NOMEM, "gzip: out of memory for %lu bytes", bound);
	}
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = dst;
	zs.avail_out = (uInt)bound;
	rc = deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(dst);
		return err_set(e, ERR_SYSTEM, "gzip: deflate failed (%d)", rc);
	}
	*out = dst;
	*outlen = zs.total_out;
	return 0;
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
	free(p->text);
	free(p->gz);
	free(p);
}

struct metrics_cache *metrics_cache_new(void)
{
	struct metrics_cache *mc = calloc(1, sizeof(*mc));

	if (mc)
		pthread_mutex_init(&mc->lock, NULL);
	return mc;
}

void metrics_cache_free(struct metrics_cache *mc)
{
	if (!mc)
		return;
	metrics_page_put(mc->page);
	free(mc->gens);
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

/* 1 when the cached page was built from exactly these generations. */
static int cache_fresh(const struct metrics_cache *mc, unsigned long epoch,
		       struct snapshot *const *snaps, size_t n)
{
	size_t i;

	if (!mc->page || mc->epoch != epoch || mc->ngens != n)
		return 0;
	for (i = 0; i < n; i++)
		if (mc->gens[i] != (snaps[i] ? snaps[i]->generation : 0))
			return 0;
	return 1;
}

/* Builds a page from snaps; NULL with e set on failure. */
static struct metrics_page *page_build(struct snapshot *const *snaps, size_t n, struct err *e)
{
	struct metrics_page *p;
	struct buf b;

	p = calloc(1, sizeof(*p));
	if (!p) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	p->refs = 1;
	buf_init(&b, 0);
	if (metrics_merge(snaps, n, &b) < 0) {
		err_set(e, ERR_NOMEM, "merging the snapshots: out of memory");
		buf_release(&b);
		free(p);
		return NULL;
	}
	p->text = buf_detach(&b, &p->len);
	if (!p->text || metrics_gzip(p->text, p->len, &p->gz, &p->gzlen, e) < 0) {
		err_set(e, ERR_NOMEM, "out of memory");
		metrics_page_put(p);
		return NULL;
	}
	return p;
}

int metrics_cache_get(struct metrics_cache *mc, unsigned long epoch, struct snapshot *const *snaps,
		      size_t n, struct metrics_page **out, struct err *e)
{
	struct metrics_page *p;
	unsigned long *gens;
	size_t i;
	int ret = -1;

	pthread_mutex_lock(&mc->lock);
	if (cache_fresh(mc, epoch, snaps, n)) {
		metrics_page_ref(mc->page);
		*out = mc->page;
		ret = 0;
		goto out_unlock;
	}
	gens = calloc(n ? n : 1, sizeof(*gens));
	if (!gens) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_unlock;
	}
	p = page_build(snaps, n, e);
	if (!p) {
		free(gens);
		goto out_unlock;
	}
	for (i = 0; i < n; i++)
		gens[i] = snaps[i] ? snaps[i]->generation : 0;
	metrics_page_put(mc->page);
	free(mc->gens);
	mc->page = p;
	mc->gens = gens;
	mc->ngens = n;
	mc->epoch = epoch;
	mc->builds++;
	metrics_page_ref(p);
	*out = p;
	ret = 0;
out_unlock:
	pthread_mutex_unlock(&mc->lock);
	return ret;
}

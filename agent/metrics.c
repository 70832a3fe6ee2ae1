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

/* zlib level: the page is rebuilt on a scrape after each change, so favour
 * speed; Prometheus text still shrinks about tenfold. */
#define METRICS_GZIP_LEVEL 1

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
	size_t i;

	if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (i = 0; i < p->nsnaps; i++)
		snapshot_put(p->snaps[i]);
	free(p->snaps);
	free(p->headers);
	free(p->fams);
	free(p->keys);
	free(p->keylens);
	free(p->iovs);
	free(p->gzdata);
	free(p);
}

int metrics_page_text(const struct metrics_page *p, struct buf *out)
{
	size_t i;

	for (i = 0; i < p->niov; i++)
		buf_add(out, p->iov[i].base, p->iov[i].len);
	return out->failed ? -1 : 0;
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

/* One merged family of a page: its HELP/TYPE lines and its gzip member. */
struct metrics_fam {
	const char *name; /* borrowed from a snapshot the page holds */
	size_t hdr_off, hdr_len;
	size_t gz_off, gz_len; /* its deflate segment in the page's gzip body */
	unsigned long crc;     /* CRC-32 of its plain text */
	size_t raw_len;	       /* length of its plain text */
};

/* Runs deflate until the input is consumed (and the stream ended for
 * Z_FINISH), growing out as needed. 0 or -1. */
static int deflate_into(z_stream *zs, struct buf *out, int flush)
{
	uInt room;
	int rc;

	for (;;) {
		if (buf_grow(out, 64 * 1024) < 0)
			return -1;
		room = (uInt)(out->alloc - out->len - 1);
		zs->next_out = (unsigned char *)out->data + out->len;
		zs->avail_out = room;
		rc = deflate(zs, flush);
		if (rc == Z_STREAM_ERROR)
			return -1;
		out->len += room - zs->avail_out;
		out->data[out->len] = '\0';
		if (flush == Z_FINISH ? rc == Z_STREAM_END : zs->avail_in == 0 && zs->avail_out > 0)
			return 0;
	}
}

/*
 * Appends one raw deflate segment holding the pieces, ended by a sync flush
 * (byte-aligned, no final block), so that segments made by separate streams
 * can be concatenated into one deflate stream; *crc gets the pieces' CRC-32.
 * 0 or -1.
 */
static int deflate_segment(struct buf *out, const struct metrics_iov *pieces, size_t n,
			   unsigned long *crc)
{
	z_stream zs;
	size_t i;
	int ret = -1;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, METRICS_GZIP_LEVEL, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	*crc = crc32(0L, Z_NULL, 0);
	for (i = 0; i < n; i++) {
		zs.next_in = (unsigned char *)pieces[i].base;
		zs.avail_in = (uInt)pieces[i].len;
		*crc = crc32(*crc, (const unsigned char *)pieces[i].base, (uInt)pieces[i].len);
		if (deflate_into(&zs, out, Z_NO_FLUSH) < 0)
			goto out_end;
	}
	zs.next_in = NULL;
	zs.avail_in = 0;
	if (deflate_into(&zs, out, Z_SYNC_FLUSH) == 0)
		ret = 0;
out_end:
	deflateEnd(&zs);
	return ret;
}

/* Appends a 32-bit little-endian number. */
static void add_le32(struct buf *out, unsigned long v)
{
	char b[4] = {(char)(v & 0xff), (char)((v >> 8) & 0xff), (char)((v >> 16) & 0xff),
		     (char)((v >> 24) & 0xff)};

	buf_add(out, b, 4);
}

/* 1 when family k of p has the same HELP/TYPE and the very same sample
 * buffers as family j of prev (both pages hold their snapshots, so equal
 * pointers are the same immutable text). */
static int fam_same(const struct metrics_page *prev, size_t j, const struct metrics_page *p,
		    size_t k)
{
	const struct metrics_fam *a = &prev->fams[j], *b = &p->fams[k];
	size_t i, n = p->nsnaps;

	if (prev->nsnaps != n || a->hdr_len != b->hdr_len ||
	    memcmp(prev->headers + a->hdr_off, p->headers + b->hdr_off, a->hdr_len) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (prev->keys[j * n + i] != p->keys[k * n + i] ||
		    prev->keylens[j * n + i] != p->keylens[k * n + i])
			return 0;
	return 1;
}

/* Pass 1: the merged families, their HELP/TYPE lines and sample keys. 0 or -1. */
static int page_families(struct metrics_page *p)
{
	size_t n = p->nsnaps, cap = 0, i, *pos;
	struct buf hdr;
	int ret = -1;

	pos = calloc(n ? n : 1, sizeof(*pos));
	if (!pos)
		return -1;
	buf_init(&hdr, 0);
	for (;;) {
		const struct snap_family *first = NULL;
		struct metrics_fam *f;

		for (i = 0; i < n; i++) {
			const struct snap_family *fam;

			if (pos[i] >= p->snaps[i]->nfamilies)
				continue;
			fam = &p->snaps[i]->families[pos[i]];
			if (!first || strcmp(fam->name, first->name) < 0)
				first = fam;
		}
		if (!first)
			break;
		if (p->nfams == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *a = realloc(p->fams, ncap * sizeof(*p->fams));

			if (!a)
				goto out_free;
			p->fams = a;
			a = realloc(p->keys, ncap * (n ? n : 1) * sizeof(*p->keys));
			if (!a)
				goto out_free;
			p->keys = a;
			a = realloc(p->keylens, ncap * (n ? n : 1) * sizeof(*p->keylens));
			if (!a)
				goto out_free;
			p->keylens = a;
			cap = ncap;
		}
		f = &p->fams[p->nfams];
		f->name = first->name;
		f->hdr_off = hdr.len;
		buf_addf(&hdr, "# HELP %s ", first->name);
		add_help(&hdr, first->help ? first->help : "");
		buf_addf(&hdr, "\n# TYPE %s %s\n", first->name,
			 first->type ? first->type : "untyped");
		f->hdr_len = hdr.len - f->hdr_off;
		for (i = 0; i < n; i++) {
			const struct snap_family *fam = NULL;

			if (pos[i] < p->snaps[i]->nfamilies)
				fam = &p->snaps[i]->families[pos[i]];
			if (fam && (fam == first || strcmp(fam->name, first->name) == 0)) {
				p->keys[p->nfams * n + i] = fam->samples;
				p->keylens[p->nfams * n + i] = fam->len;
				pos[i]++;
			} else {
				p->keys[p->nfams * n + i] = NULL;
				p->keylens[p->nfams * n + i] = 0;
			}
		}
		p->nfams++;
	}
	if (hdr.failed)
		goto out_free;
	p->headers = buf_detach(&hdr, NULL);
	if (p->headers)
		ret = 0;
out_free:
	buf_release(&hdr);
	free(pos);
	return ret;
}

/* The pieces of family k (header, then each snapshot's samples) into out;
 * returns how many. out has room for 1 + 2 * nsnaps. */
static size_t fam_pieces(const struct metrics_page *p, size_t k, struct metrics_iov *out)
{
	size_t i, n = p->nsnaps, m = 0;

	out[m].base = p->headers + p->fams[k].hdr_off;
	out[m++].len = p->fams[k].hdr_len;
	for (i = 0; i < n; i++) {
		const char *samples = p->keys[k * n + i];
		size_t len = p->keylens[k * n + i];

		if (!samples || !len)
			continue;
		out[m].base = samples;
		out[m++].len = len;
		if (samples[len - 1] != '\n') {
			out[m].base = "\n";
			out[m++].len = 1;
		}
	}
	return m;
}

/* Builds a page from snaps, reusing prev's compressed families where they
 * did not change; NULL with e set on failure. */
static struct metrics_page *page_build(struct snapshot *const *snaps, size_t n,
				       const struct metrics_page *prev, struct err *e)
{
	static const char gzip_header[10] = {0x1f, (char)0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	unsigned long crc = crc32(0L, Z_NULL, 0);
	struct metrics_page *p;
	size_t i, k, j = 0, per;
	struct buf gz;

	p = calloc(1, sizeof(*p));
	if (!p)
		goto out_nomem;
	p->refs = 1;
	p->snaps = calloc(n ? n : 1, sizeof(*p->snaps));
	if (!p->snaps)
		goto out_nomem;
	for (i = 0; i < n; i++) {
		if (!snaps[i])
			continue;
		snapshot_ref(snaps[i]);
		p->snaps[p->nsnaps++] = snaps[i];
	}
	if (page_families(p) < 0)
		goto out_nomem;
	per = 1 + 2 * p->nsnaps;
	p->iovs = malloc((p->nfams ? p->nfams : 1) * per * sizeof(*p->iovs));
	if (!p->iovs)
		goto out_nomem;
	/* One gzip member: header, the families' deflate segments, an empty
	 * final block, then the CRC-32 and length of the whole text. */
	buf_init(&gz, 0);
	buf_add(&gz, gzip_header, sizeof(gzip_header));
	for (k = 0; k < p->nfams; k++) {
		struct metrics_fam *f = &p->fams[k];
		struct metrics_iov *pieces = p->iovs + p->niov;
		size_t m = fam_pieces(p, k, pieces);
		int reused = 0;

		f->raw_len = 0;
		for (i = 0; i < m; i++)
			f->raw_len += pieces[i].len;
		p->len += f->raw_len;
		f->gz_off = gz.len;
		if (prev) {
			while (j < prev->nfams && strcmp(prev->fams[j].name, f->name) < 0)
				j++;
			if (j < prev->nfams && strcmp(prev->fams[j].name, f->name) == 0 &&
			    fam_same(prev, j, p, k)) {
				buf_add(&gz, prev->gz + prev->fams[j].gz_off, prev->fams[j].gz_len);
				f->crc = prev->fams[j].crc;
				p->gz_reused += prev->fams[j].gz_len;
				reused = 1;
			}
		}
		if (!reused && deflate_segment(&gz, pieces, m, &f->crc) < 0)
			gz.failed = true;
		f->gz_len = gz.len - f->gz_off;
		crc = crc32_combine(crc, f->crc, (z_off_t)f->raw_len);
		p->niov += m;
	}
	buf_add(&gz, "\x03\x00", 2); /* final fixed-Huffman block, empty */
	add_le32(&gz, crc);
	add_le32(&gz, (unsigned long)(p->len & 0xffffffffUL));
	if (gz.failed) {
		buf_release(&gz);
		goto out_nomem;
	}
	p->gzdata = (unsigned char *)buf_detach(&gz, &p->gzlen);
	if (!p->gzdata)
		goto out_nomem;
	p->gz = p->gzdata;
	p->iov = p->iovs;
	return p;
out_nomem:
	err_set(e, ERR_NOMEM, "building /metrics: out of memory");
	metrics_page_put(p);
	return NULL;
}

int metrics_cache_get(struct metrics_cache *mc, unsigned long epoch, struct snapshot *const *snaps,
		      size_t n, struct metrics_page **out, struct err *e)
{
	struct metrics_page *p, *prev;
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
	prev = mc->page;
	if (prev)
		metrics_page_ref(prev);
	hook = mc->hook;
	pthread_mutex_unlock(&mc->lock);

	/* only builders replace mc->page and one builds at a time: prev stays
	 * the cached page until we install ours */
	if (hook)
		hook(mc->hook_ud);
	p = page_build(snaps, n, prev, e);
	metrics_page_put(prev);

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

/* agent/snapshot: one target's rendered state, immutable once published, swapped atomically. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "agent/snapshot.h"

struct snapshot *snapshot_new(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->target = json_object();
	s->questions = json_array();
	s->tasks = json_array();
	if (!s->target || !s->questions || !s->tasks) {
		snapshot_put(s);
		return NULL;
	}
	s->refs = 1;
	return s;
}

/* zlib level: segments are compressed when a family is rendered (the gzip
 * /metrics body only copies them), so favour speed; Prometheus text still
 * shrinks about fifteenfold. */
#define SNAP_GZIP_LEVEL 1

/* Texts shorter than this are stored, not compressed (a zlib stream costs
 * more than it saves). */
#define SNAP_STORE_MAX 512

/* Texts up to this are compressed by snapshot_add_family with a small window. */
#define SNAP_SMALL_TEXT (64 * 1024)

struct snap_deflater {
	z_stream zs;
	struct buf out;
};

/* A deflater with a 2^wbits window and zlib's memLevel mem. */
static struct snap_deflater *deflater_new(int wbits, int mem)
{
	struct snap_deflater *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (deflateInit2(&d->zs, SNAP_GZIP_LEVEL, Z_DEFLATED, -wbits, mem, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		free(d);
		return NULL;
	}
	buf_init(&d->out, 0);
	return d;
}

struct snap_deflater *snap_deflater_new(void)
{
	return deflater_new(15, 8);
}

void snap_deflater_free(struct snap_deflater *d)
{
	if (!d)
		return;
	deflateEnd(&d->zs);
	buf_release(&d->out);
	free(d);
}

/* A segment holding gz[0, gzlen) for raw_len bytes of text with CRC crc. */
static struct snap_seg *seg_make(const void *gz, size_t gzlen, size_t raw_len, unsigned long crc)
{
	struct snap_seg *g = malloc(sizeof(*g) + gzlen);

	if (!g)
		return NULL;
	g->refs = 1;
	g->raw_len = raw_len;
	g->crc = crc;
	g->gzlen = gzlen;
	if (gzlen)
		memcpy(g->gz, gz, gzlen);
	return g;
}

int snap_add_stored(struct buf *out, const char *text, size_t len)
{
	do {
		size_t n = len > 65535 ? 65535 : len;
		unsigned char h[5] = {0, (unsigned char)(n & 0xff), (unsigned char)(n >> 8),
				      (unsigned char)(~n & 0xff),
				      (unsigned char)((~n >> 8) & 0xff)};

		buf_add(out, h, sizeof(h));
		buf_add(out, text, n);
		text += n;
		len -= n;
	} while (len);
	return out->failed ? -1 : 0;
}

/* Compresses text[0, len) into d->out (reset first), ended by a sync flush. 0 or -1. */
static int deflate_text(struct snap_deflater *d, const char *text, size_t len)
{
	z_stream *zs = &d->zs;
	int rc;

	buf_reset(&d->out);
	if (deflateReset(zs) != Z_OK)
		return -1;
	zs->next_in = (unsigned char *)text;
	zs->avail_in = (uInt)len;
	for (;;) {
		uInt room;

		if (buf_grow(&d->out, len / 8 + 1024) < 0)
			return -1;
		room = (uInt)(d->out.alloc - d->out.len - 1);
		zs->next_out = (unsigned char *)d->out.data + d->out.len;
		zs->avail_out = room;
		rc = deflate(zs, Z_SYNC_FLUSH);
		d->out.len += room - zs->avail_out;
		if (rc == Z_STREAM_ERROR)
			return -1;
		if (zs->avail_in == 0 && zs->avail_out > 0)
			return 0;
	}
}

struct snap_seg *snap_seg_new(struct snap_deflater *d, const char *text, size_t len)
{
	unsigned long crc = crc32(0L, Z_NULL, 0);
	struct buf stored;
	struct snap_seg *g;

	if (len == 0)
		return seg_make(NULL, 0, 0, crc);
	crc = crc32_z(crc, (const unsigned char *)text, len);
	/* zlib counts in uInt: a text longer than that (never rendered) is stored */
	if (len < SNAP_STORE_MAX || !d || len > (size_t)1 << 30) {
		buf_init(&stored, 0);
		g = snap_add_stored(&stored, text, len) < 0
			    ? NULL
			    : seg_make(stored.data, stored.len, len, crc);
		buf_release(&stored);
		return g;
	}
	if (deflate_text(d, text, len) < 0)
		return NULL;
	return seg_make(d->out.data, d->out.len, len, crc);
}

void snap_seg_ref(struct snap_seg *g)
{
	__atomic_add_fetch(&g->refs, 1, __ATOMIC_RELAXED);
}

void snap_seg_put(struct snap_seg *g)
{
	if (g && __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(g);
}

int snap_family_text(const struct snap_family *f, struct buf *out)
{
	z_stream zs;
	size_t want = out->len + f->len;
	int ret = -1;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -15) != Z_OK)
		return -1;
	if (buf_grow(out, f->len) < 0)
		goto out_end;
	for (size_t i = 0; i < f->nsegs; i++) {
		zs.next_in = f->segs[i]->gz;
		zs.avail_in = (uInt)f->segs[i]->gzlen;
		while (zs.avail_in > 0) {
			int rc;

			zs.next_out = (unsigned char *)out->data + out->len;
			zs.avail_out = (uInt)(want - out->len);
			rc = inflate(&zs, Z_SYNC_FLUSH);
			out->len = want - zs.avail_out;
			if (rc != Z_OK || (zs.avail_out == 0 && zs.avail_in > 0))
				goto out_end;
		}
	}
	out->data[out->len] = '\0';
	if (out->len == want)
		ret = 0;
out_end:
	inflateEnd(&zs);
	return ret;
}

/* A new family slot with name and help copied; segments left to the caller. */
static struct snap_family *family_new(struct snapshot *s, const char *name, const char *help,
				      const char *type)
{
	struct snap_family *f;
	struct snap_family *grown;

	grown = realloc(s->families, (s->nfamilies + 1) * sizeof(*s->families));
	if (!grown)
		return NULL;
	s->families = grown;
	f = &s->families[s->nfamilies];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	f->type = type;
	if (!f->name || !f->help) {
		free(f->name);
		free(f->help);
		return NULL;
	}
	return f;
}

int snapshot_add_family(struct snapshot *s, const char *name, const char *help, const char *type,
			const char *samples, size_t len)
{
	struct snap_deflater *d = NULL;
	struct snap_seg *g;
	struct buf text;

	buf_init(&text, 0);
	if (!samples)
		len = 0;
	if (len && samples[len - 1] != '\n') {
		buf_add(&text, samples, len);
		buf_addc(&text, '\n');
		if (text.failed) {
			buf_release(&text);
			return -1;
		}
		samples = text.data;
		len = text.len;
	}
	/* a one-off text (the agent's own families, the counters'): a small
	 * window for a small one, so that the stream costs little to set up
	 * (the segments of any window concatenate: none refers back past its
	 * own start) */
	if (len >= SNAP_STORE_MAX &&
	    !(d = len < SNAP_SMALL_TEXT ? deflater_new(12, 4) : snap_deflater_new())) {
		buf_release(&text);
		return -1;
	}
	g = snap_seg_new(d, samples, len);
	snap_deflater_free(d);
	buf_release(&text);
	if (!g)
		return -1;
	return snapshot_add_family_segs(s, name, help, type, &g, 1);
}

int snapshot_add_family_segs(struct snapshot *s, const char *name, const char *help,
			     const char *type, struct snap_seg **segs, size_t n)
{
	struct snap_family *f = family_new(s, name, help, type);
	size_t i;

	if (f && n)
		f->segs = malloc(n * sizeof(*f->segs));
	if (!f || (n && !f->segs)) {
		if (f) {
			free(f->name);
			free(f->help);
		}
		for (i = 0; i < n; i++)
			snap_seg_put(segs[i]);
		return -1;
	}
	for (i = 0; i < n; i++) {
		f->segs[i] = segs[i];
		f->len += segs[i]->raw_len;
	}
	f->nsegs = n;
	s->nfamilies++;
	return 0;
}

int snapshot_share_family(struct snapshot *s, const struct snap_family *src)
{
	struct snap_seg **segs = NULL;
	size_t i;

	if (src->nsegs) {
		segs = malloc(src->nsegs * sizeof(*segs));
		if (!segs)
			return -1;
	}
	for (i = 0; i < src->nsegs; i++) {
		snap_seg_ref(src->segs[i]);
		segs[i] = src->segs[i];
	}
	i = (size_t)snapshot_add_family_segs(s, src->name, src->help, src->type, segs, src->nsegs);
	free(segs);
	return (int)i;
}

static void family_release(struct snap_family *f)
{
	free(f->name);
	free(f->help);
	for (size_t i = 0; i < f->nsegs; i++)
		snap_seg_put(f->segs[i]);
	free(f->segs);
}

static int family_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snap_family *)a)->name, ((const struct snap_family *)b)->name);
}

void snapshot_sort(struct snapshot *s)
{
	if (s->nfamilies > 1)
		qsort(s->families, s->nfamilies, sizeof(*s->families), family_cmp);
}

void snapshot_ref(struct snapshot *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void snapshot_put(struct snapshot *s)
{
	if (!s)
		return;
	/* never read refs plainly: another thread may be dropping its reference */
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < s->nfamilies; i++)
		family_release(&s->families[i]);
	free(s->families);
	json_decref(s->target);
	json_decref(s->questions);
	json_decref(s->tasks);
	for (int k = 0; k < SNAP_KINDS; k++)
		snap_objects_put(s->objects[k]);
	free(s);
}

void snapshot_slot_init(struct snapshot_slot *slot)
{
	pthread_mutex_init(&slot->lock, NULL);
	slot->cur = NULL;
}

void snapshot_slot_destroy(struct snapshot_slot *slot)
{
	snapshot_put(slot->cur);
	slot->cur = NULL;
	pthread_mutex_destroy(&slot->lock);
}

void snapshot_slot_swap(struct snapshot_slot *slot, struct snapshot *s)
{
	struct snapshot *old;

	pthread_mutex_lock(&slot->lock);
	old = slot->cur;
	slot->cur = s;
	pthread_mutex_unlock(&slot->lock);
	snapshot_put(old);
}

struct snapshot *snapshot_slot_get(struct snapshot_slot *slot)
{
	struct snapshot *s;

	pthread_mutex_lock(&slot->lock);
	s = slot->cur;
	if (s)
		snapshot_ref(s);
	pthread_mutex_unlock(&slot->lock);
	return s;
}

void snap_objects_ref(struct snap_objects *o)
{
	__atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
}

void snap_objects_put(struct snap_objects *o)
{
	if (!o || __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < o->nchunks; i++) {
		if (o->chunks[i] &&
		    __atomic_sub_fetch(&o->chunks[i]->refs, 1, __ATOMIC_ACQ_REL) == 0)
			free(o->chunks[i]);
	}
	free(o->chunks);
	free(o->names);
	free(o->items);
	free(o->by_name);
	free(o->by_id);
	free(o);
}

/* agent/snapshot: one target's rendered state, immutable once published, swapped atomically. */
#ifndef VIMON_AGENT_SNAPSHOT_H
#define VIMON_AGENT_SNAPSHOT_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/*
 * A piece of a family's sample lines, kept compressed: one raw deflate
 * segment ended by a sync flush (byte-aligned, no final block), so that the
 * segments of any families and targets concatenate into one deflate stream
 * (the gzip /metrics body is built by copying them). Shared read-only
 * (reference counted) between the snapshots whose families hold it.
 */
struct snap_seg {
	int refs;	   /* atomic */
	size_t raw_len;	   /* length of the sample lines it holds */
	unsigned long crc; /* their CRC-32 */
	size_t gzlen;
	unsigned char gz[];
};

/*
 * One metric family of one target: sample lines only (no HELP/TYPE), so that
 * /metrics can merge targets family by family with one HELP/TYPE each. The
 * lines are held compressed, cut in segments at line ends (the renderer cuts
 * one per SNAP_SEG_OBJECTS objects, so that a family rendered again can keep
 * the segments of objects that did not change); a target's text is never held
 * whole in memory. snap_family_text() gives it back.
 */
struct snap_family {
	char *name; /* "vsphere_vm_power_state" */
	char *help;
	const char *type; /* "gauge", "counter", "histogram" (static string) */
	struct snap_seg **segs;
	size_t nsegs;
	size_t len; /* of the sample lines, the sum of the segments' raw_len */
};

/* Objects per segment of a rendered family. */
#define SNAP_SEG_OBJECTS 256

/*
 * Compresses sample lines into segments. One per thread that renders (it
 * holds a zlib stream, about 300 KB, reused for every segment).
 */
struct snap_deflater;

/* NULL when out of memory. */
struct snap_deflater *snap_deflater_new(void);
void snap_deflater_free(struct snap_deflater *d);

/* A new segment (one reference) holding text[0, len); NULL when out of
 * memory. len may be 0. */
struct snap_seg *snap_seg_new(struct snap_deflater *d, const char *text, size_t len);
void snap_seg_ref(struct snap_seg *g);
/* Drops a reference; frees at zero. NULL is fine. */
void snap_seg_put(struct snap_seg *g);

/* Appends text to out as deflate stored blocks (uncompressed, not final),
 * byte-aligned like a sync-flushed segment. 0, or -1 when out failed. */
int snap_add_stored(struct buf *out, const char *text, size_t len);

/* Appends the sample lines of f (decompressed) to out. 0, or -1 (out of
 * memory, or a segment that does not inflate). */
int snap_family_text(const struct snap_family *f, struct buf *out);

/* The object lists of the JSON API (/api/v1/vms, hosts, datastores). */
enum snap_kind {
	SNAP_VMS,
	SNAP_HOSTS,
	SNAP_DATASTORES,
	SNAP_KINDS,
};

/* Objects per chunk of text: a change re-renders (and duplicates) one chunk. */
#define SNAP_CHUNK_OBJECTS 128

/* The JSON text of up to SNAP_CHUNK_OBJECTS consecutive objects, joined by ",\n";
 * shared read-only between the lists of successive snapshots. */
struct snap_chunk {
	int refs; /* atomic */
	size_t len;
	char text[]; /* NUL-terminated at len */
};

/* One object of such a list: its JSON text is chunks[i / SNAP_CHUNK_OBJECTS]->text[off, off + len). */
struct snap_object {
	const char *name; /* decoded display name (in names) */
	const char *id;	  /* managed object id (in names) */
	size_t off, len;
	uint64_t sig; /* of the values it was rendered from (render_objects reuses equal ones) */
};

/*
 * The objects of one kind of one target, rendered once by the collection
 * thread and shared read-only (reference counted) between snapshots until
 * they change: a request copies text, it renders nothing. The text is cut in
 * chunks so that a list rendered again after a few objects changed shares the
 * other chunks with the previous one (old snapshots stay alive while a request
 * or the /metrics cache holds them).
 */
struct snap_objects {
	struct snap_chunk **chunks; /* (n + SNAP_CHUNK_OBJECTS - 1) / SNAP_CHUNK_OBJECTS */
	size_t nchunks;
	size_t len;		   /* the text of every chunk, separators included */
	char *names;		   /* the names and ids, NUL-terminated each */
	struct snap_object *items; /* in inventory order */
	size_t n;
	size_t *by_name; /* indices into items sorted by name, then id */
	size_t *by_id;	 /* indices into items sorted by id */
	uint64_t ctx;	 /* of the names the objects resolve (hosts, clusters, ...) */
	int refs;	 /* atomic */
};

/* The text of item i of o. */
static inline const char *snap_object_text(const struct snap_objects *o, size_t i)
{
	return o->chunks[i / SNAP_CHUNK_OBJECTS]->text + o->items[i].off;
}

/* Drops a reference to o; frees at zero. NULL is fine. */
void snap_objects_put(struct snap_objects *o);
void snap_objects_ref(struct snap_objects *o);

/*
 * Published by the target's collection thread, read by HTTP threads. Never
 * changed after publication; freed when the last reference goes.
 */
struct snapshot {
	unsigned long generation;     /* increases with every publication of a target */
	struct snap_family *families; /* sorted by name, names unique */
	size_t nfamilies;
	json_t *target;	   /* object: name, url, up, last_update, last_error, ...;
			    * NULL in a snapshot that is not a target's (remediation's) */
	json_t *questions; /* array of question objects (see docs/api.md) */
	json_t *tasks;	   /* array of task objects */
	struct snap_objects *objects[SNAP_KINDS]; /* NULL: not collected */
	int refs;				  /* atomic */
};

/* A slot holding the current snapshot of one target. */
struct snapshot_slot {
	pthread_mutex_t lock;
	struct snapshot *cur;
};

/* New empty snapshot with one reference; NULL when out of memory. */
struct snapshot *snapshot_new(void);

/* Adds a family (strings copied; samples may be empty, and a missing final
 * newline is added), compressing the samples. The families must be added in
 * name order or sorted with snapshot_sort(). 0 or -1. */
int snapshot_add_family(struct snapshot *s, const char *name, const char *help, const char *type,
			const char *samples, size_t len);
void snapshot_sort(struct snapshot *s);

/* Adds a family made of segs[0, n) (their references taken; dropped here on
 * failure too). segs may be NULL when n is 0. 0 or -1. */
int snapshot_add_family_segs(struct snapshot *s, const char *name, const char *help,
			     const char *type, struct snap_seg **segs, size_t n);

/* Adds a family whose segments are shared with src (a family of another
 * snapshot, which may be published, from any thread): no copy of the text.
 * 0 or -1. */
int snapshot_share_family(struct snapshot *s, const struct snap_family *src);

void snapshot_ref(struct snapshot *s);
/* Drops a reference; frees at zero. NULL is fine. */
void snapshot_put(struct snapshot *s);

void snapshot_slot_init(struct snapshot_slot *slot);
void snapshot_slot_destroy(struct snapshot_slot *slot);
/* Publishes s (the slot takes the caller's reference) and drops the old one. */
void snapshot_slot_swap(struct snapshot_slot *slot, struct snapshot *s);
/* The current snapshot with a reference for the caller (snapshot_put), or NULL. */
struct snapshot *snapshot_slot_get(struct snapshot_slot *slot);

#endif

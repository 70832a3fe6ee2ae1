/* agent/render: Prometheus sample lines and JSON objects for one target's inventory. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/render.h"
#include "util/log.h"
#include "vi/names.h"
#include "vi/value.h"

#define RENDER_MAX_DEPTH  32
#define RENDER_MAX_LABELS 16
/* The state line of a state set whose value is none of the known states. */
#define RENDER_STATE_OTHER "other"

/* Slot indices of one row, looked up once per render rather than per object. */
struct row_slots {
	int path, mul, minus, plus;
	int labels[RENDER_MAX_LABELS];
};

/* The types whose objects labels name through references (a VM's host, its
 * cluster, the folders up to the datacenter): render_row_ctx_gen() covers
 * their names and parents, so a reference to any other type names nothing. */
static const char *const placement_types[] = {
	"HostSystem", "ClusterComputeResource", "ComputeResource", "Datacenter", "Folder", NULL,
};

/* Slot indices looked up once per render. */
struct render_ctx {
	const struct inventory *inv;
	const char *target;
	double now;
	int name_slot[INV_MAX_TYPES];
	int parent_slot[INV_MAX_TYPES];
	bool placement[INV_MAX_TYPES]; /* the type is one of placement_types */
	struct buf tmp;		       /* scratch for decoding names */
	bool nomem;		       /* a JSON value could not be built */
};

static void ctx_init(struct render_ctx *x, const struct inventory *inv, const char *target,
		     double now)
{
	x->inv = inv;
	x->target = target;
	x->now = now;
	x->nomem = false;
	for (size_t i = 0; i < inv->ntypes; i++) {
		x->name_slot[i] = inventory_slot(inv, (unsigned)i, "name");
		x->parent_slot[i] = inventory_slot(inv, (unsigned)i, "parent");
		x->placement[i] = false;
		for (size_t p = 0; placement_types[p]; p++)
			if (strcmp(inv->types[i].name, placement_types[p]) == 0)
				x->placement[i] = true;
	}
	buf_init(&x->tmp, 0);
}

void render_value(struct buf *b, double v)
{
	char num[40];

	if (isnan(v)) {
		buf_adds(b, "NaN");
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		char *p = num + sizeof(num);
		long long n = (long long)v;
		unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;

		*--p = '\0';
		do {
			*--p = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (n < 0)
			*--p = '-';
		buf_adds(b, p);
		return;
	}
	/* the shortest form that reads back as v: 0.005, not 0.0050000000000000001 */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(num, sizeof(num), "%.*g", prec, v);
		if (prec == 17 || strtod(num, NULL) == v)
			break;
	}
	buf_adds(b, num);
}

void render_name_label(struct buf *b, const char *name)
{
	struct buf d;

	if (!name)
		return;
	buf_init(&d, 0);
	if (vi_name_percent_decode(&d, name) == 0)
		buf_add_label(b, d.data);
	else
		buf_add_label(b, name);
	buf_release(&d);
}

/* The name of the object with that moref (decoded into x->tmp), or NULL. */
static const char *obj_name(struct render_ctx *x, const struct inv_obj *o)
{
	const char *raw;

	if (!o)
		return NULL;
	raw = inventory_value(o, x->name_slot[o->type]);
	if (!raw)
		return NULL;
	buf_reset(&x->tmp);
	if (vi_name_percent_decode(&x->tmp, raw) < 0)
		return raw;
	return x->tmp.data;
}

/* The object moref names when it is of a placement type, else NULL. */
static const struct inv_obj *placement_find(struct render_ctx *x, const char *moref)
{
	const struct inv_obj *o = inventory_find(x->inv, NULL, moref);

	return o && x->placement[o->type] ? o : NULL;
}

static const struct inv_obj *obj_parent(struct render_ctx *x, const struct inv_obj *o)
{
	return placement_find(x, inventory_value(o, x->parent_slot[o->type]));
}

static const char *obj_type(struct render_ctx *x, const struct inv_obj *o)
{
	return x->inv->types[o->type].name;
}

/* The cluster of a host: its parent when that is a ClusterComputeResource. */
static const struct inv_obj *host_cluster(struct render_ctx *x, const struct inv_obj *host)
{
	const struct inv_obj *p;

	if (!host)
		return NULL;
	p = obj_parent(x, host);
	if (p && strcmp(obj_type(x, p), "ClusterComputeResource") == 0)
		return p;
	return NULL;
}

static const struct inv_obj *datacenter_of(struct render_ctx *x, const struct inv_obj *o)
{
	for (int depth = 0; o && depth < RENDER_MAX_DEPTH; depth++) {
		if (strcmp(obj_type(x, o), "Datacenter") == 0)
			return o;
		o = obj_parent(x, o);
	}
	return NULL;
}

/* The text of an info label (decoded names; borrowed from o or x->tmp, or
 * from dec for COL_RES_DECODE), or NULL. */
static const char *info_text(struct render_ctx *x, const struct inv_obj *o,
			     const struct col_label *l, int slot, struct buf *dec)
{
	const char *v = inventory_value(o, slot);

	switch (l->resolve) {
	case COL_RES_TEXT: return v;
	case COL_RES_DECODE:
		if (!v)
			return NULL;
		buf_reset(dec);
		return vi_name_percent_decode(dec, v) == 0 ? dec->data : v;
	case COL_RES_NAME: return obj_name(x, placement_find(x, v));
	case COL_RES_CLUSTER: return obj_name(x, host_cluster(x, placement_find(x, v)));
	case COL_RES_DATACENTER: return obj_name(x, datacenter_of(x, placement_find(x, v)));
	case COL_RES_SELF_CLUSTER: return obj_name(x, host_cluster(x, o));
	case COL_RES_SELF_DATACENTER: return obj_name(x, datacenter_of(x, o));
	}
	return NULL;
}

/* Appends the value of an info label (escaped). */
static void add_info_label(struct render_ctx *x, struct buf *b, const struct inv_obj *o,
			   const struct col_label *l, int slot)
{
	const char *v = inventory_value(o, slot);
	struct buf dec;
	const char *text;

	if (l->resolve == COL_RES_DECODE) {
		render_name_label(b, v);
		return;
	}
	buf_init(&dec, 0);
	text = info_text(x, o, l, slot, &dec);
	if (text)
		buf_add_label(b, text);
	buf_release(&dec);
}

/* A stored value as a number: a boolean ("true"/"1"), a dateTime, or a decimal. */
static int parse_number(const char *s, enum col_conv conv, double *out)
{
	bool b;

	/* no error record: a value that does not parse was reported when it
	 * was stored (and it renders no sample) */
	if (!s)
		return -1;
	if (conv == COL_CONV_BOOL) {
		if (vi_text_bool(s, &b, NULL) < 0)
			return -1;
		*out = b ? 1 : 0;
		return 0;
	}
	if (conv == COL_CONV_TIME)
		return vi_time_parse(s, out, NULL);
	return vi_text_double(s, out, NULL);
}

/* The number a gauge row gives for o, after arithmetic and conversion. -1: no sample. */
static int row_value(const struct inv_obj *o, const struct col_metric *m,
		     const struct row_slots *rs, double *out)
{
	const char *v = inventory_value(o, rs->path);
	double d, t;

	if (!v)
		v = m->dflt;
	if (parse_number(v, m->conv, &d) < 0)
		return -1;
	if (m->mul) {
		if (parse_number(inventory_value(o, rs->mul), COL_CONV_NONE, &t) < 0)
			return -1;
		d *= t;
	}
	if (m->minus && parse_number(inventory_value(o, rs->minus), COL_CONV_NONE, &t) == 0)
		d -= t;
	if (m->plus && parse_number(inventory_value(o, rs->plus), COL_CONV_NONE, &t) == 0)
		d += t;
	switch (m->conv) {
	case COL_CONV_MB: d *= 1048576.0; break;
	case COL_CONV_KB: d *= 1024.0; break;
	case COL_CONV_MHZ: d *= 1e6; break;
	case COL_CONV_NONE:
	case COL_CONV_BOOL:
	case COL_CONV_TIME: break;
	}
	if (d < 0 && (m->minus || m->plus))
		d = 0; /* counters sampled at different instants may cross */
	*out = d;
	return 0;
}

/* Writes `family{prefix` (the caller closes the labels). */
static void open_sample(struct buf *b, const char *family, const struct buf *prefix)
{
	buf_adds(b, family);
	buf_addc(b, '{');
	buf_add(b, prefix->data, prefix->len);
}

static void close_sample(struct buf *b, double v)
{
	buf_adds(b, "} ");
	render_value(b, v);
	buf_addc(b, '\n');
}

static void state_sample(struct buf *b, const struct col_metric *m, const struct buf *prefix,
			 const char *state, bool on)
{
	open_sample(b, m->family, prefix);
	buf_addc(b, ',');
	buf_adds(b, m->state_label);
	buf_adds(b, "=\"");
	buf_adds(b, state);
	buf_addc(b, '"');
	close_sample(b, on ? 1 : 0);
}

/* (family, value) pairs already reported by log_unknown_state; past the
 * table's size new pairs are no longer logged. */
#define RENDER_UNKNOWN_MAX  64
#define RENDER_UNKNOWN_TEXT 64
static pthread_mutex_t unknown_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const char *family; /* static string of the collector table */
	char value[RENDER_UNKNOWN_TEXT];
} unknown_seen[RENDER_UNKNOWN_MAX];
static size_t unknown_n;

/* True the first time this (family, value) pair is seen by the process. */
static bool unknown_first(const char *family, const char *v)
{
	bool first = false;
	size_t i;

	pthread_mutex_lock(&unknown_lock);
	for (i = 0; i < unknown_n; i++) {
		if (unknown_seen[i].family == family &&
		    strncmp(unknown_seen[i].value, v, RENDER_UNKNOWN_TEXT - 1) == 0)
			break;
	}
	if (i == unknown_n && unknown_n < RENDER_UNKNOWN_MAX) {
		unknown_seen[unknown_n].family = family;
		snprintf(unknown_seen[unknown_n].value, RENDER_UNKNOWN_TEXT, "%s", v);
		unknown_n++;
		first = true;
	}
	pthread_mutex_unlock(&unknown_lock);
	return first;
}

/* Says once per family and value (at debug) that a state outside a table was seen. */
static void log_unknown_state(const struct col_metric *m, const char *v)
{
	struct buf l;

	if (!unknown_first(m->family, v))
		return;
	buf_init(&l, 256);
	buf_add_label(&l, v);
	log_msg(LOG_LEVEL_DEBUG,
		"%s: state \"%s\" is not in our table: shown as state=\"" RENDER_STATE_OTHER
		"\" (logged once)",
		m->family, l.failed ? "?" : l.data);
	buf_release(&l);
}

static void render_row(struct render_ctx *x, struct buf *b, const struct inv_obj *o,
		       const struct col_metric *m, const struct row_slots *rs,
		       const struct buf *prefix)
{
	double d;

	switch (m->kind) {
	case COL_GAUGE:
		if (row_value(o, m, rs, &d) < 0)
			return;
		open_sample(b, m->family, prefix);
		close_sample(b, d);
		return;
	case COL_STATESET: {
		const char *v = inventory_value(o, rs->path);
		bool known = false;

		if (!v)
			v = m->dflt;
		if (!v)
			return;
		for (size_t i = 0; m->states[i]; i++) {
			known = known || strcmp(v, m->states[i]) == 0;
			state_sample(b, m, prefix, m->states[i], strcmp(v, m->states[i]) == 0);
		}
		if (!known) {
			/* a state newer than our table: one "other" line, so the set
			 * still has exactly one 1 and the surprise is visible */
			state_sample(b, m, prefix, RENDER_STATE_OTHER, 1);
			log_unknown_state(m, v);
		}
		return;
	}
	case COL_INFO:
		open_sample(b, m->family, prefix);
		for (size_t i = 0; i < RENDER_MAX_LABELS && m->labels[i].label; i++) {
			buf_addc(b, ',');
			buf_adds(b, m->labels[i].label);
			buf_adds(b, "=\"");
			add_info_label(x, b, o, &m->labels[i], rs->labels[i]);
			buf_addc(b, '"');
		}
		close_sample(b, 1);
		return;
	case COL_SPECIAL: return;
	}
}

static const char *task_entity_name(struct render_ctx *x, const struct vi_task_info *t)
{
	const char *n = obj_name(x, inventory_find(x->inv, NULL, t->entity));

	if (n)
		return n;
	if (!t->entity_name)
		return "";
	buf_reset(&x->tmp);
	if (vi_name_percent_decode(&x->tmp, t->entity_name) < 0)
		return t->entity_name;
	return x->tmp.data;
}

/* A task on an object the name filter hides is hidden too. */
static bool task_entity_hidden(struct render_ctx *x, const struct vi_task_info *t)
{
	const struct inv_obj *ent = inventory_find(x->inv, NULL, t->entity);

	return ent && ent->hidden;
}

static int task_active(const struct vi_task_info *t)
{
	return t->state && (strcmp(t->state, "running") == 0 || strcmp(t->state, "queued") == 0);
}

/* The VM question blocking a task's entity, or NULL. */
static const struct inv_obj *task_blocker(struct render_ctx *x, const struct vi_task_info *t)
{
	const struct inv_obj *vm = inventory_find(x->inv, "VirtualMachine", t->entity);

	if (vm && vm->question && task_active(t))
		return vm;
	return NULL;
}

static double task_age(const struct render_ctx *x, const struct vi_task_info *t)
{
	double since = t->queue_time > 0 ? t->queue_time : t->start_time;

	if (since <= 0 || x->now < since)
		return 0;
	return x->now - since;
}

static void render_task(struct render_ctx *x, struct buf *bufs, const struct inv_obj *o,
			const struct buf *prefix)
{
	const struct vi_task_info *t = o->task;
	const struct buf *p = prefix;
	struct buf lab;

	if (!t || task_entity_hidden(x, t))
		return;
	buf_init(&lab, 0);
	buf_add(&lab, p->data, p->len);
	buf_adds(&lab, ",task_id=\"");
	buf_add_label(&lab, o->moref);
	buf_adds(&lab, "\",task=\"");
	buf_add_label(&lab, t->name ? t->name : "");
	buf_adds(&lab, "\",entity=\"");
	buf_add_label(&lab, task_entity_name(x, t));
	buf_adds(&lab, "\",entity_id=\"");
	buf_add_label(&lab, t->entity ? t->entity : "");
	buf_addc(&lab, '"');
	open_sample(&bufs[0], "vsphere_task_info", &lab);
	buf_adds(&bufs[0], ",state=\"");
	buf_add_label(&bufs[0], t->state ? t->state : "");
	buf_addc(&bufs[0], '"');
	close_sample(&bufs[0], 1);
	if (task_active(t)) {
		open_sample(&bufs[1], "vsphere_task_running_seconds", &lab);
		close_sample(&bufs[1], task_age(x, t));
		open_sample(&bufs[2], "vsphere_task_blocked", &lab);
		close_sample(&bufs[2], task_blocker(x, t) ? 1 : 0);
	}
	if (lab.failed)
		bufs[0].failed = true;
	buf_release(&lab);
}

static void render_question(struct render_ctx *x, struct buf *bufs, const struct inv_obj *o,
			    const struct buf *prefix)
{
	const struct vi_question *q = o->question;
	struct buf lab;
	double age;

	if (!q)
		return;
	buf_init(&lab, 0);
	buf_add(&lab, prefix->data, prefix->len);
	buf_adds(&lab, ",question_id=\"");
	buf_add_label(&lab, q->id ? q->id : "");
	buf_adds(&lab, "\",message_id=\"");
	buf_add_label(&lab, q->nmsgs > 0 && q->msgs[0].id ? q->msgs[0].id : "");
	buf_addc(&lab, '"');
	open_sample(&bufs[0], "vsphere_vm_question_pending", &lab);
	close_sample(&bufs[0], 1);
	age = x->now - o->question_first_seen;
	open_sample(&bufs[1], "vsphere_vm_question_pending_seconds", &lab);
	close_sample(&bufs[1], age > 0 ? floor(age) : 0);
	if (lab.failed)
		bufs[0].failed = true;
	buf_release(&lab);
}

static void object_prefix(struct render_ctx *x, const struct collector *c, const struct inv_obj *o,
			  struct buf *prefix)
{
	buf_reset(prefix);
	buf_adds(prefix, "target=\"");
	buf_add_label(prefix, x->target);
	buf_addc(prefix, '"');
	if (c->name_label) {
		const char *raw = inventory_value(o, x->name_slot[o->type]);

		buf_addf(prefix, ",%s=\"", c->name_label);
		render_name_label(prefix, raw ? raw : "");
		buf_addc(prefix, '"');
	}
	if (c->id_label) {
		buf_addf(prefix, ",%s=\"", c->id_label);
		buf_add_label(prefix, o->moref);
		buf_addc(prefix, '"');
	}
}

/*
 * About the bytes a row will take for n objects, so that the buffer is sized
 * once instead of growing by copies (trimmed afterwards).
 */
static size_t size_hint(const struct col_metric *m, size_t n)
{
	size_t lines = 1, line = strlen(m->family) + 80;

	if (m->kind == COL_STATESET) {
		lines = 0;
		while (m->states[lines])
			lines++;
		line += 24;
	}
	if (m->kind == COL_INFO)
		line += 160;
	return n * lines * line;
}

/* The segments of one family being rendered. */
struct seg_list {
	struct snap_seg **v;
	size_t n, cap;
};

/* Compresses b (then emptied; it may be empty) into a new segment at the end
 * of l. 0 or -1. */
static int seg_keep(struct seg_list *l, struct snap_seg *g);

static int seg_cut(struct snap_deflater *d, struct buf *b, struct seg_list *l)
{
	struct snap_seg *g = snap_seg_new(d, b->data, b->len);
	int rc;

	if (!g)
		return -1;
	rc = seg_keep(l, g);
	snap_seg_put(g);
	buf_reset(b);
	return rc;
}

static void seg_list_release(struct seg_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		snap_seg_put(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* What render_one works with. */
struct render_job {
	struct render_ctx *x;
	const struct collector *c;
	const bool *want;
	const struct render_prev *prev;
	size_t nrows;
	struct row_slots *rs;
	struct buf *bufs;
	struct seg_list *segs;
	struct snap_deflater *d;
	struct buf prefix;
	const struct inv_obj *chunk[SNAP_SEG_OBJECTS];
	size_t nchunks; /* chunks done */
};

/* Whether row i renders at all. */
static bool job_wants(const struct render_job *j, size_t i)
{
	return !j->want || j->want[i];
}

/* Whether row i may keep segment k of its previous family: it had one, none
 * of the k-th chunk's n objects changed since, and (the caller checked) the
 * rendered objects and the names they resolve are the same. */
static bool job_keeps(const struct render_job *j, size_t i, size_t n)
{
	const struct render_prev *p = j->prev ? &j->prev[i] : NULL;

	if (!p || !p->fam || j->nchunks >= p->fam->nsegs || j->c->special != COL_SPECIAL_NONE)
		return false;
	for (size_t k = 0; k < n; k++)
		if (j->chunk[k]->gen > p->since)
			return false;
	return true;
}

/* Adds g (one more reference taken) at the end of l. 0 or -1. */
static int seg_keep(struct seg_list *l, struct snap_seg *g)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		struct snap_seg **v = realloc(l->v, ncap * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = ncap;
	}
	snap_seg_ref(g);
	l->v[l->n++] = g;
	return 0;
}

/* The n objects of the current chunk: per wanted row, one segment, kept from
 * the previous family or rendered and compressed. 0, or -1 with e set. */
static int job_chunk(struct render_job *j, size_t n, struct err *e)
{
	bool fresh[RENDER_MAX_ROWS], any = false;
	size_t i;

	for (i = 0; i < j->nrows; i++) {
		fresh[i] = job_wants(j, i) && !job_keeps(j, i, n);
		any = any || fresh[i];
	}
	for (size_t k = 0; any && k < n; k++) {
		const struct inv_obj *o = j->chunk[k];

		object_prefix(j->x, j->c, o, &j->prefix);
		/* the prefix is reset for each object: its failure is seen here */
		if (j->prefix.failed || j->x->tmp.failed)
			return err_set(e, ERR_NOMEM, "out of memory rendering %s", j->c->type);
		if (j->c->special == COL_SPECIAL_QUESTION)
			render_question(j->x, j->bufs, o, &j->prefix);
		else if (j->c->special == COL_SPECIAL_TASK)
			render_task(j->x, j->bufs, o, &j->prefix);
		for (i = 0; i < j->nrows; i++)
			if (fresh[i])
				render_row(j->x, &j->bufs[i], o, &j->c->metrics[i], &j->rs[i],
					   &j->prefix);
	}
	for (i = 0; i < j->nrows; i++) {
		if (!job_wants(j, i))
			continue;
		if (fresh[i] ? j->bufs[i].failed || j->prefix.failed || j->x->tmp.failed ||
				       seg_cut(j->d, &j->bufs[i], &j->segs[i]) < 0
			     : seg_keep(&j->segs[i], j->prev[i].fam->segs[j->nchunks]) < 0)
			return err_set(e, ERR_NOMEM, "out of memory rendering %s",
				       j->c->metrics[i].family);
	}
	j->nchunks++;
	return 0;
}

static int render_one(struct render_ctx *x, const struct collector *c, const bool *want,
		      const struct render_prev *prev, struct snapshot *s, struct err *e)
{
	int type = inventory_type_index(x->inv, c->type);
	struct render_job *j;
	size_t n = 0;
	int rc = -1;

	if (col_nmetrics(c) == 0)
		return 0;
	if (col_nmetrics(c) > RENDER_MAX_ROWS)
		return err_set(e, ERR_INVALID, "%s: more than %d metric rows", c->type,
			       RENDER_MAX_ROWS);
	j = calloc(1, sizeof(*j));
	if (!j)
		return err_set(e, ERR_NOMEM, "out of memory");
	j->x = x;
	j->c = c;
	j->want = want;
	j->prev = prev;
	j->nrows = col_nmetrics(c);
	j->bufs = calloc(j->nrows, sizeof(*j->bufs));
	j->rs = calloc(j->nrows, sizeof(*j->rs));
	j->segs = calloc(j->nrows, sizeof(*j->segs));
	j->d = snap_deflater_new();
	buf_init(&j->prefix, 0);
	if (!j->bufs || !j->rs || !j->segs || !j->d) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_free;
	}
	for (size_t i = 0; i < j->nrows && type >= 0; i++) {
		const struct col_metric *m = &c->metrics[i];
		unsigned t = (unsigned)type;

		j->rs[i].path = inventory_slot(x->inv, t, m->path);
		j->rs[i].mul = inventory_slot(x->inv, t, m->mul);
		j->rs[i].minus = inventory_slot(x->inv, t, m->minus);
		j->rs[i].plus = inventory_slot(x->inv, t, m->plus);
		for (size_t l = 0; m->labels && l < RENDER_MAX_LABELS && m->labels[l].label; l++)
			j->rs[i].labels[l] = inventory_slot(x->inv, t, m->labels[l].path);
	}
	for (size_t i = 0; i < j->nrows; i++) {
		size_t count = type >= 0 ? x->inv->types[type].count : 0;

		buf_init(&j->bufs[i], 0);
		if (type >= 0 && job_wants(j, i) && c->special == COL_SPECIAL_NONE)
			buf_grow(&j->bufs[i],
				 size_hint(&c->metrics[i],
					   count < SNAP_SEG_OBJECTS ? count : SNAP_SEG_OBJECTS));
	}
	/* the text is rendered and compressed a chunk of SNAP_SEG_OBJECTS
	 * objects at a time (a family is never held whole), one segment per
	 * chunk even when empty, so that segment k always holds chunk k */
	for (const struct inv_obj *o = type >= 0 ? x->inv->types[type].head : NULL; o;
	     o = o->next) {
		if ((c->special == COL_SPECIAL_QUESTION && !o->question) ||
		    (c->special == COL_SPECIAL_TASK && !o->task) || o->hidden)
			continue;
		j->chunk[n++] = o;
		if (n == SNAP_SEG_OBJECTS) {
			if (job_chunk(j, n, e) < 0)
				goto out_free;
			n = 0;
		}
	}
	if (n && job_chunk(j, n, e) < 0)
		goto out_free;
	for (size_t i = 0; i < j->nrows; i++) {
		const struct col_metric *m = &c->metrics[i];
		size_t nsegs = j->segs[i].n;

		if (!job_wants(j, i))
			continue;
		j->segs[i].n = 0; /* taken, on failure too */
		if (snapshot_add_family_segs(s, m->family, m->help, m->type ? m->type : "gauge",
					     j->segs[i].v, nsegs) < 0) {
			err_set(e, ERR_NOMEM, "out of memory");
			goto out_free;
		}
	}
	rc = 0;

out_free:
	for (size_t i = 0; j->bufs && j->segs && i < j->nrows; i++) {
		buf_release(&j->bufs[i]);
		seg_list_release(&j->segs[i]);
	}
	free(j->bufs);
	free(j->rs);
	free(j->segs);
	snap_deflater_free(j->d);
	buf_release(&j->prefix);
	free(j);
	return rc;
}

int render_collectors(const struct inventory *inv, const struct collector *const *cols,
		      size_t ncols, const char *target, double now, struct snapshot *s,
		      struct err *e)
{
	struct render_ctx x;
	int rc = 0;

	ctx_init(&x, inv, target, now);
	for (size_t i = 0; i < ncols && rc == 0; i++) {
		if (!cols[i]->helper)
			rc = render_one(&x, cols[i], NULL, NULL, s, e);
	}
	buf_release(&x.tmp);
	return rc;
}

int render_collector(const struct inventory *inv, const struct collector *c, const bool *want,
		     const struct render_prev *prev, const char *target, double now,
		     struct snapshot *s, struct err *e)
{
	struct render_ctx x;
	int rc = 0;

	ctx_init(&x, inv, target, now);
	if (!c->helper)
		rc = render_one(&x, c, want, prev, s, e);
	buf_release(&x.tmp);
	return rc;
}

static unsigned long slot_gen(const struct inventory *inv, int type, const char *path)
{
	int slot = type >= 0 && path ? inventory_slot(inv, (unsigned)type, path) : -1;

	return slot >= 0 ? inv->types[type].slot_gen[slot] : 0;
}

unsigned long render_row_ctx_gen(const struct inventory *inv, const struct collector *c, size_t r)
{
	const struct col_metric *m = &c->metrics[r];
	int type = inventory_type_index(inv, c->type);
	unsigned long g;
	bool names = false;

	if (type < 0)
		return 0;
	g = inv->types[type].struct_gen;
	for (size_t l = 0; m->labels && m->labels[l].label; l++) {
		if (m->labels[l].resolve != COL_RES_TEXT && m->labels[l].resolve != COL_RES_DECODE)
			names = true;
	}
	for (size_t p = 0; names && placement_types[p]; p++) {
		int t = inventory_type_index(inv, placement_types[p]);

		if (t < 0)
			continue;
		g += inv->types[t].struct_gen + slot_gen(inv, t, "name") +
		     slot_gen(inv, t, "parent");
	}
	return g;
}

unsigned long render_row_gen(const struct inventory *inv, const struct collector *c, size_t r)
{
	const struct col_metric *m = &c->metrics[r];
	int type = inventory_type_index(inv, c->type);
	unsigned long g;

	if (type < 0)
		return 0;
	g = render_row_ctx_gen(inv, c, r) + slot_gen(inv, type, "name") +
	    slot_gen(inv, type, m->path) + slot_gen(inv, type, m->mul) +
	    slot_gen(inv, type, m->minus) + slot_gen(inv, type, m->plus);
	for (size_t l = 0; m->labels && m->labels[l].label; l++)
		g += slot_gen(inv, type, m->labels[l].path);
	return g;
}

json_t *render_json_string(const char *s)
{
	struct buf u;
	json_t *j;

	if (!s)
		s = "";
	buf_init(&u, 0);
	/* invalid bytes become U+FFFD: the text stays readable, nothing is dropped */
	if (buf_add_utf8(&u, s) < 0) {
		buf_release(&u);
		return NULL;
	}
	j = json_stringn(u.data, u.len);
	buf_release(&u);
	return j;
}

/* JSON helpers. A string value; NULL only when out of memory (noted in x). */
static json_t *json_str(struct render_ctx *x, const char *s)
{
	json_t *j = render_json_string(s);

	if (!j)
		x->nomem = true;
	return j;
}

/* A decoded entity name as a string value. */
static json_t *json_name(struct render_ctx *x, const char *raw)
{
	struct buf d;
	json_t *j;

	buf_init(&d, 0);
	if (!raw || vi_name_percent_decode(&d, raw) < 0)
		j = json_str(x, raw);
	else
		j = json_str(x, d.data);
	buf_release(&d);
	return j;
}

/* json_object_set_new and json_array_append_new noting a failure (a NULL
 * value included) in x, so that no member goes missing unnoticed. */
static void set(struct render_ctx *x, json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v) < 0)
		x->nomem = true;
}

static void add(struct render_ctx *x, json_t *a, json_t *v)
{
	if (!v || json_array_append_new(a, v) < 0)
		x->nomem = true;
}

static json_t *question_json(struct render_ctx *x, const struct inv_obj *vm)
{
	const struct vi_question *q = vm->question;
	json_t *o = json_object();
	json_t *ids = json_array();
	json_t *msgs = json_array();
	json_t *choices = json_array();
	json_t *blocked = json_array();
	const struct vi_question_choice *d = vi_question_default(q);

	if (!o || !ids || !msgs || !choices || !blocked)
		goto out_fail;
	set(x, o, "target", json_str(x, x->target));
	set(x, o, "vm", json_name(x, inventory_value(vm, x->name_slot[vm->type])));
	set(x, o, "vm_id", json_str(x, vm->moref));
	set(x, o, "id", json_str(x, q->id));
	set(x, o, "text", json_str(x, q->text));
	for (size_t i = 0; i < q->nmsgs; i++) {
		add(x, ids, json_str(x, q->msgs[i].id));
		add(x, msgs,
		    json_pack("{s:o,s:o}", "id", json_str(x, q->msgs[i].id), "text",
			      json_str(x, q->msgs[i].text)));
	}
	set(x, o, "message_ids", ids);
	set(x, o, "messages", msgs);
	for (size_t i = 0; i < q->nchoices; i++) {
		add(x, choices,
		    json_pack("{s:o,s:o,s:o}", "key", json_str(x, q->choices[i].key), "label",
			      json_str(x, q->choices[i].label), "summary",
			      json_str(x, q->choices[i].summary)));
	}
	set(x, o, "choices", choices);
	set(x, o, "default", d ? json_str(x, d->key) : json_null());
	set(x, o, "first_seen", json_real(vm->question_first_seen));
	set(x, o, "pending_seconds",
	    json_real(x->now > vm->question_first_seen ? x->now - vm->question_first_seen : 0));
	for (int i = 0; i < (int)x->inv->ntypes; i++) {
		if (strcmp(x->inv->types[i].name, "Task") != 0)
			continue;
		for (const struct inv_obj *t = x->inv->types[i].head; t; t = t->next) {
			if (t->task && t->task->entity && strcmp(t->task->entity, vm->moref) == 0 &&
			    task_active(t->task))
				add(x, blocked, json_str(x, t->moref));
		}
	}
	set(x, o, "blocked_tasks", blocked);
	return o;

out_fail:
	json_decref(o);
	json_decref(ids);
	json_decref(msgs);
	json_decref(choices);
	json_decref(blocked);
	return NULL;
}

static json_t *json_time(double t)
{
	return t > 0 ? json_real(t) : json_null();
}

static json_t *task_json(struct render_ctx *x, const struct inv_obj *o)
{
	const struct vi_task_info *t = o->task;
	const struct inv_obj *blocker = task_blocker(x, t);
	json_t *j = json_object();

	if (!j)
		return NULL;
	set(x, j, "target", json_str(x, x->target));
	set(x, j, "task_id", json_str(x, o->moref));
	set(x, j, "key", json_str(x, t->key));
	set(x, j, "task", json_str(x, t->name));
	set(x, j, "description_id", json_str(x, t->description_id));
	set(x, j, "entity", json_str(x, task_entity_name(x, t)));
	set(x, j, "entity_id", json_str(x, t->entity));
	set(x, j, "entity_type", json_str(x, t->entity_type));
	set(x, j, "state", json_str(x, t->state));
	set(x, j, "cancelable", json_boolean(t->cancelable));
	set(x, j, "cancelled", json_boolean(t->cancelled));
	set(x, j, "progress", t->progress >= 0 ? json_integer(t->progress) : json_null());
	set(x, j, "queue_time", json_time(t->queue_time));
	set(x, j, "start_time", json_time(t->start_time));
	set(x, j, "complete_time", json_time(t->complete_time));
	set(x, j, "running_seconds", task_active(t) ? json_real(task_age(x, t)) : json_null());
	set(x, j, "blocked", json_boolean(blocker != NULL));
	set(x, j, "question_id", blocker ? json_str(x, blocker->question->id) : json_null());
	if (t->error_fault || t->error_msg)
		set(x, j, "error",
		    json_pack("{s:o,s:o}", "fault", json_str(x, t->error_fault), "message",
			      json_str(x, t->error_msg)));
	else
		set(x, j, "error", json_null());
	return j;
}

int render_json(const struct inventory *inv, const char *target, double now, struct snapshot *s,
		bool *active_tasks, struct err *e)
{
	bool active = false;
	struct render_ctx x;
	json_t *qs = json_array();
	json_t *ts = json_array();
	int vm = inventory_type_index(inv, "VirtualMachine");
	int task = inventory_type_index(inv, "Task");
	int rc = -1;

	ctx_init(&x, inv, target, now);
	if (!qs || !ts)
		goto out_fail;
	for (const struct inv_obj *o = vm >= 0 ? inv->types[vm].head : NULL; o; o = o->next) {
		if (o->question && !o->hidden &&
		    json_array_append_new(qs, question_json(&x, o)) < 0)
			goto out_fail;
	}
	for (const struct inv_obj *o = task >= 0 ? inv->types[task].head : NULL; o; o = o->next) {
		if (!o->task || task_entity_hidden(&x, o->task))
			continue;
		if (json_array_append_new(ts, task_json(&x, o)) < 0)
			goto out_fail;
		active = active || task_active(o->task);
	}
	if (x.nomem)
		goto out_fail;
	json_decref(s->questions);
	json_decref(s->tasks);
	s->questions = qs;
	s->tasks = ts;
	qs = ts = NULL;
	if (active_tasks)
		*active_tasks = active;
	rc = 0;

out_fail:
	if (rc < 0)
		err_set(e, ERR_NOMEM, "out of memory building the JSON API objects");
	json_decref(qs);
	json_decref(ts);
	buf_release(&x.tmp);
	return rc;
}

/* ---- the object lists of the JSON API (/api/v1/vms, hosts, datastores) ---- */

/* Appends s as a JSON string (NULL: null); invalid UTF-8 becomes U+FFFD. */
static void add_json_string(struct buf *b, struct buf *scratch, const char *s)
{
	if (!s) {
		buf_adds(b, "null");
		return;
	}
	buf_reset(scratch);
	if (buf_add_utf8(scratch, s) < 0) {
		b->failed = true;
		return;
	}
	buf_addc(b, '"');
	for (size_t i = 0; i < scratch->len; i++) {
		unsigned char c = (unsigned char)scratch->data[i];

		if (c == '"' || c == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)c);
		} else if (c == '\n') {
			buf_adds(b, "\\n");
		} else if (c < 0x20 || c == 0x7f) {
			buf_addf(b, "\\u%04x", c);
		} else {
			buf_addc(b, (char)c);
		}
	}
	buf_addc(b, '"');
}

/* The member name of a row: the family without "vsphere_<subject>_". */
static const char *row_key(const struct col_metric *m)
{
	const char *k = m->family;

	if (strncmp(k, "vsphere_", 8) == 0)
		k += 8;
	if (strncmp(k, "vm_", 3) == 0)
		return k + 3;
	if (strncmp(k, "host_", 5) == 0)
		return k + 5;
	if (strncmp(k, "datastore_", 10) == 0)
		return k + 10;
	return k;
}

static void key(struct buf *b, const char *k)
{
	buf_adds(b, ",\"");
	buf_adds(b, k);
	buf_adds(b, "\":");
}

/* One object: target, id, name, then one member per row of the collector. */
static void object_json(struct render_ctx *x, const struct collector *c, const struct inv_obj *o,
			const struct row_slots *rs, struct buf *b, struct buf *scratch,
			const char *name)
{
	struct buf dec;

	buf_init(&dec, 0);
	buf_adds(b, "{\"target\":");
	add_json_string(b, scratch, x->target);
	key(b, "id");
	add_json_string(b, scratch, o->moref);
	key(b, "name");
	add_json_string(b, scratch, name);
	for (size_t i = 0; c->metrics[i].family; i++) {
		const struct col_metric *m = &c->metrics[i];
		double d;

		switch (m->kind) {
		case COL_GAUGE:
			key(b, row_key(m));
			if (row_value(o, m, &rs[i], &d) < 0 || isnan(d))
				buf_adds(b, "null");
			else
				render_value(b, d);
			break;
		case COL_STATESET: {
			const char *v = inventory_value(o, rs[i].path);

			key(b, row_key(m));
			add_json_string(b, scratch, v ? v : m->dflt);
			break;
		}
		case COL_INFO:
			for (size_t l = 0; l < RENDER_MAX_LABELS && m->labels[l].label; l++) {
				key(b, m->labels[l].label);
				add_json_string(
					b, scratch,
					info_text(x, o, &m->labels[l], rs[i].labels[l], &dec));
			}
			break;
		case COL_SPECIAL: break;
		}
	}
	buf_addc(b, '}');
	if (dec.failed)
		b->failed = true;
	buf_release(&dec);
}

static int by_name_cmp(const void *a, const void *b, void *ud)
{
	const struct snap_objects *o = ud;
	const struct snap_object *x = &o->items[*(const size_t *)a];
	const struct snap_object *y = &o->items[*(const size_t *)b];
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->id, y->id);
}

static int by_id_cmp(const void *a, const void *b, void *ud)
{
	const struct snap_objects *o = ud;

	return strcmp(o->items[*(const size_t *)a].id, o->items[*(const size_t *)b].id);
}

/* Fills the sorted indices of o. 0 or -1. */
static int index_objects(struct snap_objects *o)
{
	char *p = o->names;

	for (size_t i = 0; i < o->n; i++) {
		o->items[i].name = p;
		p += strlen(p) + 1;
		o->items[i].id = p;
		p += strlen(p) + 1;
	}
	o->by_name = malloc((o->n ? o->n : 1) * sizeof(*o->by_name));
	o->by_id = malloc((o->n ? o->n : 1) * sizeof(*o->by_id));
	if (!o->by_name || !o->by_id)
		return -1;
	for (size_t i = 0; i < o->n; i++)
		o->by_name[i] = o->by_id[i] = i;
	qsort_r(o->by_name, o->n, sizeof(*o->by_name), by_name_cmp, o);
	qsort_r(o->by_id, o->n, sizeof(*o->by_id), by_id_cmp, o);
	return 0;
}

/* FNV-1a over s and its terminating NUL (a NULL s hashes as one 0xff byte). */
static uint64_t fnv(uint64_t h, const char *s)
{
	if (!s)
		return (h ^ 0xff) * 1099511628211ULL;
	do {
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	} while (*s++);
	return h;
}

/* The signature of an object's stored values. */
static uint64_t object_sig(const struct inventory *inv, const struct inv_obj *o)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < inv->types[o->type].nslots; i++)
		h = fnv(h, inventory_value(o, (int)i));
	return h;
}

/* What the names an object resolves depend on: the placement objects and their names. */
static uint64_t placement_sig(const struct inventory *inv, const char *target)
{
	uint64_t h = fnv(14695981039346656037ULL, target);

	for (size_t p = 0; placement_types[p]; p++) {
		int t = inventory_type_index(inv, placement_types[p]);

		if (t < 0)
			continue;
		h = (h ^ inv->types[t].struct_gen) * 1099511628211ULL;
		h = (h ^ slot_gen(inv, t, "name")) * 1099511628211ULL;
		h = (h ^ slot_gen(inv, t, "parent")) * 1099511628211ULL;
	}
	return h;
}

/* The item of prev with that id, or NULL. */
static const struct snap_object *prev_item(const struct snap_objects *prev, const char *id)
{
	size_t lo = 0, hi = prev ? prev->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct snap_object *it = &prev->items[prev->by_id[mid]];
		int c = strcmp(it->id, id);

		if (c == 0)
			return it;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Appends object ob (its sig already in it) to the chunk text (",\n" before
 * all but the first) and its name and id to names: the text of prev when the
 * object is there with the same signature, else rendered.
 */
static void render_item(struct render_ctx *x, const struct collector *c, const struct row_slots *rs,
			const struct snap_objects *prev, const struct inv_obj *ob,
			struct snap_object *it, struct buf *text, struct buf *names,
			struct buf *scratch)
{
	const struct snap_object *old = prev_item(prev, ob->moref);
	const char *raw = inventory_value(ob, x->name_slot[ob->type]);
	struct buf dec;

	buf_init(&dec, 0);
	if (text->len)
		buf_adds(text, ",\n");
	it->off = text->len;
	if (old && old->sig == it->sig) {
		/* the same values and names: the same text */
		buf_add(text, snap_object_text(prev, (size_t)(old - prev->items)), old->len);
		buf_adds(&dec, old->name);
	} else {
		if (!raw || vi_name_percent_decode(&dec, raw) < 0) {
			buf_reset(&dec);
			buf_add_utf8(&dec, raw ? raw : "");
		}
		object_json(x, c, ob, rs, text, scratch, dec.data);
	}
	it->len = text->len - it->off;
	buf_add(names, dec.data, dec.len + 1);
	buf_add(names, ob->moref, strlen(ob->moref) + 1);
	if (dec.failed)
		names->failed = true;
	buf_release(&dec);
}

int render_objects(const struct inventory *inv, const struct collector *c, const char *target,
		   double now, const struct snap_objects *prev, struct snap_objects **out,
		   struct err *e)
{
	int type = inventory_type_index(inv, c->type);
	struct row_slots rs[RENDER_MAX_ROWS];
	struct snap_objects *o = calloc(1, sizeof(*o));
	const struct inv_obj **objs = NULL;
	struct buf text, names, scratch;
	struct render_ctx x;
	size_t n = 0, cap;
	int rc = -1;

	if (!o)
		return err_set(e, ERR_NOMEM, "out of memory");
	o->refs = 1;
	ctx_init(&x, inv, target, now);
	buf_init(&text, 0);
	buf_init(&names, 0);
	buf_init(&scratch, 0);
	cap = type >= 0 ? inv->types[type].count : 0;
	o->items = calloc(cap ? cap : 1, sizeof(*o->items));
	if (!o->items || col_nmetrics(c) > RENDER_MAX_ROWS)
		goto out_free;
	memset(rs, 0, sizeof(rs));
	for (size_t i = 0; type >= 0 && c->metrics[i].family; i++) {
		const struct col_metric *m = &c->metrics[i];
		unsigned t = (unsigned)type;

		rs[i].path = inventory_slot(inv, t, m->path);
		rs[i].mul = inventory_slot(inv, t, m->mul);
		rs[i].minus = inventory_slot(inv, t, m->minus);
		rs[i].plus = inventory_slot(inv, t, m->plus);
		for (size_t l = 0; m->labels && l < RENDER_MAX_LABELS && m->labels[l].label; l++)
			rs[i].labels[l] = inventory_slot(inv, t, m->labels[l].path);
	}
	o->ctx = placement_sig(inv, target);
	if (prev && prev->ctx != o->ctx)
		prev = NULL;
	objs = calloc(cap ? cap : 1, sizeof(*objs));
	if (!objs)
		goto out_free;
	for (const struct inv_obj *ob = type >= 0 ? inv->types[type].head : NULL; ob && n < cap;
	     ob = ob->next) {
		if (ob->hidden) /* left out by the target's name filter */
			continue;
		objs[n] = ob;
		o->items[n].sig = object_sig(inv, ob);
		n++;
	}
	o->nchunks = (n + SNAP_CHUNK_OBJECTS - 1) / SNAP_CHUNK_OBJECTS;
	o->chunks = calloc(o->nchunks ? o->nchunks : 1, sizeof(*o->chunks));
	if (!o->chunks)
		goto out_free;
	for (size_t k = 0; k < o->nchunks; k++) {
		size_t first = k * SNAP_CHUNK_OBJECTS;
		size_t end = first + SNAP_CHUNK_OBJECTS < n ? first + SNAP_CHUNK_OBJECTS : n;
		bool same = prev && k < prev->nchunks &&
			    (first + SNAP_CHUNK_OBJECTS < prev->n ? first + SNAP_CHUNK_OBJECTS
								  : prev->n) == end;

		for (size_t i = first; same && i < end; i++)
			same = prev->items[i].sig == o->items[i].sig &&
			       strcmp(prev->items[i].id, objs[i]->moref) == 0;
		if (same) {
			/* the same objects with the same values: the same chunk */
			__atomic_add_fetch(&prev->chunks[k]->refs, 1, __ATOMIC_RELAXED);
			o->chunks[k] = prev->chunks[k];
			for (size_t i = first; i < end; i++) {
				o->items[i].off = prev->items[i].off;
				o->items[i].len = prev->items[i].len;
				buf_add(&names, prev->items[i].name,
					strlen(prev->items[i].name) + 1);
				buf_add(&names, objs[i]->moref, strlen(objs[i]->moref) + 1);
			}
		} else {
			buf_reset(&text);
			for (size_t i = first; i < end; i++)
				render_item(&x, c, rs, prev, objs[i], &o->items[i], &text, &names,
					    &scratch);
			o->chunks[k] = malloc(sizeof(*o->chunks[k]) + text.len + 1);
			if (!o->chunks[k] || text.failed)
				goto out_free;
			o->chunks[k]->refs = 1;
			o->chunks[k]->len = text.len;
			memcpy(o->chunks[k]->text, text.data, text.len + 1);
		}
		o->len += o->chunks[k]->len + (k ? 2 : 0);
	}
	if (names.failed || x.tmp.failed)
		goto out_free;
	o->n = n;
	o->names = buf_detach(&names, NULL);
	if (!o->names || index_objects(o) < 0)
		goto out_free;
	*out = o;
	o = NULL;
	rc = 0;

out_free:
	if (rc < 0)
		err_set(e, ERR_NOMEM, "out of memory building the %s objects of the JSON API",
			c->name);
	snap_objects_put(o);
	free(objs);
	buf_release(&text);
	buf_release(&names);
	buf_release(&scratch);
	buf_release(&x.tmp);
	return rc;
}

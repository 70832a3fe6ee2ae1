/* vi/xml: streaming SOAP reply reader on libxml2's SAX2 push parser, and vi_node helpers. */
#include "vi/xml.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "util/buf.h"

#define XML_MAX_DEPTH	  64		     /* deeper nesting is refused */
#define XML_MAX_CAPTURE	  ((size_t)16 << 20) /* bytes per captured tree */
#define XML_MAX_NODE_TEXT ((size_t)8 << 20)  /* text bytes per element */
#define XML_MAX_PATHS	  64		     /* spec->paths entries (one bit each) */
#define XML_MAX_COMPS	  16		     /* components per path */
#define XML_ARENA_CHUNK	  ((size_t)64 << 10)
#define XML_PREFIX_LEN	  64		      /* first bytes kept to recognise HTML */
#define XML_MAX_QUIET	  ((size_t)256 << 10) /* bytes fed with no SAX event in between */
#define XML_FEED_SLICE	  ((size_t)16 << 10)  /* bytes handed to libxml2 at once */
#define XSI_NS		  "http://www.w3.org/2001/XMLSchema-instance"

/* Captured trees live in an arena reused from one capture to the next, so a
 * reply of a million elements costs no per-element malloc. */
struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t used;
	char data[];
};

struct vi_reader {
	xmlParserCtxtPtr ctxt;
	struct vi_reader_spec spec;
	struct err err; /* first error, kept for every later call */

	/* spec->paths split into components (pointers into pathbuf) */
	char *pathbuf;
	size_t npaths;
	size_t ncomps[XML_MAX_PATHS];
	const char *comps[XML_MAX_PATHS][XML_MAX_COMPS];
	size_t maxcomps;

	int depth; /* current element depth, root is 1 */
	uint64_t match[XML_MAX_DEPTH +
		       2]; /* paths still matching at each level below the response */
	bool started;	   /* the root element was seen */
	bool root_closed;
	bool in_body;
	bool seen_body;
	bool seen_response;
	int body_depth;
	int resp_depth; /* depth of <X>Response, 0 when outside */

	/* the capture in progress */
	struct vi_node *cap_root;
	struct vi_node *cap_cur;
	int cap_depth;
	const char *cap_path;
	bool cap_fault;
	size_t tstart[XML_MAX_DEPTH + 2]; /* where each open captured node's text starts */
	struct buf text;
	struct arena_chunk *arena;
	size_t arena_bytes;

	bool have_fault;
	char fault_type[ERR_FAULT_MAX];
	char fault_msg[ERR_MSG_MAX];

	bool xml_error;	   /* err came from libxml2 */
	bool finishing;	   /* inside the final xmlParseChunk */
	char bad_root[65]; /* a root element that is not Envelope, seen while finishing */
	size_t fed;
	size_t quiet; /* bytes fed since the last SAX event (see XML_MAX_QUIET) */
	char prefix[XML_PREFIX_LEN + 1];
	size_t prefix_len;
};

static const char node_empty[1];

/* ---------- vi_node ---------- */

void vi_node_free(struct vi_node *n)
{
	struct vi_node *c, *next;

	if (!n)
		return;
	for (c = n->first; c; c = next) {
		next = c->next;
		vi_node_free(c);
	}
	free(n);
}

static size_t opt_len(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static char *put_str(char **p, const char *s)
{
	char *d = *p;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	memcpy(d, s, n);
	*p += n;
	return d;
}

struct vi_node *vi_node_dup(const struct vi_node *n)
{
	struct vi_node *d, *cd;
	const struct vi_node *c;
	char *p;
	size_t size;

	if (!n)
		return NULL;
	size = sizeof(*d) + opt_len(n->name) + opt_len(n->xsi_type) + opt_len(n->type_attr) +
	       opt_len(n->text ? n->text : "");
	d = malloc(size);
	if (!d)
		return NULL;
	p = (char *)(d + 1);
	d->name = put_str(&p, n->name);
	d->xsi_type = put_str(&p, n->xsi_type);
	d->type_attr = put_str(&p, n->type_attr);
	d->text = put_str(&p, n->text ? n->text : "");
	d->parent = NULL;
	d->first = NULL;
	d->last = NULL;
	d->next = NULL;
	for (c = n->first; c; c = c->next) {
		cd = vi_node_dup(c);
		if (!cd) {
			vi_node_free(d);
			return NULL;
		}
		cd->parent = d;
		if (d->last)
			d->last->next = cd;
		else
			d->first = cd;
		d->last = cd;
	}
	return d;
}

const struct vi_node *vi_node_child(const struct vi_node *n, const char *name)
{
	const struct vi_node *c;

	if (!n || !name)
		return NULL;
	for (c = n->first; c; c = c->next)
		if (c->name && strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct vi_node *vi_node_next_same(const struct vi_node *c)
{
	const struct vi_node *s;

	if (!c || !c->name)
		return NULL;
	for (s = c->next; s; s = s->next)
		if (s->name && strcmp(s->name, c->name) == 0)
			return s;
	return NULL;
}

const char *vi_node_child_text(const struct vi_node *n, const char *name)
{
	const struct vi_node *c = vi_node_child(n, name);

	return c ? (c->text ? c->text : "") : NULL;
}

/* ---------- arena ---------- */

static void arena_reset(struct vi_reader *r)
{
	struct arena_chunk *c, *next, *keep = NULL;

	for (c = r->arena; c; c = next) {
		next = c->next;
		if (!keep && c->size == XML_ARENA_CHUNK) {
			keep = c;
			continue;
		}
		free(c);
	}
	r->arena = keep;
	r->arena_bytes = 0;
	if (keep) {
		keep->next = NULL;
		keep->used = 0;
		r->arena_bytes = keep->size;
	}
}

static void arena_free(struct vi_reader *r)
{
	struct arena_chunk *c, *next;

	for (c = r->arena; c; c = next) {
		next = c->next;
		free(c);
	}
	r->arena = NULL;
	r->arena_bytes = 0;
}

/* NULL with r->err set when the capture grows past its cap or memory runs out. */
static void *arena_alloc(struct vi_reader *r, size_t n)
{
	struct arena_chunk *c = r->arena;
	size_t size;
	void *p;

	n = (n + 7) & ~(size_t)7;
	if (!c || c->size - c->used < n) {
		size = n > XML_ARENA_CHUNK / 4 ? n : XML_ARENA_CHUNK;
		if (r->arena_bytes + size + r->text.len > XML_MAX_CAPTURE) {
			err_set(&r->err, ERR_PARSE, "reply element larger than %zu MiB",
				XML_MAX_CAPTURE >> 20);
			return NULL;
		}
		c = malloc(sizeof(*c) + size);
		if (!c) {
			err_set(&r->err, ERR_NOMEM, "out of memory parsing reply");
			return NULL;
		}
		c->size = size;
		c->used = 0;
		if (size == XML_ARENA_CHUNK || !r->arena) {
			c->next = r->arena;
			r->arena = c;
		} else {
			/* a big one-off block: keep the current chunk in front */
			c->next = r->arena->next;
			r->arena->next = c;
			r->arena_bytes += size;
			c->used = n;
			return c->data;
		}
		r->arena_bytes += size;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

static const char *arena_strndup(struct vi_reader *r, const char *s, size_t n)
{
	char *d;

	if (n == 0)
		return node_empty;
	d = arena_alloc(r, n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* ---------- SAX callbacks ---------- */

static bool prefix_is_html(const struct vi_reader *r)
{
	const char *p = r->prefix;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (strncasecmp(p, "<!doctype html", 14) == 0 || strncasecmp(p, "<html", 5) == 0)
		return true;
	return false;
}

/* The reply starts like XML (so an error at its end means it was cut short). */
static bool prefix_is_markup(const struct vi_reader *r)
{
	const char *p = r->prefix;

	if ((unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
	    (unsigned char)p[2] == 0xbf)
		p += 3;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return *p == '<';
}

static void fail(struct vi_reader *r, enum err_kind kind, const char *msg)
{
	err_set(&r->err, kind, "%s", msg);
	xmlStopParser(r->ctxt);
}

static void stop_if_failed(struct vi_reader *r)
{
	if (r->err.kind != ERR_OK)
		xmlStopParser(r->ctxt);
}

static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
	struct vi_reader *r = ctx;

	(void)ext_id;
	(void)sys_id;
	if (name && strcasecmp((const char *)name, "html") == 0)
		fail(r, ERR_PARSE, "reply is not a SOAP envelope (HTML page?)");
	else
		fail(r, ERR_PARSE, "reply has a DOCTYPE declaration (refused)");
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
			   const xmlChar *system_id, xmlChar *content)
{
	(void)name;
	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	fail(ctx, ERR_PARSE, "reply declares entities (refused)");
}

static void on_serror(void *ctx, xmlErrorPtr xe)
{
	struct vi_reader *r = ctx;
	char msg[ERR_MSG_MAX];
	size_t n;

	if (!xe || xe->level != XML_ERR_FATAL || r->err.kind != ERR_OK)
		return;
	r->xml_error = true;
	if (prefix_is_html(r)) {
		err_set(&r->err, ERR_PARSE, "reply is not a SOAP envelope (HTML page?)");
		return;
	}
	snprintf(msg, sizeof(msg), "%s", xe->message ? xe->message : "unknown error");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (!r->started)
		err_set(&r->err, ERR_PARSE, "reply is not XML: %s", msg);
	else
		err_set(&r->err, ERR_PARSE, "reply is not well-formed XML: %s (line %d)", msg,
			xe->line);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Copies an attribute value: libxml2 hands '&' on as "&#38;" when it does not
 * substitute entities (every other reference arrives decoded). Returns the
 * length written; dst has room for n + 1 bytes. */
static size_t attr_copy(char *dst, const char *v, size_t n)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (v[i] == '&' && n - i >= 5 && memcmp(v + i, "&#38;", 5) == 0) {
			dst[o++] = '&';
			i += 5;
		} else {
			dst[o++] = v[i++];
		}
	}
	dst[o] = '\0';
	return o;
}

static void capture_start(struct vi_reader *r, const char *name, int nattrs, const xmlChar **attrs)
{
	const char *xsi = NULL, *xsi_end = NULL, *typ = NULL, *typ_end = NULL;
	size_t name_len = strlen(name), xsi_len = 0, typ_len = 0, size;
	struct vi_node *n;
	char *p;
	int i;

	for (i = 0; i < nattrs; i++) {
		const xmlChar **a = attrs + 5 * i; /* localname, prefix, URI, value, end */

		if (strcmp((const char *)a[0], "type") != 0)
			continue;
		if (a[2] ? strcmp((const char *)a[2], XSI_NS) == 0 : a[1] != NULL) {
			xsi = (const char *)a[3];
			xsi_end = (const char *)a[4];
		} else if (!a[1]) {
			typ = (const char *)a[3];
			typ_end = (const char *)a[4];
		}
	}
	if (xsi) {
		const char *c = memrchr(xsi, ':', (size_t)(xsi_end - xsi));

		if (c)
			xsi = c + 1;
		xsi_len = (size_t)(xsi_end - xsi);
	}
	if (typ)
		typ_len = (size_t)(typ_end - typ);
	size = sizeof(*n) + name_len + 1 + (xsi ? xsi_len + 1 : 0) + (typ ? typ_len + 1 : 0);
	n = arena_alloc(r, size);
	if (!n) {
		xmlStopParser(r->ctxt);
		return;
	}
	p = (char *)(n + 1);
	n->name = p;
	memcpy(p, name, name_len + 1);
	p += name_len + 1;
	n->xsi_type = NULL;
	if (xsi) {
		n->xsi_type = p;
		p += attr_copy(p, xsi, xsi_len) + 1;
	}
	n->type_attr = NULL;
	if (typ) {
		n->type_attr = p;
		attr_copy(p, typ, typ_len);
	}
	n->text = node_empty;
	n->first = NULL;
	n->last = NULL;
	n->next = NULL;
	n->parent = r->cap_cur;
	if (r->cap_cur) {
		if (r->cap_cur->last)
			r->cap_cur->last->next = n;
		else
			r->cap_cur->first = n;
		r->cap_cur->last = n;
	} else {
		r->cap_root = n;
	}
	r->cap_cur = n;
	r->tstart[r->depth] = r->text.len;
}

static bool all_space(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

static void text_truncate(struct buf *b, size_t len)
{
	if (b->len > len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

static void fault_extract(struct vi_reader *r, const struct vi_node *f)
{
	const struct vi_node *detail = vi_node_child(f, "detail");
	const char *msg = vi_node_child_text(f, "faultstring");
	const char *type = NULL;
	bool strip = false;
	size_t n;

	/* xsi:type is the type name; the element name is the type name + "Fault" */
	if (detail && detail->first) {
		if (detail->first->xsi_type && *detail->first->xsi_type) {
			type = detail->first->xsi_type;
		} else {
			type = detail->first->name;
			strip = has_suffix(type, "Fault") && strlen(type) > 5;
		}
	}
	snprintf(r->fault_type, sizeof(r->fault_type), "%s", type ? type : "");
	n = strlen(r->fault_type);
	if (strip && n > 5)
		r->fault_type[n - 5] = '\0';
	snprintf(r->fault_msg, sizeof(r->fault_msg), "%s",
		 msg && *msg ? msg : (r->fault_type[0] ? r->fault_type : "SOAP fault"));
	r->have_fault = true;
}

static void capture_end(struct vi_reader *r)
{
	struct vi_node *n = r->cap_cur;
	size_t start = r->tstart[r->depth];
	size_t len = r->text.len - start;
	struct err he;

	if (len && !(n->first && all_space(r->text.data + start, len))) {
		n->text = arena_strndup(r, r->text.data + start, len);
		if (!n->text) {
			n->text = node_empty;
			xmlStopParser(r->ctxt);
			return;
		}
	}
	text_truncate(&r->text, start);
	r->cap_cur = n->parent;
	if (r->depth != r->cap_depth)
		return;
	/* the captured element is complete */
	if (r->cap_fault) {
		fault_extract(r, n);
	} else if (r->spec.on_node) {
		err_clear(&he);
		if (r->spec.on_node(r->spec.ud, r->cap_path, n, &he) != 0) {
			if (he.kind == ERR_OK)
				err_set(&he, ERR_INVALID, "reply handler failed");
			r->err = he;
			xmlStopParser(r->ctxt);
		}
	}
	r->cap_root = NULL;
	r->cap_cur = NULL;
	r->cap_depth = 0;
	r->cap_path = NULL;
	r->cap_fault = false;
	arena_reset(r);
	buf_reset(&r->text);
}

/* Which spec paths still match at relative level lvl (1-based) after name. */
static void match_level(struct vi_reader *r, int lvl, const char *name)
{
	uint64_t prev =
		lvl == 1 ? (r->npaths == 64 ? ~(uint64_t)0 : (((uint64_t)1 << r->npaths) - 1))
			 : r->match[lvl - 1];
	uint64_t m = 0;
	size_t i;

	if ((size_t)lvl > r->maxcomps)
		prev = 0;
	for (i = 0; prev && i < r->npaths; i++) {
		if (!(prev & ((uint64_t)1 << i)))
			continue;
		if (r->ncomps[i] < (size_t)lvl || strcmp(r->comps[i][lvl - 1], name) != 0)
			continue;
		m |= (uint64_t)1 << i;
		if (r->ncomps[i] == (size_t)lvl && !r->cap_cur) {
			r->cap_depth = r->depth;
			r->cap_path = r->spec.paths[i];
			r->cap_fault = false;
		}
	}
	r->match[lvl] = m;
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
		     int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
		     int nb_defaulted, const xmlChar **attributes)
{
	struct vi_reader *r = ctx;
	const char *name = (const char *)localname;

	(void)prefix;
	(void)uri;
	(void)nb_namespaces;
	(void)namespaces;
	(void)nb_defaulted;
	r->quiet = 0;
	if (r->err.kind != ERR_OK)
		return;
	r->depth++;
	if (r->depth > XML_MAX_DEPTH) {
		fail(r, ERR_PARSE, "reply nests elements deeper than 64 levels");
		return;
	}
	if (r->cap_cur) {
		capture_start(r, name, nb_attributes, attributes);
		return;
	}
	if (r->depth == 1) {
		r->started = true;
		if (strcmp(name, "Envelope") == 0)
			return;
		if (strcasecmp(name, "html") == 0) {
			fail(r, ERR_PARSE, "reply is not a SOAP envelope (HTML page?)");
		} else if (r->finishing) {
			/* maybe a start tag cut short ("<soapenv:Env"): decided in finish */
			snprintf(r->bad_root, sizeof(r->bad_root), "%s", name);
		} else {
			err_set(&r->err, ERR_PARSE,
				"reply is not a SOAP envelope (root element <%.64s>)", name);
			stop_if_failed(r);
		}
		return;
	}
	if (r->depth == 2) {
		if (strcmp(name, "Body") == 0 && !r->seen_body) {
			r->in_body = true;
			r->seen_body = true;
			r->body_depth = 2;
		}
		return;
	}
	if (r->in_body && r->depth == r->body_depth + 1) {
		if (strcmp(name, "Fault") == 0) {
			r->cap_depth = r->depth;
			r->cap_path = "Fault";
			r->cap_fault = true;
			capture_start(r, name, nb_attributes, attributes);
		} else if (has_suffix(name, "Response") && !r->seen_response) {
			r->resp_depth = r->depth;
			r->seen_response = true;
		}
		return;
	}
	if (r->resp_depth && r->depth > r->resp_depth) {
		int lvl = r->depth - r->resp_depth;

		r->cap_depth = 0;
		match_level(r, lvl, name);
		if (r->cap_depth)
			capture_start(r, name, nb_attributes, attributes);
	}
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	struct vi_reader *r = ctx;

	(void)localname;
	(void)prefix;
	(void)uri;
	r->quiet = 0;
	if (r->err.kind != ERR_OK)
		return;
	if (r->cap_cur)
		capture_end(r);
	if (r->depth == r->resp_depth)
		r->resp_depth = 0;
	if (r->in_body && r->depth == r->body_depth)
		r->in_body = false;
	if (r->depth == 1)
		r->root_closed = true;
	r->depth--;
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
	struct vi_reader *r = ctx;

	r->quiet = 0;
	if (!r->cap_cur || r->err.kind != ERR_OK || len <= 0)
		return;
	if (r->text.len - r->tstart[r->depth] + (size_t)len > XML_MAX_NODE_TEXT) {
		err_set(&r->err, ERR_PARSE, "reply element text longer than %zu MiB",
			XML_MAX_NODE_TEXT >> 20);
		xmlStopParser(r->ctxt);
		return;
	}
	if (r->arena_bytes + r->text.len + (size_t)len > XML_MAX_CAPTURE) {
		err_set(&r->err, ERR_PARSE, "reply element larger than %zu MiB",
			XML_MAX_CAPTURE >> 20);
		xmlStopParser(r->ctxt);
		return;
	}
	if (buf_add(&r->text, ch, (size_t)len) != 0) {
		err_set(&r->err, ERR_NOMEM, "out of memory parsing reply");
		xmlStopParser(r->ctxt);
	}
}

/* ---------- reader ---------- */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

/* libxml2 reports some errors (encoding conversion, I/O) only through its
 * generic handler, which prints to stderr; vi/ never logs. The reader finds
 * those errors from xmlParseChunk's result instead. */
static void xml_silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void xml_init(void)
{
	xmlInitParser();
	xmlThrDefSetGenericErrorFunc(NULL, xml_silent);
}

static int split_paths(struct vi_reader *r, struct err *e)
{
	size_t total = 0, i, n;
	char *p, *s;

	for (n = 0; r->spec.paths && r->spec.paths[n]; n++)
		total += strlen(r->spec.paths[n]) + 1;
	if (n > XML_MAX_PATHS)
		return err_set(e, ERR_INVALID, "too many reply paths (%zu, at most %d)", n,
			       XML_MAX_PATHS);
	r->pathbuf = malloc(total + 1);
	if (!r->pathbuf)
		return err_set(e, ERR_NOMEM, "out of memory");
	p = r->pathbuf;
	for (i = 0; i < n; i++) {
		size_t len = strlen(r->spec.paths[i]);

		memcpy(p, r->spec.paths[i], len + 1);
		r->ncomps[i] = 0;
		s = p;
		for (;;) {
			char *slash = strchr(s, '/');

			if (slash)
				*slash = '\0';
			if (*s == '\0' || r->ncomps[i] == XML_MAX_COMPS)
				return err_set(e, ERR_INVALID, "bad reply path \"%s\"",
					       r->spec.paths[i]);
			r->comps[i][r->ncomps[i]++] = s;
			if (!slash)
				break;
			s = slash + 1;
		}
		if (r->ncomps[i] > r->maxcomps)
			r->maxcomps = r->ncomps[i];
		p += len + 1;
	}
	r->npaths = n;
	return 0;
}

struct vi_reader *vi_reader_new(const struct vi_reader_spec *spec, struct err *e)
{
	struct vi_reader *r;

	pthread_once(&xml_once, xml_init);
	xmlSetGenericErrorFunc(NULL, xml_silent); /* per thread in libxml2 */
	r = calloc(1, sizeof(*r));
	if (!r) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (spec)
		r->spec = *spec;
	buf_init(&r->text, XML_MAX_CAPTURE);
	if (split_paths(r, e) != 0) {
		vi_reader_free(r);
		return NULL;
	}
	return r;
}

static int reader_create_ctxt(struct vi_reader *r, const char *data, int len)
{
	xmlSAXHandler sax;

	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = on_start;
	sax.endElementNs = on_end;
	sax.characters = on_text;
	sax.ignorableWhitespace = on_text;
	sax.cdataBlock = on_text;
	sax.internalSubset = on_doctype;
	sax.externalSubset = on_doctype;
	sax.entityDecl = on_entity_decl;
	sax.serror = on_serror;
	r->ctxt = xmlCreatePushParserCtxt(&sax, r, data, len, NULL);
	if (!r->ctxt)
		return err_set(&r->err, ERR_NOMEM, "cannot create the XML parser");
	xmlCtxtUseOptions(r->ctxt, XML_PARSE_NONET);
	/* belt and braces: no entity is ever substituted, no DTD ever loaded */
	r->ctxt->replaceEntities = 0;
	r->ctxt->loadsubset = 0;
	r->ctxt->validate = 0;
	return 0;
}

/* The bytes did not convert from the declared encoding (libxml2 says so only
 * through its generic handler, the input buffer's error or the result code). */
static bool encoding_failed(const struct vi_reader *r, int rc)
{
	const xmlParserInputPtr in = r->ctxt->input;

	if (rc == XML_ERR_INVALID_ENCODING || rc == XML_I18N_CONV_FAILED || rc == -1)
		return true;
	if (!in || !in->buf)
		return false;
	/* at the end, bytes left unconverted are bytes the converter refused */
	return in->buf->error != 0 || (r->finishing && in->buf->raw && xmlBufUse(in->buf->raw) > 0);
}

/* An error libxml2 did not report through on_serror (it halts the parser). */
static void check_halted(struct vi_reader *r, int rc)
{
	if (r->err.kind != ERR_OK || (rc == 0 && !encoding_failed(r, 0)))
		return;
	if (encoding_failed(r, rc))
		err_set(&r->err, ERR_PARSE, "reply is not valid in its declared encoding");
	else if (r->ctxt->instate == XML_PARSER_EOF || !r->ctxt->wellFormed)
		err_set(&r->err, ERR_PARSE, "reply is not well-formed XML (libxml2 error %d)", rc);
}

static int reader_error(struct vi_reader *r, struct err *e)
{
	err_copy(e, &r->err);
	return -1;
}

int vi_reader_feed(struct vi_reader *r, const char *data, size_t len, struct err *e)
{
	size_t off = 0;

	if (r->err.kind != ERR_OK)
		return reader_error(r, e);
	xmlSetGenericErrorFunc(NULL, xml_silent); /* feeding may happen on another thread */
	if (r->prefix_len < XML_PREFIX_LEN && len) {
		size_t n = XML_PREFIX_LEN - r->prefix_len;

		if (n > len)
			n = len;
		memcpy(r->prefix + r->prefix_len, data, n);
		r->prefix_len += n;
		r->prefix[r->prefix_len] = '\0';
	}
	r->fed += len;
	/* libxml2 wants the first four bytes at once to detect the encoding */
	if (!r->ctxt) {
		if (r->fed < 4)
			return 0;
		if (reader_create_ctxt(r, r->prefix, 4) != 0)
			return reader_error(r, e);
		off = len - (r->fed - 4);
	}
	/*
	 * In slices, counting the bytes between SAX events: libxml2 2.9 checks
	 * a start tag's attributes for duplicates in quadratic time once the
	 * whole tag has arrived, so a tag of a million attributes would burn
	 * minutes here. Refusing it before its '>' is fed keeps that bounded.
	 */
	while (off < len && r->err.kind == ERR_OK) {
		size_t n = len - off > XML_FEED_SLICE ? XML_FEED_SLICE : len - off;

		if (r->quiet > XML_MAX_QUIET) {
			err_set(&r->err, ERR_PARSE, "reply element tag too large (over %zu KiB)",
				XML_MAX_QUIET >> 10);
			break;
		}
		check_halted(r, xmlParseChunk(r->ctxt, data + off, (int)n, 0));
		r->quiet += n;
		off += n;
	}
	if (r->err.kind != ERR_OK)
		return reader_error(r, e);
	return 0;
}

int vi_reader_finish(struct vi_reader *r, struct err *e)
{
	int rc;

	if (r->err.kind != ERR_OK)
		return reader_error(r, e);
	if (!r->ctxt && r->fed > 0 && reader_create_ctxt(r, r->prefix, (int)r->fed) != 0)
		return reader_error(r, e);
	if (!r->ctxt || (all_space(r->prefix, r->prefix_len) && r->fed == r->prefix_len)) {
		err_set(&r->err, ERR_PARSE, "empty reply");
		return reader_error(r, e);
	}
	r->finishing = true;
	xmlSetGenericErrorFunc(NULL, xml_silent);
	if (encoding_failed(r, 0)) {
		check_halted(r, 0);
		return reader_error(r, e);
	}
	rc = xmlParseChunk(r->ctxt, NULL, 0, 1);
	if (encoding_failed(r, rc)) {
		err_clear(&r->err);
		check_halted(r, rc);
	}
	if (r->err.kind == ERR_PARSE && r->xml_error && !r->root_closed && !prefix_is_html(r) &&
	    prefix_is_markup(r)) {
		/* everything fed before was fine: the document just stops */
		err_clear(&r->err);
		err_set(&r->err, ERR_PARSE, "reply truncated");
	}
	if (r->err.kind == ERR_OK && r->bad_root[0])
		err_set(&r->err, ERR_PARSE, "reply is not a SOAP envelope (root element <%s>)",
			r->bad_root);
	if (r->err.kind == ERR_OK && !r->root_closed)
		err_set(&r->err, ERR_PARSE, r->started ? "reply truncated" : "reply is not XML");
	if (r->err.kind == ERR_OK && !r->seen_body)
		err_set(&r->err, ERR_PARSE, "reply is a SOAP envelope without a Body");
	if (r->err.kind == ERR_OK && r->have_fault)
		err_set_fault(&r->err,
			      strcmp(r->fault_type, "InvalidLogin") == 0 ? ERR_AUTH : ERR_FAULT,
			      r->fault_type, "%s", r->fault_msg);
	if (r->err.kind == ERR_OK && !r->seen_response)
		err_set(&r->err, ERR_PROTOCOL, "SOAP body holds neither a response nor a fault");
	if (r->err.kind != ERR_OK)
		return reader_error(r, e);
	return 0;
}

void vi_reader_free(struct vi_reader *r)
{
	if (!r)
		return;
	if (r->ctxt)
		xmlFreeParserCtxt(r->ctxt);
	arena_free(r);
	buf_release(&r->text);
	free(r->pathbuf);
	free(r);
}

int vi_reader_parse(const struct vi_reader_spec *spec, const char *data, size_t len, struct err *e)
{
	struct vi_reader *r;
	int rc = -1;

	r = vi_reader_new(spec, e);
	if (!r)
		return -1;
	if (vi_reader_feed(r, data, len, e) != 0)
		goto out_free;
	rc = vi_reader_finish(r, e);
out_free:
	vi_reader_free(r);
	return rc;
}

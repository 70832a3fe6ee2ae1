/* vi/pc: the property collector: container views, filters, WaitForUpdatesEx, RetrievePropertiesEx. */
#include "vi/pc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "vi/pc_internal.h"
#include "vi/soap.h"
#include "vi/value.h"

#define PC_BODY_MAX  ((size_t)16 << 20)
#define PC_MAX_PAGES 1000000

const char *vi_pc_default_collector(struct vi_session *s, struct err *e)
{
	const struct vi_service_content *sc = vi_get_service_content(s);

	if (!sc || !sc->property_collector) {
		err_set(e, ERR_INVALID, "not logged in (no service content)");
		return NULL;
	}
	return sc->property_collector;
}

/* The given collector, or the session's when NULL. */
static const char *collector_or_default(struct vi_session *s, const char *collector, struct err *e)
{
	return collector ? collector : vi_pc_default_collector(s, e);
}

int vi_pc_create_view(struct vi_session *s, const char *container_type, const char *container,
		      const char *const *types, size_t ntypes, char **view_out, struct err *e)
{
	const struct vi_service_content *sc = vi_get_service_content(s);
	struct buf b;
	size_t i;
	int rc;

	if (!sc || !sc->view_manager)
		return err_set(e, ERR_INVALID,
			       "CreateContainerView: no view manager (not logged "
			       "in, or the server has none)");
	if (!container) {
		container = sc->root_folder;
		container_type = "Folder";
	}
	if (!container_type || !*container_type)
		return err_set(e, ERR_INVALID, "CreateContainerView: no container type given");
	buf_init(&b, PC_BODY_MAX);
	vi_soap_begin(&b, "CreateContainerView", "ViewManager", sc->view_manager);
	vi_soap_add_moref(&b, "container", container_type, container);
	for (i = 0; i < ntypes; i++)
		vi_soap_add(&b, "type", types[i]);
	vi_soap_add(&b, "recursive", "true");
	vi_soap_end(&b, "CreateContainerView");
	rc = vi_session_call_text(s, "CreateContainerView", &b, "returnval", 0, view_out, e);
	buf_release(&b);
	return rc;
}

void vi_pc_add_prop_specs(struct buf *b, const struct vi_prop_spec *specs, size_t nspecs)
{
	size_t i;
	const char *const *p;

	for (i = 0; i < nspecs; i++) {
		vi_soap_open(b, "propSet", NULL);
		vi_soap_add(b, "type", specs[i].type);
		vi_soap_add(b, "all", "false");
		for (p = specs[i].paths; p && *p; p++)
			vi_soap_add(b, "pathSet", *p);
		vi_soap_close(b, "propSet");
	}
}

/* The contents of a PropertyFilterSpec over a container view (the view
 * itself skipped, its members traversed). */
static void add_view_filter_spec(struct buf *b, const char *view, const struct vi_prop_spec *specs,
				 size_t nspecs)
{
	vi_pc_add_prop_specs(b, specs, nspecs);
	vi_soap_open(b, "objectSet", NULL);
	vi_soap_add_moref(b, "obj", "ContainerView", view);
	vi_soap_add(b, "skip", "true");
	vi_soap_open(b, "selectSet", "TraversalSpec");
	vi_soap_add(b, "name", "traverseView");
	vi_soap_add(b, "type", "ContainerView");
	vi_soap_add(b, "path", "view");
	vi_soap_add(b, "skip", "false");
	vi_soap_close(b, "selectSet");
	vi_soap_close(b, "objectSet");
}

void vi_pc_filter_begin(struct buf *b, const char *collector)
{
	vi_soap_begin(b, "CreateFilter", "PropertyCollector", collector);
	vi_soap_open(b, "spec", NULL);
}

int vi_pc_filter_send(struct vi_session *s, struct buf *b, char **filter_out, struct err *e)
{
	vi_soap_close(b, "spec");
	vi_soap_add(b, "partialUpdates", "false");
	vi_soap_end(b, "CreateFilter");
	return vi_session_call_text(s, "CreateFilter", b, "returnval", VI_CALL_BOUND, filter_out,
				    e);
}

int vi_pc_create_filter(struct vi_session *s, const char *view, const struct vi_prop_spec *specs,
			size_t nspecs, char **filter_out, struct err *e)
{
	const char *pc = vi_pc_default_collector(s, e);
	struct buf b;
	int rc;

	if (!pc)
		return -1;
	buf_init(&b, PC_BODY_MAX);
	vi_pc_filter_begin(&b, pc);
	add_view_filter_spec(&b, view, specs, nspecs);
	rc = vi_pc_filter_send(s, &b, filter_out, e);
	buf_release(&b);
	return rc;
}

int vi_pc_create_object_filter(struct vi_session *s, const char *collector, const char *obj_type,
			       const char *moref, const char *const *paths, char **filter_out,
			       struct err *e)
{
	const char *pc = collector_or_default(s, collector, e);
	struct vi_prop_spec spec = {.type = obj_type, .paths = paths};
	struct buf b;
	int rc;

	if (!pc)
		return -1;
	buf_init(&b, PC_BODY_MAX);
	vi_pc_filter_begin(&b, pc);
	vi_pc_add_prop_specs(&b, &spec, 1);
	vi_soap_open(&b, "objectSet", NULL);
	vi_soap_add_moref(&b, "obj", obj_type, moref);
	vi_soap_add(&b, "skip", "false");
	vi_soap_close(&b, "objectSet");
	rc = vi_pc_filter_send(s, &b, filter_out, e);
	buf_release(&b);
	return rc;
}

static int parse_kind(const char *s, enum vi_obj_kind *k)
{
	if (strcmp(s, "enter") == 0)
		*k = VI_OBJ_ENTER;
	else if (strcmp(s, "modify") == 0)
		*k = VI_OBJ_MODIFY;
	else if (strcmp(s, "leave") == 0)
		*k = VI_OBJ_LEAVE;
	else
		return -1;
	return 0;
}

static int parse_op(const char *s, enum vi_prop_op *op)
{
	if (strcmp(s, "assign") == 0)
		*op = VI_OP_ASSIGN;
	else if (strcmp(s, "add") == 0)
		*op = VI_OP_ADD;
	else if (strcmp(s, "remove") == 0)
		*op = VI_OP_REMOVE;
	else if (strcmp(s, "indirectRemove") == 0)
		*op = VI_OP_INDIRECT_REMOVE;
	else
		return -1;
	return 0;
}

/* The obj moref of an ObjectUpdate/ObjectContent, checked. */
static int object_ref(const struct vi_node *n, struct vi_change *c, struct err *e)
{
	const struct vi_node *obj = vi_node_child(n, "obj");

	if (!obj || !obj->type_attr || !*obj->type_attr || !*obj->text)
		return err_set(e, ERR_PROTOCOL, "object without a managed object reference");
	c->obj_type = obj->type_attr;
	c->moref = obj->text;
	return 0;
}

/* The fault type of a LocalizedMethodFault element (its fault's xsi:type). */
static const char *fault_type(const struct vi_node *m)
{
	const struct vi_node *lmf = vi_node_child(m, "fault");
	const struct vi_node *f = lmf ? vi_node_child(lmf, "fault") : NULL;

	return f && f->xsi_type && *f->xsi_type ? f->xsi_type : "UnknownFault";
}

/* Reports each missingSet entry (MissingProperty) as a change with no value
 * and the fault that kept the property from us. */
static int report_missing(const struct vi_node *n, struct vi_change *c,
			  const struct vi_pc_handler *h, struct err *e)
{
	const struct vi_node *m;
	int rc = 0;

	for (m = vi_node_child(n, "missingSet"); m && rc == 0; m = vi_node_next_same(m)) {
		const char *path = vi_node_child_text(m, "path");

		if (!path || !*path)
			return err_set(e, ERR_PROTOCOL, "missingSet entry without a path");
		c->path = path;
		c->op = VI_OP_ASSIGN;
		c->value = NULL;
		c->fault = fault_type(m);
		rc = h->on_change(h->ud, c, e);
	}
	c->fault = NULL;
	return rc;
}

/* One MissingObject of a PropertyFilterUpdate: the object is gone from our
 * view (deleted, or no permission), reported as a leave with its fault. */
static int on_missing_object(const struct vi_node *n, const struct vi_pc_handler *h, struct err *e)
{
	struct vi_change c = {.kind = VI_OBJ_LEAVE};

	if (object_ref(n, &c, e) < 0)
		return -1;
	c.fault = fault_type(n);
	if (h->on_change(h->ud, &c, e) < 0)
		return -1;
	if (h->on_object_done)
		return h->on_object_done(h->ud, c.obj_type, c.moref, c.kind, e);
	return 0;
}

/* One ObjectUpdate of WaitForUpdatesEx. */
static int on_object_update(const struct vi_node *n, const struct vi_pc_handler *h, struct err *e)
{
	struct vi_change c = {0};
	const struct vi_node *ch;
	const char *kind = vi_node_child_text(n, "kind");

	if (object_ref(n, &c, e) < 0)
		return -1;
	if (!kind || parse_kind(kind, &c.kind) < 0)
		return err_set(e, ERR_PROTOCOL, "object update of %s with unknown kind \"%s\"",
			       c.moref, kind ? kind : "");
	if (c.kind == VI_OBJ_LEAVE) {
		if (h->on_change(h->ud, &c, e) < 0)
			return -1;
		goto done;
	}
	for (ch = vi_node_child(n, "changeSet"); ch; ch = vi_node_next_same(ch)) {
		const char *name = vi_node_child_text(ch, "name");
		const char *op = vi_node_child_text(ch, "op");

		if (!name || !*name || !op || parse_op(op, &c.op) < 0)
			return err_set(e, ERR_PROTOCOL, "bad property change on %s", c.moref);
		c.path = name;
		c.value = (c.op == VI_OP_REMOVE || c.op == VI_OP_INDIRECT_REMOVE)
				  ? NULL
				  : vi_node_child(ch, "val");
		if (h->on_change(h->ud, &c, e) < 0)
			return -1;
	}
	if (report_missing(n, &c, h, e) < 0)
		return -1;
done:
	if (h->on_object_done)
		return h->on_object_done(h->ud, c.obj_type, c.moref, c.kind, e);
	return 0;
}

struct wait_ctx {
	const struct vi_pc_handler *h;
	char *version;
	bool truncated;
	bool got_version;
	bool foreign; /* the current filterSet is for a filter not in h->filters */
};

static bool known_filter(const struct vi_pc_handler *h, const char *filter)
{
	for (const char *const *f = h->filters; *f; f++)
		if (strcmp(*f, filter) == 0)
			return true;
	return false;
}

static int on_wait_node(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	struct wait_ctx *w = ud;

	if (strcmp(path, "returnval/version") == 0) {
		if (strlen(n->text) > VI_PC_TEXT_MAX)
			return err_set(e, ERR_PROTOCOL, "update version longer than %d bytes",
				       VI_PC_TEXT_MAX);
		free(w->version);
		w->version = strdup(n->text);
		w->got_version = true;
		return w->version ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	}
	if (strcmp(path, "returnval/truncated") == 0)
		return vi_text_bool(n->text, &w->truncated, e);
	if (strcmp(path, "returnval/filterSet/filter") == 0) {
		/* the filter comes first in its filterSet */
		w->foreign = w->h->filters && !known_filter(w->h, n->text);
		if (w->foreign && w->h->on_foreign_filter) {
			char f[VI_PC_TEXT_MAX + 1];

			snprintf(f, sizeof(f), "%s", n->text);
			w->h->on_foreign_filter(w->h->ud, f);
		}
		return 0;
	}
	if (w->foreign)
		return 0;
	if (strcmp(path, "returnval/filterSet/missingSet") == 0)
		return on_missing_object(n, w->h, e);
	return on_object_update(n, w->h, e);
}

/* Keeps the server-side wait below the transport's own timeout. */
static int clamp_wait(struct vi_session *s, int max_wait_s)
{
	long t = vi_session_timeout_ms(s);
	long margin = t / 2 < 5000 ? t / 2 : 5000;
	long limit = (t - margin) / 1000;

	if (max_wait_s < 0)
		return 0;
	return max_wait_s > limit ? (int)limit : max_wait_s;
}

int vi_pc_wait_on(struct vi_session *s, const char *collector, const char *version, int max_wait_s,
		  int max_objects, const struct vi_pc_handler *h, char **new_version,
		  bool *truncated, struct err *e)
{
	static const char *const paths[] = {"returnval/version",
					    "returnval/truncated",
					    "returnval/filterSet/filter",
					    "returnval/filterSet/objectSet",
					    "returnval/filterSet/missingSet",
					    NULL};
	const char *pc = collector_or_default(s, collector, e);
	struct wait_ctx w = {.h = h};
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_wait_node, .ud = &w};
	struct buf b;
	int rc = -1;

	if (truncated)
		*truncated = false;
	if (!pc)
		return -1;
	buf_init(&b, PC_BODY_MAX);
	vi_soap_begin(&b, "WaitForUpdatesEx", "PropertyCollector", pc);
	if (version && *version)
		vi_soap_add(&b, "version", version);
	vi_soap_open(&b, "options", NULL);
	vi_soap_add_int(&b, "maxWaitSeconds", clamp_wait(s, max_wait_s));
	if (max_objects > 0)
		vi_soap_add_int(&b, "maxObjectUpdates", max_objects);
	vi_soap_close(&b, "options");
	vi_soap_end(&b, "WaitForUpdatesEx");
	if (vi_session_call(s, "WaitForUpdatesEx", &b, &spec, VI_CALL_BOUND, e) < 0)
		goto out_free;
	if (!w.got_version) {
		/* maxWaitSeconds passed with no change: an empty reply */
		free(w.version);
		w.version = strdup(version ? version : "");
		w.truncated = false;
		if (!w.version) {
			err_set(e, ERR_NOMEM, "out of memory");
			goto out_free;
		}
	}
	*new_version = w.version;
	w.version = NULL;
	if (truncated)
		*truncated = w.truncated;
	rc = 0;
out_free:
	free(w.version);
	buf_release(&b);
	return rc;
}

int vi_pc_wait(struct vi_session *s, const char *version, int max_wait_s, int max_objects,
	       const struct vi_pc_handler *h, char **new_version, bool *truncated, struct err *e)
{
	return vi_pc_wait_on(s, NULL, version, max_wait_s, max_objects, h, new_version, truncated,
			     e);
}

struct retrieve_ctx {
	const struct vi_pc_handler *h;
	char *token;
	size_t objects;
};

/* One ObjectContent of RetrievePropertiesEx: every property is an assign. */
static int on_object_content(const struct vi_node *n, const struct vi_pc_handler *h, struct err *e)
{
	struct vi_change c = {.kind = VI_OBJ_ENTER, .op = VI_OP_ASSIGN};
	const struct vi_node *p;

	if (object_ref(n, &c, e) < 0)
		return -1;
	for (p = vi_node_child(n, "propSet"); p; p = vi_node_next_same(p)) {
		const char *name = vi_node_child_text(p, "name");

		if (!name || !*name)
			return err_set(e, ERR_PROTOCOL, "property without a name on %s", c.moref);
		c.path = name;
		c.value = vi_node_child(p, "val");
		if (h->on_change(h->ud, &c, e) < 0)
			return -1;
	}
	if (report_missing(n, &c, h, e) < 0)
		return -1;
	if (h->on_object_done)
		return h->on_object_done(h->ud, c.obj_type, c.moref, c.kind, e);
	return 0;
}

static int on_retrieve_node(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	struct retrieve_ctx *r = ud;

	if (strcmp(path, "returnval/token") == 0) {
		free(r->token);
		r->token = *n->text ? strdup(n->text) : NULL;
		return (*n->text && !r->token) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
	}
	r->objects++;
	return on_object_content(n, r->h, e);
}

/* Tells the server we will not fetch the remaining pages (errors ignored). */
static void cancel_retrieve(struct vi_session *s, const char *pc, const char *token)
{
	struct err ignored;
	struct buf b;

	err_clear(&ignored);
	buf_init(&b, PC_BODY_MAX);
	vi_soap_begin(&b, "CancelRetrievePropertiesEx", "PropertyCollector", pc);
	vi_soap_add(&b, "token", token);
	vi_soap_end(&b, "CancelRetrievePropertiesEx");
	vi_session_call(s, "CancelRetrievePropertiesEx", &b, NULL, VI_CALL_BOUND, &ignored);
	buf_release(&b);
}

int vi_pc_retrieve(struct vi_session *s, const char *view, const struct vi_prop_spec *specs,
		   size_t nspecs, int page_size, const struct vi_pc_handler *h, int *pages,
		   struct err *e)
{
	static const char *const paths[] = {"returnval/token", "returnval/objects", NULL};
	const char *pc = vi_pc_default_collector(s, e);
	struct retrieve_ctx r = {.h = h};
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_retrieve_node, .ud = &r};
	const char *method = "RetrievePropertiesEx";
	char *token = NULL; /* the server's token for the pages not fetched yet */
	struct buf b;
	int npages = 0, rc = -1;

	if (pages)
		*pages = 0;
	if (!pc)
		return -1;
	buf_init(&b, PC_BODY_MAX);
	vi_soap_begin(&b, method, "PropertyCollector", pc);
	vi_soap_open(&b, "specSet", NULL);
	add_view_filter_spec(&b, view, specs, nspecs);
	vi_soap_close(&b, "specSet");
	vi_soap_open(&b, "options", NULL);
	if (page_size > 0)
		vi_soap_add_int(&b, "maxObjects", page_size);
	vi_soap_close(&b, "options");
	vi_soap_end(&b, method);
	while (rc < 0) {
		r.objects = 0;
		/* the view and the token live in the session: never resent after a re-login */
		if (vi_session_call(s, method, &b, &spec, VI_CALL_BOUND, e) < 0)
			break;
		npages++;
		/* the page arrived: the old token is spent, the new one (if any) is ours */
		free(token);
		token = r.token;
		r.token = NULL;
		if (!token) {
			rc = 0;
			break;
		}
		if (r.objects == 0 || npages >= PC_MAX_PAGES) {
			err_set(e, ERR_PROTOCOL, "%s: a page with a token but no progress", method);
			break;
		}
		method = "ContinueRetrievePropertiesEx";
		buf_reset(&b);
		vi_soap_begin(&b, method, "PropertyCollector", pc);
		vi_soap_add(&b, "token", token);
		vi_soap_end(&b, method);
	}
	/* on failure, the token of a page that did come, or the one we sent */
	if (rc < 0 && (r.token || token))
		cancel_retrieve(s, pc, r.token ? r.token : token);
	if (pages)
		*pages = npages;
	free(r.token);
	free(token);
	buf_release(&b);
	return rc;
}

int vi_pc_retrieve_object(struct vi_session *s, const char *type, const char *moref,
			  const char *const *paths, const struct vi_pc_handler *h, struct err *e)
{
	static const char *const rpaths[] = {"returnval/objects", NULL};
	const char *pc = vi_pc_default_collector(s, e);
	struct retrieve_ctx r = {.h = h};
	struct vi_reader_spec spec = {.paths = rpaths, .on_node = on_retrieve_node, .ud = &r};
	struct vi_prop_spec ps = {.type = type, .paths = paths};
	struct buf b;
	int rc;

	if (!pc)
		return -1;
	buf_init(&b, PC_BODY_MAX);
	vi_soap_begin(&b, "RetrievePropertiesEx", "PropertyCollector", pc);
	vi_soap_open(&b, "specSet", NULL);
	vi_pc_add_prop_specs(&b, &ps, 1);
	vi_soap_open(&b, "objectSet", NULL);
	vi_soap_add_moref(&b, "obj", type, moref);
	vi_soap_add(&b, "skip", "false");
	vi_soap_close(&b, "objectSet");
	vi_soap_close(&b, "specSet");
	vi_soap_open(&b, "options", NULL);
	vi_soap_close(&b, "options");
	vi_soap_end(&b, "RetrievePropertiesEx");
	rc = vi_session_call(s, "RetrievePropertiesEx", &b, &spec, 0, e);
	free(r.token);
	buf_release(&b);
	return rc;
}

/* DestroyPropertyFilter, DestroyView, DestroyPropertyCollector: a method on
 * the object itself, bound to the session that made it. */
static int destroy(struct vi_session *s, const char *method, const char *type, const char *moref,
		   struct err *e)
{
	struct buf b;
	int rc;

	if (!moref || !*moref)
		return err_set(e, ERR_INVALID, "%s: nothing to destroy", method);
	buf_init(&b, PC_BODY_MAX);
	vi_soap_begin(&b, method, type, moref);
	vi_soap_end(&b, method);
	rc = vi_session_call(s, method, &b, NULL, VI_CALL_BOUND, e);
	buf_release(&b);
	return rc;
}

int vi_pc_destroy_filter(struct vi_session *s, const char *filter, struct err *e)
{
	return destroy(s, "DestroyPropertyFilter", "PropertyFilter", filter, e);
}

int vi_pc_destroy_view(struct vi_session *s, const char *view, struct err *e)
{
	return destroy(s, "DestroyView", "ContainerView", view, e);
}

int vi_pc_create_collector(struct vi_session *s, char **collector_out, struct err *e)
{
	const char *pc = vi_pc_default_collector(s, e);
	struct buf b;
	int rc;

	if (!pc)
		return -1;
	buf_init(&b, PC_BODY_MAX);
	vi_soap_begin(&b, "CreatePropertyCollector", "PropertyCollector", pc);
	vi_soap_end(&b, "CreatePropertyCollector");
	rc = vi_session_call_text(s, "CreatePropertyCollector", &b, "returnval", 0, collector_out,
				  e);
	buf_release(&b);
	return rc;
}

int vi_pc_destroy_collector(struct vi_session *s, const char *collector, struct err *e)
{
	return destroy(s, "DestroyPropertyCollector", "PropertyCollector", collector, e);
}

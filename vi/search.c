/* vi/search: the SearchIndex: a managed object by its inventory path. */
#include "vi/search.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "vi/soap.h"

#define SEARCH_BODY_MAX ((size_t)64 << 10)

struct found {
	char *type;
	char *moref;
};

static int on_returnval(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	struct found *f = ud;

	(void)path;
	if (!n->type_attr || !*n->text)
		return err_set(e, ERR_PROTOCOL, "FindByInventoryPath: a reference without a type");
	free(f->type);
	free(f->moref);
	f->type = strdup(n->type_attr);
	f->moref = strdup(n->text);
	return f->type && f->moref ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

int vi_lookup_inventory_path(struct vi_session *s, const char *path, char **type_out,
			     char **moref_out, struct err *e)
{
	static const char *const paths[] = {"returnval", NULL};
	const struct vi_service_content *sc;
	struct found f = {NULL, NULL};
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_returnval, .ud = &f};
	struct buf b;
	int rc = -1;

	if (!vi_session_logged_in(s) && vi_session_login(s, e) < 0)
		return -1;
	sc = vi_get_service_content(s);
	if (!sc || !sc->search_index)
		return err_set(e, ERR_INVALID,
			       "FindByInventoryPath: the server has no SearchIndex");
	buf_init(&b, SEARCH_BODY_MAX);
	vi_soap_begin(&b, "FindByInventoryPath", "SearchIndex", sc->search_index);
	vi_soap_add(&b, "inventoryPath", path);
	vi_soap_end(&b, "FindByInventoryPath");
	if (vi_session_call(s, "FindByInventoryPath", &b, &spec, 0, e) < 0)
		goto out_free;
	if (!f.moref) {
		err_set(e, ERR_INVALID, "no object at inventory path %s", path);
		goto out_free;
	}
	*type_out = f.type;
	*moref_out = f.moref;
	f.type = f.moref = NULL;
	rc = 0;
out_free:
	free(f.type);
	free(f.moref);
	buf_release(&b);
	return rc;
}

/* vi/pc_tasks: a property filter on the TaskManager's recent tasks and their info. */
#include "vi/pc_tasks.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "vi/soap.h"

#define PC_TASKS_BODY_MAX ((size_t)64 << 10)

static int on_text(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	char **out = ud;

	(void)path;
	free(*out);
	*out = strdup(n->text);
	return *out ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

/* One call whose reply's wanted element text goes to *out (NULL on entry). */
static int call_text(struct vi_session *s, const char *method, const struct buf *b,
		     const char *path, char **out, struct err *e)
{
	const char *paths[] = {path, NULL};
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_text, .ud = out};

	if (b->failed)
		return err_set(e, ERR_NOMEM, "%s: out of memory", method);
	if (vi_session_call(s, method, b->data, b->len, &spec, e) < 0)
		return -1;
	if (!*out || !**out)
		return err_set(e, ERR_PROTOCOL, "%s: the reply has no %s", method, path);
	return 0;
}

int vi_pc_create_task_filter(struct vi_session *s, char **filter_out, struct err *e)
{
	const struct vi_service_content *sc = vi_get_service_content(s);
	char *tm = NULL;
	char *filter = NULL;
	struct buf b;
	int rc = -1;

	if (!sc || !sc->property_collector)
		return err_set(e, ERR_INVALID, "not logged in (no service content)");
	buf_init(&b, PC_TASKS_BODY_MAX);
	vi_soap_begin(&b, "RetrieveServiceContent", "ServiceInstance", "ServiceInstance");
	vi_soap_end(&b, "RetrieveServiceContent");
	if (call_text(s, "RetrieveServiceContent", &b, "returnval/taskManager", &tm, e) < 0)
		goto out_free;

	buf_reset(&b);
	vi_soap_begin(&b, "CreateFilter", "PropertyCollector", sc->property_collector);
	vi_soap_open(&b, "spec", NULL);
	vi_soap_open(&b, "propSet", NULL);
	vi_soap_add(&b, "type", "TaskManager");
	vi_soap_add(&b, "all", "false");
	vi_soap_add(&b, "pathSet", "recentTask");
	vi_soap_close(&b, "propSet");
	vi_soap_open(&b, "propSet", NULL);
	vi_soap_add(&b, "type", "Task");
	vi_soap_add(&b, "all", "false");
	vi_soap_add(&b, "pathSet", "info");
	vi_soap_close(&b, "propSet");
	vi_soap_open(&b, "objectSet", NULL);
	vi_soap_add_moref(&b, "obj", "TaskManager", tm);
	vi_soap_add(&b, "skip", "false");
	vi_soap_open(&b, "selectSet", "TraversalSpec");
	vi_soap_add(&b, "name", "recentTasks");
	vi_soap_add(&b, "type", "TaskManager");
	vi_soap_add(&b, "path", "recentTask");
	vi_soap_add(&b, "skip", "false");
	vi_soap_close(&b, "selectSet");
	vi_soap_close(&b, "objectSet");
	vi_soap_close(&b, "spec");
	vi_soap_add(&b, "partialUpdates", "false");
	vi_soap_end(&b, "CreateFilter");
	if (call_text(s, "CreateFilter", &b, "returnval", &filter, e) < 0)
		goto out_free;
	*filter_out = filter;
	filter = NULL;
	rc = 0;

out_free:
	free(filter);
	free(tm);
	buf_release(&b);
	return rc;
}

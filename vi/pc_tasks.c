/* vi/pc_tasks: a property filter on the TaskManager's recent tasks and their info. */
#include "vi/pc_tasks.h"

#include <stdlib.h>

#include "util/buf.h"
#include "vi/pc_internal.h"
#include "vi/soap.h"

#define PC_TASKS_BODY_MAX ((size_t)64 << 10)

int vi_pc_create_task_filter(struct vi_session *s, char **filter_out, struct err *e)
{
	static const char *const tm_paths[] = {"recentTask", NULL};
	static const char *const task_paths[] = {"info", NULL};
	static const struct vi_prop_spec specs[] = {
		{.type = "TaskManager", .paths = tm_paths},
		{.type = "Task", .paths = task_paths},
	};
	const struct vi_service_content *sc = vi_get_service_content(s);
	const char *pc = vi_pc_default_collector(s, e);
	struct buf b;
	int rc;

	if (!pc)
		return -1;
	if (!sc->task_manager)
		return err_set(e, ERR_PROTOCOL, "CreateFilter: the server has no TaskManager");
	buf_init(&b, PC_TASKS_BODY_MAX);
	vi_pc_filter_begin(&b, pc);
	vi_pc_add_prop_specs(&b, specs, 2);
	vi_soap_open(&b, "objectSet", NULL);
	vi_soap_add_moref(&b, "obj", "TaskManager", sc->task_manager);
	vi_soap_add(&b, "skip", "false");
	vi_soap_open(&b, "selectSet", "TraversalSpec");
	vi_soap_add(&b, "name", "recentTasks");
	vi_soap_add(&b, "type", "TaskManager");
	vi_soap_add(&b, "path", "recentTask");
	vi_soap_add(&b, "skip", "false");
	vi_soap_close(&b, "selectSet");
	vi_soap_close(&b, "objectSet");
	rc = vi_pc_filter_send(s, &b, filter_out, e);
	buf_release(&b);
	return rc;
}

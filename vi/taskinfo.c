/* vi/taskinfo: reading a TaskInfo element (a Task's info property) into struct vi_task_info. */
#include "vi/task.h"

#include <stdlib.h>
#include <string.h>

#include "vi/value.h"

/* Copies the text of n's child name into *out (left NULL when absent). */
static int copy_child(const struct vi_node *n, const char *name, char **out, struct err *e)
{
	const char *s = vi_node_child_text(n, name);

	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

static int read_bool(const struct vi_node *n, const char *name, bool *out, struct err *e)
{
	const char *s = vi_node_child_text(n, name);

	*out = false;
	if (s && vi_text_bool(s, out, e) < 0) {
		err_prefix(e, "TaskInfo.%s", name);
		return -1;
	}
	return 0;
}

static int read_time(const struct vi_node *n, const char *name, double *out, struct err *e)
{
	const char *s = vi_node_child_text(n, name);

	*out = 0;
	if (s && vi_time_parse(s, out, e) < 0) {
		err_prefix(e, "TaskInfo.%s", name);
		return -1;
	}
	return 0;
}

static int read_progress(const struct vi_node *n, int *out, struct err *e)
{
	const char *s = vi_node_child_text(n, "progress");
	int64_t v;

	*out = -1;
	if (!s)
		return 0;
	if (vi_text_int64(s, &v, e) < 0) {
		err_prefix(e, "TaskInfo.progress");
		return -1;
	}
	/* a percentage: keep it one even when a server overshoots */
	*out = v < 0 ? 0 : v > 100 ? 100 : (int)v;
	return 0;
}

/* info.error is a LocalizedMethodFault: <fault xsi:type="X"/> and localizedMessage. */
static int read_error(const struct vi_node *n, struct vi_task_info *t, struct err *e)
{
	const struct vi_node *err = vi_node_child(n, "error");
	const struct vi_node *fault;
	const char *type = "MethodFault";

	if (!err)
		return 0;
	/* the xsi:type is the fault's type name as is (VmConfigFault is one) */
	fault = vi_node_child(err, "fault");
	if (fault && fault->xsi_type && *fault->xsi_type)
		type = fault->xsi_type;
	t->error_fault = strdup(type);
	if (!t->error_fault)
		return err_set(e, ERR_NOMEM, "out of memory");
	t->error_msg = strdup(vi_node_child_text(err, "localizedMessage")
				      ? vi_node_child_text(err, "localizedMessage")
				      : "");
	return t->error_msg ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

int vi_task_info_parse(const struct vi_node *n, struct vi_task_info *t, struct err *e)
{
	const struct vi_node *entity;

	memset(t, 0, sizeof(*t));
	t->progress = -1;
	if (!n)
		return err_set(e, ERR_PROTOCOL, "no TaskInfo given");
	if (copy_child(n, "key", &t->key, e) < 0 || copy_child(n, "task", &t->task, e) < 0 ||
	    copy_child(n, "name", &t->name, e) < 0 ||
	    copy_child(n, "descriptionId", &t->description_id, e) < 0 ||
	    copy_child(n, "entityName", &t->entity_name, e) < 0 ||
	    copy_child(n, "state", &t->state, e) < 0)
		goto out_release;
	if (!t->task || !*t->task || !t->state || !*t->state) {
		err_set(e, ERR_PROTOCOL, "TaskInfo without %s",
			!t->task || !*t->task ? "task" : "state");
		goto out_release;
	}
	entity = vi_node_child(n, "entity");
	if (entity && *entity->text) {
		t->entity = strdup(entity->text);
		t->entity_type = entity->type_attr ? strdup(entity->type_attr) : NULL;
		if (!t->entity || (entity->type_attr && !t->entity_type)) {
			err_set(e, ERR_NOMEM, "out of memory");
			goto out_release;
		}
	}
	if (read_bool(n, "cancelable", &t->cancelable, e) < 0 ||
	    read_bool(n, "cancelled", &t->cancelled, e) < 0 ||
	    read_progress(n, &t->progress, e) < 0 ||
	    read_time(n, "queueTime", &t->queue_time, e) < 0 ||
	    read_time(n, "startTime", &t->start_time, e) < 0 ||
	    read_time(n, "completeTime", &t->complete_time, e) < 0 || read_error(n, t, e) < 0)
		goto out_release;
	return 0;
out_release:
	vi_task_info_release(t);
	return -1;
}

void vi_task_info_release(struct vi_task_info *t)
{
	if (!t)
		return;
	free(t->key);
	free(t->task);
	free(t->name);
	free(t->description_id);
	free(t->entity_type);
	free(t->entity);
	free(t->entity_name);
	free(t->state);
	free(t->error_fault);
	free(t->error_msg);
	memset(t, 0, sizeof(*t));
	t->progress = -1;
}

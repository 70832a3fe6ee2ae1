/* vi/pc_tasks: a property filter on the TaskManager's recent tasks and their info. */
#ifndef VIMON_VI_PC_TASKS_H
#define VIMON_VI_PC_TASKS_H

#include "util/err.h"
#include "vi/session.h"

/*
 * Creates a filter on the session's property collector over the TaskManager
 * named by the service content (no extra round trip): its recentTask
 * property, traversing recentTask to every Task to collect its info. Updates then arrive through the same vi_pc_wait() as
 * the session's other filters: TaskManager objects with path "recentTask",
 * Task objects with path "info" (a TaskInfo), and a leave when a task drops
 * out of the list. *filter_out (NULL on entry) is the caller's to free().
 * -1 with e set (ERR_PROTOCOL when the server has no TaskManager; a
 * session-bound call, see vi/pc.h).
 */
int vi_pc_create_task_filter(struct vi_session *s, char **filter_out, struct err *e);

#endif

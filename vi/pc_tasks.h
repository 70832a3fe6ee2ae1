/* vi/pc_tasks: a property filter on the TaskManager's recent tasks and their info. */
#ifndef VIMON_VI_PC_TASKS_H
#define VIMON_VI_PC_TASKS_H

#include "util/err.h"
#include "vi/session.h"

/*
 * Looks up the TaskManager (RetrieveServiceContent) and creates a filter on
 * its recentTask property that traverses recentTask to every Task and
 * collects its info. Updates then arrive through the same vi_pc_wait() as
 * the session's other filters: TaskManager objects with path "recentTask",
 * Task objects with path "info" (a TaskInfo), and a leave when a task drops
 * out of the list. *filter_out (NULL on entry) is the caller's to free().
 * -1 with e set.
 */
int vi_pc_create_task_filter(struct vi_session *s, char **filter_out, struct err *e);

#endif

/* collectors/task: recent tasks (TaskManager.recentTask), their age and question blocks. */
#include "collectors/collector.h"

static const struct col_path task_paths[] = {
	{"info", COL_STORE_TASK},
	{NULL, 0},
};

/* Samples are written by the task shape: labels task_id, task, entity, entity_id, state. */
static const struct col_metric task_metrics[] = {
	{.family = "vsphere_task_info",
	 .help = "A recent task (TaskManager.recentTask, Task.info) with its state (value 1).",
	 .kind = COL_SPECIAL},
	{.family = "vsphere_task_running_seconds",
	 .help = "Seconds a queued or running task has existed (now - info.queueTime).",
	 .kind = COL_SPECIAL},
	{.family = "vsphere_task_blocked",
	 .help = "1 when a queued or running task's entity has a pending question.",
	 .kind = COL_SPECIAL},
	{NULL},
};

const struct collector col_task = {
	.name = "task",
	.type = "Task",
	.paths = task_paths,
	.metrics = task_metrics,
	.special = COL_SPECIAL_TASK,
	.by_task_manager = 1,
};

static const struct col_path task_manager_paths[] = {
	{"recentTask", COL_STORE_COUNT},
	{NULL, 0},
};

const struct collector col_task_manager = {
	.name = "task_manager",
	.type = "TaskManager",
	.paths = task_manager_paths,
	.metrics = col_no_metrics,
	.helper = 1,
	.by_task_manager = 1,
};

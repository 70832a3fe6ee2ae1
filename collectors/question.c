/* collectors/question: pending VM questions (runtime.question) and how long they have waited. */
#include "collectors/collector.h"

static const struct col_path question_paths[] = {
	{"name", COL_STORE_TEXT},
	{"runtime.question", COL_STORE_QUESTION},
	{NULL, 0},
};

/* Samples are written by the question shape: labels vm, vm_id, question_id, message_id. */
static const struct col_metric question_metrics[] = {
	{.family = "vsphere_vm_question_pending",
	 .help = "A question the virtual machine waits on (runtime.question), one series per "
		 "question (value 1).",
	 .kind = COL_SPECIAL},
	{.family = "vsphere_vm_question_pending_seconds",
	 .help = "Seconds since the agent first saw the pending question.",
	 .kind = COL_SPECIAL},
	{NULL},
};

const struct collector col_question = {
	.name = "question",
	.type = "VirtualMachine",
	.paths = question_paths,
	.name_label = "vm",
	.id_label = "vm_id",
	.metrics = question_metrics,
	.special = COL_SPECIAL_QUESTION,
};

const struct collector col_vm_question = {
	.name = "vm_question",
	.type = "VirtualMachine",
	.paths = question_paths,
	.metrics = col_no_metrics,
	.helper = 1,
};

/* vi/question: VirtualMachineQuestionInfo (a VM's runtime.question). */
#ifndef VIMON_VI_QUESTION_H
#define VIMON_VI_QUESTION_H

#include <stddef.h>

#include "util/err.h"
#include "vi/xml.h"

struct vi_question_choice {
	char *key; /* what AnswerVM takes */
	char *label;
	char *summary; /* may be "" */
};

struct vi_question_msg {
	char *id; /* e.g. "msg.uuid.altered" */
	char *text;
};

struct vi_question {
	char *id;
	char *text;
	struct vi_question_msg *msgs;
	size_t nmsgs;
	struct vi_question_choice *choices;
	size_t nchoices;
	/* index into choices; -1 when there are no choices or defaultIndex is out
	 * of range. An absent defaultIndex means 0 (an xsd:int the server, and
	 * govmomi's encoder, may leave out when it is 0). */
	int default_index;
};

/* Parses a VirtualMachineQuestionInfo element into q (zeroed on entry). On
 * failure q is left empty. Release with vi_question_release(). */
int vi_question_parse(const struct vi_node *n, struct vi_question *q, struct err *e);

/* Frees q's strings and arrays and empties it (default_index -1); q itself
 * is the caller's. NULL is fine. */
void vi_question_release(struct vi_question *q);

/* The default choice, or NULL. Borrowed. */
const struct vi_question_choice *vi_question_default(const struct vi_question *q);

#endif

/* vi/question: reading a VirtualMachineQuestionInfo (runtime.question) into plain structs. */
#include "vi/question.h"

#include <stdlib.h>
#include <string.h>

#include "vi/value.h"

/* A copy of s, or of dflt when s is NULL; NULL only when out of memory. */
static char *dup_or(const char *s, const char *dflt)
{
	return strdup(s ? s : dflt);
}

static size_t count_children(const struct vi_node *n, const char *name)
{
	const struct vi_node *c;
	size_t count = 0;

	for (c = vi_node_child(n, name); c; c = vi_node_next_same(c))
		count++;
	return count;
}

static int parse_choices(const struct vi_node *choice, struct vi_question *q, struct err *e)
{
	const struct vi_node *c;
	const char *dflt;
	size_t n = count_children(choice, "choiceInfo"), i = 0;
	int64_t idx;

	if (n) {
		q->choices = calloc(n, sizeof(*q->choices));
		if (!q->choices)
			return err_set(e, ERR_NOMEM, "out of memory");
	}
	for (c = vi_node_child(choice, "choiceInfo"); c; c = vi_node_next_same(c), i++) {
		const char *key = vi_node_child_text(c, "key");
		struct vi_question_choice *ch = &q->choices[i];

		if (!key || !*key)
			return err_set(e, ERR_PROTOCOL, "question %s: a choice has no key", q->id);
		q->nchoices = i + 1;
		ch->key = strdup(key);
		ch->label = dup_or(vi_node_child_text(c, "label"), key);
		ch->summary = dup_or(vi_node_child_text(c, "summary"), "");
		if (!ch->key || !ch->label || !ch->summary)
			return err_set(e, ERR_NOMEM, "out of memory");
	}
	/* defaultIndex is an xsd:int the server may leave out when it is 0 (govmomi's
	 * encoder does), so absent means the first choice; out of range means none. */
	dflt = vi_node_child_text(choice, "defaultIndex");
	if (!dflt) {
		q->default_index = q->nchoices ? 0 : -1;
		return 0;
	}
	if (vi_text_int64(dflt, &idx, e) < 0) {
		err_prefix(e, "question %s: defaultIndex", q->id);
		return -1;
	}
	q->default_index = idx >= 0 && (uint64_t)idx < q->nchoices ? (int)idx : -1;
	return 0;
}

static int parse_msgs(const struct vi_node *n, struct vi_question *q, struct err *e)
{
	const struct vi_node *m;
	size_t count = count_children(n, "message"), i = 0;

	if (!count)
		return 0;
	q->msgs = calloc(count, sizeof(*q->msgs));
	if (!q->msgs)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (m = vi_node_child(n, "message"); m; m = vi_node_next_same(m), i++) {
		q->nmsgs = i + 1;
		q->msgs[i].id = dup_or(vi_node_child_text(m, "id"), "");
		q->msgs[i].text = dup_or(vi_node_child_text(m, "text"), "");
		if (!q->msgs[i].id || !q->msgs[i].text)
			return err_set(e, ERR_NOMEM, "out of memory");
	}
	return 0;
}

int vi_question_parse(const struct vi_node *n, struct vi_question *q, struct err *e)
{
	const char *id = vi_node_child_text(n, "id");
	const struct vi_node *choice;

	memset(q, 0, sizeof(*q));
	q->default_index = -1;
	if (!n)
		return err_set(e, ERR_PROTOCOL, "no question given");
	if (!id || !*id)
		return err_set(e, ERR_PROTOCOL, "question without an id");
	q->id = strdup(id);
	q->text = dup_or(vi_node_child_text(n, "text"), "");
	if (!q->id || !q->text) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_release;
	}
	choice = vi_node_child(n, "choice");
	if (choice && parse_choices(choice, q, e) < 0)
		goto out_release;
	if (parse_msgs(n, q, e) < 0)
		goto out_release;
	return 0;
out_release:
	vi_question_release(q);
	return -1;
}

void vi_question_release(struct vi_question *q)
{
	size_t i;

	if (!q)
		return;
	for (i = 0; i < q->nchoices; i++) {
		free(q->choices[i].key);
		free(q->choices[i].label);
		free(q->choices[i].summary);
	}
	for (i = 0; i < q->nmsgs; i++) {
		free(q->msgs[i].id);
		free(q->msgs[i].text);
	}
	free(q->choices);
	free(q->msgs);
	free(q->id);
	free(q->text);
	memset(q, 0, sizeof(*q));
	q->default_index = -1;
}

const struct vi_question_choice *vi_question_default(const struct vi_question *q)
{
	if (!q || q->default_index < 0 || (size_t)q->default_index >= q->nchoices)
		return NULL;
	return &q->choices[q->default_index];
}

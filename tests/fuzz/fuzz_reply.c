/* libFuzzer target: SOAP replies through vi_reader and the question/TaskInfo/value/perf/snapshot readers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "vi/perf.h"
#include "vi/question.h"
#include "vi/task.h"
#include "vi/value.h"
#include "vi/vmsnap.h"
#include "vi/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_sample(void *ud, const struct vi_perf_sample *smp, struct err *e)
{
	(void)ud;
	(void)e;
	if (!smp->entity || !smp->instance || smp->value < 0)
		abort();
	return 0;
}

/* Every reader over every node of a captured tree; results are only checked
 * for consistency (no crash, no leak, errors set when -1). */
static void exercise(const struct vi_node *n, struct buf *digest)
{
	const struct vi_node *c;
	struct vi_question q;
	struct vi_task_info t;
	struct vi_vmsnap snap;
	static const char *const counter_names[] = {"mem.state.latest", "cpu.ready.summation"};
	struct vi_perf_counter counters[2];
	const char *type, *value;
	struct err e;
	int64_t i;
	double d;
	bool b;

	buf_addf(digest, "<%s|%s|%s>%s", n->name, n->xsi_type ? n->xsi_type : "",
		 n->type_attr ? n->type_attr : "", n->text);
	err_clear(&e);
	if (vi_question_parse(n, &q, &e) == 0) {
		if (q.default_index >= 0 && !vi_question_default(&q))
			abort();
		vi_question_release(&q);
	} else if (e.kind == ERR_OK || q.id) {
		abort();
	}
	err_clear(&e);
	if (vi_task_info_parse(n, &t, &e) == 0)
		vi_task_info_release(&t);
	else if (e.kind == ERR_OK || t.key)
		abort();
	err_clear(&e);
	if (vi_vmsnap_summary(n, &snap, &e) < 0 && (e.kind == ERR_OK || snap.count != 0))
		abort();
	err_clear(&e);
	if (vi_perf_entity_metric(n, on_sample, NULL, &e) < 0 && e.kind == ERR_OK)
		abort();
	err_clear(&e);
	if (vi_perf_counter_match(n, counter_names, 2, counters, &e) < 0 && e.kind == ERR_OK)
		abort();
	err_clear(&e);
	if (vi_value_int64(n, &i, &e) < 0 && e.kind == ERR_OK)
		abort();
	err_clear(&e);
	if (vi_value_bool(n, &b, &e) < 0 && e.kind == ERR_OK)
		abort();
	err_clear(&e);
	if (vi_value_double(n, &d, &e) < 0 && e.kind == ERR_OK)
		abort();
	err_clear(&e);
	if (vi_value_time(n, &d, &e) < 0 && e.kind == ERR_OK)
		abort();
	err_clear(&e);
	if (vi_value_moref(n, &type, &value, &e) < 0 && e.kind == ERR_OK)
		abort();
	for (c = n->first; c; c = c->next) {
		if (c->parent != n)
			abort();
		exercise(c, digest);
	}
	buf_addc(digest, '/');
}

static int on_node(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	struct buf *digest = ud;
	struct vi_node *copy;

	(void)e;
	buf_addf(digest, "[%s]", path);
	exercise(n, digest);
	copy = vi_node_dup(n);
	if (copy)
		exercise(copy, digest);
	vi_node_free(copy);
	return 0;
}

/* Parses data fed in two pieces cut at split; returns rc, fills digest. */
static int parse_split(const char *const *paths, const uint8_t *data, size_t size, size_t split,
		       struct buf *digest)
{
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_node, .ud = digest};
	struct vi_reader *r;
	struct err e;
	int rc = -1;

	err_clear(&e);
	r = vi_reader_new(&spec, &e);
	if (!r)
		abort();
	if (vi_reader_feed(r, (const char *)data, split, &e) == 0 &&
	    vi_reader_feed(r, (const char *)data + split, size - split, &e) == 0)
		rc = vi_reader_finish(r, &e);
	if ((rc < 0) != (e.kind != ERR_OK))
		abort();
	vi_reader_free(r);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const whole[] = {"returnval", NULL};
	static const char *const parts[] = {
		"returnval/objects", "returnval/filterSet/objectSet", "returnval/version",
		"returnval/token",   "returnval/objects/propSet/val", NULL};
	struct buf a, b;
	size_t split = 0;
	int rc1, rc2;

	if (size >= 2)
		split = ((size_t)data[0] << 8 | data[1]) % (size + 1);
	buf_init(&a, 0);
	buf_init(&b, 0);
	(void)parse_split(whole, data, size, size, &a);
	buf_reset(&a);
	rc1 = parse_split(parts, data, size, size, &a);
	rc2 = parse_split(parts, data, size, split, &b);
	/* where the bytes are cut must not change what is seen */
	if (rc1 != rc2 || (rc1 == 0 && strcmp(a.data, b.data) != 0))
		abort();
	buf_release(&a);
	buf_release(&b);
	return 0;
}

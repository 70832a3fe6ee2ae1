/* Unit tests for vi/question: VirtualMachineQuestionInfo from recorded and hand-made replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/testutil.h"
#include "util/buf.h"
#include "vi/question.h"

struct parsed {
	struct vi_question q;
	int rc;
	struct err e;
	int seen;
};

static int on_val(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	struct parsed *p = ud;

	(void)path;
	(void)e;
	p->seen++;
	err_clear(&p->e);
	p->rc = vi_question_parse(n, &p->q, &p->e);
	return 0;
}

/* Parses the question inside a RetrievePropertiesEx reply. */
static int parse_reply(const char *xml, size_t len, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	test_parse_vals(xml, len, on_val, p);
	assert_int_equal(p->seen, 1);
	return p->rc;
}

#define Q_OPEN                                                                                     \
	"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "           \
	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>"                   \
	"<RetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval><objects><obj "              \
	"type=\"VirtualMachine\">vm-1</obj><propSet><name>runtime.question</name>"                 \
	"<val xsi:type=\"VirtualMachineQuestionInfo\">"
#define Q_CLOSE                                                                                    \
	"</val></propSet></objects></returnval></RetrievePropertiesExResponse></soapenv:Body></"   \
	"soapenv:Envelope>"
#define CHOICES                                                                                    \
	"<choiceInfo xsi:type=\"ElementDescription\"><label>Yes</label><summary>Y</summary>"       \
	"<key>0</key></choiceInfo><choiceInfo xsi:type=\"ElementDescription\"><label>No</label>"   \
	"<summary>N</summary><key>1</key></choiceInfo>"

static void test_fixture(void **state)
{
	struct parsed p;
	char *xml;
	size_t len;
	const struct vi_question_choice *d;

	(void)state;
	xml = test_read_fixture("question.xml", &len);
	assert_int_equal(parse_reply(xml, len, &p), 0);
	assert_string_equal(p.q.id, "52");
	assert_non_null(strstr(p.q.text, "If you don't know, answer \"I Copied It\"."));
	assert_int_equal(p.q.nchoices, 3);
	assert_string_equal(p.q.choices[0].key, "0");
	assert_string_equal(p.q.choices[0].label, "Cancel");
	assert_string_equal(p.q.choices[1].key, "1");
	assert_string_equal(p.q.choices[1].label, "I _Moved It");
	assert_string_equal(p.q.choices[2].summary, "I _Copied It");
	assert_int_equal(p.q.default_index, 2);
	d = vi_question_default(&p.q);
	assert_non_null(d);
	assert_string_equal(d->key, "2");
	assert_int_equal(p.q.nmsgs, 2);
	assert_string_equal(p.q.msgs[0].id, "msg.uuid.altered");
	assert_string_equal(p.q.msgs[0].text,
			    "This virtual machine might have been moved or copied.");
	assert_string_equal(p.q.msgs[1].id, "msg.hbacommon.askonpoweron");
	assert_string_equal(p.q.msgs[1].text, "");
	vi_question_release(&p.q);
	assert_null(p.q.id);
	assert_int_equal(p.q.nchoices, 0);
	vi_question_release(&p.q); /* twice is fine */
	free(xml);
}

struct qcase {
	const char *name;
	const char *body;
	int rc;
	enum err_kind kind;
	int default_index;
	size_t nchoices;
	size_t nmsgs;
};

static void test_shapes(void **state)
{
	static const struct qcase cases[] = {
		{"default 1",
		 "<id>q1</id><text>t</text><choice>" CHOICES
		 "<defaultIndex>1</defaultIndex></choice>",
		 0, ERR_OK, 1, 2, 0},
		/* govmomi leaves out a defaultIndex of 0 */
		{"default absent", "<id>q1</id><text>t</text><choice>" CHOICES "</choice>", 0,
		 ERR_OK, 0, 2, 0},
		{"default out of range",
		 "<id>q1</id><text>t</text><choice>" CHOICES
		 "<defaultIndex>2</defaultIndex></choice>",
		 0, ERR_OK, -1, 2, 0},
		{"default negative",
		 "<id>q1</id><text>t</text><choice>" CHOICES
		 "<defaultIndex>-1</defaultIndex></choice>",
		 0, ERR_OK, -1, 2, 0},
		{"default huge",
		 "<id>q1</id><text>t</text><choice>" CHOICES
		 "<defaultIndex>4294967296</defaultIndex></choice>",
		 0, ERR_OK, -1, 2, 0},
		{"default garbage",
		 "<id>q1</id><text>t</text><choice>" CHOICES
		 "<defaultIndex>1x</defaultIndex></choice>",
		 -1, ERR_PARSE, -1, 0, 0},
		{"no choices", "<id>q1</id><text>t</text><choice></choice>", 0, ERR_OK, -1, 0, 0},
		{"no choice element", "<id>q1</id><text>t</text>", 0, ERR_OK, -1, 0, 0},
		{"no text", "<id>q1</id>", 0, ERR_OK, -1, 0, 0},
		{"no id", "<text>t</text><choice>" CHOICES "</choice>", -1, ERR_PROTOCOL, -1, 0, 0},
		{"empty id", "<id></id><text>t</text>", -1, ERR_PROTOCOL, -1, 0, 0},
		{"choice without key",
		 "<id>q1</id><choice><choiceInfo><label>x</label></choiceInfo>"
		 "</choice>",
		 -1, ERR_PROTOCOL, -1, 0, 0},
		{"choice without label",
		 "<id>q1</id><choice><choiceInfo><key>k</key></choiceInfo>"
		 "</choice>",
		 0, ERR_OK, 0, 1, 0},
		{"messages",
		 "<id>q1</id><message><id>a</id></message><message><text>x</text>"
		 "</message><message/>",
		 0, ERR_OK, -1, 0, 3},
	};
	char xml[4096];
	struct parsed p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(xml, sizeof(xml), Q_OPEN "%s" Q_CLOSE, cases[i].body);

		if (parse_reply(xml, (size_t)n, &p) != cases[i].rc)
			fail_msg("%s: rc %d (%s)", cases[i].name, p.rc, p.e.msg);
		if (p.e.kind != cases[i].kind)
			fail_msg("%s: kind %s (%s)", cases[i].name, err_kind_name(p.e.kind),
				 p.e.msg);
		if (p.q.default_index != cases[i].default_index)
			fail_msg("%s: default %d", cases[i].name, p.q.default_index);
		assert_int_equal(p.q.nchoices, cases[i].nchoices);
		assert_int_equal(p.q.nmsgs, cases[i].nmsgs);
		if (cases[i].rc < 0)
			assert_null(p.q.id); /* left empty on failure */
		if (p.q.default_index < 0)
			assert_null(vi_question_default(&p.q));
		else
			assert_non_null(vi_question_default(&p.q));
		vi_question_release(&p.q);
	}
}

static int on_val_many(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	struct vi_question *qs = ud;
	size_t i = 0;

	(void)path;
	while (qs[i].id)
		i++;
	if (i == 2)
		return err_set(e, ERR_PROTOCOL, "more questions than expected");
	return vi_question_parse(n, &qs[i], e);
}

/* Recorded from build/vimon-sim: its encoder leaves out defaultIndex when it is 0. */
static void test_recorded(void **state)
{
	struct vi_question qs[3];
	char *xml;
	size_t len;

	(void)state;
	memset(qs, 0, sizeof(qs));
	xml = test_read_fixture("sim_question.xml", &len);
	test_parse_vals(xml, len, on_val_many, qs);
	assert_string_equal(qs[0].id, "q-fixture");
	assert_int_equal(qs[0].nchoices, 3);
	assert_int_equal(qs[0].default_index, 2);
	assert_string_equal(vi_question_default(&qs[0])->label, "I Copied It");
	assert_string_equal(qs[0].choices[1].summary, "moved");
	assert_int_equal(qs[0].nmsgs, 1);
	assert_string_equal(qs[0].msgs[0].id, "msg.uuid.altered");
	assert_string_equal(qs[1].id, "1");
	assert_string_equal(qs[1].text, "Default zero?");
	assert_int_equal(qs[1].nchoices, 2);
	assert_int_equal(qs[1].default_index, 0);
	assert_string_equal(vi_question_default(&qs[1])->key, "yes");
	assert_string_equal(qs[1].choices[1].summary, "");
	vi_question_release(&qs[0]);
	vi_question_release(&qs[1]);
	free(xml);
}

static void test_null(void **state)
{
	struct vi_question q;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(vi_question_parse(NULL, &q, &e), -1);
	assert_int_equal(e.kind, ERR_PROTOCOL);
	assert_null(vi_question_default(NULL));
	vi_question_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_recorded),
		cmocka_unit_test(test_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

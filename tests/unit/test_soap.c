/* Unit tests for vi/soap: the request envelope and the escaping of every value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "util/buf.h"
#include "vi/soap.h"

/* Parses the envelope with libxml2: it must be well-formed. Caller frees. */
static xmlDocPtr parse(const struct buf *b)
{
	xmlDocPtr doc = xmlReadMemory(b->data, (int)b->len, "soap.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	assert_non_null(doc);
	return doc;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

static void assert_text(xmlNodePtr n, const char *want)
{
	xmlChar *t;

	assert_non_null(n);
	t = xmlNodeGetContent(n);
	assert_non_null(t);
	assert_string_equal((const char *)t, want);
	xmlFree(t);
}

static void assert_prop(xmlNodePtr n, const char *attr, const char *ns, const char *want)
{
	xmlChar *v = ns ? xmlGetNsProp(n, (const xmlChar *)attr, (const xmlChar *)ns)
			: xmlGetProp(n, (const xmlChar *)attr);

	assert_non_null(v);
	assert_string_equal((const char *)v, want);
	xmlFree(v);
}

static void test_envelope_shape(void **state)
{
	struct buf b;
	xmlDocPtr doc;
	xmlNodePtr env, body, m;

	(void)state;
	buf_init(&b, 0);
	vi_soap_begin(&b, "RetrieveServiceContent", "ServiceInstance", "ServiceInstance");
	vi_soap_end(&b, "RetrieveServiceContent");
	assert_false(b.failed);
	doc = parse(&b);
	env = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)env->name, "Envelope");
	assert_string_equal((const char *)env->ns->href,
			    "http://schemas.xmlsoap.org/soap/envelope/");
	body = child(env, "Body");
	assert_non_null(body);
	m = child(body, "RetrieveServiceContent");
	assert_non_null(m);
	assert_string_equal((const char *)m->ns->href, "urn:vim25");
	assert_text(child(m, "_this"), "ServiceInstance");
	assert_prop(child(m, "_this"), "type", NULL, "ServiceInstance");
	xmlFreeDoc(doc);
	buf_release(&b);
}

/* Every value that could hold user data: text, moref type and value, xsi:type. */
static void test_values_are_escaped(void **state)
{
	static const char *const nasty[] = {
		"p<a&s\"s'w>rd",
		"</password><userName>root</userName>",
		"&amp;",
		"]]>",
		"ödd ünïcödé 日本",
		"",
		"'",
		"<![CDATA[x]]>",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
		struct buf b;
		xmlDocPtr doc;
		xmlNodePtr m, pw, obj, sel;

		buf_init(&b, 0);
		vi_soap_begin(&b, "Login", "Session\"<Manager>", nasty[i]);
		vi_soap_add(&b, "userName", "u");
		vi_soap_add(&b, "password", nasty[i]);
		vi_soap_add_moref(&b, "obj", nasty[i], nasty[i]);
		vi_soap_open(&b, "selectSet", nasty[i]);
		vi_soap_add_int(&b, "n", -42);
		vi_soap_close(&b, "selectSet");
		vi_soap_end(&b, "Login");
		assert_false(b.failed);
		doc = parse(&b);
		m = child(child(xmlDocGetRootElement(doc), "Body"), "Login");
		assert_non_null(m);
		assert_text(child(m, "_this"), nasty[i]);
		assert_prop(child(m, "_this"), "type", NULL, "Session\"<Manager>");
		pw = child(m, "password");
		assert_text(pw, nasty[i]);
		/* the password cannot open or close elements */
		assert_null(pw->children ? pw->children->next : NULL);
		obj = child(m, "obj");
		assert_text(obj, nasty[i]);
		assert_prop(obj, "type", NULL, nasty[i]);
		sel = child(m, "selectSet");
		assert_prop(sel, "type", "http://www.w3.org/2001/XMLSchema-instance", nasty[i]);
		assert_text(child(sel, "n"), "-42");
		xmlFreeDoc(doc);
		buf_release(&b);
	}
}

static void test_raw_text_escaped(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	vi_soap_add(&b, "password", "<&\"'>");
	assert_string_equal(b.data, "<password>&lt;&amp;&quot;&apos;&gt;</password>");
	buf_reset(&b);
	vi_soap_add(&b, "version", NULL);
	assert_string_equal(b.data, "<version></version>");
	buf_reset(&b);
	vi_soap_add_int(&b, "maxObjects", 1000);
	assert_string_equal(b.data, "<maxObjects>1000</maxObjects>");
	buf_reset(&b);
	vi_soap_open(&b, "options", NULL);
	vi_soap_close(&b, "options");
	assert_string_equal(b.data, "<options></options>");
	buf_release(&b);
}

/* A buffer too small for the envelope fails stickily instead of truncating. */
static void test_cap_fails(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	vi_soap_begin(&b, "Login", "SessionManager", "SessionManager");
	vi_soap_add(&b, "password", "secret");
	vi_soap_end(&b, "Login");
	assert_true(b.failed);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope_shape),
		cmocka_unit_test(test_values_are_escaped),
		cmocka_unit_test(test_raw_text_escaped),
		cmocka_unit_test(test_cap_fails),
	};
	int rc = cmocka_run_group_tests_name("soap", tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}

/* tests/support: helpers shared by the cmocka test programs (fixtures, XML values). */
#ifndef VIMON_TESTS_TESTUTIL_H
#define VIMON_TESTS_TESTUTIL_H

#include <stddef.h>

#include "vi/xml.h"

/* The start and end of a SOAP reply envelope (xsd and xsi declared). */
#define TEST_ENV_OPEN                                                                              \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                             \
	"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "           \
	"xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "                                          \
	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>"
#define TEST_ENV_CLOSE "</soapenv:Body></soapenv:Envelope>"

/* Reads tests/fixtures/NAME (tests run from the top directory); fails the
 * test when it cannot. The caller frees the NUL-terminated result. */
char *test_read_fixture(const char *name, size_t *len);

/* Parses "<returnval ...>...</returnval>" (a property value as a reply would
 * carry it) into a node tree; fails the test when it does not parse. The
 * caller frees the result with vi_node_free(). */
struct vi_node *test_xml_value(const char *xml);

#endif

/* tests/support: helpers shared by the cmocka test programs (fixtures, XML values, the simulator). */
#ifndef VIMON_TESTS_TESTUTIL_H
#define VIMON_TESTS_TESTUTIL_H

#include <stddef.h>

#include <jansson.h>

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

/* Hands every returnval/objects/propSet/val of a RetrievePropertiesEx reply to
 * on_val (the node belongs to the reader, as with vi_reader_parse()); fails
 * the test when the reply does not parse. */
void test_parse_vals(const char *xml, size_t len,
		     int (*on_val)(void *ud, const char *path, const struct vi_node *n,
				   struct err *e),
		     void *ud);

/* The simulator's control API (tests/sim) at base ("http://127.0.0.1:PORT"):
 * GET path when json is NULL, else POST json. The reply body (caller frees)
 * with *status its HTTP status, or NULL (*status 0) when there was no reply. */
char *test_simctl_raw(const char *base, const char *path, const char *json, long *status);

/* The same, decoded: fails the test unless the status is 2xx and the body
 * JSON. The caller frees the result with json_decref(). */
json_t *test_simctl(const char *base, const char *path, const char *json);

/* How many times the simulator was called with the SOAP method since the
 * last /_sim/stats/reset (fails the test when the API does not answer). */
long test_sim_calls(const char *base, const char *method);

/* The moref of the VM whose stored name is name in a /_sim/inventory reply
 * (borrowed from inv), or NULL. */
const char *test_sim_vm_named(json_t *inv, const char *name);

/* 1 when text has line as one whole line (newline-terminated), else 0. */
int test_has_line(const char *text, const char *line);

/* A loopback TCP port that was bound and never listened on (so connecting is
 * refused); fails the test when it cannot get one. */
unsigned test_closed_port(void);

#endif

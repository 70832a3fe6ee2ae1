/* tests/support: the simulator's control API, exposition lines and closed ports for cmocka programs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/testutil.h"
#include "util/buf.h"

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	buf_add(ud, p, size * n);
	return size * n;
}

char *test_simctl_raw(const char *base, const char *path, const char *json, long *status)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	struct buf url, body;
	CURLcode rc;

	assert_non_null(c);
	*status = 0;
	buf_init(&url, 0);
	buf_init(&body, 0);
	buf_addf(&url, "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url.data);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (json) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	buf_release(&url);
	if (rc != CURLE_OK || body.failed) {
		buf_release(&body);
		return NULL;
	}
	return buf_detach(&body, NULL);
}

json_t *test_simctl(const char *base, const char *path, const char *json)
{
	long status;
	char *text = test_simctl_raw(base, path, json, &status);
	json_t *j;

	if (!text)
		fail_msg("control API %s %s: no reply", path, json ? json : "");
	if (status < 200 || status > 299) {
		print_message("# control API %s %s: HTTP %ld %s\n", path, json ? json : "", status,
			      text);
		free(text);
		fail_msg("control API %s: HTTP %ld", path, status);
	}
	j = json_loads(text, 0, NULL);
	if (!j) {
		print_message("# control API %s: not JSON: %s\n", path, text);
		free(text);
		fail_msg("control API %s: the reply is not JSON", path);
	}
	free(text);
	return j;
}

long test_sim_calls(const char *base, const char *method)
{
	json_t *st = test_simctl(base, "/_sim/stats", NULL);
	long n = (long)json_integer_value(json_object_get(json_object_get(st, "calls"), method));

	json_decref(st);
	return n;
}

const char *test_sim_vm_named(json_t *inv, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(inv, "vms"), i, v)
	{
		const char *n = json_string_value(json_object_get(v, "name"));

		if (n && strcmp(n, name) == 0)
			return json_string_value(json_object_get(v, "moref"));
	}
	return NULL;
}

int test_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	}
	return 0;
}

unsigned test_closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd); /* bound, never listened: the port is closed */
	return ntohs(sa.sin_port);
}

/* Integration test against vimon-sim: after a Login, the password lives in one heap block only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"
#include "vi/session.h"

/*
 * Environment (set by tests/integration/test_secrets.sh): VI_SIM_URL, the
 * simulator's SOAP URL. The scan reads this process's writable anonymous
 * mappings and its heap (never its stack, where the test keeps its own copy).
 */

/* Occurrences of needle (n bytes) in the writable heap and anonymous mappings. */
static int count_in_memory(const char *needle, size_t n)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	int count = 0;

	assert_non_null(maps);
	while (fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char perms[8];
		int name_at = 0;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &name_at) < 3)
			continue;
		if (perms[0] != 'r' || perms[1] != 'w')
			continue;
		/* the heap and anonymous mappings (malloc arenas, libraries' buffers) */
		if (line[name_at] != '\n' && strncmp(line + name_at, "[heap]", 6) != 0)
			continue;
		for (const char *p = (const char *)lo; p + n <= (const char *)hi; p++) {
			p = memchr(p, needle[0], (size_t)((const char *)hi - p));
			if (!p || p + n > (const char *)hi)
				break;
			if (memcmp(p, needle, n) == 0)
				count++;
		}
	}
	fclose(maps);
	return count;
}

static void test_login_wipes_password_copies(void **state)
{
	char pw[64];
	struct vi_session_opts o = {0};
	struct vi_session *s;
	struct err e = {0};

	(void)state;
	/* made at run time, so that it is in no data section */
	snprintf(pw, sizeof(pw), "Zq%ld-pw-%ld-secret", (long)getpid(), (long)time(NULL));
	o.http.url = getenv("VI_SIM_URL");
	o.http.timeout_ms = 10000;
	o.username = "u";
	o.password = pw;
	assert_non_null(o.http.url);
	s = vi_session_new(&o, &e);
	assert_non_null(s);
	assert_int_equal(count_in_memory(pw, strlen(pw)), 1);
	for (int i = 0; i < 3; i++) {
		if (vi_session_login(s, &e) < 0)
			fail_msg("login: %s", e.msg);
	}
	/* the session's own copy (for re-logins), nothing else: no request
	 * buffer of the transport, freed or not, still holds it */
	assert_int_equal(count_in_memory(pw, strlen(pw)), 1);
	vi_session_free(s);
	assert_int_equal(count_in_memory(pw, strlen(pw)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_wipes_password_copies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

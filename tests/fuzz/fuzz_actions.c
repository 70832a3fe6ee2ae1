/* libFuzzer target: what reaches the remediation module from outside: an HTTP action's JSON
 * body (rem_parse_body) and the never-twice state file (remstate_open). */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/remediation.h"
#include "agent/remstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void body(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"target", "vm_id", "question_id", "choice", "op"};
	static const char *const bools[] = {"auto_answer"};
	const char *vals[5] = {0};
	bool bool_vals[1] = {0};
	json_t *root = NULL;
	char why[256];

	if (rem_parse_body((const char *)data, size, names, 5, bools, 1, &root, vals, bool_vals,
			   why, sizeof(why)) == 0) {
		/* every value given is a NUL-terminated string of the body */
		for (size_t i = 0; i < 5; i++)
			if (vals[i] && strlen(vals[i]) > size)
				abort();
	} else if (!memchr(why, '\0', sizeof(why)) || !why[0]) {
		abort(); /* a refusal always says why */
	}
	json_decref(root);
}

static void state_file(const uint8_t *data, size_t size)
{
	static char path[64];
	struct remstate *st = NULL;
	struct err e = {0};
	bool dropped = false;
	int fd;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/vimon-fuzz-state.%ld", (long)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	close(fd);
	if (remstate_open(path, 90 * 86400.0, &st, &dropped, &e) == 0) {
		struct remstate_entry ent;

		if (remstate_get(st, "t", "vm-1", "q", &ent) &&
		    !memchr(ent.state, '\0', sizeof(ent.state)))
			abort();
		remstate_free(st);
	}
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		body(data + 1, size - 1);
	else
		state_file(data + 1, size - 1);
	return 0;
}

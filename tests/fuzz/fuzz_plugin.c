/* libFuzzer target: what check_vsphere reads from outside: the agent's JSON (every mode
 * evaluated on it, the output within its 8 KiB), threshold ranges, and --extra-opts files. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/extraopts.h"
#include "plugins/modes.h"
#include "plugins/plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUTPUT_MAX 8192

/* data: "TARGETS-JSON\0ITEMS-JSON" (ITEMS may be absent) */
static void evaluate(enum chk_mode mode, const char *text, size_t size)
{
	const char *items = memchr(text, '\0', size) ? text + strlen(text) + 1 : NULL;
	struct chk_opts o;
	struct chk_data d = {0};
	struct plugin_output out;
	struct buf b;

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	o.max_age = 300;
	o.power = "poweredOn";
	o.metric = "ballooned";
	o.maintenance = PLUGIN_WARNING;
	o.name = "web/01";
	if (plugin_range_parse("0", &o.warn, NULL) < 0 ||
	    plugin_range_parse("900", &o.crit, NULL) < 0)
		abort();
	d.now = 1800000000.0;
	d.targets = json_loads(text, JSON_DECODE_ANY, NULL);
	d.items = items && items < text + size ? json_loads(items, JSON_DECODE_ANY, NULL) : NULL;
	plugin_output_init(&out, chk_mode_title(mode));
	chk_evaluate(&o, &d, &out);
	buf_init(&b, 0);
	if (plugin_output_render(&out, &b) == 0 && b.len > OUTPUT_MAX)
		abort();
	if (out.state < PLUGIN_OK || out.state > PLUGIN_UNKNOWN)
		abort();
	buf_release(&b);
	plugin_output_release(&out);
	json_decref(d.targets);
	json_decref(d.items);
}

static void extra_opts(const uint8_t *data, size_t size)
{
	static char path[64], arg[96];
	char *argv[] = {"check_vsphere", arg, "-H", "127.0.0.1", NULL};
	char **av = NULL, msg[256];
	int ac = 0, fd;

	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/vimon-fuzz-plugins.%ld.ini", (long)getpid());
		snprintf(arg, sizeof(arg), "--extra-opts=check_vsphere@%s", path);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	close(fd);
	if (extraopts_expand(4, argv, "check_vsphere", &ac, &av, msg, sizeof(msg)) == 0)
		extraopts_free(ac, av);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	struct plugin_range r;

	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0: extra_opts(data + 1, size - 1); return 0;
	case 1:
		text = malloc(size);
		if (!text)
			return 0;
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		(void)plugin_range_parse(text, &r, NULL);
		free(text);
		return 0;
	default:
		text = malloc(size);
		if (!text)
			return 0;
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		evaluate((enum chk_mode)(data[0] / 4 % CHK_MODES), text, size - 1);
		free(text);
		return 0;
	}
}

/* plugins/extraopts: --extra-opts=[section][@file], ini options prepended to the command line. */
#include "plugins/extraopts.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXTRA_MAX_LINE 4096
#define EXTRA_MAX_ARGS 256

static const char *const default_files[] = {
	"/etc/nagios/plugins.ini",
	"/etc/nagios/nagios-plugins.ini",
	"/etc/nagios/monitoring-plugins.ini",
	"/usr/local/nagios/etc/plugins.ini",
	"/usr/local/etc/nagios/plugins.ini",
	"/etc/opt/nagios/plugins.ini",
	"/etc/nagios-plugins.ini",
	"/usr/local/etc/nagios-plugins.ini",
	"/etc/opt/nagios-plugins.ini",
	"/etc/monitoring-plugins.ini",
	NULL,
};

/* The default file: $NAGIOS_CONFIG_PATH first, then the usual places. */
static int find_default(char *out, size_t outsz)
{
	const char *env = getenv("NAGIOS_CONFIG_PATH");

	while (env && *env) {
		const char *colon = strchr(env, ':');
		size_t n = colon ? (size_t)(colon - env) : strlen(env);
		static const char *const names[] = {"plugins.ini", "nagios-plugins.ini",
						    "monitoring-plugins.ini", NULL};

		for (size_t i = 0; names[i] && n > 0; i++) {
			snprintf(out, outsz, "%.*s/%s", (int)n, env, names[i]);
			if (access(out, R_OK) == 0)
				return 0;
		}
		env = colon ? colon + 1 : NULL;
	}
	for (size_t i = 0; default_files[i]; i++) {
		if (access(default_files[i], R_OK) == 0) {
			snprintf(out, outsz, "%s", default_files[i]);
			return 0;
		}
	}
	return -1;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Appends the options of section in file to args. */
static int read_section(const char *file, const char *section, char **args, int *n, char *msg,
			size_t msgsz)
{
	char line[EXTRA_MAX_LINE];
	bool in = false, found = false;
	FILE *f = fopen(file, "r");

	if (!f) {
		snprintf(msg, msgsz, "cannot read %s", file);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq;
		size_t len;

		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (close)
				*close = '\0';
			in = strcmp(trim(s + 1), section) == 0;
			found = found || in;
			continue;
		}
		if (!in)
			continue;
		if (*n >= EXTRA_MAX_ARGS) {
			fclose(f);
			snprintf(msg, msgsz, "%s: too many options in [%s]", file, section);
			return -1;
		}
		eq = strchr(s, '=');
		if (eq) {
			*eq = '\0';
			len = strlen(trim(s)) + strlen(trim(eq + 1)) + 4;
			args[*n] = malloc(len);
			if (args[*n])
				snprintf(args[*n], len, "--%s=%s", trim(s), trim(eq + 1));
		} else {
			len = strlen(s) + 3;
			args[*n] = malloc(len);
			if (args[*n])
				snprintf(args[*n], len, "--%s", s);
		}
		if (!args[*n]) {
			fclose(f);
			snprintf(msg, msgsz, "out of memory");
			return -1;
		}
		(*n)++;
	}
	fclose(f);
	if (!found) {
		snprintf(msg, msgsz, "no section [%s] in %s", section, file);
		return -1;
	}
	return 0;
}

int extraopts_expand(int argc, char **argv, const char *plugin, int *argc_out, char ***argv_out,
		     char *msg, size_t msgsz)
{
	char **args = calloc((size_t)argc + EXTRA_MAX_ARGS + 2, sizeof(*args));
	int n = 1;

	if (!args) {
		snprintf(msg, msgsz, "out of memory");
		return -1;
	}
	args[0] = strdup(argv[0] ? argv[0] : plugin);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *spec;
		char section[256], file[1024];
		const char *at;

		if (strcmp(a, "--") == 0)
			break;
		if (strncmp(a, "--extra-opts", 12) != 0 || (a[12] != '\0' && a[12] != '='))
			continue;
		spec = a[12] == '=' ? a + 13 : "";
		at = strchr(spec, '@');
		snprintf(section, sizeof(section), "%.*s",
			 (int)(at ? (size_t)(at - spec) : strlen(spec)), spec);
		if (!section[0])
			snprintf(section, sizeof(section), "%s", plugin);
		if (at && at[1]) {
			snprintf(file, sizeof(file), "%s", at + 1);
		} else if (find_default(file, sizeof(file)) < 0) {
			snprintf(msg, msgsz, "no plugins.ini found (name one: --extra-opts=@FILE)");
			extraopts_free(n, args);
			return -1;
		}
		if (read_section(file, section, args, &n, msg, msgsz) < 0) {
			extraopts_free(n, args);
			return -1;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--extra-opts", 12) == 0 &&
		    (argv[i][12] == '\0' || argv[i][12] == '='))
			continue;
		args[n] = strdup(argv[i]);
		if (!args[n]) {
			snprintf(msg, msgsz, "out of memory");
			extraopts_free(n, args);
			return -1;
		}
		n++;
	}
	*argc_out = n;
	*argv_out = args;
	return 0;
}

void extraopts_free(int argc, char **argv)
{
	if (!argv)
		return;
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

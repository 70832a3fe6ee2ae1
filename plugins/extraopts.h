/* plugins/extraopts: --extra-opts, options read from an ini file (monitoring-plugins convention). */
#ifndef VIMON_PLUGINS_EXTRAOPTS_H
#define VIMON_PLUGINS_EXTRAOPTS_H

#include <stddef.h>

/*
 * Expands every --extra-opts[=[SECTION][@FILE]] of argv: the options of that
 * section (default: plugin) of FILE (default: the first plugins.ini found in
 * $NAGIOS_CONFIG_PATH, /etc/nagios, /usr/local/nagios/etc, /usr/local/etc/nagios,
 * /etc/opt/nagios, or /etc/nagios-plugins.ini and the like) become "--key=value"
 * ("--key" for a key alone) placed before the command line's own arguments, so
 * that the command line wins. *argc_out and *argv_out (NULL on entry) are the
 * caller's (extraopts_free). -1 with a message in msg (size msgsz) when a file
 * or section cannot be read.
 */
int extraopts_expand(int argc, char **argv, const char *plugin, int *argc_out, char ***argv_out,
		     char *msg, size_t msgsz);

void extraopts_free(int argc, char **argv);

#endif

/* plugins/plugin: monitoring-plugins conventions: states, threshold ranges, perfdata, the output. */
#ifndef VIMON_PLUGINS_PLUGIN_H
#define VIMON_PLUGINS_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

/* Exit codes of the monitoring-plugins guidelines. */
enum plugin_state {
	PLUGIN_OK = 0,
	PLUGIN_WARNING = 1,
	PLUGIN_CRITICAL = 2,
	PLUGIN_UNKNOWN = 3,
};

/* The whole output (first line, long output, newlines) never exceeds this. */
#define PLUGIN_OUTPUT_MAX 8192
#define PLUGIN_RANGE_TEXT 64

/*
 * A threshold range "[@][start:][end]" (start "~" is minus infinity; an
 * empty end is plus infinity; no start means 0). An alert is raised when the
 * value lies outside [start, end], or inside it (ends included) with "@".
 * An unset range never alerts.
 */
struct plugin_range {
	bool set;
	bool inside; /* "@" */
	bool start_inf;
	bool end_inf;
	double start;
	double end;
	char text[PLUGIN_RANGE_TEXT]; /* the range as given, for perfdata (base units) */
};

/* Unit suffixes accepted by plugin_range_parse_units(): K, M, G, T, P
 * (binary multiples, an optional "i" and "B" after them: 100G, 100GiB, 100GB). */
#define PLUGIN_UNITS_BYTES 1

/*
 * Parses text into *r. 0, or -1 with e set (ERR_INVALID, the message naming
 * the text) for a malformed range: empty, junk, a start above the end, NaN or
 * infinite numbers.
 */
int plugin_range_parse(const char *text, struct plugin_range *r, struct err *e);

/* Like plugin_range_parse, numbers may carry byte units (PLUGIN_UNITS_BYTES);
 * r->text then holds the range in bytes. */
int plugin_range_parse_units(const char *text, int units, struct plugin_range *r, struct err *e);

/* *out = r with both bounds multiplied by factor (> 0) and its text redone
 * (thresholds given in MiB or percent shown in perfdata of bytes). */
void plugin_range_scale(const struct plugin_range *r, double factor, struct plugin_range *out);

/* *out = the range of total - v for r's range of v (thresholds on free space
 * shown on a used-space perfdata item): [a, b] becomes [total - b, total - a],
 * infinite ends swapped, "@" kept. */
void plugin_range_mirror(const struct plugin_range *r, double total, struct plugin_range *out);

/* true when v raises an alert for r (false for an unset range). */
bool plugin_range_alert(const struct plugin_range *r, double v);

/* CRITICAL when crit alerts, else WARNING when warn alerts, else OK (either may be NULL). */
enum plugin_state plugin_check(double v, const struct plugin_range *warn,
			       const struct plugin_range *crit);

/* The worse of two states: CRITICAL > WARNING > UNKNOWN > OK. */
enum plugin_state plugin_worst(enum plugin_state a, enum plugin_state b);

/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *plugin_state_name(enum plugin_state s);

/* One performance data item. */
struct plugin_perf {
	const char *label; /* shown quoted; "'" doubled; "=" and "|" replaced */
	double value;
	const char *uom;		 /* "", "s", "%", "B", "c", ... (NULL: none) */
	const struct plugin_range *warn; /* NULL or unset: empty field */
	const struct plugin_range *crit;
	bool has_min, has_max;
	double min, max;
};

/* Appends one item "'label'=value[uom];warn;crit;min;max" (trailing empty
 * fields dropped). 0, or -1 when b failed. */
int plugin_perf_format(struct buf *b, const struct plugin_perf *p);

/* Appends text for the plugin's text output: invalid UTF-8 replaced, control
 * characters as spaces, "|" (where Nagios splits off perfdata) as U+00A6. */
int plugin_add_text(struct buf *b, const char *text);

/*
 * The output of one check: the state, a one-line summary, perfdata items and
 * long-output lines (those of problem objects before the others).
 */
struct plugin_output {
	const char *mode; /* "QUESTIONS" (borrowed) */
	enum plugin_state state;
	struct buf summary;
	struct buf perf;     /* items separated by one space */
	struct buf problems; /* lines, each ending in "\n" */
	struct buf others;
	size_t nproblems, nothers;
};

void plugin_output_init(struct plugin_output *o, const char *mode);
void plugin_output_release(struct plugin_output *o);

/* Raises o->state to s when s is worse. */
void plugin_output_state(struct plugin_output *o, enum plugin_state s);

/* Adds a perfdata item. */
void plugin_output_perf(struct plugin_output *o, const struct plugin_perf *p);

/* Adds a long-output line (formatted; the text is not sanitized here: use
 * plugin_add_text for names), to the problems when problem is true. */
void plugin_output_line(struct plugin_output *o, bool problem, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Writes "VSPHERE MODE STATE - summary | perfdata\n" and the long output
 * (problems first) to out, at most PLUGIN_OUTPUT_MAX bytes in all: perfdata
 * items that do not fit are dropped whole, long-output lines that do not fit
 * are replaced by one line saying how many were left out, and an overlong
 * summary is cut at a character boundary. 0, or -1 when out of memory.
 */
int plugin_output_render(const struct plugin_output *o, struct buf *out);

#endif

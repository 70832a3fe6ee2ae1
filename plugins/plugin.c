/* plugins/plugin: threshold ranges, perfdata and the capped plugin output of the guidelines. */
#include "plugins/plugin.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a number at *p (with an optional byte unit); advances *p. 0 or -1. */
static int parse_number(const char **p, int units, double *out)
{
	char *end;
	double v, mul = 1;

	errno = 0;
	v = strtod(*p, &end);
	if (end == *p || errno == ERANGE || !isfinite(v))
		return -1;
	/* strtod takes "inf", "nan" and hex: only plain decimals are ranges */
	for (const char *q = *p; q < end; q++) {
		if (!strchr("0123456789+-.eE", *q))
			return -1;
	}
	if (units == PLUGIN_UNITS_BYTES && *end && strchr("kKMGTP", *end)) {
		static const char order[] = "KMGTP";

		mul = pow(1024.0, (double)(strchr(order, *end == 'k' ? 'K' : *end) - order + 1));
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
	} else if (units == PLUGIN_UNITS_BYTES && *end == 'B') {
		end++;
	}
	*p = end;
	*out = v * mul;
	return 0;
}

/* Formats a range bound into b: integers without a fraction. */
static void add_bound(struct buf *b, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		buf_addf(b, "%.0f", v);
	else
		buf_addf(b, "%.15g", v);
}

/* Writes r->text from the bounds. */
static void range_text(struct plugin_range *r)
{
	struct buf b;

	buf_init(&b, sizeof(r->text) - 1);
	if (r->inside)
		buf_addc(&b, '@');
	if (r->start_inf) {
		buf_adds(&b, "~:");
	} else if (r->start != 0 || r->end_inf) {
		add_bound(&b, r->start);
		buf_addc(&b, ':');
	}
	if (!r->end_inf)
		add_bound(&b, r->end);
	memcpy(r->text, b.failed ? "" : b.data, b.failed ? 1 : b.len + 1);
	buf_release(&b);
}

void plugin_range_scale(const struct plugin_range *r, double factor, struct plugin_range *out)
{
	*out = *r;
	if (!r->set)
		return;
	out->start *= factor;
	out->end *= factor;
	range_text(out);
}

void plugin_range_mirror(const struct plugin_range *r, double total, struct plugin_range *out)
{
	*out = *r;
	if (!r->set)
		return;
	out->start_inf = r->end_inf;
	out->end_inf = r->start_inf;
	out->start = r->end_inf ? 0 : total - r->end;
	out->end = r->start_inf ? 0 : total - r->start;
	range_text(out);
}

int plugin_range_parse_units(const char *text, int units, struct plugin_range *r, struct err *e)
{
	const char *p = text, *colon;
	struct plugin_range t = {0};

	memset(r, 0, sizeof(*r));
	if (!text || !*text)
		return err_set(e, ERR_INVALID, "empty threshold range");
	if (*p == '@') {
		t.inside = true;
		p++;
	}
	colon = strchr(p, ':');
	if (colon) {
		if (*p == '~' && p + 1 == colon) {
			t.start_inf = true;
		} else if (parse_number(&p, units, &t.start) < 0 || p != colon) {
			goto out_bad;
		}
		p = colon + 1;
	}
	if (*p) {
		if (parse_number(&p, units, &t.end) < 0 || *p)
			goto out_bad;
	} else if (colon) {
		t.end_inf = true;
	} else {
		goto out_bad;
	}
	if (!t.start_inf && !t.end_inf && t.start > t.end)
		return err_set(e, ERR_INVALID,
			       "invalid threshold range \"%.60s\": start above the end", text);
	t.set = true;
	range_text(&t);
	*r = t;
	return 0;

out_bad:
	return err_set(e, ERR_INVALID,
		       "invalid threshold range \"%.60s\" (expected [@][start:][end], start may "
		       "be ~)",
		       text);
}

int plugin_range_parse(const char *text, struct plugin_range *r, struct err *e)
{
	return plugin_range_parse_units(text, 0, r, e);
}

bool plugin_range_alert(const struct plugin_range *r, double v)
{
	bool within;

	if (!r || !r->set)
		return false;
	within = (r->start_inf || v >= r->start) && (r->end_inf || v <= r->end);
	return r->inside ? within : !within;
}

enum plugin_state plugin_check(double v, const struct plugin_range *warn,
			       const struct plugin_range *crit)
{
	if (plugin_range_alert(crit, v))
		return PLUGIN_CRITICAL;
	if (plugin_range_alert(warn, v))
		return PLUGIN_WARNING;
	return PLUGIN_OK;
}

static int severity(enum plugin_state s)
{
	switch (s) {
	case PLUGIN_OK: return 0;
	case PLUGIN_UNKNOWN: return 1;
	case PLUGIN_WARNING: return 2;
	case PLUGIN_CRITICAL: return 3;
	}
	return 1;
}

enum plugin_state plugin_worst(enum plugin_state a, enum plugin_state b)
{
	return severity(a) >= severity(b) ? a : b;
}

const char *plugin_state_name(enum plugin_state s)
{
	switch (s) {
	case PLUGIN_OK: return "OK";
	case PLUGIN_WARNING: return "WARNING";
	case PLUGIN_CRITICAL: return "CRITICAL";
	case PLUGIN_UNKNOWN: return "UNKNOWN";
	}
	return "UNKNOWN";
}

int plugin_add_text(struct buf *b, const char *text)
{
	struct buf u;
	int rc = 0;

	buf_init(&u, 0);
	if (buf_add_utf8(&u, text ? text : "") < 0) {
		buf_release(&u);
		b->failed = true;
		return -1;
	}
	for (size_t i = 0; i < u.len; i++) {
		unsigned char c = (unsigned char)u.data[i];

		if (c == '|')
			rc |= buf_adds(b, "\xc2\xa6");
		else if (c < 0x20 || c == 0x7f)
			rc |= buf_addc(b, ' ');
		else
			rc |= buf_addc(b, (char)c);
	}
	buf_release(&u);
	return rc ? -1 : 0;
}

/* A perfdata number: integers exactly, others with up to 15 significant digits. */
static void add_perf_number(struct buf *b, double v)
{
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		buf_addf(b, "%.0f", v);
	else
		buf_addf(b, "%.15g", v);
}

int plugin_perf_format(struct buf *b, const struct plugin_perf *p)
{
	struct buf label;
	const char *fields[2] = {p->warn && p->warn->set ? p->warn->text : "",
				 p->crit && p->crit->set ? p->crit->text : ""};
	int last;

	buf_init(&label, 0);
	plugin_add_text(&label, p->label);
	buf_addc(b, '\'');
	for (size_t i = 0; i < label.len; i++) {
		if (label.data[i] == '\'')
			buf_adds(b, "''");
		else if (label.data[i] == '=')
			buf_addc(b, '_');
		else
			buf_addc(b, label.data[i]);
	}
	if (label.failed)
		b->failed = true;
	buf_release(&label);
	buf_adds(b, "'=");
	add_perf_number(b, p->value);
	if (p->uom)
		buf_adds(b, p->uom);
	/* the guidelines allow trailing fields to be left out, not middle ones */
	last = p->has_max ? 4 : p->has_min ? 3 : fields[1][0] ? 2 : fields[0][0] ? 1 : 0;
	for (int f = 1; f <= last; f++) {
		buf_addc(b, ';');
		if (f <= 2)
			buf_adds(b, fields[f - 1]);
		else if (f == 3 && p->has_min)
			add_perf_number(b, p->min);
		else if (f == 4)
			add_perf_number(b, p->max);
	}
	return b->failed ? -1 : 0;
}

void plugin_output_init(struct plugin_output *o, const char *mode)
{
	memset(o, 0, sizeof(*o));
	o->mode = mode;
	o->state = PLUGIN_OK;
	buf_init(&o->summary, 0);
	buf_init(&o->perf, 0);
	buf_init(&o->problems, 0);
	buf_init(&o->others, 0);
}

void plugin_output_release(struct plugin_output *o)
{
	buf_release(&o->summary);
	buf_release(&o->perf);
	buf_release(&o->problems);
	buf_release(&o->others);
}

void plugin_output_state(struct plugin_output *o, enum plugin_state s)
{
	o->state = plugin_worst(o->state, s);
}

void plugin_output_perf(struct plugin_output *o, const struct plugin_perf *p)
{
	if (o->perf.len)
		buf_addc(&o->perf, ' ');
	plugin_perf_format(&o->perf, p);
}

void plugin_output_line(struct plugin_output *o, bool problem, const char *fmt, ...)
{
	struct buf *b = problem ? &o->problems : &o->others;
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++) {
		if (*p == '\n')
			*p = ' ';
	}
	buf_adds(b, line);
	buf_addc(b, '\n');
	if (problem)
		o->nproblems++;
	else
		o->nothers++;
}

/* Length of the longest prefix of s (at most max bytes) ending on a UTF-8 character boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* Appends the lines of src that fit below limit; returns how many did not. */
static size_t add_lines(struct buf *out, const struct buf *src, size_t limit, bool *full)
{
	size_t left = 0;
	const char *p = src->data, *end = src->data + src->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (!*full && out->len + n <= limit)
			buf_add(out, p, n);
		else {
			*full = true;
			left++;
		}
		p += n;
	}
	return left;
}

int plugin_output_render(const struct plugin_output *o, struct buf *out)
{
	/* room kept for the line saying how much long output was left out, and
	 * for long output after a first line full of perfdata */
	const size_t reserve = 80, limit = PLUGIN_OUTPUT_MAX;
	const size_t max_summary = limit / 2, max_line = limit * 3 / 4;
	size_t n, left;
	bool full = false;

	buf_adds(out, "VSPHERE ");
	buf_adds(out, o->mode);
	buf_addc(out, ' ');
	buf_adds(out, plugin_state_name(o->state));
	buf_adds(out, " - ");
	n = utf8_cut(o->summary.data, o->summary.len, max_summary);
	buf_add(out, o->summary.data, n);
	if (n < o->summary.len)
		buf_adds(out, "...");
	if (o->perf.len) {
		const char *p = o->perf.data, *end = o->perf.data + o->perf.len;
		bool first = true;

		/* whole items only: a cut item would be a wrong figure */
		while (p < end) {
			const char *sp = p;
			bool quoted = false;

			while (sp < end && (quoted || *sp != ' ')) {
				if (*sp == '\'')
					quoted = !quoted;
				sp++;
			}
			n = (size_t)(sp - p);
			if (out->len + n + 3 + 1 > max_line)
				break;
			buf_adds(out, first ? " | " : " ");
			buf_add(out, p, n);
			first = false;
			p = sp < end ? sp + 1 : sp;
		}
	}
	buf_addc(out, '\n');
	left = add_lines(out, &o->problems, limit - reserve, &full);
	left += add_lines(out, &o->others, limit - reserve, &full);
	if (left)
		buf_addf(out, "... %zu more line%s left out (output limited to %d bytes)\n", left,
			 left == 1 ? "" : "s", PLUGIN_OUTPUT_MAX);
	return out->failed ? -1 : 0;
}

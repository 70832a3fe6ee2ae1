/* check_vsphere: the Nagios/Icinga plugin, answered from the vimon agent's JSON API (or --direct). */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "plugins/direct.h"
#include "plugins/extraopts.h"
#include "plugins/modes.h"
#include "plugins/plugin.h"
#include "util/buf.h"
#include "vi/http.h"

#define CHK_MAX_REPLY ((size_t)256 << 20)

static const char usage_text[] =
	"Usage: check_vsphere MODE [OPTIONS]\n"
	"       check_vsphere MODE --direct -c /etc/vimon/vimon.conf -T NAME [OPTIONS]\n"
	"\n"
	"Checks VMware vSphere through the vimon agent's JSON API: one local HTTP request\n"
	"per check and no vCenter session. Output and exit codes follow the\n"
	"monitoring-plugins guidelines (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).\n"
	"\n"
	"Modes:\n"
	"  questions   pending VM questions: CRITICAL when one blocks a task; -w/-c on the\n"
	"              age in seconds of the oldest (default -w 0 -c 900: any question warns)\n"
	"              --vm NAME, --include REGEX, --exclude REGEX (POSIX ERE on the VM name)\n"
	"  tasks       CRITICAL for a task blocked by a question; -w/-c on the age in seconds\n"
	"              of the oldest running or queued task (default: no threshold)\n"
	"  vm          --name NAME or --id MOREF: CRITICAL when not connected or not in\n"
	"              --power STATE (default poweredOn); an unknown VM is UNKNOWN\n"
	"  vm-memory   --name NAME or --id MOREF: --metric ballooned|swapped|compressed|\n"
	"              consumed|active|shared|overhead (default ballooned), -w/-c in MiB,\n"
	"              or in percent of the configured memory with --percent\n"
	"  host        --name NAME or --id MOREF: CRITICAL when not connected; in maintenance\n"
	"              --maintenance-state ok|warning|critical (default warning); -w/-c on\n"
	"              memory usage in percent (default -w 85 -c 95)\n"
	"  datastore   [--name NAME | --include REGEX --exclude REGEX]: every match, worst\n"
	"              wins: CRITICAL when inaccessible, WARNING in maintenance; -w/-c on used\n"
	"              percent (default -w 80 -c 90), or on free space with --free and a unit\n"
	"              (-w 100G: -c 50G:)\n"
	"  target      collection health of one target (-T) or all: CRITICAL when down (with\n"
	"              the last error), WARNING when its data is older than --max-age\n"
	"\n"
	"Options:\n"
	"  -H, --hostname HOST   the agent's address (default 127.0.0.1)\n"
	"  -p, --port PORT       the agent's port (default 9743)\n"
	"  -U, --url URL         the agent's base URL instead (http://host:port)\n"
	"  -T, --target NAME     the target (vimon.conf name); required when the agent has\n"
	"                        several and the mode names one object\n"
	"  -w, --warning RANGE   -c, --critical RANGE: [@][start:][end], start may be ~\n"
	"                        (10, 10:, ~:10, 10:20, @10:20); with --direct -c is the\n"
	"                        configuration file: give the range as --critical\n"
	"  -t, --timeout SECONDS the whole check (default 10)\n"
	"      --max-age SECONDS data older than this is UNKNOWN (default 300)\n"
	"  -n, --name NAME       the object's display name, as shown (decoded: a/b, not a%2fb)\n"
	"      --id MOREF        the object's managed object id (vm-42)\n"
	"      --extra-opts[=[SECTION][@FILE]]  read options from an ini file (the\n"
	"                        monitoring-plugins convention; SECTION defaults to\n"
	"                        check_vsphere, FILE to the first plugins.ini found)\n"
	"  -v, --verbose         -v: what the check cost; -vv: also each request\n"
	"  -h, --help            this text\n"
	"  -V, --version         the version\n"
	"\n"
	"UNKNOWN (3) is returned with the reason when the agent cannot be reached (the URL\n"
	"is named), answers with an HTTP error or not within --timeout, when the target's\n"
	"data is older than --max-age, and for bad arguments.\n"
	"\n"
	"--direct: no agent. The plugin logs in to the target of vimon.conf (-c FILE, -T\n"
	"NAME) itself, with the same TLS rules (verification, ca_file, thumbprint pinning),\n"
	"reads what the mode needs with one RetrievePropertiesEx and logs out. This costs a\n"
	"vCenter session (Login and Logout) per check: use the agent when you can.\n"
	"\n"
	"Names are shown decoded; \"|\" is shown as U+00A6 because Nagios splits the output\n"
	"at \"|\".\n";

static char alarm_msg[512];
/* -vv: one line per request, added to the long output. */
static struct buf trace;
/* The agent transport while one is open, freed by unknown() before it exits. */
static struct vi_http *agent_http;

/* SIGALRM: the check ran out of time; only async-signal-safe calls here. */
static void on_alarm(int sig)
{
	ssize_t w;

	(void)sig;
	w = write(STDOUT_FILENO, alarm_msg, strlen(alarm_msg));
	(void)w;
	_exit(PLUGIN_UNKNOWN);
}

/* Bad arguments: one clear line, exit 3. */
__attribute__((noreturn, format(printf, 1, 2))) static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("check_vsphere: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs(" (see check_vsphere --help)\n", stdout);
	fflush(stdout);
	exit(PLUGIN_UNKNOWN);
}

/* Prints the output of an UNKNOWN that happened before evaluation and exits. */
__attribute__((noreturn)) static void unknown(enum chk_mode m, const char *msg)
{
	struct plugin_output out;
	struct buf b;

	plugin_output_init(&out, chk_mode_title(m));
	plugin_output_state(&out, PLUGIN_UNKNOWN);
	plugin_add_text(&out.summary, msg);
	buf_init(&b, 0);
	plugin_output_render(&out, &b);
	fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	buf_release(&b);
	plugin_output_release(&out);
	vi_http_free(agent_http);
	agent_http = NULL;
	exit(PLUGIN_UNKNOWN);
}

static double parse_seconds(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !isfinite(v) || v <= 0 || v > 86400 * 365)
		usage_error("%s: \"%.60s\" is not a positive number of seconds", what, s);
	return v;
}

enum {
	OPT_MAX_AGE = 256,
	OPT_ID,
	OPT_VM,
	OPT_POWER,
	OPT_METRIC,
	OPT_PERCENT,
	OPT_FREE,
	OPT_MAINT,
	OPT_INCLUDE,
	OPT_EXCLUDE,
	OPT_DIRECT,
	OPT_EXTRA,
	OPT_CRITICAL,
	OPT_CONFIG,
};

static const struct option long_opts[] = {
	{"hostname", required_argument, NULL, 'H'},
	{"port", required_argument, NULL, 'p'},
	{"url", required_argument, NULL, 'U'},
	{"target", required_argument, NULL, 'T'},
	{"warning", required_argument, NULL, 'w'},
	{"critical", required_argument, NULL, OPT_CRITICAL},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"timeout", required_argument, NULL, 't'},
	{"max-age", required_argument, NULL, OPT_MAX_AGE},
	{"name", required_argument, NULL, 'n'},
	{"id", required_argument, NULL, OPT_ID},
	{"vm", required_argument, NULL, OPT_VM},
	{"power", required_argument, NULL, OPT_POWER},
	{"metric", required_argument, NULL, OPT_METRIC},
	{"percent", no_argument, NULL, OPT_PERCENT},
	{"free", no_argument, NULL, OPT_FREE},
	{"maintenance-state", required_argument, NULL, OPT_MAINT},
	{"include", required_argument, NULL, OPT_INCLUDE},
	{"exclude", required_argument, NULL, OPT_EXCLUDE},
	{"direct", no_argument, NULL, OPT_DIRECT},
	{"extra-opts", optional_argument, NULL, OPT_EXTRA},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct raw_opts {
	const char *host, *port, *url, *warn, *crit, *conf_or_crit;
	const char *include, *exclude, *maint;
	char url_buf[300];
};

static void compile(regex_t *re, const char *pattern, const char *what)
{
	char msg[200];
	int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);

	if (rc != 0) {
		regerror(rc, re, msg, sizeof(msg));
		usage_error("%s \"%.60s\": %s", what, pattern, msg);
	}
}

static void parse_range_opt(const struct chk_opts *o, const char *text, struct plugin_range *r,
			    const char *what)
{
	struct err e = {0};
	int units = o->mode == CHK_DATASTORE && o->free ? PLUGIN_UNITS_BYTES : 0;

	if (plugin_range_parse_units(text, units, r, &e) < 0)
		usage_error("%s: %s", what, e.msg);
}

static void default_range(struct plugin_range *r, const char *text)
{
	if (!r->set && text)
		plugin_range_parse(text, r, NULL);
}

static void parse_args(int argc, char **argv, struct chk_opts *o, struct raw_opts *raw)
{
	int c, mode = -1;
	const char *c_arg = NULL;

	memset(o, 0, sizeof(*o));
	memset(raw, 0, sizeof(*raw));
	o->timeout = 10;
	o->max_age = 300;
	o->power = "poweredOn";
	o->metric = "ballooned";
	o->maintenance = PLUGIN_WARNING;
	raw->host = "127.0.0.1";
	raw->port = "9743";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":H:p:U:T:w:c:t:n:vhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'H': raw->host = optarg; break;
		case 'p': raw->port = optarg; break;
		case 'U': raw->url = optarg; break;
		case 'T': o->target = optarg; break;
		case 'w': raw->warn = optarg; break;
		case 'c': c_arg = optarg; break;
		case OPT_CRITICAL: raw->crit = optarg; break;
		case OPT_CONFIG: o->conf = optarg; break;
		case 't': o->timeout = parse_seconds(optarg, "--timeout"); break;
		case OPT_MAX_AGE: o->max_age = parse_seconds(optarg, "--max-age"); break;
		case 'n': o->name = optarg; break;
		case OPT_ID: o->id = optarg; break;
		case OPT_VM: o->vm = optarg; break;
		case OPT_POWER: o->power = optarg; break;
		case OPT_METRIC: o->metric = optarg; break;
		case OPT_PERCENT: o->percent = true; break;
		case OPT_FREE: o->free = true; break;
		case OPT_MAINT: raw->maint = optarg; break;
		case OPT_INCLUDE: raw->include = optarg; break;
		case OPT_EXCLUDE: raw->exclude = optarg; break;
		case OPT_DIRECT: o->direct = true; break;
		case OPT_EXTRA: break; /* handled before (extraopts) */
		case 'v': o->verbose++; break;
		case 'h': fputs(usage_text, stdout); exit(PLUGIN_OK);
		case 'V': printf("check_vsphere (vimon) %s\n", VIMON_VERSION); exit(PLUGIN_OK);
		case ':': usage_error("option %s needs a value", argv[optind - 1]);
		default: usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("no mode given (questions, tasks, vm, vm-memory, host, datastore, "
			    "target)");
	mode = chk_mode_parse(argv[optind]);
	if (mode < 0)
		usage_error("unknown mode \"%.40s\" (questions, tasks, vm, vm-memory, host, "
			    "datastore, target)",
			    argv[optind]);
	if (optind + 1 < argc)
		usage_error("unexpected argument \"%.40s\"", argv[optind + 1]);
	o->mode = (enum chk_mode)mode;
	/* -c is the critical range, or vimon.conf with --direct (then --critical
	 * gives the range) */
	if (o->direct && c_arg && !o->conf)
		o->conf = c_arg;
	else if (c_arg && !raw->crit)
		raw->crit = c_arg;
	if (o->direct && !o->conf)
		usage_error("--direct needs -c /etc/vimon/vimon.conf");
	if (o->direct && !o->target)
		usage_error("--direct needs -T NAME (a target of %s)", o->conf);
	if (raw->warn)
		parse_range_opt(o, raw->warn, &o->warn, "--warning");
	if (raw->crit)
		parse_range_opt(o, raw->crit, &o->crit, "--critical");
	switch (o->mode) {
	case CHK_QUESTIONS:
		default_range(&o->warn, "0");
		default_range(&o->crit, "900");
		break;
	case CHK_HOST:
		default_range(&o->warn, "85");
		default_range(&o->crit, "95");
		break;
	case CHK_DATASTORE:
		if (!o->free) {
			default_range(&o->warn, "80");
			default_range(&o->crit, "90");
		}
		break;
	default: break;
	}
	if ((o->mode == CHK_VM || o->mode == CHK_VM_MEMORY || o->mode == CHK_HOST) && !o->name &&
	    !o->id)
		usage_error("mode %s needs --name NAME or --id MOREF", chk_mode_name(o->mode));
	if (o->mode == CHK_VM_MEMORY && strcmp(o->metric, "ballooned") &&
	    strcmp(o->metric, "swapped") && strcmp(o->metric, "compressed") &&
	    strcmp(o->metric, "consumed") && strcmp(o->metric, "active") &&
	    strcmp(o->metric, "shared") && strcmp(o->metric, "overhead"))
		usage_error("--metric %.40s: expected ballooned, swapped, compressed, consumed, "
			    "active, shared or overhead",
			    o->metric);
	if (strcmp(o->power, "poweredOn") && strcmp(o->power, "poweredOff") &&
	    strcmp(o->power, "suspended"))
		usage_error("--power %.40s: expected poweredOn, poweredOff or suspended", o->power);
	if (raw->maint) {
		if (strcmp(raw->maint, "ok") == 0)
			o->maintenance = PLUGIN_OK;
		else if (strcmp(raw->maint, "warning") == 0)
			o->maintenance = PLUGIN_WARNING;
		else if (strcmp(raw->maint, "critical") == 0)
			o->maintenance = PLUGIN_CRITICAL;
		else
			usage_error("--maintenance-state %.40s: expected ok, warning or critical",
				    raw->maint);
	}
	if (o->free && o->mode != CHK_DATASTORE)
		usage_error("--free is for the datastore mode");
	if (raw->include) {
		compile(&o->include, raw->include, "--include");
		o->has_include = true;
	}
	if (raw->exclude) {
		compile(&o->exclude, raw->exclude, "--exclude");
		o->has_exclude = true;
	}
	if (raw->url) {
		if (strncmp(raw->url, "http://", 7) != 0 && strncmp(raw->url, "https://", 8) != 0)
			usage_error("--url %.60s: expected http://HOST:PORT", raw->url);
		snprintf(raw->url_buf, sizeof(raw->url_buf), "%s", raw->url);
	} else {
		char *end;
		unsigned long port = strtoul(raw->port, &end, 10);

		if (*end || end == raw->port || port == 0 || port > 65535)
			usage_error("--port %.20s: expected 1-65535", raw->port);
		if (strchr(raw->host, ':') && raw->host[0] != '[')
			snprintf(raw->url_buf, sizeof(raw->url_buf), "http://[%s]:%lu", raw->host,
				 port);
		else
			snprintf(raw->url_buf, sizeof(raw->url_buf), "http://%s:%lu", raw->host,
				 port);
	}
	/* no trailing slash: paths are appended */
	{
		size_t l = strlen(raw->url_buf);

		while (l > 0 && raw->url_buf[l - 1] == '/')
			raw->url_buf[--l] = '\0';
	}
	o->url = raw->url_buf;
}

/* ---- the agent's JSON API ---- */

static int sink(void *ud, const char *data, size_t len, struct err *e)
{
	struct buf *b = ud;

	if (buf_add(b, data, len) < 0)
		return err_set(e, ERR_TOO_LARGE, "reply too large");
	return 0;
}

/* Appends s percent-encoded for a query value. */
static void add_query_value(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			buf_addc(b, (char)*p);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[*p >> 4]);
			buf_addc(b, hex[*p & 15]);
		}
	}
}

/* GETs base+path and parses the JSON array it returns (counted in d). NULL after unknown(). */
static json_t *get_json(struct vi_http *h, const struct chk_opts *o, struct chk_data *d,
			const char *path)
{
	struct timespec t0, t1;
	struct buf url, body, msg;
	struct err e = {0};
	json_error_t je;
	long status = 0;
	json_t *j;

	buf_init(&url, 0);
	buf_init(&body, CHK_MAX_REPLY);
	buf_init(&msg, 0);
	buf_adds(&url, o->url);
	buf_adds(&url, path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (vi_http_get(h, url.data, sink, &body, &status, &e) < 0) {
		buf_addf(&msg, "cannot read the vimon agent at %s: %s", url.data, e.msg);
		unknown(o->mode, msg.data);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	d->calls++;
	d->bytes += vi_http_last_bytes(h);
	d->seconds += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (o->verbose >= 2) {
		buf_addf(&trace, "GET %s: HTTP %ld, %zu bytes, %.1f ms\n", url.data, status,
			 body.len,
			 (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
				 (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	}
	if (status != 200) {
		buf_addf(&msg, "the vimon agent at %s answered HTTP %ld", url.data, status);
		unknown(o->mode, msg.data);
	}
	j = json_loadb(body.data, body.len, 0, &je);
	if (!json_is_array(j)) {
		buf_addf(&msg, "the reply of %s is not a JSON array (%s)", url.data, je.text);
		unknown(o->mode, msg.data);
	}
	buf_release(&url);
	buf_release(&body);
	buf_release(&msg);
	return j;
}

/* The target object named name, or NULL. */
static json_t *find_target(json_t *targets, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach(targets, i, t)
	{
		if (strcmp(chk_string(t, "name"), name) == 0)
			return t;
	}
	return NULL;
}

/* Modes other than target: every target they read must have fresh data. */
static void check_fresh(const struct chk_opts *o, json_t *targets, double now)
{
	size_t i;
	json_t *t;
	struct buf msg;

	buf_init(&msg, 0);
	json_array_foreach(targets, i, t)
	{
		const char *name = chk_string(t, "name");
		double last = 0;

		if (o->target && strcmp(name, o->target) != 0)
			continue;
		if (!chk_number(t, "last_update", &last)) {
			buf_adds(&msg, "target ");
			plugin_add_text(&msg, name);
			buf_adds(&msg, ": no data collected yet");
		} else if (now - last > o->max_age) {
			buf_adds(&msg, "target ");
			plugin_add_text(&msg, name);
			buf_adds(&msg, ": data ");
			chk_add_age(&msg, now - last);
			buf_addf(&msg, " old, more than --max-age %.0f s", o->max_age);
		} else {
			continue;
		}
		if (!json_is_true(json_object_get(t, "up")) &&
		    json_is_object(json_object_get(t, "last_error"))) {
			buf_adds(&msg, " (down: ");
			plugin_add_text(&msg,
					chk_string(json_object_get(t, "last_error"), "message"));
			buf_addc(&msg, ')');
		}
		unknown(o->mode, msg.data);
	}
}

/* Keeps the objects of items whose "target" is name (the questions and tasks lists are not
 * filtered on the server). */
static json_t *only_target(json_t *items, const char *name)
{
	json_t *out = json_array(), *it;
	size_t i;

	json_array_foreach(items, i, it)
	{
		if (!name || strcmp(chk_string(it, "target"), name) == 0)
			json_array_append(out, it);
	}
	return out;
}

static void fetch_agent(const struct chk_opts *o, struct chk_data *d)
{
	static const char *const lists[CHK_MODES] = {
		"/api/v1/questions", "/api/v1/tasks",	   "/api/v1/vms", "/api/v1/vms",
		"/api/v1/hosts",     "/api/v1/datastores", NULL,
	};
	struct vi_http_opts ho = {0};
	struct err e = {0};
	struct vi_http *h;
	struct buf path;

	ho.url = o->url;
	ho.timeout_ms = (long)(o->timeout * 1000);
	ho.connect_timeout_ms = ho.timeout_ms;
	ho.max_reply = CHK_MAX_REPLY;
	ho.user_agent = "check_vsphere/" VIMON_VERSION;
	h = vi_http_new(&ho, &e);
	if (!h)
		unknown(o->mode, e.msg);
	agent_http = h;
	d->targets = get_json(h, o, d, "/api/v1/targets");
	if (o->target && !find_target(d->targets, o->target)) {
		struct buf msg;
		size_t i;
		json_t *t;

		buf_init(&msg, 0);
		buf_adds(&msg, "the agent has no target ");
		plugin_add_text(&msg, o->target);
		buf_adds(&msg, " (it has: ");
		json_array_foreach(d->targets, i, t)
		{
			buf_adds(&msg, i ? ", " : "");
			plugin_add_text(&msg, chk_string(t, "name"));
		}
		buf_addc(&msg, ')');
		unknown(o->mode, msg.data);
	}
	if (!o->target && json_array_size(d->targets) > 1 && (o->name || o->id) &&
	    o->mode != CHK_DATASTORE)
		unknown(o->mode, "the agent has several targets: name one with -T");
	if (o->mode != CHK_TARGET)
		check_fresh(o, d->targets, d->now);
	if (!lists[o->mode]) {
		vi_http_free(h);
		agent_http = NULL;
		return;
	}
	buf_init(&path, 0);
	buf_adds(&path, lists[o->mode]);
	if (o->mode != CHK_QUESTIONS && o->mode != CHK_TASKS) {
		char sep = '?';

		if (o->target) {
			buf_adds(&path, "?target=");
			add_query_value(&path, o->target);
			sep = '&';
		}
		if (o->name) {
			buf_addc(&path, sep);
			buf_adds(&path, "name=");
			add_query_value(&path, o->name);
			sep = '&';
		}
		if (o->id) {
			buf_addc(&path, sep);
			buf_adds(&path, "id=");
			add_query_value(&path, o->id);
		}
		d->items = get_json(h, o, d, path.data);
	} else {
		json_t *all = get_json(h, o, d, path.data);

		d->items = only_target(all, o->target);
		json_decref(all);
	}
	/* an unknown object: the closest names (only on this error path is the whole
	 * list of the target read) */
	if (json_array_size(d->items) == 0 && o->name &&
	    (o->mode == CHK_VM || o->mode == CHK_VM_MEMORY || o->mode == CHK_HOST)) {
		json_t *all;
		struct buf msg;
		const char *what = o->mode == CHK_HOST ? "host" : "VM";

		buf_reset(&path);
		buf_adds(&path, lists[o->mode]);
		if (o->target) {
			buf_adds(&path, "?target=");
			add_query_value(&path, o->target);
		}
		all = get_json(h, o, d, path.data);
		buf_init(&msg, 0);
		buf_addf(&msg, "no %s named '", what);
		plugin_add_text(&msg, o->name);
		buf_addc(&msg, '\'');
		if (json_array_size(all)) {
			buf_adds(&msg, "; closest: ");
			chk_add_closest(&msg, all, o->name, 5);
		}
		unknown(o->mode, msg.data);
	}
	buf_release(&path);
	vi_http_free(h);
	agent_http = NULL;
}

int main(int argc, char **argv)
{
	struct chk_opts o;
	struct raw_opts raw;
	struct chk_data d = {0};
	struct plugin_output out;
	struct buf b;
	char **args = NULL;
	int nargs = 0;
	struct timespec ts;

	buf_init(&trace, 4096);
	if (extraopts_expand(argc, argv, "check_vsphere", &nargs, &args, alarm_msg,
			     sizeof(alarm_msg)) < 0)
		usage_error("--extra-opts: %s", alarm_msg);
	parse_args(nargs, args, &o, &raw);
	clock_gettime(CLOCK_REALTIME, &ts);
	d.now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;

	/* the whole check, whatever hangs: UNKNOWN after --timeout (+ a little for the reply) */
	snprintf(alarm_msg, sizeof(alarm_msg),
		 "VSPHERE %s UNKNOWN - no answer within %.0f s from %s\n", chk_mode_title(o.mode),
		 o.timeout, o.direct ? "vCenter (--direct)" : o.url);
	signal(SIGALRM, on_alarm);
	{
		double t = o.timeout + 0.5;
		struct itimerval it = {{0, 0}, {(time_t)t, (suseconds_t)((t - floor(t)) * 1e6)}};

		setitimer(ITIMER_REAL, &it, NULL);
	}

	if (o.direct) {
		struct err e = {0};

		if (chk_direct_fetch(&o, &d, &e) < 0)
			unknown(o.mode, e.msg);
		if (o.mode != CHK_TARGET)
			check_fresh(&o, d.targets, d.now);
	} else {
		fetch_agent(&o, &d);
	}
	plugin_output_init(&out, chk_mode_title(o.mode));
	chk_evaluate(&o, &d, &out);
	if (o.verbose)
		plugin_output_line(&out, false, "%s: %lu %s, %zu bytes received in %.1f ms",
				   o.direct ? "--direct" : o.url, d.calls,
				   o.direct ? "vCenter calls" : "requests", d.bytes,
				   d.seconds * 1000);
	for (const char *p = trace.data, *nl; (nl = strchr(p, '\n')); p = nl + 1)
		plugin_output_line(&out, false, "%.*s", (int)(nl - p), p);
	buf_release(&trace);
	buf_init(&b, 0);
	plugin_output_render(&out, &b);
	fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	buf_release(&b);
	json_decref(d.targets);
	json_decref(d.items);
	if (o.has_include)
		regfree(&o.include);
	if (o.has_exclude)
		regfree(&o.exclude);
	extraopts_free(nargs, args);
	{
		int rc = (int)out.state;

		plugin_output_release(&out);
		return rc;
	}
}

/* vimon: the monitoring agent (targets collected on their own threads, served over HTTP). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "agent/conf.h"
#include "agent/http.h"
#include "agent/memtune.h"
#include "agent/remediation.h"
#include "agent/target.h"
#include "util/buf.h"
#include "util/log.h"

#define DEFAULT_CONFIG "/etc/vimon/vimon.conf"

/* The running targets, read by the HTTP threads on every request. */
struct agent {
	pthread_rwlock_t lock;
	struct target **targets;
	size_t ntargets;
	unsigned long epoch; /* changes with the set of targets */
	struct conf *conf;
	struct http_server *http;
	char *listen;		     /* the listen address actually bound (NULL: none) */
	const char *listen_override; /* --listen (NULL: the configuration's) */
	/* the remediation module (NULL: not configured), swapped on reload under
	 * remed_lock; HTTP actions hold it for reading while they run */
	pthread_rwlock_t remed_lock;
	struct remediation *remed;
	struct snapshot_slot remed_slot; /* its metrics, served with the targets' */
};

static const char usage_text[] =
	"Usage: vimon [-v]... [--log-level L] [-c FILE] [-l HOST:PORT]\n"
	"       vimon --check-config [-c FILE] [-l HOST:PORT]\n"
	"Watches VMware vCenter servers and ESX hosts and serves Prometheus metrics.\n"
	"\n"
	"  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
	"      --check-config  validate the configuration: exit 0, or print every problem\n"
	"                      as FILE:LINE: message and exit 2\n"
	"  -l, --listen HOST:PORT  serve HTTP there instead of the configuration's listen\n"
	"                      (\"[IPV6]:PORT\" too; kept across reloads)\n"
	"  -v, --verbose       more logging (repeatable)\n"
	"      --log-level L   error, warning, info (default) or debug\n"
	"  -h, --help          this help\n"
	"  -V, --version       print the version\n"
	"\n"
	"Signals: SIGHUP reloads the configuration (an invalid one is reported and the\n"
	"running one kept); SIGTERM and SIGINT stop the agent.\n"
	"Endpoints: /metrics, /healthz, /api/v1/targets, /api/v1/questions, /api/v1/tasks,\n"
	"/api/v1/remediation, /api/v1/actions; with api_token_file, POST\n"
	"/api/v1/questions/answer and /api/v1/vms/power.\n";

static size_t agent_snapshots(void *ud, struct snapshot **snaps, size_t max, unsigned long *epoch)
{
	struct agent *a = ud;
	size_t i, n;

	struct snapshot *extra = snapshot_slot_get(&a->remed_slot);

	pthread_rwlock_rdlock(&a->lock);
	n = a->ntargets;
	*epoch = a->epoch;
	for (i = 0; i < n && i < max; i++)
		snaps[i] = target_snapshot(a->targets[i]);
	pthread_rwlock_unlock(&a->lock);
	/* the remediation metrics come last, as one more snapshot */
	if (extra && n < max)
		snaps[n] = extra;
	else
		snapshot_put(extra);
	return extra ? n + 1 : n;
}

static int agent_actions_enabled(void *ud)
{
	struct agent *a = ud;
	int on;

	pthread_rwlock_rdlock(&a->remed_lock);
	on = remediation_actions_enabled(a->remed);
	pthread_rwlock_unlock(&a->remed_lock);
	return on;
}

static int agent_authorize(void *ud, const char *authorization)
{
	struct agent *a = ud;
	int ok;

	pthread_rwlock_rdlock(&a->remed_lock);
	ok = remediation_authorize(a->remed, authorization);
	pthread_rwlock_unlock(&a->remed_lock);
	return ok;
}

static unsigned agent_post(void *ud, const char *path, const char *body, size_t len,
			   const char *client, char **reply, size_t *reply_len)
{
	static const char gone[] = "{\"result\": \"not_found\", \"message\": \"The HTTP "
				   "actions are not configured.\"}\n";
	struct agent *a = ud;
	unsigned status;

	pthread_rwlock_rdlock(&a->remed_lock);
	if (a->remed && remediation_actions_enabled(a->remed)) {
		status = remediation_post(a->remed, path, body, len, client, reply, reply_len);
	} else {
		*reply = strdup(gone);
		*reply_len = sizeof(gone) - 1;
		status = 404;
	}
	pthread_rwlock_unlock(&a->remed_lock);
	return status;
}

static char *agent_get(void *ud, const char *path, size_t *len)
{
	struct agent *a = ud;
	char *body;

	pthread_rwlock_rdlock(&a->remed_lock);
	if (strcmp(path, "/api/v1/actions") == 0)
		body = remediation_actions_json(a->remed, len);
	else
		body = remediation_decisions(a->remed, len);
	pthread_rwlock_unlock(&a->remed_lock);
	return body;
}

/* Starts the remediation module for c when it asks for one (taking over prev's
 * counters); NULL (with problems logged when it failed, *failed set) otherwise. */
static struct remediation *start_remediation(struct agent *a, const struct conf *c,
					     struct remediation *prev, bool *failed)
{
	struct rem_source src = {.snapshots = agent_snapshots, .ud = a};
	struct remediation *r = NULL;
	struct err e;

	*failed = false;
	if (!remediation_wanted(c))
		return NULL;
	err_clear(&e);
	if (remediation_new(c, &src, &a->remed_slot, prev, &r, &e) < 0) {
		log_msg(LOG_LEVEL_ERROR, "%s", e.msg);
		*failed = true;
		return NULL;
	}
	log_msg(LOG_LEVEL_INFO,
		"remediation: rules %s%s, %zu rule%s, at most %d actions per hour per target; "
		"HTTP actions %s; audit log %s",
		c->remediation.enabled ? "enabled" : "disabled",
		c->remediation.enabled && c->remediation.dry_run ? " (dry run)" : "",
		c->remediation.nrules, c->remediation.nrules == 1 ? "" : "s",
		c->remediation.max_actions_per_hour, c->api_token ? "enabled" : "disabled",
		c->remediation.audit_log);
	return r;
}

/* Replaces the remediation module for the configuration nc (a reload). On
 * failure the running module is kept. */
static void reload_remediation(struct agent *a, const struct conf *nc)
{
	struct remediation *old, *r;
	bool failed;

	pthread_rwlock_wrlock(&a->remed_lock);
	old = a->remed;
	remediation_stop(old);
	r = start_remediation(a, nc, old, &failed);
	if (failed) {
		log_msg(LOG_LEVEL_ERROR, "reload: keeping the running remediation settings");
		remediation_resume(old);
		pthread_rwlock_unlock(&a->remed_lock);
		return;
	}
	a->remed = r;
	if (!r)
		snapshot_slot_swap(&a->remed_slot, NULL);
	pthread_rwlock_unlock(&a->remed_lock);
	remediation_free(old);
}

/* Prints problems (FILE:LINE: message lines) to stderr, or logs them. */
static void report_problems(const struct buf *problems, int to_log)
{
	const char *p = problems->data;

	if (problems->failed)
		log_msg(LOG_LEVEL_ERROR, "(more problems not shown: out of memory)");
	if (!to_log) {
		fputs(p, stderr);
		return;
	}
	while (*p) {
		size_t n = strcspn(p, "\n");

		log_msg(LOG_LEVEL_ERROR, "%.*s", (int)n, p);
		p += n;
		if (*p)
			p++;
	}
}

/* Starts one target and says so; NULL (logged) on failure. */
static struct target *start_target(const struct conf_target *ct)
{
	struct target *t;
	struct buf collect;
	struct err e;

	err_clear(&e);
	if (ct->insecure)
		log_msg(LOG_LEVEL_WARN,
			"target %s: insecure = true: the server's certificate is NOT verified",
			ct->name);
	if (conf_target_cleartext(ct))
		log_msg(LOG_LEVEL_WARN,
			"target %s: %s is plain http: the password travels in clear text", ct->name,
			ct->url);
	t = target_start(ct, &e);
	if (!t) {
		log_msg(LOG_LEVEL_ERROR, "target %s: cannot start: %s", ct->name, e.msg);
		return NULL;
	}
	buf_init(&collect, 0);
	conf_collect_describe(ct->collect, &collect);
	log_msg(LOG_LEVEL_INFO, "target %s: %s as %s, collecting %s, timeout %d s", ct->name,
		ct->url, ct->username, collect.failed ? "?" : collect.data, ct->timeout_s);
	buf_release(&collect);
	return t;
}

/* Starts the HTTP server on listen and records it as the bound address. */
static int start_http(struct agent *a, const char *listen)
{
	struct http_source src = {.snapshots = agent_snapshots,
				  .ud = a,
				  .actions_enabled = agent_actions_enabled,
				  .authorize = agent_authorize,
				  .post = agent_post,
				  .get = agent_get};
	struct http_opts opts = {.tls_cert_file = a->conf->tls_cert_file,
				 .tls_key_file = a->conf->tls_key_file};
	const char **users = calloc(a->conf->nusers + 1, 2 * sizeof(*users));
	char *copy = strdup(listen);
	struct err e;
	int rc;

	err_clear(&e);
	if (!copy || !users) {
		log_msg(LOG_LEVEL_ERROR, "listen %s: out of memory", listen);
		free(copy);
		free(users);
		return -1;
	}
	for (size_t i = 0; i < a->conf->nusers; i++) {
		users[i] = a->conf->users[i].name;
		users[a->conf->nusers + 1 + i] = a->conf->users[i].hash;
	}
	opts.users = users;
	opts.hashes = users + a->conf->nusers + 1;
	opts.nusers = a->conf->nusers;
	rc = http_start_opts(listen, &opts, &src, &a->http, &e);
	free(users);
	if (rc < 0) {
		log_msg(LOG_LEVEL_ERROR, "listen %s: %s", listen, e.msg);
		free(copy);
		return -1;
	}
	free(a->listen);
	a->listen = copy;
	log_msg(LOG_LEVEL_INFO, "listening on %s://%s (/metrics, /healthz, /api/v1/targets)%s",
		http_scheme(a->http), http_address(a->http),
		a->conf->nusers ? ", basic auth but for /healthz" : "");
	return 0;
}

/* Swaps in a new set of targets and returns the old array (caller frees). */
static struct target **swap_targets(struct agent *a, struct target **targets, size_t n,
				    size_t *old_n)
{
	struct target **old;

	pthread_rwlock_wrlock(&a->lock);
	old = a->targets;
	*old_n = a->ntargets;
	a->targets = targets;
	a->ntargets = n;
	a->epoch++;
	pthread_rwlock_unlock(&a->lock);
	return old;
}

/*
 * Re-binds to listen. When the new address fails the old one is bound again
 * and a->listen keeps saying so: the next SIGHUP, seeing the configuration
 * still differ from what is bound, tries again.
 */
static void rebind(struct agent *a, const char *listen)
{
	struct http_server *old = a->http;
	char *bound = a->listen;

	a->http = NULL;
	a->listen = NULL;
	if (start_http(a, listen) == 0) {
		http_stop(old);
		free(bound);
		return;
	}
	/* Same port on another address, perhaps: free the old socket first. */
	http_stop(old);
	if (start_http(a, listen) == 0) {
		free(bound);
		return;
	}
	if (!bound) {
		log_msg(LOG_LEVEL_ERROR, "reload: not serving HTTP (retried on the next SIGHUP)");
		return;
	}
	log_msg(LOG_LEVEL_ERROR,
		"reload: keeping the old listen address %s (the new one is retried on the next "
		"SIGHUP)",
		bound);
	if (start_http(a, bound) < 0)
		log_msg(LOG_LEVEL_ERROR, "reload: not serving HTTP any more");
	free(bound);
}

/* Stops targets: every one is asked first (a call in flight, even to a hung
 * server, is woken up and aborted at once), then each is joined, so n targets
 * take one logout delay, not n. */
static void stop_targets(struct target **ts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		target_request_stop(ts[i]);
	for (size_t i = 0; i < n; i++)
		target_stop(ts[i]);
}

/* The log settings of the configuration file. */
static void apply_log_conf(const struct conf *c)
{
	log_set_format((enum log_format)c->log_format);
	log_set_timestamps(c->log_timestamps);
}

/* Starts the HTTP server again on the address it has bound (the same port,
 * also when the configuration says port 0), with the current configuration. */
static void restart_http(struct agent *a)
{
	char addr[128];
	char *want = a->listen;

	snprintf(addr, sizeof(addr), "%s", http_address(a->http));
	http_stop(a->http);
	a->http = NULL;
	a->listen = NULL;
	if (start_http(a, addr) < 0) {
		log_msg(LOG_LEVEL_ERROR, "reload: not serving HTTP (retried on the next SIGHUP)");
		free(want);
		return;
	}
	/* what the configuration says, so that the next reload compares alike */
	free(a->listen);
	a->listen = want;
}

/* Whether the HTTP server has HTTPS or basic auth configured. */
static bool web_configured(const struct conf *c)
{
	return c->tls_cert_file || c->nusers > 0;
}

/* Replaces c->listen with override (--listen) when given. 0, or -1 when out of memory. */
static int apply_listen(struct conf *c, const char *override)
{
	char *copy;

	if (!override)
		return 0;
	copy = strdup(override);
	if (!copy)
		return -1;
	free(c->listen);
	c->listen = copy;
	return 0;
}

static void reload(struct agent *a)
{
	struct conf *nc = NULL, *oc;
	struct target **next, **old;
	size_t i, j, n = 0, old_n = 0, stopped = 0;
	struct buf problems;
	unsigned kept = 0, started = 0;

	buf_init(&problems, 64 * 1024);
	log_msg(LOG_LEVEL_INFO, "SIGHUP: reloading %s", a->conf->path);
	if (conf_load(a->conf->path, &nc, &problems) < 0) {
		report_problems(&problems, 1);
		log_msg(LOG_LEVEL_ERROR,
			"reload: %s has problems; keeping the running configuration",
			a->conf->path);
		buf_release(&problems);
		return;
	}
	buf_release(&problems);
	if (apply_listen(nc, a->listen_override) < 0) {
		log_msg(LOG_LEVEL_ERROR,
			"reload: out of memory; keeping the running configuration");
		conf_free(nc);
		return;
	}
	next = calloc(nc->ntargets + 1, sizeof(*next));
	if (!next) {
		log_msg(LOG_LEVEL_ERROR,
			"reload: out of memory; keeping the running configuration");
		conf_free(nc);
		return;
	}
	/* Keep unchanged targets; start new and changed ones. */
	for (i = 0; i < nc->ntargets; i++) {
		struct target *t = NULL;

		pthread_rwlock_rdlock(&a->lock);
		for (j = 0; j < a->ntargets; j++) {
			if (a->targets[j] &&
			    conf_target_equal(target_conf(a->targets[j]), &nc->targets[i])) {
				t = a->targets[j];
				break;
			}
		}
		pthread_rwlock_unlock(&a->lock);
		if (t) {
			kept++;
		} else {
			t = start_target(&nc->targets[i]);
			if (!t)
				continue;
			started++;
		}
		next[n++] = t;
	}
	old = swap_targets(a, next, n, &old_n);
	/* compact old[] to the targets to stop */
	for (j = 0; j < old_n; j++) {
		for (i = 0; i < n; i++)
			if (next[i] == old[j])
				break;
		if (i < n)
			continue;
		log_msg(LOG_LEVEL_INFO, "target %s: stopping (removed or changed)",
			target_conf(old[j])->name);
		old[stopped++] = old[j];
	}
	stop_targets(old, stopped);
	free(old);
	/* start_http reads the new configuration; a server with HTTPS or basic
	 * auth starts again, picking up a renewed certificate and key */
	oc = a->conf;
	a->conf = nc;
	if (!a->listen || !a->http || strcmp(nc->listen, a->listen) != 0)
		rebind(a, nc->listen);
	else if (web_configured(oc) || web_configured(nc))
		restart_http(a);
	reload_remediation(a, nc);
	conf_free(oc);
	apply_log_conf(nc);
	log_msg(LOG_LEVEL_INFO, "reload: %u targets kept, %u started, %zu stopped", kept, started,
		stopped);
}

static int check_config(const char *path, const char *listen)
{
	struct buf problems;
	struct conf *c = NULL;
	size_t i;

	buf_init(&problems, 0);
	if (conf_load(path, &c, &problems) < 0) {
		report_problems(&problems, 0);
		buf_release(&problems);
		return 2;
	}
	if (apply_listen(c, listen) < 0) {
		fputs("vimon: out of memory\n", stderr);
		conf_free(c);
		buf_release(&problems);
		return 1;
	}
	for (i = 0; i < c->ntargets; i++)
		if (c->targets[i].insecure)
			fprintf(stderr,
				"%s:%d: warning: target %s: insecure = true disables "
				"certificate verification\n",
				path, c->targets[i].line, c->targets[i].name);
	for (i = 0; i < c->ntargets; i++)
		if (conf_target_cleartext(&c->targets[i]))
			fprintf(stderr,
				"%s:%d: warning: target %s: plain http sends the password in "
				"clear text\n",
				path, c->targets[i].line, c->targets[i].name);
	printf("%s: ok (%zu target%s, listen %s)\n", path, c->ntargets, c->ntargets == 1 ? "" : "s",
	       c->listen);
	conf_free(c);
	buf_release(&problems);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'C'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"log-level", required_argument, NULL, 'L'},
		{"listen", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG, *listen = NULL;
	struct agent a;
	struct buf problems;
	sigset_t sigs;
	int opt, check = 0, verbose = 0, sig, status = 1;
	enum log_level level = LOG_LEVEL_INFO;
	bool rem_failed = false;
	size_t i, n;

	/* no core dump or ptrace by other users: the process holds passwords */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fprintf(stderr, "vimon: warning: cannot make the process non-dumpable: %s\n",
			strerror(errno));
	while ((opt = getopt_long(argc, argv, "c:l:vhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'C': check = 1; break;
		case 'l': listen = optarg; break;
		case 'v': verbose++; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': printf("vimon %s\n", VIMON_VERSION); return 0;
		case 'L':
			if (log_level_parse(optarg, &level) < 0) {
				fprintf(stderr, "vimon: invalid --log-level \"%s\"\n", optarg);
				return 2;
			}
			break;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vimon: unexpected argument \"%s\"\n", argv[optind]);
		fputs(usage_text, stderr);
		return 2;
	}
	if (listen && !conf_listen_valid(listen)) {
		fprintf(stderr, "vimon: invalid --listen \"%s\" (want HOST:PORT or [IPV6]:PORT)\n",
			listen);
		return 2;
	}
	if (check)
		return check_config(path, listen);
	memtune_apply();
	log_set_level(verbose ? LOG_LEVEL_DEBUG : level);

	/* Signals go to sigwait below: block them before any thread starts. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	memset(&a, 0, sizeof(a));
	pthread_rwlock_init(&a.lock, NULL);
	pthread_rwlock_init(&a.remed_lock, NULL);
	snapshot_slot_init(&a.remed_slot);
	buf_init(&problems, 0);
	if (conf_load(path, &a.conf, &problems) < 0) {
		report_problems(&problems, 0);
		buf_release(&problems);
		return 2;
	}
	buf_release(&problems);
	a.listen_override = listen;
	if (apply_listen(a.conf, listen) < 0) {
		log_msg(LOG_LEVEL_ERROR, "out of memory");
		goto out_conf;
	}
	apply_log_conf(a.conf);
	log_msg(LOG_LEVEL_INFO, "vimon %s starting: %s, %zu target%s", VIMON_VERSION, path,
		a.conf->ntargets, a.conf->ntargets == 1 ? "" : "s");
	a.targets = calloc(a.conf->ntargets + 1, sizeof(*a.targets));
	if (!a.targets) {
		log_msg(LOG_LEVEL_ERROR, "out of memory");
		goto out_conf;
	}
	for (i = 0; i < a.conf->ntargets; i++) {
		a.targets[a.ntargets] = start_target(&a.conf->targets[i]);
		if (!a.targets[a.ntargets])
			goto out_targets;
		a.ntargets++;
	}
	a.remed = start_remediation(&a, a.conf, NULL, &rem_failed);
	if (rem_failed)
		goto out_targets;
	if (start_http(&a, a.conf->listen) < 0)
		goto out_targets;
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(&a);
			continue;
		}
		log_msg(LOG_LEVEL_INFO, "%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
		break;
	}
	status = 0;
	http_stop(a.http);
out_targets:
	remediation_free(a.remed);
	n = a.ntargets;
	stop_targets(a.targets, n);
	free(a.targets);
	free(a.listen);
out_conf:
	conf_free(a.conf);
	snapshot_slot_destroy(&a.remed_slot);
	pthread_rwlock_destroy(&a.remed_lock);
	pthread_rwlock_destroy(&a.lock);
	if (status == 0)
		log_msg(LOG_LEVEL_INFO, "stopped");
	return status;
}

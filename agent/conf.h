/* agent/conf: the agent's configuration (libconfig file), validated with line numbers. */
#ifndef VIMON_AGENT_CONF_H
#define VIMON_AGENT_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "vi/session.h"

/* What a target collects (the `collect` list); default all. */
enum {
	CONF_COLLECT_VM = 1 << 0,
	CONF_COLLECT_HOST = 1 << 1,
	CONF_COLLECT_DATASTORE = 1 << 2,
	CONF_COLLECT_QUESTION = 1 << 3,
	CONF_COLLECT_TASK = 1 << 4,
	CONF_COLLECT_ALL = (1 << 5) - 1,
	/* PerformanceManager counters: of hosts (needs "host"), of VMs (needs "vm") */
	CONF_COLLECT_PERF = 1 << 5,
	CONF_COLLECT_PERF_VM = 1 << 6,
	CONF_COLLECT_KNOWN = (1 << 7) - 1,
	/* without `collect`: everything but the VMs' counters (opt-in: their cost) */
	CONF_COLLECT_DEFAULT = CONF_COLLECT_ALL | CONF_COLLECT_PERF,
};

struct conf_target {
	char *name;
	char *url;
	char *username;
	char *password; /* read from password_file or password_env; never printed */
	char *ca_file;	/* NULL: system CAs */
	char *thumbprint;
	char *proxy;
	bool insecure;
	unsigned collect; /* CONF_COLLECT_* bits */
	int timeout_s;	  /* per request, default 60 */
	int line;	  /* line of the target in the file */
	/* seconds a finished task stays in vsphere_task_info and the API after its
	 * completeTime, >= 1; 0 (a target not read from a file): the default */
	int task_retention_s;
	/* scope: an inventory path the container view is rooted at (NULL: the root
	 * folder), POSIX extended regexes on decoded VM names (NULL: none) */
	char *root;
	char *vm_include;
	char *vm_exclude;
};

/* A user of the HTTP endpoints (basic auth): name and bcrypt hash. */
struct conf_user {
	char *name;
	char *hash; /* "$2b$..." (also $2a$, $2y$) */
};

/* What a remediation rule does with a matching question. */
enum conf_rem_action {
	CONF_REM_ANSWER, /* AnswerVM with the rule's answer */
	CONF_REM_CANCEL, /* CancelTask on the cancelable tasks the question blocks */
	CONF_REM_REPORT, /* audit and count only */
};

/* One `remediation.rules` entry. Strings owned by the rule. */
struct conf_rem_rule {
	char *message_id; /* exact message id, or "*" for any */
	enum conf_rem_action action;
	char *answer;	 /* CONF_REM_ANSWER: "default", or a choice's label or summary */
	char *vm;	 /* POSIX ERE on the decoded VM name (validated), NULL: any VM */
	char *target;	 /* a configured target's name, NULL: any target */
	int min_pending; /* seconds; -1: the section's min_pending */
	int line;
};

/* The `remediation` section (all defaults when absent: disabled). */
struct conf_remediation {
	bool enabled;
	bool dry_run;		  /* default true */
	int min_pending;	  /* seconds, default 60 */
	int max_actions_per_hour; /* per target, default 20 */
	char *audit_log;	  /* default "/var/lib/vimon/audit.log" */
	char *state_file;	  /* default "/var/lib/vimon/remediation.state" */
	struct conf_rem_rule *rules;
	size_t nrules;
	int line; /* of the section, 0 when absent */
};

struct conf {
	char *path;
	char *listen;	     /* "host:port", default "0.0.0.0:9743" */
	int log_format;	     /* enum log_format (util/log.h), default text */
	int log_timestamps;  /* 1 on, 0 off, -1 (default): off when JOURNAL_STREAM is set */
	char *tls_cert_file; /* HTTPS when both are set; NULL: plain HTTP */
	char *tls_key_file;
	struct conf_user *users; /* basic_auth; nusers 0: no authentication */
	size_t nusers;
	struct conf_target *targets;
	size_t ntargets;
	struct conf_remediation remediation;
	/* read from api_token_file (same rules as a password file), NULL when not
	 * configured: the HTTP actions then do not exist. Never printed. */
	char *api_token;
	/* the global task_retention (seconds), default CONF_DEFAULT_TASK_RETENTION */
	int task_retention_s;
};

#define CONF_DEFAULT_TASK_RETENTION 600
#define CONF_MAX_TASK_RETENTION	    (7 * 86400)

/*
 * Loads and validates path. On success *out (NULL on entry) is the caller's
 * (conf_free). On failure returns -1 and appends every problem found to
 * problems as "FILE:LINE: message\n" lines.
 */
int conf_load(const char *path, struct conf **out, struct buf *problems);

/* Frees (wiping passwords). NULL is fine. */
void conf_free(struct conf *c);

/* 1 when two targets are configured identically (reload keeps such a target
 * running), 0 otherwise. */
int conf_target_equal(const struct conf_target *a, const struct conf_target *b);

/* Deep copy of src into dst (whose previous contents are ignored). -1 when
 * out of memory, dst then holding nothing to release. */
int conf_target_copy(struct conf_target *dst, const struct conf_target *src);

/* Frees what t holds (wiping the password) and zeroes it. NULL is fine. */
void conf_target_release(struct conf_target *t);

/* Appends the names of the subjects in bits ("vm, host, ...") to out, in the
 * order of the `collect` documentation. 0, or -1 when out failed. */
int conf_collect_describe(unsigned bits, struct buf *out);

/* The name of a rule's action ("answer", "cancel", "report"). */
const char *conf_rem_action_name(enum conf_rem_action a);

/* true when t's url is plain http:// (the password travels in clear text). */
bool conf_target_cleartext(const struct conf_target *t);

/*
 * Fills o (zeroed here) with the session options of t: URL, TLS (ca_file,
 * thumbprint, insecure), proxy, credentials, and the request timeout
 * (timeout_s, default 60 s) with a connect timeout of at most 10 s. The
 * strings are borrowed from t, which must outlive o's use (vi_session_new
 * copies them).
 */
void conf_target_session_opts(const struct conf_target *t, struct vi_session_opts *o);

/* 1 when s is a valid listen address ("HOST:PORT" or "[IPV6]:PORT", port
 * 0-65535), as the `listen` key and vimon --listen take it; 0 otherwise. */
int conf_listen_valid(const char *s);

#endif

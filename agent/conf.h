/* agent/conf: the agent's configuration (libconfig file), validated with line numbers. */
#ifndef VIMON_AGENT_CONF_H
#define VIMON_AGENT_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* What a target collects (the `collect` list); default all. */
enum {
	CONF_COLLECT_VM = 1 << 0,
	CONF_COLLECT_HOST = 1 << 1,
	CONF_COLLECT_DATASTORE = 1 << 2,
	CONF_COLLECT_QUESTION = 1 << 3,
	CONF_COLLECT_TASK = 1 << 4,
	CONF_COLLECT_ALL = (1 << 5) - 1,
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
};

/* A user of the HTTP endpoints (basic auth): name and bcrypt hash. */
struct conf_user {
	char *name;
	char *hash; /* "$2b$..." (also $2a$, $2y$) */
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
};

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

/* true when t's url is plain http:// (the password travels in clear text). */
bool conf_target_cleartext(const struct conf_target *t);

#endif

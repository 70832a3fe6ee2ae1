/* agent/http: the agent's HTTP server (/metrics, /healthz, /api/v1/...) on libmicrohttpd. */
#ifndef VIMON_AGENT_HTTP_H
#define VIMON_AGENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/snapshot.h"
#include "util/err.h"

/*
 * Where the server reads the targets' current snapshots, on every request.
 * snapshots() stores at most max snapshots (each with a reference the server
 * drops with snapshot_put) in snaps, sets *epoch to a number that changes
 * whenever the set of targets changes, and returns how many targets there
 * are (possibly more than max: the server then asks again with more room).
 * It must not block on the network.
 */
struct http_source {
	size_t (*snapshots)(void *ud, struct snapshot **snaps, size_t max, unsigned long *epoch);
	void *ud;
	/*
	 * Optional (NULL: no actions, GET /api/v1/remediation is "[]"): the
	 * remediation module's HTTP side, called with the same ud (see
	 * agent/remediation.h). actions_enabled says whether the POST actions
	 * exist (absent: 404); authorize checks the Authorization header (NULL
	 * when absent): 1 when allowed; post runs an action on the whole body
	 * (at most REM_BODY_MAX bytes) and returns the status and a malloc'd JSON
	 * reply; get renders /api/v1/remediation and /api/v1/actions (malloc'd,
	 * NULL when out of memory). post may block while it talks to vCenter.
	 */
	int (*actions_enabled)(void *ud);
	int (*authorize)(void *ud, const char *authorization);
	unsigned (*post)(void *ud, const char *path, const char *body, size_t len,
			 const char *client, char **reply, size_t *reply_len);
	char *(*get)(void *ud, const char *path, size_t *len);
};

struct http_server;

/*
 * Starts serving on listen ("host:port" or "[v6]:port"; port 0 picks a free
 * one) with internal threads. src is copied; src->ud must outlive the server.
 * On success *out (NULL on entry) is the caller's (http_stop). -1 with e set
 * (ERR_CONFIG for an address that does not resolve, ERR_SYSTEM when binding
 * fails).
 */
int http_start(const char *listen, const struct http_source *src, struct http_server **out,
	       struct err *e);

/* Optional HTTPS and basic authentication. Strings are read at start. */
struct http_opts {
	const char *tls_cert_file; /* PEM; with tls_key_file: HTTPS, else plain HTTP */
	const char *tls_key_file;
	/* basic auth for every path but /healthz when nusers > 0: names and
	 * bcrypt hashes, nusers each */
	const char *const *users;
	const char *const *hashes;
	size_t nusers;
};

/*
 * http_start() with options (NULL: none). The certificate and key files are
 * read now (a SIGHUP that should pick up new ones starts a new server).
 * ERR_CONFIG for a file that cannot be read or a pair TLS refuses.
 */
int http_start_opts(const char *listen, const struct http_opts *opts, const struct http_source *src,
		    struct http_server **out, struct err *e);

/* "https" or "http": what the server speaks. */
const char *http_scheme(const struct http_server *s);

/* The address actually bound, "host:port" (borrowed, valid until http_stop). */
const char *http_address(const struct http_server *s);

/* true when the POST actions (/api/v1/questions/answer, /api/v1/vms/power)
 * are enabled: an api_token_file is configured. The same answer as
 * GET /api/v1/actions's "enabled". */
bool http_actions_enabled(const struct http_server *s);

/* Stops the threads, closes the socket and frees. NULL is fine. */
void http_stop(struct http_server *s);

#endif

/* agent/http: the agent's HTTP server (/metrics, /healthz, /api/v1/...) on libmicrohttpd. */
#ifndef VIMON_AGENT_HTTP_H
#define VIMON_AGENT_HTTP_H

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

/* Stops the threads, closes the socket and frees. NULL is fine. */
void http_stop(struct http_server *s);

#endif

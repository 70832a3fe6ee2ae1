/* vi/http: the HTTPS transport (libcurl) under the SOAP session. */
#ifndef VIMON_VI_HTTP_H
#define VIMON_VI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct vi_http_opts {
	const char *url;     /* https://host/sdk */
	const char *ca_file; /* NULL: system CAs */
	/* SHA-256 or SHA-1, hex, colons optional, any case; NULL: none. When set,
	 * the leaf certificate must match it (chain and host name are not
	 * checked), whatever insecure says: a pin is never dropped. */
	const char *thumbprint;
	bool insecure;	   /* without a thumbprint: no verification at all (the caller warns) */
	const char *proxy; /* http://proxy:port or NULL */
	long connect_timeout_ms; /* 0: 10 s */
	long timeout_ms;	 /* whole request, 0: 60 s */
	size_t max_reply;	 /* decoded bytes, 0: 256 MiB */
	const char *user_agent;	 /* NULL: "vimon/VERSION" */
};

struct vi_http;

/* Creates a transport (one keep-alive connection, cookies kept in memory).
 * All strings are copied. NULL with e set on failure. */
struct vi_http *vi_http_new(const struct vi_http_opts *opts, struct err *e);

/* Frees the transport and closes its connection (NULL is fine). */
void vi_http_free(struct vi_http *h);

/*
 * Abort hook: while vi_http_post() runs, should_abort(ud) is asked from
 * libcurl's progress callback (frequently during a transfer), at least once a
 * second while waiting, and at once after vi_http_wakeup(); non-zero ends the
 * call with ERR_CANCELLED,
 * message "...: call aborted". NULL removes the hook.
 */
void vi_http_set_abort(struct vi_http *h, int (*should_abort)(void *ud), void *ud);

/*
 * POSTs a SOAP request and streams the (decoded) reply body to sink as it
 * arrives. *status gets the HTTP status (0 when none was received). Returns
 * 0 when the exchange completed (any status: a 500 carries a SOAP fault),
 * or -1 with e set: ERR_RESOLVE, ERR_CONNECT, ERR_TLS (the message names the
 * thumbprint presented on a pin mismatch), ERR_TIMEOUT, ERR_TOO_LARGE,
 * ERR_CANCELLED (the abort hook), or the sink's own error.
 */
int vi_http_post(struct vi_http *h, const char *soap_action, const char *body, size_t len,
		 int (*sink)(void *ud, const char *data, size_t len, struct err *e), void *ud,
		 long *status, struct err *e);

/*
 * vi_http_post() for a call that changes state on the server (a task method,
 * AnswerVM, CancelTask): sent on a new connection, which the transport never
 * sends twice. (libcurl re-sends a request by itself when a reused connection
 * turns out dead before any reply, and the server may have acted on the first
 * one.) A connection lost before the reply is then an ERR_CONNECT for the
 * caller to judge. The new connection stays for later calls.
 */
int vi_http_post_once(struct vi_http *h, const char *soap_action, const char *body, size_t len,
		      int (*sink)(void *ud, const char *data, size_t len, struct err *e), void *ud,
		      long *status, struct err *e);

/*
 * GETs url (NULL: the transport's own URL) on the transport's connection,
 * with its TLS rules and timeouts, streaming the decoded body to sink like
 * vi_http_post() (for plain HTTP JSON APIs such as the agent's). *status gets
 * the HTTP status. 0 when the exchange completed (any status), or -1 with e
 * set as for vi_http_post().
 */
int vi_http_get(struct vi_http *h, const char *url,
		int (*sink)(void *ud, const char *data, size_t len, struct err *e), void *ud,
		long *status, struct err *e);

/*
 * Makes a vi_http_post() running on another thread ask its abort hook now
 * instead of at its next periodic check (at most a second away). Safe to call
 * from any thread while h exists; a no-op when no call is in flight (the next
 * call's first wait returns at once).
 */
void vi_http_wakeup(struct vi_http *h);

/* Drops every cookie the transport holds (the session cookie): a Login must
 * never go out with an old session's cookie, which a server refuses as a
 * failed login while that session lives. 0, or -1 with e set. */
int vi_http_forget_session(struct vi_http *h, struct err *e);

/* Whether the transport holds a cookie (a session handed out by the server). */
bool vi_http_has_cookies(struct vi_http *h);

/* Forgets every cookie (the session cookie of a session the server ended), so
 * that the next Login starts a new session rather than presenting the old one. */
void vi_http_clear_cookies(struct vi_http *h);

/* Bytes received on the wire (compressed) by the last vi_http_post(). */
size_t vi_http_last_bytes(const struct vi_http *h);

/* Normalizes a thumbprint as admins paste it (colons, spaces, any case) into
 * upper-case hex without separators; -1 unless it is 40 (SHA-1) or 64
 * (SHA-256) hex digits. out must hold 65 bytes. */
int vi_thumbprint_normalize(const char *in, char *out, struct err *e);

#endif

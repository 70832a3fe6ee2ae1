/* vi/session: login, the session cookie, and calls with one transparent re-login. */
#ifndef VIMON_VI_SESSION_H
#define VIMON_VI_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "vi/http.h"
#include "vi/xml.h"

struct vi_session_opts {
	struct vi_http_opts http;
	const char *username;
	const char *password; /* copied; never logged or put in an error message */
};

/* What RetrieveServiceContent told us. Strings owned by the session. */
struct vi_service_content {
	char *root_folder;
	char *property_collector;
	char *view_manager;
	char *session_manager;
	char *api_type; /* "VirtualCenter" or "HostAgent" */
	char *api_version;
	char *full_name;
	char *instance_uuid;
};

/*
 * Observer for every SOAP call (the agent's self-metrics): method name,
 * seconds taken, bytes received, and the error (NULL on success).
 */
struct vi_call_observer {
	void (*on_call)(void *ud, const char *method, double seconds, size_t bytes,
			const struct err *e);
	void *ud;
};

struct vi_session;

/* Creates a session object (no I/O). Strings are copied. NULL with e set. */
struct vi_session *vi_session_new(const struct vi_session_opts *opts, struct err *e);

/* Logs out if logged in (errors ignored) and frees. NULL is fine. */
void vi_session_free(struct vi_session *s);

void vi_session_set_observer(struct vi_session *s, const struct vi_call_observer *obs);

/*
 * Abort hook: while a call is in flight (connecting, sending, waiting for or
 * reading the reply) the transport asks should_abort(ud) about every 100 ms;
 * when it returns non-zero the call ends at once with ERR_CANCELLED. This is
 * how a stopping agent interrupts a long WaitForUpdatesEx or a hung server.
 * should_abort must be cheap and thread-safe (e.g. read an atomic flag).
 * NULL removes the hook.
 */
void vi_session_set_abort(struct vi_session *s, int (*should_abort)(void *ud), void *ud);

/* RetrieveServiceContent then Login. A refused login is ERR_AUTH with fault
 * "InvalidLogin" and is never retried. */
int vi_session_login(struct vi_session *s, struct err *e);

/* Logout. The session may log in again afterwards. */
int vi_session_logout(struct vi_session *s, struct err *e);

bool vi_session_logged_in(const struct vi_session *s);

/* Number of successful logins since creation (the first one included). */
unsigned long vi_session_login_count(const struct vi_session *s);

/* The transport's whole-request timeout in milliseconds (the configured one
 * or the 60 s default): server-side waits must stay below it. */
long vi_session_timeout_ms(const struct vi_session *s);

/* Borrowed; valid after a successful login. */
const struct vi_service_content *vi_get_service_content(const struct vi_session *s);

/*
 * Sends one request (body written with vi/soap.h) and streams the reply
 * through a reader built from spec. When the reply is a NotAuthenticated
 * fault the session logs in again once and resends the same body; a second
 * failure is returned. 0, or -1 with e set.
 */
int vi_session_call(struct vi_session *s, const char *method, const char *body, size_t len,
		    const struct vi_reader_spec *spec, struct err *e);

#endif

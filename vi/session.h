/* vi/session: login, the session cookie, and calls with one transparent re-login. */
#ifndef VIMON_VI_SESSION_H
#define VIMON_VI_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
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
	char *task_manager; /* NULL when the server has none */
	char *api_type;	    /* "VirtualCenter" or "HostAgent" */
	char *api_version;
	char *full_name;
	char *instance_uuid;
	char *perf_manager; /* NULL when the server has none */
	char *search_index; /* NULL when the server has none */
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

/* Sets (copies) the call observer; NULL removes it. The observer's ud must
 * outlive the session or be removed first. */
void vi_session_set_observer(struct vi_session *s, const struct vi_call_observer *obs);

/*
 * Abort hook: while a call is in flight (connecting, sending, waiting for or
 * reading the reply) the transport asks should_abort(ud) at least once a second,
 * and at once after vi_session_wakeup(); when it returns non-zero the call ends
 * at once with ERR_CANCELLED. This is
 * how a stopping agent interrupts a long WaitForUpdatesEx or a hung server.
 * should_abort must be cheap and thread-safe (e.g. read an atomic flag).
 * The message is "METHOD: HOST: call aborted". NULL removes the hook.
 */
void vi_session_set_abort(struct vi_session *s, int (*should_abort)(void *ud), void *ud);

/* Makes the call in flight on another thread ask its abort hook at once
 * (vi_http_wakeup). Safe from any thread while s exists. */
void vi_session_wakeup(struct vi_session *s);

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

/* Seconds on the monotonic clock (for durations and deadlines). */
double vi_now_seconds(void);

#define VI_CALL_BOUND 1u /* flag: the call is session-bound (see vi_session_call) */
/* flag: the call changes state on the server; it goes out on a new connection so
 * the transport never sends it twice (vi_http_post_once). A NotAuthenticated
 * fault (the server refused it) is still resent once after the re-login. */
#define VI_CALL_ONCE 2u

/*
 * Sends one request (body built with vi/soap.h; ERR_NOMEM without sending when
 * body->failed) and streams the reply through a reader built from spec (NULL:
 * the reply is only checked for a fault). Logs in first when not logged in.
 * flags:
 *  0              on a NotAuthenticated fault the session logs in again once
 *                 and resends the same body; a second failure is returned.
 *  VI_CALL_BOUND  the call names objects of the current session (WaitForUpdatesEx
 *                 with a version, ContinueRetrievePropertiesEx with a token,
 *                 CreateFilter or DestroyView naming a view or filter, ...): on a
 *                 NotAuthenticated fault the session logs in again but does NOT
 *                 resend. After a successful re-login it returns -1 with
 *                 ERR_FAULT, fault "NotAuthenticated" and a message saying the
 *                 session was renewed (vi_session_renewed() is true) so the
 *                 caller rebuilds its views and filters on the new session at
 *                 once; a failed re-login returns the login's own error.
 *  VI_CALL_ONCE   see above; may be combined with VI_CALL_BOUND.
 * 0, or -1 with e set.
 */
int vi_session_call(struct vi_session *s, const char *method, const struct buf *body,
		    const struct vi_reader_spec *spec, unsigned flags, struct err *e);

/* True when e is the error of a VI_CALL_BOUND call (or a function built on
 * one, like vi_pc_wait) after the session was renewed: a NotAuthenticated
 * fault, which such a call returns only after a successful re-login. */
bool vi_session_renewed(const struct err *e);

/*
 * Sends body (fails with ERR_NOMEM when body->failed) and expects a
 * non-empty text at path of the reply (e.g. "returnval", a moref). flags: 0,
 * VI_CALL_BOUND or VI_CALL_ONCE. On success *out (NULL on entry) is the caller's to free;
 * a reply without it is ERR_PROTOCOL.
 */
int vi_session_call_text(struct vi_session *s, const char *method, const struct buf *body,
			 const char *path, unsigned flags, char **out, struct err *e);

#endif

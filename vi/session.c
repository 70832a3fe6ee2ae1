/* vi/session: ServiceContent, Login/Logout, and SOAP calls with one transparent re-login. */
#include "vi/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "vi/soap.h"

#define SESSION_API_DEFAULT "6.7"
#define SESSION_BODY_MAX    ((size_t)1 << 20)
#define SESSION_TEXT_MAX    256 /* bytes of a service-content string (VI_PC_TEXT_MAX) */

/*
 * Invariants: http is never NULL. sc is filled (have_sc) by the first
 * successful RetrieveServiceContent and kept across re-logins. password is
 * wiped before it is freed. Not thread-safe: one session per thread.
 */
struct vi_session {
	struct vi_http *http;
	char *username;
	char *password;
	struct vi_service_content sc;
	bool have_sc;
	bool logged_in;
	unsigned long logins;
	struct vi_call_observer obs;
	char soap_action[48];
	long timeout_ms;
};

static void service_content_release(struct vi_service_content *sc)
{
	free(sc->root_folder);
	free(sc->property_collector);
	free(sc->view_manager);
	free(sc->session_manager);
	free(sc->task_manager);
	free(sc->api_type);
	free(sc->api_version);
	free(sc->full_name);
	free(sc->instance_uuid);
	free(sc->perf_manager);
	free(sc->search_index);
	memset(sc, 0, sizeof(*sc));
}

struct vi_session *vi_session_new(const struct vi_session_opts *opts, struct err *e)
{
	struct vi_session *s;

	if (!opts || !opts->username || !opts->password) {
		err_set(e, ERR_CONFIG, "a user name and a password are needed");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	s->username = strdup(opts->username);
	s->password = strdup(opts->password);
	if (!s->username || !s->password) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_free;
	}
	s->http = vi_http_new(&opts->http, e);
	if (!s->http)
		goto out_free;
	s->timeout_ms = opts->http.timeout_ms > 0 ? opts->http.timeout_ms : 60000;
	snprintf(s->soap_action, sizeof(s->soap_action), "urn:vim25/%s", SESSION_API_DEFAULT);
	return s;
out_free:
	vi_session_free(s);
	return NULL;
}

void vi_session_free(struct vi_session *s)
{
	struct err e;

	if (!s)
		return;
	/* the observer's owner may already be gone when the session is freed */
	memset(&s->obs, 0, sizeof(s->obs));
	if (s->logged_in) {
		err_clear(&e);
		vi_session_logout(s, &e);
	}
	vi_http_free(s->http);
	service_content_release(&s->sc);
	free(s->username);
	if (s->password) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s);
}

void vi_session_set_observer(struct vi_session *s, const struct vi_call_observer *obs)
{
	if (obs)
		s->obs = *obs;
	else
		memset(&s->obs, 0, sizeof(s->obs));
}

void vi_session_set_abort(struct vi_session *s, int (*should_abort)(void *ud), void *ud)
{
	vi_http_set_abort(s->http, should_abort, ud);
}

void vi_session_wakeup(struct vi_session *s)
{
	if (s)
		vi_http_wakeup(s->http);
}

bool vi_session_logged_in(const struct vi_session *s)
{
	return s->logged_in;
}

unsigned long vi_session_login_count(const struct vi_session *s)
{
	return s->logins;
}

const struct vi_service_content *vi_get_service_content(const struct vi_session *s)
{
	return s->have_sc ? &s->sc : NULL;
}

long vi_session_timeout_ms(const struct vi_session *s)
{
	return s->timeout_ms;
}

double vi_now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int feed_reader(void *ud, const char *data, size_t len, struct err *e)
{
	return vi_reader_feed(ud, data, len, e);
}

/* Is this error about the reply's body (as opposed to the transport)? */
static bool body_error(enum err_kind k)
{
	return k == ERR_PARSE || k == ERR_PROTOCOL || k == ERR_OK;
}

/*
 * One request and its reply, no re-login. A reply that is not a SOAP answer
 * and came with an HTTP error status is ERR_HTTP with that status; a SOAP
 * fault stays a fault whatever the status.
 */
static int call_once(struct vi_session *s, const char *method, const char *body, size_t len,
		     const struct vi_reader_spec *spec, unsigned flags, struct err *e)
{
	static const char *const no_paths[] = {NULL};
	struct vi_reader_spec empty = {.paths = no_paths};
	struct vi_reader *r;
	struct err te;
	double t0 = vi_now_seconds();
	long status = 0;
	int rc = -1;

	err_clear(&te);
	r = vi_reader_new(spec ? spec : &empty, &te);
	if (!r)
		goto out;
	if (flags & VI_CALL_ONCE)
		rc = vi_http_post_once(s->http, s->soap_action, body, len, feed_reader, r, &status,
				       &te);
	else
		rc = vi_http_post(s->http, s->soap_action, body, len, feed_reader, r, &status, &te);
	if (rc == 0)
		rc = vi_reader_finish(r, &te);
	vi_reader_free(r);
	if (rc == 0 && status != 200) {
		rc = err_set(&te, ERR_HTTP, "HTTP status %ld with a reply that is not a fault",
			     status);
	} else if (rc < 0 && status != 200 && status != 0 && body_error(te.kind)) {
		char why[ERR_MSG_MAX];

		memcpy(why, te.msg, sizeof(why));
		err_clear(&te);
		err_set(&te, ERR_HTTP, "HTTP status %ld (%s)", status, why);
	}
	if (rc < 0 && te.kind == ERR_FAULT && strcmp(te.fault, "InvalidLogin") == 0)
		te.kind = ERR_AUTH;
	if (rc < 0) {
		if (status && !te.http_status)
			te.http_status = (int)status;
		err_prefix(&te, "%s", method);
	}
out:
	if (s->obs.on_call)
		s->obs.on_call(s->obs.ud, method, vi_now_seconds() - t0,
			       vi_http_last_bytes(s->http), rc < 0 ? &te : NULL);
	if (rc < 0)
		err_copy(e, &te);
	return rc;
}

/* Copies a child's text; 1 (nothing copied) when it is longer than
 * SESSION_TEXT_MAX: every one is shown or sent back. */
static int dup_text(const struct vi_node *n, const char *name, char **out)
{
	const char *t = n ? vi_node_child_text(n, name) : NULL;

	*out = NULL;
	if (!t || !*t)
		return 0;
	if (strlen(t) > SESSION_TEXT_MAX)
		return 1;
	*out = strdup(t);
	return *out ? 0 : -1;
}

static int on_service_content(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	struct vi_service_content *sc = ud;
	const struct vi_node *about = vi_node_child(n, "about");

	(void)path;
	service_content_release(sc);
	int rc = dup_text(n, "rootFolder", &sc->root_folder) |
		 dup_text(n, "propertyCollector", &sc->property_collector) |
		 dup_text(n, "viewManager", &sc->view_manager) |
		 dup_text(n, "sessionManager", &sc->session_manager) |
		 dup_text(n, "taskManager", &sc->task_manager) |
		 dup_text(about, "apiType", &sc->api_type) |
		 dup_text(about, "apiVersion", &sc->api_version) |
		 dup_text(about, "fullName", &sc->full_name) |
		 dup_text(about, "instanceUuid", &sc->instance_uuid) |
		 dup_text(n, "perfManager", &sc->perf_manager) |
		 dup_text(n, "searchIndex", &sc->search_index);

	if (rc == 0)
		return 0;
	service_content_release(sc);
	if (rc < 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	return err_set(e, ERR_PROTOCOL,
		       "RetrieveServiceContent: a value longer than %d bytes in the reply",
		       SESSION_TEXT_MAX);
}

/* Speaks the server's API version when it is older than the one we default to. */
static void pick_api_version(struct vi_session *s)
{
	const char *v = s->sc.api_version;
	unsigned major = 0, minor = 0;
	const char *p;

	if (!v || sscanf(v, "%u.%u", &major, &minor) != 2)
		return;
	for (p = v; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return;
	if (major < 6 || (major == 6 && minor < 7))
		snprintf(s->soap_action, sizeof(s->soap_action), "urn:vim25/%u.%u", major, minor);
}

static int retrieve_service_content(struct vi_session *s, struct err *e)
{
	static const char *const paths[] = {"returnval", NULL};
	struct vi_service_content sc = {0};
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_service_content, .ud = &sc};
	struct buf b;
	int rc = -1;

	buf_init(&b, SESSION_BODY_MAX);
	vi_soap_begin(&b, "RetrieveServiceContent", "ServiceInstance", "ServiceInstance");
	vi_soap_end(&b, "RetrieveServiceContent");
	if (b.failed) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_release;
	}
	if (call_once(s, "RetrieveServiceContent", b.data, b.len, &spec, 0, e) < 0)
		goto out_release;
	if (!sc.root_folder || !sc.property_collector || !sc.session_manager) {
		err_set(e, ERR_PROTOCOL,
			"RetrieveServiceContent: the reply lacks rootFolder, propertyCollector or "
			"sessionManager");
		goto out_release;
	}
	service_content_release(&s->sc);
	s->sc = sc;
	memset(&sc, 0, sizeof(sc));
	s->have_sc = true;
	pick_api_version(s);
	rc = 0;
out_release:
	service_content_release(&sc);
	buf_release(&b);
	return rc;
}

/* Bytes of a Login body: the envelope plus every value escaped at worst
 * (one byte becomes "&quot;"), so the buffer never grows. */
static size_t login_body_size(const struct vi_session *s)
{
	return 1024 +
	       6 * (strlen(s->sc.session_manager) + strlen(s->username) + strlen(s->password));
}

/* Logs out the session whose Login reply was lost; errors ignored. */
static void logout_orphan(struct vi_session *s)
{
	struct err ignored = {0};

	vi_session_logout(s, &ignored);
	vi_http_forget_session(s->http, &ignored);
}

int vi_session_login(struct vi_session *s, struct err *e)
{
	struct buf b;
	size_t size;
	int rc = -1;

	if (!s->have_sc && retrieve_service_content(s, e) < 0)
		return -1;
	s->logged_in = false;
	if (vi_http_forget_session(s->http, e) < 0)
		return -1;
	/* allocated once at full size: a realloc would leave copies of the
	 * password on the heap that are never wiped */
	size = login_body_size(s);
	buf_init(&b, size);
	buf_grow(&b, size);
	vi_soap_begin(&b, "Login", "SessionManager", s->sc.session_manager);
	vi_soap_add(&b, "userName", s->username);
	vi_soap_add(&b, "password", s->password);
	vi_soap_end(&b, "Login");
	if (b.failed) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_release;
	}
	if (call_once(s, "Login", b.data, b.len, NULL, 0, e) < 0) {
		/* the reply was lost (a timeout) after its session cookie came:
		 * end that session rather than leave it orphaned on the server */
		if (e && e->kind != ERR_AUTH && e->kind != ERR_FAULT &&
		    vi_http_has_cookies(s->http))
			logout_orphan(s);
		goto out_release;
	}
	s->logged_in = true;
	s->logins++;
	rc = 0;
out_release:
	/* the body held the password */
	if (b.alloc)
		explicit_bzero(b.data, b.alloc);
	buf_release(&b);
	return rc;
}

int vi_session_logout(struct vi_session *s, struct err *e)
{
	struct buf b;
	int rc = -1;

	if (!s->have_sc)
		return 0;
	buf_init(&b, SESSION_BODY_MAX);
	vi_soap_begin(&b, "Logout", "SessionManager", s->sc.session_manager);
	vi_soap_end(&b, "Logout");
	s->logged_in = false;
	if (b.failed) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_release;
	}
	rc = call_once(s, "Logout", b.data, b.len, NULL, 0, e);
out_release:
	buf_release(&b);
	return rc;
}

/* Message of the error a session-bound call returns after a re-login. */
#define SESSION_RENEWED_MSG                                                                        \
	"the session expired and was renewed; objects of the old session (filters, views, "        \
	"update versions, retrieve tokens) are gone: rebuild them"

int vi_session_call(struct vi_session *s, const char *method, const struct buf *body,
		    const struct vi_reader_spec *spec, unsigned flags, struct err *e)
{
	struct err first;

	if (body->failed)
		return err_set(e, ERR_NOMEM, "%s: request too large or out of memory", method);
	if (!s->logged_in && vi_session_login(s, e) < 0)
		return -1;
	err_clear(&first);
	if (call_once(s, method, body->data, body->len, spec, flags, &first) == 0)
		return 0;
	if (!err_is_fault(&first, "NotAuthenticated")) {
		err_copy(e, &first);
		return -1;
	}
	/* The session expired or was closed on the server: log in once, without
	 * its cookie (a server may refuse a Login that presents a session). */
	s->logged_in = false;
	vi_http_clear_cookies(s->http);
	if (vi_session_login(s, e) < 0)
		return -1;
	if (flags & VI_CALL_BOUND)
		return err_set_fault(e, ERR_FAULT, "NotAuthenticated", "%s: %s", method,
				     SESSION_RENEWED_MSG);
	return call_once(s, method, body->data, body->len, spec, flags, e);
}

bool vi_session_renewed(const struct err *e)
{
	return err_is_fault(e, "NotAuthenticated");
}

/* Keeps the text of the wanted element (a moref or a string). */
static int on_text_node(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	char **out = ud;

	(void)path;
	free(*out);
	*out = strdup(n->text);
	return *out ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

int vi_session_call_text(struct vi_session *s, const char *method, const struct buf *body,
			 const char *path, unsigned flags, char **out, struct err *e)
{
	const char *paths[] = {path, NULL};
	char *val = NULL;
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_text_node, .ud = &val};
	int rc = -1;

	if (vi_session_call(s, method, body, &spec, flags, e) < 0)
		goto out_free;
	if (!val || !*val) {
		err_set(e, ERR_PROTOCOL, "%s: the reply has no %s", method, path);
		goto out_free;
	}
	*out = val;
	val = NULL;
	rc = 0;
out_free:
	free(val);
	return rc;
}

/* Unit tests for vi/session and vi/pc against a scripted in-process HTTP server (hostile replies). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "tests/support/testutil.h"
#include "util/buf.h"
#include "util/err.h"
#include "vi/pc.h"
#include "vi/pc_tasks.h"
#include "vi/session.h"
#include "vi/task.h"

#define ENV(x) TEST_ENV_OPEN x TEST_ENV_CLOSE

#define SERVICE_CONTENT                                                                            \
	ENV("<RetrieveServiceContentResponse xmlns=\"urn:vim25\"><returnval>"                      \
	    "<rootFolder type=\"Folder\">group-d1</rootFolder>"                                    \
	    "<propertyCollector type=\"PropertyCollector\">propertyCollector</propertyCollector>"  \
	    "<viewManager type=\"ViewManager\">ViewManager</viewManager>"                          \
	    "<about><fullName>VMware vCenter Server 7.0.3</fullName><apiType>VirtualCenter"        \
	    "</apiType><apiVersion>7.0.3.0</apiVersion></about>"                                   \
	    "<sessionManager type=\"SessionManager\">SessionManager</sessionManager>"              \
	    "</returnval></RetrieveServiceContentResponse>")
#define LOGIN_OK                                                                                   \
	ENV("<LoginResponse xmlns=\"urn:vim25\"><returnval><key>52a</key><userName>u</userName>"   \
	    "</returnval></LoginResponse>")
#define FAULT(type)                                                                                \
	ENV("<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>" type              \
	    " here</faultstring><detail><" type "Fault xmlns=\"urn:vim25\" xsi:type=\"" type       \
	    "\"></" type "Fault></detail></soapenv:Fault>")
#define WAIT(x)                                                                                    \
	ENV("<WaitForUpdatesExResponse xmlns=\"urn:vim25\">" x "</WaitForUpdatesExResponse>")
#define RETRIEVE(x)                                                                                \
	ENV("<RetrievePropertiesExResponse xmlns=\"urn:vim25\">" x                                 \
	    "</RetrievePropertiesExResponse>")
#define VM_OBJ(id, name)                                                                           \
	"<objects><obj type=\"VirtualMachine\">" id "</obj><propSet><name>name</name>"             \
	"<val xsi:type=\"xsd:string\">" name "</val></propSet></objects>"

/* The first two replies of every script: a session that logs in. */
/* clang-format off */
#define LOGIN_REPLIES {200, NULL, SERVICE_CONTENT, 0, false}, {200, NULL, LOGIN_OK, 0, false}
/* clang-format on */

struct reply {
	int status;
	const char *headers; /* extra header lines, each ending in \r\n */
	const char *body;
	size_t len; /* 0: strlen(body) */
	bool close; /* close the connection without answering */
};

/* The scripted server: answers each request with the next reply of the script. */
struct fake {
	int lfd;
	unsigned port;
	pthread_t thread;
	pthread_mutex_t mu;
	const struct reply *script;
	size_t nscript;
	size_t next;
	int accepts;
	struct buf req[16]; /* the requests received, headers and body */
	size_t nreq;
	bool stop;
};

static int read_request(int fd, struct buf *b)
{
	char chunk[4096];
	const char *end = NULL;
	size_t body = 0;

	for (;;) {
		ssize_t n;

		if (!end && (end = strstr(b->data, "\r\n\r\n"))) {
			const char *cl = strcasestr(b->data, "\r\nContent-Length:");

			body = cl ? strtoul(cl + 17, NULL, 10) : 0;
		}
		if (end && b->len >= (size_t)(end - b->data) + 4 + body)
			return 0;
		n = read(fd, chunk, sizeof(chunk));
		if (n <= 0)
			return -1;
		buf_add(b, chunk, (size_t)n);
		end = NULL;
	}
}

static void *serve(void *ud)
{
	struct fake *f = ud;

	for (;;) {
		struct pollfd p = {.fd = f->lfd, .events = POLLIN};
		int fd;

		if (poll(&p, 1, 100) <= 0) {
			if (f->stop)
				break;
			continue;
		}
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			break;
		pthread_mutex_lock(&f->mu);
		f->accepts++;
		pthread_mutex_unlock(&f->mu);
		for (;;) {
			struct pollfd both[2] = {{.fd = fd, .events = POLLIN},
						 {.fd = f->lfd, .events = POLLIN}};
			struct buf in, out;
			const struct reply *r;

			/* one connection at a time: a new one (a fresh connect)
			 * while this one idles closes this one, as servers do */
			if (poll(both, 2, -1) < 0 ||
			    (!(both[0].revents & POLLIN) && (both[1].revents & POLLIN)))
				break;
			buf_init(&in, 0);
			if (read_request(fd, &in) < 0) {
				buf_release(&in);
				break;
			}
			pthread_mutex_lock(&f->mu);
			if (f->nreq < 16)
				f->req[f->nreq++] = in;
			else
				buf_release(&in);
			r = f->next < f->nscript ? &f->script[f->next++] : NULL;
			pthread_mutex_unlock(&f->mu);
			if (!r || r->close)
				break;
			buf_init(&out, 0);
			buf_addf(&out,
				 "HTTP/1.1 %d X\r\nContent-Type: text/xml; charset=utf-8\r\n"
				 "Content-Length: %zu\r\n%s\r\n",
				 r->status, r->len ? r->len : strlen(r->body),
				 r->headers ? r->headers : "");
			buf_add(&out, r->body, r->len ? r->len : strlen(r->body));
			if (write(fd, out.data, out.len) != (ssize_t)out.len) {
				buf_release(&out);
				break;
			}
			buf_release(&out);
		}
		close(fd);
	}
	return NULL;
}

static void fake_start(struct fake *f, const struct reply *script, size_t n)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->script = script;
	f->nscript = n;
	pthread_mutex_init(&f->mu, NULL);
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	size_t i;

	f->stop = true;
	shutdown(f->lfd, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	close(f->lfd);
	for (i = 0; i < f->nreq; i++)
		buf_release(&f->req[i]);
	pthread_mutex_destroy(&f->mu);
}

/* Number of requests whose body names this SOAP method. */
static int requests_for(struct fake *f, const char *method)
{
	char tag[64];
	size_t i;
	int n = 0;

	snprintf(tag, sizeof(tag), "<%s xmlns=", method);
	for (i = 0; i < f->nreq; i++)
		if (strstr(f->req[i].data, tag))
			n++;
	return n;
}

static struct vi_session *session_on(struct fake *f, size_t max_reply, char *url, size_t size)
{
	struct vi_session_opts o = {0};
	struct vi_session *s;
	struct err e;

	snprintf(url, size, "http://127.0.0.1:%u/sdk", f->port);
	o.http.url = url;
	o.http.timeout_ms = 5000;
	o.http.max_reply = max_reply;
	o.username = "u";
	o.password = "p";
	err_clear(&e);
	s = vi_session_new(&o, &e);
	assert_non_null(s);
	return s;
}

/* Starts the scripted server (whose script begins with LOGIN_REPLIES) and
 * logs a session in on it; fails the test when the login fails. */
static struct vi_session *fake_login(struct fake *f, const struct reply *script, size_t n,
				     size_t max_reply, char *url, size_t size)
{
	struct vi_session *s;
	struct err e;

	fake_start(f, script, n);
	s = session_on(f, max_reply, url, size);
	err_clear(&e);
	if (vi_session_login(s, &e) < 0)
		fail_msg("login: %s", e.msg);
	return s;
}

struct changes {
	int n;
	int enters, modifies, leaves, missing, done;
	char last_path[64];
	char foreign[32]; /* the last foreign filter reported */
	int nforeign;
};

static int on_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct changes *ch = ud;

	(void)e;
	ch->n++;
	if (c->kind == VI_OBJ_ENTER)
		ch->enters++;
	if (c->kind == VI_OBJ_MODIFY)
		ch->modifies++;
	if (c->kind == VI_OBJ_LEAVE) {
		ch->leaves++;
		assert_null(c->path);
	} else {
		assert_non_null(c->path);
		snprintf(ch->last_path, sizeof(ch->last_path), "%s", c->path);
		if (!c->value)
			ch->missing++;
	}
	return 0;
}

static int on_done(void *ud, const char *t, const char *m, enum vi_obj_kind k, struct err *e)
{
	(void)t;
	(void)m;
	(void)k;
	(void)e;
	((struct changes *)ud)->done++;
	return 0;
}

/* The request carries our headers; one connection serves every call. */
static void test_request_headers_keepalive(void **state)
{
	static const struct reply script[] = {
		LOGIN_REPLIES,
		{200, NULL, WAIT(""), 0, false},
	};
	struct fake f;
	struct vi_session *s;
	struct changes ch = {0};
	struct vi_pc_handler h = {.on_change = on_change, .ud = &ch};
	char url[64], *version = NULL;
	bool truncated = true;
	struct err e;

	(void)state;
	s = fake_login(&f, script, 3, 0, url, sizeof(url));
	err_clear(&e);
	assert_string_equal(vi_get_service_content(s)->api_version, "7.0.3.0");
	/* no reply body: nothing changed, the version stays */
	/* a wait longer than the transport's timeout (5 s here) is shortened */
	assert_int_equal(vi_pc_wait(s, "12", 60, 0, &h, &version, &truncated, &e), 0);
	assert_string_equal(version, "12");
	assert_false(truncated);
	assert_int_equal(ch.n, 0);
	free(version);
	assert_int_equal(f.accepts, 1);
	assert_int_equal((int)f.nreq, 3);
	assert_non_null(strstr(f.req[0].data, "\r\nSOAPAction: urn:vim25/6.7\r\n"));
	assert_non_null(strstr(f.req[0].data, "\r\nContent-Type: text/xml; charset=utf-8\r\n"));
	assert_non_null(strstr(f.req[0].data, "\r\nAccept-Encoding: "));
	assert_non_null(strstr(strstr(f.req[0].data, "\r\nAccept-Encoding: "), "gzip"));
	assert_non_null(strstr(f.req[1].data, "<password>p</password>"));
	assert_non_null(strstr(f.req[2].data, "<version>12</version>"));
	assert_non_null(strstr(f.req[2].data, "<maxWaitSeconds>2</maxWaitSeconds>"));
	/* the session is closed by a Logout the script does not answer */
	vi_session_free(s);
	fake_stop(&f);
}

/* gzip (windowBits 31) of data. */
static size_t gzip(const char *data, size_t len, unsigned char *out, size_t size)
{
	z_stream z = {0};

	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)data;
	z.avail_in = (unsigned)len;
	z.next_out = out;
	z.avail_out = (unsigned)size;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return size - z.avail_out;
}

/* A gzip reply is decoded; the size cap counts decoded bytes (a gzip bomb stops). */
static void test_gzip_and_cap(void **state)
{
	static unsigned char small[4096], bomb[8192];
	static char big[1 << 20];
	const char *wait = WAIT("<returnval><version>7</version><filterSet><filter "
				"type=\"PropertyFilter\">f</filter><objectSet><kind>leave</kind>"
				"<obj type=\"VirtualMachine\">vm-1</obj></objectSet></filterSet>"
				"<truncated>false</truncated></returnval>");
	struct reply script[] = {
		LOGIN_REPLIES,
		{200, "Content-Encoding: gzip\r\n", (const char *)small, 0, false},
		{200, "Content-Encoding: gzip\r\n", (const char *)bomb, 0, false},
	};
	struct fake f;
	struct vi_session *s;
	struct changes ch = {0};
	struct vi_pc_handler h = {.on_change = on_change, .on_object_done = on_done, .ud = &ch};
	char url[64], *version = NULL;
	bool truncated = true;
	struct err e;
	size_t n;

	(void)state;
	script[2].len = gzip(wait, strlen(wait), small, sizeof(small));
	/* an endless version element: 1 MiB that compresses to about 1 KiB */
	n = (size_t)snprintf(big, sizeof(big), "%s",
			     "<?xml version=\"1.0\"?><soapenv:Envelope xmlns:soapenv=\"http://"
			     "schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>"
			     "<WaitForUpdatesExResponse xmlns=\"urn:vim25\"><returnval><version>");
	memset(big + n, ' ', sizeof(big) - n - 1);
	script[3].len = gzip(big, sizeof(big) - 1, bomb, sizeof(bomb));
	assert_true(script[3].len < 4096);
	s = fake_login(&f, script, 4, 256 << 10, url, sizeof(url));
	err_clear(&e);
	assert_int_equal(vi_pc_wait(s, "6", 0, 0, &h, &version, &truncated, &e), 0);
	assert_string_equal(version, "7");
	assert_int_equal(ch.leaves, 1);
	assert_int_equal(ch.done, 1);
	free(version);
	version = NULL;
	assert_int_equal(vi_pc_wait(s, "7", 0, 0, &h, &version, &truncated, &e), -1);
	if (e.kind != ERR_TOO_LARGE)
		fail_msg("%s: %s", err_kind_name(e.kind), e.msg);
	assert_null(version);
	vi_session_free(s);
	fake_stop(&f);
}

/* Well-formed replies that break the API's promises are errors, never crashes. */
static void test_hostile_updates(void **state)
{
	static const struct {
		const char *body;
		enum err_kind want;
	} cases[] = {
		/* an object without obj */
		{WAIT("<returnval><version>2</version><filterSet><objectSet><kind>enter</kind>"
		      "</objectSet></filterSet></returnval>"),
		 ERR_PROTOCOL},
		/* an unknown kind */
		{WAIT("<returnval><version>2</version><filterSet><objectSet><kind>explode</kind>"
		      "<obj "
		      "type=\"VirtualMachine\">vm-1</obj></objectSet></filterSet></returnval>"),
		 ERR_PROTOCOL},
		/* an unknown op */
		{WAIT("<returnval><version>2</version><filterSet><objectSet><kind>modify</kind>"
		      "<obj type=\"VirtualMachine\">vm-1</obj><changeSet><name>name</name><op>zap"
		      "</op></changeSet></objectSet></filterSet></returnval>"),
		 ERR_PROTOCOL},
		/* a change without a name */
		{WAIT("<returnval><version>2</version><filterSet><objectSet><kind>modify</kind>"
		      "<obj type=\"VirtualMachine\">vm-1</obj><changeSet><op>assign</op>"
		      "</changeSet></objectSet></filterSet></returnval>"),
		 ERR_PROTOCOL},
		/* obj without a type */
		{WAIT("<returnval><version>2</version><filterSet><objectSet><kind>enter</kind>"
		      "<obj>vm-1</obj></objectSet></filterSet></returnval>"),
		 ERR_PROTOCOL},
		/* not XML */
		{"{\"json\": true}", ERR_PARSE},
		/* cut short */
		{"<?xml version=\"1.0\"?><soapenv:Envelope "
		 "xmlns:soapenv=\"http://schemas.xmlsoap.org/"
		 "soap/envelope/\"><soapenv:Body><WaitForUpdatesExResponse><returnval><version>",
		 ERR_PARSE},
		/* an entity bomb */
		{"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
		 "\"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>" WAIT("<returnval><version>&b;</version>"
							      "</returnval>"),
		 ERR_PARSE},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reply script[] = {
			LOGIN_REPLIES,
			{200, NULL, cases[i].body, 0, false},
		};
		struct changes ch = {0};
		struct vi_pc_handler h = {.on_change = on_change, .ud = &ch};
		struct fake f;
		struct vi_session *s;
		char url[64], *version = NULL;
		bool truncated = false;
		struct err e;

		s = fake_login(&f, script, 3, 0, url, sizeof(url));
		err_clear(&e);
		assert_int_equal(vi_pc_wait(s, "1", 0, 0, &h, &version, &truncated, &e), -1);
		if (e.kind != cases[i].want)
			fail_msg("case %zu: %s (%s)", i, err_kind_name(e.kind), e.msg);
		assert_null(version);
		vi_session_free(s);
		fake_stop(&f);
	}
}

/* Updates of a filter the caller never created are skipped and reported once. */
static void on_foreign(void *ud, const char *filter)
{
	struct changes *ch = ud;

	ch->nforeign++;
	snprintf(ch->foreign, sizeof(ch->foreign), "%s", filter);
}

static void test_foreign_filter(void **state)
{
	static const struct reply script[] = {
		LOGIN_REPLIES,
		{200, NULL,
		 WAIT("<returnval><version>2</version><filterSet><filter type=\"PropertyFilter\">"
		      "other</filter><objectSet><kind>enter</kind><obj type=\"VirtualMachine\">"
		      "vm-1</obj><changeSet><name>name</name><op>assign</op><val "
		      "xsi:type=\"xsd:string\">a</val></changeSet></objectSet></filterSet>"
		      "<filterSet><filter type=\"PropertyFilter\">f</filter><objectSet><kind>enter"
		      "</kind><obj type=\"VirtualMachine\">vm-2</obj><changeSet><name>name</name>"
		      "<op>assign</op><val xsi:type=\"xsd:string\">b</val></changeSet></objectSet>"
		      "</filterSet></returnval>"),
		 0, false},
	};
	static const char *const mine[] = {"f", NULL};
	struct changes ch = {0};
	struct vi_pc_handler h = {.on_change = on_change,
				  .ud = &ch,
				  .filters = mine,
				  .on_foreign_filter = on_foreign};
	struct fake f;
	struct vi_session *s;
	char url[64], *version = NULL;
	bool truncated = false;
	struct err e;

	(void)state;
	s = fake_login(&f, script, 3, 0, url, sizeof(url));
	err_clear(&e);
	assert_int_equal(vi_pc_wait(s, "1", 0, 0, &h, &version, &truncated, &e), 0);
	assert_int_equal(ch.enters, 1); /* vm-2 only */
	assert_int_equal(ch.nforeign, 1);
	assert_string_equal(ch.foreign, "other");
	assert_string_equal(version, "2");
	free(version);
	vi_session_free(s);
	fake_stop(&f);
}

/* A version or a service-content string longer than VI_PC_TEXT_MAX is refused:
 * both are sent back or shown. */
static void test_long_server_strings(void **state)
{
	struct buf body;
	struct fake f;
	struct vi_session *s;
	char url[64], *version = NULL;
	bool truncated = false;
	struct changes ch = {0};
	struct vi_pc_handler h = {.on_change = on_change, .ud = &ch};
	struct err e;

	(void)state;
	buf_init(&body, 0);
	buf_adds(&body, TEST_ENV_OPEN "<WaitForUpdatesExResponse xmlns=\"urn:vim25\"><returnval>"
				      "<version>");
	for (int i = 0; i < VI_PC_TEXT_MAX + 1; i++)
		buf_addc(&body, 'v');
	buf_adds(&body, "</version></returnval></WaitForUpdatesExResponse>" TEST_ENV_CLOSE);
	assert_false(body.failed);
	{
		struct reply script[] = {LOGIN_REPLIES, {200, NULL, body.data, 0, false}};

		s = fake_login(&f, script, 3, 0, url, sizeof(url));
		err_clear(&e);
		assert_int_equal(vi_pc_wait(s, "1", 0, 0, &h, &version, &truncated, &e), -1);
		assert_int_equal(e.kind, ERR_PROTOCOL);
		assert_null(version);
		vi_session_free(s);
		fake_stop(&f);
	}
	buf_release(&body);

	buf_init(&body, 0);
	buf_adds(&body, TEST_ENV_OPEN
		 "<RetrieveServiceContentResponse xmlns=\"urn:vim25\">"
		 "<returnval><rootFolder type=\"Folder\">group-d1</rootFolder>"
		 "<propertyCollector type=\"PropertyCollector\">pc</propertyCollector>"
		 "<sessionManager type=\"SessionManager\">sm</sessionManager>"
		 "<about><apiVersion>");
	for (int i = 0; i < 4096; i++)
		buf_addc(&body, '7');
	buf_adds(&body, "</apiVersion></about></returnval></"
			"RetrieveServiceContentResponse>" TEST_ENV_CLOSE);
	assert_false(body.failed);
	{
		struct reply script[] = {{200, NULL, body.data, 0, false}};

		fake_start(&f, script, 1);
		s = session_on(&f, 0, url, sizeof(url));
		err_clear(&e);
		assert_int_equal(vi_session_login(s, &e), -1);
		assert_int_equal(e.kind, ERR_PROTOCOL);
		assert_null(vi_get_service_content(s));
		vi_session_free(s);
		fake_stop(&f);
	}
	buf_release(&body);
}

/* A server that hands out a token with no objects does not loop us forever. */
static void test_paging_without_progress(void **state)
{
	static const char *const paths[] = {"name", NULL};
	static const struct vi_prop_spec spec = {.type = "VirtualMachine", .paths = paths};
	static const struct reply script[] = {
		LOGIN_REPLIES,
		{200, NULL,
		 RETRIEVE("<returnval><token>t1</token>" VM_OBJ("vm-1", "a") "</returnval>"), 0,
		 false},
		{200, NULL,
		 ENV("<ContinueRetrievePropertiesExResponse "
		     "xmlns=\"urn:vim25\"><returnval><token>t2"
		     "</token></returnval></ContinueRetrievePropertiesExResponse>"),
		 0, false},
		{200, NULL,
		 ENV("<CancelRetrievePropertiesExResponse xmlns=\"urn:vim25\">"
		     "</CancelRetrievePropertiesExResponse>"),
		 0, false},
	};
	struct changes ch = {0};
	struct vi_pc_handler h = {.on_change = on_change, .on_object_done = on_done, .ud = &ch};
	struct fake f;
	struct vi_session *s;
	char url[64];
	int pages = -1;
	struct err e;

	(void)state;
	s = fake_login(&f, script, 5, 0, url, sizeof(url));
	err_clear(&e);
	assert_int_equal(vi_pc_retrieve(s, "session[1]view", &spec, 1, 1, &h, &pages, &e), -1);
	assert_int_equal(e.kind, ERR_PROTOCOL);
	assert_int_equal(pages, 2);
	assert_int_equal(ch.done, 1);
	assert_int_equal(requests_for(&f, "ContinueRetrievePropertiesEx"), 1);
	assert_int_equal(requests_for(&f, "CancelRetrievePropertiesEx"), 1);
	assert_non_null(strstr(f.req[2].data, "<maxObjects>1</maxObjects>"));
	assert_non_null(strstr(f.req[3].data, "<token>t1</token>"));
	vi_session_free(s);
	fake_stop(&f);
}

/* HTTP statuses without a SOAP answer, and NotAuthenticated that persists. */
static void test_status_and_relogin(void **state)
{
	static const char *const types[] = {"VirtualMachine"};
	static const struct reply script[] = {
		LOGIN_REPLIES,
		/* a redirect with no body */
		{302, "Location: https://elsewhere/\r\n", "", 0, false},
		/* a proxy's HTML error page */
		{502, NULL, "<html><body>Bad gateway</body></html>", 0, false},
		/* a 200 that is not SOAP */
		{200, NULL, "<html><body>login portal</body></html>", 0, false},
		/* NotAuthenticated, re-login, NotAuthenticated again: returned, no loop */
		{500, NULL, FAULT("NotAuthenticated"), 0, false},
		{200, NULL, LOGIN_OK, 0, false},
		{500, NULL, FAULT("NotAuthenticated"), 0, false},
		/* InvalidLogin on the re-login is ERR_AUTH */
		{500, NULL, FAULT("NotAuthenticated"), 0, false},
		{500, NULL, FAULT("InvalidLogin"), 0, false},
	};
	struct fake f;
	struct vi_session *s;
	char url[64], *view = NULL;
	struct err e;

	(void)state;
	s = fake_login(&f, script, sizeof(script) / sizeof(script[0]), 0, url, sizeof(url));
	err_clear(&e);
	assert_int_equal(vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e), -1);
	assert_int_equal(e.kind, ERR_HTTP);
	assert_int_equal(e.http_status, 302);
	err_clear(&e);
	assert_int_equal(vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e), -1);
	assert_int_equal(e.kind, ERR_HTTP);
	assert_int_equal(e.http_status, 502);
	err_clear(&e);
	assert_int_equal(vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e), -1);
	assert_true(e.kind == ERR_PARSE || e.kind == ERR_PROTOCOL);
	err_clear(&e);
	assert_int_equal(vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	assert_string_equal(e.fault, "NotAuthenticated");
	assert_int_equal(e.http_status, 500);
	assert_int_equal(vi_session_login_count(s), 2);
	err_clear(&e);
	assert_int_equal(vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e), -1);
	assert_int_equal(e.kind, ERR_AUTH);
	assert_string_equal(e.fault, "InvalidLogin");
	assert_false(vi_session_logged_in(s));
	assert_null(view);
	assert_int_equal(requests_for(&f, "Login"), 3);
	vi_session_free(s);
	fake_stop(&f);
}

/* What a handler saw of faults: missing properties and missing objects. */
struct faults_seen {
	int props, objects, unset;
	char prop_fault[64], prop_path[64], obj_fault[64], obj_moref[64];
};

static int on_fault_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct faults_seen *fs = ud;

	(void)e;
	if (!c->fault) {
		if (c->kind != VI_OBJ_LEAVE && !c->value)
			fs->unset++;
		return 0;
	}
	assert_null(c->value);
	if (c->kind == VI_OBJ_LEAVE) {
		assert_null(c->path);
		fs->objects++;
		snprintf(fs->obj_fault, sizeof(fs->obj_fault), "%s", c->fault);
		snprintf(fs->obj_moref, sizeof(fs->obj_moref), "%s", c->moref);
	} else {
		assert_int_equal(c->op, VI_OP_ASSIGN);
		fs->props++;
		snprintf(fs->prop_fault, sizeof(fs->prop_fault), "%s", c->fault);
		snprintf(fs->prop_path, sizeof(fs->prop_path), "%s", c->path);
	}
	return 0;
}

/* A property the server cannot read and an object the filter lost carry
 * their fault: they are not mistaken for "unset" or silently dropped. */
static void test_missing_set(void **state)
{
	static const struct reply script[] = {
		LOGIN_REPLIES,
		{200, NULL,
		 WAIT("<returnval><version>2</version><filterSet><filter type=\"PropertyFilter\">f"
		      "</filter><objectSet><kind>enter</kind><obj type=\"VirtualMachine\">vm-1"
		      "</obj><changeSet><name>name</name><op>assign</op><val "
		      "xsi:type=\"xsd:string\">"
		      "a</val></changeSet><changeSet><name>config.annotation</name><op>assign</op>"
		      "</changeSet><missingSet><path>summary.quickStats</path><fault><fault "
		      "xsi:type=\"NoPermission\"><privilegeId>System.Read</privilegeId></fault>"
		      "<localizedMessage>no</localizedMessage></fault></missingSet></objectSet>"
		      "<missingSet><obj type=\"VirtualMachine\">vm-2</obj><fault><fault xsi:type="
		      "\"ManagedObjectNotFound\"></fault></fault></missingSet></filterSet>"
		      "</returnval>"),
		 0, false},
	};
	struct faults_seen fs = {0};
	struct vi_pc_handler h = {.on_change = on_fault_change, .ud = &fs};
	struct fake f;
	struct vi_session *s;
	char url[64], *version = NULL;
	bool truncated = false;
	struct err e;

	(void)state;
	s = fake_login(&f, script, 3, 0, url, sizeof(url));
	err_clear(&e);
	assert_int_equal(vi_pc_wait(s, "1", 0, 0, &h, &version, &truncated, &e), 0);
	assert_string_equal(version, "2");
	assert_int_equal(fs.props, 1);
	assert_string_equal(fs.prop_path, "summary.quickStats");
	assert_string_equal(fs.prop_fault, "NoPermission");
	assert_int_equal(fs.unset, 1); /* config.annotation: unset, no fault */
	assert_int_equal(fs.objects, 1);
	assert_string_equal(fs.obj_moref, "vm-2");
	assert_string_equal(fs.obj_fault, "ManagedObjectNotFound");
	free(version);
	vi_session_free(s);
	fake_stop(&f);
}

/* ContinueRetrievePropertiesEx fails before a new token: the one we hold is
 * still cancelled, so the server frees the rest of the result. */
static void test_continue_fails_cancels(void **state)
{
	static const char *const paths[] = {"name", NULL};
	static const struct vi_prop_spec spec = {.type = "VirtualMachine", .paths = paths};
	static const struct reply script[] = {
		LOGIN_REPLIES,
		{200, NULL,
		 RETRIEVE("<returnval><token>t1</token>" VM_OBJ("vm-1", "a") "</returnval>"), 0,
		 false},
		{500, NULL, FAULT("SystemError"), 0, false},
		{200, NULL,
		 ENV("<CancelRetrievePropertiesExResponse xmlns=\"urn:vim25\">"
		     "</CancelRetrievePropertiesExResponse>"),
		 0, false},
	};
	struct changes ch = {0};
	struct vi_pc_handler h = {.on_change = on_change, .ud = &ch};
	struct fake f;
	struct vi_session *s;
	char url[64];
	int pages = -1;
	struct err e;

	(void)state;
	s = fake_login(&f, script, 5, 0, url, sizeof(url));
	err_clear(&e);
	assert_int_equal(vi_pc_retrieve(s, "session[1]view", &spec, 1, 1, &h, &pages, &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	assert_string_equal(e.fault, "SystemError");
	assert_int_equal(pages, 1);
	assert_int_equal(requests_for(&f, "CancelRetrievePropertiesEx"), 1);
	assert_non_null(strstr(f.req[4].data, "<token>t1</token>"));
	vi_session_free(s);
	fake_stop(&f);
}

/* A session-bound call is not resent after the re-login: the caller is told
 * to rebuild; a plain call is resent once. */
static void test_bound_call_not_resent(void **state)
{
	static const struct reply script[] = {
		LOGIN_REPLIES,
		{500, NULL, FAULT("NotAuthenticated"), 0, false},
		{200, NULL, LOGIN_OK, 0, false},
		{200, NULL, WAIT("<returnval><version>9</version></returnval>"), 0, false},
	};
	struct changes ch = {0};
	struct vi_pc_handler h = {.on_change = on_change, .ud = &ch};
	struct fake f;
	struct vi_session *s;
	char url[64], *version = NULL;
	bool truncated = false;
	struct err e;

	(void)state;
	s = fake_login(&f, script, 5, 0, url, sizeof(url));
	err_clear(&e);
	assert_int_equal(vi_pc_wait(s, "7", 0, 0, &h, &version, &truncated, &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	assert_string_equal(e.fault, "NotAuthenticated");
	assert_true(vi_session_renewed(&e));
	assert_non_null(strstr(e.msg, "WaitForUpdatesEx: the session expired and was renewed"));
	assert_null(version);
	assert_true(vi_session_logged_in(s));
	assert_int_equal(vi_session_login_count(s), 2);
	assert_int_equal(requests_for(&f, "WaitForUpdatesEx"), 1);
	/* the caller starts over on the new session */
	err_clear(&e);
	assert_int_equal(vi_pc_wait(s, NULL, 0, 0, &h, &version, &truncated, &e), 0);
	assert_string_equal(version, "9");
	assert_false(vi_session_renewed(&e));
	free(version);
	vi_session_free(s);
	fake_stop(&f);
}

/* A long password made only of XML metacharacters (3000 of them: the Login
 * body's worst escaping, six times its length) goes out whole and escaped, and
 * so does the user name. (Whether the body is ever reallocated on the way is
 * not observable here.) */
static void test_login_escapes_long_password(void **state)
{
	static const struct reply script[] = {
		LOGIN_REPLIES,
	};
	struct vi_session_opts o = {0};
	struct fake f;
	struct vi_session *s;
	char url[64], password[3001];
	struct buf want;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < 3000; i++)
		password[i] = "\"&<>'"[i % 5];
	password[3000] = '\0';
	fake_start(&f, script, 2);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/sdk", f.port);
	o.http.url = url;
	o.http.timeout_ms = 5000;
	o.username = "u&<>";
	o.password = password;
	err_clear(&e);
	s = vi_session_new(&o, &e);
	assert_non_null(s);
	assert_int_equal(vi_session_login(s, &e), 0);
	buf_init(&want, 0);
	buf_adds(&want, "<password>");
	for (i = 0; i < 600; i++)
		buf_adds(&want, "&quot;&amp;&lt;&gt;&apos;");
	buf_adds(&want, "</password>");
	assert_int_equal(want.len, strlen("<password></password>") + 600 * 25);
	assert_non_null(strstr(f.req[1].data, want.data));
	assert_non_null(strstr(f.req[1].data, "<userName>u&amp;&lt;&gt;</userName>"));
	buf_release(&want);
	vi_session_free(s);
	fake_stop(&f);
}

#define VIEW_REPLY                                                                                 \
	ENV("<CreateContainerViewResponse xmlns=\"urn:vim25\"><returnval type=\"ContainerView\">"  \
	    "session[1]view</returnval></CreateContainerViewResponse>")

/* The container's type is the caller's, not guessed from its moref; NULL is
 * the root folder. */
static void test_create_view_container_type(void **state)
{
	static const char *const types[] = {"VirtualMachine"};
	static const struct reply script[] = {
		LOGIN_REPLIES,
		{200, NULL, VIEW_REPLY, 0, false},
		{200, NULL, VIEW_REPLY, 0, false},
	};
	struct fake f;
	struct vi_session *s;
	char url[64], *view = NULL;
	struct err e;

	(void)state;
	s = fake_login(&f, script, 4, 0, url, sizeof(url));
	err_clear(&e);
	assert_int_equal(vi_pc_create_view(s, "Datacenter", "dc-east", types, 1, &view, &e), 0);
	assert_string_equal(view, "session[1]view");
	free(view);
	view = NULL;
	assert_int_equal(vi_pc_create_view(s, "ignored", NULL, types, 1, &view, &e), 0);
	free(view);
	view = NULL;
	assert_int_equal(vi_pc_create_view(s, NULL, "dc-east", types, 1, &view, &e), -1);
	assert_int_equal(e.kind, ERR_INVALID);
	assert_null(view);
	assert_non_null(
		strstr(f.req[2].data, "<container type=\"Datacenter\">dc-east</container>"));
	assert_non_null(strstr(f.req[3].data, "<container type=\"Folder\">group-d1</container>"));
	assert_int_equal((int)f.nreq, 4);
	vi_session_free(s);
	fake_stop(&f);
}

/* The recent-task filter uses the TaskManager of the service content: no
 * second RetrieveServiceContent. */
static void test_task_filter_one_round_trip(void **state)
{
	static const struct reply script[] = {
		{200, NULL,
		 ENV("<RetrieveServiceContentResponse xmlns=\"urn:vim25\"><returnval>"
		     "<rootFolder type=\"Folder\">group-d1</rootFolder>"
		     "<propertyCollector type=\"PropertyCollector\">propertyCollector"
		     "</propertyCollector><viewManager type=\"ViewManager\">ViewManager"
		     "</viewManager><sessionManager type=\"SessionManager\">SessionManager"
		     "</sessionManager><taskManager type=\"TaskManager\">TaskManager</taskManager>"
		     "</returnval></RetrieveServiceContentResponse>"),
		 0, false},
		{200, NULL, LOGIN_OK, 0, false},
		{200, NULL,
		 ENV("<CreateFilterResponse xmlns=\"urn:vim25\"><returnval type=\"PropertyFilter\">"
		     "f9</returnval></CreateFilterResponse>"),
		 0, false},
	};
	struct fake f;
	struct vi_session *s;
	char url[64], *filter = NULL;
	struct err e;

	(void)state;
	s = fake_login(&f, script, 3, 0, url, sizeof(url));
	err_clear(&e);
	assert_string_equal(vi_get_service_content(s)->task_manager, "TaskManager");
	assert_int_equal(vi_pc_create_task_filter(s, &filter, &e), 0);
	assert_string_equal(filter, "f9");
	assert_int_equal((int)f.nreq, 3);
	assert_int_equal(requests_for(&f, "RetrieveServiceContent"), 1);
	assert_non_null(strstr(f.req[2].data, "<obj type=\"TaskManager\">TaskManager</obj>"));
	assert_non_null(strstr(f.req[2].data, "<type>Task</type><all>false</all>"
					      "<pathSet>info</pathSet>"));
	free(filter);
	vi_session_free(s);
	fake_stop(&f);
}

/* Task methods: a reply without a task, and a task that failed. */
static void test_task_replies(void **state)
{
	static const struct reply script[] = {
		LOGIN_REPLIES,
		{200, NULL,
		 ENV("<PowerOnVM_TaskResponse xmlns=\"urn:vim25\"></PowerOnVM_TaskResponse>"), 0,
		 false},
		{200, NULL,
		 ENV("<PowerOnVM_TaskResponse xmlns=\"urn:vim25\"><returnval type=\"Task\">task-9"
		     "</returnval></PowerOnVM_TaskResponse>"),
		 0, false},
		{200, NULL,
		 ENV("<CreatePropertyCollectorResponse xmlns=\"urn:vim25\"><returnval type="
		     "\"PropertyCollector\">pc-private</returnval></"
		     "CreatePropertyCollectorResponse>"),
		 0, false},
		{200, NULL,
		 ENV("<CreateFilterResponse xmlns=\"urn:vim25\"><returnval type=\"PropertyFilter\">"
		     "f1</returnval></CreateFilterResponse>"),
		 0, false},
		{200, NULL,
		 WAIT("<returnval><version>1</version><filterSet><filter type=\"PropertyFilter\">f1"
		      "</filter><objectSet><kind>enter</kind><obj type=\"Task\">task-9</obj>"
		      "<changeSet><name>info</name><op>assign</op><val xsi:type=\"TaskInfo\"><key>"
		      "task-9</key><task type=\"Task\">task-9</task><name>PowerOnVM_Task</name>"
		      "<descriptionId>VirtualMachine.powerOn</descriptionId><entity type="
		      "\"VirtualMachine\">vm-1</entity><state>error</state><cancelled>false"
		      "</cancelled><cancelable>false</cancelable><error><fault xsi:type="
		      "\"InvalidPowerState\"><requestedState>poweredOn</requestedState>"
		      "<existingState>poweredOn</existingState></fault><localizedMessage>The "
		      "attempted operation cannot be performed in the current state (Powered on)."
		      "</localizedMessage></error><queueTime>2026-11-21T12:00:00Z</queueTime>"
		      "<eventChainId>1</eventChainId></val></changeSet></objectSet></filterSet>"
		      "</returnval>"),
		 0, false},
		{200, NULL,
		 ENV("<DestroyPropertyCollectorResponse xmlns=\"urn:vim25\">"
		     "</DestroyPropertyCollectorResponse>"),
		 0, false},
	};
	struct vi_task_info info = {0};
	struct fake f;
	struct vi_session *s;
	char url[64], *task = NULL;
	struct err e;

	(void)state;
	s = fake_login(&f, script, sizeof(script) / sizeof(script[0]), 0, url, sizeof(url));
	err_clear(&e);
	assert_int_equal(vi_vm_power_on(s, "vm-1", &task, &e), -1);
	assert_int_equal(e.kind, ERR_PROTOCOL);
	assert_null(task);
	err_clear(&e);
	assert_int_equal(vi_vm_power_on(s, "vm-1", &task, &e), 0);
	assert_string_equal(task, "task-9");
	assert_int_equal(vi_task_wait(s, task, 10, NULL, NULL, &info, &e), -1);
	assert_int_equal(e.kind, ERR_TASK);
	assert_string_equal(e.fault, "InvalidPowerState");
	assert_non_null(strstr(e.msg, "Powered on"));
	assert_string_equal(info.state, "error");
	/* a private collector, made from the session's, carries the filter and
	 * the wait, and is destroyed at the end */
	assert_non_null(strstr(f.req[4].data, "<CreatePropertyCollector"));
	assert_non_null(strstr(f.req[4].data, ">propertyCollector</_this>"));
	assert_non_null(strstr(f.req[5].data, "<CreateFilter"));
	assert_non_null(strstr(f.req[5].data, ">pc-private</_this>"));
	assert_non_null(strstr(f.req[5].data, "<obj type=\"Task\">task-9</obj>"));
	assert_non_null(strstr(f.req[5].data, "<pathSet>info</pathSet>"));
	assert_non_null(strstr(f.req[6].data, "<WaitForUpdatesEx"));
	assert_non_null(strstr(f.req[6].data, ">pc-private</_this>"));
	assert_int_equal(requests_for(&f, "DestroyPropertyCollector"), 1);
	assert_non_null(strstr(f.req[7].data, ">pc-private</_this>"));
	vi_task_info_release(&info);
	free(task);
	vi_session_free(s);
	fake_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_headers_keepalive),
		cmocka_unit_test(test_gzip_and_cap),
		cmocka_unit_test(test_hostile_updates),
		cmocka_unit_test(test_paging_without_progress),
		cmocka_unit_test(test_status_and_relogin),
		cmocka_unit_test(test_task_replies),
		cmocka_unit_test(test_foreign_filter),
		cmocka_unit_test(test_long_server_strings),
		cmocka_unit_test(test_missing_set),
		cmocka_unit_test(test_continue_fails_cancels),
		cmocka_unit_test(test_bound_call_not_resent),
		cmocka_unit_test(test_login_escapes_long_password),
		cmocka_unit_test(test_create_view_container_type),
		cmocka_unit_test(test_task_filter_one_round_trip),
	};

	return cmocka_run_group_tests_name("pc", tests, NULL, NULL);
}

/* agent/http: libmicrohttpd server for /metrics (cached, gzip), /healthz, the JSON API and the on-call page. */
#include "agent/http.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/api.h"
#include "agent/metrics.h"
#include "agent/page.h"
#include "agent/process.h"
#include "agent/remediation.h"
#include "util/log.h"

#define HTTP_THREADS	   2
#define HTTP_MAX_CONNS	   256
#define HTTP_CONN_MEMORY   (32 * 1024) /* request line + headers */
#define HTTP_IDLE_TIMEOUT  30	       /* seconds */
#define HTTP_STACK_TARGETS 16
#define HTTP_PER_IP_CONNS  32  /* one client cannot take every connection */
#define HTTP_LOG_BACKOFF   600 /* seconds between repeated libmicrohttpd warnings, at most */
/* Seconds a request has for its request line and headers, however it trickles them
 * (libmicrohttpd's timeout is an idle one: each byte restarts it). */
#define HTTP_HEADER_DEADLINE 10
#define HTTP_MAX_ACTIONS     16 /* POST actions running at once, at most */

#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_JSON	   "application/json"
#define CT_TEXT	   "text/plain; charset=utf-8"

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_source src;
	struct metrics_cache *cache;
	struct process_metrics *process; /* process_* and vimon_build_info */
	/* The newest page served (with our reference) and its gzip response,
	 * created on first use. Only a page with a larger build number replaces
	 * it, so a scrape never goes back in time. */
	pthread_mutex_t resp_lock;
	struct metrics_page *resp_page;
	struct MHD_Response *resp; /* over resp_page's gzip body */
	/* libmicrohttpd's messages (a client flood would repeat them) */
	pthread_mutex_t log_lock;
	struct log_backoff log_backoff;
	/* Fixed replies, created once and queued by every request that wants them. */
	struct MHD_Response *healthz, *not_found, *not_allowed;
	struct MHD_Response *not_allowed_post; /* 405 for the POST actions */
	struct MHD_Response *bad_request;
	char address[96];
	/* Open connections and their header deadlines, checked by the reaper thread. */
	pthread_mutex_t conns_lock;
	pthread_cond_t reaper_cond;
	struct http_conn *conns;
	pthread_t reaper;
	bool reaper_started, reaper_stop;
	/* HTTPS: the PEM certificate and key (wiped at stop); NULL: plain HTTP */
	char *cert_pem, *key_pem;
	size_t key_len;
	/* basic auth: users and bcrypt hashes (nusers 0: none), and the digest of
	 * the last credentials that passed, so a scraper costs one bcrypt, not one
	 * per scrape */
	char **users, **hashes;
	size_t nusers;
	pthread_mutex_t auth_lock;
	unsigned char auth_ok[32];
	bool auth_ok_set;
	struct MHD_Response *unauthorized;
	/* POST actions run on their own threads while their connection is
	 * suspended, so that a slow AnswerVM or power task never holds one of
	 * the few server threads that /metrics needs; http_stop waits for them */
	pthread_mutex_t act_lock;
	pthread_cond_t act_done;
	unsigned act_running;
};

/*
 * One open connection (its socket context). deadline (monotonic seconds, 0:
 * none) is when the reaper shuts the socket down: HTTP_HEADER_DEADLINE after
 * it opened or after a request line arrived, HTTP_IDLE_TIMEOUT after a reply
 * (the next request must have come by then); none while a request is served.
 * The entry is unlinked (under conns_lock) before libmicrohttpd closes fd, so
 * the reaper never touches a descriptor that was reused.
 */
struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	double deadline;
};

/* Every libmicrohttpd message at debug; a warning at most every so often. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;
	unsigned long suppressed = 0;
	char msg[512];
	size_t n;
	bool due;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	pthread_mutex_lock(&s->log_lock);
	due = log_backoff_due(&s->log_backoff, time(NULL), &suppressed);
	pthread_mutex_unlock(&s->log_lock);
	if (!due)
		log_msg(LOG_LEVEL_DEBUG, "http: %s", msg);
	else if (suppressed)
		log_msg(LOG_LEVEL_WARN, "http: %s (%lu similar messages since the last one)", msg,
			suppressed);
	else
		log_msg(LOG_LEVEL_WARN, "http: %s", msg);
}

/* A response over a static string, with its content type. */
static struct MHD_Response *static_response(const char *body, const char *type)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (r && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) {
		MHD_destroy_response(r);
		r = NULL;
	}
	return r;
}

/*
 * The current snapshots: in stack when they fit, else in a malloc'd array
 * (*snaps != stack: the caller frees it). Returns their count.
 */
static size_t get_snapshots(struct http_server *s, struct snapshot **stack,
			    struct snapshot ***snaps, unsigned long *epoch)
{
	struct snapshot **heap;
	size_t n, m, i;

	*snaps = stack;
	n = s->src.snapshots(s->src.ud, stack, HTTP_STACK_TARGETS, epoch);
	if (n <= HTTP_STACK_TARGETS)
		return n;
	for (i = 0; i < HTTP_STACK_TARGETS; i++)
		snapshot_put(stack[i]);
	for (;;) {
		heap = calloc(n, sizeof(*heap));
		if (!heap)
			return 0;
		m = s->src.snapshots(s->src.ud, heap, n, epoch);
		if (m <= n) {
			*snaps = heap;
			return m;
		}
		for (i = 0; i < n; i++)
			snapshot_put(heap[i]);
		free(heap);
		n = m;
	}
}

static void put_snapshots(struct snapshot **stack, struct snapshot **snaps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		snapshot_put(snaps[i]);
	if (snaps != stack)
		free(snaps);
}

static void page_free_cb(void *cls)
{
	metrics_page_put(cls);
}

static enum MHD_Result queue_and_drop(struct MHD_Connection *c, unsigned status,
				      struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve_error(struct MHD_Connection *c, const char *what)
{
	static const char body[] = "internal error\n";
	struct MHD_Response *r;

	log_msg(LOG_LEVEL_ERROR, "http: %s", what);
	r = static_response(body, CT_TEXT);
	return queue_and_drop(c, MHD_HTTP_INTERNAL_SERVER_ERROR, r);
}

static ssize_t plain_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	long n;

	(void)pos; /* the reader is sequential, and MHD reads in order */
	n = metrics_reader_read(cls, buf, max);
	if (n < 0) {
		log_msg(LOG_LEVEL_ERROR, "http: /metrics: the page does not inflate");
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void plain_free(void *cls)
{
	metrics_reader_free(cls);
}

/* A response over the page's plain body, inflated from its gzip body as it is
 * sent (a request of its own: the reader is sequential). */
static struct MHD_Response *plain_response(struct metrics_page *page)
{
	struct metrics_reader *rd = metrics_reader_new(page);
	struct MHD_Response *r;

	if (!rd)
		return NULL;
	r = MHD_create_response_from_callback(page->len, 64 * 1024, plain_read, rd, plain_free);
	if (!r)
		metrics_reader_free(rd);
	return r;
}

/* A response over the page's plain or gzip body; it holds its own page reference. */
static struct MHD_Response *page_response(struct metrics_page *page, int gzip)
{
	struct MHD_Response *r;

	if (gzip) {
		metrics_page_ref(page);
		r = MHD_create_response_from_buffer_with_free_callback_cls(
			page->gzlen, (void *)page->gz, page_free_cb, page);
		if (!r)
			metrics_page_put(page);
	} else {
		r = plain_response(page);
	}
	if (!r)
		return NULL;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_METRICS) != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING) !=
		    MHD_YES ||
	    (gzip &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") != MHD_YES)) {
		MHD_destroy_response(r);
		return NULL;
	}
	return r;
}

/* Appends the process snapshot to the n snapshots in *snaps (moving them to
 * the heap when stack is full); *n counts it. 0, or -1 when out of memory
 * (*snaps and *n then still hold the targets' snapshots). */
static int with_process(struct http_server *s, struct snapshot **stack, struct snapshot ***snaps,
			size_t *n)
{
	struct snapshot *p = process_metrics_get(s->process), **all;

	if (!p)
		return -1;
	if (*snaps == stack && *n < HTTP_STACK_TARGETS) {
		stack[(*n)++] = p;
		return 0;
	}
	all = realloc(*snaps == stack ? NULL : *snaps, (*n + 1) * sizeof(*all));
	if (!all) {
		snapshot_put(p);
		return -1;
	}
	if (*snaps == stack)
		memcpy(all, stack, *n * sizeof(*all));
	all[(*n)++] = p;
	*snaps = all;
	return 0;
}

static enum MHD_Result serve_metrics(struct http_server *s, struct MHD_Connection *c)
{
	struct snapshot *stack[HTTP_STACK_TARGETS], **snaps;
	struct metrics_page *page = NULL, *old_page = NULL;
	struct MHD_Response *old = NULL, *r;
	enum MHD_Result ret = MHD_NO;
	unsigned long epoch = 0;
	const char *ae;
	struct err e;
	size_t n;
	int gzip, rc;

	err_clear(&e);
	n = get_snapshots(s, stack, &snaps, &epoch);
	rc = with_process(s, stack, &snaps, &n);
	if (rc == 0)
		rc = metrics_cache_get(s->cache, epoch, snaps, n, &page, &e);
	else
		err_set(&e, ERR_NOMEM, "building /metrics: out of memory");
	put_snapshots(stack, snaps, n);
	if (rc < 0)
		return serve_error(c, e.msg);
	ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	gzip = metrics_accepts_gzip(ae) ? 1 : 0;
	if (!gzip) {
		/* inflated for this request: a response object of its own */
		r = page_response(page, 0);
		metrics_page_put(page);
		return r ? queue_and_drop(c, MHD_HTTP_OK, r) : serve_error(c, "out of memory");
	}
	/*
	 * One gzip response object per page, queued by every request while the
	 * page is current (MHD counts its users): no copy of the body and no
	 * allocation per scrape. Pages are compared by build number: a request
	 * that got its page before another request installed a newer one serves
	 * the newer one, never reinstalls its own.
	 */
	pthread_mutex_lock(&s->resp_lock);
	if (!s->resp_page || page->build > s->resp_page->build) {
		old = s->resp;
		s->resp = NULL;
		old_page = s->resp_page;
		metrics_page_ref(page);
		s->resp_page = page;
	}
	/* an older page (another request installed a newer one meanwhile) is not served */
	if (!s->resp)
		s->resp = page_response(s->resp_page, 1);
	r = s->resp;
	if (r)
		ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	pthread_mutex_unlock(&s->resp_lock);
	/* Connections still sending the old page keep it alive through MHD. */
	if (old)
		MHD_destroy_response(old);
	metrics_page_put(old_page);
	metrics_page_put(page);
	return ret;
}

/* Queues a JSON body (malloc'd, taken; NULL: out of memory) with status. */
static enum MHD_Result queue_json(struct MHD_Connection *c, unsigned status, char *body, size_t len)
{
	struct MHD_Response *r;

	if (!body)
		return serve_error(c, "rendering a JSON reply: out of memory");
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_JSON) != MHD_YES ||
	    (status == MHD_HTTP_UNAUTHORIZED &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer") != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	return queue_and_drop(c, status, r);
}

static enum MHD_Result serve_api(struct http_server *s, struct MHD_Connection *c,
				 enum api_list what)
{
	struct snapshot *stack[HTTP_STACK_TARGETS], **snaps;
	unsigned long epoch = 0;
	size_t n, len = 0;
	char *body;

	n = get_snapshots(s, stack, &snaps, &epoch);
	body = api_render(what, snaps, n, &len);
	put_snapshots(stack, snaps, n);
	return queue_json(c, MHD_HTTP_OK, body, len);
}

/* /api/v1/tasks[?state=LIST]: an unknown state is a 400 saying which are known. */
static enum MHD_Result serve_tasks(struct http_server *s, struct MHD_Connection *c)
{
	static const char bad[] = "invalid state: want a comma-separated list of queued, running, "
				  "success, error, active\n";
	struct snapshot *stack[HTTP_STACK_TARGETS], **snaps;
	const char *arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "state");
	unsigned long epoch = 0;
	size_t n, len = 0;
	unsigned states;
	char *body;

	if (api_task_states(arg, &states) < 0)
		return queue_and_drop(c, MHD_HTTP_BAD_REQUEST, static_response(bad, CT_TEXT));
	n = get_snapshots(s, stack, &snaps, &epoch);
	body = api_render_tasks(snaps, n, states, &len);
	put_snapshots(stack, snaps, n);
	return queue_json(c, MHD_HTTP_OK, body, len);
}

/* The on-call page's headers (agent/page.h) and content type on r; r is destroyed on failure. */
static struct MHD_Response *page_headers_on(struct MHD_Response *r, const char *type)
{
	size_t i;

	if (!r)
		return NULL;
	for (i = 0; i < page_nheaders; i++)
		if (MHD_add_response_header(r, page_headers[i].name, page_headers[i].value) !=
		    MHD_YES)
			goto out_destroy;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES)
		goto out_destroy;
	return r;
out_destroy:
	MHD_destroy_response(r);
	return NULL;
}

/* The on-call page: / or /questions/TARGET/VM_ID (agent/page.c renders it). */
static enum MHD_Result serve_page(struct http_server *s, struct MHD_Connection *c, const char *url)
{
	struct snapshot *stack[HTTP_STACK_TARGETS], **snaps;
	char target[256], vm_id[128], *body, *decisions;
	struct page_input in = {0};
	unsigned long epoch = 0;
	struct timespec ts;
	size_t n, len = 0;
	int status = 200;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = get_snapshots(s, stack, &snaps, &epoch);
	in.snaps = snaps;
	in.n = n;
	in.now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	in.answer = http_actions_enabled(s);
	/* the remediation module's recent decisions (the audit), when it runs */
	decisions = s->src.get ? s->src.get(s->src.ud, "/api/v1/remediation", &len) : NULL;
	in.decisions = decisions;
	if (strcmp(url, "/") == 0)
		body = page_render_index(&in, &len);
	else if (page_question_path(url, target, sizeof(target), vm_id, sizeof(vm_id)) == 0)
		body = page_render_question(&in, target, vm_id, &status, &len);
	else
		body = NULL;
	free(decisions);
	put_snapshots(stack, snaps, n);
	if (!body && strcmp(url, "/") != 0 && status == 200)
		return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, s->not_found);
	if (!body)
		return serve_error(c, "rendering the page: out of memory or over the size limit");
	return queue_and_drop(
		c, (unsigned)status,
		page_headers_on(MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE),
				"text/html; charset=utf-8"));
}

/* A file of the page (script, style sheet, icon) from the binary. */
static enum MHD_Result serve_static(struct MHD_Connection *c, const struct page_static *f)
{
	return queue_and_drop(
		c, MHD_HTTP_OK,
		page_headers_on(MHD_create_response_from_buffer(strlen(f->body), (void *)f->body,
								MHD_RESPMEM_PERSISTENT),
				f->type));
}

/* A POST action's request while its body arrives over several calls. */
struct post_ctx {
	struct buf body;
	size_t seen; /* body bytes received */
	bool too_large;
	/* the action, run on a thread of its own (see serve_action) */
	enum { POST_GATHERING, POST_RUNNING, POST_DONE } state;
	struct http_server *s;
	struct MHD_Connection *c;
	const char *url; /* a static string */
	char client[64];
	char *reply;
	size_t reply_len;
	unsigned status;
};

/* A chunked body over the cap is discarded up to this much before the 413. */
#define HTTP_DISCARD_MAX (1024 * 1024)

static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct post_ctx *p = *con_cls;

	(void)c;
	(void)toe;
	if (!p || *con_cls == s)
		return;
	buf_release(&p->body);
	free(p->reply);
	free(p);
	*con_cls = NULL;
}

/* A fixed {"result","message"} reply. */
static enum MHD_Result queue_refusal(struct MHD_Connection *c, unsigned status, const char *result,
				     const char *message)
{
	struct buf b;

	buf_init(&b, 0);
	buf_addf(&b, "{\n  \"result\": \"%s\",\n  \"message\": \"%s\"\n}\n", result, message);
	if (b.failed) {
		buf_release(&b);
		return serve_error(c, "HTTP action: out of memory");
	}
	return queue_json(c, status, buf_detach(&b, NULL), b.len);
}

/* The client's numeric address, for the audit log. */
static void client_address(struct MHD_Connection *c, char *out, size_t sz)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	socklen_t len = 0;

	snprintf(out, sz, "?");
	if (!sa)
		return;
	len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (getnameinfo(sa, len, out, (socklen_t)sz, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, sz, "?");
}

/* The thread of one POST action: runs it, then resumes its connection. */
static void *action_main(void *arg)
{
	struct post_ctx *p = arg;
	struct http_server *s = p->s;

	p->status = s->src.post(s->src.ud, p->url, p->body.data, p->body.len, p->client, &p->reply,
				&p->reply_len);
	p->state = POST_DONE;
	/* p belongs to the connection again from here on */
	MHD_resume_connection(p->c);
	pthread_mutex_lock(&s->act_lock);
	s->act_running--;
	pthread_cond_broadcast(&s->act_done);
	pthread_mutex_unlock(&s->act_lock);
	return NULL;
}

/* Starts p's action on a thread of its own with the connection suspended:
 * 0 (without a thread, p is done with a 503), or -1 when too many run already. */
static int action_start(struct http_server *s, struct MHD_Connection *c, struct post_ctx *p,
			const char *url)
{
	pthread_attr_t attr;
	pthread_t tid;
	int rc = -1;

	p->s = s;
	p->c = c;
	p->url = strcmp(url, "/api/v1/vms/power") == 0 ? "/api/v1/vms/power"
						       : "/api/v1/questions/answer";
	pthread_mutex_lock(&s->act_lock);
	if (s->act_running >= HTTP_MAX_ACTIONS) {
		pthread_mutex_unlock(&s->act_lock);
		return -1;
	}
	s->act_running++;
	pthread_mutex_unlock(&s->act_lock);
	p->state = POST_RUNNING;
	MHD_suspend_connection(c);
	if (pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&tid, &attr, action_main, p) == 0 ? 0 : -1;
		pthread_attr_destroy(&attr);
	}
	if (rc < 0) {
		/* no thread: the refusal is queued when the connection resumes */
		p->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		p->reply = strdup("{\n  \"result\": \"busy\",\n  \"message\": \"No thread for "
				  "the action; try again shortly.\"\n}\n");
		p->reply_len = p->reply ? strlen(p->reply) : 0;
		p->state = POST_DONE;
		MHD_resume_connection(c);
		pthread_mutex_lock(&s->act_lock);
		s->act_running--;
		pthread_cond_broadcast(&s->act_done);
		pthread_mutex_unlock(&s->act_lock);
	}
	return 0;
}

/*
 * POST /api/v1/questions/answer and /api/v1/vms/power: the token is checked
 * on the first call (before any body is read), the body is gathered (at most
 * REM_BODY_MAX bytes, else 413), then the action runs on a thread of its own
 * with the connection suspended, and its reply is queued when it resumes.
 */
static enum MHD_Result serve_action(struct http_server *s, struct MHD_Connection *c,
				    const char *url, const char *upload_data,
				    size_t *upload_data_size, void **con_cls)
{
	struct post_ctx *p = *con_cls;
	char *reply;

	if (!p) {
		const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_AUTHORIZATION);
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		if (!s->src.authorize || s->src.authorize(s->src.ud, auth) != 1)
			return queue_refusal(c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
					     "A valid Authorization header (Bearer TOKEN) is "
					     "needed.");
		if (cl && strtoull(cl, NULL, 10) > REM_BODY_MAX)
			return queue_refusal(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
					     "The request body is too large.");
		p = calloc(1, sizeof(*p));
		if (!p)
			return MHD_NO;
		buf_init(&p->body, REM_BODY_MAX);
		*con_cls = p;
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* a body over the cap is read to its end (up to a limit) so that the
		 * client, still sending, gets the 413 instead of a reset */
		p->seen += *upload_data_size;
		if (!p->too_large && buf_add(&p->body, upload_data, *upload_data_size) < 0)
			p->too_large = true;
		*upload_data_size = 0;
		if (p->too_large && p->seen > HTTP_DISCARD_MAX)
			return queue_refusal(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
					     "The request body is too large.");
		return MHD_YES;
	}
	if (p->too_large)
		return queue_refusal(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				     "The request body is too large.");
	if (p->state == POST_DONE) {
		reply = p->reply;
		p->reply = NULL;
		return queue_json(c, p->status, reply, p->reply_len);
	}
	if (p->state == POST_RUNNING)
		return MHD_YES;
	client_address(c, p->client, sizeof(p->client));
	if (action_start(s, c, p, url) == 0)
		return MHD_YES;
	return queue_refusal(c, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
			     "Too many actions are running; try again shortly.");
}

/* GET /api/v1/remediation and /api/v1/actions. */
static enum MHD_Result serve_get(struct http_server *s, struct MHD_Connection *c, const char *url)
{
	size_t len = 0;
	char *body;

	if (!s->src.get)
		body = strdup(strcmp(url, "/api/v1/actions") == 0 ? "{\"enabled\": false}\n"
								  : "[]\n");
	else
		body = s->src.get(s->src.ud, url, &len);
	if (body && !s->src.get)
		len = strlen(body);
	return queue_json(c, MHD_HTTP_OK, body, len);
}

bool http_actions_enabled(const struct http_server *s)
{
	return s->src.actions_enabled && s->src.actions_enabled(s->src.ud) == 1;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sets the deadline of c's entry: at (0: none); with sooner, only moves it earlier. */
static void conn_deadline(struct http_server *s, struct MHD_Connection *c, double at, bool sooner)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct http_conn *hc = ci ? ci->socket_context : NULL;

	if (!hc)
		return;
	pthread_mutex_lock(&s->conns_lock);
	if (!sooner || hc->deadline == 0 || at < hc->deadline)
		hc->deadline = at;
	pthread_mutex_unlock(&s->conns_lock);
}

/* MHD_OPTION_NOTIFY_CONNECTION: tracks open connections for the reaper. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	struct http_conn *hc = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		hc = ci ? calloc(1, sizeof(*hc)) : NULL;
		if (!hc)
			return; /* untracked: the idle timeout still applies */
		hc->fd = ci->connect_fd;
		hc->deadline = mono_now() + HTTP_HEADER_DEADLINE;
		pthread_mutex_lock(&s->conns_lock);
		hc->next = s->conns;
		if (s->conns)
			s->conns->prev = hc;
		s->conns = hc;
		pthread_mutex_unlock(&s->conns_lock);
		*socket_context = hc;
		return;
	}
	if (!hc)
		return;
	pthread_mutex_lock(&s->conns_lock);
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		s->conns = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	pthread_mutex_unlock(&s->conns_lock);
	*socket_context = NULL;
	free(hc);
}

/* MHD_OPTION_URI_LOG_CALLBACK: a request line arrived; its headers are due soon.
 * Returns NULL: the request's context stays unset for handle(). */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)uri;
	conn_deadline(cls, c, mono_now() + HTTP_HEADER_DEADLINE, true);
	return NULL;
}

/* MHD_OPTION_NOTIFY_COMPLETED: a reply went out; the next request must come
 * within the idle timeout, however slowly it trickles. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	(void)con_cls;
	(void)code;
	conn_deadline(cls, c, mono_now() + HTTP_IDLE_TIMEOUT, false);
}

/* Shuts down the sockets of connections past their deadline, once a second;
 * libmicrohttpd then sees them end and closes them itself. */
static void *reaper_main(void *arg)
{
	struct http_server *s = arg;
	struct timespec until;

	pthread_mutex_lock(&s->conns_lock);
	while (!s->reaper_stop) {
		double now = mono_now();
		unsigned n = 0;

		for (struct http_conn *hc = s->conns; hc; hc = hc->next) {
			if (hc->deadline != 0 && now >= hc->deadline) {
				shutdown(hc->fd, SHUT_RDWR);
				hc->deadline = 0;
				n++;
			}
		}
		if (n)
			log_msg(LOG_LEVEL_DEBUG,
				"http: closed %u connections that did not send a request in time",
				n);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&s->reaper_cond, &s->conns_lock, &until);
	}
	pthread_mutex_unlock(&s->conns_lock);
	return NULL;
}

/* SHA-256 of user, password and hash: what the cache of good credentials holds. */
static void cred_digest(const char *user, const char *pass, const char *hash, unsigned char *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	memset(out, 0, 32);
	if (!ctx)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, user, strlen(user) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, pass, strlen(pass) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, hash, strlen(hash)) != 1 || EVP_DigestFinal_ex(ctx, out, &n) != 1)
		memset(out, 0, 32);
	EVP_MD_CTX_free(ctx);
}

/* Whether the request carries the name and password of a configured user. */
static bool authorized(struct http_server *s, struct MHD_Connection *c)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
	unsigned char digest[32];
	struct crypt_data *cd = NULL;
	const char *hash = NULL, *out;
	bool ok = false;

	if (!user || !pass)
		goto out;
	for (size_t i = 0; i < s->nusers; i++)
		if (strcmp(s->users[i], user) == 0)
			hash = s->hashes[i];
	if (!hash)
		goto out;
	cred_digest(user, pass, hash, digest);
	pthread_mutex_lock(&s->auth_lock);
	ok = s->auth_ok_set && CRYPTO_memcmp(digest, s->auth_ok, sizeof(digest)) == 0;
	pthread_mutex_unlock(&s->auth_lock);
	if (ok)
		goto out;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		goto out;
	out = crypt_rn(pass, hash, cd, (int)sizeof(*cd));
	ok = out && strlen(out) == strlen(hash) && CRYPTO_memcmp(out, hash, strlen(hash)) == 0;
	if (ok) {
		pthread_mutex_lock(&s->auth_lock);
		memcpy(s->auth_ok, digest, sizeof(digest));
		s->auth_ok_set = true;
		pthread_mutex_unlock(&s->auth_lock);
	}
out:
	if (cd) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	return ok;
}

/* Whether the request announces a body (Content-Length other than 0, or chunked). */
static bool has_body(struct MHD_Connection *c)
{
	const char *len =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);

	if (te)
		return true;
	return len && strspn(len, "0") != strlen(len);
}

/* /api/v1/vms, hosts, datastores with their filters (?target=, ?name=, ?id=). */
static enum MHD_Result serve_objects(struct http_server *s, struct MHD_Connection *c,
				     enum snap_kind kind)
{
	struct snapshot *stack[HTTP_STACK_TARGETS], **snaps;
	struct api_filter f;
	unsigned long epoch = 0;
	size_t n, len = 0;
	char *body;

	f.target = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "target");
	f.name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "name");
	f.id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "id");
	n = get_snapshots(s, stack, &snaps, &epoch);
	body = api_render_objects(kind, snaps, n, &f, &len);
	put_snapshots(stack, snaps, n);
	return queue_json(c, MHD_HTTP_OK, body, len);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	enum {
		P_NONE,
		P_INDEX,
		P_METRICS,
		P_HEALTHZ,
		P_TARGETS,
		P_QUESTIONS,
		P_TASKS,
		P_VMS,
		P_HOSTS,
		P_DATASTORES,
		P_REMEDIATION,
		P_ACTIONS,
		P_ACTION_POST
	} path;
	const struct page_static *file = NULL;

	(void)version;
	if (strcmp(url, "/metrics") == 0)
		path = P_METRICS;
	else if (strcmp(url, "/healthz") == 0)
		path = P_HEALTHZ;
	else if (strcmp(url, "/api/v1/targets") == 0)
		path = P_TARGETS;
	else if (strcmp(url, "/api/v1/questions") == 0)
		path = P_QUESTIONS;
	else if (strcmp(url, "/api/v1/tasks") == 0)
		path = P_TASKS;
	else if (strcmp(url, "/api/v1/vms") == 0)
		path = P_VMS;
	else if (strcmp(url, "/api/v1/hosts") == 0)
		path = P_HOSTS;
	else if (strcmp(url, "/api/v1/datastores") == 0)
		path = P_DATASTORES;
	else if (strcmp(url, "/") == 0 || strncmp(url, "/questions/", 11) == 0)
		path = P_INDEX;
	else if ((file = page_static_find(url)))
		path = P_INDEX;
	else if (strcmp(url, "/api/v1/remediation") == 0)
		path = P_REMEDIATION;
	else if (strcmp(url, "/api/v1/actions") == 0)
		path = P_ACTIONS;
	else if ((strcmp(url, "/api/v1/questions/answer") == 0 ||
		  strcmp(url, "/api/v1/vms/power") == 0) &&
		 http_actions_enabled(s))
		path = P_ACTION_POST;
	else
		path = P_NONE;
	if (path == P_NONE)
		return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, s->not_found);
	/* the headers are in: no deadline while the request is served */
	if (!*con_cls)
		conn_deadline(s, c, 0, false);
	if (path == P_ACTION_POST) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED,
						  s->not_allowed_post);
		/* basic auth (when configured) before the action's own token */
		if (!*con_cls && s->nusers > 0 && !authorized(s, c))
			return MHD_queue_basic_auth_fail_response(c, "vimon", s->unauthorized);
		return serve_action(s, c, url, upload_data, upload_data_size, con_cls);
	}
	/* Refused on the first call, before any request body is read (MHD then
	 * closes the connection): every endpoint is read-only. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, s->not_allowed);
	/* A body on GET or HEAD is answered, not read (the connection then closes). */
	if (!*con_cls && has_body(c))
		return MHD_queue_response(c, MHD_HTTP_BAD_REQUEST, s->bad_request);
	/* A reply queued on the first call closes the connection; answering on
	 * the second call keeps it alive. */
	if (!*con_cls) {
		*con_cls = s;
		return MHD_YES;
	}
	/* every path but /healthz (a liveness probe) needs the user's name and password */
	if (s->nusers > 0 && path != P_HEALTHZ && !authorized(s, c))
		return MHD_queue_basic_auth_fail_response(c, "vimon", s->unauthorized);
	switch (path) {
	case P_METRICS: return serve_metrics(s, c);
	case P_HEALTHZ: return MHD_queue_response(c, MHD_HTTP_OK, s->healthz);
	case P_TARGETS: return serve_api(s, c, API_TARGETS);
	case P_QUESTIONS: return serve_api(s, c, API_QUESTIONS);
	case P_TASKS: return serve_tasks(s, c);
	case P_VMS: return serve_objects(s, c, SNAP_VMS);
	case P_HOSTS: return serve_objects(s, c, SNAP_HOSTS);
	case P_DATASTORES: return serve_objects(s, c, SNAP_DATASTORES);
	case P_INDEX: return file ? serve_static(c, file) : serve_page(s, c, url);
	case P_REMEDIATION:
	case P_ACTIONS: return serve_get(s, c, url);
	case P_ACTION_POST:
	case P_NONE: break;
	}
	return MHD_NO;
}

/* Splits "host:port" / "[v6]:port" into host and port strings. */
static int split_listen(const char *listen, char *host, size_t hostsz, char *port, size_t portsz,
			struct err *e)
{
	const char *colon, *h = listen;
	size_t hlen;

	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':')
			return err_set(e, ERR_CONFIG, "invalid listen address \"%s\"", listen);
		h = listen + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return err_set(e, ERR_CONFIG, "invalid listen address \"%s\"", listen);
		hlen = (size_t)(colon - listen);
	}
	if (hlen == 0 || hlen >= hostsz || strlen(colon + 1) >= portsz || !colon[1])
		return err_set(e, ERR_CONFIG, "invalid listen address \"%s\"", listen);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, portsz, "%s", colon + 1);
	return 0;
}

/* Reads a PEM file (1 MiB at most) into a NUL-terminated copy; *len its length. */
static char *read_pem(const char *file, size_t *len, struct err *e)
{
	size_t cap = (size_t)1 << 20, n = 0;
	char *data = NULL;
	struct stat st;
	ssize_t r;
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		err_set(e, ERR_CONFIG, "%s: %s", file, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (size_t)st.st_size >= cap) {
		err_set(e, ERR_CONFIG, "%s: not a regular file of 1 byte to 1 MiB", file);
		goto out_close;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_close;
	}
	while (n < (size_t)st.st_size) {
		r = read(fd, data + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	data[n] = '\0';
	*len = n;
out_close:
	close(fd);
	return data;
}

/* Copies opts into s: the PEM files read, the users duplicated. */
static int take_opts(struct http_server *s, const struct http_opts *o, struct err *e)
{
	size_t cert_len = 0;

	if (!o)
		return 0;
	if (o->tls_cert_file && o->tls_key_file) {
		s->cert_pem = read_pem(o->tls_cert_file, &cert_len, e);
		if (!s->cert_pem)
			return -1;
		s->key_pem = read_pem(o->tls_key_file, &s->key_len, e);
		if (!s->key_pem)
			return -1;
	}
	if (o->nusers == 0)
		return 0;
	s->users = calloc(o->nusers, sizeof(*s->users));
	s->hashes = calloc(o->nusers, sizeof(*s->hashes));
	if (!s->users || !s->hashes)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < o->nusers; i++, s->nusers++) {
		s->users[i] = strdup(o->users[i]);
		s->hashes[i] = strdup(o->hashes[i]);
		if (!s->users[i] || !s->hashes[i]) {
			s->nusers++;
			return err_set(e, ERR_NOMEM, "out of memory");
		}
	}
	return 0;
}

int http_start(const char *listen, const struct http_source *src, struct http_server **out,
	       struct err *e)
{
	return http_start_opts(listen, NULL, src, out, e);
}

const char *http_scheme(const struct http_server *s)
{
	return s->cert_pem ? "https" : "http";
}

int http_start_opts(const char *listen, const struct http_opts *opts, const struct http_source *src,
		    struct http_server **out, struct err *e)
{
	struct addrinfo hints, *ai = NULL;
	const union MHD_DaemonInfo *info;
	struct http_server *s;
	char host[64], port[8];
	unsigned flags;
	int rc, ret = -1;

	if (split_listen(listen, host, sizeof(host), port, sizeof(port), e) < 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0)
		return err_set(e, ERR_CONFIG, "listen address %s: %s", listen, gai_strerror(rc));
	s = calloc(1, sizeof(*s));
	if (!s) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_freeai;
	}
	s->src = *src;
	pthread_mutex_init(&s->resp_lock, NULL);
	pthread_mutex_init(&s->log_lock, NULL);
	pthread_mutex_init(&s->act_lock, NULL);
	pthread_cond_init(&s->act_done, NULL);
	log_backoff_init(&s->log_backoff, HTTP_LOG_BACKOFF);
	s->cache = metrics_cache_new();
	s->process = process_metrics_new();
	s->healthz = static_response("ok\n", CT_TEXT);
	s->not_found = static_response("not found\n", CT_TEXT);
	s->not_allowed = static_response("method not allowed\n", CT_TEXT);
	s->not_allowed_post = static_response("method not allowed\n", CT_TEXT);
	s->bad_request = static_response("bad request: GET and HEAD take no body\n", CT_TEXT);
	s->unauthorized = static_response("unauthorized\n", CT_TEXT);
	pthread_mutex_init(&s->auth_lock, NULL);
	if (take_opts(s, opts, e) < 0)
		goto out_free;
	pthread_mutex_init(&s->conns_lock, NULL);
	pthread_cond_init(&s->reaper_cond, NULL);
	if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
		err_set(e, ERR_SYSTEM, "cannot start the HTTP connection reaper");
		goto out_free;
	}
	s->reaper_started = true;
	if (!s->cache || !s->process || !s->healthz || !s->not_found || !s->not_allowed ||
	    !s->bad_request || !s->unauthorized ||
	    MHD_add_response_header(s->not_allowed, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") !=
		    MHD_YES ||
	    !s->not_allowed_post ||
	    MHD_add_response_header(s->not_allowed_post, MHD_HTTP_HEADER_ALLOW, "POST") !=
		    MHD_YES) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_free;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
		MHD_ALLOW_SUSPEND_RESUME;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (s->cert_pem)
		flags |= MHD_USE_TLS;
	s->daemon = MHD_start_daemon(
		flags, (uint16_t)strtoul(port, NULL, 10), NULL, NULL, handle, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_NOTIFY_COMPLETED,
		request_completed, s, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)HTTP_MAX_CONNS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)HTTP_PER_IP_CONNS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)HTTP_CONN_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)HTTP_IDLE_TIMEOUT, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, s,
		/* with HTTPS only; MHD_OPTION_END ends the list otherwise */
		s->cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->cert_pem,
		MHD_OPTION_HTTPS_MEM_KEY, s->key_pem, MHD_OPTION_END);
	if (!s->daemon) {
		if (s->cert_pem)
			err_set(e, ERR_CONFIG,
				"cannot listen with HTTPS on %s (address in use, or a certificate "
				"and key that do not match?)",
				listen);
		else
			err_set(e, ERR_SYSTEM, "cannot listen on %s (address in use or not local?)",
				listen);
		goto out_free;
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (ai->ai_family == AF_INET6)
		snprintf(s->address, sizeof(s->address), "[%s]:%u", host,
			 info ? (unsigned)info->port : 0);
	else
		snprintf(s->address, sizeof(s->address), "%s:%u", host,
			 info ? (unsigned)info->port : 0);
	*out = s;
	s = NULL;
	ret = 0;
out_free:
	http_stop(s);
out_freeai:
	freeaddrinfo(ai);
	return ret;
}

const char *http_address(const struct http_server *s)
{
	return s->address;
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	/* a suspended connection must be resumed before the daemon stops */
	pthread_mutex_lock(&s->act_lock);
	while (s->act_running > 0)
		pthread_cond_wait(&s->act_done, &s->act_lock);
	pthread_mutex_unlock(&s->act_lock);
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	if (s->reaper_started) {
		pthread_mutex_lock(&s->conns_lock);
		s->reaper_stop = true;
		pthread_cond_signal(&s->reaper_cond);
		pthread_mutex_unlock(&s->conns_lock);
		pthread_join(s->reaper, NULL);
		pthread_mutex_destroy(&s->conns_lock);
		pthread_cond_destroy(&s->reaper_cond);
	}
	if (s->bad_request)
		MHD_destroy_response(s->bad_request);
	if (s->unauthorized)
		MHD_destroy_response(s->unauthorized);
	free(s->cert_pem);
	if (s->key_pem) {
		explicit_bzero(s->key_pem, s->key_len);
		free(s->key_pem);
	}
	for (size_t i = 0; i < s->nusers; i++) {
		free(s->users[i]);
		free(s->hashes[i]);
	}
	free(s->users);
	free(s->hashes);
	pthread_mutex_destroy(&s->auth_lock);
	if (s->healthz)
		MHD_destroy_response(s->healthz);
	if (s->not_found)
		MHD_destroy_response(s->not_found);
	if (s->not_allowed)
		MHD_destroy_response(s->not_allowed);
	if (s->not_allowed_post)
		MHD_destroy_response(s->not_allowed_post);
	if (s->resp)
		MHD_destroy_response(s->resp);
	metrics_page_put(s->resp_page);
	pthread_mutex_destroy(&s->resp_lock);
	pthread_mutex_destroy(&s->log_lock);
	pthread_mutex_destroy(&s->act_lock);
	pthread_cond_destroy(&s->act_done);
	metrics_cache_free(s->cache);
	process_metrics_free(s->process);
	free(s);
}

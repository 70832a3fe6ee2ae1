/* vi/http: the HTTP(S) transport under the SOAP session (libcurl, OpenSSL pinning). */
#include "vi/http.h"

#include <curl/curl.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"

#define HTTP_CONNECT_MS	  10000L
#define HTTP_TIMEOUT_MS	  60000L
#define HTTP_MAX_REPLY	  ((size_t)256 << 20)
#define HTTP_HOST_MAX	  256
#define HTTP_ACTION_MAX	  128
#define HTTP_PRINT_SHA256 (32 * 3)
#define HTTP_PRINT_SHA1	  (20 * 3)
#define HTTP_POLL_MS	  1000

/*
 * Invariants: curl is one easy handle for the life of the transport (its
 * cookie engine holds the session cookie) and multi one multi handle (its
 * connection cache keeps one connection alive); curl is in multi only while
 * vi_http_post() runs, which drives it so that the abort hook is asked at
 * least every HTTP_POLL_MS, and at once after vi_http_wakeup().
 * body_bytes never exceeds max_reply. pin_len is 0 (no pin), 20 or 32.
 */
struct vi_http {
	CURLM *multi; /* holds the connection cache; curl is added for each call */
	CURL *curl;
	char *url;
	char *ca_file;
	char *proxy;
	char *user_agent;
	char host[HTTP_HOST_MAX];
	char proxy_host[HTTP_HOST_MAX]; /* host[:port] of the proxy, no credentials */
	bool insecure;
	unsigned char pin[32];
	size_t pin_len;
	size_t max_reply;

	/* The request in progress. */
	int (*sink)(void *ud, const char *data, size_t len, struct err *e);
	void *sink_ud;
	struct err *sink_err;
	bool sink_failed;
	bool too_large;
	size_t body_bytes;
	size_t header_bytes;
	size_t last_bytes;

	/* Pinning: set by the TLS callbacks of the connection being set up. */
	bool pin_ok;
	bool pin_mismatch;
	char seen_sha256[HTTP_PRINT_SHA256];
	char seen_sha1[HTTP_PRINT_SHA1];

	/* Abort hook, asked from the progress callback while a call runs. */
	int (*should_abort)(void *ud);
	void *abort_ud;
	bool aborted;

	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_global_rc = CURLE_FAILED_INIT;
static int http_ctx_index = -1;

/*
 * libcurl's memory functions: every block is wiped before it is freed, so the
 * request buffers that held a Login body (the password) do not linger in
 * freed heap memory. realloc moves by hand for the same reason.
 */
static void wipe_free(void *p)
{
	if (!p)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void *wipe_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(n);
	if (n == 0) {
		wipe_free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	if (n <= old)
		return p;
	q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old);
	wipe_free(p);
	return q;
}

static void http_global_init(void)
{
	http_global_rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wipe_free, wipe_realloc,
					      strdup, calloc);
	http_ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

int vi_thumbprint_normalize(const char *in, char *out, struct err *e)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t n = 0;
	const char *p;

	out[0] = '\0';
	if (!in)
		return err_set(e, ERR_INVALID, "no thumbprint given");
	for (p = in; *p; p++) {
		int v;

		if (*p == ':' || *p == ' ' || *p == '\t')
			continue;
		v = hex_digit((unsigned char)*p);
		if (v < 0) {
			out[0] = '\0';
			return err_set(e, ERR_INVALID,
				       "thumbprint: '%c' is not a hex digit (SHA-256 or SHA-1 as "
				       "hex, colons optional)",
				       (*p >= 0x20 && *p < 0x7f) ? *p : '?');
		}
		if (n == 64) {
			out[0] = '\0';
			return err_set(e, ERR_INVALID,
				       "thumbprint: too long (want 64 hex digits for SHA-256 or 40 "
				       "for SHA-1)");
		}
		out[n++] = digits[v];
	}
	out[n] = '\0';
	if (n != 64 && n != 40) {
		out[0] = '\0';
		return err_set(e, ERR_INVALID,
			       "thumbprint: %zu hex digits (want 64 for SHA-256 or 40 for SHA-1)",
			       n);
	}
	return 0;
}

/* AA:BB:... of n bytes into out (3 * n bytes). */
static void format_print(const unsigned char *md, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		out[3 * i] = digits[md[i] >> 4];
		out[3 * i + 1] = digits[md[i] & 15];
		out[3 * i + 2] = (i + 1 < n) ? ':' : '\0';
	}
	if (n == 0)
		out[0] = '\0';
}

/*
 * OpenSSL verification callback when a thumbprint is pinned: the chain and
 * the host name are not checked (self-signed ESX hosts); the leaf certificate
 * must hash to the pin. Failing here aborts the handshake, so nothing of the
 * request (the password) is ever sent to an unpinned server.
 */
static int pin_verify(int preverify_ok, X509_STORE_CTX *store)
{
	unsigned char md256[EVP_MAX_MD_SIZE];
	unsigned char md1[EVP_MAX_MD_SIZE];
	unsigned int n256 = 0, n1 = 0;
	struct vi_http *h;
	SSL *ssl;
	X509 *cert;

	(void)preverify_ok;
	if (X509_STORE_CTX_get_error_depth(store) != 0)
		return 1;
	ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	if (!ssl)
		return 0;
	h = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), http_ctx_index);
	cert = X509_STORE_CTX_get_current_cert(store);
	if (!h || !cert)
		return 0;
	if (!X509_digest(cert, EVP_sha256(), md256, &n256) ||
	    !X509_digest(cert, EVP_sha1(), md1, &n1) || n256 != 32 || n1 != 20) {
		h->pin_ok = false;
		return 0;
	}
	format_print(md256, 32, h->seen_sha256);
	format_print(md1, 20, h->seen_sha1);
	if ((h->pin_len == 32 && memcmp(md256, h->pin, 32) == 0) ||
	    (h->pin_len == 20 && memcmp(md1, h->pin, 20) == 0)) {
		h->pin_ok = true;
		return 1;
	}
	h->pin_ok = false;
	h->pin_mismatch = true;
	return 0;
}

/* Called by libcurl for every new TLS connection, before the handshake. */
static CURLcode pin_ssl_ctx(CURL *curl, void *ssl_ctx, void *ud)
{
	struct vi_http *h = ud;
	SSL_CTX *ctx = ssl_ctx;

	(void)curl;
	h->pin_ok = false;
	if (!SSL_CTX_set_ex_data(ctx, http_ctx_index, h))
		return CURLE_SSL_CERTPROBLEM;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, pin_verify);
	return CURLE_OK;
}

/* Last check before a request goes out on a new or reused connection. */
static int pin_prereq(void *ud, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
		      int conn_local_port)
{
	struct vi_http *h = ud;

	(void)conn_primary_ip;
	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	return h->pin_ok ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct vi_http *h = ud;
	size_t len = size * nmemb;

	if (len > h->max_reply - h->body_bytes) {
		h->too_large = true;
		return 0;
	}
	h->body_bytes += len;
	if (h->sink && h->sink(h->sink_ud, data, len, h->sink_err) != 0) {
		h->sink_failed = true;
		return 0;
	}
	return len;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct vi_http *h = ud;

	(void)data;
	h->header_bytes += size * nmemb;
	return size * nmemb;
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

/* Fills h->host from h->url and checks the scheme. */
static int parse_url(struct vi_http *h, bool *tls, struct err *e)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	if (!u)
		err_set(e, ERR_NOMEM, "out of memory");
	else if (curl_url_set(u, CURLUPART_URL, h->url, 0) != CURLUE_OK)
		err_set(e, ERR_CONFIG, "invalid URL \"%s\"", h->url);
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		 curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		err_set(e, ERR_CONFIG, "URL \"%s\" has no scheme or host", h->url);
	else if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
		err_set(e, ERR_CONFIG, "URL \"%s\": scheme must be https or http", h->url);
	else
		rc = 0;
	if (rc == 0) {
		*tls = strcmp(scheme, "https") == 0;
		snprintf(h->host, sizeof(h->host), "%s", host);
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static int set_pin(struct vi_http *h, const char *thumbprint, struct err *e)
{
	char hex[65];
	size_t i;

	if (vi_thumbprint_normalize(thumbprint, hex, e) < 0)
		return -1;
	h->pin_len = strlen(hex) / 2;
	for (i = 0; i < h->pin_len; i++)
		h->pin[i] = (unsigned char)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
	return 0;
}

/* Keeps the first failure of a series of curl_easy_setopt() calls. */
static void keep_first(CURLcode *rc, CURLcode r)
{
	if (*rc == CURLE_OK)
		*rc = r;
}

/* Asks the abort hook; remembers a yes. */
static bool abort_requested(struct vi_http *h)
{
	if (!h->aborted && h->should_abort && h->should_abort(h->abort_ud))
		h->aborted = true;
	return h->aborted;
}

/* Progress callback: ends the transfer when the abort hook says so. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct vi_http *h = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return abort_requested(h) ? 1 : 0;
}

/*
 * TLS verification. A pinned thumbprint wins over insecure: the leaf must
 * match the pin (chain and host name unchecked), so the password never goes
 * to another server. insecure alone checks nothing; otherwise the CA chain
 * and the host name are verified.
 */
static void setup_tls(struct vi_http *h, CURLcode *rc)
{
	CURL *c = h->curl;

	if (h->pin_len) {
		keep_first(rc, curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L));
		keep_first(rc, curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L));
		/* A resumed TLS session would skip the certificate callback. */
		keep_first(rc, curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L));
		keep_first(rc, curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, pin_ssl_ctx));
		keep_first(rc, curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, h));
		keep_first(rc, curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, pin_prereq));
		keep_first(rc, curl_easy_setopt(c, CURLOPT_PREREQDATA, h));
	} else if (h->insecure) {
		keep_first(rc, curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L));
		keep_first(rc, curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L));
	} else {
		keep_first(rc, curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L));
		keep_first(rc, curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L));
		if (h->ca_file)
			keep_first(rc, curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file));
	}
}

/* Options that stay the same for every request of the transport. */
static int setup_curl(struct vi_http *h, const struct vi_http_opts *o, bool tls, struct err *e)
{
	CURL *c = h->curl;
	CURLcode rc = CURLE_OK;
	long connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : HTTP_CONNECT_MS;
	long timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : HTTP_TIMEOUT_MS;

	keep_first(&rc, curl_easy_setopt(c, CURLOPT_URL, h->url));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https"));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_COOKIEFILE, ""));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_WRITEDATA, h));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_HEADERDATA, h));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_XFERINFODATA, h));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L));
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_POST, 1L));
	/* Only the configured proxy: never one from the environment. */
	keep_first(&rc, curl_easy_setopt(c, CURLOPT_PROXY, h->proxy ? h->proxy : ""));
	if (tls)
		setup_tls(h, &rc);
	if (rc != CURLE_OK)
		return err_set(e, rc == CURLE_OUT_OF_MEMORY ? ERR_NOMEM : ERR_CONFIG,
			       "%s: cannot set up the HTTP client: %s", h->host,
			       curl_easy_strerror(rc));
	return 0;
}

/* Keeps the proxy's host[:port] for messages: no scheme, path or user:password@. */
static void set_proxy_host(struct vi_http *h)
{
	const char *p = h->proxy, *end, *at;
	size_t n;

	if (!p)
		return;
	if (strstr(p, "://"))
		p = strstr(p, "://") + 3;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	while (at) {
		p = at + 1;
		at = memchr(p, '@', (size_t)(end - p));
	}
	n = (size_t)(end - p);
	if (n >= sizeof(h->proxy_host))
		n = sizeof(h->proxy_host) - 1;
	memcpy(h->proxy_host, p, n);
	h->proxy_host[n] = '\0';
}

struct vi_http *vi_http_new(const struct vi_http_opts *opts, struct err *e)
{
	struct vi_http *h;
	bool failed = false, tls = false;

	if (!opts || !opts->url || !*opts->url) {
		err_set(e, ERR_CONFIG, "no URL given");
		return NULL;
	}
	pthread_once(&http_once, http_global_init);
	if (http_global_rc != CURLE_OK || http_ctx_index < 0) {
		err_set(e, ERR_SYSTEM, "libcurl initialisation failed");
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	h->url = dup_or_null(opts->url, &failed);
	h->ca_file = dup_or_null(opts->ca_file, &failed);
	h->proxy = dup_or_null(opts->proxy && *opts->proxy ? opts->proxy : NULL, &failed);
	h->user_agent =
		dup_or_null(opts->user_agent ? opts->user_agent : "vimon/" VIMON_VERSION, &failed);
	h->insecure = opts->insecure;
	h->max_reply = opts->max_reply ? opts->max_reply : HTTP_MAX_REPLY;
	if (failed) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_free;
	}
	set_proxy_host(h);
	if (parse_url(h, &tls, e) < 0)
		goto out_free;
	/* a pin is checked even with insecure (see setup_tls) */
	if (opts->thumbprint && *opts->thumbprint) {
		if (set_pin(h, opts->thumbprint, e) < 0)
			goto out_free;
		if (!tls) {
			err_set(e, ERR_CONFIG,
				"%s: a thumbprint is configured but the URL is not https", h->host);
			goto out_free;
		}
	}
	h->multi = curl_multi_init();
	h->curl = curl_easy_init();
	if (!h->multi || !h->curl) {
		err_set(e, ERR_NOMEM, "%s: cannot create a libcurl handle", h->host);
		goto out_free;
	}
	if (setup_curl(h, opts, tls, e) < 0)
		goto out_free;
	return h;
out_free:
	vi_http_free(h);
	return NULL;
}

void vi_http_free(struct vi_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	free(h->url);
	free(h->ca_file);
	free(h->proxy);
	free(h->user_agent);
	free(h);
}

/* With a proxy, tells a proxy failure apart: -1 with e set when the proxy was
 * unreachable or refused the tunnel, 0 when the failure lies beyond it. */
static int proxy_error(struct vi_http *h, CURLcode rc, const char *why, struct err *e)
{
	long code = 0;

	if (!h->proxy)
		return 0;
	if (rc == CURLE_COULDNT_RESOLVE_PROXY)
		return err_set(e, ERR_RESOLVE, "%s: cannot resolve the proxy %s: %s", h->host,
			       h->proxy_host, why);
	if (curl_easy_getinfo(h->curl, CURLINFO_HTTP_CONNECTCODE, &code) != CURLE_OK)
		code = 0;
	if (rc == CURLE_COULDNT_CONNECT && code == 0)
		return err_set(e, ERR_CONNECT, "%s: cannot connect to the proxy %s: %s", h->host,
			       h->proxy_host, why);
	if (code != 0 && code != 200) {
		err_set(e, ERR_CONNECT, "%s: the proxy %s refused the tunnel (HTTP %ld): %s",
			h->host, h->proxy_host, code, why);
		if (e)
			e->http_status = (int)code;
		return -1;
	}
	return 0;
}

/* Turns a failed transfer into an error that says what failed, with the host. */
static int transfer_error(struct vi_http *h, CURLcode rc, struct err *e)
{
	const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);

	if (h->pin_mismatch)
		return err_set(e, ERR_TLS,
			       "%s: certificate thumbprint mismatch: server presented SHA256 %s "
			       "(SHA1 %s)",
			       h->host, h->seen_sha256, h->seen_sha1);
	if (h->too_large)
		return err_set(e, ERR_TOO_LARGE, "%s: reply larger than %zu bytes", h->host,
			       h->max_reply);
	if (h->sink_failed) {
		/* the sink recorded its own error; make sure there is one */
		err_set(e, ERR_PARSE, "%s: reply rejected", h->host);
		return -1;
	}
	if (proxy_error(h, rc, why, e) < 0)
		return -1;
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return err_set(e, ERR_RESOLVE, "%s: cannot resolve host name: %s", h->host, why);
	case CURLE_COULDNT_CONNECT:
		return err_set(e, ERR_CONNECT, "%s: cannot connect: %s", h->host, why);
	case CURLE_OPERATION_TIMEDOUT:
		return err_set(e, ERR_TIMEOUT, "%s: timed out: %s", h->host, why);
	case CURLE_ABORTED_BY_CALLBACK:
		if (h->aborted)
			return err_set(e, ERR_CANCELLED, "%s: call aborted", h->host);
		if (h->pin_len && !h->pin_ok)
			return err_set(e, ERR_TLS,
				       "%s: the server certificate could not be checked against "
				       "the pinned thumbprint",
				       h->host);
		return err_set(e, ERR_CONNECT, "%s: request aborted: %s", h->host, why);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED: return err_set(e, ERR_TLS, "%s: TLS: %s", h->host, why);
	case CURLE_PARTIAL_FILE:
		return err_set(e, ERR_PARSE, "%s: reply truncated: %s", h->host, why);
	case CURLE_BAD_CONTENT_ENCODING:
		return err_set(e, ERR_PARSE, "%s: bad content encoding: %s", h->host, why);
	case CURLE_OUT_OF_MEMORY: return err_set(e, ERR_NOMEM, "%s: out of memory", h->host);
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return err_set(e, ERR_CONNECT, "%s: connection lost: %s", h->host, why);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL: return err_set(e, ERR_CONFIG, "%s: %s", h->host, why);
	default: return err_set(e, ERR_HTTP, "%s: HTTP transfer failed: %s", h->host, why);
	}
}

/*
 * curl_easy_perform() through the multi interface: libcurl calls the
 * progress callback only about once a second while a reply is awaited, so
 * the abort hook is also asked between waits of at most HTTP_POLL_MS and
 * whenever vi_http_wakeup() interrupts the wait. The poll is long so that a
 * quiet WaitForUpdatesEx costs no periodic wake-ups.
 */
static CURLcode perform(struct vi_http *h)
{
	CURLcode rc = CURLE_OK;
	CURLMcode mc;
	CURLMsg *msg;
	int running = 1, left;

	mc = curl_multi_add_handle(h->multi, h->curl);
	while (mc == CURLM_OK && running) {
		mc = curl_multi_perform(h->multi, &running);
		if (mc != CURLM_OK || !running)
			break;
		if (abort_requested(h))
			break;
		mc = curl_multi_poll(h->multi, NULL, 0, HTTP_POLL_MS, NULL);
	}
	if (h->aborted)
		rc = CURLE_ABORTED_BY_CALLBACK;
	else if (mc != CURLM_OK)
		rc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
	while (!h->aborted && mc == CURLM_OK && (msg = curl_multi_info_read(h->multi, &left)))
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == h->curl)
			rc = msg->data.result;
	curl_multi_remove_handle(h->multi, h->curl);
	return rc;
}

/* vi_http_post(), on a new connection when fresh is set. */
/* Resets the per-transfer state before a request whose reply goes to sink. */
static void transfer_begin(struct vi_http *h,
			   int (*sink)(void *ud, const char *data, size_t len, struct err *e),
			   void *ud, struct err *e)
{
	h->sink = sink;
	h->sink_ud = ud;
	h->sink_err = e;
	h->sink_failed = false;
	h->too_large = false;
	h->pin_mismatch = false;
	h->aborted = false;
	h->body_bytes = 0;
	h->header_bytes = 0;
	h->last_bytes = 0;
	h->errbuf[0] = '\0';
}

/* Performs the prepared request: its status in *status (when not NULL), the
 * bytes received, and a transfer failure as e. 0 or -1. */
static int transfer_run(struct vi_http *h, long *status, struct err *e)
{
	curl_off_t down = 0;
	long code = 0;
	CURLcode rc = perform(h);

	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(h->curl, CURLINFO_SIZE_DOWNLOAD_T, &down);
	h->last_bytes = h->header_bytes + (down > 0 ? (size_t)down : 0);
	if (status)
		*status = code;
	if (rc != CURLE_OK) {
		transfer_error(h, rc, e);
		if (e)
			e->http_status = (int)code;
		return -1;
	}
	return 0;
}

static int post(struct vi_http *h, bool fresh, const char *soap_action, const char *body,
		size_t len, int (*sink)(void *ud, const char *data, size_t len, struct err *e),
		void *ud, long *status, struct err *e)
{
	struct curl_slist *headers = NULL, *tmp;
	char action[HTTP_ACTION_MAX + 16];
	int ret = -1;

	if (status)
		*status = 0;
	if (!body) {
		/* libcurl would read a NULL body from stdin */
		body = "";
		len = 0;
	}
	if (!soap_action || strlen(soap_action) > HTTP_ACTION_MAX || strpbrk(soap_action, "\r\n"))
		return err_set(e, ERR_INVALID, "invalid SOAPAction");
	snprintf(action, sizeof(action), "SOAPAction: %s", soap_action);
	transfer_begin(h, sink, ud, e);

	tmp = curl_slist_append(headers, "Content-Type: text/xml; charset=utf-8");
	if (tmp)
		headers = tmp;
	tmp = tmp ? curl_slist_append(headers, action) : NULL;
	if (tmp)
		headers = tmp;
	/* no "Expect: 100-continue" round trip for large bodies */
	tmp = tmp ? curl_slist_append(headers, "Expect:") : NULL;
	if (!tmp) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_free_headers;
	}
	headers = tmp;
	if (curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_free_headers;
	}
	ret = transfer_run(h, status, e);
out_free_headers:
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_FRESH_CONNECT, 0L);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(headers);
	h->sink = NULL;
	h->sink_ud = NULL;
	h->sink_err = NULL;
	return ret;
}

int vi_http_post(struct vi_http *h, const char *soap_action, const char *body, size_t len,
		 int (*sink)(void *ud, const char *data, size_t len, struct err *e), void *ud,
		 long *status, struct err *e)
{
	return post(h, false, soap_action, body, len, sink, ud, status, e);
}

int vi_http_post_once(struct vi_http *h, const char *soap_action, const char *body, size_t len,
		      int (*sink)(void *ud, const char *data, size_t len, struct err *e), void *ud,
		      long *status, struct err *e)
{
	return post(h, true, soap_action, body, len, sink, ud, status, e);
}

void vi_http_set_abort(struct vi_http *h, int (*should_abort)(void *ud), void *ud)
{
	h->should_abort = should_abort;
	h->abort_ud = should_abort ? ud : NULL;
}

void vi_http_wakeup(struct vi_http *h)
{
	if (h && h->multi)
		curl_multi_wakeup(h->multi);
}

int vi_http_forget_session(struct vi_http *h, struct err *e)
{
	CURLcode rc = curl_easy_setopt(h->curl, CURLOPT_COOKIELIST, "ALL");

	if (rc != CURLE_OK)
		return err_set(e, rc == CURLE_OUT_OF_MEMORY ? ERR_NOMEM : ERR_SYSTEM,
			       "%s: cannot clear the session cookie: %s", h->host,
			       curl_easy_strerror(rc));
	return 0;
}

bool vi_http_has_cookies(struct vi_http *h)
{
	struct curl_slist *list = NULL;
	bool any;

	if (curl_easy_getinfo(h->curl, CURLINFO_COOKIELIST, &list) != CURLE_OK)
		return false;
	any = list != NULL;
	curl_slist_free_all(list);
	return any;
}

void vi_http_clear_cookies(struct vi_http *h)
{
	if (h && h->curl)
		curl_easy_setopt(h->curl, CURLOPT_COOKIELIST, "ALL");
}

size_t vi_http_last_bytes(const struct vi_http *h)
{
	return h ? h->last_bytes : 0;
}

int vi_http_get(struct vi_http *h, const char *url,
		int (*sink)(void *ud, const char *data, size_t len, struct err *e), void *ud,
		long *status, struct err *e)
{
	int ret = -1;

	if (status)
		*status = 0;
	transfer_begin(h, sink, ud, e);
	if (curl_easy_setopt(h->curl, CURLOPT_URL, url ? url : h->url) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_restore;
	}
	ret = transfer_run(h, status, e);
out_restore:
	curl_easy_setopt(h->curl, CURLOPT_URL, h->url);
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	h->sink = NULL;
	h->sink_ud = NULL;
	h->sink_err = NULL;
	return ret;
}

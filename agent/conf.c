/* agent/conf: loads and validates the agent's libconfig file, reporting every problem with its line. */
#include "agent/conf.h"
#include "util/log.h"
#include "vi/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_DEFAULT_LISTEN  "0.0.0.0:9743"
#define CONF_DEFAULT_TIMEOUT 60
#define CONF_MAX_TIMEOUT     3600
#define CONF_PASSWORD_MAX    4096

/* State of one validation pass: where problems go and how many were found. */
struct conf_check {
	const char *path;
	struct buf *problems;
	int count;
};

static void problem(struct conf_check *ck, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct conf_check *ck, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_addf(ck->problems, "%s:%d: %s\n", ck->path, line > 0 ? line : 1, msg);
	ck->count++;
}

static int line_of(const config_setting_t *s)
{
	return (int)config_setting_source_line(s);
}

/* Wipes and frees a secret. */
static void free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "something else";
	}
}

/* The string value of a setting, or NULL (problem reported) when it is not a
 * non-empty string. */
static const char *get_string(struct conf_check *ck, const config_setting_t *s)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		problem(ck, line_of(s), "%s must be a string, not %s", config_setting_name(s),
			type_name(config_setting_type(s)));
		return NULL;
	}
	v = config_setting_get_string(s);
	if (!v || !*v) {
		problem(ck, line_of(s), "%s must not be empty", config_setting_name(s));
		return NULL;
	}
	return v;
}

/* Checks a port of n bytes: 1-5 digits, at most 65535, 0 only when allow0. */
static int port_valid(const char *p, size_t n, int allow0)
{
	long port = 0;

	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return 0;
		port = port * 10 + (p[i] - '0');
	}
	return port <= 65535 && (port > 0 || allow0);
}

/*
 * Checks a host of n bytes: "[IPv6]", a dotted IPv4 address, or a host name
 * (labels of letters, digits, '-' and '_', not starting or ending with '-',
 * 63 bytes at most, 253 in all, an optional final dot).
 */
static int host_valid(const char *h, size_t n)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t i, label = 0;
	int alpha = 0;

	if (n == 0)
		return 0;
	if (h[0] == '[') {
		if (n < 3 || h[n - 1] != ']' || n - 2 >= sizeof(addr))
			return 0;
		memcpy(addr, h + 1, n - 2);
		addr[n - 2] = '\0';
		return inet_pton(AF_INET6, addr, bin) == 1;
	}
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)h[i]) && h[i] != '.')
			alpha = 1;
	if (!alpha) {
		if (n >= sizeof(addr))
			return 0;
		memcpy(addr, h, n);
		addr[n] = '\0';
		return inet_pton(AF_INET, addr, bin) == 1;
	}
	if (h[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-' && c != '_')
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return h[n - 1] != '-';
}

/* Checks "host:port" or "[v6]:port" (port 0-65535; 0 picks a free port). */
static int listen_valid(const char *s)
{
	const char *colon;

	if (s[0] == '[') {
		colon = strchr(s, ']');
		if (!colon || colon[1] != ':')
			return 0;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return 0;
	}
	return host_valid(s, (size_t)(colon - s)) && port_valid(colon + 1, strlen(colon + 1), 1);
}

int conf_listen_valid(const char *s)
{
	return listen_valid(s);
}

/*
 * Checks scheme://[user[:password]@]host[:port][/path] without spaces or
 * control characters, with one of the schemes (NULL-terminated). Returns NULL
 * when valid, else what is wrong; *creds tells whether the URL holds
 * credentials (so that the caller never prints it).
 */
static const char *url_problem(const char *s, const char *const *schemes, int allow_creds,
			       int *creds)
{
	const char *host = NULL, *p, *at, *end;
	size_t hostlen;

	*creds = 0;
	/* credentials first, whatever the scheme: they decide whether s may be printed */
	p = strstr(s, "://");
	p = p ? p + 3 : s;
	end = p + strcspn(p, "/?#");
	*creds = memchr(p, '@', (size_t)(end - p)) != NULL;
	if (*creds && !allow_creds)
		return "credentials in the url are not allowed (use username and password_file)";
	for (size_t i = 0; schemes[i] && !host; i++) {
		size_t n = strlen(schemes[i]);

		if (strncasecmp(s, schemes[i], n) == 0 && strncmp(s + n, "://", 3) == 0)
			host = s + n + 3;
	}
	if (!host)
		return "unsupported scheme";
	at = memchr(host, '@', (size_t)(end - host));
	while (at) {
		host = at + 1;
		at = memchr(host, '@', (size_t)(end - host));
	}
	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "spaces or control characters";
	hostlen = (size_t)(end - host);
	if (host[0] == '[') {
		p = memchr(host, ']', hostlen);
		if (!p)
			return "bad IPv6 address";
		p++;
	} else {
		p = memchr(host, ':', hostlen);
		if (!p)
			p = end;
	}
	if (!host_valid(host, (size_t)(p - host)))
		return "bad host";
	if (p == end)
		return NULL;
	if (*p != ':' || !port_valid(p + 1, (size_t)(end - p - 1), 0))
		return "bad port (want 1-65535)";
	return NULL;
}

static int url_valid(const char *s)
{
	static const char *const schemes[] = {"https", "http", NULL};
	int creds;

	return url_problem(s, schemes, 0, &creds) == NULL;
}

/* Reads a secret file (what: the key naming it), refusing one that others can read. */
static char *read_secret_file(struct conf_check *ck, int line, const char *what, const char *file)
{
	char data[CONF_PASSWORD_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	char *pw = NULL;
	int fd;

	/* O_NONBLOCK: a FIFO or a device is opened without waiting and refused
	 * by the fstat below before anything is read */
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 && errno == ELOOP)
		fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		problem(ck, line, "%s %s: %s", what, file, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		problem(ck, line, "%s %s: %s", what, file, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(ck, line, "%s %s is not a regular file", what, file);
		goto out_close;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		problem(ck, line,
			"%s %s is accessible by group or others (mode %04o); "
			"refusing it: chmod 600 it",
			what, file, (unsigned)(st.st_mode & 07777));
		goto out_close;
	}
	while (len < sizeof(data)) {
		n = read(fd, data + len, sizeof(data) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			problem(ck, line, "%s %s: %s", what, file, strerror(errno));
			goto out_wipe;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_PASSWORD_MAX) {
		problem(ck, line, "%s %s is larger than %d bytes", what, file, CONF_PASSWORD_MAX);
		goto out_wipe;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len == 0 || memchr(data, '\0', len)) {
		problem(ck, line, "%s %s is empty or holds a NUL byte", what, file);
		goto out_wipe;
	}
	pw = strndup(data, len);
	if (!pw)
		problem(ck, line, "out of memory");
out_wipe:
	explicit_bzero(data, sizeof(data));
out_close:
	close(fd);
	return pw;
}

/* Reads a password file, refusing one that others can read. */
static char *read_password_file(struct conf_check *ck, int line, const char *file)
{
	return read_secret_file(ck, line, "password_file", file);
}

static const struct {
	const char *name;
	unsigned bit;
} collect_names[] = {
	{"vm", CONF_COLLECT_VM},
	{"host", CONF_COLLECT_HOST},
	{"datastore", CONF_COLLECT_DATASTORE},
	{"question", CONF_COLLECT_QUESTION},
	{"task", CONF_COLLECT_TASK},
	{"perf", CONF_COLLECT_PERF},
	{"perf_vm", CONF_COLLECT_PERF_VM},
};

int conf_collect_describe(unsigned bits, struct buf *out)
{
	const char *sep = "";

	for (size_t k = 0; k < sizeof(collect_names) / sizeof(collect_names[0]); k++) {
		if (!(bits & collect_names[k].bit))
			continue;
		buf_adds(out, sep);
		buf_adds(out, collect_names[k].name);
		sep = ", ";
	}
	return out->failed ? -1 : 0;
}

static unsigned parse_collect(struct conf_check *ck, const config_setting_t *s)
{
	unsigned bits = 0;
	int i, n, type = config_setting_type(s);

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		problem(ck, line_of(s),
			"collect must be an array of strings like [\"vm\", \"host\"], not %s",
			type_name(type));
		return 0;
	}
	n = config_setting_length(s);
	if (n == 0) {
		problem(ck, line_of(s), "collect is empty (leave it out to collect everything)");
		return 0;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
		const char *v;
		size_t k;
		int line = line_of(el) ? line_of(el) : line_of(s);

		if (config_setting_type(el) != CONFIG_TYPE_STRING) {
			problem(ck, line, "collect: element %d must be a string, not %s", i + 1,
				type_name(config_setting_type(el)));
			continue;
		}
		v = config_setting_get_string(el);
		for (k = 0; k < sizeof(collect_names) / sizeof(collect_names[0]); k++)
			if (strcmp(v, collect_names[k].name) == 0)
				break;
		if (k == sizeof(collect_names) / sizeof(collect_names[0])) {
			struct buf known;

			buf_init(&known, 0);
			conf_collect_describe(CONF_COLLECT_KNOWN, &known);
			problem(ck, line, "collect: unknown subject \"%s\" (known: %s)", v,
				known.failed ? "?" : known.data);
			buf_release(&known);
			continue;
		}
		bits |= collect_names[k].bit;
	}
	return bits;
}

static const char *const target_keys[] = {
	"name",	      "url",	    "username",	  "password_file", "password_env", "ca_file",
	"thumbprint", "insecure",   "proxy",	  "collect",	   "timeout",	   "task_retention",
	"root",	      "vm_include", "vm_exclude",
};

static int known_key(const char *name, const char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, keys[i]) == 0)
			return 1;
	return 0;
}

void conf_target_release(struct conf_target *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->url);
	free(t->username);
	free_secret(t->password);
	free(t->ca_file);
	free(t->thumbprint);
	free(t->proxy);
	free(t->root);
	free(t->vm_include);
	free(t->vm_exclude);
	memset(t, 0, sizeof(*t));
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -1;
}

int conf_target_copy(struct conf_target *dst, const struct conf_target *src)
{
	*dst = *src;
	dst->name = dst->url = dst->username = dst->password = NULL;
	dst->ca_file = dst->thumbprint = dst->proxy = NULL;
	dst->root = dst->vm_include = dst->vm_exclude = NULL;
	if (dup_opt(&dst->name, src->name) < 0 || dup_opt(&dst->url, src->url) < 0 ||
	    dup_opt(&dst->username, src->username) < 0 ||
	    dup_opt(&dst->password, src->password) < 0 ||
	    dup_opt(&dst->ca_file, src->ca_file) < 0 ||
	    dup_opt(&dst->thumbprint, src->thumbprint) < 0 ||
	    dup_opt(&dst->proxy, src->proxy) < 0 || dup_opt(&dst->root, src->root) < 0 ||
	    dup_opt(&dst->vm_include, src->vm_include) < 0 ||
	    dup_opt(&dst->vm_exclude, src->vm_exclude) < 0) {
		conf_target_release(dst);
		return -1;
	}
	return 0;
}

void conf_target_session_opts(const struct conf_target *t, struct vi_session_opts *o)
{
	long timeout_ms = t->timeout_s > 0 ? (long)t->timeout_s * 1000 : 60000;

	memset(o, 0, sizeof(*o));
	o->http.url = t->url;
	o->http.ca_file = t->ca_file;
	o->http.thumbprint = t->thumbprint;
	o->http.insecure = t->insecure;
	o->http.proxy = t->proxy;
	o->http.timeout_ms = timeout_ms;
	o->http.connect_timeout_ms = timeout_ms < 10000 ? timeout_ms : 10000;
	o->username = t->username ? t->username : "";
	o->password = t->password ? t->password : "";
}

bool conf_target_cleartext(const struct conf_target *t)
{
	return t->url && strncasecmp(t->url, "http://", 7) == 0;
}

/* Copies the string setting key of g into *out when present and valid. */
static void take_string(struct conf_check *ck, const config_setting_t *g, const char *key,
			char **out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char *v;

	if (!s)
		return;
	v = get_string(ck, s);
	if (v && !(*out = strdup(v)))
		problem(ck, line_of(s), "out of memory");
}

/* An integer setting in [1, max] seconds into *out; a problem otherwise. */
static void take_seconds(struct conf_check *ck, const config_setting_t *s, int max, int *out)
{
	int type = config_setting_type(s);
	long long v;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		problem(ck, line_of(s), "%s must be an integer (seconds), not %s",
			config_setting_name(s), type_name(type));
		return;
	}
	v = type == CONFIG_TYPE_INT ? config_setting_get_int(s) : config_setting_get_int64(s);
	if (v < 1 || v > max) {
		problem(ck, line_of(s), "%s must be between 1 and %d seconds",
			config_setting_name(s), max);
		return;
	}
	*out = (int)v;
}

/* A regex setting: must compile as a POSIX extended regular expression. */
static void take_regex(struct conf_check *ck, const config_setting_t *g, const char *key,
		       char **out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char msg[256];
	regex_t re;
	int rc;

	take_string(ck, g, key, out);
	if (!*out)
		return;
	rc = regcomp(&re, *out, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &re, msg, sizeof(msg));
		problem(ck, line_of(s), "%s: invalid regular expression \"%s\": %s", key, *out,
			msg);
		free(*out);
		*out = NULL;
		return;
	}
	regfree(&re);
}

/* Fills t from the group g; problems are reported, t holds what was valid. */
static void parse_target(struct conf_check *ck, const config_setting_t *g, int index,
			 struct conf_target *t)
{
	const config_setting_t *s, *pf, *pe;
	int i, n, line = line_of(g);
	const char *label;

	t->line = line;
	t->collect = CONF_COLLECT_DEFAULT;
	t->timeout_s = CONF_DEFAULT_TIMEOUT;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		problem(ck, line, "targets: element %d must be a group { name = ...; ... }, not %s",
			index + 1, type_name(config_setting_type(g)));
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		if (!known_key(config_setting_name(s), target_keys,
			       sizeof(target_keys) / sizeof(target_keys[0])))
			problem(ck, line_of(s), "unknown key \"%s\" in target",
				config_setting_name(s));
	}
	take_string(ck, g, "name", &t->name);
	take_string(ck, g, "url", &t->url);
	take_string(ck, g, "username", &t->username);
	take_string(ck, g, "ca_file", &t->ca_file);
	take_string(ck, g, "thumbprint", &t->thumbprint);
	take_string(ck, g, "proxy", &t->proxy);
	s = config_setting_get_member(g, "task_retention");
	if (s)
		take_seconds(ck, s, CONF_MAX_TASK_RETENTION, &t->task_retention_s);
	take_string(ck, g, "root", &t->root);
	if (t->root && t->root[0] != '/')
		problem(ck, line_of(config_setting_get_member(g, "root")),
			"root must be an inventory path like \"/DC1/host/Cluster-A\", not \"%s\"",
			t->root);
	take_regex(ck, g, "vm_include", &t->vm_include);
	take_regex(ck, g, "vm_exclude", &t->vm_exclude);
	label = t->name ? t->name : NULL;
	if (!config_setting_get_member(g, "name"))
		problem(ck, line, "target %d: missing required key \"name\"", index + 1);
	if (!config_setting_get_member(g, "url"))
		problem(ck, line, "target %s: missing required key \"url\"", label ? label : "?");
	if (!config_setting_get_member(g, "username"))
		problem(ck, line, "target %s: missing required key \"username\"",
			label ? label : "?");
	if (t->name) {
		const char *p;

		for (p = t->name; *p; p++)
			if ((unsigned char)*p < ' ' || *p == 0x7f)
				break;
		if (*p) {
			s = config_setting_get_member(g, "name");
			problem(ck, line_of(s), "name must not contain control characters");
		} else if (!buf_utf8_valid(t->name)) {
			s = config_setting_get_member(g, "name");
			problem(ck, line_of(s), "name must be valid UTF-8");
		}
	}
	if (t->url && !url_valid(t->url)) {
		static const char *const schemes[] = {"https", "http", NULL};
		int creds;
		const char *why = url_problem(t->url, schemes, 0, &creds);

		s = config_setting_get_member(g, "url");
		if (creds)
			problem(ck, line_of(s), "invalid url: %s", why);
		else
			problem(ck, line_of(s), "invalid url \"%s\" (want https://host[:port]/sdk)",
				t->url);
	}
	if (t->proxy && *t->proxy) {
		static const char *const schemes[] = {"http",	"https",   "socks4", "socks4a",
						      "socks5", "socks5h", NULL};
		int creds;
		const char *why = url_problem(t->proxy, schemes, 1, &creds);

		/* a proxy may carry credentials: then it is never printed */
		s = config_setting_get_member(g, "proxy");
		if (why && creds)
			problem(ck, line_of(s), "invalid proxy: %s", why);
		else if (why)
			problem(ck, line_of(s),
				"invalid proxy \"%s\": %s (want http://host:port or "
				"socks5://host:port)",
				t->proxy, why);
	}
	if (t->thumbprint) {
		char hex[65];
		struct err e;

		err_clear(&e);
		if (vi_thumbprint_normalize(t->thumbprint, hex, &e) < 0) {
			s = config_setting_get_member(g, "thumbprint");
			problem(ck, line_of(s), "invalid %s", e.msg);
		}
	}
	if (t->ca_file && access(t->ca_file, R_OK) != 0) {
		s = config_setting_get_member(g, "ca_file");
		problem(ck, line_of(s), "ca_file %s: %s", t->ca_file, strerror(errno));
	}
	s = config_setting_get_member(g, "insecure");
	if (s) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			problem(ck, line_of(s), "insecure must be true or false, not %s",
				type_name(config_setting_type(s)));
		else
			t->insecure = config_setting_get_bool(s) != 0;
	}
	if (t->insecure && t->thumbprint) {
		s = config_setting_get_member(g, "insecure");
		problem(ck, line_of(s),
			"target %s: insecure = true and thumbprint contradict each other: remove "
			"insecure to pin the certificate, or thumbprint to skip verification",
			label ? label : "?");
	}
	s = config_setting_get_member(g, "timeout");
	if (s) {
		int type = config_setting_type(s);
		long long v;

		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			problem(ck, line_of(s), "timeout must be an integer (seconds), not %s",
				type_name(type));
		} else {
			v = config_setting_get_int64(s);
			if (type == CONFIG_TYPE_INT)
				v = config_setting_get_int(s);
			if (v < 1 || v > CONF_MAX_TIMEOUT)
				problem(ck, line_of(s), "timeout must be between 1 and %d seconds",
					CONF_MAX_TIMEOUT);
			else
				t->timeout_s = (int)v;
		}
	}
	s = config_setting_get_member(g, "collect");
	if (s) {
		unsigned bits = parse_collect(ck, s);

		if (bits)
			t->collect = bits;
		if ((bits & CONF_COLLECT_PERF) && !(bits & CONF_COLLECT_HOST))
			problem(ck, line_of(s), "collect: \"perf\" (host counters) needs \"host\"");
		if ((bits & CONF_COLLECT_PERF_VM) && !(bits & CONF_COLLECT_VM))
			problem(ck, line_of(s), "collect: \"perf_vm\" (VM counters) needs \"vm\"");
	}
	pf = config_setting_get_member(g, "password_file");
	pe = config_setting_get_member(g, "password_env");
	if (pf && pe) {
		problem(ck, line_of(pe),
			"target %s: password_file and password_env are both set; keep one",
			label ? label : "?");
	} else if (!pf && !pe) {
		problem(ck, line, "target %s: missing password_file or password_env",
			label ? label : "?");
	} else if (pf) {
		const char *file = get_string(ck, pf);

		if (file)
			t->password = read_password_file(ck, line_of(pf), file);
	} else {
		const char *var = get_string(ck, pe);
		const char *v;

		if (var) {
			v = getenv(var);
			if (!v || !*v)
				problem(ck, line_of(pe),
					"password_env: environment variable %s is not set or empty",
					var);
			else if (!(t->password = strdup(v)))
				problem(ck, line_of(pe), "out of memory");
		}
	}
}

/* log_format and log_timestamps. */
static void check_log(struct conf_check *ck, config_setting_t *root, struct conf *c)
{
	config_setting_t *s = config_setting_get_member(root, "log_format");
	enum log_format f = LOG_FORMAT_TEXT;

	c->log_timestamps = -1;
	if (s) {
		const char *v = get_string(ck, s);

		if (v && log_format_parse(v, &f) < 0)
			problem(ck, line_of(s),
				"invalid log_format \"%s\" (want \"text\" or \"logfmt\")", v);
	}
	c->log_format = (int)f;
	s = config_setting_get_member(root, "log_timestamps");
	if (s) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			problem(ck, line_of(s), "log_timestamps must be true or false, not %s",
				type_name(config_setting_type(s)));
		else
			c->log_timestamps = config_setting_get_bool(s) ? 1 : 0;
	}
}

/* A bcrypt hash as htpasswd -B or crypt(3) write it: $2a$, $2b$ or $2y$, cost, 53 characters. */
static int bcrypt_valid(const char *h)
{
	static const char alphabet[] =
		"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[3] != '$' ||
	    !isdigit((unsigned char)h[4]) || !isdigit((unsigned char)h[5]) || h[6] != '$')
		return 0;
	return strspn(h + 7, alphabet) == 53;
}

/* tls_cert_file, tls_key_file and basic_auth (the HTTP endpoints). */
static void check_web(struct conf_check *ck, config_setting_t *root, struct conf *c)
{
	config_setting_t *s, *list = config_setting_get_member(root, "basic_auth");
	static const char *const user_keys[] = {"user", "password_hash"};
	int n;

	take_string(ck, root, "tls_cert_file", &c->tls_cert_file);
	take_string(ck, root, "tls_key_file", &c->tls_key_file);
	if (!c->tls_cert_file != !c->tls_key_file)
		problem(ck,
			line_of(config_setting_get_member(root, c->tls_cert_file ? "tls_cert_file"
										 : "tls_key_file")),
			"tls_cert_file and tls_key_file go together: set both for HTTPS");
	if (c->tls_cert_file && access(c->tls_cert_file, R_OK) != 0)
		problem(ck, line_of(config_setting_get_member(root, "tls_cert_file")),
			"tls_cert_file %s: %s", c->tls_cert_file, strerror(errno));
	if (c->tls_key_file && access(c->tls_key_file, R_OK) != 0)
		problem(ck, line_of(config_setting_get_member(root, "tls_key_file")),
			"tls_key_file %s: %s", c->tls_key_file, strerror(errno));
	if (!list)
		return;
	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		problem(ck, line_of(list),
			"basic_auth must be a list ( { user = ...; password_hash = ...; } ), not "
			"%s",
			type_name(config_setting_type(list)));
		return;
	}
	n = config_setting_length(list);
	c->users = calloc((size_t)n + 1, sizeof(*c->users));
	if (!c->users) {
		problem(ck, line_of(list), "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct conf_user *u = &c->users[c->nusers];

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			problem(ck, line_of(g), "basic_auth entries must be groups { ... }");
			continue;
		}
		c->nusers++;
		for (int j = 0; j < config_setting_length(g); j++) {
			s = config_setting_get_elem(g, (unsigned)j);
			if (!known_key(config_setting_name(s), user_keys, 2))
				problem(ck, line_of(s), "unknown key \"%s\" in basic_auth",
					config_setting_name(s));
		}
		take_string(ck, g, "user", &u->name);
		take_string(ck, g, "password_hash", &u->hash);
		if (!u->name || !u->hash) {
			problem(ck, line_of(g),
				"basic_auth: each entry needs user and password_hash");
			continue;
		}
		for (const char *p = u->name; *p; p++) {
			if ((unsigned char)*p < ' ' || *p == 0x7f || *p == ':') {
				problem(ck, line_of(g),
					"basic_auth: a user name holds no ':' or control "
					"character");
				break;
			}
		}
		if (!bcrypt_valid(u->hash))
			problem(ck, line_of(config_setting_get_member(g, "password_hash")),
				"basic_auth: password_hash of %s is not a bcrypt hash ($2b$..., "
				"from htpasswd -nB USER)",
				u->name);
		for (size_t k = 0; k + 1 < c->nusers; k++)
			if (c->users[k].name && strcmp(c->users[k].name, u->name) == 0)
				problem(ck, line_of(g), "basic_auth: duplicate user \"%s\"",
					u->name);
	}
}

/* ---- remediation and api_token_file ---- */

#define CONF_REM_MAX_PENDING  (30 * 86400)
#define CONF_REM_MAX_PER_HOUR 100000
#define CONF_TOKEN_MIN	      16

const char *conf_rem_action_name(enum conf_rem_action a)
{
	switch (a) {
	case CONF_REM_ANSWER: return "answer";
	case CONF_REM_CANCEL: return "cancel";
	case CONF_REM_REPORT: return "report";
	}
	return "?";
}

/* An integer setting in [min, max] into *out; problems reported. */
static void take_int(struct conf_check *ck, const config_setting_t *s, long long min, long long max,
		     const char *unit, int *out)
{
	int type = config_setting_type(s);
	long long v;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		problem(ck, line_of(s), "%s must be an integer (%s), not %s",
			config_setting_name(s), unit, type_name(type));
		return;
	}
	v = type == CONFIG_TYPE_INT ? config_setting_get_int(s) : config_setting_get_int64(s);
	if (v < min || v > max) {
		problem(ck, line_of(s), "%s must be between %lld and %lld %s",
			config_setting_name(s), min, max, unit);
		return;
	}
	*out = (int)v;
}

static void take_bool(struct conf_check *ck, const config_setting_t *s, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		problem(ck, line_of(s), "%s must be true or false, not %s", config_setting_name(s),
			type_name(config_setting_type(s)));
		return;
	}
	*out = config_setting_get_bool(s) != 0;
}

static void rem_rule_release(struct conf_rem_rule *r)
{
	free(r->message_id);
	free(r->answer);
	free(r->vm);
	free(r->target);
	memset(r, 0, sizeof(*r));
}

/* true when s is only digits: a bare choice key or index. */
static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static void parse_rule(struct conf_check *ck, const config_setting_t *g, int index,
		       const struct conf *c, struct conf_rem_rule *r)
{
	static const char *const rule_keys[] = {"message_id", "answer", "action",
						"vm",	      "target", "min_pending"};
	const config_setting_t *s, *ans, *act;
	int i, n, line = line_of(g);

	r->line = line;
	r->min_pending = -1;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		problem(ck, line, "remediation.rules: element %d must be a group { ... }, not %s",
			index + 1, type_name(config_setting_type(g)));
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		if (!known_key(config_setting_name(s), rule_keys,
			       sizeof(rule_keys) / sizeof(rule_keys[0])))
			problem(ck, line_of(s), "unknown key \"%s\" in a remediation rule",
				config_setting_name(s));
	}
	if (!config_setting_get_member(g, "message_id"))
		problem(ck, line,
			"remediation rule %d: missing required key \"message_id\" (a message id "
			"like \"msg.uuid.altered\", or \"*\")",
			index + 1);
	take_string(ck, g, "message_id", &r->message_id);
	take_string(ck, g, "target", &r->target);
	take_string(ck, g, "vm", &r->vm);
	ans = config_setting_get_member(g, "answer");
	act = config_setting_get_member(g, "action");
	if (ans && act) {
		problem(ck, line_of(act),
			"remediation rule %d: answer and action are both set; "
			"keep one",
			index + 1);
	} else if (!ans && !act) {
		problem(ck, line,
			"remediation rule %d: missing \"answer\" (\"default\" or a choice's label "
			"or summary) or \"action\" (\"cancel\" or \"report\")",
			index + 1);
	} else if (ans) {
		r->action = CONF_REM_ANSWER;
		take_string(ck, g, "answer", &r->answer);
		if (r->answer && all_digits(r->answer)) {
			problem(ck, line_of(ans),
				"answer \"%s\" is a bare choice key or index, which differs "
				"between "
				"ESX versions: name the choice by its label or summary, or say "
				"\"default\"",
				r->answer);
		}
	} else {
		const char *v = get_string(ck, act);

		if (v && strcmp(v, "cancel") == 0)
			r->action = CONF_REM_CANCEL;
		else if (v && strcmp(v, "report") == 0)
			r->action = CONF_REM_REPORT;
		else if (v)
			problem(ck, line_of(act),
				"unknown action \"%s\" (want \"cancel\" or "
				"\"report\"; to answer, use answer = ...)",
				v);
	}
	if (r->vm) {
		regex_t re;
		int rc = regcomp(&re, r->vm, REG_EXTENDED | REG_NOSUB);

		if (rc != 0) {
			char msg[256];

			regerror(rc, &re, msg, sizeof(msg));
			s = config_setting_get_member(g, "vm");
			problem(ck, line_of(s), "vm: invalid regular expression \"%s\": %s", r->vm,
				msg);
		} else {
			regfree(&re);
		}
	}
	if (r->target) {
		size_t k;

		for (k = 0; k < c->ntargets; k++)
			if (c->targets[k].name && strcmp(c->targets[k].name, r->target) == 0)
				break;
		if (k == c->ntargets) {
			s = config_setting_get_member(g, "target");
			problem(ck, line_of(s), "remediation rule %d: no target named \"%s\"",
				index + 1, r->target);
		}
	}
	s = config_setting_get_member(g, "min_pending");
	if (s)
		take_int(ck, s, 0, CONF_REM_MAX_PENDING, "seconds", &r->min_pending);
}

static void parse_remediation(struct conf_check *ck, const config_setting_t *g, struct conf *c)
{
	static const char *const rem_keys[] = {
		"enabled",   "dry_run",	   "min_pending", "max_actions_per_hour",
		"audit_log", "state_file", "rules",
	};
	struct conf_remediation *rm = &c->remediation;
	const config_setting_t *s, *rules;
	int i, n;

	rm->dry_run = true;
	rm->min_pending = 60;
	rm->max_actions_per_hour = 20;
	if (g && config_setting_type(g) != CONFIG_TYPE_GROUP) {
		problem(ck, line_of(g), "remediation must be a group { ... }, not %s",
			type_name(config_setting_type(g)));
		g = NULL;
	}
	rm->line = g ? line_of(g) : 0;
	n = g ? config_setting_length(g) : 0;
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		if (!known_key(config_setting_name(s), rem_keys,
			       sizeof(rem_keys) / sizeof(rem_keys[0])))
			problem(ck, line_of(s), "unknown key \"%s\" in remediation",
				config_setting_name(s));
	}
	if (g && (s = config_setting_get_member(g, "enabled")))
		take_bool(ck, s, &rm->enabled);
	if (g && (s = config_setting_get_member(g, "dry_run")))
		take_bool(ck, s, &rm->dry_run);
	if (g && (s = config_setting_get_member(g, "min_pending")))
		take_int(ck, s, 0, CONF_REM_MAX_PENDING, "seconds", &rm->min_pending);
	if (g && (s = config_setting_get_member(g, "max_actions_per_hour")))
		take_int(ck, s, 0, CONF_REM_MAX_PER_HOUR, "actions", &rm->max_actions_per_hour);
	if (g) {
		take_string(ck, g, "audit_log", &rm->audit_log);
		take_string(ck, g, "state_file", &rm->state_file);
	}
	if (!rm->audit_log)
		rm->audit_log = strdup("/var/lib/vimon/audit.log");
	if (!rm->state_file)
		rm->state_file = strdup("/var/lib/vimon/remediation.state");
	if (!rm->audit_log || !rm->state_file)
		problem(ck, 1, "out of memory");
	else if (strcmp(rm->audit_log, rm->state_file) == 0)
		problem(ck, rm->line,
			"remediation: audit_log and state_file must be different "
			"files");
	rules = g ? config_setting_get_member(g, "rules") : NULL;
	if (!rules)
		return;
	if (config_setting_type(rules) != CONFIG_TYPE_LIST) {
		problem(ck, line_of(rules), "rules must be a list ( { ... }, { ... } ), not %s",
			type_name(config_setting_type(rules)));
		return;
	}
	n = config_setting_length(rules);
	rm->rules = calloc((size_t)n + 1, sizeof(*rm->rules));
	if (!rm->rules) {
		problem(ck, line_of(rules), "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		parse_rule(ck, config_setting_get_elem(rules, (unsigned)i), i, c,
			   &rm->rules[rm->nrules++]);
}

/* The top-level api_token_file: read like a password file, and long enough. */
static void parse_api_token(struct conf_check *ck, const config_setting_t *s, struct conf *c)
{
	const char *file = get_string(ck, s);

	if (!file)
		return;
	c->api_token = read_secret_file(ck, line_of(s), "api_token_file", file);
	if (c->api_token && strlen(c->api_token) < CONF_TOKEN_MIN) {
		problem(ck, line_of(s),
			"api_token_file %s: the token is shorter than %d characters", file,
			CONF_TOKEN_MIN);
	} else if (c->api_token) {
		for (const char *p = c->api_token; *p; p++) {
			if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
				problem(ck, line_of(s),
					"api_token_file %s: the token must be printable ASCII "
					"without "
					"spaces",
					file);
				break;
			}
		}
	}
}

static void remediation_release(struct conf_remediation *rm)
{
	for (size_t i = 0; i < rm->nrules; i++)
		rem_rule_release(&rm->rules[i]);
	free(rm->rules);
	free(rm->audit_log);
	free(rm->state_file);
	memset(rm, 0, sizeof(*rm));
}

static void check_root(struct conf_check *ck, config_t *cfg, struct conf *c)
{
	static const char *const root_keys[] = {
		"listen",     "targets",	"remediation",	 "api_token_file", "task_retention",
		"log_format", "log_timestamps", "tls_cert_file", "tls_key_file",   "basic_auth"};
	config_setting_t *root = config_root_setting(cfg);
	config_setting_t *s, *targets;
	int i, j, n;

	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, (unsigned)i);
		if (!known_key(config_setting_name(s), root_keys,
			       sizeof(root_keys) / sizeof(root_keys[0])))
			problem(ck, line_of(s), "unknown key \"%s\"", config_setting_name(s));
	}
	s = config_setting_get_member(root, "listen");
	if (s) {
		const char *v = get_string(ck, s);

		if (v && !listen_valid(v))
			problem(ck, line_of(s),
				"invalid listen \"%s\" (want HOST:PORT or [IPV6]:PORT)", v);
		else if (v)
			c->listen = strdup(v);
	}
	if (!c->listen)
		c->listen = strdup(CONF_DEFAULT_LISTEN);
	c->task_retention_s = CONF_DEFAULT_TASK_RETENTION;
	s = config_setting_get_member(root, "task_retention");
	if (s)
		take_seconds(ck, s, CONF_MAX_TASK_RETENTION, &c->task_retention_s);
	check_log(ck, root, c);
	check_web(ck, root, c);
	targets = config_setting_get_member(root, "targets");
	if (!targets) {
		problem(ck, 1, "missing required key \"targets\" (a list of targets)");
		return;
	}
	if (config_setting_type(targets) != CONFIG_TYPE_LIST) {
		problem(ck, line_of(targets), "targets must be a list ( { ... }, { ... } ), not %s",
			type_name(config_setting_type(targets)));
		return;
	}
	n = config_setting_length(targets);
	c->targets = calloc((size_t)n + 1, sizeof(*c->targets));
	if (!c->targets) {
		problem(ck, line_of(targets), "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		struct conf_target *t = &c->targets[c->ntargets++];

		parse_target(ck, config_setting_get_elem(targets, (unsigned)i), i, t);
		if (t->task_retention_s == 0)
			t->task_retention_s = c->task_retention_s;
		if (!t->name)
			continue;
		for (j = 0; j < (int)c->ntargets - 1; j++) {
			if (c->targets[j].name && strcmp(c->targets[j].name, t->name) == 0) {
				problem(ck, t->line,
					"duplicate target name \"%s\" (first at line %d)", t->name,
					c->targets[j].line);
				break;
			}
		}
	}
	parse_remediation(ck, config_setting_get_member(root, "remediation"), c);
	s = config_setting_get_member(root, "api_token_file");
	if (s)
		parse_api_token(ck, s, c);
}

int conf_load(const char *path, struct conf **out, struct buf *problems)
{
	struct conf_check ck = {.path = path, .problems = problems, .count = 0};
	struct conf *c;
	config_t cfg;
	int ret = -1;

	c = calloc(1, sizeof(*c));
	if (!c) {
		problem(&ck, 1, "out of memory");
		return -1;
	}
	c->path = strdup(path);
	config_init(&cfg);
	config_set_options(&cfg, 0);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			problem(&ck, 1, "cannot read the file: %s",
				errno ? strerror(errno) : "I/O error");
		else
			problem(&ck, config_error_line(&cfg), "%s", config_error_text(&cfg));
		goto out_destroy;
	}
	check_root(&ck, &cfg, c);
	if (!c->path || !c->listen)
		problem(&ck, 1, "out of memory");
	if (ck.count == 0 && !problems->failed) {
		*out = c;
		c = NULL;
		ret = 0;
	}
out_destroy:
	config_destroy(&cfg);
	conf_free(c);
	return ret;
}

void conf_free(struct conf *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->ntargets; i++)
		conf_target_release(&c->targets[i]);
	free(c->targets);
	remediation_release(&c->remediation);
	free_secret(c->api_token);
	free(c->listen);
	free(c->path);
	free(c->tls_cert_file);
	free(c->tls_key_file);
	for (i = 0; i < c->nusers; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
	}
	free(c->users);
	free(c);
}

static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

int conf_target_equal(const struct conf_target *a, const struct conf_target *b)
{
	return str_eq(a->name, b->name) && str_eq(a->url, b->url) &&
	       str_eq(a->username, b->username) && str_eq(a->password, b->password) &&
	       str_eq(a->ca_file, b->ca_file) && str_eq(a->thumbprint, b->thumbprint) &&
	       str_eq(a->proxy, b->proxy) && a->insecure == b->insecure &&
	       a->collect == b->collect && a->timeout_s == b->timeout_s &&
	       a->task_retention_s == b->task_retention_s && str_eq(a->root, b->root) &&
	       str_eq(a->vm_include, b->vm_include) && str_eq(a->vm_exclude, b->vm_exclude);
}

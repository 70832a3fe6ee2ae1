/* err: recording errors into a fixed-size, caller-owned record. */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[ERR_KIND_COUNT] = {
	[ERR_OK] = "ok",
	[ERR_NOMEM] = "nomem",
	[ERR_INVALID] = "invalid",
	[ERR_SYSTEM] = "system",
	[ERR_CONFIG] = "config",
	[ERR_RESOLVE] = "resolve",
	[ERR_CONNECT] = "connect",
	[ERR_TLS] = "tls",
	[ERR_TIMEOUT] = "timeout",
	[ERR_HTTP] = "http",
	[ERR_TOO_LARGE] = "too_large",
	[ERR_PARSE] = "parse",
	[ERR_FAULT] = "fault",
	[ERR_AUTH] = "auth",
	[ERR_PROTOCOL] = "protocol",
	[ERR_TASK] = "task",
	[ERR_QUESTION] = "question",
	[ERR_CANCELLED] = "cancelled",
	[ERR_VALUE] = "value",
};

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->kind = ERR_OK;
	e->http_status = 0;
	e->fault[0] = '\0';
	e->msg[0] = '\0';
}

static int err_vset(struct err *e, enum err_kind kind, const char *fault, const char *fmt,
		    va_list ap)
{
	if (!e || e->kind != ERR_OK)
		return -1;
	e->kind = kind;
	snprintf(e->fault, sizeof(e->fault), "%s", fault ? fault : "");
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return -1;
}

int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, kind, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int err_set_fault(struct err *e, enum err_kind kind, const char *fault, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, kind, fault, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends the string s to out (of capacity cap, holding *n bytes), truncating. */
static void append_trunc(char *out, size_t cap, size_t *n, const char *s)
{
	size_t len = strlen(s);

	if (len > cap - 1 - *n)
		len = cap - 1 - *n;
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = '\0';
}

void err_prefix(struct err *e, const char *fmt, ...)
{
	char head[ERR_MSG_MAX];
	char out[ERR_MSG_MAX];
	size_t n = 0;
	va_list ap;

	if (!e || e->kind == ERR_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	append_trunc(out, sizeof(out), &n, head);
	append_trunc(out, sizeof(out), &n, ": ");
	append_trunc(out, sizeof(out), &n, e->msg);
	memcpy(e->msg, out, sizeof(out));
}

const char *err_kind_name(enum err_kind kind)
{
	if ((int)kind < 0 || kind >= ERR_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

void err_copy(struct err *dst, const struct err *src)
{
	if (dst && dst->kind == ERR_OK)
		*dst = *src;
}

int err_is_fault(const struct err *e, const char *fault)
{
	return e && e->kind != ERR_OK && strcmp(e->fault, fault) == 0;
}

/* err: the one error record every vimon function fills on failure. */
#ifndef VIMON_UTIL_ERR_H
#define VIMON_UTIL_ERR_H

/*
 * Kinds are stable: their names (err_kind_name) are used as the `kind` label of
 * vsphere_collector_errors_total and in the JSON API.
 */
enum err_kind {
	ERR_OK = 0,
	ERR_NOMEM,     /* allocation failed */
	ERR_INVALID,   /* bad argument from the caller or the user */
	ERR_SYSTEM,    /* a system call failed (errno in the message) */
	ERR_CONFIG,    /* configuration problem */
	ERR_RESOLVE,   /* name resolution failed */
	ERR_CONNECT,   /* TCP connect failed or refused */
	ERR_TLS,       /* TLS handshake, certificate or thumbprint problem */
	ERR_TIMEOUT,   /* connect or total timeout */
	ERR_HTTP,      /* HTTP error status without a SOAP fault */
	ERR_TOO_LARGE, /* reply larger than the configured cap */
	ERR_PARSE,     /* malformed, truncated, hostile or non-XML reply */
	ERR_FAULT,     /* the server answered with a SOAP fault (see err.fault) */
	ERR_AUTH,      /* login refused (InvalidLogin) */
	ERR_PROTOCOL,  /* well-formed reply that is not what the API promises */
	ERR_TASK,      /* a task ended in state error (see err.fault) */
	ERR_QUESTION,  /* a VM question blocks the requested action */
	ERR_CANCELLED, /* an operation was cancelled or its deadline passed */
	ERR_VALUE,     /* a property value that does not parse as its declared type */
	ERR_KIND_COUNT
};

#define ERR_FAULT_MAX 64
#define ERR_MSG_MAX   512

/*
 * A caller-owned, fixed-size error: filling it never allocates. The first error
 * wins: once kind is not ERR_OK, later err_set() calls leave it unchanged.
 * fault holds the vSphere fault type without the "Fault" suffix (e.g.
 * "NotAuthenticated") when the error came from a SOAP fault or a failed task.
 */
struct err {
	enum err_kind kind;
	int http_status;
	char fault[ERR_FAULT_MAX];
	char msg[ERR_MSG_MAX];
};

/* Resets e to ERR_OK. e may be NULL. */
void err_clear(struct err *e);

/* Copies src into dst unless dst already holds an error (the first error
 * wins). dst may be NULL. */
void err_copy(struct err *dst, const struct err *src);

/* Records an error (unless one is already recorded) and returns -1. e may be NULL. */
int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like err_set, and records the vSphere fault type too. */
int err_set_fault(struct err *e, enum err_kind kind, const char *fault, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefixes the recorded message with "what: " (context added by an outer layer). */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stable lower-case name of a kind ("tls", "fault", ...). */
const char *err_kind_name(enum err_kind kind);

/* 1 when e holds a fault of the given type, 0 otherwise. */
int err_is_fault(const struct err *e, const char *fault);

#endif

/* agent/rem_internal: what the remediation module's files share (not for other modules). */
#ifndef VIMON_AGENT_REM_INTERNAL_H
#define VIMON_AGENT_REM_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "agent/remediation.h"
#include "agent/remrule.h"
#include "agent/remstate.h"
#include "util/log.h"
#include "vi/session.h"

struct rem_counter {
	struct rem_counter *next;
	char *target, *action, *result;
	unsigned long n;
};

/* One target the module acts on, with its own session. */
struct rem_target {
	struct conf_target ct; /* deep copy */
	struct vi_session *s;
	pthread_mutex_t lock; /* one call at a time on s */
	/* rate window (under the module's lock): times of the last actions */
	double *sent;
	size_t cap, head, n;
};

struct remediation {
	pthread_mutex_t lock; /* counters, ring, rate windows, generation, audit writes */
	struct rem_target *targets;
	size_t ntargets;
	struct rem_rules *rules;
	struct remstate *state;
	int audit_fd;
	char *audit_path;
	bool enabled, dry_run;
	int per_hour;
	char *token; /* NULL: no HTTP actions */
	struct rem_source src;
	struct snapshot_slot *slot;
	unsigned long generation;
	struct rem_counter *counters;
	json_t *ring; /* decisions, newest first */
	json_t *seen; /* rule thread only: key -> {"r": result, "t": time} */
	struct log_backoff audit_backoff;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	int stop;	  /* atomic */
	double logout_at; /* monotonic deadline of the final logouts, 0 before */
};

/* One decision, as audited. Strings borrowed. */
struct rem_dec {
	const char *target, *vm, *vm_id, *qid, *message_id, *text;
	const json_t *choices;
	char rule[64]; /* "" for HTTP actions */
	const char *client;
	const char *action;   /* answer, cancel, report, power */
	const char *decision; /* answer, cancel, report, skip, dry-run, power */
	const char *result;
	const char *choice; /* the key sent (or that would be) */
	const char *task;
	char message[768];
};

/* Seconds since the epoch. */
double rem_now(void);

/* A JSON string of s with invalid UTF-8 replaced, or JSON null for NULL. */
json_t *rem_jstr(const char *s);

/* Audits d (one JSON line, fsync'd), keeps it for /api/v1/remediation,
 * counts it and logs it. */
void rem_record(struct remediation *r, const struct rem_dec *d);

/* Takes one action from target t's hourly budget: true, or false when spent. */
bool rem_rate_take(struct remediation *r, struct rem_target *t, double now);

/* The target named name, or NULL. Borrowed. */
struct rem_target *rem_find_target(struct remediation *r, const char *name);

/* Logs t's session in when needed. Call with t->lock held. 0 or -1 with e. */
int rem_login(struct rem_target *t, struct err *e);

/* true when a failed state-changing call certainly never reached vCenter's
 * handler (it may be tried again); anything else may have been applied. */
bool rem_never_sent(const struct err *e);

/* The summary (else label) of choice key in choices, or "". Borrowed. */
const char *rem_choice_label(const json_t *choices, const char *key);

/* Answers d's question with d->choice on t by the never-twice rule and the
 * rate limit (dry: decides only); fills d's decision, result and message.
 * by names who asks, for the state file. Does not record d. */
void rem_answer(struct remediation *r, struct rem_target *t, struct rem_dec *d, const char *by,
		bool dry);

/* The current snapshots (each with a reference) in a malloc'd array of *n;
 * rem_put_snapshots releases them. */
struct snapshot **rem_get_snapshots(struct remediation *r, size_t *n);
void rem_put_snapshots(struct snapshot **v, size_t n);

/* The target name of a snapshot, or NULL. Borrowed. */
const char *rem_snap_target(const struct snapshot *s);

/* Zeroes d and fills its question part from the question object q of the
 * JSON API (borrowed: q must outlive d). */
void rem_dec_from_question(struct rem_dec *d, const char *target, const json_t *q,
			   const char *message_id);

#endif

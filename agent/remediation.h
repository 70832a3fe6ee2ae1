/* agent/remediation: answers or cancels what VM questions block, by rule or on an HTTP action, audited. */
#ifndef VIMON_AGENT_REMEDIATION_H
#define VIMON_AGENT_REMEDIATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "agent/conf.h"
#include "agent/snapshot.h"
#include "util/err.h"

/* Where the module reads the targets' current snapshots (as struct
 * http_source: each returned snapshot carries a reference for the caller). */
struct rem_source {
	size_t (*snapshots)(void *ud, struct snapshot **snaps, size_t max, unsigned long *epoch);
	void *ud;
};

struct remediation;

/* true when c asks for the module: remediation enabled, or an api_token_file. */
bool remediation_wanted(const struct conf *c);

/*
 * Starts the module for c: opens the audit log (O_APPEND) and the state file
 * (loaded: a corrupt one is an error), and, when remediation is enabled,
 * the rule thread, which reads the snapshots from src about once a second
 * and acts on its own vi session per target. It publishes its metric family
 * (vsphere_remediation_actions_total) into slot. prev (may be NULL, already
 * stopped with remediation_stop) hands over its counters, rate-limit windows
 * and recent decisions (a reload). On success *out (NULL on entry) is the
 * caller's (remediation_free); -1 with e set.
 */
int remediation_new(const struct conf *c, const struct rem_source *src, struct snapshot_slot *slot,
		    struct remediation *prev, struct remediation **out, struct err *e);

/* Stops the rule thread and aborts calls in flight; the object stays
 * readable (for a successor's prev). NULL is fine. */
void remediation_stop(struct remediation *r);

/* Starts the rule thread again after remediation_stop (a reload that failed
 * keeps the running module). NULL is fine. */
void remediation_resume(struct remediation *r);

/* Stops (if needed), logs out and frees. NULL is fine. */
void remediation_free(struct remediation *r);

/* true when the HTTP actions exist (an api_token_file is configured). */
bool remediation_actions_enabled(const struct remediation *r);

/* 1 when authorization (the Authorization header, NULL when absent) is
 * "Bearer TOKEN" with the configured token (compared in constant time). */
int remediation_authorize(const struct remediation *r, const char *authorization);

/* 1 when authorization is "Bearer TOKEN" with token, compared in constant
 * time (no early exit on the first difference); 0 otherwise. */
int rem_bearer_ok(const char *token, const char *authorization);

/* The largest POST body accepted (bytes); larger ones get 413. */
#define REM_BODY_MAX 16384

/*
 * Runs the POST action at path ("/api/v1/questions/answer",
 * "/api/v1/vms/power") with the JSON body (len bytes, untrusted) for client
 * (its address, for the audit). Returns the HTTP status and sets *reply (a
 * malloc'd JSON object {"result": ..., "message": ..., ...} of *reply_len
 * bytes, NULL only when out of memory). May take as long as the call to
 * vCenter.
 */
unsigned remediation_post(struct remediation *r, const char *path, const char *body, size_t len,
			  const char *client, char **reply, size_t *reply_len);

/* GET /api/v1/remediation: the recent decisions, newest first (malloc'd
 * JSON array and newline of *len bytes; NULL when out of memory). */
char *remediation_decisions(struct remediation *r, size_t *len);

/* GET /api/v1/actions: {"enabled": bool, "ops": [...]} for r (NULL: none). */
char *remediation_actions_json(const struct remediation *r, size_t *len);

/*
 * Parses an HTTP action body: a JSON object whose members are all among the
 * names[n] and are strings, except those in bools (may be NULL) which are
 * booleans. On success vals[i] is the string of names[i] (borrowed from
 * *root, NULL when absent) and bool_vals[i] the boolean; *root (the caller's
 * json_decref) holds them. -1 with why (a human sentence) otherwise.
 */
int rem_parse_body(const char *body, size_t len, const char *const *names, size_t n,
		   const char *const *bools, size_t nbools, json_t **root, const char **vals,
		   bool *bool_vals, char *why, size_t whysz);

#endif

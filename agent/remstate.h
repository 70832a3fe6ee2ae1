/* agent/remstate: the never-twice record of answered questions, kept in a state file. */
#ifndef VIMON_AGENT_REMSTATE_H
#define VIMON_AGENT_REMSTATE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/*
 * One answer per (target, vm_id, question id), whoever asks. The state file
 * holds one JSON object per line:
 *   {"time":1795258800.5,"target":"vc1","vm_id":"vm-57","question_id":"q1",
 *    "state":"sending","by":"rule 1","choice":"2"}
 * state is "sending" (written and fsync'd before AnswerVM goes out),
 * "answered", "failed" (the server refused it), "unknown" (no reply: it may
 * have been applied) or "released" (it never left: the entry is dropped). The
 * last line of a key wins. Lines are only appended (O_APPEND, fsync); the file
 * is rewritten compactly when opened.
 */
struct remstate;

/* What the state says about one question. Strings are copies in fixed arrays. */
struct remstate_entry {
	char state[16];
	char by[128];
	char choice[64];
	double time;
};

#define REMSTATE_MAX_LINE  8192
#define REMSTATE_MAX_FIELD 1024

/*
 * Opens (creating it, mode 0600) and loads path. A file that cannot be read or
 * holds a malformed line is an error naming the line ("PATH:LINE: ..."), never
 * a crash: remediation must not run without knowing what it already answered.
 * A last line without its newline (a write cut short, never followed by an
 * AnswerVM) is dropped; *dropped (may be NULL) says so. Entries older than
 * max_age_s (> 0) are forgotten. On success *out (NULL on entry) is the
 * caller's (remstate_free).
 */
int remstate_open(const char *path, double max_age_s, struct remstate **out, bool *dropped,
		  struct err *e);

/* Why remstate_open kept the file as it was (its rewrite failed, e.g. on a
 * full disk: the file is loaded and appended to as it is), or NULL. */
const char *remstate_warning(const struct remstate *st);

/* Closes and frees. NULL is fine. */
void remstate_free(struct remstate *st);

/* Number of questions recorded. */
size_t remstate_count(const struct remstate *st);

/* true when the question is recorded; *out (may be NULL) gets its entry. */
bool remstate_get(struct remstate *st, const char *target, const char *vm_id, const char *qid,
		  struct remstate_entry *out);

/*
 * Claims the question for one answer: atomically checks that it is not
 * recorded and records it as "sending" (appended and fsync'd) before the
 * caller sends anything. Returns 1 when claimed, 0 when already recorded
 * (*prev, may be NULL, gets the entry), -1 with e set when the record could
 * not be written (then nothing must be sent).
 */
int remstate_claim(struct remstate *st, const char *target, const char *vm_id, const char *qid,
		   const char *by, const char *choice, struct remstate_entry *prev, struct err *e);

/*
 * Records the outcome of a claimed question: "answered", "failed", "unknown",
 * or "released" (nothing was sent: the question may be claimed again). 0, or
 * -1 with e set (the entry stays in memory with the new state).
 */
int remstate_settle(struct remstate *st, const char *target, const char *vm_id, const char *qid,
		    const char *state, struct err *e);

/*
 * Appends len bytes of data to fd (opened with O_APPEND, its writers
 * serialised by the caller) and fsyncs. 0, or -1 with errno set; then the
 * file is cut back to its size before the call, so that a line written in
 * part (a full disk) never merges with the next one into a malformed line.
 */
int remstate_append_sync(int fd, const char *data, size_t len);

#endif

/* ctl: vimonctl's shared pieces (exit codes, VM lookup by name or moref, output helpers). */
#ifndef VIMON_CTL_CTL_H
#define VIMON_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"
#include "vi/session.h"

/* Exit codes (see --help and vimonctl(8)). */
enum {
	CTL_OK = 0,	     /* done */
	CTL_NOT_DONE = 1,    /* the operation did not happen: blocked, refused, failed */
	CTL_USAGE = 2,	     /* usage or configuration error, ambiguous VM name */
	CTL_UNREACHABLE = 3, /* cannot reach or log in to the target */
};

/* What every command gets. */
struct ctl {
	struct vi_session *s; /* NULL: a command checks its arguments only */
	const char *target;   /* the target's name in vimon.conf */
};

/* The exit code for a failed call: CTL_UNREACHABLE for transport and login
 * errors, CTL_NOT_DONE otherwise. */
int ctl_exit_for(const struct err *e);

/* Prints "vimonctl: MESSAGE" to stderr (message shown safely) and returns code. */
int ctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One VM of the inventory: moref, stored (percent-encoded) and decoded name (owned). */
struct ctl_vm {
	char *moref;
	char *raw;
	char *name;
};

void ctl_vms_free(struct ctl_vm *v, size_t n);

/*
 * Every VM of the target with its decoded name; with_question, only the VMs
 * whose runtime.question is set. *out (NULL on entry) is the caller's
 * (ctl_vms_free). -1 with e set.
 */
int ctl_list_vms(struct ctl *c, bool with_question, struct ctl_vm **out, size_t *n, struct err *e);

/*
 * The moref of the VM the user named: a moref ("vm-42") as it is, or a
 * decoded display name, percent-encoded as vSphere stores it before the
 * lookup. On success *moref (NULL on entry) is the caller's and 0 is
 * returned; otherwise the problem is printed and the exit code returned
 * (CTL_NOT_DONE: no such VM; CTL_USAGE: ambiguous, the candidates listed;
 * CTL_UNREACHABLE).
 */
int ctl_resolve_vm(struct ctl *c, const char *arg, char **moref);

/* True when s looks like a VM moref ("vm-" and digits). */
bool ctl_is_vm_moref(const char *s);

/* Appends s decoded from vSphere's percent-encoding and shown safely. */
void ctl_add_name(struct buf *b, const char *raw);

/* The commands: argc/argv start at the command's name. Each returns an exit code.
 * With c->s NULL a command checks its arguments only (CTL_OK or CTL_USAGE). */
int ctl_cmd_questions(struct ctl *c, int argc, char **argv);
int ctl_cmd_answer(struct ctl *c, int argc, char **argv);
int ctl_cmd_lifecycle(struct ctl *c, int argc, char **argv);
int ctl_cmd_tasks(struct ctl *c, int argc, char **argv);
int ctl_cmd_cancel(struct ctl *c, int argc, char **argv);

#endif

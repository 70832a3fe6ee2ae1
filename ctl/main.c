/* vimonctl: one-shot operator commands against a target of vimon.conf (questions, answers, power). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "ctl/ctl.h"

#define DEFAULT_CONFIG "/etc/vimon/vimon.conf"

static const char usage_text[] =
	"Usage: vimonctl [-c CONFIG] [-T TARGET] COMMAND [ARGS]\n"
	"Talks to a vCenter or ESX target of vimon.conf directly (no agent needed).\n"
	"\n"
	"  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
	"  -T, --target NAME   the target to use (needed when the file has several)\n"
	"  -h, --help          this help\n"
	"  -V, --version       print the version\n"
	"\n"
	"Commands:\n"
	"  questions [--json]\n"
	"      pending VM questions: target, VM, vm_id, question id, message id, age,\n"
	"      text, choices (* marks the default). vCenter does not say when a question\n"
	"      was asked: AGE is the time since the oldest queued or running task of the\n"
	"      VM (the task the question blocks) was queued, \"-\" when there is none.\n"
	"  answer VM (--choice LABEL|KEY|SUMMARY | --default) [--question ID]\n"
	"      answers the VM's pending question (only with --question ID: only that one);\n"
	"      a choice that is not offered is refused, naming the offered ones.\n"
	"  power-on|power-off|reset|suspend VM [--auto-answer] [--timeout S] [--no-wait]\n"
	"  shutdown|reboot|standby VM [--auto-answer] [--timeout S] [--no-wait]\n"
	"      runs the operation with the ESX question algorithm: a question already\n"
	"      pending is reported (with --auto-answer: answered with its default choice,\n"
	"      and the operation is not started); another pending task refuses it; a\n"
	"      question raised while waiting is answered (--auto-answer) or reported and\n"
	"      the task cancelled when it can be. shutdown, reboot and standby are guest\n"
	"      operations: the call, then a wait for the power state (not for reboot).\n"
	"      --timeout: the overall bound in seconds (default 300).\n"
	"  tasks [VM]\n"
	"      the target's recent tasks (of one VM).\n"
	"  cancel TASK\n"
	"      CancelTask on a task moref (task-N).\n"
	"\n"
	"VM is a display name as shown (e.g. odd/slash: vimonctl encodes it as vSphere\n"
	"stores it) or a moref (vm-42). A name several VMs share lists them and exits 2.\n"
	"\n"
	"Exit status: 0 done; 1 the operation did not happen (blocked by a question,\n"
	"refused, task failed, no such VM: the reason is printed); 2 usage or\n"
	"configuration error, ambiguous VM name; 3 cannot reach or log in to the target.\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int should_abort(void *ud)
{
	(void)ud;
	return interrupted;
}

static const struct conf_target *pick_target(const struct conf *conf, const char *name)
{
	if (!name) {
		if (conf->ntargets == 1)
			return &conf->targets[0];
		if (conf->ntargets == 0)
			ctl_fail(CTL_USAGE, "%s has no target", conf->path);
		else
			ctl_fail(CTL_USAGE, "%s has %zu targets: choose one with -T NAME",
				 conf->path, conf->ntargets);
		return NULL;
	}
	for (size_t i = 0; i < conf->ntargets; i++) {
		if (strcmp(conf->targets[i].name, name) == 0)
			return &conf->targets[i];
	}
	ctl_fail(CTL_USAGE, "no target \"%s\" in %s", name, conf->path);
	return NULL;
}

static struct vi_session *open_session(const struct conf_target *ct, struct err *e)
{
	struct vi_session_opts o;

	conf_target_session_opts(ct, &o);
	return vi_session_new(&o, e);
}

static const struct {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
} commands[] = {
	{"questions", ctl_cmd_questions}, {"answer", ctl_cmd_answer},
	{"power-on", ctl_cmd_lifecycle},  {"power-off", ctl_cmd_lifecycle},
	{"reset", ctl_cmd_lifecycle},	  {"suspend", ctl_cmd_lifecycle},
	{"shutdown", ctl_cmd_lifecycle},  {"reboot", ctl_cmd_lifecycle},
	{"standby", ctl_cmd_lifecycle},	  {"tasks", ctl_cmd_tasks},
	{"cancel", ctl_cmd_cancel},
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"target", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG, *target = NULL;
	int (*run)(struct ctl *, int, char **) = NULL;
	const struct conf_target *ct;
	struct conf *conf = NULL;
	struct ctl c = {0};
	struct sigaction sa;
	struct buf problems;
	struct err e;
	int opt, rc, cmd;

	/* "+": options after the command belong to the command */
	while ((opt = getopt_long(argc, argv, "+c:T:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'T': target = optarg; break;
		case 'h': fputs(usage_text, stdout); return CTL_OK;
		case 'V': printf("vimonctl %s\n", VIMON_VERSION); return CTL_OK;
		default: fputs(usage_text, stderr); return CTL_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return CTL_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, argv[optind]) == 0)
			run = commands[i].run;
	}
	if (!run) {
		ctl_fail(CTL_USAGE, "unknown command \"%s\" (see vimonctl --help)", argv[optind]);
		return CTL_USAGE;
	}
	/* the command's arguments first (no session: a check only), so that a
	 * usage error is exit 2 without a login, whether the target answers or not */
	cmd = optind; /* the commands' getopt moves optind */
	rc = run(&c, argc - cmd, argv + cmd);
	if (rc != CTL_OK)
		return rc;
	buf_init(&problems, 0);
	if (conf_load(path, &conf, &problems) < 0) {
		fputs(problems.data, stderr);
		buf_release(&problems);
		return CTL_USAGE;
	}
	buf_release(&problems);
	ct = pick_target(conf, target);
	if (!ct) {
		conf_free(conf);
		return CTL_USAGE;
	}
	if (ct->insecure)
		ctl_fail(0, "warning: target %s: insecure = true: the certificate is NOT verified",
			 ct->name);
	if (conf_target_cleartext(ct))
		ctl_fail(0, "warning: target %s: plain http: the password travels in clear text",
			 ct->name);

	/* Ctrl-C ends the call in flight; the session is still logged out */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	err_clear(&e);
	c.target = ct->name;
	c.s = open_session(ct, &e);
	if (!c.s) {
		rc = ctl_fail(CTL_USAGE, "target %s: %s", ct->name, e.msg);
		goto out_conf;
	}
	vi_session_set_abort(c.s, should_abort, NULL);
	if (vi_session_login(c.s, &e) < 0) {
		rc = ctl_fail(e.kind == ERR_CANCELLED ? CTL_NOT_DONE : CTL_UNREACHABLE,
			      "cannot log in to %s: %s", ct->name, e.msg);
		goto out_session;
	}
	rc = run(&c, argc - cmd, argv + cmd);
	if (interrupted && rc == CTL_OK)
		rc = CTL_NOT_DONE;
out_session:
	/* the logout must not be aborted by the interruption that ended the command */
	vi_session_set_abort(c.s, NULL, NULL);
	err_clear(&e);
	if (vi_session_logged_in(c.s))
		vi_session_logout(c.s, &e);
	vi_session_free(c.s);
out_conf:
	conf_free(conf);
	return rc;
}

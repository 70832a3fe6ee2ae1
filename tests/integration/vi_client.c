/* Integration tests of vi/ (transport, session, property collector, tasks) against vimon-sim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <time.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/testutil.h"
#include "util/buf.h"
#include "util/err.h"
#include "vi/pc.h"
#include "vi/pc_tasks.h"
#include "vi/question.h"
#include "vi/session.h"
#include "vi/task.h"

/*
 * Environment (set by tests/integration/test_vi.sh):
 *   VI_SIM_URL   the SOAP URL (…/sdk)       VI_SIM_BASE  http(s)://127.0.0.1:PORT
 *   VI_SHA256, VI_SHA1, VI_CERT             with the -tls simulator
 * argv[1] picks the group: basic, faults, tls, esx, net.
 */

static const char *sim_url;
static const char *sim_base;

/* ---- the simulator's control API (tests/support/simctl.c) ---- */

/* GET (json NULL) or POST a control endpoint; the decoded JSON reply (caller
 * frees). Fails the test on an HTTP error. */
static json_t *simctl(const char *path, const char *json)
{
	return test_simctl(sim_base, path, json);
}

static void simctl_do(const char *path, const char *json)
{
	json_decref(test_simctl(sim_base, path, json));
}

static long sim_calls(const char *method)
{
	return test_sim_calls(sim_base, method);
}

/* The power state of a VM as the simulator sees it (static copy). */
static const char *sim_power(const char *vm)
{
	static char state[32];
	json_t *inv = simctl("/_sim/inventory", NULL);
	json_t *vms = json_object_get(inv, "vms"), *v;
	size_t i;

	state[0] = '\0';
	json_array_foreach(vms, i, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "moref")), vm) == 0)
			snprintf(state, sizeof(state), "%s",
				 json_string_value(json_object_get(v, "power")));
	}
	json_decref(inv);
	return state;
}

/* Some VM in the given power state, not an odd-named one (static copy). */
static const char *sim_vm(const char *power, int skip)
{
	static char moref[4][32];
	static int slot;
	json_t *inv = simctl("/_sim/inventory", NULL);
	json_t *vms = json_object_get(inv, "vms"), *v;
	char *out = moref[slot++ % 4];
	size_t i;

	out[0] = '\0';
	json_array_foreach(vms, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));

		/* not the odd names ("odd...", "\xc3\xb6dd ...") nor encoded ones */
		if (strncmp(name, "odd", 3) == 0 || (unsigned char)name[0] >= 0x80 ||
		    strchr(name, '%'))
			continue;
		if (strcmp(json_string_value(json_object_get(v, "power")), power) != 0)
			continue;
		if (skip-- > 0)
			continue;
		snprintf(out, 32, "%s", json_string_value(json_object_get(v, "moref")));
		break;
	}
	json_decref(inv);
	if (!out[0])
		fail_msg("no VM in state %s", power);
	return out;
}

static void set_power(const char *vm, const char *state)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"vm\":\"%s\",\"state\":\"%s\"}", vm, state);
	simctl_do("/_sim/vm/power", body);
}

/* Posts a question with choices 0 (Yes, default) and 1 (No); its id (static). */
static const char *ask(const char *vm)
{
	static char id[64];
	char body[512];
	json_t *r;

	snprintf(body, sizeof(body),
		 "{\"vm\":\"%s\",\"text\":\"Did you move or copy it?\","
		 "\"message_ids\":[\"msg.uuid.altered\"],\"choices\":[{\"key\":\"0\","
		 "\"label\":\"Yes\"},{\"key\":\"1\",\"label\":\"No\"}],\"default\":0}",
		 vm);
	r = simctl("/_sim/question", body);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
	assert_true(id[0] != '\0');
	return id;
}

static void clear_question(const char *vm)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"vm\":\"%s\"}", vm);
	simctl_do("/_sim/question/clear", body);
}

/* ---- sessions ---- */

struct seen_call {
	char method[48];
	size_t bytes;
	enum err_kind kind;
};

struct observer {
	struct seen_call calls[64];
	size_t n;
};

static void on_call(void *ud, const char *method, double seconds, size_t bytes, const struct err *e)
{
	struct observer *o = ud;

	assert_true(seconds >= 0);
	if (o->n < 64) {
		snprintf(o->calls[o->n].method, sizeof(o->calls[o->n].method), "%s", method);
		o->calls[o->n].bytes = bytes;
		o->calls[o->n].kind = e ? e->kind : ERR_OK;
		o->n++;
	}
}

static void base_opts(struct vi_session_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->http.url = sim_url;
	o->http.connect_timeout_ms = 5000;
	o->http.timeout_ms = 30000;
	o->username = "vimon";
	o->password = "secret";
}

static struct vi_session *session_with(const struct vi_session_opts *o, struct observer *obs)
{
	struct err e;
	struct vi_session *s;

	err_clear(&e);
	s = vi_session_new(o, &e);
	if (!s)
		fail_msg("vi_session_new: %s", e.msg);
	if (obs) {
		struct vi_call_observer co = {.on_call = on_call, .ud = obs};

		vi_session_set_observer(s, &co);
	}
	return s;
}

static struct vi_session *logged_in(void)
{
	struct vi_session_opts o;
	struct vi_session *s;
	struct err e;

	base_opts(&o);
	s = session_with(&o, NULL);
	err_clear(&e);
	if (vi_session_login(s, &e) < 0)
		fail_msg("login: %s", e.msg);
	return s;
}

/* ---- login ---- */

static void test_login_good(void **state)
{
	struct vi_session_opts o;
	struct observer obs = {0};
	struct vi_session *s;
	const struct vi_service_content *sc;
	struct err e;

	(void)state;
	simctl_do("/_sim/stats/reset", "{}");
	base_opts(&o);
	s = session_with(&o, &obs);
	assert_false(vi_session_logged_in(s));
	assert_null(vi_get_service_content(s));
	err_clear(&e);
	assert_int_equal(vi_session_login(s, &e), 0);
	assert_true(vi_session_logged_in(s));
	assert_int_equal(vi_session_login_count(s), 1);
	sc = vi_get_service_content(s);
	assert_non_null(sc);
	assert_string_equal(sc->api_type, "VirtualCenter");
	assert_non_null(sc->root_folder);
	assert_non_null(sc->property_collector);
	assert_non_null(sc->view_manager);
	assert_non_null(sc->api_version);
	assert_int_equal(obs.n, 2);
	assert_string_equal(obs.calls[0].method, "RetrieveServiceContent");
	assert_string_equal(obs.calls[1].method, "Login");
	assert_true(obs.calls[0].bytes > 500);
	assert_true(obs.calls[1].bytes > 0);
	assert_int_equal(obs.calls[1].kind, ERR_OK);
	assert_int_equal(sim_calls("Login"), 1);
	err_clear(&e);
	assert_int_equal(vi_session_logout(s, &e), 0);
	assert_false(vi_session_logged_in(s));
	assert_int_equal(sim_calls("Logout"), 1);
	/* logging in again after a logout works */
	assert_int_equal(vi_session_login(s, &e), 0);
	assert_int_equal(vi_session_login_count(s), 2);
	vi_session_free(s);
	assert_int_equal(sim_calls("Logout"), 2);
}

static void test_login_bad_password(void **state)
{
	struct vi_session_opts o;
	struct observer obs = {0};
	struct vi_session *s;
	struct err e;

	(void)state;
	simctl_do("/_sim/stats/reset", "{}");
	base_opts(&o);
	o.password = "wrong";
	s = session_with(&o, &obs);
	err_clear(&e);
	assert_int_equal(vi_session_login(s, &e), -1);
	assert_int_equal(e.kind, ERR_AUTH);
	assert_string_equal(e.fault, "InvalidLogin");
	assert_false(vi_session_logged_in(s));
	assert_int_equal(vi_session_login_count(s), 0);
	assert_int_equal(sim_calls("Login"), 1);
	assert_int_equal(obs.n, 2);
	assert_int_equal(obs.calls[1].kind, ERR_AUTH);
	vi_session_free(s);
	assert_int_equal(sim_calls("Login"), 1);
	assert_int_equal(sim_calls("Logout"), 0);
}

/* A password with every XML special character reaches the server intact. */
static void test_login_special_password(void **state)
{
	struct vi_session_opts o;
	struct vi_session *s;
	struct err e;

	(void)state;
	base_opts(&o);
	o.password = "<p&ss\"w'rd>]]></password>";
	o.username = "us&er<'\">";
	s = session_with(&o, NULL);
	err_clear(&e);
	assert_int_equal(vi_session_login(s, &e), 0);
	vi_session_free(s);
}

static void test_relogin_after_expiry(void **state)
{
	static const char *const types[] = {"VirtualMachine"};
	struct observer obs = {0};
	struct vi_session_opts o;
	struct vi_session *s;
	char *view = NULL;
	struct err e;

	(void)state;
	base_opts(&o);
	s = session_with(&o, &obs);
	err_clear(&e);
	assert_int_equal(vi_session_login(s, &e), 0);
	simctl_do("/_sim/stats/reset", "{}");
	simctl_do("/_sim/fault", "{\"kind\":\"expire-sessions\"}");
	assert_int_equal(vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e), 0);
	assert_non_null(view);
	assert_int_equal(vi_session_login_count(s), 2);
	assert_int_equal(sim_calls("Login"), 1);
	assert_int_equal(sim_calls("CreateContainerView"), 2);
	/* the observer saw the refused call, the login and the resent call */
	assert_true(obs.n >= 5);
	assert_string_equal(obs.calls[obs.n - 3].method, "CreateContainerView");
	assert_int_equal(obs.calls[obs.n - 3].kind, ERR_FAULT);
	assert_string_equal(obs.calls[obs.n - 2].method, "Login");
	assert_string_equal(obs.calls[obs.n - 1].method, "CreateContainerView");
	assert_int_equal(obs.calls[obs.n - 1].kind, ERR_OK);
	assert_int_equal(vi_pc_destroy_view(s, view, &e), 0);
	free(view);
	vi_session_free(s);
}

/* ---- the property collector ---- */

struct inventory_seen {
	json_t *vms;
	int *seen;
	size_t n;
	int changes;
	int bad_names;
	int objects_done;
};

static int find_vm(const struct inventory_seen *iv, const char *moref)
{
	size_t i;

	for (i = 0; i < iv->n; i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(iv->vms, i), "moref")),
			   moref) == 0)
			return (int)i;
	return -1;
}

static int on_inv_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct inventory_seen *iv = ud;
	int i = find_vm(iv, c->moref);

	(void)e;
	assert_string_equal(c->obj_type, "VirtualMachine");
	assert_int_equal(c->kind, VI_OBJ_ENTER);
	assert_int_equal(c->op, VI_OP_ASSIGN);
	assert_true(i >= 0);
	iv->changes++;
	if (strcmp(c->path, "name") == 0) {
		const char *want =
			json_string_value(json_object_get(json_array_get(iv->vms, i), "name"));

		assert_non_null(c->value);
		if (strcmp(c->value->text, want) != 0)
			iv->bad_names++;
	} else if (strcmp(c->path, "runtime.powerState") == 0) {
		assert_non_null(c->value);
		assert_true(strcmp(c->value->text, "poweredOn") == 0 ||
			    strcmp(c->value->text, "poweredOff") == 0 ||
			    strcmp(c->value->text, "suspended") == 0);
	}
	return 0;
}

static int on_inv_done(void *ud, const char *obj_type, const char *moref, enum vi_obj_kind kind,
		       struct err *e)
{
	struct inventory_seen *iv = ud;
	int i = find_vm(iv, moref);

	(void)e;
	(void)obj_type;
	(void)kind;
	assert_true(i >= 0);
	iv->seen[i]++;
	iv->objects_done++;
	return 0;
}

/* Every VM's name and power state through a container view of the root
 * folder, page_size objects a page (0: no limit): each VM of the simulator's
 * inventory arrives exactly once, with its name. Returns the page count. */
static int retrieve_all(struct vi_session *s, int page_size)
{
	static const char *const types[] = {"VirtualMachine"};
	static const char *const paths[] = {"name", "runtime.powerState", NULL};
	const struct vi_prop_spec spec = {.type = "VirtualMachine", .paths = paths};
	json_t *inv = simctl("/_sim/inventory", NULL);
	struct inventory_seen iv = {.vms = json_object_get(inv, "vms")};
	struct vi_pc_handler h = {
		.on_change = on_inv_change, .on_object_done = on_inv_done, .ud = &iv};
	char *view = NULL;
	int pages = 0;
	size_t i;
	struct err e;

	iv.n = json_array_size(iv.vms);
	assert_true(iv.n > 0);
	iv.seen = calloc(iv.n, sizeof(int));
	assert_non_null(iv.seen);
	err_clear(&e);
	if (vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e) < 0)
		fail_msg("CreateContainerView: %s", e.msg);
	if (vi_pc_retrieve(s, view, &spec, 1, page_size, &h, &pages, &e) < 0)
		fail_msg("retrieve (%d a page): %s", page_size, e.msg);
	for (i = 0; i < iv.n; i++)
		assert_int_equal(iv.seen[i], 1);
	assert_int_equal(iv.objects_done, (int)iv.n);
	assert_int_equal(iv.changes, 2 * (int)iv.n);
	assert_int_equal(iv.bad_names, 0);
	assert_int_equal(vi_pc_destroy_view(s, view, &e), 0);
	free(view);
	free(iv.seen);
	json_decref(inv);
	return pages;
}

static void test_retrieve_paging(void **state)
{
	struct vi_session *s = logged_in();
	json_t *inv = simctl("/_sim/inventory", NULL);
	size_t n = json_array_size(json_object_get(inv, "vms"));
	int pages;

	(void)state;
	json_decref(inv);
	assert_true(n > 6);
	simctl_do("/_sim/stats/reset", "{}");
	pages = retrieve_all(s, 3);
	assert_int_equal(pages, (int)((n + 2) / 3));
	assert_true(pages > 1);
	assert_int_equal(sim_calls("RetrievePropertiesEx"), 1);
	assert_int_equal(sim_calls("ContinueRetrievePropertiesEx"), pages - 1);
	/* no page size: one round trip */
	assert_int_equal(retrieve_all(s, 0), 1);
	vi_session_free(s);
}

struct updates {
	const char *watch_power; /* moref */
	const char *watch_question;
	int enters;
	int power_changes;
	char power[32];
	int questions;
	char question_id[64];
	char question_text[128];
	size_t nchoices;
};

static int on_update(void *ud, const struct vi_change *c, struct err *e)
{
	struct updates *u = ud;

	if (c->kind == VI_OBJ_LEAVE)
		return 0;
	assert_non_null(c->path);
	if (c->kind == VI_OBJ_MODIFY && strcmp(c->moref, u->watch_power) == 0 &&
	    strcmp(c->path, "runtime.powerState") == 0) {
		assert_non_null(c->value);
		snprintf(u->power, sizeof(u->power), "%s", c->value->text);
		u->power_changes++;
	}
	if (c->kind == VI_OBJ_MODIFY && strcmp(c->moref, u->watch_question) == 0 &&
	    strcmp(c->path, "runtime.question") == 0 && c->value) {
		struct vi_question q = {0};

		assert_string_equal(c->value->xsi_type, "VirtualMachineQuestionInfo");
		if (vi_question_parse(c->value, &q, e) < 0)
			return -1;
		snprintf(u->question_id, sizeof(u->question_id), "%s", q.id);
		snprintf(u->question_text, sizeof(u->question_text), "%s", q.text);
		u->nchoices = q.nchoices;
		vi_question_release(&q);
		u->questions++;
	}
	return 0;
}

static int on_update_done(void *ud, const char *obj_type, const char *moref, enum vi_obj_kind kind,
			  struct err *e)
{
	struct updates *u = ud;

	(void)obj_type;
	(void)moref;
	(void)e;
	if (kind == VI_OBJ_ENTER)
		u->enters++;
	return 0;
}

static void test_wait_for_updates(void **state)
{
	static const char *const types[] = {"VirtualMachine"};
	static const char *const paths[] = {"name", "runtime.powerState", "runtime.question", NULL};
	const struct vi_prop_spec spec = {.type = "VirtualMachine", .paths = paths};
	struct vi_session *s = logged_in();
	struct updates u = {0};
	struct vi_pc_handler h = {
		.on_change = on_update, .on_object_done = on_update_done, .ud = &u};
	char *view = NULL, *filter = NULL, *version = NULL, *next = NULL;
	char vm_a[32], vm_b[32], qid[64];
	bool truncated = true;
	json_t *inv = simctl("/_sim/inventory", NULL);
	int i;
	struct err e;

	(void)state;
	snprintf(vm_a, sizeof(vm_a), "%s", sim_vm("poweredOn", 0));
	snprintf(vm_b, sizeof(vm_b), "%s", sim_vm("poweredOn", 1));
	u.watch_power = vm_a;
	u.watch_question = vm_b;
	err_clear(&e);
	assert_int_equal(vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e), 0);
	assert_int_equal(vi_pc_create_filter(s, view, &spec, 1, &filter, &e), 0);
	assert_non_null(filter);
	assert_int_equal(vi_pc_wait(s, NULL, 0, 0, &h, &version, &truncated, &e), 0);
	assert_false(truncated);
	assert_non_null(version);
	assert_true(version[0] != '\0');
	assert_int_equal(u.enters, (int)json_array_size(json_object_get(inv, "vms")));

	/* nothing changed: the server waits, then sends no update set */
	assert_int_equal(vi_pc_wait(s, version, 1, 0, &h, &next, &truncated, &e), 0);
	assert_string_equal(next, version);
	assert_true(next != version);
	free(next);
	next = NULL;

	set_power(vm_a, "poweredOff");
	for (i = 0; i < 5 && u.power_changes == 0; i++) {
		assert_int_equal(vi_pc_wait(s, version, 10, 0, &h, &next, &truncated, &e), 0);
		free(version);
		version = next;
		next = NULL;
	}
	assert_int_equal(u.power_changes, 1);
	assert_string_equal(u.power, "poweredOff");

	snprintf(qid, sizeof(qid), "%s", ask(vm_b));
	for (i = 0; i < 5 && u.questions == 0; i++) {
		assert_int_equal(vi_pc_wait(s, version, 10, 0, &h, &next, &truncated, &e), 0);
		free(version);
		version = next;
		next = NULL;
	}
	assert_int_equal(u.questions, 1);
	assert_string_equal(u.question_id, qid);
	assert_string_equal(u.question_text, "Did you move or copy it?");
	assert_int_equal(u.nchoices, 2);
	assert_int_equal(u.power_changes, 1);

	clear_question(vm_b);
	set_power(vm_a, "poweredOn");
	assert_int_equal(vi_pc_destroy_filter(s, filter, &e), 0);
	assert_int_equal(vi_pc_destroy_view(s, view, &e), 0);
	free(filter);
	free(view);
	free(version);
	json_decref(inv);
	vi_session_free(s);
}

/* ---- tasks ---- */

static int count_change_any(void *ud, const struct vi_change *c, struct err *e)
{
	(void)c;
	(void)e;
	(*(int *)ud)++;
	return 0;
}

static int run_task(struct vi_session *s,
		    int (*method)(struct vi_session *, const char *, char **, struct err *),
		    const char *vm, struct vi_task_info *info, struct err *e)
{
	char *task = NULL;
	int rc;

	memset(info, 0, sizeof(*info));
	if (method(s, vm, &task, e) < 0)
		return -1;
	assert_non_null(task);
	rc = vi_task_wait(s, task, 30, NULL, NULL, info, e);
	if (info->task)
		assert_string_equal(info->task, task);
	free(task);
	return rc;
}

static void test_task_methods(void **state)
{
	struct vi_session *s = logged_in();
	struct vi_task_info info;
	char vm[32];
	struct err e;

	(void)state;
	snprintf(vm, sizeof(vm), "%s", sim_vm("poweredOn", 2));
	err_clear(&e);
	assert_int_equal(run_task(s, vi_vm_power_off, vm, &info, &e), 0);
	assert_string_equal(info.state, "success");
	/* the simulator names it "PowerOff"; vCenter "PowerOffVM_Task" */
	assert_true(strncmp(info.name, "PowerOff", 8) == 0);
	assert_string_equal(info.entity, vm);
	vi_task_info_release(&info);
	assert_string_equal(sim_power(vm), "poweredOff");

	/* a task that fails: powering off what is off */
	assert_int_equal(run_task(s, vi_vm_power_off, vm, &info, &e), -1);
	assert_int_equal(e.kind, ERR_TASK);
	assert_string_equal(e.fault, "InvalidPowerState");
	assert_string_equal(info.state, "error");
	vi_task_info_release(&info);

	err_clear(&e);
	assert_int_equal(run_task(s, vi_vm_power_on, vm, &info, &e), 0);
	vi_task_info_release(&info);
	assert_string_equal(sim_power(vm), "poweredOn");
	assert_int_equal(run_task(s, vi_vm_reset, vm, &info, &e), 0);
	assert_true(strncmp(info.name, "Reset", 5) == 0);
	vi_task_info_release(&info);
	assert_string_equal(sim_power(vm), "poweredOn");
	assert_int_equal(run_task(s, vi_vm_suspend, vm, &info, &e), 0);
	vi_task_info_release(&info);
	assert_string_equal(sim_power(vm), "suspended");
	assert_int_equal(run_task(s, vi_vm_power_on, vm, &info, &e), 0);
	vi_task_info_release(&info);
	assert_string_equal(sim_power(vm), "poweredOn");

	/* guest operations start no task: vimon-sim answers at once and its guest
	 * acts 300 ms later (tests/sim/README.md) */
	assert_int_equal(vi_vm_reboot_guest(s, vm, &e), 0);
	assert_string_equal(sim_power(vm), "poweredOn");
	assert_int_equal(vi_vm_shutdown_guest(s, vm, &e), 0);
	assert_string_equal(sim_power(vm), "poweredOn");
	for (int i = 0; i < 50 && strcmp(sim_power(vm), "poweredOff") != 0; i++)
		usleep(100 * 1000);
	assert_string_equal(sim_power(vm), "poweredOff");
	set_power(vm, "poweredOn");
	assert_int_equal(vi_vm_standby_guest(s, vm, &e), 0);
	for (int i = 0; i < 50 && strcmp(sim_power(vm), "suspended") != 0; i++)
		usleep(100 * 1000);
	assert_string_equal(sim_power(vm), "suspended");
	set_power(vm, "poweredOn");
	/* guest operations on a VM that is off are refused */
	set_power(vm, "poweredOff");
	err_clear(&e);
	assert_int_equal(vi_vm_shutdown_guest(s, vm, &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	assert_true(e.fault[0] != '\0');
	assert_string_equal(e.fault, "InvalidPowerState");
	err_clear(&e);
	assert_int_equal(vi_vm_reboot_guest(s, vm, &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	err_clear(&e);
	assert_int_equal(vi_vm_standby_guest(s, vm, &e), -1);
	assert_string_equal(e.fault, "InvalidPowerState");
	set_power(vm, "poweredOn");
	/* a VM that does not exist */
	err_clear(&e);
	assert_int_equal(run_task(s, vi_vm_power_on, "vm-does-not-exist", &info, &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	assert_string_equal(e.fault, "ManagedObjectNotFound");
	vi_session_free(s);
}

static int count_updates(void *ud, const struct vi_task_info *info, struct err *e)
{
	(void)e;
	assert_non_null(info->state);
	(*(int *)ud)++;
	return 0;
}

static void test_answer_unblocks_power_on(void **state)
{
	struct vi_session *s = logged_in();
	struct vi_task_info info = {0};
	char vm[32], qid[64];
	char *task = NULL;
	int updates = 0;
	struct err e;

	(void)state;
	snprintf(vm, sizeof(vm), "%s", sim_vm("poweredOn", 3));
	set_power(vm, "poweredOff");
	snprintf(qid, sizeof(qid), "%s", ask(vm));
	err_clear(&e);
	assert_int_equal(vi_vm_power_on(s, vm, &task, &e), 0);
	/* blocked on the question: the wait runs out */
	assert_int_equal(vi_task_wait(s, task, 2, count_updates, &updates, &info, &e), -1);
	assert_int_equal(e.kind, ERR_TIMEOUT);
	assert_string_equal(info.state, "running");
	assert_true(updates >= 1);
	vi_task_info_release(&info);
	memset(&info, 0, sizeof(info));
	/* a wrong choice key and a wrong question id are the server's faults */
	err_clear(&e);
	assert_int_equal(vi_vm_answer(s, vm, qid, "7", &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	assert_string_equal(e.fault, "InvalidArgument");
	err_clear(&e);
	assert_int_equal(vi_vm_answer(s, vm, "no-such-question", "0", &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	assert_string_equal(sim_power(vm), "poweredOff");
	err_clear(&e);
	assert_int_equal(vi_vm_answer(s, vm, qid, "0", &e), 0);
	assert_int_equal(vi_task_wait(s, task, 30, NULL, NULL, &info, &e), 0);
	assert_string_equal(info.state, "success");
	vi_task_info_release(&info);
	assert_string_equal(sim_power(vm), "poweredOn");
	free(task);
	vi_session_free(s);
}

struct expiring {
	struct vi_session *s;
	const char *vm;
	const char *qid;
	int updates;
};

/* First update: the server forgets every session. Second (seen through a new
 * filter after the re-login): answer the question from inside the wait. */
static int expire_then_answer(void *ud, const struct vi_task_info *info, struct err *e)
{
	struct expiring *x = ud;

	x->updates++;
	if (x->updates <= 2)
		assert_string_equal(info->state, "running");
	if (x->updates == 1)
		simctl_do("/_sim/fault", "{\"kind\":\"expire-sessions\"}");
	else if (x->updates == 2)
		return vi_vm_answer(x->s, x->vm, x->qid, "0", e);
	return 0;
}

static void test_task_wait_survives_relogin(void **state)
{
	struct vi_session *s = logged_in();
	struct vi_task_info info = {0};
	struct expiring x = {.s = s};
	char vm[32], qid[64];
	char *task = NULL;
	struct err e;

	(void)state;
	snprintf(vm, sizeof(vm), "%s", sim_vm("poweredOn", 5));
	set_power(vm, "poweredOff");
	snprintf(qid, sizeof(qid), "%s", ask(vm));
	x.vm = vm;
	x.qid = qid;
	err_clear(&e);
	assert_int_equal(vi_vm_power_on(s, vm, &task, &e), 0);
	if (vi_task_wait(s, task, 30, expire_then_answer, &x, &info, &e) < 0)
		fail_msg("vi_task_wait: %s", e.msg);
	assert_string_equal(info.state, "success");
	assert_int_equal(x.updates, 3);
	assert_int_equal(vi_session_login_count(s), 2);
	assert_string_equal(sim_power(vm), "poweredOn");
	vi_task_info_release(&info);
	free(task);
	vi_session_free(s);
}

/* Session-bound calls after the server forgot the session: the wait is not
 * resent with the dead version; the caller rebuilds view and filter. */
static void test_bound_after_expiry(void **state)
{
	static const char *const types[] = {"VirtualMachine"};
	static const char *const paths[] = {"name", NULL};
	const struct vi_prop_spec spec = {.type = "VirtualMachine", .paths = paths};
	struct vi_session *s = logged_in();
	struct vi_pc_handler h = {.on_change = count_change_any, .ud = NULL};
	char *view = NULL, *filter = NULL, *version = NULL;
	bool truncated = false;
	int changes = 0;
	struct err e;

	(void)state;
	h.ud = &changes;
	err_clear(&e);
	assert_int_equal(vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e), 0);
	assert_int_equal(vi_pc_create_filter(s, view, &spec, 1, &filter, &e), 0);
	assert_int_equal(vi_pc_wait(s, NULL, 0, 0, &h, &version, &truncated, &e), 0);
	assert_true(changes > 0);
	simctl_do("/_sim/stats/reset", "{}");
	simctl_do("/_sim/fault", "{\"kind\":\"expire-sessions\"}");
	{
		char *next = NULL;

		assert_int_equal(vi_pc_wait(s, version, 0, 0, &h, &next, &truncated, &e), -1);
		assert_null(next);
	}
	assert_int_equal(e.kind, ERR_FAULT);
	assert_string_equal(e.fault, "NotAuthenticated");
	assert_true(vi_session_renewed(&e));
	assert_int_equal(vi_session_login_count(s), 2);
	assert_int_equal(sim_calls("Login"), 1);
	assert_int_equal(sim_calls("WaitForUpdatesEx"), 1);
	/* rebuilt on the new session, everything is there again */
	free(view);
	free(filter);
	free(version);
	view = filter = version = NULL;
	changes = 0;
	err_clear(&e);
	assert_int_equal(vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e), 0);
	assert_int_equal(vi_pc_create_filter(s, view, &spec, 1, &filter, &e), 0);
	assert_int_equal(vi_pc_wait(s, NULL, 0, 0, &h, &version, &truncated, &e), 0);
	assert_true(changes > 0);
	assert_int_equal(vi_pc_destroy_filter(s, filter, &e), 0);
	assert_int_equal(vi_pc_destroy_view(s, view, &e), 0);
	free(view);
	free(filter);
	free(version);
	vi_session_free(s);
}

struct other_task {
	struct vi_session *s;
	const char *vm;
	int updates;
};

/* While the task under watch is blocked, another task on the same session
 * runs to success and the inventory filter sees a power change. */
static int run_other_task(void *ud, const struct vi_task_info *info, struct err *e)
{
	struct other_task *o = ud;
	char *task = NULL;
	int i;

	assert_string_equal(info->state, "running");
	if (o->updates++ > 0)
		return 0;
	if (vi_vm_power_off(o->s, o->vm, &task, e) < 0)
		return -1;
	for (i = 0; i < 100 && strcmp(sim_power(o->vm), "poweredOff") != 0; i++)
		usleep(50000);
	assert_string_equal(sim_power(o->vm), "poweredOff");
	free(task);
	return 0;
}

/* vi_task_wait() with the session's collector busy with other filters (the
 * agent's inventory and recent tasks): only the awaited task counts. */
static void test_task_wait_other_filters(void **state)
{
	static const char *const types[] = {"VirtualMachine"};
	static const char *const paths[] = {"runtime.powerState", NULL};
	const struct vi_prop_spec spec = {.type = "VirtualMachine", .paths = paths};
	struct vi_session *s = logged_in();
	struct vi_task_info info = {0};
	struct other_task o = {.s = s};
	char vm[32], other[32], qid[64];
	char *view = NULL, *filter = NULL, *tasks = NULL, *task = NULL;
	struct err e;

	(void)state;
	snprintf(vm, sizeof(vm), "%s", sim_vm("poweredOn", 6));
	snprintf(other, sizeof(other), "%s", sim_vm("poweredOn", 7));
	o.vm = other;
	err_clear(&e);
	/* a task that already failed sits among the recent tasks */
	set_power(other, "poweredOff");
	assert_int_equal(run_task(s, vi_vm_power_off, other, &info, &e), -1);
	vi_task_info_release(&info);
	set_power(other, "poweredOn");
	err_clear(&e);
	assert_int_equal(vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e), 0);
	assert_int_equal(vi_pc_create_filter(s, view, &spec, 1, &filter, &e), 0);
	assert_int_equal(vi_pc_create_task_filter(s, &tasks, &e), 0);

	set_power(vm, "poweredOff");
	snprintf(qid, sizeof(qid), "%s", ask(vm));
	assert_int_equal(vi_vm_power_on(s, vm, &task, &e), 0);
	/* the other task's success is not this one's: still running at the deadline */
	assert_int_equal(vi_task_wait(s, task, 3, run_other_task, &o, &info, &e), -1);
	if (e.kind != ERR_TIMEOUT)
		fail_msg("%s: %s", err_kind_name(e.kind), e.msg);
	assert_string_equal(info.task, task);
	assert_string_equal(info.state, "running");
	assert_int_equal(o.updates, 1);
	vi_task_info_release(&info);
	memset(&info, 0, sizeof(info));
	err_clear(&e);
	assert_int_equal(vi_vm_answer(s, vm, qid, "0", &e), 0);
	assert_int_equal(vi_task_wait(s, task, 30, NULL, NULL, &info, &e), 0);
	assert_string_equal(info.task, task);
	assert_string_equal(info.entity, vm);
	assert_string_equal(info.state, "success");
	vi_task_info_release(&info);
	/* the session's own filters are untouched */
	assert_int_equal(vi_pc_destroy_filter(s, tasks, &e), 0);
	assert_int_equal(vi_pc_destroy_filter(s, filter, &e), 0);
	assert_int_equal(vi_pc_destroy_view(s, view, &e), 0);
	set_power(other, "poweredOn");
	free(task);
	free(tasks);
	free(filter);
	free(view);
	vi_session_free(s);
}

/* on_update sees the question and stops the wait: what a caller does to react. */
static int stop_on_running(void *ud, const struct vi_task_info *info, struct err *e)
{
	(void)ud;
	if (info->state && strcmp(info->state, "running") == 0)
		return err_set(e, ERR_QUESTION, "blocked by a question");
	return 0;
}

static void test_cancel_blocked_task(void **state)
{
	struct vi_session *s = logged_in();
	struct vi_task_info info = {0};
	char vm[32], qid[64];
	char *task = NULL;
	struct err e;

	(void)state;
	snprintf(vm, sizeof(vm), "%s", sim_vm("poweredOn", 4));
	snprintf(qid, sizeof(qid), "%s", ask(vm));
	err_clear(&e);
	assert_int_equal(vi_vm_power_off(s, vm, &task, &e), 0);
	assert_int_equal(vi_task_wait(s, task, 10, stop_on_running, NULL, &info, &e), -1);
	assert_int_equal(e.kind, ERR_QUESTION);
	assert_true(info.cancelable);
	vi_task_info_release(&info);
	memset(&info, 0, sizeof(info));
	err_clear(&e);
	assert_int_equal(vi_task_cancel(s, task, &e), 0);
	assert_int_equal(vi_task_wait(s, task, 30, NULL, NULL, &info, &e), -1);
	assert_int_equal(e.kind, ERR_TASK);
	assert_string_equal(e.fault, "RequestCanceled");
	assert_string_equal(info.state, "error");
	vi_task_info_release(&info);
	memset(&info, 0, sizeof(info));
	free(task);
	task = NULL;
	assert_string_equal(sim_power(vm), "poweredOn");

	/* power-on cannot be cancelled: the server says so */
	clear_question(vm);
	set_power(vm, "poweredOff");
	snprintf(qid, sizeof(qid), "%s", ask(vm));
	err_clear(&e);
	assert_int_equal(vi_vm_power_on(s, vm, &task, &e), 0);
	assert_int_equal(vi_task_cancel(s, task, &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	assert_string_equal(e.fault, "InvalidState");
	err_clear(&e);
	assert_int_equal(vi_vm_answer(s, vm, qid, "0", &e), 0);
	assert_int_equal(vi_task_wait(s, task, 30, NULL, NULL, &info, &e), 0);
	vi_task_info_release(&info);
	free(task);
	assert_string_equal(sim_power(vm), "poweredOn");
	vi_session_free(s);
}

/* ---- injected faults ---- */

static int probe(struct vi_session *s, struct err *e)
{
	static const char *const types[] = {"HostSystem"};
	char *view = NULL;
	int rc = vi_pc_create_view(s, NULL, NULL, types, 1, &view, e);

	free(view);
	return rc;
}

static void inject(const char *json)
{
	simctl_do("/_sim/fault/clear", "{}");
	simctl_do("/_sim/fault", json);
}

static void test_faults(void **state)
{
	struct vi_session_opts o;
	struct observer obs = {0};
	struct vi_session *s;
	struct err e;

	(void)state;
	base_opts(&o);
	o.http.timeout_ms = 1500;
	s = session_with(&o, &obs);
	err_clear(&e);
	assert_int_equal(vi_session_login(s, &e), 0);

	inject("{\"kind\":\"delay\",\"ms\":4000,\"count\":1,\"method\":\"CreateContainerView\"}");
	assert_int_equal(probe(s, &e), -1);
	assert_int_equal(e.kind, ERR_TIMEOUT);
	assert_non_null(strstr(e.msg, "127.0.0.1"));
	assert_int_equal(obs.calls[obs.n - 1].kind, ERR_TIMEOUT);
	err_clear(&e);
	assert_int_equal(probe(s, &e), 0);

	inject("{\"kind\":\"soap-fault\",\"fault\":\"InvalidArgument\","
	       "\"method\":\"CreateContainerView\"}");
	assert_int_equal(probe(s, &e), -1);
	assert_int_equal(e.kind, ERR_FAULT);
	assert_string_equal(e.fault, "InvalidArgument");
	err_clear(&e);
	assert_int_equal(probe(s, &e), 0);

	inject("{\"kind\":\"truncated\",\"method\":\"CreateContainerView\"}");
	assert_int_equal(probe(s, &e), -1);
	assert_int_equal(e.kind, ERR_PARSE);
	err_clear(&e);
	assert_int_equal(probe(s, &e), 0);

	inject("{\"kind\":\"html\",\"method\":\"CreateContainerView\"}");
	assert_int_equal(probe(s, &e), -1);
	assert_int_equal(e.kind, ERR_HTTP);
	assert_int_equal(e.http_status, 503);
	err_clear(&e);
	assert_int_equal(probe(s, &e), 0);

	inject("{\"kind\":\"http500\",\"method\":\"CreateContainerView\"}");
	assert_int_equal(probe(s, &e), -1);
	assert_int_equal(e.kind, ERR_HTTP);
	assert_int_equal(e.http_status, 500);
	err_clear(&e);
	assert_int_equal(probe(s, &e), 0);
	assert_int_equal(vi_session_login_count(s), 1);
	vi_session_free(s);

	/* the server closes the connection without an answer (a fresh connection) */
	obs.n = 0;
	s = session_with(&o, &obs);
	inject("{\"kind\":\"close\",\"method\":\"RetrieveServiceContent\"}");
	err_clear(&e);
	assert_int_equal(vi_session_login(s, &e), -1);
	assert_int_equal(e.kind, ERR_CONNECT);
	assert_non_null(strstr(e.msg, "127.0.0.1"));
	err_clear(&e);
	assert_int_equal(vi_session_login(s, &e), 0);
	vi_session_free(s);
	simctl_do("/_sim/fault/clear", "{}");
}

/* The abort hook: says stop once its deadline has passed. */
static int abort_after(void *ud)
{
	return vi_now_seconds() >= *(const double *)ud;
}

/* The abort hook of a stopping thread: an atomic flag. */
static int abort_flag(void *ud)
{
	return __atomic_load_n((const int *)ud, __ATOMIC_ACQUIRE);
}

struct stopper {
	struct vi_session *s;
	int flag;
};

/* Another thread stops the call 200 ms in, as target_request_stop() does. */
static void *stop_later(void *ud)
{
	struct stopper *st = ud;
	struct timespec d = {0, 200 * 1000 * 1000};

	nanosleep(&d, NULL);
	__atomic_store_n(&st->flag, 1, __ATOMIC_RELEASE);
	vi_session_wakeup(st->s);
	return NULL;
}

/*
 * A call the server delays 5 s: stopped from another thread 200 ms in, it
 * returns at once (the wake-up interrupts the transport's wait); with a hook
 * that only turns true (no wake-up), the periodic check ends it within about
 * a second.
 */
static void test_abort(void **state)
{
	struct vi_session_opts o;
	struct stopper st = {0};
	pthread_t th;
	double deadline, t0, took;
	struct err e;

	(void)state;
	base_opts(&o);
	st.s = session_with(&o, NULL);
	vi_session_set_abort(st.s, abort_flag, &st.flag);
	err_clear(&e);
	assert_int_equal(vi_session_login(st.s, &e), 0);
	inject("{\"kind\":\"delay\",\"ms\":5000,\"count\":1,\"method\":\"CreateContainerView\"}");
	t0 = vi_now_seconds();
	assert_int_equal(pthread_create(&th, NULL, stop_later, &st), 0);
	assert_int_equal(probe(st.s, &e), -1);
	took = vi_now_seconds() - t0;
	pthread_join(th, NULL);
	if (e.kind != ERR_CANCELLED)
		fail_msg("%s: %s", err_kind_name(e.kind), e.msg);
	assert_non_null(strstr(e.msg, "call aborted"));
	assert_non_null(strstr(e.msg, "CreateContainerView"));
	if (took < 0.2 || took > 0.9)
		fail_msg("woken abort after %.3f s (want 0.2..0.9)", took);

	/* no wake-up: the hook is asked again within a second */
	simctl_do("/_sim/fault/clear", "{}");
	vi_session_set_abort(st.s, abort_after, &deadline);
	deadline = 1e300;
	err_clear(&e);
	assert_int_equal(probe(st.s, &e), 0);
	inject("{\"kind\":\"delay\",\"ms\":5000,\"count\":1,\"method\":\"CreateContainerView\"}");
	t0 = vi_now_seconds();
	deadline = t0 + 0.2;
	err_clear(&e);
	assert_int_equal(probe(st.s, &e), -1);
	took = vi_now_seconds() - t0;
	assert_int_equal(e.kind, ERR_CANCELLED);
	if (took < 0.2 || took > 1.5)
		fail_msg("periodic abort after %.3f s (want 0.2..1.5)", took);
	/* without the hook the session works again (a new connection) */
	vi_session_set_abort(st.s, NULL, NULL);
	simctl_do("/_sim/fault/clear", "{}");
	err_clear(&e);
	assert_int_equal(probe(st.s, &e), 0);
	vi_session_free(st.s);
}

static int count_change(void *ud, const struct vi_change *c, struct err *e)
{
	(void)c;
	(void)e;
	(*(int *)ud)++;
	return 0;
}

static void test_reply_too_large(void **state)
{
	static const char *const types[] = {"VirtualMachine"};
	static const char *const paths[] = {"config.hardware", "name", NULL};
	const struct vi_prop_spec spec = {.type = "VirtualMachine", .paths = paths};
	int changes = 0;
	struct vi_pc_handler h = {.on_change = count_change, .ud = &changes};
	struct vi_session_opts o;
	struct vi_session *s;
	char *view = NULL;
	struct err e;

	(void)state;
	base_opts(&o);
	o.http.max_reply = 32 << 10;
	s = session_with(&o, NULL);
	err_clear(&e);
	assert_int_equal(vi_session_login(s, &e), 0);
	assert_int_equal(vi_pc_create_view(s, NULL, NULL, types, 1, &view, &e), 0);
	assert_int_equal(vi_pc_retrieve(s, view, &spec, 1, 0, &h, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "127.0.0.1"));
	/* the part that arrived was streamed out before the cap was hit */
	assert_true(changes > 0);
	/* the transport recovers for the next call */
	err_clear(&e);
	assert_int_equal(vi_pc_destroy_view(s, view, &e), 0);
	free(view);
	vi_session_free(s);
}

/* ---- TLS ---- */

static void tls_login(const char *thumbprint, bool insecure, const char *ca_file, struct err *e,
		      int want)
{
	struct vi_session_opts o;
	struct vi_session *s;

	base_opts(&o);
	o.http.thumbprint = thumbprint;
	o.http.insecure = insecure;
	o.http.ca_file = ca_file;
	s = session_with(&o, NULL);
	err_clear(e);
	assert_int_equal(vi_session_login(s, e), want);
	vi_session_free(s);
}

static void lower_no_colons(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in && n + 1 < size; in++)
		if (*in != ':')
			out[n++] = (char)((*in >= 'A' && *in <= 'F') ? *in - 'A' + 'a' : *in);
	out[n] = '\0';
}

static void test_tls_pins(void **state)
{
	const char *sha256 = getenv("VI_SHA256"), *sha1 = getenv("VI_SHA1");
	char plain[80], wrong[100];
	struct err e;

	(void)state;
	assert_non_null(sha256);
	assert_non_null(sha1);
	tls_login(sha256, false, NULL, &e, 0);
	tls_login(sha1, false, NULL, &e, 0);
	lower_no_colons(sha256, plain, sizeof(plain));
	tls_login(plain, false, NULL, &e, 0);
	lower_no_colons(sha1, plain, sizeof(plain));
	tls_login(plain, false, NULL, &e, 0);

	/* a wrong pin: refused during the handshake, nothing reaches the server */
	simctl_do("/_sim/stats/reset", "{}");
	snprintf(wrong, sizeof(wrong), "%s", sha256);
	wrong[0] = wrong[0] == '0' ? '1' : '0';
	tls_login(wrong, false, NULL, &e, -1);
	assert_int_equal(e.kind, ERR_TLS);
	assert_non_null(strstr(e.msg, "certificate thumbprint mismatch: server presented SHA256"));
	assert_non_null(strstr(e.msg, sha256));
	assert_non_null(strstr(e.msg, sha1));
	snprintf(wrong, sizeof(wrong), "%s", sha1);
	wrong[1] = wrong[1] == '0' ? '1' : '0';
	tls_login(wrong, false, NULL, &e, -1);
	assert_int_equal(e.kind, ERR_TLS);
	assert_non_null(strstr(e.msg, sha256));
	assert_int_equal(sim_calls("Login"), 0);
	assert_int_equal(sim_calls("RetrieveServiceContent"), 0);

	/* insecure does not drop a pin: a wrong one is still refused before the
	 * password is sent, the right one still works */
	tls_login(wrong, true, NULL, &e, -1);
	assert_int_equal(e.kind, ERR_TLS);
	assert_non_null(strstr(e.msg, "certificate thumbprint mismatch"));
	assert_int_equal(sim_calls("Login"), 0);
	assert_int_equal(sim_calls("RetrieveServiceContent"), 0);
	tls_login(sha256, true, NULL, &e, 0);
}

static void test_tls_ca_and_insecure(void **state)
{
	const char *cert = getenv("VI_CERT");
	struct err e;

	(void)state;
	assert_non_null(cert);
	tls_login(NULL, true, NULL, &e, 0);
	tls_login(NULL, false, cert, &e, 0);
	/* neither: the self-signed certificate is not trusted by the system CAs */
	simctl_do("/_sim/stats/reset", "{}");
	tls_login(NULL, false, NULL, &e, -1);
	assert_int_equal(e.kind, ERR_TLS);
	assert_non_null(strstr(e.msg, "127.0.0.1"));
	/* a CA file that did not sign it */
	if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) != 0)
		fail_msg("/etc/ssl/certs/ca-certificates.crt: %s", strerror(errno));
	tls_login(NULL, false, "/etc/ssl/certs/ca-certificates.crt", &e, -1);
	assert_int_equal(e.kind, ERR_TLS);
	assert_int_equal(sim_calls("Login"), 0);
}

/* ---- ESX ---- */

static void test_esx(void **state)
{
	struct vi_session *s = logged_in();
	json_t *inv = simctl("/_sim/inventory", NULL);
	size_t n = json_array_size(json_object_get(inv, "vms"));
	struct vi_task_info info;
	char vm[32];
	struct err e;

	(void)state;
	json_decref(inv);
	assert_string_equal(vi_get_service_content(s)->api_type, "HostAgent");
	assert_int_equal(retrieve_all(s, 2), (int)((n + 1) / 2));
	err_clear(&e);
	snprintf(vm, sizeof(vm), "%s", sim_vm("poweredOn", 0));
	assert_int_equal(run_task(s, vi_vm_power_off, vm, &info, &e), 0);
	vi_task_info_release(&info);
	assert_int_equal(run_task(s, vi_vm_power_on, vm, &info, &e), 0);
	vi_task_info_release(&info);
	vi_session_free(s);
}

/* ---- no server ---- */

/*
 * A state-changing call whose reused connection the server closes without an
 * answer is reported, not sent again by the transport: the server may have
 * acted on it (libcurl re-sends a request on a reused connection that turns
 * out dead; state-changing calls go out on a fresh connection).
 */
static void test_state_change_sent_once(void **state)
{
	struct vi_session_opts o;
	struct vi_session *s;
	struct vi_task_info info = {0};
	const char *vm;
	char *task = NULL;
	struct err e;

	(void)state;
	base_opts(&o);
	s = session_with(&o, NULL);
	err_clear(&e);
	assert_int_equal(vi_session_login(s, &e), 0);
	assert_int_equal(probe(s, &e), 0); /* the connection is now a reused one */
	vm = sim_vm("poweredOn", 0);
	assert_true(vm[0] != '\0');
	simctl_do("/_sim/stats/reset", "{}");
	inject("{\"kind\":\"close\",\"count\":1,\"method\":\"PowerOffVM_Task\"}");
	assert_int_equal(vi_vm_power_off(s, vm, &task, &e), -1);
	assert_null(task);
	if (e.kind != ERR_CONNECT)
		fail_msg("%s: %s", err_kind_name(e.kind), e.msg);
	assert_int_equal(sim_calls("PowerOffVM_Task"), 1);
	assert_string_equal(sim_power(vm), "poweredOn");

	/* the next call works on a new connection */
	err_clear(&e);
	assert_int_equal(vi_vm_power_off(s, vm, &task, &e), 0);
	assert_int_equal(vi_task_wait(s, task, 30, NULL, NULL, &info, &e), 0);
	assert_string_equal(sim_power(vm), "poweredOff");
	assert_int_equal(sim_calls("PowerOffVM_Task"), 2);
	vi_task_info_release(&info);
	free(task);
	simctl_do("/_sim/fault/clear", "{}");
	vi_session_free(s);
}

/* A loopback port that was bound and never listened on: closed. */
static void closed_url(char *url, size_t size)
{
	snprintf(url, size, "https://127.0.0.1:%u/sdk", test_closed_port());
}

static void test_refused_port(void **state)
{
	struct vi_session_opts o;
	struct vi_session *s;
	char url[64];
	struct err e;

	(void)state;
	base_opts(&o);
	closed_url(url, sizeof(url));
	o.http.url = url;
	s = session_with(&o, NULL);
	err_clear(&e);
	assert_int_equal(vi_session_login(s, &e), -1);
	assert_int_equal(e.kind, ERR_CONNECT);
	assert_non_null(strstr(e.msg, "127.0.0.1"));
	vi_session_free(s);
}

static void test_unresolvable(void **state)
{
	struct vi_session_opts o;
	struct vi_session *s;
	struct err e;

	(void)state;
	base_opts(&o);
	o.http.url = "https://nonexistent.invalid/sdk";
	s = session_with(&o, NULL);
	err_clear(&e);
	assert_int_equal(vi_session_login(s, &e), -1);
	assert_int_equal(e.kind, ERR_RESOLVE);
	assert_non_null(strstr(e.msg, "nonexistent.invalid"));
	vi_session_free(s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest basic[] = {
		cmocka_unit_test(test_login_good),
		cmocka_unit_test(test_login_bad_password),
		cmocka_unit_test(test_login_special_password),
		cmocka_unit_test(test_relogin_after_expiry),
		cmocka_unit_test(test_retrieve_paging),
		cmocka_unit_test(test_wait_for_updates),
		cmocka_unit_test(test_task_methods),
		cmocka_unit_test(test_answer_unblocks_power_on),
		cmocka_unit_test(test_cancel_blocked_task),
		cmocka_unit_test(test_task_wait_survives_relogin),
		cmocka_unit_test(test_task_wait_other_filters),
		cmocka_unit_test(test_bound_after_expiry),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_state_change_sent_once),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_reply_too_large),
	};
	const struct CMUnitTest tls[] = {
		cmocka_unit_test(test_tls_pins),
		cmocka_unit_test(test_tls_ca_and_insecure),
	};
	const struct CMUnitTest esx[] = {
		cmocka_unit_test(test_esx),
	};
	const struct CMUnitTest net[] = {
		cmocka_unit_test(test_refused_port),
		cmocka_unit_test(test_unresolvable),
	};
	const char *group = argc > 1 ? argv[1] : "basic";
	int rc;

	sim_url = getenv("VI_SIM_URL");
	sim_base = getenv("VI_SIM_BASE");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(group, "net") == 0) {
		rc = cmocka_run_group_tests_name("vi_client net", net, NULL, NULL);
	} else if (!sim_url || !sim_base) {
		fprintf(stderr, "vi_client: VI_SIM_URL and VI_SIM_BASE must be set\n");
		rc = 2;
	} else if (strcmp(group, "tls") == 0) {
		rc = cmocka_run_group_tests_name("vi_client tls", tls, NULL, NULL);
	} else if (strcmp(group, "esx") == 0) {
		rc = cmocka_run_group_tests_name("vi_client esx", esx, NULL, NULL);
	} else {
		rc = cmocka_run_group_tests_name("vi_client basic", basic, NULL, NULL);
	}
	curl_global_cleanup();
	return rc;
}

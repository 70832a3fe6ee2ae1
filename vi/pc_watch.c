/* vi/pc_watch: following a few objects through one filter on a private property collector. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "vi/pc.h"
#include "vi/pc_internal.h"
#include "vi/soap.h"

#define WATCH_BODY_MAX ((size_t)256 << 10)

/* The private collector and the version of the last update set seen. */
struct watch {
	char *collector;
	char *filter;
	char *version;
	unsigned long logins; /* the session's login count when the collector was made */
};

/* Forgets a collector that went with an old session (nothing to destroy on the
 * server), then makes the watch again on the current session. */
static int watch_restart(struct vi_session *s, const struct vi_prop_spec *specs, size_t nspecs,
			 const struct vi_watch_obj *objs, size_t nobjs, struct watch *w,
			 struct err *e);

/* Destroys the collector (its filter goes with it) and forgets everything. */
static void watch_release(struct vi_session *s, struct watch *w)
{
	struct err ignored;

	err_clear(&ignored);
	if (w->collector)
		vi_pc_destroy_collector(s, w->collector, &ignored);
	free(w->collector);
	free(w->filter);
	free(w->version);
	memset(w, 0, sizeof(*w));
}

static int watch_start(struct vi_session *s, const struct vi_prop_spec *specs, size_t nspecs,
		       const struct vi_watch_obj *objs, size_t nobjs, struct watch *w,
		       struct err *e)
{
	struct buf b;
	int rc;

	if (vi_pc_create_collector(s, &w->collector, e) < 0)
		return -1;
	w->logins = vi_session_login_count(s);
	buf_init(&b, WATCH_BODY_MAX);
	vi_pc_filter_begin(&b, w->collector);
	vi_pc_add_prop_specs(&b, specs, nspecs);
	for (size_t i = 0; i < nobjs; i++) {
		vi_soap_open(&b, "objectSet", NULL);
		vi_soap_add_moref(&b, "obj", objs[i].type, objs[i].moref);
		vi_soap_add(&b, "skip", "false");
		if (objs[i].follow) {
			vi_soap_open(&b, "selectSet", "TraversalSpec");
			buf_addf(&b, "<name>follow%zu</name>", i);
			vi_soap_add(&b, "type", objs[i].type);
			vi_soap_add(&b, "path", objs[i].follow);
			vi_soap_add(&b, "skip", "false");
			vi_soap_close(&b, "selectSet");
		}
		vi_soap_close(&b, "objectSet");
	}
	rc = vi_pc_filter_send(s, &b, &w->filter, e);
	buf_release(&b);
	return rc;
}

static int watch_restart(struct vi_session *s, const struct vi_prop_spec *specs, size_t nspecs,
			 const struct vi_watch_obj *objs, size_t nobjs, struct watch *w,
			 struct err *e)
{
	free(w->collector);
	w->collector = NULL;
	watch_release(s, w);
	return watch_start(s, specs, nspecs, objs, nobjs, w, e);
}

int vi_pc_watch(struct vi_session *s, const struct vi_prop_spec *specs, size_t nspecs,
		const struct vi_watch_obj *objs, size_t nobjs, double deadline,
		const struct vi_pc_handler *h, int (*on_round)(void *ud, struct err *e), void *ud,
		struct err *e)
{
	struct watch w = {0};
	int rc = -1;

	if (watch_start(s, specs, nspecs, objs, nobjs, &w, e) < 0)
		goto out_release;
	for (;;) {
		int wait_s = 0; /* the first call returns the current state at once */
		char *next = NULL;
		struct err we;
		int r;

		if (w.version) {
			double left = deadline - vi_now_seconds();

			if (left <= 0) {
				rc = 1;
				goto out_release;
			}
			wait_s = (int)ceil(left);
		}
		/* another call (on_round's, another thread's) logged in again: the
		 * collector went with the old session */
		if (vi_session_login_count(s) != w.logins) {
			if (watch_restart(s, specs, nspecs, objs, nobjs, &w, e) < 0)
				goto out_release;
			continue;
		}
		err_clear(&we);
		if (vi_pc_wait_on(s, w.collector, w.version, wait_s, 0, h, &next, NULL, &we) < 0) {
			free(next);
			if (!vi_session_renewed(&we)) {
				err_copy(e, &we);
				goto out_release;
			}
			/* the old session's collector is gone on the server: nothing to destroy */
			if (watch_restart(s, specs, nspecs, objs, nobjs, &w, e) < 0)
				goto out_release;
			continue;
		}
		free(w.version);
		w.version = next;
		/* after the reply: on_round may call the server itself */
		r = on_round(ud, e);
		if (r != 0) {
			rc = r > 0 ? 0 : -1;
			goto out_release;
		}
	}
out_release:
	watch_release(s, &w);
	return rc;
}

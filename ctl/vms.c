/* ctl/vms: finding VMs by decoded name or moref, exit codes, error output. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "vi/names.h"
#include "vi/pc.h"

#define CTL_NAME_MAX ((size_t)64 << 10)

int ctl_exit_for(const struct err *e)
{
	switch (e->kind) {
	case ERR_RESOLVE:
	case ERR_CONNECT:
	case ERR_TLS:
	case ERR_TIMEOUT:
	case ERR_HTTP:
	case ERR_AUTH:
	case ERR_PARSE: return CTL_UNREACHABLE;
	default: return CTL_NOT_DONE;
	}
}

int ctl_fail(int code, const char *fmt, ...)
{
	char msg[2048];
	struct buf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_init(&b, 0);
	buf_adds(&b, "vimonctl: ");
	buf_add_shown(&b, msg);
	buf_addc(&b, '\n');
	fputs(b.data, stderr);
	buf_release(&b);
	return code;
}

bool ctl_is_vm_moref(const char *s)
{
	if (strncmp(s, "vm-", 3) != 0 || !s[3])
		return false;
	for (s += 3; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

void ctl_add_name(struct buf *b, const char *raw)
{
	struct buf d;

	buf_init(&d, CTL_NAME_MAX);
	if (!raw || vi_name_percent_decode(&d, raw) < 0)
		buf_add_shown(b, raw ? raw : "");
	else
		buf_add_shown(b, d.data);
	buf_release(&d);
}

void ctl_vms_free(struct ctl_vm *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].moref);
		free(v[i].raw);
		free(v[i].name);
	}
	free(v);
}

struct listing {
	bool with_question;
	struct ctl_vm *vms;
	size_t n;
	/* the object being read */
	char *raw;
	char *name;
	bool question;
};

static int on_vm_change(void *ud, const struct vi_change *c, struct err *e)
{
	struct listing *l = ud;

	if (!c->path)
		return 0;
	if (strcmp(c->path, "name") == 0 && c->value) {
		struct buf d;

		free(l->name);
		free(l->raw);
		l->name = NULL;
		if (!(l->raw = strdup(c->value->text)))
			return err_set(e, ERR_NOMEM, "out of memory");
		buf_init(&d, CTL_NAME_MAX);
		if (vi_name_percent_decode(&d, c->value->text) < 0) {
			buf_release(&d);
			return err_set(e, ERR_PROTOCOL, "VM %s: name too long", c->moref);
		}
		l->name = buf_detach(&d, NULL);
		return l->name ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	}
	if (strcmp(c->path, "runtime.question") == 0)
		l->question = c->value != NULL;
	return 0;
}

static int on_vm_done(void *ud, const char *type, const char *moref, enum vi_obj_kind kind,
		      struct err *e)
{
	struct listing *l = ud;
	struct ctl_vm *v;
	int rc = 0;

	(void)kind;
	if (strcmp(type, "VirtualMachine") != 0 || !l->name || (l->with_question && !l->question))
		goto out;
	v = realloc(l->vms, (l->n + 1) * sizeof(*v));
	if (!v) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	l->vms = v;
	v[l->n].name = l->name;
	v[l->n].raw = l->raw;
	v[l->n].moref = strdup(moref);
	l->name = NULL;
	l->raw = NULL;
	if (!v[l->n++].moref)
		rc = err_set(e, ERR_NOMEM, "out of memory");
out:
	free(l->name);
	free(l->raw);
	l->name = NULL;
	l->raw = NULL;
	l->question = false;
	return rc;
}

int ctl_list_vms(struct ctl *c, bool with_question, struct ctl_vm **out, size_t *n, struct err *e)
{
	static const char *const types[] = {"VirtualMachine"};
	static const char *const paths[] = {"name", "runtime.question", NULL};
	static const struct vi_prop_spec spec = {.type = "VirtualMachine", .paths = paths};
	struct listing l = {.with_question = with_question};
	struct vi_pc_handler h = {
		.on_change = on_vm_change, .on_object_done = on_vm_done, .ud = &l};
	char *view = NULL;
	struct err ignored;
	int rc;

	if (vi_pc_create_view(c->s, NULL, NULL, types, 1, &view, e) < 0)
		return -1;
	rc = vi_pc_retrieve(c->s, view, &spec, 1, 1000, &h, NULL, e);
	err_clear(&ignored);
	vi_pc_destroy_view(c->s, view, &ignored);
	free(view);
	free(l.name);
	free(l.raw);
	if (rc < 0) {
		ctl_vms_free(l.vms, l.n);
		return -1;
	}
	*out = l.vms;
	*n = l.n;
	return 0;
}

int ctl_resolve_vm(struct ctl *c, const char *arg, char **moref)
{
	struct ctl_vm *vms = NULL;
	struct buf enc, list;
	size_t n = 0, hits = 0, hit = 0;
	struct err e;
	int rc;

	if (ctl_is_vm_moref(arg)) {
		*moref = strdup(arg);
		return *moref ? CTL_OK : ctl_fail(CTL_NOT_DONE, "out of memory");
	}
	/* the name as the user typed it, percent-encoded as vSphere stores it; a
	 * stored name whose escapes differ (upper-case hex) matches when decoded */
	buf_init(&enc, CTL_NAME_MAX);
	buf_init(&list, 0);
	if (!*arg || vi_name_percent_encode(&enc, arg) < 0) {
		rc = ctl_fail(CTL_USAGE, "bad VM name \"%s\"", arg);
		goto out_release;
	}
	err_clear(&e);
	if (ctl_list_vms(c, false, &vms, &n, &e) < 0) {
		rc = ctl_fail(ctl_exit_for(&e), "listing the VMs of %s: %s", c->target, e.msg);
		goto out_release;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(vms[i].raw, enc.data) != 0 && strcmp(vms[i].name, arg) != 0)
			continue;
		if (hits++ == 0)
			hit = i;
		buf_addf(&list, "%s  ", vms[i].moref);
		buf_add_shown(&list, vms[i].name);
		buf_addc(&list, '\n');
	}
	if (hits == 0) {
		rc = ctl_fail(CTL_NOT_DONE, "no VM named \"%s\" on %s", arg, c->target);
	} else if (hits > 1) {
		rc = ctl_fail(CTL_USAGE,
			      "%zu VMs are named \"%s\" on %s; name one by its moref:", hits, arg,
			      c->target);
		fputs(list.data, stderr);
	} else {
		*moref = strdup(vms[hit].moref);
		rc = *moref ? CTL_OK : ctl_fail(CTL_NOT_DONE, "out of memory");
	}
out_release:
	ctl_vms_free(vms, n);
	buf_release(&enc);
	buf_release(&list);
	return rc;
}

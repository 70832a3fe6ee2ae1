/* agent/remrule: remediation rules compiled from the configuration, matched against questions. */
#include "agent/remrule.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

struct rem_rule_c {
	struct conf_rem_rule r; /* deep copy */
	regex_t re;
	bool has_re;
};

struct rem_rules {
	struct rem_rule_c *v;
	size_t n;
	int min_pending; /* the section's */
};

static int dup_or_null(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -1;
}

void rem_rules_free(struct rem_rules *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		struct rem_rule_c *c = &rs->v[i];

		if (c->has_re)
			regfree(&c->re);
		free(c->r.message_id);
		free(c->r.answer);
		free(c->r.vm);
		free(c->r.target);
	}
	free(rs->v);
	free(rs);
}

int rem_rules_new(const struct conf_remediation *rm, struct rem_rules **out, struct err *e)
{
	struct rem_rules *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return err_set(e, ERR_NOMEM, "out of memory");
	rs->min_pending = rm->min_pending;
	rs->v = calloc(rm->nrules + 1, sizeof(*rs->v));
	if (!rs->v)
		goto out_nomem;
	for (size_t i = 0; i < rm->nrules; i++) {
		const struct conf_rem_rule *src = &rm->rules[i];
		struct rem_rule_c *c = &rs->v[rs->n++];
		int rc;

		c->r = *src;
		if (dup_or_null(&c->r.message_id, src->message_id) < 0 ||
		    dup_or_null(&c->r.answer, src->answer) < 0 ||
		    dup_or_null(&c->r.vm, src->vm) < 0 ||
		    dup_or_null(&c->r.target, src->target) < 0)
			goto out_nomem;
		if (!src->vm)
			continue;
		rc = regcomp(&c->re, src->vm, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			err_set(e, ERR_CONFIG, "remediation rule at line %d: invalid vm regex",
				src->line);
			rem_rules_free(rs);
			return -1;
		}
		c->has_re = true;
	}
	*out = rs;
	return 0;

out_nomem:
	rem_rules_free(rs);
	return err_set(e, ERR_NOMEM, "out of memory");
}

const struct conf_rem_rule *rem_rules_get(const struct rem_rules *rs, size_t i)
{
	return i < rs->n ? &rs->v[i].r : NULL;
}

int rem_rules_min_pending(const struct rem_rules *rs, size_t i)
{
	if (i >= rs->n || rs->v[i].r.min_pending < 0)
		return rs->min_pending;
	return rs->v[i].r.min_pending;
}

static bool has_message_id(const json_t *q, const char *id)
{
	const json_t *ids = json_object_get(q, "message_ids");
	const json_t *v;
	size_t i;

	if (strcmp(id, "*") == 0)
		return true;
	json_array_foreach(ids, i, v)
	{
		const char *s = json_string_value(v);

		if (s && strcmp(s, id) == 0)
			return true;
	}
	return false;
}

int rem_rules_match(const struct rem_rules *rs, const char *target, const json_t *q)
{
	const char *vm = json_string_value(json_object_get(q, "vm"));

	for (size_t i = 0; i < rs->n; i++) {
		const struct rem_rule_c *c = &rs->v[i];

		if (!c->r.message_id || !has_message_id(q, c->r.message_id))
			continue;
		if (c->r.target && (!target || strcmp(c->r.target, target) != 0))
			continue;
		if (c->has_re && (!vm || regexec(&c->re, vm, 0, NULL, 0) != 0))
			continue;
		return (int)i;
	}
	return -1;
}

/* a equals b when the "_" accelerator marks are left out of both. */
static bool eq_no_accel(const char *a, const char *b)
{
	for (;;) {
		while (*a == '_')
			a++;
		while (*b == '_')
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

/* The key of the only choice matching want (exactly when exact, else without
 * accelerators); NULL with *ambiguous set when several do. */
static const char *match_choices(const json_t *choices, const char *want, bool allow_key,
				 bool exact, bool *ambiguous)
{
	static const char *const fields[] = {"label", "summary"};
	const char *found = NULL;
	const json_t *ch;
	size_t i;

	json_array_foreach(choices, i, ch)
	{
		const char *key = json_string_value(json_object_get(ch, "key"));
		bool hit = false;

		if (!key)
			continue;
		if (allow_key && exact && strcmp(key, want) == 0)
			hit = true;
		for (size_t f = 0; f < 2 && !hit; f++) {
			const char *v = json_string_value(json_object_get(ch, fields[f]));

			if (v && *v && (exact ? strcmp(v, want) == 0 : eq_no_accel(v, want)))
				hit = true;
		}
		if (!hit)
			continue;
		if (found && strcmp(found, key) != 0) {
			*ambiguous = true;
			return NULL;
		}
		found = key;
	}
	return found;
}

/* Lists the offered choices ("0 Cancel/Cancel, 1 ...") into why. */
static void offered(const json_t *choices, const char *prefix, char *why, size_t whysz)
{
	struct buf b;
	const json_t *ch;
	size_t i;

	buf_init(&b, whysz > 1 ? whysz - 1 : 1);
	buf_adds(&b, prefix);
	buf_adds(&b, "; offered: ");
	json_array_foreach(choices, i, ch)
	{
		const char *key = json_string_value(json_object_get(ch, "key"));
		const char *label = json_string_value(json_object_get(ch, "label"));
		const char *summary = json_string_value(json_object_get(ch, "summary"));

		buf_addf(&b, "%s%s \"%s\"", i ? ", " : "", key ? key : "?", label ? label : "");
		if (summary && *summary && (!label || strcmp(label, summary) != 0))
			buf_addf(&b, " (\"%s\")", summary);
	}
	if (i == 0)
		buf_adds(&b, "none");
	snprintf(why, whysz, "%s%s", b.data, b.failed ? "..." : "");
	buf_release(&b);
}

const char *rem_choice_find(const json_t *q, const char *want, bool allow_key, char *why,
			    size_t whysz)
{
	const json_t *choices = json_object_get(q, "choices");
	bool ambiguous = false;
	const char *key;
	char prefix[300];

	if (strcmp(want, "default") == 0) {
		key = json_string_value(json_object_get(q, "default"));
		if (key)
			return key;
		offered(choices, "the question has no default choice", why, whysz);
		return NULL;
	}
	key = match_choices(choices, want, allow_key, true, &ambiguous);
	if (!key && !ambiguous)
		key = match_choices(choices, want, false, false, &ambiguous);
	if (key)
		return key;
	snprintf(prefix, sizeof(prefix), "%s \"%.200s\"",
		 ambiguous ? "several choices match" : "no choice matches", want);
	offered(choices, prefix, why, whysz);
	return NULL;
}

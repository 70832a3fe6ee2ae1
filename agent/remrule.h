/* agent/remrule: remediation rules compiled from the configuration, matched against questions. */
#ifndef VIMON_AGENT_REMRULE_H
#define VIMON_AGENT_REMRULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "agent/conf.h"
#include "util/err.h"

struct rem_rules;

/*
 * Compiles the rules of rm (copied: rm may be freed afterwards). On success
 * *out (NULL on entry) is the caller's (rem_rules_free). -1 with e set
 * (ERR_CONFIG for a regular expression that does not compile, ERR_NOMEM).
 */
int rem_rules_new(const struct conf_remediation *rm, struct rem_rules **out, struct err *e);

/* Frees. NULL is fine. */
void rem_rules_free(struct rem_rules *rs);

/* The rule at index i (borrowed), or NULL past the end. */
const struct conf_rem_rule *rem_rules_get(const struct rem_rules *rs, size_t i);

/*
 * The index of the first rule matching a question object of the JSON API
 * (members "message_ids", "vm") on target, or -1 when none matches. A rule
 * matches when its message_id is "*" or one of the question's message ids,
 * its target (when set) is target, and its vm regex (when set) matches the
 * decoded VM name.
 */
int rem_rules_match(const struct rem_rules *rs, const char *target, const json_t *q);

/* The effective min_pending of rule i: its own, or the section's. */
int rem_rules_min_pending(const struct rem_rules *rs, size_t i);

/*
 * Finds the choice of the question object q (members "choices" [{key, label,
 * summary}], "default") that want names: "default" is the default choice;
 * otherwise a label or a summary, compared exactly, then ignoring the "_"
 * accelerator marks ("I Copied It" names "I _Copied It"); with allow_key, a
 * key too (the HTTP API; rules never name keys). Returns the key (borrowed
 * from q), or NULL with why (a human sentence, NUL-terminated in whysz
 * bytes) saying what is offered.
 */
const char *rem_choice_find(const json_t *q, const char *want, bool allow_key, char *why,
			    size_t whysz);

#endif

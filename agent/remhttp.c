/* agent/remhttp: the pure parts of the HTTP actions: the bearer token check and JSON bodies. */
#include <stdio.h>
#include <string.h>

#include "agent/remediation.h"

int rem_bearer_ok(const char *token, const char *authorization)
{
	static const char scheme[] = "Bearer ";
	const char *given;
	size_t tlen, glen, i;
	unsigned char diff;

	if (!token || !*token || !authorization)
		return 0;
	if (strncasecmp(authorization, scheme, sizeof(scheme) - 1) != 0)
		return 0;
	given = authorization + sizeof(scheme) - 1;
	while (*given == ' ')
		given++;
	tlen = strlen(token);
	glen = strlen(given);
	/* every byte of the token is compared whatever the given length */
	diff = (unsigned char)(tlen != glen);
	for (i = 0; i < tlen; i++)
		diff |= (unsigned char)(token[i] ^ (i < glen ? given[i] : 0));
	return diff == 0;
}

static bool in_list(const char *name, const char *const *list, size_t n, size_t *at)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(name, list[i]) == 0) {
			*at = i;
			return true;
		}
	}
	return false;
}

int rem_parse_body(const char *body, size_t len, const char *const *names, size_t n,
		   const char *const *bools, size_t nbools, json_t **root, const char **vals,
		   bool *bool_vals, char *why, size_t whysz)
{
	json_error_t je;
	const char *key;
	json_t *o, *v;
	size_t at;

	*root = NULL;
	for (size_t i = 0; i < n; i++)
		vals[i] = NULL;
	for (size_t i = 0; i < nbools; i++)
		bool_vals[i] = false;
	if (len == 0) {
		snprintf(why, whysz, "the request has no body: send a JSON object");
		return -1;
	}
	if (len > REM_BODY_MAX) {
		snprintf(why, whysz, "the body is larger than %d bytes", REM_BODY_MAX);
		return -1;
	}
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		snprintf(why, whysz, "malformed JSON at line %d, column %d: %s", je.line, je.column,
			 je.text);
		return -1;
	}
	if (!json_is_object(o)) {
		snprintf(why, whysz, "the body must be a JSON object");
		goto out_fail;
	}
	json_object_foreach(o, key, v)
	{
		if (in_list(key, names, n, &at)) {
			if (!json_is_string(v) || json_string_length(v) == 0 ||
			    json_string_length(v) > 1024 ||
			    strlen(json_string_value(v)) != json_string_length(v)) {
				snprintf(why, whysz, "\"%.64s\" must be a non-empty string", key);
				goto out_fail;
			}
			vals[at] = json_string_value(v);
		} else if (bools && in_list(key, bools, nbools, &at)) {
			if (!json_is_boolean(v)) {
				snprintf(why, whysz, "\"%.64s\" must be true or false", key);
				goto out_fail;
			}
			bool_vals[at] = json_is_true(v);
		} else {
			snprintf(why, whysz, "unknown member \"%.64s\"", key);
			goto out_fail;
		}
	}
	*root = o;
	return 0;

out_fail:
	json_decref(o);
	return -1;
}

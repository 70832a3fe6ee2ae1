/* vi/value: typed readings of captured property values (xsd scalars, enums, morefs). */
#ifndef VIMON_VI_VALUE_H
#define VIMON_VI_VALUE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "vi/xml.h"

/* Each returns 0 and fills *out, or -1 with e set (ERR_PARSE) when the text
 * is not of that type or out of range. */
int vi_value_int64(const struct vi_node *n, int64_t *out, struct err *e);
int vi_value_bool(const struct vi_node *n, bool *out, struct err *e);
int vi_value_double(const struct vi_node *n, double *out, struct err *e);

/* xsd:dateTime ("2026-11-21T12:00:00.123Z", offsets allowed) to seconds since
 * the epoch. */
int vi_value_time(const struct vi_node *n, double *out, struct err *e);
int vi_time_parse(const char *s, double *out, struct err *e);

/* Same readings on plain text (for values stored as text). */
int vi_text_int64(const char *s, int64_t *out, struct err *e);
int vi_text_bool(const char *s, bool *out, struct err *e);
int vi_text_double(const char *s, double *out, struct err *e);

/* A ManagedObjectReference: *type and *value are borrowed from n. -1 when n
 * has no type attribute or empty text. */
int vi_value_moref(const struct vi_node *n, const char **type, const char **value, struct err *e);

#endif

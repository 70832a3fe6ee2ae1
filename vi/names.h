/* vi/names: the escaping schemes vSphere uses for names (each function says which). */
#ifndef VIMON_VI_NAMES_H
#define VIMON_VI_NAMES_H

#include "util/buf.h"

/*
 * Each appends to out and returns 0, or -1 (out->failed) when out ran out of
 * room. Decoders are lenient: a malformed escape is copied as it stands.
 */

/* Entity names: '%', '/' and '\' are %XX in the API. */
int vi_name_percent_encode(struct buf *out, const char *s);
int vi_name_percent_decode(struct buf *out, const char *s);

/* VMX values: '|' and '"' as |XX (pipe-encoding). */
int vi_name_pipe_encode(struct buf *out, const char *s);
int vi_name_pipe_decode(struct buf *out, const char *s);

/* VMX domainName: percent-encoded, then pipe-encoded. */
int vi_name_vmx_domain_encode(struct buf *out, const char *s);
int vi_name_vmx_domain_decode(struct buf *out, const char *s);

/*
 * Datastore item names: "*<>:|? become '_', then percent-encoding, then runs
 * of characters outside [a-zA-Z0-9'(),. _-] are written as '+' base64 '-'
 * (',' for '/', no padding; the '-' omitted at the end). Not bijective: the
 * decoder gives the name with '_' where those characters were.
 */
int vi_name_datastore_item_encode(struct buf *out, const char *s);
int vi_name_datastore_item_decode(struct buf *out, const char *s);

#endif

/* vi/pc_internal: property-collector request pieces shared inside vi/ (not a public API). */
#ifndef VIMON_VI_PC_INTERNAL_H
#define VIMON_VI_PC_INTERNAL_H

#include <stddef.h>

#include "util/buf.h"
#include "vi/pc.h"

/* Appends one <propSet> (type, all=false, pathSet...) per entry of specs. */
void vi_pc_add_prop_specs(struct buf *b, const struct vi_prop_spec *specs, size_t nspecs);

/* The session's property collector moref, or NULL with e set (ERR_INVALID)
 * when not logged in. Borrowed from the session. */
const char *vi_pc_default_collector(struct vi_session *s, struct err *e);

/* Starts a CreateFilter request on collector and opens its spec. */
void vi_pc_filter_begin(struct buf *b, const char *collector);

/* Closes the spec started by vi_pc_filter_begin() and sends the CreateFilter
 * (session-bound). *filter_out (NULL on entry) is the caller's to free(). */
int vi_pc_filter_send(struct vi_session *s, struct buf *b, char **filter_out, struct err *e);

#endif

/* plugins/direct: check_vsphere --direct: one login, one RetrievePropertiesEx, one logout. */
#ifndef VIMON_PLUGINS_DIRECT_H
#define VIMON_PLUGINS_DIRECT_H

#include "plugins/modes.h"
#include "util/err.h"

/*
 * Reads the target o->target of the configuration o->conf, logs in with its
 * TLS rules, reads what o->mode needs and always logs out. Fills d->targets
 * (one target object, up and fresh) and d->items with objects shaped like the
 * agent's JSON API (docs/api.md). 0, or -1 with e set.
 */
int chk_direct_fetch(const struct chk_opts *o, struct chk_data *d, struct err *e);

#endif

/* vi/search: the SearchIndex: a managed object by its inventory path. */
#ifndef VIMON_VI_SEARCH_H
#define VIMON_VI_SEARCH_H

#include "util/err.h"
#include "vi/session.h"

/*
 * SearchIndex.FindByInventoryPath(path), e.g. "/DC1/host/Cluster-A" (names as
 * the server stores them: '/', '%' and '\\' inside a name percent-encoded).
 * On success *type_out and *moref_out (NULL on entry) are the caller's to
 * free(). Nothing at that path is ERR_INVALID ("no object at inventory path
 * ..."); -1 with e set.
 */
int vi_lookup_inventory_path(struct vi_session *s, const char *path, char **type_out,
			     char **moref_out, struct err *e);

#endif

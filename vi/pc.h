/* vi/pc: the property collector (views, filters, WaitForUpdatesEx, RetrievePropertiesEx). */
#ifndef VIMON_VI_PC_H
#define VIMON_VI_PC_H

#include <stdbool.h>

#include "util/err.h"
#include "vi/session.h"
#include "vi/xml.h"

/* Which properties to collect for one managed object type. */
struct vi_prop_spec {
	const char *type;	  /* "VirtualMachine", "HostSystem", ... */
	const char *const *paths; /* NULL-terminated property paths */
};

enum vi_obj_kind { VI_OBJ_ENTER, VI_OBJ_MODIFY, VI_OBJ_LEAVE };
enum vi_prop_op { VI_OP_ASSIGN, VI_OP_ADD, VI_OP_REMOVE, VI_OP_INDIRECT_REMOVE };

/*
 * One property change as it streams out of a reply. Everything is borrowed
 * for the duration of the callback. For VI_OBJ_LEAVE, path is NULL. value is
 * NULL for remove operations, for a property the server reports missing, and
 * for an unset property (assign with no val).
 *
 * fault is NULL normally. For a property the server could not read
 * (ObjectUpdate/ObjectContent missingSet) it is the fault type ("NoPermission",
 * "SystemError", ...; "UnknownFault" when the server names none), with op
 * VI_OP_ASSIGN and value NULL: so "unreadable" is not mistaken for "unset".
 * For an object the filter can no longer see (PropertyFilterUpdate
 * missingSet: deleted, or no permission) it is the fault type on a
 * VI_OBJ_LEAVE with path NULL.
 */
struct vi_change {
	const char *obj_type;
	const char *moref;
	enum vi_obj_kind kind;
	const char *path;
	enum vi_prop_op op;
	const struct vi_node *value;
	const char *fault;
};

struct vi_pc_handler {
	/* Called once per property change (and once per leaving object). */
	int (*on_change)(void *ud, const struct vi_change *c, struct err *e);
	/* Optional: called after the last change of each object in a reply. */
	int (*on_object_done)(void *ud, const char *obj_type, const char *moref,
			      enum vi_obj_kind kind, struct err *e);
	void *ud;
	/* Optional (WaitForUpdatesEx): the caller's filters, NULL-terminated. The
	 * objects of a filterSet for any other filter are not reported; instead
	 * on_foreign_filter (when set) is called once for that filterSet with its
	 * filter (at most VI_PC_TEXT_MAX bytes). */
	const char *const *filters;
	void (*on_foreign_filter)(void *ud, const char *filter);
};

/* Longest update version and service-content string accepted from a server:
 * they are sent back (the version on every wait) or shown in the JSON API. */
#define VI_PC_TEXT_MAX 256

/*
 * Session-bound calls: CreateFilter, WaitForUpdatesEx, RetrievePropertiesEx
 * and ContinueRetrievePropertiesEx, CancelRetrievePropertiesEx and the
 * Destroy* methods name objects of the session (a view, a filter, a version,
 * a token). When the session expired they are not resent after the re-login:
 * they fail with ERR_FAULT "NotAuthenticated" and vi_session_renewed(e) true
 * (see VI_CALL_BOUND in vi/session.h); the caller rebuilds its views and filters.
 * CreateContainerView and CreatePropertyCollector are resent once.
 */

/* CreateContainerView over container, a managed object of type
 * container_type ("Folder", "Datacenter", "ClusterComputeResource", ...),
 * for the given types, recursive. container NULL: the root folder (type
 * Folder, container_type ignored). *view_out (NULL on entry) is the caller's
 * to free(). -1 with e set (ERR_INVALID without a container type). */
int vi_pc_create_view(struct vi_session *s, const char *container_type, const char *container,
		      const char *const *types, size_t ntypes, char **view_out, struct err *e);

/* CreateFilter: one object spec over the view (skip the view itself, traverse
 * it), one property spec per entry of specs. *filter_out as above. */
int vi_pc_create_filter(struct vi_session *s, const char *view, const struct vi_prop_spec *specs,
			size_t nspecs, char **filter_out, struct err *e);

/* CreateFilter on one object directly (no view), e.g. a Task's info, on
 * collector (NULL: the session's property collector). *filter_out as above. */
int vi_pc_create_object_filter(struct vi_session *s, const char *collector, const char *obj_type,
			       const char *moref, const char *const *paths, char **filter_out,
			       struct err *e);

/* CreatePropertyCollector: a private collector whose filters and waits see
 * nothing of the session's other filters. *collector_out (NULL on entry) is
 * the caller's to free(); destroy it with vi_pc_destroy_collector(). */
int vi_pc_create_collector(struct vi_session *s, char **collector_out, struct err *e);

/* DestroyPropertyCollector (its filters go with it). -1 with e set. */
int vi_pc_destroy_collector(struct vi_session *s, const char *collector, struct err *e);

/*
 * One WaitForUpdatesEx. version: NULL or "" for the initial set. max_wait_s:
 * server-side wait (0: return at once). max_objects: 0 for no limit. On
 * success *new_version (NULL on entry) is the caller's to free: it is the
 * same as version (copied) when nothing changed (the server returned no
 * update set). *truncated tells the caller to call again at once.
 */
int vi_pc_wait(struct vi_session *s, const char *version, int max_wait_s, int max_objects,
	       const struct vi_pc_handler *h, char **new_version, bool *truncated, struct err *e);

/* vi_pc_wait() on collector (NULL: the session's property collector). */
int vi_pc_wait_on(struct vi_session *s, const char *collector, const char *version, int max_wait_s,
		  int max_objects, const struct vi_pc_handler *h, char **new_version,
		  bool *truncated, struct err *e);

/* RetrievePropertiesEx over the view, paging with ContinueRetrievePropertiesEx
 * (page_size objects per page, 0: server default). Every object is reported as
 * VI_OBJ_ENTER with VI_OP_ASSIGN changes. *pages, when not NULL, gets the number
 * of pages (round trips) used. */
int vi_pc_retrieve(struct vi_session *s, const char *view, const struct vi_prop_spec *specs,
		   size_t nspecs, int page_size, const struct vi_pc_handler *h, int *pages,
		   struct err *e);

/* RetrievePropertiesEx of paths of one object (no view, no traversal): the
 * object is reported as VI_OBJ_ENTER with VI_OP_ASSIGN changes, as by
 * vi_pc_retrieve(). A NotAuthenticated fault logs in again and resends. */
int vi_pc_retrieve_object(struct vi_session *s, const char *type, const char *moref,
			  const char *const *paths, const struct vi_pc_handler *h, struct err *e);

/* DestroyPropertyFilter / DestroyView (filter, view borrowed; the caller
 * still frees its string). -1 with e set. */
int vi_pc_destroy_filter(struct vi_session *s, const char *filter, struct err *e);
int vi_pc_destroy_view(struct vi_session *s, const char *view, struct err *e);

/* One object a watch follows; with follow, also the objects that property of
 * it refers to (e.g. a VM's "recentTask": its Task objects). */
struct vi_watch_obj {
	const char *type;
	const char *moref;
	const char *follow; /* NULL, or a property holding managed object references */
};

/*
 * Watches objs through a private property collector (created and destroyed
 * here, so the session's other filters neither disturb this watch nor are
 * disturbed by it) with ONE property filter: specs name the properties per
 * type, objs the objects. The first WaitForUpdatesEx returns the current
 * state at once; later ones wait on the server (bounded by the deadline, a
 * vi_now_seconds() time, and by the transport timeout) until something
 * changes. h->on_change sees every change as it streams in; after each reply
 * (also one with no change) on_round(ud, e) decides: 1 stop, 0 wait on, -1
 * stop with e set. When the session expired, the collector is rebuilt on the
 * new session and the objects are reported again from scratch.
 * Returns 0 when on_round stopped the watch, 1 when the deadline passed
 * first, -1 with e set on error.
 */
int vi_pc_watch(struct vi_session *s, const struct vi_prop_spec *specs, size_t nspecs,
		const struct vi_watch_obj *objs, size_t nobjs, double deadline,
		const struct vi_pc_handler *h, int (*on_round)(void *ud, struct err *e), void *ud,
		struct err *e);

#endif

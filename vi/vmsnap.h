/* vi/vmsnap: a VM's snapshot tree (VirtualMachineSnapshotInfo) summed up: count, oldest. */
#ifndef VIMON_VI_VMSNAP_H
#define VIMON_VI_VMSNAP_H

#include <stddef.h>

#include "util/err.h"
#include "vi/xml.h"

/* Deeper snapshot trees are refused (vSphere allows 32 snapshots in a chain). */
#define VI_VMSNAP_MAX_DEPTH 64

struct vi_vmsnap {
	size_t count;		 /* snapshots in rootSnapshotList and all childSnapshotLists */
	double oldest;		 /* createTime of the oldest, seconds since the epoch; 0: none */
	const char *oldest_text; /* that createTime as sent (borrowed from the node), or NULL */
};

/*
 * Walks a VirtualMachineSnapshotInfo (the VM's `snapshot` property): every
 * rootSnapshotList entry and, recursively, its childSnapshotList. NULL info
 * means no snapshot. *out is filled (count 0 when there is
 * no snapshot). -1 with e set (ERR_PARSE) when a createTime does not parse
 * or the tree is deeper than VI_VMSNAP_MAX_DEPTH; *out is then zeroed.
 */
int vi_vmsnap_summary(const struct vi_node *info, struct vi_vmsnap *out, struct err *e);

#endif

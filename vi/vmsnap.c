/* vi/vmsnap: a VM's snapshot tree (VirtualMachineSnapshotInfo) summed up: count, oldest. */
#include <string.h>

#include "vi/value.h"
#include "vi/vmsnap.h"

/* Adds the trees named `list` below n (and their children) to out. */
static int walk(const struct vi_node *n, const char *list, int depth, struct vi_vmsnap *out,
		struct err *e)
{
	for (const struct vi_node *c = vi_node_child(n, list); c; c = vi_node_next_same(c)) {
		const char *ct = vi_node_child_text(c, "createTime");
		double t;

		if (depth >= VI_VMSNAP_MAX_DEPTH)
			return err_set(e, ERR_PARSE, "snapshot tree deeper than %d levels",
				       VI_VMSNAP_MAX_DEPTH);
		out->count++;
		if (ct) {
			if (vi_time_parse(ct, &t, e) < 0) {
				err_prefix(e, "snapshot createTime");
				return -1;
			}
			if (!out->oldest_text || t < out->oldest) {
				out->oldest = t;
				out->oldest_text = ct;
			}
		}
		if (walk(c, "childSnapshotList", depth + 1, out, e) < 0)
			return -1;
	}
	return 0;
}

int vi_vmsnap_summary(const struct vi_node *info, struct vi_vmsnap *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (!info)
		return 0;
	if (walk(info, "rootSnapshotList", 0, out, e) < 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

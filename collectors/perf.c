/* collectors/perf: PerformanceManager counters of hosts and VMs: the dynamic ESX memory model. */
#include "collectors/perf.h"

/* mem.state.latest: which reclamation ESX is doing, by the value it reports. */
static const char *const mem_states[] = {"high", "clear", "soft", "hard", "low", NULL};

static const struct col_perf_counter host_counters[] = {
	{"mem.state.latest", "number", "vsphere_host_memory_state",
	 "Host memory state (mem.state): high, clear, soft, hard, low; from soft on ESX reclaims "
	 "memory (ballooning, then compression and swapping). One series per state.",
	 COL_PERF_STATE, "state", mem_states},
	{"mem.vmmemctl.average", "kiloBytes", "vsphere_host_memory_balloon_bytes",
	 "Guest memory reclaimed by balloon drivers on the host (mem.vmmemctl.average).",
	 COL_PERF_KB, NULL, NULL},
	{"mem.swapused.average", "kiloBytes", "vsphere_host_memory_swap_used_bytes",
	 "Memory swapped out by the host (mem.swapused.average).", COL_PERF_KB, NULL, NULL},
	{"mem.swapinRate.average", "kiloBytesPerSecond",
	 "vsphere_host_memory_swap_in_bytes_per_second",
	 "Rate memory is swapped in from disk (mem.swapinRate.average).", COL_PERF_KBPS, NULL,
	 NULL},
	{"mem.swapoutRate.average", "kiloBytesPerSecond",
	 "vsphere_host_memory_swap_out_bytes_per_second",
	 "Rate memory is swapped out to disk (mem.swapoutRate.average).", COL_PERF_KBPS, NULL,
	 NULL},
	{"mem.compressed.average", "kiloBytes", "vsphere_host_memory_compressed_bytes",
	 "Memory held in the compression caches (mem.compressed.average).", COL_PERF_KB, NULL,
	 NULL},
	{"mem.compressionRate.average", "kiloBytesPerSecond",
	 "vsphere_host_memory_compression_bytes_per_second",
	 "Rate memory is compressed (mem.compressionRate.average).", COL_PERF_KBPS, NULL, NULL},
	{"mem.decompressionRate.average", "kiloBytesPerSecond",
	 "vsphere_host_memory_decompression_bytes_per_second",
	 "Rate memory is decompressed (mem.decompressionRate.average).", COL_PERF_KBPS, NULL, NULL},
	{"mem.latency.average", "percent", "vsphere_host_memory_latency_ratio",
	 "Share of time spent waiting for swapped or compressed memory (mem.latency.average).",
	 COL_PERF_PERCENT, NULL, NULL},
	{"mem.sysUsage.average", "kiloBytes", "vsphere_host_memory_vmkernel_bytes",
	 "Memory used by the VMkernel (mem.sysUsage.average).", COL_PERF_KB, NULL, NULL},
	{"cpu.ready.summation", "millisecond", "vsphere_host_cpu_ready_ratio",
	 "Time the host's virtual CPUs were ready but not scheduled, per second of the sample "
	 "interval, summed over all of them (cpu.ready.summation).",
	 COL_PERF_READY, NULL, NULL},
	{NULL},
};

static const struct col_perf_counter vm_counters[] = {
	{"mem.vmmemctltarget.average", "kiloBytes", "vsphere_vm_memory_balloon_target_bytes",
	 "Memory the balloon driver is asked to reclaim (mem.vmmemctltarget.average).", COL_PERF_KB,
	 NULL, NULL},
	{"mem.swaptarget.average", "kiloBytes", "vsphere_vm_memory_swap_target_bytes",
	 "Memory the host intends to swap out (mem.swaptarget.average).", COL_PERF_KB, NULL, NULL},
	{"mem.swapinRate.average", "kiloBytesPerSecond",
	 "vsphere_vm_memory_swap_in_bytes_per_second",
	 "Rate guest memory is swapped in from disk (mem.swapinRate.average).", COL_PERF_KBPS, NULL,
	 NULL},
	{"mem.swapoutRate.average", "kiloBytesPerSecond",
	 "vsphere_vm_memory_swap_out_bytes_per_second",
	 "Rate guest memory is swapped out to disk (mem.swapoutRate.average).", COL_PERF_KBPS, NULL,
	 NULL},
	{"mem.zipped.latest", "kiloBytes", "vsphere_vm_memory_zipped_bytes",
	 "Guest memory held compressed (mem.zipped.latest).", COL_PERF_KB, NULL, NULL},
	{"mem.latency.average", "percent", "vsphere_vm_memory_latency_ratio",
	 "Share of time the VM waited for swapped or compressed memory (mem.latency.average).",
	 COL_PERF_PERCENT, NULL, NULL},
	{"mem.entitlement.average", "kiloBytes", "vsphere_vm_memory_entitlement_bytes",
	 "Host memory the VM is entitled to under the current shares and limits "
	 "(mem.entitlement.average).",
	 COL_PERF_KB, NULL, NULL},
	{"cpu.ready.summation", "millisecond", "vsphere_vm_cpu_ready_ratio",
	 "Time the VM's virtual CPUs were ready but not scheduled, per second of the sample "
	 "interval, summed over them (cpu.ready.summation).",
	 COL_PERF_READY, NULL, NULL},
	{NULL},
};

const struct col_perf col_perf_host = {
	.name = "perf",
	.type = "HostSystem",
	.name_label = "host",
	.id_label = "host_id",
	.counters = host_counters,
};

const struct col_perf col_perf_vm = {
	.name = "perf_vm",
	.type = "VirtualMachine",
	.name_label = "vm",
	.id_label = "vm_id",
	.counters = vm_counters,
};

size_t col_perf_ncounters(const struct col_perf *p)
{
	size_t n = 0;

	while (p->counters[n].counter)
		n++;
	return n;
}

bool col_perf_value(const struct col_perf_counter *c, int64_t raw, int interval, double *out)
{
	switch (c->conv) {
	case COL_PERF_KB:
	case COL_PERF_KBPS: *out = (double)raw * 1024.0; return true;
	case COL_PERF_PERCENT: *out = (double)raw / 10000.0; return true;
	case COL_PERF_READY:
		*out = (double)raw / ((interval > 0 ? interval : 20) * 1000.0);
		return true;
	case COL_PERF_STATE:
		for (int64_t i = 0; c->states[i]; i++) {
			if (i == raw) {
				*out = (double)i;
				return true;
			}
		}
		return false;
	}
	return false;
}

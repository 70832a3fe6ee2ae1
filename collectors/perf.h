/* collectors/perf: PerformanceManager counters as metric families (data only). */
#ifndef VIMON_COLLECTORS_PERF_H
#define VIMON_COLLECTORS_PERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A counter is asked for by name ("group.name.rollup"); its id is looked up
 * once per session (vi_perf_lookup_counters) and a counter the server lacks,
 * or whose unit is not the one below, is skipped. Values are converted to
 * base units.
 */
enum col_perf_conv {
	COL_PERF_KB,	  /* kiloBytes -> bytes */
	COL_PERF_KBPS,	  /* kiloBytesPerSecond -> bytes per second */
	COL_PERF_PERCENT, /* percent, in hundredths (10000 = 100 %) -> ratio */
	COL_PERF_READY,	  /* millisecond summation over the sample interval -> ratio */
	COL_PERF_STATE,	  /* number: an index into states (a state set) */
};

struct col_perf_counter {
	const char *counter; /* "mem.swapinRate.average" */
	const char *unit;    /* the unitInfo.key the conversion expects ("kiloBytesPerSecond") */
	const char *family;  /* "vsphere_host_memory_swap_in_bytes_per_second" */
	const char *help;
	enum col_perf_conv conv;
	const char *state_label;   /* COL_PERF_STATE: the label ("state") */
	const char *const *states; /* COL_PERF_STATE: states by value, NULL-terminated */
};

struct col_perf {
	const char *name;			 /* "perf", "perf_vm" */
	const char *type;			 /* managed-object type queried ("HostSystem") */
	const char *name_label;			 /* "host", "vm" */
	const char *id_label;			 /* "host_id", "vm_id" */
	const struct col_perf_counter *counters; /* terminated by a {NULL} entry */
};

extern const struct col_perf col_perf_host;
extern const struct col_perf col_perf_vm;

/* Number of counters of p. */
size_t col_perf_ncounters(const struct col_perf *p);

/*
 * The value of a sample in base units: raw in the counter's unit, interval
 * the sample's period in seconds (COL_PERF_READY; 20 when 0). For a state
 * set, the index of the state; false when raw is outside the table.
 */
bool col_perf_value(const struct col_perf_counter *c, int64_t raw, int interval, double *out);

#endif

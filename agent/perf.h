/* agent/perf: a target's PerformanceManager counters, on their own thread and session. */
#ifndef VIMON_AGENT_PERF_H
#define VIMON_AGENT_PERF_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/conf.h"
#include "agent/inventory.h"
#include "agent/snapshot.h"
#include "util/err.h"

/*
 * Why a thread and a session of its own: QueryPerf for thousands of entities
 * takes seconds, and the collection loop must stay in WaitForUpdatesEx so that
 * property changes reach /metrics at once. The collection thread hands the
 * entities to query (connected hosts, powered-on VMs, with their labels) to
 * the worker; the worker hands back a snapshot holding only the counter
 * families, which the target publishes together with its own families.
 */

/* The entities to query: immutable once built, shared by reference. */
struct perf_entities;

/*
 * The entities of inv to query: hosts whose runtime.connectionState is
 * connected (when hosts), VMs whose runtime.powerState is poweredOn (when
 * vms), each with its label prefix (target, name, id). NULL when out of
 * memory. Release with perf_entities_put().
 */
struct perf_entities *perf_entities_build(const struct inventory *inv, const char *target,
					  bool hosts, bool vms);

/* Number of entities (tests). */
size_t perf_entities_count(const struct perf_entities *pe);

/* Drops a reference (NULL is fine). */
void perf_entities_put(struct perf_entities *pe);

/*
 * A number that changes when perf_entities_build() would give another list
 * (hosts or VMs entering or leaving, a name, connection or power change).
 */
unsigned long perf_entities_gen(const struct inventory *inv);

/* Receives each new snapshot of counter families (the callee owns the
 * reference). Runs on the worker's thread. */
typedef void (*perf_publish_fn)(void *ud, struct snapshot *families);

struct perf_worker;

/*
 * Starts the worker for ct (copied): it logs in on its own session, looks the
 * counters up by name once per session (a counter the server lacks is logged
 * once and skipped), then every 20 s (aligned to the realtime samples) asks
 * QueryPerf for the latest sample of the current entities, in batches, and
 * publishes. hosts, vms: which tables (col_perf_host, col_perf_vm) it uses.
 * NULL with e set when the thread cannot be started.
 */
struct perf_worker *perf_start(const struct conf_target *ct, bool hosts, bool vms,
			       perf_publish_fn publish, void *ud, struct err *e);

/* Hands the worker a new list (takes the caller's reference). Entities gone
 * from the list lose their series at once; new ones get values at the next
 * query. Any thread. */
void perf_set_entities(struct perf_worker *w, struct perf_entities *pe);

/* Asks the worker to stop (a call in flight is aborted); NULL is fine. */
void perf_request_stop(struct perf_worker *w);

/* Stops, joins and frees; NULL is fine. */
void perf_stop(struct perf_worker *w);

#endif

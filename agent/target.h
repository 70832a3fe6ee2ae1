/* agent/target: one monitored vCenter or ESX host, collected on its own thread. */
#ifndef VIMON_AGENT_TARGET_H
#define VIMON_AGENT_TARGET_H

#include "agent/conf.h"
#include "agent/snapshot.h"
#include "util/err.h"

struct target;

/*
 * Starts the collection thread for ct (copied). It publishes a first snapshot
 * (vsphere_up 0) at once, then logs in, builds one view and filter and loops
 * on WaitForUpdatesEx (30 s server-side waits), publishing a new snapshot when
 * changes were applied, and otherwise after each quiet wait (about every 30 s,
 * for the last update), or every 15 s while a question is pending or a task is
 * queued or running (their ages grow).
 * NULL with e set when the thread cannot be started.
 */
struct target *target_start(const struct conf_target *ct, struct err *e);

/*
 * Asks the thread to stop without waiting: a call in flight (a long wait, a
 * hung server) is aborted at once (the transport is woken up; it also polls
 * the stop flag every second). Stopping several targets:
 * request every one first, then target_stop each. NULL is fine.
 */
void target_request_stop(struct target *t);

/* Stops the thread (it logs out, giving that 2 s at most), joins it and
 * frees. NULL is fine. */
void target_stop(struct target *t);

/* The target's configuration (borrowed). */
const struct conf_target *target_conf(const struct target *t);

/* Current snapshot with a reference for the caller (snapshot_put); never NULL
 * after target_start returned. */
struct snapshot *target_snapshot(struct target *t);

/* Seconds to wait after the n-th refused login in a row (n >= 1): 5 minutes,
 * doubling up to an hour, so that at most 3 attempts fall in any 15 minutes
 * (vCenter SSO locks an account after 5 failures in 3 minutes by default). */
unsigned target_auth_delay(unsigned failures);

#endif

#!/bin/sh
# Integration tests of agent/target (collection thread) against vimon-sim: runs the
# agent_target cmocka program, plain and ASan builds, and relays its results as TAP.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${VIMON_BUILD:-$TOP/build}
ASAN_BUILD=${VIMON_ASAN_BUILD:-$TOP/build-asan}
export CMOCKA_MESSAGE_OUTPUT=TAP

for _bin in "$BUILD/tests/agent_target" "$ASAN_BUILD/tests/agent_target"; do
	_tag=agent_target
	[ "$_bin" = "$ASAN_BUILD/tests/agent_target" ] && _tag="agent_target (asan)"
	if [ ! -x "$_bin" ]; then
		skip "$_tag" "$_bin not built"
		continue
	fi
	if ! sim_start; then
		not_ok "$_tag: simulator did not start"
		continue
	fi
	export AGENT_SIM_URL="$SIM_URL" AGENT_SIM_BASE="$SIM_BASE" AGENT_SIM_PID="$SIM_PID"
	relay "$_tag" "$_bin"
	# the program stops the first simulator itself and starts its own on the same port
	sim_stop 2>/dev/null
done

# A larger inventory (2,100 VMs) arrives in truncated update sets (plain build only).
if [ -x "$BUILD/tests/agent_target" ]; then
	if TMPDIR=${VIMON_SIM_TMPDIR:-/dev/shm} sim_start -dc 1 -cluster 1 -host 10 -vm 210 -standalone 0 \
		-odd-names=false; then
		export AGENT_SIM_URL="$SIM_URL" AGENT_SIM_BASE="$SIM_BASE" AGENT_SIM_PID="$SIM_PID"
		relay "agent_target big" "$BUILD/tests/agent_target" big
		sim_stop
	else
		not_ok "agent_target big: simulator did not start"
	fi
fi
done_testing

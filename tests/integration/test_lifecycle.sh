#!/bin/sh
# Integration tests of vi/lifecycle (the question algorithm: every outcome, for power-on and
# cancelable tasks, auto-answer on and off, a question raised while the task runs) against
# vimon-sim: runs lc_client, plain and ASan builds, as TAP.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${VIMON_BUILD:-$TOP/build}
ASAN_BUILD=${VIMON_ASAN_BUILD:-$TOP/build-asan}
export CMOCKA_MESSAGE_OUTPUT=TAP

for _bin in "$BUILD/tests/lc_client" "$ASAN_BUILD/tests/lc_client"; do
	_tag=lifecycle
	[ "$_bin" = "$ASAN_BUILD/tests/lc_client" ] && _tag="lifecycle (asan)"
	if [ ! -x "$_bin" ]; then
		skip "lc_client $_tag" "$_bin not built"
		continue
	fi
	if ! sim_start; then
		not_ok "$_tag: simulator started"
		continue
	fi
	export VI_SIM_URL="$SIM_URL" VI_SIM_BASE="$SIM_BASE"
	relay "$_tag" "$_bin"
	sim_stop
done
done_testing

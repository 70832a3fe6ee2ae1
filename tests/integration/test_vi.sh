#!/bin/sh
# Integration tests of vi/ (transport, TLS pinning, session, property collector, tasks)
# against vimon-sim: runs the vi_client cmocka groups, plain and ASan builds, as TAP.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${VIMON_BUILD:-$TOP/build}
ASAN_BUILD=${VIMON_ASAN_BUILD:-$TOP/build-asan}
export CMOCKA_MESSAGE_OUTPUT=TAP

# group NAME SIM_FLAGS...: one simulator per group and build, so groups do not share state.
group() {
	_g=$1
	shift
	for _bin in "$BUILD/tests/vi_client" "$ASAN_BUILD/tests/vi_client"; do
		_tag=$_g
		[ "$_bin" = "$ASAN_BUILD/tests/vi_client" ] && _tag="$_g (asan)"
		if [ ! -x "$_bin" ]; then
			skip "vi_client $_tag" "$_bin not built"
			continue
		fi
		if [ "$_g" = net ]; then
			relay "$_tag" "$_bin" net
			continue
		fi
		if ! sim_start "$@"; then
			not_ok "$_tag: simulator started"
			continue
		fi
		export VI_SIM_URL="$SIM_URL" VI_SIM_BASE="$SIM_BASE" VI_SHA256="${SIM_SHA256:-}" \
			VI_SHA1="${SIM_SHA1:-}" VI_CERT="${SIM_CERT:-}"
		relay "$_tag" "$_bin" "$_g"
		sim_stop
	done
}

group basic
group tls -tls
group esx -esx
group net
done_testing

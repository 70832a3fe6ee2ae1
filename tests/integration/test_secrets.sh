#!/bin/sh
# Integration: secrets in memory and in core dumps (issue 9, item 9): after a Login only the
# session's copy of the password remains (tests/integration/secrets.c, plain build: ASan's
# allocator keeps freed blocks in quarantine on purpose); the agent is not dumpable.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${VIMON_BUILD:-$TOP/build}
VIMON=$BUILD/vimon
W=$VIMON_TEST_TMP/secrets.$$
mkdir -p "$W"
export CMOCKA_MESSAGE_OUTPUT=TAP

if ! sim_start -cluster 1 -host 1 -vm 1 -standalone 0 -odd-names=false; then
	not_ok "simulator starts"
	done_testing
fi
VI_SIM_URL=$SIM_URL relay secrets "$BUILD/tests/secrets"

# A process that is not dumpable has its /proc files owned by root, whoever runs it.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	# the agent's files where uid 65534 can reach them (VIMON_TEST_TMP is private to root)
	W=$(mktemp -d /tmp/vimon-secrets.XXXXXX)
	trap 'rm -rf "$W"; _lib_cleanup' EXIT
	chmod 755 "$W"
	printf 'pw\n' >"$W/pw"
	chmod 600 "$W/pw"
	chown 65534 "$W/pw"
	printf 'listen = "127.0.0.1:0";\ntargets = ( { name = "s"; url = "%s"; username = "u"; password_file = "%s"; } );\n' \
		"$SIM_URL" "$W/pw" >"$W/vimon.conf"
	chmod 644 "$W/vimon.conf"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$VIMON" -c "$W/vimon.conf" 2>"$W/agent.log" &
	pid=$!
	echo "$pid" >>"$VIMON_TEST_PIDS"
	_i=0
	while ! grep -q 'listening on' "$W/agent.log" && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	is "$(stat -c %u "/proc/$pid/status" 2>&1)" 0 "the agent (running as uid 65534) is not dumpable"
	kill -TERM "$pid"
	wait "$pid"
else
	skip "the agent is not dumpable" "needs root and setpriv"
fi
like "$(grep -E '^LimitCORE=' "$TOP/packaging/systemd/vimon.service")" '^LimitCORE=0$' \
	"the systemd unit allows no core dump"
sim_stop
done_testing

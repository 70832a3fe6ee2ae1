#!/bin/sh
# Soak of the agent against a simulator that keeps misbehaving in ordinary ways.
#
# bench/soak.sh [MINUTES]   (default 30)
# For MINUTES: changes flowing (a VM question raised and cleared every 2 s), every
# session expired every 30 s, the simulator restarted every 5 minutes, a SIGHUP every
# minute and a scrape every second. Prints the agent's RSS, open FDs, threads, logins,
# collection errors and the scrape failures at the start, before each simulator restart
# and at the end, and what it did
# (expiries, restarts, reloads, scrapes). Expected: RSS and FDs flat, no scrape failure,
# logins = 1 + expiries + restarts.
# Not a test. Env: SOAK_OUT (default build/bench/soak), SOAK_SIM_FLAGS (default inventory).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
MINUTES=${1:-30}
. "$TOP/bench/lib.sh"

OUT=${SOAK_OUT:-$TOP/build/bench/soak}
SIM_FLAGS=${SOAK_SIM_FLAGS:-}
VIMON=${VIMON:-$TOP/build/vimon}
mkdir -p "$OUT"
make -s build/vimon build/vimon-sim || exit 1

AGENT_PID=
cleanup() {
	[ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null
	_lib_cleanup
}
trap cleanup EXIT

say() { echo "$*" | tee -a "$OUT/summary.txt"; }
: >"$OUT/summary.txt"

# shellcheck disable=SC2086
sim_start $SIM_FLAGS || exit 1
SIM_PORT=${SIM_BASE##*:}
printf 'soak\n' >"$OUT/pw"
chmod 600 "$OUT/pw"
cat >"$OUT/vimon.conf" <<EOF
listen = "127.0.0.1:0";
targets = ( { name = "soak"; url = "$SIM_URL"; username = "soak"; password_file = "$OUT/pw"; } );
EOF
"$VIMON" -c "$OUT/vimon.conf" 2>"$OUT/agent.log" &
AGENT_PID=$!
echo "$AGENT_PID" >>"$VIMON_TEST_PIDS"
i=0
while ! grep -q 'listening on http://' "$OUT/agent.log" && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
AGENT_URL=http://$(sed -n 's#.*listening on http://\([^ ]*\).*#\1#p' "$OUT/agent.log" | tail -n 1)
VM=$(simctl GET /_sim/inventory | python3 -c 'import json,sys; print(json.load(sys.stdin)["vms"][0]["name"])')

# metric NAME: the sum of NAME's series in the last scrape.
metric() { [ -f "$OUT/m" ] || { echo 0; return; }; awk -v n="$1" '$1 ~ "^"n"({|$)" { s += $NF } END { printf "%d", s }' "$OUT/m"; }
scrape_failures=0
scrapes=0
scrape() {
	scrapes=$((scrapes + 1))
	if ! curl -sS --fail --max-time 2 -o "$OUT/m.new" "$AGENT_URL/metrics" 2>>"$OUT/scrape.err"; then
		scrape_failures=$((scrape_failures + 1))
		return
	fi
	mv "$OUT/m.new" "$OUT/m"
}
figures() {
	scrape
	say "$1: rss_kb $(awk '/^VmRSS/ { print $2 }' /proc/$AGENT_PID/status)" \
		"fds $(ls /proc/$AGENT_PID/fd | wc -l)" \
		"threads $(awk '/^Threads/ { print $2 }' /proc/$AGENT_PID/status)" \
		"logins $(metric vsphere_session_logins_total)" \
		"errors $(metric vsphere_collector_errors_total)" \
		"resyncs $(metric vsphere_collector_resyncs_total)" \
		"up $(metric vsphere_up) scrape_failures $scrape_failures"
}

# the first synchronisation
i=0
while [ "$(metric vsphere_up)" != 1 ] && [ $i -lt 60 ]; do
	scrape
	sleep 0.5
	i=$((i + 1))
done
say "soak: $MINUTES minutes, simulator ${SIM_FLAGS:-default inventory}, agent pid $AGENT_PID"
figures start

start=$(date +%s)
end=$((start + MINUTES * 60))
expiries=0
restarts=0
reloads=0
changes=0
last_expiry=$start
last_restart=$start
last_hup=$start
tick=0
while [ "$(date +%s)" -lt "$end" ]; do
	now=$(date +%s)
	if [ $((now - last_restart)) -ge 300 ]; then
		figures "t+$(((now - start) / 60))m"
		sim_stop >/dev/null 2>&1
		# shellcheck disable=SC2086
		if sim_start -listen "127.0.0.1:$SIM_PORT" $SIM_FLAGS; then
			restarts=$((restarts + 1))
		else
			say "soak: the simulator did not restart"
			break
		fi
		last_restart=$now
		last_expiry=$now
	elif [ $((now - last_expiry)) -ge 30 ]; then
		simctl POST /_sim/fault '{"kind":"expire-sessions"}' >/dev/null && expiries=$((expiries + 1))
		last_expiry=$now
	fi
	if [ $((now - last_hup)) -ge 60 ]; then
		kill -HUP "$AGENT_PID" && reloads=$((reloads + 1))
		last_hup=$now
	fi
	if [ $((tick % 2)) -eq 0 ]; then
		if [ $((tick % 4)) -eq 0 ]; then
			simctl POST /_sim/question "{\"vm\":\"$VM\",\"text\":\"soak $tick\",\"choices\":[{\"key\":\"0\",\"label\":\"OK\"}]}" >/dev/null
		else
			simctl POST /_sim/question/clear "{\"vm\":\"$VM\"}" >/dev/null
		fi
		changes=$((changes + 1))
	fi
	scrape
	tick=$((tick + 1))
	sleep 1
done
sleep 3
figures end
say "soak: $scrapes scrapes, $expiries session expiries, $restarts simulator restarts," \
	"$reloads SIGHUPs, $changes changes; expected logins 1 + $expiries + $restarts = $((1 + expiries + restarts))"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
say "soak: agent exit status $?; log lines by level:" \
	"$(sed -n 's/^[^ ]* *vimon: \([a-z]*\):.*/\1/p' "$OUT/agent.log" | sort | uniq -c | tr '\n' ' ')"
AGENT_PID=

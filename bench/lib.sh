# What every benchmark starts with: source with TOP set. The simulator writes a folder per VM:
# TMPDIR on tmpfs when there is one (creation several times faster); a 10,000-VM simulator
# may take minutes to start. Then the integration tests' helpers (sim_start, simctl, ...) and
# the benchmarks' own below.
export TMPDIR=${TMPDIR:-/dev/shm}
[ -d "$TMPDIR" ] && [ -w "$TMPDIR" ] || export TMPDIR=/tmp
export VIMON_SIM=${VIMON_SIM:-$TOP/build/vimon-sim}
SIM_START_TIMEOUT=${SIM_START_TIMEOUT:-900}
. "$TOP/tests/integration/lib.sh"

# bench_agent_start VIMON CONF LOG: starts the agent on CONF (stderr to LOG) and waits until its
# first complete snapshot is published (the target is "up" in /api/v1/targets, cheap to
# poll; /metrics is not). Sets AGENT_PID and URL; prints LOG and exits when the agent dies.
bench_agent_start() {
	"$1" -c "$2" 2>"$3" &
	AGENT_PID=$!
	echo "$AGENT_PID" >>"$VIMON_TEST_PIDS"
	URL=
	while :; do
		kill -0 "$AGENT_PID" 2>/dev/null || {
			cat "$3"
			exit 1
		}
		if [ -z "$URL" ] && grep -q 'listening on http://' "$3" 2>/dev/null; then
			URL=http://$(sed -n 's#.*listening on http://\([^ ]*\).*#\1#p' "$3" | head -n 1)
		fi
		[ -n "$URL" ] && curl -sS "$URL/api/v1/targets" 2>/dev/null | grep -q '"up": *true' && break
		sleep 0.01
	done
}

# bench_cpu_ns PID: the CPU time of the process's threads in nanoseconds (/proc schedstat: finer
# than the clock ticks of /proc/PID/stat).
bench_cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f", s }'; }

#!/bin/sh
# Benchmark of the agent on a 10,000-VM simulator: first snapshot, CPU per quiet cycle, peak RSS, /metrics latency.
#
# Targets: first complete snapshot within 1.2x of the simulator alone returning the same
# properties (one RetrievePropertiesEx with curl); < 5 ms agent CPU per quiet cycle; peak
# RSS < 64 MB; /metrics p99 within 1.2x of bench/trivial_server holding the same bytes.
# Not a test: prints figures (and keeps them in $BENCH_OUT/summary.txt). See bench/README.md.
# Env: BENCH_OUT (default build/bench/agent), BENCH_SIM_FLAGS (default the 10,000-VM
# inventory), BENCH_QUIET_SECONDS (125: four 30 s cycles), BENCH_WRK_SECONDS (10), BENCH_ROUNDS (2).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
. "$TOP/bench/lib.sh"

OUT=${BENCH_OUT:-$TOP/build/bench/agent}
SIM_FLAGS=${BENCH_SIM_FLAGS:--dc 1 -cluster 10 -host 50 -standalone 0 -vm 20 -ds 100 -odd-names=false}
QUIET=${BENCH_QUIET_SECONDS:-125}
WRK_SECONDS=${BENCH_WRK_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
VIMON=$TOP/build/vimon
TRIVIAL=$TOP/build/bench/trivial_server
mkdir -p "$OUT"
make -s build/vimon build/vimon-sim build/bench/trivial_server build/bench/agent_props || exit 1
command -v wrk >/dev/null || {
	echo "bench: wrk is not installed" >&2
	exit 1
}

AGENT_PID=
TRIVIAL_PID=
cleanup() {
	[ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null
	[ -n "$TRIVIAL_PID" ] && kill -TERM "$TRIVIAL_PID" 2>/dev/null
	_lib_cleanup
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
say() { echo "$*" | tee -a "$OUT/summary.txt"; }
: >"$OUT/summary.txt"
# ratio A B: A/B with two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# ms FILE PCT: a latency percentile of wrk --latency output, in milliseconds
ms() {
	awk -v p="$2%" '$1 == p {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
		printf "%.3f", v }' "$1"
}

t0=$(now_ms)
sim_start $SIM_FLAGS || exit 1
say "simulator: $SIM_FLAGS, ready after $((($(now_ms) - t0) / 1000)) s (TMPDIR=$TMPDIR)"
inv=$(simctl GET /_sim/inventory)
NVMS=$(printf '%s' "$inv" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vms"]))')
say "inventory: $NVMS VMs"

# 1. The simulator alone: the agent's properties in one RetrievePropertiesEx, with curl.
soap_login >/dev/null
sc=$(soap RetrieveServiceContent '<_this type="ServiceInstance">ServiceInstance</_this>')
root=$(printf '%s' "$sc" | sed -n 's/.*<rootFolder type="Folder">\([^<]*\)<.*/\1/p')
view=$(soap CreateContainerView "<_this type=\"ViewManager\">ViewManager</_this><container type=\"Folder\">$root</container><recursive>true</recursive>" |
	sed -n 's/.*<returnval type="ContainerView">\([^<]*\)<.*/\1/p')
props=$("$TOP/build/bench/agent_props")
soap_envelope "<RetrievePropertiesEx xmlns=\"urn:vim25\"><_this type=\"PropertyCollector\">propertyCollector</_this><specSet>$props<objectSet><obj type=\"ContainerView\">$view</obj><skip>true</skip><selectSet xsi:type=\"TraversalSpec\"><name>traverseView</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet></specSet><options></options></RetrievePropertiesEx>" >"$OUT/retrieve.xml"
best=
for i in 1 2 3; do
	# --compressed: ask for gzip as the agent does (the simulator, like vCenter, then
	# compresses), so both sides of the comparison pay for compression.
	t=$(curl -sS --compressed -b "$VIMON_TEST_TMP/cookies" -H 'Content-Type: text/xml; charset=utf-8' \
		-H 'SOAPAction: "urn:vim25/8.0"' --data-binary @"$OUT/retrieve.xml" \
		-o "$OUT/retrieve.reply" -w '%{time_total}' "$SIM_URL")
	t=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
	echo "  RetrievePropertiesEx with curl: $t ms ($(wc -c <"$OUT/retrieve.reply") bytes)"
	[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
done
objs=$(grep -o '<objects>' "$OUT/retrieve.reply" | wc -l)
say "simulator alone: RetrievePropertiesEx of the same properties: best of 3 $best ms ($objs objects)"

# For comparison, what the agent asks: a filter with the same spec, then WaitForUpdatesEx
# from version "" paged by maxObjectUpdates (BENCH_PAGE, the agent's 2000) until not truncated.
PAGE=${BENCH_PAGE:-2000}
filter=$(soap CreateFilter "<_this type=\"PropertyCollector\">propertyCollector</_this><spec>$props<objectSet><obj type=\"ContainerView\">$view</obj><skip>true</skip><selectSet xsi:type=\"TraversalSpec\"><name>traverseView</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet></spec><partialUpdates>false</partialUpdates>" |
	sed -n 's/.*<returnval type="PropertyFilter">\([^<]*\)<.*/\1/p')
version=
calls=0
t0=$(now_ms)
while :; do
	soap_envelope "<WaitForUpdatesEx xmlns=\"urn:vim25\"><_this type=\"PropertyCollector\">propertyCollector</_this><version>$version</version><options><maxWaitSeconds>0</maxWaitSeconds><maxObjectUpdates>$PAGE</maxObjectUpdates></options></WaitForUpdatesEx>" |
		curl -sS --compressed -b "$VIMON_TEST_TMP/cookies" -H 'Content-Type: text/xml; charset=utf-8' \
			-H 'SOAPAction: "urn:vim25/8.0"' --data-binary @- -o "$OUT/wait.reply" "$SIM_URL"
	calls=$((calls + 1))
	version=$(grep -o '<version>[^<]*</version>' "$OUT/wait.reply" | tail -n 1 | sed 's/<[^>]*>//g')
	grep -q '<truncated>true</truncated>' "$OUT/wait.reply" || break
	[ $calls -lt 1000 ] || break
done
wait_ms=$(($(now_ms) - t0))
soap DestroyPropertyFilter "<_this type=\"PropertyFilter\">$filter</_this>" >/dev/null
say "simulator alone: CreateFilter + WaitForUpdatesEx paged by $PAGE objects: $wait_ms ms in $calls calls"

# 2. The agent: time to its first complete snapshot.
printf 'bench-password\n' >"$OUT/password"
chmod 600 "$OUT/password"
cat >"$OUT/vimon.conf" <<EOF
listen = "127.0.0.1:0";
targets = ( { name = "bench"; url = "$SIM_URL"; username = "bench"; password_file = "$OUT/password";
  collect = ["vm", "host", "datastore", "question", "task"]; } );
EOF
simctl POST /_sim/stats/reset '{}' >/dev/null
t0=$(now_ms)
bench_agent_start "$VIMON" "$OUT/vimon.conf" "$OUT/vimon.log"
first=$(($(now_ms) - t0))
sync_cpu=$(bench_cpu_ns "$AGENT_PID")
hwm_sync=$(awk '/VmHWM/ {print $2}' "/proc/$AGENT_PID/status")
curl -sS "$URL/metrics" >"$OUT/metrics.txt"
say "agent: first complete snapshot after $first ms ($(grep -c '^vsphere_vm_info{' "$OUT/metrics.txt") VMs in /metrics;" \
	"$(ratio "$first" "$best")x the simulator's RetrievePropertiesEx, target <= 1.2x;" \
	"$(ratio "$first" "$wait_ms")x its paged WaitForUpdatesEx)"
say "  agent CPU for it: $(awk -v n="$sync_cpu" 'BEGIN { printf "%.3f", n / 1e9 }') s (all threads, /proc schedstat; target < 0.3 s)"
say "  calls for it: $(simctl GET /_sim/stats)"

# 3. CPU per quiet cycle: nothing changes, nobody scrapes.
sleep 2
simctl POST /_sim/stats/reset '{}' >/dev/null
# perf's task-clock counts nanoseconds; /proc/PID/stat only 10 ms ticks,
# too coarse for a few cycles of a few milliseconds each.
if perf stat -e task-clock true >/dev/null 2>&1; then
	cpu_ms=$(perf stat -x, -e task-clock -p "$AGENT_PID" -- sleep "$QUIET" 2>&1 >/dev/null |
		awk -F, '/task-clock/ { printf "%.1f", $1 }')
	how="perf task-clock"
else
	ticks0=$(awk '{print $14 + $15}' "/proc/$AGENT_PID/stat")
	sleep "$QUIET"
	ticks1=$(awk '{print $14 + $15}' "/proc/$AGENT_PID/stat")
	hz=$(getconf CLK_TCK)
	cpu_ms=$(((ticks1 - ticks0) * 1000 / hz))
	how="/proc ticks of $((1000 / hz)) ms"
fi
waits=$(simctl GET /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"].get("WaitForUpdatesEx", 0))')
say "agent: quiet for $QUIET s: $cpu_ms ms CPU ($how), $waits WaitForUpdatesEx calls:" \
	"$(awk -v c="$cpu_ms" -v w="$waits" 'BEGIN { if (w > 0) printf "%.2f", c / w; else print "n/a" }') ms per cycle (target < 5)," \
	"$(awk -v c="$cpu_ms" -v q="$QUIET" 'BEGIN { printf "%.1f", c * 60 / q }') ms per minute"

# 4. /metrics latency against the trivial server holding the same bytes.
curl -sS "$URL/metrics" -o "$OUT/metrics.txt"
curl -sS -H 'Accept-Encoding: gzip' "$URL/metrics" -o "$OUT/metrics.gz"
say "/metrics: $(wc -c <"$OUT/metrics.txt") bytes, gzip $(wc -c <"$OUT/metrics.gz") bytes"
"$TRIVIAL" 0 "$OUT/metrics.txt" "$OUT/metrics.gz" >"$OUT/trivial.out" &
TRIVIAL_PID=$!
echo "$TRIVIAL_PID" >>"$VIMON_TEST_PIDS"
while ! grep -q '^ready ' "$OUT/trivial.out" 2>/dev/null; do sleep 0.05; done
TURL=http://127.0.0.1:$(sed -n 's/^ready //p' "$OUT/trivial.out")

# bench NAME URL WRK-ARGS...: wrk run, prints "p50 p99 rps"
bench() {
	_n=$1 _u=$2
	shift 2
	wrk -t 2 -d "${WRK_SECONDS}s" --latency "$@" "$_u/metrics" >"$OUT/wrk.$_n.txt" 2>&1
	echo "$(ms "$OUT/wrk.$_n.txt" 50) $(ms "$OUT/wrk.$_n.txt" 99) $(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.$_n.txt")"
}
# socket_errors NAME: wrk's socket error line of a run (connect, read, write, timeout), or none
socket_errors() { grep -o 'Socket errors.*' "$OUT/wrk.$1.txt" || echo "no socket errors"; }
for mode in gzip64 plain2; do
	if [ "$mode" = gzip64 ]; then
		set -- -c 64 -H 'Accept-Encoding: gzip'
		label="wrk -c 64, gzip"
	else
		set -- -c 2
		label="wrk -c 2, no gzip"
	fi
	r=1
	while [ $r -le "$ROUNDS" ]; do
		tv=$(bench "trivial.$mode.$r" "$TURL" "$@")
		vv=$(bench "vimon.$mode.$r" "$URL" "$@")
		set -- $tv $vv "$@"
		say "$label, round $r: trivial p50 $1 ms p99 $2 ms ($3 req/s); vimon p50 $4 ms p99 $5 ms ($6 req/s): p99 ratio $(ratio "$5" "$2") (target <= 1.2)"
		say "  socket errors: trivial: $(socket_errors "trivial.$mode.$r"); vimon: $(socket_errors "vimon.$mode.$r")"
		shift 6
		r=$((r + 1))
	done
done
grep -q 'Non-2xx' "$OUT"/wrk.vimon.* && say "warning: vimon answered non-2xx during wrk"

hwm=$(awk '/VmHWM/ {print $2}' "/proc/$AGENT_PID/status")
say "agent: peak RSS (VmHWM) $((hwm_sync / 1024)) MB after the first snapshot, $((hwm / 1024)) MB at the end (target < 64 MB)"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
say "agent: exit status $? after SIGTERM"
AGENT_PID=
kill -TERM "$TRIVIAL_PID"
wait "$TRIVIAL_PID"
TRIVIAL_PID=
sim_stop
echo "figures kept in $OUT/summary.txt"

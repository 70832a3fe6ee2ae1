#!/bin/sh
# Benchmark of the agent under a real vCenter's churn: the simulator refreshes quickStats of
# every powered-on VM every 20 s (vimon-sim -churn). Prints the agent's CPU (share of a core
# and per VM change), the simulator's own CPU, /metrics gzip latency with and without churn,
# the freshness of one change under churn, and peak RSS.
# Not a test: prints figures (and keeps them in $BENCH_OUT/summary.txt). See bench/README.md.
# Env: BENCH_OUT (default build/bench/churn), BENCH_SIM_FLAGS (default the 10,000-VM
# inventory), BENCH_CHURN_SECONDS (120), BENCH_WRK_SECONDS (10), BENCH_FRESH (5 probes),
# BENCH_CHURN (the /_sim/churn settings; default every VM every 20 s in one batch; a
# real vCenter spreads its refresh: '{"interval":1,"share":0.05}' is the same rate spread),
# BENCH_VIMON (the agent binary, default build/vimon: compare two builds on one machine),
# BENCH_LONE (20 lone changes with churn off) and BENCH_LONE_GAP (0.5 s between them).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
. "$TOP/bench/lib.sh"

OUT=${BENCH_OUT:-$TOP/build/bench/churn}
SIM_FLAGS=${BENCH_SIM_FLAGS:--dc 1 -cluster 10 -host 50 -standalone 0 -vm 20 -ds 100 -odd-names=false}
SECONDS_CHURN=${BENCH_CHURN_SECONDS:-120}
WRK_SECONDS=${BENCH_WRK_SECONDS:-10}
FRESH=${BENCH_FRESH:-5}
LONE=${BENCH_LONE:-20}
LONE_GAP=${BENCH_LONE_GAP:-0.5}
CHURN=${BENCH_CHURN:-'{"interval":20,"share":1}'}
VIMON=${BENCH_VIMON:-$TOP/build/vimon}
mkdir -p "$OUT"
make -s build/vimon build/vimon-sim || exit 1
command -v wrk >/dev/null || {
	echo "bench: wrk is not installed" >&2
	exit 1
}

AGENT_PID=
cleanup() {
	[ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null
	_lib_cleanup
}
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }
say() { echo "$*" | tee -a "$OUT/summary.txt"; }
: >"$OUT/summary.txt"
# cpu_ticks PID: utime + stime in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# stat NAME: a number from /_sim/stats (top level or under churn)
simstat() { simctl GET /_sim/stats | python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('$1', d['churn'].get('$1')))"; }
# p99 of wrk --latency output, in ms
ms() {
	awk -v p="$2%" '$1 == p {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
		printf "%.3f", v }' "$1"
}
wrk_run() {
	wrk -t 2 -c 8 -d "${WRK_SECONDS}s" --latency -H 'Accept-Encoding: gzip' "$URL/metrics" >"$OUT/wrk.$1.txt" 2>&1
	echo "p50 $(ms "$OUT/wrk.$1.txt" 50) ms, p99 $(ms "$OUT/wrk.$1.txt" 99) ms," \
		"$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.$1.txt") req/s" \
		"$(grep -o 'Socket errors.*' "$OUT/wrk.$1.txt" || echo 'no socket errors')"
}

t0=$(now_ms)
sim_start $SIM_FLAGS || exit 1
say "simulator: $SIM_FLAGS, ready after $((($(now_ms) - t0) / 1000)) s"
on=$(simctl GET /_sim/inventory | grep -o '"power":"poweredOn"' | wc -l)
say "inventory: $on powered-on VMs"

printf 'bench-password\n' >"$OUT/password"
chmod 600 "$OUT/password"
cat >"$OUT/vimon.conf" <<EOF
listen = "127.0.0.1:0";
targets = ( { name = "bench"; url = "$SIM_URL"; username = "bench"; password_file = "$OUT/password"; } );
EOF
bench_agent_start "$VIMON" "$OUT/vimon.conf" "$OUT/vimon.log"
say "agent: synchronized after $((($(now_ms) - t0) / 1000)) s"
sleep 3

# 1. Quiet: /metrics latency with no change
say "quiet /metrics gzip (wrk -c 8): $(wrk_run quiet)"

# 2. Churn: by default every powered-on VM every 20 s
simctl POST /_sim/churn "$CHURN" >/dev/null
simctl POST /_sim/churn '{"enabled":true}' >/dev/null
say "churn: $CHURN"
sleep 5
a0=$(cpu_ticks "$AGENT_PID")
s0=$(simstat cpu_seconds)
c0=$(simstat delivered)
sleep "$SECONDS_CHURN"
a1=$(cpu_ticks "$AGENT_PID")
s1=$(simstat cpu_seconds)
c1=$(simstat delivered)
agent_s=$(awk -v a="$a0" -v b="$a1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
changes=$((c1 - c0))
say "churn for $SECONDS_CHURN s: $changes VM changes delivered ($(awk -v c="$changes" -v s="$SECONDS_CHURN" 'BEGIN { printf "%.0f", c / s }')/s)"
say "  agent CPU $agent_s s = $(awk -v c="$agent_s" -v s="$SECONDS_CHURN" 'BEGIN { printf "%.1f", 100 * c / s }') % of a core (target < 5 %)," \
	"$(awk -v c="$agent_s" -v n="$changes" 'BEGIN { if (n > 0) printf "%.3f", 1000 * c / n; else print "n/a" }') ms per VM change (target < 1 ms)"
say "  simulator CPU $(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }') s = $(awk -v a="$s0" -v b="$s1" -v s="$SECONDS_CHURN" 'BEGIN { printf "%.1f", 100 * (b - a) / s }') % of a core"
say "churn /metrics gzip (wrk -c 8): $(wrk_run churn)"

# 3. Freshness of one change under churn: a ballooned memory value set through the control
# API until it shows in /metrics.
VM=$(simctl GET /_sim/inventory | sed 's/},{/}\n{/g' | grep '"power":"poweredOn"' | head -n 1 | sed 's/.*"moref":"\(vm-[0-9]*\)".*/\1/')
i=1
while [ $i -le "$FRESH" ]; do
	v=$((100 + i))
	t0=$(now_ms)
	simctl POST /_sim/vm/quickstats "{\"vm\":\"$VM\",\"balloonedMemory\":$v}" >/dev/null
	while ! curl -sS --compressed "$URL/metrics" 2>/dev/null | grep -q "^vsphere_vm_memory_ballooned_bytes{.*vm_id=\"$VM\"} $((v * 1048576))\$"; do
		[ $(($(now_ms) - t0)) -lt 30000 ] || break
		sleep 0.05
	done
	say "  freshness under churn, probe $i: $(($(now_ms) - t0)) ms (target < 2000)"
	sleep 3
	i=$((i + 1))
done
simctl POST /_sim/churn '{"enabled":false}' >/dev/null

# 4. A lone change with churn off: one VM's quickStats every LONE_GAP seconds, BENCH_LONE
# times; the agent's CPU over them (less its CPU over as long a quiet time) per change.
sleep 3
q0=$(bench_cpu_ns "$AGENT_PID")
sleep "$(awk -v n="$LONE" -v g="$LONE_GAP" 'BEGIN { print n * g }')"
q1=$(bench_cpu_ns "$AGENT_PID")
i=1
l0=$(bench_cpu_ns "$AGENT_PID")
while [ $i -le "$LONE" ]; do
	simctl POST /_sim/vm/quickstats "{\"vm\":\"$VM\",\"balloonedMemory\":$((200 + i))}" >/dev/null
	sleep "$LONE_GAP"
	i=$((i + 1))
done
l1=$(bench_cpu_ns "$AGENT_PID")
t0=$(now_ms)
while ! curl -sS --compressed "$URL/metrics" 2>/dev/null | grep -q "^vsphere_vm_memory_ballooned_bytes{.*vm_id=\"$VM\"} $(((200 + LONE) * 1048576))\$"; do
	[ $(($(now_ms) - t0)) -lt 10000 ] || break
	sleep 0.05
done
say "lone changes (churn off): $LONE changes of one VM, one every $LONE_GAP s: agent CPU" \
	"$(awk -v a="$l0" -v b="$l1" -v qa="$q0" -v qb="$q1" -v n="$LONE" \
		'BEGIN { printf "%.2f", ((b - a) - (qb - qa)) / 1e6 / n }') ms per change" \
	"(less the quiet CPU over as long; the last one in /metrics $(($(now_ms) - t0)) ms after the last wait)"

say "agent: peak RSS (VmHWM) $(($(awk '/VmHWM/ {print $2}' "/proc/$AGENT_PID/status") / 1024)) MB (target < 64 MB)"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
AGENT_PID=
sim_stop
echo "figures kept in $OUT/summary.txt"

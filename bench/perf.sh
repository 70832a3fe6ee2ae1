#!/bin/sh
# Benchmark of the performance counters on a 10,000-VM, 500-host simulator: per 20 s interval
# the SOAP calls, bytes and agent CPU without counters, with host counters, with VM counters
# too; peak RSS; /metrics size; series per VM, host and datastore; QueryPerf by batch size.
# Not a test: prints figures (and keeps them in $BENCH_OUT/summary.txt). See bench/README.md.
# Env: BENCH_OUT (default build/bench/perf), BENCH_SIM_FLAGS (default 10,000 VMs, 500 hosts),
# BENCH_SECONDS (measured time per configuration, default 100: five 20 s intervals).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
. "$TOP/bench/lib.sh"

OUT=${BENCH_OUT:-$TOP/build/bench/perf}
SIM_FLAGS=${BENCH_SIM_FLAGS:--dc 1 -cluster 10 -host 50 -standalone 0 -vm 20 -ds 100 -odd-names=false}
SECONDS_EACH=${BENCH_SECONDS:-100}
VIMON=$TOP/build/vimon
mkdir -p "$OUT"
make -s build/vimon build/vimon-sim || exit 1

AGENT_PID=
cleanup() {
	[ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null
	_lib_cleanup
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
say() { echo "$*" | tee -a "$OUT/summary.txt"; }
: >"$OUT/summary.txt"
calls() { simctl GET /_sim/stats | python3 -c "import json,sys; print(json.load(sys.stdin)['calls'].get('$1', 0))"; }
# metric FAMILY: the value of the target's series of FAMILY in $OUT/m
metric() { awk -v f="$1" 'index($0, f "{") == 1 { v = $NF } END { print v + 0 }' "$OUT/m"; }
ticks() { awk '{print $14 + $15}' "/proc/$AGENT_PID/stat"; }

t0=$(now_ms)
sim_start $SIM_FLAGS || exit 1
say "simulator: $SIM_FLAGS, ready after $((($(now_ms) - t0) / 1000)) s (TMPDIR=$TMPDIR)"
# realistic values (non-zero: the simulator leaves zeros out of its replies)
simctl POST /_sim/perf '{"type":"HostSystem","values":{"mem.state.latest":[1],"mem.vmmemctl.average":[4096],
	"mem.swapused.average":[2048],"mem.swapinRate.average":[12],"mem.swapoutRate.average":[30],
	"mem.compressed.average":[1024],"mem.compressionRate.average":[8],"mem.decompressionRate.average":[6],
	"mem.latency.average":[40],"mem.sysUsage.average":[900000],"cpu.ready.summation":[5000]}}' >/dev/null
simctl POST /_sim/perf '{"type":"VirtualMachine","values":{"mem.vmmemctltarget.average":[512],
	"mem.swaptarget.average":[256],"mem.swapinRate.average":[3],"mem.swapoutRate.average":[4],
	"mem.zipped.latest":[128],"mem.latency.average":[10],"mem.entitlement.average":[4194304],
	"cpu.ready.summation":[200]}}' >/dev/null

# QueryPerf by batch size, with curl: the time the simulator takes and the reply size
soap_login >/dev/null
inv=$(simctl GET /_sim/inventory)
printf '%s' "$inv" | python3 -c 'import json,sys; [print(v["moref"]) for v in json.load(sys.stdin)["vms"]]' >"$OUT/vms"
ids=$(soap RetrievePropertiesEx '<_this type="PropertyCollector">propertyCollector</_this><specSet><propSet><type>PerformanceManager</type><pathSet>perfCounter</pathSet></propSet><objectSet><obj type="PerformanceManager">PerfMgr</obj></objectSet></specSet><options/>' |
	python3 -c '
import re, sys
s = sys.stdin.read()
want = ["mem.vmmemctltarget.average", "mem.swaptarget.average", "mem.swapinRate.average",
        "mem.swapoutRate.average", "mem.zipped.latest", "mem.latency.average",
        "mem.entitlement.average", "cpu.ready.summation"]
ids = {}
for c in re.findall(r"<PerfCounterInfo>(.*?)</PerfCounterInfo>", s, re.S):
    k = re.search(r"^<key>(\d+)</key>", c).group(1)
    keys = re.findall(r"<key>([^<]*)</key>", c)
    roll = re.search(r"<rollupType>([^<]*)<", c).group(1)
    ids["%s.%s.%s" % (keys[2], keys[1], roll)] = k
print(" ".join(ids[w] for w in want))')
for n in 50 250 1000; do
	{
		printf '<QueryPerf xmlns="urn:vim25"><_this type="PerformanceManager">PerfMgr</_this>'
		head -n "$n" "$OUT/vms" | while read -r vm; do
			printf '<querySpec><entity type="VirtualMachine">%s</entity><maxSample>1</maxSample>' "$vm"
			for id in $ids; do printf '<metricId><counterId>%s</counterId><instance></instance></metricId>' "$id"; done
			printf '<intervalId>20</intervalId></querySpec>'
		done
		printf '</QueryPerf>'
	} >"$OUT/q.$n.body"
	soap_envelope "$(cat "$OUT/q.$n.body")" >"$OUT/q.$n.xml"
	best=
	for i in 1 2 3; do
		r=$(curl -sS --compressed -b "$VIMON_TEST_TMP/cookies" -H 'Content-Type: text/xml; charset=utf-8' \
			-H 'SOAPAction: "urn:vim25/8.0"' --data-binary @"$OUT/q.$n.xml" -o "$OUT/q.$n.reply" \
			-w '%{time_total} %{size_download}' "$SIM_URL")
		t=$(echo "$r" | awk '{ printf "%d", $1 * 1000 }')
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t && wire=$(echo "$r" | awk '{print $2}')
	done
	say "QueryPerf of $n VMs x 8 counters: best of 3 $best ms, request $(wc -c <"$OUT/q.$n.xml") bytes," \
		"reply $(wc -c <"$OUT/q.$n.reply") bytes ($wire gzip), $(grep -o '<entity ' "$OUT/q.$n.reply" | wc -l) entities"
done

printf 'bench-password\n' >"$OUT/password"
chmod 600 "$OUT/password"

# run NAME COLLECT: the agent with that collect list, measured over SECONDS_EACH after it settled
run() {
	_name=$1
	cat >"$OUT/vimon.$_name.conf" <<EOF
listen = "127.0.0.1:0";
targets = ( { name = "bench"; url = "$SIM_URL"; username = "bench"; password_file = "$OUT/password"; collect = [$2]; } );
EOF
	bench_agent_start "$VIMON" "$OUT/vimon.$_name.conf" "$OUT/vimon.$_name.log"
	sleep 25 # the first counter round (at once after the sync) and the first aligned one
	curl -sS "$URL/metrics" >"$OUT/m"
	pb0=$(metric vsphere_perf_received_bytes_total)
	ab0=$(metric vsphere_api_received_bytes_total)
	simctl POST /_sim/stats/reset '{}' >/dev/null
	# perf's task-clock counts nanoseconds; /proc/PID/stat only 10 ms ticks
	if perf stat -e task-clock true >/dev/null 2>&1; then
		cpu_ms=$(perf stat -x, -e task-clock -p "$AGENT_PID" -- sleep "$SECONDS_EACH" 2>&1 >/dev/null |
			awk -F, '/task-clock/ { printf "%.1f", $1 }')
		how="perf task-clock"
	else
		k0=$(ticks)
		sleep "$SECONDS_EACH"
		k1=$(ticks)
		cpu_ms=$(((k1 - k0) * 1000 / $(getconf CLK_TCK)))
		how="/proc ticks of $((1000 / $(getconf CLK_TCK))) ms"
	fi
	curl -sS "$URL/metrics" >"$OUT/m"
	stats=$(simctl GET /_sim/stats)
	echo "$stats" >"$OUT/stats.$_name.json"
	pb1=$(metric vsphere_perf_received_bytes_total)
	ab1=$(metric vsphere_api_received_bytes_total)
	iv=$(awk -v s="$SECONDS_EACH" 'BEGIN { print s / 20 }')
	say "== $_name (collect = [$2]), $SECONDS_EACH s = $iv intervals of 20 s"
	say "  SOAP calls per 20 s: $(echo "$stats" | python3 -c "
import json, sys
c = json.load(sys.stdin)['calls']
print(', '.join('%s %.2f' % (k, v / $iv) for k, v in sorted(c.items())))")"
	say "  bytes received per 20 s (on the wire, gzip): counters' session $(awk -v a="$pb0" -v b="$pb1" -v i="$iv" 'BEGIN { printf "%d", (b - a) / i }')," \
		"collection session $(awk -v a="$ab0" -v b="$ab1" -v i="$iv" 'BEGIN { printf "%d", (b - a) / i }')"
	say "  agent CPU per 20 s: $(awk -v c="$cpu_ms" -v i="$iv" 'BEGIN { printf "%.1f", c / i }') ms" \
		"($cpu_ms ms in $SECONDS_EACH s, $how); last round $(metric vsphere_perf_duration_seconds) s"
	say "  peak RSS (VmHWM) $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$AGENT_PID/status") MB;" \
		"/metrics $(wc -c <"$OUT/m") bytes, $(grep -vc '^#' "$OUT/m") series"
	vm=$(grep -m1 '^vsphere_vm_info{' "$OUT/m" | sed 's/.*vm_id="\([^"]*\)".*/\1/')
	host=$(grep -m1 '^vsphere_host_info{' "$OUT/m" | sed 's/.*host_id="\([^"]*\)".*/\1/')
	ds=$(grep -m1 '^vsphere_datastore_info{' "$OUT/m" | sed 's/.*datastore_id="\([^"]*\)".*/\1/')
	say "  series per object: VM $(grep -c "vm_id=\"$vm\"[,}]" "$OUT/m"), host $(grep -c "^vsphere_host_.*host_id=\"$host\"[,}]" "$OUT/m")," \
		"datastore $(grep -c "datastore_id=\"$ds\"[,}]" "$OUT/m")"
	cp "$OUT/m" "$OUT/metrics.$_name.txt"
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	AGENT_PID=
}

run none '"vm", "host", "datastore", "question", "task"'
run hosts '"vm", "host", "datastore", "question", "task", "perf"'
run vms '"vm", "host", "datastore", "question", "task", "perf", "perf_vm"'
sim_stop
echo "figures kept in $OUT/summary.txt"

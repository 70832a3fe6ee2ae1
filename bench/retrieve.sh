#!/bin/sh
# Benchmark: a 10,000-VM inventory retrieval through vi_pc_retrieve against vimon-sim:
# the agent's CPU vs the simulator's CPU for the same retrieval, and the agent's peak RSS
# for 10,000 VMs vs 10 VMs. Also records one RetrievePropertiesEx reply for bench_parse.
# Targets: agent CPU < simulator CPU; RSS difference < 16 MB. Not a test: prints figures.
# Env: BENCH_OUT (default build/bench/out), BENCH_PAGE (objects per page, default 1000).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
. "$TOP/bench/lib.sh"

OUT=${BENCH_OUT:-$TOP/build/bench/out}
PAGE=${BENCH_PAGE:-1000}
BENCH=$TOP/build/bench/bench_retrieve
mkdir -p "$OUT"
make -s build/vimon-sim build/bench/bench_retrieve || exit 1

PATHS="name runtime.powerState runtime.connectionState runtime.host runtime.bootTime
runtime.question guestHeartbeatStatus config.uuid config.guestId config.hardware.numCPU
config.hardware.memoryMB summary.quickStats"

# record FILE: one RetrievePropertiesEx reply (no paging) for the same properties, via curl.
record() {
	soap_login >/dev/null || return 1
	_sc=$(soap RetrieveServiceContent '<_this type="ServiceInstance">ServiceInstance</_this>')
	_root=$(printf '%s' "$_sc" | sed -n 's/.*<rootFolder type="Folder">\([^<]*\)<.*/\1/p')
	_view=$(soap CreateContainerView "<_this type=\"ViewManager\">ViewManager</_this><container type=\"Folder\">$_root</container><type>VirtualMachine</type><recursive>true</recursive>" |
		sed -n 's/.*<returnval type="ContainerView">\([^<]*\)<.*/\1/p')
	_ps=
	for _p in $PATHS; do _ps="$_ps<pathSet>$_p</pathSet>"; done
	soap RetrievePropertiesEx "<_this type=\"PropertyCollector\">propertyCollector</_this><specSet><propSet><type>VirtualMachine</type><all>false</all>$_ps</propSet><objectSet><obj type=\"ContainerView\">$_view</obj><skip>true</skip><selectSet xsi:type=\"TraversalSpec\"><name>traverseView</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet></specSet><options></options>" >"$1"
}

# run NAME SIM_FLAGS...: starts a simulator, runs bench_retrieve, keeps its key/value output.
run() {
	_n=$1
	shift
	_t0=$(date +%s)
	sim_start -odd-names=false -standalone 0 "$@" || exit 1
	echo "# $_n: simulator ready after $(($(date +%s) - _t0)) s ($*)"
	if [ "$_n" = big ]; then
		record "$OUT/retrieve_10000.xml"
		echo "# recorded $(wc -c <"$OUT/retrieve_10000.xml") bytes to $OUT/retrieve_10000.xml"
	fi
	"$BENCH" "$SIM_URL" "$SIM_BASE" "$PAGE" >"$OUT/$_n.txt" || exit 1
	sim_stop
	sed "s/^/$_n /" "$OUT/$_n.txt"
}

get() { sed -n "s/^$2 //p" "$OUT/$1.txt"; }

run big -dc 1 -cluster 10 -host 50 -vm 20 -ds 100
run small -dc 1 -cluster 1 -host 1 -vm 10 -ds 1

# the recorded reply through bench_parse (the reader alone), when it is there
if [ -f bench/bench_parse.c ] && make -s build/bench/bench_parse 2>/dev/null; then
	echo
	"$TOP/build/bench/bench_parse" "$OUT/retrieve_10000.xml" 3 | sed 's/^/bench_parse: /'
fi

agent=$(get big agent_cpu_seconds)
sim=$(get big sim_cpu_seconds)
big_rss=$(get big peak_rss_kb)
small_rss=$(get small peak_rss_kb)
diff_kb=$((big_rss - small_rss))
echo
echo "10,000 VMs, $(get big pages) pages of $PAGE, $(get big bytes) bytes in $(get big wall_seconds) s"
echo "CPU: vi/ $agent s, simulator $sim s for the same retrieval" \
	"($(awk "BEGIN{ if ($agent < $sim) print \"target met\"; else print \"TARGET MISSED\" }"))"
echo "peak RSS: $big_rss kB for 10,000 VMs, $small_rss kB for 10 VMs, difference $diff_kb kB" \
	"($(awk "BEGIN{ if ($diff_kb < 16384) print \"target met\"; else print \"TARGET MISSED\" }"))"

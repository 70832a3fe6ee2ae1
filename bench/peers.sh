#!/bin/sh
# The peer comparison: vmware_exporter and vimon against one simulator, same inventory.
# Prints scrape latency, CPU per scrape and per hour, RSS over the scrapes, vCenter calls
# and bytes per hour at a 60 s scrape interval, and freshness of one change.
# Not a test: prints figures (and keeps them in $BENCH_OUT/summary.txt). See bench/README.md.
#
#   sh bench/peers.sh PATH-TO-VMWARE_EXPORTER-CHECKOUT
#
# vmware_exporter's source is not in Debian and not in this repository: give the path of a
# checkout of it (the directory holding the vmware_exporter/ package). Its dependencies are
# Debian packages (the script names the missing ones). It is run with Debian's python3
# through bench/peers_run.py, which points it at the simulator's port.
# Env: BENCH_OUT (default build/bench/peers), BENCH_SIM_FLAGS (default 5,000 VMs),
# BENCH_SCRAPES (5 for vmware_exporter), BENCH_VIMON_SCRAPES (200: vimon's are too quick for
# CPU ticks otherwise), BENCH_QUIET_SECONDS (120: vimon's calls while nobody changes
# anything, scaled to an hour).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
EXPORTER=${1:-${VMWARE_EXPORTER:-}}
if [ -z "$EXPORTER" ] || [ ! -f "$EXPORTER/vmware_exporter/vmware_exporter.py" ]; then
	echo "usage: sh bench/peers.sh PATH-TO-VMWARE_EXPORTER-CHECKOUT" >&2
	echo "  vmware_exporter is not part of vimon or of Debian: check out its source" >&2
	echo "  (the directory with vmware_exporter/vmware_exporter.py) and give its path." >&2
	exit 2
fi
PY=/usr/bin/python3
if ! $PY -c 'import pyVmomi, prometheus_client, twisted, yaml, pytz, requests' 2>/dev/null; then
	echo "bench: vmware_exporter needs Debian's Python packages; as root run:" >&2
	echo "  apt-get install python3-pyvmomi python3-prometheus-client python3-twisted python3-yaml python3-tz python3-requests python3-service-identity" >&2
	exit 2
fi
cd "$TOP" || exit 1
. "$TOP/bench/lib.sh"

OUT=${BENCH_OUT:-$TOP/build/bench/peers}
SIM_FLAGS=${BENCH_SIM_FLAGS:--dc 1 -cluster 5 -host 50 -standalone 0 -vm 20 -ds 100 -odd-names=false}
SCRAPES=${BENCH_SCRAPES:-5}
VIMON_SCRAPES=${BENCH_VIMON_SCRAPES:-200}
QUIET=${BENCH_QUIET_SECONDS:-120}
mkdir -p "$OUT"
make -s build/vimon build/vimon-sim || exit 1

PIDS=
cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	_lib_cleanup
}
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }
say() { echo "$*" | tee -a "$OUT/summary.txt"; }
: >"$OUT/summary.txt"
HZ=$(getconf CLK_TCK)
# cpu_ms PID: user + system CPU of PID and its threads, in ms
cpu_ms() { awk -v hz="$HZ" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
hwm_mb() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
# stats: "CALLS BYTES" the simulator counted since its last reset (all methods, bytes out + in)
stats() {
	simctl GET /_sim/stats | $PY -c 'import json,sys; d=json.load(sys.stdin); print(sum(d["calls"].values()), d["bytes_out"] + d["bytes_in"])'
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "n/a" }'; }

t0=$(now_ms)
sim_start -tls $SIM_FLAGS || exit 1
PORT=$(printf '%s' "$SIM_URL" | sed 's#.*:\([0-9]*\)/sdk#\1#')
say "simulator: -tls $SIM_FLAGS, ready after $((($(now_ms) - t0) / 1000)) s"
VM=$(simctl GET /_sim/inventory | sed 's/},{/}\n{/g' | grep '"power":"poweredOn"' | head -n 1 | sed 's/.*"moref":"\(vm-[0-9]*\)".*/\1/')
VMNAME=$(simctl GET /_sim/inventory | sed 's/},{/}\n{/g' | grep "\"moref\":\"$VM\"" | sed 's/.*"name":"\([^"]*\)".*/\1/')

# scrape_loop NAME URL PID COUNT: COUNT scrapes in a row; prints the per-scrape figures
scrape_loop() {
	_n=$1 _u=$2 _p=$3 SCRAPES=$4
	simctl POST /_sim/stats/reset '{}' >/dev/null
	_c0=$(cpu_ms "$_p")
	: >"$OUT/$_n.times"
	_i=1
	while [ $_i -le "$SCRAPES" ]; do
		_t=$(curl -sS -H 'Accept-Encoding: gzip' -o "$OUT/$_n.metrics.gz" -w '%{time_total}' --max-time 600 "$_u")
		awk -v t="$_t" 'BEGIN { printf "%.1f\n", t * 1000 }' >>"$OUT/$_n.times"
		[ "$SCRAPES" -gt 10 ] || echo "  $_n scrape $_i: $(tail -n 1 "$OUT/$_n.times") ms, RSS $(rss_mb "$_p") MB"
		_i=$((_i + 1))
	done
	_c1=$(cpu_ms "$_p")
	set -- $(stats)
	_calls=$1 _bytes=$2
	_med=$(median <"$OUT/$_n.times")
	_cpu=$(awk -v c=$((_c1 - _c0)) -v n="$SCRAPES" 'BEGIN { printf "%.1f", c / n }')
	say "$_n: scrape median $_med ms over $SCRAPES; CPU per scrape $_cpu ms;" \
		"RSS $(rss_mb "$_p") MB (peak $(hwm_mb "$_p") MB);" \
		"vCenter per scrape: $((_calls / SCRAPES)) calls, $((_bytes / SCRAPES)) bytes"
	_hwm=$(hwm_mb "$_p")
	eval "${_n}_med=\$_med ${_n}_cpu=\$_cpu ${_n}_calls=\$_calls ${_n}_bytes=\$_bytes ${_n}_hwm=\$_hwm"
}

# freshness STATE URL PATTERN: ms from a power change of VM (to STATE) until a /metrics line
# matches PATTERN
freshness() {
	_t0=$(now_ms)
	simctl POST /_sim/vm/power "{\"vm\":\"$VM\",\"state\":\"$1\"}" >/dev/null
	while ! curl -sS --max-time 600 "$2" 2>/dev/null | grep -q "$3"; do
		[ $(($(now_ms) - _t0)) -lt 300000 ] || break
		sleep 0.2
	done
	echo $(($(now_ms) - _t0))
}

# 1. vmware_exporter: every scrape reads vCenter
EPORT=$(free_port)
VSPHERE_HOST=127.0.0.1 VSPHERE_USER=bench VSPHERE_PASSWORD=bench-password VSPHERE_IGNORE_SSL=True \
	PEERS_VSPHERE_PORT=$PORT $PY "$TOP/bench/peers_run.py" "$EXPORTER" -a 127.0.0.1 -p "$EPORT" \
	>"$OUT/vmware_exporter.log" 2>&1 &
EPID=$!
PIDS="$PIDS $EPID"
echo "$EPID" >>"$VIMON_TEST_PIDS"
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$EPORT/" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
EURL=http://127.0.0.1:$EPORT/metrics
curl -sS --max-time 600 -o /dev/null "$EURL" # the first scrape logs in and warms up
scrape_loop vmware_exporter "$EURL" "$EPID" "$SCRAPES"
ef=$(freshness poweredOff "$EURL" "^vmware_vm_power_state{.*vm_name=\"$VMNAME\".*} 0")
say "vmware_exporter: freshness of one change $ef ms"
kill -TERM "$EPID"
wait "$EPID" 2>/dev/null

# 2. vimon: incremental collection, scrapes served from memory
printf 'bench-password\n' >"$OUT/password"
chmod 600 "$OUT/password"
cat >"$OUT/vimon.conf" <<EOF
listen = "127.0.0.1:0";
targets = ( { name = "bench"; url = "$SIM_URL"; username = "bench";
    password_file = "$OUT/password"; ca_file = "$SIM_CERT"; } );
EOF
simctl POST /_sim/stats/reset '{}' >/dev/null
bench_agent_start "$TOP/build/vimon" "$OUT/vimon.conf" "$OUT/vimon.log"
APID=$AGENT_PID
PIDS="$PIDS $APID"
set -- $(stats)
say "vimon: first sync $1 calls, $2 bytes (once per (re)connection)"
scrape_loop vimon "$URL/metrics" "$APID" "$VIMON_SCRAPES"
# vCenter traffic does not depend on scrapes: what a quiet hour costs
simctl POST /_sim/stats/reset '{}' >/dev/null
c0=$(cpu_ms "$APID")
sleep "$QUIET"
c1=$(cpu_ms "$APID")
set -- $(stats)
vq_calls=$(($1 * 3600 / QUIET))
vq_bytes=$(($2 * 3600 / QUIET))
vq_cpu=$(((c1 - c0) * 3600 / QUIET))
vf=$(freshness poweredOn "$URL/metrics" "^vsphere_vm_power_state{.*vm_id=\"$VM\".*state=\"poweredOn\"} 1")
say "vimon: quiet for $QUIET s: $1 calls, $2 bytes; freshness of one change $vf ms"

# The table, per hour at a 60 s scrape interval (60 scrapes an hour)
say ""
say "| $(simctl GET /_sim/inventory | grep -o '"moref":"vm-' | wc -l) VMs | vmware_exporter | vimon |"
say "|---|---|---|"
say "| scrape (median, gzip) | $vmware_exporter_med ms | $vimon_med ms |"
say "| CPU per scrape | $vmware_exporter_cpu ms | $vimon_cpu ms |"
say "| CPU per hour at a 60 s scrape | $(awk -v c="$vmware_exporter_cpu" 'BEGIN { printf "%.1f", c * 60 / 1000 }') s | $(awk -v c="$vimon_cpu" -v q="$vq_cpu" 'BEGIN { printf "%.1f", (c * 60 + q) / 1000 }') s |"
say "| vCenter calls per hour | $((vmware_exporter_calls * 60 / ${BENCH_SCRAPES:-5})) | $vq_calls |"
say "| vCenter bytes per hour | $((vmware_exporter_bytes * 60 / ${BENCH_SCRAPES:-5} / 1000000)) MB | $((vq_bytes / 1000)) KB |"
say "| freshness of one change | $ef ms (the next scrape) | $vf ms |"
say "| peak RSS | $vmware_exporter_hwm MB | $(hwm_mb "$APID") MB |"
kill -TERM "$APID"
wait "$APID" 2>/dev/null
sim_stop
echo "figures kept in $OUT/summary.txt"

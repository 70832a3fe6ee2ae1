#!/bin/sh
# Benchmark of check_vsphere: latency of cached checks at 10,000 VMs, vCenter calls they cause,
# and one --direct check at 1,000 VMs.
#
# Targets: cached checks (whole process, as Nagios runs it) p50 < 10 ms and p99 < 50 ms in
# the questions, vm and datastore (all) modes while /metrics is scraped every second; zero
# vCenter calls caused by them. Not a test: prints figures (kept in $BENCH_OUT/summary.txt),
# asserts nothing. See bench/README.md.
# Env: BENCH_OUT (default build/bench/check), BENCH_SIM_FLAGS (default the 10,000-VM
# inventory), BENCH_CHECKS (1000 per mode), BENCH_DIRECT_SIM_FLAGS (1,000 VMs).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
. "$TOP/bench/lib.sh"

OUT=${BENCH_OUT:-$TOP/build/bench/check}
SIM_FLAGS=${BENCH_SIM_FLAGS:--dc 1 -cluster 10 -host 50 -standalone 0 -vm 20 -ds 100 -odd-names=false}
DIRECT_FLAGS=${BENCH_DIRECT_SIM_FLAGS:--dc 1 -cluster 5 -host 10 -standalone 0 -vm 20 -ds 10 -odd-names=false}
N=${BENCH_CHECKS:-1000}
VIMON=$TOP/build/vimon
CHECK=$TOP/build/check_vsphere
mkdir -p "$OUT"
make -s build/vimon build/vimon-sim build/check_vsphere || exit 1

AGENT_PID=
SCRAPER_PID=
cleanup() {
	[ -n "$SCRAPER_PID" ] && kill -TERM "$SCRAPER_PID" 2>/dev/null
	[ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null
	_lib_cleanup
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
say() { echo "$*" | tee -a "$OUT/summary.txt"; }
: >"$OUT/summary.txt"
calls() { simctl GET /_sim/stats; }

t0=$(now_ms)
sim_start $SIM_FLAGS || exit 1
NVMS=$(simctl GET /_sim/inventory | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vms"]))')
say "simulator: $SIM_FLAGS: $NVMS VMs, ready after $((($(now_ms) - t0) / 1000)) s"
printf 'secret\n' >"$OUT/pw"
chmod 600 "$OUT/pw"
cat >"$OUT/vimon.conf" <<EOF
listen = "127.0.0.1:0";
targets = ( { name = "big"; url = "$SIM_URL"; username = "bench"; password_file = "$OUT/pw"; } );
EOF
rm -f "$OUT/agent.log"
"$VIMON" -c "$OUT/vimon.conf" 2>"$OUT/agent.log" &
AGENT_PID=$!
i=0
while ! grep -q 'listening on http://' "$OUT/agent.log" && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
URL=http://$(sed -n 's#.*listening on http://\([^ ]*\).*#\1#p' "$OUT/agent.log" | tail -n 1)
# synchronized: every VM in the JSON API
t0=$(now_ms)
while [ "$(curl -s "$URL/api/v1/targets" | python3 -c 'import json,sys; t=json.load(sys.stdin)[0]; print(t["objects"].get("VirtualMachine", 0) if t["up"] else 0)' 2>/dev/null)" != "$NVMS" ]; do
	sleep 0.5
	[ $(($(now_ms) - t0)) -gt 600000 ] && break
	kill -0 "$AGENT_PID" 2>/dev/null || { say "the agent exited: $(tail -n 3 "$OUT/agent.log")"; exit 1; }
done
say "agent: synchronized after $((($(now_ms) - t0) / 1000)) s"
# a VM in the middle of the inventory (its name as the API shows it, decoded)
VM=$(curl -s "$URL/api/v1/vms?target=big" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j[len(j) // 2]["name"])')
say "bytes: /metrics $(curl -s "$URL/metrics" | wc -c), /api/v1/vms (all) $(curl -s "$URL/api/v1/vms" | wc -c), one VM by name $(curl -s -G --data-urlencode target=big --data-urlencode "name=$VM" "$URL/api/v1/vms" | wc -c)"

# a Prometheus stand-in: /metrics every second during the checks
(while :; do curl -s -o /dev/null -H 'Accept-Encoding: gzip' "$URL/metrics"; sleep 1; done) &
SCRAPER_PID=$!

simctl POST /_sim/stats/reset '{}' >/dev/null
# run MODE ARGS...: N consecutive checks, each a whole process (fork, exec, two requests)
run() {
	_label=$1
	shift
	python3 - "$N" "$CHECK" -U "$URL" -T big "$@" <<'EOF' | tee -a "$OUT/summary.txt"
import subprocess, sys, time
n = int(sys.argv[1]); cmd = sys.argv[2:]
lat = []; states = {}
for _ in range(n):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    lat.append((time.perf_counter() - t) * 1000)
    states[r.returncode] = states.get(r.returncode, 0) + 1
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(round(p / 100.0 * len(lat))) - 1)]
print("%-28s n=%d p50=%.2f ms p99=%.2f ms max=%.2f ms exit codes %s" % (
    " ".join(cmd[5:]), n, pct(50), pct(99), lat[-1], states))
EOF
}
run questions questions
run vm vm --name "$VM"
run datastore datastore
STATS=$(calls)
say "vCenter calls during $((3 * N)) checks: $(printf '%s' "$STATS" | python3 -c '
import json,sys; c=json.load(sys.stdin)["calls"]
own = c.get("WaitForUpdatesEx", 0)
print("%d caused by the checks (%s); the agent own WaitForUpdatesEx: %d" % (
    sum(v for k, v in c.items() if k != "WaitForUpdatesEx"),
    ", ".join("%s %d" % kv for kv in sorted(c.items()) if kv[0] != "WaitForUpdatesEx") or "none", own))')"
kill -TERM "$SCRAPER_PID" 2>/dev/null
SCRAPER_PID=
kill -TERM "$AGENT_PID" 2>/dev/null
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
sim_stop >/dev/null

# ---- one --direct check at 1,000 VMs -----------------------------------------------------
sim_start $DIRECT_FLAGS || exit 1
NVMS=$(simctl GET /_sim/inventory | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vms"]))')
DVM=$(simctl GET /_sim/inventory | python3 -c 'import json,sys; v=json.load(sys.stdin)["vms"]; print(v[len(v) // 2]["name"])')
cat >"$OUT/direct.conf" <<EOF
targets = ( { name = "d"; url = "$SIM_URL"; username = "bench"; password_file = "$OUT/pw"; } );
EOF
simctl POST /_sim/stats/reset '{}' >/dev/null
t0=$(date +%s%N)
res=$("$CHECK" vm --direct -c "$OUT/direct.conf" -T d --name "$DVM" -v)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
say "--direct vm at $NVMS VMs: $ms ms, exit $rc; $(printf '%s\n' "$res" | grep -- '--direct:')"
say "--direct vCenter calls: $(calls | python3 -c 'import json,sys; print(", ".join("%s %d" % kv for kv in sorted(json.load(sys.stdin)["calls"].items())))')"
sim_stop >/dev/null

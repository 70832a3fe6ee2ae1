#!/bin/sh
# Integration: PerformanceManager counters of hosts and VMs: values in base units, a
# counter the server lacks, a VM that powers off, a host that disconnects, a
# NotAuthenticated during a round, and property changes that still come at once.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent_lib.sh"

sim_start -cluster 1 -host 2 -vm 1 -odd-names=false
# values below 5 come back exactly (the simulator adds noise to larger ones)
simctl POST /_sim/perf '{"type":"HostSystem","values":{"mem.state.latest":[2],
	"mem.swapinRate.average":[3],"mem.vmmemctl.average":[4],"mem.latency.average":[4],
	"cpu.ready.summation":[4]},"hide":["mem.compressionRate.average"]}' >/dev/null
r=$(simctl POST /_sim/perf '{"type":"VirtualMachine","values":{"mem.swaptarget.average":[2],
	"mem.zipped.latest":[1],"cpu.ready.summation":[3]}}')
is "$(printf '%s' "$r" | py 'j["hidden"]')" 0 "control: values set"
if simctl POST /_sim/perf '{"type":"HostSystem","values":{"no.such.counter":[1]}}' >"$W/ctl"; then
	not_ok "control: an unknown counter is refused"
else
	like "$(cat "$W/ctl")" 'no counter' "control: an unknown counter is refused"
fi

cat >"$W/vimon.conf" <<EOF2
listen = "127.0.0.1:0";
targets = (
  { name = "s"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw";
    collect = ["vm", "host", "perf", "perf_vm"]; }
);
EOF2
agent_start "$W/vimon.conf"
wait_value 1 10 vsphere_up
inv=$(simctl GET /_sim/inventory)
host=$(printf '%s' "$inv" | py 'j["hosts"][1]["moref"]')
vm=$(printf '%s' "$inv" | py '[v["moref"] for v in j["vms"] if v["host"] == "'"$host"'"][0]')

wait_value 1 10 vsphere_host_memory_state "host_id=\"$host\"" 'state="soft"'
is "$GOT" 1 "mem.state 2 is the state soft"
is "$(grep -c "^vsphere_host_memory_state{.*host_id=\"$host\"" "$W/m")" 5 "one series per memory state"
is "$(value "$W/m" vsphere_host_memory_state "host_id=\"$host\"" 'state="high"')" 0 "high is 0"
is "$(value "$W/m" vsphere_host_memory_swap_in_bytes_per_second "host_id=\"$host\"")" 3072 \
	"mem.swapinRate 3 KBps -> 3072 bytes/s"
is "$(value "$W/m" vsphere_host_memory_balloon_bytes "host_id=\"$host\"")" 4096 "mem.vmmemctl 4 KB -> 4096 bytes"
is "$(value "$W/m" vsphere_host_memory_latency_ratio "host_id=\"$host\"")" 0.0004 \
	"mem.latency 4 (hundredths of a percent) -> ratio 0.0004"
is "$(value "$W/m" vsphere_host_cpu_ready_ratio "host_id=\"$host\"")" 0.0002 \
	"cpu.ready 4 ms per 20 s sample -> ratio 0.0002"
is "$(value "$W/m" vsphere_vm_memory_swap_target_bytes "vm_id=\"$vm\"")" 2048 "VM mem.swaptarget 2 KB"
is "$(value "$W/m" vsphere_vm_memory_zipped_bytes "vm_id=\"$vm\"")" 1024 "VM mem.zipped 1 KB"
is "$(value "$W/m" vsphere_vm_cpu_ready_ratio "vm_id=\"$vm\"")" 0.00015 "VM cpu.ready 3 ms -> 0.00015"
unlike "$(cat "$W/m")" 'vsphere_host_memory_compression_bytes_per_second' \
	"a counter the server lacks has no family"
is "$(value "$W/m" vsphere_perf_counters_missing 'target="s"')" 1 "and is counted as missing"
is "$(grep -c 'no performance counter mem.compressionRate.average' "$AGENT_LOG")" 1 "and logged once"
if command -v promtool >/dev/null 2>&1; then
	check "promtool accepts the page" sh -c "promtool check metrics <'$W/m' >'$W/promtool' 2>&1"
fi

is "$(curl -sS "$AGENT_URL/api/v1/targets" | py 'j[0]["collect"]')" "['vm', 'host', 'cluster_health', 'perf', 'perf_vm']" \
	"the API lists the counters among what is collected"

# a property change still reaches /metrics at once (the counters have their own session)
simctl POST /_sim/vm/quickstats "{\"vm\":\"$vm\",\"balloonedMemory\":7}" >/dev/null
if wait_value 7340032 3 vsphere_vm_memory_ballooned_bytes "vm_id=\"$vm\""; then
	ok "a quickStats change reaches /metrics in ${WAITED_MS} ms while counters are collected"
else
	not_ok "a quickStats change reaches /metrics within 3 s (got '$GOT')"
fi

# a VM that powers off, a host that disconnects: their counters go at once
simctl POST /_sim/vm/power "{\"vm\":\"$vm\",\"state\":\"poweredOff\"}" >/dev/null
wait_count 0 "^vsphere_vm_cpu_ready_ratio{.*vm_id=\"$vm\""
i=0
while grep -q "^vsphere_vm_cpu_ready_ratio{.*vm_id=\"$vm\"" "$W/m" && [ $i -lt 50 ]; do
	sleep 0.1
	metrics >"$W/m"
	i=$((i + 1))
done
is "$(grep -c "vm_id=\"$vm\"" "$W/m" | tr -d ' ')$(grep -c "^vsphere_vm_.*ratio{.*vm_id=\"$vm\"" "$W/m")" \
	"$(grep -c "vm_id=\"$vm\"" "$W/m" | tr -d ' ')0" "a powered-off VM has no counter series (its other series stay)"
simctl POST /_sim/host "{\"host\":\"$host\",\"connectionState\":\"disconnected\"}" >/dev/null
i=0
metrics >"$W/m"
while grep -q "^vsphere_host_memory_state{.*host_id=\"$host\"" "$W/m" && [ $i -lt 50 ]; do
	sleep 0.1
	metrics >"$W/m"
	i=$((i + 1))
done
is "$(grep -c -e "^vsphere_host_memory_state{.*host_id=\"$host\"" -e "^vsphere_host_.*_ratio{.*host_id=\"$host\"" "$W/m")" 0 \
	"a disconnected host has no counter series"
check "the other hosts keep theirs" grep -q '^vsphere_host_memory_state{.*state="soft"} 1' "$W/m"

# a round that fails: its counters go (stale values are not shown), the next one brings them back
simctl POST /_sim/fault '{"kind":"soap-fault","fault":"SystemError","method":"QueryPerf","count":1}' >/dev/null
wait_value 1 30 vsphere_perf_failures_total 'target="s"'
is "$GOT" 1 "a failed round is counted"
is "$(grep -c '^vsphere_host_memory_state{' "$W/m")" 0 "and its counters are gone"
like "$(cat "$AGENT_LOG")" 'performance counters: fault: QueryPerf: .*SystemError' "and logged"
i=0
while ! grep -q '^vsphere_host_memory_state{.*state="soft"} 1' "$W/m" && [ $i -lt 300 ]; do
	sleep 0.1
	metrics >"$W/m"
	i=$((i + 1))
done
check "the next round brings them back" grep -q '^vsphere_host_memory_state{.*state="soft"} 1' "$W/m"

# NotAuthenticated in a round: one re-login on the counters' session, the round goes on
logins0=$(simctl GET /_sim/stats | py 'j["calls"].get("Login", 0)')
req0=$(value "$W/m" vsphere_perf_requests_total 'target="s"')
simctl POST /_sim/fault '{"kind":"soap-fault","fault":"NotAuthenticated","method":"QueryPerf","count":1}' >/dev/null
wait_value "$((req0 + 3))" 30 vsphere_perf_requests_total 'target="s"'
is "$GOT" "$((req0 + 3))" "the next round: the refused QueryPerf, its resend, the other batch"
is "$(simctl GET /_sim/stats | py 'j["calls"].get("Login", 0)')" "$((logins0 + 1))" "one new login"
is "$(value "$W/m" vsphere_perf_failures_total 'target="s"')" 1 "no failed round (but the earlier one)"
check "values still come" grep -q '^vsphere_host_memory_state{.*state="soft"} 1' "$W/m"
sleep 1
is "$(grep -c 'no performance counter mem.compressionRate.average' "$AGENT_LOG")" 1 \
	"the missing counter is not logged again after the new session looked the counters up"

agent_stop
is "$AGENT_EXIT" 0 "the agent stops cleanly"
sim_stop
done_testing

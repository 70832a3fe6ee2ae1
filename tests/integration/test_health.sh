#!/bin/sh
# Integration: snapshots, VMware Tools status, overallStatus and triggered alarms reach
# /metrics; finished tasks leave after task_retention.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent_lib.sh"

sim_start -cluster 1 -host 1 -vm 2 -odd-names=false
cat >"$W/vimon.conf" <<EOF2
listen = "127.0.0.1:0";
task_retention = 6;
targets = (
  { name = "s"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw"; }
);
EOF2
agent_start "$W/vimon.conf"
wait_value 1 10 vsphere_up
inv=$(simctl GET /_sim/inventory)
vm=$(printf '%s' "$inv" | py 'j["vms"][0]["moref"]')
host=$(printf '%s' "$inv" | py 'j["hosts"][0]["moref"]')

wait_value 0 10 vsphere_vm_snapshots "vm_id=\"$vm\""
is "$GOT" 0 "a VM without snapshots has vsphere_vm_snapshots 0"
is "$(grep -c "^vsphere_vm_snapshot_oldest_timestamp_seconds{" "$W/m")" 0 \
	"and no oldest-snapshot time"
wait_value 1 10 vsphere_vm_overall_status "vm_id=\"$vm\"" 'status="green"'
is "$GOT" 1 "the simulator's VMs are green"
wait_value 1 10 vsphere_cluster_overall_status 'cluster="DC0_C0"' 'status="green"'
is "$GOT" 1 "clusters have an overall status"

# two snapshots, the second a child of the first (the simulator changes the tree in place)
soap_login >/dev/null
t0=$(date +%s)
for name in first second; do
	r=$(soap CreateSnapshot_Task "<_this type=\"VirtualMachine\">$vm</_this><name>$name</name><memory>false</memory><quiesce>false</quiesce>")
	like "$r" 'CreateSnapshot_TaskResponse' "CreateSnapshot_Task $name"
	sleep 1.1
done
wait_value 2 10 vsphere_vm_snapshots "vm_id=\"$vm\""
is "$GOT" 2 "a child snapshot counts (walks childSnapshotList)"
oldest=$(value "$W/m" vsphere_vm_snapshot_oldest_timestamp_seconds "vm_id=\"$vm\"")
o=${oldest%.*}
check "the oldest snapshot time is the first one's ($oldest, created at $t0)" \
	test "${o:-0}" -ge $((t0 - 1)) -a "${o:-0}" -le $((t0 + 1))
wait_count 2 '^vsphere_task_info{.*task="CreateSnapshot.*state="success"'
is "$(grep -c '^vsphere_task_info{.*task="CreateSnapshot.*state="success"' "$W/m")" 2 \
	"the finished snapshot tasks are listed"
other=$(printf '%s' "$inv" | py 'j["vms"][1]["moref"]')
is "$(value "$W/m" vsphere_vm_snapshots "vm_id=\"$other\"")" 0 "the other VM still has none"

# health, alarms and Tools, as vCenter would change them
simctl POST /_sim/health "{\"kind\":\"vm\",\"entity\":\"$vm\",\"overallStatus\":\"red\",\"alarms\":3,\"toolsRunningStatus\":\"guestToolsRunning\",\"toolsVersionStatus2\":\"guestToolsNeedUpgrade\"}" >/dev/null
wait_value 3 10 vsphere_vm_alarms_triggered "vm_id=\"$vm\""
is "$GOT" 3 "triggered alarms are counted"
is "$(value "$W/m" vsphere_vm_overall_status "vm_id=\"$vm\"" 'status="red"')" 1 "VM status red"
is "$(value "$W/m" vsphere_vm_overall_status "vm_id=\"$vm\"" 'status="green"')" 0 "not green"
is "$(value "$W/m" vsphere_vm_tools_running_status "vm_id=\"$vm\"" 'status="guestToolsRunning"')" 1 \
	"Tools running"
is "$(value "$W/m" vsphere_vm_tools_version_status "vm_id=\"$vm\"" 'status="guestToolsNeedUpgrade"')" 1 \
	"Tools need an upgrade"
simctl POST /_sim/health "{\"kind\":\"host\",\"entity\":\"$host\",\"overallStatus\":\"yellow\",\"alarms\":1}" >/dev/null
simctl POST /_sim/health '{"kind":"datastore","entity":"LocalDS_0","alarms":2}' >/dev/null
simctl POST /_sim/health '{"kind":"cluster","entity":"DC0_C0","overallStatus":"red"}' >/dev/null
wait_value 1 10 vsphere_cluster_overall_status 'cluster="DC0_C0"' 'status="red"'
is "$GOT" 1 "cluster status red"
is "$(value "$W/m" vsphere_host_overall_status "host_id=\"$host\"" 'status="yellow"')" 1 "host status yellow"
is "$(value "$W/m" vsphere_host_alarms_triggered "host_id=\"$host\"")" 1 "host alarm"
is "$(value "$W/m" vsphere_datastore_alarms_triggered 'datastore="LocalDS_0"')" 2 "datastore alarms"
sleep 6
simctl POST /_sim/health "{\"kind\":\"vm\",\"entity\":\"$vm\",\"alarms\":0}" >/dev/null
wait_value 0 10 vsphere_vm_alarms_triggered "vm_id=\"$vm\""
is "$GOT" 0 "cleared alarms count 0"
is "$(grep -c '^vsphere_task_info{.*task="CreateSnapshot"' "$W/m")" 0 \
	"finished tasks have left after task_retention (6 s)"
unlike "$(simctl POST /_sim/health '{"kind":"host","entity":"nope","alarms":1}' || echo refused)" \
	'"entity"' "an unknown entity is refused"

if command -v promtool >/dev/null 2>&1; then
	metrics >"$W/all"
	check "promtool accepts the page" sh -c "promtool check metrics <'$W/all' >'$W/promtool' 2>&1"
fi

agent_stop
sim_stop
done_testing

#!/bin/sh
# Integration: scope: a container view rooted at a cluster (the server sends nothing else)
# and VM name include/exclude regexes (excluded VMs cost no series).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent_lib.sh"

sim_start -cluster 2 -host 2 -vm 2 -odd-names=false
cat >"$W/vimon.conf" <<EOF2
listen = "127.0.0.1:0";
targets = (
  { name = "c1"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw";
    root = "/DC0/host/DC0_C1"; vm_exclude = "_VM1\$"; },
  { name = "inc"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw";
    collect = ["vm"]; vm_include = "^DC0_H0_"; },
  { name = "bad"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw";
    root = "/DC0/host/nowhere"; }
);
EOF2
"$VIMON" --check-config -c "$W/vimon.conf" >"$W/check" 2>&1
is "$?" 0 "the scope keys are valid"
printf 'targets = ( { name = "x"; url = "%s"; username = "u"; password_file = "%s";\n  vm_include = "(unclosed"; root = "DC0"; } );\n' \
	"$SIM_URL" "$W/pw" >"$W/bad.conf"
"$VIMON" --check-config -c "$W/bad.conf" >"$W/bad.out" 2>&1
like "$(cat "$W/bad.out")" 'bad.conf:2: vm_include: invalid regular expression "\(unclosed"' \
	"an invalid regex is reported with its line"
like "$(cat "$W/bad.out")" 'root must be an inventory path like' "a root that is not a path is refused"

agent_start "$W/vimon.conf"
wait_value 1 10 vsphere_up 'target="c1"'
wait_value 1 10 vsphere_up 'target="inc"'
wait_count 1 '^vsphere_inventory_objects{target="c1",type="VirtualMachine"}'
# the cluster DC0_C1 has 2 hosts x 2 VMs; the whole inventory 4 cluster hosts + 1 standalone
is "$(value "$W/m" vsphere_inventory_objects 'target="c1"' 'type="VirtualMachine"')" 4 \
	"the server sent only the VMs below the root (4 of 10)"
is "$(value "$W/m" vsphere_inventory_objects 'target="c1"' 'type="HostSystem"')" 2 \
	"and only its hosts"
is "$(grep -c '^vsphere_vm_power_state{target="c1".*state="poweredOn"}' "$W/m")" 2 \
	"excluded VMs (_VM1) have no series"
unlike "$(grep '^vsphere_vm_.*{target="c1"' "$W/m")" '_VM1"' "no family names an excluded VM"
like "$(grep '^vsphere_vm_info{target="c1"' "$W/m" | head -n 1)" 'cluster="DC0_C1",datacenter="DC0"' \
	"VM labels still name the cluster and datacenter above the root"
like "$(grep '^vsphere_cluster_overall_status{target="c1"' "$W/m" | head -n 1)" 'cluster="DC0_C1"' \
	"the root cluster's health is shown"
is "$(grep -c '^vsphere_vm_power_state{target="inc".*state="poweredOn"}' "$W/m")" 2 \
	"vm_include keeps only the VMs whose names match"
wait_value 0 10 vsphere_up 'target="bad"'
is "$GOT" 0 "a root that does not exist: the target is down"
wait_log 'root: no object at inventory path /DC0/host/nowhere'
like "$(cat "$AGENT_LOG")" 'no object at inventory path /DC0/host/nowhere' "and says why"

# a VM renamed into the exclusion loses its series; renamed back, it has them again
vm=$(grep '^vsphere_vm_power_state{target="c1".*_VM0".*state="poweredOn"} 1' "$W/m" | head -n 1 |
	sed 's/.*vm_id="\([^"]*\)".*/\1/')
soap_login >/dev/null
# another session starts waiting after the agent's (as the target "inc" may, under load): the
# agent's collector must still hear of the renames (vimon-sim: pcfanout.go)
soap WaitForUpdatesEx "<_this type=\"PropertyCollector\">propertyCollector</_this><version></version>" >/dev/null
r=$(soap Rename_Task "<_this type=\"VirtualMachine\">$vm</_this><newName>renamed_VM1</newName>")
like "$r" '<Rename_TaskResponse' "Rename_Task of $vm into the exclusion is accepted"
i=0
metrics >"$W/m"
while grep -q "^vsphere_vm_power_state{target=\"c1\".*vm_id=\"$vm\"" "$W/m" && [ $i -lt 200 ]; do
	sleep 0.1
	metrics >"$W/m"
	i=$((i + 1))
done
is "$(grep -c "vm_id=\"$vm\"" "$W/m")" 0 "a VM renamed into the exclusion has no series"
is "$(grep -c "entity_id=\"$vm\"" "$W/m")" 0 "and neither has its rename task"
is "$(curl -sS "$AGENT_URL/api/v1/vms?id=$vm")" "[]" "and /api/v1/vms does not list it"
r=$(soap Rename_Task "<_this type=\"VirtualMachine\">$vm</_this><newName>back_VM0</newName>")
like "$r" '<Rename_TaskResponse' "and renaming it back"
wait_value 1 20 vsphere_vm_power_state "vm_id=\"$vm\"" 'vm="back_VM0"' 'state="poweredOn"'
is "$GOT" 1 "renamed back out of it, it has them again"
like "$(curl -sS "$AGENT_URL/api/v1/vms?id=$vm")" '"name":"back_VM0"' "and /api/v1/vms lists it again"
wait_count 1 "^vsphere_task_info{.*task=\"Rename\",.*entity_id=\"$vm\""
check "and its rename tasks show again" grep -q "^vsphere_task_info{.*task=\"Rename\",.*entity_id=\"$vm\"" "$W/m"

agent_stop
sim_stop
done_testing

#!/bin/sh
# Integration: a VM-only target (collect = ["vm"]) reads only the hosts' names and parents.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent_lib.sh"

generation() {
	curl -sS --max-time 10 "$AGENT_URL/api/v1/targets" | py 'j[0]["generation"]'
}

sim_start -cluster 1 -host 2 -vm 1
cat >"$W/vimon.conf" <<EOF
listen = "127.0.0.1:0";
targets = (
  { name = "s"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw"; collect = ["vm"]; }
);
EOF
agent_start "$W/vimon.conf"
wait_value 1 10 vsphere_up
m=$(metrics)
like "$m" 'vsphere_vm_info\{[^}]*host="DC0_C0_H0"[^}]*cluster="DC0_C0"[^}]*datacenter="DC0"' \
	"VM labels name the host, its cluster and datacenter"
unlike "$m" '^vsphere_host_' "no host families are rendered"
is "$(curl -sS "$AGENT_URL/api/v1/targets" | py 'j[0]["collect"]')" "['vm']" \
	"the API lists only the vm collector"

# a host property nobody renders changes: nothing is fetched, nothing is published
host=$(simctl GET /_sim/inventory | py 'j["hosts"][0]["moref"]')
g0=$(generation)
for mode in true false true false; do
	simctl POST /_sim/host "{\"host\":\"$host\",\"inMaintenanceMode\":$mode}" >/dev/null
	sleep 0.3
done
sleep 1
is "$(generation)" "$g0" "host maintenance-mode changes do not re-publish a VM-only target"

# a VM change still does
vm=$(simctl GET /_sim/inventory | py '[v["moref"] for v in j["vms"] if v["power"] == "poweredOn"][0]')
simctl POST /_sim/vm/power "{\"vm\":\"$vm\",\"state\":\"poweredOff\"}" >/dev/null
wait_value 1 10 vsphere_vm_power_state "vm_id=\"$vm\"" 'state="poweredOff"'
isnt "$(generation)" "$g0" "a VM change is published"

agent_stop
sim_stop
done_testing

#!/bin/sh
# vimon-sim churn (tests/sim/churn.go): quickStats batches of the powered-on VMs reach
# WaitForUpdatesEx at once, cut by maxObjectUpdates, with plausible values; events.
. "$(dirname "$0")/lib.sh"

if ! sim_start; then
	not_ok "simulator starts and prints ready"
	done_testing
fi
PC="<_this type=\"PropertyCollector\">$SIM_PC</_this>"

r=$(simctl POST /_sim/churn '{"share":2}')
like "$r" 'share must be between 0 and 1' "POST /_sim/churn refuses a share above 1"
r=$(simctl POST /_sim/churn '{"interval":1,"bogus":1}')
like "$r" 'unknown field' "and unknown fields"
r=$(simctl POST /_sim/churn '{}')
like "$r" '"enabled":false' "churn is off by default"
like "$r" '"interval":20' "with a 20 s interval by default"

inv=$(simctl GET /_sim/inventory)
on=$(printf '%s' "$inv" | grep -o '"power":"poweredOn"' | wc -l)
check "the default inventory has powered-on VMs ($on)" test "$on" -gt 2

soap_login >/dev/null
r=$(soap CreateContainerView "<_this type=\"ViewManager\">$SIM_VIEWMGR</_this><container type=\"Folder\">$SIM_ROOT</container><type>VirtualMachine</type><recursive>true</recursive>")
VIEW=$(xml_value "$r" returnval)
VSPEC="<propSet><type>VirtualMachine</type><pathSet>runtime.powerState</pathSet><pathSet>summary.quickStats</pathSet></propSet><objectSet><obj type=\"ContainerView\">$VIEW</obj><skip>true</skip><selectSet xsi:type=\"TraversalSpec\"><name>v</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet>"
r=$(soap CreateFilter "$PC<spec>$VSPEC</spec><partialUpdates>false</partialUpdates>")
FILTER=$(xml_value "$r" returnval)
isnt "$FILTER" "" "CreateFilter over a view of the VMs with summary.quickStats"
r=$(soap WaitForUpdatesEx "$PC<version></version><options><maxWaitSeconds>5</maxWaitSeconds></options>")
ver=$(xml_value "$r" version)
nobj() { printf '%s' "$1" | grep -o '<objectSet>' | wc -l; }
check "the initial update set has every VM" test "$(nobj "$r")" -ge "$on"

# uptime of one powered-on VM before churn
VM=$(printf '%s' "$inv" | sed 's/},{/}\n{/g' | grep '"power":"poweredOn"' | head -n 1 | sed 's/.*"moref":"\(vm-[0-9]*\)".*/\1/')
uptime() {
	xml_value "$(soap RetrievePropertiesEx "$PC<specSet><propSet><type>VirtualMachine</type><pathSet>summary.quickStats.uptimeSeconds</pathSet></propSet><objectSet><obj type=\"VirtualMachine\">$VM</obj></objectSet></specSet><options/>")" val
}
up0=$(uptime)

# churn on: a wait already blocked in the simulator ends, and the batch arrives at once
r=$(simctl POST /_sim/churn '{"enabled":true,"interval":30}')
like "$r" '"enabled":true' "POST /_sim/churn turns churn on"
seen=$VIMON_TEST_TMP/churn-seen.$$
: >"$seen"
i=0
while [ "$(sort -u "$seen" | wc -l)" -lt "$on" ] && [ $i -lt 4 ]; do
	r=$(soap WaitForUpdatesEx "$PC<version>$ver</version><options><maxWaitSeconds>5</maxWaitSeconds></options>")
	ver=$(xml_value "$r" version)
	printf '%s' "$r" | grep -o '<obj type="VirtualMachine">vm-[0-9]*</obj>' >>"$seen"
	i=$((i + 1))
done
is "$(sort -u "$seen" | wc -l | tr -d ' ')" "$on" "every powered-on VM's quickStats change arrives through WaitForUpdatesEx ($i waits)"
check "in at most two waits" test "$i" -le 2
check "under the client's own filter" sh -c 'printf "%s" "$1" | grep -qF "<filter type=\"PropertyFilter\">$2</filter>"' - "$r" "$FILTER"
like "$r" '<name>summary.quickStats</name><op>assign</op><val [^>]*type="VirtualMachineQuickStats">' "as a whole summary.quickStats value"
off=$(printf '%s' "$inv" | sed 's/},{/}\n{/g' | grep '"power":"poweredOff"' | head -n 1 | sed 's/.*"moref":"\(vm-[0-9]*\)".*/\1/')
check "a powered-off VM ($off) has no churn" sh -c "! grep -q '>$off<' '$seen'"
up1=$(uptime)
check "uptime grows with a batch ($up0 -> $up1)" test "$up1" -gt "$up0"
bal=$(printf '%s' "$r" | grep -o '<balloonedMemory>[0-9]*</balloonedMemory>' | head -n 1 | tr -dc 0-9)
check "ballooned memory within the configured memory ($bal MB)" test -n "$bal" -a "$bal" -le 32768

# a wait already in progress when a batch is made gets it within about a second
simctl POST /_sim/churn '{"interval":2}' >/dev/null
r=$(soap WaitForUpdatesEx "$PC<version>$ver</version><options><maxWaitSeconds>10</maxWaitSeconds></options>")
ver=$(xml_value "$r" version)
now_ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(now_ms)
r=$(soap WaitForUpdatesEx "$PC<version>$ver</version><options><maxWaitSeconds>10</maxWaitSeconds></options>")
dt=$(($(now_ms) - t0))
ver=$(xml_value "$r" version)
check "a wait in progress gets the next batch ($(nobj "$r") VMs after $dt ms, batches every 2 s)" test "$(nobj "$r")" -ge "$on" -a "$dt" -lt 3500
simctl POST /_sim/churn '{"enabled":false}' >/dev/null
t0=$(now_ms)
r=$(soap WaitForUpdatesEx "$PC<version>$ver</version><options><maxWaitSeconds>2</maxWaitSeconds></options>")
dt=$(($(now_ms) - t0))
check "with churn off a quiet wait lasts its maxWaitSeconds ($dt ms)" test "$dt" -ge 1900 -a "$(nobj "$r")" -eq 0
simctl POST /_sim/churn '{"enabled":true}' >/dev/null

# cut by maxObjectUpdates like any other update set
r=$(simctl POST /_sim/churn '{"interval":0.5}')
sleep 0.7
r=$(soap WaitForUpdatesEx "$PC<version>$ver</version><options><maxWaitSeconds>5</maxWaitSeconds><maxObjectUpdates>2</maxObjectUpdates></options>")
is "$(nobj "$r")" "2" "a churn reply is cut to maxObjectUpdates"
like "$r" '<truncated>true</truncated>' "and says truncated"
simctl POST /_sim/churn '{"enabled":false}' >/dev/null
v=$(xml_value "$r" version)
n=2
while printf '%s' "$r" | grep -q '<truncated>true'; do
	r=$(soap WaitForUpdatesEx "$PC<version>$v</version><options><maxWaitSeconds>5</maxWaitSeconds><maxObjectUpdates>2</maxObjectUpdates></options>")
	v=$(xml_value "$r" version)
	n=$((n + $(nobj "$r")))
done
check "the rest follows in chunks ($n objects)" test "$n" -ge "$on"

# share: half of the powered-on VMs per batch
b0=$(json_field "$(simctl GET /_sim/stats)" changes)
simctl POST /_sim/churn '{"enabled":true,"interval":0.3,"share":0.5}' >/dev/null
sleep 1
simctl POST /_sim/churn '{"enabled":false}' >/dev/null
st=$(simctl GET /_sim/stats)
b1=$(json_field "$st" changes)
n=$(json_field "$st" batches)
half=$(((on + 1) / 2))
check "share 0.5 changes half of the powered-on VMs per batch ($b0 -> $b1)" test $(((b1 - b0) % half)) -eq 0 -a "$b1" -gt "$b0"
sleep 0.5
is "$(json_field "$(simctl GET /_sim/stats)" batches)" "$n" "no batch after churn is turned off"

# events: power changes and questions
simctl POST /_sim/churn '{"enabled":true,"interval":60,"share":0,"events_per_minute":600}' >/dev/null
sleep 1.5
simctl POST /_sim/churn '{"enabled":false,"events_per_minute":0}' >/dev/null
e=$(json_field "$(simctl GET /_sim/stats)" events)
check "events_per_minute 600 makes events ($e in 1.5 s)" test "$e" -ge 5

done_testing

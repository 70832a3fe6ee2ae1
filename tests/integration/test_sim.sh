#!/bin/sh
# Acceptance tests of vimon-sim (tests/sim): the simulator's contract (tests/sim/README.md), through curl.
. "$(dirname "$0")/lib.sh"

SI='<_this type="ServiceInstance">ServiceInstance</_this>'

# rpex TYPE MOREF PATH...: RetrievePropertiesEx of PATHs of one object.
rpex() {
	_t=$1
	_o=$2
	shift 2
	_ps=
	for _p in "$@"; do _ps="$_ps<pathSet>$_p</pathSet>"; done
	soap RetrievePropertiesEx "$PC<specSet><propSet><type>$_t</type>$_ps</propSet><objectSet><obj type=\"$_t\">$_o</obj></objectSet></specSet><options/>"
}

# filter TYPE MOREF PATH...: CreateFilter on PATHs of one object.
filter() {
	_t=$1
	_o=$2
	shift 2
	_ps=
	for _p in "$@"; do _ps="$_ps<pathSet>$_p</pathSet>"; done
	soap CreateFilter "$PC<spec><propSet><type>$_t</type>$_ps</propSet><objectSet><obj type=\"$_t\">$_o</obj></objectSet></spec><partialUpdates>false</partialUpdates>"
}

# wfu VERSION [MAXWAIT]: WaitForUpdatesEx.
wfu() {
	soap WaitForUpdatesEx "$PC<version>$1</version><options><maxWaitSeconds>${2:-10}</maxWaitSeconds></options>"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- start, inventory, odd names -------------------------------------------------------
if ! sim_start; then
	not_ok "simulator starts and prints ready"
	done_testing
fi
PC="<_this type=\"PropertyCollector\">$SIM_PC</_this>"
is "$SIM_APITYPE" "VirtualCenter" "by default the simulator is a vCenter (apiType VirtualCenter)"
like "$SIM_URL" '^http://127\.0\.0\.1:[0-9]+/sdk$' "ready line gives http://127.0.0.1:PORT/sdk"
is "$(head -n 1 "$SIM_OUT")" "ready $SIM_URL" "without -tls the only stdout line is ready"

inv=$(simctl GET /_sim/inventory)
check "GET /_sim/inventory succeeds" test -n "$inv"
like "$inv" '"hosts":\[\{"moref":"host-[0-9]+","name":"DC0_H0"\}' "inventory lists hosts by moref and name"
nvms=$(printf '%s' "$inv" | grep -o '"moref":"vm-[0-9]*"' | wc -l)
is "$nvms" "14" "default inventory: 4 hosts x 2 VMs + 6 odd-name VMs"
for n in 'odd%2fslash' 'odd%5cback' 'odd%25percent' 'odd\"quote' 'odd|pipe' 'ödd ünïcödé 日本'; do
	printf '%s' "$inv" | grep -qF "\"name\":\"$n\"" && ok "inventory has odd-name VM $n" || not_ok "inventory has odd-name VM $n"
done
VM=$(printf '%s' "$inv" | grep -o '"moref":"vm-[0-9]*","name":"DC0_H0_VM0"' | sed 's/"moref":"\([^"]*\)".*/\1/')
like "$VM" '^vm-[0-9]+$' "found the first VM ($VM)"

# ---- login -------------------------------------------------------------------------------
r=$(soap_login user wrong)
like "$r" '<InvalidLoginFault' "password \"wrong\" gets an InvalidLogin fault"
is "$(soap_status)" "500" "the InvalidLogin fault comes with HTTP 500"
r=$(soap_login baduser secret)
like "$r" '<InvalidLoginFault' "user \"baduser\" gets an InvalidLogin fault"
r=$(soap_login)
like "$r" '<LoginResponse xmlns="urn:vim25"><returnval><key>' "any other user/password logs in"

# the names are stored encoded: RetrievePropertiesEx of the odd VMs' name property
for n in 'odd%2fslash' 'odd|pipe' 'ödd ünïcödé 日本'; do
	ref=$(printf '%s' "$inv" | grep -oF "\"name\":\"$n\"" >/dev/null &&
		printf '%s' "$inv" | sed 's/},{/}\n{/g' | grep -F "\"name\":\"$n\"" | sed 's/.*"moref":"\(vm-[0-9]*\)".*/\1/')
	r=$(rpex VirtualMachine "$ref" name)
	is "$(xml_value "$r" val)" "$n" "RetrievePropertiesEx name of $ref is the stored name $n"
done
r=$(rpex VirtualMachine "$(printf '%s' "$inv" | sed 's/},{/}\n{/g' | grep -F 'odd\"quote' | sed 's/.*"moref":"\(vm-[0-9]*\)".*/\1/')" name)
like "$r" '<val [^>]*type="xsd:string">odd&#34;quote</val>|<val [^>]*type="xsd:string">odd&quot;quote</val>|<val [^>]*type="xsd:string">odd"quote</val>' "odd\"quote comes back as odd\"quote (XML-escaped)"

# ---- power, question, WaitForUpdatesEx -----------------------------------------------------
r=$(simctl POST /_sim/vm/power "{\"vm\":\"$VM\",\"state\":\"poweredOff\"}")
like "$r" '"power":"poweredOff"' "control API powers the VM off"
r=$(rpex VirtualMachine "$VM" runtime.powerState)
is "$(xml_value "$r" val)" "poweredOff" "RetrievePropertiesEx sees runtime.powerState poweredOff"

r=$(filter VirtualMachine "$VM" runtime.question runtime.powerState summary.quickStats.balloonedMemory)
like "$r" '<CreateFilterResponse' "CreateFilter on the VM"
r=$(wfu "")
ver=$(xml_value "$r" version)
like "$r" '<name>runtime.powerState</name><op>assign</op><val [^>]*type="VirtualMachinePowerState">poweredOff</val>' \
	"initial WaitForUpdatesEx reports the current power state"

r=$(simctl POST /_sim/question "{\"vm\":\"DC0_H0_VM0\",\"id\":\"q1\",\"text\":\"The VM was moved or copied. Continue?\",\"message_ids\":[\"msg.uuid.altered\"],\"choices\":[{\"key\":\"0\",\"label\":\"Cancel\",\"summary\":\"do not start\"},{\"key\":\"1\",\"label\":\"I moved it\"},{\"key\":\"2\",\"label\":\"I copied it\"}],\"default\":2}")
is "$r" "{\"vm\":\"$VM\",\"id\":\"q1\"}" "POST /_sim/question by name answers the moref and question id"

r=$(rpex VirtualMachine "$VM" runtime.question)
like "$r" '<val [^>]*type="VirtualMachineQuestionInfo"><id>q1</id><text>The VM was moved or copied. Continue\?</text>' \
	"RetrievePropertiesEx reports runtime.question id and text"
is "$(xml_values "$r" key | tr '\n' ' ')" "0 1 2 " "RetrievePropertiesEx reports the choice keys"
is "$(xml_values "$r" label | tr '\n' '|')" "Cancel|I moved it|I copied it|" "RetrievePropertiesEx reports the choice labels"
like "$r" '<defaultIndex>2</defaultIndex>' "RetrievePropertiesEx reports the default index"
like "$r" '<message><id>msg.uuid.altered</id>' "RetrievePropertiesEx reports the message id"

r=$(wfu "$ver")
like "$r" '<name>runtime.question</name><op>assign</op><val [^>]*type="VirtualMachineQuestionInfo"><id>q1</id>' \
	"WaitForUpdatesEx reports the new question"
ver=$(xml_value "$r" version)

r=$(simctl POST /_sim/vm/quickstats "{\"vm\":\"$VM\",\"balloonedMemory\":512,\"swappedMemory\":64}")
like "$r" '"balloonedMemory":512' "control API sets quickStats"
r=$(wfu "$ver")
like "$r" '<name>summary.quickStats.balloonedMemory</name><op>assign</op><val [^>]*type="xsd:int">512</val>' \
	"WaitForUpdatesEx reports the quickStats change"
ver=$(xml_value "$r" version)
r=$(rpex VirtualMachine "$VM" summary.quickStats.swappedMemory)
is "$(xml_value "$r" val)" "64" "RetrievePropertiesEx sees swappedMemory 64"

# ---- blocked power-on, CancelTask refused, AnswerVM ----------------------------------------
r=$(soap PowerOnVM_Task "<_this type=\"VirtualMachine\">$VM</_this>")
TASK=$(xml_value "$r" returnval)
like "$TASK" '^task-[0-9]+$' "PowerOnVM_Task on the VM with a question returns a task ($TASK)"
r=$(rpex Task "$TASK" info.state info.cancelable info.entity info.name info.descriptionId)
like "$r" '<name>info.name</name><val [^>]*type="xsd:string">PowerOnVM_Task</val>' "the task's name is PowerOnVM_Task"
like "$r" '<name>info.descriptionId</name><val [^>]*type="xsd:string">VirtualMachine.powerOn</val>' "the task's descriptionId is VirtualMachine.powerOn"
like "$r" '<val [^>]*type="TaskInfoState">running</val>' "the power-on task is running"
like "$r" '<name>info.cancelable</name><val [^>]*type="xsd:boolean">false</val>' "the power-on task is not cancelable"
like "$r" "<name>info.entity</name><val [^>]*type=\"ManagedObjectReference\" type=\"VirtualMachine\">$VM</val>" "the task's entity is the VM"
sleep 1
r=$(rpex Task "$TASK" info.state)
is "$(xml_value "$r" val)" "running" "a second later the power-on task is still running"

r=$(soap CancelTask "<_this type=\"Task\">$TASK</_this>")
like "$r" '<InvalidStateFault' "CancelTask on the blocked power-on is refused with InvalidState"
like "$r" 'cannot be cancelled' "the fault says it cannot be cancelled"

r=$(soap AnswerVM "<_this type=\"VirtualMachine\">$VM</_this><questionId>q1</questionId><answerChoice>7</answerChoice>")
like "$r" '<InvalidArgumentFault' "AnswerVM with a wrong choice key gets InvalidArgument"
like "$r" 'choice &#34;7&#34; is not a choice|choice "7" is not a choice' "the fault names the wrong choice"
r=$(soap AnswerVM "<_this type=\"VirtualMachine\">$VM</_this><questionId>q9</questionId><answerChoice>1</answerChoice>")
like "$r" '<InvalidArgumentFault' "AnswerVM with a wrong question id gets InvalidArgument"
r=$(rpex Task "$TASK" info.state)
is "$(xml_value "$r" val)" "running" "wrong answers leave the task running"

r=$(filter Task "$TASK" info.state)
like "$r" '<CreateFilterResponse' "CreateFilter on the task's info.state"
r=$(wfu "$ver")
ver=$(xml_value "$r" version)
r=$(soap AnswerVM "<_this type=\"VirtualMachine\">$VM</_this><questionId>q1</questionId><answerChoice>1</answerChoice>")
like "$r" '<AnswerVMResponse xmlns="urn:vim25"></AnswerVMResponse>' "AnswerVM with the right id and choice succeeds"
r=$(wfu "$ver")
like "$r" "<obj type=\"Task\">$TASK</obj><changeSet><name>info.state</name><op>assign</op><val [^>]*type=\"TaskInfoState\">success</val>" \
	"WaitForUpdatesEx reports the task's info.state success"
like "$r" '<name>runtime.question</name><op>assign</op></changeSet>' "WaitForUpdatesEx reports the question gone"
ver=$(xml_value "$r" version)
r=$(rpex VirtualMachine "$VM" runtime.powerState runtime.question)
is "$(xml_value "$r" val)" "poweredOn" "after the answer the VM is poweredOn"
unlike "$r" 'runtime.question' "after the answer runtime.question is unset"

# ---- cancelable blocked task ---------------------------------------------------------------
r=$(simctl POST /_sim/question "{\"vm\":\"$VM\",\"text\":\"Second question\",\"choices\":[{\"key\":\"yes\",\"label\":\"Yes\"}]}")
Q2=$(json_field "$r" id)
isnt "$Q2" "" "a question without id gets a generated one ($Q2)"
r=$(soap PowerOffVM_Task "<_this type=\"VirtualMachine\">$VM</_this>")
T2=$(xml_value "$r" returnval)
r=$(rpex Task "$T2" info.state info.cancelable)
like "$r" '<val [^>]*type="TaskInfoState">running</val>' "PowerOffVM_Task on the VM with a question is running"
like "$r" '<name>info.cancelable</name><val [^>]*type="xsd:boolean">true</val>' "the power-off task is cancelable"
r=$(soap CancelTask "<_this type=\"Task\">$T2</_this>")
like "$r" '<CancelTaskResponse xmlns="urn:vim25"></CancelTaskResponse>' "CancelTask on the blocked power-off succeeds"
r=$(rpex Task "$T2" info.state info.cancelled info.error)
like "$r" '<val [^>]*type="TaskInfoState">error</val>' "the cancelled task ends in state error"
like "$r" '<name>info.cancelled</name><val [^>]*type="xsd:boolean">true</val>' "the cancelled task has info.cancelled true"
like "$r" '<fault [^>]*type="RequestCanceled">' "the cancelled task's error is RequestCanceled"
r=$(rpex VirtualMachine "$VM" runtime.powerState)
is "$(xml_value "$r" val)" "poweredOn" "the cancelled power-off left the VM poweredOn"
r=$(soap CancelTask "<_this type=\"Task\">$T2</_this>")
like "$r" '<InvalidStateFault' "cancelling a finished task is refused"
r=$(simctl POST /_sim/question/clear "{\"vm\":\"$VM\"}")
like "$r" '"cleared":true' "POST /_sim/question/clear clears it"
r=$(rpex VirtualMachine "$VM" runtime.question)
unlike "$r" 'VirtualMachineQuestionInfo' "runtime.question is gone after clear"

# ---- ESX-like question presets, a question raised while a task runs, recentTask ----------------
VM1=$(printf '%s' "$inv" | grep -o '"moref":"vm-[0-9]*","name":"DC0_H0_VM1"' | sed 's/"moref":"\([^"]*\)".*/\1/')
r=$(simctl POST /_sim/question "{\"vm\":\"$VM1\",\"preset\":\"msg.uuid.altered\"}")
QU=$(json_field "$r" id)
isnt "$QU" "" "preset msg.uuid.altered is asked ($QU)"
r=$(rpex VirtualMachine "$VM1" runtime.question)
like "$r" '<label>button.uuid.cancel</label><summary>Cancel</summary><key>0</key>' "msg.uuid.altered: key 0 is button.uuid.cancel / Cancel"
like "$r" '<label>button.uuid.movedTheVM</label><summary>I _Moved It</summary><key>1</key>' "msg.uuid.altered: key 1 is button.uuid.movedTheVM / I _Moved It"
like "$r" '<label>button.uuid.copiedTheVM</label><summary>I _Copied It</summary><key>2</key>' "msg.uuid.altered: key 2 is button.uuid.copiedTheVM / I _Copied It"
like "$r" '<defaultIndex>2</defaultIndex>' "msg.uuid.altered: the default is index 2 (I Copied It)"
like "$r" '<message><id>msg.uuid.altered</id><text>This virtual machine might have been moved or copied' "msg.uuid.altered: message id and ESX's text"
r=$(simctl POST /_sim/question "{\"vm\":\"$VM1\",\"preset\":\"msg.hbacommon.outofspace\"}")
r=$(rpex VirtualMachine "$VM1" runtime.question)
like "$r" '<label>button.abort</label><summary>Cancel</summary>' "msg.hbacommon.outofspace offers button.abort"
like "$r" '<defaultIndex>1</defaultIndex>' "msg.hbacommon.outofspace: the default is button.abort (ends the VM's session)"
r=$(simctl POST /_sim/question "{\"vm\":\"$VM1\",\"preset\":\"msg.serial.file.open\"}")
r=$(rpex VirtualMachine "$VM1" runtime.question)
like "$r" '<label>button.append</label><summary>Append</summary><key>0</key>' "msg.serial.file.open: key 0 is Append"
like "$r" '<message><id>msg.serial.file.open</id>' "msg.serial.file.open: message id"
r=$(simctl POST /_sim/question "{\"vm\":\"$VM1\",\"preset\":\"msg.nope\"}")
like "$r" 'unknown preset' "an unknown preset is refused"
simctl POST /_sim/question/clear "{\"vm\":\"$VM1\"}" >/dev/null

simctl POST /_sim/stats/reset '{}' >/dev/null
r=$(simctl POST /_sim/question "{\"vm\":\"$VM1\",\"preset\":\"msg.uuid.altered\",\"during_next_task_ms\":400}")
like "$r" '"during_next_task_ms":400' "a question can wait for the VM's next task"
QD=$(json_field "$r" id)
r=$(rpex VirtualMachine "$VM1" runtime.question)
unlike "$r" 'VirtualMachineQuestionInfo' "that question is not asked before the task"
r=$(soap SuspendVM_Task "<_this type=\"VirtualMachine\">$VM1</_this>")
TD=$(xml_value "$r" returnval)
r=$(rpex Task "$TD" info.state info.cancelable)
like "$r" '<val [^>]*type="TaskInfoState">running</val>' "the next task (suspend) runs at once"
r=$(rpex VirtualMachine "$VM1" runtime.question recentTask)
unlike "$r" 'VirtualMachineQuestionInfo' "no question yet right after the start"
like "$r" "<ManagedObjectReference type=\"Task\">$TD</ManagedObjectReference>" "the VM's recentTask lists the running task"
sleep 0.8
r=$(rpex VirtualMachine "$VM1" runtime.question)
like "$r" "<id>$QD</id>" "400 ms after the start the question is raised"
r=$(rpex Task "$TD" info.state)
is "$(xml_value "$r" val)" "running" "the task stays running, blocked by the question"
r=$(soap AnswerVM "<_this type=\"VirtualMachine\">$VM1</_this><questionId>$QD</questionId><answerChoice>2</answerChoice>")
r=$(rpex Task "$TD" info.state)
is "$(xml_value "$r" val)" "success" "after the answer the suspend task succeeds"
r=$(rpex VirtualMachine "$VM1" runtime.powerState)
is "$(xml_value "$r" val)" "suspended" "and the VM is suspended"
r=$(soap CancelTask "<_this type=\"Task\">$TD</_this>")
st=$(simctl GET /_sim/stats)
like "$st" '"AnswerVM":1' "/_sim/stats counts AnswerVM calls"
like "$st" '"CancelTask":1' "/_sim/stats counts CancelTask calls"

# ---- guest operations ----------------------------------------------------------------------------
simctl POST /_sim/vm/power "{\"vm\":\"$VM1\",\"state\":\"poweredOn\"}" >/dev/null
r=$(soap ShutdownGuest "<_this type=\"VirtualMachine\">$VM1</_this>")
like "$r" '<ShutdownGuestResponse' "ShutdownGuest answers at once"
r=$(rpex VirtualMachine "$VM1" runtime.powerState)
is "$(xml_value "$r" val)" "poweredOn" "right after ShutdownGuest the VM is still on"
sleep 0.6
r=$(rpex VirtualMachine "$VM1" runtime.powerState)
is "$(xml_value "$r" val)" "poweredOff" "the guest powers off a moment later"
r=$(soap ShutdownGuest "<_this type=\"VirtualMachine\">$VM1</_this>")
like "$r" '<InvalidPowerStateFault' "ShutdownGuest on a powered-off VM is refused with InvalidPowerState"
simctl POST /_sim/vm/power "{\"vm\":\"$VM1\",\"state\":\"poweredOn\"}" >/dev/null
r=$(soap StandbyGuest "<_this type=\"VirtualMachine\">$VM1</_this>")
like "$r" '<StandbyGuestResponse' "StandbyGuest answers"
sleep 0.6
r=$(rpex VirtualMachine "$VM1" runtime.powerState)
is "$(xml_value "$r" val)" "suspended" "after StandbyGuest the VM is suspended"
simctl POST /_sim/vm/power "{\"vm\":\"$VM1\",\"state\":\"poweredOn\"}" >/dev/null
b1=$(xml_value "$(rpex VirtualMachine "$VM1" runtime.bootTime)" val)
sleep 1.1
r=$(soap RebootGuest "<_this type=\"VirtualMachine\">$VM1</_this>")
like "$r" '<RebootGuestResponse' "RebootGuest answers"
sleep 0.6
b2=$(xml_value "$(rpex VirtualMachine "$VM1" runtime.bootTime)" val)
isnt "$b2" "$b1" "after RebootGuest the boot time changed ($b1 -> $b2)"
r=$(simctl POST /_sim/vm/guest "{\"vm\":\"$VM1\",\"ignore\":true}")
like "$r" '"ignore":true' "a VM's guest can be told to ignore guest operations"
soap ShutdownGuest "<_this type=\"VirtualMachine\">$VM1</_this>" >/dev/null
sleep 0.6
is "$(xml_value "$(rpex VirtualMachine "$VM1" runtime.powerState)" val)" "poweredOn" "an ignoring guest stays on"
simctl POST /_sim/vm/guest "{\"vm\":\"$VM1\",\"ignore\":false,\"delay_ms\":50}" >/dev/null

# ---- rename (two VMs with one name) ----------------------------------------------------------------
r=$(simctl POST /_sim/vm/rename "{\"vm\":\"DC0_H0_VM1\",\"name\":\"DC0_H0_VM0\"}")
like "$r" "\"name\":\"DC0_H0_VM0\",\"vm\":\"$VM1\"" "POST /_sim/vm/rename renames a VM"
is "$(simctl GET /_sim/inventory | grep -o '"name":"DC0_H0_VM0"' | wc -l)" "2" "two VMs now share the name DC0_H0_VM0"
is "$(xml_value "$(rpex VirtualMachine "$VM1" name)" val)" "DC0_H0_VM0" "RetrievePropertiesEx sees the new name"
simctl POST /_sim/vm/rename "{\"vm\":\"$VM1\",\"name\":\"DC0_H0_VM1\"}" >/dev/null

# ---- hosts and datastores through WaitForUpdatesEx -------------------------------------------
HOST=$(printf '%s' "$inv" | sed 's/.*"hosts":\[{"moref":"\([^"]*\)".*/\1/')
r=$(filter HostSystem "$HOST" runtime.inMaintenanceMode runtime.connectionState summary.quickStats.overallMemoryUsage)
r=$(filter Datastore "$(printf '%s' "$inv" | sed 's/.*"datastores":\[{"moref":"\([^"]*\)".*/\1/')" summary.freeSpace summary.accessible)
r=$(wfu "$ver")
ver=$(xml_value "$r" version)
r=$(simctl POST /_sim/vm/power "{\"vm\":\"$VM\",\"state\":\"suspended\"}")
like "$r" '"power":"suspended"' "control API suspends the VM"
r=$(simctl POST /_sim/host "{\"host\":\"DC0_H0\",\"inMaintenanceMode\":true,\"connectionState\":\"notResponding\",\"quickStats\":{\"overallMemoryUsage\":2048}}")
like "$r" '"inMaintenanceMode":true' "control API puts the host in maintenance mode"
r=$(simctl POST /_sim/datastore '{"datastore":"LocalDS_0","freeSpace":12345,"accessible":false}')
like "$r" '"freeSpace":12345' "control API sets datastore freeSpace"
r=$(wfu "$ver")
like "$r" "<obj type=\"VirtualMachine\">$VM</obj><changeSet><name>runtime.powerState</name><op>assign</op><val [^>]*type=\"VirtualMachinePowerState\">suspended</val>" \
	"WaitForUpdatesEx reports the power state set through the control API"
like "$r" '<name>runtime.inMaintenanceMode</name><op>assign</op><val [^>]*type="xsd:boolean">true</val>' \
	"WaitForUpdatesEx reports inMaintenanceMode"
like "$r" '<name>runtime.connectionState</name><op>assign</op><val [^>]*type="HostSystemConnectionState">notResponding</val>' \
	"WaitForUpdatesEx reports connectionState"
like "$r" '<name>summary.quickStats.overallMemoryUsage</name><op>assign</op><val [^>]*type="xsd:int">2048</val>' \
	"WaitForUpdatesEx reports the host's quickStats change"
like "$r" '<name>summary.freeSpace</name><op>assign</op><val [^>]*type="xsd:long">12345</val>' \
	"WaitForUpdatesEx reports datastore freeSpace"
like "$r" '<name>summary.accessible</name><op>assign</op><val [^>]*type="xsd:boolean">false</val>' \
	"WaitForUpdatesEx reports datastore accessible"
DS=$(printf '%s' "$inv" | sed 's/.*"datastores":\[{"moref":"\([^"]*\)".*/\1/')
r=$(rpex Datastore "$DS" host vm)
is "$(printf '%s' "$r" | grep -o '<DatastoreHostMount><key type="HostSystem">' | wc -l)" "4" "the datastore's host property lists all 4 hosts"
is "$(printf '%s' "$r" | grep -o '<ManagedObjectReference type="VirtualMachine">' | wc -l)" "14" "the datastore's vm property lists all 14 VMs"
r=$(simctl POST /_sim/host '{"host":"nosuchhost","inMaintenanceMode":true}')
check "an unknown host is an HTTP error" test $? -ne 0
like "$r" '"error":"no host' "the error reply says what is wrong"

# ---- paging ---------------------------------------------------------------------------------
objs=
for v in $(printf '%s' "$inv" | grep -o '"moref":"vm-[0-9]*"' | sed 's/"moref":"\(.*\)"/\1/'); do
	objs="$objs<objectSet><obj type=\"VirtualMachine\">$v</obj></objectSet>"
done
r=$(soap RetrievePropertiesEx "$PC<specSet><propSet><type>VirtualMachine</type><pathSet>name</pathSet></propSet>$objs</specSet><options><maxObjects>2</maxObjects></options>")
tok=$(xml_value "$r" token)
isnt "$tok" "" "RetrievePropertiesEx with maxObjects 2 returns a token"
is "$(printf '%s' "$r" | grep -o '<objects>' | wc -l)" "2" "the first page has 2 objects"
seen=$(xml_values "$r" val)
pages=1
while [ -n "$tok" ] && [ $pages -lt 20 ]; do
	r=$(soap ContinueRetrievePropertiesEx "$PC<token>$tok</token>")
	pages=$((pages + 1))
	seen="$seen
$(xml_values "$r" val)"
	tok=$(xml_value "$r" token)
done
is "$pages" "7" "ContinueRetrievePropertiesEx pages through 14 objects in 7 pages"
is "$(printf '%s\n' "$seen" | grep -c .)" "14" "every VM came back once"
like "$r" '<ContinueRetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects>' "the last page has no token"
r=$(soap ContinueRetrievePropertiesEx "$PC<token>nosuchtoken</token>")
like "$r" '<InvalidArgumentFault' "an unknown token gets InvalidArgument"
r=$(soap RetrievePropertiesEx "$PC<specSet><propSet><type>VirtualMachine</type><pathSet>name</pathSet></propSet>$objs</specSet><options><maxObjects>5</maxObjects></options>")
tok=$(xml_value "$r" token)
r=$(soap CancelRetrievePropertiesEx "$PC<token>$tok</token>")
like "$r" '<CancelRetrievePropertiesExResponse' "CancelRetrievePropertiesEx drops a token"
r=$(soap ContinueRetrievePropertiesEx "$PC<token>$tok</token>")
like "$r" '<InvalidArgumentFault' "a cancelled token is gone"
# a token belongs to the session that made it
r=$(soap RetrievePropertiesEx "$PC<specSet><propSet><type>VirtualMachine</type><pathSet>name</pathSet></propSet>$objs</specSet><options><maxObjects>5</maxObjects></options>")
tok=$(xml_value "$r" token)
mv "$VIMON_TEST_TMP/cookies" "$VIMON_TEST_TMP/cookies.first"
r=$(soap_login)
r=$(soap ContinueRetrievePropertiesEx "$PC<token>$tok</token>")
like "$r" '<InvalidArgumentFault' "another session cannot continue the token"
r=$(soap CancelRetrievePropertiesEx "$PC<token>$tok</token>")
like "$r" '<InvalidArgumentFault' "nor cancel it"
cp "$VIMON_TEST_TMP/cookies.first" "$VIMON_TEST_TMP/cookies"
r=$(soap ContinueRetrievePropertiesEx "$PC<token>$tok</token>")
is "$(printf '%s' "$r" | grep -o '<objects>' | wc -l)" "5" "the session that made it can"

# ---- WaitForUpdatesEx maxObjectUpdates ------------------------------------------------------
r=$(soap CreateContainerView "<_this type=\"ViewManager\">$SIM_VIEWMGR</_this><container type=\"Folder\">$SIM_ROOT</container><type>VirtualMachine</type><recursive>true</recursive>")
VIEW=$(xml_value "$r" returnval)
isnt "$VIEW" "" "a ContainerView of all VMs"
VSPEC="<propSet><type>VirtualMachine</type><pathSet>name</pathSet></propSet><objectSet><obj type=\"ContainerView\">$VIEW</obj><skip>true</skip><selectSet xsi:type=\"TraversalSpec\"><name>v</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet>"
r=$(soap RetrievePropertiesEx "$PC<specSet>$VSPEC</specSet><options><maxObjects>10</maxObjects></options>")
is "$(printf '%s' "$r" | grep -o '<objects>' | wc -l)" "10" "RetrievePropertiesEx through the view pages by 10"
r=$(soap ContinueRetrievePropertiesEx "$PC<token>$(xml_value "$r" token)</token>")
is "$(printf '%s' "$r" | grep -o '<objects>' | wc -l)" "4" "and the second page has the other 4"
r=$(soap CreateFilter "$PC<spec>$VSPEC</spec><partialUpdates>false</partialUpdates>")
like "$r" '<CreateFilterResponse' "CreateFilter through the view"
wfx() { soap WaitForUpdatesEx "$PC<version>$1</version><options><maxWaitSeconds>5</maxWaitSeconds><maxObjectUpdates>$2</maxObjectUpdates></options>"; }
nobj() { printf '%s' "$1" | grep -o '<objectSet>' | wc -l; }
r=$(wfx "$ver" 5)
is "$(nobj "$r")" "5" "WaitForUpdatesEx with maxObjectUpdates 5 returns 5 object updates"
like "$r" '</filterSet><truncated>true</truncated></returnval>' "and says truncated"
v1=$(xml_value "$r" version)
isnt "$v1" "$ver" "the truncated chunk has a version of its own"
# a second collector of the same session (vimon's task waits use a private one) is not
# handed the first one's pending chunk
r=$(soap CreatePropertyCollector "$PC")
PC2="<_this type=\"PropertyCollector\">$(xml_value "$r" returnval)</_this>"
like "$PC2" '>.+<' "CreatePropertyCollector makes a second collector"
r=$(soap CreateFilter "$PC2<spec><propSet><type>HostSystem</type><pathSet>name</pathSet></propSet><objectSet><obj type=\"HostSystem\">$HOST</obj></objectSet></spec><partialUpdates>false</partialUpdates>")
r=$(soap WaitForUpdatesEx "$PC2<version></version><options><maxWaitSeconds>5</maxWaitSeconds><maxObjectUpdates>5</maxObjectUpdates></options>")
is "$(nobj "$r")" "1" "WaitForUpdatesEx on the second collector gets its own update set"
like "$r" "<obj type=\"HostSystem\">$HOST</obj>" "(its host)"
r=$(wfx "$v1" 5)
is "$(nobj "$r")" "5" "the first collector's next call with the chunk's version returns the next 5 at once"
like "$r" '<truncated>true</truncated>' "still truncated"
v2=$(xml_value "$r" version)
check "with another version of its own ($v1, $v2)" test "$v2" != "$v1" -a "$v2" != "$ver"
r=$(wfx "$v2" 5)
is "$(nobj "$r")" "4" "the third call returns the last 4"
unlike "$r" '<truncated>' "and is not truncated"
ver=$(xml_value "$r" version)
check "the last chunk carries the simulator's version ($ver)" test -n "$ver" -a "$ver" != "$v2"
# a stale version while a truncated set is pending gets InvalidCollectorVersion
r=$(soap CreateFilter "$PC<spec>$VSPEC</spec><partialUpdates>false</partialUpdates>")
F2=$(xml_value "$r" returnval)
r=$(wfx "$ver" 5)
like "$r" '<truncated>true</truncated>' "a second filter on the view: truncated again"
r=$(wfx "$ver" 5)
like "$r" '<InvalidCollectorVersionFault' "a version other than the last chunk's gets InvalidCollectorVersion"
r=$(soap DestroyPropertyFilter "<_this type=\"PropertyFilter\">$F2</_this>")
like "$r" '<DestroyPropertyFilterResponse' "DestroyPropertyFilter"

# a filter created for a task that has already finished still reports its state
ODD=$(printf '%s' "$inv" | sed 's/},{/}\n{/g' | grep -F '"name":"odd|pipe"' | sed 's/.*"moref":"\(vm-[0-9]*\)".*/\1/')
r=$(soap PowerOnVM_Task "<_this type=\"VirtualMachine\">$ODD</_this>")
T3=$(xml_value "$r" returnval)
r=$(filter Task "$T3" info.state)
t0=$(now_ms)
r=$(wfu "$ver" 5)
t1=$(now_ms)
like "$r" "<obj type=\"Task\">$T3</obj><changeSet><name>info.state</name><op>assign</op><val [^>]*type=\"TaskInfoState\">success</val>" \
	"WaitForUpdatesEx on a new filter for a finished task reports success"
check "and does so without waiting for the timeout ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 2000
ver=$(xml_value "$r" version)

# injected InvalidCollectorVersion: the next WaitForUpdatesEx only
r=$(simctl POST /_sim/fault '{"kind":"invalid-collector-version","method":"RetrievePropertiesEx"}')
check "invalid-collector-version restricted to another method is refused" test $? -ne 0
r=$(simctl POST /_sim/fault '{"kind":"invalid-collector-version"}')
like "$r" '"method":"WaitForUpdatesEx"' "POST /_sim/fault invalid-collector-version applies to WaitForUpdatesEx"
r=$(rpex VirtualMachine "$VM" name)
like "$r" '<RetrievePropertiesExResponse' "other calls are not affected"
r=$(wfu "$ver" 0)
like "$r" '<detail><InvalidCollectorVersionFault xmlns="urn:vim25" xsi:type="InvalidCollectorVersion">' \
	"the next WaitForUpdatesEx gets an InvalidCollectorVersion fault"
is "$(soap_status)" "500" "with HTTP 500"
r=$(wfu "$ver" 0)
like "$r" '<WaitForUpdatesExResponse' "the one after it is answered again"

# ---- sessions ------------------------------------------------------------------------------
CV="<_this type=\"ViewManager\">ViewManager</_this><container type=\"Folder\">group-d1</container><type>VirtualMachine</type><recursive>true</recursive>"
r=$(soap CreateContainerView "$CV")
like "$r" '<CreateContainerViewResponse xmlns="urn:vim25"><returnval type="ContainerView">' "CreateContainerView works with a session"
r=$(soap RetrievePropertiesEx "$PC<specSet><propSet><type>VirtualMachine</type><pathSet>name</pathSet></propSet>$objs</specSet><options><maxObjects>5</maxObjects></options>")
tok=$(xml_value "$r" token)
isnt "$tok" "" "a paging token before expiry"
r=$(simctl POST /_sim/fault '{"kind":"expire-sessions"}')
like "$r" '"kind":"expire-sessions"' "POST /_sim/fault expire-sessions"
r=$(soap CreateContainerView "$CV")
like "$r" '<NotAuthenticatedFault' "after expiry CreateContainerView gets NotAuthenticated"
r=$(soap AnswerVM "<_this type=\"VirtualMachine\">$VM</_this><questionId>x</questionId><answerChoice>1</answerChoice>")
like "$r" '<NotAuthenticatedFault' "after expiry AnswerVM gets NotAuthenticated"
r=$(rpex VirtualMachine "$VM" name)
like "$r" '<NotAuthenticatedFault' "after expiry RetrievePropertiesEx gets a NotAuthenticated fault"
r=$(soap ContinueRetrievePropertiesEx "$PC<token>$tok</token>")
like "$r" '<NotAuthenticatedFault' "and so does ContinueRetrievePropertiesEx"
r=$(soap_login)
like "$r" '<LoginResponse' "logging in again works"
r=$(soap CreateContainerView "$CV")
like "$r" '<CreateContainerViewResponse' "and the new session works"
r=$(soap ContinueRetrievePropertiesEx "$PC<token>$tok</token>")
like "$r" '<InvalidArgumentFault' "a paging token does not outlive its session"

# ---- injected faults -----------------------------------------------------------------------
simctl POST /_sim/stats/reset '{}' >/dev/null
RSC="$SI"
simctl POST /_sim/fault '{"kind":"delay","ms":1500,"count":1}' >/dev/null
t0=$(now_ms)
r=$(soap RetrieveServiceContent "$RSC")
t1=$(now_ms)
check "delay 1500 ms delays the call ($((t1 - t0)) ms)" test $((t1 - t0)) -ge 1450
like "$r" '<RetrieveServiceContentResponse' "the delayed call still answers"
t0=$(now_ms)
r=$(soap RetrieveServiceContent "$RSC")
t1=$(now_ms)
check "count 1: the next call is not delayed ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 1000

simctl POST /_sim/fault '{"kind":"soap-fault","fault":"InvalidArgument","method":"CurrentTime"}' >/dev/null
r=$(soap RetrieveServiceContent "$RSC")
like "$r" '<RetrieveServiceContentResponse' "a fault restricted to another method leaves this one alone"
r=$(soap CurrentTime "$RSC")
like "$r" '<detail><InvalidArgumentFault xmlns="urn:vim25" xsi:type="InvalidArgument">' "soap-fault InvalidArgument answers that fault"
is "$(soap_status)" "500" "the injected SOAP fault has HTTP 500"
r=$(soap CurrentTime "$RSC")
like "$r" '<CurrentTimeResponse' "after count calls the fault is gone"

simctl POST /_sim/fault '{"kind":"truncated"}' >/dev/null
r=$(soap RetrieveServiceContent "$RSC")
like "$r" '^<\?xml' "truncated: the reply starts like XML"
unlike "$r" '</soapenv:Envelope>' "truncated: the reply is cut before the end of the envelope"
is "$(soap_status)" "200" "truncated: HTTP 200"

simctl POST /_sim/fault '{"kind":"html"}' >/dev/null
r=$(soap RetrieveServiceContent "$RSC")
like "$r" '<html>' "html: the reply is an HTML page"
is "$(soap_status)" "503" "html: HTTP 503"
simctl POST /_sim/fault '{"kind":"html"}' >/dev/null
ct=$(printf '%s' "$(soap_envelope "<RetrieveServiceContent xmlns=\"urn:vim25\">$RSC</RetrieveServiceContent>")" |
	curl -s -o /dev/null -w '%{content_type}' --data-binary @- "$SIM_URL")
like "$ct" '^text/html' "html: Content-Type text/html"

simctl POST /_sim/fault '{"kind":"close"}' >/dev/null
r=$(soap RetrieveServiceContent "$RSC" 2>/dev/null)
rc=$?
is "$rc" "52" "close: the connection closes without a reply (curl exit 52)"
is "$r" "" "close: no body"

simctl POST /_sim/fault '{"kind":"http500","count":2}' >/dev/null
r=$(soap RetrieveServiceContent "$RSC")
is "$(soap_status)" "500" "http500: HTTP 500"
is "$r" "" "http500: no fault body"
r=$(soap RetrieveServiceContent "$RSC")
is "$(soap_status)" "500" "http500 count 2: the second call fails too"
r=$(soap RetrieveServiceContent "$RSC")
is "$(soap_status)" "200" "http500 count 2: the third call is fine"

simctl POST /_sim/fault '{"kind":"delay","ms":1200}' >/dev/null
t0=$(now_ms)
r=$(soap RetrieveServiceContent "$RSC")
r=$(soap RetrieveServiceContent "$RSC")
t1=$(now_ms)
check "delay without count delays every call ($((t1 - t0)) ms for 2 calls)" test $((t1 - t0)) -ge 2350
simctl POST /_sim/fault/clear '{}' >/dev/null
t0=$(now_ms)
r=$(soap RetrieveServiceContent "$RSC")
t1=$(now_ms)
check "fault/clear removes it ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 1000
r=$(simctl POST /_sim/fault '{"kind":"nonsense"}')
check "an unknown fault kind is an HTTP error" test $? -ne 0

# ---- stats ----------------------------------------------------------------------------------
st=$(simctl GET /_sim/stats)
like "$st" '"RetrieveServiceContent":1[0-9]' "stats count RetrieveServiceContent calls since reset"
# since the reset: 12 soap calls and the one curl of the html Content-Type check
is "$(json_field "$st" RetrieveServiceContent)" "13" "as many as this script made since the reset (13)"
like "$st" '"CurrentTime":2' "stats count CurrentTime calls"
like "$st" '"cpu_seconds":[0-9.]+' "stats report cpu_seconds"
check "stats report rss_bytes > 1 MB" test "$(json_field "$st" rss_bytes)" -gt 1000000
simctl POST /_sim/stats/reset '{}' >/dev/null
st=$(simctl GET /_sim/stats)
like "$st" '"calls":\{\}' "stats/reset zeroes the call counts"
is "$(json_field "$st" bytes_out)" "0" "and the byte counts"
r=$(soap RetrieveServiceContent "$SI")
n=$(printf '%s' "$r" | wc -c)
req=$(soap_envelope "<RetrieveServiceContent xmlns=\"urn:vim25\">$SI</RetrieveServiceContent>" | wc -c)
st=$(simctl GET /_sim/stats)
out=$(json_field "$st" bytes_out)
check "stats count the reply bytes sent ($out for a $n-byte reply)" test "$out" -ge "$n" -a "$out" -le $((n + 1))
is "$(json_field "$st" bytes_in)" "$req" "and the request bytes received"

# ---- strict auth and gzip by default, -lenient-auth and -gzip=false -----------------------
sim_stop
sim_start -vm 1 -odd-names=false
r=$(rpex Folder "$SIM_ROOT" name)
like "$r" '<NotAuthenticatedFault' "by default RetrievePropertiesEx without a session gets NotAuthenticated"
r=$(soap RetrieveProperties "$PC<specSet><propSet><type>Folder</type><pathSet>name</pathSet></propSet><objectSet><obj type=\"Folder\">$SIM_ROOT</obj></objectSet></specSet>")
like "$r" '<NotAuthenticatedFault' "and so does RetrieveProperties"
r=$(soap_login)
r=$(rpex Folder "$SIM_ROOT" name)
like "$r" '<val [^>]*type="xsd:string">Datacenters</val>' "with a session it answers"
soap_envelope "<RetrieveServiceContent xmlns=\"urn:vim25\">$SI</RetrieveServiceContent>" >"$VIMON_TEST_TMP/rsc.xml"
hdr=$(curl -s -D - -o "$VIMON_TEST_TMP/rsc.gz" -H 'Accept-Encoding: gzip' --data-binary @"$VIMON_TEST_TMP/rsc.xml" "$SIM_URL" | tr -d '\r')
like "$hdr" '^Content-Encoding: gzip$' "by default a client that accepts gzip gets Content-Encoding gzip"
like "$(gzip -dc "$VIMON_TEST_TMP/rsc.gz")" '<RetrieveServiceContentResponse xmlns="urn:vim25">.*</soapenv:Envelope>$' "the body is the gzip-compressed reply"
hdr=$(curl -s -D - -o /dev/null --data-binary @"$VIMON_TEST_TMP/rsc.xml" "$SIM_URL" | tr -d '\r')
unlike "$hdr" '^Content-Encoding' "a client that does not ask gets plain XML"
hdr=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip;q=0, identity' --data-binary @"$VIMON_TEST_TMP/rsc.xml" "$SIM_URL" | tr -d '\r')
unlike "$hdr" '^Content-Encoding' "nor one that refuses gzip (q=0)"

sim_stop
sim_start -lenient-auth -gzip=false -vm 1 -odd-names=false
rm -f "$VIMON_TEST_TMP/cookies"
r=$(rpex Folder "$SIM_ROOT" name)
like "$r" '<missingSet><path>name</path><fault><fault [^>]*type="NotAuthenticated">' \
	"-lenient-auth: RetrievePropertiesEx without a session answers with a NotAuthenticated missingSet"
hdr=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' --data-binary @"$VIMON_TEST_TMP/rsc.xml" "$SIM_URL" | tr -d '\r')
like "$hdr" '^HTTP/1.1 200' "-gzip=false: RetrieveServiceContent answers"
unlike "$hdr" '^Content-Encoding' "-gzip=false: plain XML even for a client that accepts gzip"

# ---- SIGTERM cleans up ----------------------------------------------------------------------
sim_stop
is "$?" "0" "SIGTERM: the simulator exits 0"

mkdir -p "$VIMON_TEST_TMP/simtmp"
_old_tmpdir=${TMPDIR-}
export TMPDIR="$VIMON_TEST_TMP/simtmp"
sim_start -vm 1
if [ -n "$_old_tmpdir" ]; then export TMPDIR="$_old_tmpdir"; else unset TMPDIR; fi
check "the simulator writes under TMPDIR" test -n "$(ls "$VIMON_TEST_TMP/simtmp")"
sim_stop
is "$?" "0" "SIGTERM exits 0"
is "$(ls -A "$VIMON_TEST_TMP/simtmp")" "" "after SIGTERM nothing is left under TMPDIR"

# ---- TLS ------------------------------------------------------------------------------------
sim_start -tls -odd-names=false
like "$SIM_URL" '^https://127\.0\.0\.1:[0-9]+/sdk$' "-tls: ready gives an https URL"
like "$SIM_SHA256" '^([0-9A-F]{2}:){31}[0-9A-F]{2}$' "-tls prints a SHA-256 thumbprint"
like "$SIM_SHA1" '^([0-9A-F]{2}:){19}[0-9A-F]{2}$' "-tls prints a SHA-1 thumbprint"
is "$(sed -n 3p "$SIM_OUT" | cut -d' ' -f1)" "ready" "thumbprint lines come before ready"
if command -v openssl >/dev/null 2>&1; then
	port=${SIM_BASE##*:}
	served=$(openssl s_client -connect "127.0.0.1:$port" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//')
	is "$served" "$SIM_SHA256" "the served certificate's SHA-256 equals the printed thumbprint"
	file256=$(openssl x509 -in "$SIM_CERT" -noout -fingerprint -sha256 | sed 's/.*=//')
	is "$file256" "$SIM_SHA256" "-cert-out wrote that certificate"
	file1=$(openssl x509 -in "$SIM_CERT" -noout -fingerprint -sha1 | sed 's/.*=//')
	is "$file1" "$SIM_SHA1" "the SHA-1 thumbprint matches too"
	like "$(openssl x509 -in "$SIM_CERT" -noout -text)" 'ASN1 OID: prime256v1' "the key is ECDSA P-256"
else
	skip "served certificate thumbprint" "openssl not installed"
fi
r=$(soap RetrieveServiceContent "$SI")
like "$r" '<RetrieveServiceContentResponse' "HTTPS SOAP call verifies with --cacert"
is "$(printf '' | curl -s -o /dev/null -w '%{http_code}' "$SIM_BASE/_sim/stats" 2>/dev/null)" "000" \
	"without the CA file curl refuses the certificate"
sim_stop

# ---- ESX ------------------------------------------------------------------------------------
sim_start -esx
PC="<_this type=\"PropertyCollector\">$SIM_PC</_this>"
r=$(soap RetrieveServiceContent "$SI")
like "$r" '<apiType>HostAgent</apiType>' "-esx: apiType HostAgent"
r=$(soap_login)
like "$r" '<LoginResponse' "-esx: login with the ESX session manager ($SIM_SM)"
VM=$(simctl GET /_sim/inventory | sed 's/.*"moref":"\([^"]*\)","name":"ha-host_VM0".*/\1/')
simctl POST /_sim/question '{"vm":"ha-host_VM0","text":"Reset?","choices":[{"key":"a","label":"A"}]}' >/dev/null
r=$(soap ResetVM_Task "<_this type=\"VirtualMachine\">$VM</_this>")
TASK=$(xml_value "$r" returnval)
r=$(rpex Task "$TASK" info.state info.cancelable)
like "$r" '<val [^>]*type="TaskInfoState">running</val>' "-esx: ResetVM_Task blocks on a question"
like "$r" '<name>info.cancelable</name><val [^>]*type="xsd:boolean">true</val>' "-esx: the reset task is cancelable"
r=$(soap AnswerVM "<_this type=\"VirtualMachine\">$VM</_this><questionId>1</questionId><answerChoice>a</answerChoice>")
r=$(rpex Task "$TASK" info.state)
is "$(xml_value "$r" val)" "success" "-esx: after AnswerVM the reset task succeeds"
inv=$(simctl GET /_sim/inventory)
like "$inv" '"hosts":\[\{"moref":"ha-host"' "-esx: the host is ha-host"
is "$(printf '%s' "$inv" | grep -o '"power":"' | wc -l)" "8" "-esx: 2 VMs + 6 odd-name VMs"
sim_stop

# ---- sizes ------------------------------------------------------------------------------------
sim_start -dc 2 -cluster 2 -host 3 -standalone 1 -vm 3 -ds 2 -odd-names=false
inv=$(simctl GET /_sim/inventory)
is "$(printf '%s' "$inv" | grep -o '"moref":"vm-[0-9]*"' | wc -l)" "42" "-dc 2 -cluster 2 -host 3 -standalone 1 -vm 3: 14 hosts x 3 VMs"
is "$(printf '%s' "$inv" | grep -o '"moref":"host-[0-9]*"' | wc -l)" "14" "14 hosts"
sim_stop

# ---- parent watch -----------------------------------------------------------------------------
pidf=$VIMON_TEST_TMP/pw.pid
outf=$VIMON_TEST_TMP/pw.out
rm -f "$pidf" "$outf"
(
	"$VIMON_SIM" -parent-watch -vm 1 >"$outf" 2>/dev/null &
	echo $! >"$pidf"
	wait
) &
sub=$!
echo "$sub" >>"$VIMON_TEST_PIDS"
i=0
while ! grep -q '^ready' "$outf" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
spid=$(cat "$pidf" 2>/dev/null)
like "$spid" '^[0-9]+$' "a simulator started from a subshell has a pid"
echo "$spid" >>"$VIMON_TEST_PIDS"
check "that simulator is running and ready" grep -q '^ready' "$outf"
kill -KILL "$sub"
wait "$sub" 2>/dev/null
# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
	if [ -r "/proc/$1/stat" ]; then
		! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null && [ -r "/proc/$1/stat" ]
	else
		kill -0 "$1" 2>/dev/null
	fi
}
i=0
while [ -n "$spid" ] && alive "$spid" && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$spid" ]; then
	not_ok "-parent-watch: the simulator exits when its parent is killed (no pid)"
elif alive "$spid"; then
	not_ok "-parent-watch: the simulator exits when its parent is killed"
	kill -TERM "$spid"
else
	ok "-parent-watch: the simulator exits when its parent is killed ($((i * 100)) ms)"
fi

done_testing

#!/bin/sh
# Integration: the shipped Nagios objects (packaging/nagios/vimon.cfg) in a real nagios4 run
# against the agent and the simulator: nagios4 -v is clean, forced checks reach status.dat.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
VIMON=${VIMON_BUILD:-$TOP/build}/vimon
CHECK_DIR=${VIMON_BUILD:-$TOP/build}
W=$VIMON_TEST_TMP/nagios.$$
mkdir -p "$W"
printf 'secret-pw\n' >"$W/pw"
chmod 600 "$W/pw"
. "$(dirname "$0")/agent_lib.sh"
NAGIOS=${NAGIOS:-/usr/sbin/nagios4}

if [ ! -x "$NAGIOS" ]; then
	not_ok "nagios4 is installed ($NAGIOS; scripts/deps.sh installs it)"
	done_testing
fi
if ! sim_start; then
	not_ok "simulator starts"
	done_testing
fi
cat >"$W/vimon.conf" <<EOF
listen = "127.0.0.1:0";
targets = ( { name = "sim1"; url = "$SIM_URL"; username = "monitor"; password_file = "$W/pw"; } );
EOF
if ! agent_start "$W/vimon.conf"; then
	not_ok "agent starts"
	done_testing
fi
VM=$(simctl GET /_sim/inventory | py '[v["moref"] for v in j["vms"] if v["name"] == "odd%2fslash"][0]')

# ---- a minimal nagios.cfg around the shipped objects ----------------------------------------
N=$W/nagios
mkdir -p "$N/checkresults"
# nagios runs as whoever runs the test (the scratch directories are private to that user)
USER=$(id -un)
GROUP=$(id -gn)
cat >"$N/nagios.cfg" <<EOF
log_file=$N/nagios.log
cfg_file=$N/objects.cfg
cfg_file=$TOP/packaging/nagios/vimon.cfg
resource_file=$N/resource.cfg
object_cache_file=$N/objects.cache
precached_object_file=$N/objects.precache
status_file=$N/status.dat
status_update_interval=1
nagios_user=$USER
nagios_group=$GROUP
check_external_commands=1
command_file=$N/nagios.cmd
lock_file=$N/nagios.lock
temp_file=$N/nagios.tmp
temp_path=$N
check_result_path=$N/checkresults
retain_state_information=0
state_retention_file=$N/retention.dat
interval_length=1
check_result_reaper_frequency=1
max_service_check_spread=1
max_host_check_spread=1
service_inter_check_delay_method=n
host_inter_check_delay_method=n
enable_notifications=0
enable_event_handlers=0
enable_flap_detection=0
use_syslog=0
log_rotation_method=n
illegal_object_name_chars=\`~!\$%^&*|'"<>?,()=
illegal_macro_output_chars=\`~\$&|'"<>
EOF
printf '$USER1$=%s\n' "$CHECK_DIR" >"$N/resource.cfg"
cat >"$N/objects.cfg" <<EOF
define timeperiod {
	timeperiod_name	always
	alias		always
	sunday		00:00-24:00
	monday		00:00-24:00
	tuesday		00:00-24:00
	wednesday	00:00-24:00
	thursday	00:00-24:00
	friday		00:00-24:00
	saturday	00:00-24:00
}
define command {
	command_name	notify_nothing
	command_line	/bin/true
}
define command {
	command_name	host_up
	command_line	/bin/true
}
define contact {
	contact_name			admin
	host_notifications_enabled	0
	service_notifications_enabled	0
	host_notification_period	always
	service_notification_period	always
	host_notification_options	n
	service_notification_options	n
	host_notification_commands	notify_nothing
	service_notification_commands	notify_nothing
}
define contactgroup {
	contactgroup_name	admins
	alias			admins
	members			admin
}
define service {
	name			generic-service
	check_period		always
	notification_period	always
	contact_groups		admins
	register		0
}
define host {
	host_name		vcenter
	address			127.0.0.1
	check_command		host_up
	check_period		always
	max_check_attempts	1
	notification_period	always
	contact_groups		admins
}
define service {
	use			vimon-service
	host_name		vcenter
	service_description	vSphere questions
	check_command		check_vsphere_questions!$AGENT_URL!sim1!3600!7200
}
define service {
	use			vimon-service
	host_name		vcenter
	service_description	vSphere tasks
	check_command		check_vsphere_tasks!$AGENT_URL!sim1!3600!7200
}
define service {
	use			vimon-service
	host_name		vcenter
	service_description	VM odd
	check_command		check_vsphere_vm!$AGENT_URL!sim1!odd/slash!poweredOff
}
define service {
	use			vimon-service
	host_name		vcenter
	service_description	VM memory
	check_command		check_vsphere_vm_memory!$AGENT_URL!sim1!DC0_H0_VM0!-w 256 -c 1024
}
define service {
	use			vimon-service
	host_name		vcenter
	service_description	ESX DC0_H0
	check_command		check_vsphere_host!$AGENT_URL!sim1!DC0_H0!-w 85 -c 95
}
define service {
	use			vimon-service
	host_name		vcenter
	service_description	Datastores
	check_command		check_vsphere_datastore!$AGENT_URL!sim1!.*!-w 80 -c 90
}
define service {
	use			vimon-service
	host_name		vcenter
	service_description	vimon collection
	check_command		check_vsphere_target!$AGENT_URL!sim1!300
}
EOF

out=$("$NAGIOS" -v "$N/nagios.cfg" 2>&1)
rc=$?
like "$rc $(printf '%s\n' "$out" | grep -E '^Total (Warnings|Errors)' | tr '\n' ' ')" \
	'^0 Total Warnings: 0 Total Errors: +0' "nagios4 -v: 0 warnings, 0 errors"
[ "$rc" = 0 ] || diag "$out"

"$NAGIOS" "$N/nagios.cfg" >"$N/stdout" 2>&1 &
NPID=$!
echo "$NPID" >>"$VIMON_TEST_PIDS"
echo "$NPID" >>"$W/pids"

# state SERVICE: the current_state of the service in status.dat (empty until checked).
state() {
	awk -v svc="$1" '
		/^servicestatus \{/ { inside = 1; d = ""; s = ""; c = 0 }
		inside && /^\tservice_description=/ { d = substr($0, index($0, "=") + 1) }
		inside && /^\tcurrent_state=/ { s = substr($0, index($0, "=") + 1) }
		inside && /^\thas_been_checked=/ { c = substr($0, index($0, "=") + 1) }
		inside && /^\t\}/ { if (d == svc && c == 1) print s; inside = 0 }' "$N/status.dat" 2>/dev/null
}
# force SERVICE: SCHEDULE_FORCED_SVC_CHECK through the external command file.
force() {
	[ -p "$N/nagios.cmd" ] && printf '[%s] SCHEDULE_FORCED_SVC_CHECK;vcenter;%s;%s\n' \
		"$(date +%s)" "$1" "$(date +%s)" >"$N/nagios.cmd"
}
# wait_state SERVICE WANT: forces checks until status.dat shows WANT (20 s at most).
wait_state() {
	_i=0
	while [ "$(state "$1")" != "$2" ] && [ $_i -lt 100 ]; do
		[ $((_i % 5)) = 0 ] && force "$1"
		sleep 0.2
		_i=$((_i + 1))
	done
	is "$(state "$1")" "$2" "nagios: service '$1' has state $2"
}

_i=0
while [ ! -p "$N/nagios.cmd" ] && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
check "nagios4 runs and opens its external command file" [ -p "$N/nagios.cmd" ]
wait_state "vSphere questions" 0
wait_state "vSphere tasks" 0
wait_state "VM odd" 0
wait_state "VM memory" 0
wait_state "ESX DC0_H0" 0
wait_state "Datastores" 0
wait_state "vimon collection" 0

# a power-on blocked by a question: CRITICAL; answered: OK again
simctl POST /_sim/question "{\"vm\":\"$VM\",\"id\":\"q-nag\",\"text\":\"Moved or copied?\",\"choices\":[{\"key\":\"0\",\"label\":\"Cancel\"},{\"key\":\"1\",\"label\":\"Copied\"}],\"default\":1}" >/dev/null
soap_login >/dev/null
r=$(soap PowerOnVM_Task "<_this type=\"VirtualMachine\">$VM</_this>")
like "$(xml_value "$r" returnval)" '^task-[0-9]+$' "a power-on blocked by a question"
wait_state "vSphere questions" 2
wait_state "vSphere tasks" 2
like "$(grep -A40 'service_description=vSphere questions' "$N/status.dat" | grep -m1 '^	plugin_output=')" \
	"plugin_output=VSPHERE QUESTIONS CRITICAL - 1 pending question, 1 blocking a task, oldest on VM 'odd/slash'" \
	"nagios keeps the plugin's first line"
like "$(grep -A40 'service_description=vSphere questions' "$N/status.dat" | grep -m1 '^	performance_data=')" \
	"performance_data='questions'=1;;;0 'blocking'=1;;;0 'oldest'=[0-9]+s;3600;7200;0" \
	"nagios parses the perfdata"
soap AnswerVM "<_this type=\"VirtualMachine\">$VM</_this><questionId>q-nag</questionId><answerChoice>1</answerChoice>" >/dev/null
wait_state "vSphere questions" 0
wait_state "vSphere tasks" 0
# the VM is on now: the VM service expecting it off turns CRITICAL
wait_state "VM odd" 2

kill -TERM "$NPID" 2>/dev/null
wait "$NPID" 2>/dev/null
done_testing

#!/bin/sh
# Integration: check_vsphere (every mode, OK/WARNING/CRITICAL/UNKNOWN) against the agent and
# the simulator; failures of the agent; zero vCenter logins per cached check; --direct with TLS pinning.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
VIMON=${VIMON_BUILD:-$TOP/build}/vimon
CHECK=${VIMON_BUILD:-$TOP/build}/check_vsphere
W=$VIMON_TEST_TMP/check.$$
mkdir -p "$W"
printf 'secret-pw\n' >"$W/pw"
chmod 600 "$W/pw"
. "$(dirname "$0")/agent_lib.sh"

if [ ! -x "$CHECK" ] || [ ! -x "$VIMON" ]; then
	not_ok "check_vsphere and vimon are built"
	done_testing
fi

# chk ARGS...: runs check_vsphere against the agent; OUT (stdout), RC, FIRST (first line).
chk() {
	OUT=$("$CHECK" -U "$AGENT_URL" "$@" 2>"$W/chk.err")
	RC=$?
	FIRST=$(printf '%s\n' "$OUT" | head -n 1)
}

# wait_rc WANT ARGS...: repeats chk (10 s at most) until it exits WANT.
wait_rc() {
	_want=$1
	shift
	_i=0
	while :; do
		chk "$@"
		[ "$RC" = "$_want" ] && return 0
		[ $_i -ge 100 ] && return 1
		_i=$((_i + 1))
		sleep 0.1
	done
}

# expect RC REGEX DESC ARGS...: waits for exit status RC, then checks the first line.
expect() {
	_rc=$1 _re=$2 _d=$3
	shift 3
	wait_rc "$_rc" "$@"
	like "$RC $FIRST" "^$_rc $_re" "$_d"
}

# ---- command line -----------------------------------------------------------------------
out=$("$CHECK" --help 2>/dev/null)
rc=$?
like "$rc $out" "^0 Usage: check_vsphere MODE" "--help prints the usage on stdout, exit 0"
like "$out" "costs a" "--help says that --direct costs a vCenter session"
like "$("$CHECK" -V)" '^check_vsphere \(vimon\) [0-9.]+$' "-V prints the version"
out=$("$CHECK" bogus 2>&1)
rc=$?
like "$rc $out" '^3 check_vsphere: unknown mode "bogus"' "an unknown mode exits 3 with one line"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 1 "bad arguments: exactly one line"
out=$("$CHECK" host --name x -w 10:5 2>&1)
like "$?:$out" '^3:check_vsphere: --warning: invalid threshold range "10:5"' "a malformed range exits 3"
out=$("$CHECK" vm 2>&1)
like "$?:$out" '^3:check_vsphere: mode vm needs --name NAME or --id MOREF' "vm without a name exits 3"

out=$(mandoc -T lint "$TOP/packaging/man/check_vsphere.1" 2>&1)
is "$?:$out" "0:" "the man page check_vsphere(1) passes mandoc -T lint"
for m in questions tasks vm vm-memory host datastore target; do
	grep -q "^\.It Cm $m" "$TOP/packaging/man/check_vsphere.1" || not_ok "the man page documents mode $m"
	grep -q "check_vsphere $m" "$TOP/packaging/nagios/vimon.cfg" || not_ok "vimon.cfg has a command for mode $m"
done
ok "the man page and vimon.cfg cover every mode"
missing=
for o in $("$CHECK" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "Fl \\\\-${o#--}\\b" "$TOP/packaging/man/check_vsphere.1" || missing="$missing $o"
done
is "$missing" "" "check_vsphere(1) documents every long option of --help"

# ---- agent and simulator ----------------------------------------------------------------
if ! sim_start; then
	not_ok "simulator starts"
	done_testing
fi
cat >"$W/vimon.conf" <<EOF
listen = "127.0.0.1:0";
targets = (
  { name = "sim1"; url = "$SIM_URL"; username = "monitor"; password_file = "$W/pw"; timeout = 10; }
);
EOF
if ! agent_start "$W/vimon.conf"; then
	not_ok "agent starts"
	done_testing
fi
simctl GET /_sim/inventory >"$W/inv.json"
UNI=$(py '[v["moref"] for v in j["vms"] if v["name"].startswith("%C3%B6dd") or v["name"].startswith("\u00f6dd")][0]' <"$W/inv.json")
SLASH=$(py '[v["moref"] for v in j["vms"] if v["name"] == "odd%2fslash"][0]' <"$W/inv.json")

expect 0 'VSPHERE TARGET OK - target sim1 up' "target: OK once the agent is synchronized" target -T sim1
# quiet: the agent's last update ages (one WaitForUpdatesEx waits up to 30 s)
expect 1 'VSPHERE TARGET WARNING - target sim1 up, data [0-9]+s old \(more than --max-age 1 s\)' \
	"target: WARNING when the data is older than --max-age" target -T sim1 --max-age 1
expect 0 'VSPHERE VM OK - VM .DC0_H0_VM0. \(vm-[0-9]+\) is poweredOn' "vm: OK for a powered-on VM" \
	vm --name DC0_H0_VM0

# ---- vm -----------------------------------------------------------------------------------
expect 2 "VSPHERE VM CRITICAL - VM 'odd/slash' \\($SLASH\\) is poweredOff \\(expected poweredOn\\)" \
	"vm: CRITICAL for a powered-off VM, named decoded on the command line" vm --name odd/slash
expect 0 "VSPHERE VM OK - VM 'odd/slash'" "vm: --power poweredOff makes it OK" vm --name odd/slash \
	--power poweredOff
expect 0 "VSPHERE VM OK - VM 'odd\"quote'" "vm: a name with a quote" vm --name 'odd"quote' --power poweredOff
expect 0 "VSPHERE VM OK - VM 'odd¦pipe'" "vm: a name with | (shown as ¦)" vm --name 'odd|pipe' --power poweredOff
expect 0 "VSPHERE VM OK - VM 'odd%percent'" "vm: a name with %" vm --name 'odd%percent' --power poweredOff
expect 0 "VSPHERE VM OK - VM 'ödd ünïcödé 日本'" "vm: a non-ASCII name" vm --name 'ödd ünïcödé 日本' \
	--power poweredOff
expect 0 "VSPHERE VM OK - VM 'odd/slash'" "vm: --id" vm --id "$SLASH" --power poweredOff
expect 3 "VSPHERE VM UNKNOWN - no VM named 'DC0_H0_VMX'; closest: 'DC0_H0_VM0', 'DC0_H0_VM1'" \
	"vm: an unknown VM is UNKNOWN with the closest names" vm --name DC0_H0_VMX
simctl POST /_sim/vm/power "{\"vm\":\"$SLASH\",\"state\":\"suspended\"}" >/dev/null
expect 2 "VSPHERE VM CRITICAL - VM 'odd/slash' \\($SLASH\\) is suspended" "vm: a suspended VM" \
	vm --name odd/slash --power poweredOff

# ---- vm-memory ----------------------------------------------------------------------------
expect 0 "VSPHERE VM-MEMORY OK - VM 'DC0_H0_VM0' \\(vm-[0-9]+\\) ballooned memory 0 MiB" \
	"vm-memory: OK without ballooning" vm-memory --name DC0_H0_VM0 -w 100 -c 300
like "$OUT" "'ballooned'=0B;104857600;314572800;0;[0-9]+ 'swapped'=0B;;;0;" \
	"vm-memory: perfdata in bytes, thresholds scaled, max = configured memory"
simctl POST /_sim/vm/quickstats '{"vm":"DC0_H0_VM0","balloonedMemory":200,"swappedMemory":64}' >/dev/null
expect 1 "VSPHERE VM-MEMORY WARNING - VM 'DC0_H0_VM0' .* ballooned memory 200 MiB" \
	"vm-memory: WARNING at 200 MiB ballooned (-w 100)" vm-memory --name DC0_H0_VM0 -w 100 -c 300
expect 2 "VSPHERE VM-MEMORY CRITICAL - .* swapped memory 64 MiB" "vm-memory: CRITICAL on swapped (-c 50)" \
	vm-memory --name DC0_H0_VM0 --metric swapped -w 10 -c 50
expect 1 "VSPHERE VM-MEMORY WARNING" "vm-memory: --percent of the configured memory" \
	vm-memory --name DC0_H0_VM0 --percent -w 50 -c 100000
expect 3 "VSPHERE VM-MEMORY UNKNOWN - no VM named" "vm-memory: UNKNOWN for an unknown VM" \
	vm-memory --name nope
out=$("$CHECK" vm-memory --name x --metric bogus 2>&1)
like "$?:$out" "^3:check_vsphere: --metric bogus" "vm-memory: a bad --metric exits 3"

# ---- host ---------------------------------------------------------------------------------
expect 0 "VSPHERE HOST OK - host 'DC0_C0_H2' \\(host-[0-9]+\\) connected, memory [0-9.]+% used" \
	"host: OK" host --name DC0_C0_H2
like "$OUT" "'memory_used'=[0-9]+B;;;0;[0-9]+ 'memory_size'=[0-9]+B 'memory_usage'=[0-9.]+%;85;95;0;100" \
	"host: perfdata memory used, size and usage"
expect 2 "VSPHERE HOST CRITICAL" "host: CRITICAL when usage is over -c" host --name DC0_C0_H2 -w 1 -c 2
simctl POST /_sim/host '{"host":"DC0_C0_H2","inMaintenanceMode":true}' >/dev/null
expect 1 "VSPHERE HOST WARNING - host 'DC0_C0_H2' .* in maintenance mode" "host: WARNING in maintenance" \
	host --name DC0_C0_H2
expect 2 "VSPHERE HOST CRITICAL" "host: --maintenance-state critical" host --name DC0_C0_H2 \
	--maintenance-state critical
expect 0 "VSPHERE HOST OK" "host: --maintenance-state ok" host --name DC0_C0_H2 --maintenance-state ok
simctl POST /_sim/host '{"host":"DC0_C0_H2","inMaintenanceMode":false,"connectionState":"notResponding"}' >/dev/null
expect 2 "VSPHERE HOST CRITICAL - host 'DC0_C0_H2' .*notResponding" "host: CRITICAL when not connected" \
	host --name DC0_C0_H2
expect 3 "VSPHERE HOST UNKNOWN - no host named 'DC0_C0_H9'; closest: 'DC0_C0_H" \
	"host: UNKNOWN for an unknown host" host --name DC0_C0_H9

# ---- datastore ----------------------------------------------------------------------------
expect 0 "VSPHERE DATASTORE OK - datastore 'LocalDS_0': [0-9.]+% used" "datastore: OK" datastore
CAP=$(curl -s "$AGENT_URL/api/v1/datastores?name=LocalDS_0" | py 'int(j[0]["capacity_bytes"])')
like "$OUT" "'LocalDS_0 used'=[0-9]+B;$((CAP * 80 / 100))(\\.[0-9]+)?;$((CAP * 90 / 100))(\\.[0-9]+)?;0;$CAP 'LocalDS_0 usage'=[0-9.]+%;80;90;0;100" \
	"datastore: perfdata used bytes (thresholds in bytes, max = capacity) and usage %"
simctl POST /_sim/datastore "{\"datastore\":\"LocalDS_0\",\"freeSpace\":$((CAP * 15 / 100))}" >/dev/null
expect 1 "VSPHERE DATASTORE WARNING - datastore 'LocalDS_0': 85.0% used" "datastore: WARNING at 85% used" \
	datastore --name LocalDS_0
expect 2 "VSPHERE DATASTORE CRITICAL" "datastore: --free -w 100G: -c 10G: (15% of the capacity is below 10 GiB)" \
	datastore --free -w 100G: -c 10G:
like "$OUT" "'LocalDS_0 used'=[0-9]+B;~:$((CAP - 107374182400));~:$((CAP - 10737418240));0;$CAP 'LocalDS_0 free'=[0-9]+B;107374182400:;10737418240:;0;" \
	"datastore: --free perfdata in bytes, the free thresholds mirrored onto the used bytes"
simctl POST /_sim/datastore "{\"datastore\":\"LocalDS_0\",\"freeSpace\":$((CAP / 2)),\"accessible\":false}" >/dev/null
expect 2 "VSPHERE DATASTORE CRITICAL - datastore 'LocalDS_0': 50.0% used.*inaccessible" \
	"datastore: CRITICAL when inaccessible" datastore --include '^Local'
expect 3 "VSPHERE DATASTORE UNKNOWN - no datastore matches the name 'nope'" "datastore: UNKNOWN when none matches" \
	datastore --name nope
expect 3 "VSPHERE DATASTORE UNKNOWN - no datastore matches" "datastore: --exclude leaves none" \
	datastore --exclude Local

# ---- questions and tasks: raise, block a power-on, answer ---------------------------------
expect 0 "VSPHERE QUESTIONS OK - no pending question" "questions: OK without questions" questions
expect 0 "VSPHERE TASKS OK - 0 active tasks" "tasks: OK without tasks" tasks
simctl POST /_sim/question "{\"vm\":\"$UNI\",\"id\":\"q-chk\",\"text\":\"Did you move it?\\nSecond line\",\"message_ids\":[\"msg.uuid.altered\"],\"choices\":[{\"key\":\"0\",\"label\":\"Cancel\"},{\"key\":\"1\",\"label\":\"I moved it\"},{\"key\":\"2\",\"label\":\"I copied it\"}],\"default\":2}" >/dev/null
expect 1 "VSPHERE QUESTIONS WARNING - 1 pending question, oldest on VM 'ödd ünïcödé 日本' for [0-9]+s" \
	"questions: WARNING for a pending question (default -w 0)" questions
like "$OUT" "pending: VM 'ödd ünïcödé 日本' \\($UNI\\) question q-chk \\[msg.uuid.altered\\]: Did you move it\\?; choices: 0=Cancel, 1=I moved it, 2=I copied it \\(default\\); pending [0-9]+s" \
	"questions: the long output lists VM, ids, first line, choices with the default, age"
expect 0 "VSPHERE QUESTIONS OK - no pending question" "questions: --exclude on the VM name" questions \
	--exclude '^ödd'
expect 0 "VSPHERE QUESTIONS OK - no pending question" "questions: --vm of another VM" questions --vm odd/slash
expect 2 "VSPHERE QUESTIONS CRITICAL" "questions: -c 0 (any age is critical)" questions --vm 'ödd ünïcödé 日本' -c 0
soap_login >/dev/null
r=$(soap PowerOnVM_Task "<_this type=\"VirtualMachine\">$UNI</_this>")
TASK=$(xml_value "$r" returnval)
like "$TASK" '^task-[0-9]+$' "a power-on blocked by the question ($TASK)"
expect 2 "VSPHERE QUESTIONS CRITICAL - 1 pending question, 1 blocking a task" \
	"questions: CRITICAL while the question blocks the power-on" questions -w 3600 -c 7200
like "$OUT" "blocks $TASK" "questions: the long output names the blocked task"
expect 2 "VSPHERE TASKS CRITICAL - 1 active task, 1 blocked by a question" "tasks: CRITICAL for the blocked task" tasks
like "$OUT" "CRITICAL: task $TASK PowerOnVM_Task on 'ödd ünïcödé 日本' \\($UNI\\) running for [0-9]+s, blocked by question q-chk" \
	"tasks: the long output names task, entity and question"
soap AnswerVM "<_this type=\"VirtualMachine\">$UNI</_this><questionId>q-chk</questionId><answerChoice>2</answerChoice>" >/dev/null
expect 0 "VSPHERE QUESTIONS OK - no pending question" "questions: OK after the answer" questions
expect 0 "VSPHERE TASKS OK - 0 active tasks" "tasks: OK once the power-on has finished" tasks
expect 3 "VSPHERE QUESTIONS UNKNOWN - the agent has no target nope" "questions: UNKNOWN for an unknown target" \
	questions -T nope
expect 3 "VSPHERE TARGET UNKNOWN - the agent has no target nope" "target: UNKNOWN for an unknown target" \
	target -T nope
expect 3 "VSPHERE TASKS UNKNOWN - the agent has no target nope \\(it has: sim1\\)" "tasks: UNKNOWN for an unknown target" \
	tasks -T nope

# ---- --extra-opts ---------------------------------------------------------------------------
printf '[vimon_vm]\nname = odd/slash\npower=suspended\n; a comment\n' >"$W/plugins.ini"
expect 0 "VSPHERE VM OK - VM 'odd/slash'" "--extra-opts=SECTION@FILE supplies options" vm \
	--extra-opts=vimon_vm@"$W/plugins.ini"
expect 2 "VSPHERE VM CRITICAL" "the command line wins over --extra-opts" vm \
	--extra-opts=vimon_vm@"$W/plugins.ini" --power poweredOn
mkdir -p "$W/etc"
printf '[check_vsphere]\nname=odd/slash\npower=suspended\n' >"$W/etc/plugins.ini"
OUT=$(NAGIOS_CONFIG_PATH="$W/etc" "$CHECK" vm -U "$AGENT_URL" --extra-opts 2>&1)
like "$?:$OUT" "^0:VSPHERE VM OK - VM 'odd/slash'" "--extra-opts alone: section check_vsphere of plugins.ini in NAGIOS_CONFIG_PATH"
out=$("$CHECK" vm --extra-opts=nosuch@"$W/plugins.ini" 2>&1)
like "$?:$out" "^3:check_vsphere: --extra-opts: no section \\[nosuch\\]" "--extra-opts: a missing section exits 3"

chk vm --name DC0_H0_VM1 -v
like "$OUT" "$AGENT_URL: 2 requests, [0-9]+ bytes received in [0-9.]+ ms" "-v: what the check cost (2 requests)"
chk vm --name DC0_H0_VM1 -vv
like "$OUT" "GET $AGENT_URL/api/v1/vms\\?name=DC0_H0_VM1: HTTP 200, [0-9]+ bytes" "-vv: each request"

# ---- 100 cached checks: zero vCenter logins -----------------------------------------------
simctl POST /_sim/stats/reset '{}' >/dev/null
i=0
bad=0
while [ $i -lt 100 ]; do
	case $((i % 4)) in
	0) chk questions ;;
	1) chk vm --name DC0_H0_VM1 ;;
	2) chk datastore ;;
	3) chk host --name DC0_H0 ;;
	esac
	[ "$RC" = 3 ] && bad=$((bad + 1))
	i=$((i + 1))
done
is "$bad" 0 "100 checks in a row, none UNKNOWN"
STATS=$(simctl GET /_sim/stats)
is "$(printf '%s' "$STATS" | py 'j["calls"].get("Login", 0)')" 0 "100 checks cause zero Login calls on the simulator"
is "$(printf '%s' "$STATS" | py 'j["calls"].get("RetrievePropertiesEx", 0)')" 0 "... and zero RetrievePropertiesEx"

# ---- two targets: -T is required when the mode names one object ----------------------------
FIRST_PID=$AGENT_PID FIRST_URL=$AGENT_URL
cat >"$W/two.conf" <<EOF
listen = "127.0.0.1:0";
targets = (
  { name = "a"; url = "$SIM_URL"; username = "monitor"; password_file = "$W/pw"; },
  { name = "b"; url = "$SIM_URL"; username = "monitor"; password_file = "$W/pw"; }
);
EOF
if agent_start "$W/two.conf"; then
	expect 0 "VSPHERE TARGET OK - 2 targets, 0 down, 0 stale" "two targets: both up" target
	expect 3 "VSPHERE VM UNKNOWN - the agent has several targets: name one with -T" \
		"two targets: vm without -T is UNKNOWN" vm --name DC0_H0_VM0
	expect 0 "VSPHERE VM OK - VM 'DC0_H0_VM0'" "two targets: vm -T b" vm --name DC0_H0_VM0 -T b
	expect 2 "VSPHERE DATASTORE CRITICAL - 2 datastores, 2 with a problem" \
		"two targets: datastore without -T reads every target" datastore
	like "$OUT" "datastore 'LocalDS_0' \\(a\\)" "two targets: the long output names the target"
	agent_stop
else
	not_ok "agent with two targets starts"
fi
AGENT_PID=$FIRST_PID AGENT_URL=$FIRST_URL

# ---- output cap -----------------------------------------------------------------------------
chk datastore
is "$(printf '%s\n' "$OUT" | wc -c | awk '{print ($1 <= 8192)}')" 1 "output within 8 KiB"

# ---- the agent unreachable, hung, stale ---------------------------------------------------
PORT=$(free_port)
OUT=$("$CHECK" vm --name x -H 127.0.0.1 -p "$PORT" 2>&1)
like "$?:$OUT" "^3:VSPHERE VM UNKNOWN - cannot read the vimon agent at http://127.0.0.1:$PORT/api/v1/targets: .*connect" \
	"agent stopped: UNKNOWN naming the URL"
HUNG=$(free_port)
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); print("ready", flush=True)
c=[]
while True: c.append(s.accept()[0])' "$HUNG" >"$W/hung.out" &
echo $! >>"$VIMON_TEST_PIDS"
echo $! >>"$W/pids"
wait_file "$W/hung.out"
t0=$(date +%s%N)
OUT=$("$CHECK" questions -p "$HUNG" -t 2 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
like "$rc:$OUT" "^3:VSPHERE QUESTIONS UNKNOWN - .*(timed out|no answer within 2 s)" "a port that never answers: UNKNOWN"
check "... within -t + 1 s (${ms} ms)" [ "$ms" -lt 3000 ]
OUT=$("$CHECK" questions -p "$HUNG" -t 1.5 2>&1)
like "$?:$OUT" "^3:VSPHERE QUESTIONS UNKNOWN" "a fractional -t works too"

# the simulator goes away: the target is down; past --max-age the data is UNKNOWN
sim_stop >/dev/null
expect 2 "VSPHERE TARGET CRITICAL - target sim1 down: " "target: CRITICAL when down, with the last error" target -T sim1
sleep 2
expect 3 "VSPHERE VM UNKNOWN - target sim1: data [0-9]+s old, more than --max-age 1 s \\(down: " \
	"a target down longer than --max-age: UNKNOWN naming the target and the age" vm --name DC0_H0_VM0 --max-age 1
expect 2 "VSPHERE TARGET CRITICAL - 1 target, 1 down, 1 stale" "target: all targets, down and stale" \
	target --max-age 1
agent_stop
chk questions
like "$RC:$FIRST" "^3:VSPHERE QUESTIONS UNKNOWN - cannot read the vimon agent at $AGENT_URL/api/v1/targets: " \
	"the agent stopped: UNKNOWN naming its URL"

# ---- --direct against the TLS simulator with pinning --------------------------------------
if ! sim_start -tls; then
	not_ok "TLS simulator starts"
	done_testing
fi
cat >"$W/direct.conf" <<EOF
targets = (
  { name = "tls1"; url = "$SIM_URL"; username = "monitor"; password_file = "$W/pw";
    thumbprint = "$SIM_SHA256"; timeout = 10; },
  { name = "badpin"; url = "$SIM_URL"; username = "monitor"; password_file = "$W/pw";
    thumbprint = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"; }
);
EOF
simctl POST /_sim/stats/reset '{}' >/dev/null
OUT=$("$CHECK" vm --direct -c "$W/direct.conf" -T tls1 --name odd/slash --power poweredOff 2>&1)
like "$?:$OUT" "^0:VSPHERE VM OK - VM 'odd/slash'" "--direct vm: OK through the pinned certificate"
OUT=$("$CHECK" datastore --direct -c "$W/direct.conf" -T tls1 2>&1)
like "$?:$OUT" "^0:VSPHERE DATASTORE OK - datastore 'LocalDS_0'" "--direct datastore: OK"
OUT=$("$CHECK" host --direct -c "$W/direct.conf" -T tls1 --name DC0_H0 2>&1)
like "$?:$OUT" "^0:VSPHERE HOST OK - host 'DC0_H0'" "--direct host: OK"
STATS=$(simctl GET /_sim/stats)
OUT=$("$CHECK" host --direct -c "$W/direct.conf" -T tls1 --name DC0_H0 -w 0.5 --critical 1 2>&1)
like "$?:$OUT" "^2:VSPHERE HOST CRITICAL - host 'DC0_H0'" "--direct: -c is the configuration, --critical the range"
is "$(printf '%s' "$STATS" | py 'j["calls"].get("Login", 0)')" 3 "--direct: one Login per check (3 checks)"
is "$(printf '%s' "$STATS" | py 'j["calls"].get("Logout", 0)')" 3 "--direct: one Logout per check, no session left"
is "$(printf '%s' "$STATS" | py 'j["calls"].get("RetrievePropertiesEx", 0)')" 3 "--direct: one RetrievePropertiesEx per check"
is "$(printf '%s' "$STATS" | py 'j["calls"].get("ContinueRetrievePropertiesEx", 0)')" 0 "--direct: no paging"
OUT=$("$CHECK" questions --direct -c "$W/direct.conf" -T tls1 -v 2>&1)
like "$?:$OUT" "^0:VSPHERE QUESTIONS OK - no pending question" "--direct questions: OK"
like "$OUT" "--direct: 5 vCenter calls, [0-9]+ bytes received" "--direct -v: the calls of one check (content, login, view, retrieve, logout)"
OUT=$("$CHECK" vm --direct -c "$W/direct.conf" -T badpin --name odd/slash 2>&1)
like "$?:$OUT" "^3:VSPHERE VM UNKNOWN - .*thumbprint mismatch" "--direct: a wrong pin is UNKNOWN, the pin is enforced"
# the simulator's own session list: only the test's session, none left by the checks
rm -f "$VIMON_TEST_TMP/cookies"
soap_login >/dev/null
r=$(soap RetrievePropertiesEx "<_this type=\"PropertyCollector\">$SIM_PC</_this><specSet><propSet><type>SessionManager</type><pathSet>sessionList</pathSet></propSet><objectSet><obj type=\"SessionManager\">$SIM_SM</obj></objectSet></specSet><options/>")
is "$(printf '%s' "$r" | grep -o '<key>' | wc -l | tr -d ' ')" 1 "--direct: no session left on the server (sessionList holds only the test's own)"
OUT=$("$CHECK" tasks --direct -c "$W/direct.conf" -T tls1 2>&1)
like "$?:$OUT" "^3:VSPHERE TASKS UNKNOWN - .*mode tasks needs the agent" "--direct: tasks says it needs the agent"
OUT=$("$CHECK" vm --direct -c "$W/direct.conf" -T nope --name x 2>&1)
like "$?:$OUT" "^3:VSPHERE VM UNKNOWN - .*has no target named nope" "--direct: an unknown target is UNKNOWN"
unlike "$(cat "$W"/*.err 2>/dev/null; printf '%s' "$OUT")" "secret-pw" "the password is never shown"

done_testing

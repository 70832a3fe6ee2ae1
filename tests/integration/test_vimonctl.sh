#!/bin/sh
# Integration tests of vimonctl against vimon-sim: every command, the question algorithm from
# the command line, odd and ambiguous VM names, exit codes 0/1/2/3, AnswerVM/CancelTask
# counts and the logout after every run.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${VIMON_BUILD:-$TOP/build}
CTL=$BUILD/vimonctl
T=$VIMON_TEST_TMP/vimonctl.$$
mkdir -p "$T"

if [ ! -x "$CTL" ]; then
	skip "vimonctl" "$CTL not built"
	done_testing
fi
if ! sim_start; then
	not_ok "simulator started"
	done_testing
fi

printf 'secret\n' >"$T/pw"
chmod 600 "$T/pw"
cat >"$T/vimon.conf" <<EOF
listen = "127.0.0.1:0";
targets = ( { name = "sim"; url = "$SIM_URL"; username = "ops"; password_file = "$T/pw"; timeout = 20; } );
EOF
CONF=$T/vimon.conf

# ctl ARGS...: runs vimonctl on the simulator; stdout in $OUT, stderr in $ERR, status in $RC.
ctl() {
	"$CTL" -c "$CONF" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(grep -v 'warning: target sim: plain http' "$T/err")
}

# calls METHOD: how many times the simulator got METHOD since the last stats reset.
calls() {
	_n=$(simctl GET /_sim/stats | jq -r ".calls[\"$1\"] // 0")
	echo "${_n:-0}"
}
reset_stats() { simctl POST /_sim/stats/reset '{}' >/dev/null; }

inv=$(simctl GET /_sim/inventory)
moref() { printf '%s' "$inv" | jq -r --arg n "$1" '.vms[] | select(.name == $n) | .moref'; }
power() { simctl GET /_sim/inventory | jq -r --arg m "$1" '.vms[] | select(.moref == $m) | .power'; }

# ---- help, version, usage and configuration errors (exit 2) -------------------------------
"$CTL" --help >"$T/out" 2>&1
is "$?" "0" "--help exits 0"
like "$(cat "$T/out")" 'questions \[--json\]' "--help lists the questions command"
like "$(cat "$T/out")" 'A name several VMs share lists them and exits 2' "--help says an ambiguous name exits 2"
like "$(cat "$T/out")" 'AGE is the time since the oldest queued or running task' "--help says what AGE is"
is "$("$CTL" --version)" "vimonctl 0.1.0" "--version"
"$CTL" -c "$CONF" >/dev/null 2>&1
is "$?" "2" "no command: exit 2"
ctl frobnicate
is "$RC" "2" "an unknown command: exit 2"
like "$ERR" 'unknown command "frobnicate"' "and says so"
ctl answer DC0_H0_VM0
is "$RC" "2" "answer without --choice or --default: exit 2"
ctl power-on DC0_H0_VM0 --timeout 0
is "$RC" "2" "--timeout 0: exit 2"
"$CTL" -c "$T/nope.conf" questions >"$T/out" 2>&1
is "$?" "2" "a missing configuration file: exit 2"
chmod 644 "$T/pw"
ctl questions
is "$RC" "2" "a password file readable by others is refused: exit 2"
like "$ERR" 'password_file' "the problem names password_file"
chmod 600 "$T/pw"
cat >"$T/two.conf" <<EOF
targets = ( { name = "a"; url = "$SIM_URL"; username = "ops"; password_file = "$T/pw"; },
            { name = "b"; url = "$SIM_URL"; username = "ops"; password_file = "$T/pw"; } );
EOF
"$CTL" -c "$T/two.conf" questions >"$T/out" 2>"$T/err"
is "$?" "2" "two targets and no -T: exit 2"
like "$(cat "$T/err")" 'has 2 targets: choose one with -T NAME' "and says to choose with -T"
"$CTL" -c "$T/two.conf" -T c questions >"$T/out" 2>"$T/err"
is "$?" "2" "-T with an unknown target: exit 2"
"$CTL" -c "$T/two.conf" -T b questions >"$T/out" 2>"$T/err"
is "$?" "0" "-T picks a target"

if command -v mandoc >/dev/null 2>&1; then
	check "mandoc -T lint: vimonctl(8) is clean" mandoc -T lint "$TOP/packaging/man/vimonctl.8"
else
	skip "mandoc -T lint vimonctl(8)" "mandoc not installed"
fi

# ---- cannot reach or log in (exit 3) --------------------------------------------------------
port=$(free_port)
cat >"$T/down.conf" <<EOF
targets = ( { name = "down"; url = "http://127.0.0.1:$port/sdk"; username = "ops"; password_file = "$T/pw"; timeout = 5; } );
EOF
"$CTL" -c "$T/down.conf" questions >"$T/out" 2>"$T/err"
is "$?" "3" "a target nobody listens on: exit 3"
like "$(cat "$T/err")" 'cannot log in to down' "and says it cannot log in"
# a usage error is exit 2 whether the target answers or not, and costs no login
for args in "answer" "answer vm-1" "power-on vm-1 --timeout 0" "tasks a b" "cancel" "questions x"; do
	# shellcheck disable=SC2086
	"$CTL" -c "$T/down.conf" $args >"$T/out" 2>"$T/err"
	is "$?" "2" "usage error \"$args\" with the target down: exit 2"
done
unlike "$(cat "$T/err")" 'cannot log in' "a usage error does not try to log in"
reset_stats
"$CTL" -c "$CONF" answer vm-1 >"$T/out" 2>"$T/err"
is "$?:$(calls Login)" "2:0" "a usage error against a live target: exit 2 and no Login"
printf 'wrong\n' >"$T/badpw"
chmod 600 "$T/badpw"
sed "s|$T/pw|$T/badpw|" "$CONF" >"$T/bad.conf"
"$CTL" -c "$T/bad.conf" questions >"$T/out" 2>"$T/err"
is "$?" "3" "a refused login: exit 3"
unlike "$(cat "$T/err")" 'wrong' "the password is not printed"

# ---- questions ------------------------------------------------------------------------------
reset_stats
ctl questions
is "$RC" "0" "questions with none pending: exit 0"
is "$OUT" "$(printf 'TARGET  VM  VM_ID  QUESTION  MESSAGE  AGE  TEXT  CHOICES')" "only the header"
is "$(calls Logout)" "1" "vimonctl logged out"

SLASH=$(moref 'odd%2fslash')
simctl POST /_sim/question "{\"vm\":\"$SLASH\",\"id\":\"q-slash\",\"preset\":\"msg.uuid.altered\"}" >/dev/null
ctl questions
is "$RC" "0" "questions: exit 0"
like "$OUT" "^sim +odd/slash +$SLASH +q-slash +msg.uuid.altered +- +This virtual machine might have been moved or copied" \
	"a row: target, decoded VM name, vm_id, question id, message id, age - (no task blocked)"
like "$OUT" '0 button.uuid.cancel "Cancel", 1 button.uuid.movedTheVM "I _Moved It", \*2 button.uuid.copiedTheVM "I _Copied It"$' \
	"choices with keys, labels, summaries and the default marked"
simctl POST /_sim/vm/power "{\"vm\":\"$SLASH\",\"state\":\"poweredOff\"}" >/dev/null
r=$(soap_login)
r=$(soap PowerOnVM_Task "<_this type=\"VirtualMachine\">$SLASH</_this>")
BLOCKED=$(xml_value "$r" returnval)
sleep 1.1
ctl questions --json
is "$RC" "0" "questions --json: exit 0"
is "$(printf '%s' "$OUT" | jq -r '.[0].vm')" "odd/slash" "--json: vm is the decoded name"
is "$(printf '%s' "$OUT" | jq -r '.[0].vm_id + " " + .[0].id + " " + .[0].message_id + " " + .[0].default')" \
	"$SLASH q-slash msg.uuid.altered 2" "--json: vm_id, id, message_id, default"
is "$(printf '%s' "$OUT" | jq -r '[.[0].choices[] | .key + "=" + .label + "=" + .summary + "=" + (.default|tostring)] | join(",")')" \
	"0=button.uuid.cancel=Cancel=false,1=button.uuid.movedTheVM=I _Moved It=false,2=button.uuid.copiedTheVM=I _Copied It=true" \
	"--json: every choice with key, label, summary and default"
is "$(printf '%s' "$OUT" | jq -r '.[0].blocked_tasks[0] + " " + .[0].age_from.kind + " " + .[0].age_from.task')" \
	"$BLOCKED task_queue_time $BLOCKED" "--json: the blocked task, and the age comes from its queue time"
is "$(jq '.[0].age_seconds >= 1' "$T/out")" "true" "--json: the age is at least a second"
ctl questions
like "$OUT" "q-slash +msg.uuid.altered +[1-9][0-9]*s " "the table's AGE is the blocked task's age"

# ---- tasks ----------------------------------------------------------------------------------
ctl tasks odd/slash
is "$RC" "0" "tasks VM: exit 0"
like "$OUT" "$BLOCKED +PowerOnVM_Task +odd/slash +$SLASH +running +no +[0-9]+s ago +-" \
	"tasks lists the blocked power-on: running, not cancelable, its age"
ctl tasks
like "$OUT" "$BLOCKED +PowerOnVM_Task" "tasks without a VM lists it too"

# ---- blocked power-on without and with --auto-answer ----------------------------------------
reset_stats
ctl power-on odd/slash
is "$RC" "1" "power-on blocked by a question without --auto-answer: exit 1"
like "$ERR" "blocked: question q-slash blocks VM odd/slash \\($SLASH\\) and its task $BLOCKED; not starting power-on \\(no auto-answer\\)" \
	"it reports the question and does not start"
is "$(calls AnswerVM) $(calls PowerOnVM_Task) $(calls CancelTask)" "0 0 0" "nothing answered, started or cancelled"

# a wrong choice: refused, the offered ones named
ctl answer odd/slash --choice 'I Cloned It'
is "$RC" "1" "answer with a choice not offered: exit 1"
like "$ERR" '"I Cloned It" is not a choice of question q-slash; offered: 0 \(button.uuid.cancel "Cancel"\), 1 \(button.uuid.movedTheVM "I _Moved It"\), 2 \(button.uuid.copiedTheVM "I _Copied It"\); nothing sent' \
	"it names the offered choices"
ctl answer odd/slash --default --question q-other
is "$RC" "1" "answer --question with another id: exit 1"
like "$ERR" 'question q-other is not pending on VM odd/slash' "and says which is"
is "$(calls AnswerVM)" "0" "no AnswerVM sent for refused answers"

ctl power-on odd/slash --auto-answer
is "$RC" "1" "power-on --auto-answer with a pending question: exit 1 (not started)"
like "$ERR" "answered-not-started: answered question q-slash of VM odd/slash \\($SLASH\\) with choice 2 \\(button.uuid.copiedTheVM \"I _Copied It\"\\); the blocked task $BLOCKED continues; not starting power-on" \
	"answered with the default; the blocked task continues"
is "$(calls AnswerVM) $(calls PowerOnVM_Task)" "1 0" "one AnswerVM, no new power-on"
is "$(power "$SLASH")" "poweredOn" "the blocked power-on went ahead"
is "$(calls Logout)" "$(calls Login)" "every run logged out (Login = Logout)"

# ---- answer ---------------------------------------------------------------------------------
PCT=$(moref 'odd%25percent')
simctl POST /_sim/question "{\"vm\":\"$PCT\",\"id\":\"q-pct\",\"preset\":\"msg.uuid.altered\"}" >/dev/null
reset_stats
ctl answer 'odd%percent' --choice 'I Moved It' --question q-pct
is "$RC" "0" "answer by summary without the mnemonic: exit 0"
is "$OUT" "answered question q-pct of VM odd%percent ($PCT) with choice 1 (button.uuid.movedTheVM \"I _Moved It\")" \
	"it says which choice was sent"
is "$(calls AnswerVM)" "1" "one AnswerVM"
ctl answer 'odd%percent' --default
is "$RC" "1" "answer with no question pending: exit 1"
like "$ERR" 'has no pending question' "and says so"
simctl POST /_sim/question "{\"vm\":\"$PCT\",\"id\":\"q-pct2\",\"preset\":\"msg.serial.file.open\"}" >/dev/null
ctl answer "$PCT" --choice button.replace
is "$RC" "0" "answer by moref and label: exit 0"
like "$OUT" 'with choice 1 \(button.replace "Replace"\)' "the label's key was sent"

# ---- a pending task refuses a new one; cancel ------------------------------------------------
QUOTE=$(moref 'odd"quote')
simctl POST /_sim/vm/power "{\"vm\":\"$QUOTE\",\"state\":\"poweredOn\"}" >/dev/null
simctl POST /_sim/question "{\"vm\":\"$QUOTE\",\"preset\":\"msg.uuid.altered\",\"during_next_task_ms\":60000}" >/dev/null
reset_stats
ctl suspend 'odd"quote' --no-wait
is "$RC" "0" "suspend --no-wait: exit 0"
like "$OUT" "suspend of VM odd\"quote \\($QUOTE\\): task task-[0-9]+ started \\(not waiting\\)" "it says the task started"
RUNNING=$(printf '%s' "$OUT" | sed 's/.*task \(task-[0-9]*\) started.*/\1/')
ctl reset 'odd"quote' --auto-answer
is "$RC" "1" "reset while a task is pending: exit 1"
like "$ERR" "other-task: task $RUNNING \\(SuspendVM_Task, running\\) is pending on VM odd\"quote \\($QUOTE\\); not starting reset" \
	"it names the pending task"
is "$(calls ResetVM_Task)" "0" "no reset was started"
ctl cancel "$RUNNING"
is "$RC" "0" "cancel TASK: exit 0"
is "$OUT" "cancelled task $RUNNING" "it says so"
ctl cancel "$RUNNING"
is "$RC" "1" "cancelling it again: exit 1"
like "$ERR" 'already completed' "the server's reason"
is "$(calls CancelTask)" "2" "two CancelTask calls"
is "$(power "$QUOTE")" "poweredOn" "the cancelled suspend left the VM on"

# ---- a question raised while the task runs ---------------------------------------------------
PIPE=$(moref 'odd|pipe')
simctl POST /_sim/vm/power "{\"vm\":\"$PIPE\",\"state\":\"poweredOn\"}" >/dev/null
simctl POST /_sim/question "{\"vm\":\"$PIPE\",\"preset\":\"msg.uuid.altered\",\"during_next_task_ms\":300}" >/dev/null
reset_stats
ctl power-off 'odd|pipe'
is "$RC" "1" "power-off, a question raised while it runs, no --auto-answer: exit 1"
like "$ERR" "cancelled: power-off of VM odd\\|pipe \\($PIPE\\): question [0-9]+ blocked task task-[0-9]+ \\(no auto-answer\\); cancelled task-" \
	"the cancelable task is cancelled"
is "$(calls CancelTask) $(calls AnswerVM)" "1 0" "one CancelTask, no AnswerVM"
simctl POST /_sim/question/clear "{\"vm\":\"$PIPE\"}" >/dev/null
simctl POST /_sim/question "{\"vm\":\"$PIPE\",\"preset\":\"msg.uuid.altered\",\"during_next_task_ms\":300}" >/dev/null
ctl power-off 'odd|pipe' --auto-answer
is "$RC" "0" "the same with --auto-answer: exit 0"
like "$OUT" "power-off of VM odd\\|pipe \\($PIPE\\): task task-[0-9]+ succeeded; answered question [0-9]+ on the way with choice 2" \
	"answered on the way, the task succeeded"
is "$(calls AnswerVM)" "1" "one AnswerVM"
# a question id with a line break (XML carries no other control character): one line
simctl POST /_sim/vm/power "{\"vm\":\"$PIPE\",\"state\":\"poweredOn\"}" >/dev/null
simctl POST /_sim/question "{\"vm\":\"$PIPE\",\"id\":\"q\\nvimonctl: forged line\",\"preset\":\"msg.uuid.altered\",\"during_next_task_ms\":300}" >/dev/null
ctl power-off 'odd|pipe' --auto-answer
is "$RC" "0" "power-off --auto-answer, a question id with a line break: exit 0"
is "$(wc -l <"$T/out" | tr -d ' ')" "1" "the server's id cannot add a line to the output"
like "$OUT" 'answered question q\\x0avimonctl: forged line on the way' "the line break is shown escaped"
UNI=$(moref 'ödd ünïcödé 日本')
simctl POST /_sim/question "{\"vm\":\"$UNI\",\"preset\":\"msg.uuid.altered\",\"during_next_task_ms\":300}" >/dev/null
ctl power-on 'ödd ünïcödé 日本'
is "$RC" "1" "power-on, a question while it runs, no --auto-answer: exit 1"
like "$ERR" "blocked: power-on of VM ödd ünïcödé 日本 \\($UNI\\): question [0-9]+ blocks task task-[0-9]+ \\(no auto-answer\\); task task-[0-9]+ cannot be cancelled and stays blocked until the question is answered" \
	"power-on cannot be cancelled: said so"
is "$(calls CancelTask)" "1" "no CancelTask tried for the power-on"
simctl POST /_sim/question/clear "{\"vm\":\"$UNI\"}" >/dev/null

# ---- odd names ------------------------------------------------------------------------------
BACK=$(moref 'odd%5cback')
ctl power-on 'odd\back'
is "$RC" "0" "power-on odd\\back: exit 0"
like "$OUT" "power-on of VM odd\\\\back \\($BACK\\): task task-[0-9]+ succeeded" "the name is found encoded and shown decoded"
ctl power-on 'odd%2fslash'
is "$RC" "1" "the stored (encoded) form is not the display name: exit 1"
like "$ERR" 'no VM named "odd%2fslash"' "no such VM"
ctl shutdown 'ödd ünïcödé 日本'
is "$RC" "0" "shutdown (guest) of the non-ASCII VM: exit 0"
like "$OUT" "shutdown of VM ödd ünïcödé 日本 \\($UNI\\): ShutdownGuest done, the VM is poweredOff" "it waited for poweredOff"
ctl shutdown "$UNI"
is "$RC" "1" "shutdown of a powered-off VM: exit 1"
like "$ERR" 'InvalidPowerState' "the server's refusal"

# ---- guest operations, timeout ----------------------------------------------------------------
V0=$(moref DC0_H0_VM0)
simctl POST /_sim/vm/power "{\"vm\":\"$V0\",\"state\":\"poweredOn\"}" >/dev/null
ctl standby DC0_H0_VM0
is "$RC" "0" "standby: exit 0"
is "$(power "$V0")" "suspended" "the VM is suspended"
simctl POST /_sim/vm/power "{\"vm\":\"$V0\",\"state\":\"poweredOn\"}" >/dev/null
ctl reboot DC0_H0_VM0
is "$RC" "0" "reboot: exit 0"
simctl POST /_sim/vm/guest "{\"vm\":\"$V0\",\"ignore\":true}" >/dev/null
ctl shutdown DC0_H0_VM0 --timeout 1
is "$RC" "1" "shutdown of a guest that ignores it, --timeout 1: exit 1"
like "$ERR" 'timeout: shutdown of VM DC0_H0_VM0 .*the VM is still poweredOn after 1 s' "timed out, said so"
simctl POST /_sim/vm/guest "{\"vm\":\"$V0\",\"ignore\":false}" >/dev/null

# ---- an ambiguous name ----------------------------------------------------------------------
V1=$(moref DC0_H0_VM1)
simctl POST /_sim/vm/rename "{\"vm\":\"$V1\",\"name\":\"DC0_H0_VM0\"}" >/dev/null
reset_stats
ctl power-off DC0_H0_VM0
is "$RC" "2" "an ambiguous name: exit 2"
like "$ERR" '2 VMs are named "DC0_H0_VM0" on sim; name one by its moref:' "it says the name is ambiguous"
like "$ERR" "$V0  DC0_H0_VM0" "it lists the first candidate"
like "$ERR" "$V1  DC0_H0_VM0" "it lists the second candidate"
is "$(calls PowerOffVM_Task)" "0" "nothing was started"
ctl power-off "$V1"
is "$RC" "0" "by moref: exit 0"
is "$(power "$V1")" "poweredOff" "the VM named by moref is off"
is "$(calls Logout)" "$(calls Login)" "every run logged out"

sim_stop
rm -rf "$T"
done_testing

#!/bin/sh
# Integration: the agent's remediation module and HTTP actions against the simulator.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
VIMON=${VIMON_BUILD:-$TOP/build}/vimon
W=$VIMON_TEST_TMP/remediation.$$
mkdir -p "$W"
printf 'pw\n' >"$W/pw"
chmod 600 "$W/pw"
TOKEN=tok-0123456789-abcdef-SECRET
printf '%s\n' "$TOKEN" >"$W/token"
chmod 600 "$W/token"

. "$(dirname "$0")/agent_lib.sh"

if [ ! -x "$VIMON" ] || ! command -v jq >/dev/null 2>&1; then
	not_ok "vimon ($VIMON) and jq are installed"
	done_testing
fi

# ------------------------------------------------------------------------------------------
# Configuration checks

cat >"$W/bad.conf" <<EOF
targets = ( { name = "sim"; url = "https://vc/sdk"; username = "u"; password_file = "$W/pw"; } );
remediation = {
  enabled = true;
  min_pending = -1;
  colour = "red";
  rules = (
    { message_id = "msg.uuid.altered"; answer = "2"; },
    { message_id = "msg.uuid.altered"; vm = "(unclosed"; answer = "default"; },
    { message_id = "x"; action = "reboot"; },
    { message_id = "x"; answer = "default"; target = "nope"; },
    { answer = "default"; }
  );
};
EOF
"$VIMON" --check-config -c "$W/bad.conf" >/dev/null 2>"$W/check.err"
is "$?" 2 "--check-config refuses a bad remediation section (exit 2)"
is "$(cat "$W/check.err")" "$W/bad.conf:5: unknown key \"colour\" in remediation
$W/bad.conf:4: min_pending must be between 0 and 2592000 seconds
$W/bad.conf:7: answer \"2\" is a bare choice key or index, which differs between ESX versions: name the choice by its label or summary, or say \"default\"
$W/bad.conf:8: vm: invalid regular expression \"(unclosed\": Unmatched ( or \\(
$W/bad.conf:9: unknown action \"reboot\" (want \"cancel\" or \"report\"; to answer, use answer = ...)
$W/bad.conf:10: remediation rule 4: no target named \"nope\"
$W/bad.conf:11: remediation rule 5: missing required key \"message_id\" (a message id like \"msg.uuid.altered\", or \"*\")" \
	"every remediation problem is reported as FILE:LINE: message"

printf '%s\n' "$TOKEN" >"$W/token-open"
chmod 640 "$W/token-open"
printf 'api_token_file = "%s";\ntargets = ();\n' "$W/token-open" >"$W/tok.conf"
out=$("$VIMON" --check-config -c "$W/tok.conf" 2>&1)
like "$?:$out" "^2:$W/tok.conf:1: api_token_file .* is accessible by group or others \\(mode 0640\\)" \
	"a group-readable api_token_file is refused"
unlike "$out" "$TOKEN" "the token is in no message"

# ------------------------------------------------------------------------------------------
# Helpers

if ! sim_start; then
	not_ok "simulator starts"
	done_testing
fi
simctl GET /_sim/inventory >"$W/inv.json"
# vm NAME: the moref of a VM
vm() { jq -r --arg n "$1" '.vms[] | select(.name == $n) | .moref' "$W/inv.json"; }
# calls METHOD: how many METHOD calls the simulator has seen
calls() { simctl GET /_sim/stats | jq -r --arg m "$1" '.calls[$m] // 0'; }
power() { simctl GET /_sim/inventory | jq -r --arg v "$1" '.vms[] | select(.moref == $v) | .power'; }
# ask VM ID MESSAGE_ID: a msg.uuid.altered-like question (ESX labels and summaries)
ask() {
	simctl POST /_sim/question "{\"vm\":\"$1\",\"id\":\"$2\",\"text\":\"$3: moved or copied?\",
		\"message_ids\":[\"$3\"],\"choices\":[
		{\"key\":\"0\",\"label\":\"button.uuid.cancel\",\"summary\":\"Cancel\"},
		{\"key\":\"1\",\"label\":\"button.uuid.movedTheVM\",\"summary\":\"I _Moved It\"},
		{\"key\":\"2\",\"label\":\"button.uuid.copiedTheVM\",\"summary\":\"I _Copied It\"}],
		\"default\":2}" >/dev/null
}
# task METHOD VM: starts a lifecycle task over SOAP, prints its moref
task() {
	soap "$1" "<_this type=\"VirtualMachine\">$2</_this>" >"$W/task.xml"
	xml_value "$(cat "$W/task.xml")" returnval
}
# until_true SECONDS COMMAND...: polls COMMAND every 0.1 s
until_true() {
	_secs=$1
	shift
	_i=0
	while ! "$@" && [ $_i -lt $((_secs * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	"$@"
}
audit_has() { grep -q "$1" "$2" 2>/dev/null; }
# post TOKEN JSON [PATH]: POST an action; the body goes to $W/reply, prints the status
post() {
	curl -sS -o "$W/reply" -w '%{http_code}' -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/json' --data-binary "$2" \
		"$AGENT_URL${3:-/api/v1/questions/answer}"
}
# conf FILE SETTINGS RULES [TOKEN-LINE]
conf() {
	cat >"$1" <<EOF
listen = "127.0.0.1:0";
${4:-}
targets = ( { name = "sim"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw"; timeout = 5; } );
remediation = {
  $2
  audit_log = "$W/$(basename "$1" .conf).audit";
  state_file = "$W/$(basename "$1" .conf).state";
  rules = ( $3 );
};
EOF
}
soap_login >/dev/null

VM0=$(vm DC0_H0_VM0) VM1=$(vm DC0_H0_VM1) VM2=$(vm DC0_C0_H0_VM0) VM3=$(vm DC0_C0_H0_VM1)
VM4=$(vm DC0_C0_H1_VM0) VM5=$(vm DC0_C0_H1_VM1) VM6=$(vm DC0_C0_H2_VM0) VM7=$(vm DC0_C0_H2_VM1)

# ------------------------------------------------------------------------------------------
# Rules: answer after min_pending, cancel, report, no rule, named choice missing; HTTP

A=$W/a.conf
conf "$A" "enabled = true; dry_run = false; min_pending = 1; max_actions_per_hour = 20;" '
    { message_id = "msg.uuid.altered"; vm = "^DC0_H0_VM0$"; answer = "I Copied It"; min_pending = 2; },
    { message_id = "msg.serial.file.open"; answer = "Append"; },
    { message_id = "msg.cancel.me"; action = "cancel"; },
    { message_id = "msg.race"; answer = "default"; min_pending = 0; },
    { message_id = "msg.report.me"; action = "report"; },
    { message_id = "msg.power.q"; answer = "I Moved It"; min_pending = 3600; }' "api_token_file = \"$W/token\";"
simctl POST /_sim/vm/power "{\"vm\":\"$VM0\",\"state\":\"poweredOff\"}" >/dev/null
simctl POST /_sim/vm/power "{\"vm\":\"$VM3\",\"state\":\"poweredOff\"}" >/dev/null
if ! agent_start "$A"; then
	not_ok "agent starts with remediation enabled"
	done_testing
fi
AUD=$W/a.audit
# the remediation module's metrics are no target: the agent lists one, and it is up
is "$(curl -sS "$AGENT_URL/api/v1/targets" | jq -c '[.[] | .name]')" '["sim"]' \
	"/api/v1/targets lists the one target (no nameless entry for the remediation metrics)"
until_true 10 sh -c "curl -sS '$AGENT_URL/api/v1/targets' | jq -e '.[0].up' >/dev/null"
out=$("${VIMON_BUILD:-$TOP/build}/check_vsphere" target -U "$AGENT_URL")
is "$?" 0 "check_vsphere target: OK with remediation on ($out)"
simctl POST /_sim/stats/reset '{}' >/dev/null
ask "$VM0" qa msg.uuid.altered
T0=$(task PowerOnVM_Task "$VM0")
ask "$VM1" qn msg.not.in.any.rule
simctl POST /_sim/question "{\"vm\":\"$VM2\",\"id\":\"qs\",\"text\":\"serial\",\"message_ids\":[\"msg.serial.file.open\"],
	\"choices\":[{\"key\":\"0\",\"label\":\"button.replace\",\"summary\":\"Replace\"},{\"key\":\"1\",\"label\":\"button.cancel\",\"summary\":\"Cancel\"}]}" >/dev/null
# the cancel rule: a cancelable blocked power-off on VM4, a non-cancelable power-on on VM3
ask "$VM4" qc msg.cancel.me
T4=$(task PowerOffVM_Task "$VM4")
ask "$VM3" qd msg.cancel.me
T3=$(task PowerOnVM_Task "$VM3")
ask "$VM5" qr msg.report.me
ok "blocked tasks started: $T0 (power-on), $T4 (power-off), $T3 (power-on)"

sleep 1
is "$(calls AnswerVM)" 0 "no AnswerVM before min_pending"
if until_true 10 audit_has '"question_id":"qa".*"result":"answered"' "$AUD"; then
	ok "the rule answered the msg.uuid.altered question after min_pending"
else
	not_ok "the rule answered the msg.uuid.altered question"
	diag "$(cat "$AUD")"
fi
is "$(until_true 10 test "$(power "$VM0")" = poweredOn; power "$VM0")" poweredOn \
	"the blocked power-on completed"
like "$(grep '"question_id":"qa"' "$AUD" | grep answered)" '"choice":"2".*"rule":|"rule":.*"choice":"2"' \
	"the choice sent is key 2 (\"I _Copied It\")"
like "$(grep '"question_id":"qa"' "$AUD" | head -n 1)" '"result":"too_young"' \
	"the audit first says the question is too young"
until_true 10 audit_has '"task":"'"$T4"'".*"result":"cancelled"' "$AUD"
like "$(cat "$AUD")" '"task":"'"$T4"'"[^}]*"result":"cancelled"' "the cancel rule cancelled the blocked power-off"
until_true 10 audit_has '"task":"'"$T3"'".*"result":"not_cancelable"' "$AUD"
like "$(grep "\"task\":\"$T3\"" "$AUD")" '"result":"not_cancelable".*cannot be cancelled and stays blocked' \
	"the non-cancelable power-on is reported, not cancelled"
until_true 5 audit_has '"question_id":"qs".*"result":"no_choice"' "$AUD"
like "$(grep '"question_id":"qs"' "$AUD")" '"result":"no_choice".*wants \\"Append\\" but no choice matches' \
	"a named choice that is not offered: nothing sent, the decision says why"
like "$(grep '"question_id":"qr"' "$AUD")" '"result":"reported"' "a report rule reports"
sleep 2
is "$(calls AnswerVM)" 1 "exactly one AnswerVM (the rule's, not repeated)"
is "$(calls CancelTask)" 1 "exactly one CancelTask"
is "$(grep -c '"question_id":"qn"' "$AUD")" 0 "a question no rule matches: no decision"
is "$(curl -sS "$AGENT_URL/api/v1/remediation" | jq -r 'length > 5 and (.[0].timestamp >= .[-1].timestamp)')" \
	"true" "/api/v1/remediation lists the decisions, newest first"

# HTTP: wrong and missing token, a good one, bodies
ask "$VM6" qh msg.manual
until_true 10 sh -c "curl -s '$AGENT_URL/api/v1/questions' | grep -q '\"qh\"'"
is "$(post wrong-token "{\"target\":\"sim\",\"vm_id\":\"$VM6\",\"question_id\":\"qh\",\"choice\":\"Cancel\"}")" 401 \
	"a wrong token gets 401"
is "$(curl -sS -o /dev/null -w '%{http_code}' --data-binary '{}' "$AGENT_URL/api/v1/questions/answer")" 401 \
	"no token gets 401"
is "$(post "$TOKEN" '{"target":"sim",')" 400 "malformed JSON gets 400"
like "$(jq -r .message "$W/reply")" 'malformed JSON' "with the reason"
is "$(post "$TOKEN" '{"target":"sim","vm_id":"x","question_id":"y","choice":"z","extra":1}')" 400 \
	"an unknown member gets 400"
head -c 40000 /dev/zero | tr '\0' 'x' >"$W/big"
is "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" --data-binary @"$W/big" \
	"$AGENT_URL/api/v1/questions/answer")" 413 "a body over the cap gets 413"
is "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Transfer-Encoding: chunked' \
	--data-binary @"$W/big" "$AGENT_URL/api/v1/questions/answer")" 413 "a chunked body over the cap gets 413"
is "$(post "$TOKEN" "{\"target\":\"sim\",\"vm_id\":\"$VM6\",\"question_id\":\"nope\",\"choice\":\"Cancel\"}")" 409 \
	"no such pending question gets 409"
is "$(post "$TOKEN" "{\"target\":\"sim\",\"vm_id\":\"$VM6\",\"question_id\":\"qh\",\"choice\":\"Maybe\"}")" 400 \
	"a choice that is not offered gets 400"
like "$(jq -r .message "$W/reply")" 'offered: 0 "button.uuid.cancel"' "naming the offered choices"
n0=$(calls AnswerVM)
is "$(post "$TOKEN" "{\"target\":\"sim\",\"vm_id\":\"$VM6\",\"question_id\":\"qh\",\"choice\":\"I Moved It\"}")" 200 \
	"a good token answers (200)"
is "$(jq -r '.result + " " + .choice' "$W/reply")" "answered 1" "result answered, choice key 1"
is "$(($(calls AnswerVM) - n0))" 1 "one AnswerVM sent"
like "$(grep '"question_id":"qh"' "$AUD" | grep '"result":"answered"')" '"client":"127.0.0.1"' \
	"the HTTP answer is audited with the client address"
is "$(post "$TOKEN" "{\"target\":\"sim\",\"vm_id\":\"$VM6\",\"question_id\":\"qh\",\"choice\":\"I Moved It\"}")" 409 \
	"answering again gets 409 (never twice)"
is "$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$AGENT_URL/api/v1/questions")" 405 \
	"POST on a read-only path is still 405"

# power actions (vi/lifecycle): done, blocked without auto-answer, auto-answer with the
# choice a rule names for the message id
ODD=$(vm 'odd%2fslash')
is "$(post "$TOKEN" "{\"target\":\"sim\",\"vm_id\":\"$ODD\",\"op\":\"power-on\"}" /api/v1/vms/power)" 200 \
	"power-on of a powered-off VM: 200"
is "$(jq -r .result "$W/reply"):$(power "$ODD")" "done:poweredOn" "the result is done and the VM is on"
like "$(grep '"action":"power"' "$AUD" | tail -n 1)" '"vm":"odd/slash".*"client":"127.0.0.1".*"result":"done"' \
	"the power action is audited with the decoded VM name and the client"
is "$(post "$TOKEN" "{\"target\":\"sim\",\"vm_id\":\"$ODD\",\"op\":\"jump\"}" /api/v1/vms/power)" 400 \
	"an unknown op gets 400"
n0=$(calls AnswerVM)
is "$(post "$TOKEN" "{\"target\":\"sim\",\"vm_id\":\"$VM1\",\"op\":\"power-off\",\"auto_answer\":false}" /api/v1/vms/power)" 409 \
	"a pending question without auto_answer: 409"
like "$(jq -r '.result + " " + .message' "$W/reply")" '^blocked .*qn' "the reply says which question blocks"
is "$(($(calls AnswerVM) - n0))" 0 "and nothing was answered"
simctl POST /_sim/question "{\"vm\":\"$VM0\",\"preset\":\"msg.uuid.altered\",\"message_ids\":[\"msg.power.q\"],\"during_next_task_ms\":300}" >/dev/null
is "$(post "$TOKEN" "{\"target\":\"sim\",\"vm_id\":\"$VM0\",\"op\":\"power-off\",\"auto_answer\":true}" /api/v1/vms/power)" 200 \
	"power-off with auto_answer and a question raised while it runs: 200"
is "$(jq -r '.result + " " + .choice' "$W/reply"):$(power "$VM0")" "done 1:poweredOff" \
	"answered with the rule's choice for the message id (key 1, I _Moved It), then done"
is "$(($(calls AnswerVM) - n0))" 1 "one AnswerVM for the two power actions"
like "$(grep '"message_id":"msg.power.q"' "$AUD" | grep '"action":"answer"')" '"choice":"1".*"result":"answered"' \
	"the answer sent during the power action is audited"

# a race between the rule (min_pending 0) and the HTTP action: one AnswerVM
simctl POST /_sim/fault '{"kind":"delay","ms":1500,"method":"AnswerVM","count":1}' >/dev/null
n0=$(calls AnswerVM)
ask "$VM7" qz msg.race
until_true 10 sh -c "curl -s '$AGENT_URL/api/v1/questions' | grep -q '\"qz\"'"
code=$(post "$TOKEN" "{\"target\":\"sim\",\"vm_id\":\"$VM7\",\"question_id\":\"qz\",\"choice\":\"default\"}")
sleep 2
simctl POST /_sim/fault/clear '{}' >/dev/null
is "$(($(calls AnswerVM) - n0))" 1 "rule and HTTP racing on one question: one AnswerVM (HTTP got $code)"
is "$(grep '"question_id":"qz"' "$AUD" | grep -c '"result":"answered"')" 1 "one answered decision in the audit"

# metrics and the audit log are well-formed
metrics >"$W/m"
like "$(grep '^vsphere_remediation_actions_total' "$W/m")" 'action="answer",result="answered"} 4' \
	"vsphere_remediation_actions_total counts the answers (qa by rule, qh by HTTP, msg.power.q in a power action, qz by either)"
like "$(grep '^vsphere_remediation_actions_total' "$W/m")" 'action="power",result="done"} 2' \
	"and the power actions"
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$W/m" >"$W/promtool.out" 2>&1
	is "$?" 0 "promtool check metrics passes"
else
	not_ok "promtool is installed"
fi
jq -e . "$AUD" >/dev/null 2>&1
is "$?" 0 "every audit line is JSON (jq)"
is "$(jq -r 'select(.action != "power") | [.time, .target, .vm, .vm_id, .question_id, .message_id, .text, (.choices|type), .decision, .result] | map(type) | unique | join(",")' "$AUD" | sort -u)" \
	"string" "audit lines carry time, target, vm, vm_id, question id, message id, text, choices, decision, result"
is "$(stat -c %a "$AUD")" 600 "the audit log is mode 600"

# a slow vCenter holds no server thread: /metrics answers while three answers wait on it
for v in "$VM6" "$VM7" "$VM0"; do ask "$v" qslow msg.slow; done
until_true 10 sh -c "test \$(curl -s '$AGENT_URL/api/v1/questions' | grep -c '\"qslow\"') -ge 3"
simctl POST /_sim/fault '{"kind":"delay","ms":2000,"method":"AnswerVM","count":3}' >/dev/null
n0=$(calls AnswerVM)
pids=
for v in "$VM6" "$VM7" "$VM0"; do
	curl -sS -o "$W/slow.$v" -H "Authorization: Bearer $TOKEN" --max-time 30 \
		--data-binary "{\"target\":\"sim\",\"vm_id\":\"$v\",\"question_id\":\"qslow\",\"choice\":\"Cancel\"}" \
		"$AGENT_URL/api/v1/questions/answer" &
	pids="$pids $!"
	sleep 0.3 # one after the other: each server thread gets one
done
t=$(curl -sS -o /dev/null -w '%{time_total}' --max-time 20 "$AGENT_URL/metrics")
# shellcheck disable=SC2086
wait $pids
simctl POST /_sim/fault/clear '{}' >/dev/null
is "$(awk -v t="$t" 'BEGIN { print (t < 1) ? "fast" : "slow" }')" fast \
	"/metrics answers at once while HTTP actions wait on a slow AnswerVM (${t} s)"
is "$(cat "$W/slow.$VM6" "$W/slow.$VM7" "$W/slow.$VM0" | jq -r .result | tr '\n' ' ')" \
	"answered answered answered " "the three actions complete and reply"
is "$(($(calls AnswerVM) - n0))" 3 "three AnswerVM"
agent_stop
is "$AGENT_EXIT" 0 "the agent stops cleanly (exit 0)"

# ------------------------------------------------------------------------------------------
# Dry run (no token: no HTTP actions)

B=$W/b.conf
conf "$B" "enabled = true; dry_run = true; min_pending = 0;" '{ message_id = "msg.uuid.altered"; answer = "default"; }'
ask "$VM1" qb msg.uuid.altered
agent_start "$B"
n0=$(calls AnswerVM)
until_true 10 audit_has '"result":"dry_run"' "$W/b.audit"
like "$(cat "$W/b.audit")" '"decision":"dry-run".*"choice":"2".*"result":"dry_run"' "dry run: the decision is audited"
sleep 1.5
is "$(($(calls AnswerVM) - n0))" 0 "dry run: nothing is sent"
is "$(grep -c '"question_id":"qb"' "$W/b.audit")" 1 "dry run: audited once"
wait_value 1 5 vsphere_remediation_actions_total 'result="dry_run"'
is "$GOT" 1 "dry run: counted"
is "$(post "$TOKEN" "{\"target\":\"sim\",\"vm_id\":\"$VM1\",\"question_id\":\"qb\",\"choice\":\"default\"}")" 404 \
	"no api_token_file: the action does not exist (404)"
is "$(curl -sS "$AGENT_URL/api/v1/actions" | jq -r .enabled)" false "/api/v1/actions says the actions are off"
# SIGHUP with dry_run off: the module is rebuilt, its counters carry over, and it acts
conf "$B" "enabled = true; dry_run = false; min_pending = 0;" '{ message_id = "msg.uuid.altered"; answer = "default"; }'
kill -HUP "$AGENT_PID"
wait_log 'reload: .* targets kept'
until_true 10 audit_has '"question_id":"qb".*"result":"answered"' "$W/b.audit"
is "$(($(calls AnswerVM) - n0))" 1 "after a reload with dry_run = false the question is answered"
is "$(curl -sS "$AGENT_URL/api/v1/actions" | jq -r .dry_run)" false "/api/v1/actions shows the new setting"
metrics >"$W/m"
is "$(value "$W/m" vsphere_remediation_actions_total 'result="dry_run"')" 1 "the counters carry over a reload"
agent_stop
simctl POST /_sim/question/clear "{\"vm\":\"$VM1\"}" >/dev/null

# ------------------------------------------------------------------------------------------
# Rate limit: 5 questions, 2 per hour

C=$W/c.conf
conf "$C" "enabled = true; dry_run = false; min_pending = 0; max_actions_per_hour = 2;" \
	'{ message_id = "msg.rate"; answer = "I _Copied It"; }'
for v in "$VM1" "$VM2" "$VM3" "$VM5" "$VM6"; do
	simctl POST /_sim/question/clear "{\"vm\":\"$v\"}" >/dev/null
	ask "$v" "rate-$v" msg.rate
done
n0=$(calls AnswerVM)
agent_start "$C"
until_true 10 test "$(grep -c '"result":"rate_limited"' "$W/c.audit" 2>/dev/null)" -ge 3
sleep 1.5
is "$(grep -c '"result":"answered"' "$W/c.audit")" 2 "rate limit 2: two questions answered"
is "$(grep -c '"result":"rate_limited"' "$W/c.audit")" 3 "rate limit 2: three skipped and audited once each"
is "$(($(calls AnswerVM) - n0))" 2 "rate limit 2: two AnswerVM"
metrics >"$W/m"
is "$(value "$W/m" vsphere_remediation_actions_total 'result="rate_limited"')" 3 "rate-limited decisions are counted"
agent_stop

# ------------------------------------------------------------------------------------------
# The hourly budget counts actions, not attempts that could not log in

E=$W/e.conf
conf "$E" "enabled = false; max_actions_per_hour = 1;" '' "api_token_file = \"$W/token\";"
simctl POST /_sim/question/clear "{\"vm\":\"$VM2\"}" >/dev/null
ask "$VM2" qbudget msg.budget
agent_start "$E"
until_true 10 sh -c "curl -s '$AGENT_URL/api/v1/questions' | grep -q '\"qbudget\"'"
simctl POST /_sim/fault '{"kind":"soap-fault","fault":"InvalidLogin","method":"Login","count":4}' >/dev/null
body="{\"target\":\"sim\",\"vm_id\":\"$VM2\",\"question_id\":\"qbudget\",\"choice\":\"Cancel\"}"
is "$(post "$TOKEN" "$body"):$(post "$TOKEN" "$body")" "502:502" "two answers while the login fails: 502"
pbody="{\"target\":\"sim\",\"vm_id\":\"$VM2\",\"op\":\"reset\"}"
is "$(post "$TOKEN" "$pbody" /api/v1/vms/power):$(post "$TOKEN" "$pbody" /api/v1/vms/power)" "502:502" \
	"two power actions while the login fails: 502"
simctl POST /_sim/fault/clear '{}' >/dev/null
n0=$(calls AnswerVM)
is "$(post "$TOKEN" "$body")" 200 "the login works again: the answer is sent (the failed logins spent no budget)"
is "$(($(calls AnswerVM) - n0))" 1 "one AnswerVM"
agent_stop

# ------------------------------------------------------------------------------------------
# An answer whose outcome is unknown is not resent, across a restart

D=$W/d.conf
conf "$D" "enabled = true; dry_run = false; min_pending = 0;" '{ message_id = "msg.lost"; answer = "default"; }' \
	"api_token_file = \"$W/token\";"
ask "$VM7" ql msg.lost
simctl POST /_sim/fault '{"kind":"close","method":"AnswerVM","count":1}' >/dev/null
n0=$(calls AnswerVM)
agent_start "$D"
until_true 10 audit_has '"result":"outcome_unknown"' "$W/d.audit"
like "$(cat "$W/d.audit")" '"question_id":"ql".*"result":"outcome_unknown".*outcome unknown' \
	"a lost AnswerVM reply: the decision says outcome unknown"
agent_stop
agent_start "$D"
until_true 10 audit_has '"result":"already_answered"' "$W/d.audit"
sleep 1.5
is "$(($(calls AnswerVM) - n0))" 1 "after a restart the question is not answered again"
like "$(grep already_answered "$W/d.audit")" "outcome is unknown; not resending" "the restart's decision says why"
is "$(post "$TOKEN" "{\"target\":\"sim\",\"vm_id\":\"$VM7\",\"op\":\"power-off\",\"auto_answer\":true}" /api/v1/vms/power)" 409 \
	"a power action with auto_answer does not answer a question answered before (409)"
like "$(jq -r .message "$W/reply")" "already answered" "and says so"
is "$(($(calls AnswerVM) - n0))" 1 "still one AnswerVM"
agent_stop

printf '{"target":"sim","vm_id":"vm-1"\n' >"$W/d.state"
agent_start "$D"
is "$?" 1 "a corrupt state file: the agent does not start"
like "$(cat "$AGENT_LOG")" "remediation: $W/d.state:1: not JSON" "with a clear message naming the line"

done_testing

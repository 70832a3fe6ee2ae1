#!/bin/sh
# Integration: how the agent's collection behaves when vCenter misbehaves (issue 9, items 1-5):
# stale session cookies, failures after a good sync, re-login storms, a wrong password, and
# question ages. One simulator, one agent per scenario, faults injected through /_sim/fault.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent_lib.sh"
if ! sim_start -cluster 1 -host 2 -vm 1 -standalone 0; then
	not_ok "simulator starts"
	done_testing
fi

# conf FILE: a configuration with one target "s" on the simulator (without performance
# counters, whose second session would double the calls counted here).
conf() {
	cat >"$1" <<EOF
listen = "127.0.0.1:0";
targets = (
  { name = "s"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw";
    collect = ["vm", "host", "datastore", "question", "task"]; }
);
EOF
}
conf "$W/vimon.conf"

# calls METHOD: how many METHOD calls the simulator saw since the last stats reset.
calls() { simctl GET /_sim/stats | py "j['calls'].get('$1', 0)"; }
reset() {
	simctl POST /_sim/fault/clear '{}' >/dev/null
	simctl POST /_sim/stats/reset '{}' >/dev/null
}
fault() { simctl POST /_sim/fault "$1" >/dev/null || diag "fault $1 refused"; }
target_json() { curl -sS --max-time 5 "$AGENT_URL/api/v1/targets"; }
VM=DC0_C0_H0_VM0
# poke: a change that ends the agent's current (long) WaitForUpdatesEx.
poke() {
	simctl POST /_sim/question "{\"vm\":\"$VM\",\"text\":\"poke\",\"choices\":[{\"key\":\"0\",\"label\":\"OK\"}]}" >/dev/null
}
unpoke() { simctl POST /_sim/question/clear "{\"vm\":\"$VM\"}" >/dev/null; }

# ------------------------------------------------------------------------------------------
# Item 1: a failed WaitForUpdatesEx, then a failed Logout: the next Login must not carry the
# old session cookie (the server refuses a Login on a live session: "InvalidLogin").
reset
agent_start "$W/vimon.conf"
wait_value 1 20 vsphere_up 'target="s"' || diag "agent did not come up: $(tail -5 "$AGENT_LOG")"
sleep 0.5
fault '{"kind":"http500","method":"WaitForUpdatesEx"}'
fault '{"kind":"soap-fault","fault":"SystemError","method":"Logout"}'
poke
wait_log 'HTTP status 500' 50
sleep 0.3
if wait_value 1 10 vsphere_up 'target="s"'; then
	ok "after a failed wait and a failed Logout the target recovers"
else
	not_ok "after a failed wait and a failed Logout the target recovers"
	diag "$(tail -5 "$AGENT_LOG")"
fi
is "$(value "$W/m" vsphere_collector_errors_total 'kind="auth"')" 0 "no authentication error is counted"
unlike "$(cat "$AGENT_LOG")" 'InvalidLogin|Login failure|incorrect user name' \
	"the log reports no login failure"
agent_stop
unpoke

# ------------------------------------------------------------------------------------------
# Item 2: every WaitForUpdatesEx that carries a version fails; the initial sync works. The
# agent must back off (1, 2, 4 s ...) instead of resyncing every second.
reset
fault '{"kind":"soap-fault","fault":"SystemError","versioned":true,"count":1000}'
agent_start "$W/vimon.conf"
sleep 9
n=$(calls Login)
if [ "$n" -le 5 ]; then
	ok "a failing versioned wait backs off: $n logins in 9 s"
else
	not_ok "a failing versioned wait backs off: $n logins in 9 s (want <= 5)"
fi
agent_stop

# ------------------------------------------------------------------------------------------
# Item 3: every WaitForUpdatesEx answers NotAuthenticated. Rebuilds are bounded and visible:
# logins counted, vsphere_up 0, a resync counter.
reset
fault '{"kind":"soap-fault","fault":"NotAuthenticated","method":"WaitForUpdatesEx","count":1000}'
agent_start "$W/vimon.conf"
sleep 8
nf=$(calls CreateFilter)
nl=$(calls Login)
metrics >"$W/m"
# two filters per build (the view's and the tasks')
if [ "$nf" -le 12 ]; then
	ok "NotAuthenticated on every wait: $nf CreateFilter calls in 8 s"
else
	not_ok "NotAuthenticated on every wait: $nf CreateFilter calls in 8 s (want <= 12)"
fi
is "$(value "$W/m" vsphere_up 'target="s"')" 0 "vsphere_up is 0 while no update arrives"
logins=$(value "$W/m" vsphere_session_logins_total 'target="s"')
if [ -n "$logins" ] && [ "$logins" -ge $((nl - 2)) ] && [ "$logins" -le "$nl" ]; then
	ok "every login is counted ($logins of $nl)"
else
	not_ok "every login is counted (metric '$logins', simulator $nl)"
fi
resyncs=$(value "$W/m" vsphere_collector_resyncs_total 'target="s"')
if [ -n "$resyncs" ] && [ "$resyncs" -ge 2 ]; then
	ok "vsphere_collector_resyncs_total counts the rebuilds ($resyncs)"
else
	not_ok "vsphere_collector_resyncs_total counts the rebuilds (got '$resyncs')"
fi
agent_stop

# ------------------------------------------------------------------------------------------
# Item 4: a wrong password is not retried on the normal schedule (vCenter locks accounts);
# the log and last_error say so; a SIGHUP that changes the password file retries at once.
reset
printf 'wrong\n' >"$W/pw"
agent_start "$W/vimon.conf"
sleep 8
is "$(calls Login)" 1 "a refused login is not retried within 8 s"
like "$(cat "$AGENT_LOG")" 'account may be locked' "the log warns that the account may be locked"
like "$(target_json | py 'j[0]["last_error"]["message"]')" 'account may be locked' \
	"last_error warns that the account may be locked"
kill -HUP "$AGENT_PID"
sleep 1
is "$(calls Login)" 1 "a SIGHUP that changes nothing does not retry"
printf 'pw\n' >"$W/pw"
kill -HUP "$AGENT_PID"
if wait_value 1 5 vsphere_up 'target="s"'; then
	ok "a SIGHUP with a new password retries at once (up after ${WAITED_MS} ms)"
else
	not_ok "a SIGHUP with a new password retries at once"
	diag "$(tail -5 "$AGENT_LOG")"
fi
agent_stop

# The performance counters' own session (collected by default) waits the same way.
reset
printf 'wrong\n' >"$W/pw"
grep -v 'collect = ' "$W/vimon.conf" | sed 's/password_file = "\([^"]*\)";$/password_file = "\1"; }/' >"$W/perf.conf"
agent_start "$W/perf.conf"
sleep 5
is "$(calls Login)" 2 "with performance counters: one refused login per session within 5 s"
agent_stop
printf 'pw\n' >"$W/pw"

# ------------------------------------------------------------------------------------------
# Item 5: a question's age counts from when its update arrived, not from when the agent
# started waiting for it.
reset
agent_start "$W/vimon.conf"
wait_value 1 20 vsphere_up 'target="s"'
sleep 8
poke
if wait_count 1 '^vsphere_vm_question_pending_seconds{'; then :; fi
age=$(value "$W/m" vsphere_vm_question_pending_seconds)
if [ -n "$age" ] && awk "BEGIN{exit !($age < 3)}"; then
	ok "a new question's age starts near 0 ($age s)"
else
	not_ok "a new question's age starts near 0 (got '$age' s after an 8 s wait)"
fi
agent_stop
unpoke

# ------------------------------------------------------------------------------------------
# Item 6: a Login whose reply times out after its session cookie arrived leaves no orphan
# session on the server: the agent logs that session out.
reset
sed 's/password_file = "\([^"]*\)";$/password_file = "\1"; timeout = 2;/' "$W/vimon.conf" >"$W/t2.conf"
fault '{"kind":"slow-body","method":"Login","ms":4000}'
agent_start "$W/t2.conf"
wait_value 1 15 vsphere_up 'target="s"' || diag "$(tail -5 "$AGENT_LOG")"
is "$(calls Logout)" 1 "the session of a timed-out Login is logged out"
like "$(cat "$AGENT_LOG")" 'timed out' "the Login's timeout is reported"
agent_stop

sim_stop
done_testing

#!/bin/sh
# Integration, end to end with the real parts: simulator <- vimon <- Prometheus (1 s
# scrape and evaluation, the shipped alert rules with `for:` shortened) -> Alertmanager
# -> a webhook receiver. A question blocks a power-on: the receiver must get the firing
# VsphereTaskBlockedByQuestion (VM, task, message id, link to the agent's question page);
# answering the question must bring the resolved notification. Both latencies are
# reported. Then every query of the Grafana dashboard runs against this Prometheus, its
# variables substituted, and must return data.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
VIMON=${VIMON_BUILD:-$TOP/build}/vimon
W=$VIMON_TEST_TMP/alerting.$$
mkdir -p "$W"
printf 'pw\n' >"$W/pw"
chmod 600 "$W/pw"
. "$(dirname "$0")/agent_lib.sh"
RULES=$TOP/packaging/prometheus/vimon-alerts.yml
DASHBOARD=$TOP/packaging/grafana/vimon.json
AM=$(command -v prometheus-alertmanager || command -v alertmanager)

for b in "$VIMON" "$(command -v prometheus)" "$AM"; do
	if [ ! -x "$b" ]; then
		not_ok "$b is installed (scripts/deps.sh: prometheus, prometheus-alertmanager)"
		done_testing
	fi
done

# bg NAME CMD...: starts CMD in the background (stopped when the script exits), logging
# to $W/NAME.log.
bg() {
	_n=$1
	shift
	"$@" >"$W/$_n.log" 2>&1 &
	echo $! >>"$VIMON_TEST_PIDS"
	echo $! >>"$W/pids"
}

# wait_http URL SECONDS: until URL answers 200.
wait_http() {
	_i=0
	while ! curl -fsS -o /dev/null "$1" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -ge $(($2 * 10)) ] && return 1
		sleep 0.1
	done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# promql QUERY: the instant query's result (JSON array) from Prometheus.
promql() {
	curl -fsS --data-urlencode "query=$1" "$PROM/api/v1/query" | py 'json.dumps(j["data"]["result"])'
}

# ------------------------------------------------------------------------------------------
if ! sim_start; then
	not_ok "simulator starts"
	done_testing
fi
VPORT=$(free_port)
cat >"$W/vimon.conf" <<EOF2
listen = "127.0.0.1:$VPORT";
targets = (
  { name = "sim"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw"; timeout = 10; }
);
EOF2
if ! agent_start "$W/vimon.conf"; then
	not_ok "agent starts"
	done_testing
fi

bg receiver python3 "$TOP/tests/integration/webhook_receiver.py" "$W/rport" "$W/received"
wait_file "$W/rport"
RPORT=$(cat "$W/rport")

APORT=$(free_port)
cat >"$W/alertmanager.yml" <<EOF2
route:
  receiver: webhook
  group_by: [alertname, target, task_id]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: http://127.0.0.1:$RPORT/
        send_resolved: true
EOF2
bg alertmanager "$AM" --config.file="$W/alertmanager.yml" --storage.path="$W/am-data" \
	--web.listen-address="127.0.0.1:$APORT" --cluster.listen-address=
# The shipped rules, `for:` shortened to 1 s; nothing else changes.
sed 's/^\([[:space:]]*\)for: .*/\1for: 1s/' "$RULES" >"$W/rules.yml"
check "the test rules differ from the shipped ones only in for:" \
	test "$(diff "$RULES" "$W/rules.yml" | grep '^[<>]' | grep -vc 'for: ')" = 0
PPORT=$(free_port)
PROM=http://127.0.0.1:$PPORT
cat >"$W/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ['$W/rules.yml']
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$APORT']
scrape_configs:
  - job_name: vimon
    static_configs:
      - targets: ['127.0.0.1:$VPORT']
EOF2
bg prometheus prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/prom-data" \
	--web.listen-address="127.0.0.1:$PPORT" --rules.alert.resend-delay=1s
if wait_http "http://127.0.0.1:$APORT/-/ready" 60 && wait_http "$PROM/-/ready" 60; then
	ok "Prometheus and Alertmanager are ready"
else
	not_ok "Prometheus and Alertmanager are ready: $(tail -5 "$W/prometheus.log" "$W/alertmanager.log")"
	done_testing
fi
i=0
while [ "$(promql 'vsphere_up{job="vimon",target="sim"}' | py '[r["value"][1] for r in j]')" != "['1']" ]; do
	i=$((i + 1))
	if [ $i -ge 300 ]; then
		not_ok "Prometheus scrapes vimon (vsphere_up 1)"
		done_testing
	fi
	sleep 0.1
done
ok "Prometheus scrapes vimon: vsphere_up{target=\"sim\"} 1"
is "$(curl -fsS "$PROM/api/v1/rules" | py 'sorted(set(r.get("health") for g in j["data"]["groups"] for r in g["rules"]))')" \
	"['ok']" "every shipped rule evaluates without error"
is "$(curl -fsS "$PROM/api/v1/alerts" | py '[a["labels"]["alertname"] for a in j["data"]["alerts"]]')" "[]" \
	"no alert before the question"

# ------------------------------------------------------------------------------------------
# A question blocks a power-on
VM=$(simctl GET /_sim/inventory | py '[v["moref"] for v in j["vms"] if not v["name"].startswith("odd")][0]')
VM_NAME=$(simctl GET /_sim/inventory | py "[v['name'] for v in j['vms'] if v['moref'] == '$VM'][0]")
simctl POST /_sim/vm/power "{\"vm\":\"$VM\",\"state\":\"poweredOff\"}" >/dev/null
simctl POST /_sim/question "{\"vm\":\"$VM\",\"id\":\"q-e2e\",\"text\":\"Moved or copied?\",
	\"message_ids\":[\"msg.uuid.altered\"],\"choices\":[{\"key\":\"0\",\"label\":\"Cancel\"},
	{\"key\":\"1\",\"label\":\"I Moved It\"},{\"key\":\"2\",\"label\":\"I Copied It\"}],\"default\":2}" >/dev/null
soap_login >/dev/null
t0=$(now_ms)
TASK=$(xml_value "$(soap PowerOnVM_Task "<_this type=\"VirtualMachine\">$VM</_this>")" returnval)
check "the power-on started a task ($TASK)" test -n "$TASK"

# received STATUS: the first notification of VsphereTaskBlockedByQuestion with that status
# for our task, as "RECEIVED_MS JSON-OF-THE-ALERT", or nothing.
received() {
	[ -f "$W/received" ] || return 0
	python3 - "$W/received" "$1" "$TASK" <<'EOF2'
import json, sys
for line in open(sys.argv[1], encoding='utf-8'):
    n = json.loads(line)
    for a in n['body'].get('alerts', []):
        l = a.get('labels', {})
        if (a.get('status') == sys.argv[2] and l.get('alertname') == 'VsphereTaskBlockedByQuestion'
                and l.get('task_id') == sys.argv[3]):
            print(int(n['received'] * 1000), json.dumps(a))
            sys.exit(0)
EOF2
}

# wait_received STATUS SECONDS: sets GOT_MS and ALERT.
wait_received() {
	_i=0
	while :; do
		_r=$(received "$1")
		if [ -n "$_r" ]; then
			GOT_MS=${_r%% *}
			ALERT=${_r#* }
			return 0
		fi
		_i=$((_i + 1))
		[ $_i -ge $(($2 * 10)) ] && return 1
		sleep 0.1
	done
}

if wait_received firing 60; then
	FIRE_MS=$((GOT_MS - t0))
	ok "the receiver got the firing VsphereTaskBlockedByQuestion ${FIRE_MS} ms after the power-on"
	diag "latency, blocked power-on -> webhook (firing): ${FIRE_MS} ms"
else
	not_ok "the receiver got the firing VsphereTaskBlockedByQuestion within 60 s"
	diag "received: $(cat "$W/received" 2>/dev/null | head -5)"
	diag "alerts in Prometheus: $(curl -fsS "$PROM/api/v1/alerts")"
	done_testing
fi
a() { printf '%s' "$ALERT" | py "$1"; }
is "$(a 'j["labels"]["entity"]'):$(a 'j["labels"]["entity_id"]')" "$VM_NAME:$VM" "the alert names the VM ($VM_NAME, $VM)"
is "$(a 'j["labels"]["task"]'):$(a 'j["labels"]["task_id"]')" "PowerOnVM_Task:$TASK" "the alert names the task"
is "$(a 'j["labels"]["message_id"]'):$(a 'j["labels"]["question_id"]')" "msg.uuid.altered:q-e2e" \
	"the alert carries the question's message id and id"
is "$(a 'j["labels"]["severity"]')" "page" "severity page"
LINK="http://127.0.0.1:$VPORT/questions/sim/$VM"
is "$(a 'j["annotations"]["link"]')" "$LINK" "the link is the agent's question page, from the instance label"
like "$(a 'j["annotations"]["description"]')" "$LINK" "the description carries the link too"

# ------------------------------------------------------------------------------------------
# The dashboard's queries, against this Prometheus, while the question is pending
if [ -f "$DASHBOARD" ]; then
	python3 "$TOP/tests/integration/dashboard_check.py" "$DASHBOARD" "$PROM" >"$W/dash.tap" 2>&1
	rc=$?
	while IFS= read -r l; do
		case $l in
		"ok - "*) ok "dashboard: ${l#ok - }" ;;
		"not ok - "*) not_ok "dashboard: ${l#not ok - }" ;;
		*) diag "$l" ;;
		esac
	done <"$W/dash.tap"
	check "the dashboard check ran to its end" test "$rc" -le 1 -a -s "$W/dash.tap"
else
	skip "the dashboard's queries" "packaging/grafana/vimon.json does not exist"
fi

# ------------------------------------------------------------------------------------------
# Answer the question: the task goes on, the alert resolves
t1=$(now_ms)
soap AnswerVM "<_this type=\"VirtualMachine\">$VM</_this><questionId>q-e2e</questionId><answerChoice>2</answerChoice>" >"$W/answer.xml"
is "$(soap_status)" 200 "AnswerVM accepted"
if wait_received resolved 60; then
	RES_MS=$((GOT_MS - t1))
	ok "the receiver got the resolved notification ${RES_MS} ms after the answer"
	diag "latency, answer -> webhook (resolved): ${RES_MS} ms"
else
	not_ok "the receiver got the resolved notification within 60 s"
	diag "received: $(tail -3 "$W/received" 2>/dev/null)"
fi
is "$(a 'j["labels"]["task_id"]')" "$TASK" "the resolved notification is for the same task"
echo "alerting latencies: firing ${FIRE_MS:-?} ms, resolved ${RES_MS:-?} ms" >"$VIMON_TEST_TMP/alerting-latency" 2>/dev/null
done_testing

#!/bin/sh
# make demo: the simulator with a pending question and a blocked power-on, vimon on it; Ctrl-C stops both.
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
SIM=${VIMON_SIM:-$TOP/build/vimon-sim}
VIMON=${VIMON:-$TOP/build/vimon}
PORT=${VIMON_DEMO_PORT:-9743}

for b in "$SIM" "$VIMON"; do
	if [ ! -x "$b" ]; then
		echo "demo: $b is missing; run make first" >&2
		exit 1
	fi
done

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/vimon-demo.XXXXXX")
SIM_PID=
AGENT_PID=
cleanup() {
	trap - INT TERM EXIT
	[ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	[ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	rm -rf "$DEMO"
	echo
	echo "demo: stopped vimon and the simulator"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
	echo "demo: $*" >&2
	exit 1
}

# json EXPR: evaluates a Python expression on the JSON read from stdin (bound to j).
json() {
	python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}

ctl() { # METHOD PATH [JSON]
	if [ $# -ge 3 ]; then
		curl -fsS -X "$1" -H 'Content-Type: application/json' --data-binary "$3" "$SIM_BASE$2"
	else
		curl -fsS -X "$1" "$SIM_BASE$2"
	fi
}

soap() { # BODY: one SOAP call with the demo's cookie jar
	printf '%s%s%s' '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>' \
		"$1" '</soapenv:Body></soapenv:Envelope>' |
		curl -sS -b "$DEMO/cookies" -c "$DEMO/cookies" -H 'Content-Type: text/xml; charset=utf-8' \
			-H 'SOAPAction: "urn:vim25/8.0"' --data-binary @- "$SIM_URL"
}

echo "demo: starting the simulator (1 datacenter, 2 clusters, 3 hosts each, 4 VMs per host)"
# The simulator writes a folder per VM under TMPDIR: keep it in the demo's directory.
TMPDIR=$DEMO "$SIM" -parent-watch -dc 1 -cluster 2 -host 3 -vm 4 -ds 3 >"$DEMO/sim.out" 2>"$DEMO/sim.err" &
SIM_PID=$!
i=0
while ! grep -q '^ready ' "$DEMO/sim.out" 2>/dev/null; do
	kill -0 "$SIM_PID" 2>/dev/null || die "the simulator exited: $(cat "$DEMO/sim.err")"
	i=$((i + 1))
	[ $i -lt 1200 ] || die "the simulator is not ready after 60 s"
	sleep 0.05
done
SIM_URL=$(sed -n 's/^ready //p' "$DEMO/sim.out" | head -n 1)
SIM_BASE=${SIM_URL%/sdk}

# A VM that is not one of the odd-name ones, powered off, with a pending question.
VM=$(ctl GET /_sim/inventory | json '[v["moref"] for v in j["vms"] if not v["name"].startswith("odd") and "\u00f6" not in v["name"]][0]') ||
	die "cannot read the simulator's inventory"
VM_NAME=$(ctl GET /_sim/inventory | json "[v['name'] for v in j['vms'] if v['moref'] == '$VM'][0]")
ctl POST /_sim/vm/power "{\"vm\":\"$VM\",\"state\":\"poweredOff\"}" >/dev/null || die "power off failed"
ctl POST /_sim/question "{\"vm\":\"$VM\",\"id\":\"demo-q1\",
	\"text\":\"This virtual machine might have been moved or copied. Did you move it or copy it?\",
	\"message_ids\":[\"msg.uuid.altered\"],
	\"choices\":[{\"key\":\"0\",\"label\":\"Cancel\"},{\"key\":\"1\",\"label\":\"I Moved It\"},
	{\"key\":\"2\",\"label\":\"I Copied It\"}],\"default\":2}" >/dev/null || die "creating the question failed"

# A power-on that the question blocks: it stays `running` until the question is answered.
soap '<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><userName>demo</userName><password>demo</password></Login>' >/dev/null ||
	die "SOAP login failed"
TASK=$(soap "<PowerOnVM_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$VM</_this></PowerOnVM_Task>" |
	sed -n 's/.*<returnval[^>]*>\([^<]*\)<\/returnval>.*/\1/p')
[ -n "$TASK" ] || die "PowerOnVM_Task did not return a task"

# The agent's configuration: a password file readable by its owner only.
printf 'demo-password\n' >"$DEMO/password"
chmod 600 "$DEMO/password"
if python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $PORT))" 2>/dev/null; then
	LISTEN=127.0.0.1:$PORT
else
	echo "demo: port $PORT is taken; using a free one"
	LISTEN=127.0.0.1:0
fi
cat >"$DEMO/vimon.conf" <<EOF
# written by scripts/demo.sh
listen = "$LISTEN";
targets = (
  {
    name = "sim";
    url = "$SIM_URL";
    username = "demo";
    password_file = "$DEMO/password";
    timeout = 30;
  }
);
EOF
"$VIMON" -c "$DEMO/vimon.conf" 2>"$DEMO/vimon.log" &
AGENT_PID=$!
i=0
while ! grep -q 'listening on http://' "$DEMO/vimon.log" 2>/dev/null; do
	kill -0 "$AGENT_PID" 2>/dev/null || die "vimon exited: $(cat "$DEMO/vimon.log")"
	i=$((i + 1))
	[ $i -lt 200 ] || die "vimon is not listening after 10 s"
	sleep 0.05
done
ADDR=$(sed -n 's#.*listening on http://\([^ ]*\).*#\1#p' "$DEMO/vimon.log" | head -n 1)
URL=http://$ADDR

cat <<EOF

vimon is watching the simulator at $SIM_URL.
VM "$VM_NAME" ($VM) has a pending question (demo-q1) and a power-on task ($TASK)
blocked by it.

Open:
  $URL/metrics              Prometheus metrics of every target
  $URL/api/v1/questions     pending questions, with their text and choices
  $URL/api/v1/tasks?state=active   queued and running tasks (the blocked power-on)
  $URL/api/v1/targets       the targets and their state
  $URL/healthz              liveness

Try:
  curl -s $URL/metrics | grep -E 'vsphere_(up|vm_question_pending|task_blocked)'
  curl -s $URL/api/v1/questions
  curl -s -X POST -H 'Content-Type: application/json' -d '{"vm":"$VM","state":"suspended"}' $SIM_BASE/_sim/vm/power
  curl -s --compressed $URL/metrics | grep 'vm_power_state.*$VM_NAME'

vimon's log: $DEMO/vimon.log
Ctrl-C stops vimon and the simulator.
EOF
wait "$AGENT_PID"
AGENT_PID=
echo "demo: vimon exited: $(tail -n 3 "$DEMO/vimon.log")"

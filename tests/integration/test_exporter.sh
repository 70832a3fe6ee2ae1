#!/bin/sh
# Integration: the Prometheus exporter conventions of the agent: vimon_build_info, the
# process_* families, --listen overriding the configuration, a configuration with no
# targets, and /api/v1/tasks?state=.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
VIMON=${VIMON_BUILD:-$TOP/build}/vimon
W=$VIMON_TEST_TMP/exporter.$$
mkdir -p "$W"
printf 'pw\n' >"$W/pw"
chmod 600 "$W/pw"
. "$(dirname "$0")/agent_lib.sh"

# plain FILE NAME: the value of the unlabelled series NAME.
plain() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }

if [ ! -x "$VIMON" ]; then
	not_ok "vimon binary $VIMON exists"
	done_testing
fi

# --listen: validated, shown by --check-config, and it wins over the file.
printf 'listen = "127.0.0.1:1";\ntargets = ();\n' >"$W/empty.conf"
out=$("$VIMON" --check-config -c "$W/empty.conf" --listen 127.0.0.1:0 2>&1)
is "$?:$out" "0:$W/empty.conf: ok (0 targets, listen 127.0.0.1:0)" \
	"--check-config shows the --listen address instead of the file's"
out=$("$VIMON" -c "$W/empty.conf" --listen nowhere 2>&1)
is "$?:$out" '2:vimon: invalid --listen "nowhere" (want HOST:PORT or [IPV6]:PORT)' \
	"an invalid --listen exits 2 with a message"
like "$("$VIMON" --help)" '--listen HOST:PORT' "--help documents --listen"

# No targets: the agent runs and serves its own metrics (the packaged vimon.conf).
port=$(free_port)
"$VIMON" -c "$W/empty.conf" -l "127.0.0.1:$port" 2>"$W/empty.log" &
AGENT_PID=$!
echo "$AGENT_PID" >>"$VIMON_TEST_PIDS"
echo "$AGENT_PID" >>"$W/pids"
wait_file "$W/empty.log"
i=0
while ! grep -q 'listening on' "$W/empty.log" && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
AGENT_URL=http://127.0.0.1:$port
like "$(cat "$W/empty.log")" "listening on http://127.0.0.1:$port " "--listen overrides listen of the file"
metrics >"$W/m0"
like "$(cat "$W/m0")" '^vimon_build_info\{version="[0-9.]+",revision="[^"]+"\} 1$' \
	"no targets: /metrics still has vimon_build_info"
is "$(grep -c '^vsphere_' "$W/m0")" 0 "no targets: no vsphere_ series"
is "$(curl -sS "$AGENT_URL/api/v1/targets" | py 'j')" "[]" "no targets: /api/v1/targets is []"
agent_stop
is "$AGENT_EXIT" 0 "the agent with no targets stops cleanly"

# ------------------------------------------------------------------------------------------
# One simulator with a blocked power-on
if ! sim_start; then
	not_ok "simulator starts"
	done_testing
fi
cat >"$W/vimon.conf" <<EOF2
listen = "127.0.0.1:1";
targets = (
  { name = "sim"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw"; timeout = 10; }
);
EOF2
port=$(free_port)
AGENT_LOG=$W/agent.log
"$VIMON" -c "$W/vimon.conf" --listen "127.0.0.1:$port" 2>"$AGENT_LOG" &
AGENT_PID=$!
echo "$AGENT_PID" >>"$VIMON_TEST_PIDS"
echo "$AGENT_PID" >>"$W/pids"
AGENT_URL=http://127.0.0.1:$port
if wait_value 1 30 vsphere_up 'target="sim"'; then
	ok "the agent serves on the --listen address"
else
	not_ok "the agent serves on the --listen address (got '$GOT'): $(cat "$AGENT_LOG")"
fi

metrics >"$W/m"
if promtool check metrics <"$W/m" >"$W/promtool.out" 2>&1; then
	ok "promtool check metrics accepts /metrics"
else
	not_ok "promtool check metrics accepts /metrics: $(head -5 "$W/promtool.out")"
fi
# The revision is the commit the binary was built from (its build directory records it),
# which must be a commit of this repository.
rev=$(cat "$(dirname "$VIMON")/revision.stamp" 2>/dev/null || echo missing)
like "$(grep '^vimon_build_info' "$W/m")" \
	"^vimon_build_info\\{version=\"[0-9.]+\",revision=\"$rev\"\\} 1\$" \
	"vimon_build_info carries the version and the git revision it was built from ($rev)"
check "the revision $rev is a commit of the repository" git -C "$TOP" cat-file -e "$rev^{commit}"
for f in process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes \
	process_open_fds process_max_fds process_start_time_seconds; do
	like "$(grep "^$f " "$W/m")" "^$f [0-9.e+]+\$" "$f is there, unlabelled"
done
like "$(grep '^# TYPE process_cpu_seconds_total' "$W/m")" 'counter$' "process_cpu_seconds_total is a counter"
pid_fds=$(ls /proc/"$AGENT_PID"/fd | wc -l)
fds=$(plain "$W/m" process_open_fds)
check "process_open_fds ($fds) is the agent's own count (about $pid_fds)" \
	test "$fds" -ge $((pid_fds - 3)) -a "$fds" -le $((pid_fds + 3))
rss=$(plain "$W/m" process_resident_memory_bytes)
rss_kb=$(awk '/^VmRSS/ {print $2}' /proc/"$AGENT_PID"/status)
check "process_resident_memory_bytes ($rss) is the agent's RSS (${rss_kb} kB) within a factor of 2" \
	awk -v a="$rss" -v b="$((rss_kb * 1024))" 'BEGIN { exit !(a > b * 0.5 && a < b * 2) }'
start=$(plain "$W/m" process_start_time_seconds)
now=$(date +%s)
check "process_start_time_seconds ($start) is within the last 2 minutes" \
	awk -v s="$start" -v n="$now" 'BEGIN { exit !(s > n - 120 && s <= n + 1) }'
# the counters move: CPU spent between two scrapes more than a second apart
sleep 1.1
metrics >"$W/m2"
check "process_cpu_seconds_total does not go back" \
	awk -v a="$(plain "$W/m" process_cpu_seconds_total)" -v b="$(plain "$W/m2" process_cpu_seconds_total)" \
	'BEGIN { exit !(a != "" && b >= a) }'

# /api/v1/tasks?state=: a power-on blocked by a question (running) and a finished task
VM=$(simctl GET /_sim/inventory | py '[v["moref"] for v in j["vms"] if not v["name"].startswith("odd")][0]')
VM2=$(simctl GET /_sim/inventory | py '[v["moref"] for v in j["vms"] if not v["name"].startswith("odd")][1]')
simctl POST /_sim/vm/power "{\"vm\":\"$VM\",\"state\":\"poweredOff\"}" >/dev/null
simctl POST /_sim/vm/power "{\"vm\":\"$VM2\",\"state\":\"poweredOn\"}" >/dev/null
simctl POST /_sim/question "{\"vm\":\"$VM\",\"id\":\"q-x\",\"text\":\"Moved or copied?\",
	\"choices\":[{\"key\":\"0\",\"label\":\"Cancel\"},{\"key\":\"1\",\"label\":\"I Moved It\"}],\"default\":1}" >/dev/null
soap_login >/dev/null
TASK=$(xml_value "$(soap PowerOnVM_Task "<_this type=\"VirtualMachine\">$VM</_this>")" returnval)
DONE=$(xml_value "$(soap PowerOffVM_Task "<_this type=\"VirtualMachine\">$VM2</_this>")" returnval)
i=0
while [ $i -lt 100 ]; do
	curl -sS "$AGENT_URL/api/v1/tasks" >"$W/all.json"
	[ "$(py "sorted(t['state'] for t in j if t['task_id'] in ('$TASK', '$DONE'))" <"$W/all.json")" = \
		"['running', 'success']" ] && break
	sleep 0.1
	i=$((i + 1))
done
is "$(py "sorted((t['task_id'], t['state']) for t in j if t['task_id'] in ('$TASK', '$DONE'))" <"$W/all.json")" \
	"$(python3 -c "print(sorted([('$TASK', 'running'), ('$DONE', 'success')]))")" \
	"/api/v1/tasks holds running and finished tasks"
is "$(curl -sS "$AGENT_URL/api/v1/tasks?state=running" | py "[(t['task_id'], t['blocked']) for t in j]")" \
	"[('$TASK', True)]" "?state=running: only the blocked power-on"
is "$(curl -sS "$AGENT_URL/api/v1/tasks?state=active" | py "[t['task_id'] for t in j]")" \
	"['$TASK']" "?state=active: queued and running"
is "$(curl -sS "$AGENT_URL/api/v1/tasks?state=success" | py "'$DONE' in [t['task_id'] for t in j] and '$TASK' not in [t['task_id'] for t in j]")" \
	"True" "?state=success: the finished power-off, not the running task"
code=$(curl -sS -o "$W/bad" -w '%{http_code}' "$AGENT_URL/api/v1/tasks?state=runing")
is "$code:$(cat "$W/bad")" "400:invalid state: want a comma-separated list of queued, running, success, error, active" \
	"an unknown state is a 400 naming the known ones"
simctl POST /_sim/question/clear "{\"vm\":\"$VM\"}" >/dev/null

# A reload keeps the --listen address, whatever listen the file now says.
other=$(free_port)
sed -i "s/^listen = .*/listen = \"127.0.0.1:$other\";/" "$W/vimon.conf"
kill -HUP "$AGENT_PID"
wait_log 'reload: '
like "$(grep 'reload: ' "$AGENT_LOG")" 'reload: 1 targets kept, 0 started, 0 stopped' "SIGHUP reloads"
is "$(curl -sS -o /dev/null -w '%{http_code}' "$AGENT_URL/healthz")" 200 "after a reload the agent still serves on --listen"
is "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$other/healthz" 2>/dev/null)" 000 \
	"and not on the file's new listen"
agent_stop
is "$AGENT_EXIT" 0 "the agent stops cleanly"
done_testing

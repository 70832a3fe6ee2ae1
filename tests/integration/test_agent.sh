#!/bin/sh
# Integration: the vimon agent (build/vimon, and the ASan build) end to end against simulators.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
VIMON=${VIMON_BUILD:-$TOP/build}/vimon
ASAN_VIMON=${VIMON_ASAN_BUILD:-$TOP/build-asan}/vimon
W=$VIMON_TEST_TMP/agent.$$
mkdir -p "$W"
PASSWORD=vimon-pw-SECRET-42
printf '%s\n' "$PASSWORD" >"$W/pw"
chmod 600 "$W/pw"

. "$(dirname "$0")/agent_lib.sh"

if [ ! -x "$VIMON" ]; then
	not_ok "vimon binary $VIMON exists"
	done_testing
fi


# ------------------------------------------------------------------------------------------
# Command line

out=$("$VIMON" --version 2>&1)
rc=$?
like "$out" '^vimon [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"
is "$rc" 0 "--version exits 0"
out=$("$VIMON" --help 2>&1)
rc=$?
like "$out" '--check-config' "--help describes --check-config"
is "$rc" 0 "--help exits 0"
"$VIMON" --no-such-option >/dev/null 2>&1
is "$?" 2 "an unknown option exits 2"

BAD=$W/bad.conf
cat >"$BAD" <<EOF
listen = "nowhere";
targets = (
  { name = "a"; url = "ftp://x"; username = "u"; password_file = "$W/pw"; },
  { name = "a"; url = "https://y/sdk"; username = "u"; password_env = "VIMON_TEST_UNSET_VAR"; bogus = 1; }
);
EOF
unset VIMON_TEST_UNSET_VAR
"$VIMON" --check-config -c "$BAD" >"$W/check.out" 2>"$W/check.err"
is "$?" 2 "--check-config on a bad config exits 2"
is "$(grep -cv "^$BAD:[0-9][0-9]*: " "$W/check.err")" 0 "every problem is printed as FILE:LINE: message"
is "$(cat "$W/check.err")" "$BAD:1: invalid listen \"nowhere\" (want HOST:PORT or [IPV6]:PORT)
$BAD:3: invalid url \"ftp://x\" (want https://host[:port]/sdk)
$BAD:4: unknown key \"bogus\" in target
$BAD:4: password_env: environment variable VIMON_TEST_UNSET_VAR is not set or empty
$BAD:4: duplicate target name \"a\" (first at line 3)" "--check-config reports every problem with its line"

printf 'listen = "127.0.0.1:0"\ntargets = ( { name = ; } );\n' >"$W/syntax.conf"
out=$("$VIMON" --check-config -c "$W/syntax.conf" 2>&1)
rc=$?
is "$rc:$out" "2:$W/syntax.conf:2: syntax error" "a syntax error is FILE:LINE: message, exit 2"

printf '%s\n' "$PASSWORD" >"$W/pw-open"
chmod 644 "$W/pw-open"
printf 'targets = (\n { name = "a"; url = "https://vc/sdk"; username = "u";\n   password_file = "%s"; }\n);\n' \
	"$W/pw-open" >"$W/open.conf"
out=$("$VIMON" --check-config -c "$W/open.conf" 2>&1)
rc=$?
like "$rc:$out" "^2:$W/open.conf:3: password_file .* is accessible by group or others \\(mode 0644\\)" \
	"a world-readable password file is refused"
out=$("$VIMON" -c "$W/open.conf" 2>&1)
is "$?" 2 "the agent refuses to start on an invalid config (exit 2)"
unlike "$out" "$PASSWORD" "the password is in no message"

GOOD=$W/good.conf
printf 'listen = "127.0.0.1:0";\ntargets = ( { name = "x"; url = "https://vc/sdk"; username = "u"; password_file = "%s"; insecure = true; } );\n' \
	"$W/pw" >"$GOOD"
"$VIMON" --check-config -c "$GOOD" >"$W/check.out" 2>"$W/check.err"
is "$?" 0 "--check-config on a good config exits 0"
like "$(cat "$W/check.err")" "warning: target x: insecure" "--check-config warns about insecure"

printf 'targets = ( { name = "x"; url = "https://vc/sdk"; username = "u"; password_file = "%s";\n  insecure = true; thumbprint = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01"; } );\n' \
	"$W/pw" >"$W/contra.conf"
out=$("$VIMON" --check-config -c "$W/contra.conf" 2>&1)
is "$?:$out" "2:$W/contra.conf:2: target x: insecure = true and thumbprint contradict each other: remove insecure to pin the certificate, or thumbprint to skip verification" \
	"insecure together with thumbprint is refused, saying which to remove"
printf 'targets = ( { name = "x"; url = "http://vc/sdk"; username = "u"; password_file = "%s"; } );\n' \
	"$W/pw" >"$W/http.conf"
"$VIMON" --check-config -c "$W/http.conf" >"$W/check.out" 2>"$W/check.err"
is "$?:$(cat "$W/check.err")" "0:$W/http.conf:1: warning: target x: plain http sends the password in clear text" \
	"--check-config warns about a plain http url"

# ------------------------------------------------------------------------------------------
# One simulator: every family, values of known objects, changes within one cycle

if ! sim_start; then
	not_ok "simulator starts"
	done_testing
fi
SIM1_PID=$SIM_PID SIM1_URL=$SIM_URL SIM1_BASE=$SIM_BASE
SIM1_PORT=${SIM1_BASE##*:}
CONF=$W/vimon.conf
cat >"$CONF" <<EOF
listen = "127.0.0.1:0";
targets = (
  { name = "sim1"; url = "$SIM1_URL"; username = "monitor"; password_file = "$W/pw"; timeout = 10; }
);
EOF
if ! agent_start "$CONF"; then
	not_ok "agent starts"
	done_testing
fi
like "$(cat "$AGENT_LOG")" "target sim1: $SIM1_URL as monitor" "the log names the target at start"
if wait_value 1 30 vsphere_up 'target="sim1"'; then
	ok "vsphere_up{target=\"sim1\"} 1 after ${WAITED_MS} ms"
else
	not_ok "vsphere_up{target=\"sim1\"} becomes 1 (got '$GOT')"
	diag "$(tail -n 20 "$AGENT_LOG")"
fi
# the first complete snapshot: wait until every VM is there
simctl GET /_sim/inventory >"$W/inv.json"
NVMS=$(py 'len(j["vms"])' <"$W/inv.json")
NHOSTS=$(py 'len(j["hosts"])' <"$W/inv.json")
NDS=$(py 'len(j["datastores"])' <"$W/inv.json")
wait_count "$NVMS" '^vsphere_vm_info{'
is "$(grep -c '^vsphere_vm_info{target="sim1"' "$W/m")" "$NVMS" "one vsphere_vm_info per VM of the inventory ($NVMS)"
is "$(grep -c '^vsphere_host_info{target="sim1"' "$W/m")" "$NHOSTS" "one vsphere_host_info per host ($NHOSTS)"
is "$(grep -c '^vsphere_datastore_info{target="sim1"' "$W/m")" "$NDS" "one vsphere_datastore_info per datastore ($NDS)"

missing=
for f in vsphere_up vsphere_last_update_timestamp_seconds vsphere_session_logins_total \
	vsphere_collector_errors_total vsphere_api_requests_total vsphere_api_received_bytes_total \
	vsphere_vm_info vsphere_vm_power_state vsphere_vm_connection_state \
	vsphere_vm_guest_heartbeat_status vsphere_vm_uptime_seconds vsphere_vm_cpus \
	vsphere_vm_memory_configured_bytes vsphere_vm_memory_granted_bytes \
	vsphere_vm_memory_consumed_bytes vsphere_vm_memory_guest_active_bytes \
	vsphere_vm_memory_host_usage_bytes vsphere_vm_memory_ballooned_bytes \
	vsphere_vm_memory_swapped_bytes vsphere_vm_memory_shared_bytes \
	vsphere_vm_memory_compressed_bytes vsphere_vm_memory_private_bytes \
	vsphere_vm_memory_overhead_bytes vsphere_host_info vsphere_host_connection_state \
	vsphere_host_maintenance_mode vsphere_host_memory_size_bytes vsphere_host_memory_usage_bytes \
	vsphere_datastore_info vsphere_datastore_capacity_bytes vsphere_datastore_free_bytes \
	vsphere_datastore_uncommitted_bytes vsphere_datastore_provisioned_bytes \
	vsphere_datastore_accessible vsphere_datastore_maintenance_mode vsphere_datastore_hosts \
	vsphere_datastore_vms vsphere_vm_question_pending vsphere_vm_question_pending_seconds \
	vsphere_task_info vsphere_task_running_seconds vsphere_task_blocked; do
	[ "$(grep -c "^# TYPE $f " "$W/m")" = 1 ] || missing="$missing $f"
done
is "$missing" "" "every family is present, with exactly one TYPE line"
is "$(grep '^# TYPE ' "$W/m" | awk '{print $3}' | LC_ALL=C sort -c 2>&1)" "" "families are sorted by name"
is "$(grep -c '^# HELP ' "$W/m")" "$(grep -c '^# TYPE ' "$W/m")" "one HELP per TYPE"
like "$(grep '^vsphere_api_request_duration_seconds_bucket' "$W/m" | head -n 1)" 'le="0.005"' "histogram bounds print as written (le=\"0.005\")"
is "$(grep -cE '[0-9]\.[0-9]*0000000|[0-9]\.[0-9]*9999999' "$W/m")" 0 "no sample value carries float noise"

# known objects, from the simulator's inventory
ODD=$(py '[v["moref"] for v in j["vms"] if v["name"] == "odd%2fslash"][0]' <"$W/inv.json")
ODD_POWER=$(py '[v["power"] for v in j["vms"] if v["name"] == "odd%2fslash"][0]' <"$W/inv.json")
is "$(value "$W/m" vsphere_vm_power_state 'vm="odd/slash"' "vm_id=\"$ODD\"" "state=\"$ODD_POWER\"")" 1 \
	"vsphere_vm_power_state{vm=\"odd/slash\",vm_id=\"$ODD\",state=\"$ODD_POWER\"} 1"
for name in 'odd\\back' 'odd%percent' 'odd\"quote' 'odd|pipe' 'ödd ünïcödé 日本'; do
	is "$(value "$W/m" vsphere_vm_info "vm=\"$name\"")" 1 "odd name vm=\"$name\" decoded and escaped"
done
VM0=$(py '[v["moref"] for v in j["vms"] if not v["name"].startswith("odd") and "\u00f6" not in v["name"]][0]' <"$W/inv.json")
VM0_NAME=$(py "[v['name'] for v in j['vms'] if v['moref'] == '$VM0'][0]" <"$W/inv.json")
DS0=$(py 'j["datastores"][0]["name"]' <"$W/inv.json")
HOST0=$(py 'j["hosts"][0]["name"]' <"$W/inv.json")
is "$(value "$W/m" vsphere_host_info "host=\"$HOST0\"")" 1 "vsphere_host_info{host=\"$HOST0\"} 1"

# a quiet vCenter: one long WaitForUpdatesEx at a time, no new snapshot without changes.
# One change first, so that the wait in flight returns and the agent's next one is counted
# after the reset: a live agent has made at least one call, a dead one none.
simctl POST /_sim/stats/reset '{}' >/dev/null
simctl POST /_sim/vm/quickstats "{\"vm\":\"$VM0\",\"sharedMemory\":7}" >/dev/null
if wait_value 7340032 5 vsphere_vm_memory_shared_bytes "vm=\"$VM0_NAME\""; then
	ok "shared memory (7 MB -> 7340032 bytes) reaches /metrics in ${WAITED_MS} ms"
else
	not_ok "shared memory reaches /metrics within 5 s (got '$GOT')"
fi
sleep 0.5
waits0=$(simctl GET /_sim/stats | py 'j["calls"].get("WaitForUpdatesEx", 0)')
gen0=$(curl -sS "$AGENT_URL/api/v1/targets" | py 'j[0]["generation"]')
sleep 6
waits1=$(simctl GET /_sim/stats | py 'j["calls"].get("WaitForUpdatesEx", 0)')
gen1=$(curl -sS "$AGENT_URL/api/v1/targets" | py 'j[0]["generation"]')
like "$waits0 $waits1 $gen0 $gen1" '^[0-9]+ [0-9]+ [0-9]+ [0-9]+$' \
	"quiet vCenter: call counts and snapshot generations are numbers ($waits0 $waits1 $gen0 $gen1)"
check "quiet vCenter: the agent waits for the next change ($waits0 WaitForUpdatesEx since the change)" \
	test "$waits0" -ge 1
check "quiet vCenter: $((${waits1:-0} - ${waits0:-0})) more WaitForUpdatesEx in 6 s of quiet (at most 2)" \
	test "$waits1" -ge "$waits0" -a "$waits1" -le "$((${waits0:-0} + 2))"
check "quiet vCenter: snapshot generation $gen0 -> $gen1 in 6 s (at most one refresh)" \
	test "$gen1" -ge "$gen0" -a "$gen1" -le "$((${gen0:-0} + 1))"
is "$(value "$W/m" vsphere_datastore_accessible "datastore=\"$DS0\"")" 1 "vsphere_datastore_accessible{datastore=\"$DS0\"} 1"

# continuous changes (a vCenter under churn returns each wait at once): a change every 0.1 s
# for about 4 s is published at most about once a second (TARGET_MIN_PUBLISH_S), not once
# per wait (the simulator answers a wait every 0.25 s), and the last one is not lost
gen0=$(curl -sS --max-time 10 "$AGENT_URL/api/v1/targets" | py 'j[0]["generation"]')
t0=$(date +%s%N)
i=1
while [ $i -le 40 ]; do
	simctl POST /_sim/vm/quickstats "{\"vm\":\"$VM0\",\"privateMemory\":$((1000 + i))}" >/dev/null
	sleep 0.1
	i=$((i + 1))
done
if wait_value $((1040 * 1048576)) 5 vsphere_vm_memory_private_bytes "vm=\"$VM0_NAME\""; then
	ok "under continuous changes the last one reaches /metrics in ${WAITED_MS} ms"
else
	not_ok "under continuous changes the last one reaches /metrics within 5 s (got '$GOT')"
fi
gen1=$(curl -sS --max-time 10 "$AGENT_URL/api/v1/targets" | py 'j[0]["generation"]')
secs=$((($(date +%s%N) - t0) / 1000000000 + 1))
check "40 changes in about $secs s: $((${gen1:-0} - ${gen0:-0})) publications (at most one a second)" \
	test "${gen1:-0}" -gt "${gen0:-0}" -a "${gen1:-0}" -le "$((${gen0:-0} + secs + 1))"

# changes reach /metrics within one cycle, without re-reading the inventory
simctl POST /_sim/stats/reset '{}' >/dev/null
NEW_POWER=poweredOn
[ "$ODD_POWER" = poweredOn ] && NEW_POWER=poweredOff
simctl POST /_sim/vm/power "{\"vm\":\"$ODD\",\"state\":\"$NEW_POWER\"}" >/dev/null
if wait_value 1 5 vsphere_vm_power_state 'vm="odd/slash"' "state=\"$NEW_POWER\""; then
	ok "power change ($NEW_POWER) reaches /metrics in ${WAITED_MS} ms"
else
	not_ok "power change ($NEW_POWER) reaches /metrics within 5 s (got '$GOT')"
fi
simctl POST /_sim/vm/quickstats "{\"vm\":\"$ODD\",\"balloonedMemory\":321,\"swappedMemory\":5}" >/dev/null
if wait_value 336592896 5 vsphere_vm_memory_ballooned_bytes 'vm="odd/slash"'; then
	ok "ballooned memory (321 MB -> 336592896 bytes) reaches /metrics in ${WAITED_MS} ms"
else
	not_ok "ballooned memory reaches /metrics within 5 s (got '$GOT')"
fi
is "$(value "$W/m" vsphere_vm_memory_swapped_bytes 'vm="odd/slash"')" 5242880 "swapped memory 5 MB -> 5242880 bytes"
simctl POST /_sim/datastore "{\"datastore\":\"$DS0\",\"accessible\":false}" >/dev/null
if wait_value 0 5 vsphere_datastore_accessible "datastore=\"$DS0\""; then
	ok "datastore $DS0 inaccessible reaches /metrics in ${WAITED_MS} ms"
else
	not_ok "datastore inaccessible reaches /metrics within 5 s (got '$GOT')"
fi
simctl POST /_sim/question "{\"vm\":\"$VM0\",\"id\":\"q-test-1\",\"text\":\"Did you \\\"move\\\" it or copy it?\",
	\"message_ids\":[\"msg.uuid.altered\"],\"choices\":[{\"key\":\"0\",\"label\":\"Cancel\"},
	{\"key\":\"1\",\"label\":\"I Moved It\"},{\"key\":\"2\",\"label\":\"I Copied It\"}],\"default\":2}" >/dev/null
if wait_value 1 5 vsphere_vm_question_pending "vm=\"$VM0_NAME\""; then
	ok "a new question reaches /metrics in ${WAITED_MS} ms"
else
	not_ok "a new question reaches /metrics within 5 s (got '$GOT')"
fi
like "$(grep "^vsphere_vm_question_pending{.*vm=\"$VM0_NAME\"" "$W/m")" 'q-test-1' "the question series carries its id"
stats=$(simctl GET /_sim/stats)
is "$(printf '%s' "$stats" | py 'j["calls"].get("RetrievePropertiesEx", 0) + j["calls"].get("RetrieveProperties", 0)')" 0 \
	"no RetrievePropertiesEx re-read for those changes (WaitForUpdatesEx calls: $(printf '%s' "$stats" | py 'j["calls"].get("WaitForUpdatesEx", 0)'))"

# the JSON API
curl -sS "$AGENT_URL/api/v1/questions" >"$W/q.json"
is "$(py "[(q.get('text'), q.get('target')) for q in j if q.get('id') == 'q-test-1']" <"$W/q.json")" \
	"[('Did you \"move\" it or copy it?', 'sim1')]" "/api/v1/questions has the question's text and target"
is "$(py "[[c.get('label') for c in q.get('choices', [])] for q in j if q.get('id') == 'q-test-1']" <"$W/q.json")" \
	"[['Cancel', 'I Moved It', 'I Copied It']]" "/api/v1/questions has its choices"
curl -sS "$AGENT_URL/api/v1/targets" >"$W/t.json"
is "$(py '[t.get("name") for t in j]' <"$W/t.json")" "['sim1']" "/api/v1/targets lists the target"
curl -sS -o "$W/tasks.json" -w '%{http_code} %{content_type}' "$AGENT_URL/api/v1/tasks" >"$W/code"
is "$(cat "$W/code"):$(py 'type(j).__name__' <"$W/tasks.json")" "200 application/json:list" "/api/v1/tasks is a JSON array"

# HTTP details
curl -sS -D "$W/h" -H 'Accept-Encoding: gzip' -o "$W/m.gz" "$AGENT_URL/metrics"
like "$(cat "$W/h")" '[Cc]ontent-[Ee]ncoding: gzip' "gzip served when asked"
gunzip -c "$W/m.gz" >"$W/m.gunzip" 2>/dev/null
metrics >"$W/m.plain"
is "$(grep '^# TYPE' "$W/m.gunzip" | md5sum)" "$(grep '^# TYPE' "$W/m.plain" | md5sum)" "the gzip body decodes to the same exposition"
like "$(curl -sS --compressed "$AGENT_URL/metrics" | grep -c '^vsphere_up{')" '^1$' "curl --compressed works"
curl -sS -D "$W/h" -o /dev/null "$AGENT_URL/metrics"
unlike "$(cat "$W/h")" '[Cc]ontent-[Ee]ncoding' "no gzip when not asked"
like "$(cat "$W/h")" '[Cc]ontent-[Tt]ype: text/plain; version=0.0.4' "text format 0.0.4 content type"
is "$(curl -sS -o /dev/null -w '%{http_code}' "$AGENT_URL/nope")" 404 "404 for an unknown path"
is "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -d x=1 "$AGENT_URL/metrics")" 405 "405 for POST /metrics"
code=$(curl -sS -D "$W/h" -o /dev/null -w '%{http_code}' -X DELETE "$AGENT_URL/api/v1/questions")
is "$code" 405 "405 for DELETE /api/v1/questions"
like "$(cat "$W/h")" 'Allow: GET, HEAD' "405 carries Allow: GET, HEAD"
is "$(curl -sS -o /dev/null -w '%{http_code}' -I "$AGENT_URL/metrics")" 200 "HEAD /metrics is 200"
is "$(curl -sS "$AGENT_URL/healthz")" ok "/healthz says ok"
big=$(head -c 60000 /dev/zero | tr '\0' 'x')
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$AGENT_URL/metrics" 2>/dev/null)
like "$code" '^(4[0-9][0-9]|000)$' "a request larger than the per-connection memory limit is refused ($code)"
is "$(curl -sS "$AGENT_URL/healthz")" ok "... and the agent keeps serving"
curl -sS "$AGENT_URL/api/v1/targets" "$AGENT_URL/api/v1/questions" "$AGENT_URL/metrics" >"$W/all"
unlike "$(cat "$W/all" "$AGENT_LOG")" "$PASSWORD" "the password is not in the metrics, the API or the log"

# a forced session expiry: exactly one re-login
metrics >"$W/m"
logins=$(value "$W/m" vsphere_session_logins_total 'target="sim1"')
simctl POST /_sim/fault '{"kind":"expire-sessions"}' >/dev/null
simctl POST /_sim/vm/power "{\"vm\":\"$ODD\",\"state\":\"$ODD_POWER\"}" >/dev/null
if wait_value "$((logins + 1))" 20 vsphere_session_logins_total 'target="sim1"'; then
	ok "a forced session expiry gives a re-login ($logins -> $GOT) in ${WAITED_MS} ms"
else
	not_ok "a forced session expiry gives a re-login (was $logins, got '$GOT')"
fi
if wait_value 1 10 vsphere_vm_power_state 'vm="odd/slash"' "state=\"$ODD_POWER\""; then
	ok "collection goes on after the re-login"
else
	not_ok "collection goes on after the re-login (got '$GOT')"
fi
sleep 2
metrics >"$W/m"
is "$(value "$W/m" vsphere_session_logins_total 'target="sim1"')" "$((logins + 1))" "exactly one re-login"

# the simulator goes away and comes back on the same port
SIM_PID=$SIM1_PID
sim_stop
if wait_value 0 30 vsphere_up 'target="sim1"'; then
	ok "simulator stopped: vsphere_up{target=\"sim1\"} 0 after ${WAITED_MS} ms"
else
	not_ok "simulator stopped: vsphere_up{target=\"sim1\"} 0 (got '$GOT')"
fi
is "$(curl -sS -o /dev/null -w '%{http_code}' "$AGENT_URL/metrics")" 200 "/metrics still served while the target is down"
if sim_start -listen "127.0.0.1:$SIM1_PORT"; then
	SIM1_PID=$SIM_PID
	if wait_value 1 90 vsphere_up 'target="sim1"'; then
		ok "simulator back on port $SIM1_PORT: vsphere_up 1 again after ${WAITED_MS} ms"
	else
		not_ok "simulator back: vsphere_up becomes 1 again (got '$GOT')"
		diag "$(tail -n 10 "$AGENT_LOG")"
	fi
else
	not_ok "simulator restarts on port $SIM1_PORT"
fi

# ------------------------------------------------------------------------------------------
# SIGHUP: a broken config is reported and the old one kept; a good one adds a target

cp "$CONF" "$CONF.good"
printf 'listen = "127.0.0.1:0";\ntargets = (\n { name = "sim1"; url = "nope"; }\n);\n' >"$CONF"
kill -HUP "$AGENT_PID"
wait_log 'keeping the running configuration'
like "$(cat "$AGENT_LOG")" "$CONF:3: invalid url \"nope\"" "SIGHUP with a broken config logs its problems as FILE:LINE"
like "$(cat "$AGENT_LOG")" "$CONF:3: target sim1: missing required key \"username\"" "... every one of them"
is "$(curl -sS "$AGENT_URL/healthz")" ok "... and keeps serving"
metrics >"$W/m"
is "$(value "$W/m" vsphere_up 'target="sim1"')" 1 "... with the old targets"

if sim_start; then
	SIM2_PID=$SIM_PID SIM2_URL=$SIM_URL
	cat >"$CONF" <<EOF
listen = "127.0.0.1:0";
targets = (
  { name = "sim1"; url = "$SIM1_URL"; username = "monitor"; password_file = "$W/pw"; timeout = 10; },
  { name = "sim2"; url = "$SIM2_URL"; username = "monitor"; password_file = "$W/pw"; }
);
EOF
	metrics >"$W/m"
	logins1=$(value "$W/m" vsphere_session_logins_total 'target="sim1"')
	kill -HUP "$AGENT_PID"
	if wait_value 1 30 vsphere_up 'target="sim2"'; then
		ok "SIGHUP with a good config adds target sim2 (up after ${WAITED_MS} ms)"
	else
		not_ok "SIGHUP with a good config adds target sim2 (got '$GOT')"
		diag "$(tail -n 10 "$AGENT_LOG")"
	fi
	like "$(cat "$AGENT_LOG")" 'reload: 1 targets kept, 1 started, 0 stopped' "the unchanged target keeps running"
	is "$(value "$W/m" vsphere_session_logins_total 'target="sim1"')" "$logins1" "sim1 keeps its session (no new login)"
	# both targets complete, then promtool
	wait_count "$NVMS" '^vsphere_vm_info{target="sim2"'
	is "$(grep -c '^# TYPE vsphere_vm_info ' "$W/m"):$(grep -c '^vsphere_vm_info{target="sim2"' "$W/m")" "1:$NVMS" \
		"two targets: one TYPE per family, samples of both"
	if command -v promtool >/dev/null 2>&1; then
		promtool check metrics <"$W/m" >"$W/promtool.out" 2>&1
		rc=$?
		is "$rc" 0 "two targets: promtool check metrics passes"
		[ "$rc" -eq 0 ] || diag "$(head -n 10 "$W/promtool.out")"
	else
		not_ok "two targets: promtool check metrics (promtool is not installed; scripts/deps.sh installs it)"
	fi
else
	not_ok "second simulator starts"
fi

# SIGHUP with a changed listen re-binds; the targets keep running
PORT=$(free_port)
OLD_URL=$AGENT_URL
sed -i "s/^listen = .*/listen = \"127.0.0.1:$PORT\";/" "$CONF"
kill -HUP "$AGENT_PID"
wait_log "listening on http://127.0.0.1:$PORT"
AGENT_URL=http://127.0.0.1:$PORT
is "$(curl -sS "$AGENT_URL/healthz" 2>&1)" ok "SIGHUP with a new listen address re-binds to port $PORT"
isnt "$(curl -sS -o /dev/null -w '%{http_code}' "$OLD_URL/healthz" 2>/dev/null)" 200 "... and the old address is closed"
like "$(tail -n 3 "$AGENT_LOG")" 'reload: 2 targets kept, 0 started, 0 stopped' "... keeping both targets"
metrics >"$W/m"
is "$(value "$W/m" vsphere_up 'target="sim2"')" 1 "... which are still served"

# a listen address that is busy: the old one is kept, and the next SIGHUP tries again
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$W/busy.port" &
BUSY_PID=$!
echo "$BUSY_PID" >>"$VIMON_TEST_PIDS"
echo "$BUSY_PID" >>"$W/pids"
wait_file "$W/busy.port"
BUSY=$(cat "$W/busy.port")
sed -i "s/^listen = .*/listen = \"127.0.0.1:$BUSY\";/" "$CONF"
kill -HUP "$AGENT_PID"
wait_log "keeping the old listen address 127.0.0.1:$PORT"
like "$(cat "$AGENT_LOG")" "keeping the old listen address 127.0.0.1:$PORT" "SIGHUP with a busy listen address keeps the old one"
is "$(curl -sS "$AGENT_URL/healthz" 2>&1)" ok "... and serves on it"
kill "$BUSY_PID" 2>/dev/null
wait "$BUSY_PID" 2>/dev/null
kill -HUP "$AGENT_PID"
wait_log "listening on http://127.0.0.1:$BUSY"
is "$(curl -sS "http://127.0.0.1:$BUSY/healthz" 2>&1)" ok "the next SIGHUP (same file) binds the address once it is free"
AGENT_URL=http://127.0.0.1:$BUSY

# one client cannot hold every connection: past 32 from one address, new ones are closed
held=$(python3 -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
socks = [socket.create_connection((host, int(port))) for _ in range(40)]
for s in socks:
    s.setblocking(False)
closed = set()
# poll until at least 8 are closed and nothing changed for 0.5 s (10 s at most)
deadline, quiet = time.time() + 10, time.time() + 0.5
while time.time() < deadline:
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            if s.recv(1) == b"":
                closed.add(i)
                quiet = time.time() + 0.5
        except BlockingIOError:
            pass
        except OSError:
            closed.add(i)
            quiet = time.time() + 0.5
    if len(closed) >= 8 and time.time() >= quiet:
        break
    time.sleep(0.05)
print(40 - len(closed))' "${AGENT_URL#http://}")
is "$held" 32 "40 idle connections from one address: 32 kept open, the rest closed"
is "$(curl -sS "$AGENT_URL/healthz")" ok "... and the agent serves once they are gone"

agent_stop
is "$AGENT_EXIT" 0 "SIGTERM: exit 0"
like "$(tail -n 3 "$AGENT_LOG")" 'stopped' "SIGTERM: logs that it stopped"

# ------------------------------------------------------------------------------------------
# A hung vCenter (accepts, never answers) delays neither a reload nor SIGTERM

python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept(); held.append(c)
    print("accepted", len(held), flush=True)' >"$W/hung.port" &
HUNG_PID=$!
echo "$HUNG_PID" >>"$VIMON_TEST_PIDS"
echo "$HUNG_PID" >>"$W/pids"
wait_file "$W/hung.port"
HUNG=http://127.0.0.1:$(head -n 1 "$W/hung.port")/sdk
cat >"$W/hung.conf" <<EOF
listen = "127.0.0.1:0";
targets = (
  { name = "hung2"; url = "$HUNG"; username = "u"; password_file = "$W/pw"; },
  { name = "hung3"; url = "$HUNG"; username = "u"; password_file = "$W/pw"; },
  { name = "hung1"; url = "$HUNG"; username = "u"; password_file = "$W/pw"; }
);
EOF
if agent_start "$W/hung.conf"; then
	# every target is inside its login calls (collection and performance counters: two
	# sessions each) once the server has accepted six connections
	_i=0
	while [ "$(grep -c '^accepted' "$W/hung.port")" -lt 6 ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	is "$(grep -c '^accepted' "$W/hung.port")" 6 \
		"the hung server holds two connections per target (collection, performance counters)"
	sed -i '/hung2\|hung3/d' "$W/hung.conf"
	t0=$(date +%s%N)
	kill -HUP "$AGENT_PID"
	wait_log 'reload: [0-9]'
	ms=$((($(date +%s%N) - t0) / 1000000))
	like "$(cat "$AGENT_LOG")" 'reload: 1 targets kept, 0 started, 2 stopped' "reload stops two targets stuck on a hung server"
	check "... in $ms ms (under 2 s)" test "$ms" -lt 2000
	t0=$(date +%s%N)
	agent_stop
	ms=$((($(date +%s%N) - t0) / 1000000))
	is "$AGENT_EXIT" 0 "SIGTERM with a target stuck on a hung server: exit 0"
	check "... in $ms ms (under 2 s)" test "$ms" -lt 2000
else
	not_ok "agent starts with hung targets"
fi
kill "$HUNG_PID" 2>/dev/null


# ------------------------------------------------------------------------------------------
# The ASan/UBSan build through the same paths

if [ -x "$ASAN_VIMON" ]; then
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} agent_start "$CONF" "$ASAN_VIMON"
	if wait_value 1 60 vsphere_up 'target="sim1"' && wait_value 1 60 vsphere_up 'target="sim2"'; then
		ok "ASan build: both targets up"
	else
		not_ok "ASan build: both targets up (sim1: '$(value "$W/m" vsphere_up 'target="sim1"')', sim2: '$(value "$W/m" vsphere_up 'target="sim2"')')"
	fi
	curl -sS -H 'Accept-Encoding: gzip' "$AGENT_URL/metrics" | gunzip -c >/dev/null 2>&1
	curl -sS "$AGENT_URL/api/v1/questions" "$AGENT_URL/api/v1/targets" "$AGENT_URL/nope" >/dev/null
	curl -sS -X POST -d x "$AGENT_URL/metrics" >/dev/null
	# reload: drop sim2 (stops its thread), then TERM
	cat >"$CONF" <<EOF
listen = "127.0.0.1:0";
targets = (
  { name = "sim1"; url = "$SIM1_URL"; username = "monitor"; password_file = "$W/pw"; timeout = 10; }
);
EOF
	kill -HUP "$AGENT_PID"
	wait_log 'reload: '
	like "$(cat "$AGENT_LOG")" 'reload: 1 targets kept, 0 started, 1 stopped' "ASan build: reload stops the removed target"
	agent_stop
	is "$AGENT_EXIT" 0 "ASan build: exit 0 after SIGTERM"
	unlike "$(cat "$AGENT_LOG")" 'AddressSanitizer|LeakSanitizer|runtime error' "ASan build: no sanitizer report"
else
	skip "ASan build" "$ASAN_VIMON not built"
fi

done_testing

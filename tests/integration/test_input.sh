#!/bin/sh
# Integration: secrets and untrusted input (issue 9, items 7, 8, 10, 11): password files that
# are not regular files, credentials in URLs, ports and addresses, log injection, log formats.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent_lib.sh"

# target_conf FILE URL [EXTRA]: one target on URL with password_file $W/pw.
target_conf() {
	printf 'listen = "127.0.0.1:0";\n%s\ntargets = ( { name = "x"; url = "%s"; username = "u"; password_file = "%s"; } );\n' \
		"${3:-}" "$2" "$W/pw" >"$1"
}

# ------------------------------------------------------------------------------------------
# Item 7: a FIFO or a device as password_file is refused at once, not opened and waited on.
mkfifo "$W/fifo"
chmod 600 "$W/fifo"
printf 'targets = ( { name = "x"; url = "https://vc/sdk"; username = "u"; password_file = "%s"; } );\n' \
	"$W/fifo" >"$W/fifo.conf"
out=$(timeout 5 "$VIMON" --check-config -c "$W/fifo.conf" 2>&1)
rc=$?
like "$rc:$out" "^2:.*password_file $W/fifo is not a regular file" \
	"--check-config refuses a FIFO as password_file without blocking"
printf 'targets = ( { name = "x"; url = "https://vc/sdk"; username = "u"; password_file = "/dev/zero"; } );\n' \
	>"$W/dev.conf"
out=$(timeout 5 "$VIMON" --check-config -c "$W/dev.conf" 2>&1)
like "$?:$out" "^2:.*password_file /dev/zero is not a regular file" "a device is refused too"

# A SIGHUP that points password_file at a FIFO: the agent keeps running and stops on SIGTERM.
target_conf "$W/hup.conf" "http://127.0.0.1:1/sdk"
if agent_start "$W/hup.conf"; then
	sed -i "s#$W/pw#$W/fifo#" "$W/hup.conf"
	kill -HUP "$AGENT_PID"
	wait_log "not a regular file" 30
	like "$(cat "$AGENT_LOG")" "not a regular file" "a reload with a FIFO password_file is refused"
	kill -TERM "$AGENT_PID"
	_i=0
	while kill -0 "$AGENT_PID" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if kill -0 "$AGENT_PID" 2>/dev/null; then
		not_ok "SIGTERM stops the agent after that reload"
		kill -KILL "$AGENT_PID"
	else
		ok "SIGTERM stops the agent after that reload"
	fi
else
	not_ok "agent starts"
fi

# ------------------------------------------------------------------------------------------
# Item 8: credentials in a URL are refused without being echoed.
target_conf "$W/cred.conf" "https://admin:s3cr3t-pw@vc.example/sdk"
out=$("$VIMON" --check-config -c "$W/cred.conf" 2>&1)
rc=$?
is "$rc" 2 "a url with credentials is refused"
unlike "$out" 's3cr3t-pw' "the refusal does not print the password"
like "$out" 'credentials' "the refusal says why"
printf 'listen = "127.0.0.1:0";\ntargets = ( { name = "x"; url = "https://vc/sdk"; username = "u"; password_file = "%s"; proxy = "ftp://pu:pr0xy-pw@p:1"; } );\n' \
	"$W/pw" >"$W/proxy.conf"
out=$("$VIMON" --check-config -c "$W/proxy.conf" 2>&1)
is "$?" 2 "a proxy that is not http(s) or socks is refused"
unlike "$out" 'pr0xy-pw' "the refusal does not print the proxy password"

# ------------------------------------------------------------------------------------------
# Item 10: ports and addresses are validated.
for bad in 'listen = "127.0.0.1:99999";' 'listen = "999.1.1.1:80";' 'listen = "1.2.3.4.5:80";' \
	'listen = "[::g]:80";' 'listen = "-host:80";'; do
	printf '%s\ntargets = ( { name = "x"; url = "https://vc/sdk"; username = "u"; password_file = "%s"; } );\n' \
		"$bad" "$W/pw" >"$W/bad.conf"
	out=$("$VIMON" --check-config -c "$W/bad.conf" 2>&1)
	like "$?:$out" "^2:.*:1: invalid listen" "--check-config refuses $bad"
done
for url in "https://vc:99999/sdk" "https://vc:0/sdk" "https://999.1.1.1/sdk" "https://[::zz]/sdk" \
	"https://vc..example/sdk"; do
	target_conf "$W/bad.conf" "$url"
	out=$("$VIMON" --check-config -c "$W/bad.conf" 2>&1)
	like "$?:$out" "^2:.*invalid url" "--check-config refuses url $url"
done
printf 'listen = "127.0.0.1:0";\ntargets = ( { name = "x"; url = "https://vc/sdk"; username = "u"; password_file = "%s"; proxy = "http://p:123456"; } );\n' \
	"$W/pw" >"$W/bad.conf"
out=$("$VIMON" --check-config -c "$W/bad.conf" 2>&1)
like "$?:$out" "^2:.*invalid proxy" "--check-config refuses proxy port 123456"
for good in 'listen = "[::1]:9743";' 'listen = "localhost:9743";' 'listen = "0.0.0.0:0";'; do
	printf '%s\ntargets = ( { name = "x"; url = "https://vc-1.example.com:443/sdk"; username = "u"; password_file = "%s"; proxy = "http://u:p@proxy:3128"; } );\n' \
		"$good" "$W/pw" >"$W/good.conf"
	out=$("$VIMON" --check-config -c "$W/good.conf" 2>&1)
	is "$?" 0 "--check-config accepts $good with a proxy"
done

# ------------------------------------------------------------------------------------------
# Item 11: control characters from the network are escaped in the log; log formats.
if sim_start -cluster 1 -host 1 -vm 1 -standalone 0 -odd-names=false; then
	simctl POST /_sim/fault '{"kind":"soap-fault","fault":"SystemError","method":"RetrieveServiceContent","count":3,"message":"boom\nvimon: error: FORGED LINE\r\t\u007fend"}' >/dev/null
	target_conf "$W/sim.conf" "$SIM_URL"
	agent_start "$W/sim.conf"
	wait_log "FORGED" 50
	is "$(grep -c '^vimon: error: FORGED' "$AGENT_LOG")" 0 "a newline in a fault string forges no log line"
	like "$(grep FORGED "$AGENT_LOG")" 'boom\\nvimon: error: FORGED LINE\\r\\t\\x7fend' \
		"control characters are escaped (newline, CR, tab, DEL)"
	is "$(grep -c "$(printf '\177')" "$AGENT_LOG")" 0 "no DEL character reaches the log"
	like "$(head -n 1 "$AGENT_LOG")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z vimon: info: ' \
		"log lines carry a UTC timestamp by default"
	agent_stop

	JOURNAL_STREAM=8:1234 agent_start "$W/sim.conf"
	like "$(head -n 1 "$AGENT_LOG")" '^vimon: info: ' "no timestamp when stderr is the journal"
	agent_stop

	simctl POST /_sim/fault/clear '{}' >/dev/null
	target_conf "$W/logfmt.conf" "$SIM_URL" 'log_format = "logfmt";'
	simctl POST /_sim/fault '{"kind":"soap-fault","fault":"SystemError","method":"RetrieveServiceContent","message":"say \"hi\"\nx"}' >/dev/null
	agent_start "$W/logfmt.conf"
	wait_log 'say' 50
	like "$(head -n 1 "$AGENT_LOG")" '^ts=[0-9-]+T[0-9:.]+Z level=info msg="vimon [0-9.]+ starting: ' \
		"log_format logfmt: ts, level and msg"
	like "$(grep 'say' "$AGENT_LOG")" '^ts=[^ ]+ level=warning msg="target x: (performance counters: )?fault: .*say \\"hi\\"\\nx"$' \
		"logfmt quotes and escapes the message"
	agent_stop

	"$VIMON" --log-level warning -c "$W/sim.conf" 2>"$W/lvl.log" &
	_p=$!
	echo "$_p" >>"$VIMON_TEST_PIDS"
	sleep 1.5
	kill -TERM "$_p"
	wait "$_p"
	is "$(grep -c 'info' "$W/lvl.log")" 0 "--log-level warning drops info lines"
	out=$("$VIMON" --log-level chatty -c "$W/sim.conf" 2>&1)
	like "$?:$out" '^2:.*--log-level' "an unknown --log-level is refused (exit 2)"
	sim_stop
else
	not_ok "simulator starts"
fi
done_testing

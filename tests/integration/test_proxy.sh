#!/bin/sh
# Integration: targets reached through an HTTP proxy (CONNECT tunnel to an HTTPS
# simulator with a pinned certificate), and what a broken proxy looks like.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
VIMON=${VIMON_BUILD:-$TOP/build}/vimon
W=$VIMON_TEST_TMP/proxy.$$
mkdir -p "$W"
printf 'proxy-pw-SECRET\n' >"$W/pw"
chmod 600 "$W/pw"
. "$(dirname "$0")/agent_lib.sh"

if ! sim_start -tls; then
	not_ok "simulator with -tls starts"
	done_testing
fi
SIM_PORT=${SIM_BASE##*:}

# proxy_start: a CONNECT proxy logging to $W/proxy.log; sets PROXY_PORT.
python3 "$(dirname "$0")/connect_proxy.py" "$W/proxy.log" >"$W/proxy.out" 2>&1 &
PROXY_PID=$!
echo "$PROXY_PID" >>"$VIMON_TEST_PIDS"
echo "$PROXY_PID" >>"$W/pids"
wait_file "$W/proxy.out"
PROXY_PORT=$(sed -n 's/^port //p' "$W/proxy.out")
like "$PROXY_PORT" '^[0-9]+$' "the CONNECT proxy listens (port $PROXY_PORT)"

# A closed port for the unreachable proxy.
DEAD_PORT=$(free_port)

cat >"$W/vimon.conf" <<CONF
listen = "127.0.0.1:0";
targets = (
  { name = "viaproxy"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw";
    thumbprint = "$SIM_SHA256"; proxy = "http://127.0.0.1:$PROXY_PORT"; timeout = 10; },
  { name = "deadproxy"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw";
    thumbprint = "$SIM_SHA256"; proxy = "http://puser:proxy-SECRET@127.0.0.1:$DEAD_PORT"; timeout = 5; },
  { name = "refused"; url = "https://127.0.0.1:$DEAD_PORT/sdk"; username = "u"; password_file = "$W/pw";
    thumbprint = "$SIM_SHA256"; proxy = "http://127.0.0.1:$PROXY_PORT"; timeout = 5; }
);
CONF
if ! agent_start "$W/vimon.conf"; then
	not_ok "vimon starts with proxied targets"
	done_testing
fi

wait_value 1 20 vsphere_up 'target="viaproxy"'
is "$GOT" 1 "through the proxy: vsphere_up{target=\"viaproxy\"} 1 (after ${WAITED_MS} ms)"
like "$(cat "$W/proxy.log" 2>/dev/null)" "^CONNECT 127\\.0\\.0\\.1:$SIM_PORT\$" \
	"the agent tunnelled to the simulator through the proxy (CONNECT 127.0.0.1:$SIM_PORT)"
is "$(grep -vc '^CONNECT ' "$W/proxy.log")" 0 "nothing but CONNECT reached the proxy (TLS end to end)"
like "$(value "$W/m" vsphere_vm_info 'target="viaproxy"' 'vm="odd/slash"')" '^1$' \
	"inventory collected through the proxy (odd/slash present)"

wait_log "target deadproxy: connect" 100
like "$(grep 'target deadproxy: connect' "$AGENT_LOG" | head -n 1)" \
	"cannot connect to the proxy 127\\.0\\.0\\.1:$DEAD_PORT" "unreachable proxy: the log names the proxy"
wait_log "target refused: connect" 100
like "$(grep 'target refused: connect' "$AGENT_LOG" | head -n 1)" \
	"the proxy 127\\.0\\.0\\.1:$PROXY_PORT refused the tunnel \\(HTTP 502\\)" \
	"a tunnel the proxy refuses: the log says so, with the proxy's status"
metrics >"$W/m"
is "$(value "$W/m" vsphere_up 'target="deadproxy"')" 0 "unreachable proxy: vsphere_up{target=\"deadproxy\"} 0"
connect_errors=$(value "$W/m" vsphere_collector_errors_total 'target="deadproxy"' 'kind="connect"')
like "$connect_errors" '^[1-9][0-9]*$' "unreachable proxy counts as kind=\"connect\" ($connect_errors)"
unlike "$(cat "$AGENT_LOG" "$W/m")" 'proxy-SECRET' "the proxy's password appears in neither the log nor /metrics"
unlike "$(cat "$AGENT_LOG" "$W/m")" 'proxy-pw-SECRET' "the password appears in neither the log nor /metrics"

agent_stop
is "$AGENT_EXIT" 0 "SIGTERM: exit 0"
done_testing

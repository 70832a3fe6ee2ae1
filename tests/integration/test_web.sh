#!/bin/sh
# Integration: HTTPS and basic auth on the agent's endpoints (issue 9, item 14): a
# certificate and key (reloaded on SIGHUP) and users with bcrypt hashes; /healthz stays
# open; an authenticated scrape passes promtool check metrics.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent_lib.sh"
for tool in openssl htpasswd promtool; do
	command -v $tool >/dev/null || {
		not_ok "$tool is installed (a test dependency: scripts/deps.sh)"
		done_testing
	}
done

# cert NAME: a self-signed certificate for 127.0.0.1 in $W/NAME.crt and $W/NAME.key.
cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$1" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$W/$1.key" -out "$W/$1.crt" 2>/dev/null
	chmod 600 "$W/$1.key"
}
cert one
cert two
cp "$W/one.crt" "$W/tls.crt"
cp "$W/one.key" "$W/tls.key"
HASH=$(htpasswd -nbB -C 5 prom 'scrape-secret' | cut -d: -f2)

if ! sim_start -cluster 1 -host 1 -vm 2 -standalone 0; then
	not_ok "simulator starts"
	done_testing
fi
cat >"$W/vimon.conf" <<EOF2
listen = "127.0.0.1:0";
tls_cert_file = "$W/tls.crt";
tls_key_file = "$W/tls.key";
basic_auth = ( { user = "prom"; password_hash = "$HASH"; } );
targets = ( { name = "s"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw"; } );
EOF2
out=$("$VIMON" --check-config -c "$W/vimon.conf" 2>&1)
is "$?" 0 "--check-config accepts tls_cert_file, tls_key_file and basic_auth"

printf 'tls_cert_file = "%s";\nbasic_auth = ( { user = "a:b"; password_hash = "plain"; } );\ntargets = ();\n' \
	"$W/tls.crt" >"$W/bad.conf"
out=$("$VIMON" --check-config -c "$W/bad.conf" 2>&1)
like "$?:$out" "^2:.*tls_cert_file and tls_key_file go together" "a certificate without a key is refused"
like "$out" "not a bcrypt hash" "a password_hash that is not bcrypt is refused"
like "$out" "no ':'" "a user name with ':' is refused"

AGENT_LOG=$W/agent.log
"$VIMON" -c "$W/vimon.conf" 2>"$AGENT_LOG" &
AGENT_PID=$!
echo "$AGENT_PID" >>"$VIMON_TEST_PIDS"
echo "$AGENT_PID" >>"$W/pids"
wait_log 'listening on https://' 100
like "$(cat "$AGENT_LOG")" "listening on https://127.0.0.1:[0-9]+ .*basic auth" "the agent says it serves HTTPS with basic auth"
HOSTPORT=$(sed -n 's#.*listening on https://\([^ ]*\).*#\1#p' "$AGENT_LOG" | tail -n 1)
URL=https://$HOSTPORT
C="curl -s --max-time 10 --cacert $W/one.crt"

is "$($C -o /dev/null -w '%{http_code}' "$URL/metrics")" 401 "/metrics without credentials: 401"
like "$($C -D - -o /dev/null "$URL/metrics" | tr -d '\r')" 'WWW-Authenticate: Basic realm="vimon"' \
	"the 401 asks for basic auth"
is "$($C -o /dev/null -w '%{http_code}' -u prom:wrong "$URL/metrics")" 401 "a wrong password: 401"
is "$($C -o /dev/null -w '%{http_code}' -u other:scrape-secret "$URL/metrics")" 401 "an unknown user: 401"
is "$($C -o /dev/null -w '%{http_code}' -u prom:scrape-secret "$URL/api/v1/targets")" 200 \
	"/api/v1/targets with the right password: 200"
is "$($C -o /dev/null -w '%{http_code}' "$URL/api/v1/targets")" 401 "/api/v1/targets without credentials: 401"
is "$($C -o /dev/null -w '%{http_code}' "$URL/")" 401 "the page without credentials: 401"
is "$($C "$URL/healthz")" "ok" "/healthz stays open"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$HOSTPORT/healthz")" 000 \
	"plain HTTP is not served on the HTTPS port"
_i=0
while [ $_i -lt 100 ]; do
	$C -u prom:scrape-secret "$URL/metrics" >"$W/m"
	grep -q '^vsphere_up{target="s"} 1' "$W/m" && break
	sleep 0.1
	_i=$((_i + 1))
done
if promtool check metrics <"$W/m" >"$W/promtool.out" 2>&1; then
	ok "promtool check metrics accepts an authenticated scrape over HTTPS ($(wc -l <"$W/m") lines)"
else
	not_ok "promtool check metrics accepts an authenticated scrape over HTTPS"
	diag "$(head -20 "$W/promtool.out")"
fi
grep -q '^vsphere_up{target="s"} 1' "$W/m" && ok "the scrape has the target's metrics" ||
	not_ok "the scrape has the target's metrics"

# a renewed certificate and key are served after SIGHUP
cp "$W/two.crt" "$W/tls.crt"
cp "$W/two.key" "$W/tls.key"
kill -HUP "$AGENT_PID"
wait_log "reload: 1 targets kept" 50
_i=0
while [ $_i -lt 50 ]; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$W/two.crt" "$URL/healthz")
	[ "$code" = 200 ] && break
	sleep 0.1
	_i=$((_i + 1))
done
is "$code" 200 "after SIGHUP the new certificate is served"
is "$($C -o /dev/null -w '%{http_code}' "$URL/healthz")" 000 "the old certificate is no longer served"
agent_stop
is "$AGENT_EXIT" 0 "the agent stops cleanly"
sim_stop
done_testing

#!/bin/sh
# Integration: the agent's HTTP server against hostile clients (issue 9, items 12 and 13):
# slowloris connections that trickle header lines from many loopback addresses, and a GET
# with a body.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/agent_lib.sh"
# a target that is never reached: only the HTTP server matters here
cat >"$W/vimon.conf" <<EOF2
listen = "127.0.0.1:0";
targets = ( { name = "x"; url = "http://127.0.0.1:1/sdk"; username = "u"; password_file = "$W/pw"; } );
EOF2
if ! agent_start "$W/vimon.conf"; then
	not_ok "agent starts"
	done_testing
fi
PORT=${AGENT_URL##*:}
SLOW="python3 $(dirname "$0")/slow_client.py"

# 32 slow connections from 127.0.0.2 (its whole per-address share) and 200 from eight
# other addresses, each sending a header line every 2 s, held for 15 s.
$SLOW 127.0.0.1 "$PORT" 127.0.0.2 32 2 15 >"$W/slow2.out" 2>"$W/slow2.err" &
P2=$!
others=127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9,127.0.0.10,127.0.0.11
$SLOW 127.0.0.1 "$PORT" "$others" 200 2 15 >"$W/slow200.out" 2>"$W/slow200.err" &
P200=$!
echo "$P2" >>"$VIMON_TEST_PIDS"
echo "$P200" >>"$VIMON_TEST_PIDS"
_i=0
while { ! grep -q ready "$W/slow2.err" || ! grep -q ready "$W/slow200.err"; } && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
sleep 0.5
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --interface 127.0.0.1 "$AGENT_URL/metrics")
is "$code" 200 "with 232 slow connections open, a scrape from 127.0.0.1 succeeds within 2 s"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --interface 127.0.0.3 "$AGENT_URL/metrics")
is "$code" 200 "32 slow connections from 127.0.0.2 do not stop a scrape from 127.0.0.3"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --interface 127.0.0.2 "$AGENT_URL/metrics")
is "$code" 000 "a 33rd connection from 127.0.0.2 is refused (per-address limit)"
wait "$P2"
wait "$P200"
like "$(cat "$W/slow2.out")" '^opened 32 refused 0 closed 32 longest (9|10|11|12)\.[0-9]$' \
	"the 32 trickling connections from 127.0.0.2 are closed 10 s after they opened"
like "$(cat "$W/slow200.out")" '^opened 200 refused 0 closed 200 longest (9|10|11|12)\.[0-9]$' \
	"the 200 trickling connections are closed 10 s after they opened"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --interface 127.0.0.2 "$AGENT_URL/metrics")
is "$code" 200 "127.0.0.2 is served again once its slow connections are gone"

# A keep-alive client that sends whole requests is not cut off between them.
out=$(curl -s -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' --max-time 20 \
	"$AGENT_URL/healthz" --next -s -o /dev/null -w '%{http_code} %{num_connects}\n' \
	--max-time 20 "$AGENT_URL/healthz")
is "$(echo "$out" | tr '\n' ' ')" "200 1 200 0 " "two requests on one kept-alive connection"

# Item 13: a GET with a body is answered (400), never closed silently.
out=$(curl -s -w '\n%{http_code}' --max-time 5 -X GET --data-binary 'hello' "$AGENT_URL/metrics")
is "$(echo "$out" | tail -n 1)" 400 "a GET with a body is answered 400"
like "$(echo "$out" | head -n 1)" 'body' "the 400 says why"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X GET -H 'Transfer-Encoding: chunked' \
	--data-binary 'hello' "$AGENT_URL/healthz")
is "$code" 400 "a chunked GET body is answered 400 too"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X GET -H 'Content-Length: 0' "$AGENT_URL/healthz")
is "$code" 200 "Content-Length: 0 is no body"

agent_stop
is "$AGENT_EXIT" 0 "the agent stops cleanly"
done_testing

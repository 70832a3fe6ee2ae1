# Shell helpers for integration tests that run the vimon agent: source after lib.sh. Sets,
# unless the script did: TOP, VIMON (the binary, from VIMON_BUILD) and W (a work directory
# of the script's own, with a password file W/pw holding "pw"); ends the test when VIMON is
# not built. Every agent started with agent_start is stopped when the test script exits,
# whatever the reason.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
VIMON=${VIMON:-${VIMON_BUILD:-$TOP/build}/vimon}
W=${W:-$VIMON_TEST_TMP/$(basename "$0" .sh).$$}
mkdir -p "$W"
if [ ! -f "$W/pw" ]; then
	printf 'pw\n' >"$W/pw"
	chmod 600 "$W/pw"
fi
: >"$W/pids"

# Every agent this script starts is stopped when it exits, whatever the reason.
_agent_cleanup() {
	while read -r _p; do
		kill -TERM "$_p" 2>/dev/null
	done <"$W/pids"
	_lib_cleanup
}
trap _agent_cleanup EXIT

# agent_start CONF [BINARY]: starts the agent in the background and waits until it listens.
# Sets AGENT_PID, AGENT_LOG, AGENT_URL.
_agent_seq=0
agent_start() {
	_agent_seq=$((_agent_seq + 1))
	AGENT_LOG=$W/agent.$_agent_seq.log
	"${2:-$VIMON}" -c "$1" 2>"$AGENT_LOG" &
	AGENT_PID=$!
	echo "$AGENT_PID" >>"$VIMON_TEST_PIDS"
	echo "$AGENT_PID" >>"$W/pids"
	_i=0
	while ! grep -q 'listening on http://' "$AGENT_LOG" 2>/dev/null; do
		if ! kill -0 "$AGENT_PID" 2>/dev/null || [ $_i -ge 400 ]; then
			diag "vimon did not start: $(cat "$AGENT_LOG")"
			AGENT_URL=http://127.0.0.1:1
			return 1
		fi
		_i=$((_i + 1))
		sleep 0.05
	done
	AGENT_URL=http://$(sed -n 's#.*listening on http://\([^ ]*\).*#\1#p' "$AGENT_LOG" | tail -n 1)
	return 0
}

# agent_stop: SIGTERM, wait; the exit status is in AGENT_EXIT.
agent_stop() {
	kill -TERM "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID"
	AGENT_EXIT=$?
}

metrics() { curl -sS --max-time 10 "$AGENT_URL/metrics"; }

# wait_file FILE: waits (5 s at most) until FILE is not empty.
wait_file() {
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# wait_log PATTERN [TENTHS]: waits (10 s by default) until the agent's log matches PATTERN.
wait_log() {
	_i=0
	while ! grep -q -- "$1" "$AGENT_LOG" && [ $_i -lt "${2:-100}" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# value FILE FAMILY [FIXED-STRING...]: the value of the first series of FAMILY whose line
# contains every string.
value() {
	_f=$1 _n=$2
	shift 2
	grep "^$_n{" "$_f" >"$W/value.tmp"
	for _x in "$@"; do
		grep -F -- "$_x" "$W/value.tmp" >"$W/value.tmp2"
		mv "$W/value.tmp2" "$W/value.tmp"
	done
	head -n 1 "$W/value.tmp" | awk '{print $NF}'
}

# wait_value WANT SECONDS FAMILY [FIXED-STRING...]: polls /metrics until value(...) is WANT.
# Leaves the last scrape in $W/m and the time it took (ms) in WAITED_MS.
wait_value() {
	_want=$1 _secs=$2
	shift 2
	_start=$(date +%s%N)
	_deadline=$(($(date +%s) + _secs))
	while :; do
		metrics >"$W/m" 2>/dev/null
		GOT=$(value "$W/m" "$@")
		WAITED_MS=$((($(date +%s%N) - _start) / 1000000))
		[ "$GOT" = "$_want" ] && return 0
		[ "$(date +%s)" -ge "$_deadline" ] && return 1
		sleep 0.1
	done
}

# wait_count N PATTERN: scrapes /metrics into $W/m until at least N lines match the
# (basic) regular expression PATTERN, 10 s at most.
wait_count() {
	_i=0
	metrics >"$W/m" 2>/dev/null
	while [ "$(grep -c -- "$2" "$W/m")" -lt "$1" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		metrics >"$W/m" 2>/dev/null
		_i=$((_i + 1))
	done
}

# py EXPR: a Python expression on the JSON on stdin (as j).
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

if [ ! -x "$VIMON" ]; then
	not_ok "vimon binary $VIMON exists"
	done_testing
fi

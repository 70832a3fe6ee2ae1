# Shell helpers for integration tests (POSIX sh): simulator start/stop, control API, SOAP, TAP.
#
# Use:  . "$(dirname "$0")/lib.sh"
# Env:  VIMON_SIM (simulator binary), VIMON_TEST_TMP (scratch dir; made if unset),
#       VIMON_TEST_PIDS (file; every background pid is appended to it), SIM_START_TIMEOUT
#       (seconds to wait for `ready`, default 180).

VIMON_TEST_TMP=${VIMON_TEST_TMP:-$(mktemp -d "${TMPDIR:-/tmp}/vimon-test.XXXXXX")}
VIMON_TEST_PIDS=${VIMON_TEST_PIDS:-$VIMON_TEST_TMP/pids}
VIMON_SIM=${VIMON_SIM:-$(cd "$(dirname "$0")/../.." && pwd)/build/vimon-sim}
export VIMON_TEST_TMP VIMON_TEST_PIDS VIMON_SIM
mkdir -p "$VIMON_TEST_TMP"

# Per-script state lives in files so helpers called in subshells still count.
_lib_id=$$
_tap_file=$VIMON_TEST_TMP/tap.$_lib_id
_lib_pids=$VIMON_TEST_TMP/lib-pids.$_lib_id
_sim_seq=0
: >"$_tap_file"
: >"$_lib_pids"

# Kill every simulator this script started when it exits, whatever the reason.
_lib_cleanup() {
	if [ -s "$_lib_pids" ]; then
		while read -r _p; do
			kill -TERM "$_p" 2>/dev/null
		done <"$_lib_pids"
	fi
	rm -f "$_lib_pids"
}
trap _lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------
# TAP

_tap_count() { wc -l <"$_tap_file" | tr -d ' '; }

# ok DESC: records a passing test.
ok() {
	echo ok >>"$_tap_file"
	echo "ok $(_tap_count) - $*"
}

# not_ok DESC: records a failing test.
not_ok() {
	echo fail >>"$_tap_file"
	echo "not ok $(_tap_count) - $*"
}

# diag TEXT...: a TAP comment line per line of text (on stdout).
diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# is GOT WANT DESC: passes when the strings are equal.
is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3"
		diag "     got: '$1'"
		diag "expected: '$2'"
	fi
}

# isnt GOT UNWANTED DESC: passes when the strings differ.
isnt() {
	if [ "$1" != "$2" ]; then
		ok "$3"
	else
		not_ok "$3"
		diag "got the unwanted value '$1'"
	fi
}

# like GOT REGEX DESC: passes when GOT matches the extended regular expression.
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok "$3"
	else
		not_ok "$3"
		diag "   got: '$(printf '%s' "$1" | head -c 2000)'"
		diag "wanted: /$2/"
	fi
}

# unlike GOT REGEX DESC: passes when GOT does not match.
unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		not_ok "$3"
		diag "   got: '$(printf '%s' "$1" | head -c 2000)'"
		diag "unwanted: /$2/"
	else
		ok "$3"
	fi
}

# check DESC CMD [ARGS...]: passes when the command exits 0.
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}

# skip DESC REASON: a skipped test (counts as passed).
skip() {
	echo ok >>"$_tap_file"
	echo "ok $(_tap_count) - $1 # SKIP $2"
}

# done_testing: prints the plan; exits 1 if any test failed (or none ran), else 0.
done_testing() {
	_n=$(_tap_count)
	echo "1..$_n"
	if [ "$_n" -eq 0 ] || grep -q '^fail$' "$_tap_file"; then
		exit 1
	fi
	exit 0
}

# free_port: prints a loopback TCP port that was free a moment ago (bound, then closed:
# nothing listens on it).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------------------------------
# The simulator

# sim_start [FLAGS...]: starts $VIMON_SIM -parent-watch FLAGS in the background and waits for
# its `ready URL` line. Sets SIM_PID, SIM_URL (.../sdk), SIM_BASE (scheme://127.0.0.1:PORT),
# SIM_OUT/SIM_ERR (its stdout/stderr files), and with -tls SIM_SHA256, SIM_SHA1 and SIM_CERT
# (PEM; -cert-out is added unless given) plus SIM_CURL_TLS (curl options, default
# "--cacert $SIM_CERT"), and from RetrieveServiceContent SIM_ROOT (root folder), SIM_PC
# (property collector), SIM_VIEWMGR, SIM_SM (session manager) and SIM_APITYPE (VirtualCenter
# or HostAgent). Must not be called in a subshell: the simulator watches its parent.
sim_start() {
	_sim_seq=$((_sim_seq + 1))
	SIM_OUT=$VIMON_TEST_TMP/sim.$_lib_id.$_sim_seq.out
	SIM_ERR=$VIMON_TEST_TMP/sim.$_lib_id.$_sim_seq.err
	SIM_SHA256=
	SIM_SHA1=
	SIM_CERT=
	SIM_CURL_TLS=
	_tls=
	_certout=
	for _a in "$@"; do
		case $_a in
		-tls | --tls | -tls=true | --tls=true) _tls=1 ;;
		-cert-out | --cert-out | -cert-out=* | --cert-out=*) _certout=1 ;;
		esac
	done
	if [ -n "$_tls" ] && [ -z "$_certout" ]; then
		SIM_CERT=$VIMON_TEST_TMP/sim.$_lib_id.$_sim_seq.pem
		set -- "$@" -cert-out "$SIM_CERT"
	fi
	"$VIMON_SIM" -parent-watch "$@" >"$SIM_OUT" 2>"$SIM_ERR" &
	SIM_PID=$!
	echo "$SIM_PID" >>"$VIMON_TEST_PIDS"
	echo "$SIM_PID" >>"$_lib_pids"
	_deadline=$(($(date +%s) + ${SIM_START_TIMEOUT:-180}))
	while ! grep -q '^ready ' "$SIM_OUT" 2>/dev/null; do
		if ! kill -0 "$SIM_PID" 2>/dev/null; then
			diag "simulator exited before ready: $(cat "$SIM_ERR")"
			return 1
		fi
		if [ "$(date +%s)" -ge "$_deadline" ]; then
			diag "simulator not ready after ${SIM_START_TIMEOUT:-180}s"
			kill -TERM "$SIM_PID" 2>/dev/null
			return 1
		fi
		sleep 0.05
	done
	SIM_URL=$(sed -n 's/^ready //p' "$SIM_OUT" | head -n 1)
	SIM_BASE=${SIM_URL%/sdk}
	SIM_SHA256=$(sed -n 's/^thumbprint-sha256 //p' "$SIM_OUT")
	SIM_SHA1=$(sed -n 's/^thumbprint-sha1 //p' "$SIM_OUT")
	if [ -n "$_tls" ] && [ -z "$_certout" ]; then
		SIM_CURL_TLS="--cacert $SIM_CERT"
	fi
	rm -f "$VIMON_TEST_TMP/cookies"
	_sc=$(soap RetrieveServiceContent '<_this type="ServiceInstance">ServiceInstance</_this>')
	SIM_ROOT=$(xml_value "$_sc" rootFolder)
	SIM_PC=$(xml_value "$_sc" propertyCollector)
	SIM_VIEWMGR=$(xml_value "$_sc" viewManager)
	SIM_SM=$(xml_value "$_sc" sessionManager)
	SIM_APITYPE=$(xml_value "$_sc" apiType)
	rm -f "$VIMON_TEST_TMP/cookies"
	export SIM_PID SIM_URL SIM_BASE SIM_SHA256 SIM_SHA1 SIM_CERT SIM_ROOT SIM_PC SIM_VIEWMGR SIM_SM SIM_APITYPE
	return 0
}

# sim_stop: SIGTERM to the simulator and wait for it; its exit status is returned and kept
# in SIM_EXIT.
sim_stop() {
	[ -n "${SIM_PID:-}" ] || return 0
	kill -TERM "$SIM_PID" 2>/dev/null
	wait "$SIM_PID"
	SIM_EXIT=$?
	grep -v "^$SIM_PID\$" "$_lib_pids" >"$_lib_pids.new" 2>/dev/null
	mv "$_lib_pids.new" "$_lib_pids"
	SIM_PID=
	return "$SIM_EXIT"
}

# simctl METHOD PATH [JSON]: calls the control API (PATH like /_sim/inventory), prints the
# reply body; returns 1 on HTTP 4xx/5xx or no reply.
simctl() {
	_m=$1
	_path=$2
	_f=$VIMON_TEST_TMP/simctl.$_lib_id
	if [ $# -ge 3 ]; then
		# shellcheck disable=SC2086
		_code=$(curl -sS $SIM_CURL_TLS -o "$_f" -w '%{http_code}' -X "$_m" \
			-H 'Content-Type: application/json' --data-binary "$3" "$SIM_BASE$_path")
	else
		# shellcheck disable=SC2086
		_code=$(curl -sS $SIM_CURL_TLS -o "$_f" -w '%{http_code}' -X "$_m" "$SIM_BASE$_path")
	fi
	_rc=$?
	cat "$_f" 2>/dev/null
	rm -f "$_f"
	[ "$_rc" -eq 0 ] || return 1
	[ "$_code" -ge 200 ] && [ "$_code" -lt 400 ]
}

# soap_envelope BODY: the SOAP envelope around BODY.
soap_envelope() {
	printf '%s%s%s' '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>' \
		"$1" '</soapenv:Body></soapenv:Envelope>'
}

# soap METHOD BODY_XML: posts a SOAP call to SIM_URL with the cookie jar
# $VIMON_TEST_TMP/cookies and prints the reply body. BODY_XML is either the whole method
# element (starting with "<METHOD") or its content, which is then wrapped in
# <METHOD xmlns="urn:vim25">...</METHOD>. The HTTP status is kept for soap_status.
# Returns curl's status (0 also for SOAP faults, which are HTTP 500).
soap() {
	_m=$1
	case $2 in
	"<$_m "* | "<$_m>"* | "<$_m/>"*) _b=$2 ;;
	*) _b="<$_m xmlns=\"urn:vim25\">$2</$_m>" ;;
	esac
	# shellcheck disable=SC2086
	soap_envelope "$_b" | curl -sS $SIM_CURL_TLS -b "$VIMON_TEST_TMP/cookies" -c "$VIMON_TEST_TMP/cookies" \
		-H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: "urn:vim25/8.0"' \
		-o "$VIMON_TEST_TMP/soap.$_lib_id.body" -w '%{http_code}' --data-binary @- "$SIM_URL" \
		>"$VIMON_TEST_TMP/soap.$_lib_id.status"
	_rc=$?
	cat "$VIMON_TEST_TMP/soap.$_lib_id.body" 2>/dev/null
	rm -f "$VIMON_TEST_TMP/soap.$_lib_id.body"
	return "$_rc"
}

# soap_status: the HTTP status of the last soap call ("000" when there was no reply).
soap_status() {
	cat "$VIMON_TEST_TMP/soap.$_lib_id.status" 2>/dev/null
}

# soap_login [USER [PASSWORD]]: logs in (default user/pass) and prints the reply.
soap_login() {
	soap Login "<_this type=\"SessionManager\">${SIM_SM:-SessionManager}</_this><userName>${1:-user}</userName><password>${2:-pass}</password>"
}

# xml_values XML TAG: the text of every <TAG>...</TAG> (no nesting inside), one per line.
xml_values() {
	printf '%s\n' "$1" | sed -e "s/<$2[ >]/\n&/g" | sed -n "s/^<$2\( [^>]*\)\{0,1\}>\([^<]*\)<\/$2>.*/\2/p"
}

# xml_value XML TAG: the first of xml_values.
xml_value() {
	xml_values "$1" "$2" | head -n 1
}

# json_field JSON NAME: the first string or number value of "NAME" in flat JSON (no jq needed).
json_field() {
	printf '%s' "$1" | tr ',{}[]' '\n\n\n\n\n' |
		sed -n "s/^ *\"$2\" *: *\"\{0,1\}\([^\"]*\)\"\{0,1\} *\$/\1/p" | head -n 1
}

# relay NAME PROGRAM ARGS...: runs a cmocka program with TAP output and turns each of its
# results into one of ours, prefixed with NAME; its other output becomes diagnostics. A
# program that exits non-zero without a failed test counts as one failure. The program
# gets its settings from the environment (export them first).
relay() {
	_name=$1
	shift
	_out=$VIMON_TEST_TMP/relay.$_lib_id.out
	CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 5 300 "$@" >"$_out" 2>&1
	_rc=$?
	while IFS= read -r _l; do
		case $_l in
		# cmocka 1.1 writes a skipped test as "not ok N # SKIP name"
		"ok "*"# SKIP"* | "not ok "*"# SKIP"*)
			_s=${_l#*# SKIP}
			skip "$_name: ${_s# }" "skipped by the program"
			;;
		"ok "*) ok "$_name: ${_l#ok * - }" ;;
		"not ok "*) not_ok "$_name: ${_l#not ok * - }" ;;
		"1.."* | "# ok - "* | "# not ok - "*) ;;
		*) diag "$_l" ;;
		esac
	done <"$_out"
	if [ "$_rc" -ne 0 ] && ! grep '^not ok ' "$_out" | grep -vq '# SKIP'; then
		not_ok "$_name: exited with status $_rc"
		tail -40 "$_out" | sed 's/^/# /'
	fi
	rm -f "$_out"
}

#!/bin/sh
# Integration: the on-call page (/ and /questions/TARGET/VM_ID) against the simulator: headers
# and server-rendered HTML with curl (no JavaScript), then in headless Chromium (page_browser.py).
set -u
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
VIMON=${VIMON_BUILD:-$TOP/build}/vimon
W=$VIMON_TEST_TMP/page.$$
mkdir -p "$W"
printf 'pw\n' >"$W/pw"
chmod 600 "$W/pw"
. "$(dirname "$0")/agent_lib.sh"
# Debian's python3 (python3-selenium), whatever python3 comes first in PATH.
PY=${VIMON_PYTHON:-/usr/bin/python3}

XSS='<script>alert(1)</script>'
QTEXT='Continue? <b>bold</b> & <img src=x onerror=alert(2)>'

if ! sim_start; then
	not_ok "the simulator starts"
	done_testing
fi
# the odd%2fslash VM renamed to an HTML-like name, with a question and a blocked power-on
VM=$(simctl POST /_sim/vm/rename "{\"vm\":\"odd%2fslash\",\"name\":\"$XSS\"}" | py 'j["vm"]')
like "$VM" '^vm-[0-9]+$' "the simulator renames a VM to $XSS ($VM)"
simctl POST /_sim/vm/rename '{"vm":"odd|pipe","name":""}' >/dev/null
is "$?" 1 "the simulator refuses an empty name"
simctl POST /_sim/vm/rename '{"vm":"no-such-vm","name":"x"}' >/dev/null
is "$?" 1 "the simulator refuses to rename an unknown VM"
simctl POST /_sim/question "{\"vm\":\"$VM\",\"id\":\"q-xss\",\"text\":\"Continue? <b>bold</b> & <img src=x onerror=alert(2)>\",
	\"message_ids\":[\"msg.uuid.altered\"],
	\"choices\":[{\"key\":\"0\",\"label\":\"Cancel\",\"summary\":\"do not start\"},{\"key\":\"1\",\"label\":\"Yes\"}],
	\"default\":1}" >/dev/null
soap_login >/dev/null
TASK=$(xml_value "$(soap PowerOnVM_Task "<_this type=\"VirtualMachine\">$VM</_this>")" returnval)
like "$TASK" '^task-[0-9]+$' "the power-on of $VM is blocked by the question ($TASK)"

# an agent without a token (read-only page), then one with a token (answer buttons)
cat >"$W/ro.conf" <<EOF
listen = "127.0.0.1:0";
targets = ( { name = "sim1"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw"; } );
EOF
if ! agent_start "$W/ro.conf"; then
	not_ok "the read-only agent starts"
	done_testing
fi
RO_URL=$AGENT_URL
TOKEN=page-test-token-0123456789abcdef
printf '%s\n' "$TOKEN" >"$W/token"
chmod 600 "$W/token"
cat >"$W/vimon.conf" <<EOF
listen = "127.0.0.1:0";
api_token_file = "$W/token";
remediation = { audit_log = "$W/audit.log"; state_file = "$W/remediation.state"; };
targets = ( { name = "sim1"; url = "$SIM_URL"; username = "u"; password_file = "$W/pw"; } );
EOF
if ! agent_start "$W/vimon.conf"; then
	not_ok "agent starts"
	done_testing
fi
# until the agent has seen the question and the task it blocks
_i=0
while [ $_i -lt 100 ]; do
	n=$(curl -s "$AGENT_URL/api/v1/tasks" | py "len([t for t in j if t['task_id'] == '$TASK' and t['blocked']])" 2>/dev/null)
	[ "$n" = 1 ] && break
	sleep 0.1
	_i=$((_i + 1))
done
is "$n" 1 "the agent sees the blocked power-on"

# ---- curl: headers, the HTML without JavaScript ---------------------------------------------
hdr() { curl -s -o /dev/null -D - "$1" | tr -d '\r'; }
for path in / "/questions/sim1/$VM" /static/page.js /static/page.css /static/icon.svg; do
	h=$(hdr "$AGENT_URL$path")
	like "$h" "^HTTP/1.1 200" "$path: 200"
	like "$h" "Content-Security-Policy: default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" \
		"$path: Content-Security-Policy allows only self, frame-ancestors 'none'"
	like "$h" "X-Content-Type-Options: nosniff" "$path: X-Content-Type-Options: nosniff"
	like "$h" "Referrer-Policy: no-referrer" "$path: Referrer-Policy: no-referrer"
done
like "$(hdr "$AGENT_URL/")" "Content-Type: text/html; charset=utf-8" "/ is HTML"
like "$(hdr "$AGENT_URL/static/page.js")" "Content-Type: text/javascript" "page.js is JavaScript"
like "$(hdr "$AGENT_URL/static/page.css")" "Content-Type: text/css" "page.css is CSS"
is "$(curl -s "$AGENT_URL/static/page.js" | cmp - "$TOP/agent/static/page.js" && echo same)" same \
	"/static/page.js is agent/static/page.js byte for byte"
like "$(hdr "$AGENT_URL/questions/nosuch/$VM")" "^HTTP/1.1 404" "a question page of an unknown target: 404"
like "$(hdr "$AGENT_URL/questions/sim1")" "^HTTP/1.1 404" "/questions/TARGET without a VM: 404"
like "$(hdr "$AGENT_URL/static/nosuch.js")" "^HTTP/1.1 404" "an unknown static file: 404"

curl -s "$AGENT_URL/" >"$W/index.html"
html=$(cat "$W/index.html")
like "$html" '<a class="vm" href="/questions/sim1/'"$VM"'">&lt;script&gt;alert\(1\)&lt;/script&gt;</a>' \
	"no JS: the VM's name is escaped and links to its question page"
like "$html" '<p class="text">Continue\? &lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert\(2\)&gt;</p>' \
	"no JS: the question's HTML-like text is escaped"
like "$html" '<li class="choice" data-key="0"><span class="label">Cancel</span> <span class="summary">do not start</span></li>' \
	"no JS: the choices with their summary"
like "$html" '<li class="choice default" data-key="1"><span class="label">Yes</span> <span class="tag">default</span></li>' \
	"no JS: the default choice is marked"
like "$html" "Blocks PowerOnVM_Task \\($TASK\\)" "no JS: the question names the task it blocks"
like "$html" "<tr class=\"blocked\" data-task=\"$TASK\">" "no JS: the tasks table shows the blocked power-on"
like "$html" '<tr data-target="sim1"><td>sim1 .*<td class="up">up</td>' "no JS: the target is up"
like "$html" '<title>1 pending question - vimon</title>' "no JS: the title counts the questions"
like "$html" '<a href="/metrics">' "no JS: a link to /metrics"
like "$html" '<a href="/api/v1/questions">' "no JS: a link to the JSON API"
unlike "$html" '<script>alert|<img|<b>' "no JS: no markup from vCenter"
is "$(grep -o '<script[^>]*>' "$W/index.html")" '<script src="/static/page.js" defer>' \
	"the only script is /static/page.js (no inline script)"
unlike "$(grep -o '<[^>]*>' "$W/index.html")" '^<style| style=| on[a-z]+=' "no inline style or event handler (in any tag)"
unlike "$html" '(src|href)="[a-z]*:?//' "no external URL"
q=$(curl -s "$AGENT_URL/questions/sim1/$VM")
like "$q" "<body data-view=\"question\" data-target=\"sim1\" data-vm=\"$VM\" data-answer=\"1\">" "the question page names its VM for the script"
like "$q" '<span class="vm">&lt;script&gt;alert\(1\)&lt;/script&gt;</span>' "the question page shows the escaped name"
is "$(printf '%s' "$q" | grep -c '<article class="question"')" 1 "the question page shows one question"
like "$(curl -s "$AGENT_URL/questions/sim1/vm-99999")" 'No question is pending on this VM.' \
	"a VM without a question: the page says so"
like "$html" '<body data-view="index" data-answer="1">' "with a token: the page tells the script to offer answers"
like "$html" '<p class="nojs">Answering from this page needs JavaScript.</p>' \
	"with a token, without JavaScript: a line says answering needs it"
unlike "$html" '<button' "no button in the server-rendered HTML"
ro=$(curl -s "$RO_URL/")
like "$ro" '<p class="off">Answering from this page is off: set <code>api_token_file</code> in vimon.conf to turn it on' \
	"without a token: a line says how to turn answering on"
unlike "$ro" 'data-answer' "without a token: the script offers no answer"

# ---- the browser -----------------------------------------------------------------------------
if ! "$PY" -c 'import selenium' 2>/dev/null || [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
	not_ok "chromium, chromium-driver and python3-selenium are installed (scripts/deps.sh)"
	done_testing
fi
# browser CHECKS ARGS...: runs page_browser.py and relays its TAP lines.
browser() {
	"$PY" "$(dirname "$0")/page_browser.py" "$@" >"$W/browser.out" 2>"$W/browser.err"
	_rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "browser: ${line#ok - }" ;;
		"not ok - "*) not_ok "browser: ${line#not ok - }" ;;
		"# "*) echo "$line" ;;
		esac
	done <"$W/browser.out"
	is "$_rc" 0 "the browser checks ($1) ran to the end"
	[ "$_rc" -eq 0 ] || diag "$(tail -n 20 "$W/browser.err")"
}
browser readonly "$RO_URL"
simctl POST /_sim/stats/reset '{}' >/dev/null
browser test "$AGENT_URL" "$SIM_BASE" sim1 "$VM" "$XSS" "$QTEXT" 'odd|pipe' "$TOKEN"
is "$(simctl GET /_sim/stats | py 'j["calls"].get("AnswerVM", 0)')" 1 \
	"the simulator counted exactly one AnswerVM (the wrong token sent none)"
is "$(curl -s "$AGENT_URL/api/v1/remediation" | py '[(d["vm_id"], d["question_id"], d["choice"], d["result"]) for d in j]')" \
	"[('$VM', 'q-xss', '0', 'answered')]" "the audit holds the one answer"
done_testing

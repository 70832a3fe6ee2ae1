#!/bin/sh
# make screenshot: regenerates docs/page.png, the on-call page with a pending question and the
# power-on it blocks, in headless Chromium (the browser setup of tests/integration/test_page.sh).
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
OUT=${1:-docs/page.png}
export VIMON_SIM=${VIMON_SIM:-$TOP/build/vimon-sim}
VIMON=${VIMON:-$TOP/build/vimon}
. tests/integration/lib.sh
W=$VIMON_TEST_TMP/screenshot
mkdir -p "$W"
. tests/integration/agent_lib.sh
trap '_agent_cleanup; rm -rf "$VIMON_TEST_TMP"' EXIT

die() {
	echo "screenshot: $*" >&2
	exit 1
}

sim_start -dc 1 -cluster 1 -host 2 -vm 3 >/dev/null || die "the simulator did not start"
simctl POST /_sim/question '{"vm":"odd%2fslash","id":"q-417","message_ids":["msg.uuid.altered"],
	"text":"msg.uuid.altered:This virtual machine might have been moved or copied.\nIn order to configure certain management and networking features, VMware ESX needs to know if this virtual machine was moved or copied.\n\nIf you don'"'"'t know, answer \"I Copied It\".",
	"choices":[{"key":"0","label":"Cancel","summary":"Cancel"},{"key":"1","label":"I _Moved It","summary":"I _Moved It"},{"key":"2","label":"I _Copied It","summary":"I _Copied It"}],
	"default":2}' >/dev/null || die "cannot raise the question"
soap_login >/dev/null
soap PowerOnVM_Task '<_this type="VirtualMachine">'"$(simctl GET /_sim/inventory | py '[v["moref"] for v in j["vms"] if v["name"] == "odd%2fslash"][0]')"'</_this>' >/dev/null
printf 'pw\n' >"$W/pw"
printf 'screenshot-token-0123456789\n' >"$W/token"
chmod 600 "$W/pw" "$W/token"
cat >"$W/vimon.conf" <<EOC
listen = "127.0.0.1:0";
api_token_file = "$W/token";
remediation = { audit_log = "$W/audit.log"; state_file = "$W/remediation.state"; };
targets = ( { name = "vc1"; url = "$SIM_URL"; username = "monitor"; password_file = "$W/pw"; } );
EOC
agent_start "$W/vimon.conf" || die "vimon did not start"
i=0
while [ "$(curl -s "$AGENT_URL/api/v1/tasks" | py 'len([t for t in j if t["blocked"]])')" != 1 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || die "the agent did not see the blocked power-on"
	sleep 0.1
done
sleep 2 # a few seconds of pending time
/usr/bin/python3 tests/integration/page_browser.py screenshot "$AGENT_URL/" "$OUT" 1000 820 ||
	die "the browser failed"
echo "screenshot: wrote $OUT"
